/*
 * ec2/vpc.c: VPCs, their subnets and network ACLs, on the generic store.
 *
 * A VPC comes with what AWS gives one: a main route table (its local
 * route), a default security group (all from itself in, all out) and a
 * default network ACL (rule 100 allow, * deny, both ways), each deleted
 * with it.  A VPC with anything else in it (subnets, route tables,
 * security groups, an internet gateway, endpoints) refuses deletion with
 * DependencyViolation, as AWS does; so does a subnet with a NAT gateway
 * or an interface endpoint in it.  CIDRs are checked as AWS checks them:
 * a network address, /16 to /28, a subnet within its VPC and overlapping
 * no other.
 */
#include "compat.h"

#include <arpa/inet.h>

#include "core/caliberd.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

int ec2_init(struct lc_server *srv, struct err *e)
{
	return resources_init(srv, e);
}

static const struct resource_filter vpc_filters[] = {
	{ "vpc-id", "VpcId" },
	{ "cidr", "CidrBlock" },
	{ "cidr-block-association.cidr-block", "CidrBlockAssociationSet.CidrBlock" },
	{ "cidr-block-association.association-id", "CidrBlockAssociationSet.AssociationId" },
	{ "cidr-block-association.state", "CidrBlockAssociationSet.CidrBlockState.State" },
	{ "dhcp-options-id", "DhcpOptionsId" },
	{ "is-default", "IsDefault" },
	{ "isDefault", "IsDefault" },
	{ "owner-id", "OwnerId" },
	{ "state", "State" },
	{ NULL, NULL },
};

static const struct resource_filter subnet_filters[] = {
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ "availability-zone", "AvailabilityZone" },
	{ "availabilityZone", "AvailabilityZone" },
	{ "availability-zone-id", "AvailabilityZoneId" },
	{ "cidr-block", "CidrBlock" },
	{ "cidr", "CidrBlock" },
	{ "cidrBlock", "CidrBlock" },
	{ "default-for-az", "DefaultForAz" },
	{ "defaultForAz", "DefaultForAz" },
	{ "map-public-ip-on-launch", "MapPublicIpOnLaunch" },
	{ "owner-id", "OwnerId" },
	{ "state", "State" },
	{ "subnet-arn", "SubnetArn" },
	{ NULL, NULL },
};

static const struct resource_filter acl_filters[] = {
	{ "network-acl-id", "NetworkAclId" },
	{ "vpc-id", "VpcId" },
	{ "default", "IsDefault" },
	{ "association.association-id", "Associations.NetworkAclAssociationId" },
	{ "association.network-acl-id", "Associations.NetworkAclId" },
	{ "association.subnet-id", "Associations.SubnetId" },
	{ "owner-id", "OwnerId" },
	{ NULL, NULL },
};

static json_t *acl_entry(int number, const char *action, int egress)
{
	return json_pack("{s:s, s:b, s:s, s:s, s:i}", "CidrBlock", "0.0.0.0/0", "Egress", egress,
		"Protocol", "-1", "RuleAction", action, "RuleNumber", number);
}

static int default_network_acl(struct lc_call *c, const char *vpc_id)
{
	char id[32];
	json_t *attrs;

	resource_new_id(id, sizeof(id), "acl");
	attrs = json_pack("{s:[], s:[o, o, o, o], s:b, s:s, s:s, s:s}", "Associations", "Entries",
		acl_entry(100, "allow", 1), acl_entry(32767, "deny", 1),
		acl_entry(100, "allow", 0), acl_entry(32767, "deny", 0), "IsDefault", 1,
		"NetworkAclId", id, "VpcId", vpc_id, "OwnerId", EC2_ACCOUNT);
	return ec2_insert(c, "network-acl", id, NULL, vpc_id, attrs, json_array());
}

/* The VPC's default network ACL into *r: 1, 0 none, -1 error */
static int vpc_default_acl(struct lc_call *c, const char *vpc_id, struct resource *r)
{
	json_t *list = NULL, *filters;
	const char *bad = NULL;
	int rc;

	filters = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Name", "vpc-id", "Values", vpc_id,
		"Name", "default", "Values", "true");
	rc = resource_list(c->db, "ec2", "network-acl", NULL, NULL, filters, acl_filters, &list,
		&bad);
	json_decref(filters);
	if (rc < 0)
		return ec2_internal(c, "network acl");
	if (json_array_size(list) == 0) {
		json_decref(list);
		return 0;
	}
	rc = ec2_load(c, "network-acl",
		json_string_value(json_object_get(json_array_get(list, 0), "NetworkAclId")), r);
	json_decref(list);
	return rc;
}

static int create_vpc(struct lc_call *c)
{
	const char *cidr, *tenancy = ec2_str(c, "InstanceTenancy");
	char id[32], dopt[32], assoc[48];
	uint32_t addr;
	int len;
	json_t *attrs, *vpc;

	static const char *const unsupported[] = { "AmazonProvidedIpv6CidrBlock",
		"Ipv6CidrBlock", "Ipv6Pool", "Ipv6IpamPoolId", "Ipv4IpamPoolId", NULL };

	if (ec2_unsupported(c, unsupported) < 0)
		return -1;
	if (ec2_need(c, "CidrBlock", &cidr) < 0)
		return -1;
	if (tenancy != NULL && strcmp(tenancy, "default"))
		return ec2_bad(c, "UnsupportedOperation",
			"The instance tenancy %s is not supported by the local cloud", tenancy);
	if (ec2_cidr(cidr, &addr, &len) < 0)
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR "
			"block.",
			cidr);
	if (len < 16 || len > 28)
		return ec2_bad(c, "InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr);
	if (tenancy == NULL)
		tenancy = "default";
	resource_new_id(id, sizeof(id), "vpc");
	resource_new_id(dopt, sizeof(dopt), "dopt");
	resource_new_id(assoc, sizeof(assoc), "vpc-cidr-assoc");
	attrs = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:[{s:s, s:s, s:{s:s}}], s:b, "
			  "s:b, s:b, s:b}",
		"CidrBlock", cidr, "DhcpOptionsId", dopt, "State", "available", "VpcId", id,
		"OwnerId", EC2_ACCOUNT, "InstanceTenancy", tenancy, "Ipv6CidrBlockAssociationSet",
		"CidrBlockAssociationSet", "AssociationId", assoc, "CidrBlock", cidr,
		"CidrBlockState", "State", "associated", "IsDefault", 0,
		/* the attributes DescribeVpcAttribute answers: AWS's defaults for a new VPC */
		"_EnableDnsSupport", 1, "_EnableDnsHostnames", 0, "_EnableNetworkAddressUsageMetrics",
		0);
	{
		char *arn = ec2_arn(c, "vpc", id);
		int rc = ec2_insert(c, "vpc", id, arn, NULL, attrs, ec2_tag_spec(c, "vpc"));

		free(arn);
		if (rc < 0)
			return -1;
	}
	if (ec2_main_route_table(c, id, cidr) < 0 || ec2_default_security_group(c, id) < 0 ||
		default_network_acl(c, id) < 0)
		return -1;
	{
		struct resource r = RESOURCE_INIT;

		if (ec2_load(c, "vpc", id, &r) != 1)
			return -1;
		vpc = resource_item(&r);
		resource_release(&r);
	}
	json_object_set_new(c->out, "Vpc", vpc);
	return 0;
}

static int describe_vpcs(struct lc_call *c)
{
	return ec2_describe(c, "vpc", "VpcIds", 1, "Filters", vpc_filters, "Vpcs", NULL);
}

/* How many resources of type in vpc match the extra filter (NULL: all); -1 error. */
static int vpc_count(struct lc_call *c, const char *type, const char *vpc_id,
	const struct resource_filter *known, json_t *filters)
{
	json_t *list = NULL;
	const char *bad = NULL;
	int n;

	if (filters == NULL)
		return resource_count_children(c->db, "ec2", type, vpc_id);
	if (resource_list(c->db, "ec2", type, NULL, NULL, filters, known, &list, &bad) < 0)
		return -1;
	n = (int)json_array_size(list);
	json_decref(list);
	return n;
}

static const struct resource_filter vpc_child_filters[] = {
	{ "vpc-id", "VpcId" },
	{ "main", "Associations.Main" },
	{ "group-name", "GroupName" },
	{ "attachment.vpc-id", "Attachments.VpcId" },
	{ "state", "State" },
	{ NULL, NULL },
};

static int delete_vpc(struct lc_call *c)
{
	const char *id;
	struct resource r = RESOURCE_INIT, acl = RESOURCE_INIT;
	json_t *f;
	int n, rc;

	if (ec2_need(c, "VpcId", &id) < 0)
		return -1;
	if (ec2_load(c, "vpc", id, &r) != 1)
		return -1;
	resource_release(&r);
	/* what keeps a VPC: all but its main route table, default group and default ACL */
	n = resource_count_children(c->db, "ec2", "subnet", id);
	if (n == 0)
		n = resource_count_children(c->db, "ec2", "vpc-endpoint", id);
	if (n == 0) {
		f = json_pack("[{s:s, s:[s]}]", "Name", "attachment.vpc-id", "Values", id);
		n = vpc_count(c, "internet-gateway", id, vpc_child_filters, f);
		json_decref(f);
	}
	if (n == 0) {
		int all = resource_count_children(c->db, "ec2", "route-table", id);

		f = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Name", "vpc-id", "Values", id, "Name",
			"main", "Values", "true");
		n = vpc_count(c, "route-table", id, vpc_child_filters, f);
		json_decref(f);
		n = all < 0 || n < 0 ? -1 : all - n;
	}
	if (n == 0) {
		int all = resource_count_children(c->db, "ec2", "security-group", id);

		f = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Name", "vpc-id", "Values", id, "Name",
			"group-name", "Values", "default");
		n = vpc_count(c, "security-group", id, vpc_child_filters, f);
		json_decref(f);
		n = all < 0 || n < 0 ? -1 : all - n;
	}
	if (n < 0)
		return ec2_internal(c, "delete vpc");
	if (n > 0)
		return ec2_bad(c, "DependencyViolation",
			"The vpc '%s' has dependencies and cannot be deleted.", id);
	/* what goes with it */
	if (ec2_security_groups_drop(c, id) < 0)
		return -1;
	rc = vpc_default_acl(c, id, &acl);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (resource_delete(c->db, "ec2", "network-acl", acl.id) < 0) {
			resource_release(&acl);
			return ec2_internal(c, "delete vpc");
		}
		resource_release(&acl);
	}
	{
		json_t *list = NULL, *x;
		const char *bad = NULL;
		size_t i;

		f = json_pack("[{s:s, s:[s]}]", "Name", "vpc-id", "Values", id);
		if (resource_list(c->db, "ec2", "route-table", NULL, NULL, f, vpc_child_filters,
			    &list, &bad) < 0) {
			json_decref(f);
			return ec2_internal(c, "delete vpc");
		}
		json_decref(f);
		json_array_foreach(list, i, x)
			if (resource_delete(c->db, "ec2", "route-table",
				    json_string_value(json_object_get(x, "RouteTableId"))) < 0) {
				json_decref(list);
				return ec2_internal(c, "delete vpc");
			}
		json_decref(list);
		/* flow logs of the VPC go with it, as on AWS */
		f = json_pack("[{s:s, s:[s]}]", "Name", "resource-id", "Values", id);
		list = NULL;
		{
			static const struct resource_filter fl[] = { { "resource-id", "ResourceId" },
				{ NULL, NULL } };

			if (resource_list(c->db, "ec2", "vpc-flow-log", NULL, NULL, f, fl, &list,
				    &bad) < 0) {
				json_decref(f);
				return ec2_internal(c, "delete vpc");
			}
		}
		json_decref(f);
		json_array_foreach(list, i, x)
			resource_delete(c->db, "ec2", "vpc-flow-log",
				json_string_value(json_object_get(x, "FlowLogId")));
		json_decref(list);
	}
	if (resource_delete(c->db, "ec2", "vpc", id) < 0)
		return ec2_internal(c, "delete vpc");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static const struct {
	const char *name;	/* the Attribute value */
	const char *member;	/* the output and ModifyVpcAttribute member */
} vpc_attributes[] = {
	{ "enableDnsSupport", "EnableDnsSupport" },
	{ "enableDnsHostnames", "EnableDnsHostnames" },
	{ "enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics" },
};

static int describe_vpc_attribute(struct lc_call *c)
{
	const char *id, *attr;
	struct resource r = RESOURCE_INIT;
	size_t i;
	char key[64];

	if (ec2_need(c, "VpcId", &id) < 0 || ec2_need(c, "Attribute", &attr) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(vpc_attributes); i++)
		if (!strcmp(vpc_attributes[i].name, attr))
			break;
	if (i == ARRAY_SIZE(vpc_attributes))
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter attribute is invalid. Unknown attribute.", attr);
	if (ec2_load(c, "vpc", id, &r) != 1)
		return -1;
	snprintf(key, sizeof(key), "_%s", vpc_attributes[i].member);
	json_object_set_new(c->out, "VpcId", json_string(id));
	json_object_set_new(c->out, vpc_attributes[i].member,
		json_pack("{s:b}", "Value", json_is_true(json_object_get(r.attrs, key))));
	resource_release(&r);
	return 0;
}

static int modify_vpc_attribute(struct lc_call *c)
{
	const char *id;
	struct resource r = RESOURCE_INIT;
	size_t i, n = 0;

	if (ec2_need(c, "VpcId", &id) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(vpc_attributes); i++)
		if (json_object_get(c->in, vpc_attributes[i].member) != NULL)
			n++;
	if (n == 0)
		return ec2_bad(c, "MissingParameter",
			"The request must contain exactly one attribute to modify");
	if (n > 1)
		return ec2_bad(c, "InvalidParameterCombination",
			"Fields for multiple attribute types specified: %s",
			"only one attribute can be modified at a time");
	if (ec2_load(c, "vpc", id, &r) != 1)
		return -1;
	for (i = 0; i < ARRAY_SIZE(vpc_attributes); i++) {
		json_t *v = json_object_get(json_object_get(c->in, vpc_attributes[i].member),
			"Value");
		char key[64];

		if (json_object_get(c->in, vpc_attributes[i].member) == NULL)
			continue;
		if (!json_is_boolean(v)) {
			resource_release(&r);
			return ec2_bad(c, "InvalidParameterValue",
				"Value for parameter %s.Value is missing", vpc_attributes[i].member);
		}
		if (!strcmp(vpc_attributes[i].member, "EnableDnsHostnames") && json_is_true(v) &&
			!json_is_true(json_object_get(r.attrs, "_EnableDnsSupport"))) {
			resource_release(&r);
			return ec2_bad(c, "InvalidParameterValue",
				"DNS hostnames can only be enabled for a VPC with DNS support "
				"enabled");
		}
		snprintf(key, sizeof(key), "_%s", vpc_attributes[i].member);
		json_object_set(r.attrs, key, v);
	}
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "modify vpc");
	}
	resource_release(&r);
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

/* Subnets */

static int create_subnet(struct lc_call *c)
{
	const char *vpc_id, *cidr, *zone = ec2_str(c, "AvailabilityZone");
	const char *zone_id = ec2_str(c, "AvailabilityZoneId");
	struct resource vpc = RESOURCE_INIT, acl = RESOURCE_INIT;
	json_t *zones = NULL, *z, *others = NULL, *o, *attrs, *subnet, *f;
	const char *chosen = NULL, *chosen_id = NULL, *bad = NULL;
	uint32_t addr, vaddr;
	int len, vlen, rc = -1;
	char id[40];
	size_t i;

	static const char *const unsupported[] = { "Ipv6CidrBlock", "Ipv6Native", "OutpostArn",
		"Ipv4IpamPoolId", "Ipv6IpamPoolId", NULL };

	if (ec2_unsupported(c, unsupported) < 0)
		return -1;
	if (ec2_need(c, "VpcId", &vpc_id) < 0 || ec2_need(c, "CidrBlock", &cidr) < 0)
		return -1;
	if (ec2_load(c, "vpc", vpc_id, &vpc) != 1)
		return -1;
	if (ec2_cidr(cidr, &addr, &len) < 0) {
		ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR "
			"block.",
			cidr);
		goto out;
	}
	if (ec2_cidr(json_string_value(json_object_get(vpc.attrs, "CidrBlock")), &vaddr, &vlen) <
			0 ||
		len > 28 || !ec2_cidr_within(addr, len, vaddr, vlen)) {
		ec2_bad(c, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr);
		goto out;
	}
	zones = ec2_zones(c->req->region);
	json_array_foreach(zones, i, z) {
		const char *n = json_string_value(json_object_get(z, "ZoneName"));
		const char *zi = json_string_value(json_object_get(z, "ZoneId"));

		if ((zone == NULL && zone_id == NULL && i == 0) ||
			(zone != NULL && !strcmp(zone, n)) || (zone_id != NULL && !strcmp(zone_id, zi))) {
			chosen = n;
			chosen_id = zi;
		}
	}
	if (chosen == NULL) {
		struct buf names = BUF_INIT;

		json_array_foreach(zones, i, z) {
			if (i > 0)
				buf_appends(&names, ", ");
			buf_appends(&names, json_string_value(json_object_get(z, "ZoneName")));
		}
		ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter availabilityZone is invalid. Subnets can currently "
			"only be created in the following availability zones: %s.",
			zone != NULL ? zone : zone_id, names.data);
		buf_release(&names);
		goto out;
	}
	f = json_pack("[{s:s, s:[s]}]", "Name", "vpc-id", "Values", vpc_id);
	if (resource_list(c->db, "ec2", "subnet", NULL, NULL, f, subnet_filters, &others, &bad) <
		0) {
		json_decref(f);
		ec2_internal(c, "create subnet");
		goto out;
	}
	json_decref(f);
	json_array_foreach(others, i, o) {
		uint32_t oaddr;
		int olen;

		if (ec2_cidr(json_string_value(json_object_get(o, "CidrBlock")), &oaddr, &olen) == 0 &&
			ec2_cidr_overlap(addr, len, oaddr, olen)) {
			ec2_bad(c, "InvalidSubnet.Conflict",
				"The CIDR '%s' conflicts with another subnet", cidr);
			goto out;
		}
	}
	resource_new_id(id, sizeof(id), "subnet");
	{
		char *arn = ec2_arn(c, "subnet", id);

		/* AWS keeps five addresses of every subnet */
		attrs = json_pack("{s:s, s:s, s:I, s:s, s:b, s:b, s:s, s:s, s:s, s:s, s:b, "
				  "s:[], s:b, s:b, s:{s:s, s:b, s:b}, s:s}",
			"AvailabilityZone", chosen, "AvailabilityZoneId", chosen_id,
			"AvailableIpAddressCount", (json_int_t)((1LL << (32 - len)) - 5), "CidrBlock",
			cidr, "DefaultForAz", 0, "MapPublicIpOnLaunch", 0, "State", "available",
			"SubnetId", id, "VpcId", vpc_id, "OwnerId", EC2_ACCOUNT,
			"AssignIpv6AddressOnCreation", 0, "Ipv6CidrBlockAssociationSet",
			"EnableDns64", 0, "Ipv6Native", 0, "PrivateDnsNameOptionsOnLaunch",
			"HostnameType", "ip-name", "EnableResourceNameDnsARecord", 0,
			"EnableResourceNameDnsAAAARecord", 0, "SubnetArn", arn);
		rc = ec2_insert(c, "subnet", id, arn, vpc_id, attrs, ec2_tag_spec(c, "subnet"));
		free(arn);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	/* a new subnet is associated with its VPC's default network ACL */
	if (vpc_default_acl(c, vpc_id, &acl) == 1) {
		char assoc[40];

		resource_new_id(assoc, sizeof(assoc), "aclassoc");
		json_array_append_new(json_object_get(acl.attrs, "Associations"),
			json_pack("{s:s, s:s, s:s}", "NetworkAclAssociationId", assoc, "NetworkAclId",
				acl.id, "SubnetId", id));
		if (resource_update(c->db, &acl) < 0) {
			ec2_internal(c, "create subnet");
			goto out;
		}
	}
	{
		struct resource r = RESOURCE_INIT;

		if (ec2_load(c, "subnet", id, &r) != 1)
			goto out;
		subnet = resource_item(&r);
		resource_release(&r);
	}
	json_object_set_new(c->out, "Subnet", subnet);
	rc = 0;
out:
	json_decref(zones);
	json_decref(others);
	resource_release(&vpc);
	resource_release(&acl);
	return rc;
}

static int describe_subnets(struct lc_call *c)
{
	return ec2_describe(c, "subnet", "SubnetIds", 1, "Filters", subnet_filters, "Subnets",
		NULL);
}

/* Remove subnet_id from every association list of type's resources in vpc (key: its id member). */
static int drop_associations(struct lc_call *c, const char *type, const char *vpc_id,
	const char *subnet_id)
{
	static const struct resource_filter f_vpc[] = { { "vpc-id", "VpcId" }, { NULL, NULL } };
	json_t *list = NULL, *f, *x;
	const char *bad = NULL;
	size_t i;
	int rc = 0;

	f = json_pack("[{s:s, s:[s]}]", "Name", "vpc-id", "Values", vpc_id);
	if (resource_list(c->db, "ec2", type, NULL, NULL, f, f_vpc, &list, &bad) < 0) {
		json_decref(f);
		return ec2_internal(c, "associations");
	}
	json_decref(f);
	json_array_foreach(list, i, x) {
		const char *key = !strcmp(type, "network-acl") ? "NetworkAclId" : "RouteTableId";
		struct resource r = RESOURCE_INIT;
		json_t *assocs, *a;
		size_t j;
		int changed = 0;

		if (ec2_load(c, type, json_string_value(json_object_get(x, key)), &r) != 1) {
			rc = -1;
			break;
		}
		assocs = json_object_get(r.attrs, "Associations");
		for (j = 0; j < json_array_size(assocs);) {
			a = json_array_get(assocs, j);
			if (json_is_string(json_object_get(a, "SubnetId")) &&
				!strcmp(json_string_value(json_object_get(a, "SubnetId")), subnet_id)) {
				json_array_remove(assocs, j);
				changed = 1;
			} else
				j++;
		}
		if (changed && resource_update(c->db, &r) < 0)
			rc = ec2_internal(c, "associations");
		resource_release(&r);
		if (rc < 0)
			break;
	}
	json_decref(list);
	return rc;
}

static int delete_subnet(struct lc_call *c)
{
	static const struct resource_filter f_endpoint[] = { { "subnet-id", "SubnetIds" },
		{ NULL, NULL } };
	const char *id, *bad = NULL;
	struct resource r = RESOURCE_INIT;
	json_t *nats = NULL, *eps = NULL, *f, *x;
	size_t i;
	int busy = 0;

	if (ec2_need(c, "SubnetId", &id) < 0)
		return -1;
	if (ec2_load(c, "subnet", id, &r) != 1)
		return -1;
	/* NAT gateways not yet deleted, and interface endpoints, hold interfaces in it */
	f = json_pack("[{s:s, s:[s]}]", "Name", "subnet-id", "Values", id);
	if (resource_list(c->db, "ec2", "natgateway", NULL, NULL, NULL, NULL, &nats, &bad) < 0 ||
		resource_list(c->db, "ec2", "vpc-endpoint", NULL, NULL, f, f_endpoint, &eps, &bad) <
			0) {
		json_decref(f);
		json_decref(nats);
		resource_release(&r);
		return ec2_internal(c, "delete subnet");
	}
	json_decref(f);
	busy = json_array_size(eps) > 0;
	json_array_foreach(nats, i, x) {
		const char *sid = json_string_value(json_object_get(x, "SubnetId"));

		if (sid != NULL && !strcmp(sid, id) && strcmp(ec2_nat_state(x), "deleted"))
			busy = 1;
	}
	json_decref(eps);
	if (busy) {
		json_decref(nats);
		resource_release(&r);
		return ec2_bad(c, "DependencyViolation",
			"The subnet '%s' has dependencies and cannot be deleted.", id);
	}
	/* deleted NAT gateways linger in describes until their subnet goes */
	json_array_foreach(nats, i, x) {
		const char *sid = json_string_value(json_object_get(x, "SubnetId"));

		if (sid != NULL && !strcmp(sid, id))
			resource_delete(c->db, "ec2", "natgateway",
				json_string_value(json_object_get(x, "NatGatewayId")));
	}
	json_decref(nats);
	if (drop_associations(c, "route-table", r.parent, id) < 0 ||
		drop_associations(c, "network-acl", r.parent, id) < 0) {
		resource_release(&r);
		return -1;
	}
	resource_release(&r);
	if (resource_delete(c->db, "ec2", "subnet", id) < 0)
		return ec2_internal(c, "delete subnet");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int modify_subnet_attribute(struct lc_call *c)
{
	static const struct {
		const char *in, *attr;
	} bools[] = {
		{ "MapPublicIpOnLaunch", "MapPublicIpOnLaunch" },
		{ "AssignIpv6AddressOnCreation", "AssignIpv6AddressOnCreation" },
		{ "EnableDns64", "EnableDns64" },
	};
	const char *id, *hostname;
	struct resource r = RESOURCE_INIT;
	json_t *v, *pdns;
	size_t i;

	if (ec2_need(c, "SubnetId", &id) < 0)
		return -1;
	if (ec2_load(c, "subnet", id, &r) != 1)
		return -1;
	for (i = 0; i < ARRAY_SIZE(bools); i++) {
		v = json_object_get(json_object_get(c->in, bools[i].in), "Value");
		if (json_is_boolean(v))
			json_object_set(r.attrs, bools[i].attr, v);
	}
	pdns = json_object_get(r.attrs, "PrivateDnsNameOptionsOnLaunch");
	hostname = ec2_str(c, "PrivateDnsHostnameTypeOnLaunch");
	if (hostname != NULL) {
		if (strcmp(hostname, "ip-name") && strcmp(hostname, "resource-name")) {
			resource_release(&r);
			return ec2_bad(c, "InvalidParameterValue",
				"Value (%s) for parameter PrivateDnsHostnameTypeOnLaunch is invalid",
				hostname);
		}
		json_object_set_new(pdns, "HostnameType", json_string(hostname));
	}
	v = json_object_get(json_object_get(c->in, "EnableResourceNameDnsARecordOnLaunch"), "Value");
	if (json_is_boolean(v))
		json_object_set(pdns, "EnableResourceNameDnsARecord", v);
	v = json_object_get(json_object_get(c->in, "EnableResourceNameDnsAAAARecordOnLaunch"),
		"Value");
	if (json_is_boolean(v))
		json_object_set(pdns, "EnableResourceNameDnsAAAARecord", v);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return ec2_internal(c, "modify subnet");
	}
	resource_release(&r);
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int describe_network_acls(struct lc_call *c)
{
	return ec2_describe(c, "network-acl", "NetworkAclIds", 1, "Filters", acl_filters,
		"NetworkAcls", NULL);
}

int ec2_create_vpc(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, create_vpc);
}

int ec2_describe_vpcs(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_vpcs);
}

int ec2_delete_vpc(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, delete_vpc);
}

int ec2_describe_vpc_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_vpc_attribute);
}

int ec2_modify_vpc_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, modify_vpc_attribute);
}

int ec2_create_subnet(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, create_subnet);
}

int ec2_describe_subnets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_subnets);
}

int ec2_delete_subnet(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, delete_subnet);
}

int ec2_modify_subnet_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, modify_subnet_attribute);
}

int ec2_describe_network_acls(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_network_acls);
}
