/*
 * test-images.c: the local image store: digests depend on content, modes
 * and names only; tags move and digests do not; references resolve or say
 * what is missing.
 */
#include "compat.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "buf.h"
#include "localcloud/images.h"

static char root[] = "/tmp/caliber-test-images-XXXXXX";

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

/* a small tree: app.py, VERSION, lib/util.py, a symlink */
static char *make_tree(const char *name, const char *version)
{
	char *dir = xasprintf("%s/%s", root, name), *lib = xasprintf("%s/lib", dir);
	char *link = xasprintf("%s/current", dir);

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(lib, 0755), 0);
	write_file(dir, "app.py", "print('hi')\n", 0644);
	write_file(dir, "VERSION", version, 0644);
	write_file(lib, "util.py", "X = 1\n", 0644);
	assert_int_equal(symlink("VERSION", link), 0);
	free(lib);
	free(link);
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* the store's directories are read-only: make them writable to remove them */
static int writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D)
		chmod(path, 0700);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, writable, 16, FTW_PHYS);
	nftw(root, rm_one, 16, FTW_PHYS | FTW_DEPTH);
	return 0;
}

static void test_equal_trees_have_equal_digests_and_any_change_gives_another(void **state)
{
	char d1[IMAGES_DIGEST_LEN], d2[IMAGES_DIGEST_LEN], d3[IMAGES_DIGEST_LEN];
	struct err e = ERR_INIT;
	char *a = make_tree("a", "v1\n"), *b = make_tree("b", "v1\n");
	char *c = make_tree("c", "v2\n");

	(void)state;
	assert_int_equal(images_digest(a, d1, &e), 0);
	assert_int_equal(images_digest(b, d2, &e), 0);
	assert_int_equal(images_digest(c, d3, &e), 0);
	assert_string_equal(d1, d2);
	assert_string_not_equal(d1, d3);
	assert_int_equal(strncmp(d1, "sha256:", 7), 0);
	assert_int_equal(strlen(d1), 71);
	/* a mode is content */
	write_file(b, "app.py", "print('hi')\n", 0755);
	assert_int_equal(images_digest(b, d2, &e), 0);
	assert_string_not_equal(d1, d2);
	free(a);
	free(b);
	free(c);
}

static void test_push_stores_read_only_copies_and_tags_move(void **state)
{
	char d1[IMAGES_DIGEST_LEN], d2[IMAGES_DIGEST_LEN], got[IMAGES_DIGEST_LEN];
	char expect[IMAGES_DIGEST_LEN];
	struct err e = ERR_INIT;
	char *home = xasprintf("%s/home", root);
	char *a = make_tree("pa", "v1\n"), *b = make_tree("pb", "v2\n");
	char *rootfs = NULL, *ref = NULL, *file = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(images_push(home, a, "team/api", "live", d1, &e), 0);
	assert_int_equal(images_digest(a, expect, &e), 0);
	assert_string_equal(d1, expect);
	assert_int_equal(images_resolve(home, "team/api:live", &rootfs, got, &e), 0);
	assert_string_equal(got, d1);
	file = xasprintf("%s/lib/util.py", rootfs);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0);
	free(file);
	file = xasprintf("%s/current", rootfs);
	assert_int_equal(lstat(file, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	free(file);
	free(rootfs);
	/* the tag moves; the old digest still resolves */
	assert_int_equal(images_push(home, b, "team/api", "live", d2, &e), 0);
	assert_string_not_equal(d1, d2);
	assert_int_equal(images_resolve(home, "team/api:live", &rootfs, got, &e), 0);
	assert_string_equal(got, d2);
	free(rootfs);
	ref = xasprintf("team/api@%s", d1);
	assert_int_equal(images_resolve(home, ref, &rootfs, got, &e), 0);
	assert_string_equal(got, d1);
	free(rootfs);
	/* pushing the same tree again keeps one copy */
	assert_int_equal(images_push(home, a, "team/api", "again", got, &e), 0);
	assert_string_equal(got, d1);
	free(ref);
	free(home);
	free(a);
	free(b);
}

static void test_references_that_do_not_resolve_say_what_is_missing(void **state)
{
	char d[IMAGES_DIGEST_LEN];
	struct err e = ERR_INIT;
	char *home = xasprintf("%s/home2", root), *rootfs = NULL;

	(void)state;
	assert_int_equal(images_resolve(home, "nosuch:v1", &rootfs, d, &e), -1);
	assert_non_null(strstr(e.msg, "'nosuch:v1' not found"));
	err_clear(&e);
	assert_int_equal(images_resolve(home, "nosuch", &rootfs, d, &e), -1);
	assert_non_null(strstr(e.msg, "'nosuch:latest' not found"));
	err_clear(&e);
	assert_int_equal(images_resolve(home, "x@sha256:1234", &rootfs, d, &e), -1);
	assert_non_null(strstr(e.msg, "invalid image reference"));
	err_clear(&e);
	assert_int_equal(images_resolve(home, "../etc:v1", &rootfs, d, &e), -1);
	assert_null(rootfs);
	assert_false(images_name_valid("Upper"));
	assert_false(images_name_valid("a/../b"));
	assert_false(images_name_valid("/abs"));
	assert_true(images_name_valid("registry.local/team/api-mini"));
	assert_false(images_tag_valid("-x"));
	assert_false(images_tag_valid(""));
	assert_true(images_tag_valid("v1.2_rc-3"));
	assert_int_equal(images_push(home, "/nonexistent-dir", "a", "b", d, &e), -1);
	assert_true(e.usage);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_trees_have_equal_digests_and_any_change_gives_another),
		cmocka_unit_test(test_push_stores_read_only_copies_and_tags_move),
		cmocka_unit_test(test_references_that_do_not_resolve_say_what_is_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
