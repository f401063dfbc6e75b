/*
 * ec2/ec2.h: what other parts of caliberd may use of EC2: its row in the
 * catalogue.  Its handlers are private to ec2/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_EC2_H
#define CALIBER_LC_EC2_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service ec2_service;

#endif
