/*
 * logs/tags.c: the tags of CloudWatch Logs' log groups (CreateLogGroup's
 * tags, TagResource, UntagResource, ListTagsForResource and the older
 * ListTagsLogGroup), kept in the generic resource store's tag table
 * (core/resources.h: service "logs", type "log-group", the group's name)
 * while the groups themselves stay in logs_group.
 */
#include "compat.h"

#include "core/caliberd.h"
#include "core/codec-glue.h"
#include "core/resources.h"
#include "core/store.h"
#include "internal.h"

int logs_tags_set(sqlite3 *db, const char *group, const json_t *map)
{
	json_t *list = json_array(), *v;
	const char *k;
	int rc;

	json_object_foreach((json_t *)map, k, v)
		if (json_is_string(v))
			json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
	rc = resource_tag(db, "logs", "log-group", group, list);
	json_decref(list);
	return rc;
}

int logs_tags_drop(sqlite3 *db, const char *group)
{
	return resource_untag(db, "logs", "log-group", group, NULL);
}

/* The group an ARN names ("...:log-group:<name>" with or without ":*"), into a new string. */
static char *arn_group(const char *arn)
{
	const char *p = strstr(arn, ":log-group:");
	size_t n;

	if (strncmp(arn, "arn:", 4) || p == NULL)
		return NULL;
	p += strlen(":log-group:");
	n = strlen(p);
	if (n >= 2 && !strcmp(p + n - 2, ":*"))
		n -= 2;
	return n > 0 ? xstrndup(p, n) : NULL;
}

enum tags_op { TAGS_LIST, TAGS_ADD, TAGS_REMOVE };

/* One tag call in c's transaction: the group by name or by ARN must exist. */
static int tags_body(struct lc_call *c, enum tags_op op, int by_name)
{
	const char *key = by_name ? "logGroupName" : "resourceArn";
	const char *arg = json_string_value(json_object_get(c->in, key));
	sqlite3_stmt *st = NULL;
	json_t *tags, *t, *list;
	char *group;
	size_t i;
	int found, rc = -1;

	if (arg == NULL)
		return codec_error_set(c->err, 400, "InvalidParameterException",
			"1 validation error detected: Value null at '%s' failed to satisfy "
			"constraint: Member must not be null",
			key);
	group = by_name ? xstrdup(arg) : arn_group(arg);
	if (group == NULL)
		return codec_error_set(c->err, 400, "InvalidParameterException",
			"Invalid resource arn: %s", arg);
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM logs_group WHERE name = ?", -1, &st, NULL) !=
		SQLITE_OK)
		goto internal;
	sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!found) {
		codec_error_set(c->err, 400, "ResourceNotFoundException",
			"The specified log group does not exist.");
		goto out;
	}
	switch (op) {
	case TAGS_LIST:
		if ((list = resource_tags(c->db, "logs", "log-group", group)) == NULL)
			goto internal;
		tags = json_object();
		json_array_foreach(list, i, t)
			json_object_set(tags, json_string_value(json_object_get(t, "Key")),
				json_object_get(t, "Value"));
		json_decref(list);
		json_object_set_new(c->out, "tags", tags);
		break;
	case TAGS_ADD:
		if (logs_tags_set(c->db, group, json_object_get(c->in, "tags")) < 0)
			goto internal;
		break;
	case TAGS_REMOVE:
		list = json_array();
		json_array_foreach(json_object_get(c->in, "tagKeys"), i, t)
			json_array_append_new(list, json_pack("{s:O}", "Key", t));
		found = resource_untag(c->db, "logs", "log-group", group, list);
		json_decref(list);
		if (found < 0)
			goto internal;
		break;
	}
	if (op != TAGS_LIST) {
		json_decref(c->out);
		c->out = NULL;
	}
	rc = 0;
	goto out;
internal:
	lc_log("logs: tags: %s", sqlite3_errmsg(c->db));
	codec_error_set(c->err, 500, "ServiceUnavailableException", "an internal error occurred");
out:
	free(group);
	return rc;
}

static int list_tags_for_resource(struct lc_call *c)
{
	return tags_body(c, TAGS_LIST, 0);
}

static int list_tags_log_group(struct lc_call *c)
{
	return tags_body(c, TAGS_LIST, 1);
}

static int tag_resource(struct lc_call *c)
{
	return tags_body(c, TAGS_ADD, 0);
}

static int untag_resource(struct lc_call *c)
{
	return tags_body(c, TAGS_REMOVE, 0);
}

int logs_list_tags_for_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceUnavailableException",
		list_tags_for_resource);
}

int logs_list_tags_log_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceUnavailableException",
		list_tags_log_group);
}

int logs_tag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceUnavailableException", tag_resource);
}

int logs_untag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceUnavailableException", untag_resource);
}
