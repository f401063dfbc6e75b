/*
 * logs/routes.c: CloudWatch Logs's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route logs_routes[] = {
	{ "logs", "CreateLogGroup", logs_create_log_group, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "DeleteLogGroup", logs_delete_log_group, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "PutRetentionPolicy", logs_put_retention_policy, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "DescribeLogGroups", logs_describe_log_groups, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "CreateLogStream", logs_create_log_stream, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "DescribeLogStreams", logs_describe_log_streams, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "PutLogEvents", logs_put_log_events, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "GetLogEvents", logs_get_log_events, NULL, NULL, NULL, NULL, 0 },
	{ "logs", "FilterLogEvents", logs_filter_log_events, NULL, NULL, NULL, NULL, 0 },
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
