/*
 * test-docdb-model.c: why caliberd reads `aws docdb` with the rds model.
 *
 * `aws docdb` signs as rds and posts to RDS's endpoint, so caliberd cannot
 * tell its calls from `aws rds` ones; the codec parses and writes both with
 * the server's rds model (codec_glue_model_name("rds")).  That is right only
 * while every docdb operation is an rds operation whose input and output
 * shapes hold every docdb member under the same name, type and XML name,
 * all the way down, and whose errors include docdb's: this test walks both
 * models to say so.
 */
#include "compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "aws/codec.h"
#include "aws/model.h"

/* The pairs already compared (shapes recurse). */
struct seen {
	char **pairs;
	size_t n;
	size_t compared;
};

static int seen_add(struct seen *s, const char *a, const char *b)
{
	char *key = xasprintf("%s|%s", a, b);
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->pairs[i], key)) {
			free(key);
			return 0;
		}
	}
	s->pairs = xrealloc(s->pairs, (s->n + 1) * sizeof(*s->pairs));
	s->pairs[s->n++] = key;
	return 1;
}

static void compare_shape(const struct aws_model *dd, const struct aws_model *rr,
	const char *dname, const char *rname, const char *where, struct seen *s)
{
	json_t *a = aws_model_shape(dd, dname), *b = aws_model_shape(rr, rname);
	const char *type;

	if (!seen_add(s, dname, rname))
		return;
	s->compared++;
	if (b == NULL)
		fail_msg("%s: rds has no shape %s", where, rname);
	type = aws_model_type(a);
	if (strcmp(type, aws_model_type(b)))
		fail_msg("%s: docdb's %s is a %s, rds's %s a %s", where, dname, type, rname,
			aws_model_type(b));
	if (!strcmp(type, "structure")) {
		json_t *members = json_object_get(a, "members"), *ref;
		const char *name;

		json_object_foreach(members, name, ref)
		{
			json_t *other = json_object_get(json_object_get(b, "members"), name);
			const char *la, *lb;
			char *sub;

			if (other == NULL)
				fail_msg("%s.%s: not in rds's %s", where, name, rname);
			la = aws_model_str(ref, "locationName");
			lb = aws_model_str(other, "locationName");
			if ((la == NULL) != (lb == NULL) || (la != NULL && strcmp(la, lb)))
				fail_msg("%s.%s: locationName %s in docdb, %s in rds", where, name,
					la ? la : "(none)", lb ? lb : "(none)");
			sub = xasprintf("%s.%s", where, name);
			compare_shape(dd, rr, aws_model_str(ref, "shape"), aws_model_str(other, "shape"),
				sub, s);
			free(sub);
		}
	} else if (!strcmp(type, "list")) {
		json_t *ma = json_object_get(a, "member"), *mb = json_object_get(b, "member");
		const char *la = aws_model_str(ma, "locationName"), *lb = aws_model_str(mb, "locationName");
		char *sub;

		if ((la == NULL) != (lb == NULL) || (la != NULL && strcmp(la, lb)))
			fail_msg("%s[]: member locationName %s in docdb, %s in rds", where,
				la ? la : "(none)", lb ? lb : "(none)");
		if (aws_model_bool(a, "flattened") != aws_model_bool(b, "flattened"))
			fail_msg("%s: flattened in one model only", where);
		sub = xasprintf("%s[]", where);
		compare_shape(dd, rr, aws_model_str(ma, "shape"), aws_model_str(mb, "shape"), sub, s);
		free(sub);
	}
}

/* Every docdb operation reads and writes as the rds operation of its name. */
static void test_docdb_operations_are_rds_operations_member_for_member(void **state)
{
	struct err e = ERR_INIT;
	const struct aws_model *dd = aws_model_server_get("docdb", &e);
	const struct aws_model *rr = aws_model_server_get("rds", &e);
	struct seen s = { 0 };
	const char *name;
	json_t *op;
	size_t i, n_ops = 0;

	(void)state;
	assert_non_null(dd);
	assert_non_null(rr);
	assert_string_equal(aws_model_str(dd->metadata, "signingName"), "rds");
	assert_string_equal(aws_model_str(dd->metadata, "xmlNamespace"),
		aws_model_str(rr->metadata, "xmlNamespace"));
	json_object_foreach(dd->operations, name, op)
	{
		json_t *other = aws_model_operation(rr, name), *err_ref;
		static const char *const sides[] = { "input", "output" };
		size_t k;

		if (other == NULL)
			fail_msg("%s: not an rds operation", name);
		for (k = 0; k < ARRAY_SIZE(sides); k++) {
			json_t *a = json_object_get(op, sides[k]), *b = json_object_get(other, sides[k]);
			const char *wa, *wb;
			char *where;

			if (a == NULL)
				continue;
			if (b == NULL)
				fail_msg("%s: rds has no %s", name, sides[k]);
			wa = aws_model_str(a, "resultWrapper");
			wb = aws_model_str(b, "resultWrapper");
			if ((wa == NULL) != (wb == NULL) || (wa != NULL && strcmp(wa, wb)))
				fail_msg("%s: another result wrapper in rds", name);
			where = xasprintf("%s.%s", name, sides[k]);
			compare_shape(dd, rr, aws_model_str(a, "shape"), aws_model_str(b, "shape"),
				where, &s);
			free(where);
		}
		json_array_foreach(json_object_get(op, "errors"), i, err_ref)
		{
			const char *shape = aws_model_str(err_ref, "shape");
			json_t *x;
			size_t j;
			int found = 0;

			json_array_foreach(json_object_get(other, "errors"), j, x)
				found |= !strcmp(aws_model_str(x, "shape"), shape);
			if (!found)
				fail_msg("%s: rds does not list the error %s", name, shape);
		}
		n_ops++;
	}
	/* botocore 1.29's docdb: 53 operations; a newer model only adds */
	assert_true(n_ops >= 53);
	assert_true(s.compared > 100);
	/* what the generator patches in for DocumentDB's managed master password */
	assert_non_null(json_object_get(json_object_get(aws_model_shape(rr, "CreateDBClusterMessage"),
		"members"), "ManageMasterUserPassword"));
	assert_non_null(json_object_get(json_object_get(aws_model_shape(rr, "DBCluster"), "members"),
		"MasterUserSecret"));
	for (i = 0; i < s.n; i++)
		free(s.pairs[i]);
	free(s.pairs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docdb_operations_are_rds_operations_member_for_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
