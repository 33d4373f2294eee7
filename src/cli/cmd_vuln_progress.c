/* fwtrust vuln progress: an advisory's remediation over time, from the log */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "store/store.h"
#include "vuln/vuln.h"

static const char usage[] =
    "usage: fwtrust vuln progress ID [--json] [--db PATH]\n"
    "\n"
    "The advisory's remediation over time: every recorded computation of its\n"
    "affected cohort ('fwtrust vuln affected'), oldest first, with the devices\n"
    "per bucket, read from the evidence log: exposed, remediating\n"
    "(being_remediated), remediated, cannot (cannot_be_remediated), isolated.\n"
    "Reads only; records nothing.\n";

struct out {
	json_t *all; /* --json */
	uint64_t n;
};

static int on_point(void *arg, const struct fw_vuln_point *p)
{
	struct out *o = arg;
	char t[40];
	int b;

	if (o->all) {
		json_t *counts = json_object();

		for (b = 1; b < FW_VB_COUNT; b++)
			json_object_set_new(counts, fw_vuln_bucket_name(b),
			                    json_integer((json_int_t)p->counts[b]));
		json_array_append_new(o->all,
		                      json_pack("{sI sI sI sI so sI}", "record", (json_int_t)p->idx,
		                                "at", (json_int_t)p->at, "devices",
		                                (json_int_t)p->devices, "cohort",
		                                (json_int_t)p->cohort, "counts", counts, "campaigns",
		                                (json_int_t)p->ncampaigns));
		return 0;
	}
	if (o->n++ == 0)
		printf("%-21s %8s %8s %11s %10s %8s %8s %8s\n", "at (UTC)", "cohort", "exposed",
		       "remediating", "remediated", "cannot", "isolated", "record");
	printf("%-21s %8llu %8llu %11llu %10llu %8llu %8llu %8llu\n",
	       cli_time((long long)p->at * 1000, t, sizeof(t)), (unsigned long long)p->cohort,
	       (unsigned long long)p->counts[FW_VB_EXPOSED],
	       (unsigned long long)p->counts[FW_VB_REMEDIATING],
	       (unsigned long long)p->counts[FW_VB_REMEDIATED],
	       (unsigned long long)p->counts[FW_VB_CANNOT],
	       (unsigned long long)p->counts[FW_VB_ISOLATED], (unsigned long long)p->idx);
	return 0;
}

int cmd_vuln_progress(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct out o = {NULL, 0};
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t n = 0;
	int ch, rc, as_json = 0;

	while ((ch = opts_next(argc, argv, longopts)) != -1) {
		switch (ch) {
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("vuln progress", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("vuln progress", "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (as_json && (o.all = json_array()) == NULL) {
		cli_err("vuln progress", "out of memory");
		return EXIT_USAGE;
	}
	if (cli_open_store("vuln progress", db, &s)) {
		json_decref(o.all);
		return EXIT_USAGE;
	}
	rc = fw_vuln_progress(s, argv[optind], on_point, &o, &n, &d);
	fw_store_close(s);
	if (rc != FW_OK) {
		json_decref(o.all);
		return cli_fail("vuln progress", rc, &d);
	}
	if (as_json) {
		json_t *doc = json_pack("{ss so}", "advisory", argv[optind], "series", o.all);

		cli_print_json(doc);
		json_decref(doc);
	} else if (n == 0) {
		printf("advisory %s: its cohort was never computed (run 'fwtrust vuln affected %s')\n",
		       argv[optind], argv[optind]);
	} else {
		printf("advisory %s: %llu computation(s) of the cohort\n", argv[optind],
		       (unsigned long long)n);
	}
	return EXIT_OK;
}
