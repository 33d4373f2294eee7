/*
 * Evidence bundles through the library: export from a real store, verify
 * offline. The batch proof is checked for many log sizes and selections
 * (every record, every third, random tenth, one block, the first, the
 * last), with checkpoints along the way; every tamper of a bundle file is
 * refused; a device's proofs cut from the batch proof verify alone.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "fwv.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "store/store.h"

static struct fw_store *new_log(struct fw_key **key, char *db, size_t cap)
{
	static int n;
	char base[700];
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};

	snprintf(db, cap, "%s/bundle-%d.db", harness_tmpdir(), ++n);
	snprintf(base, sizeof(base), "%s-log", db);
	if (fw_store_open(db, 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "test.example/log", base, &d) != FW_OK ||
	    fw_evidence_log_key(s, NULL, key, &d) != FW_OK) {
		harness_fail(__FILE__, __LINE__, "setup: %s", d.msg);
		fw_store_close(s);
		return NULL;
	}
	return s;
}

/* record i: of campaign c-1 when sel, with a reference to ref (or none) */
static int add(struct fw_store *s, uint64_t i, int sel, int64_t ref, const uint8_t *ref_lh,
               uint8_t lh[32])
{
	json_t *r = fw_evidence_record_new("test.event", "test");
	uint64_t idx;
	int rc;

	json_object_set_new(r, "i", json_integer((json_int_t)i));
	if (sel) {
		json_object_set_new(r, "campaign", json_string("c-1"));
		json_object_set_new(r, "device", json_string(i % 2 ? "dev-odd" : "dev-even"));
	}
	rc = ref >= 0 ? fw_evidence_record_ref(r, (uint64_t)ref, ref_lh) : FW_OK;
	if (rc == FW_OK)
		rc = fw_evidence_commit(s, NULL, r, &idx, lh, NULL);
	json_decref(r);
	return rc;
}

static int put_docs(struct fw_store *s, const uint8_t lh0[32])
{
	char hex[65], doc[400];
	struct fw_diag d = {{0}};

	fw_hex_encode(lh0, 32, hex);
	snprintf(doc, sizeof(doc), "{\"release_id\":\"%s\"}", "aa00000000000000000000000000000000000000000000000000000000000000");
	if (fw_store_object_put(s, "campaign", "c-1", doc, 0, &d) != FW_OK)
		return -1;
	/* the release's record is the log's first: no release.add to check */
	snprintf(doc, sizeof(doc), "{\"added\":{\"idx\":0,\"lh\":\"%s\"},\"signer_key_id\":\"%s\"}",
	         hex, "bb00000000000000000000000000000000000000000000000000000000000000");
	return fw_store_object_put(s, "release", "aa00000000000000000000000000000000000000000000000000000000000000",
	                           doc, 0, &d) == FW_OK
	           ? 0
	           : -1;
}

struct count {
	uint64_t n;
	char first[64];
	char detail[500];
};
static void on_finding(void *arg, const struct fw_bundle_finding *f)
{
	struct count *c = arg;

	if (c->n++ == 0) {
		snprintf(c->first, sizeof(c->first), "%s", f->code);
		snprintf(c->detail, sizeof(c->detail), "%s: %s", f->file, f->detail);
	}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int selected(int pattern, uint64_t i, uint64_t n, uint64_t *seed)
{
	switch (pattern) {
	case 0: return 1;
	case 1: return i % 3 == 1;
	case 2: return rnd(seed) % 10 == 0;
	case 3: return i >= n / 3 && i < n / 3 + n / 4 + 1;
	case 4: return i == 1;
	default: return i == n - 1;
	}
}

/* Build a log of n records (record 0 included) with a pattern of
 * campaign records and checkpoints, export, verify: no finding. */
static void one(uint64_t n, int pattern, const char *dir, uint64_t *records)
{
	struct fw_key *key = NULL;
	char db[600];
	struct fw_store *s = new_log(&key, db, sizeof(db));
	struct fw_diag d = {{0}};
	uint8_t lh[32], lh0[32], prev[32];
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ n ^ (uint64_t)pattern, want = 0;
	int64_t last = -1;
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	struct fw_bundle_result res;
	struct count c = {0, "", ""};
	char *note = NULL;

	if (!s)
		return;
	for (uint64_t i = 0; i < n; i++) {
		int sel = i > 0 && selected(pattern, i, n, &seed);

		CHECK_EQ(add(s, i, sel, sel ? last : -1, prev, lh), FW_OK);
		if (i == 0)
			memcpy(lh0, lh, 32);
		if (sel) {
			last = (int64_t)i;
			memcpy(prev, lh, 32);
			want++;
		}
		if (i % 7 == 3 || i == n / 2) {
			CHECK_EQ(fw_evidence_checkpoint(s, key, &note, &d), FW_OK);
			free(note);
		}
	}
	if (put_docs(s, lh0)) {
		harness_fail(__FILE__, __LINE__, "docs");
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.campaign = "c-1";
	o.dir = dir;
	if (fw_bundle_export(s, &o, &info, &d) != FW_OK) {
		harness_fail(__FILE__, __LINE__, "n=%llu pattern %d: export: %s", (unsigned long long)n,
		             pattern, d.msg);
		goto out;
	}
	CHECK_EQ(info.records, want + 1); /* and record 0, the release's */
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(fw_bundle_verify(dir, NULL, NULL, on_finding, &c, NULL, NULL, &res, &d), FW_OK);
	if (c.n)
		harness_fail(__FILE__, __LINE__, "n=%llu pattern %d: %llu findings, first %s (%s)",
		             (unsigned long long)n, pattern, (unsigned long long)c.n, c.first, c.detail);
	CHECK_EQ(res.records, want + 1);
	fw_bundle_result_clear(&res);
	if (records)
		*records = want + 1;
out:
	fw_key_free(key);
	fw_store_close(s);
}

static void t_batch_proof_sizes(void)
{
	char dir[700];
	static const uint64_t sizes[] = {2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 255, 257};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (int pattern = 0; pattern < 6; pattern++) {
			snprintf(dir, sizeof(dir), "%s/b-%llu-%d", harness_tmpdir(),
			         (unsigned long long)sizes[k], pattern);
			one(sizes[k], pattern, dir, NULL);
			fw_bundle_discard(dir);
		}
}

/* a file of the bundle changed: the verdict names it */
static uint64_t verify_count(const char *dir, const uint8_t *pub, char *first, size_t cap)
{
	struct fw_bundle_result res;
	struct count c = {0, "", ""};
	struct fw_diag d = {{0}};

	if (fw_bundle_verify(dir, pub, NULL, on_finding, &c, NULL, NULL, &res, &d) != FW_OK)
		snprintf(c.first, sizeof(c.first), "error: %.50s", d.msg);
	fw_bundle_result_clear(&res);
	snprintf(first, cap, "%s", c.first);
	return c.n;
}

static int flip(const char *dir, const char *name, long at)
{
	char p[1000];
	FILE *f;
	int ch;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r+");
	if (f == NULL)
		return -1;
	fseek(f, at, at < 0 ? SEEK_END : SEEK_SET);
	ch = fgetc(f);
	fseek(f, -1, SEEK_CUR);
	fputc(ch == 'a' ? 'b' : 'a', f);
	return fclose(f);
}

static void t_tamper(void)
{
	char dir[700], copy[800], first[64], cmd[2100];

	snprintf(dir, sizeof(dir), "%s/tamper", harness_tmpdir());
	one(100, 1, dir, NULL);
	CHECK_EQ(verify_count(dir, NULL, first, sizeof(first)), 0);
	/* each tamper on a fresh copy */
	static const struct {
		const char *file;
		long at;
		const char *code;
	} cases[] = {
	    {"records.jsonl", 40, "manifest.digest"},
	    {"proof.txt", -10, "manifest.digest"},
	    {"checkpoint.note", -20, "manifest.digest"},
	    {"bundle.json", 5, "manifest.digest"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(copy, sizeof(copy), "%s-%zu", dir, i);
		snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", dir, copy);
		CHECK_EQ(system(cmd), 0);
		CHECK_EQ(flip(copy, cases[i].file, cases[i].at), 0);
		CHECK(verify_count(copy, NULL, first, sizeof(first)) > 0);
		CHECK(strcmp(first, cases[i].code) == 0);
		/* and with the manifest made again: the content itself refused */
		snprintf(cmd, sizeof(cmd), "rm '%s/manifest.txt'", copy);
		CHECK_EQ(system(cmd), 0);
		{
			struct fw_diag d = {{0}};

			CHECK_EQ(fw_bundle_seal(copy, &d), FW_OK);
		}
		CHECK(verify_count(copy, NULL, first, sizeof(first)) > 0);
		CHECK(strcmp(first, "manifest.digest") != 0);
		fw_bundle_discard(copy);
	}
	fw_bundle_discard(dir);
}

/* one device's records: tlog-proofs cut from the batch proof verify alone */
static void t_device_proofs(void)
{
	char dir[700], proofs[800], p[900];
	struct fw_bundle_query q;
	struct fw_bundle_result res;
	struct count c = {0, "", ""};
	struct fw_diag d = {{0}};
	size_t i;
	json_t *e;
	uint8_t *note = NULL, pub[32];
	size_t note_len = 0;
	struct fw_key *k = NULL;
	struct fwv_key raw;

	snprintf(dir, sizeof(dir), "%s/device", harness_tmpdir());
	snprintf(proofs, sizeof(proofs), "%s/device-proofs", harness_tmpdir());
	one(77, 2, dir, NULL);
	memset(&q, 0, sizeof(q));
	q.device = "dev-odd";
	q.proofs_dir = proofs;
	CHECK_EQ(fw_bundle_verify(dir, NULL, &q, on_finding, &c, NULL, NULL, &res, &d), FW_OK);
	CHECK_EQ(c.n, 0);
	CHECK(json_array_size(q.records) > 0);
	CHECK_EQ(q.proofs, json_array_size(q.records));
	snprintf(p, sizeof(p), "%s/checkpoint.note", dir);
	CHECK_EQ(fw_file_read(p, 1 << 16, &note, &note_len, &d), FW_OK);
	snprintf(p, sizeof(p), "%s/log.pub", dir);
	CHECK_EQ(fw_key_load_public(p, &k, &d), FW_OK);
	fw_key_to_fwv(k, &raw);
	memcpy(pub, raw.pub, 32);
	json_array_foreach(q.records, i, e) {
		uint8_t *proof = NULL, *rec = NULL;
		size_t plen = 0, rlen = 0;
		uint64_t idx = 0;
		struct fw_checkpoint cp;

		snprintf(p, sizeof(p), "%s/%s", proofs, json_string_value(json_object_get(e, "proof")));
		CHECK_EQ(fw_file_read(p, 1 << 20, &proof, &plen, &d), FW_OK);
		snprintf(p, sizeof(p), "%s/%lld.record", proofs,
		         (long long)json_integer_value(json_object_get(e, "idx")));
		CHECK_EQ(fw_file_read(p, 1 << 20, &rec, &rlen, &d), FW_OK);
		CHECK_EQ(fw_evidence_verify_proof((const char *)note, note_len, (const char *)proof, plen,
		                                  rec, rlen, pub, NULL, &idx, &cp, &d),
		         FW_OK);
		CHECK_EQ((long long)idx, (long long)json_integer_value(json_object_get(e, "idx")));
		/* another record's bytes under this proof: refused */
		if (rlen > 3) {
			rec[rlen - 3] ^= 1;
			CHECK(fw_evidence_verify_proof((const char *)note, note_len, (const char *)proof,
			                               plen, rec, rlen, pub, NULL, &idx, &cp, &d) != FW_OK);
		}
		free(proof);
		free(rec);
	}
	free(note);
	fw_key_free(k);
	json_decref(q.records);
	fw_bundle_result_clear(&res);
	fw_bundle_discard(dir);
	fw_bundle_discard(proofs);
}

static void t_refusals(void)
{
	struct fw_key *key = NULL;
	char db[600], dir[700];
	struct fw_store *s = new_log(&key, db, sizeof(db));
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	struct fw_bundle_result res;
	struct fw_diag d = {{0}};

	if (!s)
		return;
	memset(&o, 0, sizeof(o));
	snprintf(dir, sizeof(dir), "%s/refused", harness_tmpdir());
	o.dir = dir;
	o.campaign = "c-nope";
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_E_NOT_FOUND);
	CHECK(access(dir, F_OK) != 0); /* nothing written */
	o.campaign = NULL;
	o.release = "abc";
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_E_ARG);
	o.release = NULL;
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_E_ARG);
	/* an existing directory is never written into */
	o.campaign = "c-1";
	o.dir = harness_tmpdir();
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_E_ARG);
	CHECK_EQ(fw_bundle_verify("/nonexistent/bundle", NULL, NULL, NULL, NULL, NULL, NULL, &res, &d),
	         FW_E_IO);
	fw_key_free(key);
	fw_store_close(s);
}


static int rec(struct fw_store *s, const char *json_text)
{
	json_t *r = fw_evidence_record_new("x", "test"), *extra = json_loads(json_text, 0, NULL);
	int rc;

	json_object_update(r, extra);
	json_decref(extra);
	rc = fw_evidence_commit(s, NULL, r, NULL, NULL, NULL);
	json_decref(r);
	return rc;
}

struct codes {
	const char *want;
	uint64_t n;
};

static void on_code(void *arg, const struct fw_bundle_finding *f)
{
	struct codes *c = arg;

	c->n += strcmp(f->code, c->want) == 0;
}

static uint64_t count_code(const char *dir, const char *code)
{
	struct codes c = {code, 0};
	struct fw_bundle_result res;
	struct fw_diag d = {{0}};

	if (fw_bundle_verify(dir, NULL, NULL, on_code, &c, NULL, NULL, &res, &d) != FW_OK)
		return UINT64_MAX;
	fw_bundle_result_clear(&res);
	return c.n;
}

/* a completed campaign whose last step is left out: records.incomplete */
static void t_incomplete(void)
{
	struct fw_key *key = NULL;
	char db[600], dir[700], copy[800], cmd[3000], p[900];
	struct fw_store *s = new_log(&key, db, sizeof(db));
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	struct fw_diag d = {{0}};
	uint8_t lh0[32], *data = NULL;
	size_t len = 0;
	char *nl, *cut;

	if (!s)
		return;
	CHECK_EQ(rec(s, "{\"type\":\"test.first\"}"), FW_OK);
	CHECK_EQ(fw_evidence_get(s, 0, &data, &len, lh0, &d), FW_OK);
	free(data);
	data = NULL;
	CHECK_EQ(rec(s, "{\"type\":\"campaign.create\",\"campaign\":\"c-1\",\"creator\":\"rm\"}"), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"rollout.device\",\"campaign\":\"c-1\",\"device\":\"d1\",\"from\":\"pending\",\"to\":\"eligible\"}"), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"rollout.device\",\"campaign\":\"c-1\",\"device\":\"d1\",\"from\":\"eligible\",\"to\":\"delivered\"}"), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"rollout.device\",\"campaign\":\"c-1\",\"device\":\"d1\",\"from\":\"delivered\",\"to\":\"installed\"}"), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"campaign.complete\",\"campaign\":\"c-1\",\"counts\":[{\"installed\":1,\"failed\":0}]}"), FW_OK);
	CHECK_EQ(put_docs(s, lh0), 0);
	memset(&o, 0, sizeof(o));
	o.campaign = "c-1";
	snprintf(dir, sizeof(dir), "%s/complete", harness_tmpdir());
	o.dir = dir;
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_OK);
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(count_code(dir, "records.incomplete"), 0);
	/* leave out the install, redo the manifest */
	snprintf(copy, sizeof(copy), "%s-cut", dir);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s' && rm '%s/manifest.txt'", dir, copy, copy);
	CHECK_EQ(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/records.jsonl", copy);
	CHECK_EQ(fw_file_read(p, 1 << 20, &data, &len, &d), FW_OK);
	{
		uint8_t *bigger = realloc(data, len + 1);

		if (bigger == NULL) {
			free(data);
			return;
		}
		data = bigger;
	}
	data[len] = 0;
	cut = strstr((char *)data, "\"to\":\"installed\"");
	CHECK(cut != NULL);
	if (cut) {
		char *start = cut;
		FILE *f;

		while (start > (char *)data && start[-1] != '\n')
			start--;
		nl = strchr(cut, '\n');
		if (nl)
			memmove(start, nl + 1, strlen(nl + 1) + 1);
		f = fopen(p, "w");
		if (f) {
			fputs((char *)data, f);
			fclose(f);
		}
	}
	free(data);
	CHECK_EQ(fw_bundle_seal(copy, &d), FW_OK);
	CHECK(count_code(copy, "records.incomplete") > 0);
	fw_bundle_discard(dir);
	fw_bundle_discard(copy);
	fw_key_free(key);
	fw_store_close(s);
}

/* an advisory's bundle: its cohort lists are kept and recounted; a
 * vuln.affected record whose counts its list does not give is
 * vuln.cohort_mismatch (the store's own bundle: the record was written
 * wrong), a list that is not '<device> <bucket> <version>' lines too */
static int cohort_rec(struct fw_store *s, const char *list, int exposed, int cohort,
                      const char *why)
{
	uint8_t sha[32];
	char hex[65], json[900];
	struct fw_diag d = {{0}};

	if (fw_store_blob_put(s, (const uint8_t *)list, strlen(list), sha, &d) != FW_OK)
		return -1;
	fw_hex_encode(sha, 32, hex);
	snprintf(json, sizeof(json),
	         "{\"type\":\"vuln.affected\",\"advisory\":\"A-1\",\"at\":1,\"devices\":9,"
	         "\"cohort\":%d,\"counts\":{\"isolated\":0,\"cannot_be_remediated\":0,"
	         "\"being_remediated\":0,\"exposed\":%d,\"remediated\":1},\"list_sha256\":\"%s\"%s}",
	         cohort, exposed, hex, why);
	return rec(s, json);
}

static void t_cohorts(void)
{
	struct fw_key *key = NULL;
	char db[600], dir[700];
	struct fw_store *s = new_log(&key, db, sizeof(db));
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	struct fw_diag d = {{0}};

	if (!s)
		return;
	CHECK_EQ(rec(s, "{\"type\":\"test.first\"}"), FW_OK);
	CHECK_EQ(fw_store_object_put(s, "advisory", "A-1", "{\"advisory\":\"A-1\"}", 0, &d), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"vuln.add\",\"advisory\":\"A-1\"}"), FW_OK);
	CHECK_EQ(rec(s, "{\"type\":\"vuln.add\",\"advisory\":\"A-10\"}"), FW_OK);
	/* right: 2 exposed, 1 remediated */
	CHECK_EQ(cohort_rec(s, "d1 exposed 2.0.0\nd2 exposed 2.1.0\nd3 remediated 2.4.1\n", 2, 3, ""), 0);
	memset(&o, 0, sizeof(o));
	o.advisory = "A-1";
	snprintf(dir, sizeof(dir), "%s/adv-good", harness_tmpdir());
	o.dir = dir;
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_OK);
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(count_code(dir, "vuln.cohort_mismatch"), 0);
	CHECK_EQ(count_code(dir, "file.digest"), 0);
	CHECK_EQ(info.records, 3); /* record 0, vuln.add, vuln.affected; not A-10 */
	fw_bundle_discard(dir);
	/* the exposed devices' why, recounted: as recorded, then not */
	CHECK_EQ(cohort_rec(s, "d1 exposed 2.0.0 eligible\nd2 exposed 2.1.0 cert.expired,"
	                       "target.hw_revision\nd3 remediated 2.4.1\n", 2, 3,
	                    ",\"exposed_why\":{\"eligible\":1,\"no_fixing_release\":0,"
	                    "\"ineligible\":[{\"code\":\"cert.expired\",\"devices\":1},"
	                    "{\"code\":\"target.hw_revision\",\"devices\":1}]}"),
	         0);
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_OK);
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(count_code(dir, "vuln.cohort_mismatch"), 0);
	fw_bundle_discard(dir);
	CHECK_EQ(cohort_rec(s, "d1 exposed 2.0.0 eligible\nd2 exposed 2.1.0 cert.expired\n"
	                       "d3 remediated 2.4.1\n", 2, 3,
	                    ",\"exposed_why\":{\"eligible\":2,\"no_fixing_release\":0,"
	                    "\"ineligible\":[]}"),
	         0);
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_OK);
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(count_code(dir, "vuln.cohort_mismatch"), 1);
	fw_bundle_discard(dir);
	/* wrong: the record counts 1 exposed of a cohort of 2; a list with a
	 * line naming no bucket */
	CHECK_EQ(cohort_rec(s, "d1 exposed 2.0.0\nd2 exposed 2.1.0\nd3 remediated 2.4.1\n", 1, 2, ""), 0);
	CHECK_EQ(cohort_rec(s, "d1 exposed 2.0.0\nd2 hidden 2.1.0\nd3 remediated 2.4.1\n", 1, 3, ""), 0);
	snprintf(dir, sizeof(dir), "%s/adv-bad", harness_tmpdir());
	o.dir = dir;
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_OK);
	json_decref(info.summary);
	CHECK_EQ(fw_bundle_seal(dir, &d), FW_OK);
	CHECK_EQ(count_code(dir, "vuln.cohort_mismatch"), 4); /* why; exposed, cohort; bad line */
	fw_bundle_discard(dir);
	/* an unknown advisory: nothing written */
	o.advisory = "A-404";
	snprintf(dir, sizeof(dir), "%s/adv-none", harness_tmpdir());
	o.dir = dir;
	CHECK_EQ(fw_bundle_export(s, &o, &info, &d), FW_E_NOT_FOUND);
	CHECK(strstr(d.msg, "A-404") != NULL);
	CHECK(access(dir, F_OK) != 0);
	fw_key_free(key);
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"batch_proof_sizes_and_selections", t_batch_proof_sizes},
    {"tampered_files_refused", t_tamper},
    {"device_proofs_verify_alone", t_device_proofs},
    {"refusals_write_nothing", t_refusals},
    {"left_out_records_found", t_incomplete},
    {"advisory_cohort_lists_recounted", t_cohorts},
};
HARNESS_MAIN(tests)
