/*
 * resources.c: the generic resource store (see resources.h): one table of
 * resources keyed by (service, type, id) with their attributes as JSON,
 * one table of tags, and EC2's filters evaluated over the attributes.
 */
#include "compat.h"

#include <math.h>

#include "caliberd.h"
#include "ids.h"
#include "reply.h"
#include "resources.h"
#include "store.h"

static const char resources_schema[] =
	"CREATE TABLE IF NOT EXISTS resource ("
	" service TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" arn TEXT,"
	" parent TEXT,"
	" attrs TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" PRIMARY KEY (service, type, id));"
	"CREATE INDEX IF NOT EXISTS resource_by_id ON resource (service, id);"
	"CREATE INDEX IF NOT EXISTS resource_by_parent ON resource (service, type, parent);"
	"CREATE TABLE IF NOT EXISTS resource_tag ("
	" service TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (service, type, id, key));";

int resources_init(struct lc_server *srv, struct err *e)
{
	return store_exec(srv->store, resources_schema, e);
}

void resource_new_id(char *out, size_t size, const char *prefix)
{
	char hex[18];

	lc_random_id(hex, 17, "0123456789abcdef");
	snprintf(out, size, "%s-%s", prefix, hex);
}

void resource_release(struct resource *r)
{
	free(r->service);
	free(r->type);
	free(r->id);
	free(r->region);
	free(r->arn);
	free(r->parent);
	json_decref(r->attrs);
	json_decref(r->tags);
	memset(r, 0, sizeof(*r));
}

int resource_insert(sqlite3 *db, const struct resource *r)
{
	char *attrs = json_dumps(r->attrs, JSON_COMPACT);
	int rc;

	rc = store_run(db,
		"INSERT INTO resource (service, type, id, region, arn, parent, attrs, created) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		"sssssssd", r->service, r->type, r->id, r->region, r->arn, r->parent, attrs,
		r->created > 0 ? r->created : lc_now());
	free(attrs);
	if (rc < 0)
		return -1;
	if (r->tags != NULL && json_array_size(r->tags) > 0)
		return resource_tag(db, r->service, r->type, r->id, r->tags);
	return 0;
}

/* the row of st (service, type, id, region, arn, parent, attrs, created) into *out */
static int resource_row(sqlite3 *db, sqlite3_stmt *st, struct resource *out)
{
	json_error_t je;

	out->service = store_col_text(st, 0);
	out->type = store_col_text(st, 1);
	out->id = store_col_text(st, 2);
	out->region = store_col_text(st, 3);
	out->arn = store_col_text(st, 4);
	out->parent = store_col_text(st, 5);
	out->attrs = json_loads(store_col_str(st, 6), 0, &je);
	out->created = sqlite3_column_double(st, 7);
	if (out->attrs == NULL || !json_is_object(out->attrs)) {
		lc_log("resources: %s %s: unreadable attributes: %s", out->type, out->id, je.text);
		return -1;
	}
	out->tags = resource_tags(db, out->service, out->type, out->id);
	return out->tags == NULL ? -1 : 0;
}

#define RESOURCE_COLS "service, type, id, region, arn, parent, attrs, created"

int resource_get(sqlite3 *db, const char *service, const char *type, const char *id,
	struct resource *out)
{
	sqlite3_stmt *st = NULL;
	const char *sql = type != NULL ?
		"SELECT " RESOURCE_COLS " FROM resource WHERE service = ?1 AND id = ?2 AND type = ?3" :
		"SELECT " RESOURCE_COLS " FROM resource WHERE service = ?1 AND id = ?2";
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		lc_log("resources: get: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	if (type != NULL)
		sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc == SQLITE_ROW)
		ret = resource_row(db, st, out) < 0 ? -1 : 1;
	else
		lc_log("resources: get: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (ret != 1)
		resource_release(out);
	return ret;
}

int resource_update(sqlite3 *db, const struct resource *r)
{
	char *attrs = json_dumps(r->attrs, JSON_COMPACT);
	int rc;

	rc = store_run(db,
		"UPDATE resource SET attrs = ?, parent = ?, arn = ? "
		"WHERE service = ? AND type = ? AND id = ?",
		"ssssss", attrs, r->parent, r->arn, r->service, r->type, r->id);
	free(attrs);
	return rc;
}

int resource_delete(sqlite3 *db, const char *service, const char *type, const char *id)
{
	if (store_run(db, "DELETE FROM resource WHERE service = ? AND type = ? AND id = ?", "sss",
		    service, type, id) < 0)
		return -1;
	return store_run(db, "DELETE FROM resource_tag WHERE service = ? AND type = ? AND id = ?",
		"sss", service, type, id);
}

int resource_count_children(sqlite3 *db, const char *service, const char *type,
	const char *parent)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db,
		    "SELECT count(*) FROM resource WHERE service = ? AND type = ? AND parent = ?", -1,
		    &st, NULL) != SQLITE_OK) {
		lc_log("resources: count: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, parent, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

json_t *resource_item(const struct resource *r)
{
	json_t *item = json_object();
	const char *k;
	json_t *v;

	/* members whose name starts with '_' are the service's own bookkeeping */
	json_object_foreach(r->attrs, k, v)
		if (k[0] != '_')
			json_object_set_new(item, k, json_deep_copy(v));
	if (r->tags != NULL && json_array_size(r->tags) > 0)
		json_object_set_new(item, "Tags", json_deep_copy(r->tags));
	return item;
}

int resource_glob(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (resource_glob(p + 1, s))
				return 1;
			if (*s == '\0')
				return 0;
		}
	}
	if (*s == '\0')
		return 0;
	if (*p == '?' || *p == *s)
		return resource_glob(p + 1, s + 1);
	return 0;
}

/* v (a scalar) as the text a filter value is compared with, into out */
static int scalar_text(const json_t *v, char *out, size_t size)
{
	if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_true(v))
		snprintf(out, size, "true");
	else if (json_is_false(v))
		snprintf(out, size, "false");
	else if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, size, "%g", json_real_value(v));
	else
		return -1;
	return 0;
}

/* 1 when some value at path under v (lists fan out) matches one of values */
static int path_match(const json_t *v, const char *path, const json_t *values)
{
	char step[128];
	const char *dot;
	size_t i, n;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (path_match(x, path, values))
				return 1;
		return 0;
	}
	if (*path == '\0') {
		char text[1024];

		if (scalar_text(v, text, sizeof(text)) < 0)
			return 0;
		json_array_foreach(values, i, x)
			if (json_is_string(x) && resource_glob(json_string_value(x), text))
				return 1;
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	dot = strchr(path, '.');
	n = dot != NULL ? (size_t)(dot - path) : strlen(path);
	if (n >= sizeof(step))
		return 0;
	memcpy(step, path, n);
	step[n] = '\0';
	x = json_object_get(v, step);
	if (x == NULL)
		return 0;
	return path_match(x, dot != NULL ? dot + 1 : "", values);
}

static int tag_match(const json_t *tags, const char *key, const json_t *values)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));

		if (k == NULL)
			continue;
		if (key == NULL) {
			/* tag-key: the values are keys */
			size_t j;
			json_t *x;

			json_array_foreach(values, j, x)
				if (json_is_string(x) && resource_glob(json_string_value(x), k))
					return 1;
		} else if (!strcmp(k, key) && path_match(json_object_get(t, "Value"), "", values))
			return 1;
	}
	return 0;
}

int resource_match(const json_t *item, const json_t *filters, const struct resource_filter *known,
	const char **bad_filter)
{
	const json_t *tags = json_object_get(item, "Tags");
	size_t i;
	json_t *f;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name"));
		const json_t *values = json_object_get(f, "Values");
		const struct resource_filter *k;
		int ok;

		if (name == NULL)
			continue;
		if (values == NULL)
			values = json_array();	/* matches nothing, as AWS's empty filter */
		else
			json_incref((json_t *)values);
		if (!strncmp(name, "tag:", 4))
			ok = tags != NULL && tag_match(tags, name + 4, values);
		else if (!strcmp(name, "tag-key"))
			ok = tags != NULL && tag_match(tags, NULL, values);
		else {
			for (k = known; k != NULL && k->name != NULL; k++)
				if (!strcmp(k->name, name))
					break;
			if (k == NULL || k->name == NULL) {
				json_decref((json_t *)values);
				*bad_filter = name;
				return -2;
			}
			ok = path_match(item, k->path, values);
		}
		json_decref((json_t *)values);
		if (!ok)
			return 0;
	}
	return 1;
}

static int id_wanted(const json_t *ids, const char *id)
{
	size_t i;
	json_t *x;

	if (ids == NULL)
		return 1;
	json_array_foreach(ids, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), id))
			return 1;
	return 0;
}

int resource_list(sqlite3 *db, const char *service, const char *type, const char *region,
	const json_t *ids, const json_t *filters, const struct resource_filter *known,
	json_t **out, const char **bad_filter)
{
	sqlite3_stmt *st = NULL;
	json_t *list = json_array();
	int rc, ret = -1;

	*out = NULL;
	if (sqlite3_prepare_v2(db,
		    "SELECT " RESOURCE_COLS " FROM resource WHERE service = ?1 AND type = ?2 "
		    "AND (?3 IS NULL OR region = ?3) ORDER BY created, rowid",
		    -1, &st, NULL) != SQLITE_OK) {
		lc_log("resources: list: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
	if (region != NULL)
		sqlite3_bind_text(st, 3, region, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct resource r = RESOURCE_INIT;
		json_t *item;
		int m;

		if (!id_wanted(ids, store_col_str(st, 2)))
			continue;
		if (resource_row(db, st, &r) < 0) {
			resource_release(&r);
			goto out;
		}
		item = resource_item(&r);
		resource_release(&r);
		m = filters != NULL ? resource_match(item, filters, known, bad_filter) : 1;
		if (m == -2) {
			json_decref(item);
			ret = -2;
			goto out;
		}
		if (m)
			json_array_append_new(list, item);
		else
			json_decref(item);
	}
	if (rc != SQLITE_DONE) {
		lc_log("resources: list: %s", sqlite3_errmsg(db));
		goto out;
	}
	*out = list;
	list = NULL;
	ret = 0;
out:
	sqlite3_finalize(st);
	json_decref(list);
	return ret;
}

json_t *resource_tags(sqlite3 *db, const char *service, const char *type, const char *id)
{
	sqlite3_stmt *st = NULL;
	json_t *tags;
	int rc;

	if (sqlite3_prepare_v2(db,
		    "SELECT key, value FROM resource_tag WHERE service = ? AND type = ? AND id = ? "
		    "ORDER BY key",
		    -1, &st, NULL) != SQLITE_OK) {
		lc_log("resources: tags: %s", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	tags = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", store_col_str(st, 0),
						    "Value", store_col_str(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		lc_log("resources: tags: %s", sqlite3_errmsg(db));
		json_decref(tags);
		return NULL;
	}
	return tags;
}

int resource_tag(sqlite3 *db, const char *service, const char *type, const char *id,
	const json_t *tags)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));

		if (k == NULL)
			continue;
		if (store_run(db,
			    "INSERT OR REPLACE INTO resource_tag (service, type, id, key, value) "
			    "VALUES (?, ?, ?, ?, ?)",
			    "sssss", service, type, id, k, v != NULL ? v : "") < 0)
			return -1;
	}
	return 0;
}

int resource_untag(sqlite3 *db, const char *service, const char *type, const char *id,
	const json_t *tags)
{
	size_t i;
	json_t *t;

	if (tags == NULL)
		return store_run(db,
			"DELETE FROM resource_tag WHERE service = ? AND type = ? AND id = ?", "sss",
			service, type, id);
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));

		if (k == NULL)
			continue;
		if (store_run(db,
			    "DELETE FROM resource_tag WHERE service = ? AND type = ? AND id = ? "
			    "AND key = ? AND (?5 IS NULL OR value = ?5)",
			    "sssss", service, type, id, k, v) < 0)
			return -1;
	}
	return 0;
}

json_t *resource_tags_all(sqlite3 *db, const char *service)
{
	sqlite3_stmt *st = NULL;
	json_t *tags;
	int rc;

	if (sqlite3_prepare_v2(db,
		    "SELECT key, value, id, type FROM resource_tag WHERE service = ? "
		    "ORDER BY id, key",
		    -1, &st, NULL) != SQLITE_OK) {
		lc_log("resources: tags: %s", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	tags = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(tags,
			json_pack("{s:s, s:s, s:s, s:s}", "Key", store_col_str(st, 0), "Value",
				store_col_str(st, 1), "ResourceId", store_col_str(st, 2),
				"ResourceType", store_col_str(st, 3)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		lc_log("resources: tags: %s", sqlite3_errmsg(db));
		json_decref(tags);
		return NULL;
	}
	return tags;
}
