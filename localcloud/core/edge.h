/*
 * edge.h: nginx as caliberd's edge (CloudFront, and the load balancer's
 * TLS front): configuration, process supervision and cache purges.
 *
 * Everything lives under one directory ($CALIBER_HOME/edge): nginx.conf,
 * the pid file, logs, and the TLS leaf certificate that the local CA
 * issues for the names served; and the temp and cache directories too,
 * unless nginx starts as root: the workers' directories then go to
 * /var/cache/caliber-edge/<hash of the edge directory>, so that
 * $CALIBER_HOME stays private (0700) to its owner.  nginx runs
 * as caliberd's child with "daemon off": a supervisor thread restarts it
 * when it dies, and a configuration change is applied with SIGHUP, which
 * nginx handles gracefully (new workers take new connections while the
 * old ones finish the requests they are serving).  Started by root, the
 * master stays root (to read the key) and the workers run as an
 * unprivileged system user (created when missing); started by anyone
 * else, everything runs as that user.
 *
 * A site is one DNS name: either a CloudFront distribution (proxied to
 * the origin server with the distribution id in a header and cached in
 * that distribution's own cache zone, keyed by path), or a proxy to a list
 * of upstream servers (the load balancer).
 *
 * Ownership: struct edge is freed by edge_close() (which stops nginx);
 * sites passed to edge_apply() are copied.
 */
#ifndef CALIBER_LC_EDGE_H
#define CALIBER_LC_EDGE_H

#include <stddef.h>

#include "ca.h"
#include "err.h"

enum edge_site_kind {
	EDGE_SITE_DISTRIBUTION,
	EDGE_SITE_PROXY,
};

struct edge_site {
	const char *name;		/* DNS name served, lower case */
	enum edge_site_kind kind;
	const char *distribution_id;	/* EDGE_SITE_DISTRIBUTION */
	const char *upstreams;		/* EDGE_SITE_PROXY: "127.0.0.1:8001 127.0.0.1:8002" */
};

struct edge_config {
	const char *dir;		/* $CALIBER_HOME/edge */
	const char *nginx;		/* the nginx binary; NULL: "nginx" from PATH */
	const char *listen_address;	/* "127.0.0.1" */
	int http_port;			/* 8080: redirects to HTTPS */
	int https_port;			/* 8443 */
	const char *origin;		/* "127.0.0.1:PORT" of the distribution origin server */
	const char *origin_token;	/* sent to the origin in X-Caliber-Edge-Token */
	const char *worker_user;	/* when root; NULL: "caliber" */
	/* when root: where the workers' directories go; NULL: /var/cache/caliber-edge */
	const char *work_base;
	/* told of each site left out of the edge, and why; NULL: stderr */
	void (*warn)(const char *msg);
};

struct edge;

/*
 * Prepare the directory, start nginx (with no sites yet) and its
 * supervisor thread.  ca issues the TLS certificates; it must outlive the
 * edge.
 */
int edge_start(const struct edge_config *cfg, struct ca *ca, struct edge **out, struct err *e);

/*
 * Serve exactly these sites: rewrite nginx.conf (and the certificate when
 * the set of names changed), check it with nginx -t, and reload nginx
 * gracefully.  A site that cannot be served (a name that is no DNS name,
 * upstreams that are no address:port pairs, a server nginx -t refuses) is
 * left out and reported to cfg->warn; the others are applied.  -1 only
 * when the configuration as a whole fails, which then stays as it was.
 * Safe to call from any thread.
 */
int edge_apply(struct edge *edge, const struct edge_site *sites, size_t n, struct err *e);

/*
 * Remove the cached copies of paths ("/index.html", or "/assets/" followed by a star: a star
 * only as the last character, matching any suffix) from a distribution's
 * cache, so the next request for them goes to the origin.
 */
int edge_purge(struct edge *edge, const char *distribution_id, const char *const *paths,
	size_t n, struct err *e);

/* The directory holding the workers' temp/ and cache/<distribution id>/. */
const char *edge_cache_dir(const struct edge *edge);

/* The pid of the running nginx master, 0 when none. */
int edge_pid(struct edge *edge);
/* The generation of the configuration written last (what /_caliber/edge-generation answers). */
unsigned long edge_generation(struct edge *edge);

/*
 * Stop nginx (gracefully, then by force), remove the workers' directory
 * under /var/cache/caliber-edge (root), and free the edge.
 */
void edge_close(struct edge *edge);

#endif
