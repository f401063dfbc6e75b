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

static void print_outputs(json_t *outputs)
{
	const char *key;
	json_t *v;

	json_object_foreach(outputs, key, v)
	{
		json_t *value = json_object_get(v, "value");

		if (json_is_string(value))
			printf("  %-28s %s\n", key, json_string_value(value));
	}
}

static int cmd_apply_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_apply_entry, .flags = SF_STACK };
	struct tf_run run = { 0 };
	struct tf_summary sum;
	struct buf version = BUF_INIT, outputs = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *parsed = NULL;
	int rc;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	rc = EXIT_FAILED;
	if (tf_check_tools(&sc.config, &version, &e) < 0)
		goto fail;
	stack_cmd_announce(&sc, "apply");
	run.config = &sc.config;
	run.spec = &sc.spec;
	run.shared_outputs = sc.shared_outputs;
	run.progress = stack_cmd_progress;
	if (tf_prepare(&run, &e) < 0)
		goto fail;
	if (stack_record_save(&sc.config, &sc.spec, "applying", &e) < 0)
		goto fail;
	if (tf_plan(&run, 0, &sum, &e) < 0)
		goto fail;
	stack_cmd_print_summary(&sc, &sum);
	if (tf_apply(&run, &e) < 0 || tf_output(&run, &outputs, &e) < 0)
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
	print_outputs(parsed);
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	json_decref(parsed);
	tf_run_release(&run);
	buf_release(&version);
	buf_release(&outputs);
	stack_cmd_release(&sc);
	return rc;
}
