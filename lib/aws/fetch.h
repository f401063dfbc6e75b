/*
 * fetch.h: one small HTTP exchange with libcurl, for the credential
 * sources (STS, the IAM Identity Center portal, the container credentials
 * endpoint, EC2 instance metadata).  Not the general AWS request path:
 * no retries, no redirects, a short timeout and a capped response.
 *
 * Ownership: everything in the request is borrowed; the response body is
 * appended to the caller's struct buf.
 */
#ifndef CALIBER_AWS_FETCH_H
#define CALIBER_AWS_FETCH_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Cap on a credential endpoint's response body. */
#define AWS_FETCH_MAX_RESPONSE (1024 * 1024)

struct aws_fetch_request {
	const char *method;		/* "GET", "PUT", "POST" */
	const char *url;
	const char *const *headers;	/* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;		/* NULL: none */
	size_t body_len;
	long timeout_ms;		/* whole exchange, connection included */
	const char *ca_bundle;		/* NULL: the system's */
	int no_proxy;			/* link-local and loopback endpoints bypass proxies */
};

/*
 * Perform the exchange.  Returns 0 when a response arrived (whatever its
 * status, written to *status), -1 with e set when none did (connection
 * refused, timeout, response over the cap).
 */
int aws_fetch(const struct aws_fetch_request *req, long *status, struct buf *response,
	struct err *e);

#endif
