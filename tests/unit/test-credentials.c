/*
 * test-credentials.c: the credential chain, source by source.
 *
 * Files and the environment are set up per test in a fresh $HOME.  The
 * sources that call AWS over HTTP (STS AssumeRole, the IAM Identity Center
 * portal, the container endpoint, EC2 instance metadata) are pointed at
 * fake_aws_endpoints.py, started once on a loopback port: it checks the
 * requests (STS signatures included, with its own SigV4 code) and answers
 * in the documented shapes.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "aws/credentials.h"
#include "aws/credserver.h"
#include "aws/fetch.h"

static char top_tmp[] = "/tmp/caliber-test-credentials-XXXXXX";
static pid_t server_pid = -1;
static char server_url[64];
static int home_seq;
static char home[256];

static const char *const aws_env[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL_SSO", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_DISABLED", "AWS_CA_BUNDLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

static void write_file(const char *rel, const char *content)
{
	char *path = xasprintf("%s/%s", home, rel), *p;
	FILE *f;

	for (p = path + strlen(home) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(path);
}

static json_t *fake_call(const char *method, const char *path, const char *body)
{
	struct buf resp = BUF_INIT;
	struct err e = ERR_INIT;
	char *url = xasprintf("%s%s", server_url, path);
	struct aws_fetch_request req = { method, url, NULL, body, body ? strlen(body) : 0, 5000,
		NULL, 1 };
	json_error_t je;
	json_t *doc;
	long status;

	if (aws_fetch(&req, &status, &resp, &e) < 0)
		fail_msg("fake endpoints: %s", e.msg);
	assert_int_equal(status, 200);
	doc = json_loadb(buf_str(&resp), resp.len, 0, &je);
	assert_non_null(doc);
	buf_release(&resp);
	free(url);
	return doc;
}

static long fake_count(const char *name)
{
	json_t *s = fake_call("GET", "/_stats", NULL);
	long n = (long)json_integer_value(json_object_get(json_object_get(s, "counts"), name));

	json_decref(s);
	return n;
}

/* The last request the fake saw at endpoint name; caller json_decref()s. */
static json_t *fake_last(const char *name)
{
	json_t *s = fake_call("GET", "/_stats", NULL);
	json_t *l = json_incref(json_object_get(json_object_get(s, "last"), name));

	json_decref(s);
	assert_non_null(l);
	return l;
}

/* A clean environment and a new, empty $HOME for every test. */
static int test_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(aws_env); i++)
		unsetenv(aws_env[i]);
	snprintf(home, sizeof(home), "%s/home%d", top_tmp, ++home_seq);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	/* no test may wait for a real 169.254.169.254 */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	json_decref(fake_call("POST", "/_reset", ""));
	return 0;
}

static int group_setup(void **state)
{
	char *port_file;
	int i;

	(void)state;
	if (mkdtemp(top_tmp) == NULL)
		return -1;
	port_file = xasprintf("%s/port", top_tmp);
	server_pid = fork();
	if (server_pid == 0) {
		execlp("python3", "python3", "tests/unit/fake_aws_endpoints.py", port_file,
			(char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		FILE *f = fopen(port_file, "r");
		int port = 0;

		if (f) {
			if (fscanf(f, "%d", &port) == 1)
				snprintf(server_url, sizeof(server_url), "http://127.0.0.1:%d",
					port);
			fclose(f);
			break;
		}
		usleep(50 * 1000);
	}
	free(port_file);
	if (server_url[0] == '\0') {
		fprintf(stderr, "fake_aws_endpoints.py did not start (is python3 installed?)\n");
		return -1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	nftw(top_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void resolve_ok(const char *profile, struct aws_credentials *c)
{
	struct err e = ERR_INIT;

	if (aws_credentials_resolve(profile, c, &e) < 0)
		fail_msg("resolve failed: %s", e.msg);
}

static void resolve_fails(const char *profile, const char *needle, struct err *e)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;

	assert_int_equal(aws_credentials_resolve(profile, &c, e), -1);
	assert_null(c.access_key_id);
	if (strstr(e->msg, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", e->msg, needle);
}

/* ---- environment ---- */

static void test_environment_keys_and_session_token_come_first(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;

	(void)state;
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\n"
				       "aws_secret_access_key = file-secret\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	resolve_ok(NULL, &c);
	assert_string_equal(c.access_key_id, "AKIAENV");
	assert_string_equal(c.secret_access_key, "env-secret");
	assert_string_equal(c.session_token, "env-token");
	assert_string_equal(c.source, "environment");
	assert_int_equal(c.expiration, 0);
	aws_credentials_release(&c);
}

static void test_environment_key_without_secret_is_an_error(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	resolve_fails(NULL, "AWS_SECRET_ACCESS_KEY is not", &e);
	assert_true(e.usage);
}

static void test_explicit_profile_bypasses_environment(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;

	(void)state;
	write_file(".aws/credentials", "[ops]\naws_access_key_id = AKIAOPS\n"
				       "aws_secret_access_key = ops-secret\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	resolve_ok("ops", &c);
	assert_string_equal(c.access_key_id, "AKIAOPS");
	assert_null(c.session_token);
	assert_string_equal(c.source, "shared-credentials-file");
	aws_credentials_release(&c);
}

/* ---- shared files ---- */

static void test_credentials_file_keeps_a_long_session_token(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	struct buf text = BUF_INIT, token = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 120; i++)
		buf_appends(&token, "Tok3n+/=");
	buf_appendf(&text, "# comment\n[default]\naws_access_key_id=AKIADEFAULT\n"
			   "aws_secret_access_key = default-secret\naws_session_token = %s\n",
		token.data);
	write_file("elsewhere/creds", text.data);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds", 1);
	resolve_ok(NULL, &c);
	assert_string_equal(c.access_key_id, "AKIADEFAULT");
	assert_string_equal(c.session_token, token.data);
	aws_credentials_release(&c);
	buf_release(&text);
	buf_release(&token);
}

static void test_aws_profile_selects_config_file_profile(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;

	(void)state;
	write_file("cfg", "[default]\nregion = eu-west-1\n[profile staging]\n"
			  "aws_access_key_id = AKIASTAGING\naws_secret_access_key = s-secret\n");
	setenv("AWS_CONFIG_FILE", "~/cfg", 1);
	setenv("AWS_PROFILE", "staging", 1);
	resolve_ok(NULL, &c);
	assert_string_equal(c.access_key_id, "AKIASTAGING");
	assert_string_equal(c.source, "config-file");
	aws_credentials_release(&c);
}

static void test_credentials_file_wins_over_config_file(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;

	(void)state;
	write_file(".aws/config", "[profile p]\naws_access_key_id = AKIACONFIG\n"
				  "aws_secret_access_key = c-secret\n");
	write_file(".aws/credentials", "[p]\naws_access_key_id = AKIACREDS\n"
				       "aws_secret_access_key = k-secret\n");
	resolve_ok("p", &c);
	assert_string_equal(c.access_key_id, "AKIACREDS");
	aws_credentials_release(&c);
}

static void test_unknown_profile_names_both_files(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	write_file(".aws/credentials", "[default]\naws_access_key_id = A\n"
				       "aws_secret_access_key = B\n");
	setenv("AWS_PROFILE", "nosuch", 1);
	resolve_fails(NULL, "profile 'nosuch' is not in", &e);
	assert_non_null(strstr(e.msg, "/.aws/credentials"));
	assert_non_null(strstr(e.msg, "/.aws/config"));
}

static void test_no_credentials_lists_every_source_tried(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	write_file(".aws/config", "[default]\nregion = us-east-1\n");
	resolve_fails(NULL, "no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID unset)",
		&e);
	assert_non_null(strstr(e.msg, "/.aws/credentials' (no such file)"));
	assert_non_null(strstr(e.msg, "/.aws/config' (no keys, role or sso settings"));
	assert_non_null(strstr(e.msg, "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
	assert_non_null(strstr(e.msg, "EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)"));
	assert_non_null(strstr(e.msg, "run 'aws configure' or set AWS_PROFILE"));
	assert_false(e.usage);
}

static void test_unreachable_metadata_service_gives_up_within_seconds(void **state)
{
	struct err e = ERR_INIT;
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	char url[64];
	int fd;

	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	/* a server that takes the connection (the kernel's backlog) and never answers */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	resolve_fails(NULL, "EC2 instance metadata ('http://127.0.0.1:", &e);
	close(fd);
	/*
	 * The client's own timeout ended the wait (curl: "Operation timed out
	 * after 1000 milliseconds"), the 1 s of one attempt, not a default
	 * client's 10+ s nor a retry's.
	 */
	if (strstr(e.msg, "timed out after 1") == NULL || strstr(e.msg, " milliseconds") == NULL ||
		strstr(e.msg, "timed out after 1") [strlen("timed out after 1") + 3] != ' ')
		fail_msg("error '%s' does not say the metadata request timed out after ~1000 ms",
			e.msg);
}

/* ---- assume role ---- */

static void role_profiles(void)
{
	write_file(".aws/credentials", "[base]\naws_access_key_id = AKIASOURCEKEY\n"
				       "aws_secret_access_key = source-secret-key\n");
	write_file(".aws/config", "[profile deploy]\n"
				  "role_arn = arn:aws:iam::123456789012:role/deploy\n"
				  "source_profile = base\nregion = eu-west-3\n"
				  "[profile audit]\n"
				  "role_arn = arn:aws:iam::123456789012:role/audit\n"
				  "source_profile = deploy\nexternal_id = ext-42\n"
				  "role_session_name = alice\nduration_seconds = 1800\n"
				  "[profile denied]\n"
				  "role_arn = arn:aws:iam::123456789012:role/denied\n"
				  "source_profile = base\n"
				  "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\n"
				  "source_profile = loop-b\n"
				  "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\n"
				  "source_profile = loop-a\n");
}

static void test_assume_role_signs_sts_request_and_caches_like_awscli(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT, again = AWS_CREDENTIALS_INIT;
	const char *key_json = "{\"RoleArn\": \"arn:aws:iam::123456789012:role/deploy\"}";
	unsigned char md[SHA_DIGEST_LENGTH];
	char hex[41], *path;
	struct stat st;
	json_t *last;
	size_t i;

	(void)state;
	role_profiles();
	setenv("AWS_ENDPOINT_URL_STS", server_url, 1);
	resolve_ok("deploy", &c);
	assert_string_equal(c.source, "assume-role");
	assert_memory_equal(c.access_key_id, "ASIAROLE", 8);
	assert_non_null(c.session_token);
	assert_true(c.expiration > time(NULL) + 3000);
	last = fake_last("sts-AssumeRole");
	assert_string_equal(json_string_value(json_object_get(last, "signed_by")),
		"AKIASOURCEKEY");
	assert_string_equal(json_string_value(json_object_get(last, "role_arn")),
		"arn:aws:iam::123456789012:role/deploy");
	assert_string_equal(json_string_value(json_object_get(last, "action")), "AssumeRole");
	assert_memory_equal(json_string_value(json_object_get(last, "session_name")),
		"caliber-session-", 16);
	assert_string_equal(json_string_value(json_object_get(last, "content_type")),
		"application/x-www-form-urlencoded; charset=utf-8");
	json_decref(last);

	/* cached where awscli looks: sha1 of the sorted JSON arguments */
	SHA1((const unsigned char *)key_json, strlen(key_json), md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	path = xasprintf("%s/.aws/cli/cache/%s.json", home, hex);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);

	resolve_ok("deploy", &again);
	assert_int_equal(fake_count("sts-AssumeRole"), 1);
	assert_string_equal(again.access_key_id, c.access_key_id);
	assert_string_equal(again.secret_access_key, c.secret_access_key);
	assert_string_equal(again.session_token, c.session_token);
	aws_credentials_release(&c);
	aws_credentials_release(&again);
}

static void test_assume_role_chain_passes_external_id_and_duration(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	json_t *last;

	(void)state;
	role_profiles();
	setenv("AWS_ENDPOINT_URL", server_url, 1);
	resolve_ok("audit", &c);
	assert_int_equal(fake_count("sts-AssumeRole"), 2);
	last = fake_last("sts-AssumeRole");
	/* the second hop is signed with the first role's temporary key */
	assert_memory_equal(json_string_value(json_object_get(last, "signed_by")), "ASIAROLE", 8);
	assert_string_equal(json_string_value(json_object_get(last, "external_id")), "ext-42");
	assert_string_equal(json_string_value(json_object_get(last, "session_name")), "alice");
	assert_string_equal(json_string_value(json_object_get(last, "duration")), "1800");
	json_decref(last);
	assert_true(c.expiration <= time(NULL) + 1800 + 5);
	aws_credentials_release(&c);
}

static void test_assume_role_refused_reports_sts_error(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	role_profiles();
	setenv("AWS_ENDPOINT_URL_STS", server_url, 1);
	resolve_fails("denied", "AccessDenied: User: AKIASOURCEKEY is not authorized", &e);
	assert_non_null(strstr(e.msg, "arn:aws:iam::123456789012:role/denied"));
}

static void test_assume_role_loop_is_refused(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	role_profiles();
	setenv("AWS_ENDPOINT_URL_STS", server_url, 1);
	resolve_fails("loop-a", "loops back", &e);
	assert_int_equal(fake_count("sts-AssumeRole"), 0);
}

/* Run awscli (v1, the one on PATH: it honours AWS_ENDPOINT_URL_STS); its stdout in out. */
static int run_aws(const char *args, struct buf *out)
{
	char *cmd = xasprintf("aws %s 2>&1", args);
	char chunk[512];
	size_t n;
	FILE *p = popen(cmd, "r");
	int st;

	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(out, chunk, n);
	st = pclose(p);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_assume_role_cache_is_shared_with_awscli(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	struct buf out = BUF_INIT;
	json_t *last;

	(void)state;
	role_profiles();
	setenv("AWS_ENDPOINT_URL_STS", server_url, 1);
	/* awscli assumes the role and caches it; caliber then uses its cache */
	if (run_aws("sts get-caller-identity --profile deploy --output text --query Account",
		    &out) != 0)
		fail_msg("aws sts get-caller-identity failed: %s", buf_str(&out));
	assert_string_equal(out.data, "123456789012\n");
	assert_int_equal(fake_count("sts-AssumeRole"), 1);
	resolve_ok("deploy", &c);
	assert_int_equal(fake_count("sts-AssumeRole"), 1);
	last = fake_last("sts-GetCallerIdentity");
	assert_string_equal(json_string_value(json_object_get(last, "signed_by")), c.access_key_id);
	json_decref(last);
	aws_credentials_release(&c);

	/* and the other way round: caliber caches, awscli uses it */
	json_decref(fake_call("POST", "/_reset", ""));
	test_setup(state);
	role_profiles();
	setenv("AWS_ENDPOINT_URL_STS", server_url, 1);
	resolve_ok("deploy", &c);
	buf_reset(&out);
	if (run_aws("sts get-caller-identity --profile deploy --output text --query Account",
		    &out) != 0)
		fail_msg("aws sts get-caller-identity failed: %s", buf_str(&out));
	assert_int_equal(fake_count("sts-AssumeRole"), 1);
	last = fake_last("sts-GetCallerIdentity");
	assert_string_equal(json_string_value(json_object_get(last, "signed_by")), c.access_key_id);
	json_decref(last);
	aws_credentials_release(&c);
	buf_release(&out);
}

/* ---- IAM Identity Center ---- */

static void sso_token_file(const char *hash_of, const char *expires_at)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char hex[41], *rel, *text;
	size_t i;

	SHA1((const unsigned char *)hash_of, strlen(hash_of), md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rel = xasprintf(".aws/sso/cache/%s.json", hex);
	text = xasprintf("{\"startUrl\": \"https://my-sso-portal.awsapps.com/start\", "
			 "\"region\": \"us-east-1\", \"accessToken\": \"sso-access-token-1\", "
			 "\"expiresAt\": \"%s\"}",
		expires_at);
	write_file(rel, text);
	free(rel);
	free(text);
}

static void test_sso_session_profile_gets_role_credentials(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	char later[32];
	time_t t = time(NULL) + 3600;
	json_t *last;

	(void)state;
	strftime(later, sizeof(later), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	write_file(".aws/config", "[profile dev]\nsso_session = corp\n"
				  "sso_account_id = 111122223333\nsso_role_name = Deploy Role\n"
				  "[sso-session corp]\n"
				  "sso_start_url = https://my-sso-portal.awsapps.com/start\n"
				  "sso_region = us-east-1\n");
	sso_token_file("corp", later);
	setenv("AWS_ENDPOINT_URL_SSO", server_url, 1);
	resolve_ok("dev", &c);
	assert_string_equal(c.source, "sso");
	assert_memory_equal(c.access_key_id, "ASIASSO", 7);
	assert_true(c.expiration > time(NULL) + 3000);
	last = fake_last("sso");
	assert_string_equal(json_string_value(json_object_get(last, "role_name")), "Deploy Role");
	assert_string_equal(json_string_value(json_object_get(last, "account_id")),
		"111122223333");
	assert_true(json_is_true(json_object_get(last, "token_ok")));
	json_decref(last);
	/* cached like awscli's: the next resolve does not call the portal */
	{
		struct aws_credentials again = AWS_CREDENTIALS_INIT;

		resolve_ok("dev", &again);
		assert_int_equal(fake_count("sso"), 1);
		assert_string_equal(again.access_key_id, c.access_key_id);
		assert_string_equal(again.session_token, c.session_token);
		assert_string_equal(again.source, "sso");
		aws_credentials_release(&again);
	}
	aws_credentials_release(&c);
}

static void test_legacy_sso_profile_with_expired_token_asks_for_login(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	write_file(".aws/config", "[profile old]\n"
				  "sso_start_url = https://my-sso-portal.awsapps.com/start\n"
				  "sso_region = us-east-1\nsso_account_id = 111122223333\n"
				  "sso_role_name = ReadOnly\n");
	sso_token_file("https://my-sso-portal.awsapps.com/start", "2020-01-01T00:00:00UTC");
	setenv("AWS_ENDPOINT_URL_SSO", server_url, 1);
	resolve_fails("old", "run 'aws sso login --profile old'", &e);
	assert_non_null(strstr(e.msg, "expired"));
	assert_int_equal(fake_count("sso"), 0);
}

static void test_sso_profile_without_token_cache_asks_for_login(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	write_file(".aws/config", "[default]\nsso_session = corp\nsso_account_id = 1\n"
				  "sso_role_name = R\n[sso-session corp]\n"
				  "sso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n");
	resolve_fails(NULL, "aws sso login", &e);
}

/* ---- container ---- */

static void test_container_full_uri_with_authorization_token(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	char *uri = xasprintf("%s/container/v2/credentials/abc", server_url);
	json_t *last;

	(void)state;
	json_decref(fake_call("POST", "/_config", "{\"container_token\": \"Basic c2VjcmV0\"}"));
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0", 1);
	resolve_ok(NULL, &c);
	assert_string_equal(c.source, "container-role");
	assert_memory_equal(c.access_key_id, "ASIACTR", 7);
	assert_non_null(c.session_token);
	last = fake_last("container");
	assert_string_equal(json_string_value(json_object_get(last, "path")),
		"/container/v2/credentials/abc");
	json_decref(last);
	aws_credentials_release(&c);

	/* the token file wins over the variable */
	write_file("token", "Basic c2VjcmV0\n");
	{
		char *tf = xasprintf("%s/token", home);

		setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
		setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
		resolve_ok(NULL, &c);
		aws_credentials_release(&c);
		free(tf);
	}
	free(uri);
}

static void test_container_wrong_token_is_an_error_not_a_fallthrough(void **state)
{
	struct err e = ERR_INIT;
	char *uri = xasprintf("%s/container/creds", server_url);

	(void)state;
	json_decref(fake_call("POST", "/_config", "{\"container_token\": \"right\"}"));
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	resolve_fails(NULL, "answered HTTP 401", &e);
	free(uri);
}

/* ---- credentials served to a long-running child (credserver.h) ---- */

/* GET the credserver with token (NULL: none); the status, and the body in *doc. */
static long credserver_get(struct credserver *s, const char *token, json_t **doc)
{
	char *hdr = token ? xasprintf("Authorization: %s", token) : NULL;
	const char *hdrs[] = { hdr, NULL };
	struct aws_fetch_request req = { "GET", credserver_url(s), hdr ? hdrs : NULL, NULL, 0,
		5000, NULL, 1 };
	struct buf resp = BUF_INIT;
	struct err e = ERR_INIT;
	json_error_t je;
	long status = 0;

	if (aws_fetch(&req, &status, &resp, &e) < 0)
		fail_msg("credserver: %s", e.msg);
	*doc = json_loadb(buf_str(&resp), resp.len, 0, &je);
	buf_release_secret(&resp);
	free(hdr);
	return status;
}

static void test_credentials_that_expire_every_few_seconds_are_served_fresh(void **state)
{
	struct credserver *s = NULL;
	struct err e = ERR_INIT;
	char *uri = xasprintf("%s/container/short", server_url), *keys[64];
	size_t n_keys = 0, i;
	time_t until;
	json_t *doc = NULL;

	(void)state;
	/* the upstream: role credentials that live 4 seconds */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
	json_decref(fake_call("POST", "/_config", "{\"container_lifetime\": 4}"));
	if (credserver_start(NULL, &s, &e) < 0)
		fail_msg("credserver_start: %s", e.msg);
	assert_string_equal(credserver_source(s), "container-role");
	assert_int_equal(strncmp(credserver_url(s), "http://127.0.0.1:", 17), 0);
	assert_true(strlen(credserver_token(s)) >= 32);
	/* no token, a wrong one: refused, nothing handed out */
	assert_int_equal(credserver_get(s, NULL, &doc), 403);
	assert_null(json_object_get(doc, "AccessKeyId"));
	json_decref(doc);
	assert_int_equal(credserver_get(s, "Basic guess", &doc), 403);
	json_decref(doc);
	/* an SDK asking all along gets unexpired credentials, renewed as they age */
	until = time(NULL) + 9;
	while (time(NULL) < until) {
		const char *key, *exp;
		time_t when = 0;

		assert_int_equal(credserver_get(s, credserver_token(s), &doc), 200);
		key = json_string_value(json_object_get(doc, "AccessKeyId"));
		exp = json_string_value(json_object_get(doc, "Expiration"));
		assert_non_null(key);
		assert_non_null(json_string_value(json_object_get(doc, "SecretAccessKey")));
		assert_non_null(json_string_value(json_object_get(doc, "Token")));
		assert_non_null(exp);
		assert_int_equal(aws_time_parse_iso8601(exp, &when), 0);
		if (when <= time(NULL))
			fail_msg("served credentials %s that expire at %s, already past", key, exp);
		if (n_keys == 0 || strcmp(keys[n_keys - 1], key))
			keys[n_keys++] = xstrdup(key);
		json_decref(doc);
		doc = NULL;
		assert_true(n_keys < ARRAY_SIZE(keys));
		usleep(250 * 1000);
	}
	/* 9 s of 4-second credentials: renewed at least three times, never twice the same */
	if (n_keys < 4)
		fail_msg("only %zu sets of credentials in 9 s of 4-second ones", n_keys);
	for (i = 0; i < n_keys; i++)
		free(keys[i]);
	credserver_stop(s);
	free(uri);
}

static void test_container_full_uri_must_be_local_or_https(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://attacker.example.com/creds", 1);
	resolve_fails(NULL, "must be https, loopback", &e);
}

/* ---- EC2 instance metadata ---- */

static void test_imds_v2_token_then_role_then_credentials(void **state)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	json_t *last;

	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_url, 1);
	resolve_ok(NULL, &c);
	assert_string_equal(c.source, "iam-role");
	assert_memory_equal(c.access_key_id, "ASIAIMDS", 8);
	assert_true(c.expiration > time(NULL) + 5 * 3600);
	assert_int_equal(fake_count("imds-token"), 1);
	assert_int_equal(fake_count("imds"), 2);
	last = fake_last("imds");
	assert_string_equal(json_string_value(json_object_get(last, "role")), "web-role");
	assert_true(json_is_true(json_object_get(last, "token_ok")));
	json_decref(last);
	last = fake_last("imds-token");
	assert_string_equal(json_string_value(json_object_get(last, "ttl")), "21600");
	json_decref(last);
	aws_credentials_release(&c);
}

static void test_imds_without_role_falls_through_to_the_error(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	json_decref(fake_call("POST", "/_config", "{\"imds_role\": null}"));
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_url, 1);
	resolve_fails(NULL, "no IAM role attached", &e);
	assert_non_null(strstr(e.msg, "no AWS credentials found"));
}

static void test_iso8601_forms_of_the_credential_sources(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(aws_time_parse_iso8601("2015-08-30T12:36:00Z", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(aws_time_parse_iso8601("2015-08-30T12:36:00.123Z", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(aws_time_parse_iso8601("2015-08-30T12:36:00UTC", &t), 0);
	assert_int_equal(aws_time_parse_iso8601("2015-08-30T12:36:00+00:00", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(aws_time_parse_iso8601("2015-08-30 12:36", &t), -1);
	assert_int_equal(aws_time_parse_iso8601("2015-08-30T12:36:00+02:00", &t), -1);
}

#define T(f) cmocka_unit_test_setup(f, test_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_environment_keys_and_session_token_come_first),
		T(test_environment_key_without_secret_is_an_error),
		T(test_explicit_profile_bypasses_environment),
		T(test_credentials_file_keeps_a_long_session_token),
		T(test_aws_profile_selects_config_file_profile),
		T(test_credentials_file_wins_over_config_file),
		T(test_unknown_profile_names_both_files),
		T(test_no_credentials_lists_every_source_tried),
		T(test_unreachable_metadata_service_gives_up_within_seconds),
		T(test_assume_role_signs_sts_request_and_caches_like_awscli),
		T(test_assume_role_chain_passes_external_id_and_duration),
		T(test_assume_role_refused_reports_sts_error),
		T(test_assume_role_loop_is_refused),
		T(test_assume_role_cache_is_shared_with_awscli),
		T(test_sso_session_profile_gets_role_credentials),
		T(test_legacy_sso_profile_with_expired_token_asks_for_login),
		T(test_sso_profile_without_token_cache_asks_for_login),
		T(test_container_full_uri_with_authorization_token),
		T(test_container_wrong_token_is_an_error_not_a_fallthrough),
		T(test_container_full_uri_must_be_local_or_https),
		T(test_credentials_that_expire_every_few_seconds_are_served_fresh),
		T(test_imds_v2_token_then_role_then_credentials),
		T(test_imds_without_role_falls_through_to_the_error),
		T(test_iso8601_forms_of_the_credential_sources),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
