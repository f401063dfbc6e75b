/*
 * ec2/common.c: what every EC2 handler file shares (the call runner,
 * input helpers, NotFound errors, Describe over the generic store, CIDR
 * arithmetic) and the operations that belong to no one resource: tags,
 * account attributes, availability zones, AWS-managed prefix lists and
 * network interfaces.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <math.h>

#include "core/caliberd.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

int ec2_internal(struct lc_call *c, const char *what)
{
	lc_log("ec2: %s: %s", what, c->db != NULL ? sqlite3_errmsg(c->db) : "no store");
	return codec_error_set(c->err, 500, "InternalError",
		"An internal error has occurred");
}

int ec2_run(struct lc_request *req, const json_t *in, json_t **out, struct codec_error *err,
	int (*fn)(struct lc_call *c))
{
	struct lc_call c;

	/* permissions are all there is to check, and every signed caller has them all */
	if (json_is_true(json_object_get(in, "DryRun")))
		return codec_error_set(err, 412, "DryRunOperation",
			"Request would have succeeded, but DryRun flag is set.");
	return lc_call_run(&c, req, in, out, err, "InternalError", fn);
}

const char *ec2_str(struct lc_call *c, const char *key)
{
	return json_string_value(json_object_get(c->in, key));
}

int ec2_unsupported(struct lc_call *c, const char *const *members)
{
	for (; *members != NULL; members++) {
		json_t *v = json_object_get(c->in, *members);

		if (v != NULL && !json_is_false(v))
			return ec2_bad(c, "UnsupportedOperation",
				"The parameter %s is not supported by the local cloud", *members);
	}
	return 0;
}

int ec2_need(struct lc_call *c, const char *key, const char **out)
{
	*out = ec2_str(c, key);
	if (*out == NULL || **out == '\0')
		return ec2_bad(c, "MissingParameter", "The request must contain the parameter %s",
			key);
	return 0;
}

int ec2_bool(struct lc_call *c, const char *key, int def)
{
	json_t *v = json_object_get(c->in, key);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

json_t *ec2_tag_spec(struct lc_call *c, const char *rtype)
{
	json_t *tags = json_array();
	json_t *spec;
	size_t i;

	json_array_foreach(json_object_get(c->in, "TagSpecifications"), i, spec) {
		const char *t = json_string_value(json_object_get(spec, "ResourceType"));

		if (t != NULL && strcmp(t, rtype))
			continue;
		json_array_extend(tags, json_object_get(spec, "Tags"));
	}
	return tags;
}

double ec2_now(void)
{
	return floor(lc_now());
}

char *ec2_arn(struct lc_call *c, const char *type, const char *id)
{
	return xasprintf("arn:aws:ec2:%s:%s:%s/%s", c->req->region, EC2_ACCOUNT, type, id);
}

/* what AWS calls each type in its NotFound errors */
static const struct {
	const char *type, *code, *fmt;
} ec2_missing[] = {
	{ "vpc", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist" },
	{ "subnet", "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist" },
	{ "route-table", "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist" },
	{ "internet-gateway", "InvalidInternetGatewayID.NotFound",
		"The internetGateway ID '%s' does not exist" },
	{ "elastic-ip", "InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist" },
	{ "natgateway", "NatGatewayNotFound", "The Nat Gateway %s was not found" },
	{ "vpc-endpoint", "InvalidVpcEndpointId.NotFound",
		"The VpcEndpoint Id '%s' does not exist" },
	{ "security-group", "InvalidGroup.NotFound", "The security group '%s' does not exist" },
	{ "security-group-rule", "InvalidSecurityGroupRuleId.NotFound",
		"The security group rule ID '%s' does not exist" },
	{ "vpc-flow-log", "InvalidFlowLogId.NotFound", "Flow Log IDs '%s' do not exist" },
	{ "network-acl", "InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist" },
	{ "network-interface", "InvalidNetworkInterfaceID.NotFound",
		"The networkInterface ID '%s' does not exist" },
	{ "prefix-list", "InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist" },
};

int ec2_not_found(struct lc_call *c, const char *type, const char *id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ec2_missing); i++)
		if (!strcmp(ec2_missing[i].type, type))
			return codec_error_set(c->err, 400, ec2_missing[i].code,
				ec2_missing[i].fmt, id);
	return ec2_bad(c, "InvalidID", "The ID '%s' is not valid", id);
}

int ec2_load(struct lc_call *c, const char *type, const char *id, struct resource *r)
{
	int rc = resource_get(c->db, "ec2", type, id, r);

	if (rc < 0)
		return ec2_internal(c, "load");
	if (rc == 0 || strcmp(r->region, c->req->region)) {
		resource_release(r);
		ec2_not_found(c, type, id);
		return 0;
	}
	return 1;
}

int ec2_insert(struct lc_call *c, const char *type, const char *id, const char *arn,
	const char *parent, json_t *attrs, json_t *tags)
{
	struct resource r = RESOURCE_INIT;
	int rc;

	r.service = xstrdup("ec2");
	r.type = xstrdup(type);
	r.id = xstrdup(id);
	r.region = xstrdup(c->req->region);
	r.arn = arn != NULL ? xstrdup(arn) : NULL;
	r.parent = parent != NULL ? xstrdup(parent) : NULL;
	r.attrs = attrs;
	r.tags = tags;
	r.created = lc_now();
	rc = resource_insert(c->db, &r);
	resource_release(&r);
	return rc < 0 ? ec2_internal(c, "insert") : 0;
}

int ec2_describe(struct lc_call *c, const char *type, const char *ids_member, int strict_ids,
	const char *filters_member, const struct resource_filter *known, const char *out_member,
	void (*fix)(json_t *item))
{
	const json_t *ids = ids_member != NULL ? json_object_get(c->in, ids_member) : NULL;
	const json_t *filters = json_object_get(c->in, filters_member);
	const char *bad = NULL;
	json_t *list = NULL, *item, *id;
	size_t i;
	int rc;

	if (ids != NULL && json_array_size(ids) == 0)
		ids = NULL;
	if (strict_ids && ids != NULL) {
		json_array_foreach(ids, i, id) {
			struct resource r = RESOURCE_INIT;

			if (ec2_load(c, type, json_string_value(id), &r) != 1)
				return -1;
			resource_release(&r);
		}
	}
	rc = resource_list(c->db, "ec2", type, c->req->region, ids, NULL, NULL, &list, &bad);
	if (rc < 0)
		return ec2_internal(c, "describe");
	if (fix != NULL)
		json_array_foreach(list, i, item)
			fix(item);
	if (filters != NULL) {
		json_t *kept = json_array();

		json_array_foreach(list, i, item) {
			int m = resource_match(item, filters, known, &bad);

			if (m == -2) {
				json_decref(kept);
				json_decref(list);
				return ec2_bad(c, "InvalidParameterValue", "The filter '%s' is invalid",
					bad);
			}
			if (m)
				json_array_append(kept, item);
		}
		json_decref(list);
		list = kept;
	}
	json_object_set_new(c->out, out_member, list);
	return 0;
}

int ec2_cidr(const char *s, uint32_t *addr, int *len)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long n;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1 || n < 0 || n > 32)
		return -1;
	*addr = ntohl(a.s_addr);
	*len = (int)n;
	/* AWS wants the network address itself: 10.0.0.1/16 is refused */
	if (n < 32 && (*addr & (0xffffffffu >> n)) != 0)
		return -1;
	return 0;
}

static uint32_t cidr_mask(int len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

int ec2_cidr_within(uint32_t a, int alen, uint32_t b, int blen)
{
	return alen >= blen && (a & cidr_mask(blen)) == (b & cidr_mask(blen));
}

int ec2_cidr_overlap(uint32_t a, int alen, uint32_t b, int blen)
{
	return ec2_cidr_within(a, alen, b, blen) || ec2_cidr_within(b, blen, a, alen);
}

/* "us-east-1" -> "use1", "ap-southeast-2" -> "apse2": the zone id prefix */
static void region_short(const char *region, char *out, size_t size)
{
	static const struct {
		const char *word, *abbr;
	} words[] = {
		{ "northeast", "ne" }, { "northwest", "nw" }, { "southeast", "se" },
		{ "southwest", "sw" }, { "north", "n" }, { "south", "s" }, { "east", "e" },
		{ "west", "w" }, { "central", "c" },
	};
	char copy[64], *save = NULL, *part;
	size_t k = 0, i, n = 0;

	snprintf(copy, sizeof(copy), "%s", region);
	out[0] = '\0';
	for (part = strtok_r(copy, "-", &save); part != NULL; part = strtok_r(NULL, "-", &save), n++) {
		const char *abbr = part;

		if (n > 0)
			for (i = 0; i < ARRAY_SIZE(words); i++)
				if (!strcmp(part, words[i].word)) {
					abbr = words[i].abbr;
					break;
				}
		k += (size_t)snprintf(out + k, k < size ? size - k : 0, "%s", abbr);
		if (k >= size)
			break;
	}
}

json_t *ec2_zones(const char *region)
{
	static const char letters[] = "abc";
	json_t *zones = json_array();
	char short_name[32];
	size_t i;

	region_short(region, short_name, sizeof(short_name));
	for (i = 0; letters[i] != '\0'; i++) {
		char name[80], id[48];

		snprintf(name, sizeof(name), "%s%c", region, letters[i]);
		snprintf(id, sizeof(id), "%s-az%zu", short_name, i + 1);
		json_array_append_new(zones,
			json_pack("{s:s, s:s, s:[], s:s, s:s, s:s, s:s, s:s, s:s}", "State",
				"available", "OptInStatus", "opt-in-not-required", "Messages",
				"RegionName", region, "ZoneName", name, "ZoneId", id, "GroupName",
				region, "NetworkBorderGroup", region, "ZoneType",
				"availability-zone"));
	}
	return zones;
}

/* Tags */

/* the type of the EC2 resource named id (1), 0 with the NotFound error, -1 */
static int resource_of(struct lc_call *c, const char *id, struct resource *r)
{
	int rc = resource_get(c->db, "ec2", NULL, id, r);

	if (rc < 0)
		return ec2_internal(c, "tags");
	if (rc == 0 || strcmp(r->region, c->req->region)) {
		static const struct {
			const char *prefix, *type;
		} prefixes[] = {
			{ "vpc-", "vpc" }, { "subnet-", "subnet" }, { "rtb-", "route-table" },
			{ "igw-", "internet-gateway" }, { "eipalloc-", "elastic-ip" },
			{ "nat-", "natgateway" }, { "vpce-", "vpc-endpoint" },
			{ "sg-", "security-group" }, { "sgr-", "security-group-rule" },
			{ "fl-", "vpc-flow-log" }, { "acl-", "network-acl" },
			{ "eni-", "network-interface" },
		};
		size_t i;

		resource_release(r);
		for (i = 0; i < ARRAY_SIZE(prefixes); i++)
			if (!strncmp(id, prefixes[i].prefix, strlen(prefixes[i].prefix))) {
				ec2_not_found(c, prefixes[i].type, id);
				return 0;
			}
		ec2_bad(c, "InvalidID", "The ID '%s' is not valid", id);
		return 0;
	}
	return 1;
}

static int tags_change(struct lc_call *c, int add)
{
	const json_t *ids = json_object_get(c->in, "Resources");
	const json_t *tags = json_object_get(c->in, "Tags");
	size_t i;
	json_t *id;

	if (json_array_size(ids) == 0)
		return ec2_bad(c, "MissingParameter", "The request must contain the parameter resourceIdSet");
	if (add && json_array_size(tags) == 0)
		return ec2_bad(c, "MissingParameter", "The request must contain the parameter tagSet");
	json_array_foreach(ids, i, id) {
		struct resource r = RESOURCE_INIT;
		int rc;

		if (resource_of(c, json_string_value(id), &r) != 1)
			return -1;
		if (add)
			rc = resource_tag(c->db, "ec2", r.type, r.id, tags);
		else
			rc = resource_untag(c->db, "ec2", r.type, r.id,
				json_array_size(tags) > 0 ? tags : NULL);
		resource_release(&r);
		if (rc < 0)
			return ec2_internal(c, "tags");
	}
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int create_tags(struct lc_call *c)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(c->in, "Tags"), i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));

		if (k == NULL || *k == '\0')
			return ec2_bad(c, "InvalidParameterValue", "Tag key must not be empty");
		if (!strncmp(k, "aws:", 4))
			return ec2_bad(c, "InvalidParameterValue",
				"Value ( %s ) for parameter key is invalid. Tag keys starting with "
				"'aws:' are reserved for internal use",
				k);
	}
	return tags_change(c, 1);
}

static int delete_tags(struct lc_call *c)
{
	return tags_change(c, 0);
}

static const struct resource_filter tag_filters[] = {
	{ "resource-id", "ResourceId" },
	{ "resource-type", "ResourceType" },
	{ "key", "Key" },
	{ "value", "Value" },
	{ NULL, NULL },
};

static int describe_tags(struct lc_call *c)
{
	const json_t *filters = json_object_get(c->in, "Filters");
	json_t *all = resource_tags_all(c->db, "ec2"), *kept, *t;
	const char *bad = NULL;
	size_t i;

	if (all == NULL)
		return ec2_internal(c, "tags");
	kept = json_array();
	json_array_foreach(all, i, t) {
		int m = filters != NULL ? resource_match(t, filters, tag_filters, &bad) : 1;

		if (m == -2) {
			json_decref(kept);
			json_decref(all);
			return ec2_bad(c, "InvalidParameterValue", "The filter '%s' is invalid", bad);
		}
		if (m)
			json_array_append(kept, t);
	}
	json_decref(all);
	json_object_set_new(c->out, "Tags", kept);
	return 0;
}

int ec2_create_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, create_tags);
}

int ec2_delete_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, delete_tags);
}

int ec2_describe_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_tags);
}

/* Account attributes: those of an account on the VPC platform without a default VPC */

static int describe_account_attributes(struct lc_call *c)
{
	static const struct {
		const char *name, *value;
	} attrs[] = {
		{ "supported-platforms", "VPC" },
		{ "vpc-max-security-groups-per-interface", "5" },
		{ "max-elastic-ips", "5" },
		{ "max-instances", "20" },
		{ "vpc-max-elastic-ips", "5" },
		{ "default-vpc", "none" },
	};
	const json_t *names = json_object_get(c->in, "AttributeNames");
	json_t *list = json_array(), *n;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		int want = json_array_size(names) == 0;

		json_array_foreach(names, j, n)
			if (json_is_string(n) && !strcmp(json_string_value(n), attrs[i].name))
				want = 1;
		if (want)
			json_array_append_new(list,
				json_pack("{s:s, s:[{s:s}]}", "AttributeName", attrs[i].name,
					"AttributeValues", "AttributeValue", attrs[i].value));
	}
	json_object_set_new(c->out, "AccountAttributes", list);
	return 0;
}

int ec2_describe_account_attributes(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_account_attributes);
}

/* Availability zones */

static const struct resource_filter zone_filters[] = {
	{ "zone-name", "ZoneName" },
	{ "zone-id", "ZoneId" },
	{ "state", "State" },
	{ "region-name", "RegionName" },
	{ "opt-in-status", "OptInStatus" },
	{ "group-name", "GroupName" },
	{ "zone-type", "ZoneType" },
	{ "network-border-group", "NetworkBorderGroup" },
	{ NULL, NULL },
};

static int in_list(const json_t *list, const char *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(list, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), s))
			return 1;
	return 0;
}

static int describe_availability_zones(struct lc_call *c)
{
	const json_t *names = json_object_get(c->in, "ZoneNames");
	const json_t *ids = json_object_get(c->in, "ZoneIds");
	const json_t *filters = json_object_get(c->in, "Filters");
	json_t *zones = ec2_zones(c->req->region), *kept = json_array(), *z;
	const char *bad = NULL;
	size_t i;

	json_array_foreach(names, i, z)
		if (json_is_string(z)) {
			size_t j;
			json_t *y;
			int found = 0;

			json_array_foreach(zones, j, y)
				if (!strcmp(json_string_value(json_object_get(y, "ZoneName")),
					    json_string_value(z)))
					found = 1;
			if (!found) {
				json_decref(zones);
				json_decref(kept);
				return ec2_bad(c, "InvalidParameterValue",
					"Invalid availability zone: [%s]", json_string_value(z));
			}
		}
	json_array_foreach(zones, i, z) {
		int m;

		if (json_array_size(names) > 0 &&
			!in_list(names, json_string_value(json_object_get(z, "ZoneName"))))
			continue;
		if (json_array_size(ids) > 0 &&
			!in_list(ids, json_string_value(json_object_get(z, "ZoneId"))))
			continue;
		m = filters != NULL ? resource_match(z, filters, zone_filters, &bad) : 1;
		if (m == -2) {
			json_decref(zones);
			json_decref(kept);
			return ec2_bad(c, "InvalidParameterValue", "The filter '%s' is invalid", bad);
		}
		if (m)
			json_array_append(kept, z);
	}
	json_decref(zones);
	json_object_set_new(c->out, "AvailabilityZones", kept);
	return 0;
}

int ec2_describe_availability_zones(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_availability_zones);
}

/*
 * AWS-managed prefix lists: those of the gateway endpoints' services.  The
 * id is derived from the name (AWS's differ per region too); the ranges
 * are S3's and DynamoDB's published us-east-1 ones, the same in every
 * region here: nothing routes by them locally.
 */
static const struct {
	const char *service;
	const char *cidrs[6];
} prefix_lists[] = {
	{ "s3", { "3.5.0.0/19", "16.182.0.0/16", "18.34.0.0/19", "18.34.232.0/21",
			"52.216.0.0/15", "54.231.0.0/16" } },
	{ "dynamodb", { "3.218.180.0/22", "35.71.64.0/22", "52.94.0.0/22", "52.119.224.0/20",
			NULL, NULL } },
};

static int prefix_list_item(const char *name, json_t **item)
{
	const char *svc = strrchr(name, '.');
	size_t i, j;

	if (svc == NULL || strncmp(name, "com.amazonaws.", 14))
		return -1;
	for (i = 0; i < ARRAY_SIZE(prefix_lists); i++) {
		if (strcmp(svc + 1, prefix_lists[i].service))
			continue;
		uint32_t h = 2166136261u;
		const char *p;
		json_t *cidrs = json_array();
		char id[16];

		/* FNV-1a of the name: the same id for the same list every time */
		for (p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(id, sizeof(id), "pl-%08x", h);
		for (j = 0; j < ARRAY_SIZE(prefix_lists[i].cidrs) && prefix_lists[i].cidrs[j]; j++)
			json_array_append_new(cidrs, json_string(prefix_lists[i].cidrs[j]));
		*item = json_pack("{s:s, s:s, s:o}", "PrefixListId", id, "PrefixListName", name,
			"Cidrs", cidrs);
		return 0;
	}
	return -1;
}

int ec2_prefix_list(const char *service_name, char *id, size_t size, json_t **cidrs)
{
	json_t *item;

	if (prefix_list_item(service_name, &item) < 0)
		return -1;
	snprintf(id, size, "%s", json_string_value(json_object_get(item, "PrefixListId")));
	if (cidrs != NULL)
		*cidrs = json_incref(json_object_get(item, "Cidrs"));
	json_decref(item);
	return 0;
}

static const struct resource_filter prefix_list_filters[] = {
	{ "prefix-list-id", "PrefixListId" },
	{ "prefix-list-name", "PrefixListName" },
	{ NULL, NULL },
};

static int describe_prefix_lists(struct lc_call *c)
{
	const json_t *ids = json_object_get(c->in, "PrefixListIds");
	const json_t *filters = json_object_get(c->in, "Filters");
	json_t *list = json_array(), *x;
	const char *bad = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefix_lists); i++) {
		char name[128];
		json_t *item;
		int m;

		snprintf(name, sizeof(name), "com.amazonaws.%s.%s", c->req->region,
			prefix_lists[i].service);
		if (prefix_list_item(name, &item) < 0)
			continue;
		if (json_array_size(ids) > 0 &&
			!in_list(ids, json_string_value(json_object_get(item, "PrefixListId")))) {
			json_decref(item);
			continue;
		}
		m = filters != NULL ? resource_match(item, filters, prefix_list_filters, &bad) : 1;
		if (m == -2) {
			json_decref(item);
			json_decref(list);
			return ec2_bad(c, "InvalidParameterValue", "The filter '%s' is invalid", bad);
		}
		if (m)
			json_array_append_new(list, item);
		else
			json_decref(item);
	}
	json_array_foreach(ids, i, x) {
		size_t j;
		json_t *y;
		int found = 0;

		json_array_foreach(list, j, y)
			if (!strcmp(json_string_value(json_object_get(y, "PrefixListId")),
				    json_string_value(x)))
				found = 1;
		if (!found) {
			json_decref(list);
			return ec2_not_found(c, "prefix-list", json_string_value(x));
		}
	}
	json_object_set_new(c->out, "PrefixLists", list);
	return 0;
}

int ec2_describe_prefix_lists(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_prefix_lists);
}

/*
 * Network interfaces: what the store holds of type "network-interface".
 * Nothing creates one yet (no instances; NAT gateways and interface
 * endpoints name theirs without recording them), so the list is empty;
 * the Terraform provider asks before deleting a subnet or a security
 * group whether interfaces linger in it.
 */
static const struct resource_filter eni_filters[] = {
	{ "network-interface-id", "NetworkInterfaceId" },
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ "group-id", "Groups.GroupId" },
	{ "description", "Description" },
	{ "status", "Status" },
	{ "interface-type", "InterfaceType" },
	{ "requester-managed", "RequesterManaged" },
	{ "attachment.status", "Attachment.Status" },
	{ "attachment.instance-owner-id", "Attachment.InstanceOwnerId" },
	{ NULL, NULL },
};

static int describe_network_interfaces(struct lc_call *c)
{
	return ec2_describe(c, "network-interface", "NetworkInterfaceIds", 1, "Filters",
		eni_filters, "NetworkInterfaces", NULL);
}

int ec2_describe_network_interfaces(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return ec2_run(req, in, out, err, describe_network_interfaces);
}
