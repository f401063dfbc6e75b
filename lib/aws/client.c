/*
 * client.c: one AWS call: look up the service's model, serialise the input
 * with its protocol, resolve the endpoint and credentials, sign each
 * attempt, send it, retry what is worth retrying, parse the answer.
 *
 * What caliber sends matches what awscli (botocore) sends, header for
 * header where the header is signed: Host, X-Amz-Date, X-Amz-Security-Token,
 * Content-Type, X-Amz-Target, and for S3 X-Amz-Content-SHA256 (the body's
 * hash; caliber always signs the payload) and botocore's default CRC32
 * checksum (x-amz-checksum-crc32 with x-amz-sdk-checksum-algorithm) on the
 * operations whose model asks for a request checksum.
 */
#include "compat.h"

#include <ctype.h>
#include <pthread.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws/client.h"
#include "aws/client-internal.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/sigv4.h"

/*
 * The endpoint of the model's service: --endpoint-url when given, else what
 * endpoint.c resolves as awscli does (AWS_ENDPOINT_URL_<SERVICE>, profile,
 * public endpoint); the signing name and region come from there too.
 */
static int client_endpoint(const struct aws_client *c, const struct aws_model *m,
	struct client_endpoint *ep, struct err *e)
{
	const char *id = aws_model_str(m->metadata, "serviceId");
	struct aws_endpoint res = AWS_ENDPOINT_INIT;

	memset(ep, 0, sizeof(ep[0]));
	if (aws_endpoint_resolve(id ? id : m->service, c->region, c->profile, &res, e) < 0)
		return -1;
	snprintf(ep->signing_name, sizeof(ep->signing_name), "%s", res.signing_name);
	snprintf(ep->signing_region, sizeof(ep->signing_region), "%s", res.signing_region);
	ep->configured = res.configured;
	if (c->endpoint_url) {
		if (strncmp(c->endpoint_url, "http://", 7) && strncmp(c->endpoint_url, "https://", 8)) {
			aws_endpoint_release(&res);
			return err_usage(e, "endpoint URL '%s' is not http(s)", c->endpoint_url);
		}
		ep->url = xstrdup(c->endpoint_url);
		while (strlen(ep->url) > 8 && ep->url[strlen(ep->url) - 1] == '/')
			ep->url[strlen(ep->url) - 1] = '\0';
		/* as awscli with --endpoint-url: signed in the configured region */
		snprintf(ep->signing_region, sizeof(ep->signing_region), "%s", c->region);
		ep->configured = 1;
	} else {
		ep->url = res.url;
		res.url = NULL;
	}
	aws_endpoint_release(&res);
	return 0;
}

/* ------------------------------------------------------------------ */

int aws_client_new(const struct aws_client_options *o, struct aws_client **out, struct err *e)
{
	struct aws_client *c = xcalloc(1, sizeof(*c));
	struct aws_http_options ho = { 0, 0, 0, NULL };
	struct buf region = BUF_INIT;
	*out = NULL;
	if (o && o->region && *o->region) {
		if (!aws_region_valid(o->region)) {
			free(c);
			return err_usage(e, "invalid region '%s'", o->region);
		}
		buf_appends(&region, o->region);
	} else if (aws_region_resolve(o ? o->profile : NULL, &region, e) < 0) {
		buf_release(&region);
		free(c);
		return -1;
	}
	c->region = buf_detach(&region);
	c->profile = o && o->profile ? xstrdup(o->profile) : NULL;
	c->endpoint_url = o && o->endpoint_url ? xstrdup(o->endpoint_url) : NULL;
	c->max_attempts = o && o->max_attempts > 0 ? o->max_attempts : AWS_RETRY_MAX_ATTEMPTS;
	c->retry_base_ms = o && o->retry_base_ms > 0 ? o->retry_base_ms : 1000;
	c->ca_bundle = aws_ca_bundle(c->profile);
	ho.ca_bundle = c->ca_bundle;
	ho.timeout_ms = o ? o->timeout_ms : 0;
	c->http_opts = ho;
	c->http = aws_http_new(&c->http_opts);
	*out = c;
	return 0;
}

void aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	if (c->have_creds)
		aws_credentials_release(&c->creds);
	aws_http_free(c->http);
	free(c->region);
	free(c->profile);
	free(c->endpoint_url);
	free(c->ca_bundle);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

static uint32_t crc32_table[256];

static void crc32_init(void)
{
	uint32_t k, v;
	int j;

	for (k = 0; k < 256; k++) {
		v = k;
		for (j = 0; j < 8; j++)
			v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
		crc32_table[k] = v;
	}
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	size_t i;

	pthread_once(&once, crc32_init);
	crc = ~crc;
	for (i = 0; i < n; i++)
		crc = crc32_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * botocore checks the CRC32 that S3 returns with an object (asked for with
 * x-amz-checksum-mode); so does caliber, over the body in memory or in the
 * output file.  Composite checksums of multipart objects ("...-3") are not
 * checksums of the body and are left alone.
 */
int client_response_checksum_ok(const struct client_call *cc, const struct aws_response *resp,
	struct err *e)
{
	const char *want = aws_kv_get(&resp->headers, "x-amz-checksum-crc32");
	unsigned char chunk[65536], be[4];
	struct buf got = BUF_INIT;
	uint32_t crc = 0;
	FILE *f;
	size_t n;
	int ok;

	if (!cc->validate_response || resp->status < 200 || resp->status >= 300 || want == NULL ||
		strchr(want, '-'))
		return 0;
	if (resp->body_in_file) {
		f = fopen(cc->req.out_file, "rbe");
		if (f == NULL)
			return err_set(e, "unable to read '%s': %s", cc->req.out_file,
				strerror(errno));
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			crc = crc32_update(crc, chunk, n);
		fclose(f);
	} else {
		crc = crc32_update(crc, (const unsigned char *)buf_str(&resp->body), resp->body.len);
	}
	be[0] = (unsigned char)(crc >> 24);
	be[1] = (unsigned char)(crc >> 16);
	be[2] = (unsigned char)(crc >> 8);
	be[3] = (unsigned char)crc;
	aws_base64_encode(be, 4, &got);
	ok = !strcmp(got.data, want);
	buf_release(&got);
	if (ok)
		return 0;
	if (resp->body_in_file)
		unlink(cc->req.out_file);
	return err_set(e, "%s %s: the body's CRC32 does not match the x-amz-checksum-crc32 the "
			  "service sent ('%s'); the transfer was corrupted",
		cc->service, cc->op, want);
}

/*
 * The body's SHA-256 (hex) and, when wanted, checksum (base64), in one pass
 * over the body or its file.
 */
static int payload_digests(const struct aws_request *req, const char *algorithm,
	char sha_hex[SIGV4_HEX_SIZE], struct buf *checksum, struct err *e)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new(), *alt = NULL;
	unsigned char md[EVP_MAX_MD_SIZE], chunk[65536];
	unsigned int mdlen;
	uint32_t crc = 0;
	FILE *f = NULL;
	size_t n, i;
	int ret = -1;

	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	if (algorithm && !strcmp(algorithm, "SHA256")) {
		alt = EVP_MD_CTX_new();
		EVP_DigestInit_ex(alt, EVP_sha256(), NULL);
	} else if (algorithm && !strcmp(algorithm, "SHA1")) {
		alt = EVP_MD_CTX_new();
		EVP_DigestInit_ex(alt, EVP_sha1(), NULL);
	}
	if (req->body_file) {
		f = fopen(req->body_file, "rbe");
		if (f == NULL) {
			err_set(e, "unable to read '%s': %s", req->body_file, strerror(errno));
			goto out;
		}
		long long left = req->body_length;

		if (fseeko(f, (off_t)req->body_offset, SEEK_SET) < 0) {
			err_set(e, "unable to read '%s': %s", req->body_file, strerror(errno));
			goto out;
		}
		while ((n = fread(chunk, 1,
				left >= 0 && (long long)sizeof(chunk) > left ? (size_t)left :
									      sizeof(chunk),
				f)) > 0) {
			if (left >= 0)
				left -= (long long)n;
			EVP_DigestUpdate(sha, chunk, n);
			if (alt)
				EVP_DigestUpdate(alt, chunk, n);
			crc = crc32_update(crc, chunk, n);
		}
		if (ferror(f)) {
			err_set(e, "unable to read '%s': %s", req->body_file, strerror(errno));
			goto out;
		}
	} else {
		EVP_DigestUpdate(sha, req->body.data ? req->body.data : "", req->body.len);
		if (alt)
			EVP_DigestUpdate(alt, req->body.data ? req->body.data : "", req->body.len);
		crc = crc32_update(crc, (const unsigned char *)(req->body.data ? req->body.data : ""),
			req->body.len);
	}
	EVP_DigestFinal_ex(sha, md, &mdlen);
	for (i = 0; i < mdlen; i++)
		snprintf(sha_hex + 2 * i, 3, "%02x", md[i]);
	if (algorithm && !strcmp(algorithm, "CRC32")) {
		unsigned char be[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
			(unsigned char)(crc >> 8), (unsigned char)crc };

		aws_base64_encode(be, 4, checksum);
	} else if (alt) {
		EVP_DigestFinal_ex(alt, md, &mdlen);
		aws_base64_encode(md, mdlen, checksum);
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(alt);
	return ret;
}

/* botocore's flexible checksums: which algorithm, if any, this request carries. */
static int request_checksum(const struct aws_model *m, const json_t *op, struct aws_request *req,
	int *validate, struct err *e)
{
	const json_t *hc = json_object_get(op, "httpChecksum");
	const char *member = aws_model_str(hc, "requestAlgorithmMember");
	const json_t *shape = aws_model_ref(m, json_object_get(op, "input"));
	const char *header = NULL, *algorithm;
	struct buf sum = BUF_INIT;
	char sha[SIGV4_HEX_SIZE], *name;
	size_t i;

	/* botocore asks for the response checksum on GetObject (x-amz-checksum-mode) */
	member = aws_model_str(hc, "requestValidationModeMember");
	if (member) {
		header = aws_model_str(json_object_get(json_object_get(shape, "members"), member),
			"locationName");
		if (header && !aws_kv_get(&req->headers, header))
			aws_kv_set(&req->headers, header, "ENABLED");
		*validate = 1;
		header = NULL;
	}
	member = aws_model_str(hc, "requestAlgorithmMember");
	for (i = 0; i < req->headers.n; i++)
		if (!strncasecmp(req->headers.v[i].name, "x-amz-checksum-", 15) &&
			strcasecmp(req->headers.v[i].name, "x-amz-checksum-mode"))
			return 0;
	if (!member && !aws_model_bool(hc, "requestChecksumRequired") &&
		!aws_model_bool(op, "httpChecksumRequired"))
		return 0;
	if (member)
		header = aws_model_str(json_object_get(json_object_get(shape, "members"), member),
			"locationName");
	algorithm = header ? aws_kv_get(&req->headers, header) : NULL;
	if (algorithm == NULL) {
		algorithm = "CRC32";
		if (header)
			aws_kv_set(&req->headers, header, "CRC32");
	}
	if (strcmp(algorithm, "CRC32") && strcmp(algorithm, "SHA256") && strcmp(algorithm, "SHA1"))
		return err_usage(e, "checksum algorithm '%s' is not supported; use CRC32, SHA1 or "
				    "SHA256", algorithm);
	if (payload_digests(req, algorithm, sha, &sum, e) < 0)
		return -1;
	name = xasprintf("x-amz-checksum-%s", algorithm);
	for (i = 15; name[i]; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	aws_kv_set(&req->headers, name, buf_str(&sum));
	free(name);
	buf_release(&sum);
	return 0;
}

/* Whether an S3 bucket name can be a DNS label of a virtual-hosted URL. */
static int s3_virtual_host_ok(const char *bucket, int https)
{
	const char *p;
	size_t n = strlen(bucket);

	if (n < 3 || n > 63)
		return 0;
	for (p = bucket; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
			    (*p == '.' && !https)))
			return 0;
	return bucket[0] != '-' && bucket[n - 1] != '-';
}

/*
 * Route 53 returns ids as "/hostedzone/Z1", "/change/C1"; botocore accepts
 * them back in that form and strips the prefix (fix_route53_ids).
 */
static json_t *route53_fix_ids(const struct aws_model *m, const char *op, const json_t *input)
{
	const json_t *shape = aws_model_ref(m, json_object_get(aws_model_operation(m, op), "input"));
	static const char *const prefixes[] = { "/hostedzone/", "/change/", "/delegationset/" };
	json_t *copy = json_deep_copy(input), *ref;
	const char *name;

	json_object_foreach(json_object_get(shape, "members"), name, ref) {
		const char *sn = aws_model_str(ref, "shape");
		const char *v = json_string_value(json_object_get(copy, name));
		struct buf b = BUF_INIT;
		size_t i;

		if (v == NULL || sn == NULL ||
			(strcmp(sn, "ResourceId") && strcmp(sn, "DelegationSetId") &&
				strcmp(sn, "ChangeId")))
			continue;
		buf_appends(&b, v);
		for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
			char *hit;

			while ((hit = strstr(b.data, prefixes[i]))) {
				size_t n = strlen(prefixes[i]);

				memmove(hit, hit + n, strlen(hit + n) + 1);
				b.len -= n;
			}
		}
		json_object_set_new(copy, name, json_string(b.data));
		buf_release(&b);
	}
	return copy;
}

void client_call_release(struct client_call *cc)
{
	aws_request_release(&cc->req);
	free(cc->url);
	free(cc->host);
	free(cc->service);
	free(cc->op);
	memset(cc, 0, sizeof(*cc));
}

int client_call_prepare(struct aws_client *c, const char *service, const char *op,
	const json_t *input, const struct aws_call_options *opts, struct client_call *cc,
	struct err *e)
{
	const struct aws_model *m;
	struct client_endpoint ep;
	json_t *o, *empty = NULL;
	struct buf url = BUF_INIT;
	const char *scheme_end, *host_start, *host_end, *path_part;
	int ret = -1;

	memset(cc, 0, sizeof(*cc));
	memset(&ep, 0, sizeof(ep));
	aws_request_init(&cc->req);
	m = aws_model_get(service, e);
	if (m == NULL)
		return -1;
	cc->model = m;
	cc->service = xstrdup(service);
	cc->op = xstrdup(op);
	if (input == NULL)
		input = empty = json_object();
	/*
	 * botocore asks S3 list operations for URL-encoded keys (a key may hold
	 * characters XML 1.0 cannot carry) and decodes them in the output.
	 */
	if (!strcmp(service, "s3") && !strcmp(op, "ListObjectsV2") &&
		json_is_object(input) && !json_object_get(input, "EncodingType")) {
		json_t *copy = json_deep_copy(input);

		json_object_set_new(copy, "EncodingType", json_string("url"));
		json_decref(empty);
		input = empty = copy;
		cc->decode_keys = 1;
	}
	if (!strcmp(service, "route53") && json_is_object(input)) {
		json_t *copy = route53_fix_ids(m, op, input);

		json_decref(empty);
		input = empty = copy;
	}
	if (proto_serialize(m, op, input, &cc->req, e) < 0)
		goto out;
	o = aws_model_operation(m, op);
	if (opts && opts->body_file) {
		const json_t *shape = aws_model_ref(m, json_object_get(o, "input"));
		const char *payload = aws_model_str(shape, "payload");

		const json_t *pref =
			payload ? json_object_get(json_object_get(shape, "members"), payload) : NULL;

		if (pref == NULL || (!aws_model_bool(pref, "streaming") &&
					    !aws_model_bool(aws_model_ref(m, pref), "streaming"))) {
			err_usage(e, "%s %s takes no streaming body: --body-file does not apply",
				service, op);
			goto out;
		}
		if (cc->req.body.len) {
			err_usage(e, "give the body either in the input or as a file, not both");
			goto out;
		}
		cc->req.body_file = xstrdup(opts->body_file);
		cc->req.body_offset = opts->body_offset;
		cc->req.body_length = opts->body_length > 0 ? opts->body_length : -1;
		cc->req.has_body = 1;
	}
	if (opts && opts->out_file)
		cc->req.out_file = xstrdup(opts->out_file);
	if (client_endpoint(c, m, &ep, e) < 0)
		goto out;
	snprintf(cc->signing_name, sizeof(cc->signing_name), "%s", ep.signing_name);
	snprintf(cc->signing_region, sizeof(cc->signing_region), "%s", ep.signing_region);
	cc->s3 = !strcmp(ep.signing_name, "s3");

	/* split the endpoint URL: scheme://host[:port][/base-path] */
	scheme_end = strstr(ep.url, "://");
	host_start = scheme_end + 3;
	host_end = host_start + strcspn(host_start, "/");
	path_part = host_end;
	cc->host = xasprintf("%s%.*s", cc->req.host_prefix ? cc->req.host_prefix : "",
		(int)(host_end - host_start), host_start);
	if (cc->s3 && !ep.configured) {
		const char *bucket = json_string_value(json_object_get(input, "Bucket"));
		struct buf enc = BUF_INIT;

		if (bucket && s3_virtual_host_ok(bucket, !strncmp(ep.url, "https", 5))) {
			const char *path = cc->req.path.data;

			aws_uri_encode(bucket, strlen(bucket), 0, &enc);
			if (!strncmp(path + 1, enc.data, enc.len) &&
				(path[1 + enc.len] == '\0' || path[1 + enc.len] == '/')) {
				struct buf np = BUF_INIT;
				char *h = cc->host;

				buf_appends(&np, path[1 + enc.len] ? path + 1 + enc.len : "/");
				buf_release(&cc->req.path);
				cc->req.path = np;
				cc->host = xasprintf("%s.%s", bucket, h);
				free(h);
			}
		}
		buf_release(&enc);
	}
	/* drop a default port from the signed Host, as libcurl does on the wire */
	if (!strncmp(ep.url, "https://", 8) && strlen(cc->host) > 4 &&
		!strcmp(cc->host + strlen(cc->host) - 4, ":443"))
		cc->host[strlen(cc->host) - 4] = '\0';
	if (!strncmp(ep.url, "http://", 7) && strlen(cc->host) > 3 &&
		!strcmp(cc->host + strlen(cc->host) - 3, ":80"))
		cc->host[strlen(cc->host) - 3] = '\0';
	buf_append(&url, ep.url, (size_t)(scheme_end + 3 - ep.url));
	buf_appends(&url, cc->host);
	if (*path_part)
		buf_appends(&url, path_part);
	buf_appends(&url, cc->req.path.data);
	if (cc->req.query.len) {
		buf_appendc(&url, '?');
		buf_append(&url, cc->req.query.data, cc->req.query.len);
	}
	cc->url = buf_detach(&url);
	if (*path_part) {
		struct buf full = BUF_INIT;

		buf_appends(&full, path_part);
		buf_appends(&full, cc->req.path.data);
		buf_release(&cc->req.path);
		cc->req.path = full;
	}
	if (cc->s3 && request_checksum(m, o, &cc->req, &cc->validate_response, e) < 0)
		goto out;
	if (payload_digests(&cc->req, NULL, cc->payload_hash, NULL, e) < 0)
		goto out;
	cc->streaming_output = cc->req.out_file != NULL;
	ret = 0;
out:
	free(ep.url);
	json_decref(empty);
	if (ret < 0)
		client_call_release(cc);
	return ret;
}

int client_ensure_credentials(struct aws_client *c, struct err *e)
{
	/* temporary credentials are fetched again a few minutes before they expire */
	if (c->have_creds && (c->creds.expiration == 0 || c->creds.expiration > time(NULL) + 300))
		return 0;
	if (c->have_creds) {
		aws_credentials_release(&c->creds);
		c->have_creds = 0;
	}
	if (aws_credentials_resolve(c->profile, &c->creds, e) < 0)
		return -1;
	c->have_creds = 1;
	return 0;
}

int client_call_sign(struct aws_client *c, struct client_call *cc, struct aws_kv_list *headers,
	struct err *e)
{
	struct sigv4_header *sh = NULL;
	struct sigv4_request sr;
	struct buf auth = BUF_INIT;
	char amz_date[17];
	size_t i;
	int ret = -1;

	if (client_ensure_credentials(c, e) < 0)
		return -1;
	memset(headers, 0, sizeof(*headers));
	sigv4_amz_date(time(NULL), amz_date);
	aws_kv_add(headers, "Host", cc->host);
	for (i = 0; i < cc->req.headers.n; i++)
		aws_kv_add(headers, cc->req.headers.v[i].name, cc->req.headers.v[i].value);
	aws_kv_add(headers, "X-Amz-Date", amz_date);
	if (c->creds.session_token)
		aws_kv_add(headers, "X-Amz-Security-Token", c->creds.session_token);
	if (cc->s3)
		aws_kv_add(headers, "X-Amz-Content-SHA256", cc->payload_hash);
	sh = xcalloc(headers->n, sizeof(*sh));
	for (i = 0; i < headers->n; i++) {
		sh[i].name = headers->v[i].name;
		sh[i].value = headers->v[i].value;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = cc->req.method;
	sr.path = cc->req.path.data;
	sr.query = cc->req.query.data;
	sr.headers = sh;
	sr.n_headers = headers->n;
	sr.payload_hash = cc->payload_hash;
	sr.s3_path_rules = cc->s3;
	if (sigv4_sign(&sr, c->creds.access_key_id, c->creds.secret_access_key,
		    cc->signing_region, cc->signing_name, amz_date, &auth, e) < 0)
		goto out;
	aws_kv_add(headers, "Authorization", auth.data);
	aws_kv_add(headers, "User-Agent", "caliber/1.0");
	ret = 0;
out:
	free(sh);
	buf_release(&auth);
	if (ret < 0)
		aws_kv_release(headers);
	return ret;
}

static void url_decode_member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	struct buf b = BUF_INIT;

	if (s == NULL)
		return;
	for (; *s; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], 0 };

			buf_appendc(&b, (char)strtol(hex, NULL, 16));
			s += 2;
		} else if (*s == '+') {
			buf_appendc(&b, ' ');
		} else {
			buf_appendc(&b, *s);
		}
	}
	json_object_set_new(obj, key, json_stringn(buf_str(&b), b.len));
	buf_release(&b);
}

void client_decode_s3_keys(json_t *out)
{
	json_t *item;
	size_t i;

	url_decode_member(out, "Delimiter");
	url_decode_member(out, "Prefix");
	url_decode_member(out, "StartAfter");
	json_array_foreach(json_object_get(out, "Contents"), i, item)
		url_decode_member(item, "Key");
	json_array_foreach(json_object_get(out, "CommonPrefixes"), i, item)
		url_decode_member(item, "Prefix");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int aws_client_call_ex(struct aws_client *c, const char *service, const char *op,
	const json_t *input, const struct aws_call_options *opts, json_t **out,
	struct aws_error *ae, struct err *e)
{
	struct client_call cc;
	int attempt, ret = -1, transient;

	*out = NULL;
	memset(ae, 0, sizeof(*ae));
	if (client_call_prepare(c, service, op, input, opts, &cc, e) < 0)
		return -1;
	for (attempt = 1; attempt <= c->max_attempts; attempt++) {
		struct aws_kv_list headers;
		struct aws_request view;
		struct aws_response resp;
		int r;

		if (client_call_sign(c, &cc, &headers, e) < 0)
			break;
		view = cc.req;
		view.headers = headers;
		if (aws_debug_enabled())
			aws_debug_request(cc.url, &view);
		r = aws_http_perform(c->http, cc.url, &view, &resp, &transient, e);
		aws_kv_release(&headers);
		if (r < 0) {
			aws_response_release(&resp);
			if (aws_debug_enabled())
				fprintf(stderr, "caliber: debug: aws: attempt %d failed: %s\n",
					attempt, e->msg);
			if (transient && attempt < c->max_attempts) {
				sleep_ms(aws_retry_delay_ms(attempt, c->retry_base_ms));
				continue;
			}
			err_prefix(e, "%s %s to '%s'", service, op, cc.url);
			ret = -1;
			break;
		}
		if (aws_debug_enabled())
			aws_debug_response(&resp, attempt);
		aws_error_release(ae);
		memset(ae, 0, sizeof(*ae));
		if (client_response_checksum_ok(&cc, &resp, e) < 0) {
			aws_response_release(&resp);
			ret = -1;
			break;
		}
		ret = proto_parse(cc.model, op, &resp, out, ae, e);
		if (ret == 0 && cc.decode_keys)
			client_decode_s3_keys(*out);
		aws_response_release(&resp);
		if (ret == 1 && aws_retry_should(ae->status, ae->code) &&
			attempt < c->max_attempts) {
			sleep_ms(aws_retry_delay_ms(attempt, c->retry_base_ms));
			continue;
		}
		break;
	}
	client_call_release(&cc);
	return ret;
}

int aws_client_call(struct aws_client *c, const char *service, const char *op,
	const json_t *input, json_t **out, struct aws_error *ae, struct err *e)
{
	return aws_client_call_ex(c, service, op, input, NULL, out, ae, e);
}
