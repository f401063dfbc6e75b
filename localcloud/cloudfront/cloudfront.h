/*
 * cloudfront/cloudfront.h: what other parts of caliberd may call in
 * cloudfront.  Its handlers and route rows are private to cloudfront/
 * (internal.h, routes.c).
 */
#ifndef CALIBER_LC_CLOUDFRONT_H
#define CALIBER_LC_CLOUDFRONT_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service cf_service;

/* 1 and the id when domain ("dxxxx.cloudfront.net") is a distribution's; 0 none; -1 error.
 * Call inside a store transaction. */
int cf_distribution_for_domain(struct lc_server *srv, const char *domain, char *id,
	size_t id_len);

#endif
