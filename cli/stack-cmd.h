/*
 * stack-cmd.h: what init, plan, apply, destroy and outputs share: the
 * runbook's flags, their validation (all of it before anything is created
 * or run), and printing a plan summary.
 */
#ifndef CALIBER_STACK_CMD_H
#define CALIBER_STACK_CMD_H

#include <jansson.h>

#include "cmd.h"
#include "config.h"
#include "stack.h"
#include "terraform.h"

/* Which flags a command takes. */
enum {
	SF_STACK = 1 << 0,	/* --client --plan --env --subdomain --saas-* (required) */
	SF_OFFLINE = 1 << 1,	/* --offline --json FILE */
	SF_FORCE = 1 << 2,	/* --force */
	SF_CLIENT_ENV = 1 << 3,	/* --client --env only (outputs), --json */
	SF_ENV = 1 << 4,	/* --env (optional) */
};

struct stack_cmd {
	const struct cmd_entry *entry;
	unsigned flags;
	const char *config_path;
	const char *client, *plan, *env_name, *subdomain;
	const char *json_path;
	int offline, force, json;
	struct config config;
	const struct env_config *env;
	struct stack_spec spec;
	json_t *shared_outputs;	/* a SaaS tenant's SaaSShared outputs, owned */
	/* a command's own checks, run last by stack_cmd_parse (destroy's) */
	int (*check)(struct stack_cmd *sc, struct err *e);
	struct tf_run run;	/* set up by stack_cmd_start */
	char *tf_env[16];	/* credentials for Terraform, owned, wiped on release */
	/* temporary credentials: served to Terraform, refreshed while it runs */
	struct credserver *credserver;
};

/*
 * Parse argv and validate everything that can be validated without
 * running Terraform.  Returns EXIT_OK to go on, or the exit code to stop
 * with (EXIT_OK for --help is returned as -1: stop, successfully).
 */
int stack_cmd_parse(struct stack_cmd *sc, int argc, char **argv);
void stack_cmd_release(struct stack_cmd *sc);

/*
 * What plan, apply and destroy do before their Terraform step: check the
 * tools, say what is about to happen on which cloud, and prepare the
 * stack's working directory (taking its lock).
 */
int stack_cmd_start(struct stack_cmd *sc, const char *verb, struct err *e);

/*
 * On AWS (not offline): resolve credentials before Terraform starts and
 * hand them to it; when none are found, e lists the sources tried.
 */
int stack_cmd_credentials(struct stack_cmd *sc, const char *verb, struct err *e);

/* The string outputs of 'terraform output -json' text, one per line. */
void stack_cmd_print_outputs(json_t *outputs, const char *indent);

/* "caliber: <verb> <stack> (<plan>) on <cloud> ..." before anything changes. */
void stack_cmd_announce(const struct stack_cmd *sc, const char *verb);
/* Sorts sum's types by name. */
void stack_cmd_print_summary(const struct stack_cmd *sc, struct tf_summary *sum);
void stack_cmd_progress(const char *line, void *ctx);

#endif
