/*
 * sts/routes.c: STS's row in the catalogue and its operations, one row per
 * (operation, handler).  Columns as in core/router.h (struct lc_route).
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route sts_routes[] = {
	{ .service = "sts", .operation = "GetCallerIdentity", .typed = sts_get_caller_identity },
};

const struct lc_service sts_service = {
	.name = "sts",
	.protocol = LC_PROTO_QUERY,
	.xmlns = "https://sts.amazonaws.com/doc/2011-06-15/",
	.max_body = 1 * LC_MIB,
	.routes = sts_routes,
	.n_routes = ARRAY_SIZE(sts_routes),
};
