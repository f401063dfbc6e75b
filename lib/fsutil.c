/*
 * fsutil.c: atomic file replacement and tree removal (see fsutil.h).
 */
#include "compat.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsutil.h"

/* Threads of one process replacing the same file each get their own temporary. */
static unsigned long fsutil_seq;

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so the rename itself is on disk. */
static int sync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int fsutil_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	struct err *e)
{
	unsigned long seq = __atomic_fetch_add(&fsutil_seq, 1, __ATOMIC_RELAXED);
	char *tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(), seq);
	int fd, rc = -1;

	/* a crashed run with the same pid may have left one behind */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(e, "unable to create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		err_set(e, "unable to write '%s': %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		err_set(e, "unable to write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, "unable to rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	if (sync_parent(path) < 0) {
		err_set(e, "unable to sync the directory of '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D)
		chmod(path, 0700);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void fsutil_remove_tree(const char *path)
{
	nftw(path, make_writable, 16, FTW_PHYS);
	nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}
