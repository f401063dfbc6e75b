/*
 * logs/api.c: Amazon CloudWatch Logs (JSON 1.1, Logs_20140328) on
 * caliberd's store.
 *
 * Log groups hold streams, streams hold events (timestamp, message,
 * ingestion time).  Events come from PutLogEvents and from ECS tasks whose
 * containers use the awslogs driver (logs_append(), called by the ECS
 * supervisor).  Reads: GetLogEvents with forward and backward tokens as
 * AWS pages them (the same forward token comes back when nothing is new),
 * FilterLogEvents with the simple term syntax of filter patterns.
 *
 * Every operation is a typed handler on the codec (codec-glue.h): no wire
 * format is written here.
 *
 * Differences from AWS: one namespace for every region; JSON ({ $.x })
 * and space-delimited ([a, b]) filter patterns are refused; no retention
 * expiry, metric filters, subscriptions or Insights.
 */
#include "compat.h"

#include <math.h>

#include <jansson.h>

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/codec-glue.h"
#include "core/reply.h"
#include "core/resources.h"
#include "core/router.h"
#include "core/store.h"
#include "internal.h"

#define LOGS_MAX_EVENT	   262144
#define LOGS_DEFAULT_LIMIT 10000

static const char logs_schema[] =
	"CREATE TABLE IF NOT EXISTS logs_group ("
	" name TEXT PRIMARY KEY,"
	" arn TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" retention INTEGER);"
	"CREATE TABLE IF NOT EXISTS logs_stream ("
	" group_name TEXT NOT NULL REFERENCES logs_group(name) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" first_ts INTEGER,"
	" last_ts INTEGER,"
	" last_ingest INTEGER,"
	" bytes INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (group_name, name));"
	"CREATE TABLE IF NOT EXISTS logs_event ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" group_name TEXT NOT NULL,"
	" stream_name TEXT NOT NULL,"
	" ts INTEGER NOT NULL,"
	" ingest INTEGER NOT NULL,"
	" message TEXT NOT NULL,"
	" FOREIGN KEY (group_name, stream_name) REFERENCES logs_stream(group_name, name)"
	"  ON DELETE CASCADE);"
	"CREATE INDEX IF NOT EXISTS logs_event_stream ON logs_event (group_name, stream_name, id);";

int logs_init(struct lc_server *srv, struct err *e)
{
	if (resources_init(srv, e) < 0)
		return -1;
	return store_exec(srv->store, logs_schema, e);
}

static long long now_ms(void)
{
	return (long long)floor(lc_now() * 1000.0);
}

/* 1 exists, 0 not, -1 error */
static int group_exists(sqlite3 *db, const char *group)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM logs_group WHERE name = ?", -1, &st, NULL) !=
		SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int group_create(sqlite3 *db, const char *region, const char *group)
{
	sqlite3_stmt *st = NULL;
	char *arn = xasprintf("arn:aws:logs:%s:000000000000:log-group:%s", region, group);
	int rc;

	if (sqlite3_prepare_v2(db,
		    "INSERT OR IGNORE INTO logs_group (name, arn, created) VALUES (?, ?, ?)", -1,
		    &st, NULL) != SQLITE_OK) {
		free(arn);
		return -1;
	}
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(arn);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int stream_create(sqlite3 *db, const char *group, const char *stream, int *created)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
		    "INSERT OR IGNORE INTO logs_stream (group_name, name, created) VALUES (?, ?, "
		    "?)",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (created != NULL)
		*created = sqlite3_changes(db) > 0;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int event_insert(sqlite3 *db, const char *group, const char *stream, long long ts,
	long long ingest, const char *msg, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
		    "INSERT INTO logs_event (group_name, stream_name, ts, ingest, message) "
		    "VALUES (?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, ts);
	sqlite3_bind_int64(st, 4, ingest);
	sqlite3_bind_text(st, 5, msg, (int)len, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (sqlite3_prepare_v2(db,
		    "UPDATE logs_stream SET first_ts = coalesce(min(first_ts, ?1), ?1), "
		    "last_ts = coalesce(max(last_ts, ?1), ?1), last_ingest = ?2, "
		    "bytes = bytes + ?3 WHERE group_name = ?4 AND name = ?5",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_int64(st, 2, ingest);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)len);
	sqlite3_bind_text(st, 4, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, stream, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int logs_group_check(sqlite3 *db, const char *region, const char *group, int create)
{
	int has = group_exists(db, group);

	if (has != 0)
		return has;
	if (!create)
		return 0;
	return group_create(db, region, group) < 0 ? -1 : 1;
}

int logs_append(sqlite3 *db, const char *group, const char *stream, long long ts_ms,
	const char *msg, size_t len)
{
	if (len > LOGS_MAX_EVENT)
		len = LOGS_MAX_EVENT;
	if (stream_create(db, group, stream, NULL) < 0)
		return -1;
	return event_insert(db, group, stream, ts_ms, now_ms(), msg, len);
}

/* One call, as in secretsmanager/api.c: the request, its typed input, its output, its error. */

/* a 400 error of the call c (codec_error_set checks the format) */
#define logs_bad(c, code, ...) codec_error_set((c)->err, 400, (code), __VA_ARGS__)

static int logs_internal(struct lc_call *c, const char *what)
{
	lc_log("logs: %s: %s", what, sqlite3_errmsg(c->db));
	return codec_error_set(c->err, 500, "ServiceUnavailableException",
		"an internal error occurred");
}

/* Run fn in a store transaction: *out its output when it returns 0. */
static int logs_run(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int (*fn)(struct lc_call *c))
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceUnavailableException", fn);
}

/* input members, typed by the codec, with the validation message AWS gives a missing one */
static int in_str(struct lc_call *c, const char *key, int required, const char **out)
{
	*out = json_string_value(json_object_get(c->in, key));
	if (*out == NULL && required)
		return logs_bad(c, "InvalidParameterException",
			"1 validation error detected: Value null at '%s' failed to satisfy "
			"constraint: Member must not be null",
			key);
	return 0;
}

static int in_int(struct lc_call *c, const char *key, long long *out, int *present)
{
	json_t *v = json_object_get(c->in, key);

	*present = v != NULL;
	if (v != NULL)
		*out = (long long)json_integer_value(v);
	return 0;
}

/* logGroupName, or logGroupIdentifier (a name or an ARN) */
static int in_group(struct lc_call *c, const char **out)
{
	const char *name, *ident;

	if (in_str(c, "logGroupName", 0, &name) < 0 ||
		in_str(c, "logGroupIdentifier", 0, &ident) < 0)
		return -1;
	if (name == NULL && ident != NULL) {
		const char *p = strstr(ident, ":log-group:");

		name = p != NULL ? p + strlen(":log-group:") : ident;
	}
	if (name == NULL)
		return in_str(c, "logGroupName", 1, out);
	*out = name;
	return 0;
}

static int group_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 512)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || strchr("._-/#", ch) != NULL))
			return 0;
	}
	return 1;
}

static int need_group(struct lc_call *c, const char *group)
{
	int has = group_exists(c->db, group);

	if (has < 0)
		return logs_internal(c, "group");
	if (has == 0)
		return logs_bad(
			c, "ResourceNotFoundException", "The specified log group does not exist.");
	return 0;
}

static int create_log_group(struct lc_call *c)
{
	const char *group;
	int has;

	if (in_str(c, "logGroupName", 1, &group) < 0)
		return -1;
	if (!group_name_valid(group))
		return logs_bad(c, "InvalidParameterException",
			"1 validation error detected: Value '%s' at 'logGroupName' failed to "
			"satisfy constraint: Member must satisfy regular expression pattern: "
			"[\\.\\-_/#A-Za-z0-9]+",
			group);
	has = group_exists(c->db, group);
	if (has < 0)
		return logs_internal(c, "create group");
	if (has)
		return logs_bad(c, "ResourceAlreadyExistsException",
			"The specified log group already exists");
	if (group_create(c->db, c->req->region, group) < 0 ||
		logs_tags_set(c->db, group, json_object_get(c->in, "tags")) < 0)
		return logs_internal(c, "create group");
	return 0;
}

static int delete_log_group(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	const char *group;

	if (in_str(c, "logGroupName", 1, &group) < 0 || need_group(c, group) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM logs_group WHERE name = ?", -1, &st, NULL) !=
		SQLITE_OK)
		return logs_internal(c, "delete group");
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return logs_tags_drop(c->db, group) < 0 ? logs_internal(c, "delete group") : 0;
}

static int put_retention_policy(struct lc_call *c)
{
	static const int allowed[] = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
		1096, 1827, 2192, 2557, 2922, 3288, 3653};
	sqlite3_stmt *st = NULL;
	const char *group;
	long long days = 0;
	size_t i;
	int present, ok = 0;

	if (in_str(c, "logGroupName", 1, &group) < 0 ||
		in_int(c, "retentionInDays", &days, &present) < 0 || need_group(c, group) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(allowed); i++)
		ok |= present && days == allowed[i];
	if (!ok)
		return logs_bad(c, "InvalidParameterException",
			"1 validation error detected: Value '%lld' at 'retentionInDays' failed to "
			"satisfy constraint: Member must satisfy enum value set",
			days);
	if (sqlite3_prepare_v2(c->db, "UPDATE logs_group SET retention = ? WHERE name = ?", -1, &st,
		    NULL) != SQLITE_OK)
		return logs_internal(c, "retention");
	sqlite3_bind_int64(st, 1, days);
	sqlite3_bind_text(st, 2, group, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return 0;
}

/* nextToken: an offset into an ordered listing */
static int in_offset_token(struct lc_call *c, long long *offset)
{
	const char *tok;
	char *end = NULL;

	*offset = 0;
	if (in_str(c, "nextToken", 0, &tok) < 0)
		return -1;
	if (tok == NULL)
		return 0;
	*offset = strtoll(tok, &end, 10);
	if (end == tok || *end != '\0' || *offset < 0)
		return logs_bad(
			c, "InvalidParameterException", "The specified nextToken is invalid.");
	return 0;
}

static int in_limit(struct lc_call *c, long long max, long long dflt, long long *out)
{
	int present;

	*out = dflt;
	if (in_int(c, "limit", out, &present) < 0)
		return -1;
	if (present && (*out < 1 || *out > max))
		return logs_bad(c, "InvalidParameterException",
			"1 validation error detected: Value '%lld' at 'limit' failed to satisfy "
			"constraint: Member must have value between 1 and %lld",
			*out, max);
	return 0;
}

static void set_token(json_t *out, long long offset)
{
	char t[32];

	snprintf(t, sizeof(t), "%lld", offset);
	json_object_set_new(out, "nextToken", json_string(t));
}

static int describe_log_groups(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	const char *prefix;
	long long offset, limit, n = 0;
	json_t *groups = json_array();
	char *like = NULL;
	int rc;

	json_object_set_new(c->out, "logGroups", groups);
	if (in_str(c, "logGroupNamePrefix", 0, &prefix) < 0 || in_offset_token(c, &offset) < 0 ||
		in_limit(c, 50, 50, &limit) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db,
		    "SELECT g.name, g.arn, g.created, g.retention, "
		    " (SELECT coalesce(sum(bytes), 0) FROM logs_stream s WHERE s.group_name = "
		    "g.name) "
		    "FROM logs_group g WHERE substr(g.name, 1, length(?1)) = ?1 "
		    "ORDER BY g.name LIMIT ?2 OFFSET ?3",
		    -1, &st, NULL) != SQLITE_OK)
		return logs_internal(c, "describe groups");
	sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, limit + 1);
	sqlite3_bind_int64(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *g;
		const char *arn = (const char *)sqlite3_column_text(st, 1);
		char *star;

		if (++n > limit) {
			set_token(c->out, offset + limit);
			break;
		}
		star = xasprintf("%s:*", arn);
		g = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I}", "logGroupName",
			(const char *)sqlite3_column_text(st, 0), "creationTime",
			(json_int_t)sqlite3_column_int64(st, 2), "metricFilterCount", (json_int_t)0,
			"arn", star, "logGroupArn", arn, "storedBytes",
			(json_int_t)sqlite3_column_int64(st, 4));
		free(star);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(
				g, "retentionInDays", json_integer(sqlite3_column_int64(st, 3)));
		json_array_append_new(groups, g);
	}
	sqlite3_finalize(st);
	free(like);
	return 0;
}

static int create_log_stream(struct lc_call *c)
{
	const char *group, *stream;
	int created = 0;

	if (in_str(c, "logGroupName", 1, &group) < 0 ||
		in_str(c, "logStreamName", 1, &stream) < 0 || need_group(c, group) < 0)
		return -1;
	if (stream[0] == '\0' || strlen(stream) > 512 || strchr(stream, ':') != NULL ||
		strchr(stream, '*') != NULL)
		return logs_bad(c, "InvalidParameterException",
			"Value '%s' at 'logStreamName' failed to satisfy constraint", stream);
	if (stream_create(c->db, group, stream, &created) < 0)
		return logs_internal(c, "create stream");
	if (!created)
		return logs_bad(c, "ResourceAlreadyExistsException",
			"The specified log stream already exists");
	return 0;
}

static int describe_log_streams(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	const char *group, *prefix, *order;
	json_t *streams = json_array(), *desc;
	long long offset, limit, n = 0;
	char *sql = NULL;
	int rc, by_time = 0, descending = 0;

	json_object_set_new(c->out, "logStreams", streams);
	if (in_group(c, &group) < 0 || in_str(c, "logStreamNamePrefix", 0, &prefix) < 0 ||
		in_str(c, "orderBy", 0, &order) < 0 || in_offset_token(c, &offset) < 0 ||
		in_limit(c, 50, 50, &limit) < 0 || need_group(c, group) < 0)
		return -1;
	desc = json_object_get(c->in, "descending");
	descending = json_is_true(desc);
	if (order != NULL && !strcmp(order, "LastEventTime"))
		by_time = 1;
	else if (order != NULL && strcmp(order, "LogStreamName"))
		return logs_bad(c, "InvalidParameterException",
			"orderBy must be LogStreamName or LastEventTime");
	if (by_time && prefix != NULL)
		return logs_bad(c, "InvalidParameterException",
			"Cannot order by LastEventTime with a logStreamNamePrefix.");
	sql = xasprintf("SELECT name, created, first_ts, last_ts, last_ingest, bytes "
			"FROM logs_stream WHERE group_name = ?1 AND "
			"substr(name, 1, length(?2)) = ?2 ORDER BY %s %s, name LIMIT ?3 OFFSET ?4",
		by_time ? "coalesce(last_ts, 0)" : "name", descending ? "DESC" : "ASC");
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return logs_internal(c, "describe streams");
	}
	free(sql);
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, prefix ? prefix : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit + 1);
	sqlite3_bind_int64(st, 4, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char *arn;
		json_t *s;
		int k;

		if (++n > limit) {
			set_token(c->out, offset + limit);
			break;
		}
		arn = xasprintf("arn:aws:logs:%s:000000000000:log-group:%s:log-stream:%s",
			c->req->region, group, name);
		s = json_pack("{s:s, s:I, s:s, s:I}", "logStreamName", name, "creationTime",
			(json_int_t)sqlite3_column_int64(st, 1), "arn", arn, "storedBytes",
			(json_int_t)sqlite3_column_int64(st, 5));
		free(arn);
		for (k = 2; k <= 4; k++) {
			static const char *const keys[] = {
				"firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime"};

			if (sqlite3_column_type(st, k) != SQLITE_NULL)
				json_object_set_new(
					s, keys[k - 2], json_integer(sqlite3_column_int64(st, k)));
		}
		json_array_append_new(streams, s);
	}
	sqlite3_finalize(st);
	return 0;
}

static int put_log_events(struct lc_call *c)
{
	const char *group, *stream;
	json_t *events = json_object_get(c->in, "logEvents"), *ev;
	long long prev = 0, now = now_ms();
	size_t i;
	int has;

	if (in_str(c, "logGroupName", 1, &group) < 0 ||
		in_str(c, "logStreamName", 1, &stream) < 0 || need_group(c, group) < 0)
		return -1;
	if (!json_is_array(events) || json_array_size(events) == 0 ||
		json_array_size(events) > 10000)
		return logs_bad(
			c, "InvalidParameterException", "logEvents must hold 1 to 10000 events");
	has = 0;
	{
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(c->db,
			    "SELECT 1 FROM logs_stream WHERE group_name = ? AND name = ?", -1, &st,
			    NULL) != SQLITE_OK)
			return logs_internal(c, "stream");
		sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
		has = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (!has)
		return logs_bad(
			c, "ResourceNotFoundException", "The specified log stream does not exist.");
	json_array_foreach(events, i, ev)
	{
		json_t *ts = json_object_get(ev, "timestamp"),
		       *msg = json_object_get(ev, "message");

		if (!json_is_integer(ts) || !json_is_string(msg))
			return logs_bad(c, "InvalidParameterException",
				"every log event needs a timestamp and a message");
		/* the model's EventMessage: at least one character */
		if (json_string_length(msg) == 0)
			return logs_bad(c, "InvalidParameterException",
				"1 validation error detected: Value '' at 'logEvents.%zu.member.message' "
				"failed to satisfy constraint: Member must have length greater than or "
				"equal to 1", i + 1);
		/* 1 MB with the 26 bytes AWS counts for each event */
		if (json_string_length(msg) > 1048576 - 26)
			return logs_bad(c, "InvalidParameterException", "Log event too large");
		if (json_integer_value(ts) < prev)
			return logs_bad(c, "InvalidParameterException",
				"Log events in a single PutLogEvents request must be in "
				"chronological order.");
		prev = json_integer_value(ts);
		if (event_insert(c->db, group, stream, prev, now, json_string_value(msg),
			    json_string_length(msg)) < 0)
			return logs_internal(c, "put events");
	}
	return 0;
}

static json_t *event_json(sqlite3_stmt *st, int with_stream)
{
	json_t *ev =
		json_pack("{s:I, s:s, s:I}", "timestamp", (json_int_t)sqlite3_column_int64(st, 1),
			"message", (const char *)sqlite3_column_text(st, 2), "ingestionTime",
			(json_int_t)sqlite3_column_int64(st, 3));

	if (with_stream) {
		char id[32];

		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
		json_object_set_new(ev, "eventId", json_string(id));
		json_object_set_new(
			ev, "logStreamName", json_string((const char *)sqlite3_column_text(st, 4)));
	}
	return ev;
}

static int get_log_events(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	const char *group, *stream, *token;
	long long start = 0, end = 0, limit, from = 0, first = -1, last = -1;
	int has_start, has_end, head, backward = 0, rc, has;
	json_t *events = json_array(), *ev;
	char tok[40];
	char *sql = NULL;

	json_object_set_new(c->out, "events", events);
	if (in_group(c, &group) < 0 || in_str(c, "logStreamName", 1, &stream) < 0 ||
		in_int(c, "startTime", &start, &has_start) < 0 ||
		in_int(c, "endTime", &end, &has_end) < 0 || in_str(c, "nextToken", 0, &token) < 0 ||
		in_limit(c, 10000, LOGS_DEFAULT_LIMIT, &limit) < 0 || need_group(c, group) < 0)
		return -1;
	head = json_is_true(json_object_get(c->in, "startFromHead"));
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM logs_stream WHERE group_name = ? AND name = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return logs_internal(c, "stream");
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	st = NULL;
	if (!has)
		return logs_bad(
			c, "ResourceNotFoundException", "The specified log stream does not exist.");
	if (token != NULL) {
		char *endp = NULL;

		if ((token[0] != 'f' && token[0] != 'b') || token[1] != '/')
			return logs_bad(c, "InvalidParameterException",
				"The specified nextToken is invalid.");
		from = strtoll(token + 2, &endp, 10);
		if (endp == token + 2 || *endp != '\0' || from < 0)
			return logs_bad(c, "InvalidParameterException",
				"The specified nextToken is invalid.");
		backward = token[0] == 'b';
		head = !backward;
	}
	/*
	 * Forward: events after the token's id, oldest first.  Backward (and
	 * the default without a token, startFromHead false): the newest
	 * 'limit' events before the token, returned oldest first.
	 */
	if (head)
		sql = xasprintf(
			"SELECT id, ts, message, ingest FROM logs_event WHERE group_name = ?1 "
			"AND stream_name = ?2 AND id > ?3 AND ts >= ?4 AND ts < ?5 "
			"ORDER BY id ASC LIMIT ?6");
	else
		sql = xasprintf(
			"SELECT * FROM (SELECT id, ts, message, ingest FROM logs_event "
			"WHERE group_name = ?1 AND stream_name = ?2 AND id < ?3 AND ts >= ?4 "
			"AND ts < ?5 ORDER BY id DESC LIMIT ?6) ORDER BY id ASC");
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return logs_internal(c, "get events");
	}
	free(sql);
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, head ? from : (backward ? from : INT64_MAX));
	sqlite3_bind_int64(st, 4, has_start ? start : INT64_MIN);
	sqlite3_bind_int64(st, 5, has_end ? end : INT64_MAX);
	sqlite3_bind_int64(st, 6, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);

		if (first < 0)
			first = id;
		last = id;
		ev = event_json(st, 0);
		json_array_append_new(events, ev);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return logs_internal(c, "get events");
	/* no events: the tokens stay where they were, as AWS does at the end */
	if (last < 0) {
		first = backward ? from : (head ? from + 1 : 1);
		last = head ? from : (backward ? from - 1 : 0);
		if (!head && !backward) {
			/* end of the stream: later events come after the current last id */
			sqlite3_stmt *mx = NULL;

			if (sqlite3_prepare_v2(c->db,
				    "SELECT coalesce(max(id), 0) FROM logs_event WHERE group_name "
				    "= ? "
				    "AND stream_name = ?",
				    -1, &mx, NULL) == SQLITE_OK) {
				sqlite3_bind_text(mx, 1, group, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(mx, 2, stream, -1, SQLITE_TRANSIENT);
				if (sqlite3_step(mx) == SQLITE_ROW)
					last = sqlite3_column_int64(mx, 0);
				sqlite3_finalize(mx);
			}
			first = last + 1;
		}
	}
	snprintf(tok, sizeof(tok), "f/%lld", last);
	json_object_set_new(c->out, "nextForwardToken", json_string(tok));
	snprintf(tok, sizeof(tok), "b/%lld", first);
	json_object_set_new(c->out, "nextBackwardToken", json_string(tok));
	return 0;
}

/*
 * Filter patterns, the term syntax: "ERROR" (contains), "ERROR timeout"
 * (contains both), "\"disk full\"" (the phrase), "?ERROR ?WARN" (either),
 * "-DEBUG" (excludes).  Matching is case-sensitive, as on AWS.
 */
struct logs_term {
	char *text;
	char kind; /* '+' required, '?' any-of, '-' excluded */
};

static void terms_free(struct logs_term *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i].text);
	free(t);
}

static int pattern_parse(const char *p, struct logs_term **out, size_t *n_out)
{
	struct logs_term *t = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	while (*p) {
		char kind = '+';
		const char *s;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '{' || *p == '[')
			goto bad;
		if (*p == '?' || *p == '-') {
			kind = *p;
			p++;
		}
		if (*p == '"') {
			s = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				goto bad;
			len = (size_t)(p - s);
			p++;
		} else {
			s = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
			len = (size_t)(p - s);
		}
		if (len == 0)
			continue;
		t = xrealloc(t, (n + 1) * sizeof(*t));
		t[n].text = xstrndup(s, len);
		t[n].kind = kind;
		n++;
	}
	*out = t;
	*n_out = n;
	return 0;
bad:
	terms_free(t, n);
	return -1;
}

static int pattern_match(const struct logs_term *t, size_t n, const char *msg)
{
	size_t i;
	int any_of = 0, any_hit = 0;

	for (i = 0; i < n; i++) {
		int hit = strstr(msg, t[i].text) != NULL;

		if (t[i].kind == '+' && !hit)
			return 0;
		if (t[i].kind == '-' && hit)
			return 0;
		if (t[i].kind == '?') {
			any_of = 1;
			any_hit |= hit;
		}
	}
	return !any_of || any_hit;
}

int logs_filter_match(const char *pattern, const char *message)
{
	struct logs_term *terms = NULL;
	size_t n = 0;
	int r;

	if (pattern_parse(pattern, &terms, &n) < 0)
		return -1;
	r = pattern_match(terms, n, message);
	terms_free(terms, n);
	return r;
}

static int filter_log_events(struct lc_call *c)
{
	sqlite3_stmt *st = NULL;
	const char *group, *prefix, *pattern, *token;
	json_t *names = json_object_get(c->in, "logStreamNames"), *events = json_array();
	struct logs_term *terms = NULL;
	size_t n_terms = 0, i;
	long long start = 0, end = 0, limit, from = 0, scanned_to = 0, got = 0;
	int has_start, has_end, rc, ret = -1;

	json_object_set_new(c->out, "events", events);
	json_object_set_new(c->out, "searchedLogStreams", json_array());
	if (in_group(c, &group) < 0 || in_str(c, "logStreamNamePrefix", 0, &prefix) < 0 ||
		in_str(c, "filterPattern", 0, &pattern) < 0 ||
		in_str(c, "nextToken", 0, &token) < 0 ||
		in_int(c, "startTime", &start, &has_start) < 0 ||
		in_int(c, "endTime", &end, &has_end) < 0 ||
		in_limit(c, 10000, LOGS_DEFAULT_LIMIT, &limit) < 0 || need_group(c, group) < 0)
		return -1;
	if (names != NULL && prefix != NULL)
		return logs_bad(c, "InvalidParameterException",
			"logStreamNames and logStreamNamePrefix are mutually exclusive");
	if (names != NULL && (!json_is_array(names) || json_array_size(names) == 0 ||
				     json_array_size(names) > 100))
		return logs_bad(
			c, "InvalidParameterException", "logStreamNames must hold 1 to 100 names");
	if (token != NULL) {
		char *endp = NULL;

		from = strtoll(token, &endp, 10);
		if (endp == token || *endp != '\0' || from < 0)
			return logs_bad(c, "InvalidParameterException",
				"The specified nextToken is invalid.");
	}
	if (pattern_parse(pattern ? pattern : "", &terms, &n_terms) < 0)
		return logs_bad(c, "InvalidParameterException",
			"Invalid filter pattern '%s': caliberd supports terms, \"phrases\", ?any "
			"and -exclude",
			pattern);
	if (sqlite3_prepare_v2(c->db,
		    "SELECT id, ts, message, ingest, stream_name FROM logs_event "
		    "WHERE group_name = ?1 AND id > ?2 AND ts >= ?3 AND ts < ?4 "
		    "AND substr(stream_name, 1, length(?5)) = ?5 ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		logs_internal(c, "filter");
		goto out;
	}
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, has_start ? start : INT64_MIN);
	sqlite3_bind_int64(st, 4, has_end ? end : INT64_MAX);
	sqlite3_bind_text(st, 5, prefix ? prefix : "", -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *stream = (const char *)sqlite3_column_text(st, 4);
		const char *msg = (const char *)sqlite3_column_text(st, 2);
		int wanted = names == NULL;
		json_t *nm;

		json_array_foreach(names, i, nm) wanted |=
			json_is_string(nm) && !strcmp(json_string_value(nm), stream);
		if (!wanted || !pattern_match(terms, n_terms, msg))
			continue;
		if (got == limit) {
			set_token(c->out, scanned_to);
			break;
		}
		json_array_append_new(events, event_json(st, 1));
		got++;
		scanned_to = sqlite3_column_int64(st, 0);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	terms_free(terms, n_terms);
	return ret;
}

/* The typed handlers of the routes (router.c), one per operation. */
#define LOGS_HANDLER(op)                                                                           \
	int logs_##op(struct lc_request *req, const json_t *in, json_t **out,                      \
		struct codec_error *err)                                                           \
	{                                                                                          \
		return logs_run(req, in, out, err, op);                                            \
	}

LOGS_HANDLER(create_log_group)
LOGS_HANDLER(delete_log_group)
LOGS_HANDLER(put_retention_policy)
LOGS_HANDLER(describe_log_groups)
LOGS_HANDLER(create_log_stream)
LOGS_HANDLER(describe_log_streams)
LOGS_HANDLER(put_log_events)
LOGS_HANDLER(get_log_events)
LOGS_HANDLER(filter_log_events)
