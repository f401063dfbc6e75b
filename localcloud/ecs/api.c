/*
 * svc-ecs.c: Amazon ECS (JSON 1.1, AmazonEC2ContainerServiceV20141113) on
 * caliberd: clusters, task definitions, services with rolling deployments
 * and the deployment circuit breaker, and tasks run as supervised local
 * processes from the image store (lib/localcloud/images.h).
 *
 * Two halves share the store and nothing else:
 *
 *  - the API handlers record intent (a task to run, a service's desired
 *    count and task definition, a task to stop) in SQLite and answer at
 *    once, as ECS does;
 *  - one supervisor thread (ecs_loop, its own SQLite connection) makes it
 *    so, ten times a second: starts and stops processes (supervisor.h),
 *    reads their output into CloudWatch Logs, runs container health
 *    checks, reaps exits, and moves every service towards its desired
 *    state: rolling deployments within minimumHealthyPercent and
 *    maximumPercent, the circuit breaker (threshold: half the desired
 *    count, at least 3 and at most 200) and rollback to the last
 *    deployment that completed.
 *
 * Every task gets its own loopback address 127.100.x.y (Linux routes all
 * of 127/8 to lo), so many tasks listen on the same container port; no
 * other caliberd on the machine hands out the same one (taskaddr.h).  The
 * task learns it from CALIBER_TASK_HOST, and its first container port from
 * PORT.  Health check commands run in the container's environment and
 * directory: they reach the task at $CALIBER_TASK_HOST, not localhost.
 *
 * Load balancers: a service's loadBalancers put each task's address into
 * the target groups when it starts (svc-elbv2.c); a task counts as healthy
 * for a deployment once its targets are healthy, and a task being stopped
 * is drained (DEACTIVATING) before it gets SIGTERM.
 *
 * Restart: tasks do not outlive caliberd (PR_SET_PDEATHSIG).  At start-up
 * every task the store still calls live is stopped ("caliberd restarted"),
 * leftover processes of the previous daemon (same pid and kernel start
 * time) are killed, and services start new tasks up to their desired
 * counts; deployments in progress go on where they were.
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
#include "core/json-input.h"
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

#define ECS_ACCOUNT		 "000000000000"
#define ECS_TICK_MS		 100
#define ECS_MAX_EVENTS		 100
#define ECS_LINE_MAX		 16384
#define ECS_MAX_STOP_TIMEOUT 120
/* ECS's quotas (Service Quotas: "Tasks per service", "Services per cluster") */
#define ECS_MAX_TASKS_PER_SERVICE 5000
#define ECS_MAX_SERVICES_PER_CLUSTER 5000
/*
 * This machine's limits: at most this many tasks run at once (the rest stay
 * PROVISIONING with a service event, as on ECS without capacity;
 * CALIBER_ECS_MAX_TASKS), at most ECS_LAUNCHES_PER_TICK started per tick,
 * and STOPPED tasks are forgotten after an hour as on ECS
 * (CALIBER_ECS_STOPPED_RETENTION, seconds).
 */
#define ECS_DEFAULT_MAX_TASKS 64
#define ECS_LAUNCHES_PER_TICK 4
#define ECS_DEFAULT_STOPPED_RETENTION 3600.0
/* at caliberd's stop: how long tasks get between SIGTERM and SIGKILL */
#define ECS_SHUTDOWN_GRACE 10
#define ECS_DEFAULT_STOP_TIMEOUT 30
/*
 * caliberd as root runs each task as a user of its own, uid (and gid)
 * ECS_TASK_UID_BASE + 65536 * B + 250 * x + y - 1 for the task at 127.B.x.y
 * (addresses are unique on the machine: taskaddr.h), no passwd
 * entry (as systemd's DynamicUser), never root, never another task's, so a
 * task cannot read another's environment (its secrets) or signal it.  It
 * sees its image read-only at ECS_TASK_IMAGE_DIR and caliberd's home not at
 * all (an empty tmpfs over it).
 */
#define ECS_TASK_UID_BASE 1900000000u
#define ECS_TASK_IMAGE_DIR "/var/lib/caliber/task-image"
#define ECS_DEFAULT_PATH	 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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
/* small helpers                                                      */

static void random_hex(char *out, size_t nbytes)
{
	unsigned char r[32];

	RAND_bytes(r, (int)nbytes);
	hex_encode(r, nbytes, out);
}

static void deployment_id_new(char out[40])
{
	unsigned char r[8];
	unsigned long long v;

	RAND_bytes(r, sizeof(r));
	memcpy(&v, r, sizeof(v));
	snprintf(out, 40, "ecs-svc/%019llu", v % 10000000000000000000ULL);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	return store_col_text(st, i);
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* the last part of an ARN-or-name: "arn:...:cluster/x" -> "x" */
static const char *arn_tail(const char *s)
{
	const char *slash;

	if (strncmp(s, "arn:", 4))
		return s;
	slash = strrchr(s, '/');
	return slash != NULL ? slash + 1 : s;
}

static json_t *json_time(double t)
{
	return json_real(floor(t * 1000.0) / 1000.0);
}

/*
 * Set by a failed step_done() on this thread.  An API call whose write
 * failed answers 500 and writes nothing (ecs_step); the supervisor keeps
 * what its tick did (it has started or stopped processes by then) and the
 * failure is in the log.
 */
static _Thread_local int ecs_write_failed;

static int step_done(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	/*
	 * Run one statement with its bindings: fmt has one letter per ?:
	 * s (const char *, NULL binds NULL), i (long long), d (double).
	 */
	sqlite3_stmt *st = NULL;
	va_list ap;
	int i, rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		lc_log("ecs: prepare: %s: %s", sqlite3_errmsg(db), sql);
		ecs_write_failed = 1;
		return -1;
	}
	va_start(ap, fmt);
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 's') {
			const char *s = va_arg(ap, const char *);

			if (s == NULL)
				sqlite3_bind_null(st, i + 1);
			else
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
		} else if (fmt[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
		} else {
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		lc_log("ecs: step: %s: %s", sqlite3_errmsg(db), sql);
		ecs_write_failed = 1;
		return -1;
	}
	return 0;
}

static void service_event(sqlite3 *db, const char *service_arn, double now, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void service_event(sqlite3 *db, const char *service_arn, double now, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	/* allocated: a message names services and tasks of up to 255 characters */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	step_done(db, "INSERT INTO ecs_event (service, created, message) VALUES (?, ?, ?)", "sds",
		service_arn, now, msg);
	free(msg);
}

/* failure threshold of the circuit breaker: 0.5 * desired, in [3, 200] */
static long long cb_threshold(long long desired)
{
	long long t = (desired + 1) / 2;

	return t < 3 ? 3 : t > 200 ? 200 : t;
}

/* ------------------------------------------------------------------ */
/* secrets: read through Secrets Manager, inside our transaction      */

/*
 * The value a container definition's secret names: valueFrom is a
 * Secrets Manager ARN (full or partial, or a name in the task's region),
 * optionally followed by :json-key:version-stage:version-id as ECS allows.
 * Secrets Manager reads it (sm_secret_value_read) inside our transaction.
 */
static int secret_resolve(sqlite3 *db, const unsigned char *key, const char *region,
	const char *value_from, struct buf *out, struct err *e)
{
	char *base = NULL, *json_key = NULL, *stage = NULL, *version = NULL;
	const char *p;
	struct buf plain = BUF_INIT;
	json_t *doc = NULL;
	int ret = -1;

	buf_init(&plain);
	p = strstr(value_from, ":secret:");
	if (!strncmp(value_from, "arn:", 4) && p != NULL) {
		const char *rest = p + strlen(":secret:");
		const char *colon = strchr(rest, ':');

		base = colon ? xstrndup(value_from, (size_t)(colon - value_from))
			     : xstrdup(value_from);
		if (colon != NULL) {
			char *fields = xstrdup(colon + 1), *f = fields, *next;
			int k;

			for (k = 0; k < 3 && f != NULL; k++, f = next) {
				next = strchr(f, ':');
				if (next != NULL)
					*next++ = '\0';
				if (*f == '\0')
					continue;
				if (k == 0)
					json_key = xstrdup(f);
				else if (k == 1)
					stage = xstrdup(f);
				else
					version = xstrdup(f);
			}
			free(fields);
		}
	} else if (!strncmp(value_from, "arn:", 4)) {
		err_set(e, "unsupported secret source '%s': caliberd resolves Secrets Manager ARNs",
			value_from);
		goto out;
	} else {
		base = xstrdup(value_from);
	}
	/* a full ARN, a partial ARN (without the 6 random characters) or a name */
	if (sm_secret_value_read(db, key, region, base, version, stage, &plain, e) < 0)
		goto out;
	if (json_key != NULL) {
		json_t *v;

		doc = json_loadb(plain.data ? plain.data : "", plain.len, 0, NULL);
		v = json_object_get(doc, json_key);
		if (v == NULL) {
			err_set(e, "secret '%s' has no JSON key '%s'", base, json_key);
			goto out;
		}
		if (json_is_string(v)) {
			buf_append(out, json_string_value(v), json_string_length(v));
		} else {
			char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			buf_appends(out, dump ? dump : "");
			if (dump != NULL) {
				OPENSSL_cleanse(dump, strlen(dump));
				free(dump);
			}
		}
	} else {
		buf_append(out, plain.data ? plain.data : "", plain.len);
	}
	ret = 0;
out:
	if (doc != NULL) {
		/* jansson keeps no copy we could wipe; drop it at once */
		json_decref(doc);
	}
	buf_release_secret(&plain);
	free(base);
	free(json_key);
	free(stage);
	free(version);
	return ret;
}

/* ------------------------------------------------------------------ */
/* task records                                                       */

static int taskdef_load(sqlite3 *db, const char *arn, json_t **out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT body, status FROM ecs_taskdef WHERE arn = ?", -1, &st,
		    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = json_loads(col_str(st, 0), 0, NULL);
		if (*out != NULL) {
			json_object_set_new(*out, "status", json_string(col_str(st, 1)));
			ret = 0;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

/* Is addr taken by a task of ours that has not stopped, or by a target still registered? */
static int addr_in_use(const char *addr, void *arg)
{
	sqlite3 *db = arg;
	sqlite3_stmt *st = NULL;
	int used = 1; /* when unsure, not this one */

	if (sqlite3_prepare_v2(db,
		    "SELECT EXISTS (SELECT 1 FROM ecs_task WHERE addr = ?1 AND last_status != "
		    "'STOPPED') OR EXISTS (SELECT 1 FROM elb_target WHERE ip = ?1)",
		    -1, &st, NULL) != SQLITE_OK)
		return used;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		used = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return used;
}

/*
 * Record a new task (PROVISIONING, desired RUNNING) and its containers
 * (PENDING); the supervisor starts it on its next tick.  *arn_out gets
 * its ARN (caller frees; NULL on failure): a cluster name may have 255
 * characters, so no fixed buffer holds it.
 */
static int task_create(sqlite3 *db, const char *region, const char *cluster_arn, const json_t *td,
	const char *group, const char *started_by, const char *service, const char *deployment,
	const char *overrides, double now, char **arn_ret)
{
	const char *cluster = arn_tail(cluster_arn);
	const char *td_arn = json_string_value(json_object_get(td, "taskDefinitionArn"));
	json_t *cdefs = json_object_get(td, "containerDefinitions"), *cd;
	char id[65];
	char addr[32];
	struct err e = ERR_INIT;
	size_t i;
	int has_hc = 0;
	char *arn_out;

	*arn_ret = NULL;
	random_hex(id, 16);
	arn_out = xasprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, ECS_ACCOUNT, cluster, id);
	json_array_foreach(cdefs, i, cd) has_hc |= json_object_get(cd, "healthCheck") != NULL;
	if (step_done(db,
		    "INSERT INTO ecs_task (arn, id, cluster, taskdef, grp, started_by, service, "
		    "deployment, last_status, desired_status, has_hc, overrides, region, created) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PROVISIONING', 'RUNNING', ?, ?, ?, ?)",
		    "ssssssssissd", arn_out, id, cluster_arn, td_arn, group, started_by, service,
		    deployment, (long long)has_hc, overrides ? overrides : "{}", region, now) < 0)
		goto fail;
	/* an address no live task or target of ours has, in blocks no other caliberd holds */
	if (taskaddr_next(addr_in_use, db, addr, sizeof(addr), &e) < 0) {
		lc_log("ecs: task %s: %s", id, e.msg);
		err_clear(&e);
		goto fail;
	}
	if (step_done(db, "UPDATE ecs_task SET addr = ? WHERE arn = ?", "ss", addr, arn_out) < 0)
		goto fail;
	json_array_foreach(cdefs, i, cd)
	{
		json_t *ess = json_object_get(cd, "essential");

		if (step_done(db,
			    "INSERT INTO ecs_container (task, name, image, essential, last_status) "
			    "VALUES (?, ?, ?, ?, 'PENDING')",
			    "sssi", arn_out, json_string_value(json_object_get(cd, "name")),
			    json_string_value(json_object_get(cd, "image")),
			    (long long)(ess == NULL || json_is_true(ess))) < 0)
			goto fail;
	}
	*arn_ret = arn_out;
	return 0;
fail:
	free(arn_out);
	return -1;
}

/* ------------------------------------------------------------------ */
/* the supervisor's memory: one entry per running container process   */

enum ecs_health { HEALTH_UNKNOWN, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

struct ecs_proc {
	char *task; /* task ARN */
	char *name; /* container name */
	int essential;
	pid_t pid;
	int fd;		    /* output pipe, -1 once closed */
	struct buf partial; /* output not yet ended by a newline */
	char *log_group;    /* NULL: no awslogs */
	char *log_stream;
	int exited;
	int exit_code;
	int exit_recorded;
	double started;
	double stop_sent; /* 0: not yet */
	double stop_timeout;
	/* health check: argv NULL when the container has none */
	char **hc_argv;
	char **envp; /* the container's environment, secrets included */
	char *cwd;
	uid_t uid; /* the task's own user (caliberd as root) */
	char *path;
	double hc_interval, hc_timeout, hc_start_period;
	long long hc_retries;
	double hc_next;
	pid_t hc_pid;
	double hc_deadline;
	long long hc_fails;
	enum ecs_health health;
	int health_recorded;
};

struct ecs_line {
	char *group;
	char *stream;
	long long ts;
	char *msg;
	size_t len;
};

static struct {
	struct lc_server *srv;
	struct store *store;
	struct ecs_proc **procs;
	size_t n_procs;
	struct ecs_line *lines;
	size_t n_lines;
	int edge_dirty; /* load balancer targets changed: re-sync the edge */
	pthread_t thread;
	int started;	/* the thread runs: ecs_shutdown() joins it */
	long max_tasks;		/* CALIBER_ECS_MAX_TASKS */
	double retention;	/* CALIBER_ECS_STOPPED_RETENTION */
	double pruned;		/* when STOPPED tasks were last pruned */
	int stopping;	/* set (atomically) by ecs_shutdown(): the loop ends */
} ecs_sup;

/* The task at 127.B.x.y runs as its own user (see ECS_TASK_UID_BASE). */
static uid_t task_uid(const char *addr)
{
	unsigned b = 0, x = 0, y = 1;

	if (sscanf(addr, "127.%u.%u.%u", &b, &x, &y) != 3 || y < 1)
		return (uid_t)ECS_TASK_UID_BASE;
	return (uid_t)(ECS_TASK_UID_BASE + 65536u * b + 250u * x + (y - 1));
}

/* As root: the task's image at ECS_TASK_IMAGE_DIR, caliberd's home hidden, its own user. */
static void task_isolate(struct sup_spec *spec, uid_t uid)
{
	if (geteuid() != 0)
		return;
	spec->image_at = ECS_TASK_IMAGE_DIR;
	spec->hide_dir = ecs_sup.srv->cfg.home;
	spec->drop = 1;
	spec->uid = uid;
	spec->gid = (gid_t)uid;
}


static void strv_free(char **v, int secret)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		if (secret)
			OPENSSL_cleanse(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static void proc_free(struct ecs_proc *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->hc_pid > 0) {
		int code;

		sup_signal(p->hc_pid, SIGKILL);
		while (sup_reap(p->hc_pid, &code) == 0)
			usleep(1000);
	}
	buf_release(&p->partial);
	free(p->task);
	free(p->name);
	free(p->log_group);
	free(p->log_stream);
	strv_free(p->hc_argv, 0);
	strv_free(p->envp, 1);
	free(p->cwd);
	free(p->path);
	free(p);
}

static void line_add(struct ecs_proc *p, const char *s, size_t len)
{
	struct ecs_line *l;

	if (p->log_group == NULL)
		return;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	ecs_sup.lines = xrealloc(ecs_sup.lines, (ecs_sup.n_lines + 1) * sizeof(*ecs_sup.lines));
	l = &ecs_sup.lines[ecs_sup.n_lines++];
	l->group = xstrdup(p->log_group);
	l->stream = xstrdup(p->log_stream);
	l->ts = (long long)floor(lc_now() * 1000.0);
	l->msg = xstrndup(s, len);
	l->len = len;
}

/* Read what p wrote; close its pipe at end of file. */
static void proc_read(struct ecs_proc *p)
{
	char chunk[8192];

	while (p->fd >= 0) {
		ssize_t n = read(p->fd, chunk, sizeof(chunk));
		size_t i, start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (p->partial.len > 0)
				line_add(p, p->partial.data, p->partial.len);
			buf_reset(&p->partial);
			close(p->fd);
			p->fd = -1;
			return;
		}
		for (i = 0; i < (size_t)n; i++) {
			if (chunk[i] != '\n')
				continue;
			if (p->partial.len > 0) {
				buf_append(&p->partial, chunk + start, i - start);
				line_add(p, p->partial.data, p->partial.len);
				buf_reset(&p->partial);
			} else {
				line_add(p, chunk + start, i - start);
			}
			start = i + 1;
		}
		buf_append(&p->partial, chunk + start, (size_t)n - start);
		if (p->partial.len >= ECS_LINE_MAX) {
			line_add(p, p->partial.data, p->partial.len);
			buf_reset(&p->partial);
		}
	}
}

static void lines_flush(sqlite3 *db)
{
	size_t i;

	for (i = 0; i < ecs_sup.n_lines; i++) {
		struct ecs_line *l = &ecs_sup.lines[i];

		if (logs_append(db, l->group, l->stream, l->ts, l->msg, l->len) < 0)
			lc_log("ecs: unable to store a log event of '%s'", l->stream);
		free(l->group);
		free(l->stream);
		free(l->msg);
	}
	free(ecs_sup.lines);
	ecs_sup.lines = NULL;
	ecs_sup.n_lines = 0;
}

/* Health checks: start one when due, judge it when it ends or times out. */
static void proc_health(struct ecs_proc *p, double now)
{
	struct err e = ERR_INIT;
	int code, fd;

	if (p->hc_argv == NULL || p->exited || p->stop_sent > 0)
		return;
	if (p->hc_pid > 0) {
		int r = sup_reap(p->hc_pid, &code);

		if (r == 0 && now < p->hc_deadline)
			return;
		if (r == 0) {
			sup_signal(p->hc_pid, SIGKILL);
			while (sup_reap(p->hc_pid, &code) == 0)
				usleep(1000);
			code = -1;
		}
		p->hc_pid = -1;
		if (code == 0) {
			p->hc_fails = 0;
			p->health = HEALTH_HEALTHY;
		} else if (now - p->started >= p->hc_start_period) {
			/* failures within the start period do not count */
			if (++p->hc_fails >= p->hc_retries)
				p->health = HEALTH_UNHEALTHY;
		}
		p->hc_next = now + p->hc_interval;
		return;
	}
	if (now < p->hc_next)
		return;
	{
		struct sup_spec spec = { .argv = p->hc_argv, .envp = p->envp, .cwd = p->cwd,
			.path = p->path, .readonly_dir = p->cwd };

		task_isolate(&spec, p->uid);

		if (sup_spawn(&spec, &p->hc_pid, &fd, &e) < 0) {
			p->hc_pid = -1;
			p->hc_next = now + p->hc_interval;
			if (now - p->started >= p->hc_start_period &&
				++p->hc_fails >= p->hc_retries)
				p->health = HEALTH_UNHEALTHY;
			return;
		}
	}
	p->hc_deadline = now + p->hc_timeout;
}

static void procs_drop_task(const char *task)
{
	size_t i = 0;

	while (i < ecs_sup.n_procs) {
		struct ecs_proc *p = ecs_sup.procs[i];

		if (strcmp(p->task, task)) {
			i++;
			continue;
		}
		proc_read(p);
		proc_free(p);
		ecs_sup.procs[i] = ecs_sup.procs[--ecs_sup.n_procs];
	}
}

/* ------------------------------------------------------------------ */
/* starting a task                                                    */

struct env_list {
	char **v;
	size_t n;
};

/* Set name=value, replacing an earlier value of name. */
static void env_set(struct env_list *l, const char *name, const char *value, size_t value_len)
{
	size_t i, nl = strlen(name);
	struct buf b = BUF_INIT;
	char *entry;

	buf_init(&b);
	buf_appendf(&b, "%s=", name);
	buf_append(&b, value, value_len);
	entry = buf_detach(&b);
	for (i = 0; i < l->n; i++) {
		if (!strncmp(l->v[i], name, nl) && l->v[i][nl] == '=') {
			OPENSSL_cleanse(l->v[i], strlen(l->v[i]));
			free(l->v[i]);
			l->v[i] = entry;
			return;
		}
	}
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(char *));
	l->v[l->n++] = entry;
	l->v[l->n] = NULL;
}

static const char *env_get(const struct env_list *l, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, nl) && l->v[i][nl] == '=')
			return l->v[i] + nl + 1;
	return NULL;
}

static void env_from_json(struct env_list *l, const json_t *arr)
{
	size_t i;
	json_t *kv;

	json_array_foreach(arr, i, kv)
	{
		const char *n = json_string_value(json_object_get(kv, "name"));
		json_t *v = json_object_get(kv, "value");

		if (n != NULL && json_is_string(v))
			env_set(l, n, json_string_value(v), json_string_length(v));
	}
}

static char **strv_from_json(const json_t *a, const json_t *b)
{
	size_t n = json_array_size(a) + json_array_size(b), k = 0, i;
	char **v = xcalloc(n + 1, sizeof(char *));
	json_t *s;

	json_array_foreach(a, i, s) v[k++] = xstrdup(json_string_value(s));
	json_array_foreach(b, i, s) v[k++] = xstrdup(json_string_value(s));
	v[k] = NULL;
	return v;
}

static double num_or(const json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static const json_t *container_override(const json_t *overrides, const char *name)
{
	json_t *cos = json_object_get(overrides, "containerOverrides"), *co;
	size_t i;

	json_array_foreach(cos, i, co)
	{
		const char *n = json_string_value(json_object_get(co, "name"));

		if (n != NULL && !strcmp(n, name))
			return co;
	}
	return NULL;
}

/*
 * Prepare one container's process (resolve the image, the environment
 * with its secrets, the log stream) and start it.  On failure *reason
 * gets ECS's wording of why the task could not start.
 */
static int container_start(sqlite3 *db, const char *task_arn, const char *task_id,
	const char *region, const char *addr, const json_t *cd, const json_t *overrides, double now,
	char **reason)
{
	const char *name = json_string_value(json_object_get(cd, "name"));
	const char *image = json_string_value(json_object_get(cd, "image"));
	const json_t *co = container_override(overrides, name);
	json_t *logc = json_object_get(cd, "logConfiguration");
	json_t *hc = json_object_get(cd, "healthCheck"), *sec, *pm, *cmd;
	const char *driver;
	struct env_list env = {NULL, 0};
	struct ecs_proc *p = NULL;
	struct err e = ERR_INIT;
	char digest[IMAGES_DIGEST_LEN], portbuf[16];
	char *rootfs = NULL, *endpoint = NULL;
	char **argv = NULL;
	size_t i;
	int ret = -1;

	if (images_resolve(ecs_sup.srv->cfg.home, image, &rootfs, digest, &e) < 0) {
		*reason = xasprintf("CannotPullContainerError: %s", e.msg);
		goto out;
	}
	env_set(&env, "PATH", ECS_DEFAULT_PATH, strlen(ECS_DEFAULT_PATH));
	env_set(&env, "HOME", "/tmp", 4);
	env_set(&env, "LANG", "C.UTF-8", 7);
	env_set(&env, "AWS_REGION", region, strlen(region));
	env_set(&env, "AWS_DEFAULT_REGION", region, strlen(region));
	endpoint = xasprintf("http://127.0.0.1:%d", ecs_sup.srv->cfg.port);
	env_set(&env, "AWS_ENDPOINT_URL", endpoint, strlen(endpoint));
	env_set(&env, "ECS_CONTAINER_NAME", name, strlen(name));
	env_set(&env, "CALIBER_TASK_ARN", task_arn, strlen(task_arn));
	env_set(&env, "CALIBER_TASK_HOST", addr, strlen(addr));
	if (geteuid() == 0)
		env_set(&env, "CALIBER_IMAGE_DIR", ECS_TASK_IMAGE_DIR, strlen(ECS_TASK_IMAGE_DIR));
	else
		env_set(&env, "CALIBER_IMAGE_DIR", rootfs, strlen(rootfs));
	pm = json_array_get(json_object_get(cd, "portMappings"), 0);
	if (json_is_integer(json_object_get(pm, "containerPort"))) {
		snprintf(portbuf, sizeof(portbuf), "%lld",
			(long long)json_integer_value(json_object_get(pm, "containerPort")));
		env_set(&env, "PORT", portbuf, strlen(portbuf));
	}
	env_from_json(&env, json_object_get(cd, "environment"));
	if (co != NULL)
		env_from_json(&env, json_object_get(co, "environment"));
	json_array_foreach(json_object_get(cd, "secrets"), i, sec)
	{
		const char *sname = json_string_value(json_object_get(sec, "name"));
		const char *from = json_string_value(json_object_get(sec, "valueFrom"));
		struct buf val = BUF_INIT;

		buf_init(&val);
		if (secret_resolve(db, ecs_sup.srv->master_key, region, from, &val, &e) < 0) {
			buf_release_secret(&val);
			*reason =
				xasprintf("ResourceInitializationError: unable to pull secrets or "
					  "registry auth: unable to retrieve secret from asm: %s",
					e.msg);
			goto out;
		}
		env_set(&env, sname, val.data ? val.data : "", val.len);
		buf_release_secret(&val);
	}
	cmd = co != NULL && json_object_get(co, "command") != NULL ? json_object_get(co, "command")
								   : json_object_get(cd, "command");
	argv = strv_from_json(json_object_get(cd, "entryPoint"), cmd);
	if (argv[0] == NULL) {
		*reason = xasprintf("CannotStartContainerError: container '%s' has no entryPoint "
				    "or command (local images carry no default command)",
			name);
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->task = xstrdup(task_arn);
	p->name = xstrdup(name);
	p->fd = -1;
	p->hc_pid = -1;
	buf_init(&p->partial);
	p->essential = json_object_get(cd, "essential") == NULL ||
		       json_is_true(json_object_get(cd, "essential"));
	p->stop_timeout = num_or(cd, "stopTimeout", ECS_DEFAULT_STOP_TIMEOUT);
	/* a definition registered before the limit was enforced */
	if (p->stop_timeout > ECS_MAX_STOP_TIMEOUT)
		p->stop_timeout = ECS_MAX_STOP_TIMEOUT;
	p->started = now;
	p->uid = task_uid(addr);
	p->cwd = xstrdup(rootfs);
	p->path = xstrdup(env_get(&env, "PATH"));
	driver = json_string_value(json_object_get(logc, "logDriver"));
	if (driver != NULL && !strcmp(driver, "awslogs")) {
		json_t *opt = json_object_get(logc, "options");
		const char *group = json_string_value(json_object_get(opt, "awslogs-group"));
		const char *prefix =
			json_string_value(json_object_get(opt, "awslogs-stream-prefix"));
		const char *create =
			json_string_value(json_object_get(opt, "awslogs-create-group"));
		int has;

		if (group == NULL) {
			*reason =
				xasprintf("ResourceInitializationError: failed to validate logger "
					  "args: awslogs-group is required");
			goto out;
		}
		has = logs_group_check(
			db, region, group, create != NULL && !strcmp(create, "true"));
		if (has <= 0) {
			*reason =
				xasprintf("ResourceInitializationError: failed to validate logger "
					  "args: The specified log group does not exist: '%s'",
					group);
			goto out;
		}
		p->log_group = xstrdup(group);
		p->log_stream = prefix != NULL ? xasprintf("%s/%s/%s", prefix, name, task_id)
					       : xasprintf("%s/%s", name, task_id);
	}
	if (hc != NULL) {
		json_t *hcmd = json_object_get(hc, "command");
		const char *kind = json_string_value(json_array_get(hcmd, 0));

		if (kind != NULL && !strcmp(kind, "CMD-SHELL") && json_array_size(hcmd) >= 2) {
			p->hc_argv = xcalloc(4, sizeof(char *));
			p->hc_argv[0] = xstrdup("/bin/sh");
			p->hc_argv[1] = xstrdup("-c");
			p->hc_argv[2] = xstrdup(json_string_value(json_array_get(hcmd, 1)));
		} else if (kind != NULL && !strcmp(kind, "CMD") && json_array_size(hcmd) >= 2) {
			size_t k, n = json_array_size(hcmd);

			p->hc_argv = xcalloc(n, sizeof(char *));
			for (k = 1; k < n; k++)
				p->hc_argv[k - 1] =
					xstrdup(json_string_value(json_array_get(hcmd, k)));
		}
		p->hc_interval = num_or(hc, "interval", 30);
		p->hc_timeout = num_or(hc, "timeout", 5);
		p->hc_retries = (long long)num_or(hc, "retries", 3);
		p->hc_start_period = num_or(hc, "startPeriod", 0);
		/* the first check runs at once: Docker runs it one interval in */
		p->hc_next = now + (p->hc_interval < 1 ? p->hc_interval : 1);
	}
	p->envp = env.v;
	env.v = NULL;
	env.n = 0;
	{
		struct sup_spec spec = { .argv = argv, .envp = p->envp, .cwd = rootfs,
			.path = p->path, .capture = 1, .readonly_dir = rootfs };

		task_isolate(&spec, p->uid);

		if (sup_spawn(&spec, &p->pid, &p->fd, &e) < 0) {
			*reason = xasprintf("CannotStartContainerError: %s", e.msg);
			goto out;
		}
	}
	/* only health checks need the environment again: keep secrets no longer than that */
	if (p->hc_argv == NULL) {
		strv_free(p->envp, 1);
		p->envp = NULL;
	}
	step_done(db,
		"UPDATE ecs_container SET last_status = 'RUNNING', digest = ?, pid = ?, "
		"pid_start = ? WHERE task = ? AND name = ?",
		"siiss", digest, (long long)p->pid, (long long)sup_start_time(p->pid), task_arn,
		name);
	lc_log("ecs: task %s container %s started (pid %ld, image %s)", task_id, name, (long)p->pid,
		digest);
	ecs_sup.procs = xrealloc(ecs_sup.procs, (ecs_sup.n_procs + 1) * sizeof(*ecs_sup.procs));
	ecs_sup.procs[ecs_sup.n_procs++] = p;
	p = NULL;
	ret = 0;
out:
	if (env.v != NULL) {
		env.v[env.n] = NULL;
		strv_free(env.v, 1);
	}
	strv_free(argv, 0);
	proc_free(p);
	free(rootfs);
	free(endpoint);
	return ret;
}

static void task_stopped(sqlite3 *db, const char *arn, double now)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
		    "SELECT id, coalesce(stopped_reason, '') FROM ecs_task WHERE arn = ?", -1, &st,
		    NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			lc_log("ecs: task %s stopped: %s", col_str(st, 0), col_str(st, 1));
		sqlite3_finalize(st);
	}
	step_done(db,
		"UPDATE ecs_task SET last_status = 'STOPPED', desired_status = 'STOPPED', "
		"stopped = ?, stopping = coalesce(stopping, ?) WHERE arn = ?",
		"dds", now, now, arn);
	step_done(db, "UPDATE ecs_container SET last_status = 'STOPPED', pid = NULL WHERE task = ?",
		"s", arn);
	procs_drop_task(arn);
}

/* A task could not start: stopped at once, a failure for its deployment. */
static void task_fail_start(sqlite3 *db, const char *arn, const char *reason, double now)
{
	step_done(db,
		"UPDATE ecs_task SET stop_code = 'TaskFailedToStart', stopped_reason = ?, failed = "
		"1 "
		"WHERE arn = ?",
		"ss", reason, arn);
	step_done(db,
		"UPDATE ecs_container SET reason = ? WHERE task = ? AND last_status != 'STOPPED'",
		"ss", reason, arn);
	task_stopped(db, arn, now);
}

static void task_start(sqlite3 *db, const char *arn, const char *id, const char *td_arn,
	const char *overrides_text, const char *region, const char *addr, double now)
{
	json_t *td = NULL, *overrides = NULL, *cd;
	char *reason = NULL;
	size_t i;

	if (taskdef_load(db, td_arn, &td) < 0) {
		task_fail_start(db, arn, "TaskFailedToStart: the task definition is gone", now);
		return;
	}
	overrides = json_loads(overrides_text, 0, NULL);
	json_array_foreach(json_object_get(td, "containerDefinitions"), i, cd)
	{
		if (container_start(db, arn, id, region, addr, cd, overrides, now, &reason) < 0) {
			size_t k;

			for (k = 0; k < ecs_sup.n_procs; k++)
				if (!strcmp(ecs_sup.procs[k]->task, arn))
					sup_signal(ecs_sup.procs[k]->pid, SIGKILL);
			for (k = 0; k < ecs_sup.n_procs; k++) {
				struct ecs_proc *p = ecs_sup.procs[k];

				if (!strcmp(p->task, arn) && !p->exited)
					while (sup_reap(p->pid, &p->exit_code) == 0)
						usleep(1000);
			}
			task_fail_start(db, arn, reason, now);
			free(reason);
			goto out;
		}
	}
	step_done(db, "UPDATE ecs_task SET last_status = 'RUNNING', started = ? WHERE arn = ?",
		"ds", now, arn);
out:
	json_decref(td);
	json_decref(overrides);
}

/* ------------------------------------------------------------------ */
/* the task state machine, one tick                                   */

/* A task of a deployment failed: count it; back off relaunches. */
static void deployment_failure(sqlite3 *db, const char *deployment, double now)
{
	sqlite3_stmt *st = NULL;
	long long consecutive = 0;
	double backoff;

	if (deployment == NULL)
		return;
	step_done(db,
		"UPDATE ecs_deployment SET failed = failed + 1, consecutive = consecutive + 1, "
		"updated = ? WHERE id = ?",
		"ds", now, deployment);
	if (sqlite3_prepare_v2(db, "SELECT consecutive FROM ecs_deployment WHERE id = ?", -1, &st,
		    NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, deployment, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			consecutive = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	/* 0.25 s, 0.5 s, 1 s ... at most 30 s: a crash loop does not spin */
	backoff = 0.25 * pow(2.0, (double)(consecutive > 8 ? 8 : consecutive - 1));
	if (backoff > 30)
		backoff = 30;
	step_done(db, "UPDATE ecs_deployment SET next_launch = ? WHERE id = ?", "ds", now + backoff,
		deployment);
}

/* A service task that started: its address into the service's target groups. */
static void service_targets_register(sqlite3 *db, const char *task, const char *addr)
{
	sqlite3_stmt *st = NULL;
	json_t *extra = NULL, *lb;
	size_t i;

	if (sqlite3_prepare_v2(db,
		    "SELECT s.extra FROM ecs_service s JOIN ecs_task t ON t.service = s.arn WHERE "
		    "t.arn = ? AND t.last_status = 'RUNNING'",
		    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, task, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		extra = json_loads(col_str(st, 0), 0, NULL);
	sqlite3_finalize(st);
	json_array_foreach(json_object_get(extra, "loadBalancers"), i, lb)
	{
		const char *tg = json_string_value(json_object_get(lb, "targetGroupArn"));
		json_t *port = json_object_get(lb, "containerPort");

		if (tg != NULL && json_is_integer(port) &&
			elb_target_register(db, tg, addr, (long)json_integer_value(port)) < 0)
			lc_log("ecs: unable to register '%s' in '%s'", addr, tg);
	}
	json_decref(extra);
}

/*
 * A service's task waits for capacity: say so in its events, as ECS does
 * ("unable to place a task"), at most once a minute.
 */
static void task_held_event(sqlite3 *db, const char *service_arn, double now)
{
	sqlite3_stmt *st = NULL;
	int recent = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT 1 FROM ecs_event WHERE service = ? AND created > ? AND message LIKE "
		    "'%unable to place a task%'",
		    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, service_arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, now - 60);
	recent = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!recent)
		service_event(db, service_arn, now,
			"(service %s) was unable to place a task because no capacity is left: "
			"this machine runs at most %ld tasks at once (CALIBER_ECS_MAX_TASKS); "
			"the task stays PROVISIONING until others stop.",
			arn_tail(service_arn), ecs_sup.max_tasks);
}

/* STOPPED tasks are forgotten after the retention period, as on ECS (checked once a minute). */
static void tasks_prune(sqlite3 *db, double now)
{
	double every = ecs_sup.retention < 60 ? ecs_sup.retention : 60;

	if (now - ecs_sup.pruned < every && ecs_sup.pruned <= now)
		return;
	ecs_sup.pruned = now;
	step_done(db,
		"DELETE FROM ecs_container WHERE task IN (SELECT arn FROM ecs_task WHERE "
		"last_status = 'STOPPED' AND stopped < ?)",
		"d", now - ecs_sup.retention);
	step_done(db, "DELETE FROM ecs_task WHERE last_status = 'STOPPED' AND stopped < ?", "d",
		now - ecs_sup.retention);
}

/*
 * Take a task being stopped out of its load balancers (its targets drain);
 * 1 while some still drain.  The log and, for a service's task, the
 * service's events say why, once: a request that failed can be told from
 * them.
 */
static int task_drain(sqlite3 *db, const char *arn, const char *addr, double now)
{
	sqlite3_stmt *st = NULL;
	char *why = NULL, *service = NULL, *name = NULL, *id = NULL, *reason = NULL;
	int changed = 0, left;

	if (sqlite3_prepare_v2(db,
		    "SELECT t.id, coalesce(t.stopped_reason, 'stopped'), s.arn, s.name FROM "
		    "ecs_task t LEFT JOIN ecs_service s ON s.arn = t.service WHERE t.arn = ?",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			id = col_dup(st, 0);
			reason = col_dup(st, 1);
			why = xasprintf("task %s: %s", id, reason);
			if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
				service = col_dup(st, 2);
				name = col_dup(st, 3);
			}
		}
		sqlite3_finalize(st);
	}
	left = elb_targets_drain(db, addr, now, why, &changed);
	if (changed) {
		ecs_sup.edge_dirty = 1;
		if (service != NULL)
			service_event(db, service, now,
				"(service %s) has begun draining connections on 1 tasks: (task %s) "
				"%s.",
				name, id, reason);
	}
	free(why);
	free(reason);
	free(service);
	free(name);
	free(id);
	return left;
}

static void tasks_step(sqlite3 *db, double now)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	char **arns = NULL;
	size_t n_arns = 0, t;
	long running = 0, launched = 0;

	/* what runs now: against the machine's cap */
	if (sqlite3_prepare_v2(db,
		    "SELECT count(*) FROM ecs_task WHERE last_status NOT IN ('STOPPED', "
		    "'PROVISIONING')",
		    -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			running = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	/* collect first: the loop below updates these rows */
	if (sqlite3_prepare_v2(db,
		    "SELECT arn FROM ecs_task WHERE last_status != 'STOPPED' ORDER BY seq", -1, &st,
		    NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		arns = xrealloc(arns, (n_arns + 1) * sizeof(char *));
		arns[n_arns++] = col_dup(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	for (t = 0; t < n_arns; t++) {
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_prepare_v2(db,
			    "SELECT arn, id, taskdef, overrides, region, addr, last_status, "
			    "desired_status, deployment, health, stopping, has_hc, service FROM "
			    "ecs_task WHERE arn = ?",
			    -1, &st, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, arns[t], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_ROW)
			continue;
		char *arn = col_dup(st, 0), *id = col_dup(st, 1), *td = col_dup(st, 2);
		char *ov = col_dup(st, 3), *region = col_dup(st, 4), *addr = col_dup(st, 5);
		char *last = col_dup(st, 6), *desired = col_dup(st, 7), *dep = col_dup(st, 8);
		char *health = col_dup(st, 9);
		int has_hc = sqlite3_column_int(st, 11);

		if (!strcmp(last, "PROVISIONING") && !strcmp(desired, "RUNNING") &&
			(running >= ecs_sup.max_tasks || launched >= ECS_LAUNCHES_PER_TICK)) {
			/* held: no capacity on this machine now, or launches paced */
			if (running >= ecs_sup.max_tasks && sqlite3_column_type(st, 12) != SQLITE_NULL)
				task_held_event(db, (const char *)sqlite3_column_text(st, 12), now);
		} else if (!strcmp(last, "PROVISIONING")) {
			if (!strcmp(desired, "RUNNING")) {
				task_start(db, arn, id, td, ov, region, addr, now);
				service_targets_register(db, arn, addr);
				running++;
				launched++;
			} else
				task_stopped(db, arn, now);
			if (dep != NULL) {
				sqlite3_stmt *f = NULL;

				if (sqlite3_prepare_v2(db,
					    "SELECT failed FROM ecs_task WHERE arn = ?", -1, &f,
					    NULL) == SQLITE_OK) {
					sqlite3_bind_text(f, 1, arn, -1, SQLITE_TRANSIENT);
					if (sqlite3_step(f) == SQLITE_ROW &&
						sqlite3_column_int(f, 0))
						deployment_failure(db, dep, now);
					sqlite3_finalize(f);
				}
			}
		} else {
			int any_live = 0, essential_exit = 0, unhealthy = 0, all_healthy = 1;
			int exit_code = 0;
			char *exited_name = NULL;

			for (i = 0; i < ecs_sup.n_procs; i++) {
				struct ecs_proc *p = ecs_sup.procs[i];

				if (strcmp(p->task, arn))
					continue;
				if (p->exited && !p->exit_recorded) {
					step_done(db,
						"UPDATE ecs_container SET last_status = 'STOPPED', "
						"exit_code = ?, pid = NULL WHERE task = ? AND name "
						"= ?",
						"iss", (long long)p->exit_code, arn, p->name);
					p->exit_recorded = 1;
				}
				if (p->health != HEALTH_UNKNOWN && !p->health_recorded) {
					step_done(db,
						"UPDATE ecs_container SET health = ? WHERE task = "
						"? AND "
						"name = ?",
						"sss",
						p->health == HEALTH_HEALTHY ? "HEALTHY"
									    : "UNHEALTHY",
						arn, p->name);
					p->health_recorded = 1;
				}
				if (!p->exited)
					any_live = 1;
				if (p->exited && p->essential && !essential_exit) {
					essential_exit = 1;
					exit_code = p->exit_code;
					exited_name = p->name;
				}
				if (p->hc_argv != NULL) {
					if (p->health == HEALTH_UNHEALTHY && p->essential)
						unhealthy = 1;
					if (p->health != HEALTH_HEALTHY)
						all_healthy = 0;
				}
			}
			(void)exit_code;
			if (has_hc) {
				const char *h = unhealthy     ? "UNHEALTHY"
						: all_healthy ? "HEALTHY"
							      : "UNKNOWN";

				if (strcmp(h, health)) {
					step_done(db,
						"UPDATE ecs_task SET health = ? WHERE arn = ?",
						"ss", h, arn);
					if (!strcmp(h, "HEALTHY") && dep != NULL)
						step_done(db,
							"UPDATE ecs_deployment SET consecutive = 0 "
							"WHERE id = ?",
							"s", dep);
				}
			}
			if (!strcmp(desired, "RUNNING") && (essential_exit || unhealthy)) {
				char *why =
					essential_exit
						? xasprintf("Essential container in task exited")
						: xasprintf("Task failed container health checks");

				step_done(db,
					"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code "
					"= ?, "
					"stopped_reason = ?, failed = 1 WHERE arn = ?",
					"sss",
					essential_exit ? "EssentialContainerExited"
						       : "ServiceSchedulerInitiated",
					why, arn);
				if (unhealthy && !essential_exit)
					step_done(db,
						"UPDATE ecs_container SET reason = 'Task failed "
						"container "
						"health checks' WHERE task = ? AND health = "
						"'UNHEALTHY'",
						"s", arn);
				(void)exited_name;
				free(why);
				deployment_failure(db, dep, now);
				free(desired);
				desired = xstrdup("STOPPED");
			} else if (!strcmp(desired, "RUNNING") && dep == NULL && has_hc == 0) {
				/* nothing to do: a running one-off task */
			}
			if (!strcmp(desired, "STOPPED")) {
				if (!any_live) {
					task_drain(db, arn, addr, now);
					task_stopped(db, arn, now);
				} else {
					if (!strcmp(last, "RUNNING"))
						step_done(db,
							"UPDATE ecs_task SET last_status = "
							"'DEACTIVATING', "
							"stopping = ? WHERE arn = ?",
							"ds", now, arn);
					/* out of the load balancer first: SIGTERM once drained */
					if (task_drain(db, arn, addr, now) == 1)
						goto next;
					for (i = 0; i < ecs_sup.n_procs; i++) {
						struct ecs_proc *p = ecs_sup.procs[i];

						if (strcmp(p->task, arn) || p->exited)
							continue;
						if (p->stop_sent == 0) {
							sup_signal(p->pid, SIGTERM);
							p->stop_sent = now;
						} else if (now - p->stop_sent >= p->stop_timeout) {
							sup_signal(p->pid, SIGKILL);
						}
					}
				}
			} else if (!any_live) {
				/* running, no process left (non-essential ones only exited) */
				step_done(db,
					"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code "
					"= "
					"'EssentialContainerExited', stopped_reason = 'Essential "
					"container in task exited' WHERE arn = ?",
					"s", arn);
				task_drain(db, arn, addr, now);
				task_stopped(db, arn, now);
			}
		}
	next:
		free(arn);
		free(id);
		free(td);
		free(ov);
		free(region);
		free(addr);
		free(last);
		free(desired);
		free(dep);
		free(health);
	}
	sqlite3_finalize(st);
	for (t = 0; t < n_arns; t++)
		free(arns[t]);
	free(arns);
}

/* ------------------------------------------------------------------ */
/* services: rolling deployments and the circuit breaker, one tick     */

struct ecs_dep {
	char *id;
	char *td;
	char *rollout;
	long long failed;
	double next_launch;
	long long live;	     /* desired RUNNING */
	long long running;   /* desired and last RUNNING */
	long long healthy;   /* running and healthy (or without health check) */
	long long remaining; /* not STOPPED yet */
};

static void deps_free(struct ecs_dep *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].id);
		free(d[i].td);
		free(d[i].rollout);
	}
	free(d);
}

static int deps_load(sqlite3 *db, const char *service, struct ecs_dep **out, size_t *n_out)
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
		d[n].id = col_dup(st, 0);
		d[n].td = col_dup(st, 1);
		d[n].rollout = col_dup(st, 2);
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
		arns[n] = col_dup(st, 0);
		tids[n] = col_dup(st, 1);
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
		step_done(db,
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

static void deployment_new(
	sqlite3 *db, const char *service, const char *td, double now, char id[40])
{
	char *reason;

	deployment_id_new(id);
	reason = xasprintf("ECS deployment %s in progress.", id);
	step_done(db,
		"UPDATE ecs_deployment SET status = 'ACTIVE' WHERE service = ? AND status = "
		"'PRIMARY'",
		"s", service);
	step_done(db,
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
	name = col_dup(st, 0);
	status = col_dup(st, 1);
	cluster = col_dup(st, 2);
	desired = sqlite3_column_int64(st, 3);
	min_pct = sqlite3_column_int64(st, 4);
	max_pct = sqlite3_column_int64(st, 5);
	cb_enable = sqlite3_column_int(st, 6);
	cb_rollback = sqlite3_column_int(st, 7);
	last_good = col_dup(st, 8);
	steady = sqlite3_column_int(st, 9);
	region = col_dup(st, 10);
	sqlite3_finalize(st);
	st = NULL;

	if (!strcmp(status, "DRAINING")) {
		int left = 0;

		step_done(db,
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
			step_done(db, "UPDATE ecs_service SET status = 'INACTIVE' WHERE arn = ?",
				"s", arn);
			step_done(db,
				"UPDATE ecs_deployment SET status = 'INACTIVE' WHERE service = ?",
				"s", arn);
		}
		goto out;
	}
	if (deps_load(db, arn, &d, &n) < 0 || n == 0)
		goto out;

	/* the circuit breaker */
	if (!strcmp(d[0].rollout, "IN_PROGRESS") && cb_enable &&
		d[0].failed >= cb_threshold(desired)) {
		step_done(db,
			"UPDATE ecs_deployment SET rollout = 'FAILED', reason = 'ECS deployment "
			"circuit breaker: tasks failed to start.', updated = ? WHERE id = ?",
			"ds", now, d[0].id);
		service_event(db, arn, now,
			"(service %s) (deployment %s) deployment failed: tasks failed to start.",
			name, d[0].id);
		if (cb_rollback && last_good != NULL) {
			char id[40];

			deployment_new(db, arn, last_good, now, id);
			step_done(db, "UPDATE ecs_service SET taskdef = ? WHERE arn = ?", "ss",
				last_good, arn);
			service_event(db, arn, now, "(service %s) rolling back to deployment %s.",
				name, id);
		}
		goto out; /* next tick works from the new state */
	}

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
			step_done(db,
				"UPDATE ecs_deployment SET status = 'INACTIVE', updated = ? WHERE "
				"id = ?",
				"ds", now, d[i].id);
		else
			remaining_old += d[i].remaining;
	}
	if (!strcmp(d[0].rollout, "IN_PROGRESS") && d[0].healthy == desired &&
		d[0].live == desired && remaining_old == 0) {
		char *reason = xasprintf("ECS deployment %s completed.", d[0].id);

		step_done(db,
			"UPDATE ecs_deployment SET rollout = 'COMPLETED', reason = ?, updated = ? "
			"WHERE id = ?",
			"sds", reason, now, d[0].id);
		step_done(db, "UPDATE ecs_service SET last_good = ? WHERE arn = ?", "ss", d[0].td,
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
		step_done(db, "UPDATE ecs_service SET steady = ? WHERE arn = ?", "is",
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
		arns[n++] = col_dup(st, 0);
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
	step_done(db,
		"DELETE FROM elb_target WHERE ip IN (SELECT addr FROM ecs_task WHERE last_status "
		"!= "
		"'STOPPED')",
		"");
	if (step_done(db,
		    "UPDATE ecs_task SET last_status = 'STOPPED', desired_status = 'STOPPED', "
		    "stop_code = coalesce(stop_code, 'TaskFailedToStart'), stopped_reason = "
		    "coalesce(stopped_reason, 'Task stopped: caliberd restarted'), stopping = "
		    "coalesce(stopping, ?1), stopped = ?1 WHERE last_status != 'STOPPED'",
		    "d", now) < 0)
		return -1;
	return step_done(db,
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
static long long cluster_service_count(sqlite3 *db, const char *cluster_arn)
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

/* ------------------------------------------------------------------ */
/* the API                                                            */

struct ecs_call {
	struct lc_request *req;
	struct lc_response *res;
	sqlite3 *db;
	json_t *in;
	json_t *out;
	double now;
	int (*fn)(struct ecs_call *c);	/* the operation, run by ecs_run */
};

/* a 400 error of the call c (lc_reply_error checks the format) */
#define ecs_bad(c, code, ...) lc_reply_error((c)->req, (c)->res, 400, (code), __VA_ARGS__)

static int ecs_internal(struct ecs_call *c, const char *what)
{
	lc_log("ecs: %s: %s", what, sqlite3_errmsg(c->db));
	return lc_reply_error(c->req, c->res, 500, "ServerException", "an internal error occurred");
}

static int ecs_step(void *arg)
{
	struct ecs_call *c = arg;
	int r;

	ecs_write_failed = 0;
	r = c->fn(c);
	if (r == 0 && ecs_write_failed) {
		/* never a success for what was not stored: json_in_run rolls it back */
		lc_reply_error(c->req, c->res, 500, "ServerException",
			"an internal error occurred: a write to the store failed (caliberd's log"
			" says which)");
		r = -1;
	}
	ecs_write_failed = 0;
	return r;
}

static int ecs_run(struct lc_request *req, struct lc_response *res, int (*fn)(struct ecs_call *c))
{
	struct ecs_call c;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.res = res;
	c.now = lc_now();
	c.fn = fn;
	return json_in_run(
		req, res, "ecs", "ServerException", &c.in, &c.out, &c.db, ecs_step, &c);
}

/* input members (json-input.h) */
static int in_str(struct ecs_call *c, const char *key, int required, const char **out)
{
	if (json_in_str(c->req, c->res, c->in, key, out) < 0)
		return -1;
	if (*out == NULL && required)
		return ecs_bad(c, "InvalidParameterException", "%s must be specified.", key);
	return 0;
}

static int in_int(
	struct ecs_call *c, const json_t *o, const char *key, long long *out, int *present)
{
	return json_in_int(c->req, c->res, o, key, out, present);
}

/* cluster by name or ARN ("default" when absent); *arn freed by the caller */
static int cluster_find(struct ecs_call *c, const char *ident, char **arn)
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
		*arn = col_dup(st, 0);
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

static int create_cluster(struct ecs_call *c)
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
	step_done(c->db,
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
				cluster_json(c->db, col_str(st, 0), name, "ACTIVE"));
		sqlite3_finalize(st);
	}
	return 0;
}

static int describe_clusters(struct ecs_call *c)
{
	json_t *names = json_object_get(c->in, "clusters"), *v, *list = json_array();
	json_t *failures = json_array();
	size_t i;

	json_object_set_new(c->out, "clusters", list);
	json_object_set_new(c->out, "failures", failures);
	if (names == NULL || json_array_size(names) == 0) {
		names = json_pack("[s]", "default");
		json_object_set_new(c->in, "clusters", names);
	}
	json_array_foreach(names, i, v)
	{
		sqlite3_stmt *st = NULL;
		const char *ident = json_string_value(v);

		if (ident == NULL)
			return ecs_bad(c, "InvalidParameterException", "clusters must be strings");
		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn, name, status FROM ecs_cluster WHERE name = ?", -1, &st,
			    NULL) != SQLITE_OK)
			return ecs_internal(c, "clusters");
		sqlite3_bind_text(st, 1, arn_tail(ident), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(list, cluster_json(c->db, col_str(st, 0),
							    col_str(st, 1), col_str(st, 2)));
		else
			json_array_append_new(failures,
				json_pack("{s:s, s:s}", "arn", ident, "reason", "MISSING"));
		sqlite3_finalize(st);
	}
	return 0;
}

/* nextToken: an offset into an ordered listing */
static int in_page(struct ecs_call *c, long long *offset, long long *max)
{
	const char *tok;
	int present;

	*offset = 0;
	*max = 100;
	if (in_str(c, "nextToken", 0, &tok) < 0 ||
		in_int(c, c->in, "maxResults", max, &present) < 0)
		return -1;
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
	struct ecs_call *c, sqlite3_stmt *st, const char *key, long long offset, long long max)
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
		json_array_append_new(arr, json_string(col_str(st, 0)));
	}
	sqlite3_finalize(st);
	return 0;
}

static int list_clusters(struct ecs_call *c)
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

static int delete_cluster(struct ecs_call *c)
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
	step_done(c->db, "UPDATE ecs_cluster SET status = 'INACTIVE' WHERE arn = ?", "s", arn);
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
static int taskdef_find(struct ecs_call *c, const char *ident, char **arn, json_t **body)
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
		*arn = col_dup(st, 0);
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

static int container_def_check(struct ecs_call *c, json_t *cd, json_t *seen)
{
	const char *name = json_string_value(json_object_get(cd, "name"));
	json_t *hc = json_object_get(cd, "healthCheck"), *sec, *pm, *v;
	size_t i;

	if (!json_is_object(cd) || name == NULL || !name_valid(name, 255))
		return ecs_bad(c, "ClientException",
			"Container.name should not be null or empty and may contain letters, "
			"numbers, hyphens and underscores.");
	if (json_object_get(seen, name) != NULL)
		return ecs_bad(c, "ClientException", "Duplicate container name '%s'.", name);
	json_object_set_new(seen, name, json_true());
	if (!json_is_string(json_object_get(cd, "image")))
		return ecs_bad(
			c, "ClientException", "Container.image should not be null or empty.");
	/* as on Fargate: at most 120 s, so StopTask and shutdown always end */
	v = json_object_get(cd, "stopTimeout");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
				 json_integer_value(v) > ECS_MAX_STOP_TIMEOUT))
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
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			json_integer_value(v) > 65535)
			return ecs_bad(c, "ClientException",
				"Invalid containerPort in container '%s'.", name);
		if (json_object_get(pm, "hostPort") == NULL)
			json_object_set(pm, "hostPort", v);
		if (json_object_get(pm, "protocol") == NULL)
			json_object_set_new(pm, "protocol", json_string("tcp"));
	}
	json_array_foreach(json_object_get(cd, "secrets"), i, sec)
	{
		if (!json_is_string(json_object_get(sec, "name")) ||
			!json_is_string(json_object_get(sec, "valueFrom")))
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

static int register_task_definition(struct ecs_call *c)
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
	if (!json_is_array(cdefs) || json_array_size(cdefs) == 0) {
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
	if (step_done(c->db,
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

static int describe_task_definition(struct ecs_call *c)
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

static int deregister_task_definition(struct ecs_call *c)
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
	step_done(c->db,
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

static int list_task_definitions(struct ecs_call *c)
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

static int list_task_definition_families(struct ecs_call *c)
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
	extra = json_loads(col_str(st, 9), 0, NULL);
	svc = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:s, s:{s:s}, s:{s:I, s:I, s:{s:b, "
		"s:b}}}",
		"serviceArn", arn, "serviceName", col_str(st, 0), "clusterArn", col_str(st, 1),
		"status", col_str(st, 2), "taskDefinition", col_str(st, 3), "desiredCount",
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
				reason = col_dup(st, 2);
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
						col_str(st, 2)));
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
	struct ecs_call *c, long long *min_h, long long *max_p, int *cb_e, int *cb_r)
{
	json_t *dc = json_object_get(c->in, "deploymentConfiguration"), *cb;
	int present;

	if (dc == NULL)
		return 0;
	if (!json_is_object(dc))
		return ecs_bad(
			c, "SerializationException", "deploymentConfiguration must be an object");
	if (in_int(c, dc, "minimumHealthyPercent", min_h, &present) < 0 ||
		in_int(c, dc, "maximumPercent", max_p, &present) < 0)
		return -1;
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

static int service_find(struct ecs_call *c, const char *cluster_arn, const char *ident, char **arn)
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
		*arn = col_dup(st, 0);
	sqlite3_finalize(st);
	if (*arn == NULL)
		return ecs_bad(c, "ServiceNotFoundException", "Service not found.");
	return 0;
}

static int create_service(struct ecs_call *c)
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

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "serviceName", 1, &name) < 0 ||
		in_str(c, "taskDefinition", 1, &td_ident) < 0 ||
		in_int(c, c->in, "desiredCount", &desired, &present) < 0 ||
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
		if (strcmp(col_str(st, 1), "INACTIVE")) {
			sqlite3_finalize(st);
			ecs_bad(c, "InvalidParameterException",
				"Creation of service was not idempotent.");
			goto out;
		}
		/* a deleted service's name can be used again */
		arn = col_dup(st, 0);
		step_done(c->db, "DELETE FROM ecs_service WHERE arn = ?", "s", arn);
		step_done(c->db, "DELETE FROM ecs_deployment WHERE service = ?", "s", arn);
		step_done(c->db, "DELETE FROM ecs_event WHERE service = ?", "s", arn);
		free(arn);
	}
	sqlite3_finalize(st);
	arn = xasprintf("arn:aws:ecs:%s:%s:service/%s/%s", c->req->region, ECS_ACCOUNT,
		arn_tail(cluster_arn), name);
	for (i = 0; i < ARRAY_SIZE(echo); i++)
		if (json_object_get(c->in, echo[i]) != NULL)
			json_object_set(extra, echo[i], json_object_get(c->in, echo[i]));
	extra_text = json_dumps(extra, JSON_COMPACT);
	if (step_done(c->db,
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

static int update_service(struct ecs_call *c)
{
	const char *cluster, *ident, *td_ident;
	char *cluster_arn = NULL, *arn = NULL, *td_arn = NULL, *current = NULL, *status = NULL;
	json_t *td = NULL;
	long long desired = 0, min_h, max_p;
	int cb_e, cb_r, has_desired, force, r, ret = -1;
	sqlite3_stmt *st = NULL;

	if (in_str(c, "cluster", 0, &cluster) < 0 || in_str(c, "service", 1, &ident) < 0 ||
		in_str(c, "taskDefinition", 0, &td_ident) < 0 ||
		in_int(c, c->in, "desiredCount", &desired, &has_desired) < 0 ||
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
	status = col_dup(st, 0);
	current = col_dup(st, 1);
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
	step_done(c->db,
		"UPDATE ecs_service SET min_healthy = ?, max_percent = ?, cb_enable = ?, "
		"cb_rollback "
		"= ? WHERE arn = ?",
		"iiiis", min_h, max_p, (long long)cb_e, (long long)cb_r, arn);
	if (has_desired)
		step_done(c->db, "UPDATE ecs_service SET desired = ? WHERE arn = ?", "is", desired,
			arn);
	if ((td_arn != NULL && strcmp(td_arn, current)) || force) {
		char dep[40];
		const char *use = td_arn != NULL ? td_arn : current;

		step_done(
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

static int delete_service(struct ecs_call *c)
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
		if (!strcmp(col_str(st, 1), "INACTIVE")) {
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
	step_done(c->db, "UPDATE ecs_service SET status = 'DRAINING', desired = 0 WHERE arn = ?",
		"s", arn);
	json_object_set_new(c->out, "service", service_json(c->db, arn));
	ret = 0;
out:
	free(cluster_arn);
	free(arn);
	return ret;
}

static int describe_services(struct ecs_call *c)
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
	if (!json_is_array(names) || json_array_size(names) == 0 || json_array_size(names) > 10) {
		free(cluster_arn);
		return ecs_bad(c, "InvalidParameterException", "services must hold 1 to 10 names.");
	}
	json_array_foreach(names, i, v)
	{
		sqlite3_stmt *st = NULL;
		const char *ident = json_string_value(v);
		char *arn = NULL;

		if (ident == NULL)
			continue;
		if (sqlite3_prepare_v2(c->db,
			    "SELECT arn FROM ecs_service WHERE cluster = ? AND (name = ?2 OR arn = "
			    "?2)",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, ident, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				arn = col_dup(st, 0);
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

static int list_services(struct ecs_call *c)
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
	addr = col_dup(st, 8);
	ov = json_loads(col_str(st, 9), 0, NULL);
	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
		"taskArn", col_str(st, 0), "clusterArn", col_str(st, 1), "taskDefinitionArn",
		col_str(st, 2), "lastStatus", col_str(st, 3), "desiredStatus", col_str(st, 4),
		"healthStatus", col_str(st, 5), "group", col_str(st, 6), "launchType", "FARGATE",
		"platformVersion", "1.4.0", "createdAt", json_time(sqlite3_column_double(st, 10)),
		"connectivity", "CONNECTED", "cpu", "256", "memory", "512");
	if (t == NULL)
		goto out;
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		json_object_set_new(t, "startedBy", json_string(col_str(st, 7)));
	for (k = 11; k <= 13; k++) {
		static const char *const keys[] = {"startedAt", "stoppingAt", "stoppedAt"};

		if (sqlite3_column_type(st, k) != SQLITE_NULL)
			json_object_set_new(
				t, keys[k - 11], json_time(sqlite3_column_double(st, k)));
	}
	if (sqlite3_column_type(st, 14) != SQLITE_NULL)
		json_object_set_new(t, "stopCode", json_string(col_str(st, 14)));
	if (sqlite3_column_type(st, 15) != SQLITE_NULL)
		json_object_set_new(t, "stoppedReason", json_string(col_str(st, 15)));
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
		char *carn = xasprintf("%s/%s", arn, col_str(st, 0));
		json_t *cj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s}]}", "containerArn",
			carn, "taskArn", arn, "name", col_str(st, 0), "image", col_str(st, 1),
			"lastStatus", col_str(st, 3), "healthStatus", col_str(st, 6),
			"networkInterfaces", "privateIpv4Address", addr);

		free(carn);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			json_object_set_new(cj, "imageDigest", json_string(col_str(st, 2)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(
				cj, "exitCode", json_integer(sqlite3_column_int64(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(cj, "reason", json_string(col_str(st, 5)));
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

static int task_find(struct ecs_call *c, const char *cluster_arn, const char *ident, char **arn)
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
		*arn = col_dup(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int run_task(struct ecs_call *c)
{
	const char *cluster, *td_ident, *started_by, *group;
	char *cluster_arn = NULL, *td_arn = NULL, *ov_text = NULL, *grp = NULL;
	json_t *td = NULL, *ov = json_object_get(c->in, "overrides"), *tasks = json_array();
	long long count = 1, k;
	int present, r, ret = -1;

	json_object_set_new(c->out, "tasks", tasks);
	json_object_set_new(c->out, "failures", json_array());
	if (in_str(c, "cluster", 0, &cluster) < 0 ||
		in_str(c, "taskDefinition", 1, &td_ident) < 0 ||
		in_str(c, "startedBy", 0, &started_by) < 0 || in_str(c, "group", 0, &group) < 0 ||
		in_int(c, c->in, "count", &count, &present) < 0 ||
		cluster_find(c, cluster, &cluster_arn) < 0)
		goto out;
	if (count < 1 || count > 10) {
		ecs_bad(c, "InvalidParameterException", "count must be between 1 and 10.");
		goto out;
	}
	if (ov != NULL && !json_is_object(ov)) {
		ecs_bad(c, "SerializationException", "overrides must be an object");
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

static int describe_tasks(struct ecs_call *c)
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
	if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > 100) {
		free(cluster_arn);
		return ecs_bad(c, "InvalidParameterException", "tasks must hold 1 to 100 ids.");
	}
	json_array_foreach(ids, i, v)
	{
		const char *ident = json_string_value(v);
		char *arn = NULL;

		if (ident == NULL)
			continue;
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

static int list_tasks(struct ecs_call *c)
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

static int stop_task(struct ecs_call *c)
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
	step_done(c->db,
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
	int api(struct lc_request *req, struct lc_response *res)                                   \
	{                                                                                          \
		return ecs_run(req, res, fn);                                                      \
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
