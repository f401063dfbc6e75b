/*
 * route53/routes.c: Route 53's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route r53_routes[] = {
	{ "route53", "CreateHostedZone", r53_create_hosted_zone, "POST", "/2013-04-01/hostedzone",
		NULL, NULL, 0 },
	{ "route53", "ListHostedZones", r53_list_hosted_zones, "GET", "/2013-04-01/hostedzone",
		NULL, NULL, 0 },
	{ "route53", "ListHostedZonesByName", r53_list_hosted_zones_by_name, "GET",
		"/2013-04-01/hostedzonesbyname", NULL, NULL, 0 },
	{ "route53", "GetHostedZone", r53_get_hosted_zone, "GET", "/2013-04-01/hostedzone/{Id}",
		NULL, NULL, 0 },
	{ "route53", "DeleteHostedZone", r53_delete_hosted_zone, "DELETE",
		"/2013-04-01/hostedzone/{Id}", NULL, NULL, 0 },
	{ "route53", "ChangeResourceRecordSets", r53_change_resource_record_sets, "POST",
		"/2013-04-01/hostedzone/{Id}/rrset/", NULL, NULL, 0 },
	{ "route53", "ChangeResourceRecordSets", r53_change_resource_record_sets, "POST",
		"/2013-04-01/hostedzone/{Id}/rrset", NULL, NULL, 0 },
	{ "route53", "ListResourceRecordSets", r53_list_resource_record_sets, "GET",
		"/2013-04-01/hostedzone/{Id}/rrset", NULL, NULL, 0 },
	{ "route53", "GetChange", r53_get_change, "GET", "/2013-04-01/change/{Id}", NULL, NULL,
		0 },
};

const struct lc_service r53_service = {
	.name = "route53",
	.protocol = LC_PROTO_REST_XML,
	.xmlns = "https://route53.amazonaws.com/doc/2013-04-01/",
	.max_body = 1 * LC_MIB,
	.init = r53_init,
	.routes = r53_routes,
	.n_routes = ARRAY_SIZE(r53_routes),
};
