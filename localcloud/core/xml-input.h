/*
 * xml-input.h: reading the XML bodies of the REST-XML services
 * (CloudFront, Route 53) and S3's XML documents with libxml2.
 */
#ifndef CALIBER_LC_XML_INPUT_H
#define CALIBER_LC_XML_INPUT_H

#include <stddef.h>

#include <libxml/tree.h>

/*
 * Parse without network access, entity substitution or messages on
 * stderr.  NULL when len is 0 or the text is not well-formed; the caller
 * frees with xmlFreeDoc().
 */
xmlDoc *xml_in_parse(const char *text, size_t len);

/* The first child element of n named name; NULL when none or n is NULL. */
xmlNode *xml_in_child(const xmlNode *n, const char *name);

/* The text of a child element (caller frees), NULL when absent. */
char *xml_in_child_text(const xmlNode *n, const char *name);

#endif
