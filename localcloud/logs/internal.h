/*
 * logs/internal.h: private to logs/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use logs.h.
 */
#ifndef CALIBER_LC_LOGS_INTERNAL_H
#define CALIBER_LC_LOGS_INTERNAL_H

#include "aws/codec.h"
#include "core/router.h"
#include "logs.h"

int logs_init(struct lc_server *srv, struct err *e);
int logs_create_log_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_delete_log_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_put_retention_policy(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_describe_log_groups(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_create_log_stream(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_describe_log_streams(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_put_log_events(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_get_log_events(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_filter_log_events(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
/* tags.c: the groups' tags, in the generic store */
int logs_tags_set(sqlite3 *db, const char *group, const json_t *map);
int logs_tags_drop(sqlite3 *db, const char *group);
int logs_list_tags_for_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_list_tags_log_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_tag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int logs_untag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
