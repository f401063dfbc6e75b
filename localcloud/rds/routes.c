/*
 * rds/routes.c: RDS for PostgreSQL's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "cluster.h"
#include "internal.h"

static const struct lc_route rds_routes[] = {
	{ .service = "rds", .operation = "CreateDBInstance", .typed = rds_create_db_instance },
	{ .service = "rds", .operation = "DescribeDBInstances",
		.typed = rds_describe_db_instances },
	{ .service = "rds", .operation = "ModifyDBInstance", .typed = rds_modify_db_instance },
	{ .service = "rds", .operation = "RebootDBInstance", .typed = rds_reboot_db_instance },
	{ .service = "rds", .operation = "DeleteDBInstance", .typed = rds_delete_db_instance },
	{ .service = "rds", .operation = "CreateDBSnapshot", .typed = rds_create_db_snapshot },
	{ .service = "rds", .operation = "DescribeDBSnapshots",
		.typed = rds_describe_db_snapshots },
	{ .service = "rds", .operation = "DeleteDBSnapshot", .typed = rds_delete_db_snapshot },
	{ .service = "rds", .operation = "RestoreDBInstanceFromDBSnapshot",
		.typed = rds_restore_db_instance_from_db_snapshot },
	{ .service = "rds", .operation = "RestoreDBInstanceToPointInTime",
		.typed = rds_restore_db_instance_to_point_in_time },
	/* DocumentDB (cluster-api.c, on the codec); its instances go through the rows above */
	{ .service = "rds", .operation = "CreateDBCluster", .typed = cluster_create_db_cluster },
	{ .service = "rds", .operation = "DescribeDBClusters",
		.typed = cluster_describe_db_clusters },
	{ .service = "rds", .operation = "ModifyDBCluster", .typed = cluster_modify_db_cluster },
	{ .service = "rds", .operation = "DeleteDBCluster", .typed = cluster_delete_db_cluster },
	{ .service = "rds", .operation = "CreateDBClusterSnapshot",
		.typed = cluster_create_db_cluster_snapshot },
	{ .service = "rds", .operation = "DescribeDBClusterSnapshots",
		.typed = cluster_describe_db_cluster_snapshots },
	{ .service = "rds", .operation = "DeleteDBClusterSnapshot",
		.typed = cluster_delete_db_cluster_snapshot },
	{ .service = "rds", .operation = "RestoreDBClusterFromSnapshot",
		.typed = cluster_restore_db_cluster_from_snapshot },
	{ .service = "rds", .operation = "RestoreDBClusterToPointInTime",
		.typed = cluster_restore_db_cluster_to_point_in_time },
	{ .service = "rds", .operation = "CreateDBSubnetGroup",
		.typed = cluster_create_db_subnet_group },
	{ .service = "rds", .operation = "DescribeDBSubnetGroups",
		.typed = cluster_describe_db_subnet_groups },
	{ .service = "rds", .operation = "ModifyDBSubnetGroup",
		.typed = cluster_modify_db_subnet_group },
	{ .service = "rds", .operation = "DeleteDBSubnetGroup",
		.typed = cluster_delete_db_subnet_group },
	{ .service = "rds", .operation = "CreateDBClusterParameterGroup",
		.typed = cluster_create_db_cluster_parameter_group },
	{ .service = "rds", .operation = "DescribeDBClusterParameterGroups",
		.typed = cluster_describe_db_cluster_parameter_groups },
	{ .service = "rds", .operation = "DescribeDBClusterParameters",
		.typed = cluster_describe_db_cluster_parameters },
	{ .service = "rds", .operation = "ModifyDBClusterParameterGroup",
		.typed = cluster_modify_db_cluster_parameter_group },
	{ .service = "rds", .operation = "ResetDBClusterParameterGroup",
		.typed = cluster_reset_db_cluster_parameter_group },
	{ .service = "rds", .operation = "DeleteDBClusterParameterGroup",
		.typed = cluster_delete_db_cluster_parameter_group },
	{ .service = "rds", .operation = "AddTagsToResource", .typed = cluster_add_tags_to_resource },
	{ .service = "rds", .operation = "RemoveTagsFromResource",
		.typed = cluster_remove_tags_from_resource },
	{ .service = "rds", .operation = "ListTagsForResource",
		.typed = cluster_list_tags_for_resource },
};

const struct lc_service rds_service = {
	.name = "rds",
	.protocol = LC_PROTO_QUERY,
	.xmlns = "http://rds.amazonaws.com/doc/2014-10-31/",
	.max_body = 1 * LC_MIB,
	.init = rds_init,
	.routes = rds_routes,
	.n_routes = ARRAY_SIZE(rds_routes),
};
