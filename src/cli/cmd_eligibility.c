/* fwtrust eligibility: which devices may receive a release, and why not */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "policy/policy.h"
#include "store/store.h"

static const char usage[] =
    "usage: fwtrust eligibility --release ID [--cohort C ...] [--json] [--db PATH]\n"
    "       fwtrust eligibility --release ID [--cohort C ...] --explain DEVICE [--json]\n"
    "       fwtrust eligibility --release ID --decisions [--run N] [--json]\n"
    "\n"
    "Decides for every device of the registry whether it may receive the\n"
    "release, and records one decision per device (its inputs and every\n"
    "failing reason) and a summary in the evidence log. Prints the summary:\n"
    "eligible devices, and ineligible ones by reason (docs/reasons.md).\n"
    "\n"
    "  --release ID      release id (or a unique prefix of 8+ hex digits)\n"
    "  --cohort C        target only devices in cohort C; repeat for more\n"
    "  --explain DEVICE  one device: its inputs, each reason and the latest\n"
    "                    recorded decision; records nothing\n"
    "  --decisions       the recorded decisions of the release's latest run (or\n"
    "                    of --run N): device, verdict, reasons, evidence record\n"
    "  --json            machine-readable output\n";

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	cli_progress(arg, done, total, "devices");
}

static int explain(struct fw_store *s, const char *release, const struct fw_policy_target *t,
                   const char *device, int as_json)
{
	struct fw_diag d = {{0}};
	json_t *o = NULL, *r, *in, *rec;
	size_t i;
	int rc = fw_policy_explain(s, release, t, device, fw_time_ms() / 1000, &o, &d);

	if (rc != FW_OK)
		return cli_fail("eligibility", rc, &d);
	if (as_json) {
		cli_print_json(o);
		json_decref(o);
		return EXIT_OK;
	}
	in = json_object_get(o, "inputs");
	printf("device    %s\n", device);
	printf("release   %s (version %s)\n",
	       json_string_value(json_object_get(json_object_get(o, "release"), "id")),
	       json_is_string(json_object_get(json_object_get(o, "release"), "version"))
	           ? json_string_value(json_object_get(json_object_get(o, "release"), "version"))
	           : "none");
	if (json_is_object(in)) {
		json_t *cert = json_object_get(in, "certificate");
		char *coh = json_dumps(json_object_get(in, "cohorts"), JSON_COMPACT);

		printf("inputs    product %s, family %s, hw %s, firmware %s\n",
		       json_string_value(json_object_get(in, "product")),
		       json_string_value(json_object_get(in, "family")),
		       json_string_value(json_object_get(in, "hw_revision")),
		       json_string_value(json_object_get(in, "fw_version")));
		printf("          lifecycle %s, support until %s, cohorts %s\n",
		       json_string_value(json_object_get(in, "lifecycle")),
		       json_string_value(json_object_get(in, "support_until")), coh ? coh : "?");
		free(coh);
		if (json_is_object(cert))
			printf("          certificate %.16s... %s%s\n",
			       json_string_value(json_object_get(cert, "sha256")),
			       json_string_value(json_object_get(cert, "state")),
			       json_is_true(json_object_get(cert, "names_device"))
			           ? ""
			           : " (does not name the device)");
		else
			printf("          certificate none\n");
	}
	printf("verdict   %s\n", json_is_true(json_object_get(o, "eligible")) ? "ELIGIBLE"
	                                                                     : "NOT ELIGIBLE");
	json_array_foreach(json_object_get(o, "reasons"), i, r)
		printf("  %-30s %s\n", json_string_value(json_object_get(r, "code")),
		       json_string_value(json_object_get(r, "why")));
	rec = json_object_get(o, "recorded");
	if (json_is_object(rec)) {
		json_t *code;
		size_t k;

		printf("recorded  run %lld: %s",
		       (long long)json_integer_value(json_object_get(rec, "run")),
		       json_is_true(json_object_get(rec, "eligible")) ? "eligible" : "not eligible");
		json_array_foreach(json_object_get(rec, "reasons"), k, code)
			printf("%s%s", k ? "," : " ", json_string_value(code));
		printf(", evidence record %lld\n",
		       (long long)json_integer_value(json_object_get(rec, "idx")));
		printf("          (prove it: fwtrust audit prove --index %lld)\n",
		       (long long)json_integer_value(json_object_get(rec, "idx")));
	} else {
		printf("recorded  no decision for this device and release yet\n");
	}
	json_decref(o);
	return EXIT_OK;
}

struct lister {
	int json;
	unsigned long long n;
};

static int print_decision(void *arg, const char *device, uint32_t m, uint64_t rec)
{
	struct lister *l = arg;
	char reasons[FW_REASON_LIST_MAX];
	int eligible = m == 0;

	fw_reason_list(m, reasons, sizeof(reasons));
	if (l->json) {
		json_t *codes = json_array(), *o;
		int k;

		for (k = 0; k < FW_REASON_COUNT; k++)
			if (m >> k & 1u)
				json_array_append_new(codes, json_string(fw_reason_code(k)));
		o = json_pack("{sssbsosI}", "device", device, "eligible", eligible, "reasons", codes,
		              "record", (json_int_t)rec);
		char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		json_decref(o);
		if (text == NULL)
			return FW_E_NOMEM;
		printf("%s\n  %s", l->n ? "," : "[", text);
		free(text);
	} else {
		printf("%-24s %-12s %8llu  %s\n", device, eligible ? "eligible" : "ineligible",
		       (unsigned long long)rec, reasons);
	}
	l->n++;
	return 0;
}

static int decisions(struct fw_store *s, const char *release, unsigned long long run, int as_json)
{
	struct fw_diag d = {{0}};
	struct lister l = {as_json, 0};
	uint64_t got = 0;
	int rc;

	if (!as_json)
		printf("%-24s %-12s %8s  %s\n", "DEVICE", "VERDICT", "RECORD", "REASONS");
	rc = fw_policy_decisions(s, release, run, print_decision, &l, &got, &d);
	if (as_json && (rc == FW_OK || l.n))
		printf("%s]\n", l.n ? "\n" : "[");
	if (rc != FW_OK)
		return cli_fail("eligibility", rc, &d);
	fflush(stdout);
	if (!as_json)
		fprintf(stderr, "run %llu: %llu decisions\n", (unsigned long long)got, l.n);
	return EXIT_OK;
}

int cmd_eligibility(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"release", required_argument, NULL, 'r'},
	    {"cohort", required_argument, NULL, 'c'},
	    {"explain", required_argument, NULL, 'e'},
	    {"decisions", no_argument, NULL, 'L'},
	    {"run", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *release = NULL, *device = NULL;
	unsigned long long run = 0;
	int list = 0;
	const char *cohorts[FW_POLICY_MAX_COHORTS];
	struct fw_policy_target t = {cohorts, 0};
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_eligibility_summary sum;
	struct cli_progress bar;
	int c, rc, as_json = 0;
	size_t i;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': release = optarg; break;
		case 'c':
			if (t.ncohorts == FW_POLICY_MAX_COHORTS) {
				cli_err("eligibility", "--cohort: at most %d", FW_POLICY_MAX_COHORTS);
				return EXIT_USAGE;
			}
			cohorts[t.ncohorts++] = optarg;
			break;
		case 'e': device = optarg; break;
		case 'L': list = 1; break;
		case 'n':
			if (opts_u64("eligibility", "--run", optarg, 1ULL << 62, &run))
				return EXIT_USAGE;
			break;
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("eligibility", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("eligibility", argv[optind]);
	if (!release)
		return opts_missing("eligibility", "--release");
	if (fw_policy_target_check(&t, &d) != FW_OK) {
		cli_err("eligibility", "%s", d.msg);
		return EXIT_USAGE;
	}
	if (device && list) {
		cli_err("eligibility", "--explain and --decisions do not go together");
		return EXIT_USAGE;
	}
	if (run && !list) {
		cli_err("eligibility", "--run goes with --decisions");
		return EXIT_USAGE;
	}
	if (cli_open_store("eligibility", db, &s))
		return EXIT_USAGE;
	if (list) {
		rc = decisions(s, release, run, as_json);
		fw_store_close(s);
		return rc;
	}
	if (device) {
		rc = explain(s, release, &t, device, as_json);
		fw_store_close(s);
		return rc;
	}
	cli_progress_init(&bar, "deciding");
	rc = fw_policy_eligibility_run(s, release, &t, cli_actor(), bar.tty ? on_progress : NULL,
	                               &bar, &sum, &d);
	cli_progress_done(&bar);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("eligibility", rc, &d);
	if (as_json) {
		json_t *o = json_object(), *by = json_array();

		for (i = 0; i < FW_REASON_COUNT; i++)
			if (sum.by_reason[i])
				json_array_append_new(by, json_pack("{sssI}", "code", fw_reason_code((int)i),
				                                    "devices",
				                                    (json_int_t)sum.by_reason[i]));
		json_object_set_new(o, "run", json_integer((json_int_t)sum.run));
		json_object_set_new(o, "release", json_string(sum.release));
		json_object_set_new(o, "devices", json_integer((json_int_t)sum.devices));
		json_object_set_new(o, "eligible", json_integer((json_int_t)sum.eligible));
		json_object_set_new(o, "ineligible",
		                    json_integer((json_int_t)(sum.devices - sum.eligible)));
		json_object_set_new(o, "by_reason", by);
		json_object_set_new(o, "summary_record", json_integer((json_int_t)sum.summary_idx));
		cli_print_json(o);
		json_decref(o);
		return EXIT_OK;
	}
	printf("eligibility run %llu of release %.16s: %llu devices\n", (unsigned long long)sum.run,
	       sum.release, (unsigned long long)sum.devices);
	printf("  eligible     %llu\n", (unsigned long long)sum.eligible);
	printf("  ineligible   %llu (a device may have several reasons)\n",
	       (unsigned long long)(sum.devices - sum.eligible));
	for (i = 0; i < FW_REASON_COUNT; i++)
		if (sum.by_reason[i])
			printf("    %-32s %llu\n", fw_reason_code((int)i),
			       (unsigned long long)sum.by_reason[i]);
	printf("evidence  one decision record per device; summary record %llu\n",
	       (unsigned long long)sum.summary_idx);
	return EXIT_OK;
}
