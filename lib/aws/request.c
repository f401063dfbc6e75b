/*
 * request.c: the request and response containers of request.h.
 */
#include "compat.h"

#include "aws/request.h"

void aws_kv_add(struct aws_kv_list *l, const char *name, const char *value)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 8;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

void aws_kv_set(struct aws_kv_list *l, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!strcasecmp(l->v[i].name, name)) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	aws_kv_add(l, name, value);
}

const char *aws_kv_get(const struct aws_kv_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcasecmp(l->v[i].name, name))
			return l->v[i].value;
	return NULL;
}

void aws_kv_release(struct aws_kv_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void aws_request_init(struct aws_request *r)
{
	memset(r, 0, sizeof(*r));
	r->body_length = -1;
	buf_init(&r->path);
	buf_init(&r->query);
	buf_init(&r->body);
}

void aws_request_release(struct aws_request *r)
{
	buf_release(&r->path);
	buf_release(&r->query);
	/* request bodies carry secret values (PutSecretValue) */
	buf_release_secret(&r->body);
	aws_kv_release(&r->headers);
	free(r->body_file);
	free(r->host_prefix);
	free(r->host);
	free(r->out_file);
	memset(r, 0, sizeof(*r));
}

void aws_response_init(struct aws_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
}

void aws_response_release(struct aws_response *r)
{
	aws_kv_release(&r->headers);
	buf_release_secret(&r->body);
	memset(r, 0, sizeof(*r));
}
