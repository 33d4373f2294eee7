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
	fprintf(stderr, "bench_bundle: %s: %s\n", what, msg);
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
#define TAIL 6
static char tail[TAIL][1024];
static int ntail;

static void on_line(void *arg, int kind, const char *line)
{
	(void)arg;
	(void)kind;
	snprintf(tail[ntail++ % TAIL], sizeof(tail[0]), "%s", line);
}


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
	double t = now();

	o.f = fopen(path, "w");
	if (o.f == NULL)
		die("floor", path);
	setvbuf(o.f, NULL, _IOFBF, 1 << 20);
	if (fw_evidence_scan(s, 0, floor_write, &o, &d) != FW_OK)
		die("floor scan", d.msg);
	if (fclose(o.f) != 0 || fw_sha256_file(path, sha, &size, &d) != FW_OK)
		die("floor sha256", d.msg);
	return now() - t;
}

/* the verify floor: each line's record hashed as a leaf and parsed */
static double verify_floor(const char *path, uint64_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint8_t h[32];
	double t = now();

	if (f == NULL)
		die("verify floor", path);
	*n = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		char *rec = strstr(line, ",\"record\":");
		size_t rl;
		json_t *j;

		if (rec == NULL)
			die("verify floor", "malformed line");
		rec += 10;
		rl = (size_t)(line + len - 2 - rec);
		fw_evidence_leaf_hash((const uint8_t *)rec, rl, h);
		j = json_loadb(rec, rl, 0, NULL);
		if (j == NULL)
			die("verify floor", "not JSON");
		json_decref(j);
		(*n)++;
	}
	free(line);
	fclose(f);
	return now() - t;
}

static void count_finding(void *arg, const struct fw_bundle_finding *f)
{
	(*(uint64_t *)arg)++;
	fprintf(stderr, "bench_bundle: finding %s %s: %s\n", f->code, f->file, f->detail);
}

int main(int argc, char **argv)
{
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
	snprintf(dir, sizeof(dir), "%s/fwtrust-bench-bundle.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("bench_bundle: mkdtemp");
		return 1;
	}
	s = real_store(campaign);
	snprintf(simdir, sizeof(simdir), "%s/sim", dir);
	p.dir = simdir;
	t0 = now();
	if (fw_rollout_simulate(s, campaign, &p, on_line, NULL, &sum, &d) != FW_OK)
		die("simulate", d.msg);
	fw_store_close(s);
	printf("evidence bundle: a campaign of %llu simulated devices (%llu transitions, %llu "
	       "records; simulated in %.1f s)\n",
	       (unsigned long long)p.devices, (unsigned long long)sum.transitions,
	       (unsigned long long)sum.records, now() - t0);
	snprintf(db, sizeof(db), "%s/sim.db", simdir);
	if (fw_store_open(db, 0, &sim, &d) != FW_OK)
		die("open", d.msg);
	if (fw_evidence_size(sim, &log_size, NULL, &d) != FW_OK)
		die("size", d.msg);
	/* warm the page cache for both runs alike */
	snprintf(fpath, sizeof(fpath), "%s/floor.jsonl", dir);
	(void)export_floor(sim, fpath);
	remove(fpath);
	f_export = export_floor(sim, fpath);
	snprintf(bdir, sizeof(bdir), "%s/bundle", dir);
	memset(&o, 0, sizeof(o));
	o.campaign = campaign;
	o.dir = bdir;
	t0 = now();
	if (fw_bundle_export(sim, &o, &info, &d) != FW_OK)
		die("export", d.msg);
	t_export = now() - t0;
	t0 = now();
	if (fw_bundle_seal(bdir, &d) != FW_OK)
		die("seal", d.msg);
	t_seal = now() - t0;
	fw_store_close(sim);
	snprintf(rpath, sizeof(rpath), "%s/records.jsonl", bdir);
	f_verify = verify_floor(rpath, &floor_n);
	t0 = now();
	if (fw_bundle_verify(bdir, NULL, NULL, count_finding, &findings, NULL, NULL, &res, &d) !=
	    FW_OK)
		die("verify", d.msg);
	t_verify = now() - t0;
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

		snprintf(out, sizeof(out), "%s/cli-bundle", dir);
		snprintf(pub, sizeof(pub), "%s/sim-log.pub", simdir);
		snprintf(cmd, sizeof(cmd), "'%s' audit export --campaign '%s' --out '%s' --db '%s' >/dev/null",
		         cli, campaign, out, db);
		t0 = now();
		rc = system(cmd);
		c_export = now() - t0;
		if (rc != 0)
			die("fwtrust audit export", cmd);
		snprintf(cmd, sizeof(cmd), "'%s' audit verify-bundle '%s' --key '%s' >/dev/null", cli,
		         out, pub);
		t0 = now();
		rc = system(cmd);
		c_verify = now() - t0;
		if (rc != 0)
			die("fwtrust audit verify-bundle", cmd);
		printf("  fwtrust audit export (CLI, report.pdf included)  %7.2f\n", c_export);
		printf("  fwtrust audit verify-bundle --key (CLI)          %7.2f\n", c_verify);
		t_export = c_export > t_export + t_seal ? c_export - t_seal : t_export;
		t_verify = c_verify > t_verify ? c_verify : t_verify;
	}
	printf("  target: export and verify of 1,000,000 devices in < 60 s each: %s\n",
	       p.devices >= 1000000
	           ? (t_export + t_seal < 60.0 && t_verify < 60.0 ? "met" : "not met")
	           : "(scaled) n/a");
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return findings ? 1 : 0;
}
