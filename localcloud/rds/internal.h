/*
 * rds/internal.h: private to rds/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use rds.h.
 */
#ifndef CALIBER_LC_RDS_INTERNAL_H
#define CALIBER_LC_RDS_INTERNAL_H

#include "core/router.h"
#include "rds.h"

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
