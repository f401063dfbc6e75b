/*
 * proto.h: the AWS wire protocols, driven by the service models.
 *
 * proto_serialize() turns an operation's input (a JSON object shaped as the
 * model's input structure, as 'aws ... --cli-input-json' takes it) into an
 * unsigned struct aws_request; proto_parse() turns a struct aws_response
 * into the output object botocore would return (lists flattened, numbers
 * and booleans typed, timestamps as ISO 8601 strings, blobs as base64,
 * headers and status codes in their members), or into a struct aws_error.
 *
 * One file per protocol: proto-json.c, proto-query.c, proto-restxml.c;
 * model-xml.c holds the XML reading and writing that the last two share.
 */
#ifndef CALIBER_AWS_PROTO_H
#define CALIBER_AWS_PROTO_H

#include <jansson.h>

#include "aws/model.h"
#include "aws/request.h"

/* An error reply of the service.  fields (owned; may be NULL) holds its modelled members. */
struct aws_error {
	long status;
	char code[128];
	char message[1024];
	char request_id[128];
	json_t *fields;
};

#define AWS_ERROR_INIT { 0, { 0 }, { 0 }, { 0 }, NULL }
void aws_error_release(struct aws_error *ae);

/* Returns 0, or -1 with e (a usage error when the input does not fit the model). */
int proto_serialize(const struct aws_model *m, const char *op, const json_t *input,
	struct aws_request *req, struct err *e);

/*
 * Returns 0 and a new object in *out; 1 when the service replied with an
 * error (filled in ae); -1 with e when the response cannot be read.
 */
int proto_parse(const struct aws_model *m, const char *op, const struct aws_response *resp,
	json_t **out, struct aws_error *ae, struct err *e);

/* Per protocol; same contracts. */
int proto_json_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e);
int proto_json_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e);
int proto_query_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e);
int proto_query_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e);
int proto_restxml_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e);
int proto_restxml_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e);

/*
 * Shared pieces (model-proto.c).
 */
/* Checks that every key of the input object is a member of shape; usage error otherwise. */
int proto_check_members(const json_t *shape, const json_t *value, const char *where,
	struct err *e);
/* Scalar to its text form in query strings, headers and XML (NULL for non-scalars). */
int proto_scalar_text(const json_t *shape, const json_t *v, const char *default_ts,
	struct buf *out, const char *where, struct err *e);
/* The input with idempotency tokens filled (new reference). */
json_t *proto_fill_idempotency(const struct aws_model *m, const json_t *shape,
	const json_t *input);
/* Expand the operation's endpoint trait ("foo.{label}.") into req->host_prefix. */
void proto_host_prefix(const json_t *op, const json_t *input, struct aws_request *req);
/* Find the error shape named by code among the operation's errors (or NULL). */
json_t *proto_error_shape(const struct aws_model *m, const json_t *op, const char *code);
/* Parse a scalar text (header, XML) into its JSON output form; NULL when it does not fit. */
json_t *proto_scalar_parse(const json_t *shape, const char *text, int in_header);

/*
 * XML (model-xml.c).
 */
struct _xmlNode;
/* Parse an XML body; NULL (and e) when it is not well-formed.  Free with proto_xml_free(). */
struct _xmlDoc *proto_xml_read(const char *data, size_t len, struct err *e);
void proto_xml_free(struct _xmlDoc *doc);
struct _xmlNode *proto_xml_root(struct _xmlDoc *doc);
/* First element child of node named name (namespace ignored), or NULL. */
struct _xmlNode *proto_xml_child(struct _xmlNode *node, const char *name);
/* Text content of node (caller frees). */
char *proto_xml_text(struct _xmlNode *node);
/* Output value of node according to shape (new reference, NULL when empty or unparseable). */
json_t *proto_xml_parse_shape(const struct aws_model *m, const json_t *shape,
	struct _xmlNode *node);
/* Structure members of shape read from the children of node into obj. */
void proto_xml_parse_members(const struct aws_model *m, const json_t *shape,
	struct _xmlNode *node, json_t *obj);
/*
 * Serialise value as the XML element name, ref being the member reference
 * ({"shape": .., "locationName": .., "xmlNamespace": ..}), the way Python's
 * ElementTree.tostring writes it (botocore signs those bytes).
 */
int proto_xml_write(const struct aws_model *m, const json_t *ref, const json_t *value,
	const char *name, struct buf *out, const char *where, struct err *e);

#endif
