/*
 * auth.h: every request must be signed (SigV4) with the local cloud's one
 * credential pair; any region is accepted.  Refusals are written in the
 * request's protocol with the code AWS uses for it.
 */
#ifndef CALIBER_LC_AUTH_H
#define CALIBER_LC_AUTH_H

struct lc_request;
struct lc_response;

/*
 * Verify req's signature; payload_hash is the hex SHA-256 of the body (or
 * the x-amz-content-sha256 value for S3).  0 and req->authenticated set,
 * or -1 with the refusal in res.
 */
int auth_check(struct lc_request *req, struct lc_response *res, const char *payload_hash);

/* The refusal of a request without any signature; returns -1. */
int auth_refuse_unsigned(struct lc_request *req, struct lc_response *res);

#endif
