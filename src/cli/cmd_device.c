/* fwtrust device import|list|show|lifecycle|report */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"

static const char usage_import[] =
    "usage: fwtrust device import FILE [--db PATH]\n"
    "\n"
    "Adds or updates devices from FILE: CSV with a header row, or JSON lines\n"
    "(one object per line). Columns: device_id, product, family, hw_revision,\n"
    "fw_version, support_until, lifecycle (required), cohorts, certificate\n"
    "(optional). cohorts are separated by ';'; support_until is the last day of\n"
    "security support (YYYY-MM-DD); certificate is inline PEM or a path relative\n"
    "to FILE. One transaction: at the first bad row nothing is imported and the\n"
    "line, the column and the reason are printed. See docs/fleet.md.\n";
static const char usage_list[] =
    "usage: fwtrust device list [--filter KEY=VALUE ...] [--json] [--db PATH]\n"
    "\n"
    "  --filter KEY=VALUE  product, family, hw_revision, cohort, lifecycle, cert\n"
    "                      (a certificate state), fw_version (a version or a range\n"
    "                      such as '>=2.0.0 <2.4.1'); several filters must all match\n";
static const char usage_show[] = "usage: fwtrust device show ID [--db PATH]\n";
static const char usage_lifecycle[] =
    "usage: fwtrust device lifecycle ID STATE --reason TEXT [--db PATH]\n"
    "\n"
    "States: manufactured -> provisioned -> active <-> quarantined;\n"
    "active|quarantined -> end_of_support -> decommissioned.\n";

struct import_bar {
	struct cli_progress p;
	unsigned long long total;
};

static void import_bar_fn(void *arg, uint64_t bytes)
{
	struct import_bar *b = arg;

	cli_progress(&b->p, bytes, b->total, "bytes");
}

static int device_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_import_stats st;
	struct import_bar bar;
	struct stat sb;
	char hex[65];
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_import, stdout); return EXIT_OK;
		default: return opts_bad("device import", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("device import", "expected exactly one device file");
		return EXIT_USAGE;
	}
	if (cli_open_store("device import", db, &s))
		return EXIT_USAGE;
	cli_progress_init(&bar.p, "importing");
	bar.total = stat(argv[optind], &sb) == 0 ? (unsigned long long)sb.st_size : 0;
	rc = fw_registry_device_import(s, argv[optind], cli_actor(), import_bar_fn, &bar, &st, &d);
	cli_progress_done(&bar.p);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("device import", rc, &d);
	fw_hex_encode(st.file_sha256, 32, hex);
	printf("imported  %llu devices from %s (sha256 %.16s...)\n", (unsigned long long)st.rows,
	       argv[optind], hex);
	printf("          %llu new, %llu updated, %llu unchanged, %llu lifecycle changes\n",
	       (unsigned long long)st.created, (unsigned long long)st.updated,
	       (unsigned long long)st.unchanged, (unsigned long long)st.lifecycle_changes);
	printf("certs     %llu new, %llu of them not chaining to a trusted CA\n",
	       (unsigned long long)st.certs_new, (unsigned long long)st.certs_untrusted);
	printf("evidence  record %llu\n", (unsigned long long)st.idx);
	return EXIT_OK;
}

struct lister {
	int json;
	int64_t now;
	unsigned long long n;
};

static int print_device(void *arg, const struct fw_device_row *dev,
                        const struct fw_cert_row *cert)
{
	struct lister *l = arg;

	if (l->json) {
		json_t *doc = fw_registry_device_json(dev, cert, l->now);
		char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		json_decref(doc);
		if (text == NULL)
			return FW_E_NOMEM;
		printf("%s\n  %s", l->n ? "," : "[", text);
		free(text);
	} else {
		printf("%-24s %-14s %-12s %-8s %-12s %-15s %-17s %s\n", dev->id, dev->product,
		       dev->family, dev->hw_revision[0] ? dev->hw_revision : "-", dev->fw_version,
		       dev->lifecycle, fw_cert_state(dev, cert, l->now),
		       dev->cohorts[0] ? dev->cohorts : "-");
	}
	l->n++;
	return 0;
}

static int device_list(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"filter", required_argument, NULL, 'f'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_device_filter f;
	struct lister l = {0, 0, 0};
	int c, rc;

	memset(&f, 0, sizeof(f));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'f':
			if (fw_device_filter_add(&f, optarg, &d) != FW_OK) {
				cli_err("device list", "%s", d.msg);
				return EXIT_USAGE;
			}
			break;
		case 'j': l.json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_list, stdout); return EXIT_OK;
		default: return opts_bad("device list", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("device list", argv[optind]);
	if (cli_open_store("device list", db, &s))
		return EXIT_USAGE;
	l.now = fw_time_ms() / 1000;
	if (!l.json)
		printf("%-24s %-14s %-12s %-8s %-12s %-15s %-17s %s\n", "DEVICE", "PRODUCT", "FAMILY",
		       "HW", "VERSION", "LIFECYCLE", "CERTIFICATE", "COHORTS");
	rc = fw_registry_device_list(s, &f, l.now, print_device, &l, &d);
	fw_store_close(s);
	if (l.json)
		printf("%s]\n", l.n ? "\n" : "[");
	if (rc != FW_OK)
		return cli_fail("device list", rc, &d);
	if (!l.json) {
		fflush(stdout);
		fprintf(stderr, "%llu devices\n", l.n);
	}
	return EXIT_OK;
}

/* the device as it stands now (its certificate's state at this time) */
static int get_device(struct fw_store *s, const char *id, json_t **doc, struct fw_diag *d)
{
	return fw_registry_device_get(s, id, fw_time_ms() / 1000, doc, d);
}

static int device_show(int argc, char **argv)
{
	return cli_show("device show", usage_show, "device id", argc, argv, get_device);
}

static int device_lifecycle(int argc, char **argv)
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

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_lifecycle, stdout); return EXIT_OK;
		default: return opts_bad("device lifecycle", argc, argv);
		}
	}
	if (optind + 2 != argc) {
		cli_err("device lifecycle", "expected a device id and a state");
		return EXIT_USAGE;
	}
	if (!reason)
		return opts_missing("device lifecycle", "--reason");
	if (cli_open_store("device lifecycle", db, &s))
		return EXIT_USAGE;
	rc = fw_registry_device_lifecycle(s, argv[optind], argv[optind + 1], reason, cli_actor(),
	                                  &idx, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("device lifecycle", rc, &d);
	printf("device    %s is %s\n", argv[optind], argv[optind + 1]);
	printf("evidence  record %llu\n", (unsigned long long)idx);
	return EXIT_OK;
}

static const char usage_report[] =
    "usage: fwtrust device report DEVICE --campaign C --status STATUS [--version V]\n"
    "                             [--release R] [--integrity-failure] [--detail TEXT]\n"
    "                             [--db PATH]\n"
    "\n"
    "Records a device's report about campaign C's update (recorded; see\n"
    "docs/campaigns.md#device-states). STATUS:\n"
    "  delivered    it is downloading and installing the release (eligibility is\n"
    "               checked again: a device no longer eligible is STOPPED, exit 1)\n"
    "  installed    it runs the release after its reboot: --version names the\n"
    "               version it runs, which must be the release's\n"
    "  failed       the attempt failed; --integrity-failure when the device\n"
    "               refused the image's signature or digest\n"
    "  rolled_back  it fell back to other firmware (or runs the rollback release\n"
    "               of a rolled-back campaign); --version: what it runs now\n"
    "  --release R  the release the report is about (id or prefix of 8+ hex\n"
    "               digits): refused unless it is the campaign's\n"
    "  --detail T   free text from the device (at most 1000 bytes)\n"
    "Duplicate and late reports change nothing (exit 0).\n";

static int report_status(const char *s)
{
	int st = fw_update_state_parse(s);

	return st == FW_U_DELIVERED || st == FW_U_INSTALLED || st == FW_U_FAILED ||
	               st == FW_U_ROLLED_BACK
	           ? st
	           : -1;
}

static void reasons_text(uint32_t m, char *buf, size_t cap)
{
	size_t len = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < FW_REASON_COUNT; i++)
		if (m & (1u << i))
			len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s",
			                        len ? "," : "", fw_reason_code(i));
}

/* The lines after an applied report: what the row says now, and what the
 * report did to the device and the campaign. */
static void report_after(struct fw_store *s, const char *campaign, const char *device,
                         const struct fw_rollout_result *res)
{
	struct fw_diag d = {{0}};
	json_t *row = NULL, *doc = NULL, *pz;
	char t[32];

	if (fw_rollout_device(s, campaign, device, &row, &d) == FW_OK) {
		json_t *dl = json_object_get(row, "deadline_ms");
		json_t *rt = json_object_get(row, "retry_not_before_ms");

		if (res->to == FW_U_DELIVERED && json_is_integer(dl))
			printf("attempt   %lld; it reports by %s or the attempt fails\n",
			       (long long)json_integer_value(json_object_get(row, "attempts")),
			       cli_time(json_integer_value(dl), t, sizeof(t)));
		if (res->to == FW_U_FAILED && json_is_integer(rt))
			printf("retry     attempt %lld from %s\n",
			       (long long)json_integer_value(json_object_get(row, "attempts")) + 1,
			       cli_time(json_integer_value(rt), t, sizeof(t)));
		else if (res->to == FW_U_FAILED)
			printf("retry     none: failed for good after %lld attempt(s)\n",
			       (long long)json_integer_value(json_object_get(row, "attempts")));
		json_decref(row);
	}
	if (res->quarantined)
		printf("QUARANTINED %s: lifecycle quarantined (a device.lifecycle record)\n", device);
	if (res->paused && fw_campaign_get(s, campaign, &doc, &d) == FW_OK) {
		const char *state = json_string_value(json_object_get(doc, "state"));

		pz = json_object_get(doc, "paused");
		if (state && strcmp(state, "rolled_back") == 0)
			printf("ROLLED BACK campaign %s: a pause condition held and the policy rolls back "
			       "automatically\n",
			       campaign);
		else
			printf("PAUSED    campaign %s: %s\n", campaign,
			       json_string_value(json_object_get(pz, "cause"))
			           ? json_string_value(json_object_get(pz, "cause"))
			           : "a pause condition held");
		json_decref(doc);
	}
}

static int device_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"campaign", required_argument, NULL, 'c'},
	    {"status", required_argument, NULL, 's'},
	    {"version", required_argument, NULL, 'v'},
	    {"release", required_argument, NULL, 'r'},
	    {"integrity-failure", no_argument, NULL, 'i'},
	    {"detail", required_argument, NULL, 't'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *cmd = "device report", *db = NULL, *campaign = NULL, *status = NULL;
	struct fw_rollout_report rep;
	struct fw_rollout_result res;
	struct fw_rollout_ctx cx;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char why[FW_REASON_LIST_MAX];
	int c, rc;

	memset(&rep, 0, sizeof(rep));
	memset(&res, 0, sizeof(res));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'c': campaign = optarg; break;
		case 's': status = optarg; break;
		case 'v': rep.version = optarg; break;
		case 'r': rep.release = optarg; break;
		case 'i': rep.integrity_failure = 1; break;
		case 't': rep.detail = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_report, stdout); return EXIT_OK;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(cmd, "expected exactly one device id");
		return EXIT_USAGE;
	}
	rep.device = argv[optind];
	if (!campaign)
		return opts_missing(cmd, "--campaign");
	if (!status)
		return opts_missing(cmd, "--status (delivered, installed, failed or rolled_back)");
	rep.status = report_status(status);
	if (rep.status < 0) {
		cli_err(cmd, "--status: '%s' is not delivered, installed, failed or rolled_back", status);
		return EXIT_USAGE;
	}
	if (rep.status == FW_U_INSTALLED && !rep.version) {
		cli_err(cmd, "--status installed needs --version: the version the device runs after its "
		             "reboot (an image counts as installed only once it runs)");
		return EXIT_USAGE;
	}
	if (rep.version && rep.status != FW_U_INSTALLED && rep.status != FW_U_ROLLED_BACK) {
		cli_err(cmd, "--version is for installed and rolled_back reports");
		return EXIT_USAGE;
	}
	if (rep.integrity_failure && rep.status != FW_U_FAILED) {
		cli_err(cmd, "--integrity-failure is for failed reports");
		return EXIT_USAGE;
	}
	if (cli_open_store(cmd, db, &s))
		return EXIT_USAGE;
	cx.now_ms = fw_time_ms();
	cx.actor = cli_actor();
	cx.progress = NULL;
	cx.parg = NULL;
	rc = fw_rollout_report(s, campaign, &rep, 1, &cx, &res, &d);
	if (rc != FW_OK) {
		fw_store_close(s);
		if (rc == FW_E_CONFLICT || rc == FW_E_VERIFY) {
			cli_err(cmd, "REFUSED %s", d.msg);
			return EXIT_REFUSED;
		}
		return cli_fail(cmd, rc, &d);
	}
	switch (res.outcome) {
	case FW_REPORT_DUPLICATE:
		printf("duplicate: %s is %s already in campaign %s: nothing changed\n", rep.device,
		       fw_update_state_name(res.from), campaign);
		break;
	case FW_REPORT_LATE:
		printf("late: %s is %s in campaign %s, past a %s report: nothing changed\n", rep.device,
		       fw_update_state_name(res.from), campaign, status);
		break;
	case FW_REPORT_STOPPED:
		reasons_text(res.reasons, why, sizeof(why));
		printf("%s: %s -> %s (record %llu)\n", rep.device, fw_update_state_name(res.from),
		       fw_update_state_name(res.to), (unsigned long long)res.idx);
		fflush(stdout);
		fw_store_close(s);
		cli_err(cmd, "STOPPED %s is no longer eligible (%s): not delivered", rep.device, why);
		return EXIT_REFUSED;
	default:
		printf("%s: %s -> %s (record %llu)\n", rep.device, fw_update_state_name(res.from),
		       fw_update_state_name(res.to), (unsigned long long)res.idx);
		report_after(s, campaign, rep.device, &res);
		break;
	}
	fw_store_close(s);
	return EXIT_OK;
}

int cmd_device(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return device_import(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return device_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return device_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "lifecycle") == 0)
		return device_lifecycle(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return device_report(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		return cmd_device_token(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_import, stdout);
		fputs(usage_list, stdout);
		fputs(usage_show, stdout);
		fputs(usage_lifecycle, stdout);
		fputs(usage_report, stdout);
		fputs("usage: fwtrust device token ID... | --all [--agent TYPE] [--out FILE] (see "
		      "'fwtrust device token --help')\n",
		      stdout);
		return EXIT_OK;
	}
	cli_err("device",
	        "expected import, list, show, lifecycle, report or token (run 'fwtrust device "
	        "--help')");
	return EXIT_USAGE;
}
