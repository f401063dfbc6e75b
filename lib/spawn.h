/*
 * spawn.h: run a child program (terraform, nginx, postgres tools) without a
 * shell, with extra environment variables, in a given directory, and read
 * its standard output line by line or whole.
 *
 * Values that must stay secret go to children through their environment
 * (readable only by the same user), never through argv.  A child gets no
 * descriptor of the caller's but its standard input, output and error.
 */
#ifndef CALIBER_SPAWN_H
#define CALIBER_SPAWN_H

#include "buf.h"
#include "err.h"

struct spawn_opts {
	const char *cwd;		/* NULL: inherit */
	/* NULL-terminated list: "NAME=value" sets, a bare "NAME" unsets; or NULL */
	const char *const *env_add;
	/* Standard output: to on_line, else into out, else inherited. */
	void (*on_line)(const char *line, void *ctx);
	void *ctx;
	struct buf *out;
	int stderr_null;		/* discard the child's standard error */
	/*
	 * The child's whole environment (NULL-terminated "NAME=value"), instead
	 * of the caller's with env_add applied; or NULL.
	 */
	const char *const *env;
	/* Standard output and error appended to this file (mode 0600); or NULL. */
	const char *log_path;
};

/*
 * Run argv[0] (searched in PATH) and wait.  Returns 0 when the child ran
 * and exited 0; -1 otherwise, with e saying how it failed (not found,
 * killed, exit status).  *status (when not NULL) gets the exit status, or
 * 128 + signal.
 */
int spawn_run(char *const argv[], const struct spawn_opts *opts, int *status, struct err *e);

#endif
