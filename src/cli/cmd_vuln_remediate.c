/* fwtrust vuln remediate: draft the campaign policy that rolls a fixing
 * release out to exactly the cohort an advisory affects */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"
#include "vuln/vuln.h"

#define CMD "vuln remediate"

static const char usage[] =
    "usage: fwtrust vuln remediate ID --release R [--name NAME] [--out FILE] [--db PATH]\n"
    "\n"
    "Drafts a campaign policy (docs/campaign-policy.md) that rolls release R\n"
    "(an id or unique prefix) out to the devices advisory ID affects: targeting\n"
    "its product, family and affected version range, remediates [ID], a canary\n"
    "stage of 5% (2 approvals) then everyone (1 approval). R must fix the\n"
    "advisory (its version is outside the affected range and at least the\n"
    "fixed version, or its document's fixes name ID) and be for the advisory's\n"
    "product and family; else it is refused (exit 1). Writes the policy to\n"
    "FILE (replaced atomically) or stdout, and tells on stderr how many\n"
    "devices of the registry it targets now. Writes nothing to the store:\n"
    "review the policy, then 'fwtrust campaign create --policy FILE --as RM'.\n";

struct count {
	const struct fw_vuln_advisory *a;
	struct fw_vuln_fixes *fixes;
	int64_t now;
	int has_upgrade;
	struct fw_range upgrade;
	uint64_t counts[FW_VB_COUNT];
	uint64_t outside_upgrade; /* targeted devices outside the release's upgrade range */
};

/* Every device by the buckets of vuln affected (campaigns are not read:
 * being_remediated devices count as exposed, both are targeted). */
static int count_fn(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct count *c = arg;
	struct fw_semver v;
	int b;

	if (strcmp(dev->product, c->a->product) != 0)
		return 0;
	b = fw_vuln_classify(c->a, dev, cert, c->now,
	                     fw_vuln_fixes_runs(c->fixes, dev) ? FW_VULN_RUNS_FIX : 0);
	c->counts[b]++;
	if (b == FW_VB_EXPOSED && c->has_upgrade &&
	    (fw_semver_parse(dev->fw_version, &v, NULL) != FW_OK ||
	     !fw_range_match(&c->upgrade, &v)))
		c->outside_upgrade++;
	return 0;
}

/* The policy, drafted from the advisory and the release, checked with the
 * parser campaign create uses; the normalized form as text (malloc'd). */
static int draft(const struct fw_vuln_advisory *a, const char *release, const char *name,
                 char **text, struct fw_diag *d)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	json_t *j, *norm = NULL;
	char *raw = NULL;
	int rc;

	j = json_pack("{s:s, s:s, s:{s:s, s:o, s:s}, s:[s], s:[{s:s, s:{s:i}, s:i},"
	              " {s:s, s:{s:i}, s:i}]}",
	              "name", name, "release", release, "targeting", "product", a->product,
	              "family", a->family[0] ? json_string(a->family) : json_null(), "versions",
	              a->affected_text, "remediates", a->id, "stages", "name", "canary", "size",
	              "percent", 5, "approvals", 2, "name", "all", "size", "percent", 100,
	              "approvals", 1);
	raw = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (p == NULL || raw == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	/* what campaign create will read: refuse to write what it would refuse */
	rc = fw_campaign_policy_parse(raw, strlen(raw), "the drafted policy", p, d);
	if (rc != FW_OK)
		goto out;
	norm = fw_campaign_policy_json(p);
	*text = norm ? json_dumps(norm, JSON_INDENT(2)) : NULL;
	if (*text == NULL)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
out:
	json_decref(norm);
	free(raw);
	free(p);
	return rc;
}

/* The affected range's own bounds that the release's upgrade range leaves
 * out: each comparator version of the affected range that is affected
 * (">=2.0.0" gives 2.0.0) but outside upgrade_from, at most one line. */
static void warn_bounds(const struct fw_vuln_advisory *a, const struct count *c,
                        const char *upgrade_text)
{
	char v[FW_SEMVER_MAX + 64];
	size_t i;

	for (i = 0; c->has_upgrade && i < a->affected.n; i++) {
		const struct fw_semver *x = &a->affected.t[i].v;

		if (fw_range_match(&a->affected, x) && !fw_range_match(&c->upgrade, x)) {
			fw_semver_format(x, v);
			fprintf(stderr, "warning   the release's upgrade range '%s' leaves out affected "
			                "version %s (affected '%s')\n",
			        upgrade_text, v, a->affected_text);
			return;
		}
	}
}

int cmd_vuln_remediate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"release", required_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, 'o'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *ref = NULL, *name = NULL, *out = NULL, *rid, *ver, *st, *rp, *rf;
	const char *up;
	struct fw_vuln_advisory *a = NULL;
	struct count cnt;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char defname[FW_VULN_ID_MAX + 16], *text = NULL;
	uint64_t rec;
	uint8_t lh[32];
	json_t *rel = NULL;
	int c, rc, ret = EXIT_USAGE;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 'n': name = optarg; break;
		case 'o': out = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad(CMD, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(CMD, "expected exactly one advisory id");
		return EXIT_USAGE;
	}
	if (!ref)
		return opts_missing(CMD, "--release");
	if (name && (name[0] == '\0' || strlen(name) > 128 || !fw_text_valid(name))) {
		cli_err(CMD, "--name: 1-128 bytes of UTF-8 text without control characters");
		return EXIT_USAGE;
	}
	a = malloc(sizeof(*a));
	if (a == NULL) {
		cli_err(CMD, "out of memory");
		return EXIT_USAGE;
	}
	if (cli_open_store(CMD, db, &s)) {
		free(a);
		return EXIT_USAGE;
	}
	rc = fw_vuln_load(s, argv[optind], a, &rec, lh, &d);
	if (rc == FW_OK)
		rc = fw_registry_release_get(s, ref, &rel, &d);
	if (rc != FW_OK) {
		ret = cli_fail(CMD, rc, &d);
		goto out;
	}
	rid = json_string_value(json_object_get(rel, "release_id"));
	ver = json_string_value(json_object_get(rel, "version"));
	st = json_string_value(json_object_get(rel, "status"));
	rp = json_string_value(json_object_get(rel, "product"));
	rf = json_string_value(json_object_get(rel, "family"));
	up = json_string_value(json_object_get(rel, "upgrade_from"));
	if (rid == NULL || rp == NULL || rf == NULL) {
		cli_err(CMD, "release %s: its document is malformed", ref);
		goto out;
	}
	ret = EXIT_REFUSED;
	if (st == NULL || strcmp(st, "ok") != 0) {
		cli_err(CMD, "REFUSED release %.16s is signed by a revoked key: it cannot be rolled out",
		        rid);
		goto out;
	}
	if (strcmp(rp, a->product) != 0 || (a->family[0] && strcmp(rf, a->family) != 0)) {
		cli_err(CMD, "REFUSED release %.16s is for %s / %s; advisory %s is about %s / %s", rid,
		        rp, rf, a->id, a->product, a->family[0] ? a->family : "any family");
		goto out;
	}
	if (!fw_vuln_release_doc_fixes(a, rel)) {
		cli_err(CMD, "REFUSED release %.16s (version %s) does not fix advisory %s: affected "
		             "'%s'%s%s, and its fixes do not name it",
		        rid, ver ? ver : "none", a->id, a->affected_text,
		        a->has_fixed ? ", fixed in " : "", a->fixed_text);
		goto out;
	}
	ret = EXIT_USAGE;
	snprintf(defname, sizeof(defname), "remediate-%s", a->id);
	rc = draft(a, rid, name ? name : defname, &text, &d);
	if (rc != FW_OK) {
		ret = cli_fail(CMD, rc, &d);
		goto out;
	}
	/* how many devices it targets now: read only, nothing recorded */
	memset(&cnt, 0, sizeof(cnt));
	cnt.a = a;
	cnt.now = fw_time_ms() / 1000;
	cnt.has_upgrade = up && fw_range_parse(up, &cnt.upgrade, NULL) == FW_OK;
	rc = fw_vuln_fixes_load(s, a, &cnt.fixes, &d);
	if (rc == FW_OK)
		rc = fw_store_device_scan(s, count_fn, &cnt, &d);
	fw_vuln_fixes_free(cnt.fixes);
	if (rc != FW_OK) {
		ret = cli_fail(CMD, rc, &d);
		goto out;
	}
	if (out) {
		struct fw_file_out f = {out, text, strlen(text), 0644};

		rc = fw_files_commit(&f, 1, 1, &d);
		if (rc != FW_OK) {
			ret = cli_fail(CMD, rc, &d);
			goto out;
		}
	} else if (fputs(text, stdout) == EOF || putchar('\n') == EOF) {
		goto out;
	}
	fprintf(stderr, "drafted   campaign policy \"%s\" for advisory %s: release %.16s (%s)%s%s\n",
	        name ? name : defname, a->id, rid, ver ? ver : "no version", out ? " in " : "",
	        out ? out : "");
	fprintf(stderr, "targets   %s / %s, versions '%s': %llu device(s) now (not counted: %llu "
	                "isolated, %llu cannot_be_remediated)\n",
	        a->product, a->family[0] ? a->family : "any family", a->affected_text,
	        (unsigned long long)cnt.counts[FW_VB_EXPOSED],
	        (unsigned long long)cnt.counts[FW_VB_ISOLATED],
	        (unsigned long long)cnt.counts[FW_VB_CANNOT]);
	warn_bounds(a, &cnt, up);
	if (cnt.outside_upgrade)
		fprintf(stderr, "warning   %llu of them run a version outside the release's upgrade "
		                "range '%s': they will be ineligible (version.out_of_range)\n",
		        (unsigned long long)cnt.outside_upgrade, up);
	fprintf(stderr, "next      review it, then 'fwtrust campaign create --policy %s --as "
	                "RELEASE_MANAGER'\n",
	        out ? out : "FILE");
	ret = EXIT_OK;
out:
	fw_store_close(s);
	json_decref(rel);
	free(text);
	free(a);
	return ret;
}
