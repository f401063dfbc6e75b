/*
 * ca.h: caliberd's local certificate authority.
 *
 * The CA's key and self-signed certificate are made once in a directory of
 * the state (ca.key, mode 0600, and ca.pem, the bundle clients trust with
 * AWS_CA_BUNDLE or curl --cacert) and reused on every start.  The edge asks
 * it for a leaf certificate covering the DNS names it serves; the leaf is
 * reissued whenever that set of names changes.
 *
 * Ownership: struct ca is freed by ca_close(); paths returned are borrowed.
 */
#ifndef CALIBER_LC_CA_H
#define CALIBER_LC_CA_H

#include <stddef.h>

#include "err.h"

struct ca;

/* Load the CA from dir, creating its key and certificate the first time. */
int ca_open(const char *dir, struct ca **out, struct err *e);
void ca_close(struct ca *ca);

/* The CA certificate (PEM) clients should trust. */
const char *ca_bundle_path(const struct ca *ca);

/*
 * Issue a leaf certificate for names (DNS subjectAltNames; the first is
 * also the subject CN) with a new P-256 key, written atomically to
 * cert_path (the leaf followed by the CA certificate, as servers send a
 * chain) and key_path (mode 0600).
 */
int ca_issue(struct ca *ca, const char *const *names, size_t n, const char *cert_path,
	const char *key_path, struct err *e);

#endif
