/*
 * query.h: what crud.c shares with agg.c: running a query into memory,
 * sorting and trimming the result, and answering with a cursor.
 *
 * Ownership: a struct collect owns its documents (collect_release());
 * reply_cursor() takes the documents it is given.
 */
#ifndef CALIBER_DOCDB_QUERY_H
#define CALIBER_DOCDB_QUERY_H

#include "docdb.h"
#include "store.h"

struct collect {
	bson_t **docs;
	long long *seqs;
	size_t n, cap, bytes;
	long long stop_after;	/* 0: all */
};

struct sort_spec {
	const char *paths[32];
	int dirs[32];
	int n;
};

int collect_one(long long seq, const bson_t *doc, void *ctx, struct docdb_error *de);
void collect_release(struct collect *k);
int sort_parse(const bson_t *sort, struct sort_spec *s, struct docdb_error *de);
void sort_collected(struct collect *k, const struct sort_spec *s);
void skip_limit(struct collect *k, long long skip, long long limit);
/* Matching documents of coll, sorted, skipped, limited and projected. */
int query(struct docdb_conn *c, struct coll *coll, const bson_t *filter, const bson_t *sort, const bson_t *proj,
	long long skip, long long limit, struct collect *k, struct docdb_error *de);
int open_coll(struct docdb_conn *c, const char *db, const bson_t *cmd, bool create, struct coll *coll,
	struct docdb_error *de);
/* Reply {cursor: {firstBatch, id, ns}} over docs (taken); batch as find's. */
int reply_cursor(struct docdb_conn *c, bson_t *reply, const char *ns, bson_t **docs, size_t n, long long batch,
	bool single, struct docdb_error *de);

#endif
