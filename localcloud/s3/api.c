/*
 * s3/api.c: Amazon S3 (REST-XML, path-style and virtual-hosted) on the
 * object store in objstore.c: buckets, objects with MD5 ETags, ranges and
 * conditional reads, ListObjectsV2 paging, DeleteObjects, CopyObject and
 * multipart uploads.  Bodies arrive in a file (LC_BODY_FILE), are decoded
 * from aws-chunked when the SDK sent that, and their Content-MD5 and
 * x-amz-checksum-* values are checked before the object becomes visible.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/caliberd.h"
#include "core/objstore.h"
#include "core/reply.h"
#include "core/router.h"
#include "wire.h"
#include "internal.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static struct objstore *s3_store;

struct objstore *s3_objstore(void)
{
	return s3_store;
}

int s3_init(struct lc_server *srv, struct err *e)
{
	char *dir = xasprintf("%s/s3", srv->objects_dir);
	int rc = objstore_open(dir, &s3_store, e);

	free(dir);
	return rc;
}

void s3_shutdown(void)
{
	objstore_close(s3_store);
	s3_store = NULL;
}

/* An objstore status as S3's error reply. */
static int s3_fail(struct lc_request *req, struct lc_response *res, enum objstore_status st,
	const struct err *e, const char *resource)
{
	const char *code = objstore_status_code(st);
	int http = objstore_status_http(st);

	switch (st) {
	case OBJSTORE_NO_SUCH_BUCKET:
		return lc_reply_error(req, res, http, code, "The specified bucket does not exist");
	case OBJSTORE_NO_SUCH_KEY:
		return lc_reply_error(req, res, http, code, "The specified key does not exist.");
	case OBJSTORE_NO_SUCH_UPLOAD:
		return lc_reply_error(req, res, http, code, "The specified upload does not exist. "
			"The upload ID may be invalid, or the upload may have been aborted or "
			"completed.");
	case OBJSTORE_BUCKET_EXISTS:
		return lc_reply_error(req, res, http, code, "Your previous request to create the "
			"named bucket succeeded and you already own it.");
	case OBJSTORE_BUCKET_NOT_EMPTY:
		return lc_reply_error(req, res, http, code,
			"The bucket you tried to delete is not empty");
	case OBJSTORE_INVALID_BUCKET_NAME:
		return lc_reply_error(req, res, http, code, "The specified bucket is not valid.");
	case OBJSTORE_KEY_TOO_LONG:
		return lc_reply_error(req, res, http, code, "Your key is too long");
	case OBJSTORE_INVALID_PART:
		return lc_reply_error(req, res, http, code, "One or more of the specified parts "
			"could not be found.  The part may not have been uploaded, or the specified "
			"entity tag may not match the part's entity tag.");
	case OBJSTORE_INVALID_PART_ORDER:
		return lc_reply_error(req, res, http, code,
			"The list of parts was not in ascending order.");
	case OBJSTORE_ENTITY_TOO_SMALL:
		return lc_reply_error(req, res, http, code,
			"Your proposed upload is smaller than the minimum allowed object size.");
	case OBJSTORE_INVALID_ARGUMENT:
		return lc_reply_error(req, res, http, code, "%s", e && e->msg[0] ? e->msg :
			"Invalid argument");
	default:
		lc_log("s3: %s %s: %s", req->operation, resource ? resource : "",
			e ? e->msg : "internal error");
		return lc_reply_error(req, res, 500, "InternalError",
			"We encountered an internal error. Please try again.");
	}
}

static const char *bucket_of(const struct lc_request *req)
{
	const char *b = lc_request_path_param(req, "Bucket");

	return b ? b : "";
}

static const char *key_of(const struct lc_request *req)
{
	const char *k = lc_request_path_param(req, "Key");

	return k ? k : "";
}

static void http_date(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int64_t parse_http_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	return (int64_t)timegm(&tm);
}

static void iso_time(int64_t ms, char out[32])
{
	lc_time_iso8601((double)ms / 1000.0, out);
}

/* Start an S3 XML document. */
static void xml_open(struct buf *b, const char *root)
{
	buf_init(b);
	buf_appendf(b, S3_XML_HEAD "<%s xmlns=\"" S3_XMLNS "\">", root);
}

static void xml_elem(struct buf *b, const char *name, const char *text)
{
	buf_appendf(b, "<%s>", name);
	lc_xml_escape(b, text);
	buf_appendf(b, "</%s>", name);
}

static int xml_send(struct lc_request *req, struct lc_response *res, struct buf *b, int status)
{
	int rc;

	lc_reply_content_type(res, "application/xml");
	rc = lc_reply_xml(req, res, status, b->data);
	buf_release(b);
	return rc;
}

/* ---- buckets ---- */

int s3_list_buckets(struct lc_request *req, struct lc_response *res)
{
	struct objstore_bucket *b = NULL;
	struct err e = ERR_INIT;
	struct buf x;
	size_t n = 0;

	if (objstore_bucket_list(s3_store, &b, &n, &e) < 0)
		return s3_fail(req, res, OBJSTORE_ERROR, &e, NULL);
	xml_open(&x, "ListAllMyBucketsResult");
	buf_appends(&x, "<Owner><ID>" LOCALCLOUD_ACCOUNT_ID "</ID><DisplayName>caliber"
		"</DisplayName></Owner><Buckets>");
	for (size_t i = 0; i < n; i++) {
		char when[32];

		iso_time(b[i].created_ms, when);
		buf_appends(&x, "<Bucket>");
		xml_elem(&x, "Name", b[i].name);
		xml_elem(&x, "CreationDate", when);
		buf_appends(&x, "</Bucket>");
	}
	buf_appends(&x, "</Buckets></ListAllMyBucketsResult>");
	objstore_buckets_release(b, n);
	return xml_send(req, res, &x, 200);
}

int s3_create_bucket(struct lc_request *req, struct lc_response *res)
{
	const char *bucket = bucket_of(req);
	char *location = NULL, *path;
	struct err e = ERR_INIT;
	enum objstore_status st;
	const char *region = req->region[0] ? req->region : LOCALCLOUD_DEFAULT_REGION;

	if (req->body.len > 0) {
		if (s3_parse_create_bucket(req->body.data, req->body.len, &location, &e) < 0)
			return lc_reply_error(req, res, 400, "MalformedXML", "The XML you provided "
				"was not well-formed or did not validate against our published "
				"schema");
		if (location && *location)
			region = location;
	}
	st = objstore_bucket_create(s3_store, bucket, region, &e);
	/* us-east-1 answers 200 to its owner creating a bucket again (legacy behaviour). */
	if (st == OBJSTORE_BUCKET_EXISTS && strcmp(region, "us-east-1") == 0)
		st = OBJSTORE_OK;
	free(location);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, bucket);
	/* lc_reply_* start a fresh response: headers go after */
	lc_reply_xml(req, res, 200, NULL);
	path = xasprintf("/%s", bucket);
	lc_reply_header(res, "Location", path);
	free(path);
	return 0;
}

int s3_delete_bucket(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	enum objstore_status st = objstore_bucket_delete(s3_store, bucket_of(req), &e);

	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, bucket_of(req));
	return lc_reply_xml(req, res, 204, NULL);
}

int s3_head_bucket(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	char *region = NULL;
	enum objstore_status st = objstore_bucket_head(s3_store, bucket_of(req), &region, &e);

	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, bucket_of(req));
	lc_reply_xml(req, res, 200, NULL);
	lc_reply_header(res, "x-amz-bucket-region", region);
	free(region);
	return 0;
}

int s3_get_bucket_location(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	char *region = NULL;
	enum objstore_status st = objstore_bucket_head(s3_store, bucket_of(req), &region, &e);
	struct buf x;

	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, bucket_of(req));
	buf_init(&x);
	buf_appends(&x, S3_XML_HEAD "<LocationConstraint xmlns=\"" S3_XMLNS "\">");
	/* us-east-1 is the empty constraint */
	if (strcmp(region, "us-east-1") != 0)
		lc_xml_escape(&x, region);
	buf_appends(&x, "</LocationConstraint>");
	free(region);
	return xml_send(req, res, &x, 200);
}

/* ---- listing ---- */

static void xml_key(struct buf *b, const char *name, const char *value, int url)
{
	buf_appendf(b, "<%s>", name);
	if (url) {
		struct buf enc;

		buf_init(&enc);
		s3_url_encode(&enc, value);
		lc_xml_escape(b, enc.data);
		buf_release(&enc);
	} else {
		lc_xml_escape(b, value);
	}
	buf_appendf(b, "</%s>", name);
}

static int parse_max(const char *s, int dflt, int *out)
{
	char *end;
	long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		return -1;
	*out = v > dflt ? dflt : (int)v;
	return 0;
}

/* ListObjectsV2, and the original ListObjects when there is no list-type=2. */
int s3_list_objects(struct lc_request *req, struct lc_response *res)
{
	const char *bucket = bucket_of(req);
	const char *v2 = lc_request_query(req, "list-type");
	const char *enc = lc_request_query(req, "encoding-type");
	const char *token = lc_request_query(req, "continuation-token");
	const char *marker = lc_request_query(req, "marker");
	struct objstore_list_params p;
	struct objstore_list l;
	struct err e = ERR_INIT;
	enum objstore_status st;
	int url, is_v2 = v2 != NULL && strcmp(v2, "2") == 0;
	struct buf x;
	char *v1_last = NULL;

	memset(&p, 0, sizeof(p));
	if (enc && strcmp(enc, "url") != 0)
		return lc_reply_error(req, res, 400, "InvalidArgument", "Invalid Encoding Method "
			"specified in Request");
	url = enc != NULL;
	if (parse_max(lc_request_query(req, "max-keys"), 1000, &p.max_keys) < 0)
		return lc_reply_error(req, res, 400, "InvalidArgument",
			"Provided max-keys not an integer or within integer range");
	p.prefix = lc_request_query(req, "prefix");
	p.delimiter = lc_request_query(req, "delimiter");
	if (is_v2) {
		p.start_after = lc_request_query(req, "start-after");
		p.marker = token;
		if (token && *token == '\0')
			return lc_reply_error(req, res, 400, "InvalidArgument",
				"The continuation token provided is incorrect");
	} else {
		p.start_after = marker;
	}
	st = objstore_list(s3_store, bucket, &p, &l, &e);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, bucket);
	xml_open(&x, "ListBucketResult");
	xml_elem(&x, "Name", bucket);
	xml_key(&x, "Prefix", p.prefix ? p.prefix : "", url);
	if (is_v2) {
		if (token)
			xml_elem(&x, "ContinuationToken", token);
		if (p.start_after)
			xml_key(&x, "StartAfter", p.start_after, url);
		buf_appendf(&x, "<KeyCount>%zu</KeyCount>", l.n_objects + l.n_prefixes);
	} else {
		xml_key(&x, "Marker", marker ? marker : "", url);
	}
	buf_appendf(&x, "<MaxKeys>%d</MaxKeys>", p.max_keys);
	if (p.delimiter && *p.delimiter)
		xml_key(&x, "Delimiter", p.delimiter, url);
	if (url)
		buf_appends(&x, "<EncodingType>url</EncodingType>");
	buf_appendf(&x, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
	if (l.truncated && is_v2)
		xml_elem(&x, "NextContinuationToken", l.next_marker);
	for (size_t i = 0; i < l.n_objects; i++) {
		const struct objstore_object *o = &l.objects[i];
		char when[32];

		iso_time(o->mtime_ms, when);
		buf_appends(&x, "<Contents>");
		xml_key(&x, "Key", o->key, url);
		xml_elem(&x, "LastModified", when);
		buf_appendf(&x, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>", o->etag,
			(unsigned long long)o->size);
		if (!is_v2 || lc_request_query(req, "fetch-owner"))
			buf_appends(&x, "<Owner><ID>" LOCALCLOUD_ACCOUNT_ID "</ID><DisplayName>"
				"caliber</DisplayName></Owner>");
		buf_appends(&x, "<StorageClass>STANDARD</StorageClass></Contents>");
	}
	for (size_t i = 0; i < l.n_prefixes; i++) {
		buf_appends(&x, "<CommonPrefixes>");
		xml_key(&x, "Prefix", l.prefixes[i], url);
		buf_appends(&x, "</CommonPrefixes>");
	}
	/* ListObjects (v1) gives NextMarker only with a delimiter: the last key or prefix. */
	if (!is_v2 && l.truncated && p.delimiter && *p.delimiter) {
		const char *lk = l.n_objects ? l.objects[l.n_objects - 1].key : NULL;
		const char *lp = l.n_prefixes ? l.prefixes[l.n_prefixes - 1] : NULL;

		v1_last = xstrdup(lp && (!lk || strcmp(lp, lk) > 0) ? lp : lk);
		xml_key(&x, "NextMarker", v1_last, url);
	}
	buf_appends(&x, "</ListBucketResult>");
	free(v1_last);
	objstore_list_release(&l);
	return xml_send(req, res, &x, 200);
}

/* ---- receiving bodies ---- */

/* Which checksums the request declares: headers, the trailer, the SDK's algorithm. */
static unsigned declared_checksums(const struct lc_request *req)
{
	unsigned flags = 0;
	const char *t = lc_request_header(req, "x-amz-trailer");
	const char *algo = lc_request_header(req, "x-amz-sdk-checksum-algorithm");

	for (size_t i = 0; i < req->n_headers; i++)
		flags |= s3_checksum_flag(req->headers[i].name);
	if (t)
		flags |= s3_checksum_flag(t);
	if (algo) {
		char *h = xasprintf("x-amz-checksum-%s", algo);

		flags |= s3_checksum_flag(h);
		free(h);
	}
	return flags;
}

static int sink_writer(void *arg, const void *data, size_t len, struct err *e)
{
	return objstore_writer_write(arg, data, len, e);
}

/* The seed signature and scope of a signed streaming body, from the Authorization header. */
static int chunk_signing(const struct lc_request *req, struct s3_chunk_signing *sig)
{
	const char *authz = lc_request_header(req, "Authorization");
	const char *date = lc_request_header(req, "x-amz-date");
	const char *cred, *sg;
	char scope_date[9], region[64], service[64];

	if (authz == NULL || date == NULL || strlen(date) != 16)
		return -1;
	cred = strstr(authz, "Credential=");
	sg = strstr(authz, "Signature=");
	if (cred == NULL || sg == NULL)
		return -1;
	cred = strchr(cred, '/');
	if (cred == NULL || sscanf(cred + 1, "%8[0-9]/%63[^/]/%63[^/]/", scope_date, region,
			service) != 3)
		return -1;
	memset(sig, 0, sizeof(*sig));
	snprintf(sig->amz_date, sizeof(sig->amz_date), "%s", date);
	snprintf(sig->scope, sizeof(sig->scope), "%s/%s/%s/aws4_request", scope_date, region,
		service);
	if (strspn(sg + 10, "0123456789abcdef") < 64)
		return -1;
	memcpy(sig->seed_signature, sg + 10, 64);
	sig->seed_signature[64] = '\0';
	s3_signing_key(req->srv->creds.secret_access_key, scope_date, region, service, sig->key);
	return 0;
}

/*
 * Turn the received body into a writer: decoded from aws-chunked when the
 * request says so, otherwise the received file itself.  Then check every
 * digest the client declared.  Returns the writer, or NULL with the error
 * reply in res.
 */
static struct objstore_writer *receive_body(struct lc_request *req, struct lc_response *res)
{
	const char *sha = lc_request_header(req, "x-amz-content-sha256");
	const char *cenc = lc_request_header(req, "Content-Encoding");
	const char *md5 = lc_request_header(req, "Content-MD5");
	const char *decoded_len = lc_request_header(req, "x-amz-decoded-content-length");
	int chunked = (sha && strncmp(sha, "STREAMING-", 10) == 0) ||
		(cenc && strstr(cenc, "aws-chunked"));
	unsigned flags = declared_checksums(req);
	struct objstore_writer *w = NULL;
	struct s3_chunked dec;
	struct err e = ERR_INIT;
	const struct objstore_digests *d;
	char trailer_value[128] = "";
	const char *trailer = lc_request_header(req, "x-amz-trailer");

	if (req->body_path == NULL) {
		lc_reply_error(req, res, 500, "InternalError", "no body file");
		return NULL;
	}
	if (!chunked) {
		if (objstore_writer_adopt(s3_store, req->body_path, flags, &w, &e) < 0) {
			s3_fail(req, res, OBJSTORE_ERROR, &e, NULL);
			return NULL;
		}
		req->body_path_taken = 1;
		unlink(req->body_path);
	} else {
		struct s3_chunk_signing sig;
		int signed_chunks = sha && strncmp(sha, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0;
		char *buf = NULL;
		int fd = -1, ok = 0;

		if (signed_chunks && chunk_signing(req, &sig) < 0) {
			lc_reply_error(req, res, 403, "SignatureDoesNotMatch", "The request signature "
				"we calculated does not match the signature you provided.");
			return NULL;
		}
		if (objstore_writer_open(s3_store, flags, &w, &e) < 0) {
			s3_fail(req, res, OBJSTORE_ERROR, &e, NULL);
			return NULL;
		}
		s3_chunked_init(&dec, signed_chunks ? &sig : NULL);
		OPENSSL_cleanse(&sig, sizeof(sig));
		fd = open(req->body_path, O_RDONLY | O_CLOEXEC);
		buf = xmalloc(1 << 16);
		while (fd >= 0) {
			ssize_t k = read(fd, buf, 1 << 16);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				break;
			if (k == 0) {
				ok = s3_chunked_finish(&dec, &e) == 0;
				break;
			}
			if (s3_chunked_feed(&dec, buf, (size_t)k, sink_writer, w, &e) < 0)
				break;
		}
		if (fd >= 0)
			close(fd);
		free(buf);
		if (ok && trailer && s3_chunked_trailer(&dec, trailer, trailer_value,
				sizeof(trailer_value)) == NULL)
			trailer_value[0] = '\0';
		s3_chunked_release(&dec);
		if (!ok) {
			objstore_writer_abort(w);
			if (strstr(e.msg, "signature"))
				lc_reply_error(req, res, 403, "SignatureDoesNotMatch", "%s", e.msg);
			else
				lc_reply_error(req, res, 400, "IncompleteBody",
					"The request body is not valid aws-chunked encoding: %s", e.msg);
			return NULL;
		}
		d = objstore_writer_digests(w);
		if (decoded_len && strtoull(decoded_len, NULL, 10) != d->size) {
			objstore_writer_abort(w);
			lc_reply_error(req, res, 400, "IncompleteBody", "You did not provide the "
				"number of bytes specified by the x-amz-decoded-content-length header.");
			return NULL;
		}
	}
	d = objstore_writer_digests(w);
	if (md5) {
		unsigned char raw[16];

		if (s3_unbase64(md5, raw, sizeof(raw)) != 16) {
			objstore_writer_abort(w);
			lc_reply_error(req, res, 400, "InvalidDigest",
				"The Content-MD5 you specified was invalid.");
			return NULL;
		}
		if (memcmp(raw, d->md5, 16) != 0) {
			objstore_writer_abort(w);
			lc_reply_error(req, res, 400, "BadDigest",
				"The Content-MD5 you specified did not match what we received.");
			return NULL;
		}
	}
	for (unsigned f = 1; f <= OBJSTORE_CK_SHA256; f <<= 1) {
		char name[40], got[64];
		const char *given;

		if (!(flags & f))
			continue;
		snprintf(name, sizeof(name), "x-amz-checksum-%s", s3_checksum_name(f));
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		given = lc_request_header(req, name);
		if (given == NULL && trailer && strcasecmp(trailer, name) == 0 && trailer_value[0])
			given = trailer_value;
		if (given == NULL)
			continue;	/* only the algorithm was named: nothing to compare */
		s3_checksum_value(f, d, got);
		if (strcmp(given, got) != 0) {
			objstore_writer_abort(w);
			lc_reply_error(req, res, 400, "BadDigest", "The %s you specified did not "
				"match the calculated checksum.", s3_checksum_name(f));
			return NULL;
		}
	}
	return w;
}

/* The checksum to store with an object: the first one the client gave, with our value. */
static void stored_checksum(struct lc_request *req, struct objstore_writer *w,
	const char **algo, char *value)
{
	unsigned flags = declared_checksums(req);
	const struct objstore_digests *d = objstore_writer_digests(w);

	*algo = NULL;
	value[0] = '\0';
	for (unsigned f = 1; f <= OBJSTORE_CK_SHA256; f <<= 1)
		if (flags & f) {
			*algo = s3_checksum_name(f);
			s3_checksum_value(f, d, value);
			return;
		}
}

struct attrs_holder {
	struct objstore_attrs a;
	struct buf meta;
	char *content_encoding;
	char checksum[64];
};

static void attrs_from_request(struct lc_request *req, struct attrs_holder *h)
{
	const char *ce = lc_request_header(req, "Content-Encoding");

	memset(h, 0, sizeof(*h));
	buf_init(&h->meta);
	h->a.content_type = lc_request_header(req, "Content-Type");
	h->a.cache_control = lc_request_header(req, "Cache-Control");
	h->a.content_disposition = lc_request_header(req, "Content-Disposition");
	h->a.content_language = lc_request_header(req, "Content-Language");
	h->a.expires = lc_request_header(req, "Expires");
	/* aws-chunked is how the body travelled, not how the object is encoded. */
	if (ce) {
		struct buf kept;
		char *list = xstrdup(ce), *save = NULL;

		buf_init(&kept);
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			if (*t && strcmp(t, "aws-chunked") != 0)
				buf_appendf(&kept, "%s%s", kept.len ? "," : "", t);
		}
		free(list);
		h->content_encoding = kept.len ? buf_detach(&kept) : NULL;
		buf_release(&kept);
		h->a.content_encoding = h->content_encoding;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *n = req->headers[i].name;

		if (strncasecmp(n, "x-amz-meta-", 11) != 0)
			continue;
		for (const char *c = n; *c; c++)
			buf_appendc(&h->meta, (char)tolower((unsigned char)*c));
		buf_appendf(&h->meta, ": %s\n", req->headers[i].value);
	}
	h->a.user_meta = h->meta.len ? h->meta.data : NULL;
}

static void attrs_release(struct attrs_holder *h)
{
	buf_release(&h->meta);
	free(h->content_encoding);
}

int s3_put_object(struct lc_request *req, struct lc_response *res)
{
	struct objstore_writer *w;
	struct attrs_holder h;
	struct err e = ERR_INIT;
	enum objstore_status st;
	char etag[48], quoted[52];
	const char *algo;

	if (strlen(key_of(req)) > 1024)
		return s3_fail(req, res, OBJSTORE_KEY_TOO_LONG, NULL, NULL);
	w = receive_body(req, res);
	if (w == NULL)
		return -1;
	attrs_from_request(req, &h);
	stored_checksum(req, w, &algo, h.checksum);
	h.a.checksum_algorithm = algo;
	h.a.checksum_value = algo ? h.checksum : NULL;
	st = objstore_put(s3_store, bucket_of(req), key_of(req), w, &h.a, etag, &e);
	if (st != OBJSTORE_OK) {
		attrs_release(&h);
		return s3_fail(req, res, st, &e, key_of(req));
	}
	lc_reply_xml(req, res, 200, NULL);
	snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
	lc_reply_header(res, "ETag", quoted);
	if (algo) {
		char name[40];

		snprintf(name, sizeof(name), "x-amz-checksum-%s", algo);
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		lc_reply_header(res, name, h.checksum);
	}
	attrs_release(&h);
	return 0;
}

/* ---- reading ---- */

static int etag_matches(const char *list, const char *etag)
{
	char *copy = xstrdup(list), *save = NULL;
	int hit = 0;

	for (char *t = strtok_r(copy, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save)) {
		size_t n;

		while (*t == ' ')
			t++;
		if (strncmp(t, "W/", 2) == 0)
			t += 2;
		n = strlen(t);
		while (n > 0 && t[n - 1] == ' ')
			t[--n] = '\0';
		if (strcmp(t, "*") == 0)
			hit = 1;
		else if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
			hit = n - 2 == strlen(etag) && strncmp(t + 1, etag, n - 2) == 0;
		else
			hit = strcmp(t, etag) == 0;
	}
	free(copy);
	return hit;
}

/* Parse "bytes=a-b" / "bytes=a-" / "bytes=-n"; 1 when a satisfiable range, 0 to ignore, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a = 0, b = 0;
	const char *p;
	char *end;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	p = h + 6;
	if (*p == '-') {
		b = strtoull(p + 1, &end, 10);
		if (end == p + 1 || *end)
			return 0;
		if (b == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return size == 0 ? -1 : 1;
	}
	a = strtoull(p, &end, 10);
	if (end == p || *end != '-')
		return 0;
	p = end + 1;
	if (*p == '\0') {
		b = size ? size - 1 : 0;
	} else {
		b = strtoull(p, &end, 10);
		if (*end)
			return 0;
		if (b < a)
			return 0;
		if (b >= size)
			b = size ? size - 1 : 0;
	}
	if (a >= size)
		return -1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

static void object_headers(struct lc_request *req, struct lc_response *res,
	const struct objstore_object *o)
{
	char date[40], quoted[52];

	snprintf(quoted, sizeof(quoted), "\"%s\"", o->etag);
	lc_reply_header(res, "ETag", quoted);
	http_date(o->mtime_ms, date);
	lc_reply_header(res, "Last-Modified", date);
	lc_reply_header(res, "Accept-Ranges", "bytes");
	if (o->cache_control)
		lc_reply_header(res, "Cache-Control", o->cache_control);
	if (o->content_encoding)
		lc_reply_header(res, "Content-Encoding", o->content_encoding);
	if (o->content_disposition)
		lc_reply_header(res, "Content-Disposition", o->content_disposition);
	if (o->content_language)
		lc_reply_header(res, "Content-Language", o->content_language);
	if (o->expires)
		lc_reply_header(res, "Expires", o->expires);
	if (o->user_meta) {
		char *copy = xstrdup(o->user_meta), *save = NULL;

		for (char *line = strtok_r(copy, "\n", &save); line;
				line = strtok_r(NULL, "\n", &save)) {
			char *colon = strstr(line, ": ");

			if (colon == NULL)
				continue;
			*colon = '\0';
			lc_reply_header(res, line, colon + 2);
		}
		free(copy);
	}
	if (o->checksum_algorithm && o->checksum_value) {
		const char *mode = lc_request_header(req, "x-amz-checksum-mode");

		if (mode && strcasecmp(mode, "ENABLED") == 0) {
			char name[40];

			snprintf(name, sizeof(name), "x-amz-checksum-%s", o->checksum_algorithm);
			for (char *c = name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			lc_reply_header(res, name, o->checksum_value);
		}
	}
}

/*
 * Shared by GetObject and HeadObject (and the edge's origin): the
 * conditional headers, then the range, then the content.
 */
static int serve_object(struct lc_request *req, struct lc_response *res, int head)
{
	struct objstore_object o;
	struct err e = ERR_INIT;
	enum objstore_status st;
	const char *if_match = lc_request_header(req, "If-Match");
	const char *if_none = lc_request_header(req, "If-None-Match");
	const char *if_mod = lc_request_header(req, "If-Modified-Since");
	const char *if_unmod = lc_request_header(req, "If-Unmodified-Since");
	const char *range = lc_request_header(req, "Range");
	const char *part = lc_request_query(req, "partNumber");
	uint64_t off = 0, len;
	int64_t mtime_s;
	int fd = -1, r, rc;

	(void)head;
	st = objstore_get(s3_store, bucket_of(req), key_of(req), &o, &fd, &e);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	len = o.size;
	mtime_s = o.mtime_ms / 1000;
	if (if_match && !etag_matches(if_match, o.etag))
		goto precondition;
	if (if_unmod && !if_match) {
		int64_t t = parse_http_date(if_unmod);

		if (t >= 0 && mtime_s > t)
			goto precondition;
	}
	if (if_none && etag_matches(if_none, o.etag))
		goto not_modified;
	if (if_mod && !if_none) {
		int64_t t = parse_http_date(if_mod);

		if (t >= 0 && mtime_s <= t)
			goto not_modified;
	}
	if (part && strcmp(part, "1") != 0 && !strchr(o.etag, '-')) {
		close(fd);
		objstore_object_release(&o);
		return lc_reply_error(req, res, 416, "InvalidPartNumber",
			"The requested partnumber is not satisfiable");
	}
	r = range ? parse_range(range, o.size, &off, &len) : 0;
	if (r < 0) {
		char cr[64];

		close(fd);
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)o.size);
		objstore_object_release(&o);
		lc_reply_error(req, res, 416, "InvalidRange",
			"The requested range is not satisfiable");
		lc_reply_header(res, "Content-Range", cr);
		return -1;
	}
	rc = lc_reply_fd(req, res, r > 0 ? 206 : 200, o.content_type, fd, off, len);
	object_headers(req, res, &o);
	if (r > 0) {
		char cr[96];

		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)off,
			(unsigned long long)(off + len - 1), (unsigned long long)o.size);
		lc_reply_header(res, "Content-Range", cr);
	}
	objstore_object_release(&o);
	return rc;
not_modified:
	{
		char date[40], quoted[52];

		close(fd);
		lc_reply_xml(req, res, 304, NULL);
		snprintf(quoted, sizeof(quoted), "\"%s\"", o.etag);
		lc_reply_header(res, "ETag", quoted);
		http_date(o.mtime_ms, date);
		lc_reply_header(res, "Last-Modified", date);
		objstore_object_release(&o);
		return 0;
	}
precondition:
	close(fd);
	objstore_object_release(&o);
	return lc_reply_error(req, res, 412, "PreconditionFailed",
		"At least one of the pre-conditions you specified did not hold");
}

int s3_get_object(struct lc_request *req, struct lc_response *res)
{
	return serve_object(req, res, 0);
}

int s3_head_object(struct lc_request *req, struct lc_response *res)
{
	return serve_object(req, res, 1);
}

int s3_delete_object(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	enum objstore_status st = objstore_delete(s3_store, bucket_of(req), key_of(req), &e);

	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	return lc_reply_xml(req, res, 204, NULL);
}

int s3_delete_objects(struct lc_request *req, struct lc_response *res)
{
	struct s3_delete_request d;
	struct err e = ERR_INIT;
	const char *md5 = lc_request_header(req, "Content-MD5");
	struct buf x;

	if (md5) {
		unsigned char raw[16], got[16];
		unsigned int n = 16;

		EVP_Digest(req->body.data, req->body.len, got, &n, EVP_md5(), NULL);
		if (s3_unbase64(md5, raw, sizeof(raw)) != 16 || memcmp(raw, got, 16) != 0)
			return lc_reply_error(req, res, 400, "BadDigest",
				"The Content-MD5 you specified did not match what we received.");
	}
	if (s3_parse_delete(req->body.data, req->body.len, &d, &e) < 0)
		return lc_reply_error(req, res, 400, "MalformedXML", "The XML you provided was "
			"not well-formed or did not validate against our published schema");
	xml_open(&x, "DeleteResult");
	for (size_t i = 0; i < d.n_keys; i++) {
		enum objstore_status st = objstore_delete(s3_store, bucket_of(req), d.keys[i], &e);

		if (st == OBJSTORE_NO_SUCH_BUCKET) {
			buf_release(&x);
			s3_delete_request_release(&d);
			return s3_fail(req, res, st, &e, bucket_of(req));
		}
		if (st == OBJSTORE_OK) {
			if (!d.quiet) {
				buf_appends(&x, "<Deleted>");
				xml_elem(&x, "Key", d.keys[i]);
				buf_appends(&x, "</Deleted>");
			}
		} else {
			buf_appends(&x, "<Error>");
			xml_elem(&x, "Key", d.keys[i]);
			xml_elem(&x, "Code", objstore_status_code(st));
			xml_elem(&x, "Message", e.msg);
			buf_appends(&x, "</Error>");
		}
	}
	buf_appends(&x, "</DeleteResult>");
	s3_delete_request_release(&d);
	return xml_send(req, res, &x, 200);
}

/* "/bucket/key" or "bucket/key", percent-encoded, maybe "?versionId=..." */
static int parse_copy_source(const char *src, char **bucket, char **key)
{
	char *s = xstrdup(src[0] == '/' ? src + 1 : src), *q, *slash, *out, *w;

	q = strchr(s, '?');
	if (q)
		*q = '\0';
	/* percent-decode in place */
	for (out = w = s; *out; out++) {
		if (*out == '%' && isxdigit((unsigned char)out[1]) && isxdigit((unsigned char)out[2])) {
			char hexs[3] = { out[1], out[2], 0 };

			*w++ = (char)strtol(hexs, NULL, 16);
			out += 2;
		} else {
			*w++ = *out;
		}
	}
	*w = '\0';
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0') {
		free(s);
		return -1;
	}
	*slash = '\0';
	*bucket = xstrdup(s);
	*key = xstrdup(slash + 1);
	free(s);
	return 0;
}

int s3_copy_object(struct lc_request *req, struct lc_response *res)
{
	const char *src = lc_request_header(req, "x-amz-copy-source");
	const char *directive = lc_request_header(req, "x-amz-metadata-directive");
	int replace = directive && strcasecmp(directive, "REPLACE") == 0;
	char *sb = NULL, *sk = NULL, when[32];
	struct objstore_object o;
	struct attrs_holder h;
	struct err e = ERR_INIT;
	enum objstore_status st;
	struct buf x;

	if (parse_copy_source(src, &sb, &sk) < 0)
		return lc_reply_error(req, res, 400, "InvalidArgument",
			"Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
	if (!replace && strcmp(sb, bucket_of(req)) == 0 && strcmp(sk, key_of(req)) == 0) {
		free(sb);
		free(sk);
		return lc_reply_error(req, res, 400, "InvalidRequest", "This copy request is "
			"illegal because it is trying to copy an object to itself without changing "
			"the object's metadata, storage class, website redirect location or "
			"encryption attributes.");
	}
	attrs_from_request(req, &h);
	st = objstore_copy(s3_store, sb, sk, bucket_of(req), key_of(req), replace ? &h.a : NULL,
		&o, &e);
	attrs_release(&h);
	free(sb);
	free(sk);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	xml_open(&x, "CopyObjectResult");
	iso_time(o.mtime_ms, when);
	xml_elem(&x, "LastModified", when);
	buf_appendf(&x, "<ETag>&quot;%s&quot;</ETag></CopyObjectResult>", o.etag);
	objstore_object_release(&o);
	return xml_send(req, res, &x, 200);
}

/* ---- multipart ---- */

int s3_create_multipart_upload(struct lc_request *req, struct lc_response *res)
{
	struct attrs_holder h;
	struct err e = ERR_INIT;
	enum objstore_status st;
	char id[64];
	struct buf x;

	attrs_from_request(req, &h);
	st = objstore_upload_create(s3_store, bucket_of(req), key_of(req), &h.a, id, &e);
	attrs_release(&h);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	xml_open(&x, "InitiateMultipartUploadResult");
	xml_elem(&x, "Bucket", bucket_of(req));
	xml_elem(&x, "Key", key_of(req));
	xml_elem(&x, "UploadId", id);
	buf_appends(&x, "</InitiateMultipartUploadResult>");
	return xml_send(req, res, &x, 200);
}

int s3_upload_part(struct lc_request *req, struct lc_response *res)
{
	const char *num = lc_request_query(req, "partNumber");
	const char *id = lc_request_query(req, "uploadId");
	struct objstore_writer *w;
	struct err e = ERR_INIT;
	enum objstore_status st;
	char etag[48], quoted[52], *end = NULL;
	long n = num ? strtol(num, &end, 10) : 0;

	if (num == NULL || *num == '\0' || *end || n < 1 || n > 10000)
		return lc_reply_error(req, res, 400, "InvalidArgument", "Part number must be an "
			"integer between 1 and 10000, inclusive");
	w = receive_body(req, res);
	if (w == NULL)
		return -1;
	st = objstore_part_put(s3_store, bucket_of(req), key_of(req), id, (int)n, w, etag, &e);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	lc_reply_xml(req, res, 200, NULL);
	snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
	lc_reply_header(res, "ETag", quoted);
	return 0;
}

int s3_complete_multipart_upload(struct lc_request *req, struct lc_response *res)
{
	struct s3_complete_request c;
	struct err e = ERR_INIT;
	enum objstore_status st;
	const char *host = lc_request_header(req, "Host");
	char etag[48];
	struct buf x;

	if (s3_parse_complete(req->body.data, req->body.len, &c, &e) < 0)
		return lc_reply_error(req, res, 400, "MalformedXML", "The XML you provided was "
			"not well-formed or did not validate against our published schema");
	st = objstore_upload_complete(s3_store, bucket_of(req), key_of(req),
		lc_request_query(req, "uploadId"), c.parts, c.n_parts, etag, &e);
	s3_complete_request_release(&c);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	xml_open(&x, "CompleteMultipartUploadResult");
	buf_appends(&x, "<Location>http://");
	lc_xml_escape(&x, host ? host : "127.0.0.1");
	buf_appends(&x, "/");
	lc_xml_escape(&x, bucket_of(req));
	buf_appends(&x, "/");
	lc_xml_escape(&x, key_of(req));
	buf_appends(&x, "</Location>");
	xml_elem(&x, "Bucket", bucket_of(req));
	xml_elem(&x, "Key", key_of(req));
	buf_appendf(&x, "<ETag>&quot;%s&quot;</ETag></CompleteMultipartUploadResult>", etag);
	return xml_send(req, res, &x, 200);
}

int s3_abort_multipart_upload(struct lc_request *req, struct lc_response *res)
{
	struct err e = ERR_INIT;
	enum objstore_status st = objstore_upload_abort(s3_store, bucket_of(req), key_of(req),
		lc_request_query(req, "uploadId"), &e);

	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	return lc_reply_xml(req, res, 204, NULL);
}

int s3_list_parts(struct lc_request *req, struct lc_response *res)
{
	const char *id = lc_request_query(req, "uploadId");
	const char *marker = lc_request_query(req, "part-number-marker");
	struct objstore_part *parts = NULL;
	struct err e = ERR_INIT;
	enum objstore_status st;
	int max, after = marker ? atoi(marker) : 0, truncated = 0;
	size_t n = 0;
	struct buf x;

	if (parse_max(lc_request_query(req, "max-parts"), 1000, &max) < 0)
		return lc_reply_error(req, res, 400, "InvalidArgument",
			"Provided max-parts not an integer or within integer range");
	st = objstore_part_list(s3_store, bucket_of(req), key_of(req), id, after, max, &parts, &n,
		&truncated, &e);
	if (st != OBJSTORE_OK)
		return s3_fail(req, res, st, &e, key_of(req));
	xml_open(&x, "ListPartsResult");
	xml_elem(&x, "Bucket", bucket_of(req));
	xml_elem(&x, "Key", key_of(req));
	xml_elem(&x, "UploadId", id);
	buf_appendf(&x, "<PartNumberMarker>%d</PartNumberMarker>", after);
	if (n > 0)
		buf_appendf(&x, "<NextPartNumberMarker>%d</NextPartNumberMarker>",
			parts[n - 1].number);
	buf_appendf(&x, "<MaxParts>%d</MaxParts><IsTruncated>%s</IsTruncated>", max,
		truncated ? "true" : "false");
	buf_appends(&x, "<StorageClass>STANDARD</StorageClass>");
	for (size_t i = 0; i < n; i++) {
		char when[32];

		iso_time(parts[i].mtime_ms, when);
		buf_appendf(&x, "<Part><PartNumber>%d</PartNumber>", parts[i].number);
		xml_elem(&x, "LastModified", when);
		buf_appendf(&x, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size></Part>",
			parts[i].etag, (unsigned long long)parts[i].size);
	}
	buf_appends(&x, "</ListPartsResult>");
	free(parts);
	return xml_send(req, res, &x, 200);
}
