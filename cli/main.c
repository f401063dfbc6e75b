/*
 * main.c: caliber's entry point.  Finds the command in the table and runs
 * it; the commands themselves live in cli/cmd-*.c.
 *
 * Exit codes: 0 success, 1 the operation failed, 2 usage error (bad or
 * missing flags, invalid values; nothing was changed).
 */
#include "compat.h"

#include "cmd.h"

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: caliber <command> [flags]\n\n"
		   "Operate Caliber's clients on AWS or on the local cloud.\n\ncommands:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "\nRun 'caliber <command> --help' for a command's flags.\n"
		   "Exit codes: 0 success, 1 failure, 2 usage error (nothing was changed).\n");
}

int cmd_help(const struct cmd_entry *c)
{
	fputs(c->usage, stdout);
	return EXIT_OK;
}

int cmd_usage_error(const struct cmd_entry *c, const struct err *e)
{
	const char *nl;

	fprintf(stderr, "caliber %s: error: %s\n", c->name, e->msg);
	nl = strchr(c->usage, '\n');
	fprintf(stderr, "%.*s\nRun 'caliber %s --help' for all flags.\n",
		nl ? (int)(nl - c->usage) : (int)strlen(c->usage), c->usage, c->name);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; cmd_table[i] != NULL; i++)
		if (!strcmp(cmd_table[i]->name, argv[1]))
			return cmd_table[i]->exec(argc - 1, argv + 1);
	fprintf(stderr, "caliber: error: unknown command '%s'; run 'caliber --help' for the list\n",
		argv[1]);
	return EXIT_USAGE;
}
