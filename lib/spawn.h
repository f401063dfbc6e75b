/*
 * spawn.h: every child process caliber and caliberd start (terraform,
 * nginx, postgres and its tools, ECS tasks, caliberd itself) goes through
 * here: no shell, an explicit environment, every descriptor above stderr
 * closed in the child, signals unblocked.
 *
 * Two levels:
 *  - spawn_start() forks and execs one child as a struct spawn_child says
 *    (descriptors, session, user, directory, a parent-death signal, a
 *    daemon's double fork, a setup hook run as root in the child) and
 *    returns its pid; spawn_wait() reaps it and says how it ended.
 *  - spawn_run() runs a tool to completion and reads its standard output
 *    line by line or whole (the CLI's way: terraform, useradd).
 *
 * Values that must stay secret go to children through their environment
 * (readable only by the same user), never through argv.
 */
#ifndef CALIBER_SPAWN_H
#define CALIBER_SPAWN_H

#include <sys/types.h>

#include "buf.h"
#include "err.h"

struct spawn_child {
	/* The program: a path with a '/' is run as it is, a bare name is searched in PATH. */
	const char *path;
	char *const *argv;
	/*
	 * The child's whole environment (NULL-terminated "NAME=value"), never
	 * implied: spawn_start() refuses NULL.  (spawn_run() without opts->env
	 * passes the caller's environment, with opts->env_add applied, for the
	 * CLI's tools that work for the operator: terraform.)
	 */
	const char *const *env;
	/* The child's descriptors 0, 1, 2; -1: /dev/null. */
	int fd_in, fd_out, fd_err;
	const char *cwd;		/* NULL: inherit */
	int new_session;		/* setsid(): no controlling terminal, its own group */
	int new_group;			/* setpgid(0, 0) */
	/*
	 * Double fork: the child returned is the intermediate one, which exits
	 * at once (reap it with spawn_wait()); the program runs in the
	 * grandchild, belonging to no process of ours.
	 */
	int daemon;
	/* Sent to the child when the thread that started it ends (0: none). */
	int death_signal;
	/* Run as uid:gid with no supplementary groups (only when we are root). */
	int drop;
	uid_t uid;
	gid_t gid;
	/*
	 * Called in the child after fork, as the caller's user, before the
	 * directory change and the drop: async-signal-safe calls only.  Non-zero
	 * makes the child exit 126 without running the program.
	 */
	int (*setup)(void *ctx);
	void *setup_ctx;
};

/* Start c; *pid gets the child's pid.  -1 with e when it could not be forked. */
int spawn_start(const struct spawn_child *c, pid_t *pid, struct err *e);
/*
 * Wait for pid (named name in messages).  0 when it exited 0; -1 with e
 * saying how it ended otherwise.  *status (when not NULL) gets the exit
 * status, or 128 + the signal.  An exit status of 127 is "not found",
 * 126 "could not be set up".
 */
int spawn_wait(pid_t pid, const char *name, int *status, struct err *e);

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
 * 128 + signal.  Standard input is inherited.
 */
int spawn_run(char *const argv[], const struct spawn_opts *opts, int *status, struct err *e);

#endif
