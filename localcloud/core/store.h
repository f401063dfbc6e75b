/*
 * store.h: caliberd's control plane, one SQLite database in WAL mode.
 *
 * synchronous=FULL: a transaction is on disk when store_commit() returns,
 * so whatever caliberd acknowledged survives kill -9 and power loss.
 *
 * Concurrency: one connection shared by every handler thread, and one
 * mutex: store_begin() takes it and opens a write transaction,
 * store_commit()/store_rollback() end both.  Handlers use the sqlite3
 * handle only between those calls (store_db()).  Reads go in the same kind
 * of transaction: the database is small and this keeps every handler
 * trivially serialisable.
 */
#ifndef CALIBER_LC_STORE_H
#define CALIBER_LC_STORE_H

#include <sqlite3.h>

#include "err.h"

struct store;

/* Open (creating) the database at path.  *out is freed by store_close(). */
int store_open(const char *path, struct store **out, struct err *e);
void store_close(struct store *s);

/* Run SQL statements (schema) outside a transaction; for init functions. */
int store_exec(struct store *s, const char *sql, struct err *e);

int store_begin(struct store *s, struct err *e);
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);
sqlite3 *store_db(struct store *s);

/*
 * Prepare sql (cached per statement text pointer is not done: SQLite's
 * prepare is cheap next to a synchronous commit).  On failure fills e
 * with SQLite's message.
 */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out, struct err *e);

/* Column i of the current row: its text copied (caller frees), NULL when SQL NULL. */
char *store_col_text(sqlite3_stmt *st, int i);
/* Column i as a number, NAN when SQL NULL (an optional time). */
double store_col_real(sqlite3_stmt *st, int i);

#endif
