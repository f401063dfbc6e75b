/*
 * route53/routes.c: Route 53's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route r53_routes[] = {
	{ .service = "route53", .operation = "CreateHostedZone", .typed = r53_create_hosted_zone,
		.method = "POST", .path = "/2013-04-01/hostedzone" },
	{ .service = "route53", .operation = "ListHostedZones", .typed = r53_list_hosted_zones,
		.method = "GET", .path = "/2013-04-01/hostedzone" },
	{ .service = "route53", .operation = "ListHostedZonesByName",
		.typed = r53_list_hosted_zones_by_name, .method = "GET",
		.path = "/2013-04-01/hostedzonesbyname" },
	{ .service = "route53", .operation = "GetHostedZone", .typed = r53_get_hosted_zone,
		.method = "GET", .path = "/2013-04-01/hostedzone/{Id}" },
	{ .service = "route53", .operation = "DeleteHostedZone", .typed = r53_delete_hosted_zone,
		.method = "DELETE", .path = "/2013-04-01/hostedzone/{Id}" },
	{ .service = "route53", .operation = "ChangeResourceRecordSets",
		.typed = r53_change_resource_record_sets, .method = "POST",
		.path = "/2013-04-01/hostedzone/{Id}/rrset/" },
	{ .service = "route53", .operation = "ChangeResourceRecordSets",
		.typed = r53_change_resource_record_sets, .method = "POST",
		.path = "/2013-04-01/hostedzone/{Id}/rrset" },
	{ .service = "route53", .operation = "ListResourceRecordSets",
		.typed = r53_list_resource_record_sets, .method = "GET",
		.path = "/2013-04-01/hostedzone/{Id}/rrset" },
	{ .service = "route53", .operation = "GetChange", .typed = r53_get_change,
		.method = "GET", .path = "/2013-04-01/change/{Id}" },
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
