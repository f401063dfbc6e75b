/*
 * docdb.h: caliber-docdb, the data plane of one local DocumentDB cluster.
 *
 * One process per cluster: it listens on a TCP address, speaks the MongoDB
 * wire protocol (TLS by default) and keeps every database in the cluster's
 * own PostgreSQL server (one schema per database, one table per
 * collection).  Each client connection is served by its own thread with its
 * own libpq connection; cursors are shared by all connections (drivers send
 * getMore on any pooled socket) under one lock.
 *
 * Ownership: struct docdb_server is made once by main and lives until exit;
 * a struct docdb_conn belongs to its thread.  bson_t pointers returned by
 * functions named *_new are the caller's to bson_destroy().
 */
#ifndef CALIBER_DOCDB_H
#define CALIBER_DOCDB_H

#include <bson/bson.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>
#include <netdb.h>
#include <pthread.h>

#include "err.h"

#define DOCDB_MAX_MESSAGE (48 * 1000 * 1000)	/* maxMessageSizeBytes, as MongoDB */
#define DOCDB_MAX_BSON (16 * 1024 * 1024)	/* maxBsonObjectSize */
#define DOCDB_MAX_CURSOR_BYTES (64 * 1024 * 1024)	/* results one cursor may hold */
#define DOCDB_MAX_CURSORS 1000
#define DOCDB_SET_NAME "rs0"

/* MongoDB error codes used here (src/mongo/base/error_codes.yml). */
enum docdb_code {
	DOCDB_INTERNAL = 1,
	DOCDB_BAD_VALUE = 2,
	DOCDB_NO_SUCH_KEY = 4,
	DOCDB_FAILED_TO_PARSE = 9,
	DOCDB_UNAUTHORIZED = 13,
	DOCDB_TYPE_MISMATCH = 14,
	DOCDB_AUTH_FAILED = 18,
	DOCDB_ILLEGAL_OPERATION = 20,
	DOCDB_NAMESPACE_NOT_FOUND = 26,
	DOCDB_INDEX_NOT_FOUND = 27,
	DOCDB_ROLE_NOT_FOUND = 31,
	DOCDB_CURSOR_NOT_FOUND = 43,
	DOCDB_NAMESPACE_EXISTS = 48,
	DOCDB_USER_NOT_FOUND = 11,
	DOCDB_DUPLICATE_USER = 51,
	DOCDB_COMMAND_NOT_FOUND = 59,
	DOCDB_INVALID_NAMESPACE = 73,
	DOCDB_INDEX_OPTIONS_CONFLICT = 85,
	DOCDB_NOT_SUPPORTED_RETRYABLE = 301,
	DOCDB_DUPLICATE_KEY = 11000,
	DOCDB_BAD_MECHANISM = 334,
	DOCDB_DOLLAR_PREFIXED = 52,
	DOCDB_IMMUTABLE_FIELD = 66,
	DOCDB_CONFLICTING_UPDATE = 40,
	DOCDB_PATH_NOT_VIABLE = 28,
	DOCDB_QUERY_MEMORY = 292,
};

/* A command's failure: MongoDB's code and message, sent as {ok: 0, ...}. */
struct docdb_error {
	int code;
	char msg[1024];
};

int docdb_fail(struct docdb_error *de, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct docdb_server {
	char *advertise;	/* host:port put in hello's hosts */
	char *pg_conninfo;	/* secret (may hold a password): never logged */
	SSL_CTX *tls;		/* NULL: plain TCP (--tls=disabled) */
	int max_conns;
	int nconns;		/* under lock */
	long long next_conn_id;	/* under lock */
	pthread_mutex_t lock;
};

/* An authenticated user of a connection: its roles, flattened. */
struct docdb_user {
	char *db;
	char *name;
	bson_t *roles;		/* [{role, db}]; heap, as libbson aligns bson_t to 128 bytes */
};

struct scram_state;

struct docdb_conn {
	struct docdb_server *srv;
	int fd;
	SSL *ssl;		/* NULL on plain connections */
	PGconn *pg;
	long long id;
	char peer[NI_MAXHOST + NI_MAXSERV + 2];
	struct docdb_user *users;
	size_t nusers;
	struct scram_state *scram;	/* a conversation under way, or NULL */
};

/* conn.c: what a command may do, decided from the connection's users. */
enum docdb_action {
	ACT_NONE,		/* anyone, even before authentication */
	ACT_AUTHENTICATED,	/* any authenticated user */
	ACT_READ,
	ACT_WRITE,
	ACT_DB_ADMIN,
	ACT_USER_ADMIN,
	ACT_CLUSTER,
};
int docdb_allowed(const struct docdb_conn *c, const char *db, enum docdb_action act);
void docdb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
