/* fwtrust audit export | verify-bundle | summary: evidence bundles. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "evidence/evidence.h"
#include "store/store.h"

static const char export_usage[] =
    "usage: fwtrust audit export (--campaign ID | --release ID | --advisory ID) --out DIR\n"
    "                            [--no-pdf] [--db PATH]\n"
    "\n"
    "Write the evidence bundle of a campaign (or of a release and its campaigns,\n"
    "or of an advisory: its records, the releases that fix it and the campaigns\n"
    "that remediate it) into the new directory DIR: the records that concern it and those they refer\n"
    "to, one batch inclusion proof against a checkpoint signed now, the earlier\n"
    "checkpoints with consistency proofs, the public keys, the release's envelope,\n"
    "the members file, summary.json, report.html and report.pdf (headless\n"
    "Chromium; --no-pdf leaves it out), and manifest.txt. An auditor checks it\n"
    "offline with 'fwtrust audit verify-bundle DIR --key LOG.pub'.\n"
    "The bundle is written to DIR.partial and renamed at the end: DIR appears\n"
    "whole or not at all. Format: docs/bundles.md.\n";

static const char verify_usage[] =
    "usage: fwtrust audit verify-bundle DIR [--key LOG.pub] [--json]\n"
    "                                   [--device ID [--proofs OUTDIR]]\n"
    "\n"
    "Check an evidence bundle offline, with no store and no network: every file\n"
    "against manifest.txt, the checkpoints' signatures and consistency, every\n"
    "record against the batch proof and the anchor checkpoint, every record's\n"
    "references, the release envelope against its signing key, the approvals\n"
    "(valid signatures by distinct approvers, never the campaign's creator), the\n"
    "members file, the report's numbers. --key: the log's public key you hold\n"
    "(without it the bundle's own log.pub is used, and the verdict says so).\n"
    "--device: answer for one device (eligible and why, what it received, what\n"
    "happened), each answer a record proven in the log; --proofs writes a\n"
    "c2sp.org/tlog-proof and the exact record of each into OUTDIR for\n"
    "'fwtrust audit verify-proof'.\n"
    "Exit status: 0 verified, 1 refused (findings named by file and record), 2 the\n"
    "bundle cannot be read. Findings: docs/bundles.md.\n";

static const char summary_usage[] =
    "usage: fwtrust audit summary DIR [--key LOG.pub] [--json]\n"
    "       fwtrust audit summary (--campaign ID | --release ID | --advisory ID) [--json]\n"
    "                             [--db PATH]\n"
    "\n"
    "Print the audit report's numbers on the terminal: of a bundle (verified\n"
    "first), or of a campaign or release in the store (a bundle is exported to a\n"
    "temporary directory and removed). --json: the summary document\n"
    "(docs/report.md).\n";

struct bopts {
	const char *db, *campaign, *release, *advisory, *out, *key, *device, *proofs, *dir;
	int json, no_pdf;
};

static int bparse(const char *cmd, const char *usage, int argc, char **argv, struct bopts *o)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},        {"campaign", required_argument, NULL, 'c'},
	    {"release", required_argument, NULL, 'r'},   {"out", required_argument, NULL, 'o'},
	    {"key", required_argument, NULL, 'k'},       {"device", required_argument, NULL, 'D'},
	    {"proofs", required_argument, NULL, 'P'},    {"json", no_argument, NULL, 'j'},
	    {"no-pdf", no_argument, NULL, 'n'},          {"help", no_argument, NULL, 'h'},
	    {"advisory", required_argument, NULL, 'A'},
	    {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'c': o->campaign = optarg; break;
		case 'r': o->release = optarg; break;
		case 'A': o->advisory = optarg; break;
		case 'o': o->out = optarg; break;
		case 'k': o->key = optarg; break;
		case 'D': o->device = optarg; break;
		case 'P': o->proofs = optarg; break;
		case 'j': o->json = 1; break;
		case 'n': o->no_pdf = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind < argc)
		o->dir = argv[optind++];
	if (optind != argc)
		return opts_extra(cmd, argv[optind]);
	return 0;
}

static void bar(void *arg, uint64_t done, uint64_t total)
{
	cli_progress(arg, done, total, "records");
}

/* export into dir (which must not exist), PDF unless no_pdf, manifest */
static int do_export(const char *cmd, const struct bopts *o, const char *dir, int quiet,
                     struct fw_bundle_info *info)
{
	struct fw_store *s = NULL;
	struct fw_bundle_opts bo;
	struct cli_progress p;
	struct fw_diag d = {{0}};
	char html[4200], pdf[4200];
	int rc;

	if (cli_open_store(cmd, o->db, &s))
		return EXIT_USAGE;
	memset(&bo, 0, sizeof(bo));
	bo.campaign = o->campaign;
	bo.release = o->release;
	bo.advisory = o->advisory;
	bo.dir = dir;
	cli_progress_init(&p, "export");
	if (!quiet) {
		bo.progress = bar;
		bo.progress_arg = &p;
	}
	rc = fw_bundle_export(s, &bo, info, &d);
	cli_progress_done(&p);
	fw_store_close(s);
	if (rc != FW_OK)
		return rc == FW_E_TAMPER ? (cli_err(cmd, "REFUSED: %s", d.msg), EXIT_REFUSED)
		                         : cli_fail(cmd, rc, &d);
	if (!o->no_pdf) {
		snprintf(html, sizeof(html), "%s/report.html", dir);
		snprintf(pdf, sizeof(pdf), "%s/report.pdf", dir);
		rc = cli_report_pdf(cmd, html, pdf);
		if (rc != 0) {
			fw_bundle_discard(dir);
			json_decref(info->summary);
			info->summary = NULL;
			return rc;
		}
	}
	if (fw_bundle_seal(dir, &d) != FW_OK) {
		fw_bundle_discard(dir);
		json_decref(info->summary);
		info->summary = NULL;
		return cli_fail(cmd, FW_E_IO, &d);
	}
	return EXIT_OK;
}

static int export_to(const char *cmd, const struct bopts *o)
{
	struct fw_bundle_info info;
	char part[4200];
	int rc;

	if (access(o->out, F_OK) == 0) {
		cli_err(cmd, "--out %s: exists already (a bundle is written to a new directory)",
		        o->out);
		return EXIT_USAGE;
	}
	snprintf(part, sizeof(part), "%s.partial", o->out);
	if (access(part, F_OK) == 0) {
		cli_err(cmd, "%s exists: an export was interrupted; remove it and export again", part);
		return EXIT_USAGE;
	}
	rc = do_export(cmd, o, part, 0, &info);
	if (rc != EXIT_OK)
		return rc;
	if (rename(part, o->out) != 0) {
		cli_err(cmd, "%s -> %s: %s", part, o->out, strerror(errno));
		fw_bundle_discard(part);
		json_decref(info.summary);
		return EXIT_USAGE;
	}
	{
		char root[48];

		fw_b64_encode(info.anchor.root, 32, root);
		printf("bundle      %s (%s %s)\n", o->out,
		       o->campaign ? "campaign" : o->advisory ? "advisory" : "release",
		       o->campaign ? o->campaign : o->advisory ? o->advisory : o->release);
		printf("records     %llu; %llu member devices\n", (unsigned long long)info.records,
		       (unsigned long long)info.devices);
		printf("anchor      checkpoint %llu of %s (%s), %llu earlier with consistency "
		       "proofs\n",
		       (unsigned long long)info.anchor.size, info.anchor.origin, root,
		       (unsigned long long)(info.checkpoints - 1));
		printf("report      %s/report.html%s%s%s\n", o->out, o->no_pdf ? "" : ", ",
		       o->no_pdf ? "" : o->out, o->no_pdf ? "" : "/report.pdf");
		printf("verify      fwtrust audit verify-bundle %s --key <the log's public key>\n",
		       o->out);
	}
	json_decref(info.summary);
	return EXIT_OK;
}

static int a_export(const struct bopts *o)
{
	if ((o->campaign != NULL) + (o->release != NULL) + (o->advisory != NULL) != 1 ||
	    o->out == NULL || o->dir) {
		cli_err("audit export", "expected --campaign ID, --release ID or --advisory ID, and "
		                        "--out DIR (run 'fwtrust audit export --help')");
		return EXIT_USAGE;
	}
	return export_to("audit export", o);
}

static const char vuln_report_usage[] =
    "usage: fwtrust vuln report ID --out DIR [--no-pdf] [--db PATH]\n"
    "\n"
    "Write the evidence bundle of one advisory into the new directory DIR: its\n"
    "records (vuln.add, every vuln.affected computation of its cohort with the\n"
    "cohort lists, every vuln.isolate), the releases that declare they fix it\n"
    "(with their SBOMs), the campaigns that remediate it, the proofs, keys,\n"
    "summary.json, report.html and report.pdf, as 'fwtrust audit export' does.\n"
    "Check it with 'fwtrust audit verify-bundle DIR --key LOG.pub'.\n";

int cmd_vuln_report(int argc, char **argv)
{
	struct bopts o;
	int rc = bparse("vuln report", vuln_report_usage, argc, argv, &o);

	if (rc < 0)
		return EXIT_OK;
	if (rc > 0)
		return rc;
	if (o.dir == NULL || o.campaign || o.release || o.advisory || o.key || o.device ||
	    o.proofs || o.json) {
		cli_err("vuln report", "expected an advisory id and --out DIR (run 'fwtrust vuln "
		                       "report --help')");
		return EXIT_USAGE;
	}
	if (o.out == NULL)
		return opts_missing("vuln report", "--out");
	o.advisory = o.dir;
	o.dir = NULL;
	return export_to("vuln report", &o);
}

struct sink {
	json_t *all; /* --json */
	int print;
};

static void on_finding(void *arg, const struct fw_bundle_finding *f)
{
	struct sink *k = arg;
	char rec[40] = "";

	if (f->record != UINT64_MAX)
		snprintf(rec, sizeof(rec), " record %llu", (unsigned long long)f->record);
	if (k->all)
		json_array_append_new(k->all, json_pack("{ss ss s? ss}", "code", f->code, "file", f->file,
		                                        "record",
		                                        f->record == UINT64_MAX
		                                            ? NULL
		                                            : json_integer((json_int_t)f->record),
		                                        "detail", f->detail));
	else if (k->print)
		printf("FAIL %s: %s%s: %s\n", f->code, f->file, rec, f->detail);
}

static const char *s_(const json_t *j, const char *k)
{
	const char *v = json_string_value(json_object_get(j, k));

	return v ? v : "";
}

/* The answer for one device, from its records (in index order). */
static void print_device(const struct fw_bundle_query *q, const struct fw_bundle_result *res,
                         const char *dir)
{
	size_t i;
	json_t *e;
	int any_elig = 0, said = 0;
	const char *label;

	printf("\ndevice      %s (%zu records in the bundle)\n", q->device,
	       json_array_size(q->records));
	if (json_array_size(q->records) == 0) {
		printf("            no record of the bundle names it: it was not a member\n");
		return;
	}
	json_array_foreach(q->records, i, e) {
		const json_t *r = json_object_get(e, "record");
		const char *type = s_(r, "type");
		json_int_t idx = json_integer_value(json_object_get(e, "idx"));
		char when[32];

		cli_time((long long)json_integer_value(json_object_get(r, "ts")), when, sizeof(when));
		label = strcmp(type, "eligibility.decision") != 0 && !said++ ? "happened" : "";
		if (strcmp(type, "eligibility.decision") == 0) {
			json_t *reasons = json_object_get(r, "reasons");
			char buf[400] = "";
			size_t k;
			json_t *x;

			json_array_foreach(reasons, k, x) {
				strncat(buf, k ? ", " : "", sizeof(buf) - strlen(buf) - 1);
				strncat(buf, json_string_value(x) ? json_string_value(x) : "?",
				        sizeof(buf) - strlen(buf) - 1);
			}
			printf("eligible    %s%s%s (eligibility run %lld, record %lld, %s)\n",
			       json_is_true(json_object_get(r, "eligible")) ? "yes" : "no",
			       buf[0] ? ": " : "", buf, (long long)json_integer_value(json_object_get(r, "run")),
			       (long long)idx, when);
			any_elig = 1;
		} else if (strcmp(type, "rollout.device") == 0) {
			const char *from = json_is_string(json_object_get(r, "from")) ? s_(r, "from") : "-";
			const char *to = s_(r, "to");
			json_t *reasons = json_object_get(r, "reasons");
			char extra[400] = "";

			if (strcmp(to, "eligible") == 0 || strcmp(to, "ineligible") == 0) {
				any_elig = 1;
				if (json_array_size(reasons)) {
					size_t k;
					json_t *x;

					json_array_foreach(reasons, k, x) {
						strncat(extra, k ? ", " : " reasons: ", sizeof(extra) - strlen(extra) - 1);
						strncat(extra, json_string_value(x) ? json_string_value(x) : "?",
						        sizeof(extra) - strlen(extra) - 1);
					}
				}
			}
			if (json_is_string(json_object_get(r, "version")))
				snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " runs %s",
				         s_(r, "version"));
			if (json_is_true(json_object_get(r, "integrity_failure")))
				strncat(extra, " (integrity failure)", sizeof(extra) - strlen(extra) - 1);
			if (json_is_string(json_object_get(r, "detail")))
				snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " \"%.80s\"",
				         s_(r, "detail"));
			printf("%-11s %s  %s %s -> %s (%s, attempt %lld)%s  [record %lld]\n",
			       label, when, s_(r, "campaign"), from, to, s_(r, "cause"),
			       (long long)json_integer_value(json_object_get(r, "attempts")), extra,
			       (long long)idx);
		} else
			printf("%-11s %s  %s%s%s  [record %lld]\n", label, when, type,
			       json_is_string(json_object_get(r, "to")) ? " -> " : "",
			       json_is_string(json_object_get(r, "to")) ? s_(r, "to") : "",
			       (long long)idx);
	}
	if (!any_elig)
		printf("eligible    no eligibility decision about it is in the bundle\n");
	printf("proven      each record above is in checkpoint %llu of %s (the batch proof "
	       "verified)\n",
	       (unsigned long long)res->anchor.size, res->anchor.origin);
	if (q->proofs_dir)
		printf("proofs      %llu in %s: fwtrust audit verify-proof --checkpoint "
		       "%s/checkpoint.note --proof %s/IDX.proof --record %s/IDX.record --key LOG.pub\n",
		       (unsigned long long)q->proofs, q->proofs_dir, dir, q->proofs_dir, q->proofs_dir);
}

static int a_verify(const struct bopts *o)
{
	const char *cmd = "audit verify-bundle";
	uint8_t pub[32];
	struct fw_bundle_result res;
	struct fw_bundle_query q;
	struct sink k = {NULL, 1};
	struct cli_progress p;
	struct fw_diag d = {{0}};
	int rc;

	if (o->dir == NULL || o->campaign || o->release || o->advisory || o->out || o->no_pdf) {
		cli_err(cmd, "expected the bundle's directory (run 'fwtrust audit verify-bundle "
		             "--help')");
		return EXIT_USAGE;
	}
	if (o->proofs && o->device == NULL) {
		cli_err(cmd, "--proofs: give --device too");
		return EXIT_USAGE;
	}
	if (o->key && (rc = cli_log_pub(cmd, o->key, pub)) != 0)
		return rc;
	if (o->json)
		k.all = json_array();
	memset(&q, 0, sizeof(q));
	q.device = o->device;
	q.proofs_dir = o->proofs;
	cli_progress_init(&p, "verify");
	rc = fw_bundle_verify(o->dir, o->key ? pub : NULL, o->device ? &q : NULL, on_finding, &k,
	                      o->json ? NULL : bar, &p, &res, &d);
	cli_progress_done(&p);
	if (rc != FW_OK) {
		json_decref(k.all);
		json_decref(q.records);
		fw_bundle_result_clear(&res);
		return cli_fail(cmd, rc, &d);
	}
	if (o->json) {
		char root[48];
		json_t *out;

		fw_b64_encode(res.anchor.root, 32, root);
		out = json_pack("{sb ss ss sI sI sI sI sb s{ss sI ss} so}", "verified", res.findings == 0,
		                "kind", res.kind, "id", res.id, "records", (json_int_t)res.records,
		                "files", (json_int_t)res.files, "checkpoints",
		                (json_int_t)res.checkpoints, "approvals", (json_int_t)res.approvals,
		                "key_pinned", res.key_pinned, "anchor", "origin", res.anchor.origin,
		                "size", (json_int_t)res.anchor.size, "root", root, "findings", k.all);
		if (o->device)
			json_object_set_new(out, "device",
			                    json_pack("{ss sO sI}", "id", o->device, "records", q.records,
			                              "proofs", (json_int_t)q.proofs));
		cli_print_json(out);
		json_decref(out);
	} else {
		if (res.findings == 0)
			printf("VERIFIED %s: %s %s, %llu records in checkpoint %llu of %s, %llu files, "
			       "%llu checkpoints, %llu approvals; %s\n",
			       o->dir, res.kind, res.id, (unsigned long long)res.records,
			       (unsigned long long)res.anchor.size, res.anchor.origin,
			       (unsigned long long)res.files, (unsigned long long)res.checkpoints,
			       (unsigned long long)res.approvals,
			       res.key_pinned ? "log key as given"
			                      : "log key from the bundle itself (give --key to pin it)");
		else
			printf("REFUSED %s: %llu finding(s)\n", o->dir, (unsigned long long)res.findings);
		if (o->device && res.findings == 0)
			print_device(&q, &res, o->dir);
	}
	json_decref(q.records);
	rc = res.findings ? EXIT_REFUSED : EXIT_OK;
	fw_bundle_result_clear(&res);
	return rc;
}

static int a_summary(const struct bopts *o)
{
	const char *cmd = "audit summary";
	json_t *summary = NULL;
	int rc = EXIT_OK;

	if ((o->dir != NULL) + (o->campaign != NULL) + (o->release != NULL) +
	            (o->advisory != NULL) != 1 ||
	    o->out || o->device || o->proofs) {
		cli_err(cmd, "expected a bundle's directory, --campaign ID, --release ID or "
		             "--advisory ID (run 'fwtrust audit summary --help')");
		return EXIT_USAGE;
	}
	if (o->dir) {
		uint8_t pub[32];
		struct fw_bundle_result res;
		struct sink k = {NULL, 0};
		struct fw_diag d = {{0}};

		if (o->key && (rc = cli_log_pub(cmd, o->key, pub)) != 0)
			return rc;
		rc = fw_bundle_verify(o->dir, o->key ? pub : NULL, NULL, on_finding, &k, NULL, NULL, &res,
		                      &d);
		if (rc != FW_OK)
			return cli_fail(cmd, rc, &d);
		if (res.findings) {
			cli_err(cmd, "REFUSED: %s does not verify (%llu findings): run 'fwtrust audit "
			             "verify-bundle %s'",
			        o->dir, (unsigned long long)res.findings, o->dir);
			fw_bundle_result_clear(&res);
			return EXIT_REFUSED;
		}
		summary = json_incref(res.summary);
		fw_bundle_result_clear(&res);
	} else {
		struct bopts e = *o;
		struct fw_bundle_info info;
		const char *tmp = getenv("TMPDIR");
		char base[4200], dir[4300];

		snprintf(base, sizeof(base), "%s/fwtrust-summary-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
		if (mkdtemp(base) == NULL) {
			cli_err(cmd, "%s: %s", base, strerror(errno));
			return EXIT_USAGE;
		}
		snprintf(dir, sizeof(dir), "%s/bundle", base);
		e.no_pdf = 1;
		rc = do_export(cmd, &e, dir, o->json, &info);
		fw_bundle_discard(base);
		if (rc != EXIT_OK)
			return rc;
		summary = info.summary;
	}
	if (o->json)
		cli_print_json(summary);
	else
		cli_report_print(summary, stdout);
	json_decref(summary);
	return EXIT_OK;
}

int cmd_audit_bundle(int argc, char **argv)
{
	static const struct {
		const char *name, *usage;
		int (*fn)(const struct bopts *);
	} cmds[] = {
	    {"export", export_usage, a_export},
	    {"verify-bundle", verify_usage, a_verify},
	    {"summary", summary_usage, a_summary},
	};
	char name[64];
	struct bopts o;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc;

		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		snprintf(name, sizeof(name), "audit %s", cmds[i].name);
		rc = bparse(name, cmds[i].usage, argc, argv, &o);
		if (rc < 0)
			return EXIT_OK;
		if (rc > 0)
			return rc;
		return cmds[i].fn(&o);
	}
	return -1;
}
