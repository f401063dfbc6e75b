/*
 * test-ca.c: the local certificate authority (localcloud/core/ca.c): made once
 * and reused, and leaf certificates that verify against it for exactly
 * the names asked for.
 */
#include "compat.h"

#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "core/ca.h"

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t k;

	assert_non_null(f);
	buf_init(&b);
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, k);
	fclose(f);
	return buf_detach(&b);
}

static void test_ca_is_made_once_and_leaf_verifies_for_its_names(void **state)
{
	char tmpl[] = "/tmp/test-ca-XXXXXX";
	const char *names[] = { "www.acme.hicaliber.localhost", "acme.hicaliber.localhost" };
	struct ca *ca = NULL;
	struct err e = ERR_INIT;
	char *dir, *first, *again, *leaf_path, *key_path, *cmd;
	X509 *root, *leaf;
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	dir = xasprintf("%s/ca", tmpl);
	assert_int_equal(ca_open(dir, &ca, &e), 0);
	first = slurp(ca_bundle_path(ca));
	leaf_path = xasprintf("%s/leaf.pem", tmpl);
	key_path = xasprintf("%s/leaf.key", tmpl);
	assert_int_equal(ca_issue(ca, names, 2, leaf_path, key_path, &e), 0);
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	ca_close(ca);

	/* Reopening loads the same CA rather than making a new one. */
	assert_int_equal(ca_open(dir, &ca, &e), 0);
	again = slurp(ca_bundle_path(ca));
	assert_string_equal(first, again);

	root = read_cert(ca_bundle_path(ca));
	leaf = read_cert(leaf_path);
	store = X509_STORE_new();
	X509_STORE_add_cert(store, root);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	assert_int_equal(X509_check_host(leaf, names[0], 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(leaf, names[1], 0, 0, NULL), 1);
	assert_int_not_equal(X509_check_host(leaf, "other.hicaliber.localhost", 0, 0, NULL), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(root);
	X509_free(leaf);

	assert_int_equal(ca_issue(ca, (const char *[]){ "bad name" }, 1, leaf_path, key_path, &e),
		-1);
	ca_close(ca);
	cmd = xasprintf("rm -rf '%s'", tmpl);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(first);
	free(again);
	free(leaf_path);
	free(key_path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_is_made_once_and_leaf_verifies_for_its_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
