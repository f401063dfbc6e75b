/*
 * test-resources.c: the generic resource store (localcloud/core/resources.c):
 * AWS-shaped ids, rows keyed by (service, type, id), EC2's filters over the
 * attributes (list steps, tag:Key, tag-key, wildcards, unknown names), tags,
 * children counts, on a real store in a temporary directory.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "core/caliberd.h"
#include "core/resources.h"
#include "core/store.h"

struct fixture {
	char dir[64];
	struct lc_server srv;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct err e = ERR_INIT;
	char *path;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-resources-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	path = xasprintf("%s/db", f->dir);
	assert_int_equal(store_open(path, &f->srv.store, &e), 0);
	free(path);
	assert_int_equal(resources_init(&f->srv, &e), 0);
	/* twice is harmless: every service that uses the store calls it */
	assert_int_equal(resources_init(&f->srv, &e), 0);
	assert_int_equal(store_begin(f->srv.store, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_rollback(f->srv.store);
	store_close(f->srv.store);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static sqlite3 *db_of(void **state)
{
	return store_db(((struct fixture *)*state)->srv.store);
}

static void put(sqlite3 *db, const char *type, const char *id, const char *parent,
	const char *attrs_json, const char *tags_json)
{
	struct resource r = RESOURCE_INIT;

	r.service = xstrdup("ec2");
	r.type = xstrdup(type);
	r.id = xstrdup(id);
	r.region = xstrdup("us-east-1");
	r.parent = parent != NULL ? xstrdup(parent) : NULL;
	r.attrs = json_loads(attrs_json, 0, NULL);
	r.tags = tags_json != NULL ? json_loads(tags_json, 0, NULL) : NULL;
	assert_non_null(r.attrs);
	assert_int_equal(resource_insert(db, &r), 0);
	resource_release(&r);
}

static const struct resource_filter rtb_filters[] = {
	{ "vpc-id", "VpcId" },
	{ "association.main", "Associations.Main" },
	{ "route.gateway-id", "Routes.GatewayId" },
	{ NULL, NULL },
};

/* the ids of a list for filters (JSON) */
static char *ids_for(sqlite3 *db, const char *filters_json)
{
	json_t *filters = filters_json != NULL ? json_loads(filters_json, 0, NULL) : NULL;
	json_t *list = NULL, *x;
	const char *bad = NULL;
	struct buf b = BUF_INIT;
	size_t i;

	assert_int_equal(resource_list(db, "ec2", "route-table", "us-east-1", NULL, filters,
				 rtb_filters, &list, &bad),
		0);
	buf_init(&b);
	json_array_foreach(list, i, x) {
		if (i > 0)
			buf_appends(&b, " ");
		buf_appends(&b, json_string_value(json_object_get(x, "RouteTableId")));
	}
	json_decref(list);
	json_decref(filters);
	return buf_detach(&b);
}

static void test_ids_are_aws_shaped(void **state)
{
	char a[32], b[32];
	size_t i;

	(void)state;
	resource_new_id(a, sizeof(a), "vpc");
	resource_new_id(b, sizeof(b), "vpc");
	assert_int_equal(strlen(a), 4 + 17);
	assert_memory_equal(a, "vpc-", 4);
	for (i = 4; a[i]; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

static void test_wildcards_match_as_aws_filters_do(void **state)
{
	(void)state;
	assert_true(resource_glob("tfnet-*", "tfnet-private"));
	assert_true(resource_glob("*private", "tfnet-private"));
	assert_true(resource_glob("10.?.0.0/16", "10.8.0.0/16"));
	assert_false(resource_glob("10.?.0.0/16", "10.40.0.0/16"));
	assert_true(resource_glob("*", ""));
	assert_false(resource_glob("a", "ab"));
}

static void test_filters_follow_lists_tags_and_refuse_unknown_names(void **state)
{
	sqlite3 *db = db_of(state);
	json_t *filters, *list = NULL;
	const char *bad = NULL;
	char *ids;

	put(db, "route-table", "rtb-main", "vpc-1",
		"{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
		"\"Associations\":[{\"Main\":true}],\"Routes\":[{\"GatewayId\":\"local\"}]}",
		"[{\"Key\":\"Name\",\"Value\":\"main\"}]");
	put(db, "route-table", "rtb-pub", "vpc-1",
		"{\"RouteTableId\":\"rtb-pub\",\"VpcId\":\"vpc-1\",\"Associations\":[],"
		"\"Routes\":[{\"GatewayId\":\"local\"},{\"GatewayId\":\"igw-1\"}]}",
		"[{\"Key\":\"Name\",\"Value\":\"tfnet-public\"},{\"Key\":\"tier\",\"Value\":\"public\"}]");
	put(db, "route-table", "rtb-other", "vpc-2",
		"{\"RouteTableId\":\"rtb-other\",\"VpcId\":\"vpc-2\",\"Associations\":[],\"Routes\":[]}",
		NULL);

	ids = ids_for(db, NULL);
	assert_string_equal(ids, "rtb-main rtb-pub rtb-other");
	free(ids);
	/* filters are ANDed, the values of one filter ORed */
	ids = ids_for(db, "[{\"Name\":\"vpc-id\",\"Values\":[\"vpc-1\"]},"
			  "{\"Name\":\"association.main\",\"Values\":[\"true\"]}]");
	assert_string_equal(ids, "rtb-main");
	free(ids);
	ids = ids_for(db, "[{\"Name\":\"vpc-id\",\"Values\":[\"vpc-2\",\"vpc-1\"]}]");
	assert_string_equal(ids, "rtb-main rtb-pub rtb-other");
	free(ids);
	ids = ids_for(db, "[{\"Name\":\"route.gateway-id\",\"Values\":[\"igw-*\"]}]");
	assert_string_equal(ids, "rtb-pub");
	free(ids);
	ids = ids_for(db, "[{\"Name\":\"tag:Name\",\"Values\":[\"tfnet-*\"]}]");
	assert_string_equal(ids, "rtb-pub");
	free(ids);
	ids = ids_for(db, "[{\"Name\":\"tag-key\",\"Values\":[\"tier\",\"Name\"]}]");
	assert_string_equal(ids, "rtb-main rtb-pub");
	free(ids);
	/* an empty value list matches nothing */
	ids = ids_for(db, "[{\"Name\":\"vpc-id\",\"Values\":[]}]");
	assert_string_equal(ids, "");
	free(ids);

	filters = json_loads("[{\"Name\":\"no-such\",\"Values\":[\"x\"]}]", 0, NULL);
	assert_int_equal(resource_list(db, "ec2", "route-table", NULL, NULL, filters, rtb_filters,
				 &list, &bad),
		-2);
	assert_string_equal(bad, "no-such");
	assert_null(list);
	json_decref(filters);
}

static void test_rows_tags_and_children(void **state)
{
	sqlite3 *db = db_of(state);
	struct resource r = RESOURCE_INIT;
	json_t *tags, *item;

	put(db, "vpc", "vpc-1", NULL, "{\"VpcId\":\"vpc-1\",\"_EnableDnsSupport\":true}", NULL);
	put(db, "subnet", "subnet-1", "vpc-1", "{\"SubnetId\":\"subnet-1\"}", NULL);
	put(db, "subnet", "subnet-2", "vpc-1", "{\"SubnetId\":\"subnet-2\"}", NULL);
	assert_int_equal(resource_count_children(db, "ec2", "subnet", "vpc-1"), 2);
	assert_int_equal(resource_count_children(db, "ec2", "subnet", "vpc-9"), 0);

	/* by id alone (CreateTags names ids, not types), and not in another service */
	assert_int_equal(resource_get(db, "ec2", NULL, "subnet-2", &r), 1);
	assert_string_equal(r.type, "subnet");
	assert_string_equal(r.parent, "vpc-1");
	resource_release(&r);
	assert_int_equal(resource_get(db, "iam", NULL, "subnet-2", &r), 0);
	assert_int_equal(resource_get(db, "ec2", "vpc", "subnet-2", &r), 0);

	/* bookkeeping attributes stay out of the describe item */
	assert_int_equal(resource_get(db, "ec2", "vpc", "vpc-1", &r), 1);
	item = resource_item(&r);
	assert_null(json_object_get(item, "_EnableDnsSupport"));
	assert_null(json_object_get(item, "Tags"));
	json_decref(item);
	json_object_set_new(r.attrs, "State", json_string("available"));
	assert_int_equal(resource_update(db, &r), 0);
	resource_release(&r);
	assert_int_equal(resource_get(db, "ec2", "vpc", "vpc-1", &r), 1);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "State")), "available");
	resource_release(&r);

	tags = json_loads("[{\"Key\":\"b\",\"Value\":\"2\"},{\"Key\":\"a\"}]", 0, NULL);
	assert_int_equal(resource_tag(db, "ec2", "vpc", "vpc-1", tags), 0);
	json_decref(tags);
	tags = resource_tags(db, "ec2", "vpc", "vpc-1");
	item = json_loads("[{\"Key\":\"a\",\"Value\":\"\"},{\"Key\":\"b\",\"Value\":\"2\"}]", 0, NULL);
	assert_true(json_equal(tags, item));
	json_decref(item);
	json_decref(tags);
	/* DeleteTags with a value removes the tag only when the value matches */
	tags = json_loads("[{\"Key\":\"b\",\"Value\":\"3\"},{\"Key\":\"a\"}]", 0, NULL);
	assert_int_equal(resource_untag(db, "ec2", "vpc", "vpc-1", tags), 0);
	json_decref(tags);
	tags = resource_tags(db, "ec2", "vpc", "vpc-1");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "b");
	json_decref(tags);
	tags = resource_tags_all(db, "ec2");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(tags, 0), "ResourceType")), "vpc");
	json_decref(tags);

	assert_int_equal(resource_delete(db, "ec2", "vpc", "vpc-1"), 0);
	assert_int_equal(resource_get(db, "ec2", "vpc", "vpc-1", &r), 0);
	tags = resource_tags(db, "ec2", "vpc", "vpc-1");
	assert_int_equal(json_array_size(tags), 0);
	json_decref(tags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_are_aws_shaped),
		cmocka_unit_test(test_wildcards_match_as_aws_filters_do),
		cmocka_unit_test_setup_teardown(
			test_filters_follow_lists_tags_and_refuse_unknown_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_tags_and_children, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
