/*
 * sigv4.c: AWS Signature Version 4, client and server side.
 *
 * The canonical request is built by one function for both sides, so that
 * what the client signs and what the server checks cannot drift apart.
 * Rules follow the AWS documentation ("Create a canonical request for
 * IAM") and the aws4 test suite: paths are normalised and encoded (again)
 * except for S3, query pairs are decoded, strictly re-encoded and sorted,
 * header values are trimmed with inner whitespace collapsed, and duplicate
 * headers are joined with ',' in the order received.
 */
#include "compat.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws/sigv4.h"

#define SIGV4_ALGORITHM	  "AWS4-HMAC-SHA256"
#define SIGV4_MAX_SKEW	  (15 * 60)
#define SIGV4_MAX_EXPIRES 604800
/* Caps on what a received request may make us allocate. */
#define SIGV4_MAX_HEADERS 256
#define SIGV4_MAX_QUERY	  1024

static const char sigv4_hexdigits[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = sigv4_hexdigits[in[i] >> 4];
		out[2 * i + 1] = sigv4_hexdigits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void sigv4_hash_hex(const void *data, size_t len, char out[SIGV4_HEX_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	hex_encode(md, sizeof(md), out);
}

int sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return -1;
	return 0;
}

static int is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (is_unreserved(c) || (keep_slash && c == '/'))
			r = buf_appendc(out, (char)c);
		else
			r = buf_appendf(out, "%%%02X", c);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode %XX escapes into out; a '%' not followed by two hex digits is kept.
 * plus_space: '+' is a space (query strings: S3 reads a raw '+' so, and so
 * does libmicrohttpd in front of caliberd); a literal plus comes as %2B.
 */
static int uri_decode(struct buf *out, const char *s, size_t len, int plus_space)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
			(lo = hexval(s[i + 2])) >= 0) {
			if (buf_appendc(out, (char)(hi * 16 + lo)) < 0)
				return -1;
			i += 2;
		} else if (buf_appendc(out, plus_space && s[i] == '+' ? ' ' : s[i]) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * Remove empty, "." and ".." segments (RFC 3986 dot-segment removal plus
 * the collapsing of repeated slashes that the test suite expects), keeping
 * a trailing slash.
 */
static int path_normalise(const char *path, struct buf *out)
{
	size_t len = strlen(path), i = 0;
	size_t *stack = NULL, depth = 0;
	int rc = -1;

	stack = xcalloc(len / 2 + 2, sizeof(*stack));
	buf_reset(out);
	while (i < len) {
		size_t start, seglen;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		seglen = i - start;
		if (seglen == 0 || (seglen == 1 && path[start] == '.'))
			continue;
		if (seglen == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (depth > 0) {
				depth--;
				out->len = stack[depth];
				out->data[out->len] = '\0';
			}
			continue;
		}
		stack[depth++] = out->len;
		if (buf_appendc(out, '/') < 0 || buf_append(out, path + start, seglen) < 0)
			goto out;
	}
	if (out->len == 0 || (len > 0 && path[len - 1] == '/')) {
		if (buf_appendc(out, '/') < 0)
			goto out;
	}
	rc = 0;
out:
	free(stack);
	return rc;
}

static int canonical_path(const struct sigv4_request *req, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	const char *path = req->path && req->path[0] ? req->path : "/";
	int rc = -1;

	if (req->s3_path_rules) {
		/*
		 * S3 signs the key encoded once: decode what was sent and
		 * encode it strictly, so that "~" and "%7E" sign alike.
		 */
		if (uri_decode(&tmp, path, strlen(path), 0) < 0)
			goto out;
		if (sigv4_uri_encode(out, tmp.data, tmp.len, 1) < 0)
			goto out;
	} else {
		/* The already encoded path is encoded again. */
		if (path_normalise(path, &tmp) < 0)
			goto out;
		if (sigv4_uri_encode(out, tmp.data, tmp.len, 1) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&tmp);
	return rc;
}

struct query_pair {
	char *key;
	char *value;
};

static int query_pair_cmp(const void *a, const void *b)
{
	const struct query_pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static char *query_component(const char *s, size_t len)
{
	struct buf dec = BUF_INIT, enc = BUF_INIT;
	char *r;

	uri_decode(&dec, s, len, 1);
	sigv4_uri_encode(&enc, buf_str(&dec), dec.len, 0);
	buf_release(&dec);
	r = buf_detach(&enc);
	return r;
}

/* exclude: a (decoded) key left out, for presigned URLs' X-Amz-Signature. */
static int canonical_query(const char *query, const char *exclude, struct buf *out, struct err *e)
{
	struct query_pair *pairs = NULL;
	size_t n = 0, i;
	const char *p = query;
	int rc = -1;

	if (query == NULL || *query == '\0')
		return 0;
	pairs = xcalloc(SIGV4_MAX_QUERY, sizeof(*pairs));
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (len > 0) {
			if (n == SIGV4_MAX_QUERY) {
				err_set(e, "query string has more than %d parameters", SIGV4_MAX_QUERY);
				goto out;
			}
			if (eq) {
				pairs[n].key = query_component(p, (size_t)(eq - p));
				pairs[n].value = query_component(eq + 1, len - (size_t)(eq - p) - 1);
			} else {
				pairs[n].key = query_component(p, len);
				pairs[n].value = xstrdup("");
			}
			if (exclude && strcmp(pairs[n].key, exclude) == 0) {
				free(pairs[n].key);
				free(pairs[n].value);
			} else {
				n++;
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
	qsort(pairs, n, sizeof(*pairs), query_pair_cmp);
	for (i = 0; i < n; i++) {
		if (buf_appendf(out, "%s%s=%s", i ? "&" : "", pairs[i].key, pairs[i].value) < 0) {
			err_set(e, "canonical query string too long");
			goto out;
		}
	}
	rc = 0;
out:
	if (pairs) {
		for (i = 0; i < n; i++) {
			free(pairs[i].key);
			free(pairs[i].value);
		}
		free(pairs);
	}
	return rc;
}

/* Trim, and collapse runs of whitespace (folded lines included) to one space. */
static int header_value_append(struct buf *out, const char *v)
{
	int pending_space = 0, any = 0;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			pending_space = any;
			continue;
		}
		if (pending_space && buf_appendc(out, ' ') < 0)
			return -1;
		pending_space = 0;
		any = 1;
		if (buf_appendc(out, *v) < 0)
			return -1;
	}
	return 0;
}

static int header_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s <= ' ' || *s == ':' || *s == ';' || (unsigned char)*s >= 127)
			return 0;
	}
	return 1;
}

/* Headers a signer leaves out when told to sign "every header". */
static int header_unsigned(const char *name)
{
	static const char *const skip[] = {
		"authorization", "user-agent", "expect", "x-amzn-trace-id", "connection",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(skip); i++) {
		if (strcasecmp(name, skip[i]) == 0)
			return 1;
	}
	return 0;
}

static int str_ptr_casecmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* Build the ';'-list of lower-case names of every signable header, sorted, unique. */
static int signed_list_all(const struct sigv4_request *req, struct buf *list, struct err *e)
{
	const char **names = NULL;
	size_t n = 0, i, j;
	int rc = -1;

	if (req->n_headers > SIGV4_MAX_HEADERS)
		return err_set(e, "request has more than %d headers", SIGV4_MAX_HEADERS);
	names = xcalloc(req->n_headers + 1, sizeof(*names));
	for (i = 0; i < req->n_headers; i++) {
		if (!header_name_valid(req->headers[i].name)) {
			err_set(e, "invalid header name '%.64s'", req->headers[i].name);
			goto out;
		}
		if (!header_unsigned(req->headers[i].name))
			names[n++] = req->headers[i].name;
	}
	qsort(names, n, sizeof(*names), str_ptr_casecmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcasecmp(names[i], names[i - 1]) == 0)
			continue;
		if (list->len && buf_appendc(list, ';') < 0)
			goto out;
		for (j = 0; names[i][j]; j++) {
			if (buf_appendc(list, (char)tolower((unsigned char)names[i][j])) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free(names);
	return rc;
}

/* Append "name:v1,v2\n" for one signed header name (lower case). */
static int canonical_header(const struct sigv4_request *req, const char *name, size_t namelen,
	struct buf *out, struct err *e)
{
	size_t i;
	int found = 0;

	if (buf_append(out, name, namelen) < 0 || buf_appendc(out, ':') < 0)
		return err_set(e, "canonical request too long");
	for (i = 0; i < req->n_headers; i++) {
		const char *h = req->headers[i].name;

		if (strlen(h) != namelen || strncasecmp(h, name, namelen) != 0)
			continue;
		if (found && buf_appendc(out, ',') < 0)
			return err_set(e, "canonical request too long");
		if (header_value_append(out, req->headers[i].value ? req->headers[i].value : "") < 0)
			return err_set(e, "canonical request too long");
		found = 1;
	}
	if (!found)
		return err_set(e, "signed header '%.*s' is not in the request", (int)namelen, name);
	if (buf_appendc(out, '\n') < 0)
		return err_set(e, "canonical request too long");
	return 0;
}

static int canonical_request_ex(const struct sigv4_request *req, const char *signed_headers,
	const char *query_exclude, const char *payload_hash, struct buf *out,
	struct buf *signed_out, struct err *e)
{
	struct buf list = BUF_INIT;
	const char *p, *method = req->method ? req->method : "";
	char empty_hash[SIGV4_HEX_SIZE];
	int rc = -1;

	if (*method == '\0') {
		err_set(e, "request has no method");
		goto out;
	}
	if (signed_headers == NULL) {
		if (signed_list_all(req, &list, e) < 0)
			goto out;
	} else {
		if (*signed_headers == '\0') {
			err_set(e, "empty list of signed headers");
			goto out;
		}
		buf_appends(&list, signed_headers);
	}
	if (buf_appendf(out, "%s\n", method) < 0 || canonical_path(req, out) < 0 ||
		buf_appendc(out, '\n') < 0) {
		err_set(e, "canonical request too long");
		goto out;
	}
	if (canonical_query(req->query, query_exclude, out, e) < 0)
		goto out;
	if (buf_appendc(out, '\n') < 0)
		goto out;
	for (p = buf_str(&list); *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);

		if (len == 0) {
			err_set(e, "empty name in signed headers '%.200s'", buf_str(&list));
			goto out;
		}
		if (canonical_header(req, p, len, out, e) < 0)
			goto out;
		p += len;
		if (*p == ';')
			p++;
	}
	if (payload_hash == NULL) {
		sigv4_hash_hex("", 0, empty_hash);
		payload_hash = empty_hash;
	}
	if (buf_appendf(out, "\n%s\n%s", buf_str(&list), payload_hash) < 0) {
		err_set(e, "canonical request too long");
		goto out;
	}
	if (signed_out && buf_append(signed_out, list.data, list.len) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&list);
	return rc;
}

int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers,
	struct buf *out, struct buf *signed_out, struct err *e)
{
	return canonical_request_ex(req, signed_headers, NULL, req->payload_hash, out, signed_out,
		e);
}

int sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
	const char *canonical_request, struct buf *out)
{
	char hash[SIGV4_HEX_SIZE];

	sigv4_hash_hex(canonical_request, strlen(canonical_request), hash);
	return buf_appendf(out, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date,
		amz_date, region, service, hash);
}

static int hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int len = 32;

	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out,
		    &len) == NULL)
		return -1;
	return 0;
}

/* signature = hex(HMAC(kSigning, string_to_sign)) */
static int signature_compute(const char *secret, const char *date, const char *region,
	const char *service, const char *string_to_sign, char out[SIGV4_HEX_SIZE])
{
	struct buf k = BUF_INIT;
	unsigned char key[32], sig[32];
	int rc = -1;

	buf_appendf(&k, "AWS4%s", secret);
	if (hmac(k.data, k.len, date, key) < 0 || hmac(key, 32, region, key) < 0 ||
		hmac(key, 32, service, key) < 0 || hmac(key, 32, "aws4_request", key) < 0 ||
		hmac(key, 32, string_to_sign, sig) < 0)
		goto out;
	hex_encode(sig, sizeof(sig), out);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	buf_release_secret(&k);
	return rc;
}

static int amz_date_valid(const char *s)
{
	int i;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++) {
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int sigv4_sign(const struct sigv4_request *req, const char *access_key_id, const char *secret,
	const char *region, const char *service, const char *amz_date, struct buf *authorization,
	struct err *e)
{
	struct buf creq = BUF_INIT, sts = BUF_INIT, list = BUF_INIT;
	char sig[SIGV4_HEX_SIZE];
	int rc = -1;

	if (amz_date == NULL || !amz_date_valid(amz_date)) {
		err_set(e, "invalid x-amz-date '%s'", amz_date ? amz_date : "");
		goto out;
	}
	if (sigv4_canonical_request(req, NULL, &creq, &list, e) < 0)
		goto out;
	if (sigv4_string_to_sign(amz_date, region, service, creq.data, &sts) < 0)
		goto out;
	{
		char date[9];

		memcpy(date, amz_date, 8);
		date[8] = '\0';
		if (signature_compute(secret, date, region, service, sts.data, sig) < 0) {
			err_set(e, "hmac failed");
			goto out;
		}
	}
	if (buf_appendf(authorization,
		    SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
				    "Signature=%s",
		    access_key_id, amz_date, region, service, buf_str(&list), sig) < 0) {
		err_set(e, "authorization header too long");
		goto out;
	}
	rc = 0;
out:
	buf_release(&creq);
	buf_release(&sts);
	buf_release(&list);
	return rc;
}

const char *sigv4_header_get(const struct sigv4_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++) {
		if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value ? req->headers[i].value : "";
	}
	return NULL;
}

int sigv4_payload_hash(const struct sigv4_request *req, const void *body, size_t len,
	char out[SIGV4_HEX_SIZE])
{
	const char *h = sigv4_header_get(req, "x-amz-content-sha256");

	if (h && (strcmp(h, "UNSIGNED-PAYLOAD") == 0 || strncmp(h, "STREAMING-", 10) == 0)) {
		if (strlen(h) >= SIGV4_HEX_SIZE)
			return -1;
		memcpy(out, h, strlen(h) + 1);
		return 0;
	}
	sigv4_hash_hex(body ? body : "", body ? len : 0, out);
	return 0;
}

/* Copy [s, s+len) into a fixed field; -1 when it does not fit or is empty. */
static int field_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* "AKID/YYYYMMDD/region/service/aws4_request" */
static int credential_parse(const char *s, size_t len, struct sigv4_scope *scope)
{
	const char *end = s + len, *parts[5];
	size_t lens[5];
	int i;

	for (i = 0; i < 5; i++) {
		const char *slash = memchr(s, '/', (size_t)(end - s));

		parts[i] = s;
		if (i < 4) {
			if (slash == NULL)
				return -1;
			lens[i] = (size_t)(slash - s);
			s = slash + 1;
		} else {
			if (slash != NULL)
				return -1;
			lens[i] = (size_t)(end - s);
		}
	}
	if (field_copy(scope->access_key_id, sizeof(scope->access_key_id), parts[0], lens[0]) < 0 ||
		field_copy(scope->date, sizeof(scope->date), parts[1], lens[1]) < 0 ||
		field_copy(scope->region, sizeof(scope->region), parts[2], lens[2]) < 0 ||
		field_copy(scope->service, sizeof(scope->service), parts[3], lens[3]) < 0)
		return -1;
	if (lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
		return -1;
	if (strlen(scope->date) != 8)
		return -1;
	for (i = 0; i < 8; i++) {
		if (!isdigit((unsigned char)scope->date[i]))
			return -1;
	}
	return 0;
}

static int signature_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++) {
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	}
	return 1;
}

/*
 * "AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=.."; the
 * three components in any order, separated by ',' and optional spaces.
 */
static int authorization_parse(const char *v, struct sigv4_scope *scope, struct buf *signed_hdrs)
{
	size_t alen = strlen(SIGV4_ALGORITHM);
	int have = 0;

	while (*v == ' ')
		v++;
	if (strncmp(v, SIGV4_ALGORITHM, alen) != 0 || v[alen] != ' ')
		return -1;
	v += alen;
	while (*v) {
		const char *comma, *eq;
		size_t len;

		while (*v == ' ' || *v == ',')
			v++;
		if (*v == '\0')
			break;
		comma = strchr(v, ',');
		len = comma ? (size_t)(comma - v) : strlen(v);
		while (len > 0 && v[len - 1] == ' ')
			len--;
		eq = memchr(v, '=', len);
		if (eq == NULL)
			return -1;
		if ((size_t)(eq - v) == 10 && memcmp(v, "Credential", 10) == 0) {
			if (credential_parse(eq + 1, len - 11, scope) < 0)
				return -1;
			have |= 1;
		} else if ((size_t)(eq - v) == 13 && memcmp(v, "SignedHeaders", 13) == 0) {
			buf_reset(signed_hdrs);
			if (buf_append(signed_hdrs, eq + 1, len - 14) < 0)
				return -1;
			have |= 2;
		} else if ((size_t)(eq - v) == 9 && memcmp(v, "Signature", 9) == 0) {
			if (field_copy(scope->signature, sizeof(scope->signature), eq + 1,
				    len - 10) < 0)
				return -1;
			have |= 4;
		} else {
			return -1;
		}
		v += len;
		while (*v == ' ')
			v++;
	}
	return have == 7 ? 0 : -1;
}

static int amz_date_parse(const char *s, time_t *t)
{
	struct tm tm;

	if (!amz_date_valid(s))
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		    &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return 0;
}

/* Whether the ';'-list has name. */
static int list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (*list) {
		const char *semi = strchr(list, ';');
		size_t len = semi ? (size_t)(semi - list) : strlen(list);

		if (len == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += len;
		if (*list == ';')
			list++;
	}
	return 0;
}

/* The decoded value of query parameter key (first occurrence); NULL if absent. */
static char *query_param(const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *p = query;

	if (query == NULL)
		return NULL;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			struct buf v = BUF_INIT;

			uri_decode(&v, p + klen + 1, len - klen - 1, 1);
			return buf_detach(&v);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

enum sigv4_result sigv4_verify(const struct sigv4_request *req, const char *access_key_id,
	const char *secret, time_t now, struct sigv4_scope *scope_out, struct err *e)
{
	struct sigv4_scope scope;
	struct buf signed_hdrs = BUF_INIT, creq = BUF_INIT, sts = BUF_INIT;
	const char *auth = sigv4_header_get(req, "authorization");
	const char *date_hdr, *payload_hash = req->payload_hash, *exclude = NULL;
	char *algorithm = NULL, *credential = NULL, *qdate = NULL, *expires = NULL;
	char *qsigned = NULL, *qsig = NULL;
	char expected[SIGV4_HEX_SIZE];
	enum sigv4_result r = SIGV4_MALFORMED;
	time_t t;
	long expiry = 0;

	memset(&scope, 0, sizeof(scope));
	if (auth == NULL) {
		algorithm = query_param(req->query, "X-Amz-Algorithm");
		if (algorithm == NULL) {
			err_set(e, "request is not signed: no authorization header");
			r = SIGV4_MISSING;
			goto out;
		}
		/* A presigned URL: everything comes from the query. */
		credential = query_param(req->query, "X-Amz-Credential");
		qdate = query_param(req->query, "X-Amz-Date");
		expires = query_param(req->query, "X-Amz-Expires");
		qsigned = query_param(req->query, "X-Amz-SignedHeaders");
		qsig = query_param(req->query, "X-Amz-Signature");
		if (strcmp(algorithm, SIGV4_ALGORITHM) != 0 || !credential || !qdate || !expires ||
			!qsigned || !qsig) {
			err_set(e, "presigned url lacks X-Amz-Credential, X-Amz-Date, "
				   "X-Amz-Expires, X-Amz-SignedHeaders or X-Amz-Signature");
			goto out;
		}
		if (credential_parse(credential, strlen(credential), &scope) < 0 ||
			field_copy(scope.signature, sizeof(scope.signature), qsig, strlen(qsig)) <
				0) {
			err_set(e, "malformed X-Amz-Credential or X-Amz-Signature");
			goto out;
		}
		{
			char *endp = NULL;

			expiry = strtol(expires, &endp, 10);
			if (*expires == '\0' || *endp != '\0' || expiry < 1 ||
				expiry > SIGV4_MAX_EXPIRES) {
				err_set(e, "X-Amz-Expires must be between 1 and %d, not '%.32s'",
					SIGV4_MAX_EXPIRES, expires);
				goto out;
			}
		}
		buf_appends(&signed_hdrs, qsigned);
		date_hdr = qdate;
		exclude = "X-Amz-Signature";
		if (req->s3_path_rules && sigv4_header_get(req, "x-amz-content-sha256") == NULL)
			payload_hash = "UNSIGNED-PAYLOAD";
	} else {
		if (authorization_parse(auth, &scope, &signed_hdrs) < 0) {
			err_set(e, "malformed authorization header: expected '" SIGV4_ALGORITHM
				   " Credential=<key>/<date>/<region>/<service>/aws4_request, "
				   "SignedHeaders=<names>, Signature=<hex>'");
			goto out;
		}
		date_hdr = sigv4_header_get(req, "x-amz-date");
		if (date_hdr == NULL)
			date_hdr = sigv4_header_get(req, "date");
		if (date_hdr == NULL) {
			err_set(e, "request has no x-amz-date header");
			goto out;
		}
	}
	if (!signature_valid(scope.signature)) {
		err_set(e, "signature is not 64 lower-case hex digits");
		goto out;
	}
	if (amz_date_parse(date_hdr, &t) < 0) {
		err_set(e, "invalid x-amz-date '%.32s': expected YYYYMMDDTHHMMSSZ", date_hdr);
		goto out;
	}
	if (memcmp(date_hdr, scope.date, 8) != 0) {
		err_set(e, "credential scope date '%s' is not the date of x-amz-date '%.16s'",
			scope.date, date_hdr);
		goto out;
	}
	memcpy(scope.amz_date, date_hdr, 16);
	scope.amz_date[16] = '\0';
	if (!list_has(buf_str(&signed_hdrs), "host")) {
		err_set(e, "the host header must be signed");
		goto out;
	}
	if (strcmp(scope.access_key_id, access_key_id) != 0) {
		err_set(e, "the access key id '%s' is not known here", scope.access_key_id);
		r = SIGV4_UNKNOWN_KEY;
		goto out;
	}
	if (expires) {
		if (now > t + expiry || t - now > SIGV4_MAX_SKEW) {
			err_set(e, "presigned url expired or not yet valid (signed at %s, "
				   "expires after %ld s)",
				scope.amz_date, expiry);
			r = SIGV4_EXPIRED;
			goto out;
		}
	} else if (t - now > SIGV4_MAX_SKEW || now - t > SIGV4_MAX_SKEW) {
		err_set(e, "request time %s is more than 15 minutes from the server time",
			scope.amz_date);
		r = SIGV4_SKEWED;
		goto out;
	}
	if (canonical_request_ex(req, signed_hdrs.data, exclude, payload_hash, &creq, NULL, e) <
		0)
		goto out;
	if (sigv4_string_to_sign(scope.amz_date, scope.region, scope.service, creq.data, &sts) <
		0) {
		err_set(e, "string to sign too long");
		goto out;
	}
	if (signature_compute(secret, scope.date, scope.region, scope.service, sts.data,
		    expected) < 0) {
		err_set(e, "hmac failed");
		goto out;
	}
	if (CRYPTO_memcmp(expected, scope.signature, 64) != 0) {
		err_set(e, "the request signature does not match; string to sign was '%.400s'",
			sts.data);
		r = SIGV4_MISMATCH;
		goto out;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name;

		/*
		 * The session token is the one exception: some services take
		 * it added after signing (the test suite's post-sts-header-after).
		 */
		if (strncasecmp(name, "x-amz-", 6) != 0 ||
			strcasecmp(name, "x-amz-security-token") == 0)
			continue;
		if (!list_has(buf_str(&signed_hdrs), name)) {
			err_set(e, "there were headers present in the request which were not signed:"
				   " '%.100s'", name);
			r = SIGV4_UNSIGNED_HEADERS;
			goto out;
		}
	}
	r = SIGV4_VALID;
out:
	if (scope_out)
		*scope_out = scope;
	free(algorithm);
	free(credential);
	free(qdate);
	free(expires);
	free(qsigned);
	free(qsig);
	buf_release(&signed_hdrs);
	buf_release(&creq);
	buf_release(&sts);
	return r;
}

int sigv4_chunk_signature(const char *secret, const struct sigv4_scope *scope,
	const char *previous_signature, const void *chunk, size_t len, char out[SIGV4_HEX_SIZE])
{
	struct buf sts = BUF_INIT;
	char empty[SIGV4_HEX_SIZE], hash[SIGV4_HEX_SIZE];
	int rc;

	sigv4_hash_hex("", 0, empty);
	sigv4_hash_hex(chunk ? chunk : "", chunk ? len : 0, hash);
	buf_appendf(&sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s/%s/%s/aws4_request\n%s\n%s\n%s",
		scope->amz_date, scope->date, scope->region, scope->service, previous_signature,
		empty, hash);
	rc = signature_compute(secret, scope->date, scope->region, scope->service, sts.data, out);
	buf_release(&sts);
	return rc;
}
