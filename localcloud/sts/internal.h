/*
 * sts/internal.h: private to sts/: the handlers routes.c routes to.
 */
#ifndef CALIBER_LC_STS_INTERNAL_H
#define CALIBER_LC_STS_INTERNAL_H

#include "aws/codec.h"
#include "core/router.h"
#include "sts.h"

int sts_get_caller_identity(struct lc_request *req, const json_t *in, json_t **out,
	struct codec_error *err);

#endif
