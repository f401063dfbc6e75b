/*
 * sigv4.h: AWS Signature Version 4, both sides.
 *
 * The client side signs a request in place of the SDKs; the server side
 * (used by caliberd) checks a received request's Authorization header
 * against the one secret it knows.  Both build the same canonical request,
 * so the code that builds it is shared and tested against the AWS test
 * suite in ../shared/testdata/aws4_testsuite.
 *
 * Ownership: every pointer in these structs is borrowed for the duration
 * of the call; results are written to caller-owned struct buf.
 */
#ifndef CALIBER_SIGV4_H
#define CALIBER_SIGV4_H

#include <time.h>

#include "buf.h"
#include "err.h"

struct sigv4_header {
	const char *name;	/* any case; duplicates allowed (joined with ',') */
	const char *value;	/* as sent; trimmed and space-collapsed when canonicalised */
};

struct sigv4_request {
	const char *method;
	const char *path;	/* as sent on the wire (percent-encoded), without the query */
	const char *query;	/* as sent, without '?'; NULL or "" for none */
	const struct sigv4_header *headers;
	size_t n_headers;
	/*
	 * Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" (S3 over HTTPS), or
	 * "STREAMING-..." for aws-chunked bodies.  NULL: hash of the empty body.
	 */
	const char *payload_hash;
	/*
	 * S3 does not normalise the path (no dot-segment removal, no double
	 * encoding); every other service does.
	 */
	int s3_path_rules;
};

/* Size of a hex SHA-256 or HMAC-SHA256, with its NUL. */
#define SIGV4_HEX_SIZE 65

/* out = lower-case hex SHA-256 of data. */
void sigv4_hash_hex(const void *data, size_t len, char out[SIGV4_HEX_SIZE]);

/* out = t as YYYYMMDDTHHMMSSZ (UTC), the format of x-amz-date. */
int sigv4_amz_date(time_t t, char out[17]);

/*
 * Append s percent-encoded as SigV4 wants: every byte but A-Z a-z 0-9
 * - _ . ~ (and '/' when keep_slash) becomes %XX, upper-case hex.  Also
 * what a client uses to build paths and query strings.
 */
int sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash);

/* The value of the first header called name (any case), NULL if none. */
const char *sigv4_header_get(const struct sigv4_request *req, const char *name);

/*
 * The payload hash the server must use for req: the x-amz-content-sha256
 * header verbatim when it says UNSIGNED-PAYLOAD or STREAMING-*, else the
 * hex SHA-256 of the body received.  -1 when that header is too long.
 */
int sigv4_payload_hash(const struct sigv4_request *req, const void *body, size_t len,
	char out[SIGV4_HEX_SIZE]);

/*
 * Append the string to sign: algorithm, amz_date, scope and the hex
 * SHA-256 of canonical_request, '\n'-separated.
 */
int sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
	const char *canonical_request, struct buf *out);

/* The credential scope parsed from (or used in) a signature. */
struct sigv4_scope {
	char access_key_id[129];
	char date[9];		/* YYYYMMDD */
	char region[64];
	char service[64];
	char amz_date[17];	/* YYYYMMDDTHHMMSSZ of the request */
	char signature[65];
};

/*
 * The canonical request of req.  signed_headers is the ';'-separated,
 * lower-case list to include (as the verifier reads it from the received
 * Authorization header); NULL signs every header given except
 * Authorization, User-Agent, Expect, X-Amzn-Trace-Id and Connection (which
 * proxies may change, as botocore leaves them out).  The list used is
 * written to signed_out when it is not NULL.
 */
int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers,
	struct buf *out, struct buf *signed_out, struct err *e);

/*
 * Sign req: the request must already carry x-amz-date (amz_date) and, when
 * a session token is used, x-amz-security-token among its headers.
 * Writes the value of the Authorization header to authorization.
 */
int sigv4_sign(const struct sigv4_request *req, const char *access_key_id, const char *secret,
	const char *region, const char *service, const char *amz_date, struct buf *authorization,
	struct err *e);

enum sigv4_result {
	SIGV4_VALID = 0,
	SIGV4_MISSING,		/* no Authorization header (nor presigned query) */
	SIGV4_MALFORMED,	/* cannot be parsed, or x-amz-date missing/invalid */
	SIGV4_UNKNOWN_KEY,	/* access key id is not the expected one */
	SIGV4_MISMATCH,		/* signature does not match */
	SIGV4_SKEWED,		/* x-amz-date more than 15 minutes from now */
	SIGV4_EXPIRED,		/* a presigned URL past X-Amz-Expires, or not yet valid */
	SIGV4_UNSIGNED_HEADERS,	/* a valid signature, but x-amz-* headers it does not cover */
};

/*
 * Server side: check req (with its Authorization and x-amz-date headers)
 * against the one credential pair the server knows.  Any region is
 * accepted.  Fills scope (when not NULL) with what the signature claims,
 * so that the caller can route by service, and e with a reason.
 * req->payload_hash must be what sigv4_payload_hash() gives for the body
 * received.  Presigned URLs (X-Amz-Algorithm etc. in the query, no
 * Authorization header) are checked too; for S3 they sign
 * UNSIGNED-PAYLOAD, and an expired one gives SIGV4_EXPIRED.  Every x-amz-*
 * header present must be among the signed ones (as AWS requires: "There
 * were headers present in the request which were not signed"), else
 * SIGV4_UNSIGNED_HEADERS, so that an unsigned x-amz-copy-source or
 * x-amz-meta-* cannot ride on somebody's presigned URL.
 */
enum sigv4_result sigv4_verify(const struct sigv4_request *req, const char *access_key_id,
	const char *secret, time_t now, struct sigv4_scope *scope, struct err *e);

/*
 * The signature of one chunk of an aws-chunked body sent with
 * x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the first
 * chunk chains from the request's signature (scope->signature after a
 * successful sigv4_verify), each next one from the previous chunk's; the
 * final zero-length chunk is signed too.  The server compares it with the
 * "chunk-signature=" of the chunk header.
 */
int sigv4_chunk_signature(const char *secret, const struct sigv4_scope *scope,
	const char *previous_signature, const void *chunk, size_t len, char out[SIGV4_HEX_SIZE]);

#endif
