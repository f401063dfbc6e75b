/*
 * fuzz-s3.c: libFuzzer target for what caliberd's S3 parses from clients
 * (localcloud/s3/wire.c): aws-chunked bodies, unsigned and signed, fed in
 * pieces of every size; the DeleteObjects, CompleteMultipartUpload and
 * CreateBucketConfiguration XML bodies; Content-MD5 / checksum base64.
 * The first byte picks the parser and the split size.
 */
#include "compat.h"

#include "s3/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink_count(void *arg, const void *p, size_t len, struct err *e)
{
	(void)p;
	(void)e;
	*(uint64_t *)arg += len;
	return 0;
}

static void chunked(const char *in, size_t n, size_t step, int signed_chunks)
{
	struct s3_chunk_signing sig;
	struct s3_chunked c;
	struct err e = ERR_INIT;
	uint64_t total = 0;
	char v[128];
	size_t i;

	memset(&sig, 0, sizeof(sig));
	s3_signing_key("secret", "20260101", "us-east-1", "s3", sig.key);
	snprintf(sig.amz_date, sizeof(sig.amz_date), "20260101T000000Z");
	snprintf(sig.scope, sizeof(sig.scope), "20260101/us-east-1/s3/aws4_request");
	memset(sig.seed_signature, 'a', 64);
	s3_chunked_init(&c, signed_chunks ? &sig : NULL);
	for (i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;

		if (s3_chunked_feed(&c, in + i, k, sink_count, &total, &e) < 0)
			break;
	}
	if (i >= n && s3_chunked_finish(&c, &e) == 0) {
		if (total != c.decoded)
			abort();
		s3_chunked_trailer(&c, "x-amz-checksum-crc32", v, sizeof(v));
	}
	s3_chunked_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct err e = ERR_INIT;

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
	case 1:
		chunked(in, n, 1 + (data[0] >> 3), data[0] % 6 == 1);
		break;
	case 2: {
		struct s3_delete_request d;

		if (s3_parse_delete(in, n, &d, &e) == 0)
			s3_delete_request_release(&d);
		break;
	}
	case 3: {
		struct s3_complete_request c;

		if (s3_parse_complete(in, n, &c, &e) == 0)
			s3_complete_request_release(&c);
		break;
	}
	case 4: {
		char *loc = NULL;

		s3_parse_create_bucket(in, n, &loc, &e);
		free(loc);
		break;
	}
	default: {
		char *text = xstrndup(in, n);
		unsigned char out[64];
		struct buf b = BUF_INIT;

		s3_unbase64(text, out, sizeof(out));
		buf_init(&b);
		s3_url_encode(&b, text);
		buf_release(&b);
		free(text);
		break;
	}
	}
	return 0;
}
