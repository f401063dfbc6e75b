/*
 * route53/api.c: Amazon Route 53 (REST-XML, /2013-04-01/): hosted zones
 * and their record sets, and the names the edge serves.
 *
 * Nothing resolves these names over DNS: *.localhost names reach
 * 127.0.0.1 by themselves (libcurl, browsers, libnss-myhostname), and the
 * edge serves each name whose A/AAAA alias (or CNAME) points at a
 * CloudFront distribution's domain name.  A change batch is checked whole
 * and applied in one transaction, with AWS's InvalidChangeBatch messages;
 * record sets are listed in AWS's order (names by their labels read from
 * the right, then type).
 */
#include "compat.h"

#include <ctype.h>

#include <libxml/tree.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/router.h"
#include "cloudfront/cloudfront.h"
#include "internal.h"
#include "core/store.h"
#include "core/xml-input.h"

#define R53_XMLNS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define R53_MAX_RECORDS_LIST 300
/* zone and change ids: upper case letters and digits, as Route 53 makes them */
#define R53_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static const char r53_schema[] =
	"CREATE TABLE IF NOT EXISTS r53_zone ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" caller_reference TEXT NOT NULL UNIQUE,"
	" comment TEXT,"
	" private INTEGER NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS r53_record ("
	" zone_id TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" set_identifier TEXT NOT NULL DEFAULT '',"
	" ttl INTEGER,"
	" vals TEXT NOT NULL DEFAULT '',"
	" alias_zone TEXT,"
	" alias_dns TEXT,"
	" alias_eval INTEGER,"
	" PRIMARY KEY (zone_id, name, type, set_identifier));"
	"CREATE TABLE IF NOT EXISTS r53_change ("
	" id TEXT PRIMARY KEY,"
	" submitted REAL NOT NULL,"
	" comment TEXT);"
	/* changes the edge has not applied yet: GetChange says PENDING for them */
	"CREATE TABLE IF NOT EXISTS r53_change_pending ("
	" id TEXT PRIMARY KEY);";

static int r53_edge_sites(struct lc_server *srv, struct edgectl_sites *l, struct err *e);

int r53_init(struct lc_server *srv, struct err *e)
{
	if (store_exec(srv->store, r53_schema, e) < 0)
		return -1;
	edgectl_register(r53_edge_sites);
	return 0;
}

static int internal(struct lc_request *req, struct lc_response *res, const struct err *e)
{
	lc_log("route53: %s: %s", req->operation, e->msg);
	return lc_reply_error(req, res, 500, "InternalError", "internal error");
}

static int malformed(struct lc_request *req, struct lc_response *res)
{
	return lc_reply_error(req, res, 400, "MalformedXML", "the request body is not a "
		"well-formed document of the expected shape");
}

/*
 * What Route 53 finds wrong with a name, in its words ("DomainLabelTooLong
 * (Domain label is too long)"), or NULL when it is a name: labels of 1 to
 * 63 characters, 253 at most without the final dot (255 bytes on the
 * wire), letters, digits, '-', '_' and '*' ("\052") only.  The edge
 * serves these names: what passes here, nginx and the CA take.
 */
static const char *name_problem(const char *in)
{
	size_t label = 0, total = 0;

	if (*in == '\0' || strcmp(in, ".") == 0)
		return "DomainLabelEmpty (Domain label is empty)";
	for (const char *p = in; *p; p++, total++) {
		if (strncmp(p, "\\052", 4) == 0) {
			p += 3;
			label++;
			continue;
		}
		if (*p == '.') {
			if (label == 0)
				return "DomainLabelEmpty (Domain label is empty)";
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '*'))
			return "UnsupportedCharacter (Value contains unsupported characters)";
		if (++label > 63)
			return "DomainLabelTooLong (Domain label is too long)";
	}
	if (total > 0 && in[strlen(in) - 1] == '.')
		total--;
	if (total > 253)
		return "DomainNameTooLong (Domain name is too long)";
	return NULL;
}

/*
 * A DNS name as Route 53 keeps it: lower case, with the final dot, "\052"
 * read as '*'.  NULL when it is not a name (name_problem says why).
 */
static char *name_normalize(const char *in)
{
	struct buf b;
	size_t n;

	if (name_problem(in) != NULL)
		return NULL;
	buf_init(&b);
	for (const char *p = in; *p; p++) {
		if (strncmp(p, "\\052", 4) == 0) {
			buf_appendc(&b, '*');
			p += 3;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_' ||
				*p == '*')) {
			buf_release(&b);
			return NULL;
		}
		buf_appendc(&b, (char)tolower((unsigned char)*p));
	}
	n = b.len;
	if (n == 0 || (n == 1 && b.data[0] == '.') || strstr(b.data, "..") || b.data[0] == '.') {
		buf_release(&b);
		return NULL;
	}
	if (b.data[n - 1] != '.')
		buf_appendc(&b, '.');
	return buf_detach(&b);
}

/* Route 53 writes '*' as "\052" in the names it returns. */
static void xml_name(struct buf *b, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (*p == '*')
			buf_appends(b, "\\052");
		else
			buf_appendc(b, *p);
	}
}

static int in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && strcmp(name + n - z, zone) == 0 && name[n - z - 1] == '.';
}

static void zone_xml(struct buf *b, const char *id, const char *name, const char *caller,
	const char *comment, int private_zone, long count)
{
	buf_appendf(b, "<HostedZone><Id>/hostedzone/%s</Id><Name>", id);
	xml_name(b, name);
	buf_appends(b, "</Name><CallerReference>");
	lc_xml_escape(b, caller);
	buf_appends(b, "</CallerReference><Config>");
	if (comment) {
		buf_appends(b, "<Comment>");
		lc_xml_escape(b, comment);
		buf_appends(b, "</Comment>");
	}
	buf_appendf(b, "<PrivateZone>%s</PrivateZone></Config>"
		"<ResourceRecordSetCount>%ld</ResourceRecordSetCount></HostedZone>",
		private_zone ? "true" : "false", count);
}

static const char *const name_servers[] = { "ns-1.caliber.localhost", "ns-2.caliber.localhost" };

static void change_info_xml(struct buf *b, const char *id, const char *status, double when,
	const char *comment)
{
	char t[32];

	lc_time_iso8601(when, t);
	buf_appendf(b, "<ChangeInfo><Id>/change/%s</Id><Status>%s</Status><SubmittedAt>%s"
		"</SubmittedAt>", id, status, t);
	if (comment) {
		buf_appends(b, "<Comment>");
		lc_xml_escape(b, comment);
		buf_appends(b, "</Comment>");
	}
	buf_appends(b, "</ChangeInfo>");
}

static int insert_change(struct lc_server *srv, const char *id, double when, const char *comment,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (store_prepare(srv->store, "INSERT INTO r53_change(id, submitted, comment) VALUES "
			"(?,?,?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, when);
	if (comment)
		sqlite3_bind_text(st, 3, comment, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

static int insert_record(struct lc_server *srv, const char *zone, const char *name,
	const char *type, const char *set_id, long ttl, const char *vals, const char *alias_zone,
	const char *alias_dns, int alias_eval, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (store_prepare(srv->store, "INSERT OR REPLACE INTO r53_record(zone_id, name, type,"
			" set_identifier, ttl, vals, alias_zone, alias_dns, alias_eval) VALUES"
			" (?,?,?,?,?,?,?,?,?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, set_id ? set_id : "", -1, SQLITE_TRANSIENT);
	if (ttl >= 0)
		sqlite3_bind_int64(st, 5, ttl);
	sqlite3_bind_text(st, 6, vals ? vals : "", -1, SQLITE_TRANSIENT);
	if (alias_dns) {
		sqlite3_bind_text(st, 7, alias_zone, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, alias_dns, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 9, alias_eval);
	}
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok)
		return err_set(e, "%s", sqlite3_errmsg(store_db(srv->store)));
	return 0;
}

int r53_create_hosted_zone(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	xmlDoc *doc = xml_in_parse(req->body.data, req->body.len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *cfg = xml_in_child(root, "HostedZoneConfig");
	char *raw_name = xml_in_child_text(root, "Name"), *caller = xml_in_child_text(root, "CallerReference");
	char *comment = xml_in_child_text(cfg, "Comment"), *priv = xml_in_child_text(cfg, "PrivateZone");
	char *name = raw_name ? name_normalize(raw_name) : NULL;
	char id[22], change[22], *soa = NULL, *ns = NULL, loc[96];
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	double now = lc_now();
	int rc = -1, step;
	struct buf b;

	if (root == NULL || strcmp((const char *)root->name, "CreateHostedZoneRequest") != 0 ||
			raw_name == NULL || caller == NULL) {
		rc = malformed(req, res);
		goto out;
	}
	if (name == NULL) {
		rc = lc_reply_error(req, res, 400, "InvalidDomainName", "%s is not a valid domain "
			"name", raw_name);
		goto out;
	}
	id[0] = 'Z';
	lc_random_id(id + 1, 20, R53_ID_ALPHABET);
	change[0] = 'C';
	lc_random_id(change + 1, 20, R53_ID_ALPHABET);
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	if (store_prepare(srv->store, "INSERT INTO r53_zone(id, name, caller_reference, comment,"
			" private, created) VALUES (?,?,?,?,?,?)", &st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, caller, -1, SQLITE_TRANSIENT);
	if (comment)
		sqlite3_bind_text(st, 4, comment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, priv && strcmp(priv, "true") == 0);
	sqlite3_bind_double(st, 6, now);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (step == SQLITE_CONSTRAINT) {
		store_rollback(srv->store);
		rc = lc_reply_error(req, res, 409, "HostedZoneAlreadyExists", "A hosted zone has "
			"already been created with the specified caller reference.");
		goto out;
	}
	if (step != SQLITE_DONE) {
		err_set(&e, "%s", sqlite3_errmsg(store_db(srv->store)));
		goto fail;
	}
	/* Every zone starts with its NS and SOA records, as on AWS. */
	ns = xasprintf("%s.\n%s.", name_servers[0], name_servers[1]);
	soa = xasprintf("%s. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
		name_servers[0]);
	if (insert_record(srv, id, name, "NS", NULL, 172800, ns, NULL, NULL, 0, &e) < 0 ||
			insert_record(srv, id, name, "SOA", NULL, 900, soa, NULL, NULL, 0, &e) < 0 ||
			insert_change(srv, change, now, NULL, &e) < 0)
		goto fail;
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	buf_init(&b);
	buf_appends(&b, R53_XML_HEAD "<CreateHostedZoneResponse xmlns=\"" R53_XMLNS "\">");
	zone_xml(&b, id, name, caller, comment, priv && strcmp(priv, "true") == 0, 2);
	change_info_xml(&b, change, "PENDING", now, NULL);
	buf_appendf(&b, "<DelegationSet><NameServers><NameServer>%s</NameServer><NameServer>%s"
		"</NameServer></NameServers></DelegationSet></CreateHostedZoneResponse>",
		name_servers[0], name_servers[1]);
	lc_reply_xml(req, res, 201, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	snprintf(loc, sizeof(loc), "https://route53.amazonaws.com/2013-04-01/hostedzone/%s", id);
	lc_reply_header(res, "Location", loc);
	rc = 0;
	goto out;
fail:
	sqlite3_finalize(st);
	store_rollback(srv->store);
	rc = internal(req, res, &e);
out:
	free(raw_name);
	free(name);
	free(caller);
	free(comment);
	free(priv);
	free(soa);
	free(ns);
	xmlFreeDoc(doc);
	return rc;
}

/* Reversed-label order of names, Route 53's listing order. */
static char *reversed(const char *name)
{
	size_t n = strlen(name);
	struct buf b;
	char *copy = xstrndup(name, n && name[n - 1] == '.' ? n - 1 : n);
	char *p;

	buf_init(&b);
	while ((p = strrchr(copy, '.')) != NULL) {
		buf_appends(&b, p + 1);
		buf_appendc(&b, '.');
		*p = '\0';
	}
	buf_appends(&b, copy);
	free(copy);
	return buf_detach(&b);
}

struct zone_row {
	char *id, *name, *caller, *comment, *sort;
	int private_zone;
	long count;
};

static int zone_cmp(const void *a, const void *b)
{
	const struct zone_row *x = a, *y = b;
	int c = strcmp(x->sort, y->sort);

	return c ? c : strcmp(x->id, y->id);
}

static int load_zones(struct lc_server *srv, struct zone_row **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (store_prepare(srv->store, "SELECT z.id, z.name, z.caller_reference, z.comment, "
			"z.private, (SELECT count(*) FROM r53_record r WHERE r.zone_id = z.id) "
			"FROM r53_zone z", &st, e) < 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct zone_row *z;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		z = &(*out)[(*n)++];
		z->id = xstrdup((const char *)sqlite3_column_text(st, 0));
		z->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		z->caller = xstrdup((const char *)sqlite3_column_text(st, 2));
		z->comment = sqlite3_column_text(st, 3) ?
			xstrdup((const char *)sqlite3_column_text(st, 3)) : NULL;
		z->private_zone = sqlite3_column_int(st, 4);
		z->count = sqlite3_column_int64(st, 5);
		z->sort = reversed(z->name);
	}
	sqlite3_finalize(st);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), zone_cmp);
	return 0;
}

static void zones_free(struct zone_row *z, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(z[i].id);
		free(z[i].name);
		free(z[i].caller);
		free(z[i].comment);
		free(z[i].sort);
	}
	free(z);
}

static int list_zones(struct lc_request *req, struct lc_response *res, int by_name)
{
	struct lc_server *srv = req->srv;
	const char *dnsname = lc_request_query(req, "dnsname");
	const char *marker = lc_request_query(req, by_name ? "hostedzoneid" : "marker");
	const char *max_s = lc_request_query(req, "maxitems");
	struct zone_row *z = NULL;
	struct err e = ERR_INIT;
	size_t n = 0, i = 0, shown = 0;
	long max = max_s ? strtol(max_s, NULL, 10) : 100;
	char *start = NULL;
	struct buf b;

	if (max <= 0 || max > 100)
		max = 100;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (load_zones(srv, &z, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	store_rollback(srv->store);
	buf_init(&b);
	buf_appendf(&b, R53_XML_HEAD "<%s xmlns=\"" R53_XMLNS "\"><HostedZones>",
		by_name ? "ListHostedZonesByNameResponse" : "ListHostedZonesResponse");
	/* Start at the marker zone (by id), or for ByName at the first name >= dnsname. */
	if (by_name && dnsname) {
		char *norm = name_normalize(dnsname);

		start = norm ? reversed(norm) : xstrdup("");
		free(norm);
		while (i < n && strcmp(z[i].sort, start) < 0)
			i++;
		if (marker)
			while (i < n && strcmp(z[i].id, marker) != 0 && strcmp(z[i].sort, start) == 0)
				i++;
	} else if (marker) {
		while (i < n && strcmp(z[i].id, marker) != 0)
			i++;
	}
	for (; i < n && shown < (size_t)max; i++, shown++)
		zone_xml(&b, z[i].id, z[i].name, z[i].caller, z[i].comment, z[i].private_zone,
			z[i].count);
	buf_appends(&b, "</HostedZones>");
	if (by_name) {
		if (dnsname) {
			buf_appends(&b, "<DNSName>");
			lc_xml_escape(&b, dnsname);
			buf_appends(&b, "</DNSName>");
		}
		if (marker)
			buf_appendf(&b, "<HostedZoneId>%s</HostedZoneId>", marker);
		buf_appendf(&b, "<IsTruncated>%s</IsTruncated>", i < n ? "true" : "false");
		if (i < n) {
			buf_appends(&b, "<NextDNSName>");
			xml_name(&b, z[i].name);
			buf_appendf(&b, "</NextDNSName><NextHostedZoneId>%s</NextHostedZoneId>",
				z[i].id);
		}
		buf_appendf(&b, "<MaxItems>%ld</MaxItems></ListHostedZonesByNameResponse>", max);
	} else {
		if (marker)
			buf_appendf(&b, "<Marker>%s</Marker>", marker);
		buf_appendf(&b, "<IsTruncated>%s</IsTruncated>", i < n ? "true" : "false");
		if (i < n)
			buf_appendf(&b, "<NextMarker>%s</NextMarker>", z[i].id);
		buf_appendf(&b, "<MaxItems>%ld</MaxItems></ListHostedZonesResponse>", max);
	}
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	zones_free(z, n);
	free(start);
	return 0;
}

int r53_list_hosted_zones(struct lc_request *req, struct lc_response *res)
{
	return list_zones(req, res, 0);
}

int r53_list_hosted_zones_by_name(struct lc_request *req, struct lc_response *res)
{
	return list_zones(req, res, 1);
}

/* The zone's name (caller frees) or NULL when there is no such zone. */
static char *zone_name(struct lc_server *srv, const char *id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *name = NULL;

	if (store_prepare(srv->store, "SELECT name FROM r53_zone WHERE id = ?", &st, e) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return name;
}

static const char *zone_param(const struct lc_request *req)
{
	const char *id = lc_request_path_param(req, "Id");

	if (id && strncmp(id, "/hostedzone/", 12) == 0)
		id += 12;
	return id ? id : "";
}

int r53_get_hosted_zone(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	struct zone_row *z = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	struct buf b;
	int rc = -1;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (load_zones(srv, &z, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	store_rollback(srv->store);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(z[i].id, zone_param(req)) != 0)
			continue;
		buf_init(&b);
		buf_appends(&b, R53_XML_HEAD "<GetHostedZoneResponse xmlns=\"" R53_XMLNS "\">");
		zone_xml(&b, z[i].id, z[i].name, z[i].caller, z[i].comment, z[i].private_zone,
			z[i].count);
		buf_appendf(&b, "<DelegationSet><NameServers><NameServer>%s</NameServer>"
			"<NameServer>%s</NameServer></NameServers></DelegationSet>"
			"</GetHostedZoneResponse>", name_servers[0], name_servers[1]);
		lc_reply_xml(req, res, 200, b.data);
		lc_reply_content_type(res, "text/xml");
		buf_release(&b);
		rc = 0;
	}
	zones_free(z, n);
	if (rc < 0)
		return lc_reply_error(req, res, 404, "NoSuchHostedZone", "No hosted zone found with "
			"ID: %s", zone_param(req));
	return 0;
}

int r53_delete_hosted_zone(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	char *name, change[22];
	double now = lc_now();
	int others = 0;
	struct buf b;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	name = zone_name(srv, zone_param(req), &e);
	if (name == NULL) {
		store_rollback(srv->store);
		return lc_reply_error(req, res, 404, "NoSuchHostedZone", "No hosted zone found with "
			"ID: %s", zone_param(req));
	}
	if (store_prepare(srv->store, "SELECT count(*) FROM r53_record WHERE zone_id = ?1 AND "
			"NOT (name = ?2 AND type IN ('NS', 'SOA'))", &st, &e) == 0) {
		sqlite3_bind_text(st, 1, zone_param(req), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			others = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	free(name);
	if (others > 0) {
		store_rollback(srv->store);
		return lc_reply_error(req, res, 400, "HostedZoneNotEmpty", "The specified hosted "
			"zone contains non-required resource record sets and so cannot be deleted.");
	}
	change[0] = 'C';
	lc_random_id(change + 1, 20, R53_ID_ALPHABET);
	if (store_prepare(srv->store, "DELETE FROM r53_record WHERE zone_id = ?1; ", &st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, zone_param(req), -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (store_prepare(srv->store, "DELETE FROM r53_zone WHERE id = ?1", &st, &e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, zone_param(req), -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (insert_change(srv, change, now, NULL, &e) < 0)
		goto fail;
	if (store_commit(srv->store, &e) < 0)
		return internal(req, res, &e);
	buf_init(&b);
	buf_appends(&b, R53_XML_HEAD "<DeleteHostedZoneResponse xmlns=\"" R53_XMLNS "\">");
	change_info_xml(&b, change, "PENDING", now, NULL);
	buf_appends(&b, "</DeleteHostedZoneResponse>");
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	return 0;
fail:
	store_rollback(srv->store);
	return internal(req, res, &e);
}

/* One change of a batch, parsed. */
struct r53_change {
	char *action;
	char *name;
	char *type;
	char *set_id;
	long ttl;		/* -1: none */
	struct buf vals;	/* values joined by '\n' */
	char *alias_zone, *alias_dns;
	int alias_eval;
};

static void change_free(struct r53_change *c)
{
	free(c->action);
	free(c->name);
	free(c->type);
	free(c->set_id);
	buf_release(&c->vals);
	free(c->alias_zone);
	free(c->alias_dns);
}

static const char *const r53_types[] = { "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS",
	"PTR", "SOA", "SPF", "SRV", "TXT" };

/* Route 53's words for a name it refuses in a change batch. */
static void fatal_problem(char *msg, size_t msg_len, const char *raw)
{
	const char *problem = name_problem(raw);

	snprintf(msg, msg_len, "[FATAL problem: %s encountered with '%s']",
		problem ? problem : "UnsupportedCharacter (Value contains unsupported characters)",
		raw);
}

/* 0, or -1 (InvalidInput) or -2 (InvalidChangeBatch) with msg. */
static int parse_change(xmlNode *ch, struct r53_change *c, char *msg, size_t msg_len)
{
	xmlNode *rrs = xml_in_child(ch, "ResourceRecordSet");
	xmlNode *alias = xml_in_child(rrs, "AliasTarget");
	xmlNode *records = xml_in_child(rrs, "ResourceRecords");
	char *raw = xml_in_child_text(rrs, "Name"), *ttl = xml_in_child_text(rrs, "TTL");
	int known = 0, rc = -1;

	memset(c, 0, sizeof(*c));
	buf_init(&c->vals);
	c->ttl = -1;
	c->action = xml_in_child_text(ch, "Action");
	c->type = xml_in_child_text(rrs, "Type");
	c->set_id = xml_in_child_text(rrs, "SetIdentifier");
	if (c->action == NULL || rrs == NULL || raw == NULL || c->type == NULL) {
		snprintf(msg, msg_len, "a change needs Action and a ResourceRecordSet with Name "
			"and Type");
		goto fail;
	}
	if (strcmp(c->action, "CREATE") && strcmp(c->action, "DELETE") &&
			strcmp(c->action, "UPSERT")) {
		snprintf(msg, msg_len, "Invalid action '%s'", c->action);
		goto fail;
	}
	for (size_t i = 0; i < ARRAY_SIZE(r53_types); i++)
		known |= strcmp(c->type, r53_types[i]) == 0;
	if (!known) {
		snprintf(msg, msg_len, "Invalid type '%s'", c->type);
		goto fail;
	}
	c->name = name_normalize(raw);
	if (c->name == NULL) {
		fatal_problem(msg, msg_len, raw);
		rc = -2;
		goto fail;
	}
	if (ttl) {
		char *end;

		c->ttl = strtol(ttl, &end, 10);
		if (*ttl == '\0' || *end || c->ttl < 0 || c->ttl > 2147483647) {
			snprintf(msg, msg_len, "Invalid TTL '%s'", ttl);
			goto fail;
		}
	}
	if (alias) {
		char *eval = xml_in_child_text(alias, "EvaluateTargetHealth");
		char *dns = xml_in_child_text(alias, "DNSName");

		c->alias_zone = xml_in_child_text(alias, "HostedZoneId");
		c->alias_dns = dns ? name_normalize(dns) : NULL;
		c->alias_eval = eval && strcmp(eval, "true") == 0;
		if (dns && c->alias_dns == NULL) {
			fatal_problem(msg, msg_len, dns);
			free(eval);
			free(dns);
			rc = -2;
			goto fail;
		}
		free(eval);
		free(dns);
		if (c->alias_zone == NULL || c->alias_dns == NULL) {
			snprintf(msg, msg_len, "an AliasTarget needs HostedZoneId and a valid DNSName");
			goto fail;
		}
		if (records || ttl) {
			snprintf(msg, msg_len, "an alias record set takes neither TTL nor "
				"ResourceRecords");
			goto fail;
		}
	} else {
		for (xmlNode *r = records ? records->children : NULL; r; r = r->next) {
			char *v;

			if (r->type != XML_ELEMENT_NODE)
				continue;
			v = xml_in_child_text(r, "Value");
			if (v == NULL || strchr(v, '\n')) {
				free(v);
				snprintf(msg, msg_len, "a ResourceRecord needs one Value");
				goto fail;
			}
			buf_appendf(&c->vals, "%s%s", c->vals.len ? "\n" : "", v);
			free(v);
		}
		if (c->vals.len == 0 || c->ttl < 0) {
			snprintf(msg, msg_len, "a record set needs TTL and ResourceRecords, or an "
				"AliasTarget");
			goto fail;
		}
		if (strcmp(c->type, "CNAME") == 0 && strchr(c->vals.data, '\n')) {
			snprintf(msg, msg_len, "CNAME record sets hold exactly one value");
			goto fail;
		}
		/* a CNAME's value is a name, and the edge serves what it points at */
		if (strcmp(c->type, "CNAME") == 0 && name_problem(c->vals.data) != NULL) {
			fatal_problem(msg, msg_len, c->vals.data);
			rc = -2;
			goto fail;
		}
	}
	free(raw);
	free(ttl);
	return 0;
fail:
	free(raw);
	free(ttl);
	change_free(c);
	return rc;
}

/* Does (zone, name, type, set_id) exist; if so, does it equal c?  -1 error, 0 no, 1 yes-differs, 2 yes-equal. */
static int record_state(struct lc_server *srv, const char *zone, const struct r53_change *c,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int state = 0;

	if (store_prepare(srv->store, "SELECT ttl, vals, alias_zone, alias_dns FROM r53_record "
			"WHERE zone_id = ? AND name = ? AND type = ? AND set_identifier = ?", &st,
			e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c->set_id ? c->set_id : "", -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *vals = (const char *)sqlite3_column_text(st, 1);
		const char *adns = (const char *)sqlite3_column_text(st, 3);
		long ttl = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
			(long)sqlite3_column_int64(st, 0);
		int same;

		if (c->alias_dns)
			same = adns && strcmp(adns, c->alias_dns) == 0;
		else
			same = adns == NULL && ttl == c->ttl && strcmp(vals, buf_str(&c->vals)) == 0;
		state = same ? 2 : 1;
	}
	sqlite3_finalize(st);
	return state;
}

/* Other types at the same name (for CNAME's exclusivity); -1 on error. */
static int others_at_name(struct lc_server *srv, const char *zone, const char *name,
	const char *type, int cname_only, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (store_prepare(srv->store, cname_only ?
			"SELECT count(*) FROM r53_record WHERE zone_id = ? AND name = ? AND type = "
			"'CNAME' AND type <> ?" :
			"SELECT count(*) FROM r53_record WHERE zone_id = ? AND name = ? AND type <> ?",
			&st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Mark change id as not yet applied by the edge. */
static int change_pending(struct lc_server *srv, const char *id, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "INSERT OR IGNORE INTO r53_change_pending (id) VALUES (?)",
			&st, e) < 0) {
		store_rollback(srv->store);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return store_commit(srv->store, e);
}

/*
 * Is change id applied by the edge?  One that was not is tried again now;
 * once the edge takes the sites, every pending change is in sync.
 */
static int change_insync(struct lc_server *srv, const char *id)
{
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	int pending = 0;

	if (store_begin(srv->store, &e) < 0)
		goto out;
	if (store_prepare(srv->store, "SELECT 1 FROM r53_change_pending WHERE id = ?", &st,
			&e) == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		pending = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	if (!pending)
		return 1;
	if (edgectl_sync(srv, &e) < 0)
		goto out;
	if (store_begin(srv->store, &e) < 0)
		goto out;
	if (store_prepare(srv->store, "DELETE FROM r53_change_pending", &st, &e) == 0) {
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (store_commit(srv->store, &e) < 0)
		goto out;
	return 1;
out:
	if (e.msg[0])
		lc_log("route53: edge: %s", e.msg);
	return 0;
}

int r53_change_resource_record_sets(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	xmlDoc *doc = xml_in_parse(req->body.data, req->body.len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *batch = xml_in_child(root, "ChangeBatch");
	xmlNode *changes = xml_in_child(batch, "Changes");
	char *comment = xml_in_child_text(batch, "Comment"), *zname = NULL, msg[512], id[22];
	struct r53_change *list = NULL;
	struct buf problems, b;
	struct err e = ERR_INIT;
	size_t n = 0, cap = 0;
	double now = lc_now();
	int rc = -1, began = 0, step;

	buf_init(&problems);
	if (root == NULL || strcmp((const char *)root->name, "ChangeResourceRecordSetsRequest") ||
			changes == NULL) {
		rc = malformed(req, res);
		goto out;
	}
	for (xmlNode *ch = changes->children; ch; ch = ch->next) {
		if (ch->type != XML_ELEMENT_NODE)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		step = parse_change(ch, &list[n], msg, sizeof(msg));
		if (step < 0) {
			rc = lc_reply_error(req, res, 400, step == -2 ? "InvalidChangeBatch" :
				"InvalidInput", "%s", msg);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		rc = malformed(req, res);
		goto out;
	}
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	began = 1;
	zname = zone_name(srv, zone_param(req), &e);
	if (zname == NULL) {
		rc = lc_reply_error(req, res, 404, "NoSuchHostedZone", "No hosted zone found with "
			"ID: %s", zone_param(req));
		goto out;
	}
	/*
	 * Apply in order inside the transaction, collecting every problem as
	 * AWS words it; any problem rolls the whole batch back.
	 */
	for (size_t i = 0; i < n; i++) {
		struct r53_change *c = &list[i];
		int state;

		if (!in_zone(c->name, zname)) {
			buf_appendf(&problems, "%s[RRSet with DNS name %s is not permitted in zone %s]",
				problems.len ? ", " : "", c->name, zname);
			continue;
		}
		state = record_state(srv, zone_param(req), c, &e);
		if (state < 0)
			goto fail;
		if (strcmp(c->action, "CREATE") == 0 && state > 0) {
			buf_appendf(&problems, "%s[Tried to create resource record set [name='%s', "
				"type='%s'] but it already exists]", problems.len ? ", " : "", c->name,
				c->type);
			continue;
		}
		if (strcmp(c->action, "DELETE") == 0) {
			if (state == 0) {
				buf_appendf(&problems, "%s[Tried to delete resource record set "
					"[name='%s', type='%s'] but it was not found]",
					problems.len ? ", " : "", c->name, c->type);
				continue;
			}
			if (state == 1) {
				buf_appendf(&problems, "%s[Tried to delete resource record set "
					"[name='%s', type='%s'] but the values provided do not match the "
					"current values]", problems.len ? ", " : "", c->name, c->type);
				continue;
			}
			{
				sqlite3_stmt *st = NULL;

				if (store_prepare(srv->store, "DELETE FROM r53_record WHERE zone_id = ?"
						" AND name = ? AND type = ? AND set_identifier = ?", &st,
						&e) < 0)
					goto fail;
				sqlite3_bind_text(st, 1, zone_param(req), -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 3, c->type, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 4, c->set_id ? c->set_id : "", -1,
					SQLITE_TRANSIENT);
				sqlite3_step(st);
				sqlite3_finalize(st);
			}
			continue;
		}
		/* CREATE of a new set, or UPSERT: CNAME excludes every other type at its name. */
		{
			int clash = strcmp(c->type, "CNAME") == 0 ?
				others_at_name(srv, zone_param(req), c->name, c->type, 0, &e) :
				others_at_name(srv, zone_param(req), c->name, c->type, 1, &e);

			if (clash < 0)
				goto fail;
			if (clash > 0) {
				buf_appendf(&problems, "%s[RRSet of type %s with DNS name %s is not "
					"permitted because a conflicting RRSet of type CNAME with the same "
					"DNS name already exists in zone %s.]", problems.len ? ", " : "",
					strcmp(c->type, "CNAME") == 0 ? "CNAME" : c->type, c->name, zname);
				continue;
			}
		}
		if (insert_record(srv, zone_param(req), c->name, c->type, c->set_id, c->ttl,
				c->vals.data, c->alias_zone, c->alias_dns, c->alias_eval, &e) < 0)
			goto fail;
	}
	if (problems.len > 0) {
		store_rollback(srv->store);
		began = 0;
		rc = lc_reply_error(req, res, 400, "InvalidChangeBatch", "%s", problems.data);
		goto out;
	}
	id[0] = 'C';
	lc_random_id(id + 1, 20, R53_ID_ALPHABET);
	if (insert_change(srv, id, now, comment, &e) < 0)
		goto fail;
	began = 0;
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, res, &e);
		goto out;
	}
	if (edgectl_sync(srv, &e) < 0) {
		/* stored, but not served yet: the change stays PENDING until the edge takes it */
		lc_log("route53: edge: change %s pending: %s", id, e.msg);
		err_clear(&e);
		if (change_pending(srv, id, &e) < 0)
			lc_log("route53: %s", e.msg);
	}
	buf_init(&b);
	buf_appends(&b, R53_XML_HEAD "<ChangeResourceRecordSetsResponse xmlns=\"" R53_XMLNS "\">");
	change_info_xml(&b, id, "PENDING", now, comment);
	buf_appends(&b, "</ChangeResourceRecordSetsResponse>");
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	rc = 0;
	goto out;
fail:
	rc = internal(req, res, &e);
out:
	if (began)
		store_rollback(srv->store);
	for (size_t i = 0; i < n; i++)
		change_free(&list[i]);
	free(list);
	free(comment);
	free(zname);
	buf_release(&problems);
	xmlFreeDoc(doc);
	return rc;
}

struct rr_row {
	char *name, *type, *set_id, *vals, *alias_zone, *alias_dns, *sort;
	long ttl;
	int alias_eval;
};

static int rr_cmp(const void *a, const void *b)
{
	const struct rr_row *x = a, *y = b;
	int c = strcmp(x->sort, y->sort);

	if (c == 0)
		c = strcmp(x->type, y->type);
	if (c == 0)
		c = strcmp(x->set_id, y->set_id);
	return c;
}

static void rr_xml(struct buf *b, const struct rr_row *r)
{
	buf_appends(b, "<ResourceRecordSet><Name>");
	xml_name(b, r->name);
	buf_appendf(b, "</Name><Type>%s</Type>", r->type);
	if (r->set_id[0]) {
		buf_appends(b, "<SetIdentifier>");
		lc_xml_escape(b, r->set_id);
		buf_appends(b, "</SetIdentifier>");
	}
	if (r->alias_dns) {
		buf_appends(b, "<AliasTarget><HostedZoneId>");
		lc_xml_escape(b, r->alias_zone ? r->alias_zone : "");
		buf_appends(b, "</HostedZoneId><DNSName>");
		xml_name(b, r->alias_dns);
		buf_appendf(b, "</DNSName><EvaluateTargetHealth>%s</EvaluateTargetHealth>"
			"</AliasTarget>", r->alias_eval ? "true" : "false");
	} else {
		char *copy = xstrdup(r->vals), *save = NULL;

		buf_appendf(b, "<TTL>%ld</TTL><ResourceRecords>", r->ttl);
		for (char *v = strtok_r(copy, "\n", &save); v; v = strtok_r(NULL, "\n", &save)) {
			buf_appends(b, "<ResourceRecord><Value>");
			lc_xml_escape(b, v);
			buf_appends(b, "</Value></ResourceRecord>");
		}
		buf_appends(b, "</ResourceRecords>");
		free(copy);
	}
	buf_appends(b, "</ResourceRecordSet>");
}

int r53_list_resource_record_sets(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *start_name = lc_request_query(req, "name");
	const char *start_type = lc_request_query(req, "type");
	const char *max_s = lc_request_query(req, "maxitems");
	long max = max_s ? strtol(max_s, NULL, 10) : R53_MAX_RECORDS_LIST;
	struct rr_row *rows = NULL;
	struct err e = ERR_INIT;
	sqlite3_stmt *st = NULL;
	size_t n = 0, cap = 0, i = 0, shown = 0;
	char *zname, *start_sort = NULL;
	struct buf b;

	if (max <= 0 || max > R53_MAX_RECORDS_LIST)
		max = R53_MAX_RECORDS_LIST;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	zname = zone_name(srv, zone_param(req), &e);
	if (zname == NULL) {
		store_rollback(srv->store);
		return lc_reply_error(req, res, 404, "NoSuchHostedZone", "No hosted zone found with "
			"ID: %s", zone_param(req));
	}
	free(zname);
	if (store_prepare(srv->store, "SELECT name, type, set_identifier, ttl, vals, alias_zone,"
			" alias_dns, alias_eval FROM r53_record WHERE zone_id = ?", &st, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, res, &e);
	}
	sqlite3_bind_text(st, 1, zone_param(req), -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rr_row *r;

		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		r = &rows[n++];
		r->name = xstrdup((const char *)sqlite3_column_text(st, 0));
		r->type = xstrdup((const char *)sqlite3_column_text(st, 1));
		r->set_id = xstrdup((const char *)sqlite3_column_text(st, 2));
		r->ttl = (long)sqlite3_column_int64(st, 3);
		r->vals = xstrdup((const char *)sqlite3_column_text(st, 4));
		r->alias_zone = sqlite3_column_text(st, 5) ?
			xstrdup((const char *)sqlite3_column_text(st, 5)) : NULL;
		r->alias_dns = sqlite3_column_text(st, 6) ?
			xstrdup((const char *)sqlite3_column_text(st, 6)) : NULL;
		r->alias_eval = sqlite3_column_int(st, 7);
		r->sort = reversed(r->name);
	}
	sqlite3_finalize(st);
	store_rollback(srv->store);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), rr_cmp);
	if (start_name) {
		char *norm = name_normalize(start_name);

		start_sort = reversed(norm ? norm : start_name);
		free(norm);
		while (i < n && (strcmp(rows[i].sort, start_sort) < 0 ||
				(strcmp(rows[i].sort, start_sort) == 0 && start_type &&
					strcmp(rows[i].type, start_type) < 0)))
			i++;
	}
	buf_init(&b);
	buf_appends(&b, R53_XML_HEAD "<ListResourceRecordSetsResponse xmlns=\"" R53_XMLNS "\">"
		"<ResourceRecordSets>");
	for (; i < n && shown < (size_t)max; i++, shown++)
		rr_xml(&b, &rows[i]);
	buf_appendf(&b, "</ResourceRecordSets><IsTruncated>%s</IsTruncated>",
		i < n ? "true" : "false");
	if (i < n) {
		buf_appends(&b, "<NextRecordName>");
		xml_name(&b, rows[i].name);
		buf_appendf(&b, "</NextRecordName><NextRecordType>%s</NextRecordType>",
			rows[i].type);
	}
	buf_appendf(&b, "<MaxItems>%ld</MaxItems></ListResourceRecordSetsResponse>", max);
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	for (size_t k = 0; k < n; k++) {
		free(rows[k].name);
		free(rows[k].type);
		free(rows[k].set_id);
		free(rows[k].vals);
		free(rows[k].alias_zone);
		free(rows[k].alias_dns);
		free(rows[k].sort);
	}
	free(rows);
	free(start_sort);
	return 0;
}

int r53_get_change(struct lc_request *req, struct lc_response *res)
{
	struct lc_server *srv = req->srv;
	const char *id = lc_request_path_param(req, "Id");
	sqlite3_stmt *st = NULL;
	struct err e = ERR_INIT;
	struct buf b;
	double when = 0;
	char *comment = NULL;
	int found = 0;

	if (id && strncmp(id, "/change/", 8) == 0)
		id += 8;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, res, &e);
	if (store_prepare(srv->store, "SELECT submitted, comment FROM r53_change WHERE id = ?",
			&st, &e) == 0) {
		sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = 1;
			when = sqlite3_column_double(st, 0);
			if (sqlite3_column_text(st, 1))
				comment = xstrdup((const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
	}
	store_rollback(srv->store);
	if (!found)
		return lc_reply_error(req, res, 404, "NoSuchChange", "A change with the specified "
			"change ID does not exist.");
	/* The edge applied the change before it was acknowledged, unless it is pending. */
	buf_init(&b);
	buf_appends(&b, R53_XML_HEAD "<GetChangeResponse xmlns=\"" R53_XMLNS "\">");
	change_info_xml(&b, id, change_insync(srv, id) ? "INSYNC" : "PENDING", when, comment);
	buf_appends(&b, "</GetChangeResponse>");
	lc_reply_xml(req, res, 200, b.data);
	lc_reply_content_type(res, "text/xml");
	buf_release(&b);
	free(comment);
	return 0;
}

/* The edge's CloudFront sites: names whose alias or CNAME points at a distribution. */
static int r53_edge_sites(struct lc_server *srv, struct edgectl_sites *l, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (store_begin(srv->store, e) < 0)
		return -1;
	if (store_prepare(srv->store, "SELECT name, type, alias_dns, vals FROM r53_record WHERE "
			"type IN ('A', 'AAAA', 'CNAME') ORDER BY name", &st, e) < 0) {
		store_rollback(srv->store);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *adns = (const char *)sqlite3_column_text(st, 2);
		const char *vals = (const char *)sqlite3_column_text(st, 3);
		char *target, *host, dist[32];
		size_t len;

		if (strchr(name, '*'))
			continue;	/* wildcard names: not served */
		target = xstrdup(adns ? adns : vals);
		len = strlen(target);
		if (len > 0 && target[len - 1] == '.')
			target[len - 1] = '\0';
		host = xstrdup(name);
		len = strlen(host);
		if (len > 0 && host[len - 1] == '.')
			host[len - 1] = '\0';
		if (cf_distribution_for_domain(srv, target, dist, sizeof(dist)) == 1)
			edgectl_sites_add(l, host, EDGE_SITE_DISTRIBUTION, dist, NULL);
		free(target);
		free(host);
	}
	sqlite3_finalize(st);
	store_rollback(srv->store);
	return 0;
}
