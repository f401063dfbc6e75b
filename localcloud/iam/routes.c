/*
 * iam/routes.c: IAM's row in the catalogue and its operations, one row per
 * (operation, handler).  Columns as in core/router.h (struct lc_route).
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route iam_routes[] = {
	{ .service = "iam", .operation = "GetUser", .typed = iam_get_user },
	{ .service = "iam", .operation = "CreateRole", .typed = iam_create_role },
	{ .service = "iam", .operation = "GetRole", .typed = iam_get_role },
	{ .service = "iam", .operation = "DeleteRole", .typed = iam_delete_role },
	{ .service = "iam", .operation = "UpdateRole", .typed = iam_update_role },
	{ .service = "iam", .operation = "UpdateAssumeRolePolicy",
		.typed = iam_update_assume_role_policy },
	{ .service = "iam", .operation = "ListRolePolicies", .typed = iam_list_role_policies },
	{ .service = "iam", .operation = "ListAttachedRolePolicies",
		.typed = iam_list_attached_role_policies },
	{ .service = "iam", .operation = "ListInstanceProfilesForRole",
		.typed = iam_list_instance_profiles_for_role },
	{ .service = "iam", .operation = "PutRolePolicy", .typed = iam_put_role_policy },
	{ .service = "iam", .operation = "GetRolePolicy", .typed = iam_get_role_policy },
	{ .service = "iam", .operation = "DeleteRolePolicy", .typed = iam_delete_role_policy },
	{ .service = "iam", .operation = "ListRoleTags", .typed = iam_list_role_tags },
	{ .service = "iam", .operation = "TagRole", .typed = iam_tag_role },
	{ .service = "iam", .operation = "UntagRole", .typed = iam_untag_role },
};

const struct lc_service iam_service = {
	.name = "iam",
	.protocol = LC_PROTO_QUERY,
	.xmlns = "https://iam.amazonaws.com/doc/2010-05-08/",
	.max_body = 1 * LC_MIB,
	.init = iam_init,
	.routes = iam_routes,
	.n_routes = ARRAY_SIZE(iam_routes),
};
