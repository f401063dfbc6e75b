/*
 * caliberd.h: the daemon's shared state, handed to every handler as
 * req->srv.  Everything in it is set up before the HTTP front starts and
 * torn down after it stops; handlers only read it (the store serialises
 * writes itself).
 */
#ifndef CALIBER_LC_CALIBERD_H
#define CALIBER_LC_CALIBERD_H

#include "localcloud/config.h"
#include "store.h"

struct lc_http;

/* names of streamed bodies in <home>/tmp; caliberd removes them at start */
#define LC_TMP_BODY_PREFIX "body-"

struct lc_server {
	struct localcloud_config cfg;
	struct localcloud_credentials creds;
	struct store *store;
	unsigned char master_key[32];	/* seals secret values, see crypt.h */
	char *tmp_dir;			/* <home>/tmp: streamed bodies (LC_TMP_BODY_PREFIX) */
	char *objects_dir;		/* <home>/objects: services' files */
	struct lc_http *http;
};

/* Log a line to stderr (the log file) with a timestamp; never secrets. */
void lc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
