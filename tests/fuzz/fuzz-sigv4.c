/*
 * fuzz-sigv4.c: arbitrary bytes as a received request, through the SigV4
 * canonicalisation and the verifier (the code caliberd runs on every
 * request before it knows who sent it).
 *
 * Input layout, '\n'-separated: method, path, query, then header lines
 * "name:value" up to an empty line; the rest is the body.  One of the
 * headers may be an Authorization header, so the parser of that is fed too.
 */
#include "compat.h"

#include "aws/sigv4.h"

#define FUZZ_MAX_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (line == NULL)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *p = text, *line, *body = NULL;
	struct sigv4_header headers[FUZZ_MAX_HEADERS];
	struct sigv4_request req;
	struct buf creq = BUF_INIT, list = BUF_INIT;
	struct sigv4_scope scope;
	struct err e = ERR_INIT;
	char ph[SIGV4_HEX_SIZE];
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	req.method = next_line(&p);
	req.path = next_line(&p);
	req.query = next_line(&p);
	while ((line = next_line(&p)) != NULL) {
		char *colon;

		if (*line == '\0') {
			body = p;
			break;
		}
		colon = strchr(line, ':');
		if (colon == NULL || n == FUZZ_MAX_HEADERS)
			continue;
		*colon = '\0';
		headers[n].name = line;
		headers[n].value = colon + 1;
		n++;
	}
	req.headers = headers;
	req.n_headers = n;
	req.s3_path_rules = size > 0 && (data[0] & 1);
	if (req.method == NULL)
		goto out;
	if (sigv4_payload_hash(&req, body, body ? strlen(body) : 0, ph) == 0)
		req.payload_hash = ph;
	sigv4_canonical_request(&req, NULL, &creq, &list, &e);
	sigv4_verify(&req, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		(time_t)1440938160, &scope, &e);
out:
	buf_release(&creq);
	buf_release(&list);
	free(text);
	return 0;
}
