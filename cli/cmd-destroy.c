/*
 * cmd-destroy.c: 'caliber destroy' decommissions a client's stack
 * (runbook 6).  A prod stack needs --force; the SaaSShared stack is refused
 * while tenants of it are deployed, since they run on its cluster, load
 * balancer and databases.
 */
#include "compat.h"

#include "stack-cmd.h"

static int cmd_destroy_exec(int argc, char **argv);

const struct cmd_entry cmd_destroy_entry = {
	.name = "destroy",
	.summary = "decommission a client's stack (runbook 6)",
	.usage = "usage: caliber destroy --client NAME --plan Dedicated|SaaS --env ENV --subdomain SUB\n"
		 "                       [--saas-* ...] [--force] [--config FILE]\n"
		 "\n"
		 "Destroy the stack <client>-<env>: the same flags as apply.  Take database\n"
		 "backups first.  In prod, databases and the load balancer are protected from\n"
		 "deletion: with --force, caliber first applies the stack with that protection\n"
		 "lifted, then destroys it; the databases leave final snapshots.\n"
		 "\n"
		 "  --force              required to destroy a stack in the prod environment\n"
		 "\n"
		 "Exit status: 0 destroyed, 1 failed (run it again to converge), 2 usage error\n"
		 "(nothing was changed).\n",
	.exec = cmd_destroy_exec,
};

static int cmd_destroy_check(struct stack_cmd *sc, struct err *e)
{
	struct buf tenants = BUF_INIT;
	int n;

	if (!strcmp(sc->env->name, "prod") && !sc->force)
		return err_usage(e, "'%s' is a prod stack; destroying it needs --force (take "
				    "database backups first)",
			sc->spec.name);
	if (!tenant_is_shared(sc->client))
		return 0;
	n = stack_saas_tenants(&sc->config, sc->env->name, &tenants, e);
	if (n > 0)
		err_usage(e, "SaaSShared in '%s' still has %d tenant%s (%s) running on it; destroy "
			     "them first",
			sc->env->name, n, n == 1 ? "" : "s", tenants.data);
	buf_release(&tenants);
	return n == 0 ? 0 : -1;
}

static int cmd_destroy_exec(int argc, char **argv)
{
	struct stack_cmd sc = { .entry = &cmd_destroy_entry,
		.flags = SF_STACK | SF_FORCE,
		.check = cmd_destroy_check };
	struct tf_summary sum;
	struct err e = ERR_INIT;
	int rc;

	rc = stack_cmd_parse(&sc, argc, argv);
	if (rc != EXIT_OK) {
		rc = rc < 0 ? EXIT_OK : rc;
		goto out;
	}
	sc.run.allow_destroy = 1;
	if (stack_cmd_start(&sc, "destroy", &e) < 0 ||
		stack_record_save(&sc.config, &sc.spec, "destroying", &e) < 0)
		goto fail;
	if (!strcmp(sc.env->name, "prod")) {
		/*
		 * prod databases and load balancers refuse deletion: lift that
		 * with an apply first (--force said so); final snapshots stay.
		 */
		printf("lifting deletion protection of %s (--force)\n", sc.spec.name);
		if (tf_plan(&sc.run, 0, &sum, &e) < 0 || tf_apply(&sc.run, &e) < 0)
			goto fail;
	}
	if (tf_plan(&sc.run, 1, &sum, &e) < 0)
		goto fail;
	stack_cmd_print_summary(&sc, &sum);
	if (tf_apply(&sc.run, &e) < 0 ||
		stack_outputs_save(&sc.config, sc.spec.name, NULL, &e) < 0 ||
		stack_record_save(&sc.config, &sc.spec, "destroyed", &e) < 0)
		goto fail;
	printf("destroyed %s\n", sc.spec.name);
	rc = EXIT_OK;
	goto out;
fail:
	rc = err_print(&e);
out:
	stack_cmd_release(&sc);
	return rc;
}
