/*
 * cmd-init.c: 'caliber init' checks that this machine can provision: the
 * configuration parses, Terraform runs, the provider mirror is there (no
 * download ever), and infra/ validates.  Per-stack 'terraform init' happens
 * in plan/apply, in each stack's own directory.
 */
#include "compat.h"

#include "stack-cmd.h"

static int cmd_init_exec(int argc, char **argv);

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.summary = "check the configuration, Terraform and its provider mirror (runbook 1.1)",
	.usage = "usage: caliber init [--env ENV] [--config FILE]\n"
		 "\n"
		 "Check caliber.conf (and the environment ENV if given), that Terraform and\n"
		 "the provider mirror are present, and validate the Terraform configuration.\n"
		 "\n"
		 "Exit status: 0 ready, 1 something is missing, 2 usage error.\n",
	.exec = cmd_init_exec,
};

static int cmd_init_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_init_entry, .flags = SF_ENV };
	struct buf version = BUF_INIT;
	struct err e = ERR_INIT;
	int rc, i;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	rc = EXIT_FAILED;
	printf("configuration: %s\n", sc.config.path);
	for (i = 0; i < sc.config.n_envs; i++) {
		const struct env_config *env = &sc.config.envs[i];

		if (sc.env && env != sc.env)
			continue;
		printf("  env %-6s cloud %s, region %s, domain %s, state %s\n", env->name,
			cloud_name(env->cloud), env->region, env->domain, env->state_backend);
	}
	if (tf_check_tools(&sc.config, &version, &e) < 0)
		goto fail;
	printf("terraform: %s (providers from %s)\n", version.data, sc.config.plugin_dir);
	if (stack_mkdirs(sc.config.state_dir, &e) < 0 || tf_validate(&sc.config, &e) < 0)
		goto fail;
	printf("infra: %s is valid\nstate: %s\nready\n", sc.config.infra_dir, sc.config.state_dir);
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	buf_release(&version);
	stack_cmd_release(&sc);
	return rc;
}
