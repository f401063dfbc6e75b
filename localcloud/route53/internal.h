/*
 * route53/internal.h: private to route53/: its start-up function, its
 * typed handlers (api.c), which routes.c routes to, and its state in the
 * store (state.c), which the handlers use.  Other services use route53.h.
 *
 * Ownership: strings returned as char * and rows filled by *_load() are
 * the caller's (free(), r53_zones_free(), r53_records_free()).  The store
 * functions run inside the caller's transaction unless they say otherwise.
 */
#ifndef CALIBER_LC_ROUTE53_INTERNAL_H
#define CALIBER_LC_ROUTE53_INTERNAL_H

#include "aws/codec.h"
#include "buf.h"
#include "core/router.h"
#include "route53.h"

/* Every zone's name servers (its NS record and DelegationSet). */
#define R53_NAME_SERVER_1 "ns-1.caliber.localhost"
#define R53_NAME_SERVER_2 "ns-2.caliber.localhost"

/* One change of a batch, as the API read it. */
struct r53_change {
	char *action;
	char *name;		/* normalised: lower case, final dot */
	char *type;
	char *set_id;
	long ttl;		/* -1: none */
	struct buf vals;	/* values joined by '\n' */
	char *alias_zone, *alias_dns;
	int alias_eval;
};

struct r53_zone_row {
	char *id, *name, *caller, *comment, *sort;
	int private_zone;
	long count;
};

struct r53_rr_row {
	char *name, *type, *set_id, *vals, *alias_zone, *alias_dns, *sort;
	long ttl;
	int alias_eval;
};

int r53_init(struct lc_server *srv, struct err *e);

/* Handlers (api.c). */
int r53_create_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_list_hosted_zones(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_list_hosted_zones_by_name(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_get_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_delete_hosted_zone(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_change_resource_record_sets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_list_resource_record_sets(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);
int r53_get_change(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

/*
 * Names (state.c).  r53_name_problem(): what Route 53 finds wrong with a
 * name, in its words ("DomainLabelTooLong (Domain label is too long)"), or
 * NULL.  r53_name_normalize(): the name as Route 53 keeps it (lower case,
 * final dot, "\052" read as '*'), NULL when it is not one.  r53_in_zone():
 * is name in zone (both normalised).  r53_reversed(): the name's labels
 * from the right, the listing order.
 */
const char *r53_name_problem(const char *in);
char *r53_name_normalize(const char *in);
int r53_in_zone(const char *name, const char *zone);
char *r53_reversed(const char *name);

/*
 * Zones.  r53_zone_insert(): the zone with its NS and SOA record sets, as
 * AWS starts one; 0, 1 when the caller reference is taken, -1 on error.
 */
int r53_zone_insert(struct lc_server *srv, const char *id, const char *name, const char *caller,
	const char *comment, int private_zone, double created, struct err *e);
/* Every zone with its record count, in listing order. */
int r53_zones_load(struct lc_server *srv, struct r53_zone_row **out, size_t *n, struct err *e);
void r53_zones_free(struct r53_zone_row *z, size_t n);
/* The zone's name, or NULL when there is no such zone. */
char *r53_zone_name(struct lc_server *srv, const char *id, struct err *e);
/* How many record sets besides the zone's own NS and SOA; -1 on error. */
int r53_zone_extra_records(struct lc_server *srv, const char *id, const char *name, struct err *e);
int r53_zone_delete(struct lc_server *srv, const char *id, struct err *e);

/* Record sets.  ttl -1 and vals NULL for an alias (alias_dns set). */
int r53_record_insert(struct lc_server *srv, const char *zone, const char *name,
	const char *type, const char *set_id, long ttl, const char *vals, const char *alias_zone,
	const char *alias_dns, int alias_eval, struct err *e);
int r53_record_delete(struct lc_server *srv, const char *zone, const struct r53_change *c,
	struct err *e);
/* Does c's set exist: -1 error, 0 no, 1 yes but differs, 2 yes and equal. */
int r53_record_state(struct lc_server *srv, const char *zone, const struct r53_change *c,
	struct err *e);
/* Sets of other types at name (only CNAMEs when cname_only); -1 on error. */
int r53_others_at_name(struct lc_server *srv, const char *zone, const char *name,
	const char *type, int cname_only, struct err *e);
/* The zone's record sets in listing order. */
int r53_records_load(struct lc_server *srv, const char *zone, struct r53_rr_row **out, size_t *n,
	struct err *e);
void r53_records_free(struct r53_rr_row *rows, size_t n);
void r53_change_release(struct r53_change *c);

/* Changes.  r53_change_get(): 1 found, 0 not, -1 error. */
int r53_change_insert(struct lc_server *srv, const char *id, double when, const char *comment,
	struct err *e);
int r53_change_get(struct lc_server *srv, const char *id, double *when, char **comment,
	struct err *e);
/* Mark id as not applied by the edge yet (own transaction). */
int r53_change_pending(struct lc_server *srv, const char *id, struct err *e);
/* Is id applied by the edge?  A pending one is tried again (own transactions). */
int r53_change_insync(struct lc_server *srv, const char *id);

#endif
