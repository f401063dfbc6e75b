/*
 * crud.c: insert, find, getMore, killCursors, update, delete,
 * findAndModify, count, distinct and explain.
 *
 * A read selects the collection's rows in insertion order, narrowed by
 * any secondary index whose first field the filter compares with a scalar
 * (plan_where()); the filter is then evaluated in full on every row read
 * (match_doc()), so an index only ever narrows what is read, never decides
 * the answer.  Writes run in one PostgreSQL transaction per command and are
 * acknowledged after its COMMIT returned.  Results are held by a cursor
 * (capped at DOCDB_MAX_CURSOR_BYTES) and handed out in batches.
 */
#include "compat.h"

#include <openssl/rand.h>

#include "cmd.h"
#include "match.h"
#include "store.h"
#include "update.h"
#include "query.h"

/* ---- cursors ---- */

struct cursor {
	int64_t id;
	char *ns;
	char *owner;
	bson_t **docs;
	size_t n, pos;
	struct cursor *next;
};

static pthread_mutex_t cursor_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cursor *cursors;
static size_t ncursors;

void cursor_init(void)
{
}

static void docs_free(bson_t **docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bson_destroy(docs[i]);
	free(docs);
}

static char *conn_owner(const struct docdb_conn *c)
{
	if (c->nusers == 0)
		return xstrdup("");
	return xasprintf("%s.%s", c->users[0].db, c->users[0].name);
}

/* A batch from docs[*pos]: at most max documents (0: no limit, <0: none)
 * and about 16 MB. */
static void put_batch(bson_t *reply, const char *key, bson_t **docs, size_t n, size_t *pos, long long max)
{
	bson_t arr;
	size_t bytes = 0;
	long long k = 0;
	char ibuf[16];
	const char *ik;

	bson_append_array_begin(reply, key, -1, &arr);
	while (*pos < n && max >= 0 && (max == 0 || k < max)) {
		if (k > 0 && bytes + docs[*pos]->len > 16 * 1024 * 1024 - 64 * 1024)
			break;
		bson_uint32_to_string((uint32_t)k, &ik, ibuf, sizeof(ibuf));
		bson_append_document(&arr, ik, -1, docs[*pos]);
		bytes += docs[*pos]->len;
		k++;
		(*pos)++;
	}
	bson_append_array_end(reply, &arr);
}

/* Reply with a cursor over docs (taken); keep it when some remain. */
int reply_cursor(struct docdb_conn *c, bson_t *reply, const char *ns, bson_t **docs, size_t n,
	long long batch, bool single, struct docdb_error *de)
{
	bson_t cur;
	size_t pos = 0;
	int64_t id = 0;

	bson_append_document_begin(reply, "cursor", -1, &cur);
	put_batch(&cur, "firstBatch", docs, n, &pos, batch);
	if (pos < n && !single) {
		struct cursor *k;

		pthread_mutex_lock(&cursor_lock);
		if (ncursors >= DOCDB_MAX_CURSORS) {
			pthread_mutex_unlock(&cursor_lock);
			bson_append_document_end(reply, &cur);
			docs_free(docs, n);
			return docdb_fail(de, 96, "too many open cursors (%d); close cursors or exhaust them",
				DOCDB_MAX_CURSORS);
		}
		k = xcalloc(1, sizeof(*k));
		do {
			RAND_bytes((unsigned char *)&id, sizeof(id));
			id &= INT64_MAX;
		} while (id == 0);
		k->id = id;
		k->ns = xstrdup(ns);
		k->owner = conn_owner(c);
		k->docs = docs;
		k->n = n;
		k->pos = pos;
		k->next = cursors;
		cursors = k;
		ncursors++;
		pthread_mutex_unlock(&cursor_lock);
	} else {
		docs_free(docs, n);
	}
	BSON_APPEND_INT64(&cur, "id", id);
	BSON_APPEND_UTF8(&cur, "ns", ns);
	bson_append_document_end(reply, &cur);
	return 0;
}

static void cursor_free(struct cursor *k)
{
	docs_free(k->docs, k->n);
	free(k->ns);
	free(k->owner);
	free(k);
}

int cmd_get_more(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	bson_iter_t it;
	int64_t id;
	long long batch = 0;
	struct cursor **pp, *k = NULL;
	char *ns = NULL, *owner = conn_owner(c);
	bson_t cur;
	int rc = 0;

	if (!bson_iter_init_find(&it, cmd, "getMore") || !BSON_ITER_HOLDS_INT64(&it)) {
		free(owner);
		return docdb_fail(de, DOCDB_TYPE_MISMATCH, "getMore's cursor id must be a long");
	}
	id = bson_iter_int64(&it);
	if (bson_iter_init_find(&it, cmd, "batchSize"))
		batch = bson_iter_as_int64(&it);
	if (bson_iter_init_find(&it, cmd, "collection") && BSON_ITER_HOLDS_UTF8(&it))
		ns = xasprintf("%s.%s", db, bson_iter_utf8(&it, NULL));
	pthread_mutex_lock(&cursor_lock);
	for (pp = &cursors; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id)
			break;
	if (*pp == NULL || (ns && strcmp((*pp)->ns, ns) != 0)) {
		rc = docdb_fail(de, DOCDB_CURSOR_NOT_FOUND, "cursor id %lld not found", (long long)id);
	} else if (strcmp((*pp)->owner, owner) != 0) {
		rc = docdb_fail(de, DOCDB_UNAUTHORIZED, "cursor id %lld was not created by the authenticated user",
			(long long)id);
	} else {
		k = *pp;
		bson_append_document_begin(reply, "cursor", -1, &cur);
		put_batch(&cur, "nextBatch", k->docs, k->n, &k->pos, batch);
		BSON_APPEND_INT64(&cur, "id", k->pos < k->n ? id : 0);
		BSON_APPEND_UTF8(&cur, "ns", k->ns);
		bson_append_document_end(reply, &cur);
		if (k->pos >= k->n) {
			*pp = k->next;
			ncursors--;
		} else {
			k = NULL;
		}
	}
	pthread_mutex_unlock(&cursor_lock);
	if (k != NULL)
		cursor_free(k);
	free(ns);
	free(owner);
	return rc;
}

int cmd_kill_cursors(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	bson_iter_t it, ids;
	bson_t killed, notfound;
	unsigned nk = 0, nn = 0;
	char *owner = conn_owner(c);

	(void)db;
	if (!bson_iter_init_find(&it, cmd, "cursors") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &ids)) {
		free(owner);
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "killCursors needs an array 'cursors'");
	}
	bson_append_array_begin(reply, "cursorsKilled", -1, &killed);
	bson_init(&notfound);
	while (bson_iter_next(&ids)) {
		int64_t id = bson_iter_as_int64(&ids);
		struct cursor **pp, *k = NULL;
		char ibuf[16];
		const char *ik;

		pthread_mutex_lock(&cursor_lock);
		for (pp = &cursors; *pp; pp = &(*pp)->next)
			if ((*pp)->id == id && strcmp((*pp)->owner, owner) == 0) {
				k = *pp;
				*pp = k->next;
				ncursors--;
				break;
			}
		pthread_mutex_unlock(&cursor_lock);
		if (k != NULL) {
			cursor_free(k);
			bson_uint32_to_string(nk++, &ik, ibuf, sizeof(ibuf));
			bson_append_int64(&killed, ik, -1, id);
		} else {
			bson_uint32_to_string(nn++, &ik, ibuf, sizeof(ibuf));
			bson_append_int64(&notfound, ik, -1, id);
		}
	}
	bson_append_array_end(reply, &killed);
	bson_append_array(reply, "cursorsNotFound", -1, &notfound);
	bson_destroy(&notfound);
	free(owner);
	return 0;
}

/* ---- reading ---- */

#define PLAN_MAX_PARAMS 32

struct plan {
	struct buf where;
	struct buf params[PLAN_MAX_PARAMS];
	int n;
	char *index;		/* the first index used, or NULL */
};

static void plan_release(struct plan *p)
{
	for (int i = 0; i < p->n; i++)
		buf_release(&p->params[i]);
	buf_release(&p->where);
	free(p->index);
}

static int plan_param(struct plan *p, const bson_value_t *v, int bracket_edge)
{
	struct buf *b = &p->params[p->n];

	buf_init(b);
	if (bracket_edge == 0)
		key_encode(v, b);
	else if (bracket_edge < 0)
		buf_appendc(b, (char)(key_bracket_end(v) - 1));
	else
		buf_appendc(b, (char)key_bracket_end(v));
	return ++p->n;
}

static void plan_cond(struct plan *p, const char *col, const char *idxname, const char *op, const bson_value_t *v,
	int edge)
{
	int n;

	if (p->n >= PLAN_MAX_PARAMS)
		return;
	n = plan_param(p, v, edge);
	buf_appendf(&p->where, "%s%s %s $%d", p->where.len ? " AND " : " WHERE ", col, op, n);
	if (p->index == NULL)
		p->index = xstrdup(idxname);
}

static bool in_indexable(const bson_value_t *arr)
{
	bson_t a;
	bson_iter_t it;

	if (arr->value_type != BSON_TYPE_ARRAY || !bson_init_static(&a, arr->value.v_doc.data, arr->value.v_doc.data_len) ||
	    !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it))
		if (!key_indexable(bson_iter_value(&it)))
			return false;
	return bson_count_keys(&a) > 0 && bson_count_keys(&a) < 16;
}

static bool has_null(const bson_value_t *v)
{
	bson_t a;
	bson_iter_t it;

	if (v->value_type == BSON_TYPE_NULL)
		return true;
	if (v->value_type != BSON_TYPE_ARRAY || !bson_init_static(&a, v->value.v_doc.data, v->value.v_doc.data_len) ||
	    !bson_iter_init(&it, &a))
		return false;
	while (bson_iter_next(&it))
		if (BSON_ITER_HOLDS_NULL(&it))
			return true;
	return false;
}

/* The SQL conditions some index answers; a superset of the matches. */
static void plan_where(struct coll *c, const bson_t *filter, struct plan *p)
{
	bson_iter_t it;

	memset(p, 0, sizeof(*p));
	buf_init(&p->where);
	if (!bson_iter_init(&it, filter))
		return;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		struct store_index *ix = NULL;
		char col[32];
		bool ops;

		if (k[0] == '$')
			continue;
		for (int i = 0; i < c->nidx; i++)
			if (strcmp(c->idx[i].fields[0], k) == 0 && !c->idx[i].multikey) {
				ix = &c->idx[i];
				break;
			}
		if (ix == NULL)
			continue;
		if (ix->slot == 0)
			snprintf(col, sizeof(col), "id");
		else
			snprintf(col, sizeof(col), "k%d_0", ix->slot);
		ops = false;
		if (v->value_type == BSON_TYPE_DOCUMENT) {
			bson_t d;
			bson_iter_t o;

			bson_init_static(&d, v->value.v_doc.data, v->value.v_doc.data_len);
			ops = bson_iter_init(&o, &d) && bson_iter_next(&o) && bson_iter_key(&o)[0] == '$';
			if (ops) {
				bson_iter_init(&o, &d);
				while (bson_iter_next(&o)) {
					const char *op = bson_iter_key(&o);
					const bson_value_t *x = bson_iter_value(&o);

					if (strcmp(op, "$in") == 0 && in_indexable(x) && !(ix->sparse && has_null(x))) {
						bson_t a;
						bson_iter_t e;
						int first = 1;

						if (p->n + 16 > PLAN_MAX_PARAMS)
							continue;
						bson_init_static(&a, x->value.v_doc.data, x->value.v_doc.data_len);
						bson_iter_init(&e, &a);
						buf_appendf(&p->where, "%s%s IN (", p->where.len ? " AND " : " WHERE ", col);
						while (bson_iter_next(&e)) {
							buf_appendf(&p->where, "%s$%d", first ? "" : ", ",
								plan_param(p, bson_iter_value(&e), 0));
							first = 0;
						}
						buf_appends(&p->where, ")");
						if (p->index == NULL)
							p->index = xstrdup(ix->name);
						continue;
					}
					if (!key_indexable(x) || (ix->sparse && x->value_type == BSON_TYPE_NULL))
						continue;
					if (strcmp(op, "$eq") == 0) {
						plan_cond(p, col, ix->name, "=", x, 0);
					} else if (strcmp(op, "$gt") == 0 || strcmp(op, "$gte") == 0) {
						plan_cond(p, col, ix->name, op[3] ? ">=" : ">", x, 0);
						plan_cond(p, col, ix->name, "<", x, 1);
					} else if (strcmp(op, "$lt") == 0 || strcmp(op, "$lte") == 0) {
						plan_cond(p, col, ix->name, ">=", x, -1);
						plan_cond(p, col, ix->name, op[3] ? "<=" : "<", x, 0);
					}
				}
			}
		}
		if (!ops && key_indexable(v) && !(ix->sparse && v->value_type == BSON_TYPE_NULL))
			plan_cond(p, col, ix->name, "=", v, 0);
	}
}

static PGresult *plan_exec(PGconn *pg, struct coll *c, struct plan *p, const char *prefix, bool for_update)
{
	char *sql = xasprintf("%sSELECT seq, doc FROM %s%s ORDER BY seq%s", prefix, c->qtable, p->where.data,
		for_update ? " FOR UPDATE" : "");
	const char *pv[PLAN_MAX_PARAMS];
	int lens[PLAN_MAX_PARAMS];
	PGresult *r;

	for (int i = 0; i < p->n; i++) {
		pv[i] = p->params[i].data;
		lens[i] = (int)p->params[i].len;
	}
	r = store_exec(pg, sql, p->n, pv, lens);
	free(sql);
	return r;
}

static long long row_seq(const PGresult *r, int row)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, 0);
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (long long)v;
}

/* Called for each row the filter matches; return 1 to stop, -1 on error. */
typedef int (*scan_fn)(long long seq, const bson_t *doc, void *ctx, struct docdb_error *de);

static int scan(PGconn *pg, struct coll *c, const bson_t *filter, bool for_update, scan_fn fn, void *ctx,
	struct docdb_error *de)
{
	struct plan p;
	PGresult *r;
	int rc = 0;

	if (!c->exists)
		return 0;
	plan_where(c, filter, &p);
	r = plan_exec(pg, c, &p, "", for_update);
	plan_release(&p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_error(r, pg, de);
		PQclear(r);
		return rc;
	}
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		bson_t d;

		if (!bson_init_static(&d, (const uint8_t *)PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)))
			continue;
		if (match_doc(filter, &d))
			rc = fn(row_seq(r, i), &d, ctx, de);
	}
	PQclear(r);
	return rc < 0 ? -1 : 0;
}


int collect_one(long long seq, const bson_t *doc, void *ctx, struct docdb_error *de)
{
	struct collect *k = ctx;

	if (k->bytes + doc->len > DOCDB_MAX_CURSOR_BYTES)
		return docdb_fail(de, DOCDB_QUERY_MEMORY,
			"the result exceeds the local DocumentDB's %d bytes per query; narrow the filter or use limit",
			DOCDB_MAX_CURSOR_BYTES);
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->docs = xrealloc(k->docs, k->cap * sizeof(*k->docs));
		k->seqs = xrealloc(k->seqs, k->cap * sizeof(*k->seqs));
	}
	k->docs[k->n] = bson_copy(doc);
	k->seqs[k->n++] = seq;
	k->bytes += doc->len;
	return k->stop_after > 0 && (long long)k->n >= k->stop_after ? 1 : 0;
}

void collect_release(struct collect *k)
{
	docs_free(k->docs, k->n);
	free(k->seqs);
	memset(k, 0, sizeof(*k));
}


int sort_parse(const bson_t *sort, struct sort_spec *s, struct docdb_error *de)
{
	bson_iter_t it;

	s->n = 0;
	if (sort == NULL || !bson_iter_init(&it, sort))
		return 0;
	while (bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);
		double d;

		if (s->n >= 32)
			return docdb_fail(de, DOCDB_BAD_VALUE, "sort on more than 32 fields");
		if (!value_is_number(v))
			return docdb_fail(de, DOCDB_BAD_VALUE,
				"$meta and other sort specifications are not supported; give 1 or -1 for '%s'",
				bson_iter_key(&it));
		d = value_number(v);
		if (d != 1 && d != -1)
			return docdb_fail(de, 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
		s->paths[s->n] = bson_iter_key(&it);
		s->dirs[s->n++] = d > 0 ? 1 : -1;
	}
	return 0;
}

struct sort_item {
	bson_t *doc;
	long long seq;
	size_t order;
};

static int sort_cmp(const void *a, const void *b, void *ctx)
{
	const struct sort_item *x = a, *y = b;
	const struct sort_spec *s = ctx;

	for (int i = 0; i < s->n; i++) {
		bson_value_t kx, ky;
		int c;

		match_sort_key(x->doc, s->paths[i], s->dirs[i], &kx);
		match_sort_key(y->doc, s->paths[i], s->dirs[i], &ky);
		c = value_compare(&kx, &ky) * s->dirs[i];
		if (c != 0)
			return c;
	}
	return (x->order > y->order) - (x->order < y->order);
}

void sort_collected(struct collect *k, const struct sort_spec *s)
{
	struct sort_item *items;

	if (s->n == 0 || k->n < 2)
		return;
	items = xmalloc(k->n * sizeof(*items));
	for (size_t i = 0; i < k->n; i++)
		items[i] = (struct sort_item){ k->docs[i], k->seqs[i], i };
	qsort_r(items, k->n, sizeof(*items), sort_cmp, (void *)s);
	for (size_t i = 0; i < k->n; i++) {
		k->docs[i] = items[i].doc;
		k->seqs[i] = items[i].seq;
	}
	free(items);
}

/* Drop the first skip entries and keep at most limit (0: all). */
void skip_limit(struct collect *k, long long skip, long long limit)
{
	size_t s = skip > 0 ? ((size_t)skip < k->n ? (size_t)skip : k->n) : 0;
	size_t keep = k->n - s;

	if (k->n == 0)
		return;
	if (limit > 0 && (size_t)limit < keep)
		keep = (size_t)limit;
	for (size_t i = 0; i < s; i++)
		bson_destroy(k->docs[i]);
	for (size_t i = s + keep; i < k->n; i++)
		bson_destroy(k->docs[i]);
	memmove(k->docs, k->docs + s, keep * sizeof(*k->docs));
	memmove(k->seqs, k->seqs + s, keep * sizeof(*k->seqs));
	k->n = keep;
}

static int get_doc(const bson_t *cmd, const char *key, bson_t *out, bool *present, struct docdb_error *de)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	*present = false;
	bson_init(out);
	if (!bson_iter_init_find(&it, cmd, key) || BSON_ITER_HOLDS_NULL(&it))
		return 0;
	if (!BSON_ITER_HOLDS_DOCUMENT(&it))
		return docdb_fail(de, DOCDB_TYPE_MISMATCH, "BSON field '%s' is the wrong type, expected type 'object'", key);
	bson_iter_document(&it, &len, &data);
	bson_destroy(out);
	if (!bson_init_static(out, data, len))
		return docdb_fail(de, DOCDB_BAD_VALUE, "malformed '%s'", key);
	*present = true;
	return 0;
}

static long long get_num(const bson_t *cmd, const char *key, long long dflt)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, cmd, key) || !value_is_number(bson_iter_value(&it)))
		return dflt;
	return (long long)value_number(bson_iter_value(&it));
}

static bool get_bool(const bson_t *cmd, const char *key, bool dflt)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, cmd, key))
		return dflt;
	return bson_iter_as_bool(&it);
}

/* Run a query: matching documents, sorted, skipped, limited, projected. */
int query(struct docdb_conn *c, struct coll *coll, const bson_t *filter, const bson_t *sort,
	const bson_t *proj, long long skip, long long limit, struct collect *k, struct docdb_error *de)
{
	struct sort_spec s;

	memset(k, 0, sizeof(*k));
	if (match_validate(filter, de) < 0 || sort_parse(sort, &s, de) < 0 ||
	    (proj != NULL && project_validate(proj, de) < 0))
		return -1;
	if (s.n == 0 && limit > 0)
		k->stop_after = skip + limit;
	if (scan(c->pg, coll, filter, false, collect_one, k, de) < 0) {
		collect_release(k);
		return -1;
	}
	sort_collected(k, &s);
	skip_limit(k, skip, limit);
	if (proj != NULL && !bson_empty(proj)) {
		for (size_t i = 0; i < k->n; i++) {
			bson_t out;

			project_apply(k->docs[i], proj, &out);
			bson_destroy(k->docs[i]);
			k->docs[i] = bson_copy(&out);
			bson_destroy(&out);
		}
	}
	return 0;
}

int open_coll(struct docdb_conn *c, const char *db, const bson_t *cmd, bool create, struct coll *coll,
	struct docdb_error *de)
{
	const char *name;

	memset(coll, 0, sizeof(*coll));
	name = cmd_collection(cmd, de);
	if (name == NULL)
		return -1;
	return store_coll_open(c->pg, db, name, create, coll, de);
}

int cmd_find(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	struct collect k;
	bson_t filter, sort, proj;
	bool hf, hs, hp;
	long long limit = get_num(cmd, "limit", 0), skip = get_num(cmd, "skip", 0);
	long long batch = get_num(cmd, "batchSize", 101);
	bool single = get_bool(cmd, "singleBatch", false);
	char *ns;
	int rc = -1;

	if (get_bool(cmd, "tailable", false) || get_bool(cmd, "awaitData", false))
		return docdb_fail(de, DOCDB_BAD_VALUE, "tailable cursors are not supported by the local DocumentDB");
	if (skip < 0)
		return docdb_fail(de, 51024, "BSON field 'skip' value must be >= 0, actual value '%lld'", skip);
	if (limit < 0) {
		limit = -limit;
		single = true;
	}
	if (batch < 0)
		return docdb_fail(de, 51024, "BSON field 'batchSize' value must be >= 0, actual value '%lld'", batch);
	if (get_doc(cmd, "filter", &filter, &hf, de) < 0 || get_doc(cmd, "sort", &sort, &hs, de) < 0 ||
	    get_doc(cmd, "projection", &proj, &hp, de) < 0)
		return -1;
	if (open_coll(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (query(c, &coll, &filter, hs ? &sort : NULL, hp ? &proj : NULL, skip, limit, &k, de) < 0)
		goto out;
	ns = xasprintf("%s.%s", db, coll.name);
	/* batchSize 0: an empty first batch, everything left to getMore */
	rc = reply_cursor(c, reply, ns, k.docs, k.n, batch == 0 ? -1 : batch, single, de);
	free(k.seqs);
	free(ns);
out:
	store_coll_release(&coll);
	return rc;
}

/* ---- writing ---- */

static void write_error(bson_t *errs, unsigned *nerr, int index, const struct docdb_error *de, const bson_t *extra)
{
	bson_t e;
	char ibuf[16];
	const char *ik;

	bson_uint32_to_string((*nerr)++, &ik, ibuf, sizeof(ibuf));
	bson_append_document_begin(errs, ik, -1, &e);
	BSON_APPEND_INT32(&e, "index", index);
	BSON_APPEND_INT32(&e, "code", de->code);
	if (extra != NULL)
		bson_concat(&e, extra);
	BSON_APPEND_UTF8(&e, "errmsg", de->msg);
	bson_append_document_end(errs, &e);
}

static int savepoint(PGconn *pg, struct docdb_error *de)
{
	return store_ok(pg, "SAVEPOINT w", de);
}

static void savepoint_undo(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK TO SAVEPOINT w"));
}

/* doc as stored: _id first (an ObjectId made when absent). */
static int prepare_doc(const bson_t *doc, bson_t *out, struct docdb_error *de)
{
	bson_iter_t it;

	bson_init(out);
	if (doc->len > DOCDB_MAX_BSON)
		return docdb_fail(de, 10334, "object to insert too large. size in bytes: %u, max size: %d", doc->len,
			DOCDB_MAX_BSON);
	if (bson_iter_init(&it, doc))
		while (bson_iter_next(&it))
			if (bson_iter_key(&it)[0] == '$')
				return docdb_fail(de, DOCDB_DOLLAR_PREFIXED,
					"Document can't have $ prefixed field names: %s", bson_iter_key(&it));
	if (bson_iter_init_find(&it, doc, "_id")) {
		bson_type_t t = bson_iter_type(&it);

		if (t == BSON_TYPE_ARRAY || t == BSON_TYPE_REGEX || t == BSON_TYPE_UNDEFINED)
			return docdb_fail(de, 53, "can't use a%s %s for _id", t == BSON_TYPE_ARRAY ? "n" : "",
				t == BSON_TYPE_ARRAY ? "array" : t == BSON_TYPE_REGEX ? "regex" : "undefined");
		bson_append_value(out, "_id", 3, bson_iter_value(&it));
	} else {
		bson_oid_t oid;

		bson_oid_init(&oid, NULL);
		BSON_APPEND_OID(out, "_id", &oid);
	}
	bson_copy_to_excluding_noinit(doc, out, "_id", NULL);
	return 0;
}

static int get_array(const bson_t *cmd, const char *key, bson_iter_t *items, struct docdb_error *de)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, cmd, key) || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, items))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "BSON field '%s' is missing or not an array", key);
	return 0;
}

static int finish_writes(PGconn *pg, bson_t *reply, bson_t *errs, unsigned nerr, struct docdb_error *de)
{
	if (store_commit(pg, de) < 0)
		return -1;
	if (nerr > 0)
		BSON_APPEND_ARRAY(reply, "writeErrors", errs);
	return 0;
}

int cmd_insert(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t items;
	bson_t errs = BSON_INITIALIZER;
	unsigned nerr = 0;
	int n = 0, index = 0, rc = -1;
	bool ordered = get_bool(cmd, "ordered", true);

	if (get_array(cmd, "documents", &items, de) < 0) {
		bson_destroy(&errs);
		return -1;
	}
	if (open_coll(c, db, cmd, true, &coll, de) < 0)
		goto out;
	if (store_begin(c->pg, de) < 0)
		goto out;
	for (; bson_iter_next(&items); index++) {
		bson_t doc, stored, dup = BSON_INITIALIZER;
		struct docdb_error we = { 0, "" };
		const uint8_t *data;
		uint32_t len;

		if (!BSON_ITER_HOLDS_DOCUMENT(&items)) {
			docdb_fail(&we, DOCDB_TYPE_MISMATCH, "documents[%d] is not an object", index);
			write_error(&errs, &nerr, index, &we, NULL);
			bson_destroy(&dup);
			if (ordered)
				break;
			continue;
		}
		bson_iter_document(&items, &len, &data);
		bson_init_static(&doc, data, len);
		if (prepare_doc(&doc, &stored, &we) < 0 || savepoint(c->pg, &we) < 0 ||
		    store_put(c->pg, &coll, -1, &stored, &dup, &we) < 0) {
			savepoint_undo(c->pg);
			write_error(&errs, &nerr, index, &we, &dup);
			bson_destroy(&stored);
			bson_destroy(&dup);
			if (ordered)
				break;
			continue;
		}
		bson_destroy(&stored);
		bson_destroy(&dup);
		n++;
	}
	if (finish_writes(c->pg, reply, &errs, nerr, de) < 0)
		goto out;
	BSON_APPEND_INT32(reply, "n", n);
	rc = 0;
out:
	if (rc < 0)
		store_rollback(c->pg);
	bson_destroy(&errs);
	store_coll_release(&coll);
	return rc;
}

/* A statement's arrayFilters (an array of filter documents), if any. */
static int get_array_filters(const bson_t *stmt, bson_t *af, bool *has, struct docdb_error *de)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;

	*has = false;
	if (!bson_iter_init_find(&it, stmt, "arrayFilters"))
		return 0;
	if (!BSON_ITER_HOLDS_ARRAY(&it))
		return docdb_fail(de, DOCDB_TYPE_MISMATCH, "BSON field 'arrayFilters' is the wrong type, expected type 'array'");
	bson_iter_array(&it, &len, &data);
	if (!bson_init_static(af, data, len))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "malformed arrayFilters");
	*has = true;
	return 0;
}

/* One update statement; counts added to *n, *modified; upserted _id set. */
static int update_one_stmt(struct docdb_conn *c, struct coll *coll, const bson_t *q, const bson_t *u,
	const bson_t *array_filters, bool multi, bool upsert, int *n, int *modified, bson_value_t *upserted, bson_t *dup,
	struct docdb_error *de)
{
	struct collect k;
	struct update_pos pos = { q, array_filters };
	int rc = -1;

	memset(&k, 0, sizeof(k));
	if (match_validate(q, de) < 0 || update_validate(u, array_filters, de) < 0)
		return -1;
	if (multi && update_is_replacement(u))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "multi update is not supported for replacement-style update");
	k.stop_after = multi ? 0 : 1;
	if (scan(c->pg, coll, q, true, collect_one, &k, de) < 0)
		goto out;
	for (size_t i = 0; i < k.n; i++) {
		bson_t nd;

		if (update_apply(k.docs[i], u, &pos, false, &nd, de) < 0) {
			bson_destroy(&nd);
			goto out;
		}
		(*n)++;
		if (nd.len != k.docs[i]->len || memcmp(bson_get_data(&nd), bson_get_data(k.docs[i]), nd.len) != 0) {
			if (store_put(c->pg, coll, k.seqs[i], &nd, dup, de) < 0) {
				bson_destroy(&nd);
				goto out;
			}
			(*modified)++;
		}
		bson_destroy(&nd);
	}
	if (k.n == 0 && upsert) {
		bson_t seed, nd, stored;
		bson_iter_t it;

		update_upsert_seed(q, &seed);
		if (update_is_replacement(u)) {
			bson_init(&nd);
			if (!bson_iter_init_find(&it, u, "_id") && bson_iter_init_find(&it, &seed, "_id"))
				bson_append_value(&nd, "_id", 3, bson_iter_value(&it));
			bson_concat(&nd, u);
		} else if (update_apply(&seed, u, &pos, true, &nd, de) < 0) {
			bson_destroy(&seed);
			bson_destroy(&nd);
			goto out;
		}
		bson_destroy(&seed);
		if (prepare_doc(&nd, &stored, de) < 0 || store_put(c->pg, coll, -1, &stored, dup, de) < 0) {
			bson_destroy(&nd);
			bson_destroy(&stored);
			goto out;
		}
		bson_iter_init_find(&it, &stored, "_id");
		bson_value_copy(bson_iter_value(&it), upserted);
		bson_destroy(&nd);
		bson_destroy(&stored);
		(*n)++;
	}
	rc = 0;
out:
	collect_release(&k);
	return rc;
}

int cmd_update(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t items, probe;
	bson_t errs = BSON_INITIALIZER, ups = BSON_INITIALIZER;
	unsigned nerr = 0, nup = 0;
	int n = 0, modified = 0, index = 0, rc = -1;
	bool ordered = get_bool(cmd, "ordered", true), any_upsert = false;

	memset(&coll, 0, sizeof(coll));
	if (get_array(cmd, "updates", &items, de) < 0)
		goto out;
	probe = items;
	while (bson_iter_next(&probe)) {
		bson_iter_t f;

		if (BSON_ITER_HOLDS_DOCUMENT(&probe) && bson_iter_recurse(&probe, &f) && bson_iter_find(&f, "upsert") &&
		    bson_iter_as_bool(&f))
			any_upsert = true;
	}
	if (open_coll(c, db, cmd, any_upsert, &coll, de) < 0)
		goto out;
	if (store_begin(c->pg, de) < 0)
		goto out;
	for (; bson_iter_next(&items); index++) {
		bson_t stmt, q, u, af, dup = BSON_INITIALIZER;
		bool hq, hu, haf;
		struct docdb_error we = { 0, "" };
		bson_value_t upserted = { .value_type = BSON_TYPE_EOD };
		const uint8_t *data;
		uint32_t len;
		bson_iter_t f;
		int sn = 0, sm = 0;

		if (!BSON_ITER_HOLDS_DOCUMENT(&items)) {
			docdb_fail(&we, DOCDB_TYPE_MISMATCH, "updates[%d] is not an object", index);
			goto stmt_failed;
		}
		bson_iter_document(&items, &len, &data);
		bson_init_static(&stmt, data, len);
		if (bson_iter_init_find(&f, &stmt, "u") && BSON_ITER_HOLDS_ARRAY(&f)) {
			docdb_fail(&we, DOCDB_BAD_VALUE, "pipeline-style updates are not supported by the local DocumentDB");
			goto stmt_failed;
		}
		if (get_doc(&stmt, "q", &q, &hq, &we) < 0 || get_doc(&stmt, "u", &u, &hu, &we) < 0 ||
		    get_array_filters(&stmt, &af, &haf, &we) < 0)
			goto stmt_failed;
		if (!hu) {
			docdb_fail(&we, DOCDB_FAILED_TO_PARSE, "BSON field 'update.updates.u' is missing but a required field");
			goto stmt_failed;
		}
		if (savepoint(c->pg, &we) < 0)
			goto stmt_failed;
		if (update_one_stmt(c, &coll, &q, &u, haf ? &af : NULL, get_bool(&stmt, "multi", false),
			    get_bool(&stmt, "upsert", false), &sn, &sm, &upserted, &dup, &we) < 0) {
			savepoint_undo(c->pg);
			goto stmt_failed;
		}
		n += sn;
		modified += sm;
		if (upserted.value_type != BSON_TYPE_EOD) {
			bson_t e;
			char ibuf[16];
			const char *ik;

			bson_uint32_to_string(nup++, &ik, ibuf, sizeof(ibuf));
			bson_append_document_begin(&ups, ik, -1, &e);
			BSON_APPEND_INT32(&e, "index", index);
			bson_append_value(&e, "_id", 3, &upserted);
			bson_append_document_end(&ups, &e);
			bson_value_destroy(&upserted);
		}
		bson_destroy(&dup);
		continue;
stmt_failed:
		write_error(&errs, &nerr, index, &we, &dup);
		bson_destroy(&dup);
		if (ordered)
			break;
	}
	if (finish_writes(c->pg, reply, &errs, nerr, de) < 0)
		goto out;
	BSON_APPEND_INT32(reply, "n", n);
	BSON_APPEND_INT32(reply, "nModified", modified);
	if (nup > 0)
		BSON_APPEND_ARRAY(reply, "upserted", &ups);
	rc = 0;
out:
	if (rc < 0)
		store_rollback(c->pg);
	bson_destroy(&errs);
	bson_destroy(&ups);
	store_coll_release(&coll);
	return rc;
}

int cmd_delete(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	bson_iter_t items;
	bson_t errs = BSON_INITIALIZER;
	unsigned nerr = 0;
	int n = 0, index = 0, rc = -1;
	bool ordered = get_bool(cmd, "ordered", true);

	memset(&coll, 0, sizeof(coll));
	if (get_array(cmd, "deletes", &items, de) < 0 || open_coll(c, db, cmd, false, &coll, de) < 0)
		goto out;
	if (store_begin(c->pg, de) < 0)
		goto out;
	for (; bson_iter_next(&items); index++) {
		bson_t stmt, q;
		bool hq;
		struct docdb_error we = { 0, "" };
		struct collect k;
		const uint8_t *data;
		uint32_t len;
		int got = 0;

		memset(&k, 0, sizeof(k));
		if (!BSON_ITER_HOLDS_DOCUMENT(&items)) {
			docdb_fail(&we, DOCDB_TYPE_MISMATCH, "deletes[%d] is not an object", index);
			goto stmt_failed;
		}
		bson_iter_document(&items, &len, &data);
		bson_init_static(&stmt, data, len);
		if (get_doc(&stmt, "q", &q, &hq, &we) < 0 || match_validate(&q, &we) < 0)
			goto stmt_failed;
		k.stop_after = get_num(&stmt, "limit", 0) == 1 ? 1 : 0;
		if (savepoint(c->pg, &we) < 0 || scan(c->pg, &coll, &q, true, collect_one, &k, &we) < 0)
			goto stmt_failed_undo;
		for (size_t i = 0; i < k.n; i++) {
			if (store_delete_row(c->pg, &coll, k.seqs[i], &we) < 0)
				goto stmt_failed_undo;
			got++;
		}
		n += got;
		collect_release(&k);
		continue;
stmt_failed_undo:
		savepoint_undo(c->pg);
stmt_failed:
		collect_release(&k);
		write_error(&errs, &nerr, index, &we, NULL);
		if (ordered)
			break;
	}
	if (finish_writes(c->pg, reply, &errs, nerr, de) < 0)
		goto out;
	BSON_APPEND_INT32(reply, "n", n);
	rc = 0;
out:
	if (rc < 0)
		store_rollback(c->pg);
	bson_destroy(&errs);
	store_coll_release(&coll);
	return rc;
}

int cmd_find_and_modify(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	struct coll coll;
	struct collect k;
	struct sort_spec s;
	bson_t q, sort, u, fields, af, dup = BSON_INITIALIZER, result = BSON_INITIALIZER, leo = BSON_INITIALIZER;
	bool hq, hs, hu, hf, haf, have_result = false;
	struct update_pos pos;
	bool remove = get_bool(cmd, "remove", false), want_new = get_bool(cmd, "new", false);
	bool upsert = get_bool(cmd, "upsert", false);
	int rc = -1;

	memset(&coll, 0, sizeof(coll));
	memset(&k, 0, sizeof(k));
	if (get_doc(cmd, "query", &q, &hq, de) < 0 || get_doc(cmd, "sort", &sort, &hs, de) < 0 ||
	    get_doc(cmd, "update", &u, &hu, de) < 0 || get_doc(cmd, "fields", &fields, &hf, de) < 0 ||
	    get_array_filters(cmd, &af, &haf, de) < 0)
		goto out;
	pos.query = &q;
	pos.array_filters = haf ? &af : NULL;
	if (remove == hu) {
		docdb_fail(de, DOCDB_FAILED_TO_PARSE, "Either an update or remove=true must be specified");
		goto out;
	}
	if (match_validate(&q, de) < 0 || sort_parse(hs ? &sort : NULL, &s, de) < 0 ||
	    (hu && update_validate(&u, pos.array_filters, de) < 0) || (hf && project_validate(&fields, de) < 0))
		goto out;
	if (open_coll(c, db, cmd, upsert, &coll, de) < 0 || store_begin(c->pg, de) < 0)
		goto out;
	k.stop_after = s.n == 0 ? 1 : 0;
	if (scan(c->pg, &coll, &q, true, collect_one, &k, de) < 0)
		goto fail;
	sort_collected(&k, &s);
	if (k.n > 0 && remove) {
		if (store_delete_row(c->pg, &coll, k.seqs[0], de) < 0)
			goto fail;
		bson_copy_to(k.docs[0], &result);
		have_result = true;
		BSON_APPEND_INT32(&leo, "n", 1);
	} else if (k.n > 0) {
		bson_t nd;

		if (update_apply(k.docs[0], &u, &pos, false, &nd, de) < 0 || store_put(c->pg, &coll, k.seqs[0], &nd, &dup, de) < 0) {
			bson_destroy(&nd);
			goto fail;
		}
		bson_destroy(&result);
		bson_copy_to(want_new ? &nd : k.docs[0], &result);
		have_result = true;
		bson_destroy(&nd);
		BSON_APPEND_INT32(&leo, "n", 1);
		BSON_APPEND_BOOL(&leo, "updatedExisting", true);
	} else if (upsert && hu) {
		int n = 0, m = 0;
		bson_value_t up = { .value_type = BSON_TYPE_EOD };

		if (update_one_stmt(c, &coll, &q, &u, pos.array_filters, false, true, &n, &m, &up, &dup, de) < 0)
			goto fail;
		BSON_APPEND_INT32(&leo, "n", 1);
		BSON_APPEND_BOOL(&leo, "updatedExisting", false);
		bson_append_value(&leo, "upserted", -1, &up);
		if (want_new) {
			bson_t f = BSON_INITIALIZER;
			struct collect k2;

			memset(&k2, 0, sizeof(k2));
			bson_append_value(&f, "_id", 3, &up);
			if (scan(c->pg, &coll, &f, false, collect_one, &k2, de) == 0 && k2.n == 1) {
				bson_destroy(&result);
				bson_copy_to(k2.docs[0], &result);
				have_result = true;
			}
			collect_release(&k2);
			bson_destroy(&f);
		}
		bson_value_destroy(&up);
	} else {
		BSON_APPEND_INT32(&leo, "n", 0);
		if (hu)
			BSON_APPEND_BOOL(&leo, "updatedExisting", false);
	}
	if (store_commit(c->pg, de) < 0)
		goto out;
	BSON_APPEND_DOCUMENT(reply, "lastErrorObject", &leo);
	if (have_result && hf) {
		bson_t p;

		project_apply(&result, &fields, &p);
		BSON_APPEND_DOCUMENT(reply, "value", &p);
		bson_destroy(&p);
	} else if (have_result) {
		BSON_APPEND_DOCUMENT(reply, "value", &result);
	} else {
		BSON_APPEND_NULL(reply, "value");
	}
	rc = 0;
	goto out;
fail:
	store_rollback(c->pg);
	if (de->code == DOCDB_DUPLICATE_KEY && !bson_empty(&dup)) {
		/* the caller's error reply carries keyPattern/keyValue as MongoDB's does */
		bson_concat(reply, &dup);
	}
out:
	collect_release(&k);
	bson_destroy(&dup);
	bson_destroy(&result);
	bson_destroy(&leo);
	store_coll_release(&coll);
	return rc;
}

int cmd_count(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	struct collect k;
	bson_t q;
	bool hq;
	int rc = -1;

	if (get_doc(cmd, "query", &q, &hq, de) < 0 || open_coll(c, db, cmd, false, &coll, de) < 0)
		return -1;
	if (query(c, &coll, &q, NULL, NULL, get_num(cmd, "skip", 0), get_num(cmd, "limit", 0), &k, de) == 0) {
		BSON_APPEND_INT32(reply, "n", (int32_t)k.n);
		collect_release(&k);
		rc = 0;
	}
	store_coll_release(&coll);
	return rc;
}

struct distinct_ctx {
	bson_value_t *vals;
	size_t n, cap;
};

static bool distinct_one(const bson_value_t *v, bool element, void *p)
{
	struct distinct_ctx *d = p;

	(void)element;
	if (v == NULL || v->value_type == BSON_TYPE_ARRAY)
		return false;	/* arrays contribute their elements */
	for (size_t i = 0; i < d->n; i++)
		if (value_bracket(d->vals[i].value_type) == value_bracket(v->value_type) && value_compare(&d->vals[i], v) == 0)
			return false;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->vals = xrealloc(d->vals, d->cap * sizeof(*d->vals));
	}
	bson_value_copy(v, &d->vals[d->n++]);
	return false;
}

int cmd_distinct(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	struct coll coll;
	struct collect k;
	struct distinct_ctx d = { NULL, 0, 0 };
	bson_t q, arr;
	bool hq;
	bson_iter_t it;
	const char *key;
	int rc = -1;

	if (!bson_iter_init_find(&it, cmd, "key") || !BSON_ITER_HOLDS_UTF8(&it))
		return docdb_fail(de, DOCDB_FAILED_TO_PARSE, "BSON field 'distinct.key' is missing but a required field");
	key = bson_iter_utf8(&it, NULL);
	if (get_doc(cmd, "query", &q, &hq, de) < 0 || open_coll(c, db, cmd, false, &coll, de) < 0)
		return -1;
	if (query(c, &coll, &q, NULL, NULL, 0, 0, &k, de) == 0) {
		for (size_t i = 0; i < k.n; i++)
			path_visit(k.docs[i], key, distinct_one, &d);
		bson_append_array_begin(reply, "values", -1, &arr);
		for (size_t i = 0; i < d.n; i++) {
			char ibuf[16];
			const char *ik;

			bson_uint32_to_string((uint32_t)i, &ik, ibuf, sizeof(ibuf));
			bson_append_value(&arr, ik, -1, &d.vals[i]);
			bson_value_destroy(&d.vals[i]);
		}
		bson_append_array_end(reply, &arr);
		collect_release(&k);
		rc = 0;
	}
	free(d.vals);
	store_coll_release(&coll);
	return rc;
}

int cmd_explain(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	bson_t inner, filter, qp, wp, lines;
	bool hi, hf;
	struct coll coll;
	struct plan p;
	PGresult *r;
	int rc = -1;
	bson_iter_t it;

	if (get_doc(cmd, "explain", &inner, &hi, de) < 0)
		return -1;
	if (!bson_iter_init(&it, &inner) || !bson_iter_next(&it) || strcmp(bson_iter_key(&it), "find") != 0)
		return docdb_fail(de, DOCDB_BAD_VALUE, "explain of '%s' is not supported by the local DocumentDB; explain a find",
			bson_iter_init(&it, &inner) && bson_iter_next(&it) ? bson_iter_key(&it) : "");
	if (get_doc(&inner, "filter", &filter, &hf, de) < 0 || match_validate(&filter, de) < 0 ||
	    open_coll(c, db, &inner, false, &coll, de) < 0)
		return -1;
	bson_append_document_begin(reply, "queryPlanner", -1, &qp);
	BSON_APPEND_INT32(&qp, "plannerVersion", 1);
	{
		char *ns = xasprintf("%s.%s", db, coll.name);

		BSON_APPEND_UTF8(&qp, "namespace", ns);
		free(ns);
	}
	bson_append_document_begin(&qp, "winningPlan", -1, &wp);
	if (!coll.exists) {
		BSON_APPEND_UTF8(&wp, "stage", "EOF");
		bson_append_document_end(&qp, &wp);
		bson_append_document_end(reply, &qp);
		store_coll_release(&coll);
		return 0;
	}
	plan_where(&coll, &filter, &p);
	r = plan_exec(c->pg, &coll, &p, "EXPLAIN ", false);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		store_pg_error(r, c->pg, de);
		goto out;
	}
	BSON_APPEND_UTF8(&wp, "stage", p.index ? "IXSCAN" : "COLLSCAN");
	if (p.index)
		BSON_APPEND_UTF8(&wp, "indexName", p.index);
	bson_append_array_begin(&wp, "postgresPlan", -1, &lines);
	for (int i = 0; i < PQntuples(r); i++) {
		char ibuf[16];
		const char *ik;

		bson_uint32_to_string((uint32_t)i, &ik, ibuf, sizeof(ibuf));
		bson_append_utf8(&lines, ik, -1, PQgetvalue(r, i, 0), PQgetlength(r, i, 0));
	}
	bson_append_array_end(&wp, &lines);
	rc = 0;
out:
	bson_append_document_end(&qp, &wp);
	bson_append_document_end(reply, &qp);
	PQclear(r);
	plan_release(&p);
	store_coll_release(&coll);
	return rc;
}
