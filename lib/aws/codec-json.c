/*
 * codec-json.c: the server side of JSON 1.0/1.1 (Secrets Manager, ECS,
 * CloudWatch Logs, KMS, ACM): the body is the input object with wire names
 * (jsonName / locationName), blobs in base64 and timestamps as seconds
 * since the epoch; a value of the wrong JSON type is refused with
 * SerializationException, as AWS does.  Members that the model does not
 * have are ignored, as AWS's JSON services ignore them.
 */
#include "compat.h"

#include <math.h>

#include <openssl/crypto.h>

#include "aws/codec.h"

#define CODEC_JSON_MAX_DEPTH 64

static const char *wire_name(const json_t *ref, const char *member)
{
	const char *w = aws_model_str(ref, "jsonName");

	if (w == NULL)
		w = aws_model_str(ref, "locationName");
	return w ? w : member;
}

/* A short rendering of v for messages (caller frees). */
static char *value_text(const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	char *t;

	if (s == NULL)
		return xstrdup("?");
	if (strlen(s) <= 64)
		return s;
	t = xasprintf("%.61s...", s);
	free(s);
	return t;
}

static int type_error(struct codec_error *ce, const char *where, const char *want,
	const json_t *v)
{
	char *t = value_text(v);

	codec_error_set(ce, 400, "SerializationException",
		"%s must be %s; got %s", where, want, t);
	free(t);
	return -1;
}

static json_t *jparse(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, int depth, struct codec_error *ce);

static json_t *jparse_struct(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, int depth, struct codec_error *ce)
{
	json_t *out, *ref, *parsed, *item;
	const char *member;

	if (!json_is_object(v)) {
		type_error(ce, where, "a structure (a JSON object)", v);
		return NULL;
	}
	out = json_object();
	json_object_foreach(json_object_get(shape, "members"), member, ref) {
		char *sub;

		item = json_object_get(v, wire_name(ref, member));
		if (item == NULL || json_is_null(item))
			continue;
		sub = where[0] ? xasprintf("%s.%s", where, member) : xstrdup(member);
		parsed = jparse(m, aws_model_ref(m, ref), item, sub, depth + 1, ce);
		free(sub);
		if (parsed == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, member, parsed);
	}
	return out;
}

static json_t *jparse(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, int depth, struct codec_error *ce)
{
	const char *type = aws_model_type(shape), *key;
	json_t *out, *item, *parsed;
	size_t i;
	double t;

	if (shape == NULL) {
		codec_error_set(ce, 500, "InternalFailure", "%s: shape missing from the model",
			where);
		return NULL;
	}
	if (depth > CODEC_JSON_MAX_DEPTH) {
		codec_error_set(ce, 400, "SerializationException", "%s: nested too deeply", where);
		return NULL;
	}
	if (aws_model_bool(shape, "document"))
		return json_deep_copy(v);
	if (!strcmp(type, "structure"))
		return jparse_struct(m, shape, v, where, depth, ce);
	if (!strcmp(type, "list")) {
		if (!json_is_array(v)) {
			type_error(ce, where, "a list (a JSON array)", v);
			return NULL;
		}
		out = json_array();
		json_array_foreach(v, i, item) {
			char *sub = xasprintf("%s[%zu]", where, i);

			parsed = json_is_null(item) ? json_null() :
				jparse(m, aws_model_ref(m, json_object_get(shape, "member")), item,
					sub, depth + 1, ce);
			free(sub);
			if (parsed == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, parsed);
		}
		return out;
	}
	if (!strcmp(type, "map")) {
		if (!json_is_object(v)) {
			type_error(ce, where, "a map (a JSON object)", v);
			return NULL;
		}
		out = json_object();
		json_object_foreach((json_t *)v, key, item) {
			char *sub = xasprintf("%s.%s", where, key);

			parsed = json_is_null(item) ? json_null() :
				jparse(m, aws_model_ref(m, json_object_get(shape, "value")), item,
					sub, depth + 1, ce);
			free(sub);
			if (parsed == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, key, parsed);
		}
		return out;
	}
	if (!strcmp(type, "string")) {
		if (!json_is_string(v))
			return type_error(ce, where, "a string", v), NULL;
		return json_incref((json_t *)v);
	}
	if (!strcmp(type, "boolean")) {
		if (!json_is_boolean(v))
			return type_error(ce, where, "a boolean (true or false)", v), NULL;
		return json_incref((json_t *)v);
	}
	if (!strcmp(type, "integer") || !strcmp(type, "long")) {
		if (!json_is_integer(v))
			return type_error(ce, where, "an integer", v), NULL;
		if (!strcmp(type, "integer") && (json_integer_value(v) < INT32_MIN ||
						     json_integer_value(v) > INT32_MAX))
			return type_error(ce, where, "a 32-bit integer", v), NULL;
		return json_incref((json_t *)v);
	}
	if (!strcmp(type, "float") || !strcmp(type, "double")) {
		if (json_is_string(v) && (!strcmp(json_string_value(v), "NaN") ||
					  !strcmp(json_string_value(v), "Infinity") ||
					  !strcmp(json_string_value(v), "-Infinity")))
			return json_incref((json_t *)v);
		if (!json_is_number(v))
			return type_error(ce, where, "a number", v), NULL;
		return json_real(json_number_value(v));
	}
	if (!strcmp(type, "timestamp")) {
		if (json_is_number(v))
			return json_real(json_number_value(v));
		if (json_is_string(v) && aws_time_parse(json_string_value(v), &t) == 0)
			return json_real(t);
		return type_error(ce, where, "a timestamp (seconds since the epoch)", v), NULL;
	}
	if (!strcmp(type, "blob")) {
		struct buf b = BUF_INIT;

		if (!json_is_string(v))
			return type_error(ce, where, "a base64-encoded string", v), NULL;
		if (aws_base64_decode(json_string_value(v), json_string_length(v), &b) < 0) {
			buf_release(&b);
			return type_error(ce, where, "base64-encoded", v), NULL;
		}
		out = json_stringn_nocheck(b.data ? b.data : "", b.len);
		buf_release_secret(&b);
		return out;
	}
	codec_error_set(ce, 500, "InternalFailure", "%s: shape type '%s' unknown", where, type);
	return NULL;
}

int codec_json_parse(const struct aws_model *m, const json_t *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce)
{
	const json_t *shape = aws_model_ref(m, json_object_get(op, "input"));
	json_error_t je;
	json_t *body;

	*in = NULL;
	if (req->body.len == 0) {
		body = json_object();
	} else {
		body = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &je);
		if (body == NULL)
			return codec_error_set(ce, 400, "SerializationException",
				"the request body is not JSON: %s (at byte %d)", je.text,
				je.position);
		if (!json_is_object(body)) {
			json_decref(body);
			return codec_error_set(ce, 400, "SerializationException",
				"the request body must be a JSON object");
		}
	}
	if (shape == NULL)
		*in = json_object();
	else
		*in = jparse_struct(m, shape, body, "", 0, ce);
	json_decref(body);
	return *in ? 0 : -1;
}

/*
 * Output: the typed value to the wire form.  A value that does not fit is
 * the handler's bug: err, never a guess.
 */
static json_t *jwrite(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e);

static json_t *jwrite_struct(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e)
{
	json_t *members = json_object_get(shape, "members"), *out, *item, *ref, *w;
	const char *key;

	if (!json_is_object(v)) {
		err_set(e, "%s: a structure must be a JSON object", where);
		return NULL;
	}
	out = json_object();
	json_object_foreach((json_t *)v, key, item) {
		char *sub;

		if (json_is_null(item))
			continue;
		ref = json_object_get(members, key);
		if (ref == NULL) {
			err_set(e, "%s: '%s' is not a member of the output shape", where, key);
			json_decref(out);
			return NULL;
		}
		sub = xasprintf("%s.%s", where, key);
		w = jwrite(m, aws_model_ref(m, ref), item, sub, e);
		free(sub);
		if (w == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, wire_name(ref, key), w);
	}
	return out;
}

static json_t *jwrite(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e)
{
	const char *type = aws_model_type(shape), *key;
	json_t *out, *item, *w;
	struct buf b = BUF_INIT;
	size_t i;
	double t;

	if (shape == NULL) {
		err_set(e, "%s: shape missing from the model", where);
		return NULL;
	}
	if (aws_model_bool(shape, "document"))
		return json_deep_copy(v);
	if (!strcmp(type, "structure"))
		return jwrite_struct(m, shape, v, where, e);
	if (!strcmp(type, "list") || !strcmp(type, "map")) {
		int list = !strcmp(type, "list");
		const json_t *eref = json_object_get(shape, list ? "member" : "value");

		if (list ? !json_is_array(v) : !json_is_object(v)) {
			err_set(e, "%s: a %s must be a JSON %s", where, type,
				list ? "array" : "object");
			return NULL;
		}
		out = list ? json_array() : json_object();
		if (list) {
			json_array_foreach(v, i, item) {
				w = json_is_null(item) ? json_null() :
					jwrite(m, aws_model_ref(m, eref), item, where, e);
				if (w == NULL)
					goto bad;
				json_array_append_new(out, w);
			}
		} else {
			json_object_foreach((json_t *)v, key, item) {
				w = json_is_null(item) ? json_null() :
					jwrite(m, aws_model_ref(m, eref), item, where, e);
				if (w == NULL)
					goto bad;
				json_object_set_new(out, key, w);
			}
		}
		return out;
bad:
		json_decref(out);
		return NULL;
	}
	if (!strcmp(type, "timestamp")) {
		const char *fmt = aws_model_str(shape, "timestampFormat");

		if (codec_time_value(v, &t) < 0) {
			err_set(e, "%s: a timestamp must be a number or an ISO 8601 string", where);
			return NULL;
		}
		if (fmt && strcmp(fmt, "unixTimestamp")) {
			aws_time_format(t, fmt, &b);
			out = json_string(buf_str(&b));
			buf_release(&b);
			return out;
		}
		if (t == floor(t) && fabs(t) < 1e15)
			return json_integer((json_int_t)t);
		/* milliseconds, as AWS writes them (1.5e9 + 0.1 is not exact in binary) */
		return json_real(round(t * 1000) / 1000);
	}
	if (!strcmp(type, "blob")) {
		if (!json_is_string(v)) {
			err_set(e, "%s: a blob must be a string of its bytes", where);
			return NULL;
		}
		aws_base64_encode(json_string_value(v), json_string_length(v), &b);
		out = json_string(buf_str(&b));
		buf_release_secret(&b);
		return out;
	}
	if ((!strcmp(type, "string") && !json_is_string(v)) ||
		(!strcmp(type, "boolean") && !json_is_boolean(v)) ||
		((!strcmp(type, "integer") || !strcmp(type, "long")) && !json_is_integer(v)) ||
		((!strcmp(type, "float") || !strcmp(type, "double")) && !json_is_number(v) &&
			!json_is_string(v))) {
		err_set(e, "%s: not a %s", where, type);
		return NULL;
	}
	if ((!strcmp(type, "float") || !strcmp(type, "double")) && json_is_integer(v))
		return json_real((double)json_integer_value(v));
	return json_incref((json_t *)v);
}

static void content_type(const struct aws_model *m, struct aws_response *resp)
{
	const char *version = aws_model_str(m->metadata, "jsonVersion");
	char *ct;

	if (m->protocol == AWS_PROTO_REST_JSON) {
		aws_kv_set(&resp->headers, "Content-Type", "application/json");
		return;
	}
	ct = xasprintf("application/x-amz-json-%s", version ? version : "1.1");

	aws_kv_set(&resp->headers, "Content-Type", ct);
	free(ct);
}

int codec_json_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	struct aws_response *resp, struct err *e)
{
	const json_t *shape = aws_model_ref(m, json_object_get(op, "output"));
	json_t *body;
	char *text;

	if (shape == NULL || out == NULL)
		body = json_object();
	else if ((body = jwrite_struct(m, shape, out, "output", e)) == NULL)
		return -1;
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (text == NULL)
		return err_set(e, "output: not writable as JSON");
	resp->status = 200;
	content_type(m, resp);
	buf_appends(&resp->body, text);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return 0;
}

void codec_json_write_error(const struct aws_model *m, const struct codec_error *ce,
	struct aws_response *resp)
{
	const json_t *shape = aws_model_shape(m, ce->code);
	struct err e = ERR_INIT;
	json_t *body = NULL;
	char *text;

	if (ce->fields != NULL && shape != NULL)
		body = jwrite_struct(m, shape, ce->fields, "error", &e);
	if (body == NULL)
		body = json_object();
	json_object_set_new(body, "__type", json_string(ce->code));
	if (json_object_get(body, "message") == NULL && json_object_get(body, "Message") == NULL)
		json_object_set_new(body, "message", json_string(ce->message));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	resp->status = ce->status ? ce->status : 400;
	content_type(m, resp);
	aws_kv_set(&resp->headers, "x-amzn-ErrorType", ce->code);
	buf_appends(&resp->body, text ? text : "{}");
	free(text);
}

json_t *codec_json_read_value(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct codec_error *ce)
{
	return jparse(m, shape, v, where, 0, ce);
}

json_t *codec_json_write_value(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *where, struct err *e)
{
	return jwrite(m, shape, v, where, e);
}
