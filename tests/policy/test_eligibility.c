/*
 * Eligibility: every reason code from fw_policy_decide, and runs on a real
 * store (a signed release, an imported fleet): one decision record per
 * device in exactly the canonical bytes, the summary, explain, targeting,
 * a revoked signing key, a release without a semantic version.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "certgen.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "suit/suit.h"

#define DAY 86400L

/* ---- the decision function, one reason at a time ---- */

static struct fw_policy_release rel;
static struct fw_device_row dev;
static struct fw_cert_row cert;
static const int64_t NOW = 1900000000; /* 2030-03-17 */

static void base(void)
{
	memset(&rel, 0, sizeof(rel));
	snprintf(rel.id, sizeof(rel.id), "%064d", 0);
	snprintf(rel.product, sizeof(rel.product), "ctl-a");
	snprintf(rel.family, sizeof(rel.family), "ctl");
	snprintf(rel.version_text, sizeof(rel.version_text), "2.4.1");
	CHECK_EQ(fw_semver_parse("2.4.1", &rel.version, NULL), FW_OK);
	rel.has_version = 1;
	CHECK_EQ(fw_range_parse(">=2.0.0 <2.4.1", &rel.range, NULL), FW_OK);
	rel.has_range = 1;
	snprintf(rel.hw[0], FW_FIELD_MAX, "B");
	snprintf(rel.hw[1], FW_FIELD_MAX, "C");
	rel.nhw = 2;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.id, sizeof(dev.id), "ctl-a-1");
	snprintf(dev.product, sizeof(dev.product), "ctl-a");
	snprintf(dev.family, sizeof(dev.family), "ctl");
	snprintf(dev.hw_revision, sizeof(dev.hw_revision), "B");
	snprintf(dev.fw_version, sizeof(dev.fw_version), "2.3.0");
	snprintf(dev.cohorts, sizeof(dev.cohorts), "beta;eu");
	snprintf(dev.support_until, sizeof(dev.support_until), "2031-12-31");
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "active");
	dev.has_cert = 1;
	dev.ident_ok = 1;
	memset(&cert, 0, sizeof(cert));
	cert.chain_ok = 1;
	cert.not_before = NOW - DAY;
	cert.not_after = NOW + DAY;
}

static uint32_t decide(const struct fw_policy_target *t)
{
	return fw_policy_decide(&rel, t, &dev, dev.has_cert ? &cert : NULL, NOW, NULL);
}

#define ONLY(r) (1u << (r))

static void t_every_reason(void)
{
	const char *cs = NULL;
	const char *const beta[] = {"beta"}, *const us[] = {"us", "apac"};
	struct fw_policy_target tb = {beta, 1}, tu = {us, 2};
	int i;

	base();
	CHECK_EQ(decide(NULL), 0);
	CHECK_EQ(fw_policy_decide(&rel, NULL, &dev, &cert, NOW, &cs), 0);
	CHECK(strcmp(cs, "valid") == 0);
	CHECK_EQ(decide(&tb), 0);

	base(); dev.ident_ok = 0;
	CHECK_EQ(decide(NULL), ONLY(FW_R_IDENTITY_MISMATCH));
	base(); dev.has_cert = 0;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_MISSING));
	base(); cert.revoked = FW_CERT_REVOKED_CRL;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_REVOKED));
	base(); cert.revoked = FW_CERT_REVOKED_LOCAL;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_REVOKED));
	base(); cert.chain_ok = 0;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_UNTRUSTED_ISSUER));
	base(); cert.not_before = NOW + 1;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_NOT_YET_VALID));
	base(); cert.not_after = NOW - 1;
	CHECK_EQ(decide(NULL), ONLY(FW_R_CERT_EXPIRED));
	base(); cert.not_after = NOW; /* the last second is still valid */
	CHECK_EQ(decide(NULL), 0);
	{
		static const struct {
			const char *state;
			int reason;
		} lc[] = {{"manufactured", FW_R_LC_MANUFACTURED},
		          {"provisioned", FW_R_LC_PROVISIONED},
		          {"quarantined", FW_R_LC_QUARANTINED},
		          {"end_of_support", FW_R_LC_END_OF_SUPPORT},
		          {"decommissioned", FW_R_LC_DECOMMISSIONED}};

		for (i = 0; i < 5; i++) {
			base();
			snprintf(dev.lifecycle, sizeof(dev.lifecycle), "%s", lc[i].state);
			CHECK_EQ(decide(NULL), ONLY(lc[i].reason));
		}
	}
	base(); snprintf(dev.product, sizeof(dev.product), "ctl-b");
	CHECK_EQ(decide(NULL), ONLY(FW_R_TARGET_PRODUCT));
	base(); snprintf(dev.family, sizeof(dev.family), "ctl-legacy");
	CHECK_EQ(decide(NULL), ONLY(FW_R_TARGET_FAMILY));
	base(); snprintf(dev.hw_revision, sizeof(dev.hw_revision), "A");
	CHECK_EQ(decide(NULL), ONLY(FW_R_TARGET_HW_REVISION));
	base(); rel.nhw = 0; snprintf(dev.hw_revision, sizeof(dev.hw_revision), "A");
	CHECK_EQ(decide(NULL), 0); /* no hardware list: any */
	base();
	CHECK_EQ(decide(&tu), ONLY(FW_R_TARGET_COHORT));
	base(); snprintf(dev.cohorts, sizeof(dev.cohorts), "bet");
	CHECK_EQ(decide(&tb), ONLY(FW_R_TARGET_COHORT)); /* no prefix match */
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "2.3");
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_INVALID));
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "1.9.9");
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_OUT_OF_RANGE));
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "2.0.0"); /* inclusive bound */
	CHECK_EQ(decide(NULL), 0);
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "2.0.0-rc.1");
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_OUT_OF_RANGE));
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "2.4.1-rc.1"); /* pre-release: older */
	CHECK_EQ(decide(NULL), 0);
	base(); snprintf(dev.fw_version, sizeof(dev.fw_version), "2.4.1+build.7"); /* exclusive bound */
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_OUT_OF_RANGE) | ONLY(FW_R_VERSION_ALREADY_INSTALLED));
	base(); rel.has_range = 0; snprintf(dev.fw_version, sizeof(dev.fw_version), "2.4.1");
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_ALREADY_INSTALLED));
	base(); rel.has_range = 0; snprintf(dev.fw_version, sizeof(dev.fw_version), "3.0.0");
	CHECK_EQ(decide(NULL), ONLY(FW_R_VERSION_NEWER));
	base(); snprintf(dev.support_until, sizeof(dev.support_until), "2030-03-16");
	CHECK_EQ(decide(NULL), ONLY(FW_R_SUPPORT_ENDED));
	base(); snprintf(dev.support_until, sizeof(dev.support_until), "2030-03-17"); /* its last day */
	CHECK_EQ(decide(NULL), 0);
	base(); rel.signer_revoked = 1;
	CHECK_EQ(decide(NULL), ONLY(FW_R_RELEASE_SIGNED_BY_REVOKED_KEY));
	base(); rel.has_version = 0;
	CHECK_EQ(decide(NULL), ONLY(FW_R_RELEASE_NO_VERSION));
	/* every failing reason, not only the first */
	base();
	dev.has_cert = 0;
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "quarantined");
	snprintf(dev.fw_version, sizeof(dev.fw_version), "1.0.0");
	snprintf(dev.support_until, sizeof(dev.support_until), "2020-01-01");
	CHECK_EQ(decide(&tu), ONLY(FW_R_CERT_MISSING) | ONLY(FW_R_LC_QUARANTINED) |
	                          ONLY(FW_R_TARGET_COHORT) | ONLY(FW_R_VERSION_OUT_OF_RANGE) |
	                          ONLY(FW_R_SUPPORT_ENDED));
	/* codes are the documented strings */
	for (i = 0; i < FW_REASON_COUNT; i++) {
		const char *c = fw_reason_code(i);

		CHECK(strchr(c, '.') != NULL);
		CHECK(fw_reason_text(i)[0] != 0);
	}
	CHECK(strcmp(fw_reason_code(FW_R_CERT_UNTRUSTED_ISSUER), "cert.untrusted_issuer") == 0);
	CHECK(strcmp(fw_reason_code(FW_REASON_COUNT), "unknown") == 0);
}

/* ---- runs on a store ---- */

static struct fw_store *store;
static struct fw_key *signer;
static char release_id[65];

static void add_release(const char *version, const char *from, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"ctl-a", "ctl", from, NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t *env = NULL, img[4096];
	size_t len = 0, i;
	json_t *doc = NULL;
	uint64_t idx = 0;

	for (i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + (size_t)version[0]);
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = 5;
	m.version = version;
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	CHECK_EQ(fw_suit_sign(&m, signer, &env, &len, &d), FW_OK);
	CHECK_EQ(harness_write(harness_tmp_path("rel.suit"), env, len), 0);
	CHECK_EQ(harness_write(harness_tmp_path("rel.bin"), img, sizeof(img)), 0);
	free(env);
	if (fw_registry_release_add(store, harness_tmp_path("rel.suit"),
	                            harness_tmp_path("rel.bin"), &t, "rm", &doc,
	                            &idx, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "release add: %s", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
}

static void setup_store(void)
{
	struct certgen_ca *ca;
	struct fw_diag d = {{0}};
	struct fw_import_stats st;
	json_t *kd = NULL;
	uint64_t idx, rev;
	size_t added;
	char csv[32768], *pem, *leaf;
	size_t n;

	if (store)
		return;
	ca = certgen_root("CA", -10 * DAY, 1000 * DAY);
	CHECK_EQ(fw_store_open(harness_tmp_path("elig.db"), 1, &store, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(store, "test.example/log", harness_tmp_path("log"), &d), FW_OK);
	CHECK_EQ(fw_key_generate(FW_KEY_ALG_ED25519, &signer, &d), FW_OK);
	CHECK_EQ(fw_key_save(signer, harness_tmp_path("signer"), &d), FW_OK);
	CHECK_EQ(fw_registry_key_trust(store, harness_tmp_path("signer.pub"), "rel",
	                               FW_ROLE_RELEASE_SIGNING,
	                               "sec", &kd, &idx, &d),
	         FW_OK);
	json_decref(kd);
	pem = certgen_ca_pem(ca);
	CHECK_EQ(harness_write(harness_tmp_path("ca.pem"), pem, strlen(pem)), 0);
	free(pem);
	CHECK_EQ(fw_registry_ca_add(store, harness_tmp_path("ca.pem"), "sec", &added, &rev, &idx,
	                            &d), FW_OK);
	n = (size_t)snprintf(csv, sizeof(csv),
	                     "device_id,product,family,hw_revision,fw_version,cohorts,"
	                     "support_until,lifecycle,certificate\n");
	leaf = certgen_leaf(ca, "d1", NULL, 1, -DAY, 100 * DAY);
	n += (size_t)snprintf(csv + n, sizeof(csv) - n,
	                      "d1,ctl-a,ctl,B,2.3.0,beta;eu,2031-12-31,active,\"%s\"\n", leaf);
	free(leaf);
	leaf = certgen_leaf(ca, "d2", NULL, 2, -DAY, 100 * DAY);
	n += (size_t)snprintf(csv + n, sizeof(csv) - n,
	                      "d2,ctl-a,ctl,B,1.0.0,us,2031-12-31,quarantined,\"%s\"\n", leaf);
	free(leaf);
	snprintf(csv + n, sizeof(csv) - n,
	         "d3,ctl-a,\"fam \"\"quoted\"\" \\\\ x\",B,2.3.0,us,2031-12-31,active,\n");
	CHECK_EQ(harness_write(harness_tmp_path("fleet.csv"), csv, strlen(csv)), 0);
	if (fw_registry_device_import(store, harness_tmp_path("fleet.csv"), "ops \"q\"", NULL, NULL,
	                              &st,
	                              &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "import: %s", d.msg);
	add_release("2.4.1", ">=2.0.0 <2.4.1", release_id);
	certgen_ca_free(ca);
}

struct seen {
	int n;
	char line[8][1024];
};

static int collect(void *arg, const char *device, uint32_t m, uint64_t rec)
{
	struct seen *s = arg;
	char reasons[FW_REASON_LIST_MAX];

	(void)rec;
	fw_reason_list(m, reasons, sizeof(reasons));
	if (s->n < 8)
		snprintf(s->line[s->n++], sizeof(s->line[0]), "%s %s %s", device, m == 0 ? "yes" : "no", reasons);
	return 0;
}

/* fwtrust writes decision records itself: the bytes must be what the
 * canonical encoder writes for the same object */
static int canonical_check(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                           size_t len)
{
	int *checked = arg;
	json_t *j;
	char *out = NULL;
	size_t olen = 0;
	struct fw_diag d = {{0}};

	(void)idx;
	(void)lh;
	if (memmem(rec, len, "\"type\":\"eligibility.decision\"", 29) == NULL)
		return 0;
	j = json_loadb((const char *)rec, len, 0, NULL);
	CHECK(j != NULL);
	CHECK_EQ(fw_json_canonical(j, &out, &olen, &d), FW_OK);
	if (olen != len || memcmp(out, rec, len) != 0)
		harness_fail(__FILE__, __LINE__, "not canonical:\n%.*s\n%s", (int)len, rec, out);
	free(out);
	json_decref(j);
	(*checked)++;
	return 0;
}

static void t_run_records(void)
{
	struct fw_eligibility_summary sum;
	struct fw_diag d = {{0}};
	struct seen seen = {0};
	uint64_t run = 0;
	int checked = 0;

	setup_store();
	CHECK_EQ(fw_policy_eligibility_run(store, release_id, NULL, "ops", NULL, NULL, &sum, &d),
	         FW_OK);
	CHECK_EQ(sum.devices, 3);
	CHECK_EQ(sum.eligible, 1);
	CHECK_EQ(sum.by_reason[FW_R_CERT_MISSING], 1);
	CHECK_EQ(sum.by_reason[FW_R_LC_QUARANTINED], 1);
	CHECK_EQ(sum.by_reason[FW_R_VERSION_OUT_OF_RANGE], 1);
	CHECK_EQ(sum.by_reason[FW_R_TARGET_FAMILY], 1);
	CHECK_EQ(fw_policy_decisions(store, release_id, 0, collect, &seen, &run, &d), FW_OK);
	CHECK_EQ(run, sum.run);
	CHECK_EQ(seen.n, 3);
	CHECK(strcmp(seen.line[0], "d1 yes ") == 0);
	CHECK(strcmp(seen.line[1], "d2 no lifecycle.quarantined,version.out_of_range") == 0);
	CHECK(strcmp(seen.line[2], "d3 no cert.missing,target.family") == 0);
	CHECK_EQ(fw_evidence_scan(store, 0, canonical_check, &checked, &d), FW_OK);
	CHECK_EQ(checked, 3);
	/* the summary record and the run's references check out */
	{
		struct fw_audit_summary as;
		uint8_t *rec = NULL, lh[32];
		size_t len = 0;

		CHECK_EQ(fw_evidence_get(store, sum.summary_idx, &rec, &len, lh, &d), FW_OK);
		CHECK(strstr((char *)rec, "\"type\":\"eligibility.summary\"") != NULL);
		CHECK(strstr((char *)rec, "{\"code\":\"cert.missing\",\"devices\":1}") != NULL);
		free(rec);
		CHECK_EQ(fw_evidence_audit(store, NULL, 0, NULL, NULL, &as, &d), FW_OK);
	}
	/* targeting: d1 is in beta, the others are not */
	{
		const char *const beta[] = {"beta"};
		struct fw_policy_target t = {beta, 1};

		CHECK_EQ(fw_policy_eligibility_run(store, release_id, &t, "ops", NULL, NULL, &sum, &d),
		         FW_OK);
		CHECK_EQ(sum.eligible, 1);
		CHECK_EQ(sum.by_reason[FW_R_TARGET_COHORT], 2);
		const char *const bad[] = {"be ta"};
		struct fw_policy_target tb = {bad, 1};

		CHECK_EQ(fw_policy_eligibility_run(store, release_id, &tb, "ops", NULL, NULL, &sum, &d),
		         FW_E_ARG);
	}
	CHECK_EQ(fw_policy_decisions(store, release_id, 99, collect, &seen, &run, &d),
	         FW_E_NOT_FOUND);
	CHECK_EQ(fw_policy_eligibility_run(store, "0123456789abcdef", NULL, "ops", NULL, NULL, &sum,
	                                   &d),
	         FW_E_NOT_FOUND);
}

static void t_explain(void)
{
	struct fw_diag d = {{0}};
	json_t *o = NULL, *r;

	setup_store();
	CHECK_EQ(fw_policy_explain(store, release_id, NULL, "d2", time(NULL), &o, &d), FW_OK);
	CHECK(json_is_false(json_object_get(o, "eligible")));
	r = json_object_get(o, "reasons");
	CHECK_EQ(json_array_size(r), 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(r, 1), "code")),
	             "version.out_of_range") == 0);
	CHECK(strstr(json_string_value(json_object_get(json_array_get(r, 1), "why")),
	             "runs 1.0.0; the release upgrades >=2.0.0 <2.4.1") != NULL);
	CHECK(json_is_object(json_object_get(o, "inputs")));
	CHECK(json_is_object(json_object_get(o, "recorded")));
	json_decref(o);
	/* an unknown device is ineligible, not an error */
	CHECK_EQ(fw_policy_explain(store, release_id, NULL, "who", time(NULL), &o, &d), FW_OK);
	CHECK(strcmp(json_string_value(json_object_get(
	                 json_array_get(json_object_get(o, "reasons"), 0), "code")),
	             "identity.unknown") == 0);
	json_decref(o);
}

static void t_release_reasons(void)
{
	struct fw_eligibility_summary sum;
	struct fw_diag d = {{0}};
	json_t *k = NULL;
	char id[65];
	uint64_t idx;

	setup_store();
	/* a version that is not semantic: nobody */
	add_release("build-42", NULL, id);
	CHECK_EQ(fw_policy_eligibility_run(store, id, NULL, "ops", NULL, NULL, &sum, &d), FW_OK);
	CHECK_EQ(sum.by_reason[FW_R_RELEASE_NO_VERSION], 3);
	CHECK_EQ(sum.eligible, 0);
	/* the signing key is revoked after the release was added */
	CHECK_EQ(fw_registry_key_revoke(store, "rel", "leaked", "sec", &k, &idx, &d), FW_OK);
	json_decref(k);
	CHECK_EQ(fw_policy_eligibility_run(store, release_id, NULL, "ops", NULL, NULL, &sum, &d),
	         FW_OK);
	CHECK_EQ(sum.by_reason[FW_R_RELEASE_SIGNED_BY_REVOKED_KEY], 3);
	CHECK_EQ(sum.eligible, 0);
	fw_store_close(store);
	store = NULL;
	fw_key_free(signer);
}

static const struct harness_test tests[] = {
    {"every_reason", t_every_reason},
    {"run_records", t_run_records},
    {"explain", t_explain},
    {"release_reasons", t_release_reasons},
};
HARNESS_MAIN(tests)
