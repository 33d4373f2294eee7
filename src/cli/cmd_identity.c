/* fwtrust ca add|list, crl import, cert revoke: device identities */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "store/store.h"

static const char usage_ca_add[] =
    "usage: fwtrust ca add FILE [--db PATH]\n"
    "\n"
    "Trusts the CA certificates in FILE (PEM; roots or intermediates, each\n"
    "must have basicConstraints CA:TRUE) as issuers of device identities.\n"
    "Every trusted CA is a trust anchor. Device certificates that did not\n"
    "chain before are checked again.\n";
static const char usage_ca_list[] = "usage: fwtrust ca list [--json] [--db PATH]\n";
static const char usage_crl[] =
    "usage: fwtrust crl import FILE [--db PATH]\n"
    "\n"
    "Loads a CRL (PEM or DER). Its signature must verify with a trusted CA,\n"
    "and it must be newer than the last CRL of that CA. Revocations are\n"
    "kept for good: a serial dropped from a later CRL stays revoked.\n";
static const char usage_cert[] =
    "usage: fwtrust cert revoke DEVICE --reason TEXT [--db PATH]\n"
    "\n"
    "Revokes the device's identity certificate in fwtrust (not at the CA).\n";

static int one_file_cmd(int argc, char **argv, const char *cmd, const char *usage,
                        const char **db)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': *db = optarg; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(cmd, "expected exactly one file");
		return EXIT_USAGE;
	}
	return 0;
}

static int ca_add(int argc, char **argv)
{
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t idx = 0, reverified = 0;
	size_t added = 0;
	int rc = one_file_cmd(argc, argv, "ca add", usage_ca_add, &db);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_open_store("ca add", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_ca_add(s, argv[optind], cli_actor(), &added, &reverified, &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("ca add", rc, &d);
	printf("trusted   %zu CA certificate%s from %s\n", added, added == 1 ? "" : "s",
	       argv[optind]);
	if (reverified)
		printf("          %llu device certificates chain now\n",
		       (unsigned long long)reverified);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	return EXIT_OK;
}

static int ca_list(int argc, char **argv)
{
	json_t *cas = NULL, *ca;
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("ca list", usage_ca_list, argc, argv, fw_registry_ca_list, &cas, &as_json);
	if (cas == NULL)
		return rc;
	if (as_json) {
		json_array_foreach(cas, i, ca)
			json_object_del(ca, "pem");
		cli_print_json(cas);
	} else {
		printf("%-16s %s\n", "SHA256", "SUBJECT");
		json_array_foreach(cas, i, ca)
			printf("%-16.16s %s\n", json_string_value(json_object_get(ca, "sha256")),
			       json_string_value(json_object_get(ca, "subject")));
	}
	json_decref(cas);
	return EXIT_OK;
}

int cmd_ca(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return ca_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return ca_list(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_ca_add, stdout);
		fputs(usage_ca_list, stdout);
		return EXIT_OK;
	}
	cli_err("ca", "expected add or list (run 'fwtrust ca --help')");
	return EXIT_USAGE;
}

int cmd_crl(int argc, char **argv)
{
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t idx = 0, entries = 0, revoked = 0;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_crl, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "import") != 0) {
		cli_err("crl", "expected import (run 'fwtrust crl --help')");
		return EXIT_USAGE;
	}
	rc = one_file_cmd(argc - 1, argv + 1, "crl import", usage_crl, &db);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_open_store("crl import", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_crl_import(s, argv[optind + 1], cli_actor(), &entries, &revoked, &idx, &d);
	fw_store_close(s);
	if (rc == FW_E_SIGNATURE || rc == FW_E_VERIFY) {
		fprintf(stderr, "fwtrust crl import: REFUSED %s\n", d.msg);
		return EXIT_REFUSED;
	}
	if (rc != FW_OK)
		return cli_fail("crl import", rc, &d);
	printf("imported  CRL with %llu revoked serials; %llu device certificates revoked now\n",
	       (unsigned long long)entries, (unsigned long long)revoked);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	return EXIT_OK;
}

int cmd_cert(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *reason = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t idx = 0;
	int c, rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_cert, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "revoke") != 0) {
		cli_err("cert", "expected revoke (run 'fwtrust cert --help')");
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_cert, stdout); return EXIT_OK;
		default: return opts_bad("cert revoke", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("cert revoke", "expected exactly one device id");
		return EXIT_USAGE;
	}
	if (!reason)
		return opts_missing("cert revoke", "--reason");
	if (cli_open_store("cert revoke", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_cert_revoke(s, argv[optind], reason, cli_actor(), &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("cert revoke", rc, &d);
	printf("revoked   the identity certificate of %s\n", argv[optind]);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	return EXIT_OK;
}
