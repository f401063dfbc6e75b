/*
 * client.h: calling AWS operations by name.
 *
 *     struct aws_client *c;
 *     aws_client_new(&(struct aws_client_options){ .region = "eu-west-1" }, &c, &e);
 *     rc = aws_client_call(c, "secretsmanager", "GetSecretValue", input, &out, &ae, &e);
 *
 * The input is a JSON object shaped as the operation's input in botocore's
 * model (what 'aws ... --cli-input-json' takes); the output is the object
 * botocore would return (see proto.h).  Services are named as awscli names
 * them: secretsmanager, ecs, s3, cloudfront, rds, docdb, elbv2, route53,
 * sts, logs.  Every attempt is signed anew (SigV4); failures are retried as
 * http.h describes.  With CALIBER_DEBUG=aws each request and response is
 * logged to stderr with secrets redacted (debug.c).
 *
 * Return values of the calls: 0 success (*out is a new object the caller
 * decrefs); 1 the service answered with an error (ae filled; release it
 * with aws_error_release()); -1 the call could not be made or its answer
 * read (e filled; e->usage set when the input was at fault).
 *
 * Ownership: the client is the caller's (aws_client_free()); it borrows
 * nothing after aws_client_new() returns.  A client is not thread-safe;
 * parallel work goes through aws_pool_* below.
 */
#ifndef CALIBER_AWS_CLIENT_H
#define CALIBER_AWS_CLIENT_H

#include <jansson.h>

#include "aws/proto.h"
#include "err.h"

struct aws_client_options {
	const char *profile;		/* NULL: AWS_PROFILE, else "default" */
	const char *region;		/* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile */
	const char *endpoint_url;	/* NULL: configured or public endpoint */
	int max_attempts;		/* 0: AWS_RETRY_MAX_ATTEMPTS */
	long retry_base_ms;		/* 0: 1000 (botocore's standard mode) */
	long timeout_ms;		/* whole transfer; 0: none */
};

struct aws_client;

int aws_client_new(const struct aws_client_options *o, struct aws_client **out, struct err *e);
void aws_client_free(struct aws_client *c);
/* The region requests are signed for. */
const char *aws_client_region(const struct aws_client *c);

/* Streaming payloads: S3 PutObject/UploadPart bodies and GetObject output. */
struct aws_call_options {
	const char *body_file;		/* the input payload is read from this file */
	const char *out_file;		/* the output payload is written to this file */
	long long body_offset;		/* a slice of body_file: from here */
	long long body_length;		/* this many bytes (0: to the end of the file) */
};

int aws_client_call(struct aws_client *c, const char *service, const char *op,
	const json_t *input, json_t **out, struct aws_error *ae, struct err *e);
int aws_client_call_ex(struct aws_client *c, const char *service, const char *op,
	const json_t *input, const struct aws_call_options *opts, json_t **out,
	struct aws_error *ae, struct err *e);

/*
 * Upload a file to S3: one PutObject up to AWS_S3_MULTIPART_THRESHOLD
 * bytes, above it a multipart upload of AWS_S3_PART_SIZE parts sent in
 * parallel (aborted when a part fails).  extra (may be NULL) holds further
 * PutObject/CreateMultipartUpload members (ContentType, CacheControl...).
 */
#define AWS_S3_MULTIPART_THRESHOLD (8u * 1024 * 1024)
#define AWS_S3_PART_SIZE (8u * 1024 * 1024)
int aws_s3_upload_file(struct aws_client *c, const char *bucket, const char *key,
	const char *path, const json_t *extra, struct aws_error *ae, struct err *e);

/*
 * A pool of parallel calls on one libcurl multi handle: at most
 * max_parallel transfers at a time, each signed and retried on its own.
 * A call is serialised (and its body file hashed) when it starts, so that
 * hashing overlaps the transfers of the calls before it.
 * aws_pool_add() queues a call; aws_pool_run() runs every queued call and
 * reports each through done (in completion order); it returns 0 when every
 * call succeeded, else -1 (e names the first failure).
 */
struct aws_pool;
/* rc as aws_client_call(); out, ae and e are borrowed for the callback's duration. */
typedef void (*aws_pool_done_fn)(void *arg, int rc, const json_t *out,
	const struct aws_error *ae, const struct err *e);

struct aws_pool *aws_pool_new(struct aws_client *c, int max_parallel);
int aws_pool_add(struct aws_pool *p, const char *service, const char *op, const json_t *input,
	const struct aws_call_options *opts, aws_pool_done_fn done, void *arg, struct err *e);
int aws_pool_run(struct aws_pool *p, struct err *e);
void aws_pool_free(struct aws_pool *p);

/*
 * Pagination (paginate.c), from the model's paginators-1.json: call op
 * with its input token set from the previous page's output token until
 * there is none (or it repeats, as CloudWatch Logs' forward token does).
 * page() is called with each page; a non-zero return stops early.
 * aws_paginate_all() concatenates the result keys of every page.
 */
typedef int (*aws_page_fn)(void *arg, const json_t *page);
int aws_paginate(struct aws_client *c, const char *service, const char *op,
	const json_t *input, aws_page_fn page, void *arg, struct aws_error *ae, struct err *e);
int aws_paginate_all(struct aws_client *c, const char *service, const char *op,
	const json_t *input, json_t **out, struct aws_error *ae, struct err *e);

/*
 * Waiters (waiter.c), from the model's waiters-2.json: poll the waiter's
 * operation every delay until an acceptor says success (0) or failure
 * (-1), or the deadline passes (-1, e says so).  on_poll (may be NULL) sees
 * every poll's outcome; returning non-zero from it stops the wait (-1).
 */
struct aws_waiter_options {
	double timeout_secs;	/* 0: the model's delay * maxAttempts */
	double delay_secs;	/* 0: the model's delay */
	int (*on_poll)(void *arg, int attempt, int rc, const json_t *out,
		const struct aws_error *ae);
	void *arg;
};
int aws_waiter_wait(struct aws_client *c, const char *service, const char *waiter,
	const json_t *input, const struct aws_waiter_options *o, struct err *e);
/* The JMESPath subset waiters use; new reference or NULL when nothing matches. */
json_t *aws_jmespath(const json_t *doc, const char *expr, struct err *e);

/*
 * Debug logging (debug.c), enabled by CALIBER_DEBUG containing "aws".
 */
int aws_debug_enabled(void);
/* The body with secret values replaced by "***" (JSON, form and XML). */
void aws_debug_redact_body(const char *content_type, const char *body, size_t len,
	struct buf *out);
void aws_debug_request(const char *url, const struct aws_request *req);
void aws_debug_response(const struct aws_response *resp, int attempt);

#endif
