/*
 * router.h: how a request reaches a service handler inside caliberd, and
 * what a handler gets and gives back.
 *
 * A request is routed in two steps, both from tables:
 *
 *  1. The service: the SigV4 credential scope's service name (for
 *     unsigned requests: the X-Amz-Target prefix, else the protocol the
 *     request looks like) picks a service of the catalogue lc_services[]
 *     (localcloud/services.c); its struct lc_service says the protocol
 *     (JSON 1.1, Query, REST-XML, REST-JSON), how errors look and the body
 *     cap.  Each service defines its own in <service>/routes.c.
 *  2. The operation: one row of the service's routes[] per operation.
 *     JSON 1.1 rows match the X-Amz-Target operation, Query rows the
 *     Action= parameter, REST rows the method and a path pattern with
 *     {Param} (one segment) and {Param+} (the rest, slashes included),
 *     plus optionally a query parameter and a header that must be present.
 *     The first matching row of the service wins, so put specific REST
 *     rows first.
 *
 * Adding an operation is one row in <service>/routes.c and one handler
 * function (declared in <service>/internal.h).  See docs/localcloud.md,
 * "Adding a service".
 *
 * Ownership: caliberd owns struct lc_request (every string in it lives
 * until the response is sent) and struct lc_response; a handler fills the
 * response with the lc_reply_* functions in reply.h.
 */
#ifndef CALIBER_LC_ROUTER_H
#define CALIBER_LC_ROUTER_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "localcloud/proto.h"

struct lc_server;
struct lc_request;
struct lc_response;

#define LC_MIB ((size_t)1024 * 1024)

enum lc_protocol {
	LC_PROTO_JSON,		/* awsJson1_1: POST /, X-Amz-Target: <prefix>.<Operation> */
	LC_PROTO_QUERY,		/* awsQuery: POST form Action=<Operation>&Version=..., XML replies */
	LC_PROTO_REST_XML,	/* restXml: S3, CloudFront, Route 53 */
	LC_PROTO_REST_JSON,	/* restJson1 */
};

/* How a request's body reaches the handler. */
enum lc_body_mode {
	LC_BODY_BUFFER = 0,	/* in req->body / req->body_len, capped by the service's max_body */
	LC_BODY_FILE,		/* streamed to a temp file req->body_path (see lc_request) */
};

/*
 * A handler: fill res (lc_reply_json(), lc_reply_xml(), lc_reply_error()
 * ...) and return 0; or return -1 after lc_reply_error() to send an error
 * in the protocol's shape.  Handlers run on the connection's thread;
 * several run at once, so shared state goes through the store.
 */
typedef int (*lc_handler_fn)(struct lc_request *req, struct lc_response *res);

/*
 * A typed handler (codec-glue.h): sees the operation's input as typed
 * values and returns its output the same way; the codec reads and writes
 * the wire.  Returns 0 and *out (a new reference, or NULL for no output
 * members), or -1 with err filled (codec_error_set()).
 */
struct codec_error;
typedef int (*lc_typed_fn)(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

struct lc_service {
	const char *name;		/* SigV4 scope service name: "secretsmanager", "s3" */
	enum lc_protocol protocol;
	const char *target_prefix;	/* JSON 1.1: X-Amz-Target prefix, "secretsmanager" */
	const char *xmlns;		/* Query/REST-XML: namespace of replies */
	size_t max_body;		/* cap on buffered bodies, bytes */
	size_t max_stream;		/* cap on LC_BODY_FILE bodies, bytes */
	/*
	 * S3's SigV4 rules: the path is not normalised, and the payload hash
	 * comes from x-amz-content-sha256, so the signature is checked when
	 * the headers arrive (before a large body is read) and the body is
	 * checked against the hash when it has arrived.
	 */
	int s3_signing;
	/* REST-XML errors as S3 writes them (<Error>), not <ErrorResponse> */
	int s3_errors;
	/*
	 * Called once at start-up, in catalogue order: create tables,
	 * directories, register edge sources.  May be NULL.
	 */
	int (*init)(struct lc_server *srv, struct err *e);
	/* The service's operations (its routes.c), in match order */
	const struct lc_route *routes;
	size_t n_routes;
};

struct lc_route {
	const char *service;		/* lc_service.name */
	const char *operation;		/* AWS operation name, as in the API reference */
	lc_handler_fn handler;
	/* REST only (NULL otherwise): */
	const char *method;		/* "GET", "PUT", ... */
	const char *path;		/* "/{Bucket}/{Key+}", "/2020-05-31/distribution/{Id}" */
	const char *query_flag;		/* a query parameter that must be present: "uploads" */
	const char *header_flag;	/* a header that must be present: "x-amz-copy-source" */
	enum lc_body_mode body_mode;
	/* set instead of handler: the operation runs on the codec (codec-glue.c) */
	lc_typed_fn typed;
};

#define LC_MAX_PATH_PARAMS 8

struct lc_request {
	struct lc_server *srv;
	const struct lc_service *service;	/* never NULL once routed */
	const struct lc_route *route;		/* NULL until the operation is known */
	const char *operation;			/* route->operation, or what was asked for */
	char request_id[40];

	/* as received */
	char *method;
	char *raw_path;			/* percent-encoded, as on the wire */
	char *path;			/* percent-decoded */
	int encoded_nul;		/* the path or the query decodes to a NUL byte */
	char *raw_query;		/* without '?', "" when none */
	struct lc_param *query;		/* decoded query parameters, in order */
	size_t n_query;
	struct lc_param *headers;	/* name as sent, value as sent */
	size_t n_headers;
	struct lc_param path_params[LC_MAX_PATH_PARAMS];	/* from the route's path */
	size_t n_path_params;

	/* what the signature claims */
	char access_key_id[129];
	char region[64];			/* the scope's region ("us-east-1" when unsigned) */
	int authenticated;

	/* body: LC_BODY_BUFFER */
	struct buf body;
	/*
	 * body: LC_BODY_FILE.  A file in $CALIBER_HOME/tmp holding the whole
	 * body (body_len bytes, SHA-256 in body_sha256_hex).  The handler may
	 * rename() it into place and set body_path_taken; otherwise it is
	 * unlinked after the response.
	 */
	char *body_path;
	int body_path_taken;
	uint64_t body_len;
	char body_sha256_hex[65];
	/* Query: the form parameters of the body (Action, Version, ...) */
	struct lc_param *form;
	size_t n_form;

	/* private to the router and http front */
	int body_fd;
	EVP_MD_CTX *sha;
	int failed;			/* an error response is ready, discard the body */
	/*
	 * S3 virtual-hosted requests (Host: <bucket>.s3.localhost, or
	 * <bucket>.localhost): the path-style path the routes are matched
	 * against, "/<bucket>" + raw_path.  NULL: raw_path.  The signature
	 * still covers raw_path as sent.
	 */
	char *route_path;
	uint64_t content_length;	/* from the header, UINT64_MAX when absent */
};

/* Header value (case-insensitive name), NULL when absent. */
const char *lc_request_header(const struct lc_request *req, const char *name);
/* Query parameter (decoded), NULL when absent; "" for "?uploads". */
const char *lc_request_query(const struct lc_request *req, const char *name);
/* Path parameter captured by the route ("Bucket", "Key"), NULL when none. */
const char *lc_request_path_param(const struct lc_request *req, const char *name);
/* Form parameter of a Query request, NULL when absent. */
const char *lc_request_form(const struct lc_request *req, const char *name);

/* The catalogue (localcloud/services.c): every service, in start-up order. */
extern const struct lc_service *const lc_services[];
extern const size_t lc_n_services;

/* Service by scope name, NULL when caliberd does not provide it. */
const struct lc_service *router_service(const char *name);
/*
 * The JSON 1.1 or Query route of svc for operation, NULL when none: how one
 * service calls another's operation (RDS's managed master password creates
 * the secret through Secrets Manager's CreateSecret) without its handler
 * being public.
 */
const struct lc_route *router_operation(const struct lc_service *svc, const char *op);

/*
 * First step, when the headers have arrived: pick the service (and, for
 * REST and JSON, the route), check the header size and the announced body
 * size, and for s3_signing services the signature.  Returns 0 to read the
 * body (a refusal may already be in res: it is sent after the body was
 * read and dropped), -1 when res holds a reply to send at once.
 */
int router_begin(struct lc_request *req, struct lc_response *res);
/*
 * A piece of the body: 0; -1 when res holds an error (feed the rest, it is
 * discarded; the error goes out after router_finish()); -2 when a refused
 * body goes on too long: drop the connection.
 */
int router_body(struct lc_request *req, struct lc_response *res, const char *data, size_t len);
/* The whole request has arrived: authenticate (unless done), route, run the handler. */
void router_finish(struct lc_request *req, struct lc_response *res);

/* Free what the request owns (and unlink an untaken body file). */
void lc_request_release(struct lc_request *req);

#endif
