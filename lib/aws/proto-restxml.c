/*
 * proto-restxml.c: the REST-XML protocol (S3, CloudFront, Route 53): the
 * method and URI template come from the operation, members go to the path,
 * the query string, headers or the XML (or raw) payload as the model's
 * "location" says; output members come back from headers, the status code
 * and the body.  Errors are <ErrorResponse><Error> or S3's bare <Error>, and
 * a HEAD error has no body at all.
 */
#include "compat.h"

#include <libxml/tree.h>

#include "aws/proto.h"

static const char *const status_texts[][2] = {
	{ "301", "Moved Permanently" }, { "304", "Not Modified" }, { "307", "Temporary Redirect" },
	{ "400", "Bad Request" }, { "401", "Unauthorized" }, { "403", "Forbidden" },
	{ "404", "Not Found" }, { "405", "Method Not Allowed" }, { "409", "Conflict" },
	{ "411", "Length Required" }, { "412", "Precondition Failed" },
	{ "416", "Requested Range Not Satisfiable" }, { "429", "Too Many Requests" },
	{ "500", "Internal Server Error" }, { "501", "Not Implemented" },
	{ "502", "Bad Gateway" }, { "503", "Service Unavailable" }, { "504", "Gateway Timeout" },
};

/* A member's value as header text; lists joined with ','. */
static int header_text(const struct aws_model *m, const json_t *shape, const json_t *v,
	struct buf *out, const char *where, struct err *e)
{
	const char *type = aws_model_type(shape);
	const json_t *item;
	size_t i;
	char *dumped;

	if (!strcmp(type, "list")) {
		if (!json_is_array(v))
			return err_usage(e, "%s must be a JSON array", where);
		json_array_foreach(v, i, item) {
			if (i)
				buf_appendc(out, ',');
			if (header_text(m, aws_model_ref(m, json_object_get(shape, "member")), item,
				    out, where, e) < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(type, "string") && aws_model_bool(shape, "jsonvalue")) {
		dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		aws_base64_encode(dumped, strlen(dumped), out);
		free(dumped);
		return 0;
	}
	if (!strcmp(type, "blob")) {
		if (!json_is_string(v))
			return err_usage(e, "%s must be a string", where);
		buf_appends(out, json_string_value(v));
		return 0;
	}
	return proto_scalar_text(shape, v, "rfc822", out, where, e);
}

static void query_add(struct buf *q, const char *name, const char *value, size_t len)
{
	if (q->len)
		buf_appendc(q, '&');
	aws_uri_encode(name, strlen(name), 0, q);
	buf_appendc(q, '=');
	aws_uri_encode(value, len, 0, q);
}

static int querystring_member(const struct aws_model *m, const json_t *shape, const char *name,
	const json_t *v, struct buf *q, const char *where, struct err *e)
{
	const char *type = aws_model_type(shape), *key;
	const json_t *item;
	struct buf text = BUF_INIT;
	size_t i;
	int r = 0;

	if (!strcmp(type, "map")) {
		const json_t *vshape = aws_model_ref(m, json_object_get(shape, "value"));

		if (!json_is_object(v))
			return err_usage(e, "%s must be a JSON object", where);
		json_object_foreach((json_t *)v, key, item)
			if ((r = querystring_member(m, vshape, key, item, q, where, e)) < 0)
				break;
		return r;
	}
	if (!strcmp(type, "list")) {
		const json_t *mshape = aws_model_ref(m, json_object_get(shape, "member"));

		if (!json_is_array(v))
			return err_usage(e, "%s must be a JSON array", where);
		json_array_foreach(v, i, item)
			if ((r = querystring_member(m, mshape, name, item, q, where, e)) < 0)
				break;
		return r;
	}
	r = proto_scalar_text(shape, v, "iso8601", &text, where, e);
	if (r == 0)
		query_add(q, name, text.data, text.len);
	buf_release(&text);
	return r;
}

static int render_uri(const char *tmpl, const json_t *labels, struct buf *path,
	struct buf *query, struct err *e)
{
	const char *p = tmpl, *close, *qmark = strchr(tmpl, '?');

	while (*p && (qmark == NULL || p < qmark)) {
		if (*p == '{' && (close = strchr(p, '}'))) {
			size_t n = (size_t)(close - p - 1);
			int greedy = n && p[n] == '+';
			char *label = xstrndup(p + 1, greedy ? n - 1 : n);
			const json_t *v = json_object_get(labels, label);

			if (!json_is_string(v)) {
				err_usage(e, "missing required parameter '%s'", label);
				free(label);
				return -1;
			}
			aws_uri_encode(json_string_value(v), json_string_length(v), greedy, path);
			free(label);
			p = close + 1;
		} else {
			buf_appendc(path, *p++);
		}
	}
	if (qmark && qmark[1])
		buf_appends(query, qmark + 1);
	return 0;
}

int proto_restxml_serialize(const struct aws_model *m, const json_t *op, const json_t *input,
	struct aws_request *req, struct err *e)
{
	const json_t *http = json_object_get(op, "http"), *iref = json_object_get(op, "input");
	const json_t *shape = aws_model_ref(m, iref), *members, *mref, *v;
	const char *method = aws_model_str(http, "method"), *uri = aws_model_str(http, "requestUri");
	const char *payload, *key;
	json_t *filled = NULL, *labels = json_object(), *body_members = json_object();
	struct buf query = BUF_INIT, text = BUF_INIT;
	int ret = -1;

	snprintf(req->method, sizeof(req->method), "%s", method ? method : "POST");
	if (shape == NULL) {
		if (render_uri(uri ? uri : "/", labels, &req->path, &req->query, e) < 0)
			goto out;
		proto_host_prefix(op, input, req);
		ret = 0;
		goto out;
	}
	filled = proto_fill_idempotency(m, shape, input);
	if (proto_check_members(shape, filled, "input", e) < 0)
		goto out;
	members = json_object_get(shape, "members");
	json_object_foreach(filled, key, v) {
		const char *loc, *name;
		const json_t *mshape;

		if (json_is_null(v))
			continue;
		mref = json_object_get(members, key);
		mshape = aws_model_ref(m, mref);
		loc = aws_model_str(mref, "location");
		name = aws_model_str(mref, "locationName");
		if (name == NULL)
			name = key;
		if (loc == NULL) {
			json_object_set(body_members, key, (json_t *)v);
		} else if (!strcmp(loc, "uri")) {
			buf_reset(&text);
			if (proto_scalar_text(mshape, v, "iso8601", &text, key, e) < 0)
				goto out;
			json_object_set_new(labels, name, json_string(buf_str(&text)));
		} else if (!strcmp(loc, "querystring")) {
			if (querystring_member(m, mshape, name, v, &query, key, e) < 0)
				goto out;
		} else if (!strcmp(loc, "header")) {
			if (!strcmp(aws_model_type(mshape), "list") && json_array_size(v) == 0)
				continue;
			buf_reset(&text);
			if (header_text(m, mshape, v, &text, key, e) < 0)
				goto out;
			aws_kv_set(&req->headers, name, buf_str(&text));
		} else if (!strcmp(loc, "headers")) {
			const char *hk;
			const json_t *hv;

			if (!json_is_object(v)) {
				err_usage(e, "%s must be a JSON object", key);
				goto out;
			}
			json_object_foreach((json_t *)v, hk, hv) {
				char *full = xasprintf("%s%s", name, hk);

				if (!json_is_string(hv)) {
					free(full);
					err_usage(e, "%s.%s must be a string", key, hk);
					goto out;
				}
				aws_kv_set(&req->headers, full, json_string_value(hv));
				free(full);
			}
		}
	}
	if (render_uri(uri ? uri : "/", labels, &req->path, &req->query, e) < 0)
		goto out;
	if (query.len) {
		if (req->query.len)
			buf_appendc(&req->query, '&');
		buf_append(&req->query, query.data, query.len);
	}
	payload = aws_model_str(shape, "payload");
	if (payload) {
		const json_t *pref = json_object_get(members, payload);
		const json_t *pshape = aws_model_ref(m, pref);
		const char *ptype = aws_model_type(pshape);

		v = json_object_get(filled, payload);
		if (!strcmp(ptype, "blob") || !strcmp(ptype, "string")) {
			if (aws_model_bool(pshape, "streaming") || aws_model_bool(pref, "streaming"))
				req->has_body = 1;
			if (json_is_string(v)) {
				buf_append(&req->body, json_string_value(v), json_string_length(v));
				req->has_body = 1;
			} else if (v && !json_is_null(v)) {
				err_usage(e, "%s must be a string", payload);
				goto out;
			}
		} else if (v && !json_is_null(v)) {
			const char *root = aws_model_str(pref, "locationName");

			if (proto_xml_write(m, pref, v, root ? root : payload, &req->body, payload,
				    e) < 0)
				goto out;
			req->has_body = 1;
		}
	} else if (json_object_size(body_members)) {
		const char *root = aws_model_str(iref, "locationName");

		if (root == NULL)
			root = aws_model_str(shape, "locationName");
		if (proto_xml_write(m, iref, body_members, root ? root : aws_model_str(iref, "shape"),
			    &req->body, "input", e) < 0)
			goto out;
		req->has_body = 1;
	}
	proto_host_prefix(op, filled, req);
	ret = 0;
out:
	buf_release(&query);
	buf_release_secret(&text);
	json_decref(labels);
	json_decref(body_members);
	json_decref(filled);
	return ret;
}

static json_t *header_parse(const struct aws_model *m, const json_t *shape, const char *value)
{
	json_t *out, *item;
	const char *p;

	if (!strcmp(aws_model_type(shape), "list")) {
		const json_t *mshape = aws_model_ref(m, json_object_get(shape, "member"));

		out = json_array();
		p = value;
		while (*p) {
			size_t n = strcspn(p, ",");
			char *part;
			size_t b = 0, t = n;

			while (b < n && p[b] == ' ')
				b++;
			while (t > b && p[t - 1] == ' ')
				t--;
			part = xstrndup(p + b, t - b);
			item = proto_scalar_parse(mshape, part, 1);
			free(part);
			if (item)
				json_array_append_new(out, item);
			p += n;
			if (*p == ',')
				p++;
		}
		return out;
	}
	return proto_scalar_parse(shape, value, 1);
}

static void restxml_error(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, struct aws_error *ae)
{
	const char *rid = aws_kv_get(&resp->headers, "x-amz-request-id");
	xmlDoc *doc = NULL;
	xmlNode *root, *err, *n;
	size_t i;
	char *t;

	if (rid == NULL)
		rid = aws_kv_get(&resp->headers, "x-amzn-RequestId");
	snprintf(ae->request_id, sizeof(ae->request_id), "%s", rid ? rid : "");
	snprintf(ae->code, sizeof(ae->code), "%ld", resp->status);
	for (i = 0; i < ARRAY_SIZE(status_texts); i++)
		if (!strcmp(status_texts[i][0], ae->code))
			snprintf(ae->message, sizeof(ae->message), "%s", status_texts[i][1]);
	if (resp->body.len == 0 || resp->body_in_file ||
		(doc = proto_xml_read(resp->body.data, resp->body.len, NULL)) == NULL)
		return;
	root = proto_xml_root(doc);
	err = !strcmp((const char *)root->name, "Error") ? root : proto_xml_child(root, "Error");
	if (err) {
		if ((n = proto_xml_child(err, "Code"))) {
			t = proto_xml_text(n);
			snprintf(ae->code, sizeof(ae->code), "%s", t);
			free(t);
		}
		ae->message[0] = '\0';
		if ((n = proto_xml_child(err, "Message"))) {
			t = proto_xml_text(n);
			snprintf(ae->message, sizeof(ae->message), "%s", t);
			free(t);
		}
		if ((n = proto_xml_child(root, "RequestId")) ||
			(n = proto_xml_child(err, "RequestId"))) {
			t = proto_xml_text(n);
			snprintf(ae->request_id, sizeof(ae->request_id), "%s", t);
			free(t);
		}
		{
			const json_t *es = proto_error_shape(m, op, ae->code);

			if (es)
				ae->fields = proto_xml_parse_shape(m, es, err);
		}
	}
	proto_xml_free(doc);
}

int proto_restxml_parse(const struct aws_model *m, const json_t *op,
	const struct aws_response *resp, json_t **out, struct aws_error *ae, struct err *e)
{
	const json_t *shape = aws_model_ref(m, json_object_get(op, "output")), *ref;
	const char *key, *payload;
	xmlDoc *doc = NULL;
	json_t *obj, *v;
	size_t i;

	/* S3 can answer 200 with an <Error> body (CompleteMultipartUpload) */
	if (resp->status >= 300 ||
		(resp->status == 200 && !resp->body_in_file && resp->body.len &&
			m->service && !strcmp(m->service, "s3") &&
			!strncmp(resp->body.data, "<?xml", 5) && strstr(resp->body.data, "<Error>") &&
			!strstr(resp->body.data, "Result"))) {
		restxml_error(m, op, resp, ae);
		return 1;
	}
	obj = json_object();
	*out = obj;
	if (shape == NULL)
		return 0;
	json_object_foreach(json_object_get(shape, "members"), key, ref) {
		const char *loc = aws_model_str(ref, "location");
		const char *name = aws_model_str(ref, "locationName");
		const json_t *mshape = aws_model_ref(m, ref);
		const char *hv;

		if (loc == NULL)
			continue;
		if (name == NULL)
			name = key;
		if (!strcmp(loc, "statusCode")) {
			json_object_set_new(obj, key, json_integer(resp->status));
		} else if (!strcmp(loc, "header")) {
			if ((hv = aws_kv_get(&resp->headers, name)) &&
				(v = header_parse(m, mshape, hv)))
				json_object_set_new(obj, key, v);
		} else if (!strcmp(loc, "headers")) {
			json_t *map = json_object();
			size_t plen = strlen(name);

			for (i = 0; i < resp->headers.n; i++)
				if (!strncasecmp(resp->headers.v[i].name, name, plen))
					json_object_set_new(map, resp->headers.v[i].name + plen,
						json_string(resp->headers.v[i].value));
			json_object_set_new(obj, key, map);
		}
	}
	payload = aws_model_str(shape, "payload");
	if (payload) {
		const json_t *pshape = aws_model_ref(m, json_object_get(json_object_get(shape,
									       "members"),
							       payload));
		const char *ptype = aws_model_type(pshape);

		if (!strcmp(ptype, "blob") || !strcmp(ptype, "string")) {
			struct buf b = BUF_INIT;

			if (resp->body_in_file)
				return 0;
			if (!strcmp(ptype, "blob")) {
				aws_base64_encode(resp->body.data, resp->body.len, &b);
				json_object_set_new(obj, payload, json_string(buf_str(&b)));
			} else {
				json_object_set_new(obj, payload,
					json_stringn(resp->body.data, resp->body.len));
			}
			buf_release(&b);
			return 0;
		}
		if (resp->body.len == 0)
			return 0;
		doc = proto_xml_read(resp->body.data, resp->body.len, e);
		if (doc == NULL)
			goto fail;
		v = proto_xml_parse_shape(m, pshape, proto_xml_root(doc));
		if (v)
			json_object_set_new(obj, payload, v);
		proto_xml_free(doc);
		return 0;
	}
	if (resp->body.len == 0 || resp->body_in_file)
		return 0;
	doc = proto_xml_read(resp->body.data, resp->body.len, e);
	if (doc == NULL)
		goto fail;
	proto_xml_parse_members(m, shape, proto_xml_root(doc), obj);
	proto_xml_free(doc);
	return 0;
fail:
	json_decref(obj);
	*out = NULL;
	return -1;
}
