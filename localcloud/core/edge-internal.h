/*
 * edge-internal.h: the edge manager's state, for edge.c and its unit test
 * (tests/unit/test-edge.c checks the uid the workers run as).  Nothing
 * else may look inside struct edge: use edge.h.
 */
#ifndef CALIBER_LC_EDGE_INTERNAL_H
#define CALIBER_LC_EDGE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "edge.h"

struct edge_site_copy;

struct edge {
	char *dir;
	/*
	 * Where the workers write (temp/, cache/): the edge directory, or
	 * when nginx starts as root a directory of its own under
	 * /var/cache/caliber-edge, so that the unprivileged workers never
	 * need to reach into the private $CALIBER_HOME.
	 */
	char *work;
	char *nginx;
	char *listen;
	int http_port, https_port;
	char *origin;
	char *token;
	char *user;
	void (*warn)(const char *msg);
	uid_t uid;
	gid_t gid;
	int drop_privileges;
	struct ca *ca;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t supervisor;
	int supervisor_running;
	int stopping;
	pid_t pid;
	int restarts;
	unsigned long generation;	/* of the configuration written last */
	char *cert_names;		/* the names the current certificate covers, joined by ' ' */
	struct edge_site_copy *sites;
	size_t n_sites;
};

/* Whether something accepts TCP connections on addr:port (1) or not (0). */
int edge_port_open(const char *addr, int port);

#endif
