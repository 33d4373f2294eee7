/* fwtrust campaign create|approve|edit|show|list (governed campaigns before they
 * run) and start|pause|resume|abort|tick|status|devices (the rollout engine) */
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
    "usage: fwtrust campaign create --policy P.json --as NAME [--remediates ID]...\n"
    "                               [--db PATH]\n"
    "\n"
    "Creates a campaign from a campaign policy (docs/campaign-policy.md) as\n"
    "operator NAME, who must be an active release_manager (or admin). Prints\n"
    "its id. It waits for approvals when its first stage needs them.\n"
    "--remediates adds an advisory id to the policy's \"remediates\" (merged,\n"
    "without duplicates): each must be an advisory about the release's product.\n";
static const char usage_approve[] =
    "usage: fwtrust campaign approve ID --key APPROVER.key [--stage K] [--db PATH]\n"
    "\n"
    "Signs the campaign's approval text for stage K (default 0) with the\n"
    "approver's Ed25519 private key and records it. The key must be that of\n"
    "an active operator with the approver role, not the campaign's creator,\n"
    "who has not approved this stage yet.\n";
static const char usage_edit[] =
    "usage: fwtrust campaign edit ID --policy P.json --as NAME [--remediates ID]...\n"
    "                             [--db PATH]\n"
    "\n"
    "Replaces the policy of a campaign that has not started. Every approval is\n"
    "void: the approvers sign the policy's digest.\n";
static const char usage_show[] = "usage: fwtrust campaign show ID [--db PATH]\n";
static const char usage_list[] =
    "usage: fwtrust campaign list [--json] [--db PATH]\n"
    "\n"
    "One line per campaign: its state and, once started, its current stage\n"
    "(index and name) and how many of its members report the release installed.\n";

/* Refusals by a rule (the campaign's state, who, a signature) exit 1. */
static int op_fail(const char *cmd, int rc, const struct fw_diag *d)
{
	if (rc == FW_E_CONFLICT || rc == FW_E_VERIFY || rc == FW_E_SIGNATURE) {
		cli_err(cmd, "REFUSED %s", d->msg[0] ? d->msg : fw_err_str(rc));
		return EXIT_REFUSED;
	}
	return cli_fail(cmd, rc, d);
}

static void print_campaign(json_t *c)
{
	json_t *stages = json_object_get(json_object_get(c, "policy"), "stages"), *st, *ap;
	size_t i, k;

	printf("campaign  %s \"%s\" (%s)\n", json_string_value(json_object_get(c, "id")),
	       json_string_value(json_object_get(c, "name")),
	       json_string_value(json_object_get(c, "state")));
	printf("release   %s\n", json_string_value(json_object_get(c, "release_id")));
	if (json_array_size(json_object_get(json_object_get(c, "policy"), "remediates"))) {
		printf("remediates");
		json_array_foreach(json_object_get(json_object_get(c, "policy"), "remediates"), i, st)
			printf(" %s", json_string_value(st));
		printf("\n");
	}
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
	    {"remediates", required_argument, NULL, 'v'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *cmd = edit ? "campaign edit" : "campaign create";
	const char *db = NULL, *policy = NULL, *as = NULL;
	const char *rem[FW_CAMPAIGN_MAX_REMEDIATES];
	size_t nrem = 0, i;
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
		case 'v':
			if (nrem == FW_CAMPAIGN_MAX_REMEDIATES) {
				cli_err(cmd, "--remediates: at most %d", FW_CAMPAIGN_MAX_REMEDIATES);
				return EXIT_USAGE;
			}
			rem[nrem++] = optarg;
			break;
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
	for (i = 0; i < nrem; i++) {
		if (fw_campaign_policy_remediates_add(p, rem[i], &d) != FW_OK) {
			cli_err(cmd, "%s", d.msg);
			free(p);
			return EXIT_USAGE;
		}
	}
	if (cli_open_store(cmd, db, &s)) {
		free(p);
		return EXIT_USAGE;
	}
	rc = edit ? fw_campaign_edit(s, argv[optind], p, as, cli_actor(), &doc, &idx, &d)
	          : fw_campaign_create(s, p, as, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	free(p);
	if (rc != FW_OK)
		return op_fail(cmd, rc, &d);
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
	if (rc != FW_OK)
		return op_fail("campaign approve", rc, &d);
	print_campaign(after);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(after);
	return EXIT_OK;
}

static int campaign_show(int argc, char **argv)
{
	return cli_show("campaign show", usage_show, "campaign id", argc, argv, fw_campaign_get);
}

/* One line of 'campaign list': where it stands, and how far it got. */
static void list_row(const json_t *c)
{
	json_t *p = json_object_get(c, "progress"), *cs;
	long long k = (long long)json_integer_value(json_object_get(c, "stage"));
	size_t i;
	unsigned long long members = 0, inst = 0;
	char stage[96], done[40];
	const char *key;
	json_t *v;

	snprintf(stage, sizeof(stage), "-");
	snprintf(done, sizeof(done), "-");
	if (json_integer_value(json_object_get(p, "started_ms"))) {
		json_t *st = json_array_get(json_object_get(json_object_get(c, "policy"), "stages"),
		                            (size_t)k);

		snprintf(stage, sizeof(stage), "%lld %s", k, json_string_value(json_object_get(st, "name")));
		json_array_foreach(json_object_get(p, "counts"), i, cs) {
			inst += (unsigned long long)json_integer_value(json_object_get(cs, "installed"));
			json_object_foreach(cs, key, v)
				members += (unsigned long long)json_integer_value(v);
		}
		json_object_foreach(json_object_get(p, "unstaged"), key, v)
			members += (unsigned long long)json_integer_value(v);
		snprintf(done, sizeof(done), "%llu/%llu", inst, members);
	}
	printf("%-8s %-18s %-20s %-15s %-16.16s %s\n", json_string_value(json_object_get(c, "id")),
	       json_string_value(json_object_get(c, "state")), stage, done,
	       json_string_value(json_object_get(c, "release_id")),
	       json_string_value(json_object_get(c, "name")));
}

static int campaign_list(int argc, char **argv)
{
	json_t *all = NULL, *c;
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("campaign list", usage_list, argc, argv, fw_campaign_list, &all, &as_json);
	if (all == NULL)
		return rc;
	if (as_json) {
		cli_print_json(all);
	} else {
		printf("%-8s %-18s %-20s %-15s %-16s %s\n", "ID", "STATE", "STAGE", "INSTALLED",
		       "RELEASE", "NAME");
		json_array_foreach(all, i, c)
			list_row(c);
	}
	json_decref(all);
	return EXIT_OK;
}

/* ---- the running campaign ---- */

static const char usage_start[] =
    "usage: fwtrust campaign start ID --as NAME [--db PATH]\n"
    "\n"
    "Starts a ready campaign as operator NAME (an active operator or admin):\n"
    "its members (the devices its targeting selects now) are fixed, each is\n"
    "given its stage by stable hash, and the first stage begins (each of its\n"
    "devices decided again: eligible or ineligible). One transaction with a\n"
    "record per device; a progress bar on a terminal.\n";
static const char usage_pause[] =
    "usage: fwtrust campaign pause ID --as NAME [--reason TEXT] [--db PATH]\n"
    "\n"
    "Pauses a running campaign: its eligible devices are held (nothing new is\n"
    "delivered; attempts under way still report).\n";
static const char usage_resume[] =
    "usage: fwtrust campaign resume ID --as NAME [--reason TEXT] [--db PATH]\n"
    "\n"
    "Resumes a paused campaign: held devices are eligible again and the pause\n"
    "conditions count again from now.\n";
static const char usage_abort[] =
    "usage: fwtrust campaign abort ID --as NAME [--rollback] [--reason TEXT] [--db PATH]\n"
    "\n"
    "Ends a campaign for good: aborted; with --rollback rolled_back, and the\n"
    "policy's rollback release is offered to every device that received the\n"
    "release.\n";
static const char usage_tick[] =
    "usage: fwtrust campaign tick ID [--db PATH]\n"
    "\n"
    "Does what time does, and prints what changed: delivered devices past\n"
    "their report deadline fail (and may pause the campaign), the campaign\n"
    "moves to the next stage when the current one has soaked, reached the\n"
    "success threshold and the next stage has its approvals, and completes\n"
    "when every device of the last stage is done. Run it periodically.\n";
static const char usage_status[] =
    "usage: fwtrust campaign status ID [--json] [--db PATH]\n"
    "\n"
    "State, stages, counts per update state, pause conditions, totals and\n"
    "what happens next.\n";
static const char usage_devices[] =
    "usage: fwtrust campaign devices ID [--state S] [--stage K] [--json] [--db PATH]\n"
    "\n"
    "  --state S  pending, eligible, ineligible, delivered, installed, failed,\n"
    "             paused or rolled_back\n"
    "  --stage K  a stage index or name, or 'none' (ineligible at the start)\n";

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static long long jint(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static unsigned long long sum_counts(const json_t *counts)
{
	unsigned long long n = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)counts, k, v)
		n += (unsigned long long)json_integer_value(v);
	return n;
}

static const char *stage_name(const json_t *doc, long long k)
{
	json_t *st = json_array_get(json_object_get(json_object_get(doc, "policy"), "stages"),
	                            (size_t)k);
	const char *name = json_string_value(json_object_get(st, "name"));

	return name ? name : "?";
}

/* The engine's long steps: start scans the registry, then a stage is
 * entered; each step counts up to its own total. */
struct op_bar {
	struct cli_progress p;
	int ended;
};

static void op_bar_fn(void *arg, uint64_t done, uint64_t total)
{
	struct op_bar *b = arg;

	if (b->ended) { /* the next step */
		cli_progress_done(&b->p);
		b->p.label = "entering stage";
	}
	b->ended = total && done >= total;
	cli_progress(&b->p, done, total, "devices");
}

static void rollout_ctx(struct fw_rollout_ctx *cx, struct op_bar *bar, const char *label)
{
	cli_progress_init(&bar->p, label);
	bar->ended = 0;
	cx->now_ms = fw_time_ms();
	cx->actor = cli_actor();
	cx->progress = op_bar_fn;
	cx->parg = bar;
}

static void print_record(const json_t *before, const json_t *after)
{
	long long b = jint(json_object_get(before, "updated"), "idx");
	long long a = jint(json_object_get(after, "updated"), "idx");

	if (a != b)
		printf("evidence  record %lld\n", a);
}

/* Why a campaign is paused ("paused" of its document or status), as a line. */
static void print_paused(const json_t *pz)
{
	const char *cause = jstr(pz, "cause");
	char t[32];

	printf("paused    %s", cause);
	if (strcmp(cause, "operator") == 0)
		printf(" %s%s%s", jstr(pz, "by"), json_object_get(pz, "reason") ? ": " : "",
		       json_object_get(pz, "reason") ? jstr(pz, "reason") : "");
	else if (strcmp(cause, "integrity_failure") == 0)
		printf(": device %s refused the image", jstr(pz, "device"));
	else if (strcmp(cause, "max_failures") == 0)
		printf(": %lld failures, the limit is %lld", jint(pz, "failures"), jint(pz, "threshold"));
	else if (strcmp(cause, "failure_rate") == 0)
		printf(": %lld of %lld reports failed, the limit is %lld%% once %lld reports",
		       jint(pz, "failures"), jint(pz, "reports"), jint(pz, "threshold_percent"),
		       jint(pz, "min_reports"));
	if (json_object_get(pz, "at_ms"))
		printf(" (since %s)", cli_time(jint(pz, "at_ms"), t, sizeof(t)));
	printf("\n");
}

/* After start, pause, resume or abort: what changed, and what comes next. */
static void print_transition(struct fw_store *s, const json_t *before, const json_t *after,
                             int64_t now)
{
	struct fw_diag d = {{0}};
	json_t *st = NULL, *stages, *sg, *cur;
	const char *state = jstr(after, "state");
	long long k = jint(after, "stage");
	size_t i;

	printf("campaign  %s \"%s\": %s -> %s\n", jstr(after, "id"), jstr(after, "name"),
	       jstr(before, "state"), state);
	if (fw_rollout_status(s, jstr(after, "id"), now, &st, &d) != FW_OK)
		return;
	stages = json_object_get(st, "stages");
	cur = json_array_get(stages, (size_t)k);
	if (strcmp(jstr(before, "state"), "ready") == 0 && strcmp(state, "running") == 0) {
		unsigned long long inel = sum_counts(json_object_get(st, "ineligible_at_start"));
		unsigned long long members = inel;

		json_array_foreach(stages, i, sg)
			members += (unsigned long long)jint(sg, "devices");
		printf("members   %llu devices (%llu ineligible at the start); by stage:", members,
		       inel);
		json_array_foreach(stages, i, sg)
			printf(" %s %lld", jstr(sg, "name"), jint(sg, "devices"));
		printf("\n");
	}
	if (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0) {
		json_t *c = json_object_get(cur, "counts");

		printf("stage     %lld %s: %lld devices, %lld eligible, %lld paused, %lld ineligible\n", k,
		       jstr(cur, "name"), jint(cur, "devices"), jint(c, "eligible"), jint(c, "paused"),
		       jint(c, "ineligible"));
	}
	if (json_is_object(json_object_get(st, "paused")))
		print_paused(json_object_get(st, "paused"));
	if (strcmp(state, "rolled_back") == 0)
		printf("rollback  release %s is offered to every device that received %.16s\n",
		       jstr(st, "rollback_release"), jstr(st, "release"));
	print_record(before, after);
	printf("next      %s\n", jstr(st, "next"));
	json_decref(st);
}

enum { OP_START, OP_PAUSE, OP_RESUME, OP_ABORT };

static int campaign_op(int argc, char **argv, int op)
{
	static const char *const names[] = {"campaign start", "campaign pause", "campaign resume",
	                                    "campaign abort"};
	static const char *const usages[] = {usage_start, usage_pause, usage_resume, usage_abort};
	static const struct option longopts[] = {
	    {"as", required_argument, NULL, 'a'},
	    {"reason", required_argument, NULL, 'r'},
	    {"rollback", no_argument, NULL, 'b'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *cmd = names[op], *db = NULL, *as = NULL, *reason = NULL, *id;
	struct fw_rollout_ctx cx;
	struct op_bar bar;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *before = NULL, *after = NULL;
	int c, rc, rollback = 0;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'a': as = optarg; break;
		case 'r':
			if (op == OP_START) {
				cli_err(cmd, "option '--reason' is for pause, resume and abort");
				return EXIT_USAGE;
			}
			reason = optarg;
			break;
		case 'b':
			if (op != OP_ABORT) {
				cli_err(cmd, "option '--rollback' is for abort");
				return EXIT_USAGE;
			}
			rollback = 1;
			break;
		case 'd': db = optarg; break;
		case 'h': fputs(usages[op], stdout); return EXIT_OK;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(cmd, "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	id = argv[optind];
	if (!as)
		return opts_missing(cmd, "--as (the operator who decides)");
	if (cli_open_store(cmd, db, &s))
		return EXIT_USAGE;
	rc = fw_campaign_get(s, id, &before, &d);
	if (rc == FW_OK) {
		rollout_ctx(&cx, &bar, op == OP_START ? "scanning devices" : "devices");
		switch (op) {
		case OP_START: rc = fw_rollout_start(s, id, as, &cx, &after, &d); break;
		case OP_PAUSE: rc = fw_rollout_pause(s, id, as, reason, &cx, &after, &d); break;
		case OP_RESUME: rc = fw_rollout_resume(s, id, as, reason, &cx, &after, &d); break;
		default: rc = fw_rollout_abort(s, id, as, rollback, reason, &cx, &after, &d); break;
		}
		cli_progress_done(&bar.p);
	}
	if (rc == FW_OK)
		print_transition(s, before, after, cx.now_ms);
	fw_store_close(s);
	json_decref(before);
	json_decref(after);
	return rc == FW_OK ? EXIT_OK : op_fail(cmd, rc, &d);
}

static int campaign_tick(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *id;
	struct fw_rollout_ctx cx;
	struct op_bar bar;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *before = NULL, *after = NULL, *st = NULL, *tb, *ta;
	long long timeouts, kb, ka;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_tick, stdout); return EXIT_OK;
		default: return opts_bad("campaign tick", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("campaign tick", "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	id = argv[optind];
	if (cli_open_store("campaign tick", db, &s))
		return EXIT_USAGE;
	rc = fw_campaign_get(s, id, &before, &d);
	if (rc == FW_OK) {
		rollout_ctx(&cx, &bar, "entering stage");
		rc = fw_rollout_tick(s, id, &cx, &after, &d);
		cli_progress_done(&bar.p);
	}
	if (rc == FW_OK)
		rc = fw_rollout_status(s, id, cx.now_ms, &st, &d);
	fw_store_close(s);
	if (rc != FW_OK) {
		json_decref(before);
		json_decref(after);
		return op_fail("campaign tick", rc, &d);
	}
	tb = json_object_get(json_object_get(before, "progress"), "totals");
	ta = json_object_get(json_object_get(after, "progress"), "totals");
	timeouts = jint(ta, "timeouts") - jint(tb, "timeouts");
	kb = jint(before, "stage");
	ka = jint(after, "stage");
	if (strcmp(jstr(before, "state"), jstr(after, "state")) == 0 && kb == ka && timeouts == 0)
		printf("tick      %s: nothing changed (%s, stage %lld %s)\n", id, jstr(after, "state"),
		       ka, stage_name(after, ka));
	else
		printf("tick      %s: %s, stage %lld %s -> %s, stage %lld %s\n", id,
		       jstr(before, "state"), kb, stage_name(before, kb), jstr(after, "state"), ka,
		       stage_name(after, ka));
	if (timeouts)
		printf("timeouts  %lld delivered device(s) did not report in time: failed\n", timeouts);
	if (ka != kb) {
		json_t *cur = json_array_get(json_object_get(st, "stages"), (size_t)ka);

		printf("stage     %lld %s started: %lld devices, %lld eligible, %lld ineligible\n", ka,
		       jstr(cur, "name"), jint(cur, "devices"),
		       jint(json_object_get(cur, "counts"), "eligible"),
		       jint(json_object_get(cur, "counts"), "ineligible"));
	}
	if (strcmp(jstr(after, "state"), jstr(before, "state")) != 0) {
		if (json_is_object(json_object_get(st, "paused")))
			print_paused(json_object_get(st, "paused"));
		if (strcmp(jstr(after, "state"), "completed") == 0)
			printf("completed %lld reports, %lld failures, %lld quarantined\n",
			       jint(json_object_get(st, "totals"), "reports"),
			       jint(json_object_get(st, "totals"), "failures"),
			       jint(json_object_get(st, "totals"), "quarantined"));
	}
	print_record(before, after);
	printf("next      %s\n", jstr(st, "next"));
	json_decref(before);
	json_decref(after);
	json_decref(st);
	return EXIT_OK;
}

static void print_size(char *buf, size_t cap, const json_t *size)
{
	if (json_object_get(size, "percent"))
		snprintf(buf, cap, "%lld%%", jint(size, "percent"));
	else if (json_object_get(size, "count"))
		snprintf(buf, cap, "+%lld", jint(size, "count"));
	else
		snprintf(buf, cap, "cohort %s", jstr(size, "cohort"));
}

static void print_duration(char *buf, size_t cap, long long s)
{
	if (s >= 86400)
		snprintf(buf, cap, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, cap, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, cap, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, cap, "%llds", s);
}

static const char *const col_states[] = {"pending",   "eligible", "ineligible", "delivered",
                                         "installed", "failed",   "paused",     "rolled_back"};

static void print_status(const json_t *st)
{
	json_t *sg, *cond, *t = json_object_get(st, "totals"), *w = json_object_get(st, "window");
	json_t *un = json_object_get(st, "ineligible_at_start");
	char buf[64], when[32];
	size_t i, j;

	printf("campaign  %s \"%s\" (%s)\n", jstr(st, "campaign"), jstr(st, "name"),
	       jstr(st, "state"));
	printf("release   %s\n", jstr(st, "release"));
	printf("rollback  %s\n", json_is_string(json_object_get(st, "rollback_release"))
	                             ? jstr(st, "rollback_release")
	                             : "none");
	if (jint(st, "started_ms"))
		printf("started   %s\n", cli_time(jint(st, "started_ms"), when, sizeof(when)));
	if (jint(st, "ended_ms"))
		printf("ended     %s\n", cli_time(jint(st, "ended_ms"), when, sizeof(when)));
	printf("stage     %lld %s (of %zu)\n", jint(json_object_get(st, "stage"), "index"),
	       jstr(json_object_get(st, "stage"), "name"), json_array_size(json_object_get(st, "stages")));
	printf("\n%-16s %-8s %-11s %7s %6s %6s %6s %6s %6s %6s %6s %6s  %-10s %-9s %s\n", "STAGE",
	       "SIZE", "STATUS", "DEVICES", "PEND", "ELIG", "INELIG", "DELIV", "INST", "FAILED",
	       "PAUSED", "ROLLBK", "INST%/NEED", "APPROVALS", "SOAK LEFT");
	json_array_foreach(json_object_get(st, "stages"), i, sg) {
		json_t *c = json_object_get(sg, "counts"), *ap = json_object_get(sg, "approvals");
		char name[80], pct[32], soak[32];

		snprintf(name, sizeof(name), "%zu %s", i, jstr(sg, "name"));
		print_size(buf, sizeof(buf), json_object_get(sg, "size"));
		snprintf(pct, sizeof(pct), "%lld.%lld%%/%lld%%", jint(sg, "installed_permille") / 10,
		         jint(sg, "installed_permille") % 10, jint(sg, "success_threshold"));
		if (!jint(sg, "started_ms"))
			snprintf(soak, sizeof(soak), "-");
		else
			print_duration(soak, sizeof(soak), jint(sg, "soak_left_s"));
		printf("%-16s %-8s %-11s %7lld", name, buf, jstr(sg, "status"), jint(sg, "devices"));
		for (j = 0; j < sizeof(col_states) / sizeof(col_states[0]); j++)
			printf(" %6lld", jint(c, col_states[j]));
		printf("  %-10s %lld/%-7lld %s\n", pct, jint(ap, "given"), jint(ap, "required"), soak);
	}
	if (sum_counts(un)) {
		printf("%-16s %-8s %-11s %7llu", "- (at start)", "", "ineligible", sum_counts(un));
		for (j = 0; j < sizeof(col_states) / sizeof(col_states[0]); j++)
			printf(" %6lld", jint(un, col_states[j]));
		printf("\n");
	}
	printf("\npause conditions (failures and reports since %s, the start or last resume)\n",
	       jint(w, "since_ms") ? cli_time(jint(w, "since_ms"), when, sizeof(when)) : "-");
	json_array_foreach(json_object_get(st, "pause_conditions"), i, cond) {
		const char *name = jstr(cond, "name");
		int reached = json_is_true(json_object_get(cond, "reached"));

		if (strcmp(name, "integrity_failure") == 0) {
			printf("  %-18s %lld integrity failure(s); pauses at 1", name,
			       jint(cond, "value"));
		} else if (strcmp(name, "failure_rate") == 0) {
			printf("  %-18s %lld of %lld reports failed (%lld.%lld%%); pauses at %lld%% once "
			       "%lld reports",
			       name, jint(cond, "failures"), jint(cond, "reports"),
			       jint(cond, "rate_permille") / 10, jint(cond, "rate_permille") % 10,
			       jint(cond, "threshold_percent"), jint(cond, "min_reports"));
		} else if (json_is_null(json_object_get(cond, "threshold"))) {
			printf("  %-18s %lld failure(s); no limit\n", name, jint(cond, "value"));
			continue;
		} else {
			printf("  %-18s %lld failure(s); pauses at %lld", name, jint(cond, "value"),
			       jint(cond, "threshold"));
		}
		if (reached)
			printf(": REACHED\n");
		else if (json_object_get(cond, "failures_to_pause"))
			printf(": %lld more failure(s) to pause\n", jint(cond, "failures_to_pause"));
		else
			printf(": not reached\n");
	}
	printf("\ntotals    %lld reports, %lld failures (%lld integrity), %lld timeouts, %lld "
	       "retries, %lld quarantined\n",
	       jint(t, "reports"), jint(t, "failures"), jint(t, "integrity_failures"),
	       jint(t, "timeouts"), jint(t, "retries"), jint(t, "quarantined"));
	printf("devices   %lld in flight, %lld failed for good\n", jint(st, "in_flight"),
	       jint(st, "failed_final"));
	if (json_is_object(json_object_get(st, "paused")))
		print_paused(json_object_get(st, "paused"));
	printf("next      %s\n", jstr(st, "next"));
}

static int campaign_status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *st = NULL;
	int c, rc, as_json = 0;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_status, stdout); return EXIT_OK;
		default: return opts_bad("campaign status", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("campaign status", "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	if (cli_open_store("campaign status", db, &s))
		return EXIT_USAGE;
	rc = fw_rollout_status(s, argv[optind], fw_time_ms(), &st, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("campaign status", rc, &d);
	if (as_json)
		cli_print_json(st);
	else
		print_status(st);
	json_decref(st);
	return EXIT_OK;
}

struct dev_lister {
	const json_t *doc;
	int json;
	unsigned long long n;
};

static int print_row(void *arg, const json_t *row)
{
	struct dev_lister *l = arg;
	json_t *stage = json_object_get(row, "stage"), *r;
	char st[80], note[400], t[32];
	size_t i, len = 0;

	if (l->json) {
		char *text = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);

		if (text == NULL)
			return FW_E_NOMEM;
		printf("%s\n  %s", l->n ? "," : "[", text);
		free(text);
		l->n++;
		return FW_OK;
	}
	if (json_is_integer(stage))
		snprintf(st, sizeof(st), "%lld %s", (long long)json_integer_value(stage),
		         stage_name(l->doc, json_integer_value(stage)));
	else
		snprintf(st, sizeof(st), "-");
	note[0] = 0;
	if (json_object_get(row, "reasons")) {
		json_array_foreach(json_object_get(row, "reasons"), i, r)
			len += (size_t)snprintf(note + len, len < sizeof(note) ? sizeof(note) - len : 0,
			                        "%s%s", i ? "," : "", json_string_value(r));
	} else if (json_object_get(row, "deadline_ms")) {
		snprintf(note, sizeof(note), "report by %s",
		         cli_time(jint(row, "deadline_ms"), t, sizeof(t)));
	} else if (json_object_get(row, "retry_not_before_ms")) {
		if (json_is_null(json_object_get(row, "retry_not_before_ms")))
			snprintf(note, sizeof(note), "no more attempts");
		else
			snprintf(note, sizeof(note), "retry from %s",
			         cli_time(jint(row, "retry_not_before_ms"), t, sizeof(t)));
	}
	printf("%-24s %-16s %-11s %8lld %8lld %8lld  %s\n", jstr(row, "device"), st,
	       jstr(row, "state"), jint(row, "attempts"), jint(row, "failures"),
	       jint(json_object_get(row, "record"), "idx"), note);
	l->n++;
	return FW_OK;
}

static int campaign_devices(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"stage", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *stage_arg = NULL;
	struct dev_lister l = {NULL, 0, 0};
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *stages, *sg;
	int64_t stage = -1;
	size_t i;
	int c, rc, state = -1;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 's':
			state = fw_update_state_parse(optarg);
			if (state < 0) {
				cli_err("campaign devices",
				        "--state: '%s' is not pending, eligible, ineligible, delivered, "
				        "installed, failed, paused or rolled_back",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'k': stage_arg = optarg; break;
		case 'j': l.json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_devices, stdout); return EXIT_OK;
		default: return opts_bad("campaign devices", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("campaign devices", "expected exactly one campaign id");
		return EXIT_USAGE;
	}
	if (cli_open_store("campaign devices", db, &s))
		return EXIT_USAGE;
	rc = fw_campaign_get(s, argv[optind], &doc, &d);
	if (rc != FW_OK) {
		fw_store_close(s);
		return cli_fail("campaign devices", rc, &d);
	}
	l.doc = doc;
	stages = json_object_get(json_object_get(doc, "policy"), "stages");
	if (stage_arg && strcmp(stage_arg, "none") == 0) {
		stage = FW_ROLLOUT_NO_STAGE;
	} else if (stage_arg) {
		uint64_t v;

		json_array_foreach(stages, i, sg)
			if (strcmp(jstr(sg, "name"), stage_arg) == 0)
				stage = (int64_t)i;
		if (stage < 0 && fw_parse_u64(stage_arg, &v) == FW_OK && v < json_array_size(stages))
			stage = (int64_t)v;
		if (stage < 0) {
			cli_err("campaign devices",
			        "--stage: campaign %s has no stage '%s' (an index from 0 to %zu, a stage "
			        "name, or 'none')",
			        argv[optind], stage_arg, json_array_size(stages) - 1);
			fw_store_close(s);
			json_decref(doc);
			return EXIT_USAGE;
		}
	}
	if (!l.json)
		printf("%-24s %-16s %-11s %8s %8s %8s  %s\n", "DEVICE", "STAGE", "STATE", "ATTEMPTS",
		       "FAILURES", "RECORD", "NOTE");
	rc = fw_rollout_devices(s, argv[optind], state, stage, print_row, &l, &d);
	fw_store_close(s);
	json_decref(doc);
	if (l.json && rc == FW_OK)
		printf("%s]\n", l.n ? "\n" : "[");
	if (rc != FW_OK)
		return cli_fail("campaign devices", rc, &d);
	if (!l.json) {
		fflush(stdout);
		fprintf(stderr, "%llu devices\n", l.n);
	}
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
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return campaign_op(argc - 1, argv + 1, OP_START);
	if (argc >= 2 && strcmp(argv[1], "pause") == 0)
		return campaign_op(argc - 1, argv + 1, OP_PAUSE);
	if (argc >= 2 && strcmp(argv[1], "resume") == 0)
		return campaign_op(argc - 1, argv + 1, OP_RESUME);
	if (argc >= 2 && strcmp(argv[1], "abort") == 0)
		return campaign_op(argc - 1, argv + 1, OP_ABORT);
	if (argc >= 2 && strcmp(argv[1], "tick") == 0)
		return campaign_tick(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return campaign_status(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "devices") == 0)
		return campaign_devices(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_create, stdout);
		fputs(usage_approve, stdout);
		fputs(usage_edit, stdout);
		fputs(usage_show, stdout);
		fputs(usage_list, stdout);
		fputs(usage_start, stdout);
		fputs(usage_pause, stdout);
		fputs(usage_resume, stdout);
		fputs(usage_abort, stdout);
		fputs(usage_tick, stdout);
		fputs(usage_status, stdout);
		fputs(usage_devices, stdout);
		return EXIT_OK;
	}
	cli_err("campaign", "expected create, approve, edit, show, list, start, pause, resume, "
	                    "abort, tick, status or devices (run 'fwtrust campaign --help')");
	return EXIT_USAGE;
}
