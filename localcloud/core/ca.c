/*
 * ca.c: the local certificate authority (see ca.h), with OpenSSL's EVP and
 * X509 APIs: a P-256 CA valid for ten years and P-256 leaves valid for
 * 397 days (the longest lifetime browsers accept).
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "ca.h"
#include "fsutil.h"

struct ca {
	char *dir;
	char *key_path;
	char *cert_path;
	EVP_PKEY *key;
	X509 *cert;
};

static EVP_PKEY *key_new(void)
{
	return EVP_EC_gen("P-256");
}

static int set_serial(X509 *x)
{
	unsigned char r[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[0] &= 0x7f;	/* positive */
	bn = BN_bin2bn(r, sizeof(r), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* PEM of a key or certificate into a string the caller frees. */
static char *pem_string(EVP_PKEY *key, X509 *cert, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (key && !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	if (cert && !PEM_write_bio_X509(bio, cert))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	*len = (size_t)n;
out:
	BIO_free(bio);
	return out;
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, X509 *chain, mode_t mode,
	struct err *e)
{
	size_t n = 0, m = 0;
	char *a = pem_string(key, cert, &n), *b = NULL;
	struct buf all = BUF_INIT;
	int rc = -1;

	if (a == NULL)
		return err_set(e, "unable to encode '%s'", path);
	buf_init(&all);
	buf_append(&all, a, n);
	if (chain) {
		b = pem_string(NULL, chain, &m);
		if (b == NULL) {
			err_set(e, "unable to encode '%s'", path);
			goto out;
		}
		buf_append(&all, b, m);
	}
	rc = fsutil_write_atomic(path, all.data, all.len, mode, e);
out:
	if (key)
		buf_release_secret(&all);
	else
		buf_release(&all);
	if (a && key)
		OPENSSL_cleanse(a, n);
	free(a);
	free(b);
	return rc;
}

static X509 *cert_new(EVP_PKEY *key, const char *cn, long days)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	if (set_serial(x) < 0)
		goto fail;
	/* An hour back, for clocks a little behind. */
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 24 * 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		(const unsigned char *)"Caliber local cloud", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	return x;
fail:
	X509_free(x);
	return NULL;
}

static int ca_create(struct ca *ca, struct err *e)
{
	X509 *x = NULL;
	EVP_PKEY *key = key_new();
	int rc = -1;

	if (key == NULL)
		return err_set(e, "unable to generate the ca key");
	x = cert_new(key, "Caliber local CA", 3650);
	if (x == NULL || !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
			add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
			add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
			add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
			!X509_sign(x, key, EVP_sha256())) {
		err_set(e, "unable to make the ca certificate");
		goto out;
	}
	if (write_pem(ca->key_path, key, NULL, NULL, 0600, e) < 0 ||
			write_pem(ca->cert_path, NULL, x, NULL, 0644, e) < 0)
		goto out;
	ca->key = key;
	ca->cert = x;
	key = NULL;
	x = NULL;
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

static int ca_load(struct ca *ca, struct err *e)
{
	FILE *f = fopen(ca->key_path, "re");

	if (f == NULL)
		return err_set(e, "unable to open '%s': %s", ca->key_path, strerror(errno));
	ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(ca->cert_path, "re");
	if (f == NULL)
		return err_set(e, "unable to open '%s': %s", ca->cert_path, strerror(errno));
	ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (ca->key == NULL || ca->cert == NULL || X509_check_private_key(ca->cert, ca->key) != 1)
		return err_set(e, "the ca in '%s' is unreadable or its key does not match; "
			"remove the directory to make a new one", ca->dir);
	return 0;
}

int ca_open(const char *dir, struct ca **out, struct err *e)
{
	struct ca *ca = xcalloc(1, sizeof(*ca));
	int rc = -1;

	ca->dir = xstrdup(dir);
	ca->key_path = xasprintf("%s/ca.key", dir);
	ca->cert_path = xasprintf("%s/ca.pem", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(e, "unable to create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (access(ca->key_path, F_OK) == 0)
		rc = ca_load(ca, e);
	else
		rc = ca_create(ca, e);
out:
	if (rc < 0) {
		ca_close(ca);
		ca = NULL;
	}
	*out = ca;
	return rc;
}

void ca_close(struct ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->dir);
	free(ca->key_path);
	free(ca->cert_path);
	free(ca);
}

const char *ca_bundle_path(const struct ca *ca)
{
	return ca->cert_path;
}

static int dns_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		/* '_': Route 53 names may have it ("_x.example.com"), and the edge serves them */
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '.' || *s == '*' ||
				*s == '_'))
			return 0;
	return 1;
}

int ca_issue(struct ca *ca, const char *const *names, size_t n, const char *cert_path,
	const char *key_path, struct err *e)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	struct buf san = BUF_INIT;
	int rc = -1;

	if (n == 0)
		return err_set(e, "a certificate needs at least one name");
	buf_init(&san);
	for (size_t i = 0; i < n; i++) {
		if (!dns_name_ok(names[i])) {
			err_set(e, "invalid dns name '%s'", names[i]);
			goto out;
		}
		buf_appendf(&san, "%sDNS:%s", i ? "," : "", names[i]);
	}
	key = key_new();
	if (key == NULL) {
		err_set(e, "unable to generate a key");
		goto out;
	}
	x = cert_new(key, names[0], 397);
	if (x == NULL || !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
			add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
			add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") < 0 ||
			add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth") < 0 ||
			add_ext(x, ca->cert, NID_subject_key_identifier, "hash") < 0 ||
			add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") < 0 ||
			add_ext(x, ca->cert, NID_subject_alt_name, san.data) < 0 ||
			!X509_sign(x, ca->key, EVP_sha256())) {
		err_set(e, "unable to make a certificate for '%s'", names[0]);
		goto out;
	}
	/* The caller reloads its server only after both files are in place. */
	if (write_pem(key_path, key, NULL, NULL, 0600, e) < 0 ||
			write_pem(cert_path, NULL, x, ca->cert, 0644, e) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&san);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
