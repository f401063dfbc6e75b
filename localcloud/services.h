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
/*
 * Before caliberd closes its store (after the HTTP front stopped): keep the
 * workers off the store and stop the database servers.
 */
void rds_shutdown(void);
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
/*
 * For caliberd's other modules (the local stack API): the same operations
 * without HTTP, with the API's validation; errors fill e with
 * "Code: message" (e->usage set for the caller's faults).
 *
 * rds_instance_create() returns at once (the instance is 'creating');
 * rds_instance_endpoint() gives its status ("available" once it serves),
 * its port on 127.0.0.1 and, for a managed master password, the secret's
 * ARN (caller frees): 1 found, 0 not, -1 error.
 */
struct rds_instance_spec {
	const char *id;			/* DBInstanceIdentifier */
	const char *region;		/* NULL: us-east-1 */
	const char *master_user;
	const char *master_password;	/* NULL: managed, in a Secrets Manager secret */
	const char *db_name;		/* NULL: only 'postgres' */
	int retention;			/* BackupRetentionPeriod, days (0 to 35) */
	const char *subnet_group;	/* recorded only; NULL: none */
};
int rds_instance_create(struct lc_server *srv, const struct rds_instance_spec *spec,
	struct err *e);
int rds_instance_endpoint(struct lc_server *srv, const char *id, char *status, size_t status_len,
	int *port, char **secret_arn, struct err *e);
/* Delete (final_snapshot NULL: skip the final snapshot); returns at once ('deleting'). */
int rds_instance_delete(struct lc_server *srv, const char *id, const char *final_snapshot,
	struct err *e);

#endif
