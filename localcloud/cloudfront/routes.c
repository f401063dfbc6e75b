/*
 * cloudfront/routes.c: CloudFront's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route cf_routes[] = {
	{ "cloudfront", "CreateDistributionWithTags", cf_create_distribution, "POST",
		"/2020-05-31/distribution", "WithTags", NULL, 0 },
	{ "cloudfront", "CreateDistribution", cf_create_distribution, "POST",
		"/2020-05-31/distribution", NULL, NULL, 0 },
	{ "cloudfront", "ListDistributions", cf_list_distributions, "GET",
		"/2020-05-31/distribution", NULL, NULL, 0 },
	{ "cloudfront", "GetDistributionConfig", cf_get_distribution_config, "GET",
		"/2020-05-31/distribution/{Id}/config", NULL, NULL, 0 },
	{ "cloudfront", "GetDistribution", cf_get_distribution, "GET",
		"/2020-05-31/distribution/{Id}", NULL, NULL, 0 },
	{ "cloudfront", "UpdateDistribution", cf_update_distribution, "PUT",
		"/2020-05-31/distribution/{Id}/config", NULL, NULL, 0 },
	{ "cloudfront", "DeleteDistribution", cf_delete_distribution, "DELETE",
		"/2020-05-31/distribution/{Id}", NULL, NULL, 0 },
	{ "cloudfront", "CreateInvalidation", cf_create_invalidation, "POST",
		"/2020-05-31/distribution/{DistributionId}/invalidation", NULL, NULL, 0 },
	{ "cloudfront", "GetInvalidation", cf_get_invalidation, "GET",
		"/2020-05-31/distribution/{DistributionId}/invalidation/{Id}", NULL, NULL, 0 },
	{ "cloudfront", "ListInvalidations", cf_list_invalidations, "GET",
		"/2020-05-31/distribution/{DistributionId}/invalidation", NULL, NULL, 0 },
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
