/*
 * elbv2/internal.h: private to elbv2/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use elbv2.h.
 */
#ifndef CALIBER_LC_ELBV2_INTERNAL_H
#define CALIBER_LC_ELBV2_INTERNAL_H

#include "aws/codec.h"
#include "core/router.h"
#include "elbv2.h"

/* engine.c: the tables, the health checker, the edge's sites */
int elb_init(struct lc_server *srv, struct err *e);
/* The target group's name in its ARN (.../targetgroup/<name>/<id>) into out, for log lines. */
const char *elb_tg_name(const char *arn, char *out, size_t len);

/* api.c: the operations */
int elb_create_load_balancer(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_describe_load_balancers(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_delete_load_balancer(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_create_target_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_describe_target_groups(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_delete_target_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_modify_target_group_attributes(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_create_listener(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_describe_listeners(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_create_rule(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_register_targets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_deregister_targets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int elb_describe_target_health(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
