/*
 * fuzz-images.c: image references as a task definition gives them
 * (NAME, NAME:TAG, NAME@sha256:...; from any API client), resolved against
 * a store that does not exist, and the name and tag checks.  None may
 * crash, read past the string, or reach a path outside the store.
 */
#include "compat.h"

#include "buf.h"
#include "localcloud/images.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = xstrndup((const char *)data, size);
	char digest[IMAGES_DIGEST_LEN];
	struct err e = ERR_INIT;
	char *rootfs = NULL;

	if (images_resolve("/nonexistent-caliber-fuzz", ref, &rootfs, digest, &e) == 0)
		abort(); /* nothing is stored there */
	(void)images_name_valid(ref);
	(void)images_tag_valid(ref);
	free(rootfs);
	free(ref);
	return 0;
}
