/*
 * json-input.c: JSON 1.1 calls and their typed input members (see
 * json-input.h).
 */
#include "compat.h"

#include "caliberd.h"
#include "json-input.h"
#include "reply.h"
#include "router.h"
#include "store.h"

int json_in_run(struct lc_request *req, struct lc_response *res, const char *svc,
	const char *internal_code, json_t **in, json_t **out, sqlite3 **db, int (*step)(void *arg),
	void *arg)
{
	struct store *store = req->srv->store;
	struct err e = ERR_INIT;
	int ret = -1;

	*in = lc_request_json(req, res);
	if (*in == NULL)
		return -1;
	if (store_begin(store, &e) < 0) {
		lc_log("%s: %s", svc, e.msg);
		lc_reply_error(req, res, 500, internal_code, "an internal error occurred");
		goto out;
	}
	*db = store_db(store);
	*out = json_object();
	if (step(arg) < 0) {
		store_rollback(store);
		goto out;
	}
	if (store_commit(store, &e) < 0) {
		lc_log("%s: %s", svc, e.msg);
		lc_reply_error(req, res, 500, internal_code, "an internal error occurred");
		goto out;
	}
	ret = lc_reply_json(req, res, *out);
	*out = NULL;
out:
	json_decref(*in);
	json_decref(*out);
	*in = NULL;
	*out = NULL;
	return ret;
}

int json_in_str(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return lc_reply_error(
			req, res, 400, "SerializationException", "%s must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int json_in_bool(
	struct lc_request *req, struct lc_response *res, const json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return lc_reply_error(
			req, res, 400, "SerializationException", "%s must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

int json_in_int(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	long long *out, int *present)
{
	json_t *v = json_object_get(o, key);

	*present = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return lc_reply_error(
			req, res, 400, "SerializationException", "%s must be an integer", key);
	*out = json_integer_value(v);
	*present = 1;
	return 0;
}
