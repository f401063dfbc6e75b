/*
 * crypt.c: AES-256-GCM sealing of values at rest, with OpenSSL's EVP API.
 */
#include "compat.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypt.h"

int crypt_key_load(const char *path, unsigned char key[CRYPT_KEY_LEN], struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (RAND_bytes(key, CRYPT_KEY_LEN) != 1)
			return err_set(e, "unable to generate the master key");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(e, "unable to create '%s': %s", path, strerror(errno));
		n = write(fd, key, CRYPT_KEY_LEN);
		if (n != CRYPT_KEY_LEN || fsync(fd) < 0) {
			close(fd);
			unlink(path);
			return err_set(e, "unable to write '%s'", path);
		}
		close(fd);
		return 0;
	}
	if (fd < 0)
		return err_set(e, "unable to open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return err_set(e, "'%s' must be readable only by its owner (chmod 600)", path);
	}
	n = read(fd, key, CRYPT_KEY_LEN);
	close(fd);
	if (n != CRYPT_KEY_LEN)
		return err_set(e, "'%s' is not a %d-byte key", path, CRYPT_KEY_LEN);
	return 0;
}

int crypt_seal(const unsigned char key[CRYPT_KEY_LEN], const void *plain, size_t len,
	const char *aad, struct buf *out, struct err *e)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char nonce[12], tag[16];
	unsigned char *ct = NULL;
	int n = 0, fin = 0, ret = -1;

	if (len > (size_t)INT32_MAX)
		return err_set(e, "value too large to seal");
	ct = xmalloc(len + 16);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto fail;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto fail;
	if (aad != NULL && EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad,
				   (int)strlen(aad)) != 1)
		goto fail;
	if (EVP_EncryptUpdate(c, ct, &n, plain, (int)len) != 1 ||
		EVP_EncryptFinal_ex(c, ct + n, &fin) != 1 ||
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) != 1)
		goto fail;
	buf_append(out, nonce, sizeof(nonce));
	buf_append(out, ct, (size_t)(n + fin));
	buf_append(out, tag, sizeof(tag));
	ret = 0;
	goto out;
fail:
	err_set(e, "unable to seal a value");
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(ct, len + 16);
	free(ct);
	return ret;
}

int crypt_open(const unsigned char key[CRYPT_KEY_LEN], const void *sealed, size_t len,
	const char *aad, struct buf *out, struct err *e)
{
	const unsigned char *s = sealed;
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *pt = NULL;
	size_t ct_len;
	int n = 0, fin = 0, ret = -1;

	if (len < CRYPT_OVERHEAD)
		return err_set(e, "sealed value too short");
	ct_len = len - CRYPT_OVERHEAD;
	pt = xmalloc(ct_len + 16);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, s) != 1)
		goto fail;
	if (aad != NULL && EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad,
				   (int)strlen(aad)) != 1)
		goto fail;
	if (EVP_DecryptUpdate(c, pt, &n, s + 12, (int)ct_len) != 1 ||
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(s + 12 + ct_len)) != 1 ||
		EVP_DecryptFinal_ex(c, pt + n, &fin) != 1)
		goto fail;
	buf_append(out, pt, (size_t)(n + fin));
	ret = 0;
	goto out;
fail:
	err_set(e, "unable to open a sealed value (wrong master key or damaged data)");
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(pt, ct_len + 16);
	free(pt);
	return ret;
}
