/*
 * iam/api.c: the part of AWS Identity and Access Management (Query,
 * 2010-05-08) that infrastructure code creates: roles, with their trust
 * policy, tags and inline policies, on the generic resource store
 * (core/resources.h: service "iam", type "role" keyed by the role's name,
 * type "role-policy" keyed by "<role>:<policy>" with the role as parent).
 * GetUser answers for the caller, the account's root (the provider asks
 * it for the account id).
 *
 * Documents are checked to be JSON (MalformedPolicyDocument) and given
 * back URL-encoded, as IAM gives them.
 *
 * Differences from AWS: IAM is global and so is this (every region's
 * requests see the same roles); policies are recorded, never evaluated:
 * every request signed with the local key is allowed; no users, groups,
 * managed policies or instance profiles (the list calls answer empty
 * lists, since nothing can create them).
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>

#include "core/caliberd.h"
#include "core/codec-glue.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/resources.h"
#include "core/store.h"
#include "internal.h"
#include "localcloud/config.h"

#define IAM_REGION "global"

int iam_init(struct lc_server *srv, struct err *e)
{
	return resources_init(srv, e);
}

static int iam_internal(struct lc_call *c, const char *what)
{
	lc_log("iam: %s: %s", what, c->db != NULL ? sqlite3_errmsg(c->db) : "no store");
	return codec_error_set(c->err, 500, "ServiceFailure",
		"Request processing has failed due to some unknown error, exception or failure.");
}

static int iam_run(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int (*fn)(struct lc_call *c))
{
	struct lc_call c;

	return lc_call_run(&c, req, in, out, err, "ServiceFailure", fn);
}

/* a required string member: ValidationError as IAM words it */
static int need(struct lc_call *c, const char *key, const char **out)
{
	*out = json_string_value(json_object_get(c->in, key));
	if (*out == NULL)
		return codec_error_set(c->err, 400, "ValidationError",
			"1 validation error detected: Value null at '%c%s' failed to satisfy "
			"constraint: Member must not be null",
			tolower((unsigned char)key[0]), key + 1);
	return 0;
}

static int role_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_+=,.@-", s[i]) == NULL)
			return 0;
	return 1;
}

/* RFC 3986 percent-encoding, as IAM returns policy documents */
static char *url_encode(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || strchr("-_.~", ch) != NULL)
			buf_append(&b, (const char *)&ch, 1);
		else
			buf_appendf(&b, "%%%02X", ch);
	}
	return buf_detach(&b);
}

static int policy_check(struct lc_call *c, const char *doc)
{
	json_error_t je;
	json_t *v = json_loads(doc, 0, &je);

	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		return codec_error_set(c->err, 400, "MalformedPolicyDocument",
			"This policy contains invalid Json");
	}
	json_decref(v);
	return 0;
}

static int no_such_role(struct lc_call *c, const char *name)
{
	return codec_error_set(c->err, 404, "NoSuchEntity",
		"The role with name %s cannot be found.", name);
}

/* 1 loaded, 0 NoSuchEntity set, -1 error set */
static int role_load(struct lc_call *c, const char *name, struct resource *r)
{
	int rc = resource_get(c->db, "iam", "role", name, r);

	if (rc < 0)
		return iam_internal(c, "role");
	if (rc == 0) {
		no_such_role(c, name);
		return 0;
	}
	return 1;
}

/* the Role shape of r: its attributes with the document encoded and its tags */
static json_t *role_item(const struct resource *r)
{
	json_t *item = resource_item(r);
	const char *doc = json_string_value(json_object_get(item, "AssumeRolePolicyDocument"));

	if (doc != NULL) {
		char *enc = url_encode(doc);

		json_object_set_new(item, "AssumeRolePolicyDocument", json_string(enc));
		free(enc);
	}
	json_object_set_new(item, "RoleLastUsed", json_object());
	return item;
}

static int get_user(struct lc_call *c)
{
	const char *name = json_string_value(json_object_get(c->in, "UserName"));

	if (name != NULL)
		return codec_error_set(c->err, 404, "NoSuchEntity",
			"The user with name %s cannot be found.", name);
	json_object_set_new(c->out, "User",
		json_pack("{s:s, s:s, s:s, s:s, s:f}", "Path", "/", "UserName", "root", "UserId",
			LOCALCLOUD_ACCOUNT_ID, "Arn", "arn:aws:iam::" LOCALCLOUD_ACCOUNT_ID ":root",
			"CreateDate", 0.0));
	return 0;
}

static int create_role(struct lc_call *c)
{
	const char *name, *doc, *path = json_string_value(json_object_get(c->in, "Path"));
	const char *desc = json_string_value(json_object_get(c->in, "Description"));
	json_t *max = json_object_get(c->in, "MaxSessionDuration");
	const char *boundary = json_string_value(json_object_get(c->in, "PermissionsBoundary"));
	struct resource r = RESOURCE_INIT;
	char id[24], *arn;
	json_t *attrs;
	int rc;

	if (need(c, "RoleName", &name) < 0 || need(c, "AssumeRolePolicyDocument", &doc) < 0)
		return -1;
	if (!role_name_valid(name))
		return codec_error_set(c->err, 400, "ValidationError",
			"1 validation error detected: Value '%s' at 'roleName' failed to satisfy "
			"constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
			name);
	if (path == NULL)
		path = "/";
	if (path[0] != '/' || path[strlen(path) - 1] != '/')
		return codec_error_set(c->err, 400, "ValidationError",
			"The specified value for path is invalid. It must begin and end with / and "
			"contain only alphanumeric characters and/or / characters.");
	if (max != NULL && (json_integer_value(max) < 3600 || json_integer_value(max) > 43200))
		return codec_error_set(c->err, 400, "ValidationError",
			"The requested MaxSessionDuration exceeds the allowed range: 3600 to 43200");
	if (policy_check(c, doc) < 0)
		return -1;
	rc = resource_get(c->db, "iam", "role", name, &r);
	resource_release(&r);
	if (rc < 0)
		return iam_internal(c, "create role");
	if (rc == 1)
		return codec_error_set(c->err, 409, "EntityAlreadyExists",
			"Role with name %s already exists.", name);
	memcpy(id, "AROA", 4);
	lc_random_id(id + 4, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	arn = xasprintf("arn:aws:iam::%s:role%s%s", LOCALCLOUD_ACCOUNT_ID, path, name);
	attrs = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:I}", "Path", path, "RoleName", name,
		"RoleId", id, "Arn", arn, "CreateDate", floor(lc_now()), "AssumeRolePolicyDocument",
		doc, "MaxSessionDuration", (json_int_t)(max != NULL ? json_integer_value(max) : 3600));
	if (desc != NULL)
		json_object_set_new(attrs, "Description", json_string(desc));
	if (boundary != NULL)
		json_object_set_new(attrs, "PermissionsBoundary",
			json_pack("{s:s, s:s}", "PermissionsBoundaryType", "Policy",
				"PermissionsBoundaryArn", boundary));
	r.service = xstrdup("iam");
	r.type = xstrdup("role");
	r.id = xstrdup(name);
	r.region = xstrdup(IAM_REGION);
	r.arn = arn;
	r.attrs = attrs;
	r.tags = json_incref(json_object_get(c->in, "Tags"));
	r.created = lc_now();
	rc = resource_insert(c->db, &r);
	resource_release(&r);
	if (rc < 0)
		return iam_internal(c, "create role");
	if (role_load(c, name, &r) != 1)
		return -1;
	json_object_set_new(c->out, "Role", role_item(&r));
	resource_release(&r);
	return 0;
}

static int get_role(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	json_object_set_new(c->out, "Role", role_item(&r));
	resource_release(&r);
	return 0;
}

/* the role's inline policies (a new array of their resource items), NULL on error */
static json_t *role_policies(struct lc_call *c, const char *role)
{
	static const struct resource_filter f_role[] = { { "role", "RoleName" }, { NULL, NULL } };
	json_t *f = json_pack("[{s:s, s:[s]}]", "Name", "role", "Values", role), *list = NULL;
	const char *bad = NULL;

	if (resource_list(c->db, "iam", "role-policy", NULL, NULL, f, f_role, &list, &bad) < 0)
		list = NULL;
	json_decref(f);
	return list;
}

static int delete_role(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;
	json_t *pols;
	int n;

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	resource_release(&r);
	if ((pols = role_policies(c, name)) == NULL)
		return iam_internal(c, "delete role");
	n = (int)json_array_size(pols);
	json_decref(pols);
	if (n > 0)
		return codec_error_set(c->err, 409, "DeleteConflict",
			"Cannot delete entity, must delete policies first.");
	if (resource_delete(c->db, "iam", "role", name) < 0)
		return iam_internal(c, "delete role");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int update_role(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name, *desc = json_string_value(json_object_get(c->in, "Description"));
	json_t *max = json_object_get(c->in, "MaxSessionDuration");

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (max != NULL && (json_integer_value(max) < 3600 || json_integer_value(max) > 43200))
		return codec_error_set(c->err, 400, "ValidationError",
			"The requested MaxSessionDuration exceeds the allowed range: 3600 to 43200");
	if (role_load(c, name, &r) != 1)
		return -1;
	if (desc != NULL)
		json_object_set_new(r.attrs, "Description", json_string(desc));
	if (max != NULL)
		json_object_set(r.attrs, "MaxSessionDuration", max);
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return iam_internal(c, "update role");
	}
	resource_release(&r);
	return 0;
}

static int update_assume_role_policy(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name, *doc;

	if (need(c, "RoleName", &name) < 0 || need(c, "PolicyDocument", &doc) < 0)
		return -1;
	if (policy_check(c, doc) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	json_object_set_new(r.attrs, "AssumeRolePolicyDocument", json_string(doc));
	if (resource_update(c->db, &r) < 0) {
		resource_release(&r);
		return iam_internal(c, "update trust policy");
	}
	resource_release(&r);
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int list_role_policies(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;
	json_t *pols, *names = json_array(), *p;
	size_t i;

	if (need(c, "RoleName", &name) < 0)
		goto fail;
	if (role_load(c, name, &r) != 1)
		goto fail;
	resource_release(&r);
	if ((pols = role_policies(c, name)) == NULL) {
		iam_internal(c, "list policies");
		goto fail;
	}
	json_array_foreach(pols, i, p)
		json_array_append(names, json_object_get(p, "PolicyName"));
	json_decref(pols);
	json_object_set_new(c->out, "PolicyNames", names);
	json_object_set_new(c->out, "IsTruncated", json_false());
	return 0;
fail:
	json_decref(names);
	return -1;
}

/* the lists of what nothing here creates: the role must exist, the list is empty */
static int empty_role_list(struct lc_call *c, const char *member)
{
	struct resource r = RESOURCE_INIT;
	const char *name;

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	resource_release(&r);
	json_object_set_new(c->out, member, json_array());
	json_object_set_new(c->out, "IsTruncated", json_false());
	return 0;
}

static int list_attached_role_policies(struct lc_call *c)
{
	return empty_role_list(c, "AttachedPolicies");
}

static int list_instance_profiles_for_role(struct lc_call *c)
{
	return empty_role_list(c, "InstanceProfiles");
}

static int put_role_policy(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT, p = RESOURCE_INIT;
	const char *role, *name, *doc;
	char *id;
	int rc;

	if (need(c, "RoleName", &role) < 0 || need(c, "PolicyName", &name) < 0 ||
		need(c, "PolicyDocument", &doc) < 0)
		return -1;
	if (!role_name_valid(name) || strlen(name) > 128)
		return codec_error_set(c->err, 400, "ValidationError",
			"1 validation error detected: Value '%s' at 'policyName' failed to satisfy "
			"constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
			name);
	if (policy_check(c, doc) < 0)
		return -1;
	if (role_load(c, role, &r) != 1)
		return -1;
	resource_release(&r);
	id = xasprintf("%s:%s", role, name);
	rc = resource_get(c->db, "iam", "role-policy", id, &p);
	if (rc == 1) {
		json_object_set_new(p.attrs, "PolicyDocument", json_string(doc));
		rc = resource_update(c->db, &p);
	} else if (rc == 0) {
		p.service = xstrdup("iam");
		p.type = xstrdup("role-policy");
		p.id = xstrdup(id);
		p.region = xstrdup(IAM_REGION);
		p.parent = xstrdup(role);
		p.attrs = json_pack("{s:s, s:s, s:s}", "RoleName", role, "PolicyName", name,
			"PolicyDocument", doc);
		p.created = lc_now();
		rc = resource_insert(c->db, &p);
	}
	free(id);
	resource_release(&p);
	if (rc < 0)
		return iam_internal(c, "put role policy");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

/* 1 loaded, 0 NoSuchEntity, -1 */
static int policy_load(struct lc_call *c, const char *role, const char *name,
	struct resource *p)
{
	struct resource r = RESOURCE_INIT;
	char *id;
	int rc;

	if (role_load(c, role, &r) != 1)
		return -1;
	resource_release(&r);
	id = xasprintf("%s:%s", role, name);
	rc = resource_get(c->db, "iam", "role-policy", id, p);
	free(id);
	if (rc < 0)
		return iam_internal(c, "role policy");
	if (rc == 0) {
		codec_error_set(c->err, 404, "NoSuchEntity",
			"The role policy with name %s cannot be found.", name);
		return 0;
	}
	return 1;
}

static int get_role_policy(struct lc_call *c)
{
	struct resource p = RESOURCE_INIT;
	const char *role, *name;
	char *enc;

	if (need(c, "RoleName", &role) < 0 || need(c, "PolicyName", &name) < 0)
		return -1;
	if (policy_load(c, role, name, &p) != 1)
		return -1;
	enc = url_encode(json_string_value(json_object_get(p.attrs, "PolicyDocument")));
	json_object_set_new(c->out, "RoleName", json_string(role));
	json_object_set_new(c->out, "PolicyName", json_string(name));
	json_object_set_new(c->out, "PolicyDocument", json_string(enc));
	free(enc);
	resource_release(&p);
	return 0;
}

static int delete_role_policy(struct lc_call *c)
{
	struct resource p = RESOURCE_INIT;
	const char *role, *name;
	int rc;

	if (need(c, "RoleName", &role) < 0 || need(c, "PolicyName", &name) < 0)
		return -1;
	if (policy_load(c, role, name, &p) != 1)
		return -1;
	rc = resource_delete(c->db, "iam", "role-policy", p.id);
	resource_release(&p);
	if (rc < 0)
		return iam_internal(c, "delete role policy");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int list_role_tags(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	json_object_set(c->out, "Tags", r.tags);
	json_object_set_new(c->out, "IsTruncated", json_false());
	resource_release(&r);
	return 0;
}

static int tag_role(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;
	int rc;

	if (need(c, "RoleName", &name) < 0)
		return -1;
	if (role_load(c, name, &r) != 1)
		return -1;
	resource_release(&r);
	rc = resource_tag(c->db, "iam", "role", name, json_object_get(c->in, "Tags"));
	if (rc < 0)
		return iam_internal(c, "tag role");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

static int untag_role(struct lc_call *c)
{
	struct resource r = RESOURCE_INIT;
	const char *name;
	json_t *keys = json_array(), *k;
	size_t i;
	int rc;

	if (need(c, "RoleName", &name) < 0 || role_load(c, name, &r) != 1) {
		json_decref(keys);
		return -1;
	}
	resource_release(&r);
	json_array_foreach(json_object_get(c->in, "TagKeys"), i, k)
		json_array_append_new(keys, json_pack("{s:O}", "Key", k));
	rc = resource_untag(c->db, "iam", "role", name, keys);
	json_decref(keys);
	if (rc < 0)
		return iam_internal(c, "untag role");
	json_decref(c->out);
	c->out = NULL;
	return 0;
}

#define IAM_OP(name)                                                                     \
	int iam_##name(struct lc_request *req, const json_t *in, json_t **out,          \
		struct codec_error *err)                                                 \
	{                                                                                \
		return iam_run(req, in, out, err, name);                                 \
	}

IAM_OP(get_user)
IAM_OP(create_role)
IAM_OP(get_role)
IAM_OP(delete_role)
IAM_OP(update_role)
IAM_OP(update_assume_role_policy)
IAM_OP(list_role_policies)
IAM_OP(list_attached_role_policies)
IAM_OP(list_instance_profiles_for_role)
IAM_OP(put_role_policy)
IAM_OP(get_role_policy)
IAM_OP(delete_role_policy)
IAM_OP(list_role_tags)
IAM_OP(tag_role)
IAM_OP(untag_role)
