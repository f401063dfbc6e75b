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

int sup_spawn(const struct sup_spec *spec, pid_t *pid_out, int *out_fd, struct err *e)
{
	char *exe = NULL;
	int pipefd[2] = {-1, -1}, devnull = -1, ret = -1;
	pid_t parent = getpid(), pid;

	*pid_out = -1;
	*out_fd = -1;
	exe = resolve(spec->argv[0], spec->cwd, spec->path, e);
	if (exe == NULL)
		goto out;
	if (spec->readonly_dir != NULL && spec->image_at != NULL && geteuid() == 0) {
		size_t n = strlen(spec->readonly_dir);

		/* a program inside the image: named where the child sees the image */
		if (!strncmp(exe, spec->readonly_dir, n) && exe[n] == '/') {
			char *moved = xasprintf("%s%s", spec->image_at, exe + n);

			free(exe);
			exe = moved;
		}
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		err_set(e, "unable to open '/dev/null': %s", strerror(errno));
		goto out;
	}
	if (spec->capture && pipe2(pipefd, O_CLOEXEC) < 0) {
		err_set(e, "unable to create a pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_set(e, "unable to fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* the child: async-signal-safe calls only until execve */
		sigset_t none;
		int outfd = spec->capture ? pipefd[1] : devnull;

		setsid();
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (spec->readonly_dir != NULL && geteuid() == 0) {
			const char *at = spec->image_at ? spec->image_at : spec->readonly_dir;
			int isolated = unshare(CLONE_NEWNS) == 0;

			/* private propagation first, so the mounts stay in here */
			if (isolated &&
				(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
					mount(spec->readonly_dir, at, NULL, MS_BIND, NULL) < 0 ||
					mount(NULL, at, NULL,
						MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
						NULL) < 0 ||
					(spec->hide_dir != NULL &&
						mount("tmpfs", spec->hide_dir, "tmpfs",
							MS_NOSUID | MS_NODEV | MS_NOEXEC,
							"size=4k,mode=000") < 0)))
				_exit(126);
			/* asked to be kept apart and could not be */
			if (!isolated && (spec->image_at != NULL || spec->hide_dir != NULL))
				_exit(126);
		}
		if (chdir(spec->readonly_dir != NULL && spec->image_at != NULL && geteuid() == 0
				  ? spec->image_at
				  : spec->cwd) < 0)
			_exit(127);
		if (spec->drop && geteuid() == 0) {
			if (setgroups(0, NULL) < 0 || setgid(spec->gid) < 0 || setuid(spec->uid) < 0 ||
				getuid() != spec->uid || geteuid() != spec->uid)
				_exit(126);
			/* a change of credentials clears the parent-death signal */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(127);
		}
		if (dup2(devnull, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(exe, spec->argv, spec->envp);
		_exit(127);
	}
	*pid_out = pid;
	if (spec->capture) {
		close(pipefd[1]);
		pipefd[1] = -1;
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
	if (devnull >= 0)
		close(devnull);
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
