/*
 * endpoint.c: region, endpoint URL and CA bundle resolution (see
 * endpoint.h for the order).  The table holds the services Caliber and its
 * runbook talk to, with the endpoint prefix and signing name from
 * botocore's service models.
 */
#include "compat.h"

#include <ctype.h>

#include "aws/endpoint.h"
#include "aws/profile.h"

struct aws_service {
	const char *service_id;
	const char *prefix;	/* host label(s) before the region */
	const char *signing_name;
	const char *global_host; /* NULL: regional */
};

static const struct aws_service aws_services[] = {
	{ "ACM", "acm", "acm", NULL },
	{ "Application Auto Scaling", "application-autoscaling", "application-autoscaling", NULL },
	{ "Auto Scaling", "autoscaling", "autoscaling", NULL },
	{ "CloudFormation", "cloudformation", "cloudformation", NULL },
	{ "CloudFront", "cloudfront", "cloudfront", "cloudfront.amazonaws.com" },
	{ "CloudWatch", "monitoring", "monitoring", NULL },
	{ "CloudWatch Logs", "logs", "logs", NULL },
	{ "DocDB", "rds", "rds", NULL },
	{ "DynamoDB", "dynamodb", "dynamodb", NULL },
	{ "EC2", "ec2", "ec2", NULL },
	{ "ECR", "api.ecr", "ecr", NULL },
	{ "ECS", "ecs", "ecs", NULL },
	{ "Elastic Load Balancing", "elasticloadbalancing", "elasticloadbalancing", NULL },
	{ "Elastic Load Balancing v2", "elasticloadbalancing", "elasticloadbalancing", NULL },
	{ "IAM", "iam", "iam", "iam.amazonaws.com" },
	{ "KMS", "kms", "kms", NULL },
	{ "Lambda", "lambda", "lambda", NULL },
	{ "RDS", "rds", "rds", NULL },
	{ "Route 53", "route53", "route53", "route53.amazonaws.com" },
	{ "S3", "s3", "s3", NULL },
	{ "Secrets Manager", "secretsmanager", "secretsmanager", NULL },
	{ "SNS", "sns", "sns", NULL },
	{ "SQS", "sqs", "sqs", NULL },
	{ "SSM", "ssm", "ssm", NULL },
	{ "SSO", "portal.sso", "awsssoportal", NULL },
	{ "SSO OIDC", "oidc", "awsssooidc", NULL },
	{ "STS", "sts", "sts", NULL },
	{ "WAFV2", "wafv2", "wafv2", NULL },
};

/* The services whose default endpoint is global are signed in this region. */
#define AWS_GLOBAL_REGION "us-east-1"

static const struct aws_service *service_find(const char *service_id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aws_services); i++) {
		if (strcasecmp(aws_services[i].service_id, service_id) == 0)
			return &aws_services[i];
	}
	return NULL;
}

int aws_region_valid(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return 0;
	}
	return n > 0 && n < 64;
}

static int is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

/* Service id transformed: spaces and '-' become '_', then case applied. */
static char *service_id_key(const char *service_id, int upper)
{
	char *r = xstrdup(service_id);
	size_t i;

	for (i = 0; r[i]; i++) {
		if (r[i] == ' ' || r[i] == '-')
			r[i] = '_';
		else
			r[i] = (char)(upper ? toupper((unsigned char)r[i]) :
					      tolower((unsigned char)r[i]));
	}
	return r;
}

char *aws_endpoint_env_name(const char *service_id)
{
	char *key = service_id_key(service_id, 1);
	char *r = xasprintf("AWS_ENDPOINT_URL_%s", key);

	free(key);
	return r;
}

static int region_from(const struct aws_profile_files *f, const char *profile, struct buf *region)
{
	const char *v = getenv("AWS_REGION");

	if (v == NULL || *v == '\0')
		v = getenv("AWS_DEFAULT_REGION");
	if ((v == NULL || *v == '\0') && f)
		v = aws_profile_get(f, profile, "region");
	if (v == NULL || *v == '\0')
		return 0;
	buf_appends(region, v);
	return 1;
}

int aws_region_resolve(const char *profile, struct buf *region, struct err *e)
{
	struct aws_profile_files f = AWS_PROFILE_FILES_INIT;
	const char *name = aws_profile_name(profile);
	int rc = -1;

	if (aws_profile_files_load(&f, e) < 0)
		goto out;
	if (!region_from(&f, name, region)) {
		err_usage(e,
			"no AWS region configured for profile '%s'; set AWS_REGION or run "
			"'aws configure set region <region> --profile %s'",
			name, name);
		goto out;
	}
	if (!aws_region_valid(buf_str(region))) {
		err_usage(e, "invalid AWS region '%s'", buf_str(region));
		goto out;
	}
	rc = 0;
out:
	aws_profile_files_release(&f);
	return rc;
}

static int url_valid(const char *url)
{
	const char *host;

	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/')
		return 0;
	for (; *host; host++) {
		if ((unsigned char)*host <= ' ' || *host == '"' || *host == '\\')
			return 0;
	}
	return 1;
}

static int configured_url(const struct aws_profile_files *f, const char *profile,
	const char *service_id, char **url, char *source, size_t source_size, struct err *e)
{
	char *env_name = aws_endpoint_env_name(service_id);
	const char *v = getenv(env_name), *services;
	int rc = -1;

	*url = NULL;
	if (v && *v) {
		snprintf(source, source_size, "%s", env_name);
		goto found;
	}
	v = getenv("AWS_ENDPOINT_URL");
	if (v && *v) {
		snprintf(source, source_size, "AWS_ENDPOINT_URL");
		goto found;
	}
	services = aws_profile_config_get(f, profile, "services");
	if (services && *services) {
		char *section = xasprintf("services %s", services);
		char *key = service_id_key(service_id, 0);
		char *full = xasprintf("%s.endpoint_url", key);

		if (!aws_ini_has_section(&f->config, section)) {
			err_usage(e,
				"profile '%s' uses services section '%s', which is not in '%s'",
				profile, services, f->config_path);
			free(section);
			free(key);
			free(full);
			goto out;
		}
		v = aws_ini_get(&f->config, section, full);
		free(section);
		free(full);
		if (v && *v) {
			snprintf(source, source_size, "[services %.40s] %.40s", services, key);
			free(key);
			goto found;
		}
		free(key);
	}
	v = aws_profile_config_get(f, profile, "endpoint_url");
	if (v && *v) {
		snprintf(source, source_size, "endpoint_url of profile '%.60s'", profile);
		goto found;
	}
	rc = 0;
	goto out;
found:
	if (!url_valid(v)) {
		err_usage(e, "endpoint url '%s' from %s is not an http(s) url", v, source);
		goto out;
	}
	*url = xstrdup(v);
	while (strlen(*url) > 8 && (*url)[strlen(*url) - 1] == '/')
		(*url)[strlen(*url) - 1] = '\0';
	rc = 1;
out:
	free(env_name);
	return rc;
}

int aws_endpoint_resolve(const char *service_id, const char *region, const char *profile,
	struct aws_endpoint *out, struct err *e)
{
	struct aws_profile_files f = AWS_PROFILE_FILES_INIT;
	struct buf reg = BUF_INIT;
	const struct aws_service *svc = service_find(service_id);
	const char *name = aws_profile_name(profile);
	int ignore, found = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (aws_profile_files_load(&f, e) < 0)
		goto out;
	if (region && *region) {
		buf_appends(&reg, region);
	} else if (!region_from(&f, name, &reg)) {
		if (svc == NULL || svc->global_host == NULL) {
			err_usage(e,
				"no AWS region configured for profile '%s'; set AWS_REGION or "
				"run 'aws configure set region <region> --profile %s'",
				name, name);
			goto out;
		}
		buf_appends(&reg, AWS_GLOBAL_REGION);
	}
	if (!aws_region_valid(reg.data)) {
		err_usage(e, "invalid AWS region '%s'", reg.data);
		goto out;
	}
	ignore = is_true(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
		is_true(aws_profile_config_get(&f, name, "ignore_configured_endpoint_urls"));
	if (!ignore) {
		found = configured_url(&f, name, service_id, &out->url, out->source,
			sizeof(out->source), e);
		if (found < 0)
			goto out;
	}
	if (svc == NULL && !found) {
		err_set(e, "unknown AWS service '%s' and no endpoint url configured for it (%s)",
			service_id, "set AWS_ENDPOINT_URL_<SERVICE>");
		goto out;
	}
	snprintf(out->signing_name, sizeof(out->signing_name), "%s",
		svc ? svc->signing_name : service_id);
	if (svc == NULL) {
		/* best effort outside the table: the id lower-cased, without spaces */
		size_t i, j = 0;

		for (i = 0; out->signing_name[i]; i++) {
			if (out->signing_name[i] != ' ')
				out->signing_name[j++] =
					(char)tolower((unsigned char)out->signing_name[i]);
		}
		out->signing_name[j] = '\0';
	}
	if (found) {
		out->configured = 1;
		snprintf(out->signing_region, sizeof(out->signing_region), "%s", reg.data);
	} else if (svc->global_host) {
		out->url = xasprintf("https://%s", svc->global_host);
		snprintf(out->signing_region, sizeof(out->signing_region), AWS_GLOBAL_REGION);
		snprintf(out->source, sizeof(out->source), "global endpoint");
	} else {
		const char *suffix = strncmp(reg.data, "cn-", 3) == 0 ? "amazonaws.com.cn" :
									"amazonaws.com";

		out->url = xasprintf("https://%s.%s.%s", svc->prefix, reg.data, suffix);
		snprintf(out->signing_region, sizeof(out->signing_region), "%s", reg.data);
		snprintf(out->source, sizeof(out->source), "regional endpoint");
	}
	rc = 0;
out:
	if (rc < 0)
		aws_endpoint_release(out);
	buf_release(&reg);
	aws_profile_files_release(&f);
	return rc;
}

void aws_endpoint_release(struct aws_endpoint *ep)
{
	free(ep->url);
	ep->url = NULL;
}

char *aws_ca_bundle(const char *profile)
{
	struct aws_profile_files f = AWS_PROFILE_FILES_INIT;
	struct err e = ERR_INIT;
	const char *v = getenv("AWS_CA_BUNDLE");
	char *r = NULL;

	if (v && *v)
		return aws_path_expand(v);
	/* an unreadable config file is reported by whoever loads it for real */
	if (aws_profile_files_load(&f, &e) == 0) {
		v = aws_profile_config_get(&f, aws_profile_name(profile), "ca_bundle");
		if (v && *v)
			r = aws_path_expand(v);
	}
	aws_profile_files_release(&f);
	return r;
}
