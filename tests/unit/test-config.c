/*
 * test-config.c: caliber.conf parsing, defaults, and errors that name the
 * file, the section and the value.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "config.h"

static char config_path[] = "/tmp/caliber-test-config-XXXXXX";

static const char *write_config(const char *text)
{
	FILE *f = fopen(config_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return config_path;
}

#define ENV_OK                                                                                     \
	"cloud = aws\nregion = eu-west-1\nhosted_zone_id = Z123\n"                                 \
	"availability_zones = eu-west-1a,eu-west-1b\napi_image = img:1\n"

static void test_the_repository_config_defines_stg_and_prod_on_aws(void **state)
{
	struct config c;
	struct err e = ERR_INIT;
	const struct env_config *stg, *prod;

	(void)state;
	assert_int_equal(config_load(&c, "caliber.conf", &e), 0);
	stg = config_env(&c, "stg", &e);
	prod = config_env(&c, "prod", &e);
	assert_non_null(stg);
	assert_non_null(prod);
	assert_int_equal(stg->cloud, CLOUD_AWS);
	assert_string_equal(stg->domain, "hicaliber.net");
	/* prod is larger and multi-AZ, stg cheap */
	assert_true(prod->api_desired_count > stg->api_desired_count);
	assert_true(prod->docdb_instance_count > stg->docdb_instance_count);
	assert_true(prod->rds_multi_az);
	assert_false(stg->rds_multi_az);
	assert_true(c.state_dir[0] == '/' && c.infra_dir[0] == '/');
	config_release(&c);
}

static void test_values_default_and_paths_are_relative_to_the_file(void **state)
{
	struct config c;
	struct err e = ERR_INIT;
	const struct env_config *env;

	(void)state;
	assert_int_equal(config_load(&c, write_config("[caliber]\nstate_dir = st\n[env \"qa\"]\n" ENV_OK),
				 &e),
		0);
	env = config_env(&c, "qa", &e);
	assert_non_null(env);
	assert_string_equal(env->domain, "hicaliber.net");
	assert_string_equal(env->region, "eu-west-1");
	assert_string_equal(env->state_backend, "local");
	assert_string_equal(c.state_dir, "/tmp/st");
	config_release(&c);
}

static void test_unknown_environment_lists_the_known_ones(void **state)
{
	struct config c;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(config_load(&c, write_config("[env \"stg\"]\n" ENV_OK "[env \"prod\"]\n" ENV_OK),
				 &e),
		0);
	assert_null(config_env(&c, "qa", &e));
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "'qa'"));
	assert_non_null(strstr(e.msg, "'stg', 'prod'"));
	config_release(&c);
}

static void check_refused(const char *text, const char *expect)
{
	struct config c;
	struct err e = ERR_INIT;

	assert_int_equal(config_load(&c, write_config(text), &e), -1);
	assert_true(e.usage);
	if (strstr(e.msg, expect) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, expect);
}

static void test_bad_values_are_refused_with_the_value(void **state)
{
	(void)state;
	check_refused("[env \"stg\"]\n" ENV_OK "cloud = gcp\n", "'gcp'");
	check_refused("[env \"stg\"]\n" ENV_OK "api_cpu = lots\n", "'lots'");
	check_refused("[env \"stg\"]\n" ENV_OK "api_cpu = 64\n", "256");
	check_refused("[env \"stg\"]\n" ENV_OK "rds_multi_az = maybe\n", "'maybe'");
	check_refused("[env \"stg\"]\n" ENV_OK "colour = blue\n", "unknown key 'colour'");
	check_refused("[env \"stg\"]\n" ENV_OK "state_backend = gs://x\n", "'gs://x'");
	check_refused("[env \"stg\"]\n" ENV_OK "availability_zones = a\n", "two zones");
	check_refused("[env \"Stg\"]\n" ENV_OK, "'Stg'");
	check_refused("[cloud]\nx = 1\n", "unknown section");
	check_refused("[caliber]\nterraform = terraform\n", "no environments");
	check_refused("[env \"stg\"]\nthis line is wrong\n", ":2:");
}

static void test_missing_file_named_by_flag_is_a_usage_error(void **state)
{
	struct config c;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(config_load(&c, "/nonexistent/caliber.conf", &e), -1);
	assert_true(e.usage);
	assert_non_null(strstr(e.msg, "/nonexistent/caliber.conf"));
}

static int setup(void **state)
{
	int fd = mkstemp(config_path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	unsetenv("CALIBER_STATE_DIR");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(config_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_repository_config_defines_stg_and_prod_on_aws),
		cmocka_unit_test(test_values_default_and_paths_are_relative_to_the_file),
		cmocka_unit_test(test_unknown_environment_lists_the_known_ones),
		cmocka_unit_test(test_bad_values_are_refused_with_the_value),
		cmocka_unit_test(test_missing_file_named_by_flag_is_a_usage_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
