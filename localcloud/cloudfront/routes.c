/*
 * cloudfront/routes.c: CloudFront's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route cf_routes[] = {
	{ .service = "cloudfront", .operation = "CreateDistributionWithTags",
		.typed = cf_create_distribution, .method = "POST",
		.path = "/2020-05-31/distribution", .query_flag = "WithTags" },
	{ .service = "cloudfront", .operation = "CreateDistribution",
		.typed = cf_create_distribution, .method = "POST",
		.path = "/2020-05-31/distribution" },
	{ .service = "cloudfront", .operation = "ListDistributions",
		.typed = cf_list_distributions, .method = "GET",
		.path = "/2020-05-31/distribution" },
	{ .service = "cloudfront", .operation = "GetDistributionConfig",
		.typed = cf_get_distribution_config, .method = "GET",
		.path = "/2020-05-31/distribution/{Id}/config" },
	{ .service = "cloudfront", .operation = "GetDistribution", .typed = cf_get_distribution,
		.method = "GET", .path = "/2020-05-31/distribution/{Id}" },
	{ .service = "cloudfront", .operation = "UpdateDistribution",
		.typed = cf_update_distribution, .method = "PUT",
		.path = "/2020-05-31/distribution/{Id}/config" },
	{ .service = "cloudfront", .operation = "DeleteDistribution",
		.typed = cf_delete_distribution, .method = "DELETE",
		.path = "/2020-05-31/distribution/{Id}" },
	{ .service = "cloudfront", .operation = "CreateInvalidation",
		.typed = cf_create_invalidation, .method = "POST",
		.path = "/2020-05-31/distribution/{DistributionId}/invalidation" },
	{ .service = "cloudfront", .operation = "GetInvalidation", .typed = cf_get_invalidation,
		.method = "GET",
		.path = "/2020-05-31/distribution/{DistributionId}/invalidation/{Id}" },
	{ .service = "cloudfront", .operation = "ListInvalidations",
		.typed = cf_list_invalidations, .method = "GET",
		.path = "/2020-05-31/distribution/{DistributionId}/invalidation" },
};

const struct lc_service cf_service = {
	.name = "cloudfront",
	.protocol = LC_PROTO_REST_XML,
	.xmlns = "http://cloudfront.amazonaws.com/doc/2020-05-31/",
	.max_body = 1 * LC_MIB,
	.init = cf_init,
	.routes = cf_routes,
	.n_routes = ARRAY_SIZE(cf_routes),
};
