/*
 * xml-input.c: XML bodies read with libxml2 (see xml-input.h).
 */
#include "compat.h"

#include <libxml/parser.h>

#include "buf.h"
#include "xml.h"
#include "xml-input.h"

xmlDoc *xml_in_parse(const char *text, size_t len)
{
	return xml_read_untrusted(text, len, 0, NULL);
}

xmlNode *xml_in_child(const xmlNode *n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* the text of an element, "" when empty (caller frees) */
static char *xml_in_text(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = xstrdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

char *xml_in_child_text(const xmlNode *n, const char *name)
{
	xmlNode *c = xml_in_child(n, name);

	return c != NULL ? xml_in_text(c) : NULL;
}
