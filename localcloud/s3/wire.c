/*
 * s3/wire.c: aws-chunked bodies, S3's XML request bodies and checksum
 * values (see s3/wire.h).  Everything here reads untrusted input: lines
 * and counts are bounded, and the XML parser never fetches or expands
 * external entities.
 */
#include "compat.h"

#include <ctype.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xml.h"

#include "hex.h"
#include "wire.h"

enum {
	CH_SIZE,		/* reading "<hex>[;chunk-signature=<sig>]\r\n" */
	CH_DATA,
	CH_DATA_CR,		/* the "\r\n" after a chunk's data */
	CH_DATA_LF,
	CH_TRAILER,		/* "name:value\r\n" lines until an empty one */
	CH_DONE,
	CH_FAILED,
};

#define MAX_TRAILERS_BYTES 4096

static const char empty_sha256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void hmac256(const unsigned char *key, size_t key_len, const void *data, size_t len,
	unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

void s3_signing_key(const char *secret, const char *date, const char *region,
	const char *service, unsigned char key[32])
{
	char *k0 = xasprintf("AWS4%s", secret);
	unsigned char a[32], b[32];

	hmac256((unsigned char *)k0, strlen(k0), date, strlen(date), a);
	hmac256(a, 32, region, strlen(region), b);
	hmac256(b, 32, service, strlen(service), a);
	hmac256(a, 32, "aws4_request", 12, key);
	OPENSSL_cleanse(k0, strlen(k0));
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(k0);
}

void s3_chunked_init(struct s3_chunked *c, const struct s3_chunk_signing *signing)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
	buf_init(&c->trailers);
	buf_set_cap(&c->trailers, MAX_TRAILERS_BYTES);
	if (signing) {
		c->signed_chunks = 1;
		c->sig = *signing;
		memcpy(c->prev_signature, signing->seed_signature, sizeof(c->prev_signature));
		c->prev_signature[64] = '\0';
	}
}

void s3_chunked_release(struct s3_chunked *c)
{
	EVP_MD_CTX_free(c->chunk_sha);
	c->chunk_sha = NULL;
	buf_release(&c->trailers);
	OPENSSL_cleanse(&c->sig, sizeof(c->sig));
}

static int chunked_fail(struct s3_chunked *c, struct err *e, const char *msg)
{
	c->state = CH_FAILED;
	return err_set(e, "%s", msg);
}

static int is_hex_string(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Check the chunk just ended (its data hash in c->chunk_sha) against its signature. */
static int chunk_verify(struct s3_chunked *c, struct err *e)
{
	unsigned char digest[32], mac[32];
	char digest_hex[65], mac_hex[65];
	unsigned int n;
	char *sts;

	if (!c->signed_chunks)
		return 0;
	EVP_DigestFinal_ex(c->chunk_sha, digest, &n);
	hex_encode(digest, 32, digest_hex);
	sts = xasprintf("AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", c->sig.amz_date,
		c->sig.scope, c->prev_signature, empty_sha256, digest_hex);
	hmac256(c->sig.key, 32, sts, strlen(sts), mac);
	free(sts);
	hex_encode(mac, 32, mac_hex);
	if (CRYPTO_memcmp(mac_hex, c->chunk_signature, 64) != 0)
		return chunked_fail(c, e, "chunk signature does not match");
	memcpy(c->prev_signature, mac_hex, sizeof(c->prev_signature));
	return 0;
}

static int chunk_start_hash(struct s3_chunked *c, struct err *e)
{
	if (!c->signed_chunks)
		return 0;
	if (c->chunk_sha == NULL)
		c->chunk_sha = EVP_MD_CTX_new();
	if (c->chunk_sha == NULL || EVP_DigestInit_ex(c->chunk_sha, EVP_sha256(), NULL) != 1)
		return chunked_fail(c, e, "unable to start sha256");
	return 0;
}

/* A complete size line (without CRLF) in c->line. */
static int size_line(struct s3_chunked *c, struct err *e)
{
	const char *semi = memchr(c->line, ';', c->line_len);
	size_t digits = semi ? (size_t)(semi - c->line) : c->line_len;
	uint64_t size = 0;

	if (digits == 0 || digits > 15 || !is_hex_string(c->line, digits))
		return chunked_fail(c, e, "malformed chunk size");
	for (size_t i = 0; i < digits; i++) {
		char ch = (char)tolower((unsigned char)c->line[i]);

		size = size * 16 + (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
	}
	c->chunk_signature[0] = '\0';
	if (semi) {
		static const char ext[] = ";chunk-signature=";
		size_t rest = c->line_len - digits;

		if (rest != sizeof(ext) - 1 + 64 || memcmp(semi, ext, sizeof(ext) - 1) != 0 ||
				!is_hex_string(semi + sizeof(ext) - 1, 64))
			return chunked_fail(c, e, "malformed chunk extension");
		memcpy(c->chunk_signature, semi + sizeof(ext) - 1, 64);
		c->chunk_signature[64] = '\0';
	}
	if (c->signed_chunks && c->chunk_signature[0] == '\0')
		return chunked_fail(c, e, "chunk without a chunk-signature");
	if (chunk_start_hash(c, e) < 0)
		return -1;
	c->remaining = size;
	if (size == 0) {
		/* The final chunk: signed over empty data; trailers follow. */
		if (chunk_verify(c, e) < 0)
			return -1;
		c->state = CH_TRAILER;
	} else {
		c->state = CH_DATA;
	}
	return 0;
}

static int trailer_signature_check(struct s3_chunked *c, const char *sig, size_t sig_len,
	struct err *e)
{
	unsigned char digest[32], mac[32];
	char digest_hex[65], mac_hex[65];
	unsigned int n = 32;
	char *sts;

	if (!c->signed_chunks)
		return 0;	/* unsigned payload: nothing to check it against */
	if (sig_len != 64)
		return chunked_fail(c, e, "malformed trailer signature");
	EVP_Digest(c->trailers.data, c->trailers.len, digest, &n, EVP_sha256(), NULL);
	hex_encode(digest, 32, digest_hex);
	sts = xasprintf("AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", c->sig.amz_date, c->sig.scope,
		c->prev_signature, digest_hex);
	hmac256(c->sig.key, 32, sts, strlen(sts), mac);
	free(sts);
	hex_encode(mac, 32, mac_hex);
	if (CRYPTO_memcmp(mac_hex, sig, 64) != 0)
		return chunked_fail(c, e, "trailer signature does not match");
	return 0;
}

/* A complete trailer line (without CRLF) in c->line; empty ends the body. */
static int trailer_line(struct s3_chunked *c, struct err *e)
{
	const char *colon = memchr(c->line, ':', c->line_len);
	static const char sig_name[] = "x-amz-trailer-signature";
	size_t name_len;
	const char *value;
	size_t value_len;

	if (c->line_len == 0) {
		c->state = CH_DONE;
		return 0;
	}
	if (colon == NULL || colon == c->line)
		return chunked_fail(c, e, "malformed trailer");
	name_len = (size_t)(colon - c->line);
	value = colon + 1;
	value_len = c->line_len - name_len - 1;
	while (value_len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		value_len--;
	}
	if (name_len == sizeof(sig_name) - 1 && strncasecmp(c->line, sig_name, name_len) == 0)
		return trailer_signature_check(c, value, value_len, e);
	for (size_t i = 0; i < name_len; i++) {
		char ch = (char)tolower((unsigned char)c->line[i]);

		if (buf_appendc(&c->trailers, ch) < 0)
			return chunked_fail(c, e, "trailers too large");
	}
	if (buf_appendc(&c->trailers, ':') < 0 || buf_append(&c->trailers, value, value_len) < 0 ||
			buf_appendc(&c->trailers, '\n') < 0)
		return chunked_fail(c, e, "trailers too large");
	return 0;
}

int s3_chunked_feed(struct s3_chunked *c, const char *data, size_t len, s3_chunked_sink sink,
	void *arg, struct err *e)
{
	size_t i = 0;

	while (i < len) {
		switch (c->state) {
		case CH_SIZE:
		case CH_TRAILER: {
			char ch = data[i++];

			if (ch == '\n') {
				int rc;

				if (c->line_len == 0 || c->line[c->line_len - 1] != '\r') {
					if (!(c->state == CH_TRAILER && c->line_len == 0))
						return chunked_fail(c, e, "line without CRLF");
				} else {
					c->line_len--;
				}
				c->line[c->line_len] = '\0';
				rc = c->state == CH_SIZE ? size_line(c, e) : trailer_line(c, e);
				c->line_len = 0;
				if (rc < 0)
					return -1;
				break;
			}
			if (c->line_len + 1 >= sizeof(c->line))
				return chunked_fail(c, e, "chunk header line too long");
			c->line[c->line_len++] = ch;
			break;
		}
		case CH_DATA: {
			size_t n = len - i;

			if (n > c->remaining)
				n = (size_t)c->remaining;
			if (c->signed_chunks)
				EVP_DigestUpdate(c->chunk_sha, data + i, n);
			if (sink(arg, data + i, n, e) < 0) {
				c->state = CH_FAILED;
				return -1;
			}
			c->decoded += n;
			c->remaining -= n;
			i += n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (data[i++] != '\r')
				return chunked_fail(c, e, "chunk data longer than its size");
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (data[i++] != '\n')
				return chunked_fail(c, e, "chunk data longer than its size");
			if (chunk_verify(c, e) < 0)
				return -1;
			c->state = CH_SIZE;
			break;
		case CH_DONE:
			return chunked_fail(c, e, "data after the final chunk");
		default:
			return err_set(e, "body decoding already failed");
		}
	}
	return 0;
}

int s3_chunked_finish(struct s3_chunked *c, struct err *e)
{
	/* Some clients end with "0\r\n" + trailers and no empty line. */
	if (c->state == CH_TRAILER && c->line_len == 0)
		c->state = CH_DONE;
	if (c->state != CH_DONE)
		return chunked_fail(c, e, "body ended before the final chunk");
	return 0;
}

const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name, char *out,
	size_t out_len)
{
	const char *p = buf_str(&c->trailers);
	size_t nl = strlen(name);

	while (*p) {
		const char *end = strchr(p, '\n');

		if (end == NULL)
			break;
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			size_t vl = (size_t)(end - (p + nl + 1));

			if (vl >= out_len)
				return NULL;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return out;
		}
		p = end + 1;
	}
	return NULL;
}

/* XML: parse without network access and without entity substitution. */
static xmlDoc *xml_read(const char *xml, size_t len, struct err *e)
{
	xmlDoc *doc;

	if (len == 0 || len > 4 * 1024 * 1024) {
		err_set(e, "the XML you provided was not well-formed or did not validate against"
			" our published schema");
		return NULL;
	}
	doc = xml_read_untrusted(xml, len, 0, NULL);
	if (doc == NULL) {
		err_set(e, "the XML you provided was not well-formed or did not validate against"
			" our published schema");
		return NULL;
	}
	return doc;
}

static int name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of an element (caller frees). */
static char *node_text(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = xstrdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

static int malformed(struct err *e)
{
	return err_set(e, "the XML you provided was not well-formed or did not validate against"
		" our published schema");
}

int s3_parse_delete(const char *xml, size_t len, struct s3_delete_request *out, struct err *e)
{
	xmlDoc *doc = xml_read(xml, len, e);
	xmlNode *root;
	size_t cap = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!name_is(root, "Delete")) {
		malformed(e);
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		if (name_is(n, "Quiet")) {
			char *t = node_text(n);

			out->quiet = strcmp(t, "true") == 0;
			free(t);
		} else if (name_is(n, "Object")) {
			char *key = NULL;

			for (xmlNode *k = n->children; k; k = k->next)
				if (name_is(k, "Key")) {
					free(key);
					key = node_text(k);
				}
			if (key == NULL) {
				malformed(e);
				goto out;
			}
			if (out->n_keys == 1000) {
				free(key);
				malformed(e);
				goto out;
			}
			if (out->n_keys == cap) {
				cap = cap ? 2 * cap : 16;
				out->keys = xrealloc(out->keys, cap * sizeof(char *));
			}
			out->keys[out->n_keys++] = key;
		}
	}
	if (out->n_keys == 0) {
		malformed(e);
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	if (rc < 0)
		s3_delete_request_release(out);
	return rc;
}

void s3_delete_request_release(struct s3_delete_request *r)
{
	for (size_t i = 0; i < r->n_keys; i++)
		free(r->keys[i]);
	free(r->keys);
	memset(r, 0, sizeof(*r));
}

int s3_parse_complete(const char *xml, size_t len, struct s3_complete_request *out,
	struct err *e)
{
	xmlDoc *doc = xml_read(xml, len, e);
	xmlNode *root;
	size_t cap = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!name_is(root, "CompleteMultipartUpload")) {
		malformed(e);
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		struct objstore_part p;
		int have_number = 0, have_etag = 0;

		if (!name_is(n, "Part"))
			continue;
		memset(&p, 0, sizeof(p));
		for (xmlNode *k = n->children; k; k = k->next) {
			if (name_is(k, "PartNumber")) {
				char *t = node_text(k), *end;
				long v = strtol(t, &end, 10);

				if (*t == '\0' || *end != '\0' || v < 1 || v > 10000) {
					free(t);
					malformed(e);
					goto out;
				}
				p.number = (int)v;
				have_number = 1;
				free(t);
			} else if (name_is(k, "ETag")) {
				char *t = node_text(k);

				snprintf(p.etag, sizeof(p.etag), "%s", t);
				have_etag = strlen(t) < sizeof(p.etag);
				free(t);
			}
		}
		if (!have_number || !have_etag || out->n_parts == 10000) {
			malformed(e);
			goto out;
		}
		if (out->n_parts == cap) {
			cap = cap ? 2 * cap : 16;
			out->parts = xrealloc(out->parts, cap * sizeof(*out->parts));
		}
		out->parts[out->n_parts++] = p;
	}
	if (out->n_parts == 0) {
		malformed(e);
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	if (rc < 0)
		s3_complete_request_release(out);
	return rc;
}

void s3_complete_request_release(struct s3_complete_request *r)
{
	free(r->parts);
	memset(r, 0, sizeof(*r));
}

int s3_parse_create_bucket(const char *xml, size_t len, char **location, struct err *e)
{
	xmlDoc *doc = xml_read(xml, len, e);
	xmlNode *root;
	int rc = -1;

	*location = NULL;
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!name_is(root, "CreateBucketConfiguration")) {
		malformed(e);
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next)
		if (name_is(n, "LocationConstraint")) {
			free(*location);
			*location = node_text(n);
		}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

unsigned s3_checksum_flag(const char *h)
{
	if (strcasecmp(h, "x-amz-checksum-crc32") == 0)
		return OBJSTORE_CK_CRC32;
	if (strcasecmp(h, "x-amz-checksum-crc32c") == 0)
		return OBJSTORE_CK_CRC32C;
	if (strcasecmp(h, "x-amz-checksum-sha1") == 0)
		return OBJSTORE_CK_SHA1;
	if (strcasecmp(h, "x-amz-checksum-sha256") == 0)
		return OBJSTORE_CK_SHA256;
	return 0;
}

const char *s3_checksum_name(unsigned flag)
{
	switch (flag) {
	case OBJSTORE_CK_CRC32:
		return "CRC32";
	case OBJSTORE_CK_CRC32C:
		return "CRC32C";
	case OBJSTORE_CK_SHA1:
		return "SHA1";
	case OBJSTORE_CK_SHA256:
		return "SHA256";
	}
	return "";
}

void s3_base64(const unsigned char *p, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
}

int s3_unbase64(const char *text, unsigned char *out, size_t max)
{
	size_t n = strlen(text);
	unsigned char *tmp;
	int k;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > max + 2)
		return -1;
	tmp = xmalloc(n / 4 * 3 + 1);
	k = EVP_DecodeBlock(tmp, (const unsigned char *)text, (int)n);
	if (k < 0) {
		free(tmp);
		return -1;
	}
	/* EVP_DecodeBlock counts padding as data: take it off. */
	if (text[n - 1] == '=')
		k--;
	if (text[n - 2] == '=')
		k--;
	if ((size_t)k > max) {
		free(tmp);
		return -1;
	}
	memcpy(out, tmp, (size_t)k);
	free(tmp);
	return k;
}

void s3_checksum_value(unsigned flag, const struct objstore_digests *d, char *out)
{
	unsigned char be[4];
	uint32_t v = flag == OBJSTORE_CK_CRC32 ? d->crc32 : d->crc32c;

	switch (flag) {
	case OBJSTORE_CK_CRC32:
	case OBJSTORE_CK_CRC32C:
		be[0] = (unsigned char)(v >> 24);
		be[1] = (unsigned char)(v >> 16);
		be[2] = (unsigned char)(v >> 8);
		be[3] = (unsigned char)v;
		s3_base64(be, 4, out);
		break;
	case OBJSTORE_CK_SHA1:
		s3_base64(d->sha1, 20, out);
		break;
	case OBJSTORE_CK_SHA256:
		s3_base64(d->sha256, 32, out);
		break;
	default:
		out[0] = '\0';
	}
}

void s3_url_encode(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/')
			buf_appendc(b, (char)*p);
		else
			buf_appendf(b, "%%%02X", *p);
	}
}
