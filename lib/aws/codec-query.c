/*
 * codec-query.c: the server side of the Query protocol (RDS, DocumentDB,
 * ELBv2, IAM, STS) and of its EC2 dialect.
 *
 * Input: form parameters (the body, and the query string for GET) named by
 * path: "Tags.member.1.Key", maps as "Attributes.entry.1.key", flattened
 * lists and maps without the .member/.entry step; EC2 names every list
 * "Name.1" and spells members with queryName or a capitalised
 * locationName.  A value that does not read as its type is a ValidationError
 * (EC2: InvalidParameterValue) naming the parameter and the value.
 *
 * Output: <OpResponse xmlns=..><OpResult>members</OpResult>
 * <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata>
 * </OpResponse>; EC2 puts the members and <requestId> directly in
 * <OpResponse>.  Errors: <ErrorResponse><Error><Type>Sender</Type><Code>
 * <Message></Error><RequestId></ErrorResponse>; EC2 <Response><Errors>
 * <Error><Code><Message></Error></Errors><RequestID></Response>.
 */
#include "compat.h"

#include <ctype.h>

#include "aws/codec.h"
#include "aws/proto.h"

#define CODEC_QUERY_MAX_DEPTH 32

struct qctx {
	const struct aws_model *m;
	const struct aws_kv_list *params;
	int ec2;
	const char *error_code;
	struct codec_error *ce;
};

static int flattened(const json_t *ref, const json_t *shape)
{
	return aws_model_bool(ref, "flattened") || aws_model_bool(shape, "flattened");
}

/* The parameter name of a member (botocore's _get_serialized_name), into out. */
static void param_name(const struct qctx *q, const json_t *ref, const char *member,
	struct buf *out)
{
	const char *name;

	if (q->ec2) {
		name = aws_model_str(ref, "queryName");
		if (name != NULL) {
			buf_appends(out, name);
			return;
		}
		name = aws_model_str(ref, "locationName");
		if (name != NULL) {
			buf_appendc(out, (char)toupper((unsigned char)name[0]));
			buf_appends(out, name + 1);
			return;
		}
		buf_appends(out, member);
		return;
	}
	name = aws_model_str(ref, "locationName");
	buf_appends(out, name ? name : member);
}

/* Is there a parameter named prefix, or below it (prefix + ".")? */
static int present(const struct qctx *q, const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < q->params->n; i++) {
		const char *k = q->params->v[i].name;

		if (!strncmp(k, prefix, n) && (k[n] == '\0' || k[n] == '.'))
			return 1;
	}
	return 0;
}

/* Is there a parameter below prefix (prefix + ".")? */
static int present_below(const struct qctx *q, const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < q->params->n; i++)
		if (!strncmp(q->params->v[i].name, prefix, n) && q->params->v[i].name[n] == '.')
			return 1;
	return 0;
}

static json_t *qparse(const struct qctx *q, const json_t *ref, const char *prefix, int depth);

static json_t *qparse_struct(const struct qctx *q, const json_t *shape, const char *prefix,
	int depth)
{
	json_t *out = json_object(), *ref, *v;
	const char *member;

	json_object_foreach(json_object_get(shape, "members"), member, ref) {
		struct buf name = BUF_INIT;

		if (prefix[0])
			buf_appendf(&name, "%s.", prefix);
		param_name(q, ref, member, &name);
		if (!present(q, buf_str(&name))) {
			buf_release(&name);
			continue;
		}
		v = qparse(q, ref, buf_str(&name), depth + 1);
		buf_release(&name);
		if (v == NULL && q->ce->code[0]) {
			json_decref(out);
			return NULL;
		}
		if (v != NULL)
			json_object_set_new(out, member, v);
	}
	return out;
}

/* "Foo.Bar.member" with the last step replaced by name (botocore's flattened lists). */
static char *replace_last(const char *prefix, const char *name)
{
	const char *dot = strrchr(prefix, '.');

	if (dot == NULL)
		return xstrdup(name);
	return xasprintf("%.*s.%s", (int)(dot - prefix), prefix, name);
}

static json_t *qparse_list(const struct qctx *q, const json_t *ref, const json_t *shape,
	const char *prefix, int depth)
{
	const json_t *mref = json_object_get(shape, "member");
	const char *v = aws_kv_get(q->params, prefix);
	json_t *out = json_array(), *item;
	char *base;
	size_t i;

	if (q->ec2) {
		base = xstrdup(prefix);
	} else if (flattened(ref, shape)) {
		const char *name = aws_model_str(mref, "locationName");

		base = name ? replace_last(prefix, name) : xstrdup(prefix);
	} else {
		const char *name = aws_model_str(mref, "locationName");

		base = xasprintf("%s.%s", prefix, name ? name : "member");
	}
	/* "Names=" is the empty list */
	if (v != NULL && v[0] == '\0' && !present_below(q, prefix)) {
		free(base);
		return out;
	}
	for (i = 1;; i++) {
		char *p = xasprintf("%s.%zu", base, i);

		if (!present(q, p)) {
			free(p);
			break;
		}
		item = qparse(q, mref, p, depth + 1);
		free(p);
		if (item == NULL) {
			if (q->ce->code[0])
				goto bad;
			item = json_null();
		}
		json_array_append_new(out, item);
	}
	free(base);
	return out;
bad:
	free(base);
	json_decref(out);
	return NULL;
}

static json_t *qparse_map(const struct qctx *q, const json_t *ref, const json_t *shape,
	const char *prefix, int depth)
{
	const json_t *kref = json_object_get(shape, "key"), *vref = json_object_get(shape, "value");
	struct buf kname = BUF_INIT, vname = BUF_INIT;
	json_t *out = json_object();
	char *base = flattened(ref, shape) || q->ec2 ? xstrdup(prefix) :
						       xasprintf("%s.entry", prefix);
	size_t i;

	/* "MapArg=" is the empty map */
	if (aws_kv_get(q->params, prefix) != NULL && !present_below(q, prefix)) {
		free(base);
		return out;
	}
	param_name(q, kref, "key", &kname);
	param_name(q, vref, "value", &vname);
	for (i = 1;; i++) {
		char *kp = xasprintf("%s.%zu.%s", base, i, buf_str(&kname));
		char *vp = xasprintf("%s.%zu.%s", base, i, buf_str(&vname));
		const char *key = aws_kv_get(q->params, kp);
		json_t *val = NULL;

		if (key == NULL) {
			free(kp);
			free(vp);
			break;
		}
		if (present(q, vp))
			val = qparse(q, vref, vp, depth + 1);
		free(kp);
		free(vp);
		if (val == NULL && q->ce->code[0]) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_object_set_new(out, key, val ? val : json_null());
	}
	free(base);
	buf_release(&kname);
	buf_release(&vname);
	return out;
}

static json_t *qparse(const struct qctx *q, const json_t *ref, const char *prefix, int depth)
{
	const json_t *shape = aws_model_ref(q->m, ref);
	const char *type = aws_model_type(shape), *text;

	if (shape == NULL) {
		codec_error_set(q->ce, 500, "InternalFailure", "%s: shape missing from the model",
			prefix);
		return NULL;
	}
	if (depth > CODEC_QUERY_MAX_DEPTH) {
		codec_error_set(q->ce, 400, q->error_code, "%s: nested too deeply", prefix);
		return NULL;
	}
	if (!strcmp(type, "structure"))
		return qparse_struct(q, shape, prefix, depth);
	if (!strcmp(type, "list"))
		return qparse_list(q, ref, shape, prefix, depth);
	if (!strcmp(type, "map"))
		return qparse_map(q, ref, shape, prefix, depth);
	text = aws_kv_get(q->params, prefix);
	if (text == NULL)
		return NULL;	/* only sub-parameters: not this scalar */
	return codec_scalar_from_text(shape, text, strlen(text), prefix, q->error_code, q->ce);
}

int codec_query_parse(const struct aws_model *m, const json_t *op, const struct aws_request *req,
	json_t **in, struct codec_error *ce)
{
	const json_t *shape = aws_model_ref(m, json_object_get(op, "input"));
	const char *ct = aws_kv_get(&req->headers, "Content-Type");
	struct aws_kv_list params = { NULL, 0, 0 };
	struct qctx q;
	int ret = -1;

	*in = NULL;
	ce->code[0] = '\0';
	if (codec_form_decode(buf_str(&req->query), req->query.len, &params) < 0)
		goto malformed;
	if (req->body.len && (ct == NULL ||
			       !strncasecmp(ct, "application/x-www-form-urlencoded", 33))) {
		if (codec_form_decode(req->body.data, req->body.len, &params) < 0)
			goto malformed;
	}
	q.m = m;
	q.params = &params;
	q.ec2 = m->protocol == AWS_PROTO_EC2;
	q.error_code = q.ec2 ? "InvalidParameterValue" : "ValidationError";
	q.ce = ce;
	*in = shape ? qparse_struct(&q, shape, "", 0) : json_object();
	ret = *in ? 0 : -1;
	goto out;
malformed:
	codec_error_set(ce, 400, "MalformedQueryString",
		"the parameters are not form-encoded (a bad %% escape or a NUL byte)");
out:
	aws_kv_release(&params);
	return ret;
}

/* The element a member is written as (botocore's _member_key_name, as the client reads it). */
static const char *element_name(const struct aws_model *m, const char *member, const json_t *ref)
{
	const json_t *shape = aws_model_ref(m, ref);
	const char *name;

	if (!strcmp(aws_model_type(shape), "list") && flattened(ref, shape)) {
		name = aws_model_str(json_object_get(shape, "member"), "locationName");
		if (name)
			return name;
	}
	name = aws_model_str(ref, "locationName");
	return name ? name : member;
}

/* The members of v (shape's structure) as XML elements, appended to out. */
static int write_members(const struct aws_model *m, const json_t *shape, const json_t *v,
	struct buf *out, struct err *e)
{
	const json_t *members = json_object_get(shape, "members"), *item, *ref;
	const char *key;

	if (!json_is_object(v))
		return err_set(e, "output: a structure must be a JSON object");
	json_object_foreach((json_t *)v, key, item) {
		char *where;
		int r;

		if (json_is_null(item))
			continue;
		ref = json_object_get(members, key);
		if (ref == NULL)
			return err_set(e, "output: '%s' is not a member of the output shape", key);
		where = xasprintf("output.%s", key);
		r = proto_xml_write(m, ref, item, element_name(m, key, ref), out, where, e);
		free(where);
		if (r < 0)
			return -1;
	}
	return 0;
}

static const char *xml_namespace(const struct aws_model *m, struct buf *tmp)
{
	const char *ns = aws_model_str(m->metadata, "xmlNamespace");

	if (ns == NULL)
		ns = aws_model_str(json_object_get(m->metadata, "xmlNamespace"), "uri");
	if (ns != NULL)
		return ns;
	buf_appendf(tmp, "http://%s.amazonaws.com/doc/%s/",
		aws_model_str(m->metadata, "endpointPrefix") ?
			aws_model_str(m->metadata, "endpointPrefix") : "service",
		aws_model_str(m->metadata, "apiVersion") ?
			aws_model_str(m->metadata, "apiVersion") : "");
	return buf_str(tmp);
}

static void xml_text(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			buf_appends(out, "&lt;");
		else if (*s == '>')
			buf_appends(out, "&gt;");
		else if (*s == '&')
			buf_appends(out, "&amp;");
		else
			buf_appendc(out, *s);
	}
}

int codec_query_write_result(const struct aws_model *m, const json_t *op, const json_t *out,
	const char *request_id, struct aws_response *resp, struct err *e)
{
	const json_t *oref = json_object_get(op, "output");
	const json_t *shape = aws_model_ref(m, oref);
	const char *name = aws_model_str(op, "name");
	const char *wrapper = aws_model_str(oref, "resultWrapper");
	struct buf body = BUF_INIT, tmp = BUF_INIT, inner = BUF_INIT;
	int ec2 = m->protocol == AWS_PROTO_EC2, ret = -1;

	if (shape != NULL && out != NULL && write_members(m, shape, out, &inner, e) < 0)
		goto out;
	codec_xml_escape_cr(&inner);
	buf_appends(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_appendf(&body, "<%sResponse xmlns=\"%s\">", name, xml_namespace(m, &tmp));
	if (ec2) {
		buf_appends(&body, "<requestId>");
		xml_text(&body, request_id ? request_id : "");
		buf_appends(&body, "</requestId>");
		buf_append(&body, inner.data ? inner.data : "", inner.len);
	} else {
		if (shape != NULL) {
			if (wrapper == NULL)
				wrapper = "";
			if (wrapper[0])
				buf_appendf(&body, "<%s>", wrapper);
			buf_append(&body, inner.data ? inner.data : "", inner.len);
			if (wrapper[0])
				buf_appendf(&body, "</%s>", wrapper);
		}
		buf_appends(&body, "<ResponseMetadata><RequestId>");
		xml_text(&body, request_id ? request_id : "");
		buf_appends(&body, "</RequestId></ResponseMetadata>");
	}
	buf_appendf(&body, "</%sResponse>", name);
	resp->status = 200;
	aws_kv_set(&resp->headers, "Content-Type", "text/xml");
	buf_append(&resp->body, body.data, body.len);
	ret = 0;
out:
	buf_release_secret(&body);
	buf_release_secret(&inner);
	buf_release(&tmp);
	return ret;
}

void codec_query_write_error(const struct aws_model *m, const struct codec_error *ce,
	const char *request_id, struct aws_response *resp)
{
	const json_t *shape = aws_model_shape(m, ce->code);
	struct buf body = BUF_INIT, fields = BUF_INIT;
	struct err e = ERR_INIT;
	int status = ce->status ? ce->status : 400;
	const char *code = ce->code;
	const json_t *err = json_object_get(shape, "error");

	if (aws_model_str(err, "code"))
		code = aws_model_str(err, "code");
	if (ce->fields != NULL && shape != NULL) {
		json_t *copy = json_deep_copy(ce->fields);

		/* Code and Message are written by the frame */
		json_object_del(copy, "Code");
		json_object_del(copy, "Message");
		json_object_del(copy, "message");
		if (write_members(m, shape, copy, &fields, &e) < 0)
			buf_reset(&fields);
		json_decref(copy);
	}
	buf_appends(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (m->protocol == AWS_PROTO_EC2) {
		buf_appends(&body, "<Response><Errors><Error><Code>");
		xml_text(&body, code);
		buf_appends(&body, "</Code><Message>");
		xml_text(&body, ce->message);
		buf_appends(&body, "</Message>");
		buf_append(&body, fields.data ? fields.data : "", fields.len);
		buf_appends(&body, "</Error></Errors><RequestID>");
		xml_text(&body, request_id ? request_id : "");
		buf_appends(&body, "</RequestID></Response>");
	} else {
		struct buf tmp = BUF_INIT;

		/* REST-XML: only a namespace the model names (Route 53's, CloudFront's) */
		if (m->protocol == AWS_PROTO_QUERY || json_object_get(m->metadata, "xmlNamespace"))
			buf_appendf(&body, "<ErrorResponse xmlns=\"%s\">", xml_namespace(m, &tmp));
		else
			buf_appends(&body, "<ErrorResponse>");
		buf_release(&tmp);
		buf_appendf(&body, "<Error><Type>%s</Type><Code>", status >= 500 ? "Receiver" :
										  "Sender");
		xml_text(&body, code);
		buf_appends(&body, "</Code><Message>");
		xml_text(&body, ce->message);
		buf_appends(&body, "</Message>");
		buf_append(&body, fields.data ? fields.data : "", fields.len);
		buf_appends(&body, "</Error><RequestId>");
		xml_text(&body, request_id ? request_id : "");
		buf_appends(&body, "</RequestId></ErrorResponse>");
	}
	resp->status = status;
	aws_kv_set(&resp->headers, "Content-Type", "text/xml");
	buf_append(&resp->body, body.data, body.len);
	buf_release(&body);
	buf_release(&fields);
}
