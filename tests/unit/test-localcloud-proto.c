/*
 * test-localcloud-proto.c: what caliberd reads from a request before any
 * handler runs: percent-decoding, form bodies, the SigV4 credential scope
 * and REST path patterns (lib/localcloud/proto.c).
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "localcloud/proto.h"

static void test_decode_handles_escapes_plus_and_broken_escapes(void **state)
{
	size_t n = 0;
	char *s;

	(void)state;
	s = lcproto_decode("a%2Fb%20c+d", 11, 1, &n);
	assert_string_equal(s, "a/b c d");
	free(s);
	s = lcproto_decode("a+b", 3, 0, NULL);
	assert_string_equal(s, "a+b");
	free(s);
	/* a '%' without two hex digits stays as it is, even at the very end */
	s = lcproto_decode("100%", 4, 0, NULL);
	assert_string_equal(s, "100%");
	free(s);
	s = lcproto_decode("%zz%4", 5, 0, NULL);
	assert_string_equal(s, "%zz%4");
	free(s);
	s = lcproto_decode("x%00y", 5, 0, &n);
	assert_int_equal(n, 3);
	assert_int_equal(s[1], '\0');
	free(s);
}

static void test_form_body_is_split_into_decoded_pairs(void **state)
{
	struct lc_param *p = NULL;
	size_t n = 0;
	const char *body = "Action=DescribeDBInstances&Version=2014-10-31&Filters.member.1.Name="
			   "db-instance-id&flag&&Name=a%26b+c";

	(void)state;
	assert_int_equal(lcproto_form_parse(body, strlen(body), 100, &p, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(lc_params_get(p, n, "Action"), "DescribeDBInstances");
	assert_string_equal(lc_params_get(p, n, "Filters.member.1.Name"), "db-instance-id");
	assert_string_equal(lc_params_get(p, n, "flag"), "");
	assert_string_equal(lc_params_get(p, n, "Name"), "a&b c");
	assert_null(lc_params_get(p, n, "action"));
	lc_params_free(p, n);
}

static void test_form_with_too_many_pairs_is_refused(void **state)
{
	struct lc_param *p = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(lcproto_form_parse("a=1&b=2&c=3", 11, 2, &p, &n), -1);
	assert_int_equal(n, 2);
	lc_params_free(p, n);
}

static void test_scope_is_read_from_header_and_presigned_credential(void **state)
{
	char key[129], region[64], service[64];

	(void)state;
	assert_int_equal(lcproto_scope_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/"
					     "eu-west-1/secretsmanager/aws4_request, SignedHeaders="
					     "host;x-amz-date, Signature=abc",
				 key, sizeof(key), region, sizeof(region), service, sizeof(service)),
		0);
	assert_string_equal(key, "AKIDEXAMPLE");
	assert_string_equal(region, "eu-west-1");
	assert_string_equal(service, "secretsmanager");
	assert_int_equal(lcproto_scope_parse("AKID/20260101/us-east-1/s3/aws4_request", key,
				 sizeof(key), region, sizeof(region), service, sizeof(service)),
		0);
	assert_string_equal(service, "s3");
}

static void test_incomplete_or_oversized_scopes_are_refused(void **state)
{
	char key[129], region[8], service[64];

	(void)state;
	assert_int_equal(lcproto_scope_parse("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1",
				 key, sizeof(key), region, sizeof(region), service, sizeof(service)),
		-1);
	assert_int_equal(lcproto_scope_parse("Credential=AKID/20260101/us-east-1/s3/other", key,
				 sizeof(key), region, sizeof(region), service, sizeof(service)),
		-1);
	assert_int_equal(lcproto_scope_parse("Credential=AKID/20260101//s3/aws4_request", key,
				 sizeof(key), region, sizeof(region), service, sizeof(service)),
		-1);
	/* region longer than the caller's buffer */
	assert_int_equal(lcproto_scope_parse("Credential=AKID/20260101/ap-southeast-2/s3/"
					     "aws4_request",
				 key, sizeof(key), region, sizeof(region), service, sizeof(service)),
		-1);
	assert_int_equal(lcproto_scope_parse("", key, sizeof(key), region, sizeof(region), service,
				 sizeof(service)),
		-1);
}

static void test_path_patterns_capture_one_segment_or_the_rest(void **state)
{
	struct lc_param p[8];
	size_t n = 0;

	(void)state;
	memset(p, 0, sizeof(p));
	assert_int_equal(lcproto_path_match("/{Bucket}/{Key+}", "/site/assets/app%20v2.js", p, 8, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(lc_params_get(p, n, "Bucket"), "site");
	assert_string_equal(lc_params_get(p, n, "Key"), "assets/app v2.js");
	while (n > 0) {
		n--;
		free(p[n].name);
		free(p[n].value);
	}
	assert_int_equal(lcproto_path_match("/{Bucket}", "/site", p, 8, &n), 1);
	assert_string_equal(p[0].value, "site");
	free(p[0].name);
	free(p[0].value);
	n = 0;
	assert_int_equal(lcproto_path_match("/2020-05-31/distribution/{Id}/invalidation",
				 "/2020-05-31/distribution/E123/invalidation", p, 8, &n),
		1);
	assert_string_equal(p[0].value, "E123");
	free(p[0].name);
	free(p[0].value);
	n = 0;
}

static void test_paths_that_do_not_fit_leave_no_captures(void **state)
{
	struct lc_param p[8];
	size_t n = 0;

	(void)state;
	memset(p, 0, sizeof(p));
	assert_int_equal(lcproto_path_match("/{Bucket}", "/site/key", p, 8, &n), 0);
	assert_int_equal(lcproto_path_match("/{Bucket}/{Key+}", "/site/", p, 8, &n), 0);
	assert_int_equal(lcproto_path_match("/{Bucket}/{Key+}", "/site", p, 8, &n), 0);
	assert_int_equal(lcproto_path_match("/{Bucket}", "/", p, 8, &n), 0);
	assert_int_equal(lcproto_path_match("/2020-05-31/distribution/{Id}", "/2019-01-01/x", p, 8,
				 &n),
		0);
	assert_int_equal(n, 0);
	/* no room for captures: no match */
	assert_int_equal(lcproto_path_match("/{Bucket}", "/site", p, 0, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_handles_escapes_plus_and_broken_escapes),
		cmocka_unit_test(test_form_body_is_split_into_decoded_pairs),
		cmocka_unit_test(test_form_with_too_many_pairs_is_refused),
		cmocka_unit_test(test_scope_is_read_from_header_and_presigned_credential),
		cmocka_unit_test(test_incomplete_or_oversized_scopes_are_refused),
		cmocka_unit_test(test_path_patterns_capture_one_segment_or_the_rest),
		cmocka_unit_test(test_paths_that_do_not_fit_leave_no_captures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
