/*
 * rds/cluster-groups.c: DB subnet groups and DB cluster parameter groups,
 * typed handlers on the codec.  Both are recorded and described back as
 * AWS documents them: a subnet group names subnets that the local cloud
 * has no network for (every subnet is in local-1a, Active), and a cluster
 * parameter group holds DocumentDB 5.0's cluster parameters with their
 * defaults and allowed values, checked when modified, which caliber-docdb
 * does not act on (it always requires TLS, keeps no audit log or
 * profiler).  Groups in use by a cluster (or, for subnet groups, an RDS
 * instance) are not deleted; the default.docdb* parameter groups exist
 * without being created and cannot be modified or deleted.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>

#include <jansson.h>

#include "core/caliberd.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "cluster.h"
#include "internal.h"

static const char groups_schema[] =
	"CREATE TABLE IF NOT EXISTS docdb_subnet_group ("
	" name TEXT PRIMARY KEY,"	/* lower case, as AWS keeps it */
	" region TEXT NOT NULL,"
	" description TEXT NOT NULL,"
	" subnets TEXT NOT NULL,"	/* JSON array of subnet ids */
	" tags TEXT NOT NULL DEFAULT '[]');"
	"CREATE TABLE IF NOT EXISTS docdb_param_group ("
	" name TEXT PRIMARY KEY,"
	" region TEXT NOT NULL,"
	" family TEXT NOT NULL,"
	" description TEXT NOT NULL,"
	" params TEXT NOT NULL DEFAULT '{}',"	/* {name: value} set by the user */
	" tags TEXT NOT NULL DEFAULT '[]');";

static const char *const families[] = { "docdb3.6", "docdb4.0", "docdb5.0" };

/* DocumentDB 5.0's cluster parameters (AWS's "Managing cluster parameter groups"). */
static const struct param_def {
	const char *name;
	const char *value;	/* the default */
	const char *allowed;	/* comma list, or "lo-hi" for numbers */
	const char *type;	/* string, integer, float */
	const char *apply;	/* dynamic, static */
	const char *description;
} params[] = {
	{ "audit_logs", "disabled", "enabled,disabled,ddl,dml_read,dml_write,all,none", "string",
		"dynamic", "Enables auditing on cluster." },
	{ "change_stream_log_retention_duration", "10800", "3600-604800", "integer", "dynamic",
		"Duration of time in seconds that the change stream log is retained and can be"
		" consumed." },
	{ "profiler", "disabled", "enabled,disabled", "string", "dynamic",
		"Enables profiling for slow operations." },
	{ "profiler_sampling_rate", "1.0", "0.0-1.0", "float", "dynamic",
		"Rate of sampling for profiled operations." },
	{ "profiler_threshold_ms", "100", "50-2147483646", "integer", "dynamic",
		"Operations longer than profiler_threshold_ms will be logged." },
	{ "tls", "enabled", "disabled,enabled", "string", "static",
		"Config to enable/disable TLS" },
	{ "ttl_monitor", "enabled", "disabled,enabled", "string", "dynamic",
		"Enables TTL Monitoring" },
};

int cluster_groups_init(struct lc_server *srv, struct err *e)
{
	return store_exec(srv->store, groups_schema, e);
}

static const char *in_str(const json_t *in, const char *member)
{
	return json_string_value(json_object_get(in, member));
}

static char *lower(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* A group name member lower-cased (as AWS keeps names), NULL when absent; caller frees. */
static char *in_name(const json_t *in, const char *member)
{
	const char *v = in_str(in, member);

	return v != NULL ? lower(v) : NULL;
}

static int required(const json_t *in, const char *member, struct codec_error *err)
{
	const char *v = in_str(in, member);

	if (v == NULL || *v == '\0')
		return cluster_bad(err, "MissingParameter",
			"The request must contain the parameter %s", member);
	return 0;
}

static int commit(struct lc_request *req, struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (store_commit(req->srv->store, &e) < 0)
		return cluster_internal(err, e.msg);
	return 0;
}

static int begin(struct lc_request *req, struct codec_error *err)
{
	struct err e = ERR_INIT;

	if (store_begin(req->srv->store, &e) < 0)
		return cluster_internal(err, e.msg);
	return 0;
}

/* Is the default parameter group of a family (exists always, never changes). */
static const char *default_family(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (!strncmp(name, "default.", 8) && !strcmp(name + 8, families[i]))
			return families[i];
	return NULL;
}

static int row_exists(sqlite3 *db, const char *sql, const char *v)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

int cluster_groups_check(sqlite3 *db, const char *subnet_group, const char *param_group,
	struct codec_error *err)
{
	if (subnet_group != NULL && strcasecmp(subnet_group, "default") != 0) {
		char *name = lower(subnet_group);
		int found = row_exists(db, "SELECT 1 FROM docdb_subnet_group WHERE name = ?", name);

		free(name);
		if (!found)
			return cluster_bad(err, "DBSubnetGroupNotFoundFault",
				"DBSubnetGroup %s not found.", subnet_group);
	}
	if (param_group != NULL) {
		char *name = lower(param_group);
		int found = default_family(name) != NULL ||
			row_exists(db, "SELECT 1 FROM docdb_param_group WHERE name = ?", name);

		free(name);
		if (!found)
			return cluster_bad(err, "DBClusterParameterGroupNotFound",
				"DBClusterParameterGroup not found: %s", param_group);
	}
	return 0;
}

/* ---------------------------------------------------------------- subnet groups */

/* Letters, digits, periods, underscores, spaces and hyphens; at most 255; not "default". */
static int subnet_group_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || !strcasecmp(s, "default"))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._ -", s[i]))
			return 0;
	return 1;
}

static int in_subnets(const json_t *in, char **out, struct codec_error *err)
{
	json_t *ids = json_object_get(in, "SubnetIds"), *v;
	size_t i;

	if (json_array_size(ids) == 0)
		return cluster_bad(err, "MissingParameter",
			"The request must contain the parameter SubnetIds");
	json_array_foreach(ids, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || strncmp(s, "subnet-", 7) != 0)
			return cluster_bad(err, "InvalidSubnet", "The subnet ID '%s' is not valid.",
				s ? s : "");
	}
	*out = json_dumps(ids, JSON_COMPACT);
	return 0;
}

static json_t *subnet_group_json(sqlite3_stmt *st)
{
	json_t *ids = json_loads(store_col_str(st, 3), 0, NULL), *subnets = json_array(), *v;
	char arn[512];
	size_t i;

	json_array_foreach(ids, i, v)
		json_array_append_new(subnets,
			json_pack("{s:s, s:{s:s}, s:s}", "SubnetIdentifier", json_string_value(v),
				"SubnetAvailabilityZone", "Name", "local-1a", "SubnetStatus", "Active"));
	json_decref(ids);
	cluster_arn("subgrp", store_col_str(st, 1), store_col_str(st, 0), arn);
	return json_pack("{s:s, s:s, s:s, s:o, s:s}", "DBSubnetGroupName", store_col_str(st, 0),
		"DBSubnetGroupDescription", store_col_str(st, 2), "SubnetGroupStatus", "Complete",
		"Subnets", subnets, "DBSubnetGroupArn", arn);
}

/* Subnet groups (one, or all after marker) into list; how many there were beyond max. */
static int subnet_groups_list(sqlite3 *db, const char *name, const char *marker, long max,
	json_t *list)
{
	sqlite3_stmt *st = NULL;
	int more = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT name, region, description, subnets FROM docdb_subnet_group WHERE (?1 IS"
		    " NULL OR name = ?1) AND (?2 IS NULL OR name > ?2) ORDER BY name",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, marker, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json_array_size(list) == (size_t)max) {
			more = 1;
			break;
		}
		json_array_append_new(list, subnet_group_json(st));
	}
	sqlite3_finalize(st);
	return more;
}

int cluster_create_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	const char *desc = in_str(in, "DBSubnetGroupDescription");
	char *name = NULL, *subnets = NULL, *tags = NULL;
	json_t *list = NULL;
	int ret = -1;
	sqlite3 *db;

	if (required(in, "DBSubnetGroupName", err) < 0 ||
		required(in, "DBSubnetGroupDescription", err) < 0 ||
		in_subnets(in, &subnets, err) < 0)
		goto out;
	if (!subnet_group_name_valid(in_str(in, "DBSubnetGroupName"))) {
		cluster_bad(err, "InvalidParameterValue",
			"The parameter DBSubnetGroupName is not a valid name: it must be 1 to 255"
			" letters, digits, periods, underscores, spaces or hyphens, and not"
			" \"default\".");
		goto out;
	}
	name = lower(in_str(in, "DBSubnetGroupName"));
	tags = json_dumps(json_is_array(json_object_get(in, "Tags")) ?
			json_object_get(in, "Tags") : json_array(), JSON_COMPACT);
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (row_exists(db, "SELECT 1 FROM docdb_subnet_group WHERE name = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already"
			" exists.", name);
		goto out;
	}
	list = json_array();
	if (store_run(db,
		    "INSERT INTO docdb_subnet_group (name, region, description, subnets, tags)"
		    " VALUES (?, ?, ?, ?, ?)",
		    "sssss", name, req->region, desc, subnets, tags ? tags : "[]") < 0 ||
		subnet_groups_list(db, name, NULL, 1, list) < 0 || json_array_size(list) != 1) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to record the subnet group");
		goto out;
	}
	*out = json_pack("{s:O}", "DBSubnetGroup", json_array_get(list, 0));
	ret = commit(req, err);
out:
	json_decref(list);
	free(name);
	free(subnets);
	free(tags);
	return ret;
}

int cluster_describe_db_subnet_groups(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	static const char *const names[] = { NULL };
	json_t *filters = NULL, *list = NULL;
	char *name = in_str(in, "DBSubnetGroupName") ? lower(in_str(in, "DBSubnetGroupName")) : NULL;
	const char *marker = in_str(in, "Marker");
	long max;
	int more, ret = -1;

	if (cluster_in_filters(in, names, &filters, err) < 0 ||
		cluster_in_max_records(in, &max, err) < 0 || begin(req, err) < 0)
		goto out;
	list = json_array();
	more = subnet_groups_list(store_db(req->srv->store), name, marker, max, list);
	store_rollback(req->srv->store);
	if (more < 0) {
		cluster_internal(err, "unable to read the subnet groups");
		goto out;
	}
	if (name != NULL && json_array_size(list) == 0) {
		cluster_bad(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", name);
		goto out;
	}
	*out = json_pack("{s:O}", "DBSubnetGroups", list);
	if (more)
		json_object_set(*out, "Marker", json_object_get(json_array_get(list,
			json_array_size(list) - 1), "DBSubnetGroupName"));
	ret = 0;
out:
	json_decref(filters);
	json_decref(list);
	free(name);
	return ret;
}

int cluster_modify_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	char *name = NULL, *subnets = NULL;
	json_t *list = NULL;
	int ret = -1;
	sqlite3 *db;

	if (required(in, "DBSubnetGroupName", err) < 0 || in_subnets(in, &subnets, err) < 0)
		goto out;
	name = lower(in_str(in, "DBSubnetGroupName"));
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (!row_exists(db, "SELECT 1 FROM docdb_subnet_group WHERE name = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", name);
		goto out;
	}
	list = json_array();
	if (store_run(db, "UPDATE docdb_subnet_group SET subnets = ? WHERE name = ?", "ss",
		    subnets, name) < 0 ||
		(in_str(in, "DBSubnetGroupDescription") != NULL &&
			store_run(db, "UPDATE docdb_subnet_group SET description = ? WHERE name = ?",
				"ss", in_str(in, "DBSubnetGroupDescription"), name) < 0) ||
		subnet_groups_list(db, name, NULL, 1, list) < 0 || json_array_size(list) != 1) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to update the subnet group");
		goto out;
	}
	*out = json_pack("{s:O}", "DBSubnetGroup", json_array_get(list, 0));
	ret = commit(req, err);
out:
	json_decref(list);
	free(name);
	free(subnets);
	return ret;
}

int cluster_delete_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	char *name = NULL;
	int ret = -1;
	sqlite3 *db;

	(void)out;
	if (required(in, "DBSubnetGroupName", err) < 0)
		goto out;
	name = lower(in_str(in, "DBSubnetGroupName"));
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (!row_exists(db, "SELECT 1 FROM docdb_subnet_group WHERE name = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", name);
		goto out;
	}
	if (row_exists(db, "SELECT 1 FROM docdb_cluster WHERE lower(subnet_group) = ?1 UNION ALL"
			   " SELECT 1 FROM rds_instance WHERE lower(subnet_group) = ?1", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBSubnetGroupStateFault",
			"Cannot delete the subnet group '%s' because at least one database"
			" cluster or instance is still using it.", name);
		goto out;
	}
	if (store_run(db, "DELETE FROM docdb_subnet_group WHERE name = ?", "s", name) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to delete the subnet group");
		goto out;
	}
	ret = commit(req, err);
out:
	free(name);
	return ret;
}

/* ---------------------------------------------------------------- parameter groups */

/* The group's row: 1 found (*family, *desc, *values filled), 0 not; defaults found too. */
static int param_group_get(sqlite3 *db, const char *name, char **family, char **desc,
	json_t **values)
{
	const char *fam = default_family(name);
	sqlite3_stmt *st = NULL;
	int found = 0;

	*family = *desc = NULL;
	*values = NULL;
	if (fam != NULL) {
		*family = xstrdup(fam);
		*desc = xasprintf("Default cluster parameter group for %s", fam);
		*values = json_object();
		return 1;
	}
	if (sqlite3_prepare_v2(db,
		    "SELECT family, description, params FROM docdb_param_group WHERE name = ?", -1,
		    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*family = store_col_text(st, 0);
			*desc = store_col_text(st, 1);
			*values = json_loads(store_col_str(st, 2), 0, NULL);
			if (*values == NULL)
				*values = json_object();
			found = 1;
		}
	}
	sqlite3_finalize(st);
	return found;
}

static json_t *param_group_json(const char *name, const char *family, const char *desc,
	const char *region)
{
	char arn[512];

	cluster_arn("cluster-pg", region, name, arn);
	return json_pack("{s:s, s:s, s:s, s:s}", "DBClusterParameterGroupName", name,
		"DBParameterGroupFamily", family, "Description", desc, "DBClusterParameterGroupArn",
		arn);
}

/* A cluster parameter group name: letters, digits and hyphens, first a letter, at most 255. */
static int param_group_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if ((!isalnum((unsigned char)s[i]) && s[i] != '-') || (s[i] == '-' && s[i + 1] == '-'))
			return 0;
	return 1;
}

int cluster_create_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	const char *family = in_str(in, "DBParameterGroupFamily");
	const char *desc = in_str(in, "Description");
	char *name = NULL, *tags = NULL;
	size_t i;
	int ret = -1;
	sqlite3 *db;

	if (required(in, "DBClusterParameterGroupName", err) < 0 ||
		required(in, "DBParameterGroupFamily", err) < 0 || required(in, "Description", err) < 0)
		goto out;
	if (!param_group_name_valid(in_str(in, "DBClusterParameterGroupName"))) {
		cluster_bad(err, "InvalidParameterValue",
			"The parameter DBClusterParameterGroupName is not a valid identifier."
			" Identifiers must begin with a letter; must contain only ASCII letters,"
			" digits, and hyphens; and must not end with a hyphen or contain two"
			" consecutive hyphens.");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (!strcmp(family, families[i]))
			break;
	if (i == ARRAY_SIZE(families)) {
		cluster_bad(err, "InvalidParameterValue",
			"ParameterGroupFamily %s is not a valid parameter group family", family);
		goto out;
	}
	name = lower(in_str(in, "DBClusterParameterGroupName"));
	tags = json_dumps(json_is_array(json_object_get(in, "Tags")) ?
			json_object_get(in, "Tags") : json_array(), JSON_COMPACT);
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (default_family(name) != NULL ||
		row_exists(db, "SELECT 1 FROM docdb_param_group WHERE name = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBParameterGroupAlreadyExists",
			"Parameter group %s already exists", name);
		goto out;
	}
	if (store_run(db,
		    "INSERT INTO docdb_param_group (name, region, family, description, tags) VALUES"
		    " (?, ?, ?, ?, ?)",
		    "sssss", name, req->region, family, desc, tags ? tags : "[]") < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to record the parameter group");
		goto out;
	}
	*out = json_pack("{s:o}", "DBClusterParameterGroup",
		param_group_json(name, family, desc, req->region));
	ret = commit(req, err);
out:
	free(name);
	free(tags);
	return ret;
}

int cluster_describe_db_cluster_parameter_groups(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	static const char *const names[] = { NULL };
	json_t *filters = NULL, *list = NULL;
	char *name = in_name(in, "DBClusterParameterGroupName");
	const char *marker = in_str(in, "Marker");
	sqlite3_stmt *st = NULL;
	long max;
	int more = 0, ret = -1;

	if (cluster_in_filters(in, names, &filters, err) < 0 ||
		cluster_in_max_records(in, &max, err) < 0 || begin(req, err) < 0)
		goto out;
	list = json_array();
	/* the default groups among the users', in name order, so that a Marker is a place */
	if (sqlite3_prepare_v2(store_db(req->srv->store),
		    "SELECT name, family, description, region FROM (SELECT 'default.docdb3.6' AS"
		    " name, 'docdb3.6' AS family, 'Default cluster parameter group for docdb3.6'"
		    " AS description, ?3 AS region UNION ALL SELECT 'default.docdb4.0', 'docdb4.0',"
		    " 'Default cluster parameter group for docdb4.0', ?3 UNION ALL SELECT"
		    " 'default.docdb5.0', 'docdb5.0', 'Default cluster parameter group for"
		    " docdb5.0', ?3 UNION ALL SELECT name, family, description, region FROM"
		    " docdb_param_group) WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR"
		    " name > ?2) ORDER BY name",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, marker, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, req->region, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(list,
				param_group_json(store_col_str(st, 0), store_col_str(st, 1),
					store_col_str(st, 2), store_col_str(st, 3)));
	}
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (name != NULL && json_array_size(list) == 0) {
		cluster_bad(err, "DBParameterGroupNotFound",
			"DBClusterParameterGroup not found: %s", name);
		goto out;
	}
	if (json_array_size(list) > (size_t)max) {
		more = 1;
		while (json_array_size(list) > (size_t)max)
			json_array_remove(list, json_array_size(list) - 1);
	}
	*out = json_pack("{s:O}", "DBClusterParameterGroups", list);
	if (more)
		json_object_set(*out, "Marker", json_object_get(json_array_get(list,
			json_array_size(list) - 1), "DBClusterParameterGroupName"));
	ret = 0;
out:
	json_decref(filters);
	json_decref(list);
	free(name);
	return ret;
}

/* Whether value is one a parameter takes. */
static int param_value_valid(const struct param_def *p, const char *value)
{
	if (!strcmp(p->type, "string")) {
		const char *a = p->allowed;
		size_t n = strlen(value);

		while (a != NULL && *a) {
			const char *comma = strchr(a, ',');
			size_t len = comma ? (size_t)(comma - a) : strlen(a);

			if (len == n && !strncmp(a, value, n))
				return 1;
			a = comma ? comma + 1 : NULL;
		}
		return 0;
	}
	{
		char *end = NULL;
		double lo, hi, v = strtod(value, &end);

		if (end == value || *end != '\0' || isnan(v))
			return 0;
		if (!strcmp(p->type, "integer") && strspn(value, "0123456789") != strlen(value))
			return 0;
		if (sscanf(p->allowed, "%lf-%lf", &lo, &hi) != 2)
			return 0;
		return v >= lo && v <= hi;
	}
}

static const struct param_def *param_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ARRAY_SIZE(params); i++)
		if (!strcmp(params[i].name, name))
			return &params[i];
	return NULL;
}

int cluster_describe_db_cluster_parameters(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	char *name = in_name(in, "DBClusterParameterGroupName");
	const char *source = in_str(in, "Source");
	char *family = NULL, *desc = NULL;
	json_t *values = NULL, *list = NULL;
	size_t i;
	int ret = -1, found;

	if (required(in, "DBClusterParameterGroupName", err) < 0 || begin(req, err) < 0)
		goto out;
	found = param_group_get(store_db(req->srv->store), name, &family, &desc, &values);
	store_rollback(req->srv->store);
	if (!found) {
		cluster_bad(err, "DBParameterGroupNotFound",
			"DBClusterParameterGroup not found: %s", name);
		goto out;
	}
	list = json_array();
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		const char *set = json_string_value(json_object_get(values, params[i].name));
		const char *src = set ? "user" : "system";

		if (source != NULL && strcmp(source, src) && strcmp(source, "engine-default"))
			continue;
		if (source != NULL && !strcmp(source, "engine-default") && set != NULL)
			continue;
		json_array_append_new(list,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}",
				"ParameterName", params[i].name, "ParameterValue",
				set ? set : params[i].value, "Description", params[i].description,
				"Source", src, "ApplyType", params[i].apply, "DataType",
				params[i].type, "AllowedValues", params[i].allowed, "IsModifiable", 1,
				"ApplyMethod",
				!strcmp(params[i].apply, "static") ? "pending-reboot" : "immediate",
				"MinimumEngineVersion", "3.6.0"));
	}
	*out = json_pack("{s:O}", "Parameters", list);
	ret = 0;
out:
	json_decref(values);
	json_decref(list);
	free(name);
	free(family);
	free(desc);
	return ret;
}

/* Modify (reset 0) or reset (1) a group's parameters; reset_all only with reset. */
static int param_group_change(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int reset)
{
	char *name = in_name(in, "DBClusterParameterGroupName");
	json_t *changes = json_object_get(in, "Parameters"), *values = NULL, *v;
	char *family = NULL, *desc = NULL, *text = NULL;
	size_t i;
	int ret = -1;
	sqlite3 *db;

	if (required(in, "DBClusterParameterGroupName", err) < 0)
		goto out;
	if (!reset && json_array_size(changes) == 0) {
		cluster_bad(err, "MissingParameter", "The request must contain the parameter Parameters");
		goto out;
	}
	if (reset && json_is_true(json_object_get(in, "ResetAllParameters")) ==
			(json_array_size(changes) > 0)) {
		cluster_bad(err, "InvalidParameterCombination",
			"Exactly one of ResetAllParameters and Parameters must be given.");
		goto out;
	}
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (!param_group_get(db, name, &family, &desc, &values)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBParameterGroupNotFound",
			"DBClusterParameterGroup not found: %s", name);
		goto out;
	}
	if (default_family(name) != NULL) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidParameterValue",
			"The parameter group %s is a default group and cannot be modified.", name);
		goto out;
	}
	if (reset && json_array_size(changes) == 0)
		json_object_clear(values);
	json_array_foreach(changes, i, v)
	{
		const char *pname = in_str(v, "ParameterName"), *value = in_str(v, "ParameterValue");
		const struct param_def *p = param_find(pname);

		if (p == NULL) {
			store_rollback(req->srv->store);
			cluster_bad(err, "InvalidParameterValue",
				"Could not find parameter with name: %s", pname ? pname : "");
			goto out;
		}
		if (reset) {
			json_object_del(values, pname);
			continue;
		}
		if (value == NULL || !param_value_valid(p, value)) {
			store_rollback(req->srv->store);
			cluster_bad(err, "InvalidParameterValue",
				"Value: %s is not allowed for: %s. Allowed values: %s", value ? value : "",
				pname, p->allowed);
			goto out;
		}
		json_object_set_new(values, pname, json_string(value));
	}
	text = json_dumps(values, JSON_COMPACT | JSON_SORT_KEYS);
	if (store_run(db, "UPDATE docdb_param_group SET params = ? WHERE name = ?", "ss",
		    text ? text : "{}", name) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to update the parameter group");
		goto out;
	}
	*out = json_pack("{s:s}", "DBClusterParameterGroupName", name);
	ret = commit(req, err);
out:
	json_decref(values);
	free(name);
	free(family);
	free(desc);
	free(text);
	return ret;
}

int cluster_modify_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	return param_group_change(req, in, out, err, 0);
}

int cluster_reset_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	return param_group_change(req, in, out, err, 1);
}

int cluster_delete_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err)
{
	char *name = NULL;
	int ret = -1;
	sqlite3 *db;

	(void)out;
	if (required(in, "DBClusterParameterGroupName", err) < 0)
		return -1;
	name = in_name(in, "DBClusterParameterGroupName");
	if (default_family(name) != NULL) {
		cluster_bad(err, "InvalidDBParameterGroupState",
			"Default parameter group %s cannot be deleted.", name);
		goto out;
	}
	if (begin(req, err) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (!row_exists(db, "SELECT 1 FROM docdb_param_group WHERE name = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "DBParameterGroupNotFound", "DBClusterParameterGroup not found: %s",
			name);
		goto out;
	}
	if (row_exists(db, "SELECT 1 FROM docdb_cluster WHERE lower(param_group) = ?", name)) {
		store_rollback(req->srv->store);
		cluster_bad(err, "InvalidDBParameterGroupState",
			"Cannot delete the parameter group %s because it is in use by a cluster.",
			name);
		goto out;
	}
	if (store_run(db, "DELETE FROM docdb_param_group WHERE name = ?", "s", name) < 0) {
		store_rollback(req->srv->store);
		cluster_internal(err, "unable to delete the parameter group");
		goto out;
	}
	ret = commit(req, err);
out:
	free(name);
	return ret;
}
