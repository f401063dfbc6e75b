/*
 * codec-glue.h: how caliberd runs a typed handler (router.h's lc_typed_fn)
 * on the codec (lib/aws/codec.h).
 *
 * codec_glue_run() takes the routed request, has the codec parse it for
 * the route's operation with the service's server model, calls the typed
 * handler with the input, and writes what it returns (the output, or the
 * error it filled) in the protocol's shape with the request id.  A
 * handler's output that does not fit the model is logged and answered 500
 * InternalFailure: never sent half-right.
 *
 * A typed handler:
 *
 *	int svc_do_thing(struct lc_request *req, const json_t *in, json_t **out,
 *		struct codec_error *err)
 *	{
 *		const char *name = json_string_value(json_object_get(in, "Name"));
 *
 *		if (name == NULL)
 *			return codec_error_set(err, 400, "InvalidParameterException",
 *				"You must provide a value for the required parameter Name.");
 *		*out = json_pack("{s:s}", "Arn", ...);
 *		return 0;
 *	}
 *
 * and its row: { "svc", "DoThing", .typed = svc_do_thing }.
 */
#ifndef CALIBER_LC_CODEC_GLUE_H
#define CALIBER_LC_CODEC_GLUE_H

#include "aws/codec.h"

struct lc_request;
struct lc_response;

/* Run req->route->typed for req; fills res.  Returns 0 (res always holds a reply). */
int codec_glue_run(struct lc_request *req, struct lc_response *res);

/* The botocore model name of a caliberd service ("elasticloadbalancing" -> "elbv2"). */
const char *codec_glue_model_name(const char *service);

/*
 * A typed call run in one store write transaction (lc_call_run): what a
 * handler's body sees.  `mark` is the service's own: set by the body,
 * read by the service once the call has committed (ELBv2: the edge's
 * sites changed).
 */
struct lc_call {
	struct lc_request *req;
	struct sqlite3 *db;
	const json_t *in;	/* the input, typed by the codec */
	json_t *out;		/* the output object, created empty */
	struct codec_error *err;
	double now;
	int mark;
};

/*
 * Run body(c) in one store write transaction: committed when it returns 0
 * and no store write of the call failed (store_write_failed), rolled back
 * otherwise.  On success *out is c->out and 0 is returned; on failure -1
 * with err filled (by the body, or 500 `internal_code`, the service's
 * modelled internal error, when the store failed: caliberd's log says why).
 * c is filled from the other arguments; the caller may read c->mark after.
 */
int lc_call_run(struct lc_call *c, struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, const char *internal_code, int (*body)(struct lc_call *c));

#endif
