/*
 * http.c: libcurl transfers for the AWS client, single (a reused easy
 * handle: one TLS session and keep-alive connection per client) or in
 * parallel on a multi handle, and the retry policy of http.h.
 */
#include "compat.h"

#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "aws/http.h"

struct aws_http {
	CURL *easy;
	struct aws_http_options opts;
};

/* One transfer's state, shared by the single and the parallel paths. */
struct aws_http_transfer {
	CURL *easy;
	int own_easy;
	struct curl_slist *headers;
	FILE *in;
	long long in_left;		/* bytes of the body file still to send */
	FILE *out;
	const struct aws_request *req;
	struct aws_response resp;
	int write_failed;
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
	void *tag;
	struct aws_http_transfer *next;
};

struct aws_http_multi {
	CURLM *multi;
	struct aws_http_options opts;
	struct aws_http_transfer *running;
	int pending;
};

static void curl_global(void)
{
	static int done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = 1;
	}
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct aws_http_transfer *t = arg;
	size_t len = size * n, name_len, vlen;
	const char *colon, *v;
	char *name, *value;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new status line (after 100 Continue or a redirect): start over */
		aws_kv_release(&t->resp.headers);
		return len;
	}
	colon = memchr(data, ':', len);
	if (colon == NULL)
		return len;
	name_len = (size_t)(colon - data);
	v = colon + 1;
	vlen = len - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	name = xstrndup(data, name_len);
	value = xstrndup(v, vlen);
	aws_kv_add(&t->resp.headers, name, value);
	free(name);
	free(value);
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct aws_http_transfer *t = arg;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (t->req->out_file && status >= 200 && status < 300) {
		if (t->out == NULL) {
			t->out = fopen(t->req->out_file, "wbe");
			if (t->out == NULL) {
				t->write_failed = errno;
				return 0;
			}
		}
		if (fwrite(data, 1, len, t->out) != len) {
			t->write_failed = errno ? errno : EIO;
			return 0;
		}
		t->resp.body_in_file = 1;
		return len;
	}
	if (buf_append(&t->resp.body, data, len) < 0) {
		t->write_failed = EFBIG;
		return 0;
	}
	return len;
}

static size_t on_read(char *data, size_t size, size_t n, void *arg)
{
	struct aws_http_transfer *t = arg;
	size_t want = size * n, got;

	if ((long long)want > t->in_left)
		want = (size_t)t->in_left;
	got = fread(data, 1, want, t->in);
	t->in_left -= (long long)got;
	return got;
}

static void apply_options(CURL *easy, const struct aws_http_options *o)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
		o && o->connect_timeout_ms ? o->connect_timeout_ms : 10000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, o ? o->timeout_ms : 0L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
		o && o->low_speed_secs ? o->low_speed_secs : 60L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	if (o && o->ca_bundle)
		curl_easy_setopt(easy, CURLOPT_CAINFO, o->ca_bundle);
}

/* Prepare t on easy for req; -1 with e when the upload file cannot be read. */
static int transfer_setup(struct aws_http_transfer *t, CURL *easy, const char *url,
	const struct aws_request *req, struct err *e)
{
	size_t i;
	curl_off_t size = -1;

	t->easy = easy;
	t->req = req;
	aws_response_init(&t->resp);
	buf_set_cap(&t->resp.body, AWS_HTTP_MAX_BODY);
	t->errbuf[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(easy, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(easy, CURLOPT_POST, 0L);
	curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
	for (i = 0; i < req->headers.n; i++) {
		char *line = xasprintf("%s: %s", req->headers.v[i].name, req->headers.v[i].value);

		t->headers = curl_slist_append(t->headers, line);
		free(line);
	}
	/* no "Expect: 100-continue" round trip, no Accept: */
	t->headers = curl_slist_append(t->headers, "Expect:");
	t->headers = curl_slist_append(t->headers, "Accept:");
	if (req->body_file) {
		struct stat st;

		t->in = fopen(req->body_file, "rbe");
		if (t->in == NULL || fstat(fileno(t->in), &st) < 0 ||
			fseeko(t->in, (off_t)req->body_offset, SEEK_SET) < 0)
			return err_set(e, "unable to read '%s': %s", req->body_file,
				strerror(errno));
		size = st.st_size - req->body_offset;
		if (req->body_length >= 0 && req->body_length < size)
			size = req->body_length;
		if (size < 0)
			size = 0;
		t->in_left = size;
	}
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "GET") && !req->has_body) {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	} else if (t->in) {
		curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(easy, CURLOPT_READDATA, t);
		curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	} else {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body.data ? req->body.data : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
		/* libcurl adds a form Content-Type to POSTs: send none unless given */
		if (!aws_kv_get(&req->headers, "Content-Type"))
			t->headers = curl_slist_append(t->headers, "Content-Type:");
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
	return 0;
}

static int transient_code(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Move t's outcome into resp; the contract of aws_http_perform(). */
static int transfer_finish(struct aws_http_transfer *t, struct aws_response *resp,
	int *transient, struct err *e)
{
	int ret = 0;

	*transient = 0;
	if (t->out && fclose(t->out) != 0 && !t->write_failed)
		t->write_failed = errno;
	t->out = NULL;
	if (t->in)
		fclose(t->in);
	t->in = NULL;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->resp.status);
	if (t->write_failed == EFBIG) {
		ret = err_set(e, "response body larger than %u bytes", AWS_HTTP_MAX_BODY);
	} else if (t->write_failed) {
		ret = err_set(e, "unable to write '%s': %s", t->req->out_file,
			strerror(t->write_failed));
	} else if (t->result != CURLE_OK) {
		*transient = transient_code(t->result);
		ret = err_set(e, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result));
	} else if (t->req->out_file && t->resp.status >= 200 && t->resp.status < 300 &&
		!t->resp.body_in_file && strcmp(t->req->method, "HEAD")) {
		/* an empty object still makes an (empty) file */
		FILE *f = fopen(t->req->out_file, "wbe");

		if (f == NULL || fclose(f) != 0)
			ret = err_set(e, "unable to write '%s': %s", t->req->out_file,
				strerror(errno));
		t->resp.body_in_file = 1;
	}
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	*resp = t->resp;
	aws_response_init(&t->resp);
	return ret;
}

struct aws_http *aws_http_new(const struct aws_http_options *o)
{
	struct aws_http *h = xcalloc(1, sizeof(*h));

	curl_global();
	h->easy = curl_easy_init();
	if (h->easy == NULL) {
		fprintf(stderr, "caliber: fatal: libcurl cannot initialise\n");
		abort();
	}
	if (o)
		h->opts = *o;
	apply_options(h->easy, o);
	return h;
}

void aws_http_free(struct aws_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->easy);
	free(h);
}

int aws_http_perform(struct aws_http *h, const char *url, const struct aws_request *req,
	struct aws_response *resp, int *transient, struct err *e)
{
	struct aws_http_transfer t;

	memset(&t, 0, sizeof(t));
	*transient = 0;
	aws_response_init(resp);
	if (transfer_setup(&t, h->easy, url, req, e) < 0) {
		if (t.in)
			fclose(t.in);
		curl_slist_free_all(t.headers);
		aws_response_release(&t.resp);
		return -1;
	}
	t.result = curl_easy_perform(h->easy);
	return transfer_finish(&t, resp, transient, e);
}

struct aws_http_multi *aws_http_multi_new(const struct aws_http_options *o, int max_parallel)
{
	struct aws_http_multi *mh = xcalloc(1, sizeof(*mh));

	curl_global();
	mh->multi = curl_multi_init();
	if (o)
		mh->opts = *o;
	curl_multi_setopt(mh->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
		(long)(max_parallel > 0 ? max_parallel : 8));
	curl_multi_setopt(mh->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		(long)(max_parallel > 0 ? max_parallel : 8));
	return mh;
}

void aws_http_transfer_free(struct aws_http_transfer *t)
{
	if (t == NULL)
		return;
	if (t->in)
		fclose(t->in);
	if (t->out)
		fclose(t->out);
	curl_slist_free_all(t->headers);
	aws_response_release(&t->resp);
	if (t->own_easy)
		curl_easy_cleanup(t->easy);
	free(t);
}

void aws_http_multi_free(struct aws_http_multi *mh)
{
	struct aws_http_transfer *t, *next;

	if (mh == NULL)
		return;
	for (t = mh->running; t; t = next) {
		next = t->next;
		curl_multi_remove_handle(mh->multi, t->easy);
		aws_http_transfer_free(t);
	}
	curl_multi_cleanup(mh->multi);
	free(mh);
}

int aws_http_multi_add(struct aws_http_multi *mh, const char *url, const struct aws_request *req,
	void *tag, struct err *e)
{
	struct aws_http_transfer *t = xcalloc(1, sizeof(*t));
	CURL *easy = curl_easy_init();

	t->own_easy = 1;
	t->tag = tag;
	t->easy = easy;
	apply_options(easy, &mh->opts);
	if (transfer_setup(t, easy, url, req, e) < 0) {
		aws_http_transfer_free(t);
		return -1;
	}
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	curl_multi_add_handle(mh->multi, easy);
	t->next = mh->running;
	mh->running = t;
	mh->pending++;
	return 0;
}

int aws_http_multi_pending(const struct aws_http_multi *mh)
{
	return mh->pending;
}

static struct aws_http_transfer *multi_take_done(struct aws_http_multi *mh)
{
	struct aws_http_transfer *t, **pp;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(mh->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		t->result = msg->data.result;
		curl_multi_remove_handle(mh->multi, t->easy);
		for (pp = &mh->running; *pp; pp = &(*pp)->next)
			if (*pp == t) {
				*pp = t->next;
				break;
			}
		mh->pending--;
		return t;
	}
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct aws_http_transfer *aws_http_multi_next(struct aws_http_multi *mh, long timeout_ms)
{
	struct aws_http_transfer *t;
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0), left;
	int running;

	for (;;) {
		curl_multi_perform(mh->multi, &running);
		if ((t = multi_take_done(mh)))
			return t;
		left = deadline - now_ms();
		if (mh->pending == 0 || left <= 0)
			return NULL;
		curl_multi_poll(mh->multi, NULL, 0, (int)(left > 1000 ? 1000 : left), NULL);
	}
}

int aws_http_transfer_result(struct aws_http_transfer *t, struct aws_response *resp,
	int *transient, struct err *e)
{
	return transfer_finish(t, resp, transient, e);
}

void *aws_http_transfer_tag(const struct aws_http_transfer *t)
{
	return t->tag;
}

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "ServiceUnavailable",
};

int aws_retry_is_throttle(const char *code)
{
	size_t i;

	for (i = 0; code && i < ARRAY_SIZE(throttle_codes); i++)
		if (!strcmp(code, throttle_codes[i]))
			return 1;
	return 0;
}

int aws_retry_should(long status, const char *code)
{
	size_t i;

	if (aws_retry_is_throttle(code))
		return 1;
	for (i = 0; code && i < ARRAY_SIZE(transient_codes); i++)
		if (!strcmp(code, transient_codes[i]))
			return 1;
	return status == 500 || status == 502 || status == 503 || status == 504;
}

long aws_retry_delay_ms(int attempt, long base_ms)
{
	uint32_t r;
	double delay;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)rand();
	delay = (double)r / 4294967296.0 * (double)base_ms;
	while (--attempt > 0 && delay < 20000)
		delay *= 2;
	return delay > 20000 ? 20000 : (long)delay;
}
