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

#endif
