/*
 * ecs-addr.h: the block of loopback addresses a local cloud's tasks use.
 *
 * Tasks listen on addresses 127.B.x.y; B is claimed machine-wide for as long
 * as caliberd runs (a lock under /var/lib/caliber/ecs-blocks), so two local
 * clouds on one machine never hand out the same address.
 */
#ifndef CALIBER_ECS_ADDR_H
#define CALIBER_ECS_ADDR_H

#include "err.h"

/* the blocks handed out: 127.100/16 .. 127.199/16 */
#define ECS_ADDR_BLOCK_FIRST 100
#define ECS_ADDR_BLOCK_LAST 199

/*
 * Claim a block for the local cloud in home (the one it had before when
 * free, else the first free one) and hold it until ecs_addr_release() or
 * the process ends.  0, or -1 with e filled.
 */
int ecs_addr_claim(const char *home, struct err *e);
/* The block claimed (B in 127.B.x.y); 0 before a claim. */
int ecs_addr_block(void);
void ecs_addr_release(void);

#endif
