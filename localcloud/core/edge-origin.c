/*
 * edge-origin.c: the origin server nginx fetches distribution content
 * from: a loopback libmicrohttpd server over the S3 object store.  The
 * distribution's service tells it which bucket and TTLs a distribution has
 * (edgectl_origin_register), so the edge never calls a service by name.
 *
 * It listens on a loopback port only nginx knows, and answers only
 * requests carrying the edge's token (like CloudFront's origin access
 * control: the bucket itself stays private).  It computes each object's
 * TTL as CloudFront does (the object's Cache-Control max-age/s-maxage
 * clamped to MinTTL..MaxTTL, DefaultTTL when it has none, MinTTL for
 * no-cache/no-store/private) and tells nginx with X-Accel-Expires.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "caliberd.h"
#include "edge-origin.h"
#include "edgectl.h"
#include "objstore.h"

static struct MHD_Daemon *origin_daemon;
static struct lc_server *origin_srv;
static char origin_token[65];
static edgectl_origin_fn origin_lookup;

void edgectl_origin_register(edgectl_origin_fn fn)
{
	origin_lookup = fn;
}

void edgectl_origin_release(struct edgectl_origin *o)
{
	free(o->bucket);
	free(o->default_root);
	memset(o, 0, sizeof(*o));
}

const char *edge_origin_token(void)
{
	return origin_token;
}

/* CloudFront's TTL for an object: Cache-Control within Min/Max, else DefaultTTL. */
static long object_ttl(const char *cc, long min_ttl, long default_ttl, long max_ttl)
{
	const char *p;
	long age = -1;

	if (cc == NULL)
		return default_ttl;
	if (strcasestr(cc, "no-cache") || strcasestr(cc, "no-store") || strcasestr(cc, "private"))
		return min_ttl;
	p = strcasestr(cc, "s-maxage=");
	if (p)
		age = strtol(p + 9, NULL, 10);
	else if ((p = strcasestr(cc, "max-age=")) != NULL)
		age = strtol(p + 8, NULL, 10);
	if (age < 0)
		return default_ttl;
	if (age < min_ttl)
		return min_ttl;
	if (age > max_ttl)
		return max_ttl;
	return age;
}

static enum MHD_Result origin_reply_text(struct MHD_Connection *c, unsigned status,
	const char *code, const char *msg)
{
	char *body = xasprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
		"<Message>%s</Message></Error>", code, msg);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
		MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/xml");
	/* errors are not cached at the edge */
	MHD_add_response_header(r, "X-Accel-Expires", "0");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result origin_access(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **ptr)
{
	static int first;
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Caliber-Edge-Token");
	const char *dist = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		"X-Caliber-Edge-Distribution");
	struct lc_server *srv = origin_srv;
	struct objstore_object o;
	struct err e = ERR_INIT;
	struct edgectl_origin d;
	char *bucket = NULL, *key = NULL, date[40], ttl_text[32], quoted[52];
	long min_ttl = 0, default_ttl = 0, max_ttl = 0;
	struct MHD_Response *r;
	enum MHD_Result rc;
	int fd = -1;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (*ptr == NULL) {
		*ptr = &first;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (token == NULL || strlen(token) != strlen(origin_token) ||
			CRYPTO_memcmp(token, origin_token, strlen(origin_token)) != 0)
		return origin_reply_text(c, 403, "AccessDenied", "Access Denied");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return origin_reply_text(c, 403, "MethodNotAllowed", "method not allowed");
	if (dist == NULL || origin_lookup == NULL || origin_lookup(srv, dist, &d, &e) < 0)
		return origin_reply_text(c, 502, "InternalError", "no distribution");
	if (d.bucket == NULL || !d.enabled) {
		edgectl_origin_release(&d);
		return origin_reply_text(c, 404, "NoSuchDistribution", "no such distribution");
	}
	bucket = d.bucket;
	if (strcmp(url, "/") == 0 && d.default_root != NULL && d.default_root[0])
		key = xstrdup(d.default_root);
	min_ttl = d.min_ttl;
	default_ttl = d.default_ttl;
	max_ttl = d.max_ttl;
	if (key == NULL)
		key = xstrdup(url[0] == '/' ? url + 1 : url);
	/* S3 without list permission (as behind origin access control) answers 403. */
	if (*key == '\0' || objstore_get(d.objects, bucket, key, &o, &fd, &e) != OBJSTORE_OK) {
		edgectl_origin_release(&d);
		free(key);
		return origin_reply_text(c, 403, "AccessDenied", "Access Denied");
	}
	r = MHD_create_response_from_fd64(o.size, fd);
	snprintf(ttl_text, sizeof(ttl_text), "%ld",
		object_ttl(o.cache_control, min_ttl, default_ttl, max_ttl));
	MHD_add_response_header(r, "X-Accel-Expires", ttl_text);
	MHD_add_response_header(r, "Content-Type", o.content_type);
	snprintf(quoted, sizeof(quoted), "\"%s\"", o.etag);
	MHD_add_response_header(r, "ETag", quoted);
	{
		time_t t = (time_t)(o.mtime_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	MHD_add_response_header(r, "Last-Modified", date);
	if (o.cache_control)
		MHD_add_response_header(r, "Cache-Control", o.cache_control);
	if (o.content_encoding)
		MHD_add_response_header(r, "Content-Encoding", o.content_encoding);
	rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	objstore_object_release(&o);
	edgectl_origin_release(&d);
	free(key);
	return rc;
}

int edge_origin_start(struct lc_server *srv, int *port, struct err *e)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	unsigned char r[24];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set(e, "unable to draw random bytes");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(origin_token + 2 * i, 3, "%02x", r[i]);
	origin_srv = srv;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	origin_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL, origin_access, NULL,
		MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_END);
	if (origin_daemon == NULL)
		return err_set(e, "unable to start the cloudfront origin server");
	info = MHD_get_daemon_info(origin_daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return err_set(e, "unable to learn the cloudfront origin server's port");
	*port = info->port;
	return 0;
}

void edge_origin_stop(void)
{
	if (origin_daemon)
		MHD_stop_daemon(origin_daemon);
	origin_daemon = NULL;
	OPENSSL_cleanse(origin_token, sizeof(origin_token));
}
