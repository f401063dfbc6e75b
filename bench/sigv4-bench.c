/*
 * sigv4-bench.c: requests signed and verified per second, for bench/sigv4.sh.
 * A typical JSON 1.1 call (ECS DescribeServices, 1 KiB body): the body hash
 * is included, since caliberd computes it on every request.
 */
#include "compat.h"

#include <time.h>

#include "aws/sigv4.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	char body[1024], ph[SIGV4_HEX_SIZE], date[17];
	struct sigv4_header h[] = {
		{ "Host", "127.0.0.1:4566" },
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices" },
		{ "X-Amz-Date", NULL },
		{ "Authorization", NULL },
	};
	struct sigv4_request req = { "POST", "/", NULL, h, 4, ph, 0 };
	struct buf authz = BUF_INIT;
	struct err e = ERR_INIT;
	time_t t = time(NULL);
	int i, n = 20000;
	double t0, t1;

	memset(body, 'x', sizeof(body));
	sigv4_amz_date(t, date);
	h[3].value = date;
	t0 = now();
	for (i = 0; i < n; i++) {
		buf_reset(&authz);
		sigv4_hash_hex(body, sizeof(body), ph);
		if (sigv4_sign(&req, "AKIDEXAMPLE", "secret", "us-east-1", "ecs", date, &authz,
			    &e) < 0)
			return 1;
	}
	t1 = now();
	printf("sigv4_sign:   %8.0f requests/s (%.1f us each)\n", n / (t1 - t0),
		(t1 - t0) / n * 1e6);
	h[4].value = authz.data;
	req.n_headers = 5;
	t0 = now();
	for (i = 0; i < n; i++) {
		sigv4_hash_hex(body, sizeof(body), ph);
		if (sigv4_verify(&req, "AKIDEXAMPLE", "secret", t, NULL, &e) != SIGV4_VALID)
			return 1;
	}
	t1 = now();
	printf("sigv4_verify: %8.0f requests/s (%.1f us each)\n", n / (t1 - t0),
		(t1 - t0) / n * 1e6);
	buf_release(&authz);
	return 0;
}
