/*
 * proto-json.c: the JSON 1.0/1.1 protocol (ECS, Secrets Manager, CloudWatch
 * Logs): every call is POST / with X-Amz-Target naming the operation and the
 * input as a JSON body; errors carry __type (or code) and message.
 *
 * The body is written the way botocore's json.dumps writes it (", " and
 * ": " separators, ASCII only, keys in the caller's order), so that the
 * payload hash, and therefore the signature, equals awscli's.
 */
#include "compat.h"

#include <math.h>

#include <openssl/crypto.h>

#include "aws/proto.h"

static json_t *json_ser(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e);

static json_t *json_ser_struct(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e)
{
	json_t *members = json_object_get(shape, "members"), *out, *item, *ref;
	const char *key, *wire;
	char *sub;

	if (proto_check_members(shape, v, where, e) < 0)
		return NULL;
	out = json_object();
	json_object_foreach((json_t *)v, key, item) {
		if (json_is_null(item))
			continue;
		ref = json_object_get(members, key);
		wire = aws_model_str(ref, "jsonName");
		if (wire == NULL)
			wire = aws_model_str(ref, "locationName");
		sub = xasprintf("%s.%s", where, key);
		json_t *s = json_ser(m, aws_model_ref(m, ref), item, sub, e);
		free(sub);
		if (s == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, wire ? wire : key, s);
	}
	return out;
}

static json_t *json_ser(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e)
{
	const char *type = aws_model_type(shape), *key;
	struct buf b = BUF_INIT;
	json_t *out, *item;
	char *sub;
	size_t i;
	double t;

	if (shape == NULL) {
		err_set(e, "%s: shape missing from the model", where);
		return NULL;
	}
	if (aws_model_bool(shape, "document"))
		return json_deep_copy(v);
	if (!strcmp(type, "structure"))
		return json_ser_struct(m, shape, v, where, e);
	if (!strcmp(type, "list")) {
		if (!json_is_array(v)) {
			err_usage(e, "%s must be a JSON array", where);
			return NULL;
		}
		out = json_array();
		json_array_foreach(v, i, item) {
			sub = xasprintf("%s[%zu]", where, i);
			json_t *s = json_ser(m, aws_model_ref(m, json_object_get(shape, "member")),
				item, sub, e);
			free(sub);
			if (s == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, s);
		}
		return out;
	}
	if (!strcmp(type, "map")) {
		if (!json_is_object(v)) {
			err_usage(e, "%s must be a JSON object", where);
			return NULL;
		}
		out = json_object();
		json_object_foreach((json_t *)v, key, item) {
			sub = xasprintf("%s.%s", where, key);
			json_t *s = json_ser(m, aws_model_ref(m, json_object_get(shape, "value")),
				item, sub, e);
			free(sub);
			if (s == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, key, s);
		}
		return out;
	}
	if (!strcmp(type, "timestamp")) {
		const char *fmt = aws_model_str(shape, "timestampFormat");

		if (aws_time_from_json(v, &t) < 0) {
			err_usage(e, "%s must be a timestamp (ISO 8601 or seconds since the epoch)",
				where);
			return NULL;
		}
		if (fmt && strcmp(fmt, "unixTimestamp")) {
			aws_time_format(t, fmt, &b);
			out = json_string(buf_str(&b));
			buf_release(&b);
			return out;
		}
		if (t == floor(t))
			return json_integer((json_int_t)t);
		return json_real(t);
	}
	if (!strcmp(type, "blob")) {
		if (!json_is_string(v)) {
			err_usage(e, "%s must be a string", where);
			return NULL;
		}
		aws_base64_encode(json_string_value(v), json_string_length(v), &b);
		out = json_string(buf_str(&b));
		buf_release(&b);
		return out;
	}
	if (!strcmp(type, "string") && !json_is_string(v)) {
		err_usage(e, "%s must be a string", where);
		return NULL;
	}
	if ((!strcmp(type, "integer") || !strcmp(type, "long")) && !json_is_integer(v)) {
		err_usage(e, "%s must be an integer", where);
		return NULL;
	}
	if (!strcmp(type, "boolean") && !json_is_boolean(v)) {
		err_usage(e, "%s must be true or false", where);
		return NULL;
	}
	if ((!strcmp(type, "float") || !strcmp(type, "double")) && !json_is_number(v) &&
		!json_is_string(v)) {
		err_usage(e, "%s must be a number", where);
		return NULL;
	}
	return json_deep_copy(v);
}

int proto_json_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e)
{
	const json_t *shape = aws_model_ref(m, json_object_get(op, "input"));
	const char *version = aws_model_str(m->metadata, "jsonVersion");
	const char *prefix = aws_model_str(m->metadata, "targetPrefix");
	const char *name = aws_model_str(op, "name");
	json_t *filled = NULL, *body = NULL;
	char *dumped = NULL, *tmp;
	int ret = -1;

	snprintf(req->method, sizeof(req->method), "POST");
	buf_appends(&req->path, "/");
	if (shape) {
		filled = proto_fill_idempotency(m, shape, input);
		body = json_ser_struct(m, shape, filled, "input", e);
		if (body == NULL)
			goto out;
	} else {
		body = json_object();
	}
	dumped = json_dumps(body, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	buf_appends(&req->body, dumped);
	req->has_body = 1;
	tmp = xasprintf("application/x-amz-json-%s", version ? version : "1.1");
	aws_kv_add(&req->headers, "Content-Type", tmp);
	free(tmp);
	tmp = xasprintf("%s.%s", prefix ? prefix : "", name ? name : "");
	aws_kv_add(&req->headers, "X-Amz-Target", tmp);
	free(tmp);
	proto_host_prefix(op, filled, req);
	ret = 0;
out:
	if (dumped)
		OPENSSL_cleanse(dumped, strlen(dumped));
	free(dumped);
	json_decref(body);
	json_decref(filled);
	return ret;
}

static json_t *json_parse_shape(const struct aws_model *m, const json_t *shape, const json_t *v)
{
	const char *type = aws_model_type(shape), *key;
	json_t *out, *item, *ref, *parsed;
	size_t i;
	double t;

	if (shape == NULL || v == NULL || json_is_null(v))
		return NULL;
	if (aws_model_bool(shape, "document"))
		return json_deep_copy(v);
	if (!strcmp(type, "structure")) {
		if (!json_is_object(v))
			return NULL;
		out = json_object();
		json_object_foreach(json_object_get(shape, "members"), key, ref) {
			const char *wire = aws_model_str(ref, "jsonName");

			if (wire == NULL)
				wire = aws_model_str(ref, "locationName");
			parsed = json_parse_shape(m, aws_model_ref(m, ref),
				json_object_get(v, wire ? wire : key));
			if (parsed)
				json_object_set_new(out, key, parsed);
		}
		return out;
	}
	if (!strcmp(type, "list")) {
		if (!json_is_array(v))
			return NULL;
		out = json_array();
		json_array_foreach(v, i, item) {
			parsed = json_parse_shape(m,
				aws_model_ref(m, json_object_get(shape, "member")), item);
			json_array_append_new(out, parsed ? parsed : json_null());
		}
		return out;
	}
	if (!strcmp(type, "map")) {
		if (!json_is_object(v))
			return NULL;
		out = json_object();
		json_object_foreach((json_t *)v, key, item) {
			parsed = json_parse_shape(m,
				aws_model_ref(m, json_object_get(shape, "value")), item);
			json_object_set_new(out, key, parsed ? parsed : json_null());
		}
		return out;
	}
	if (!strcmp(type, "timestamp"))
		return aws_time_from_json(v, &t) == 0 ? aws_time_to_json(t) : NULL;
	if ((!strcmp(type, "float") || !strcmp(type, "double")) && json_is_integer(v))
		return json_real((double)json_integer_value(v));
	return json_deep_copy(v);
}

/* "aws.protocoltests#FooError:http://internal/" -> "FooError" */
static void error_code_clean(const char *raw, char *out, size_t size)
{
	const char *hash = strrchr(raw, '#');
	size_t n;

	if (hash)
		raw = hash + 1;
	n = strcspn(raw, ":");
	snprintf(out, size, "%.*s", (int)n, raw);
}

int proto_json_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e)
{
	json_t *body = NULL, *shape, *err_shape;
	const char *s;
	json_error_t je;

	if (resp->body.len) {
		body = json_loadb(resp->body.data, resp->body.len, JSON_DECODE_ANY, &je);
		if (body == NULL && resp->status < 300)
			return err_set(e, "response body is not JSON: %s (line %d)", je.text,
				je.line);
	}
	if (resp->status >= 300) {
		s = aws_kv_get(&resp->headers, "x-amzn-RequestId");
		snprintf(ae->request_id, sizeof(ae->request_id), "%s", s ? s : "");
		s = aws_kv_get(&resp->headers, "x-amzn-ErrorType");
		if (s == NULL)
			s = aws_model_str(body, "__type");
		if (s == NULL)
			s = aws_model_str(body, "code");
		if (s)
			error_code_clean(s, ae->code, sizeof(ae->code));
		else
			snprintf(ae->code, sizeof(ae->code), "%ld", resp->status);
		s = aws_model_str(body, "message");
		if (s == NULL)
			s = aws_model_str(body, "Message");
		if (s == NULL)
			s = aws_model_str(body, "errorMessage");
		snprintf(ae->message, sizeof(ae->message), "%s", s ? s : "");
		err_shape = proto_error_shape(m, op, ae->code);
		if (err_shape && json_is_object(body))
			ae->fields = json_parse_shape(m, err_shape, body);
		json_decref(body);
		return 1;
	}
	shape = aws_model_ref(m, json_object_get(op, "output"));
	*out = shape && body ? json_parse_shape(m, shape, body) : NULL;
	if (*out == NULL)
		*out = json_object();
	json_decref(body);
	return 0;
}
