/*
 * codec-restxml.c: the server side of REST-XML (S3, CloudFront, Route 53).
 *
 * Input: members come from the path (the operation's requestUri, {Label}
 * one segment, {Label+} the rest), the query string, headers (one, or a
 * prefix map), and the body: the payload member raw (blob, string) or as
 * XML, or the other members as the children of the body's root element.
 * XML is read by the client's reader (model-xml.c) and its output forms
 * (timestamps as text, blobs in base64) are turned into typed values here.
 * A body that is not XML, or whose root is not the modelled element, is
 * MalformedXML; a value that does not read as its type (in the path, the
 * query, a header or the body) is InvalidArgument, naming the member and
 * the value.
 *
 * Output: the statusCode member is the status, header members are headers
 * (timestamps in RFC 822 unless the model says otherwise), the payload
 * member or the remaining members the XML body, with the model's
 * xmlNamespace (or the service's, from the server model's metadata); the
 * status is the operation's responseCode.  Errors share the Query writer's
 * <ErrorResponse> (codec-query.c), in the service's namespace when it has one.
 *
 * REST-JSON is the same but for the body, which is JSON (codec-json.c's
 * values: jsonName, epoch timestamps, base64 blobs); its errors are JSON.
 */
#include "compat.h"

#include <ctype.h>

#include <libxml/tree.h>

#include "aws/codec.h"
#include "aws/proto.h"

#define BAD_VALUE "InvalidArgument"

/* Output form of the client's XML reader -> typed values (see codec.h). */
static json_t *typed(const struct aws_model *m, const json_t *shape, json_t *v)
{
	const char *type = aws_model_type(shape), *key;
	json_t *item, *ref;
	size_t i;
	double t;

	if (v == NULL)
		return NULL;
	if (!strcmp(type, "structure")) {
		json_object_foreach(json_object_get(shape, "members"), key, ref) {
			item = json_object_get(v, key);
			if (item != NULL)
				json_object_set_new(v, key, typed(m, aws_model_ref(m, ref),
					json_incref(item)));
		}
	} else if (!strcmp(type, "list")) {
		json_array_foreach(v, i, item)
			json_array_set_new(v, i, typed(m, aws_model_ref(m,
				json_object_get(shape, "member")), json_incref(item)));
	} else if (!strcmp(type, "map")) {
		json_object_foreach(v, key, item)
			json_object_set_new(v, key, typed(m, aws_model_ref(m,
				json_object_get(shape, "value")), json_incref(item)));
	} else if (!strcmp(type, "timestamp") && json_is_string(v) &&
		   aws_time_parse(json_string_value(v), &t) == 0) {
		json_decref(v);
		return json_real(t);
	} else if (!strcmp(type, "blob") && json_is_string(v)) {
		struct buf b = BUF_INIT;
		json_t *bytes = NULL;

		if (aws_base64_decode(json_string_value(v), json_string_length(v), &b) == 0)
			bytes = json_stringn_nocheck(b.data ? b.data : "", b.len);
		buf_release_secret(&b);
		if (bytes != NULL) {
			json_decref(v);
			return bytes;
		}
	}
	return v;
}

static void unescape(const char *s, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
			isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };

			buf_appendc(out, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			buf_appendc(out, s[i]);
		}
	}
}

/*
 * Match path against the template's path part; the labels (decoded) into
 * labels.  0, or -1 when it does not match.
 */
static int uri_match(const char *tmpl, const char *path, json_t *labels)
{
	const char *t = tmpl, *p = path;

	while (*t && *t != '?') {
		if (*t == '{') {
			const char *close = strchr(t, '}');
			size_t n, len;
			int greedy;
			struct buf v = BUF_INIT;
			char *name;

			if (close == NULL)
				return -1;
			n = (size_t)(close - t - 1);
			greedy = n && t[n] == '+';
			name = xstrndup(t + 1, greedy ? n - 1 : n);
			t = close + 1;
			if (greedy) {
				/* the rest, less what the template still has literally */
				size_t tail = strcspn(t, "?");

				len = strlen(p) >= tail ? strlen(p) - tail : 0;
			} else {
				len = strcspn(p, *t && *t != '?' ? (char[]){ *t, '/', 0 } : "/");
			}
			unescape(p, len, &v);
			json_object_set_new(labels, name, json_stringn_nocheck(buf_str(&v), v.len));
			buf_release(&v);
			free(name);
			p += len;
			continue;
		}
		/* a final '/' of the template is optional: Route 53's rrset, rrset/ */
		if (*p == '\0' && *t == '/' && (t[1] == '\0' || t[1] == '?'))
			return 0;
		if (*t != *p)
			return -1;
		t++;
		p++;
	}
	return *p == '\0' || (*p == '/' && p[1] == '\0') ? 0 : -1;
}

/*
 * The service's namespace, which the server model's metadata carries for
 * REST-XML services whose botocore model puts it on request members only
 * (tools/gen-models.py's SERVER_PATCHES); NULL when it has none.
 */
static const char *service_namespace(const struct aws_model *m)
{
	const json_t *ns = json_object_get(m->metadata, "xmlNamespace");

	return json_is_string(ns) ? json_string_value(ns) : aws_model_str(ns, "uri");
}

/*
 * Write value as the body's root element name: the service's namespace
 * goes on it when neither ref nor its shape names one, as AWS writes
 * every reply of those services in their namespace.
 */
static int write_root(const struct aws_model *m, const json_t *ref, const json_t *value,
	const char *name, struct buf *out, const char *where, struct err *e)
{
	const char *ns = service_namespace(m);
	json_t *copy = NULL;
	int ret;

	if (ns != NULL && json_object_get(ref, "xmlNamespace") == NULL &&
		json_object_get(aws_model_ref(m, ref), "xmlNamespace") == NULL) {
		copy = json_copy((json_t *)ref);
		json_object_set_new(copy, "xmlNamespace", json_pack("{s:s}", "uri", ns));
		ref = copy;
	}
	buf_appends(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	ret = proto_xml_write(m, ref, value, name, out, where, e);
	json_decref(copy);
	return ret;
}

/*
 * The client's XML reader drops a scalar that does not read as its type; a
 * server refuses it.  Walk node along shape (the elements the reader would
 * take) and refuse the first such value: InvalidArgument naming the member
 * and the text.  0, or -1 with ce.
 */
static int body_check(const struct aws_model *m, const json_t *shape, xmlNode *node,
	const char *where, int depth, struct codec_error *ce)
{
	const char *type = aws_model_type(shape), *member;
	const json_t *ref;
	json_t *v;
	xmlNode *c;
	char *text;

	if (shape == NULL || depth > 64)
		return 0;
	if (!strcmp(type, "structure")) {
		json_object_foreach(json_object_get(shape, "members"), member, ref) {
			const json_t *mshape = aws_model_ref(m, ref);
			const json_t *item = json_object_get(mshape, "member");
			const char *name = aws_model_str(ref, "locationName");
			int flat = !strcmp(aws_model_type(mshape), "list") &&
				(aws_model_bool(ref, "flattened") || aws_model_bool(mshape, "flattened"));

			if (aws_model_str(ref, "location") || aws_model_bool(ref, "xmlAttribute"))
				continue;
			if (flat && aws_model_str(item, "locationName"))
				name = aws_model_str(item, "locationName");
			for (c = node->children; c; c = c->next) {
				if (c->type != XML_ELEMENT_NODE ||
					strcmp((const char *)c->name, name ? name : member))
					continue;
				if (body_check(m, flat ? aws_model_ref(m, item) : mshape, c, member,
					    depth + 1, ce) < 0)
					return -1;
			}
		}
		return 0;
	}
	if (!strcmp(type, "list")) {
		for (c = node->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
				body_check(m, aws_model_ref(m, json_object_get(shape, "member")), c,
					where, depth + 1, ce) < 0)
				return -1;
		return 0;
	}
	if (!strcmp(type, "map") || !strcmp(type, "timestamp"))
		return 0;
	text = proto_xml_text(node);
	v = codec_scalar_from_text(shape, text, strlen(text), where, BAD_VALUE, ce);
	free(text);
	if (v == NULL)
		return -1;
	json_decref(v);
	return 0;
}

/*
 * Is the body's root element the one the model names (the input's, or the
 * payload member's, xmlName)?  A model without a name takes any root.
 */
static int root_is(xmlDoc *doc, const char *name)
{
	xmlNode *root = proto_xml_root(doc);

	return name == NULL || (root != NULL && !strcmp((const char *)root->name, name));
}

static json_t *text_value(const struct aws_model *m, const json_t *shape, const char *text,
	const char *where, struct codec_error *ce)
{
	const char *type = aws_model_type(shape);

	if (!strcmp(type, "string") && aws_model_bool(shape, "jsonvalue")) {
		struct buf b = BUF_INIT;
		json_t *v = NULL;

		if (aws_base64_decode(text, strlen(text), &b) == 0)
			v = json_loadb(b.data ? b.data : "", b.len, JSON_DECODE_ANY, NULL);
		buf_release(&b);
		if (v == NULL)
			codec_error_set(ce, 400, BAD_VALUE, "%s: the value '%.64s' is not "
				"base64-encoded JSON", where, text);
		return v;
	}
	if (!strcmp(type, "list")) {
		const json_t *mshape = aws_model_ref(m, json_object_get(shape, "member"));
		json_t *arr = json_array(), *item;
		char *copy = xstrdup(text), *tok;

		/* header lists: "a, b"; an RFC 822 date holds a comma of its own */
		if (!strcmp(aws_model_type(mshape), "timestamp")) {
			const char *s = text;

			while (*s) {
				const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
				size_t n = c2 ? (size_t)(c2 - s) : strlen(s);
				char *one = xstrndup(s, n);

				item = codec_scalar_from_text(mshape, one, n, where, BAD_VALUE, ce);
				free(one);
				if (item == NULL)
					goto bad;
				json_array_append_new(arr, item);
				s += n;
				while (*s == ',' || *s == ' ')
					s++;
			}
			free(copy);
			return arr;
		}
		/* items split at commas outside double quotes; a quoted item unescaped */
		for (tok = copy; *tok;) {
			struct buf one = BUF_INIT;
			int quoted;

			while (*tok == ' ')
				tok++;
			quoted = *tok == '"';
			if (quoted) {
				for (tok++; *tok && *tok != '"'; tok++) {
					if (*tok == '\\' && tok[1])
						tok++;
					buf_appendc(&one, *tok);
				}
				if (*tok == '"')
					tok++;
				while (*tok && *tok != ',')
					tok++;
			} else {
				size_t n = strcspn(tok, ",");

				while (n && tok[n - 1] == ' ')
					n--;
				buf_append(&one, tok, n);
				tok += strcspn(tok, ",");
			}
			if (*tok == ',')
				tok++;
			item = codec_scalar_from_text(mshape, buf_str(&one), one.len, where, BAD_VALUE,
				ce);
			buf_release(&one);
			if (item == NULL)
				goto bad;
			json_array_append_new(arr, item);
		}
		free(copy);
		return arr;
bad:
		free(copy);
		json_decref(arr);
		return NULL;
	}
	return codec_scalar_from_text(shape, text, strlen(text), where, BAD_VALUE, ce);
}

/* Query string members: scalars, lists (repeated names), maps (what no other member took). */
static int query_members(const struct aws_model *m, const json_t *shape,
	const struct aws_kv_list *q, json_t *in, struct codec_error *ce)
{
	const json_t *members = json_object_get(shape, "members"), *ref, *mapref = NULL;
	const char *member, *mapname = NULL;
	size_t i;

	json_object_foreach((json_t *)members, member, ref) {
		const json_t *mshape = aws_model_ref(m, ref);
		const char *name = aws_model_str(ref, "locationName");
		const char *type = aws_model_type(mshape);

		if (!aws_model_str(ref, "location") || strcmp(aws_model_str(ref, "location"),
							    "querystring"))
			continue;
		if (!strcmp(type, "map")) {
			mapref = ref;
			mapname = member;
			continue;
		}
		name = name ? name : member;
		for (i = 0; i < q->n; i++) {
			json_t *v;

			if (strcmp(q->v[i].name, name))
				continue;
			if (!strcmp(type, "list")) {
				json_t *arr = json_object_get(in, member);

				if (arr == NULL) {
					arr = json_array();
					json_object_set_new(in, member, arr);
				}
				v = codec_scalar_from_text(aws_model_ref(m,
					json_object_get(mshape, "member")), q->v[i].value,
					strlen(q->v[i].value), name, BAD_VALUE, ce);
				if (v == NULL)
					return -1;
				json_array_append_new(arr, v);
			} else if (json_object_get(in, member) == NULL) {
				v = codec_scalar_from_text(mshape, q->v[i].value,
					strlen(q->v[i].value), name, BAD_VALUE, ce);
				if (v == NULL)
					return -1;
				json_object_set_new(in, member, v);
			}
		}
	}
	if (mapref != NULL) {
		const json_t *vshape = aws_model_ref(m, json_object_get(aws_model_ref(m, mapref),
			"value"));
		int lists = !strcmp(aws_model_type(vshape), "list");
		json_t *map = json_object();

		/* the parameters no named member binds */
		for (i = 0; i < q->n; i++) {
			int taken = 0;

			json_object_foreach((json_t *)members, member, ref) {
				const char *name = aws_model_str(ref, "locationName");
				const char *loc = aws_model_str(ref, "location");

				if (loc && !strcmp(loc, "querystring") && ref != mapref &&
					!strcmp(name ? name : member, q->v[i].name))
					taken = 1;
			}
			if (taken)
				continue;
			if (lists) {
				json_t *arr = json_object_get(map, q->v[i].name);

				if (arr == NULL) {
					arr = json_array();
					json_object_set_new(map, q->v[i].name, arr);
				}
				json_array_append_new(arr, json_string(q->v[i].value));
			} else if (json_object_get(map, q->v[i].name) == NULL) {
				json_object_set_new(map, q->v[i].name, json_string(q->v[i].value));
			}
		}
		if (json_object_size(map))
			json_object_set_new(in, mapname, map);
		else
			json_decref(map);
	}
	return 0;
}

int codec_restxml_parse(const struct aws_model *m, const json_t *op,
	const struct aws_request *req, json_t **in, struct codec_error *ce)
{
	const json_t *http = json_object_get(op, "http"), *iref = json_object_get(op, "input");
	const json_t *shape = aws_model_ref(m, iref), *ref;
	const char *uri = aws_model_str(http, "requestUri"), *member, *payload;
	struct aws_kv_list q = { NULL, 0, 0 };
	json_t *labels = json_object(), *obj = NULL;
	struct err e = ERR_INIT;
	xmlDoc *doc = NULL;
	size_t i;
	int ret = -1;

	*in = NULL;
	if (uri_match(uri ? uri : "/", buf_str(&req->path), labels) < 0) {
		codec_error_set(ce, 404, "NotFound", "the path '%s' does not match %s",
			buf_str(&req->path), uri ? uri : "/");
		goto out;
	}
	if (codec_form_decode(buf_str(&req->query), req->query.len, &q) < 0) {
		codec_error_set(ce, 400, BAD_VALUE, "the query string has a bad %% escape");
		goto out;
	}
	if (shape == NULL) {
		*in = json_object();
		ret = 0;
		goto out;
	}
	payload = aws_model_str(shape, "payload");
	if (payload != NULL) {
		const json_t *pref = json_object_get(json_object_get(shape, "members"), payload);
		const json_t *pshape = aws_model_ref(m, pref);
		const char *ptype = aws_model_type(pshape);

		obj = json_object();
		if (req->body.len && (!strcmp(ptype, "blob") || !strcmp(ptype, "string"))) {
			json_t *v = !strcmp(ptype, "blob") ?
				json_stringn_nocheck(req->body.data, req->body.len) :
				json_stringn(req->body.data, req->body.len);

			if (v == NULL) {
				codec_error_set(ce, 400, BAD_VALUE, "%s: the body is not UTF-8",
					payload);
				goto out;
			}
			json_object_set_new(obj, payload, v);
		} else if (req->body.len && m->protocol == AWS_PROTO_REST_JSON) {
			json_t *v = json_loadb(req->body.data, req->body.len, JSON_DECODE_ANY, NULL);
			json_t *t = v ? codec_json_read_value(m, pshape, v, payload, ce) : NULL;

			if (v == NULL)
				codec_error_set(ce, 400, "SerializationException",
					"the body is not JSON");
			json_decref(v);
			if (t == NULL)
				goto out;
			/* "{}" is what a client sends for an absent structure payload */
			if (json_is_object(t) && json_object_size(t) == 0 &&
				!strcmp(ptype, "structure"))
				json_decref(t);
			else
				json_object_set_new(obj, payload, t);
		} else if (req->body.len) {
			if ((doc = proto_xml_read(req->body.data, req->body.len, &e)) == NULL) {
				codec_error_set(ce, 400, "MalformedXML", "the body is not XML: %s",
					e.msg);
				goto out;
			}
			if (!root_is(doc, aws_model_str(pref, "locationName") ?
					      aws_model_str(pref, "locationName") :
					      aws_model_str(pshape, "locationName"))) {
				codec_error_set(ce, 400, "MalformedXML",
					"the body's root element is not %s", payload);
				goto out;
			}
			if (body_check(m, pshape, proto_xml_root(doc), payload, 0, ce) < 0)
				goto out;
			json_object_set_new(obj, payload, typed(m, pshape,
				proto_xml_parse_shape(m, pshape, proto_xml_root(doc))));
			if (json_object_get(obj, payload) == NULL)
				json_object_set_new(obj, payload, json_object());
		}
	} else if (req->body.len && m->protocol == AWS_PROTO_REST_JSON) {
		json_t *v = json_loadb(req->body.data, req->body.len, 0, NULL);

		if (!json_is_object(v)) {
			json_decref(v);
			codec_error_set(ce, 400, "SerializationException",
				"the body is not a JSON object");
			goto out;
		}
		obj = codec_json_read_value(m, shape, v, "", ce);
		json_decref(v);
		if (obj == NULL)
			goto out;
	} else if (req->body.len) {
		if ((doc = proto_xml_read(req->body.data, req->body.len, &e)) == NULL) {
			codec_error_set(ce, 400, "MalformedXML", "the body is not XML: %s", e.msg);
			goto out;
		}
		if (!root_is(doc, aws_model_str(iref, "locationName"))) {
			codec_error_set(ce, 400, "MalformedXML", "the body's root element is not %s",
				aws_model_str(iref, "locationName"));
			goto out;
		}
		if (body_check(m, shape, proto_xml_root(doc), "", 0, ce) < 0)
			goto out;
		obj = json_object();
		proto_xml_parse_members(m, shape, proto_xml_root(doc), obj);
		obj = typed(m, shape, obj);
	} else {
		obj = json_object();
	}
	json_object_foreach(json_object_get(shape, "members"), member, ref) {
		const char *loc = aws_model_str(ref, "location");
		const char *name = aws_model_str(ref, "locationName");
		const json_t *mshape = aws_model_ref(m, ref);
		json_t *v = NULL;

		if (loc == NULL)
			continue;
		json_object_del(obj, member);
		name = name ? name : member;
		if (!strcmp(loc, "uri")) {
			const char *text = json_string_value(json_object_get(labels, name));

			if (text != NULL && (v = text_value(m, mshape, text, name, ce)) == NULL)
				goto out;
		} else if (!strcmp(loc, "header")) {
			const char *text = aws_kv_get(&req->headers, name);

			if (text != NULL && (v = text_value(m, mshape, text, name, ce)) == NULL)
				goto out;
		} else if (!strcmp(loc, "headers")) {
			size_t n = strlen(name);

			v = json_object();
			for (i = 0; i < req->headers.n; i++)
				if (!strncasecmp(req->headers.v[i].name, name, n))
					json_object_set_new(v, req->headers.v[i].name + n,
						json_string(req->headers.v[i].value));
			if (json_object_size(v) == 0) {
				json_decref(v);
				v = NULL;
			}
		}
		if (v != NULL)
			json_object_set_new(obj, member, v);
	}
	if (query_members(m, shape, &q, obj, ce) < 0)
		goto out;
	*in = obj;
	obj = NULL;
	ret = 0;
out:
	if (doc)
		proto_xml_free(doc);
	json_decref(obj);
	json_decref(labels);
	aws_kv_release(&q);
	return ret;
}

static int header_value(const struct aws_model *m, const json_t *shape, const json_t *v,
	struct buf *out, const char *where, struct err *e)
{
	const char *type = aws_model_type(shape);
	const json_t *item;
	size_t i;

	if (!strcmp(type, "list")) {
		if (!json_is_array(v))
			return err_set(e, "%s: a list must be a JSON array", where);
		json_array_foreach(v, i, item) {
			if (i)
				buf_appends(out, ", ");
			if (header_value(m, aws_model_ref(m, json_object_get(shape, "member")), item,
				    out, where, e) < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(type, "string") && aws_model_bool(shape, "jsonvalue")) {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		aws_base64_encode(d ? d : "null", strlen(d ? d : "null"), out);
		free(d);
		return 0;
	}
	return proto_scalar_text(shape, v, "rfc822", out, where, e);
}

int codec_restxml_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	struct aws_response *resp, struct err *e)
{
	const json_t *oref = json_object_get(op, "output"), *shape = aws_model_ref(m, oref), *ref;
	const char *member, *payload;
	json_t *body = json_object(), *v;
	struct buf text = BUF_INIT;
	int ret = -1;

	/* the operation's status (201 Created, 204 No Content), unless a statusCode member says */
	resp->status = json_integer_value(json_object_get(json_object_get(op, "http"),
		"responseCode"));
	if (resp->status == 0)
		resp->status = 200;
	if (shape == NULL || out == NULL) {
		ret = 0;
		goto out;
	}
	if (!json_is_object(out)) {
		err_set(e, "output: a structure must be a JSON object");
		goto out;
	}
	json_object_foreach((json_t *)out, member, v) {
		const char *loc, *name;

		if (json_is_null(v))
			continue;
		ref = json_object_get(json_object_get(shape, "members"), member);
		if (ref == NULL) {
			err_set(e, "output: '%s' is not a member of the output shape", member);
			goto out;
		}
		loc = aws_model_str(ref, "location");
		name = aws_model_str(ref, "locationName");
		name = name ? name : member;
		/* uri and querystring members of an output are body members */
		if (loc == NULL || !strcmp(loc, "uri") || !strcmp(loc, "querystring")) {
			json_object_set(body, member, v);
		} else if (!strcmp(loc, "statusCode")) {
			resp->status = (long)json_integer_value(v);
		} else if (!strcmp(loc, "header")) {
			buf_reset(&text);
			if (header_value(m, aws_model_ref(m, ref), v, &text, member, e) < 0)
				goto out;
			aws_kv_set(&resp->headers, name, buf_str(&text));
		} else if (!strcmp(loc, "headers")) {
			const char *k;
			const json_t *hv;

			json_object_foreach((json_t *)v, k, hv) {
				char *full = xasprintf("%s%s", name, k);

				aws_kv_set(&resp->headers, full, json_string_value(hv) ?
					json_string_value(hv) : "");
				free(full);
			}
		}
	}
	payload = aws_model_str(shape, "payload");
	if (payload != NULL) {
		const json_t *pref = json_object_get(json_object_get(shape, "members"), payload);
		const json_t *pshape = aws_model_ref(m, pref);
		const char *ptype = aws_model_type(pshape);
		/*
		 * The payload's element: the member's xmlName when it renames the
		 * member, else the shape's xmlName, else the shape's name.
		 */
		const char *root = aws_model_str(pref, "locationName");

		if (root == NULL || !strcmp(root, payload))
			root = aws_model_str(pshape, "locationName");

		v = json_object_get(body, payload);
		if (v != NULL && (!strcmp(ptype, "blob") || !strcmp(ptype, "string"))) {
			buf_append(&resp->body, json_string_value(v), json_string_length(v));
		} else if (v != NULL && m->protocol == AWS_PROTO_REST_JSON) {
			json_t *w = codec_json_write_value(m, pshape, v, payload, e);
			char *d = w ? json_dumps(w, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

			json_decref(w);
			if (d == NULL)
				goto out;
			buf_appends(&resp->body, d);
			free(d);
			aws_kv_set(&resp->headers, "Content-Type", "application/json");
		} else if (v != NULL) {
			if (write_root(m, pref, v, root ? root : aws_model_str(pref, "shape"),
				    &resp->body, payload, e) < 0)
				goto out;
			aws_kv_set(&resp->headers, "Content-Type", "application/xml");
		}
	} else if (m->protocol == AWS_PROTO_REST_JSON) {
		json_t *w = codec_json_write_value(m, shape, body, "output", e);
		char *d = w ? json_dumps(w, JSON_COMPACT) : NULL;

		json_decref(w);
		if (d == NULL)
			goto out;
		buf_appends(&resp->body, d);
		free(d);
		aws_kv_set(&resp->headers, "Content-Type", "application/json");
	} else if (json_object_size(body)) {
		const char *root = aws_model_str(oref, "locationName");

		if (root == NULL)
			root = aws_model_str(shape, "locationName");
		if (write_root(m, oref, body, root ? root : aws_model_str(oref, "shape"),
			    &resp->body, "output", e) < 0)
			goto out;
		aws_kv_set(&resp->headers, "Content-Type", "application/xml");
	}
	if (m->protocol == AWS_PROTO_REST_XML)
		codec_xml_escape_cr(&resp->body);
	ret = 0;
out:
	buf_release(&text);
	json_decref(body);
	return ret;
}
