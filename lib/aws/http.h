/*
 * http.h: AWS requests over libcurl: one reused easy handle per client
 * (connection reuse), a pool of parallel transfers on a multi handle for
 * bulk work, and the standard retry policy (which failures are retried
 * and how long to wait).
 *
 * The HTTP layer knows nothing of models or signatures: it sends a request
 * whose headers are final (signed by client.c) and returns the status,
 * headers and body.  Streaming bodies come from req->body_file and go to
 * req->out_file (on a 2xx answer) without being held in memory.
 *
 * Ownership: struct aws_http and struct aws_http_multi are owned by their
 * creator and freed with their _free(); requests and responses are the
 * caller's.
 */
#ifndef CALIBER_AWS_HTTP_H
#define CALIBER_AWS_HTTP_H

#include "aws/request.h"
#include "err.h"

/* Largest response body held in memory (streaming payloads go to a file). */
#define AWS_HTTP_MAX_BODY (64u * 1024 * 1024)

struct aws_http_options {
	long connect_timeout_ms;	/* 0: 10 s */
	long timeout_ms;		/* whole transfer; 0: none (big objects) */
	long low_speed_secs;		/* abort below 1 byte/s for this long; 0: 60 */
	const char *ca_bundle;		/* NULL: system store */
};

struct aws_http;

struct aws_http *aws_http_new(const struct aws_http_options *o);
void aws_http_free(struct aws_http *h);

/*
 * Send req (method, url, headers as they are, body or body_file) and read
 * the answer into resp.  Returns 0 when an HTTP answer was read, whatever
 * its status; -1 with e on transport failure, *transient set when the
 * failure is worth retrying (timeouts, connection refused or reset).
 */
int aws_http_perform(struct aws_http *h, const char *url, const struct aws_request *req,
	struct aws_response *resp, int *transient, struct err *e);

/*
 * Parallel transfers.  A transfer is added with aws_http_multi_add() and
 * reported, once finished, by aws_http_multi_next(); the caller then reads
 * its response and frees it with aws_http_transfer_free().
 */
struct aws_http_multi;
struct aws_http_transfer;

struct aws_http_multi *aws_http_multi_new(const struct aws_http_options *o, int max_parallel);
void aws_http_multi_free(struct aws_http_multi *mh);
/* req and url must outlive the transfer; tag is returned with it. */
int aws_http_multi_add(struct aws_http_multi *mh, const char *url, const struct aws_request *req,
	void *tag, struct err *e);
/* Number of transfers added and not yet returned by aws_http_multi_next(). */
int aws_http_multi_pending(const struct aws_http_multi *mh);
/*
 * Run transfers until one finishes (waiting at most timeout_ms) and return
 * it, or NULL when none finished in that time.  For the returned transfer,
 * aws_http_transfer_result() gives what aws_http_perform() would have.
 */
struct aws_http_transfer *aws_http_multi_next(struct aws_http_multi *mh, long timeout_ms);
int aws_http_transfer_result(struct aws_http_transfer *t, struct aws_response *resp,
	int *transient, struct err *e);
void *aws_http_transfer_tag(const struct aws_http_transfer *t);
void aws_http_transfer_free(struct aws_http_transfer *t);

/*
 * Retry policy: botocore's "standard" mode.  At most AWS_RETRY_MAX_ATTEMPTS
 * attempts; retried are throttling error codes, transient codes, HTTP 500,
 * 502, 503 and 504, and transport failures marked transient; never another
 * 4xx.  The delay before attempt n+1 is full jitter: rand(0, 1) *
 * base * 2^(n-1), capped at 20 s (base 1 s, as botocore).
 */
#define AWS_RETRY_MAX_ATTEMPTS 3
int aws_retry_is_throttle(const char *code);
int aws_retry_should(long status, const char *code);
/* Delay in milliseconds before the next attempt, after attempt (1-based). */
long aws_retry_delay_ms(int attempt, long base_ms);

#endif
