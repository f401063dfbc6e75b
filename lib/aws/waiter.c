/*
 * waiter.c: botocore's waiters (waiters-2.json): poll an operation with a
 * delay until an acceptor matches, and the JMESPath subset the acceptors
 * of caliber's services use: field paths, [] and [*] projections, [N],
 * [?filter], length(), comparisons, !, && and ||, `json` and 'raw'
 * literals.  An expression outside the subset is an error, never a guess.
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <time.h>

#include "aws/client.h"

struct jp {
	const char *s;		/* the whole expression */
	const char *p;		/* cursor */
	struct err *e;
	int failed;
};

/* A value with a projection flag: later path steps map over a projected list. */
struct jv {
	json_t *v;		/* owned; NULL is JSON null */
	int projected;
};

static void jp_fail(struct jp *jp, const char *what)
{
	if (!jp->failed)
		err_set(jp->e, "JMESPath expression '%s': %s at offset %d", jp->s, what,
			(int)(jp->p - jp->s));
	jp->failed = 1;
}

static void jp_ws(struct jp *jp)
{
	while (isspace((unsigned char)*jp->p))
		jp->p++;
}

static int jp_eat(struct jp *jp, const char *tok)
{
	size_t n = strlen(tok);

	jp_ws(jp);
	if (strncmp(jp->p, tok, n))
		return 0;
	jp->p += n;
	return 1;
}

static struct jv jp_or(struct jp *jp, const json_t *ctx);

static int jv_truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return 1;
}

/* Apply one field step to v (mapping over a projection, dropping nulls). */
static json_t *step_field(json_t *v, const char *name, int projected)
{
	json_t *out, *item, *r;
	size_t i;

	if (!projected)
		return json_is_object(v) ? json_incref(json_object_get(v, name)) : NULL;
	if (!json_is_array(v))
		return NULL;
	out = json_array();
	json_array_foreach(v, i, item) {
		r = json_object_get(item, name);
		if (r && !json_is_null(r))
			json_array_append(out, r);
	}
	return out;
}

static struct jv jp_primary(struct jp *jp, const json_t *ctx)
{
	struct jv r = { NULL, 0 };
	const char *start;

	jp_ws(jp);
	if (*jp->p == '`') {
		const char *end = strchr(jp->p + 1, '`');

		if (end == NULL) {
			jp_fail(jp, "unterminated literal");
			return r;
		}
		r.v = json_loadb(jp->p + 1, (size_t)(end - jp->p - 1), JSON_DECODE_ANY, NULL);
		if (r.v == NULL)
			jp_fail(jp, "invalid JSON literal");
		jp->p = end + 1;
		return r;
	}
	if (*jp->p == '\'') {
		const char *end = strchr(jp->p + 1, '\'');

		if (end == NULL) {
			jp_fail(jp, "unterminated string");
			return r;
		}
		r.v = json_stringn(jp->p + 1, (size_t)(end - jp->p - 1));
		jp->p = end + 1;
		return r;
	}
	if (*jp->p == '(') {
		jp->p++;
		r = jp_or(jp, ctx);
		if (!jp_eat(jp, ")"))
			jp_fail(jp, "')' expected");
		r.projected = 0;
		return r;
	}
	if (*jp->p == '@') {
		jp->p++;
		r.v = json_incref((json_t *)ctx);
		return r;
	}
	start = jp->p;
	while (isalnum((unsigned char)*jp->p) || *jp->p == '_')
		jp->p++;
	if (jp->p == start) {
		jp_fail(jp, "name expected");
		return r;
	}
	if (*jp->p == '(') {
		size_t n = (size_t)(jp->p - start);
		struct jv arg;

		jp->p++;
		if (n == 6 && !strncmp(start, "length", 6)) {
			arg = jp_or(jp, ctx);
			if (!jp_eat(jp, ")"))
				jp_fail(jp, "')' expected");
			if (json_is_array(arg.v))
				r.v = json_integer((json_int_t)json_array_size(arg.v));
			else if (json_is_object(arg.v))
				r.v = json_integer((json_int_t)json_object_size(arg.v));
			else if (json_is_string(arg.v))
				r.v = json_integer((json_int_t)json_string_length(arg.v));
			json_decref(arg.v);
			return r;
		}
		jp_fail(jp, "unsupported function");
		return r;
	}
	{
		char *name = xstrndup(start, (size_t)(jp->p - start));

		r.v = step_field((json_t *)ctx, name, 0);
		free(name);
	}
	return r;
}

static struct jv jp_path(struct jp *jp, const json_t *ctx)
{
	struct jv r = jp_primary(jp, ctx);

	for (;;) {
		jp_ws(jp);
		if (jp->failed)
			return r;
		if (*jp->p == '.') {
			const char *start = ++jp->p;
			char *name;
			json_t *n;

			while (isalnum((unsigned char)*jp->p) || *jp->p == '_')
				jp->p++;
			if (jp->p == start) {
				jp_fail(jp, "name expected after '.'");
				return r;
			}
			name = xstrndup(start, (size_t)(jp->p - start));
			n = step_field(r.v, name, r.projected);
			free(name);
			json_decref(r.v);
			r.v = n;
		} else if (!strncmp(jp->p, "[]", 2) || !strncmp(jp->p, "[*]", 3)) {
			json_t *flat = json_array(), *item, *inner;
			size_t i, j;
			int flatten = jp->p[1] == ']';

			jp->p += flatten ? 2 : 3;
			if (!json_is_array(r.v)) {
				json_decref(r.v);
				json_decref(flat);
				r.v = NULL;
				continue;
			}
			json_array_foreach(r.v, i, item) {
				if (flatten && json_is_array(item) && !r.projected) {
					json_array_foreach(item, j, inner)
						json_array_append(flat, inner);
				} else {
					json_array_append(flat, item);
				}
			}
			json_decref(r.v);
			r.v = flat;
			r.projected = 1;
		} else if (!strncmp(jp->p, "[?", 2)) {
			const char *body = jp->p + 2, *end = NULL;
			json_t *kept = json_array(), *item;
			size_t i;

			if (!json_is_array(r.v)) {
				/* parse once to find the end */
				jp->p = body;
				struct jv skip = jp_or(jp, NULL);

				json_decref(skip.v);
				if (!jp_eat(jp, "]"))
					jp_fail(jp, "']' expected");
				json_decref(r.v);
				json_decref(kept);
				r.v = NULL;
				continue;
			}
			json_array_foreach(r.v, i, item) {
				struct jv t;

				jp->p = body;
				t = jp_or(jp, item);
				end = jp->p;
				if (jv_truthy(t.v))
					json_array_append(kept, item);
				json_decref(t.v);
			}
			if (end == NULL) {
				jp->p = body;
				struct jv skip = jp_or(jp, NULL);

				json_decref(skip.v);
				end = jp->p;
			}
			jp->p = end;
			if (!jp_eat(jp, "]"))
				jp_fail(jp, "']' expected");
			json_decref(r.v);
			r.v = kept;
			r.projected = 1;
		} else if (*jp->p == '[' && (isdigit((unsigned char)jp->p[1]) || jp->p[1] == '-')) {
			long idx = strtol(jp->p + 1, (char **)&jp->p, 10);
			json_t *n = NULL;

			if (!jp_eat(jp, "]"))
				jp_fail(jp, "']' expected");
			if (json_is_array(r.v)) {
				if (idx < 0)
					idx += (long)json_array_size(r.v);
				if (idx >= 0)
					n = json_incref(json_array_get(r.v, (size_t)idx));
			}
			json_decref(r.v);
			r.v = n;
		} else {
			return r;
		}
	}
}

static int json_compare(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);

		return x < y ? -1 : x > y;
	}
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b));
	return 2;
}

static struct jv jp_cmp(struct jp *jp, const json_t *ctx)
{
	static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">" };
	struct jv a, b, r = { NULL, 0 };
	size_t i;

	if (jp_eat(jp, "!")) {
		a = jp_cmp(jp, ctx);
		r.v = json_boolean(!jv_truthy(a.v));
		json_decref(a.v);
		return r;
	}
	a = jp_path(jp, ctx);
	jp_ws(jp);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strncmp(jp->p, ops[i], strlen(ops[i])))
			break;
	if (i == ARRAY_SIZE(ops))
		return a;
	jp->p += strlen(ops[i]);
	b = jp_path(jp, ctx);
	{
		int eq = (a.v == NULL && b.v == NULL) ||
			(a.v && b.v && (json_equal(a.v, b.v) || json_compare(a.v, b.v) == 0));
		int c = json_compare(a.v, b.v);

		switch (i) {
		case 0: r.v = json_boolean(eq); break;
		case 1: r.v = json_boolean(!eq); break;
		case 2: r.v = c == 2 ? NULL : json_boolean(c <= 0); break;
		case 3: r.v = c == 2 ? NULL : json_boolean(c >= 0); break;
		case 4: r.v = c == 2 ? NULL : json_boolean(c < 0); break;
		default: r.v = c == 2 ? NULL : json_boolean(c > 0); break;
		}
	}
	json_decref(a.v);
	json_decref(b.v);
	return r;
}

static struct jv jp_and(struct jp *jp, const json_t *ctx)
{
	struct jv a = jp_cmp(jp, ctx), b;

	while (!jp->failed && jp_eat(jp, "&&")) {
		b = jp_cmp(jp, ctx);
		if (jv_truthy(a.v)) {
			json_decref(a.v);
			a = b;
		} else {
			json_decref(b.v);
		}
	}
	return a;
}

static struct jv jp_or(struct jp *jp, const json_t *ctx)
{
	struct jv a = jp_and(jp, ctx), b;

	while (!jp->failed && jp_eat(jp, "||")) {
		b = jp_and(jp, ctx);
		if (!jv_truthy(a.v)) {
			json_decref(a.v);
			a = b;
		} else {
			json_decref(b.v);
		}
	}
	return a;
}

json_t *aws_jmespath(const json_t *doc, const char *expr, struct err *e)
{
	struct jp jp = { expr, expr, e, 0 };
	struct jv r = jp_or(&jp, doc);

	jp_ws(&jp);
	if (!jp.failed && *jp.p)
		jp_fail(&jp, "unexpected text");
	if (jp.failed) {
		json_decref(r.v);
		return NULL;
	}
	return r.v;
}

enum acceptor_result { ACC_NONE, ACC_SUCCESS, ACC_FAILURE, ACC_RETRY };

/* Does the acceptor match this poll's outcome?  -1 for an expression outside the subset. */
static int acceptor_matches(const json_t *acc, int rc, const json_t *out,
	const struct aws_error *ae, struct err *e)
{
	const char *matcher = aws_model_str(acc, "matcher");
	const char *arg = aws_model_str(acc, "argument");
	const json_t *expected = json_object_get(acc, "expected");
	json_t *v, *item;
	size_t i;
	int match = 0;

	if (!strcmp(matcher, "status")) {
		long status = rc == 0 ? 200 : ae->status;

		return rc >= 0 && json_integer_value(expected) == status;
	}
	if (!strcmp(matcher, "error"))
		return rc == 1 && json_is_string(expected) &&
			!strcmp(ae->code, json_string_value(expected));
	if (rc != 0)
		return 0;
	err_clear(e);
	v = aws_jmespath(out, arg ? arg : "@", e);
	if (v == NULL && e->msg[0])
		return -1;
	if (!strcmp(matcher, "path")) {
		match = v && json_equal(v, (json_t *)expected);
	} else if (!strcmp(matcher, "pathAll")) {
		match = json_is_array(v) && json_array_size(v) > 0;
		json_array_foreach(v, i, item)
			if (!json_equal(item, (json_t *)expected))
				match = 0;
	} else if (!strcmp(matcher, "pathAny")) {
		json_array_foreach(v, i, item)
			if (json_equal(item, (json_t *)expected))
				match = 1;
	}
	json_decref(v);
	return match;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int aws_waiter_wait(struct aws_client *c, const char *service, const char *waiter,
	const json_t *input, const struct aws_waiter_options *o, struct err *e)
{
	const struct aws_model *m = aws_model_get(service, e);
	const json_t *w, *acceptors, *acc;
	const char *op;
	double delay, deadline, start;
	int attempt;

	if (m == NULL)
		return -1;
	w = json_object_get(m->waiters, waiter);
	if (w == NULL) {
		struct buf names = BUF_INIT;
		const char *k;
		json_t *v;

		json_object_foreach(m->waiters, k, v)
			buf_appendf(&names, "%s%s", names.len ? ", " : "", k);
		err_usage(e, "'%s' has no waiter '%s'; waiters: %s", service, waiter,
			names.len ? buf_str(&names) : "none");
		buf_release(&names);
		return -1;
	}
	op = aws_model_str(w, "operation");
	acceptors = json_object_get(w, "acceptors");
	delay = o && o->delay_secs > 0 ? o->delay_secs :
					 (double)json_integer_value(json_object_get(w, "delay"));
	deadline = o && o->timeout_secs > 0 ?
			   o->timeout_secs :
			   (double)json_integer_value(json_object_get(w, "delay")) *
				   (double)json_integer_value(json_object_get(w, "maxAttempts"));
	start = mono_now();
	for (attempt = 1;; attempt++) {
		struct aws_error ae = AWS_ERROR_INIT;
		struct err ce = ERR_INIT;
		json_t *out = NULL;
		enum acceptor_result res = ACC_NONE;
		size_t i;
		int rc = aws_client_call(c, service, op, input, &out, &ae, &ce);

		if (rc < 0 && ce.usage) {
			*e = ce;
			return -1;
		}
		json_array_foreach(acceptors, i, acc) {
			int mt = acceptor_matches(acc, rc, out, &ae, e);

			if (mt < 0) {
				json_decref(out);
				aws_error_release(&ae);
				return -1;
			}
			if (mt) {
				const char *state = aws_model_str(acc, "state");

				res = !strcmp(state, "success") ? ACC_SUCCESS :
				      !strcmp(state, "failure") ? ACC_FAILURE :
								  ACC_RETRY;
				break;
			}
		}
		if (o && o->on_poll && o->on_poll(o->arg, attempt, rc, out, &ae)) {
			json_decref(out);
			aws_error_release(&ae);
			return err_set(e, "waiter %s stopped by its caller", waiter);
		}
		json_decref(out);
		if (res == ACC_SUCCESS) {
			aws_error_release(&ae);
			return 0;
		}
		if (res == ACC_FAILURE) {
			err_set(e, "waiter %s failed: %s reached a failure state%s%s", waiter, op,
				rc == 1 ? ": " : "", rc == 1 ? ae.code : "");
			aws_error_release(&ae);
			return -1;
		}
		if (res == ACC_NONE && rc != 0) {
			/* an error no acceptor expects ends the wait, as in botocore */
			if (rc == 1)
				err_set(e, "waiter %s: %s: %s", waiter, ae.code, ae.message);
			else
				*e = ce;
			aws_error_release(&ae);
			return -1;
		}
		aws_error_release(&ae);
		if (mono_now() - start + delay > deadline)
			return err_set(e, "waiter %s timed out after %.0f s (%d polls)", waiter,
				mono_now() - start, attempt);
		{
			struct timespec ts = { (time_t)delay,
				(long)((delay - floor(delay)) * 1e9) };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
}
