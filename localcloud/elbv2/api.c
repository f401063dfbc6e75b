/*
 * elbv2/api.c: Elastic Load Balancing v2's API (Query, 2015-12-01):
 * load balancers, target groups (IP targets, HTTP health checks),
 * listeners with a forward default action, host-header rules, target
 * registration with draining, DescribeTargetHealth.  What realises them
 * (the health checker, the edge's view) is engine.c.
 *
 * Names, target ids and health check settings are checked with AWS's
 * rules (they become nginx configuration); CALIBER_ELB_QUICK_HEALTH_CHECKS=1
 * also takes intervals and timeouts of 1 s, for quick tests.
 *
 * Differences from AWS: one namespace for all regions; no subnets,
 * security groups, stickiness, weighted or path rules; HTTP health checks
 * only; every listener is served by the edge's one HTTPS port.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <strings.h>

#include <openssl/rand.h>

#include "core/caliberd.h"
#include "core/edgectl.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "core/store.h"

#define ELB_ACCOUNT "000000000000"
/* us-east-1's ALB zone, as AWS reports it: Route 53 aliases name it */
#define ELB_ZONE_ID	"Z35SXDOTRQ7X7K"
#define ELB_MAX_MEMBERS 100

/* ------------------------------------------------------------------ */
/* the API (Query)                                                    */

struct elb_call {
	struct lc_request *req;
	struct lc_response *res;
	sqlite3 *db;
	struct buf out; /* the inner XML of the <OpResult> */
	double now;
	int sync; /* the edge's sites may have changed */
};

/* an error of the call c (lc_reply_error checks the format) */
#define elb_bad(c, status, code, ...)                                                              \
	lc_reply_error((c)->req, (c)->res, (status), (code), __VA_ARGS__)

static int elb_run(struct lc_request *req, struct lc_response *res, int (*fn)(struct elb_call *c))
{
	struct elb_call c;
	struct err e = ERR_INIT;
	struct store *store = req->srv->store;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.res = res;
	c.now = lc_now();
	buf_init(&c.out);
	if (store_begin(store, &e) < 0) {
		lc_log("elbv2: %s", e.msg);
		lc_reply_error(req, res, 500, "InternalFailure", "an internal error occurred");
		goto out;
	}
	c.db = store_db(store);
	if (fn(&c) < 0) {
		store_rollback(store);
		goto out;
	}
	if (store_commit(store, &e) < 0) {
		lc_log("elbv2: %s", e.msg);
		lc_reply_error(req, res, 500, "InternalFailure", "an internal error occurred");
		goto out;
	}
	if (c.sync && edgectl_sync(req->srv, &e) < 0)
		lc_log("elbv2: edge sync: %s", e.msg);
	/* botocore wants the <OpResult> element even when it is empty */
	ret = lc_reply_query(req, res, c.out.len ? c.out.data : "");
out:
	buf_release(&c.out);
	return ret;
}

static const char *form(struct elb_call *c, const char *name)
{
	return lc_request_form(c->req, name);
}

static const char *formf(struct elb_call *c, char *key, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static const char *formf(struct elb_call *c, char *key, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, len, fmt, ap);
	va_end(ap);
	return form(c, key);
}

static long form_long(struct elb_call *c, const char *name, long dflt)
{
	const char *v = form(c, name);

	return v != NULL ? strtol(v, NULL, 10) : dflt;
}

static void xml_el(struct buf *b, const char *name, const char *value)
{
	buf_appendf(b, "<%s>", name);
	lc_xml_escape(b, value ? value : "");
	buf_appendf(b, "</%s>", name);
}

/*
 * AWS's rules for load balancer and target group names: 1 to 32
 * alphanumerics and hyphens, neither first nor last a hyphen; a load
 * balancer's may not begin with "internal-" either.  The name goes into
 * the DNS name the edge serves.  0 when valid, else -1 with the reply.
 */
static int elb_name_check(struct elb_call *c, const char *what, const char *s, int lb)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0)
		return elb_bad(c, 400, "ValidationError", "%s name cannot be empty", what);
	if (n > 32)
		return elb_bad(c, 400, "ValidationError",
			"%s name cannot be longer than 32 characters", what);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return elb_bad(c, 400, "ValidationError",
				"%s name '%s' can contain only alphanumeric characters and hyphens",
				what, s);
	if (s[0] == '-' || s[n - 1] == '-')
		return elb_bad(c, 400, "ValidationError",
			"%s name '%s' cannot begin or end with a hyphen", what, s);
	if (lb && strncasecmp(s, "internal-", 9) == 0)
		return elb_bad(c, 400, "ValidationError",
			"%s name '%s' cannot begin with 'internal-'", what, s);
	return 0;
}

/*
 * An integer parameter within AWS's range (the model's min and max), or
 * dflt when absent; else -1 with AWS's validation message.
 */
static int form_int(struct elb_call *c, const char *name, const char *member, long dflt,
	long lo, long hi, long *out)
{
	const char *v = form(c, name);
	char *end;
	long x;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	x = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno == ERANGE)
		return elb_bad(c, 400, "ValidationError",
			"1 validation error detected: Value '%s' at '%s' failed to satisfy "
			"constraint: Member must be an integer", v, member);
	if (x < lo || x > hi)
		return elb_bad(c, 400, "ValidationError",
			"1 validation error detected: Value '%ld' at '%s' failed to satisfy "
			"constraint: Member must have value %s than or equal to %ld", x, member,
			x < lo ? "greater" : "less", x < lo ? lo : hi);
	*out = x;
	return 0;
}

static void lb_xml(struct buf *b, sqlite3_stmt *st)
{
	char when[32];

	lc_time_iso8601(sqlite3_column_double(st, 5), when);
	buf_appends(b, "<member>");
	xml_el(b, "LoadBalancerArn", (const char *)sqlite3_column_text(st, 0));
	xml_el(b, "LoadBalancerName", (const char *)sqlite3_column_text(st, 1));
	xml_el(b, "DNSName", (const char *)sqlite3_column_text(st, 2));
	xml_el(b, "CanonicalHostedZoneId", ELB_ZONE_ID);
	xml_el(b, "Scheme", (const char *)sqlite3_column_text(st, 3));
	xml_el(b, "Type", (const char *)sqlite3_column_text(st, 4));
	xml_el(b, "CreatedTime", when);
	buf_appends(b, "<VpcId>vpc-local</VpcId><State><Code>active</Code></State>"
		       "<IpAddressType>ipv4</IpAddressType><AvailabilityZones/><SecurityGroups/>"
		       "</member>");
}

static int create_load_balancer(struct elb_call *c)
{
	const char *name = form(c, "Name"), *scheme = form(c, "Scheme"), *type = form(c, "Type");
	sqlite3_stmt *st = NULL;
	unsigned char r[4];
	char *arn = NULL, *dns = NULL, id[17];
	int ret = -1;

	if (elb_name_check(c, "LoadBalancer", name, 1) < 0)
		return -1;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM elb_lb WHERE name = ?", -1, &st, NULL) !=
		SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_finalize(st);
		return elb_bad(c, 400, "DuplicateLoadBalancerName",
			"A load balancer with the same name '%s' exists, but with different "
			"settings",
			name);
	}
	sqlite3_finalize(st);
	RAND_bytes(r, sizeof(r));
	snprintf(id, sizeof(id), "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
		r[3] ^ 0x5a, r[2] ^ 0xa5, r[1] ^ 0x3c, r[0] ^ 0xc3);
	arn = xasprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", c->req->region,
		ELB_ACCOUNT, name, id);
	/* *.localhost: libcurl and browsers resolve it to 127.0.0.1, where the edge listens */
	dns = xasprintf("%s-%u.%s.elb.localhost", name, (unsigned)(r[0] << 16 | r[1] << 8 | r[2]),
		c->req->region);
	for (char *p = dns; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO elb_lb (arn, name, dns, scheme, type, created) VALUES (?, ?, ?, "
		    "?, "
		    "?, ?) RETURNING arn, name, dns, scheme, type, created",
		    -1, &st, NULL) != SQLITE_OK) {
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, dns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, scheme ? scheme : "internet-facing", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, type ? type : "application", -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, c->now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	buf_appends(&c->out, "<LoadBalancers>");
	lb_xml(&c->out, st);
	buf_appends(&c->out, "</LoadBalancers>");
	sqlite3_finalize(st);
	ret = 0;
out:
	free(arn);
	free(dns);
	return ret;
}

/* Rows of table whose key column is among the list param (all when absent). */
static int select_members(struct elb_call *c, const char *sql_all, const char *sql_one,
	const char *list, const char *notfound_code, const char *notfound_msg,
	void (*emit)(struct buf *, sqlite3_stmt *))
{
	char key[96];
	sqlite3_stmt *st = NULL;
	int i;

	if (formf(c, key, sizeof(key), "%s.member.1", list) == NULL) {
		if (sqlite3_prepare_v2(c->db, sql_all, -1, &st, NULL) != SQLITE_OK)
			return elb_bad(c, 500, "InternalFailure", "store");
		while (sqlite3_step(st) == SQLITE_ROW)
			emit(&c->out, st);
		sqlite3_finalize(st);
		return 0;
	}
	for (i = 1; i <= ELB_MAX_MEMBERS; i++) {
		const char *v = formf(c, key, sizeof(key), "%s.member.%d", list, i);
		int found = 0;

		if (v == NULL)
			break;
		if (sqlite3_prepare_v2(c->db, sql_one, -1, &st, NULL) != SQLITE_OK)
			return elb_bad(c, 500, "InternalFailure", "store");
		sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			emit(&c->out, st);
			found = 1;
		}
		sqlite3_finalize(st);
		if (!found)
			return elb_bad(c, 400, notfound_code, "%s: '%s'", notfound_msg, v);
	}
	return 0;
}

static int describe_load_balancers(struct elb_call *c)
{
	const char *list = form(c, "Names.member.1") ? "Names" : "LoadBalancerArns";

	buf_appends(&c->out, "<LoadBalancers>");
	if (select_members(c,
		    "SELECT arn, name, dns, scheme, type, created FROM elb_lb ORDER BY name",
		    "SELECT arn, name, dns, scheme, type, created FROM elb_lb WHERE name = ?1 OR "
		    "arn = ?1",
		    list, "LoadBalancerNotFound", "One or more load balancers not found",
		    lb_xml) < 0)
		return -1;
	buf_appends(&c->out, "</LoadBalancers>");
	return 0;
}

static int delete_load_balancer(struct elb_call *c)
{
	const char *arn = form(c, "LoadBalancerArn");
	sqlite3_stmt *st = NULL;

	if (arn == NULL)
		return elb_bad(c, 400, "ValidationError", "LoadBalancerArn is required");
	if (sqlite3_prepare_v2(c->db,
		    "DELETE FROM elb_rule WHERE listener IN (SELECT arn FROM elb_listener WHERE lb "
		    "= ?1);",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(c->db, "DELETE FROM elb_listener WHERE lb = ?", -1, &st, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(c->db, "DELETE FROM elb_lb WHERE arn = ?", -1, &st, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	c->sync = 1;
	return 0;
}

#define TG_COLUMNS                                                                                 \
	"arn, name, protocol, port, target_type, hc_path, hc_interval, hc_timeout, "               \
	"healthy_threshold, unhealthy_threshold, matcher"

static void tg_xml(struct buf *b, sqlite3_stmt *st)
{
	buf_appends(b, "<member>");
	xml_el(b, "TargetGroupArn", (const char *)sqlite3_column_text(st, 0));
	xml_el(b, "TargetGroupName", (const char *)sqlite3_column_text(st, 1));
	xml_el(b, "Protocol", (const char *)sqlite3_column_text(st, 2));
	buf_appendf(b, "<Port>%d</Port>", sqlite3_column_int(st, 3));
	xml_el(b, "TargetType", (const char *)sqlite3_column_text(st, 4));
	buf_appends(b, "<VpcId>vpc-local</VpcId><HealthCheckProtocol>HTTP</HealthCheckProtocol>"
		       "<HealthCheckPort>traffic-port</HealthCheckPort>"
		       "<HealthCheckEnabled>true</HealthCheckEnabled>");
	xml_el(b, "HealthCheckPath", (const char *)sqlite3_column_text(st, 5));
	buf_appendf(b,
		"<HealthCheckIntervalSeconds>%d</HealthCheckIntervalSeconds>"
		"<HealthCheckTimeoutSeconds>%d</HealthCheckTimeoutSeconds>"
		"<HealthyThresholdCount>%d</HealthyThresholdCount>"
		"<UnhealthyThresholdCount>%d</UnhealthyThresholdCount><Matcher>",
		sqlite3_column_int(st, 6), sqlite3_column_int(st, 7), sqlite3_column_int(st, 8),
		sqlite3_column_int(st, 9));
	xml_el(b, "HttpCode", (const char *)sqlite3_column_text(st, 10));
	buf_appends(b, "</Matcher><LoadBalancerArns/></member>");
}

static int create_target_group(struct elb_call *c)
{
	const char *name = form(c, "Name"), *protocol = form(c, "Protocol");
	const char *path = form(c, "HealthCheckPath"), *matcher = form(c, "Matcher.HttpCode");
	const char *type = form(c, "TargetType");
	sqlite3_stmt *st = NULL;
	unsigned char r[8];
	char *arn = NULL;
	long port;
	int ret = -1;

	long interval, timeout, healthy, unhealthy;
	/*
	 * AWS's ranges, unless CALIBER_ELB_QUICK_HEALTH_CHECKS=1 (test suites):
	 * then intervals and timeouts of 1 s too, a target healthy in seconds.
	 */
	const char *q = getenv("CALIBER_ELB_QUICK_HEALTH_CHECKS");
	int quick = q && strcmp(q, "1") == 0;

	if (elb_name_check(c, "Target group", name, 0) < 0)
		return -1;
	if (form_int(c, "HealthCheckIntervalSeconds", "healthCheckIntervalSeconds", 30,
			quick ? 1 : 5, 300, &interval) < 0 ||
		form_int(c, "HealthCheckTimeoutSeconds", "healthCheckTimeoutSeconds", 5,
			quick ? 1 : 2, 120, &timeout) < 0 ||
		form_int(c, "HealthyThresholdCount", "healthyThresholdCount", 5, 2, 10,
			&healthy) < 0 ||
		form_int(c, "UnhealthyThresholdCount", "unhealthyThresholdCount", 2, 2, 10,
			&unhealthy) < 0 ||
		form_int(c, "Port", "port", 80, 1, 65535, &port) < 0)
		return -1;
	/* a default timeout (5 s) yields to a short interval given alone: 5 s checks run */
	if (form(c, "HealthCheckTimeoutSeconds") == NULL && timeout >= interval)
		timeout = interval > 2 ? interval - 1 : interval;
	if (timeout > interval || (timeout == interval && !quick))
		return elb_bad(c, 400, "ValidationError",
			"Health check timeout '%ld' must be smaller than the interval '%ld'", timeout,
			interval);
	if (type != NULL && strcmp(type, "ip"))
		return elb_bad(c, 400, "ValidationError",
			"caliberd's target groups take IP targets only (TargetType ip), not '%s'",
			type);
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM elb_tg WHERE name = ?", -1, &st, NULL) !=
		SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_finalize(st);
		return elb_bad(c, 400, "DuplicateTargetGroupName",
			"A target group with the same name '%s' exists, but with different "
			"settings",
			name);
	}
	sqlite3_finalize(st);
	RAND_bytes(r, sizeof(r));
	arn = xasprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/"
			"%02x%02x%02x%02x%02x%02x%02x%02x",
		c->req->region, ELB_ACCOUNT, name, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO elb_tg (arn, name, protocol, port, target_type, hc_path, "
		    "hc_interval, "
		    "hc_timeout, healthy_threshold, unhealthy_threshold, matcher, created) VALUES "
		    "(?, ?, ?, ?, 'ip', ?, ?, ?, ?, ?, ?, ?) RETURNING " TG_COLUMNS,
		    -1, &st, NULL) != SQLITE_OK) {
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, protocol ? protocol : "HTTP", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, port);
	sqlite3_bind_text(st, 5, path ? path : "/", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, interval);
	sqlite3_bind_int64(st, 7, timeout);
	sqlite3_bind_int64(st, 8, healthy);
	sqlite3_bind_int64(st, 9, unhealthy);
	sqlite3_bind_text(st, 10, matcher ? matcher : "200", -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 11, c->now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	buf_appends(&c->out, "<TargetGroups>");
	tg_xml(&c->out, st);
	buf_appends(&c->out, "</TargetGroups>");
	sqlite3_finalize(st);
	ret = 0;
out:
	free(arn);
	return ret;
}

static int describe_target_groups(struct elb_call *c)
{
	const char *list = form(c, "Names.member.1") ? "Names" : "TargetGroupArns";

	buf_appends(&c->out, "<TargetGroups>");
	if (select_members(c, "SELECT " TG_COLUMNS " FROM elb_tg ORDER BY name",
		    "SELECT " TG_COLUMNS " FROM elb_tg WHERE name = ?1 OR arn = ?1", list,
		    "TargetGroupNotFound", "One or more target groups not found", tg_xml) < 0)
		return -1;
	buf_appends(&c->out, "</TargetGroups>");
	return 0;
}

static int delete_target_group(struct elb_call *c)
{
	const char *arn = form(c, "TargetGroupArn");
	sqlite3_stmt *st = NULL;
	int used = 0;

	if (arn == NULL)
		return elb_bad(c, 400, "ValidationError", "TargetGroupArn is required");
	if (sqlite3_prepare_v2(c->db,
		    "SELECT (SELECT count(*) FROM elb_listener WHERE tg = ?1) + (SELECT count(*) "
		    "FROM "
		    "elb_rule WHERE tg = ?1)",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			used = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (used)
		return elb_bad(c, 400, "ResourceInUse",
			"Target group '%s' is currently in use by a listener or a rule", arn);
	if (sqlite3_prepare_v2(c->db, "DELETE FROM elb_target WHERE tg = ?1", -1, &st, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(c->db, "DELETE FROM elb_tg WHERE arn = ?1", -1, &st, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return 0;
}

static int tg_exists(struct elb_call *c, const char *arn)
{
	sqlite3_stmt *st = NULL;
	int has = 0;

	if (arn == NULL)
		return 0;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM elb_tg WHERE arn = ?", -1, &st, NULL) ==
		SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		has = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	return has;
}

static int modify_target_group_attributes(struct elb_call *c)
{
	const char *arn = form(c, "TargetGroupArn");
	char key[96];
	int i;

	if (!tg_exists(c, arn))
		return elb_bad(c, 400, "TargetGroupNotFound", "Target group '%s' not found",
			arn ? arn : "");
	buf_appends(&c->out, "<Attributes>");
	for (i = 1; i <= ELB_MAX_MEMBERS; i++) {
		const char *k = formf(c, key, sizeof(key), "Attributes.member.%d.Key", i);
		const char *v = formf(c, key, sizeof(key), "Attributes.member.%d.Value", i);

		if (k == NULL)
			break;
		if (!strcmp(k, "deregistration_delay.timeout_seconds") && v != NULL) {
			sqlite3_stmt *st = NULL;
			long d = strtol(v, NULL, 10);

			if (d < 0 || d > 3600)
				return elb_bad(c, 400, "ValidationError",
					"deregistration_delay.timeout_seconds must be 0 to 3600");
			if (sqlite3_prepare_v2(c->db,
				    "UPDATE elb_tg SET dereg_delay = ? WHERE arn = ?", -1, &st,
				    NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, d);
				sqlite3_bind_text(st, 2, arn, -1, SQLITE_TRANSIENT);
				sqlite3_step(st);
				sqlite3_finalize(st);
			}
		}
		buf_appends(&c->out, "<member>");
		xml_el(&c->out, "Key", k);
		xml_el(&c->out, "Value", v);
		buf_appends(&c->out, "</member>");
	}
	buf_appends(&c->out, "</Attributes>");
	return 0;
}

static void listener_xml(struct buf *b, sqlite3_stmt *st)
{
	buf_appends(b, "<member>");
	xml_el(b, "ListenerArn", (const char *)sqlite3_column_text(st, 0));
	xml_el(b, "LoadBalancerArn", (const char *)sqlite3_column_text(st, 1));
	xml_el(b, "Protocol", (const char *)sqlite3_column_text(st, 2));
	buf_appendf(b, "<Port>%d</Port><DefaultActions><member><Type>forward</Type>",
		sqlite3_column_int(st, 3));
	xml_el(b, "TargetGroupArn", (const char *)sqlite3_column_text(st, 4));
	buf_appends(b, "</member></DefaultActions></member>");
}

static int create_listener(struct elb_call *c)
{
	const char *lb = form(c, "LoadBalancerArn"), *protocol = form(c, "Protocol");
	const char *type = form(c, "DefaultActions.member.1.Type");
	const char *tg = form(c, "DefaultActions.member.1.TargetGroupArn");
	sqlite3_stmt *st = NULL;
	unsigned char r[8];
	char *arn = NULL;
	const char *slash;
	int ret = -1, has_lb = 0;

	if (lb != NULL && sqlite3_prepare_v2(c->db, "SELECT 1 FROM elb_lb WHERE arn = ?", -1, &st,
				  NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, lb, -1, SQLITE_TRANSIENT);
		has_lb = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (!has_lb)
		return elb_bad(c, 400, "LoadBalancerNotFound", "Load balancer '%s' not found",
			lb ? lb : "");
	if (tg == NULL)
		tg = form(c, "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1."
			     "TargetGroupArn");
	if (type == NULL || strcmp(type, "forward") || !tg_exists(c, tg))
		return elb_bad(c, 400, "ValidationError",
			"caliberd's listeners take one default action: forward to an existing "
			"target group");
	RAND_bytes(r, sizeof(r));
	slash = strstr(lb, "loadbalancer/");
	arn = xasprintf(
		"arn:aws:elasticloadbalancing:%s:%s:listener/%s/%02x%02x%02x%02x%02x%02x%02x%02x",
		c->req->region, ELB_ACCOUNT, slash ? slash + strlen("loadbalancer/") : "app", r[0],
		r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO elb_listener (arn, lb, protocol, port, tg) VALUES (?, ?, ?, ?, ?) "
		    "RETURNING arn, lb, protocol, port, tg",
		    -1, &st, NULL) != SQLITE_OK) {
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, lb, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, protocol ? protocol : "HTTP", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, form_long(c, "Port", 80));
	sqlite3_bind_text(st, 5, tg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	buf_appends(&c->out, "<Listeners>");
	listener_xml(&c->out, st);
	buf_appends(&c->out, "</Listeners>");
	sqlite3_finalize(st);
	c->sync = 1;
	ret = 0;
out:
	free(arn);
	return ret;
}

static int describe_listeners(struct elb_call *c)
{
	const char *lb = form(c, "LoadBalancerArn");
	sqlite3_stmt *st = NULL;

	if (lb == NULL)
		return elb_bad(c, 400, "ValidationError", "LoadBalancerArn is required");
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn, lb, protocol, port, tg FROM elb_listener WHERE lb = ? ORDER BY "
		    "port",
		    -1, &st, NULL) != SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, lb, -1, SQLITE_TRANSIENT);
	buf_appends(&c->out, "<Listeners>");
	while (sqlite3_step(st) == SQLITE_ROW)
		listener_xml(&c->out, st);
	buf_appends(&c->out, "</Listeners>");
	sqlite3_finalize(st);
	return 0;
}

static int create_rule(struct elb_call *c)
{
	const char *listener = form(c, "ListenerArn"),
		   *field = form(c, "Conditions.member.1.Field");
	const char *host = form(c, "Conditions.member.1.HostHeaderConfig.Values.member.1");
	const char *tg = form(c, "Actions.member.1.TargetGroupArn");
	long prio = form_long(c, "Priority", 0);
	sqlite3_stmt *st = NULL;
	unsigned char r[8];
	char *arn = NULL;

	if (host == NULL)
		host = form(c, "Conditions.member.1.Values.member.1");
	if (listener == NULL || field == NULL || strcmp(field, "host-header") || host == NULL ||
		!tg_exists(c, tg) || prio < 1 || prio > 50000)
		return elb_bad(c, 400, "ValidationError",
			"caliberd's rules take a priority, one host-header condition and a forward "
			"action to an existing target group");
	RAND_bytes(r, sizeof(r));
	arn = xasprintf("%s/rule-%02x%02x%02x%02x%02x%02x%02x%02x", listener, r[0], r[1], r[2],
		r[3], r[4], r[5], r[6], r[7]);
	if (sqlite3_prepare_v2(c->db,
		    "INSERT INTO elb_rule (arn, listener, priority, host, tg) SELECT ?1, ?2, ?3, "
		    "?4, ?5 "
		    "WHERE EXISTS (SELECT 1 FROM elb_listener WHERE arn = ?2)",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, listener, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, prio);
		sqlite3_bind_text(st, 4, host, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, tg, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (sqlite3_changes(c->db) == 0) {
		free(arn);
		return elb_bad(c, 400, "ListenerNotFound", "Listener '%s' not found", listener);
	}
	buf_appends(&c->out, "<Rules><member>");
	xml_el(&c->out, "RuleArn", arn);
	buf_appendf(&c->out,
		"<Priority>%ld</Priority><IsDefault>false</IsDefault>"
		"<Conditions><member><Field>host-header</Field><Values><member>",
		prio);
	lc_xml_escape(&c->out, host);
	buf_appends(&c->out, "</member></Values><HostHeaderConfig><Values><member>");
	lc_xml_escape(&c->out, host);
	buf_appends(&c->out, "</member></Values></HostHeaderConfig></member></Conditions>"
			     "<Actions><member><Type>forward</Type>");
	xml_el(&c->out, "TargetGroupArn", tg);
	buf_appends(&c->out, "</member></Actions></member></Rules>");
	free(arn);
	c->sync = 1;
	return 0;
}

static int register_targets(struct elb_call *c)
{
	const char *tg = form(c, "TargetGroupArn");
	char key[96];
	int i;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	for (i = 1; i <= ELB_MAX_MEMBERS; i++) {
		const char *id = formf(c, key, sizeof(key), "Targets.member.%d.Id", i);
		const char *port = formf(c, key, sizeof(key), "Targets.member.%d.Port", i);
		sqlite3_stmt *st = NULL;
		struct in_addr addr;
		long p = 0;

		if (id == NULL)
			break;
		/* ip targets: the Id is an IPv4 address (it becomes an nginx upstream) */
		if (inet_pton(AF_INET, id, &addr) != 1)
			return elb_bad(c, 400, "ValidationError",
				"The IP address '%s' is not a valid IPv4 address", id);
		if (strncmp(id, "127.", 4))
			return elb_bad(c, 400, "ValidationError",
				"target '%s': caliberd's targets are loopback IPs (127.x)", id);
		formf(c, key, sizeof(key), "Targets.member.%d.Port", i);
		if (port != NULL) {
			if (form_int(c, key, "port", 0, 1, 65535, &p) < 0)
				return -1;
		} else if (sqlite3_prepare_v2(c->db, "SELECT port FROM elb_tg WHERE arn = ?", -1,
				 &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, tg, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				p = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
		if (elb_target_register(c->db, tg, id, p) < 0)
			return elb_bad(c, 500, "InternalFailure", "store");
	}
	return 0;
}

static int deregister_targets(struct elb_call *c)
{
	const char *tg = form(c, "TargetGroupArn");
	char key[96];
	int i;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	for (i = 1; i <= ELB_MAX_MEMBERS; i++) {
		const char *id = formf(c, key, sizeof(key), "Targets.member.%d.Id", i);
		const char *port = formf(c, key, sizeof(key), "Targets.member.%d.Port", i);
		sqlite3_stmt *st = NULL;

		if (id == NULL)
			break;
		if (sqlite3_prepare_v2(c->db,
			    "UPDATE elb_target SET state = 'draining', reason = "
			    "'Target.DeregistrationInProgress', description = 'Target "
			    "deregistration is in progress', drain_until = ?1 + (SELECT "
			    "dereg_delay "
			    "FROM elb_tg WHERE arn = ?2) WHERE tg = ?2 AND ip = ?3 AND (?4 IS NULL "
			    "OR "
			    "port = ?4) AND state != 'draining'",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, c->now);
			sqlite3_bind_text(st, 2, tg, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
			if (port != NULL)
				sqlite3_bind_int64(st, 4, strtol(port, NULL, 10));
			sqlite3_step(st);
			sqlite3_finalize(st);
			if (sqlite3_changes(c->db) > 0) {
				char name[64];

				lc_log("elbv2: target %s%s%s of '%s': draining, out of the edge "
				       "(DeregisterTargets)",
					id, port ? ":" : "", port ? port : "",
					elb_tg_name(tg, name, sizeof(name)));
			}
		}
	}
	c->sync = 1;
	return 0;
}

static int describe_target_health(struct elb_call *c)
{
	const char *tg = form(c, "TargetGroupArn");
	sqlite3_stmt *st = NULL;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	if (sqlite3_prepare_v2(c->db,
		    "SELECT ip, port, state, reason, description FROM elb_target WHERE tg = ? "
		    "ORDER BY ip, port",
		    -1, &st, NULL) != SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, tg, -1, SQLITE_TRANSIENT);
	buf_appends(&c->out, "<TargetHealthDescriptions>");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(st, 3);

		buf_appends(&c->out, "<member><Target>");
		xml_el(&c->out, "Id", (const char *)sqlite3_column_text(st, 0));
		buf_appendf(&c->out,
			"<Port>%d</Port></Target><HealthCheckPort>%d</HealthCheckPort>"
			"<TargetHealth>",
			sqlite3_column_int(st, 1), sqlite3_column_int(st, 1));
		xml_el(&c->out, "State", (const char *)sqlite3_column_text(st, 2));
		if (reason != NULL)
			xml_el(&c->out, "Reason", reason);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			xml_el(&c->out, "Description", (const char *)sqlite3_column_text(st, 4));
		buf_appends(&c->out, "</TargetHealth></member>");
	}
	buf_appends(&c->out, "</TargetHealthDescriptions>");
	sqlite3_finalize(st);
	return 0;
}

#define ELB_HANDLER(api, fn)                                                                       \
	int api(struct lc_request *req, struct lc_response *res)                                   \
	{                                                                                          \
		return elb_run(req, res, fn);                                                      \
	}

ELB_HANDLER(elb_create_load_balancer, create_load_balancer)
ELB_HANDLER(elb_describe_load_balancers, describe_load_balancers)
ELB_HANDLER(elb_delete_load_balancer, delete_load_balancer)
ELB_HANDLER(elb_create_target_group, create_target_group)
ELB_HANDLER(elb_describe_target_groups, describe_target_groups)
ELB_HANDLER(elb_delete_target_group, delete_target_group)
ELB_HANDLER(elb_modify_target_group_attributes, modify_target_group_attributes)
ELB_HANDLER(elb_create_listener, create_listener)
ELB_HANDLER(elb_describe_listeners, describe_listeners)
ELB_HANDLER(elb_create_rule, create_rule)
ELB_HANDLER(elb_register_targets, register_targets)
ELB_HANDLER(elb_deregister_targets, deregister_targets)
ELB_HANDLER(elb_describe_target_health, describe_target_health)
