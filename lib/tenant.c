/*
 * tenant.c: validation of what operators type.  Nothing here touches the
 * file system or the network: these checks run before any command does.
 */
#include "compat.h"

#include <ctype.h>

#include "tenant.h"

const char *plan_name(enum plan plan)
{
	return plan == PLAN_SAAS ? "SaaS" : "Dedicated";
}

int plan_parse(const char *s, enum plan *out, struct err *e)
{
	if (!strcmp(s, "Dedicated")) {
		*out = PLAN_DEDICATED;
		return 0;
	}
	if (!strcmp(s, "SaaS")) {
		*out = PLAN_SAAS;
		return 0;
	}
	return err_usage(e, "unknown plan '%s'; use --plan Dedicated or --plan SaaS", s);
}

size_t tenant_client_max(const char *env)
{
	/* "<slug>-<env><suffix>" within TENANT_AWS_NAME_MAX */
	return TENANT_AWS_NAME_MAX - 1 - strlen(env) - TENANT_NAME_SUFFIX_MAX;
}

int tenant_client_check(const char *client, const char *env, struct err *e)
{
	size_t i, n = strlen(client), max = tenant_client_max(env);

	if (n == 0)
		return err_usage(e, "the client name is empty; pass --client NAME, e.g. --client Acme");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)client[i];

		if (!isascii(ch) || !(isalnum(ch) || ch == '-'))
			return err_usage(e,
				"client name '%s' has '%c' at position %zu; use only letters, digits "
				"and '-'",
				client, isprint(ch) ? ch : '?', i + 1);
	}
	if (client[0] == '-' || client[n - 1] == '-')
		return err_usage(e, "client name '%s' starts or ends with '-'; AWS names derived from "
				    "it would be invalid",
			client);
	if (strstr(client, "--"))
		return err_usage(e, "client name '%s' has '--'; use single hyphens", client);
	if (n > max)
		return err_usage(e,
			"client name '%s' is %zu characters; in environment '%s' the limit is %zu, "
			"because load balancer and target group names ('<client>-%s-alb') are "
			"limited to %d characters; choose a shorter name",
			client, n, env, max, env, TENANT_AWS_NAME_MAX);
	return 0;
}

void tenant_slug(const char *client, char *out, size_t size)
{
	size_t i;

	for (i = 0; client[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)client[i]);
	out[i] = '\0';
}

int tenant_is_shared(const char *client)
{
	return !strcmp(client, TENANT_SAAS_SHARED);
}

int tenant_plan_check(const char *client, enum plan plan, const struct saas_endpoints *saas,
	struct err *e)
{
	int any = saas->docdb_uri || saas->rds_endpoint || saas->lb_dns || saas->lb_zone;

	if (!strcasecmp(client, TENANT_SAAS_SHARED) && !tenant_is_shared(client))
		return err_usage(e, "client name '%s' is reserved; the shared SaaS stack is spelt "
				    "'%s'",
			client, TENANT_SAAS_SHARED);
	if (tenant_is_shared(client) && plan != PLAN_SAAS)
		return err_usage(e, "client '%s' is the shared SaaS stack and needs --plan SaaS, not "
				    "--plan %s",
			client, plan_name(plan));
	if (any && plan != PLAN_SAAS)
		return err_usage(e, "--saas-* flags are for SaaS tenants; a --plan %s client has "
				    "its own databases and load balancer: drop them",
			plan_name(plan));
	if (any && tenant_is_shared(client))
		return err_usage(e, "--saas-* flags are for SaaS tenants; '%s' is the shared stack "
				    "they point at: drop them",
			client);
	return 0;
}

/* One DNS label: 1-63 of [a-z0-9-], not starting or ending with '-'. */
static int dns_label_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int dns_name_valid(const char *s)
{
	const char *dot;
	int labels = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	if (s[n - 1] == '.')
		n--;
	while (n > 0) {
		dot = memchr(s, '.', n);
		if (!dns_label_valid(s, dot ? (size_t)(dot - s) : n))
			return 0;
		labels++;
		if (dot == NULL)
			break;
		n -= (size_t)(dot - s) + 1;
		s = dot + 1;
	}
	return labels >= 2;
}

int tenant_subdomain_check(const char *subdomain, struct err *e)
{
	size_t i, n = strlen(subdomain);

	for (i = 0; i < n; i++)
		if (subdomain[i] >= 'A' && subdomain[i] <= 'Z')
			return err_usage(e, "subdomain '%s' has upper-case letters; DNS names here are "
					    "lower case: use '--subdomain %c...'",
				subdomain, subdomain[0] | 0x20);
	if (!dns_label_valid(subdomain, n))
		return err_usage(e,
			"subdomain '%s' is not a DNS label: use 1 to 63 lower-case letters, digits "
			"and '-', not starting or ending with '-', and no dots (e.g. --subdomain acme)",
			subdomain);
	return 0;
}

/* host[:port] with a DNS name (or IPv4 address) as host. */
static int host_port_valid(const char *s, size_t n, int need_port)
{
	char host[256];
	const char *colon = memchr(s, ':', n);
	size_t hn = colon ? (size_t)(colon - s) : n;
	long port;
	char *end;

	if (hn == 0 || hn >= sizeof(host))
		return 0;
	memcpy(host, s, hn);
	host[hn] = '\0';
	if (!dns_name_valid(host))
		return 0;
	if (colon == NULL)
		return !need_port;
	if ((size_t)(colon - s) + 1 >= n)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end != s + n || port < 1 || port > 65535 || colon[1] == '+' ||
		colon[1] == '-')
		return 0;
	return 1;
}

int tenant_docdb_uri_check(const char *flag, const char *uri, struct err *e)
{
	const char *hosts, *end, *p;

	if (strncmp(uri, "mongodb://", 10) != 0)
		return err_usage(e, "%s '%s' is not a mongodb:// URI; pass the documentdb_uri output "
				    "of the SaaSShared stack ('caliber outputs --client SaaSShared "
				    "--env ENV')",
			flag, uri);
	hosts = uri + 10;
	end = hosts + strcspn(hosts, "/?");
	if (memchr(hosts, '@', (size_t)(end - hosts)))
		return err_usage(e, "%s must not carry credentials (found '@' in the host part); "
				    "credentials live in Secrets Manager, never on the command line: "
				    "pass the URI without 'user:password@'",
			flag);
	if (end == hosts)
		return err_usage(e, "%s '%s' names no host", flag, uri);
	for (p = hosts; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (!host_port_valid(p, n, 0))
			return err_usage(e, "%s '%s': host '%.*s' is not a DNS name with an optional "
					    ":port",
				flag, uri, (int)n, p);
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

int tenant_host_port_check(const char *flag, const char *value, struct err *e)
{
	if (!host_port_valid(value, strlen(value), 1))
		return err_usage(e, "%s '%s' is not HOST:PORT (a DNS name and a port from 1 to "
				    "65535), e.g. saasshared-stg.abc123.ap-southeast-2.rds."
				    "amazonaws.com:5432",
			flag, value);
	return 0;
}

int tenant_dns_name_check(const char *flag, const char *value, struct err *e)
{
	if (!dns_name_valid(value))
		return err_usage(e, "%s '%s' is not a DNS name; pass the api_endpoint output of the "
				    "SaaSShared stack (the load balancer's DNS name)",
			flag, value);
	return 0;
}

int tenant_zone_id_check(const char *flag, const char *value, struct err *e)
{
	size_t i, n = strlen(value);

	if (n < 2 || n > 32 || value[0] != 'Z')
		goto bad;
	for (i = 1; i < n; i++)
		if (!((value[i] >= 'A' && value[i] <= 'Z') || (value[i] >= '0' && value[i] <= '9')))
			goto bad;
	return 0;
bad:
	return err_usage(e, "%s '%s' is not a Route 53 hosted zone id (upper-case letters and "
			    "digits starting with 'Z', e.g. Z1GM3OXH4ZPM65); pass the hosted_zone_id "
			    "output of the SaaSShared stack",
		flag, value);
}

int tenant_saas_given(const struct saas_endpoints *saas, struct err *e)
{
	const char *missing[4];
	int n = 0;

	if (!saas->docdb_uri)
		missing[n++] = "--saas-docdb-uri";
	if (!saas->rds_endpoint)
		missing[n++] = "--saas-rds-endpoint";
	if (!saas->lb_dns)
		missing[n++] = "--saas-api-lb-dns";
	if (!saas->lb_zone)
		missing[n++] = "--saas-api-lb-zone";
	if (n == 4)
		return 0;
	if (n == 0)
		return 1;
	return err_usage(e, "give all four --saas-* flags or none (to read them from the deployed "
			    "SaaSShared stack); missing: %s%s%s%s%s%s%s",
		missing[0], n > 1 ? " " : "", n > 1 ? missing[1] : "", n > 2 ? " " : "",
		n > 2 ? missing[2] : "", n > 3 ? " " : "", n > 3 ? missing[3] : "");
}

int tenant_saas_check(const struct saas_endpoints *saas, struct err *e)
{
	if (saas->docdb_uri && tenant_docdb_uri_check("--saas-docdb-uri", saas->docdb_uri, e) < 0)
		return -1;
	if (saas->rds_endpoint &&
		tenant_host_port_check("--saas-rds-endpoint", saas->rds_endpoint, e) < 0)
		return -1;
	if (saas->lb_dns && tenant_dns_name_check("--saas-api-lb-dns", saas->lb_dns, e) < 0)
		return -1;
	if (saas->lb_zone && tenant_zone_id_check("--saas-api-lb-zone", saas->lb_zone, e) < 0)
		return -1;
	return 0;
}
