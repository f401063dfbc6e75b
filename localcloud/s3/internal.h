/*
 * s3/internal.h: private to s3/: its start-up function and its
 * handlers, which routes.c routes to.  Other services use s3.h.
 */
#ifndef CALIBER_LC_S3_INTERNAL_H
#define CALIBER_LC_S3_INTERNAL_H

#include "core/router.h"
#include "s3.h"

int s3_init(struct lc_server *srv, struct err *e);
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
