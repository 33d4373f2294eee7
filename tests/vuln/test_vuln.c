/*
 * vuln: CVSS v3.x vectors field by field, advisory validation (ids, CVEs,
 * ranges and their edges, pre-releases, a fixing version inside the
 * range), advisories on a real store (recorded once, a second add refused
 * with nothing written, a tampered document refused on load), and the
 * affected cohort on a fleet built to hit every bucket: counts, the kept
 * list and its digest, the record.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"
#include "suit/suit.h"
#include "vuln/vuln.h"

#define DAY 86400L
static const int64_t NOW = 1900000000; /* 2030-03-17 */

/* ---- CVSS ---- */

static int cvss(const char *v)
{
	struct fw_diag d = {{0}};

	return fw_vuln_cvss_check(v, NULL, &d);
}

static void t_cvss_valid(void)
{
	int minor = -1;

	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &minor, NULL),
	         FW_OK);
	CHECK_EQ(minor, 1);
	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:C/C:N/I:L/A:N", &minor, NULL),
	         FW_OK);
	CHECK_EQ(minor, 0);
	/* any order; temporal and environmental metrics */
	CHECK_EQ(cvss("CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N"), FW_OK);
	CHECK_EQ(cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C/CR:H/IR:M/AR:L/"
	              "MAV:A/MAC:H/MPR:L/MUI:R/MS:C/MC:N/MI:L/MA:X"),
	         FW_OK);
}

static void t_cvss_invalid(void)
{
	struct fw_diag d = {{0}};
	char big[400];

	CHECK_EQ(cvss("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
	         FW_E_FORMAT);
	/* a base metric missing */
	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", NULL, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "base metric A is missing") != NULL);
	/* a value that is not the metric's */
	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", NULL, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "'Q' is not a value of AV (N, A, L, P) at byte 13") != NULL);
	CHECK_EQ(cvss("CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/AV:/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/E:X/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X"), FW_E_FORMAT);
	/* twice */
	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", NULL, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "metric AV given twice") != NULL);
	/* unknown metric, empty metric, no colon, trailing slash */
	CHECK_EQ(fw_vuln_cvss_check("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y", NULL, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "'XX' at byte 46 is not a CVSS v3 metric") != NULL);
	CHECK_EQ(cvss("CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/AV:N/AC/PR:N/UI:N/S:U/C:H/I:H/A:H"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/"), FW_E_FORMAT);
	CHECK_EQ(cvss("CVSS:3.1/"), FW_E_FORMAT);
	CHECK_EQ(cvss(""), FW_E_FORMAT);
	CHECK_EQ(cvss(NULL), FW_E_ARG);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "CVSS:3.1/", 9);
	CHECK_EQ(cvss(big), FW_E_TOO_LARGE);
}

/* ---- advisories ---- */

static struct fw_vuln_input input(void)
{
	static const char *cves[] = {"CVE-2026-12345", "CVE-2025-0001"};
	struct fw_vuln_input in = {0};

	in.id = "FWT-2026-0001";
	in.title = "Bootloader authentication bypass";
	in.severity = "critical";
	in.cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
	in.product = "controller";
	in.family = "ctl-a";
	in.affected = ">=2.0.0 <2.4.1";
	in.fixed_in = "2.4.1";
	in.cves = cves;
	in.ncves = 2;
	return in;
}

static int parse_msg(const struct fw_vuln_input *in, const char *want)
{
	struct fw_vuln_advisory a;
	struct fw_diag d = {{0}};
	int rc = fw_vuln_advisory_parse(in, &a, &d);

	if (want && strstr(d.msg, want) == NULL)
		harness_fail(__FILE__, __LINE__, "message '%s' lacks '%s'", d.msg, want);
	return rc;
}

static void t_advisory_parse(void)
{
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	const char *dup[] = {"CVE-2026-12345", "CVE-2026-12345"};
	const char *bad_cve[] = {"CVE-26-1"};
	struct fw_semver v;

	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK(strcmp(a.affected_text, ">=2.0.0 <2.4.1") == 0);
	CHECK(strcmp(a.fixed_text, "2.4.1") == 0);
	CHECK_EQ(a.severity, FW_VULN_CRITICAL);
	CHECK(strcmp(a.cves[0], "CVE-2025-0001") == 0); /* sorted */
	/* every field refused with its flag named */
	in = input(); in.id = "-x"; CHECK_EQ(parse_msg(&in, "advisory id"), FW_E_ARG);
	in = input(); in.id = "a/b"; CHECK_EQ(parse_msg(&in, "advisory id"), FW_E_ARG);
	in = input(); in.id = "A1234567890123456789012345678901234567890123456789012345678901234";
	CHECK_EQ(parse_msg(&in, "advisory id"), FW_E_ARG);
	in = input(); in.title = "two\nlines"; CHECK_EQ(parse_msg(&in, "--title"), FW_E_ARG);
	in = input(); in.title = ""; CHECK_EQ(parse_msg(&in, "--title"), FW_E_ARG);
	in = input(); in.severity = "severe"; CHECK_EQ(parse_msg(&in, "--severity"), FW_E_ARG);
	in = input(); in.cvss = "CVSS:3.1/AV:N"; CHECK_EQ(parse_msg(&in, "--cvss"), FW_E_ARG);
	in = input(); in.product = ""; CHECK_EQ(parse_msg(&in, "--product"), FW_E_ARG);
	in = input(); in.affected = ">=3.0.0 <2.0.0"; CHECK_EQ(parse_msg(&in, "--affected"), FW_E_ARG);
	in = input(); in.affected = "2.x"; CHECK_EQ(parse_msg(&in, "--affected"), FW_E_ARG);
	in = input(); in.fixed_in = "v2.4.1"; CHECK_EQ(parse_msg(&in, "--fixed-in"), FW_E_ARG);
	/* the fixing version must not be affected: 2.4.0 and the pre-release
	 * 2.4.1-rc.1 are inside >=2.0.0 <2.4.1 */
	in = input(); in.fixed_in = "2.4.0";
	CHECK_EQ(parse_msg(&in, "--fixed-in 2.4.0 is inside the affected range"), FW_E_ARG);
	in = input(); in.fixed_in = "2.4.1-rc.1";
	CHECK_EQ(parse_msg(&in, "--fixed-in 2.4.1-rc.1 is inside"), FW_E_ARG);
	in = input(); in.fixed_in = "2.4.1+build.7"; CHECK_EQ(parse_msg(&in, NULL), FW_OK);
	in = input(); in.affected = ">=2.0.0 <=2.4.1";
	CHECK_EQ(parse_msg(&in, "--fixed-in 2.4.1 is inside"), FW_E_ARG);
	in = input(); in.cves = dup; in.ncves = 2; CHECK_EQ(parse_msg(&in, "given twice"), FW_E_ARG);
	in = input(); in.cves = bad_cve; in.ncves = 1; CHECK_EQ(parse_msg(&in, "--cve"), FW_E_ARG);
	in = input(); in.family = NULL; in.cvss = NULL; in.fixed_in = NULL; in.ncves = 0;
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK(a.family[0] == '\0' && a.cvss[0] == '\0' && !a.has_fixed && a.ncves == 0);
	CHECK(fw_vuln_cve_valid("CVE-2021-44228"));
	CHECK(!fw_vuln_cve_valid("CVE-2021-123"));
	CHECK(!fw_vuln_cve_valid("cve-2021-44228"));
	CHECK(!fw_vuln_cve_valid("CVE-2021-44228x"));
	/* a release fixes the advisory only outside the range and at or above fixed_in */
	in = input();
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK_EQ(fw_semver_parse("2.4.1", &v, NULL), FW_OK);
	CHECK(fw_vuln_release_fixes(&a, &v));
	CHECK_EQ(fw_semver_parse("2.4.1-rc.2", &v, NULL), FW_OK);
	CHECK(!fw_vuln_release_fixes(&a, &v));
	CHECK_EQ(fw_semver_parse("1.9.0", &v, NULL), FW_OK);
	CHECK(!fw_vuln_release_fixes(&a, &v));
	CHECK_EQ(fw_semver_parse("3.0.0", &v, NULL), FW_OK);
	CHECK(fw_vuln_release_fixes(&a, &v));
}

/* ---- classification ---- */

static struct fw_device_row dev;
static struct fw_cert_row cert;

static void base_dev(const char *id, const char *version)
{
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.id, sizeof(dev.id), "%s", id);
	snprintf(dev.product, sizeof(dev.product), "controller");
	snprintf(dev.family, sizeof(dev.family), "ctl-a");
	snprintf(dev.hw_revision, sizeof(dev.hw_revision), "B");
	snprintf(dev.fw_version, sizeof(dev.fw_version), "%s", version);
	snprintf(dev.support_until, sizeof(dev.support_until), "2034-12-31");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "active");
	dev.has_cert = 1;
	dev.ident_ok = 1;
	memset(&cert, 0, sizeof(cert));
	cert.chain_ok = 1;
	cert.not_before = NOW - DAY;
	cert.not_after = NOW + DAY;
}

static void t_classify(void)
{
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	static const struct {
		const char *v;
		int bucket;
	} ranges[] = {
	    {"1.9.9", FW_VB_NONE},        {"2.0.0-rc.1", FW_VB_NONE}, /* below the range */
	    {"2.0.0", FW_VB_EXPOSED},     {"2.4.0", FW_VB_EXPOSED},
	    {"2.4.1-rc.1", FW_VB_EXPOSED}, /* a pre-release of the fix is still affected */
	    {"2.4.1", FW_VB_REMEDIATED},  {"2.4.1+b.3", FW_VB_REMEDIATED},
	    {"3.0.0", FW_VB_REMEDIATED},
	};
	size_t i;

	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		base_dev("d", ranges[i].v);
		if (fw_vuln_classify(&a, &dev, &cert, NOW, 0) != ranges[i].bucket)
			harness_fail(__FILE__, __LINE__, "%s: bucket %d, expected %d", ranges[i].v,
			             fw_vuln_classify(&a, &dev, &cert, NOW, 0), ranges[i].bucket);
	}
	/* exclusive lower, inclusive upper bound */
	in.affected = ">2.0.0 <=2.4.0";
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	base_dev("d", "2.0.0");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_NONE);
	base_dev("d", "2.0.1-alpha");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);
	base_dev("d", "2.4.0");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);
	base_dev("d", "2.4.0-rc.1");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);

	in = input();
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	/* another product or family is not in the cohort, whatever it runs */
	base_dev("d", "2.3.0");
	snprintf(dev.family, sizeof(dev.family), "ctl-b");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_NONE);
	base_dev("d", "2.3.0");
	snprintf(dev.product, sizeof(dev.product), "gateway");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_NONE);
	/* isolated: quarantined, or the certificate revoked; before the rest */
	base_dev("d", "2.3.0");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "quarantined");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 1), FW_VB_ISOLATED);
	base_dev("d", "2.3.0");
	cert.revoked = FW_CERT_REVOKED_CRL;
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "decommissioned");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 1), FW_VB_ISOLATED);
	/* an expired certificate is not isolation */
	base_dev("d", "2.3.0");
	cert.not_after = NOW - 1;
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);
	/* cannot be remediated: end of support, decommissioned, support over */
	base_dev("d", "2.3.0");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "end_of_support");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 1), FW_VB_CANNOT);
	base_dev("d", "2.3.0");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "decommissioned");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_CANNOT);
	base_dev("d", "2.3.0");
	snprintf(dev.support_until, sizeof(dev.support_until), "2030-03-16"); /* NOW: 03-17 */
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 1), FW_VB_CANNOT);
	snprintf(dev.support_until, sizeof(dev.support_until), "2030-03-17"); /* its last day */
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);
	/* being remediated */
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 1), FW_VB_REMEDIATING);
	/* a version that does not parse is judged affected (default-deny) */
	base_dev("d", "garbage");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_EXPOSED);
	/* without fixed_in nothing is remediated by its version */
	in.fixed_in = NULL;
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	base_dev("d", "2.5.0");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_NONE);
	CHECK_EQ(fw_vuln_bucket_parse("exposed"), FW_VB_EXPOSED);
	CHECK_EQ(fw_vuln_bucket_parse("none"), -1);
	CHECK(fw_vuln_bucket_name(FW_VB_NONE) == NULL);
}

/* ---- on a store ---- */

static struct fw_store *new_store(const char *name)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char db[64];

	snprintf(db, sizeof(db), "%s.db", name);
	CHECK_EQ(fw_store_open(harness_tmp_path(db), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/vuln", harness_tmp_path(name), &d), FW_OK);
	return s;
}

static uint64_t log_size(struct fw_store *s)
{
	uint64_t n = 0;
	uint8_t root[32];

	CHECK_EQ(fw_evidence_size(s, &n, root, NULL), FW_OK);
	return n;
}

static void t_add_store(void)
{
	struct fw_store *s = new_store("add");
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a, b;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *all = NULL, *rec;
	uint8_t *bytes = NULL, lh[32];
	size_t len = 0;
	uint64_t idx = 0, n, ridx = 0;

	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", &doc, &idx, &d), FW_OK);
	CHECK(doc != NULL && strcmp(json_string_value(json_object_get(doc, "source")), "cli") == 0);
	json_decref(doc);
	/* the record carries the advisory */
	CHECK_EQ(fw_evidence_get(s, idx, &bytes, &len, lh, &d), FW_OK);
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	CHECK(rec != NULL);
	CHECK(strcmp(json_string_value(json_object_get(rec, "type")), "vuln.add") == 0);
	CHECK(strcmp(json_string_value(json_object_get(rec, "affected")), ">=2.0.0 <2.4.1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(rec, "fixed_in")), "2.4.1") == 0);
	CHECK_EQ(json_array_size(json_object_get(rec, "cves")), 2);
	json_decref(rec);
	free(bytes);
	/* twice: refused, nothing written */
	n = log_size(s);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, NULL, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "exists already") != NULL);
	CHECK_EQ(log_size(s), n);
	/* read back, validated again */
	CHECK_EQ(fw_vuln_load(s, "FWT-2026-0001", &b, &ridx, lh, &d), FW_OK);
	CHECK_EQ(ridx, idx);
	CHECK(strcmp(a.id, b.id) == 0 && strcmp(a.title, b.title) == 0 &&
	      strcmp(a.cvss, b.cvss) == 0 && strcmp(a.product, b.product) == 0 &&
	      strcmp(a.family, b.family) == 0 && strcmp(a.affected_text, b.affected_text) == 0 &&
	      strcmp(a.fixed_text, b.fixed_text) == 0 && a.severity == b.severity &&
	      a.ncves == b.ncves && strcmp(a.cves[1], b.cves[1]) == 0);
	CHECK_EQ(fw_vuln_load(s, "nope", &b, &ridx, lh, &d), FW_E_NOT_FOUND);
	CHECK(strstr(d.msg, "no advisory 'nope'") != NULL);
	CHECK_EQ(fw_vuln_get(s, "../x", &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_vuln_list(s, &all, &d), FW_OK);
	CHECK_EQ(json_array_size(all), 1);
	json_decref(all);
	/* a document edited in the store to a fixing version inside the range:
	 * refused on load, and no cohort is computed from it */
	CHECK_EQ(fw_vuln_get(s, "FWT-2026-0001", &doc, &d), FW_OK);
	json_object_set_new(doc, "fixed_in", json_string("2.4.0"));
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_registry_doc_put(s, "advisory", "FWT-2026-0001", doc, 1, &d), FW_OK);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	json_decref(doc);
	CHECK_EQ(fw_vuln_load(s, "FWT-2026-0001", &b, &ridx, lh, &d), FW_E_STORE);
	CHECK(strstr(d.msg, "stored document is malformed") != NULL);
	{
		struct fw_vuln_cohort c;

		n = log_size(s);
		CHECK_EQ(fw_vuln_affected(s, "FWT-2026-0001", NOW, "test", &c, &d), FW_E_STORE);
		CHECK_EQ(log_size(s), n);
	}
	fw_store_close(s);
}

/* a fleet that hits every bucket, a campaign that fixes it (members in
 * every update state), one that does not (its release is affected), and a
 * finished one */
static void put_dev(struct fw_store *s, const char *id, const char *product, const char *family,
                    const char *version, const char *lifecycle, const char *until, int revoked)
{
	struct fw_diag d = {{0}};
	struct fw_cert_row c;

	base_dev(id, version);
	snprintf(dev.product, sizeof(dev.product), "%s", product);
	snprintf(dev.family, sizeof(dev.family), "%s", family);
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "%s", lifecycle);
	snprintf(dev.support_until, sizeof(dev.support_until), "%s", until);
	memset(&c, 0, sizeof(c));
	fw_sha256((const uint8_t *)id, strlen(id), c.sha256);
	memcpy(dev.cert, c.sha256, 32);
	snprintf(c.serial, sizeof(c.serial), "1");
	c.chain_ok = 1;
	c.not_before = NOW - DAY;
	c.not_after = NOW + 1000 * DAY;
	c.revoked = revoked;
	c.der = (const uint8_t *)"x";
	c.der_len = 1;
	CHECK_EQ(fw_store_cert_put(s, &c, &d), FW_OK);
	CHECK_EQ(fw_store_device_put(s, &dev, 0, &d), FW_OK);
}

static void put_member(struct fw_store *s, const char *campaign, const char *device, int state,
                       int64_t due)
{
	struct fw_rollout_row r;
	struct fw_diag d = {{0}};

	memset(&r, 0, sizeof(r));
	snprintf(r.campaign, sizeof(r.campaign), "%s", campaign);
	snprintf(r.device, sizeof(r.device), "%s", device);
	r.state = state;
	r.due_ms = due;
	CHECK_EQ(fw_store_rollout_put(s, &r, 0, &d), FW_OK);
}

static void put_campaign_of(struct fw_store *s, const char *id, const char *state,
                            const char *release, const char *version, const char *product)
{
	struct fw_diag d = {{0}};
	json_t *c = json_pack("{ssssss}", "id", id, "state", state, "release_id", release);
	json_t *r = json_pack("{ssssssssss s{sIss}}", "release_id", release, "version", version,
	                      "signer_key_id", "k1", "product", product, "family", "ctl-a",
	                      "added", "idx", (json_int_t)1, "lh", release);

	CHECK_EQ(fw_registry_doc_put(s, "campaign", id, c, 0, &d), FW_OK);
	CHECK_EQ(fw_registry_doc_put(s, "release", release, r, 1, &d), FW_OK);
	json_decref(c);
	json_decref(r);
}

static void put_campaign(struct fw_store *s, const char *id, const char *state,
                         const char *release, const char *version)
{
	put_campaign_of(s, id, state, release, version, "controller");
}

static void t_cohort(void)
{
	struct fw_store *s = new_store("cohort");
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	struct fw_vuln_cohort c;
	struct fw_diag d = {{0}};
	char r1[65], r2[65], r3[65], r4[65], path[4200], hex[65];
	uint8_t *list, sha[32], *bytes = NULL, lh[32];
	size_t len = 0;
	uint64_t n, add_idx = 99;
	json_t *rec, *key;

	memset(r1, 'a', 64); r1[64] = '\0';
	memset(r2, 'b', 64); r2[64] = '\0';
	memset(r3, 'c', 64); r3[64] = '\0';
	memset(r4, 'd', 64); r4[64] = '\0';
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, &add_idx, &d), FW_OK);
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	key = json_pack("{ss}", "state", "active");
	CHECK_EQ(fw_registry_doc_put(s, "key", "k1", key, 0, &d), FW_OK);
	json_decref(key);
	put_dev(s, "d01-exposed", "controller", "ctl-a", "2.0.0", "active", "2034-12-31", 0);
	put_dev(s, "d02-exposed-rc", "controller", "ctl-a", "2.4.1-rc.1", "provisioned", "2034-12-31",
	        0);
	put_dev(s, "d03-quarantined", "controller", "ctl-a", "2.3.0", "quarantined", "2034-12-31",
	        0);
	put_dev(s, "d04-revoked", "controller", "ctl-a", "2.3.0", "active", "2034-12-31",
	        FW_CERT_REVOKED_LOCAL);
	put_dev(s, "d05-eos", "controller", "ctl-a", "2.2.0", "end_of_support", "2034-12-31", 0);
	put_dev(s, "d06-decom", "controller", "ctl-a", "2.2.0", "decommissioned", "2034-12-31", 0);
	put_dev(s, "d07-support-over", "controller", "ctl-a", "2.2.0", "active", "2029-12-31", 0);
	put_dev(s, "d08-pending", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d09-delivered", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d10-failed-retry", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d11-failed-final", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d12-ineligible", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d13-other-campaign", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d14-fixed", "controller", "ctl-a", "2.4.1", "active", "2034-12-31", 0);
	put_dev(s, "d15-newer", "controller", "ctl-a", "3.0.0", "end_of_support", "2020-01-01", 0);
	put_dev(s, "d16-below", "controller", "ctl-a", "1.9.0", "active", "2034-12-31", 0);
	put_dev(s, "d17-family", "controller", "ctl-b", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d18-product", "gateway", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "d19-paused-quarantined", "controller", "ctl-a", "2.1.0", "quarantined",
	        "2034-12-31", 0);
	put_dev(s, "d20-completed", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	/* c-0001 runs 2.4.1 (fixes it); c-0002 paused with 2.4.1-rc.2 (affected
	 * itself); c-0003 completed with 2.4.1 */
	put_campaign(s, "c-0001", "running", r1, "2.4.1");
	put_campaign(s, "c-0002", "paused", r2, "2.4.1-rc.2");
	put_campaign(s, "c-0003", "completed", r3, "2.4.1");
	/* c-0004 runs a gateway's 2.4.1: a version outside the range, but of
	 * another product, remediates nothing */
	put_campaign_of(s, "c-0004", "running", r4, "2.4.1", "gateway");
	put_member(s, "c-0004", "d18-product", FW_U_PENDING, 0);
	put_member(s, "c-0001", "d08-pending", FW_U_PENDING, 0);
	put_member(s, "c-0001", "d09-delivered", FW_U_DELIVERED, NOW * 1000);
	put_member(s, "c-0001", "d10-failed-retry", FW_U_FAILED, NOW * 1000);
	put_member(s, "c-0001", "d11-failed-final", FW_U_FAILED, INT64_MAX);
	put_member(s, "c-0001", "d12-ineligible", FW_U_INELIGIBLE, 0);
	put_member(s, "c-0001", "d19-paused-quarantined", FW_U_PAUSED, 0);
	put_member(s, "c-0001", "d05-eos", FW_U_ELIGIBLE, 0);
	put_member(s, "c-0002", "d13-other-campaign", FW_U_ELIGIBLE, 0);
	put_member(s, "c-0003", "d20-completed", FW_U_ELIGIBLE, 0);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);

	n = log_size(s);
	CHECK_EQ(fw_vuln_affected(s, "FWT-2026-0001", NOW, "test", &c, &d), FW_OK);
	CHECK_EQ(log_size(s), n + 1);
	CHECK_EQ(c.idx, n);
	CHECK_EQ(c.devices, 20);
	CHECK_EQ(c.cohort, 17);
	CHECK_EQ(c.counts[FW_VB_ISOLATED], 3);
	CHECK_EQ(c.counts[FW_VB_CANNOT], 3);
	CHECK_EQ(c.counts[FW_VB_REMEDIATING], 3);
	CHECK_EQ(c.counts[FW_VB_EXPOSED], 6);
	CHECK_EQ(c.counts[FW_VB_REMEDIATED], 2);
	CHECK_EQ(c.ncampaigns, 1);
	/* why exposed: eligibility against the fixing releases (c-0001's and
	 * c-0003's 2.4.1; not c-0002's pre-release, not the gateway's) */
	CHECK_EQ(c.nfixing, 2);
	CHECK_EQ(c.exposed_eligible, 5);
	CHECK_EQ(c.exposed_no_release, 0);
	CHECK_EQ(c.exposed_by_reason[FW_R_LC_PROVISIONED], 1);
	/* the kept list, exactly, by device id */
	fw_store_blob_path(s, c.list_sha256, path, sizeof(path));
	list = harness_read(path, &len);
	CHECK(list != NULL);
	if (list) {
		static const char expect[] =
		    "d01-exposed exposed 2.0.0 eligible\n"
		    "d02-exposed-rc exposed 2.4.1-rc.1 lifecycle.provisioned\n"
		    "d03-quarantined isolated 2.3.0\n"
		    "d04-revoked isolated 2.3.0\n"
		    "d05-eos cannot_be_remediated 2.2.0\n"
		    "d06-decom cannot_be_remediated 2.2.0\n"
		    "d07-support-over cannot_be_remediated 2.2.0\n"
		    "d08-pending being_remediated 2.1.0\n"
		    "d09-delivered being_remediated 2.1.0\n"
		    "d10-failed-retry being_remediated 2.1.0\n"
		    "d11-failed-final exposed 2.1.0 eligible\n"
		    "d12-ineligible exposed 2.1.0 eligible\n"
		    "d13-other-campaign exposed 2.1.0 eligible\n"
		    "d14-fixed remediated 2.4.1\n"
		    "d15-newer remediated 3.0.0\n"
		    "d19-paused-quarantined isolated 2.1.0\n"
		    "d20-completed exposed 2.1.0 eligible\n";

		CHECK_EQ(len, strlen(expect));
		CHECK(len == strlen(expect) && memcmp(list, expect, len) == 0);
		fw_sha256(list, len, sha);
		CHECK(memcmp(sha, c.list_sha256, 32) == 0);
		CHECK_EQ(c.list_size, len);
		free(list);
	}
	/* the record */
	CHECK_EQ(fw_evidence_get(s, c.idx, &bytes, &len, lh, &d), FW_OK);
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	CHECK(rec != NULL);
	fw_hex_encode(c.list_sha256, 32, hex);
	CHECK(strcmp(json_string_value(json_object_get(rec, "type")), "vuln.affected") == 0);
	CHECK(strcmp(json_string_value(json_object_get(rec, "list_sha256")), hex) == 0);
	CHECK_EQ(json_integer_value(json_object_get(rec, "cohort")), 17);
	CHECK_EQ(json_integer_value(
	             json_object_get(json_object_get(rec, "counts"), "being_remediated")),
	         3);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(rec, "campaigns"), 0)),
	             "c-0001") == 0);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(rec, "refs"), 0),
	                                            "idx")),
	         add_idx);
	{
		json_t *why = json_object_get(rec, "exposed_why");
		json_t *r0 = json_array_get(json_object_get(why, "ineligible"), 0);

		CHECK_EQ(json_integer_value(json_object_get(why, "eligible")), 5);
		CHECK_EQ(json_integer_value(json_object_get(why, "no_fixing_release")), 0);
		CHECK_EQ(json_integer_value(json_object_get(why, "fixing_releases")), 2);
		CHECK_EQ(json_array_size(json_object_get(why, "ineligible")), 1);
		CHECK(strcmp(json_string_value(json_object_get(r0, "code")), "lifecycle.provisioned") ==
		      0);
		CHECK_EQ(json_integer_value(json_object_get(r0, "devices")), 1);
	}
	json_decref(rec);
	free(bytes);
	/* the key behind c-0001's release revoked: nothing is being remediated */
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	key = json_pack("{ss}", "state", "revoked");
	CHECK_EQ(fw_registry_doc_put(s, "key", "k1", key, 1, &d), FW_OK);
	json_decref(key);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	CHECK_EQ(fw_vuln_affected(s, "FWT-2026-0001", NOW, "test", &c, &d), FW_OK);
	CHECK_EQ(c.counts[FW_VB_REMEDIATING], 0);
	CHECK_EQ(c.counts[FW_VB_EXPOSED], 9);
	CHECK_EQ(c.ncampaigns, 0);
	/* and no release fixes it any more: none of them can be reached */
	CHECK_EQ(c.nfixing, 0);
	CHECK_EQ(c.exposed_no_release, 9);
	CHECK_EQ(c.exposed_eligible, 0);
	/* unknown advisory: nothing recorded */
	n = log_size(s);
	CHECK_EQ(fw_vuln_affected(s, "FWT-0000", NOW, "test", &c, &d), FW_E_NOT_FOUND);
	CHECK_EQ(log_size(s), n);
	fw_store_close(s);
}

static void t_cohort_empty(void)
{
	struct fw_store *s = new_store("empty");
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	struct fw_vuln_cohort c;
	struct fw_diag d = {{0}};
	uint8_t sha[32];

	in.family = NULL;
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, NULL, &d), FW_OK);
	CHECK_EQ(fw_vuln_affected(s, "FWT-2026-0001", NOW, "test", &c, &d), FW_OK);
	CHECK_EQ(c.devices, 0);
	CHECK_EQ(c.cohort, 0);
	fw_sha256((const uint8_t *)"", 0, sha);
	CHECK(memcmp(sha, c.list_sha256, 32) == 0);
	fw_store_close(s);
}

/* ---- release SBOMs and the advisories a release fixes ---- */

static int sbom_msg(const char *json, int want_rc, const char *want)
{
	struct fw_sbom_info info;
	struct fw_diag d = {{0}};
	int rc = fw_sbom_parse((const uint8_t *)json, strlen(json), &info, &d);

	if (rc != want_rc || (want && strstr(d.msg, want) == NULL))
		harness_fail(__FILE__, __LINE__, "%s: rc %d '%s', expected %d '%s'", json, rc, d.msg,
		             want_rc, want ? want : "");
	return rc;
}

static void t_sbom_parse(void)
{
	struct fw_sbom_info info;
	struct fw_diag d = {{0}};
	uint8_t *b;
	size_t len = 0;

	b = harness_read(harness_src_path("tests/data/sbom/controller-2.4.1.cdx.json"), &len);
	CHECK(b != NULL);
	CHECK_EQ(fw_sbom_parse(b, len, &info, &d), FW_OK);
	CHECK(strcmp(info.format, "CycloneDX") == 0 && strcmp(info.spec_version, "1.5") == 0);
	CHECK_EQ(info.components, 4);
	CHECK(strcmp(info.version, "2.4.1") == 0);
	CHECK(strcmp(info.version_field, "metadata.component.version") == 0);
	free(b);
	b = harness_read(harness_src_path("tests/data/sbom/controller-2.4.1.spdx.json"), &len);
	CHECK(b != NULL);
	CHECK_EQ(fw_sbom_parse(b, len, &info, &d), FW_OK);
	CHECK(strcmp(info.format, "SPDX") == 0 && strcmp(info.spec_version, "2.3") == 0);
	CHECK_EQ(info.components, 4);
	CHECK(strcmp(info.version, "2.4.1") == 0);
	CHECK(strcmp(info.version_field, "packages[0].versionInfo") == 0);
	free(b);
	/* minimal documents: no components, no described version */
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\"}", FW_OK, NULL);
	sbom_msg("{\"spdxVersion\":\"SPDX-2.2\",\"SPDXID\":\"SPDXRef-DOCUMENT\","
	         "\"documentDescribes\":[\"SPDXRef-a\",\"SPDXRef-b\"],\"packages\":["
	         "{\"SPDXID\":\"SPDXRef-a\",\"versionInfo\":\"9\"}]}",
	         FW_OK, NULL);
	CHECK_EQ(fw_sbom_parse((const uint8_t *)"{\"spdxVersion\":\"SPDX-2.2\",\"SPDXID\":"
	                       "\"SPDXRef-DOCUMENT\",\"documentDescribes\":[\"SPDXRef-a\",\"SPDXRef-b\"]}",
	                       strlen("{\"spdxVersion\":\"SPDX-2.2\",\"SPDXID\":\"SPDXRef-DOCUMENT\","
	                              "\"documentDescribes\":[\"SPDXRef-a\",\"SPDXRef-b\"]}"),
	                       &info, &d),
	         FW_OK);
	CHECK(info.version[0] == '\0'); /* two described: no one version */
	/* refused, each with the line/column or the field */
	sbom_msg("{\"bomFormat\": \"CycloneDX\",\n \"specVersion\": }", FW_E_FORMAT,
	         "not JSON: line 2, column");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"specVersion\":\"1.4\"}",
	         FW_E_FORMAT, "duplicate");
	sbom_msg("{\"name\": \"controller\", \"version\": \"2.4.1\"}", FW_E_FORMAT,
	         "neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document");
	sbom_msg("[1, 2]", FW_E_FORMAT, "not a JSON object");
	sbom_msg("{\"bomFormat\":\"cyclonedx\",\"specVersion\":\"1.5\"}", FW_E_FORMAT,
	         "bomFormat: 'cyclonedx' is not");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":1.5}", FW_E_FORMAT,
	         "specVersion: not a string");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"2.0\"}", FW_E_FORMAT,
	         "specVersion: '2.0'");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.1\"}", FW_E_FORMAT, "1.1");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.05\"}", FW_E_FORMAT, "1.05");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":{}}",
	         FW_E_FORMAT, "components: not an array");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{},7]}",
	         FW_E_FORMAT, "components[1]: not an object");
	sbom_msg("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"metadata\":{\"component\":"
	         "{\"version\":2}}}",
	         FW_E_FORMAT, "metadata.component.version: not a string");
	sbom_msg("{\"spdxVersion\":\"SPDX-3.0\",\"SPDXID\":\"SPDXRef-DOCUMENT\"}", FW_E_FORMAT,
	         "spdxVersion: 'SPDX-3.0' is not SPDX-2.2 or SPDX-2.3");
	sbom_msg("{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-x\"}", FW_E_FORMAT, "SPDXID");
	sbom_msg("{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"packages\":[1]}",
	         FW_E_FORMAT, "packages[0]: not an object");
	sbom_msg("{\"spdxVersion\":\"SPDX-2.3\",\"bomFormat\":\"CycloneDX\"}", FW_E_FORMAT,
	         "both bomFormat");
	CHECK_EQ(fw_sbom_parse((const uint8_t *)"{}", (size_t)FW_RELEASE_MAX_SBOM + 1, &info, &d),
	         FW_E_TOO_LARGE);
}

static struct fw_key *relkey;

/* a signed release of controller at version, sequence seq: r-<seq>.suit/.bin */
static void make_release(const char *version, uint64_t seq)
{
	struct fw_suit_manifest m;
	struct fw_diag d = {{0}};
	uint8_t *env = NULL, img[512];
	size_t len = 0;
	char name[64];

	memset(img, (int)seq, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = seq;
	m.version = version;
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	CHECK_EQ(fw_suit_sign(&m, relkey, &env, &len, &d), FW_OK);
	snprintf(name, sizeof(name), "r-%llu.suit", (unsigned long long)seq);
	CHECK_EQ(harness_write(harness_tmp_path(name), env, len), 0);
	snprintf(name, sizeof(name), "r-%llu.bin", (unsigned long long)seq);
	CHECK_EQ(harness_write(harness_tmp_path(name), img, sizeof(img)), 0);
	free(env);
}

static int add_rel(struct fw_store *s, uint64_t seq, const char *family, const char *sbom,
                   const char *const *fixes, size_t nfixes, json_t **doc, uint64_t *idx,
                   struct fw_diag *d)
{
	struct fw_release_target t = {"controller", family, NULL, NULL, 0, NULL, sbom, fixes, nfixes};
	char e[64], i[64];

	snprintf(e, sizeof(e), "r-%llu.suit", (unsigned long long)seq);
	snprintf(i, sizeof(i), "r-%llu.bin", (unsigned long long)seq);
	return fw_registry_release_add(s, harness_tmp_path(e), harness_tmp_path(i), &t, "rm", doc,
	                               idx, d);
}

static struct fw_store *release_store(const char *name)
{
	struct fw_store *s = new_store(name);
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;

	if (relkey == NULL) {
		CHECK_EQ(fw_key_generate(FW_KEY_ALG_ED25519, &relkey, &d), FW_OK);
		CHECK_EQ(fw_key_save(relkey, harness_tmp_path("rel"), &d), FW_OK);
	}
	CHECK_EQ(fw_registry_key_trust(s, harness_tmp_path("rel.pub"), "rel",
	                               FW_ROLE_RELEASE_SIGNING, "sec",
	                               &doc, &idx, &d),
	         FW_OK);
	json_decref(doc);
	return s;
}

static void add_advisory(struct fw_store *s, const char *id, const char *product,
                         const char *family, uint64_t *idx)
{
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	struct fw_diag d = {{0}};

	in.id = id;
	in.product = product;
	in.family = family;
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, idx, &d), FW_OK);
}

static int blob_there(struct fw_store *s, const char *file)
{
	char path[4200];
	uint8_t *b, sha[32];
	size_t len = 0;
	FILE *f;

	b = harness_read(file, &len);
	if (b == NULL)
		return -1;
	fw_sha256(b, len, sha);
	free(b);
	fw_store_blob_path(s, sha, path, sizeof(path));
	f = fopen(path, "rb");
	if (f)
		fclose(f);
	return f != NULL;
}

/* a refusal: rc and message, and nothing written (log, release, blobs) */
static void refused(struct fw_store *s, uint64_t seq, const char *sbom,
                    const char *const *fixes, size_t nfixes, int want_rc, const char *want)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *rels = NULL;
	uint64_t n = log_size(s), idx = 0;
	size_t nrel;
	char env[64];
	int rc;

	CHECK_EQ(fw_registry_release_list(s, &rels, &d), FW_OK);
	nrel = json_array_size(rels);
	json_decref(rels);
	rc = add_rel(s, seq, "ctl-a", sbom, fixes, nfixes, &doc, &idx, &d);
	if (rc != want_rc || strstr(d.msg, want) == NULL)
		harness_fail(__FILE__, __LINE__, "rc %d '%s', expected %d '%s'", rc, d.msg, want_rc,
		             want);
	CHECK(doc == NULL);
	CHECK_EQ(log_size(s), n);
	CHECK_EQ(fw_registry_release_list(s, &rels, &d), FW_OK);
	CHECK_EQ(json_array_size(rels), nrel);
	json_decref(rels);
	snprintf(env, sizeof(env), "r-%llu.suit", (unsigned long long)seq);
	CHECK_EQ(blob_there(s, harness_tmp_path(env)), 0);
	if (sbom && blob_there(s, sbom) >= 0)
		CHECK_EQ(blob_there(s, sbom), 0);
}

static void t_release_sbom_fixes(void)
{
	struct fw_store *s = release_store("sbom");
	const char *cdx = harness_src_path("tests/data/sbom/controller-2.4.1.cdx.json");
	const char *spdx = harness_src_path("tests/data/sbom/controller-2.4.1.spdx.json");
	const char *two[] = {"FWT-2", "FWT-1"}, *unknown[] = {"FWT-1", "FWT-9"};
	const char *gw[] = {"FWT-GW"}, *fam[] = {"FWT-B"}, *dup[] = {"FWT-1", "FWT-1"};
	const char *badid[] = {"FWT 1"};
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *rec, *sb, *refs;
	uint8_t *bytes = NULL, lh[32], sha[32], *b;
	uint64_t idx = 0, a1 = 0, a2 = 0;
	size_t len = 0, blen = 0;
	char hex[65], big[32];
	FILE *f;

	add_advisory(s, "FWT-1", "controller", "ctl-a", &a1);
	add_advisory(s, "FWT-2", "controller", NULL, &a2);
	add_advisory(s, "FWT-GW", "gateway", NULL, NULL);
	add_advisory(s, "FWT-B", "controller", "ctl-b", NULL);
	make_release("2.4.1", 10);
	make_release("2.4.1", 11);
	make_release("2.4.1", 12);
	make_release("2.4.0", 13);

	/* refusals first: nothing of them may remain */
	CHECK_EQ(harness_write(harness_tmp_path("broken.json"),
	                       "{\"bomFormat\": \"CycloneDX\",\n  oops", 31),
	         0);
	refused(s, 10, harness_tmp_path("broken.json"), NULL, 0, FW_E_FORMAT, "line 2, column");
	CHECK_EQ(harness_write(harness_tmp_path("pkg.json"),
	                       "{\"name\": \"fw\", \"version\": \"2.4.1\"}", 34),
	         0);
	refused(s, 10, harness_tmp_path("pkg.json"), NULL, 0, FW_E_FORMAT,
	        "pkg.json: neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document");
	/* 32 MiB and one byte (sparse): refused before it is read */
	f = fopen(harness_tmp_path("big.json"), "wb");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(ftruncate(fileno(f), (off_t)FW_RELEASE_MAX_SBOM + 1), 0);
		fclose(f);
	}
	snprintf(big, sizeof(big), "%u", FW_RELEASE_MAX_SBOM);
	refused(s, 10, harness_tmp_path("big.json"), NULL, 0, FW_E_TOO_LARGE, big);
	refused(s, 10, harness_tmp_path("big.json"), NULL, 0, FW_E_TOO_LARGE, "--sbom ");
	/* an SBOM of 2.4.1 for a release of 2.4.0 */
	refused(s, 13, cdx, NULL, 0, FW_E_VERIFY,
	        "metadata.component.version 2.4.1 is not the release's version 2.4.0");
	refused(s, 13, spdx, NULL, 0, FW_E_VERIFY,
	        "packages[0].versionInfo 2.4.1 is not the release's version 2.4.0");
	/* advisories that do not exist, of another product or family; bad lists */
	refused(s, 10, spdx, unknown, 2, FW_E_NOT_FOUND,
	        "--fixes FWT-9: no such advisory (vuln add or vuln import it first)");
	refused(s, 10, cdx, gw, 1, FW_E_VERIFY, "--fixes FWT-GW: the advisory is for product 'gateway'");
	refused(s, 10, NULL, fam, 1, FW_E_VERIFY, "--fixes FWT-B: the advisory is for family 'ctl-b'");
	refused(s, 10, NULL, dup, 2, FW_E_ARG, "--fixes FWT-1 given twice");
	refused(s, 10, NULL, badid, 1, FW_E_ARG, "--fixes: the 1. one is not an advisory id");

	/* CycloneDX with two advisories: kept, digest recorded, fixes sorted */
	CHECK_EQ(add_rel(s, 10, "ctl-a", cdx, two, 2, &doc, &idx, &d), FW_OK);
	CHECK(doc != NULL);
	b = harness_read(cdx, &blen);
	CHECK(b != NULL);
	fw_sha256(b, blen, sha);
	free(b);
	fw_hex_encode(sha, 32, hex);
	sb = json_object_get(doc, "sbom");
	CHECK(json_is_object(sb) && json_object_size(sb) == 5);
	CHECK(strcmp(json_string_value(json_object_get(sb, "format")), "CycloneDX") == 0);
	CHECK(strcmp(json_string_value(json_object_get(sb, "spec_version")), "1.5") == 0);
	CHECK(strcmp(json_string_value(json_object_get(sb, "sha256")), hex) == 0);
	CHECK_EQ(json_integer_value(json_object_get(sb, "size")), blen);
	CHECK_EQ(json_integer_value(json_object_get(sb, "components")), 4);
	CHECK_EQ(blob_there(s, cdx), 1);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(doc, "fixes"), 0)), "FWT-1") ==
	      0);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(doc, "fixes"), 1)), "FWT-2") ==
	      0);
	/* the record: the same sbom and fixes; refs the key and both advisories */
	CHECK_EQ(fw_evidence_get(s, idx, &bytes, &len, lh, &d), FW_OK);
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	CHECK(rec != NULL);
	CHECK(json_equal(json_object_get(rec, "sbom"), sb));
	CHECK(json_equal(json_object_get(rec, "fixes"), json_object_get(doc, "fixes")));
	refs = json_object_get(rec, "refs");
	CHECK_EQ(json_array_size(refs), 3);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(refs, 1), "idx")), a1);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(refs, 2), "idx")), a2);
	json_decref(rec);
	free(bytes);
	json_decref(doc);
	doc = NULL;
	/* SPDX */
	CHECK_EQ(add_rel(s, 11, "ctl-a", spdx, NULL, 0, &doc, &idx, &d), FW_OK);
	sb = json_object_get(doc, "sbom");
	CHECK(strcmp(json_string_value(json_object_get(sb, "format")), "SPDX") == 0);
	CHECK(strcmp(json_string_value(json_object_get(sb, "spec_version")), "2.3") == 0);
	CHECK_EQ(json_integer_value(json_object_get(sb, "components")), 4);
	CHECK_EQ(blob_there(s, spdx), 1);
	CHECK(json_object_get(doc, "fixes") == NULL);
	json_decref(doc);
	doc = NULL;
	/* neither: no keys at all */
	CHECK_EQ(add_rel(s, 12, "ctl-a", NULL, NULL, 0, &doc, &idx, &d), FW_OK);
	CHECK(json_object_get(doc, "sbom") == NULL && json_object_get(doc, "fixes") == NULL);
	json_decref(doc);
	CHECK_EQ(fw_evidence_get(s, idx, &bytes, &len, lh, &d), FW_OK);
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	CHECK(rec && json_object_get(rec, "sbom") == NULL && json_object_get(rec, "fixes") == NULL);
	json_decref(rec);
	free(bytes);
	fw_store_close(s);
}

/* a device on a release that names the advisory fixed, inside the range;
 * campaigns that remediate through the release's fixes and the policy's
 * remediates */
static void t_cohort_release_fixes(void)
{
	struct fw_store *s = release_store("fixes");
	const char *fx[] = {"FWT-2026-0001"};
	struct fw_vuln_input in = input();
	struct fw_vuln_advisory a;
	struct fw_vuln_cohort c;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *camp;
	char r235[65], r220[65], path[4200];
	uint8_t *list;
	size_t len = 0;
	uint64_t idx;

	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, NULL), FW_OK);
	/* pure: running a fix wins over every other bucket */
	base_dev("d", "2.3.5");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "quarantined");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, FW_VULN_RUNS_FIX), FW_VB_REMEDIATED);
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, 0), FW_VB_ISOLATED);
	snprintf(dev.family, sizeof(dev.family), "ctl-b");
	CHECK_EQ(fw_vuln_classify(&a, &dev, &cert, NOW, FW_VULN_RUNS_FIX), FW_VB_NONE);

	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, NULL, &d), FW_OK);
	/* 2.3.5 is inside >=2.0.0 <2.4.1: a backport that names the advisory */
	make_release("2.3.5", 20);
	CHECK_EQ(add_rel(s, 20, "ctl-a", NULL, fx, 1, &doc, &idx, &d), FW_OK);
	snprintf(r235, sizeof(r235), "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
	/* 2.3.6 of ctl-b names nothing; 2.2.0 names nothing */
	make_release("2.2.0", 21);
	CHECK_EQ(add_rel(s, 21, "ctl-a", NULL, NULL, 0, &doc, &idx, &d), FW_OK);
	snprintf(r220, sizeof(r220), "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);

	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	put_dev(s, "f1-backport", "controller", "ctl-a", "2.3.5", "active", "2034-12-31", 0);
	put_dev(s, "f2-backport-build", "controller", "ctl-a", "2.3.5+b.9", "quarantined",
	        "2034-12-31", 0);
	put_dev(s, "f3-older", "controller", "ctl-a", "2.3.4", "active", "2034-12-31", 0);
	put_dev(s, "f4-member", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "f5-policy-member", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "f6-bad-policy", "controller", "ctl-a", "2.1.0", "active", "2034-12-31", 0);
	put_dev(s, "f7-pre", "controller", "ctl-a", "2.3.5-rc.1", "active", "2034-12-31", 0);
	/* c-0001 runs the backport; c-0002 runs 2.2.0 with a policy that
	 * remediates the advisory; c-0003 the same with a malformed remediates */
	camp = json_pack("{ss ss ss s{}}", "id", "c-0001", "state", "running", "release_id", r235,
	                 "policy");
	CHECK_EQ(fw_registry_doc_put(s, "campaign", "c-0001", camp, 0, &d), FW_OK);
	json_decref(camp);
	camp = json_pack("{ss ss ss s{s[s]}}", "id", "c-0002", "state", "paused", "release_id", r220,
	                 "policy", "remediates", "FWT-2026-0001");
	CHECK_EQ(fw_registry_doc_put(s, "campaign", "c-0002", camp, 0, &d), FW_OK);
	json_decref(camp);
	camp = json_pack("{ss ss ss s{ss}}", "id", "c-0003", "state", "running", "release_id", r220,
	                 "policy", "remediates", "FWT-2026-0001");
	CHECK_EQ(fw_registry_doc_put(s, "campaign", "c-0003", camp, 0, &d), FW_OK);
	json_decref(camp);
	put_member(s, "c-0001", "f4-member", FW_U_DELIVERED, NOW * 1000);
	put_member(s, "c-0002", "f5-policy-member", FW_U_PENDING, 0);
	put_member(s, "c-0003", "f6-bad-policy", FW_U_PENDING, 0);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);

	CHECK_EQ(fw_vuln_affected(s, "FWT-2026-0001", NOW, "test", &c, &d), FW_OK);
	CHECK_EQ(c.cohort, 7);
	CHECK_EQ(c.counts[FW_VB_REMEDIATED], 2);
	CHECK_EQ(c.counts[FW_VB_REMEDIATING], 2);
	CHECK_EQ(c.counts[FW_VB_EXPOSED], 3);
	CHECK_EQ(c.counts[FW_VB_ISOLATED], 0);
	CHECK_EQ(c.ncampaigns, 2);
	fw_store_blob_path(s, c.list_sha256, path, sizeof(path));
	list = harness_read(path, &len);
	CHECK(list != NULL);
	if (list) {
		static const char expect[] = "f1-backport remediated 2.3.5\n"
		                             "f2-backport-build remediated 2.3.5+b.9\n"
		                             "f3-older exposed 2.3.4 eligible\n"
		                             "f4-member being_remediated 2.1.0\n"
		                             "f5-policy-member being_remediated 2.1.0\n"
		                             "f6-bad-policy exposed 2.1.0 eligible\n"
		                             "f7-pre exposed 2.3.5-rc.1 eligible\n";

		CHECK(len == strlen(expect) && memcmp(list, expect, len) == 0);
		free(list);
	}
	{
		uint8_t *bytes = NULL, lh[32];
		json_t *rec, *camps;

		CHECK_EQ(fw_evidence_get(s, c.idx, &bytes, &len, lh, &d), FW_OK);
		rec = json_loadb((const char *)bytes, len, 0, NULL);
		camps = json_object_get(rec, "campaigns");
		CHECK_EQ(json_array_size(camps), 2);
		CHECK(strcmp(json_string_value(json_array_get(camps, 0)), "c-0001") == 0);
		CHECK(strcmp(json_string_value(json_array_get(camps, 1)), "c-0002") == 0);
		json_decref(rec);
		free(bytes);
	}
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"cvss: valid vectors, any order, every optional metric", t_cvss_valid},
    {"cvss: prefix, missing, repeated, unknown and bad values refused", t_cvss_invalid},
    {"advisory: every field validated; fixed_in outside the range", t_advisory_parse},
    {"classify: range edges, pre-releases, every bucket", t_classify},
    {"store: add recorded once; load validates again", t_add_store},
    {"cohort: a fleet hitting every bucket, the list and its record", t_cohort},
    {"cohort: an empty fleet is an empty list, recorded", t_cohort_empty},
    {"sbom: CycloneDX and SPDX recognised; malformed, other JSON, fields refused", t_sbom_parse},
    {"release: sbom kept and recorded, fixes checked; refusals write nothing",
     t_release_sbom_fixes},
    {"cohort: a release's fixes remediate devices and campaigns; policy remediates",
     t_cohort_release_fixes},
};
HARNESS_MAIN(tests)
