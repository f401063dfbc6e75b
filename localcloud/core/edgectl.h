/*
 * edgectl.h: caliberd's edge, put together: the local CA, the nginx edge
 * (edge.c) and the origin server nginx fetches distribution content from
 * (a loopback libmicrohttpd server over the S3 object store, svc-cloudfront.c).
 *
 * Which names the edge serves is derived, never stored: edgectl_sync()
 * asks every registered source (CloudFront + Route 53: a Route 53 alias or
 * CNAME to a distribution's domain name; the load balancer: its listener
 * names) for its sites and applies the union.  Handlers call
 * edgectl_sync() after a change that may alter the set.
 */
#ifndef CALIBER_LC_EDGECTL_H
#define CALIBER_LC_EDGECTL_H

#include <stddef.h>

#include "edge.h"
#include "err.h"

struct lc_server;

/* A growable list of sites; strings are owned by the list. */
struct edgectl_sites {
	struct edge_site *items;
	size_t n, cap;
};

void edgectl_sites_add(struct edgectl_sites *l, const char *name, enum edge_site_kind kind,
	const char *distribution_id, const char *upstreams);

/* A source of sites: append yours to l; return 0, or -1 with e. */
typedef int (*edgectl_source_fn)(struct lc_server *srv, struct edgectl_sites *l, struct err *e);

/* Register a source (at init, before edgectl_start). */
void edgectl_register(edgectl_source_fn fn);

/* Start the CA, the origin server and nginx, and apply the current sites. */
int edgectl_start(struct lc_server *srv, struct err *e);
/* Recompute the sites and apply them (serialised; safe from any handler). */
int edgectl_sync(struct lc_server *srv, struct err *e);
/* Purge paths from a distribution's edge cache. */
int edgectl_purge(const char *distribution_id, const char *const *paths, size_t n,
	struct err *e);
/* The CA bundle clients trust (AWS_CA_BUNDLE); NULL before start. */
const char *edgectl_ca_bundle(void);
void edgectl_stop(void);

#endif
