/*
 * proto.h: the parts of caliberd's request handling that read untrusted
 * bytes before any handler runs: percent-decoding, form bodies, the SigV4
 * credential scope, and REST path patterns.  They live in the library so
 * that the fuzz target (tests/fuzz/fuzz-router.c) and unit tests reach
 * them without the daemon.
 *
 * Ownership: a struct lc_param owns name and value; lc_params_free()
 * frees an array of them.
 */
#ifndef CALIBER_LOCALCLOUD_PROTO_H
#define CALIBER_LOCALCLOUD_PROTO_H

#include <stddef.h>

struct lc_param {
	char *name;
	char *value;
};

void lc_params_free(struct lc_param *p, size_t n);
/* Value of the first param called name (exact case), NULL when absent. */
const char *lc_params_get(const struct lc_param *p, size_t n, const char *name);

/*
 * Decode %XX (and '+' as space when plus_space) of s[0..len) into a new
 * string the caller frees.  A '%' not followed by two hex digits is kept
 * as is.  A decoded NUL byte is kept (out_len says the length).
 */
char *lcproto_decode(const char *s, size_t len, int plus_space, size_t *out_len);

/*
 * Parse an application/x-www-form-urlencoded body (or a query string):
 * appends decoded pairs to *params (realloc'd), count in *n.  A pair
 * without '=' gets the value "".  Returns -1 (leaving what was parsed)
 * when there are more than max_params pairs, -2 when a name or value
 * decodes to a NUL byte.
 */
int lcproto_form_parse(const char *s, size_t len, size_t max_params, struct lc_param **params,
	size_t *n);

/*
 * The region and service of a SigV4 Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request,
 * SignedHeaders=..., Signature=...") or of a presigned URL's decoded
 * X-Amz-Credential ("AKID/20260101/us-east-1/s3/aws4_request").  Returns 0
 * when the scope has the five parts, -1 otherwise.
 */
int lcproto_scope_parse(const char *credential_or_header, char *key_id, size_t key_id_size,
	char *region, size_t region_size, char *service, size_t service_size);

/*
 * Match a REST path pattern ("/{Bucket}/{Key+}", "/2013-04-01/hostedzone/{Id}")
 * against a raw (percent-encoded) path.  {Name} matches one non-empty
 * segment, {Name+} the non-empty rest including slashes.  Captures are
 * percent-decoded and appended to params (at most max); returns 1 on a
 * match, 0 otherwise (params then holds nothing new).
 */
int lcproto_path_match(const char *pattern, const char *raw_path, struct lc_param *params,
	size_t max, size_t *n);

#endif
