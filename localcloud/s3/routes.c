/*
 * s3/routes.c: S3's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route s3_routes[] = {
	{ .service = "s3", .operation = "ListBuckets", .handler = s3_list_buckets, .method = "GET",
		.path = "/" },
	{ .service = "s3", .operation = "GetBucketLocation", .handler = s3_get_bucket_location,
		.method = "GET", .path = "/{Bucket}", .query_flag = "location" },
	{ .service = "s3", .operation = "ListObjectsV2", .handler = s3_list_objects,
		.method = "GET", .path = "/{Bucket}", .query_flag = "list-type" },
	{ .service = "s3", .operation = "ListObjects", .handler = s3_list_objects, .method = "GET",
		.path = "/{Bucket}" },
	{ .service = "s3", .operation = "CreateBucket", .handler = s3_create_bucket,
		.method = "PUT", .path = "/{Bucket}" },
	{ .service = "s3", .operation = "DeleteBucket", .handler = s3_delete_bucket,
		.method = "DELETE", .path = "/{Bucket}" },
	{ .service = "s3", .operation = "HeadBucket", .handler = s3_head_bucket, .method = "HEAD",
		.path = "/{Bucket}" },
	{ .service = "s3", .operation = "DeleteObjects", .handler = s3_delete_objects,
		.method = "POST", .path = "/{Bucket}", .query_flag = "delete" },
	{ .service = "s3", .operation = "CreateMultipartUpload",
		.handler = s3_create_multipart_upload, .method = "POST", .path = "/{Bucket}/{Key+}",
		.query_flag = "uploads" },
	{ .service = "s3", .operation = "CompleteMultipartUpload",
		.handler = s3_complete_multipart_upload, .method = "POST",
		.path = "/{Bucket}/{Key+}", .query_flag = "uploadId" },
	{ .service = "s3", .operation = "UploadPart", .handler = s3_upload_part, .method = "PUT",
		.path = "/{Bucket}/{Key+}", .query_flag = "uploadId", .body_mode = LC_BODY_FILE },
	{ .service = "s3", .operation = "CopyObject", .handler = s3_copy_object, .method = "PUT",
		.path = "/{Bucket}/{Key+}", .header_flag = "x-amz-copy-source" },
	{ .service = "s3", .operation = "PutObject", .handler = s3_put_object, .method = "PUT",
		.path = "/{Bucket}/{Key+}", .body_mode = LC_BODY_FILE },
	{ .service = "s3", .operation = "ListParts", .handler = s3_list_parts, .method = "GET",
		.path = "/{Bucket}/{Key+}", .query_flag = "uploadId" },
	{ .service = "s3", .operation = "GetObject", .handler = s3_get_object, .method = "GET",
		.path = "/{Bucket}/{Key+}" },
	{ .service = "s3", .operation = "HeadObject", .handler = s3_head_object, .method = "HEAD",
		.path = "/{Bucket}/{Key+}" },
	{ .service = "s3", .operation = "AbortMultipartUpload",
		.handler = s3_abort_multipart_upload, .method = "DELETE",
		.path = "/{Bucket}/{Key+}", .query_flag = "uploadId" },
	{ .service = "s3", .operation = "DeleteObject", .handler = s3_delete_object,
		.method = "DELETE", .path = "/{Bucket}/{Key+}" },
};

const struct lc_service s3_service = {
	.name = "s3",
	.protocol = LC_PROTO_REST_XML,
	.xmlns = "http://s3.amazonaws.com/doc/2006-03-01/",
	.max_body = 2 * LC_MIB,
	.max_stream = 5 * 1024 * LC_MIB,
	.s3_signing = 1,
	.s3_errors = 1,
	.init = s3_init,
	.routes = s3_routes,
	.n_routes = ARRAY_SIZE(s3_routes),
};
