/*
 * credentials.h: AWS credentials, resolved in awscli's order.
 *
 * Sources, first match wins: environment variables (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the shared credentials and
 * config files for the profile (--profile, AWS_PROFILE, "default"),
 * including assume-role profiles (role_arn + source_profile, cached until
 * expiry) and IAM Identity Center profiles (the token cache that
 * 'aws sso login' writes; role credentials cached like awscli v2's, in
 * ~/.aws/cli/cache too); container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI); EC2 instance
 * metadata with IMDSv2.  When none is found the error lists every source
 * tried.  A source that is configured but fails (STS refuses the role,
 * the SSO token expired) is an error at once, as in botocore.  An explicit
 * profile bypasses the environment, as --profile does in awscli.
 * Endpoints of STS and the SSO portal follow endpoint.h (so
 * AWS_ENDPOINT_URL_STS / _SSO / AWS_ENDPOINT_URL redirect them); EC2
 * metadata honours AWS_EC2_METADATA_SERVICE_ENDPOINT and
 * AWS_EC2_METADATA_DISABLED and gives up after one 1 s attempt.
 * Not supported (an error naming the profile): mfa_serial,
 * web_identity_token_file, credential_process.
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
	char source[64];	/* "environment", "shared-credentials-file", "config-file",
				   "assume-role", "sso", "container-role", "iam-role" */
};

#define AWS_CREDENTIALS_INIT { NULL, NULL, NULL, 0, { 0 } }

/* profile NULL: AWS_PROFILE, else "default". */
int aws_credentials_resolve(const char *profile, struct aws_credentials *out, struct err *e);
void aws_credentials_release(struct aws_credentials *c);

/*
 * "2026-11-26T07:00:00Z" (also with fractional seconds, "UTC", "+00:00",
 * as the credential endpoints and caches write it) to a time_t.
 */
int aws_time_parse_iso8601(const char *s, time_t *out);

#endif
