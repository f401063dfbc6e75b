/*
 * cmd.c: the command table, its dispatcher (authorisation, the retryable
 * write refusal, error replies), and the handshake and server commands:
 * hello/isMaster, ping, buildInfo, serverStatus, endSessions.
 */
#include "compat.h"

#include <sys/time.h>
#include <time.h>

#include "cmd.h"

static time_t started;

int docdb_fail(struct docdb_error *de, int code, const char *fmt, ...)
{
	va_list ap;

	de->code = code;
	va_start(ap, fmt);
	vsnprintf(de->msg, sizeof(de->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void docdb_log(const char *fmt, ...)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ caliber-docdb: ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

const char *cmd_collection(const bson_t *cmd, struct docdb_error *de)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, cmd) || !bson_iter_next(&it) || !BSON_ITER_HOLDS_UTF8(&it)) {
		docdb_fail(de, DOCDB_INVALID_NAMESPACE, "collection name has invalid type %s",
			bson_iter_init(&it, cmd) && bson_iter_next(&it) ? "non-string" : "missing");
		return NULL;
	}
	return bson_iter_utf8(&it, NULL);
}

/* ---- authorisation ---- */

static bool role_grants(const char *role, const char *role_db, const char *db, enum docdb_action act)
{
	bool admin = strcmp(role_db, "admin") == 0, here = strcmp(role_db, db) == 0;

	if (admin && strcmp(role, "root") == 0)
		return true;
	if (admin && strcmp(role, "readWriteAnyDatabase") == 0)
		return act == ACT_READ || act == ACT_WRITE;
	if (admin && strcmp(role, "readAnyDatabase") == 0)
		return act == ACT_READ;
	if (admin && strcmp(role, "dbAdminAnyDatabase") == 0)
		return act == ACT_DB_ADMIN || act == ACT_READ;
	if (admin && strcmp(role, "userAdminAnyDatabase") == 0)
		return act == ACT_USER_ADMIN;
	if (admin && (strcmp(role, "clusterAdmin") == 0 || strcmp(role, "clusterMonitor") == 0))
		return act == ACT_CLUSTER;
	if (!here)
		return false;
	if (strcmp(role, "read") == 0)
		return act == ACT_READ;
	if (strcmp(role, "readWrite") == 0)
		return act == ACT_READ || act == ACT_WRITE;
	if (strcmp(role, "dbAdmin") == 0)
		return act == ACT_DB_ADMIN || act == ACT_READ;
	if (strcmp(role, "userAdmin") == 0)
		return act == ACT_USER_ADMIN;
	if (strcmp(role, "dbOwner") == 0)
		return act == ACT_READ || act == ACT_WRITE || act == ACT_DB_ADMIN || act == ACT_USER_ADMIN;
	return false;
}

int docdb_allowed(const struct docdb_conn *c, const char *db, enum docdb_action act)
{
	if (act == ACT_NONE)
		return 1;
	if (c->nusers == 0)
		return 0;
	if (act == ACT_AUTHENTICATED)
		return 1;
	for (size_t u = 0; u < c->nusers; u++) {
		bson_iter_t it, r;

		if (!bson_iter_init(&it, c->users[u].roles))
			continue;
		while (bson_iter_next(&it)) {
			const char *role = NULL, *rdb = NULL;

			if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &r))
				continue;
			while (bson_iter_next(&r)) {
				if (strcmp(bson_iter_key(&r), "role") == 0 && BSON_ITER_HOLDS_UTF8(&r))
					role = bson_iter_utf8(&r, NULL);
				else if (strcmp(bson_iter_key(&r), "db") == 0 && BSON_ITER_HOLDS_UTF8(&r))
					rdb = bson_iter_utf8(&r, NULL);
			}
			if (role && rdb && role_grants(role, rdb, db, act))
				return 1;
		}
	}
	return 0;
}

/* ---- handshake and server commands ---- */

static void put_hello(struct docdb_conn *c, const bson_t *cmd, bool legacy, bson_t *reply)
{
	bson_t hosts;
	struct timeval tv;
	bson_iter_t it;
	struct docdb_error de = { 0, "" };

	gettimeofday(&tv, NULL);
	BSON_APPEND_BOOL(reply, "helloOk", true);
	BSON_APPEND_BOOL(reply, legacy ? "ismaster" : "isWritablePrimary", true);
	BSON_APPEND_INT32(reply, "maxBsonObjectSize", DOCDB_MAX_BSON);
	BSON_APPEND_INT32(reply, "maxMessageSizeBytes", DOCDB_MAX_MESSAGE);
	BSON_APPEND_INT32(reply, "maxWriteBatchSize", 100000);
	BSON_APPEND_DATE_TIME(reply, "localTime", (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	BSON_APPEND_INT32(reply, "logicalSessionTimeoutMinutes", 30);
	BSON_APPEND_INT64(reply, "connectionId", c->id);
	BSON_APPEND_INT32(reply, "minWireVersion", 0);
	BSON_APPEND_INT32(reply, "maxWireVersion", 13);	/* what DocumentDB 5.0 reports */
	BSON_APPEND_BOOL(reply, "readOnly", false);
	BSON_APPEND_UTF8(reply, "setName", DOCDB_SET_NAME);
	BSON_APPEND_INT32(reply, "setVersion", 1);
	BSON_APPEND_ARRAY_BEGIN(reply, "hosts", &hosts);
	BSON_APPEND_UTF8(&hosts, "0", c->srv->advertise);
	bson_append_array_end(reply, &hosts);
	BSON_APPEND_UTF8(reply, "primary", c->srv->advertise);
	BSON_APPEND_UTF8(reply, "me", c->srv->advertise);
	BSON_APPEND_BOOL(reply, "secondary", false);
	if (bson_iter_init_find(&it, cmd, "saslSupportedMechs") && BSON_ITER_HOLDS_UTF8(&it))
		auth_supported_mechs(c, bson_iter_utf8(&it, NULL), reply);
	if (bson_iter_init_find(&it, cmd, "speculativeAuthenticate") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;
		bson_t spec;

		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&spec, data, len))
			auth_speculative(c, &spec, reply, &de);	/* a failure only omits the field */
	}
}

static int cmd_hello(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	(void)db;
	(void)de;
	put_hello(c, cmd, false, reply);
	return 0;
}

static int cmd_is_master(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	(void)db;
	(void)de;
	put_hello(c, cmd, true, reply);
	return 0;
}

static int cmd_ping(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply, struct docdb_error *de)
{
	(void)c, (void)db, (void)cmd, (void)reply, (void)de;
	return 0;
}

static int cmd_build_info(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	bson_t va;

	(void)c, (void)db, (void)cmd, (void)de;
	BSON_APPEND_UTF8(reply, "version", "5.0.0");
	BSON_APPEND_UTF8(reply, "gitVersion", "caliber-docdb");
	BSON_APPEND_ARRAY_BEGIN(reply, "versionArray", &va);
	BSON_APPEND_INT32(&va, "0", 5);
	BSON_APPEND_INT32(&va, "1", 0);
	BSON_APPEND_INT32(&va, "2", 0);
	BSON_APPEND_INT32(&va, "3", 0);
	bson_append_array_end(reply, &va);
	BSON_APPEND_INT32(reply, "bits", 64);
	BSON_APPEND_BOOL(reply, "debug", false);
	BSON_APPEND_INT32(reply, "maxBsonObjectSize", DOCDB_MAX_BSON);
	return 0;
}

static int cmd_server_status(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	bson_t conns;
	struct timeval tv;
	int current;
	long long total;

	(void)db, (void)cmd, (void)de;
	gettimeofday(&tv, NULL);
	pthread_mutex_lock(&c->srv->lock);
	current = c->srv->nconns;
	total = c->srv->next_conn_id;
	pthread_mutex_unlock(&c->srv->lock);
	BSON_APPEND_UTF8(reply, "host", c->srv->advertise);
	BSON_APPEND_UTF8(reply, "version", "5.0.0");
	BSON_APPEND_UTF8(reply, "process", "caliber-docdb");
	BSON_APPEND_INT64(reply, "pid", getpid());
	BSON_APPEND_INT64(reply, "uptime", (int64_t)(tv.tv_sec - started));
	BSON_APPEND_DATE_TIME(reply, "localTime", (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	BSON_APPEND_DOCUMENT_BEGIN(reply, "connections", &conns);
	BSON_APPEND_INT32(&conns, "current", current);
	BSON_APPEND_INT32(&conns, "available", c->srv->max_conns - current);
	BSON_APPEND_INT64(&conns, "totalCreated", total);
	bson_append_document_end(reply, &conns);
	return 0;
}

static int cmd_end_sessions(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	(void)c, (void)db, (void)cmd, (void)reply, (void)de;
	return 0;	/* no server-side session state is kept */
}

static int cmd_whatsmyuri(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	(void)db, (void)cmd, (void)de;
	BSON_APPEND_UTF8(reply, "you", c->peer);
	return 0;
}

static int cmd_connection_status(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de)
{
	bson_t info, users, roles;

	(void)db, (void)cmd, (void)de;
	BSON_APPEND_DOCUMENT_BEGIN(reply, "authInfo", &info);
	BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUsers", &users);
	BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUserRoles", &roles);
	for (size_t i = 0; i < c->nusers; i++) {
		bson_t u;
		char ibuf[16];
		const char *ik;

		bson_uint32_to_string((uint32_t)i, &ik, ibuf, sizeof(ibuf));
		bson_append_document_begin(&users, ik, -1, &u);
		BSON_APPEND_UTF8(&u, "user", c->users[i].name);
		BSON_APPEND_UTF8(&u, "db", c->users[i].db);
		bson_append_document_end(&users, &u);
	}
	bson_append_array_end(&info, &users);
	bson_append_array_end(&info, &roles);
	bson_append_document_end(reply, &info);
	return 0;
}

static const struct cmd_desc commands[] = {
	{ "hello", cmd_hello, ACT_NONE, false },
	{ "isMaster", cmd_is_master, ACT_NONE, false },
	{ "ismaster", cmd_is_master, ACT_NONE, false },
	{ "ping", cmd_ping, ACT_NONE, false },
	{ "buildInfo", cmd_build_info, ACT_NONE, false },
	{ "buildinfo", cmd_build_info, ACT_NONE, false },
	{ "saslStart", cmd_sasl_start, ACT_NONE, false },
	{ "saslContinue", cmd_sasl_continue, ACT_NONE, false },
	{ "endSessions", cmd_end_sessions, ACT_NONE, false },
	{ "whatsmyuri", cmd_whatsmyuri, ACT_NONE, false },
	{ "logout", cmd_logout, ACT_NONE, false },
	{ "connectionStatus", cmd_connection_status, ACT_NONE, false },
	{ "serverStatus", cmd_server_status, ACT_AUTHENTICATED, false },
	{ "listDatabases", cmd_list_databases, ACT_AUTHENTICATED, false },
	{ "find", cmd_find, ACT_READ, false },
	{ "getMore", cmd_get_more, ACT_READ, false },
	{ "killCursors", cmd_kill_cursors, ACT_READ, false },
	{ "count", cmd_count, ACT_READ, false },
	{ "distinct", cmd_distinct, ACT_READ, false },
	{ "explain", cmd_explain, ACT_READ, false },
	{ "aggregate", cmd_aggregate, ACT_READ, false },
	{ "listCollections", cmd_list_collections, ACT_READ, false },
	{ "listIndexes", cmd_list_indexes, ACT_READ, false },
	{ "insert", cmd_insert, ACT_WRITE, true },
	{ "update", cmd_update, ACT_WRITE, true },
	{ "delete", cmd_delete, ACT_WRITE, true },
	{ "findAndModify", cmd_find_and_modify, ACT_WRITE, true },
	{ "findandmodify", cmd_find_and_modify, ACT_WRITE, true },
	{ "create", cmd_create, ACT_WRITE, false },
	{ "drop", cmd_drop, ACT_WRITE, false },
	{ "createIndexes", cmd_create_indexes, ACT_WRITE, false },
	{ "dropIndexes", cmd_drop_indexes, ACT_WRITE, false },
	{ "deleteIndexes", cmd_drop_indexes, ACT_WRITE, false },
	{ "dropDatabase", cmd_drop_database, ACT_DB_ADMIN, false },
	{ "createUser", cmd_create_user, ACT_USER_ADMIN, false },
	{ "updateUser", cmd_update_user, ACT_USER_ADMIN, false },
	{ "dropUser", cmd_drop_user, ACT_USER_ADMIN, false },
	{ "usersInfo", cmd_users_info, ACT_USER_ADMIN, false },
	{ "grantRolesToUser", cmd_grant_roles, ACT_USER_ADMIN, false },
};

static const struct {
	int code;
	const char *name;
} code_names[] = {
	{ 1, "InternalError" }, { 2, "BadValue" }, { 9, "FailedToParse" }, { 11, "UserNotFound" },
	{ 13, "Unauthorized" }, { 14, "TypeMismatch" }, { 18, "AuthenticationFailed" },
	{ 20, "IllegalOperation" }, { 26, "NamespaceNotFound" }, { 27, "IndexNotFound" },
	{ 28, "PathNotViable" }, { 31, "RoleNotFound" }, { 40, "ConflictingUpdateOperators" },
	{ 43, "CursorNotFound" }, { 48, "NamespaceExists" }, { 51, "UserAlreadyExists" },
	{ 52, "DollarPrefixedFieldName" }, { 53, "InvalidIdField" }, { 59, "CommandNotFound" },
	{ 66, "ImmutableField" }, { 67, "CannotCreateIndex" }, { 72, "InvalidOptions" },
	{ 73, "InvalidNamespace" }, { 85, "IndexOptionsConflict" }, { 96, "OperationFailed" },
	{ 292, "QueryExceededMemoryLimitNoDiskUseAllowed" }, { 301, "OperationNotSupported" },
	{ 334, "MechanismUnavailable" }, { 11000, "DuplicateKey" },
};

static const char *code_name(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(code_names); i++)
		if (code_names[i].code == code)
			return code_names[i].name;
	return "Location";
}

static int authorise(struct docdb_conn *c, const char *db, const struct cmd_desc *d, struct docdb_error *de)
{
	if (docdb_allowed(c, db, d->action))
		return 0;
	if (c->nusers == 0)
		return docdb_fail(de, DOCDB_UNAUTHORIZED, "command %s requires authentication", d->name);
	return docdb_fail(de, DOCDB_UNAUTHORIZED, "not authorized on %s to execute command { %s: ... }", db, d->name);
}

void cmd_dispatch(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply)
{
	struct docdb_error de = { 0, "" };
	const struct cmd_desc *d = NULL;
	bson_iter_t it;
	const char *name = "";
	int rc = -1;

	bson_init(reply);
	if (started == 0)
		started = time(NULL);
	if (bson_iter_init(&it, cmd) && bson_iter_next(&it))
		name = bson_iter_key(&it);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			d = &commands[i];
	if (d == NULL) {
		docdb_fail(&de, DOCDB_COMMAND_NOT_FOUND, "no such command: '%s'", name);
	} else if (authorise(c, db, d, &de) < 0) {
		/* de set */
	} else if (bson_iter_init_find(&it, cmd, "startTransaction") || bson_iter_init_find(&it, cmd, "autocommit")) {
		docdb_fail(&de, DOCDB_ILLEGAL_OPERATION, "transactions are not supported by the local DocumentDB");
	} else if (d->write && bson_iter_init_find(&it, cmd, "txnNumber")) {
		/* as DocumentDB before 8.0: drivers must connect with retryWrites=false */
		docdb_fail(&de, DOCDB_NOT_SUPPORTED_RETRYABLE, "Retryable writes are not supported");
	} else {
		rc = d->fn(c, db, cmd, reply, &de);
	}
	if (rc == 0) {
		BSON_APPEND_DOUBLE(reply, "ok", 1.0);
		return;
	}
	{
		bson_t extra = BSON_INITIALIZER;

		bson_concat(&extra, reply);	/* a handler may leave details (keyPattern, keyValue) */
		bson_reinit(reply);
		BSON_APPEND_DOUBLE(reply, "ok", 0.0);
		BSON_APPEND_UTF8(reply, "errmsg", de.msg);
		BSON_APPEND_INT32(reply, "code", de.code);
		BSON_APPEND_UTF8(reply, "codeName", code_name(de.code));
		if (de.code == DOCDB_DUPLICATE_KEY)
			bson_concat(reply, &extra);
		bson_destroy(&extra);
	}
}
