/*
 * request.h: an AWS HTTP request before signing and the response after it,
 * as the protocol serialisers produce them and the parsers read them.
 *
 * Ownership: both structs own every string and buffer in them;
 * aws_request_release() / aws_response_release() free them.
 */
#ifndef CALIBER_AWS_REQUEST_H
#define CALIBER_AWS_REQUEST_H

#include "buf.h"

struct aws_kv {
	char *name;
	char *value;
};

/* Ordered name/value pairs; names compared case-insensitively. */
struct aws_kv_list {
	struct aws_kv *v;
	size_t n, alloc;
};

void aws_kv_add(struct aws_kv_list *l, const char *name, const char *value);
/* Replace the first pair with that name, or add it. */
void aws_kv_set(struct aws_kv_list *l, const char *name, const char *value);
const char *aws_kv_get(const struct aws_kv_list *l, const char *name);
void aws_kv_release(struct aws_kv_list *l);

struct aws_request {
	char method[8];
	struct buf path;		/* percent-encoded, starts with '/' */
	struct buf query;		/* percent-encoded "a=b&c", no '?' */
	struct aws_kv_list headers;
	struct buf body;
	char *body_file;		/* streaming payload read from this file instead of body */
	long long body_offset;		/* ... from this offset */
	long long body_length;		/* ... this many bytes; -1: to the end of the file */
	char *host_prefix;		/* endpoint trait ("foo.bar."), NULL for none */
	char *host;			/* the Host the request goes to (set by the client) */
	int has_body;			/* body is sent even when empty */
	int streaming_output;		/* the output payload is a stream (S3 GetObject) */
	char *out_file;			/* streaming output written here when set */
};

struct aws_response {
	long status;
	struct aws_kv_list headers;
	struct buf body;
	int body_in_file;		/* the payload went to the request's out_file */
};

void aws_request_init(struct aws_request *r);
void aws_request_release(struct aws_request *r);
void aws_response_init(struct aws_response *r);
void aws_response_release(struct aws_response *r);

#endif
