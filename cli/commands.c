/*
 * commands.c: the table of caliber's commands, in the order --help lists them.
 */
#include "compat.h"

#include "cmd.h"

extern const struct cmd_entry cmd_api;

const struct cmd_entry *const cmd_table[] = {
	&cmd_api,
	NULL,
};
