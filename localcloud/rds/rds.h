/*
 * rds/rds.h: what other parts of caliberd may call in rds.  Its handlers and
 * route rows are private to rds/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_RDS_H
#define CALIBER_LC_RDS_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service rds_service;

/*
 * Before caliberd closes its store (after the HTTP front stopped): keep the
 * workers off the store and stop the database servers.
 */
void rds_shutdown(void);

#endif
