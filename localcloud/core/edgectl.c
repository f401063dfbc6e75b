/*
 * edgectl.c: the edge put together (see edgectl.h).
 */
#include "compat.h"

#include <pthread.h>

#include "buf.h"
#include "caliberd.h"
#include "ca.h"
#include "edge.h"
#include "edgectl.h"
#include "edge-origin.h"

#define EDGECTL_MAX_SOURCES 8

static edgectl_source_fn sources[EDGECTL_MAX_SOURCES];
static size_t n_sources;
static struct ca *edge_ca;
static struct edge *edge;
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
/* the sites of the last configuration written (under sync_lock) */
static struct edgectl_sites applied;

void edgectl_register(edgectl_source_fn fn)
{
	for (size_t i = 0; i < n_sources; i++)
		if (sources[i] == fn)
			return;
	if (n_sources < EDGECTL_MAX_SOURCES)
		sources[n_sources++] = fn;
}

void edgectl_sites_add(struct edgectl_sites *l, const char *name, enum edge_site_kind kind,
	const char *distribution_id, const char *upstreams)
{
	struct edge_site *s;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	s = &l->items[l->n++];
	s->name = xstrdup(name);
	s->kind = kind;
	s->distribution_id = distribution_id ? xstrdup(distribution_id) : NULL;
	s->upstreams = upstreams ? xstrdup(upstreams) : NULL;
}

static void sites_release(struct edgectl_sites *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->items[i].name);
		free((char *)l->items[i].distribution_id);
		free((char *)l->items[i].upstreams);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* The upstreams of the proxy site name in l, NULL when l has no such site. */
static const char *sites_upstreams(const struct edgectl_sites *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].kind == EDGE_SITE_PROXY && !strcmp(l->items[i].name, name))
			return l->items[i].upstreams ? l->items[i].upstreams : "";
	return NULL;
}

/*
 * Under sync_lock, after nginx took generation gen: one log line per
 * load-balanced name whose targets changed, so that the log says which
 * targets nginx had for a name, and from when (a request that failed can
 * be put beside it).
 */
static void sites_log_changes(const struct edgectl_sites *was, const struct edgectl_sites *now,
	unsigned long gen)
{
	for (size_t i = 0; i < now->n; i++) {
		const struct edge_site *s = &now->items[i];
		const char *before, *after;

		if (s->kind != EDGE_SITE_PROXY || sites_upstreams(now, s->name) != s->upstreams)
			continue; /* not a proxy site, or a later duplicate that nginx ignores */
		after = s->upstreams ? s->upstreams : "";
		before = sites_upstreams(was, s->name);
		if (before != NULL && !strcmp(before, after))
			continue;
		if (*after)
			lc_log("edge: generation %lu: '%s' routes to %s (before: %s)", gen, s->name,
				after, before == NULL ? "not served" : *before ? before : "no target");
		else
			lc_log("edge: generation %lu: '%s' has no healthy target: it answers 503 "
				"(before: %s)", gen, s->name,
				before == NULL ? "not served" : *before ? before : "no target");
	}
}

int edgectl_sync(struct lc_server *srv, struct err *e)
{
	struct edgectl_sites l = { NULL, 0, 0 };
	int rc = -1;

	/* One sync at a time, so the last change is the one applied. */
	pthread_mutex_lock(&sync_lock);
	/* before edgectl_start (a supervisor already running): the start applies all */
	if (edge == NULL) {
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < n_sources; i++)
		if (sources[i](srv, &l, e) < 0)
			goto out;
	rc = edge_apply(edge, l.items, l.n, e);
	if (rc == 0) {
		sites_log_changes(&applied, &l, edge_generation(edge));
		sites_release(&applied);
		applied = l;
		memset(&l, 0, sizeof(l));
	}
out:
	pthread_mutex_unlock(&sync_lock);
	sites_release(&l);
	return rc;
}

/* A site the edge left out: in caliberd's log, for whoever owns it to see. */
static void edgectl_warn(const char *msg)
{
	lc_log("edge: %s", msg);
}

int edgectl_start(struct lc_server *srv, struct err *e)
{
	struct edge_config cfg;
	struct edge *started = NULL;
	char *ca_dir = localcloud_path(&srv->cfg, "ca");
	char *edge_dir = localcloud_path(&srv->cfg, "edge");
	char *origin = NULL;
	const char *nginx = getenv("CALIBER_NGINX");
	int port, rc = -1;

	if (ca_open(ca_dir, &edge_ca, e) < 0)
		goto out;
	if (edge_origin_start(srv, &port, e) < 0)
		goto out;
	origin = xasprintf("127.0.0.1:%d", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = edge_dir;
	cfg.nginx = nginx && *nginx ? nginx : (access("/usr/sbin/nginx", X_OK) == 0 ?
		"/usr/sbin/nginx" : "nginx");
	cfg.listen_address = "127.0.0.1";
	cfg.http_port = srv->cfg.edge_http_port;
	cfg.https_port = srv->cfg.edge_https_port;
	cfg.origin = origin;
	cfg.origin_token = edge_origin_token();
	cfg.warn = edgectl_warn;
	if (edge_start(&cfg, edge_ca, &started, e) < 0) {
		err_prefix(e, "edge");
		goto out;
	}
	pthread_mutex_lock(&sync_lock);
	edge = started;
	pthread_mutex_unlock(&sync_lock);
	lc_log("edge: nginx (pid %d) on https://127.0.0.1:%d and http://127.0.0.1:%d, "
		"ca '%s/ca.pem'", edge_pid(started), cfg.https_port, cfg.http_port, ca_dir);
	rc = edgectl_sync(srv, e);
out:
	free(ca_dir);
	free(edge_dir);
	free(origin);
	return rc;
}

int edgectl_purge(const char *distribution_id, const char *const *paths, size_t n,
	struct err *e)
{
	if (edge == NULL)
		return 0;
	return edge_purge(edge, distribution_id, paths, n, e);
}

const char *edgectl_ca_bundle(void)
{
	return edge_ca ? ca_bundle_path(edge_ca) : NULL;
}

void edgectl_stop(void)
{
	edge_close(edge);
	edge = NULL;
	pthread_mutex_lock(&sync_lock);
	sites_release(&applied);
	pthread_mutex_unlock(&sync_lock);
	edge_origin_stop();
	ca_close(edge_ca);
	edge_ca = NULL;
}
