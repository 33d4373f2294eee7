#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"
#include "registry/registry.h"
#include "store/store.h"

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

static const char usage_trust[] =
    "usage: fwtrust key trust PUB --name NAME --role release-signing [--db PATH]\n"
    "\n"
    "Registers a public key (.pub) as trusted for a role; recorded in the\n"
    "evidence log. NAME: 1-64 of [A-Za-z0-9._-], unique in the store.\n";

static const char usage_revoke[] =
    "usage: fwtrust key revoke KEY --reason TEXT [--db PATH]\n"
    "\n"
    "Revokes a registered key (KEY: its name, key id, or a unique key-id\n"
    "prefix of at least 8 hex digits); recorded in the evidence log. Releases\n"
    "it signed show as signed-by-revoked-key; new ones signed by it are refused.\n";

static const char usage_list[] =
    "usage: fwtrust key list [--db PATH] [--json]\n";

static int key_trust(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"role", required_argument, NULL, 'r'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *name = NULL, *role = NULL, *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'r': role = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_trust, stdout); return EXIT_OK;
		default: return opts_bad("key trust", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("key trust", "expected exactly one public key file");
		return EXIT_USAGE;
	}
	if (!name)
		return opts_missing("key trust", "--name");
	if (!role)
		return opts_missing("key trust", "--role (release-signing)");
	if (cli_open_store("key trust", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_key_trust(s, argv[optind], name, role, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("key trust", rc, &d);
	printf("trusted   %s '%s' (%s, %s)\n", json_string_value(json_object_get(doc, "id")), name,
	       json_string_value(json_object_get(doc, "alg")), role);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int key_revoke(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *reason = NULL, *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_revoke, stdout); return EXIT_OK;
		default: return opts_bad("key revoke", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("key revoke", "expected exactly one key (name or key id)");
		return EXIT_USAGE;
	}
	if (!reason)
		return opts_missing("key revoke", "--reason");
	if (cli_open_store("key revoke", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_key_revoke(s, argv[optind], reason, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("key revoke", rc, &d);
	printf("revoked   %s '%s'\n", json_string_value(json_object_get(doc, "id")),
	       json_string_value(json_object_get(doc, "name")));
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int key_list(int argc, char **argv)
{
	json_t *keys = NULL, *k;
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("key list", usage_list, argc, argv, fw_registry_key_list, &keys, &as_json);
	if (keys == NULL)
		return rc;
	if (as_json) {
		cli_print_json(keys);
	} else {
		printf("%-16s %-20s %-16s %-8s %-8s %s\n", "KEY ID", "NAME", "ROLE", "ALG", "STATE",
		       "RECORD");
		json_array_foreach(keys, i, k) {
			printf("%-16.16s %-20s %-16s %-8s %-8s %lld\n",
			       json_string_value(json_object_get(k, "id")),
			       json_string_value(json_object_get(k, "name")),
			       json_string_value(json_object_get(k, "role")),
			       json_string_value(json_object_get(k, "alg")),
			       json_string_value(json_object_get(k, "state")),
			       (long long)json_integer_value(
			           json_object_get(json_object_get(k, "trusted"), "idx")));
		}
	}
	json_decref(keys);
	return EXIT_OK;
}

int cmd_key(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "trust") == 0)
		return key_trust(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return key_revoke(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return key_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "generate") == 0)
		return key_generate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "id") == 0)
		return key_id(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_generate, stdout);
		fputs(usage_id, stdout);
		fputs(usage_trust, stdout);
		fputs(usage_revoke, stdout);
		fputs(usage_list, stdout);
		return EXIT_OK;
	}
	cli_err("key", "expected generate, id, trust, revoke or list (run 'fwtrust key --help')");
	return EXIT_USAGE;
}
