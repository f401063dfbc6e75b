/*
 * fuzz-codec.c: arbitrary bytes as a request that caliberd's codec parses
 * (lib/aws/codec.h), with the server's own models.  The first byte picks
 * the operation (JSON 1.1: Secrets Manager, Logs, ECS; Query: RDS, ELBv2,
 * IAM; EC2), the bytes up to the first newline are the query string, the
 * rest the body.  What parses is written back as an error's fields, so
 * the writers see parsed values too.
 */
#include "compat.h"

#include "aws/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *service, *op;
} ops[] = {
	{ "secretsmanager", "CreateSecret" },
	{ "secretsmanager", "ListSecrets" },
	{ "secretsmanager", "PutSecretValue" },
	{ "logs", "PutLogEvents" },
	{ "logs", "FilterLogEvents" },
	{ "ecs", "RegisterTaskDefinition" },
	{ "ecs", "CreateService" },
	{ "rds", "CreateDBInstance" },
	{ "rds", "ModifyDBInstance" },
	{ "elbv2", "CreateRule" },
	{ "elbv2", "ModifyTargetGroupAttributes" },
	{ "iam", "PutRolePolicy" },
	{ "ec2", "RunInstances" },
	{ "ec2", "CreateSecurityGroup" },
	{ "ec2", "AuthorizeSecurityGroupIngress" },
	{ "sts", "AssumeRole" },
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
	snprintf(req.method, sizeof(req.method), "POST");
	buf_appends(&req.path, "/");
	nl = memchr(data, '\n', size);
	if (nl != NULL) {
		buf_append(&req.query, data, (size_t)(nl - data));
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	buf_append(&req.body, data, size);
	if (m->protocol != AWS_PROTO_JSON)
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
