/*
 * debug.c: CALIBER_DEBUG=aws logging of every request and response to
 * stderr: the request line, headers and body, the status, headers and body
 * of the answer.  Secrets never reach the log: the Authorization and
 * X-Amz-Security-Token headers, and in bodies (JSON, form or XML) the
 * values of SecretString, SecretBinary, passwords, secret keys and session
 * tokens, are replaced by "***".
 */
#include "compat.h"

#include <ctype.h>

#include <jansson.h>

#include "aws/client.h"

/* Debug output of a body is cut after this many bytes. */
#define DEBUG_BODY_MAX 4096

int aws_debug_enabled(void)
{
	const char *d = getenv("CALIBER_DEBUG");

	return d && (strstr(d, "aws") || !strcmp(d, "all") || !strcmp(d, "1"));
}

/* Names whose values are secret, compared case-insensitively. */
static int secret_name(const char *name, size_t len)
{
	static const char *const exact[] = { "SecretString", "SecretBinary", "SecretAccessKey",
		"SessionToken", "Authorization", "X-Amz-Security-Token", "Token", "Password" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(exact); i++)
		if (strlen(exact[i]) == len && !strncasecmp(name, exact[i], len))
			return 1;
	/* MasterUserPassword, NewPassword, ... */
	for (i = 0; i + 8 <= len; i++)
		if (!strncasecmp(name + i, "password", 8))
			return 1;
	return len >= 11 && !strncasecmp(name + len - 11, "SecretValue", 11);
}

static void redact_json(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			if (secret_name(key, strlen(key)) && !json_is_object(item) &&
				!json_is_array(item))
				json_object_set_new(v, key, json_string("***"));
			else
				redact_json(item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			redact_json(item);
	}
}

static void redact_form(const char *body, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq, dot;

		while (end < len && body[end] != '&')
			end++;
		for (eq = i; eq < end && body[eq] != '='; eq++)
			;
		/* the last dotted segment names the member: Credentials.SessionToken */
		for (dot = eq; dot > i && body[dot - 1] != '.'; dot--)
			;
		buf_append(out, body + i, eq - i);
		if (eq < end) {
			if (secret_name(body + dot, eq - dot))
				buf_appends(out, "=***");
			else
				buf_append(out, body + eq, end - eq);
		}
		if (end < len)
			buf_appendc(out, '&');
		i = end + 1;
	}
}

static void redact_xml(const char *body, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		if (body[i] == '<' && i + 1 < len && body[i + 1] != '/' && body[i + 1] != '?') {
			size_t n = i + 1, close;

			while (n < len && (isalnum((unsigned char)body[n]) || body[n] == ':' ||
						  body[n] == '_' || body[n] == '-'))
				n++;
			if (n < len && body[n] == '>' && secret_name(body + i + 1, n - i - 1)) {
				/* skip to the matching end tag */
				for (close = n + 1; close < len && body[close] != '<'; close++)
					;
				buf_append(out, body + i, n + 1 - i);
				buf_appends(out, "***");
				i = close;
				continue;
			}
		}
		buf_appendc(out, body[i++]);
	}
}

void aws_debug_redact_body(const char *content_type, const char *body, size_t len,
	struct buf *out)
{
	json_t *j;
	char *dumped;

	if (len == 0)
		return;
	if (body[0] == '{' || body[0] == '[' ||
		(content_type && strstr(content_type, "json"))) {
		j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
		if (j) {
			redact_json(j);
			dumped = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
			buf_appends(out, dumped);
			free(dumped);
			json_decref(j);
			return;
		}
		buf_appends(out, "(unparseable JSON body withheld)");
		return;
	}
	if (body[0] == '<') {
		redact_xml(body, len, out);
		return;
	}
	if (content_type && strstr(content_type, "x-www-form-urlencoded")) {
		redact_form(body, len, out);
		return;
	}
	buf_appendf(out, "(%zu bytes of %s)", len, content_type ? content_type : "data");
}

static void debug_headers(const struct aws_kv_list *h, const char *dir)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		int secret = !strcasecmp(h->v[i].name, "Authorization") ||
			!strcasecmp(h->v[i].name, "X-Amz-Security-Token");
		const char *v = h->v[i].value;

		if (secret && !strcasecmp(h->v[i].name, "Authorization")) {
			/* keep the credential scope and signed headers, drop the signature */
			const char *sig = strstr(v, "Signature=");

			fprintf(stderr, "caliber: debug: aws: %s %s: %.*sSignature=***\n", dir,
				h->v[i].name, sig ? (int)(sig - v) : 0, v);
			continue;
		}
		fprintf(stderr, "caliber: debug: aws: %s %s: %s\n", dir, h->v[i].name,
			secret ? "***" : v);
	}
}

static void debug_body(const struct aws_kv_list *h, const struct buf *body, const char *dir)
{
	struct buf red = BUF_INIT;

	aws_debug_redact_body(aws_kv_get(h, "Content-Type"), body->data, body->len, &red);
	if (red.len)
		fprintf(stderr, "caliber: debug: aws: %s body: %.*s%s\n", dir,
			(int)(red.len > DEBUG_BODY_MAX ? DEBUG_BODY_MAX : red.len), red.data,
			red.len > DEBUG_BODY_MAX ? "..." : "");
	buf_release(&red);
}

void aws_debug_request(const char *url, const struct aws_request *req)
{
	fprintf(stderr, "caliber: debug: aws: > %s %s\n", req->method, url);
	debug_headers(&req->headers, ">");
	if (req->body_file)
		fprintf(stderr, "caliber: debug: aws: > body from '%s'\n", req->body_file);
	else
		debug_body(&req->headers, &req->body, ">");
}

void aws_debug_response(const struct aws_response *resp, int attempt)
{
	fprintf(stderr, "caliber: debug: aws: < %ld (attempt %d)\n", resp->status, attempt);
	debug_headers(&resp->headers, "<");
	if (resp->body_in_file)
		fprintf(stderr, "caliber: debug: aws: < body written to the output file\n");
	else
		debug_body(&resp->headers, &resp->body, "<");
}
