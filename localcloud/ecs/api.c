/*
 * ecs/api.c: ECS's API handlers (JSON 1.1, AmazonEC2ContainerServiceV20141113):
 * clusters, task definitions, services and tasks.  A handler records
 * intent in the store and answers at once; the supervisor
 * (scheduler.c, tasks.c) makes it so.
 * See internal.h for the picture: ECS as a whole is described there.
 *
 * Every operation is a typed handler on the codec (codec-glue.h): values
 * in, values out, no wire format written here.  Each runs in one store
 * transaction (ecs_run).
 */
#include "compat.h"

#include <jansson.h>
#include <sqlite3.h>

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/codec-glue.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "internal.h"

/* ------------------------------------------------------------------ */
/* the API                                                            */


/* a 400 error of the call c (codec_error_set checks the format) */
#define ecs_bad(c, code, ...) codec_error_set((c)->err, 400, (code), __VA_ARGS__)

static int ecs_internal(struct lc_call *c, const char *what)
{
	lc_log("ecs: %s: %s", what, sqlite3_errmsg(c->db));
	return codec_error_set(c->err, 500, "ServerException", "an internal error occurred");
}

/*
 * Run fn in a store transaction: *out its output when it returns 0.  A
 * write that failed (store_write_failed) makes the call fail and rolls it
 * back: never a success for what was not stored.
 */
static int ecs_run(struct lc_request *req, const json_t *in, json_t **out, struct codec_error *err,
	int (*fn)(struct lc_call *c))
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServerException", fn);
}

/* input members, typed by the codec; a missing required one worded as before */
static int in_str(struct lc_call *c, const char *key, int required, const char **out)
{
	*out = json_string_value(json_object_get(c->in, key));
	if (*out == NULL && required)
		return ecs_bad(c, "InvalidParameterException", "%s must be specified.", key);
	return 0;
}

/* *present 0 when not given (*out then untouched), 1 with *out set */
static void in_int(const json_t *o, const char *key, long long *out, int *present)
{
	json_t *v = json_object_get(o, key);

	*present = v != NULL;
	if (v != NULL)
		*out = (long long)json_integer_value(v);
}

/* cluster by name or ARN ("default" when absent); *arn freed by the caller */
static int cluster_find(struct lc_call *c, const char *ident, char **arn)
{
	sqlite3_stmt *st = NULL;
	const char *name = arn_tail(ident ? ident : "default");

	*arn = NULL;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn FROM ecs_cluster WHERE name = ? AND status = 'ACTIVE'", -1, &st,
		    NULL) != SQLITE_OK)
		return ecs_internal(c, "cluster");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*arn = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (*arn == NULL)
		return ecs_bad(c, "ClusterNotFoundException", "Cluster not found.");
	return 0;
}

static json_t *cluster_json(sqlite3 *db, const char *arn, const char *name, const char *status)
{
	sqlite3_stmt *st = NULL;
	long long running = 0, pending = 0, services = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT (SELECT count(*) FROM ecs_task WHERE cluster = ?1 AND last_status = "
		    "'RUNNING'), (SELECT count(*) FROM ecs_task WHERE cluster = ?1 AND last_status "
		    "= 'PROVISIONING'), (SELECT count(*) FROM ecs_service WHERE cluster = ?1 AND "
		    "status = 'ACTIVE')",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			running = sqlite3_column_int64(st, 0);
			pending = sqlite3_column_int64(st, 1);
			services = sqlite3_column_int64(st, 2);
		}
		sqlite3_finalize(st);
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:[], s:[], s:[], s:[]}",
		"clusterArn", arn, "clusterName", name, "status", status,
		"registeredContainerInstancesCount", (json_int_t)0, "runningTasksCount",
		(json_int_t)running, "pendingTasksCount", (json_int_t)pending,
		"activeServicesCount", (json_int_t)services, "statistics", "tags", "settings",
		"capacityProviders");
}

static int create_cluster(struct lc_call *c)
{
	const char *name;
	char *arn = NULL;
	size_t i, n;

	if (in_str(c, "clusterName", 0, &name) < 0)
		return -1;
	if (name == NULL)
		name = "default";
	n = strlen(name);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
			    (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_'))
			break;
	if (n == 0 || n > 255 || i < n)
		return ecs_bad(c, "InvalidParameterException",
			"Cluster name '%s' is invalid: up to 255 letters, numbers, hyphens and "
			"underscores",
			name);
	arn = xasprintf("arn:aws:ecs:%s:%s:cluster/%s", c->req->region, ECS_ACCOUNT, name);
	/* creating an existing cluster returns it, as ECS does */
	store_run(c->db,
		"INSERT INTO ecs_cluster (name, arn, status, created) VALUES (?, ?, 'ACTIVE', ?) "
		"ON CONFLICT (name) DO UPDATE SET status = 'ACTIVE'",
		"ssd", name, arn, c->now);
	free(arn);
	{
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(c->db, "SELECT arn FROM ecs_cluster WHERE name = ?", -1, &st,
			    NULL) != SQLITE_OK)
			return ecs_internal(c, "cluster");
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(c->out, "cluster",
				cluster_json(c->db, store_col_str(st, 0), name, "ACTIVE"));
		sqlite3_finalize(st);
	}
	return 0;
}

static int describe_clusters(struct lc_call *c)
{
	json_t *names = json_object_get(c->in, "clusters"), *dflt = NULL, *v;
	json_t *list = json_array(), *failures = json_array();
	size_t i;

	json_object_set_new(c->out, "clusters", list);
	json_object_set_new(c->out, "failures", failures);
	if (json_array_size(names) == 0)
		names = dflt = json_pack("[s]", "default");
	json_array_foreach(names, i, v)
	{
		sqlite3_stmt *st = NULL;
		const char *ident = json_string_value(v);

		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn, name, status FROM ecs_cluster WHERE name = ?", -1, &st,
			    NULL) != SQLITE_OK) {
			json_decref(dflt);
			return ecs_internal(c, "clusters");
		}
		sqlite3_bind_text(st, 1, arn_tail(ident), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(list, cluster_json(c->db, store_col_str(st, 0),
							    store_col_str(st, 1), store_col_str(st, 2)));
		else
			json_array_append_new(failures,
				json_pack("{s:s, s:s}", "arn", ident, "reason", "MISSING"));
		sqlite3_finalize(st);
	}
	json_decref(dflt);
	return 0;
}

/* nextToken: an offset into an ordered listing */
static int in_page(struct lc_call *c, long long *offset, long long *max)
{
	const char *tok;
	int present;

	*offset = 0;
	*max = 100;
	if (in_str(c, "nextToken", 0, &tok) < 0)
		return -1;
	in_int(c->in, "maxResults", max, &present);
	if (present && (*max < 1 || *max > 100))
		return ecs_bad(
			c, "InvalidParameterException", "maxResults must be between 1 and 100.");
	if (tok != NULL) {
		char *end = NULL;

		*offset = strtoll(tok, &end, 10);
		if (end == tok || *end != '\0' || *offset < 0)
			return ecs_bad(c, "InvalidParameterException", "Invalid nextToken.");
	}
	return 0;
}

/* Append the first column of each row to a new array member key (paged). */
static int list_column(
	struct lc_call *c, sqlite3_stmt *st, const char *key, long long offset, long long max)
{
	json_t *arr = json_array();
	long long n = 0;

	json_object_set_new(c->out, key, arr);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ < offset)
			continue;
		if ((long long)json_array_size(arr) == max) {
			char t[32];

			snprintf(t, sizeof(t), "%lld", offset + max);
			json_object_set_new(c->out, "nextToken", json_string(t));
			break;
		}
		json_array_append_new(arr, json_string(store_col_str(st, 0)));
	}
	sqlite3_finalize(st);
	return 0;
}

static int list_clusters(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	long long offset, max;

	if (in_page(c, &offset, &max) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn FROM ecs_cluster WHERE status = 'ACTIVE' ORDER BY name", -1, &st,
		    NULL) != SQLITE_OK)
		return ecs_internal(c, "list clusters");
	return list_column(c, st, "clusterArns", offset, max);
}

static int delete_cluster(struct lc_call *c)
{
	const char *ident;
	char *arn = NULL;
	sqlite3_stmt *st = NULL;
	long long services = 0, tasks = 0;
	int ret = -1;

	if (in_str(c, "cluster", 1, &ident) < 0 || cluster_find(c, ident, &arn) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT (SELECT count(*) FROM ecs_service WHERE cluster = ?1 AND status != "
		    "'INACTIVE'), (SELECT count(*) FROM ecs_task WHERE cluster = ?1 AND "
		    "last_status "
		    "!= 'STOPPED')",
		    -1, &st, NULL) != SQLITE_OK) {
		ecs_internal(c, "delete cluster");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		services = sqlite3_column_int64(st, 0);
		tasks = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (services > 0) {
		ecs_bad(c, "ClusterContainsServicesException",
			"The Cluster cannot be deleted while Services are active.");
		goto out;
	}
	if (tasks > 0) {
		ecs_bad(c, "ClusterContainsTasksException",
			"The Cluster cannot be deleted while Tasks are active.");
		goto out;
	}
	store_run(c->db, "UPDATE ecs_cluster SET status = 'INACTIVE' WHERE arn = ?", "s", arn);
	json_object_set_new(c->out, "cluster", cluster_json(c->db, arn, arn_tail(arn), "INACTIVE"));
	ret = 0;
out:
	free(arn);
	return ret;
}

/* task definitions */

static int name_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * A task definition by ARN, family:revision or family (its latest ACTIVE
 * revision).  0 found (*arn, *body owned by the caller), 1 not found, -1
 * internal error (replied).
 */
static int taskdef_find(struct lc_call *c, const char *ident, char **arn, json_t **body)
{
	sqlite3_stmt *st = NULL;
	const char *colon;
	char *family = NULL;
	int ret = 1;

	*arn = NULL;
	*body = NULL;
	if (!strncmp(ident, "arn:", 4)) {
		if (sqlite3_prepare_v2(c->db, "SELECT arn FROM ecs_taskdef WHERE arn = ?", -1, &st,
			    NULL) != SQLITE_OK)
			return ecs_internal(c, "task definition");
		sqlite3_bind_text(st, 1, ident, -1, SQLITE_TRANSIENT);
	} else if ((colon = strchr(ident, ':')) != NULL) {
		char *end = NULL;
		long long rev = strtoll(colon + 1, &end, 10);

		if (end == colon + 1 || *end != '\0')
			return 1;
		family = xstrndup(ident, (size_t)(colon - ident));
		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn FROM ecs_taskdef WHERE family = ? AND revision = ?", -1,
			    &st, NULL) != SQLITE_OK) {
			free(family);
			return ecs_internal(c, "task definition");
		}
		sqlite3_bind_text(st, 1, family, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, rev);
	} else {
		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn FROM ecs_taskdef WHERE family = ? AND status = 'ACTIVE' "
			    "ORDER BY revision DESC LIMIT 1",
			    -1, &st, NULL) != SQLITE_OK)
			return ecs_internal(c, "task definition");
		sqlite3_bind_text(st, 1, ident, -1, SQLITE_TRANSIENT);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		*arn = store_col_text(st, 0);
	sqlite3_finalize(st);
	free(family);
	if (*arn != NULL) {
		if (taskdef_load(c->db, *arn, body) < 0) {
			free(*arn);
			*arn = NULL;
			return ecs_internal(c, "task definition");
		}
		ret = 0;
	}
	return ret;
}

static int container_def_check(struct lc_call *c, json_t *cd, json_t *seen)
{
	const char *name = json_string_value(json_object_get(cd, "name"));
	json_t *hc = json_object_get(cd, "healthCheck"), *sec, *pm, *v;
	size_t i;

	if (name == NULL || !name_valid(name, 255))
		return ecs_bad(c, "ClientException",
			"Container.name should not be null or empty and may contain letters, "
			"numbers, hyphens and underscores.");
	if (json_object_get(seen, name) != NULL)
		return ecs_bad(c, "ClientException", "Duplicate container name '%s'.", name);
	json_object_set_new(seen, name, json_true());
	if (json_object_get(cd, "image") == NULL)
		return ecs_bad(
			c, "ClientException", "Container.image should not be null or empty.");
	/* as on Fargate: at most 120 s, so StopTask and shutdown always end */
	v = json_object_get(cd, "stopTimeout");
	if (v != NULL &&
		(json_integer_value(v) < 0 || json_integer_value(v) > ECS_MAX_STOP_TIMEOUT))
		return ecs_bad(c, "ClientException",
			"Invalid stopTimeout in container '%s': the maximum stop timeout is %d "
			"seconds.",
			name, ECS_MAX_STOP_TIMEOUT);
	if (json_object_get(cd, "essential") == NULL)
		json_object_set_new(cd, "essential", json_true());
	if (json_object_get(cd, "environment") == NULL)
		json_object_set_new(cd, "environment", json_array());
	if (json_object_get(cd, "mountPoints") == NULL)
		json_object_set_new(cd, "mountPoints", json_array());
	if (json_object_get(cd, "volumesFrom") == NULL)
		json_object_set_new(cd, "volumesFrom", json_array());
	json_array_foreach(json_object_get(cd, "portMappings"), i, pm)
	{
		v = json_object_get(pm, "containerPort");
		if (v == NULL || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
			return ecs_bad(c, "ClientException",
				"Invalid containerPort in container '%s'.", name);
		if (json_object_get(pm, "hostPort") == NULL)
			json_object_set(pm, "hostPort", v);
		if (json_object_get(pm, "protocol") == NULL)
			json_object_set_new(pm, "protocol", json_string("tcp"));
	}
	json_array_foreach(json_object_get(cd, "secrets"), i, sec)
	{
		if (json_object_get(sec, "name") == NULL ||
			json_object_get(sec, "valueFrom") == NULL)
			return ecs_bad(c, "ClientException",
				"Secrets of container '%s' need a name and a valueFrom.", name);
	}
	if (hc != NULL) {
		json_t *cmd = json_object_get(hc, "command");
		const char *kind = json_string_value(json_array_get(cmd, 0));

		if (kind == NULL || json_array_size(cmd) < 2 ||
			(strcmp(kind, "CMD") && strcmp(kind, "CMD-SHELL")))
			return ecs_bad(c, "ClientException",
				"healthCheck.command of container '%s' must start with CMD or "
				"CMD-SHELL and have a command.",
				name);
		/* ECS's defaults; shorter intervals than ECS allows are accepted (tests) */
		if (json_object_get(hc, "interval") == NULL)
			json_object_set_new(hc, "interval", json_integer(30));
		if (json_object_get(hc, "timeout") == NULL)
			json_object_set_new(hc, "timeout", json_integer(5));
		if (json_object_get(hc, "retries") == NULL)
			json_object_set_new(hc, "retries", json_integer(3));
	}
	return 0;
}

static int register_task_definition(struct lc_call *c)
{
	const char *family;
	json_t *body = NULL, *cdefs, *cd, *seen = json_object();
	sqlite3_stmt *st = NULL;
	long long rev = 1;
	char *arn = NULL, *text = NULL;
	size_t i;
	int ret = -1;

	if (in_str(c, "family", 1, &family) < 0)
		goto out;
	if (!name_valid(family, 255)) {
		ecs_bad(c, "ClientException",
			"Family contains invalid characters: up to 255 letters (uppercase and "
			"lowercase), numbers, hyphens, and underscores are allowed.");
		goto out;
	}
	cdefs = json_object_get(c->in, "containerDefinitions");
	if (json_array_size(cdefs) == 0) {
		ecs_bad(c, "ClientException", "Container list cannot be empty.");
		goto out;
	}
	body = json_deep_copy(c->in);
	json_object_del(body, "tags");
	json_array_foreach(json_object_get(body, "containerDefinitions"), i, cd)
	{
		if (container_def_check(c, cd, seen) < 0)
			goto out;
	}
	if (sqlite3_prepare_v2(c->db,
		    "SELECT coalesce(max(revision), 0) + 1 FROM ecs_taskdef WHERE family = ?", -1,
		    &st, NULL) != SQLITE_OK) {
		ecs_internal(c, "register");
		goto out;
	}
	sqlite3_bind_text(st, 1, family, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		rev = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	arn = xasprintf("arn:aws:ecs:%s:%s:task-definition/%s:%lld", c->req->region, ECS_ACCOUNT,
		family, rev);
	json_object_set_new(body, "taskDefinitionArn", json_string(arn));
	json_object_set_new(body, "revision", json_integer(rev));
	json_object_set_new(body, "registeredAt", json_time(c->now));
	json_object_set_new(body, "requiresAttributes", json_array());
	json_object_set_new(body, "compatibilities", json_pack("[s, s]", "EC2", "FARGATE"));
	if (json_object_get(body, "networkMode") == NULL)
		json_object_set_new(body, "networkMode", json_string("awsvpc"));
	if (json_object_get(body, "volumes") == NULL)
		json_object_set_new(body, "volumes", json_array());
	json_object_set_new(body, "status", json_string("ACTIVE"));
	text = json_dumps(body, JSON_COMPACT);
	if (store_run(c->db,
		    "INSERT INTO ecs_taskdef (family, revision, arn, status, body, registered) "
		    "VALUES (?, ?, ?, 'ACTIVE', ?, ?)",
		    "sissd", family, rev, arn, text, c->now) < 0) {
		ecs_internal(c, "register");
		goto out;
	}
	json_object_set_new(c->out, "taskDefinition", body);
	body = NULL;
	json_object_set_new(c->out, "tags", json_array());
	ret = 0;
out:
	json_decref(body);
	json_decref(seen);
	free(arn);
	free(text);
	return ret;
}

static int describe_task_definition(struct lc_call *c)
{
	const char *ident;
	char *arn = NULL;
	json_t *body = NULL;
	int r;

	if (in_str(c, "taskDefinition", 1, &ident) < 0)
		return -1;
	r = taskdef_find(c, ident, &arn, &body);
	if (r < 0)
		return -1;
	if (r > 0)
		return ecs_bad(c, "ClientException", "Unable to describe task definition.");
	json_object_set_new(c->out, "taskDefinition", body);
	json_object_set_new(c->out, "tags", json_array());
	free(arn);
	return 0;
}

static int deregister_task_definition(struct lc_call *c)
{
	const char *ident;
	char *arn = NULL;
	json_t *body = NULL;
	int r;

	if (in_str(c, "taskDefinition", 1, &ident) < 0)
		return -1;
	if (strncmp(ident, "arn:", 4) && strchr(ident, ':') == NULL)
		return ecs_bad(c, "ClientException",
			"Invalid revision number. Number: %s (give family:revision or an ARN)",
			ident);
	r = taskdef_find(c, ident, &arn, &body);
	if (r < 0)
		return -1;
	if (r > 0)
		return ecs_bad(
			c, "ClientException", "The specified task definition does not exist.");
	store_run(c->db,
		"UPDATE ecs_taskdef SET status = 'INACTIVE', deregistered = coalesce(deregistered, "
		"?) "
		"WHERE arn = ?",
		"ds", c->now, arn);
	json_object_set_new(body, "status", json_string("INACTIVE"));
	json_object_set_new(body, "deregisteredAt", json_time(c->now));
	json_object_set_new(c->out, "taskDefinition", body);
	free(arn);
	return 0;
}

static int list_task_definitions(struct lc_call *c)
{
	const char *family, *status, *sort;
	sqlite3_stmt *st = NULL;
	long long offset, max;
	char *sql;
	int desc;

	if (in_str(c, "familyPrefix", 0, &family) < 0 || in_str(c, "status", 0, &status) < 0 ||
		in_str(c, "sort", 0, &sort) < 0 || in_page(c, &offset, &max) < 0)
		return -1;
	if (status == NULL)
		status = "ACTIVE";
	if (strcmp(status, "ACTIVE") && strcmp(status, "INACTIVE") &&
		strcmp(status, "DELETE_IN_PROGRESS"))
		return ecs_bad(c, "InvalidParameterException",
			"status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.");
	if (sort != NULL && strcmp(sort, "ASC") && strcmp(sort, "DESC"))
		return ecs_bad(c, "InvalidParameterException", "sort must be ASC or DESC.");
	desc = sort != NULL && !strcmp(sort, "DESC");
	/* familyPrefix is the full family name, as ECS documents it */
	sql = xasprintf(
		"SELECT arn FROM ecs_taskdef WHERE status = ?1 AND (?2 IS NULL OR family = ?2) "
		"ORDER BY family %s, revision %s",
		desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return ecs_internal(c, "list task definitions");
	}
	free(sql);
	sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
	if (family != NULL)
		sqlite3_bind_text(st, 2, family, -1, SQLITE_TRANSIENT);
	return list_column(c, st, "taskDefinitionArns", offset, max);
}

static int list_task_definition_families(struct lc_call *c)
{
	const char *prefix, *status;
	sqlite3_stmt *st = NULL;
	long long offset, max;

	if (in_str(c, "familyPrefix", 0, &prefix) < 0 || in_str(c, "status", 0, &status) < 0 ||
		in_page(c, &offset, &max) < 0)
		return -1;
	if (status == NULL)
		status = "ALL";
	if (sqlite3_prepare_v2(c->db,
		    "SELECT family FROM ecs_taskdef WHERE substr(family, 1, length(?1)) = ?1 "
		    "GROUP BY family HAVING ?2 = 'ALL' OR (?2 = 'ACTIVE' AND "
		    "sum(status = 'ACTIVE') > 0) OR (?2 = 'INACTIVE' AND sum(status = 'ACTIVE') = "
		    "0) "
		    "ORDER BY family",
		    -1, &st, NULL) != SQLITE_OK)
		return ecs_internal(c, "list families");
	sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
	return list_column(c, st, "families", offset, max);
}

/* services */

static json_t *service_json(sqlite3 *db, const char *arn)
{
	sqlite3_stmt *st = NULL;
	json_t *svc = NULL, *deps = json_array(), *events = json_array(), *extra = NULL;
	long long running_total = 0, pending_total = 0;
	struct ecs_dep *d = NULL;
	size_t n = 0, i;
	int min_h = 100, max_p = 200, cb_e = 0, cb_r = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT name, cluster, status, taskdef, desired, min_healthy, max_percent, "
		    "cb_enable, cb_rollback, extra, created FROM ecs_service WHERE arn = ?",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	min_h = sqlite3_column_int(st, 5);
	max_p = sqlite3_column_int(st, 6);
	cb_e = sqlite3_column_int(st, 7);
	cb_r = sqlite3_column_int(st, 8);
	extra = json_loads(store_col_str(st, 9), 0, NULL);
	svc = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:s, s:{s:s}, s:{s:I, s:I, s:{s:b, "
		"s:b}}}",
		"serviceArn", arn, "serviceName", store_col_str(st, 0), "clusterArn", store_col_str(st, 1),
		"status", store_col_str(st, 2), "taskDefinition", store_col_str(st, 3), "desiredCount",
		(json_int_t)sqlite3_column_int64(st, 4), "createdAt",
		json_time(sqlite3_column_double(st, 10)), "launchType", "FARGATE",
		"schedulingStrategy", "REPLICA", "deploymentController", "type", "ECS",
		"deploymentConfiguration", "maximumPercent", (json_int_t)max_p,
		"minimumHealthyPercent", (json_int_t)min_h, "deploymentCircuitBreaker", "enable",
		cb_e, "rollback", cb_r);
	sqlite3_finalize(st);
	st = NULL;
	if (svc == NULL)
		goto out;
	if (json_is_object(extra))
		json_object_update_missing(svc, extra);
	deps_load(db, arn, &d, &n);
	for (i = 0; i < n; i++) {
		json_t *dj;
		double created = 0, updated = 0;
		char *reason = NULL;
		long long pending = d[i].live - d[i].running;

		if (sqlite3_prepare_v2(db,
			    "SELECT created, updated, reason FROM ecs_deployment WHERE id = ?", -1,
			    &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, d[i].id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW) {
				created = sqlite3_column_double(st, 0);
				updated = sqlite3_column_double(st, 1);
				reason = store_col_text(st, 2);
			}
			sqlite3_finalize(st);
			st = NULL;
		}
		dj = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:s, s:s}", "id",
			d[i].id, "status", i == 0 ? "PRIMARY" : "ACTIVE", "taskDefinition", d[i].td,
			"desiredCount",
			(json_int_t)(i == 0 ? json_integer_value(
						      json_object_get(svc, "desiredCount"))
					    : d[i].live),
			"pendingCount", (json_int_t)pending, "runningCount",
			(json_int_t)d[i].running, "failedTasks", (json_int_t)d[i].failed,
			"createdAt", json_time(created), "updatedAt", json_time(updated),
			"launchType", "FARGATE", "rolloutState", d[i].rollout, "rolloutStateReason",
			reason ? reason : "");
		free(reason);
		json_array_append_new(deps, dj);
		running_total += d[i].running;
		pending_total += pending;
	}
	deps_free(d, n);
	json_object_set_new(svc, "deployments", deps);
	deps = NULL;
	json_object_set_new(svc, "runningCount", json_integer(running_total));
	json_object_set_new(svc, "pendingCount", json_integer(pending_total));
	if (sqlite3_prepare_v2(db,
		    "SELECT id, created, message FROM ecs_event WHERE service = ? ORDER BY id DESC "
		    "LIMIT ?",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, ECS_MAX_EVENTS);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char id[32];

			snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
			json_array_append_new(
				events, json_pack("{s:s, s:o, s:s}", "id", id, "createdAt",
						json_time(sqlite3_column_double(st, 1)), "message",
						store_col_str(st, 2)));
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	json_object_set_new(svc, "events", events);
	events = NULL;
out:
	sqlite3_finalize(st);
	json_decref(deps);
	json_decref(events);
	json_decref(extra);
	return svc;
}

/* deploymentConfiguration into the four columns' values */
static int in_deploy_config(
	struct lc_call *c, long long *min_h, long long *max_p, int *cb_e, int *cb_r)
{
	json_t *dc = json_object_get(c->in, "deploymentConfiguration"), *cb;
	int present;

	if (dc == NULL)
		return 0;
	in_int(dc, "minimumHealthyPercent", min_h, &present);
	in_int(dc, "maximumPercent", max_p, &present);
	cb = json_object_get(dc, "deploymentCircuitBreaker");
	if (cb != NULL) {
		*cb_e = json_is_true(json_object_get(cb, "enable"));
		*cb_r = json_is_true(json_object_get(cb, "rollback"));
	}
	if (*min_h < 0 || *min_h > 100)
		return ecs_bad(c, "InvalidParameterException",
			"minimumHealthyPercent must be between 0 and 100.");
	if (*max_p < 100 || *max_p > 200)
		return ecs_bad(c, "InvalidParameterException",
			"maximumPercent must be between 100 and 200.");
	if (*max_p == 100 && *min_h == 100)
		return ecs_bad(c, "InvalidParameterException",
			"maximumPercent and minimumHealthyPercent cannot both be 100: no task "
			"could "
			"be replaced.");
	return 0;
}

static int service_find(struct lc_call *c, const char *cluster_arn, const char *ident, char **arn)
{
	sqlite3_stmt *st = NULL;

	*arn = NULL;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn FROM ecs_service WHERE cluster = ? AND (name = ?2 OR arn = ?2)", -1,
		    &st, NULL) != SQLITE_OK)
		return ecs_internal(c, "service");
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ident, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*arn = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (*arn == NULL)
		return ecs_bad(c, "ServiceNotFoundException", "Service not found.");
	return 0;
}

static int create_service(struct lc_call *c)
{
	const char *cluster, *name, *td_ident;
	char *cluster_arn = NULL, *td_arn = NULL, *arn = NULL, *extra_text = NULL;
	json_t *td = NULL, *extra = json_object();
	long long desired = 0, min_h = 100, max_p = 200;
	int cb_e = 0, cb_r = 0, present, r, ret = -1;
	sqlite3_stmt *st = NULL;
	char dep[40];
	static const char *const echo[] = {"loadBalancers", "networkConfiguration",
		"healthCheckGracePeriodSeconds", "platformVersion", "propagateTags",
		"enableExecuteCommand", "serviceRegistries", "tags"};
	size_t i;

	in_int(c->in, "desiredCount", &desired, &present);
	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "serviceName", 1, &name) < 0 ||
		in_str(c, "taskDefinition", 1, &td_ident) < 0 ||
		in_deploy_config(c, &min_h, &max_p, &cb_e, &cb_r) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0)
		goto out;
	if (!name_valid(name, 255)) {
		ecs_bad(c, "InvalidParameterException", "Service name '%s' is invalid.", name);
		goto out;
	}
	if (desired < 0) {
		ecs_bad(c, "InvalidParameterException", "desiredCount cannot be negative.");
		goto out;
	}
	if (desired > ECS_MAX_TASKS_PER_SERVICE) {
		ecs_bad(c, "InvalidParameterException",
			"desiredCount %lld exceeds the quota of %d tasks per service.", desired,
			ECS_MAX_TASKS_PER_SERVICE);
		goto out;
	}
	if (cluster_service_count(c->db, cluster_arn) >= ECS_MAX_SERVICES_PER_CLUSTER) {
		ecs_bad(c, "ClientException",
			"The cluster has reached the quota of %d services per cluster.",
			ECS_MAX_SERVICES_PER_CLUSTER);
		goto out;
	}
	r = taskdef_find(c, td_ident, &td_arn, &td);
	if (r < 0)
		goto out;
	if (r > 0 || strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE")) {
		ecs_bad(c, "ClientException", "TaskDefinition not found or not ACTIVE: '%s'.",
			td_ident);
		goto out;
	}
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn, status FROM ecs_service WHERE cluster = ? AND name = ?", -1, &st,
		    NULL) != SQLITE_OK) {
		ecs_internal(c, "create service");
		goto out;
	}
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(store_col_str(st, 1), "INACTIVE")) {
			sqlite3_finalize(st);
			ecs_bad(c, "InvalidParameterException",
				"Creation of service was not idempotent.");
			goto out;
		}
		/* a deleted service's name can be used again */
		arn = store_col_text(st, 0);
		store_run(c->db, "DELETE FROM ecs_service WHERE arn = ?", "s", arn);
		store_run(c->db, "DELETE FROM ecs_deployment WHERE service = ?", "s", arn);
		store_run(c->db, "DELETE FROM ecs_event WHERE service = ?", "s", arn);
		free(arn);
	}
	sqlite3_finalize(st);
	arn = xasprintf("arn:aws:ecs:%s:%s:service/%s/%s", c->req->region, ECS_ACCOUNT,
		arn_tail(cluster_arn), name);
	for (i = 0; i < ARRAY_SIZE(echo); i++)
		if (json_object_get(c->in, echo[i]) != NULL)
			json_object_set(extra, echo[i], json_object_get(c->in, echo[i]));
	extra_text = json_dumps(extra, JSON_COMPACT);
	if (store_run(c->db,
		    "INSERT INTO ecs_service (arn, cluster, name, status, taskdef, desired, "
		    "min_healthy, max_percent, cb_enable, cb_rollback, extra, region, created) "
		    "VALUES (?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    "ssssiiiiissd", arn, cluster_arn, name, td_arn, desired, min_h, max_p,
		    (long long)cb_e, (long long)cb_r, extra_text, c->req->region, c->now) < 0) {
		ecs_internal(c, "create service");
		goto out;
	}
	deployment_new(c->db, arn, td_arn, c->now, dep);
	json_object_set_new(c->out, "service", service_json(c->db, arn));
	ret = 0;
out:
	free(cluster_arn);
	free(td_arn);
	free(arn);
	free(extra_text);
	json_decref(td);
	json_decref(extra);
	return ret;
}

static int update_service(struct lc_call *c)
{
	const char *cluster, *ident, *td_ident;
	char *cluster_arn = NULL, *arn = NULL, *td_arn = NULL, *current = NULL, *status = NULL;
	json_t *td = NULL;
	long long desired = 0, min_h, max_p;
	int cb_e, cb_r, has_desired, force, r, ret = -1;
	sqlite3_stmt *st = NULL;

	in_int(c->in, "desiredCount", &desired, &has_desired);
	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "service", 1, &ident) < 0 ||
		in_str(c, "taskDefinition", 0, &td_ident) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0 ||
		service_find(c, cluster_arn, ident, &arn) < 0)
		goto out;
	force = json_is_true(json_object_get(c->in, "forceNewDeployment"));
	if (sqlite3_prepare_v2(c->db,
		    "SELECT status, taskdef, min_healthy, max_percent, cb_enable, cb_rollback FROM "
		    "ecs_service WHERE arn = ?",
		    -1, &st, NULL) != SQLITE_OK) {
		ecs_internal(c, "update service");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	status = store_col_text(st, 0);
	current = store_col_text(st, 1);
	min_h = sqlite3_column_int64(st, 2);
	max_p = sqlite3_column_int64(st, 3);
	cb_e = sqlite3_column_int(st, 4);
	cb_r = sqlite3_column_int(st, 5);
	sqlite3_finalize(st);
	if (status == NULL || strcmp(status, "ACTIVE")) {
		ecs_bad(c, "ServiceNotActiveException", "Service was not ACTIVE.");
		goto out;
	}
	if (in_deploy_config(c, &min_h, &max_p, &cb_e, &cb_r) < 0)
		goto out;
	if (has_desired && desired < 0) {
		ecs_bad(c, "InvalidParameterException", "desiredCount cannot be negative.");
		goto out;
	}
	if (has_desired && desired > ECS_MAX_TASKS_PER_SERVICE) {
		ecs_bad(c, "InvalidParameterException",
			"desiredCount %lld exceeds the quota of %d tasks per service.", desired,
			ECS_MAX_TASKS_PER_SERVICE);
		goto out;
	}
	if (td_ident != NULL) {
		r = taskdef_find(c, td_ident, &td_arn, &td);
		if (r < 0)
			goto out;
		if (r > 0 || strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE")) {
			ecs_bad(c, "ClientException",
				"TaskDefinition not found or not ACTIVE: '%s'.", td_ident);
			goto out;
		}
	}
	store_run(c->db,
		"UPDATE ecs_service SET min_healthy = ?, max_percent = ?, cb_enable = ?, "
		"cb_rollback "
		"= ? WHERE arn = ?",
		"iiiis", min_h, max_p, (long long)cb_e, (long long)cb_r, arn);
	if (has_desired)
		store_run(c->db, "UPDATE ecs_service SET desired = ? WHERE arn = ?", "is", desired,
			arn);
	if ((td_arn != NULL && strcmp(td_arn, current)) || force) {
		char dep[40];
		const char *use = td_arn != NULL ? td_arn : current;

		store_run(
			c->db, "UPDATE ecs_service SET taskdef = ? WHERE arn = ?", "ss", use, arn);
		deployment_new(c->db, arn, use, c->now, dep);
	}
	json_object_set_new(c->out, "service", service_json(c->db, arn));
	ret = 0;
out:
	free(cluster_arn);
	free(arn);
	free(td_arn);
	free(current);
	free(status);
	json_decref(td);
	return ret;
}

static int delete_service(struct lc_call *c)
{
	const char *cluster, *ident;
	char *cluster_arn = NULL, *arn = NULL;
	sqlite3_stmt *st = NULL;
	long long desired = 0;
	int ret = -1;

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "service", 1, &ident) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0 ||
		service_find(c, cluster_arn, ident, &arn) < 0)
		goto out;
	if (sqlite3_prepare_v2(c->db, "SELECT desired, status FROM ecs_service WHERE arn = ?", -1,
		    &st, NULL) != SQLITE_OK) {
		ecs_internal(c, "delete service");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		desired = sqlite3_column_int64(st, 0);
		if (!strcmp(store_col_str(st, 1), "INACTIVE")) {
			sqlite3_finalize(st);
			ecs_bad(c, "ServiceNotActiveException", "Service was not ACTIVE.");
			goto out;
		}
	}
	sqlite3_finalize(st);
	if (desired > 0 && !json_is_true(json_object_get(c->in, "force"))) {
		ecs_bad(c, "InvalidParameterException",
			"The service cannot be stopped while it is scaled above 0.");
		goto out;
	}
	store_run(c->db, "UPDATE ecs_service SET status = 'DRAINING', desired = 0 WHERE arn = ?",
		"s", arn);
	json_object_set_new(c->out, "service", service_json(c->db, arn));
	ret = 0;
out:
	free(cluster_arn);
	free(arn);
	return ret;
}

static int describe_services(struct lc_call *c)
{
	const char *cluster;
	char *cluster_arn = NULL;
	json_t *names = json_object_get(c->in, "services"), *v;
	json_t *list = json_array(), *failures = json_array();
	size_t i;

	json_object_set_new(c->out, "services", list);
	json_object_set_new(c->out, "failures", failures);
	if (in_str(c, "cluster", 0, &cluster) < 0 || cluster_find(c, cluster, &cluster_arn) < 0)
		return -1;
	if (json_array_size(names) == 0 || json_array_size(names) > 10) {
		free(cluster_arn);
		return ecs_bad(c, "InvalidParameterException", "services must hold 1 to 10 names.");
	}
	json_array_foreach(names, i, v)
	{
		sqlite3_stmt *st = NULL;
		const char *ident = json_string_value(v);
		char *arn = NULL;

		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn FROM ecs_service WHERE cluster = ? AND (name = ?2 OR arn = "
			    "?2)",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, ident, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				arn = store_col_text(st, 0);
			sqlite3_finalize(st);
		}
		if (arn != NULL)
			json_array_append_new(list, service_json(c->db, arn));
		else
			json_array_append_new(failures,
				json_pack("{s:s, s:s}", "arn", ident, "reason", "MISSING"));
		free(arn);
	}
	free(cluster_arn);
	return 0;
}

static int list_services(struct lc_call *c)
{
	const char *cluster;
	char *cluster_arn = NULL;
	sqlite3_stmt *st = NULL;
	long long offset, max;

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_page(c, &offset, &max) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn FROM ecs_service WHERE cluster = ? AND status != 'INACTIVE' ORDER "
		    "BY "
		    "name",
		    -1, &st, NULL) != SQLITE_OK) {
		free(cluster_arn);
		return ecs_internal(c, "list services");
	}
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	free(cluster_arn);
	return list_column(c, st, "serviceArns", offset, max);
}

/* tasks */

static json_t *task_json(sqlite3 *db, const char *arn)
{
	sqlite3_stmt *st = NULL;
	json_t *t = NULL, *containers = json_array(), *ov = NULL;
	char *addr = NULL;
	int k;

	if (sqlite3_prepare_v2(db,
		    "SELECT arn, cluster, taskdef, last_status, desired_status, health, grp, "
		    "started_by, addr, overrides, created, started, stopping, stopped, stop_code, "
		    "stopped_reason FROM ecs_task WHERE arn = ?",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	addr = store_col_text(st, 8);
	ov = json_loads(store_col_str(st, 9), 0, NULL);
	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
		"taskArn", store_col_str(st, 0), "clusterArn", store_col_str(st, 1), "taskDefinitionArn",
		store_col_str(st, 2), "lastStatus", store_col_str(st, 3), "desiredStatus", store_col_str(st, 4),
		"healthStatus", store_col_str(st, 5), "group", store_col_str(st, 6), "launchType", "FARGATE",
		"platformVersion", "1.4.0", "createdAt", json_time(sqlite3_column_double(st, 10)),
		"connectivity", "CONNECTED", "cpu", "256", "memory", "512");
	if (t == NULL)
		goto out;
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		json_object_set_new(t, "startedBy", json_string(store_col_str(st, 7)));
	for (k = 11; k <= 13; k++) {
		static const char *const keys[] = {"startedAt", "stoppingAt", "stoppedAt"};

		if (sqlite3_column_type(st, k) != SQLITE_NULL)
			json_object_set_new(
				t, keys[k - 11], json_time(sqlite3_column_double(st, k)));
	}
	if (sqlite3_column_type(st, 14) != SQLITE_NULL)
		json_object_set_new(t, "stopCode", json_string(store_col_str(st, 14)));
	if (sqlite3_column_type(st, 15) != SQLITE_NULL)
		json_object_set_new(t, "stoppedReason", json_string(store_col_str(st, 15)));
	json_object_set_new(t, "overrides",
		json_is_object(ov) ? json_incref(ov) : json_pack("{s:[]}", "containerOverrides"));
	if (json_object_get(json_object_get(t, "overrides"), "containerOverrides") == NULL)
		json_object_set_new(
			json_object_get(t, "overrides"), "containerOverrides", json_array());
	json_object_set_new(t, "attachments",
		json_pack("[{s:s, s:s, s:s, s:[{s:s, s:s}]}]", "id", "eni-local", "type",
			"ElasticNetworkInterface", "status", "ATTACHED", "details", "name",
			"privateIPv4Address", "value", addr));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db,
		    "SELECT name, image, digest, last_status, exit_code, reason, health, essential "
		    "FROM ecs_container WHERE task = ? ORDER BY rowid",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *carn = xasprintf("%s/%s", arn, store_col_str(st, 0));
		json_t *cj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s}]}", "containerArn",
			carn, "taskArn", arn, "name", store_col_str(st, 0), "image", store_col_str(st, 1),
			"lastStatus", store_col_str(st, 3), "healthStatus", store_col_str(st, 6),
			"networkInterfaces", "privateIpv4Address", addr);

		free(carn);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			json_object_set_new(cj, "imageDigest", json_string(store_col_str(st, 2)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(
				cj, "exitCode", json_integer(sqlite3_column_int64(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(cj, "reason", json_string(store_col_str(st, 5)));
		json_array_append_new(containers, cj);
	}
	json_object_set_new(t, "containers", containers);
	containers = NULL;
out:
	sqlite3_finalize(st);
	json_decref(containers);
	json_decref(ov);
	free(addr);
	return t;
}

static int task_find(struct lc_call *c, const char *cluster_arn, const char *ident, char **arn)
{
	sqlite3_stmt *st = NULL;

	*arn = NULL;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn FROM ecs_task WHERE cluster = ? AND (id = ?2 OR arn = ?2)", -1, &st,
		    NULL) != SQLITE_OK)
		return ecs_internal(c, "task");
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, arn_tail(ident), -1, SQLITE_TRANSIENT);
	if (strncmp(ident, "arn:", 4) == 0)
		sqlite3_bind_text(st, 2, ident, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*arn = store_col_text(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int run_task(struct lc_call *c)
{
	const char *cluster, *td_ident, *started_by, *group;
	char *cluster_arn = NULL, *td_arn = NULL, *ov_text = NULL, *grp = NULL;
	json_t *td = NULL, *ov = json_object_get(c->in, "overrides"), *tasks = json_array();
	long long count = 1, k;
	int present, r, ret = -1;

	json_object_set_new(c->out, "tasks", tasks);
	json_object_set_new(c->out, "failures", json_array());
	in_int(c->in, "count", &count, &present);
	if (in_str(c, "cluster", 0, &cluster) < 0 ||
		in_str(c, "taskDefinition", 1, &td_ident) < 0 ||
		in_str(c, "startedBy", 0, &started_by) < 0 || in_str(c, "group", 0, &group) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0)
		goto out;
	if (count < 1 || count > 10) {
		ecs_bad(c, "InvalidParameterException", "count must be between 1 and 10.");
		goto out;
	}
	r = taskdef_find(c, td_ident, &td_arn, &td);
	if (r < 0)
		goto out;
	if (r > 0 || strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE")) {
		ecs_bad(c, "ClientException", "TaskDefinition not found or not ACTIVE: '%s'.",
			td_ident);
		goto out;
	}
	{
		/* overrides must name containers of the task definition */
		json_t *co;
		size_t i, j;

		json_array_foreach(json_object_get(ov, "containerOverrides"), i, co)
		{
			const char *n = json_string_value(json_object_get(co, "name"));
			json_t *cd;
			int found = 0;

			json_array_foreach(json_object_get(td, "containerDefinitions"), j, cd)
				found |= n != NULL &&
					 !strcmp(n, json_string_value(json_object_get(cd, "name")));
			if (!found) {
				ecs_bad(c, "InvalidParameterException",
					"Override for container named %s is not a container in the "
					"TaskDefinition.",
					n ? n : "(none)");
				goto out;
			}
		}
	}
	ov_text = ov != NULL ? json_dumps(ov, JSON_COMPACT) : xstrdup("{}");
	grp = group != NULL
		      ? xstrdup(group)
		      : xasprintf("family:%s", json_string_value(json_object_get(td, "family")));
	for (k = 0; k < count; k++) {
		char *arn;

		if (task_create(c->db, c->req->region, cluster_arn, td, grp, started_by, NULL, NULL,
			    ov_text, c->now, &arn) < 0) {
			ecs_internal(c, "run task");
			goto out;
		}
		json_array_append_new(tasks, task_json(c->db, arn));
		free(arn);
	}
	ret = 0;
out:
	free(cluster_arn);
	free(td_arn);
	free(ov_text);
	free(grp);
	json_decref(td);
	return ret;
}

static int describe_tasks(struct lc_call *c)
{
	const char *cluster;
	char *cluster_arn = NULL;
	json_t *ids = json_object_get(c->in, "tasks"), *v;
	json_t *list = json_array(), *failures = json_array();
	size_t i;

	json_object_set_new(c->out, "tasks", list);
	json_object_set_new(c->out, "failures", failures);
	if (in_str(c, "cluster", 0, &cluster) < 0 || cluster_find(c, cluster, &cluster_arn) < 0)
		return -1;
	if (json_array_size(ids) == 0 || json_array_size(ids) > 100) {
		free(cluster_arn);
		return ecs_bad(c, "InvalidParameterException", "tasks must hold 1 to 100 ids.");
	}
	json_array_foreach(ids, i, v)
	{
		const char *ident = json_string_value(v);
		char *arn = NULL;

		if (task_find(c, cluster_arn, ident, &arn) < 0) {
			free(cluster_arn);
			return -1;
		}
		if (arn != NULL)
			json_array_append_new(list, task_json(c->db, arn));
		else
			json_array_append_new(failures,
				json_pack("{s:s, s:s}", "arn", ident, "reason", "MISSING"));
		free(arn);
	}
	free(cluster_arn);
	return 0;
}

static int list_tasks(struct lc_call *c)
{
	const char *cluster, *service, *family, *desired, *started_by;
	char *cluster_arn = NULL, *service_arn = NULL;
	sqlite3_stmt *st = NULL;
	long long offset, max;
	int ret = -1;

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "serviceName", 0, &service) < 0 ||
		in_str(c, "family", 0, &family) < 0 ||
		in_str(c, "desiredStatus", 0, &desired) < 0 ||
		in_str(c, "startedBy", 0, &started_by) < 0 || in_page(c, &offset, &max) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0)
		goto out;
	if (service != NULL && service_find(c, cluster_arn, service, &service_arn) < 0)
		goto out;
	if (desired == NULL)
		desired = "RUNNING";
	if (strcmp(desired, "RUNNING") && strcmp(desired, "PENDING") &&
		strcmp(desired, "STOPPED")) {
		ecs_bad(c, "InvalidParameterException",
			"desiredStatus must be RUNNING, PENDING or STOPPED.");
		goto out;
	}
	if (sqlite3_prepare_v2(c->db,
		    "SELECT t.arn FROM ecs_task t JOIN ecs_taskdef d ON d.arn = t.taskdef "
		    "WHERE t.cluster = ?1 AND (?2 IS NULL OR t.service = ?2) AND (?3 IS NULL OR "
		    "d.family = ?3) AND (?5 IS NULL OR t.started_by = ?5) AND "
		    "(t.desired_status = ?4 OR (?4 = 'PENDING' AND t.last_status = "
		    "'PROVISIONING')) "
		    "ORDER BY t.seq",
		    -1, &st, NULL) != SQLITE_OK) {
		ecs_internal(c, "list tasks");
		goto out;
	}
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	if (service_arn != NULL)
		sqlite3_bind_text(st, 2, service_arn, -1, SQLITE_TRANSIENT);
	if (family != NULL)
		sqlite3_bind_text(st, 3, family, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, desired, -1, SQLITE_TRANSIENT);
	if (started_by != NULL)
		sqlite3_bind_text(st, 5, started_by, -1, SQLITE_TRANSIENT);
	ret = list_column(c, st, "taskArns", offset, max);
out:
	free(cluster_arn);
	free(service_arn);
	return ret;
}

static int stop_task(struct lc_call *c)
{
	const char *cluster, *ident, *reason;
	char *cluster_arn = NULL, *arn = NULL;
	int ret = -1;

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "task", 1, &ident) < 0 ||
		in_str(c, "reason", 0, &reason) < 0 || cluster_find(c, cluster, &cluster_arn) < 0 ||
		task_find(c, cluster_arn, ident, &arn) < 0)
		goto out;
	if (arn == NULL) {
		ecs_bad(c, "InvalidParameterException", "The referenced task was not found.");
		goto out;
	}
	store_run(c->db,
		"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code = coalesce(stop_code, "
		"'UserInitiated'), stopped_reason = coalesce(stopped_reason, ?) WHERE arn = ? AND "
		"desired_status != 'STOPPED'",
		"ss", reason ? reason : "Task stopped by user", arn);
	json_object_set_new(c->out, "task", task_json(c->db, arn));
	ret = 0;
out:
	free(cluster_arn);
	free(arn);
	return ret;
}

#define ECS_HANDLER(api, fn)                                                                       \
	int api(struct lc_request *req, const json_t *in, json_t **out,                            \
		struct codec_error *err)                                                           \
	{                                                                                          \
		return ecs_run(req, in, out, err, fn);                                             \
	}

ECS_HANDLER(ecs_create_cluster, create_cluster)
ECS_HANDLER(ecs_describe_clusters, describe_clusters)
ECS_HANDLER(ecs_list_clusters, list_clusters)
ECS_HANDLER(ecs_delete_cluster, delete_cluster)
ECS_HANDLER(ecs_register_task_definition, register_task_definition)
ECS_HANDLER(ecs_deregister_task_definition, deregister_task_definition)
ECS_HANDLER(ecs_describe_task_definition, describe_task_definition)
ECS_HANDLER(ecs_list_task_definitions, list_task_definitions)
ECS_HANDLER(ecs_list_task_definition_families, list_task_definition_families)
ECS_HANDLER(ecs_create_service, create_service)
ECS_HANDLER(ecs_update_service, update_service)
ECS_HANDLER(ecs_delete_service, delete_service)
ECS_HANDLER(ecs_describe_services, describe_services)
ECS_HANDLER(ecs_list_services, list_services)
ECS_HANDLER(ecs_run_task, run_task)
ECS_HANDLER(ecs_describe_tasks, describe_tasks)
ECS_HANDLER(ecs_list_tasks, list_tasks)
ECS_HANDLER(ecs_stop_task, stop_task)
