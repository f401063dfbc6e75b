/*
 * buf.h: a growable, always NUL-terminated byte buffer (after git's strbuf
 * and curl's dynbuf).
 *
 * A struct buf owns its data.  buf_release() frees it and leaves an empty
 * buffer; buf_detach() hands the data to the caller, who frees it.  Every
 * buffer fed from the network is given a cap with buf_set_cap(): appends
 * that would exceed it fail with -1 and leave the buffer unchanged.
 * Allocation failure aborts (as git's xmalloc does).
 */
#ifndef CALIBER_BUF_H
#define CALIBER_BUF_H

#include <stddef.h>

struct buf {
	char *data;		/* never NULL after buf_init: "" when empty */
	size_t len;
	size_t cap;		/* allocated bytes */
	size_t max;		/* 0: unlimited */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b);
void buf_set_cap(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_appendc(struct buf *b, char c);
void buf_reset(struct buf *b);
/* Wipe the contents (for buffers that held secrets) and free. */
void buf_release_secret(struct buf *b);
void buf_release(struct buf *b);
char *buf_detach(struct buf *b);
/* The data, "" for a buffer never appended to. */
const char *buf_str(const struct buf *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
