/*
 * rds/cluster.h: Amazon DocumentDB's control plane, on RDS's endpoint (the
 * same Query API, signing name rds, Version 2014-10-31).  Private to rds/.
 *
 * A DB cluster is one PostgreSQL server run by the same engine as an RDS
 * instance (core/engine-postgres.h; engine id "docdb.<cluster>", which no
 * RDS identifier can be) and one caliber-docdb process (localcloud/docdb/)
 * in front of it, started and watched by caliberd: the MongoDB-wire
 * endpoint is the cluster's Endpoint.  DB instances of engine docdb are
 * rows that name their cluster: their endpoint is the cluster's server.
 * Cluster snapshots are the engine's base backups ("docdb.<snapshot>");
 * one automated backup is taken when a cluster becomes available, then
 * every CALIBER_RDS_BACKUP_INTERVAL seconds; point in time restore replays
 * the cluster's WAL archive from the newest one before the target.
 *
 * Secrets: each cluster keeps, sealed in the store with the master key, the
 * engine's rdsadmin password, the password of the PostgreSQL role "docdb"
 * that caliber-docdb connects as (owner of the database "docdb", not a
 * superuser) and the master password, which caliber-docdb needs at every
 * start (it sets the master user's password then).  They reach
 * caliber-docdb through its environment only, never argv or a log.
 *
 * The files: cluster.c (store, workers, caliber-docdb processes, init),
 * cluster-api.c (typed handlers on the codec; their rows are the last
 * block of routes.c), cluster-instances.c (docdb instances),
 * cluster-groups.c (subnet and cluster parameter groups), cluster-tags.c
 * (tags by ARN).  The RDS instance handlers call in through the
 * cluster_instance_* functions below for instances of engine docdb.
 */
#ifndef CALIBER_LC_RDS_CLUSTER_H
#define CALIBER_LC_RDS_CLUSTER_H

#include <jansson.h>
#include <sqlite3.h>

#include "aws/codec.h"
#include "buf.h"
#include "core/router.h"

#define CLUSTER_ENGINE_VERSION "5.0.0"
#define CLUSTER_PARAM_GROUP "default.docdb5.0"
#define CLUSTER_HOST "localhost"
#define CLUSTER_HOSTED_ZONE "ZNKXH85TT8WVW"
#define CLUSTER_AZ "local-1a"

struct cluster {
	char *id;
	char *region;
	char *status;
	char *job;		/* create, restore, start, restart, delete */
	char *master_user;
	int port;		/* caliber-docdb's (the endpoint) */
	int pg_port;		/* the PostgreSQL server's */
	int retention;
	double created;
	char *secret_arn;
	char *subnet_group;
	char *vpc_sgs;		/* JSON array text */
	char *param_group;
	int storage_encrypted;
	char *kms_key;
	int deletion_protection;
	char *resource_id;
	char *tags;		/* JSON array text of {Key, Value} */
	char *restore_snapshot;
	char *restore_source;
	double restore_time;	/* NAN: latest */
	char *final_snapshot;
};

struct cluster_snapshot {
	char *id;
	char *cluster_id;
	char *region;
	char *type;		/* manual, automated */
	char *status;
	double created;
	double completed;	/* NAN while creating */
	double cluster_created;
	char *master_user;
	int port;
	int storage_encrypted;
	char *kms_key;
	char *resource_id;
	char *vpc_sgs;
};

#define CLUSTER_COLS                                                                            \
	"id, region, status, job, master_user, port, pg_port, retention, created, secret_arn,"   \
	" subnet_group, vpc_sgs, param_group, storage_encrypted, kms_key, deletion_protection," \
	" resource_id, tags, restore_snapshot, restore_source, restore_time, final_snapshot"

#define CLUSTER_SNAPSHOT_COLS                                                                   \
	"id, cluster_id, region, type, status, created, completed, cluster_created,"             \
	" master_user, port, storage_encrypted, kms_key, resource_id, vpc_sgs"

/* The secrets a cluster (or a snapshot of it) keeps, sealed as one. */
struct cluster_secrets {
	struct buf admin;	/* rdsadmin */
	struct buf owner;	/* PostgreSQL role "docdb" */
	struct buf master;	/* the DocumentDB master user's */
};

/* cluster.c: rows */
void cluster_release(struct cluster *c);
void cluster_snapshot_release(struct cluster_snapshot *s);
/* Inside a transaction: 1 found (out filled), 0 not, -1 error. */
int cluster_get(sqlite3 *db, const char *id, struct cluster *out);
int cluster_snapshot_get(sqlite3 *db, const char *id, struct cluster_snapshot *out);
void cluster_read(sqlite3_stmt *st, struct cluster *c);
void cluster_snapshot_read(sqlite3_stmt *st, struct cluster_snapshot *s);
/* The engine's names: "docdb.<id>" (caller frees). */
char *cluster_engine_id(const char *id);

/* Secrets: sealed under aad "docdb-cluster:<id>" or "docdb-snapshot:<id>". */
void cluster_secrets_init(struct cluster_secrets *s);
void cluster_secrets_release(struct cluster_secrets *s);	/* wipes */
int cluster_secrets_seal(const struct cluster_secrets *s, const char *kind, const char *id,
	struct buf *out, struct err *e);
/* Open the column `secrets` of table's row id (kind: "cluster", "snapshot"). */
int cluster_secrets_open(sqlite3 *db, const char *kind, const char *id,
	struct cluster_secrets *out, struct err *e);

/* Ports of every RDS instance and cluster server, to keep a new one off them. */
int *cluster_ports_in_use(sqlite3 *db, size_t *n);
/* Newest archived WAL or automated backup (0: nothing to restore from yet). */
double cluster_latest_restorable(sqlite3 *db, const struct cluster *c);
double cluster_earliest_restorable(sqlite3 *db, const struct cluster *c);

/* Insert a 'creating' snapshot row of c (the cluster's secrets sealed for it). */
int cluster_snapshot_insert(sqlite3 *db, const struct cluster *c, const char *snap,
	const char *type, double now, struct err *e);

/* Whether caliber-docdb is installed next to caliberd (e says where it was looked for). */
int cluster_available(struct err *e);
/* Run the cluster's job (from its row) in a worker thread. */
void cluster_job_spawn(const char *id);
/* A manual snapshot of a running cluster, in a worker thread. */
void cluster_snapshot_spawn(const char *id, const char *snap);

/* rds_init's part for clusters: tables, resumed jobs, restarted servers. */
int cluster_init(struct lc_server *srv, struct err *e);

/*
 * cluster-instances.c: the hooks the RDS instance handlers (api.c) call.
 * cluster_instance_route(): when the request is one for a DocumentDB
 * instance (CreateDBInstance with Engine=docdb, or an identifier that
 * names a docdb instance) it answers it (*ret is the typed handler's
 * result, *out or err filled) and returns 1; otherwise 0, nothing touched.
 * cluster_instances_list(): the docdb instances (all, or id, or those of
 * cluster_id) appended to list as DBInstance values; returns how many.
 */
int cluster_instance_route(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err, int *ret);
int cluster_instances_list(sqlite3 *db, const char *id, const char *cluster_id, json_t *list);

/* cluster-api.c: what the handlers share (cluster-groups.c too) */
/* A client error as AWS words it (404 for *NotFound*, else 400); returns -1. */
int cluster_bad(struct codec_error *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Our own fault: logged, 500 InternalFailure; returns -1. */
int cluster_internal(struct codec_error *err, const char *what);
/* Filters [{Name, Values}] as {name: [values]} (*out the caller's); unknown names refused. */
int cluster_in_filters(const json_t *in, const char *const *names, json_t **out,
	struct codec_error *err);
/* Whether filters admit v for name (ARNs by their last part); no such filter admits all. */
int cluster_filter_admits(const json_t *filters, const char *name, const char *v);
/* MaxRecords: 20..100, 100 when absent. */
int cluster_in_max_records(const json_t *in, long *out, struct codec_error *err);
/* arn:aws:rds:<region>:<account>:<kind>:<id> */
void cluster_arn(const char *kind, const char *region, const char *id, char out[512]);
/*
 * An identifier member, lower-cased into *out (caller frees); strict: the
 * rules for a new name, else any name (an ARN reduced to its name).
 */
int cluster_in_ident(const json_t *in, const char *member, size_t max, int required, int strict,
	char **out, struct codec_error *err);
/* prefix followed by 26 upper-case hex digits of a random UUID ("cluster-...", "db-..."). */
void cluster_resource_id(const char *prefix, char out[64]);
/* VpcSecurityGroupIds text as [{VpcSecurityGroupId, Status}] (a new reference). */
json_t *cluster_security_groups_json(const char *text);
/* Open the store on cluster id: 1 found (transaction open, *c filled), else -1 and err. */
int cluster_begin_on(struct lc_request *req, const char *id, struct cluster *c,
	struct codec_error *err);
/* Commit the handler's transaction (500 when it fails). */
int cluster_commit(struct lc_request *req, struct codec_error *err);

/*
 * cluster-groups.c: DB subnet groups and DB cluster parameter groups.
 * cluster_groups_check(): inside a transaction, whether a new cluster's
 * subnet group and parameter group exist (NULL: the default); -1 and err.
 */
int cluster_groups_init(struct lc_server *srv, struct err *e);
int cluster_groups_check(sqlite3 *db, const char *subnet_group, const char *param_group,
	struct codec_error *err);
int cluster_create_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_describe_db_subnet_groups(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_modify_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_delete_db_subnet_group(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_create_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_describe_db_cluster_parameter_groups(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_describe_db_cluster_parameters(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_modify_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_reset_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_delete_db_cluster_parameter_group(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);

/* cluster-tags.c: tags of DocumentDB's resources, by ARN */
int cluster_add_tags_to_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_remove_tags_from_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_list_tags_for_resource(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

/* the typed handlers (routes.c) */
int cluster_create_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_describe_db_clusters(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_modify_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_delete_db_cluster(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_create_db_cluster_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_describe_db_cluster_snapshots(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_delete_db_cluster_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cluster_restore_db_cluster_from_snapshot(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int cluster_restore_db_cluster_to_point_in_time(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);

#endif
