/*
 * bench_rollout: the rollout engine at fleet scale, beside its evidence
 * floor measured in the same run. Not a test: it prints numbers and exits
 * 0 unless something fails.
 *
 * A real store is built with one eligible device (a certificate from a
 * test CA, tests/lib/certgen), a release and its rollback release, and a
 * campaign of three stages (1%, 10%, 100%) approved by an approver. Then:
 *
 *   fwtrust   fw_rollout_simulate of N devices (default 1,000,000; fail
 *             rate 1% per attempt, seed 1): the scratch store and its
 *             fleet of N clones, then the campaign run through the engine
 *             (start, stage entries, delivered and outcome reports, ticks,
 *             retries) until it completes. Every device transition is an
 *             evidence record written with its row in one transaction.
 *   baseline  the evidence floor of the same transitions: as many
 *             rollout.device-like records as the engine wrote, each built
 *             with jansson and appended with fw_evidence_append, each with
 *             its device's rollout row written (fw_store_rollout_put: the
 *             N rows inserted, then updated) in transactions of the
 *             simulation's batch size, on a scratch store set up as the
 *             simulation's (fw_store_set_scratch), in device order. No
 *             reads, no decisions, no counters, no campaign.
 *
 * The ratio is the engine's transitions per second over the floor's.
 * Target of the issue (reported, not enforced): a simulated campaign of
 * 1,000,000 devices in under 60 s, the scratch fleet included.
 *
 * usage: bench_rollout [--devices N] [--fail-rate P] [--seed S] [--dir DIR]
 *   N 1000..10000000
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "certgen.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"
#include "suit/suit.h"

static char dir[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static const char *in_dir(const char *name)
{
	static char p[4][4200];
	static int k;
	char *out = p[k++ % 4];

	snprintf(out, 4200, "%s/%s", dir, name);
	return out;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_rollout: %s: %s\n", what, msg);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	exit(1);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die(path, "cannot write");
}

static struct fw_key *keypair(const char *base)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, in_dir(base), &d) != FW_OK)
		die("key", d.msg);
	return k;
}

static void add_release(struct fw_store *s, struct fw_key *k, const char *version,
                        uint64_t seq, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", ">=2.0.0 <2.4.1", NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t img[4096], *env = NULL;
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
	if (fw_suit_sign(&m, k, &env, &len, &d) != FW_OK)
		die("release", d.msg);
	write_file(in_dir("rel.suit"), env, len);
	write_file(in_dir("rel.bin"), img, sizeof(img));
	free(env);
	if (fw_registry_release_add(s, in_dir("rel.suit"), in_dir("rel.bin"), &t, "bench", &doc,
	                            &idx, &d) != FW_OK)
		die("release add", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
}

/* an operator; returns its key (the caller frees it) */
static struct fw_key *add_op(struct fw_store *s, const char *name, const char *role)
{
	struct fw_diag d = {{0}};
	struct fw_key *k = keypair(name);
	json_t *doc = NULL;
	uint64_t idx;
	char pub[64];

	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (fw_registry_operator_add(s, name, role, in_dir(pub), "bench", &doc, &idx, &d) != FW_OK)
		die("operator", d.msg);
	json_decref(doc);
	return k;
}

/* The real store: a release, its rollback, one eligible device, a campaign
 * whose first stage is approved (the others the simulation approves). */
static struct fw_store *real_store(char campaign[32])
{
	struct certgen_ca *ca = certgen_root("Bench Device CA", -86400, 86400L * 3650);
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_import_stats st;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_key *rk, *approver;
	char rel[65], rb[65], json[1024], text[512], kid[65], csv[4096], *pem;
	json_t *doc = NULL;
	uint64_t idx, rev;
	uint8_t sig[64];
	size_t added;
	int n;

	if (p == NULL || fw_store_open(in_dir("real.db"), 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "bench.fwtrust.example/rollout", in_dir("log"), &d) != FW_OK)
		die("store", d.msg);
	rk = keypair("rel");
	if (fw_registry_key_trust(s, in_dir("rel.pub"), "rel", FW_ROLE_RELEASE_SIGNING, "bench",
	                          &doc, &idx, &d) != FW_OK)
		die("key trust", d.msg);
	json_decref(doc);
	add_release(s, rk, "2.4.1", 42, rel);
	add_release(s, rk, "2.3.9", 41, rb);
	fw_key_free(rk);
	pem = certgen_ca_pem(ca);
	write_file(in_dir("ca.pem"), pem, strlen(pem));
	free(pem);
	if (fw_registry_ca_add(s, in_dir("ca.pem"), "bench", &added, &rev, &idx, &d) != FW_OK)
		die("ca add", d.msg);
	pem = certgen_leaf(ca, "ctl-0001", NULL, 7, -3600, 86400L * 365);
	n = snprintf(csv, sizeof(csv),
	             "device_id,product,family,hw_revision,fw_version,cohorts,support_until,"
	             "lifecycle,certificate\nctl-0001,controller,ctl-a,B,2.3.0,eu,2034-12-31,"
	             "active,\"%s\"\n",
	             pem);
	free(pem);
	certgen_ca_free(ca);
	if (n < 0 || (size_t)n >= sizeof(csv))
		die("fleet", "too long");
	write_file(in_dir("fleet.csv"), csv, (size_t)n);
	if (fw_registry_device_import(s, in_dir("fleet.csv"), "bench", NULL, NULL, &st, &d) != FW_OK)
		die("import", d.msg);
	fw_key_free(add_op(s, "rm", FW_OP_RELEASE_MANAGER));
	approver = add_op(s, "ap", FW_OP_APPROVER);
	snprintf(json, sizeof(json),
	         "{\"name\":\"bench\",\"release\":\"%.16s\",\"stages\":["
	         "{\"name\":\"canary\",\"size\":{\"percent\":1},\"approvals\":1,\"soak_s\":3600},"
	         "{\"name\":\"early\",\"size\":{\"percent\":10},\"approvals\":1,\"soak_s\":7200},"
	         "{\"name\":\"rest\",\"size\":{\"percent\":100}}],"
	         "\"pause\":{\"failure_rate\":{\"percent\":5,\"min_reports\":100}},"
	         "\"rollback\":{\"release\":\"%.16s\"}}",
	         rel, rb);
	if (fw_campaign_policy_parse(json, strlen(json), "bench", p, &d) != FW_OK ||
	    fw_campaign_create(s, p, "rm", "bench", &doc, &idx, &d) != FW_OK)
		die("campaign", d.msg);
	free(p);
	snprintf(campaign, 32, "%s", json_string_value(json_object_get(doc, "id")));
	if (fw_campaign_approval_text(doc, 0, text, sizeof(text)) != FW_OK ||
	    fw_key_sign(approver, (const uint8_t *)text, strlen(text), sig, &d) != FW_OK)
		die("approve", d.msg);
	json_decref(doc);
	doc = NULL;
	fw_key_id_hex(approver, kid);
	if (fw_campaign_approve(s, campaign, 0, kid, sig, "bench", &doc, &idx, &d) != FW_OK)
		die("approve", d.msg);
	json_decref(doc);
	fw_key_free(approver);
	return s;
}

/* The floor: t records of the engine's shape, each with a row write. */
static double floor_run(uint64_t n, uint64_t t, size_t batch)
{
	static const char *const states[] = {"eligible", "delivered", "installed"};
	struct fw_store *s = NULL;
	struct fw_rollout_row r;
	struct fw_diag d = {{0}};
	uint64_t i, idx = 0;
	uint8_t lh[32] = {0};
	double t0;

	if (fw_store_open(in_dir("floor.db"), 1, &s, &d) != FW_OK ||
	    fw_store_set_scratch(s, &d) != FW_OK ||
	    fw_evidence_setup(s, "bench.fwtrust.example/floor", in_dir("floor-log"), &d) != FW_OK)
		die("floor store", d.msg);
	memset(&r, 0, sizeof(r));
	snprintf(r.campaign, sizeof(r.campaign), "c-0001");
	t0 = now();
	for (i = 0; i < n + t; i++) {
		uint64_t dev = i % n, round = i / n;
		json_t *rec;

		if (i % batch == 0 && fw_store_begin(s, &d) != FW_OK)
			die("floor begin", d.msg);
		snprintf(r.device, sizeof(r.device), "sim-%07llu", (unsigned long long)dev + 1);
		r.state = (int)(round % 4); /* pending, then every update moves it */
		r.stage = 2;
		r.attempts = round > 1;
		r.due_ms = (int64_t)round * 1000;
		if (i >= n) { /* the transitions: a record each */
			rec = fw_evidence_record_new("rollout.device", "bench");
			json_object_set_new(rec, "campaign", json_string(r.campaign));
			json_object_set_new(rec, "device", json_string(r.device));
			json_object_set_new(rec, "stage", json_integer(r.stage));
			json_object_set_new(rec, "from", json_string(states[(round - 1) % 3]));
			json_object_set_new(rec, "to", json_string(states[round % 3]));
			json_object_set_new(rec, "cause", json_string("report"));
			json_object_set_new(rec, "attempts", json_integer(r.attempts));
			json_object_set_new(rec, "failures", json_integer(0));
			if (fw_evidence_record_ref(rec, idx, lh) != FW_OK ||
			    fw_evidence_append(s, rec, &idx, lh, &d) != FW_OK)
				die("floor append", d.msg);
			json_decref(rec);
			r.rec = idx;
			memcpy(r.rec_lh, lh, 32);
		}
		if (fw_store_rollout_put(s, &r, i >= n, &d) != FW_OK)
			die("floor row", d.msg);
		if ((i + 1) % batch == 0 || i + 1 == n + t)
			if (fw_store_commit(s, &d) != FW_OK)
				die("floor commit", d.msg);
	}
	t0 = now() - t0;
	fw_store_close(s);
	return t0;
}

/* the simulation's last lines (final state and counts, times) */
#define TAIL 6
static char tail[TAIL][1024];
static int ntail;

static void on_line(void *arg, int kind, const char *line)
{
	(void)arg;
	(void)kind;
	snprintf(tail[ntail++ % TAIL], sizeof(tail[0]), "%s", line);
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct fw_sim_params p;
	struct fw_sim_summary sum;
	struct fw_store *s;
	struct fw_diag d = {{0}};
	char campaign[32], simdir[4200];
	double tf, total, rate_e, rate_f;
	size_t batch;
	int i;

	memset(&p, 0, sizeof(p));
	p.devices = 1000000;
	p.fail_rate = 1.0;
	p.seed = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--devices") == 0 && i + 1 < argc)
			p.devices = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--fail-rate") == 0 && i + 1 < argc)
			p.fail_rate = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			p.seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else {
			fprintf(stderr, "usage: bench_rollout [--devices N] [--fail-rate P] [--seed S] "
			                "[--dir DIR]\n");
			return 2;
		}
	}
	if (p.devices < 1000 || p.devices > FW_SIM_MAX_DEVICES) {
		fprintf(stderr, "bench_rollout: --devices 1000..%u\n", FW_SIM_MAX_DEVICES);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/fwtrust-bench-rollout.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("bench_rollout: mkdtemp");
		return 1;
	}
	s = real_store(campaign);
	batch = p.devices / 10 < FW_SIM_BATCH_MIN   ? FW_SIM_BATCH_MIN
	        : p.devices / 10 > FW_SIM_BATCH_MAX ? FW_SIM_BATCH_MAX
	                                            : (size_t)(p.devices / 10);
	printf("rollout engine: a campaign of %llu simulated devices (3 stages, fail rate %g%% per "
	       "attempt, seed %llu), %zu reports per transaction, SQLite %s\n",
	       (unsigned long long)p.devices, p.fail_rate, (unsigned long long)p.seed, batch,
	       sqlite3_libversion());
	snprintf(simdir, sizeof(simdir), "%s/sim", dir);
	p.dir = simdir;
	tf = now();
	if (fw_rollout_simulate(s, campaign, &p, on_line, NULL, &sum, &d) != FW_OK)
		die("simulate", d.msg);
	total = now() - tf;
	for (i = ntail > TAIL ? ntail - TAIL : 0; i < ntail; i++)
		printf("  | %s\n", tail[i % TAIL]);
	fw_store_close(s);
	nftw(simdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	sync();
	tf = floor_run(p.devices, sum.transitions, batch);
	rate_e = (double)sum.transitions / sum.engine_s;
	rate_f = (double)(sum.transitions) / tf;
	printf("device transitions (record + row each)       seconds  transitions/s   ratio\n");
	printf("  evidence floor: append + row (baseline)   %8.2f     %10.0f   1.00x\n", tf, rate_f);
	printf("  fwtrust rollout engine                    %8.2f     %10.0f   %.2fx\n",
	       sum.engine_s, rate_e, rate_e / rate_f);
	printf("  engine: %llu reports (%.0f/s), %llu transitions, %llu evidence records; "
	       "start %.1f s, ticks %.1f s, delivered %.1f s, outcomes %.1f s\n",
	       (unsigned long long)sum.reports, (double)sum.reports / sum.engine_s,
	       (unsigned long long)sum.transitions, (unsigned long long)sum.records, sum.start_s,
	       sum.ticks_s, sum.delivered_s, sum.outcomes_s);
	printf("  simulation with its scratch fleet: %.1f s (fleet %.1f s)   target < 60 s for "
	       "1,000,000: %s\n",
	       total, sum.fleet_s,
	       p.devices >= 1000000
	           ? (total * 1e6 / (double)p.devices < 60.0 ? "met" : "not met")
	           : "(scaled) n/a");
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
