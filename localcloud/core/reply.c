/*
 * reply.c: responses and protocol-shaped errors (see reply.h).
 */
#include "compat.h"

#include <sys/time.h>
#include <time.h>

#include <openssl/rand.h>

#include "reply.h"
#include "router.h"

void lc_response_init(struct lc_response *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->body);
	res->fd = -1;
}

void lc_response_release(struct lc_response *res)
{
	size_t i;

	for (i = 0; i < res->n_headers; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	free(res->headers);
	free(res->content_type);
	buf_release_secret(&res->body);
	if (res->fd >= 0)
		close(res->fd);
	lc_response_init(res);
}

void lc_reply_header(struct lc_response *res, const char *name, const char *value)
{
	res->headers = xrealloc(res->headers, (res->n_headers + 1) * sizeof(*res->headers));
	res->headers[res->n_headers].name = xstrdup(name);
	res->headers[res->n_headers].value = xstrdup(value);
	res->n_headers++;
}

void lc_reply_content_type(struct lc_response *res, const char *type)
{
	free(res->content_type);
	res->content_type = type ? xstrdup(type) : NULL;
}

void lc_xml_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_appends(b, "&lt;"); break;
		case '>': buf_appends(b, "&gt;"); break;
		case '&': buf_appends(b, "&amp;"); break;
		case '"': buf_appends(b, "&quot;"); break;
		case '\'': buf_appends(b, "&apos;"); break;
		default: buf_appendc(b, *s);
		}
	}
}

void lc_request_id_new(char out[40])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		r[14], r[15]);
}

double lc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lc_time_iso8601(double t, char out[32])
{
	time_t s = (time_t)t;
	struct tm tm;
	int ms = (int)((t - (double)s) * 1000);
	char day[24];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", day, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

/* The request-id headers each protocol's clients read. */
static void reply_request_id(struct lc_request *req, struct lc_response *res)
{
	if (req->service != NULL && req->service->s3_errors) {
		lc_reply_header(res, "x-amz-request-id", req->request_id);
		lc_reply_header(res, "x-amz-id-2", req->request_id);
	} else {
		lc_reply_header(res, "x-amzn-RequestId", req->request_id);
	}
}

static void reply_reset(struct lc_response *res)
{
	lc_response_release(res);
}

int lc_reply_error(struct lc_request *req, struct lc_response *res, int status, const char *code,
	const char *fmt, ...)
{
	enum lc_protocol proto = req->service ? req->service->protocol : LC_PROTO_REST_XML;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_reset(res);
	res->status = status;
	snprintf(res->error_code, sizeof(res->error_code), "%s", code);
	reply_request_id(req, res);
	switch (proto) {
	case LC_PROTO_JSON:
	case LC_PROTO_REST_JSON: {
		json_t *o = json_pack("{s:s, s:s}", "__type", code, "message", msg);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

		lc_reply_content_type(res, proto == LC_PROTO_JSON ? "application/x-amz-json-1.1"
								  : "application/json");
		lc_reply_header(res, "x-amzn-ErrorType", code);
		buf_appends(&res->body, text ? text : "{}");
		free(text);
		json_decref(o);
		break;
	}
	case LC_PROTO_QUERY:
	case LC_PROTO_REST_XML:
		lc_reply_content_type(res, "text/xml");
		buf_appends(&res->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		if (req->service == NULL || req->service->s3_errors) {
			buf_appends(&res->body, "<Error><Code>");
			lc_xml_escape(&res->body, code);
			buf_appends(&res->body, "</Code><Message>");
			lc_xml_escape(&res->body, msg);
			buf_appendf(&res->body, "</Message><RequestId>%s</RequestId></Error>",
				req->request_id);
			break;
		}
		buf_appends(&res->body, "<ErrorResponse");
		if (req->service->xmlns != NULL)
			buf_appendf(&res->body, " xmlns=\"%s\"", req->service->xmlns);
		buf_appendf(&res->body, "><Error><Type>%s</Type><Code>",
			status >= 500 ? "Receiver" : "Sender");
		lc_xml_escape(&res->body, code);
		buf_appends(&res->body, "</Code><Message>");
		lc_xml_escape(&res->body, msg);
		buf_appendf(&res->body, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			req->request_id);
		break;
	}
	return -1;
}

int lc_reply_json(struct lc_request *req, struct lc_response *res, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	json_decref(obj);
	if (text == NULL)
		return lc_reply_error(req, res, 500, "InternalFailure", "unable to encode the reply");
	reply_reset(res);
	res->status = 200;
	reply_request_id(req, res);
	lc_reply_content_type(res, req->service->protocol == LC_PROTO_JSON
					   ? "application/x-amz-json-1.1"
					   : "application/json");
	buf_appends(&res->body, text);
	free(text);
	return 0;
}

int lc_reply_query(struct lc_request *req, struct lc_response *res, const char *result_xml)
{
	const char *op = req->operation ? req->operation : "Unknown";

	reply_reset(res);
	res->status = 200;
	reply_request_id(req, res);
	lc_reply_content_type(res, "text/xml");
	buf_appendf(&res->body, "<%sResponse", op);
	if (req->service->xmlns != NULL)
		buf_appendf(&res->body, " xmlns=\"%s\"", req->service->xmlns);
	buf_appends(&res->body, ">");
	if (result_xml != NULL)
		buf_appendf(&res->body, "<%sResult>%s</%sResult>", op, result_xml, op);
	buf_appendf(&res->body,
		"<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
		req->request_id, op);
	return 0;
}

int lc_reply_xml(struct lc_request *req, struct lc_response *res, int status, const char *xml)
{
	reply_reset(res);
	res->status = status;
	reply_request_id(req, res);
	if (xml != NULL) {
		lc_reply_content_type(res, "application/xml");
		buf_appends(&res->body, xml);
	}
	return 0;
}

int lc_reply_raw(struct lc_request *req, struct lc_response *res, int status,
	const char *content_type, const void *data, size_t len)
{
	reply_reset(res);
	res->status = status;
	reply_request_id(req, res);
	lc_reply_content_type(res, content_type);
	buf_append(&res->body, data, len);
	return 0;
}

int lc_reply_fd(struct lc_request *req, struct lc_response *res, int status,
	const char *content_type, int fd, uint64_t offset, uint64_t len)
{
	reply_reset(res);
	res->status = status;
	reply_request_id(req, res);
	lc_reply_content_type(res, content_type);
	res->fd = fd;
	res->fd_offset = offset;
	res->fd_len = len;
	return 0;
}
