/*
 * test-aws-client.c: the AWS client's request path against a local HTTP
 * server (libmicrohttpd in this process): retries (5xx, throttling codes,
 * transport failures; never other 4xx), the parallel pool, pagination,
 * waiters, S3 streaming and multipart upload, and the redaction of secrets
 * in CALIBER_DEBUG=aws logs.  The server answers from a script of replies
 * (or a per-test router) and records every request it gets.
 */
#include "compat.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include <microhttpd.h>

#include "aws/client-internal.h"
#include "aws/client.h"
#include "aws/http.h"

struct reply {
	int status;
	const char *headers;	/* "Name: value\n..." */
	const char *body;
};

struct seen {
	char method[8];
	char url[512];
	char query[512];
	char *body;
	size_t body_len;
	char target[128];
	char security_token[64];
};

#define MAX_SEEN 256

static struct {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	const struct reply *script;
	size_t n_script, next;
	const struct reply *(*router)(const struct seen *s);
	struct seen seen[MAX_SEEN];
	size_t n_seen;
	long delay_ms;
	atomic_int in_flight, max_in_flight;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct conn {
	struct buf body;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *k,
	const char *v)
{
	struct seen *s = cls;
	size_t n = strlen(s->query);

	(void)kind;
	snprintf(s->query + n, sizeof(s->query) - n, "%s%s%s%s", n ? "&" : "", k, v ? "=" : "",
		v ? v : "");
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload, size_t *upload_size,
	void **con_cls)
{
	struct conn *cn = *con_cls;
	struct MHD_Response *resp;
	const struct reply *r;
	struct seen s;
	enum MHD_Result ret;
	const char *h, *line;

	(void)cls;
	(void)version;
	if (cn == NULL) {
		cn = xcalloc(1, sizeof(*cn));
		buf_init(&cn->body);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&s, 0, sizeof(s));
	snprintf(s.method, sizeof(s.method), "%s", method);
	snprintf(s.url, sizeof(s.url), "%s", url);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query, &s);
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
	snprintf(s.target, sizeof(s.target), "%s", h ? h : "");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Security-Token");
	snprintf(s.security_token, sizeof(s.security_token), "%s", h ? h : "");
	s.body_len = cn->body.len;
	s.body = xstrndup(buf_str(&cn->body), cn->body.len);

	{
		int now = atomic_fetch_add(&srv.in_flight, 1) + 1;
		int max = atomic_load(&srv.max_in_flight);

		while (now > max && !atomic_compare_exchange_weak(&srv.max_in_flight, &max, now))
			;
	}
	if (srv.delay_ms) {
		struct timespec ts = { srv.delay_ms / 1000, (srv.delay_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	atomic_fetch_sub(&srv.in_flight, 1);

	pthread_mutex_lock(&srv.lock);
	if (srv.router) {
		r = srv.router(&s);
	} else {
		r = &srv.script[srv.next < srv.n_script ? srv.next : srv.n_script - 1];
		srv.next++;
	}
	if (srv.n_seen < MAX_SEEN)
		srv.seen[srv.n_seen++] = s;
	else
		free(s.body);
	pthread_mutex_unlock(&srv.lock);

	resp = MHD_create_response_from_buffer(strlen(r->body), (void *)r->body,
		MHD_RESPMEM_MUST_COPY);
	for (line = r->headers; line && *line;) {
		const char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
		char *name, *value;

		if (nl == NULL)
			nl = line + strlen(line);
		name = xstrndup(line, (size_t)(colon - line));
		value = xstrndup(colon + 2, (size_t)(nl - colon - 2));
		MHD_add_response_header(resp, name, value);
		free(name);
		free(value);
		line = *nl ? nl + 1 : nl;
	}
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		buf_release(&cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

static void server_reset(const struct reply *script, size_t n)
{
	size_t i;

	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.n_seen; i++)
		free(srv.seen[i].body);
	srv.n_seen = 0;
	srv.script = script;
	srv.n_script = n;
	srv.next = 0;
	srv.router = NULL;
	srv.delay_ms = 0;
	atomic_store(&srv.max_in_flight, 0);
	pthread_mutex_unlock(&srv.lock);
}

static int setup(void **state)
{
	const union MHD_DaemonInfo *info;

	(void)state;
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
		0, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_END);
	assert_non_null(srv.d);
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	srv.port = info->port;
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNITTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "unit/test/secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("CALIBER_DEBUG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	server_reset(NULL, 0);
	MHD_stop_daemon(srv.d);
	return 0;
}

static struct aws_client *new_client(int port)
{
	struct aws_client_options o = { 0 };
	struct aws_client *c = NULL;
	struct err e = ERR_INIT;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o.region = "eu-west-1";
	o.endpoint_url = url;
	o.retry_base_ms = 1;
	assert_int_equal(aws_client_new(&o, &c, &e), 0);
	return c;
}

static int call(struct aws_client *c, const char *svc, const char *op, const char *in,
	json_t **out, struct aws_error *ae, struct err *e)
{
	json_t *input = json_loads(in, 0, NULL);
	int rc;

	assert_non_null(input);
	rc = aws_client_call(c, svc, op, input, out, ae, e);
	json_decref(input);
	return rc;
}

#define JSON_HDR "Content-Type: application/x-amz-json-1.1\nx-amzn-RequestId: rid-1"

static void test_server_errors_are_retried_until_success(void **state)
{
	static const struct reply script[] = {
		{ 500, JSON_HDR, "{\"__type\":\"InternalServiceError\",\"message\":\"x\"}" },
		{ 503, JSON_HDR, "" },
		{ 200, JSON_HDR, "{\"Name\":\"n\",\"SecretString\":\"v\"}" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(call(c, "secretsmanager", "GetSecretValue", "{\"SecretId\":\"n\"}",
				 &out, &ae, &e),
		0);
	assert_int_equal(srv.n_seen, 3);
	assert_string_equal(json_string_value(json_object_get(out, "SecretString")), "v");
	json_decref(out);
	aws_client_free(c);
}

static void test_throttling_codes_are_retried(void **state)
{
	static const struct reply script[] = {
		{ 400, JSON_HDR, "{\"__type\":\"ThrottlingException\",\"message\":\"slow down\"}" },
		{ 200, JSON_HDR, "{}" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(call(c, "ecs", "ListTasks", "{\"cluster\":\"c\"}", &out, &ae, &e), 0);
	assert_int_equal(srv.n_seen, 2);
	assert_string_equal(srv.seen[0].target, "AmazonEC2ContainerServiceV20141113.ListTasks");
	json_decref(out);
	aws_client_free(c);
}

static void test_other_client_errors_are_not_retried(void **state)
{
	static const struct reply script[] = {
		{ 400, JSON_HDR, "{\"__type\":\"com.amazonaws#ResourceNotFoundException\","
				 "\"Message\":\"Secrets Manager can't find the specified secret.\"}" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(call(c, "secretsmanager", "DescribeSecret", "{\"SecretId\":\"n\"}", &out,
				 &ae, &e),
		1);
	assert_int_equal(srv.n_seen, 1);
	assert_string_equal(ae.code, "ResourceNotFoundException");
	assert_string_equal(ae.message, "Secrets Manager can't find the specified secret.");
	assert_string_equal(ae.request_id, "rid-1");
	assert_int_equal(ae.status, 400);
	aws_error_release(&ae);
	aws_client_free(c);
}

static void test_retries_stop_after_three_attempts(void **state)
{
	static const struct reply script[] = {
		{ 503, "Content-Type: text/xml", "<ErrorResponse><Error><Code>ServiceUnavailable"
						 "</Code><Message>busy</Message></Error>"
						 "<RequestId>q-1</RequestId></ErrorResponse>" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(call(c, "rds", "DescribeDBInstances", "{}", &out, &ae, &e), 1);
	assert_int_equal(srv.n_seen, AWS_RETRY_MAX_ATTEMPTS);
	assert_string_equal(ae.code, "ServiceUnavailable");
	assert_string_equal(ae.request_id, "q-1");
	aws_error_release(&ae);
	aws_client_free(c);
}

static void test_connection_refused_fails_with_the_url(void **state)
{
	struct aws_client *c = new_client(1);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(call(c, "sts", "GetCallerIdentity", "{}", &out, &ae, &e), -1);
	assert_non_null(strstr(e.msg, "http://127.0.0.1:1/"));
	aws_client_free(c);
}

static void test_retry_delay_is_full_jitter_capped_at_20s(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		long d1 = aws_retry_delay_ms(1, 1000), d3 = aws_retry_delay_ms(3, 1000);
		long d9 = aws_retry_delay_ms(9, 1000);

		assert_true(d1 >= 0 && d1 <= 1000);
		assert_true(d3 >= 0 && d3 <= 4000);
		assert_true(d9 >= 0 && d9 <= 20000);
	}
	assert_true(aws_retry_should(500, "InternalFailure"));
	assert_true(aws_retry_should(400, "SlowDown"));
	assert_true(aws_retry_should(400, "RequestLimitExceeded"));
	assert_false(aws_retry_should(404, "NoSuchKey"));
	assert_false(aws_retry_should(403, "AccessDenied"));
}

struct pool_count {
	int ok, failed;
};

static void pool_done(void *arg, int rc, const json_t *out, const struct aws_error *ae,
	const struct err *e)
{
	struct pool_count *pc = arg;

	(void)out;
	(void)ae;
	(void)e;
	if (rc == 0)
		pc->ok++;
	else
		pc->failed++;
}

static void test_pool_runs_calls_in_parallel_up_to_its_limit(void **state)
{
	static const struct reply script[] = {
		{ 200, "Content-Type: application/xml\nETag: \"e\"", "" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_pool *p = aws_pool_new(c, 4);
	struct pool_count pc = { 0, 0 };
	struct err e = ERR_INIT;
	int i;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	srv.delay_ms = 100;
	for (i = 0; i < 16; i++) {
		char in[128];
		json_t *input;

		snprintf(in, sizeof(in), "{\"Bucket\":\"b\",\"Key\":\"k%d\",\"Body\":\"x\"}", i);
		input = json_loads(in, 0, NULL);
		assert_int_equal(aws_pool_add(p, "s3", "PutObject", input, NULL, pool_done, &pc, &e),
			0);
		json_decref(input);
	}
	assert_int_equal(aws_pool_run(p, &e), 0);
	assert_int_equal(pc.ok, 16);
	assert_int_equal(srv.n_seen, 16);
	assert_true(atomic_load(&srv.max_in_flight) > 1);
	assert_true(atomic_load(&srv.max_in_flight) <= 4);
	aws_pool_free(p);
	aws_client_free(c);
}

static void test_pool_retries_each_call_and_reports_failures(void **state)
{
	static const struct reply script[] = {
		{ 503, "Content-Type: application/xml", "<Error><Code>SlowDown</Code></Error>" },
		{ 200, "Content-Type: application/xml", "" },
		{ 403, "Content-Type: application/xml",
			"<Error><Code>AccessDenied</Code><Message>no</Message></Error>" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_pool *p = aws_pool_new(c, 1);
	struct pool_count pc = { 0, 0 };
	struct err e = ERR_INIT;
	json_t *input = json_loads("{\"Bucket\":\"b\",\"Key\":\"k\"}", 0, NULL);

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(aws_pool_add(p, "s3", "DeleteObject", input, NULL, pool_done, &pc, &e), 0);
	assert_int_equal(aws_pool_add(p, "s3", "DeleteObject", input, NULL, pool_done, &pc, &e), 0);
	assert_int_equal(aws_pool_run(p, &e), -1);
	assert_int_equal(pc.ok, 1);
	assert_int_equal(pc.failed, 1);
	assert_int_equal(srv.n_seen, 3);
	assert_non_null(strstr(e.msg, "AccessDenied"));
	json_decref(input);
	aws_pool_free(p);
	aws_client_free(c);
}

static void test_paginate_follows_next_tokens(void **state)
{
	static const struct reply script[] = {
		{ 200, JSON_HDR, "{\"SecretList\":[{\"Name\":\"a\"}],\"NextToken\":\"t1\"}" },
		{ 200, JSON_HDR, "{\"SecretList\":[{\"Name\":\"b\"},{\"Name\":\"c\"}],"
				 "\"NextToken\":\"t2\"}" },
		{ 200, JSON_HDR, "{\"SecretList\":[{\"Name\":\"d\"}]}" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL, *in = json_loads("{\"MaxResults\":2}", 0, NULL);

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(aws_paginate_all(c, "secretsmanager", "ListSecrets", in, &out, &ae, &e),
		0);
	assert_int_equal(srv.n_seen, 3);
	assert_null(strstr(srv.seen[0].body, "NextToken"));
	assert_non_null(strstr(srv.seen[1].body, "\"NextToken\": \"t1\""));
	assert_non_null(strstr(srv.seen[2].body, "\"NextToken\": \"t2\""));
	assert_int_equal(json_array_size(json_object_get(out, "SecretList")), 4);
	json_decref(out);
	json_decref(in);
	aws_client_free(c);
}

static int polls;

static int count_polls(void *arg, int attempt, int rc, const json_t *out,
	const struct aws_error *ae)
{
	(void)arg;
	(void)rc;
	(void)out;
	(void)ae;
	polls = attempt;
	return 0;
}

static void test_waiter_polls_until_the_success_state(void **state)
{
	static const struct reply script[] = {
		{ 200, "Content-Type: text/xml", "<GetChangeResponse><ChangeInfo><Id>C1</Id>"
						 "<Status>PENDING</Status></ChangeInfo></GetChangeResponse>" },
		{ 200, "Content-Type: text/xml", "<GetChangeResponse><ChangeInfo><Id>C1</Id>"
						 "<Status>PENDING</Status></ChangeInfo></GetChangeResponse>" },
		{ 200, "Content-Type: text/xml", "<GetChangeResponse><ChangeInfo><Id>C1</Id>"
						 "<Status>INSYNC</Status></ChangeInfo></GetChangeResponse>" },
	};
	struct aws_waiter_options o = { 5, 0.01, count_polls, NULL };
	struct aws_client *c = new_client(srv.port);
	struct err e = ERR_INIT;
	json_t *in = json_loads("{\"Id\":\"C1\"}", 0, NULL);

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	polls = 0;
	assert_int_equal(aws_waiter_wait(c, "route53", "ResourceRecordSetsChanged", in, &o, &e), 0);
	assert_int_equal(polls, 3);
	assert_string_equal(srv.seen[0].url, "/2013-04-01/change/C1");
	json_decref(in);
	aws_client_free(c);
}

static void test_waiter_stops_on_a_failure_state_and_on_its_deadline(void **state)
{
	static const struct reply failed[] = {
		{ 200, "Content-Type: text/xml",
			"<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>"
			"<DBInstance><DBInstanceStatus>failed</DBInstanceStatus></DBInstance>"
			"</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>" },
	};
	static const struct reply creating[] = {
		{ 200, "Content-Type: text/xml",
			"<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>"
			"<DBInstance><DBInstanceStatus>creating</DBInstanceStatus></DBInstance>"
			"</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>" },
	};
	struct aws_waiter_options o = { 0.3, 0.05, NULL, NULL };
	struct aws_client *c = new_client(srv.port);
	struct err e = ERR_INIT;
	json_t *in = json_loads("{\"DBInstanceIdentifier\":\"db\"}", 0, NULL);

	(void)state;
	server_reset(failed, ARRAY_SIZE(failed));
	assert_int_equal(aws_waiter_wait(c, "rds", "DBInstanceAvailable", in, &o, &e), -1);
	assert_non_null(strstr(e.msg, "failure state"));
	assert_int_equal(srv.n_seen, 1);
	server_reset(creating, ARRAY_SIZE(creating));
	assert_int_equal(aws_waiter_wait(c, "rds", "DBInstanceAvailable", in, &o, &e), -1);
	assert_non_null(strstr(e.msg, "timed out"));
	assert_true(srv.n_seen >= 3);
	json_decref(in);
	aws_client_free(c);
}

static void test_jmespath_evaluates_the_ecs_services_stable_acceptor(void **state)
{
	const char *expr = "length(services[?!(length(deployments) == `1` && "
			   "runningCount == desiredCount)]) == `0`";
	json_t *stable = json_loads("{\"services\":[{\"deployments\":[{}],\"runningCount\":2,"
				    "\"desiredCount\":2}]}",
		0, NULL);
	json_t *rolling = json_loads("{\"services\":[{\"deployments\":[{},{}],\"runningCount\":2,"
				     "\"desiredCount\":2}]}",
		0, NULL);
	json_t *v, *doc;
	struct err e = ERR_INIT;

	(void)state;
	v = aws_jmespath(stable, expr, &e);
	assert_true(json_is_true(v));
	json_decref(v);
	v = aws_jmespath(rolling, expr, &e);
	assert_true(json_is_false(v));
	json_decref(v);
	doc = json_loads("{\"tasks\":[{\"lastStatus\":\"RUNNING\"},{\"lastStatus\":\"STOPPED\"}]}",
		0, NULL);
	v = aws_jmespath(doc, "tasks[].lastStatus", &e);
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 1)), "STOPPED");
	json_decref(v);
	assert_null(aws_jmespath(doc, "sort_by(tasks, &x)", &e));
	assert_non_null(strstr(e.msg, "unsupported function"));
	json_decref(doc);
	json_decref(stable);
	json_decref(rolling);
}

static const struct reply *s3_router(const struct seen *s)
{
	static const struct reply create = { 200, "Content-Type: application/xml",
		"<InitiateMultipartUploadResult><UploadId>u-1</UploadId>"
		"</InitiateMultipartUploadResult>" };
	static const struct reply part = { 200, "ETag: \"etag-part\"", "" };
	static const struct reply complete = { 200, "Content-Type: application/xml",
		"<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag>"
		"</CompleteMultipartUploadResult>" };
	static const struct reply other = { 400, "", "<Error><Code>Unexpected</Code></Error>" };

	if (!strcmp(s->method, "POST") && strstr(s->query, "uploads"))
		return &create;
	if (!strcmp(s->method, "PUT") && strstr(s->query, "partNumber"))
		return &part;
	if (!strcmp(s->method, "POST") && strstr(s->query, "uploadId=u-1"))
		return &complete;
	return &other;
}

static void test_s3_upload_file_goes_multipart_above_the_threshold(void **state)
{
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	char path[] = "/tmp/caliber-test-upload-XXXXXX";
	int fd = mkstemp(path);
	size_t total = AWS_S3_MULTIPART_THRESHOLD + 1000, i, sum = 0, parts = 0;
	char *data = xmalloc(total);

	(void)state;
	for (i = 0; i < total; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(write(fd, data, total), (ssize_t)total);
	close(fd);
	server_reset(NULL, 0);
	srv.router = s3_router;
	if (aws_s3_upload_file(c, "bucket", "big/file.bin", path, NULL, &ae, &e) != 0)
		fail_msg("upload: %s %s; %s", ae.code, ae.message, e.msg);
	assert_int_equal(srv.n_seen, 4);
	for (i = 0; i < srv.n_seen; i++) {
		if (strcmp(srv.seen[i].method, "PUT"))
			continue;
		parts++;
		if (strstr(srv.seen[i].query, "partNumber=2"))
			assert_memory_equal(srv.seen[i].body, data + AWS_S3_PART_SIZE,
				srv.seen[i].body_len);
		sum += srv.seen[i].body_len;
	}
	assert_int_equal(parts, 2);
	assert_int_equal(sum, total);
	assert_non_null(strstr(srv.seen[3].body, "<PartNumber>2</PartNumber>"));
	unlink(path);
	free(data);
	aws_client_free(c);
}

static void test_s3_get_object_streams_to_a_file(void **state)
{
	static const struct reply script[] = {
		{ 200, "Content-Type: text/html\nETag: \"e\"\nx-amz-checksum-crc32: mLhrMQ==",
			"<html>hello</html>" },
		{ 404, "x-amz-request-id: r404", "" },
		{ 200, "Content-Type: text/html\nx-amz-checksum-crc32: AAAAAA==",
			"<html>hello</html>" },
	};
	struct aws_call_options co = { NULL, "/tmp/caliber-test-get.out", 0, 0 };
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *in = json_loads("{\"Bucket\":\"b\",\"Key\":\"index.html\"}", 0, NULL), *out = NULL;
	char got[64] = { 0 };
	FILE *f;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(aws_client_call_ex(c, "s3", "GetObject", in, &co, &out, &ae, &e), 0);
	assert_null(json_object_get(out, "Body"));
	assert_string_equal(json_string_value(json_object_get(out, "ContentType")), "text/html");
	f = fopen(co.out_file, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 18);
	fclose(f);
	assert_string_equal(got, "<html>hello</html>");
	json_decref(out);
	unlink(co.out_file);
	assert_int_equal(aws_client_call(c, "s3", "HeadObject", in, &out, &ae, &e), 1);
	assert_string_equal(ae.code, "404");
	assert_string_equal(ae.message, "Not Found");
	assert_string_equal(ae.request_id, "r404");
	/* a body that does not match its CRC32 is an error, and its file is gone */
	assert_int_equal(aws_client_call_ex(c, "s3", "GetObject", in, &co, &out, &ae, &e), -1);
	assert_non_null(strstr(e.msg, "CRC32"));
	assert_int_equal(access(co.out_file, F_OK), -1);
	assert_string_equal(srv.seen[0].url, "/b/index.html");
	json_decref(in);
	aws_client_free(c);
}

static void test_debug_log_redacts_secrets(void **state)
{
	static const struct reply script[] = {
		{ 200, JSON_HDR, "{\"Name\":\"n\",\"SecretString\":\"hunter2-response\"}" },
	};
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;
	char logpath[] = "/tmp/caliber-test-debug-XXXXXX";
	int fd = mkstemp(logpath), saved = dup(2);
	struct buf log = BUF_INIT;
	char chunk[4096];
	ssize_t n;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	setenv("CALIBER_DEBUG", "aws", 1);
	setenv("AWS_SESSION_TOKEN", "session-token-value", 1);
	fflush(stderr);
	dup2(fd, 2);
	assert_int_equal(call(c, "secretsmanager", "PutSecretValue",
				 "{\"SecretId\":\"n\",\"SecretString\":\"hunter2-request\"}", &out,
				 &ae, &e),
		0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsetenv("CALIBER_DEBUG");
	unsetenv("AWS_SESSION_TOKEN");
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&log, chunk, (size_t)n);
	close(fd);
	unlink(logpath);
	/* the token did reach the server, and none of the secrets reached the log */
	assert_string_equal(srv.seen[0].security_token, "session-token-value");
	assert_non_null(strstr(log.data, "> POST http://127.0.0.1:"));
	assert_non_null(strstr(log.data, "X-Amz-Target: secretsmanager.PutSecretValue"));
	assert_non_null(strstr(log.data, "\"SecretString\":\"***\""));
	assert_non_null(strstr(log.data, "Signature=***"));
	assert_null(strstr(log.data, "hunter2"));
	assert_null(strstr(log.data, "session-token-value"));
	{
		struct buf red = BUF_INIT;
		const char *form = "Action=ModifyDBCluster&MasterUserPassword=p%40ss&X=1";
		const char *xml = "<Credentials><SecretAccessKey>sk</SecretAccessKey>"
				  "<SessionToken>tok</SessionToken></Credentials>";

		aws_debug_redact_body("application/x-www-form-urlencoded", form, strlen(form),
			&red);
		assert_string_equal(red.data, "Action=ModifyDBCluster&MasterUserPassword=***&X=1");
		buf_reset(&red);
		aws_debug_redact_body("text/xml", xml, strlen(xml), &red);
		assert_string_equal(red.data, "<Credentials><SecretAccessKey>***</SecretAccessKey>"
					      "<SessionToken>***</SessionToken></Credentials>");
		buf_release(&red);
	}
	buf_release(&log);
	json_decref(out);
	aws_client_free(c);
}

static void test_unknown_parameters_and_operations_are_usage_errors(void **state)
{
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(call(c, "secretsmanager", "GetSecretValue", "{\"SecretID\":\"x\"}", &out,
				 &ae, &e),
		-1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "unknown parameter 'SecretID'"));
	assert_non_null(strstr(e.msg, "SecretId"));
	err_clear(&e);
	assert_int_equal(call(c, "secretsmanager", "Nope", "{}", &out, &ae, &e), -1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "GetSecretValue"));
	err_clear(&e);
	assert_int_equal(call(c, "ec2", "DescribeInstances", "{}", &out, &ae, &e), -1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "secretsmanager"));
	aws_client_free(c);
}

static void test_idempotency_tokens_are_filled_with_uuids(void **state)
{
	static const struct reply script[] = { { 200, JSON_HDR, "{}" } };
	struct aws_client *c = new_client(srv.port);
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL, *body;
	const char *tok;

	(void)state;
	server_reset(script, ARRAY_SIZE(script));
	assert_int_equal(call(c, "secretsmanager", "CreateSecret",
				 "{\"Name\":\"n\",\"SecretString\":\"v\"}", &out, &ae, &e),
		0);
	body = json_loads(srv.seen[0].body, 0, NULL);
	tok = json_string_value(json_object_get(body, "ClientRequestToken"));
	assert_non_null(tok);
	assert_int_equal(strlen(tok), 36);
	assert_int_equal(tok[14], '4');
	json_decref(body);
	json_decref(out);
	aws_client_free(c);
}

static void test_public_endpoints_use_virtual_hosts_and_global_signing(void **state)
{
	struct aws_client_options o = { 0 };
	struct aws_client *c = NULL;
	struct client_call cc;
	struct err e = ERR_INIT;
	json_t *in = json_loads("{\"Bucket\":\"acme-frontend\",\"Key\":\"a b/c.js\"}", 0,
		NULL);
	json_t *dotted = json_loads("{\"Bucket\":\"acme.frontend\",\"Key\":\"k\"}", 0, NULL);
	json_t *inv = json_loads("{\"DistributionId\":\"E1\",\"Id\":\"I1\"}", 0, NULL);

	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	o.region = "eu-west-1";
	assert_int_equal(aws_client_new(&o, &c, &e), 0);
	assert_int_equal(client_call_prepare(c, "s3", "GetObject", in, NULL, &cc, &e), 0);
	assert_string_equal(cc.url, "https://acme-frontend.s3.eu-west-1.amazonaws.com/a%20b/c.js");
	assert_string_equal(cc.host, "acme-frontend.s3.eu-west-1.amazonaws.com");
	assert_string_equal(buf_str(&cc.req.path), "/a%20b/c.js");
	client_call_release(&cc);
	/* a dotted bucket cannot be a TLS virtual host: path style */
	assert_int_equal(client_call_prepare(c, "s3", "GetObject", dotted, NULL, &cc, &e), 0);
	assert_string_equal(cc.url, "https://s3.eu-west-1.amazonaws.com/acme.frontend/k");
	client_call_release(&cc);
	assert_int_equal(client_call_prepare(c, "cloudfront", "GetInvalidation", inv, NULL, &cc, &e),
		0);
	assert_string_equal(cc.url,
		"https://cloudfront.amazonaws.com/2020-05-31/distribution/E1/invalidation/I1");
	assert_string_equal(cc.signing_region, "us-east-1");
	client_call_release(&cc);
	assert_int_equal(client_call_prepare(c, "docdb", "DescribeDBClusters", NULL, NULL, &cc, &e),
		0);
	assert_string_equal(cc.url, "https://rds.eu-west-1.amazonaws.com/");
	assert_string_equal(cc.signing_name, "rds");
	client_call_release(&cc);
	json_decref(in);
	json_decref(dotted);
	json_decref(inv);
	aws_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_errors_are_retried_until_success),
		cmocka_unit_test(test_throttling_codes_are_retried),
		cmocka_unit_test(test_other_client_errors_are_not_retried),
		cmocka_unit_test(test_retries_stop_after_three_attempts),
		cmocka_unit_test(test_connection_refused_fails_with_the_url),
		cmocka_unit_test(test_retry_delay_is_full_jitter_capped_at_20s),
		cmocka_unit_test(test_pool_runs_calls_in_parallel_up_to_its_limit),
		cmocka_unit_test(test_pool_retries_each_call_and_reports_failures),
		cmocka_unit_test(test_paginate_follows_next_tokens),
		cmocka_unit_test(test_waiter_polls_until_the_success_state),
		cmocka_unit_test(test_waiter_stops_on_a_failure_state_and_on_its_deadline),
		cmocka_unit_test(test_jmespath_evaluates_the_ecs_services_stable_acceptor),
		cmocka_unit_test(test_s3_upload_file_goes_multipart_above_the_threshold),
		cmocka_unit_test(test_s3_get_object_streams_to_a_file),
		cmocka_unit_test(test_debug_log_redacts_secrets),
		cmocka_unit_test(test_unknown_parameters_and_operations_are_usage_errors),
		cmocka_unit_test(test_idempotency_tokens_are_filled_with_uuids),
		cmocka_unit_test(test_public_endpoints_use_virtual_hosts_and_global_signing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
