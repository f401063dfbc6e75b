/*
 * s3/s3.h: what other parts of caliberd may call in s3.  Its handlers and
 * route rows are private to s3/ (internal.h, routes.c).
 */
#ifndef CALIBER_LC_S3_H
#define CALIBER_LC_S3_H

#include "core/router.h"

/* The service row caliberd's catalogue (localcloud/services.c) lists. */
extern const struct lc_service s3_service;

struct objstore;
/* Close the object store (caliberd's shutdown). */
void s3_shutdown(void);
/* The object store behind S3 (for CloudFront's origin); NULL before s3_init. */
struct objstore *s3_objstore(void);

#endif
