/*
 * json-input.h: typed members of a JSON 1.1 request's input object, for
 * the services that speak it (Secrets Manager, Logs, ECS).
 *
 * A member of the wrong JSON type is a SerializationException ("<key>
 * must be a string"), as from AWS, replied with lc_reply_error(); such a
 * call returns -1.  An absent or JSON null member is "not given" and
 * returns 0: whether that is an error, and its wording, is the service's.
 */
#ifndef CALIBER_LC_JSON_INPUT_H
#define CALIBER_LC_JSON_INPUT_H

#include <jansson.h>

struct lc_request;
struct lc_response;

/* *out borrowed from o, NULL when not given. */
int json_in_str(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	const char **out);

/* *out 0 when not given. */
int json_in_bool(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	int *out);

/* *present 0 when not given (*out then untouched), 1 with *out set. */
int json_in_int(struct lc_request *req, struct lc_response *res, const json_t *o, const char *key,
	long long *out, int *present);

#endif
