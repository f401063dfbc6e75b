/*
 * engine-postgres.h: the PostgreSQL servers behind caliberd's RDS.
 *
 * Each DB instance is a real PostgreSQL 15 cluster (initdb), started as
 * its own process group on its own loopback port, with scram-sha-256
 * password authentication and continuous WAL archiving.  Snapshots are
 * pg_basebackup copies (-X stream, so each one starts by itself); point in
 * time restore copies a base backup, hands the archived WAL to the new
 * cluster through restore_command and recovers to recovery_target_time.
 *
 * Layout, under the engine root (pge_root()):
 *
 *   <id>/data/            PGDATA (postgresql.conf, pg_hba.conf rewritten
 *                         by the engine before every start)
 *   <id>/wal-archive/     archive_command's target: 'test ! -f ... && cp'
 *   <id>/postgres.log     the server's stderr
 *   .snapshots/<snap>/    base backups: manual snapshots and automated ones
 *   .lib/caliber_rds_guard.so  the guard module every server preloads
 *
 * The root is $CALIBER_HOME/rds.  When caliberd runs as root (PostgreSQL
 * refuses to), each instance's server runs as a system user of its own,
 * 'caliber-db-<hash of root and id>' in the group 'caliber-db' (created
 * with the instance, removed with it); <id>/ is that user's, 0700, the
 * root is root:caliber-db 0710 and snapshots are root's, so that no
 * instance's server reads another's data, WAL or snapshots, nor lists the
 * root.  If the user 'caliber-db' cannot reach $CALIBER_HOME (a 0700
 * ancestor such as /root or pytest's temp directory), the root is
 * /var/lib/caliber/rds/<hash of the home> (/var/lib/caliber/rds is 0711:
 * traversed, never listed) and $CALIBER_HOME/rds is a symbolic link to it.  Without root,
 * every server runs as caliberd's user and nothing isolates instances.
 *
 * The master user keeps CREATEROLE, and PostgreSQL 15 would let it grant
 * itself pg_execute_server_program, pg_read_server_files or
 * pg_write_server_files; the guard module (localcloud/rds/guard/, built as
 * caliber_rds_guard.so next to caliberd and copied into the root) refuses
 * that to every role but a superuser, as RDS does.  No server starts
 * without it.
 *
 * Every cluster has an internal superuser 'rdsadmin' (as on RDS) whose
 * password the caller keeps; the master user is a LOGIN CREATEDB
 * CREATEROLE role.  Passwords never reach argv or the server's log: initdb
 * reads a 0600 file removed afterwards, roles get a SCRAM verifier computed
 * client-side with PQencryptPasswordConn().
 *
 * Servers outlive caliberd (a restart or kill -9 does not stop them):
 * pge_start() adopts a server that runs already (postmaster.pid names a
 * live postgres for that directory), else starts it.  pge_stop_all() (run
 * when caliberd exits cleanly) stops them.
 *
 * Functions are thread-safe for different instances; the caller
 * serialises work on one instance.  Every function returns 0 or -1 with e
 * filled; strings are borrowed.
 */
#ifndef CALIBER_LC_ENGINE_POSTGRES_H
#define CALIBER_LC_ENGINE_POSTGRES_H

#include "err.h"

#define PGE_ADMIN_USER "rdsadmin"
#define PGE_ENGINE_VERSION "15"

/*
 * Once at start-up: the system user and group 'caliber-db' (created when
 * missing), the root directory, the guard module copied into it, and
 * clean-up of roots (and their instances' users) left by state directories
 * that no longer exist.
 */
int pge_setup(const char *home, struct err *e);
/* The engine root (valid after pge_setup). */
const char *pge_root(void);

/*
 * Whether the PostgreSQL 15 server programs are installed and the guard
 * module was found next to caliberd (e says which is missing).
 */
int pge_available(struct err *e);

/* A free loopback TCP port, none of avoid[0..n_avoid). */
int pge_free_port(const int *avoid, size_t n_avoid, int *port, struct err *e);

/*
 * initdb, start, wait until it accepts connections, create the master role
 * (and db_name when not NULL, owned by it).  Any earlier directory of that
 * id is removed first, so a create interrupted by a crash can be re-run.
 */
int pge_create(const char *id, int port, const char *admin_password, const char *master_user,
	const char *master_password, const char *db_name, struct err *e);

/* Start (or adopt) the server and wait until it accepts connections. */
int pge_start(const char *id, int port, struct err *e);
/* Fast shutdown, waiting for the server to exit.  0 when not running. */
int pge_stop(const char *id, struct err *e);
/* Whether the server runs (postmaster.pid names a live postgres). */
int pge_running(const char *id);
/* Stop the server, remove the instance directory and the instance's system user. */
int pge_destroy(const char *id, struct err *e);

/* Set a role's password (SCRAM verifier made here, never the plain text in SQL). */
int pge_set_password(const char *id, int port, const char *admin_password, const char *user,
	const char *password, struct err *e);

/* Base backup of the running instance into .snapshots/<snap>/ (replacing any). */
int pge_snapshot(const char *id, int port, const char *admin_password, const char *snap,
	struct err *e);
/* Remove .snapshots/<snap>/. */
int pge_snapshot_delete(const char *snap, struct err *e);

/*
 * Make the source's archive hold everything committed until now: one
 * commit (so recovery to a time before now has a record to stop at) and a
 * WAL switch, then wait until the switched segment is archived.
 */
int pge_archive_now(const char *id, int port, const char *admin_password, struct err *e);

/*
 * A new instance new_id from snapshot snap, started on port.  With src_id
 * (point in time): the source's archived WAL is given to recovery, up to
 * target_time (seconds since the epoch), or to the end of the archive when
 * target_time < 0; the server is promoted and waited for (admin_password:
 * the snapshot's rdsadmin password, to ask it whether recovery is over).
 */
int pge_restore(const char *snap, const char *new_id, int port, const char *admin_password,
	const char *src_id, double target_time, struct err *e);

/*
 * Remove archived WAL segments that precede the start of snapshot snap (the
 * oldest base backup a point in time restore may start from).
 */
int pge_archive_prune(const char *id, const char *snap, struct err *e);

/* Modification time of the newest archived WAL segment, 0 when none. */
double pge_last_archived(const char *id);

/* Stop every server under the root (caliberd's clean exit). */
void pge_stop_all(void);

#endif
