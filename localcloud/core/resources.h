/*
 * resources.h: the generic resource store, for what a service only
 * records and describes back (a VPC, a subnet, a security group, an IAM
 * role): ONE table keyed by (service, type, id) holding the resource's
 * region, ARN, parent (a subnet's VPC), created time and its attributes as
 * JSON (the service's own describe shape, member names as the codec
 * writes them), and one table of tags keyed the same way.  No table per
 * resource type.
 *
 * Everything here runs inside the caller's store transaction on db (see
 * store.h): a handler begins, calls these, commits.
 *
 * Filters are EC2's (Filter.N.Name / Filter.N.Value.M, typed by the codec
 * as [{"Name": ..., "Values": [...]}]): a name is looked up in the
 * caller's table of known names, each naming a path into the attributes
 * ("VpcId", "Associations.Main": a step into a list matches any element);
 * "tag:Key" and "tag-key" need no table.  Values match as AWS matches
 * them: any of the values, '*' and '?' as wildcards; booleans as
 * "true"/"false", numbers in decimal.
 *
 * The tag table has no foreign key to the resource table, so a service
 * whose resources live in its own tables (CloudWatch Logs' groups) may
 * keep their tags here too; resource_delete() drops a resource's tags.
 *
 * resource_tags_all(): every tag of a service, for EC2's DescribeTags.
 */
#ifndef CALIBER_LC_RESOURCES_H
#define CALIBER_LC_RESOURCES_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "err.h"

struct lc_server;

/* One resource.  Every member is owned (resource_release() frees them). */
struct resource {
	char *service;		/* "ec2" */
	char *type;		/* "vpc", "subnet", "security-group" */
	char *id;		/* "vpc-0123456789abcdef0" */
	char *region;
	char *arn;		/* NULL when the type has none */
	char *parent;		/* NULL when none: a subnet's VPC id */
	json_t *attrs;		/* object, the describe shape without its tags */
	json_t *tags;		/* [{"Key": k, "Value": v}], in key order */
	double created;		/* seconds since the epoch */
};

#define RESOURCE_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* A filter name a type answers, and the attribute path it reads. */
struct resource_filter {
	const char *name;	/* "vpc-id" */
	const char *path;	/* "VpcId"; steps separated by '.' */
};

/* Create the tables (a service's init calls it; running it twice is harmless). */
int resources_init(struct lc_server *srv, struct err *e);

/* prefix + "-" + 17 lower-case hex digits into out (at least strlen(prefix) + 19 bytes). */
void resource_new_id(char *out, size_t size, const char *prefix);

void resource_release(struct resource *r);

/*
 * Insert r (attrs and tags as they are; tags may be NULL).  0, or -1 when
 * the store failed (logged; store_write_failed set).
 */
int resource_insert(sqlite3 *db, const struct resource *r);
/*
 * Load the resource (service, type, id) into *out (released by the
 * caller).  type NULL: any type of the service with that id.  1 found, 0
 * not, -1 error.
 */
int resource_get(sqlite3 *db, const char *service, const char *type, const char *id,
	struct resource *out);
/* Write r's attrs and parent back.  0 or -1. */
int resource_update(sqlite3 *db, const struct resource *r);
/* Delete the resource and its tags.  0 or -1. */
int resource_delete(sqlite3 *db, const char *service, const char *type, const char *id);
/* How many resources of (service, type) have parent as their parent; -1 error. */
int resource_count_children(sqlite3 *db, const char *service, const char *type,
	const char *parent);

/*
 * The resources of (service, type) in region (NULL: every region),
 * oldest first, as describe items (attrs with "Tags" added when there are
 * any), into *out (a new array).  ids: NULL or an array of ids to keep
 * (the caller checks that each exists when AWS says so).  filters: NULL or
 * EC2's filter list.  Returns 0; -1 store error; -2 a filter name that
 * known does not have (*bad_filter points at it, borrowed from filters).
 */
int resource_list(sqlite3 *db, const char *service, const char *type, const char *region,
	const json_t *ids, const json_t *filters, const struct resource_filter *known,
	json_t **out, const char **bad_filter);
/*
 * The describe item of r: its attrs with "Tags" when it has tags (a new
 * object).  Attributes whose name starts with '_' are the service's own
 * bookkeeping (a NAT gateway's time of readiness) and are left out.
 */
json_t *resource_item(const struct resource *r);
/* Whether the item matches every filter: 1, 0, -2 unknown filter name. */
int resource_match(const json_t *item, const json_t *filters, const struct resource_filter *known,
	const char **bad_filter);

/* The tags of (service, type, id), [{"Key","Value"}] in key order (a new array); NULL on error. */
json_t *resource_tags(sqlite3 *db, const char *service, const char *type, const char *id);
/* Add or overwrite tags ([{"Key","Value"}]; a missing Value is "").  0 or -1. */
int resource_tag(sqlite3 *db, const char *service, const char *type, const char *id,
	const json_t *tags);
/*
 * Remove tags: each {"Key"} alone removes the key, {"Key","Value"} only
 * when the value is that one (EC2's DeleteTags); NULL removes every tag.
 */
int resource_untag(sqlite3 *db, const char *service, const char *type, const char *id,
	const json_t *tags);

/* Every tag of service as [{"Key","Value","ResourceId","ResourceType"}]; NULL on error. */
json_t *resource_tags_all(sqlite3 *db, const char *service);

/* Wildcard match of AWS filters: '*' any run, '?' one character. */
int resource_glob(const char *pattern, const char *s);

#endif
