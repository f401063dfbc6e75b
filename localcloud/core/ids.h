/*
 * ids.h: random identifiers in a service's own alphabet (CloudFront's
 * distribution and invalidation ids, Route 53's zone and change ids).
 */
#ifndef CALIBER_LC_IDS_H
#define CALIBER_LC_IDS_H

#include <stddef.h>

/*
 * n random characters of alphabet into out (n + 1 bytes, NUL-terminated);
 * n at most 64.  Aborts when the random generator fails: an id that is
 * not random would collide.
 */
void lc_random_id(char *out, size_t n, const char *alphabet);

#endif
