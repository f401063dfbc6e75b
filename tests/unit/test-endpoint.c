/*
 * test-endpoint.c: the shared config file parser, region, endpoint URL
 * and CA bundle resolution, in awscli's order of precedence.
 */
#include "compat.h"

#include <ftw.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "aws/endpoint.h"
#include "aws/profile.h"

static char top_tmp[] = "/tmp/caliber-test-endpoint-XXXXXX";
static char home[256];
static int home_seq;

static const char *const aws_env[] = {
	"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
	"AWS_ENDPOINT_URL_ROUTE_53", "AWS_ENDPOINT_URL_CLOUDFRONT", "AWS_CA_BUNDLE",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

static void write_config(const char *content)
{
	char *path = xasprintf("%s/.aws", home);
	FILE *f;

	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/.aws/config", home);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(path);
}

static int test_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(aws_env); i++)
		unsetenv(aws_env[i]);
	snprintf(home, sizeof(home), "%s/home%d", top_tmp, ++home_seq);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(top_tmp) ? 0 : -1;
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
	nftw(top_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void resolve(const char *service_id, const char *region, const char *profile,
	const char *url, const char *signing_region, const char *signing_name)
{
	struct aws_endpoint ep = AWS_ENDPOINT_INIT;
	struct err e = ERR_INIT;

	if (aws_endpoint_resolve(service_id, region, profile, &ep, &e) < 0)
		fail_msg("%s: %s", service_id, e.msg);
	assert_string_equal(ep.url, url);
	assert_string_equal(ep.signing_region, signing_region);
	assert_string_equal(ep.signing_name, signing_name);
	aws_endpoint_release(&ep);
}

/* ---- the config file format ---- */

static void test_ini_sections_nesting_comments_and_continuations(void **state)
{
	struct aws_ini ini = AWS_INI_INIT;
	struct err e = ERR_INIT;
	const char *text = "# top comment\n"
			   "; another\n"
			   "[default]\n"
			   "Region = eu-west-1\n"
			   "s3 =\n"
			   "  addressing_style = path\n"
			   "  endpoint_url = http://localhost:4566\n"
			   "output: json\n"
			   "[ profile   a b ]\n"
			   "role_arn=arn:aws:iam::1:role/x=y\n"
			   "long = first\n"
			   "  second\n"
			   "[default]\n"
			   "region = us-west-2\n";

	(void)state;
	assert_int_equal(aws_ini_parse(&ini, text, strlen(text), &e), 0);
	/* keys are case-insensitive; a later duplicate section wins */
	assert_string_equal(aws_ini_get(&ini, "default", "region"), "us-west-2");
	assert_string_equal(aws_ini_get(&ini, "default", "s3.addressing_style"), "path");
	assert_string_equal(aws_ini_get(&ini, "default", "s3.endpoint_url"),
		"http://localhost:4566");
	assert_string_equal(aws_ini_get(&ini, "default", "s3"), "");
	assert_string_equal(aws_ini_get(&ini, "default", "output"), "json");
	assert_string_equal(aws_ini_get(&ini, "profile   a b", "role_arn"),
		"arn:aws:iam::1:role/x=y");
	assert_string_equal(aws_ini_get(&ini, "profile   a b", "long"), "first\nsecond");
	assert_null(aws_ini_get(&ini, "default", "nosuch"));
	aws_ini_release(&ini);
}

static void test_ini_errors_name_the_line(void **state)
{
	struct aws_ini ini = AWS_INI_INIT;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(aws_ini_parse(&ini, "key = before any section\n", 25, &e), -1);
	assert_string_equal(e.msg, "line 1: value outside of any [section]");
	aws_ini_release(&ini);
	assert_int_equal(aws_ini_parse(&ini, "[a]\nx = 1\n[b\n", 12, &e), -1);
	assert_string_equal(e.msg, "line 3: section header without ']'");
	aws_ini_release(&ini);
	assert_int_equal(aws_ini_parse(&ini, "[a]\njust words\n", 15, &e), -1);
	assert_string_equal(e.msg, "line 2: expected 'name = value' or '[section]'");
	aws_ini_release(&ini);
}

static void test_profile_names_and_file_locations(void **state)
{
	struct aws_profile_files f = AWS_PROFILE_FILES_INIT;
	struct err e = ERR_INIT;
	char *want;

	(void)state;
	assert_string_equal(aws_profile_name(NULL), "default");
	setenv("AWS_PROFILE", "env-profile", 1);
	assert_string_equal(aws_profile_name(NULL), "env-profile");
	assert_string_equal(aws_profile_name("explicit"), "explicit");
	write_config("[default]\nregion = a-1\n[profile x]\nregion = b-2\n[y]\nregion = c-3\n");
	assert_int_equal(aws_profile_files_load(&f, &e), 0);
	assert_true(f.config_found);
	assert_false(f.credentials_found);
	want = xasprintf("%s/.aws/credentials", home);
	assert_string_equal(f.credentials_path, want);
	free(want);
	assert_string_equal(aws_profile_get(&f, "default", "region"), "a-1");
	assert_string_equal(aws_profile_get(&f, "x", "region"), "b-2");
	/* in the config file a profile needs the "profile " prefix */
	assert_null(aws_profile_get(&f, "y", "region"));
	assert_true(aws_profile_exists(&f, "x"));
	assert_false(aws_profile_exists(&f, "y"));
	aws_profile_files_release(&f);
}

/* ---- region ---- */

static void test_region_from_env_then_default_env_then_profile(void **state)
{
	struct buf r = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	write_config("[default]\nregion = eu-central-1\n[profile tokyo]\nregion = ap-northeast-1\n");
	assert_int_equal(aws_region_resolve(NULL, &r, &e), 0);
	assert_string_equal(r.data, "eu-central-1");
	buf_reset(&r);
	assert_int_equal(aws_region_resolve("tokyo", &r, &e), 0);
	assert_string_equal(r.data, "ap-northeast-1");
	buf_reset(&r);
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	assert_int_equal(aws_region_resolve("tokyo", &r, &e), 0);
	assert_string_equal(r.data, "us-west-1");
	buf_reset(&r);
	setenv("AWS_REGION", "sa-east-1", 1);
	assert_int_equal(aws_region_resolve("tokyo", &r, &e), 0);
	assert_string_equal(r.data, "sa-east-1");
	buf_release(&r);
}

static void test_missing_or_invalid_region_says_how_to_set_it(void **state)
{
	struct buf r = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(aws_region_resolve(NULL, &r, &e), -1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "set AWS_REGION"));
	setenv("AWS_REGION", "us-east-1.evil.com/", 1);
	assert_int_equal(aws_region_resolve(NULL, &r, &e), -1);
	assert_string_equal(e.msg, "invalid AWS region 'us-east-1.evil.com/'");
	buf_release(&r);
}

/* ---- endpoints ---- */

static void test_public_endpoints_regional_and_global(void **state)
{
	(void)state;
	resolve("S3", "eu-west-1", NULL, "https://s3.eu-west-1.amazonaws.com", "eu-west-1", "s3");
	resolve("Secrets Manager", "eu-west-1", NULL, "https://secretsmanager.eu-west-1.amazonaws.com",
		"eu-west-1", "secretsmanager");
	resolve("Elastic Load Balancing v2", "us-west-2", NULL,
		"https://elasticloadbalancing.us-west-2.amazonaws.com", "us-west-2",
		"elasticloadbalancing");
	resolve("DocDB", "eu-west-1", NULL, "https://rds.eu-west-1.amazonaws.com", "eu-west-1",
		"rds");
	resolve("CloudWatch Logs", "eu-west-1", NULL, "https://logs.eu-west-1.amazonaws.com",
		"eu-west-1", "logs");
	resolve("ECS", "cn-north-1", NULL, "https://ecs.cn-north-1.amazonaws.com.cn",
		"cn-north-1", "ecs");
	resolve("STS", "eu-west-3", NULL, "https://sts.eu-west-3.amazonaws.com", "eu-west-3",
		"sts");
	resolve("SSO", "eu-west-1", NULL, "https://portal.sso.eu-west-1.amazonaws.com",
		"eu-west-1", "awsssoportal");
	/* global services: one host, signed in us-east-1 whatever the region */
	resolve("CloudFront", "eu-west-1", NULL, "https://cloudfront.amazonaws.com", "us-east-1",
		"cloudfront");
	resolve("Route 53", "ap-south-1", NULL, "https://route53.amazonaws.com", "us-east-1",
		"route53");
	resolve("IAM", "eu-west-1", NULL, "https://iam.amazonaws.com", "us-east-1", "iam");
}

static void test_global_service_needs_no_region(void **state)
{
	struct aws_endpoint ep = AWS_ENDPOINT_INIT;
	struct err e = ERR_INIT;

	(void)state;
	resolve("CloudFront", NULL, NULL, "https://cloudfront.amazonaws.com", "us-east-1",
		"cloudfront");
	assert_int_equal(aws_endpoint_resolve("S3", NULL, NULL, &ep, &e), -1);
	assert_non_null(strstr(e.msg, "no AWS region configured"));
	/* the region of the profile is used when none is given */
	write_config("[default]\nregion = eu-north-1\n");
	resolve("S3", NULL, NULL, "https://s3.eu-north-1.amazonaws.com", "eu-north-1", "s3");
}

static void test_service_env_names(void **state)
{
	static const char *const pairs[][2] = {
		{ "Secrets Manager", "AWS_ENDPOINT_URL_SECRETS_MANAGER" },
		{ "Elastic Load Balancing v2", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2" },
		{ "CloudWatch Logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" },
		{ "DocDB", "AWS_ENDPOINT_URL_DOCDB" }, { "RDS", "AWS_ENDPOINT_URL_RDS" },
		{ "S3", "AWS_ENDPOINT_URL_S3" }, { "CloudFront", "AWS_ENDPOINT_URL_CLOUDFRONT" },
		{ "Route 53", "AWS_ENDPOINT_URL_ROUTE_53" }, { "STS", "AWS_ENDPOINT_URL_STS" },
		{ "ECS", "AWS_ENDPOINT_URL_ECS" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		char *n = aws_endpoint_env_name(pairs[i][0]);

		assert_string_equal(n, pairs[i][1]);
		free(n);
	}
}

static void test_endpoint_override_precedence(void **state)
{
	(void)state;
	write_config("[default]\nregion = eu-west-1\nendpoint_url = http://profile-global:1\n"
		     "services = local\n"
		     "[services local]\n"
		     "secrets_manager =\n  endpoint_url = http://services-section:2/\n"
		     "elastic_load_balancing_v2 =\n  endpoint_url = http://services-elb:3\n");
	/* 4. the profile's endpoint_url for a service not in the services section */
	resolve("ECS", NULL, NULL, "http://profile-global:1", "eu-west-1", "ecs");
	/* 3. the services section beats the profile's endpoint_url (trailing '/' dropped) */
	resolve("Secrets Manager", NULL, NULL, "http://services-section:2", "eu-west-1",
		"secretsmanager");
	resolve("Elastic Load Balancing v2", NULL, NULL, "http://services-elb:3", "eu-west-1",
		"elasticloadbalancing");
	/* 2. AWS_ENDPOINT_URL beats both */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
	resolve("Secrets Manager", NULL, NULL, "http://127.0.0.1:4566", "eu-west-1",
		"secretsmanager");
	/* 1. the service's own variable beats everything; signed in the configured region */
	setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm.local:9", 1);
	resolve("Secrets Manager", NULL, NULL, "http://sm.local:9", "eu-west-1",
		"secretsmanager");
	setenv("AWS_ENDPOINT_URL_ROUTE_53", "http://127.0.0.1:4566/r53", 1);
	resolve("Route 53", NULL, NULL, "http://127.0.0.1:4566/r53", "eu-west-1", "route53");
	resolve("CloudFront", NULL, NULL, "http://127.0.0.1:4566", "eu-west-1", "cloudfront");
}

static void test_ignore_configured_endpoint_urls(void **state)
{
	(void)state;
	write_config("[default]\nregion = eu-west-1\nendpoint_url = http://profile-global:1\n"
		     "[profile strict]\nregion = eu-west-1\nendpoint_url = http://x:1\n"
		     "ignore_configured_endpoint_urls = true\n");
	setenv("AWS_ENDPOINT_URL_S3", "http://s3.local:1", 1);
	resolve("S3", NULL, "strict", "https://s3.eu-west-1.amazonaws.com", "eu-west-1", "s3");
	resolve("S3", NULL, NULL, "http://s3.local:1", "eu-west-1", "s3");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	resolve("S3", NULL, NULL, "https://s3.eu-west-1.amazonaws.com", "eu-west-1", "s3");
	resolve("CloudFront", NULL, NULL, "https://cloudfront.amazonaws.com", "us-east-1",
		"cloudfront");
}

static void test_endpoint_errors(void **state)
{
	struct aws_endpoint ep = AWS_ENDPOINT_INIT;
	struct err e = ERR_INIT;

	(void)state;
	write_config("[default]\nregion = eu-west-1\nservices = missing\n");
	assert_int_equal(aws_endpoint_resolve("S3", NULL, NULL, &ep, &e), -1);
	assert_non_null(strstr(e.msg, "services section 'missing'"));
	write_config("[default]\nregion = eu-west-1\n");
	assert_int_equal(aws_endpoint_resolve("Nonexistent Service", NULL, NULL, &ep, &e), -1);
	assert_non_null(strstr(e.msg, "unknown AWS service 'Nonexistent Service'"));
	setenv("AWS_ENDPOINT_URL", "ftp://x", 1);
	assert_int_equal(aws_endpoint_resolve("S3", NULL, NULL, &ep, &e), -1);
	assert_string_equal(e.msg, "endpoint url 'ftp://x' from AWS_ENDPOINT_URL is not an http(s) url");
	assert_null(ep.url);
	unsetenv("AWS_ENDPOINT_URL");
	assert_int_equal(aws_endpoint_resolve("S3", "Bad_Region", NULL, &ep, &e), -1);
	assert_string_equal(e.msg, "invalid AWS region 'Bad_Region'");
}

static void test_unknown_service_with_an_override_is_usable(void **state)
{
	(void)state;
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
	resolve("Some New Service", "eu-west-1", NULL, "http://127.0.0.1:4566", "eu-west-1",
		"somenewservice");
}

static void test_ca_bundle_from_env_then_profile(void **state)
{
	char *ca, *want;

	(void)state;
	assert_null(aws_ca_bundle(NULL));
	write_config("[default]\nca_bundle = ~/certs/ca.pem\n[profile p]\nca_bundle = /etc/p.pem\n");
	ca = aws_ca_bundle(NULL);
	want = xasprintf("%s/certs/ca.pem", home);
	assert_string_equal(ca, want);
	free(ca);
	free(want);
	ca = aws_ca_bundle("p");
	assert_string_equal(ca, "/etc/p.pem");
	free(ca);
	setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
	ca = aws_ca_bundle("p");
	assert_string_equal(ca, "/env/ca.pem");
	free(ca);
}

#define T(f) cmocka_unit_test_setup(f, test_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ini_sections_nesting_comments_and_continuations),
		T(test_ini_errors_name_the_line),
		T(test_profile_names_and_file_locations),
		T(test_region_from_env_then_default_env_then_profile),
		T(test_missing_or_invalid_region_says_how_to_set_it),
		T(test_public_endpoints_regional_and_global),
		T(test_global_service_needs_no_region),
		T(test_service_env_names),
		T(test_endpoint_override_precedence),
		T(test_ignore_configured_endpoint_urls),
		T(test_endpoint_errors),
		T(test_unknown_service_with_an_override_is_usable),
		T(test_ca_bundle_from_env_then_profile),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
