/*
 * model-value.c: the scalar encodings the AWS protocols share: timestamps in
 * their three formats, base64, UUIDs for idempotency tokens, percent- and
 * form-encoding, and doubles written as Python writes them (botocore's
 * bodies are signed, so caliber must produce the very same bytes).
 */
#include "compat.h"

#include <ctype.h>
#include <math.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aws/model.h"

static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* 2019-12-16T22:48:18.123-01:00, 2019-12-16T22:48:18Z, 20191216T224818Z */
static int time_parse_iso(const char *s, double *out)
{
	struct tm tm;
	const char *p = s;
	double frac = 0, scale = 0.1;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, basic;

	memset(&tm, 0, sizeof(tm));
	if (parse_digits(&p, 4, &y) < 0)
		return -1;
	basic = *p != '-';
	if (!basic)
		p++;
	if (parse_digits(&p, 2, &mo) < 0)
		return -1;
	if (!basic && *p++ != '-')
		return -1;
	if (parse_digits(&p, 2, &d) < 0)
		return -1;
	h = mi = sec = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (parse_digits(&p, 2, &h) < 0)
			return -1;
		if (!basic && *p++ != ':')
			return -1;
		if (parse_digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':' || (basic && isdigit((unsigned char)*p))) {
			if (*p == ':')
				p++;
			if (parse_digits(&p, 2, &sec) < 0)
				return -1;
		}
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p)) {
				frac += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			p++;
			if (parse_digits(&p, 2, &oh) < 0)
				return -1;
			if (*p == ':')
				p++;
			if (*p && parse_digits(&p, 2, &om) < 0)
				return -1;
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm) + frac - sign * (oh * 3600 + om * 60);
	return 0;
}

/* Tue, 29 Apr 2014 18:30:38 GMT */
static int time_parse_rfc822(const char *s, double *out)
{
	struct tm tm;
	char mon[4], zone[8];
	int d, y, h, mi, sec, n = 0;
	size_t i;
	const char *comma = strchr(s, ',');

	memset(&tm, 0, sizeof(tm));
	if (comma)
		s = comma + 1;
	if (sscanf(s, " %d %3s %d %d:%d:%d %7s%n", &d, mon, &y, &h, &mi, &sec, zone, &n) < 7)
		return -1;
	if (strcmp(zone, "GMT") && strcmp(zone, "UTC") && strcmp(zone, "+0000"))
		return -1;
	for (i = 0; i < ARRAY_SIZE(month_names); i++)
		if (!strcasecmp(mon, month_names[i]))
			break;
	if (i == ARRAY_SIZE(month_names))
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = (int)i;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm);
	return 0;
}

/* Years 1 to 9999, what every timestamp format here can write. */
#define TIME_MIN (-62135596800.0)
#define TIME_MAX 253402300799.0

static int time_in_range(double t)
{
	return isfinite(t) && t >= TIME_MIN && t <= TIME_MAX;
}

static int time_parse_any(const char *s, double *out);

/* A timestamp outside years 1 to 9999 is refused (-1), as AWS refuses it. */
int aws_time_parse(const char *s, double *out)
{
	double t;

	if (time_parse_any(s, &t) < 0 || !time_in_range(t))
		return -1;
	*out = t;
	return 0;
}

static int time_parse_any(const char *s, double *out)
{
	char *end;
	double v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end == '\0' && errno == 0 && isfinite(v) && !strchr(s, '-')) {
		*out = v;
		return 0;
	}
	if (time_parse_iso(s, out) == 0)
		return 0;
	return time_parse_rfc822(s, out);
}

int aws_time_from_json(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		if (!time_in_range(json_number_value(v)))
			return -1;
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v))
		return aws_time_parse(json_string_value(v), out);
	return -1;
}

static void split_time(double t, struct tm *tm, long *usec)
{
	/* callers pass parsed times; a value from elsewhere is held in range */
	double c = isnan(t) ? 0 : t < TIME_MIN ? TIME_MIN : t > TIME_MAX ? TIME_MAX : t;
	double whole = floor(c);
	time_t secs = (time_t)whole;

	*usec = lround((c - whole) * 1e6);
	if (*usec >= 1000000) {
		secs++;
		*usec -= 1000000;
	}
	gmtime_r(&secs, tm);
}

void aws_time_format(double t, const char *format, struct buf *out)
{
	struct tm tm;
	long usec;

	split_time(t, &tm, &usec);
	if (format && !strcmp(format, "rfc822")) {
		buf_appendf(out, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
			tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			tm.tm_min, tm.tm_sec);
	} else if (format && !strcmp(format, "unixTimestamp")) {
		if (t == floor(t))
			buf_appendf(out, "%.0f", t);
		else
			aws_double_format(t, out);
	} else if (format && !strcmp(format, "iso8601ms")) {
		buf_appendf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec / 1000);
	} else {
		buf_appendf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		/* botocore writes microseconds only when there are some */
		if (usec)
			buf_appendf(out, ".%06ld", usec);
		buf_appendc(out, 'Z');
	}
}

json_t *aws_time_to_json(double t)
{
	struct buf b = BUF_INIT;
	struct tm tm;
	long usec;
	json_t *v;

	split_time(t, &tm, &usec);
	buf_appendf(&b, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (usec)
		buf_appendf(&b, ".%06ld", usec);
	buf_appends(&b, "+00:00");
	v = json_string(buf_str(&b));
	buf_release(&b);
	return v;
}

void aws_base64_encode(const void *data, size_t len, struct buf *out)
{
	size_t n = 4 * ((len + 2) / 3);
	unsigned char *tmp = xmalloc(n + 1);

	EVP_EncodeBlock(tmp, data, (int)len);
	buf_append(out, tmp, n);
	free(tmp);
}

int aws_base64_decode(const char *s, size_t len, struct buf *out)
{
	unsigned char *tmp;
	size_t pad = 0, i, clean_len = 0;
	char *clean;
	int n;

	/* EVP_DecodeBlock wants no whitespace and a multiple of 4 characters */
	clean = xmalloc(len + 4);
	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			clean[clean_len++] = s[i];
	while (clean_len % 4)
		clean[clean_len++] = '=';
	for (i = clean_len; i > 0 && clean[i - 1] == '='; i--)
		pad++;
	if (pad > 2) {
		free(clean);
		return -1;
	}
	tmp = xmalloc(clean_len / 4 * 3 + 1);
	n = EVP_DecodeBlock(tmp, (unsigned char *)clean, (int)clean_len);
	free(clean);
	if (n < 0) {
		free(tmp);
		return -1;
	}
	buf_append(out, tmp, (size_t)n - pad);
	free(tmp);
	return 0;
}

void aws_uuid4(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		fprintf(stderr, "caliber: fatal: no random bytes\n");
		abort();
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		b[13], b[14], b[15]);
}

void aws_uri_encode(const char *s, size_t len, int keep_slash, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
			(keep_slash && c == '/'))
			buf_appendc(out, (char)c);
		else
			buf_appendf(out, "%%%02X", c);
	}
}

void aws_form_encode(const char *s, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			buf_appendc(out, (char)c);
		else if (c == ' ')
			buf_appendc(out, '+');
		else
			buf_appendf(out, "%%%02X", c);
	}
}

void aws_double_format(double d, struct buf *out)
{
	char tmp[40];
	int prec;

	if (isnan(d)) {
		buf_appends(out, "NaN");
		return;
	}
	if (isinf(d)) {
		buf_appends(out, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* Python's repr: 1.0 not 1, 1e+16 for large values */
	if (!strpbrk(tmp, ".eni"))
		buf_appendf(out, "%s.0", tmp);
	else
		buf_appends(out, tmp);
}
