/*
 * evidence: the tamper-evident evidence log.
 *
 * Every trust decision is a canonical JSON record appended as a leaf of an
 * RFC 6962/9162 Merkle tree (SHA-256, leaf prefix 0x00, node prefix 0x01).
 * The log signs C2SP tlog-checkpoints (C2SP signed notes, Ed25519) and
 * answers inclusion and consistency proofs that an auditor checks offline.
 *
 * Three layers, all behind this header:
 *   - pure Merkle arithmetic and proofs (merkle.c): no I/O;
 *   - C2SP formats (note.c, proof.c): signed notes, checkpoints, tlog-proof
 *     files, consistency proof files; strict parsers of untrusted text;
 *   - the log on a store (log.c, audit.c): append in the caller's
 *     transaction, checkpoints, proofs, full verification.
 */
#ifndef FW_EVIDENCE_H
#define FW_EVIDENCE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "crypto/crypto.h"

struct fw_store;

#define FW_HASH_LEN 32
#define FW_MERKLE_MAX_PROOF 64     /* hashes in any proof of a tree < 2^63 leaves */

/* ---- Merkle tree (RFC 6962 §2.1, RFC 9162 §2.1) ---- */

/* SHA-256(0x00 || data) */
void fw_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[FW_HASH_LEN]);
/* SHA-256(0x01 || left || right) */
void fw_merkle_node_hash(const uint8_t left[FW_HASH_LEN], const uint8_t right[FW_HASH_LEN],
                         uint8_t out[FW_HASH_LEN]);

/* Evidence leaves carry a domain tag: leaf data = FW_EVIDENCE_TAG || record. */
#define FW_EVIDENCE_TAG "fwtrust-evidence/v1\n"
void fw_evidence_leaf_hash(const uint8_t *record, size_t len, uint8_t out[FW_HASH_LEN]);

/* Compact range: the roots of the perfect subtrees covering [0, size),
 * largest first (one per set bit of size). Root of any size in O(log n). */
struct fw_compact_range {
	uint64_t size;
	unsigned n;
	uint8_t hashes[64][FW_HASH_LEN];
};
void fw_compact_range_init(struct fw_compact_range *cr);
void fw_compact_range_append(struct fw_compact_range *cr, const uint8_t leaf[FW_HASH_LEN]);
/* MTH of [0, size); for size 0 the SHA-256 of the empty string. */
void fw_compact_range_root(const struct fw_compact_range *cr, uint8_t out[FW_HASH_LEN]);
/* Serialized form for the store: 8-byte big-endian size, then n hashes.
 * decode checks n == popcount(size) and the length (untrusted bytes). */
size_t fw_compact_range_encode(const struct fw_compact_range *cr, uint8_t *out, size_t cap);
FW_NODISCARD int fw_compact_range_decode(const uint8_t *p, size_t len,
                                         struct fw_compact_range *out);

/* Proofs computed from the leaf hashes of the whole tree (leaves[0..size)).
 * proof receives up to FW_MERKLE_MAX_PROOF hashes, *n their count.
 * FW_E_ARG when index >= size, old_size == 0 or old_size > new_size. */
FW_NODISCARD int fw_merkle_root(const uint8_t (*leaves)[FW_HASH_LEN], uint64_t size,
                                uint8_t out[FW_HASH_LEN]);
FW_NODISCARD int fw_merkle_inclusion_proof(const uint8_t (*leaves)[FW_HASH_LEN], uint64_t size,
                                           uint64_t index,
                                           uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN],
                                           size_t *n);
FW_NODISCARD int fw_merkle_consistency_proof(const uint8_t (*leaves)[FW_HASH_LEN],
                                             uint64_t old_size, uint64_t new_size,
                                             uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN],
                                             size_t *n);

/* Verification (RFC 9162 §2.1.3.2 and §2.1.4.2). FW_OK or FW_E_PROOF.
 * Wrong proof lengths are refused before any hashing. */
FW_NODISCARD int fw_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                            const uint8_t leaf[FW_HASH_LEN],
                                            const uint8_t (*proof)[FW_HASH_LEN], size_t n,
                                            const uint8_t root[FW_HASH_LEN]);
FW_NODISCARD int fw_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                              const uint8_t old_root[FW_HASH_LEN],
                                              const uint8_t new_root[FW_HASH_LEN],
                                              const uint8_t (*proof)[FW_HASH_LEN], size_t n);

/* ---- C2SP signed notes (signed-note v1), Ed25519 only ---- */

#define FW_NOTE_MAX 8192           /* bytes of one note */
#define FW_NOTE_MAX_SIGS 100       /* more signature lines: malformed (as Go) */
#define FW_NOTE_NAME_MAX 255

/* A note verifier key: name, 4-byte key id, Ed25519 public key. */
struct fw_note_key {
	char name[FW_NOTE_NAME_MAX + 1];
	uint32_t id;                   /* SHA-256(name || 0x0A || 0x01 || pub)[:4], big-endian */
	uint8_t pub[32];
};
/* Name must be non-empty, no spaces/'+', no control characters. */
FW_NODISCARD int fw_note_key_init(struct fw_note_key *k, const char *name, const uint8_t pub[32]);
/* vkey text "<name>+<hex8 id>+<base64(0x01 || pub)>"; format writes a NUL-ended string. */
FW_NODISCARD int fw_note_vkey_format(const struct fw_note_key *k, char *out, size_t cap);
FW_NODISCARD int fw_note_vkey_parse(const char *s, struct fw_note_key *out, struct fw_diag *d);

/* Sign text (UTF-8, ends with "\n", no blank lines) as name with an Ed25519
 * fw_key. *out (malloc'd, NUL-ended) = text "\n" "— name base64(id||sig)\n". */
FW_NODISCARD int fw_note_sign(const char *text, const char *name, const struct fw_key *key,
                              char **out, struct fw_diag *d);

/* Strictly parse an untrusted note and verify it against key. Signatures of
 * other keys are ignored; a signature line by key (same name and id) that
 * fails verification rejects the note. On FW_OK *text_len is the length of
 * the signed text (which starts at note[0]).
 * Errors: FW_E_NOTE malformed (d says which line and why), FW_E_NOT_FOUND
 * no signature line by this key (name and id), FW_E_SIGNATURE a line by
 * this key whose signature does not verify. */
FW_NODISCARD int fw_note_verify(const char *note, size_t len, const struct fw_note_key *key,
                                size_t *text_len, struct fw_diag *d);

/* ---- C2SP tlog-checkpoint ---- */

#define FW_ORIGIN_MAX 255
struct fw_checkpoint {
	char origin[FW_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[FW_HASH_LEN];
};
/* "<origin>\n<size>\n<base64 root>\n", malloc'd. */
FW_NODISCARD int fw_checkpoint_format(const struct fw_checkpoint *c, char **out);
/* Parse checkpoint text (the signed text of a note): origin line, decimal
 * size without leading zeros, canonical base64 of 32 bytes, then optional
 * non-empty extension lines (ignored). FW_E_NOTE on any deviation. */
FW_NODISCARD int fw_checkpoint_parse(const char *text, size_t len, struct fw_checkpoint *out,
                                     struct fw_diag *d);
/* Verify a signed checkpoint note with key and parse it; when origin is not
 * NULL it must match. FW_E_NOTE, FW_E_NOT_FOUND (no signature by key),
 * FW_E_SIGNATURE (a bad one), FW_E_ORIGIN, FW_E_CRYPTO, FW_E_NOMEM. */
FW_NODISCARD int fw_checkpoint_open(const char *note, size_t len, const struct fw_note_key *key,
                                    const char *origin, struct fw_checkpoint *out,
                                    struct fw_diag *d);

/* ---- proof files ---- */

/* c2sp.org/tlog-proof@v1: "c2sp.org/tlog-proof@v1\nindex <n>\n<b64>\n...\n\n<note>" */
struct fw_tlog_proof {
	uint64_t index;
	size_t n;
	uint8_t hashes[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	char *note;                    /* the embedded signed checkpoint (malloc'd) */
	size_t note_len;
};
FW_NODISCARD int fw_tlog_proof_format(uint64_t index, const uint8_t (*hashes)[FW_HASH_LEN],
                                      size_t n, const char *note, char **out);
FW_NODISCARD int fw_tlog_proof_parse(const char *s, size_t len, struct fw_tlog_proof *out,
                                     struct fw_diag *d);
void fw_tlog_proof_clear(struct fw_tlog_proof *p);

/* Consistency proof file: "fwtrust-consistency/v1\nold <m>\nnew <n>\n<b64>\n..." */
struct fw_consistency_proof {
	uint64_t old_size, new_size;
	size_t n;
	uint8_t hashes[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
};
FW_NODISCARD int fw_consistency_format(const struct fw_consistency_proof *p, char **out);
FW_NODISCARD int fw_consistency_parse(const char *s, size_t len, struct fw_consistency_proof *out,
                                      struct fw_diag *d);

/* ---- the log on a store (log.c) ---- */

/* A new record with the fields every record has: v (1), type, ts (Unix
 * ms, as claimed by this host), actor. New reference; add fields, then
 * append. */
json_t *fw_evidence_record_new(const char *type, const char *actor);
/* A reference to a record, {"idx": n, "lh": "<hex leaf hash>"}, as records
 * ("refs") and registry documents ("added", "updated", ...) hold them (new
 * reference); and read back: FW_E_STORE when malformed. */
json_t *fw_evidence_ref_json(uint64_t idx, const uint8_t leaf_hash[FW_HASH_LEN]);
FW_NODISCARD int fw_evidence_ref_parse(const json_t *ref, uint64_t *idx,
                                       uint8_t leaf_hash[FW_HASH_LEN]);
/* Add {"idx":..,"lh":"<hex>"} to the record's "refs": an earlier record it
 * relied on. */
FW_NODISCARD int fw_evidence_record_ref(json_t *record, uint64_t idx,
                                        const uint8_t leaf_hash[FW_HASH_LEN]);

/* Append a record as the next leaf, inside the caller's open transaction
 * (FW_E_ARG otherwise): the index is the tree size read in the same
 * transaction, so there are no gaps. idx/leaf_hash may be NULL. */
FW_NODISCARD int fw_evidence_append(struct fw_store *s, json_t *record, uint64_t *idx,
                                    uint8_t leaf_hash[FW_HASH_LEN], struct fw_diag *d);

/* A record in its canonical bytes. Encoding needs no store and no lock: a
 * busy writer encodes records before it takes the write transaction, so
 * only hashing, the tree update and the insert happen under it. */
struct fw_evidence_entry {
	char *bytes;
	size_t len;
};
FW_NODISCARD int fw_evidence_encode(json_t *record, struct fw_evidence_entry *e,
                                    struct fw_diag *d);
void fw_evidence_entry_clear(struct fw_evidence_entry *e);
/* fw_evidence_append for an encoded record (inside the transaction). */
FW_NODISCARD int fw_evidence_append_entry(struct fw_store *s, const struct fw_evidence_entry *e,
                                          uint64_t *idx, uint8_t leaf_hash[FW_HASH_LEN],
                                          struct fw_diag *d);

/*
 * The one way to change state, in one transaction:
 *   begin; prepare(arg, record) reads state and may complete the record;
 *   append record; apply(arg, idx, leaf_hash) writes the state, which may
 *   point at its own evidence; commit.
 * If any step fails nothing is written. prepare and apply may be NULL.
 */
struct fw_evidence_change {
	int (*prepare)(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d);
	int (*apply)(struct fw_store *s, void *arg, uint64_t idx,
	             const uint8_t leaf_hash[FW_HASH_LEN], struct fw_diag *d);
	void *arg;
};
FW_NODISCARD int fw_evidence_commit(struct fw_store *s, const struct fw_evidence_change *change,
                                    json_t *record, uint64_t *idx,
                                    uint8_t leaf_hash[FW_HASH_LEN], struct fw_diag *d);

/* Committed size and root (from the stored compact range). */
FW_NODISCARD int fw_evidence_size(struct fw_store *s, uint64_t *size,
                                  uint8_t root[FW_HASH_LEN], struct fw_diag *d);
/* One record's bytes and leaf hash; *record malloc'd. */
FW_NODISCARD int fw_evidence_get(struct fw_store *s, uint64_t idx, uint8_t **record,
                                 size_t *len, uint8_t leaf_hash[FW_HASH_LEN],
                                 struct fw_diag *d);

/* Records from index from on, in order; fn as for fw_store's log scan
 * (return non-zero to stop: that value is returned). */
FW_NODISCARD int fw_evidence_scan(struct fw_store *s, uint64_t from,
                                  int (*fn)(void *arg, uint64_t idx,
                                            const uint8_t leaf_hash[FW_HASH_LEN],
                                            const uint8_t *record, size_t len),
                                  void *arg, struct fw_diag *d);

/* The log's identity: create the Ed25519 log key as <key_base>.key/.pub
 * (never overwriting) and remember origin and public key in the store. */
FW_NODISCARD int fw_evidence_setup(struct fw_store *s, const char *origin, const char *key_base,
                                   struct fw_diag *d);
/* The log's verifier key (name = origin) and, when priv is not NULL, its
 * private key loaded from the key file. */
FW_NODISCARD int fw_evidence_log_key(struct fw_store *s, struct fw_note_key *vk,
                                     struct fw_key **priv, struct fw_diag *d);

/* Sign a checkpoint of the current tree if it grew since the latest one
 * (kept forever), and return the latest signed note (malloc'd). */
FW_NODISCARD int fw_evidence_checkpoint(struct fw_store *s, const struct fw_key *key,
                                        char **note, struct fw_diag *d);
/* For a running server: is a checkpoint due after every_n appends or
 * every_ms milliseconds of unsigned growth? */
FW_NODISCARD int fw_evidence_checkpoint_due(struct fw_store *s, uint64_t every_n,
                                            int64_t every_ms, int *due, struct fw_diag *d);
/* Latest stored checkpoint: note (malloc'd) and parsed values;
 * FW_E_NOT_FOUND when none was signed. */
FW_NODISCARD int fw_evidence_latest(struct fw_store *s, char **note, struct fw_checkpoint *cp,
                                    struct fw_diag *d);

/* Inclusion proof of record idx against the latest checkpoint, as a
 * tlog-proof file (malloc'd). FW_E_ARG when idx is not below its size. */
FW_NODISCARD int fw_evidence_prove(struct fw_store *s, uint64_t idx, char **proof,
                                   struct fw_diag *d);
/* Consistency proof between two checkpointed sizes (to 0: the latest). */
FW_NODISCARD int fw_evidence_consistency(struct fw_store *s, uint64_t from, uint64_t to,
                                         struct fw_consistency_proof *p, struct fw_diag *d);

/* ---- audit (audit.c) ---- */

/* A finding of fw_evidence_audit; code is a stable name (docs/audit.md),
 * at the record index or checkpoint size it concerns. */
struct fw_audit_finding {
	const char *code;
	uint64_t at;
	char detail[300];
};
typedef void (*fw_audit_fn)(void *arg, const struct fw_audit_finding *f);
struct fw_audit_summary {
	uint64_t records;
	uint64_t checkpoints;
	uint64_t held;
	uint64_t findings;
	uint8_t root[FW_HASH_LEN];
};
/*
 * Rebuild the tree from the stored records and check everything: record
 * bytes against leaf hashes, contiguous indexes, the stored tree state,
 * every stored checkpoint (signature, origin, root at its size),
 * consistency between consecutive checkpoints, references between records,
 * and each held checkpoint (copies kept outside the store: an auditor's,
 * a witness's) against the rebuilt tree. Calls fn for each finding.
 * FW_OK when there is none, FW_E_TAMPER otherwise, other codes when the
 * audit itself could not run.
 */
FW_NODISCARD int fw_evidence_audit(struct fw_store *s, const char *const *held, size_t nheld,
                                   fw_audit_fn fn, void *arg, struct fw_audit_summary *sum,
                                   struct fw_diag *d);

/* Offline, without a store: a record's inclusion in a signed checkpoint.
 * checkpoint is the note the verifier trusts (e.g. one it was given
 * earlier); proof a tlog-proof whose embedded checkpoint must be that same
 * note; record the exact record bytes; key the log's Ed25519 public key.
 * origin NULL: the checkpoint's own origin names the key. */
FW_NODISCARD int fw_evidence_verify_proof(const char *checkpoint, size_t checkpoint_len,
                                          const char *proof, size_t proof_len,
                                          const uint8_t *record, size_t record_len,
                                          const uint8_t pub[32], const char *origin,
                                          uint64_t *idx, struct fw_checkpoint *cp,
                                          struct fw_diag *d);
/* Offline: the newer checkpoint extends the older one (nothing removed or
 * rewritten in between). */
FW_NODISCARD int fw_evidence_verify_consistency(const char *old_note, size_t old_len,
                                                const char *new_note, size_t new_len,
                                                const char *proof, size_t proof_len,
                                                const uint8_t pub[32], const char *origin,
                                                struct fw_diag *d);

/* ---- the audit report (report.c) ---- */

/*
 * The numbers of an evidence bundle, computed from its records alone, so
 * that export (from the store) and verify-bundle/summary (from the bundle)
 * get the same: the release and its signing facts, the campaign and its
 * approvals, eligibility by reason, the devices' final update states, the
 * timeline of devices per state with stage boundaries and pauses, the failed,
 * rolled-back and quarantined devices, the CRA mapping with the records each
 * row rests on. Fed in index order; memory stays bounded whatever the
 * number of devices (lists of devices are capped, totals are counts).
 * The summary document is described in docs/report.md.
 */
struct fw_report;
/* kind "campaign" or "release"; id the campaign id or release id. NULL on
 * allocation failure. */
struct fw_report *fw_report_new(const char *kind, const char *id);
void fw_report_free(struct fw_report *r);
/* One record of the bundle (parsed), at its log index, in index order. */
FW_NODISCARD int fw_report_add(struct fw_report *r, uint64_t idx, const json_t *record,
                               struct fw_diag *d);
/* The summary (new reference), anchored to the bundle's checkpoint and
 * naming the log's vkey; NULL on allocation failure. */
json_t *fw_report_summary(struct fw_report *r, const struct fw_checkpoint *anchor,
                          const char *log_vkey);
/* The buckets of an advisory's cohort as vuln.affected records and their
 * lists name them (docs/vuln.md), k = 0..4: isolated, cannot_be_remediated,
 * being_remediated, exposed (FW_REPORT_VULN_EXPOSED), remediated; NULL
 * past them. The vuln module writes them; evidence, below it, reads them
 * by this one list. */
#define FW_REPORT_VULN_BUCKETS 5
#define FW_REPORT_VULN_EXPOSED 3
const char *fw_report_vuln_bucket(int k);
/* One line of a kept cohort list, without its newline: "<device> <bucket>
 * <fw_version>", and for an exposed device " <why>" (codes separated by
 * commas). The fields point into line (not terminated); why is NULL when
 * the line has none. Returns the bucket k (fw_report_vuln_bucket), -1 when
 * the line has no space (not the shape), -2 when it names no bucket. */
struct fw_report_cohort_line {
	const char *device, *version, *why;
	size_t device_len, version_len, why_len;
};
int fw_report_cohort_line(const char *line, size_t len, struct fw_report_cohort_line *out);
/* report.html for a summary: one self-contained file (inline CSS and SVG,
 * no script, no external assets) that prints well. */
FW_NODISCARD int fw_report_html(const json_t *summary, FILE *out, struct fw_diag *d);

/* ---- evidence bundles (bundle.c) ---- */

/* Progress of long work: done and total (0: unknown) in records. */
typedef void (*fw_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct fw_bundle_opts {
	const char *campaign;          /* a campaign's bundle, or */
	const char *release;           /* a release's (id or unique prefix), or */
	const char *advisory;          /* an advisory's (its records, the releases that fix it,
	                                * the campaigns that remediate it) */
	const char *dir;               /* created by export; must not exist */
	fw_progress_fn progress;
	void *progress_arg;
};
struct fw_bundle_info {
	uint64_t records;              /* records in the bundle */
	uint64_t devices;              /* members of its campaigns */
	uint64_t checkpoints;          /* signed checkpoints in it, the anchor included */
	struct fw_checkpoint anchor;   /* the checkpoint every proof is against */
	json_t *summary;               /* the report's numbers (new reference; caller frees) */
};
/*
 * Export a bundle (docs/bundles.md) into opts->dir: the records that
 * concern the campaign or release and everything they refer to, a batch
 * inclusion proof of all of them against one signed checkpoint (signed
 * now with the log key when the log grew since the latest), the earlier
 * checkpoints since the first of them with consistency proofs, the log's
 * and the approvers' public keys, the release's envelope and kept files,
 * summary.json and report.html. Streams the records: memory does not grow
 * with the number of devices. The manifest is written by fw_bundle_seal,
 * after the caller added what it adds (the PDF). On failure the directory
 * is removed.
 */
FW_NODISCARD int fw_bundle_export(struct fw_store *s, const struct fw_bundle_opts *opts,
                                  struct fw_bundle_info *info, struct fw_diag *d);
/* Write manifest.txt: "<sha256 hex>  <path>" for every file of the bundle
 * (sha256sum -c reads it), sorted by path. */
FW_NODISCARD int fw_bundle_seal(const char *dir, struct fw_diag *d);
/* Remove a directory tree fw_bundle_export created (best effort). */
void fw_bundle_discard(const char *dir);

/* A finding of fw_bundle_verify: a stable code (docs/bundles.md), the
 * file it concerns and the record index (UINT64_MAX: none). */
struct fw_bundle_finding {
	const char *code;
	char file[128];
	uint64_t record;
	char detail[300];
};
typedef void (*fw_bundle_fn)(void *arg, const struct fw_bundle_finding *f);
struct fw_bundle_result {
	char kind[16];                 /* "campaign" or "release" */
	char id[128];
	uint64_t records, files, checkpoints, approvals;
	uint64_t findings;
	int key_pinned;                /* the log key was given, not taken from the bundle */
	struct fw_checkpoint anchor;
	json_t *summary;               /* recomputed from the records (new reference) */
};
/* One device's records in a bundle, found while it is verified: each
 * {"idx", "record" (parsed), "proof" (file name, with proofs_dir)}; with
 * proofs_dir (created) a c2sp.org/tlog-proof (<idx>.proof) and the exact
 * record (<idx>.record) of each, cut from the batch proof, that
 * `fwtrust audit verify-proof` checks against checkpoint.note alone. */
#define FW_BUNDLE_QUERY_MAX 4096   /* records of one device */
struct fw_bundle_query {
	const char *device;
	const char *proofs_dir;        /* NULL: no proof files */
	json_t *records;               /* out (new reference) */
	uint64_t proofs;               /* out: proof files written */
};
/*
 * Verify a bundle offline, with no store and no network: every finding is
 * reported through fn and counted. pub: the log's public key the auditor
 * holds (NULL: the bundle's own log.pub, which res->key_pinned says).
 * q: NULL, or a device whose records to collect. FW_OK when it could be
 * read (findings say whether it verified); FW_E_IO and the like when the
 * directory cannot be read at all.
 */
FW_NODISCARD int fw_bundle_verify(const char *dir, const uint8_t *pub,
                                  struct fw_bundle_query *q, fw_bundle_fn fn, void *arg,
                                  fw_progress_fn progress, void *progress_arg,
                                  struct fw_bundle_result *res, struct fw_diag *d);
void fw_bundle_result_clear(struct fw_bundle_result *res);

#endif
