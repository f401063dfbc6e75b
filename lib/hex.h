/*
 * hex.h: bytes as lower-case hexadecimal (digests, ETags, random ids).
 */
#ifndef CALIBER_HEX_H
#define CALIBER_HEX_H

#include <stddef.h>

/* The n bytes at in as 2n hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
