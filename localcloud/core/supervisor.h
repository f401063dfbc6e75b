/*
 * supervisor.h: the process primitives under caliberd's ECS tasks.
 *
 * A task's container is a child process of caliberd: its own session and
 * process group (so a stop signals everything it started), stdin from
 * /dev/null, stdout and stderr into one pipe that caliberd reads (its
 * awslogs stream), the signal mask and dispositions reset, no descriptor
 * of caliberd's left open, and PR_SET_PDEATHSIG so that it is told to
 * stop (SIGTERM) when caliberd goes away, kill -9 included.
 *
 * Secret values reach the child through envp only: never argv, never a
 * file.  /proc/<pid>/environ is readable by the process's owner only.
 *
 * Children are reaped by pid (sup_reap), not with waitpid(-1): other
 * engines of caliberd (nginx, PostgreSQL) have children of their own and
 * reap them themselves.
 */
#ifndef CALIBER_LC_SUPERVISOR_H
#define CALIBER_LC_SUPERVISOR_H

#include <sys/types.h>

#include "err.h"

struct sup_spec {
	char *const *argv; /* argv[0]: a path, or a name looked up in path */
	char *const *envp; /* the whole environment of the child */
	const char *cwd;   /* working directory */
	const char *path;  /* PATH used to find argv[0] (the child's, not caliberd's) */
	int capture;	   /* 1: stdout+stderr into *out_fd; 0: /dev/null */
	/*
	 * A directory the child sees read-only (the image), or NULL.  Run as
	 * root, the child gets its own mount namespace with a read-only bind
	 * mount of it, since root ignores permission bits; where mount
	 * namespaces are not allowed the image's a-w modes are all there is.
	 */
	const char *readonly_dir;
	/*
	 * With readonly_dir, as root: where the child sees it (its working
	 * directory then, while cwd still resolves a relative argv[0]), so that
	 * it needs no access to the path above it; NULL: in place.
	 */
	const char *image_at;
	/* A directory the child must not see (caliberd's home): an empty tmpfs over it. */
	const char *hide_dir;
	/*
	 * Run as uid:gid with no supplementary groups (drop set, caliberd
	 * root).  A child that cannot be isolated as asked exits 126 before
	 * running anything.
	 */
	int drop;
	uid_t uid;
	gid_t gid;
};

/*
 * Start a child.  *pid gets its pid (also its process group), *out_fd the
 * non-blocking read end of its output (or -1 without capture; the caller
 * closes it).  Fails with a message when argv[0] is not found or not
 * executable (checked before fork, so the message can say so).
 */
int sup_spawn(const struct sup_spec *spec, pid_t *pid, int *out_fd, struct err *e);

/*
 * Reap pid if it has exited: 1 exited (*exit_code: its status, or 128 +
 * signal as Docker reports it), 0 still running, -1 not our child.
 */
int sup_reap(pid_t pid, int *exit_code);

/* Signal the child's process group (and the child itself). */
void sup_signal(pid_t pid, int sig);

/*
 * The kernel's start time of pid (clock ticks since boot, /proc/pid/stat
 * field 22), 0 when there is no such process.  With the pid it names one
 * process across pid reuse: caliberd uses it after a restart to find the
 * processes of its previous life.
 */
unsigned long long sup_start_time(pid_t pid);

#endif
