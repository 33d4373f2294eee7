/*
 * libFuzzer target for the proof file parsers (src/evidence/proof.c) and
 * the Merkle verifiers (src/evidence/merkle.c) fed with what they parsed.
 *
 * The input is an untrusted c2sp.org/tlog-proof@v1 file or an
 * fwtrust-consistency/v1 file; both parsers see every input.
 *   - tlog-proof: the embedded checkpoint is opened with the log key of
 *     shared/specs/evidence-log.md §2.6 and parsed without it; the index,
 *     hashes and the checkpoint's size and root go to
 *     fw_merkle_verify_inclusion with the leaf hash of vector leaf
 *     D[index] (RFC 6962 test leaves, §1.5).
 *   - consistency: sizes and hashes go to fw_merkle_verify_consistency
 *     with the vector roots (sizes up to 8) or roots taken from the input.
 * Oracles (abort on breach): error codes in the documented set, out-params
 * untouched on failure, a parsed file formats back to the same bytes
 * (one text per value), and over the 8-leaf vector tree a proof verifies
 * only if it is the proof fw_merkle_*_proof generates (proofs are unique
 * for honest roots).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: evidence contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

static const char log_vkey[] =
	"example.org/fwupd-evidence-test+bcc41de5+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";

/* RFC 6962 test leaves D[0..7] (transparency-dev/merkle testonly) */
static const uint8_t d0[] = {0};
static const uint8_t *const leaf_data[8] = {
	d0, (const uint8_t *)"\x00", (const uint8_t *)"\x10", (const uint8_t *)"\x20\x21",
	(const uint8_t *)"\x30\x31", (const uint8_t *)"\x40\x41\x42\x43",
	(const uint8_t *)"\x50\x51\x52\x53\x54\x55\x56\x57",
	(const uint8_t *)"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};
static const size_t leaf_len[8] = {0, 1, 1, 2, 2, 4, 8, 16};

static struct fw_note_key log_key;
static uint8_t leaves[8][FW_HASH_LEN], roots[9][FW_HASH_LEN];
static int ready;

static void setup(void)
{
	size_t i;

	if (ready)
		return;
	CHECK(fw_note_vkey_parse(log_vkey, &log_key, NULL) == FW_OK);
	for (i = 0; i < 8; i++)
		fw_merkle_leaf_hash(leaf_data[i], leaf_len[i], leaves[i]);
	for (i = 0; i <= 8; i++)
		CHECK(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, i, roots[i]) == FW_OK);
	ready = 1;
}

/* the checkpoint text of a note: up to the last blank line */
static int note_text(const char *note, size_t len, size_t *tl)
{
	size_t i;

	for (i = len; i >= 2; i--) {
		if (note[i - 2] == '\n' && note[i - 1] == '\n') {
			*tl = i - 1;
			return 1;
		}
	}
	return 0;
}

static void inclusion(uint64_t index, uint64_t size, const uint8_t root[FW_HASH_LEN],
                      const uint8_t (*hashes)[FW_HASH_LEN], size_t n)
{
	uint8_t want[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	const uint8_t *leaf = index < 8 ? leaves[index] : hashes[0];
	size_t wn = 0;
	int rc;

	rc = fw_merkle_verify_inclusion(index, size, leaf, hashes, n, root);
	CHECK(rc == FW_OK || rc == FW_E_PROOF);
	if (rc == FW_OK)
		CHECK(index < size && n <= 64);
	/* the vector tree: accepted exactly when it is the generated proof */
	if (size >= 1 && size <= 8 && index < size && memcmp(root, roots[size], FW_HASH_LEN) == 0) {
		CHECK(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, size, index, want,
		                                &wn) == FW_OK);
		CHECK((rc == FW_OK) == (wn == n && memcmp(want, hashes, n * FW_HASH_LEN) == 0));
	}
}

static void consistency(uint64_t m, uint64_t size, const uint8_t r1[FW_HASH_LEN],
                        const uint8_t r2[FW_HASH_LEN], const uint8_t (*hashes)[FW_HASH_LEN],
                        size_t n, int vector_roots)
{
	uint8_t want[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	size_t wn = 0;
	int rc = fw_merkle_verify_consistency(m, size, r1, r2, hashes, n);

	CHECK(rc == FW_OK || rc == FW_E_PROOF);
	if (rc == FW_OK)
		CHECK(m <= size && (m > 0 || size == 0) && (m != size || n == 0));
	if (vector_roots) {
		CHECK(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, m, size, want,
		                                  &wn) == FW_OK);
		CHECK((rc == FW_OK) == (wn == n && memcmp(want, hashes, n * FW_HASH_LEN) == 0));
	}
}

static void tlog_proof(const char *s, size_t len)
{
	struct fw_tlog_proof p;
	struct fw_checkpoint c;
	struct fw_diag d;
	char *back = NULL;
	size_t tl;
	int rc;

	memset(&p, 0x6b, sizeof(p));
	rc = fw_tlog_proof_parse(s, len, &p, &d);
	CHECK(rc == FW_OK || rc == FW_E_NOTE);
	if (rc != FW_OK) {
		CHECK(p.index == 0x6b6b6b6b6b6b6b6bull);
		return;
	}
	CHECK(p.n <= FW_MERKLE_MAX_PROOF && p.note != NULL && p.note_len > 0);
	CHECK(p.note_len <= FW_NOTE_MAX && p.note[p.note_len] == '\0');
	/* one text per value: what parsed formats back to the same bytes */
	if (strlen(p.note) == p.note_len && p.note[p.note_len - 1] == '\n') {
		CHECK(fw_tlog_proof_format(p.index, (const uint8_t(*)[FW_HASH_LEN])p.hashes, p.n, p.note,
		                           &back) == FW_OK);
		CHECK(strlen(back) == len && memcmp(back, s, len) == 0);
		free(back);
	}
	rc = fw_checkpoint_open(p.note, p.note_len, &log_key, NULL, &c, &d);
	CHECK(rc == FW_OK || rc == FW_E_NOTE || rc == FW_E_SIGNATURE || rc == FW_E_NOT_FOUND);
	if (rc != FW_OK) {
		/* unsigned: its text still drives the verifier */
		if (!note_text(p.note, p.note_len, &tl) ||
		    fw_checkpoint_parse(p.note, tl, &c, &d) != FW_OK)
			goto out;
	}
	inclusion(p.index, c.size, c.root, (const uint8_t(*)[FW_HASH_LEN])p.hashes, p.n);
out:
	fw_tlog_proof_clear(&p);
	CHECK(p.note == NULL);
}

static void consistency_file(const char *s, size_t len)
{
	struct fw_consistency_proof p;
	struct fw_diag d;
	const uint8_t(*h)[FW_HASH_LEN];
	char *back = NULL;
	int rc;

	memset(&p, 0x6b, sizeof(p));
	rc = fw_consistency_parse(s, len, &p, &d);
	CHECK(rc == FW_OK || rc == FW_E_NOTE);
	if (rc != FW_OK) {
		CHECK(p.old_size == 0x6b6b6b6b6b6b6b6bull);
		return;
	}
	CHECK(p.old_size >= 1 && p.old_size <= p.new_size && p.n <= FW_MERKLE_MAX_PROOF);
	CHECK(fw_consistency_format(&p, &back) == FW_OK);
	CHECK(strlen(back) == len && memcmp(back, s, len) == 0);
	free(back);
	h = (const uint8_t(*)[FW_HASH_LEN])p.hashes;
	if (p.new_size <= 8) {
		consistency(p.old_size, p.new_size, roots[p.old_size], roots[p.new_size], h, p.n, 1);
	} else if (p.n >= 2) {
		/* roots from the input: the first and last hash */
		consistency(p.old_size, p.new_size, h[0], h[p.n - 1], h, p.n, 0);
		consistency(p.old_size, p.new_size, h[p.n - 1], h[0], h, p.n, 0);
	}
	/* the same hashes as an inclusion proof in the vector tree */
	if (p.n > 0)
		inclusion(p.old_size - 1, p.new_size, p.new_size <= 8 ? roots[p.new_size] : h[0], h,
		          p.n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	tlog_proof((const char *)data, size);
	consistency_file((const char *)data, size);
	return 0;
}
