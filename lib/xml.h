/*
 * xml.h: reading an XML document that came from a peer (a request body in
 * caliberd, a response in the client).
 *
 * AWS's XML has no document type declaration, so none is accepted: a
 * document with a DTD is refused before it is parsed, and entities are
 * never substituted (an internal entity referenced 200,000 times must not
 * cost memory, and `<Key>&k;</Key>` must not name another key).  No network
 * access, no XML_PARSE_HUGE: libxml2's own limits on depth and text size
 * bound the work; the caller bounds the length.
 */
#ifndef CALIBER_XML_H
#define CALIBER_XML_H

#include <stddef.h>

#include <libxml/tree.h>

/*
 * Parse text[0..len) with libxml2's options extra added (XML_PARSE_NOBLANKS,
 * say; never entity substitution or DTD loading).  Returns the document (the caller frees it with
 * xmlFreeDoc), or NULL when it is empty, not well-formed, has no root
 * element, or has a document type declaration (*has_dtd is then 1 when
 * has_dtd is not NULL, so that the caller can say why).
 */
xmlDoc *xml_read_untrusted(const char *text, size_t len, int extra, int *has_dtd);

#endif
