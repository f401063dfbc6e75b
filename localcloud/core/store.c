/*
 * store.c: the SQLite control plane (see store.h for the rules).
 */
#include "compat.h"

#include <math.h>
#include <pthread.h>

#include "buf.h"
#include "store.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
};

static int store_fail(struct store *s, const char *what, struct err *e)
{
	return err_set(e, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

int store_open(const char *path, struct store **out, struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int ret = -1;

	pthread_mutex_init(&s->lock, NULL);
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
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "store: %s", msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_begin(struct store *s, struct err *e)
{
	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(s, "begin", e);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	return 0;
}

int store_commit(struct store *s, struct err *e)
{
	int ret = 0;

	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = store_fail(s, "commit", e);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void store_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&s->lock);
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out, struct err *e)
{
	*out = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
		return store_fail(s, "prepare", e);
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
