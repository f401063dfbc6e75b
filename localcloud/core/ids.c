/*
 * ids.c: random identifiers (see ids.h).
 */
#include "compat.h"

#include <openssl/rand.h>

#include "ids.h"

void lc_random_id(char *out, size_t n, const char *alphabet)
{
	unsigned char r[64];
	size_t k = strlen(alphabet);

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		abort();
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[r[i] % k];
	out[n] = '\0';
}
