/*
 * services.h: the handlers and start-up functions of caliberd's services,
 * one section per localcloud/svc-<service>.c.  The rows that route to them
 * are in router.c.
 */
#ifndef CALIBER_LC_SERVICES_H
#define CALIBER_LC_SERVICES_H

#include <sqlite3.h>

#include "router.h"

/* svc-secretsmanager.c */
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
/*
 * For other services (ECS task secrets): append to out the value (wipe it
 * with buf_release_secret) of the secret that secret_id names (full ARN,
 * partial ARN without the random suffix, or name in region): version
 * version_id if not NULL (holding version_stage too, if that is not NULL),
 * else the version staged version_stage (NULL: AWSCURRENT).  Reads db as
 * it is, within the caller's transaction if any, and records no access.
 * A secret scheduled for deletion has no value.
 */
int sm_secret_value_read(sqlite3 *db, const unsigned char *master_key, const char *region,
	const char *secret_id, const char *version_id, const char *version_stage,
	struct buf *out, struct err *e);

/* svc-logs.c: CloudWatch Logs */
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
/*
 * For other services (the ECS supervisor), inside the caller's store
 * transaction on db.  logs_group_check: 1 the group exists (created first
 * when create), 0 it does not, -1 error.  logs_append: one event into
 * group/stream (the stream is created when new; the group must exist).
 */
int logs_group_check(sqlite3 *db, const char *region, const char *group, int create);
int logs_append(sqlite3 *db, const char *group, const char *stream, long long ts_ms,
	const char *msg, size_t len);
/* Whether message matches a FilterLogEvents term pattern: 1, 0, -1 unsupported pattern. */
int logs_filter_match(const char *pattern, const char *message);

/* svc-ecs.c: ECS (task definitions, services, tasks as supervised processes) */
int ecs_init(struct lc_server *srv, struct err *e);
/*
 * Stop and join the supervisor thread, then stop every task (SIGTERM,
 * SIGKILL after ECS_SHUTDOWN_GRACE seconds): before the edge and the store
 * it uses are closed.
 */
void ecs_shutdown(void);
int ecs_create_cluster(struct lc_request *req, struct lc_response *res);
int ecs_describe_clusters(struct lc_request *req, struct lc_response *res);
int ecs_list_clusters(struct lc_request *req, struct lc_response *res);
int ecs_delete_cluster(struct lc_request *req, struct lc_response *res);
int ecs_register_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_deregister_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_describe_task_definition(struct lc_request *req, struct lc_response *res);
int ecs_list_task_definitions(struct lc_request *req, struct lc_response *res);
int ecs_list_task_definition_families(struct lc_request *req, struct lc_response *res);
int ecs_create_service(struct lc_request *req, struct lc_response *res);
int ecs_update_service(struct lc_request *req, struct lc_response *res);
int ecs_delete_service(struct lc_request *req, struct lc_response *res);
int ecs_describe_services(struct lc_request *req, struct lc_response *res);
int ecs_list_services(struct lc_request *req, struct lc_response *res);
int ecs_run_task(struct lc_request *req, struct lc_response *res);
int ecs_describe_tasks(struct lc_request *req, struct lc_response *res);
int ecs_list_tasks(struct lc_request *req, struct lc_response *res);
int ecs_stop_task(struct lc_request *req, struct lc_response *res);
/* svc-s3.c */
struct objstore;
int s3_init(struct lc_server *srv, struct err *e);
/* Close the object store (caliberd's shutdown). */
void s3_shutdown(void);
/* The object store behind S3 (for CloudFront's origin); NULL before s3_init. */
struct objstore *s3_objstore(void);
int s3_list_buckets(struct lc_request *req, struct lc_response *res);
int s3_create_bucket(struct lc_request *req, struct lc_response *res);
int s3_delete_bucket(struct lc_request *req, struct lc_response *res);
int s3_head_bucket(struct lc_request *req, struct lc_response *res);
int s3_get_bucket_location(struct lc_request *req, struct lc_response *res);
int s3_list_objects(struct lc_request *req, struct lc_response *res);
int s3_put_object(struct lc_request *req, struct lc_response *res);
int s3_get_object(struct lc_request *req, struct lc_response *res);
int s3_head_object(struct lc_request *req, struct lc_response *res);
int s3_delete_object(struct lc_request *req, struct lc_response *res);
int s3_delete_objects(struct lc_request *req, struct lc_response *res);
int s3_copy_object(struct lc_request *req, struct lc_response *res);
int s3_create_multipart_upload(struct lc_request *req, struct lc_response *res);
int s3_upload_part(struct lc_request *req, struct lc_response *res);
int s3_complete_multipart_upload(struct lc_request *req, struct lc_response *res);
int s3_abort_multipart_upload(struct lc_request *req, struct lc_response *res);
int s3_list_parts(struct lc_request *req, struct lc_response *res);

/* svc-cloudfront.c */
int cf_init(struct lc_server *srv, struct err *e);
int cf_create_distribution(struct lc_request *req, struct lc_response *res);
int cf_get_distribution(struct lc_request *req, struct lc_response *res);
int cf_get_distribution_config(struct lc_request *req, struct lc_response *res);
int cf_list_distributions(struct lc_request *req, struct lc_response *res);
int cf_update_distribution(struct lc_request *req, struct lc_response *res);
int cf_delete_distribution(struct lc_request *req, struct lc_response *res);
int cf_create_invalidation(struct lc_request *req, struct lc_response *res);
int cf_get_invalidation(struct lc_request *req, struct lc_response *res);
int cf_list_invalidations(struct lc_request *req, struct lc_response *res);
/* The origin server nginx fetches distribution content from (edgectl.c starts it). */
int cf_origin_start(struct lc_server *srv, int *port, struct err *e);
void cf_origin_stop(void);
const char *cf_origin_token(void);
/* 1 and the id when domain ("dxxxx.cloudfront.net") is a distribution's; 0 none; -1 error.
 * Call inside a store transaction. */
int cf_distribution_for_domain(struct lc_server *srv, const char *domain, char *id,
	size_t id_len);

/* svc-route53.c */
int r53_init(struct lc_server *srv, struct err *e);
int r53_create_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_list_hosted_zones(struct lc_request *req, struct lc_response *res);
int r53_list_hosted_zones_by_name(struct lc_request *req, struct lc_response *res);
int r53_get_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_delete_hosted_zone(struct lc_request *req, struct lc_response *res);
int r53_change_resource_record_sets(struct lc_request *req, struct lc_response *res);
int r53_list_resource_record_sets(struct lc_request *req, struct lc_response *res);
int r53_get_change(struct lc_request *req, struct lc_response *res);

/* svc-elbv2.c: Elastic Load Balancing v2, realised by the edge */
int elb_init(struct lc_server *srv, struct err *e);
/* Stop and join the target health checker (before the edge and the store close). */
void elb_shutdown(void);
int elb_create_load_balancer(struct lc_request *req, struct lc_response *res);
int elb_describe_load_balancers(struct lc_request *req, struct lc_response *res);
int elb_delete_load_balancer(struct lc_request *req, struct lc_response *res);
int elb_create_target_group(struct lc_request *req, struct lc_response *res);
int elb_describe_target_groups(struct lc_request *req, struct lc_response *res);
int elb_delete_target_group(struct lc_request *req, struct lc_response *res);
int elb_modify_target_group_attributes(struct lc_request *req, struct lc_response *res);
int elb_create_listener(struct lc_request *req, struct lc_response *res);
int elb_describe_listeners(struct lc_request *req, struct lc_response *res);
int elb_create_rule(struct lc_request *req, struct lc_response *res);
int elb_register_targets(struct lc_request *req, struct lc_response *res);
int elb_deregister_targets(struct lc_request *req, struct lc_response *res);
int elb_describe_target_health(struct lc_request *req, struct lc_response *res);
/*
 * For the ECS supervisor, inside its transaction on db: register a task's
 * address as a target (state initial until its health checks pass); start
 * draining every target at ip (why, for the log: the task's stop reason) and say whether some still drain (1) or all
 * are gone (0).  *changed is set when the edge must be re-synced.
 */
int elb_target_register(sqlite3 *db, const char *tg, const char *ip, long port);
int elb_targets_drain(sqlite3 *db, const char *ip, double now, const char *why, int *changed);
/* svc-rds.c */
int rds_init(struct lc_server *srv, struct err *e);
/*
 * Before caliberd closes its store (after the HTTP front stopped): keep the
 * workers off the store and stop the database servers.
 */
void rds_shutdown(void);
int rds_create_db_instance(struct lc_request *req, struct lc_response *res);
int rds_describe_db_instances(struct lc_request *req, struct lc_response *res);
int rds_modify_db_instance(struct lc_request *req, struct lc_response *res);
int rds_reboot_db_instance(struct lc_request *req, struct lc_response *res);
int rds_delete_db_instance(struct lc_request *req, struct lc_response *res);
int rds_create_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_describe_db_snapshots(struct lc_request *req, struct lc_response *res);
int rds_delete_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_restore_db_instance_from_db_snapshot(struct lc_request *req, struct lc_response *res);
int rds_restore_db_instance_to_point_in_time(struct lc_request *req, struct lc_response *res);

#endif
