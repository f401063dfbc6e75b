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
#include "core/codec-glue.h"
#include "core/edgectl.h"
#include "core/reply.h"
#include "core/router.h"
#include "internal.h"
#include "core/store.h"

#define ELB_ACCOUNT "000000000000"
/* us-east-1's ALB zone, as AWS reports it: Route 53 aliases name it */
#define ELB_ZONE_ID	"Z35SXDOTRQ7X7K"
#define ELB_MAX_MEMBERS 100

/*
 * A call: the codec's input (values, keyed by member name), the output
 * being built, the error to fill.  The handlers run in one transaction.
 */

/* an error of the call c; returns -1 */
#define elb_bad(c, status, code, ...) codec_error_set((c)->err, (status), (code), __VA_ARGS__)

static int elb_run(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int (*fn)(struct lc_call *c))
{
	struct lc_call c;

	if (lc_call_run(&c, req, in, out, err, "InternalFailure", fn) < 0)
		return -1;
	if (c.mark) {
		struct err e = ERR_INIT;

		/* the edge's sites changed: after the commit, so it reads them */
		if (edgectl_sync(req->srv, &e) < 0)
			lc_log("elbv2: edge sync: %s", e.msg);
	}
	return 0;
}

/* A string member of o (NULL when absent). */
static const char *in_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The first item of o's list member list (NULL when absent). */
static const json_t *in_first(const json_t *o, const char *list)
{
	return json_array_get(json_object_get(o, list), 0);
}

/*
 * An integer member within AWS's range (the model's min and max), or
 * dflt when absent; else -1 with AWS's validation message.  The codec
 * has refused a value that is no integer.
 */
static int in_int(struct lc_call *c, const json_t *o, const char *key, const char *member,
	long dflt, long lo, long hi, long *out)
{
	const json_t *v = json_object_get(o, key);
	long x;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	x = (long)json_integer_value(v);
	if (x < lo || x > hi)
		return elb_bad(c, 400, "ValidationError",
			"1 validation error detected: Value '%ld' at '%s' failed to satisfy "
			"constraint: Member must have value %s than or equal to %ld", x, member,
			x < lo ? "greater" : "less", x < lo ? lo : hi);
	*out = x;
	return 0;
}

/*
 * AWS's rules for load balancer and target group names: 1 to 32
 * alphanumerics and hyphens, neither first nor last a hyphen; a load
 * balancer's may not begin with "internal-" either.  The name goes into
 * the DNS name the edge serves.  0 when valid, else -1 with the error.
 */
static int elb_name_check(struct lc_call *c, const char *what, const char *s, int lb)
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

/* A LoadBalancer of the row (arn, name, dns, scheme, type, created). */
static json_t *lb_value(sqlite3_stmt *st)
{
	char when[32];

	/* milliseconds, as the store has always answered */
	lc_time_iso8601(sqlite3_column_double(st, 5), when);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:s, s:[], s:[]}",
		"LoadBalancerArn", store_col_str(st, 0), "LoadBalancerName", store_col_str(st, 1),
		"DNSName", store_col_str(st, 2), "CanonicalHostedZoneId", ELB_ZONE_ID,
		"Scheme", store_col_str(st, 3), "Type", store_col_str(st, 4), "CreatedTime", when,
		"VpcId", "vpc-local", "State", "Code", "active", "IpAddressType", "ipv4",
		"AvailabilityZones", "SecurityGroups");
}

static int create_load_balancer(struct lc_call *c)
{
	const char *name = in_str(c->in, "Name"), *scheme = in_str(c->in, "Scheme");
	const char *type = in_str(c->in, "Type");
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
	json_object_set_new(c->out, "LoadBalancers", json_pack("[o]", lb_value(st)));
	sqlite3_finalize(st);
	ret = 0;
out:
	free(arn);
	free(dns);
	return ret;
}

/*
 * Into c->out's member key, the rows of sql_all, or those sql_one finds
 * for each name or ARN of list (a list of strings; all rows when it is
 * absent or empty).  A name that finds none is notfound_code.
 */
static int select_members(struct lc_call *c, const char *key, const char *sql_all,
	const char *sql_one, const json_t *list, const char *notfound_code,
	const char *notfound_msg, json_t *(*value)(sqlite3_stmt *))
{
	json_t *rows = json_array();
	sqlite3_stmt *st = NULL;
	size_t i;

	json_object_set_new(c->out, key, rows);
	if (json_array_size(list) == 0) {
		if (sqlite3_prepare_v2(c->db, sql_all, -1, &st, NULL) != SQLITE_OK)
			return elb_bad(c, 500, "InternalFailure", "store");
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(rows, value(st));
		sqlite3_finalize(st);
		return 0;
	}
	for (i = 0; i < json_array_size(list) && i < ELB_MAX_MEMBERS; i++) {
		const char *v = json_string_value(json_array_get(list, i));
		int found = 0;

		if (v == NULL)
			break;
		if (sqlite3_prepare_v2(c->db, sql_one, -1, &st, NULL) != SQLITE_OK)
			return elb_bad(c, 500, "InternalFailure", "store");
		sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_append_new(rows, value(st));
			found = 1;
		}
		sqlite3_finalize(st);
		if (!found)
			return elb_bad(c, 400, notfound_code, "%s: '%s'", notfound_msg, v);
	}
	return 0;
}

/* Names when it holds a name, else the ARNs (as the first parameter sent decided). */
static const json_t *names_or_arns(const json_t *in, const char *arns)
{
	const json_t *names = json_object_get(in, "Names");

	return json_is_string(json_array_get(names, 0)) ? names : json_object_get(in, arns);
}

static int describe_load_balancers(struct lc_call *c)
{
	return select_members(c, "LoadBalancers",
		"SELECT arn, name, dns, scheme, type, created FROM elb_lb ORDER BY name",
		"SELECT arn, name, dns, scheme, type, created FROM elb_lb WHERE name = ?1 OR "
		"arn = ?1",
		names_or_arns(c->in, "LoadBalancerArns"), "LoadBalancerNotFound",
		"One or more load balancers not found", lb_value);
}

static int delete_load_balancer(struct lc_call *c)
{
	const char *arn = in_str(c->in, "LoadBalancerArn");
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
	c->mark = 1;	/* the edge syncs after the commit */
	return 0;
}

#define TG_COLUMNS                                                                                 \
	"arn, name, protocol, port, target_type, hc_path, hc_interval, hc_timeout, "               \
	"healthy_threshold, unhealthy_threshold, matcher"

/* A TargetGroup of the row (TG_COLUMNS). */
static json_t *tg_value(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:i, s:i, "
			 "s:{s:s}, s:[]}",
		"TargetGroupArn", store_col_str(st, 0), "TargetGroupName", store_col_str(st, 1),
		"Protocol", store_col_str(st, 2), "Port", sqlite3_column_int(st, 3),
		"TargetType", store_col_str(st, 4), "VpcId", "vpc-local",
		"HealthCheckProtocol", "HTTP", "HealthCheckPort", "traffic-port",
		"HealthCheckEnabled", 1, "HealthCheckPath", store_col_str(st, 5),
		"HealthCheckIntervalSeconds", sqlite3_column_int(st, 6),
		"HealthCheckTimeoutSeconds", sqlite3_column_int(st, 7),
		"HealthyThresholdCount", sqlite3_column_int(st, 8),
		"UnhealthyThresholdCount", sqlite3_column_int(st, 9),
		"Matcher", "HttpCode", store_col_str(st, 10), "LoadBalancerArns");
}

static int create_target_group(struct lc_call *c)
{
	const char *name = in_str(c->in, "Name"), *protocol = in_str(c->in, "Protocol");
	const char *path = in_str(c->in, "HealthCheckPath");
	const char *matcher = in_str(json_object_get(c->in, "Matcher"), "HttpCode");
	const char *type = in_str(c->in, "TargetType");
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
	if (in_int(c, c->in, "HealthCheckIntervalSeconds", "healthCheckIntervalSeconds", 30,
			quick ? 1 : 5, 300, &interval) < 0 ||
		in_int(c, c->in, "HealthCheckTimeoutSeconds", "healthCheckTimeoutSeconds", 5,
			quick ? 1 : 2, 120, &timeout) < 0 ||
		in_int(c, c->in, "HealthyThresholdCount", "healthyThresholdCount", 5, 2, 10,
			&healthy) < 0 ||
		in_int(c, c->in, "UnhealthyThresholdCount", "unhealthyThresholdCount", 2, 2, 10,
			&unhealthy) < 0 ||
		in_int(c, c->in, "Port", "port", 80, 1, 65535, &port) < 0)
		return -1;
	/* a default timeout (5 s) yields to a short interval given alone: 5 s checks run */
	if (json_object_get(c->in, "HealthCheckTimeoutSeconds") == NULL && timeout >= interval)
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
	json_object_set_new(c->out, "TargetGroups", json_pack("[o]", tg_value(st)));
	sqlite3_finalize(st);
	ret = 0;
out:
	free(arn);
	return ret;
}

static int describe_target_groups(struct lc_call *c)
{
	return select_members(c, "TargetGroups",
		"SELECT " TG_COLUMNS " FROM elb_tg ORDER BY name",
		"SELECT " TG_COLUMNS " FROM elb_tg WHERE name = ?1 OR arn = ?1",
		names_or_arns(c->in, "TargetGroupArns"), "TargetGroupNotFound",
		"One or more target groups not found", tg_value);
}

static int delete_target_group(struct lc_call *c)
{
	const char *arn = in_str(c->in, "TargetGroupArn");
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

static int tg_exists(struct lc_call *c, const char *arn)
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

static int modify_target_group_attributes(struct lc_call *c)
{
	const char *arn = in_str(c->in, "TargetGroupArn");
	const json_t *attrs = json_object_get(c->in, "Attributes");
	json_t *echo = json_array();
	size_t i;

	json_object_set_new(c->out, "Attributes", echo);
	if (!tg_exists(c, arn))
		return elb_bad(c, 400, "TargetGroupNotFound", "Target group '%s' not found",
			arn ? arn : "");
	for (i = 0; i < json_array_size(attrs) && i < ELB_MAX_MEMBERS; i++) {
		const char *k = in_str(json_array_get(attrs, i), "Key");
		const char *v = in_str(json_array_get(attrs, i), "Value");

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
		json_array_append_new(echo, json_pack("{s:s, s:s}", "Key", k, "Value", v ? v : ""));
	}
	return 0;
}

/* A Listener of the row (arn, lb, protocol, port, tg): its one forward action. */
static json_t *listener_value(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:[{s:s, s:s}]}",
		"ListenerArn", store_col_str(st, 0), "LoadBalancerArn", store_col_str(st, 1),
		"Protocol", store_col_str(st, 2), "Port", sqlite3_column_int(st, 3),
		"DefaultActions", "Type", "forward", "TargetGroupArn", store_col_str(st, 4));
}

static int create_listener(struct lc_call *c)
{
	const char *lb = in_str(c->in, "LoadBalancerArn"), *protocol = in_str(c->in, "Protocol");
	const json_t *action = in_first(c->in, "DefaultActions");
	const json_t *port = json_object_get(c->in, "Port");
	const char *type = in_str(action, "Type"), *tg = in_str(action, "TargetGroupArn");
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
		tg = in_str(in_first(json_object_get(action, "ForwardConfig"), "TargetGroups"),
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
	sqlite3_bind_int64(st, 4, port ? json_integer_value(port) : 80);
	sqlite3_bind_text(st, 5, tg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		elb_bad(c, 500, "InternalFailure", "store");
		goto out;
	}
	json_object_set_new(c->out, "Listeners", json_pack("[o]", listener_value(st)));
	sqlite3_finalize(st);
	c->mark = 1;	/* the edge syncs after the commit */
	ret = 0;
out:
	free(arn);
	return ret;
}

static int describe_listeners(struct lc_call *c)
{
	const char *lb = in_str(c->in, "LoadBalancerArn");
	sqlite3_stmt *st = NULL;
	json_t *rows;

	if (lb == NULL)
		return elb_bad(c, 400, "ValidationError", "LoadBalancerArn is required");
	if (sqlite3_prepare_v2(c->db,
		    "SELECT arn, lb, protocol, port, tg FROM elb_listener WHERE lb = ? ORDER BY "
		    "port",
		    -1, &st, NULL) != SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, lb, -1, SQLITE_TRANSIENT);
	rows = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(rows, listener_value(st));
	sqlite3_finalize(st);
	json_object_set_new(c->out, "Listeners", rows);
	return 0;
}

static int create_rule(struct lc_call *c)
{
	const char *listener = in_str(c->in, "ListenerArn");
	const json_t *cond = in_first(c->in, "Conditions");
	const char *field = in_str(cond, "Field");
	const char *host = json_string_value(
		in_first(json_object_get(cond, "HostHeaderConfig"), "Values"));
	const char *tg = in_str(in_first(c->in, "Actions"), "TargetGroupArn");
	const json_t *priority = json_object_get(c->in, "Priority");
	long prio = priority ? (long)json_integer_value(priority) : 0;
	sqlite3_stmt *st = NULL;
	unsigned char r[8];
	char *arn = NULL, prio_text[24];

	if (host == NULL)
		host = json_string_value(in_first(cond, "Values"));
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
	/* a rule's Priority is a string in the model ("default" for a listener's) */
	snprintf(prio_text, sizeof(prio_text), "%ld", prio);
	json_object_set_new(c->out, "Rules",
		json_pack("[{s:s, s:s, s:b, s:[{s:s, s:[s], s:{s:[s]}}], s:[{s:s, s:s}]}]",
			"RuleArn", arn, "Priority", prio_text, "IsDefault", 0,
			"Conditions", "Field", "host-header", "Values", host,
			"HostHeaderConfig", "Values", host,
			"Actions", "Type", "forward", "TargetGroupArn", tg));
	free(arn);
	c->mark = 1;	/* the edge syncs after the commit */
	return 0;
}

static int register_targets(struct lc_call *c)
{
	const char *tg = in_str(c->in, "TargetGroupArn");
	const json_t *targets = json_object_get(c->in, "Targets");
	size_t i;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	for (i = 0; i < json_array_size(targets) && i < ELB_MAX_MEMBERS; i++) {
		const json_t *t = json_array_get(targets, i);
		const char *id = in_str(t, "Id");
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
		if (json_object_get(t, "Port") != NULL) {
			if (in_int(c, t, "Port", "port", 0, 1, 65535, &p) < 0)
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

static int deregister_targets(struct lc_call *c)
{
	const char *tg = in_str(c->in, "TargetGroupArn");
	const json_t *targets = json_object_get(c->in, "Targets");
	size_t i;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	for (i = 0; i < json_array_size(targets) && i < ELB_MAX_MEMBERS; i++) {
		const json_t *t = json_array_get(targets, i);
		const char *id = in_str(t, "Id");
		const json_t *port = json_object_get(t, "Port");
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
				sqlite3_bind_int64(st, 4, json_integer_value(port));
			sqlite3_step(st);
			sqlite3_finalize(st);
			if (sqlite3_changes(c->db) > 0) {
				char name[64], at[24] = "";

				if (port != NULL)
					snprintf(at, sizeof(at), ":%lld",
						(long long)json_integer_value(port));
				lc_log("elbv2: target %s%s of '%s': draining, out of the edge "
				       "(DeregisterTargets)",
					id, at, elb_tg_name(tg, name, sizeof(name)));
			}
		}
	}
	c->mark = 1;	/* the edge syncs after the commit */
	return 0;
}

static int describe_target_health(struct lc_call *c)
{
	const char *tg = in_str(c->in, "TargetGroupArn");
	sqlite3_stmt *st = NULL;
	json_t *rows;

	if (!tg_exists(c, tg))
		return elb_bad(
			c, 400, "TargetGroupNotFound", "Target group '%s' not found", tg ? tg : "");
	if (sqlite3_prepare_v2(c->db,
		    "SELECT ip, port, state, reason, description FROM elb_target WHERE tg = ? "
		    "ORDER BY ip, port",
		    -1, &st, NULL) != SQLITE_OK)
		return elb_bad(c, 500, "InternalFailure", "store");
	sqlite3_bind_text(st, 1, tg, -1, SQLITE_TRANSIENT);
	rows = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *health = json_pack("{s:s}", "State", store_col_str(st, 2));
		char port[16];

		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(health, "Reason", json_string(store_col_str(st, 3)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(health, "Description", json_string(store_col_str(st, 4)));
		/* HealthCheckPort is a string in the model (it may be "traffic-port") */
		snprintf(port, sizeof(port), "%d", sqlite3_column_int(st, 1));
		json_array_append_new(rows, json_pack("{s:{s:s, s:i}, s:s, s:o}",
			"Target", "Id", store_col_str(st, 0), "Port", sqlite3_column_int(st, 1),
			"HealthCheckPort", port, "TargetHealth", health));
	}
	sqlite3_finalize(st);
	json_object_set_new(c->out, "TargetHealthDescriptions", rows);
	return 0;
}

#define ELB_HANDLER(api, fn)                                                                       \
	int api(struct lc_request *req, const json_t *in, json_t **out,                            \
		struct codec_error *err)                                                           \
	{                                                                                          \
		return elb_run(req, in, out, err, fn);                                             \
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
