/*
 * secretsmanager/secretsmanager.h: what other parts of caliberd may call in
 * secretsmanager.  Its handlers and route rows are private to
 * secretsmanager/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_SECRETSMANAGER_H
#define CALIBER_LC_SECRETSMANAGER_H

#include <sqlite3.h>

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service sm_service;

/*
 * For other services (ECS task secrets): append to out the value (wipe it
 * with buf_release_secret) of the secret that secret_id names (full ARN,
 * partial ARN without the random suffix, or name in region): version
 * version_id if not NULL (holding version_stage too, if that is not NULL),
 * else the version staged version_stage (NULL: AWSCURRENT).  Reads db as
 * it is, within the caller's transaction if any, and records no access.
 * A secret scheduled for deletion has no value.
 */
int sm_secret_value_read(sqlite3 *db, const unsigned char *master_key, const char *region,
	const char *secret_id, const char *version_id, const char *version_stage,
	struct buf *out, struct err *e);

#endif
