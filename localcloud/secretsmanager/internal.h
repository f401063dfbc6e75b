/*
 * secretsmanager/internal.h: private to secretsmanager/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use secretsmanager.h.
 */
#ifndef CALIBER_LC_SECRETSMANAGER_INTERNAL_H
#define CALIBER_LC_SECRETSMANAGER_INTERNAL_H

#include "aws/codec.h"
#include "core/router.h"
#include "secretsmanager.h"

int sm_init(struct lc_server *srv, struct err *e);
int sm_create_secret(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_put_secret_value(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_get_secret_value(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_describe_secret(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_list_secrets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_list_secret_version_ids(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_update_secret(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_update_secret_version_stage(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_delete_secret(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_restore_secret(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_tag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int sm_untag_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
