/*
 * bench_log: evidence-log throughput, printed beside baselines measured in
 * the same run. Not a test: it prints numbers and exits 0 unless something
 * fails (a store error, an audit finding, a record that hashes differently
 * from its baseline copy).
 *
 * Appends (rounds take turns: baseline, fwtrust, baseline, fwtrust, ...):
 *   baseline   plain SQLite, WAL + synchronous=FULL, a table (idx INTEGER
 *              PRIMARY KEY, leaf_hash BLOB, record BLOB, received_ms
 *              INTEGER); the records are serialised and hashed once
 *              beforehand, so it does no JSON or hash work; one prepared
 *              INSERT, BEGIN .. COMMIT per batch of 1000
 *   fwtrust    fresh store (fw_store_open + fw_evidence_setup),
 *              fw_evidence_append_entry of the same records (json_t built
 *              with fw_evidence_record_new + fields and encoded with
 *              fw_evidence_encode before the transaction, as a busy writer
 *              does; identical canonical bytes, checked by leaf hash),
 *              fw_store_begin .. fw_store_commit per batch of 1000. Building
 *              and encoding the records is timed apart, as the baseline's
 *              serialisation is; leaf hashing, the tree state and the
 *              inserts are in the rate.
 *
 * Full verification:
 *   a store of N records (default 1,000,000) built through the same append
 *   path, with checkpoints signed at sizes 1000, N/4, N/2 and N (or every C
 *   records and at N, as a server signing periodically does); closed and
 *   reopened, its file read once (page cache warm: this measures the
 *   audit's CPU work, not the disk). Then, taking turns:
 *     scan       SELECT idx, leaf_hash, record ORDER BY idx on the same file
 *     scan+tree  the scan plus the least any full verification hashes: each
 *                record's leaf hash and the compact-range tree (one reused
 *                EVP context)
 *     audit      fw_evidence_audit (everything `audit verify` checks)
 *     CLI        `fwtrust audit verify --db FILE`, when --fwtrust is given
 *
 * Targets of the issue, reported and not enforced: append >= 0.70x the
 * baseline rate (median of the rounds' ratios; the two runs of a round are
 * seconds apart, so load from elsewhere hits both); audit of 1,000,000
 * records < 5 s (median). fwtrust's side is the more CPU-bound, so other
 * load lowers the ratio: the output says so when the runs spread.
 *
 * usage: bench_log [--records R] [--rounds K] [--audit-records N]
 *                  [--audit-rounds A] [--checkpoint-every C] [--refs-every M]
 *                  [--fwtrust PATH] [--dir DIR]
 *   R  records per append run (default 200000; 1000..10000000)
 *   K  rounds of the append measurement, each a baseline run then an
 *      fwtrust run (default 5; 1..15); the verdict is the median of the
 *      rounds' ratios
 *   N  records of the audited store (default 1000000; 0 skips the audit)
 *   A  runs of each full-verification measurement (default 3; 1..15)
 *   C  sign a checkpoint every C records of the audited store (default 0:
 *      at 1000, N/4, N/2 and N only)
 *   M  every M-th record refers to record 0 by index and hash, as
 *      release and revocation records do (default 0: none)
 *   DIR where the temporary databases go (default $TMPDIR or /tmp); all
 *      of it is removed at the end
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "core/core.h"
#include "evidence/evidence.h"
#include "store/store.h"

extern char **environ;

#define BATCH 1000
#define MAX_ROUNDS 15
#define ORIGIN "bench.fwtrust.example/log"
#define T0_MS 1767225600000LL /* fixed record times: the same bytes every run */
#define APPEND_TARGET 0.70
#define AUDIT_TARGET_S 5.0
#define AUDIT_TARGET_N 1000000u

static volatile sig_atomic_t interrupted;
static volatile unsigned sink; /* keeps the scan's reads of record bytes */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double best_max(const double *v, int n)
{
	double b = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] > b)
			b = v[i];
	return b;
}

static double best_min(const double *v, int n)
{
	double b = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] < b)
			b = v[i];
	return b;
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

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- records ---- */

static uint64_t mix(uint64_t x) /* splitmix64: varied but reproducible fields */
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fill(uint8_t *out, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			seed = mix(seed);
		out[i] = (uint8_t)(seed >> (8 * (i % 8)));
	}
}

/*
 * Record i: a device reporting an update, about 300 bytes of canonical
 * JSON, e.g.
 * {"actor":"gw/eu-west-07","boot_ms":1234,"device_id":"<uuid>",
 *  "from_version":"2.4.11","release_id":"<64 hex>","result":"installed",
 *  "sequence":2411,"to_version":"2.4.12","ts":1767225600123,
 *  "type":"device.update","v":1}
 * ts is fixed (T0 + i) so the baseline can insert the very same bytes.
 */
static json_t *make_record(uint64_t i, uint64_t refs_every, const uint8_t ref_lh[FW_HASH_LEN])
{
	json_t *r = fw_evidence_record_new("device.update", "gw/eu-west-07");
	uint8_t dev[16], rel[32];
	char uuid[37], hex[65], from[16], to[16];
	unsigned rel_no = (unsigned)(i / 5000);

	if (r == NULL)
		return NULL;
	fill(dev, sizeof(dev), i);
	fill(rel, sizeof(rel), 0xfeed0000u + rel_no);
	fw_uuid_format(dev, uuid);
	fw_hex_encode(rel, sizeof(rel), hex);
	snprintf(from, sizeof(from), "2.%u.%u", 4 + rel_no / 100, rel_no % 100);
	snprintf(to, sizeof(to), "2.%u.%u", 4 + (rel_no + 1) / 100, (rel_no + 1) % 100);
	if (json_object_set_new(r, "ts", json_integer((json_int_t)(T0_MS + (int64_t)i))) != 0 ||
	    json_object_set_new(r, "device_id", json_string(uuid)) != 0 ||
	    json_object_set_new(r, "release_id", json_string(hex)) != 0 ||
	    json_object_set_new(r, "from_version", json_string(from)) != 0 ||
	    json_object_set_new(r, "to_version", json_string(to)) != 0 ||
	    json_object_set_new(r, "sequence", json_integer(2400 + (json_int_t)rel_no)) != 0 ||
	    json_object_set_new(r, "result", json_string(mix(i) % 50 ? "installed" : "rolled_back")) !=
	        0 ||
	    json_object_set_new(r, "boot_ms", json_integer((json_int_t)(mix(~i) % 30000))) != 0 ||
	    (refs_every && i > 0 && i % refs_every == 0 &&
	     fw_evidence_record_ref(r, 0, ref_lh) != FW_OK)) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The records serialised and hashed once, for the baseline. */
struct corpus {
	uint64_t n, refs_every;
	uint8_t *bytes;
	size_t *off;                    /* record i is bytes[off[i] .. off[i+1]) */
	uint8_t (*lh)[FW_HASH_LEN];
	uint8_t lh0[FW_HASH_LEN];       /* leaf hash of record 0 (what refs name) */
	size_t min_len, max_len;
	double secs;                    /* building, serialising and hashing them */
};

static int corpus_make(struct corpus *c, uint64_t n, uint64_t refs_every)
{
	struct fw_diag d = {{0}};
	size_t cap = (size_t)n * 320, len;
	uint64_t i;
	double t0 = now();
	char *s;

	memset(c, 0, sizeof(*c));
	c->n = n;
	c->refs_every = refs_every;
	c->bytes = malloc(cap);
	c->off = malloc(((size_t)n + 1) * sizeof(*c->off));
	c->lh = malloc((size_t)n * FW_HASH_LEN);
	if (c->bytes == NULL || c->off == NULL || c->lh == NULL)
		return -1;
	c->min_len = SIZE_MAX;
	c->off[0] = 0;
	for (i = 0; i < n; i++) {
		json_t *r = make_record(i, refs_every, c->lh0);

		if (r == NULL || fw_json_canonical(r, &s, &len, &d) != FW_OK) {
			fprintf(stderr, "bench_log: record %llu: %s\n", (unsigned long long)i,
			        r == NULL ? "out of memory" : d.msg);
			json_decref(r);
			return -1;
		}
		json_decref(r);
		if (c->off[i] + len > cap) {
			uint8_t *b = realloc(c->bytes, cap * 2);

			if (b == NULL) {
				free(s);
				return -1;
			}
			c->bytes = b;
			cap *= 2;
		}
		memcpy(c->bytes + c->off[i], s, len);
		free(s);
		c->off[i + 1] = c->off[i] + len;
		fw_evidence_leaf_hash(c->bytes + c->off[i], len, c->lh[i]);
		if (i == 0)
			memcpy(c->lh0, c->lh[0], FW_HASH_LEN);
		if (len < c->min_len)
			c->min_len = len;
		if (len > c->max_len)
			c->max_len = len;
	}
	c->secs = now() - t0;
	return 0;
}

static void corpus_clear(struct corpus *c)
{
	free(c->bytes);
	free(c->off);
	free(c->lh);
	memset(c, 0, sizeof(*c));
}

/* ---- appends ---- */

struct run {
	double secs;    /* wall clock of begin .. commit, summed over batches */
	double cpu;     /* CPU seconds over the same spans */
	double build;   /* building the json_t records (fwtrust only) */
};

static int sq_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_log: baseline: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int append_baseline(const struct corpus *c, const char *path, struct run *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	uint64_t i = 0, end;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	        SQLITE_OK ||
	    sq_exec(db, "PRAGMA journal_mode = WAL") || sq_exec(db, "PRAGMA synchronous = FULL") ||
	    sq_exec(db, "CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf_hash BLOB, record BLOB, "
	                "received_ms INTEGER)"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO leaves (idx, leaf_hash, record, received_ms) "
	                           "VALUES (?, ?, ?, ?)",
	                       -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_log: baseline: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	while (i < c->n) {
		double t0 = now(), u0 = cpu_now();

		if (interrupted)
			goto out;
		end = i + BATCH < c->n ? i + BATCH : c->n;
		if (sq_exec(db, "BEGIN"))
			goto out;
		for (; i < end; i++) {
			sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
			sqlite3_bind_blob(ins, 2, c->lh[i], FW_HASH_LEN, SQLITE_STATIC);
			sqlite3_bind_blob(ins, 3, c->bytes + c->off[i], (int)(c->off[i + 1] - c->off[i]),
			                  SQLITE_STATIC);
			sqlite3_bind_int64(ins, 4, fw_time_ms());
			if (sqlite3_step(ins) != SQLITE_DONE) {
				fprintf(stderr, "bench_log: baseline: insert: %s\n", sqlite3_errmsg(db));
				goto out;
			}
			sqlite3_reset(ins);
		}
		if (sq_exec(db, "COMMIT"))
			goto out;
		out->secs += now() - t0;
		out->cpu += cpu_now() - u0;
	}
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return rc;
}

/* A fresh store at path with its log key at key_base. */
static int store_create(const char *path, const char *key_base, struct fw_store **s)
{
	struct fw_diag d = {{0}};

	if (fw_store_open(path, 1, s, &d) != FW_OK ||
	    fw_evidence_setup(*s, ORIGIN, key_base, &d) != FW_OK) {
		fprintf(stderr, "bench_log: %s: %s\n", path, d.msg);
		fw_store_close(*s);
		*s = NULL;
		return -1;
	}
	return 0;
}

/*
 * Append records [0, n) to s in batches; sign a checkpoint whenever the
 * size reaches the next of cps[0..ncps) (ascending). When want_lh is not
 * NULL each record's leaf hash must equal want_lh[i] (same bytes as the
 * baseline).
 */
static int append_fwtrust(struct fw_store *s, uint64_t n, uint64_t refs_every,
                          const uint8_t lh0[FW_HASH_LEN], const uint8_t (*want_lh)[FW_HASH_LEN],
                          const uint64_t *cps, size_t ncps, const struct fw_key *key,
                          struct run *out)
{
	struct fw_diag d = {{0}};
	json_t *batch[BATCH];
	struct fw_evidence_entry enc[BATCH];
	uint8_t lh[FW_HASH_LEN];
	uint64_t i = 0, end, idx, k;
	size_t next_cp = 0;

	memset(out, 0, sizeof(*out));
	memset(enc, 0, sizeof(enc));
	while (i < n) {
		double t0, u0, b0 = now();

		if (interrupted)
			return -1;
		end = i + BATCH < n ? i + BATCH : n;
		for (k = i; k < end; k++) {
			batch[k - i] = make_record(k, refs_every, lh0);
			if (batch[k - i] == NULL) {
				fprintf(stderr, "bench_log: out of memory\n");
				while (k-- > i)
					json_decref(batch[k - i]);
				return -1;
			}
		}
		/* records are encoded before the write transaction, as a busy
		 * writer does and as the baseline gets its bytes ready-made; the
		 * timed part is leaf hashing, the tree update and the inserts */
		for (k = i; k < end; k++)
			if (fw_evidence_encode(batch[k - i], &enc[k - i], &d) != FW_OK)
				goto fail;
		t0 = now();
		u0 = cpu_now();
		out->build += t0 - b0;
		if (fw_store_begin(s, &d) != FW_OK)
			goto fail;
		for (k = i; k < end; k++) {
			if (fw_evidence_append_entry(s, &enc[k - i], &idx, lh, &d) != FW_OK)
				goto fail;
			if (idx != k || (want_lh && memcmp(lh, want_lh[k], FW_HASH_LEN) != 0)) {
				fw_diag_set(&d, FW_E_ARG, "record %llu: index %llu or leaf hash differs from "
				            "the baseline's", (unsigned long long)k, (unsigned long long)idx);
				goto fail;
			}
		}
		if (fw_store_commit(s, &d) != FW_OK)
			goto fail;
		out->secs += now() - t0;
		out->cpu += cpu_now() - u0;
		for (k = i; k < end; k++) {
			json_decref(batch[k - i]);
			fw_evidence_entry_clear(&enc[k - i]);
		}
		i = end;
		while (next_cp < ncps && i >= cps[next_cp]) {
			char *note = NULL;

			next_cp++;
			if (fw_evidence_checkpoint(s, key, &note, &d) != FW_OK) {
				fprintf(stderr, "bench_log: checkpoint at %llu: %s\n", (unsigned long long)i,
				        d.msg);
				return -1;
			}
			free(note);
		}
	}
	return 0;
fail:
	fprintf(stderr, "bench_log: %s: %s\n", s->path, d.msg);
	fw_store_rollback(s);
	for (k = i; k < end; k++) {
		json_decref(batch[k - i]);
		fw_evidence_entry_clear(&enc[k - i]);
	}
	return -1;
}

static int bench_append(const struct corpus *c, const char *dir, int rounds)
{
	double base[MAX_ROUNDS], fw[MAX_ROUNDS], base_cpu[MAX_ROUNDS], fw_cpu[MAX_ROUNDS],
	    fw_incl[MAX_ROUNDS], base_us[MAX_ROUNDS], fw_us[MAX_ROUNDS], pair[MAX_ROUNDS];
	char path[1200], key[1200], sub[1100];
	double mb, mf, ratio, spread_b, spread_f;
	int r;

	for (r = 0; r < rounds; r++) {
		struct run run;
		struct fw_store *s = NULL;
		int rc;

		snprintf(sub, sizeof(sub), "%s/append-%d", dir, r);
		if (mkdir(sub, 0700) != 0) {
			fprintf(stderr, "bench_log: %s: %s\n", sub, strerror(errno));
			return -1;
		}
		snprintf(path, sizeof(path), "%s/baseline.db", sub);
		if (append_baseline(c, path, &run) != 0)
			return -1;
		base[r] = (double)c->n / run.secs;
		base_cpu[r] = run.cpu / run.secs;
		base_us[r] = 1e6 * run.cpu / (double)c->n;

		snprintf(path, sizeof(path), "%s/fwtrust.db", sub);
		snprintf(key, sizeof(key), "%s/logkey", sub);
		if (store_create(path, key, &s) != 0)
			return -1;
		rc = append_fwtrust(s, c->n, c->refs_every, c->lh0,
		                    (const uint8_t(*)[FW_HASH_LEN])c->lh, NULL, 0, NULL, &run);
		fw_store_close(s);
		if (rc != 0)
			return -1;
		fw[r] = (double)c->n / run.secs;
		fw_cpu[r] = run.cpu / run.secs;
		fw_us[r] = 1e6 * run.cpu / (double)c->n;
		pair[r] = fw[r] / base[r]; /* the two runs of a round are seconds apart */
		fw_incl[r] = (double)c->n / (run.secs + run.build);
		rm_tree(sub); /* before the next round: no write-back of it meanwhile */
	}
	mb = median(base, rounds);
	mf = median(fw, rounds);
	ratio = median(pair, rounds);
	printf("%-48s %10s %10s %6s %12s\n", "append (batches of 1000, durable commits)", "median/s",
	       "best/s", "cpu", "ratio(med)");
	printf("%-48s %10.0f %10.0f %5.0f%% %11.2fx\n", "plain SQLite INSERT, same bytes (baseline)",
	       mb, best_max(base, rounds), 100 * median(base_cpu, rounds), 1.0);
	printf("%-48s %10.0f %10.0f %5.0f%% %11.2fx\n", "fw_evidence_append_entry", mf, best_max(fw, rounds),
	       100 * median(fw_cpu, rounds), mf / mb);
	printf("%-48s %10.0f %10.0f %6s %11.2fx\n", "  the same, with building the json_t records",
	       median(fw_incl, rounds), best_max(fw_incl, rounds), "", median(fw_incl, rounds) / mb);
	printf("append / plain SQLite: %.2fx (median of the rounds' ratios; %.2fx of the medians, "
	       "%.2fx of the bests); target >= %.2f: %s\n",
	       ratio, mf / mb, best_max(fw, rounds) / best_max(base, rounds), APPEND_TARGET,
	       ratio >= APPEND_TARGET ? "met" : "not met");
	printf("CPU per record: baseline %.2f us, fwtrust %.2f us (medians; cpu = CPU time / wall "
	       "time, the rest waits for fsync)\n",
	       median(base_us, rounds), median(fw_us, rounds));
	printf("each run (records/s):\n  baseline:");
	for (r = 0; r < rounds; r++)
		printf(" %.0f", base[r]);
	printf("\n  fwtrust: ");
	for (r = 0; r < rounds; r++)
		printf(" %.0f", fw[r]);
	printf("\n  ratio:   ");
	for (r = 0; r < rounds; r++)
		printf(" %.2f", pair[r]);
	printf("\n");
	/* fwtrust is the more CPU-bound of the two, so load from elsewhere
	 * lowers its rate more than the baseline's: say so when it shows */
	spread_b = (best_max(base, rounds) - best_min(base, rounds)) / mb;
	spread_f = (best_max(fw, rounds) - best_min(fw, rounds)) / mf;
	if (rounds > 1 && (spread_b > 0.15 || spread_f > 0.15))
		printf("note: the runs spread by %.0f%% (baseline) and %.0f%% (fwtrust): other load on "
		       "the machine; rerun when it is quiet\n",
		       100 * spread_b, 100 * spread_f);
	return 0;
}

/* ---- full verification ---- */

struct tree { /* a compact range with one reused context: the scan+tree baseline */
	EVP_MD_CTX *ctx;
	EVP_MD *md;
	uint64_t size;
	unsigned n;
	uint8_t h[64][FW_HASH_LEN];
};

static void sha(struct tree *t, uint8_t prefix, const void *a, size_t alen, const void *b,
                size_t blen, uint8_t out[FW_HASH_LEN])
{
	EVP_DigestInit_ex2(t->ctx, t->md, NULL);
	EVP_DigestUpdate(t->ctx, &prefix, 1);
	EVP_DigestUpdate(t->ctx, a, alen);
	if (blen)
		EVP_DigestUpdate(t->ctx, b, blen);
	EVP_DigestFinal_ex(t->ctx, out, NULL);
}

static void tree_add(struct tree *t, const uint8_t leaf[FW_HASH_LEN])
{
	uint8_t cur[FW_HASH_LEN];
	uint64_t s = t->size;

	memcpy(cur, leaf, FW_HASH_LEN);
	while (s & 1) {
		sha(t, 0x01, t->h[--t->n], FW_HASH_LEN, cur, FW_HASH_LEN, cur);
		s >>= 1;
	}
	memcpy(t->h[t->n++], cur, FW_HASH_LEN);
	t->size++;
}

/* Read the records of an fwtrust store with plain SQLite; with hash, also
 * rebuild the tree (leaf hashes compared with the stored ones). */
static int scan(const char *path, int hash, uint64_t want, double *secs)
{
	static const char tag[] = FW_EVIDENCE_TAG;
	struct tree t;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint64_t rows = 0, bad = 0;
	double t0 = now();
	int rc = -1;

	memset(&t, 0, sizeof(t));
	t.md = EVP_MD_fetch(NULL, "SHA256", NULL);
	t.ctx = EVP_MD_CTX_new();
	if (t.md == NULL || t.ctx == NULL ||
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "SELECT idx, leaf_hash, record FROM evidence_leaves ORDER BY idx", -1,
	                       &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_log: scan %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *lh = sqlite3_column_blob(st, 1);
		const uint8_t *rec = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		if ((uint64_t)sqlite3_column_int64(st, 0) != rows++ || sqlite3_column_bytes(st, 1) != 32)
			bad++;
		if (hash) {
			uint8_t mine[FW_HASH_LEN];

			sha(&t, 0x00, tag, sizeof(tag) - 1, rec, len, mine);
			if (memcmp(mine, lh, FW_HASH_LEN) != 0)
				bad++;
			tree_add(&t, mine);
		} else {
			sink += len ? rec[len - 1] : 0u; /* the bytes are really read */
		}
	}
	*secs = now() - t0;
	if (rows != want || bad)
		fprintf(stderr, "bench_log: scan %s: %llu rows, %llu bad (want %llu)\n", path,
		        (unsigned long long)rows, (unsigned long long)bad, (unsigned long long)want);
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	EVP_MD_CTX_free(t.ctx);
	EVP_MD_free(t.md);
	return rc;
}

static void print_finding(void *arg, const struct fw_audit_finding *f)
{
	(void)arg;
	fprintf(stderr, "bench_log: audit finding %s at %llu: %s\n", f->code,
	        (unsigned long long)f->at, f->detail);
}

static int audit_once(const char *path, uint64_t want, size_t want_cps, double *secs)
{
	struct fw_store *s = NULL;
	struct fw_audit_summary sum;
	struct fw_diag d = {{0}};
	double t0;
	int rc;

	/* closed and reopened: nothing cached in the handle */
	if (fw_store_open(path, 0, &s, &d) != FW_OK) {
		fprintf(stderr, "bench_log: %s: %s\n", path, d.msg);
		return -1;
	}
	t0 = now();
	rc = fw_evidence_audit(s, NULL, 0, print_finding, NULL, &sum, &d);
	*secs = now() - t0;
	fw_store_close(s);
	if (rc != FW_OK || sum.records != want || sum.checkpoints != want_cps) {
		fprintf(stderr, "bench_log: audit %s: %s (%llu records, %llu checkpoints)\n", path,
		        rc == FW_OK ? "wrong counts" : d.msg, (unsigned long long)sum.records,
		        (unsigned long long)sum.checkpoints);
		return -1;
	}
	return 0;
}

static int cli_once(const char *fwtrust, const char *path, double *secs)
{
	char *argv[] = {(char *)fwtrust, "audit", "verify", "--db", (char *)path, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	double t0 = now();
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, fwtrust, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "bench_log: %s: %s\n", fwtrust, strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*secs = now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_log: %s audit verify --db %s: exit status %d\n", fwtrust, path,
		        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* Read a file once so its pages are cached. Returns its size or -1. */
static long long warm(const char *path)
{
	static char buf[1 << 20];
	long long total = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	close(fd);
	return r < 0 ? -1 : total;
}

static int bench_audit(const char *dir, uint64_t n, uint64_t every, uint64_t refs_every,
                       const uint8_t lh0[FW_HASH_LEN], int rounds, const char *fwtrust)
{
	uint64_t few[4] = {1000, n / 4, n / 2, n}, *cps;
	double t_scan[MAX_ROUNDS], t_tree[MAX_ROUNDS], t_audit[MAX_ROUNDS], t_cli[MAX_ROUNDS];
	char path[4200], key[4200], wal[4300];
	struct fw_diag d = {{0}};
	struct fw_store *s = NULL;
	struct fw_key *priv = NULL;
	struct run run;
	size_t ncps = 0, i;
	long long bytes;
	double t0, build, ma;
	int r, rc = -1;

	/* checkpoint sizes: ascending, distinct, at most n */
	cps = malloc((every ? n / every + 1 : 4) * sizeof(*cps));
	if (cps == NULL)
		return -1;
	for (i = 0; every && i < n / every; i++)
		cps[ncps++] = (i + 1) * every;
	for (i = 0; !every && i < 4; i++)
		if (few[i] > 0 && few[i] <= n && (ncps == 0 || few[i] > cps[ncps - 1]))
			cps[ncps++] = few[i];
	if (ncps == 0 || cps[ncps - 1] != n)
		cps[ncps++] = n;

	snprintf(path, sizeof(path), "%s/audit.db", dir);
	snprintf(key, sizeof(key), "%s/audit-logkey", dir);
	t0 = now();
	if (store_create(path, key, &s) != 0)
		goto out;
	if (fw_evidence_log_key(s, NULL, &priv, &d) != FW_OK) {
		fprintf(stderr, "bench_log: %s: %s\n", path, d.msg);
		fw_store_close(s);
		goto out;
	}
	r = append_fwtrust(s, n, refs_every, lh0, NULL, cps, ncps, priv, &run);
	fw_key_free(priv);
	fw_store_close(s); /* the last connection: SQLite checkpoints the WAL into the file */
	build = now() - t0;
	if (r != 0)
		goto out;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	bytes = warm(path);
	if (bytes < 0 || (access(wal, F_OK) == 0 && warm(wal) < 0)) {
		fprintf(stderr, "bench_log: %s: cannot read it\n", path);
		goto out;
	}
	printf("built a store of %llu records in %.1f s (appends %.0f/s, %.1f s of it building "
	       "json_t), %zu checkpoints (",
	       (unsigned long long)n, build, (double)n / run.secs, run.build, ncps);
	if (every)
		printf("every %llu records", (unsigned long long)every);
	for (i = 0; !every && i < ncps; i++)
		printf("%s%llu", i ? " " : "sizes ", (unsigned long long)cps[i]);
	printf("), %.0f MB; page cache warm\n", (double)bytes / 1e6);

	for (r = 0; r < rounds; r++) {
		if (interrupted || scan(path, 0, n, &t_scan[r]) != 0 ||
		    scan(path, 1, n, &t_tree[r]) != 0 || audit_once(path, n, ncps, &t_audit[r]) != 0 ||
		    (fwtrust && cli_once(fwtrust, path, &t_cli[r]) != 0))
			goto out;
	}
	ma = median(t_audit, rounds);
	printf("%-48s %10s %10s %12s %12s\n", "full verification (same file)", "median s", "best s",
	       "records/s", "ratio(med)");
#define ROW(label, v)                                                                         \
	printf("%-48s %10.3f %10.3f %12.0f %11.2fx\n", label, median(v, rounds),                 \
	       best_min(v, rounds), (double)n / median(v, rounds),                                \
	       median(v, rounds) / median(t_tree, rounds))
	ROW("SQLite scan of the records", t_scan);
	ROW("scan + leaf hashes + tree (baseline)", t_tree);
	ROW("fw_evidence_audit", t_audit);
	if (fwtrust)
		ROW("fwtrust audit verify --db (whole process)", t_cli);
#undef ROW
	if (n == AUDIT_TARGET_N)
		printf("audit of %llu records: %.2f s median (%.2f s best); target < %.0f s: %s\n",
		       (unsigned long long)n, ma, best_min(t_audit, rounds), AUDIT_TARGET_S,
		       ma < AUDIT_TARGET_S ? "met" : "not met");
	else
		printf("audit of %llu records: %.2f s median; the target (< %.0f s) is for %u records: "
		       "%.2f s scaled linearly\n",
		       (unsigned long long)n, ma, AUDIT_TARGET_S, AUDIT_TARGET_N,
		       ma * AUDIT_TARGET_N / (double)n);
	if (fwtrust)
		printf("fwtrust audit verify --db: %.2f s median; target < %.0f s: %s\n",
		       median(t_cli, rounds), AUDIT_TARGET_S,
		       n != AUDIT_TARGET_N                        ? "(other size)"
		       : median(t_cli, rounds) < AUDIT_TARGET_S ? "met"
		                                                : "not met");
	rc = 0;
out:
	free(cps);
	return rc;
}

/* ---- main ---- */

/* "1.02 0.87 0.65\n" from /proc/loadavg, or "?\n" */
static const char *loadavg(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	if (f != NULL && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, cap, "%.2f %.2f %.2f\n", a, b, c);
	else
		snprintf(buf, cap, "?\n");
	if (f != NULL)
		fclose(f);
	return buf;
}

static int num(const char *flag, const char *v, unsigned long long lo, unsigned long long hi,
               unsigned long long *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = v ? strtoull(v, &end, 10) : 0;
	if (v == NULL || v[0] < '0' || v[0] > '9' || *end || errno || x < lo || x > hi) {
		fprintf(stderr, "bench_log: %s: a number from %llu to %llu\n", flag, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static const char usage[] =
    "usage: bench_log [--records R] [--rounds K] [--audit-records N] [--audit-rounds A]\n"
    "                 [--checkpoint-every C] [--refs-every M] [--fwtrust PATH] [--dir DIR]\n";

int main(int argc, char **argv)
{
	unsigned long long records = 200000, rounds = 5, audit_rounds = 3, audit_n = AUDIT_TARGET_N,
	                   refs = 0, every = 0;
	const char *fwtrust = NULL, *base = getenv("TMPDIR");
	char dir[1024];
	struct corpus c;
	struct sigaction sa;
	uint8_t lh0[FW_HASH_LEN];
	char load[64];
	int i, rc = 1;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--records") == 0 && num(argv[i], v, 1000, 10000000, &records) == 0)
			i++;
		else if (strcmp(argv[i], "--rounds") == 0 && num(argv[i], v, 1, MAX_ROUNDS, &rounds) == 0)
			i++;
		else if (strcmp(argv[i], "--audit-rounds") == 0 &&
		         num(argv[i], v, 1, MAX_ROUNDS, &audit_rounds) == 0)
			i++;
		else if (strcmp(argv[i], "--audit-records") == 0 &&
		         num(argv[i], v, 0, 100000000, &audit_n) == 0)
			i++;
		else if (strcmp(argv[i], "--checkpoint-every") == 0 &&
		         num(argv[i], v, 0, 100000000, &every) == 0)
			i++;
		else if (strcmp(argv[i], "--refs-every") == 0 &&
		         num(argv[i], v, 0, 100000000, &refs) == 0)
			i++;
		else if (strcmp(argv[i], "--fwtrust") == 0 && v)
			fwtrust = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && v)
			base = argv[++i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (fwtrust && access(fwtrust, X_OK) != 0) {
		fprintf(stderr, "bench_log: %s: not an executable\n", fwtrust);
		return 2;
	}
	if (strlen(base) > 900) {
		fprintf(stderr, "bench_log: --dir: path too long\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/fwtrust-bench-log.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_log: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (corpus_make(&c, records, refs) != 0) {
		fprintf(stderr, "bench_log: cannot build the records\n");
		goto out;
	}
	printf("evidence log, %llu records of %zu..%zu B (avg %.0f B)%s, batches of %d, WAL + "
	       "synchronous=FULL, SQLite %s, %llu rounds (baseline, fwtrust taking turns), in %s\n",
	       records, c.min_len, c.max_len, (double)c.off[c.n] / (double)c.n,
	       refs ? " with refs" : "", BATCH, sqlite3_libversion(), rounds, base);
	printf("json_t + canonical JSON + leaf hash of each record beforehand: %.2f us/record; "
	       "load average %s",
	       1e6 * c.secs / (double)c.n, loadavg(load, sizeof(load)));
	if (bench_append(&c, dir, (int)rounds) != 0)
		goto out;
	memcpy(lh0, c.lh0, FW_HASH_LEN);
	corpus_clear(&c);
	printf("\n");
	if (audit_n && bench_audit(dir, audit_n, every, refs, lh0, (int)audit_rounds, fwtrust) != 0)
		goto out;
	rc = 0;
out:
	if (interrupted)
		fprintf(stderr, "bench_log: interrupted\n");
	corpus_clear(&c);
	rm_tree(dir);
	return rc;
}
