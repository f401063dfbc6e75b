/*
 * ecs/routes.c: ECS's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route ecs_routes[] = {
	{ "ecs", "CreateCluster", ecs_create_cluster, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeClusters", ecs_describe_clusters, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListClusters", ecs_list_clusters, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DeleteCluster", ecs_delete_cluster, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "RegisterTaskDefinition", ecs_register_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "DeregisterTaskDefinition", ecs_deregister_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "DescribeTaskDefinition", ecs_describe_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "ListTaskDefinitions", ecs_list_task_definitions, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListTaskDefinitionFamilies", ecs_list_task_definition_families, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "CreateService", ecs_create_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "UpdateService", ecs_update_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DeleteService", ecs_delete_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeServices", ecs_describe_services, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListServices", ecs_list_services, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "RunTask", ecs_run_task, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeTasks", ecs_describe_tasks, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListTasks", ecs_list_tasks, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "StopTask", ecs_stop_task, NULL, NULL, NULL, NULL, 0 },
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
