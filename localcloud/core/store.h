/*
 * store.h: caliberd's control plane, one SQLite database in WAL mode.
 *
 * synchronous=FULL: a transaction is on disk when store_commit() returns,
 * so whatever caliberd acknowledged survives kill -9 and power loss.
 *
 * Concurrency: one write connection shared by every handler thread, and
 * one mutex: store_begin() takes it and opens a write transaction
 * (BEGIN IMMEDIATE), store_commit()/store_rollback() end both.  A thread
 * that said store_read_only(1) (the router does, for operations that only
 * read) gets a deferred read transaction instead, on one of a small pool
 * of read-only connections: in WAL mode readers see the last commit and
 * never wait for the writer, nor it for them.  Handlers use the sqlite3
 * handle only between store_begin() and its end (store_db() gives this
 * thread's connection).
 */
#ifndef CALIBER_LC_STORE_H
#define CALIBER_LC_STORE_H

#include <stddef.h>

#include <sqlite3.h>

#include "err.h"

struct store;

/* Open (creating) the database at path.  *out is freed by store_close(). */
int store_open(const char *path, struct store **out, struct err *e);
void store_close(struct store *s);

/* Run SQL statements (schema) outside a transaction; for init functions. */
int store_exec(struct store *s, const char *sql, struct err *e);

int store_begin(struct store *s, struct err *e);
/* This thread's next transactions only read (1) or may write (0, the default). */
void store_read_only(int on);
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);
sqlite3 *store_db(struct store *s);

/*
 * Prepare sql (cached per statement text pointer is not done: SQLite's
 * prepare is cheap next to a synchronous commit).  On failure fills e
 * with SQLite's message.
 */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out, struct err *e);

/*
 * The SQLite helpers, one family for every service and for any sqlite3
 * handle (the shared store's, the ECS supervisor's own connection, the
 * object store's index).
 */

/* Column i of the current row: its text copied (caller frees), NULL when SQL NULL. */
char *store_col_text(sqlite3_stmt *st, int i);
/* Column i's text, borrowed until the next step; "" when SQL NULL. */
const char *store_col_str(sqlite3_stmt *st, int i);
/* Column i as a number, NAN when SQL NULL (an optional time). */
double store_col_real(sqlite3_stmt *st, int i);

/*
 * Set on this thread by a failed store_run() or store_run_texts(), never
 * cleared by them: a handler that wrote several rows clears it first and
 * answers 500 (never a success for what was not stored) when it is set
 * after (ECS's ecs_step); the ECS supervisor keeps what its tick did.
 */
extern _Thread_local int store_write_failed;

/*
 * Run one statement on db with its bindings, then finalize it.  fmt has
 * one letter per ?: s (const char *, NULL binds NULL), i (long long),
 * d (double).  0 when it ran (done, or a row); -1 when it did not: the
 * failure goes to caliberd's log with SQLite's message and the statement,
 * and store_write_failed is set.
 */
int store_run(sqlite3 *db, const char *sql, const char *fmt, ...);
/* The same with n text parameters (NULL binds NULL). */
int store_run_texts(sqlite3 *db, const char *sql, size_t n, const char *const *params);
/* Run SQL statements (schema) on db: 0, or -1 with SQLite's message in e. */
int store_db_exec(sqlite3 *db, const char *sql, struct err *e);

#endif
