/*
 * ec2/routing.c: how a VPC reaches out: route tables (their routes and
 * subnet associations), internet gateways and their attachments, Elastic
 * IP addresses, NAT gateways and VPC endpoints, on the generic store.
 *
 * Checked as AWS checks them: a route to an internet gateway needs it
 * attached to the table's VPC, a public NAT gateway needs an EIP that is
 * not in use and an internet gateway on its VPC (Gateway.NotAttached),
 * an internet gateway cannot be detached while a NAT gateway maps public
 * addresses in the VPC (DependencyViolation), a route table with subnet
 * associations cannot be deleted.  NAT gateways and endpoints go from
 * pending to available one second after their creation, NAT gateways
 * from deleting to deleted one second after their deletion (state derived
 * from the times when described, so a read never writes).  A gateway
 * endpoint adds a route to its service's prefix list in each of its route
 * tables, as AWS does.  Nothing forwards packets: this is the record.
 */
#include "compat.h"

#include "core/caliberd.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

/* how long a NAT gateway or an endpoint stays pending, and a NAT gateway deleting */
#define EC2_TRANSITION_SECONDS 1.0

static const struct resource_filter rtb_filters[] = {
	{ "route-table-id", "RouteTableId" },
	{ "vpc-id", "VpcId" },
	{ "owner-id", "OwnerId" },
	{ "association.main", "Associations.Main" },
	{ "association.route-table-association-id", "Associations.RouteTableAssociationId" },
	{ "association.route-table-id", "Associations.RouteTableId" },
	{ "association.subnet-id", "Associations.SubnetId" },
	{ "association.gateway-id", "Associations.GatewayId" },
	{ "route.destination-cidr-block", "Routes.DestinationCidrBlock" },
	{ "route.destination-prefix-list-id", "Routes.DestinationPrefixListId" },
	{ "route.gateway-id", "Routes.GatewayId" },
	{ "route.nat-gateway-id", "Routes.NatGatewayId" },
	{ "route.vpc-peering-connection-id", "Routes.VpcPeeringConnectionId" },
	{ "route.transit-gateway-id", "Routes.TransitGatewayId" },
	{ "route.origin", "Routes.Origin" },
	{ "route.state", "Routes.State" },
	{ NULL, NULL },
};

static const struct resource_filter igw_filters[] = {
	{ "internet-gateway-id", "InternetGatewayId" },
	{ "attachment.vpc-id", "Attachments.VpcId" },
	{ "attachment.state", "Attachments.State" },
	{ "owner-id", "OwnerId" },
	{ NULL, NULL },
};

static const struct resource_filter address_filters[] = {
	{ "allocation-id", "AllocationId" },
	{ "association-id", "AssociationId" },
	{ "domain", "Domain" },
	{ "public-ip", "PublicIp" },
	{ "instance-id", "InstanceId" },
	{ "network-interface-id", "NetworkInterfaceId" },
	{ "network-interface-owner-id", "NetworkInterfaceOwnerId" },
	{ "private-ip-address", "PrivateIpAddress" },
	{ "network-border-group", "NetworkBorderGroup" },
	{ NULL, NULL },
};

static const struct resource_filter nat_filters[] = {
	{ "nat-gateway-id", "NatGatewayId" },
	{ "state", "State" },
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

static const struct resource_filter endpoint_filters[] = {
	{ "vpc-endpoint-id", "VpcEndpointId" },
	{ "vpc-id", "VpcId" },
	{ "service-name", "ServiceName" },
	{ "vpc-endpoint-state", "State" },
	{ "vpc-endpoint-type", "VpcEndpointType" },
	{ "ip-address-type", "IpAddressType" },
	{ NULL, NULL },
};

static json_t *filter1(const char *name, const char *value)
{
	return json_pack("[{s:s, s:[s]}]", "Name", name, "Values", value);
}

/* the items of type matching one filter (a new array), NULL on error */
static json_t *list_by(struct lc_call *c, const char *type, const struct resource_filter *known,
	const char *name, const char *value)
{
	json_t *f = filter1(name, value), *list = NULL;
	const char *bad = NULL;

	if (resource_list(c->db, "ec2", type, c->req->region, NULL, f, known, &list, &bad) < 0)
		list = NULL;
	json_decref(f);
	return list;
}

static int no_output(struct lc_call *c)
{
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int return_true(struct lc_call *c)
{
	json_object_set_new(c->out, "Return", json_true());
	return 0;
}

/* Route tables */

int ec2_main_route_table(struct lc_call *c, const char *vpc_id, const char *cidr)
{
	char id[32], assoc[40];
	json_t *attrs;

	resource_new_id(id, sizeof(id), "rtb");
	resource_new_id(assoc, sizeof(assoc), "rtbassoc");
	attrs = json_pack("{s:[{s:b, s:s, s:s, s:{s:s}}], s:[], s:s, s:[{s:s, s:s, s:s, s:s}], "
			  "s:s, s:s}",
		"Associations", "Main", 1, "RouteTableAssociationId", assoc, "RouteTableId", id,
		"AssociationState", "State", "associated", "PropagatingVgws", "RouteTableId", id,
		"Routes", "DestinationCidrBlock", cidr, "GatewayId", "local", "Origin",
		"CreateRouteTable", "State", "active", "VpcId", vpc_id, "OwnerId", EC2_ACCOUNT);
	return ec2_insert(c, "route-table", id, NULL, vpc_id, attrs, json_array());
}

static int create_route_table(struct lc_call *c)
{
	const char *vpc_id;
	struct resource vpc = RESOURCE_INIT, r = RESOURCE_INIT;
	char id[32];
	json_t *attrs;

	if (ec2_need(c, "VpcId", &vpc_id) < 0)
		return -1;
	if (ec2_load(c, "vpc", vpc_id, &vpc) != 1)
		return -1;
	resource_new_id(id, sizeof(id), "rtb");
	attrs = json_pack("{s:[], s:[], s:s, s:[{s:s, s:s, s:s, s:s}], s:s, s:s}", "Associations",
		"PropagatingVgws", "RouteTableId", id, "Routes", "DestinationCidrBlock",
		json_string_value(json_object_get(vpc.attrs, "CidrBlock")), "GatewayId", "local",
		"Origin", "CreateRouteTable", "State", "active", "VpcId", vpc_id, "OwnerId",
		EC2_ACCOUNT);
	resource_release(&vpc);
	if (ec2_insert(c, "route-table", id, NULL, vpc_id, attrs, ec2_tag_spec(c, "route-table")) <
		0)
		return -1;
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	json_object_set_new(c->out, "RouteTable", resource_item(&r));
	resource_release(&r);
	return 0;
}

static int describe_route_tables(struct lc_call *c)
{
	return ec2_describe(c, "route-table", "RouteTableIds", 1, "Filters", rtb_filters,
		"RouteTables", NULL);
}

static int delete_route_table(struct lc_call *c)
{
	const char *id;
	struct resource r = RESOURCE_INIT;
	int busy;

	if (ec2_need(c, "RouteTableId", &id) < 0)
		return -1;
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	busy = json_array_size(json_object_get(r.attrs, "Associations")) > 0;
	resource_release(&r);
	if (busy)
		return ec2_bad(c, "DependencyViolation",
			"The routeTable '%s' has dependencies and cannot be deleted.", id);
	if (resource_delete(c->db, "ec2", "route-table", id) < 0)
		return ec2_internal(c, "delete route table");
	return no_output(c);
}

/* The destination member of the input and its value; NULL when none (error set). */
static const char *route_destination(struct lc_call *c, const char **member)
{
	static const char *const members[] = { "DestinationCidrBlock", "DestinationIpv6CidrBlock",
		"DestinationPrefixListId" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(members); i++) {
		const char *v = ec2_str(c, members[i]);

		if (v != NULL) {
			*member = members[i];
			return v;
		}
	}
	ec2_bad(c, "MissingParameter",
		"The request must contain the parameter destinationCidrBlock or "
		"destinationIpv6CidrBlock or destinationPrefixListId");
	return NULL;
}

/* the index of the route to dest in table r, -1 when none */
static long route_find(struct resource *r, const char *member, const char *dest)
{
	json_t *routes = json_object_get(r->attrs, "Routes"), *x;
	size_t i;

	json_array_foreach(routes, i, x) {
		const char *d = json_string_value(json_object_get(x, member));

		if (d != NULL && !strcmp(d, dest))
			return (long)i;
	}
	return -1;
}

/* the route the input describes (its target checked against the table's VPC), NULL on error */
static json_t *route_build(struct lc_call *c, struct resource *table, const char *member,
	const char *dest)
{
	static const char *const targets[] = { "GatewayId", "NatGatewayId", "VpcEndpointId",
		"NetworkInterfaceId", "TransitGatewayId", "VpcPeeringConnectionId",
		"EgressOnlyInternetGatewayId", "InstanceId", "CarrierGatewayId", "LocalGatewayId",
		"CoreNetworkArn" };
	const char *target = NULL, *value = NULL;
	struct resource t = RESOURCE_INIT;
	size_t i, n = 0;
	json_t *route;

	if (!strcmp(member, "DestinationCidrBlock")) {
		uint32_t a;
		int l;

		if (ec2_cidr(dest, &a, &l) < 0) {
			ec2_bad(c, "InvalidParameterValue",
				"Value (%s) for parameter destinationCidrBlock is invalid. This is not "
				"a valid CIDR block.",
				dest);
			return NULL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(targets); i++)
		if (ec2_str(c, targets[i]) != NULL) {
			target = targets[i];
			value = ec2_str(c, targets[i]);
			n++;
		}
	if (n == 0) {
		ec2_bad(c, "InvalidParameterCombination",
			"The request must contain exactly one of gatewayId, natGatewayId, "
			"networkInterfaceId, vpcPeeringConnectionId, transitGatewayId or instanceId");
		return NULL;
	}
	if (n > 1) {
		ec2_bad(c, "InvalidParameterCombination", "More than one target specified");
		return NULL;
	}
	if (!strcmp(target, "GatewayId") && !strncmp(value, "igw-", 4)) {
		json_t *att;
		int attached = 0;

		if (ec2_load(c, "internet-gateway", value, &t) != 1)
			return NULL;
		json_array_foreach(json_object_get(t.attrs, "Attachments"), i, att)
			if (!strcmp(json_string_value(json_object_get(att, "VpcId")), table->parent))
				attached = 1;
		resource_release(&t);
		if (!attached) {
			ec2_bad(c, "InvalidParameterValue",
				"route table %s and network gateway %s belong to different networks",
				table->id, value);
			return NULL;
		}
	} else if (!strcmp(target, "NatGatewayId")) {
		const char *vpc;
		int same;

		if (ec2_load(c, "natgateway", value, &t) != 1)
			return NULL;
		vpc = json_string_value(json_object_get(t.attrs, "VpcId"));
		same = vpc != NULL && !strcmp(vpc, table->parent);
		resource_release(&t);
		if (!same) {
			ec2_bad(c, "InvalidParameterValue",
				"route table %s and NAT gateway %s belong to different networks",
				table->id, value);
			return NULL;
		}
	} else if (!strcmp(target, "VpcEndpointId") ||
		   (!strcmp(target, "GatewayId") && !strncmp(value, "vpce-", 5))) {
		if (ec2_load(c, "vpc-endpoint", value, &t) != 1)
			return NULL;
		resource_release(&t);
	}
	route = json_pack("{s:s, s:s, s:s, s:s}", member, dest, target, value, "Origin",
		"CreateRoute", "State", "active");
	return route;
}

static int create_route(struct lc_call *c)
{
	const char *id, *member = NULL, *dest;
	struct resource r = RESOURCE_INIT;
	json_t *route;

	if (ec2_need(c, "RouteTableId", &id) < 0)
		return -1;
	if ((dest = route_destination(c, &member)) == NULL)
		return -1;
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	if (route_find(&r, member, dest) >= 0) {
		resource_release(&r);
		return ec2_bad(c, "RouteAlreadyExists", "The route identified by %s already exists.",
			dest);
	}
	if ((route = route_build(c, &r, member, dest)) == NULL) {
		resource_release(&r);
		return -1;
	}
	json_array_append_new(json_object_get(r.attrs, "Routes"), route);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "create route");
	}
	resource_release(&r);
	return return_true(c);
}

static int replace_route(struct lc_call *c)
{
	const char *id, *member = NULL, *dest;
	struct resource r = RESOURCE_INIT;
	json_t *route;
	long at;

	if (ec2_need(c, "RouteTableId", &id) < 0)
		return -1;
	if ((dest = route_destination(c, &member)) == NULL)
		return -1;
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	at = route_find(&r, member, dest);
	if (at < 0) {
		resource_release(&r);
		return ec2_bad(c, "InvalidRoute.NotFound",
			"There is no route defined for '%s' in the route table. Use CreateRoute "
			"instead.",
			dest);
	}
	if ((route = route_build(c, &r, member, dest)) == NULL) {
		resource_release(&r);
		return -1;
	}
	json_object_set_new(route, "Origin", json_string("ReplaceRoute"));
	json_array_set_new(json_object_get(r.attrs, "Routes"), (size_t)at, route);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "replace route");
	}
	resource_release(&r);
	return no_output(c);
}

static int delete_route(struct lc_call *c)
{
	const char *id, *member = NULL, *dest;
	struct resource r = RESOURCE_INIT;
	long at;

	if (ec2_need(c, "RouteTableId", &id) < 0)
		return -1;
	if ((dest = route_destination(c, &member)) == NULL)
		return -1;
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	at = route_find(&r, member, dest);
	if (at < 0 || !strcmp(json_string_value(json_object_get(
				      json_array_get(json_object_get(r.attrs, "Routes"), (size_t)at),
				      "Origin")),
			      "CreateRouteTable")) {
		int local = at >= 0;

		resource_release(&r);
		if (local)
			return ec2_bad(c, "InvalidParameterValue",
				"cannot remove local route %s in route table %s", dest, id);
		return ec2_bad(c, "InvalidRoute.NotFound",
			"no route with destination-cidr-block %s in route table %s", dest, id);
	}
	json_array_remove(json_object_get(r.attrs, "Routes"), (size_t)at);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "delete route");
	}
	resource_release(&r);
	return no_output(c);
}

static int associate_route_table(struct lc_call *c)
{
	const char *id, *subnet_id = ec2_str(c, "SubnetId"), *gateway_id = ec2_str(c, "GatewayId");
	struct resource r = RESOURCE_INIT, s = RESOURCE_INIT;
	json_t *taken;
	char assoc[40];

	if (ec2_need(c, "RouteTableId", &id) < 0)
		return -1;
	if ((subnet_id == NULL) == (gateway_id == NULL))
		return ec2_bad(c, "InvalidParameterCombination",
			"Exactly one of subnetId or gatewayId must be specified");
	if (ec2_load(c, "route-table", id, &r) != 1)
		return -1;
	if (ec2_load(c, subnet_id != NULL ? "subnet" : "internet-gateway",
		    subnet_id != NULL ? subnet_id : gateway_id, &s) != 1) {
		resource_release(&r);
		return -1;
	}
	if (subnet_id != NULL && strcmp(s.parent, r.parent)) {
		resource_release(&r);
		resource_release(&s);
		return ec2_bad(c, "InvalidParameterValue",
			"Route table %s and subnet %s belong to different networks", id, subnet_id);
	}
	resource_release(&s);
	taken = list_by(c, "route-table", rtb_filters,
		subnet_id != NULL ? "association.subnet-id" : "association.gateway-id",
		subnet_id != NULL ? subnet_id : gateway_id);
	if (taken == NULL) {
		resource_release(&r);
		return ec2_internal(c, "associate");
	}
	if (json_array_size(taken) > 0) {
		json_decref(taken);
		resource_release(&r);
		return ec2_bad(c, "Resource.AlreadyAssociated",
			"the specified association for route table %s conflicts with an existing "
			"association",
			id);
	}
	json_decref(taken);
	resource_new_id(assoc, sizeof(assoc), "rtbassoc");
	json_array_append_new(json_object_get(r.attrs, "Associations"),
		json_pack("{s:b, s:s, s:s, s:s, s:{s:s}}", "Main", 0, "RouteTableAssociationId",
			assoc, "RouteTableId", id, subnet_id != NULL ? "SubnetId" : "GatewayId",
			subnet_id != NULL ? subnet_id : gateway_id, "AssociationState", "State",
			"associated"));
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "associate");
	}
	resource_release(&r);
	json_object_set_new(c->out, "AssociationId", json_string(assoc));
	json_object_set_new(c->out, "AssociationState", json_pack("{s:s}", "State", "associated"));
	return 0;
}

static int disassociate_route_table(struct lc_call *c)
{
	const char *assoc;
	struct resource r = RESOURCE_INIT;
	json_t *tables, *assocs, *a = NULL;
	size_t i;
	int rc;

	if (ec2_need(c, "AssociationId", &assoc) < 0)
		return -1;
	tables = list_by(c, "route-table", rtb_filters, "association.route-table-association-id",
		assoc);
	if (tables == NULL)
		return ec2_internal(c, "disassociate");
	if (json_array_size(tables) == 0) {
		json_decref(tables);
		return ec2_bad(c, "InvalidAssociationID.NotFound",
			"The association ID '%s' does not exist", assoc);
	}
	rc = ec2_load(c, "route-table",
		json_string_value(json_object_get(json_array_get(tables, 0), "RouteTableId")), &r);
	json_decref(tables);
	if (rc != 1)
		return -1;
	assocs = json_object_get(r.attrs, "Associations");
	json_array_foreach(assocs, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "RouteTableAssociationId")), assoc))
			break;
	if (json_is_true(json_object_get(a, "Main"))) {
		resource_release(&r);
		return ec2_bad(c, "InvalidParameterValue",
			"cannot disassociate the main route table association %s", assoc);
	}
	json_array_remove(assocs, i);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "disassociate");
	}
	resource_release(&r);
	return no_output(c);
}

/* The association moves to another table of the same VPC under a new id. */
static int replace_route_table_association(struct lc_call *c)
{
	const char *assoc, *rtb_id;
	struct resource from = RESOURCE_INIT, to = RESOURCE_INIT;
	json_t *tables, *assocs, *a = NULL, *moved;
	char new_id[40];
	size_t i;
	int rc = -1;

	if (ec2_need(c, "AssociationId", &assoc) < 0 || ec2_need(c, "RouteTableId", &rtb_id) < 0)
		return -1;
	tables = list_by(c, "route-table", rtb_filters, "association.route-table-association-id",
		assoc);
	if (tables == NULL)
		return ec2_internal(c, "replace association");
	if (json_array_size(tables) == 0) {
		json_decref(tables);
		return ec2_bad(c, "InvalidAssociationID.NotFound",
			"The association ID '%s' does not exist", assoc);
	}
	rc = ec2_load(c, "route-table",
		json_string_value(json_object_get(json_array_get(tables, 0), "RouteTableId")), &from);
	json_decref(tables);
	if (rc != 1)
		return -1;
	rc = -1;
	if (ec2_load(c, "route-table", rtb_id, &to) != 1)
		goto out;
	if (strcmp(from.parent, to.parent)) {
		ec2_bad(c, "InvalidParameterValue",
			"Route table %s and association %s belong to different networks", rtb_id, assoc);
		goto out;
	}
	assocs = json_object_get(from.attrs, "Associations");
	json_array_foreach(assocs, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "RouteTableAssociationId")), assoc))
			break;
	moved = json_deep_copy(a);
	json_array_remove(assocs, i);
	resource_new_id(new_id, sizeof(new_id), "rtbassoc");
	json_object_set_new(moved, "RouteTableAssociationId", json_string(new_id));
	json_object_set_new(moved, "RouteTableId", json_string(rtb_id));
	if (!strcmp(from.id, to.id)) {
		json_array_append_new(assocs, moved);
		if (resource_update(c->db, &from) < 0) {
			ec2_internal(c, "replace association");
			goto out;
		}
	} else {
		json_array_append_new(json_object_get(to.attrs, "Associations"), moved);
		if (resource_update(c->db, &from) < 0 || resource_update(c->db, &to) < 0) {
			ec2_internal(c, "replace association");
			goto out;
		}
	}
	json_object_set_new(c->out, "NewAssociationId", json_string(new_id));
	json_object_set_new(c->out, "AssociationState", json_pack("{s:s}", "State", "associated"));
	rc = 0;
out:
	resource_release(&from);
	resource_release(&to);
	return rc;
}

/* Internet gateways */

static int create_internet_gateway(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	char id[32];

	resource_new_id(id, sizeof(id), "igw");
	if (ec2_insert(c, "internet-gateway", id, NULL, NULL,
		    json_pack("{s:[], s:s, s:s}", "Attachments", "InternetGatewayId", id, "OwnerId",
			    EC2_ACCOUNT),
		    ec2_tag_spec(c, "internet-gateway")) < 0)
		return -1;
	if (ec2_load(c, "internet-gateway", id, &r) != 1)
		return -1;
	json_object_set_new(c->out, "InternetGateway", resource_item(&r));
	resource_release(&r);
	return 0;
}

static int describe_internet_gateways(struct lc_call *c)
{
	return ec2_describe(c, "internet-gateway", "InternetGatewayIds", 1, "Filters",
		igw_filters, "InternetGateways", NULL);
}

static int delete_internet_gateway(struct lc_call *c)
{
	const char *id;
	struct resource r = RESOURCE_INIT;
	int attached;

	if (ec2_need(c, "InternetGatewayId", &id) < 0)
		return -1;
	if (ec2_load(c, "internet-gateway", id, &r) != 1)
		return -1;
	attached = json_array_size(json_object_get(r.attrs, "Attachments")) > 0;
	resource_release(&r);
	if (attached)
		return ec2_bad(c, "DependencyViolation",
			"The internetGateway '%s' has dependencies and cannot be deleted.", id);
	if (resource_delete(c->db, "ec2", "internet-gateway", id) < 0)
		return ec2_internal(c, "delete internet gateway");
	return no_output(c);
}

static int attach_internet_gateway(struct lc_call *c)
{
	const char *id, *vpc_id;
	struct resource r = RESOURCE_INIT, vpc = RESOURCE_INIT;
	json_t *other;

	if (ec2_need(c, "InternetGatewayId", &id) < 0 || ec2_need(c, "VpcId", &vpc_id) < 0)
		return -1;
	if (ec2_load(c, "internet-gateway", id, &r) != 1)
		return -1;
	if (ec2_load(c, "vpc", vpc_id, &vpc) != 1) {
		resource_release(&r);
		return -1;
	}
	resource_release(&vpc);
	if (json_array_size(json_object_get(r.attrs, "Attachments")) > 0) {
		const char *at = json_string_value(json_object_get(
			json_array_get(json_object_get(r.attrs, "Attachments"), 0), "VpcId"));

		ec2_bad(c, "Resource.AlreadyAssociated", "resource %s is already attached to network %s",
			id, at);
		resource_release(&r);
		return -1;
	}
	other = list_by(c, "internet-gateway", igw_filters, "attachment.vpc-id", vpc_id);
	if (other == NULL) {
		resource_release(&r);
		return ec2_internal(c, "attach");
	}
	if (json_array_size(other) > 0) {
		json_decref(other);
		resource_release(&r);
		return ec2_bad(c, "InvalidParameterValue",
			"Network %s already has an internet gateway attached", vpc_id);
	}
	json_decref(other);
	json_array_append_new(json_object_get(r.attrs, "Attachments"),
		json_pack("{s:s, s:s}", "State", "available", "VpcId", vpc_id));
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "attach");
	}
	resource_release(&r);
	return no_output(c);
}

const char *ec2_nat_state(const json_t *nat)
{
	const char *state = json_string_value(json_object_get(nat, "State"));
	double created = json_number_value(json_object_get(nat, "CreateTime"));
	double deleted = json_number_value(json_object_get(nat, "DeleteTime"));
	double now = lc_now();

	if (state == NULL)
		return "pending";
	if (!strcmp(state, "pending") && now >= created + EC2_TRANSITION_SECONDS)
		return "available";
	if (!strcmp(state, "deleting") && now >= deleted + EC2_TRANSITION_SECONDS)
		return "deleted";
	return state;
}

static void nat_fix(json_t *item)
{
	json_object_set_new(item, "State", json_string(ec2_nat_state(item)));
}

static int detach_internet_gateway(struct lc_call *c)
{
	const char *id, *vpc_id;
	struct resource r = RESOURCE_INIT;
	json_t *atts, *nats, *x;
	size_t i;
	int busy = 0;

	if (ec2_need(c, "InternetGatewayId", &id) < 0 || ec2_need(c, "VpcId", &vpc_id) < 0)
		return -1;
	if (ec2_load(c, "internet-gateway", id, &r) != 1)
		return -1;
	atts = json_object_get(r.attrs, "Attachments");
	json_array_foreach(atts, i, x)
		if (!strcmp(json_string_value(json_object_get(x, "VpcId")), vpc_id))
			break;
	if (i == json_array_size(atts)) {
		resource_release(&r);
		return ec2_bad(c, "Gateway.NotAttached", "resource %s is not attached to network %s",
			id, vpc_id);
	}
	/* public NAT gateways map public addresses through it */
	nats = list_by(c, "natgateway", nat_filters, "vpc-id", vpc_id);
	if (nats == NULL) {
		resource_release(&r);
		return ec2_internal(c, "detach");
	}
	json_array_foreach(nats, i, x) {
		const char *state = ec2_nat_state(x);
		const char *type = json_string_value(json_object_get(x, "ConnectivityType"));

		if (strcmp(state, "deleted") && type != NULL && !strcmp(type, "public"))
			busy = 1;
	}
	json_decref(nats);
	if (busy) {
		resource_release(&r);
		return ec2_bad(c, "DependencyViolation",
			"Network %s has some mapped public address(es). Please unmap those public "
			"address(es) before detaching the gateway.",
			vpc_id);
	}
	json_array_clear(atts);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "detach");
	}
	resource_release(&r);
	return no_output(c);
}

/* Elastic IPs: from the documentation ranges (RFC 5737), unique in the store */

static int address_pick(struct lc_call *c, char *out, size_t size)
{
	static const char *const nets[] = { "198.51.100", "203.0.113" };
	json_t *list = NULL;
	const char *bad = NULL;
	size_t n, i;

	if (resource_list(c->db, "ec2", "elastic-ip", NULL, NULL, NULL, NULL, &list, &bad) < 0)
		return -1;
	for (n = 0; n < 2 * 254; n++) {
		json_t *x;
		int used = 0;

		snprintf(out, size, "%s.%zu", nets[n / 254], n % 254 + 1);
		json_array_foreach(list, i, x)
			if (!strcmp(json_string_value(json_object_get(x, "PublicIp")), out))
				used = 1;
		if (!used) {
			json_decref(list);
			return 0;
		}
	}
	json_decref(list);
	return 1;
}

static int allocate_address(struct lc_call *c)
{
	const char *domain = ec2_str(c, "Domain");
	char id[40], ip[32];
	int rc;

	if (domain != NULL && strcmp(domain, "vpc"))
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter domain is invalid. Only 'vpc' is supported", domain);
	if (ec2_str(c, "Address") != NULL)
		return ec2_bad(c, "InvalidAddress.NotFound", "Address '%s' not found.",
			ec2_str(c, "Address"));
	rc = address_pick(c, ip, sizeof(ip));
	if (rc < 0)
		return ec2_internal(c, "allocate");
	if (rc > 0)
		return ec2_bad(c, "AddressLimitExceeded",
			"The maximum number of addresses has been reached.");
	resource_new_id(id, sizeof(id), "eipalloc");
	if (ec2_insert(c, "elastic-ip", id, NULL, NULL,
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "PublicIp", ip, "AllocationId", id,
			    "Domain", "vpc", "PublicIpv4Pool", "amazon", "NetworkBorderGroup",
			    c->req->region),
		    ec2_tag_spec(c, "elastic-ip")) < 0)
		return -1;
	json_object_set_new(c->out, "PublicIp", json_string(ip));
	json_object_set_new(c->out, "AllocationId", json_string(id));
	json_object_set_new(c->out, "PublicIpv4Pool", json_string("amazon"));
	json_object_set_new(c->out, "NetworkBorderGroup", json_string(c->req->region));
	json_object_set_new(c->out, "Domain", json_string("vpc"));
	return 0;
}

static int describe_addresses(struct lc_call *c)
{
	const json_t *ips = json_object_get(c->in, "PublicIps");
	json_t *x, *list;
	size_t i;

	if (ec2_describe(c, "elastic-ip", "AllocationIds", 1, "Filters", address_filters,
		    "Addresses", NULL) < 0)
		return -1;
	if (json_array_size(ips) == 0)
		return 0;
	list = json_object_get(c->out, "Addresses");
	json_array_foreach(ips, i, x) {
		size_t j;
		json_t *a;
		int found = 0;

		json_array_foreach(list, j, a)
			if (!strcmp(json_string_value(json_object_get(a, "PublicIp")),
				    json_string_value(x)))
				found = 1;
		if (!found)
			return ec2_bad(c, "InvalidAddress.NotFound", "Address '%s' not found.",
				json_string_value(x));
	}
	for (i = 0; i < json_array_size(list);) {
		const char *ip = json_string_value(json_object_get(json_array_get(list, i), "PublicIp"));
		size_t j;
		int keep = 0;

		json_array_foreach(ips, j, x)
			if (!strcmp(ip, json_string_value(x)))
				keep = 1;
		if (keep)
			i++;
		else
			json_array_remove(list, i);
	}
	return 0;
}

/* No reverse DNS records are kept, so no address has a PTR attribute to describe. */
static int describe_addresses_attribute(struct lc_call *c)
{
	const json_t *ids = json_object_get(c->in, "AllocationIds");
	const char *attr = ec2_str(c, "Attribute");
	json_t *x;
	size_t i;

	if (attr != NULL && strcmp(attr, "domain-name"))
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter attribute is invalid.", attr);
	json_array_foreach(ids, i, x) {
		struct resource r = RESOURCE_INIT;

		if (ec2_load(c, "elastic-ip", json_string_value(x), &r) != 1)
			return -1;
		resource_release(&r);
	}
	json_object_set_new(c->out, "Addresses", json_array());
	return 0;
}

static int release_address(struct lc_call *c)
{
	const char *id = ec2_str(c, "AllocationId");
	struct resource r = RESOURCE_INIT;
	int used;

	if (id == NULL)
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter AllocationId");
	if (ec2_load(c, "elastic-ip", id, &r) != 1)
		return -1;
	used = json_object_get(r.attrs, "AssociationId") != NULL;
	resource_release(&r);
	if (used)
		return ec2_bad(c, "InvalidIPAddress.InUse", "Address %s is in use.", id);
	if (resource_delete(c->db, "ec2", "elastic-ip", id) < 0)
		return ec2_internal(c, "release");
	return no_output(c);
}

/*
 * Only NAT gateways associate addresses here (no instances or interfaces
 * of one's own), and AWS does not let a NAT gateway's association be
 * undone but by deleting the gateway.
 */
static int disassociate_address(struct lc_call *c)
{
	const char *assoc = ec2_str(c, "AssociationId");
	json_t *list;
	size_t n;

	if (assoc == NULL)
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter AssociationId");
	list = list_by(c, "elastic-ip", address_filters, "association-id", assoc);
	if (list == NULL)
		return ec2_internal(c, "disassociate address");
	n = json_array_size(list);
	json_decref(list);
	if (n == 0)
		return ec2_bad(c, "InvalidAssociationID.NotFound",
			"The association ID '%s' does not exist", assoc);
	return ec2_bad(c, "AuthFailure",
		"You do not have permission to access the specified resource.");
}

/* NAT gateways */

static int create_nat_gateway(struct lc_call *c)
{
	const char *subnet_id, *alloc = ec2_str(c, "AllocationId");
	const char *type = ec2_str(c, "ConnectivityType");
	struct resource subnet = RESOURCE_INIT, eip = RESOURCE_INIT, r = RESOURCE_INIT;
	char id[40], eni[40], assoc[40], private_ip[32];
	json_t *igws, *address;
	uint32_t base;
	int len, rc = -1;

	if (ec2_need(c, "SubnetId", &subnet_id) < 0)
		return -1;
	if (type == NULL)
		type = "public";
	if (strcmp(type, "public") && strcmp(type, "private"))
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter connectivityType is invalid", type);
	if (!strcmp(type, "public") && alloc == NULL)
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter AllocationId");
	if (ec2_load(c, "subnet", subnet_id, &subnet) != 1)
		return -1;
	if (alloc != NULL) {
		if (ec2_load(c, "elastic-ip", alloc, &eip) != 1)
			goto out;
		if (json_object_get(eip.attrs, "AssociationId") != NULL) {
			ec2_bad(c, "Resource.AlreadyAssociated",
				"Elastic IP address [%s] is already associated", alloc);
			goto out;
		}
	}
	if (!strcmp(type, "public")) {
		igws = list_by(c, "internet-gateway", igw_filters, "attachment.vpc-id",
			subnet.parent);
		if (igws == NULL) {
			ec2_internal(c, "nat");
			goto out;
		}
		len = json_array_size(igws) == 0;
		json_decref(igws);
		if (len) {
			ec2_bad(c, "Gateway.NotAttached", "Network %s has no Internet gateway attached",
				subnet.parent);
			goto out;
		}
	}
	resource_new_id(id, sizeof(id), "nat");
	resource_new_id(eni, sizeof(eni), "eni");
	resource_new_id(assoc, sizeof(assoc), "eipassoc");
	if (ec2_cidr(json_string_value(json_object_get(subnet.attrs, "CidrBlock")), &base, &len) < 0)
		base = 0;
	/* the first address after the five AWS keeps, plus a little spread */
	base += 5 + (uint32_t)(lc_now()) % 16;
	snprintf(private_ip, sizeof(private_ip), "%u.%u.%u.%u", base >> 24, (base >> 16) & 255,
		(base >> 8) & 255, base & 255);
	address = json_pack("{s:s, s:s}", "NetworkInterfaceId", eni, "PrivateIp", private_ip);
	if (alloc != NULL) {
		json_object_set_new(address, "AllocationId", json_string(alloc));
		json_object_set(address, "PublicIp", json_object_get(eip.attrs, "PublicIp"));
		json_object_set_new(eip.attrs, "AssociationId", json_string(assoc));
		json_object_set_new(eip.attrs, "NetworkInterfaceId", json_string(eni));
		json_object_set_new(eip.attrs, "NetworkInterfaceOwnerId", json_string(EC2_ACCOUNT));
		json_object_set_new(eip.attrs, "PrivateIpAddress", json_string(private_ip));
		if (resource_update(c->db, &eip) < 0) {
			json_decref(address);
			ec2_internal(c, "nat");
			goto out;
		}
	}
	if (ec2_insert(c, "natgateway", id, NULL, subnet_id,
		    json_pack("{s:f, s:[o], s:s, s:s, s:s, s:s, s:s}", "CreateTime", ec2_now(),
			    "NatGatewayAddresses", address, "NatGatewayId", id, "State", "pending",
			    "SubnetId", subnet_id, "VpcId", subnet.parent, "ConnectivityType", type),
		    ec2_tag_spec(c, "natgateway")) < 0)
		goto out;
	if (ec2_load(c, "natgateway", id, &r) != 1)
		goto out;
	json_object_set_new(c->out, "NatGateway", resource_item(&r));
	if (ec2_str(c, "ClientToken") != NULL)
		json_object_set_new(c->out, "ClientToken", json_string(ec2_str(c, "ClientToken")));
	rc = 0;
out:
	resource_release(&subnet);
	resource_release(&eip);
	resource_release(&r);
	return rc;
}

static int describe_nat_gateways(struct lc_call *c)
{
	return ec2_describe(c, "natgateway", "NatGatewayIds", 1, "Filter", nat_filters,
		"NatGateways", nat_fix);
}

static int delete_nat_gateway(struct lc_call *c)
{
	const char *id, *state;
	struct resource r = RESOURCE_INIT;
	json_t *a;
	size_t i;

	if (ec2_need(c, "NatGatewayId", &id) < 0)
		return -1;
	if (ec2_load(c, "natgateway", id, &r) != 1)
		return -1;
	state = ec2_nat_state(r.attrs);
	if (!strcmp(state, "deleting") || !strcmp(state, "deleted")) {
		resource_release(&r);
		json_object_set_new(c->out, "NatGatewayId", json_string(id));
		return 0;
	}
	json_object_set_new(r.attrs, "State", json_string("deleting"));
	json_object_set_new(r.attrs, "DeleteTime", json_real(ec2_now()));
	/* its addresses are free again */
	json_array_foreach(json_object_get(r.attrs, "NatGatewayAddresses"), i, a) {
		const char *alloc = json_string_value(json_object_get(a, "AllocationId"));
		struct resource eip = RESOURCE_INIT;

		if (alloc == NULL || resource_get(c->db, "ec2", "elastic-ip", alloc, &eip) != 1)
			continue;
		json_object_del(eip.attrs, "AssociationId");
		json_object_del(eip.attrs, "NetworkInterfaceId");
		json_object_del(eip.attrs, "NetworkInterfaceOwnerId");
		json_object_del(eip.attrs, "PrivateIpAddress");
		if (resource_update(c->db, &eip) < 0) {
			resource_release(&eip);
			resource_release(&r);
			return ec2_internal(c, "delete nat");
		}
		resource_release(&eip);
	}
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "delete nat");
	}
	resource_release(&r);
	json_object_set_new(c->out, "NatGatewayId", json_string(id));
	return 0;
}

/* VPC endpoints */

static const char endpoint_policy[] =
	"{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	"\"Action\":\"*\",\"Resource\":\"*\"}]}";

static void endpoint_fix(json_t *item)
{
	const char *state = json_string_value(json_object_get(item, "State"));
	double created = json_number_value(json_object_get(item, "CreationTimestamp"));

	if (state != NULL && !strcmp(state, "pending") &&
		lc_now() >= created + EC2_TRANSITION_SECONDS)
		json_object_set_new(item, "State", json_string("available"));
}

/* the gateway endpoint's route in route table rtb_id: add (1) or remove (0) */
static int endpoint_route(struct lc_call *c, const char *rtb_id, const char *vpc_id,
	const char *endpoint_id, const char *prefix_list, int add)
{
	struct resource r = RESOURCE_INIT;
	long at;
	int rc = 0;

	if (ec2_load(c, "route-table", rtb_id, &r) != 1)
		return -1;
	if (add && strcmp(r.parent, vpc_id)) {
		resource_release(&r);
		return ec2_bad(c, "InvalidParameter",
			"Route table %s does not belong to vpc %s", rtb_id, vpc_id);
	}
	at = route_find(&r, "DestinationPrefixListId", prefix_list);
	if (add && at < 0)
		json_array_append_new(json_object_get(r.attrs, "Routes"),
			json_pack("{s:s, s:s, s:s, s:s}", "DestinationPrefixListId", prefix_list,
				"GatewayId", endpoint_id, "Origin", "CreateRoute", "State", "active"));
	else if (add) {
		resource_release(&r);
		return ec2_bad(c, "RouteAlreadyExists",
			"route table %s already has a route with destination-prefix-list-id %s", rtb_id,
			prefix_list);
	} else if (at >= 0)
		json_array_remove(json_object_get(r.attrs, "Routes"), (size_t)at);
	if (resource_update(c->db, &r) < 0)
		rc = ec2_internal(c, "endpoint route");
	resource_release(&r);
	return rc;
}

/* Groups [{GroupId, GroupName}] of the ids (each a security group of vpc_id), NULL on error */
static json_t *endpoint_groups(struct lc_call *c, const json_t *ids, const char *vpc_id)
{
	json_t *groups = json_array(), *x;
	size_t i;

	json_array_foreach(ids, i, x) {
		struct resource g = RESOURCE_INIT;

		if (ec2_load(c, "security-group", json_string_value(x), &g) != 1) {
			json_decref(groups);
			return NULL;
		}
		if (strcmp(g.parent, vpc_id)) {
			ec2_bad(c, "InvalidParameter", "Security group %s does not belong to vpc %s",
				g.id, vpc_id);
			resource_release(&g);
			json_decref(groups);
			return NULL;
		}
		json_array_append_new(groups, json_pack("{s:s, s:O}", "GroupId", g.id, "GroupName",
						      json_object_get(g.attrs, "GroupName")));
		resource_release(&g);
	}
	return groups;
}

/* check that each subnet is in vpc_id, one per zone */
static int endpoint_subnets(struct lc_call *c, const json_t *ids, const char *vpc_id)
{
	json_t *zones = json_array(), *x, *z;
	size_t i, j;
	int rc = 0;

	json_array_foreach(ids, i, x) {
		struct resource s = RESOURCE_INIT;
		const char *zone;

		if (ec2_load(c, "subnet", json_string_value(x), &s) != 1) {
			rc = -1;
			break;
		}
		zone = json_string_value(json_object_get(s.attrs, "AvailabilityZone"));
		json_array_foreach(zones, j, z)
			if (!strcmp(json_string_value(z), zone))
				rc = ec2_bad(c, "DuplicateSubnetsInSameZone",
					"Found another VPC endpoint subnet in the availability zone "
					"of %s. VPC endpoint subnets should be in different "
					"availability zones supported by the VPC endpoint service.",
					s.id);
		if (rc == 0 && strcmp(s.parent, vpc_id))
			rc = ec2_bad(c, "InvalidParameter", "Subnet %s does not belong to vpc %s", s.id,
				vpc_id);
		json_array_append_new(zones, json_string(zone));
		resource_release(&s);
		if (rc < 0)
			break;
	}
	json_decref(zones);
	return rc;
}

static int create_vpc_endpoint(struct lc_call *c)
{
	static const char *const interface_services[] = { "ecr.api", "ecr.dkr", "logs",
		"secretsmanager", "s3", "sts", "kms", "ssm", "ssmmessages", "ec2messages", "ec2",
		"ecs", "ecs-agent", "ecs-telemetry", "elasticloadbalancing", "monitoring", "sqs",
		"sns", "rds", "dynamodb" };
	const char *vpc_id, *service, *type = ec2_str(c, "VpcEndpointType");
	const char *policy = ec2_str(c, "PolicyDocument");
	const json_t *rtbs = json_object_get(c->in, "RouteTableIds");
	const json_t *subnets = json_object_get(c->in, "SubnetIds");
	const json_t *sgs = json_object_get(c->in, "SecurityGroupIds");
	struct resource vpc = RESOURCE_INIT, r = RESOURCE_INIT;
	char prefix[128], id[40], pl[32], *dns = NULL;
	json_t *attrs = NULL, *groups = NULL, *x;
	const char *svc;
	size_t i;
	int rc = -1, known = 0, pdns;

	if (ec2_need(c, "VpcId", &vpc_id) < 0 || ec2_need(c, "ServiceName", &service) < 0)
		return -1;
	if (type == NULL)
		type = "Gateway";
	if (strcmp(type, "Gateway") && strcmp(type, "Interface"))
		return ec2_bad(c, "InvalidParameter", "Endpoint type (%s) is not a valid VPC endpoint "
			"type", type);
	if (ec2_load(c, "vpc", vpc_id, &vpc) != 1)
		return -1;
	snprintf(prefix, sizeof(prefix), "com.amazonaws.%s.", c->req->region);
	svc = !strncmp(service, prefix, strlen(prefix)) ? service + strlen(prefix) : NULL;
	if (svc != NULL && !strcmp(type, "Gateway"))
		known = ec2_prefix_list(service, pl, sizeof(pl), NULL) == 0;
	else if (svc != NULL)
		for (i = 0; i < ARRAY_SIZE(interface_services); i++)
			if (!strcmp(svc, interface_services[i]))
				known = 1;
	if (!known) {
		ec2_bad(c, "InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist",
			service);
		goto out;
	}
	pdns = ec2_bool(c, "PrivateDnsEnabled", !strcmp(type, "Interface"));
	if (!strcmp(type, "Gateway")) {
		if (json_array_size(subnets) > 0 || json_array_size(sgs) > 0) {
			ec2_bad(c, "InvalidParameter",
				"Subnets and security groups are not supported by a Gateway endpoint");
			goto out;
		}
		pdns = 0;
	} else {
		if (json_array_size(rtbs) > 0) {
			ec2_bad(c, "InvalidParameter",
				"Route tables are not supported by an Interface endpoint");
			goto out;
		}
		if (pdns && (!json_is_true(json_object_get(vpc.attrs, "_EnableDnsSupport")) ||
				    !json_is_true(json_object_get(vpc.attrs, "_EnableDnsHostnames")))) {
			ec2_bad(c, "InvalidParameter",
				"Enabling private DNS requires both enableDnsSupport and "
				"enableDnsHostnames VPC attributes set to true for %s",
				vpc_id);
			goto out;
		}
		if (endpoint_subnets(c, subnets, vpc_id) < 0)
			goto out;
		if (json_array_size(sgs) > 0)
			groups = endpoint_groups(c, sgs, vpc_id);
		else {
			/* the VPC's default security group, as AWS gives */
			json_t *f = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Name", "vpc-id",
				"Values", vpc_id, "Name", "group-name", "Values", "default");
			static const struct resource_filter gf[] = { { "vpc-id", "VpcId" },
				{ "group-name", "GroupName" }, { NULL, NULL } };
			json_t *list = NULL, *ids = json_array();
			const char *bad = NULL;

			if (resource_list(c->db, "ec2", "security-group", NULL, NULL, f, gf, &list,
				    &bad) == 0)
				json_array_foreach(list, i, x)
					json_array_append(ids, json_object_get(x, "GroupId"));
			json_decref(f);
			json_decref(list);
			groups = endpoint_groups(c, ids, vpc_id);
			json_decref(ids);
		}
		if (groups == NULL)
			goto out;
	}
	if (policy != NULL) {
		json_error_t je;
		json_t *doc = json_loads(policy, 0, &je);

		if (doc == NULL) {
			ec2_bad(c, "MalformedPolicy", "Policy document is not valid JSON: %s", je.text);
			goto out;
		}
		json_decref(doc);
	}
	resource_new_id(id, sizeof(id), "vpce");
	attrs = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:[], s:[], s:s, s:b, s:b, s:[], "
			  "s:[], s:f, s:s}",
		"VpcEndpointId", id, "VpcEndpointType", type, "VpcId", vpc_id, "ServiceName",
		service, "State", "pending", "PolicyDocument",
		policy != NULL ? policy : endpoint_policy, "RouteTableIds", "SubnetIds", "Groups",
		"IpAddressType", "ipv4", "PrivateDnsEnabled", pdns, "RequesterManaged", 0,
		"NetworkInterfaceIds", "DnsEntries", "CreationTimestamp", ec2_now(), "OwnerId",
		EC2_ACCOUNT);
	if (!strcmp(type, "Interface")) {
		char suffix[16];

		lc_random_id(suffix, 8, "abcdefghijklmnopqrstuvwxyz0123456789");
		json_object_set_new(attrs, "SubnetIds", json_deep_copy(subnets));
		json_object_set_new(attrs, "Groups", groups);
		groups = NULL;
		json_object_set_new(attrs, "DnsOptions", json_pack("{s:s}", "DnsRecordIpType", "ipv4"));
		dns = xasprintf("%s-%s.%s.%s.vpce.amazonaws.com", id, suffix, svc, c->req->region);
		json_array_append_new(json_object_get(attrs, "DnsEntries"),
			json_pack("{s:s, s:s}", "DnsName", dns, "HostedZoneId", "Z7HUB22UULQXV"));
		if (pdns) {
			char *name = xasprintf("%s.%s.amazonaws.com", svc, c->req->region);

			json_array_append_new(json_object_get(attrs, "DnsEntries"),
				json_pack("{s:s, s:s}", "DnsName", name, "HostedZoneId",
					"Z7HUB22UULQXV"));
			free(name);
		}
	} else {
		json_object_set_new(attrs, "RouteTableIds", json_deep_copy(rtbs));
		json_array_foreach(rtbs, i, x)
			if (endpoint_route(c, json_string_value(x), vpc_id, id, pl, 1) < 0)
				goto out;
	}
	if (ec2_insert(c, "vpc-endpoint", id, NULL, vpc_id, attrs, ec2_tag_spec(c, "vpc-endpoint")) <
		0) {
		attrs = NULL;
		goto out;
	}
	attrs = NULL;
	if (ec2_load(c, "vpc-endpoint", id, &r) != 1)
		goto out;
	json_object_set_new(c->out, "VpcEndpoint", resource_item(&r));
	if (ec2_str(c, "ClientToken") != NULL)
		json_object_set_new(c->out, "ClientToken", json_string(ec2_str(c, "ClientToken")));
	rc = 0;
out:
	free(dns);
	json_decref(attrs);
	json_decref(groups);
	resource_release(&vpc);
	resource_release(&r);
	return rc;
}

static int describe_vpc_endpoints(struct lc_call *c)
{
	return ec2_describe(c, "vpc-endpoint", "VpcEndpointIds", 1, "Filters", endpoint_filters,
		"VpcEndpoints", endpoint_fix);
}

/* remove the values of drop from list, append those of add not yet in it */
static void list_edit(json_t *list, const json_t *add, const json_t *drop, const char *key)
{
	size_t i, j;
	json_t *x, *y;

	json_array_foreach(drop, i, x)
		for (j = 0; j < json_array_size(list);) {
			y = json_array_get(list, j);
			if (key != NULL)
				y = json_object_get(y, key);
			if (json_equal(x, y))
				json_array_remove(list, j);
			else
				j++;
		}
	json_array_foreach(add, i, x) {
		int have = 0;

		json_array_foreach(list, j, y)
			if (json_equal(x, key != NULL ? json_object_get(y, key) : y))
				have = 1;
		if (!have && key == NULL)
			json_array_append(list, x);
	}
}

static int modify_vpc_endpoint(struct lc_call *c)
{
	const char *id, *policy = ec2_str(c, "PolicyDocument");
	struct resource r = RESOURCE_INIT;
	const json_t *add_rt = json_object_get(c->in, "AddRouteTableIds");
	const json_t *del_rt = json_object_get(c->in, "RemoveRouteTableIds");
	const json_t *add_sg = json_object_get(c->in, "AddSecurityGroupIds");
	json_t *x, *groups;
	const char *svc, *vpc;
	char pl[32];
	size_t i;
	int rc = -1;

	if (ec2_need(c, "VpcEndpointId", &id) < 0)
		return -1;
	if (ec2_load(c, "vpc-endpoint", id, &r) != 1)
		return -1;
	svc = json_string_value(json_object_get(r.attrs, "ServiceName"));
	vpc = r.parent;
	if (json_array_size(add_rt) > 0 || json_array_size(del_rt) > 0) {
		if (ec2_prefix_list(svc, pl, sizeof(pl), NULL) < 0) {
			ec2_bad(c, "InvalidParameter",
				"Route tables are not supported by an Interface endpoint");
			goto out;
		}
		json_array_foreach(del_rt, i, x)
			if (endpoint_route(c, json_string_value(x), vpc, id, pl, 0) < 0)
				goto out;
		json_array_foreach(add_rt, i, x)
			if (endpoint_route(c, json_string_value(x), vpc, id, pl, 1) < 0)
				goto out;
		list_edit(json_object_get(r.attrs, "RouteTableIds"), add_rt, del_rt, NULL);
	}
	if (endpoint_subnets(c, json_object_get(c->in, "AddSubnetIds"), vpc) < 0)
		goto out;
	list_edit(json_object_get(r.attrs, "SubnetIds"), json_object_get(c->in, "AddSubnetIds"),
		json_object_get(c->in, "RemoveSubnetIds"), NULL);
	groups = endpoint_groups(c, add_sg, vpc);
	if (groups == NULL)
		goto out;
	list_edit(json_object_get(r.attrs, "Groups"), NULL,
		json_object_get(c->in, "RemoveSecurityGroupIds"), "GroupId");
	json_array_foreach(groups, i, x) {
		size_t j;
		json_t *y;
		int have = 0;

		json_array_foreach(json_object_get(r.attrs, "Groups"), j, y)
			if (json_equal(json_object_get(x, "GroupId"), json_object_get(y, "GroupId")))
				have = 1;
		if (!have)
			json_array_append(json_object_get(r.attrs, "Groups"), x);
	}
	json_decref(groups);
	if (ec2_bool(c, "ResetPolicy", 0))
		json_object_set_new(r.attrs, "PolicyDocument", json_string(endpoint_policy));
	else if (policy != NULL)
		json_object_set_new(r.attrs, "PolicyDocument", json_string(policy));
	if (json_is_boolean(json_object_get(c->in, "PrivateDnsEnabled")))
		json_object_set(r.attrs, "PrivateDnsEnabled",
			json_object_get(c->in, "PrivateDnsEnabled"));
	if (resource_update(c->db, &r) < 0) {
		ec2_internal(c, "modify endpoint");
		goto out;
	}
	rc = return_true(c);
out:
	resource_release(&r);
	return rc;
}

static int delete_vpc_endpoints(struct lc_call *c)
{
	const json_t *ids = json_object_get(c->in, "VpcEndpointIds");
	json_t *failed = json_array(), *x, *rt;
	size_t i, j;

	json_array_foreach(ids, i, x) {
		struct resource r = RESOURCE_INIT;
		const char *id = json_string_value(x);
		char pl[32];

		if (resource_get(c->db, "ec2", "vpc-endpoint", id, &r) != 1) {
			json_array_append_new(failed,
				json_pack("{s:{s:s, s:s}, s:s}", "Error", "Code",
					"InvalidVpcEndpoint.NotFound", "Message",
					"The VPC endpoint does not exist", "ResourceId", id));
			continue;
		}
		if (ec2_prefix_list(json_string_value(json_object_get(r.attrs, "ServiceName")), pl,
			    sizeof(pl), NULL) == 0)
			json_array_foreach(json_object_get(r.attrs, "RouteTableIds"), j, rt) {
				struct resource t = RESOURCE_INIT;

				/* a route table already gone has no route to drop */
				if (resource_get(c->db, "ec2", "route-table", json_string_value(rt),
					    &t) == 1) {
					resource_release(&t);
					if (endpoint_route(c, json_string_value(rt), r.parent, id, pl,
						    0) < 0) {
						resource_release(&r);
						json_decref(failed);
						return -1;
					}
				}
			}
		resource_release(&r);
		if (resource_delete(c->db, "ec2", "vpc-endpoint", id) < 0) {
			json_decref(failed);
			return ec2_internal(c, "delete endpoint");
		}
	}
	json_object_set_new(c->out, "Unsuccessful", failed);
	return 0;
}

#define EC2_OP(name)                                                                     \
	int ec2_##name(struct lc_request *req, const json_t *in, json_t **out,          \
		struct codec_error *err)                                                 \
	{                                                                                \
		return ec2_run(req, in, out, err, name);                                 \
	}

EC2_OP(create_route_table)
EC2_OP(describe_route_tables)
EC2_OP(delete_route_table)
EC2_OP(create_route)
EC2_OP(replace_route)
EC2_OP(delete_route)
EC2_OP(associate_route_table)
EC2_OP(disassociate_route_table)
EC2_OP(replace_route_table_association)
EC2_OP(create_internet_gateway)
EC2_OP(describe_internet_gateways)
EC2_OP(delete_internet_gateway)
EC2_OP(attach_internet_gateway)
EC2_OP(detach_internet_gateway)
EC2_OP(allocate_address)
EC2_OP(describe_addresses)
EC2_OP(describe_addresses_attribute)
EC2_OP(release_address)
EC2_OP(disassociate_address)
EC2_OP(create_nat_gateway)
EC2_OP(describe_nat_gateways)
EC2_OP(delete_nat_gateway)
EC2_OP(create_vpc_endpoint)
EC2_OP(describe_vpc_endpoints)
EC2_OP(modify_vpc_endpoint)
EC2_OP(delete_vpc_endpoints)
