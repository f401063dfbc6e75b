/*
 * route53/internal.h: private to route53/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use route53.h.
 */
#ifndef CALIBER_LC_ROUTE53_INTERNAL_H
#define CALIBER_LC_ROUTE53_INTERNAL_H

#include "core/router.h"
#include "route53.h"

int r53_init(struct lc_server *srv, struct err *e);
int r53_create_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_list_hosted_zones(struct lc_request *req, struct lc_response *res);
int r53_list_hosted_zones_by_name(struct lc_request *req, struct lc_response *res);
int r53_get_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_delete_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_change_resource_record_sets(struct lc_request *req, struct lc_response *res);
int r53_list_resource_record_sets(struct lc_request *req, struct lc_response *res);
int r53_get_change(struct lc_request *req, struct lc_response *res);

#endif
