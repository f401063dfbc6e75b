/*
 * logs/routes.c: CloudWatch Logs's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route logs_routes[] = {
	{ .service = "logs", .operation = "CreateLogGroup", .typed = logs_create_log_group },
	{ .service = "logs", .operation = "DeleteLogGroup", .typed = logs_delete_log_group },
	{ .service = "logs", .operation = "PutRetentionPolicy",
		.typed = logs_put_retention_policy },
	{ .service = "logs", .operation = "DescribeLogGroups", .typed = logs_describe_log_groups },
	{ .service = "logs", .operation = "CreateLogStream", .typed = logs_create_log_stream },
	{ .service = "logs", .operation = "DescribeLogStreams",
		.typed = logs_describe_log_streams },
	{ .service = "logs", .operation = "PutLogEvents", .typed = logs_put_log_events },
	{ .service = "logs", .operation = "GetLogEvents", .typed = logs_get_log_events },
	{ .service = "logs", .operation = "FilterLogEvents", .typed = logs_filter_log_events },
	{ .service = "logs", .operation = "ListTagsForResource",
		.typed = logs_list_tags_for_resource },
	{ .service = "logs", .operation = "ListTagsLogGroup", .typed = logs_list_tags_log_group },
	{ .service = "logs", .operation = "TagResource", .typed = logs_tag_resource },
	{ .service = "logs", .operation = "UntagResource", .typed = logs_untag_resource },
};

const struct lc_service logs_service = {
	.name = "logs",
	.protocol = LC_PROTO_JSON,
	.target_prefix = "Logs_20140328",
	.max_body = 1 * LC_MIB,
	.init = logs_init,
	.routes = logs_routes,
	.n_routes = ARRAY_SIZE(logs_routes),
};
