/*
 * cloudfront/api.c: Amazon CloudFront (REST-XML, /2020-05-31/) for S3
 * origins, served by the nginx edge.
 *
 * Every operation is a typed handler on the codec (core/codec-glue.h):
 * values in, values out (ETag and Location are header members of the
 * outputs, If-Match one of the inputs); no wire format is written here.
 * The state is state.c's.
 *
 * A distribution keeps the DistributionConfig as the client sent it
 * (returned by GetDistribution), plus what the edge needs: the origin
 * bucket (from the S3 origin's domain name, "<bucket>.s3..."), the default
 * root object and the default cache behaviour's TTLs.  Names are served
 * when Route 53 points them at the distribution's domain name (route53/
 * provides the sites); nginx fetches content from the edge's origin server
 * (core/edge-origin.c), which asks state.c's cf_origin_lookup.
 *
 * Invalidations purge the paths' entries from the distribution's nginx
 * cache before the request is answered; the reply says InProgress, as
 * CloudFront's does, and GetInvalidation then says Completed.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/store.h"
#include "internal.h"

/* CloudFront's managed cache policies, by id: CachingOptimized and CachingDisabled */
#define CF_POLICY_OPTIMIZED "658327ea-f89d-4fab-a63d-7e88639e58f6"
#define CF_POLICY_DISABLED "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#define CF_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int internal(struct lc_request *req, struct codec_error *err, const struct err *e)
{
	lc_log("cloudfront: %s: %s", req->operation, e->msg);
	return codec_error_set(err, 500, "InternalError", "internal error");
}

static int malformed(struct codec_error *err)
{
	return codec_error_set(err, 400, "MalformedXML",
		"1 validation error detected: the request body is not a well-formed document "
		"of the expected shape");
}

static int no_dist(struct codec_error *err)
{
	return codec_error_set(err, 404, "NoSuchDistribution",
		"The specified distribution does not exist.");
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Times to the millisecond, as the store's callers have always shown them. */
static json_t *when_value(double t)
{
	return json_real(floor(t * 1000) / 1000);
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

static void cf_config_release(struct cf_config *c)
{
	free(c->bucket);
	free(c->default_root);
	buf_release(&c->aliases);
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

static long ttl_value(const json_t *dcb, const char *name, long dflt)
{
	const json_t *v = json_object_get(dcb, name);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

/* Read what the edge needs from a DistributionConfig; -1 with a message. */
static int cf_config_parse(const json_t *cfg, struct cf_config *out, char *msg, size_t msg_len)
{
	const json_t *origins = json_object_get(json_object_get(cfg, "Origins"), "Items");
	const json_t *dcb = json_object_get(cfg, "DefaultCacheBehavior");
	const json_t *aliases = json_object_get(json_object_get(cfg, "Aliases"), "Items");
	const json_t *enabled = json_object_get(cfg, "Enabled"), *v;
	const char *target = str(dcb, "TargetOriginId"), *policy = str(dcb, "CachePolicyId");
	size_t i;

	memset(out, 0, sizeof(*out));
	buf_init(&out->aliases);
	out->caller_reference = str(cfg, "CallerReference");
	out->default_root = xstrdup(str(cfg, "DefaultRootObject") ? str(cfg,
		"DefaultRootObject") : "");
	if (out->caller_reference == NULL || origins == NULL || dcb == NULL || target == NULL ||
			enabled == NULL) {
		snprintf(msg, msg_len, "the DistributionConfig needs CallerReference, Origins, "
			"DefaultCacheBehavior with TargetOriginId, and Enabled");
		goto fail;
	}
	json_array_foreach(origins, i, v) {
		const char *id = str(v, "Id"), *domain = str(v, "DomainName");

		if (id && domain && strcmp(id, target) == 0) {
			char *lower = xstrdup(domain);

			for (char *c = lower; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			free(out->bucket);
			out->bucket = origin_bucket(lower);
			free(lower);
		}
	}
	if (out->bucket == NULL) {
		snprintf(msg, msg_len, "the default cache behavior's TargetOriginId '%s' must name "
			"an S3 origin (<bucket>.s3.<region>.amazonaws.com)", target);
		goto fail;
	}
	json_array_foreach(aliases, i, v) {
		const char *a = json_string_value(v);

		if (!alias_valid(a ? a : "")) {
			snprintf(msg, msg_len, "The parameter CNAME contains one or more illegal "
				"characters.");
			goto fail;
		}
		buf_appendf(&out->aliases, "%s%s", out->aliases.len ? " " : "", a);
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
		out->min_ttl = ttl_value(dcb, "MinTTL", 0);
		out->default_ttl = ttl_value(dcb, "DefaultTTL", 86400);
		out->max_ttl = ttl_value(dcb, "MaxTTL", 31536000);
	}
	out->enabled = json_is_true(enabled);
	return 0;
fail:
	cf_config_release(out);
	return -1;
}

static json_t *trusted_none(void)
{
	return json_pack("{s:b, s:i}", "Enabled", 0, "Quantity", 0);
}

static json_t *dist_value(const struct cf_dist *d, const char *status)
{
	return json_pack("{s:s, s:s+, s:s, s:o, s:i, s:s, s:o, s:o, s:O}", "Id", d->id, "ARN",
		"arn:aws:cloudfront::" LOCALCLOUD_ACCOUNT_ID ":distribution/", d->id, "Status",
		status, "LastModifiedTime", when_value(d->created), "InProgressInvalidationBatches",
		d->n_in_progress, "DomainName", d->domain, "ActiveTrustedSigners", trusted_none(),
		"ActiveTrustedKeyGroups", trusted_none(), "DistributionConfig", d->config);
}

int cf_create_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const json_t *cfg = json_object_get(in, "DistributionConfig");
	struct cf_config c;
	struct cf_dist d;
	struct err e = ERR_INIT;
	char msg[256], suffix[14];
	int rc, taken, inserted = 0;

	if (cfg == NULL)	/* CreateDistributionWithTags: the tags are not kept */
		cfg = json_object_get(json_object_get(in, "DistributionConfigWithTags"),
			"DistributionConfig");
	if (cfg == NULL)
		return malformed(err);
	if (cf_config_parse(cfg, &c, msg, sizeof(msg)) < 0)
		return codec_error_set(err, 400, "InvalidArgument", "%s", msg);
	memset(&d, 0, sizeof(d));
	d.id[0] = 'E';
	lc_random_id(d.id + 1, 13, CF_ID_ALPHABET);
	lc_random_id(suffix, 13, "abcdefghijklmnopqrstuvwxyz0123456789");
	snprintf(d.domain, sizeof(d.domain), "d%s.cloudfront.net", suffix);
	lc_random_id(d.etag, 13, CF_ID_ALPHABET);
	d.config = (json_t *)cfg;
	d.created = lc_now();
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	/* An alias belongs to one distribution; a caller reference too. */
	taken = cf_alias_taken(srv, buf_str(&c.aliases), &e);
	if (taken == 0)
		inserted = cf_dist_insert(srv, &d, &c, &e);
	if (taken != 0 || inserted != 0) {
		store_rollback(srv->store);
		if (taken > 0)
			rc = codec_error_set(err, 409, "CNAMEAlreadyExists", "One or more of the "
				"CNAMEs you provided are already associated with a different "
				"resource.");
		else if (taken == 0 && inserted == 1)
			rc = codec_error_set(err, 409, "DistributionAlreadyExists", "The caller "
				"reference that you are using to create a distribution is "
				"associated with another distribution.");
		else
			rc = internal(req, err, &e);
		goto out;
	}
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	*out = json_pack("{s:o, s:s, s:s+}", "Distribution", dist_value(&d, "InProgress"),
		"ETag", d.etag, "Location",
		"https://cloudfront.amazonaws.com/2020-05-31/distribution/", d.id);
	rc = 0;
out:
	cf_config_release(&c);
	return rc;
}

/* The distribution in d, in a read transaction: 0, or -1 with err (404 when absent). */
static int load_dist(struct lc_request *req, const char *id, struct cf_dist *d,
	struct codec_error *err)
{
	struct err e = ERR_INIT;
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return internal(req, err, &e);
	found = cf_dist_load(req->srv, id ? id : "", d, &e);
	store_rollback(req->srv->store);
	if (found < 0)
		return internal(req, err, &e);
	if (found == 0)
		return no_dist(err);
	return 0;
}

int cf_get_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cf_dist d;

	if (load_dist(req, str(in, "Id"), &d, err) < 0)
		return -1;
	*out = json_pack("{s:o, s:s}", "Distribution", dist_value(&d, "Deployed"), "ETag",
		d.etag);
	cf_dist_release(&d);
	return 0;
}

int cf_get_distribution_config(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct cf_dist d;

	if (load_dist(req, str(in, "Id"), &d, err) < 0)
		return -1;
	*out = json_pack("{s:O, s:s}", "DistributionConfig", d.config, "ETag", d.etag);
	cf_dist_release(&d);
	return 0;
}

/* If-Match against the distribution's ETag: 0, or -1 with err. */
static int check_if_match(const json_t *in, const char *etag, struct codec_error *err)
{
	const char *m = str(in, "IfMatch");

	if (m == NULL || *m == '\0')
		return codec_error_set(err, 400, "InvalidIfMatchVersion", "The If-Match version "
			"is missing or not valid for the resource.");
	if (strcmp(m, etag) != 0)
		return codec_error_set(err, 412, "PreconditionFailed", "The precondition given "
			"in one or more of the request header fields evaluated to false.");
	return 0;
}

int cf_update_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const json_t *cfg = json_object_get(in, "DistributionConfig");
	struct cf_dist d = { 0 };
	struct cf_config c;
	struct err e = ERR_INIT;
	char msg[256];
	int found, rc = -1;

	if (cfg == NULL)
		return malformed(err);
	if (cf_config_parse(cfg, &c, msg, sizeof(msg)) < 0)
		return codec_error_set(err, 400, "InvalidArgument", "%s", msg);
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	found = cf_dist_load(srv, str(in, "Id") ? str(in, "Id") : "", &d, &e);
	if (found <= 0 || check_if_match(in, d.etag, err) < 0) {
		store_rollback(srv->store);
		rc = found < 0 ? internal(req, err, &e) : found == 0 ? no_dist(err) : -1;
		goto out;
	}
	if (strcmp(d.caller_reference, c.caller_reference) != 0) {
		store_rollback(srv->store);
		rc = codec_error_set(err, 400, "IllegalUpdate", "The update contains modifications "
			"that are not allowed: the CallerReference cannot change.");
		goto out;
	}
	lc_random_id(d.etag, 13, CF_ID_ALPHABET);
	json_decref(d.config);
	d.config = json_incref((json_t *)cfg);
	if (cf_dist_update(srv, &d, &c, &e) < 0) {
		store_rollback(srv->store);
		rc = internal(req, err, &e);
		goto out;
	}
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	*out = json_pack("{s:o, s:s}", "Distribution", dist_value(&d, "InProgress"), "ETag",
		d.etag);
	rc = 0;
out:
	cf_dist_release(&d);
	cf_config_release(&c);
	return rc;
}

int cf_delete_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	struct cf_dist d;
	struct err e = ERR_INIT;
	int found;

	(void)out;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	found = cf_dist_load(srv, str(in, "Id") ? str(in, "Id") : "", &d, &e);
	if (found <= 0 || check_if_match(in, d.etag, err) < 0 || d.enabled) {
		store_rollback(srv->store);
		if (found < 0)
			internal(req, err, &e);
		else if (found == 0)
			no_dist(err);
		else if (d.enabled && err->code[0] == '\0')
			codec_error_set(err, 409, "DistributionNotDisabled", "The distribution you "
				"are trying to delete has not been disabled.");
		cf_dist_release(&d);
		return -1;
	}
	if (cf_dist_delete(srv, d.id, &e) < 0) {
		store_rollback(srv->store);
		cf_dist_release(&d);
		return internal(req, err, &e);
	}
	cf_dist_release(&d);
	if (store_commit(srv->store, &e) < 0)
		return internal(req, err, &e);
	if (edgectl_sync(srv, &e) < 0)
		lc_log("cloudfront: edge: %s", e.msg);
	return 0;	/* no output: 204, the operation's status */
}

/* The DistributionSummary members that come from the configuration, in the model's order. */
static const char *const summary_fields[] = { "Aliases", "Origins", "OriginGroups",
	"DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses", "Comment", "PriceClass",
	"Enabled", "ViewerCertificate", "Restrictions", "WebACLId", "HttpVersion",
	"IsIPV6Enabled" };

static json_t *summary_value(const struct cf_dist *d)
{
	json_t *v = json_pack("{s:s, s:s+, s:s, s:o, s:s}", "Id", d->id, "ARN",
		"arn:aws:cloudfront::" LOCALCLOUD_ACCOUNT_ID ":distribution/", d->id, "Status",
		"Deployed", "LastModifiedTime", when_value(d->created), "DomainName", d->domain);

	for (size_t i = 0; i < ARRAY_SIZE(summary_fields); i++) {
		json_t *f = json_object_get(d->config, summary_fields[i]);

		if (f)
			json_object_set(v, summary_fields[i], f);
	}
	json_object_set_new(v, "Staging", json_false());
	return v;
}

/* A list without paging: everything, as CloudFront's first page of 1000 would be. */
static json_t *list_value(json_t *items)
{
	json_t *v = json_pack("{s:s, s:i, s:b, s:I}", "Marker", "", "MaxItems", 1000,
		"IsTruncated", 0, "Quantity", (json_int_t)json_array_size(items));

	if (json_array_size(items) > 0)
		json_object_set(v, "Items", items);
	json_decref(items);
	return v;
}

int cf_list_distributions(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	struct err e = ERR_INIT;
	struct cf_dist *d = NULL;
	json_t *items;
	size_t n = 0;

	(void)in;
	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	if (cf_dists_load(srv, &d, &n, &e) < 0) {
		store_rollback(srv->store);
		return internal(req, err, &e);
	}
	store_rollback(srv->store);
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, summary_value(&d[i]));
	cf_dists_free(d, n);
	*out = json_pack("{s:o}", "DistributionList", list_value(items));
	return 0;
}

static json_t *invalidation_value(const char *id, const char *status, double created,
	const json_t *batch)
{
	return json_pack("{s:s, s:s, s:o, s:O}", "Id", id, "Status", status, "CreateTime",
		when_value(created), "InvalidationBatch", batch);
}

/* The batch's paths joined by '\n' into paths; 0, or -1 with err. */
static int batch_paths(const json_t *batch, struct buf *paths, size_t *n,
	struct codec_error *err)
{
	const json_t *items = json_object_get(json_object_get(batch, "Paths"), "Items"), *p;
	size_t i;

	*n = 0;
	json_array_foreach(items, i, p) {
		const char *t = json_string_value(p), *star = t ? strchr(t, '*') : NULL;

		if (t == NULL || t[0] != '/' || strchr(t, '\n') || (star && star[1] != '\0'))
			return codec_error_set(err, 400, "InvalidArgument", "Your request contains "
				"one or more invalid invalidation paths: '%s'", t ? t : "");
		buf_appendf(paths, "%s\n", t);
		(*n)++;
	}
	if (*n == 0)
		return codec_error_set(err, 400, "InvalidArgument",
			"Your request must contain at least one invalidation path");
	return 0;
}

int cf_create_invalidation(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const json_t *batch = json_object_get(in, "InvalidationBatch");
	const char *caller = str(batch, "CallerReference"), *dist = str(in, "DistributionId");
	struct buf paths = BUF_INIT;
	const char **list = NULL;
	struct err e = ERR_INIT;
	struct cf_dist d = { 0 };
	size_t n = 0, k;
	char id[16];
	int found, rc = -1;

	if (batch == NULL || caller == NULL)
		return malformed(err);
	if (batch_paths(batch, &paths, &n, err) < 0)
		goto out;
	if (store_begin(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	found = cf_dist_load(srv, dist ? dist : "", &d, &e);
	if (found <= 0) {
		store_rollback(srv->store);
		rc = found < 0 ? internal(req, err, &e) : no_dist(err);
		goto out;
	}
	id[0] = 'I';
	lc_random_id(id + 1, 13, CF_ID_ALPHABET);
	rc = cf_invalidation_insert(srv, id, d.id, caller, paths.data, batch, lc_now(), &e);
	if (rc != 0) {
		store_rollback(srv->store);
		rc = rc < 0 ? internal(req, err, &e) : codec_error_set(err, 400, "InvalidArgument",
			"the caller reference '%s' was used for another invalidation of this "
			"distribution", caller);
		goto out;
	}
	if (store_commit(srv->store, &e) < 0) {
		rc = internal(req, err, &e);
		goto out;
	}
	/* Purge now, then record completion: the reply still says InProgress, as AWS's does. */
	list = xcalloc(n, sizeof(char *));
	k = 0;
	for (char *p = paths.data, *nl; k < n && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		list[k++] = p;
	}
	if (edgectl_purge(d.id, list, n, &e) < 0)
		lc_log("cloudfront: purge of %s: %s", d.id, e.msg);
	else if (cf_invalidation_complete(srv, id, &e) < 0)
		lc_log("cloudfront: %s", e.msg);
	*out = json_pack("{s:o, s:o}", "Invalidation", invalidation_value(id, "InProgress",
		lc_now(), batch), "Location", json_sprintf("https://cloudfront.amazonaws.com/"
		"2020-05-31/distribution/%s/invalidation/%s", d.id, id));
	rc = 0;
out:
	free(list);
	cf_dist_release(&d);
	buf_release(&paths);
	return rc;
}

int cf_get_invalidation(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	const char *dist = str(in, "DistributionId"), *id = str(in, "Id");
	struct cf_invalidation v;
	struct err e = ERR_INIT;
	int found;

	if (store_begin(req->srv->store, &e) < 0)
		return internal(req, err, &e);
	found = cf_invalidation_get(req->srv, dist ? dist : "", id ? id : "", &v, &e);
	store_rollback(req->srv->store);
	if (found < 0)
		return internal(req, err, &e);
	if (found == 0)
		return codec_error_set(err, 404, "NoSuchInvalidation",
			"The specified invalidation does not exist.");
	*out = json_pack("{s:o}", "Invalidation", invalidation_value(v.id, v.status, v.created,
		v.batch));
	json_decref(v.batch);
	return 0;
}

int cf_list_invalidations(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	struct lc_server *srv = req->srv;
	const char *dist = str(in, "DistributionId");
	struct cf_invalidation *v = NULL;
	struct err e = ERR_INIT;
	struct cf_dist d;
	json_t *items;
	size_t n = 0;
	int found;

	if (store_begin(srv->store, &e) < 0)
		return internal(req, err, &e);
	found = cf_dist_load(srv, dist ? dist : "", &d, &e);
	cf_dist_release(&d);
	if (found <= 0 || cf_invalidations_load(srv, dist, &v, &n, &e) < 0) {
		store_rollback(srv->store);
		return found == 0 ? no_dist(err) : internal(req, err, &e);
	}
	store_rollback(srv->store);
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, json_pack("{s:s, s:o, s:s}", "Id", v[i].id,
			"CreateTime", when_value(v[i].created), "Status", v[i].status));
	free(v);
	*out = json_pack("{s:o}", "InvalidationList", list_value(items));
	return 0;
}
