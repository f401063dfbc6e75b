/*
 * taskaddr.h: loopback addresses for ECS tasks, unique on the machine.
 *
 * Every task listens on its own address 127.100.b.1 .. 127.100.b.250
 * (Linux routes all of 127/8 to lo).  Several caliberds run on one
 * machine (developers' clouds, test runs beside each other): were two of
 * them to hand out the same address, one cloud's health checker would be
 * answered by the other cloud's task, count a task healthy that is still
 * starting (and then dies on EADDRINUSE), and let a rolling deployment
 * drain the last task that really served the name.  So each caliberd
 * claims whole blocks b (250 addresses) with an flock(2) on a file in a
 * machine-wide directory; the kernel drops the claim when the process
 * ends, kill -9 included, so a block is never held by a daemon that is
 * gone.
 */
#ifndef CALIBER_LC_TASKADDR_H
#define CALIBER_LC_TASKADDR_H

#include <stddef.h>

#include "err.h"

/*
 * Write the next free address of this daemon's blocks into out (at least
 * 16 bytes), skipping addresses for which in_use(addr, arg) returns
 * nonzero (this daemon's live tasks and load balancer targets) and
 * addresses some process listens on already.  Claims a
 * further block when the held ones are full.  Thread-safe.  Returns 0, or
 * -1 with e when no block can be claimed.
 */
int taskaddr_next(int (*in_use)(const char *addr, void *arg), void *arg, char *out, size_t len,
	struct err *e);

/* Give up every claimed block (at shutdown; the process's end does it too). */
void taskaddr_close(void);

#endif
