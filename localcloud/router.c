/*
 * router.c: the tables of services and operations, and the path of a
 * request through them: service, authentication, body, operation,
 * handler.  See router.h for the rules and docs/localcloud.md for how to
 * add a service.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>

#include <jansson.h>

#include "auth.h"
#include "caliberd.h"
#include "codec-glue.h"
#include "reply.h"
#include "router.h"
#include "services.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

/* All request headers together (names, values, request line) */
#define LC_MAX_HEADER_BYTES (16 * KiB)
/*
 * A refused request's body is read and dropped up to this size, so that the
 * client (which sends its body before reading the reply) sees the error and
 * the connection stays usable; past it the connection is dropped.
 */
#define LC_MAX_DRAIN (8 * MiB)
/* Form parameters of a Query request */
#define LC_MAX_FORM_PARAMS 1000

/*
 * The services.  Columns: scope name, protocol, X-Amz-Target prefix,
 * xmlns of XML replies, buffered body cap, streamed body cap, S3 signing
 * rules, S3-style errors, start-up function.
 */
const struct lc_service lc_services[] = {
	{ "secretsmanager", LC_PROTO_JSON, "secretsmanager", NULL, 1 * MiB, 0, 0, 0, sm_init },
	/* S3's single PUT limit is 5 GiB; XML bodies (DeleteObjects of 1000 keys) stay small */
	{ "s3", LC_PROTO_REST_XML, NULL, "http://s3.amazonaws.com/doc/2006-03-01/", 2 * MiB,
		5 * 1024 * MiB, 1, 1, s3_init },
	{ "cloudfront", LC_PROTO_REST_XML, NULL, "http://cloudfront.amazonaws.com/doc/2020-05-31/",
		1 * MiB, 0, 0, 0, cf_init },
	{ "elasticloadbalancing", LC_PROTO_QUERY, NULL,
		"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", 1 * MiB, 0, 0, 0,
		elb_init },
	/* route53 starts after s3 and cloudfront: its init brings up the edge */
	{ "route53", LC_PROTO_REST_XML, NULL, "https://route53.amazonaws.com/doc/2013-04-01/",
		1 * MiB, 0, 0, 0, r53_init },
	/* ECS after the edge and ELBv2: its supervisor registers targets from the start */
	{ "logs", LC_PROTO_JSON, "Logs_20140328", NULL, 1 * MiB, 0, 0, 0, logs_init },
	{ "ecs", LC_PROTO_JSON, "AmazonEC2ContainerServiceV20141113", NULL, 1 * MiB, 0, 0, 0,
		ecs_init },
	{ "rds", LC_PROTO_QUERY, NULL, "http://rds.amazonaws.com/doc/2014-10-31/", 1 * MiB, 0, 0, 0,
		rds_init },
};
const size_t lc_n_services = ARRAY_SIZE(lc_services);

/*
 * The operations: one row per (service, operation).  Columns: service,
 * operation, handler; REST services add method, path pattern, required
 * query parameter, required header and body mode.  First match wins.
 * Rows on the codec name a typed handler instead (.typed); the older rows
 * leave that last column out, which is what it is for.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const struct lc_route lc_routes[] = {
	/* Secrets Manager (JSON 1.1, typed handlers on the codec) */
	{ "secretsmanager", "CreateSecret", .typed = sm_create_secret },
	{ "secretsmanager", "PutSecretValue", .typed = sm_put_secret_value },
	{ "secretsmanager", "GetSecretValue", .typed = sm_get_secret_value },
	{ "secretsmanager", "DescribeSecret", .typed = sm_describe_secret },
	{ "secretsmanager", "ListSecrets", .typed = sm_list_secrets },
	{ "secretsmanager", "ListSecretVersionIds", .typed = sm_list_secret_version_ids },
	{ "secretsmanager", "UpdateSecret", .typed = sm_update_secret },
	{ "secretsmanager", "UpdateSecretVersionStage", .typed = sm_update_secret_version_stage },
	{ "secretsmanager", "DeleteSecret", .typed = sm_delete_secret },
	{ "secretsmanager", "RestoreSecret", .typed = sm_restore_secret },
	{ "secretsmanager", "TagResource", .typed = sm_tag_resource },
	{ "secretsmanager", "UntagResource", .typed = sm_untag_resource },
	/* CloudWatch Logs (JSON 1.1, typed handlers on the codec) */
	{ "logs", "CreateLogGroup", .typed = logs_create_log_group },
	{ "logs", "DeleteLogGroup", .typed = logs_delete_log_group },
	{ "logs", "PutRetentionPolicy", .typed = logs_put_retention_policy },
	{ "logs", "DescribeLogGroups", .typed = logs_describe_log_groups },
	{ "logs", "CreateLogStream", .typed = logs_create_log_stream },
	{ "logs", "DescribeLogStreams", .typed = logs_describe_log_streams },
	{ "logs", "PutLogEvents", .typed = logs_put_log_events },
	{ "logs", "GetLogEvents", .typed = logs_get_log_events },
	{ "logs", "FilterLogEvents", .typed = logs_filter_log_events },
	/* ECS (JSON 1.1) */
	{ "ecs", "CreateCluster", ecs_create_cluster, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeClusters", ecs_describe_clusters, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListClusters", ecs_list_clusters, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DeleteCluster", ecs_delete_cluster, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "RegisterTaskDefinition", ecs_register_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "DeregisterTaskDefinition", ecs_deregister_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "DescribeTaskDefinition", ecs_describe_task_definition, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "ListTaskDefinitions", ecs_list_task_definitions, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListTaskDefinitionFamilies", ecs_list_task_definition_families, NULL, NULL, NULL,
		NULL, 0 },
	{ "ecs", "CreateService", ecs_create_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "UpdateService", ecs_update_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DeleteService", ecs_delete_service, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeServices", ecs_describe_services, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListServices", ecs_list_services, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "RunTask", ecs_run_task, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "DescribeTasks", ecs_describe_tasks, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "ListTasks", ecs_list_tasks, NULL, NULL, NULL, NULL, 0 },
	{ "ecs", "StopTask", ecs_stop_task, NULL, NULL, NULL, NULL, 0 },
	/* Elastic Load Balancing v2 (Query) */
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

	/* S3 (REST-XML, path-style; virtual-hosted requests are rewritten to it) */
	{ "s3", "ListBuckets", s3_list_buckets, "GET", "/", NULL, NULL, 0 },
	{ "s3", "GetBucketLocation", s3_get_bucket_location, "GET", "/{Bucket}", "location", NULL,
		0 },
	{ "s3", "ListObjectsV2", s3_list_objects, "GET", "/{Bucket}", "list-type", NULL, 0 },
	{ "s3", "ListObjects", s3_list_objects, "GET", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "CreateBucket", s3_create_bucket, "PUT", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "DeleteBucket", s3_delete_bucket, "DELETE", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "HeadBucket", s3_head_bucket, "HEAD", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "DeleteObjects", s3_delete_objects, "POST", "/{Bucket}", "delete", NULL, 0 },
	{ "s3", "CreateMultipartUpload", s3_create_multipart_upload, "POST", "/{Bucket}/{Key+}",
		"uploads", NULL, 0 },
	{ "s3", "CompleteMultipartUpload", s3_complete_multipart_upload, "POST",
		"/{Bucket}/{Key+}", "uploadId", NULL, 0 },
	{ "s3", "UploadPart", s3_upload_part, "PUT", "/{Bucket}/{Key+}", "uploadId", NULL,
		LC_BODY_FILE },
	{ "s3", "CopyObject", s3_copy_object, "PUT", "/{Bucket}/{Key+}", NULL,
		"x-amz-copy-source", 0 },
	{ "s3", "PutObject", s3_put_object, "PUT", "/{Bucket}/{Key+}", NULL, NULL, LC_BODY_FILE },
	{ "s3", "ListParts", s3_list_parts, "GET", "/{Bucket}/{Key+}", "uploadId", NULL, 0 },
	{ "s3", "GetObject", s3_get_object, "GET", "/{Bucket}/{Key+}", NULL, NULL, 0 },
	{ "s3", "HeadObject", s3_head_object, "HEAD", "/{Bucket}/{Key+}", NULL, NULL, 0 },
	{ "s3", "AbortMultipartUpload", s3_abort_multipart_upload, "DELETE", "/{Bucket}/{Key+}",
		"uploadId", NULL, 0 },
	{ "s3", "DeleteObject", s3_delete_object, "DELETE", "/{Bucket}/{Key+}", NULL, NULL, 0 },

	/* CloudFront (REST-XML) */
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

	/* Route 53 (REST-XML) */
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

	{ "rds", "CreateDBInstance", rds_create_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DescribeDBInstances", rds_describe_db_instances, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "ModifyDBInstance", rds_modify_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "RebootDBInstance", rds_reboot_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DeleteDBInstance", rds_delete_db_instance, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "CreateDBSnapshot", rds_create_db_snapshot, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DescribeDBSnapshots", rds_describe_db_snapshots, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "DeleteDBSnapshot", rds_delete_db_snapshot, NULL, NULL, NULL, NULL, 0 },
	{ "rds", "RestoreDBInstanceFromDBSnapshot", rds_restore_db_instance_from_db_snapshot, NULL,
		NULL, NULL, NULL, 0 },
	{ "rds", "RestoreDBInstanceToPointInTime", rds_restore_db_instance_to_point_in_time, NULL,
		NULL, NULL, NULL, 0 },
};
#pragma GCC diagnostic pop
const size_t lc_n_routes = ARRAY_SIZE(lc_routes);

/*
 * Stand-ins used to word an error before the service is known (unsigned
 * or unknown-service requests): the protocol the request looks like.
 */
static const struct lc_service guess_json = { "", LC_PROTO_JSON, NULL, NULL, 1 * MiB, 0, 0, 0,
	NULL };
static const struct lc_service guess_query = { "", LC_PROTO_QUERY, NULL, NULL, 1 * MiB, 0, 0, 0,
	NULL };
static const struct lc_service guess_rest = { "", LC_PROTO_REST_XML, NULL, NULL, 1 * MiB, 0, 1,
	1, NULL };

const char *lc_request_header(const struct lc_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

const char *lc_request_query(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->query, req->n_query, name);
}

const char *lc_request_path_param(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->path_params, req->n_path_params, name);
}

const char *lc_request_form(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->form, req->n_form, name);
}

json_t *lc_request_json(struct lc_request *req, struct lc_response *res)
{
	json_error_t jerr;
	json_t *j;

	if (req->body.len == 0)
		return json_object();
	j = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		lc_reply_error(req, res, 400, "SerializationException",
			"the request body is not a JSON object: %s",
			j == NULL ? jerr.text : "expected an object");
		return NULL;
	}
	return j;
}

const struct lc_service *router_service(const char *name)
{
	size_t i;

	for (i = 0; i < lc_n_services; i++)
		if (!strcmp(lc_services[i].name, name))
			return &lc_services[i];
	return NULL;
}

/*
 * The REST-XML service an unsigned request's path names (Route 53's and
 * CloudFront's API versions), so that it is refused in that service's
 * words rather than S3's; NULL for anything else.
 */
static const struct lc_service *service_by_path(const char *path)
{
	if (path != NULL && strncmp(path, "/2013-04-01/", 12) == 0)
		return router_service("route53");
	if (path != NULL && strncmp(path, "/2020-05-31/", 12) == 0)
		return router_service("cloudfront");
	return NULL;
}

static const struct lc_service *service_by_target(const char *target)
{
	size_t i, n = strcspn(target, ".");

	for (i = 0; i < lc_n_services; i++) {
		const char *p = lc_services[i].target_prefix;

		if (p != NULL && strlen(p) == n && !strncmp(p, target, n))
			return &lc_services[i];
	}
	return NULL;
}

static const struct lc_route *route_by_operation(const char *service, const char *op)
{
	size_t i;

	for (i = 0; i < lc_n_routes; i++)
		if (lc_routes[i].method == NULL && !strcmp(lc_routes[i].service, service) &&
			!strcmp(lc_routes[i].operation, op))
			return &lc_routes[i];
	return NULL;
}

/*
 * The bucket named by an S3 virtual-hosted Host header: "<bucket>.s3.<...>"
 * (as on AWS) or "<bucket>.localhost" (every *.localhost name reaches
 * 127.0.0.1).  NULL for path-style hosts (127.0.0.1, localhost, s3.localhost).
 */
static char *s3_host_bucket(const char *host)
{
	size_t n = strcspn(host, ":");
	char *h = xstrndup(host, n), *b = NULL, *p;

	for (p = h; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((p = strstr(h, ".s3.")) != NULL || (p = strstr(h, ".s3-")) != NULL) {
		if (p > h)
			b = xstrndup(h, (size_t)(p - h));
	} else if (n > 10 && !strcmp(h + n - 10, ".localhost") && strcmp(h, "s3.localhost")) {
		b = xstrndup(h, n - 10);
	}
	free(h);
	return b;
}

static const struct lc_route *route_rest(struct lc_request *req)
{
	size_t i;

	for (i = 0; i < lc_n_routes; i++) {
		const struct lc_route *r = &lc_routes[i];

		if (r->method == NULL || strcmp(r->service, req->service->name) != 0 ||
			strcmp(r->method, req->method) != 0)
			continue;
		if (r->query_flag != NULL && lc_request_query(req, r->query_flag) == NULL)
			continue;
		if (r->header_flag != NULL && lc_request_header(req, r->header_flag) == NULL)
			continue;
		if (lcproto_path_match(r->path, req->route_path ? req->route_path : req->raw_path,
			    req->path_params,
			    LC_MAX_PATH_PARAMS, &req->n_path_params))
			return r;
	}
	return NULL;
}

static int too_large(struct lc_request *req, struct lc_response *res, uint64_t max)
{
	req->failed = 1;
	if (req->service->s3_errors)
		return lc_reply_error(req, res, 400, "EntityTooLarge",
			"Your proposed upload exceeds the maximum allowed size of %llu bytes.",
			(unsigned long long)max);
	return lc_reply_error(req, res, 413, "RequestEntityTooLarge",
		"the request body exceeds the maximum of %llu bytes", (unsigned long long)max);
}

static uint64_t body_cap(const struct lc_request *req)
{
	if (req->route != NULL && req->route->body_mode == LC_BODY_FILE)
		return req->service->max_stream;
	return req->service->max_body;
}

static int health(struct lc_request *req, struct lc_response *res)
{
	/* the pid says which daemon answers: another local cloud may hold the port */
	json_t *o = json_pack("{s:s, s:I, s:[]}", "status", "running", "pid",
		(json_int_t)getpid(), "services");
	char *text;
	size_t i;

	for (i = 0; i < lc_n_services; i++)
		json_array_append_new(json_object_get(o, "services"),
			json_string(lc_services[i].name));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	lc_reply_raw(req, res, 200, "application/json", text, strlen(text));
	free(text);
	return -1;
}

static int router_check_headers(struct lc_request *req, struct lc_response *res)
{
	const char *target = lc_request_header(req, "X-Amz-Target");
	const char *ctype = lc_request_header(req, "Content-Type");
	const char *authz = lc_request_header(req, "Authorization");
	const char *qcred = lc_request_query(req, "X-Amz-Credential");
	const struct lc_service *svc = NULL;
	char key_id[129], region[64], service[64];
	size_t total, i;
	int scoped = 0;

	/* a first guess, so that even the earliest error has the right shape */
	if (target != NULL)
		req->service = &guess_json;
	else if (!strcmp(req->method, "POST") && ctype != NULL &&
		 !strncasecmp(ctype, "application/x-www-form-urlencoded", 33))
		req->service = &guess_query;
	else
		req->service = &guess_rest;

	total = strlen(req->method) + strlen(req->raw_path) + strlen(req->raw_query) + 16;
	for (i = 0; i < req->n_headers; i++)
		total += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 4;
	if (total > LC_MAX_HEADER_BYTES) {
		req->failed = 1;
		return lc_reply_error(req, res, 400, "RequestHeaderSectionTooLarge",
			"Your request header section exceeds the maximum allowed size of %zu bytes.",
			LC_MAX_HEADER_BYTES);
	}
	/*
	 * A key, name or parameter with a NUL byte in it (index.html%00.bak)
	 * would be cut short as a C string and name another object: refused,
	 * never truncated.
	 */
	if (req->encoded_nul) {
		req->failed = 1;
		return lc_reply_error(req, res, 400, "InvalidArgument",
			"the request's path or query string holds an encoded NUL byte (%%00), which "
			"no key, name or parameter here may contain");
	}
	if (!strcmp(req->method, "GET") && !strcmp(req->raw_path, "/_caliber/health")) {
		req->failed = 1;
		return health(req, res);
	}

	if (authz != NULL)
		scoped = lcproto_scope_parse(authz, key_id, sizeof(key_id), region, sizeof(region),
				 service, sizeof(service)) == 0;
	else if (qcred != NULL)
		scoped = lcproto_scope_parse(qcred, key_id, sizeof(key_id), region, sizeof(region),
				 service, sizeof(service)) == 0;
	if (scoped) {
		svc = router_service(service);
		if (svc == NULL) {
			req->failed = 1;
			if (req->service->protocol == LC_PROTO_JSON)
				return lc_reply_error(req, res, 400, "UnknownOperationException",
					"caliberd does not provide the service '%s'", service);
			if (req->service->protocol == LC_PROTO_QUERY)
				return lc_reply_error(req, res, 400, "InvalidAction",
					"caliberd does not provide the service '%s'", service);
			return lc_reply_error(req, res, 501, "NotImplemented",
				"caliberd does not provide the service '%s'", service);
		}
		req->service = svc;
		snprintf(req->region, sizeof(req->region), "%s", region);
	} else if (authz != NULL || qcred != NULL) {
		/* a signature we cannot read: sigv4_verify words the refusal */
		if (target != NULL && service_by_target(target) != NULL)
			req->service = service_by_target(target);
		req->failed = 1;
		if (auth_check(req, res, NULL) == 0)
			return lc_reply_error(req, res, 400, "IncompleteSignatureException",
				"the credential scope of the signature cannot be read");
		return -1;
	} else {
		if (target != NULL && service_by_target(target) != NULL)
			req->service = service_by_target(target);
		else if (service_by_path(req->raw_path) != NULL)
			req->service = service_by_path(req->raw_path);
		req->failed = 1;
		return auth_refuse_unsigned(req, res);
	}

	switch (svc->protocol) {
	case LC_PROTO_JSON: {
		const char *dot = target ? strchr(target, '.') : NULL;

		if (target == NULL || dot == NULL ||
			(size_t)(dot - target) != strlen(svc->target_prefix) ||
			strncmp(target, svc->target_prefix, (size_t)(dot - target)) != 0) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "UnknownOperationException",
				"expected the header X-Amz-Target: %s.<Operation>",
				svc->target_prefix);
		}
		req->operation = dot + 1;
		req->route = route_by_operation(svc->name, dot + 1);
		if (req->route == NULL) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "UnknownOperationException",
				"unknown operation '%s'", dot + 1);
		}
		break;
	}
	case LC_PROTO_REST_XML:
	case LC_PROTO_REST_JSON:
		if (svc->s3_signing && lc_request_header(req, "Host") != NULL) {
			char *bucket = s3_host_bucket(lc_request_header(req, "Host"));

			if (bucket != NULL)
				req->route_path = xasprintf("/%s%s", bucket,
					strcmp(req->raw_path, "/") ? req->raw_path : "");
			free(bucket);
		}
		req->route = route_rest(req);
		if (req->route == NULL) {
			req->failed = 1;
			if (svc->s3_errors)
				return lc_reply_error(req, res, 405, "MethodNotAllowed",
					"The specified method is not allowed against this resource.");
			return lc_reply_error(req, res, 404, "UnknownOperationException",
				"no operation of %s matches %s %s", svc->name, req->method,
				req->raw_path);
		}
		req->operation = req->route->operation;
		break;
	case LC_PROTO_QUERY:
		break;
	}

	if (req->content_length != UINT64_MAX && req->content_length > body_cap(req))
		return too_large(req, res, body_cap(req));

	if (svc->s3_signing) {
		const char *hash = lc_request_header(req, "x-amz-content-sha256");

		if (hash == NULL && qcred != NULL)
			hash = "UNSIGNED-PAYLOAD";
		if (hash == NULL) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "InvalidRequest",
				"Missing required header for this request: x-amz-content-sha256");
		}
		if (auth_check(req, res, hash) < 0) {
			req->failed = 1;
			return -1;
		}
	}

	req->sha = EVP_MD_CTX_new();
	if (req->sha == NULL || EVP_DigestInit_ex(req->sha, EVP_sha256(), NULL) != 1) {
		req->failed = 1;
		return lc_reply_error(req, res, 500, "InternalFailure", "unable to hash the body");
	}
	if (req->route != NULL && req->route->body_mode == LC_BODY_FILE) {
		req->body_path = xasprintf("%s/" LC_TMP_BODY_PREFIX "XXXXXX", req->srv->tmp_dir);
		req->body_fd = mkostemp(req->body_path, O_CLOEXEC);
		if (req->body_fd < 0) {
			lc_log("unable to create a temp file in '%s': %s", req->srv->tmp_dir,
				strerror(errno));
			free(req->body_path);
			req->body_path = NULL;
			req->failed = 1;
			return lc_reply_error(req, res, 500, "InternalFailure",
				"unable to store the body");
		}
	} else {
		buf_set_cap(&req->body, body_cap(req));
	}
	return 0;
}

int router_begin(struct lc_request *req, struct lc_response *res)
{
	const char *expect;

	if (router_check_headers(req, res) == 0)
		return 0;
	req->failed = 1;
	/*
	 * Refused.  A client waiting for "100 Continue" sends no body when
	 * answered now; a large announced body is not worth reading.
	 * Otherwise the body is read and dropped, and the error sent after
	 * it (router_finish), which keeps the connection alive.
	 */
	expect = lc_request_header(req, "Expect");
	if (expect != NULL && !strcasecmp(expect, "100-continue"))
		return -1;
	if (req->content_length != UINT64_MAX && req->content_length > LC_MAX_DRAIN)
		return -1;
	return 0;
}

int router_body(struct lc_request *req, struct lc_response *res, const char *data, size_t len)
{
	if (req->failed) {
		req->body_len += len;
		return req->body_len > LC_MAX_DRAIN ? -2 : -1;
	}
	if (req->body_fd >= 0) {
		size_t done = 0;

		if (req->body_len + len > req->service->max_stream)
			return too_large(req, res, req->service->max_stream);
		while (done < len) {
			ssize_t n = write(req->body_fd, data + done, len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				lc_log("unable to write '%s': %s", req->body_path, strerror(errno));
				req->failed = 1;
				return lc_reply_error(req, res, 500, "InternalFailure",
					"unable to store the body");
			}
			done += (size_t)n;
		}
	} else if (buf_append(&req->body, data, len) < 0) {
		return too_large(req, res, req->body.max);
	}
	req->body_len += len;
	EVP_DigestUpdate(req->sha, data, len);
	return 0;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int route_query(struct lc_request *req, struct lc_response *res)
{
	const char *ctype = lc_request_header(req, "Content-Type");
	const char *action;

	int parsed = 0;

	if (ctype != NULL && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33))
		parsed = lcproto_form_parse(req->body.data, req->body.len, LC_MAX_FORM_PARAMS,
			&req->form, &req->n_form);
	if (parsed == -2)
		return lc_reply_error(req, res, 400, "InvalidParameterValue",
			"a parameter's name or value holds an encoded NUL byte (%%00)");
	if (parsed < 0)
		return lc_reply_error(req, res, 400, "MalformedQueryString",
			"more than %d parameters", LC_MAX_FORM_PARAMS);
	action = lc_request_form(req, "Action");
	if (action == NULL)
		action = lc_request_query(req, "Action");
	if (action == NULL)
		return lc_reply_error(req, res, 400, "MissingAction",
			"the request has no Action parameter");
	req->operation = action;
	req->route = route_by_operation(req->service->name, action);
	if (req->route == NULL)
		return lc_reply_error(req, res, 400, "InvalidAction",
			"The action %s is not valid for this web service.", action);
	return 0;
}

void router_finish(struct lc_request *req, struct lc_response *res)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;

	if (req->failed)
		return;
	EVP_DigestFinal_ex(req->sha, md, &md_len);
	for (i = 0; i < md_len && i < 32; i++)
		snprintf(req->body_sha256_hex + 2 * i, 3, "%02x", md[i]);
	if (req->body_fd >= 0) {
		close(req->body_fd);
		req->body_fd = -1;
	}
	if (!req->authenticated && auth_check(req, res, req->body_sha256_hex) < 0)
		return;
	if (req->service->s3_signing) {
		const char *hash = lc_request_header(req, "x-amz-content-sha256");

		if (hash != NULL && strlen(hash) == 64 && is_hex64(hash) &&
			strcmp(hash, req->body_sha256_hex) != 0) {
			lc_reply_error(req, res, 400, "XAmzContentSHA256Mismatch",
				"The provided 'x-amz-content-sha256' header does not match what was "
				"computed.");
			return;
		}
	}
	if (req->service->protocol == LC_PROTO_QUERY && req->route == NULL &&
		route_query(req, res) < 0)
		return;
	if ((req->route->typed ? codec_glue_run(req, res) : req->route->handler(req, res)) == 0 &&
		res->status != 0)
		return;
	if (res->status == 0) {
		lc_log("%s %s: handler returned no reply", req->service->name, req->operation);
		lc_reply_error(req, res, 500, "InternalFailure", "the handler sent no reply");
	}
}

void lc_request_release(struct lc_request *req)
{
	if (req->body_fd >= 0)
		close(req->body_fd);
	if (req->body_path != NULL && !req->body_path_taken)
		unlink(req->body_path);
	free(req->body_path);
	EVP_MD_CTX_free(req->sha);
	free(req->method);
	free(req->raw_path);
	free(req->route_path);
	free(req->path);
	free(req->raw_query);
	lc_params_free(req->query, req->n_query);
	lc_params_free(req->headers, req->n_headers);
	while (req->n_path_params > 0) {
		req->n_path_params--;
		free(req->path_params[req->n_path_params].name);
		free(req->path_params[req->n_path_params].value);
	}
	lc_params_free(req->form, req->n_form);
	buf_release_secret(&req->body);
	memset(req, 0, sizeof(*req));
	req->body_fd = -1;
}
