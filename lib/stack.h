/*
 * stack.h: one client in one environment, and what caliber keeps about it.
 *
 * Each stack has a directory <state_dir>/stacks/<slug>-<env>/ holding:
 *   stack.json    the client, plan, env and subdomain it was applied with
 *                 and its status ("applying", "applied", "destroying",
 *                 "destroyed"), written before Terraform runs so an
 *                 interrupted apply is known and can be run again;
 *   outputs.json  the stack outputs as 'terraform output -json' prints
 *                 them, written after every successful apply and removed
 *                 by a successful destroy: a stack is deployed when it
 *                 exists;
 *   tf/           Terraform's working directory (see terraform.h).
 *
 * Ownership: struct stack_spec borrows its strings (from argv); struct
 * stack_record owns its strings (stack_record_release()).  json_t results
 * follow jansson's rules: the caller owns the reference it is given.
 */
#ifndef CALIBER_STACK_H
#define CALIBER_STACK_H

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "tenant.h"

struct stack_spec {
	const char *client;
	enum plan plan;
	const struct env_config *env;
	const char *subdomain;
	struct saas_endpoints saas;
	char slug[64];
	char name[96];		/* <slug>-<env> */
};

struct stack_record {
	char *client;
	char *plan;
	char *env;
	char *subdomain;
	char *status;
};

/* Fill slug and name from client and env. */
void stack_spec_names(struct stack_spec *s);

/* <state_dir>/stacks/<name> into out. */
void stack_dir(const struct config *c, const char *name, struct buf *out);

/* 1 when the stack has a record, 0 when not, -1 on error. */
int stack_record_load(const struct config *c, const char *name, struct stack_record *r,
	struct err *e);
int stack_record_save(const struct config *c, const struct stack_spec *s, const char *status,
	struct err *e);
void stack_record_release(struct stack_record *r);

/* The deployed stack's outputs as name -> value (NULL with no error when not deployed). */
json_t *stack_outputs_load(const struct config *c, const char *name, struct err *e);
/* Save 'terraform output -json' text, or remove the file when text is NULL. */
int stack_outputs_save(const struct config *c, const char *name, const char *text,
	struct err *e);

/*
 * Deployed SaaS tenants of environment env (their stack names, into
 * tenants, separated by ", "); returns their count or -1.
 */
int stack_saas_tenants(const struct config *c, const char *env, struct buf *tenants,
	struct err *e);

/* mkdir -p with mode 0700 for each created directory. */
int stack_mkdirs(const char *path, struct err *e);

#endif
