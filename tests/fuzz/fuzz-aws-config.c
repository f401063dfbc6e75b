/*
 * fuzz-aws-config.c: arbitrary bytes as ~/.aws/config or ~/.aws/credentials
 * through the profile file parser, then a few lookups of what it built.
 */
#include "compat.h"

#include "aws/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_ini ini = AWS_INI_INIT;
	struct err e = ERR_INIT;
	size_t i;

	if (aws_ini_parse(&ini, (const char *)data, size, &e) == 0) {
		for (i = 0; i < ini.n_sections; i++) {
			const struct aws_ini_section *s = &ini.sections[i];

			if (s->n_entries > 0)
				(void)aws_ini_get(&ini, s->name, s->entries[0].key);
		}
		(void)aws_ini_get(&ini, "default", "region");
		(void)aws_ini_has_section(&ini, "profile x");
	}
	aws_ini_release(&ini);
	return 0;
}
