/*
 * rds/routes.c: RDS for PostgreSQL's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route rds_routes[] = {
	{ "rds", "CreateDBInstance", rds_create_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DescribeDBInstances", rds_describe_db_instances, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "ModifyDBInstance", rds_modify_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "RebootDBInstance", rds_reboot_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DeleteDBInstance", rds_delete_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "CreateDBSnapshot", rds_create_db_snapshot, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DescribeDBSnapshots", rds_describe_db_snapshots, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DeleteDBSnapshot", rds_delete_db_snapshot, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "RestoreDBInstanceFromDBSnapshot", rds_restore_db_instance_from_db_snapshot, NULL,
		NULL, NULL, NULL, 0 },
	{ "rds", "RestoreDBInstanceToPointInTime", rds_restore_db_instance_to_point_in_time, NULL,
		NULL, NULL, NULL, 0 },
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
