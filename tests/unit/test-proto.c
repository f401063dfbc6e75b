/*
 * test-proto.c: botocore's own protocol test suites, every case, run
 * through caliber's model-driven serialisers and parsers.  The suites are
 * read in place from ../shared/testdata/botocore_protocols (or
 * $CALIBER_TESTDATA): each input case gives a model fragment, parameters
 * and the exact request botocore sends; each output case a raw response
 * and what botocore parses from it.  Cases that botocore itself skips
 * (protocol-tests-ignore-list.json) are skipped here too and counted.
 *
 * Comparison: method and path exactly, query parameters as a multiset,
 * every expected header exactly, bodies structurally (JSON as JSON, forms
 * as parameter lists, XML as element trees).  Timestamps in results are
 * compared as instants (caliber prints ISO 8601, the suites epoch seconds)
 * and blobs after base64 decoding (caliber prints blobs in base64, as
 * awscli does).
 */
#include "compat.h"

#include <math.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "aws/proto.h"

static json_t *ignore_list;

static char *suite_path(const char *rel)
{
	const char *d = getenv("CALIBER_TESTDATA");

	return xasprintf("%s/botocore_protocols/%s", d && *d ? d : "../shared/testdata", rel);
}

static json_t *load_suite(const char *rel)
{
	char *path = suite_path(rel);
	json_error_t je;
	json_t *j = json_load_file(path, JSON_DECODE_ANY, &je);

	if (j == NULL)
		fail_msg("unable to read '%s': %s", path, je.text);
	free(path);
	return j;
}

static int ignored(const char *protocol, const char *direction, const char *suite_desc,
	const char *id)
{
	json_t *g = json_object_get(json_object_get(json_object_get(ignore_list, "general"),
					    direction),
		"suites");
	json_t *p = json_object_get(json_object_get(json_object_get(json_object_get(ignore_list,
										 "protocols"),
						    protocol),
					    direction),
		"cases");
	json_t *v;
	size_t i;

	json_array_foreach(g, i, v)
		if (!strcmp(json_string_value(v), suite_desc))
			return 1;
	json_array_foreach(p, i, v)
		if (!strcmp(json_string_value(v), id))
			return 1;
	return 0;
}

/* The model of one case: the suite's metadata and shapes, the case's operation. */
static json_t *case_model(json_t *suite, json_t *c)
{
	json_t *root = json_object(), *ops = json_object();
	json_t *given = json_deep_copy(json_object_get(c, "given"));

	json_object_set(root, "metadata", json_object_get(suite, "metadata"));
	json_object_set(root, "shapes", json_object_get(suite, "shapes"));
	json_object_set_new(ops, json_string_value(json_object_get(given, "name")), given);
	json_object_set_new(root, "operations", ops);
	return root;
}

/* "a=1&b=2" -> sorted JSON array of decoded "name=value" strings */
static json_t *form_items(const char *s)
{
	json_t *arr = json_array();
	char *copy = xstrdup(s), *save = NULL, *tok;

	for (tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
		struct buf b = BUF_INIT;
		const char *p;

		for (p = tok; *p; p++) {
			if (*p == '+') {
				buf_appendc(&b, ' ');
			} else if (*p == '%' && p[1] && p[2]) {
				char hex[3] = { p[1], p[2], 0 };

				buf_appendc(&b, (char)strtol(hex, NULL, 16));
				p += 2;
			} else {
				buf_appendc(&b, *p);
			}
		}
		if (!strchr(b.data ? b.data : "", '='))
			buf_appendc(&b, '=');
		json_array_append_new(arr, json_string(buf_str(&b)));
		buf_release(&b);
	}
	free(copy);
	/* insertion sort by string */
	for (size_t i = 1; i < json_array_size(arr); i++)
		for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(arr, j - 1)),
						    json_string_value(json_array_get(arr, j))) > 0;
			j--) {
			json_t *a = json_incref(json_array_get(arr, j - 1));

			json_array_set(arr, j - 1, json_array_get(arr, j));
			json_array_set_new(arr, j, a);
		}
	return arr;
}

static int blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (!strchr(" \t\r\n", *s))
			return 0;
	return 1;
}

static int xml_equal(xmlNode *a, xmlNode *b)
{
	xmlNode *ca, *cb;
	xmlAttr *attr;

	if (strcmp((const char *)a->name, (const char *)b->name))
		return 0;
	for (attr = a->properties; attr; attr = attr->next) {
		xmlChar *va = xmlGetProp(a, attr->name), *vb = xmlGetProp(b, attr->name);
		int same = va && vb && !strcmp((char *)va, (char *)vb);

		xmlFree(va);
		xmlFree(vb);
		if (!same)
			return 0;
	}
	ca = a->children;
	cb = b->children;
	for (;;) {
		while (ca && (ca->type != XML_ELEMENT_NODE &&
				     !(ca->type == XML_TEXT_NODE && !blank(ca->content))))
			ca = ca->next;
		while (cb && (cb->type != XML_ELEMENT_NODE &&
				     !(cb->type == XML_TEXT_NODE && !blank(cb->content))))
			cb = cb->next;
		if (!ca || !cb)
			return ca == cb;
		if (ca->type != cb->type)
			return 0;
		if (ca->type == XML_TEXT_NODE) {
			if (strcmp((char *)ca->content, (char *)cb->content))
				return 0;
		} else if (!xml_equal(ca, cb)) {
			return 0;
		}
		ca = ca->next;
		cb = cb->next;
	}
}

static int body_equal(const char *protocol, const char *expected, const struct buf *actual)
{
	int same = 0;

	if (!strcmp(protocol, "json")) {
		json_t *a = json_loadb(actual->data, actual->len, JSON_DECODE_ANY, NULL);
		json_t *b = json_loads(expected, JSON_DECODE_ANY, NULL);

		same = (a && b && json_equal(a, b)) || (!*expected && actual->len == 0);
		json_decref(a);
		json_decref(b);
	} else if (!strcmp(protocol, "query")) {
		json_t *a = form_items(buf_str(actual)), *b = form_items(expected);

		same = json_equal(a, b);
		json_decref(a);
		json_decref(b);
	} else {
		xmlDoc *a, *b;

		while (*expected == ' ' || *expected == '\n')
			expected++;
		if (expected[0] != '<')
			return actual->len == strlen(expected) && !memcmp(actual->data, expected,
									  actual->len);
		a = xmlReadMemory(actual->data, (int)actual->len, NULL, NULL, XML_PARSE_NONET);
		b = xmlReadMemory(expected, (int)strlen(expected), NULL, NULL, XML_PARSE_NONET);
		same = a && b && xml_equal(xmlDocGetRootElement(a), xmlDocGetRootElement(b));
		xmlFreeDoc(a);
		xmlFreeDoc(b);
	}
	return same;
}

/*
 * Where the suites expect a header that botocore itself writes differently,
 * caliber follows botocore (the bytes are signed, and awscli is what a
 * request must match): the Query Content-Type carries "; charset=utf-8",
 * REST-XML bodies get no Content-Type, and header lists are joined with ","
 * without a space.
 */
static int header_equal(const char *protocol, const char *name, const char *expected,
	const char *got)
{
	struct buf a = BUF_INIT;
	const char *p;
	int same;

	if (!strcasecmp(name, "Content-Type")) {
		if (!strcmp(protocol, "query"))
			return got && !strncmp(got, expected, strlen(expected)) &&
				!strcmp(got + strlen(expected), "; charset=utf-8");
		if (!strcmp(protocol, "rest-xml"))
			return got == NULL || !strcmp(got, expected);
	}
	if (got == NULL)
		return 0;
	{
		struct buf b = BUF_INIT;

		for (p = expected; *p; p++)
			if (!(*p == ' ' && p > expected && p[-1] == ','))
				buf_appendc(&a, *p);
		for (p = got; *p; p++)
			if (!(*p == ' ' && p > got && p[-1] == ','))
				buf_appendc(&b, *p);
		same = !strcmp(buf_str(&a), buf_str(&b));
		buf_release(&b);
	}
	buf_release(&a);
	return same;
}

static int check_input_case(json_t *suite, json_t *c, const char *protocol, struct buf *why)
{
	json_t *root = case_model(suite, c), *ser = json_object_get(c, "serialized"), *hv;
	struct aws_model m;
	struct aws_request req;
	struct err e = ERR_INIT;
	const char *op = aws_model_str(json_object_get(c, "given"), "name"), *h, *uri;
	const char *qmark;
	char *path = NULL, *query;
	int ok = 0;

	aws_request_init(&req);
	if (aws_model_from_json(&m, root, &e) < 0) {
		buf_appendf(why, "model: %s", e.msg);
		json_decref(root);
		return 0;
	}
	if (proto_serialize(&m, op, json_object_get(c, "params"), &req, &e) < 0) {
		buf_appendf(why, "serialize: %s", e.msg);
		goto out;
	}
	if (strcmp(req.method, aws_model_str(ser, "method"))) {
		buf_appendf(why, "method %s, expected %s", req.method, aws_model_str(ser, "method"));
		goto out;
	}
	uri = aws_model_str(ser, "uri");
	qmark = strchr(uri, '?');
	path = qmark ? xstrndup(uri, (size_t)(qmark - uri)) : xstrdup(uri);
	if (strcmp(path, buf_str(&req.path))) {
		buf_appendf(why, "path '%s', expected '%s'", buf_str(&req.path), path);
		goto out;
	}
	query = qmark ? (char *)qmark + 1 : "";
	{
		json_t *a = form_items(buf_str(&req.query)), *b = form_items(query);
		int same = json_equal(a, b);

		json_decref(a);
		json_decref(b);
		if (!same) {
			buf_appendf(why, "query '%s', expected '%s'", buf_str(&req.query), query);
			goto out;
		}
	}
	json_object_foreach(json_object_get(ser, "headers"), h, hv) {
		const char *got = aws_kv_get(&req.headers, h);

		if (header_equal(protocol, h, json_string_value(hv), got))
			continue;
		{
			buf_appendf(why, "header %s: '%s', expected '%s'", h, got ? got : "(none)",
				json_string_value(hv));
			goto out;
		}
	}
	if (json_is_string(json_object_get(ser, "body")) &&
		!body_equal(protocol, aws_model_str(ser, "body"), &req.body)) {
		buf_appendf(why, "body '%s', expected '%s'", buf_str(&req.body),
			aws_model_str(ser, "body"));
		goto out;
	}
	if (aws_model_str(ser, "host")) {
		char *host = xasprintf("%sexample.com", req.host_prefix ? req.host_prefix : "");

		if (strcmp(host, aws_model_str(ser, "host"))) {
			buf_appendf(why, "host '%s', expected '%s'", host, aws_model_str(ser, "host"));
			free(host);
			goto out;
		}
		free(host);
	}
	ok = 1;
out:
	free(path);
	aws_request_release(&req);
	aws_model_release(&m);
	json_decref(root);
	return ok;
}

/* Expected value (the suite's form) against caliber's output, walking the shape. */
static int value_equal(const struct aws_model *m, const json_t *shape, const json_t *expected,
	const json_t *actual, struct buf *why, const char *where)
{
	const char *type = aws_model_type(shape), *key;
	json_t *v, *ref;
	size_t i;

	if (actual == NULL) {
		buf_appendf(why, "%s missing", where);
		return 0;
	}
	if (!strcmp(type, "structure")) {
		json_object_foreach((json_t *)expected, key, v) {
			char *sub = xasprintf("%s.%s", where, key);
			int same;

			ref = json_object_get(json_object_get(shape, "members"), key);
			same = value_equal(m, aws_model_ref(m, ref), v, json_object_get(actual, key),
				why, sub);
			free(sub);
			if (!same)
				return 0;
		}
		if (json_object_size(actual) != json_object_size(expected)) {
			buf_appendf(why, "%s: %zu members, expected %zu", where,
				json_object_size(actual), json_object_size(expected));
			return 0;
		}
		return 1;
	}
	if (!strcmp(type, "list")) {
		if (json_array_size(actual) != json_array_size(expected)) {
			buf_appendf(why, "%s: %zu items, expected %zu", where,
				json_array_size(actual), json_array_size(expected));
			return 0;
		}
		json_array_foreach(expected, i, v)
			if (!value_equal(m, aws_model_ref(m, json_object_get(shape, "member")), v,
				    json_array_get(actual, i), why, where))
				return 0;
		return 1;
	}
	if (!strcmp(type, "map")) {
		if (json_object_size(actual) != json_object_size(expected)) {
			buf_appendf(why, "%s: %zu entries, expected %zu", where,
				json_object_size(actual), json_object_size(expected));
			return 0;
		}
		json_object_foreach((json_t *)expected, key, v)
			if (!value_equal(m, aws_model_ref(m, json_object_get(shape, "value")), v,
				    json_object_get(actual, key), why, where))
				return 0;
		return 1;
	}
	if (!strcmp(type, "timestamp")) {
		double a, b;

		if (aws_time_from_json(actual, &a) < 0 || aws_time_from_json(expected, &b) < 0 ||
			fabs(a - b) > 0.0005) {
			char *s = json_dumps(actual, JSON_ENCODE_ANY);

			buf_appendf(why, "%s: timestamp %s, expected %f", where, s, b);
			free(s);
			return 0;
		}
		return 1;
	}
	if (!strcmp(type, "blob") && json_is_string(actual)) {
		struct buf d = BUF_INIT;
		int same = aws_base64_decode(json_string_value(actual), json_string_length(actual),
				   &d) == 0 &&
			d.len == json_string_length(expected) &&
			!memcmp(d.data, json_string_value(expected), d.len);

		if (!same)
			buf_appendf(why, "%s: blob '%s' does not decode to '%s'", where,
				json_string_value(actual), json_string_value(expected));
		buf_release(&d);
		return same;
	}
	if (json_is_number(expected) && json_is_number(actual)) {
		if (json_number_value(expected) == json_number_value(actual))
			return 1;
	} else if (json_equal((json_t *)expected, (json_t *)actual)) {
		return 1;
	}
	{
		char *a = json_dumps(actual, JSON_ENCODE_ANY), *b = json_dumps(expected,
								  JSON_ENCODE_ANY);

		buf_appendf(why, "%s: %s, expected %s", where, a, b);
		free(a);
		free(b);
	}
	return 0;
}

static int check_output_case(json_t *suite, json_t *c, const char *protocol, struct buf *why)
{
	json_t *root = case_model(suite, c), *r = json_object_get(c, "response"), *hv, *out = NULL;
	struct aws_model m;
	struct aws_response resp;
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	const char *op = aws_model_str(json_object_get(c, "given"), "name"), *h;
	const char *body = aws_model_str(r, "body");
	int ok = 0, ret;

	aws_response_init(&resp);
	/* the Query suites leave out the <OpResult> wrapper that real models name */
	if (!strcmp(protocol, "query")) {
		json_t *given = json_object_get(json_object_get(root, "operations"), op);
		json_t *oref = json_object_get(given, "output");

		if (oref && !json_object_get(oref, "resultWrapper"))
			json_object_set_new(oref, "resultWrapper", json_sprintf("%sResult", op));
	}
	if (aws_model_from_json(&m, root, &e) < 0) {
		buf_appendf(why, "model: %s", e.msg);
		json_decref(root);
		return 0;
	}
	resp.status = (long)json_integer_value(json_object_get(r, "status_code"));
	json_object_foreach(json_object_get(r, "headers"), h, hv)
		aws_kv_add(&resp.headers, h, json_string_value(hv));
	if (body)
		buf_appends(&resp.body, body);
	ret = proto_parse(&m, op, &resp, &out, &ae, &e);
	if (ret < 0) {
		buf_appendf(why, "parse: %s", e.msg);
		goto out;
	}
	if (json_object_get(c, "errorCode")) {
		const char *code = aws_model_str(c, "errorCode");
		const char *msg = aws_model_str(c, "errorMessage");
		json_t *fields = json_object_get(c, "error");

		if (ret != 1 || strcmp(ae.code, code)) {
			buf_appendf(why, "error code '%s', expected '%s'", ae.code, code);
			goto out;
		}
		if (msg && strcmp(ae.message, msg)) {
			buf_appendf(why, "error message '%s', expected '%s'", ae.message, msg);
			goto out;
		}
		if (json_object_size(fields)) {
			const json_t *es = proto_error_shape(&m, json_object_get(c, "given"), code);

			if (es == NULL || !value_equal(&m, es, fields, ae.fields, why, "error"))
				goto out;
		}
		ok = 1;
		goto out;
	}
	if (ret != 0) {
		buf_appendf(why, "unexpected error '%s'", ae.code);
		goto out;
	}
	ok = value_equal(&m, aws_model_ref(&m, json_object_get(json_object_get(c, "given"),
						       "output")),
		json_object_get(c, "result"), out, why, "result");
	if (!json_object_get(json_object_get(c, "given"), "output"))
		ok = json_object_size(json_object_get(c, "result")) == json_object_size(out);
out:
	json_decref(out);
	aws_error_release(&ae);
	aws_response_release(&resp);
	aws_model_release(&m);
	json_decref(root);
	return ok;
}

static void run_suite(const char *protocol, const char *direction)
{
	char *rel = xasprintf("%s/%s.json", direction, protocol);
	json_t *suites = load_suite(rel), *suite, *c;
	size_t i, j;
	int pass = 0, failed = 0, skipped = 0;

	json_array_foreach(suites, i, suite) {
		const char *desc = aws_model_str(suite, "description");

		json_array_foreach(json_object_get(suite, "cases"), j, c) {
			struct buf why = BUF_INIT;
			const char *id = aws_model_str(c, "id");
			int ok;

			if (ignored(protocol, direction, desc, id ? id : "")) {
				skipped++;
				continue;
			}
			ok = !strcmp(direction, "input") ? check_input_case(suite, c, protocol, &why) :
							   check_output_case(suite, c, protocol, &why);
			if (ok) {
				pass++;
			} else {
				failed++;
				print_message("FAIL %s %s %s: %s\n", protocol, direction,
					id ? id : desc, buf_str(&why));
			}
			buf_release(&why);
		}
	}
	print_message("%s %s: %d passed, %d failed, %d skipped as botocore skips them\n",
		protocol, direction, pass, failed, skipped);
	json_decref(suites);
	free(rel);
	assert_int_equal(failed, 0);
}

static void test_json_input_matches_botocore(void **state)
{
	(void)state;
	run_suite("json", "input");
}

static void test_json_output_matches_botocore(void **state)
{
	(void)state;
	run_suite("json", "output");
}

static void test_query_input_matches_botocore(void **state)
{
	(void)state;
	run_suite("query", "input");
}

static void test_query_output_matches_botocore(void **state)
{
	(void)state;
	run_suite("query", "output");
}

static void test_restxml_input_matches_botocore(void **state)
{
	(void)state;
	run_suite("rest-xml", "input");
}

static void test_restxml_output_matches_botocore(void **state)
{
	(void)state;
	run_suite("rest-xml", "output");
}

/* Found by fuzz-json (make fuzz-long): a timestamp of 6.4e95 seconds crashed the formatter. */
static void test_timestamps_outside_years_1_to_9999_are_refused(void **state)
{
	double t = 0;

	(void)state;
	assert_int_equal(aws_time_parse("9999-12-31T23:59:59Z", &t), 0);
	assert_true(t == 253402300799.0);
	assert_int_equal(aws_time_parse("0001-01-01T00:00:00Z", &t), 0);
	assert_int_equal(aws_time_parse("1767323045.5", &t), 0);
	assert_true(t == 1767323045.5);
	assert_int_equal(aws_time_parse("64444444444444444444444444444444444444444444", &t), -1);
	assert_int_equal(aws_time_parse("1e20", &t), -1);
	assert_int_equal(aws_time_parse("nan", &t), -1);
	{
		json_t *big = json_real(6.4e95);

		assert_int_equal(aws_time_from_json(big, &t), -1);
		json_decref(big);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timestamps_outside_years_1_to_9999_are_refused),
		cmocka_unit_test(test_json_input_matches_botocore),
		cmocka_unit_test(test_json_output_matches_botocore),
		cmocka_unit_test(test_query_input_matches_botocore),
		cmocka_unit_test(test_query_output_matches_botocore),
		cmocka_unit_test(test_restxml_input_matches_botocore),
		cmocka_unit_test(test_restxml_output_matches_botocore),
	};
	int r;

	ignore_list = load_suite("protocol-tests-ignore-list.json");
	r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(ignore_list);
	return r;
}
