/*
 * rds/state.c: RDS's state: the workers' way into the store (the life lock,
 * the busy list of instances being backed up, rds_shutdown), instance and
 * snapshot rows and their status changes, and the sealed internal
 * passwords.
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

#include "core/caliberd.h"
#include "core/crypt.h"
#include "core/engine-postgres.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "core/store.h"

/* The server the workers use (caliberd has one). */
struct lc_server *rds_srv;

/*
 * Workers (job threads, the backup scheduler) reach the store only through
 * rds_wbegin()/rds_wcommit()/rds_wrollback(), under a read lock that
 * rds_shutdown() takes for writing before caliberd closes the store: after
 * it, a worker still busy in the engine finds the store gone and leaves its
 * job in the row, to be redone at the next start.
 */
pthread_rwlock_t rds_life = PTHREAD_RWLOCK_INITIALIZER;
int rds_stopping;

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

void rds_busy_mark(const char *id)
{
	pthread_mutex_lock(&rds_busy_lock);
	rds_busy = xrealloc(rds_busy, (rds_n_busy + 1) * sizeof(*rds_busy));
	rds_busy[rds_n_busy++] = xstrdup(id);
	pthread_mutex_unlock(&rds_busy_lock);
}

void rds_busy_unmark(const char *id)
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
void rds_busy_wait(const char *id)
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

int rds_wbegin(struct err *e)
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

int rds_wcommit(struct err *e)
{
	int ret = store_commit(rds_srv->store, e);

	pthread_rwlock_unlock(&rds_life);
	return ret;
}

void rds_wrollback(void)
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

void rds_instance_release(struct rds_instance *i)
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

void rds_snapshot_release(struct rds_snapshot *s)
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

void rds_instance_read(sqlite3_stmt *st, struct rds_instance *i)
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

void rds_snapshot_read(sqlite3_stmt *st, struct rds_snapshot *s)
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
int rds_instance_get(sqlite3 *db, const char *id, struct rds_instance *out)
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

int rds_snapshot_get(sqlite3 *db, const char *id, struct rds_snapshot *out)
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

/* Set an instance's status (and job) in its own transaction. */
int rds_set_status(const char *id, const char *status, const char *job)
{
	struct err e = ERR_INIT;
	const char *p[] = { status, job, id };

	if (rds_wbegin(&e) < 0) {
		lc_log("rds: %s", e.msg);
		return -1;
	}
	if (store_run_texts(store_db(rds_srv->store),
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
void rds_backup_done(const char *id)
{
	struct err e = ERR_INIT;
	const char *p[] = { id };

	if (rds_wbegin(&e) < 0) {
		lc_log("rds: %s", e.msg);
		rds_busy_unmark(id);
		return;
	}
	if (store_run_texts(store_db(rds_srv->store),
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
int rds_snapshot_set_status(const char *id, const char *status, double completed)
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
int rds_open_column(sqlite3 *db, const char *sql, const char *id, const char *aad,
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

char *rds_aad(const char *kind, const char *id)
{
	return xasprintf("rds-%s:%s", kind, id);
}

/* The instance's rdsadmin password (own transaction). */
int rds_admin_password(const char *id, struct buf *out, struct err *e)
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
