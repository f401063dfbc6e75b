/*
 * reply.h: what a handler sends back, in its protocol's shape.
 *
 * Errors: lc_reply_error() writes the error the way the request's service
 * speaks (JSON 1.1 {"__type","message"}; Query <ErrorResponse>; S3
 * <Error>; REST-XML <ErrorResponse>) with the request id in the body and
 * headers, and returns -1 so that a handler can 'return lc_reply_error(...)'.
 *
 * Ownership: struct lc_response owns its body, headers and fd;
 * lc_response_release() frees them (the http front calls it).
 */
#ifndef CALIBER_LC_REPLY_H
#define CALIBER_LC_REPLY_H

#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct lc_request;

struct lc_header_out {
	char *name;
	char *value;
};

struct lc_response {
	int status;			/* 0: not filled yet */
	char *content_type;		/* NULL: none */
	struct buf body;
	struct lc_header_out *headers;
	size_t n_headers;
	/* send this file instead of body (GetObject): fd is closed after */
	int fd;
	uint64_t fd_offset;
	uint64_t fd_len;
	/* for the log: the error code sent, "" when none */
	char error_code[64];
};

void lc_response_init(struct lc_response *res);
void lc_response_release(struct lc_response *res);

/* Add a header (copied). */
void lc_reply_header(struct lc_response *res, const char *name, const char *value);
void lc_reply_content_type(struct lc_response *res, const char *type);

/*
 * An error in the protocol of req's service: status, code as AWS spells
 * it ("ResourceNotFoundException", "NoSuchKey"), message.  Returns -1.
 */
int lc_reply_error(struct lc_request *req, struct lc_response *res, int status, const char *code,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* JSON 1.1 / REST-JSON success: 200 and obj (reference stolen). */
int lc_reply_json(struct lc_request *req, struct lc_response *res, json_t *obj);

/*
 * Query success: <{Operation}Response xmlns=..><{Operation}Result>result_xml
 * </{Operation}Result><ResponseMetadata>..</ResponseMetadata></..Response>.
 * result_xml may be NULL (operations without a result).
 */
int lc_reply_query(struct lc_request *req, struct lc_response *res, const char *result_xml);

/* REST-XML success: status and a complete XML document (copied); xml may be NULL (no body). */
int lc_reply_xml(struct lc_request *req, struct lc_response *res, int status, const char *xml);

/* Any body (copied) with a content type. */
int lc_reply_raw(struct lc_request *req, struct lc_response *res, int status,
	const char *content_type, const void *data, size_t len);

/* Send len bytes of fd from offset (the response takes fd). */
int lc_reply_fd(struct lc_request *req, struct lc_response *res, int status,
	const char *content_type, int fd, uint64_t offset, uint64_t len);

/* Append s to b with XML's five characters escaped. */
void lc_xml_escape(struct buf *b, const char *s);

/* A new random request id (UUID shape) into out[37]. */
void lc_request_id_new(char out[40]);

/* Format t (UTC) as ISO 8601 with milliseconds, "2026-11-26T05:00:00.000Z". */
void lc_time_iso8601(double t, char out[32]);
/* Current time, seconds since the epoch with sub-second precision. */
double lc_now(void);

#endif
