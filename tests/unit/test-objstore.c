/*
 * test-objstore.c: the S3 object store (localcloud/core/objstore.c) and S3's
 * wire formats (localcloud/s3/wire.c): objects, listing, multipart,
 * crash leftovers, checksums, aws-chunked bodies and XML bodies.
 *
 * Both come from liblocalcloud.a, which this program links.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "hex.h"
#include "core/objstore.h"
#include "s3/wire.h"

static char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/test-objstore-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void rm_rf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void put_string(struct objstore *s, const char *bucket, const char *key, const char *body,
	const struct objstore_attrs *attrs, char *etag)
{
	struct objstore_writer *w = NULL;
	struct err e = ERR_INIT;

	assert_int_equal(objstore_writer_open(s, 0, &w, &e), 0);
	assert_int_equal(objstore_writer_write(w, body, strlen(body), &e), 0);
	assert_int_equal(objstore_put(s, bucket, key, w, attrs, etag, &e), OBJSTORE_OK);
}

static char *read_fd(int fd)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t k;

	buf_init(&b);
	while ((k = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)k);
	close(fd);
	return buf_detach(&b);
}

static size_t count_files(const char *dir)
{
	char *cmd = xasprintf("find '%s' -type f | wc -l", dir);
	FILE *f = popen(cmd, "r");
	unsigned long n = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu", &n), 1);
	pclose(f);
	free(cmd);
	return n;
}

static void test_put_get_returns_body_md5_etag_and_attributes(void **state)
{
	char *dir = tmpdir_new();
	struct objstore *s = NULL;
	struct objstore_object o;
	struct objstore_attrs a = { .content_type = "text/html", .cache_control = "max-age=60" };
	struct err e = ERR_INIT;
	char etag[48], *body;
	int fd;

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "site", "eu-west-1", &e), OBJSTORE_OK);
	assert_int_equal(objstore_bucket_create(s, "site", NULL, &e), OBJSTORE_BUCKET_EXISTS);
	assert_int_equal(objstore_bucket_create(s, "Bad_Name", NULL, &e),
		OBJSTORE_INVALID_BUCKET_NAME);
	put_string(s, "site", "index.html", "hello", &a, etag);
	assert_string_equal(etag, "5d41402abc4b2a76b9719d911017c592");
	assert_int_equal(objstore_get(s, "site", "index.html", &o, &fd, &e), OBJSTORE_OK);
	assert_string_equal(o.etag, etag);
	assert_string_equal(o.content_type, "text/html");
	assert_string_equal(o.cache_control, "max-age=60");
	assert_int_equal(o.size, 5);
	body = read_fd(fd);
	assert_string_equal(body, "hello");
	free(body);
	objstore_object_release(&o);
	assert_int_equal(objstore_get(s, "site", "missing", &o, NULL, &e), OBJSTORE_NO_SUCH_KEY);
	assert_int_equal(objstore_get(s, "nobucket", "k", &o, NULL, &e), OBJSTORE_NO_SUCH_BUCKET);
	objstore_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_overwrite_keeps_open_reader_and_frees_old_file(void **state)
{
	char *dir = tmpdir_new(), *data = xasprintf("%s/data", dir), *body;
	struct objstore *s = NULL;
	struct objstore_object o;
	struct err e = ERR_INIT;
	char etag[48];
	int fd;

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "b12", NULL, &e), OBJSTORE_OK);
	put_string(s, "b12", "k", "old", NULL, etag);
	assert_int_equal(objstore_get(s, "b12", "k", &o, &fd, &e), OBJSTORE_OK);
	objstore_object_release(&o);
	put_string(s, "b12", "k", "new", NULL, etag);
	body = read_fd(fd);
	assert_string_equal(body, "old");
	free(body);
	assert_int_equal(count_files(data), 1);
	assert_int_equal(objstore_delete(s, "b12", "k", &e), OBJSTORE_OK);
	assert_int_equal(objstore_delete(s, "b12", "k", &e), OBJSTORE_OK);
	assert_int_equal(count_files(data), 0);
	objstore_close(s);
	rm_rf(dir);
	free(dir);
	free(data);
}

static void test_traversal_key_stays_inside_the_store(void **state)
{
	char *dir = tmpdir_new(), *outside = xasprintf("%s/../etc", dir);
	struct objstore *s = NULL;
	struct objstore_object o;
	struct err e = ERR_INIT;
	char etag[48];
	struct stat st;

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "b12", NULL, &e), OBJSTORE_OK);
	put_string(s, "b12", "../../etc/passwd", "x", NULL, etag);
	put_string(s, "b12", "/abs", "y", NULL, etag);
	assert_int_equal(objstore_get(s, "b12", "../../etc/passwd", &o, NULL, &e), OBJSTORE_OK);
	assert_non_null(strstr(o.path, dir));
	assert_null(strstr(o.path, ".."));
	objstore_object_release(&o);
	assert_int_not_equal(stat(outside, &st), 0);
	objstore_close(s);
	rm_rf(dir);
	free(dir);
	free(outside);
}

static void list_keys(struct objstore *s, const struct objstore_list_params *p, struct buf *out,
	char **marker)
{
	struct objstore_list l;
	struct err e = ERR_INIT;

	assert_int_equal(objstore_list(s, "lb1", p, &l, &e), OBJSTORE_OK);
	for (size_t i = 0; i < l.n_objects; i++)
		buf_appendf(out, "%s,", l.objects[i].key);
	for (size_t i = 0; i < l.n_prefixes; i++)
		buf_appendf(out, "[%s],", l.prefixes[i]);
	*marker = l.next_marker ? xstrdup(l.next_marker) : NULL;
	assert_int_equal(l.truncated, *marker != NULL);
	objstore_list_release(&l);
}

static void test_list_orders_bytewise_groups_and_pages(void **state)
{
	static const char *const keys[] = { "b", "a/1", "a/2", "a/b/3", "c/x", "A", "a", "é", "c/y" };
	char *dir = tmpdir_new(), *marker = NULL;
	struct objstore *s = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT;
	char etag[48];

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "lb1", NULL, &e), OBJSTORE_OK);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		put_string(s, "lb1", keys[i], "v", NULL, etag);

	buf_init(&out);
	list_keys(s, &(struct objstore_list_params){ .max_keys = 1000 }, &out, &marker);
	assert_string_equal(buf_str(&out), "A,a,a/1,a/2,a/b/3,b,c/x,c/y,é,");
	assert_null(marker);

	buf_reset(&out);
	list_keys(s, &(struct objstore_list_params){ .delimiter = "/", .max_keys = 1000 }, &out,
		&marker);
	assert_string_equal(buf_str(&out), "A,a,b,é,[a/],[c/],");

	buf_reset(&out);
	list_keys(s, &(struct objstore_list_params){ .prefix = "a/", .delimiter = "/",
		.max_keys = 1000 }, &out, &marker);
	assert_string_equal(buf_str(&out), "a/1,a/2,[a/b/],");

	/* Paging two at a time through keys and prefixes visits each once. */
	buf_reset(&out);
	do {
		char *prev = marker;

		list_keys(s, &(struct objstore_list_params){ .delimiter = "/", .max_keys = 2,
			.marker = prev }, &out, &marker);
		free(prev);
		buf_appends(&out, "|");
	} while (marker);
	assert_string_equal(buf_str(&out), "A,a,|b,[a/],|é,[c/],|");

	buf_reset(&out);
	list_keys(s, &(struct objstore_list_params){ .start_after = "a/2", .max_keys = 3 }, &out,
		&marker);
	assert_string_equal(buf_str(&out), "a/b/3,b,c/x,");
	assert_non_null(marker);
	free(marker);
	marker = NULL;

	assert_int_equal(objstore_bucket_delete(s, "lb1", &e), OBJSTORE_BUCKET_NOT_EMPTY);
	buf_release(&out);
	objstore_close(s);
	rm_rf(dir);
	free(dir);
}

static void write_part(struct objstore *s, const char *id, int number, size_t size, char fill,
	char *etag)
{
	struct objstore_writer *w = NULL;
	struct err e = ERR_INIT;
	char *data = xmalloc(size);

	memset(data, fill, size);
	assert_int_equal(objstore_writer_open(s, 0, &w, &e), 0);
	assert_int_equal(objstore_writer_write(w, data, size, &e), 0);
	assert_int_equal(objstore_part_put(s, "mp1", "big", id, number, w, etag, &e), OBJSTORE_OK);
	free(data);
}

static void test_multipart_concatenates_parts_with_md5_of_md5s_etag(void **state)
{
	char *dir = tmpdir_new(), *body;
	struct objstore *s = NULL;
	struct objstore_object o;
	struct objstore_part parts[2], *listed = NULL;
	struct err e = ERR_INIT;
	char id[64], etag[48];
	unsigned char md5s[32], sum[16];
	char want[48];
	size_t n;
	int truncated, fd;

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "mp1", NULL, &e), OBJSTORE_OK);
	assert_int_equal(objstore_upload_create(s, "mp1", "big",
		&(struct objstore_attrs){ .content_type = "application/zip" }, id, &e), OBJSTORE_OK);
	memset(parts, 0, sizeof(parts));
	write_part(s, id, 2, 10, 'b', parts[1].etag);
	write_part(s, id, 1, 100, 'x', parts[0].etag);	/* too small unless last */
	parts[0].number = 1;
	parts[1].number = 2;
	assert_int_equal(objstore_upload_complete(s, "mp1", "big", id, parts, 2, etag, &e),
		OBJSTORE_ENTITY_TOO_SMALL);
	write_part(s, id, 1, OBJSTORE_MIN_PART, 'a', parts[0].etag);
	assert_int_equal(objstore_part_list(s, "mp1", "big", id, 0, 1000, &listed, &n, &truncated,
		&e), OBJSTORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(listed[0].size, OBJSTORE_MIN_PART);
	free(listed);

	struct objstore_part swapped[2] = { parts[1], parts[0] };
	assert_int_equal(objstore_upload_complete(s, "mp1", "big", id, swapped, 2, etag, &e),
		OBJSTORE_INVALID_PART_ORDER);
	struct objstore_part wrong[2] = { parts[0], parts[1] };
	wrong[1].etag[0] = wrong[1].etag[0] == '0' ? '1' : '0';
	assert_int_equal(objstore_upload_complete(s, "mp1", "big", id, wrong, 2, etag, &e),
		OBJSTORE_INVALID_PART);

	assert_int_equal(objstore_upload_complete(s, "mp1", "big", id, parts, 2, etag, &e),
		OBJSTORE_OK);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 16; j++) {
			unsigned v;

			sscanf(parts[i].etag + 2 * j, "%2x", &v);
			md5s[16 * i + j] = (unsigned char)v;
		}
	EVP_Digest(md5s, 32, sum, NULL, EVP_md5(), NULL);
	hex_encode(sum, 16, want);
	snprintf(want + 32, 16, "-2");
	assert_string_equal(etag, want);
	assert_int_equal(objstore_get(s, "mp1", "big", &o, &fd, &e), OBJSTORE_OK);
	assert_int_equal(o.size, OBJSTORE_MIN_PART + 10);
	assert_string_equal(o.content_type, "application/zip");
	body = read_fd(fd);
	assert_int_equal(body[0], 'a');
	assert_int_equal(body[OBJSTORE_MIN_PART], 'b');
	free(body);
	objstore_object_release(&o);
	/* The upload is gone and its part files with it. */
	assert_int_equal(objstore_upload_abort(s, "mp1", "big", id, &e), OBJSTORE_NO_SUCH_UPLOAD);
	{
		char *data = xasprintf("%s/data", dir);

		assert_int_equal(count_files(data), 1);
		free(data);
	}
	objstore_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_reopen_removes_crash_leftovers_and_keeps_objects(void **state)
{
	char *dir = tmpdir_new(), *p;
	struct objstore *s = NULL;
	struct objstore_object o;
	struct err e = ERR_INIT;
	char etag[48];
	int fd;

	(void)state;
	assert_int_equal(objstore_open(dir, &s, &e), 0);
	assert_int_equal(objstore_bucket_create(s, "keep", NULL, &e), OBJSTORE_OK);
	put_string(s, "keep", "k", "durable", NULL, etag);
	objstore_close(s);
	/* What a crash mid-upload leaves: a partial temp body and an unreferenced data file. */
	p = xasprintf("%s/tmp/partial", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "part", 4), 4);
	close(fd);
	free(p);
	p = xasprintf("%s/data/ff", dir);
	mkdir(p, 0700);
	free(p);
	p = xasprintf("%s/data/ff/ff00000000000000000000000000000000", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	free(p);

	assert_int_equal(objstore_open(dir, &s, &e), 0);
	p = xasprintf("%s/data", dir);
	assert_int_equal(count_files(p), 1);
	free(p);
	p = xasprintf("%s/tmp", dir);
	assert_int_equal(count_files(p), 0);
	free(p);
	assert_int_equal(objstore_get(s, "keep", "k", &o, &fd, &e), OBJSTORE_OK);
	p = read_fd(fd);
	assert_string_equal(p, "durable");
	free(p);
	objstore_object_release(&o);
	objstore_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_crc_check_values(void **state)
{
	(void)state;
	assert_int_equal(objstore_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(objstore_crc32c(0, "123456789", 9), 0xe3069283u);
	/* Incremental equals one-shot. */
	assert_int_equal(objstore_crc32c(objstore_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static int sink_buf(void *arg, const void *data, size_t len, struct err *e)
{
	(void)e;
	return buf_append(arg, data, len);
}

static void test_chunked_unsigned_trailer_decodes_in_any_split(void **state)
{
	static const char body[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n"
		"x-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
	struct err e = ERR_INIT;

	(void)state;
	for (size_t step = 1; step <= sizeof(body); step++) {
		struct s3_chunked c;
		struct buf out = BUF_INIT;
		char v[64];

		buf_init(&out);
		s3_chunked_init(&c, NULL);
		for (size_t i = 0; i < sizeof(body) - 1; i += step) {
			size_t n = sizeof(body) - 1 - i < step ? sizeof(body) - 1 - i : step;

			assert_int_equal(s3_chunked_feed(&c, body + i, n, sink_buf, &out, &e), 0);
		}
		assert_int_equal(s3_chunked_finish(&c, &e), 0);
		assert_string_equal(buf_str(&out), "hello world");
		assert_string_equal(s3_chunked_trailer(&c, "x-amz-checksum-crc32", v, sizeof(v)),
			"DUoRhQ==");
		s3_chunked_release(&c);
		buf_release(&out);
	}
}

static void test_chunked_rejects_bad_framing(void **state)
{
	static const char *const bad[] = {
		"zz\r\nab\r\n0\r\n\r\n",	/* not hex */
		"2\r\nabc\r\n0\r\n\r\n",	/* longer than its size */
		"5\r\nab",			/* truncated */
		"2;foo=bar\r\nab\r\n0\r\n\r\n",	/* unknown extension */
	};
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct s3_chunked c;
		struct buf out = BUF_INIT;
		int rc;

		buf_init(&out);
		s3_chunked_init(&c, NULL);
		rc = s3_chunked_feed(&c, bad[i], strlen(bad[i]), sink_buf, &out, &e);
		if (rc == 0)
			rc = s3_chunked_finish(&c, &e);
		assert_int_equal(rc, -1);
		s3_chunked_release(&c);
		buf_release(&out);
	}
}

/* The example of AWS's "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks". */
static void test_chunked_signatures_match_aws_example(void **state)
{
	struct s3_chunk_signing sig;
	struct s3_chunked c;
	struct buf out = BUF_INIT, body = BUF_INIT;
	struct err e = ERR_INIT;
	char *a = xmalloc(65536);

	(void)state;
	memset(a, 'a', 65536);
	memset(&sig, 0, sizeof(sig));
	s3_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3",
		sig.key);
	snprintf(sig.amz_date, sizeof(sig.amz_date), "20130524T000000Z");
	snprintf(sig.scope, sizeof(sig.scope), "20130524/us-east-1/s3/aws4_request");
	snprintf(sig.seed_signature, sizeof(sig.seed_signature),
		"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
	buf_init(&out);
	buf_init(&body);
	buf_appends(&body, "10000;chunk-signature="
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
	buf_append(&body, a, 65536);
	buf_appends(&body, "\r\n400;chunk-signature="
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
	buf_append(&body, a, 1024);
	buf_appends(&body, "\r\n0;chunk-signature="
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
	s3_chunked_init(&c, &sig);
	assert_int_equal(s3_chunked_feed(&c, body.data, body.len, sink_buf, &out, &e), 0);
	assert_int_equal(s3_chunked_finish(&c, &e), 0);
	assert_int_equal(out.len, 66560);
	s3_chunked_release(&c);

	/* One byte changed in the data: the chunk's signature no longer matches. */
	body.data[200] = 'b';
	buf_reset(&out);
	s3_chunked_init(&c, &sig);
	assert_int_equal(s3_chunked_feed(&c, body.data, body.len, sink_buf, &out, &e), -1);
	assert_non_null(strstr(e.msg, "signature"));
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);
	free(a);
}

static void test_xml_bodies_parse_and_malformed_fail(void **state)
{
	static const char del[] = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Object><Key>a&amp;b</Key></Object><Object><Key>c</Key></Object>"
		"<Quiet>true</Quiet></Delete>";
	static const char comp[] = "<CompleteMultipartUpload><Part><ETag>\"e1\"</ETag>"
		"<PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber>"
		"<ETag>e2</ETag></Part></CompleteMultipartUpload>";
	static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
		"\"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object></Delete>";
	struct s3_delete_request d;
	struct s3_complete_request c;
	struct err e = ERR_INIT;
	char *loc = NULL;

	(void)state;
	assert_int_equal(s3_parse_delete(del, strlen(del), &d, &e), 0);
	assert_int_equal(d.n_keys, 2);
	assert_string_equal(d.keys[0], "a&b");
	assert_true(d.quiet);
	s3_delete_request_release(&d);
	assert_int_equal(s3_parse_complete(comp, strlen(comp), &c, &e), 0);
	assert_int_equal(c.n_parts, 2);
	assert_string_equal(c.parts[0].etag, "\"e1\"");
	assert_int_equal(c.parts[1].number, 2);
	s3_complete_request_release(&c);
	assert_int_equal(s3_parse_delete("<Delete><Object>", 16, &d, &e), -1);
	assert_int_equal(s3_parse_delete("<Other/>", 8, &d, &e), -1);
	static const char badnum[] = "<CompleteMultipartUpload><Part><PartNumber>x"
		"</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>";
	assert_int_equal(s3_parse_complete(badnum, strlen(badnum), &c, &e), -1);
	/* External entities are never fetched: the key does not hold the file. */
	if (s3_parse_delete(xxe, strlen(xxe), &d, &e) == 0) {
		assert_null(strstr(d.keys[0], "root:"));
		s3_delete_request_release(&d);
	}
	static const char cb[] = "<CreateBucketConfiguration><LocationConstraint>eu-west-1"
		"</LocationConstraint></CreateBucketConfiguration>";
	assert_int_equal(s3_parse_create_bucket(cb, strlen(cb), &loc, &e), 0);
	assert_string_equal(loc, "eu-west-1");
	free(loc);
}

static void test_checksum_values_are_base64_big_endian(void **state)
{
	struct objstore_digests d;
	char out[64];
	unsigned char raw[8];

	(void)state;
	memset(&d, 0, sizeof(d));
	d.crc32 = objstore_crc32(0, "hello world", 11);
	s3_checksum_value(OBJSTORE_CK_CRC32, &d, out);
	assert_string_equal(out, "DUoRhQ==");
	assert_int_equal(s3_unbase64("DUoRhQ==", raw, sizeof(raw)), 4);
	assert_int_equal(raw[0], 0x0d);
	assert_int_equal(s3_unbase64("!!!!", raw, sizeof(raw)), -1);
	assert_int_equal(s3_checksum_flag("X-Amz-Checksum-Sha256"), OBJSTORE_CK_SHA256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_returns_body_md5_etag_and_attributes),
		cmocka_unit_test(test_overwrite_keeps_open_reader_and_frees_old_file),
		cmocka_unit_test(test_traversal_key_stays_inside_the_store),
		cmocka_unit_test(test_list_orders_bytewise_groups_and_pages),
		cmocka_unit_test(test_multipart_concatenates_parts_with_md5_of_md5s_etag),
		cmocka_unit_test(test_reopen_removes_crash_leftovers_and_keeps_objects),
		cmocka_unit_test(test_crc_check_values),
		cmocka_unit_test(test_chunked_unsigned_trailer_decodes_in_any_split),
		cmocka_unit_test(test_chunked_rejects_bad_framing),
		cmocka_unit_test(test_chunked_signatures_match_aws_example),
		cmocka_unit_test(test_xml_bodies_parse_and_malformed_fail),
		cmocka_unit_test(test_checksum_values_are_base64_big_endian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
