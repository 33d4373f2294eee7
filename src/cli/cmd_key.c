#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"

static const char usage_generate[] =
    "usage: fwtrust key generate --alg ed25519|p256 --out BASE\n"
    "\n"
    "Writes BASE.key (PKCS#8 PEM private key, mode 0600) and BASE.pub\n"
    "(SubjectPublicKeyInfo PEM) and prints the key id: the lower-case hex\n"
    "SHA-256 of the DER public key. Never overwrites an existing file.\n";

static const char usage_id[] =
    "usage: fwtrust key id FILE\n"
    "\n"
    "Prints the key id of a public (.pub) or private (.key) PEM key file.\n";

static int key_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"alg", required_argument, NULL, 'a'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *alg_name = NULL, *out = NULL;
	struct fw_key *key = NULL;
	struct fw_diag d = {{0}};
	char kid[2 * FW_KEY_ID_LEN + 1];
	int c, alg, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'a': alg_name = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage_generate, stdout); return EXIT_OK;
		default: return opts_bad("key generate", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("key generate", argv[optind]);
	if (alg_name == NULL)
		return opts_missing("key generate", "--alg (ed25519 or p256)");
	if (out == NULL || out[0] == '\0')
		return opts_missing("key generate", "--out BASE");
	if (fw_key_alg_parse(alg_name, &alg) != FW_OK) {
		cli_err("key generate", "--alg: '%s' is not supported (use ed25519 or p256)", alg_name);
		return EXIT_USAGE;
	}
	rc = fw_key_generate(alg, &key, &d);
	if (rc == FW_OK)
		rc = fw_key_save(key, out, &d);
	if (rc != FW_OK) {
		fw_key_free(key);
		return cli_fail("key generate", rc, &d);
	}
	fw_key_id_hex(key, kid);
	printf("%s\n", kid);
	fprintf(stderr, "wrote %s.key (private, keep it secret) and %s.pub (%s)\n", out, out,
	        fw_key_alg_name(alg));
	fw_key_free(key);
	return EXIT_OK;
}

static int key_id(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct fw_key *key = NULL;
	struct fw_diag d = {{0}}, d2 = {{0}};
	char kid[2 * FW_KEY_ID_LEN + 1];
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'h': fputs(usage_id, stdout); return EXIT_OK;
		default: return opts_bad("key id", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("key id", "expected exactly one key file");
		return EXIT_USAGE;
	}
	rc = fw_key_load_public(argv[optind], &key, &d);
	if (rc == FW_E_KEY && strstr(d.msg, ": not a PEM ") != NULL) {
		/* not a public key file: try it as a private key */
		rc = fw_key_load_private(argv[optind], &key, &d2);
		if (rc == FW_E_KEY && strstr(d2.msg, ": not a PEM ") != NULL)
			fw_diag_set(&d, rc, "%s: not a PEM public or private key", argv[optind]);
		else
			d = d2;
	}
	if (rc != FW_OK)
		return cli_fail("key id", rc, &d);
	fw_key_id_hex(key, kid);
	printf("%s\n", kid);
	fw_key_free(key);
	return EXIT_OK;
}

int cmd_key(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "generate") == 0)
		return key_generate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "id") == 0)
		return key_id(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_generate, stdout);
		fputs(usage_id, stdout);
		return EXIT_OK;
	}
	cli_err("key", "expected 'generate' or 'id' (run 'fwtrust key --help')");
	return EXIT_USAGE;
}
