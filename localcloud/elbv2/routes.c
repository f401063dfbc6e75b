/*
 * elbv2/routes.c: Elastic Load Balancing v2's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route elb_routes[] = {
	{ "elasticloadbalancing", "CreateLoadBalancer", elb_create_load_balancer, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DescribeLoadBalancers", elb_describe_load_balancers, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DeleteLoadBalancer", elb_delete_load_balancer, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "CreateTargetGroup", elb_create_target_group, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DescribeTargetGroups", elb_describe_target_groups, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DeleteTargetGroup", elb_delete_target_group, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "ModifyTargetGroupAttributes", elb_modify_target_group_attributes, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "CreateListener", elb_create_listener, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DescribeListeners", elb_describe_listeners, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "CreateRule", elb_create_rule, NULL, NULL, NULL, NULL, 0 },
	{ "elasticloadbalancing", "RegisterTargets", elb_register_targets, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DeregisterTargets", elb_deregister_targets, NULL, NULL,
		NULL, NULL, 0 },
	{ "elasticloadbalancing", "DescribeTargetHealth", elb_describe_target_health, NULL, NULL,
		NULL, NULL, 0 },
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
