/*
 * cloudfront/internal.h: private to cloudfront/: its start-up function, its
 * typed handlers (api.c), which routes.c routes to, and its state in the
 * store (state.c).  Other services use cloudfront.h.
 *
 * Ownership: a struct cf_dist filled here owns its config and caller
 * reference (cf_dist_release(); cf_dists_free() for an array); a struct
 * cf_invalidation owns its batch (json_decref()), and an array of them is
 * free()d.  The store functions run inside the caller's transaction unless
 * they say otherwise.
 */
#ifndef CALIBER_LC_CLOUDFRONT_INTERNAL_H
#define CALIBER_LC_CLOUDFRONT_INTERNAL_H

#include "aws/codec.h"
#include "buf.h"
#include "core/router.h"
#include "cloudfront.h"

/* What the edge needs from a DistributionConfig (api.c reads it). */
struct cf_config {
	const char *caller_reference;	/* borrowed from the config */
	char *bucket;
	char *default_root;
	struct buf aliases;		/* space-separated, lower case */
	long min_ttl, default_ttl, max_ttl;
	int enabled;
};

struct cf_dist {
	char id[16];
	char domain[64];
	char etag[16];
	json_t *config;			/* the DistributionConfig, typed */
	char *caller_reference;
	double created;
	int enabled;
	int n_in_progress;
};

struct cf_invalidation {
	char id[16];
	char status[16];
	double created;
	json_t *batch;			/* the InvalidationBatch, typed; NULL in lists */
};

int cf_init(struct lc_server *srv, struct err *e);

/* Handlers (api.c). */
int cf_create_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_get_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_get_distribution_config(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_list_distributions(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_update_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_delete_distribution(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_create_invalidation(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_get_invalidation(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int cf_list_invalidations(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

/* Distributions (state.c): cf_dist_load() 1 found (with its in-progress count), 0 not, -1. */
int cf_dist_load(struct lc_server *srv, const char *id, struct cf_dist *d, struct err *e);
void cf_dist_release(struct cf_dist *d);
/* Every distribution (id, domain, config, created), oldest first. */
int cf_dists_load(struct lc_server *srv, struct cf_dist **out, size_t *n, struct err *e);
void cf_dists_free(struct cf_dist *d, size_t n);
/* Is one of aliases (space-separated) another distribution's?  1, 0, -1. */
int cf_alias_taken(struct lc_server *srv, const char *aliases, struct err *e);
/* 0, 1 when the caller reference is taken, -1 on error. */
int cf_dist_insert(struct lc_server *srv, const struct cf_dist *d, const struct cf_config *c,
	struct err *e);
/* d's config and etag, c's edge fields. */
int cf_dist_update(struct lc_server *srv, const struct cf_dist *d, const struct cf_config *c,
	struct err *e);
int cf_dist_delete(struct lc_server *srv, const char *id, struct err *e);

/* Invalidations: insert 0, 1 when the caller reference is taken, -1; get 1, 0, -1. */
int cf_invalidation_insert(struct lc_server *srv, const char *id, const char *dist,
	const char *caller, const char *paths, const json_t *batch, double created, struct err *e);
/* Mark id Completed (own transaction). */
int cf_invalidation_complete(struct lc_server *srv, const char *id, struct err *e);
int cf_invalidation_get(struct lc_server *srv, const char *dist, const char *id,
	struct cf_invalidation *out, struct err *e);
/* The distribution's invalidations, newest first (without batches). */
int cf_invalidations_load(struct lc_server *srv, const char *dist, struct cf_invalidation **out,
	size_t *n, struct err *e);

#endif
