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

/* svc-rds.c */
int rds_init(struct lc_server *srv, struct err *e);
int rds_create_db_instance(struct lc_request *req, struct lc_response *res);
int rds_describe_db_instances(struct lc_request *req, struct lc_response *res);
int rds_modify_db_instance(struct lc_request *req, struct lc_response *res);
int rds_reboot_db_instance(struct lc_request *req, struct lc_response *res);
int rds_delete_db_instance(struct lc_request *req, struct lc_response *res);
int rds_create_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_describe_db_snapshots(struct lc_request *req, struct lc_response *res);
int rds_delete_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_restore_db_instance_from_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_restore_db_instance_to_point_in_time(struct lc_request *req, struct lc_response *res);

#endif
