/*
 * wire.h: MongoDB wire protocol messages, parsed from and written to bytes.
 *
 * Requests are OP_MSG (section kinds 0 and 1, the checksum flag) and the
 * legacy OP_QUERY on <db>.$cmd that drivers use for the first handshake.
 * A kind-1 document sequence is folded into the command as an array under
 * its identifier, so handlers see one document, as the server does.
 *
 * Ownership: wire_parse() fills a struct wire_msg whose cmd the caller
 * frees with wire_msg_release().  Replies are appended to a caller's
 * struct buf.
 */
#ifndef CALIBER_DOCDB_WIRE_H
#define CALIBER_DOCDB_WIRE_H

#include <bson/bson.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define WIRE_OP_REPLY 1
#define WIRE_OP_QUERY 2004
#define WIRE_OP_MSG 2013
#define WIRE_HEADER_LEN 16

#define WIRE_FLAG_CHECKSUM 0x1u
#define WIRE_FLAG_MORE_TO_COME 0x2u

struct wire_msg {
	int32_t request_id;
	int32_t opcode;
	uint32_t flags;		/* OP_MSG flag bits */
	bson_t *cmd;		/* the command document (owned) */
	char db[128];		/* $db (OP_MSG) or the namespace's database (OP_QUERY) */
};

/* The length a header announces, or -1 when it is outside [16, max]. */
int32_t wire_frame_len(const uint8_t hdr[WIRE_HEADER_LEN], int32_t max);

/* Parse one whole message (header included). */
int wire_parse(const uint8_t *msg, size_t len, struct wire_msg *out, struct err *e);
void wire_msg_release(struct wire_msg *m);

/* Append the reply to req carrying doc, in the form req's opcode needs. */
void wire_reply(struct buf *out, const struct wire_msg *req, int32_t reply_id, const bson_t *doc);

/* CRC-32C (Castagnoli), the OP_MSG checksum. */
uint32_t wire_crc32c(const uint8_t *p, size_t n);

#endif
