/*
 * store.h: documents in the cluster's PostgreSQL server.
 *
 * Database D is schema "D"; collection C of D is table "D"."C" with
 *   seq  bigserial   insertion order (natural order of a find)
 *   id   bytea       the _id's index key; PRIMARY KEY, so _id is unique
 *   doc  bytea       the document's exact BSON (types and field order kept)
 *   k<slot>_<n>      one bytea column per field of each secondary index
 * and a B-tree (UNIQUE when the index is) on each index's columns.  Keys
 * are written by key_encode(): a type-bracket byte and an order-keeping
 * encoding of the value, so equality and ranges within a bracket become
 * bytea comparisons PostgreSQL can answer from the index.  The catalog
 * (collections, indexes, users) is schema caliber_docdb.
 *
 * Ownership: struct coll is filled by store_coll_open() and released by
 * store_coll_release(); its strings and key documents are owned.
 */
#ifndef CALIBER_DOCDB_STORE_H
#define CALIBER_DOCDB_STORE_H

#include <bson/bson.h>
#include <libpq-fe.h>

#include "buf.h"
#include "docdb.h"

#define STORE_MAX_INDEX_FIELDS 8
#define STORE_MAX_INDEXES 64

struct store_index {
	char *name;
	bson_t *key;		/* {field: 1|-1, ...} */
	int slot;		/* columns k<slot>_<n>; 0 is the _id index */
	int nfields;
	char *fields[STORE_MAX_INDEX_FIELDS];
	bool unique, sparse, multikey;
};

struct coll {
	char *db, *name;
	char *qtable;		/* "db"."coll", quoted */
	long long cid;
	bool exists;
	struct store_index idx[STORE_MAX_INDEXES];
	int nidx;		/* idx[0] is always _id_ */
};

/* One-time creation of the catalog; run at server start. */
int store_init(PGconn *pg, struct err *e);

/* Check names as MongoDB does, plus PostgreSQL's 63-byte identifiers. */
int store_check_db(const char *db, struct docdb_error *de);
int store_check_coll(const char *coll, struct docdb_error *de);

/* Load coll; create = make schema and table when absent. */
int store_coll_open(PGconn *pg, const char *db, const char *name, bool create, struct coll *c,
	struct docdb_error *de);
void store_coll_release(struct coll *c);

/* Index key of v (NULL: missing) appended to out. */
void key_encode(const bson_value_t *v, struct buf *out);
/* The byte that ends v's bracket: keys of that bracket are below it. */
uint8_t key_bracket_end(const bson_value_t *v);
/* May an equality or range on v be answered from its key? */
bool key_indexable(const bson_value_t *v);

/* Run a statement with binary bytea parameters; NULL params[i] is SQL NULL. */
PGresult *store_exec(PGconn *pg, const char *sql, int n, const char *const *params, const int *lens);
int store_ok(PGconn *pg, const char *sql, struct docdb_error *de);
int store_begin(PGconn *pg, struct docdb_error *de);
int store_commit(PGconn *pg, struct docdb_error *de);
void store_rollback(PGconn *pg);
/* A PostgreSQL failure as a command error (the server's message, code 1). */
int store_pg_error(PGresult *r, PGconn *pg, struct docdb_error *de);

/*
 * Write doc (new: INSERT; seq >= 0: UPDATE of that row), keys included.
 * A unique violation becomes MongoDB's E11000 with keyPattern/keyValue in
 * dup (when not NULL, an empty document the caller owns).
 */
int store_put(PGconn *pg, struct coll *c, long long seq, const bson_t *doc, bson_t *dup,
	struct docdb_error *de);
int store_delete_row(PGconn *pg, struct coll *c, long long seq, struct docdb_error *de);

int store_index_create(PGconn *pg, struct coll *c, const char *name, const bson_t *key, bool unique,
	bool sparse, struct docdb_error *de);
int store_index_drop(PGconn *pg, struct coll *c, const char *name, struct docdb_error *de);
int store_coll_drop(PGconn *pg, struct coll *c, struct docdb_error *de);
int store_db_drop(PGconn *pg, const char *db, struct docdb_error *de);

#endif
