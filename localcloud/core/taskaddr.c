/*
 * taskaddr.c: task addresses claimed machine-wide (see taskaddr.h).
 */
#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "taskaddr.h"

#define TASKADDR_BLOCKS 250	/* 127.100.0.x .. 127.100.249.x */
#define TASKADDR_PER_BLOCK 250	/* x = 1 .. 250 */
/* far more than CALIBER_ECS_MAX_TASKS lets run at once */
#define TASKADDR_MAX_HELD 64

static pthread_mutex_t taskaddr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int block, fd;
} held[TASKADDR_MAX_HELD];
static size_t n_held;
static size_t cursor; /* over held blocks x addresses: the next one to try */

/* The machine-wide directory of claims (CALIBER_TASK_ADDRESS_DIR overrides it). */
static const char *claims_dir(void)
{
	const char *d = getenv("CALIBER_TASK_ADDRESS_DIR");

	return d && *d ? d : "/tmp/caliber-task-addresses";
}

/* Under taskaddr_lock: claim the first block nobody holds. */
static int block_claim(struct err *e)
{
	const char *dir = claims_dir();
	int b;

	if (n_held == TASKADDR_MAX_HELD)
		return err_set(e, "no task address left: %d blocks of %d addresses are in use",
			TASKADDR_MAX_HELD, TASKADDR_PER_BLOCK);
	/* every user's caliberd claims here: sticky and open to all, like /tmp */
	if (mkdir(dir, 01777) == 0)
		chmod(dir, 01777);
	else if (errno != EEXIST)
		return err_set(e, "unable to create '%s': %s", dir, strerror(errno));
	for (b = 0; b < TASKADDR_BLOCKS; b++) {
		char path[4096];
		size_t i;
		int fd, mine = 0;

		for (i = 0; i < n_held; i++)
			mine |= held[i].block == b;
		if (mine)
			continue;
		snprintf(path, sizeof(path), "%s/127.100.%d.lock", dir, b);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd < 0)
			continue; /* another user's file we may not open: not ours to use */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;
		}
		fchmod(fd, 0666);
		held[n_held].block = b;
		held[n_held].fd = fd;
		n_held++;
		return 0;
	}
	return err_set(e, "no task address block free in '%s': other caliberds hold all %d",
		dir, TASKADDR_BLOCKS);
}

/*
 * Does anything listen on addr (any port)?  A process that is no task of
 * a caliberd (or of one that predates the claims) may sit there: a task
 * put beside it would not bind, and its health checks would be answered
 * by the stranger.
 */
static int listened_on(const char *addr)
{
	FILE *f = fopen("/proc/net/tcp", "re");
	char line[512];
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long ip = 0;
		unsigned int port = 0, state = 0;
		struct in_addr in;
		char text[INET_ADDRSTRLEN];
		uint32_t raw;

		if (sscanf(line, " %*d: %lx:%x %*x:%*x %x", &ip, &port, &state) != 3 ||
			state != 0x0A /* TCP_LISTEN */)
			continue;
		/* the kernel prints the address as the word it stores: network order in memory */
		raw = (uint32_t)ip;
		memcpy(&in.s_addr, &raw, sizeof(raw));
		if (inet_ntop(AF_INET, &in, text, sizeof(text)) && !strcmp(text, addr))
			found = 1;
	}
	fclose(f);
	return found;
}

int taskaddr_next(int (*in_use)(const char *addr, void *arg), void *arg, char *out, size_t len,
	struct err *e)
{
	int rc = -1;

	pthread_mutex_lock(&taskaddr_lock);
	for (;;) {
		size_t total = n_held * TASKADDR_PER_BLOCK, k;

		/* round robin: an address just freed is the last to come back */
		for (k = 0; k < total; k++) {
			size_t at = (cursor + k) % total;

			snprintf(out, len, "127.100.%d.%zu", held[at / TASKADDR_PER_BLOCK].block,
				at % TASKADDR_PER_BLOCK + 1);
			if (!in_use(out, arg) && !listened_on(out)) {
				cursor = at + 1;
				rc = 0;
				goto out;
			}
		}
		if (block_claim(e) < 0)
			goto out;
		cursor = total; /* the first address of the new block */
	}
out:
	pthread_mutex_unlock(&taskaddr_lock);
	return rc;
}

void taskaddr_close(void)
{
	pthread_mutex_lock(&taskaddr_lock);
	for (size_t i = 0; i < n_held; i++)
		close(held[i].fd);
	n_held = 0;
	cursor = 0;
	pthread_mutex_unlock(&taskaddr_lock);
}
