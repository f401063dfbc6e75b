/*
 * pool.c: many AWS calls in parallel on one libcurl multi handle (an S3
 * sync of thousands of files, the parts of a multipart upload).  Each call
 * is serialised once, signed per attempt, and retried on its own with the
 * client's policy; at most max_parallel transfers run at a time.  Also
 * aws_s3_upload_file(), which uses the pool for multipart uploads.
 */
#include "compat.h"

#include <sys/stat.h>
#include <time.h>

#include "aws/client-internal.h"

struct pool_job {
	/* the call as given; serialised (and its body hashed) when it first starts */
	char *service, *op;
	json_t *input;
	struct aws_call_options opts;
	int prepared;
	struct client_call cc;
	struct aws_kv_list headers;	/* of the running attempt */
	struct aws_request view;
	aws_pool_done_fn done;
	void *arg;
	int attempt;
	long not_before_ms;		/* retry backoff */
	struct pool_job *next;
};

struct aws_pool {
	struct aws_client *c;
	struct aws_http_multi *mh;
	int max_parallel;
	struct pool_job *queue, *queue_tail;
	int failures;
	struct err first_err;
};

static long pool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct aws_pool *aws_pool_new(struct aws_client *c, int max_parallel)
{
	struct aws_pool *p = xcalloc(1, sizeof(*p));

	p->c = c;
	p->max_parallel = max_parallel > 0 ? max_parallel : 8;
	p->mh = aws_http_multi_new(&c->http_opts, p->max_parallel);
	return p;
}

static void job_free(struct pool_job *j)
{
	aws_kv_release(&j->headers);
	if (j->prepared)
		client_call_release(&j->cc);
	free(j->service);
	free(j->op);
	free((char *)j->opts.body_file);
	free((char *)j->opts.out_file);
	json_decref(j->input);
	free(j);
}

void aws_pool_free(struct aws_pool *p)
{
	struct pool_job *j, *next;

	if (p == NULL)
		return;
	for (j = p->queue; j; j = next) {
		next = j->next;
		job_free(j);
	}
	aws_http_multi_free(p->mh);
	free(p);
}

static void pool_enqueue(struct aws_pool *p, struct pool_job *j)
{
	j->next = NULL;
	if (p->queue_tail)
		p->queue_tail->next = j;
	else
		p->queue = j;
	p->queue_tail = j;
}

int aws_pool_add(struct aws_pool *p, const char *service, const char *op, const json_t *input,
	const struct aws_call_options *opts, aws_pool_done_fn done, void *arg, struct err *e)
{
	struct pool_job *j = xcalloc(1, sizeof(*j));
	const struct aws_model *m = aws_model_get(service, e);

	if (m == NULL) {
		free(j);
		return -1;
	}
	if (aws_model_operation(m, op) == NULL) {
		free(j);
		return err_usage(e, "unknown operation '%s' of '%s'", op, service);
	}
	j->service = xstrdup(service);
	j->op = xstrdup(op);
	j->input = input ? json_deep_copy(input) : json_object();
	if (opts) {
		j->opts = *opts;
		j->opts.body_file = opts->body_file ? xstrdup(opts->body_file) : NULL;
		j->opts.out_file = opts->out_file ? xstrdup(opts->out_file) : NULL;
	}
	j->done = done;
	j->arg = arg;
	pool_enqueue(p, j);
	return 0;
}

static void pool_report(struct aws_pool *p, struct pool_job *j, int rc, json_t *out,
	struct aws_error *ae, struct err *e)
{
	if (rc != 0) {
		if (p->failures++ == 0) {
			if (rc == 1)
				err_set(&p->first_err, "%s %s: %s: %s", j->service, j->op,
					ae->code, ae->message);
			else
				p->first_err = *e;
		}
	}
	if (j->done)
		j->done(j->arg, rc, out, ae, e);
}

/* Start the first queued job whose backoff has passed; 1 if one started. */
static int pool_start_one(struct aws_pool *p)
{
	struct pool_job **pp, *j;
	struct err e = ERR_INIT;
	long now = pool_now_ms();

	for (pp = &p->queue; (j = *pp); pp = &j->next) {
		if (j->not_before_ms > now)
			continue;
		*pp = j->next;
		if (p->queue_tail == j) {
			struct pool_job *t = p->queue;

			while (t && t->next)
				t = t->next;
			p->queue_tail = t;
		}
		j->next = NULL;
		j->attempt++;
		aws_kv_release(&j->headers);
		if (!j->prepared) {
			if (client_call_prepare(p->c, j->service, j->op, j->input, &j->opts, &j->cc,
				    &e) < 0) {
				struct aws_error ae = AWS_ERROR_INIT;

				pool_report(p, j, -1, NULL, &ae, &e);
				job_free(j);
				return 1;
			}
			j->prepared = 1;
		}
		if (client_call_sign(p->c, &j->cc, &j->headers, &e) < 0 ||
			((void)(j->view = j->cc.req, j->view.headers = j->headers, 0),
				aws_http_multi_add(p->mh, j->cc.url, &j->view, j, &e) < 0)) {
			struct aws_error ae = AWS_ERROR_INIT;

			pool_report(p, j, -1, NULL, &ae, &e);
			job_free(j);
			return 1;
		}
		if (aws_debug_enabled())
			aws_debug_request(j->cc.url, &j->view);
		return 1;
	}
	return 0;
}

static void pool_finish(struct aws_pool *p, struct aws_http_transfer *t)
{
	struct pool_job *j = aws_http_transfer_tag(t);
	struct aws_response resp;
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	json_t *out = NULL;
	int transient = 0, rc;

	rc = aws_http_transfer_result(t, &resp, &transient, &e);
	aws_http_transfer_free(t);
	if (rc < 0) {
		if (transient && j->attempt < p->c->max_attempts) {
			j->not_before_ms = pool_now_ms() +
				aws_retry_delay_ms(j->attempt, p->c->retry_base_ms);
			aws_response_release(&resp);
			pool_enqueue(p, j);
			return;
		}
		err_prefix(&e, "%s %s to '%s'", j->service, j->op, j->cc.url);
		pool_report(p, j, -1, NULL, &ae, &e);
		aws_response_release(&resp);
		job_free(j);
		return;
	}
	if (aws_debug_enabled())
		aws_debug_response(&resp, j->attempt);
	if (client_response_checksum_ok(&j->cc, &resp, &e) < 0) {
		pool_report(p, j, -1, NULL, &ae, &e);
		aws_response_release(&resp);
		job_free(j);
		return;
	}
	rc = proto_parse(j->cc.model, j->op, &resp, &out, &ae, &e);
	aws_response_release(&resp);
	if (rc == 0 && j->cc.decode_keys)
		client_decode_s3_keys(out);
	if (rc == 1 && aws_retry_should(ae.status, ae.code) && j->attempt < p->c->max_attempts) {
		j->not_before_ms =
			pool_now_ms() + aws_retry_delay_ms(j->attempt, p->c->retry_base_ms);
		aws_error_release(&ae);
		pool_enqueue(p, j);
		return;
	}
	pool_report(p, j, rc, out, &ae, &e);
	json_decref(out);
	aws_error_release(&ae);
	job_free(j);
}

int aws_pool_run(struct aws_pool *p, struct err *e)
{
	struct aws_http_transfer *t;

	p->failures = 0;
	err_clear(&p->first_err);
	while (p->queue || aws_http_multi_pending(p->mh)) {
		while (aws_http_multi_pending(p->mh) < p->max_parallel && pool_start_one(p))
			;
		if (aws_http_multi_pending(p->mh) == 0) {
			/* only backed-off jobs are left: wait for the first of them */
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
			continue;
		}
		t = aws_http_multi_next(p->mh, 50);
		if (t)
			pool_finish(p, t);
	}
	if (p->failures) {
		*e = p->first_err;
		if (p->failures > 1)
			err_prefix(e, "%d calls failed; the first", p->failures);
		return -1;
	}
	return 0;
}

/*
 * aws_s3_upload_file().
 */
struct part_result {
	json_t *parts;		/* [{ETag, PartNumber}] in part order */
	int failed;
	struct aws_error ae;
};

struct part_ctx {
	struct part_result *res;
	int number;
};

static void part_done(void *arg, int rc, const json_t *out, const struct aws_error *ae,
	const struct err *e)
{
	struct part_ctx *pc = arg;
	json_t *part;

	(void)e;
	if (rc == 0) {
		part = json_object();
		json_object_set(part, "ETag", json_object_get(out, "ETag"));
		json_object_set_new(part, "PartNumber", json_integer(pc->number));
		json_array_set_new(pc->res->parts, (size_t)pc->number - 1, part);
	} else {
		if (!pc->res->failed && rc == 1) {
			pc->res->ae = *ae;
			pc->res->ae.fields = NULL;
		}
		pc->res->failed = 1;
	}
}

int aws_s3_upload_file(struct aws_client *c, const char *bucket, const char *key,
	const char *path, const json_t *extra, struct aws_error *ae, struct err *e)
{
	struct aws_call_options opts = { path, NULL, 0, 0 };
	struct part_result res = { NULL, 0, AWS_ERROR_INIT };
	struct part_ctx *ctx = NULL;
	struct aws_pool *pool = NULL;
	json_t *in = NULL, *out = NULL;
	const char *upload_id;
	struct stat st;
	size_t nparts = 0, i;
	int rc = -1;

	memset(ae, 0, sizeof(*ae));
	if (stat(path, &st) < 0)
		return err_set(e, "unable to read '%s': %s", path, strerror(errno));
	in = extra ? json_deep_copy(extra) : json_object();
	json_object_set_new(in, "Bucket", json_string(bucket));
	json_object_set_new(in, "Key", json_string(key));
	if ((size_t)st.st_size <= AWS_S3_MULTIPART_THRESHOLD) {
		rc = aws_client_call_ex(c, "s3", "PutObject", in, &opts, &out, ae, e);
		goto out;
	}
	rc = aws_client_call(c, "s3", "CreateMultipartUpload", in, &out, ae, e);
	if (rc != 0)
		goto out;
	upload_id = json_string_value(json_object_get(out, "UploadId"));
	if (upload_id == NULL) {
		rc = err_set(e, "CreateMultipartUpload returned no UploadId");
		goto out;
	}
	json_object_set_new(in, "UploadId", json_string(upload_id));
	/* out is released next: keep the id that in owns */
	upload_id = json_string_value(json_object_get(in, "UploadId"));
	json_decref(out);
	out = NULL;
	nparts = ((size_t)st.st_size + AWS_S3_PART_SIZE - 1) / AWS_S3_PART_SIZE;
	res.parts = json_array();
	for (i = 0; i < nparts; i++)
		json_array_append_new(res.parts, json_null());
	ctx = xcalloc(nparts, sizeof(*ctx));
	pool = aws_pool_new(c, 4);
	for (i = 0; i < nparts; i++) {
		json_t *pin = json_object();
		size_t len = (size_t)st.st_size - i * AWS_S3_PART_SIZE;
		struct aws_call_options po = { NULL, NULL, 0, 0 };

		if (len > AWS_S3_PART_SIZE)
			len = AWS_S3_PART_SIZE;
		/* each part is a slice of the file, re-read by a retry */
		ctx[i].res = &res;
		ctx[i].number = (int)i + 1;
		po.body_file = path;
		po.body_offset = (long long)(i * AWS_S3_PART_SIZE);
		po.body_length = (long long)len;
		json_object_set_new(pin, "Bucket", json_string(bucket));
		json_object_set_new(pin, "Key", json_string(key));
		json_object_set_new(pin, "UploadId", json_string(upload_id));
		json_object_set_new(pin, "PartNumber", json_integer((json_int_t)i + 1));
		rc = aws_pool_add(pool, "s3", "UploadPart", pin, &po, part_done, &ctx[i], e);
		json_decref(pin);
		if (rc < 0)
			goto abort;
	}
	if (aws_pool_run(pool, e) < 0 || res.failed) {
		if (res.ae.code[0]) {
			*ae = res.ae;
			rc = 1;
		} else {
			rc = -1;
		}
		goto abort;
	}
	{
		json_t *cin = json_object(), *mp = json_object();

		json_object_set_new(cin, "Bucket", json_string(bucket));
		json_object_set_new(cin, "Key", json_string(key));
		json_object_set_new(cin, "UploadId", json_string(upload_id));
		json_object_set(mp, "Parts", res.parts);
		json_object_set_new(cin, "MultipartUpload", mp);
		rc = aws_client_call(c, "s3", "CompleteMultipartUpload", cin, &out, ae, e);
		json_decref(cin);
		if (rc != 0)
			goto abort;
	}
	goto out;
abort:
	{
		/* do not leave the parts billed: abort, keeping the first error */
		struct aws_error ae2 = AWS_ERROR_INIT;
		struct err e2 = ERR_INIT;
		json_t *ain = json_object(), *aout = NULL;

		json_object_set_new(ain, "Bucket", json_string(bucket));
		json_object_set_new(ain, "Key", json_string(key));
		json_object_set(ain, "UploadId", json_object_get(in, "UploadId"));
		aws_client_call(c, "s3", "AbortMultipartUpload", ain, &aout, &ae2, &e2);
		json_decref(ain);
		json_decref(aout);
		aws_error_release(&ae2);
	}
out:
	free(ctx);
	aws_pool_free(pool);
	json_decref(res.parts);
	json_decref(out);
	json_decref(in);
	return rc;
}
