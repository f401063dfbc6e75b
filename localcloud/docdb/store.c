/*
 * store.c: the PostgreSQL side of caliber-docdb (layout in store.h).  All
 * parameters and results travel in PostgreSQL's binary format, so a
 * document's BSON goes in and comes out byte for byte.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <math.h>

#include "match.h"
#include "store.h"

static const char catalog_sql[] =
	"CREATE SCHEMA IF NOT EXISTS caliber_docdb;"
	"CREATE TABLE IF NOT EXISTS caliber_docdb.collections (db text NOT NULL, name text NOT NULL,"
	" cid bigserial UNIQUE, PRIMARY KEY (db, name));"
	"CREATE TABLE IF NOT EXISTS caliber_docdb.indexes (db text NOT NULL, coll text NOT NULL,"
	" name text NOT NULL, key bytea NOT NULL, slot int NOT NULL, is_unique bool NOT NULL,"
	" sparse bool NOT NULL, multikey bool NOT NULL DEFAULT false, PRIMARY KEY (db, coll, name));"
	"CREATE TABLE IF NOT EXISTS caliber_docdb.users (db text NOT NULL, name text NOT NULL,"
	" roles bytea NOT NULL, sha1 text, sha256 text, PRIMARY KEY (db, name));";

int store_init(PGconn *pg, struct err *e)
{
	PGresult *r = PQexec(pg, catalog_sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = err_set(e, "cannot create the catalog schema caliber_docdb: %s", PQerrorMessage(pg));
	PQclear(r);
	return rc;
}

int store_check_db(const char *db, struct docdb_error *de)
{
	size_t n = strlen(db);

	if (n == 0 || n > 63)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE, "database name '%s' must be 1 to 63 bytes", db);
	if (strpbrk(db, "/\\. \"$*<>:|?") != NULL)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE, "Invalid database name: '%s'", db);
	if (strncmp(db, "pg_", 3) == 0 || strcmp(db, "information_schema") == 0 || strcmp(db, "public") == 0 ||
	    strcmp(db, "caliber_docdb") == 0)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE,
			"database name '%s' is reserved by the local DocumentDB's PostgreSQL; choose another", db);
	return 0;
}

int store_check_coll(const char *coll, struct docdb_error *de)
{
	size_t n = strlen(coll);

	if (n == 0)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE, "Invalid namespace specified: empty collection name");
	if (n > 63)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE,
			"collection name '%s' is longer than 63 bytes, the local DocumentDB's limit", coll);
	if (strchr(coll, '$') != NULL || strncmp(coll, "system.", 7) == 0)
		return docdb_fail(de, DOCDB_INVALID_NAMESPACE, "Invalid collection name: '%s'", coll);
	return 0;
}

PGresult *store_exec(PGconn *pg, const char *sql, int n, const char *const *params, const int *lens)
{
	int fmts[64];

	for (int i = 0; i < n && i < 64; i++)
		fmts[i] = 1;
	return PQexecParams(pg, sql, n, NULL, params, lens, fmts, 1);
}

int store_pg_error(PGresult *r, PGconn *pg, struct docdb_error *de)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return docdb_fail(de, DOCDB_INTERNAL, "storage error: %s", m ? m : PQerrorMessage(pg));
}

int store_ok(PGconn *pg, const char *sql, struct docdb_error *de)
{
	PGresult *r = PQexec(pg, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = store_pg_error(r, pg, de);
	PQclear(r);
	return rc;
}

int store_begin(PGconn *pg, struct docdb_error *de)
{
	return store_ok(pg, "BEGIN", de);
}

int store_commit(PGconn *pg, struct docdb_error *de)
{
	return store_ok(pg, "COMMIT", de);
}

void store_rollback(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK"));
}

static long long get_i8(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (long long)v;
}

static int get_i4(const PGresult *r, int row, int col)
{
	uint32_t v;

	memcpy(&v, PQgetvalue(r, row, col), 4);
	return (int)ntohl(v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

/* ---- keys ---- */

static uint8_t bracket_byte(bson_type_t t)
{
	return (uint8_t)((value_bracket(t) + 1) * 4);
}

uint8_t key_bracket_end(const bson_value_t *v)
{
	return (uint8_t)(bracket_byte(v->value_type) + 1);
}

bool key_indexable(const bson_value_t *v)
{
	switch (value_bracket(v->value_type)) {
	case 1: case 2: case 3: case 6: case 7: case 8: case 9: case 10:
		return v->value_type != BSON_TYPE_UNDEFINED;
	default:
		return false;
	}
}

void key_encode(const bson_value_t *v, struct buf *out)
{
	uint8_t p[16];
	uint64_t bits;
	double d;

	if (v == NULL || v->value_type == BSON_TYPE_UNDEFINED) {
		buf_appendc(out, (char)bracket_byte(BSON_TYPE_NULL));
		return;
	}
	buf_appendc(out, (char)bracket_byte(v->value_type));
	switch (value_bracket(v->value_type)) {
	case 2:
		d = value_number(v);
		if (isnan(d)) {
			memset(p, 0, 8);	/* NaN below every number, as MongoDB sorts it */
		} else {
			if (d == 0)
				d = 0;	/* -0 == 0 */
			memcpy(&bits, &d, 8);
			bits = (bits & 0x8000000000000000ull) ? ~bits : bits ^ 0x8000000000000000ull;
			put_be64(p, bits);
		}
		buf_append(out, p, 8);
		break;
	case 3:
		if (v->value_type == BSON_TYPE_SYMBOL)
			buf_append(out, v->value.v_symbol.symbol, v->value.v_symbol.len);
		else
			buf_append(out, v->value.v_utf8.str, v->value.v_utf8.len);
		break;
	case 4:
	case 5:
		buf_append(out, v->value.v_doc.data, v->value.v_doc.data_len);
		break;
	case 6:
		put_be64(p, v->value.v_binary.data_len);
		p[8] = (uint8_t)v->value.v_binary.subtype;
		buf_append(out, p + 4, 5);
		buf_append(out, v->value.v_binary.data, v->value.v_binary.data_len);
		break;
	case 7:
		buf_append(out, v->value.v_oid.bytes, 12);
		break;
	case 8:
		buf_appendc(out, v->value.v_bool ? 1 : 0);
		break;
	case 9:
		put_be64(p, (uint64_t)v->value.v_datetime ^ 0x8000000000000000ull);
		buf_append(out, p, 8);
		break;
	case 10:
		put_be64(p, (uint64_t)v->value.v_timestamp.timestamp << 32 | v->value.v_timestamp.increment);
		buf_append(out, p, 8);
		break;
	case 11:
		buf_appends(out, v->value.v_regex.regex);
		buf_appendc(out, 0);
		buf_appends(out, v->value.v_regex.options);
		break;
	default:
		break;
	}
}

/* The value at path with no array traversal; *multikey when an array is met. */
static bool key_value(const bson_t *doc, const char *path, bson_value_t *out, bool *multikey)
{
	bson_iter_t it;
	const char *p = path;
	bson_t cur;

	bson_init_static(&cur, bson_get_data(doc), doc->len);
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const bson_value_t *v;

		if (!bson_iter_init(&it, &cur) || !bson_iter_find_w_len(&it, p, (int)n))
			return false;
		v = bson_iter_value(&it);
		if (v->value_type == BSON_TYPE_ARRAY) {
			*multikey = true;
			*out = *v;
			return true;
		}
		if (dot == NULL) {
			*out = *v;
			return true;
		}
		if (v->value_type != BSON_TYPE_DOCUMENT)
			return false;
		bson_init_static(&cur, v->value.v_doc.data, v->value.v_doc.data_len);
		p = dot + 1;
	}
}

/* ---- collections ---- */

static char *quote_ident(PGconn *pg, const char *s)
{
	char *q = PQescapeIdentifier(pg, s, strlen(s));
	char *r = xstrdup(q ? q : "\"\"");

	PQfreemem(q);
	return r;
}

static void index_fill(struct store_index *ix, const char *name, const uint8_t *key, size_t keylen, int slot,
	bool unique, bool sparse, bool multikey)
{
	bson_iter_t it;

	memset(ix, 0, sizeof(*ix));
	ix->name = xstrdup(name);
	ix->key = bson_new_from_data(key, keylen);
	if (ix->key == NULL)
		ix->key = bson_new();
	ix->slot = slot;
	ix->unique = unique;
	ix->sparse = sparse;
	ix->multikey = multikey;
	if (bson_iter_init(&it, ix->key))
		while (bson_iter_next(&it) && ix->nfields < STORE_MAX_INDEX_FIELDS)
			ix->fields[ix->nfields++] = xstrdup(bson_iter_key(&it));
}

static int coll_load(PGconn *pg, struct coll *c, struct docdb_error *de)
{
	const char *pv[2] = { c->db, c->name };
	int lens[2] = { (int)strlen(c->db), (int)strlen(c->name) };
	PGresult *r;
	int rc = 0;

	r = store_exec(pg, "SELECT cid FROM caliber_docdb.collections WHERE db = $1 AND name = $2", 2, pv, lens);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_error(r, pg, de);
		goto out;
	}
	c->exists = PQntuples(r) == 1;
	if (!c->exists)
		goto out;
	c->cid = get_i8(r, 0, 0);
	PQclear(r);
	r = store_exec(pg, "SELECT name, key, slot, is_unique, sparse, multikey FROM caliber_docdb.indexes"
		" WHERE db = $1 AND coll = $2 ORDER BY slot", 2, pv, lens);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_error(r, pg, de);
		goto out;
	}
	for (int i = 0; i < PQntuples(r) && c->nidx < STORE_MAX_INDEXES; i++) {
		char *name = xstrndup(PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));

		index_fill(&c->idx[c->nidx++], name, (const uint8_t *)PQgetvalue(r, i, 1),
			(size_t)PQgetlength(r, i, 1), get_i4(r, i, 2), PQgetvalue(r, i, 3)[0] != 0,
			PQgetvalue(r, i, 4)[0] != 0, PQgetvalue(r, i, 5)[0] != 0);
		free(name);
	}
out:
	PQclear(r);
	return rc;
}

static int coll_create(PGconn *pg, struct coll *c, struct docdb_error *de)
{
	const char *pv[2] = { c->db, c->name };
	int lens[2] = { (int)strlen(c->db), (int)strlen(c->name) };
	char *qschema = quote_ident(pg, c->db);
	struct buf sql = BUF_INIT;
	PGresult *r = NULL;
	bson_t key = BSON_INITIALIZER;
	const char *ipv[4];
	int ilens[4];
	int rc = -1;

	if (store_begin(pg, de) < 0)
		goto out;
	/* one creator at a time: CREATE ... IF NOT EXISTS races with itself */
	if (store_ok(pg, "SELECT pg_advisory_xact_lock(7476616)", de) < 0)
		goto fail;
	if (coll_load(pg, c, de) < 0)
		goto fail;
	if (c->exists) {
		rc = store_commit(pg, de);
		goto out;
	}
	r = store_exec(pg, "INSERT INTO caliber_docdb.collections (db, name) VALUES ($1, $2) RETURNING cid", 2, pv,
		lens);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	c->cid = get_i8(r, 0, 0);
	PQclear(r);
	r = NULL;
	buf_appendf(&sql, "CREATE SCHEMA IF NOT EXISTS %s; CREATE TABLE %s (seq bigserial NOT NULL, id bytea NOT NULL,"
		" doc bytea NOT NULL, CONSTRAINT c%lld_id PRIMARY KEY (id)); CREATE INDEX c%lld_seq ON %s (seq)",
		qschema, c->qtable, c->cid, c->cid, c->qtable);
	if (store_ok(pg, sql.data, de) < 0)
		goto fail;
	BSON_APPEND_INT32(&key, "_id", 1);
	ipv[0] = c->db;
	ipv[1] = c->name;
	ipv[2] = (const char *)bson_get_data(&key);
	ilens[0] = lens[0];
	ilens[1] = lens[1];
	ilens[2] = (int)key.len;
	r = store_exec(pg, "INSERT INTO caliber_docdb.indexes (db, coll, name, key, slot, is_unique, sparse)"
		" VALUES ($1, $2, '_id_', $3, 0, true, false)", 3, ipv, ilens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	if (store_commit(pg, de) < 0)
		goto out;
	index_fill(&c->idx[0], "_id_", bson_get_data(&key), key.len, 0, true, false, false);
	c->nidx = 1;
	c->exists = true;
	rc = 0;
	goto out;
fail:
	store_rollback(pg);
out:
	PQclear(r);
	bson_destroy(&key);
	buf_release(&sql);
	free(qschema);
	return rc;
}

int store_coll_open(PGconn *pg, const char *db, const char *name, bool create, struct coll *c,
	struct docdb_error *de)
{
	char *qs, *qt;

	memset(c, 0, sizeof(*c));
	if (store_check_db(db, de) < 0 || store_check_coll(name, de) < 0)
		return -1;
	c->db = xstrdup(db);
	c->name = xstrdup(name);
	qs = quote_ident(pg, db);
	qt = quote_ident(pg, name);
	c->qtable = xasprintf("%s.%s", qs, qt);
	free(qs);
	free(qt);
	if (coll_load(pg, c, de) < 0)
		return -1;
	if (!c->exists && create)
		return coll_create(pg, c, de);
	return 0;
}

void store_coll_release(struct coll *c)
{
	for (int i = 0; i < c->nidx; i++) {
		free(c->idx[i].name);
		bson_destroy(c->idx[i].key);
		for (int k = 0; k < c->idx[i].nfields; k++)
			free(c->idx[i].fields[k]);
	}
	free(c->db);
	free(c->name);
	free(c->qtable);
	memset(c, 0, sizeof(*c));
}

/* ---- rows ---- */

static struct store_index *index_by_constraint(struct coll *c, const char *cons)
{
	char want[64];

	for (int i = 0; i < c->nidx; i++) {
		if (c->idx[i].slot == 0)
			snprintf(want, sizeof(want), "c%lld_id", c->cid);
		else
			snprintf(want, sizeof(want), "c%lld_i%d", c->cid, c->idx[i].slot);
		if (cons != NULL && strcmp(cons, want) == 0)
			return &c->idx[i];
	}
	return NULL;
}

/* E11000 with MongoDB's message shape, keyPattern and keyValue. */
static int dup_error(struct coll *c, struct store_index *ix, const bson_t *doc, bson_t *dup,
	struct docdb_error *de)
{
	bson_t kv = BSON_INITIALIZER;
	char *json;

	for (int k = 0; ix != NULL && k < ix->nfields; k++) {
		bson_value_t v;
		bool mk = false;

		if (key_value(doc, ix->fields[k], &v, &mk))
			bson_append_value(&kv, ix->fields[k], -1, &v);
		else
			bson_append_null(&kv, ix->fields[k], -1);
	}
	json = bson_as_relaxed_extended_json(&kv, NULL);
	docdb_fail(de, DOCDB_DUPLICATE_KEY, "E11000 duplicate key error collection: %s.%s index: %s dup key: %s",
		c->db, c->name, ix ? ix->name : "?", json ? json : "{}");
	bson_free(json);
	if (dup != NULL && ix != NULL) {
		BSON_APPEND_DOCUMENT(dup, "keyPattern", ix->key);
		BSON_APPEND_DOCUMENT(dup, "keyValue", &kv);
	}
	bson_destroy(&kv);
	return -1;
}

static int mark_multikey(PGconn *pg, struct coll *c, struct store_index *ix, struct docdb_error *de)
{
	const char *pv[3] = { c->db, c->name, ix->name };
	int lens[3] = { (int)strlen(c->db), (int)strlen(c->name), (int)strlen(ix->name) };
	PGresult *r = store_exec(pg, "UPDATE caliber_docdb.indexes SET multikey = true WHERE db = $1 AND coll = $2"
		" AND name = $3", 3, pv, lens);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_error(r, pg, de);
	PQclear(r);
	ix->multikey = true;
	return rc;
}

int store_put(PGconn *pg, struct coll *c, long long seq, const bson_t *doc, bson_t *dup,
	struct docdb_error *de)
{
	struct buf sql = BUF_INIT, vals = BUF_INIT;
	struct buf keys[1 + STORE_MAX_INDEXES * STORE_MAX_INDEX_FIELDS];
	const char *pv[2 + STORE_MAX_INDEXES * STORE_MAX_INDEX_FIELDS + 1];
	int lens[ARRAY_SIZE(pv)];
	int n = 0, nk = 0, rc = -1;
	uint8_t seqbe[8];
	bson_iter_t it;
	bson_value_t idv;
	PGresult *r = NULL;

	if (!bson_iter_init_find(&it, doc, "_id"))
		return docdb_fail(de, DOCDB_INTERNAL, "document without _id");
	idv = *bson_iter_value(&it);
	buf_init(&keys[nk]);
	key_encode(&idv, &keys[nk]);
	pv[n] = keys[nk].data;
	lens[n++] = (int)keys[nk++].len;
	pv[n] = (const char *)bson_get_data(doc);
	lens[n++] = (int)doc->len;
	if (seq < 0)
		buf_appendf(&sql, "INSERT INTO %s (id, doc", c->qtable);
	else
		buf_appendf(&sql, "UPDATE %s SET (id, doc", c->qtable);
	buf_appends(&vals, "$1, $2");
	for (int i = 1; i < c->nidx; i++) {
		struct store_index *ix = &c->idx[i];

		for (int k = 0; k < ix->nfields; k++) {
			bson_value_t v;
			bool mk = false, found = key_value(doc, ix->fields[k], &v, &mk);

			if (mk && !ix->multikey && mark_multikey(pg, c, ix, de) < 0)
				goto out;
			buf_appendf(&sql, ", k%d_%d", ix->slot, k);
			buf_appendf(&vals, ", $%d", n + 1);
			if (!found && ix->sparse) {
				pv[n] = NULL;
				lens[n++] = 0;
				continue;
			}
			buf_init(&keys[nk]);
			key_encode(found ? &v : NULL, &keys[nk]);
			pv[n] = keys[nk].data;
			lens[n++] = (int)keys[nk++].len;
		}
	}
	if (seq < 0) {
		buf_appendf(&sql, ") VALUES (%s)", vals.data);
	} else {
		put_be64(seqbe, (uint64_t)seq);
		pv[n] = (const char *)seqbe;
		lens[n++] = 8;
		buf_appendf(&sql, ") = ROW(%s) WHERE seq = $%d", vals.data, n);
	}
	r = store_exec(pg, sql.data, n, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (state != NULL && strcmp(state, "23505") == 0)
			dup_error(c, index_by_constraint(c, PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)), doc, dup, de);
		else
			store_pg_error(r, pg, de);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	for (int i = 0; i < nk; i++)
		buf_release(&keys[i]);
	buf_release(&sql);
	buf_release(&vals);
	return rc;
}

int store_delete_row(PGconn *pg, struct coll *c, long long seq, struct docdb_error *de)
{
	uint8_t be[8];
	const char *pv[1] = { (const char *)be };
	int lens[1] = { 8 };
	char *sql = xasprintf("DELETE FROM %s WHERE seq = $1", c->qtable);
	PGresult *r;
	int rc = 0;

	put_be64(be, (uint64_t)seq);
	r = store_exec(pg, sql, 1, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_error(r, pg, de);
	PQclear(r);
	free(sql);
	return rc;
}

/* ---- indexes, drops ---- */

int store_index_create(PGconn *pg, struct coll *c, const char *name, const bson_t *key, bool unique,
	bool sparse, struct docdb_error *de)
{
	struct buf sql = BUF_INIT;
	PGresult *r = NULL;
	struct store_index *ix;
	int slot = 1, rc = -1;
	char *rows_sql = NULL;

	if (c->nidx >= STORE_MAX_INDEXES)
		return docdb_fail(de, 67, "add index fails, too many indexes for %s.%s", c->db, c->name);
	for (int i = 0; i < c->nidx; i++)
		if (c->idx[i].slot >= slot)
			slot = c->idx[i].slot + 1;
	ix = &c->idx[c->nidx];
	index_fill(ix, name, bson_get_data(key), key->len, slot, unique, sparse, false);
	if (ix->nfields == 0 || ix->nfields > STORE_MAX_INDEX_FIELDS) {
		docdb_fail(de, 67, "index key pattern needs 1 to %d fields", STORE_MAX_INDEX_FIELDS);
		goto free_ix;
	}
	c->nidx++;
	if (store_begin(pg, de) < 0)
		goto out;
	for (int k = 0; k < ix->nfields; k++)
		buf_appendf(&sql, "ALTER TABLE %s ADD COLUMN k%d_%d bytea;", c->qtable, slot, k);
	if (store_ok(pg, sql.data, de) < 0)
		goto fail;
	{
		const char *pv[7] = { c->db, c->name, name, (const char *)bson_get_data(key), NULL, NULL, NULL };
		int lens[7] = { (int)strlen(c->db), (int)strlen(c->name), (int)strlen(name), (int)key->len, 4, 1, 1 };
		uint32_t be = htonl((uint32_t)slot);
		char u = unique, s = sparse;

		pv[4] = (const char *)&be;
		pv[5] = &u;
		pv[6] = &s;
		r = store_exec(pg, "INSERT INTO caliber_docdb.indexes (db, coll, name, key, slot, is_unique, sparse)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, pv, lens);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			store_pg_error(r, pg, de);
			goto fail;
		}
		PQclear(r);
		r = NULL;
	}
	/* fill the new columns from the documents already there */
	rows_sql = xasprintf("SELECT seq, doc FROM %s ORDER BY seq FOR UPDATE", c->qtable);
	r = PQexecParams(pg, rows_sql, 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		bson_t d;

		if (!bson_init_static(&d, (const uint8_t *)PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)) ||
		    store_put(pg, c, get_i8(r, i, 0), &d, NULL, de) < 0)
			goto fail;
	}
	buf_reset(&sql);
	buf_appendf(&sql, "CREATE %sINDEX c%lld_i%d ON %s (", unique ? "UNIQUE " : "", c->cid, slot, c->qtable);
	for (int k = 0; k < ix->nfields; k++)
		buf_appendf(&sql, "%sk%d_%d", k ? ", " : "", slot, k);
	buf_appends(&sql, ")");
	PQclear(r);
	r = PQexec(pg, sql.data);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (state != NULL && strcmp(state, "23505") == 0)
			docdb_fail(de, DOCDB_DUPLICATE_KEY,
				"E11000 duplicate key error collection: %s.%s index: %s: documents already in the"
				" collection have the same key", c->db, c->name, name);
		else
			store_pg_error(r, pg, de);
		goto fail;
	}
	if (store_commit(pg, de) < 0)
		goto out;
	/* fresh statistics, so the planner knows the new index's selectivity */
	buf_reset(&sql);
	buf_appendf(&sql, "ANALYZE %s", c->qtable);
	PQclear(r);
	r = PQexec(pg, sql.data);
	rc = 0;
	goto out;
fail:
	store_rollback(pg);
out:
	if (rc < 0) {
		c->nidx--;
free_ix:
		free(ix->name);
		bson_destroy(ix->key);
		for (int k = 0; k < ix->nfields; k++)
			free(ix->fields[k]);
		memset(ix, 0, sizeof(*ix));
	}
	PQclear(r);
	free(rows_sql);
	buf_release(&sql);
	return rc;
}

int store_index_drop(PGconn *pg, struct coll *c, const char *name, struct docdb_error *de)
{
	struct buf sql = BUF_INIT;
	char *qs = quote_ident(pg, c->db);
	const char *pv[3] = { c->db, c->name, name };
	int lens[3] = { (int)strlen(c->db), (int)strlen(c->name), (int)strlen(name) };
	struct store_index *ix = NULL;
	PGresult *r = NULL;
	int rc = -1;

	for (int i = 1; i < c->nidx; i++)
		if (strcmp(c->idx[i].name, name) == 0)
			ix = &c->idx[i];
	if (ix == NULL) {
		docdb_fail(de, DOCDB_INDEX_NOT_FOUND, "index not found with name [%s]", name);
		goto out;
	}
	if (store_begin(pg, de) < 0)
		goto out;
	buf_appendf(&sql, "DROP INDEX %s.c%lld_i%d;", qs, c->cid, ix->slot);
	for (int k = 0; k < ix->nfields; k++)
		buf_appendf(&sql, "ALTER TABLE %s DROP COLUMN k%d_%d;", c->qtable, ix->slot, k);
	if (store_ok(pg, sql.data, de) < 0)
		goto fail;
	r = store_exec(pg, "DELETE FROM caliber_docdb.indexes WHERE db = $1 AND coll = $2 AND name = $3", 3, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	rc = store_commit(pg, de);
	goto out;
fail:
	store_rollback(pg);
out:
	PQclear(r);
	free(qs);
	buf_release(&sql);
	return rc;
}

int store_coll_drop(PGconn *pg, struct coll *c, struct docdb_error *de)
{
	const char *pv[2] = { c->db, c->name };
	int lens[2] = { (int)strlen(c->db), (int)strlen(c->name) };
	char *sql = xasprintf("DROP TABLE IF EXISTS %s", c->qtable);
	PGresult *r = NULL;
	int rc = -1;

	if (store_begin(pg, de) < 0)
		goto out;
	if (store_ok(pg, sql, de) < 0)
		goto fail;
	r = store_exec(pg, "DELETE FROM caliber_docdb.indexes WHERE db = $1 AND coll = $2", 2, pv, lens);
	PQclear(r);
	r = store_exec(pg, "DELETE FROM caliber_docdb.collections WHERE db = $1 AND name = $2", 2, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	rc = store_commit(pg, de);
	goto out;
fail:
	store_rollback(pg);
out:
	PQclear(r);
	free(sql);
	return rc;
}

int store_db_drop(PGconn *pg, const char *db, struct docdb_error *de)
{
	char *qs = quote_ident(pg, db);
	char *sql = xasprintf("DROP SCHEMA IF EXISTS %s CASCADE", qs);
	const char *pv[1] = { db };
	int lens[1] = { (int)strlen(db) };
	PGresult *r = NULL;
	int rc = -1;

	if (store_begin(pg, de) < 0)
		goto out;
	if (store_ok(pg, sql, de) < 0)
		goto fail;
	r = store_exec(pg, "DELETE FROM caliber_docdb.indexes WHERE db = $1", 1, pv, lens);
	PQclear(r);
	r = store_exec(pg, "DELETE FROM caliber_docdb.collections WHERE db = $1", 1, pv, lens);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		store_pg_error(r, pg, de);
		goto fail;
	}
	rc = store_commit(pg, de);
	goto out;
fail:
	store_rollback(pg);
out:
	PQclear(r);
	free(sql);
	free(qs);
	return rc;
}
