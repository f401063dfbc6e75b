/*
 * xml.c: XML from a peer, read with libxml2 and no DTD (see xml.h).
 */
#include "compat.h"

#include <limits.h>
#include <string.h>

#include <libxml/parser.h>

#include "xml.h"

/* "<!DOCTYPE" anywhere: markup only (in text it is written "&lt;!DOCTYPE") */
static int xml_has_doctype(const char *text, size_t len)
{
	static const char mark[] = "<!DOCTYPE";

	return memmem(text, len, mark, sizeof(mark) - 1) != NULL;
}

xmlDoc *xml_read_untrusted(const char *text, size_t len, int extra, int *has_dtd)
{
	xmlDoc *doc;

	if (has_dtd)
		*has_dtd = 0;
	if (text == NULL || len == 0 || len > INT_MAX)
		return NULL;
	if (xml_has_doctype(text, len)) {
		if (has_dtd)
			*has_dtd = 1;
		return NULL;
	}
	extra &= ~(XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_DTDATTR | XML_PARSE_DTDVALID |
		XML_PARSE_HUGE | XML_PARSE_XINCLUDE);
	doc = xmlReadMemory(text, (int)len, NULL, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | extra);
	if (doc == NULL)
		return NULL;
	/* belt and braces: a declaration the scan above did not see */
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		if (has_dtd)
			*has_dtd = 1;
		xmlFreeDoc(doc);
		return NULL;
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}
