/*
 * test-codec.c: botocore's protocol test suites run in reverse through
 * caliberd's codec (lib/aws/codec.h).  The suites are read in place from
 * ../shared/testdata/botocore_protocols (or $CALIBER_TESTDATA).
 *
 * Input cases: the request botocore sends (method, URI, headers, body) is
 * parsed back for the case's operation and compared with the case's
 * params, walking the shape (timestamps as instants, blobs as bytes).
 * Output cases: the case's result is written and the body compared with the
 * expected one as a tree (JSON as JSON with numbers by value; XML as element
 * trees, namespaces and sibling order of different names aside); error
 * cases are written and read back by the client's own parser (proto.h),
 * which must find the case's code, message and fields, with the case's
 * status.
 *
 * Every case not run is counted under a stated reason; a file's summary
 * line gives passed / failed / skipped.
 */
#include "compat.h"

#include <math.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "aws/codec.h"
#include "aws/proto.h"

static json_t *ignore_list;
/* Set by value_equal when the params hold an empty list or map the wire leaves out. */
static int lossy_empty;

struct tally {
	int pass, failed;
	json_t *skips;		/* reason -> count */
};

static void tally_skip(struct tally *t, const char *reason)
{
	json_t *n = json_object_get(t->skips, reason);

	json_object_set_new(t->skips, reason,
		json_integer(n ? json_integer_value(n) + 1 : 1));
}

static json_t *load_suite(const char *rel)
{
	const char *d = getenv("CALIBER_TESTDATA");
	char *path = xasprintf("%s/botocore_protocols/%s", d && *d ? d : "../shared/testdata", rel);
	json_error_t je;
	json_t *j = json_load_file(path, JSON_DECODE_ANY, &je);

	if (j == NULL)
		fail_msg("unable to read '%s': %s; set CALIBER_TESTDATA to the directory holding "
			 "botocore_protocols/", path, je.text);
	free(path);
	return j;
}

static int ignored(const char *protocol, const char *direction, const char *suite_desc,
	const char *id)
{
	json_t *g = json_object_get(json_object_get(json_object_get(ignore_list, "general"),
					    direction), "suites");
	json_t *p = json_object_get(json_object_get(json_object_get(json_object_get(ignore_list,
		"protocols"), protocol), direction), "cases");
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

/* Typed value from the codec against the case's params. */
static int value_equal(const struct aws_model *m, const json_t *shape, const json_t *expected,
	const json_t *actual, struct buf *why, const char *where)
{
	const char *type = aws_model_type(shape), *key;
	json_t *v, *ref;
	size_t i;

	if (actual == NULL && ((json_is_array(expected) && json_array_size(expected) == 0) ||
				      (json_is_object(expected) && json_object_size(expected) == 0 &&
					      strcmp(type, "structure")))) {
		lossy_empty = 1;
		return 1;
	}
	if (actual == NULL) {
		buf_appendf(why, "%s missing", where);
		return 0;
	}
	if (!strcmp(type, "structure") && !aws_model_bool(shape, "document")) {
		json_object_foreach((json_t *)expected, key, v) {
			char *sub = xasprintf("%s.%s", where, key);
			int same;

			if (json_is_null(v)) {
				free(sub);
				continue;
			}
			ref = json_object_get(json_object_get(shape, "members"), key);
			same = value_equal(m, aws_model_ref(m, ref), v, json_object_get(actual, key),
				why, sub);
			free(sub);
			if (!same)
				return 0;
		}
		json_object_foreach((json_t *)actual, key, v) {
			ref = json_object_get(json_object_get(shape, "members"), key);
			if (json_object_get(expected, key) == NULL &&
				!aws_model_bool(ref, "idempotencyToken")) {
				buf_appendf(why, "%s.%s parsed but not in the params", where, key);
				return 0;
			}
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

		if (codec_time_value(actual, &a) < 0 || codec_time_value(expected, &b) < 0 ||
			fabs(a - b) > 0.0005) {
			buf_appendf(why, "%s: timestamp differs", where);
			return 0;
		}
		return 1;
	}
	if (json_is_number(expected) && json_is_number(actual)) {
		if (json_number_value(expected) == json_number_value(actual))
			return 1;
	} else if (json_is_string(expected) && json_is_string(actual)) {
		if (json_string_length(expected) == json_string_length(actual) &&
			!memcmp(json_string_value(expected), json_string_value(actual),
				json_string_length(actual)))
			return 1;
	} else if (json_equal((json_t *)expected, (json_t *)actual)) {
		return 1;
	}
	{
		char *a = json_dumps(actual, JSON_ENCODE_ANY);
		char *b = json_dumps(expected, JSON_ENCODE_ANY);

		buf_appendf(why, "%s: %s, expected %s", where, a ? a : "(bytes)", b ? b : "?");
		free(a);
		free(b);
	}
	return 0;
}

/*
 * Do the params give a query-string map a key that a named member binds too?
 * The request carries such a parameter once: which member it came from is
 * lost (the codec gives it to the named member).
 */
static int query_map_overlap(const struct aws_model *m, const json_t *shape, const json_t *params)
{
	const json_t *members = json_object_get(shape, "members"), *ref, *other;
	const char *member, *key, *o;
	json_t *v;

	json_object_foreach((json_t *)members, member, ref) {
		const char *loc = aws_model_str(ref, "location");

		if (!loc || strcmp(loc, "querystring") ||
			strcmp(aws_model_type(aws_model_ref(m, ref)), "map"))
			continue;
		json_object_foreach(json_object_get(params, member), key, v) {
			json_object_foreach((json_t *)members, o, other) {
				const char *oloc = aws_model_str(other, "location");
				const char *name = aws_model_str(other, "locationName");

				if (other != ref && oloc && !strcmp(oloc, "querystring") &&
					!strcmp(name ? name : o, key))
					return 1;
			}
		}
	}
	return 0;
}

/* Returns 1 pass, 0 fail, or -1 with *reason for a case not run. */
static int input_case(json_t *suite, json_t *c, struct buf *why, const char **reason)
{
	json_t *root = case_model(suite, c), *ser = json_object_get(c, "serialized"), *hv, *in = NULL;
	const char *op = aws_model_str(json_object_get(c, "given"), "name"), *h;
	const char *uri = aws_model_str(ser, "uri"), *q;
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_request req;
	struct aws_model m;
	struct err e = ERR_INIT;
	int ok = 0;

	aws_request_init(&req);
	if (aws_model_from_json(&m, root, &e) < 0) {
		buf_appendf(why, "model: %s", e.msg);
		json_decref(root);
		return 0;
	}
	snprintf(req.method, sizeof(req.method), "%s", aws_model_str(ser, "method"));
	q = uri ? strchr(uri, '?') : NULL;
	buf_append(&req.path, uri ? uri : "/", q ? (size_t)(q - uri) : strlen(uri ? uri : "/"));
	if (q)
		buf_appends(&req.query, q + 1);
	json_object_foreach(json_object_get(ser, "headers"), h, hv)
		aws_kv_add(&req.headers, h, json_string_value(hv));
	if (aws_model_str(ser, "body"))
		buf_appends(&req.body, aws_model_str(ser, "body"));
	if (codec_parse(&m, op, &req, &in, &ce) < 0) {
		buf_appendf(why, "parse: %s %s", ce.code, ce.message);
		goto out;
	}
	lossy_empty = 0;
	ok = value_equal(&m, aws_model_ref(&m, json_object_get(json_object_get(c, "given"),
						       "input")), json_object_get(c, "params"), in, why,
		"input");
	if (!ok && query_map_overlap(&m, aws_model_ref(&m, json_object_get(json_object_get(c,
		"given"), "input")), json_object_get(c, "params"))) {
		*reason = "the params' query-string map repeats a parameter a named member binds; "
			  "the request carries it once (lossy in reverse)";
		buf_reset(why);
		ok = -1;
	} else if (ok && lossy_empty) {
		*reason = "the params hold an empty list or map that the request does not carry "
			  "(lossy in reverse); the rest matched";
		ok = -1;
	}
out:
	json_decref(in);
	codec_error_release(&ce);
	aws_request_release(&req);
	aws_model_release(&m);
	json_decref(root);
	return ok;
}

/* Text that reads as an ISO 8601 date-time: compared as an instant. */
static int iso_instant(const char *s, double *t)
{
	return strlen(s) >= 20 && s[4] == '-' && s[10] == 'T' && aws_time_parse(s, t) == 0;
}

static int text_equal(const char *a, const char *b)
{
	double x, y;

	if (iso_instant(a, &x) && iso_instant(b, &y))
		return fabs(x - y) < 0.0005;
	return !strcmp(a, b);
}

static int json_tree_equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, v)
			if (!json_tree_equal(v, json_object_get(b, key)))
				return 0;
		return 1;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, v)
			if (!json_tree_equal(v, json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_string(a) && json_is_string(b))
		return text_equal(json_string_value(a), json_string_value(b));
	return json_equal((json_t *)a, (json_t *)b);
}

/*
 * The expected body as the shape sees it: members the shape does not have,
 * and nulls, dropped (botocore ignores them, so no result can carry them).
 */
static json_t *json_prune(const struct aws_model *m, const json_t *shape, const json_t *v)
{
	const char *type = aws_model_type(shape), *key;
	json_t *out, *item, *ref;
	size_t i;

	if (shape == NULL)
		return json_object();
	if (!strcmp(type, "structure") && json_is_object(v) && !aws_model_bool(shape, "document")) {
		out = json_object();
		json_object_foreach(json_object_get(shape, "members"), key, ref) {
			const char *wire = aws_model_str(ref, "jsonName");

			wire = wire ? wire : aws_model_str(ref, "locationName");
			item = json_object_get(v, wire ? wire : key);
			if (item != NULL && !json_is_null(item))
				json_object_set_new(out, wire ? wire : key,
					json_prune(m, aws_model_ref(m, ref), item));
		}
		return out;
	}
	if (!strcmp(type, "list") && json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(out, json_prune(m, aws_model_ref(m,
				json_object_get(shape, "member")), item));
		return out;
	}
	if (!strcmp(type, "map") && json_is_object(v)) {
		out = json_object();
		json_object_foreach((json_t *)v, key, item)
			json_object_set_new(out, key, json_prune(m, aws_model_ref(m,
				json_object_get(shape, "value")), item));
		return out;
	}
	return json_incref((json_t *)v);
}

static int blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (!strchr(" \t\r\n", *s))
			return 0;
	return 1;
}

struct child {
	const char *name;
	size_t pos;		/* document order */
	char *canon;
};

static int child_cmp(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	/* qsort is not stable: same names keep document order (list items) */
	if (r == 0)
		return x->pos < y->pos ? -1 : x->pos > y->pos;
	return r;
}

/*
 * A canonical text of an element: name, attributes (xmlns aside), text,
 * children sorted by name (same-name siblings in order).
 */
static void xml_canon(xmlNode *n, int depth, struct buf *out)
{
	struct child *kids = NULL;
	size_t nk = 0, i;
	xmlAttr *a;
	xmlNode *c;

	buf_appendf(out, "<%s", (const char *)n->name);
	for (a = n->properties; a; a = a->next) {
		xmlChar *v = xmlGetProp(n, a->name);

		buf_appendf(out, " %s=%s", (const char *)a->name, v ? (const char *)v : "");
		xmlFree(v);
	}
	buf_appendc(out, '>');
	for (c = n->children; c; c = c->next) {
		double t;

		if (c->type == XML_TEXT_NODE && !blank(c->content)) {
			if (iso_instant((const char *)c->content, &t))
				buf_appendf(out, "@%.3f", t);
			else
				buf_appends(out, (const char *)c->content);
		} else if (c->type == XML_ELEMENT_NODE && depth == 0 &&
			   (!strcmp((const char *)c->name, "ResponseMetadata") ||
				   !strcmp((const char *)c->name, "requestId"))) {
			/* the frame's request id: the suites leave it out */
			continue;
		} else if (c->type == XML_ELEMENT_NODE) {
			struct buf b = BUF_INIT;

			xml_canon(c, depth + 1, &b);
			kids = xrealloc(kids, (nk + 1) * sizeof(*kids));
			kids[nk].name = (const char *)c->name;
			kids[nk].pos = nk;
			kids[nk].canon = buf_detach(&b);
			nk++;
		}
	}
	if (nk > 1)
		qsort(kids, nk, sizeof(*kids), child_cmp);
	for (i = 0; i < nk; i++) {
		buf_appends(out, kids[i].canon);
		free(kids[i].canon);
	}
	free(kids);
	buf_appendf(out, "</%s>", (const char *)n->name);
}

static char *xml_canon_text(const char *data, size_t len)
{
	xmlDoc *d = xmlReadMemory(data, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING);
	struct buf b = BUF_INIT;

	if (d == NULL)
		return NULL;
	xml_canon(xmlDocGetRootElement(d), 0, &b);
	xmlFreeDoc(d);
	return buf_detach(&b);
}

static int output_error_case(struct aws_model *m, json_t *c, struct buf *why)
{
	json_t *r = json_object_get(c, "response"), *out = NULL;
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_response resp;
	struct aws_error ae = AWS_ERROR_INIT;
	struct err e = ERR_INIT;
	const char *code = aws_model_str(c, "errorCode"), *msg = aws_model_str(c, "errorMessage");
	const char *op = aws_model_str(json_object_get(c, "given"), "name");
	json_t *fields = json_object_get(c, "error");
	int ok = 0;

	aws_response_init(&resp);
	ce.status = (int)json_integer_value(json_object_get(r, "status_code"));
	snprintf(ce.code, sizeof(ce.code), "%s", code);
	snprintf(ce.message, sizeof(ce.message), "%s", msg ? msg : "");
	if (json_object_size(fields))
		ce.fields = json_deep_copy(fields);
	codec_write_error(m, &ce, "requestid", &resp);
	if (resp.status != ce.status) {
		buf_appendf(why, "status %ld, expected %d", resp.status, ce.status);
		goto out;
	}
	/* the client reads EC2's <Response><Errors> with its Query parser */
	if (m->protocol == AWS_PROTO_EC2)
		m->protocol = AWS_PROTO_QUERY;
	/* REST-JSON errors are JSON 1.1's: {"__type", "message"} and x-amzn-ErrorType */
	if (m->protocol == AWS_PROTO_REST_JSON)
		m->protocol = AWS_PROTO_JSON;
	if (proto_parse(m, op, &resp, &out, &ae, &e) != 1) {
		buf_appendf(why, "the written error does not read back as one: %s", e.msg);
		goto out;
	}
	if (strcmp(ae.code, code) || (msg && strcmp(ae.message, msg))) {
		buf_appendf(why, "read back '%s' '%s', expected '%s' '%s': %s", ae.code, ae.message,
			code, msg ? msg : "", buf_str(&resp.body));
		goto out;
	}
	if (json_object_size(fields)) {
		json_t *a = ae.fields ? json_deep_copy(ae.fields) : json_object();
		const char *k;
		json_t *v;
		int same = 1;

		json_object_foreach(fields, k, v) {
			json_t *got = json_object_get(a, k);

			/* the message member is the message, compared above */
			if (!strcasecmp(k, "message") && msg && json_is_string(v) &&
				!strcmp(json_string_value(v), msg))
				continue;
			if (got == NULL || !json_tree_equal(v, got))
				same = 0;
		}
		json_decref(a);
		if (!same) {
			buf_appendf(why, "error fields differ: %s", buf_str(&resp.body));
			goto out;
		}
	}
	ok = 1;
out:
	json_decref(out);
	aws_error_release(&ae);
	codec_error_release(&ce);
	aws_response_release(&resp);
	return ok;
}

/* Status and every expected header (Content-Type aside: a body decides it). */
static int rest_head_equal(const json_t *r, const struct aws_response *resp, struct buf *why)
{
	const char *h;
	json_t *hv;
	long status = (long)json_integer_value(json_object_get(r, "status_code"));

	if (status && resp->status != status) {
		buf_appendf(why, "status %ld, expected %ld", resp->status, status);
		return 0;
	}
	json_object_foreach(json_object_get(r, "headers"), h, hv) {
		const char *got = aws_kv_get(&resp->headers, h), *want = json_string_value(hv);
		double x, y;

		if (!strcasecmp(h, "Content-Type") || !strcasecmp(h, "Content-Length"))
			continue;
		if (got != NULL && (!strcmp(got, want) || (aws_time_parse(got, &x) == 0 &&
			aws_time_parse(want, &y) == 0 && strchr(want, ':') && fabs(x - y) < 0.0005)))
			continue;
		{
			/* lists: "a, b" and "a,b" are the same */
			struct buf ga = BUF_INIT, wa = BUF_INIT;
			const char *p;
			int same;

			for (p = got ? got : ""; *p; p++)
				if (*p != ' ')
					buf_appendc(&ga, *p);
			for (p = want; *p; p++)
				if (*p != ' ')
					buf_appendc(&wa, *p);
			same = got && !strcmp(buf_str(&ga), buf_str(&wa));
			buf_release(&ga);
			buf_release(&wa);
			if (same)
				continue;
		}
		buf_appendf(why, "header %s: '%s', expected '%s'", h, got ? got : "(none)", want);
		return 0;
	}
	return 1;
}

static int output_case(json_t *suite, json_t *c, const char *protocol, struct buf *why,
	const char **reason)
{
	json_t *root = case_model(suite, c), *r = json_object_get(c, "response");
	const char *op = aws_model_str(json_object_get(c, "given"), "name");
	const char *body = aws_model_str(r, "body");
	struct aws_response resp;
	struct aws_model m;
	struct err e = ERR_INIT;
	int ok = 0;

	aws_response_init(&resp);
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
	if (json_object_get(c, "errorCode")) {
		ok = output_error_case(&m, c, why);
		goto out;
	}
	if (codec_write_result(&m, op, json_object_get(c, "result"), "requestid", &resp, &e) < 0) {
		buf_appendf(why, "write: %s", e.msg);
		goto out;
	}
	if (!strcmp(protocol, "rest-json") && !rest_head_equal(r, &resp, why)) {
		ok = 0;
	} else if (!strcmp(protocol, "rest-json") && body && *body &&
		   body[strspn(body, " \n\t")] != '{' && body[strspn(body, " \n\t")] != '[') {
		/* a raw payload (blob, string): the bytes */
		ok = resp.body.len == strlen(body) && !memcmp(resp.body.data, body, resp.body.len);
		if (!ok)
			buf_appendf(why, "body '%s', expected '%s'", buf_str(&resp.body), body);
	} else if (!strcmp(protocol, "json") || !strcmp(protocol, "rest-json")) {
		json_t *a = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) :
			json_object();
		json_t *b = body && *body ? json_loads(body, 0, NULL) : json_object();
		const json_t *oshape = aws_model_ref(&m, json_object_get(json_object_get(c, "given"),
			"output"));
		const char *payload = aws_model_str(oshape, "payload");
		json_t *pruned;

		/* a payload member is the whole body */
		if (payload != NULL)
			oshape = aws_model_ref(&m, json_object_get(json_object_get(oshape, "members"),
				payload));
		pruned = json_prune(&m, oshape, b);

		ok = a && b && json_tree_equal(a, pruned);
		if (!ok)
			buf_appendf(why, "body %s, expected %s", buf_str(&resp.body), body);
		else if (!json_tree_equal(pruned, b)) {
			*reason = "the expected body holds members or nulls the shape does not "
				  "have (botocore drops them: lossy in reverse); the rest matched";
			ok = -1;
		}
		json_decref(pruned);
		json_decref(a);
		json_decref(b);
	} else {
		char *a = xml_canon_text(resp.body.data, resp.body.len);
		char *b = body && *body ? xml_canon_text(body, strlen(body)) : NULL;
		int rest = !strcmp(protocol, "rest-xml");

		if (rest && !rest_head_equal(r, &resp, why)) {
			ok = 0;
		} else if (rest && b == NULL) {
			/* no body, or a raw payload (blob, string): the bytes */
			ok = resp.body.len == (body ? strlen(body) : 0) &&
			     (resp.body.len == 0 || !memcmp(resp.body.data, body, resp.body.len));
			if (!ok)
				buf_appendf(why, "body '%s', expected '%s'", buf_str(&resp.body),
					body ? body : "");
		} else if (b == NULL) {
			/* an empty expected body: only the frame is written */
			*reason = "the expected body is empty (botocore reads no members from it)";
			ok = -1;
		} else {
			ok = a && !strcmp(a, b);
			if (!ok)
				buf_appendf(why, "body\n  %s\nexpected\n  %s", a ? a : "(not XML)", b);
		}
		free(a);
		free(b);
	}
out:
	aws_response_release(&resp);
	aws_model_release(&m);
	json_decref(root);
	return ok;
}

static void run_suite(const char *protocol, const char *direction, const char *unsupported)
{
	char *rel = xasprintf("%s/%s.json", direction, protocol);
	json_t *suites = load_suite(rel), *suite, *c, *n;
	struct tally t = { 0, 0, json_object() };
	const char *reason_key;
	size_t i, j;

	json_array_foreach(suites, i, suite) {
		const char *desc = aws_model_str(suite, "description");

		json_array_foreach(json_object_get(suite, "cases"), j, c) {
			struct buf why = BUF_INIT;
			const char *id = aws_model_str(c, "id"), *reason = NULL;
			int ok;

			if (unsupported != NULL) {
				tally_skip(&t, unsupported);
				continue;
			}
			if (id && !strcmp(id, "XmlLists") && !strcmp(protocol, "rest-xml") &&
				!strcmp(direction, "input")) {
				tally_skip(&t, "a flattened list whose member has its own xmlName: "
					"botocore writes it under the structure member's name but reads "
					"it under the list member's; the codec reads as botocore reads");
				continue;
			}
			if (ignored(protocol, direction, desc, id ? id : "")) {
				tally_skip(&t, "botocore skips it forward (protocol-tests-ignore-list.json)");
				continue;
			}
			ok = !strcmp(direction, "input") ? input_case(suite, c, &why, &reason) :
				output_case(suite, c, protocol, &why, &reason);
			if (ok < 0) {
				tally_skip(&t, reason);
			} else if (ok) {
				t.pass++;
			} else {
				t.failed++;
				print_message("FAIL %s %s %s: %s\n", protocol, direction,
					id ? id : desc, buf_str(&why));
			}
			buf_release(&why);
		}
	}
	print_message("codec %s %s: %d passed, %d failed\n", direction, protocol, t.pass,
		t.failed);
	json_object_foreach(t.skips, reason_key, n)
		print_message("  %d skipped: %s\n", (int)json_integer_value(n), reason_key);
	json_decref(t.skips);
	json_decref(suites);
	free(rel);
	assert_int_equal(t.failed, 0);
}

#define SUITE(fn, proto, dir, unsupported)                                                         \
	static void fn(void **state)                                                               \
	{                                                                                          \
		(void)state;                                                                       \
		run_suite(proto, dir, unsupported);                                                \
	}

SUITE(test_json_requests_parse_back_to_their_params, "json", "input", NULL)
SUITE(test_json_results_write_the_expected_bodies, "json", "output", NULL)
SUITE(test_query_requests_parse_back_to_their_params, "query", "input", NULL)
SUITE(test_query_results_write_the_expected_bodies, "query", "output", NULL)
SUITE(test_ec2_requests_parse_back_to_their_params, "ec2", "input", NULL)
SUITE(test_ec2_results_write_the_expected_bodies, "ec2", "output", NULL)
SUITE(test_restxml_requests_parse_back_to_their_params, "rest-xml", "input", NULL)
SUITE(test_restxml_results_write_the_expected_bodies, "rest-xml", "output", NULL)
SUITE(test_restjson_requests_parse_back_to_their_params, "rest-json", "input", NULL)
SUITE(test_restjson_results_write_the_expected_bodies, "rest-json", "output", NULL)

/* The server's models hold every operation of the services caliberd emulates. */
static void test_server_models_hold_every_operation(void **state)
{
	static const char *const services[] = { "secretsmanager", "logs", "ecs", "elbv2", "rds",
		"s3", "cloudfront", "route53", "docdb", "ec2", "iam", "kms", "acm", "sts" };
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(services); i++) {
		const struct aws_model *m = aws_model_server_get(services[i], &e);

		if (m == NULL)
			fail_msg("no server model of '%s': %s", services[i], e.msg);
		assert_true(json_object_size(m->operations) > 0);
	}
	assert_non_null(aws_model_operation(aws_model_server_get("secretsmanager", &e),
		"ListSecretVersionIds"));
	assert_non_null(aws_model_operation(aws_model_server_get("logs", &e), "PutLogEvents"));
}

/* A wrongly typed member is refused naming the member and the value. */
static void test_json_wrong_type_names_member_and_value(void **state)
{
	struct err e = ERR_INIT;
	const struct aws_model *m = aws_model_server_get("secretsmanager", &e);
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_request req;
	json_t *in = NULL;

	(void)state;
	aws_request_init(&req);
	buf_appends(&req.body, "{\"SecretId\": \"s\", \"VersionStage\": 17}");
	assert_int_equal(codec_parse(m, "GetSecretValue", &req, &in, &ce), -1);
	assert_string_equal(ce.code, "SerializationException");
	assert_non_null(strstr(ce.message, "VersionStage"));
	assert_non_null(strstr(ce.message, "17"));
	assert_null(in);
	aws_request_release(&req);
	aws_request_init(&req);
	buf_appends(&req.body, "{\"SecretId\": \"s\", \"SecretBinary\": \"!!\"}");
	assert_int_equal(codec_parse(m, "PutSecretValue", &req, &in, &ce), -1);
	assert_non_null(strstr(ce.message, "SecretBinary"));
	aws_request_release(&req);
	aws_request_init(&req);
	buf_appends(&req.body, "{\"SecretId\": \"s\", \"SecretBinary\": \"AP8=\"}");
	assert_int_equal(codec_parse(m, "PutSecretValue", &req, &in, &ce), 0);
	assert_int_equal(json_string_length(json_object_get(in, "SecretBinary")), 2);
	assert_memory_equal(json_string_value(json_object_get(in, "SecretBinary")), "\0\377", 2);
	json_decref(in);
	aws_request_release(&req);
}

/* Query and REST-XML refuse in their own words, naming the parameter and the value. */
static void test_query_and_restxml_refusals_name_member_and_value(void **state)
{
	struct err e = ERR_INIT;
	const struct aws_model *rds = aws_model_server_get("rds", &e);
	const struct aws_model *r53 = aws_model_server_get("route53", &e);
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_request req;
	json_t *in = NULL;

	(void)state;
	aws_request_init(&req);
	aws_kv_add(&req.headers, "Content-Type", "application/x-www-form-urlencoded");
	buf_appends(&req.body, "Action=CreateDBInstance&DBInstanceIdentifier=a&AllocatedStorage=lots");
	assert_int_equal(codec_parse(rds, "CreateDBInstance", &req, &in, &ce), -1);
	assert_string_equal(ce.code, "ValidationError");
	assert_non_null(strstr(ce.message, "AllocatedStorage"));
	assert_non_null(strstr(ce.message, "lots"));
	aws_request_release(&req);

	aws_request_init(&req);
	aws_kv_add(&req.headers, "Content-Type", "application/x-www-form-urlencoded");
	buf_appends(&req.body, "Action=CreateDBInstance&DBInstanceIdentifier=a%zz");
	assert_int_equal(codec_parse(rds, "CreateDBInstance", &req, &in, &ce), -1);
	assert_string_equal(ce.code, "MalformedQueryString");
	aws_request_release(&req);

	aws_request_init(&req);
	snprintf(req.method, sizeof(req.method), "POST");
	buf_appends(&req.path, "/2013-04-01/hostedzone/Z1/rrset/");
	buf_appends(&req.body, "<ChangeResourceRecordSetsRequest><ChangeBatch>");
	assert_int_equal(codec_parse(r53, "ChangeResourceRecordSets", &req, &in, &ce), -1);
	assert_string_equal(ce.code, "MalformedXML");
	aws_request_release(&req);

	aws_request_init(&req);
	snprintf(req.method, sizeof(req.method), "GET");
	buf_appends(&req.path, "/2013-04-01/hostedzone/Z1/rrset");
	buf_appends(&req.query, "maxitems=many");
	assert_int_equal(codec_parse(r53, "ListResourceRecordSets", &req, &in, &ce), 0);
	/* maxitems is a string in Route 53's model: the handler decides */
	assert_string_equal(json_string_value(json_object_get(in, "MaxItems")), "many");
	assert_string_equal(json_string_value(json_object_get(in, "HostedZoneId")), "Z1");
	json_decref(in);
	aws_request_release(&req);
}

/* A handler's output member that the shape does not have is a bug, never sent. */
static void test_output_outside_the_shape_is_refused(void **state)
{
	struct err e = ERR_INIT;
	const struct aws_model *m = aws_model_server_get("secretsmanager", &e);
	json_t *out = json_pack("{s:s, s:s}", "ARN", "arn:x", "Bogus", "y");
	struct aws_response resp;

	(void)state;
	aws_response_init(&resp);
	assert_int_equal(codec_write_result(m, "DescribeSecret", out, "r", &resp, &e), -1);
	assert_non_null(strstr(e.msg, "Bogus"));
	json_decref(out);
	aws_response_release(&resp);
}

/*
 * Route 53 as AWS writes it: the reply and its errors in the service's
 * namespace, the operation's status (201) and header members, timestamps to
 * the millisecond; a body whose
 * root is not the request's element is MalformedXML; rrset without its '/'.
 */
static void test_restxml_replies_in_the_service_namespace_with_the_op_status(void **state)
{
	struct err e = ERR_INIT;
	const struct aws_model *r53 = aws_model_server_get("route53", &e);
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_response resp;
	struct aws_request req;
	json_t *out, *in = NULL;

	(void)state;
	assert_non_null(r53);
	out = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:f}, s:{s:[s]}, s:s}",
		"HostedZone", "Id", "/hostedzone/Z1", "Name", "a.localhost.",
		"CallerReference", "r", "ChangeInfo", "Id", "/change/C1", "Status", "PENDING",
		"SubmittedAt", 1.25, "DelegationSet", "NameServers", "ns-1.localhost",
		"Location", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1");
	aws_response_init(&resp);
	assert_int_equal(codec_write_result(r53, "CreateHostedZone", out, "r", &resp, &e), 0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(aws_kv_get(&resp.headers, "Location"),
		"https://route53.amazonaws.com/2013-04-01/hostedzone/Z1");
	assert_non_null(strstr(buf_str(&resp.body), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<CreateHostedZoneResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<HostedZone>"));
	/* to the millisecond, as Route 53 writes it (the server model's iso8601ms) */
	assert_non_null(strstr(buf_str(&resp.body),
		"<SubmittedAt>1970-01-01T00:00:01.250Z</SubmittedAt>"));
	json_decref(out);
	aws_response_release(&resp);

	aws_response_init(&resp);
	codec_error_set(&ce, 404, "NoSuchHostedZone", "No hosted zone found with ID: Z9");
	codec_write_error(r53, &ce, "r", &resp);
	assert_int_equal(resp.status, 404);
	assert_non_null(strstr(buf_str(&resp.body),
		"<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error>"
		"<Type>Sender</Type><Code>NoSuchHostedZone</Code>"));
	aws_response_release(&resp);

	aws_request_init(&req);
	snprintf(req.method, sizeof(req.method), "POST");
	buf_appends(&req.path, "/2013-04-01/hostedzone");
	buf_appends(&req.body, "<Other><Name>a.localhost</Name><CallerReference>r</CallerReference>"
		"</Other>");
	assert_int_equal(codec_parse(r53, "CreateHostedZone", &req, &in, &ce), -1);
	assert_string_equal(ce.code, "MalformedXML");
	aws_request_release(&req);

	aws_request_init(&req);
	snprintf(req.method, sizeof(req.method), "POST");
	buf_appends(&req.path, "/2013-04-01/hostedzone/Z1/rrset");
	buf_appends(&req.body, "<ChangeResourceRecordSetsRequest><ChangeBatch><Comment>c</Comment>"
		"</ChangeBatch></ChangeResourceRecordSetsRequest>");
	assert_int_equal(codec_parse(r53, "ChangeResourceRecordSets", &req, &in, &ce), 0);
	assert_string_equal(json_string_value(json_object_get(in, "HostedZoneId")), "Z1");
	json_decref(in);
	aws_request_release(&req);
}

/* A body value that does not read as its type is refused, never dropped. */
static void test_restxml_body_value_of_the_wrong_type_is_refused(void **state)
{
	static const char *const bodies[] = {
		"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE"
		"</Action><ResourceRecordSet><Name>a.localhost</Name><Type>A</Type><TTL>abc</TTL>"
		"</ResourceRecordSet></Change></Changes></ChangeBatch>"
		"</ChangeResourceRecordSetsRequest>",
		"<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE"
		"</Action><ResourceRecordSet><Name>a.localhost</Name><Type>A</Type><AliasTarget>"
		"<HostedZoneId>Z</HostedZoneId><DNSName>b.localhost</DNSName>"
		"<EvaluateTargetHealth>abc</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>"
		"</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
	};
	struct err e = ERR_INIT;
	const struct aws_model *r53 = aws_model_server_get("route53", &e);
	struct codec_error ce = CODEC_ERROR_INIT;
	struct aws_request req;
	json_t *in = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bodies); i++) {
		aws_request_init(&req);
		snprintf(req.method, sizeof(req.method), "POST");
		buf_appends(&req.path, "/2013-04-01/hostedzone/Z1/rrset/");
		buf_appends(&req.body, bodies[i]);
		assert_int_equal(codec_parse(r53, "ChangeResourceRecordSets", &req, &in, &ce), -1);
		assert_null(in);
		assert_string_equal(ce.code, "InvalidArgument");
		assert_non_null(strstr(ce.message, i == 0 ? "TTL" : "EvaluateTargetHealth"));
		assert_non_null(strstr(ce.message, "'abc'"));
		aws_request_release(&req);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_models_hold_every_operation),
		cmocka_unit_test(test_json_wrong_type_names_member_and_value),
		cmocka_unit_test(test_output_outside_the_shape_is_refused),
		cmocka_unit_test(test_query_and_restxml_refusals_name_member_and_value),
		cmocka_unit_test(test_restxml_replies_in_the_service_namespace_with_the_op_status),
		cmocka_unit_test(test_restxml_body_value_of_the_wrong_type_is_refused),
		cmocka_unit_test(test_json_requests_parse_back_to_their_params),
		cmocka_unit_test(test_json_results_write_the_expected_bodies),
		cmocka_unit_test(test_query_requests_parse_back_to_their_params),
		cmocka_unit_test(test_query_results_write_the_expected_bodies),
		cmocka_unit_test(test_ec2_requests_parse_back_to_their_params),
		cmocka_unit_test(test_ec2_results_write_the_expected_bodies),
		cmocka_unit_test(test_restxml_requests_parse_back_to_their_params),
		cmocka_unit_test(test_restxml_results_write_the_expected_bodies),
		cmocka_unit_test(test_restjson_requests_parse_back_to_their_params),
		cmocka_unit_test(test_restjson_results_write_the_expected_bodies),
	};
	int r;

	ignore_list = load_suite("protocol-tests-ignore-list.json");
	r = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(ignore_list);
	return r;
}
