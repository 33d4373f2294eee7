/*
 * bench_bundle: an evidence bundle of a campaign of N devices (default
 * 1,000,000), exported and verified, each beside a floor measured in the
 * same run on the same data. Not a test: it prints numbers and exits 0
 * unless something fails.
 *
 * The campaign is simulated (fw_rollout_simulate, as bench_rollout: three
 * stages, 1% failing attempts) into a kept scratch store, whose log then
 * holds about 3 records per device. Then:
 *
 *   export    fw_bundle_export of the campaign (both passes over the log,
 *             records.jsonl, the batch proof, consistency proofs, keys,
 *             summary.json, report.html) and fw_bundle_seal (manifest:
 *             SHA-256 of every file). No PDF: that is Chromium's time.
 *     floor   the same records read from the store (fw_evidence_scan) and
 *             written to one file, then that file's SHA-256: the I/O and
 *             hashing any export costs.
 *   verify    fw_bundle_verify of the bundle (manifest, checkpoints, every
 *             record parsed, hashed and checked against the batch proof,
 *             references, approvals, the report recomputed).
 *     floor   records.jsonl read line by line, each record's leaf hash
 *             computed and parsed with jansson: what any verifier must do.
 *
 * The ratios are floor time over fwtrust's time (1.00x: as fast as the
 * floor). Target of the issue (reported, not enforced): a 1,000,000-device
 * campaign exports and verifies in under a minute each.
 *
 * With --fwtrust PATH the command line is timed too, as an auditor runs it:
 * `fwtrust audit export` (report.pdf by headless Chromium included) and
 * `fwtrust audit verify-bundle --key`, on the same store.
 *
 * usage: bench_bundle [--devices N] [--dir DIR] [--fwtrust PATH]   N 1000..10000000
 */
#define _GNU_SOURCE
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



struct floor_out {
	FILE *f;
	uint64_t n;
};

static int floor_write(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                       size_t len)
{
	struct floor_out *o = arg;

	(void)lh;
	fprintf(o->f, "{\"idx\":%llu,\"record\":", (unsigned long long)idx);
	fwrite(rec, 1, len, o->f);
	fputs("}\n", o->f);
	o->n++;
	return 0;
}

/* the export floor: every record of the log to one file, and its SHA-256 */
static double export_floor(struct fw_store *s, const char *path)
{
	struct floor_out o = {NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t sha[32];
	uint64_t size;
	double t = bench_now();

	o.f = fopen(path, "w");
	if (o.f == NULL)
		bench_die("floor", path);
	setvbuf(o.f, NULL, _IOFBF, 1 << 20);
	if (fw_evidence_scan(s, 0, floor_write, &o, &d) != FW_OK)
		bench_die("floor scan", d.msg);
	if (fclose(o.f) != 0 || fw_sha256_file(path, sha, &size, &d) != FW_OK)
		bench_die("floor sha256", d.msg);
	return bench_now() - t;
}

/* the verify floor: each line's record hashed as a leaf and parsed */
static double verify_floor(const char *path, uint64_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint8_t h[32];
	double t = bench_now();

	if (f == NULL)
		bench_die("verify floor", path);
	*n = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		char *rec = strstr(line, ",\"record\":");
		size_t rl;
		json_t *j;

		if (rec == NULL)
			bench_die("verify floor", "malformed line");
		rec += 10;
		rl = (size_t)(line + len - 2 - rec);
		fw_evidence_leaf_hash((const uint8_t *)rec, rl, h);
		j = json_loadb(rec, rl, 0, NULL);
		if (j == NULL)
			bench_die("verify floor", "not JSON");
		json_decref(j);
		(*n)++;
	}
	free(line);
	fclose(f);
	return bench_now() - t;
}

static void count_finding(void *arg, const struct fw_bundle_finding *f)
{
	(*(uint64_t *)arg)++;
	fprintf(stderr, "bench_bundle: finding %s %s: %s\n", f->code, f->file, f->detail);
}

int main(int argc, char **argv)
{
	bench_name = "bench_bundle";
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *cli = NULL;
	struct fw_sim_params p;
	struct fw_sim_summary sum;
	struct fw_store *s, *sim;
	struct fw_diag d = {{0}};
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	struct fw_bundle_result res;
	char campaign[32], simdir[4200], db[4300], bdir[4300], fpath[4300], rpath[4400];
	double t0, t_export, t_seal, t_verify, f_export, f_verify;
	uint64_t findings = 0, floor_n = 0, log_size = 0;
	int i;

	memset(&p, 0, sizeof(p));
	p.devices = 1000000;
	p.fail_rate = 1.0;
	p.seed = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--devices") == 0 && i + 1 < argc)
			p.devices = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--fwtrust") == 0 && i + 1 < argc)
			cli = argv[++i];
		else {
			fprintf(stderr, "usage: bench_bundle [--devices N] [--dir DIR] [--fwtrust PATH]\n");
			return 2;
		}
	}
	if (p.devices < 1000 || p.devices > FW_SIM_MAX_DEVICES) {
		fprintf(stderr, "bench_bundle: --devices 1000..%u\n", FW_SIM_MAX_DEVICES);
		return 2;
	}
	snprintf(bench_dir, sizeof(bench_dir), "%s/fwtrust-bench-bundle.XXXXXX", base);
	if (mkdtemp(bench_dir) == NULL) {
		perror("bench_bundle: mkdtemp");
		return 1;
	}
	s = bench_campaign_store(campaign);
	snprintf(simdir, sizeof(simdir), "%s/sim", bench_dir);
	p.dir = simdir;
	t0 = bench_now();
	if (fw_rollout_simulate(s, campaign, &p, bench_sim_line, NULL, &sum, &d) != FW_OK)
		bench_die("simulate", d.msg);
	fw_store_close(s);
	printf("evidence bundle: a campaign of %llu simulated devices (%llu transitions, %llu "
	       "records; simulated in %.1f s)\n",
	       (unsigned long long)p.devices, (unsigned long long)sum.transitions,
	       (unsigned long long)sum.records, bench_now() - t0);
	snprintf(db, sizeof(db), "%s/sim.db", simdir);
	if (fw_store_open(db, 0, &sim, &d) != FW_OK)
		bench_die("open", d.msg);
	if (fw_evidence_size(sim, &log_size, NULL, &d) != FW_OK)
		bench_die("size", d.msg);
	/* warm the page cache for both runs alike */
	snprintf(fpath, sizeof(fpath), "%s/floor.jsonl", bench_dir);
	(void)export_floor(sim, fpath);
	remove(fpath);
	f_export = export_floor(sim, fpath);
	snprintf(bdir, sizeof(bdir), "%s/bundle", bench_dir);
	memset(&o, 0, sizeof(o));
	o.campaign = campaign;
	o.dir = bdir;
	t0 = bench_now();
	if (fw_bundle_export(sim, &o, &info, &d) != FW_OK)
		bench_die("export", d.msg);
	t_export = bench_now() - t0;
	t0 = bench_now();
	if (fw_bundle_seal(bdir, &d) != FW_OK)
		bench_die("seal", d.msg);
	t_seal = bench_now() - t0;
	fw_store_close(sim);
	snprintf(rpath, sizeof(rpath), "%s/records.jsonl", bdir);
	f_verify = verify_floor(rpath, &floor_n);
	t0 = bench_now();
	if (fw_bundle_verify(bdir, NULL, NULL, count_finding, &findings, NULL, NULL, &res, &d) !=
	    FW_OK)
		bench_die("verify", d.msg);
	t_verify = bench_now() - t0;
	fw_bundle_result_clear(&res);
	json_decref(info.summary);
	printf("  log %llu records; bundle %llu records, %llu member devices, %llu findings\n",
	       (unsigned long long)log_size, (unsigned long long)info.records,
	       (unsigned long long)info.devices, (unsigned long long)findings);
	printf("                                                 seconds   ratio (floor/fwtrust)\n");
	printf("  floor: log scan to one file + SHA-256 (baseline) %7.2f   1.00x\n", f_export);
	printf("  fwtrust audit export (library) + manifest        %7.2f   %.2fx   "
	       "(export %.2f, manifest %.2f)\n",
	       t_export + t_seal, f_export / (t_export + t_seal), t_export, t_seal);
	printf("  floor: records.jsonl hashed + parsed (baseline)  %7.2f   1.00x\n", f_verify);
	printf("  fwtrust audit verify-bundle (library)            %7.2f   %.2fx\n", t_verify,
	       f_verify / t_verify);
	if (cli) {
		char cmd[20000], out[4400], pub[4400];
		double c_export, c_verify;
		int rc;

		snprintf(out, sizeof(out), "%s/cli-bundle", bench_dir);
		snprintf(pub, sizeof(pub), "%s/sim-log.pub", simdir);
		snprintf(cmd, sizeof(cmd), "'%s' audit export --campaign '%s' --out '%s' --db '%s' >/dev/null",
		         cli, campaign, out, db);
		t0 = bench_now();
		rc = system(cmd);
		c_export = bench_now() - t0;
		if (rc != 0)
			bench_die("fwtrust audit export", cmd);
		snprintf(cmd, sizeof(cmd), "'%s' audit verify-bundle '%s' --key '%s' >/dev/null", cli,
		         out, pub);
		t0 = bench_now();
		rc = system(cmd);
		c_verify = bench_now() - t0;
		if (rc != 0)
			bench_die("fwtrust audit verify-bundle", cmd);
		printf("  fwtrust audit export (CLI, report.pdf included)  %7.2f\n", c_export);
		printf("  fwtrust audit verify-bundle --key (CLI)          %7.2f\n", c_verify);
		t_export = c_export > t_export + t_seal ? c_export - t_seal : t_export;
		t_verify = c_verify > t_verify ? c_verify : t_verify;
	}
	printf("  target: export and verify of 1,000,000 devices in < 60 s each: %s\n",
	       p.devices >= 1000000
	           ? (t_export + t_seal < 60.0 && t_verify < 60.0 ? "met" : "not met")
	           : "(scaled) n/a");
	bench_rmtree(bench_dir);
	return findings ? 1 : 0;
}
