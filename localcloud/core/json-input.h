/*
 * json-input.h: the frame of a JSON 1.1 call on caliberd's store and the
 * typed members of its input object, for the services that speak it
 * (Secrets Manager, Logs, ECS).
 *
 * A member of the wrong JSON type is a SerializationException ("<key>
 * must be a string"), as from AWS, replied with lc_reply_error(); such a
 * call returns -1.  An absent or JSON null member is "not given" and
 * returns 0: whether that is an error, and its wording, is the service's.
 */
#ifndef CALIBER_LC_JSON_INPUT_H
#define CALIBER_LC_JSON_INPUT_H

#include <jansson.h>
#include <sqlite3.h>

struct lc_request;
struct lc_response;

/*
 * One call: parse the input into *in (lc_request_json replies when it is
 * not a JSON object), begin a store transaction, set *db to the store's
 * handle and *out to an empty object, run step(arg).  When step returns
 * 0: commit and reply 200 with *out; when -1 (step has replied): roll
 * back.  A store failure is logged "<svc>: <message>" and replied 500
 * internal_code.  *in and *out are freed before it returns 0 or -1.
 */
int json_in_run(struct lc_request *req, struct lc_response *res, const char *svc,
	const char *internal_code, json_t **in, json_t **out, sqlite3 **db, int (*step)(void *arg),
	void *arg);

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
