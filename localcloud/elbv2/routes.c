/*
 * elbv2/routes.c: Elastic Load Balancing v2's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route elb_routes[] = {
	{ .service = "elasticloadbalancing", .operation = "CreateLoadBalancer",
		.typed = elb_create_load_balancer },
	{ .service = "elasticloadbalancing", .operation = "DescribeLoadBalancers",
		.typed = elb_describe_load_balancers },
	{ .service = "elasticloadbalancing", .operation = "DeleteLoadBalancer",
		.typed = elb_delete_load_balancer },
	{ .service = "elasticloadbalancing", .operation = "CreateTargetGroup",
		.typed = elb_create_target_group },
	{ .service = "elasticloadbalancing", .operation = "DescribeTargetGroups",
		.typed = elb_describe_target_groups },
	{ .service = "elasticloadbalancing", .operation = "DeleteTargetGroup",
		.typed = elb_delete_target_group },
	{ .service = "elasticloadbalancing", .operation = "ModifyTargetGroupAttributes",
		.typed = elb_modify_target_group_attributes },
	{ .service = "elasticloadbalancing", .operation = "CreateListener",
		.typed = elb_create_listener },
	{ .service = "elasticloadbalancing", .operation = "DescribeListeners",
		.typed = elb_describe_listeners },
	{ .service = "elasticloadbalancing", .operation = "CreateRule",
		.typed = elb_create_rule },
	{ .service = "elasticloadbalancing", .operation = "RegisterTargets",
		.typed = elb_register_targets },
	{ .service = "elasticloadbalancing", .operation = "DeregisterTargets",
		.typed = elb_deregister_targets },
	{ .service = "elasticloadbalancing", .operation = "DescribeTargetHealth",
		.typed = elb_describe_target_health },
};

const struct lc_service elb_service = {
	.name = "elasticloadbalancing",
	.protocol = LC_PROTO_QUERY,
	.xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
	.max_body = 1 * LC_MIB,
	.init = elb_init,
	.routes = elb_routes,
	.n_routes = ARRAY_SIZE(elb_routes),
};
