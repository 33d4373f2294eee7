/* The log on a store: appends, checkpoints when due, proofs, argument errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "store/store.h"

static struct fw_store *new_log(struct fw_key **key)
{
	static int n;
	char db[600], base[700];
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};

	snprintf(db, sizeof(db), "%s/log-%d.db", harness_tmpdir(), ++n);
	snprintf(base, sizeof(base), "%s-log", db);
	if (fw_store_open(db, 1, &s, &d) != FW_OK || fw_evidence_setup(s, "test.example/log", base, &d) != FW_OK ||
	    fw_evidence_log_key(s, NULL, key, &d) != FW_OK) {
		harness_fail(__FILE__, __LINE__, "setup: %s", d.msg);
		fw_store_close(s);
		return NULL;
	}
	return s;
}

static int add(struct fw_store *s, int i)
{
	json_t *r = fw_evidence_record_new("test.event", "test");
	int rc;

	json_object_set_new(r, "i", json_integer(i));
	rc = fw_evidence_commit(s, NULL, r, NULL, NULL, NULL);
	json_decref(r);
	return rc;
}

static void t_append_rules(void)
{
	struct fw_key *key = NULL;
	struct fw_store *s = new_log(&key);
	struct fw_diag d = {{0}};
	uint8_t lh[32], root[32], *rec = NULL;
	uint64_t idx = 99, size = 0;
	size_t len = 0;
	json_t *r;
	int i;

	if (!s)
		return;
	r = fw_evidence_record_new("test.event", "test");
	/* outside a transaction: refused, nothing written */
	CHECK_EQ(fw_evidence_append(s, r, &idx, lh, &d), FW_E_ARG);
	/* floats are not canonical: refused, nothing written */
	json_object_set_new(r, "bad", json_real(0.5));
	CHECK_EQ(fw_evidence_commit(s, NULL, r, &idx, lh, &d), FW_E_FORMAT);
	json_decref(r);
	CHECK_EQ(fw_evidence_size(s, &size, root, &d), FW_OK);
	CHECK_EQ(size, 0);
	for (i = 0; i < 5; i++)
		CHECK_EQ(add(s, i), FW_OK);
	CHECK_EQ(fw_evidence_size(s, &size, root, &d), FW_OK);
	CHECK_EQ(size, 5);
	CHECK_EQ(fw_evidence_get(s, 4, &rec, &len, lh, &d), FW_OK);
	CHECK(rec && strstr((char *)rec, "\"i\":4") != NULL && strstr((char *)rec, "\"v\":1") != NULL);
	free(rec);
	CHECK_EQ(fw_evidence_get(s, 5, &rec, &len, lh, &d), FW_E_NOT_FOUND);
	fw_key_free(key);
	fw_store_close(s);
}

static void t_checkpoints_and_due(void)
{
	struct fw_key *key = NULL;
	struct fw_store *s = new_log(&key);
	struct fw_diag d = {{0}};
	struct fw_checkpoint cp;
	char *a = NULL, *b = NULL, *proof = NULL;
	int due = -1, i;

	if (!s)
		return;
	CHECK_EQ(fw_evidence_latest(s, &a, &cp, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_evidence_checkpoint_due(s, 3, 0, &due, &d), FW_OK);
	CHECK_EQ(due, 0); /* nothing to sign */
	for (i = 0; i < 2; i++)
		CHECK_EQ(add(s, i), FW_OK);
	CHECK_EQ(fw_evidence_checkpoint_due(s, 3, 0, &due, &d), FW_OK);
	CHECK_EQ(due, 0);
	CHECK_EQ(add(s, 2), FW_OK);
	CHECK_EQ(fw_evidence_checkpoint_due(s, 3, 0, &due, &d), FW_OK);
	CHECK_EQ(due, 1);
	/* by time: the oldest unsigned record's ts is older than 1 ms by now */
	CHECK_EQ(fw_evidence_checkpoint_due(s, 0, 3600000, &due, &d), FW_OK);
	CHECK_EQ(due, 0);
	{
		struct timespec wait = {0, 5 * 1000 * 1000};

		nanosleep(&wait, NULL); /* the record is now >= 5 ms old */
	}
	CHECK_EQ(fw_evidence_checkpoint_due(s, 0, 1, &due, &d), FW_OK);
	CHECK_EQ(due, 1);
	CHECK_EQ(fw_evidence_checkpoint(s, key, &a, &d), FW_OK);
	/* no growth: the same note, not a second one for the same size */
	CHECK_EQ(fw_evidence_checkpoint(s, key, &b, &d), FW_OK);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK_EQ(fw_evidence_checkpoint_due(s, 1, 1, &due, &d), FW_OK);
	CHECK_EQ(due, 0);
	CHECK_EQ(fw_evidence_latest(s, NULL, &cp, &d), FW_OK);
	CHECK_EQ(cp.size, 3);
	CHECK(strcmp(cp.origin, "test.example/log") == 0);
	CHECK_EQ(fw_evidence_prove(s, 3, &proof, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "0 to 2") != NULL);
	CHECK_EQ(fw_evidence_prove(s, 2, &proof, &d), FW_OK);
	free(proof);
	free(a);
	free(b);
	fw_key_free(key);
	fw_store_close(s);
}

static void t_consistency_args(void)
{
	struct fw_key *key = NULL;
	struct fw_store *s = new_log(&key);
	struct fw_consistency_proof p;
	struct fw_diag d = {{0}};
	char *note = NULL;
	int i;

	if (!s)
		return;
	for (i = 0; i < 6; i++)
		CHECK_EQ(add(s, i), FW_OK);
	CHECK_EQ(fw_evidence_checkpoint(s, key, &note, &d), FW_OK);
	free(note);
	CHECK_EQ(fw_evidence_consistency(s, 0, 0, &p, &d), FW_E_ARG);
	CHECK_EQ(fw_evidence_consistency(s, 7, 0, &p, &d), FW_E_ARG);
	CHECK_EQ(fw_evidence_consistency(s, 2, 9, &p, &d), FW_E_ARG);
	CHECK_EQ(fw_evidence_consistency(s, 2, 0, &p, &d), FW_OK);
	CHECK(p.old_size == 2 && p.new_size == 6 && p.n > 0);
	fw_key_free(key);
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"append_rules", t_append_rules},
    {"checkpoints_and_due", t_checkpoints_and_due},
    {"consistency_args", t_consistency_args},
};
HARNESS_MAIN(tests)
