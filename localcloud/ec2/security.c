/*
 * ec2/security.c: security groups, their rules and flow logs, on the
 * generic store.
 *
 * A rule is a resource of its own (type "security-group-rule", "sgr-" id,
 * its group as parent), as DescribeSecurityGroupRules shows it; a group's
 * IpPermissions and IpPermissionsEgress are put together from its rules
 * when described, merged by protocol and ports as AWS merges them.  A new
 * group of a VPC gets AWS's allow-all egress rule; a VPC's default group
 * also allows all from itself.  Duplicate rules are refused
 * (InvalidPermission.Duplicate), revoking a rule that is not there too
 * (InvalidPermission.NotFound); a group referenced by another group's
 * rule or used by an endpoint refuses deletion (DependencyViolation), the
 * default group refuses it always (CannotDelete).
 *
 * Flow logs are recorded (state ACTIVE, delivery SUCCESS): nothing
 * captures traffic, so nothing is written to their destination.
 */
#include "compat.h"

#include <ctype.h>

#include "core/caliberd.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

static const struct resource_filter sg_filters[] = {
	{ "group-id", "GroupId" },
	{ "group-name", "GroupName" },
	{ "vpc-id", "VpcId" },
	{ "description", "Description" },
	{ "owner-id", "OwnerId" },
	{ "ip-permission.protocol", "IpPermissions.IpProtocol" },
	{ "ip-permission.from-port", "IpPermissions.FromPort" },
	{ "ip-permission.to-port", "IpPermissions.ToPort" },
	{ "ip-permission.cidr", "IpPermissions.IpRanges.CidrIp" },
	{ "ip-permission.group-id", "IpPermissions.UserIdGroupPairs.GroupId" },
	{ "egress.ip-permission.protocol", "IpPermissionsEgress.IpProtocol" },
	{ "egress.ip-permission.cidr", "IpPermissionsEgress.IpRanges.CidrIp" },
	{ "egress.ip-permission.group-id", "IpPermissionsEgress.UserIdGroupPairs.GroupId" },
	{ NULL, NULL },
};

static const struct resource_filter rule_filters[] = {
	{ "group-id", "GroupId" },
	{ "security-group-rule-id", "SecurityGroupRuleId" },
	{ "is-egress", "IsEgress" },
	{ NULL, NULL },
};

static const struct resource_filter flow_log_filters[] = {
	{ "flow-log-id", "FlowLogId" },
	{ "resource-id", "ResourceId" },
	{ "log-group-name", "LogGroupName" },
	{ "traffic-type", "TrafficType" },
	{ "deliver-log-status", "DeliverLogsStatus" },
	{ "log-destination-type", "LogDestinationType" },
	{ NULL, NULL },
};

static int no_output(struct lc_call *c)
{
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

/* The rules of group id (a new array of rule items), NULL on error. */
static json_t *group_rules(struct lc_call *c, const char *group_id)
{
	json_t *f = json_pack("[{s:s, s:[s]}]", "Name", "group-id", "Values", group_id);
	json_t *list = NULL;
	const char *bad = NULL;

	if (resource_list(c->db, "ec2", "security-group-rule", NULL, NULL, f, rule_filters, &list,
		    &bad) < 0)
		list = NULL;
	json_decref(f);
	return list;
}

/* The peer of a rule as IpPermission puts it: which list, and the element. */
static void rule_peer(const json_t *rule, const char **list, json_t **peer)
{
	const char *d = json_string_value(json_object_get(rule, "Description"));
	json_t *ref = json_object_get(rule, "ReferencedGroupInfo");

	if (json_object_get(rule, "CidrIpv4") != NULL) {
		*list = "IpRanges";
		*peer = json_pack("{s:O}", "CidrIp", json_object_get(rule, "CidrIpv4"));
	} else if (json_object_get(rule, "CidrIpv6") != NULL) {
		*list = "Ipv6Ranges";
		*peer = json_pack("{s:O}", "CidrIpv6", json_object_get(rule, "CidrIpv6"));
	} else if (json_object_get(rule, "PrefixListId") != NULL) {
		*list = "PrefixListIds";
		*peer = json_pack("{s:O}", "PrefixListId", json_object_get(rule, "PrefixListId"));
	} else {
		*list = "UserIdGroupPairs";
		*peer = json_pack("{s:O, s:O}", "GroupId", json_object_get(ref, "GroupId"), "UserId",
			json_object_get(ref, "UserId"));
	}
	if (d != NULL && *d != '\0')
		json_object_set_new(*peer, "Description", json_string(d));
}

/* rules -> IpPermissions (egress 0) or IpPermissionsEgress (1), merged as AWS merges */
static json_t *permissions(const json_t *rules, int egress)
{
	json_t *perms = json_array(), *r, *p;
	size_t i, j;

	json_array_foreach(rules, i, r) {
		const char *proto = json_string_value(json_object_get(r, "IpProtocol"));
		json_int_t from = json_integer_value(json_object_get(r, "FromPort"));
		json_int_t to = json_integer_value(json_object_get(r, "ToPort"));
		const char *list;
		json_t *peer, *found = NULL;

		if (json_is_true(json_object_get(r, "IsEgress")) != egress)
			continue;
		json_array_foreach(perms, j, p)
			if (!strcmp(json_string_value(json_object_get(p, "IpProtocol")), proto) &&
				json_integer_value(json_object_get(p, "_from")) == from &&
				json_integer_value(json_object_get(p, "_to")) == to)
				found = p;
		if (found == NULL) {
			found = json_pack("{s:s, s:[], s:[], s:[], s:[], s:I, s:I}", "IpProtocol", proto,
				"IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs", "_from",
				from, "_to", to);
			if (strcmp(proto, "-1")) {
				json_object_set_new(found, "FromPort", json_integer(from));
				json_object_set_new(found, "ToPort", json_integer(to));
			}
			json_array_append_new(perms, found);
		}
		rule_peer(r, &list, &peer);
		json_array_append_new(json_object_get(found, list), peer);
	}
	json_array_foreach(perms, j, p) {
		json_object_del(p, "_from");
		json_object_del(p, "_to");
	}
	return perms;
}

static int describe_security_groups(struct lc_call *c)
{
	const json_t *names = json_object_get(c->in, "GroupNames");
	const json_t *filters = json_object_get(c->in, "Filters");
	json_t *list, *kept, *g, *x;
	const char *bad = NULL;
	size_t i, j;

	{
		const json_t *ids = json_object_get(c->in, "GroupIds");
		const char *bad_unused = NULL;

		json_array_foreach(ids, i, x) {
			struct resource r = RESOURCE_INIT;

			if (ec2_load(c, "security-group", json_string_value(x), &r) != 1)
				return -1;
			resource_release(&r);
		}
		list = NULL;
		if (resource_list(c->db, "ec2", "security-group", c->req->region,
			    json_array_size(ids) > 0 ? ids : NULL, NULL, NULL, &list,
			    &bad_unused) < 0)
			return ec2_internal(c, "describe groups");
	}
	kept = json_array();
	json_array_foreach(list, i, g) {
		json_t *rules = group_rules(c, json_string_value(json_object_get(g, "GroupId")));
		int m = 1;

		if (rules == NULL) {
			json_decref(kept);
			json_decref(list);
			return ec2_internal(c, "describe groups");
		}
		json_object_set_new(g, "IpPermissions", permissions(rules, 0));
		json_object_set_new(g, "IpPermissionsEgress", permissions(rules, 1));
		json_decref(rules);
		if (json_array_size(names) > 0) {
			m = 0;
			json_array_foreach(names, j, x)
				if (json_equal(x, json_object_get(g, "GroupName")))
					m = 1;
		}
		if (m && filters != NULL)
			m = resource_match(g, filters, sg_filters, &bad);
		if (m == -2) {
			json_decref(kept);
			json_decref(list);
			return ec2_bad(c, "InvalidParameterValue", "The filter '%s' is invalid", bad);
		}
		if (m)
			json_array_append(kept, g);
	}
	json_decref(list);
	json_array_foreach(names, j, x) {
		int found = 0;

		json_array_foreach(kept, i, g)
			if (json_equal(x, json_object_get(g, "GroupName")))
				found = 1;
		if (!found) {
			json_decref(kept);
			return ec2_bad(c, "InvalidGroup.NotFound",
				"The security group '%s' does not exist in default VPC 'none'",
				json_string_value(x));
		}
	}
	json_object_set_new(c->out, "SecurityGroups", kept);
	return 0;
}

/* A rule resource of group g: peer is one of CidrIpv4 / CidrIpv6 / PrefixListId / group id. */
static int rule_insert(struct lc_call *c, const char *group_id, int egress, const char *proto,
	json_int_t from, json_int_t to, const char *peer_member, const char *peer,
	const char *description, json_t *tags, json_t *created)
{
	char id[40], *arn;
	json_t *attrs;
	int rc;

	resource_new_id(id, sizeof(id), "sgr");
	attrs = json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "SecurityGroupRuleId", id,
		"GroupId", group_id, "GroupOwnerId", EC2_ACCOUNT, "IsEgress", egress, "IpProtocol",
		proto, "FromPort", from, "ToPort", to);
	if (!strcmp(peer_member, "ReferencedGroupInfo"))
		json_object_set_new(attrs, "ReferencedGroupInfo",
			json_pack("{s:s, s:s}", "GroupId", peer, "UserId", EC2_ACCOUNT));
	else
		json_object_set_new(attrs, peer_member, json_string(peer));
	if (description != NULL)
		json_object_set_new(attrs, "Description", json_string(description));
	if (created != NULL) {
		json_t *item = json_deep_copy(attrs);

		if (json_array_size(tags) > 0)
			json_object_set(item, "Tags", tags);
		json_array_append_new(created, item);
	}
	arn = ec2_arn(c, "security-group-rule", id);
	rc = ec2_insert(c, "security-group-rule", id, arn, group_id, attrs, tags);
	free(arn);
	return rc;
}

int ec2_default_security_group(struct lc_call *c, const char *vpc_id)
{
	char id[32], *arn;
	int rc;

	resource_new_id(id, sizeof(id), "sg");
	arn = ec2_arn(c, "security-group", id);
	rc = ec2_insert(c, "security-group", id, arn, vpc_id,
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "Description", "default VPC security group",
			"GroupName", "default", "OwnerId", EC2_ACCOUNT, "GroupId", id, "VpcId",
			vpc_id),
		json_array());
	free(arn);
	if (rc < 0)
		return -1;
	if (rule_insert(c, id, 0, "-1", -1, -1, "ReferencedGroupInfo", id, NULL, json_array(),
		    NULL) < 0)
		return -1;
	return rule_insert(c, id, 1, "-1", -1, -1, "CidrIpv4", "0.0.0.0/0", NULL, json_array(),
		NULL);
}

static int create_security_group(struct lc_call *c)
{
	const char *name, *desc, *vpc_id = ec2_str(c, "VpcId");
	struct resource vpc = RESOURCE_INIT;
	json_t *same, *f, *tags;
	const char *bad = NULL;
	char id[32], *arn;
	int rc;

	if (ec2_need(c, "GroupName", &name) < 0)
		return -1;
	if ((desc = ec2_str(c, "Description")) == NULL)
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter GroupDescription");
	if (vpc_id == NULL)
		return ec2_bad(c, "VPCIdNotSpecified", "No default VPC for this user");
	if (!strncmp(name, "sg-", 3))
		return ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter GroupName is invalid. Group names may not be in "
			"the format sg-*.",
			name);
	if (strlen(name) > 255 || strlen(desc) > 255)
		return ec2_bad(c, "InvalidParameterValue",
			"Value for parameter GroupName or GroupDescription is longer than 255 "
			"characters");
	if (ec2_load(c, "vpc", vpc_id, &vpc) != 1)
		return -1;
	resource_release(&vpc);
	f = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "Name", "vpc-id", "Values", vpc_id, "Name",
		"group-name", "Values", name);
	rc = resource_list(c->db, "ec2", "security-group", NULL, NULL, f, sg_filters, &same, &bad);
	json_decref(f);
	if (rc < 0)
		return ec2_internal(c, "create group");
	rc = json_array_size(same) > 0;
	json_decref(same);
	if (rc)
		return ec2_bad(c, "InvalidGroup.Duplicate",
			"The security group '%s' already exists for VPC '%s'", name, vpc_id);
	resource_new_id(id, sizeof(id), "sg");
	arn = ec2_arn(c, "security-group", id);
	tags = ec2_tag_spec(c, "security-group");
	if (json_array_size(tags) > 0)
		json_object_set_new(c->out, "Tags", json_deep_copy(tags));
	rc = ec2_insert(c, "security-group", id, arn, vpc_id,
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "Description", desc, "GroupName", name,
			"OwnerId", EC2_ACCOUNT, "GroupId", id, "VpcId", vpc_id),
		tags);
	free(arn);
	if (rc < 0)
		return -1;
	/* AWS's default egress rule of a new VPC security group */
	if (rule_insert(c, id, 1, "-1", -1, -1, "CidrIpv4", "0.0.0.0/0", NULL, json_array(), NULL) <
		0)
		return -1;
	json_object_set_new(c->out, "GroupId", json_string(id));
	return 0;
}

/* rules of other groups that reference id, or endpoints that use it: 1, 0, -1 */
static int group_in_use(struct lc_call *c, const char *id)
{
	static const struct resource_filter f_ref[] = {
		{ "referenced-group-id", "ReferencedGroupInfo.GroupId" },
		{ "group-id", "Groups.GroupId" },
		{ NULL, NULL },
	};
	json_t *f = json_pack("[{s:s, s:[s]}]", "Name", "referenced-group-id", "Values", id);
	json_t *list = NULL, *x;
	const char *bad = NULL;
	size_t i;
	int used = 0;

	if (resource_list(c->db, "ec2", "security-group-rule", NULL, NULL, f, f_ref, &list, &bad) <
		0) {
		json_decref(f);
		return -1;
	}
	json_decref(f);
	json_array_foreach(list, i, x)
		if (strcmp(json_string_value(json_object_get(x, "GroupId")), id))
			used = 1;
	json_decref(list);
	if (used)
		return 1;
	f = json_pack("[{s:s, s:[s]}]", "Name", "group-id", "Values", id);
	list = NULL;
	if (resource_list(c->db, "ec2", "vpc-endpoint", NULL, NULL, f, f_ref, &list, &bad) < 0) {
		json_decref(f);
		return -1;
	}
	json_decref(f);
	used = json_array_size(list) > 0;
	json_decref(list);
	return used;
}

/* delete group id and its own rules */
static int group_drop(struct lc_call *c, const char *id)
{
	json_t *rules = group_rules(c, id), *x;
	size_t i;

	if (rules == NULL)
		return ec2_internal(c, "delete group");
	json_array_foreach(rules, i, x)
		if (resource_delete(c->db, "ec2", "security-group-rule",
			    json_string_value(json_object_get(x, "SecurityGroupRuleId"))) < 0) {
			json_decref(rules);
			return ec2_internal(c, "delete group");
		}
	json_decref(rules);
	if (resource_delete(c->db, "ec2", "security-group", id) < 0)
		return ec2_internal(c, "delete group");
	return 0;
}

static int delete_security_group(struct lc_call *c)
{
	const char *id = ec2_str(c, "GroupId");
	struct resource r = RESOURCE_INIT;
	int rc;

	if (id == NULL) {
		if (ec2_str(c, "GroupName") != NULL)
			return ec2_bad(c, "InvalidGroup.NotFound",
				"The security group '%s' does not exist in default VPC 'none'",
				ec2_str(c, "GroupName"));
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter groupName or groupId");
	}
	if (ec2_load(c, "security-group", id, &r) != 1)
		return -1;
	if (!strcmp(json_string_value(json_object_get(r.attrs, "GroupName")), "default")) {
		resource_release(&r);
		return ec2_bad(c, "CannotDelete",
			"the specified group: \"%s\" name: \"default\" cannot be deleted by a user",
			id);
	}
	resource_release(&r);
	rc = group_in_use(c, id);
	if (rc < 0)
		return ec2_internal(c, "delete group");
	if (rc)
		return ec2_bad(c, "DependencyViolation", "resource %s has a dependent object", id);
	if (group_drop(c, id) < 0)
		return -1;
	return no_output(c);
}

int ec2_security_groups_drop(struct lc_call *c, const char *vpc_id)
{
	json_t *f = json_pack("[{s:s, s:[s]}]", "Name", "vpc-id", "Values", vpc_id), *list = NULL;
	json_t *x;
	const char *bad = NULL;
	size_t i;

	if (resource_list(c->db, "ec2", "security-group", NULL, NULL, f, sg_filters, &list, &bad) <
		0) {
		json_decref(f);
		return ec2_internal(c, "drop groups");
	}
	json_decref(f);
	json_array_foreach(list, i, x)
		if (group_drop(c, json_string_value(json_object_get(x, "GroupId"))) < 0) {
			json_decref(list);
			return -1;
		}
	json_decref(list);
	return 0;
}

/* "tcp"/"6" -> "tcp" ...: the protocol as AWS records it, NULL when invalid */
static const char *protocol_name(const char *p, char *buf, size_t size)
{
	static const struct {
		const char *name, *number;
	} names[] = { { "tcp", "6" }, { "udp", "17" }, { "icmp", "1" }, { "icmpv6", "58" } };
	size_t i;
	char *end;
	long n;

	if (!strcmp(p, "-1") || !strcasecmp(p, "all"))
		return "-1";
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(p, names[i].name) || !strcmp(p, names[i].number))
			return names[i].name;
	n = strtol(p, &end, 10);
	if (*p == '\0' || *end != '\0' || n < 0 || n > 255)
		return NULL;
	snprintf(buf, size, "%ld", n);
	return buf;
}

/* One rule the input names: protocol, ports, peer. */
struct rule_spec {
	const char *proto;
	json_int_t from, to;
	const char *peer_member;	/* CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo */
	const char *peer;
	const char *description;
	char proto_buf[8];
};

/* the peer of a rule as a message names it: "peer: 0.0.0.0/0, TCP, from port: 443, ..." */
static void rule_text(const struct rule_spec *s, char *out, size_t size)
{
	char proto[16];
	size_t i;

	snprintf(proto, sizeof(proto), "%s", !strcmp(s->proto, "-1") ? "ALL" : s->proto);
	for (i = 0; proto[i]; i++)
		proto[i] = (char)toupper((unsigned char)proto[i]);
	if (!strcmp(s->proto, "-1"))
		snprintf(out, size, "peer: %s, %s, ALLOW", s->peer, proto);
	else
		snprintf(out, size, "peer: %s, %s, from port: %lld, to port: %lld, ALLOW", s->peer,
			proto, (long long)s->from, (long long)s->to);
}

/*
 * The rules of the input's IpPermissions (or its top-level CidrIp form),
 * into specs (an array of n, the caller frees).  Values borrowed from the
 * input, or from *hold (the top-level form made a list: the caller
 * decrefs it after the specs).  -1 with the error set.
 */
static int rule_specs(struct lc_call *c, struct rule_spec **out, size_t *n, json_t **hold)
{
	static const struct {
		const char *list, *member, *peer_member;
	} peers[] = {
		{ "IpRanges", "CidrIp", "CidrIpv4" },
		{ "Ipv6Ranges", "CidrIpv6", "CidrIpv6" },
		{ "PrefixListIds", "PrefixListId", "PrefixListId" },
		{ "UserIdGroupPairs", "GroupId", "ReferencedGroupInfo" },
	};
	const json_t *perms = json_object_get(c->in, "IpPermissions");
	json_t *legacy = NULL, *p;
	struct rule_spec *specs = NULL;
	size_t i, k, cap = 0;

	*n = 0;
	*hold = NULL;
	if (json_array_size(perms) == 0 && ec2_str(c, "IpProtocol") != NULL) {
		json_t *from = json_object_get(c->in, "FromPort");
		json_t *to = json_object_get(c->in, "ToPort");
		json_t *cidr = json_object_get(c->in, "CidrIp");

		legacy = json_pack("[{s:O, s:o, s:o, s:[{s:o}]}]", "IpProtocol",
			json_object_get(c->in, "IpProtocol"), "FromPort",
			from != NULL ? json_incref(from) : json_integer(-1), "ToPort",
			to != NULL ? json_incref(to) : json_integer(-1), "IpRanges", "CidrIp",
			cidr != NULL ? json_incref(cidr) : json_string("0.0.0.0/0"));
		perms = legacy;
	}
	if (json_array_size(perms) == 0) {
		json_decref(legacy);
		return ec2_bad(c, "MissingParameter",
			"The request must contain the parameter ipPermissions");
	}
	json_array_foreach(perms, i, p) {
		const char *proto_in = json_string_value(json_object_get(p, "IpProtocol"));
		char buf[8];
		const char *proto;
		json_int_t from = -1, to = -1;
		size_t before = *n;

		if (proto_in == NULL) {
			json_decref(legacy);
			free(specs);
			return ec2_bad(c, "MissingParameter",
				"The request must contain the parameter ipProtocol");
		}
		proto = protocol_name(proto_in, buf, sizeof(buf));
		if (proto == NULL) {
			json_decref(legacy);
			free(specs);
			return ec2_bad(c, "InvalidParameterValue",
				"Invalid value '%s' for IP protocol. Unknown protocol.", proto_in);
		}
		if (strcmp(proto, "-1")) {
			json_t *f = json_object_get(p, "FromPort"), *t = json_object_get(p, "ToPort");

			if (!strcmp(proto, "tcp") || !strcmp(proto, "udp")) {
				if (f == NULL || t == NULL) {
					json_decref(legacy);
					free(specs);
					return ec2_bad(c, "InvalidParameterValue",
						"Invalid value 'null' for %s. You must specify a port "
						"range for protocol %s",
						f == NULL ? "fromPort" : "toPort", proto);
				}
				from = json_integer_value(f);
				to = json_integer_value(t);
				if (from < 0 || to > 65535 || from > to) {
					json_decref(legacy);
					free(specs);
					return ec2_bad(c, "InvalidParameterValue",
						"Invalid port range (%lld, %lld)", (long long)from,
						(long long)to);
				}
			} else {
				from = f != NULL ? json_integer_value(f) : -1;
				to = t != NULL ? json_integer_value(t) : -1;
			}
		}
		for (k = 0; k < ARRAY_SIZE(peers); k++) {
			json_t *e;
			size_t j;

			json_array_foreach(json_object_get(p, peers[k].list), j, e) {
				const char *v = json_string_value(json_object_get(e, peers[k].member));

				if (v == NULL && k == 3)
					v = json_string_value(json_object_get(e, "GroupName"));
				if (v == NULL)
					continue;
				if (*n == cap) {
					cap = cap ? 2 * cap : 8;
					specs = xrealloc(specs, cap * sizeof(*specs));
				}
				memset(&specs[*n], 0, sizeof(specs[*n]));
				snprintf(specs[*n].proto_buf, sizeof(specs[*n].proto_buf), "%s",
					proto);
				specs[*n].from = from;
				specs[*n].to = to;
				specs[*n].peer_member = peers[k].peer_member;
				specs[*n].peer = v;
				specs[*n].description =
					json_string_value(json_object_get(e, "Description"));
				(*n)++;
			}
		}
		if (*n == before) {
			json_decref(legacy);
			free(specs);
			return ec2_bad(c, "InvalidParameterValue",
				"The request must contain a source or destination for each permission "
				"(IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs)");
		}
	}
	for (i = 0; i < *n; i++)
		specs[i].proto = specs[i].proto_buf;
	*hold = legacy;
	*out = specs;
	return 0;
}

/* the rule of group rules equal to s (protocol, ports, peer), or NULL */
static json_t *rule_same(const json_t *rules, int egress, const struct rule_spec *s)
{
	json_t *r;
	size_t i;

	json_array_foreach(rules, i, r) {
		const json_t *v = json_object_get(r, s->peer_member);

		if (json_is_true(json_object_get(r, "IsEgress")) != egress)
			continue;
		if (strcmp(json_string_value(json_object_get(r, "IpProtocol")), s->proto))
			continue;
		if (strcmp(s->proto, "-1") &&
			(json_integer_value(json_object_get(r, "FromPort")) != s->from ||
				json_integer_value(json_object_get(r, "ToPort")) != s->to))
			continue;
		if (!strcmp(s->peer_member, "ReferencedGroupInfo"))
			v = json_object_get(v, "GroupId");
		if (json_is_string(v) && !strcmp(json_string_value(v), s->peer))
			return r;
	}
	return NULL;
}

static int authorize(struct lc_call *c, int egress)
{
	const char *id;
	struct resource g = RESOURCE_INIT;
	struct rule_spec *specs = NULL;
	json_t *rules = NULL, *created = json_array(), *tags = NULL, *hold = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (ec2_need(c, "GroupId", &id) < 0)
		goto out;
	if (ec2_load(c, "security-group", id, &g) != 1)
		goto out;
	if (rule_specs(c, &specs, &n, &hold) < 0)
		goto out;
	if ((rules = group_rules(c, id)) == NULL) {
		ec2_internal(c, "authorize");
		goto out;
	}
	tags = ec2_tag_spec(c, "security-group-rule");
	for (i = 0; i < n; i++) {
		char text[256];
		size_t j;

		if (!strcmp(specs[i].peer_member, "CidrIpv4")) {
			uint32_t a;
			int l;

			if (ec2_cidr(specs[i].peer, &a, &l) < 0) {
				ec2_bad(c, "InvalidParameterValue",
					"CIDR block %s is malformed", specs[i].peer);
				goto out;
			}
		}
		if (!strcmp(specs[i].peer_member, "ReferencedGroupInfo")) {
			struct resource ref = RESOURCE_INIT;

			if (ec2_load(c, "security-group", specs[i].peer, &ref) != 1)
				goto out;
			resource_release(&ref);
		}
		rule_text(&specs[i], text, sizeof(text));
		for (j = 0; j < i; j++)
			if (!strcmp(specs[j].proto, specs[i].proto) && specs[j].from == specs[i].from &&
				specs[j].to == specs[i].to && !strcmp(specs[j].peer, specs[i].peer)) {
				ec2_bad(c, "InvalidPermission.Duplicate",
					"the specified rule \"%s\" already exists", text);
				goto out;
			}
		if (rule_same(rules, egress, &specs[i]) != NULL) {
			ec2_bad(c, "InvalidPermission.Duplicate",
				"the specified rule \"%s\" already exists", text);
			goto out;
		}
		if (rule_insert(c, id, egress, specs[i].proto, specs[i].from, specs[i].to,
			    specs[i].peer_member, specs[i].peer, specs[i].description,
			    json_deep_copy(tags), created) < 0)
			goto out;
	}
	json_object_set_new(c->out, "Return", json_true());
	json_object_set_new(c->out, "SecurityGroupRules", created);
	created = NULL;
	rc = 0;
out:
	free(specs);
	json_decref(hold);
	json_decref(rules);
	json_decref(created);
	json_decref(tags);
	resource_release(&g);
	return rc;
}

static int rules_revoke(struct lc_call *c, int egress)
{
	const json_t *rule_ids = json_object_get(c->in, "SecurityGroupRuleIds");
	const char *id;
	struct resource g = RESOURCE_INIT;
	struct rule_spec *specs = NULL;
	json_t *rules = NULL, *x, *hold = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (ec2_need(c, "GroupId", &id) < 0)
		goto out;
	if (ec2_load(c, "security-group", id, &g) != 1)
		goto out;
	if ((rules = group_rules(c, id)) == NULL) {
		ec2_internal(c, "revoke");
		goto out;
	}
	if (json_array_size(rule_ids) > 0) {
		json_array_foreach(rule_ids, i, x) {
			json_t *r;
			size_t j;
			int found = 0;

			json_array_foreach(rules, j, r)
				if (json_equal(json_object_get(r, "SecurityGroupRuleId"), x) &&
					json_is_true(json_object_get(r, "IsEgress")) == egress)
					found = 1;
			if (!found) {
				ec2_bad(c, "InvalidSecurityGroupRuleId.NotFound",
					"The security group rule ID '%s' does not exist",
					json_string_value(x));
				goto out;
			}
			if (resource_delete(c->db, "ec2", "security-group-rule",
				    json_string_value(x)) < 0) {
				ec2_internal(c, "revoke");
				goto out;
			}
		}
	} else {
		if (rule_specs(c, &specs, &n, &hold) < 0)
			goto out;
		for (i = 0; i < n; i++) {
			json_t *r = rule_same(rules, egress, &specs[i]);

			if (r == NULL) {
				ec2_bad(c, "InvalidPermission.NotFound",
					"The specified rule does not exist in this security group.");
				goto out;
			}
			if (resource_delete(c->db, "ec2", "security-group-rule",
				    json_string_value(json_object_get(r, "SecurityGroupRuleId"))) <
				0) {
				ec2_internal(c, "revoke");
				goto out;
			}
		}
	}
	json_object_set_new(c->out, "Return", json_true());
	rc = 0;
out:
	free(specs);
	json_decref(hold);
	json_decref(rules);
	resource_release(&g);
	return rc;
}

static int authorize_ingress(struct lc_call *c)
{
	return authorize(c, 0);
}

static int authorize_egress(struct lc_call *c)
{
	return authorize(c, 1);
}

static int revoke_ingress(struct lc_call *c)
{
	return rules_revoke(c, 0);
}

static int revoke_egress(struct lc_call *c)
{
	return rules_revoke(c, 1);
}

/* Each rule replaced whole by its request (its id and direction kept), as AWS does. */
static int modify_security_group_rules(struct lc_call *c)
{
	static const char *const peers[] = { "CidrIpv4", "CidrIpv6", "PrefixListId",
		"ReferencedGroupId" };
	const char *id;
	struct resource g = RESOURCE_INIT;
	json_t *u;
	size_t i, k;

	if (ec2_need(c, "GroupId", &id) < 0)
		return -1;
	if (ec2_load(c, "security-group", id, &g) != 1)
		return -1;
	resource_release(&g);
	json_array_foreach(json_object_get(c->in, "SecurityGroupRules"), i, u) {
		const char *rid = json_string_value(json_object_get(u, "SecurityGroupRuleId"));
		json_t *req = json_object_get(u, "SecurityGroupRule");
		const char *proto_in = json_string_value(json_object_get(req, "IpProtocol"));
		const char *desc = json_string_value(json_object_get(req, "Description"));
		struct resource r = RESOURCE_INIT;
		const char *proto, *peer = NULL, *member = NULL;
		char buf[8];
		json_int_t from = -1, to = -1;

		if (rid == NULL || req == NULL || proto_in == NULL)
			return ec2_bad(c, "MissingParameter",
				"The request must contain the parameter SecurityGroupRule");
		if ((proto = protocol_name(proto_in, buf, sizeof(buf))) == NULL)
			return ec2_bad(c, "InvalidParameterValue",
				"Invalid value '%s' for IP protocol. Unknown protocol.", proto_in);
		for (k = 0; k < ARRAY_SIZE(peers); k++)
			if (json_string_value(json_object_get(req, peers[k])) != NULL) {
				member = peers[k];
				peer = json_string_value(json_object_get(req, peers[k]));
			}
		if (peer == NULL)
			return ec2_bad(c, "MissingParameter",
				"The request must contain a CidrIpv4, CidrIpv6, PrefixListId or "
				"ReferencedGroupId");
		if (strcmp(proto, "-1")) {
			from = json_integer_value(json_object_get(req, "FromPort"));
			to = json_integer_value(json_object_get(req, "ToPort"));
			if ((!strcmp(proto, "tcp") || !strcmp(proto, "udp")) &&
				(from < 0 || to > 65535 || from > to))
				return ec2_bad(c, "InvalidParameterValue",
					"Invalid port range (%lld, %lld)", (long long)from,
					(long long)to);
		}
		if (ec2_load(c, "security-group-rule", rid, &r) != 1)
			return -1;
		if (strcmp(r.parent, id)) {
			resource_release(&r);
			return ec2_not_found(c, "security-group-rule", rid);
		}
		if (!strcmp(member, "ReferencedGroupId")) {
			struct resource ref = RESOURCE_INIT;

			if (ec2_load(c, "security-group", peer, &ref) != 1) {
				resource_release(&r);
				return -1;
			}
			resource_release(&ref);
		}
		for (k = 0; k < ARRAY_SIZE(peers); k++)
			json_object_del(r.attrs, peers[k]);
		json_object_del(r.attrs, "ReferencedGroupInfo");
		json_object_del(r.attrs, "Description");
		json_object_set_new(r.attrs, "IpProtocol", json_string(proto));
		json_object_set_new(r.attrs, "FromPort", json_integer(from));
		json_object_set_new(r.attrs, "ToPort", json_integer(to));
		if (!strcmp(member, "ReferencedGroupId"))
			json_object_set_new(r.attrs, "ReferencedGroupInfo",
				json_pack("{s:s, s:s}", "GroupId", peer, "UserId", EC2_ACCOUNT));
		else
			json_object_set_new(r.attrs, member, json_string(peer));
		if (desc != NULL)
			json_object_set_new(r.attrs, "Description", json_string(desc));
		if (resource_update(c->db, &r) < 0) {
			resource_release(&r);
			return ec2_internal(c, "modify rules");
		}
		resource_release(&r);
	}
	json_object_set_new(c->out, "Return", json_true());
	return 0;
}

static int describe_security_group_rules(struct lc_call *c)
{
	return ec2_describe(c, "security-group-rule", "SecurityGroupRuleIds", 1, "Filters",
		rule_filters, "SecurityGroupRules", NULL);
}

/* Flow logs */

static const char flow_log_format[] =
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
	"${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

static int create_flow_logs(struct lc_call *c)
{
	const json_t *ids = json_object_get(c->in, "ResourceIds");
	const char *rtype, *traffic = ec2_str(c, "TrafficType");
	const char *dest_type = ec2_str(c, "LogDestinationType");
	const char *dest = ec2_str(c, "LogDestination"), *group = ec2_str(c, "LogGroupName");
	const char *role = ec2_str(c, "DeliverLogsPermissionArn");
	const char *format = ec2_str(c, "LogFormat");
	json_t *interval = json_object_get(c->in, "MaxAggregationInterval");
	json_t *made = json_array(), *failed = json_array(), *x, *tags;
	char *group_name = NULL, *dest_arn = NULL;
	const char *type;
	size_t i;
	int rc = -1;

	if (ec2_need(c, "ResourceType", &rtype) < 0)
		goto out;
	if (!strcmp(rtype, "VPC"))
		type = "vpc";
	else if (!strcmp(rtype, "Subnet"))
		type = "subnet";
	else if (!strcmp(rtype, "NetworkInterface"))
		type = "network-interface";
	else {
		ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter resourceType is invalid", rtype);
		goto out;
	}
	if (traffic == NULL || (strcmp(traffic, "ACCEPT") && strcmp(traffic, "REJECT") &&
				       strcmp(traffic, "ALL"))) {
		ec2_bad(c, "InvalidParameter", "TrafficType must be one of ACCEPT, REJECT or ALL");
		goto out;
	}
	if (dest_type == NULL)
		dest_type = "cloud-watch-logs";
	if (!strcmp(dest_type, "cloud-watch-logs")) {
		if (group == NULL && dest == NULL) {
			ec2_bad(c, "InvalidParameter",
				"LogDestination or LogGroupName is required for a cloud-watch-logs "
				"destination");
			goto out;
		}
		if (role == NULL) {
			ec2_bad(c, "InvalidParameter",
				"DeliverLogsPermissionArn is required for a cloud-watch-logs "
				"destination");
			goto out;
		}
		if (dest != NULL) {
			const char *p = strstr(dest, ":log-group:");
			size_t len;

			if (strncmp(dest, "arn:aws:logs:", 13) || p == NULL) {
				ec2_bad(c, "InvalidParameter",
					"LogDestination: %s is not a valid CloudWatch Logs log group ARN",
					dest);
				goto out;
			}
			p += strlen(":log-group:");
			len = strcspn(p, ":");
			group_name = xstrndup(p, len);
			dest_arn = xstrdup(dest);
		} else {
			group_name = xstrdup(group);
			dest_arn = xasprintf("arn:aws:logs:%s:%s:log-group:%s", c->req->region,
				EC2_ACCOUNT, group);
		}
	} else if (!strcmp(dest_type, "s3") || !strcmp(dest_type, "kinesis-data-firehose")) {
		if (dest == NULL) {
			ec2_bad(c, "InvalidParameter", "LogDestination is required for %s", dest_type);
			goto out;
		}
		dest_arn = xstrdup(dest);
	} else {
		ec2_bad(c, "InvalidParameterValue",
			"Value (%s) for parameter logDestinationType is invalid", dest_type);
		goto out;
	}
	if (interval != NULL && json_integer_value(interval) != 60 &&
		json_integer_value(interval) != 600) {
		ec2_bad(c, "InvalidParameter", "MaxAggregationInterval must be 60 or 600");
		goto out;
	}
	tags = ec2_tag_spec(c, "vpc-flow-log");
	json_array_foreach(ids, i, x) {
		const char *rid = json_string_value(x);
		struct resource r = RESOURCE_INIT;
		json_t *existing = NULL, *f, *e;
		const char *bad = NULL;
		size_t j;
		char id[32];
		int dup = 0;

		if (resource_get(c->db, "ec2", type, rid, &r) != 1) {
			struct codec_error ce = CODEC_ERROR_INIT;
			struct lc_call nf = *c;

			nf.err = &ce;
			ec2_not_found(&nf, type, rid);
			json_array_append_new(failed,
				json_pack("{s:{s:s, s:s}, s:s}", "Error", "Code", ce.code, "Message",
					ce.message, "ResourceId", rid));
			codec_error_release(&ce);
			continue;
		}
		resource_release(&r);
		f = json_pack("[{s:s, s:[s]}]", "Name", "resource-id", "Values", rid);
		if (resource_list(c->db, "ec2", "vpc-flow-log", NULL, NULL, f, flow_log_filters,
			    &existing, &bad) < 0) {
			json_decref(f);
			json_decref(tags);
			ec2_internal(c, "flow logs");
			goto out;
		}
		json_decref(f);
		json_array_foreach(existing, j, e)
			if (!strcmp(json_string_value(json_object_get(e, "LogDestination")), dest_arn) &&
				!strcmp(json_string_value(json_object_get(e, "TrafficType")), traffic))
				dup = 1;
		json_decref(existing);
		if (dup) {
			json_array_append_new(failed,
				json_pack("{s:{s:s, s:s}, s:s}", "Error", "Code", "FlowLogAlreadyExists",
					"Message",
					"Error. There is an existing Flow Log with the same configuration "
					"and log destination.",
					"ResourceId", rid));
			continue;
		}
		resource_new_id(id, sizeof(id), "fl");
		{
			json_t *attrs = json_pack("{s:f, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
				"CreationTime", lc_now(), "DeliverLogsStatus", "SUCCESS", "FlowLogId", id,
				"FlowLogStatus", "ACTIVE", "ResourceId", rid, "TrafficType", traffic,
				"LogDestinationType", dest_type, "LogFormat",
				format != NULL ? format : flow_log_format, "MaxAggregationInterval",
				(json_int_t)(interval != NULL ? json_integer_value(interval) : 600));
			char *arn = ec2_arn(c, "vpc-flow-log", id);

			json_object_set_new(attrs, "LogDestination", json_string(dest_arn));
			if (group_name != NULL)
				json_object_set_new(attrs, "LogGroupName", json_string(group_name));
			if (role != NULL)
				json_object_set_new(attrs, "DeliverLogsPermissionArn", json_string(role));
			rc = ec2_insert(c, "vpc-flow-log", id, arn, rid, attrs, json_deep_copy(tags));
			free(arn);
			if (rc < 0) {
				json_decref(tags);
				goto out;
			}
			rc = -1;
		}
		json_array_append_new(made, json_string(id));
	}
	json_decref(tags);
	json_object_set_new(c->out, "FlowLogIds", made);
	json_object_set_new(c->out, "Unsuccessful", failed);
	made = failed = NULL;
	if (ec2_str(c, "ClientToken") != NULL)
		json_object_set_new(c->out, "ClientToken", json_string(ec2_str(c, "ClientToken")));
	rc = 0;
out:
	free(group_name);
	free(dest_arn);
	json_decref(made);
	json_decref(failed);
	return rc;
}

static int describe_flow_logs(struct lc_call *c)
{
	return ec2_describe(c, "vpc-flow-log", "FlowLogIds", 0, "Filter", flow_log_filters,
		"FlowLogs", NULL);
}

static int delete_flow_logs(struct lc_call *c)
{
	json_t *failed = json_array(), *x;
	size_t i;

	json_array_foreach(json_object_get(c->in, "FlowLogIds"), i, x) {
		struct resource r = RESOURCE_INIT;
		const char *id = json_string_value(x);

		if (resource_get(c->db, "ec2", "vpc-flow-log", id, &r) != 1) {
			json_array_append_new(failed,
				json_pack("{s:{s:s, s:s}, s:s}", "Error", "Code",
					"InvalidFlowLogId.NotFound", "Message",
					"flow log does not exist", "ResourceId", id));
			continue;
		}
		resource_release(&r);
		if (resource_delete(c->db, "ec2", "vpc-flow-log", id) < 0) {
			json_decref(failed);
			return ec2_internal(c, "delete flow logs");
		}
	}
	json_object_set_new(c->out, "Unsuccessful", failed);
	return 0;
}

#define EC2_OP(fn, name)                                                                 \
	int ec2_##name(struct lc_request *req, const json_t *in, json_t **out,          \
		struct codec_error *err)                                                 \
	{                                                                                \
		return ec2_run(req, in, out, err, fn);                                   \
	}

EC2_OP(create_security_group, create_security_group)
EC2_OP(describe_security_groups, describe_security_groups)
EC2_OP(delete_security_group, delete_security_group)
EC2_OP(authorize_ingress, authorize_security_group_ingress)
EC2_OP(authorize_egress, authorize_security_group_egress)
EC2_OP(revoke_ingress, revoke_security_group_ingress)
EC2_OP(revoke_egress, revoke_security_group_egress)
EC2_OP(describe_security_group_rules, describe_security_group_rules)
EC2_OP(modify_security_group_rules, modify_security_group_rules)
EC2_OP(create_flow_logs, create_flow_logs)
EC2_OP(describe_flow_logs, describe_flow_logs)
EC2_OP(delete_flow_logs, delete_flow_logs)
