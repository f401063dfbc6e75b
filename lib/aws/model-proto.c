/*
 * model-proto.c: what the three protocols share: input checks against the
 * model, scalar rendering for headers, query strings and XML, idempotency
 * tokens, error shapes, and the dispatch on the model's protocol.
 */
#include "compat.h"

#include <math.h>

#include "aws/proto.h"

void aws_error_release(struct aws_error *ae)
{
	json_decref(ae->fields);
	ae->fields = NULL;
}

int proto_check_members(const json_t *shape, const json_t *value, const char *where,
	struct err *e)
{
	json_t *members = json_object_get(shape, "members"), *v;
	const char *key, *name;
	struct buf valid = BUF_INIT;

	if (!json_is_object(value))
		return err_usage(e, "%s must be a JSON object", where);
	json_object_foreach((json_t *)value, key, v) {
		if (json_object_get(members, key))
			continue;
		json_object_foreach(members, name, v)
			buf_appendf(&valid, "%s%s", valid.len ? ", " : "", name);
		err_usage(e, "unknown parameter '%s' in %s; valid parameters: %s", key, where,
			valid.len ? buf_str(&valid) : "none");
		buf_release(&valid);
		return -1;
	}
	return 0;
}

int proto_scalar_text(const json_t *shape, const json_t *v, const char *default_ts,
	struct buf *out, const char *where, struct err *e)
{
	const char *type = aws_model_type(shape), *fmt;
	double t;

	if (!strcmp(type, "string")) {
		if (!json_is_string(v))
			return err_usage(e, "%s must be a string", where);
		buf_append(out, json_string_value(v), json_string_length(v));
	} else if (!strcmp(type, "blob")) {
		if (!json_is_string(v))
			return err_usage(e, "%s must be a string", where);
		aws_base64_encode(json_string_value(v), json_string_length(v), out);
	} else if (!strcmp(type, "boolean")) {
		if (!json_is_boolean(v))
			return err_usage(e, "%s must be true or false", where);
		buf_appends(out, json_is_true(v) ? "true" : "false");
	} else if (!strcmp(type, "integer") || !strcmp(type, "long")) {
		if (!json_is_integer(v))
			return err_usage(e, "%s must be an integer", where);
		buf_appendf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (!strcmp(type, "float") || !strcmp(type, "double")) {
		if (json_is_integer(v))
			buf_appendf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v))
			aws_double_format(json_real_value(v), out);
		else if (json_is_string(v))
			buf_appends(out, json_string_value(v));
		else
			return err_usage(e, "%s must be a number", where);
	} else if (!strcmp(type, "timestamp")) {
		if (aws_time_from_json(v, &t) < 0)
			return err_usage(e, "%s must be a timestamp (ISO 8601 or seconds since the "
					    "epoch)", where);
		fmt = aws_model_str(shape, "timestampFormat");
		aws_time_format(t, fmt ? fmt : default_ts, out);
	} else {
		return err_usage(e, "%s: a %s cannot be sent here", where, type);
	}
	return 0;
}

json_t *proto_scalar_parse(const json_t *shape, const char *text, int in_header)
{
	const char *type = aws_model_type(shape);
	struct buf b = BUF_INIT;
	double d;
	char *end;
	json_t *v = NULL;

	if (!strcmp(type, "string")) {
		if (in_header && aws_model_str(shape, "jsonvalue")) {
			if (aws_base64_decode(text, strlen(text), &b) == 0)
				v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
			buf_release(&b);
			return v;
		}
		return json_string(text);
	}
	if (!strcmp(type, "boolean")) {
		if (!strcmp(text, "true"))
			return json_true();
		if (!strcmp(text, "false"))
			return json_false();
		return NULL;
	}
	if (!strcmp(type, "integer") || !strcmp(type, "long")) {
		long long n;

		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno || end == text || *end)
			return NULL;
		return json_integer(n);
	}
	if (!strcmp(type, "float") || !strcmp(type, "double")) {
		if (!strcmp(text, "NaN") || !strcmp(text, "Infinity") ||
			!strcmp(text, "-Infinity"))
			return json_string(text);
		d = strtod(text, &end);
		if (end == text || *end || !isfinite(d))
			return NULL;
		return json_real(d);
	}
	if (!strcmp(type, "timestamp")) {
		if (aws_time_parse(text, &d) < 0)
			return NULL;
		return aws_time_to_json(d);
	}
	if (!strcmp(type, "blob")) {
		/* XML carries blobs base64-encoded already; headers carry them as text */
		if (!in_header)
			return json_string(text);
		aws_base64_encode(text, strlen(text), &b);
		v = json_string(buf_str(&b));
		buf_release(&b);
		return v;
	}
	return json_string(text);
}

json_t *proto_fill_idempotency(const struct aws_model *m, const json_t *shape,
	const json_t *input)
{
	json_t *members = json_object_get(shape, "members"), *ref, *copy;
	const char *name;
	char uuid[37];

	copy = json_is_object(input) ? json_copy((json_t *)input) : json_object();
	json_object_foreach(members, name, ref) {
		if (!aws_model_bool(ref, "idempotencyToken") || json_object_get(copy, name))
			continue;
		aws_uuid4(uuid);
		json_object_set_new(copy, name, json_string(uuid));
	}
	(void)m;
	return copy;
}

json_t *proto_error_shape(const struct aws_model *m, const json_t *op, const char *code)
{
	json_t *errors = json_object_get(op, "errors"), *ref, *shape;
	size_t i;

	json_array_foreach(errors, i, ref) {
		const char *name = aws_model_str(ref, "shape");

		shape = aws_model_ref(m, ref);
		if (shape == NULL)
			continue;
		if ((name && !strcmp(name, code)) ||
			!strcmp(code, aws_model_str(json_object_get(shape, "error"), "code") ?
					      aws_model_str(json_object_get(shape, "error"), "code") :
					      ""))
			return shape;
	}
	return NULL;
}

int proto_serialize(const struct aws_model *m, const char *op, const json_t *input,
	struct aws_request *req, struct err *e)
{
	json_t *o = aws_model_operation(m, op);

	if (o == NULL) {
		struct buf list = BUF_INIT;

		aws_model_list_operations(m, &list);
		err_usage(e, "unknown operation '%s' of '%s'; valid operations: %s", op,
			m->service ? m->service : "service", buf_str(&list));
		buf_release(&list);
		return -1;
	}
	switch (m->protocol) {
	case AWS_PROTO_JSON:
		return proto_json_serialize(m, o, input, req, e);
	case AWS_PROTO_QUERY:
		return proto_query_serialize(m, o, input, req, e);
	case AWS_PROTO_REST_XML:
		return proto_restxml_serialize(m, o, input, req, e);
	case AWS_PROTO_EC2:
	case AWS_PROTO_REST_JSON:
		break;
	}
	return err_set(e, "unsupported protocol");
}

int proto_parse(const struct aws_model *m, const char *op, const struct aws_response *resp,
	json_t **out, struct aws_error *ae, struct err *e)
{
	json_t *o = aws_model_operation(m, op);

	*out = NULL;
	if (o == NULL)
		return err_set(e, "unknown operation '%s'", op);
	ae->status = resp->status;
	switch (m->protocol) {
	case AWS_PROTO_JSON:
		return proto_json_parse(m, o, resp, out, ae, e);
	case AWS_PROTO_QUERY:
		return proto_query_parse(m, o, resp, out, ae, e);
	case AWS_PROTO_REST_XML:
		return proto_restxml_parse(m, o, resp, out, ae, e);
	case AWS_PROTO_EC2:
	case AWS_PROTO_REST_JSON:
		break;
	}
	return err_set(e, "unsupported protocol");
}

void proto_host_prefix(const json_t *op, const json_t *input, struct aws_request *req)
{
	const char *p = aws_model_str(json_object_get(op, "endpoint"), "hostPrefix"), *close;
	struct buf hp = BUF_INIT;

	if (p == NULL)
		return;
	while (*p) {
		if (*p == '{' && (close = strchr(p, '}'))) {
			char *label = xstrndup(p + 1, (size_t)(close - p - 1));
			const char *v = json_string_value(json_object_get(input, label));

			buf_appends(&hp, v ? v : "");
			free(label);
			p = close + 1;
		} else {
			buf_appendc(&hp, *p++);
		}
	}
	free(req->host_prefix);
	req->host_prefix = buf_detach(&hp);
}
