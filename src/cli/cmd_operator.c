/* fwtrust operator add|list|show|disable: the people who act on campaigns */
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

static const char usage_add[] =
    "usage: fwtrust operator add NAME --role ROLE --pub NAME.pub [--db PATH]\n"
    "\n"
    "Registers a person who acts on campaigns, with one role: admin,\n"
    "release_manager, approver, operator or auditor, and an Ed25519 public\n"
    "key (from 'fwtrust key generate --alg ed25519'): their approvals are\n"
    "signatures by it. Names and keys are unique. Recorded.\n";
static const char usage_list[] = "usage: fwtrust operator list [--json] [--db PATH]\n";
static const char usage_show[] = "usage: fwtrust operator show NAME [--db PATH]\n";
static const char usage_disable[] =
    "usage: fwtrust operator disable NAME --reason TEXT [--db PATH]\n"
    "\n"
    "Disables an operator for good: what their key signs from now on does not\n"
    "count. Recorded.\n";

static void print_op(json_t *op)
{
	printf("operator  %s (%s), %s\n", json_string_value(json_object_get(op, "name")),
	       json_string_value(json_object_get(op, "role")),
	       json_string_value(json_object_get(op, "state")));
	printf("key       %s\n", json_string_value(json_object_get(op, "key_id")));
}

static int op_add(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"pub", required_argument, NULL, 'p'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *role = NULL, *pub = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': role = optarg; break;
		case 'p': pub = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_add, stdout); return EXIT_OK;
		default: return opts_bad("operator add", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("operator add", "expected exactly one operator name");
		return EXIT_USAGE;
	}
	if (!role)
		return opts_missing("operator add", "--role");
	if (!pub)
		return opts_missing("operator add", "--pub");
	if (cli_open_store("operator add", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_operator_add(s, argv[optind], role, pub, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("operator add", rc, &d);
	print_op(doc);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int op_list(int argc, char **argv)
{
	json_t *ops = NULL, *op;
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("operator list", usage_list, argc, argv, fw_registry_operator_list, &ops,
	              &as_json);
	if (ops == NULL)
		return rc;
	if (as_json) {
		json_array_foreach(ops, i, op)
			json_object_del(op, "pem");
		cli_print_json(ops);
	} else {
		printf("%-24s %-16s %-9s %s\n", "NAME", "ROLE", "STATE", "KEY");
		json_array_foreach(ops, i, op)
			printf("%-24s %-16s %-9s %.16s\n", json_string_value(json_object_get(op, "name")),
			       json_string_value(json_object_get(op, "role")),
			       json_string_value(json_object_get(op, "state")),
			       json_string_value(json_object_get(op, "key_id")));
	}
	json_decref(ops);
	return EXIT_OK;
}

static int op_show(int argc, char **argv)
{
	return cli_show("operator show", usage_show, "operator name", argc, argv,
	                fw_registry_operator_get);
}

static int op_disable(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *reason = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_disable, stdout); return EXIT_OK;
		default: return opts_bad("operator disable", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("operator disable", "expected exactly one operator name");
		return EXIT_USAGE;
	}
	if (!reason)
		return opts_missing("operator disable", "--reason");
	if (cli_open_store("operator disable", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_operator_disable(s, argv[optind], reason, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("operator disable", rc, &d);
	print_op(doc);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

int cmd_operator(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return op_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return op_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return op_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "disable") == 0)
		return op_disable(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_add, stdout);
		fputs(usage_list, stdout);
		fputs(usage_show, stdout);
		fputs(usage_disable, stdout);
		return EXIT_OK;
	}
	cli_err("operator", "expected add, list, show or disable (run 'fwtrust operator --help')");
	return EXIT_USAGE;
}
