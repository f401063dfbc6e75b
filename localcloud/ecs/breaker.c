/*
 * ecs/breaker.c: the deployment circuit breaker: failed tasks counted per
 * deployment with a relaunch back-off, and the trip (threshold: half the
 * desired count, at least 3 and at most 200) that fails the deployment and
 * rolls back to the last one that completed when the service asks for it.
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

/* failure threshold of the circuit breaker: 0.5 * desired, in [3, 200] */
long long cb_threshold(long long desired)
{
	long long t = (desired + 1) / 2;

	return t < 3 ? 3 : t > 200 ? 200 : t;
}

/* A task of a deployment failed: count it; back off relaunches. */
void deployment_failure(sqlite3 *db, const char *deployment, double now)
{
	sqlite3_stmt *st = NULL;
	long long consecutive = 0;
	double backoff;

	if (deployment == NULL)
		return;
	store_run(db,
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
	store_run(db, "UPDATE ecs_deployment SET next_launch = ? WHERE id = ?", "ds", now + backoff,
		deployment);
}

/*
 * The breaker on the service's primary deployment d: while it is in
 * progress with the breaker enabled and at least cb_threshold(desired) of
 * its tasks failed, the deployment fails and, when the service asks for
 * rollback and has a deployment that completed (last_good), a new one of
 * last_good takes over.  1 when it tripped, 0 otherwise.
 */
int breaker_trip(sqlite3 *db, const char *arn, const char *name, const struct ecs_dep *d,
	long long desired, int cb_enable, int cb_rollback, const char *last_good, double now)
{
	if (!strcmp(d->rollout, "IN_PROGRESS") && cb_enable &&
		d->failed >= cb_threshold(desired)) {
		store_run(db,
			"UPDATE ecs_deployment SET rollout = 'FAILED', reason = 'ECS deployment "
			"circuit breaker: tasks failed to start.', updated = ? WHERE id = ?",
			"ds", now, d->id);
		service_event(db, arn, now,
			"(service %s) (deployment %s) deployment failed: tasks failed to start.",
			name, d->id);
		if (cb_rollback && last_good != NULL) {
			char id[40];

			deployment_new(db, arn, last_good, now, id);
			store_run(db, "UPDATE ecs_service SET taskdef = ? WHERE arn = ?", "ss",
				last_good, arn);
			service_event(db, arn, now, "(service %s) rolling back to deployment %s.",
				name, id);
		}
		return 1;
	}
	return 0;
}
