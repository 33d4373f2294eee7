/*
 * bench_vuln: `vuln affected` of one advisory over a registry of N devices
 * (default 1,000,000), beside its floor measured in the same run on the
 * same store. Not a test: it prints numbers and exits 0 unless something
 * fails (a count that is not the one the fleet was built to give fails).
 *
 * The store is real (WAL, synchronous=FULL, its evidence log): the
 * campaign store of bench/campaign.c (releases 2.4.1 and 2.3.9 of
 * controller / ctl-a, one device with a certificate, a campaign of 2.4.1
 * approved), and then:
 *   - an operator starts the campaign (running; its one device a member);
 *   - the advisory FWT-BENCH-0001: controller / ctl-a, >=2.0.0 <2.4.1,
 *     fixed in 2.4.1, and a backport release 2.3.10 whose fixes names it;
 *   - N-1 devices imported from one CSV file (fw_registry_device_import):
 *     product controller, 95% ctl-a and 5% ctl-b, firmware versions below
 *     (1.9.x, 2.0.0-rc.1), inside (2.0.0 .. 2.4.1-rc.1, the backport
 *     2.3.10) and above the range (2.4.1 .. 3.0.0), 1% quarantined, 1%
 *     end_of_support, 2% provisioned, 2% whose support ended; without
 *     certificates (the scan's certificate join finds none);
 *   - the campaign's members: a rollout row for 91% of the devices (the
 *     ctl-a ones but every twentieth), written directly in one
 *     transaction as the campaign's start writes an eligible member's row
 *     (the start record as the row's record, no record per device), most
 *     pending, some delivered, failed (retries left, or for good),
 *     installed or ineligible: the campaign's counters do not know them,
 *     fw_vuln_affected reads only the rows.
 * Then, ROUNDS times, taking turns (one untimed run of each first):
 *   fwtrust  fw_vuln_affected: the advisory loaded, the fixing releases and
 *            the remediating campaign's rows read, one pass over the
 *            devices, the cohort list kept as a blob (fsynced), the
 *            vuln.affected record committed;
 *   floor    a plain sqlite3 connection to the same file stepping the same
 *            SELECT as fw_store_device_scan (every device column, the
 *            certificate join) and reading every column, then the same
 *            bytes as fwtrust's list written to a file, fsynced, and their
 *            SHA-256: what any implementation pays;
 *   CLI      with --fwtrust PATH: `fwtrust vuln affected ID --db ...`, as
 *            an operator runs it.
 * The ratio is fwtrust's median time over the floor's (1.00x: as fast as
 * the floor). Target of issue 8 (reported, not enforced): 1,000,000
 * devices in seconds (< 10 s).
 *
 * usage: bench_vuln [--devices N] [--rounds R] [--dir DIR] [--fwtrust PATH]
 *   N 1000..10000000 (default 1000000), R 3..15 (default 5)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "vuln/vuln.h"

#define ADVISORY "FWT-BENCH-0001"
#define MAX_ROUNDS 15

/* The firmware versions of the fleet, by where they stand to the advisory
 * (>=2.0.0 <2.4.1, fixed in 2.4.1; 2.3.10 is a release that fixes it). */
enum where { BELOW, INSIDE, FIXED, ABOVE };
static const struct {
	const char *v;
	enum where w;
} versions[] = {
    {"1.9.3", BELOW},  {"1.9.7", BELOW},  {"2.0.0-rc.1", BELOW}, {"2.0.0", INSIDE},
    {"2.0.1", INSIDE}, {"2.1.0", INSIDE}, {"2.1.4", INSIDE},     {"2.2.0", INSIDE},
    {"2.2.3", INSIDE}, {"2.3.0", INSIDE}, {"2.3.5", INSIDE},     {"2.3.9", INSIDE},
    {"2.4.0", INSIDE}, {"2.4.0", INSIDE}, {"2.4.1-rc.1", INSIDE}, {"2.3.10", FIXED},
    {"2.4.1", ABOVE},  {"2.4.1", ABOVE},  {"2.5.0", ABOVE},      {"3.0.0", ABOVE},
};
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

/* device i of the imported fleet (i = 0 .. N-2) */
static int is_ctl_b(long i)
{
	return i % 100 >= 95;
}

static const char *version_of(long i)
{
	return versions[(i / 3) % NVERSIONS].v;
}

static enum where where_of(long i)
{
	return versions[(i / 3) % NVERSIONS].w;
}

static const char *lifecycle_of(long i)
{
	switch (i % 100) {
	case 7:
		return "quarantined";
	case 13:
		return "end_of_support";
	case 30:
	case 31:
		return "provisioned";
	default:
		return "active";
	}
}

static int support_ended(long i)
{
	return i % 50 == 3;
}

/* the ctl-a devices but every twentieth are the campaign's members */
static int is_member(long i)
{
	return !is_ctl_b(i) && i % 20 != 19;
}

/* a member's update state (and its due_ms) */
static int state_of(long i, int64_t *due)
{
	*due = 0;
	switch (i % 97) {
	case 0:
		return FW_U_INSTALLED;
	case 1:
		return FW_U_INELIGIBLE;
	case 2:
		*due = 1767225600000LL;
		return FW_U_DELIVERED;
	case 3:
		*due = 1767225600000LL; /* a retry not before */
		return FW_U_FAILED;
	case 4:
		*due = INT64_MAX; /* failed for good (engine.c) */
		return FW_U_FAILED;
	default:
		return FW_U_PENDING;
	}
}

/* not installed, ineligible, rolled back or failed for good */
static int unfinished(int state, int64_t due)
{
	return state != FW_U_INSTALLED && state != FW_U_INELIGIBLE && state != FW_U_ROLLED_BACK &&
	       !(state == FW_U_FAILED && due == INT64_MAX);
}

/* The bucket docs/vuln.md gives device i (the reference the run is
 * checked against). */
static int expected_bucket(long i)
{
	int64_t due;
	int st;

	if (is_ctl_b(i) || where_of(i) == BELOW)
		return FW_VB_NONE;
	if (where_of(i) == FIXED || where_of(i) == ABOVE)
		return FW_VB_REMEDIATED;
	if (strcmp(lifecycle_of(i), "quarantined") == 0)
		return FW_VB_ISOLATED;
	if (strcmp(lifecycle_of(i), "end_of_support") == 0 || support_ended(i))
		return FW_VB_CANNOT;
	st = state_of(i, &due);
	return is_member(i) && unfinished(st, due) ? FW_VB_REMEDIATING : FW_VB_EXPOSED;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double best(const double *v, int n)
{
	double b = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] < b)
			b = v[i];
	return b;
}

/* ---- the store ---- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		bench_die(path, "cannot write");
}

/* an operator who may start campaigns */
static void add_operator(struct fw_store *s)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, bench_in_dir("op"), &d) != FW_OK ||
	    fw_registry_operator_add(s, "op", FW_OP_OPERATOR, bench_in_dir("op.pub"), "bench", &doc,
	                             &idx, &d) != FW_OK)
		bench_die("operator", d.msg);
	json_decref(doc);
	fw_key_free(k);
}

static void add_advisory(struct fw_store *s)
{
	const char *cves[] = {"CVE-2026-12345"};
	struct fw_vuln_input in = {ADVISORY,
	                           "Bootloader authentication bypass",
	                           "critical",
	                           "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
	                           "controller",
	                           "ctl-a",
	                           ">=2.0.0 <2.4.1",
	                           "2.4.1",
	                           cves,
	                           1};
	struct fw_vuln_advisory a;
	struct fw_diag d = {{0}};
	uint64_t idx;

	if (fw_vuln_advisory_parse(&in, &a, &d) != FW_OK ||
	    fw_vuln_add(s, &a, "bench", NULL, &idx, &d) != FW_OK)
		bench_die("vuln add", d.msg);
}

/* 2.3.10: a backport of the fix to the 2.3 line, signed by the campaign
 * store's release key, its fixes naming the advisory */
static void add_backport(struct fw_store *s)
{
	const char *fixes[] = {ADVISORY};
	struct fw_release_target t = {.product = "controller",
	                              .family = "ctl-a",
	                              .from = ">=2.0.0 <2.3.10",
	                              .fixes = fixes,
	                              .nfixes = 1};
	struct fw_suit_manifest m;
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};
	uint8_t img[4096], *env = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	uint64_t idx;

	memset(img, 0x43, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = 43;
	m.version = "2.3.10";
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	if (fw_key_load_private(bench_in_dir("rel.key"), &k, &d) != FW_OK ||
	    fw_suit_sign(&m, k, &env, &len, &d) != FW_OK)
		bench_die("backport release", d.msg);
	fw_key_free(k);
	write_file(bench_in_dir("fix.suit"), env, len);
	write_file(bench_in_dir("fix.bin"), img, sizeof(img));
	free(env);
	if (fw_registry_release_add(s, bench_in_dir("fix.suit"), bench_in_dir("fix.bin"), &t,
	                            "bench", &doc, &idx, &d) != FW_OK)
		bench_die("backport release add", d.msg);
	json_decref(doc);
}

static void write_fleet(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	long i;

	if (f == NULL)
		bench_die(path, "cannot write");
	fputs("device_id,product,family,hw_revision,fw_version,cohorts,support_until,lifecycle,"
	      "certificate\n",
	      f);
	for (i = 0; i < n; i++)
		fprintf(f, "dev-%08ld,controller,%s,%s,%s,%s,%s,%s,\n", i, is_ctl_b(i) ? "ctl-b" : "ctl-a",
		        i % 2 ? "B" : "C", version_of(i), i % 3 ? "eu" : "beta;us",
		        support_ended(i) ? "2025-06-30" : "2034-12-31", lifecycle_of(i));
	if (fclose(f) != 0)
		bench_die(path, "cannot write");
}

/* The members' rows, in one transaction; rec and rec_lh those of the
 * campaign's own member (its start). Returns the members written. */
static long add_members(struct fw_store *s, const char *campaign, long n, long *open)
{
	struct fw_rollout_row first, r;
	struct fw_diag d = {{0}};
	long i, m = 0;

	if (fw_store_rollout_get(s, campaign, "ctl-0001", &first, &d) != FW_OK)
		bench_die("the campaign's member", d.msg);
	*open = unfinished(first.state, first.due_ms);
	if (fw_store_begin(s, &d) != FW_OK)
		bench_die("members", d.msg);
	memset(&r, 0, sizeof(r));
	snprintf(r.campaign, sizeof(r.campaign), "%s", campaign);
	r.rec = first.rec;
	memcpy(r.rec_lh, first.rec_lh, 32);
	for (i = 0; i < n; i++) {
		if (!is_member(i))
			continue;
		snprintf(r.device, sizeof(r.device), "dev-%08ld", i);
		r.state = state_of(i, &r.due_ms);
		r.stage = r.state == FW_U_INELIGIBLE ? FW_ROLLOUT_NO_STAGE : 2;
		r.attempts = r.state == FW_U_PENDING ? 0 : 1;
		r.failures = r.state == FW_U_FAILED;
		if (fw_store_rollout_put(s, &r, 0, &d) != FW_OK)
			bench_die("member row", d.msg);
		m++;
		*open += unfinished(r.state, r.due_ms);
	}
	if (fw_store_commit(s, &d) != FW_OK)
		bench_die("members", d.msg);
	return m + 1;
}

/* ---- the floor ---- */

#define SCAN_SQL                                                                             \
	"SELECT d.id, d.product, d.family, d.hw_revision, d.fw_version, d.cohorts, "             \
	"d.support_until, d.lifecycle, d.cert, d.ident_ok, d.rec, d.rec_lh, d.rec_pos, "         \
	"c.sha256, c.issuer_hash, c.serial, c.not_before, c.not_after, c.chain_ok, "             \
	"c.chain_error, c.revoked, c.der FROM devices d LEFT JOIN certs c ON c.sha256 = d.cert " \
	"ORDER BY d.id"

static double floor_run(sqlite3 *db, const uint8_t *list, size_t len, uint64_t *rows)
{
	sqlite3_stmt *st = NULL;
	volatile size_t sink = 0;
	uint8_t sha[32];
	size_t off = 0;
	double t0 = bench_now();
	int rc, k, fd;

	*rows = 0;
	if (sqlite3_prepare_v2(db, SCAN_SQL, -1, &st, NULL) != SQLITE_OK)
		bench_die("floor", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (k = 0; k < 22; k++) {
			const void *p = sqlite3_column_blob(st, k);

			sink += (size_t)sqlite3_column_bytes(st, k) + (p != NULL);
		}
		(*rows)++;
	}
	if (rc != SQLITE_DONE)
		bench_die("floor", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	fd = open(bench_in_dir("floor.list"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		bench_die("floor", "cannot write floor.list");
	while (off < len) {
		ssize_t w = write(fd, list + off, len - off);

		if (w <= 0)
			bench_die("floor", "cannot write floor.list");
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		bench_die("floor", "cannot sync floor.list");
	fw_sha256(list, len, sha);
	sink += sha[0];
	return bench_now() - t0;
}

/* ---- the runs ---- */

static double affected_run(struct fw_store *s, struct fw_vuln_cohort *c)
{
	struct fw_diag d = {{0}};
	double t0 = bench_now();

	if (fw_vuln_affected(s, ADVISORY, fw_time_ms() / 1000, "bench", c, &d) != FW_OK)
		bench_die("vuln affected", d.msg);
	return bench_now() - t0;
}

static double cli_run(const char *cli, const char *db)
{
	char cmd[9000];
	double t0;

	snprintf(cmd, sizeof(cmd), "'%s' vuln affected %s --db '%s' >/dev/null", cli, ADVISORY, db);
	t0 = bench_now();
	if (system(cmd) != 0)
		bench_die("fwtrust vuln affected", cmd);
	return bench_now() - t0;
}

static int noop_device(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	(void)dev;
	(void)cert;
	(*(uint64_t *)arg)++;
	return 0;
}

static int noop_row(void *arg, const struct fw_rollout_row *r)
{
	(void)r;
	(*(uint64_t *)arg)++;
	return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *p;

	if (f == NULL || fstat(fileno(f), &sb) != 0)
		bench_die(path, "cannot read");
	p = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (p == NULL || fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
		bench_die(path, "cannot read");
	fclose(f);
	*len = (size_t)sb.st_size;
	return p;
}

static void print_row(const char *label, const double *t, int n, double floor_med)
{
	double m = median(t, n);

	printf("  %-52s %8.2f %8.2f   %5.2fx the floor\n", label, m, best(t, n), m / floor_med);
}

static void print_runs(const char *label, const double *t, int n)
{
	int i;

	printf("    %-8s", label);
	for (i = 0; i < n; i++)
		printf(" %.3f", t[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *cli = NULL;
	struct fw_store *s;
	struct fw_diag d = {{0}};
	struct fw_rollout_ctx cx = {0, "bench", NULL, NULL};
	struct fw_vuln_cohort c;
	struct fw_import_stats st;
	struct rusage ru;
	sqlite3 *fdb = NULL;
	char campaign[32], db[4200], path[4300];
	double t0, t_import, t_members, tf[MAX_ROUNDS], tl[MAX_ROUNDS], tc[MAX_ROUNDS], t_scan,
	    t_rows, target;
	uint64_t want[FW_VB_COUNT] = {0}, want_cohort, rows = 0, scanned = 0, member_rows = 0;
	long devices = 1000000, members, open_members, i;
	uint8_t *list;
	size_t list_len;
	int rounds = 5, r, b;

	bench_name = "bench_vuln";
	for (r = 1; r < argc; r++) {
		if (strcmp(argv[r], "--devices") == 0 && r + 1 < argc)
			devices = strtol(argv[++r], NULL, 10);
		else if (strcmp(argv[r], "--rounds") == 0 && r + 1 < argc)
			rounds = (int)strtol(argv[++r], NULL, 10);
		else if (strcmp(argv[r], "--dir") == 0 && r + 1 < argc)
			base = argv[++r];
		else if (strcmp(argv[r], "--fwtrust") == 0 && r + 1 < argc)
			cli = argv[++r];
		else {
			fprintf(stderr, "usage: bench_vuln [--devices N] [--rounds R] [--dir DIR] "
			                "[--fwtrust PATH]\n");
			return 2;
		}
	}
	if (devices < 1000 || devices > 10000000 || rounds < 3 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_vuln: --devices 1000..10000000, --rounds 3..%d\n", MAX_ROUNDS);
		return 2;
	}
	if (cli && access(cli, X_OK) != 0) {
		fprintf(stderr, "bench_vuln: --fwtrust %s: not an executable\n", cli);
		return 2;
	}
	snprintf(bench_dir, sizeof(bench_dir), "%s/fwtrust-bench-vuln.XXXXXX", base);
	if (mkdtemp(bench_dir) == NULL) {
		perror("bench_vuln: mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s", bench_in_dir("real.db"));

	/* the store: the campaign starts while ctl-0001 is the registry's one
	 * device (the imported devices have no certificate: at a start they
	 * would all be ineligible), then the fleet and the members */
	s = bench_campaign_store(campaign);
	add_operator(s);
	cx.now_ms = fw_time_ms();
	if (fw_rollout_start(s, campaign, "op", &cx, NULL, &d) != FW_OK)
		bench_die("campaign start", d.msg);
	add_advisory(s);
	add_backport(s);
	write_fleet(bench_in_dir("fleet.csv"), devices - 1);
	t0 = bench_now();
	if (fw_registry_device_import(s, bench_in_dir("fleet.csv"), "bench", NULL, NULL, &st, &d) !=
	    FW_OK)
		bench_die("import", d.msg);
	t_import = bench_now() - t0;
	unlink(bench_in_dir("fleet.csv"));
	t0 = bench_now();
	members = add_members(s, campaign, devices - 1, &open_members);
	t_members = bench_now() - t0;
	/* the reference: ctl-0001 (2.3.0, active, an unfinished member) is
	 * being remediated */
	want[FW_VB_REMEDIATING] = 1;
	for (i = 0; i < devices - 1; i++)
		want[expected_bucket(i)]++;
	want_cohort = 0;
	for (b = 1; b < FW_VB_COUNT; b++)
		want_cohort += want[b];
	sync(); /* the build's writeback is not the runs' */

	printf("vuln affected: advisory %s (controller / ctl-a, >=2.0.0 <2.4.1, fixed in 2.4.1) "
	       "over %ld devices; %ld CPUs, SQLite %s\n",
	       ADVISORY, devices, sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion());
	printf("  store: a real one (WAL, synchronous=FULL); %ld devices imported from CSV in "
	       "%.1f s, without certificates\n",
	       devices - 1, t_import);
	printf("  campaign: running, release 2.4.1, %ld members (%ld unfinished); the imported "
	       "devices' rows written directly in %.1f s\n"
	       "    (most pending as a start writes them, some delivered, failed, installed or "
	       "ineligible; no record each)\n",
	       members, open_members, t_members);

	/* the warm-up: one run of each, untimed; fwtrust's list for the floor */
	memset(&c, 0, sizeof(c));
	(void)affected_run(s, &c);
	if (c.devices != (uint64_t)devices || c.cohort != want_cohort || c.ncampaigns != 1)
		bench_die("vuln affected", "devices, cohort or campaigns differ from the fleet built");
	for (b = 1; b < FW_VB_COUNT; b++)
		if (c.counts[b] != want[b]) {
			fprintf(stderr, "bench_vuln: %s: %llu devices, the fleet built has %llu\n",
			        fw_vuln_bucket_name(b), (unsigned long long)c.counts[b],
			        (unsigned long long)want[b]);
			bench_die("vuln affected", "a bucket's count differs from the fleet built");
		}
	fw_store_blob_path(s, c.list_sha256, path, sizeof(path));
	list = read_all(path, &list_len);
	if (list_len != c.list_size)
		bench_die(path, "not the list's size");
	if (sqlite3_open_v2(db, &fdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		bench_die(db, "cannot open");
	(void)floor_run(fdb, list, list_len, &rows);
	if (rows != (uint64_t)devices)
		bench_die("floor", "not every device read");
	if (cli)
		(void)cli_run(cli, db);

	for (r = 0; r < rounds; r++) {
		tf[r] = floor_run(fdb, list, list_len, &rows);
		tl[r] = affected_run(s, &c);
		if (c.cohort != want_cohort)
			bench_die("vuln affected", "the cohort changed between rounds");
		if (cli)
			tc[r] = cli_run(cli, db);
	}
	/* where the time goes, once each: the scan alone, the members alone */
	t0 = bench_now();
	if (fw_store_device_scan(s, noop_device, &scanned, &d) != FW_OK)
		bench_die("device scan", d.msg);
	t_scan = bench_now() - t0;
	t0 = bench_now();
	if (fw_store_rollout_scan(s, campaign, -1, -1, INT64_MAX, noop_row, &member_rows, &d) !=
	    FW_OK)
		bench_die("rollout scan", d.msg);
	t_rows = bench_now() - t0;

	printf("  cohort: %llu of %llu devices: isolated %llu, cannot_be_remediated %llu, "
	       "being_remediated %llu, exposed %llu, remediated %llu (as built); list %.1f MB\n",
	       (unsigned long long)c.cohort, (unsigned long long)c.devices,
	       (unsigned long long)c.counts[FW_VB_ISOLATED], (unsigned long long)c.counts[FW_VB_CANNOT],
	       (unsigned long long)c.counts[FW_VB_REMEDIATING],
	       (unsigned long long)c.counts[FW_VB_EXPOSED],
	       (unsigned long long)c.counts[FW_VB_REMEDIATED], (double)c.list_size / 1e6);
	printf("  %d rounds, taking turns, page cache warm             median s   best s\n", rounds);
	printf("  %-52s %8.2f %8.2f   1.00x\n",
	       "floor: SELECT of the devices, list written+SHA-256", median(tf, rounds),
	       best(tf, rounds));
	print_row("fwtrust vuln affected (library, recorded)", tl, rounds, median(tf, rounds));
	if (cli) {
		print_row("fwtrust vuln affected --db (CLI)", tc, rounds, median(tf, rounds));
		if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
			printf("  CLI peak memory (max RSS): %.0f MB\n", (double)ru.ru_maxrss / 1024);
	}
	printf("  parts, once each: the device scan with nothing done per row %.2f s (%llu rows); "
	       "the campaign's rows %.2f s (%llu rows)\n",
	       t_scan, (unsigned long long)scanned, t_rows, (unsigned long long)member_rows);
	printf("  each run (s):\n");
	print_runs("floor", tf, rounds);
	print_runs("library", tl, rounds);
	if (cli)
		print_runs("CLI", tc, rounds);
	target = median(cli ? tc : tl, rounds);
	if (devices >= 1000000)
		printf("  target: seconds for 1,000,000 devices: %s (< 10 s; %.2f s per 1,000,000, %s)\n",
		       target * 1e6 / (double)devices < 10.0 ? "met" : "not met",
		       target * 1e6 / (double)devices, cli ? "CLI" : "library");
	else
		printf("  target: seconds for 1,000,000 devices: (scaled) n/a (< 10 s; run with "
		       "--devices 1000000)\n");
	sqlite3_close(fdb);
	free(list);
	fw_store_close(s);
	bench_rmtree(bench_dir);
	return 0;
}
