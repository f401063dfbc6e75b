/*
 * wire.c: framing and parsing of MongoDB wire messages.  Every length
 * comes from the peer, so each is checked against what is left of the
 * message before it is used; nothing is allocated from a length that has
 * not been checked against the frame already read.
 */
#include "compat.h"

#include "wire.h"

static int32_t rd_i32(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (int32_t)v;
}

static void put_i32(struct buf *b, int32_t v)
{
	uint8_t p[4];
	uint32_t u = (uint32_t)v;

	p[0] = u & 0xff;
	p[1] = (u >> 8) & 0xff;
	p[2] = (u >> 16) & 0xff;
	p[3] = (u >> 24) & 0xff;
	buf_append(b, p, 4);
}

int32_t wire_frame_len(const uint8_t hdr[WIRE_HEADER_LEN], int32_t max)
{
	int32_t n = rd_i32(hdr);

	if (n < WIRE_HEADER_LEN || n > max)
		return -1;
	return n;
}

uint32_t wire_crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* A BSON document at p with at most left bytes: its length, or -1. */
static int32_t doc_len(const uint8_t *p, size_t left)
{
	int32_t n;

	if (left < 5)
		return -1;
	n = rd_i32(p);
	if (n < 5 || (size_t)n > left || p[n - 1] != 0)
		return -1;
	return n;
}

/* A NUL-terminated string at p within left bytes: its length, or -1. */
static ssize_t cstr_len(const uint8_t *p, size_t left)
{
	const uint8_t *z = memchr(p, 0, left);

	return z == NULL ? -1 : z - p;
}

static int set_db(struct wire_msg *m, const char *db, size_t n, struct err *e)
{
	if (n == 0 || n >= sizeof(m->db))
		return err_set(e, "database name of %zu bytes; give 1 to %zu", n, sizeof(m->db) - 1);
	memcpy(m->db, db, n);
	m->db[n] = 0;
	return 0;
}

/* Append a kind-1 section (identifier + documents) to cmd as an array. */
static int add_sequence(bson_t *cmd, const uint8_t *p, size_t n, struct err *e)
{
	ssize_t idlen = cstr_len(p, n);
	bson_t arr;
	size_t off;
	unsigned idx = 0;

	if (idlen <= 0)
		return err_set(e, "document sequence without an identifier");
	off = (size_t)idlen + 1;
	if (!bson_append_array_begin(cmd, (const char *)p, (int)idlen, &arr))
		return err_set(e, "document sequence '%s' too large", (const char *)p);
	while (off < n) {
		int32_t dl = doc_len(p + off, n - off);
		bson_t d;
		char key[16];
		const char *k;

		if (dl < 0 || !bson_init_static(&d, p + off, (size_t)dl) || !bson_validate(&d, BSON_VALIDATE_NONE, NULL)) {
			bson_append_array_end(cmd, &arr);
			return err_set(e, "malformed document %u in sequence '%s'", idx, (const char *)p);
		}
		bson_uint32_to_string(idx++, &k, key, sizeof(key));
		if (!bson_append_document(&arr, k, -1, &d)) {
			bson_append_array_end(cmd, &arr);
			return err_set(e, "document sequence '%s' too large", (const char *)p);
		}
		off += (size_t)dl;
	}
	bson_append_array_end(cmd, &arr);
	return 0;
}

static int parse_msg(const uint8_t *p, size_t n, struct wire_msg *m, struct err *e)
{
	const uint8_t *body = NULL;
	size_t off = 4;
	bson_t b;
	bson_iter_t it;

	if (n < 4)
		return err_set(e, "OP_MSG without flags");
	m->flags = (uint32_t)rd_i32(p);
	if (m->flags & 0xfffcu)
		return err_set(e, "OP_MSG flags 0x%x hold required bits this server does not know", m->flags);
	if (m->flags & WIRE_FLAG_CHECKSUM) {
		if (n < 8)
			return err_set(e, "OP_MSG checksum flag without a checksum");
		n -= 4;		/* the checksum, verified by the caller over the whole frame */
	}
	m->cmd = bson_new();
	/* first the body (kind 0), wherever it stands, then the sequences */
	while (off < n) {
		uint8_t kind = p[off++];

		if (kind == 0) {
			int32_t dl = doc_len(p + off, n - off);

			if (dl < 0)
				return err_set(e, "malformed OP_MSG body");
			if (body != NULL)
				return err_set(e, "OP_MSG with two body sections");
			body = p + off;
			if (!bson_init_static(&b, body, (size_t)dl) || !bson_validate(&b, BSON_VALIDATE_NONE, NULL))
				return err_set(e, "malformed OP_MSG body");
			bson_concat(m->cmd, &b);
			off += (size_t)dl;
		} else if (kind == 1) {
			int32_t sl;

			if (n - off < 4)
				return err_set(e, "truncated document sequence");
			sl = rd_i32(p + off);
			if (sl < 5 || (size_t)sl > n - off)
				return err_set(e, "document sequence of %d bytes in %zu", sl, n - off);
			off += (size_t)sl;
		} else {
			return err_set(e, "OP_MSG section kind %u is unknown", kind);
		}
	}
	if (body == NULL)
		return err_set(e, "OP_MSG without a body section");
	/* second pass: sequences after the body fields */
	off = 4;
	while (off < n) {
		uint8_t kind = p[off++];

		if (kind == 0) {
			off += (size_t)rd_i32(p + off);
		} else {
			int32_t sl = rd_i32(p + off);

			if (add_sequence(m->cmd, p + off + 4, (size_t)sl - 4, e) < 0)
				return -1;
			off += (size_t)sl;
		}
	}
	if (!bson_iter_init_find(&it, m->cmd, "$db") || !BSON_ITER_HOLDS_UTF8(&it))
		return err_set(e, "OP_MSG command without a $db string");
	{
		uint32_t dl;
		const char *db = bson_iter_utf8(&it, &dl);

		return set_db(m, db, dl, e);
	}
}

static int parse_query(const uint8_t *p, size_t n, struct wire_msg *m, struct err *e)
{
	ssize_t nslen;
	size_t off;
	int32_t dl;
	const char *ns, *dot;
	bson_t q;
	bson_iter_t it;

	if (n < 4)
		return err_set(e, "OP_QUERY without flags");
	nslen = cstr_len(p + 4, n - 4);
	if (nslen < 0)
		return err_set(e, "OP_QUERY without a namespace");
	ns = (const char *)p + 4;
	dot = strchr(ns, '.');
	if (dot == NULL || strcmp(dot, ".$cmd") != 0)
		return err_set(e, "OP_QUERY on '%s': only <db>.$cmd commands are served; use OP_MSG", ns);
	off = 4 + (size_t)nslen + 1 + 8;	/* numberToSkip, numberToReturn */
	if (off > n)
		return err_set(e, "truncated OP_QUERY");
	dl = doc_len(p + off, n - off);
	if (dl < 0 || !bson_init_static(&q, p + off, (size_t)dl) || !bson_validate(&q, BSON_VALIDATE_NONE, NULL))
		return err_set(e, "malformed OP_QUERY document");
	m->cmd = bson_new();
	/* drivers may wrap the command as {$query: {...}, $readPreference: ...} */
	if (bson_iter_init_find(&it, &q, "$query") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t inner;

		bson_iter_document(&it, &len, &data);
		if (!bson_init_static(&inner, data, len))
			return err_set(e, "malformed $query");
		bson_concat(m->cmd, &inner);
	} else {
		bson_concat(m->cmd, &q);
	}
	return set_db(m, ns, (size_t)(dot - ns), e);
}

int wire_parse(const uint8_t *msg, size_t len, struct wire_msg *out, struct err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < WIRE_HEADER_LEN || (size_t)rd_i32(msg) != len)
		return err_set(e, "message length does not match its header");
	out->request_id = rd_i32(msg + 4);
	out->opcode = rd_i32(msg + 12);
	if (out->opcode == WIRE_OP_MSG)
		rc = parse_msg(msg + WIRE_HEADER_LEN, len - WIRE_HEADER_LEN, out, e);
	else if (out->opcode == WIRE_OP_QUERY)
		rc = parse_query(msg + WIRE_HEADER_LEN, len - WIRE_HEADER_LEN, out, e);
	else
		rc = err_set(e, "opcode %d is not served; use OP_MSG", out->opcode);
	if (rc == 0 && out->opcode == WIRE_OP_MSG && (out->flags & WIRE_FLAG_CHECKSUM)) {
		uint32_t want = (uint32_t)rd_i32(msg + len - 4);

		if (wire_crc32c(msg, len - 4) != want)
			rc = err_set(e, "OP_MSG checksum mismatch");
	}
	if (rc < 0)
		wire_msg_release(out);
	return rc;
}

void wire_msg_release(struct wire_msg *m)
{
	if (m->cmd != NULL)
		bson_destroy(m->cmd);
	m->cmd = NULL;
}

void wire_reply(struct buf *out, const struct wire_msg *req, int32_t reply_id, const bson_t *doc)
{
	size_t start = out->len;
	int32_t total;

	put_i32(out, 0);	/* length, patched below */
	put_i32(out, reply_id);
	put_i32(out, req->request_id);
	if (req->opcode == WIRE_OP_QUERY) {
		put_i32(out, WIRE_OP_REPLY);
		put_i32(out, 8);	/* responseFlags: AwaitCapable */
		put_i32(out, 0);	/* cursorID (8 bytes) */
		put_i32(out, 0);
		put_i32(out, 0);	/* startingFrom */
		put_i32(out, 1);	/* numberReturned */
	} else {
		put_i32(out, WIRE_OP_MSG);
		put_i32(out, 0);	/* flags */
		buf_appendc(out, 0);	/* section kind 0 */
	}
	buf_append(out, bson_get_data(doc), doc->len);
	total = (int32_t)(out->len - start);
	out->data[start] = (char)(total & 0xff);
	out->data[start + 1] = (char)((total >> 8) & 0xff);
	out->data[start + 2] = (char)((total >> 16) & 0xff);
	out->data[start + 3] = (char)((total >> 24) & 0xff);
}
