/*
 * rds/cluster.c: DocumentDB clusters' state and work: their rows and sealed
 * secrets, the workers that create, restore, start and delete them on the
 * engine (core/engine-postgres.h), their caliber-docdb processes (one
 * watcher thread each: it starts the process, keeps its log, and starts it
 * again if it dies), snapshots, the backup scheduler and cluster_init.
 * What a DocumentDB cluster is: cluster.h.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/ca.h"
#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/engine-postgres.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"
#include "core/supervisor.h"
#include "cluster.h"
#include "internal.h"

static const char cluster_schema[] =
	"CREATE TABLE IF NOT EXISTS docdb_cluster ("
	" id TEXT PRIMARY KEY,"
	" region TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" job TEXT,"			/* create, restore, start, restart, delete */
	" master_user TEXT NOT NULL,"
	" port INTEGER NOT NULL,"	/* caliber-docdb's */
	" pg_port INTEGER NOT NULL,"
	" retention INTEGER NOT NULL,"
	" created REAL NOT NULL,"
	" secrets BLOB NOT NULL,"	/* sealed {"admin","owner","master"} */
	" secret_arn TEXT,"
	" subnet_group TEXT,"
	" vpc_sgs TEXT NOT NULL DEFAULT '[]',"
	" param_group TEXT NOT NULL,"
	" storage_encrypted INTEGER NOT NULL DEFAULT 0,"
	" kms_key TEXT,"
	" deletion_protection INTEGER NOT NULL DEFAULT 0,"
	" resource_id TEXT NOT NULL,"
	" tags TEXT NOT NULL DEFAULT '[]',"
	" restore_snapshot TEXT,"
	" restore_source TEXT,"
	" restore_time REAL,"		/* NULL: latest */
	" final_snapshot TEXT);"
	"CREATE TABLE IF NOT EXISTS docdb_instance ("
	" id TEXT PRIMARY KEY,"
	" cluster_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" instance_class TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" resource_id TEXT NOT NULL,"
	" promotion_tier INTEGER NOT NULL DEFAULT 1,"
	" availability_zone TEXT,"
	" tags TEXT NOT NULL DEFAULT '[]');"
	"CREATE TABLE IF NOT EXISTS docdb_snapshot ("
	" id TEXT PRIMARY KEY,"
	" cluster_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" type TEXT NOT NULL,"		/* manual, automated */
	" status TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" completed REAL,"
	" cluster_created REAL NOT NULL,"
	" master_user TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" storage_encrypted INTEGER NOT NULL DEFAULT 0,"
	" kms_key TEXT,"
	" resource_id TEXT NOT NULL,"
	" vpc_sgs TEXT NOT NULL DEFAULT '[]',"
	" secrets BLOB NOT NULL,"
	" tags TEXT NOT NULL DEFAULT '[]');";

/* ---------------------------------------------------------------- rows */

void cluster_release(struct cluster *c)
{
	free(c->id);
	free(c->region);
	free(c->status);
	free(c->job);
	free(c->master_user);
	free(c->secret_arn);
	free(c->subnet_group);
	free(c->vpc_sgs);
	free(c->param_group);
	free(c->kms_key);
	free(c->resource_id);
	free(c->tags);
	free(c->restore_snapshot);
	free(c->restore_source);
	free(c->final_snapshot);
	memset(c, 0, sizeof(*c));
}

void cluster_snapshot_release(struct cluster_snapshot *s)
{
	free(s->id);
	free(s->cluster_id);
	free(s->region);
	free(s->type);
	free(s->status);
	free(s->master_user);
	free(s->kms_key);
	free(s->resource_id);
	free(s->vpc_sgs);
	memset(s, 0, sizeof(*s));
}

void cluster_read(sqlite3_stmt *st, struct cluster *c)
{
	c->id = store_col_text(st, 0);
	c->region = store_col_text(st, 1);
	c->status = store_col_text(st, 2);
	c->job = store_col_text(st, 3);
	c->master_user = store_col_text(st, 4);
	c->port = sqlite3_column_int(st, 5);
	c->pg_port = sqlite3_column_int(st, 6);
	c->retention = sqlite3_column_int(st, 7);
	c->created = store_col_real(st, 8);
	c->secret_arn = store_col_text(st, 9);
	c->subnet_group = store_col_text(st, 10);
	c->vpc_sgs = store_col_text(st, 11);
	c->param_group = store_col_text(st, 12);
	c->storage_encrypted = sqlite3_column_int(st, 13);
	c->kms_key = store_col_text(st, 14);
	c->deletion_protection = sqlite3_column_int(st, 15);
	c->resource_id = store_col_text(st, 16);
	c->tags = store_col_text(st, 17);
	c->restore_snapshot = store_col_text(st, 18);
	c->restore_source = store_col_text(st, 19);
	c->restore_time = store_col_real(st, 20);
	c->final_snapshot = store_col_text(st, 21);
}

void cluster_snapshot_read(sqlite3_stmt *st, struct cluster_snapshot *s)
{
	s->id = store_col_text(st, 0);
	s->cluster_id = store_col_text(st, 1);
	s->region = store_col_text(st, 2);
	s->type = store_col_text(st, 3);
	s->status = store_col_text(st, 4);
	s->created = store_col_real(st, 5);
	s->completed = store_col_real(st, 6);
	s->cluster_created = store_col_real(st, 7);
	s->master_user = store_col_text(st, 8);
	s->port = sqlite3_column_int(st, 9);
	s->storage_encrypted = sqlite3_column_int(st, 10);
	s->kms_key = store_col_text(st, 11);
	s->resource_id = store_col_text(st, 12);
	s->vpc_sgs = store_col_text(st, 13);
}

int cluster_get(sqlite3 *db, const char *id, struct cluster *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT " CLUSTER_COLS " FROM docdb_cluster WHERE id = ?", -1,
		    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cluster_read(st, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int cluster_snapshot_get(sqlite3 *db, const char *id, struct cluster_snapshot *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db,
		    "SELECT " CLUSTER_SNAPSHOT_COLS " FROM docdb_snapshot WHERE id = ?", -1, &st,
		    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cluster_snapshot_read(st, out);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

char *cluster_engine_id(const char *id)
{
	return xasprintf("docdb.%s", id);
}

/* Set a cluster's status (and job) in its own transaction. */
static int cluster_set_status(const char *id, const char *status, const char *job)
{
	struct err e = ERR_INIT;
	const char *p[] = { status, job, id };

	if (rds_wbegin(&e) < 0) {
		lc_log("docdb: %s", e.msg);
		return -1;
	}
	if (store_run_texts(store_db(rds_srv->store),
		    "UPDATE docdb_cluster SET status = ?, job = ? WHERE id = ?", 3, p) < 0) {
		rds_wrollback();
		return -1;
	}
	return rds_wcommit(&e);
}

/* 1 updated, 0 the row is gone, -1 error. */
static int cluster_snapshot_set_status(const char *id, const char *status, double completed)
{
	struct err e = ERR_INIT;
	sqlite3 *db;
	int n;

	if (rds_wbegin(&e) < 0)
		return -1;
	db = store_db(rds_srv->store);
	if ((isnan(completed) ?
		    store_run(db, "UPDATE docdb_snapshot SET status = ? WHERE id = ?", "ss", status,
			    id) :
		    store_run(db, "UPDATE docdb_snapshot SET status = ?, completed = ? WHERE id = ?",
			    "sds", status, completed, id)) < 0) {
		rds_wrollback();
		return -1;
	}
	n = sqlite3_changes(db);
	if (rds_wcommit(&e) < 0)
		return -1;
	return n > 0;
}

/* ---------------------------------------------------------------- secrets */

void cluster_secrets_init(struct cluster_secrets *s)
{
	buf_init(&s->admin);
	buf_init(&s->owner);
	buf_init(&s->master);
}

void cluster_secrets_release(struct cluster_secrets *s)
{
	buf_release_secret(&s->admin);
	buf_release_secret(&s->owner);
	buf_release_secret(&s->master);
}

static char *cluster_secrets_aad(const char *kind, const char *id)
{
	return xasprintf("docdb-%s:%s", kind, id);
}

int cluster_secrets_seal(const struct cluster_secrets *s, const char *kind, const char *id,
	struct buf *out, struct err *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "admin", buf_str((struct buf *)&s->admin),
		"owner", buf_str((struct buf *)&s->owner), "master",
		buf_str((struct buf *)&s->master));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char *aad = cluster_secrets_aad(kind, id);
	int ret = -1;

	if (text == NULL) {
		err_set(e, "unable to encode the cluster's secrets");
		goto out;
	}
	ret = crypt_seal(rds_srv->master_key, text, strlen(text), aad, out, e);
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	/* jansson keeps its own copies of the strings: wipe them before they are freed */
	if (o != NULL) {
		const char *k;
		json_t *v;

		json_object_foreach(o, k, v)
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(o);
	free(aad);
	return ret;
}

int cluster_secrets_open(sqlite3 *db, const char *kind, const char *id,
	struct cluster_secrets *out, struct err *e)
{
	char *aad = cluster_secrets_aad(kind, id);
	const char *sql = !strcmp(kind, "cluster") ?
		"SELECT secrets FROM docdb_cluster WHERE id = ?" :
		"SELECT secrets FROM docdb_snapshot WHERE id = ?";
	struct buf plain = BUF_INIT;
	json_t *o = NULL, *v;
	const char *k;
	int ret = -1;

	if (rds_open_column(db, sql, id, aad, &plain, e) < 0)
		goto out;
	o = json_loadb(plain.data, plain.len, 0, NULL);
	if (!json_is_object(o)) {
		err_set(e, "the secrets of '%s' do not read", id);
		goto out;
	}
	buf_appends(&out->admin, json_string_value(json_object_get(o, "admin")) ?: "");
	buf_appends(&out->owner, json_string_value(json_object_get(o, "owner")) ?: "");
	buf_appends(&out->master, json_string_value(json_object_get(o, "master")) ?: "");
	ret = 0;
out:
	if (o != NULL)
		json_object_foreach(o, k, v)
			if (json_is_string(v))
				OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	json_decref(o);
	buf_release_secret(&plain);
	free(aad);
	return ret;
}

/* Open a cluster's secrets in a worker's own transaction. */
static int cluster_secrets_load(const char *kind, const char *id, struct cluster_secrets *out,
	struct err *e)
{
	int ret;

	if (rds_wbegin(e) < 0)
		return -1;
	ret = cluster_secrets_open(store_db(rds_srv->store), kind, id, out, e);
	rds_wrollback();
	return ret;
}

/* ---------------------------------------------------------------- times, ports */

int *cluster_ports_in_use(sqlite3 *db, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int *ports = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(db,
		    "SELECT port FROM rds_instance UNION ALL SELECT port FROM docdb_cluster"
		    " UNION ALL SELECT pg_port FROM docdb_cluster",
		    -1, &st, NULL) != SQLITE_OK)
		return NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ports = xrealloc(ports, (*n + 1) * sizeof(*ports));
		ports[(*n)++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return ports;
}

static double cluster_backup_time(sqlite3 *db, const char *id, const char *agg)
{
	char *sql = xasprintf("SELECT %s(completed) FROM docdb_snapshot WHERE cluster_id = ? AND"
			      " type = 'automated' AND status = 'available'",
		agg);
	sqlite3_stmt *st = NULL;
	double t = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			t = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	free(sql);
	return t;
}

double cluster_latest_restorable(sqlite3 *db, const struct cluster *c)
{
	char *eid = cluster_engine_id(c->id);
	double b = cluster_backup_time(db, c->id, "max"), t = pge_last_archived(eid);

	free(eid);
	if (b <= 0)
		return 0;	/* nothing to restore from yet */
	return t > b ? t : b;
}

double cluster_earliest_restorable(sqlite3 *db, const struct cluster *c)
{
	return cluster_backup_time(db, c->id, "min");
}

/* ---------------------------------------------------------------- snapshots */

int cluster_snapshot_insert(sqlite3 *db, const struct cluster *c, const char *snap,
	const char *type, double now, struct err *e)
{
	struct cluster_secrets s;
	struct buf sealed = BUF_INIT;
	int ret = -1;

	cluster_secrets_init(&s);
	if (cluster_secrets_open(db, "cluster", c->id, &s, e) < 0 ||
		cluster_secrets_seal(&s, "snapshot", snap, &sealed, e) < 0)
		goto out;
	if (store_run(db,
		    "INSERT INTO docdb_snapshot (id, cluster_id, region, type, status, created,"
		    " cluster_created, master_user, port, storage_encrypted, kms_key, resource_id,"
		    " vpc_sgs, secrets) VALUES (?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?, zeroblob(0))",
		    "ssssddsiisss", snap, c->id, c->region, type, now, c->created, c->master_user,
		    (long long)c->port, (long long)c->storage_encrypted, c->kms_key, c->resource_id,
		    c->vpc_sgs ? c->vpc_sgs : "[]") < 0) {
		err_set(e, "unable to record snapshot '%s'", snap);
		goto out;
	}
	{
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "UPDATE docdb_snapshot SET secrets = ? WHERE id = ?", -1,
			    &st, NULL) != SQLITE_OK) {
			err_set(e, "%s", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_bind_blob(st, 1, sealed.data, (int)sealed.len, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, snap, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err_set(e, "%s", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			goto out;
		}
		sqlite3_finalize(st);
	}
	ret = 0;
out:
	cluster_secrets_release(&s);
	buf_release(&sealed);
	return ret;
}

/* Base backup into an existing 'creating' snapshot row; marks it available or failed. */
static int cluster_snapshot_take(const struct cluster *c, const char *snap)
{
	struct cluster_secrets s;
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(c->id), *dir = cluster_engine_id(snap);
	int ret = -1;

	cluster_secrets_init(&s);
	if (cluster_secrets_load("cluster", c->id, &s, &e) < 0 ||
		pge_snapshot(eid, c->pg_port, buf_str(&s.admin), dir, &e) < 0) {
		lc_log("docdb: snapshot '%s' of '%s' failed: %s", snap, c->id, e.msg);
		cluster_snapshot_set_status(snap, "failed", NAN);
		goto out;
	}
	if (cluster_snapshot_set_status(snap, "available", lc_now()) == 0 &&
		pge_snapshot_delete(dir, &e) < 0)	/* dropped meanwhile */
		lc_log("docdb: %s", e.msg);
	ret = 0;
out:
	cluster_secrets_release(&s);
	free(eid);
	free(dir);
	return ret;
}

/* An automated backup of c now: rds:<id>-YYYY-MM-DD-HH-MM, as DocumentDB names them. */
static int cluster_automated_backup(const struct cluster *c)
{
	struct cluster_snapshot old = { 0 };
	struct err e = ERR_INIT;
	char snap[160], when[32];
	time_t now = time(NULL);
	struct tm tm;
	sqlite3 *db;
	int exists;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d-%H-%M", &tm);
	snprintf(snap, sizeof(snap), "rds:%s-%s", c->id, when);
	if (rds_wbegin(&e) < 0)
		return -1;
	db = store_db(rds_srv->store);
	exists = cluster_snapshot_get(db, snap, &old);
	cluster_snapshot_release(&old);
	if (exists != 0) {
		strftime(when, sizeof(when), "%Y-%m-%d-%H-%M-%S", &tm);
		snprintf(snap, sizeof(snap), "rds:%s-%s", c->id, when);
		exists = cluster_snapshot_get(db, snap, &old);
		cluster_snapshot_release(&old);
	}
	if (exists != 0) {
		rds_wrollback();
		return 0;
	}
	if (cluster_snapshot_insert(db, c, snap, "automated", lc_now(), &e) < 0) {
		lc_log("docdb: automated backup of '%s': %s", c->id, e.msg);
		rds_wrollback();
		return -1;
	}
	if (rds_wcommit(&e) < 0)
		return -1;
	return cluster_snapshot_take(c, snap);
}

/* Remove snapshot rows and their backups; ids from sql with one text parameter. */
static void cluster_snapshots_drop(const char *sql, const char *param)
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
	for (i = 0; i < n; i++)
		store_run(db, "DELETE FROM docdb_snapshot WHERE id = ?", "s", ids[i]);
	if (rds_wcommit(&e) < 0)
		lc_log("docdb: %s", e.msg);
	for (i = 0; i < n; i++) {
		char *dir = cluster_engine_id(ids[i]);

		if (pge_snapshot_delete(dir, &e) < 0)
			lc_log("docdb: %s", e.msg);
		free(dir);
		free(ids[i]);
	}
	free(ids);
}

/* ---------------------------------------------------------------- caliber-docdb */

/*
 * One watcher thread per cluster whose server should run.  The thread
 * spawns caliber-docdb itself and lives as long as it should run: the
 * child's death signal (PR_SET_PDEATHSIG) follows the thread that forked
 * it, so a short-lived worker must not be the one to spawn.  It copies the
 * child's output into <home>/docdb/<id>/docdb.log, is 'ready' once the
 * child said "listening on", and starts it again (reading the row and the
 * secrets afresh) when it dies on its own.
 */
struct cluster_proc {
	char *id;
	pid_t pid;
	int ready;		/* 1 listening, -1 gave up (exited before listening) */
	int stop;		/* asked to stop */
	int done;		/* the thread is over */
	char why[1100];		/* when ready is -1 */
	struct cluster_proc *next;
};

static pthread_mutex_t cluster_proc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cluster_proc_cond = PTHREAD_COND_INITIALIZER;
static struct cluster_proc *cluster_procs;

#define CLUSTER_READY_SECONDS 60
#define CLUSTER_STOP_SECONDS 10

/* caliber-docdb, built next to caliberd (NULL and e when missing). */
static char *cluster_docdb_binary(struct err *e)
{
	char exe[4096], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0) {
		err_set(e, "unable to find caliberd's own path: %s", strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	path = xasprintf("%s/caliber-docdb", exe);
	if (access(path, X_OK) < 0) {
		err_set(e, "caliber-docdb is not installed next to caliberd ('%s' not found)", path);
		free(path);
		return NULL;
	}
	return path;
}

int cluster_available(struct err *e)
{
	char *bin = cluster_docdb_binary(e);

	free(bin);
	return bin != NULL ? 0 : -1;
}

/* <home>/docdb/<id> (made 0700; caliber-docdb's log), caller frees. */
static char *cluster_state_dir(const char *id)
{
	char *top = localcloud_path(&rds_srv->cfg, "docdb");
	char *dir = xasprintf("%s/%s", top, id);

	mkdir(top, 0700);
	mkdir(dir, 0700);
	free(top);
	return dir;
}

/*
 * The server's certificate, issued by caliberd's local CA for the endpoint
 * name (CLUSTER_HOST) into <engine root>/docdb.<id>/tls/, which belongs
 * to the user the cluster's PostgreSQL runs as (*uid, *gid: that user,
 * found as the owner of the engine's directory).  caliber-docdb runs as
 * that user too, so it never holds the CA's key, and a flaw in the wire
 * server (it parses what the network sends) reaches one cluster's files,
 * not caliberd's.  Returns the tls directory (caller frees) or NULL and e.
 */
static char *cluster_tls_issue(const char *id, uid_t *uid, gid_t *gid, struct err *e)
{
	char *eid = cluster_engine_id(id), *top = xasprintf("%s/%s", pge_root(), eid);
	char *dir = xasprintf("%s/tls", top), *cert = xasprintf("%s/cert.pem", dir);
	char *key = xasprintf("%s/key.pem", dir), *ca_dir = localcloud_path(&rds_srv->cfg, "ca");
	const char *names[] = { CLUSTER_HOST };
	struct ca *ca = NULL;
	struct stat st;
	int ok = 0;

	if (stat(top, &st) < 0) {
		err_set(e, "unable to stat '%s': %s", top, strerror(errno));
		goto out;
	}
	*uid = st.st_uid;
	*gid = st.st_gid;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(e, "unable to create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (ca_open(ca_dir, &ca, e) < 0 || ca_issue(ca, names, 1, cert, key, e) < 0)
		goto out;
	if (geteuid() == 0 && (chown(dir, *uid, *gid) < 0 || chown(cert, *uid, *gid) < 0 ||
				      chown(key, *uid, *gid) < 0)) {
		err_set(e, "unable to hand '%s' to its server's user: %s", dir, strerror(errno));
		goto out;
	}
	ok = 1;
out:
	if (ca != NULL)
		ca_close(ca);
	free(eid);
	free(top);
	free(cert);
	free(key);
	free(ca_dir);
	if (!ok) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Free an env entry that held a secret. */
static void cluster_env_wipe(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/*
 * Spawn caliber-docdb for the row of p->id.  0 started (*pid, *fd);
 * 1 nothing to run (the cluster is gone or caliberd is stopping); -1 e.
 */
static int cluster_proc_spawn(struct cluster_proc *p, pid_t *pid, int *fd, struct err *e)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS",
		"TSAN_OPTIONS" };
	struct cluster c = { 0 };
	struct cluster_secrets s;
	char *bin = NULL, *dir = NULL, *cert = NULL, *key = NULL, *listen = NULL, *advertise = NULL;
	char *env[8] = { 0 };
	size_t n_env = 0, i;
	int found = 0, ret = -1;
	uid_t uid = 0;
	gid_t gid = 0;

	cluster_secrets_init(&s);
	if (rds_wbegin(e) < 0)
		return 1;
	found = cluster_get(store_db(rds_srv->store), p->id, &c);
	if (found == 1 &&
		cluster_secrets_open(store_db(rds_srv->store), "cluster", p->id, &s, e) < 0)
		found = -1;
	rds_wrollback();
	if (found != 1) {
		ret = found == 0 ? 1 : -1;
		goto out;
	}
	bin = cluster_docdb_binary(e);
	if (bin == NULL)
		goto out;
	dir = cluster_tls_issue(c.id, &uid, &gid, e);
	if (dir == NULL)
		goto out;
	cert = xasprintf("%s/cert.pem", dir);
	key = xasprintf("%s/key.pem", dir);
	listen = xasprintf("127.0.0.1:%d", c.port);
	advertise = xasprintf("%s:%d", CLUSTER_HOST, c.port);
	env[n_env++] = xstrdup("PATH=/usr/bin:/bin");
	env[n_env++] = xasprintf("CALIBER_DOCDB_PG=host=127.0.0.1 port=%d user=docdb dbname=docdb"
				 " password=%s connect_timeout=10",
		c.pg_port, buf_str(&s.owner));
	env[n_env++] = xasprintf("CALIBER_DOCDB_MASTER_PASSWORD=%s", buf_str(&s.master));
	for (i = 0; i < ARRAY_SIZE(pass); i++)
		if (getenv(pass[i]) != NULL)
			env[n_env++] = xasprintf("%s=%s", pass[i], getenv(pass[i]));
	env[n_env] = NULL;
	{
		char *argv[] = { bin, "--listen", listen, "--advertise", advertise, "--tls-cert", cert,
			"--tls-key", key, "--master-user", c.master_user, NULL };
		struct sup_spec spec = { .argv = argv, .envp = env, .cwd = dir, .path = "/usr/bin:/bin",
			.capture = 1, .drop = geteuid() == 0, .uid = uid, .gid = gid };

		ret = sup_spawn(&spec, pid, fd, e);
	}
out:
	for (i = 0; i < n_env; i++)
		cluster_env_wipe(env[i]);
	cluster_secrets_release(&s);
	cluster_release(&c);
	free(bin);
	free(dir);
	free(cert);
	free(key);
	free(listen);
	free(advertise);
	return ret;
}

static void cluster_proc_set(struct cluster_proc *p, int ready, const char *why)
{
	pthread_mutex_lock(&cluster_proc_lock);
	p->ready = ready;
	if (why != NULL)
		snprintf(p->why, sizeof(p->why), "%s", why);
	pthread_cond_broadcast(&cluster_proc_cond);
	pthread_mutex_unlock(&cluster_proc_lock);
}

/* The child's output: into its log, the last bytes kept, "listening on" looked for. */
struct cluster_output {
	int log_fd;
	char tail[4096];	/* the last bytes, for caliberd's log when it fails */
	size_t n_tail;
	char seen[8192];	/* from the start, until ready */
	size_t n_seen;
};

static void cluster_output_add(struct cluster_proc *p, struct cluster_output *o,
	const char *chunk, size_t n, int *was_ready)
{
	size_t k;

	if (o->log_fd >= 0 && write(o->log_fd, chunk, n) < 0)
		lc_log("docdb: unable to write the log of '%s'", p->id);
	if (n >= sizeof(o->tail)) {
		memcpy(o->tail, chunk + n - sizeof(o->tail), sizeof(o->tail));
		o->n_tail = sizeof(o->tail);
	} else {
		if (o->n_tail + n > sizeof(o->tail)) {
			k = o->n_tail + n - sizeof(o->tail);
			memmove(o->tail, o->tail + k, o->n_tail - k);
			o->n_tail -= k;
		}
		memcpy(o->tail + o->n_tail, chunk, n);
		o->n_tail += n;
	}
	if (*was_ready)
		return;
	k = n < sizeof(o->seen) - 1 - o->n_seen ? n : sizeof(o->seen) - 1 - o->n_seen;
	memcpy(o->seen + o->n_seen, chunk, k);
	o->n_seen += k;
	o->seen[o->n_seen] = '\0';
	if (strstr(o->seen, "listening on") != NULL) {
		*was_ready = 1;
		cluster_proc_set(p, 1, NULL);
	}
}

/*
 * Run one child until it exits; 1 it had been ready, 0 not, and its exit
 * code.  An exit other than 0 (SIGTERM's) puts the end of its output in
 * caliberd's log: caliber-docdb never writes a secret, and a sanitizer's
 * report must not be lost with the cluster's directory.
 */
static int cluster_proc_watch(struct cluster_proc *p, pid_t pid, int fd, int log_fd, int *code)
{
	struct cluster_output *o = xcalloc(1, sizeof(*o));
	char chunk[4096];
	double term_at = 0;
	int was_ready = 0, eof = 0;
	ssize_t n;

	o->log_fd = log_fd;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int stop;

		if (!eof && poll(&pfd, 1, 200) > 0) {
			n = read(fd, chunk, sizeof(chunk));
			if (n > 0)
				cluster_output_add(p, o, chunk, (size_t)n, &was_ready);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
		} else if (eof) {
			usleep(100000);
		}
		if (sup_reap(pid, code) != 0)
			break;
		pthread_mutex_lock(&cluster_proc_lock);
		stop = p->stop || rds_stopping;
		pthread_mutex_unlock(&cluster_proc_lock);
		if (stop && term_at == 0) {
			sup_signal(pid, SIGTERM);
			term_at = lc_now();
		} else if (stop && lc_now() - term_at > CLUSTER_STOP_SECONDS) {
			sup_signal(pid, SIGKILL);
		}
	}
	/* what it wrote before it exited */
	while (!eof && (n = read(fd, chunk, sizeof(chunk))) > 0)
		cluster_output_add(p, o, chunk, (size_t)n, &was_ready);
	if (*code != 0)
		lc_log("docdb: the server of '%s' exited with status %d; its last output:\n%.*s",
			p->id, *code, (int)o->n_tail, o->tail);
	free(o);
	return was_ready;
}

static void *cluster_proc_thread(void *arg)
{
	struct cluster_proc *p = arg;
	char *dir = cluster_state_dir(p->id), *log_path = xasprintf("%s/docdb.log", dir);
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int failures = 0;

	for (;;) {
		struct err e = ERR_INIT;
		pid_t pid = -1;
		int fd = -1, code = 0, rc, was_ready, stop;

		rc = cluster_proc_spawn(p, &pid, &fd, &e);
		if (rc != 0) {
			if (rc < 0)
				lc_log("docdb: unable to start the server of '%s': %s", p->id, e.msg);
			cluster_proc_set(p, -1, rc < 0 ? e.msg : "the cluster is gone");
			break;
		}
		pthread_mutex_lock(&cluster_proc_lock);
		p->pid = pid;
		pthread_mutex_unlock(&cluster_proc_lock);
		was_ready = cluster_proc_watch(p, pid, fd, log_fd, &code);
		close(fd);
		pthread_mutex_lock(&cluster_proc_lock);
		p->pid = -1;
		stop = p->stop || rds_stopping;
		pthread_mutex_unlock(&cluster_proc_lock);
		if (stop)
			break;
		if (!was_ready) {
			char why[1100];

			snprintf(why, sizeof(why), "caliber-docdb exited with status %d before"
				" listening (its log: %s)", code, log_path);
			lc_log("docdb: '%s': %s", p->id, why);
			cluster_proc_set(p, -1, why);
			break;
		}
		/* it died on its own: start it again, backing off if it keeps dying */
		lc_log("docdb: the server of '%s' exited with status %d; starting it again", p->id,
			code);
		cluster_proc_set(p, 0, NULL);
		failures++;
		sleep(failures < 5 ? 1 : 5);
	}
	if (log_fd >= 0)
		close(log_fd);
	free(log_path);
	free(dir);
	pthread_mutex_lock(&cluster_proc_lock);
	p->done = 1;
	pthread_cond_broadcast(&cluster_proc_cond);
	pthread_mutex_unlock(&cluster_proc_lock);
	return NULL;
}

/* Remove p from the list and free it (its thread is done).  Under the lock. */
static void cluster_proc_unlink(struct cluster_proc *p)
{
	struct cluster_proc **pp;

	for (pp = &cluster_procs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p->id);
	free(p);
}

/* Stop the cluster's caliber-docdb (if it runs) and wait for it. */
static void cluster_proc_stop(const char *id)
{
	struct cluster_proc *p;

	pthread_mutex_lock(&cluster_proc_lock);
	for (p = cluster_procs; p != NULL; p = p->next)
		if (!strcmp(p->id, id))
			break;
	if (p != NULL) {
		p->stop = 1;
		while (!p->done)
			pthread_cond_wait(&cluster_proc_cond, &cluster_proc_lock);
		cluster_proc_unlink(p);
	}
	pthread_mutex_unlock(&cluster_proc_lock);
}

/* Start the cluster's caliber-docdb and wait until it listens. */
static int cluster_proc_start(const char *id, struct err *e)
{
	struct cluster_proc *p;
	struct timespec deadline;
	pthread_attr_t attr;
	pthread_t t;
	int ret = -1;

	cluster_proc_stop(id);	/* a watcher left over (gave up) */
	p = xcalloc(1, sizeof(*p));
	p->id = xstrdup(id);
	p->pid = -1;
	pthread_mutex_lock(&cluster_proc_lock);
	p->next = cluster_procs;
	cluster_procs = p;
	pthread_mutex_unlock(&cluster_proc_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cluster_proc_thread, p) != 0) {
		pthread_attr_destroy(&attr);
		pthread_mutex_lock(&cluster_proc_lock);
		cluster_proc_unlink(p);
		pthread_mutex_unlock(&cluster_proc_lock);
		return err_set(e, "unable to start a watcher thread");
	}
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CLUSTER_READY_SECONDS;
	pthread_mutex_lock(&cluster_proc_lock);
	while (p->ready == 0 && !p->done)
		if (pthread_cond_timedwait(&cluster_proc_cond, &cluster_proc_lock, &deadline) != 0)
			break;
	if (p->ready == 1)
		ret = 0;
	else if (p->ready < 0)
		err_set(e, "%s", p->why);
	else
		err_set(e, "caliber-docdb did not listen within %d s", CLUSTER_READY_SECONDS);
	pthread_mutex_unlock(&cluster_proc_lock);
	if (ret < 0)
		cluster_proc_stop(id);
	return ret;
}

/* ---------------------------------------------------------------- jobs */

/* The job's end: available (and the job cleared) unless something else took the row since. */
static void cluster_job_done(const char *id, const char *from)
{
	struct err e = ERR_INIT;

	if (rds_wbegin(&e) < 0)
		return;
	if (store_run(store_db(rds_srv->store),
		    "UPDATE docdb_cluster SET status = 'available', job = NULL WHERE id = ? AND"
		    " status = ?",
		    "ss", id, from) < 0) {
		rds_wrollback();
		return;
	}
	if (rds_wcommit(&e) < 0)
		lc_log("docdb: %s", e.msg);
}

static void cluster_job_create(const struct cluster *c)
{
	struct cluster_secrets s;
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(c->id);

	cluster_secrets_init(&s);
	if (cluster_secrets_load("cluster", c->id, &s, &e) < 0 ||
		pge_create(eid, c->pg_port, buf_str(&s.admin), "docdb", buf_str(&s.owner), "docdb",
			&e) < 0 ||
		cluster_proc_start(c->id, &e) < 0)
		goto fail;
	cluster_automated_backup(c);
	cluster_job_done(c->id, "creating");
	lc_log("docdb: '%s' available on port %d", c->id, c->port);
	goto out;
fail:
	lc_log("docdb: creating '%s' failed: %s", c->id, e.msg);
	cluster_set_status(c->id, "failed", NULL);
out:
	cluster_secrets_release(&s);
	free(eid);
}

static void cluster_job_restore(const struct cluster *c)
{
	struct cluster_secrets s;
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(c->id), *src = NULL;
	char *dir = cluster_engine_id(c->restore_snapshot);

	cluster_secrets_init(&s);
	if (c->restore_source != NULL) {
		struct cluster sc = { 0 };
		int found = 0;

		src = cluster_engine_id(c->restore_source);
		if (rds_wbegin(&e) == 0) {
			found = cluster_get(store_db(rds_srv->store), c->restore_source, &sc);
			rds_wrollback();
		}
		/* push what the source committed until now into its archive */
		if (found == 1 && pge_running(src) &&
			cluster_secrets_load("cluster", sc.id, &s, &e) == 0 &&
			pge_archive_now(src, sc.pg_port, buf_str(&s.admin), &e) < 0)
			lc_log("docdb: archiving '%s' before a restore: %s", sc.id, e.msg);
		cluster_release(&sc);
		cluster_secrets_release(&s);
		cluster_secrets_init(&s);
	}
	if (cluster_secrets_load("cluster", c->id, &s, &e) < 0 ||
		pge_restore(dir, eid, c->pg_port, buf_str(&s.admin), src,
			isnan(c->restore_time) ? -1 : c->restore_time, &e) < 0 ||
		cluster_proc_start(c->id, &e) < 0) {
		lc_log("docdb: restoring '%s' failed: %s", c->id, e.msg);
		cluster_set_status(c->id, src ? "incompatible-restore" : "failed", NULL);
		goto out;
	}
	cluster_automated_backup(c);
	cluster_job_done(c->id, "creating");
	lc_log("docdb: '%s' restored, available on port %d", c->id, c->port);
out:
	cluster_secrets_release(&s);
	free(eid);
	free(src);
	free(dir);
}

static void cluster_job_start(const struct cluster *c, int restart)
{
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(c->id);

	if (restart)
		cluster_proc_stop(c->id);
	if ((!restart && pge_start(eid, c->pg_port, &e) < 0) || cluster_proc_start(c->id, &e) < 0) {
		lc_log("docdb: starting '%s' failed: %s", c->id, e.msg);
		cluster_set_status(c->id, "failed", NULL);
	} else {
		cluster_job_done(c->id, c->status);
	}
	free(eid);
}

static void cluster_job_delete(const struct cluster *c)
{
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(c->id);

	/* a snapshot accepted before the delete finishes first (it reads the server) */
	rds_busy_wait(eid);
	if (c->final_snapshot != NULL) {
		struct cluster_snapshot s = { 0 };
		int found = 0;

		if (rds_wbegin(&e) == 0) {
			found = cluster_snapshot_get(store_db(rds_srv->store), c->final_snapshot, &s);
			rds_wrollback();
		}
		if (found == 1 && !strcmp(s.status, "creating")) {
			if (pge_running(eid))
				cluster_snapshot_take(c, c->final_snapshot);
			else
				cluster_snapshot_set_status(c->final_snapshot, "failed", NAN);
		}
		cluster_snapshot_release(&s);
	}
	cluster_proc_stop(c->id);
	if (pge_destroy(eid, &e) < 0) {
		lc_log("docdb: deleting '%s' failed: %s", c->id, e.msg);
		cluster_set_status(c->id, "failed", NULL);
		free(eid);
		return;
	}
	cluster_snapshots_drop(
		"SELECT id FROM docdb_snapshot WHERE cluster_id = ? AND type = 'automated'", c->id);
	if (c->secret_arn != NULL) {
		json_t *req = json_pack("{s:s, s:b}", "SecretId", c->secret_arn,
			"ForceDeleteWithoutRecovery", 1);

		pthread_rwlock_rdlock(&rds_life);
		if (rds_stopping || rds_secret_call("DeleteSecret", c->region, req, NULL, &e) < 0)
			lc_log("docdb: deleting the secret of '%s': %s", c->id,
				rds_stopping ? "caliberd is stopping" : e.msg);
		pthread_rwlock_unlock(&rds_life);
		json_decref(req);
	}
	{
		char *dir = cluster_state_dir(c->id);
		char *log = xasprintf("%s/docdb.log", dir);

		/* the certificate went with the engine's directory */
		unlink(log);
		rmdir(dir);
		free(log);
		free(dir);
	}
	if (rds_wbegin(&e) == 0) {
		store_run(store_db(rds_srv->store), "DELETE FROM docdb_cluster WHERE id = ?", "s",
			c->id);
		if (rds_wcommit(&e) == 0)
			lc_log("docdb: '%s' deleted", c->id);
	}
	free(eid);
}

static void *cluster_job_thread(void *arg)
{
	char *id = arg;
	struct cluster c = { 0 };
	struct err e = ERR_INIT;
	int found = 0;

	if (rds_wbegin(&e) == 0) {
		found = cluster_get(store_db(rds_srv->store), id, &c);
		rds_wrollback();
	}
	if (found == 1 && c.job != NULL) {
		if (!strcmp(c.job, "create"))
			cluster_job_create(&c);
		else if (!strcmp(c.job, "restore"))
			cluster_job_restore(&c);
		else if (!strcmp(c.job, "delete"))
			cluster_job_delete(&c);
		else if (!strcmp(c.job, "start"))
			cluster_job_start(&c, 0);
		else if (!strcmp(c.job, "restart"))
			cluster_job_start(&c, 1);
	}
	cluster_release(&c);
	free(id);
	return NULL;
}

void cluster_job_spawn(const char *id)
{
	char *arg = xstrdup(id);
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cluster_job_thread, arg) != 0) {
		lc_log("docdb: unable to start a worker for '%s'", id);
		free(arg);
	}
	pthread_attr_destroy(&attr);
}

struct cluster_snap_job {
	char *id;
	char *snap;
};

static void *cluster_snap_thread(void *arg)
{
	struct cluster_snap_job *j = arg;
	struct cluster c = { 0 };
	struct err e = ERR_INIT;
	char *eid = cluster_engine_id(j->id);
	int found = 0;

	if (rds_wbegin(&e) == 0) {
		found = cluster_get(store_db(rds_srv->store), j->id, &c);
		rds_wrollback();
	}
	if (found == 1)
		cluster_snapshot_take(&c, j->snap);
	else
		cluster_snapshot_set_status(j->snap, "failed", NAN);
	rds_busy_unmark(eid);
	cluster_release(&c);
	free(eid);
	free(j->id);
	free(j->snap);
	free(j);
	return NULL;
}

void cluster_snapshot_spawn(const char *id, const char *snap)
{
	struct cluster_snap_job *j = xcalloc(1, sizeof(*j));
	char *eid = cluster_engine_id(id);
	pthread_attr_t attr;
	pthread_t t;

	j->id = xstrdup(id);
	j->snap = xstrdup(snap);
	rds_busy_mark(eid);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cluster_snap_thread, j) != 0) {
		lc_log("docdb: unable to start a worker for snapshot '%s'", snap);
		rds_busy_unmark(eid);
		free(j->id);
		free(j->snap);
		free(j);
	}
	pthread_attr_destroy(&attr);
	free(eid);
}

/* ---------------------------------------------------------------- scheduler */

/* Automated backups every CALIBER_RDS_BACKUP_INTERVAL seconds, pruned by retention. */
static void *cluster_scheduler(void *arg)
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
		struct cluster *due = NULL;
		size_t n = 0, i;

		usleep((useconds_t)(tick * 1e6));
		if (rds_wbegin(&e) < 0)
			continue;
		if (sqlite3_prepare_v2(store_db(rds_srv->store),
			    "SELECT " CLUSTER_COLS " FROM docdb_cluster c WHERE status = 'available'"
			    " AND ? - COALESCE((SELECT max(s.created) FROM docdb_snapshot s WHERE"
			    " s.cluster_id = c.id AND s.type = 'automated'), 0) >= ?",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, lc_now());
			sqlite3_bind_double(st, 2, interval);
			while (sqlite3_step(st) == SQLITE_ROW) {
				due = xrealloc(due, (n + 1) * sizeof(*due));
				memset(&due[n], 0, sizeof(*due));
				cluster_read(st, &due[n++]);
			}
		}
		sqlite3_finalize(st);
		rds_wrollback();
		for (i = 0; i < n; i++) {
			char *eid = cluster_engine_id(due[i].id);
			char *oldest = NULL;

			/* a delete accepted meanwhile waits for this backup */
			rds_busy_mark(eid);
			cluster_automated_backup(&due[i]);
			rds_busy_unmark(eid);
			/* older than the retention period, but never the newest */
			cluster_snapshots_drop(
				"SELECT s.id FROM docdb_snapshot s JOIN docdb_cluster c ON c.id ="
				" s.cluster_id WHERE s.cluster_id = ?1 AND s.type = 'automated'"
				" AND s.created < strftime('%s', 'now') - c.retention * 86400"
				" AND s.id <> (SELECT id FROM docdb_snapshot WHERE cluster_id = ?1"
				" AND type = 'automated' ORDER BY created DESC LIMIT 1)",
				due[i].id);
			/* WAL older than the oldest automated backup serves no restore */
			if (rds_wbegin(&e) == 0) {
				if (sqlite3_prepare_v2(store_db(rds_srv->store),
					    "SELECT id FROM docdb_snapshot WHERE cluster_id = ? AND"
					    " type = 'automated' AND status = 'available' ORDER BY"
					    " created LIMIT 1",
					    -1, &st, NULL) == SQLITE_OK) {
					sqlite3_bind_text(st, 1, due[i].id, -1, SQLITE_STATIC);
					if (sqlite3_step(st) == SQLITE_ROW)
						oldest = store_col_text(st, 0);
				}
				sqlite3_finalize(st);
				rds_wrollback();
			}
			if (oldest != NULL) {
				char *dir = cluster_engine_id(oldest);

				if (pge_archive_prune(eid, dir, &e) < 0)
					lc_log("docdb: pruning the WAL archive of '%s': %s",
						due[i].id, e.msg);
				free(dir);
				free(oldest);
			}
			free(eid);
			cluster_release(&due[i]);
		}
		free(due);
	}
	return NULL;
}

/* ---------------------------------------------------------------- init */

int cluster_init(struct lc_server *srv, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t n = 0, i;
	pthread_attr_t attr;
	pthread_t t;

	if (store_exec(rds_srv->store, cluster_schema, e) < 0 || cluster_groups_init(srv, e) < 0)
		return -1;
	/* resume: every cluster's job (re)done, running ones started or adopted */
	if (store_begin(rds_srv->store, e) < 0)
		return -1;
	if (sqlite3_prepare_v2(store_db(rds_srv->store), "SELECT id, status, job FROM docdb_cluster",
		    -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *status = store_col_str(st, 1);

			if (sqlite3_column_type(st, 2) == SQLITE_NULL && strcmp(status, "available"))
				continue;	/* failed: left as it is */
			ids = xrealloc(ids, (n + 1) * sizeof(*ids));
			ids[n++] = store_col_text(st, 0);
		}
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		/* a caliber-docdb never outlives caliberd; its PostgreSQL may */
		store_run(store_db(rds_srv->store),
			"UPDATE docdb_cluster SET job = 'start', status = 'starting' WHERE id = ? AND"
			" (job IS NULL OR job = 'restart')",
			"s", ids[i]);
	}
	store_run(store_db(rds_srv->store),
		"UPDATE docdb_snapshot SET status = 'failed' WHERE status = 'creating' AND id NOT IN"
		" (SELECT final_snapshot FROM docdb_cluster WHERE job = 'delete' AND final_snapshot"
		" IS NOT NULL)",
		"");
	if (store_commit(rds_srv->store, e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		cluster_job_spawn(ids[i]);
		free(ids[i]);
	}
	free(ids);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cluster_scheduler, NULL) != 0) {
		pthread_attr_destroy(&attr);
		return err_set(e, "unable to start the cluster backup scheduler");
	}
	pthread_attr_destroy(&attr);
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return -1;
}
