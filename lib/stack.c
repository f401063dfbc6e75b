/*
 * stack.c: the per-stack records under the state directory.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "stack.h"

void stack_spec_names(struct stack_spec *s)
{
	tenant_slug(s->client, s->slug, sizeof(s->slug));
	snprintf(s->name, sizeof(s->name), "%s-%s", s->slug, s->env->name);
}

void stack_dir(const struct config *c, const char *name, struct buf *out)
{
	buf_reset(out);
	buf_appendf(out, "%s/stacks/%s", c->state_dir, name);
}

int stack_mkdirs(const char *path, struct err *e)
{
	char *p = xstrdup(path), *s;
	int rc = -1;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err_set(e, "cannot create directory '%s': %s", p, strerror(errno));
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		err_set(e, "cannot create directory '%s': %s", p, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

static char *json_string_dup(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return xstrdup(v ? v : "");
}

int stack_record_load(const struct config *c, const char *name, struct stack_record *r,
	struct err *e)
{
	struct buf path = BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	stack_dir(c, name, &path);
	buf_appends(&path, "/stack.json");
	if (access(path.data, F_OK) < 0) {
		rc = 0;
		goto out;
	}
	root = json_load_file(path.data, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		err_set(e, "cannot read '%s': %s; remove it if the stack was never applied",
			path.data, root ? "not a JSON object" : jerr.text);
		goto out;
	}
	r->client = json_string_dup(root, "client");
	r->plan = json_string_dup(root, "plan");
	r->env = json_string_dup(root, "env");
	r->subdomain = json_string_dup(root, "subdomain");
	r->status = json_string_dup(root, "status");
	rc = 1;
out:
	json_decref(root);
	buf_release(&path);
	return rc;
}

int stack_record_save(const struct config *c, const struct stack_spec *s, const char *status,
	struct err *e)
{
	struct buf path = BUF_INIT;
	json_t *root;
	char *text = NULL;
	int rc = -1;

	stack_dir(c, s->name, &path);
	if (stack_mkdirs(path.data, e) < 0)
		goto out;
	buf_appends(&path, "/stack.json");
	root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "client", s->client, "plan",
		plan_name(s->plan), "env", s->env->name, "subdomain", s->subdomain, "cloud",
		cloud_name(s->env->cloud), "status", status);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	rc = fsutil_write_atomic(path.data, text, strlen(text), 0600, e);
out:
	free(text);
	buf_release(&path);
	return rc;
}

void stack_record_release(struct stack_record *r)
{
	free(r->client);
	free(r->plan);
	free(r->env);
	free(r->subdomain);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

json_t *stack_outputs_load(const struct config *c, const char *name, struct err *e)
{
	struct buf path = BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL, *flat = NULL, *v;
	const char *key;

	stack_dir(c, name, &path);
	buf_appends(&path, "/outputs.json");
	if (access(path.data, F_OK) < 0)
		goto out;
	root = json_load_file(path.data, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		err_set(e, "cannot read the outputs of stack '%s' in '%s': %s; run 'caliber outputs' "
			   "for that stack to refresh them",
			name, path.data, root ? "not a JSON object" : jerr.text);
		goto out;
	}
	flat = json_object();
	json_object_foreach(root, key, v)
	{
		json_t *value = json_object_get(v, "value");

		if (value == NULL) {
			err_set(e, "outputs of stack '%s' in '%s': '%s' has no value", name,
				path.data, key);
			json_decref(flat);
			flat = NULL;
			goto out;
		}
		json_object_set(flat, key, value);
	}
out:
	json_decref(root);
	buf_release(&path);
	return flat;
}

int stack_outputs_save(const struct config *c, const char *name, const char *text,
	struct err *e)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	stack_dir(c, name, &path);
	buf_appends(&path, "/outputs.json");
	if (text)
		rc = fsutil_write_atomic(path.data, text, strlen(text), 0600, e);
	else if (unlink(path.data) < 0 && errno != ENOENT)
		rc = err_set(e, "cannot remove '%s': %s", path.data, strerror(errno));
	buf_release(&path);
	return rc;
}

int stack_saas_tenants(const struct config *c, const char *env, struct buf *tenants,
	struct err *e)
{
	struct buf dir = BUF_INIT;
	struct dirent *de;
	DIR *d;
	int n = 0;

	buf_appendf(&dir, "%s/stacks", c->state_dir);
	d = opendir(dir.data);
	buf_release(&dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : err_set(e, "cannot list stacks: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stack_record r;
		json_t *outputs;
		struct err ignored = ERR_INIT;

		if (de->d_name[0] == '.')
			continue;
		if (stack_record_load(c, de->d_name, &r, &ignored) != 1)
			continue;
		if (!strcmp(r.env, env) && !strcmp(r.plan, "SaaS") && !tenant_is_shared(r.client)) {
			outputs = stack_outputs_load(c, de->d_name, &ignored);
			if (outputs != NULL || strcmp(r.status, "destroyed") != 0) {
				buf_appendf(tenants, "%s%s", n ? ", " : "", de->d_name);
				n++;
			}
			json_decref(outputs);
		}
		stack_record_release(&r);
	}
	closedir(d);
	return n;
}
