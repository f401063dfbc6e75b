/*
 * config.h: where the local cloud keeps its state and how to reach it.
 *
 * Shared by caliberd (which creates the state) and caliber's 'local'
 * commands and any client in lib/ (which read it).  The state directory is
 * $CALIBER_HOME, else ~/.caliber/local.  It holds:
 *
 *   local.conf     the ports the daemon was last started with
 *   credentials    the one access key pair every request is signed with
 *                  (an AWS shared-credentials file, mode 0600)
 *   master.key     the key that seals secret values (mode 0600)
 *   caliberd.pid   pid of the running daemon, locked while it runs
 *   caliberd.log   the daemon's log
 *   caliberd.db    SQLite control plane (WAL)
 *   objects/ tmp/  files of services that keep data outside SQLite
 *
 * Ports: flag > environment (CALIBER_LOCAL_PORT, CALIBER_EDGE_HTTPS_PORT,
 * CALIBER_EDGE_HTTP_PORT) > local.conf > defaults 4566, 8443, 8080.
 *
 * Ownership: a struct localcloud_config owns its strings and is released
 * with localcloud_config_release(); credentials are wiped on release.
 */
#ifndef CALIBER_LOCALCLOUD_CONFIG_H
#define CALIBER_LOCALCLOUD_CONFIG_H

#include <sys/types.h>

#include "err.h"

#define LOCALCLOUD_DEFAULT_PORT 4566
#define LOCALCLOUD_DEFAULT_EDGE_HTTPS_PORT 8443
#define LOCALCLOUD_DEFAULT_EDGE_HTTP_PORT 8080
#define LOCALCLOUD_DEFAULT_REGION "us-east-1"
#define LOCALCLOUD_ACCOUNT_ID "000000000000"

struct localcloud_config {
	char *home;		/* absolute state directory */
	int port;		/* AWS API endpoint, on 127.0.0.1 */
	int edge_https_port;	/* nginx edge (CloudFront/ALB), https */
	int edge_http_port;	/* nginx edge, http (redirects to https) */
};

#define LOCALCLOUD_CONFIG_INIT { NULL, 0, 0, 0 }

struct localcloud_credentials {
	char access_key_id[32];
	char secret_access_key[64];
};

/*
 * Resolve the state directory and ports from the environment and
 * local.conf (when the directory has one).  Nothing is created.  A port of
 * 0 in *cfg before the call means "not given by a flag".
 */
int localcloud_config_load(struct localcloud_config *cfg, struct err *e);
/* Write local.conf (creating the directory, mode 0700). */
int localcloud_config_save(const struct localcloud_config *cfg, struct err *e);
void localcloud_config_release(struct localcloud_config *cfg);

/* Parse a port number "1".."65535"; usage error otherwise. */
int localcloud_port_parse(const char *s, const char *what, int *out, struct err *e);

/* "http://127.0.0.1:<port>", caller frees. */
char *localcloud_endpoint(const struct localcloud_config *cfg);
/* <home>/<name>, caller frees. */
char *localcloud_path(const struct localcloud_config *cfg, const char *name);

/* Read <home>/credentials; -1 with a message when absent or unreadable. */
int localcloud_credentials_load(const struct localcloud_config *cfg,
	struct localcloud_credentials *out, struct err *e);
/* Generate and write <home>/credentials (0600) unless it exists; then load it. */
int localcloud_credentials_ensure(const struct localcloud_config *cfg,
	struct localcloud_credentials *out, struct err *e);
void localcloud_credentials_wipe(struct localcloud_credentials *c);

/*
 * Whether a daemon runs for this state directory: the pid file exists and
 * is locked (caliberd holds an exclusive lock on it while it runs, so a
 * stale file after kill -9 reads as "not running").  *pid is set when it
 * runs.  Returns 1 running, 0 not.
 */
int localcloud_running(const struct localcloud_config *cfg, pid_t *pid);

#endif
