/*
 * cmd.h: the command table of caliber.
 *
 * Each cli/cmd-<name>.c exports one struct cmd_entry (after tmux's
 * cmd_entry): its name, a one-line summary, its usage text and the
 * function that runs it.  cli/main.c dispatches from the table in
 * cli/commands.c; adding a command is one file and one row there.
 */
#ifndef CALIBER_CMD_H
#define CALIBER_CMD_H

#include "err.h"

struct cmd_entry {
	const char *name;
	const char *summary;
	const char *usage;	/* full --help text */
	/* argv[0] is the command name; returns an enum exit_code */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];

/* Print the command's usage to stdout (for --help) and return EXIT_OK. */
int cmd_help(const struct cmd_entry *c);
/* Print "caliber: usage error: msg" and the usage line; return EXIT_USAGE. */
int cmd_usage_error(const struct cmd_entry *c, const struct err *e);

#endif
