/*
 * ddl.c: collections, databases and indexes: create, drop, dropDatabase,
 * listCollections, listDatabases, createIndexes, listIndexes, dropIndexes.
 */
#include "compat.h"

#include "cmd.h"
#include "match.h"
#include "store.h"

static int open_named(struct docdb_conn *c, const char *db, const bson_t *cmd, bool create, struct coll *coll,
	struct docdb_error *de)
{
	const char *name;

	memset(coll, 0, sizeof(*coll));
	name = cmd_collection(cmd, de);
	if (name == NULL)
		return -1;
	return store_coll_open(c->pg, db, name, create, coll, de);
}

int cmd_create(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t it;
	int rc = -1;

	(void)reply;
	if (bson_iter_init_find(&it, cmd, "capped") && bson_iter_as_bool(&it))
		return docdb_fail(de, DOCDB_BAD_VALUE, "capped collections are not supported by DocumentDB");
	if (bson_iter_init_find(&it, cmd, "viewOn") || bson_iter_init_find(&it, cmd, "timeseries"))
		return docdb_fail(de, DOCDB_BAD_VALUE, "views and time series collections are not supported here");
	if (open_named(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (coll.exists) {
		docdb_fail(de, DOCDB_NAMESPACE_EXISTS, "Collection %s.%s already exists.", db, coll.name);
		goto out;
	}
	store_coll_release(&coll);
	if (open_named(c, db, cmd, true, &coll, de) < 0)
		goto out;
	rc = 0;
out:
	store_coll_release(&coll);
	return rc;
}

int cmd_drop(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	int rc = -1;

	if (open_named(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (!coll.exists) {
		docdb_fail(de, DOCDB_NAMESPACE_NOT_FOUND, "ns not found");
		goto out;
	}
	if (store_coll_drop(c->pg, &coll, de) < 0)
		goto out;
	{
		char *ns = xasprintf("%s.%s", db, coll.name);

		BSON_APPEND_UTF8(reply, "ns", ns);
		free(ns);
	}
	BSON_APPEND_INT32(reply, "nIndexesWas", coll.nidx);
	rc = 0;
out:
	store_coll_release(&coll);
	return rc;
}

int cmd_drop_database(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	(void)cmd;
	if (strcmp(db, "admin") == 0)
		return docdb_fail(de, DOCDB_ILLEGAL_OPERATION, "Dropping the 'admin' database is prohibited.");
	if (store_check_db(db, de) < 0 || store_db_drop(c->pg, db, de) < 0)
		return -1;
	BSON_APPEND_UTF8(reply, "dropped", db);
	return 0;
}

static void append_indexed(bson_t *arr, unsigned i, const bson_t *doc)
{
	char ibuf[16];
	const char *ik;

	bson_uint32_to_string(i, &ik, ibuf, sizeof(ibuf));
	bson_append_document(arr, ik, -1, doc);
}

/* A cursor reply holding everything in one batch. */
static void one_batch(bson_t *reply, const char *ns, const bson_t *batch)
{
	bson_t cur;

	bson_append_document_begin(reply, "cursor", -1, &cur);
	BSON_APPEND_INT64(&cur, "id", 0);
	BSON_APPEND_UTF8(&cur, "ns", ns);
	BSON_APPEND_ARRAY(&cur, "firstBatch", batch);
	bson_append_document_end(reply, &cur);
}

int cmd_list_collections(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	const char *pv[1] = { db };
	int lens[1] = { (int)strlen(db) };
	PGresult *r;
	bson_t batch = BSON_INITIALIZER, filter;
	bson_iter_t it;
	bool name_only = false, has_filter = false;
	unsigned n = 0;
	char *ns;

	bson_init(&filter);
	if (bson_iter_init_find(&it, cmd, "nameOnly"))
		name_only = bson_iter_as_bool(&it);
	if (bson_iter_init_find(&it, cmd, "filter") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&it, &len, &data);
		bson_destroy(&filter);
		bson_init_static(&filter, data, len);
		has_filter = true;
		if (match_validate(&filter, de) < 0)
			return -1;
	}
	r = store_exec(c->pg, "SELECT name FROM caliber_docdb.collections WHERE db = $1 ORDER BY name", 1, pv, lens);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, c->pg, de);
		PQclear(r);
		bson_destroy(&batch);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		bson_t e = BSON_INITIALIZER, sub;

		bson_append_utf8(&e, "name", 4, PQgetvalue(r, i, 0), PQgetlength(r, i, 0));
		BSON_APPEND_UTF8(&e, "type", "collection");
		if (!name_only) {
			BSON_APPEND_DOCUMENT_BEGIN(&e, "options", &sub);
			bson_append_document_end(&e, &sub);
			BSON_APPEND_DOCUMENT_BEGIN(&e, "info", &sub);
			BSON_APPEND_BOOL(&sub, "readOnly", false);
			bson_append_document_end(&e, &sub);
		}
		if (!has_filter || match_doc(&filter, &e))
			append_indexed(&batch, n++, &e);
		bson_destroy(&e);
	}
	PQclear(r);
	ns = xasprintf("%s.$cmd.listCollections", db);
	one_batch(reply, ns, &batch);
	free(ns);
	bson_destroy(&batch);
	return 0;
}

int cmd_list_databases(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	PGresult *r;
	bson_t dbs;
	unsigned n = 0;
	bool name_only = false;
	bson_iter_t it;
	double total = 0;

	(void)db;
	if (bson_iter_init_find(&it, cmd, "nameOnly"))
		name_only = bson_iter_as_bool(&it);
	r = PQexec(c->pg, "SELECT c.db, coalesce(sum(pg_total_relation_size(format('%I.%I', c.db, c.name)::regclass)), 0)::float8"
		" FROM caliber_docdb.collections c GROUP BY c.db ORDER BY c.db");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, c->pg, de);
		PQclear(r);
		return -1;
	}
	bson_append_array_begin(reply, "databases", -1, &dbs);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		double size = strtod(PQgetvalue(r, i, 1), NULL);
		bson_t e = BSON_INITIALIZER;

		/* a user sees the databases it may read, as with authorizedDatabases */
		if (!docdb_allowed(c, name, ACT_READ)) {
			bson_destroy(&e);
			continue;
		}
		BSON_APPEND_UTF8(&e, "name", name);
		if (!name_only) {
			BSON_APPEND_DOUBLE(&e, "sizeOnDisk", size);
			BSON_APPEND_BOOL(&e, "empty", size == 0);
		}
		total += size;
		append_indexed(&dbs, n++, &e);
		bson_destroy(&e);
	}
	bson_append_array_end(reply, &dbs);
	if (!name_only)
		BSON_APPEND_DOUBLE(reply, "totalSize", total);
	PQclear(r);
	return 0;
}

static char *index_default_name(const bson_t *key)
{
	struct buf b = BUF_INIT;
	bson_iter_t it;

	buf_init(&b);
	bson_iter_init(&it, key);
	while (bson_iter_next(&it)) {
		if (b.len)
			buf_appendc(&b, '_');
		buf_appends(&b, bson_iter_key(&it));
		buf_appendc(&b, '_');
		if (BSON_ITER_HOLDS_UTF8(&it))
			buf_appends(&b, bson_iter_utf8(&it, NULL));
		else
			buf_appendf(&b, "%g", value_number(bson_iter_value(&it)));
	}
	return buf_detach(&b);
}

static bool same_key(const bson_t *a, const bson_t *b)
{
	return a->len == b->len && memcmp(bson_get_data(a), bson_get_data(b), a->len) == 0;
}

int cmd_create_indexes(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t it, specs;
	int before, rc = -1;
	bool created_coll;

	if (!bson_iter_init_find(&it, cmd, "indexes") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &specs))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "BSON field 'createIndexes.indexes' is missing or not an array");
	if (open_named(c, db, cmd, false, &coll, de) < 0)
		goto out;
	created_coll = !coll.exists;
	store_coll_release(&coll);
	if (open_named(c, db, cmd, true, &coll, de) < 0)
		goto out;
	before = coll.nidx;
	while (bson_iter_next(&specs)) {
		bson_t spec, key;
		bson_iter_t f;
		const uint8_t *data;
		uint32_t len;
		char *name = NULL;
		bool unique = false, sparse = false, exists = false;

		if (!BSON_ITER_HOLDS_DOCUMENT(&specs)) {
			docdb_fail(de, DOCDB_TYPE_MISMATCH, "an index specification must be an object");
			goto out;
		}
		bson_iter_document(&specs, &len, &data);
		bson_init_static(&spec, data, len);
		if (!bson_iter_init_find(&f, &spec, "key") || !BSON_ITER_HOLDS_DOCUMENT(&f)) {
			docdb_fail(de, DOCDB_FAILED_TO_PARSE, "The 'key' field is a required property of an index specification");
			goto out;
		}
		bson_iter_document(&f, &len, &data);
		bson_init_static(&key, data, len);
		bson_iter_init(&f, &key);
		while (bson_iter_next(&f)) {
			const bson_value_t *v = bson_iter_value(&f);

			if (!value_is_number(v) || (value_number(v) != 1 && value_number(v) != -1)) {
				docdb_fail(de, 67, "index type %s on '%s' is not supported by the local DocumentDB;"
					" give 1 or -1", BSON_ITER_HOLDS_UTF8(&f) ? bson_iter_utf8(&f, NULL) : "?",
					bson_iter_key(&f));
				goto out;
			}
		}
		if (bson_iter_init_find(&f, &spec, "unique"))
			unique = bson_iter_as_bool(&f);
		if (bson_iter_init_find(&f, &spec, "sparse"))
			sparse = bson_iter_as_bool(&f);
		if (bson_iter_init_find(&f, &spec, "partialFilterExpression") ||
		    bson_iter_init_find(&f, &spec, "expireAfterSeconds") || bson_iter_init_find(&f, &spec, "collation")) {
			docdb_fail(de, DOCDB_BAD_VALUE, "index option '%s' is not supported by the local DocumentDB",
				bson_iter_key(&f));
			goto out;
		}
		if (bson_iter_init_find(&f, &spec, "name") && BSON_ITER_HOLDS_UTF8(&f))
			name = xstrdup(bson_iter_utf8(&f, NULL));
		else
			name = index_default_name(&key);
		for (int i = 0; i < coll.nidx; i++) {
			if (strcmp(coll.idx[i].name, name) == 0) {
				if (!same_key(coll.idx[i].key, &key) || coll.idx[i].unique != (unique || i == 0)) {
					docdb_fail(de, DOCDB_INDEX_OPTIONS_CONFLICT,
						"Index with name: %s already exists with different options", name);
					free(name);
					goto out;
				}
				exists = true;
			}
		}
		if (!exists && store_index_create(c->pg, &coll, name, &key, unique, sparse, de) < 0) {
			free(name);
			goto out;
		}
		free(name);
	}
	BSON_APPEND_BOOL(reply, "createdCollectionAutomatically", created_coll);
	BSON_APPEND_INT32(reply, "numIndexesBefore", before);
	BSON_APPEND_INT32(reply, "numIndexesAfter", coll.nidx);
	rc = 0;
out:
	store_coll_release(&coll);
	return rc;
}

int cmd_list_indexes(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	struct coll coll;
	bson_t batch = BSON_INITIALIZER;
	char *ns;
	int rc = -1;

	if (open_named(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (!coll.exists) {
		docdb_fail(de, DOCDB_NAMESPACE_NOT_FOUND, "ns does not exist: %s.%s", db, coll.name);
		goto out;
	}
	for (int i = 0; i < coll.nidx; i++) {
		bson_t e = BSON_INITIALIZER;

		BSON_APPEND_INT32(&e, "v", 2);
		BSON_APPEND_DOCUMENT(&e, "key", coll.idx[i].key);
		BSON_APPEND_UTF8(&e, "name", coll.idx[i].name);
		if (i > 0 && coll.idx[i].unique)
			BSON_APPEND_BOOL(&e, "unique", true);
		if (coll.idx[i].sparse)
			BSON_APPEND_BOOL(&e, "sparse", true);
		append_indexed(&batch, (unsigned)i, &e);
		bson_destroy(&e);
	}
	ns = xasprintf("%s.%s", db, coll.name);
	one_batch(reply, ns, &batch);
	free(ns);
	rc = 0;
out:
	bson_destroy(&batch);
	store_coll_release(&coll);
	return rc;
}

int cmd_drop_indexes(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t it;
	int rc = -1, was;

	if (open_named(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (!coll.exists) {
		docdb_fail(de, DOCDB_NAMESPACE_NOT_FOUND, "ns not found %s.%s", db, coll.name);
		goto out;
	}
	was = coll.nidx;
	if (!bson_iter_init_find(&it, cmd, "index")) {
		docdb_fail(de, DOCDB_FAILED_TO_PARSE, "BSON field 'dropIndexes.index' is missing but a required field");
		goto out;
	}
	if (BSON_ITER_HOLDS_UTF8(&it) && strcmp(bson_iter_utf8(&it, NULL), "*") == 0) {
		while (coll.nidx > 1) {
			char *name = xstrdup(coll.idx[coll.nidx - 1].name);

			if (store_index_drop(c->pg, &coll, name, de) < 0) {
				free(name);
				goto out;
			}
			free(name);
			store_coll_release(&coll);
			if (open_named(c, db, cmd, false, &coll, de) < 0)
				goto out;
		}
	} else {
		char *name = NULL;

		if (BSON_ITER_HOLDS_UTF8(&it)) {
			name = xstrdup(bson_iter_utf8(&it, NULL));
		} else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
			bson_t key;
			const uint8_t *data;
			uint32_t len;

			bson_iter_document(&it, &len, &data);
			bson_init_static(&key, data, len);
			for (int i = 0; i < coll.nidx; i++)
				if (same_key(coll.idx[i].key, &key))
					name = xstrdup(coll.idx[i].name);
			if (name == NULL) {
				docdb_fail(de, DOCDB_INDEX_NOT_FOUND, "can't find index with key");
				goto out;
			}
		}
		if (name == NULL) {
			docdb_fail(de, DOCDB_TYPE_MISMATCH, "dropIndexes 'index' must be a name, a key pattern or \"*\"");
			goto out;
		}
		if (strcmp(name, "_id_") == 0) {
			free(name);
			docdb_fail(de, 72, "cannot drop _id index");
			goto out;
		}
		rc = store_index_drop(c->pg, &coll, name, de);
		free(name);
		if (rc < 0)
			goto out;
	}
	BSON_APPEND_INT32(reply, "nIndexesWas", was);
	rc = 0;
out:
	store_coll_release(&coll);
	return rc;
}
