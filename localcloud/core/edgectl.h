/*
 * edgectl.h: caliberd's edge, put together: the local CA, the nginx edge
 * (edge.c) and the origin server nginx fetches distribution content from
 * (edge-origin.c, a loopback libmicrohttpd server over the S3 object store).
 * caliberd's main starts it after every service's init and stops it after
 * the services that use it.  Services call the edge, never the reverse:
 * what the edge needs from them, they register at init (edgectl_register,
 * edgectl_origin_register).
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
struct objstore;

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

/*
 * What the origin server serves for a distribution; the strings are owned
 * (edgectl_origin_release), objects is borrowed.
 */
struct edgectl_origin {
	char *bucket;			/* NULL: no such distribution */
	char *default_root;		/* the default root object, "" none */
	long min_ttl, default_ttl, max_ttl;
	int enabled;
	struct objstore *objects;	/* the object store the bucket is in */
};

/*
 * The origin's source: fill out for distribution_id (out->bucket NULL
 * when there is none) in a store transaction of its own; 0, or -1 with e.
 */
typedef int (*edgectl_origin_fn)(struct lc_server *srv, const char *distribution_id,
	struct edgectl_origin *out, struct err *e);

/* Register the origin's source (at init, before edgectl_start). */
void edgectl_origin_register(edgectl_origin_fn fn);
void edgectl_origin_release(struct edgectl_origin *o);

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
