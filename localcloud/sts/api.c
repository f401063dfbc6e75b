/*
 * sts/api.c: AWS Security Token Service (Query, 2011-06-15): who the
 * caller is.  The Terraform provider asks it at start-up for the account
 * id it builds ARNs with.
 *
 * caliberd has one identity: the key pair in $CALIBER_HOME/credentials,
 * the account's root (every request was already authenticated with it by
 * the router), in the account every service's ARNs name.
 *
 * Differences from AWS: no temporary credentials (AssumeRole,
 * GetSessionToken) yet; the UserId is the access key id, where AWS gives
 * the root's account id or an IAM user's unique id.
 */
#include "compat.h"

#include <jansson.h>

#include "aws/codec.h"
#include "core/caliberd.h"
#include "core/router.h"
#include "internal.h"
#include "localcloud/config.h"

int sts_get_caller_identity(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err)
{
	(void)in;
	(void)err;
	*out = json_pack("{s:s, s:s, s:s}", "UserId", req->srv->creds.access_key_id, "Account",
		LOCALCLOUD_ACCOUNT_ID, "Arn", "arn:aws:iam::" LOCALCLOUD_ACCOUNT_ID ":root");
	return 0;
}
