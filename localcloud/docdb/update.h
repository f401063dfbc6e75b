/*
 * update.h: MongoDB's update documents applied to a document, and find's
 * projections.
 *
 * update_apply() takes the stored document and the update (operators or a
 * replacement) and builds the new document in *out (initialised here; the
 * caller bson_destroy()s it on success).  inserting = the document is an
 * upsert's new one ($setOnInsert applies).  Errors carry MongoDB's codes.
 *
 * Positional paths are resolved per document against pos: `$` is the first
 * element of the array whose presence alone satisfies pos->query, `$[]`
 * every element, `$[<id>]` the elements pos->array_filters' filter for id
 * matches (as the document {id: element}).  pos may be NULL (no positional
 * paths then, as in $addFields).
 */
#ifndef CALIBER_DOCDB_UPDATE_H
#define CALIBER_DOCDB_UPDATE_H

#include <bson/bson.h>

#include "docdb.h"

struct update_pos {
	const bson_t *query;		/* the statement's filter, for $ */
	const bson_t *array_filters;	/* its arrayFilters (a BSON array) or NULL, for $[<id>] */
};

/* Check the update alone (operators known, no conflicting paths, every
 * $[<id>] with its filter and every filter used). */
int update_validate(const bson_t *update, const bson_t *array_filters, struct docdb_error *de);
bool update_is_replacement(const bson_t *update);
int update_apply(const bson_t *doc, const bson_t *update, const struct update_pos *pos, bool inserting, bson_t *out,
	struct docdb_error *de);
/* The document an upsert starts from: the filter's equality fields. */
void update_upsert_seed(const bson_t *filter, bson_t *out);

/* Projection; out is initialised here. */
int project_validate(const bson_t *proj, struct docdb_error *de);
void project_apply(const bson_t *doc, const bson_t *proj, bson_t *out);

#endif
