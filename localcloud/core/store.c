/*
 * store.c: the SQLite control plane (see store.h for the rules).
 */
#include "compat.h"

#include <math.h>
#include <pthread.h>

#include "buf.h"
#include "caliberd.h"
#include "store.h"

/* A read-only connection of the pool: one reader at a time on each. */
struct store_reader {
	sqlite3 *db;
	pthread_mutex_t lock;
};

#define STORE_READERS 4

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	char *path;
	pthread_mutex_t readers_lock;	/* guards opening readers[] */
	struct store_reader readers[STORE_READERS];
};

/* The read transaction this thread has open, on which store (NULL: none). */
static _Thread_local struct store *tls_read_store;
static _Thread_local struct store_reader *tls_reader;
/* The request being handled only reads: store_begin() opens a read transaction. */
static _Thread_local int tls_read_only;

static int store_fail(struct store *s, const char *what, struct err *e)
{
	return err_set(e, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

int store_open(const char *path, struct store **out, struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int ret = -1;

	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->readers_lock, NULL);
	for (size_t i = 0; i < STORE_READERS; i++)
		pthread_mutex_init(&s->readers[i].lock, NULL);
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
		    NULL) != SQLITE_OK) {
		err_set(e, "unable to open '%s': %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (store_exec(s,
		    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		    e) < 0) {
		err_prefix(e, "unable to set up '%s'", path);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		store_close(s);
		s = NULL;
	}
	*out = s;
	return ret;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		sqlite3_close(s->db);
	for (size_t i = 0; i < STORE_READERS; i++) {
		if (s->readers[i].db != NULL)
			sqlite3_close(s->readers[i].db);
		pthread_mutex_destroy(&s->readers[i].lock);
	}
	pthread_mutex_destroy(&s->readers_lock);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

int store_db_exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "store: %s", msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void store_read_only(int on)
{
	tls_read_only = on;
}

/*
 * A reader of the pool, locked: a free one if there is one, else the
 * thread waits on one picked by its thread id.  Opened on first use.
 */
static struct store_reader *reader_take(struct store *s, struct err *e)
{
	struct store_reader *r = NULL;
	size_t i;

	for (i = 0; i < STORE_READERS && r == NULL; i++)
		if (pthread_mutex_trylock(&s->readers[i].lock) == 0)
			r = &s->readers[i];
	if (r == NULL) {
		r = &s->readers[(size_t)pthread_self() % STORE_READERS];
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_lock(&s->readers_lock);
	if (r->db == NULL) {
		if (sqlite3_open_v2(s->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
			err_set(e, "store: unable to open '%s' to read: %s", s->path,
				r->db ? sqlite3_errmsg(r->db) : "out of memory");
			sqlite3_close(r->db);
			r->db = NULL;
		} else {
			sqlite3_busy_timeout(r->db, 5000);
		}
	}
	pthread_mutex_unlock(&s->readers_lock);
	if (r->db == NULL) {
		pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	return r;
}

/*
 * A read transaction: deferred, on a connection of its own, so that in
 * WAL mode it sees the last commit and neither waits for the writer nor
 * holds it up.  A handler that writes in one fails (SQLITE_READONLY):
 * mislabelled operations show up as errors, never as lost writes.
 */
static int store_begin_read(struct store *s, struct err *e)
{
	struct store_reader *r = reader_take(s, e);

	if (r == NULL)
		return -1;
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, "store: begin: %s", sqlite3_errmsg(r->db));
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	tls_read_store = s;
	tls_reader = r;
	return 0;
}

int store_exec(struct store *s, const char *sql, struct err *e)
{
	return store_db_exec(s->db, sql, e);
}

int store_begin(struct store *s, struct err *e)
{
	if (tls_read_only)
		return store_begin_read(s, e);
	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(s, "begin", e);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	return 0;
}

/* End this thread's read transaction on s, if it has one: 1 when it had. */
static int store_end_read(struct store *s, const char *sql)
{
	struct store_reader *r = tls_reader;

	if (tls_read_store != s)
		return 0;
	sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	tls_read_store = NULL;
	tls_reader = NULL;
	pthread_mutex_unlock(&r->lock);
	return 1;
}

int store_commit(struct store *s, struct err *e)
{
	int ret = 0;

	if (store_end_read(s, "COMMIT"))
		return 0;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = store_fail(s, "commit", e);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void store_rollback(struct store *s)
{
	if (store_end_read(s, "ROLLBACK"))
		return;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&s->lock);
}

sqlite3 *store_db(struct store *s)
{
	return tls_read_store == s ? tls_reader->db : s->db;
}

int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out, struct err *e)
{
	sqlite3 *db = store_db(s);

	*out = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
		return err_set(e, "store: prepare: %s", sqlite3_errmsg(db));
	return 0;
}

char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

double store_col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

const char *store_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

_Thread_local int store_write_failed;

/* Step st (its bindings done) and finalize it; 0 or -1 as store_run says. */
static int run_bound(sqlite3 *db, sqlite3_stmt *st, const char *sql)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		lc_log("store: step: %s: %s", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		store_write_failed = 1;
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static sqlite3_stmt *run_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		lc_log("store: prepare: %s: %s", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		store_write_failed = 1;
		return NULL;
	}
	return st;
}

int store_run(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = run_prepare(db, sql);
	va_list ap;
	int i;

	if (st == NULL)
		return -1;
	va_start(ap, fmt);
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 's') {
			const char *v = va_arg(ap, const char *);

			if (v == NULL)
				sqlite3_bind_null(st, i + 1);
			else
				sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
		} else if (fmt[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
		} else {
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
		}
	}
	va_end(ap);
	return run_bound(db, st, sql);
}

int store_run_texts(sqlite3 *db, const char *sql, size_t n, const char *const *params)
{
	sqlite3_stmt *st = run_prepare(db, sql);
	size_t i;

	if (st == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (params[i] == NULL)
			sqlite3_bind_null(st, (int)i + 1);
		else
			sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_TRANSIENT);
	}
	return run_bound(db, st, sql);
}
