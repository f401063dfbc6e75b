/*
 * cmd-apply.c: 'caliber apply' creates or updates one client's stack.
 *
 * The stack's record is written before Terraform starts ("applying"), so an
 * interrupted apply is visible and running the same command again
 * converges; the outputs are saved after it succeeds, which is what marks
 * the stack deployed for the commands that follow (seed-secrets, tenants
 * of SaaSShared).
 */
#include "compat.h"

#include "stack-cmd.h"

static int cmd_apply_exec(int argc, char **argv);

const struct cmd_entry cmd_apply_entry = {
	.name = "apply",
	.summary = "create or update a client's stack (runbook 1, 5)",
	.usage = "usage: caliber apply --client NAME --plan Dedicated|SaaS --env ENV --subdomain SUB\n"
		 "                     [--saas-docdb-uri URI --saas-rds-endpoint HOST:PORT\n"
		 "                      --saas-api-lb-dns DNS --saas-api-lb-zone ZONEID]\n"
		 "                     [--config FILE]\n"
		 "\n"
		 "Plan and apply the stack <client>-<env>, then save its outputs.\n"
		 "The flags are those of 'caliber plan' (see 'caliber plan --help').\n"
		 "\n"
		 "Exit status: 0 applied, 1 failed (run it again to converge), 2 usage error\n"
		 "(nothing was changed).\n",
	.exec = cmd_apply_exec,
};

static int cmd_apply_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_apply_entry, .flags = SF_STACK };
	struct tf_summary sum;
	struct buf outputs = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *parsed = NULL;
	int rc;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	if (stack_cmd_start(&sc, "apply", &e) < 0 ||
		stack_record_save(&sc.config, &sc.spec, "applying", &e) < 0 ||
		tf_plan(&sc.run, 0, &sum, &e) < 0)
		goto fail;
	stack_cmd_print_summary(&sc, &sum);
	if (tf_apply(&sc.run, &e) < 0 || tf_output(&sc.run, &outputs, &e) < 0)
		goto fail;
	parsed = json_loads(buf_str(&outputs), 0, NULL);
	if (!json_is_object(parsed)) {
		err_set(&e, "terraform output -json printed something that is not a JSON object");
		goto fail;
	}
	if (stack_outputs_save(&sc.config, sc.spec.name, outputs.data, &e) < 0 ||
		stack_record_save(&sc.config, &sc.spec, "applied", &e) < 0)
		goto fail;
	printf("applied %s; outputs:\n", sc.spec.name);
	stack_cmd_print_outputs(parsed, "  ");
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	json_decref(parsed);
	buf_release(&outputs);
	stack_cmd_release(&sc);
	return rc;
}
