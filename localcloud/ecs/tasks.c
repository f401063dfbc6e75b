/*
 * ecs/tasks.c: the process table and task start: one entry per running
 * container process (struct ecs_proc, the supervisor's memory), starting a
 * task's containers as supervised processes (environment, secrets, its own
 * user and address), reading their output into CloudWatch Logs, container
 * health checks, and the task state machine the supervisor runs each tick
 * (reaping, draining load balancer targets, stopping, pruning).
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

/* the supervisor's memory: one entry per running container process (internal.h) */
struct ecs_supervisor ecs_sup;

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
void proc_read(struct ecs_proc *p)
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

void lines_flush(sqlite3 *db)
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
void proc_health(struct ecs_proc *p, double now)
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
	store_run(db,
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
			lc_log("ecs: task %s stopped: %s", store_col_str(st, 0), store_col_str(st, 1));
		sqlite3_finalize(st);
	}
	store_run(db,
		"UPDATE ecs_task SET last_status = 'STOPPED', desired_status = 'STOPPED', "
		"stopped = ?, stopping = coalesce(stopping, ?) WHERE arn = ?",
		"dds", now, now, arn);
	store_run(db, "UPDATE ecs_container SET last_status = 'STOPPED', pid = NULL WHERE task = ?",
		"s", arn);
	procs_drop_task(arn);
}

/* A task could not start: stopped at once, a failure for its deployment. */
static void task_fail_start(sqlite3 *db, const char *arn, const char *reason, double now)
{
	store_run(db,
		"UPDATE ecs_task SET stop_code = 'TaskFailedToStart', stopped_reason = ?, failed = "
		"1 "
		"WHERE arn = ?",
		"ss", reason, arn);
	store_run(db,
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
	store_run(db, "UPDATE ecs_task SET last_status = 'RUNNING', started = ? WHERE arn = ?",
		"ds", now, arn);
out:
	json_decref(td);
	json_decref(overrides);
}

/* ------------------------------------------------------------------ */
/* the task state machine, one tick                                   */

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
		extra = json_loads(store_col_str(st, 0), 0, NULL);
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
void tasks_prune(sqlite3 *db, double now)
{
	double every = ecs_sup.retention < 60 ? ecs_sup.retention : 60;

	if (now - ecs_sup.pruned < every && ecs_sup.pruned <= now)
		return;
	ecs_sup.pruned = now;
	store_run(db,
		"DELETE FROM ecs_container WHERE task IN (SELECT arn FROM ecs_task WHERE "
		"last_status = 'STOPPED' AND stopped < ?)",
		"d", now - ecs_sup.retention);
	store_run(db, "DELETE FROM ecs_task WHERE last_status = 'STOPPED' AND stopped < ?", "d",
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
			id = store_col_text(st, 0);
			reason = store_col_text(st, 1);
			why = xasprintf("task %s: %s", id, reason);
			if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
				service = store_col_text(st, 2);
				name = store_col_text(st, 3);
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

void tasks_step(sqlite3 *db, double now)
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
		arns[n_arns++] = store_col_text(st, 0);
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
		char *arn = store_col_text(st, 0), *id = store_col_text(st, 1), *td = store_col_text(st, 2);
		char *ov = store_col_text(st, 3), *region = store_col_text(st, 4), *addr = store_col_text(st, 5);
		char *last = store_col_text(st, 6), *desired = store_col_text(st, 7), *dep = store_col_text(st, 8);
		char *health = store_col_text(st, 9);
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
					store_run(db,
						"UPDATE ecs_container SET last_status = 'STOPPED', "
						"exit_code = ?, pid = NULL WHERE task = ? AND name "
						"= ?",
						"iss", (long long)p->exit_code, arn, p->name);
					p->exit_recorded = 1;
				}
				if (p->health != HEALTH_UNKNOWN && !p->health_recorded) {
					store_run(db,
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
					store_run(db,
						"UPDATE ecs_task SET health = ? WHERE arn = ?",
						"ss", h, arn);
					if (!strcmp(h, "HEALTHY") && dep != NULL)
						store_run(db,
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

				store_run(db,
					"UPDATE ecs_task SET desired_status = 'STOPPED', stop_code "
					"= ?, "
					"stopped_reason = ?, failed = 1 WHERE arn = ?",
					"sss",
					essential_exit ? "EssentialContainerExited"
						       : "ServiceSchedulerInitiated",
					why, arn);
				if (unhealthy && !essential_exit)
					store_run(db,
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
						store_run(db,
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
				store_run(db,
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
