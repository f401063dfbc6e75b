/*
 * spawn.c: fork/exec with a pipe for standard output.
 */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "spawn.h"

extern char **environ;

static void spawn_child(char *const argv[], const struct spawn_opts *o, int out_fd)
{
	size_t i;

	if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	if (o->log_path != NULL) {
		int fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
	}
	if (o->stderr_null) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
	}
	if (o->cwd && chdir(o->cwd) < 0) {
		fprintf(stderr, "caliber: error: cannot enter '%s': %s\n", o->cwd, strerror(errno));
		_exit(127);
	}
	for (i = 0; o->env_add && o->env_add[i]; i++) {
		if (strchr(o->env_add[i], '='))
			putenv((char *)o->env_add[i]);
		else
			unsetenv(o->env_add[i]);
	}
	signal(SIGPIPE, SIG_DFL);
	/* nothing of the caller's but 0, 1 and 2, whatever was opened without O_CLOEXEC */
	close_range(3, ~0U, 0);
	if (o->env != NULL)
		execvpe(argv[0], argv, (char *const *)o->env);
	else
		execvp(argv[0], argv);
	fprintf(stderr, "caliber: error: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
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

int spawn_run(char *const argv[], const struct spawn_opts *opts, int *status, struct err *e)
{
	static const struct spawn_opts none;
	const struct spawn_opts *o = opts ? opts : &none;
	int capture = o->on_line != NULL || o->out != NULL;
	int pipefd[2] = { -1, -1 };
	int wstatus, code;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (capture && pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(e, "cannot create a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		if (capture) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return err_set(e, "cannot fork to run '%s': %s", argv[0], strerror(errno));
	}
	if (pid == 0)
		spawn_child(argv, o, capture ? pipefd[1] : -1);
	if (capture) {
		close(pipefd[1]);
		spawn_read(pipefd[0], o);
		close(pipefd[0]);
	}
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, "waiting for '%s': %s", argv[0], strerror(errno));
	}
	code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (status)
		*status = code;
	if (WIFSIGNALED(wstatus))
		return err_set(e, "'%s' was killed by signal %d", argv[0], WTERMSIG(wstatus));
	if (code == 127)
		return err_set(e, "cannot run '%s': not found in PATH", argv[0]);
	if (code != 0)
		return err_set(e, "'%s' exited with status %d", argv[0], code);
	return 0;
}
