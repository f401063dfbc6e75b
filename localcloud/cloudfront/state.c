/*
 * cloudfront/state.c: CloudFront's state in caliberd's store:
 * distributions (the DistributionConfig as the client sent it, as typed
 * values, and what the edge needs from it) and invalidations; the edge's
 * origin lookup and the names Route 53 may point at.  The API (api.c)
 * reads and writes through these; nothing here writes the wire.
 *
 * Configurations and invalidation batches are kept as JSON (the codec's
 * typed values).  Rows an older caliberd stored hold the XML the client
 * sent: they are read as the request that carried them (stored_value()).
 */
#include "compat.h"

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/objstore.h"
#include "core/store.h"
#include "internal.h"
#include "s3/s3.h"

static const char cf_schema[] =
	"CREATE TABLE IF NOT EXISTS cf_distribution ("
	" id TEXT PRIMARY KEY,"
	" domain TEXT NOT NULL UNIQUE,"
	" caller_reference TEXT NOT NULL UNIQUE,"
	" config TEXT NOT NULL,"
	" bucket TEXT,"
	" default_root TEXT NOT NULL DEFAULT '',"
	" aliases TEXT NOT NULL DEFAULT '',"
	" min_ttl INTEGER NOT NULL, default_ttl INTEGER NOT NULL, max_ttl INTEGER NOT NULL,"
	" enabled INTEGER NOT NULL,"
	" etag TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cf_invalidation ("
	" id TEXT PRIMARY KEY,"
	" distribution_id TEXT NOT NULL,"
	" caller_reference TEXT NOT NULL,"
	" paths TEXT NOT NULL,"
	" batch TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" UNIQUE (distribution_id, caller_reference));";

static int cf_origin_lookup(struct lc_server *srv, const char *distribution_id,
	struct edgectl_origin *out, struct err *e);

int cf_init(struct lc_server *srv, struct err *e)
{
	if (store_exec(srv->store, cf_schema, e) < 0)
		return -1;
	edgectl_origin_register(cf_origin_lookup);
	return 0;
}

/*
 * A stored document as its typed value: JSON, or the XML an older caliberd
 * kept verbatim, read as the body of op (whose payload is member).  NULL
 * when it reads as neither (logged).
 */
static json_t *stored_value(const char *text, const char *op, const char *path,
	const char *member)
{
	struct codec_error ce = CODEC_ERROR_INIT;
	const struct aws_model *m;
	struct aws_request req;
	struct err e = ERR_INIT;
	json_t *in = NULL, *v = NULL;

	if (text[0] != '<') {
		v = json_loads(text, 0, NULL);
		if (v == NULL)
			lc_log("cloudfront: a stored %s is not JSON", member);
		return v;
	}
	if ((m = aws_model_server_get("cloudfront", &e)) == NULL) {
		lc_log("cloudfront: %s", e.msg);
		return NULL;
	}
	aws_request_init(&req);
	buf_appends(&req.path, path);
	buf_appends(&req.body, text);
	if (codec_parse(m, op, &req, &in, &ce) == 0)
		v = json_incref(json_object_get(in, member));
	else
		lc_log("cloudfront: a stored %s does not read: %s", member, ce.message);
	json_decref(in);
	codec_error_release(&ce);
	aws_request_release(&req);
	return v;
}

static json_t *stored_config(const char *text)
{
	return stored_value(text, "UpdateDistribution", "/2020-05-31/distribution/E/config",
		"DistributionConfig");
}

static json_t *stored_batch(const char *text)
{
	return stored_value(text, "CreateInvalidation", "/2020-05-31/distribution/E/invalidation",
		"InvalidationBatch");
}

void cf_dist_release(struct cf_dist *d)
{
	json_decref(d->config);
	free(d->caller_reference);
	memset(d, 0, sizeof(*d));
}

static int in_progress(struct lc_server *srv, const char *id)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int n = 0;

	if (store_prepare(srv->store, "SELECT count(*) FROM cf_invalidation WHERE "
			"distribution_id = ? AND status = 'InProgress'", &st, &e) < 0)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int cf_dist_load(struct lc_server *srv, const char *id, struct cf_dist *d, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	memset(d, 0, sizeof(*d));
	if (store_prepare(srv->store, "SELECT id, domain, etag, config, created, "
			"caller_reference, enabled FROM cf_distribution WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(d->id, sizeof(d->id), "%s", sqlite3_column_text(st, 0));
		snprintf(d->domain, sizeof(d->domain), "%s", sqlite3_column_text(st, 1));
		snprintf(d->etag, sizeof(d->etag), "%s", sqlite3_column_text(st, 2));
		d->config = stored_config((const char *)sqlite3_column_text(st, 3));
		if (d->config == NULL)
			d->config = json_object();
		d->created = sqlite3_column_double(st, 4);
		d->caller_reference = xstrdup((const char *)sqlite3_column_text(st, 5));
		d->enabled = sqlite3_column_int(st, 6);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	}
	sqlite3_finalize(st);
	if (rc == 1)
		d->n_in_progress = in_progress(srv, d->id);
	return rc;
}

int cf_dists_load(struct lc_server *srv, struct cf_dist **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (store_prepare(srv->store, "SELECT id, domain, config, created FROM cf_distribution "
			"ORDER BY created, id", &st, e) < 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cf_dist *d;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		d = &(*out)[(*n)++];
		memset(d, 0, sizeof(*d));
		snprintf(d->id, sizeof(d->id), "%s", sqlite3_column_text(st, 0));
		snprintf(d->domain, sizeof(d->domain), "%s", sqlite3_column_text(st, 1));
		d->config = stored_config((const char *)sqlite3_column_text(st, 2));
		if (d->config == NULL)
			d->config = json_object();
		d->created = sqlite3_column_double(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
}

void cf_dists_free(struct cf_dist *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cf_dist_release(&d[i]);
	free(d);
}

int cf_alias_taken(struct lc_server *srv, const char *aliases, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *list, *save = NULL;
	int taken = 0;

	if (aliases[0] == '\0')
		return 0;
	if (store_prepare(srv->store, "SELECT 1 FROM cf_distribution WHERE "
			"' ' || aliases || ' ' LIKE '% ' || ? || ' %'", &st, e) < 0)
		return -1;
	list = xstrdup(aliases);
	for (char *a = strtok_r(list, " ", &save); a && !taken; a = strtok_r(NULL, " ", &save)) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
		taken = sqlite3_step(st) == SQLITE_ROW;
	}
	free(list);
	sqlite3_finalize(st);
	return taken;
}

/* Bind the config text and c's edge fields at i, i+1, ... (bucket, root, aliases, TTLs, enabled). */
static void bind_config(sqlite3_stmt *st, int i, const struct cf_config *c, const char *text)
{
	sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i + 1, c->bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i + 2, c->default_root, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i + 3, buf_str(&c->aliases), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i + 4, c->min_ttl);
	sqlite3_bind_int64(st, i + 5, c->default_ttl);
	sqlite3_bind_int64(st, i + 6, c->max_ttl);
	sqlite3_bind_int(st, i + 7, c->enabled);
}

int cf_dist_insert(struct lc_server *srv, const struct cf_dist *d, const struct cf_config *c,
	struct err *e)
{
	char *text = json_dumps(d->config, JSON_COMPACT);
	sqlite3_stmt *st = NULL;
	int step;

	if (store_prepare(srv->store, "INSERT INTO cf_distribution(id, domain, caller_reference,"
			" config, bucket, default_root, aliases, min_ttl, default_ttl, max_ttl,"
			" enabled, etag, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, e) < 0) {
		free(text);
		return -1;
	}
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d->domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->caller_reference, -1, SQLITE_TRANSIENT);
	bind_config(st, 4, c, text);
	sqlite3_bind_text(st, 12, d->etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 13, d->created);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	if (step == SQLITE_CONSTRAINT)
		return 1;
	if (step != SQLITE_DONE)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

int cf_dist_update(struct lc_server *srv, const struct cf_dist *d, const struct cf_config *c,
	struct err *e)
{
	char *text = json_dumps(d->config, JSON_COMPACT);
	sqlite3_stmt *st = NULL;
	int step;

	if (store_prepare(srv->store, "UPDATE cf_distribution SET config = ?, bucket = ?,"
			" default_root = ?, aliases = ?, min_ttl = ?, default_ttl = ?, max_ttl = ?,"
			" enabled = ?, etag = ? WHERE id = ?", &st, e) < 0) {
		free(text);
		return -1;
	}
	bind_config(st, 1, c, text);
	sqlite3_bind_text(st, 9, d->etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, d->id, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	if (step != SQLITE_DONE)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

int cf_dist_delete(struct lc_server *srv, const char *id, struct err *e)
{
	static const char *const sql[] = { "DELETE FROM cf_invalidation WHERE distribution_id = ?1",
		"DELETE FROM cf_distribution WHERE id = ?1" };
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		if (store_prepare(srv->store, sql[i], &st, e) < 0)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return 0;
}

int cf_invalidation_insert(struct lc_server *srv, const char *id, const char *dist,
	const char *caller, const char *paths, const json_t *batch, double created, struct err *e)
{
	char *text = json_dumps(batch, JSON_COMPACT);
	sqlite3_stmt *st = NULL;
	int step;

	if (store_prepare(srv->store, "INSERT INTO cf_invalidation(id, distribution_id,"
			" caller_reference, paths, batch, status, created) VALUES (?,?,?,?,?,"
			"'InProgress',?)", &st, e) < 0) {
		free(text);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, dist, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, caller, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, paths, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, created);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	if (step == SQLITE_CONSTRAINT)
		return 1;
	if (step != SQLITE_DONE)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

int cf_invalidation_complete(struct lc_server *srv, const char *id, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "UPDATE cf_invalidation SET status = 'Completed' "
			"WHERE id = ?", &st, e) == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return store_commit(srv->store, e);
}

int cf_invalidation_get(struct lc_server *srv, const char *dist, const char *id,
	struct cf_invalidation *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (store_prepare(srv->store, "SELECT status, created, batch FROM cf_invalidation WHERE "
			"distribution_id = ? AND id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, dist, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		snprintf(out->id, sizeof(out->id), "%s", id);
		snprintf(out->status, sizeof(out->status), "%s", sqlite3_column_text(st, 0));
		out->created = sqlite3_column_double(st, 1);
		out->batch = stored_batch((const char *)sqlite3_column_text(st, 2));
		if (out->batch == NULL)
			out->batch = json_object();
	}
	sqlite3_finalize(st);
	return found;
}

int cf_invalidations_load(struct lc_server *srv, const char *dist, struct cf_invalidation **out,
	size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (store_prepare(srv->store, "SELECT id, created, status FROM cf_invalidation WHERE "
			"distribution_id = ? ORDER BY created DESC, id", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, dist, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cf_invalidation *v;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		v = &(*out)[(*n)++];
		memset(v, 0, sizeof(*v));
		snprintf(v->id, sizeof(v->id), "%s", sqlite3_column_text(st, 0));
		v->created = sqlite3_column_double(st, 1);
		snprintf(v->status, sizeof(v->status), "%s", sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- the edge's origin: what a distribution serves ---- */

/*
 * The edge's origin server (core/edge-origin.c) asks which bucket and
 * TTLs a distribution has: one transaction on the store, as it did when
 * it lived here.
 */
static int cf_origin_lookup(struct lc_server *srv, const char *distribution_id,
	struct edgectl_origin *out, struct err *e)
{
	sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "SELECT bucket, default_root, min_ttl, default_ttl, max_ttl,"
			" enabled FROM cf_distribution WHERE id = ?", &st, e) == 0) {
		sqlite3_bind_text(st, 1, distribution_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			out->bucket = xstrdup((const char *)sqlite3_column_text(st, 0));
			out->default_root = xstrdup((const char *)sqlite3_column_text(st, 1));
			out->min_ttl = sqlite3_column_int64(st, 2);
			out->default_ttl = sqlite3_column_int64(st, 3);
			out->max_ttl = sqlite3_column_int64(st, 4);
			out->enabled = sqlite3_column_int(st, 5);
		}
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	out->objects = s3_objstore();
	return 0;
}

/* Route 53 names that point at a distribution: the sites the edge serves for CloudFront. */
int cf_distribution_for_domain(struct lc_server *srv, const char *domain, char *id, size_t id_len)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int found = 0;

	if (store_prepare(srv->store, "SELECT id FROM cf_distribution WHERE domain = ?", &st,
			&e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, id_len, "%s", sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}
