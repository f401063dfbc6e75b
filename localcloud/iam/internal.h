/*
 * iam/internal.h: private to iam/: its start-up function and the handlers
 * routes.c routes to.
 */
#ifndef CALIBER_LC_IAM_INTERNAL_H
#define CALIBER_LC_IAM_INTERNAL_H

#include "aws/codec.h"
#include "core/router.h"
#include "iam.h"

int iam_init(struct lc_server *srv, struct err *e);
int iam_get_user(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_create_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_get_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_delete_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_update_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_update_assume_role_policy(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_list_role_policies(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_list_attached_role_policies(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_list_instance_profiles_for_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_put_role_policy(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_get_role_policy(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_delete_role_policy(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_list_role_tags(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_tag_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int iam_untag_role(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
