/*
 * match.h: MongoDB's query language evaluated on BSON documents: value
 * ordering across types (the canonical type brackets), dotted paths that
 * reach into sub-documents and arrays, and the query operators.
 *
 * match_validate() refuses what the evaluator does not know (BadValue
 * "unknown operator", as MongoDB) before any document is read, so an
 * unsupported operator is an error even on an empty collection, never a
 * silently wrong answer.  Values are borrowed from the documents given.
 */
#ifndef CALIBER_DOCDB_MATCH_H
#define CALIBER_DOCDB_MATCH_H


#include <bson/bson.h>
#include <stdbool.h>

#include "docdb.h"

/* The canonical sort bracket of a type (MinKey < null < numbers < ...). */
int value_bracket(bson_type_t t);
/* Order of a and b as MongoDB sorts them: <0, 0, >0. */
int value_compare(const bson_value_t *a, const bson_value_t *b);
double value_number(const bson_value_t *v);
bool value_is_number(const bson_value_t *v);

/* Visit every value a dotted path reaches in doc (MongoDB's array rule). */
typedef bool (*path_fn)(const bson_value_t *v, bool element, void *ctx);
/* Calls fn for each value (v NULL: missing); stops when fn returns true.
 * Returns true when some call returned true. */
bool path_visit(const bson_t *doc, const char *path, path_fn fn, void *ctx);

int match_validate(const bson_t *filter, struct docdb_error *de);
bool match_doc(const bson_t *filter, const bson_t *doc);

/* The sort key of doc for path: the least (dir > 0) or greatest value. */
void match_sort_key(const bson_t *doc, const char *path, int dir, bson_value_t *out);


/* Does the value v satisfy cond as $pull and $elemMatch read it (operators
 * applied to v, a filter when v is a document, else equality)? */
bool match_value(const bson_value_t *cond, const bson_value_t *v);

#endif
