/*
 * fuzz-logs-pattern.c: CloudWatch Logs filter patterns (FilterLogEvents'
 * filterPattern comes from any client) against messages (written by any
 * task).  The input is "pattern\0message"; neither may crash the parser
 * or the matcher, whatever the quotes, prefixes and lengths.
 */
#include "compat.h"

#include "buf.h"
#include "logs/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all = xstrndup((const char *)data, size);
	size_t plen = strlen(all);
	const char *msg = plen < size ? (const char *)data + plen + 1 : "";
	char *message = xstrndup(msg, plen < size ? size - plen - 1 : 0);

	(void)logs_filter_match(all, message);
	free(all);
	free(message);
	return 0;
}
