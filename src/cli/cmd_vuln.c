/* fwtrust vuln add|list|show|affected: advisories and their affected cohort */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "evidence/evidence.h"
#include "store/store.h"
#include "vuln/vuln.h"

static const char usage_add[] =
    "usage: fwtrust vuln add ID --title TEXT --severity low|medium|high|critical\n"
    "                       --product P [--family F] --affected RANGE [--fixed-in VERSION]\n"
    "                       [--cvss VECTOR] [--cve CVE-YYYY-NNNN ...] [--db PATH]\n"
    "\n"
    "Records an advisory: the firmware versions of a product (and family) it\n"
    "affects, and the version that fixes it. Everything is checked: the id\n"
    "(1-64 of A-Z a-z 0-9 . _ : -), the CVSS v3.x vector field by field\n"
    "('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), RANGE as in 'release\n"
    "add --from' ('>=2.0.0 <2.4.1'), VERSION a semantic version outside RANGE.\n"
    "An id is added once. Recorded (vuln.add).\n";
static const char usage_list[] = "usage: fwtrust vuln list [--json] [--db PATH]\n";
static const char usage_show[] = "usage: fwtrust vuln show ID [--json] [--db PATH]\n";
static const char usage_affected[] =
    "usage: fwtrust vuln affected ID [--list BUCKET] [--json] [--db PATH]\n"
    "\n"
    "Computes, now, which devices of the advisory's product (and family) are\n"
    "affected and what is done about each, in buckets: exposed,\n"
    "being_remediated (an unfinished member of a running or paused campaign\n"
    "that remediates it: its release fixes it, or its policy's remediates or\n"
    "its release's fixes name it), cannot_be_remediated (end of support,\n"
    "decommissioned, support period over), isolated (quarantined or\n"
    "certificate revoked), remediated (runs the fixed version or later, or a\n"
    "release that declares it fixes it).\n"
    "Every computation is recorded (vuln.affected) with the SHA-256 of the\n"
    "cohort list, which is kept in the store. --list prints one bucket's\n"
    "devices.\n";

static const char usage_all[] =
    "usage: fwtrust vuln add ID --title TEXT --severity low|medium|high|critical\n"
    "                       --product P [--family F] --affected RANGE [--fixed-in VERSION]\n"
    "                       [--cvss VECTOR] [--cve CVE-YYYY-NNNN ...]\n"
    "       fwtrust vuln import FILE [--partial] [--dry-run] [--json]\n"
    "       fwtrust vuln list [--json]\n"
    "       fwtrust vuln show ID [--json]\n"
    "       fwtrust vuln affected ID [--list BUCKET] [--json]\n"
    "       fwtrust vuln remediate ID --release R [--name NAME] [--out FILE]\n"
    "       fwtrust vuln isolate ID --reason TEXT [--devices KEY=VALUE]... [--revoke]\n"
    "                            [--dry-run]\n"
    "       fwtrust vuln progress ID [--json]\n"
    "       fwtrust vuln report ID --out DIR [--no-pdf]\n"
    "Every command takes --db PATH and --help (what it does, in detail).\n"
    "Advisories, their affected devices, remediation and isolation: docs/vuln.md.\n";

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static int vuln_add(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"title", required_argument, NULL, 't'},
	    {"severity", required_argument, NULL, 's'},
	    {"cvss", required_argument, NULL, 'v'},
	    {"product", required_argument, NULL, 'p'},
	    {"family", required_argument, NULL, 'f'},
	    {"affected", required_argument, NULL, 'a'},
	    {"fixed-in", required_argument, NULL, 'x'},
	    {"cve", required_argument, NULL, 'c'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *cves[FW_VULN_MAX_CVES];
	struct fw_vuln_input in = {0};
	struct fw_vuln_advisory a;
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	int c, rc;

	in.cves = cves;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 't': in.title = optarg; break;
		case 's': in.severity = optarg; break;
		case 'v': in.cvss = optarg; break;
		case 'p': in.product = optarg; break;
		case 'f': in.family = optarg; break;
		case 'a': in.affected = optarg; break;
		case 'x': in.fixed_in = optarg; break;
		case 'c':
			if (in.ncves == FW_VULN_MAX_CVES) {
				cli_err("vuln add", "--cve: at most %d", FW_VULN_MAX_CVES);
				return EXIT_USAGE;
			}
			cves[in.ncves++] = optarg;
			break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_add, stdout); return EXIT_OK;
		default: return opts_bad("vuln add", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("vuln add", "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (!in.title)
		return opts_missing("vuln add", "--title");
	if (!in.severity)
		return opts_missing("vuln add", "--severity");
	if (!in.product)
		return opts_missing("vuln add", "--product");
	if (!in.affected)
		return opts_missing("vuln add", "--affected");
	in.id = argv[optind];
	rc = fw_vuln_advisory_parse(&in, &a, &d);
	if (rc != FW_OK)
		return cli_fail("vuln add", rc, &d);
	if (cli_open_store("vuln add", db, &s))
		return EXIT_USAGE;
	rc = fw_vuln_add(s, &a, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc == FW_E_CONFLICT) {
		fprintf(stderr, "fwtrust vuln add: REFUSED %s\n", d.msg);
		return EXIT_REFUSED;
	}
	if (rc != FW_OK)
		return cli_fail("vuln add", rc, &d);
	printf("advisory  %s (%s) %s\n", a.id, fw_vuln_severity_name(a.severity), a.title);
	printf("affects   %s%s%s %s\n", a.product, a.family[0] ? " / " : "", a.family,
	       a.affected_text);
	printf("fixed in  %s\n", a.has_fixed ? a.fixed_text : "(none yet)");
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int vuln_list(int argc, char **argv)
{
	json_t *all = NULL, *v;
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("vuln list", usage_list, argc, argv, fw_vuln_list, &all, &as_json);
	if (all == NULL)
		return rc;
	if (as_json) {
		cli_print_json(all);
	} else {
		printf("%-24s %-9s %-16s %-10s %-24s %-10s %s\n", "ID", "SEVERITY", "PRODUCT", "FAMILY",
		       "AFFECTED", "FIXED IN", "TITLE");
		json_array_foreach(all, i, v)
			printf("%-24s %-9s %-16s %-10s %-24s %-10s %s\n", str(v, "advisory"),
			       str(v, "severity"), str(v, "product"), str(v, "family"),
			       str(v, "affected"), str(v, "fixed_in"), str(v, "title"));
	}
	json_decref(all);
	return EXIT_OK;
}

static int vuln_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *v;
	size_t i;
	int c, rc, as_json = 0;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_show, stdout); return EXIT_OK;
		default: return opts_bad("vuln show", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("vuln show", "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (cli_open_store("vuln show", db, &s))
		return EXIT_USAGE;
	rc = fw_vuln_get(s, argv[optind], &doc, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("vuln show", rc, &d);
	if (as_json) {
		cli_print_json(doc);
	} else {
		printf("advisory  %s\n", str(doc, "advisory"));
		printf("title     %s\n", str(doc, "title"));
		printf("severity  %s\n", str(doc, "severity"));
		printf("cvss      %s\n", str(doc, "cvss"));
		printf("cves     ");
		json_array_foreach(json_object_get(doc, "cves"), i, v)
			printf(" %s", json_string_value(v));
		printf("%s\n", json_array_size(json_object_get(doc, "cves")) ? "" : " -");
		printf("product   %s, family %s\n", str(doc, "product"),
		       json_is_string(json_object_get(doc, "family")) ? str(doc, "family") : "any");
		printf("affected  %s\n", str(doc, "affected"));
		printf("fixed in  %s\n", str(doc, "fixed_in"));
		printf("source    %s\n", str(doc, "source"));
		if (json_is_object(json_object_get(doc, "csaf"))) {
			json_t *cs = json_object_get(doc, "csaf");

			printf("csaf      %s version %s (%s), %s; sha256 %s\n", str(cs, "tracking_id"),
			       str(cs, "tracking_version"), str(cs, "publisher"), str(cs, "path"),
			       str(cs, "sha256"));
		}
		printf("evidence  record %lld\n",
		       (long long)json_integer_value(json_object_get(json_object_get(doc, "added"),
		                                                     "idx")));
	}
	json_decref(doc);
	return EXIT_OK;
}

/* The devices of one bucket from the kept cohort list ("<device> <bucket>
 * <fw_version>" lines), as text or JSON lines of an array. */
static int print_bucket(struct fw_store *s, const struct fw_vuln_cohort *c, const char *bucket,
                        int as_json)
{
	char path[4200], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t k = 0;
	int want = fw_vuln_bucket_parse(bucket) - 1; /* as fw_report_vuln_bucket counts */
	FILE *f;

	fw_store_blob_path(s, c->list_sha256, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL) {
		cli_err("vuln affected", "%s: cannot read the cohort list", path);
		return EXIT_USAGE;
	}
	if (as_json)
		printf("[");
	while ((n = getline(&line, &cap, f)) > 0) {
		struct fw_report_cohort_line cl;

		if (line[n - 1] == '\n')
			n--;
		if (fw_report_cohort_line(line, (size_t)n, &cl) != want)
			continue;
		if (as_json) {
			json_t *o = json_pack("{s:s%s:s%}", "device", cl.device, cl.device_len,
			                      "fw_version", cl.version, cl.version_len);
			char *t;

			if (o && cl.why)
				json_object_set_new(o, "why", json_stringn(cl.why, cl.why_len));
			t = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
			printf("%s\n%s", k ? "," : "", t ? t : "null");
			free(t);
			json_decref(o);
		} else {
			/* the line as kept: device, version and why (the bucket is given) */
			printf("%.*s %.*s%s%.*s\n", (int)cl.device_len, cl.device, (int)cl.version_len,
			       cl.version, cl.why ? " " : "", cl.why ? (int)cl.why_len : 0,
			       cl.why ? cl.why : "");
		}
		k++;
	}
	if (as_json)
		printf("%s]\n", k ? "\n" : "");
	free(line);
	fclose(f);
	fprintf(stderr, "%llu device(s) %s\n", (unsigned long long)k, bucket);
	return EXIT_OK;
}

/* the exposed devices, by why no update reaches them */
static void print_why(const struct fw_vuln_cohort *c)
{
	int r, n = 0;

	if (c->exposed_eligible)
		printf("    %llu eligible for a fixing release: no campaign reaches them yet\n",
		       (unsigned long long)c->exposed_eligible);
	if (c->exposed_no_release)
		printf("    %llu with no fixing release for their product and family\n",
		       (unsigned long long)c->exposed_no_release);
	for (r = 0; r < FW_REASON_COUNT; r++) {
		char item[80];
		int len;

		if (c->exposed_by_reason[r] == 0)
			continue;
		if (n == 0) {
			printf("    ineligible for the fixing releases of their family, by reason:\n"
			       "     ");
			n = 5;
		}
		len = snprintf(item, sizeof(item), " %s %llu", fw_reason_code(r),
		               (unsigned long long)c->exposed_by_reason[r]);
		if (n > 5 && n + len > 78) {
			printf("\n     ");
			n = 5;
		}
		printf("%s", item);
		n += len;
	}
	if (n)
		printf("\n");
}

static int vuln_affected(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"list", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *list = NULL;
	struct fw_vuln_cohort c;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char hex[65];
	int ch, rc, b, as_json = 0;

	while ((ch = opts_next(argc, argv, longopts)) != -1) {
		switch (ch) {
		case 'l': list = optarg; break;
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_affected, stdout); return EXIT_OK;
		default: return opts_bad("vuln affected", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("vuln affected", "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (list && fw_vuln_bucket_parse(list) < 0) {
		cli_err("vuln affected", "--list: '%s' is not a bucket (isolated, "
		                         "cannot_be_remediated, being_remediated, exposed, remediated)",
		        list);
		return EXIT_USAGE;
	}
	if (cli_open_store("vuln affected", db, &s))
		return EXIT_USAGE;
	rc = fw_vuln_affected(s, argv[optind], fw_time_ms() / 1000, cli_actor(), &c, &d);
	if (rc != FW_OK) {
		fw_store_close(s);
		return cli_fail("vuln affected", rc, &d);
	}
	if (list) {
		rc = print_bucket(s, &c, list, as_json);
		fprintf(stderr, "evidence  record %llu\n", (unsigned long long)c.idx);
		fw_store_close(s);
		return rc;
	}
	fw_store_close(s);
	if (as_json) {
		json_t *o = fw_vuln_cohort_json(&c);

		if (o == NULL) {
			cli_err("vuln affected", "out of memory");
			return EXIT_USAGE;
		}
		json_object_set_new(o, "record", json_integer((json_int_t)c.idx));
		cli_print_json(o);
		json_decref(o);
		return EXIT_OK;
	}
	fw_hex_encode(c.list_sha256, 32, hex);
	printf("advisory  %s: %llu of %llu devices in the cohort\n", c.advisory,
	       (unsigned long long)c.cohort, (unsigned long long)c.devices);
	for (b = 1; b < FW_VB_COUNT; b++) {
		printf("  %-22s %llu\n", fw_vuln_bucket_name(b), (unsigned long long)c.counts[b]);
		if (b == FW_VB_EXPOSED && c.counts[b])
			print_why(&c);
	}
	printf("campaigns %zu remediating\n", c.ncampaigns);
	printf("list      sha256 %s (%llu bytes)\n", hex, (unsigned long long)c.list_size);
	printf("evidence  record %llu\n", (unsigned long long)c.idx);
	return EXIT_OK;
}

int cmd_vuln(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return vuln_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return vuln_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return vuln_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "affected") == 0)
		return vuln_affected(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remediate") == 0)
		return cmd_vuln_remediate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "isolate") == 0)
		return cmd_vuln_isolate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return cmd_vuln_import(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "progress") == 0)
		return cmd_vuln_progress(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return cmd_vuln_report(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_all, stdout);
		return EXIT_OK;
	}
	cli_err("vuln", "expected add, import, list, show, affected, remediate, isolate, progress "
	                "or report (run 'fwtrust vuln --help')");
	return EXIT_USAGE;
}
