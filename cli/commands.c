/*
 * commands.c: the table of caliber's commands, in the order --help lists them.
 */
#include "compat.h"

#include "cmd.h"

extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_plan_entry;
extern const struct cmd_entry cmd_apply_entry;
extern const struct cmd_entry cmd_destroy_entry;
extern const struct cmd_entry cmd_outputs_entry;
extern const struct cmd_entry cmd_local_entry;
extern const struct cmd_entry cmd_api_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_init_entry,
	&cmd_plan_entry,
	&cmd_apply_entry,
	&cmd_destroy_entry,
	&cmd_outputs_entry,
	&cmd_local_entry,
	&cmd_api_entry,
	NULL,
};
