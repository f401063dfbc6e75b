/*
 * endpoint.h: which region, which URL and which CA bundle a request to an
 * AWS service uses, decided as awscli decides.
 *
 * Region: AWS_REGION, AWS_DEFAULT_REGION, then the profile's "region".
 *
 * Endpoint URL, first match wins (botocore's ConfiguredEndpointProvider):
 *   1. AWS_ENDPOINT_URL_<SERVICE>: the service id upper-cased, spaces as
 *      '_' (AWS_ENDPOINT_URL_SECRETS_MANAGER, ..._ROUTE_53, ..._S3);
 *   2. AWS_ENDPOINT_URL;
 *   3. the profile's "services = name" and, in the config file,
 *      "[services name]" with "<service_id lower-cased, '_' for
 *      spaces> =" and an indented "endpoint_url = ...";
 *   4. the profile's "endpoint_url";
 *   5. the public endpoint: https://<prefix>.<region>.amazonaws.com, or for
 *      the global services (CloudFront, Route 53, IAM) the one global host,
 *      signed in us-east-1.
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's
 * ignore_configured_endpoint_urls) skips 1-4.  A configured endpoint is
 * signed in the configured region, global services included, as awscli
 * does with --endpoint-url.
 *
 * Service ids are the "serviceId" of botocore's service models ("S3",
 * "CloudFront", "Route 53", "Secrets Manager", "Elastic Load Balancing
 * v2", "CloudWatch Logs", "DocDB", "RDS", "ECS", "STS", "SSO", ...).
 *
 * Ownership: struct aws_endpoint owns url; aws_endpoint_release() frees it.
 */
#ifndef CALIBER_AWS_ENDPOINT_H
#define CALIBER_AWS_ENDPOINT_H

#include "buf.h"
#include "err.h"

struct aws_endpoint {
	char *url;		/* scheme://host[:port][/path], no trailing '/' */
	char signing_region[64];
	char signing_name[64];	/* SigV4 service name: "s3", "elasticloadbalancing", ... */
	char source[96];	/* where the URL came from, for messages */
	int configured;		/* 1: from 1-4 above, not the public endpoint */
};

#define AWS_ENDPOINT_INIT { NULL, { 0 }, { 0 }, { 0 }, 0 }

/*
 * profile NULL: AWS_PROFILE, else "default".  Appends the region to
 * region; when none is configured fails with an error saying how to set one.
 */
int aws_region_resolve(const char *profile, struct buf *region, struct err *e);

/*
 * Resolve the endpoint of service_id in region (NULL: aws_region_resolve).
 * Fails for an unknown service id (with no override), an invalid region,
 * a URL that is not http(s), or a profile naming a missing services section.
 */
int aws_endpoint_resolve(const char *service_id, const char *region, const char *profile,
	struct aws_endpoint *out, struct err *e);
void aws_endpoint_release(struct aws_endpoint *ep);

/* "AWS_ENDPOINT_URL_" + the transformed service id; caller frees. */
char *aws_endpoint_env_name(const char *service_id);

/* AWS_CA_BUNDLE, else the profile's ca_bundle (with "~/" expanded); NULL if
 * neither; caller frees. */
char *aws_ca_bundle(const char *profile);

/* Whether s is a plausible region name (lower-case letters, digits, '-'). */
int aws_region_valid(const char *s);

#endif
