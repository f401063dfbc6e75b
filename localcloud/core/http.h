/*
 * http.h: caliberd's HTTP front (libmicrohttpd), on 127.0.0.1 only.
 */
#ifndef CALIBER_LC_HTTP_H
#define CALIBER_LC_HTTP_H

#include "err.h"

struct lc_server;

/* Listen on 127.0.0.1:srv->cfg.port; requests go to the router. */
int http_start(struct lc_server *srv, struct err *e);
/* Close the socket, finish or drop open connections, join the threads. */
void http_stop(struct lc_server *srv);

#endif
