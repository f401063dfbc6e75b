/*
 * cmd-plan.c: 'caliber plan' shows what apply would change for one stack.
 *
 * With --offline it plans with no credentials, no network and an empty
 * state (the provider's checks are switched off by an override file), so
 * the whole topology of a stack kind can be reviewed and tested anywhere;
 * --json FILE writes that plan as 'terraform show -json' prints it.
 */
#include "compat.h"

#include "stack-cmd.h"

static int cmd_plan_exec(int argc, char **argv);

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.summary = "show what apply would create, change or destroy for a stack",
	.usage = "usage: caliber plan --client NAME --plan Dedicated|SaaS --env ENV --subdomain SUB\n"
		 "                    [--saas-docdb-uri URI --saas-rds-endpoint HOST:PORT\n"
		 "                     --saas-api-lb-dns DNS --saas-api-lb-zone ZONEID]\n"
		 "                    [--offline [--json FILE]] [--config FILE]\n"
		 "\n"
		 "Plan the stack <client>-<env> with Terraform and print a summary.\n"
		 "\n"
		 "  --client NAME        client name (letters, digits, '-'); SaaSShared is the shared\n"
		 "                       SaaS stack\n"
		 "  --plan PLAN          Dedicated (own VPC, databases, cluster, load balancer) or SaaS\n"
		 "  --env ENV            an environment of caliber.conf (stg, prod, ...)\n"
		 "  --subdomain SUB      API at SUB.<domain>, frontend at www.SUB.<domain>\n"
		 "  --saas-*             a SaaS tenant's shared endpoints (the SaaSShared outputs\n"
		 "                       documentdb_uri, postgresql_endpoint, api_endpoint,\n"
		 "                       hosted_zone_id); read from the deployed SaaSShared stack when\n"
		 "                       left out, and checked against it when given\n"
		 "  --offline            no credentials, no network, empty state\n"
		 "  --json FILE          with --offline: write the plan as 'terraform show -json'\n"
		 "  --config FILE        configuration (default: $CALIBER_CONFIG, ./caliber.conf)\n"
		 "\n"
		 "Exit status: 0 planned, 1 failed, 2 usage error (nothing was changed).\n",
	.exec = cmd_plan_exec,
};

static int cmd_plan_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_plan_entry, .flags = SF_STACK | SF_OFFLINE };
	struct tf_summary sum;
	struct err e = ERR_INIT;
	int rc;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	if (stack_cmd_start(&sc, "plan", &e) < 0 || tf_plan(&sc.run, 0, &sum, &e) < 0)
		goto fail;
	stack_cmd_print_summary(&sc, &sum);
	if (sc.json_path) {
		if (tf_show_json(&sc.run, sc.json_path, &e) < 0)
			goto fail;
		printf("plan written to %s\n", sc.json_path);
	}
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	stack_cmd_release(&sc);
	return rc;
}
