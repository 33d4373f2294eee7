/*
 * crash_writer: appends evidence in batches so tests/e2e/test_crash.sh can
 * kill it with SIGKILL at any moment and check that nothing acknowledged
 * was lost and nothing half-written was kept.
 *
 *   crash_writer DB [BATCHES [PER_BATCH]]
 *
 * Opens DB (creating it with a log key DB-log.key/.pub when it does not
 * exist), then BATCHES times: begin, PER_BATCH appends, commit, and only
 * then print "acked <index of the batch's last record>" and flush. A
 * line on stdout is therefore a promise that the batch is durable.
 * Not a test itself; exits 0 when all batches are written.
 *
 * CRASH_AT=<batch>:mid|commit in the environment makes the kill
 * deterministic: SIGKILL to itself in the middle of that batch's
 * transaction, or right after its commit and before its "acked" line.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"
#include "evidence/evidence.h"
#include "store/store.h"

static int die(const char *what, const struct fw_diag *d)
{
	fprintf(stderr, "crash_writer: %s: %s\n", what, d->msg);
	return 2;
}

static unsigned long arg(const char *s, unsigned long def)
{
	char *end;
	unsigned long v;

	if (s == NULL)
		return def;
	v = strtoul(s, &end, 10);
	return *s && *end == '\0' && v > 0 && v <= 1000000 ? v : 0;
}

/*
 * A new store appears under its name only once it is complete (created,
 * schema, log key, origin): it is made under DB.new and renamed, so a
 * kill during creation leaves no half-made store at DB. Leftovers of such
 * a kill (DB.new, its WAL, the key files) are removed first.
 */
static int create(const char *db, struct fw_diag *d)
{
	struct fw_store *s = NULL;
	char tmp[4200], p[4300], base[4200];
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.new", db);
	snprintf(base, sizeof(base), "%s-log", db);
	unlink(tmp);
	snprintf(p, sizeof(p), "%s-wal", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s.key", base);
	unlink(p);
	snprintf(p, sizeof(p), "%s.pub", base);
	unlink(p);
	rc = fw_store_open(tmp, 1, &s, d);
	if (rc == FW_OK)
		rc = fw_evidence_setup(s, "crash.test/log", base, d);
	fw_store_close(s); /* the last connection: the WAL is folded into the file */
	if (rc == FW_OK && rename(tmp, db) != 0)
		rc = fw_diag_set(d, FW_E_IO, "rename %s -> %s failed", tmp, db);
	return rc;
}

int main(int argc, char **argv)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	unsigned long batches, per, b, i;
	uint64_t idx = 0, size = 0;
	unsigned long crash_batch = 0;
	char actor[64], crash_point[16] = "";
	const char *crash = getenv("CRASH_AT");
	int rc;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: crash_writer DB [BATCHES [PER_BATCH]]\n");
		return 2;
	}
	batches = arg(argc > 2 ? argv[2] : NULL, 100000);
	per = arg(argc > 3 ? argv[3] : NULL, 20);
	if (batches == 0 || per == 0) {
		fprintf(stderr, "crash_writer: BATCHES and PER_BATCH: 1 to 1000000\n");
		return 2;
	}
	if (crash && (sscanf(crash, "%lu:%15s", &crash_batch, crash_point) != 2 ||
	              (strcmp(crash_point, "mid") != 0 && strcmp(crash_point, "commit") != 0))) {
		fprintf(stderr, "crash_writer: CRASH_AT: <batch>:mid or <batch>:commit\n");
		return 2;
	}
	if (access(argv[1], F_OK) != 0 && (rc = create(argv[1], &d)) != FW_OK)
		return die("creating the store", &d);
	rc = fw_store_open(argv[1], 0, &s, &d);
	if (rc == FW_OK)
		rc = fw_evidence_size(s, &size, NULL, &d);
	if (rc != FW_OK) {
		fw_store_close(s);
		return die("opening the store", &d);
	}
	snprintf(actor, sizeof(actor), "test:crash_writer:%ld", (long)getpid());
	fprintf(stderr, "crash_writer: %s has %llu records\n", argv[1], (unsigned long long)size);
	for (b = 0; b < batches; b++) {
		rc = fw_store_begin(s, &d);
		for (i = 0; rc == FW_OK && i < per; i++) {
			json_t *r;

			if (crash && b == crash_batch && i == per / 2 && strcmp(crash_point, "mid") == 0)
				raise(SIGKILL); /* inside the open transaction */
			r = fw_evidence_record_new("test.crash", actor);

			if (r == NULL) {
				rc = fw_diag_set(&d, FW_E_NOMEM, "out of memory");
				break;
			}
			json_object_set_new(r, "batch", json_integer((json_int_t)b));
			json_object_set_new(r, "i", json_integer((json_int_t)i));
			rc = fw_evidence_append(s, r, &idx, NULL, &d);
			json_decref(r);
		}
		if (rc == FW_OK)
			rc = fw_store_commit(s, &d);
		else
			fw_store_rollback(s);
		if (rc != FW_OK) {
			fw_store_close(s);
			return die("appending", &d);
		}
		if (crash && b == crash_batch && strcmp(crash_point, "commit") == 0)
			raise(SIGKILL); /* committed, not yet acknowledged */
		/* acknowledged only after the commit returned */
		printf("acked %llu\n", (unsigned long long)idx);
		fflush(stdout);
	}
	fw_store_close(s);
	return 0;
}
