/*
 * model-xml.c: XML bodies of the Query and REST-XML protocols, read with
 * libxml2 and walked along the model's shapes as botocore's XML parser
 * does (namespaces ignored, flattened lists and maps, attributes), and
 * written byte for byte as Python's ElementTree writes them, since
 * botocore signs the body it serialises and caliber must sign the same.
 */
#include "compat.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "aws/proto.h"
#include "xml.h"

/* Response bodies are capped by the HTTP layer; this caps nesting. */
#define XML_MAX_DEPTH 64

xmlDoc *proto_xml_read(const char *data, size_t len, struct err *e)
{
	xmlDoc *doc;

	if (len > INT32_MAX) {
		err_set(e, "XML body too large");
		return NULL;
	}
	/* no network, no entity expansion, no DTD loading: bodies are untrusted */
	doc = xml_read_untrusted(data, len, XML_PARSE_NOBLANKS, NULL);
	if (doc == NULL) {
		err_set(e, "response body is not well-formed XML");
		return NULL;
	}
	return doc;
}

void proto_xml_free(xmlDoc *doc)
{
	xmlFreeDoc(doc);
}

xmlNode *proto_xml_root(xmlDoc *doc)
{
	return xmlDocGetRootElement(doc);
}

xmlNode *proto_xml_child(xmlNode *node, const char *name)
{
	xmlNode *c;

	if (node == NULL)
		return NULL;
	for (c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

char *proto_xml_text(xmlNode *node)
{
	xmlChar *t = xmlNodeGetContent(node);
	char *s = xstrdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

static json_t *xml_parse(const struct aws_model *m, const json_t *ref, const json_t *shape,
	xmlNode **nodes, size_t n, int depth);

/* botocore merges a member's traits with its shape's: flattened can sit on either. */
static int xml_flattened(const json_t *ref, const json_t *shape)
{
	return aws_model_bool(ref, "flattened") || aws_model_bool(shape, "flattened");
}

/* The element name a structure member is read from (botocore's _member_key_name). */
static const char *xml_member_name(const struct aws_model *m, const char *member,
	const json_t *ref)
{
	const json_t *shape = aws_model_ref(m, ref);
	const char *name;

	if (!strcmp(aws_model_type(shape), "list") && xml_flattened(ref, shape)) {
		name = aws_model_str(json_object_get(shape, "member"), "locationName");
		if (name)
			return name;
	}
	name = aws_model_str(ref, "locationName");
	return name ? name : member;
}

/* Attribute value by its qualified name ("xsi:type" matches the xsi prefix). */
static char *xml_attribute(xmlNode *node, const char *qname)
{
	const char *colon = strchr(qname, ':');
	xmlAttr *a;

	for (a = node->properties; a; a = a->next) {
		int match;

		if (colon)
			match = a->ns && a->ns->prefix &&
				strlen((const char *)a->ns->prefix) == (size_t)(colon - qname) &&
				!strncmp((const char *)a->ns->prefix, qname, (size_t)(colon - qname)) &&
				!strcmp((const char *)a->name, colon + 1);
		else
			match = !strcmp((const char *)a->name, qname);
		if (match) {
			xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
			char *s = xstrdup(v ? (const char *)v : "");

			xmlFree(v);
			return s;
		}
	}
	return NULL;
}

void proto_xml_parse_members(const struct aws_model *m, const json_t *shape, xmlNode *node,
	json_t *obj)
{
	json_t *ref, *v;
	const char *member;

	json_object_foreach(json_object_get(shape, "members"), member, ref) {
		const char *loc = aws_model_str(ref, "location");
		const char *name = xml_member_name(m, member, ref);
		const json_t *mshape = aws_model_ref(m, ref);
		xmlNode **found = NULL, *c;
		size_t n = 0;

		/* uri and querystring members of an output come from the body */
		if (loc && (!strcmp(loc, "header") || !strcmp(loc, "headers") ||
				   !strcmp(loc, "statusCode")))
			continue;
		if (aws_model_bool(ref, "xmlAttribute")) {
			char *text = xml_attribute(node, name);

			if (text) {
				v = proto_scalar_parse(mshape, text, 0);
				if (v)
					json_object_set_new(obj, member, v);
				free(text);
			}
			continue;
		}
		for (c = node->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, name))
				continue;
			found = xrealloc(found, (n + 1) * sizeof(*found));
			found[n++] = c;
		}
		if (n) {
			v = xml_parse(m, ref, mshape, found, n, 1);
			if (v)
				json_object_set_new(obj, member, v);
		}
		free(found);
	}
}

static json_t *xml_parse_map(const struct aws_model *m, const json_t *shape, int flat,
	xmlNode **nodes, size_t n, int depth)
{
	const json_t *kref = json_object_get(shape, "key"), *vref = json_object_get(shape, "value");
	const char *kname = aws_model_str(kref, "locationName");
	const char *vname = aws_model_str(vref, "locationName");
	json_t *out = json_object();
	size_t i;

	if (kname == NULL)
		kname = "key";
	if (vname == NULL)
		vname = "value";
	for (i = 0; i < n; i++) {
		xmlNode *entry = nodes[i], *first = nodes[i];

		/* a flattened map repeats the pairs; a wrapped one holds <entry> elements */
		if (!flat)
			first = entry->children;
		for (entry = first; entry; entry = flat ? NULL : entry->next) {
			xmlNode *k, *val;
			char *key;
			json_t *parsed;

			if (entry->type != XML_ELEMENT_NODE)
				continue;
			k = proto_xml_child(entry, kname);
			val = proto_xml_child(entry, vname);
			if (k == NULL)
				continue;
			key = proto_xml_text(k);
			parsed = val ? xml_parse(m, vref, aws_model_ref(m, vref), &val, 1,
					       depth + 1) :
				       NULL;
			json_object_set_new(out, key, parsed ? parsed : json_string(""));
			free(key);
		}
	}
	return out;
}

static json_t *xml_parse(const struct aws_model *m, const json_t *ref, const json_t *shape,
	xmlNode **nodes, size_t n, int depth)
{
	const char *type = aws_model_type(shape);
	json_t *out, *v;
	xmlNode *c;
	char *text;
	size_t i;

	if (shape == NULL || n == 0 || depth > XML_MAX_DEPTH)
		return NULL;
	if (!strcmp(type, "structure")) {
		out = json_object();
		proto_xml_parse_members(m, shape, nodes[n - 1], out);
		return out;
	}
	if (!strcmp(type, "list")) {
		const json_t *mref = json_object_get(shape, "member");
		const json_t *mshape = aws_model_ref(m, mref);

		out = json_array();
		if (xml_flattened(ref, shape)) {
			for (i = 0; i < n; i++) {
				v = xml_parse(m, mref, mshape, &nodes[i], 1, depth + 1);
				json_array_append_new(out, v ? v : json_string(""));
			}
			return out;
		}
		for (c = nodes[n - 1]->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			v = xml_parse(m, mref, mshape, &c, 1, depth + 1);
			json_array_append_new(out, v ? v : json_string(""));
		}
		return out;
	}
	if (!strcmp(type, "map"))
		return xml_parse_map(m, shape, xml_flattened(ref, shape), nodes, n, depth);
	text = proto_xml_text(nodes[n - 1]);
	v = proto_scalar_parse(shape, text, 0);
	free(text);
	return v;
}

json_t *proto_xml_parse_shape(const struct aws_model *m, const json_t *shape, xmlNode *node)
{
	return node ? xml_parse(m, NULL, shape, &node, 1, 0) : NULL;
}

/*
 * Writing.  ElementTree escapes &, < and > in text, and also ", \n, \r and \t in
 * attribute values; it writes "<a />" for an element without text or children.
 */
static void xml_escape(const char *s, size_t len, int attribute, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			buf_appends(out, "&amp;");
			break;
		case '<':
			buf_appends(out, "&lt;");
			break;
		case '>':
			buf_appends(out, "&gt;");
			break;
		case '"':
			buf_appends(out, attribute ? "&quot;" : "\"");
			break;
		case '\n':
			buf_appends(out, attribute ? "&#10;" : "\n");
			break;
		case '\r':
			buf_appends(out, attribute ? "&#13;" : "\r");
			break;
		case '\t':
			buf_appends(out, attribute ? "&#09;" : "\t");
			break;
		default:
			buf_appendc(out, s[i]);
		}
	}
}

static void xml_element_text(const char *name, const char *text, size_t len, struct buf *out)
{
	if (len == 0) {
		buf_appendf(out, "<%s />", name);
		return;
	}
	buf_appendf(out, "<%s>", name);
	xml_escape(text, len, 0, out);
	buf_appendf(out, "</%s>", name);
}

static int xml_write(const struct aws_model *m, const json_t *ref, const json_t *value,
	const char *name, struct buf *out, const char *where, int depth, struct err *e);

static int xml_write_struct(const struct aws_model *m, const json_t *ref, const json_t *shape,
	const json_t *value, const char *name, struct buf *out, const char *where, int depth,
	struct err *e)
{
	const json_t *ns = json_object_get(ref, "xmlNamespace"), *members, *mref, *v;
	struct buf children = BUF_INIT, text = BUF_INIT;
	const char *key;
	int ret = -1;

	if (ns == NULL)
		ns = json_object_get(shape, "xmlNamespace");
	if (proto_check_members(shape, value, where, e) < 0)
		return -1;
	members = json_object_get(shape, "members");
	buf_appendf(out, "<%s", name);
	if (ns && aws_model_str(ns, "uri")) {
		const char *prefix = aws_model_str(ns, "prefix");

		buf_appendf(out, prefix ? " xmlns:%s=\"" : " xmlns%s=\"", prefix ? prefix : "");
		xml_escape(aws_model_str(ns, "uri"), strlen(aws_model_str(ns, "uri")), 1, out);
		buf_appendc(out, '"');
	}
	json_object_foreach((json_t *)value, key, v) {
		const char *mname;
		char *sub;
		int r;

		if (json_is_null(v))
			continue;
		mref = json_object_get(members, key);
		mname = aws_model_str(mref, "locationName");
		if (mname == NULL)
			mname = key;
		sub = xasprintf("%s.%s", where, key);
		if (aws_model_bool(mref, "xmlAttribute")) {
			buf_reset(&text);
			r = proto_scalar_text(aws_model_ref(m, mref), v, "iso8601", &text, sub, e);
			if (r == 0) {
				buf_appendf(out, " %s=\"", mname);
				xml_escape(text.data, text.len, 1, out);
				buf_appendc(out, '"');
			}
		} else {
			r = xml_write(m, mref, v, mname, &children, sub, depth + 1, e);
		}
		free(sub);
		if (r < 0)
			goto out;
	}
	if (children.len)
		buf_appendf(out, ">%s</%s>", children.data, name);
	else
		buf_appends(out, " />");
	ret = 0;
out:
	buf_release(&children);
	buf_release(&text);
	return ret;
}

static int xml_write(const struct aws_model *m, const json_t *ref, const json_t *value,
	const char *name, struct buf *out, const char *where, int depth, struct err *e)
{
	const json_t *shape = aws_model_ref(m, ref), *item;
	const char *type = aws_model_type(shape), *key;
	struct buf text = BUF_INIT;
	char *sub;
	size_t i;
	int r = 0;

	if (shape == NULL)
		return err_set(e, "%s: shape missing from the model", where);
	if (depth > XML_MAX_DEPTH)
		return err_usage(e, "%s: input nested too deeply", where);
	if (!strcmp(type, "structure"))
		return xml_write_struct(m, ref, shape, value, name, out, where, depth, e);
	if (!strcmp(type, "list")) {
		const json_t *mref = json_object_get(shape, "member");
		const char *elem = name;
		struct buf inner = BUF_INIT;
		int flat = xml_flattened(ref, shape);

		if (!json_is_array(value))
			return err_usage(e, "%s must be a JSON array", where);
		if (!flat) {
			elem = aws_model_str(mref, "locationName");
			if (elem == NULL)
				elem = "member";
		}
		json_array_foreach(value, i, item) {
			sub = xasprintf("%s[%zu]", where, i);
			r = xml_write(m, mref, item, elem, flat ? out : &inner, sub, depth + 1, e);
			free(sub);
			if (r < 0)
				break;
		}
		if (r == 0 && !flat) {
			if (inner.len)
				buf_appendf(out, "<%s>%s</%s>", name, inner.data, name);
			else
				buf_appendf(out, "<%s />", name);
		}
		buf_release(&inner);
		return r;
	}
	if (!strcmp(type, "map")) {
		const json_t *kref = json_object_get(shape, "key");
		const json_t *vref = json_object_get(shape, "value");
		const char *kname = aws_model_str(kref, "locationName");
		const char *vname = aws_model_str(vref, "locationName");
		struct buf inner = BUF_INIT;
		json_t *kv;

		if (!json_is_object(value))
			return err_usage(e, "%s must be a JSON object", where);
		int flat = xml_flattened(ref, shape);

		json_object_foreach((json_t *)value, key, item) {
			if (flat)
				buf_appendf(out, "<%s>", name);
			else
				buf_appends(&inner, "<entry>");
			kv = json_string(key);
			sub = xasprintf("%s.%s", where, key);
			r = xml_write(m, kref, kv, kname ? kname : "key", flat ? out : &inner, sub,
				depth + 1, e);
			if (r == 0)
				r = xml_write(m, vref, item, vname ? vname : "value",
					flat ? out : &inner, sub, depth + 1, e);
			json_decref(kv);
			free(sub);
			if (r < 0)
				break;
			if (flat)
				buf_appendf(out, "</%s>", name);
			else
				buf_appends(&inner, "</entry>");
		}
		if (r == 0 && !flat) {
			if (inner.len)
				buf_appendf(out, "<%s>%s</%s>", name, inner.data, name);
			else
				buf_appendf(out, "<%s />", name);
		}
		buf_release(&inner);
		return r;
	}
	if (aws_model_bool(shape, "document")) {
		return err_usage(e, "%s: document values cannot be sent in XML", where);
	}
	r = proto_scalar_text(shape, value, "iso8601", &text, where, e);
	if (r == 0)
		xml_element_text(name, text.data, text.len, out);
	buf_release(&text);
	return r;
}

int proto_xml_write(const struct aws_model *m, const json_t *ref, const json_t *value,
	const char *name, struct buf *out, const char *where, struct err *e)
{
	return xml_write(m, ref, value, name, out, where, 0, e);
}
