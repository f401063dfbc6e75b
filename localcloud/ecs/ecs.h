/*
 * ecs/ecs.h: what other parts of caliberd may call in ECS (task definitions,
 * services, tasks as supervised processes).  Its handlers and route rows are
 * private to ecs/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_ECS_H
#define CALIBER_LC_ECS_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service ecs_service;

/*
 * Stop and join the supervisor thread, then stop every task (SIGTERM,
 * SIGKILL after ECS_SHUTDOWN_GRACE seconds): before the edge and the store
 * it uses are closed.
 */
void ecs_shutdown(void);

#endif
