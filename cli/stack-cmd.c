/*
 * stack-cmd.c: the runbook's provisioning flags and their validation.
 *
 * Every check here runs before any directory is created or any program is
 * started, so that a command refused with exit 2 has changed nothing.
 */
#include "compat.h"

#include <getopt.h>

#include <openssl/crypto.h>

#include "aws/credentials.h"
#include "aws/credserver.h"

#include "stack-cmd.h"

enum {
	OPT_CLIENT = 256,
	OPT_PLAN,
	OPT_ENV,
	OPT_SUBDOMAIN,
	OPT_DOCDB,
	OPT_RDS,
	OPT_LB_DNS,
	OPT_LB_ZONE,
	OPT_OFFLINE,
	OPT_JSON,
	OPT_FORCE,
	OPT_CONFIG,
	OPT_HELP,
};

static const struct option stack_options[] = {
	{ "client", required_argument, NULL, OPT_CLIENT },
	{ "plan", required_argument, NULL, OPT_PLAN },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "subdomain", required_argument, NULL, OPT_SUBDOMAIN },
	{ "saas-docdb-uri", required_argument, NULL, OPT_DOCDB },
	{ "saas-rds-endpoint", required_argument, NULL, OPT_RDS },
	{ "saas-api-lb-dns", required_argument, NULL, OPT_LB_DNS },
	{ "saas-api-lb-zone", required_argument, NULL, OPT_LB_ZONE },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "json", optional_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Is option opt accepted by a command with these flags? */
static int stack_cmd_takes(unsigned flags, int opt)
{
	switch (opt) {
	case OPT_CONFIG:
	case OPT_HELP:
		return 1;
	case OPT_CLIENT:
	case OPT_ENV:
		return (flags & (SF_STACK | SF_CLIENT_ENV)) || (opt == OPT_ENV && (flags & SF_ENV));
	case OPT_PLAN:
	case OPT_SUBDOMAIN:
	case OPT_DOCDB:
	case OPT_RDS:
	case OPT_LB_DNS:
	case OPT_LB_ZONE:
		return (flags & SF_STACK) != 0;
	case OPT_OFFLINE:
		return (flags & SF_OFFLINE) != 0;
	case OPT_JSON:
		return (flags & (SF_OFFLINE | SF_CLIENT_ENV)) != 0;
	case OPT_FORCE:
		return (flags & SF_FORCE) != 0;
	}
	return 0;
}

static int set_once(const char **slot, const char *value, const char *flag, struct err *e)
{
	if (*slot != NULL)
		return err_usage(e, "%s given twice ('%s' and '%s'); give it once", flag, *slot,
			value);
	*slot = value;
	return 0;
}

static int stack_cmd_getopt(struct stack_cmd *sc, int argc, char **argv, struct err *e)
{
	struct saas_endpoints *saas = &sc->spec.saas;
	int opt, idx;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", stack_options, &idx)) != -1) {
		const char *bad = argv[optind - 1];

		if (opt == '?')
			return err_usage(e, "unknown flag '%s'", bad);
		if (opt == ':')
			return err_usage(e, "flag '%s' needs a value", bad);
		if (!stack_cmd_takes(sc->flags, opt))
			return err_usage(e, "'caliber %s' does not take '--%s'", sc->entry->name,
				stack_options[idx].name);
		switch (opt) {
		case OPT_HELP:
			return 1;
		case OPT_CLIENT:
			if (set_once(&sc->client, optarg, "--client", e) < 0)
				return -1;
			break;
		case OPT_PLAN:
			if (set_once(&sc->plan, optarg, "--plan", e) < 0)
				return -1;
			break;
		case OPT_ENV:
			if (set_once(&sc->env_name, optarg, "--env", e) < 0)
				return -1;
			break;
		case OPT_SUBDOMAIN:
			if (set_once(&sc->subdomain, optarg, "--subdomain", e) < 0)
				return -1;
			break;
		case OPT_DOCDB:
			if (set_once(&saas->docdb_uri, optarg, "--saas-docdb-uri", e) < 0)
				return -1;
			break;
		case OPT_RDS:
			if (set_once(&saas->rds_endpoint, optarg, "--saas-rds-endpoint", e) < 0)
				return -1;
			break;
		case OPT_LB_DNS:
			if (set_once(&saas->lb_dns, optarg, "--saas-api-lb-dns", e) < 0)
				return -1;
			break;
		case OPT_LB_ZONE:
			if (set_once(&saas->lb_zone, optarg, "--saas-api-lb-zone", e) < 0)
				return -1;
			break;
		case OPT_OFFLINE:
			sc->offline = 1;
			break;
		case OPT_JSON:
			sc->json = 1;
			if (sc->flags & SF_OFFLINE) {
				if (optarg == NULL && optind < argc && argv[optind][0] != '-')
					optarg = argv[optind++];
				if (optarg == NULL || optarg[0] == '\0')
					return err_usage(e, "--json needs a FILE to write the plan to");
				sc->json_path = optarg;
			} else if (optarg != NULL) {
				return err_usage(e, "--json takes no value here, not '%s'", optarg);
			}
			break;
		case OPT_FORCE:
			sc->force = 1;
			break;
		case OPT_CONFIG:
			if (set_once(&sc->config_path, optarg, "--config", e) < 0)
				return -1;
			break;
		}
	}
	if (optind < argc)
		return err_usage(e, "unexpected argument '%s'; every value follows its flag",
			argv[optind]);
	return 0;
}

static int stack_cmd_required(struct stack_cmd *sc, struct err *e)
{
	const char *missing[4];
	int n = 0;

	if (sc->flags & (SF_STACK | SF_CLIENT_ENV)) {
		if (sc->client == NULL)
			missing[n++] = "--client";
		if ((sc->flags & SF_STACK) && sc->plan == NULL)
			missing[n++] = "--plan";
		if (sc->env_name == NULL)
			missing[n++] = "--env";
		if ((sc->flags & SF_STACK) && sc->subdomain == NULL)
			missing[n++] = "--subdomain";
	}
	if (n == 0)
		return 0;
	return err_usage(e, "missing %s%s%s%s%s%s%s", missing[0], n > 1 ? ", " : "",
		n > 1 ? missing[1] : "", n > 2 ? ", " : "", n > 2 ? missing[2] : "",
		n > 3 ? ", " : "", n > 3 ? missing[3] : "");
}

/* The values the flags give agree with the deployed SaaSShared stack. */
static int stack_cmd_saas_agree(struct stack_cmd *sc, struct err *e)
{
	static const struct {
		const char *output, *flag;
		size_t offset;
	} pairs[] = {
		{ "documentdb_uri", "--saas-docdb-uri", offsetof(struct saas_endpoints, docdb_uri) },
		{ "postgresql_endpoint", "--saas-rds-endpoint",
			offsetof(struct saas_endpoints, rds_endpoint) },
		{ "api_endpoint", "--saas-api-lb-dns", offsetof(struct saas_endpoints, lb_dns) },
		{ "hosted_zone_id", "--saas-api-lb-zone", offsetof(struct saas_endpoints, lb_zone) },
	};
	struct saas_endpoints *saas = &sc->spec.saas;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		const char **slot = (const char **)((char *)saas + pairs[i].offset);
		const char *deployed =
			json_string_value(json_object_get(sc->shared_outputs, pairs[i].output));

		if (deployed == NULL)
			return err_usage(e, "the deployed SaaSShared stack of '%s' has no '%s' output; "
					    "run 'caliber apply --client SaaSShared --plan SaaS --env %s "
					    "...' to bring it up to date",
				sc->env->name, pairs[i].output, sc->env->name);
		if (*slot == NULL) {
			*slot = deployed;
			continue;
		}
		if (strcmp(*slot, deployed) != 0)
			return err_usage(e, "%s '%s' disagrees with the deployed SaaSShared stack of "
					    "'%s', whose %s is '%s'; pass that value, or leave the "
					    "--saas-* flags out to use the deployed ones",
				pairs[i].flag, *slot, sc->env->name, pairs[i].output, deployed);
	}
	return 0;
}

static int stack_cmd_validate(struct stack_cmd *sc, struct err *e)
{
	struct stack_spec *spec = &sc->spec;
	struct stack_record rec;
	int given, had;

	if (stack_cmd_required(sc, e) < 0)
		return -1;
	if (sc->plan && plan_parse(sc->plan, &spec->plan, e) < 0)
		return -1;
	if (config_load(&sc->config, sc->config_path, e) < 0)
		return -1;
	if (sc->env_name && (sc->env = config_env(&sc->config, sc->env_name, e)) == NULL)
		return -1;
	if (sc->client == NULL)
		return 0;
	if (tenant_client_check(sc->client, sc->env->name, e) < 0)
		return -1;
	spec->client = sc->client;
	spec->env = sc->env;
	spec->subdomain = sc->subdomain;
	stack_spec_names(spec);
	if (!(sc->flags & SF_STACK))
		return 0;
	if (tenant_plan_check(sc->client, spec->plan, &spec->saas, e) < 0)
		return -1;
	if (tenant_subdomain_check(sc->subdomain, e) < 0)
		return -1;
	if (tenant_saas_check(&spec->saas, e) < 0)
		return -1;
	if ((given = tenant_saas_given(&spec->saas, e)) < 0)
		return -1;
	if (sc->env->cloud != CLOUD_AWS)
		return err_usage(e, "environment '%s' is bound to the %s cloud in '%s', where "
				    "caliber cannot provision stacks yet; bind it to 'cloud = aws'",
			sc->env->name, cloud_name(sc->env->cloud), sc->config.path);

	had = stack_record_load(&sc->config, spec->name, &rec, e);
	if (had < 0)
		return -1;
	if (had == 1) {
		int same_plan = !strcmp(rec.plan, plan_name(spec->plan));
		int same_sub = !strcmp(rec.subdomain, sc->subdomain);
		int same_client = !strcmp(rec.client, sc->client);
		int live = strcmp(rec.status, "destroyed") != 0;

		if (live && (!same_plan || !same_sub || !same_client))
			err_usage(e, "stack '%s' was applied as --client %s --plan %s --subdomain %s; "
				     "give the same values (to move a client, destroy it first)",
				spec->name, rec.client, rec.plan, rec.subdomain);
		stack_record_release(&rec);
		if (live && (!same_plan || !same_sub || !same_client))
			return -1;
	}

	if (spec->plan == PLAN_SAAS && !tenant_is_shared(sc->client)) {
		char shared[96];

		snprintf(shared, sizeof(shared), "saasshared-%s", sc->env->name);
		sc->shared_outputs = stack_outputs_load(&sc->config, shared, e);
		if (sc->shared_outputs == NULL && e->msg[0])
			return -1;
		if (sc->shared_outputs == NULL && !given)
			return err_usage(e, "SaaS tenant '%s' needs the shared stack: pass the four "
					    "--saas-* flags with the SaaSShared outputs, or deploy it "
					    "first with 'caliber apply --client SaaSShared --plan SaaS "
					    "--env %s --subdomain saas-api'",
				sc->client, sc->env->name);
		if (sc->shared_outputs == NULL)
			return err_usage(e, "SaaS tenant '%s' runs on the SaaSShared stack of '%s', "
					    "which caliber does not find deployed (no '%s' stack here); "
					    "the --saas-* flags give its endpoints, but the tenant also "
					    "needs its listener, cluster and network: apply SaaSShared "
					    "in '%s' first (runbook 1.2)",
				sc->client, sc->env->name, shared, sc->env->name);
		if (stack_cmd_saas_agree(sc, e) < 0)
			return -1;
	}
	return 0;
}

int stack_cmd_parse(struct stack_cmd *sc, int argc, char **argv)
{
	struct err e = ERR_INIT;
	int rc;

	rc = stack_cmd_getopt(sc, argc, argv, &e);
	if (rc == 1) {
		cmd_help(sc->entry);
		return -1;
	}
	if (rc == 0 && sc->json_path && !sc->offline)
		rc = err_usage(&e, "--json FILE writes an offline plan; add --offline");
	if (rc == 0)
		rc = stack_cmd_validate(sc, &e);
	if (rc == 0 && sc->check)
		rc = sc->check(sc, &e);
	if (rc < 0)
		return e.usage ? cmd_usage_error(sc->entry, &e) : err_print(&e);
	return EXIT_OK;
}

void stack_cmd_release(struct stack_cmd *sc)
{
	size_t i;

	tf_run_release(&sc->run);
	credserver_stop(sc->credserver);
	sc->credserver = NULL;
	for (i = 0; i < ARRAY_SIZE(sc->tf_env); i++) {
		if (sc->tf_env[i])
			OPENSSL_cleanse(sc->tf_env[i], strlen(sc->tf_env[i]));
		free(sc->tf_env[i]);
		sc->tf_env[i] = NULL;
	}
	json_decref(sc->shared_outputs);
	sc->shared_outputs = NULL;
	config_release(&sc->config);
}

void stack_cmd_announce(const struct stack_cmd *sc, const char *verb)
{
	const struct env_config *env = sc->env;

	printf("caliber: %s %s (%s, %s.%s) on %s%s, region %s, profile %s\n", verb,
		sc->spec.name, plan_name(sc->spec.plan), sc->spec.subdomain, env->domain,
		cloud_name(env->cloud), sc->offline ? " (offline: no credentials, no state)" : "",
		env->region, env->profile[0] ? env->profile : "(default chain)");
	if (sc->shared_outputs)
		printf("  shared stack: saasshared-%s (load balancer %s)\n", env->name,
			sc->spec.saas.lb_dns);
	fflush(stdout);
}

void stack_cmd_progress(const char *line, void *ctx)
{
	(void)ctx;
	printf("%s\n", line);
	fflush(stdout);
}

static int type_count_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tf_type_count *)a)->type, ((const struct tf_type_count *)b)->type);
}

void stack_cmd_print_summary(const struct stack_cmd *sc, struct tf_summary *sum)
{
	int i;

	qsort(sum->types, (size_t)sum->n_types, sizeof(sum->types[0]), type_count_cmp);
	printf("plan for %s: %d to add, %d to change, %d to destroy\n", sc->spec.name, sum->add,
		sum->change, sum->destroy);
	for (i = 0; i < sum->n_types; i++) {
		const struct tf_type_count *t = &sum->types[i];

		printf("  %-48s", t->type);
		if (t->add)
			printf(" +%d", t->add);
		if (t->change)
			printf(" ~%d", t->change);
		if (t->destroy)
			printf(" -%d", t->destroy);
		printf("\n");
	}
	fflush(stdout);
}

/*
 * Temporary credentials (assume-role, SSO, a container or instance role)
 * may expire long before an apply ends: Terraform gets them from caliber's
 * credentials endpoint instead (credserver.h), which its SDK asks again
 * before each set expires, and nothing else it could prefer (keys in the
 * environment, a profile in the files).
 */
static int stack_cmd_credserver(struct stack_cmd *sc, const char *profile, struct err *e)
{
	size_t n = 0;

	if (credserver_start(profile, &sc->credserver, e) < 0)
		return -1;
	fprintf(stderr,
		"credentials: %s, temporary: served to Terraform on %s and refreshed while it"
		" runs\n",
		credserver_source(sc->credserver), credserver_url(sc->credserver));
	sc->tf_env[n++] =
		xasprintf("AWS_CONTAINER_CREDENTIALS_FULL_URI=%s", credserver_url(sc->credserver));
	sc->tf_env[n++] = xasprintf(
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=%s", credserver_token(sc->credserver));
	sc->tf_env[n++] = xstrdup("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	sc->tf_env[n++] = xstrdup("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	sc->tf_env[n++] = xstrdup("AWS_ACCESS_KEY_ID");
	sc->tf_env[n++] = xstrdup("AWS_SECRET_ACCESS_KEY");
	sc->tf_env[n++] = xstrdup("AWS_SESSION_TOKEN");
	sc->tf_env[n++] = xstrdup("AWS_PROFILE");
	sc->tf_env[n++] = xstrdup("AWS_WEB_IDENTITY_TOKEN_FILE");
	sc->tf_env[n++] = xstrdup("AWS_SHARED_CREDENTIALS_FILE=/dev/null");
	sc->tf_env[n++] = xstrdup("AWS_CONFIG_FILE=/dev/null");
	sc->tf_env[n++] = xasprintf("AWS_REGION=%s", sc->env->region);
	sc->run.env_add = (const char *const *)sc->tf_env;
	sc->run.credentials_in_env = 1;
	return 0;
}

/*
 * Resolve AWS credentials with caliber's own chain (awscli's order) before
 * Terraform starts, so that a machine without credentials is told which
 * sources were tried instead of meeting a provider error half-way; the
 * same identity then reaches Terraform through its environment (long-term
 * keys) or caliber's credentials endpoint (temporary ones).
 */
int stack_cmd_credentials(struct stack_cmd *sc, const char *verb, struct err *e)
{
	struct aws_credentials creds = AWS_CREDENTIALS_INIT;
	const char *profile = sc->env->profile[0] ? sc->env->profile : NULL;
	size_t n = 0, keylen;

	if (aws_credentials_resolve(profile, &creds, e) < 0) {
		return err_prefix(e, "cannot %s %s on aws before Terraform starts", verb,
			sc->spec.name);
	}
	if (creds.expiration != 0) {
		aws_credentials_release(&creds);
		if (stack_cmd_credserver(sc, profile, e) < 0)
			return err_prefix(e, "cannot %s %s on aws before Terraform starts", verb,
				sc->spec.name);
		return 0;
	}
	keylen = strlen(creds.access_key_id);
	fprintf(stderr, "credentials: %s (access key ...%s)\n", creds.source,
		keylen > 4 ? creds.access_key_id + keylen - 4 : "");
	sc->tf_env[n++] = xasprintf("AWS_ACCESS_KEY_ID=%s", creds.access_key_id);
	sc->tf_env[n++] = xasprintf("AWS_SECRET_ACCESS_KEY=%s", creds.secret_access_key);
	sc->tf_env[n++] = creds.session_token ?
		xasprintf("AWS_SESSION_TOKEN=%s", creds.session_token) :
		xstrdup("AWS_SESSION_TOKEN");
	/* the provider must not prefer a profile to the identity given */
	sc->tf_env[n++] = xstrdup("AWS_PROFILE");
	sc->tf_env[n++] = xasprintf("AWS_REGION=%s", sc->env->region);
	sc->run.env_add = (const char *const *)sc->tf_env;
	sc->run.credentials_in_env = 1;
	aws_credentials_release(&creds);
	return 0;
}

int stack_cmd_start(struct stack_cmd *sc, const char *verb, struct err *e)
{
	struct buf version = BUF_INIT;
	int rc;

	if (!sc->offline && sc->env->cloud == CLOUD_AWS &&
		stack_cmd_credentials(sc, verb, e) < 0)
		return -1;
	rc = tf_check_tools(&sc->config, &version, e);
	buf_release(&version);
	if (rc < 0)
		return -1;
	stack_cmd_announce(sc, verb);
	sc->run.config = &sc->config;
	sc->run.spec = &sc->spec;
	sc->run.shared_outputs = sc->shared_outputs;
	sc->run.offline = sc->offline;
	sc->run.progress = stack_cmd_progress;
	return tf_prepare(&sc->run, e);
}

void stack_cmd_print_outputs(json_t *outputs, const char *indent)
{
	const char *key;
	json_t *v;

	json_object_foreach(outputs, key, v)
	{
		json_t *value = json_object_get(v, "value");
		char *text;

		if (json_is_string(value)) {
			printf("%s%s = %s\n", indent, key, json_string_value(value));
			continue;
		}
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		printf("%s%s = %s\n", indent, key, text ? text : "?");
		free(text);
	}
}
