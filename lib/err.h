/*
 * err.h: how library code explains a failure.
 *
 * A function that can fail for a reason worth telling returns -1 and fills
 * a caller-owned struct err; only the command (cli/) or the API handler
 * (localcloud/) prints it.  Messages are lower case, without a full stop,
 * quote the offending value and, for user errors, say what to do.
 */
#ifndef CALIBER_ERR_H
#define CALIBER_ERR_H

#include <stddef.h>

/* Exit codes of every command, documented in the README and --help. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
};

struct err {
	int usage;		/* non-zero: the caller's input was wrong (exit 2) */
	char msg[1024];
};

#define ERR_INIT { 0, { 0 } }

/* Fill e (if not NULL) and return -1. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* As err_set, and mark the error as a usage error. */
int err_usage(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix the existing message with "what: ". */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

/* Print "caliber: error: msg" to stderr; returns the exit code it implies. */
int err_print(const struct err *e);

#endif
