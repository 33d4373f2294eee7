/*
 * vuln isolate: which devices are selected (the cannot_be_remediated ones,
 * or the affected ones a filter matches), the lifecycle rule (an
 * end_of_support device cannot be quarantined), one vuln.isolate record per
 * device written with the row (and certificate) it changes, a plan that
 * writes nothing, and a failure after some devices were changed that
 * leaves everything as it was.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"
#include "store/store.h"
#include "vuln/vuln.h"

#define DAY 86400L
static const int64_t NOW = 1900000000; /* 2030-03-17 */

static uint64_t log_size(struct fw_store *s)
{
	uint64_t n = 0;
	uint8_t root[32];

	CHECK_EQ(fw_evidence_size(s, &n, root, NULL), FW_OK);
	return n;
}

/* cert: 0 none, 1 its own, 2 the one of device "shared" */
static void put_dev(struct fw_store *s, const char *id, const char *version, const char *lifecycle,
                    const char *until, const char *cohorts, int cert)
{
	struct fw_device_row dev;
	struct fw_cert_row c;
	struct fw_diag d = {{0}};

	memset(&dev, 0, sizeof(dev));
	snprintf(dev.id, sizeof(dev.id), "%s", id);
	snprintf(dev.product, sizeof(dev.product), "controller");
	snprintf(dev.family, sizeof(dev.family), "ctl-a");
	snprintf(dev.hw_revision, sizeof(dev.hw_revision), "B");
	snprintf(dev.fw_version, sizeof(dev.fw_version), "%s", version);
	snprintf(dev.cohorts, sizeof(dev.cohorts), "%s", cohorts);
	snprintf(dev.lifecycle, sizeof(dev.lifecycle), "%s", lifecycle);
	snprintf(dev.support_until, sizeof(dev.support_until), "%s", until);
	if (cert) {
		const char *name = cert == 2 ? "shared" : id;

		memset(&c, 0, sizeof(c));
		fw_sha256((const uint8_t *)name, strlen(name), c.sha256);
		snprintf(c.serial, sizeof(c.serial), "%02x", c.sha256[0]);
		c.chain_ok = 1;
		c.not_before = NOW - DAY;
		c.not_after = NOW + 1000 * DAY;
		c.der = (const uint8_t *)"x";
		c.der_len = 1;
		CHECK_EQ(fw_store_cert_put(s, &c, &d), FW_OK);
		dev.has_cert = 1;
		dev.ident_ok = 1;
		memcpy(dev.cert, c.sha256, 32);
	}
	CHECK_EQ(fw_store_device_put(s, &dev, 0, &d), FW_OK);
}

static struct fw_store *fleet(const char *name, uint64_t *add_idx)
{
	static const char *const cves[] = {"CVE-2026-12345"};
	struct fw_vuln_input in = {0};
	struct fw_vuln_advisory a;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char db[64];

	snprintf(db, sizeof(db), "%s.db", name);
	CHECK_EQ(fw_store_open(harness_tmp_path(db), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/isolate", harness_tmp_path(name), &d), FW_OK);
	in.id = "FWT-1";
	in.title = "t";
	in.severity = "high";
	in.product = "controller";
	in.family = "ctl-a";
	in.affected = ">=2.0.0 <2.4.1";
	in.fixed_in = "2.4.1";
	in.cves = cves;
	in.ncves = 1;
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, &d), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, add_idx, &d), FW_OK);
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	put_dev(s, "d1-exposed", "2.1.0", "active", "2034-12-31", "eu", 1);
	put_dev(s, "d2-exposed", "2.2.0", "active", "2034-12-31", "us", 1);
	put_dev(s, "d3-exposed-nocert", "2.2.0", "active", "2034-12-31", "eu", 0);
	put_dev(s, "d4-eos", "2.3.0", "end_of_support", "2034-12-31", "eu", 1);
	put_dev(s, "d5-support-over", "2.3.0", "active", "2029-12-31", "us", 1);
	put_dev(s, "d6-quarantined", "2.3.0", "quarantined", "2034-12-31", "eu", 1);
	put_dev(s, "d7-fixed", "2.4.1", "active", "2034-12-31", "eu", 1);
	put_dev(s, "d8-below", "1.9.0", "active", "2034-12-31", "eu", 1);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	return s;
}

static struct fw_vuln_isolate_req req(int action, const struct fw_device_filter *f)
{
	struct fw_vuln_isolate_req q;

	memset(&q, 0, sizeof(q));
	q.advisory = "FWT-1";
	q.reason = "no update path";
	q.action = action;
	q.filter = f;
	q.now = NOW;
	return q;
}

static int collect(void *arg, const struct fw_vuln_isolated *v)
{
	char *out = arg;

	strcat(out, v->device);
	strcat(out, " ");
	return 0;
}

static json_t *record(struct fw_store *s, uint64_t idx)
{
	uint8_t *bytes = NULL, lh[32];
	size_t len = 0;
	json_t *j;

	CHECK_EQ(fw_evidence_get(s, idx, &bytes, &len, lh, NULL), FW_OK);
	j = bytes ? json_loadb((const char *)bytes, len, 0, NULL) : NULL;
	free(bytes);
	CHECK(j != NULL);
	return j;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static void t_cannot_revoke(void)
{
	struct fw_vuln_isolate_req q = req(FW_VI_QUARANTINE, NULL);
	struct fw_vuln_isolation r;
	struct fw_device_row row;
	struct fw_cert_row cert;
	struct fw_diag d = {{0}};
	uint64_t add_idx = 0, n, refs_idx;
	struct fw_store *s = fleet("cannot", &add_idx);
	char seen[400] = "";
	uint8_t h[32];
	char hex[65];
	json_t *j;
	int has = 0;

	/* quarantine: d4 is end_of_support, which the lifecycle rules keep from
	 * quarantined: refused, naming it and --revoke; nothing written */
	n = log_size(s);
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "device d4-eos is end_of_support and cannot be quarantined") != NULL);
	CHECK(strstr(d.msg, "--revoke") != NULL);
	CHECK_EQ(fw_vuln_isolate_plan(s, &q, NULL, NULL, &r, &d), FW_E_CONFLICT);
	CHECK_EQ(log_size(s), n);
	/* the plan of a revocation: the cannot_be_remediated devices, by id */
	q.action = FW_VI_REVOKE;
	CHECK_EQ(fw_vuln_isolate_plan(s, &q, collect, seen, &r, &d), FW_OK);
	CHECK(strcmp(seen, "d4-eos d5-support-over ") == 0);
	CHECK_EQ(r.devices, 2);
	CHECK_EQ(r.shown[0].bucket, FW_VB_CANNOT);
	CHECK_EQ(log_size(s), n);
	/* done: one record per device, the rows point at them */
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_OK);
	CHECK_EQ(r.devices, 2);
	CHECK_EQ(r.nshown, 2);
	CHECK_EQ(log_size(s), n + 2);
	CHECK(strcmp(r.shown[0].device, "d4-eos") == 0 && r.shown[0].idx == n);
	CHECK(strcmp(r.shown[1].device, "d5-support-over") == 0 && r.shown[1].idx == n + 1);
	CHECK(strcmp(r.shown[0].lifecycle_before, "end_of_support") == 0);
	j = record(s, n);
	CHECK(strcmp(jstr(j, "type"), "vuln.isolate") == 0);
	CHECK(strcmp(jstr(j, "advisory"), "FWT-1") == 0);
	CHECK(strcmp(jstr(j, "device"), "d4-eos") == 0);
	CHECK(strcmp(jstr(j, "action"), "revoke") == 0);
	CHECK(strcmp(jstr(j, "reason"), "no update path") == 0);
	CHECK(strcmp(jstr(j, "fw_version"), "2.3.0") == 0);
	CHECK(strcmp(jstr(j, "lifecycle_before"), "end_of_support") == 0);
	refs_idx = (uint64_t)json_integer_value(
	    json_object_get(json_array_get(json_object_get(j, "refs"), 0), "idx"));
	CHECK_EQ(refs_idx, add_idx);
	CHECK_EQ(fw_store_device_get(s, "d4-eos", &row, &cert, &has, &d), FW_OK);
	CHECK(has && cert.revoked == FW_CERT_REVOKED_LOCAL);
	CHECK_EQ(row.rec, n);
	CHECK(strcmp(row.lifecycle, "end_of_support") == 0);
	fw_hex_encode(row.cert, 32, hex);
	CHECK(strcmp(jstr(j, "cert_sha256"), hex) == 0);
	fw_device_row_hash(&row, h);
	fw_hex_encode(h, 32, hex);
	CHECK(strcmp(jstr(j, "row_sha256"), hex) == 0);
	json_decref(j);
	/* now isolated; nothing left to do: refused, nothing written */
	{
		struct fw_vuln_advisory a;
		uint8_t lh[32];
		uint64_t ri;

		CHECK_EQ(fw_vuln_load(s, "FWT-1", &a, &ri, lh, &d), FW_OK);
		CHECK_EQ(fw_vuln_classify(&a, &row, &cert, NOW, 0), FW_VB_ISOLATED);
	}
	n = log_size(s);
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "no device to isolate") != NULL);
	CHECK_EQ(log_size(s), n);
	fw_store_close(s);
}

static void t_filter_quarantine(void)
{
	struct fw_device_filter f;
	struct fw_vuln_isolate_req q;
	struct fw_vuln_isolation r;
	struct fw_device_row row;
	struct fw_diag d = {{0}};
	uint64_t add_idx = 0, n;
	struct fw_store *s = fleet("filter", &add_idx);
	char e1[] = "cohort=eu", e1b[] = "cohort=eu", e2[] = "lifecycle=active";
	char e3[] = "cohort=nowhere";
	char seen[400] = "";
	json_t *j;

	/* the affected devices not isolated yet in cohort eu from 2.2.0: d3 (no
	 * certificate: quarantine needs none) and d4 (end_of_support: refused);
	 * d6 is isolated already, d7 remediated, d8 below the range */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(fw_device_filter_add(&f, e1, &d), FW_OK);
	q = req(FW_VI_QUARANTINE, &f);
	CHECK_EQ(fw_vuln_isolate_plan(s, &q, collect, seen, &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "d4-eos") != NULL);
	/* (fw_device_filter_add splits its argument in place: fresh copies) */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(fw_device_filter_add(&f, e1b, &d), FW_OK);
	CHECK_EQ(fw_device_filter_add(&f, e2, &d), FW_OK);
	seen[0] = 0;
	CHECK_EQ(fw_vuln_isolate_plan(s, &q, collect, seen, &r, &d), FW_OK);
	CHECK(strcmp(seen, "d1-exposed d3-exposed-nocert ") == 0);
	CHECK_EQ(r.shown[0].bucket, FW_VB_EXPOSED);
	/* revoking d3 is impossible (no certificate): refused, nothing written */
	n = log_size(s);
	q.action = FW_VI_REVOKE;
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "device d3-exposed-nocert has no certificate to revoke") != NULL);
	CHECK_EQ(log_size(s), n);
	/* quarantined: lifecycle and record */
	q.action = FW_VI_QUARANTINE;
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_OK);
	CHECK_EQ(r.devices, 2);
	CHECK_EQ(log_size(s), n + 2);
	CHECK_EQ(fw_store_device_get(s, "d3-exposed-nocert", &row, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(row.lifecycle, "quarantined") == 0);
	CHECK_EQ(row.rec, n + 1);
	j = record(s, n + 1);
	CHECK(strcmp(jstr(j, "action"), "quarantine") == 0);
	CHECK(strcmp(jstr(j, "lifecycle_before"), "active") == 0);
	CHECK(json_object_get(j, "cert_sha256") == NULL);
	json_decref(j);
	/* the others untouched */
	CHECK_EQ(fw_store_device_get(s, "d2-exposed", &row, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(row.lifecycle, "active") == 0 && row.rec == 0);
	/* nothing matches any more: refused */
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "matching --devices") != NULL);
	memset(&f, 0, sizeof(f));
	CHECK_EQ(fw_device_filter_add(&f, e3, &d), FW_OK);
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	/* bad requests */
	q.reason = "";
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "--reason") != NULL);
	q.reason = "two\nlines";
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_ARG);
	q = req(FW_VI_QUARANTINE, NULL);
	q.advisory = "FWT-404";
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_NOT_FOUND);
	q = req(7, NULL);
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_ARG);
	CHECK_EQ(log_size(s), n + 2);
	fw_store_close(s);
}

/* Two devices share a certificate: the first is revoked inside the
 * transaction, the second then finds it revoked and the whole command
 * fails: the first device's record, row and certificate are rolled back. */
static void t_midway_failure(void)
{
	struct fw_vuln_isolate_req q = req(FW_VI_REVOKE, NULL);
	struct fw_vuln_isolation r;
	struct fw_device_row row;
	struct fw_cert_row cert;
	struct fw_diag d = {{0}};
	uint64_t add_idx = 0, n;
	struct fw_store *s = fleet("midway", &add_idx);
	int has = 0;

	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	put_dev(s, "e1-eos-shared", "2.0.0", "end_of_support", "2034-12-31", "eu", 2);
	put_dev(s, "e2-eos-shared", "2.0.0", "end_of_support", "2034-12-31", "eu", 2);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	n = log_size(s);
	CHECK_EQ(fw_vuln_isolate(s, &q, "test", &r, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "device e2-eos-shared: its certificate is revoked already") != NULL);
	CHECK_EQ(log_size(s), n);
	CHECK_EQ(fw_store_device_get(s, "e1-eos-shared", &row, &cert, &has, &d), FW_OK);
	CHECK(has && cert.revoked == FW_CERT_NOT_REVOKED);
	CHECK_EQ(row.rec, 0);
	CHECK_EQ(fw_store_device_get(s, "d4-eos", &row, &cert, &has, &d), FW_OK);
	CHECK(has && cert.revoked == FW_CERT_NOT_REVOKED && row.rec == 0);
	fw_store_close(s);
}

/* A device that runs a release whose "fixes" names the advisory (a
 * backport inside the range) is remediated: never selected for isolation. */
static void t_backport_not_isolated(void)
{
	struct fw_vuln_isolate_req q = req(FW_VI_REVOKE, NULL);
	struct fw_vuln_isolation r;
	struct fw_diag d = {{0}};
	uint64_t add_idx = 0;
	struct fw_store *s = fleet("backport", &add_idx);
	char seen[400] = "", rid[65];
	json_t *rel;

	CHECK_EQ(fw_vuln_isolate_plan(s, &q, collect, seen, &r, &d), FW_OK);
	CHECK(strcmp(seen, "d4-eos d5-support-over ") == 0);
	/* 2.3.0 declared a fix of FWT-1: both run it */
	memset(rid, 'e', 64);
	rid[64] = 0;
	rel = json_pack("{ss ss ss ss ss s[s]}", "release_id", rid, "product", "controller",
	                "family", "ctl-a", "version", "2.3.0", "signer_key_id", "k1", "fixes",
	                "FWT-1");
	CHECK_EQ(fw_registry_doc_put(s, "release", rid, rel, 1, &d), FW_OK);
	json_decref(rel);
	seen[0] = 0;
	CHECK_EQ(fw_vuln_isolate_plan(s, &q, collect, seen, &r, &d), FW_E_CONFLICT);
	CHECK(strcmp(seen, "") == 0);
	CHECK(strstr(d.msg, "no device to isolate") != NULL);
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"isolate: cannot_be_remediated devices; end_of_support needs --revoke; records", t_cannot_revoke},
    {"isolate --devices: affected devices that match, quarantined; refusals", t_filter_quarantine},
    {"isolate: a failure after some devices changed writes nothing", t_midway_failure},
    {"isolate: a device on a release that fixes it is never selected", t_backport_not_isolated},
};
HARNESS_MAIN(tests)
