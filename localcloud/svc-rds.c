/*
 * svc-rds.c: Amazon RDS for PostgreSQL (Query protocol) on real PostgreSQL
 * servers (engine-postgres.h).
 *
 * The control plane (instances, snapshots, their states) lives in
 * caliberd's store; the data in the servers' directories.  As on RDS, the
 * API answers at once and the work runs behind it: an instance is
 * 'creating' while initdb, the first start and its first automated backup
 * run in a worker thread, then 'available'; a snapshot is 'creating' while
 * pg_basebackup runs.  What a worker must redo after a crash is in the
 * instance row (status, job), so rds_init() resumes it: servers that were
 * available are started or, when they outlived caliberd, adopted.
 *
 * Automated backups are base backups kept as snapshots of type
 * 'automated' (rds:<id>-YYYY-MM-DD-HH-MM): one when the instance becomes
 * available, then every CALIBER_RDS_BACKUP_INTERVAL seconds (default one
 * day), pruned after BackupRetentionPeriod days.  Point in time restore
 * starts from the newest automated backup finished before the target time
 * and replays the source's WAL archive.
 *
 * Passwords: the internal 'rdsadmin' password and a master password
 * waiting for its instance are sealed in the store (crypt.h) and never
 * logged; ManageMasterUserPassword keeps the master password in a Secrets
 * Manager secret 'rds!db-<uuid>' ({"username","password"}), as RDS does.
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
#include "caliberd.h"
#include "crypt.h"
#include "engine-postgres.h"
#include "reply.h"
#include "router.h"
#include "services.h"
#include "store.h"

#define RDS_DAY 86400.0
#define RDS_HOSTED_ZONE "Z2R2ITUGPM61AM"

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

/* The server the workers use (caliberd has one). */
static struct lc_server *rds_srv;

/*
 * Workers (job threads, the backup scheduler) reach the store only through
 * rds_wbegin()/rds_wcommit()/rds_wrollback(), under a read lock that
 * rds_shutdown() takes for writing before caliberd closes the store: after
 * it, a worker still busy in the engine finds the store gone and leaves its
 * job in the row, to be redone at the next start.
 */
static pthread_rwlock_t rds_life = PTHREAD_RWLOCK_INITIALIZER;
static int rds_stopping;

/*
 * Instances with a backup under way (automated or manual).  An instance is
 * marked before the transaction that makes it 'backing-up' commits and
 * unmarked when its worker is done, so a delete accepted meanwhile waits for
 * the backup instead of destroying the server under pg_basebackup.
 */
static pthread_mutex_t rds_busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rds_busy_cond = PTHREAD_COND_INITIALIZER;
static char **rds_busy;
static size_t rds_n_busy;

static void rds_busy_mark(const char *id)
{
	pthread_mutex_lock(&rds_busy_lock);
	rds_busy = xrealloc(rds_busy, (rds_n_busy + 1) * sizeof(*rds_busy));
	rds_busy[rds_n_busy++] = xstrdup(id);
	pthread_mutex_unlock(&rds_busy_lock);
}

static void rds_busy_unmark(const char *id)
{
	size_t i;

	pthread_mutex_lock(&rds_busy_lock);
	for (i = 0; i < rds_n_busy; i++) {
		if (!strcmp(rds_busy[i], id)) {
			free(rds_busy[i]);
			rds_busy[i] = rds_busy[--rds_n_busy];
			break;
		}
	}
	pthread_cond_broadcast(&rds_busy_cond);
	pthread_mutex_unlock(&rds_busy_lock);
}

/* Wait until no backup of the instance is under way. */
static void rds_busy_wait(const char *id)
{
	size_t i;

	pthread_mutex_lock(&rds_busy_lock);
	for (;;) {
		for (i = 0; i < rds_n_busy; i++)
			if (!strcmp(rds_busy[i], id))
				break;
		if (i == rds_n_busy)
			break;
		pthread_cond_wait(&rds_busy_cond, &rds_busy_lock);
	}
	pthread_mutex_unlock(&rds_busy_lock);
}

static int rds_wbegin(struct err *e)
{
	pthread_rwlock_rdlock(&rds_life);
	if (rds_stopping) {
		pthread_rwlock_unlock(&rds_life);
		return err_set(e, "caliberd is stopping");
	}
	if (store_begin(rds_srv->store, e) < 0) {
		pthread_rwlock_unlock(&rds_life);
		return -1;
	}
	return 0;
}

static int rds_wcommit(struct err *e)
{
	int ret = store_commit(rds_srv->store, e);

	pthread_rwlock_unlock(&rds_life);
	return ret;
}

static void rds_wrollback(void)
{
	store_rollback(rds_srv->store);
	pthread_rwlock_unlock(&rds_life);
}

void rds_shutdown(void)
{
	pthread_rwlock_wrlock(&rds_life);
	rds_stopping = 1;
	pthread_rwlock_unlock(&rds_life);
	pge_stop_all();
}

/* ---------------------------------------------------------------- store */

struct rds_instance {
	char *id;
	char *region;
	char *status;
	char *job;
	char *instance_class;
	char *master_user;
	char *db_name;
	int port;
	int allocated_storage;
	int retention;
	double created;
	char *secret_arn;
	char *subnet_group;
	char *vpc_sgs;
	char *resource_id;
	char *restore_snapshot;
	char *restore_source;
	double restore_time;
	char *final_snapshot;
};

struct rds_snapshot {
	char *id;
	char *instance_id;
	char *region;
	char *type;
	char *status;
	double created;
	double completed;	/* NAN while creating */
	double instance_created;
	char *master_user;
	char *db_name;
	int port;
	int allocated_storage;
	char *resource_id;
};

static void rds_instance_release(struct rds_instance *i)
{
	free(i->id);
	free(i->region);
	free(i->status);
	free(i->job);
	free(i->instance_class);
	free(i->master_user);
	free(i->db_name);
	free(i->secret_arn);
	free(i->subnet_group);
	free(i->vpc_sgs);
	free(i->resource_id);
	free(i->restore_snapshot);
	free(i->restore_source);
	free(i->final_snapshot);
	memset(i, 0, sizeof(*i));
}

static void rds_snapshot_release(struct rds_snapshot *s)
{
	free(s->id);
	free(s->instance_id);
	free(s->region);
	free(s->type);
	free(s->status);
	free(s->master_user);
	free(s->db_name);
	free(s->resource_id);
	memset(s, 0, sizeof(*s));
}

#define RDS_INSTANCE_COLS                                                                        \
	"id, region, status, job, instance_class, master_user, db_name, port, "                  \
	"allocated_storage, retention, created, secret_arn, subnet_group, vpc_sgs, resource_id, " \
	"restore_snapshot, restore_source, restore_time, final_snapshot"

static void rds_instance_read(sqlite3_stmt *st, struct rds_instance *i)
{
	i->id = store_col_text(st, 0);
	i->region = store_col_text(st, 1);
	i->status = store_col_text(st, 2);
	i->job = store_col_text(st, 3);
	i->instance_class = store_col_text(st, 4);
	i->master_user = store_col_text(st, 5);
	i->db_name = store_col_text(st, 6);
	i->port = sqlite3_column_int(st, 7);
	i->allocated_storage = sqlite3_column_int(st, 8);
	i->retention = sqlite3_column_int(st, 9);
	i->created = store_col_real(st, 10);
	i->secret_arn = store_col_text(st, 11);
	i->subnet_group = store_col_text(st, 12);
	i->vpc_sgs = store_col_text(st, 13);
	i->resource_id = store_col_text(st, 14);
	i->restore_snapshot = store_col_text(st, 15);
	i->restore_source = store_col_text(st, 16);
	i->restore_time = store_col_real(st, 17);
	i->final_snapshot = store_col_text(st, 18);
}

#define RDS_SNAPSHOT_COLS                                                                       \
	"id, instance_id, region, type, status, created, completed, instance_created, "         \
	"master_user, db_name, port, allocated_storage, resource_id"

static void rds_snapshot_read(sqlite3_stmt *st, struct rds_snapshot *s)
{
	s->id = store_col_text(st, 0);
	s->instance_id = store_col_text(st, 1);
	s->region = store_col_text(st, 2);
	s->type = store_col_text(st, 3);
	s->status = store_col_text(st, 4);
	s->created = store_col_real(st, 5);
	s->completed = store_col_real(st, 6);
	s->instance_created = store_col_real(st, 7);
	s->master_user = store_col_text(st, 8);
	s->db_name = store_col_text(st, 9);
	s->port = sqlite3_column_int(st, 10);
	s->allocated_storage = sqlite3_column_int(st, 11);
	s->resource_id = store_col_text(st, 12);
}

/* Inside a transaction: the instance id, 1 found, 0 not, -1 error. */
static int rds_instance_get(sqlite3 *db, const char *id, struct rds_instance *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT " RDS_INSTANCE_COLS " FROM rds_instance WHERE id = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rds_instance_read(st, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

static int rds_snapshot_get(sqlite3 *db, const char *id, struct rds_snapshot *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT " RDS_SNAPSHOT_COLS " FROM rds_snapshot WHERE id = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rds_snapshot_read(st, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Run one statement with text parameters (NULL binds NULL); -1 on error. */
static int rds_exec(sqlite3 *db, const char *sql, int n, const char *const *params)
{
	sqlite3_stmt *st = NULL;
	int i, rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (params[i] == NULL)
			sqlite3_bind_null(st, i + 1);
		else
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Set an instance's status (and job) in its own transaction. */
static int rds_set_status(const char *id, const char *status, const char *job)
{
	struct err e = ERR_INIT;
	const char *p[] = { status, job, id };

	if (rds_wbegin(&e) < 0) {
		lc_log("rds: %s", e.msg);
		return -1;
	}
	if (rds_exec(store_db(rds_srv->store),
		    "UPDATE rds_instance SET status = ?, job = ? WHERE id = ?", 3, p) < 0) {
		lc_log("rds: unable to update '%s': %s", id,
			sqlite3_errmsg(store_db(rds_srv->store)));
		rds_wrollback();
		return -1;
	}
	return rds_wcommit(&e);
}

/*
 * A backup is over: the instance is available again, unless something else
 * (a delete accepted meanwhile) has taken it since.
 */
static void rds_backup_done(const char *id)
{
	struct err e = ERR_INIT;
	const char *p[] = { id };

	if (rds_wbegin(&e) < 0) {
		lc_log("rds: %s", e.msg);
		rds_busy_unmark(id);
		return;
	}
	if (rds_exec(store_db(rds_srv->store),
		    "UPDATE rds_instance SET status = 'available', job = NULL WHERE id = ? AND"
		    " status = 'backing-up'",
		    1, p) < 0) {
		lc_log("rds: unable to update '%s': %s", id, sqlite3_errmsg(store_db(rds_srv->store)));
		rds_wrollback();
	} else if (rds_wcommit(&e) < 0)
		lc_log("rds: %s", e.msg);
	rds_busy_unmark(id);
}

/* 1 updated, 0 no such snapshot (any more), -1 error. */
static int rds_snapshot_set_status(const char *id, const char *status, double completed)
{
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc;

	if (rds_wbegin(&e) < 0)
		return -1;
	db = store_db(rds_srv->store);
	if (sqlite3_prepare_v2(db, "UPDATE rds_snapshot SET status = ?, completed = ? WHERE id = ?",
		    -1, &st, NULL) != SQLITE_OK) {
		rds_wrollback();
		return -1;
	}
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	if (isnan(completed))
		sqlite3_bind_null(st, 2);
	else
		sqlite3_bind_double(st, 2, completed);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rds_wrollback();
		return -1;
	}
	rc = sqlite3_changes(db);
	if (rds_wcommit(&e) < 0)
		return -1;
	return rc > 0;	/* 0: the row is gone (dropped while the backup ran) */
}

/* A sealed column opened into out (wipe with buf_release_secret). */
static int rds_open_column(sqlite3 *db, const char *sql, const char *id, const char *aad,
	struct buf *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return err_set(e, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
		err_set(e, "no sealed value for '%s'", id);
		goto out;
	}
	ret = crypt_open(rds_srv->master_key, sqlite3_column_blob(st, 0),
		(size_t)sqlite3_column_bytes(st, 0), aad, out, e);
out:
	sqlite3_finalize(st);
	return ret;
}

static char *rds_aad(const char *kind, const char *id)
{
	return xasprintf("rds-%s:%s", kind, id);
}

/* The instance's rdsadmin password (own transaction). */
static int rds_admin_password(const char *id, struct buf *out, struct err *e)
{
	char *aad = rds_aad("admin", id);
	int ret;

	if (rds_wbegin(e) < 0) {
		free(aad);
		return -1;
	}
	ret = rds_open_column(store_db(rds_srv->store),
		"SELECT admin_pw FROM rds_instance WHERE id = ?", id, aad, out, e);
	rds_wrollback();
	free(aad);
	return ret;
}

/* ---------------------------------------------------------------- workers */

static void rds_random_password(char *out, size_t len)
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
static void rds_uuid(char out[40])
{
	lc_request_id_new(out);
}

/*
 * Insert a snapshot row of instance `in` (status creating), sealing the
 * instance's admin password for it.  Inside the caller's transaction.
 */
static int rds_snapshot_insert(sqlite3 *db, const struct rds_instance *in, const char *snap,
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
	if (rds_wbegin(&e) < 0)
		return -1;
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
	if (rds_wcommit(&e) < 0)
		goto out;
	ret = rds_snapshot_take(id, in.port, snap);
out:
	rds_instance_release(&in);
	return ret;
}

/* Remove snapshot rows and directories; ids from a query with one text parameter. */
static void rds_snapshots_drop(const char *sql, const char *param)
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

		rds_exec(db, "DELETE FROM rds_snapshot WHERE id = ?", 1, p);
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

/* Managed master password: the secret in Secrets Manager, through its typed handler. */
static int rds_secret_call(const char *operation, const char *region, json_t *in, char **arn,
	struct err *e)
{
	struct codec_error ce = CODEC_ERROR_INIT;
	struct lc_request req;
	json_t *out = NULL;
	int r, ret = -1;

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
	if (req.service == NULL) {
		err_set(e, "secrets manager is not available");
		goto out;
	}
	if (!strcmp(operation, "CreateSecret"))
		r = sm_create_secret(&req, in, &out, &ce);
	else
		r = sm_delete_secret(&req, in, &out, &ce);
	if (r < 0) {
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
		if (rds_exec(store_db(rds_srv->store),
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

		rds_exec(store_db(rds_srv->store), "DELETE FROM rds_instance WHERE id = ?", 1, p);
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
		if (rds_exec(store_db(rds_srv->store),
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
static void rds_job_spawn(const char *id)
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

static void rds_snap_spawn(const char *instance_id, int port, const char *snap)
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
			if (rds_exec(store_db(rds_srv->store),
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

		rds_exec(store_db(srv->store),
			"UPDATE rds_instance SET job = 'start' WHERE id = ? AND (job IS NULL OR"
			" job IN ('reboot', 'snapshot'))",
			1, p);
		/* no backup outlives caliberd: a status that says so is stale */
		rds_exec(store_db(srv->store),
			"UPDATE rds_instance SET status = 'starting' WHERE id = ? AND"
			" status = 'backing-up'",
			1, p);
		/* a server that did not outlive caliberd is not available until started */
		if (!pge_running(ids[i]))
			rds_exec(store_db(srv->store),
				"UPDATE rds_instance SET status = 'starting' WHERE id = ? AND"
				" job = 'start'",
				1, p);
	}
	/* snapshots cut short by the crash are gone with it */
	rds_exec(store_db(srv->store),
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
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return -1;
}

/* ---------------------------------------------------------------- input */

static int rds_bad(struct lc_request *req, struct lc_response *res, const char *code,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int rds_bad(struct lc_request *req, struct lc_response *res, const char *code,
	const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int status = 400;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(code, "DBInstanceNotFound") || !strcmp(code, "DBSnapshotNotFound"))
		status = 404;
	return lc_reply_error(req, res, status, code, "%s", msg);
}

static int rds_internal(struct lc_request *req, struct lc_response *res, const char *what)
{
	lc_log("rds: %s", what);
	return lc_reply_error(req, res, 500, "InternalFailure", "an internal error occurred");
}

/* Operations that start a server fail at once, and say why, without PostgreSQL. */
static int rds_need_engine(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;

	if (pge_available(&e) == 0)
		return 0;
	lc_log("rds: %s", e.msg);
	return lc_reply_error(req, res, 500, "InternalFailure", "%s", e.msg);
}

/*
 * RDS identifiers: 1..max letters, digits and hyphens, first a letter, no
 * trailing hyphen nor two in a row; stored lower case.
 */
static int rds_ident_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (s[i] == '-' && s[i + 1] == '-')
			return 0;
	}
	return 1;
}

static char *rds_lower(const char *s)
{
	char *c = xstrdup(s);
	char *p;

	for (p = c; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return c;
}

/* A required identifier parameter, lower-cased into *out (caller frees). */
static int in_ident(struct lc_request *req, struct lc_response *res, const char *name, size_t max,
	int required, char **out)
{
	const char *v = lc_request_form(req, name);

	*out = NULL;
	if (v == NULL || !*v) {
		if (!required)
			return 0;
		return rds_bad(req, res, "MissingParameter",
			"The request must contain the parameter %s", name);
	}
	if (!rds_ident_valid(v, max))
		return rds_bad(req, res, "InvalidParameterValue",
			"The parameter %s is not a valid identifier. Identifiers must begin with a"
			" letter; must contain only ASCII letters, digits, and hyphens; and must not"
			" end with a hyphen or contain two consecutive hyphens.",
			name);
	*out = rds_lower(v);
	return 0;
}

static int in_bool(struct lc_request *req, struct lc_response *res, const char *name, int *out)
{
	const char *v = lc_request_form(req, name);

	if (v == NULL)
		return 0;
	if (!strcasecmp(v, "true"))
		*out = 1;
	else if (!strcasecmp(v, "false"))
		*out = 0;
	else
		return rds_bad(req, res, "InvalidParameterValue",
			"Invalid value '%s' for %s: expected true or false", v, name);
	return 0;
}

static int in_int(struct lc_request *req, struct lc_response *res, const char *name, long lo,
	long hi, int *present, long *out)
{
	const char *v = lc_request_form(req, name);
	char *end;
	long n;

	if (present)
		*present = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return rds_bad(req, res, "InvalidParameterValue",
			"Invalid value '%s' for %s: expected an integer from %ld to %ld", v, name, lo,
			hi);
	*out = n;
	if (present)
		*present = 1;
	return 0;
}

/* ISO 8601 UTC ("2026-11-26T05:00:00Z", with optional fraction) to seconds. */
static int rds_parse_time(const char *s, double *out)
{
	struct tm tm;
	int y, mo, d, h, mi, used = 0;
	double sec;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
		return -1;
	rest = s + used;
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00") && strcmp(rest, "") &&
		strcmp(rest, "+0000"))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	*out = (double)timegm(&tm) + sec;
	return 0;
}

/* VpcSecurityGroupIds.VpcSecurityGroupId.N as a JSON array text (caller frees). */
static char *in_security_groups(struct lc_request *req)
{
	json_t *a = json_array();
	char name[96], *text;
	int i;

	for (i = 1; i < 100; i++) {
		const char *v;

		snprintf(name, sizeof(name), "VpcSecurityGroupIds.VpcSecurityGroupId.%d", i);
		v = lc_request_form(req, name);
		if (v == NULL) {
			snprintf(name, sizeof(name), "VpcSecurityGroupIds.member.%d", i);
			v = lc_request_form(req, name);
		}
		if (v == NULL)
			break;
		json_array_append_new(a, json_string(v));
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text ? text : xstrdup("[]");
}

/* ---------------------------------------------------------------- output */

static void x_text(struct buf *b, const char *tag, const char *value)
{
	if (value == NULL)
		return;
	buf_appendf(b, "<%s>", tag);
	lc_xml_escape(b, value);
	buf_appendf(b, "</%s>", tag);
}

static void x_int(struct buf *b, const char *tag, long v)
{
	buf_appendf(b, "<%s>%ld</%s>", tag, v, tag);
}

static void x_bool(struct buf *b, const char *tag, int v)
{
	buf_appendf(b, "<%s>%s</%s>", tag, v ? "true" : "false", tag);
}

static void x_time(struct buf *b, const char *tag, double t)
{
	char when[32];

	if (isnan(t) || t <= 0)
		return;
	lc_time_iso8601(t, when);
	buf_appendf(b, "<%s>%s</%s>", tag, when, tag);
}

/* Latest restorable time: the newest of the last archived WAL and the last backup. */
static double rds_latest_restorable(sqlite3 *db, const struct rds_instance *in)
{
	sqlite3_stmt *st = NULL;
	double t = pge_last_archived(in->id), b = 0;

	if (sqlite3_prepare_v2(db,
		    "SELECT max(completed) FROM rds_snapshot WHERE instance_id = ? AND"
		    " type = 'automated' AND status = 'available'",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			b = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	if (b <= 0)
		return 0;	/* nothing to restore from yet */
	return t > b ? t : b;
}

static void rds_instance_xml(sqlite3 *db, const struct rds_instance *in, struct buf *b)
{
	json_t *sgs = json_loads(in->vpc_sgs ? in->vpc_sgs : "[]", 0, NULL);
	size_t k;
	json_t *v;
	char arn[512];

	buf_appends(b, "<DBInstance>");
	x_text(b, "DBInstanceIdentifier", in->id);
	x_text(b, "DBInstanceClass", in->instance_class);
	x_text(b, "Engine", "postgres");
	x_text(b, "DBInstanceStatus", in->status);
	x_text(b, "MasterUsername", in->master_user);
	x_text(b, "DBName", in->db_name);
	if (strcmp(in->status, "creating") != 0) {
		buf_appends(b, "<Endpoint>");
		x_text(b, "Address", "127.0.0.1");
		x_int(b, "Port", in->port);
		x_text(b, "HostedZoneId", RDS_HOSTED_ZONE);
		buf_appends(b, "</Endpoint>");
		x_time(b, "InstanceCreateTime", in->created);
	}
	x_int(b, "AllocatedStorage", in->allocated_storage);
	x_text(b, "PreferredBackupWindow", "03:00-03:30");
	x_int(b, "BackupRetentionPeriod", in->retention);
	buf_appends(b, "<DBSecurityGroups/><VpcSecurityGroups>");
	json_array_foreach(sgs, k, v)
	{
		buf_appends(b, "<VpcSecurityGroupMembership>");
		x_text(b, "VpcSecurityGroupId", json_string_value(v));
		x_text(b, "Status", "active");
		buf_appends(b, "</VpcSecurityGroupMembership>");
	}
	buf_appends(b, "</VpcSecurityGroups>");
	buf_appends(b, "<DBParameterGroups><DBParameterGroup><DBParameterGroupName>default.postgres15"
		       "</DBParameterGroupName><ParameterApplyStatus>in-sync</ParameterApplyStatus>"
		       "</DBParameterGroup></DBParameterGroups>");
	x_text(b, "AvailabilityZone", "local-1a");
	if (in->subnet_group != NULL) {
		buf_appends(b, "<DBSubnetGroup>");
		x_text(b, "DBSubnetGroupName", in->subnet_group);
		x_text(b, "SubnetGroupStatus", "Complete");
		buf_appends(b, "</DBSubnetGroup>");
	}
	x_text(b, "PreferredMaintenanceWindow", "sun:05:00-sun:05:30");
	buf_appends(b, "<PendingModifiedValues/>");
	if (in->retention > 0 && strcmp(in->status, "creating") != 0)
		x_time(b, "LatestRestorableTime", rds_latest_restorable(db, in));
	x_bool(b, "MultiAZ", 0);
	x_text(b, "EngineVersion", PGE_ENGINE_VERSION);
	x_bool(b, "AutoMinorVersionUpgrade", 1);
	x_text(b, "LicenseModel", "postgresql-license");
	x_bool(b, "PubliclyAccessible", 0);
	x_text(b, "StorageType", "gp2");
	x_int(b, "DbInstancePort", 0);
	x_bool(b, "StorageEncrypted", 0);
	x_text(b, "DbiResourceId", in->resource_id);
	x_text(b, "CACertificateIdentifier", "rds-ca-rsa2048-g1");
	x_bool(b, "CopyTagsToSnapshot", 0);
	x_int(b, "MonitoringInterval", 0);
	snprintf(arn, sizeof(arn), "arn:aws:rds:%s:%s:db:%s", in->region, LOCALCLOUD_ACCOUNT_ID,
		in->id);
	x_text(b, "DBInstanceArn", arn);
	x_bool(b, "IAMDatabaseAuthenticationEnabled", 0);
	x_bool(b, "PerformanceInsightsEnabled", 0);
	x_bool(b, "DeletionProtection", 0);
	buf_appends(b, "<TagList/>");
	if (in->secret_arn != NULL) {
		buf_appends(b, "<MasterUserSecret>");
		x_text(b, "SecretArn", in->secret_arn);
		x_text(b, "SecretStatus", "active");
		x_text(b, "KmsKeyId", "alias/aws/secretsmanager");
		buf_appends(b, "</MasterUserSecret>");
	}
	buf_appends(b, "</DBInstance>");
	json_decref(sgs);
}

static void rds_snapshot_xml(const struct rds_snapshot *s, struct buf *b)
{
	char arn[512];

	buf_appends(b, "<DBSnapshot>");
	x_text(b, "DBSnapshotIdentifier", s->id);
	x_text(b, "DBInstanceIdentifier", s->instance_id);
	x_time(b, "SnapshotCreateTime", s->created);
	x_text(b, "Engine", "postgres");
	x_int(b, "AllocatedStorage", s->allocated_storage);
	x_text(b, "Status", s->status);
	x_int(b, "Port", s->port);
	x_text(b, "AvailabilityZone", "local-1a");
	x_time(b, "InstanceCreateTime", s->instance_created);
	x_text(b, "MasterUsername", s->master_user);
	x_text(b, "EngineVersion", PGE_ENGINE_VERSION);
	x_text(b, "LicenseModel", "postgresql-license");
	x_text(b, "SnapshotType", s->type);
	x_int(b, "PercentProgress", strcmp(s->status, "available") ? 0 : 100);
	x_text(b, "StorageType", "gp2");
	x_bool(b, "Encrypted", 0);
	snprintf(arn, sizeof(arn), "arn:aws:rds:%s:%s:snapshot:%s", s->region,
		LOCALCLOUD_ACCOUNT_ID, s->id);
	x_text(b, "DBSnapshotArn", arn);
	x_bool(b, "IAMDatabaseAuthenticationEnabled", 0);
	x_text(b, "DbiResourceId", s->resource_id);
	buf_appends(b, "<TagList/>");
	x_time(b, "OriginalSnapshotCreateTime", s->created);
	x_text(b, "SnapshotTarget", "region");
	buf_appends(b, "</DBSnapshot>");
}

/* Reply with one <DBInstance> read back from the store (inside a transaction). */
static int rds_reply_instance(struct lc_request *req, struct lc_response *res, sqlite3 *db,
	const char *id)
{
	struct rds_instance in = { 0 };
	struct buf b = BUF_INIT;
	int ret;

	if (rds_instance_get(db, id, &in) != 1)
		return rds_internal(req, res, "instance vanished");
	rds_instance_xml(db, &in, &b);
	ret = lc_reply_query(req, res, buf_str(&b));
	buf_release(&b);
	rds_instance_release(&in);
	return ret;
}

/* ---------------------------------------------------------------- handlers */

/* Ports of every instance, to keep a new one off them. */
static int *rds_ports(sqlite3 *db, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int *ports = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT port FROM rds_instance", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ports = xrealloc(ports, (*n + 1) * sizeof(*ports));
		ports[(*n)++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return ports;
}

/*
 * Insert a new instance row (status creating, job create/restore).
 * admin/master: plain passwords to seal (master may be NULL).
 */
struct rds_new {
	const char *id;
	const char *region;
	const char *job;
	const char *instance_class;
	const char *master_user;
	const char *db_name;
	long allocated_storage;
	long retention;
	const char *admin_pw;
	const char *master_pw;
	const char *secret_arn;
	const char *subnet_group;
	const char *vpc_sgs;
	const char *restore_snapshot;
	const char *restore_source;
	double restore_time;
};

static int rds_instance_insert(sqlite3 *db, const struct rds_new *n, struct err *e)
{
	struct buf admin = BUF_INIT, master = BUF_INIT;
	char *aad_a = rds_aad("admin", n->id), *aad_m = rds_aad("master", n->id);
	char resource[64], uuid[40];
	sqlite3_stmt *st = NULL;
	int *ports = NULL, port = 0, ret = -1;
	size_t n_ports = 0, i, j;

	rds_uuid(uuid);
	for (i = 0, j = 0; uuid[i] && j < 26; i++)
		if (uuid[i] != '-')
			resource[3 + j++] = (char)toupper((unsigned char)uuid[i]);
	memcpy(resource, "db-", 3);
	resource[3 + j] = '\0';
	ports = rds_ports(db, &n_ports);
	if (pge_free_port(ports, n_ports, &port, e) < 0)
		goto out;
	if (crypt_seal(rds_srv->master_key, n->admin_pw, strlen(n->admin_pw), aad_a, &admin, e) <
		0)
		goto out;
	if (n->master_pw != NULL && crypt_seal(rds_srv->master_key, n->master_pw,
					    strlen(n->master_pw), aad_m, &master, e) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
		    "INSERT INTO rds_instance (id, region, status, job, instance_class, master_user,"
		    " db_name, port, allocated_storage, retention, created, admin_pw, master_pw,"
		    " secret_arn, subnet_group, vpc_sgs, resource_id, restore_snapshot,"
		    " restore_source, restore_time) VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?,"
		    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    -1, &st, NULL) != SQLITE_OK) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->instance_class, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->master_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->db_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, port);
	sqlite3_bind_int(st, 8, (int)n->allocated_storage);
	sqlite3_bind_int(st, 9, (int)n->retention);
	sqlite3_bind_double(st, 10, lc_now());
	sqlite3_bind_blob(st, 11, admin.data, (int)admin.len, SQLITE_STATIC);
	if (n->master_pw != NULL)
		sqlite3_bind_blob(st, 12, master.data, (int)master.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, n->secret_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, n->subnet_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, n->vpc_sgs ? n->vpc_sgs : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, n->restore_snapshot, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, n->restore_source, -1, SQLITE_STATIC);
	if (n->restore_source != NULL)
		sqlite3_bind_double(st, 19, n->restore_time);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "%s", sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	free(ports);
	buf_release(&admin);
	buf_release(&master);
	free(aad_a);
	free(aad_m);
	return ret;
}

/*
 * Words a master user name may not be: PostgreSQL's reserved key words
 * (a role cannot be created by these names unquoted), the role names it
 * keeps for itself ("public", "none"), and RDS's own.  Such a name once
 * left the instance "failed" after CreateDBInstance had said yes.
 */
static const char *const rds_reserved_users[] = {
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
	"column", "concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time", "current_timestamp",
	"current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
	"except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
	"having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
	"join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
	"natural", "none", "not", "notnull", "null", "offset", "on", "only", "or", "order",
	"outer", "overlaps", "placing", "primary", "public", "rdsadmin", "rds_superuser",
	"rdsrepladmin", "references", "returning", "right", "select", "session_user",
	"similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
	"trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when",
	"where", "window", "with",
};

/* Is u a word the engine keeps (see above), or one of caliber's own roles? */
static int rds_master_user_reserved(const char *u)
{
	for (size_t i = 0; i < ARRAY_SIZE(rds_reserved_users); i++)
		if (strcasecmp(u, rds_reserved_users[i]) == 0)
			return 1;
	return strcasecmp(u, PGE_ADMIN_USER) == 0 || strncasecmp(u, "pg_", 3) == 0 ||
		strncasecmp(u, "rds_", 4) == 0;
}

/* PostgreSQL's rules for the master user name's form. */
static int rds_master_user_valid(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > 63 || !isalpha((unsigned char)u[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '_')
			return 0;
	return 1;
}

/* MasterUserPassword: 8 to 128 printable ASCII characters other than / " @ and space. */
static int rds_password_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n < 8 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == '/' || p[i] == '"' || p[i] == '@')
			return 0;
	return 1;
}

int rds_create_db_instance(struct lc_request *req, struct lc_response *res)
{
	struct rds_new n;
	struct rds_instance old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *sgs = NULL, *secret_arn = NULL;
	char admin_pw[33], managed_pw[33];
	const char *engine = lc_request_form(req, "Engine");
	const char *user = lc_request_form(req, "MasterUsername");
	const char *pw = lc_request_form(req, "MasterUserPassword");
	const char *db_name = lc_request_form(req, "DBName");
	long retention = 1, storage = 20;
	int manage = 0, ret = -1, found;
	sqlite3 *db;

	if (rds_need_engine(req, res) < 0)
		return -1;

	memset(&n, 0, sizeof(n));
	admin_pw[0] = managed_pw[0] = '\0';
	if (in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0 ||
		in_int(req, res, "BackupRetentionPeriod", 0, 35, NULL, &retention) < 0 ||
		in_int(req, res, "AllocatedStorage", 20, 65536, NULL, &storage) < 0 ||
		in_bool(req, res, "ManageMasterUserPassword", &manage) < 0)
		goto out;
	if (engine == NULL) {
		rds_bad(req, res, "MissingParameter", "The request must contain the parameter Engine");
		goto out;
	}
	if (strcmp(engine, "postgres") != 0) {
		rds_bad(req, res, "InvalidParameterValue",
			"Invalid DB engine: %s (this endpoint provides postgres)", engine);
		goto out;
	}
	if (user == NULL) {
		rds_bad(req, res, "InvalidParameterValue",
			"The parameter MasterUsername must be provided and must not be blank.");
		goto out;
	}
	if (rds_master_user_reserved(user)) {
		rds_bad(req, res, "InvalidParameterValue",
			"MasterUsername %s cannot be used as it is a reserved word used by the engine",
			user);
		goto out;
	}
	if (!rds_master_user_valid(user)) {
		rds_bad(req, res, "InvalidParameterValue",
			"MasterUsername %s is not a valid name: 1 to 63 letters, digits or "
			"underscores, first a letter", user);
		goto out;
	}
	if (manage && pw != NULL) {
		rds_bad(req, res, "InvalidParameterCombination",
			"You can't specify MasterUserPassword and ManageMasterUserPassword at the same"
			" time.");
		goto out;
	}
	if (!manage && pw == NULL) {
		rds_bad(req, res, "InvalidParameterValue",
			"The parameter MasterUserPassword must be provided and must not be blank.");
		goto out;
	}
	if (pw != NULL && !rds_password_valid(pw)) {
		rds_bad(req, res, "InvalidParameterValue",
			"The parameter MasterUserPassword is not a valid password. Only printable ASCII"
			" characters besides '/', '@', '\"', ' ' may be used, 8 to 128 of them.");
		goto out;
	}
	if (db_name != NULL && !rds_master_user_valid(db_name)) {
		rds_bad(req, res, "InvalidParameterValue",
			"DBName must begin with a letter and contain only alphanumeric characters.");
		goto out;
	}
	sgs = in_security_groups(req);
	rds_random_password(admin_pw, sizeof(admin_pw));
	if (manage) {
		char uuid[40], *name;
		json_t *in, *value;
		char *text;

		int attempt, rc = -1;

		rds_random_password(managed_pw, sizeof(managed_pw));
		rds_uuid(uuid);
		value = json_pack("{s:s, s:s}", "username", user, "password", managed_pw);
		text = json_dumps(value, JSON_COMPACT);
		json_decref(value);
		/*
		 * RDS names it rds!db-<uuid>; a Secrets Manager that refuses '!'
		 * in names (as AWS does for its users) gets rds-db-<uuid>.
		 */
		for (attempt = 0; attempt < 2 && rc < 0; attempt++) {
			name = xasprintf("rds%sdb-%s", attempt == 0 ? "!" : "-", uuid);
			in = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "Name", name,
				"SecretString", text, "Description",
				"Secret associated with primary RDS DB instance", "Tags", "Key",
				"aws:rds:primaryDBInstanceArn", "Value", id);
			rc = rds_secret_call("CreateSecret", req->region, in, &secret_arn, &e);
			json_decref(in);
			free(name);
		}
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		if (rc < 0) {
			rds_internal(req, res, e.msg);
			goto out;
		}
		pw = managed_pw;
	}
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_instance_get(db, id, &old);
	if (found != 0) {
		store_rollback(req->srv->store);
		if (found < 0)
			rds_internal(req, res, sqlite3_errmsg(db));
		else
			rds_bad(req, res, "DBInstanceAlreadyExists", "DB instance already exists");
		goto out;
	}
	n.id = id;
	n.region = req->region;
	n.job = "create";
	n.instance_class = lc_request_form(req, "DBInstanceClass");
	if (n.instance_class == NULL)
		n.instance_class = "db.t3.micro";
	n.master_user = user;
	n.db_name = db_name;
	n.allocated_storage = storage;
	n.retention = retention;
	n.admin_pw = admin_pw;
	n.master_pw = pw;
	n.secret_arn = secret_arn;
	n.subnet_group = lc_request_form(req, "DBSubnetGroupName");
	n.vpc_sgs = sgs;
	if (rds_instance_insert(db, &n, &e) < 0) {
		store_rollback(req->srv->store);
		rds_internal(req, res, e.msg);
		goto out;
	}
	if (rds_reply_instance(req, res, db, id) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	if (store_commit(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	rds_job_spawn(id);
	ret = 0;
out:
	if (ret < 0 && secret_arn != NULL) {
		json_t *d = json_pack("{s:s, s:b}", "SecretId", secret_arn,
			"ForceDeleteWithoutRecovery", 1);

		rds_secret_call("DeleteSecret", req->region, d, NULL, &e);
		json_decref(d);
	}
	OPENSSL_cleanse(admin_pw, sizeof(admin_pw));
	OPENSSL_cleanse(managed_pw, sizeof(managed_pw));
	rds_instance_release(&old);
	free(id);
	free(sgs);
	free(secret_arn);
	return ret;
}

int rds_describe_db_instances(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *id = NULL;
	sqlite3 *db;
	int ret = -1, count = 0;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 0, &id) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " RDS_INSTANCE_COLS " FROM rds_instance WHERE ?1 IS NULL OR id = ?1"
		    " ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(req, res, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	buf_appends(&b, "<DBInstances>");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rds_instance in = { 0 };

		rds_instance_read(st, &in);
		rds_instance_xml(db, &in, &b);
		rds_instance_release(&in);
		count++;
	}
	buf_appends(&b, "</DBInstances>");
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (id != NULL && count == 0) {
		rds_bad(req, res, "DBInstanceNotFound", "DBInstance %s not found.", id);
		goto out;
	}
	ret = lc_reply_query(req, res, buf_str(&b));
out:
	buf_release(&b);
	free(id);
	return ret;
}

/*
 * Begin an operation on an existing instance: take the store, find it,
 * check it is available.  On success the transaction stays open (the
 * caller commits or rolls back) and *in is filled.
 */
static int rds_begin_on(struct lc_request *req, struct lc_response *res, const char *id,
	int need_available, struct rds_instance *in)
{
	struct err e = ERR_INIT;
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return rds_internal(req, res, e.msg);
	found = rds_instance_get(store_db(req->srv->store), id, in);
	if (found != 1) {
		store_rollback(req->srv->store);
		if (found < 0)
			return rds_internal(req, res, sqlite3_errmsg(store_db(req->srv->store)));
		return rds_bad(req, res, "DBInstanceNotFound", "DBInstance %s not found.", id);
	}
	if (need_available && strcmp(in->status, "available") != 0) {
		store_rollback(req->srv->store);
		return rds_bad(req, res, "InvalidDBInstanceState",
			"Instance %s is not in available state (it is %s).", id, in->status);
	}
	return 0;
}

/*
 * A handler's write in its transaction: on failure the transaction is
 * rolled back and the call answers 500 (never a success for what was not
 * stored).  0 or -1.
 */
static int rds_write(struct lc_request *req, struct lc_response *res, const char *sql, int n,
	const char *const *params)
{
	sqlite3 *db = store_db(req->srv->store);

	if (rds_exec(db, sql, n, params) == 0)
		return 0;
	lc_log("rds: write failed: %s: %s", sqlite3_errmsg(db), sql);
	store_rollback(req->srv->store);
	rds_internal(req, res, "a write to the store failed");
	return -1;
}

static int rds_commit_reply(struct lc_request *req, struct lc_response *res, const char *id,
	int spawn)
{
	struct err e = ERR_INIT;

	if (rds_reply_instance(req, res, store_db(req->srv->store), id) < 0) {
		store_rollback(req->srv->store);
		return -1;
	}
	if (store_commit(req->srv->store, &e) < 0)
		return rds_internal(req, res, e.msg);
	if (spawn)
		rds_job_spawn(id);
	return 0;
}

int rds_modify_db_instance(struct lc_request *req, struct lc_response *res)
{
	struct rds_instance in = { 0 };
	struct buf admin = BUF_INIT;
	struct err e = ERR_INIT;
	char *id = NULL, *aad = NULL;
	const char *pw = lc_request_form(req, "MasterUserPassword");
	long retention = 0;
	int has_retention = 0, ret = -1;
	sqlite3 *db;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0 ||
		in_int(req, res, "BackupRetentionPeriod", 0, 35, &has_retention, &retention) < 0)
		goto out;
	if (pw != NULL && !rds_password_valid(pw)) {
		rds_bad(req, res, "InvalidParameterValue",
			"The parameter MasterUserPassword is not a valid password. Only printable ASCII"
			" characters besides '/', '@', '\"', ' ' may be used, 8 to 128 of them.");
		goto out;
	}
	if (rds_begin_on(req, res, id, pw != NULL, &in) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (pw != NULL) {
		/* applied at once, as RDS applies a master password change */
		aad = rds_aad("admin", id);
		if (rds_open_column(db, "SELECT admin_pw FROM rds_instance WHERE id = ?", id, aad,
			    &admin, &e) < 0 ||
			pge_set_password(id, in.port, admin.data, in.master_user, pw, &e) < 0) {
			store_rollback(req->srv->store);
			rds_internal(req, res, e.msg);
			goto out;
		}
	}
	if (has_retention) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "UPDATE rds_instance SET retention = ? WHERE id = ?", -1,
			    &st, NULL) != SQLITE_OK) {
			store_rollback(req->srv->store);
			rds_internal(req, res, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_bind_int(st, 1, (int)retention);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			lc_log("rds: write failed: %s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			store_rollback(req->srv->store);
			rds_internal(req, res, "a write to the store failed");
			goto out;
		}
		sqlite3_finalize(st);
	}
	ret = rds_commit_reply(req, res, id, 0);
	if (ret == 0 && has_retention && retention == 0)
		rds_snapshots_drop("SELECT id FROM rds_snapshot WHERE instance_id = ? AND"
				   " type = 'automated'",
			id);
out:
	buf_release_secret(&admin);
	rds_instance_release(&in);
	free(aad);
	free(id);
	return ret;
}

int rds_reboot_db_instance(struct lc_request *req, struct lc_response *res)
{
	struct rds_instance in = { 0 };
	char *id = NULL;
	int ret = -1;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0 ||
		rds_begin_on(req, res, id, 1, &in) < 0)
		goto out;
	{
		const char *p[] = { id };

		if (rds_write(req, res,
			    "UPDATE rds_instance SET status = 'rebooting', job = 'reboot' WHERE id = ?",
			    1, p) < 0)
			goto out;
	}
	ret = rds_commit_reply(req, res, id, 1);
out:
	rds_instance_release(&in);
	free(id);
	return ret;
}

int rds_delete_db_instance(struct lc_request *req, struct lc_response *res)
{
	struct rds_instance in = { 0 };
	struct rds_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *final = NULL;
	int skip = 0, ret = -1;
	sqlite3 *db;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0 ||
		in_bool(req, res, "SkipFinalSnapshot", &skip) < 0 ||
		in_ident(req, res, "FinalDBSnapshotIdentifier", 255, 0, &final) < 0)
		goto out;
	if (!skip && final == NULL) {
		rds_bad(req, res, "InvalidParameterCombination",
			"FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
		goto out;
	}
	if (skip && final != NULL) {
		rds_bad(req, res, "InvalidParameterCombination",
			"Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.");
		goto out;
	}
	if (rds_begin_on(req, res, id, 0, &in) < 0)
		goto out;
	db = store_db(req->srv->store);
	/* as on RDS, a backup under way does not keep an instance from being deleted */
	if (strcmp(in.status, "available") && strcmp(in.status, "failed") &&
		strcmp(in.status, "incompatible-restore") && strcmp(in.status, "backing-up")) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "InvalidDBInstanceState",
			"Instance %s is already being deleted or is not in a state to be deleted (it"
			" is %s).",
			id, in.status);
		goto out;
	}
	if (final != NULL) {
		if (rds_snapshot_get(db, final, &old) != 0) {
			store_rollback(req->srv->store);
			rds_bad(req, res, "DBSnapshotAlreadyExists",
				"Cannot create the snapshot because a snapshot with the identifier %s"
				" already exists.",
				final);
			goto out;
		}
		if (rds_snapshot_insert(db, &in, final, "manual", lc_now(), &e) < 0) {
			store_rollback(req->srv->store);
			rds_internal(req, res, e.msg);
			goto out;
		}
	}
	{
		const char *p[] = { final, id };

		if (rds_write(req, res,
			    "UPDATE rds_instance SET status = 'deleting', job = 'delete',"
			    " final_snapshot = ? WHERE id = ?",
			    2, p) < 0)
			goto out;
	}
	ret = rds_commit_reply(req, res, id, 1);
out:
	rds_instance_release(&in);
	rds_snapshot_release(&old);
	free(id);
	free(final);
	return ret;
}

static int rds_reply_snapshot(struct lc_request *req, struct lc_response *res, sqlite3 *db,
	const char *snap)
{
	struct rds_snapshot s = { 0 };
	struct buf b = BUF_INIT;
	int ret;

	if (rds_snapshot_get(db, snap, &s) != 1)
		return rds_internal(req, res, "snapshot vanished");
	rds_snapshot_xml(&s, &b);
	ret = lc_reply_query(req, res, buf_str(&b));
	buf_release(&b);
	rds_snapshot_release(&s);
	return ret;
}

int rds_create_db_snapshot(struct lc_request *req, struct lc_response *res)
{
	struct rds_instance in = { 0 };
	struct rds_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL;
	int ret = -1;
	sqlite3 *db;

	if (in_ident(req, res, "DBSnapshotIdentifier", 255, 1, &snap) < 0 ||
		in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0 ||
		rds_begin_on(req, res, id, 1, &in) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (rds_snapshot_get(db, snap, &old) != 0) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "DBSnapshotAlreadyExists",
			"Cannot create the snapshot because a snapshot with the identifier %s already"
			" exists.",
			snap);
		goto out;
	}
	if (rds_snapshot_insert(db, &in, snap, "manual", lc_now(), &e) < 0) {
		store_rollback(req->srv->store);
		rds_internal(req, res, e.msg);
		goto out;
	}
	{
		const char *p[] = { id };

		if (rds_write(req, res,
			    "UPDATE rds_instance SET status = 'backing-up', job = 'snapshot' WHERE id = ?",
			    1, p) < 0)
			goto out;
	}
	if (rds_reply_snapshot(req, res, db, snap) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	rds_busy_mark(id);
	if (store_commit(req->srv->store, &e) < 0) {
		rds_busy_unmark(id);
		rds_internal(req, res, e.msg);
		goto out;
	}
	rds_snap_spawn(id, in.port, snap);
	ret = 0;
out:
	rds_instance_release(&in);
	rds_snapshot_release(&old);
	free(id);
	free(snap);
	return ret;
}

int rds_describe_db_snapshots(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *id = NULL, *snap = NULL;
	const char *type = lc_request_form(req, "SnapshotType");
	sqlite3 *db;
	int ret = -1, count = 0;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 0, &id) < 0)
		goto out;
	/* automated snapshot names hold a colon: no identifier check, only lower case */
	if (lc_request_form(req, "DBSnapshotIdentifier") != NULL)
		snap = rds_lower(lc_request_form(req, "DBSnapshotIdentifier"));
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	if (sqlite3_prepare_v2(db,
		    "SELECT " RDS_SNAPSHOT_COLS " FROM rds_snapshot WHERE (?1 IS NULL OR"
		    " instance_id = ?1) AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR type = ?3)"
		    " ORDER BY created",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(req, res, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, snap, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	buf_appends(&b, "<DBSnapshots>");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rds_snapshot s = { 0 };

		rds_snapshot_read(st, &s);
		rds_snapshot_xml(&s, &b);
		rds_snapshot_release(&s);
		count++;
	}
	buf_appends(&b, "</DBSnapshots>");
	sqlite3_finalize(st);
	store_rollback(req->srv->store);
	if (snap != NULL && count == 0) {
		rds_bad(req, res, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	ret = lc_reply_query(req, res, buf_str(&b));
out:
	buf_release(&b);
	free(id);
	free(snap);
	return ret;
}

int rds_delete_db_snapshot(struct lc_request *req, struct lc_response *res)
{
	struct rds_snapshot s = { 0 };
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	char *snap = NULL;
	int found, ret = -1;
	sqlite3 *db;

	if (in_ident(req, res, "DBSnapshotIdentifier", 255, 1, &snap) < 0)
		goto out;
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_snapshot_get(db, snap, &s);
	if (found != 1) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	if (!strcmp(s.status, "creating") || !strcmp(s.type, "automated")) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "InvalidDBSnapshotState",
			!strcmp(s.type, "automated")
				? "Cannot delete the automated snapshot %s: it goes with its instance."
				: "Cannot delete the snapshot %s while it is being created.",
			snap);
		goto out;
	}
	{
		const char *p[] = { snap };

		if (rds_write(req, res, "DELETE FROM rds_snapshot WHERE id = ?", 1, p) < 0)
			goto out;
	}
	free(s.status);
	s.status = xstrdup("deleted");
	rds_snapshot_xml(&s, &b);
	if (store_commit(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	if (pge_snapshot_delete(snap, &e) < 0)
		lc_log("rds: %s", e.msg);
	ret = lc_reply_query(req, res, buf_str(&b));
out:
	buf_release(&b);
	rds_snapshot_release(&s);
	free(snap);
	return ret;
}

/* The new instance of a restore: common checks and the insert (in the open transaction). */
static int rds_restore_insert(struct lc_request *req, struct lc_response *res, sqlite3 *db,
	const char *new_id, const struct rds_snapshot *s, const char *src, double when)
{
	struct rds_instance old = { 0 };
	struct buf admin = BUF_INIT;
	struct err e = ERR_INIT;
	struct rds_new n;
	char *aad = rds_aad("snapshot", s->id), *sgs = NULL;
	long retention = 1, storage = s->allocated_storage;
	int found, ret = -1;

	memset(&n, 0, sizeof(n));
	if (in_int(req, res, "BackupRetentionPeriod", 0, 35, NULL, &retention) < 0)
		goto out;
	found = rds_instance_get(db, new_id, &old);
	if (found != 0) {
		if (found < 0)
			rds_internal(req, res, sqlite3_errmsg(db));
		else
			rds_bad(req, res, "DBInstanceAlreadyExists", "DB instance already exists");
		goto out;
	}
	if (rds_open_column(db, "SELECT admin_pw FROM rds_snapshot WHERE id = ?", s->id, aad,
		    &admin, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	sgs = in_security_groups(req);
	n.id = new_id;
	n.region = req->region;
	n.job = "restore";
	n.instance_class = lc_request_form(req, "DBInstanceClass");
	if (n.instance_class == NULL)
		n.instance_class = "db.t3.micro";
	n.master_user = s->master_user;
	n.db_name = s->db_name;
	n.allocated_storage = storage;
	n.retention = retention;
	n.admin_pw = admin.data;
	n.subnet_group = lc_request_form(req, "DBSubnetGroupName");
	n.vpc_sgs = sgs;
	n.restore_snapshot = s->id;
	n.restore_source = src;
	n.restore_time = when;
	if (rds_instance_insert(db, &n, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	ret = 0;
out:
	rds_instance_release(&old);
	buf_release_secret(&admin);
	free(aad);
	free(sgs);
	return ret;
}

int rds_restore_db_instance_from_db_snapshot(struct lc_request *req, struct lc_response *res)
{
	struct rds_snapshot s = { 0 };
	struct err e = ERR_INIT;
	char *id = NULL, *snap = NULL;
	int found, ret = -1;
	sqlite3 *db;

	if (rds_need_engine(req, res) < 0)
		return -1;

	if (in_ident(req, res, "DBInstanceIdentifier", 63, 1, &id) < 0)
		goto out;
	if (lc_request_form(req, "DBSnapshotIdentifier") == NULL) {
		rds_bad(req, res, "MissingParameter",
			"The request must contain the parameter DBSnapshotIdentifier");
		goto out;
	}
	snap = rds_lower(lc_request_form(req, "DBSnapshotIdentifier"));
	if (store_begin(req->srv->store, &e) < 0) {
		rds_internal(req, res, e.msg);
		goto out;
	}
	db = store_db(req->srv->store);
	found = rds_snapshot_get(db, snap, &s);
	if (found != 1) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "DBSnapshotNotFound", "DBSnapshot %s not found.", snap);
		goto out;
	}
	if (strcmp(s.status, "available") != 0) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "InvalidDBSnapshotState",
			"Snapshot %s is not in available state (it is %s).", snap, s.status);
		goto out;
	}
	if (rds_restore_insert(req, res, db, id, &s, NULL, NAN) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	ret = rds_commit_reply(req, res, id, 1);
out:
	rds_snapshot_release(&s);
	free(id);
	free(snap);
	return ret;
}

int rds_restore_db_instance_to_point_in_time(struct lc_request *req, struct lc_response *res)
{
	struct rds_instance src = { 0 };
	struct rds_snapshot s = { 0 };
	sqlite3_stmt *st = NULL;
	char *src_id = NULL, *new_id = NULL, *base = NULL;
	const char *when_text = lc_request_form(req, "RestoreTime");
	int latest = 0, ret = -1;
	double when = -1, restorable;
	sqlite3 *db;

	if (rds_need_engine(req, res) < 0)
		return -1;

	if (in_ident(req, res, "SourceDBInstanceIdentifier", 63, 1, &src_id) < 0 ||
		in_ident(req, res, "TargetDBInstanceIdentifier", 63, 1, &new_id) < 0 ||
		in_bool(req, res, "UseLatestRestorableTime", &latest) < 0)
		goto out;
	if (latest == (when_text != NULL)) {
		rds_bad(req, res, "InvalidParameterCombination",
			"Exactly one of RestoreTime and UseLatestRestorableTime must be given.");
		goto out;
	}
	if (when_text != NULL && rds_parse_time(when_text, &when) < 0) {
		rds_bad(req, res, "InvalidParameterValue",
			"Invalid value '%s' for RestoreTime: expected an ISO 8601 UTC time", when_text);
		goto out;
	}
	if (rds_begin_on(req, res, src_id, 0, &src) < 0)
		goto out;
	db = store_db(req->srv->store);
	if (src.retention == 0) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "PointInTimeRestoreNotEnabled",
			"Automated backups are not enabled for %s (BackupRetentionPeriod is 0).",
			src_id);
		goto out;
	}
	restorable = pge_running(src_id) ? lc_now() : rds_latest_restorable(db, &src);
	if (!latest && when > restorable) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "InvalidRestoreFault",
			"The restore time %s is after the latest restorable time of %s.", when_text,
			src_id);
		goto out;
	}
	/* the newest automated backup that had finished by the target time */
	if (sqlite3_prepare_v2(db,
		    "SELECT id FROM rds_snapshot WHERE instance_id = ? AND type = 'automated' AND"
		    " status = 'available' AND (? < 0 OR completed <= ?) ORDER BY completed DESC"
		    " LIMIT 1",
		    -1, &st, NULL) != SQLITE_OK) {
		store_rollback(req->srv->store);
		rds_internal(req, res, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, src_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, latest ? -1 : when);
	sqlite3_bind_double(st, 3, latest ? -1 : when);
	if (sqlite3_step(st) == SQLITE_ROW)
		base = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (base == NULL || rds_snapshot_get(db, base, &s) != 1) {
		store_rollback(req->srv->store);
		rds_bad(req, res, "InvalidRestoreFault",
			"The restore time %s is before the earliest restorable time of %s.",
			when_text ? when_text : "latest", src_id);
		goto out;
	}
	if (rds_restore_insert(req, res, db, new_id, &s, src_id, latest ? -1 : when) < 0) {
		store_rollback(req->srv->store);
		goto out;
	}
	ret = rds_commit_reply(req, res, new_id, 1);
out:
	rds_instance_release(&src);
	rds_snapshot_release(&s);
	free(src_id);
	free(new_id);
	free(base);
	return ret;
}
