/*
 * spawn.c: fork and exec (see spawn.h).
 *
 * Between fork and exec the child of a threaded process may call only
 * async-signal-safe functions: everything it needs (the environment, the
 * descriptors, /dev/null) is made ready in the parent.
 */
#include "compat.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "spawn.h"

extern char **environ;

/* In the child: a failure to set up ends it with 126, which spawn_wait() names. */
static void child_fail(void)
{
	_exit(126);
}

static void spawn_child_run(const struct spawn_child *c, int devnull, pid_t parent)
{
	char *const *env = (char *const *)c->env;
	int in = c->fd_in >= 0 ? c->fd_in : devnull;
	int out = c->fd_out >= 0 ? c->fd_out : devnull;
	int errfd = c->fd_err >= 0 ? c->fd_err : devnull;
	sigset_t none;

	if (c->new_session)
		setsid();
	else if (c->new_group)
		setpgid(0, 0);
	if (c->daemon) {
		pid_t pid = fork();

		if (pid < 0)
			child_fail();
		if (pid > 0)
			_exit(0);
	}
	/* caliberd blocks signals in its threads, and a mask survives exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (c->setup != NULL && c->setup(c->setup_ctx) != 0)
		child_fail();
	if (c->cwd != NULL && chdir(c->cwd) < 0)
		child_fail();
	if (c->drop && geteuid() == 0) {
		if (setgroups(0, NULL) < 0 || setgid(c->gid) < 0 || setuid(c->uid) < 0 ||
			getuid() != c->uid || geteuid() != c->uid)
			child_fail();
	}
	/* set after the drop, which clears it; a parent already gone is too late */
	if (c->death_signal && !c->daemon &&
		(prctl(PR_SET_PDEATHSIG, c->death_signal) < 0 || getppid() != parent))
		child_fail();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		child_fail();
	/* nothing of the caller's but 0, 1 and 2, whatever was opened without O_CLOEXEC */
	if (close_range(3, ~0U, 0) < 0) {
		int fd;

		for (fd = 3; fd < 65536; fd++)
			close(fd);
	}
	if (strchr(c->path, '/') != NULL)
		execve(c->path, c->argv, env);
	else
		execvpe(c->path, c->argv, env);
	_exit(errno == ENOENT ? 127 : 126);
}

int spawn_start(const struct spawn_child *c, pid_t *pid, struct err *e)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t parent = getpid(), p;

	*pid = -1;
	if (c->env == NULL) {
		if (devnull >= 0)
			close(devnull);
		return err_set(e, "spawn: '%s' given no environment (a child's is always explicit)",
			c->path);
	}
	if (devnull < 0)
		return err_set(e, "unable to open '/dev/null': %s", strerror(errno));
	fflush(NULL);
	p = fork();
	if (p < 0) {
		close(devnull);
		return err_set(e, "unable to fork to run '%s': %s", c->path, strerror(errno));
	}
	if (p == 0)
		spawn_child_run(c, devnull, parent);
	close(devnull);
	*pid = p;
	return 0;
}

int spawn_wait(pid_t pid, const char *name, int *status, struct err *e)
{
	int wstatus, code;

	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, "unable to wait for '%s': %s", name, strerror(errno));
	}
	code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (status)
		*status = code;
	if (WIFSIGNALED(wstatus))
		return err_set(e, "'%s' was killed by signal %d", name, WTERMSIG(wstatus));
	if (code == 127)
		return err_set(e, "unable to run '%s': not found", name);
	if (code == 126)
		return err_set(e, "unable to run '%s': it could not be set up (exit status 126)",
			name);
	if (code != 0)
		return err_set(e, "'%s' exited with status %d", name, code);
	return 0;
}

static void spawn_read(int fd, const struct spawn_opts *o)
{
	struct buf line = BUF_INIT;
	char chunk[8192];
	ssize_t n;
	size_t start, i;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (o->on_line == NULL) {
			buf_append(o->out, chunk, (size_t)n);
			continue;
		}
		for (start = 0, i = 0; i < (size_t)n; i++) {
			if (chunk[i] != '\n')
				continue;
			buf_append(&line, chunk + start, i - start);
			o->on_line(buf_str(&line), o->ctx);
			buf_reset(&line);
			start = i + 1;
		}
		buf_append(&line, chunk + start, (size_t)n - start);
	}
	if (o->on_line && line.len)
		o->on_line(buf_str(&line), o->ctx);
	buf_release(&line);
}

/* Whether "NAME=value" or "NAME" names the variable kv sets. */
static int same_name(const char *kv, const char *name)
{
	size_t n = strcspn(name, "=");

	return strncmp(kv, name, n) == 0 && kv[n] == '=';
}

/* The caller's environment with env_add applied; the array is freed, not its strings. */
static const char **env_with(const char *const *add)
{
	size_t n = 0, m = 0, i, k;
	const char **env;

	while (environ[n] != NULL)
		n++;
	while (add && add[m] != NULL)
		m++;
	env = xcalloc(n + m + 1, sizeof(*env));
	n = 0;
	for (i = 0; environ[i] != NULL; i++) {
		int replaced = 0;

		for (k = 0; k < m && !replaced; k++)
			replaced = same_name(environ[i], add[k]);
		if (!replaced)
			env[n++] = environ[i];
	}
	for (k = 0; k < m; k++)
		if (strchr(add[k], '=') != NULL)
			env[n++] = add[k];
	env[n] = NULL;
	return env;
}

int spawn_run(char *const argv[], const struct spawn_opts *opts, int *status, struct err *e)
{
	static const struct spawn_opts none;
	const struct spawn_opts *o = opts ? opts : &none;
	struct spawn_child c = { .path = argv[0], .argv = argv, .fd_in = 0, .fd_out = 1,
		.fd_err = 2, .cwd = o->cwd };
	int capture = o->on_line != NULL || o->out != NULL;
	int pipefd[2] = { -1, -1 }, logfd = -1, ret;
	const char **env = NULL;
	pid_t pid;

	if (o->cwd != NULL && access(o->cwd, X_OK) < 0)
		return err_set(e, "unable to enter '%s' to run '%s': %s", o->cwd, argv[0],
			strerror(errno));
	if (o->log_path != NULL) {
		logfd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd < 0)
			return err_set(e, "unable to open '%s': %s", o->log_path, strerror(errno));
		c.fd_out = c.fd_err = logfd;
	}
	if (o->stderr_null)
		c.fd_err = -1;
	if (capture && pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = err_set(e, "unable to create a pipe: %s", strerror(errno));
		goto out;
	}
	if (capture)
		c.fd_out = pipefd[1];
	c.env = o->env ? o->env : (env = env_with(o->env_add));
	ret = spawn_start(&c, &pid, e);
	if (ret < 0)
		goto out;
	if (capture) {
		close(pipefd[1]);
		pipefd[1] = -1;
		spawn_read(pipefd[0], o);
	}
	ret = spawn_wait(pid, argv[0], status, e);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (logfd >= 0)
		close(logfd);
	free(env);
	return ret;
}
