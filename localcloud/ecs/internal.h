/*
 * ecs/internal.h: private to ecs/.  What ECS is:
 *
 * Amazon ECS (JSON 1.1, AmazonEC2ContainerServiceV20141113) on
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
 * the target groups when it starts (elbv2/); a task counts as healthy
 * for a deployment once its targets are healthy, and a task being stopped
 * is drained (DEACTIVATING) before it gets SIGTERM.
 *
 * Restart: tasks do not outlive caliberd (PR_SET_PDEATHSIG).  At start-up
 * every task the store still calls live is stopped ("caliberd restarted"),
 * leftover processes of the previous daemon (same pid and kernel start
 * time) are killed, and services start new tasks up to their desired
 * counts; deployments in progress go on where they were.
 *
 * The files: records.c (store helpers, task rows, secrets), tasks.c
 * (process table, task start, the task tick), scheduler.c (the supervisor
 * thread, deployments, init), breaker.c (the circuit breaker), api.c
 * (handlers), routes.c (the service row and operations).
 */
#ifndef CALIBER_LC_ECS_INTERNAL_H
#define CALIBER_LC_ECS_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include <jansson.h>
#include <sqlite3.h>

#include "aws/codec.h"
#include "buf.h"
#include "core/router.h"
#include "core/store.h"
#include "core/supervisor.h"
#include "ecs.h"

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

struct ecs_supervisor {
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
};
/* The supervisor's state (tasks.c): touched by its thread only, but for srv and store. */
extern struct ecs_supervisor ecs_sup;

/* A service's deployment as the scheduler and DescribeServices see it (deps_load). */
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

/* ecs/records.c */
void deployment_id_new(char out[40]);
const char *arn_tail(const char *s);
json_t *json_time(double t);
void service_event(sqlite3 *db, const char *service_arn, double now, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int secret_resolve(sqlite3 *db, const unsigned char *key, const char *region,
	const char *value_from, struct buf *out, struct err *e);
int taskdef_load(sqlite3 *db, const char *arn, json_t **out);
int task_create(sqlite3 *db, const char *region, const char *cluster_arn, const json_t *td,
	const char *group, const char *started_by, const char *service, const char *deployment,
	const char *overrides, double now, char **arn_ret);

/* ecs/tasks.c */
void proc_read(struct ecs_proc *p);
void lines_flush(sqlite3 *db);
void proc_health(struct ecs_proc *p, double now);
void tasks_prune(sqlite3 *db, double now);
void tasks_step(sqlite3 *db, double now);

/* ecs/breaker.c */
long long cb_threshold(long long desired);
void deployment_failure(sqlite3 *db, const char *deployment, double now);
int breaker_trip(sqlite3 *db, const char *arn, const char *name, const struct ecs_dep *d,
	long long desired, int cb_enable, int cb_rollback, const char *last_good, double now);

/* ecs/scheduler.c */
void deps_free(struct ecs_dep *d, size_t n);
int deps_load(sqlite3 *db, const char *service, struct ecs_dep **out, size_t *n_out);
void deployment_new(
	sqlite3 *db, const char *service, const char *td, double now, char id[40]);
long long cluster_service_count(sqlite3 *db, const char *cluster_arn);

/* the start-up function (scheduler.c) and the handlers (api.c), for routes.c */
int ecs_init(struct lc_server *srv, struct err *e);
int ecs_create_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_describe_clusters(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_list_clusters(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_delete_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_register_task_definition(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_deregister_task_definition(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_describe_task_definition(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_list_task_definitions(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_list_task_definition_families(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_create_service(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_update_service(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_delete_service(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_describe_services(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_list_services(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_run_task(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_describe_tasks(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_list_tasks(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ecs_stop_task(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
