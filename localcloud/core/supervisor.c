/*
 * supervisor.c: start, signal and reap the processes of ECS tasks (see
 * supervisor.h).
 */
#include "compat.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "buf.h"
#include "spawn.h"
#include "supervisor.h"

#ifndef CLOSE_RANGE_UNSHARE
#include <linux/close_range.h>
#endif

/* argv[0] as a path to exec: itself when it has a '/', else found in path */
static char *resolve(const char *name, const char *cwd, const char *path, struct err *e)
{
	char *cand = NULL;
	const char *p, *colon;

	if (strchr(name, '/') != NULL) {
		cand = name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", cwd, name);
		if (access(cand, X_OK) < 0) {
			err_set(e, "unable to run '%s': %s", name, strerror(errno));
			free(cand);
			return NULL;
		}
		return cand;
	}
	for (p = path ? path : "/usr/bin:/bin"; *p; p = colon + 1) {
		struct stat st;
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		cand = len ? xasprintf("%.*s/%s", (int)len, p, name)
			   : xasprintf("%s/%s", cwd, name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		cand = NULL;
		if (colon == NULL)
			break;
	}
	err_set(e, "unable to run '%s': executable file not found in $PATH", name);
	return NULL;
}

/*
 * In the child, as root, before the drop: a mount namespace of its own
 * with the image bound read-only where it is seen, and caliberd's home
 * hidden.  Async-signal-safe calls only.
 */
static int sup_isolate(void *ctx)
{
	const struct sup_spec *spec = ctx;
	const char *at = spec->image_at ? spec->image_at : spec->readonly_dir;
	int isolated = unshare(CLONE_NEWNS) == 0;

	/* private propagation first, so the mounts stay in here */
	if (isolated &&
		(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			mount(spec->readonly_dir, at, NULL, MS_BIND, NULL) < 0 ||
			mount(NULL, at, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
				NULL) < 0 ||
			(spec->hide_dir != NULL &&
				mount("tmpfs", spec->hide_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
					"size=4k,mode=000") < 0)))
		return -1;
	/* asked to be kept apart and could not be */
	if (!isolated && (spec->image_at != NULL || spec->hide_dir != NULL))
		return -1;
	return 0;
}

int sup_spawn(const struct sup_spec *spec, pid_t *pid_out, int *out_fd, struct err *e)
{
	int root = geteuid() == 0;
	struct spawn_child c = { .argv = spec->argv, .env = (const char *const *)spec->envp,
		.fd_in = -1, .fd_out = -1, .fd_err = -1, .cwd = spec->cwd, .new_session = 1,
		.death_signal = SIGTERM, .drop = spec->drop, .uid = spec->uid, .gid = spec->gid };
	int pipefd[2] = {-1, -1}, ret = -1;
	char *exe = NULL;

	*pid_out = -1;
	*out_fd = -1;
	exe = resolve(spec->argv[0], spec->cwd, spec->path, e);
	if (exe == NULL)
		goto out;
	if (spec->readonly_dir != NULL && spec->image_at != NULL && root) {
		size_t n = strlen(spec->readonly_dir);

		/* a program inside the image: named where the child sees the image */
		if (!strncmp(exe, spec->readonly_dir, n) && exe[n] == '/') {
			char *moved = xasprintf("%s%s", spec->image_at, exe + n);

			free(exe);
			exe = moved;
		}
		/* the image is where it runs, so it needs no access to the path above */
		c.cwd = spec->image_at;
	}
	if (spec->readonly_dir != NULL && root) {
		c.setup = sup_isolate;
		c.setup_ctx = (void *)spec;
	}
	if (spec->capture) {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			err_set(e, "unable to create a pipe: %s", strerror(errno));
			goto out;
		}
		c.fd_out = c.fd_err = pipefd[1];
	}
	c.path = exe;
	if (spawn_start(&c, pid_out, e) < 0)
		goto out;
	if (spec->capture) {
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		*out_fd = pipefd[0];
		pipefd[0] = -1;
	}
	ret = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(exe);
	return ret;
}

int sup_reap(pid_t pid, int *exit_code)
{
	int status = 0;
	pid_t r;

	do
		r = waitpid(pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)
		return -1;
	if (WIFEXITED(status))
		*exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*exit_code = 128 + WTERMSIG(status);
	else
		return 0;
	return 1;
}

void sup_signal(pid_t pid, int sig)
{
	if (pid <= 1)
		return;
	kill(-pid, sig);
	kill(pid, sig);
}

unsigned long long sup_start_time(pid_t pid)
{
	char path[64], text[1024];
	unsigned long long start = 0;
	const char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* the command name (field 2) may hold spaces: count from its ')' */
	p = strrchr(text, ')');
	if (p == NULL)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	start = strtoull(p, NULL, 10);
	return start;
}
