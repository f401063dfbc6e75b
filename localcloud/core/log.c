/*
 * log.c: caliberd's log lines (stderr, which 'caliber local start' points
 * at $CALIBER_HOME/caliberd.log).  One line per call, whole even when
 * several threads log at once.
 */
#include "compat.h"

#include <pthread.h>
#include <time.h>

#include "caliberd.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void lc_log(const char *fmt, ...)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ caliberd: ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
