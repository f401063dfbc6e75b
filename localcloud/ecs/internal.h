/*
 * ecs/internal.h: private to ecs/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use ecs.h.
 */
#ifndef CALIBER_LC_ECS_INTERNAL_H
#define CALIBER_LC_ECS_INTERNAL_H

#include "core/router.h"
#include "ecs.h"

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
