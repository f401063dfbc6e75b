/*
 * model.c: loading the embedded service models and looking things up in them.
 */
#include "compat.h"

#include <pthread.h>

#include "aws/model.h"

static struct aws_model *model_cache;
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;

int aws_model_from_json(struct aws_model *m, json_t *root, struct err *e)
{
	const char *proto;

	memset(m, 0, sizeof(*m));
	m->metadata = json_object_get(root, "metadata");
	m->operations = json_object_get(root, "operations");
	m->shapes = json_object_get(root, "shapes");
	m->paginators = json_object_get(root, "paginators");
	m->waiters = json_object_get(root, "waiters");
	if (!json_is_object(m->metadata) || !json_is_object(m->shapes))
		return err_set(e, "service model without metadata or shapes");
	proto = aws_model_str(m->metadata, "protocol");
	if (proto == NULL)
		return err_set(e, "service model without a protocol");
	if (!strcmp(proto, "json"))
		m->protocol = AWS_PROTO_JSON;
	else if (!strcmp(proto, "query"))
		m->protocol = AWS_PROTO_QUERY;
	else if (!strcmp(proto, "rest-xml"))
		m->protocol = AWS_PROTO_REST_XML;
	else if (!strcmp(proto, "ec2"))
		m->protocol = AWS_PROTO_EC2;
	else if (!strcmp(proto, "rest-json"))
		m->protocol = AWS_PROTO_REST_JSON;
	else
		return err_set(e, "unsupported protocol '%s'", proto);
	m->root = json_incref(root);
	return 0;
}

void aws_model_release(struct aws_model *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

const struct aws_model *aws_model_table_get(const struct aws_model_source *table,
	struct aws_model **cache, const char *service, struct err *e)
{
	const struct aws_model *found = NULL;
	json_t *root = NULL;
	json_error_t je;
	size_t i, n;

	for (n = 0; table[n].service != NULL; n++)
		;
	pthread_mutex_lock(&model_lock);
	if (*cache == NULL)
		*cache = xcalloc(n + 1, sizeof(**cache));
	for (i = 0; i < n; i++) {
		if (strcmp(table[i].service, service))
			continue;
		if ((*cache)[i].root == NULL) {
			root = json_loadb(table[i].json, table[i].len, 0, &je);
			if (root == NULL) {
				err_set(e, "embedded model of '%s' does not parse: %s", service,
					je.text);
				break;
			}
			if (aws_model_from_json(&(*cache)[i], root, e) < 0)
				break;
			(*cache)[i].service = table[i].service;
		}
		found = &(*cache)[i];
		break;
	}
	pthread_mutex_unlock(&model_lock);
	json_decref(root);
	if (found == NULL && i == n) {
		struct buf list = BUF_INIT;

		for (i = 0; table[i].service != NULL; i++)
			buf_appendf(&list, "%s%s", i ? ", " : "", table[i].service);
		err_usage(e, "unknown service '%s'; valid services: %s", service, buf_str(&list));
		buf_release(&list);
	}
	return found;
}

const struct aws_model *aws_model_get(const char *service, struct err *e)
{
	return aws_model_table_get(aws_model_sources, &model_cache, service, e);
}

void aws_model_list_services(struct buf *out)
{
	size_t i;

	for (i = 0; aws_model_sources[i].service != NULL; i++)
		buf_appendf(out, "%s%s", i ? ", " : "", aws_model_sources[i].service);
}

void aws_model_list_operations(const struct aws_model *m, struct buf *out)
{
	const char *name;
	json_t *v;
	int first = 1;

	json_object_foreach(m->operations, name, v) {
		buf_appendf(out, "%s%s", first ? "" : ", ", name);
		first = 0;
	}
}

json_t *aws_model_operation(const struct aws_model *m, const char *op)
{
	return json_object_get(m->operations, op);
}

json_t *aws_model_shape(const struct aws_model *m, const char *name)
{
	return name ? json_object_get(m->shapes, name) : NULL;
}

json_t *aws_model_ref(const struct aws_model *m, const json_t *ref)
{
	return aws_model_shape(m, aws_model_str(ref, "shape"));
}

const char *aws_model_type(const json_t *shape)
{
	const char *t = aws_model_str(shape, "type");

	return t ? t : "";
}

const char *aws_model_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int aws_model_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}
