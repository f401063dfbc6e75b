/*
 * crypt.h: encryption at rest of the values services keep (secret values).
 *
 * AES-256-GCM with a 32-byte master key kept in <home>/master.key (mode
 * 0600, created at first start; only caliberd's user can read it).  A
 * sealed value is nonce (12 bytes) | ciphertext | tag (16 bytes); the
 * associated data binds it to where it is stored (secret ARN and version),
 * so a value copied to another row does not open.
 */
#ifndef CALIBER_LC_CRYPT_H
#define CALIBER_LC_CRYPT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define CRYPT_KEY_LEN 32
#define CRYPT_OVERHEAD (12 + 16)

/* Read the key at path, creating it (0600) when absent. */
int crypt_key_load(const char *path, unsigned char key[CRYPT_KEY_LEN], struct err *e);

/* Append the sealed form of plain to out. */
int crypt_seal(const unsigned char key[CRYPT_KEY_LEN], const void *plain, size_t len,
	const char *aad, struct buf *out, struct err *e);
/* Append the opened form of sealed to out (wipe it with buf_release_secret). */
int crypt_open(const unsigned char key[CRYPT_KEY_LEN], const void *sealed, size_t len,
	const char *aad, struct buf *out, struct err *e);

#endif
