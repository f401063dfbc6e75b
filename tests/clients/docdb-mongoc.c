/*
 * docdb-mongoc: a small libmongoc client of caliber-docdb, run by
 * tests/integration/test_docdb_mongoc.py.  The URI (with its password) comes
 * in the environment, DOCDB_URI, never in argv.  It pings, inserts a few
 * documents into <db>.<coll> (argv[1], argv[2]; the collection is dropped
 * first), finds some back by a filter with a sort and a projection, runs an
 * aggregate, and prints one canonical Extended JSON document with what it
 * got.  Any error goes to stderr as "error <domain> <code>: <message>" and
 * the exit status is 1, so the test can check a refused login too.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const bson_error_t *e)
{
	fprintf(stderr, "error %u %u: %s\n", e->domain, e->code, e->message);
	return 1;
}

/* Append every document a cursor yields to the array arr. */
static bool drain(mongoc_cursor_t *cur, bson_t *arr, bson_error_t *e)
{
	const bson_t *d;
	uint32_t i = 0;
	char buf[16];
	const char *key;

	while (mongoc_cursor_next(cur, &d)) {
		bson_uint32_to_string(i++, &key, buf, sizeof(buf));
		bson_append_document(arr, key, -1, d);
	}
	return !mongoc_cursor_error(cur, e);
}

static int run(mongoc_client_t *client, const char *dbname, const char *collname)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(client, dbname, collname);
	bson_t *ping = BCON_NEW("ping", BCON_INT32(1)), *hello = BCON_NEW("hello", BCON_INT32(1));
	bson_t reply, out = BSON_INITIALIZER, found, agg;
	bson_t *docs[4], *filter, *opts, *pipeline;
	bson_error_t e;
	bson_iter_t it;
	mongoc_cursor_t *cur;
	char *json;
	int rc = 1;

	if (!mongoc_client_command_simple(client, "admin", ping, NULL, &reply, &e))
		goto out;
	bson_destroy(&reply);
	if (!mongoc_client_command_simple(client, "admin", hello, NULL, &reply, &e))
		goto out;
	if (bson_iter_init_find(&it, &reply, "maxWireVersion"))
		BSON_APPEND_INT32(&out, "maxWireVersion", bson_iter_int32(&it));
	bson_destroy(&reply);
	if (!mongoc_collection_drop(coll, &e) && e.code != 26)	/* 26: NamespaceNotFound, nothing to drop */
		goto out;

	/* the manual's inventory, with an int64, a date and a nested document */
	docs[0] = BCON_NEW("_id", BCON_INT32(1), "item", "journal", "qty", BCON_INT32(25),
		"size", "{", "h", BCON_DOUBLE(14), "uom", "cm", "}", "status", "A");
	docs[1] = BCON_NEW("_id", BCON_INT32(2), "item", "notebook", "qty", BCON_INT32(50),
		"size", "{", "h", BCON_DOUBLE(8.5), "uom", "in", "}", "status", "A");
	docs[2] = BCON_NEW("_id", BCON_INT32(3), "item", "paper", "qty", BCON_INT32(100),
		"size", "{", "h", BCON_DOUBLE(8.5), "uom", "in", "}", "status", "D");
	docs[3] = BCON_NEW("_id", BCON_INT32(4), "item", "planner", "qty", BCON_INT64(75),
		"size", "{", "h", BCON_DOUBLE(22.85), "uom", "cm", "}", "status", "D",
		"when", BCON_DATE_TIME(1700000000123));
	if (!mongoc_collection_insert_many(coll, (const bson_t **)docs, 4, NULL, &reply, &e)) {
		bson_destroy(&reply);
		goto free_docs;
	}
	if (bson_iter_init_find(&it, &reply, "insertedCount"))
		BSON_APPEND_INT32(&out, "inserted", bson_iter_int32(&it));
	bson_destroy(&reply);

	filter = BCON_NEW("status", "D");
	opts = BCON_NEW("sort", "{", "qty", BCON_INT32(-1), "}", "projection", "{", "status", BCON_INT32(0), "}",
		"batchSize", BCON_INT32(1));
	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	bson_append_array_begin(&out, "found", -1, &found);
	if (!drain(cur, &found, &e)) {
		bson_append_array_end(&out, &found);
		mongoc_cursor_destroy(cur);
		bson_destroy(filter);
		bson_destroy(opts);
		goto free_docs;
	}
	bson_append_array_end(&out, &found);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);

	pipeline = BCON_NEW("pipeline", "[",
		"{", "$match", "{", "qty", "{", "$gte", BCON_INT32(30), "}", "}", "}",
		"{", "$group", "{", "_id", "$status", "total", "{", "$sum", "$qty", "}", "n", "{", "$sum", BCON_INT32(1), "}", "}", "}",
		"{", "$sort", "{", "_id", BCON_INT32(1), "}", "}", "]");
	cur = mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
	bson_append_array_begin(&out, "aggregate", -1, &agg);
	if (!drain(cur, &agg, &e)) {
		bson_append_array_end(&out, &agg);
		mongoc_cursor_destroy(cur);
		bson_destroy(pipeline);
		goto free_docs;
	}
	bson_append_array_end(&out, &agg);
	mongoc_cursor_destroy(cur);
	bson_destroy(pipeline);

	json = bson_as_canonical_extended_json(&out, NULL);
	printf("%s\n", json);
	bson_free(json);
	rc = 0;
free_docs:
	for (int i = 0; i < 4; i++)
		bson_destroy(docs[i]);
out:
	if (rc != 0)
		fail(&e);
	bson_destroy(&out);
	bson_destroy(ping);
	bson_destroy(hello);
	mongoc_collection_destroy(coll);
	return rc;
}

int main(int argc, char **argv)
{
	const char *uri_s = getenv("DOCDB_URI");
	mongoc_uri_t *uri;
	mongoc_client_t *client;
	bson_error_t e;
	int rc;

	if (argc != 3 || uri_s == NULL) {
		fprintf(stderr, "usage: DOCDB_URI=mongodb://... docdb-mongoc DB COLLECTION\n");
		return 2;
	}
	mongoc_init();
	if ((uri = mongoc_uri_new_with_error(uri_s, &e)) == NULL) {
		mongoc_cleanup();
		return fail(&e);
	}
	client = mongoc_client_new_from_uri_with_error(uri, &e);
	mongoc_uri_destroy(uri);
	if (client == NULL) {
		mongoc_cleanup();
		return fail(&e);
	}
	mongoc_client_set_appname(client, "caliber-docdb-mongoc-test");
	rc = run(client, argv[1], argv[2]);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
