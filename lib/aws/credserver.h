/*
 * credserver.h: credentials that refresh, for a child that runs longer than
 * they last (Terraform's apply of a prod stack: often over an hour, while
 * assume-role or SSO credentials may have 15 minutes left).
 *
 * caliber serves the container-credentials protocol (what ECS gives a task:
 * GET with an Authorization token, answered with AccessKeyId,
 * SecretAccessKey, Token and Expiration) on a loopback port for as long as
 * the child runs.  The child's AWS SDK is pointed at it with
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
 * and fetches again before the Expiration it was given; each answer comes
 * from caliber's own chain, resolved again once the credentials held have
 * less than half their life (at most 5 minutes) left.  The Expiration
 * handed out is a little before the real one, so the SDK never signs with
 * credentials about to expire.
 */
#ifndef CALIBER_AWS_CREDSERVER_H
#define CALIBER_AWS_CREDSERVER_H

#include "err.h"

struct credserver;

/*
 * Resolve credentials for profile (NULL: AWS_PROFILE, else default) and
 * serve them on 127.0.0.1.  *out is the caller's to credserver_stop().
 */
int credserver_start(const char *profile, struct credserver **out, struct err *e);

/* "http://127.0.0.1:PORT/credentials": borrowed from s. */
const char *credserver_url(const struct credserver *s);
/* The authorization token the child must send: borrowed from s, a secret. */
const char *credserver_token(const struct credserver *s);
/* Where the credentials came from first ("assume-role", "sso", ...). */
const char *credserver_source(const struct credserver *s);

/* Stop serving, wipe what was held, free s (NULL is fine). */
void credserver_stop(struct credserver *s);

#endif
