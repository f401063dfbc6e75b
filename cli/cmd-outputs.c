/*
 * cmd-outputs.c: 'caliber outputs' prints a deployed stack's outputs (from
 * 'terraform output -json', the same keys the local cloud will give) and
 * refreshes caliber's copy of them.
 */
#include "compat.h"

#include "stack-cmd.h"

static int cmd_outputs_exec(int argc, char **argv);

const struct cmd_entry cmd_outputs_entry = {
	.name = "outputs",
	.summary = "print a deployed stack's outputs",
	.usage = "usage: caliber outputs --client NAME --env ENV [--json] [--config FILE]\n"
		 "\n"
		 "Print the outputs of the stack <client>-<env> (documentdb_uri,\n"
		 "postgresql_endpoint, api_endpoint, frontend_url, hosted_zone_id, ...).\n"
		 "\n"
		 "  --json               print them as 'terraform output -json' does\n"
		 "\n"
		 "Exit status: 0 printed, 1 failed or not deployed, 2 usage error.\n",
	.exec = cmd_outputs_exec,
};

static int cmd_outputs_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_outputs_entry, .flags = SF_CLIENT_ENV };
	struct stack_record rec = { 0 };
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	json_t *parsed = NULL;
	int rc, had;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	rc = EXIT_FAILED;
	had = stack_record_load(&sc.config, sc.spec.name, &rec, &e);
	if (had < 0)
		goto fail;
	if (had == 0 || !strcmp(rec.status, "destroyed")) {
		err_set(&e, "stack '%s' is not deployed (no record under '%s/stacks'); run "
			    "'caliber apply' for it first",
			sc.spec.name, sc.config.state_dir);
		goto fail;
	}
	if (plan_parse(rec.plan, &sc.spec.plan, &e) < 0)
		goto fail;
	sc.spec.subdomain = rec.subdomain;
	sc.run.config = &sc.config;
	sc.run.spec = &sc.spec;
	if (sc.env->cloud == CLOUD_AWS && stack_cmd_credentials(&sc, "read the outputs of", &e) < 0)
		goto fail;
	if (tf_prepare(&sc.run, &e) < 0 || tf_output(&sc.run, &out, &e) < 0)
		goto fail;
	parsed = json_loads(buf_str(&out), 0, NULL);
	if (!json_is_object(parsed)) {
		err_set(&e, "terraform output -json printed something that is not a JSON object");
		goto fail;
	}
	if (json_object_size(parsed) == 0) {
		err_set(&e, "stack '%s' has no outputs: its last apply did not finish (status "
			    "'%s'); run 'caliber apply' again",
			sc.spec.name, rec.status);
		goto fail;
	}
	if (stack_outputs_save(&sc.config, sc.spec.name, out.data, &e) < 0)
		goto fail;
	if (sc.json)
		fputs(out.data, stdout);
	else
		stack_cmd_print_outputs(parsed, "");
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	json_decref(parsed);
	stack_record_release(&rec);
	buf_release(&out);
	stack_cmd_release(&sc);
	return rc;
}
