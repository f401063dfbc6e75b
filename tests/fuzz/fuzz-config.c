/*
 * fuzz-config.c: caliber.conf from arbitrary bytes.  The file is the
 * operator's, but it is parsed before anything is validated, so it must
 * never crash the tool whatever it holds.
 */
#include "compat.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct config c;
	struct err e = ERR_INIT;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%ld.conf", (long)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (config_load(&c, path, &e) == 0) {
		int i;

		for (i = 0; i < c.n_envs; i++)
			(void)config_env(&c, c.envs[i].name, &e);
		config_release(&c);
	}
	return 0;
}
