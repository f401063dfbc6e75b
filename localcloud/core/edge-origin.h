/*
 * edge-origin.h: the edge's origin server (edge-origin.c), private to the
 * core: edgectl.c starts it before nginx and stops it after.
 */
#ifndef CALIBER_LC_EDGE_ORIGIN_H
#define CALIBER_LC_EDGE_ORIGIN_H

#include "err.h"

struct lc_server;

/* Start it on a loopback port (*port) with a fresh random token. */
int edge_origin_start(struct lc_server *srv, int *port, struct err *e);
/* Stop it and wipe the token. */
void edge_origin_stop(void);
/* The token nginx sends (X-Caliber-Edge-Token); "" before start. */
const char *edge_origin_token(void);

#endif
