/*
 * fuzz-docdb-wire: caliber-docdb's wire parser (localcloud/docdb/wire.c)
 * on arbitrary messages.  The input's first four bytes are overwritten with
 * its length, as the server reads exactly the announced frame, so the
 * fuzzer spends its time inside the sections and documents; every message
 * that parses is answered, exercising the reply writer too.
 */
#include "compat.h"

#include <bson/bson.h>

#include "buf.h"
#include "docdb/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	struct err e = ERR_INIT;
	uint8_t *msg;
	bson_t doc = BSON_INITIALIZER;
	struct buf out = BUF_INIT;

	if (size < WIRE_HEADER_LEN || size > 1 << 20)
		return 0;
	msg = xmalloc(size);
	memcpy(msg, data, size);
	msg[0] = size & 0xff;
	msg[1] = (size >> 8) & 0xff;
	msg[2] = (size >> 16) & 0xff;
	msg[3] = 0;
	(void)wire_frame_len(msg, 48 * 1000 * 1000);
	if (wire_parse(msg, size, &m, &e) == 0) {
		BSON_APPEND_INT32(&doc, "ok", 1);
		buf_init(&out);
		wire_reply(&out, &m, 1, &doc);
		buf_release(&out);
		wire_msg_release(&m);
	}
	bson_destroy(&doc);
	free(msg);
	return 0;
}
