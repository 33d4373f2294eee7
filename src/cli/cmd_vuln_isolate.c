/* fwtrust vuln isolate: quarantine, or revoke the identity of, the devices
 * an advisory affects that no update will reach */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "store/store.h"
#include "vuln/vuln.h"

#define CMD "vuln isolate"

static const char usage[] =
    "usage: fwtrust vuln isolate ID --reason TEXT [--devices KEY=VALUE]... [--revoke]\n"
    "                           [--dry-run] [--db PATH]\n"
    "\n"
    "Isolates the devices advisory ID affects that no update will reach: by\n"
    "default its cannot_be_remediated devices (see 'vuln affected'); with\n"
    "--devices, its affected devices not isolated yet that match every filter\n"
    "(the keys of 'device list --filter': product, family, hw_revision,\n"
    "lifecycle, cohort, cert, fw_version). Each is quarantined (lifecycle\n"
    "quarantined; an end_of_support or decommissioned device cannot be: use\n"
    "--revoke) or, with --revoke, its identity certificate is revoked locally.\n"
    "Either way no release is delivered to it any more. One transaction, one\n"
    "vuln.isolate record per device. --dry-run lists the devices and writes\n"
    "nothing. Refused (exit 1) when no device matches or one cannot be\n"
    "isolated that way: then nothing is written.\n";

static const char *bucket_of(int b)
{
	return b == FW_VB_CANNOT ? "cannot_be_remediated" : "affected";
}

static int print_planned(void *arg, const struct fw_vuln_isolated *v)
{
	const struct fw_vuln_isolate_req *q = arg;

	printf("%-32s %-10s %-16s %-20s would %s\n", v->device, v->fw_version,
	       v->lifecycle_before, bucket_of(v->bucket), fw_vuln_isolate_action_name(q->action));
	return 0;
}

int cmd_vuln_isolate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"devices", required_argument, NULL, 'f'},
	    {"revoke", no_argument, NULL, 'R'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct fw_device_filter filter;
	struct fw_vuln_isolate_req q;
	struct fw_vuln_isolation res;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	const char *db = NULL;
	int c, rc, filtered = 0, dry = 0;
	size_t i;

	memset(&filter, 0, sizeof(filter));
	memset(&q, 0, sizeof(q));
	q.action = FW_VI_QUARANTINE;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': q.reason = optarg; break;
		case 'f':
			if (fw_device_filter_add(&filter, optarg, &d) != FW_OK) {
				cli_err(CMD, "--devices: %s", d.msg);
				return EXIT_USAGE;
			}
			filtered = 1;
			break;
		case 'R': q.action = FW_VI_REVOKE; break;
		case 'n': dry = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad(CMD, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(CMD, "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (!q.reason)
		return opts_missing(CMD, "--reason");
	q.advisory = argv[optind];
	q.filter = filtered ? &filter : NULL;
	q.now = fw_time_ms() / 1000;
	if (cli_open_store(CMD, db, &s))
		return EXIT_USAGE;
	if (dry) {
		printf("%-32s %-10s %-16s %-20s %s\n", "DEVICE", "VERSION", "LIFECYCLE", "BUCKET",
		       "ACTION");
		rc = fw_vuln_isolate_plan(s, &q, print_planned, &q, &res, &d);
	} else {
		rc = fw_vuln_isolate(s, &q, cli_actor(), &res, &d);
	}
	fw_store_close(s);
	if (rc == FW_E_CONFLICT) {
		cli_err(CMD, "REFUSED %s", d.msg);
		return EXIT_REFUSED;
	}
	if (rc != FW_OK)
		return cli_fail(CMD, rc, &d);
	if (dry) {
		fprintf(stderr, "dry run: %llu device(s) of advisory %s would be isolated (%s); "
		                "nothing written\n",
		        (unsigned long long)res.devices, res.advisory,
		        fw_vuln_isolate_action_name(res.action));
		return EXIT_OK;
	}
	printf("isolated  %llu device(s) of advisory %s (%s)\n", (unsigned long long)res.devices,
	       res.advisory, fw_vuln_isolate_action_name(res.action));
	for (i = 0; i < res.nshown; i++)
		printf("  %-32s %-10s %-16s record %llu\n", res.shown[i].device,
		       res.shown[i].fw_version, res.shown[i].lifecycle_before,
		       (unsigned long long)res.shown[i].idx);
	if (res.devices > res.nshown)
		printf("  ... and %llu more (records %llu..%llu)\n",
		       (unsigned long long)(res.devices - res.nshown),
		       (unsigned long long)res.shown[res.nshown - 1].idx + 1,
		       (unsigned long long)(res.shown[0].idx + res.devices - 1));
	printf("evidence  records %llu..%llu (vuln.isolate)\n", (unsigned long long)res.shown[0].idx,
	       (unsigned long long)(res.shown[0].idx + res.devices - 1));
	return EXIT_OK;
}
