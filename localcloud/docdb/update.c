/*
 * update.c: update operators on a small mutable tree of the document
 * (struct dnode), built from the BSON and written back in the same field
 * order; and projections, done directly on BSON.
 */
#include "compat.h"

#include <math.h>
#include <sys/time.h>

#include "buf.h"
#include "match.h"
#include "update.h"

/* A node: a scalar (val owned, copied with bson_value_copy) or a container. */
struct dnode {
	char *key;
	bson_type_t type;
	bson_value_t val;	/* scalars only */
	struct dnode **kids;	/* documents and arrays */
	size_t n, cap;
};

static void node_free(struct dnode *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		node_free(d->kids[i]);
	free(d->kids);
	if (d->type != BSON_TYPE_DOCUMENT && d->type != BSON_TYPE_ARRAY)
		bson_value_destroy(&d->val);
	free(d->key);
	free(d);
}

static struct dnode *node_new(const char *key, bson_type_t t)
{
	struct dnode *d = xcalloc(1, sizeof(*d));

	d->key = xstrdup(key);
	d->type = t;
	return d;
}

static void node_add(struct dnode *p, struct dnode *k)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->kids = xrealloc(p->kids, p->cap * sizeof(*p->kids));
	}
	p->kids[p->n++] = k;
}

static struct dnode *node_from_value(const char *key, const bson_value_t *v);

static void node_fill(struct dnode *d, const uint8_t *data, uint32_t len)
{
	bson_t b;
	bson_iter_t it;

	if (!bson_init_static(&b, data, len) || !bson_iter_init(&it, &b))
		return;
	while (bson_iter_next(&it))
		node_add(d, node_from_value(bson_iter_key(&it), bson_iter_value(&it)));
}

static struct dnode *node_from_value(const char *key, const bson_value_t *v)
{
	struct dnode *d = node_new(key, v->value_type);

	if (v->value_type == BSON_TYPE_DOCUMENT || v->value_type == BSON_TYPE_ARRAY)
		node_fill(d, v->value.v_doc.data, v->value.v_doc.data_len);
	else
		bson_value_copy(v, &d->val);
	return d;
}

static void node_to_bson(const struct dnode *d, bson_t *out);

static void node_append(bson_t *out, const char *key, const struct dnode *k)
{
	bson_t sub;

	if (k->type == BSON_TYPE_DOCUMENT) {
		bson_append_document_begin(out, key, -1, &sub);
		node_to_bson(k, &sub);
		bson_append_document_end(out, &sub);
	} else if (k->type == BSON_TYPE_ARRAY) {
		bson_append_array_begin(out, key, -1, &sub);
		node_to_bson(k, &sub);
		bson_append_array_end(out, &sub);
	} else {
		bson_append_value(out, key, -1, &k->val);
	}
}

static void node_to_bson(const struct dnode *d, bson_t *out)
{
	char buf[16];

	for (size_t i = 0; i < d->n; i++) {
		const char *key = d->kids[i]->key;

		if (d->type == BSON_TYPE_ARRAY)
			bson_uint32_to_string((uint32_t)i, &key, buf, sizeof(buf));
		node_append(out, key, d->kids[i]);
	}
}

/* A node's value as a bson_value_t; containers are serialised into tmp. */
static void node_value(const struct dnode *d, bson_t *tmp, bson_value_t *out)
{
	bson_iter_t it;

	if (d->type != BSON_TYPE_DOCUMENT && d->type != BSON_TYPE_ARRAY) {
		*out = d->val;
		return;
	}
	bson_init(tmp);
	node_append(tmp, "v", d);
	bson_iter_init_find(&it, tmp, "v");
	*out = *bson_iter_value(&it);
}

static long child_index(const struct dnode *p, const char *comp)
{
	if (p->type == BSON_TYPE_ARRAY) {
		char *end;
		long i;

		if (comp[0] < '0' || comp[0] > '9')
			return -1;
		i = strtol(comp, &end, 10);
		return *end == 0 && i >= 0 && (size_t)i < p->n ? i : -1;
	}
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->kids[i]->key, comp) == 0)
			return (long)i;
	return -1;
}

static void node_replace(struct dnode *p, size_t i, struct dnode *k)
{
	free(k->key);
	k->key = xstrdup(p->kids[i]->key);
	node_free(p->kids[i]);
	p->kids[i] = k;
}

/*
 * The parent of path's last component, creating documents on the way when
 * create; *last is that component (pointing into a copy the caller frees
 * through *owned).  NULL when the path cannot be walked (and, for create,
 * de says why).
 */
static struct dnode *walk(struct dnode *root, const char *path, bool create, char **owned, const char **last,
	struct docdb_error *de)
{
	char *p = xstrdup(path), *comp = p, *dot;
	struct dnode *cur = root;

	*owned = p;
	while ((dot = strchr(comp, '.')) != NULL) {
		long i;

		*dot = 0;
		if (cur->type != BSON_TYPE_DOCUMENT && cur->type != BSON_TYPE_ARRAY)
			goto not_viable;
		i = child_index(cur, comp);
		if (i < 0) {
			if (!create)
				return NULL;
			if (cur->type == BSON_TYPE_ARRAY) {
				char *end;
				long want = strtol(comp, &end, 10);

				if (*end != 0 || want < 0 || want > 1000000)
					goto not_viable;
				while ((long)cur->n < want) {
					struct dnode *nl = node_new("", BSON_TYPE_NULL);

					nl->val.value_type = BSON_TYPE_NULL;
					node_add(cur, nl);
				}
			}
			node_add(cur, node_new(comp, BSON_TYPE_DOCUMENT));
			i = (long)cur->n - 1;
		}
		cur = cur->kids[i];
		comp = dot + 1;
	}
	if (cur->type != BSON_TYPE_DOCUMENT && cur->type != BSON_TYPE_ARRAY)
		goto not_viable;
	*last = comp;
	return cur;
not_viable:
	if (create)
		docdb_fail(de, DOCDB_PATH_NOT_VIABLE, "Cannot create field '%s' in element {%s: ...}", comp, cur->key);
	return NULL;
}

/* Set last under parent to k (taking it), replacing or appending. */
static int set_child(struct dnode *parent, const char *last, struct dnode *k, struct docdb_error *de)
{
	long i = child_index(parent, last);

	if (i >= 0) {
		node_replace(parent, (size_t)i, k);
		return 0;
	}
	if (parent->type == BSON_TYPE_ARRAY) {
		char *end;
		long want = strtol(last, &end, 10);

		if (*end != 0 || want < 0 || want > 1000000) {
			node_free(k);
			return docdb_fail(de, DOCDB_PATH_NOT_VIABLE, "Cannot create field '%s' in an array", last);
		}
		while ((long)parent->n < want) {
			struct dnode *nl = node_new("", BSON_TYPE_NULL);

			nl->val.value_type = BSON_TYPE_NULL;
			node_add(parent, nl);
		}
	}
	free(k->key);
	k->key = xstrdup(last);
	node_add(parent, k);
	return 0;
}

static struct dnode *get_path(struct dnode *root, const char *path)
{
	char *owned;
	const char *last;
	struct docdb_error de;
	struct dnode *p = walk(root, path, false, &owned, &last, &de);
	struct dnode *r = NULL;
	long i;

	if (p != NULL && (i = child_index(p, last)) >= 0)
		r = p->kids[i];
	free(owned);
	return r;
}

/* ---- operators ---- */

static const char *const update_ops[] = { "$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$push",
	"$addToSet", "$pull", "$pop", "$setOnInsert", "$currentDate", "$pullAll" };

bool update_is_replacement(const bson_t *update)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, update) || !bson_iter_next(&it))
		return true;
	return bson_iter_key(&it)[0] != '$';
}

static bool paths_conflict(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	if (strncmp(a, b, n) != 0)
		return false;
	return na == nb || (na > nb ? a[nb] == '.' : b[na] == '.');
}

int update_validate(const bson_t *update, struct docdb_error *de)
{
	bson_iter_t it, f;
	const char *paths[512];
	size_t np = 0;

	if (update_is_replacement(update)) {
		if (bson_iter_init(&it, update))
			while (bson_iter_next(&it))
				if (bson_iter_key(&it)[0] == '$')
					return docdb_fail(de, DOCDB_DOLLAR_PREFIXED,
						"The dollar ($) prefixed field '%s' in '%s' is not valid for storage.",
						bson_iter_key(&it), bson_iter_key(&it));
		return 0;
	}
	if (!bson_iter_init(&it, update))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "malformed update");
	while (bson_iter_next(&it)) {
		const char *op = bson_iter_key(&it);
		size_t i;

		for (i = 0; i < ARRAY_SIZE(update_ops); i++)
			if (strcmp(op, update_ops[i]) == 0)
				break;
		if (i == ARRAY_SIZE(update_ops))
			return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
				"Unknown modifier: %s. Expected a valid update modifier or pipeline-style update"
				" specified as an array", op);
		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &f))
			return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
				"Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}}"
				" not {%s: ...}", "a non-document", op);
		while (bson_iter_next(&f)) {
			const char *p = bson_iter_key(&f);
			const char *check[2] = { p, NULL };

			if (strstr(p, "$") != NULL)
				return docdb_fail(de, DOCDB_BAD_VALUE,
					"the positional operators ($, $[], $[<id>]) in '%s' are not supported by the"
					" local DocumentDB; address the element by its index", p);
			if (strcmp(op, "$rename") == 0) {
				if (!BSON_ITER_HOLDS_UTF8(&f))
					return docdb_fail(de, DOCDB_BAD_VALUE, "The 'to' field for $rename must be a string: %s", p);
				check[1] = bson_iter_utf8(&f, NULL);
			}
			if (strcmp(op, "$push") == 0 && BSON_ITER_HOLDS_DOCUMENT(&f)) {
				bson_iter_t m;

				if (bson_iter_recurse(&f, &m) && bson_iter_find(&m, "$sort"))
					return docdb_fail(de, DOCDB_BAD_VALUE,
						"$push's $sort modifier is not supported by the local DocumentDB");
			}
			if ((strcmp(op, "$inc") == 0 || strcmp(op, "$mul") == 0) && !value_is_number(bson_iter_value(&f)))
				return docdb_fail(de, DOCDB_TYPE_MISMATCH, "Cannot %s with non-numeric argument: {%s: ...}",
					op[1] == 'i' ? "increment" : "multiply", p);
			for (int c = 0; c < 2 && check[c]; c++) {
				for (size_t k = 0; k < np; k++)
					if (paths_conflict(paths[k], check[c]))
						return docdb_fail(de, DOCDB_CONFLICTING_UPDATE,
							"Updating the path '%s' would create a conflict at '%s'", check[c], paths[k]);
				if (np < ARRAY_SIZE(paths))
					paths[np++] = check[c];
			}
		}
	}
	return 0;
}

/* Numeric results keep MongoDB's types: int32 overflowing becomes int64,
 * anything with a double is a double. */
static void arith(const bson_value_t *a, const bson_value_t *b, bool mul, bson_value_t *out)
{
	memset(out, 0, sizeof(*out));
	if (a->value_type == BSON_TYPE_DOUBLE || b->value_type == BSON_TYPE_DOUBLE ||
	    a->value_type == BSON_TYPE_DECIMAL128 || b->value_type == BSON_TYPE_DECIMAL128) {
		out->value_type = BSON_TYPE_DOUBLE;
		out->value.v_double = mul ? value_number(a) * value_number(b) : value_number(a) + value_number(b);
		return;
	}
	{
		long long x = a->value_type == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64;
		long long y = b->value_type == BSON_TYPE_INT32 ? b->value.v_int32 : b->value.v_int64;
		long long r;
		bool ovf = mul ? __builtin_mul_overflow(x, y, &r) : __builtin_add_overflow(x, y, &r);

		if (ovf) {
			out->value_type = BSON_TYPE_DOUBLE;
			out->value.v_double = mul ? (double)x * (double)y : (double)x + (double)y;
		} else if (a->value_type == BSON_TYPE_INT32 && b->value_type == BSON_TYPE_INT32 && r >= INT32_MIN &&
			   r <= INT32_MAX) {
			out->value_type = BSON_TYPE_INT32;
			out->value.v_int32 = (int32_t)r;
		} else {
			out->value_type = BSON_TYPE_INT64;
			out->value.v_int64 = r;
		}
	}
}

static const char *type_name(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_DOUBLE: return "double";
	case BSON_TYPE_UTF8: return "string";
	case BSON_TYPE_DOCUMENT: return "object";
	case BSON_TYPE_ARRAY: return "array";
	case BSON_TYPE_BINARY: return "binData";
	case BSON_TYPE_OID: return "objectId";
	case BSON_TYPE_BOOL: return "bool";
	case BSON_TYPE_DATE_TIME: return "date";
	case BSON_TYPE_NULL: return "null";
	case BSON_TYPE_INT32: return "int";
	case BSON_TYPE_INT64: return "long";
	case BSON_TYPE_DECIMAL128: return "decimal";
	default: return "other";
	}
}

static bool array_has(const struct dnode *arr, const bson_value_t *v)
{
	for (size_t i = 0; i < arr->n; i++) {
		bson_t tmp = BSON_INITIALIZER;
		bson_value_t e;
		bool same;

		node_value(arr->kids[i], &tmp, &e);
		same = value_bracket(e.value_type) == value_bracket(v->value_type) && value_compare(&e, v) == 0;
		bson_destroy(&tmp);
		if (same)
			return true;
	}
	return false;
}

/* The array at path for $push/$addToSet, made when missing. */
static struct dnode *array_at(struct dnode *root, const char *path, const char *op, struct docdb_error *de)
{
	char *owned;
	const char *last;
	struct dnode *p = walk(root, path, true, &owned, &last, de), *a = NULL;
	long i;

	if (p == NULL)
		goto out;
	i = child_index(p, last);
	if (i < 0) {
		a = node_new(last, BSON_TYPE_ARRAY);
		if (set_child(p, last, a, de) < 0)
			a = NULL;
	} else if (p->kids[i]->type != BSON_TYPE_ARRAY) {
		docdb_fail(de, DOCDB_BAD_VALUE, "The field '%s' must be an array but is of type %s in document (%s)",
			path, type_name(p->kids[i]->type), op);
	} else {
		a = p->kids[i];
	}
out:
	free(owned);
	return a;
}

static int op_push(struct dnode *root, const char *path, const bson_value_t *arg, bool set, struct docdb_error *de)
{
	struct dnode *a = array_at(root, path, set ? "$addToSet" : "$push", de);
	bson_t spec, each;
	bson_iter_t it;
	bool has_each = false;
	long position = -1, slice = LONG_MAX;
	bool has_slice = false;

	if (a == NULL)
		return -1;
	if (arg->value_type == BSON_TYPE_DOCUMENT && bson_init_static(&spec, arg->value.v_doc.data, arg->value.v_doc.data_len) &&
	    bson_iter_init_find(&it, &spec, "$each")) {
		if (!BSON_ITER_HOLDS_ARRAY(&it))
			return docdb_fail(de, DOCDB_BAD_VALUE, "The argument to $each in %s must be an array",
				set ? "$addToSet" : "$push");
		has_each = true;
		bson_init_static(&each, bson_iter_value(&it)->value.v_doc.data, bson_iter_value(&it)->value.v_doc.data_len);
		if (bson_iter_init_find(&it, &spec, "$position"))
			position = (long)value_number(bson_iter_value(&it));
		if (bson_iter_init_find(&it, &spec, "$slice")) {
			has_slice = true;
			slice = (long)value_number(bson_iter_value(&it));
		}
	}
	if (!has_each) {
		if (!set || !array_has(a, arg))
			node_add(a, node_from_value("", arg));
		return 0;
	}
	bson_iter_init(&it, &each);
	{
		size_t at = position < 0 ? a->n : (size_t)position > a->n ? a->n : (size_t)position;

		while (bson_iter_next(&it)) {
			if (set && array_has(a, bson_iter_value(&it)))
				continue;
			node_add(a, node_from_value("", bson_iter_value(&it)));
			if (at < a->n - 1) {
				struct dnode *k = a->kids[a->n - 1];

				memmove(a->kids + at + 1, a->kids + at, (a->n - 1 - at) * sizeof(*a->kids));
				a->kids[at] = k;
			}
			at++;
		}
	}
	if (has_slice) {
		if (slice >= 0) {
			while ((long)a->n > slice)
				node_free(a->kids[--a->n]);
		} else {
			long drop = (long)a->n + slice;

			if (drop > 0) {
				for (long k = 0; k < drop; k++)
					node_free(a->kids[k]);
				memmove(a->kids, a->kids + drop, (a->n - (size_t)drop) * sizeof(*a->kids));
				a->n -= (size_t)drop;
			}
		}
	}
	return 0;
}

static void remove_at(struct dnode *p, size_t i)
{
	node_free(p->kids[i]);
	memmove(p->kids + i, p->kids + i + 1, (p->n - i - 1) * sizeof(*p->kids));
	p->n--;
}

static int op_pull(struct dnode *root, const char *path, const bson_value_t *arg, bool all, struct docdb_error *de)
{
	struct dnode *a = get_path(root, path);

	if (a == NULL)
		return 0;
	if (a->type != BSON_TYPE_ARRAY)
		return docdb_fail(de, DOCDB_BAD_VALUE, "Cannot apply %s to a non-array value", all ? "$pullAll" : "$pull");
	for (size_t i = 0; i < a->n;) {
		bson_t tmp = BSON_INITIALIZER;
		bson_value_t e;
		bool m;

		node_value(a->kids[i], &tmp, &e);
		if (all) {
			struct dnode *list = node_from_value("", arg);

			m = array_has(list, &e);
			node_free(list);
		} else {
			m = match_value(arg, &e);
		}
		bson_destroy(&tmp);
		if (m)
			remove_at(a, i);
		else
			i++;
	}
	return 0;
}

static int op_field(struct dnode *root, const char *op, const char *path, const bson_value_t *arg,
	const bson_value_t *id, struct docdb_error *de)
{
	char *owned = NULL;
	const char *last;
	struct dnode *p, *cur = NULL;
	long i;
	int rc = 0;

	if (strcmp(op, "$push") == 0)
		return op_push(root, path, arg, false, de);
	if (strcmp(op, "$addToSet") == 0)
		return op_push(root, path, arg, true, de);
	if (strcmp(op, "$pull") == 0)
		return op_pull(root, path, arg, false, de);
	if (strcmp(op, "$pullAll") == 0)
		return op_pull(root, path, arg, true, de);
	if (strcmp(op, "$unset") == 0) {
		p = walk(root, path, false, &owned, &last, de);
		if (p != NULL && (i = child_index(p, last)) >= 0) {
			if (p->type == BSON_TYPE_ARRAY) {
				struct dnode *nl = node_new("", BSON_TYPE_NULL);

				nl->val.value_type = BSON_TYPE_NULL;
				node_replace(p, (size_t)i, nl);
			} else {
				remove_at(p, (size_t)i);
			}
		}
		free(owned);
		return 0;
	}
	if (strcmp(op, "$rename") == 0) {
		struct dnode *src;
		const char *to = arg->value.v_utf8.str;

		p = walk(root, path, false, &owned, &last, de);
		if (p == NULL || (i = child_index(p, last)) < 0 || p->type == BSON_TYPE_ARRAY) {
			free(owned);
			return 0;
		}
		src = p->kids[i];
		memmove(p->kids + i, p->kids + i + 1, (p->n - (size_t)i - 1) * sizeof(*p->kids));
		p->n--;
		free(owned);
		p = walk(root, to, true, &owned, &last, de);
		if (p == NULL) {
			node_free(src);
			rc = -1;
		} else {
			rc = set_child(p, last, src, de);
		}
		free(owned);
		return rc;
	}
	if (strcmp(op, "$pop") == 0) {
		struct dnode *a = get_path(root, path);

		if (a == NULL || a->n == 0)
			return 0;
		if (a->type != BSON_TYPE_ARRAY)
			return docdb_fail(de, 14, "Path '%s' contains an element of non-array type '%s'", path,
				type_name(a->type));
		remove_at(a, value_number(arg) < 0 ? 0 : a->n - 1);
		return 0;
	}
	p = walk(root, path, true, &owned, &last, de);
	if (p == NULL) {
		free(owned);
		return -1;
	}
	i = child_index(p, last);
	if (i >= 0)
		cur = p->kids[i];
	if (strcmp(op, "$set") == 0 || strcmp(op, "$setOnInsert") == 0) {
		rc = set_child(p, last, node_from_value(last, arg), de);
	} else if (strcmp(op, "$currentDate") == 0) {
		struct timeval tv;
		bson_value_t now = { .value_type = BSON_TYPE_DATE_TIME };
		bson_t spec;
		bson_iter_t t;

		gettimeofday(&tv, NULL);
		now.value.v_datetime = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
		if (arg->value_type == BSON_TYPE_DOCUMENT &&
		    bson_init_static(&spec, arg->value.v_doc.data, arg->value.v_doc.data_len) &&
		    bson_iter_init_find(&t, &spec, "$type") && BSON_ITER_HOLDS_UTF8(&t) &&
		    strcmp(bson_iter_utf8(&t, NULL), "timestamp") == 0) {
			now.value_type = BSON_TYPE_TIMESTAMP;
			now.value.v_timestamp.timestamp = (uint32_t)tv.tv_sec;
			now.value.v_timestamp.increment = 1;
		}
		rc = set_child(p, last, node_from_value(last, &now), de);
	} else if (strcmp(op, "$inc") == 0 || strcmp(op, "$mul") == 0) {
		bool mul = op[1] == 'm';
		bson_value_t r;

		if (cur == NULL) {
			bson_value_t zero = { .value_type = arg->value_type };

			if (!mul) {
				rc = set_child(p, last, node_from_value(last, arg), de);
				goto out;
			}
			arith(&zero, arg, true, &r);	/* $mul on a missing field sets 0 of the type */
			rc = set_child(p, last, node_from_value(last, &r), de);
			goto out;
		}
		if (!value_is_number(&cur->val) || cur->type == BSON_TYPE_DOCUMENT || cur->type == BSON_TYPE_ARRAY) {
			char *idj = NULL;
			bson_t tmp = BSON_INITIALIZER;

			if (id != NULL) {
				bson_append_value(&tmp, "_id", 3, id);
				idj = bson_as_relaxed_extended_json(&tmp, NULL);
			}
			rc = docdb_fail(de, DOCDB_TYPE_MISMATCH,
				"Cannot apply %s to a value of non-numeric type. %s has the field '%s' of non-numeric type %s",
				op, idj ? idj : "{}", last, type_name(cur->type));
			bson_free(idj);
			bson_destroy(&tmp);
			goto out;
		}
		arith(&cur->val, arg, mul, &r);
		rc = set_child(p, last, node_from_value(last, &r), de);
	} else if (strcmp(op, "$min") == 0 || strcmp(op, "$max") == 0) {
		bson_t tmp = BSON_INITIALIZER;
		bson_value_t cv;
		int c;

		if (cur == NULL) {
			rc = set_child(p, last, node_from_value(last, arg), de);
			bson_destroy(&tmp);
			goto out;
		}
		node_value(cur, &tmp, &cv);
		c = value_compare(arg, &cv);
		bson_destroy(&tmp);
		if ((op[2] == 'i' && c < 0) || (op[2] == 'a' && c > 0))
			rc = set_child(p, last, node_from_value(last, arg), de);
	}
out:
	free(owned);
	return rc;
}

int update_apply(const bson_t *doc, const bson_t *update, bool inserting, bson_t *out, struct docdb_error *de)
{
	bson_iter_t it, f, idit, nid;
	struct dnode *root;
	const bson_value_t *id = NULL;
	int rc = 0;

	bson_init(out);
	if (bson_iter_init_find(&idit, doc, "_id"))
		id = bson_iter_value(&idit);
	if (update_is_replacement(update)) {
		/* the replacement, with the stored _id first */
		if (bson_iter_init_find(&nid, update, "_id") && id != NULL &&
		    value_compare(bson_iter_value(&nid), id) != 0) {
			bson_destroy(out);
			bson_init(out);
			return docdb_fail(de, DOCDB_IMMUTABLE_FIELD,
				"After applying the update, the (immutable) field '_id' was found to have been altered");
		}
		if (id != NULL)
			bson_append_value(out, "_id", 3, id);
		bson_copy_to_excluding_noinit(update, out, "_id", NULL);
		return 0;
	}
	root = node_new("", BSON_TYPE_DOCUMENT);
	node_fill(root, bson_get_data(doc), doc->len);
	bson_iter_init(&it, update);
	while (rc == 0 && bson_iter_next(&it)) {
		const char *op = bson_iter_key(&it);

		if (strcmp(op, "$setOnInsert") == 0 && !inserting)
			continue;
		bson_iter_recurse(&it, &f);
		while (rc == 0 && bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "_id") == 0 || strncmp(bson_iter_key(&f), "_id.", 4) == 0) {
				if (!inserting || strcmp(op, "$set") != 0) {
					rc = docdb_fail(de, DOCDB_IMMUTABLE_FIELD,
						"Performing an update on the path '_id' would modify the immutable field '_id'");
					break;
				}
			}
			rc = op_field(root, op, bson_iter_key(&f), bson_iter_value(&f), id, de);
		}
	}
	if (rc == 0)
		node_to_bson(root, out);
	node_free(root);
	if (rc == 0 && out->len > DOCDB_MAX_BSON)
		rc = docdb_fail(de, 10334, "BSONObj size: %u is invalid. Size must be between 0 and 16793600(16MB)",
			out->len);
	return rc;
}

static void seed_from(const bson_t *filter, struct dnode *root)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, filter))
		return;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		struct docdb_error de;

		if (strcmp(k, "$and") == 0 && v->value_type == BSON_TYPE_ARRAY) {
			bson_iter_t a;

			bson_iter_recurse(&it, &a);
			while (bson_iter_next(&a)) {
				bson_t sub;

				if (BSON_ITER_HOLDS_DOCUMENT(&a) &&
				    bson_init_static(&sub, bson_iter_value(&a)->value.v_doc.data,
					    bson_iter_value(&a)->value.v_doc.data_len))
					seed_from(&sub, root);
			}
			continue;
		}
		if (k[0] == '$')
			continue;
		if (v->value_type == BSON_TYPE_DOCUMENT) {
			bson_t ops;
			bson_iter_t o;

			bson_init_static(&ops, v->value.v_doc.data, v->value.v_doc.data_len);
			if (bson_iter_init(&o, &ops) && bson_iter_next(&o) && bson_iter_key(&o)[0] == '$') {
				if (bson_iter_init_find(&o, &ops, "$eq"))
					op_field(root, "$set", k, bson_iter_value(&o), NULL, &de);
				continue;
			}
		}
		if (v->value_type == BSON_TYPE_REGEX)
			continue;
		op_field(root, "$set", k, v, NULL, &de);
	}
}

void update_upsert_seed(const bson_t *filter, bson_t *out)
{
	struct dnode *root = node_new("", BSON_TYPE_DOCUMENT);

	seed_from(filter, root);
	bson_init(out);
	node_to_bson(root, out);
	node_free(root);
}

/* ---- projection ---- */

int project_validate(const bson_t *proj, struct docdb_error *de)
{
	bson_iter_t it;
	int mode = -1;		/* 1 inclusion, 0 exclusion */

	if (!bson_iter_init(&it, proj))
		return docdb_fail(de, DOCDB_BAD_VALUE, "malformed projection");
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		int m;

		if (v->value_type == BSON_TYPE_DOCUMENT || strchr(k, '$') != NULL)
			return docdb_fail(de, DOCDB_BAD_VALUE,
				"projection operators and expressions (%s) are not supported by the local DocumentDB", k);
		m = bson_iter_as_bool(&it) ? 1 : 0;
		if (strcmp(k, "_id") == 0)
			continue;
		if (mode >= 0 && m != mode)
			return docdb_fail(de, 31254, "Cannot do %s on field %s in %s projection",
				m ? "inclusion" : "exclusion", k, mode ? "inclusion" : "exclusion");
		mode = m;
	}
	return 0;
}

/* Paths of proj that continue below prefix (the part after "prefix."). */
static void project_level(const uint8_t *data, uint32_t len, const char *const *paths, size_t n, bool include,
	bson_t *out, bool array);

static void project_value(const char *key, const bson_value_t *v, const char *const *sub, size_t nsub,
	bool include, bson_t *out)
{
	bson_t child;

	if (v->value_type == BSON_TYPE_DOCUMENT) {
		bson_append_document_begin(out, key, -1, &child);
		project_level(v->value.v_doc.data, v->value.v_doc.data_len, sub, nsub, include, &child, false);
		bson_append_document_end(out, &child);
	} else if (v->value_type == BSON_TYPE_ARRAY) {
		bson_append_array_begin(out, key, -1, &child);
		project_level(v->value.v_doc.data, v->value.v_doc.data_len, sub, nsub, include, &child, true);
		bson_append_array_end(out, &child);
	} else if (!include) {
		bson_append_value(out, key, -1, v);
	}
}

static void project_level(const uint8_t *data, uint32_t len, const char *const *paths, size_t n, bool include,
	bson_t *out, bool array)
{
	bson_t d;
	bson_iter_t it;
	uint32_t idx = 0;

	if (!bson_init_static(&d, data, len) || !bson_iter_init(&it, &d))
		return;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		const char *sub[64];
		size_t nsub = 0, kl = strlen(k);
		bool exact = false;
		char ibuf[16];
		const char *key = k;

		if (array) {
			bson_uint32_to_string(idx, &key, ibuf, sizeof(ibuf));
			/* in arrays, paths apply to each element document */
			if (v->value_type == BSON_TYPE_DOCUMENT || v->value_type == BSON_TYPE_ARRAY) {
				project_value(key, v, paths, n, include, out);
				idx++;
			} else if (!include) {
				bson_append_value(out, key, -1, v);
				idx++;
			}
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(paths[i], k) == 0)
				exact = true;
			else if (strncmp(paths[i], k, kl) == 0 && paths[i][kl] == '.' && nsub < ARRAY_SIZE(sub))
				sub[nsub++] = paths[i] + kl + 1;
		}
		if (exact) {
			if (include)
				bson_append_value(out, k, -1, v);
		} else if (nsub > 0) {
			project_value(k, v, sub, nsub, include, out);
		} else if (!include) {
			bson_append_value(out, k, -1, v);
		}
	}
}

void project_apply(const bson_t *doc, const bson_t *proj, bson_t *out)
{
	const char *paths[256];
	size_t n = 0;
	bool include = false, id = true;
	bson_iter_t it;

	bson_init(out);
	bson_iter_init(&it, proj);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "_id") == 0) {
			id = bson_iter_as_bool(&it);
			continue;
		}
		include = bson_iter_as_bool(&it);
		if (n < ARRAY_SIZE(paths))
			paths[n++] = bson_iter_key(&it);
	}
	if (n == 0 && id) {
		bson_concat(out, doc);
		return;
	}
	if (n == 0) {		/* {_id: 0} alone: exclusion */
		bson_copy_to_excluding_noinit(doc, out, "_id", NULL);
		return;
	}
	if (include) {
		if (id && bson_iter_init_find(&it, doc, "_id"))
			bson_append_value(out, "_id", 3, bson_iter_value(&it));
		{
			bson_t rest = BSON_INITIALIZER;

			project_level(bson_get_data(doc), doc->len, paths, n, true, &rest, false);
			bson_iter_init(&it, &rest);
			while (bson_iter_next(&it))
				if (strcmp(bson_iter_key(&it), "_id") != 0)
					bson_append_value(out, bson_iter_key(&it), -1, bson_iter_value(&it));
			bson_destroy(&rest);
		}
		return;
	}
	if (!id)
		paths[n++] = "_id";
	project_level(bson_get_data(doc), doc->len, paths, n, false, out, false);
}
