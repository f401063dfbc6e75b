/*
 * paginate.c: following an operation's pages as botocore's paginators do
 * (paginators-1.json): the output token(s) of one page become the input
 * token(s) of the next, until there is none, more_results says false, or
 * the token repeats.
 */
#include "compat.h"

#include "aws/client.h"

/* The paginator's key as a JSON array of strings (it may be one string). */
static json_t *as_list(const json_t *v)
{
	json_t *l = json_array();

	if (json_is_string(v))
		json_array_append(l, (json_t *)v);
	else if (json_is_array(v))
		json_array_extend(l, (json_t *)v);
	return l;
}

int aws_paginate(struct aws_client *c, const char *service, const char *op,
	const json_t *input, aws_page_fn page, void *arg, struct aws_error *ae, struct err *e)
{
	const struct aws_model *m = aws_model_get(service, e);
	const json_t *pg;
	json_t *in = NULL, *intok = NULL, *outtok = NULL, *prev = NULL, *out = NULL;
	int ret = -1, rc, pages = 0;

	if (m == NULL)
		return -1;
	pg = json_object_get(m->paginators, op);
	if (pg == NULL)
		return err_usage(e, "%s %s has no paginator in the model: call it without "
				    "--paginate", service, op);
	intok = as_list(json_object_get(pg, "input_token"));
	outtok = as_list(json_object_get(pg, "output_token"));
	in = json_is_object(input) ? json_deep_copy(input) : json_object();
	for (;;) {
		const char *more = aws_model_str(pg, "more_results");
		json_t *next = json_array(), *tok;
		size_t i;
		int any = 0, stop;

		rc = aws_client_call(c, service, op, in, &out, ae, e);
		if (rc != 0) {
			json_decref(next);
			ret = rc;
			goto out;
		}
		pages++;
		stop = page(arg, out);
		json_array_foreach(outtok, i, tok) {
			json_t *v = aws_jmespath(out, json_string_value(tok), e);

			if (v && !json_is_null(v))
				any = 1;
			json_array_append_new(next, v ? v : json_null());
		}
		if (stop || !any || (more && !json_is_true(json_object_get(out, more))) ||
			(prev && json_equal(prev, next))) {
			json_decref(next);
			break;
		}
		json_array_foreach(intok, i, tok) {
			json_t *v = json_array_get(next, i);

			if (v && !json_is_null(v))
				json_object_set(in, json_string_value(tok), v);
			else
				json_object_del(in, json_string_value(tok));
		}
		json_decref(prev);
		prev = next;
		json_decref(out);
		out = NULL;
	}
	ret = 0;
out:
	(void)pages;
	json_decref(out);
	json_decref(prev);
	json_decref(in);
	json_decref(intok);
	json_decref(outtok);
	return ret;
}

struct merge {
	json_t *all;
	json_t *keys;
};

static int merge_page(void *arg, const json_t *page)
{
	struct merge *mg = arg;
	const char *k;
	json_t *v, *key;
	size_t i;

	if (mg->all == NULL) {
		mg->all = json_deep_copy(page);
		return 0;
	}
	json_array_foreach(mg->keys, i, key) {
		const json_t *more = json_object_get(page, json_string_value(key));
		json_t *have = json_object_get(mg->all, json_string_value(key));

		if (json_is_array(more)) {
			if (json_is_array(have))
				json_array_extend(have, (json_t *)more);
			else
				json_object_set(mg->all, json_string_value(key), (json_t *)more);
		}
	}
	/* scalars other than the result keys: the last page's (as botocore's build_full_result keeps none) */
	json_object_foreach((json_t *)page, k, v) {
		int is_result = 0;

		json_array_foreach(mg->keys, i, key)
			if (!strcmp(k, json_string_value(key)))
				is_result = 1;
		if (!is_result)
			json_object_set(mg->all, k, v);
	}
	return 0;
}

int aws_paginate_all(struct aws_client *c, const char *service, const char *op,
	const json_t *input, json_t **out, struct aws_error *ae, struct err *e)
{
	const struct aws_model *m = aws_model_get(service, e);
	struct merge mg = { NULL, NULL };
	int rc;

	*out = NULL;
	if (m == NULL)
		return -1;
	mg.keys = as_list(json_object_get(json_object_get(m->paginators, op), "result_key"));
	rc = aws_paginate(c, service, op, input, merge_page, &mg, ae, e);
	json_decref(mg.keys);
	if (rc != 0) {
		json_decref(mg.all);
		return rc;
	}
	*out = mg.all ? mg.all : json_object();
	return 0;
}
