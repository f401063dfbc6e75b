/*
 * iam/iam.h: what other parts of caliberd may use of IAM: its row in the
 * catalogue.  Its handlers are private to iam/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_IAM_H
#define CALIBER_LC_IAM_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service iam_service;

#endif
