/*
 * elbv2/engine.c: what realises Elastic Load Balancing v2 behind its API:
 * the store's tables, the target health checker, the edge's view of the
 * load balancers, and the target functions the ECS supervisor calls.
 *
 * A load balancer is served by the edge under every name that a Route 53
 * alias (or CNAME) points at its DNSName, and under the DNSName itself: an
 * nginx upstream of the healthy targets of the target group the name
 * routes to (a host-header rule of the HTTPS listener, else the listener's
 * default action).  A health checker thread probes the targets; whenever
 * the set of healthy targets changes, the edge is re-synced (nginx reloads
 * gracefully).  A deregistered target drains: it leaves nginx at once and
 * stays "draining" for the group's deregistration delay, and the ECS
 * supervisor holds a task's SIGTERM until its targets have drained.
 */
#include "compat.h"

#include <math.h>
#include <pthread.h>

#include <curl/curl.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "core/store.h"

/* seconds after a sync until nginx's new workers are taken to serve it */
#define ELB_RELOAD_SETTLE 0.5

static const char elb_schema[] =
	"CREATE TABLE IF NOT EXISTS elb_lb ("
	" arn TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" dns TEXT NOT NULL,"
	" scheme TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS elb_tg ("
	" arn TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" protocol TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" target_type TEXT NOT NULL,"
	" hc_path TEXT NOT NULL,"
	" hc_interval INTEGER NOT NULL,"
	" hc_timeout INTEGER NOT NULL,"
	" healthy_threshold INTEGER NOT NULL,"
	" unhealthy_threshold INTEGER NOT NULL,"
	" matcher TEXT NOT NULL,"
	" dereg_delay INTEGER NOT NULL DEFAULT 300,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS elb_listener ("
	" arn TEXT PRIMARY KEY,"
	" lb TEXT NOT NULL,"
	" protocol TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" tg TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS elb_rule ("
	" arn TEXT PRIMARY KEY,"
	" listener TEXT NOT NULL,"
	" priority INTEGER NOT NULL,"
	" host TEXT NOT NULL,"
	" tg TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS elb_target ("
	" tg TEXT NOT NULL,"
	" ip TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" reason TEXT,"
	" ok INTEGER NOT NULL DEFAULT 0,"
	" bad INTEGER NOT NULL DEFAULT 0,"
	" next_check REAL NOT NULL DEFAULT 0,"
	" drain_until REAL,"
	/* 1 once nginx routes to it: only then does ECS count it healthy */
	" in_edge INTEGER NOT NULL DEFAULT 0,"
	/* DescribeTargetHealth's Description of the reason */
	" description TEXT,"
	" PRIMARY KEY (tg, ip, port));";

/* ------------------------------------------------------------------ */
/* the health checker                                                 */

static struct {
	struct lc_server *srv;
	struct store *store;
	pthread_t thread;
	int started;	/* the thread runs: elb_shutdown() joins it */
	int stopping;	/* set (atomically) by elb_shutdown(): the loop ends */
} elb_hc;

static size_t discard(void *p, size_t size, size_t n, void *user)
{
	(void)p;
	(void)user;
	return size * n;
}

/*
 * 1 healthy answer, 0 not; then why names the failure as
 * DescribeTargetHealth does (reason code, description; static strings or
 * the caller's buffer desc).
 */
static int probe(const char *ip, long port, const char *path, long timeout, const char *matcher,
	const char **reason, char *desc, size_t desc_len)
{
	CURL *c = curl_easy_init();
	char *url = xasprintf("http://%s:%ld%s", ip, port, path);
	long code = 0;
	int ok = 0;
	CURLcode rc;

	*reason = "Target.FailedHealthChecks";
	snprintf(desc, desc_len, "Health checks failed");
	if (c == NULL) {
		free(url);
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout * 1000);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		*reason = "Target.Timeout";
		snprintf(desc, desc_len, "Request timed out");
	} else if (rc != CURLE_OK) {
		snprintf(desc, desc_len, "Health checks failed: %s", curl_easy_strerror(rc));
	}
	if (rc == CURLE_OK &&
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK) {
		/* matcher: "200", "200,204" or "200-299" */
		const char *p = matcher;

		while (*p && !ok) {
			char *end = NULL;
			long lo = strtol(p, &end, 10), hi = lo;

			if (end == p)
				break;
			if (*end == '-')
				hi = strtol(end + 1, &end, 10);
			ok = code >= lo && code <= hi;
			p = *end == ',' ? end + 1 : end;
			if (*end != ',' && *end != '\0')
				break;
		}
		if (!ok) {
			*reason = "Target.ResponseCodeMismatch";
			snprintf(desc, desc_len, "Health checks failed with these codes: [%ld]", code);
		}
	}
	curl_easy_cleanup(c);
	free(url);
	return ok;
}

struct elb_due {
	char *tg, *ip, *path, *matcher;
	long port, timeout, interval, healthy, unhealthy;
	int result;
	const char *reason; /* of a failed probe */
	char desc[160];
};

/* The target group's name in its ARN (.../targetgroup/<name>/<id>), for log lines. */
const char *elb_tg_name(const char *arn, char *out, size_t len)
{
	const char *p = strstr(arn, ":targetgroup/");
	size_t n;

	if (p == NULL)
		return arn;
	p += strlen(":targetgroup/");
	n = strcspn(p, "/");
	snprintf(out, len, "%.*s", (int)n, p);
	return out;
}

static void *elb_loop(void *arg)
{
	struct err e = ERR_INIT;
	double synced = 0;

	(void)arg;
	while (!__atomic_load_n(&elb_hc.stopping, __ATOMIC_ACQUIRE)) {
		struct elb_due *due = NULL;
		size_t n = 0, i;
		sqlite3_stmt *st = NULL;
		sqlite3 *db;
		double now = lc_now();
		int changed = 0;

		usleep(200 * 1000);
		if (store_begin(elb_hc.store, &e) < 0) {
			err_clear(&e);
			continue;
		}
		db = store_db(elb_hc.store);
		/* drained targets go */
		if (sqlite3_prepare_v2(db,
			    "DELETE FROM elb_target WHERE state = 'draining' AND drain_until <= ? "
			    "RETURNING tg, ip, port",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, now);
			while (sqlite3_step(st) == SQLITE_ROW) {
				char name[64];

				lc_log("elbv2: target %s:%d of '%s': drained, deregistered",
					sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
					elb_tg_name((const char *)sqlite3_column_text(st, 0), name,
						sizeof(name)));
			}
			sqlite3_finalize(st);
		}
		if (sqlite3_prepare_v2(db,
			    "SELECT t.tg, t.ip, t.port, g.hc_path, g.matcher, g.hc_timeout, "
			    "g.hc_interval, g.healthy_threshold, g.unhealthy_threshold FROM "
			    "elb_target t "
			    "JOIN elb_tg g ON g.arn = t.tg WHERE t.state != 'draining' AND "
			    "t.next_check <= ?",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, now);
			while (sqlite3_step(st) == SQLITE_ROW) {
				due = xrealloc(due, (n + 1) * sizeof(*due));
				due[n].tg = xstrdup((const char *)sqlite3_column_text(st, 0));
				due[n].ip = xstrdup((const char *)sqlite3_column_text(st, 1));
				due[n].port = sqlite3_column_int(st, 2);
				due[n].path = xstrdup((const char *)sqlite3_column_text(st, 3));
				due[n].matcher = xstrdup((const char *)sqlite3_column_text(st, 4));
				due[n].timeout = sqlite3_column_int(st, 5);
				due[n].interval = sqlite3_column_int(st, 6);
				due[n].healthy = sqlite3_column_int(st, 7);
				due[n].unhealthy = sqlite3_column_int(st, 8);
				n++;
			}
			sqlite3_finalize(st);
		}
		store_commit(elb_hc.store, &e);
		/* probe outside the transaction: a slow target blocks nobody */
		for (i = 0; i < n; i++)
			due[i].result = probe(due[i].ip, due[i].port, due[i].path, due[i].timeout,
				due[i].matcher, &due[i].reason, due[i].desc, sizeof(due[i].desc));
		if (n > 0 && store_begin(elb_hc.store, &e) == 0) {
			db = store_db(elb_hc.store);
			for (i = 0; i < n; i++) {
				const char *state = NULL;
				char *was = NULL;
				sqlite3_stmt *u = NULL;

				if (sqlite3_prepare_v2(db,
					    "UPDATE elb_target SET ok = CASE WHEN ?1 THEN ok + 1 "
					    "ELSE 0 END, "
					    "bad = CASE WHEN ?1 THEN 0 ELSE bad + 1 END, "
					    "next_check = ?2 "
					    "WHERE tg = ?3 AND ip = ?4 AND port = ?5 AND state != "
					    "'draining' "
					    "RETURNING ok, bad, state",
					    -1, &u, NULL) != SQLITE_OK)
					continue;
				sqlite3_bind_int(u, 1, due[i].result);
				sqlite3_bind_double(u, 2, lc_now() + (double)due[i].interval);
				sqlite3_bind_text(u, 3, due[i].tg, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(u, 4, due[i].ip, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int(u, 5, (int)due[i].port);
				if (sqlite3_step(u) == SQLITE_ROW) {
					long ok = sqlite3_column_int(u, 0),
					     bad = sqlite3_column_int(u, 1);
					const char *cur = (const char *)sqlite3_column_text(u, 2);

					if (ok >= due[i].healthy && strcmp(cur, "healthy"))
						state = "healthy";
					else if (bad >= due[i].unhealthy &&
						 strcmp(cur, "unhealthy"))
						state = "unhealthy";
					if (state != NULL)
						was = xstrdup(cur);
				}
				sqlite3_finalize(u);
				if (state != NULL) {
					char name[64];
					int up = !strcmp(state, "healthy");

					if (sqlite3_prepare_v2(db,
						    "UPDATE elb_target SET state = ?, reason = ?, "
						    "description = ? WHERE tg = ? "
						    "AND ip = ? AND port = ?",
						    -1, &u, NULL) == SQLITE_OK) {
						sqlite3_bind_text(u, 1, state, -1, SQLITE_STATIC);
						if (up) {
							sqlite3_bind_null(u, 2);
							sqlite3_bind_null(u, 3);
						} else {
							sqlite3_bind_text(u, 2, due[i].reason, -1,
								SQLITE_STATIC);
							sqlite3_bind_text(u, 3, due[i].desc, -1,
								SQLITE_TRANSIENT);
						}
						sqlite3_bind_text(
							u, 4, due[i].tg, -1, SQLITE_TRANSIENT);
						sqlite3_bind_text(
							u, 5, due[i].ip, -1, SQLITE_TRANSIENT);
						sqlite3_bind_int(u, 6, (int)due[i].port);
						sqlite3_step(u);
						sqlite3_finalize(u);
					}
					if (up)
						lc_log("elbv2: target %s:%ld of '%s': %s -> healthy "
						       "(%ld checks passed): into the edge",
							due[i].ip, due[i].port,
							elb_tg_name(due[i].tg, name, sizeof(name)), was,
							due[i].healthy);
					else
						lc_log("elbv2: target %s:%ld of '%s': %s -> unhealthy "
						       "(%s: %s, %ld checks in a row)%s",
							due[i].ip, due[i].port,
							elb_tg_name(due[i].tg, name, sizeof(name)), was,
							due[i].reason, due[i].desc, due[i].unhealthy,
							strcmp(was, "healthy") ? "" :
							": out of the edge");
					changed = 1;
				}
				free(was);
			}
			if (store_commit(elb_hc.store, &e) < 0)
				err_clear(&e);
		}
		for (i = 0; i < n; i++) {
			free(due[i].tg);
			free(due[i].ip);
			free(due[i].path);
			free(due[i].matcher);
		}
		free(due);
		if (changed) {
			if (edgectl_sync(elb_hc.srv, &e) < 0) {
				lc_log("elbv2: edge sync: %s", e.msg);
				err_clear(&e);
			} else {
				synced = lc_now();
			}
		}
		/*
		 * nginx reloads on SIGHUP without saying when its new workers
		 * serve: half a second after the last sync, the targets that
		 * were healthy then are taken to be in nginx (ECS waits for it).
		 */
		if (synced > 0 && lc_now() - synced >= ELB_RELOAD_SETTLE &&
			store_begin(elb_hc.store, &e) == 0) {
			sqlite3_exec(store_db(elb_hc.store),
				"UPDATE elb_target SET in_edge = 1 WHERE state = 'healthy' AND "
				"in_edge = 0",
				NULL, NULL, NULL);
			if (store_commit(elb_hc.store, &e) < 0)
				err_clear(&e);
			synced = 0;
		}
		err_clear(&e);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the edge's view: names -> healthy upstreams                        */

static char *upstreams_of(sqlite3 *db, const char *tg)
{
	sqlite3_stmt *st = NULL;
	struct buf b = BUF_INIT;

	buf_init(&b);
	if (sqlite3_prepare_v2(db,
		    "SELECT ip, port FROM elb_target WHERE tg = ? AND state = 'healthy' ORDER BY "
		    "ip, "
		    "port",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, tg, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			buf_appendf(&b, "%s%s:%d", b.len ? " " : "", sqlite3_column_text(st, 0),
				sqlite3_column_int(st, 1));
		sqlite3_finalize(st);
	}
	return buf_detach(&b);
}

/* the target group serving host on load balancer lb (HTTPS listener first) */
static char *tg_for_host(sqlite3 *db, const char *lb, const char *host)
{
	sqlite3_stmt *st = NULL;
	char *tg = NULL;

	if (sqlite3_prepare_v2(db,
		    "SELECT r.tg FROM elb_rule r JOIN elb_listener l ON l.arn = r.listener WHERE "
		    "l.lb = ?1 AND lower(r.host) = lower(?2) ORDER BY l.protocol = 'HTTPS' DESC, "
		    "r.priority LIMIT 1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, lb, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			tg = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (tg != NULL)
		return tg;
	if (sqlite3_prepare_v2(db,
		    "SELECT tg FROM elb_listener WHERE lb = ? ORDER BY protocol = 'HTTPS' DESC, "
		    "port "
		    "LIMIT 1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, lb, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			tg = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	return tg;
}

static void site_add(sqlite3 *db, struct edgectl_sites *l, const char *lb, const char *host)
{
	char *tg = tg_for_host(db, lb, host), *up;

	if (tg == NULL)
		return; /* no listener: nothing to serve */
	up = upstreams_of(db, tg);
	edgectl_sites_add(l, host, EDGE_SITE_PROXY, NULL, up);
	free(up);
	free(tg);
}

static int elb_edge_sites(struct lc_server *srv, struct edgectl_sites *l, struct err *e)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;

	if (store_begin(srv->store, e) < 0)
		return -1;
	db = store_db(srv->store);
	/* names aliased to a load balancer (Route 53 keeps them lower case with a final dot) */
	if (sqlite3_prepare_v2(db,
		    "SELECT b.arn, rtrim(r.name, '.') FROM r53_record r JOIN elb_lb b ON "
		    "rtrim(coalesce(r.alias_dns, r.vals), '.') = b.dns WHERE r.type IN ('A', "
		    "'AAAA', "
		    "'CNAME') AND instr(r.name, '*') = 0 ORDER BY r.name",
		    -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			site_add(db, l, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(db, "SELECT arn, dns FROM elb_lb ORDER BY name", -1, &st, NULL) ==
		SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			site_add(db, l, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	return 0;
}

int elb_init(struct lc_server *srv, struct err *e)
{
	char *path = NULL;
	int ret = -1;

	if (store_exec(srv->store, elb_schema, e) < 0)
		return -1;
	/* stores from before the column: it is added once, the error after that is expected */
	if (store_exec(srv->store, "ALTER TABLE elb_target ADD COLUMN description TEXT", e) < 0)
		err_clear(e);
	edgectl_register(elb_edge_sites);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	elb_hc.srv = srv;
	path = localcloud_path(&srv->cfg, "caliberd.db");
	if (store_open(path, &elb_hc.store, e) < 0)
		goto out;
	if (pthread_create(&elb_hc.thread, NULL, elb_loop, NULL) != 0) {
		err_set(e, "unable to start the target health checker");
		goto out;
	}
	elb_hc.started = 1;
	ret = 0;
out:
	free(path);
	return ret;
}

void elb_shutdown(void)
{
	if (!elb_hc.started)
		return;
	__atomic_store_n(&elb_hc.stopping, 1, __ATOMIC_RELEASE);
	pthread_join(elb_hc.thread, NULL);
	elb_hc.started = 0;
	store_close(elb_hc.store);
	elb_hc.store = NULL;
}

/* ------------------------------------------------------------------ */
/* for the ECS supervisor                                             */

int elb_target_register(sqlite3 *db, const char *tg, const char *ip, long port)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
		    "INSERT INTO elb_target (tg, ip, port, state, reason, description) VALUES (?, "
		    "?, ?, 'initial', 'Elb.RegistrationInProgress', 'Target registration is in "
		    "progress') ON CONFLICT (tg, ip, port) DO UPDATE SET state = 'initial', reason "
		    "= 'Elb.RegistrationInProgress', description = 'Target registration is in "
		    "progress', ok = 0, bad = 0, next_check = 0, in_edge = 0, drain_until = NULL",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, tg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, port);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Start draining every target at ip (why: for the log); 1 while some still drain, 0 when none left. */
int elb_targets_drain(sqlite3 *db, const char *ip, double now, const char *why, int *changed)
{
	sqlite3_stmt *st = NULL;
	int left = 0;

	if (sqlite3_prepare_v2(db,
		    "UPDATE elb_target SET state = 'draining', reason = "
		    "'Target.DeregistrationInProgress', description = 'Target deregistration is "
		    "in progress', "
		    "drain_until = ?1 + (SELECT dereg_delay FROM elb_tg WHERE arn = elb_target.tg) "
		    "WHERE ip = ?2 AND state != 'draining' RETURNING tg, port, drain_until - ?1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char name[64];

			lc_log("elbv2: target %s:%d of '%s': draining for %.0f s, out of the edge "
			       "(%s)",
				ip, sqlite3_column_int(st, 1),
				elb_tg_name((const char *)sqlite3_column_text(st, 0), name, sizeof(name)),
				sqlite3_column_double(st, 2), why ? why : "deregistered");
			if (changed != NULL)
				*changed = 1;
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(db,
		    "SELECT count(*) FROM elb_target WHERE ip = ? AND drain_until > ?", -1, &st,
		    NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 2, now);
		if (sqlite3_step(st) == SQLITE_ROW)
			left = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return left > 0;
}
