/*
 * services.h: the handlers and start-up functions of caliberd's services,
 * one section per localcloud/svc-<service>.c.  The rows that route to them
 * are in router.c.
 */
#ifndef CALIBER_LC_SERVICES_H
#define CALIBER_LC_SERVICES_H

#include <sqlite3.h>

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

/* svc-logs.c: CloudWatch Logs */
int logs_init(struct lc_server *srv, struct err *e);
int logs_create_log_group(struct lc_request *req, struct lc_response *res);
int logs_delete_log_group(struct lc_request *req, struct lc_response *res);
int logs_put_retention_policy(struct lc_request *req, struct lc_response *res);
int logs_describe_log_groups(struct lc_request *req, struct lc_response *res);
int logs_create_log_stream(struct lc_request *req, struct lc_response *res);
int logs_describe_log_streams(struct lc_request *req, struct lc_response *res);
int logs_put_log_events(struct lc_request *req, struct lc_response *res);
int logs_get_log_events(struct lc_request *req, struct lc_response *res);
int logs_filter_log_events(struct lc_request *req, struct lc_response *res);
/*
 * For other services (the ECS supervisor), inside the caller's store
 * transaction on db.  logs_group_check: 1 the group exists (created first
 * when create), 0 it does not, -1 error.  logs_append: one event into
 * group/stream (the stream is created when new; the group must exist).
 */
int logs_group_check(sqlite3 *db, const char *region, const char *group, int create);
int logs_append(sqlite3 *db, const char *group, const char *stream, long long ts_ms,
	const char *msg, size_t len);

/* svc-ecs.c: ECS (task definitions, services, tasks as supervised processes) */
int ecs_init(struct lc_server *srv, struct err *e);
int ecs_create_cluster(struct lc_request *req, struct lc_response *res);
int ecs_describe_clusters(struct lc_request *req, struct lc_response *res);
int ecs_list_clusters(struct lc_request *req, struct lc_response *res);
int ecs_delete_cluster(struct lc_request *req, struct lc_response *res);
int ecs_register_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_deregister_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_describe_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_list_task_definitions(struct lc_request *req, struct lc_response *res);
int ecs_list_task_definition_families(struct lc_request *req, struct lc_response *res);
int ecs_create_service(struct lc_request *req, struct lc_response *res);
int ecs_update_service(struct lc_request *req, struct lc_response *res);
int ecs_delete_service(struct lc_request *req, struct lc_response *res);
int ecs_describe_services(struct lc_request *req, struct lc_response *res);
int ecs_list_services(struct lc_request *req, struct lc_response *res);
int ecs_run_task(struct lc_request *req, struct lc_response *res);
int ecs_describe_tasks(struct lc_request *req, struct lc_response *res);
int ecs_list_tasks(struct lc_request *req, struct lc_response *res);
int ecs_stop_task(struct lc_request *req, struct lc_response *res);

#endif
