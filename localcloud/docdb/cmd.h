/*
 * cmd.h: the command table.  A handler reads its command document, fills
 * reply (the dispatcher adds ok) and returns 0, or returns -1 with de set:
 * the dispatcher then answers {ok: 0, errmsg, code, codeName}.
 *
 * Ownership: handlers borrow cmd; reply is the dispatcher's.
 */
#ifndef CALIBER_DOCDB_CMD_H
#define CALIBER_DOCDB_CMD_H

#include "docdb.h"

typedef int (*cmd_fn)(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply,
	struct docdb_error *de);

struct cmd_desc {
	const char *name;
	cmd_fn fn;
	enum docdb_action action;
	bool write;		/* a write: refused when sent as a retryable write */
};

/* Run the command in cmd against database db; reply is initialised here. */
void cmd_dispatch(struct docdb_conn *c, const char *db, const bson_t *cmd, bson_t *reply);

/* The command's collection: the string value of its first field. */
const char *cmd_collection(const bson_t *cmd, struct docdb_error *de);

/* crud.c */
int cmd_insert(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_find(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_get_more(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_kill_cursors(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_update(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_delete(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_find_and_modify(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_count(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_distinct(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_explain(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
/* agg.c */
int cmd_aggregate(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
/* ddl.c */
int cmd_create(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_drop(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_drop_database(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_list_collections(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_list_databases(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_create_indexes(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_list_indexes(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_drop_indexes(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
/* auth.c */
int cmd_sasl_start(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_sasl_continue(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_create_user(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_update_user(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_drop_user(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_users_info(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_grant_roles(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
int cmd_logout(struct docdb_conn *, const char *, const bson_t *, bson_t *, struct docdb_error *);
/* hello's speculativeAuthenticate: a saslStart answered inside hello. */
int auth_speculative(struct docdb_conn *c, const bson_t *spec, bson_t *reply, struct docdb_error *de);
/* hello's saslSupportedMechs "db.user". */
void auth_supported_mechs(struct docdb_conn *c, const char *dbuser, bson_t *reply);
/* Create or refresh the master user (admin, role root) with password. */
int auth_ensure_master(PGconn *pg, const char *user, const char *password, struct err *e);
void auth_conn_release(struct docdb_conn *c);

/* Cursors, shared by every connection. */
void cursor_init(void);

#endif
