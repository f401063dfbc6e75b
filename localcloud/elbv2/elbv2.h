/*
 * elbv2/elbv2.h: what other parts of caliberd may call in Elastic Load
 * Balancing v2, realised by the edge.  Its handlers and route rows are
 * private to elbv2/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_ELBV2_H
#define CALIBER_LC_ELBV2_H

#include <sqlite3.h>

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service elb_service;

/* Stop and join the target health checker (before the edge and the store close). */
void elb_shutdown(void);
/*
 * For the ECS supervisor, inside its transaction on db: register a task's
 * address as a target (state initial until its health checks pass); start
 * draining every target at ip (why, for the log: the task's stop reason)
 * and say whether some still drain (1) or all are gone (0).  *changed is
 * set when the edge must be re-synced.
 */
int elb_target_register(sqlite3 *db, const char *tg, const char *ip, long port);
int elb_targets_drain(sqlite3 *db, const char *ip, double now, const char *why, int *changed);

#endif
