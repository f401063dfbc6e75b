/*
 * ecs-addr.c: claim a block of task addresses for this local cloud.
 *
 * Each block has a lock file, /var/lib/caliber/ecs-blocks/B.lock, held with
 * flock() by the caliberd that uses 127.B/16: the kernel drops the lock when
 * that caliberd ends, kill -9 included, so no stale claim outlives it.  The
 * block last used is remembered in $CALIBER_HOME/ecs-address-block, so a
 * restart keeps its addresses when it can.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "caliberd.h"
#include "ecs-addr.h"

#define ECS_ADDR_ROOT "/var/lib/caliber"
#define ECS_ADDR_DIR ECS_ADDR_ROOT "/ecs-blocks"

static int ecs_addr_fd = -1;
static int ecs_addr_claimed;

/* Take block b's lock: 1 taken, 0 held by another local cloud, -1 error. */
static int ecs_addr_try(int b, struct err *e)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), ECS_ADDR_DIR "/%d.lock", b);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, "unable to open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		close(fd);
		return busy ? 0 : err_set(e, "unable to lock '%s': %s", path, strerror(errno));
	}
	ecs_addr_fd = fd;
	return 1;
}

int ecs_addr_claim(const char *home, struct err *e)
{
	char *remembered = xasprintf("%s/ecs-address-block", home);
	FILE *f = NULL;
	int prev = -1, b, r, ret = -1;

	if (ecs_addr_fd >= 0) {
		free(remembered);
		return 0;
	}

	/* outside $CALIBER_HOME: modes said here, never taken from the umask */
	if ((mkdir(ECS_ADDR_ROOT, 0755) < 0 && errno != EEXIST) ||
		(mkdir(ECS_ADDR_DIR, 0700) < 0 && errno != EEXIST) || chmod(ECS_ADDR_DIR, 0700) < 0) {
		err_set(e, "unable to create '%s': %s", ECS_ADDR_DIR, strerror(errno));
		goto out;
	}
	f = fopen(remembered, "re");
	if (f != NULL) {
		if (fscanf(f, "%d", &prev) != 1 || prev < ECS_ADDR_BLOCK_FIRST ||
			prev > ECS_ADDR_BLOCK_LAST)
			prev = -1;
		fclose(f);
		f = NULL;
	}
	r = prev >= 0 ? ecs_addr_try(prev, e) : 0;
	for (b = ECS_ADDR_BLOCK_FIRST; r == 0 && b <= ECS_ADDR_BLOCK_LAST; b++)
		if (b != prev && (r = ecs_addr_try(b, e)) == 1)
			prev = b;
	if (r < 0)
		goto out;
	if (r == 0) {
		err_set(e,
			"no block of task addresses is free: %d local clouds already run on this"
			" machine (127.%d-%d.x.y); stop one with 'caliber local stop'",
			ECS_ADDR_BLOCK_LAST - ECS_ADDR_BLOCK_FIRST + 1, ECS_ADDR_BLOCK_FIRST,
			ECS_ADDR_BLOCK_LAST);
		goto out;
	}
	/* only a preference for the next start: not worth failing this one */
	f = fopen(remembered, "we");
	if (f == NULL || fprintf(f, "%d\n", prev) < 0)
		lc_log("ecs: unable to write '%s': %s", remembered, strerror(errno));
	if (f != NULL && fclose(f) != 0)
		lc_log("ecs: unable to write '%s': %s", remembered, strerror(errno));
	f = NULL;
	ecs_addr_claimed = prev;
	ret = 0;
out:
	free(remembered);
	return ret;
}

int ecs_addr_block(void)
{
	return ecs_addr_claimed;
}

void ecs_addr_release(void)
{
	if (ecs_addr_fd >= 0)
		close(ecs_addr_fd);
	ecs_addr_fd = -1;
	ecs_addr_claimed = 0;
}
