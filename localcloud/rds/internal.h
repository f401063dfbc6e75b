/*
 * rds/internal.h: private to rds/.  What RDS is:
 *
 * Amazon RDS for PostgreSQL (Query protocol) on real PostgreSQL
 * servers (engine-postgres.h).
 *
 * The control plane (instances, snapshots, their states) lives in
 * caliberd's store; the data in the servers' directories.  As on RDS, the
 * API answers at once and the work runs behind it: an instance is
 * 'creating' while initdb, the first start and its first automated backup
 * run in a worker thread, then 'available'; a snapshot is 'creating' while
 * pg_basebackup runs.  What a worker must redo after a crash is in the
 * instance row (status, job), so rds_init() resumes it: servers that were
 * available are started or, when they outlived caliberd, adopted.
 *
 * Automated backups are base backups kept as snapshots of type
 * 'automated' (rds:<id>-YYYY-MM-DD-HH-MM): one when the instance becomes
 * available, then every CALIBER_RDS_BACKUP_INTERVAL seconds (default one
 * day), pruned after BackupRetentionPeriod days.  Point in time restore
 * starts from the newest automated backup finished before the target time
 * and replays the source's WAL archive.
 *
 * Passwords: the internal 'rdsadmin' password and a master password
 * waiting for its instance are sealed in the store (crypt.h) and never
 * logged; ManageMasterUserPassword keeps the master password in a Secrets
 * Manager secret 'rds!db-<uuid>' ({"username","password"}), as RDS does.
 *
 * The files: state.c (the store side), jobs.c (workers, the backup
 * scheduler, init), api.c (typed handlers on the codec: values in,
 * values out), routes.c (the service row and operations).
 */
#ifndef CALIBER_LC_RDS_INTERNAL_H
#define CALIBER_LC_RDS_INTERNAL_H

#include <pthread.h>

#include <jansson.h>
#include <sqlite3.h>

#include "aws/codec.h"
#include "buf.h"
#include "core/router.h"
#include "rds.h"

#define RDS_DAY 86400.0
#define RDS_HOSTED_ZONE "Z2R2ITUGPM61AM"

struct rds_instance {
	char *id;
	char *region;
	char *status;
	char *job;
	char *instance_class;
	char *master_user;
	char *db_name;
	int port;
	int allocated_storage;
	int retention;
	double created;
	char *secret_arn;
	char *subnet_group;
	char *vpc_sgs;
	char *resource_id;
	char *restore_snapshot;
	char *restore_source;
	double restore_time;
	char *final_snapshot;
};

struct rds_snapshot {
	char *id;
	char *instance_id;
	char *region;
	char *type;
	char *status;
	double created;
	double completed;	/* NAN while creating */
	double instance_created;
	char *master_user;
	char *db_name;
	int port;
	int allocated_storage;
	char *resource_id;
};

#define RDS_INSTANCE_COLS                                                                        \
	"id, region, status, job, instance_class, master_user, db_name, port, "                  \
	"allocated_storage, retention, created, secret_arn, subnet_group, vpc_sgs, resource_id, " \
	"restore_snapshot, restore_source, restore_time, final_snapshot"

#define RDS_SNAPSHOT_COLS                                                                       \
	"id, instance_id, region, type, status, created, completed, instance_created, "         \
	"master_user, db_name, port, allocated_storage, resource_id"

/* state.c: the server the workers use; the workers' life lock and its stop flag */
extern struct lc_server *rds_srv;
extern pthread_rwlock_t rds_life;
extern int rds_stopping;

/* rds/state.c */
void rds_busy_mark(const char *id);
void rds_busy_unmark(const char *id);
void rds_busy_wait(const char *id);
int rds_wbegin(struct err *e);
int rds_wcommit(struct err *e);
void rds_wrollback(void);
void rds_instance_release(struct rds_instance *i);
void rds_snapshot_release(struct rds_snapshot *s);
void rds_instance_read(sqlite3_stmt *st, struct rds_instance *i);
void rds_snapshot_read(sqlite3_stmt *st, struct rds_snapshot *s);
int rds_instance_get(sqlite3 *db, const char *id, struct rds_instance *out);
int rds_snapshot_get(sqlite3 *db, const char *id, struct rds_snapshot *out);
int rds_set_status(const char *id, const char *status, const char *job);
void rds_backup_done(const char *id);
int rds_snapshot_set_status(const char *id, const char *status, double completed);
int rds_open_column(sqlite3 *db, const char *sql, const char *id, const char *aad,
	struct buf *out, struct err *e);
char *rds_aad(const char *kind, const char *id);
int rds_admin_password(const char *id, struct buf *out, struct err *e);

/* rds/jobs.c */
void rds_random_password(char *out, size_t len);
void rds_uuid(char out[40]);
int rds_snapshot_insert(sqlite3 *db, const struct rds_instance *in, const char *snap,
	const char *type, double now, struct err *e);
void rds_snapshots_drop(const char *sql, const char *param);
int rds_secret_call(const char *operation, const char *region, json_t *in, char **arn,
	struct err *e);
void rds_job_spawn(const char *id);
void rds_snap_spawn(const char *instance_id, int port, const char *snap);

/* the start-up function (jobs.c) and the typed handlers on the codec (api.c), for routes.c */
int rds_init(struct lc_server *srv, struct err *e);
int rds_create_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_describe_db_instances(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_modify_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_reboot_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_delete_db_instance(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_create_db_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_describe_db_snapshots(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_delete_db_snapshot(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int rds_restore_db_instance_from_db_snapshot(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);
int rds_restore_db_instance_to_point_in_time(struct lc_request *req, const json_t *in,
	json_t **out, struct codec_error *err);

#endif
