/*
 * route53/state.c: Route 53's state in caliberd's store: hosted zones,
 * their record sets and changes, the names Route 53 takes, and the sites
 * the edge serves from them.  The API (api.c) reads and writes through
 * these; nothing here knows the wire.
 *
 * Record sets are listed in AWS's order (names by their labels read from
 * the right, then type); a change the edge has not applied stays PENDING
 * (r53_change_pending) until a later sync succeeds.
 */
#include "compat.h"

#include <ctype.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/store.h"
#include "cloudfront/cloudfront.h"
#include "internal.h"

static const char r53_schema[] =
	"CREATE TABLE IF NOT EXISTS r53_zone ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" caller_reference TEXT NOT NULL UNIQUE,"
	" comment TEXT,"
	" private INTEGER NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS r53_record ("
	" zone_id TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" set_identifier TEXT NOT NULL DEFAULT '',"
	" ttl INTEGER,"
	" vals TEXT NOT NULL DEFAULT '',"
	" alias_zone TEXT,"
	" alias_dns TEXT,"
	" alias_eval INTEGER,"
	" PRIMARY KEY (zone_id, name, type, set_identifier));"
	"CREATE TABLE IF NOT EXISTS r53_change ("
	" id TEXT PRIMARY KEY,"
	" submitted REAL NOT NULL,"
	" comment TEXT);"
	/* changes the edge has not applied yet: GetChange says PENDING for them */
	"CREATE TABLE IF NOT EXISTS r53_change_pending ("
	" id TEXT PRIMARY KEY);";

static int r53_edge_sites(struct lc_server *srv, struct edgectl_sites *l, struct err *e);

int r53_init(struct lc_server *srv, struct err *e)
{
	if (store_exec(srv->store, r53_schema, e) < 0)
		return -1;
	edgectl_register(r53_edge_sites);
	return 0;
}

/*
 * What Route 53 finds wrong with a name, in its words ("DomainLabelTooLong
 * (Domain label is too long)"), or NULL when it is a name: labels of 1 to
 * 63 characters, 253 at most without the final dot (255 bytes on the
 * wire), letters, digits, '-', '_' and '*' ("\052") only.  The edge
 * serves these names: what passes here, nginx and the CA take.
 */
const char *r53_name_problem(const char *in)
{
	size_t label = 0, total = 0;

	if (*in == '\0' || strcmp(in, ".") == 0)
		return "DomainLabelEmpty (Domain label is empty)";
	for (const char *p = in; *p; p++, total++) {
		if (strncmp(p, "\\052", 4) == 0) {
			p += 3;
			label++;
			continue;
		}
		if (*p == '.') {
			if (label == 0)
				return "DomainLabelEmpty (Domain label is empty)";
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '*'))
			return "UnsupportedCharacter (Value contains unsupported characters)";
		if (++label > 63)
			return "DomainLabelTooLong (Domain label is too long)";
	}
	if (total > 0 && in[strlen(in) - 1] == '.')
		total--;
	if (total > 253)
		return "DomainNameTooLong (Domain name is too long)";
	return NULL;
}

/*
 * A DNS name as Route 53 keeps it: lower case, with the final dot, "\052"
 * read as '*'.  NULL when it is not a name (name_problem says why).
 */
char *r53_name_normalize(const char *in)
{
	struct buf b;
	size_t n;

	if (r53_name_problem(in) != NULL)
		return NULL;
	buf_init(&b);
	for (const char *p = in; *p; p++) {
		if (strncmp(p, "\\052", 4) == 0) {
			buf_appendc(&b, '*');
			p += 3;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_' ||
				*p == '*')) {
			buf_release(&b);
			return NULL;
		}
		buf_appendc(&b, (char)tolower((unsigned char)*p));
	}
	n = b.len;
	if (n == 0 || (n == 1 && b.data[0] == '.') || strstr(b.data, "..") || b.data[0] == '.') {
		buf_release(&b);
		return NULL;
	}
	if (b.data[n - 1] != '.')
		buf_appendc(&b, '.');
	return buf_detach(&b);
}

int r53_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && strcmp(name + n - z, zone) == 0 && name[n - z - 1] == '.';
}

int r53_change_insert(struct lc_server *srv, const char *id, double when, const char *comment,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (store_prepare(srv->store, "INSERT INTO r53_change(id, submitted, comment) VALUES "
			"(?,?,?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, when);
	if (comment)
		sqlite3_bind_text(st, 3, comment, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

int r53_record_insert(struct lc_server *srv, const char *zone, const char *name,
	const char *type, const char *set_id, long ttl, const char *vals, const char *alias_zone,
	const char *alias_dns, int alias_eval, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (store_prepare(srv->store, "INSERT OR REPLACE INTO r53_record(zone_id, name, type,"
			" set_identifier, ttl, vals, alias_zone, alias_dns, alias_eval) VALUES"
			" (?,?,?,?,?,?,?,?,?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, set_id ? set_id : "", -1, SQLITE_TRANSIENT);
	if (ttl >= 0)
		sqlite3_bind_int64(st, 5, ttl);
	sqlite3_bind_text(st, 6, vals ? vals : "", -1, SQLITE_TRANSIENT);
	if (alias_dns) {
		sqlite3_bind_text(st, 7, alias_zone, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, alias_dns, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 9, alias_eval);
	}
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

/* Reversed-label order of names, Route 53's listing order. */
char *r53_reversed(const char *name)
{
	size_t n = strlen(name);
	struct buf b;
	char *copy = xstrndup(name, n && name[n - 1] == '.' ? n - 1 : n);
	char *p;

	buf_init(&b);
	while ((p = strrchr(copy, '.')) != NULL) {
		buf_appends(&b, p + 1);
		buf_appendc(&b, '.');
		*p = '\0';
	}
	buf_appends(&b, copy);
	free(copy);
	return buf_detach(&b);
}

static int zone_cmp(const void *a, const void *b)
{
	const struct r53_zone_row *x = a, *y = b;
	int c = strcmp(x->sort, y->sort);

	return c ? c : strcmp(x->id, y->id);
}

int r53_zones_load(struct lc_server *srv, struct r53_zone_row **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (store_prepare(srv->store, "SELECT z.id, z.name, z.caller_reference, z.comment, "
			"z.private, (SELECT count(*) FROM r53_record r WHERE r.zone_id = z.id) "
			"FROM r53_zone z", &st, e) < 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct r53_zone_row *z;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		z = &(*out)[(*n)++];
		z->id = xstrdup((const char *)sqlite3_column_text(st, 0));
		z->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		z->caller = xstrdup((const char *)sqlite3_column_text(st, 2));
		z->comment = sqlite3_column_text(st, 3) ?
			xstrdup((const char *)sqlite3_column_text(st, 3)) : NULL;
		z->private_zone = sqlite3_column_int(st, 4);
		z->count = sqlite3_column_int64(st, 5);
		z->sort = r53_reversed(z->name);
	}
	sqlite3_finalize(st);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), zone_cmp);
	return 0;
}

void r53_zones_free(struct r53_zone_row *z, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(z[i].id);
		free(z[i].name);
		free(z[i].caller);
		free(z[i].comment);
		free(z[i].sort);
	}
	free(z);
}

/* The zone's name (caller frees) or NULL when there is no such zone. */
char *r53_zone_name(struct lc_server *srv, const char *id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *name = NULL;

	if (store_prepare(srv->store, "SELECT name FROM r53_zone WHERE id = ?", &st, e) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return name;
}

void r53_change_release(struct r53_change *c)
{
	free(c->action);
	free(c->name);
	free(c->type);
	free(c->set_id);
	buf_release(&c->vals);
	free(c->alias_zone);
	free(c->alias_dns);
}

/*
 * Does (zone, name, type, set_id) exist; if so, does it equal c?  -1 error,
 * 0 no, 1 yes-differs, 2 yes-equal.
 */
int r53_record_state(struct lc_server *srv, const char *zone, const struct r53_change *c,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int state = 0;

	if (store_prepare(srv->store, "SELECT ttl, vals, alias_zone, alias_dns FROM r53_record "
			"WHERE zone_id = ? AND name = ? AND type = ? AND set_identifier = ?", &st,
			e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c->set_id ? c->set_id : "", -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *vals = (const char *)sqlite3_column_text(st, 1);
		const char *adns = (const char *)sqlite3_column_text(st, 3);
		long ttl = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
			(long)sqlite3_column_int64(st, 0);
		int same;

		if (c->alias_dns)
			same = adns && strcmp(adns, c->alias_dns) == 0;
		else
			same = adns == NULL && ttl == c->ttl && strcmp(vals, buf_str(&c->vals)) == 0;
		state = same ? 2 : 1;
	}
	sqlite3_finalize(st);
	return state;
}

/* Other types at the same name (for CNAME's exclusivity); -1 on error. */
int r53_others_at_name(struct lc_server *srv, const char *zone, const char *name,
	const char *type, int cname_only, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (store_prepare(srv->store, cname_only ?
			"SELECT count(*) FROM r53_record WHERE zone_id = ? AND name = ? AND type = "
			"'CNAME' AND type <> ?" :
			"SELECT count(*) FROM r53_record WHERE zone_id = ? AND name = ? AND type <> ?",
			&st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Mark change id as not yet applied by the edge. */
int r53_change_pending(struct lc_server *srv, const char *id, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "INSERT OR IGNORE INTO r53_change_pending (id) VALUES (?)",
			&st, e) < 0) {
		store_rollback(srv->store);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return store_commit(srv->store, e);
}

/*
 * Is change id applied by the edge?  One that was not is tried again now;
 * once the edge takes the sites, every pending change is in sync.
 */
int r53_change_insync(struct lc_server *srv, const char *id)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int pending = 0;

	if (store_begin(srv->store, &e) < 0)
		goto out;
	if (store_prepare(srv->store, "SELECT 1 FROM r53_change_pending WHERE id = ?", &st,
			&e) == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		pending = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	if (!pending)
		return 1;
	if (edgectl_sync(srv, &e) < 0)
		goto out;
	if (store_begin(srv->store, &e) < 0)
		goto out;
	if (store_prepare(srv->store, "DELETE FROM r53_change_pending", &st, &e) == 0) {
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (store_commit(srv->store, &e) < 0)
		goto out;
	return 1;
out:
	if (e.msg[0])
		lc_log("route53: edge: %s", e.msg);
	return 0;
}

int r53_zone_insert(struct lc_server *srv, const char *id, const char *name, const char *caller,
	const char *comment, int private_zone, double created, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (store_prepare(srv->store, "INSERT INTO r53_zone(id, name, caller_reference, comment,"
			" private, created) VALUES (?,?,?,?,?,?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, caller, -1, SQLITE_TRANSIENT);
	if (comment)
		sqlite3_bind_text(st, 4, comment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, private_zone);
	sqlite3_bind_double(st, 6, created);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_CONSTRAINT)
		return 1;
	if (step != SQLITE_DONE)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	if (r53_record_insert(srv, id, name, "NS", NULL, 172800, R53_NAME_SERVER_1 ".\n"
			R53_NAME_SERVER_2 ".", NULL, NULL, 0, e) < 0 ||
			r53_record_insert(srv, id, name, "SOA", NULL, 900, R53_NAME_SERVER_1
			". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", NULL, NULL, 0,
			e) < 0)
		return -1;
	return 0;
}

int r53_zone_extra_records(struct lc_server *srv, const char *id, const char *name, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (store_prepare(srv->store, "SELECT count(*) FROM r53_record WHERE zone_id = ?1 AND "
			"NOT (name = ?2 AND type IN ('NS', 'SOA'))", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int r53_zone_delete(struct lc_server *srv, const char *id, struct err *e)
{
	static const char *const sql[] = { "DELETE FROM r53_record WHERE zone_id = ?1",
		"DELETE FROM r53_zone WHERE id = ?1" };
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

int r53_record_delete(struct lc_server *srv, const char *zone, const struct r53_change *c,
	struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_prepare(srv->store, "DELETE FROM r53_record WHERE zone_id = ? AND name = ? AND "
			"type = ? AND set_identifier = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c->set_id ? c->set_id : "", -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return 0;
}

static int rr_cmp(const void *a, const void *b)
{
	const struct r53_rr_row *x = a, *y = b;
	int c = strcmp(x->sort, y->sort);

	if (c == 0)
		c = strcmp(x->type, y->type);
	if (c == 0)
		c = strcmp(x->set_id, y->set_id);
	return c;
}

int r53_records_load(struct lc_server *srv, const char *zone, struct r53_rr_row **out, size_t *n,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (store_prepare(srv->store, "SELECT name, type, set_identifier, ttl, vals, alias_zone,"
			" alias_dns, alias_eval FROM r53_record WHERE zone_id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct r53_rr_row *r;

		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		r = &(*out)[(*n)++];
		r->name = xstrdup((const char *)sqlite3_column_text(st, 0));
		r->type = xstrdup((const char *)sqlite3_column_text(st, 1));
		r->set_id = xstrdup((const char *)sqlite3_column_text(st, 2));
		r->ttl = (long)sqlite3_column_int64(st, 3);
		r->vals = xstrdup((const char *)sqlite3_column_text(st, 4));
		r->alias_zone = sqlite3_column_text(st, 5) ?
			xstrdup((const char *)sqlite3_column_text(st, 5)) : NULL;
		r->alias_dns = sqlite3_column_text(st, 6) ?
			xstrdup((const char *)sqlite3_column_text(st, 6)) : NULL;
		r->alias_eval = sqlite3_column_int(st, 7);
		r->sort = r53_reversed(r->name);
	}
	sqlite3_finalize(st);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), rr_cmp);
	return 0;
}

void r53_records_free(struct r53_rr_row *rows, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(rows[k].name);
		free(rows[k].type);
		free(rows[k].set_id);
		free(rows[k].vals);
		free(rows[k].alias_zone);
		free(rows[k].alias_dns);
		free(rows[k].sort);
	}
	free(rows);
}

int r53_change_get(struct lc_server *srv, const char *id, double *when, char **comment,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	*comment = NULL;
	if (store_prepare(srv->store, "SELECT submitted, comment FROM r53_change WHERE id = ?",
			&st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		*when = sqlite3_column_double(st, 0);
		if (sqlite3_column_text(st, 1))
			*comment = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return found;
}

/* The edge's CloudFront sites: names whose alias or CNAME points at a distribution. */
static int r53_edge_sites(struct lc_server *srv, struct edgectl_sites *l, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "SELECT name, type, alias_dns, vals FROM r53_record WHERE "
			"type IN ('A', 'AAAA', 'CNAME') ORDER BY name", &st, e) < 0) {
		store_rollback(srv->store);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *adns = (const char *)sqlite3_column_text(st, 2);
		const char *vals = (const char *)sqlite3_column_text(st, 3);
		char *target, *host, dist[32];
		size_t len;

		if (strchr(name, '*'))
			continue;	/* wildcard names: not served */
		target = xstrdup(adns ? adns : vals);
		len = strlen(target);
		if (len > 0 && target[len - 1] == '.')
			target[len - 1] = '\0';
		host = xstrdup(name);
		len = strlen(host);
		if (len > 0 && host[len - 1] == '.')
			host[len - 1] = '\0';
		if (cf_distribution_for_domain(srv, target, dist, sizeof(dist)) == 1)
			edgectl_sites_add(l, host, EDGE_SITE_DISTRIBUTION, dist, NULL);
		free(target);
		free(host);
	}
	sqlite3_finalize(st);
	store_rollback(srv->store);
	return 0;
}
