/*
 * ecs/routes.c: ECS's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route ecs_routes[] = {
	{ .service = "ecs", .operation = "CreateCluster", .handler = ecs_create_cluster },
	{ .service = "ecs", .operation = "DescribeClusters", .handler = ecs_describe_clusters },
	{ .service = "ecs", .operation = "ListClusters", .handler = ecs_list_clusters },
	{ .service = "ecs", .operation = "DeleteCluster", .handler = ecs_delete_cluster },
	{ .service = "ecs", .operation = "RegisterTaskDefinition",
		.handler = ecs_register_task_definition },
	{ .service = "ecs", .operation = "DeregisterTaskDefinition",
		.handler = ecs_deregister_task_definition },
	{ .service = "ecs", .operation = "DescribeTaskDefinition",
		.handler = ecs_describe_task_definition },
	{ .service = "ecs", .operation = "ListTaskDefinitions",
		.handler = ecs_list_task_definitions },
	{ .service = "ecs", .operation = "ListTaskDefinitionFamilies",
		.handler = ecs_list_task_definition_families },
	{ .service = "ecs", .operation = "CreateService", .handler = ecs_create_service },
	{ .service = "ecs", .operation = "UpdateService", .handler = ecs_update_service },
	{ .service = "ecs", .operation = "DeleteService", .handler = ecs_delete_service },
	{ .service = "ecs", .operation = "DescribeServices", .handler = ecs_describe_services },
	{ .service = "ecs", .operation = "ListServices", .handler = ecs_list_services },
	{ .service = "ecs", .operation = "RunTask", .handler = ecs_run_task },
	{ .service = "ecs", .operation = "DescribeTasks", .handler = ecs_describe_tasks },
	{ .service = "ecs", .operation = "ListTasks", .handler = ecs_list_tasks },
	{ .service = "ecs", .operation = "StopTask", .handler = ecs_stop_task },
};

const struct lc_service ecs_service = {
	.name = "ecs",
	.protocol = LC_PROTO_JSON,
	.target_prefix = "AmazonEC2ContainerServiceV20141113",
	.max_body = 1 * LC_MIB,
	.init = ecs_init,
	.routes = ecs_routes,
	.n_routes = ARRAY_SIZE(ecs_routes),
};
