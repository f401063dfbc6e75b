/*
 * fsutil.h: the two file-system chores every part of caliber needs done
 * the same careful way.
 *
 * fsutil_write_atomic(): replace a file so that a reader (or a machine
 * that lost power) sees the old content or the new, never half: write a
 * temporary file beside it, fsync it, rename it over path, fsync the
 * directory.  The temporary file is created with mode (the umask applies,
 * as for open()) and removed on any failure.
 *
 * fsutil_remove_tree(): rm -rf, best effort: directories are made
 * writable first (an image's read-only tree), symbolic links are removed,
 * never followed.
 */
#ifndef CALIBER_FSUTIL_H
#define CALIBER_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* 0, or -1 with e naming the file and the system's reason. */
int fsutil_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	struct err *e);

/* Remove path and everything below it; a missing path is not an error. */
void fsutil_remove_tree(const char *path);

#endif
