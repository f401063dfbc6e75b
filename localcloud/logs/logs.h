/*
 * logs/logs.h: what other parts of caliberd may call in CloudWatch Logs.
 * Its handlers and route rows are private to logs/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_LOGS_H
#define CALIBER_LC_LOGS_H

#include <sqlite3.h>

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service logs_service;

/*
 * For other services (the ECS supervisor), inside the caller's store
 * transaction on db.  logs_group_check: 1 the group exists (created first
 * when create), 0 it does not, -1 error.  logs_append: one event into
 * group/stream (the stream is created when new; the group must exist).
 */
int logs_group_check(sqlite3 *db, const char *region, const char *group, int create);
int logs_append(sqlite3 *db, const char *group, const char *stream, long long ts_ms,
	const char *msg, size_t len);
/* Whether message matches a FilterLogEvents term pattern: 1, 0, -1 unsupported pattern. */
int logs_filter_match(const char *pattern, const char *message);

#endif
