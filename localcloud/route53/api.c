/*
 * route53/api.c: Amazon Route 53 (REST-XML, /2013-04-01/): hosted zones
 * and their record sets, and the names the edge serves.
 *
 * Every operation is a typed handler on the codec (core/codec-glue.h):
 * values in, values out, errors in Route 53's codes and words; no wire
 * format is written here.  The state is state.c's.
 *
 * Nothing resolves these names over DNS: *.localhost names reach
 * 127.0.0.1 by themselves (libcurl, browsers, libnss-myhostname), and the
 * edge serves each name whose A/AAAA alias (or CNAME) points at a
 * CloudFront distribution's domain name.  A change batch is checked whole
 * and applied in one transaction, with AWS's InvalidChangeBatch messages.
 */
#include "compat.h"

#include <math.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

#define R53_MAX_RECORDS_LIST 300
/* zone and change ids: upper case letters and digits, as Route 53 makes them */
#define R53_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int internal(struct lc_request *req, struct codec_error *err, const struct err *e)
{
	lc_log("route53: %s: %s", req->operation, e->msg);
	return codec_error_set(err, 500, "InternalError", "internal error");
}

static int malformed(struct codec_error *err)
{
	return codec_error_set(err, 400, "MalformedXML", "the request body is not a "
		"well-formed document of the expected shape");
}

static int no_zone(struct codec_error *err, const char *id)
{
	return codec_error_set(err, 404, "NoSuchHostedZone", "No hosted zone found with ID: %s",
		id);
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A zone id as given ("Z..." or "/hostedzone/Z..."), without the prefix. */
static const char *zone_id(const json_t *in, const char *member)
{
	const char *id = str(in, member);

	if (id && strncmp(id, "/hostedzone/", 12) == 0)
		id += 12;
	return id ? id : "";
}

/* Route 53 writes '*' as "\052" in the names it returns. */
static json_t *wire_name(const char *name)
{
	struct buf b = BUF_INIT;
	json_t *v;

	for (const char *p = name; *p; p++) {
		if (*p == '*')
			buf_appends(&b, "\\052");
		else
			buf_appendc(&b, *p);
	}
	v = json_string(buf_str(&b));
	buf_release(&b);
	return v;
}

/* Times to the millisecond, as the store's callers have always shown them. */
static json_t *when_value(double t)
{
	return json_real(floor(t * 1000) / 1000);
}

static json_t *zone_value(const struct r53_zone_row *z)
{
	json_t *cfg = json_object();

	if (z->comment)
		json_object_set_new(cfg, "Comment", json_string(z->comment));
	json_object_set_new(cfg, "PrivateZone", json_boolean(z->private_zone));
	return json_pack("{s:s+, s:o, s:s, s:o, s:I}", "Id", "/hostedzone/", z->id, "Name",
		wire_name(z->name), "CallerReference", z->caller, "Config", cfg,
		"ResourceRecordSetCount", (json_int_t)z->count);
}

static json_t *change_value(const char *id, const char *status, double when, const char *comment)
{
	json_t *v = json_pack("{s:s+, s:s, s:o}", "Id", "/change/", id, "Status", status,
		"SubmittedAt", when_value(when));

	if (comment)
		json_object_set_new(v, "Comment", json_string(comment));
	return v;
}

static json_t *delegation_set(void)
{
	return json_pack("{s:[s, s]}", "NameServers", R53_NAME_SERVER_1, R53_NAME_SERVER_2);
}

int r53_create_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const json_t *cfg = json_object_get(in, "HostedZoneConfig");
	const char *raw_name = str(in, "Name"), *caller = str(in, "CallerReference");
	const char *comment = str(cfg, "Comment");
	struct r53_zone_row z = { 0 };
	struct err e = ERR_INIT;
	char id[22], change[22];
	double now = lc_now();
	char *name = NULL;
	int rc;

	if (raw_name == NULL || caller == NULL)
		return malformed(err);
	if ((name = r53_name_normalize(raw_name)) == NULL)
		return codec_error_set(err, 400, "InvalidDomainName", "%s is not a valid domain "
			"name", raw_name);
	id[0] = 'Z';
	lc_random_id(id + 1, 20, R53_ID_ALPHABET);
	change[0] = 'C';
	lc_random_id(change + 1, 20, R53_ID_ALPHABET);
	z = (struct r53_zone_row){ .id = id, .name = name, .caller = (char *)caller,
		.comment = (char *)comment, .private_zone = json_is_true(json_object_get(cfg,
			"PrivateZone")), .count = 2 };
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	rc = r53_zone_insert(srv, id, name, caller, comment, z.private_zone, now, &e);
	if (rc == 1) {
		store_rollback(srv->store);
		rc = codec_error_set(err, 409, "HostedZoneAlreadyExists", "A hosted zone has "
			"already been created with the specified caller reference.");
		goto out;
	}
	if (rc < 0 || r53_change_insert(srv, change, now, NULL, &e) < 0) {
		store_rollback(srv->store);
		rc = internal(req, err, &e);
		goto out;
	}
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	*out = json_pack("{s:o, s:o, s:o, s:s+}", "HostedZone", zone_value(&z), "ChangeInfo",
		change_value(change, "PENDING", now, NULL), "DelegationSet", delegation_set(),
		"Location", "https://route53.amazonaws.com/2013-04-01/hostedzone/", id);
	rc = 0;
out:
	free(name);
	return rc;
}

static int list_zones(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int by_name)
{
	struct lc_server *srv = req->srv;
	const char *dnsname = str(in, "DNSName");
	const char *marker = str(in, by_name ? "HostedZoneId" : "Marker");
	const char *max_s = str(in, "MaxItems");
	struct r53_zone_row *z = NULL;
	struct err e = ERR_INIT;
	size_t n = 0, i = 0, shown = 0;
	long max = max_s ? strtol(max_s, NULL, 10) : 100;
	json_t *zones, *o;
	char *start = NULL;

	if (max <= 0 || max > 100)
		max = 100;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	if (r53_zones_load(srv, &z, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, err, &e);
	}
	store_rollback(srv->store);
	/* Start at the marker zone (by id), or for ByName at the first name >= dnsname. */
	if (by_name && dnsname) {
		char *norm = r53_name_normalize(dnsname);

		start = norm ? r53_reversed(norm) : xstrdup("");
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
	zones = json_array();
	for (; i < n && shown < (size_t)max; i++, shown++)
		json_array_append_new(zones, zone_value(&z[i]));
	o = json_pack("{s:o}", "HostedZones", zones);
	if (by_name) {
		if (dnsname)
			json_object_set_new(o, "DNSName", json_string(dnsname));
		if (marker)
			json_object_set_new(o, "HostedZoneId", json_string(marker));
		json_object_set_new(o, "IsTruncated", json_boolean(i < n));
		if (i < n) {
			json_object_set_new(o, "NextDNSName", wire_name(z[i].name));
			json_object_set_new(o, "NextHostedZoneId", json_string(z[i].id));
		}
	} else {
		if (marker)
			json_object_set_new(o, "Marker", json_string(marker));
		json_object_set_new(o, "IsTruncated", json_boolean(i < n));
		if (i < n)
			json_object_set_new(o, "NextMarker", json_string(z[i].id));
	}
	json_object_set_new(o, "MaxItems", json_sprintf("%ld", max));
	*out = o;
	r53_zones_free(z, n);
	free(start);
	return 0;
}

int r53_list_hosted_zones(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return list_zones(req, in, out, err, 0);
}

int r53_list_hosted_zones_by_name(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	return list_zones(req, in, out, err, 1);
}

int r53_get_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const char *id = zone_id(in, "Id");
	struct r53_zone_row *z = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	if (r53_zones_load(srv, &z, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, err, &e);
	}
	store_rollback(srv->store);
	for (size_t i = 0; i < n && *out == NULL; i++)
		if (strcmp(z[i].id, id) == 0)
			*out = json_pack("{s:o, s:o}", "HostedZone", zone_value(&z[i]),
				"DelegationSet", delegation_set());
	r53_zones_free(z, n);
	return *out ? 0 : no_zone(err, id);
}

int r53_delete_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const char *id = zone_id(in, "Id");
	struct err e = ERR_INIT;
	double now = lc_now();
	char *name, change[22];
	int others;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	if ((name = r53_zone_name(srv, id, &e)) == NULL) {
		store_rollback(srv->store);
		return e.msg[0] ? internal(req, err, &e) : no_zone(err, id);
	}
	others = r53_zone_extra_records(srv, id, name, &e);
	free(name);
	if (others != 0) {
		store_rollback(srv->store);
		if (others < 0)
			return internal(req, err, &e);
		return codec_error_set(err, 400, "HostedZoneNotEmpty", "The specified hosted "
			"zone contains non-required resource record sets and so cannot be deleted.");
	}
	change[0] = 'C';
	lc_random_id(change + 1, 20, R53_ID_ALPHABET);
	if (r53_zone_delete(srv, id, &e) < 0 || r53_change_insert(srv, change, now, NULL, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, err, &e);
	}
	if (store_commit(srv->store, &e) < 0)
		return internal(req, err, &e);
	*out = json_pack("{s:o}", "ChangeInfo", change_value(change, "PENDING", now, NULL));
	return 0;
}

static const char *const r53_types[] = { "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS",
	"PTR", "SOA", "SPF", "SRV", "TXT" };

/* Route 53's words for a name it refuses in a change batch. */
static void fatal_problem(char *msg, size_t msg_len, const char *raw)
{
	const char *problem = r53_name_problem(raw);

	snprintf(msg, msg_len, "[FATAL problem: %s encountered with '%s']",
		problem ? problem : "UnsupportedCharacter (Value contains unsupported characters)",
		raw);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* One Change of a batch into c: 0, or -1 (InvalidInput) or -2 (InvalidChangeBatch) with msg. */
static int parse_change(const json_t *ch, struct r53_change *c, char *msg, size_t msg_len)
{
	const json_t *rrs = json_object_get(ch, "ResourceRecordSet");
	const json_t *alias = json_object_get(rrs, "AliasTarget");
	const json_t *records = json_object_get(rrs, "ResourceRecords");
	const json_t *ttl = json_object_get(rrs, "TTL"), *r;
	const char *raw = str(rrs, "Name");
	int known = 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	buf_init(&c->vals);
	c->ttl = -1;
	c->action = dup_or_null(str(ch, "Action"));
	c->type = dup_or_null(str(rrs, "Type"));
	c->set_id = dup_or_null(str(rrs, "SetIdentifier"));
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
	for (i = 0; i < ARRAY_SIZE(r53_types); i++)
		known |= strcmp(c->type, r53_types[i]) == 0;
	if (!known) {
		snprintf(msg, msg_len, "Invalid type '%s'", c->type);
		goto fail;
	}
	if ((c->name = r53_name_normalize(raw)) == NULL) {
		fatal_problem(msg, msg_len, raw);
		r53_change_release(c);
		return -2;
	}
	if (ttl) {
		json_int_t t = json_integer_value(ttl);

		if (t < 0 || t > 2147483647) {
			snprintf(msg, msg_len, "Invalid TTL '%" JSON_INTEGER_FORMAT "'", t);
			goto fail;
		}
		c->ttl = (long)t;
	}
	if (alias) {
		const char *dns = str(alias, "DNSName");

		c->alias_zone = dup_or_null(str(alias, "HostedZoneId"));
		c->alias_dns = dns ? r53_name_normalize(dns) : NULL;
		c->alias_eval = json_is_true(json_object_get(alias, "EvaluateTargetHealth"));
		if (dns && c->alias_dns == NULL) {
			fatal_problem(msg, msg_len, dns);
			r53_change_release(c);
			return -2;
		}
		if (c->alias_zone == NULL || c->alias_dns == NULL) {
			snprintf(msg, msg_len, "an AliasTarget needs HostedZoneId and a valid DNSName");
			goto fail;
		}
		if (records || ttl) {
			snprintf(msg, msg_len, "an alias record set takes neither TTL nor "
				"ResourceRecords");
			goto fail;
		}
		return 0;
	}
	json_array_foreach(records, i, r) {
		const char *v = str(r, "Value");

		if (v == NULL || strchr(v, '\n')) {
			snprintf(msg, msg_len, "a ResourceRecord needs one Value");
			goto fail;
		}
		buf_appendf(&c->vals, "%s%s", c->vals.len ? "\n" : "", v);
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
	if (strcmp(c->type, "CNAME") == 0 && r53_name_problem(c->vals.data) != NULL) {
		fatal_problem(msg, msg_len, c->vals.data);
		r53_change_release(c);
		return -2;
	}
	return 0;
fail:
	r53_change_release(c);
	return -1;
}

/*
 * Apply c inside the transaction, or add what AWS finds wrong with it to
 * problems (the batch is then rolled back whole).  0, -1 on error.
 */
static int apply_change(struct lc_server *srv, const char *zone, const char *zname,
	const struct r53_change *c, struct buf *problems, struct err *e)
{
	const char *sep = problems->len ? ", " : "";
	int state, clash;

	if (!r53_in_zone(c->name, zname)) {
		buf_appendf(problems, "%s[RRSet with DNS name %s is not permitted in zone %s]", sep,
			c->name, zname);
		return 0;
	}
	if ((state = r53_record_state(srv, zone, c, e)) < 0)
		return -1;
	if (strcmp(c->action, "CREATE") == 0 && state > 0) {
		buf_appendf(problems, "%s[Tried to create resource record set [name='%s', "
			"type='%s'] but it already exists]", sep, c->name, c->type);
		return 0;
	}
	if (strcmp(c->action, "DELETE") == 0) {
		if (state == 0)
			buf_appendf(problems, "%s[Tried to delete resource record set [name='%s', "
				"type='%s'] but it was not found]", sep, c->name, c->type);
		else if (state == 1)
			buf_appendf(problems, "%s[Tried to delete resource record set [name='%s', "
				"type='%s'] but the values provided do not match the current values]",
				sep, c->name, c->type);
		else
			return r53_record_delete(srv, zone, c, e);
		return 0;
	}
	/* CREATE of a new set, or UPSERT: CNAME excludes every other type at its name. */
	clash = r53_others_at_name(srv, zone, c->name, c->type, strcmp(c->type, "CNAME") != 0, e);
	if (clash < 0)
		return -1;
	if (clash > 0) {
		buf_appendf(problems, "%s[RRSet of type %s with DNS name %s is not permitted "
			"because a conflicting RRSet of type CNAME with the same DNS name already "
			"exists in zone %s.]", sep, c->type, c->name, zname);
		return 0;
	}
	return r53_record_insert(srv, zone, c->name, c->type, c->set_id, c->ttl, c->vals.data,
		c->alias_zone, c->alias_dns, c->alias_eval, e);
}

int r53_change_resource_record_sets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const json_t *batch = json_object_get(in, "ChangeBatch");
	const json_t *changes = json_object_get(batch, "Changes"), *ch;
	const char *comment = str(batch, "Comment"), *zone = zone_id(in, "HostedZoneId");
	struct r53_change *list = NULL;
	struct buf problems = BUF_INIT;
	struct err e = ERR_INIT;
	size_t n = 0, i;
	double now = lc_now();
	int rc = -1, began = 0, step;
	char *zname = NULL, msg[512], id[22];

	if (json_array_size(changes) == 0)
		return malformed(err);
	list = xcalloc(json_array_size(changes), sizeof(*list));
	json_array_foreach(changes, i, ch) {
		if ((step = parse_change(ch, &list[n], msg, sizeof(msg))) < 0) {
			rc = codec_error_set(err, 400, step == -2 ? "InvalidChangeBatch" :
				"InvalidInput", "%s", msg);
			goto out;
		}
		n++;
	}
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	began = 1;
	if ((zname = r53_zone_name(srv, zone, &e)) == NULL) {
		rc = e.msg[0] ? internal(req, err, &e) : no_zone(err, zone);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (apply_change(srv, zone, zname, &list[i], &problems, &e) < 0)
			goto fail;
	if (problems.len > 0) {
		rc = codec_error_set(err, 400, "InvalidChangeBatch", "%s", problems.data);
		goto out;
	}
	id[0] = 'C';
	lc_random_id(id + 1, 20, R53_ID_ALPHABET);
	if (r53_change_insert(srv, id, now, comment, &e) < 0)
		goto fail;
	began = 0;
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	if (edgectl_sync(srv, &e) < 0) {
		/* stored, but not served yet: the change stays PENDING until the edge takes it */
		lc_log("route53: edge: change %s pending: %s", id, e.msg);
		err_clear(&e);
		if (r53_change_pending(srv, id, &e) < 0)
			lc_log("route53: %s", e.msg);
	}
	*out = json_pack("{s:o}", "ChangeInfo", change_value(id, "PENDING", now, comment));
	rc = 0;
	goto out;
fail:
	rc = internal(req, err, &e);
out:
	if (began)
		store_rollback(srv->store);
	for (i = 0; i < n; i++)
		r53_change_release(&list[i]);
	free(list);
	free(zname);
	buf_release(&problems);
	return rc;
}

static json_t *record_set_value(const struct r53_rr_row *r)
{
	json_t *v = json_pack("{s:o, s:s}", "Name", wire_name(r->name), "Type", r->type);
	json_t *values;
	char *copy, *save = NULL;

	if (r->set_id[0])
		json_object_set_new(v, "SetIdentifier", json_string(r->set_id));
	if (r->alias_dns) {
		json_object_set_new(v, "AliasTarget", json_pack("{s:s, s:o, s:b}", "HostedZoneId",
			r->alias_zone ? r->alias_zone : "", "DNSName", wire_name(r->alias_dns),
			"EvaluateTargetHealth", r->alias_eval));
		return v;
	}
	json_object_set_new(v, "TTL", json_integer(r->ttl));
	values = json_array();
	copy = xstrdup(r->vals);
	for (char *s = strtok_r(copy, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		json_array_append_new(values, json_pack("{s:s}", "Value", s));
	free(copy);
	json_object_set_new(v, "ResourceRecords", values);
	return v;
}

int r53_list_resource_record_sets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const char *zone = zone_id(in, "HostedZoneId");
	const char *start_name = str(in, "StartRecordName");
	const char *start_type = str(in, "StartRecordType");
	const char *max_s = str(in, "MaxItems");
	long max = max_s ? strtol(max_s, NULL, 10) : R53_MAX_RECORDS_LIST;
	struct r53_rr_row *rows = NULL;
	struct err e = ERR_INIT;
	size_t n = 0, i = 0, shown = 0;
	char *zname, *start_sort = NULL;
	json_t *sets, *o;

	if (max <= 0 || max > R53_MAX_RECORDS_LIST)
		max = R53_MAX_RECORDS_LIST;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	if ((zname = r53_zone_name(srv, zone, &e)) == NULL) {
		store_rollback(srv->store);
		return e.msg[0] ? internal(req, err, &e) : no_zone(err, zone);
	}
	free(zname);
	if (r53_records_load(srv, zone, &rows, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, err, &e);
	}
	store_rollback(srv->store);
	if (start_name) {
		char *norm = r53_name_normalize(start_name);

		start_sort = r53_reversed(norm ? norm : start_name);
		free(norm);
		while (i < n && (strcmp(rows[i].sort, start_sort) < 0 ||
				(strcmp(rows[i].sort, start_sort) == 0 && start_type &&
					strcmp(rows[i].type, start_type) < 0)))
			i++;
	}
	sets = json_array();
	for (; i < n && shown < (size_t)max; i++, shown++)
		json_array_append_new(sets, record_set_value(&rows[i]));
	o = json_pack("{s:o, s:b}", "ResourceRecordSets", sets, "IsTruncated", i < n);
	if (i < n) {
		json_object_set_new(o, "NextRecordName", wire_name(rows[i].name));
		json_object_set_new(o, "NextRecordType", json_string(rows[i].type));
	}
	json_object_set_new(o, "MaxItems", json_sprintf("%ld", max));
	*out = o;
	r53_records_free(rows, n);
	free(start_sort);
	return 0;
}

int r53_get_change(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const char *id = str(in, "Id");
	struct err e = ERR_INIT;
	char *comment = NULL;
	double when = 0;
	int found;

	if (id && strncmp(id, "/change/", 8) == 0)
		id += 8;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	found = r53_change_get(srv, id ? id : "", &when, &comment, &e);
	store_rollback(srv->store);
	if (found < 0)
		return internal(req, err, &e);
	if (found == 0)
		return codec_error_set(err, 404, "NoSuchChange", "A change with the specified "
			"change ID does not exist.");
	/* The edge applied the change before it was acknowledged, unless it is pending. */
	*out = json_pack("{s:o}", "ChangeInfo", change_value(id, r53_change_insync(srv, id) ?
		"INSYNC" : "PENDING", when, comment));
	free(comment);
	return 0;
}
