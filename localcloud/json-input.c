/*
 * json-input.c: typed members of a JSON 1.1 input (see json-input.h).
 */
#include "compat.h"

#include "json-input.h"
#include "reply.h"

int json_in_str(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return lc_reply_error(req, res, 400, "SerializationException",
			"%s must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int json_in_bool(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	int *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return lc_reply_error(req, res, 400, "SerializationException",
			"%s must be a boolean", key);
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
		return lc_reply_error(req, res, 400, "SerializationException",
			"%s must be an integer", key);
	*out = json_integer_value(v);
	*present = 1;
	return 0;
}
