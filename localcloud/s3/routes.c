/*
 * s3/routes.c: S3's row in the catalogue and its operations, one row
 * per (operation, handler).  Columns as in core/router.h (struct lc_route);
 * REST rows: the first match wins, so specific rows go first.
 */
#include "compat.h"

#include "internal.h"

static const struct lc_route s3_routes[] = {
	{ "s3", "ListBuckets", s3_list_buckets, "GET", "/", NULL, NULL, 0 },
	{ "s3", "GetBucketLocation", s3_get_bucket_location, "GET", "/{Bucket}", "location", NULL,
		0 },
	{ "s3", "ListObjectsV2", s3_list_objects, "GET", "/{Bucket}", "list-type", NULL, 0 },
	{ "s3", "ListObjects", s3_list_objects, "GET", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "CreateBucket", s3_create_bucket, "PUT", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "DeleteBucket", s3_delete_bucket, "DELETE", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "HeadBucket", s3_head_bucket, "HEAD", "/{Bucket}", NULL, NULL, 0 },
	{ "s3", "DeleteObjects", s3_delete_objects, "POST", "/{Bucket}", "delete", NULL, 0 },
	{ "s3", "CreateMultipartUpload", s3_create_multipart_upload, "POST", "/{Bucket}/{Key+}",
		"uploads", NULL, 0 },
	{ "s3", "CompleteMultipartUpload", s3_complete_multipart_upload, "POST",
		"/{Bucket}/{Key+}", "uploadId", NULL, 0 },
	{ "s3", "UploadPart", s3_upload_part, "PUT", "/{Bucket}/{Key+}", "uploadId", NULL,
		LC_BODY_FILE },
	{ "s3", "CopyObject", s3_copy_object, "PUT", "/{Bucket}/{Key+}", NULL,
		"x-amz-copy-source", 0 },
	{ "s3", "PutObject", s3_put_object, "PUT", "/{Bucket}/{Key+}", NULL, NULL, LC_BODY_FILE },
	{ "s3", "ListParts", s3_list_parts, "GET", "/{Bucket}/{Key+}", "uploadId", NULL, 0 },
	{ "s3", "GetObject", s3_get_object, "GET", "/{Bucket}/{Key+}", NULL, NULL, 0 },
	{ "s3", "HeadObject", s3_head_object, "HEAD", "/{Bucket}/{Key+}", NULL, NULL, 0 },
	{ "s3", "AbortMultipartUpload", s3_abort_multipart_upload, "DELETE", "/{Bucket}/{Key+}",
		"uploadId", NULL, 0 },
	{ "s3", "DeleteObject", s3_delete_object, "DELETE", "/{Bucket}/{Key+}", NULL, NULL, 0 },
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
