/*
 * commands.c: the table of caliber's commands, in the order --help lists them.
 */
#include "compat.h"

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
	NULL,
};
