/*
 * codec.c: the server side of the wire protocols (codec.h): dispatch on
 * the model's protocol, errors, and what the protocols share (form
 * decoding, scalars from text, timestamps).
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>

#include "aws/codec.h"

void codec_error_release(struct codec_error *ce)
{
	json_decref(ce->fields);
	ce->fields = NULL;
}

int codec_error_set(struct codec_error *ce, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	ce->status = status;
	snprintf(ce->code, sizeof(ce->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(ce->message, sizeof(ce->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* In codec.c, not model.c, so that only what links the codec carries the server's models. */
const struct aws_model *aws_model_server_get(const char *service, struct err *e)
{
	static struct aws_model *cache;

	return aws_model_table_get(aws_model_server_sources, &cache, service, e);
}

static const json_t *codec_op(const struct aws_model *m, const char *op)
{
	return aws_model_operation(m, op);
}

int codec_parse(const struct aws_model *m, const char *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce)
{
	const json_t *o = codec_op(m, op);

	*in = NULL;
	if (o == NULL)
		return codec_error_set(ce, 400, m->protocol == AWS_PROTO_JSON ?
			"UnknownOperationException" : "InvalidAction",
			"the operation '%s' is not in the model of %s", op,
			m->service ? m->service : "the service");
	switch (m->protocol) {
	case AWS_PROTO_JSON:
		return codec_json_parse(m, o, req, in, ce);
	case AWS_PROTO_QUERY:
	case AWS_PROTO_EC2:
		return codec_query_parse(m, o, req, in, ce);
	case AWS_PROTO_REST_XML:
	case AWS_PROTO_REST_JSON:
		return codec_restxml_parse(m, o, req, in, ce);
	}
	return codec_error_set(ce, 501, "NotImplemented",
		"the codec does not parse this service's protocol yet");
}

int codec_write_result(const struct aws_model *m, const char *op, const json_t *out,
	const char *request_id, struct aws_response *resp, struct err *e)
{
	const json_t *o = codec_op(m, op);

	if (o == NULL)
		return err_set(e, "the operation '%s' is not in the model", op);
	switch (m->protocol) {
	case AWS_PROTO_JSON:
		return codec_json_write_result(m, o, out, resp, e);
	case AWS_PROTO_QUERY:
	case AWS_PROTO_EC2:
		return codec_query_write_result(m, o, out, request_id, resp, e);
	case AWS_PROTO_REST_XML:
	case AWS_PROTO_REST_JSON:
		return codec_restxml_write_result(m, o, out, resp, e);
	}
	return err_set(e, "the codec does not write this service's protocol yet");
}

void codec_write_error(const struct aws_model *m, const struct codec_error *ce,
	const char *request_id, struct aws_response *resp)
{
	switch (m->protocol) {
	case AWS_PROTO_JSON:
	case AWS_PROTO_REST_JSON:
		codec_json_write_error(m, ce, resp);
		return;
	case AWS_PROTO_QUERY:
	case AWS_PROTO_EC2:
	case AWS_PROTO_REST_XML:
		codec_query_write_error(m, ce, request_id, resp);
		return;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent- and '+'-decode s[0..len) into out; -1 for a bad escape. */
static int form_unescape(const char *s, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			buf_appendc(out, ' ');
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			buf_appendc(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_appendc(out, s[i]);
		}
	}
	return 0;
}

int codec_form_decode(const char *s, size_t len, struct aws_kv_list *l)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq;
		struct buf name = BUF_INIT, value = BUF_INIT;
		int bad;

		while (end < len && s[end] != '&')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		bad = form_unescape(s + i, eq - i, &name) < 0 ||
		      (eq < end && form_unescape(s + eq + 1, end - eq - 1, &value) < 0) ||
		      memchr(buf_str(&name), '\0', name.len) != NULL ||
		      memchr(buf_str(&value), '\0', value.len) != NULL;
		if (!bad && end > i)
			aws_kv_add(l, buf_str(&name), buf_str(&value));
		buf_release(&name);
		buf_release(&value);
		if (bad)
			return -1;
		i = end + 1;
	}
	return 0;
}

int codec_time_value(const json_t *v, double *t)
{
	if (json_is_number(v)) {
		*t = json_number_value(v);
		return 0;
	}
	if (json_is_string(v))
		return aws_time_parse(json_string_value(v), t);
	return -1;
}

static int is_special_double(const char *s)
{
	return !strcmp(s, "NaN") || !strcmp(s, "Infinity") || !strcmp(s, "-Infinity");
}

json_t *codec_scalar_from_text(const json_t *shape, const char *text, size_t len,
	const char *where, const char *error_code, struct codec_error *ce)
{
	const char *type = aws_model_type(shape);
	char *end = NULL;
	double t;

	if (!strcmp(type, "string")) {
		json_t *v = json_stringn(text, len);

		if (v == NULL)
			codec_error_set(ce, 400, error_code, "%s: the value is not UTF-8", where);
		return v;
	}
	if (!strcmp(type, "blob")) {
		struct buf b = BUF_INIT;
		json_t *v = NULL;

		if (aws_base64_decode(text, len, &b) == 0)
			v = json_stringn_nocheck(b.data ? b.data : "", b.len);
		else
			codec_error_set(ce, 400, error_code,
				"%s: the value '%.*s' is not base64", where, (int)(len > 64 ? 64 : len),
				text);
		buf_release(&b);
		return v;
	}
	if (!strcmp(type, "boolean")) {
		if (len == 4 && !strncmp(text, "true", 4))
			return json_true();
		if (len == 5 && !strncmp(text, "false", 5))
			return json_false();
		codec_error_set(ce, 400, error_code, "%s: the value '%.*s' is not a boolean "
			"(true or false)", where, (int)(len > 64 ? 64 : len), text);
		return NULL;
	}
	if (!strcmp(type, "integer") || !strcmp(type, "long")) {
		long long n;

		errno = 0;
		n = len ? strtoll(text, &end, 10) : 0;
		if (len == 0 || errno || end != text + len || strchr(" \t+", text[0])) {
			codec_error_set(ce, 400, error_code, "%s: the value '%.*s' is not an "
				"integer", where, (int)(len > 64 ? 64 : len), text);
			return NULL;
		}
		if (!strcmp(type, "integer") && (n < INT32_MIN || n > INT32_MAX)) {
			codec_error_set(ce, 400, error_code, "%s: the value '%.*s' is out of the "
				"range of a 32-bit integer", where, (int)len, text);
			return NULL;
		}
		return json_integer((json_int_t)n);
	}
	if (!strcmp(type, "float") || !strcmp(type, "double")) {
		double d;

		if (is_special_double(text) && strlen(text) == len)
			return json_stringn(text, len);
		d = len ? strtod(text, &end) : 0;
		if (len == 0 || end != text + len || !isfinite(d) || isspace((unsigned char)text[0])) {
			codec_error_set(ce, 400, error_code, "%s: the value '%.*s' is not a number",
				where, (int)(len > 64 ? 64 : len), text);
			return NULL;
		}
		return json_real(d);
	}
	if (!strcmp(type, "timestamp")) {
		if (aws_time_parse(text, &t) < 0) {
			codec_error_set(ce, 400, error_code, "%s: the value '%.*s' is not a timestamp "
				"(ISO 8601, RFC 822 or seconds since the epoch)", where,
				(int)(len > 64 ? 64 : len), text);
			return NULL;
		}
		return json_real(t);
	}
	codec_error_set(ce, 400, error_code, "%s: a %s cannot be given as text", where, type);
	return NULL;
}

void codec_xml_escape_cr(struct buf *xml)
{
	struct buf out = BUF_INIT;
	size_t i;

	if (xml->len == 0 || memchr(xml->data, '\r', xml->len) == NULL)
		return;
	for (i = 0; i < xml->len; i++) {
		if (xml->data[i] == '\r')
			buf_appends(&out, "&#13;");
		else
			buf_appendc(&out, xml->data[i]);
	}
	buf_release_secret(xml);
	*xml = out;
}
