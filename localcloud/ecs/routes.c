/*
 * ecs/routes.c: ECS's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route ecs_routes[] = {
	{ .service = "ecs", .operation = "CreateCluster", .typed = ecs_create_cluster },
	{ .service = "ecs", .operation = "DescribeClusters", .typed = ecs_describe_clusters },
	{ .service = "ecs", .operation = "ListClusters", .typed = ecs_list_clusters },
	{ .service = "ecs", .operation = "DeleteCluster", .typed = ecs_delete_cluster },
	{ .service = "ecs", .operation = "RegisterTaskDefinition",
		.typed = ecs_register_task_definition },
	{ .service = "ecs", .operation = "DeregisterTaskDefinition",
		.typed = ecs_deregister_task_definition },
	{ .service = "ecs", .operation = "DescribeTaskDefinition",
		.typed = ecs_describe_task_definition },
	{ .service = "ecs", .operation = "ListTaskDefinitions",
		.typed = ecs_list_task_definitions },
	{ .service = "ecs", .operation = "ListTaskDefinitionFamilies",
		.typed = ecs_list_task_definition_families },
	{ .service = "ecs", .operation = "CreateService", .typed = ecs_create_service },
	{ .service = "ecs", .operation = "UpdateService", .typed = ecs_update_service },
	{ .service = "ecs", .operation = "DeleteService", .typed = ecs_delete_service },
	{ .service = "ecs", .operation = "DescribeServices", .typed = ecs_describe_services },
	{ .service = "ecs", .operation = "ListServices", .typed = ecs_list_services },
	{ .service = "ecs", .operation = "RunTask", .typed = ecs_run_task },
	{ .service = "ecs", .operation = "DescribeTasks", .typed = ecs_describe_tasks },
	{ .service = "ecs", .operation = "ListTasks", .typed = ecs_list_tasks },
	{ .service = "ecs", .operation = "StopTask", .typed = ecs_stop_task },
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
