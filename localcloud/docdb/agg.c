/*
 * agg.c: aggregate, for the pipelines drivers send on their own (pymongo's
 * count_documents) and the common stages: $match, $sort, $skip, $limit,
 * $project (inclusion/exclusion), $count and $group with _id a constant, a
 * "$path" or a document of them, and $sum $avg $min $max $first $last
 * $push $addToSet; $unwind, $addFields/$set (field paths and constants as
 * values) and $lookup (from, localField, foreignField, as).  A leading $match runs as a query (so it can use an
 * index); the rest runs in memory on the matched documents.  Any other
 * stage or expression is refused with MongoDB's error, never guessed.
 */
#include "compat.h"

#include "cmd.h"
#include "match.h"
#include "query.h"
#include "update.h"

struct first_ctx {
	bson_value_t v;
	bool have;
};

static bool first_value(const bson_value_t *v, bool element, void *p)
{
	struct first_ctx *f = p;

	if (element || v == NULL)
		return false;
	f->v = *v;
	f->have = true;
	return true;
}

/* An expression's value for doc: "$path", {k: expr...}, or a constant.
 * The value points into doc, expr or tmp (which the caller destroys). */
static int expr_eval(const bson_value_t *expr, const bson_t *doc, bson_t *tmp, bson_value_t *out, bool *missing,
	struct docdb_error *de)
{
	*missing = false;
	if (expr->value_type == BSON_TYPE_UTF8 && expr->value.v_utf8.str[0] == '$') {
		struct first_ctx f = { .have = false };

		if (expr->value.v_utf8.str[1] == '$')
			return docdb_fail(de, DOCDB_BAD_VALUE, "variables (%s) are not supported by the local DocumentDB",
				expr->value.v_utf8.str);
		path_visit(doc, expr->value.v_utf8.str + 1, first_value, &f);
		if (!f.have) {
			*missing = true;
			out->value_type = BSON_TYPE_NULL;
		} else {
			*out = f.v;
		}
		return 0;
	}
	if (expr->value_type == BSON_TYPE_DOCUMENT) {
		bson_t d, sub;
		bson_iter_t it;

		bson_init_static(&d, expr->value.v_doc.data, expr->value.v_doc.data_len);
		bson_iter_init(&it, &d);
		bson_append_document_begin(tmp, "v", 1, &sub);
		while (bson_iter_next(&it)) {
			bson_value_t v;
			bool m;
			bson_t inner = BSON_INITIALIZER;

			if (bson_iter_key(&it)[0] == '$') {
				bson_destroy(&inner);
				bson_append_document_end(tmp, &sub);
				return docdb_fail(de, 168, "Unrecognized expression '%s'", bson_iter_key(&it));
			}
			if (expr_eval(bson_iter_value(&it), doc, &inner, &v, &m, de) < 0) {
				bson_destroy(&inner);
				bson_append_document_end(tmp, &sub);
				return -1;
			}
			if (!m)
				bson_append_value(&sub, bson_iter_key(&it), -1, &v);
			bson_destroy(&inner);
		}
		bson_append_document_end(tmp, &sub);
		bson_iter_init_find(&it, tmp, "v");
		*out = *bson_iter_value(&it);
		return 0;
	}
	*out = *expr;
	return 0;
}

enum acc_op { ACC_SUM, ACC_AVG, ACC_MIN, ACC_MAX, ACC_FIRST, ACC_LAST, ACC_PUSH, ACC_ADD_TO_SET };

static const char *const acc_names[] = { "$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet" };

struct acc {
	double dsum;
	long long isum;
	bool is_double, is_long;
	long long count;
	bool have;
	bson_value_t best;	/* owned copy: min, max, first, last */
	bson_value_t *list;	/* owned copies: push, addToSet */
	size_t n, cap;
};

struct group {
	bson_value_t key;	/* owned */
	struct acc *accs;
};

static void acc_add(struct acc *a, enum acc_op op, const bson_value_t *v, bool missing)
{
	switch (op) {
	case ACC_SUM:
	case ACC_AVG:
		if (missing || !value_is_number(v))
			return;
		a->count++;
		if (v->value_type == BSON_TYPE_DOUBLE || v->value_type == BSON_TYPE_DECIMAL128)
			a->is_double = true;
		if (v->value_type == BSON_TYPE_INT64)
			a->is_long = true;
		a->dsum += value_number(v);
		if (v->value_type == BSON_TYPE_INT32 || v->value_type == BSON_TYPE_INT64) {
			long long x = v->value_type == BSON_TYPE_INT32 ? v->value.v_int32 : v->value.v_int64;

			if (__builtin_add_overflow(a->isum, x, &a->isum))
				a->is_double = true;
		}
		return;
	case ACC_MIN:
	case ACC_MAX:
		if (missing || v->value_type == BSON_TYPE_NULL)
			return;
		if (!a->have || (op == ACC_MIN ? value_compare(v, &a->best) < 0 : value_compare(v, &a->best) > 0)) {
			if (a->have)
				bson_value_destroy(&a->best);
			bson_value_copy(v, &a->best);
			a->have = true;
		}
		return;
	case ACC_FIRST:
	case ACC_LAST:
		if (op == ACC_FIRST && a->have)
			return;
		if (a->have)
			bson_value_destroy(&a->best);
		bson_value_copy(v, &a->best);	/* a missing field gives null */
		a->have = true;
		return;
	case ACC_PUSH:
	case ACC_ADD_TO_SET:
		if (missing)
			return;
		if (op == ACC_ADD_TO_SET)
			for (size_t i = 0; i < a->n; i++)
				if (value_bracket(a->list[i].value_type) == value_bracket(v->value_type) &&
				    value_compare(&a->list[i], v) == 0)
					return;
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 8;
			a->list = xrealloc(a->list, a->cap * sizeof(*a->list));
		}
		bson_value_copy(v, &a->list[a->n++]);
		return;
	}
}

static void acc_put(bson_t *out, const char *name, struct acc *a, enum acc_op op)
{
	bson_t arr;

	switch (op) {
	case ACC_SUM:
		if (a->is_double)
			BSON_APPEND_DOUBLE(out, name, a->dsum);
		else if (a->is_long || a->isum > INT32_MAX || a->isum < INT32_MIN)
			BSON_APPEND_INT64(out, name, a->isum);
		else
			BSON_APPEND_INT32(out, name, (int32_t)a->isum);
		break;
	case ACC_AVG:
		if (a->count == 0)
			BSON_APPEND_NULL(out, name);
		else
			BSON_APPEND_DOUBLE(out, name, a->dsum / (double)a->count);
		break;
	case ACC_MIN:
	case ACC_MAX:
	case ACC_FIRST:
	case ACC_LAST:
		if (a->have)
			bson_append_value(out, name, -1, &a->best);
		else
			BSON_APPEND_NULL(out, name);
		break;
	case ACC_PUSH:
	case ACC_ADD_TO_SET:
		bson_append_array_begin(out, name, -1, &arr);
		for (size_t i = 0; i < a->n; i++) {
			char ibuf[16];
			const char *ik;

			bson_uint32_to_string((uint32_t)i, &ik, ibuf, sizeof(ibuf));
			bson_append_value(&arr, ik, -1, &a->list[i]);
		}
		bson_append_array_end(out, &arr);
		break;
	}
}

static void acc_release(struct acc *a)
{
	if (a->have)
		bson_value_destroy(&a->best);
	for (size_t i = 0; i < a->n; i++)
		bson_value_destroy(&a->list[i]);
	free(a->list);
}

#define GROUP_MAX_ACCS 32

static int stage_group(struct collect *k, const bson_value_t *spec, struct docdb_error *de)
{
	bson_t s;
	bson_iter_t it;
	bson_value_t id_value, args_v[GROUP_MAX_ACCS];	/* shallow: they point into spec */
	const bson_value_t *id_expr = NULL;
	const char *names[GROUP_MAX_ACCS];
	enum acc_op ops[GROUP_MAX_ACCS];
	const bson_value_t *args[GROUP_MAX_ACCS];
	int na = 0, rc = -1;
	struct group *groups = NULL;
	size_t ng = 0, gcap = 0;
	bson_t **out = NULL;

	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return docdb_fail(de, 15947, "a group's fields must be specified in an object");
	bson_init_static(&s, spec->value.v_doc.data, spec->value.v_doc.data_len);
	bson_iter_init(&it, &s);
	while (bson_iter_next(&it)) {
		bson_t a;
		bson_iter_t ai;
		size_t i;

		if (strcmp(bson_iter_key(&it), "_id") == 0) {
			id_value = *bson_iter_value(&it);
			id_expr = &id_value;
			continue;
		}
		if (na >= GROUP_MAX_ACCS)
			return docdb_fail(de, DOCDB_BAD_VALUE, "more than %d accumulators in $group", GROUP_MAX_ACCS);
		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			return docdb_fail(de, 40234, "The field '%s' must be an accumulator object", bson_iter_key(&it));
		bson_init_static(&a, bson_iter_value(&it)->value.v_doc.data, bson_iter_value(&it)->value.v_doc.data_len);
		if (!bson_iter_init(&ai, &a) || !bson_iter_next(&ai) || bson_count_keys(&a) != 1)
			return docdb_fail(de, 40238, "The field '%s' must specify one accumulator", bson_iter_key(&it));
		for (i = 0; i < ARRAY_SIZE(acc_names); i++)
			if (strcmp(acc_names[i], bson_iter_key(&ai)) == 0)
				break;
		if (i == ARRAY_SIZE(acc_names))
			return docdb_fail(de, 15952, "unknown group operator '%s'", bson_iter_key(&ai));
		names[na] = bson_iter_key(&it);
		ops[na] = (enum acc_op)i;
		args_v[na] = *bson_iter_value(&ai);
		args[na] = &args_v[na];
		na++;
	}
	if (id_expr == NULL)
		return docdb_fail(de, 15955, "a group specification must include an _id");
	for (size_t d = 0; d < k->n; d++) {
		bson_t tmp = BSON_INITIALIZER;
		bson_value_t key;
		bool missing;
		size_t g;

		if (expr_eval(id_expr, k->docs[d], &tmp, &key, &missing, de) < 0) {
			bson_destroy(&tmp);
			goto out;
		}
		for (g = 0; g < ng; g++)
			if (value_bracket(groups[g].key.value_type) == value_bracket(key.value_type) &&
			    value_compare(&groups[g].key, &key) == 0)
				break;
		if (g == ng) {
			if (ng == gcap) {
				gcap = gcap ? gcap * 2 : 16;
				groups = xrealloc(groups, gcap * sizeof(*groups));
			}
			bson_value_copy(&key, &groups[ng].key);
			groups[ng].accs = xcalloc((size_t)na + 1, sizeof(struct acc));
			ng++;
		}
		bson_destroy(&tmp);
		for (int a = 0; a < na; a++) {
			bson_t t2 = BSON_INITIALIZER;
			bson_value_t v;
			bool m;

			if (expr_eval(args[a], k->docs[d], &t2, &v, &m, de) < 0) {
				bson_destroy(&t2);
				goto out;
			}
			acc_add(&groups[g].accs[a], ops[a], &v, m);
			bson_destroy(&t2);
		}
	}
	out = xcalloc(ng + 1, sizeof(*out));
	for (size_t g = 0; g < ng; g++) {
		out[g] = bson_new();
		bson_append_value(out[g], "_id", 3, &groups[g].key);
		for (int a = 0; a < na; a++)
			acc_put(out[g], names[a], &groups[g].accs[a], ops[a]);
	}
	collect_release(k);
	k->docs = out;
	k->n = k->cap = ng;
	k->seqs = xcalloc(ng + 1, sizeof(*k->seqs));
	rc = 0;
out:
	for (size_t g = 0; g < ng; g++) {
		for (int a = 0; a < na; a++)
			acc_release(&groups[g].accs[a]);
		free(groups[g].accs);
		bson_value_destroy(&groups[g].key);
	}
	free(groups);
	return rc;
}

static void replace_docs(struct collect *k, bson_t **docs, size_t n)
{
	collect_release(k);
	k->docs = docs;
	k->n = k->cap = n;
	k->seqs = xcalloc(n + 1, sizeof(*k->seqs));
}

/* Set path to v in doc, through the update machinery ($set). */
static int set_path(const bson_t *doc, const char *path, const bson_value_t *v, bson_t **out, struct docdb_error *de)
{
	bson_t upd = BSON_INITIALIZER, set, nd;
	int rc;

	bson_append_document_begin(&upd, "$set", 4, &set);
	bson_append_value(&set, path, -1, v);
	bson_append_document_end(&upd, &set);
	rc = update_apply(doc, &upd, NULL, true, &nd, de);
	bson_destroy(&upd);
	if (rc < 0) {
		bson_destroy(&nd);
		return -1;
	}
	*out = bson_copy(&nd);
	bson_destroy(&nd);
	return 0;
}

struct doc_list {
	bson_t **docs;
	size_t n, cap;
};

static void list_add(struct doc_list *l, bson_t *d)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->docs = xrealloc(l->docs, l->cap * sizeof(*l->docs));
	}
	l->docs[l->n++] = d;
}

static void list_free(struct doc_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		bson_destroy(l->docs[i]);
	free(l->docs);
}

static int stage_unwind(struct collect *k, const bson_value_t *spec, struct docdb_error *de)
{
	const char *path = NULL, *index_field = NULL;
	bool preserve = false;
	struct doc_list out = { NULL, 0, 0 };

	if (spec->value_type == BSON_TYPE_UTF8) {
		path = spec->value.v_utf8.str;
	} else if (spec->value_type == BSON_TYPE_DOCUMENT) {
		bson_t d;
		bson_iter_t it;

		bson_init_static(&d, spec->value.v_doc.data, spec->value.v_doc.data_len);
		if (bson_iter_init_find(&it, &d, "path") && BSON_ITER_HOLDS_UTF8(&it))
			path = bson_iter_utf8(&it, NULL);
		if (bson_iter_init_find(&it, &d, "preserveNullAndEmptyArrays"))
			preserve = bson_iter_as_bool(&it);
		if (bson_iter_init_find(&it, &d, "includeArrayIndex") && BSON_ITER_HOLDS_UTF8(&it))
			index_field = bson_iter_utf8(&it, NULL);
	}
	if (path == NULL || path[0] != '$' || path[1] == 0)
		return docdb_fail(de, 28650, "$unwind's path must be a field path prefixed by '$'");
	path++;
	for (size_t i = 0; i < k->n; i++) {
		struct first_ctx f = { .have = false };
		bson_t arr;
		bson_iter_t it;
		int64_t idx = 0;

		path_visit(k->docs[i], path, first_value, &f);
		if (f.have && f.v.value_type == BSON_TYPE_ARRAY &&
		    bson_init_static(&arr, f.v.value.v_doc.data, f.v.value.v_doc.data_len) && bson_count_keys(&arr) > 0) {
			bson_iter_init(&it, &arr);
			while (bson_iter_next(&it)) {
				bson_t *nd, *nd2;

				if (set_path(k->docs[i], path, bson_iter_value(&it), &nd, de) < 0)
					goto fail;
				if (index_field != NULL) {
					bson_value_t iv = { .value_type = BSON_TYPE_INT64 };

					iv.value.v_int64 = idx;
					if (set_path(nd, index_field, &iv, &nd2, de) < 0) {
						bson_destroy(nd);
						goto fail;
					}
					bson_destroy(nd);
					nd = nd2;
				}
				idx++;
				list_add(&out, nd);
			}
		} else if ((f.have && f.v.value_type != BSON_TYPE_ARRAY && f.v.value_type != BSON_TYPE_NULL) || preserve) {
			/* a non-array is a one-element array; a preserved empty array
			 * leaves the field out, and the index is null, as MongoDB's */
			bson_t *nd = bson_copy(k->docs[i]), *nd2;
			bson_value_t null = { .value_type = BSON_TYPE_NULL };

			if (f.have && f.v.value_type == BSON_TYPE_ARRAY) {
				bson_t upd = BSON_INITIALIZER, un, tmp;

				bson_append_document_begin(&upd, "$unset", 6, &un);
				bson_append_utf8(&un, path, -1, "", 0);
				bson_append_document_end(&upd, &un);
				if (update_apply(nd, &upd, NULL, true, &tmp, de) == 0) {
					bson_destroy(nd);
					nd = bson_copy(&tmp);
				}
				bson_destroy(&tmp);
				bson_destroy(&upd);
			}
			if (index_field != NULL) {
				if (set_path(nd, index_field, &null, &nd2, de) < 0) {
					bson_destroy(nd);
					goto fail;
				}
				bson_destroy(nd);
				nd = nd2;
			}
			list_add(&out, nd);
		}
	}
	replace_docs(k, out.docs, out.n);
	return 0;
fail:
	list_free(&out);
	return -1;
}

static int stage_add_fields(struct collect *k, const bson_value_t *spec, struct docdb_error *de)
{
	bson_t d;
	bson_iter_t it;

	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return docdb_fail(de, 40272, "$addFields specification stage must be an object");
	bson_init_static(&d, spec->value.v_doc.data, spec->value.v_doc.data_len);
	for (size_t i = 0; i < k->n; i++) {
		bson_iter_init(&it, &d);
		while (bson_iter_next(&it)) {
			bson_t tmp = BSON_INITIALIZER, *nd;
			bson_value_t v;
			bool missing;

			if (expr_eval(bson_iter_value(&it), k->docs[i], &tmp, &v, &missing, de) < 0 ||
			    (!missing && set_path(k->docs[i], bson_iter_key(&it), &v, &nd, de) < 0)) {
				bson_destroy(&tmp);
				return -1;
			}
			bson_destroy(&tmp);
			if (!missing) {
				bson_destroy(k->docs[i]);
				k->docs[i] = nd;
			}
		}
	}
	return 0;
}

struct lookup_env {
	struct docdb_conn *c;
	const char *db;
};

static int stage_lookup(struct collect *k, const bson_value_t *spec, const struct lookup_env *env,
	struct docdb_error *de)
{
	const char *from = NULL, *local = NULL, *foreign = NULL, *as = NULL;
	bson_t d, none = BSON_INITIALIZER;
	bson_iter_t it;
	struct coll fc;
	struct collect fk;
	int rc = -1;

	memset(&fk, 0, sizeof(fk));
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return docdb_fail(de, 40319, "the $lookup stage specification must be an object");
	bson_init_static(&d, spec->value.v_doc.data, spec->value.v_doc.data_len);
	bson_iter_init(&it, &d);
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);

		if (!BSON_ITER_HOLDS_UTF8(&it))
			return docdb_fail(de, DOCDB_BAD_VALUE,
				"$lookup's '%s' is not supported by the local DocumentDB; give from, localField,"
				" foreignField and as", key);
		if (strcmp(key, "from") == 0) from = bson_iter_utf8(&it, NULL);
		else if (strcmp(key, "localField") == 0) local = bson_iter_utf8(&it, NULL);
		else if (strcmp(key, "foreignField") == 0) foreign = bson_iter_utf8(&it, NULL);
		else if (strcmp(key, "as") == 0) as = bson_iter_utf8(&it, NULL);
		else
			return docdb_fail(de, DOCDB_BAD_VALUE, "unknown argument to $lookup: %s", key);
	}
	if (!from || !local || !foreign || !as)
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "$lookup needs from, localField, foreignField and as");
	if (!docdb_allowed(env->c, env->db, ACT_READ))
		return docdb_fail(de, DOCDB_UNAUTHORIZED, "not authorized on %s", env->db);
	if (store_coll_open(env->c->pg, env->db, from, false, &fc, de) < 0)
		goto out;
	if (query(env->c, &fc, &none, NULL, NULL, 0, 0, &fk, de) < 0)
		goto out;
	for (size_t i = 0; i < k->n; i++) {
		struct first_ctx f = { .have = false };
		bson_t flt = BSON_INITIALIZER, cond, arr = BSON_INITIALIZER, *nd;
		bson_value_t av;
		bson_iter_t ai;
		unsigned n = 0;

		path_visit(k->docs[i], local, first_value, &f);
		bson_append_document_begin(&flt, foreign, -1, &cond);
		if (f.have && f.v.value_type == BSON_TYPE_ARRAY)
			bson_append_value(&cond, "$in", 3, &f.v);
		else if (f.have)
			bson_append_value(&cond, "$eq", 3, &f.v);
		else
			bson_append_null(&cond, "$eq", 3);
		bson_append_document_end(&flt, &cond);
		for (size_t j = 0; j < fk.n; j++) {
			if (match_doc(&flt, fk.docs[j])) {
				char ibuf[16];
				const char *ik;

				bson_uint32_to_string(n++, &ik, ibuf, sizeof(ibuf));
				bson_append_document(&arr, ik, -1, fk.docs[j]);
			}
		}
		bson_destroy(&flt);
		{
			bson_t holder = BSON_INITIALIZER;

			bson_append_array(&holder, "a", 1, &arr);
			bson_iter_init_find(&ai, &holder, "a");
			av = *bson_iter_value(&ai);
			rc = set_path(k->docs[i], as, &av, &nd, de);
			bson_destroy(&holder);
		}
		bson_destroy(&arr);
		if (rc < 0)
			goto out;
		bson_destroy(k->docs[i]);
		k->docs[i] = nd;
	}
	rc = 0;
out:
	collect_release(&fk);
	store_coll_release(&fc);
	return rc;
}

static int run_stage(struct collect *k, const char *name, const bson_value_t *v, const struct lookup_env *env,
	struct docdb_error *de)
{
	bson_t d;

	if (v->value_type == BSON_TYPE_DOCUMENT)
		bson_init_static(&d, v->value.v_doc.data, v->value.v_doc.data_len);
	else
		bson_init(&d);
	if (strcmp(name, "$match") == 0) {
		size_t w = 0;

		if (match_validate(&d, de) < 0)
			return -1;
		for (size_t i = 0; i < k->n; i++) {
			if (match_doc(&d, k->docs[i]))
				k->docs[w++] = k->docs[i];
			else
				bson_destroy(k->docs[i]);
		}
		k->n = w;
		return 0;
	}
	if (strcmp(name, "$sort") == 0) {
		struct sort_spec s;

		if (sort_parse(&d, &s, de) < 0)
			return -1;
		sort_collected(k, &s);
		return 0;
	}
	if (strcmp(name, "$skip") == 0 || strcmp(name, "$limit") == 0) {
		long long n;

		if (!value_is_number(v) || value_number(v) < 0)
			return docdb_fail(de, 15956, "the %s must be a non-negative number", name);
		n = (long long)value_number(v);
		if (name[1] == 's')
			skip_limit(k, n, 0);
		else if (n == 0)
			return docdb_fail(de, 15958, "the limit must be positive");
		else
			skip_limit(k, 0, n);
		return 0;
	}
	if (strcmp(name, "$project") == 0) {
		if (v->value_type != BSON_TYPE_DOCUMENT || project_validate(&d, de) < 0)
			return -1;
		for (size_t i = 0; i < k->n; i++) {
			bson_t out;

			project_apply(k->docs[i], &d, &out);
			bson_destroy(k->docs[i]);
			k->docs[i] = bson_copy(&out);
			bson_destroy(&out);
		}
		return 0;
	}
	if (strcmp(name, "$count") == 0) {
		bson_t **one;

		if (v->value_type != BSON_TYPE_UTF8 || v->value.v_utf8.len == 0 || v->value.v_utf8.str[0] == '$')
			return docdb_fail(de, 40156, "the count field must be a non-empty string not starting with $");
		if (k->n == 0) {
			replace_docs(k, NULL, 0);
			return 0;
		}
		one = xcalloc(1, sizeof(*one));
		one[0] = bson_new();
		BSON_APPEND_INT32(one[0], v->value.v_utf8.str, (int32_t)k->n);
		replace_docs(k, one, 1);
		return 0;
	}
	if (strcmp(name, "$group") == 0)
		return stage_group(k, v, de);
	if (strcmp(name, "$unwind") == 0)
		return stage_unwind(k, v, de);
	if (strcmp(name, "$addFields") == 0 || strcmp(name, "$set") == 0)
		return stage_add_fields(k, v, de);
	if (strcmp(name, "$lookup") == 0)
		return stage_lookup(k, v, env, de);
	return docdb_fail(de, 40324, "Unrecognized pipeline stage name: '%s'", name);
}

int cmd_aggregate(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	struct collect k;
	bson_iter_t it, stages, cur;
	bson_t first_match = BSON_INITIALIZER;
	long long batch = 101;
	bool skip_first = false;
	char *ns;
	int rc = -1;
	struct lookup_env env = { c, db };

	memset(&k, 0, sizeof(k));
	if (bson_iter_init(&it, cmd) && bson_iter_next(&it) && !BSON_ITER_HOLDS_UTF8(&it))
		return docdb_fail(de, DOCDB_BAD_VALUE, "collection-less aggregate is not supported by the local DocumentDB");
	if (!bson_iter_init_find(&it, cmd, "pipeline") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &stages))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "'pipeline' option must be specified as an array");
	if (bson_iter_init_find(&it, cmd, "cursor") && BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &cur) &&
	    bson_iter_find(&cur, "batchSize") && value_is_number(bson_iter_value(&cur)))
		batch = (long long)value_number(bson_iter_value(&cur));
	{
		bson_iter_t probe = stages, st;

		if (bson_iter_next(&probe) && BSON_ITER_HOLDS_DOCUMENT(&probe) && bson_iter_recurse(&probe, &st) &&
		    bson_iter_next(&st) && strcmp(bson_iter_key(&st), "$match") == 0 && BSON_ITER_HOLDS_DOCUMENT(&st)) {
			const uint8_t *data;
			uint32_t len;

			bson_iter_document(&st, &len, &data);
			bson_destroy(&first_match);
			bson_init_static(&first_match, data, len);
			skip_first = true;
		}
	}
	if (open_coll(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (query(c, &coll, &first_match, NULL, NULL, 0, 0, &k, de) < 0)
		goto out;
	if (skip_first)
		bson_iter_next(&stages);
	while (bson_iter_next(&stages)) {
		bson_iter_t st;

		if (!BSON_ITER_HOLDS_DOCUMENT(&stages) || !bson_iter_recurse(&stages, &st) || !bson_iter_next(&st)) {
			docdb_fail(de, 40323, "A pipeline stage specification object must contain exactly one field.");
			goto out;
		}
		if (run_stage(&k, bson_iter_key(&st), bson_iter_value(&st), &env, de) < 0)
			goto out;
	}
	ns = xasprintf("%s.%s", db, coll.name);
	rc = reply_cursor(c, reply, ns, k.docs, k.n, batch == 0 ? -1 : batch, false, de);
	k.docs = NULL;
	k.n = 0;
	free(ns);
out:
	collect_release(&k);
	store_coll_release(&coll);
	return rc;
}
