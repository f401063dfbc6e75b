/*
 * rds/jobs.c: RDS's background jobs: the worker threads that create,
 * restore, start and delete instances and take snapshots on the engine
 * (core/engine-postgres.h), the backup scheduler (automated backups, their
 * pruning, the WAL archive) and rds_init (resuming jobs after a restart).
 * RDS as a whole is described in internal.h.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/engine-postgres.h"
#include "core/reply.h"
#include "core/router.h"
#include "cluster.h"
#include "internal.h"
#include "core/store.h"

static const char rds_schema[] =
	"CREATE TABLE IF NOT EXISTS rds_instance ("
	" id TEXT PRIMARY KEY,"
	" region TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" job TEXT,"			/* work a worker must (re)do: create, restore, reboot, delete */
	" instance_class TEXT NOT NULL,"
	" master_user TEXT NOT NULL,"
	" db_name TEXT,"
	" port INTEGER NOT NULL,"
	" allocated_storage INTEGER NOT NULL,"
	" retention INTEGER NOT NULL,"
	" created REAL NOT NULL,"
	" admin_pw BLOB NOT NULL,"
	" master_pw BLOB,"		/* sealed, only until the instance is created */
	" secret_arn TEXT,"
	" subnet_group TEXT,"
	" vpc_sgs TEXT NOT NULL DEFAULT '[]',"
	" resource_id TEXT NOT NULL,"
	" restore_snapshot TEXT,"
	" restore_source TEXT,"
	" restore_time REAL,"		/* seconds; < 0: latest */
	" final_snapshot TEXT);"
	"CREATE TABLE IF NOT EXISTS rds_snapshot ("
	" id TEXT PRIMARY KEY,"
	" instance_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" type TEXT NOT NULL,"		/* manual, automated */
	" status TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" completed REAL,"
	" instance_created REAL NOT NULL,"
	" master_user TEXT NOT NULL,"
	" db_name TEXT,"
	" port INTEGER NOT NULL,"
	" allocated_storage INTEGER NOT NULL,"
	" admin_pw BLOB NOT NULL,"
	" resource_id TEXT NOT NULL);";

/* ---------------------------------------------------------------- workers */

void rds_random_password(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[64];
	size_t i;

	RAND_bytes(r, sizeof(r));
	for (i = 0; i + 1 < len && i < sizeof(r); i++)
		out[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	out[i] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
}

/* a random (version 4) UUID, the same kind as request ids */
void rds_uuid(char out[40])
{
	lc_request_id_new(out);
}

/*
 * Insert a snapshot row of instance `in` (status creating), sealing the
 * instance's admin password for it.  Inside the caller's transaction.
 */
int rds_snapshot_insert(sqlite3 *db, const struct rds_instance *in, const char *snap,
	const char *type, double now, struct err *e)
{
	struct buf pw = BUF_INIT, sealed = BUF_INIT;
	char *aad_in = rds_aad("admin", in->id), *aad_snap = rds_aad("snapshot", snap);
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (rds_open_column(db, "SELECT admin_pw FROM rds_instance WHERE id = ?", in->id, aad_in,
		    &pw, e) < 0 ||
		crypt_seal(rds_srv->master_key, pw.data, pw.len, aad_snap, &sealed, e) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
		    "INSERT INTO rds_snapshot (id, instance_id, region, type, status, created,"
		    " instance_created, master_user, db_name, port, allocated_storage, admin_pw,"
		    " resource_id) VALUES (?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, snap, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, now);
	sqlite3_bind_double(st, 6, in->created);
	sqlite3_bind_text(st, 7, in->master_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, in->db_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, in->port);
	sqlite3_bind_int(st, 10, in->allocated_storage);
	sqlite3_bind_blob(st, 11, sealed.data, (int)sealed.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, in->resource_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release_secret(&pw);
	buf_release(&sealed);
	free(aad_in);
	free(aad_snap);
	return ret;
}

/* Base backup into an existing 'creating' snapshot row; marks it available or failed. */
static int rds_snapshot_take(const char *instance_id, int port, const char *snap)
{
	struct buf pw = BUF_INIT;
	struct err e = ERR_INIT;
	int ret = -1;

	if (rds_admin_password(instance_id, &pw, &e) < 0 ||
		pge_snapshot(instance_id, port, pw.data, snap, &e) < 0) {
		lc_log("rds: snapshot '%s' of '%s' failed: %s", snap, instance_id, e.msg);
		rds_snapshot_set_status(snap, "failed", NAN);
		goto out;
	}
	if (rds_snapshot_set_status(snap, "available", lc_now()) == 0) {
		/* its row was dropped meanwhile (retention set to 0, instance deleted) */
		if (pge_snapshot_delete(snap, &e) < 0)
			lc_log("rds: %s", e.msg);
	}
	ret = 0;
out:
	buf_release_secret(&pw);
	return ret;
}

/* An automated backup of instance id now (instance row read fresh). */
static int rds_automated_backup(const char *id)
{
	struct rds_instance in = { 0 };
	struct err e = ERR_INIT;
	char snap[128], when[32];
	time_t now = time(NULL);
	struct tm tm;
	sqlite3 *db;
	int found, ret = -1;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d-%H-%M", &tm);
	snprintf(snap, sizeof(snap), "rds:%s-%s", id, when);
	if (rds_wbegin(&e) < 0) {
		/* the scheduler takes it at its next round: say why it is late */
		lc_log("rds: automated backup of '%s' postponed: %s", id, e.msg);
		return -1;
	}
	db = store_db(rds_srv->store);
	found = rds_instance_get(db, id, &in);
	if (found != 1) {
		rds_wrollback();
		goto out;
	}
	{
		struct rds_snapshot old = { 0 };
		int exists = rds_snapshot_get(db, snap, &old);

		rds_snapshot_release(&old);
		if (exists != 0) {
			/* RDS names them by the minute; a shorter interval adds seconds */
			strftime(when, sizeof(when), "%Y-%m-%d-%H-%M-%S", &tm);
			snprintf(snap, sizeof(snap), "rds:%s-%s", id, when);
			exists = rds_snapshot_get(db, snap, &old);
			rds_snapshot_release(&old);
		}
		if (exists != 0) {
			rds_wrollback();
			ret = 0;
			goto out;
		}
	}
	if (rds_snapshot_insert(db, &in, snap, "automated", lc_now(), &e) < 0) {
		lc_log("rds: automated backup of '%s': %s", id, e.msg);
		rds_wrollback();
		goto out;
	}
	if (rds_wcommit(&e) < 0) {
		lc_log("rds: automated backup of '%s' postponed: %s", id, e.msg);
		goto out;
	}
	ret = rds_snapshot_take(id, in.port, snap);
out:
	rds_instance_release(&in);
	return ret;
}

/* Remove snapshot rows and directories; ids from a query with one text parameter. */
void rds_snapshots_drop(const char *sql, const char *param)
{
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t n = 0, i;
	sqlite3 *db;

	if (rds_wbegin(&e) < 0)
		return;
	db = store_db(rds_srv->store);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			ids = xrealloc(ids, (n + 1) * sizeof(*ids));
			ids[n++] = store_col_text(st, 0);
		}
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		const char *p[] = { ids[i] };

		store_run_texts(db, "DELETE FROM rds_snapshot WHERE id = ?", 1, p);
	}
	if (rds_wcommit(&e) < 0)
		lc_log("rds: %s", e.msg);
	for (i = 0; i < n; i++) {
		if (pge_snapshot_delete(ids[i], &e) < 0)
			lc_log("rds: %s", e.msg);
		free(ids[i]);
	}
	free(ids);
}

/* Managed master password: the secret in Secrets Manager, through its route's typed handler. */
int rds_secret_call(const char *operation, const char *region, json_t *in, char **arn,
	struct err *e)
{
	struct codec_error ce = CODEC_ERROR_INIT;
	struct lc_request req;
	json_t *out = NULL;
	int ret = -1;

	memset(&req, 0, sizeof(req));
	req.srv = rds_srv;
	req.service = router_service("secretsmanager");
	req.operation = operation;
	snprintf(req.region, sizeof(req.region), "%s", region);
	snprintf(req.access_key_id, sizeof(req.access_key_id), "%s",
		rds_srv->creds.access_key_id);
	req.authenticated = 1;
	req.body_fd = -1;
	lc_request_id_new(req.request_id);
	buf_init(&req.body);
	if (req.service != NULL)
		req.route = router_operation(req.service, operation);
	if (req.route == NULL || req.route->typed == NULL) {
		err_set(e, "secrets manager is not available");
		goto out;
	}
	if (req.route->typed(&req, in, &out, &ce) < 0) {
		err_set(e, "secrets manager %s refused: %s", operation, ce.code);
		goto out;
	}
	if (arn != NULL) {
		const char *a = json_string_value(json_object_get(out, "ARN"));

		*arn = a ? xstrdup(a) : NULL;
	}
	ret = 0;
out:
	json_decref(out);
	codec_error_release(&ce);
	return ret;
}

struct rds_job {
	char *id;
};

static void rds_job_create(const struct rds_instance *in)
{
	struct buf admin = BUF_INIT, master = BUF_INIT;
	struct err e = ERR_INIT;
	char *aad_a = rds_aad("admin", in->id), *aad_m = rds_aad("master", in->id);
	int ok;

	if (rds_wbegin(&e) < 0)
		goto fail;
	ok = rds_open_column(store_db(rds_srv->store),
		     "SELECT admin_pw FROM rds_instance WHERE id = ?", in->id, aad_a, &admin,
		     &e) == 0 &&
		rds_open_column(store_db(rds_srv->store),
			"SELECT master_pw FROM rds_instance WHERE id = ?", in->id, aad_m, &master,
			&e) == 0;
	rds_wrollback();
	if (!ok)
		goto fail;
	if (pge_create(in->id, in->port, admin.data, in->master_user, master.data, in->db_name,
		    &e) < 0)
		goto fail;
	if (in->retention > 0)
		rds_automated_backup(in->id);
	{
		const char *p[] = { in->id };

		/*
		 * The master password is in the cluster now: forget it, in the
		 * same transaction that ends the job (a crash before this redoes
		 * the whole create, which needs it).
		 */
		if (rds_wbegin(&e) < 0)
			goto fail;
		if (store_run_texts(store_db(rds_srv->store),
			    "UPDATE rds_instance SET master_pw = NULL, status = 'available', job = NULL"
			    " WHERE id = ?",
			    1, p) < 0) {
			rds_wrollback();
			err_set(&e, "unable to update the instance");
			goto fail;
		}
		if (rds_wcommit(&e) < 0)
			goto fail;
	}
	lc_log("rds: '%s' available on port %d", in->id, in->port);
	goto out;
fail:
	lc_log("rds: creating '%s' failed: %s", in->id, e.msg);
	rds_set_status(in->id, "failed", NULL);
out:
	buf_release_secret(&admin);
	buf_release_secret(&master);
	free(aad_a);
	free(aad_m);
}

static void rds_job_restore(const struct rds_instance *in)
{
	struct err e = ERR_INIT;
	struct buf pw = BUF_INIT;
	const char *src = in->restore_source;

	if (src != NULL && pge_running(src)) {
		struct rds_instance s = { 0 };
		int found = 0;

		/* push what the source committed until now into its archive */
		if (rds_wbegin(&e) == 0) {
			found = rds_instance_get(store_db(rds_srv->store), src, &s);
			rds_wrollback();
		}
		if (found == 1 && rds_admin_password(src, &pw, &e) == 0 &&
			pge_archive_now(src, s.port, pw.data, &e) < 0)
			lc_log("rds: archiving '%s' before a restore: %s", src, e.msg);
		rds_instance_release(&s);
		buf_release_secret(&pw);
	}
	if (rds_admin_password(in->id, &pw, &e) < 0 ||
		pge_restore(in->restore_snapshot, in->id, in->port, pw.data, src,
			isnan(in->restore_time) ? -1 : in->restore_time, &e) < 0) {
		buf_release_secret(&pw);
		lc_log("rds: restoring '%s' failed: %s", in->id, e.msg);
		rds_set_status(in->id, src ? "incompatible-restore" : "failed", NULL);
		return;
	}
	buf_release_secret(&pw);
	if (in->retention > 0)
		rds_automated_backup(in->id);
	rds_set_status(in->id, "available", NULL);
	lc_log("rds: '%s' restored, available on port %d", in->id, in->port);
}

static void rds_job_delete(const struct rds_instance *in)
{
	struct err e = ERR_INIT;

	/* a backup accepted before the delete finishes first (it reads the server) */
	rds_busy_wait(in->id);

	if (in->final_snapshot != NULL) {
		struct rds_snapshot s = { 0 };
		int found = 0;

		if (rds_wbegin(&e) == 0) {
			found = rds_snapshot_get(store_db(rds_srv->store), in->final_snapshot, &s);
			rds_wrollback();
		}
		/* a failed instance that does not run has nothing to copy */
		if (found == 1 && !strcmp(s.status, "creating")) {
			if (pge_running(in->id))
				rds_snapshot_take(in->id, in->port, in->final_snapshot);
			else
				rds_snapshot_set_status(in->final_snapshot, "failed", NAN);
		}
		rds_snapshot_release(&s);
	}
	if (pge_destroy(in->id, &e) < 0) {
		lc_log("rds: deleting '%s' failed: %s", in->id, e.msg);
		rds_set_status(in->id, "failed", NULL);
		return;
	}
	rds_snapshots_drop("SELECT id FROM rds_snapshot WHERE instance_id = ? AND type = 'automated'",
		in->id);
	if (in->secret_arn != NULL) {
		json_t *req = json_pack("{s:s, s:b}", "SecretId", in->secret_arn,
			"ForceDeleteWithoutRecovery", 1);

		pthread_rwlock_rdlock(&rds_life);
		if (rds_stopping)
			err_set(&e, "caliberd is stopping");
		if (rds_stopping || rds_secret_call("DeleteSecret", in->region, req, NULL, &e) < 0)
			lc_log("rds: deleting the secret of '%s': %s", in->id, e.msg);
		pthread_rwlock_unlock(&rds_life);
		json_decref(req);
	}
	if (rds_wbegin(&e) == 0) {
		const char *p[] = { in->id };

		store_run_texts(store_db(rds_srv->store), "DELETE FROM rds_instance WHERE id = ?", 1, p);
		if (rds_wcommit(&e) == 0)
			lc_log("rds: '%s' deleted", in->id);
	}
}

static void rds_job_start(const struct rds_instance *in, int restart)
{
	struct err e = ERR_INIT;

	if (restart && pge_stop(in->id, &e) < 0)
		lc_log("rds: stopping '%s': %s", in->id, e.msg);
	if (pge_start(in->id, in->port, &e) < 0) {
		lc_log("rds: starting '%s' failed: %s", in->id, e.msg);
		rds_set_status(in->id, "failed", NULL);
		return;
	}
	/*
	 * Available, unless the scheduler has started a backup meanwhile (it
	 * makes the instance available when done) or a delete was accepted.
	 */
	{
		const char *p[] = { in->id };

		if (rds_wbegin(&e) < 0) {
			lc_log("rds: %s", e.msg);
			return;
		}
		if (store_run_texts(store_db(rds_srv->store),
			    "UPDATE rds_instance SET status = 'available', job = NULL WHERE id = ? AND"
			    " status IN ('starting', 'rebooting', 'available')",
			    1, p) < 0) {
			lc_log("rds: unable to update '%s': %s", in->id,
				sqlite3_errmsg(store_db(rds_srv->store)));
			rds_wrollback();
			return;
		}
		if (rds_wcommit(&e) < 0)
			lc_log("rds: %s", e.msg);
	}
}

static void *rds_job_thread(void *arg)
{
	struct rds_job *j = arg;
	struct rds_instance in = { 0 };
	struct err e = ERR_INIT;
	int found = 0;

	if (rds_wbegin(&e) == 0) {
		found = rds_instance_get(store_db(rds_srv->store), j->id, &in);
		rds_wrollback();
	}
	if (found == 1 && in.job != NULL) {
		if (!strcmp(in.job, "create"))
			rds_job_create(&in);
		else if (!strcmp(in.job, "restore"))
			rds_job_restore(&in);
		else if (!strcmp(in.job, "delete"))
			rds_job_delete(&in);
		else if (!strcmp(in.job, "reboot"))
			rds_job_start(&in, 1);
		else if (!strcmp(in.job, "start"))
			rds_job_start(&in, 0);
		else if (!strcmp(in.job, "snapshot"))
			rds_set_status(in.id, "available", NULL);
	}
	rds_instance_release(&in);
	free(j->id);
	free(j);
	return NULL;
}

/* Run the instance's job (from its row) in a detached thread. */
void rds_job_spawn(const char *id)
{
	struct rds_job *j = xcalloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;

	j->id = xstrdup(id);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, rds_job_thread, j) != 0) {
		lc_log("rds: unable to start a worker for '%s'", id);
		free(j->id);
		free(j);
	}
	pthread_attr_destroy(&attr);
}

struct rds_snap_job {
	char *instance_id;
	char *snap;
	int port;
};

static void *rds_snap_thread(void *arg)
{
	struct rds_snap_job *j = arg;

	rds_snapshot_take(j->instance_id, j->port, j->snap);
	rds_backup_done(j->instance_id);
	free(j->instance_id);
	free(j->snap);
	free(j);
	return NULL;
}

void rds_snap_spawn(const char *instance_id, int port, const char *snap)
{
	struct rds_snap_job *j = xcalloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;

	j->instance_id = xstrdup(instance_id);
	j->snap = xstrdup(snap);
	j->port = port;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, rds_snap_thread, j) != 0) {
		lc_log("rds: unable to start a worker for snapshot '%s'", snap);
		free(j->instance_id);
		free(j->snap);
		free(j);
	}
	pthread_attr_destroy(&attr);
}

/* WAL older than the oldest automated backup can serve no restore: remove it. */
static void rds_prune_archive(const char *id)
{
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char *oldest = NULL;

	if (rds_wbegin(&e) < 0)
		return;
	if (sqlite3_prepare_v2(store_db(rds_srv->store),
		    "SELECT id FROM rds_snapshot WHERE instance_id = ? AND type = 'automated' AND"
		    " status = 'available' ORDER BY created LIMIT 1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			oldest = store_col_text(st, 0);
	}
	sqlite3_finalize(st);
	rds_wrollback();
	if (oldest != NULL && pge_archive_prune(id, oldest, &e) < 0)
		lc_log("rds: pruning the WAL archive of '%s': %s", id, e.msg);
	free(oldest);
}

/* Automated backups on schedule, pruned by retention. */
static void *rds_scheduler(void *arg)
{
	const char *env = getenv("CALIBER_RDS_BACKUP_INTERVAL");
	double interval = RDS_DAY, tick;

	(void)arg;
	if (env != NULL && atof(env) >= 1)
		interval = atof(env);
	tick = interval < 60 ? interval / 2 : 30;
	for (;;) {
		struct err e = ERR_INIT;
		sqlite3_stmt *st = NULL;
		char **due = NULL;
		int *ports = NULL;
		size_t n = 0, i;
		double now = lc_now();

		usleep((useconds_t)(tick * 1e6));
		if (rds_wbegin(&e) < 0)
			continue;
		if (sqlite3_prepare_v2(store_db(rds_srv->store),
			    "SELECT i.id, i.port FROM rds_instance i WHERE i.status = 'available'"
			    " AND i.retention > 0 AND ? - COALESCE((SELECT max(s.created) FROM"
			    " rds_snapshot s WHERE s.instance_id = i.id AND s.type = 'automated'),"
			    " 0) >= ?",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, now);
			sqlite3_bind_double(st, 2, interval);
			while (sqlite3_step(st) == SQLITE_ROW) {
				due = xrealloc(due, (n + 1) * sizeof(*due));
				ports = xrealloc(ports, (n + 1) * sizeof(*ports));
				due[n] = store_col_text(st, 0);
				ports[n++] = sqlite3_column_int(st, 1);
			}
		}
		sqlite3_finalize(st);
		/* backing-up keeps other operations off the instance meanwhile */
		for (i = 0; i < n; i++) {
			const char *p[] = { due[i] };

			rds_busy_mark(due[i]);
			if (store_run_texts(store_db(rds_srv->store),
				    "UPDATE rds_instance SET status = 'backing-up', job = 'start'"
				    " WHERE id = ? AND status = 'available'",
				    1, p) < 0)
				lc_log("rds: unable to mark '%s' backing-up: %s", due[i],
					sqlite3_errmsg(store_db(rds_srv->store)));
		}
		if (rds_wcommit(&e) < 0) {
			/* nothing was marked: no backup this round */
			lc_log("rds: %s", e.msg);
			for (i = 0; i < n; i++) {
				rds_busy_unmark(due[i]);
				free(due[i]);
			}
			n = 0;
		}
		for (i = 0; i < n; i++) {
			rds_automated_backup(due[i]);
			rds_backup_done(due[i]);
			/* older than the retention period, but never the newest */
			rds_snapshots_drop(
				"SELECT s.id FROM rds_snapshot s JOIN rds_instance i ON i.id ="
				" s.instance_id WHERE s.instance_id = ?1 AND s.type = 'automated'"
				" AND s.created < strftime('%s', 'now') - i.retention * 86400"
				" AND s.id <> (SELECT id FROM rds_snapshot WHERE instance_id = ?1"
				" AND type = 'automated' ORDER BY created DESC LIMIT 1)",
				due[i]);
			rds_prune_archive(due[i]);
			free(due[i]);
		}
		free(due);
		free(ports);
	}
	return NULL;
}

static void rds_atexit(void)
{
	pge_stop_all();
}

int rds_init(struct lc_server *srv, struct err *e)
{
	static int registered;
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t n = 0, i;
	pthread_t t;
	pthread_attr_t attr;

	rds_srv = srv;
	if (store_exec(srv->store, rds_schema, e) < 0 || pge_setup(srv->cfg.home, e) < 0)
		return -1;
	if (!registered) {
		/* caliberd's clean stop stops the servers; kill -9 leaves them for adoption */
		atexit(rds_atexit);
		registered = 1;
	}
	/* resume: every instance gets its job (re)done, available ones started or adopted */
	if (store_begin(srv->store, e) < 0)
		return -1;
	if (sqlite3_prepare_v2(store_db(srv->store), "SELECT id, status, job FROM rds_instance", -1,
		    &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *status = (const char *)sqlite3_column_text(st, 1);
			const char *job = (const char *)sqlite3_column_text(st, 2);

			if (job == NULL && status != NULL && strcmp(status, "available") &&
				strcmp(status, "backing-up") && strcmp(status, "rebooting"))
				continue;	/* failed: left as it is */
			ids = xrealloc(ids, (n + 1) * sizeof(*ids));
			ids[n++] = store_col_text(st, 0);
		}
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		const char *p[] = { ids[i] };

		store_run_texts(store_db(srv->store),
			"UPDATE rds_instance SET job = 'start' WHERE id = ? AND (job IS NULL OR"
			" job IN ('reboot', 'snapshot'))",
			1, p);
		/* no backup outlives caliberd: a status that says so is stale */
		store_run_texts(store_db(srv->store),
			"UPDATE rds_instance SET status = 'starting' WHERE id = ? AND"
			" status = 'backing-up'",
			1, p);
		/* a server that did not outlive caliberd is not available until started */
		if (!pge_running(ids[i]))
			store_run_texts(store_db(srv->store),
				"UPDATE rds_instance SET status = 'starting' WHERE id = ? AND"
				" job = 'start'",
				1, p);
	}
	/* snapshots cut short by the crash are gone with it */
	store_run_texts(store_db(srv->store),
		"UPDATE rds_snapshot SET status = 'failed' WHERE status = 'creating'", 0, NULL);
	if (store_commit(srv->store, e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		rds_job_spawn(ids[i]);
		free(ids[i]);
	}
	free(ids);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, rds_scheduler, NULL) != 0) {
		pthread_attr_destroy(&attr);
		return err_set(e, "unable to start the backup scheduler");
	}
	pthread_attr_destroy(&attr);
	return cluster_init(srv, e);	/* DocumentDB's clusters (cluster.c) */
fail:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return -1;
}
