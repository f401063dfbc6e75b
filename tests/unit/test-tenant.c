/*
 * test-tenant.c: the naming rules and the checks on every flag value.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "tenant.h"

static void test_slug_is_the_lower_cased_client_name(void **state)
{
	char slug[64];

	(void)state;
	tenant_slug("Acme", slug, sizeof(slug));
	assert_string_equal(slug, "acme");
	tenant_slug("SaaSShared", slug, sizeof(slug));
	assert_string_equal(slug, "saasshared");
	tenant_slug("Big-Co-2", slug, sizeof(slug));
	assert_string_equal(slug, "big-co-2");
}

static void test_client_names_with_letters_digits_and_hyphens_are_accepted(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_client_check("Acme", "stg", &e), 0);
	assert_int_equal(tenant_client_check("NewTenant", "prod", &e), 0);
	assert_int_equal(tenant_client_check("a-b-9", "stg", &e), 0);
}

static void test_empty_client_name_is_a_usage_error(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_client_check("", "stg", &e), -1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "empty"));
}

static void test_client_name_with_other_characters_names_the_character(void **state)
{
	static const char *const bad[] = { "Ac me", "acme_co", "acme.co", "acmé", "a/b", "x;y" };
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		assert_int_equal(tenant_client_check(bad[i], "stg", &e), -1);
		assert_true(e.usage);
		assert_non_null(strstr(e.msg, bad[i]));
		assert_non_null(strstr(e.msg, "letters, digits"));
	}
}

static void test_client_name_with_leading_trailing_or_double_hyphen_is_refused(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_client_check("-acme", "stg", &e), -1);
	assert_int_equal(tenant_client_check("acme-", "stg", &e), -1);
	assert_int_equal(tenant_client_check("ac--me", "stg", &e), -1);
}

static void test_client_name_limit_keeps_load_balancer_names_within_32(void **state)
{
	struct err e = ERR_INIT;
	char name[64];
	size_t max = tenant_client_max("stg");

	(void)state;
	/* "<slug>-stg-alb" is exactly 32 at the limit */
	assert_int_equal(max + strlen("-stg") + TENANT_NAME_SUFFIX_MAX, TENANT_AWS_NAME_MAX);
	memset(name, 'a', max);
	name[max] = '\0';
	assert_int_equal(tenant_client_check(name, "stg", &e), 0);
	name[max] = 'a';
	name[max + 1] = '\0';
	assert_int_equal(tenant_client_check(name, "stg", &e), -1);
	assert_non_null(strstr(e.msg, "32"));
	/* a longer environment name leaves less room */
	assert_int_equal(tenant_client_max("prod"), max - 1);
}

static void test_plan_names_are_exact(void **state)
{
	struct err e = ERR_INIT;
	enum plan p;

	(void)state;
	assert_int_equal(plan_parse("Dedicated", &p, &e), 0);
	assert_int_equal(p, PLAN_DEDICATED);
	assert_int_equal(plan_parse("SaaS", &p, &e), 0);
	assert_int_equal(p, PLAN_SAAS);
	assert_int_equal(plan_parse("saas", &p, &e), -1);
	assert_non_null(strstr(e.msg, "'saas'"));
	assert_int_equal(plan_parse("Gold", &p, &e), -1);
}

static void test_saas_shared_only_with_the_saas_plan(void **state)
{
	struct saas_endpoints none = { 0 };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_plan_check("SaaSShared", PLAN_SAAS, &none, &e), 0);
	assert_int_equal(tenant_plan_check("SaaSShared", PLAN_DEDICATED, &none, &e), -1);
	assert_non_null(strstr(e.msg, "--plan SaaS"));
	/* another spelling of the reserved name is refused too */
	assert_int_equal(tenant_plan_check("saasshared", PLAN_SAAS, &none, &e), -1);
	assert_non_null(strstr(e.msg, "reserved"));
}

static void test_saas_flags_are_refused_for_dedicated_and_for_the_shared_stack(void **state)
{
	struct saas_endpoints one = { .lb_zone = "Z1" };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_plan_check("Acme", PLAN_DEDICATED, &one, &e), -1);
	assert_non_null(strstr(e.msg, "--saas-*"));
	assert_int_equal(tenant_plan_check("SaaSShared", PLAN_SAAS, &one, &e), -1);
	assert_int_equal(tenant_plan_check("NewTenant", PLAN_SAAS, &one, &e), 0);
}

static void test_subdomain_must_be_one_lower_case_dns_label(void **state)
{
	static const char *const bad[] = { "", "-acme", "acme-", "ac.me", "ac_me", "Acme",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(tenant_subdomain_check("acme", &e), 0);
	assert_int_equal(tenant_subdomain_check("customer1", &e), 0);
	assert_int_equal(tenant_subdomain_check("saas-api", &e), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		assert_int_equal(tenant_subdomain_check(bad[i], &e), -1);
		assert_true(e.usage);
		assert_non_null(strstr(e.msg, bad[i]));
	}
}

static void test_docdb_uri_must_be_mongodb_without_credentials(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri",
				 "mongodb://saasshared-stg.cluster-abc.ap-southeast-2.docdb."
				 "amazonaws.com:27017/?tls=true&replicaSet=rs0",
				 &e),
		0);
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri", "mongodb://a.b:27017,c.d:27017", &e),
		0);
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri", "http://a.b", &e), -1);
	assert_non_null(strstr(e.msg, "mongodb://"));
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri", "mongodb://", &e), -1);
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri", "mongodb://bad_host:1", &e), -1);
	assert_int_equal(tenant_docdb_uri_check("--saas-docdb-uri", "mongodb://u:hunter2@a.b:27017", &e),
		-1);
	/* the message must not repeat what may be a password */
	assert_null(strstr(e.msg, "hunter2"));
}

static void test_rds_endpoint_must_be_host_and_port(void **state)
{
	static const char *const bad[] = { "a.b", "a.b:", "a.b:0", "a.b:65536", "a.b:54x", ":5432",
		"a_b.c:5432", "a.b:-1" };
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(tenant_host_port_check("--saas-rds-endpoint",
				 "saasshared-stg.abc.ap-southeast-2.rds.amazonaws.com:5432", &e),
		0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear(&e);
		assert_int_equal(tenant_host_port_check("--saas-rds-endpoint", bad[i], &e), -1);
		assert_non_null(strstr(e.msg, "HOST:PORT"));
	}
}

static void test_lb_dns_must_be_a_dns_name(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_dns_name_check("--saas-api-lb-dns",
				 "saasshared-stg-alb-123.ap-southeast-2.elb.amazonaws.com", &e),
		0);
	assert_int_equal(tenant_dns_name_check("--saas-api-lb-dns", "localhost", &e), -1);
	assert_int_equal(tenant_dns_name_check("--saas-api-lb-dns", "https://a.b", &e), -1);
	assert_int_equal(tenant_dns_name_check("--saas-api-lb-dns", "a..b", &e), -1);
}

static void test_lb_zone_must_be_a_hosted_zone_id(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_zone_id_check("--saas-api-lb-zone", "Z1GM3OXH4ZPM65", &e), 0);
	assert_int_equal(tenant_zone_id_check("--saas-api-lb-zone", "z1gm3oxh4zpm65", &e), -1);
	assert_int_equal(tenant_zone_id_check("--saas-api-lb-zone", "ABC", &e), -1);
	assert_int_equal(tenant_zone_id_check("--saas-api-lb-zone", "Z", &e), -1);
	assert_int_equal(tenant_zone_id_check("--saas-api-lb-zone", "Z12-3", &e), -1);
}

static void test_saas_flags_come_all_four_or_none(void **state)
{
	struct saas_endpoints none = { 0 };
	struct saas_endpoints all = { "mongodb://a.b", "a.b:5432", "a.b", "Z1" };
	struct saas_endpoints two = { .docdb_uri = "mongodb://a.b", .lb_zone = "Z1" };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tenant_saas_given(&none, &e), 0);
	assert_int_equal(tenant_saas_given(&all, &e), 1);
	assert_int_equal(tenant_saas_given(&two, &e), -1);
	assert_non_null(strstr(e.msg, "--saas-rds-endpoint"));
	assert_non_null(strstr(e.msg, "--saas-api-lb-dns"));
	assert_null(strstr(e.msg, "--saas-api-lb-zone"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug_is_the_lower_cased_client_name),
		cmocka_unit_test(test_client_names_with_letters_digits_and_hyphens_are_accepted),
		cmocka_unit_test(test_empty_client_name_is_a_usage_error),
		cmocka_unit_test(test_client_name_with_other_characters_names_the_character),
		cmocka_unit_test(test_client_name_with_leading_trailing_or_double_hyphen_is_refused),
		cmocka_unit_test(test_client_name_limit_keeps_load_balancer_names_within_32),
		cmocka_unit_test(test_plan_names_are_exact),
		cmocka_unit_test(test_saas_shared_only_with_the_saas_plan),
		cmocka_unit_test(test_saas_flags_are_refused_for_dedicated_and_for_the_shared_stack),
		cmocka_unit_test(test_subdomain_must_be_one_lower_case_dns_label),
		cmocka_unit_test(test_docdb_uri_must_be_mongodb_without_credentials),
		cmocka_unit_test(test_rds_endpoint_must_be_host_and_port),
		cmocka_unit_test(test_lb_dns_must_be_a_dns_name),
		cmocka_unit_test(test_lb_zone_must_be_a_hosted_zone_id),
		cmocka_unit_test(test_saas_flags_come_all_four_or_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
