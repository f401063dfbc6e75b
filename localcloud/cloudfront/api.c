/*
 * cloudfront/api.c: Amazon CloudFront (REST-XML, /2020-05-31/) for S3
 * origins, served by the nginx edge.
 *
 * A distribution keeps the DistributionConfig exactly as the client sent
 * it (returned verbatim by GetDistribution), plus what the edge needs:
 * the origin bucket (from the S3 origin's domain name, "<bucket>.s3..."),
 * the default root object and the default cache behaviour's TTLs.  Names
 * are served when Route 53 points them at the distribution's domain name
 * (route53/api.c provides the sites).
 *
 * nginx fetches content from the edge's origin server (core/edge-origin.c),
 * which asks this service which bucket and TTLs a distribution has
 * (cf_origin_lookup, registered at init).
 *
 * Invalidations purge the paths' entries from the distribution's nginx
 * cache before the request is answered; the reply says InProgress, as
 * CloudFront's does, and GetInvalidation then says Completed.
 */
#include "compat.h"

#include <ctype.h>

#include <libxml/tree.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/ids.h"
#include "core/objstore.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "core/store.h"
#include "core/xml-input.h"
#include "s3/s3.h"

#define CF_XMLNS "http://cloudfront.amazonaws.com/doc/2020-05-31/"
#define CF_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
/* CloudFront's managed cache policies, by id: CachingOptimized and CachingDisabled */
#define CF_POLICY_OPTIMIZED "658327ea-f89d-4fab-a63d-7e88639e58f6"
#define CF_POLICY_DISABLED "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

static const char cf_schema[] =
	"CREATE TABLE IF NOT EXISTS cf_distribution ("
	" id TEXT PRIMARY KEY,"
	" domain TEXT NOT NULL UNIQUE,"
	" caller_reference TEXT NOT NULL UNIQUE,"
	" config TEXT NOT NULL,"
	" bucket TEXT,"
	" default_root TEXT NOT NULL DEFAULT '',"
	" aliases TEXT NOT NULL DEFAULT '',"
	" min_ttl INTEGER NOT NULL, default_ttl INTEGER NOT NULL, max_ttl INTEGER NOT NULL,"
	" enabled INTEGER NOT NULL,"
	" etag TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cf_invalidation ("
	" id TEXT PRIMARY KEY,"
	" distribution_id TEXT NOT NULL,"
	" caller_reference TEXT NOT NULL,"
	" paths TEXT NOT NULL,"
	" batch TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" UNIQUE (distribution_id, caller_reference));";

static int cf_origin_lookup(struct lc_server *srv, const char *distribution_id,
	struct edgectl_origin *out, struct err *e);

int cf_init(struct lc_server *srv, struct err *e)
{
	if (store_exec(srv->store, cf_schema, e) < 0)
		return -1;
	edgectl_origin_register(cf_origin_lookup);
	return 0;
}

static xmlDoc *xml_parse(const struct lc_request *req)
{
	if (req->body.len > 1024 * 1024)
		return NULL;
	return xml_in_parse(req->body.data, req->body.len);
}

static int malformed(struct lc_request *req, struct lc_response *res)
{
	return lc_reply_error(req, res, 400, "MalformedXML",
		"1 validation error detected: the request body is not a well-formed document "
		"of the expected shape");
}

static char *node_dump(xmlDoc *doc, xmlNode *n)
{
	xmlBuffer *b = xmlBufferCreate();
	char *s;

	xmlNodeDump(b, doc, n, 0, 0);
	s = xstrdup((const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	return s;
}

/* The bucket of an S3 origin domain ("b.s3.amazonaws.com", "b.s3.us-east-1.amazonaws.com"). */
static char *origin_bucket(const char *domain)
{
	const char *p = strstr(domain, ".s3.");

	if (p == NULL)
		p = strstr(domain, ".s3-");
	if (p == NULL || p == domain)
		return NULL;
	return xstrndup(domain, (size_t)(p - domain));
}

static long text_long(const xmlNode *n, const char *name, long dflt)
{
	char *t = xml_in_child_text(n, name), *end;
	long v;

	if (t == NULL)
		return dflt;
	v = strtol(t, &end, 10);
	if (*t == '\0' || *end)
		v = dflt;
	free(t);
	return v;
}

struct cf_config {
	char *caller_reference;
	char *bucket;
	char *default_root;
	struct buf aliases;		/* space-separated, lower case */
	long min_ttl, default_ttl, max_ttl;
	int enabled;
	char *xml;			/* the DistributionConfig element */
};

static void cf_config_release(struct cf_config *c)
{
	free(c->caller_reference);
	free(c->bucket);
	free(c->default_root);
	buf_release(&c->aliases);
	free(c->xml);
}

/*
 * CloudFront's rule for an alternate domain name (CNAME): a DNS name of
 * labels of 1 to 63 letters, digits, hyphens and underscores, 253
 * characters at most, the first label "*" for a wildcard.  The aliases are
 * kept space-separated and name what the edge serves.
 */
static int alias_valid(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_') || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* Read what the edge needs from a DistributionConfig; -1 with a message. */
static int cf_config_parse(xmlDoc *doc, xmlNode *cfg, struct cf_config *out, char *msg,
	size_t msg_len)
{
	xmlNode *origins = xml_in_child(xml_in_child(cfg, "Origins"), "Items");
	xmlNode *dcb = xml_in_child(cfg, "DefaultCacheBehavior");
	xmlNode *aliases = xml_in_child(xml_in_child(cfg, "Aliases"), "Items");
	char *target = xml_in_child_text(dcb, "TargetOriginId"), *enabled = xml_in_child_text(cfg, "Enabled");
	char *policy = xml_in_child_text(dcb, "CachePolicyId");

	memset(out, 0, sizeof(*out));
	buf_init(&out->aliases);
	out->caller_reference = xml_in_child_text(cfg, "CallerReference");
	out->default_root = xml_in_child_text(cfg, "DefaultRootObject");
	if (out->default_root == NULL)
		out->default_root = xstrdup("");
	if (out->caller_reference == NULL || origins == NULL || dcb == NULL || target == NULL ||
			enabled == NULL) {
		snprintf(msg, msg_len, "the DistributionConfig needs CallerReference, Origins, "
			"DefaultCacheBehavior with TargetOriginId, and Enabled");
		goto fail;
	}
	for (xmlNode *o = origins->children; o; o = o->next) {
		char *id, *domain;

		if (o->type != XML_ELEMENT_NODE)
			continue;
		id = xml_in_child_text(o, "Id");
		domain = xml_in_child_text(o, "DomainName");
		if (id && domain && strcmp(id, target) == 0) {
			for (char *c = domain; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			out->bucket = origin_bucket(domain);
		}
		free(id);
		free(domain);
	}
	if (out->bucket == NULL) {
		snprintf(msg, msg_len, "the default cache behavior's TargetOriginId '%s' must name "
			"an S3 origin (<bucket>.s3.<region>.amazonaws.com)", target);
		goto fail;
	}
	for (xmlNode *a = aliases ? aliases->children : NULL; a; a = a->next) {
		xmlChar *t;

		if (a->type != XML_ELEMENT_NODE)
			continue;
		t = xmlNodeGetContent(a);
		if (!alias_valid(t ? (const char *)t : "")) {
			snprintf(msg, msg_len, "The parameter CNAME contains one or more illegal "
				"characters.");
			xmlFree(t);
			goto fail;
		}
		buf_appendf(&out->aliases, "%s%s", out->aliases.len ? " " : "", (char *)t);
		xmlFree(t);
	}
	for (char *c = out->aliases.data; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (policy && strcmp(policy, CF_POLICY_DISABLED) == 0) {
		out->min_ttl = out->default_ttl = out->max_ttl = 0;
	} else if (policy) {
		out->min_ttl = 1;
		out->default_ttl = 86400;
		out->max_ttl = 31536000;
	} else {
		out->min_ttl = text_long(dcb, "MinTTL", 0);
		out->default_ttl = text_long(dcb, "DefaultTTL", 86400);
		out->max_ttl = text_long(dcb, "MaxTTL", 31536000);
	}
	out->enabled = strcmp(enabled, "true") == 0;
	out->xml = node_dump(doc, cfg);
	free(target);
	free(enabled);
	free(policy);
	return 0;
fail:
	free(target);
	free(enabled);
	free(policy);
	cf_config_release(out);
	return -1;
}

struct cf_dist {
	char id[16];
	char domain[64];
	char etag[16];
	char *config;
	double created;
	int n_in_progress;
};

static void dist_xml(struct buf *b, const struct cf_dist *d, const char *status)
{
	char when[32];

	lc_time_iso8601(d->created, when);
	buf_appendf(b, "<Id>%s</Id><ARN>arn:aws:cloudfront::" LOCALCLOUD_ACCOUNT_ID
		":distribution/%s</ARN><Status>%s</Status><LastModifiedTime>%s</LastModifiedTime>"
		"<InProgressInvalidationBatches>%d</InProgressInvalidationBatches>"
		"<DomainName>%s</DomainName>"
		"<ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity>"
		"</ActiveTrustedSigners>"
		"<ActiveTrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity>"
		"</ActiveTrustedKeyGroups>", d->id, d->id, status, when, d->n_in_progress,
		d->domain);
	buf_appends(b, d->config);
}

static int dist_load(struct lc_server *srv, const char *id, struct cf_dist *d, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	memset(d, 0, sizeof(*d));
	if (store_prepare(srv->store, "SELECT id, domain, etag, config, created FROM "
			"cf_distribution WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(d->id, sizeof(d->id), "%s", sqlite3_column_text(st, 0));
		snprintf(d->domain, sizeof(d->domain), "%s", sqlite3_column_text(st, 1));
		snprintf(d->etag, sizeof(d->etag), "%s", sqlite3_column_text(st, 2));
		d->config = xstrdup((const char *)sqlite3_column_text(st, 3));
		d->created = sqlite3_column_double(st, 4);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	}
	sqlite3_finalize(st);
	return rc;
}

static int internal(struct lc_request *req, struct lc_response *res, const struct err *e)
{
	lc_log("cloudfront: %s: %s", req->operation, e->msg);
	return lc_reply_error(req, res, 500, "InternalError", "internal error");
}

static int reply_dist(struct lc_request *req, struct lc_response *res, int status,
	const struct cf_dist *d, const char *dstatus)
{
	struct buf b;

	buf_init(&b);
	buf_appends(&b, CF_XML_HEAD "<Distribution xmlns=\"" CF_XMLNS "\">");
	dist_xml(&b, d, dstatus);
	buf_appends(&b, "</Distribution>");
	lc_reply_xml(req, res, status, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	lc_reply_header(res, "ETag", d->etag);
	return 0;
}

int cf_create_distribution(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	xmlDoc *doc = xml_parse(req);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	struct cf_config c;
	struct cf_dist d;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char msg[256], suffix[14], loc[128];
	int rc, conflict = 0;

	memset(&c, 0, sizeof(c));
	if (root && strcmp((const char *)root->name, "DistributionConfigWithTags") == 0)
		root = xml_in_child(root, "DistributionConfig");
	if (root == NULL || strcmp((const char *)root->name, "DistributionConfig") != 0) {
		xmlFreeDoc(doc);
		return malformed(req, res);
	}
	if (cf_config_parse(doc, root, &c, msg, sizeof(msg)) < 0) {
		xmlFreeDoc(doc);
		return lc_reply_error(req, res, 400, "InvalidArgument", "%s", msg);
	}
	xmlFreeDoc(doc);
	memset(&d, 0, sizeof(d));
	d.id[0] = 'E';
	lc_random_id(d.id + 1, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	lc_random_id(suffix, 13, "abcdefghijklmnopqrstuvwxyz0123456789");
	snprintf(d.domain, sizeof(d.domain), "d%s.cloudfront.net", suffix);
	lc_random_id(d.etag, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	d.config = c.xml;
	d.created = lc_now();

	if (store_begin(srv->store, &e) < 0) {
		cf_config_release(&c);
		return internal(req, res, &e);
	}
	/* An alias belongs to one distribution. */
	if (c.aliases.len > 0) {
		char *list = xstrdup(c.aliases.data), *save = NULL;

		if (store_prepare(srv->store, "SELECT 1 FROM cf_distribution WHERE "
				"' ' || aliases || ' ' LIKE '% ' || ? || ' %'", &st, &e) < 0)
			goto fail;
		for (char *a = strtok_r(list, " ", &save); a && !conflict;
				a = strtok_r(NULL, " ", &save)) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
			conflict = sqlite3_step(st) == SQLITE_ROW;
		}
		free(list);
		sqlite3_finalize(st);
		st = NULL;
		if (conflict) {
			store_rollback(srv->store);
			cf_config_release(&c);
			return lc_reply_error(req, res, 409, "CNAMEAlreadyExists", "One or more of "
				"the CNAMEs you provided are already associated with a different "
				"resource.");
		}
	}
	if (store_prepare(srv->store, "INSERT INTO cf_distribution(id, domain, caller_reference,"
			" config, bucket, default_root, aliases, min_ttl, default_ttl, max_ttl,"
			" enabled, etag, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, d.id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d.domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c.caller_reference, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c.xml, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, c.bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, c.default_root, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, buf_str(&c.aliases), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, c.min_ttl);
	sqlite3_bind_int64(st, 9, c.default_ttl);
	sqlite3_bind_int64(st, 10, c.max_ttl);
	sqlite3_bind_int(st, 11, c.enabled);
	sqlite3_bind_text(st, 12, d.etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 13, d.created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_CONSTRAINT) {
		store_rollback(srv->store);
		cf_config_release(&c);
		return lc_reply_error(req, res, 409, "DistributionAlreadyExists", "The caller "
			"reference that you are using to create a distribution is associated with "
			"another distribution.");
	}
	if (rc != SQLITE_DONE) {
		err_set(&e, "%s", sqlite3_errmsg(store_db(srv->store)));
		goto fail;
	}
	if (store_commit(srv->store, &e) < 0) {
		cf_config_release(&c);
		return internal(req, res, &e);
	}
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	reply_dist(req, res, 201, &d, "InProgress");
	snprintf(loc, sizeof(loc), "https://cloudfront.amazonaws.com/2020-05-31/distribution/%s",
		d.id);
	lc_reply_header(res, "Location", loc);
	cf_config_release(&c);
	return 0;
fail:
	sqlite3_finalize(st);
	store_rollback(srv->store);
	cf_config_release(&c);
	return internal(req, res, &e);
}

static int count_in_progress(struct lc_server *srv, const char *id)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int n = 0;

	if (store_prepare(srv->store, "SELECT count(*) FROM cf_invalidation WHERE "
			"distribution_id = ? AND status = 'InProgress'", &st, &e) < 0)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Load the distribution named by the path parameter in a read transaction; 404 when absent. */
static int load_for_request(struct lc_request *req, struct lc_response *res, const char *param,
	struct cf_dist *d)
{
	struct err e = ERR_INIT;
	const char *id = lc_request_path_param(req, param);
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return internal(req, res, &e);
	found = dist_load(req->srv, id ? id : "", d, &e);
	if (found > 0)
		d->n_in_progress = count_in_progress(req->srv, d->id);
	store_rollback(req->srv->store);
	if (found < 0)
		return internal(req, res, &e);
	if (found == 0)
		return lc_reply_error(req, res, 404, "NoSuchDistribution",
			"The specified distribution does not exist.");
	return 0;
}

int cf_get_distribution(struct lc_request *req, struct lc_response *res)
{
	struct cf_dist d;

	if (load_for_request(req, res, "Id", &d) < 0)
		return -1;
	reply_dist(req, res, 200, &d, "Deployed");
	free(d.config);
	return 0;
}

int cf_get_distribution_config(struct lc_request *req, struct lc_response *res)
{
	struct cf_dist d;
	struct buf b;

	if (load_for_request(req, res, "Id", &d) < 0)
		return -1;
	buf_init(&b);
	buf_appends(&b, CF_XML_HEAD);
	buf_appends(&b, d.config);
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	lc_reply_header(res, "ETag", d.etag);
	buf_release(&b);
	free(d.config);
	return 0;
}

/* If-Match against the distribution's ETag: 0, or -1 with the error sent. */
static int check_if_match(struct lc_request *req, struct lc_response *res, const char *etag)
{
	const char *m = lc_request_header(req, "If-Match");

	if (m == NULL || *m == '\0')
		return lc_reply_error(req, res, 400, "InvalidIfMatchVersion", "The If-Match version "
			"is missing or not valid for the resource.");
	if (strcmp(m, etag) != 0)
		return lc_reply_error(req, res, 412, "PreconditionFailed", "The precondition given "
			"in one or more of the request header fields evaluated to false.");
	return 0;
}

int cf_update_distribution(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *id = lc_request_path_param(req, "Id");
	xmlDoc *doc = xml_parse(req);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	struct cf_config c;
	struct cf_dist d;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char msg[256], *old_ref = NULL;
	int found, rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	buf_init(&c.aliases);
	if (root == NULL || strcmp((const char *)root->name, "DistributionConfig") != 0) {
		xmlFreeDoc(doc);
		return malformed(req, res);
	}
	if (cf_config_parse(doc, root, &c, msg, sizeof(msg)) < 0) {
		xmlFreeDoc(doc);
		return lc_reply_error(req, res, 400, "InvalidArgument", "%s", msg);
	}
	xmlFreeDoc(doc);
	if (store_begin(srv->store, &e) < 0) {
		cf_config_release(&c);
		return internal(req, res, &e);
	}
	found = dist_load(srv, id ? id : "", &d, &e);
	if (found <= 0) {
		store_rollback(srv->store);
		rc = found < 0 ? internal(req, res, &e) : lc_reply_error(req, res, 404,
			"NoSuchDistribution", "The specified distribution does not exist.");
		goto out;
	}
	if (check_if_match(req, res, d.etag) < 0) {
		store_rollback(srv->store);
		goto out;
	}
	if (store_prepare(srv->store, "SELECT caller_reference FROM cf_distribution WHERE id = ?",
			&st, &e) == 0) {
		sqlite3_bind_text(st, 1, d.id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			old_ref = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		st = NULL;
	}
	if (old_ref == NULL || strcmp(old_ref, c.caller_reference) != 0) {
		store_rollback(srv->store);
		rc = lc_reply_error(req, res, 400, "IllegalUpdate", "The update contains modifications "
			"that are not allowed: the CallerReference cannot change.");
		goto out;
	}
	lc_random_id(d.etag, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	if (store_prepare(srv->store, "UPDATE cf_distribution SET config = ?, bucket = ?,"
			" default_root = ?, aliases = ?, min_ttl = ?, default_ttl = ?, max_ttl = ?,"
			" enabled = ?, etag = ? WHERE id = ?", &st, &e) < 0) {
		store_rollback(srv->store);
		rc = internal(req, res, &e);
		goto out;
	}
	sqlite3_bind_text(st, 1, c.xml, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c.bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c.default_root, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, buf_str(&c.aliases), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, c.min_ttl);
	sqlite3_bind_int64(st, 6, c.default_ttl);
	sqlite3_bind_int64(st, 7, c.max_ttl);
	sqlite3_bind_int(st, 8, c.enabled);
	sqlite3_bind_text(st, 9, d.etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, d.id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(&e, "%s", sqlite3_errmsg(store_db(srv->store)));
		sqlite3_finalize(st);
		store_rollback(srv->store);
		rc = internal(req, res, &e);
		goto out;
	}
	sqlite3_finalize(st);
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	free(d.config);
	d.config = xstrdup(c.xml);
	rc = reply_dist(req, res, 200, &d, "InProgress");
out:
	free(old_ref);
	free(d.config);
	cf_config_release(&c);
	return rc;
}

int cf_delete_distribution(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *id = lc_request_path_param(req, "Id");
	struct cf_dist d;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	int found, enabled = 1;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	found = dist_load(srv, id ? id : "", &d, &e);
	free(d.config);
	if (found <= 0) {
		store_rollback(srv->store);
		return found < 0 ? internal(req, res, &e) : lc_reply_error(req, res, 404,
			"NoSuchDistribution", "The specified distribution does not exist.");
	}
	if (check_if_match(req, res, d.etag) < 0) {
		store_rollback(srv->store);
		return -1;
	}
	if (store_prepare(srv->store, "SELECT enabled FROM cf_distribution WHERE id = ?", &st,
			&e) == 0) {
		sqlite3_bind_text(st, 1, d.id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			enabled = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (enabled) {
		store_rollback(srv->store);
		return lc_reply_error(req, res, 409, "DistributionNotDisabled", "The distribution "
			"you are trying to delete has not been disabled.");
	}
	if (store_prepare(srv->store, "DELETE FROM cf_invalidation WHERE distribution_id = ?1",
			&st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, d.id, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (store_prepare(srv->store, "DELETE FROM cf_distribution WHERE id = ?1", &st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, d.id, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (store_commit(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	return lc_reply_xml(req, res, 204, NULL);
fail:
	store_rollback(srv->store);
	return internal(req, res, &e);
}

/* The DistributionSummary fields that come from the configuration, in the model's order. */
static const char *const summary_fields[] = { "Aliases", "Origins", "OriginGroups",
	"DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses", "Comment", "PriceClass",
	"Enabled", "ViewerCertificate", "Restrictions", "WebACLId", "HttpVersion",
	"IsIPV6Enabled" };

int cf_list_distributions(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	struct buf items, b;
	int n = 0;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (store_prepare(srv->store, "SELECT id, domain, config, created FROM cf_distribution "
			"ORDER BY created, id", &st, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	buf_init(&items);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *cfgxml = (const char *)sqlite3_column_text(st, 2);
		xmlDoc *doc = xml_in_parse(cfgxml, strlen(cfgxml));
		xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		char when[32];

		lc_time_iso8601(sqlite3_column_double(st, 3), when);
		buf_appendf(&items, "<DistributionSummary><Id>%s</Id><ARN>arn:aws:cloudfront::"
			LOCALCLOUD_ACCOUNT_ID ":distribution/%s</ARN><Status>Deployed</Status>"
			"<LastModifiedTime>%s</LastModifiedTime><DomainName>%s</DomainName>",
			sqlite3_column_text(st, 0), sqlite3_column_text(st, 0), when,
			sqlite3_column_text(st, 1));
		for (size_t i = 0; root && i < ARRAY_SIZE(summary_fields); i++) {
			xmlNode *f = xml_in_child(root, summary_fields[i]);

			if (f) {
				char *x = node_dump(doc, f);

				buf_appends(&items, x);
				free(x);
			}
		}
		buf_appends(&items, "<Staging>false</Staging></DistributionSummary>");
		xmlFreeDoc(doc);
		n++;
	}
	sqlite3_finalize(st);
	store_rollback(srv->store);
	buf_init(&b);
	buf_appendf(&b, CF_XML_HEAD "<DistributionList xmlns=\"" CF_XMLNS "\"><Marker></Marker>"
		"<MaxItems>1000</MaxItems><IsTruncated>false</IsTruncated><Quantity>%d</Quantity>", n);
	if (n > 0)
		buf_appendf(&b, "<Items>%s</Items>", items.data);
	buf_appends(&b, "</DistributionList>");
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	buf_release(&items);
	return 0;
}

static void invalidation_xml(struct buf *b, const char *id, const char *status, double created,
	const char *batch)
{
	char when[32];

	lc_time_iso8601(created, when);
	buf_appendf(b, "<Id>%s</Id><Status>%s</Status><CreateTime>%s</CreateTime>%s", id, status,
		when, batch);
}

int cf_create_invalidation(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *dist_id = lc_request_path_param(req, "DistributionId");
	xmlDoc *doc = xml_parse(req);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *items = xml_in_child(xml_in_child(root, "Paths"), "Items");
	char *caller = xml_in_child_text(root, "CallerReference"), *batch = NULL;
	struct buf paths;
	const char **list = NULL;
	size_t n = 0;
	struct cf_dist d;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char id[16], loc[160];
	int found, step, rc = -1;
	struct buf b;

	buf_init(&paths);
	memset(&d, 0, sizeof(d));
	if (root == NULL || strcmp((const char *)root->name, "InvalidationBatch") != 0 ||
			caller == NULL) {
		rc = malformed(req, res);
		goto out;
	}
	for (xmlNode *p = items ? items->children : NULL; p; p = p->next) {
		xmlChar *t;

		if (p->type != XML_ELEMENT_NODE)
			continue;
		t = xmlNodeGetContent(p);
		if (t == NULL || t[0] != '/' || strchr((const char *)t, '\n') ||
				(strchr((const char *)t, '*') &&
					strchr((const char *)t, '*')[1] != '\0')) {
			rc = lc_reply_error(req, res, 400, "InvalidArgument", "Your request contains "
				"one or more invalid invalidation paths: '%s'", t ? (char *)t : "");
			xmlFree(t);
			goto out;
		}
		buf_appendf(&paths, "%s\n", (const char *)t);
		xmlFree(t);
		n++;
	}
	if (n == 0) {
		rc = lc_reply_error(req, res, 400, "InvalidArgument",
			"Your request must contain at least one invalidation path");
		goto out;
	}
	batch = node_dump(doc, root);
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	found = dist_load(srv, dist_id ? dist_id : "", &d, &e);
	if (found <= 0) {
		store_rollback(srv->store);
		rc = found < 0 ? internal(req, res, &e) : lc_reply_error(req, res, 404,
			"NoSuchDistribution", "The specified distribution does not exist.");
		goto out;
	}
	id[0] = 'I';
	lc_random_id(id + 1, 13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	if (store_prepare(srv->store, "INSERT INTO cf_invalidation(id, distribution_id,"
			" caller_reference, paths, batch, status, created) VALUES (?,?,?,?,?,"
			"'InProgress',?)", &st, &e) < 0) {
		store_rollback(srv->store);
		rc = internal(req, res, &e);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d.id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, caller, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, paths.data, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, batch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, lc_now());
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_CONSTRAINT) {
		store_rollback(srv->store);
		rc = lc_reply_error(req, res, 400, "InvalidArgument", "the caller reference '%s' "
			"was used for another invalidation of this distribution", caller);
		goto out;
	}
	if (step != SQLITE_DONE || store_commit(srv->store, &e) < 0) {
		if (step != SQLITE_DONE) {
			err_set(&e, "%s", sqlite3_errmsg(store_db(srv->store)));
			store_rollback(srv->store);
		}
		rc = internal(req, res, &e);
		goto out;
	}
	/* Purge now, then record completion: the reply still says InProgress, as AWS's does. */
	list = xcalloc(n, sizeof(char *));
	{
		char *p = paths.data;

		for (size_t i = 0; i < n; i++) {
			char *nl = strchr(p, '\n');

			*nl = '\0';
			list[i] = p;
			p = nl + 1;
		}
	}
	if (edgectl_purge(d.id, list, n, &e) < 0) {
		lc_log("cloudfront: purge of %s: %s", d.id, e.msg);
	} else if (store_begin(srv->store, &e) == 0) {
		if (store_prepare(srv->store, "UPDATE cf_invalidation SET status = 'Completed' "
				"WHERE id = ?", &st, &e) == 0) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		if (store_commit(srv->store, &e) < 0)
			lc_log("cloudfront: %s", e.msg);
	}
	buf_init(&b);
	buf_appends(&b, CF_XML_HEAD "<Invalidation xmlns=\"" CF_XMLNS "\">");
	invalidation_xml(&b, id, "InProgress", lc_now(), batch);
	buf_appends(&b, "</Invalidation>");
	lc_reply_xml(req, res, 201, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	snprintf(loc, sizeof(loc), "https://cloudfront.amazonaws.com/2020-05-31/distribution/%s"
		"/invalidation/%s", d.id, id);
	lc_reply_header(res, "Location", loc);
	rc = 0;
out:
	free(list);
	free(d.config);
	free(batch);
	free(caller);
	buf_release(&paths);
	xmlFreeDoc(doc);
	return rc;
}

int cf_get_invalidation(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *dist = lc_request_path_param(req, "DistributionId");
	const char *id = lc_request_path_param(req, "Id");
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	struct buf b;
	int step;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (store_prepare(srv->store, "SELECT status, created, batch FROM cf_invalidation WHERE "
			"distribution_id = ? AND id = ?", &st, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	sqlite3_bind_text(st, 1, dist ? dist : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id ? id : "", -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_finalize(st);
		store_rollback(srv->store);
		return lc_reply_error(req, res, 404, "NoSuchInvalidation",
			"The specified invalidation does not exist.");
	}
	buf_init(&b);
	buf_appends(&b, CF_XML_HEAD "<Invalidation xmlns=\"" CF_XMLNS "\">");
	invalidation_xml(&b, id, (const char *)sqlite3_column_text(st, 0),
		sqlite3_column_double(st, 1), (const char *)sqlite3_column_text(st, 2));
	buf_appends(&b, "</Invalidation>");
	sqlite3_finalize(st);
	store_rollback(srv->store);
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	return 0;
}

int cf_list_invalidations(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *dist = lc_request_path_param(req, "DistributionId");
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	struct buf items, b;
	struct cf_dist d;
	int n = 0, found;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	found = dist_load(srv, dist ? dist : "", &d, &e);
	free(d.config);
	if (found <= 0) {
		store_rollback(srv->store);
		return found < 0 ? internal(req, res, &e) : lc_reply_error(req, res, 404,
			"NoSuchDistribution", "The specified distribution does not exist.");
	}
	if (store_prepare(srv->store, "SELECT id, created, status FROM cf_invalidation WHERE "
			"distribution_id = ? ORDER BY created DESC, id", &st, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	sqlite3_bind_text(st, 1, dist, -1, SQLITE_TRANSIENT);
	buf_init(&items);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char when[32];

		lc_time_iso8601(sqlite3_column_double(st, 1), when);
		buf_appendf(&items, "<InvalidationSummary><Id>%s</Id><CreateTime>%s</CreateTime>"
			"<Status>%s</Status></InvalidationSummary>", sqlite3_column_text(st, 0), when,
			sqlite3_column_text(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	store_rollback(srv->store);
	buf_init(&b);
	buf_appendf(&b, CF_XML_HEAD "<InvalidationList xmlns=\"" CF_XMLNS "\"><Marker></Marker>"
		"<MaxItems>1000</MaxItems><IsTruncated>false</IsTruncated><Quantity>%d</Quantity>", n);
	if (n > 0)
		buf_appendf(&b, "<Items>%s</Items>", items.data);
	buf_appends(&b, "</InvalidationList>");
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	buf_release(&items);
	return 0;
}

/* ---- the edge's origin: what a distribution serves ---- */

/*
 * The edge's origin server (core/edge-origin.c) asks which bucket and
 * TTLs a distribution has: one transaction on the store, as it did when
 * it lived here.
 */
static int cf_origin_lookup(struct lc_server *srv, const char *distribution_id,
	struct edgectl_origin *out, struct err *e)
{
	sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "SELECT bucket, default_root, min_ttl, default_ttl, max_ttl,"
			" enabled FROM cf_distribution WHERE id = ?", &st, e) == 0) {
		sqlite3_bind_text(st, 1, distribution_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			out->bucket = xstrdup((const char *)sqlite3_column_text(st, 0));
			out->default_root = xstrdup((const char *)sqlite3_column_text(st, 1));
			out->min_ttl = sqlite3_column_int64(st, 2);
			out->default_ttl = sqlite3_column_int64(st, 3);
			out->max_ttl = sqlite3_column_int64(st, 4);
			out->enabled = sqlite3_column_int(st, 5);
		}
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	out->objects = s3_objstore();
	return 0;
}

/* Route 53 names that point at a distribution: the sites the edge serves for CloudFront. */
int cf_distribution_for_domain(struct lc_server *srv, const char *domain, char *id, size_t id_len)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int found = 0;

	if (store_prepare(srv->store, "SELECT id FROM cf_distribution WHERE domain = ?", &st,
			&e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, id_len, "%s", sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}
