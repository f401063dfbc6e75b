/*
 * secretsmanager/routes.c: Secrets Manager's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route sm_routes[] = {
	{ .service = "secretsmanager", .operation = "CreateSecret", .typed = sm_create_secret },
	{ .service = "secretsmanager", .operation = "PutSecretValue",
		.typed = sm_put_secret_value },
	{ .service = "secretsmanager", .operation = "GetSecretValue",
		.typed = sm_get_secret_value },
	{ .service = "secretsmanager", .operation = "DescribeSecret", .typed = sm_describe_secret },
	{ .service = "secretsmanager", .operation = "ListSecrets", .typed = sm_list_secrets },
	{ .service = "secretsmanager", .operation = "ListSecretVersionIds",
		.typed = sm_list_secret_version_ids },
	{ .service = "secretsmanager", .operation = "UpdateSecret", .typed = sm_update_secret },
	{ .service = "secretsmanager", .operation = "UpdateSecretVersionStage",
		.typed = sm_update_secret_version_stage },
	{ .service = "secretsmanager", .operation = "DeleteSecret", .typed = sm_delete_secret },
	{ .service = "secretsmanager", .operation = "RestoreSecret", .typed = sm_restore_secret },
	{ .service = "secretsmanager", .operation = "TagResource", .typed = sm_tag_resource },
	{ .service = "secretsmanager", .operation = "UntagResource", .typed = sm_untag_resource },
};

const struct lc_service sm_service = {
	.name = "secretsmanager",
	.protocol = LC_PROTO_JSON,
	.target_prefix = "secretsmanager",
	.max_body = 1 * LC_MIB,
	.init = sm_init,
	.routes = sm_routes,
	.n_routes = ARRAY_SIZE(sm_routes),
};
