/*
 * services.h: the handlers and start-up functions of caliberd's services,
 * one section per localcloud/svc-<service>.c.  The rows that route to them
 * are in router.c.
 */
#ifndef CALIBER_LC_SERVICES_H
#define CALIBER_LC_SERVICES_H

#include "router.h"

/* svc-secretsmanager.c */
int sm_init(struct lc_server *srv, struct err *e);
int sm_create_secret(struct lc_request *req, struct lc_response *res);
int sm_put_secret_value(struct lc_request *req, struct lc_response *res);
int sm_get_secret_value(struct lc_request *req, struct lc_response *res);
int sm_describe_secret(struct lc_request *req, struct lc_response *res);
int sm_list_secrets(struct lc_request *req, struct lc_response *res);
int sm_list_secret_version_ids(struct lc_request *req, struct lc_response *res);
int sm_update_secret(struct lc_request *req, struct lc_response *res);
int sm_update_secret_version_stage(struct lc_request *req, struct lc_response *res);
int sm_delete_secret(struct lc_request *req, struct lc_response *res);
int sm_restore_secret(struct lc_request *req, struct lc_response *res);
int sm_tag_resource(struct lc_request *req, struct lc_response *res);
int sm_untag_resource(struct lc_request *req, struct lc_response *res);

#endif
