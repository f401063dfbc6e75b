/*
 * test-spawn.c: the one helper every child goes through (lib/spawn.c):
 * its environment is exactly the one given, it gets no descriptor of ours
 * above stderr, a failed setup or a missing program is told apart, and
 * spawn_run() still reads what a tool prints.
 */
#include "compat.h"

#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>

#include "spawn.h"

/* Run c with stdout into a pipe; returns what it printed (caller frees). */
static char *run_capture(struct spawn_child *c, int *status)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char chunk[4096];
	int p[2];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	c->fd_out = p[1];
	assert_int_equal(spawn_start(c, &pid, &e), 0);
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		buf_append(&out, chunk, (size_t)n);
	close(p[0]);
	spawn_wait(pid, c->path, status, &e);
	return buf_detach(&out);
}

static void test_the_child_gets_exactly_the_environment_given(void **state)
{
	static const char *const env[] = { "ONLY=this", "PATH=/usr/bin:/bin", NULL };
	char *argv[] = { "/usr/bin/env", NULL };
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = env, .fd_in = -1,
		.fd_err = -1 };
	int status = -1;
	char *out;

	(void)state;
	setenv("AWS_SECRET_ACCESS_KEY", "operator-secret-in-the-parent", 1);
	out = run_capture(&c, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "ONLY=this\nPATH=/usr/bin:/bin\n");
	free(out);
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

static void test_an_implied_environment_is_refused(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	struct spawn_child c = { .path = argv[0], .argv = argv, .fd_in = -1, .fd_out = -1,
		.fd_err = -1 };
	struct err e = ERR_INIT;
	pid_t pid;

	(void)state;
	assert_int_equal(spawn_start(&c, &pid, &e), -1);
	assert_non_null(strstr(e.msg, "no environment"));
	assert_int_equal(pid, -1);
}

static void test_no_descriptor_of_the_parent_reaches_the_child(void **state)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	char *argv[] = { "/bin/ls", "/proc/self/fd", NULL };
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = env, .fd_in = -1,
		.fd_err = -1 };
	/* opened without O_CLOEXEC on purpose, as a careless library would */
	int leak = open("/dev/null", O_RDONLY);
	int status = -1;
	char *out, *line, *save = NULL;
	int n = 0;

	(void)state;
	assert_true(leak > 2);
	out = run_capture(&c, &status);
	assert_int_equal(status, 0);
	/* 0, 1, 2 and the directory ls itself reads */
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n++;
	assert_int_equal(n, 4);
	free(out);
	close(leak);
}

static int setup_fails(void *ctx)
{
	(void)ctx;
	return -1;
}

static void test_a_failed_setup_and_a_missing_program_are_told_apart(void **state)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	char *argv[] = { "/bin/true", NULL };
	char *missing[] = { "/nonexistent/program", NULL };
	struct spawn_child c = { .path = argv[0], .argv = argv, .env = env, .fd_in = -1,
		.fd_out = -1, .fd_err = -1, .setup = setup_fails };
	struct err e = ERR_INIT;
	int status = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(spawn_start(&c, &pid, &e), 0);
	assert_int_equal(spawn_wait(pid, "true", &status, &e), -1);
	assert_int_equal(status, 126);
	assert_non_null(strstr(e.msg, "could not be set up"));

	err_clear(&e);
	c.setup = NULL;
	c.path = missing[0];
	c.argv = missing;
	assert_int_equal(spawn_start(&c, &pid, &e), 0);
	assert_int_equal(spawn_wait(pid, missing[0], &status, &e), -1);
	assert_int_equal(status, 127);
	assert_non_null(strstr(e.msg, "not found"));
}

static void test_spawn_run_reads_lines_and_applies_env_add(void **state)
{
	static const char *const add[] = { "CALIBER_SPAWN_TEST=added", "HOME", NULL };
	char *argv[] = { "sh", "-c", "echo \"$CALIBER_SPAWN_TEST ${HOME:-unset}\"; exit 3", NULL };
	struct buf out = BUF_INIT;
	struct spawn_opts o = { .env_add = add, .out = &out };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	assert_int_equal(spawn_run(argv, &o, &status, &e), -1);
	assert_int_equal(status, 3);
	assert_non_null(strstr(e.msg, "exited with status 3"));
	assert_string_equal(buf_str(&out), "added unset\n");
	buf_release(&out);

	err_clear(&e);
	o.cwd = "/nonexistent/dir";
	assert_int_equal(spawn_run(argv, &o, &status, &e), -1);
	assert_non_null(strstr(e.msg, "'/nonexistent/dir'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_child_gets_exactly_the_environment_given),
		cmocka_unit_test(test_an_implied_environment_is_refused),
		cmocka_unit_test(test_no_descriptor_of_the_parent_reaches_the_child),
		cmocka_unit_test(test_a_failed_setup_and_a_missing_program_are_told_apart),
		cmocka_unit_test(test_spawn_run_reads_lines_and_applies_env_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
