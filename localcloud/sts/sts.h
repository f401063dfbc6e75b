/*
 * sts/sts.h: what other parts of caliberd may use of STS: its row in the
 * catalogue.  Its handlers are private to sts/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_STS_H
#define CALIBER_LC_STS_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service sts_service;

#endif
