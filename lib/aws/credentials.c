/*
 * credentials.c: finding AWS credentials in awscli's order (see
 * credentials.h), so that an operator's existing awscli set-up works
 * unchanged: environment, assume-role profiles (with awscli's cache in
 * ~/.aws/cli/cache), IAM Identity Center profiles (the token cache of
 * 'aws sso login'), static keys in the shared files, the container
 * credentials endpoint, and EC2 instance metadata (IMDSv2).
 *
 * A source that is configured but fails (STS refuses the role, the SSO
 * token has expired, the container endpoint answers an error) is an error
 * at once, as in botocore; only sources that are absent fall through to
 * the next, and the final error lists each of them with why it was passed.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/fetch.h"
#include "aws/profile.h"
#include "aws/sigv4.h"
#include "fsutil.h"
#include "xml.h"

/* botocore refreshes temporary credentials this long before they expire. */
#define CRED_EXPIRY_WINDOW (15 * 60)
#define CRED_MAX_CHAIN	   8
#define IMDS_TIMEOUT_MS	   1000
#define CONTAINER_TIMEOUT_MS 2000
#define STS_TIMEOUT_MS	   10000
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define CONTAINER_HOST	      "http://169.254.170.2"

/* What each passed-over source said, for the final error. */
struct cred_tried {
	struct buf text;
};

static void tried_add(struct cred_tried *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tried_add(struct cred_tried *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->text.len)
		buf_appends(&t->text, ", ");
	buf_appends(&t->text, line);
}

void aws_credentials_release(struct aws_credentials *c)
{
	if (c->access_key_id)
		free(c->access_key_id);
	if (c->secret_access_key) {
		OPENSSL_cleanse(c->secret_access_key, strlen(c->secret_access_key));
		free(c->secret_access_key);
	}
	if (c->session_token) {
		OPENSSL_cleanse(c->session_token, strlen(c->session_token));
		free(c->session_token);
	}
	c->access_key_id = NULL;
	c->secret_access_key = NULL;
	c->session_token = NULL;
	c->expiration = 0;
	c->source[0] = '\0';
}

static void cred_set(struct aws_credentials *c, const char *key, const char *secret,
	const char *token, time_t expiration, const char *source)
{
	aws_credentials_release(c);
	c->access_key_id = xstrdup(key);
	c->secret_access_key = xstrdup(secret);
	c->session_token = token && *token ? xstrdup(token) : NULL;
	c->expiration = expiration;
	snprintf(c->source, sizeof(c->source), "%s", source);
}

int aws_time_parse_iso8601(const char *s, time_t *out)
{
	struct tm tm;
	int n = 0;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
				 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
		n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "UTC") != 0 && strcmp(p, "+00:00") != 0 &&
		strcmp(p, "+0000") != 0 && *p != '\0')
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}

static void time_iso8601(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

static void sha1_hex(const char *s, char out[41])
{
	unsigned char md[SHA_DIGEST_LENGTH];
	size_t i;

	SHA1((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* "Name: value" for a header list; refuses values that would split headers. */
static char *header_line(const char *name, const char *value)
{
	if (strpbrk(value, "\r\n"))
		return NULL;
	return xasprintf("%s: %s", name, value);
}

static void header_lines_free(char **h)
{
	size_t i;

	for (i = 0; h[i]; i++) {
		OPENSSL_cleanse(h[i], strlen(h[i]));
		free(h[i]);
	}
}

/* ---- environment ---- */

static int from_environment(struct aws_credentials *out, struct cred_tried *t, struct err *e)
{
	const char *key = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");

	if (token == NULL || *token == '\0')
		token = getenv("AWS_SECURITY_TOKEN");
	if ((key == NULL || *key == '\0') && (secret == NULL || *secret == '\0')) {
		tried_add(t, "environment (AWS_ACCESS_KEY_ID unset)");
		return 0;
	}
	if (key == NULL || *key == '\0')
		return err_usage(e, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	if (secret == NULL || *secret == '\0')
		return err_usage(e, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	cred_set(out, key, secret, token, 0, "environment");
	return 1;
}

/* ---- static keys in the shared files ---- */

static int keys_from_ini(const struct aws_profile_files *f, int config_file, const char *profile,
	struct aws_credentials *out, struct err *e)
{
	const char *(*get)(const struct aws_profile_files *, const char *, const char *) =
		config_file ? aws_profile_config_get : aws_profile_credentials_get;
	const char *key = get(f, profile, "aws_access_key_id");
	const char *secret = get(f, profile, "aws_secret_access_key");
	const char *token = get(f, profile, "aws_session_token");
	const char *path = config_file ? f->config_path : f->credentials_path;

	if (token == NULL)
		token = get(f, profile, "aws_security_token");
	if (key == NULL || *key == '\0')
		return 0;
	if (secret == NULL || *secret == '\0')
		return err_usage(e, "profile '%s' in '%s' has aws_access_key_id but no "
				    "aws_secret_access_key",
			profile, path);
	cred_set(out, key, secret, token, 0,
		config_file ? "config-file" : "shared-credentials-file");
	return 1;
}

/* ---- temporary credentials from JSON (container, IMDS, caches) ---- */

static const char *json_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* {"AccessKeyId","SecretAccessKey","Token"|"SessionToken","Expiration"} */
static int cred_from_json(json_t *o, const char *source, struct aws_credentials *out)
{
	const char *key = json_str(o, "AccessKeyId"), *secret = json_str(o, "SecretAccessKey");
	const char *token = json_str(o, "Token"), *exp = json_str(o, "Expiration");
	time_t t = 0;

	if (token == NULL)
		token = json_str(o, "SessionToken");
	if (key == NULL || secret == NULL || *key == '\0' || *secret == '\0')
		return -1;
	if (exp && aws_time_parse_iso8601(exp, &t) < 0)
		return -1;
	cred_set(out, key, secret, token, t, source);
	return 0;
}

/* ---- container credentials ---- */

static int full_uri_allowed(const char *uri)
{
	static const char *const hosts[] = {
		"http://127.", "http://localhost:", "http://localhost/", "http://[::1]",
		"http://169.254.170.2:", "http://169.254.170.2/", "http://169.254.170.23:",
		"http://169.254.170.23/", "http://[fd00:ec2::23]",
	};
	size_t i;

	if (strncmp(uri, "https://", 8) == 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(hosts); i++) {
		if (strncmp(uri, hosts[i], strlen(hosts[i])) == 0)
			return 1;
	}
	return strcmp(uri, "http://localhost") == 0;
}

static char *read_small_file(const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		err_set(e, "unable to open '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf_set_cap(&b, 64 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			fclose(f);
			buf_release_secret(&b);
			err_set(e, "'%s' is too large", path);
			return NULL;
		}
	}
	fclose(f);
	return buf_detach(&b);
}

static int from_container(struct aws_credentials *out, struct cred_tried *t, struct err *e)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token_env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char *url = NULL, *token = NULL, *hdrs[2] = { NULL, NULL };
	struct buf resp = BUF_INIT;
	json_t *doc = NULL;
	json_error_t je;
	long status;
	int rc = -1;

	if (rel && *rel) {
		if (rel[0] != '/') {
			err_usage(e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI '%s' must start with '/'",
				rel);
			goto out;
		}
		url = xasprintf(CONTAINER_HOST "%s", rel);
	} else if (full && *full) {
		if (!full_uri_allowed(full)) {
			err_usage(e, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' must be https, "
				     "loopback or the ECS/EKS credential address",
				full);
			goto out;
		}
		url = xstrdup(full);
	} else {
		tried_add(t, "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
			     "_FULL_URI unset)");
		rc = 0;
		goto out;
	}
	if (token_file && *token_file) {
		char *raw = read_small_file(token_file, e);
		size_t len;

		if (raw == NULL) {
			err_prefix(e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			goto out;
		}
		len = strlen(raw);
		while (len > 0 && isspace((unsigned char)raw[len - 1]))
			raw[--len] = '\0';
		token = raw;
	} else if (token_env && *token_env) {
		token = xstrdup(token_env);
	}
	if (token) {
		hdrs[0] = header_line("Authorization", token);
		if (hdrs[0] == NULL) {
			err_usage(e, "the container authorization token contains a line break");
			goto out;
		}
	}
	{
		struct aws_fetch_request req = { "GET", url, (const char *const *)hdrs, NULL, 0,
			CONTAINER_TIMEOUT_MS, NULL, 1 };

		if (aws_fetch(&req, &status, &resp, e) < 0) {
			err_prefix(e, "container credentials from '%s'", url);
			goto out;
		}
	}
	if (status != 200) {
		err_set(e, "container credentials endpoint '%s' answered HTTP %ld: %.200s", url,
			status, buf_str(&resp));
		goto out;
	}
	doc = json_loadb(buf_str(&resp), resp.len, 0, &je);
	if (doc == NULL || cred_from_json(doc, "container-role", out) < 0) {
		err_set(e, "container credentials endpoint '%s' sent no AccessKeyId, "
			   "SecretAccessKey and valid Expiration",
			url);
		goto out;
	}
	rc = 1;
out:
	json_decref(doc);
	buf_release_secret(&resp);
	header_lines_free(hdrs);
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	free(url);
	return rc;
}

/* ---- EC2 instance metadata, IMDSv2 ---- */

static int from_imds(struct aws_credentials *out, struct cred_tried *t, struct err *e)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct buf base = BUF_INIT, resp = BUF_INIT;
	char *url = NULL, *hdrs[2] = { NULL, NULL }, *role = NULL;
	json_t *doc = NULL;
	json_error_t je;
	struct err fe = ERR_INIT;
	long status;
	int rc = -1;

	if (is_true(getenv("AWS_EC2_METADATA_DISABLED"))) {
		tried_add(t, "EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)");
		return 0;
	}
	buf_appends(&base, ep && *ep ? ep : IMDS_DEFAULT_ENDPOINT);
	while (base.len > 0 && base.data[base.len - 1] == '/')
		base.data[--base.len] = '\0';

	url = xasprintf("%s/latest/api/token", base.data);
	hdrs[0] = xstrdup("X-aws-ec2-metadata-token-ttl-seconds: 21600");
	{
		struct aws_fetch_request req = { "PUT", url, (const char *const *)hdrs, NULL, 0,
			IMDS_TIMEOUT_MS, NULL, 1 };

		if (aws_fetch(&req, &status, &resp, &fe) < 0 || status != 200 ||
			resp.len == 0 || strpbrk(resp.data, "\r\n")) {
			if (fe.msg[0])
				tried_add(t, "EC2 instance metadata ('%s': %s)", base.data,
					fe.msg);
			else
				tried_add(t, "EC2 instance metadata ('%s': token request got "
					     "HTTP %ld)",
					base.data, status);
			rc = 0;
			goto out;
		}
	}
	header_lines_free(hdrs);
	hdrs[0] = header_line("X-aws-ec2-metadata-token", resp.data);
	buf_reset(&resp);
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/", base.data);
	{
		struct aws_fetch_request req = { "GET", url, (const char *const *)hdrs, NULL, 0,
			IMDS_TIMEOUT_MS, NULL, 1 };

		if (aws_fetch(&req, &status, &resp, e) < 0) {
			err_prefix(e, "EC2 instance metadata");
			goto out;
		}
	}
	if (status == 404) {
		tried_add(t, "EC2 instance metadata ('%s': no IAM role attached)", base.data);
		rc = 0;
		goto out;
	}
	if (status != 200 || resp.len == 0) {
		err_set(e, "EC2 instance metadata '%s' answered HTTP %ld to the role query", url,
			status);
		goto out;
	}
	role = xstrndup(resp.data, strcspn(resp.data, "\r\n"));
	if (*role == '\0' || strchr(role, '/') || strchr(role, '?')) {
		err_set(e, "EC2 instance metadata sent an invalid role name '%.100s'", role);
		goto out;
	}
	buf_reset(&resp);
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s", base.data, role);
	{
		struct aws_fetch_request req = { "GET", url, (const char *const *)hdrs, NULL, 0,
			IMDS_TIMEOUT_MS, NULL, 1 };

		if (aws_fetch(&req, &status, &resp, e) < 0) {
			err_prefix(e, "EC2 instance metadata");
			goto out;
		}
	}
	doc = status == 200 ? json_loadb(buf_str(&resp), resp.len, 0, &je) : NULL;
	if (doc == NULL) {
		err_set(e, "EC2 instance metadata '%s' answered HTTP %ld without credentials", url,
			status);
		goto out;
	}
	if (json_str(doc, "Code") && strcmp(json_str(doc, "Code"), "Success") != 0) {
		err_set(e, "EC2 instance metadata refused credentials for role '%s': %s", role,
			json_str(doc, "Code"));
		goto out;
	}
	if (cred_from_json(doc, "iam-role", out) < 0) {
		err_set(e, "EC2 instance metadata sent incomplete credentials for role '%s'", role);
		goto out;
	}
	rc = 1;
out:
	json_decref(doc);
	free(role);
	free(url);
	header_lines_free(hdrs);
	buf_release(&base);
	buf_release_secret(&resp);
	return rc;
}

static int cache_load(const char *key, const char *source, struct aws_credentials *out);
static void cache_store(const char *key, const struct aws_credentials *c, const char *arn_user);

/* ---- IAM Identity Center ---- */

/* awscli's cache key of SSO role credentials: sha1 of compact sorted JSON. */
static char *sso_cache_key(const char *account, const char *role, const char *session,
	const char *start_url)
{
	json_t *args = json_object();
	char *dump, hash[41];

	json_object_set_new(args, "accountId", json_string(account));
	json_object_set_new(args, "roleName", json_string(role));
	if (session)
		json_object_set_new(args, "sessionName", json_string(session));
	else
		json_object_set_new(args, "startUrl", json_string(start_url));
	dump = json_dumps(args, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(args);
	if (dump == NULL)
		return NULL;
	sha1_hex(dump, hash);
	free(dump);
	return xstrdup(hash);
}

static int from_sso(const struct aws_profile_files *f, const char *profile,
	struct aws_credentials *out, struct err *e)
{
	const char *session = aws_profile_config_get(f, profile, "sso_session");
	const char *account = aws_profile_config_get(f, profile, "sso_account_id");
	const char *role = aws_profile_config_get(f, profile, "sso_role_name");
	const char *start_url, *region;
	char hash[41], *home = NULL, *path = NULL, *raw = NULL, *url = NULL;
	char *hdrs[2] = { NULL, NULL }, *cache_key = NULL;
	struct buf query = BUF_INIT, resp = BUF_INIT;
	struct aws_endpoint ep = AWS_ENDPOINT_INIT;
	json_t *tok = NULL, *doc = NULL, *rc_obj;
	json_error_t je;
	const char *access_token, *expires_at;
	time_t exp;
	long status;
	int rc = -1;

	if (session && *session) {
		start_url = aws_profile_section_get(f, "sso-session", session, "sso_start_url");
		region = aws_profile_section_get(f, "sso-session", session, "sso_region");
		if (start_url == NULL || region == NULL) {
			err_usage(e, "profile '%s' uses sso_session '%s', but [sso-session %s] in "
				     "'%s' lacks sso_start_url or sso_region",
				profile, session, session, f->config_path);
			goto out;
		}
		sha1_hex(session, hash);
	} else {
		start_url = aws_profile_config_get(f, profile, "sso_start_url");
		region = aws_profile_config_get(f, profile, "sso_region");
		if (start_url == NULL || region == NULL) {
			err_usage(e, "profile '%s' has sso_start_url but no sso_region", profile);
			goto out;
		}
		sha1_hex(start_url, hash);
	}
	if (account == NULL || role == NULL) {
		err_usage(e, "profile '%s' lacks sso_account_id or sso_role_name", profile);
		goto out;
	}
	cache_key = sso_cache_key(account, role, session && *session ? session : NULL, start_url);
	if (cache_key && cache_load(cache_key, "sso", out)) {
		rc = 1;
		goto out;
	}
	home = aws_home_dir();
	path = xasprintf("%s/.aws/sso/cache/%s.json", home, hash);
	raw = read_small_file(path, e);
	if (raw == NULL) {
		err_usage(e, "no IAM Identity Center token for profile '%s' ('%s' is missing); "
			     "run 'aws sso login --profile %s'",
			profile, path, profile);
		goto out;
	}
	tok = json_loads(raw, 0, &je);
	access_token = tok ? json_str(tok, "accessToken") : NULL;
	expires_at = tok ? json_str(tok, "expiresAt") : NULL;
	if (access_token == NULL || expires_at == NULL ||
		aws_time_parse_iso8601(expires_at, &exp) < 0) {
		err_set(e, "'%s' lacks accessToken or a valid expiresAt; run 'aws sso login "
			   "--profile %s'",
			path, profile);
		goto out;
	}
	if (exp <= time(NULL)) {
		err_usage(e, "the IAM Identity Center token for profile '%s' expired at %s; run "
			     "'aws sso login --profile %s'",
			profile, expires_at, profile);
		goto out;
	}
	if (aws_endpoint_resolve("SSO", region, profile, &ep, e) < 0)
		goto out;
	buf_appends(&query, "role_name=");
	sigv4_uri_encode(&query, role, strlen(role), 0);
	buf_appends(&query, "&account_id=");
	sigv4_uri_encode(&query, account, strlen(account), 0);
	url = xasprintf("%s/federation/credentials?%s", ep.url, query.data);
	hdrs[0] = header_line("x-amz-sso_bearer_token", access_token);
	if (hdrs[0] == NULL) {
		err_set(e, "the token in '%s' contains a line break", path);
		goto out;
	}
	{
		char *ca = aws_ca_bundle(profile);
		struct aws_fetch_request req = { "GET", url, (const char *const *)hdrs, NULL, 0,
			STS_TIMEOUT_MS, ca, 0 };
		int fr = aws_fetch(&req, &status, &resp, e);

		free(ca);
		if (fr < 0) {
			err_prefix(e, "IAM Identity Center '%s'", ep.url);
			goto out;
		}
	}
	if (status == 401 || status == 403) {
		err_usage(e, "IAM Identity Center refused the token for profile '%s' (HTTP %ld); "
			     "run 'aws sso login --profile %s'",
			profile, status, profile);
		goto out;
	}
	doc = status == 200 ? json_loadb(buf_str(&resp), resp.len, 0, &je) : NULL;
	rc_obj = doc ? json_object_get(doc, "roleCredentials") : NULL;
	if (rc_obj == NULL || json_str(rc_obj, "accessKeyId") == NULL ||
		json_str(rc_obj, "secretAccessKey") == NULL) {
		err_set(e, "IAM Identity Center GetRoleCredentials for role '%s' in account '%s' "
			   "failed: HTTP %ld %.200s",
			role, account, status, buf_str(&resp));
		goto out;
	}
	cred_set(out, json_str(rc_obj, "accessKeyId"), json_str(rc_obj, "secretAccessKey"),
		json_str(rc_obj, "sessionToken"),
		(time_t)(json_integer_value(json_object_get(rc_obj, "expiration")) / 1000), "sso");
	if (cache_key)
		cache_store(cache_key, out, NULL);
	rc = 1;
out:
	free(cache_key);
	json_decref(tok);
	json_decref(doc);
	if (raw) {
		OPENSSL_cleanse(raw, strlen(raw));
		free(raw);
	}
	header_lines_free(hdrs);
	buf_release(&query);
	buf_release_secret(&resp);
	aws_endpoint_release(&ep);
	free(url);
	free(path);
	free(home);
	return rc;
}

/* ---- assume role ---- */

static int profile_resolve(const struct aws_profile_files *f, const char *profile, int depth,
	const char **visited, struct aws_credentials *out, struct cred_tried *t, struct err *e);

static xmlNode *xml_find(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		xmlNode *r;

		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
		r = xml_find(n->children, name);
		if (r)
			return r;
	}
	return NULL;
}

/* The text of the first element called name under n, "" if absent; caller frees. */
static char *xml_text(xmlNode *n, const char *name)
{
	xmlNode *el = xml_find(n, name);
	xmlChar *c = el ? xmlNodeGetContent(el) : NULL;
	char *r = xstrdup(c ? (const char *)c : "");

	xmlFree(c);
	return r;
}

/* The cache key awscli computes: sha1 of the sorted JSON of the arguments. */
static char *assume_cache_key(const char *role_arn, const char *session_name,
	const char *external_id, long duration)
{
	json_t *args = json_object();
	char *dump, hash[41];

	json_object_set_new(args, "RoleArn", json_string(role_arn));
	if (session_name)
		json_object_set_new(args, "RoleSessionName", json_string(session_name));
	if (external_id)
		json_object_set_new(args, "ExternalId", json_string(external_id));
	if (duration)
		json_object_set_new(args, "DurationSeconds", json_integer(duration));
	/* Python's json.dumps(sort_keys=True): ", " and ": " separators, ASCII */
	dump = json_dumps(args, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(args);
	if (dump == NULL)
		return NULL;
	sha1_hex(dump, hash);
	free(dump);
	return xstrdup(hash);
}

static char *cache_dir(void)
{
	char *home = aws_home_dir();
	char *d = xasprintf("%s/.aws/cli/cache", home);

	free(home);
	return d;
}

static int cache_load(const char *key, const char *source, struct aws_credentials *out)
{
	char *dir = cache_dir(), *path = xasprintf("%s/%s.json", dir, key), *raw;
	struct err ignored = ERR_INIT;
	json_t *doc = NULL;
	json_error_t je;
	int rc = 0;

	raw = read_small_file(path, &ignored);
	if (raw == NULL)
		goto out;
	doc = json_loads(raw, 0, &je);
	if (doc && cred_from_json(json_object_get(doc, "Credentials"), source, out) == 0 &&
		out->expiration - time(NULL) > CRED_EXPIRY_WINDOW)
		rc = 1;
	else
		aws_credentials_release(out);
	OPENSSL_cleanse(raw, strlen(raw));
	free(raw);
out:
	json_decref(doc);
	free(path);
	free(dir);
	return rc;
}

/* Write the cache as awscli does, mode 0600 in a 0700 directory. */
static void cache_store(const char *key, const struct aws_credentials *c, const char *arn_user)
{
	char *dir = cache_dir(), *path = xasprintf("%s/%s.json", dir, key);
	char *dump = NULL;
	struct err e = ERR_INIT;
	char exp[32];
	json_t *doc = NULL;

	{
		char *home = aws_home_dir(), *aws = xasprintf("%s/.aws", home);
		char *cli = xasprintf("%s/.aws/cli", home);

		mkdir(aws, 0700);
		mkdir(cli, 0700);
		mkdir(dir, 0700);
		free(home);
		free(aws);
		free(cli);
	}
	time_iso8601(c->expiration, exp);
	doc = json_pack("{s:{s:s,s:s,s:s,s:s}}", "Credentials", "AccessKeyId", c->access_key_id,
		"SecretAccessKey", c->secret_access_key, "SessionToken",
		c->session_token ? c->session_token : "", "Expiration", exp);
	/* the shapes awscli writes: the AssumeRole response, or SSO's */
	if (doc && arn_user)
		json_object_set_new(doc, "AssumedRoleUser", json_pack("{s:s}", "Arn", arn_user));
	else if (doc)
		json_object_set_new(doc, "ProviderType", json_string("sso"));
	dump = doc ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
	if (dump == NULL)
		goto out;
	/* a cache: a failed write only costs a new login next time */
	fsutil_write_atomic(path, dump, strlen(dump), 0600, &e);
	err_clear(&e);
out:
	if (dump) {
		OPENSSL_cleanse(dump, strlen(dump));
		free(dump);
	}
	json_decref(doc);
	free(path);
	free(dir);
}

static void form_param(struct buf *b, const char *name, const char *value)
{
	buf_appendf(b, "&%s=", name);
	sigv4_uri_encode(b, value, strlen(value), 0);
}

/* "http://host:port/path" -> host ("host:port") and path ("/path" or "/"). */
static int url_split(const char *url, char **host, char **path)
{
	const char *p = strstr(url, "://"), *slash;

	if (p == NULL)
		return -1;
	p += 3;
	slash = strchr(p, '/');
	*host = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
	*path = xstrdup(slash ? slash : "/");
	return **host ? 0 : -1;
}

static int sts_assume_role(const struct aws_profile_files *f, const char *profile,
	const struct aws_credentials *src, const char *role_arn, const char *session_name,
	const char *external_id, long duration, struct aws_credentials *out, char **arn_out,
	struct err *e)
{
	struct aws_endpoint ep = AWS_ENDPOINT_INIT;
	struct buf region = BUF_INIT, body = BUF_INIT, authz = BUF_INIT, resp = BUF_INIT;
	char *host = NULL, *path = NULL, *hdrs[6] = { NULL }, *arn_user = NULL;
	char *key = NULL, *secret = NULL, *token = NULL, *exp_s = NULL, *code = NULL,
	     *msg = NULL;
	char amz_date[17], payload[SIGV4_HEX_SIZE];
	struct sigv4_header sh[4];
	size_t nsh = 0;
	xmlDoc *doc = NULL;
	time_t exp;
	long status;
	int rc = -1;

	{
		const char *r = getenv("AWS_REGION");

		if (r == NULL || *r == '\0')
			r = getenv("AWS_DEFAULT_REGION");
		if (r == NULL || *r == '\0')
			r = aws_profile_get(f, profile, "region");
		buf_appends(&region, r && *r ? r : "us-east-1");
	}
	if (aws_endpoint_resolve("STS", region.data, profile, &ep, e) < 0)
		goto out;
	if (url_split(ep.url, &host, &path) < 0) {
		err_set(e, "invalid STS endpoint '%s'", ep.url);
		goto out;
	}
	buf_appends(&body, "Action=AssumeRole&Version=2011-06-15");
	form_param(&body, "RoleArn", role_arn);
	form_param(&body, "RoleSessionName", session_name);
	if (duration)
		buf_appendf(&body, "&DurationSeconds=%ld", duration);
	if (external_id)
		form_param(&body, "ExternalId", external_id);
	sigv4_hash_hex(body.data, body.len, payload);
	sigv4_amz_date(time(NULL), amz_date);
	sh[nsh++] = (struct sigv4_header){ "Content-Type",
		"application/x-www-form-urlencoded; charset=utf-8" };
	sh[nsh++] = (struct sigv4_header){ "Host", host };
	sh[nsh++] = (struct sigv4_header){ "X-Amz-Date", amz_date };
	if (src->session_token)
		sh[nsh++] = (struct sigv4_header){ "X-Amz-Security-Token", src->session_token };
	{
		struct sigv4_request req = { "POST", path, NULL, sh, nsh, payload, 0 };

		if (sigv4_sign(&req, src->access_key_id, src->secret_access_key,
			    ep.signing_region, ep.signing_name, amz_date, &authz, e) < 0)
			goto out;
	}
	{
		size_t i;

		for (i = 0; i < nsh; i++) {
			hdrs[i] = header_line(sh[i].name, sh[i].value);
			if (hdrs[i] == NULL) {
				err_set(e, "header '%s' contains a line break", sh[i].name);
				goto out;
			}
		}
		hdrs[i] = header_line("Authorization", authz.data);
	}
	{
		char *ca = aws_ca_bundle(profile);
		struct aws_fetch_request req = { "POST", ep.url, (const char *const *)hdrs,
			body.data, body.len, STS_TIMEOUT_MS, ca, 0 };
		int fr = aws_fetch(&req, &status, &resp, e);

		free(ca);
		if (fr < 0) {
			err_prefix(e, "STS AssumeRole at '%s'", ep.url);
			goto out;
		}
	}
	doc = xml_read_untrusted(buf_str(&resp), resp.len, 0, NULL);
	if (status != 200) {
		code = doc ? xml_text(xmlDocGetRootElement(doc), "Code") : xstrdup("");
		msg = doc ? xml_text(xmlDocGetRootElement(doc), "Message") : xstrdup("");
		err_set(e, "STS AssumeRole of '%s' (profile '%s') failed: HTTP %ld %s%s%s", role_arn,
			profile, status, code, *msg ? ": " : "", msg);
		goto out;
	}
	if (doc == NULL) {
		err_set(e, "STS AssumeRole at '%s' answered with invalid XML", ep.url);
		goto out;
	}
	{
		xmlNode *creds = xml_find(xmlDocGetRootElement(doc), "Credentials");

		key = xml_text(creds ? creds->children : NULL, "AccessKeyId");
		secret = xml_text(creds ? creds->children : NULL, "SecretAccessKey");
		token = xml_text(creds ? creds->children : NULL, "SessionToken");
		exp_s = xml_text(creds ? creds->children : NULL, "Expiration");
		arn_user = xml_text(xmlDocGetRootElement(doc), "Arn");
	}
	if (*key == '\0' || *secret == '\0' || aws_time_parse_iso8601(exp_s, &exp) < 0) {
		err_set(e, "STS AssumeRole of '%s' answered without AccessKeyId, SecretAccessKey "
			   "or Expiration",
			role_arn);
		goto out;
	}
	cred_set(out, key, secret, token, exp, "assume-role");
	*arn_out = arn_user;
	arn_user = NULL;
	rc = 0;
out:
	xmlFreeDoc(doc);
	header_lines_free(hdrs);
	if (secret) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	free(key);
	free(exp_s);
	free(code);
	free(msg);
	free(arn_user);
	free(host);
	free(path);
	buf_release(&region);
	buf_release(&body);
	buf_release(&authz);
	buf_release_secret(&resp);
	aws_endpoint_release(&ep);
	return rc;
}

static int from_assume_role(const struct aws_profile_files *f, const char *profile, int depth,
	const char **visited, struct aws_credentials *out, struct cred_tried *t, struct err *e)
{
	const char *role_arn = aws_profile_get(f, profile, "role_arn");
	const char *source = aws_profile_get(f, profile, "source_profile");
	const char *cred_source = aws_profile_get(f, profile, "credential_source");
	const char *session_name = aws_profile_get(f, profile, "role_session_name");
	const char *external_id = aws_profile_get(f, profile, "external_id");
	const char *dur = aws_profile_get(f, profile, "duration_seconds");
	struct aws_credentials src = AWS_CREDENTIALS_INIT;
	char *cache_key = NULL, *default_name = NULL, *arn_user = NULL;
	long duration = 0;
	int r, rc = -1;

	if (aws_profile_get(f, profile, "mfa_serial")) {
		err_usage(e, "profile '%s' needs an MFA code (mfa_serial), which caliber cannot "
			     "prompt for; use 'aws sts assume-role' and export the credentials",
			profile);
		goto out;
	}
	if (dur) {
		char *end = NULL;

		duration = strtol(dur, &end, 10);
		if (*dur == '\0' || *end != '\0' || duration < 900 || duration > 43200) {
			err_usage(e, "duration_seconds '%s' of profile '%s' is not between 900 and "
				     "43200",
				dur, profile);
			goto out;
		}
	}
	if ((source == NULL) == (cred_source == NULL)) {
		err_usage(e, "profile '%s' has role_arn and must have exactly one of "
			     "source_profile and credential_source",
			profile);
		goto out;
	}
	if (source) {
		size_t i;

		for (i = 0; visited[i]; i++) {
			if (strcmp(visited[i], source) == 0 && strcmp(source, profile) != 0) {
				err_usage(e, "profile '%s': source_profile chain loops back to "
					     "'%s'",
					profile, source);
				goto out;
			}
		}
		if (!aws_profile_exists(f, source)) {
			err_usage(e, "source_profile '%s' of profile '%s' is not in '%s' nor '%s'",
				source, profile, f->config_path, f->credentials_path);
			goto out;
		}
		if (strcmp(source, profile) == 0) {
			/* a role profile may carry its own long-term keys */
			r = keys_from_ini(f, 0, profile, &src, e);
			if (r == 0)
				r = keys_from_ini(f, 1, profile, &src, e);
			if (r == 0)
				err_usage(e, "profile '%s' is its own source_profile but has no "
					     "aws_access_key_id",
					profile);
		} else {
			struct cred_tried inner = { BUF_INIT };

			r = profile_resolve(f, source, depth + 1, visited, &src, &inner, e);
			if (r == 0)
				err_usage(e, "source_profile '%s' of profile '%s' has no "
					     "credentials (%s)",
					source, profile, buf_str(&inner.text));
			buf_release(&inner.text);
		}
		if (r <= 0)
			goto out;
	} else if (strcmp(cred_source, "Environment") == 0) {
		struct cred_tried inner = { BUF_INIT };

		r = from_environment(&src, &inner, e);
		buf_release(&inner.text);
		if (r == 0)
			err_usage(e, "profile '%s' has credential_source Environment, but "
				     "AWS_ACCESS_KEY_ID is unset",
				profile);
		if (r <= 0)
			goto out;
	} else if (strcmp(cred_source, "EcsContainer") == 0 ||
		   strcmp(cred_source, "Ec2InstanceMetadata") == 0) {
		struct cred_tried inner = { BUF_INIT };

		r = cred_source[1] == 'c' ? from_container(&src, &inner, e) :
					     from_imds(&src, &inner, e);
		if (r == 0)
			err_set(e, "profile '%s' has credential_source %s, which has none: %s",
				profile, cred_source, buf_str(&inner.text));
		buf_release(&inner.text);
		if (r <= 0)
			goto out;
	} else {
		err_usage(e, "credential_source '%s' of profile '%s' is not Environment, "
			     "EcsContainer or Ec2InstanceMetadata",
			cred_source, profile);
		goto out;
	}
	cache_key = assume_cache_key(role_arn, session_name, external_id, duration);
	if (cache_key && cache_load(cache_key, "assume-role", out)) {
		rc = 1;
		goto out;
	}
	if (session_name == NULL) {
		default_name = xasprintf("caliber-session-%ld", (long)time(NULL));
		session_name = default_name;
	}
	(void)t;
	if (sts_assume_role(f, profile, &src, role_arn, session_name, external_id, duration, out,
		    &arn_user, e) < 0)
		goto out;
	if (cache_key)
		cache_store(cache_key, out, arn_user);
	rc = 1;
out:
	aws_credentials_release(&src);
	free(cache_key);
	free(default_name);
	free(arn_user);
	return rc;
}

/*
 * The credentials a profile itself yields, in botocore's order: assume
 * role, IAM Identity Center, the credentials file, the config file.
 * 0 with t filled when it has none.
 */
static int profile_resolve(const struct aws_profile_files *f, const char *profile, int depth,
	const char **visited, struct aws_credentials *out, struct cred_tried *t, struct err *e)
{
	int r;

	if (depth >= CRED_MAX_CHAIN)
		return err_usage(e, "profile '%s': more than %d chained role profiles", profile,
			CRED_MAX_CHAIN);
	visited[depth] = profile;
	visited[depth + 1] = NULL;
	if (aws_profile_get(f, profile, "role_arn")) {
		if (aws_profile_get(f, profile, "web_identity_token_file"))
			return err_usage(e, "profile '%s': web identity (web_identity_token_file) "
					    "is not supported",
				profile);
		return from_assume_role(f, profile, depth, visited, out, t, e);
	}
	if (aws_profile_config_get(f, profile, "sso_session") ||
		aws_profile_config_get(f, profile, "sso_start_url"))
		return from_sso(f, profile, out, e);
	r = keys_from_ini(f, 0, profile, out, e);
	if (r != 0)
		return r;
	if (!f->credentials_found)
		tried_add(t, "shared credentials file '%s' (no such file)", f->credentials_path);
	else if (!aws_ini_has_section(&f->credentials, profile))
		tried_add(t, "shared credentials file '%s' (no profile '%s')", f->credentials_path,
			profile);
	else
		tried_add(t, "shared credentials file '%s' (profile '%s' has no "
			     "aws_access_key_id)",
			f->credentials_path, profile);
	if (aws_profile_get(f, profile, "credential_process"))
		return err_usage(e, "profile '%s': credential_process is not supported", profile);
	r = keys_from_ini(f, 1, profile, out, e);
	if (r != 0)
		return r;
	if (!f->config_found)
		tried_add(t, "config file '%s' (no such file)", f->config_path);
	else
		tried_add(t, "config file '%s' (no keys, role or sso settings for profile '%s')",
			f->config_path, profile);
	return 0;
}

int aws_credentials_resolve(const char *profile, struct aws_credentials *out, struct err *e)
{
	struct aws_profile_files f = AWS_PROFILE_FILES_INIT;
	struct cred_tried t = { BUF_INIT };
	const char *visited[CRED_MAX_CHAIN + 2] = { NULL };
	const char *name = aws_profile_name(profile);
	int r = 0, rc = -1;

	aws_credentials_release(out);
	/* botocore: a profile given explicitly (--profile) bypasses the environment */
	if (profile && *profile)
		tried_add(&t, "environment (skipped: profile '%s' given explicitly)", profile);
	else if ((r = from_environment(out, &t, e)) != 0)
		goto done;
	if (aws_profile_files_load(&f, e) < 0)
		goto out;
	if (strcmp(name, "default") != 0 && !aws_profile_exists(&f, name)) {
		err_usage(e, "profile '%s' is not in '%s' nor '%s'; run 'aws configure --profile "
			     "%s'%s",
			name, f.config_path, f.credentials_path, name,
			profile && *profile ? "" : " or unset AWS_PROFILE");
		goto out;
	}
	if ((r = profile_resolve(&f, name, 0, visited, out, &t, e)) != 0)
		goto done;
	if ((r = from_container(out, &t, e)) != 0)
		goto done;
	if ((r = from_imds(out, &t, e)) != 0)
		goto done;
	/* not a usage error: the flags were right, the machine lacks credentials */
	err_set(e, "no AWS credentials found; tried: %s; run 'aws configure' or set AWS_PROFILE",
		buf_str(&t.text));
	goto out;
done:
	if (r > 0)
		rc = 0;
out:
	if (rc < 0)
		aws_credentials_release(out);
	aws_profile_files_release(&f);
	buf_release(&t.text);
	return rc;
}
