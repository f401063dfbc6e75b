/*
 * config.c: reading caliber.conf with inih and checking every value, so a
 * command never starts work on a configuration it would trip over later.
 */
#include "compat.h"

#include <ini.h>
#include <limits.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"

struct config_parse {
	struct config *c;
	struct err *e;
	int failed;
};

const char *cloud_name(enum cloud cloud)
{
	return cloud == CLOUD_LOCAL ? "local" : "aws";
}

static void env_defaults(struct env_config *env, const char *name)
{
	memset(env, 0, sizeof(*env));
	env->name = xstrdup(name);
	env->cloud = CLOUD_AWS;
	env->region = xstrdup("ap-southeast-2");
	env->profile = xstrdup("");
	env->domain = xstrdup("hicaliber.net");
	env->hosted_zone_id = xstrdup("");
	env->availability_zones = xstrdup("");
	env->state_backend = xstrdup("local");
	env->state_region = xstrdup("");
	env->api_image = xstrdup("");
	env->api_cpu = 256;
	env->api_memory = 512;
	env->api_desired_count = 1;
	env->api_health_path = xstrdup("/health/");
	env->api_container_port = 8000;
	env->docdb_instance_class = xstrdup("db.t3.medium");
	env->docdb_instance_count = 1;
	env->rds_instance_class = xstrdup("db.t4g.micro");
	env->rds_allocated_storage = 20;
	env->rds_multi_az = 0;
}

static void env_release(struct env_config *env)
{
	free(env->name);
	free(env->region);
	free(env->profile);
	free(env->domain);
	free(env->hosted_zone_id);
	free(env->availability_zones);
	free(env->state_backend);
	free(env->state_region);
	free(env->api_image);
	free(env->api_health_path);
	free(env->docdb_instance_class);
	free(env->rds_instance_class);
	memset(env, 0, sizeof(*env));
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int parse_long(const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *value, int *out)
{
	if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* An environment name: lower-case letters and digits, 1 to 8 of them. */
static int env_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 8)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

/* Section 'env "stg"' (git's subsection syntax) gives "stg". */
static int section_env_name(const char *section, char *out, size_t size)
{
	const char *p, *q;

	if (strncmp(section, "env", 3) != 0)
		return -1;
	p = section + 3;
	while (*p == ' ')
		p++;
	if (*p != '"')
		return -1;
	q = strchr(p + 1, '"');
	if (q == NULL || q[1] != '\0' || (size_t)(q - p - 1) >= size)
		return -1;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return 0;
}

static struct env_config *config_env_slot(struct config *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_envs; i++)
		if (!strcmp(c->envs[i].name, name))
			return &c->envs[i];
	if (c->n_envs == CONFIG_MAX_ENVS)
		return NULL;
	env_defaults(&c->envs[c->n_envs], name);
	return &c->envs[c->n_envs++];
}

/* Fill why and return -1: keeps the table-driven setters to one line per failure. */
static int why_set(struct buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int why_set(struct buf *why, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_appends(why, msg);
	return -1;
}

static int env_set(struct env_config *env, const char *key, const char *value, struct buf *why)
{
	static const struct {
		const char *key;
		size_t offset;
	} strings[] = {
		{ "region", offsetof(struct env_config, region) },
		{ "profile", offsetof(struct env_config, profile) },
		{ "domain", offsetof(struct env_config, domain) },
		{ "hosted_zone_id", offsetof(struct env_config, hosted_zone_id) },
		{ "availability_zones", offsetof(struct env_config, availability_zones) },
		{ "state_backend", offsetof(struct env_config, state_backend) },
		{ "state_region", offsetof(struct env_config, state_region) },
		{ "api_image", offsetof(struct env_config, api_image) },
		{ "api_health_path", offsetof(struct env_config, api_health_path) },
		{ "docdb_instance_class", offsetof(struct env_config, docdb_instance_class) },
		{ "rds_instance_class", offsetof(struct env_config, rds_instance_class) },
	};
	static const struct {
		const char *key;
		size_t offset;
		long min, max;
	} numbers[] = {
		{ "api_cpu", offsetof(struct env_config, api_cpu), 256, 16384 },
		{ "api_memory", offsetof(struct env_config, api_memory), 512, 122880 },
		{ "api_desired_count", offsetof(struct env_config, api_desired_count), 0, 100 },
		{ "api_container_port", offsetof(struct env_config, api_container_port), 1, 65535 },
		{ "docdb_instance_count", offsetof(struct env_config, docdb_instance_count), 1, 16 },
		{ "rds_allocated_storage", offsetof(struct env_config, rds_allocated_storage), 20,
			65536 },
	};
	size_t i;

	if (!strcmp(key, "cloud")) {
		if (!strcmp(value, "aws"))
			env->cloud = CLOUD_AWS;
		else if (!strcmp(value, "local"))
			env->cloud = CLOUD_LOCAL;
		else
			return why_set(why, "cloud must be 'aws' or 'local', not '%s'", value);
		return 0;
	}
	if (!strcmp(key, "rds_multi_az")) {
		if (parse_bool(value, &env->rds_multi_az) < 0)
			return why_set(why, "rds_multi_az must be true or false, not '%s'", value);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(strings); i++) {
		if (!strcmp(key, strings[i].key)) {
			set_string((char **)((char *)env + strings[i].offset), value);
			return 0;
		}
	}
	for (i = 0; i < ARRAY_SIZE(numbers); i++) {
		if (!strcmp(key, numbers[i].key)) {
			if (parse_long(value, numbers[i].min, numbers[i].max,
				    (long *)((char *)env + numbers[i].offset)) < 0)
				return why_set(why, "%s must be a whole number from %ld to %ld, not '%s'",
					       key, numbers[i].min, numbers[i].max, value);
			return 0;
		}
	}
	return why_set(why, "unknown key '%s'", key);
}

static int config_on_value(void *user, const char *section, const char *key, const char *value)
{
	struct config_parse *p = user;
	struct config *c = p->c;
	struct buf why = BUF_INIT;
	char env_name[64];
	struct env_config *env;
	int rc = 0;

	if (p->failed)
		return 0;
	if (!strcmp(section, "caliber")) {
		if (!strcmp(key, "terraform"))
			set_string(&c->terraform, value);
		else if (!strcmp(key, "plugin_dir"))
			set_string(&c->plugin_dir, value);
		else if (!strcmp(key, "infra_dir"))
			set_string(&c->infra_dir, value);
		else if (!strcmp(key, "state_dir"))
			set_string(&c->state_dir, value);
		else
			rc = why_set(&why, "unknown key '%s'", key);
	} else if (section_env_name(section, env_name, sizeof(env_name)) == 0) {
		if (!env_name_valid(env_name)) {
			rc = why_set(&why,
				"environment name '%s' must be 1 to 8 lower-case letters or digits",
				env_name);
		} else if ((env = config_env_slot(c, env_name)) == NULL) {
			rc = why_set(&why, "more than %d environments", CONFIG_MAX_ENVS);
		} else {
			rc = env_set(env, key, value, &why);
		}
	} else {
		rc = why_set(&why, "unknown section [%s]; use [caliber] or [env \"NAME\"]",
			section);
	}
	if (rc < 0) {
		err_usage(p->e, "%s: [%s] %s", c->path, section, buf_str(&why));
		p->failed = 1;
	}
	buf_release(&why);
	return 1;
}

static char *path_absolute(const char *base, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", base, path);
}

/* Where caliber.conf is when neither --config nor CALIBER_CONFIG names it. */
static char *config_default_path(void)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;
	struct stat st;

	if (stat("caliber.conf", &st) == 0)
		return xstrdup("caliber.conf");
	/* bin/caliber -> build/<kind>/caliber: walk up to the checkout */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return xstrdup("caliber.conf");
	exe[n] = '\0';
	while ((slash = strrchr(exe, '/')) != NULL) {
		char *candidate;

		*slash = '\0';
		candidate = xasprintf("%s/caliber.conf", exe[0] ? exe : "");
		if (stat(candidate, &st) == 0)
			return candidate;
		free(candidate);
	}
	return xstrdup("caliber.conf");
}

static int config_check_env(const struct config *c, const struct env_config *env, struct err *e)
{
	const char *comma;

	if (env->cloud != CLOUD_AWS)
		return 0;
	comma = strchr(env->availability_zones, ',');
	if (comma == NULL || comma == env->availability_zones || comma[1] == '\0' ||
		strchr(comma + 1, ','))
		return err_usage(e,
			"%s: [env \"%s\"] availability_zones must name two zones, e.g. "
			"'%sa,%sb', not '%s'",
			c->path, env->name, env->region, env->region, env->availability_zones);
	if (env->hosted_zone_id[0] != 'Z')
		return err_usage(e,
			"%s: [env \"%s\"] hosted_zone_id must be the Route 53 zone id of '%s' "
			"(it starts with 'Z'), not '%s'",
			c->path, env->name, env->domain, env->hosted_zone_id);
	if (strcmp(env->state_backend, "local") && strncmp(env->state_backend, "s3://", 5))
		return err_usage(e,
			"%s: [env \"%s\"] state_backend must be 'local' or 's3://BUCKET[/PREFIX]', "
			"not '%s'",
			c->path, env->name, env->state_backend);
	if (!strncmp(env->state_backend, "s3://", 5) &&
		(env->state_backend[5] == '\0' || env->state_backend[5] == '/'))
		return err_usage(e, "%s: [env \"%s\"] state_backend '%s' names no bucket", c->path,
			env->name, env->state_backend);
	if (env->api_image[0] == '\0')
		return err_usage(e, "%s: [env \"%s\"] api_image is empty; set the API image to deploy",
			c->path, env->name);
	return 0;
}

int config_load(struct config *c, const char *explicit_path, struct err *e)
{
	struct config_parse p = { c, e, 0 };
	char *path = NULL, real[PATH_MAX], *slash;
	const char *from = "--config";
	int line, i, rc = -1;

	memset(c, 0, sizeof(*c));
	if (explicit_path == NULL) {
		explicit_path = getenv("CALIBER_CONFIG");
		from = "CALIBER_CONFIG";
	}
	if (explicit_path != NULL && explicit_path[0] != '\0') {
		path = xstrdup(explicit_path);
	} else {
		path = config_default_path();
		from = NULL;
	}
	if (realpath(path, real) == NULL) {
		if (from)
			err_usage(e, "cannot read configuration '%s' (from %s): %s", path, from,
				strerror(errno));
		else
			err_usage(e, "no caliber.conf found in the current directory or the "
				     "checkout; pass --config FILE or set CALIBER_CONFIG");
		goto out;
	}
	c->path = xstrdup(real);
	slash = strrchr(real, '/');
	*slash = '\0';
	c->dir = xstrdup(real[0] ? real : "/");
	c->terraform = xstrdup("terraform");
	c->plugin_dir = xstrdup("/opt/tf-plugins");
	c->infra_dir = xstrdup("infra");
	c->state_dir = xstrdup(".caliber");

	line = ini_parse(c->path, config_on_value, &p);
	if (line < 0) {
		err_usage(e, "cannot read configuration '%s': %s", c->path, strerror(errno));
		goto out;
	}
	if (p.failed)
		goto out;
	if (line > 0) {
		err_usage(e, "%s:%d: not 'key = value' nor a [section]", c->path, line);
		goto out;
	}
	if (c->n_envs == 0) {
		err_usage(e, "%s: no environments; add an [env \"stg\"] section", c->path);
		goto out;
	}
	for (i = 0; i < c->n_envs; i++)
		if (config_check_env(c, &c->envs[i], e) < 0)
			goto out;
	{
		char *abs = path_absolute(c->dir, c->infra_dir);

		free(c->infra_dir);
		c->infra_dir = abs;
		abs = path_absolute(c->dir, c->state_dir);
		free(c->state_dir);
		c->state_dir = abs;
	}
	if (getenv("CALIBER_STATE_DIR") && getenv("CALIBER_STATE_DIR")[0]) {
		free(c->state_dir);
		c->state_dir = path_absolute(c->dir, getenv("CALIBER_STATE_DIR"));
	}
	rc = 0;
out:
	free(path);
	if (rc < 0)
		config_release(c);
	return rc;
}

void config_release(struct config *c)
{
	int i;

	for (i = 0; i < c->n_envs; i++)
		env_release(&c->envs[i]);
	free(c->path);
	free(c->dir);
	free(c->terraform);
	free(c->plugin_dir);
	free(c->infra_dir);
	free(c->state_dir);
	memset(c, 0, sizeof(*c));
}

const struct env_config *config_env(const struct config *c, const char *name, struct err *e)
{
	struct buf known = BUF_INIT;
	int i;

	for (i = 0; i < c->n_envs; i++)
		if (!strcmp(c->envs[i].name, name))
			return &c->envs[i];
	for (i = 0; i < c->n_envs; i++)
		buf_appendf(&known, "%s'%s'", i ? ", " : "", c->envs[i].name);
	err_usage(e, "unknown environment '%s'; %s defines %s", name, c->path, buf_str(&known));
	buf_release(&known);
	return NULL;
}
