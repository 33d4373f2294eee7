#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef FWTRUST_VERSION
#define FWTRUST_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: fwtrust <command> [options]\n"
    "\n"
    "Signed firmware updates as recorded trust decisions.\n"
    "\n"
    "commands:\n"
    "  key generate   create a signing key pair (ed25519 or p256)\n"
    "  key id         print the key id of a key file\n"
    "  sign           sign a firmware image into a SUIT envelope and a signing record\n"
    "  verify         check an envelope (and its image) as a device would\n"
    "  inspect        show what an envelope says, without trusting it\n"
    "\n"
    "Run 'fwtrust <command> --help' for the options of a command.\n"
    "Exit status: 0 success, 1 verification refused, 2 usage, input or system error.\n"
    "Documentation: docs/cli.md\n";

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fwtrust %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const char *cmd, int rc, const struct fw_diag *d)
{
	cli_err(cmd, "%s", d->msg[0] ? d->msg : fw_err_str(rc));
	return rc == FW_E_VERIFY ? EXIT_REFUSED : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 && argc == 2) {
		printf("fwtrust %s\n", FWTRUST_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "key") == 0)
		return cmd_key(argc - 1, argv + 1);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 1, argv + 1);
	fprintf(stderr, "fwtrust: unknown command '%s' (run 'fwtrust --help')\n", cmd);
	return EXIT_USAGE;
}
