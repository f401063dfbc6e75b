/*
 * router.c: the path of a request through the catalogue of services
 * (localcloud/services.c) and each service's own operations (its
 * routes.c): service, authentication, body, operation, handler.  See router.h for the rules and docs/localcloud.md for how to
 * add a service.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>

#include <jansson.h>

#include "auth.h"
#include "caliberd.h"
#include "codec-glue.h"
#include "reply.h"
#include "router.h"
#include "store.h"

#define KiB ((size_t)1024)
#define MiB LC_MIB

/* All request headers together (names, values, request line) */
#define LC_MAX_HEADER_BYTES (16 * KiB)
/*
 * A refused request's body is read and dropped up to this size, so that the
 * client (which sends its body before reading the reply) sees the error and
 * the connection stays usable; past it the connection is dropped.
 */
#define LC_MAX_DRAIN (8 * MiB)
/* Form parameters of a Query request */
#define LC_MAX_FORM_PARAMS 1000

/*
 * Stand-ins used to word an error before the service is known (unsigned
 * or unknown-service requests): the protocol the request looks like.
 */
static const struct lc_service guess_json = { "", LC_PROTO_JSON, NULL, NULL, 1 * MiB, 0, 0, 0,
	NULL, NULL, 0 };
static const struct lc_service guess_query = { "", LC_PROTO_QUERY, NULL, NULL, 1 * MiB, 0, 0, 0,
	NULL, NULL, 0 };
static const struct lc_service guess_rest = { "", LC_PROTO_REST_XML, NULL, NULL, 1 * MiB, 0, 1,
	1, NULL, NULL, 0 };

const char *lc_request_header(const struct lc_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

const char *lc_request_query(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->query, req->n_query, name);
}

const char *lc_request_path_param(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->path_params, req->n_path_params, name);
}

const char *lc_request_form(const struct lc_request *req, const char *name)
{
	return lc_params_get(req->form, req->n_form, name);
}

const struct lc_service *router_service(const char *name)
{
	size_t i;

	for (i = 0; i < lc_n_services; i++)
		if (!strcmp(lc_services[i]->name, name))
			return lc_services[i];
	return NULL;
}

/*
 * The REST-XML service an unsigned request's path names (Route 53's and
 * CloudFront's API versions), so that it is refused in that service's
 * words rather than S3's; NULL for anything else.
 */
static const struct lc_service *service_by_path(const char *path)
{
	if (path != NULL && strncmp(path, "/2013-04-01/", 12) == 0)
		return router_service("route53");
	if (path != NULL && strncmp(path, "/2020-05-31/", 12) == 0)
		return router_service("cloudfront");
	return NULL;
}

static const struct lc_service *service_by_target(const char *target)
{
	size_t i, n = strcspn(target, ".");

	for (i = 0; i < lc_n_services; i++) {
		const char *p = lc_services[i]->target_prefix;

		if (p != NULL && strlen(p) == n && !strncmp(p, target, n))
			return lc_services[i];
	}
	return NULL;
}

const struct lc_route *router_operation(const struct lc_service *svc, const char *op)
{
	size_t i;

	for (i = 0; i < svc->n_routes; i++)
		if (svc->routes[i].method == NULL && !strcmp(svc->routes[i].operation, op))
			return &svc->routes[i];
	return NULL;
}

/*
 * The bucket named by an S3 virtual-hosted Host header: "<bucket>.s3.<...>"
 * (as on AWS) or "<bucket>.localhost" (every *.localhost name reaches
 * 127.0.0.1).  NULL for path-style hosts (127.0.0.1, localhost, s3.localhost).
 */
static char *s3_host_bucket(const char *host)
{
	size_t n = strcspn(host, ":");
	char *h = xstrndup(host, n), *b = NULL, *p;

	for (p = h; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((p = strstr(h, ".s3.")) != NULL || (p = strstr(h, ".s3-")) != NULL) {
		if (p > h)
			b = xstrndup(h, (size_t)(p - h));
	} else if (n > 10 && !strcmp(h + n - 10, ".localhost") && strcmp(h, "s3.localhost")) {
		b = xstrndup(h, n - 10);
	}
	free(h);
	return b;
}

static const struct lc_route *route_rest(struct lc_request *req)
{
	size_t i;

	for (i = 0; i < req->service->n_routes; i++) {
		const struct lc_route *r = &req->service->routes[i];

		if (r->method == NULL || strcmp(r->method, req->method) != 0)
			continue;
		if (r->query_flag != NULL && lc_request_query(req, r->query_flag) == NULL)
			continue;
		if (r->header_flag != NULL && lc_request_header(req, r->header_flag) == NULL)
			continue;
		if (lcproto_path_match(r->path, req->route_path ? req->route_path : req->raw_path,
			    req->path_params,
			    LC_MAX_PATH_PARAMS, &req->n_path_params))
			return r;
	}
	return NULL;
}

static int too_large(struct lc_request *req, struct lc_response *res, uint64_t max)
{
	req->failed = 1;
	if (req->service->s3_errors)
		return lc_reply_error(req, res, 400, "EntityTooLarge",
			"Your proposed upload exceeds the maximum allowed size of %llu bytes.",
			(unsigned long long)max);
	return lc_reply_error(req, res, 413, "RequestEntityTooLarge",
		"the request body exceeds the maximum of %llu bytes", (unsigned long long)max);
}

static uint64_t body_cap(const struct lc_request *req)
{
	if (req->route != NULL && req->route->body_mode == LC_BODY_FILE)
		return req->service->max_stream;
	return req->service->max_body;
}

static int health(struct lc_request *req, struct lc_response *res)
{
	/* the pid says which daemon answers: another local cloud may hold the port */
	json_t *o = json_pack("{s:s, s:I, s:[]}", "status", "running", "pid",
		(json_int_t)getpid(), "services");
	char *text;
	size_t i;

	for (i = 0; i < lc_n_services; i++)
		json_array_append_new(json_object_get(o, "services"),
			json_string(lc_services[i]->name));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	lc_reply_raw(req, res, 200, "application/json", text, strlen(text));
	free(text);
	return -1;
}

static int router_check_headers(struct lc_request *req, struct lc_response *res)
{
	const char *target = lc_request_header(req, "X-Amz-Target");
	const char *ctype = lc_request_header(req, "Content-Type");
	const char *authz = lc_request_header(req, "Authorization");
	const char *qcred = lc_request_query(req, "X-Amz-Credential");
	const struct lc_service *svc = NULL;
	char key_id[129], region[64], service[64];
	size_t total, i;
	int scoped = 0;

	/* a first guess, so that even the earliest error has the right shape */
	if (target != NULL)
		req->service = &guess_json;
	else if (!strcmp(req->method, "POST") && ctype != NULL &&
		 !strncasecmp(ctype, "application/x-www-form-urlencoded", 33))
		req->service = &guess_query;
	else
		req->service = &guess_rest;

	total = strlen(req->method) + strlen(req->raw_path) + strlen(req->raw_query) + 16;
	for (i = 0; i < req->n_headers; i++)
		total += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 4;
	if (total > LC_MAX_HEADER_BYTES) {
		req->failed = 1;
		return lc_reply_error(req, res, 400, "RequestHeaderSectionTooLarge",
			"Your request header section exceeds the maximum allowed size of %zu bytes.",
			LC_MAX_HEADER_BYTES);
	}
	/*
	 * A key, name or parameter with a NUL byte in it (index.html%00.bak)
	 * would be cut short as a C string and name another object: refused,
	 * never truncated.
	 */
	if (req->encoded_nul) {
		req->failed = 1;
		return lc_reply_error(req, res, 400, "InvalidArgument",
			"the request's path or query string holds an encoded NUL byte (%%00), which "
			"no key, name or parameter here may contain");
	}
	if (!strcmp(req->method, "GET") && !strcmp(req->raw_path, "/_caliber/health")) {
		req->failed = 1;
		return health(req, res);
	}

	if (authz != NULL)
		scoped = lcproto_scope_parse(authz, key_id, sizeof(key_id), region, sizeof(region),
				 service, sizeof(service)) == 0;
	else if (qcred != NULL)
		scoped = lcproto_scope_parse(qcred, key_id, sizeof(key_id), region, sizeof(region),
				 service, sizeof(service)) == 0;
	if (scoped) {
		svc = router_service(service);
		if (svc == NULL) {
			req->failed = 1;
			if (req->service->protocol == LC_PROTO_JSON)
				return lc_reply_error(req, res, 400, "UnknownOperationException",
					"caliberd does not provide the service '%s'", service);
			if (req->service->protocol == LC_PROTO_QUERY)
				return lc_reply_error(req, res, 400, "InvalidAction",
					"caliberd does not provide the service '%s'", service);
			return lc_reply_error(req, res, 501, "NotImplemented",
				"caliberd does not provide the service '%s'", service);
		}
		req->service = svc;
		snprintf(req->region, sizeof(req->region), "%s", region);
	} else if (authz != NULL || qcred != NULL) {
		/* a signature we cannot read: sigv4_verify words the refusal */
		if (target != NULL && service_by_target(target) != NULL)
			req->service = service_by_target(target);
		req->failed = 1;
		if (auth_check(req, res, NULL) == 0)
			return lc_reply_error(req, res, 400, "IncompleteSignatureException",
				"the credential scope of the signature cannot be read");
		return -1;
	} else {
		if (target != NULL && service_by_target(target) != NULL)
			req->service = service_by_target(target);
		else if (service_by_path(req->raw_path) != NULL)
			req->service = service_by_path(req->raw_path);
		req->failed = 1;
		return auth_refuse_unsigned(req, res);
	}

	switch (svc->protocol) {
	case LC_PROTO_JSON: {
		const char *dot = target ? strchr(target, '.') : NULL;

		if (target == NULL || dot == NULL ||
			(size_t)(dot - target) != strlen(svc->target_prefix) ||
			strncmp(target, svc->target_prefix, (size_t)(dot - target)) != 0) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "UnknownOperationException",
				"expected the header X-Amz-Target: %s.<Operation>",
				svc->target_prefix);
		}
		req->operation = dot + 1;
		req->route = router_operation(svc, dot + 1);
		if (req->route == NULL) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "UnknownOperationException",
				"unknown operation '%s'", dot + 1);
		}
		break;
	}
	case LC_PROTO_REST_XML:
	case LC_PROTO_REST_JSON:
		if (svc->s3_signing && lc_request_header(req, "Host") != NULL) {
			char *bucket = s3_host_bucket(lc_request_header(req, "Host"));

			if (bucket != NULL)
				req->route_path = xasprintf("/%s%s", bucket,
					strcmp(req->raw_path, "/") ? req->raw_path : "");
			free(bucket);
		}
		req->route = route_rest(req);
		if (req->route == NULL) {
			req->failed = 1;
			if (svc->s3_errors)
				return lc_reply_error(req, res, 405, "MethodNotAllowed",
					"The specified method is not allowed against this resource.");
			return lc_reply_error(req, res, 404, "UnknownOperationException",
				"no operation of %s matches %s %s", svc->name, req->method,
				req->raw_path);
		}
		req->operation = req->route->operation;
		break;
	case LC_PROTO_QUERY:
		break;
	}

	if (req->content_length != UINT64_MAX && req->content_length > body_cap(req))
		return too_large(req, res, body_cap(req));

	if (svc->s3_signing) {
		const char *hash = lc_request_header(req, "x-amz-content-sha256");

		if (hash == NULL && qcred != NULL)
			hash = "UNSIGNED-PAYLOAD";
		if (hash == NULL) {
			req->failed = 1;
			return lc_reply_error(req, res, 400, "InvalidRequest",
				"Missing required header for this request: x-amz-content-sha256");
		}
		if (auth_check(req, res, hash) < 0) {
			req->failed = 1;
			return -1;
		}
	}

	req->sha = EVP_MD_CTX_new();
	if (req->sha == NULL || EVP_DigestInit_ex(req->sha, EVP_sha256(), NULL) != 1) {
		req->failed = 1;
		return lc_reply_error(req, res, 500, "InternalFailure", "unable to hash the body");
	}
	if (req->route != NULL && req->route->body_mode == LC_BODY_FILE) {
		req->body_path = xasprintf("%s/" LC_TMP_BODY_PREFIX "XXXXXX", req->srv->tmp_dir);
		req->body_fd = mkostemp(req->body_path, O_CLOEXEC);
		if (req->body_fd < 0) {
			lc_log("unable to create a temp file in '%s': %s", req->srv->tmp_dir,
				strerror(errno));
			free(req->body_path);
			req->body_path = NULL;
			req->failed = 1;
			return lc_reply_error(req, res, 500, "InternalFailure",
				"unable to store the body");
		}
	} else {
		buf_set_cap(&req->body, body_cap(req));
	}
	return 0;
}

int router_begin(struct lc_request *req, struct lc_response *res)
{
	const char *expect;

	if (router_check_headers(req, res) == 0)
		return 0;
	req->failed = 1;
	/*
	 * Refused.  A client waiting for "100 Continue" sends no body when
	 * answered now; a large announced body is not worth reading.
	 * Otherwise the body is read and dropped, and the error sent after
	 * it (router_finish), which keeps the connection alive.
	 */
	expect = lc_request_header(req, "Expect");
	if (expect != NULL && !strcasecmp(expect, "100-continue"))
		return -1;
	if (req->content_length != UINT64_MAX && req->content_length > LC_MAX_DRAIN)
		return -1;
	return 0;
}

int router_body(struct lc_request *req, struct lc_response *res, const char *data, size_t len)
{
	if (req->failed) {
		req->body_len += len;
		return req->body_len > LC_MAX_DRAIN ? -2 : -1;
	}
	if (req->body_fd >= 0) {
		size_t done = 0;

		if (req->body_len + len > req->service->max_stream)
			return too_large(req, res, req->service->max_stream);
		while (done < len) {
			ssize_t n = write(req->body_fd, data + done, len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				lc_log("unable to write '%s': %s", req->body_path, strerror(errno));
				req->failed = 1;
				return lc_reply_error(req, res, 500, "InternalFailure",
					"unable to store the body");
			}
			done += (size_t)n;
		}
	} else if (buf_append(&req->body, data, len) < 0) {
		return too_large(req, res, req->body.max);
	}
	req->body_len += len;
	EVP_DigestUpdate(req->sha, data, len);
	return 0;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int route_query(struct lc_request *req, struct lc_response *res)
{
	const char *ctype = lc_request_header(req, "Content-Type");
	const char *action;

	int parsed = 0;

	if (ctype != NULL && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33))
		parsed = lcproto_form_parse(req->body.data, req->body.len, LC_MAX_FORM_PARAMS,
			&req->form, &req->n_form);
	if (parsed == -2)
		return lc_reply_error(req, res, 400, "InvalidParameterValue",
			"a parameter's name or value holds an encoded NUL byte (%%00)");
	if (parsed < 0)
		return lc_reply_error(req, res, 400, "MalformedQueryString",
			"more than %d parameters", LC_MAX_FORM_PARAMS);
	action = lc_request_form(req, "Action");
	if (action == NULL)
		action = lc_request_query(req, "Action");
	if (action == NULL)
		return lc_reply_error(req, res, 400, "MissingAction",
			"the request has no Action parameter");
	req->operation = action;
	req->route = router_operation(req->service, action);
	if (req->route == NULL)
		return lc_reply_error(req, res, 400, "InvalidAction",
			"The action %s is not valid for this web service.", action);
	return 0;
}

/*
 * Whether an operation only reads the control plane, so that its
 * transactions can be read transactions (store.h): the Describe, List,
 * Get and Head operations, but those that record something as they
 * answer.  Naming one here wrongly is safe: its write fails loudly.
 */
static int route_reads_only(const struct lc_route *route)
{
	static const char *const prefixes[] = { "Describe", "List", "Get", "Head", NULL };
	/* they write: GetSecretValue records LastAccessedDate */
	static const char *const writers[] = { "secretsmanager:GetSecretValue", NULL };
	size_t i, n = strlen(route->service);

	for (i = 0; writers[i] != NULL; i++)
		if (!strncmp(writers[i], route->service, n) && writers[i][n] == ':' &&
			!strcmp(writers[i] + n + 1, route->operation))
			return 0;
	for (i = 0; prefixes[i] != NULL; i++)
		if (!strncmp(route->operation, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

void router_finish(struct lc_request *req, struct lc_response *res)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;
	int rc;

	if (req->failed)
		return;
	EVP_DigestFinal_ex(req->sha, md, &md_len);
	for (i = 0; i < md_len && i < 32; i++)
		snprintf(req->body_sha256_hex + 2 * i, 3, "%02x", md[i]);
	if (req->body_fd >= 0) {
		close(req->body_fd);
		req->body_fd = -1;
	}
	if (!req->authenticated && auth_check(req, res, req->body_sha256_hex) < 0)
		return;
	if (req->service->s3_signing) {
		const char *hash = lc_request_header(req, "x-amz-content-sha256");

		if (hash != NULL && strlen(hash) == 64 && is_hex64(hash) &&
			strcmp(hash, req->body_sha256_hex) != 0) {
			lc_reply_error(req, res, 400, "XAmzContentSHA256Mismatch",
				"The provided 'x-amz-content-sha256' header does not match what was "
				"computed.");
			return;
		}
	}
	if (req->service->protocol == LC_PROTO_QUERY && req->route == NULL &&
		route_query(req, res) < 0)
		return;
	store_read_only(route_reads_only(req->route));
	rc = req->route->typed ? codec_glue_run(req, res) : req->route->handler(req, res);
	store_read_only(0);
	if (rc == 0 && res->status != 0)
		return;
	if (res->status == 0) {
		lc_log("%s %s: handler returned no reply", req->service->name, req->operation);
		lc_reply_error(req, res, 500, "InternalFailure", "the handler sent no reply");
	}
}

void lc_request_release(struct lc_request *req)
{
	if (req->body_fd >= 0)
		close(req->body_fd);
	if (req->body_path != NULL && !req->body_path_taken)
		unlink(req->body_path);
	free(req->body_path);
	EVP_MD_CTX_free(req->sha);
	free(req->method);
	free(req->raw_path);
	free(req->route_path);
	free(req->path);
	free(req->raw_query);
	lc_params_free(req->query, req->n_query);
	lc_params_free(req->headers, req->n_headers);
	while (req->n_path_params > 0) {
		req->n_path_params--;
		free(req->path_params[req->n_path_params].name);
		free(req->path_params[req->n_path_params].value);
	}
	lc_params_free(req->form, req->n_form);
	buf_release_secret(&req->body);
	memset(req, 0, sizeof(*req));
	req->body_fd = -1;
}
