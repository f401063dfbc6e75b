/*
 * err.c: filling and printing struct err.
 */
#include "compat.h"

#include "err.h"

static void err_vset(struct err *e, const char *fmt, va_list ap)
{
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_usage(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	e->usage = 1;
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[120], old[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (snprintf(e->msg, sizeof(e->msg), "%s: %.900s", prefix, old) < 0)
		e->msg[0] = '\0';
	return -1;
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->usage = 0;
	e->msg[0] = '\0';
}

int err_print(const struct err *e)
{
	fprintf(stderr, "caliber: error: %s\n", e->msg[0] ? e->msg : "unknown error");
	return e->usage ? EXIT_USAGE : EXIT_FAILED;
}
