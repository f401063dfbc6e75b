/*
 * rds/routes.c: RDS for PostgreSQL's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

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
