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

#include "campaign.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"
#include "suit/suit.h"

static double floor_run(uint64_t n, uint64_t t, size_t batch)
{
	static const char *const states[] = {"eligible", "delivered", "installed"};
	struct fw_store *s = NULL;
	struct fw_rollout_row r;
	struct fw_diag d = {{0}};
	uint64_t i, idx = 0;
	uint8_t lh[32] = {0};
	double t0;

	if (fw_store_open(bench_in_dir("floor.db"), 1, &s, &d) != FW_OK ||
	    fw_store_set_scratch(s, &d) != FW_OK ||
	    fw_evidence_setup(s, "bench.fwtrust.example/floor", bench_in_dir("floor-log"), &d) != FW_OK)
		bench_die("floor store", d.msg);
	memset(&r, 0, sizeof(r));
	snprintf(r.campaign, sizeof(r.campaign), "c-0001");
	t0 = bench_now();
	for (i = 0; i < n + t; i++) {
		uint64_t dev = i % n, round = i / n;
		json_t *rec;

		if (i % batch == 0 && fw_store_begin(s, &d) != FW_OK)
			bench_die("floor begin", d.msg);
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
				bench_die("floor append", d.msg);
			json_decref(rec);
			r.rec = idx;
			memcpy(r.rec_lh, lh, 32);
		}
		if (fw_store_rollout_put(s, &r, i >= n, &d) != FW_OK)
			bench_die("floor row", d.msg);
		if ((i + 1) % batch == 0 || i + 1 == n + t)
			if (fw_store_commit(s, &d) != FW_OK)
				bench_die("floor commit", d.msg);
	}
	t0 = bench_now() - t0;
	fw_store_close(s);
	return t0;
}

/* the simulation's last lines (final state and counts, times) */

int main(int argc, char **argv)
{
	bench_name = "bench_rollout";
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
	snprintf(bench_dir, sizeof(bench_dir), "%s/fwtrust-bench-rollout.XXXXXX", base);
	if (mkdtemp(bench_dir) == NULL) {
		perror("bench_rollout: mkdtemp");
		return 1;
	}
	s = bench_campaign_store(campaign);
	batch = p.devices / 10 < FW_SIM_BATCH_MIN   ? FW_SIM_BATCH_MIN
	        : p.devices / 10 > FW_SIM_BATCH_MAX ? FW_SIM_BATCH_MAX
	                                            : (size_t)(p.devices / 10);
	printf("rollout engine: a campaign of %llu simulated devices (3 stages, fail rate %g%% per "
	       "attempt, seed %llu), %zu reports per transaction, SQLite %s\n",
	       (unsigned long long)p.devices, p.fail_rate, (unsigned long long)p.seed, batch,
	       sqlite3_libversion());
	snprintf(simdir, sizeof(simdir), "%s/sim", bench_dir);
	p.dir = simdir;
	tf = bench_now();
	if (fw_rollout_simulate(s, campaign, &p, bench_sim_line, NULL, &sum, &d) != FW_OK)
		bench_die("simulate", d.msg);
	total = bench_now() - tf;
	bench_sim_tail();
	fw_store_close(s);
	bench_rmtree(simdir);
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
	bench_rmtree(bench_dir);
	return 0;
}
