/*
 * ecs/records.c: ECS's records in the store: small helpers shared by the
 * supervisor and the API (service events, ids, times; the SQLite helpers
 * are core/store.h's), task definitions and task rows, and the secrets a
 * container definition names (read through Secrets Manager).
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

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

static void random_hex(char *out, size_t nbytes)
{
	unsigned char r[32];

	RAND_bytes(r, (int)nbytes);
	hex_encode(r, nbytes, out);
}

void deployment_id_new(char out[40])
{
	unsigned char r[8];
	unsigned long long v;

	RAND_bytes(r, sizeof(r));
	memcpy(&v, r, sizeof(v));
	snprintf(out, 40, "ecs-svc/%019llu", v % 10000000000000000000ULL);
}

/* the last part of an ARN-or-name: "arn:...:cluster/x" -> "x" */
const char *arn_tail(const char *s)
{
	const char *slash;

	if (strncmp(s, "arn:", 4))
		return s;
	slash = strrchr(s, '/');
	return slash != NULL ? slash + 1 : s;
}

json_t *json_time(double t)
{
	return json_real(floor(t * 1000.0) / 1000.0);
}

void service_event(sqlite3 *db, const char *service_arn, double now, const char *fmt, ...)
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
	store_run(db, "INSERT INTO ecs_event (service, created, message) VALUES (?, ?, ?)", "sds",
		service_arn, now, msg);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* secrets: read through Secrets Manager, inside our transaction      */

/*
 * The value a container definition's secret names: valueFrom is a
 * Secrets Manager ARN (full or partial, or a name in the task's region),
 * optionally followed by :json-key:version-stage:version-id as ECS allows.
 * Secrets Manager reads it (sm_secret_value_read) inside our transaction.
 */
int secret_resolve(sqlite3 *db, const unsigned char *key, const char *region,
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

int taskdef_load(sqlite3 *db, const char *arn, json_t **out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT body, status FROM ecs_taskdef WHERE arn = ?", -1, &st,
		    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = json_loads(store_col_str(st, 0), 0, NULL);
		if (*out != NULL) {
			json_object_set_new(*out, "status", json_string(store_col_str(st, 1)));
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
int task_create(sqlite3 *db, const char *region, const char *cluster_arn, const json_t *td,
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
	if (store_run(db,
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
	if (store_run(db, "UPDATE ecs_task SET addr = ? WHERE arn = ?", "ss", addr, arn_out) < 0)
		goto fail;
	json_array_foreach(cdefs, i, cd)
	{
		json_t *ess = json_object_get(cd, "essential");

		if (store_run(db,
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
