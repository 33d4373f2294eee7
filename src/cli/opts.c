#define _GNU_SOURCE
#include "cli/opts.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

static char **current_argv;

int opts_next(int argc, char **argv, const struct option *longopts)
{
	if (current_argv != argv) {
		current_argv = argv;
		optind = 0; /* glibc: full reinitialisation */
	}
	opterr = 0;
	return getopt_long(argc, argv, "", longopts, NULL);
}

int opts_bad(const char *cmd, int argc, char **argv)
{
	const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

	/* getopt_long sets optopt to the option's value when its argument is
	 * missing, and to 0 for an option it does not know */
	if (optopt != 0)
		cli_err(cmd, "option '%s' needs a value", arg);
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
		cli_err(cmd, "%s: '%s' is not a UUID (expected 8-4-4-4-12 hex digits)", flag, val);
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
