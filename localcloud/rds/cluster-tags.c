/*
 * rds/cluster-tags.c: AddTagsToResource, RemoveTagsFromResource and
 * ListTagsForResource for DocumentDB's resources, typed, on the codec:
 * clusters, their instances, cluster snapshots, subnet groups and cluster
 * parameter groups, named by ARN (arn:aws:rds:<region>:<account>:<kind>:
 * <name>).  Each keeps its tags as a JSON array of {Key, Value} in its
 * row.  RDS for PostgreSQL's instances and snapshots keep no tags here, so
 * their ARNs are refused in words rather than answered with an empty list.
 */
#include "compat.h"

#include <ctype.h>

#include <jansson.h>

#include "core/caliberd.h"
#include "core/router.h"
#include "core/store.h"
#include "cluster.h"
#include "internal.h"

/* Where each kind of resource keeps its tags, and the fault for a missing one. */
static const struct tag_home {
	const char *kind;
	const char *table;
	const char *key;
	const char *fault;
	const char *what;
} homes[] = {
	{ "cluster", "docdb_cluster", "id", "DBClusterNotFoundFault", "DBCluster" },
	{ "db", "docdb_instance", "id", "DBInstanceNotFound", "DBInstance" },
	{ "cluster-snapshot", "docdb_snapshot", "id", "DBClusterSnapshotNotFoundFault",
		"DBClusterSnapshot" },
	{ "subgrp", "docdb_subnet_group", "name", "DBSubnetGroupNotFoundFault", "DBSubnetGroup" },
	{ "cluster-pg", "docdb_param_group", "name", "DBParameterGroupNotFound",
		"DBClusterParameterGroup" },
};

/* The resource an ARN names: its home and its (lower-case) name; -1 and err otherwise. */
static int tag_resource(const json_t *in, const struct tag_home **home, char **name,
	struct codec_error *err)
{
	const char *arn = json_string_value(json_object_get(in, "ResourceName")), *p;
	char kind[32];
	size_t i, n;
	int colons;

	*name = NULL;
	if (arn == NULL || *arn == '\0')
		return cluster_bad(err, "MissingParameter",
			"The request must contain the parameter ResourceName");
	/* arn:aws:rds:region:account:kind:name (an automated snapshot's name has a ':') */
	for (p = arn, colons = 0; *p && colons < 5; p++)
		colons += *p == ':';
	if (strncmp(arn, "arn:", 4) || colons < 5 || strchr(p, ':') == NULL)
		return cluster_bad(err, "InvalidParameterValue", "Invalid resource name: %s", arn);
	n = (size_t)(strchr(p, ':') - p);
	if (n >= sizeof(kind))
		return cluster_bad(err, "InvalidParameterValue", "Invalid resource name: %s", arn);
	memcpy(kind, p, n);
	kind[n] = '\0';
	for (i = 0; i < ARRAY_SIZE(homes); i++)
		if (!strcmp(homes[i].kind, kind))
			break;
	if (i == ARRAY_SIZE(homes))
		return cluster_bad(err, "InvalidParameterValue",
			"Invalid resource name: %s (this endpoint keeps tags of DocumentDB's"
			" clusters, instances, cluster snapshots, subnet groups and cluster"
			" parameter groups)",
			arn);
	*home = &homes[i];
	*name = xstrdup(p + n + 1);
	for (char *c = *name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/* The row's tags (a new reference), or NULL when there is no such row. */
static json_t *tags_read(sqlite3 *db, const struct tag_home *h, const char *name)
{
	char *sql = xasprintf("SELECT tags FROM %s WHERE %s = ?", h->table, h->key);
	sqlite3_stmt *st = NULL;
	json_t *tags = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			tags = json_loads(store_col_str(st, 0), 0, NULL);
			if (!json_is_array(tags)) {
				json_decref(tags);
				tags = json_array();
			}
		}
	}
	sqlite3_finalize(st);
	free(sql);
	return tags;
}

static int tags_write(sqlite3 *db, const struct tag_home *h, const char *name, json_t *tags)
{
	char *sql = xasprintf("UPDATE %s SET tags = ? WHERE %s = ?", h->table, h->key);
	char *text = json_dumps(tags, JSON_COMPACT);
	int ret = store_run(db, sql, "ss", text ? text : "[]", name);

	free(sql);
	free(text);
	return ret;
}

/* Open the store on the tagged resource: its tags (a new reference), or NULL and err. */
static json_t *tags_begin(struct lc_request *req, const json_t *in, const struct tag_home **h,
	char **name, struct codec_error *err)
{
	struct err e = ERR_INIT;
	json_t *tags;

	if (tag_resource(in, h, name, err) < 0)
		return NULL;
	if (store_begin(req->srv->store, &e) < 0) {
		cluster_internal(err, e.msg);
		return NULL;
	}
	tags = tags_read(store_db(req->srv->store), *h, *name);
	if (tags == NULL) {
		struct rds_instance r = { 0 };
		int rds = !strcmp((*h)->kind, "db") &&
			rds_instance_get(store_db(req->srv->store), *name, &r) == 1;

		rds_instance_release(&r);
		store_rollback(req->srv->store);
		if (rds)
			cluster_bad(err, "InvalidParameterValue",
				"%s is an RDS for PostgreSQL instance: this endpoint keeps no tags"
				" for those", *name);
		else
			cluster_bad(err, (*h)->fault, "%s %s not found.", (*h)->what, *name);
	}
	return tags;
}

static int tags_commit(struct lc_request *req, const struct tag_home *h, const char *name,
	json_t *tags, struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (tags_write(store_db(req->srv->store), h, name, tags) < 0) {
		store_rollback(req->srv->store);
		return cluster_internal(err, "unable to store the tags");
	}
	if (store_commit(req->srv->store, &e) < 0)
		return cluster_internal(err, e.msg);
	return 0;
}

/* Index of key in tags, -1 when absent. */
static long tag_index(const json_t *tags, const char *key)
{
	json_t *t;
	size_t i;

	json_array_foreach(tags, i, t)
	{
		const char *k = json_string_value(json_object_get(t, "Key"));

		if (k != NULL && !strcmp(k, key))
			return (long)i;
	}
	return -1;
}

int cluster_add_tags_to_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	const struct tag_home *h = NULL;
	json_t *add = json_object_get(in, "Tags"), *tags, *t;
	char *name = NULL;
	size_t i;
	int ret = -1;

	(void)out;
	json_array_foreach(add, i, t)
	{
		if (json_string_value(json_object_get(t, "Key")) == NULL) {
			cluster_bad(err, "InvalidParameterValue", "A tag's Key must be given.");
			goto out;
		}
	}
	tags = tags_begin(req, in, &h, &name, err);
	if (tags == NULL)
		goto out;
	/* a key given again replaces its value, as AWS does */
	json_array_foreach(add, i, t)
	{
		const char *key = json_string_value(json_object_get(t, "Key"));
		const char *value = json_string_value(json_object_get(t, "Value"));
		json_t *tag = json_pack("{s:s, s:s}", "Key", key, "Value", value ? value : "");
		long at = tag_index(tags, key);

		if (at >= 0)
			json_array_set_new(tags, (size_t)at, tag);
		else
			json_array_append_new(tags, tag);
	}
	ret = tags_commit(req, h, name, tags, err);
	json_decref(tags);
out:
	free(name);
	return ret;
}

int cluster_remove_tags_from_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	const struct tag_home *h = NULL;
	json_t *keys = json_object_get(in, "TagKeys"), *tags, *k;
	char *name = NULL;
	size_t i;
	int ret = -1;

	(void)out;
	tags = tags_begin(req, in, &h, &name, err);
	if (tags == NULL)
		goto out;
	json_array_foreach(keys, i, k)
	{
		long at = json_string_value(k) ? tag_index(tags, json_string_value(k)) : -1;

		if (at >= 0)
			json_array_remove(tags, (size_t)at);
	}
	ret = tags_commit(req, h, name, tags, err);
	json_decref(tags);
out:
	free(name);
	return ret;
}

int cluster_list_tags_for_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	const struct tag_home *h = NULL;
	char *name = NULL;
	json_t *tags = tags_begin(req, in, &h, &name, err);

	free(name);
	if (tags == NULL)
		return -1;
	store_rollback(req->srv->store);
	*out = json_pack("{s:o}", "TagList", tags);
	return 0;
}
