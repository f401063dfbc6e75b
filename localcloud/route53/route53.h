/*
 * route53/route53.h: what other parts of caliberd may call in route53.  Its
 * handlers and route rows are private to route53/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_ROUTE53_H
#define CALIBER_LC_ROUTE53_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service r53_service;

#endif
