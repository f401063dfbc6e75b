/*
 * proto.c: decoding of the untrusted parts of a request before routing
 * (see proto.h).  Every function bounds what it reads by the given length.
 */
#include "compat.h"

#include "buf.h"
#include "localcloud/proto.h"

void lc_params_free(struct lc_param *p, size_t n)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

const char *lc_params_get(const struct lc_param *p, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return p[i].value;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *lcproto_decode(const char *s, size_t len, int plus_space, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
			hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return out;
}

int lcproto_form_parse(const char *s, size_t len, size_t max_params, struct lc_param **params,
	size_t *n)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq = (size_t)-1, end, nlen, vlen = 0;

		while (i < len && s[i] != '&') {
			if (s[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		end = i;
		if (i < len)
			i++; /* skip '&' */
		if (end == start)
			continue;
		if (*n >= max_params)
			return -1;
		*params = xrealloc(*params, (*n + 1) * sizeof(**params));
		if (eq == (size_t)-1) {
			(*params)[*n].name = lcproto_decode(s + start, end - start, 1, &nlen);
			(*params)[*n].value = xstrdup("");
		} else {
			(*params)[*n].name = lcproto_decode(s + start, eq - start, 1, &nlen);
			(*params)[*n].value = lcproto_decode(s + eq + 1, end - eq - 1, 1, &vlen);
		}
		(*n)++;
		if (strlen((*params)[*n - 1].name) != nlen || strlen((*params)[*n - 1].value) != vlen)
			return -2;
	}
	return 0;
}

/* Copy s[0..len) into dst of size; -1 when it does not fit or is empty. */
static int copy_part(char *dst, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int lcproto_scope_parse(const char *h, char *key_id, size_t key_id_size, char *region,
	size_t region_size, char *service, size_t service_size)
{
	const char *p, *parts[5];
	size_t lens[5];
	int i;

	p = strstr(h, "Credential=");
	p = p ? p + strlen("Credential=") : h;
	for (i = 0; i < 5; i++) {
		size_t l = strcspn(p, "/, ");

		parts[i] = p;
		lens[i] = l;
		p += l;
		if (i < 4) {
			if (*p != '/')
				return -1;
			p++;
		}
	}
	if (lens[4] != strlen("aws4_request") || strncmp(parts[4], "aws4_request", lens[4]) != 0)
		return -1;
	if (copy_part(key_id, key_id_size, parts[0], lens[0]) < 0 ||
		copy_part(region, region_size, parts[2], lens[2]) < 0 ||
		copy_part(service, service_size, parts[3], lens[3]) < 0)
		return -1;
	return 0;
}

int lcproto_path_match(const char *pattern, const char *raw_path, struct lc_param *params,
	size_t max, size_t *n)
{
	const char *p = pattern, *s = raw_path;
	size_t start_n = *n;

	while (*p != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			int greedy;
			size_t name_len, vlen;

			if (close == NULL)
				goto nomatch;
			greedy = close > p + 1 && close[-1] == '+';
			name_len = (size_t)(close - p - 1) - (greedy ? 1 : 0);
			vlen = greedy ? strlen(s) : strcspn(s, "/");
			if (vlen == 0 || *n >= max)
				goto nomatch;
			if (!greedy && close[1] != '\0' && close[1] != '/')
				goto nomatch;
			params[*n].name = xstrndup(p + 1, name_len);
			params[*n].value = lcproto_decode(s, vlen, 0, NULL);
			(*n)++;
			s += vlen;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			goto nomatch;
		p++;
		s++;
	}
	if (*s == '\0')
		return 1;
nomatch:
	while (*n > start_n) {
		(*n)--;
		free(params[*n].name);
		free(params[*n].value);
		params[*n].name = params[*n].value = NULL;
	}
	return 0;
}
