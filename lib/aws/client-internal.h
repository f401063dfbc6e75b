/*
 * client-internal.h: what client.c shares with pool.c, paginate.c and
 * waiter.c: the client's state and a prepared (serialised, unsigned) call.
 */
#ifndef CALIBER_AWS_CLIENT_INTERNAL_H
#define CALIBER_AWS_CLIENT_INTERNAL_H

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/sigv4.h"

struct aws_client {
	char *region;
	char *profile;
	char *endpoint_url;
	char *ca_bundle;
	int max_attempts;
	long retry_base_ms;
	struct aws_credentials creds;
	int have_creds;
	struct aws_http_options http_opts;
	struct aws_http *http;
};

struct client_endpoint {
	char *url;
	char signing_region[64];
	char signing_name[64];
	int configured;
};

/* A serialised call, ready to be signed once per attempt. */
struct client_call {
	const struct aws_model *model;
	char *service, *op;
	struct aws_request req;		/* path, query, unsigned headers, body */
	char *url;
	char *host;
	char signing_name[64];
	char signing_region[64];
	char payload_hash[SIGV4_HEX_SIZE];
	int s3;
	int streaming_output;
	int decode_keys;		/* EncodingType=url added: decode the output's keys */
	int validate_response;		/* check the x-amz-checksum-crc32 of the answer */
};

int client_call_prepare(struct aws_client *c, const char *service, const char *op,
	const json_t *input, const struct aws_call_options *opts, struct client_call *cc,
	struct err *e);
/* The attempt's full header list (Host, X-Amz-Date, Authorization...); caller releases. */
int client_call_sign(struct aws_client *c, struct client_call *cc, struct aws_kv_list *headers,
	struct err *e);
int client_ensure_credentials(struct aws_client *c, struct err *e);
void client_call_release(struct client_call *cc);
/* 0, or -1 (and the output file removed) when the answer's x-amz-checksum-crc32 does not match. */
int client_response_checksum_ok(const struct client_call *cc, const struct aws_response *resp,
	struct err *e);
/* URL-decode the keys of a ListObjectsV2 output (botocore's decode_list_object_v2). */
void client_decode_s3_keys(json_t *out);

#endif
