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

static const char *type_name(bson_type_t t);

/* ---- positional paths: $, $[] and $[<identifier>] ---- */

enum pos_kind { POS_NONE, POS_FIRST, POS_ALL, POS_ID };

/* What the path component [c, c+n) is; for POS_ID, id and idn give the identifier. */
static enum pos_kind pos_kind(const char *c, size_t n, const char **id, size_t *idn)
{
	if (n == 1 && c[0] == '$')
		return POS_FIRST;
	if (n == 3 && memcmp(c, "$[]", 3) == 0)
		return POS_ALL;
	if (n > 3 && c[0] == '$' && c[1] == '[' && c[n - 1] == ']') {
		*id = c + 2;
		*idn = n - 3;
		return POS_ID;
	}
	return POS_NONE;
}

static bool path_is_positional(const char *p)
{
	for (const char *c = p; *c; ) {
		size_t n = strcspn(c, ".");
		const char *id;
		size_t idn;

		if (pos_kind(c, n, &id, &idn) != POS_NONE)
			return true;
		c += n;
		if (*c == '.')
			c++;
	}
	return false;
}

/*
 * The identifier an array filter is about: the part before the first dot
 * of each top-level field ($and/$or/$nor looked into), one and the same
 * for all, as MongoDB requires.
 */
static int af_ident(const bson_t *f, const char **id, size_t *idn, struct docdb_error *de)
{
	bson_iter_t it, arr;

	if (!bson_iter_init(&it, f))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "malformed array filter");
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it), *s;
		size_t n;

		if (k[0] == '$') {
			if (strcmp(k, "$and") != 0 && strcmp(k, "$or") != 0 && strcmp(k, "$nor") != 0)
				continue;	/* $comment and the like; match_validate() judges the rest */
			if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
				continue;
			while (bson_iter_next(&arr)) {
				bson_t d;
				const uint8_t *data;
				uint32_t len;

				if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
					continue;
				bson_iter_document(&arr, &len, &data);
				if (bson_init_static(&d, data, len) && af_ident(&d, id, idn, de) < 0)
					return -1;
			}
			continue;
		}
		s = k;
		n = strcspn(k, ".");
		if (*id != NULL && (*idn != n || memcmp(*id, s, n) != 0))
			return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
				"Error parsing array filter :: caused by :: Expected a single top-level field name, found"
				" '%.*s' and '%.*s'", (int)*idn, *id, (int)n, s);
		*id = s;
		*idn = n;
	}
	return 0;
}

/* The array filter for identifier [id, id+idn) into *f (static); false if none. */
static bool af_lookup(const bson_t *filters, const char *id, size_t idn, bson_t *f)
{
	bson_iter_t it;

	if (filters == NULL || !bson_iter_init(&it, filters))
		return false;
	while (bson_iter_next(&it)) {
		const uint8_t *data;
		uint32_t len;
		const char *fid = NULL;
		size_t fn = 0;
		struct docdb_error de;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			continue;
		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(f, data, len) || af_ident(f, &fid, &fn, &de) < 0)
			continue;
		if (fid != NULL && fn == idn && memcmp(fid, id, idn) == 0)
			return true;
	}
	return false;
}

/* arrayFilters checked alone: documents, one valid identifier each, no two alike. */
static int af_validate(const bson_t *filters, struct docdb_error *de)
{
	bson_iter_t it;
	unsigned i = 0;

	if (!bson_iter_init(&it, filters))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "malformed arrayFilters");
	while (bson_iter_next(&it)) {
		bson_t f, g;
		const uint8_t *data;
		uint32_t len;
		const char *id = NULL;
		size_t idn = 0;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			return docdb_fail(de, DOCDB_TYPE_MISMATCH, "BSON field 'arrayFilters.%u' is the wrong type '%s',"
				" expected type 'object'", i, "non-object");
		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(&f, data, len) || af_ident(&f, &id, &idn, de) < 0 || match_validate(&f, de) < 0)
			return -1;
		if (id == NULL)
			return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
				"Cannot use an expression without a top-level field name in arrayFilters");
		if (idn == 0 || id[0] < 'a' || id[0] > 'z')
			return docdb_fail(de, DOCDB_BAD_VALUE, "Error parsing array filter :: caused by :: The top-level"
				" field name must be an alphanumeric string beginning with a lowercase letter, found '%.*s'",
				(int)idn, id);
		for (size_t k = 1; k < idn; k++)
			if (!((id[k] >= 'a' && id[k] <= 'z') || (id[k] >= 'A' && id[k] <= 'Z') || (id[k] >= '0' && id[k] <= '9')))
				return docdb_fail(de, DOCDB_BAD_VALUE, "Error parsing array filter :: caused by :: The"
					" top-level field name must be an alphanumeric string beginning with a lowercase"
					" letter, found '%.*s'", (int)idn, id);
		/* a duplicate is the same identifier in an earlier filter */
		if (i > 0) {
			bson_iter_t scan;
			unsigned j = 0;

			bson_iter_init(&scan, filters);
			while (j < i && bson_iter_next(&scan)) {
				const char *pid = NULL;
				size_t pn = 0;
				struct docdb_error ignored;

				j++;
				bson_iter_document(&scan, &len, &data);
				if (bson_init_static(&g, data, len) && af_ident(&g, &pid, &pn, &ignored) == 0 &&
				    pid != NULL && pn == idn && memcmp(pid, id, idn) == 0)
					return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
						"Found multiple array filters with the same top-level field name %.*s",
						(int)idn, id);
			}
		}
		i++;
	}
	return 0;
}

/* Check one update path's positional components; used identifiers counted in used[]. */
static int pos_validate_path(const char *op, const char *p, const bson_t *filters, bool *used, size_t nused,
	struct docdb_error *de)
{
	int firsts = 0;

	for (const char *c = p; *c; ) {
		size_t n = strcspn(c, ".");
		const char *id;
		size_t idn;
		enum pos_kind k = pos_kind(c, n, &id, &idn);

		if (k != POS_NONE && strcmp(op, "$rename") == 0)
			return docdb_fail(de, DOCDB_BAD_VALUE, "The source field for $rename may not be dynamic: %s", p);
		if (k == POS_FIRST && ++firsts > 1)
			return docdb_fail(de, DOCDB_BAD_VALUE, "Too many positional (i.e. '$') elements found in path '%s'", p);
		if (k == POS_ID) {
			bson_iter_t it;
			size_t j = 0;
			bool found = false;

			if (filters != NULL && bson_iter_init(&it, filters)) {
				while (bson_iter_next(&it)) {
					bson_t f;
					const uint8_t *data;
					uint32_t len;
					const char *fid = NULL;
					size_t fn = 0;
					struct docdb_error ignored;

					bson_iter_document(&it, &len, &data);
					if (bson_init_static(&f, data, len) && af_ident(&f, &fid, &fn, &ignored) == 0 &&
					    fid != NULL && fn == idn && memcmp(fid, id, idn) == 0) {
						if (j < nused)
							used[j] = true;
						found = true;
					}
					j++;
				}
			}
			if (!found)
				return docdb_fail(de, DOCDB_BAD_VALUE, "No array filter found for identifier '%.*s' in path '%s'",
					(int)idn, id, p);
		}
		if (k == POS_NONE && c[0] == '$')
			return docdb_fail(de, DOCDB_DOLLAR_PREFIXED,
				"The dollar ($) prefixed field '%.*s' in '%s' is not valid for storage.", (int)n, c, p);
		c += n;
		if (*c == '.')
			c++;
	}
	return 0;
}

struct pathlist {
	char **v;
	size_t n, cap;
};

static void pathlist_add(struct pathlist *l, char *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = p;
}

static void pathlist_free(struct pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static char *join(const char *a, const char *b, size_t bn)
{
	size_t an = strlen(a);
	char *r = xrealloc(NULL, an + bn + 2);

	memcpy(r, a, an);
	if (an > 0)
		r[an++] = '.';
	memcpy(r + an, b, bn);
	r[an + bn] = 0;
	return r;
}

/* Does the query match root once the array arr holds only its element i?
 * And with arr empty (i < 0)? */
static bool matches_with(struct dnode *root, struct dnode *arr, long i, const bson_t *query)
{
	struct dnode **kids = arr->kids;
	size_t n = arr->n;
	bson_t b = BSON_INITIALIZER;
	bool m;

	arr->kids = i >= 0 ? &kids[i] : NULL;
	arr->n = i >= 0 ? 1 : 0;
	node_to_bson(root, &b);
	arr->kids = kids;
	arr->n = n;
	m = match_doc(query, &b);
	bson_destroy(&b);
	return m;
}

/*
 * The element $ stands for: the first whose presence alone satisfies the
 * query.  A query that matches with the array emptied does not depend on
 * its elements, so there is no position, as MongoDB records none for it.
 */
static long first_matched(struct dnode *root, struct dnode *arr, const bson_t *query)
{
	if (matches_with(root, arr, -1, query))
		return -1;
	for (size_t i = 0; i < arr->n; i++)
		if (matches_with(root, arr, (long)i, query))
			return (long)i;
	return -1;
}

/* Does element e of an array satisfy the array filter f about identifier id? */
static bool element_matches(const bson_t *f, const char *id, size_t idn, const struct dnode *e)
{
	bson_t b = BSON_INITIALIZER;
	char *key = xstrndup(id, idn);
	bool m;

	node_append(&b, key, e);
	m = match_doc(f, &b);
	bson_destroy(&b);
	free(key);
	return m;
}

/*
 * The concrete paths a positional path names in the document: done is the
 * prefix resolved so far (cur the node there), rest what is left (NULL: done).
 */
static int expand(struct dnode *root, struct dnode *cur, const char *done, const char *rest,
	const struct update_pos *pos, bool inserting, struct pathlist *out, struct docdb_error *de)
{
	size_t n;
	const char *next, *id;
	size_t idn;
	enum pos_kind k;
	int rc = 0;

	if (rest == NULL || !path_is_positional(rest)) {
		pathlist_add(out, rest == NULL ? xstrdup(done) : join(done, rest, strlen(rest)));
		return 0;
	}
	n = strcspn(rest, ".");
	next = rest[n] == '.' ? rest + n + 1 : NULL;
	k = pos_kind(rest, n, &id, &idn);
	if (k == POS_NONE) {
		long i = -1;
		char *comp = xstrndup(rest, n), *d = join(done, rest, n);

		if (cur != NULL && (cur->type == BSON_TYPE_DOCUMENT || cur->type == BSON_TYPE_ARRAY))
			i = child_index(cur, comp);
		if (i < 0)
			rc = docdb_fail(de, DOCDB_BAD_VALUE,
				"The path '%s' must exist in the document in order to apply array updates.", d);
		else
			rc = expand(root, cur->kids[i], d, next, pos, inserting, out, de);
		free(comp);
		free(d);
		return rc;
	}
	if (k == POS_FIRST) {
		long i;
		char ib[24], *d;

		if (inserting || pos == NULL || pos->query == NULL || cur == NULL || cur->type != BSON_TYPE_ARRAY ||
		    (i = first_matched(root, cur, pos->query)) < 0)
			return docdb_fail(de, DOCDB_BAD_VALUE,
				"The positional operator did not find the match needed from the query.");
		snprintf(ib, sizeof(ib), "%ld", i);
		d = join(done, ib, strlen(ib));
		rc = expand(root, cur->kids[i], d, next, pos, inserting, out, de);
		free(d);
		return rc;
	}
	if (cur == NULL || cur->type != BSON_TYPE_ARRAY)
		return docdb_fail(de, DOCDB_BAD_VALUE, "Cannot apply array updates to non-array element %s: %s",
			*done ? done : "(the document)", cur == NULL ? "missing" : type_name(cur->type));
	for (size_t i = 0; rc == 0 && i < cur->n; i++) {
		bson_t f;
		char ib[24], *d;

		if (k == POS_ID && (!af_lookup(pos ? pos->array_filters : NULL, id, idn, &f) ||
		    !element_matches(&f, id, idn, cur->kids[i])))
			continue;
		snprintf(ib, sizeof(ib), "%zu", i);
		d = join(done, ib, strlen(ib));
		rc = expand(root, cur->kids[i], d, next, pos, inserting, out, de);
		free(d);
	}
	return rc;
}

static bool paths_conflict(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	if (strncmp(a, b, n) != 0)
		return false;
	return na == nb || (na > nb ? a[nb] == '.' : b[na] == '.');
}

int update_validate(const bson_t *update, const bson_t *array_filters, struct docdb_error *de)
{
	bson_iter_t it, f;
	const char *paths[512];
	size_t np = 0, nf = 0;
	bool used[64] = { false };

	if (array_filters != NULL) {
		if (af_validate(array_filters, de) < 0)
			return -1;
		nf = bson_count_keys(array_filters);
		if (nf > ARRAY_SIZE(used))
			return docdb_fail(de, DOCDB_BAD_VALUE, "at most %zu arrayFilters are supported", ARRAY_SIZE(used));
	}
	if (update_is_replacement(update)) {
		if (nf > 0)
			return docdb_fail(de, DOCDB_FAILED_TO_PARSE,
				"arrayFilters may not be specified for a replacement-style update");
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

			if (strchr(p, '$') != NULL && pos_validate_path(op, p, array_filters, used, nf, de) < 0)
				return -1;
			if (strcmp(op, "$rename") == 0) {
				if (!BSON_ITER_HOLDS_UTF8(&f))
					return docdb_fail(de, DOCDB_BAD_VALUE, "The 'to' field for $rename must be a string: %s", p);
				check[1] = bson_iter_utf8(&f, NULL);
				if (path_is_positional(check[1]))
					return docdb_fail(de, DOCDB_BAD_VALUE,
						"The destination field for $rename may not be dynamic: %s", check[1]);
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
	for (size_t i = 0; i < nf; i++) {
		if (!used[i]) {
			bson_iter_t a;
			bson_t fd;
			const uint8_t *data;
			uint32_t len;
			const char *id = NULL;
			size_t idn = 0;
			char *uj = bson_as_relaxed_extended_json(update, NULL);

			bson_iter_init(&a, array_filters);
			for (size_t j = 0; j <= i; j++)
				bson_iter_next(&a);
			bson_iter_document(&a, &len, &data);
			bson_init_static(&fd, data, len);
			af_ident(&fd, &id, &idn, de);
			docdb_fail(de, DOCDB_FAILED_TO_PARSE, "The array filter for identifier '%.*s' was not used in the update %s",
				(int)idn, id ? id : "", uj ? uj : "");
			bson_free(uj);
			return -1;
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

int update_apply(const bson_t *doc, const bson_t *update, const struct update_pos *pos, bool inserting, bson_t *out,
	struct docdb_error *de)
{
	bson_iter_t it, f, idit, nid;
	struct dnode *root, *orig = NULL;
	struct pathlist applied = { NULL, 0, 0 };
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
			if (path_is_positional(bson_iter_key(&f))) {
				struct pathlist l = { NULL, 0, 0 };

				/* resolved in the document as it was, as MongoDB does, so that
				 * an earlier operator's change does not move what a later names */
				if (orig == NULL) {
					orig = node_new("", BSON_TYPE_DOCUMENT);
					node_fill(orig, bson_get_data(doc), doc->len);
				}
				rc = expand(orig, orig, "", bson_iter_key(&f), pos, inserting, &l, de);
				/* what positional paths name is known only now: conflicts too */
				for (size_t j = 0; rc == 0 && j < l.n; j++)
					for (size_t a = 0; rc == 0 && a < applied.n; a++)
						if (paths_conflict(applied.v[a], l.v[j]))
							rc = docdb_fail(de, DOCDB_CONFLICTING_UPDATE,
								"Update created a conflict at '%s'", l.v[j]);
				for (size_t j = 0; rc == 0 && j < l.n; j++)
					rc = op_field(root, op, l.v[j], bson_iter_value(&f), id, de);
				for (size_t j = 0; j < l.n; j++)
					pathlist_add(&applied, l.v[j]);
				free(l.v);
				continue;
			}
			pathlist_add(&applied, xstrdup(bson_iter_key(&f)));
			rc = op_field(root, op, bson_iter_key(&f), bson_iter_value(&f), id, de);
		}
	}
	pathlist_free(&applied);
	node_free(orig);
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
