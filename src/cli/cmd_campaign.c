/* fwtrust campaign create|approve|edit|show|list: governed campaigns before they run */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"
#include "rollout/rollout.h"
#include "store/store.h"

static const char usage_create[] =
    "usage: fwtrust campaign create --policy P.json --as NAME [--db PATH]\n"
    "\n"
    "Creates a campaign from a campaign policy (docs/campaign-policy.md) as\n"
    "operator NAME, who must be an active release_manager (or admin). Prints\n"
    "its id. It waits for approvals when its first stage needs them.\n";
static const char usage_approve[] =
    "usage: fwtrust campaign approve ID --key APPROVER.key [--stage K] [--db PATH]\n"
    "\n"
    "Signs the campaign's approval text for stage K (default 0) with the\n"
    "approver's Ed25519 private key and records it. The key must be that of\n"
    "an active operator with the approver role, not the campaign's creator,\n"
    "who has not approved this stage yet.\n";
static const char usage_edit[] =
    "usage: fwtrust campaign edit ID --policy P.json --as NAME [--db PATH]\n"
    "\n"
    "Replaces the policy of a campaign that has not started. Every approval is\n"
    "void: the approvers sign the policy's digest.\n";
static const char usage_show[] = "usage: fwtrust campaign show ID [--db PATH]\n";
static const char usage_list[] = "usage: fwtrust campaign list [--json] [--db PATH]\n";

static void print_campaign(json_t *c)
{
	json_t *stages = json_object_get(json_object_get(c, "policy"), "stages"), *st, *ap;
	size_t i, k;

	printf("campaign  %s \"%s\" (%s)\n", json_string_value(json_object_get(c, "id")),
	       json_string_value(json_object_get(c, "name")),
	       json_string_value(json_object_get(c, "state")));
	printf("release   %s\n", json_string_value(json_object_get(c, "release_id")));
	printf("policy    %s (version %lld), created by %s\n",
	       json_string_value(json_object_get(c, "policy_sha256")),
	       (long long)json_integer_value(json_object_get(c, "policy_version")),
	       json_string_value(json_object_get(c, "creator")));
	json_array_foreach(stages, i, st) {
		size_t have = 0;

		json_array_foreach(json_object_get(c, "approvals"), k, ap)
			have += (size_t)json_integer_value(json_object_get(ap, "stage")) == i;
		printf("stage %zu   %-12s approvals %zu/%lld\n", i,
		       json_string_value(json_object_get(st, "name")), have,
		       (long long)json_integer_value(json_object_get(st, "approvals")));
	}
}

static int load_policy(const char *cmd, const char *path, struct fw_campaign_policy **p)
{
	struct fw_diag d = {{0}};
	int rc;

	*p = malloc(sizeof(**p));
	if (*p == NULL) {
		cli_err(cmd, "out of memory");
		return EXIT_USAGE;
	}
	rc = fw_campaign_policy_load(path, *p, &d);
	if (rc != FW_OK) {
		free(*p);
		*p = NULL;
		return cli_fail(cmd, rc, &d);
	}
	return EXIT_OK;
}

/* create and edit share their flags */
static int create_or_edit(int argc, char **argv, int edit)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"as", required_argument, NULL, 'a'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *cmd = edit ? "campaign edit" : "campaign create";
	const char *db = NULL, *policy = NULL, *as = NULL;
	struct fw_campaign_policy *p = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'p': policy = optarg; break;
		case 'a': as = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(edit ? usage_edit : usage_create, stdout); return EXIT_OK;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind + (edit ? 1 : 0) != argc) {
		if (edit)
			cli_err(cmd, "expected exactly one campaign id");
		else
			cli_err(cmd, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!policy)
		return opts_missing(cmd, "--policy");
	if (!as)
		return opts_missing(cmd, "--as");
	rc = load_policy(cmd, policy, &p);
	if (rc != EXIT_OK)
		return rc;
	if (cli_open_store(cmd, db, &s)) {
		free(p);
		return EXIT_USAGE;
	}
	rc = edit ? fw_campaign_edit(s, argv[optind], p, as, cli_actor(), &doc, &idx, &d)
	          : fw_campaign_create(s, p, as, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	free(p);
	if (rc != FW_OK)
		return cli_fail(cmd, rc, &d);
	print_campaign(doc);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int campaign_approve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"stage", required_argument, NULL, 's'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *keyfile = NULL;
	unsigned long long stage = 0;
	struct fw_store *s = NULL;
	struct fw_key *key = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *after = NULL;
	char text[512], kid[65];
	uint8_t sig[64];
	uint64_t idx = 0;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 's':
			if (opts_u64("campaign approve", "--stage", optarg, 15, &stage))
				return EXIT_USAGE;
			break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_approve, stdout); return EXIT_OK;
		default: return opts_bad("campaign approve", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("campaign approve", "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	if (!keyfile)
		return opts_missing("campaign approve", "--key");
	rc = fw_key_load_private(keyfile, &key, &d);
	if (rc != FW_OK)
		return cli_fail("campaign approve", rc, &d);
	if (fw_key_alg(key) != FW_KEY_ALG_ED25519) {
		fw_key_free(key);
		cli_err("campaign approve", "%s: approvals are signed with Ed25519 keys", keyfile);
		return EXIT_USAGE;
	}
	if (cli_open_store("campaign approve", db, &s)) {
		fw_key_free(key);
		return EXIT_USAGE;
	}
	/* what this approver signs: the campaign as it is now */
	rc = fw_campaign_get(s, argv[optind], &doc, &d);
	if (rc == FW_OK && fw_campaign_approval_text(doc, (uint32_t)stage, text, sizeof(text)) != FW_OK)
		rc = fw_diag_set(&d, FW_E_STORE, "campaign %s: its document is malformed", argv[optind]);
	if (rc == FW_OK)
		rc = fw_key_sign(key, (const uint8_t *)text, strlen(text), sig, &d);
	fw_key_id_hex(key, kid);
	fw_key_free(key);
	json_decref(doc);
	if (rc == FW_OK)
		rc = fw_campaign_approve(s, argv[optind], (uint32_t)stage, kid, sig, cli_actor(), &after,
		                         &idx, &d);
	fw_store_close(s);
	if (rc == FW_E_SIGNATURE || rc == FW_E_VERIFY) {
		fprintf(stderr, "fwtrust campaign approve: REFUSED %s\n", d.msg);
		return EXIT_REFUSED;
	}
	if (rc != FW_OK)
		return cli_fail("campaign approve", rc, &d);
	print_campaign(after);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(after);
	return EXIT_OK;
}

static int campaign_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_show, stdout); return EXIT_OK;
		default: return opts_bad("campaign show", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("campaign show", "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	if (cli_open_store("campaign show", db, &s))
		return EXIT_USAGE;
	rc = fw_campaign_get(s, argv[optind], &doc, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("campaign show", rc, &d);
	cli_print_json(doc);
	json_decref(doc);
	return EXIT_OK;
}

static int campaign_list(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *all = NULL, *c;
	size_t i;
	int ch, rc, as_json = 0;

	while ((ch = opts_next(argc, argv, longopts)) != -1) {
		switch (ch) {
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_list, stdout); return EXIT_OK;
		default: return opts_bad("campaign list", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("campaign list", argv[optind]);
	if (cli_open_store("campaign list", db, &s))
		return EXIT_USAGE;
	rc = fw_campaign_list(s, &all, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("campaign list", rc, &d);
	if (as_json) {
		cli_print_json(all);
	} else {
		printf("%-8s %-18s %-16s %s\n", "ID", "STATE", "RELEASE", "NAME");
		json_array_foreach(all, i, c)
			printf("%-8s %-18s %-16.16s %s\n", json_string_value(json_object_get(c, "id")),
			       json_string_value(json_object_get(c, "state")),
			       json_string_value(json_object_get(c, "release_id")),
			       json_string_value(json_object_get(c, "name")));
	}
	json_decref(all);
	return EXIT_OK;
}

int cmd_campaign(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return create_or_edit(argc - 1, argv + 1, 0);
	if (argc >= 2 && strcmp(argv[1], "edit") == 0)
		return create_or_edit(argc - 1, argv + 1, 1);
	if (argc >= 2 && strcmp(argv[1], "approve") == 0)
		return campaign_approve(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return campaign_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return campaign_list(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_create, stdout);
		fputs(usage_approve, stdout);
		fputs(usage_edit, stdout);
		fputs(usage_show, stdout);
		fputs(usage_list, stdout);
		return EXIT_OK;
	}
	cli_err("campaign", "expected create, approve, edit, show or list (run 'fwtrust campaign "
	                    "--help')");
	return EXIT_USAGE;
}
