/*
 * proto-query.c: the Query protocol (RDS, DocumentDB, ELBv2, STS): input as
 * a form-encoded POST body (Action, Version, then the members flattened into
 * dotted names: Filters.member.1.Name), output and errors as XML.
 *
 * Parameters keep the caller's order and are encoded as Python's urlencode
 * does, since botocore signs its body and caliber must sign the same bytes.
 */
#include "compat.h"

#include <libxml/tree.h>

#include "aws/proto.h"

struct form {
	struct buf *body;
};

static void form_add(struct form *f, const char *name, const char *value, size_t len)
{
	if (f->body->len)
		buf_appendc(f->body, '&');
	aws_form_encode(name, strlen(name), f->body);
	buf_appendc(f->body, '=');
	aws_form_encode(value, len, f->body);
}

static const char *ref_name(const json_t *ref, const char *fallback)
{
	const char *n = aws_model_str(ref, "locationName");

	return n ? n : fallback;
}

static int query_ser(const struct aws_model *m, const json_t *ref, const json_t *v,
	const char *prefix, struct form *f, int depth, struct err *e);

static int query_ser_struct(const struct aws_model *m, const json_t *shape, const json_t *v,
	const char *prefix, struct form *f, int depth, struct err *e)
{
	const json_t *members = json_object_get(shape, "members"), *item, *mref;
	const char *key;
	char *sub;
	int r;

	if (proto_check_members(shape, v, *prefix ? prefix : "input", e) < 0)
		return -1;
	json_object_foreach((json_t *)v, key, item) {
		if (json_is_null(item))
			continue;
		mref = json_object_get(members, key);
		sub = *prefix ? xasprintf("%s.%s", prefix, ref_name(mref, key)) :
				xstrdup(ref_name(mref, key));
		r = query_ser(m, mref, item, sub, f, depth + 1, e);
		free(sub);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int query_ser(const struct aws_model *m, const json_t *ref, const json_t *v,
	const char *prefix, struct form *f, int depth, struct err *e)
{
	const json_t *shape = aws_model_ref(m, ref), *item;
	const char *type = aws_model_type(shape), *key;
	struct buf text = BUF_INIT;
	char *sub;
	size_t i;
	int r = 0;

	if (shape == NULL)
		return err_set(e, "%s: shape missing from the model", prefix);
	if (depth > 64)
		return err_usage(e, "%s: input nested too deeply", prefix);
	if (!strcmp(type, "structure"))
		return query_ser_struct(m, shape, v, prefix, f, depth, e);
	if (!strcmp(type, "list")) {
		const json_t *mref = json_object_get(shape, "member");
		char *list_prefix;

		if (!json_is_array(v))
			return err_usage(e, "%s must be a JSON array", prefix);
		if (json_array_size(v) == 0) {
			form_add(f, prefix, "", 0);
			return 0;
		}
		if (aws_model_bool(shape, "flattened") || aws_model_bool(ref, "flattened")) {
			const char *dot = strrchr(prefix, '.');
			const char *name = aws_model_str(mref, "locationName");

			if (name)
				list_prefix = dot ? xasprintf("%.*s.%s", (int)(dot - prefix), prefix,
							    name) :
						    xstrdup(name);
			else
				list_prefix = xstrdup(prefix);
		} else {
			list_prefix = xasprintf("%s.%s", prefix, ref_name(mref, "member"));
		}
		json_array_foreach(v, i, item) {
			sub = xasprintf("%s.%zu", list_prefix, i + 1);
			r = query_ser(m, mref, item, sub, f, depth + 1, e);
			free(sub);
			if (r < 0)
				break;
		}
		free(list_prefix);
		return r;
	}
	if (!strcmp(type, "map")) {
		const json_t *kref = json_object_get(shape, "key");
		const json_t *vref = json_object_get(shape, "value");
		char *full = aws_model_bool(shape, "flattened") || aws_model_bool(ref, "flattened") ?
				     xstrdup(prefix) :
								  xasprintf("%s.entry", prefix);

		if (!json_is_object(v)) {
			free(full);
			return err_usage(e, "%s must be a JSON object", prefix);
		}
		i = 0;
		json_object_foreach((json_t *)v, key, item) {
			i++;
			sub = xasprintf("%s.%zu.%s", full, i, ref_name(kref, "key"));
			form_add(f, sub, key, strlen(key));
			free(sub);
			sub = xasprintf("%s.%zu.%s", full, i, ref_name(vref, "value"));
			r = query_ser(m, vref, item, sub, f, depth + 1, e);
			free(sub);
			if (r < 0)
				break;
		}
		free(full);
		return r;
	}
	r = proto_scalar_text(shape, v, "iso8601", &text, prefix, e);
	if (r == 0)
		form_add(f, prefix, text.data, text.len);
	buf_release_secret(&text);
	return r;
}

int proto_query_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e)
{
	const json_t *iref = json_object_get(op, "input");
	const json_t *shape = aws_model_ref(m, iref);
	const char *name = aws_model_str(op, "name");
	const char *version = aws_model_str(m->metadata, "apiVersion");
	struct form f = { &req->body };
	json_t *filled = NULL;
	int ret = -1;

	snprintf(req->method, sizeof(req->method), "POST");
	buf_appends(&req->path, "/");
	aws_kv_add(&req->headers, "Content-Type",
		"application/x-www-form-urlencoded; charset=utf-8");
	form_add(&f, "Action", name ? name : "", name ? strlen(name) : 0);
	form_add(&f, "Version", version ? version : "", version ? strlen(version) : 0);
	req->has_body = 1;
	if (shape) {
		filled = proto_fill_idempotency(m, shape, input);
		if (query_ser_struct(m, shape, filled, "", &f, 0, e) < 0)
			goto out;
	}
	proto_host_prefix(op, filled, req);
	ret = 0;
out:
	json_decref(filled);
	return ret;
}

/* Code, message and request id of <ErrorResponse><Error>..</Error><RequestId> (or EC2's). */
static void query_error(xmlNode *root, struct aws_error *ae)
{
	xmlNode *err = proto_xml_child(root, "Error"), *n;
	char *t;

	if (err == NULL && (n = proto_xml_child(root, "Errors")))
		err = proto_xml_child(n, "Error");
	if (err == NULL && !strcmp((const char *)root->name, "Error"))
		err = root;
	if (err && (n = proto_xml_child(err, "Code"))) {
		t = proto_xml_text(n);
		snprintf(ae->code, sizeof(ae->code), "%s", t);
		free(t);
	}
	if (err && (n = proto_xml_child(err, "Message"))) {
		t = proto_xml_text(n);
		snprintf(ae->message, sizeof(ae->message), "%s", t);
		free(t);
	}
	n = proto_xml_child(root, "RequestId");
	if (n == NULL)
		n = proto_xml_child(root, "RequestID");
	if (n == NULL && err)
		n = proto_xml_child(err, "RequestId");
	if (n) {
		t = proto_xml_text(n);
		snprintf(ae->request_id, sizeof(ae->request_id), "%s", t);
		free(t);
	}
}

int proto_query_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e)
{
	const json_t *oref = json_object_get(op, "output");
	const json_t *shape = aws_model_ref(m, oref);
	const char *wrapper = aws_model_str(oref, "resultWrapper");
	xmlDoc *doc = NULL;
	xmlNode *root, *start;
	const char *rid;

	if (resp->status >= 300) {
		rid = aws_kv_get(&resp->headers, "x-amzn-RequestId");
		snprintf(ae->request_id, sizeof(ae->request_id), "%s", rid ? rid : "");
		snprintf(ae->code, sizeof(ae->code), "%ld", resp->status);
		if (resp->body.len && (doc = proto_xml_read(resp->body.data, resp->body.len, NULL))) {
			const json_t *es;
			xmlNode *err;

			root = proto_xml_root(doc);
			query_error(root, ae);
			es = proto_error_shape(m, op, ae->code);
			err = proto_xml_child(root, "Error");
			if (es && err)
				ae->fields = proto_xml_parse_shape(m, es, err);
			proto_xml_free(doc);
		}
		return 1;
	}
	*out = NULL;
	if (shape && resp->body.len) {
		doc = proto_xml_read(resp->body.data, resp->body.len, e);
		if (doc == NULL)
			return -1;
		root = proto_xml_root(doc);
		start = wrapper ? proto_xml_child(root, wrapper) : root;
		if (start)
			*out = proto_xml_parse_shape(m, shape, start);
		proto_xml_free(doc);
	}
	if (*out == NULL)
		*out = json_object();
	return 0;
}
