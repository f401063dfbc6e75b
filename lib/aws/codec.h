/*
 * codec.h: the server side of the AWS wire protocols, the inverse of
 * proto.h, driven by the same botocore models (the server's copies, with
 * every operation: aws_model_server_get()).
 *
 * codec_parse() reads a request that a client sent for one operation into
 * the operation's input as typed values; codec_write_result() writes a
 * handler's typed output as the protocol's response; codec_write_error()
 * writes a modelled error.  "Typed values" are jansson values shaped as
 * the model's structures, keyed by member name (never the wire name):
 *
 *   string          JSON string
 *   integer, long   JSON integer
 *   float, double   JSON real (an integer is accepted on output); the
 *                   strings "NaN", "Infinity", "-Infinity" stand for those
 *   boolean         JSON true / false
 *   timestamp       JSON real, seconds since the epoch (on output an ISO
 *                   8601 string is accepted too)
 *   blob            JSON string holding the raw bytes, decoded (may not be
 *                   UTF-8: read it with json_string_value() and
 *                   json_string_length())
 *   structure, map  JSON object;  list  JSON array;  document  as is
 *
 * An absent member is absent (JSON null on the wire counts as absent).
 * Whether a missing required member is an error, and its wording, is the
 * handler's: services word it differently.
 *
 * One file per protocol family: codec-json.c (JSON 1.0/1.1), codec-query.c
 * (Query and EC2), codec-restxml.c (REST-XML and REST-JSON); codec.c
 * dispatches.
 *
 * Ownership: the request and response structs are the client's (request.h);
 * the caller owns them.  *in from codec_parse() is the caller's (decref);
 * codec_error.fields is owned by the struct (codec_error_release()).
 */
#ifndef CALIBER_AWS_CODEC_H
#define CALIBER_AWS_CODEC_H

#include <jansson.h>

#include "aws/model.h"
#include "aws/request.h"

/* An error to write: status, code as AWS spells it, message, modelled extra members. */
struct codec_error {
	int status;
	char code[128];
	char message[1024];
	json_t *fields;		/* owned, may be NULL: extra members of the error shape */
};

#define CODEC_ERROR_INIT { 0, { 0 }, { 0 }, NULL }
void codec_error_release(struct codec_error *ce);
/* Fill ce (status, code, printf message); returns -1. */
int codec_error_set(struct codec_error *ce, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The server's model of a service (botocore's name: "secretsmanager",
 * "elbv2", ...), every operation whole, parsed on first use; NULL and e
 * for a service not embedded.
 */
const struct aws_model *aws_model_server_get(const char *service, struct err *e);

/*
 * Parse req (as received: method, percent-encoded path and query,
 * headers, body) as a call of op.  Returns 0 and the input object in *in;
 * -1 with ce filled with the protocol's refusal (SerializationException
 * for JSON, ValidationError / MalformedQueryString for Query,
 * InvalidParameterValue for EC2, MalformedXML / InvalidArgument for
 * REST-XML), naming the member and the value.  For REST, the path must match op's requestUri (the router chose
 * op by it).
 */
int codec_parse(const struct aws_model *m, const char *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce);

/*
 * Write out (the output shape's typed value; NULL for an operation
 * without output) as op's success reply into resp: status (200, or a
 * statusCode member), headers (Content-Type and REST header members;
 * not the request id, which the caller adds), body.  request_id goes
 * into Query's ResponseMetadata.  Returns 0, or -1 with e when out does
 * not fit the shape (a bug of the handler: the caller answers 500).
 */
int codec_write_result(const struct aws_model *m, const char *op, const json_t *out,
	const char *request_id, struct aws_response *resp, struct err *e);

/*
 * Write ce as the protocol's error reply: JSON {"__type", "message", ...}
 * with x-amzn-ErrorType; Query <ErrorResponse><Error><Type>Sender|Receiver
 * ...</Error><RequestId>; EC2 <Response><Errors><Error>...; REST-XML
 * <ErrorResponse><Error>...</Error><RequestId>.  ce->fields are written
 * as the error shape's members when the model has that shape.
 */
void codec_write_error(const struct aws_model *m, const struct codec_error *ce,
	const char *request_id, struct aws_response *resp);

/* Per protocol; same contracts. */
int codec_json_parse(const struct aws_model *m, const json_t *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce);
int codec_json_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	struct aws_response *resp, struct err *e);
void codec_json_write_error(const struct aws_model *m, const struct codec_error *ce,
	struct aws_response *resp);
int codec_query_parse(const struct aws_model *m, const json_t *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce);
int codec_query_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	const char *request_id, struct aws_response *resp, struct err *e);
/* One JSON wire value of shape to its typed value, and back (codec-json.c; REST-JSON bodies). */
json_t *codec_json_read_value(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct codec_error *ce);
json_t *codec_json_write_value(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e);
/* REST-XML, and REST-JSON (the same but for the body: m->protocol decides). */
int codec_restxml_parse(const struct aws_model *m, const json_t *op,
	const struct aws_request *req, json_t **in, struct codec_error *ce);
int codec_restxml_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	struct aws_response *resp, struct err *e);
void codec_query_write_error(const struct aws_model *m, const struct codec_error *ce,
	const char *request_id, struct aws_response *resp);

/*
 * Shared pieces (codec.c).
 */
/* Form or query string "a=1&b=%20" into decoded pairs (added to l); -1 for a bad escape. */
int codec_form_decode(const char *s, size_t len, struct aws_kv_list *l);
/* Scalar text (query, header, XML) into its typed value; NULL and ce when it does not fit. */
json_t *codec_scalar_from_text(const json_t *shape, const char *text, size_t len,
	const char *where, const char *error_code, struct codec_error *ce);
/*
 * Replace each carriage return in written XML by "&#13;": the shared writer
 * (model-xml.c) writes text as ElementTree does, and a reader would turn a
 * raw CR into a newline.  Tags never hold one, so only content changes.
 */
void codec_xml_escape_cr(struct buf *xml);
/* A typed timestamp (number, or ISO 8601 string) as seconds; -1 when it is neither. */
int codec_time_value(const json_t *v, double *t);

#endif
