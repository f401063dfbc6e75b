/*
 * fuzz-tenant.c: every check on a flag value, with arbitrary bytes.  The
 * values come from operators and from scripts that build them; none may
 * crash or read past the string.
 */
#include "compat.h"

#include "buf.h"
#include "tenant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct saas_endpoints saas = { s, s, s, s };
	struct err e = ERR_INIT;
	char slug[64];
	enum plan plan;

	(void)tenant_client_check(s, "stg", &e);
	tenant_slug(s, slug, sizeof(slug));
	(void)plan_parse(s, &plan, &e);
	(void)tenant_plan_check(s, PLAN_SAAS, &saas, &e);
	(void)tenant_subdomain_check(s, &e);
	(void)tenant_saas_check(&saas, &e);
	(void)tenant_saas_given(&saas, &e);
	free(s);
	return 0;
}
