/*
 * credentials.h: AWS credentials, resolved in awscli's order.
 *
 * Sources, first match wins: environment variables (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the shared credentials and
 * config files for the profile (--profile, AWS_PROFILE, "default"),
 * including assume-role profiles (role_arn + source_profile, cached until
 * expiry) and IAM Identity Center profiles (the token cache that
 * 'aws sso login' writes); container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI); EC2 instance
 * metadata with IMDSv2.  When none is found the error lists every source
 * tried.
 *
 * Ownership: a struct aws_credentials owns its strings;
 * aws_credentials_release() wipes and frees them.
 */
#ifndef CALIBER_AWS_CREDENTIALS_H
#define CALIBER_AWS_CREDENTIALS_H

#include <time.h>

#include "err.h"

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;	/* NULL when none */
	time_t expiration;	/* 0: does not expire */
	char source[64];	/* "environment", "shared-credentials-file", "assume-role", ... */
};

#define AWS_CREDENTIALS_INIT { NULL, NULL, NULL, 0, { 0 } }

/* profile NULL: AWS_PROFILE, else "default". */
int aws_credentials_resolve(const char *profile, struct aws_credentials *out, struct err *e);
void aws_credentials_release(struct aws_credentials *c);

#endif
