#define _GNU_SOURCE
#include "cli/opts.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

static char **current_argv;
static const char *abbreviated; /* option text that only abbreviated a name */

/* getopt_long accepts any unique prefix ("--env" for "--envelope"); we do
 * not, so adding an option later can never change what a script means. */
static int spelled_out(const char *text, const char *name)
{
	size_t n = strlen(name);

	return strncmp(text, "--", 2) == 0 && strncmp(text + 2, name, n) == 0 &&
	       (text[2 + n] == '\0' || text[2 + n] == '=');
}

int opts_next(int argc, char **argv, const struct option *longopts)
{
	const char *text;
	int c, idx = -1;

	if (current_argv != argv) {
		current_argv = argv;
		optind = 0; /* glibc: full reinitialisation */
	}
	opterr = 0;
	abbreviated = NULL;
	c = getopt_long(argc, argv, "h", longopts, &idx);
	if (c == -1 || c == '?' || idx < 0)
		return c;
	/* a separate value ("--opt VALUE") moved optind past two words */
	text = (longopts[idx].has_arg == required_argument && optarg == argv[optind - 1])
	           ? argv[optind - 2]
	           : argv[optind - 1];
	if (!spelled_out(text, longopts[idx].name)) {
		abbreviated = text;
		optopt = 0;
		return '?';
	}
	return c;
}

int opts_bad(const char *cmd, int argc, char **argv)
{
	const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

	if (abbreviated)
		cli_err(cmd, "unknown option '%s' (spell options out in full; run 'fwtrust %s --help')",
		        abbreviated, cmd);
	else if (optopt != 0 && strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL)
		cli_err(cmd, "option '%.*s' takes no value", (int)(strchr(arg, '=') - arg), arg);
	else if (optopt != 0 && strncmp(arg, "--", 2) == 0)
		cli_err(cmd, "option '%s' needs a value", arg);
	else if (optopt != 0)
		cli_err(cmd, "unknown option '-%c' (run 'fwtrust %s --help')", optopt, cmd);
	else
		cli_err(cmd, "unknown option '%s' (run 'fwtrust %s --help')", arg, cmd);
	return EXIT_USAGE;
}

int opts_missing(const char *cmd, const char *what)
{
	cli_err(cmd, "missing %s", what);
	return EXIT_USAGE;
}

int opts_extra(const char *cmd, const char *arg)
{
	cli_err(cmd, "unexpected argument '%s'", arg);
	return EXIT_USAGE;
}

int opts_uuid(const char *cmd, const char *flag, const char *val, unsigned char out[16])
{
	if (fw_uuid_parse(val, out) != FW_OK) {
		cli_err(cmd, "%s: '%s' is not a UUID (8-4-4-4-12 hex digits, or 32 hex digits)", flag,
		        val);
		return 1;
	}
	return 0;
}

int opts_u64(const char *cmd, const char *flag, const char *val, unsigned long long max,
             unsigned long long *out)
{
	uint64_t v;

	if (fw_parse_u64(val, &v) != FW_OK || v > max) {
		cli_err(cmd, "%s: '%s' is not a whole number from 0 to %llu", flag, val, max);
		return 1;
	}
	*out = v;
	return 0;
}
