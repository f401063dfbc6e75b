/*
 * cloudfront/internal.h: private to cloudfront/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use cloudfront.h.
 */
#ifndef CALIBER_LC_CLOUDFRONT_INTERNAL_H
#define CALIBER_LC_CLOUDFRONT_INTERNAL_H

#include "core/router.h"
#include "cloudfront.h"

int cf_init(struct lc_server *srv, struct err *e);
int cf_create_distribution(struct lc_request *req, struct lc_response *res);
int cf_get_distribution(struct lc_request *req, struct lc_response *res);
int cf_get_distribution_config(struct lc_request *req, struct lc_response *res);
int cf_list_distributions(struct lc_request *req, struct lc_response *res);
int cf_update_distribution(struct lc_request *req, struct lc_response *res);
int cf_delete_distribution(struct lc_request *req, struct lc_response *res);
int cf_create_invalidation(struct lc_request *req, struct lc_response *res);
int cf_get_invalidation(struct lc_request *req, struct lc_response *res);
int cf_list_invalidations(struct lc_request *req, struct lc_response *res);

#endif
