/*
 * model.h: AWS service models, as botocore reads them.
 *
 * tools/gen-models.py embeds a trimmed copy of each service's model
 * (operations, shapes, paginators, waiters) from Debian's python3-botocore;
 * aws_model_get() parses it with jansson once per process.  The protocol
 * code (proto-*.c) walks the shapes to serialise input and parse output, so
 * an operation is supported by naming it in the generator, not by code.
 *
 * Ownership: a struct aws_model returned by aws_model_get() lives until
 * exit and is shared; its json_t are borrowed.  aws_model_from_json() takes a
 * reference of its own (released by aws_model_release()), for tests that
 * bring a model fragment.
 */
#ifndef CALIBER_AWS_MODEL_H
#define CALIBER_AWS_MODEL_H

#include <jansson.h>

#include "buf.h"
#include "err.h"

/* One row per service of the generated table (lib/aws/gen/aws-models.c, not committed). */
struct aws_model_source {
	const char *service;	/* awscli's name: "secretsmanager", "s3", ... */
	const char *json;
	size_t len;
};
extern const struct aws_model_source aws_model_sources[];
/* Every operation of the services caliberd emulates (aws_model_server_get(), codec.h). */
extern const struct aws_model_source aws_model_server_sources[];

enum aws_protocol {
	AWS_PROTO_JSON,		/* JSON 1.0/1.1: POST /, X-Amz-Target */
	AWS_PROTO_QUERY,	/* form-encoded input, XML output */
	AWS_PROTO_REST_XML,	/* URI templates, headers, XML bodies */
	AWS_PROTO_EC2,		/* Query's input with EC2's names, <Response> errors (server only) */
	AWS_PROTO_REST_JSON,	/* URI templates, headers, JSON bodies (not spoken yet) */
};

struct aws_model {
	const char *service;
	json_t *root;
	json_t *metadata, *operations, *shapes;
	json_t *paginators, *waiters;	/* may be NULL */
	enum aws_protocol protocol;
};

/* The service's model, parsed on first use; NULL (and e) for an unknown service. */
const struct aws_model *aws_model_get(const char *service, struct err *e);
/*
 * The model of service in table (aws_model_sources, or the server's),
 * parsed once into (*cache)[row], the cache allocated on first use.
 */
const struct aws_model *aws_model_table_get(const struct aws_model_source *table,
	struct aws_model **cache, const char *service, struct err *e);
/* A model from its JSON (botocore's layout); for the protocol test suites. */
int aws_model_from_json(struct aws_model *m, json_t *root, struct err *e);
void aws_model_release(struct aws_model *m);
/* Comma-separated list of the embedded services / of a service's operations. */
void aws_model_list_services(struct buf *out);
void aws_model_list_operations(const struct aws_model *m, struct buf *out);

json_t *aws_model_operation(const struct aws_model *m, const char *op);
json_t *aws_model_shape(const struct aws_model *m, const char *name);
/* The shape a member or list/map element ({"shape": "X", ...}) refers to. */
json_t *aws_model_ref(const struct aws_model *m, const json_t *ref);
/* Shape type ("structure", "string", ...); "" when absent. */
const char *aws_model_type(const json_t *shape);
/* String field of a JSON object, or NULL. */
const char *aws_model_str(const json_t *obj, const char *key);
/* Boolean field of a JSON object (false when absent). */
int aws_model_bool(const json_t *obj, const char *key);

/*
 * Value helpers shared by the protocols (model-value.c).
 */

/* Seconds since the epoch from an ISO 8601, RFC 822 or numeric timestamp. */
int aws_time_parse(const char *s, double *out);
/* A timestamp input value (number or string) as seconds since the epoch. */
int aws_time_from_json(const json_t *v, double *out);
/*
 * "iso8601", "rfc822" or "unixTimestamp" rendering of t, as botocore writes
 * it; "iso8601ms" (the server models' patch) to the millisecond, always three
 * digits, as AWS's REST-XML servers write it.
 */
void aws_time_format(double t, const char *format, struct buf *out);
/* The output form: ISO 8601 in UTC with an offset, like awscli prints it. */
json_t *aws_time_to_json(double t);

void aws_base64_encode(const void *data, size_t len, struct buf *out);
/* Returns -1 for malformed input. */
int aws_base64_decode(const char *s, size_t len, struct buf *out);
/* Random UUID v4, 36 characters + NUL. */
void aws_uuid4(char out[37]);
/* RFC 3986 percent-encoding; '/' kept when keep_slash. */
void aws_uri_encode(const char *s, size_t len, int keep_slash, struct buf *out);
/* As Python's urllib quote_plus (form bodies): space becomes '+'. */
void aws_form_encode(const char *s, size_t len, struct buf *out);
/* Python's repr() of a double: the shortest string that reads back the same. */
void aws_double_format(double d, struct buf *out);

#endif
