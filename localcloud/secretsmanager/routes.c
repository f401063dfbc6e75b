/*
 * secretsmanager/routes.c: Secrets Manager's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route sm_routes[] = {
	{ "secretsmanager", "CreateSecret", sm_create_secret, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "PutSecretValue", sm_put_secret_value, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "GetSecretValue", sm_get_secret_value, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "DescribeSecret", sm_describe_secret, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "ListSecrets", sm_list_secrets, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "ListSecretVersionIds", sm_list_secret_version_ids, NULL, NULL, NULL,
		NULL, 0 },
	{ "secretsmanager", "UpdateSecret", sm_update_secret, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "UpdateSecretVersionStage", sm_update_secret_version_stage, NULL, NULL,
		NULL, NULL, 0 },
	{ "secretsmanager", "DeleteSecret", sm_delete_secret, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "RestoreSecret", sm_restore_secret, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "TagResource", sm_tag_resource, NULL, NULL, NULL, NULL, 0 },
	{ "secretsmanager", "UntagResource", sm_untag_resource, NULL, NULL, NULL, NULL, 0 },
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
