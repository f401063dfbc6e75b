/*
 * fuzz-router.c: arbitrary requests through caliberd's router, from the
 * first header to the handler's reply, without the HTTP front.
 *
 * Input layout, '\n'-separated: a flags line, method, path (raw), query
 * (raw), header lines "name:value" up to an empty line; the rest is the
 * body, fed to router_body() in pieces.  Flags: 's' signs the request for
 * secretsmanager with the daemon's credentials, so that its handlers and
 * their JSON body parsers run; 'r' signs it for s3 with a wrong secret, so
 * that REST routing runs and the refusal is written (the S3 handlers need
 * their service started, which this harness does not do); neither: sent
 * as is.  The same bytes also go through lib/localcloud/proto.c's parsers.
 *
 * The daemon's state is an in-memory SQLite store with Secrets Manager's
 * tables, so its requests really create, read and delete.
 */
#include "compat.h"

#include <time.h>

#include <openssl/evp.h>

#include "aws/sigv4.h"
#include "core/caliberd.h"
#include "core/reply.h"
#include "core/router.h"
#include "core/store.h"

#define FUZZ_MAX_HEADERS 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lc_server fuzz_srv;
static int fuzz_ready;

static void fuzz_init(void)
{
	struct err e = ERR_INIT;
	size_t i;

	memset(&fuzz_srv, 0, sizeof(fuzz_srv));
	snprintf(fuzz_srv.creds.access_key_id, sizeof(fuzz_srv.creds.access_key_id), "%s",
		"AKIAFUZZFUZZFUZZFUZZ");
	snprintf(fuzz_srv.creds.secret_access_key, sizeof(fuzz_srv.creds.secret_access_key), "%s",
		"fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz");
	fuzz_srv.tmp_dir = xstrdup("/tmp/fuzz-router-XXXXXX");
	if (mkdtemp(fuzz_srv.tmp_dir) == NULL)
		abort();
	fuzz_srv.objects_dir = xstrdup(fuzz_srv.tmp_dir);
	if (store_open(":memory:", &fuzz_srv.store, &e) < 0)
		abort();
	for (i = 0; i < lc_n_services; i++)
		if (!strcmp(lc_services[i]->name, "secretsmanager") &&
			lc_services[i]->init(&fuzz_srv, &e) < 0)
			abort();
	fuzz_ready = 1;
}

static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (line == NULL)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return line;
}

static void add_param(struct lc_param **arr, size_t *n, const char *name, const char *value)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[*n].name = xstrdup(name);
	(*arr)[*n].value = xstrdup(value);
	(*n)++;
}

static void sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0, i;

	EVP_Digest(p, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Sign as a client would: host and x-amz-date added, Authorization last. */
static void fuzz_sign(struct lc_request *req, const char *body, size_t body_len, int as_s3)
{
	struct sigv4_header hdrs[FUZZ_MAX_HEADERS + 4];
	struct sigv4_request sr;
	struct buf auth = BUF_INIT;
	struct err e = ERR_INIT;
	char amz_date[17], hash[65];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	add_param(&req->headers, &req->n_headers, "Host", "127.0.0.1:4566");
	add_param(&req->headers, &req->n_headers, "X-Amz-Date", amz_date);
	sha256_hex(body, body_len, hash);
	if (as_s3)
		add_param(&req->headers, &req->n_headers, "x-amz-content-sha256", hash);
	for (i = 0; i < req->n_headers && i < ARRAY_SIZE(hdrs); i++) {
		hdrs[i].name = req->headers[i].name;
		hdrs[i].value = req->headers[i].value;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = req->method;
	sr.path = req->raw_path;
	sr.query = req->raw_query;
	sr.headers = hdrs;
	sr.n_headers = i;
	sr.payload_hash = hash;
	buf_init(&auth);
	if (sigv4_sign(&sr, fuzz_srv.creds.access_key_id,
		    as_s3 ? "wrongwrongwrongwrongwrongwrongwrongwrong"
			  : fuzz_srv.creds.secret_access_key,
		    "us-east-1", as_s3 ? "s3" : "secretsmanager", amz_date, &auth, &e) == 0)
		add_param(&req->headers, &req->n_headers, "Authorization", auth.data);
	buf_release(&auth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_request req;
	struct lc_response res;
	struct lc_param *form = NULL, params[LC_MAX_PATH_PARAMS];
	char key[129], region[64], service[64];
	char *copy, *p, *flags, *method, *path, *query, *line;
	size_t n_form = 0, n_params = 0, body_len, i, piece;
	const char *body;
	int sign, sign_s3;

	if (!fuzz_ready)
		fuzz_init();
	copy = xstrndup((const char *)data, size);

	/* the parsers on their own */
	lcproto_scope_parse(copy, key, sizeof(key), region, sizeof(region), service,
		sizeof(service));
	lcproto_form_parse((const char *)data, size, 64, &form, &n_form);
	lc_params_free(form, n_form);
	free(lcproto_decode((const char *)data, size, 1, NULL));
	memset(params, 0, sizeof(params));
	if (lcproto_path_match("/{Bucket}/{Key+}", copy, params, LC_MAX_PATH_PARAMS, &n_params))
		while (n_params > 0) {
			n_params--;
			free(params[n_params].name);
			free(params[n_params].value);
		}

	/* a whole request through the router */
	p = copy;
	flags = next_line(&p);
	method = next_line(&p);
	path = next_line(&p);
	query = next_line(&p);
	if (flags == NULL || method == NULL || path == NULL || query == NULL || *method == '\0') {
		free(copy);
		return 0;
	}
	sign = strchr(flags, 's') != NULL;
	sign_s3 = !sign && strchr(flags, 'r') != NULL;
	memset(&req, 0, sizeof(req));
	req.body_fd = -1;
	req.srv = &fuzz_srv;
	buf_init(&req.body);
	lc_response_init(&res);
	lc_request_id_new(req.request_id);
	snprintf(req.region, sizeof(req.region), "us-east-1");
	req.method = xstrdup(method);
	req.raw_path = xstrdup(path);
	req.path = lcproto_decode(path, strlen(path), 0, NULL);
	req.raw_query = xstrdup(query);
	lcproto_form_parse(query, strlen(query), 64, &req.query, &req.n_query);
	while ((line = next_line(&p)) != NULL && *line != '\0' && req.n_headers < FUZZ_MAX_HEADERS) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		add_param(&req.headers, &req.n_headers, line, colon + 1);
	}
	body = p != NULL ? p : "";
	body_len = p != NULL ? size - (size_t)(p - copy) : 0;
	req.content_length = body_len;
	if (sign || sign_s3)
		fuzz_sign(&req, body, body_len, sign_s3);
	if (router_begin(&req, &res) == 0) {
		/* in pieces, as the HTTP front hands them over */
		for (i = 0; i < body_len; i += piece) {
			piece = body_len - i < 7 ? body_len - i : 7 + (i % 1000);
			if (piece > body_len - i)
				piece = body_len - i;
			if (router_body(&req, &res, body + i, piece) < 0)
				break;
		}
		router_finish(&req, &res);
	}
	if (res.status < 100 || res.status > 599)
		abort(); /* every request gets an answer */
	lc_request_release(&req);
	lc_response_release(&res);
	free(copy);
	return 0;
}
