/*
 * ecs/scheduler.c: the scheduler: the supervisor thread (ecs_loop, its own
 * store connection, ten ticks a second), rolling deployments within
 * minimumHealthyPercent and maximumPercent, start-up recovery, ecs_init
 * and ecs_shutdown.
 * See internal.h for the picture: ECS as a whole is described there.
 */
#include "compat.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "hex.h"
#include "localcloud/images.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "elbv2/elbv2.h"
#include "logs/logs.h"
#include "secretsmanager/secretsmanager.h"
#include "core/store.h"
#include "core/supervisor.h"
#include "core/taskaddr.h"

static const char ecs_schema[] =
	"CREATE TABLE IF NOT EXISTS ecs_cluster ("
	" name TEXT PRIMARY KEY,"
	" arn TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ecs_taskdef ("
	" family TEXT NOT NULL,"
	" revision INTEGER NOT NULL,"
	" arn TEXT NOT NULL UNIQUE,"
	" status TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" registered REAL NOT NULL,"
	" deregistered REAL,"
	" PRIMARY KEY (family, revision));"
	"CREATE TABLE IF NOT EXISTS ecs_service ("
	" arn TEXT PRIMARY KEY,"
	" cluster TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" taskdef TEXT NOT NULL,"
	" desired INTEGER NOT NULL,"
	" min_healthy INTEGER NOT NULL,"
	" max_percent INTEGER NOT NULL,"
	" cb_enable INTEGER NOT NULL,"
	" cb_rollback INTEGER NOT NULL,"
	" last_good TEXT,"
	" steady INTEGER NOT NULL DEFAULT 0,"
	" extra TEXT NOT NULL DEFAULT '{}',"
	" region TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ecs_deployment ("
	" id TEXT PRIMARY KEY,"
	" service TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" taskdef TEXT NOT NULL,"
	" rollout TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" failed INTEGER NOT NULL DEFAULT 0,"
	" consecutive INTEGER NOT NULL DEFAULT 0,"
	" next_launch REAL NOT NULL DEFAULT 0,"
	" created REAL NOT NULL,"
	" updated REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ecs_event ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" service TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" message TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ecs_task ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" arn TEXT NOT NULL UNIQUE,"
	" id TEXT NOT NULL,"
	" cluster TEXT NOT NULL,"
	" taskdef TEXT NOT NULL,"
	" grp TEXT NOT NULL,"
	" started_by TEXT,"
	" service TEXT,"
	" deployment TEXT,"
	" last_status TEXT NOT NULL,"
	" desired_status TEXT NOT NULL,"
	" health TEXT NOT NULL DEFAULT 'UNKNOWN',"
	" has_hc INTEGER NOT NULL DEFAULT 0,"
	" addr TEXT NOT NULL DEFAULT '',"
	" overrides TEXT NOT NULL DEFAULT '{}',"
	" region TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" started REAL,"
	" stopping REAL,"
	" stopped REAL,"
	" stop_code TEXT,"
	" stopped_reason TEXT,"
	" failed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS ecs_task_live ON ecs_task (last_status);"
	"CREATE INDEX IF NOT EXISTS ecs_task_service ON ecs_task (service, deployment);"
	"CREATE TABLE IF NOT EXISTS ecs_container ("
	" task TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" image TEXT NOT NULL,"
	" digest TEXT,"
	" essential INTEGER NOT NULL,"
	" last_status TEXT NOT NULL,"
	" exit_code INTEGER,"
	" reason TEXT,"
	" health TEXT NOT NULL DEFAULT 'UNKNOWN',"
	" pid INTEGER,"
	" pid_start INTEGER,"
	" PRIMARY KEY (task, name));";

/* ------------------------------------------------------------------ */
/* services: rolling deployments and the circuit breaker, one tick     */

void deps_free(struct ecs_dep *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].id);
		free(d[i].td);
		free(d[i].rollout);
	}
	free(d);
}

int deps_load(sqlite3 *db, const char *service, struct ecs_dep **out, size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct ecs_dep *d = NULL;
	size_t n = 0, i;

	*out = NULL;
	*n_out = 0;
	if (sqlite3_prepare_v2(db,
		    "SELECT id, taskdef, rollout, failed, next_launch FROM ecs_deployment "
		    "WHERE service = ? AND status != 'INACTIVE' ORDER BY created DESC, rowid DESC",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		d = xrealloc(d, (n + 1) * sizeof(*d));
		memset(&d[n], 0, sizeof(*d));
		d[n].id = store_col_text(st, 0);
		d[n].td = store_col_text(st, 1);
		d[n].rollout = store_col_text(st, 2);
		d[n].failed = sqlite3_column_int64(st, 3);
		d[n].next_launch = sqlite3_column_double(st, 4);
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		if (sqlite3_prepare_v2(db,
			    "SELECT coalesce(sum(desired_status = 'RUNNING'), 0), "
			    "coalesce(sum(desired_status = 'RUNNING' AND last_status = 'RUNNING'), "
			    "0), "
			    "coalesce(sum(desired_status = 'RUNNING' AND last_status = 'RUNNING' "
			    "AND "
			    "(has_hc = 0 OR health = 'HEALTHY') AND NOT EXISTS (SELECT 1 FROM "
			    "elb_target "
			    "e WHERE e.ip = ecs_task.addr AND NOT (e.state = 'healthy' AND "
			    "e.in_edge = 1))), 0), count(*) "
			    "FROM ecs_task WHERE deployment = ? AND last_status != 'STOPPED'",
			    -1, &st, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, d[i].id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			d[i].live = sqlite3_column_int64(st, 0);
			d[i].running = sqlite3_column_int64(st, 1);
			d[i].healthy = sqlite3_column_int64(st, 2);
			d[i].remaining = sqlite3_column_int64(st, 3);
		}
		sqlite3_finalize(st);
	}
	*out = d;
	*n_out = n;
	return 0;
}

/*
 * Stop up to max live tasks of deployment dep; healthy ones only while
 * *healthy_budget allows (NULL: no limit).  Unhealthy and starting tasks
 * go first.  ids gets " (task <id>)" per stopped task.
 */
static long long deployment_stop(
	sqlite3 *db, const char *dep, long long max, long long *healthy_budget, struct buf *ids)
{
	sqlite3_stmt *st = NULL;
	char **arns = NULL, **tids = NULL;
	int *healthy = NULL;
	size_t n = 0, i;
	long long stopped = 0;
	char *why = xasprintf("Scaling activity initiated by (deployment %s)", dep);

	if (sqlite3_prepare_v2(db,
		    "SELECT arn, id, last_status = 'RUNNING' AND (has_hc = 0 OR health = "
		    "'HEALTHY') "
		    "AND NOT EXISTS (SELECT 1 FROM elb_target e WHERE e.ip = ecs_task.addr AND "
		    "NOT (e.state = 'healthy' AND e.in_edge = 1)) AS ok FROM ecs_task WHERE "
		    "deployment = ? AND "
		    "desired_status = 'RUNNING' "
		    "ORDER BY ok, seq DESC",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, dep, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		arns = xrealloc(arns, (n + 1) * sizeof(char *));
		tids = xrealloc(tids, (n + 1) * sizeof(char *));
		healthy = xrealloc(healthy, (n + 1) * sizeof(int));
		arns[n] = store_col_text(st, 0);
		tids[n] = store_col_text(st, 1);
		healthy[n] = sqlite3_column_int(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n && stopped < max; i++) {
		if (healthy[i] && healthy_budget != NULL) {
			if (*healthy_budget <= 0)
				continue;
			(*healthy_budget)--;
		}
		store_run(db,
			"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code = "
			"'ServiceSchedulerInitiated', stopped_reason = ? WHERE arn = ?",
			"ss", why, arns[i]);
		buf_appendf(ids, " (task %s)", tids[i]);
		stopped++;
	}
out:
	for (i = 0; i < n; i++) {
		free(arns[i]);
		free(tids[i]);
	}
	free(arns);
	free(tids);
	free(healthy);
	free(why);
	return stopped;
}

void deployment_new(
	sqlite3 *db, const char *service, const char *td, double now, char id[40])
{
	char *reason;

	deployment_id_new(id);
	reason = xasprintf("ECS deployment %s in progress.", id);
	store_run(db,
		"UPDATE ecs_deployment SET status = 'ACTIVE' WHERE service = ? AND status = "
		"'PRIMARY'",
		"s", service);
	store_run(db,
		"INSERT INTO ecs_deployment (id, service, status, taskdef, rollout, reason, "
		"created, "
		"updated) VALUES (?, ?, 'PRIMARY', ?, 'IN_PROGRESS', ?, ?, ?)",
		"ssssdd", id, service, td, reason, now, now);
	free(reason);
}

static void service_step(sqlite3 *db, const char *arn, double now)
{
	sqlite3_stmt *st = NULL;
	struct ecs_dep *d = NULL;
	size_t n = 0, i;
	char *name = NULL, *status = NULL, *cluster = NULL, *last_good = NULL, *region = NULL;
	long long desired, min_pct, max_pct, max_total, min_healthy, live_total = 0;
	long long healthy_total = 0, remaining_old = 0;
	int cb_enable, cb_rollback, steady, steady_now;
	struct buf ids = BUF_INIT;

	buf_init(&ids);
	if (sqlite3_prepare_v2(db,
		    "SELECT name, status, cluster, desired, min_healthy, max_percent, cb_enable, "
		    "cb_rollback, last_good, steady, region FROM ecs_service WHERE arn = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	name = store_col_text(st, 0);
	status = store_col_text(st, 1);
	cluster = store_col_text(st, 2);
	desired = sqlite3_column_int64(st, 3);
	min_pct = sqlite3_column_int64(st, 4);
	max_pct = sqlite3_column_int64(st, 5);
	cb_enable = sqlite3_column_int(st, 6);
	cb_rollback = sqlite3_column_int(st, 7);
	last_good = store_col_text(st, 8);
	steady = sqlite3_column_int(st, 9);
	region = store_col_text(st, 10);
	sqlite3_finalize(st);
	st = NULL;

	if (!strcmp(status, "DRAINING")) {
		int left = 0;

		store_run(db,
			"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code = "
			"'ServiceSchedulerInitiated', stopped_reason = 'Service deletion' WHERE "
			"service = ? AND desired_status = 'RUNNING'",
			"s", arn);
		if (sqlite3_prepare_v2(db,
			    "SELECT count(*) FROM ecs_task WHERE service = ? AND last_status != "
			    "'STOPPED'",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				left = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
		if (left == 0) {
			store_run(db, "UPDATE ecs_service SET status = 'INACTIVE' WHERE arn = ?",
				"s", arn);
			store_run(db,
				"UPDATE ecs_deployment SET status = 'INACTIVE' WHERE service = ?",
				"s", arn);
		}
		goto out;
	}
	if (deps_load(db, arn, &d, &n) < 0 || n == 0)
		goto out;

	/* the circuit breaker (breaker.c); the next tick works from the new state */
	if (breaker_trip(db, arn, name, &d[0], desired, cb_enable, cb_rollback, last_good, now))
		goto out;

	max_total = desired * max_pct / 100;
	min_healthy = (desired * min_pct + 99) / 100;
	for (i = 0; i < n; i++) {
		live_total += d[i].live;
		healthy_total += d[i].healthy;
	}

	/* start tasks of the primary deployment, within maximumPercent */
	if (strcmp(d[0].rollout, "FAILED") && d[0].live < desired && now >= d[0].next_launch) {
		long long want = desired - d[0].live, room = max_total - live_total, k;
		json_t *td = NULL;

		if (room < 0)
			room = 0;
		if (want > room)
			want = room;
		if (want > 0 && taskdef_load(db, d[0].td, &td) == 0) {
			char *group = xasprintf("service:%s", name);

			for (k = 0; k < want; k++) {
				char *tarn;

				if (task_create(db, region, cluster, td, group, d[0].id, arn,
					    d[0].id, NULL, now, &tarn) < 0)
					break;
				buf_appendf(&ids, " (task %s)", arn_tail(tarn));
				free(tarn);
			}
			if (k > 0)
				service_event(db, arn, now,
					"(service %s) has started %lld tasks:%s.", name, k,
					ids.data);
			live_total += k;
			free(group);
		}
		json_decref(td);
		buf_reset(&ids);
	}
	/* more than desired in the primary (scaled in): stop the extra ones */
	if (d[0].live > desired) {
		long long k = deployment_stop(db, d[0].id, d[0].live - desired, NULL, &ids);

		if (k > 0)
			service_event(db, arn, now,
				"(service %s) has stopped %lld running tasks:%s.", name, k,
				ids.data);
		buf_reset(&ids);
	}
	/* older deployments: stop while minimumHealthyPercent still holds */
	for (i = 1; i < n; i++) {
		long long budget = healthy_total - min_healthy, k;

		if (budget < 0)
			budget = 0;
		k = deployment_stop(db, d[i].id, d[i].live, &budget, &ids);
		healthy_total = min_healthy + budget;
		if (k > 0)
			service_event(db, arn, now,
				"(service %s) has stopped %lld running tasks:%s.", name, k,
				ids.data);
		buf_reset(&ids);
		if (d[i].remaining == 0)
			store_run(db,
				"UPDATE ecs_deployment SET status = 'INACTIVE', updated = ? WHERE "
				"id = ?",
				"ds", now, d[i].id);
		else
			remaining_old += d[i].remaining;
	}
	if (!strcmp(d[0].rollout, "IN_PROGRESS") && d[0].healthy == desired &&
		d[0].live == desired && remaining_old == 0) {
		char *reason = xasprintf("ECS deployment %s completed.", d[0].id);

		store_run(db,
			"UPDATE ecs_deployment SET rollout = 'COMPLETED', reason = ?, updated = ? "
			"WHERE id = ?",
			"sds", reason, now, d[0].id);
		store_run(db, "UPDATE ecs_service SET last_good = ? WHERE arn = ?", "ss", d[0].td,
			arn);
		service_event(db, arn, now, "(service %s) (deployment %s) deployment completed.",
			name, d[0].id);
		free(d[0].rollout);
		d[0].rollout = xstrdup("COMPLETED");
		free(reason);
	}
	steady_now = !strcmp(d[0].rollout, "COMPLETED") && d[0].healthy == desired &&
		     d[0].live == desired && remaining_old == 0;
	if (steady_now && !steady)
		service_event(db, arn, now, "(service %s) has reached a steady state.", name);
	if (steady_now != steady)
		store_run(db, "UPDATE ecs_service SET steady = ? WHERE arn = ?", "is",
			(long long)steady_now, arn);
out:
	deps_free(d, n);
	buf_release(&ids);
	free(name);
	free(status);
	free(cluster);
	free(last_good);
	free(region);
}

static void services_step(sqlite3 *db, double now)
{
	sqlite3_stmt *st = NULL;
	char **arns = NULL;
	size_t n = 0, i;

	if (sqlite3_prepare_v2(db, "SELECT arn FROM ecs_service WHERE status != 'INACTIVE'", -1,
		    &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		arns = xrealloc(arns, (n + 1) * sizeof(char *));
		arns[n++] = store_col_text(st, 0);
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		service_step(db, arns[i], now);
		free(arns[i]);
	}
	free(arns);
}

/* ------------------------------------------------------------------ */
/* the supervisor thread                                              */

static void *ecs_loop(void *arg)
{
	struct err e = ERR_INIT;
	struct pollfd *pfds = NULL;

	(void)arg;
	while (!__atomic_load_n(&ecs_sup.stopping, __ATOMIC_ACQUIRE)) {
		size_t i, np = 0;
		double now;
		sqlite3 *db;

		pfds = xrealloc(pfds, (ecs_sup.n_procs + 1) * sizeof(*pfds));
		for (i = 0; i < ecs_sup.n_procs; i++) {
			if (ecs_sup.procs[i]->fd < 0)
				continue;
			pfds[np].fd = ecs_sup.procs[i]->fd;
			pfds[np].events = POLLIN;
			np++;
		}
		if (np > 0)
			poll(pfds, np, ECS_TICK_MS);
		else
			usleep(ECS_TICK_MS * 1000);
		now = lc_now();
		for (i = 0; i < ecs_sup.n_procs; i++) {
			struct ecs_proc *p = ecs_sup.procs[i];

			proc_read(p);
			if (!p->exited && sup_reap(p->pid, &p->exit_code) != 0) {
				p->exited = 1;
				proc_read(p);
				if (p->fd >= 0) {
					/* a grandchild keeps the pipe: what is there has been read
					 */
					close(p->fd);
					p->fd = -1;
				}
			}
			proc_health(p, now);
		}
		if (store_begin(ecs_sup.store, &e) < 0) {
			lc_log("ecs: %s", e.msg);
			err_clear(&e);
			continue;
		}
		db = store_db(ecs_sup.store);
		lines_flush(db);
		tasks_prune(db, now);
		tasks_step(db, now);
		services_step(db, now);
		if (store_commit(ecs_sup.store, &e) < 0) {
			lc_log("ecs: %s", e.msg);
			err_clear(&e);
		}
		if (ecs_sup.edge_dirty) {
			ecs_sup.edge_dirty = 0;
			if (edgectl_sync(ecs_sup.srv, &e) < 0) {
				lc_log("ecs: edge sync: %s", e.msg);
				err_clear(&e);
			}
		}
	}
	free(pfds);
	return NULL;
}

/*
 * After a restart: the processes of the previous daemon got SIGTERM from
 * the kernel (PR_SET_PDEATHSIG); kill what is left of them, and record
 * their tasks as stopped.  Services then start new tasks.
 */
static int ecs_recover(sqlite3 *db, double now)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
		    "SELECT pid, pid_start FROM ecs_container WHERE pid IS NOT NULL AND task IN "
		    "(SELECT arn FROM ecs_task WHERE last_status != 'STOPPED')",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		pid_t pid = (pid_t)sqlite3_column_int64(st, 0);
		unsigned long long start = (unsigned long long)sqlite3_column_int64(st, 1);

		if (pid > 1 && start != 0 && sup_start_time(pid) == start)
			sup_signal(pid, SIGKILL);
	}
	sqlite3_finalize(st);
	/* their load balancer targets are gone with them */
	store_run(db,
		"DELETE FROM elb_target WHERE ip IN (SELECT addr FROM ecs_task WHERE last_status "
		"!= "
		"'STOPPED')",
		"");
	if (store_run(db,
		    "UPDATE ecs_task SET last_status = 'STOPPED', desired_status = 'STOPPED', "
		    "stop_code = coalesce(stop_code, 'TaskFailedToStart'), stopped_reason = "
		    "coalesce(stopped_reason, 'Task stopped: caliberd restarted'), stopping = "
		    "coalesce(stopping, ?1), stopped = ?1 WHERE last_status != 'STOPPED'",
		    "d", now) < 0)
		return -1;
	return store_run(db,
		"UPDATE ecs_container SET last_status = 'STOPPED', pid = NULL WHERE pid IS NOT "
		"NULL "
		"OR last_status != 'STOPPED'",
		"");
}

/* A whole number from the environment within [lo, hi]; def when unset or not one. */
static long env_long(const char *name, long def, long lo, long hi)
{
	const char *v = getenv(name);
	char *end = NULL;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end != '\0' || n < lo || n > hi) {
		lc_log("ecs: ignoring %s='%s': not a whole number from %ld to %ld", name, v, lo, hi);
		return def;
	}
	return n;
}

/* How many services (not INACTIVE) the cluster has. */
long long cluster_service_count(sqlite3 *db, const char *cluster_arn)
{
	sqlite3_stmt *st = NULL;
	long long n = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT count(*) FROM ecs_service WHERE cluster = ? AND status != 'INACTIVE'",
		    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int ecs_init(struct lc_server *srv, struct err *e)
{
	char *path = NULL;
	int ret = -1;

	if (store_exec(srv->store, ecs_schema, e) < 0)
		return -1;
	ecs_sup.srv = srv;
	ecs_sup.max_tasks = env_long("CALIBER_ECS_MAX_TASKS", ECS_DEFAULT_MAX_TASKS, 1, 100000);
	ecs_sup.retention = (double)env_long("CALIBER_ECS_STOPPED_RETENTION",
		(long)ECS_DEFAULT_STOPPED_RETENTION, 1, 86400 * 365);
	if (geteuid() == 0) {
		/* outside $CALIBER_HOME: modes said here, never taken from the umask */
		if (mkdir("/var/lib/caliber", 0755) == 0)
			chmod("/var/lib/caliber", 0755);
		if ((mkdir(ECS_TASK_IMAGE_DIR, 0755) < 0 && errno != EEXIST) ||
			chmod(ECS_TASK_IMAGE_DIR, 0755) < 0)
			return err_set(e, "unable to create '%s': %s", ECS_TASK_IMAGE_DIR,
				strerror(errno));
	}
	/* the supervisor's own connection: it outlives nothing and blocks no handler */
	path = localcloud_path(&srv->cfg, "caliberd.db");
	if (store_open(path, &ecs_sup.store, e) < 0)
		goto out;
	if (store_begin(ecs_sup.store, e) < 0)
		goto out;
	if (ecs_recover(store_db(ecs_sup.store), lc_now()) < 0) {
		store_rollback(ecs_sup.store);
		err_set(e, "unable to recover the tasks of the previous run");
		goto out;
	}
	if (store_commit(ecs_sup.store, e) < 0)
		goto out;
	if (pthread_create(&ecs_sup.thread, NULL, ecs_loop, NULL) != 0) {
		err_set(e, "unable to start the ECS supervisor thread");
		goto out;
	}
	ecs_sup.started = 1;
	ret = 0;
out:
	free(path);
	return ret;
}

void ecs_shutdown(void)
{
	double deadline;
	size_t i, left;

	if (!ecs_sup.started)
		return;
	__atomic_store_n(&ecs_sup.stopping, 1, __ATOMIC_RELEASE);
	pthread_join(ecs_sup.thread, NULL);
	ecs_sup.started = 0;
	/*
	 * Tasks do not outlive caliberd, not even one that ignores SIGTERM:
	 * SIGTERM to each task's process group, ECS_SHUTDOWN_GRACE seconds
	 * for them to end, then SIGKILL.  The store still calls them
	 * running; the next start records them stopped (ecs_recover).
	 */
	for (i = 0; i < ecs_sup.n_procs; i++)
		if (!ecs_sup.procs[i]->exited)
			sup_signal(ecs_sup.procs[i]->pid, SIGTERM);
	deadline = lc_now() + ECS_SHUTDOWN_GRACE;
	do {
		left = 0;
		for (i = 0; i < ecs_sup.n_procs; i++) {
			struct ecs_proc *p = ecs_sup.procs[i];

			if (!p->exited && sup_reap(p->pid, &p->exit_code) != 0)
				p->exited = 1;
			left += !p->exited;
		}
		if (left > 0)
			usleep(50000);
	} while (left > 0 && lc_now() < deadline);
	for (i = 0; i < ecs_sup.n_procs; i++) {
		struct ecs_proc *p = ecs_sup.procs[i];

		if (p->exited)
			continue;
		lc_log("ecs: task %s container %s ignored SIGTERM for %d s: killed", p->task,
			p->name, ECS_SHUTDOWN_GRACE);
		sup_signal(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->exited = 1;
	}
	store_close(ecs_sup.store);
	ecs_sup.store = NULL;
	/* every task has ended: their addresses are free for other caliberds */
	taskaddr_close();
}
