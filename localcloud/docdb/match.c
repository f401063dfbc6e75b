/*
 * match.c: the query language on BSON.  Semantics follow MongoDB's manual:
 * comparison operators only match values of the same type bracket, a path
 * that meets an array matches when any element does ("dotted paths into
 * arrays"), {f: null} also matches a missing f, and the negations ($ne,
 * $nin, $not) are the complements of their positive forms.
 */
#include "compat.h"

#include <math.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "match.h"

int value_bracket(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY: return 0;
	case BSON_TYPE_UNDEFINED:
	case BSON_TYPE_NULL: return 1;
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return 2;
	case BSON_TYPE_SYMBOL:
	case BSON_TYPE_UTF8: return 3;
	case BSON_TYPE_DOCUMENT: return 4;
	case BSON_TYPE_ARRAY: return 5;
	case BSON_TYPE_BINARY: return 6;
	case BSON_TYPE_OID: return 7;
	case BSON_TYPE_BOOL: return 8;
	case BSON_TYPE_DATE_TIME: return 9;
	case BSON_TYPE_TIMESTAMP: return 10;
	case BSON_TYPE_REGEX: return 11;
	case BSON_TYPE_DBPOINTER: return 12;
	case BSON_TYPE_CODE: return 13;
	case BSON_TYPE_CODEWSCOPE: return 14;
	case BSON_TYPE_MAXKEY: return 20;
	default: return 15;
	}
}

bool value_is_number(const bson_value_t *v)
{
	return value_bracket(v->value_type) == 2;
}

double value_number(const bson_value_t *v)
{
	char s[BSON_DECIMAL128_STRING];

	switch (v->value_type) {
	case BSON_TYPE_INT32: return v->value.v_int32;
	case BSON_TYPE_INT64: return (double)v->value.v_int64;
	case BSON_TYPE_DOUBLE: return v->value.v_double;
	case BSON_TYPE_DECIMAL128:
		bson_decimal128_to_string(&v->value.v_decimal128, s);
		return strtod(s, NULL);
	default: return 0;
	}
}

static int cmp_num(const bson_value_t *a, const bson_value_t *b)
{
	double x, y;

	if (a->value_type == BSON_TYPE_INT64 && b->value_type == BSON_TYPE_INT64)
		return (a->value.v_int64 > b->value.v_int64) - (a->value.v_int64 < b->value.v_int64);
	x = value_number(a);
	y = value_number(b);
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;	/* NaN sorts first */
	return (x > y) - (x < y);
}

static int cmp_bytes(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return (an > bn) - (an < bn);
}

static void str_of(const bson_value_t *v, const char **s, size_t *n)
{
	if (v->value_type == BSON_TYPE_SYMBOL) {
		*s = v->value.v_symbol.symbol;
		*n = v->value.v_symbol.len;
	} else {
		*s = v->value.v_utf8.str;
		*n = v->value.v_utf8.len;
	}
}

/* Documents and arrays: element by element, type bracket, then name, then value. */
static int cmp_docs(const uint8_t *ad, uint32_t an, const uint8_t *bd, uint32_t bn, bool names)
{
	bson_t a, b;
	bson_iter_t ia, ib;

	if (!bson_init_static(&a, ad, an) || !bson_init_static(&b, bd, bn) || !bson_iter_init(&ia, &a) ||
	    !bson_iter_init(&ib, &b))
		return 0;
	for (;;) {
		bool ma = bson_iter_next(&ia), mb = bson_iter_next(&ib);
		int c;

		if (!ma || !mb)
			return ma - mb;
		c = value_bracket(bson_iter_type(&ia)) - value_bracket(bson_iter_type(&ib));
		if (c != 0)
			return c < 0 ? -1 : 1;
		if (names && (c = strcmp(bson_iter_key(&ia), bson_iter_key(&ib))) != 0)
			return c < 0 ? -1 : 1;
		c = value_compare(bson_iter_value(&ia), bson_iter_value(&ib));
		if (c != 0)
			return c;
	}
}

int value_compare(const bson_value_t *a, const bson_value_t *b)
{
	int ba = value_bracket(a->value_type), bb = value_bracket(b->value_type);
	const char *s1, *s2;
	size_t n1, n2;
	int c;

	if (ba != bb)
		return ba < bb ? -1 : 1;
	switch (ba) {
	case 2: return cmp_num(a, b);
	case 3:
		str_of(a, &s1, &n1);
		str_of(b, &s2, &n2);
		return cmp_bytes(s1, n1, s2, n2);
	case 4:
		return cmp_docs(a->value.v_doc.data, a->value.v_doc.data_len, b->value.v_doc.data,
			b->value.v_doc.data_len, true);
	case 5:
		return cmp_docs(a->value.v_doc.data, a->value.v_doc.data_len, b->value.v_doc.data,
			b->value.v_doc.data_len, false);
	case 6:
		if (a->value.v_binary.data_len != b->value.v_binary.data_len)
			return a->value.v_binary.data_len < b->value.v_binary.data_len ? -1 : 1;
		if (a->value.v_binary.subtype != b->value.v_binary.subtype)
			return a->value.v_binary.subtype < b->value.v_binary.subtype ? -1 : 1;
		return cmp_bytes(a->value.v_binary.data, a->value.v_binary.data_len, b->value.v_binary.data,
			b->value.v_binary.data_len);
	case 7: return cmp_bytes(a->value.v_oid.bytes, 12, b->value.v_oid.bytes, 12);
	case 8: return (a->value.v_bool > b->value.v_bool) - (a->value.v_bool < b->value.v_bool);
	case 9:
		return (a->value.v_datetime > b->value.v_datetime) - (a->value.v_datetime < b->value.v_datetime);
	case 10:
		if (a->value.v_timestamp.timestamp != b->value.v_timestamp.timestamp)
			return a->value.v_timestamp.timestamp < b->value.v_timestamp.timestamp ? -1 : 1;
		return (a->value.v_timestamp.increment > b->value.v_timestamp.increment) -
		       (a->value.v_timestamp.increment < b->value.v_timestamp.increment);
	case 11:
		c = strcmp(a->value.v_regex.regex, b->value.v_regex.regex);
		if (c == 0)
			c = strcmp(a->value.v_regex.options, b->value.v_regex.options);
		return (c > 0) - (c < 0);
	case 13:
		return cmp_bytes(a->value.v_code.code, a->value.v_code.code_len, b->value.v_code.code,
			b->value.v_code.code_len);
	default:
		return 0;
	}
}

/* ---- paths ---- */

static bool visit_doc(const uint8_t *data, uint32_t len, const char *path, path_fn fn, void *ctx);

static bool is_index(const char *comp, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (comp[i] < '0' || comp[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(comp[i] - '0');
	}
	*out = v;
	return true;
}

static bool visit_at(const bson_value_t *v, const char *rest, path_fn fn, void *ctx)
{
	bson_t arr;
	bson_iter_t it;

	if (rest == NULL) {
		if (fn(v, false, ctx))
			return true;
		if (v->value_type == BSON_TYPE_ARRAY &&
		    bson_init_static(&arr, v->value.v_doc.data, v->value.v_doc.data_len) && bson_iter_init(&it, &arr))
			while (bson_iter_next(&it))
				if (fn(bson_iter_value(&it), true, ctx))
					return true;
		return false;
	}
	if (v->value_type == BSON_TYPE_DOCUMENT)
		return visit_doc(v->value.v_doc.data, v->value.v_doc.data_len, rest, fn, ctx);
	if (v->value_type == BSON_TYPE_ARRAY) {
		const char *dot = strchr(rest, '.');
		size_t n = dot ? (size_t)(dot - rest) : strlen(rest);
		uint32_t idx;
		bool any = false;

		if (!bson_init_static(&arr, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init(&it, &arr))
			return fn(NULL, false, ctx);
		if (is_index(rest, n, &idx)) {
			bson_iter_t at;
			char key[16];

			snprintf(key, sizeof(key), "%u", idx);
			if (bson_iter_init_find(&at, &arr, key)) {
				any = true;
				if (visit_at(bson_iter_value(&at), dot ? dot + 1 : NULL, fn, ctx))
					return true;
			}
		}
		while (bson_iter_next(&it)) {
			const bson_value_t *e = bson_iter_value(&it);

			if (e->value_type != BSON_TYPE_DOCUMENT)
				continue;
			any = true;
			if (visit_doc(e->value.v_doc.data, e->value.v_doc.data_len, rest, fn, ctx))
				return true;
		}
		return any ? false : fn(NULL, false, ctx);
	}
	return fn(NULL, false, ctx);
}

static bool visit_doc(const uint8_t *data, uint32_t len, const char *path, path_fn fn, void *ctx)
{
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	bson_t d;
	bson_iter_t it;

	if (!bson_init_static(&d, data, len) || !bson_iter_init(&it, &d) ||
	    !bson_iter_find_w_len(&it, path, (int)n))
		return fn(NULL, false, ctx);
	return visit_at(bson_iter_value(&it), dot ? dot + 1 : NULL, fn, ctx);
}

bool path_visit(const bson_t *doc, const char *path, path_fn fn, void *ctx)
{
	return visit_doc(bson_get_data(doc), doc->len, path, fn, ctx);
}

/* ---- regular expressions (PCRE2, as MongoDB) ---- */

static bool regex_match(const char *pattern, const char *options, const char *s, size_t n)
{
	uint32_t flags = PCRE2_UTF;
	pcre2_code *re;
	pcre2_match_data *md;
	int errcode, rc;
	PCRE2_SIZE erroff;

	for (const char *o = options; o && *o; o++) {
		if (*o == 'i') flags |= PCRE2_CASELESS;
		else if (*o == 'm') flags |= PCRE2_MULTILINE;
		else if (*o == 'x') flags |= PCRE2_EXTENDED;
		else if (*o == 's') flags |= PCRE2_DOTALL;
	}
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &errcode, &erroff, NULL);
	if (re == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

static bool regex_compiles(const char *pattern, const char *options)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;

	(void)options;
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &errcode, &erroff, NULL);
	if (re == NULL)
		return false;
	pcre2_code_free(re);
	return true;
}

/* v matches the regex rx: a string it matches, or the same regex. */
static bool value_regex(const bson_value_t *v, const char *rx, const char *opts)
{
	const char *s;
	size_t n;

	if (v->value_type == BSON_TYPE_UTF8 || v->value_type == BSON_TYPE_SYMBOL) {
		str_of(v, &s, &n);
		return regex_match(rx, opts, s, n);
	}
	if (v->value_type == BSON_TYPE_REGEX)
		return strcmp(v->value.v_regex.regex, rx) == 0 && strcmp(v->value.v_regex.options, opts) == 0;
	return false;
}

/* ---- operators ---- */

struct op_ctx {
	const char *op;
	const bson_value_t *arg;
	const char *rx_opts;	/* $regex's $options */
};

/* Equality as a query means it: x == v, or x a regex v matches. */
static bool eq_value(const bson_value_t *v, const bson_value_t *x)
{
	if (v == NULL)
		return x->value_type == BSON_TYPE_NULL;
	if (x->value_type == BSON_TYPE_REGEX && v->value_type != BSON_TYPE_REGEX)
		return value_regex(v, x->value.v_regex.regex, x->value.v_regex.options);
	if (value_bracket(v->value_type) != value_bracket(x->value_type))
		return false;
	if (x->value_type == BSON_TYPE_NULL)	/* null does not match undefined */
		return v->value_type == BSON_TYPE_NULL;
	return value_compare(v, x) == 0;
}

static bool array_each(const bson_value_t *arr, bool (*fn)(const bson_value_t *e, void *ctx), void *ctx)
{
	bson_t a;
	bson_iter_t it;

	if (!bson_init_static(&a, arr->value.v_doc.data, arr->value.v_doc.data_len) || !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it))
		if (fn(bson_iter_value(&it), ctx))
			return true;
	return false;
}

struct in_ctx {
	const bson_value_t *v;
};

static bool in_one(const bson_value_t *x, void *p)
{
	struct in_ctx *c = p;

	return eq_value(c->v, x);
}

static const struct type_alias {
	const char *name;
	int code;
} type_aliases[] = {
	{ "double", 1 }, { "string", 2 }, { "object", 3 }, { "array", 4 }, { "binData", 5 },
	{ "undefined", 6 }, { "objectId", 7 }, { "bool", 8 }, { "date", 9 }, { "null", 10 },
	{ "regex", 11 }, { "dbPointer", 12 }, { "javascript", 13 }, { "symbol", 14 },
	{ "javascriptWithScope", 15 }, { "int", 16 }, { "timestamp", 17 }, { "long", 18 },
	{ "decimal", 19 }, { "minKey", -1 }, { "maxKey", 127 }, { "number", 1000 },
};

/* The type code x names, or -2 when it names none. */
static int type_code(const bson_value_t *x)
{
	if (x->value_type == BSON_TYPE_UTF8) {
		for (size_t i = 0; i < ARRAY_SIZE(type_aliases); i++)
			if (strcmp(type_aliases[i].name, x->value.v_utf8.str) == 0)
				return type_aliases[i].code;
		return -2;
	}
	if (value_is_number(x)) {
		double d = value_number(x);

		if (d == -1 || d == 127 || (d >= 1 && d <= 19 && d == (int)d))
			return (int)d;
	}
	return -2;
}

static bool type_is(const bson_value_t *v, int code)
{
	if (code == 1000)
		return value_is_number(v);
	if (code == -1)
		return v->value_type == BSON_TYPE_MINKEY;
	return (int)v->value_type == code;
}

struct type_ctx {
	const bson_value_t *v;
};

static bool type_one(const bson_value_t *x, void *p)
{
	struct type_ctx *c = p;

	return type_is(c->v, type_code(x));
}

static bool elem_match(const bson_value_t *arr, const bson_value_t *cond);

static bool op_one(const bson_value_t *v, bool element, void *p)
{
	struct op_ctx *c = p;
	const char *op = c->op;
	const bson_value_t *x = c->arg;

	if (strcmp(op, "$eq") == 0)
		return eq_value(v, x);
	if (strcmp(op, "$gt") == 0 || strcmp(op, "$gte") == 0 || strcmp(op, "$lt") == 0 || strcmp(op, "$lte") == 0) {
		bool eq_ok = op[3] == 'e';
		bson_value_t null = { .value_type = BSON_TYPE_NULL };
		int r;

		if (v == NULL) {
			if (x->value_type != BSON_TYPE_NULL || !eq_ok)
				return false;
			v = &null;
		}
		if (x->value_type == BSON_TYPE_MINKEY || x->value_type == BSON_TYPE_MAXKEY) {
			r = value_compare(v, x);
		} else {
			if (value_bracket(v->value_type) != value_bracket(x->value_type))
				return false;
			r = value_compare(v, x);
		}
		if (op[1] == 'g')
			return r > 0 || (eq_ok && r == 0);
		return r < 0 || (eq_ok && r == 0);
	}
	if (strcmp(op, "$in") == 0) {
		struct in_ctx ic = { v };

		return array_each(x, in_one, &ic);
	}
	if (strcmp(op, "$exists") == 0)
		return v != NULL;
	if (v == NULL)
		return false;
	if (strcmp(op, "$regex") == 0) {
		if (x->value_type == BSON_TYPE_REGEX)
			return value_regex(v, x->value.v_regex.regex,
				c->rx_opts ? c->rx_opts : x->value.v_regex.options);
		return value_regex(v, x->value.v_utf8.str, c->rx_opts ? c->rx_opts : "");
	}
	if (strcmp(op, "$type") == 0) {
		struct type_ctx tc = { v };

		if (x->value_type == BSON_TYPE_ARRAY)
			return array_each(x, type_one, &tc);
		return type_is(v, type_code(x));
	}
	if (strcmp(op, "$mod") == 0) {
		bson_t a;
		bson_iter_t it;
		double d, r;

		if (!value_is_number(v) || !bson_init_static(&a, x->value.v_doc.data, x->value.v_doc.data_len) ||
		    !bson_iter_init(&it, &a) || !bson_iter_next(&it))
			return false;
		d = trunc(value_number(bson_iter_value(&it)));
		if (!bson_iter_next(&it))
			return false;
		r = trunc(value_number(bson_iter_value(&it)));
		if (d == 0 || !isfinite(value_number(v)))
			return false;
		return fmod(trunc(value_number(v)), d) == r;
	}
	/* the array operators look at arrays themselves, not at their elements */
	if (element || v->value_type != BSON_TYPE_ARRAY)
		return false;
	if (strcmp(op, "$size") == 0) {
		bson_t a;

		if (!bson_init_static(&a, v->value.v_doc.data, v->value.v_doc.data_len))
			return false;
		return (double)bson_count_keys(&a) == value_number(x);
	}
	if (strcmp(op, "$elemMatch") == 0)
		return elem_match(v, x);
	return false;
}

static bool cond_match(const bson_t *doc, const char *path, const bson_value_t *cond);
static bool filter_match(const uint8_t *data, uint32_t len, const bson_t *filter);

static bool is_operator_doc(const bson_value_t *v)
{
	bson_t d;
	bson_iter_t it;

	if (v->value_type != BSON_TYPE_DOCUMENT || !bson_init_static(&d, v->value.v_doc.data, v->value.v_doc.data_len) ||
	    !bson_iter_init(&it, &d) || !bson_iter_next(&it))
		return false;
	return bson_iter_key(&it)[0] == '$';
}

/* {$elemMatch: cond}: some element satisfies cond, which is either a set of
 * operators on the element itself or a filter on element documents. */
static bool elem_match(const bson_value_t *arr, const bson_value_t *cond)
{
	bson_t a, c;
	bson_iter_t it;
	bool ops = is_operator_doc(cond);

	if (!bson_init_static(&a, arr->value.v_doc.data, arr->value.v_doc.data_len) || !bson_iter_init(&it, &a) ||
	    !bson_init_static(&c, cond->value.v_doc.data, cond->value.v_doc.data_len))
		return false;
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);

		if (ops) {
			/* wrap the element as {"": e} so the path machinery applies */
			bson_t w = BSON_INITIALIZER;
			bool m;

			bson_append_value(&w, "e", 1, e);
			m = cond_match(&w, "e", cond);
			bson_destroy(&w);
			if (m)
				return true;
		} else if (e->value_type == BSON_TYPE_DOCUMENT &&
			   filter_match(e->value.v_doc.data, e->value.v_doc.data_len, &c)) {
			return true;
		}
	}
	return false;
}

static bool visit_op(const bson_t *doc, const char *path, const char *op, const bson_value_t *arg,
	const char *rx_opts)
{
	struct op_ctx c = { op, arg, rx_opts };

	return path_visit(doc, path, op_one, &c);
}

struct all_ctx {
	const bson_t *doc;
	const char *path;
};

static bool all_missing(const bson_value_t *x, void *p)
{
	struct all_ctx *c = p;

	if (x->value_type == BSON_TYPE_DOCUMENT && is_operator_doc(x)) {
		bson_t d;
		bson_iter_t it;

		if (bson_init_static(&d, x->value.v_doc.data, x->value.v_doc.data_len) &&
		    bson_iter_init_find(&it, &d, "$elemMatch"))
			return !visit_op(c->doc, c->path, "$elemMatch", bson_iter_value(&it), NULL);
	}
	return !visit_op(c->doc, c->path, "$eq", x, NULL);
}

static bool cond_match(const bson_t *doc, const char *path, const bson_value_t *cond)
{
	bson_t ops;
	bson_iter_t it;

	if (!is_operator_doc(cond))
		return visit_op(doc, path, "$eq", cond, NULL);
	if (!bson_init_static(&ops, cond->value.v_doc.data, cond->value.v_doc.data_len) || !bson_iter_init(&it, &ops))
		return false;
	while (bson_iter_next(&it)) {
		const char *op = bson_iter_key(&it);
		const bson_value_t *arg = bson_iter_value(&it);
		bool m;

		if (strcmp(op, "$ne") == 0) {
			m = !visit_op(doc, path, "$eq", arg, NULL);
		} else if (strcmp(op, "$nin") == 0) {
			m = !visit_op(doc, path, "$in", arg, NULL);
		} else if (strcmp(op, "$exists") == 0) {
			bool want = bson_iter_as_bool(&it);

			m = visit_op(doc, path, "$exists", arg, NULL) == want;
		} else if (strcmp(op, "$not") == 0) {
			if (arg->value_type == BSON_TYPE_REGEX)
				m = !visit_op(doc, path, "$regex", arg, NULL);
			else
				m = !cond_match(doc, path, arg);
		} else if (strcmp(op, "$all") == 0) {
			struct all_ctx ac = { doc, path };
			bson_t a;

			m = bson_init_static(&a, arg->value.v_doc.data, arg->value.v_doc.data_len) &&
			    bson_count_keys(&a) > 0 && !array_each(arg, all_missing, &ac);
		} else if (strcmp(op, "$options") == 0) {
			continue;	/* read with $regex */
		} else if (strcmp(op, "$regex") == 0) {
			bson_iter_t o;
			const char *opts = NULL;

			if (bson_iter_init_find(&o, &ops, "$options") && BSON_ITER_HOLDS_UTF8(&o))
				opts = bson_iter_utf8(&o, NULL);
			m = visit_op(doc, path, "$regex", arg, opts);
		} else {
			m = visit_op(doc, path, op, arg, NULL);
		}
		if (!m)
			return false;
	}
	return true;
}

static bool filter_list(const bson_value_t *arr, const bson_t *doc, int mode)
{
	bson_t a;
	bson_iter_t it;

	if (!bson_init_static(&a, arr->value.v_doc.data, arr->value.v_doc.data_len) || !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it)) {
		const bson_value_t *f = bson_iter_value(&it);
		bson_t fd;
		bool m;

		if (!bson_init_static(&fd, f->value.v_doc.data, f->value.v_doc.data_len))
			return false;
		m = filter_match(bson_get_data(doc), doc->len, &fd);
		if (mode == 0 && !m)
			return false;	/* $and */
		if (mode == 1 && m)
			return true;	/* $or */
		if (mode == 2 && m)
			return false;	/* $nor */
	}
	return mode != 1;
}

static bool filter_match(const uint8_t *data, uint32_t len, const bson_t *filter)
{
	bson_t doc;
	bson_iter_t it;

	if (!bson_init_static(&doc, data, len) || !bson_iter_init(&it, filter))
		return false;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		bool m;

		if (strcmp(k, "$and") == 0)
			m = filter_list(v, &doc, 0);
		else if (strcmp(k, "$or") == 0)
			m = filter_list(v, &doc, 1);
		else if (strcmp(k, "$nor") == 0)
			m = filter_list(v, &doc, 2);
		else if (strcmp(k, "$comment") == 0)
			m = true;
		else
			m = cond_match(&doc, k, v);
		if (!m)
			return false;
	}
	return true;
}

bool match_doc(const bson_t *filter, const bson_t *doc)
{
	return filter_match(bson_get_data(doc), doc->len, filter);
}

/* ---- validation: refuse what the evaluator does not implement ---- */

static int validate_filter(const bson_t *filter, struct docdb_error *de);

static int validate_ops(const bson_value_t *cond, bool in_elem, struct docdb_error *de);

static int validate_list(const char *op, const bson_value_t *v, struct docdb_error *de)
{
	bson_t a;
	bson_iter_t it;
	int n = 0;

	if (v->value_type != BSON_TYPE_ARRAY)
		return docdb_fail(de, DOCDB_BAD_VALUE, "%s must be an array", op);
	if (!bson_init_static(&a, v->value.v_doc.data, v->value.v_doc.data_len) || !bson_iter_init(&it, &a))
		return docdb_fail(de, DOCDB_BAD_VALUE, "%s: malformed array", op);
	while (bson_iter_next(&it)) {
		bson_t f;

		n++;
		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			return docdb_fail(de, DOCDB_BAD_VALUE, "%s argument's entries must be objects", op);
		if (!bson_init_static(&f, bson_iter_value(&it)->value.v_doc.data,
			    bson_iter_value(&it)->value.v_doc.data_len) || validate_filter(&f, de) < 0)
			return -1;
	}
	if (n == 0)
		return docdb_fail(de, DOCDB_BAD_VALUE, "$and/$or/$nor entries need to be full objects");
	return 0;
}

static int validate_type_arg(const bson_value_t *x, struct docdb_error *de)
{
	if (type_code(x) != -2)
		return 0;
	if (x->value_type == BSON_TYPE_UTF8)
		return docdb_fail(de, DOCDB_BAD_VALUE, "Unknown type name alias: %s", x->value.v_utf8.str);
	return docdb_fail(de, DOCDB_BAD_VALUE, "Invalid numerical type code: %g", value_number(x));
}

static int validate_ops(const bson_value_t *cond, bool in_elem, struct docdb_error *de)
{
	static const char *const known[] = { "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
		"$exists", "$type", "$regex", "$options", "$size", "$all", "$elemMatch", "$not", "$mod" };
	bson_t ops;
	bson_iter_t it;

	(void)in_elem;
	if (!bson_init_static(&ops, cond->value.v_doc.data, cond->value.v_doc.data_len) || !bson_iter_init(&it, &ops))
		return docdb_fail(de, DOCDB_BAD_VALUE, "malformed operator document");
	while (bson_iter_next(&it)) {
		const char *op = bson_iter_key(&it);
		const bson_value_t *x = bson_iter_value(&it);
		size_t i;

		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strcmp(known[i], op) == 0)
				break;
		if (i == ARRAY_SIZE(known))
			return docdb_fail(de, DOCDB_BAD_VALUE, "unknown operator: %s", op);
		if ((strcmp(op, "$in") == 0 || strcmp(op, "$nin") == 0 || strcmp(op, "$all") == 0) &&
		    x->value_type != BSON_TYPE_ARRAY)
			return docdb_fail(de, DOCDB_BAD_VALUE, "%s needs an array", op);
		if (strcmp(op, "$size") == 0 && (!value_is_number(x) || value_number(x) != trunc(value_number(x)) ||
						 value_number(x) < 0))
			return docdb_fail(de, DOCDB_BAD_VALUE, "$size needs a non-negative whole number");
		if (strcmp(op, "$elemMatch") == 0) {
			bson_t f;

			if (x->value_type != BSON_TYPE_DOCUMENT)
				return docdb_fail(de, DOCDB_BAD_VALUE, "$elemMatch needs an Object");
			if (is_operator_doc(x)) {
				if (validate_ops(x, true, de) < 0)
					return -1;
			} else if (!bson_init_static(&f, x->value.v_doc.data, x->value.v_doc.data_len) ||
				   validate_filter(&f, de) < 0) {
				return -1;
			}
		}
		if (strcmp(op, "$not") == 0) {
			if (x->value_type == BSON_TYPE_REGEX)
				continue;
			if (x->value_type != BSON_TYPE_DOCUMENT)
				return docdb_fail(de, DOCDB_BAD_VALUE, "$not needs a regex or a document");
			if (!is_operator_doc(x))
				return docdb_fail(de, DOCDB_BAD_VALUE, "$not needs a regex or a document");
			if (validate_ops(x, false, de) < 0)
				return -1;
		}
		if (strcmp(op, "$regex") == 0) {
			const char *rx = x->value_type == BSON_TYPE_REGEX ? x->value.v_regex.regex :
					 x->value_type == BSON_TYPE_UTF8 ? x->value.v_utf8.str : NULL;

			if (rx == NULL)
				return docdb_fail(de, DOCDB_BAD_VALUE, "$regex has to be a string");
			if (!regex_compiles(rx, ""))
				return docdb_fail(de, 51091, "Regular expression is invalid: '%s'", rx);
		}
		if (strcmp(op, "$options") == 0) {
			bson_iter_t r;

			if (!bson_iter_init_find(&r, &ops, "$regex"))
				return docdb_fail(de, DOCDB_BAD_VALUE, "$options needs a $regex");
		}
		if (strcmp(op, "$type") == 0) {
			if (x->value_type == BSON_TYPE_ARRAY) {
				bson_t a;
				bson_iter_t t;

				if (!bson_init_static(&a, x->value.v_doc.data, x->value.v_doc.data_len) ||
				    !bson_iter_init(&t, &a))
					return docdb_fail(de, DOCDB_BAD_VALUE, "malformed $type");
				while (bson_iter_next(&t))
					if (validate_type_arg(bson_iter_value(&t), de) < 0)
						return -1;
			} else if (validate_type_arg(x, de) < 0) {
				return -1;
			}
		}
		if (strcmp(op, "$mod") == 0) {
			bson_t a;

			if (x->value_type != BSON_TYPE_ARRAY ||
			    !bson_init_static(&a, x->value.v_doc.data, x->value.v_doc.data_len) ||
			    bson_count_keys(&a) != 2)
				return docdb_fail(de, DOCDB_BAD_VALUE, "malformed mod, needs to be an array of 2 numbers");
		}
	}
	return 0;
}

static int validate_filter(const bson_t *filter, struct docdb_error *de)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, filter))
		return docdb_fail(de, DOCDB_BAD_VALUE, "malformed filter");
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (k[0] == '$') {
			if (strcmp(k, "$and") == 0 || strcmp(k, "$or") == 0 || strcmp(k, "$nor") == 0) {
				if (validate_list(k, v, de) < 0)
					return -1;
			} else if (strcmp(k, "$comment") != 0) {
				return docdb_fail(de, DOCDB_BAD_VALUE, "unknown top level operator: %s", k);
			}
		} else if (is_operator_doc(v) && validate_ops(v, false, de) < 0) {
			return -1;
		}
	}
	return 0;
}

int match_validate(const bson_t *filter, struct docdb_error *de)
{
	return validate_filter(filter, de);
}

/* ---- sort keys ---- */

struct sort_ctx {
	int dir;
	bool have;
	bool leaf_array_only;
	bson_value_t best;
};

static bool sort_one(const bson_value_t *v, bool element, void *p)
{
	struct sort_ctx *c = p;
	bson_value_t null = { .value_type = BSON_TYPE_NULL };

	(void)element;
	if (v == NULL)
		v = &null;
	/* an array is represented by its elements (visited after it) */
	if (v->value_type == BSON_TYPE_ARRAY && !element) {
		bson_t a;

		if (bson_init_static(&a, v->value.v_doc.data, v->value.v_doc.data_len) && bson_count_keys(&a) > 0)
			return false;
		v = &null;	/* an empty array sorts as null would */
	}
	if (!c->have || (c->dir > 0 ? value_compare(v, &c->best) < 0 : value_compare(v, &c->best) > 0)) {
		c->best = *v;
		c->have = true;
	}
	return false;
}

void match_sort_key(const bson_t *doc, const char *path, int dir, bson_value_t *out)
{
	struct sort_ctx c = { dir, false, false, { .value_type = BSON_TYPE_NULL } };

	path_visit(doc, path, sort_one, &c);
	*out = c.best;
}

bool match_value(const bson_value_t *cond, const bson_value_t *v)
{
	if (is_operator_doc(cond)) {
		bson_t w = BSON_INITIALIZER;
		bool m;

		bson_append_value(&w, "e", 1, v);
		m = cond_match(&w, "e", cond);
		bson_destroy(&w);
		return m;
	}
	if (cond->value_type == BSON_TYPE_DOCUMENT && v->value_type == BSON_TYPE_DOCUMENT) {
		bson_t c;

		return bson_init_static(&c, cond->value.v_doc.data, cond->value.v_doc.data_len) &&
		       filter_match(v->value.v_doc.data, v->value.v_doc.data_len, &c);
	}
	return eq_value(v, cond);
}
