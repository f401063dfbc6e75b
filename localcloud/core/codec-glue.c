/*
 * codec-glue.c: typed handlers on the codec (see codec-glue.h): the
 * request as the codec reads it, the handler's values, the reply as the
 * codec writes it, moved into caliberd's response.
 */
#include "compat.h"

#include "caliberd.h"
#include "codec-glue.h"
#include "reply.h"
#include "router.h"
#include "store.h"

const char *codec_glue_model_name(const char *service)
{
	if (!strcmp(service, "elasticloadbalancing"))
		return "elbv2";
	return service;
}

/* The request as received, in the codec's (the client's) struct. */
static void glue_request(const struct lc_request *req, struct aws_request *out)
{
	size_t i;

	aws_request_init(out);
	snprintf(out->method, sizeof(out->method), "%s", req->method);
	buf_appends(&out->path, req->route_path ? req->route_path : req->raw_path);
	buf_appends(&out->query, req->raw_query ? req->raw_query : "");
	for (i = 0; i < req->n_headers; i++)
		aws_kv_add(&out->headers, req->headers[i].name, req->headers[i].value);
	buf_append(&out->body, req->body.data ? req->body.data : "", req->body.len);
}

/* resp (the codec's reply) into res, with the request id headers caliberd sends. */
static void glue_reply(struct lc_request *req, struct lc_response *res,
	const struct aws_response *resp, const char *error_code)
{
	const char *ct = aws_kv_get(&resp->headers, "Content-Type");
	size_t i;

	lc_reply_raw(req, res, (int)resp->status, ct, resp->body.data ? resp->body.data : "",
		resp->body.len);
	for (i = 0; i < resp->headers.n; i++)
		if (strcasecmp(resp->headers.v[i].name, "Content-Type"))
			lc_reply_header(res, resp->headers.v[i].name, resp->headers.v[i].value);
	if (error_code != NULL)
		snprintf(res->error_code, sizeof(res->error_code), "%s", error_code);
}

static void glue_error(struct lc_request *req, struct lc_response *res,
	const struct aws_model *m, const struct codec_error *ce)
{
	struct aws_response resp;

	aws_response_init(&resp);
	codec_write_error(m, ce, req->request_id, &resp);
	glue_reply(req, res, &resp, ce->code);
	aws_response_release(&resp);
}

int codec_glue_run(struct lc_request *req, struct lc_response *res)
{
	const char *model = codec_glue_model_name(req->service->name);
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_request areq;
	struct aws_response resp;
	struct err e = ERR_INIT;
	const struct aws_model *m;
	json_t *in = NULL, *out = NULL;

	aws_request_init(&areq);
	aws_response_init(&resp);
	m = aws_model_server_get(model, &e);
	if (m == NULL) {
		lc_log("%s: %s", req->service->name, e.msg);
		lc_reply_error(req, res, 500, "InternalFailure", "the service has no model");
		goto out;
	}
	glue_request(req, &areq);
	if (codec_parse(m, req->route->operation, &areq, &in, &ce) < 0) {
		glue_error(req, res, m, &ce);
		goto out;
	}
	if (req->route->typed(req, in, &out, &ce) < 0) {
		if (ce.code[0] == '\0')
			codec_error_set(&ce, 500, "InternalFailure", "the handler gave no error");
		glue_error(req, res, m, &ce);
		goto out;
	}
	if (codec_write_result(m, req->route->operation, out, req->request_id, &resp, &e) < 0) {
		lc_log("%s %s: the reply does not fit the model: %s", req->service->name,
			req->route->operation, e.msg);
		lc_reply_error(req, res, 500, "InternalFailure",
			"the reply does not fit the service's model");
		goto out;
	}
	glue_reply(req, res, &resp, NULL);
out:
	json_decref(in);
	json_decref(out);
	codec_error_release(&ce);
	buf_release_secret(&areq.body);
	aws_request_release(&areq);
	buf_release_secret(&resp.body);
	aws_response_release(&resp);
	return 0;
}

int lc_call_run(struct lc_call *c, struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, const char *internal_code, int (*body)(struct lc_call *c))
{
	struct store *store = req->srv->store;
	struct err e = ERR_INIT;
	int r;

	memset(c, 0, sizeof(*c));
	c->req = req;
	c->in = in;
	c->err = err;
	c->now = lc_now();
	if (store_begin(store, &e) < 0) {
		lc_log("%s: %s", req->service->name, e.msg);
		return codec_error_set(err, 500, internal_code, "an internal error occurred");
	}
	c->db = store_db(store);
	c->out = json_object();
	store_write_failed = 0;
	r = body(c);
	if (r == 0 && store_write_failed) {
		codec_error_set(err, 500, internal_code,
			"an internal error occurred: a write to the store failed (caliberd's log"
			" says which)");
		r = -1;
	}
	store_write_failed = 0;
	if (r < 0) {
		store_rollback(store);
		json_decref(c->out);
		c->out = NULL;
		return -1;
	}
	if (store_commit(store, &e) < 0) {
		lc_log("%s: %s", req->service->name, e.msg);
		json_decref(c->out);
		c->out = NULL;
		return codec_error_set(err, 500, internal_code, "an internal error occurred");
	}
	*out = c->out;
	return 0;
}
