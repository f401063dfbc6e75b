/*
 * services.h: the handlers and start-up functions of caliberd's services,
 * one section per localcloud/svc-<service>.c.  The rows that route to them
 * are in router.c.
 */
#ifndef CALIBER_LC_SERVICES_H
#define CALIBER_LC_SERVICES_H

#include "router.h"

/* svc-secretsmanager.c */
int sm_init(struct lc_server *srv, struct err *e);
int sm_create_secret(struct lc_request *req, struct lc_response *res);
int sm_put_secret_value(struct lc_request *req, struct lc_response *res);
int sm_get_secret_value(struct lc_request *req, struct lc_response *res);
int sm_describe_secret(struct lc_request *req, struct lc_response *res);
int sm_list_secrets(struct lc_request *req, struct lc_response *res);
int sm_list_secret_version_ids(struct lc_request *req, struct lc_response *res);
int sm_update_secret(struct lc_request *req, struct lc_response *res);
int sm_update_secret_version_stage(struct lc_request *req, struct lc_response *res);
int sm_delete_secret(struct lc_request *req, struct lc_response *res);
int sm_restore_secret(struct lc_request *req, struct lc_response *res);
int sm_tag_resource(struct lc_request *req, struct lc_response *res);
int sm_untag_resource(struct lc_request *req, struct lc_response *res);

/* svc-s3.c */
struct objstore;
int s3_init(struct lc_server *srv, struct err *e);
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

#endif
