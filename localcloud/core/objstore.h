/*
 * objstore.h: S3 buckets and objects on disk, for caliberd's S3 service and
 * its CloudFront edge.
 *
 * Layout under the store's directory:
 *   meta.db          SQLite: buckets, objects, multipart uploads and parts
 *   data/xx/<id>     immutable content files, named by a random 128-bit id
 *   tmp/             bodies being received
 *
 * Keys never become file names: a key is a column in meta.db and its content
 * lives in a file with a random name, so no key (such as "../../etc/passwd")
 * can reach outside the store.  A body is written to tmp/, fsynced and
 * renamed into data/ before the row that makes it visible is committed; a
 * crash at any point leaves either the old object or the new one visible,
 * never a partial one.  Files that no row references (left by a crash) are
 * removed when the store is opened.  Content files are never modified once
 * renamed into place, so an open file descriptor keeps serving the version
 * it opened while the key is overwritten.
 *
 * Thread-safe: one mutex guards the database; bodies are received and
 * copied outside it.
 *
 * Ownership: the store owns itself (objstore_close frees it); a writer is
 * consumed by objstore_put / objstore_part_put or freed by
 * objstore_writer_abort; results (struct objstore_object, struct
 * objstore_list) own their strings and are released with the matching
 * *_release function.
 */
#ifndef CALIBER_OBJSTORE_H
#define CALIBER_OBJSTORE_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* S3's limits: the longest key in bytes; the smallest part but the last */
#define OBJSTORE_MAX_KEY 1024
#define OBJSTORE_MIN_PART (5 * 1024 * 1024)

enum objstore_status {
	OBJSTORE_OK = 0,
	OBJSTORE_ERROR,			/* internal: the struct err says why */
	OBJSTORE_INVALID_BUCKET_NAME,
	OBJSTORE_NO_SUCH_BUCKET,
	OBJSTORE_BUCKET_EXISTS,		/* BucketAlreadyOwnedByYou */
	OBJSTORE_BUCKET_NOT_EMPTY,
	OBJSTORE_NO_SUCH_KEY,
	OBJSTORE_KEY_TOO_LONG,
	OBJSTORE_NO_SUCH_UPLOAD,
	OBJSTORE_INVALID_PART,
	OBJSTORE_INVALID_PART_ORDER,
	OBJSTORE_ENTITY_TOO_SMALL,
	OBJSTORE_INVALID_ARGUMENT,
};

/* The S3 error code ("NoSuchBucket", ...) and HTTP status of a status. */
const char *objstore_status_code(enum objstore_status st);
int objstore_status_http(enum objstore_status st);

/* Checksums a writer computes besides MD5 (bit flags). */
enum objstore_checksum {
	OBJSTORE_CK_CRC32 = 1,
	OBJSTORE_CK_CRC32C = 2,
	OBJSTORE_CK_SHA1 = 4,
	OBJSTORE_CK_SHA256 = 8,
};

struct objstore_digests {
	uint64_t size;
	unsigned char md5[16];
	uint32_t crc32;
	uint32_t crc32c;
	unsigned char sha1[20];
	unsigned char sha256[32];
};

/* The attributes stored with an object (all optional, NULL: absent). */
struct objstore_attrs {
	const char *content_type;
	const char *cache_control;
	const char *content_encoding;
	const char *content_disposition;
	const char *content_language;
	const char *expires;
	/* x-amz-meta-* as "name: value\n" lines, names lower case */
	const char *user_meta;
	/* "CRC32" / "CRC32C" / "SHA1" / "SHA256" and its base64 value */
	const char *checksum_algorithm;
	const char *checksum_value;
};

struct objstore_object {
	char *bucket;
	char *key;
	uint64_t size;
	char etag[48];			/* without quotes: hex MD5, or hex-N */
	int64_t mtime_ms;		/* last modified, milliseconds since the epoch */
	char *content_type;		/* never NULL: "binary/octet-stream" by default */
	char *cache_control;
	char *content_encoding;
	char *content_disposition;
	char *content_language;
	char *expires;
	char *user_meta;
	char *checksum_algorithm;
	char *checksum_value;
	char *path;			/* content file */
};

struct objstore_bucket {
	char *name;
	char *region;
	int64_t created_ms;
};

struct objstore;
struct objstore_writer;

/* Open (creating when missing) the store in dir. */
int objstore_open(const char *dir, struct objstore **out, struct err *e);
void objstore_close(struct objstore *s);

/* S3's bucket naming rules (3-63 characters, lower case, digits, '.', '-'). */
int objstore_bucket_name_valid(const char *name);

enum objstore_status objstore_bucket_create(struct objstore *s, const char *name,
	const char *region, struct err *e);
/* Fails with OBJSTORE_BUCKET_NOT_EMPTY while objects remain. */
enum objstore_status objstore_bucket_delete(struct objstore *s, const char *name, struct err *e);
/* OBJSTORE_OK when the bucket exists; its region into region (if not NULL, caller frees). */
enum objstore_status objstore_bucket_head(struct objstore *s, const char *name, char **region,
	struct err *e);
/* Every bucket, by name; *out is an array the caller frees with objstore_buckets_release. */
int objstore_bucket_list(struct objstore *s, struct objstore_bucket **out, size_t *n,
	struct err *e);
void objstore_buckets_release(struct objstore_bucket *b, size_t n);

/*
 * Receive a body: open a writer, write the bytes as they arrive (each
 * write is on disk before the object is published), then publish it with
 * objstore_put or objstore_part_put, or drop it with objstore_writer_abort.
 * checksums is a set of enum objstore_checksum to compute besides MD5.
 */
int objstore_writer_open(struct objstore *s, unsigned checksums, struct objstore_writer **out,
	struct err *e);
int objstore_writer_write(struct objstore_writer *w, const void *data, size_t len,
	struct err *e);
/*
 * A writer over a body already received into a file on the same file
 * system: the file is moved into the store (path no longer names it on
 * success) and read once for its digests.
 */
int objstore_writer_adopt(struct objstore *s, const char *path, unsigned checksums,
	struct objstore_writer **out, struct err *e);
/* The digests of everything written so far (final once writing stops). */
const struct objstore_digests *objstore_writer_digests(struct objstore_writer *w);
void objstore_writer_abort(struct objstore_writer *w);

/*
 * Publish w as bucket/key, replacing any previous object.  The writer is
 * consumed whatever the result.  The object's ETag (hex MD5, no quotes)
 * is written to etag (48 bytes).
 */
enum objstore_status objstore_put(struct objstore *s, const char *bucket, const char *key,
	struct objstore_writer *w, const struct objstore_attrs *attrs, char *etag, struct err *e);

/* The object's attributes, and (when fd is not NULL) an open descriptor on its content. */
enum objstore_status objstore_get(struct objstore *s, const char *bucket, const char *key,
	struct objstore_object *obj, int *fd, struct err *e);
void objstore_object_release(struct objstore_object *obj);

/* Deleting a missing key succeeds, as in S3; a missing bucket does not. */
enum objstore_status objstore_delete(struct objstore *s, const char *bucket, const char *key,
	struct err *e);

/*
 * Copy src to dst.  attrs NULL keeps the source's attributes (metadata
 * directive COPY); otherwise they replace them.  The copy shares the
 * immutable content file (a hard link).  The new object is written to
 * obj when not NULL.
 */
enum objstore_status objstore_copy(struct objstore *s, const char *src_bucket,
	const char *src_key, const char *dst_bucket, const char *dst_key,
	const struct objstore_attrs *attrs, struct objstore_object *obj, struct err *e);

struct objstore_list_params {
	const char *prefix;		/* NULL or "": every key */
	const char *delimiter;		/* NULL or "": no grouping */
	const char *start_after;	/* exclusive; NULL: from the start */
	/*
	 * A marker returned by a previous call (next_marker) that says where
	 * to resume; it takes precedence over start_after.
	 */
	const char *marker;
	int max_keys;			/* keys plus common prefixes; 0..1000 */
};

struct objstore_list {
	struct objstore_object *objects;
	size_t n_objects;
	char **prefixes;		/* CommonPrefixes, in order */
	size_t n_prefixes;
	int truncated;
	char *next_marker;		/* opaque, printable; set when truncated */
};

enum objstore_status objstore_list(struct objstore *s, const char *bucket,
	const struct objstore_list_params *p, struct objstore_list *out, struct err *e);
void objstore_list_release(struct objstore_list *l);

/* Multipart uploads.  upload_id is written to a 64-byte buffer. */
enum objstore_status objstore_upload_create(struct objstore *s, const char *bucket,
	const char *key, const struct objstore_attrs *attrs, char *upload_id, struct err *e);
/* Store part part_number (1..10000) of the upload; the writer is consumed. */
enum objstore_status objstore_part_put(struct objstore *s, const char *bucket, const char *key,
	const char *upload_id, int part_number, struct objstore_writer *w, char *etag,
	struct err *e);

struct objstore_part {
	int number;
	char etag[48];			/* no quotes */
	uint64_t size;
	int64_t mtime_ms;
};

/* The upload's parts in order, from the first number above after. */
enum objstore_status objstore_part_list(struct objstore *s, const char *bucket, const char *key,
	const char *upload_id, int after, int max_parts, struct objstore_part **parts, size_t *n,
	int *truncated, struct err *e);

/*
 * Complete an upload from the parts the client lists (number and ETag, in
 * ascending order): their contents are concatenated into the object, whose
 * ETag is the MD5 of the parts' binary MD5s followed by "-N".
 */
enum objstore_status objstore_upload_complete(struct objstore *s, const char *bucket,
	const char *key, const char *upload_id, const struct objstore_part *parts, size_t n,
	char *etag, struct err *e);
enum objstore_status objstore_upload_abort(struct objstore *s, const char *bucket,
	const char *key, const char *upload_id, struct err *e);

/* CRC-32C (Castagnoli), as S3's x-amz-checksum-crc32c; start with crc = 0. */
uint32_t objstore_crc32c(uint32_t crc, const void *data, size_t len);
/* CRC-32 (IEEE, zlib's), as x-amz-checksum-crc32; start with crc = 0. */
uint32_t objstore_crc32(uint32_t crc, const void *data, size_t len);

#endif
