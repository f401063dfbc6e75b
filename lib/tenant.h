/*
 * tenant.h: the tenant model: client names, plans, stacks, and the checks
 * every value from the command line passes before anything runs.
 *
 * A client's slug is its name lower-cased (Acme -> acme); a stack is one
 * client in one environment, "<slug>-<env>"; every AWS name derives from
 * the stack name, so the checks here keep the longest derived name within
 * its AWS limit.  All functions fill a usage error that quotes the value
 * and says what to do.
 */
#ifndef CALIBER_TENANT_H
#define CALIBER_TENANT_H

#include "err.h"

#define TENANT_SAAS_SHARED "SaaSShared"

/*
 * Load balancer and target group names are limited to 32 characters.  The
 * longest is "<slug>-<env>" plus this suffix (see infra/: "-alb", "-tg").
 */
#define TENANT_AWS_NAME_MAX 32
#define TENANT_NAME_SUFFIX_MAX 4

enum plan {
	PLAN_DEDICATED,
	PLAN_SAAS,
};

/* The four --saas-* values the runbook passes for a SaaS tenant. */
struct saas_endpoints {
	const char *docdb_uri;
	const char *rds_endpoint;
	const char *lb_dns;
	const char *lb_zone;
};

const char *plan_name(enum plan plan);
int plan_parse(const char *s, enum plan *out, struct err *e);

/* The longest client name allowed in environment env. */
size_t tenant_client_max(const char *env);
int tenant_client_check(const char *client, const char *env, struct err *e);
/* "Acme" -> "acme" into out (size >= strlen(client) + 1). */
void tenant_slug(const char *client, char *out, size_t size);
int tenant_is_shared(const char *client);
/* SaaSShared only with SaaS; --saas-* flags only for a SaaS tenant. */
int tenant_plan_check(const char *client, enum plan plan, const struct saas_endpoints *saas,
	struct err *e);
int tenant_subdomain_check(const char *subdomain, struct err *e);

/* Each --saas-* value alone: a mongodb:// URI, host:port, a DNS name, a zone id. */
int tenant_docdb_uri_check(const char *flag, const char *uri, struct err *e);
int tenant_host_port_check(const char *flag, const char *value, struct err *e);
int tenant_dns_name_check(const char *flag, const char *value, struct err *e);
int tenant_zone_id_check(const char *flag, const char *value, struct err *e);
/* All four given, none given: 1 / 0; some given: -1 with e naming the missing. */
int tenant_saas_given(const struct saas_endpoints *saas, struct err *e);
int tenant_saas_check(const struct saas_endpoints *saas, struct err *e);

#endif
