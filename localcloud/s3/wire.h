/*
 * s3/wire.h: the parts of S3's wire format that caliberd parses from
 * untrusted clients, kept apart from the handlers so that unit tests and
 * the fuzz target (tests/fuzz/fuzz-s3.c) reach them directly:
 *
 *  - the aws-chunked body encoding (Content-Encoding: aws-chunked) that
 *    newer SDKs send, with per-chunk SigV4 signatures
 *    (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and trailing checksums
 *    (STREAMING-UNSIGNED-PAYLOAD-TRAILER, x-amz-trailer);
 *  - the XML request bodies: Delete (DeleteObjects),
 *    CompleteMultipartUpload, CreateBucketConfiguration;
 *  - x-amz-checksum-* values and Content-MD5 compared with digests.
 *
 * Ownership: a struct s3_chunked owns its state and is released with
 * s3_chunked_release(); parse results own their strings and are released
 * with the matching *_release().
 */
#ifndef CALIBER_S3_WIRE_H
#define CALIBER_S3_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "core/objstore.h"

/* Where decoded bytes go; returns 0, or -1 to stop (with e filled). */
typedef int (*s3_chunked_sink)(void *arg, const void *data, size_t len, struct err *e);

/* What a signed aws-chunked body's chunk signatures are checked against. */
struct s3_chunk_signing {
	unsigned char key[32];		/* the SigV4 signing key of the request */
	char amz_date[17];		/* x-amz-date of the request */
	char scope[160];		/* date/region/service/aws4_request */
	char seed_signature[65];	/* the Authorization header's signature */
};

struct s3_chunked {
	int state;
	char line[512];
	size_t line_len;
	uint64_t remaining;		/* bytes left in the current chunk */
	uint64_t decoded;		/* total bytes passed to the sink */
	int signed_chunks;
	struct s3_chunk_signing sig;
	char prev_signature[65];
	char chunk_signature[65];
	void *chunk_sha;		/* EVP_MD_CTX of the current chunk, when signed */
	struct buf trailers;		/* "name:value\n" lines, names lower case */
};

/*
 * Start decoding.  signing NULL: chunk signatures are not checked (unsigned
 * payloads); otherwise every chunk must carry a valid chunk-signature.
 */
void s3_chunked_init(struct s3_chunked *c, const struct s3_chunk_signing *signing);
/* Feed bytes as they arrive; decoded data goes to sink. */
int s3_chunked_feed(struct s3_chunked *c, const char *data, size_t len, s3_chunked_sink sink,
	void *arg, struct err *e);
/* The body ended: it must have ended exactly after the final chunk and trailers. */
int s3_chunked_finish(struct s3_chunked *c, struct err *e);
/* A trailer's value (name lower case), NULL when absent; valid until release. */
const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name, char *out,
	size_t out_len);
void s3_chunked_release(struct s3_chunked *c);

/* The SigV4 signing key for secret, date (YYYYMMDD), region and service. */
void s3_signing_key(const char *secret, const char *date, const char *region,
	const char *service, unsigned char key[32]);

/* DeleteObjects body. */
struct s3_delete_request {
	char **keys;
	size_t n_keys;
	int quiet;
};

/* CompleteMultipartUpload body: parts in the order given. */
struct s3_complete_request {
	struct objstore_part *parts;
	size_t n_parts;
};

/* Each returns 0, or -1 with e filled when the XML is malformed or not the expected shape. */
int s3_parse_delete(const char *xml, size_t len, struct s3_delete_request *out, struct err *e);
void s3_delete_request_release(struct s3_delete_request *r);
int s3_parse_complete(const char *xml, size_t len, struct s3_complete_request *out,
	struct err *e);
void s3_complete_request_release(struct s3_complete_request *r);
/* LocationConstraint of a CreateBucketConfiguration (caller frees), NULL when none given. */
int s3_parse_create_bucket(const char *xml, size_t len, char **location, struct err *e);

/*
 * Checksum headers: the algorithm named by header (e.g.
 * "x-amz-checksum-crc32") as an enum objstore_checksum bit, 0 when the
 * header is not one of them.
 */
unsigned s3_checksum_flag(const char *header_name);
/* The S3 name ("CRC32") of a flag. */
const char *s3_checksum_name(unsigned flag);
/* The base64 value of flag's digest in d, into out (at least 64 bytes). */
void s3_checksum_value(unsigned flag, const struct objstore_digests *d, char *out);

/* Base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
void s3_base64(const unsigned char *p, size_t len, char *out);
/* Decode base64 text into out (max bytes); returns the length or -1. */
int s3_unbase64(const char *text, unsigned char *out, size_t max);

/* Percent-encode s as S3's encoding-type=url does (RFC 3986 unreserved kept, '/' kept). */
void s3_url_encode(struct buf *b, const char *s);

#endif
