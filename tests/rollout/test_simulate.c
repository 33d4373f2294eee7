/*
 * The campaign simulator (src/rollout/simulate.c) on a real store: the
 * same seed gives the same course, a clean run completes, a high failure
 * rate pauses, an integrity failure quarantines, the real store is only
 * read, every parameter out of range is refused, and every record the
 * engine wrote in the scratch store is in canonical form.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certgen.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "suit/suit.h"

#define DAY 86400L
#define N 2000

static struct fw_store *s;
static char rel_id[65], rb_id[65], camp[32], narrow[32];

static struct fw_key *keypair(const char *base)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, harness_tmp_path(base), &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "key: %s", d.msg);
	return k;
}

static void add_release(struct fw_key *signer, const char *version, uint64_t seq, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", NULL, NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t *env = NULL, img[512];
	size_t len = 0;
	json_t *doc = NULL;
	uint64_t idx;

	memset(img, (int)seq, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = seq;
	m.version = version;
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	CHECK_EQ(fw_suit_sign(&m, signer, &env, &len, &d), FW_OK);
	CHECK_EQ(harness_write(harness_tmp_path("r.suit"), env, len), 0);
	CHECK_EQ(harness_write(harness_tmp_path("r.bin"), img, sizeof(img)), 0);
	free(env);
	if (fw_registry_release_add(s, harness_tmp_path("r.suit"), harness_tmp_path("r.bin"), &t,
	                            "rm", &doc, &idx,
	                            &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "release: %s", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
}

static void add_op(const char *name, const char *role)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;
	char pub[64];

	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (fw_registry_operator_add(s, name, role, harness_tmp_path(pub), "admin", &doc, &idx,
	                             &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "operator %s: %s", name, d.msg);
	json_decref(doc);
}

/* A campaign of 2.4.1 as alice; bob approves stage 0 only. */
static void create(char id[32], const char *more, struct fw_key *bob)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_diag d = {{0}};
	char json[2048], text[512], kid[65];
	json_t *doc = NULL;
	uint8_t sig[64];
	uint64_t idx;

	snprintf(json, sizeof(json),
	         "{\"name\":\"sim\",\"release\":\"%.12s\",\"stages\":["
	         "{\"name\":\"canary\",\"size\":{\"percent\":5},\"approvals\":1,\"soak_s\":3600},"
	         "{\"name\":\"rest\",\"size\":{\"percent\":100},\"approvals\":1}],"
	         "\"pause\":{\"failure_rate\":{\"percent\":10,\"min_reports\":50}},"
	         "\"rollback\":{\"release\":\"%.12s\"}%s}",
	         rel_id, rb_id, more);
	if (fw_campaign_policy_parse(json, strlen(json), "test", p, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "policy: %s", d.msg);
	if (fw_campaign_create(s, p, "alice", "test", &doc, &idx, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "create: %s", d.msg);
	snprintf(id, 32, "%s", json_string_value(json_object_get(doc, "id")));
	CHECK_EQ(fw_campaign_approval_text(doc, 0, text, sizeof(text)), FW_OK);
	json_decref(doc);
	CHECK_EQ(fw_key_sign(bob, (const uint8_t *)text, strlen(text), sig, &d), FW_OK);
	fw_key_id_hex(bob, kid);
	doc = NULL;
	if (fw_campaign_approve(s, id, 0, kid, sig, "test", &doc, &idx, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "approve: %s", d.msg);
	json_decref(doc);
	free(p);
}

/* The store: releases 2.4.1 and 2.3.9, a device CA, three devices (the
 * first without a certificate: ineligible, so the template is the
 * second), a campaign, and one whose targeting no device matches. */
static void setup(void)
{
	struct certgen_ca *ca;
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	struct fw_key *rk, *k, *bob;
	json_t *doc = NULL;
	uint64_t idx, rev;
	size_t added, len = 0;
	char csv[8192], *pem;
	int i;

	if (s)
		return;
	CHECK_EQ(fw_store_open(harness_tmp_path("real.db"), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/simulate", harness_tmp_path("log"), &d), FW_OK);
	rk = keypair("rel");
	CHECK_EQ(fw_registry_key_trust(s, harness_tmp_path("rel.pub"), "rel",
	                               FW_ROLE_RELEASE_SIGNING, "sec",
	                               &doc, &idx, &d),
	         FW_OK);
	json_decref(doc);
	add_release(rk, "2.4.1", 42, rel_id);
	add_release(rk, "2.3.9", 43, rb_id);
	fw_key_free(rk);
	k = keypair("alice");
	fw_key_free(k);
	bob = keypair("bob");
	add_op("alice", FW_OP_RELEASE_MANAGER);
	add_op("bob", FW_OP_APPROVER);
	ca = certgen_root("Device CA", -10 * DAY, 1000 * DAY);
	pem = certgen_ca_pem(ca);
	CHECK_EQ(harness_write(harness_tmp_path("ca.pem"), pem, strlen(pem)), 0);
	free(pem);
	CHECK_EQ(fw_registry_ca_add(s, harness_tmp_path("ca.pem"), "sec", &added, &rev, &idx, &d),
	         FW_OK);
	len = (size_t)snprintf(csv, sizeof(csv),
	                       "device_id,product,family,hw_revision,fw_version,cohorts,"
	                       "support_until,lifecycle,certificate\n");
	for (i = 0; i < 3; i++) {
		char id[32], *leaf = NULL;

		snprintf(id, sizeof(id), "ctl-%03d", i);
		if (i > 0)
			leaf = certgen_leaf(ca, id, NULL, 10 + i, -DAY, 100 * DAY);
		len += (size_t)snprintf(csv + len, sizeof(csv) - len,
		                        "%s,controller,ctl-a,B,2.3.0,eu,2031-12-31,active,\"%s\"\n", id,
		                        leaf ? leaf : "");
		free(leaf);
	}
	CHECK(len < sizeof(csv));
	CHECK_EQ(harness_write(harness_tmp_path("fleet.csv"), csv, len), 0);
	if (fw_registry_device_import(s, harness_tmp_path("fleet.csv"), "ops", NULL, NULL, &st,
	                              &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "import: %s", d.msg);
	certgen_ca_free(ca);
	create(camp, "", bob);
	create(narrow, ",\"targeting\":{\"product\":\"toaster\"}", bob);
	fw_key_free(bob);
}

/* the course lines, one after the other */
struct out {
	char *text;
	size_t len, cap;
	int info;
};

static void keep_line(void *arg, int kind, const char *line)
{
	struct out *o = arg;
	size_t n = strlen(line);

	if (kind != FW_SIM_COURSE) {
		o->info++;
		return;
	}
	if (o->len + n + 2 > o->cap) {
		o->cap = (o->len + n + 2) * 2;
		o->text = realloc(o->text, o->cap);
		CHECK(o->text != NULL);
	}
	memcpy(o->text + o->len, line, n);
	o->len += n;
	o->text[o->len++] = '\n';
	o->text[o->len] = 0;
}

static int run(const char *id, double rate, uint64_t k, uint64_t seed, const char *dir,
               struct out *o, struct fw_sim_summary *sum, struct fw_diag *d)
{
	struct fw_sim_params p;

	memset(&p, 0, sizeof(p));
	p.devices = N;
	p.fail_rate = rate;
	p.integrity_failures = k;
	p.seed = seed;
	p.dir = dir;
	p.batch = 500;
	memset(o, 0, sizeof(*o));
	return fw_rollout_simulate(s, id, &p, keep_line, o, sum, d);
}

static const char *state_of(const char *id)
{
	static char out[32];
	json_t *doc = NULL;

	CHECK_EQ(fw_campaign_get(s, id, &doc, NULL), FW_OK);
	snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(doc, "state")));
	json_decref(doc);
	return out;
}

static void t_deterministic(void)
{
	struct fw_sim_summary a, b, c;
	struct out oa, ob, oc;
	struct fw_diag d = {{0}};
	uint64_t before, after;

	setup();
	CHECK_EQ(fw_evidence_size(s, &before, NULL, &d), FW_OK);
	if (run(camp, 1.0, 0, 42, NULL, &oa, &a, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "simulate: %s", d.msg);
	CHECK_EQ(run(camp, 1.0, 0, 42, NULL, &ob, &b, &d), FW_OK);
	CHECK_EQ(run(camp, 1.0, 0, 43, NULL, &oc, &c, &d), FW_OK);
	/* the same seed, the same course, line by line; another seed, another */
	CHECK(oa.len > 0 && oa.len == ob.len && memcmp(oa.text, ob.text, oa.len) == 0);
	CHECK(oa.len != oc.len || memcmp(oa.text, oc.text, oa.len) != 0);
	CHECK(oa.info >= 2); /* wall time and scratch directory, apart */
	CHECK(strcmp(a.state, "completed") == 0);
	CHECK_EQ(a.devices, N);
	CHECK_EQ(a.counts[FW_U_INSTALLED], N);
	CHECK_EQ(a.stages_entered, 2);
	CHECK_EQ(a.simulated_approvals, 1);
	CHECK_EQ(a.pauses, 0);
	CHECK_EQ(a.transitions, b.transitions);
	CHECK_EQ(a.reports, b.reports);
	/* at least: eligible, delivered, installed per device */
	CHECK(a.transitions >= 3 * (uint64_t)N);
	CHECK(a.records > a.transitions);
	CHECK(strstr(oa.text, "of ctl-001 (") != NULL); /* ctl-000 has no certificate */
	CHECK(strstr(oa.text, "stage 1 (rest): 0 of 1 approval(s) given, 1 simulated") != NULL);
	CHECK(strstr(oa.text, "stage 0 (canary) entered") != NULL);
	CHECK(strstr(oa.text, "stage 1 (rest) entered") != NULL);
	CHECK(strstr(oa.text, "campaign c-0001 completed") != NULL);
	/* the real store: read only */
	CHECK_EQ(fw_evidence_size(s, &after, NULL, &d), FW_OK);
	CHECK_EQ(after, before);
	CHECK(strcmp(state_of(camp), "ready") == 0);
	free(oa.text);
	free(ob.text);
	free(oc.text);
}

/* A third of the attempts fail: the campaign pauses and is resumed, and
 * ends aborted (stuck below the success threshold, or after the last
 * resume the simulated operator allows) or rolled back. */
static void t_pauses(void)
{
	struct fw_sim_summary a;
	struct out o;
	struct fw_diag d = {{0}};

	setup();
	if (run(camp, 33.3, 0, 7, NULL, &o, &a, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "simulate: %s", d.msg);
	if (a.aborted == 0 && a.rolled_back == 0)
		fputs(o.text, stderr); /* the course, to see why */
	CHECK(a.pauses >= 1);
	CHECK(a.resumes >= 1 && a.resumes <= FW_SIM_MAX_RESUMES);
	CHECK(strstr(o.text, "PAUSED: failure rate") != NULL);
	CHECK(strstr(o.text, "the operator looks and resumes") != NULL);
	CHECK(strstr(o.text, "the operator aborts the campaign") != NULL);
	CHECK(a.aborted || a.rolled_back);
	CHECK(a.counts[FW_U_INSTALLED] < N);
	CHECK(a.quarantined > 0);
	free(o.text);
}

/* One integrity failure: the campaign pauses, the device is quarantined;
 * resumed, the campaign completes without it. */
static void t_integrity(void)
{
	struct fw_sim_summary a;
	struct out o;
	struct fw_diag d = {{0}};

	setup();
	if (run(camp, 0.0, 1, 5, NULL, &o, &a, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "simulate: %s", d.msg);
	CHECK_EQ(a.integrity_failures, 1);
	CHECK_EQ(a.quarantined, 1);
	CHECK_EQ(a.pauses, 1);
	CHECK_EQ(a.resumes, 1);
	CHECK(strstr(o.text, "PAUSED: integrity failure reported by sim-") != NULL);
	CHECK(strstr(o.text, "1 device(s) quarantined: sim-") != NULL);
	CHECK(strcmp(a.state, "completed") == 0);
	CHECK_EQ(a.counts[FW_U_INSTALLED], N - 1);
	CHECK_EQ(a.counts[FW_U_FAILED], 1);
	free(o.text);
}

static int canonical_record(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                            size_t len)
{
	uint64_t *n = arg;
	json_t *j = json_loadb((const char *)rec, len, 0, NULL);
	char *c = NULL;
	size_t clen = 0;

	(void)idx;
	(void)lh;
	CHECK(j != NULL);
	CHECK_EQ(fw_json_canonical(j, &c, &clen, NULL), FW_OK);
	CHECK(clen == len && memcmp(c, rec, len) == 0);
	if (strcmp(json_string_value(json_object_get(j, "type")), "rollout.device") == 0)
		n[0]++;
	n[1]++;
	free(c);
	json_decref(j);
	return 0;
}

/* --keep: the scratch store stays; each of its records is canonical JSON
 * (the engine writes rollout.device records directly) and there is one
 * rollout.device record per device transition. */
static void t_keep(void)
{
	struct fw_sim_summary a;
	struct fw_store *k = NULL;
	struct out o;
	struct fw_diag d = {{0}};
	uint64_t n[2] = {0, 0};
	const char *dir = harness_tmp_path("kept");

	setup();
	if (run(camp, 20.0, 2, 9, dir, &o, &a, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "simulate: %s", d.msg);
	free(o.text);
	CHECK_EQ(fw_store_open(harness_tmp_path("kept/sim.db"), 0, &k, &d), FW_OK);
	CHECK_EQ(fw_evidence_scan(k, 0, canonical_record, n, &d), FW_OK);
	CHECK_EQ(n[0], a.transitions);
	CHECK_EQ(n[1], a.records + 1); /* and the simulation.setup record */
	fw_store_close(k);
	/* a directory that holds a simulation already */
	CHECK_EQ(run(camp, 1.0, 0, 9, dir, &o, &a, &d), FW_E_EXISTS);
	CHECK(strstr(d.msg, "holds a simulation already") != NULL);
	free(o.text);
}

static void t_refusals(void)
{
	struct fw_sim_params p;
	struct fw_sim_summary a;
	struct fw_diag d = {{0}};

	setup();
	memset(&p, 0, sizeof(p));
	p.devices = 10;
	CHECK_EQ(fw_rollout_simulate(s, "c-9999", &p, NULL, NULL, &a, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_rollout_simulate(s, narrow, &p, NULL, NULL, &a, &d), FW_E_NOT_FOUND);
	CHECK(strstr(d.msg, "no device of the registry is eligible") != NULL);
	p.devices = 0;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "devices") != NULL);
	p.devices = FW_SIM_MAX_DEVICES + 1ULL;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	p.devices = 10;
	p.fail_rate = 100.5;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "fail rate") != NULL);
	p.fail_rate = -1;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	p.fail_rate = 0;
	p.integrity_failures = 11;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "integrity failures") != NULL);
	p.integrity_failures = 0;
	p.batch = FW_SIM_MAX_BATCH + 1;
	CHECK_EQ(fw_rollout_simulate(s, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	CHECK_EQ(fw_rollout_simulate(NULL, camp, &p, NULL, NULL, &a, &d), FW_E_ARG);
	/* and nothing of it reached the real store */
	CHECK(strcmp(state_of(camp), "ready") == 0);
}

static void t_cleanup(void)
{
	fw_store_close(s);
	s = NULL;
}

static const struct harness_test tests[] = {
    {"deterministic", t_deterministic},
    {"pauses", t_pauses},
    {"integrity", t_integrity},
    {"keep", t_keep},
    {"refusals", t_refusals},
    {"cleanup", t_cleanup},
};

HARNESS_MAIN(tests)
