/*
 * terraform.h: running Terraform for one stack.
 *
 * Each stack gets its own working directory (<stack dir>/tf, or
 * <stack dir>/offline for offline plans) holding a symlink to every
 * top-level entry of infra/ (its *.tf files and modules/), a generated
 * backend.tf (local state in that directory, or the S3 key
 * caliber/<slug>/<env>/terraform.tfstate with S3-native locking), the
 * stack's variables in caliber.auto.tfvars.json and, offline, a link to
 * infra/offline/provider_override.tf.  Stacks never share a directory, so
 * two stacks can be planned at once.  'terraform init' uses only the
 * provider mirror (-plugin-dir) and is skipped when nothing it depends on
 * changed since the last one.
 *
 * Terraform runs with -json; its machine-readable messages are turned into
 * a summary and short progress lines for the caller to print.
 */
#ifndef CALIBER_TERRAFORM_H
#define CALIBER_TERRAFORM_H

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "stack.h"

#define TF_TYPES_MAX 128

struct tf_type_count {
	char type[64];
	int add, change, destroy;
};

struct tf_summary {
	int add, change, destroy;
	struct tf_type_count types[TF_TYPES_MAX];
	int n_types;
};

struct tf_run {
	const struct config *config;
	const struct stack_spec *spec;
	json_t *shared_outputs;	/* a tenant's SaaSShared outputs (borrowed), or NULL */
	int offline;
	/* extra environment for terraform, as spawn_opts.env_add (credentials) */
	const char *const *env_add;
	/*
	 * Credentials were resolved by caliber and reach Terraform through
	 * env_add: the provider must not pick a profile of its own.
	 */
	int credentials_in_env;
	/* lift deletion protection (the allow_destroy variable): destroy only */
	int allow_destroy;
	/* progress lines (resource created, warnings) */
	void (*progress)(const char *line, void *ctx);
	void *ctx;
	struct buf dir;		/* the working directory, set by tf_prepare */
	char *cli_config_env;	/* "TF_CLI_CONFIG_FILE=...", owned */
	int lock_fd;		/* its lock, held from tf_prepare to tf_run_release; 0 = none */
};

/* Check that terraform runs and the provider mirror exists. */
int tf_check_tools(const struct config *c, struct buf *version, struct err *e);

/*
 * Create or refresh the working directory, take its lock (another caliber
 * on the same stack is refused, not queued), and run 'terraform init' if
 * needed.
 */
int tf_prepare(struct tf_run *run, struct err *e);
/* Plan (destroy: a destroy plan) into planfile inside the working directory. */
int tf_plan(struct tf_run *run, int destroy, struct tf_summary *sum, struct err *e);
/* 'terraform show -json' of the saved plan, written to path. */
int tf_show_json(struct tf_run *run, const char *path, struct err *e);
/* Apply the saved plan. */
int tf_apply(struct tf_run *run, struct err *e);
/* 'terraform output -json' text into out. */
int tf_output(struct tf_run *run, struct buf *out, struct err *e);
void tf_run_release(struct tf_run *run);

/* Validate the configuration in a scratch directory (caliber init). */
int tf_validate(const struct config *c, struct err *e);

#endif
