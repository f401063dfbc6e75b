/*
 * ec2/internal.h: private to ec2/: the call runner and helpers every
 * handler file shares (common.c), and the handlers routes.c routes to.
 *
 * Every resource is a row of the generic store (core/resources.h) of
 * service "ec2", its type named as EC2's DescribeTags names resource
 * types ("vpc", "subnet", "security-group", "route-table",
 * "internet-gateway", "elastic-ip", "natgateway", "vpc-endpoint",
 * "vpc-flow-log", "network-acl", "security-group-rule"), its attributes
 * the describe shape with member names as the codec writes them.
 */
#ifndef CALIBER_LC_EC2_INTERNAL_H
#define CALIBER_LC_EC2_INTERNAL_H

#include <stdint.h>

#include <sqlite3.h>

#include "aws/codec.h"
#include "core/codec-glue.h"
#include "core/resources.h"
#include "core/router.h"
#include "ec2.h"

#define EC2_ACCOUNT "000000000000"

/* a 400 error of the call c */
#define ec2_bad(c, code, ...) codec_error_set((c)->err, 400, (code), __VA_ARGS__)

/*
 * Run fn in a store transaction (lc_call_run, InternalError when the store
 * fails); *out its output when it returns 0.  DryRun is answered first.
 */
int ec2_run(struct lc_request *req, const json_t *in, json_t **out, struct codec_error *err,
	int (*fn)(struct lc_call *c));
/* 500 InternalError, logged with what */
int ec2_internal(struct lc_call *c, const char *what);

/* Input member key as a string (NULL when absent). */
const char *ec2_str(struct lc_call *c, const char *key);
/* The same, required: MissingParameter when absent. */
int ec2_need(struct lc_call *c, const char *key, const char **out);
/*
 * UnsupportedOperation naming the first of members (a NULL-terminated
 * list) that the input sets: what the local cloud cannot realise is an
 * error, never a silent success.
 */
int ec2_unsupported(struct lc_call *c, const char *const *members);
/* A boolean member: def when absent. */
int ec2_bool(struct lc_call *c, const char *key, int def);
/* The tags of TagSpecifications for resource type rtype (a new array, maybe empty). */
json_t *ec2_tag_spec(struct lc_call *c, const char *rtype);

/*
 * Load the resource of type with id into *r: 1; 0 with the type's
 * NotFound error in c; -1 store error (c filled).
 */
int ec2_load(struct lc_call *c, const char *type, const char *id, struct resource *r);
/* The NotFound error of type for id; returns -1. */
int ec2_not_found(struct lc_call *c, const char *type, const char *id);
/* A new resource row of c's region, type, id, parent, attrs (stolen), tags (stolen). */
int ec2_insert(struct lc_call *c, const char *type, const char *id, const char *arn,
	const char *parent, json_t *attrs, json_t *tags);

/*
 * Describe: the resources of type (in c's region) named by the input list
 * ids_member (each must exist when strict_ids: else the type's NotFound),
 * matching the input list filters_member against known, into the output
 * member out_member.  fix, when set, adjusts each item (derived state).
 */
int ec2_describe(struct lc_call *c, const char *type, const char *ids_member, int strict_ids,
	const char *filters_member, const struct resource_filter *known, const char *out_member,
	void (*fix)(json_t *item));

/* IPv4 CIDR "a.b.c.d/n" into address and prefix length: 0, -1 not a CIDR. */
int ec2_cidr(const char *s, uint32_t *addr, int *len);
/* Whether CIDR (a, alen) lies within (b, blen); whether two overlap. */
int ec2_cidr_within(uint32_t a, int alen, uint32_t b, int blen);
int ec2_cidr_overlap(uint32_t a, int alen, uint32_t b, int blen);

/* The availability zones of region (a new array of AvailabilityZone items). */
json_t *ec2_zones(const char *region);
/* arn:aws:ec2:<region>:<account>:<type>/<id> (caller frees) */
char *ec2_arn(struct lc_call *c, const char *type, const char *id);
/* now, as the codec's timestamps */
double ec2_now(void);

/* common.c: tags, account, zones, prefix lists, network interfaces */
int ec2_create_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_account_attributes(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_availability_zones(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_prefix_lists(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_network_interfaces(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
/* The AWS-managed prefix list of a gateway endpoint's service; 0 found, -1 not. */
int ec2_prefix_list(const char *service_name, char *id, size_t size, json_t **cidrs);

/* vpc.c: VPCs, subnets, network ACLs */
int ec2_init(struct lc_server *srv, struct err *e);
int ec2_create_vpc(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_vpcs(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_vpc(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_vpc_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_modify_vpc_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_create_subnet(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_subnets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_subnet(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_modify_subnet_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_network_acls(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

/* routing.c: route tables, routes, internet gateways, EIPs, NAT gateways, endpoints */
int ec2_create_route_table(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_route_tables(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_route_table(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_create_route(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_replace_route(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_route(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_associate_route_table(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_disassociate_route_table(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_replace_route_table_association(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int ec2_create_internet_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_internet_gateways(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_internet_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_attach_internet_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_detach_internet_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_allocate_address(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_addresses(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_addresses_attribute(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_release_address(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_disassociate_address(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_create_nat_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_nat_gateways(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_nat_gateway(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_create_vpc_endpoint(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_vpc_endpoints(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_modify_vpc_endpoint(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_vpc_endpoints(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
/* A NAT gateway's state now (pending, available, deleting, deleted), from its times. */
const char *ec2_nat_state(const json_t *nat);
/* The route table created with a VPC (its main one), in c's transaction. */
int ec2_main_route_table(struct lc_call *c, const char *vpc_id, const char *cidr);

/* security.c: security groups and their rules, flow logs */
int ec2_create_security_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_security_groups(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_security_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_authorize_security_group_ingress(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int ec2_authorize_security_group_egress(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int ec2_revoke_security_group_ingress(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_revoke_security_group_egress(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_security_group_rules(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_modify_security_group_rules(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_create_flow_logs(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_describe_flow_logs(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int ec2_delete_flow_logs(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
/* The default security group of a new VPC (with AWS's two default rules). */
int ec2_default_security_group(struct lc_call *c, const char *vpc_id);
/* Delete every security group of vpc_id and their rules (the VPC goes). */
int ec2_security_groups_drop(struct lc_call *c, const char *vpc_id);

#endif
