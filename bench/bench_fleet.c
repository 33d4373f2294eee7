/*
 * bench_fleet: the fleet at scale, each beside a plain baseline measured in
 * the same run. Not a test: it prints numbers and exits 0 unless something
 * fails.
 *
 * 1. Import of N devices (default 1,000,000) without certificates, from one
 *    CSV file (written first, ~55 MB):
 *      baseline  plain SQLite, WAL + synchronous=FULL, the same table as the
 *                store's device table (WITHOUT ROWID, id primary key); the
 *                file read with fgets and split at commas, no validation;
 *                one prepared INSERT, one transaction
 *      fwtrust   fw_registry_device_import into a fresh store: the file
 *                copied content-addressed and hashed, every field validated
 *                (semantic version, date, lifecycle, cohorts), the upsert,
 *                the device.import record, one transaction
 * 2. A full eligibility run on those N devices against one release:
 *      fwtrust   fw_policy_eligibility_run: every device read, decided,
 *                its decision record written (canonical JSON), hashed into
 *                the log and its decision row stored, and the summary, in
 *                one transaction
 *      baseline  plain SQLite with the very same rows: a scan of the same
 *                device table, and an INSERT of the same record bytes and
 *                leaf hashes (read back from fwtrust's store beforehand)
 *                and of the same decision rows, in one transaction
 *    Target of the issue (reported, not enforced): under 10 s for
 *    1,000,000 devices; import at least 0.5x the baseline rate (the
 *    imports take turns three times; the median ratio counts). Before each
 *    eligibility run the files of earlier steps are synced, so neither run
 *    pays for the writeback of another's data.
 * 3. Device certificates: C (default 100,000) device certificates made by
 *    one test CA, imported with chain verification (the CSV holds them as
 *    inline PEM): certificates per second, beside plain OpenSSL
 *    (X509_verify_cert of the same certificates against the same CA, a
 *    PEM parse each).
 *
 * usage: bench_fleet [--devices N] [--certs C] [--dir DIR]
 *   N 1000..5000000 (0 skips 1 and 2); C 0..1000000 (0 skips 3)
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sqlite3.h>

#include "certgen.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "store/store.h"
#include "suit/suit.h"

#define HEADER \
	"device_id,product,family,hw_revision,fw_version,cohorts,support_until,lifecycle,certificate\n"

#define IMPORT_ROUNDS 3

static char dir[4096];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

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
	fprintf(stderr, "bench_fleet: %s: %s\n", what, msg);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	exit(1);
}

static void sq(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		die(sql, err ? err : "?");
}

static sqlite3 *sq_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, "cannot open");
	sq(db, "PRAGMA page_size = 16384"); /* as the store does (before WAL) */
	sq(db, "PRAGMA journal_mode = WAL");
	sq(db, "PRAGMA synchronous = FULL");
	return db;
}

/* ---- 1. import ---- */

static void write_fleet(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	long i;

	if (f == NULL)
		die(path, "cannot write");
	fputs(HEADER, f);
	for (i = 0; i < n; i++)
		fprintf(f, "dev-%08ld,controller,ctl-a,%s,2.%ld.%ld,%s,2034-12-31,%s,\n", i,
		        i % 2 ? "B" : "C", i % 5, i % 7, i % 2 ? "us" : "beta;eu",
		        i % 100 == 7 ? "quarantined" : "active");
	if (fclose(f) != 0)
		die(path, "cannot write");
}

static double import_baseline(const char *csv, long n)
{
	sqlite3 *db = sq_open(in_dir("baseline-import.db"));
	sqlite3_stmt *st = NULL;
	char line[1024], *field[10];
	FILE *f;
	long rows = 0;
	double t0 = now(), t;
	int k;

	sq(db, "CREATE TABLE devices (id TEXT PRIMARY KEY NOT NULL, product TEXT NOT NULL,"
	       " family TEXT NOT NULL, hw_revision TEXT NOT NULL, fw_version TEXT NOT NULL,"
	       " cohorts TEXT NOT NULL, support_until TEXT NOT NULL, lifecycle TEXT NOT NULL,"
	       " cert BLOB, ident_ok INTEGER NOT NULL, rec INTEGER NOT NULL,"
	       " rec_lh BLOB NOT NULL) WITHOUT ROWID");
	t0 = now();
	f = fopen(csv, "r");
	if (f == NULL || sqlite3_prepare_v2(db, "INSERT INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	                                    -1, &st, NULL) != SQLITE_OK)
		die("baseline import", "setup");
	sq(db, "BEGIN");
	if (fgets(line, sizeof(line), f) == NULL) /* header */
		die("baseline import", "empty file");
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		for (k = 0; k < 9; k++) {
			field[k] = p;
			p = strpbrk(p, ",\n");
			if (p)
				*p++ = 0;
			else
				p = field[k] + strlen(field[k]);
		}
		sqlite3_reset(st);
		for (k = 0; k < 8; k++)
			sqlite3_bind_text(st, k + 1, field[k], -1, SQLITE_STATIC);
		sqlite3_bind_null(st, 9);
		sqlite3_bind_int(st, 10, 0);
		sqlite3_bind_int64(st, 11, 1);
		sqlite3_bind_blob(st, 12, line, 32, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("baseline import", sqlite3_errmsg(db));
		rows++;
	}
	sq(db, "COMMIT");
	t = now() - t0;
	fclose(f);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (rows != n)
		die("baseline import", "row count");
	return t;
}

/* ---- 2. eligibility ---- */

static void add_release(struct fw_store *s, char id[65])
{
	struct fw_key *k = NULL;
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", ">=2.0.0 <2.4.1", NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t img[4096], *env = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	uint64_t idx;
	FILE *f;

	memset(img, 0x5a, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = 7;
	m.version = "2.4.1";
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, in_dir("rel"), &d) != FW_OK ||
	    fw_suit_sign(&m, k, &env, &len, &d) != FW_OK)
		die("release", d.msg);
	f = fopen(in_dir("rel.suit"), "wb");
	if (f == NULL || fwrite(env, 1, len, f) != len || fclose(f) != 0)
		die("release", "write");
	f = fopen(in_dir("rel.bin"), "wb");
	if (f == NULL || fwrite(img, 1, sizeof(img), f) != sizeof(img) || fclose(f) != 0)
		die("release", "write");
	free(env);
	if (fw_registry_key_trust(s, in_dir("rel.pub"), "rel", FW_ROLE_RELEASE_SIGNING, "bench",
	                          &doc, &idx, &d) != FW_OK)
		die("key trust", d.msg);
	json_decref(doc);
	if (fw_registry_release_add(s, in_dir("rel.suit"), in_dir("rel.bin"), &t, "bench", &doc,
	                            &idx, &d) != FW_OK)
		die("release add", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
	fw_key_free(k);
}

/* fwtrust's decision rows and record bytes, read back for the baseline */
struct rows {
	long n;
	char (*dev)[16];
	uint32_t *reasons;
	uint64_t *rec;
	uint8_t **bytes;
	size_t *len;
	uint8_t (*lh)[32];
};

static double elig_baseline(const char *fleet_db, const struct rows *r)
{
	sqlite3 *src = NULL, *db = sq_open(in_dir("baseline-elig.db"));
	sqlite3_stmt *scan = NULL, *ins_leaf = NULL, *ins_dec = NULL;
	double t0, t;
	long i = 0;
	volatile unsigned sink = 0;

	sq(db, "CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL,"
	       " record BLOB NOT NULL, received_ms INTEGER NOT NULL)");
	sq(db, "CREATE TABLE decisions (run INTEGER NOT NULL, device TEXT NOT NULL,"
	       " reasons INTEGER NOT NULL, rec INTEGER NOT NULL,"
	       " PRIMARY KEY (run, device)) WITHOUT ROWID");
	/* the devices are read from the same table in fwtrust's store file,
	 * through its own connection, as fwtrust reads them */
	if (sqlite3_open_v2(fleet_db, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(src, "SELECT * FROM devices d LEFT JOIN certs c ON c.sha256 = d.cert"
	                            " ORDER BY d.id",
	                       -1, &scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO leaves VALUES (?,?,?,?)", -1, &ins_leaf, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO decisions VALUES (1,?,?,?)", -1, &ins_dec, NULL) !=
	        SQLITE_OK)
		die("baseline eligibility", "setup");
	t0 = now();
	sq(db, "BEGIN");
	while (sqlite3_step(scan) == SQLITE_ROW) {
		sink += (unsigned)sqlite3_column_bytes(scan, 0) + (unsigned)sqlite3_column_bytes(scan, 4);
		if (i >= r->n)
			die("baseline eligibility", "more devices than decisions");
		sqlite3_reset(ins_leaf);
		sqlite3_bind_int64(ins_leaf, 1, (sqlite3_int64)r->rec[i]);
		sqlite3_bind_blob(ins_leaf, 2, r->lh[i], 32, SQLITE_STATIC);
		sqlite3_bind_blob(ins_leaf, 3, r->bytes[i], (int)r->len[i], SQLITE_STATIC);
		sqlite3_bind_int64(ins_leaf, 4, 1767225600000LL);
		sqlite3_reset(ins_dec);
		sqlite3_bind_text(ins_dec, 1, r->dev[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_dec, 2, (sqlite3_int64)r->reasons[i]);
		sqlite3_bind_int64(ins_dec, 3, (sqlite3_int64)r->rec[i]);
		if (sqlite3_step(ins_leaf) != SQLITE_DONE || sqlite3_step(ins_dec) != SQLITE_DONE)
			die("baseline eligibility", sqlite3_errmsg(db));
		i++;
	}
	sq(db, "COMMIT");
	t = now() - t0;
	sqlite3_finalize(scan);
	sqlite3_finalize(ins_leaf);
	sqlite3_finalize(ins_dec);
	sqlite3_close(src);
	sqlite3_close(db);
	if (i != r->n)
		die("baseline eligibility", "fewer devices than decisions");
	return t;
}

static int keep_decision(void *arg, const char *device, uint32_t reasons, uint64_t rec)
{
	struct rows *r = arg;

	snprintf(r->dev[r->n], 16, "%s", device);
	r->reasons[r->n] = reasons;
	r->rec[r->n] = rec;
	r->n++;
	return 0;
}

static void fleet_bench(long n)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_import_stats st;
	struct fw_eligibility_summary sum;
	struct rows r;
	char rel[65], name[32], logname[32];
	double tb, tf, te, teb, tbs[IMPORT_ROUNDS], tfs[IMPORT_ROUNDS], ratios[IMPORT_ROUNDS];
	uint64_t run = 0;
	long i;
	int round;

	printf("fleet of %ld devices, WAL + synchronous=FULL, SQLite %s\n", n, sqlite3_libversion());
	write_fleet(in_dir("fleet.csv"), n);
	/* the imports take turns, baseline first, IMPORT_ROUNDS times; the
	 * verdict is the median of the rounds' ratios. The last store stays
	 * for the eligibility run. */
	for (round = 0; round < IMPORT_ROUNDS; round++) {
		unlink(in_dir("baseline-import.db"));
		unlink(in_dir("baseline-import.db-wal"));
		unlink(in_dir("baseline-import.db-shm"));
		tbs[round] = import_baseline(in_dir("fleet.csv"), n);
		if (s) {
			fw_store_close(s);
			s = NULL;
		}
		snprintf(name, sizeof(name), "fleet-%d.db", round);
		snprintf(logname, sizeof(logname), "log-%d", round);
		if (fw_store_open(in_dir(name), 1, &s, &d) != FW_OK ||
		    fw_evidence_setup(s, "bench.fwtrust.example/fleet", in_dir(logname), &d) != FW_OK)
			die("store", d.msg);
		tf = now();
		if (fw_registry_device_import(s, in_dir("fleet.csv"), "bench", NULL, NULL, &st, &d) !=
		    FW_OK)
			die("import", d.msg);
		tfs[round] = now() - tf;
		if (st.rows != (uint64_t)n)
			die("import", "row count");
		ratios[round] = tbs[round] / tfs[round];
	}
	qsort(ratios, IMPORT_ROUNDS, sizeof(double), cmp_double);
	qsort(tbs, IMPORT_ROUNDS, sizeof(double), cmp_double);
	qsort(tfs, IMPORT_ROUNDS, sizeof(double), cmp_double);
	tb = tbs[IMPORT_ROUNDS / 2];
	tf = tfs[IMPORT_ROUNDS / 2];
	printf("import (one transaction, %d rounds)       median s   devices/s   ratio\n",
	       IMPORT_ROUNDS);
	printf("  plain SQLite INSERT (baseline)         %8.2f  %10.0f   1.00x\n", tb, n / tb);
	printf("  fwtrust device import                  %8.2f  %10.0f   %.2fx   target >= 0.50x: %s\n",
	       tf, n / tf, ratios[IMPORT_ROUNDS / 2],
	       ratios[IMPORT_ROUNDS / 2] >= 0.5 ? "met" : "not met");
	printf("  (ratio per round, sorted: %.2f %.2f %.2f)\n", ratios[0], ratios[1], ratios[2]);

	/* the other rounds' files go, and what is written is on disk: the
	 * eligibility run does not pay for the imports' writeback */
	for (round = 0; round < IMPORT_ROUNDS - 1; round++) {
		const char *sfx[] = {"", "-wal", "-shm"};
		int k;

		for (k = 0; k < 3; k++) {
			snprintf(logname, sizeof(logname), "fleet-%d.db%s", round, sfx[k]);
			unlink(in_dir(logname));
		}
	}
	unlink(in_dir("baseline-import.db"));
	add_release(s, rel);
	sync();
	te = now();
	if (fw_policy_eligibility_run(s, rel, NULL, "bench", NULL, NULL, &sum, &d) != FW_OK)
		die("eligibility", d.msg);
	te = now() - te;
	if (sum.devices != (uint64_t)n)
		die("eligibility", "device count");
	/* the same rows for the baseline */
	memset(&r, 0, sizeof(r));
	r.dev = malloc((size_t)n * sizeof(*r.dev));
	r.reasons = malloc((size_t)n * sizeof(*r.reasons));
	r.rec = malloc((size_t)n * sizeof(*r.rec));
	r.bytes = malloc((size_t)n * sizeof(*r.bytes));
	r.len = malloc((size_t)n * sizeof(*r.len));
	r.lh = malloc((size_t)n * sizeof(*r.lh));
	if (!r.dev || !r.reasons || !r.rec || !r.bytes || !r.len || !r.lh)
		die("eligibility", "out of memory");
	if (fw_policy_decisions(s, rel, 0, keep_decision, &r, &run, &d) != FW_OK)
		die("decisions", d.msg);
	for (i = 0; i < r.n; i++)
		if (fw_evidence_get(s, r.rec[i], &r.bytes[i], &r.len[i], r.lh[i], &d) != FW_OK)
			die("records", d.msg);
	fw_store_close(s);
	sync();
	teb = elig_baseline(in_dir(name), &r);
	printf("eligibility run (one transaction)         seconds   devices/s   ratio\n");
	printf("  plain SQLite, the same rows (baseline) %8.2f  %10.0f   1.00x\n", teb, n / teb);
	printf("  fwtrust eligibility                    %8.2f  %10.0f   %.2fx   target < 10 s for 1,000,000: %s\n",
	       te, n / te, teb / te, n >= 1000000 ? (te * 1e6 / (double)n < 10.0 ? "met" : "not met")
	                                          : "(scaled) n/a");
	printf("  %llu eligible, %llu not; records of %zu..%zu bytes\n",
	       (unsigned long long)sum.eligible, (unsigned long long)(sum.devices - sum.eligible),
	       r.len[0], r.len[r.n - 1]);
	for (i = 0; i < r.n; i++)
		free(r.bytes[i]);
	free(r.dev);
	free(r.reasons);
	free(r.rec);
	free(r.bytes);
	free(r.len);
	free(r.lh);
}

/* ---- 3. certificates ---- */

static void cert_bench(long n)
{
	struct certgen_ca *ca = certgen_root("Bench Device CA", -86400, 86400L * 3650);
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_import_stats st;
	char *capem = certgen_ca_pem(ca), **pems = malloc((size_t)n * sizeof(char *));
	double tg, tb, tf;
	FILE *f;
	long i;
	size_t added;
	uint64_t idx, rev;

	if (pems == NULL)
		die("certs", "out of memory");
	printf("device certificates: %ld (EC P-256, one CA), chain verified on import\n", n);
	tg = now();
	for (i = 0; i < n; i++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "dev-%08ld", i);
		pems[i] = certgen_leaf(ca, cn, NULL, 10 + i, -3600, 86400L * 365);
	}
	tg = now() - tg;
	f = fopen(in_dir("certs.csv"), "w");
	if (f == NULL)
		die("certs", "write");
	fputs(HEADER, f);
	for (i = 0; i < n; i++)
		fprintf(f, "dev-%08ld,controller,ctl-a,B,2.0.0,,2034-12-31,active,\"%s\"\n", i, pems[i]);
	if (fclose(f) != 0)
		die("certs", "write");
	f = fopen(in_dir("ca.pem"), "w");
	if (f == NULL || fputs(capem, f) < 0 || fclose(f) != 0)
		die("certs", "write");

	/* baseline: OpenSSL alone, parse and verify each */
	{
		X509_STORE *xs = X509_STORE_new();
		BIO *b = BIO_new_mem_buf(capem, -1);
		X509 *cax = PEM_read_bio_X509(b, NULL, NULL, NULL);
		int ok = 1;

		BIO_free(b);
		if (xs == NULL || cax == NULL || X509_STORE_add_cert(xs, cax) != 1)
			die("certs", "baseline store");
		tb = now();
		for (i = 0; i < n; i++) {
			X509_STORE_CTX *ctx = X509_STORE_CTX_new();
			X509 *x;

			b = BIO_new_mem_buf(pems[i], -1);
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
			BIO_free(b);
			if (x == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, xs, x, NULL) != 1 ||
			    X509_verify_cert(ctx) != 1)
				ok = 0;
			X509_STORE_CTX_free(ctx);
			X509_free(x);
		}
		tb = now() - tb;
		X509_free(cax);
		X509_STORE_free(xs);
		if (!ok)
			die("certs", "baseline: a certificate did not verify");
	}
	if (fw_store_open(in_dir("certs.db"), 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "bench.fwtrust.example/certs", in_dir("clog"), &d) != FW_OK ||
	    fw_registry_ca_add(s, in_dir("ca.pem"), "bench", &added, &rev, &idx, &d) != FW_OK)
		die("certs store", d.msg);
	tf = now();
	if (fw_registry_device_import(s, in_dir("certs.csv"), "bench", NULL, NULL, &st, &d) != FW_OK)
		die("certs import", d.msg);
	tf = now() - tf;
	if (st.certs_new != (uint64_t)n || st.certs_untrusted != 0)
		die("certs import", "not every certificate was new and trusted");
	fw_store_close(s);
	printf("  (made in %.1f s)                          seconds     certs/s   ratio\n", tg);
	printf("  OpenSSL parse + X509_verify_cert       %8.2f  %10.0f   1.00x\n", tb, n / tb);
	printf("  fwtrust device import with certificates%8.2f  %10.0f   %.2fx\n", tf, n / tf, tb / tf);
	for (i = 0; i < n; i++)
		free(pems[i]);
	free(pems);
	free(capem);
	certgen_ca_free(ca);
}

int main(int argc, char **argv)
{
	long devices = 1000000, certs = 100000;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--devices") == 0 && i + 1 < argc)
			devices = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--certs") == 0 && i + 1 < argc)
			certs = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else {
			fprintf(stderr, "usage: bench_fleet [--devices N] [--certs C] [--dir DIR]\n");
			return 2;
		}
	}
	if ((devices != 0 && (devices < 1000 || devices > 5000000)) || certs < 0 ||
	    certs > 1000000) {
		fprintf(stderr, "bench_fleet: --devices 0 or 1000..5000000, --certs 0..1000000\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/fwtrust-bench-fleet.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("bench_fleet: mkdtemp");
		return 1;
	}
	signal(SIGINT, SIG_DFL);
	if (devices)
		fleet_bench(devices);
	if (devices && certs)
		printf("\n");
	if (certs)
		cert_bench(certs);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
