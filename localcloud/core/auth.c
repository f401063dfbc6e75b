/*
 * auth.c: SigV4 verification of every request (lib/aws/sigv4.c does the
 * cryptography) and the refusals in each protocol's words.
 *
 * Codes as AWS sends them: JSON 1.1 services say
 * MissingAuthenticationTokenException, UnrecognizedClientException and
 * InvalidSignatureException ("Signature expired: ..." with 400 for a
 * skewed clock); Query services MissingAuthenticationToken,
 * InvalidClientTokenId and SignatureDoesNotMatch; S3 AccessDenied,
 * InvalidAccessKeyId, SignatureDoesNotMatch and RequestTimeTooSkewed.
 */
#include "compat.h"

#include <ctype.h>
#include <time.h>

#include "aws/sigv4.h"
#include "auth.h"
#include "caliberd.h"
#include "reply.h"
#include "router.h"

enum auth_style {
	STYLE_JSON,
	STYLE_QUERY,	/* and the REST-XML services that are not S3 */
	STYLE_S3,
};

static enum auth_style auth_style(const struct lc_request *req)
{
	if (req->service == NULL || req->service->s3_errors)
		return STYLE_S3;
	if (req->service->protocol == LC_PROTO_JSON || req->service->protocol == LC_PROTO_REST_JSON)
		return STYLE_JSON;
	return STYLE_QUERY;
}

int auth_refuse_unsigned(struct lc_request *req, struct lc_response *res)
{
	switch (auth_style(req)) {
	case STYLE_JSON:
		return lc_reply_error(req, res, 403, "MissingAuthenticationTokenException",
			"Missing Authentication Token");
	case STYLE_QUERY:
		return lc_reply_error(req, res, 403, "MissingAuthenticationToken",
			"Request is missing Authentication Token");
	case STYLE_S3:
		break;
	}
	return lc_reply_error(req, res, 403, "AccessDenied", "Access Denied");
}

/* "YYYYMMDDTHHMMSSZ" of t */
static void amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int auth_refuse_skewed(struct lc_request *req, struct lc_response *res,
	const struct sigv4_scope *scope, time_t now)
{
	char earliest[17], latest[17], nowstr[17];
	const char *sent = scope->amz_date[0] ? scope->amz_date : "(none)";
	char msg[256];
	struct tm tm;
	time_t sent_t = 0;

	amz_date(now, nowstr);
	amz_date(now - 15 * 60, earliest);
	amz_date(now + 15 * 60, latest);
	memset(&tm, 0, sizeof(tm));
	if (strptime(sent, "%Y%m%dT%H%M%SZ", &tm) != NULL)
		sent_t = timegm(&tm);
	if (sent_t > now)
		snprintf(msg, sizeof(msg),
			"Signature not yet current: %s is still later than %s (%s + 15 min.)", sent,
			latest, nowstr);
	else
		snprintf(msg, sizeof(msg), "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			sent, earliest, nowstr);
	switch (auth_style(req)) {
	case STYLE_JSON:
		return lc_reply_error(req, res, 400, "InvalidSignatureException", "%s", msg);
	case STYLE_QUERY:
		return lc_reply_error(req, res, 403, "SignatureDoesNotMatch", "%s", msg);
	case STYLE_S3:
		break;
	}
	return lc_reply_error(req, res, 403, "RequestTimeTooSkewed",
		"The difference between the request time and the current time is too large.");
}

/*
 * A region as AWS names them ("us-east-1", "us-gov-west-1",
 * "ap-southeast-5"): two letters, words after hyphens, a number last.
 * The scope's region goes into ARNs and DNS names the edge serves.
 */
static int region_valid(const char *r)
{
	const char *p = r;
	int words = 0;

	if (strlen(r) > 32 || !islower((unsigned char)p[0]) || !islower((unsigned char)p[1]) ||
			p[2] != '-')
		return 0;
	p += 3;
	for (;;) {
		const char *start = p;

		while (islower((unsigned char)*p))
			p++;
		if (p == start || *p != '-')
			break;
		words++;
		p++;
	}
	if (words == 0 || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

/* A credential scope whose region AWS would not know, in each protocol's words. */
static int auth_refuse_region(struct lc_request *req, struct lc_response *res)
{
	switch (auth_style(req)) {
	case STYLE_JSON:
		return lc_reply_error(req, res, 400, "InvalidSignatureException",
			"Credential should be scoped to a valid region.");
	case STYLE_QUERY:
		return lc_reply_error(req, res, 403, "SignatureDoesNotMatch",
			"Credential should be scoped to a valid region.");
	case STYLE_S3:
		break;
	}
	if (req->raw_query && strstr(req->raw_query, "X-Amz-Credential="))
		return lc_reply_error(req, res, 400, "AuthorizationQueryParametersError",
			"Error parsing the X-Amz-Credential parameter; Invalid region: region was not "
			"a valid DNS name.");
	return lc_reply_error(req, res, 400, "AuthorizationHeaderMalformed",
		"The authorization header is malformed; Invalid region: region was not a valid "
		"DNS name.");
}

int auth_check(struct lc_request *req, struct lc_response *res, const char *payload_hash)
{
	const struct localcloud_credentials *c = &req->srv->creds;
	struct sigv4_header *hdrs = NULL;
	struct sigv4_request sr;
	struct sigv4_scope scope;
	struct err e = ERR_INIT;
	enum sigv4_result r;
	time_t now = time(NULL);
	size_t i;
	int ret = -1;

	memset(&sr, 0, sizeof(sr));
	memset(&scope, 0, sizeof(scope));
	hdrs = xcalloc(req->n_headers ? req->n_headers : 1, sizeof(*hdrs));
	for (i = 0; i < req->n_headers; i++) {
		hdrs[i].name = req->headers[i].name;
		hdrs[i].value = req->headers[i].value;
	}
	sr.method = req->method;
	sr.path = req->raw_path;
	sr.query = req->raw_query;
	sr.headers = hdrs;
	sr.n_headers = req->n_headers;
	sr.payload_hash = payload_hash;
	sr.s3_path_rules = req->service != NULL && req->service->s3_signing;
	r = sigv4_verify(&sr, c->access_key_id, c->secret_access_key, now, &scope, &e);
	switch (r) {
	case SIGV4_VALID:
		if (scope.region[0] && !region_valid(scope.region)) {
			auth_refuse_region(req, res);
			break;
		}
		req->authenticated = 1;
		if (scope.region[0])
			snprintf(req->region, sizeof(req->region), "%s", scope.region);
		ret = 0;
		break;
	case SIGV4_MISSING:
		auth_refuse_unsigned(req, res);
		break;
	case SIGV4_MALFORMED:
		switch (auth_style(req)) {
		case STYLE_JSON:
			lc_reply_error(req, res, 400, "IncompleteSignatureException", "%s", e.msg);
			break;
		case STYLE_QUERY:
			lc_reply_error(req, res, 400, "IncompleteSignature", "%s", e.msg);
			break;
		case STYLE_S3:
			lc_reply_error(req, res, 400, "AuthorizationHeaderMalformed",
				"The authorization header is malformed; %s", e.msg);
			break;
		}
		break;
	case SIGV4_UNKNOWN_KEY:
		switch (auth_style(req)) {
		case STYLE_JSON:
			lc_reply_error(req, res, 403, "UnrecognizedClientException",
				"The security token included in the request is invalid.");
			break;
		case STYLE_QUERY:
			lc_reply_error(req, res, 403, "InvalidClientTokenId",
				"The security token included in the request is invalid.");
			break;
		case STYLE_S3:
			lc_reply_error(req, res, 403, "InvalidAccessKeyId",
				"The AWS Access Key Id you provided does not exist in our records.");
			break;
		}
		break;
	case SIGV4_MISMATCH:
		switch (auth_style(req)) {
		case STYLE_JSON:
			lc_reply_error(req, res, 403, "InvalidSignatureException",
				"The request signature we calculated does not match the signature "
				"you provided. Check your AWS Secret Access Key and signing method. "
				"Consult the service documentation for details.");
			break;
		case STYLE_QUERY:
			lc_reply_error(req, res, 403, "SignatureDoesNotMatch",
				"The request signature we calculated does not match the signature "
				"you provided. Check your AWS Secret Access Key and signing method. "
				"Consult the service documentation for details.");
			break;
		case STYLE_S3:
			lc_reply_error(req, res, 403, "SignatureDoesNotMatch",
				"The request signature we calculated does not match the signature "
				"you provided. Check your key and signing method.");
			break;
		}
		break;
	case SIGV4_SKEWED:
		auth_refuse_skewed(req, res, &scope, now);
		break;
	case SIGV4_EXPIRED:
		if (auth_style(req) == STYLE_S3)
			lc_reply_error(req, res, 403, "AccessDenied", "Request has expired");
		else
			auth_refuse_skewed(req, res, &scope, now);
		break;
	case SIGV4_UNSIGNED_HEADERS:
		switch (auth_style(req)) {
		case STYLE_JSON:
			lc_reply_error(req, res, 403, "InvalidSignatureException",
				"There were headers present in the request which were not signed");
			break;
		case STYLE_QUERY:
			lc_reply_error(req, res, 403, "SignatureDoesNotMatch",
				"There were headers present in the request which were not signed");
			break;
		case STYLE_S3:
			lc_reply_error(req, res, 403, "AccessDenied",
				"There were headers present in the request which were not signed");
			break;
		}
		break;
	}
	free(hdrs);
	return ret;
}
