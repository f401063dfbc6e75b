/*
 * fuzz-codec.c: arbitrary bytes as a request that caliberd's codec parses
 * (lib/aws/codec.h), with the server's own models.  The first byte picks
 * the operation (JSON 1.1: Secrets Manager, Logs, ECS; Query: RDS, ELBv2,
 * IAM; EC2; REST-XML: Route 53, CloudFront, S3), the bytes up to the first
 * newline are the query string, the rest the body (for REST-XML: the path
 * and query, then the body).  What parses is written back as an error's fields, so
 * the writers see parsed values too.
 */
#include "compat.h"

#include "aws/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *service, *op, *method;
} ops[] = {
	{ "secretsmanager", "CreateSecret", NULL },
	{ "secretsmanager", "ListSecrets", NULL },
	{ "secretsmanager", "PutSecretValue", NULL },
	{ "logs", "PutLogEvents", NULL },
	{ "logs", "FilterLogEvents", NULL },
	{ "ecs", "RegisterTaskDefinition", NULL },
	{ "ecs", "CreateService", NULL },
	{ "rds", "CreateDBInstance", NULL },
	{ "rds", "ModifyDBInstance", NULL },
	{ "elbv2", "CreateRule", NULL },
	{ "elbv2", "ModifyTargetGroupAttributes", NULL },
	{ "iam", "PutRolePolicy", NULL },
	{ "ec2", "RunInstances", NULL },
	{ "ec2", "CreateSecurityGroup", NULL },
	{ "ec2", "AuthorizeSecurityGroupIngress", NULL },
	{ "sts", "AssumeRole", NULL },
	{ "route53", "ChangeResourceRecordSets", "POST" },
	{ "route53", "ListResourceRecordSets", "GET" },
	{ "cloudfront", "CreateInvalidation", "POST" },
	{ "cloudfront", "UpdateDistribution", "PUT" },
	{ "s3", "PutObject", "PUT" },
	{ "s3", "DeleteObjects", "POST" },
	{ "s3", "ListObjectsV2", "GET" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_error ce = CODEC_ERROR_INIT;
	const struct aws_model *m;
	struct aws_request req;
	struct aws_response resp;
	struct err e = ERR_INIT;
	const uint8_t *nl;
	json_t *in = NULL;
	size_t pick;

	if (size < 1)
		return 0;
	pick = data[0] % ARRAY_SIZE(ops);
	m = aws_model_server_get(ops[pick].service, &e);
	if (m == NULL)
		abort();
	data++;
	size--;
	aws_request_init(&req);
	aws_response_init(&resp);
	snprintf(req.method, sizeof(req.method), "%s", ops[pick].method ? ops[pick].method : "POST");
	nl = memchr(data, '\n', size);
	if (nl != NULL && ops[pick].method != NULL) {
		const uint8_t *q = memchr(data, '?', (size_t)(nl - data));

		buf_append(&req.path, data, (size_t)((q ? q : nl) - data));
		if (q)
			buf_append(&req.query, q + 1, (size_t)(nl - q - 1));
	} else if (nl != NULL) {
		buf_appends(&req.path, "/");
		buf_append(&req.query, data, (size_t)(nl - data));
	}
	if (nl != NULL) {
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	} else {
		buf_appends(&req.path, "/");
	}
	buf_append(&req.body, data, size);
	if (m->protocol == AWS_PROTO_QUERY || m->protocol == AWS_PROTO_EC2)
		aws_kv_add(&req.headers, "Content-Type", "application/x-www-form-urlencoded");
	if (codec_parse(m, ops[pick].op, &req, &in, &ce) == 0) {
		codec_error_set(&ce, 400, "ValidationException", "parsed");
		ce.fields = in;
		in = NULL;
	}
	codec_write_error(m, &ce, "fuzz", &resp);
	json_decref(in);
	codec_error_release(&ce);
	aws_request_release(&req);
	aws_response_release(&resp);
	return 0;
}
