/*
 * cloudfront/routes.c: CloudFront's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route cf_routes[] = {
	{ .service = "cloudfront", .operation = "CreateDistributionWithTags",
		.handler = cf_create_distribution, .method = "POST",
		.path = "/2020-05-31/distribution", .query_flag = "WithTags" },
	{ .service = "cloudfront", .operation = "CreateDistribution",
		.handler = cf_create_distribution, .method = "POST",
		.path = "/2020-05-31/distribution" },
	{ .service = "cloudfront", .operation = "ListDistributions",
		.handler = cf_list_distributions, .method = "GET",
		.path = "/2020-05-31/distribution" },
	{ .service = "cloudfront", .operation = "GetDistributionConfig",
		.handler = cf_get_distribution_config, .method = "GET",
		.path = "/2020-05-31/distribution/{Id}/config" },
	{ .service = "cloudfront", .operation = "GetDistribution", .handler = cf_get_distribution,
		.method = "GET", .path = "/2020-05-31/distribution/{Id}" },
	{ .service = "cloudfront", .operation = "UpdateDistribution",
		.handler = cf_update_distribution, .method = "PUT",
		.path = "/2020-05-31/distribution/{Id}/config" },
	{ .service = "cloudfront", .operation = "DeleteDistribution",
		.handler = cf_delete_distribution, .method = "DELETE",
		.path = "/2020-05-31/distribution/{Id}" },
	{ .service = "cloudfront", .operation = "CreateInvalidation",
		.handler = cf_create_invalidation, .method = "POST",
		.path = "/2020-05-31/distribution/{DistributionId}/invalidation" },
	{ .service = "cloudfront", .operation = "GetInvalidation", .handler = cf_get_invalidation,
		.method = "GET",
		.path = "/2020-05-31/distribution/{DistributionId}/invalidation/{Id}" },
	{ .service = "cloudfront", .operation = "ListInvalidations",
		.handler = cf_list_invalidations, .method = "GET",
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
