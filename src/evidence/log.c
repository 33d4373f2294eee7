/*
 * The evidence log on a store: appends in the caller's transaction with
 * the leaf index taken from the tree state read in that transaction,
 * checkpoints, proofs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "store/store.h"

#define STATE_MAX (8 + 64 * FW_HASH_LEN)

json_t *fw_evidence_record_new(const char *type, const char *actor)
{
	json_t *r = json_object();

	if (r == NULL)
		return NULL;
	json_object_set_new(r, "v", json_integer(1));
	json_object_set_new(r, "type", json_string(type));
	json_object_set_new(r, "ts", json_integer(fw_time_ms()));
	json_object_set_new(r, "actor", json_string(actor ? actor : "unknown"));
	return r;
}

json_t *fw_evidence_ref_json(uint64_t idx, const uint8_t lh[FW_HASH_LEN])
{
	char hex[65];

	fw_hex_encode(lh, FW_HASH_LEN, hex);
	return json_pack("{sIss}", "idx", (json_int_t)idx, "lh", hex);
}

int fw_evidence_ref_parse(const json_t *ref, uint64_t *idx, uint8_t lh[FW_HASH_LEN])
{
	const char *h = json_string_value(json_object_get(ref, "lh"));
	json_t *i = json_object_get(ref, "idx");

	if (!json_is_integer(i) || json_integer_value(i) < 0 || h == NULL ||
	    fw_hex_decode(h, lh, FW_HASH_LEN) != FW_OK)
		return FW_E_STORE;
	*idx = (uint64_t)json_integer_value(i);
	return FW_OK;
}

int fw_evidence_record_ref(json_t *record, uint64_t idx, const uint8_t lh[FW_HASH_LEN])
{
	json_t *refs = json_object_get(record, "refs"), *ref;

	if (refs == NULL) {
		refs = json_array();
		if (refs == NULL || json_object_set_new(record, "refs", refs) != 0)
			return FW_E_NOMEM;
	}
	ref = fw_evidence_ref_json(idx, lh);
	if (ref == NULL || json_array_append_new(refs, ref) != 0)
		return FW_E_NOMEM;
	return FW_OK;
}

/* The compact range of the committed tree, cached for one transaction. */
static int load_range(struct fw_store *s, struct fw_compact_range **out, struct fw_diag *d)
{
	uint8_t buf[STATE_MAX];
	size_t len = 0;
	int rc;

	if (s->cr == NULL && (s->cr = malloc(sizeof(struct fw_compact_range))) == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (!s->cr_valid) {
		rc = s->ops->log_state(s, buf, sizeof(buf), &len);
		if (rc != FW_OK) {
			if (d)
				*d = s->err;
			return rc;
		}
		if (len == 0)
			fw_compact_range_init(s->cr);
		else if (fw_compact_range_decode(buf, len, s->cr) != FW_OK)
			return fw_diag_set(d, FW_E_TAMPER,
			                   "%s: the stored tree state is malformed (run 'fwtrust audit "
			                   "verify')",
			                   s->path);
		s->cr_valid = s->in_tx; /* only a transaction keeps it valid */
	}
	*out = s->cr;
	return FW_OK;
}

int fw_evidence_encode(json_t *record, struct fw_evidence_entry *e, struct fw_diag *d)
{
	return fw_json_canonical(record, &e->bytes, &e->len, d);
}

void fw_evidence_entry_clear(struct fw_evidence_entry *e)
{
	if (e == NULL)
		return;
	free(e->bytes);
	e->bytes = NULL;
	e->len = 0;
}

int fw_evidence_append(struct fw_store *s, json_t *record, uint64_t *idx_out,
                       uint8_t lh_out[FW_HASH_LEN], struct fw_diag *d)
{
	struct fw_evidence_entry e = {NULL, 0};
	int rc;

	if (!s->in_tx)
		return fw_diag_set(d, FW_E_ARG, "evidence is appended inside a transaction");
	rc = fw_evidence_encode(record, &e, d);
	if (rc == FW_OK)
		rc = fw_evidence_append_entry(s, &e, idx_out, lh_out, d);
	fw_evidence_entry_clear(&e);
	return rc;
}

int fw_evidence_append_entry(struct fw_store *s, const struct fw_evidence_entry *e,
                             uint64_t *idx_out, uint8_t lh_out[FW_HASH_LEN], struct fw_diag *d)
{
	struct fw_compact_range *cr;
	uint8_t lh[FW_HASH_LEN], state[STATE_MAX], saved_hash[FW_HASH_LEN];
	uint64_t saved_size;
	unsigned slot, saved_n;
	const char *bytes = e->bytes;
	size_t len = e->len, slen;
	uint64_t idx;
	int rc;

	if (!s->in_tx)
		return fw_diag_set(d, FW_E_ARG, "evidence is appended inside a transaction");
	if (bytes == NULL)
		return fw_diag_set(d, FW_E_ARG, "no encoded record");
	rc = load_range(s, &cr, d);
	if (rc != FW_OK)
		return rc;
	idx = cr->size;
	fw_evidence_leaf_hash((const uint8_t *)bytes, len, lh);
	/* appended in place: an append rewrites size, n and one slot (where
	 * its merges end), kept to undo it if the row is refused; copying the
	 * whole 2 KiB range twice per record was measurable */
	slot = cr->size == UINT64_MAX ? 64 : cr->n - (unsigned)__builtin_ctzll(~cr->size);
	saved_size = cr->size;
	saved_n = cr->n;
	if (slot < 64)
		memcpy(saved_hash, cr->hashes[slot], FW_HASH_LEN);
	fw_compact_range_append(cr, lh);
	slen = fw_compact_range_encode(cr, state, sizeof(state));
	if (slen == 0)
		rc = fw_diag_set(d, FW_E_NOMEM, "cannot compute the new tree state");
	else
		rc = s->ops->log_append(s, idx, lh, (const uint8_t *)bytes, len, fw_time_ms(), state,
		                        slen);
	if (rc != FW_OK) {
		if (slen != 0 && d)
			*d = s->err;
		cr->size = saved_size;
		cr->n = saved_n;
		if (slot < 64)
			memcpy(cr->hashes[slot], saved_hash, FW_HASH_LEN);
		return rc;
	}
	if (idx_out)
		*idx_out = idx;
	if (lh_out)
		memcpy(lh_out, lh, FW_HASH_LEN);
	return FW_OK;
}

int fw_evidence_commit(struct fw_store *s, const struct fw_evidence_change *c, json_t *record,
                       uint64_t *idx_out, uint8_t lh_out[FW_HASH_LEN], struct fw_diag *d)
{
	uint8_t lh[FW_HASH_LEN];
	uint64_t idx = 0;
	int rc = fw_store_begin(s, d);

	if (rc != FW_OK)
		return rc;
	if (c && c->prepare)
		rc = c->prepare(s, c->arg, record, d);
	if (rc == FW_OK)
		rc = fw_evidence_append(s, record, &idx, lh, d);
	if (rc == FW_OK && c && c->apply)
		rc = c->apply(s, c->arg, idx, lh, d);
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
	else
		fw_store_rollback(s);
	if (rc == FW_OK) {
		if (idx_out)
			*idx_out = idx;
		if (lh_out)
			memcpy(lh_out, lh, FW_HASH_LEN);
	}
	return rc;
}

int fw_evidence_size(struct fw_store *s, uint64_t *size, uint8_t root[FW_HASH_LEN],
                     struct fw_diag *d)
{
	struct fw_compact_range *cr;
	int rc = load_range(s, &cr, d);

	if (rc != FW_OK)
		return rc;
	*size = cr->size;
	if (root)
		fw_compact_range_root(cr, root);
	return FW_OK;
}

int fw_evidence_get(struct fw_store *s, uint64_t idx, uint8_t **record, size_t *len,
                    uint8_t lh[FW_HASH_LEN], struct fw_diag *d)
{
	uint8_t tmp[FW_HASH_LEN];
	int rc = s->ops->log_get(s, idx, lh ? lh : tmp, record, len);

	if (rc != FW_OK && d)
		*d = s->err;
	return rc;
}

int fw_evidence_scan(struct fw_store *s, uint64_t from,
                     int (*fn)(void *arg, uint64_t idx, const uint8_t leaf_hash[FW_HASH_LEN],
                               const uint8_t *record, size_t len),
                     void *arg, struct fw_diag *d)
{
	int rc = s->ops->log_scan(s, from, fn, arg);

	if (rc != FW_OK && d && s->err.msg[0])
		*d = s->err;
	return rc;
}

int fw_evidence_setup(struct fw_store *s, const char *origin, const char *key_base,
                      struct fw_diag *d)
{
	struct fw_note_key vk;
	struct fw_key *key = NULL;
	struct fwv_key raw;
	char b64[64], path[4200];
	int rc;

	if (strlen(origin) > FW_ORIGIN_MAX)
		return fw_diag_set(d, FW_E_ARG, "--origin: at most %d bytes", FW_ORIGIN_MAX);
	rc = fw_key_generate(FW_KEY_ALG_ED25519, &key, d);
	if (rc != FW_OK)
		return rc;
	fw_key_to_fwv(key, &raw);
	rc = fw_note_key_init(&vk, origin, raw.pub);
	if (rc != FW_OK) {
		rc = fw_diag_set(d, FW_E_ARG,
		                 "--origin: '%s' cannot name a log key (no spaces, '+' or control "
		                 "characters)",
		                 origin);
		goto out;
	}
	rc = fw_key_save(key, key_base, d);
	if (rc != FW_OK)
		goto out;
	fw_b64_encode(raw.pub, 32, b64);
	snprintf(path, sizeof(path), "%s.key", key_base);
	rc = fw_store_begin(s, d);
	if (rc == FW_OK)
		rc = fw_store_meta_set(s, "origin", origin, d);
	if (rc == FW_OK)
		rc = fw_store_meta_set(s, "log_pub", b64, d);
	if (rc == FW_OK)
		rc = fw_store_meta_set(s, "log_key", path, d);
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
	else
		fw_store_rollback(s);
out:
	fw_key_free(key);
	return rc;
}

int fw_evidence_log_key(struct fw_store *s, struct fw_note_key *vk, struct fw_key **priv,
                        struct fw_diag *d)
{
	char *origin = NULL, *b64 = NULL, *path = NULL;
	struct fw_note_key k;
	struct fwv_key raw;
	uint8_t pub[32];
	int rc;

	rc = fw_store_meta_get(s, "origin", &origin, d);
	if (rc == FW_OK)
		rc = fw_store_meta_get(s, "log_pub", &b64, d);
	if (rc == FW_E_NOT_FOUND)
		fw_diag_set(d, rc, "%s: the store has no log key (it was not made by 'fwtrust init')",
		            s->path);
	if (rc == FW_OK && fw_b64_decode(b64, strlen(b64), pub, 32) != FW_OK)
		rc = fw_diag_set(d, FW_E_STORE, "%s: the stored log key is malformed", s->path);
	if (rc == FW_OK && fw_note_key_init(&k, origin, pub) != FW_OK)
		rc = fw_diag_set(d, FW_E_STORE, "%s: the stored origin is malformed", s->path);
	if (rc == FW_OK && priv) {
		rc = fw_store_meta_get(s, "log_key", &path, d);
		if (rc == FW_OK)
			rc = fw_key_load_private(path, priv, d);
		if (rc == FW_OK) {
			fw_key_to_fwv(*priv, &raw);
			/* a key file swapped for another key must not sign this log */
			if (fw_key_alg(*priv) != FW_KEY_ALG_ED25519 || memcmp(raw.pub, pub, 32) != 0) {
				rc = fw_diag_set(d, FW_E_KEY, "%s: not the log key of %s", path, s->path);
				fw_key_free(*priv);
				*priv = NULL;
			}
		}
	}
	if (rc == FW_OK && vk)
		*vk = k;
	free(origin);
	free(b64);
	free(path);
	return rc;
}

struct latest {
	uint64_t size;
	uint8_t root[FW_HASH_LEN];
	char *note;
	int found;
};

static int keep_latest(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct latest *l = arg;

	/* scan is in ascending size: the last one wins */
	free(l->note);
	l->note = strdup(note);
	l->size = size;
	memcpy(l->root, root, FW_HASH_LEN);
	l->found = 1;
	return l->note ? 0 : FW_E_NOMEM;
}

int fw_evidence_latest(struct fw_store *s, char **note, struct fw_checkpoint *cp,
                       struct fw_diag *d)
{
	struct latest l = {0, {0}, NULL, 0};
	struct fw_note_key vk;
	size_t text_len;
	int rc;

	rc = s->ops->checkpoint_scan(s, keep_latest, &l);
	if (rc != FW_OK) {
		if (d)
			*d = s->err;
		free(l.note);
		return rc;
	}
	if (!l.found)
		return fw_diag_set(d, FW_E_NOT_FOUND,
		                   "%s: no checkpoint has been signed (run 'fwtrust audit checkpoint')",
		                   s->path);
	/* what is handed out is checked first: a tampered row must not become
	 * the root every proof is made against */
	rc = fw_evidence_log_key(s, &vk, NULL, d);
	if (rc == FW_OK)
		rc = fw_note_verify(l.note, strlen(l.note), &vk, &text_len, d);
	if (rc == FW_OK && cp)
		rc = fw_checkpoint_parse(l.note, text_len, cp, d);
	if (rc == FW_OK && cp && strcmp(cp->origin, vk.name) != 0)
		rc = fw_diag_set(d, FW_E_TAMPER, "%s: checkpoint %llu names another log ('%s')", s->path,
		                 (unsigned long long)l.size, cp->origin);
	if (rc == FW_OK && cp && (cp->size != l.size || memcmp(cp->root, l.root, FW_HASH_LEN) != 0))
		rc = fw_diag_set(d, FW_E_TAMPER, "%s: checkpoint %llu does not match its note", s->path,
		                 (unsigned long long)l.size);
	if (rc == FW_OK && note) {
		*note = l.note;
		l.note = NULL;
	}
	free(l.note);
	return rc;
}

int fw_evidence_checkpoint(struct fw_store *s, const struct fw_key *key, char **note,
                           struct fw_diag *d)
{
	struct fw_checkpoint cp, last;
	struct fw_note_key vk;
	char *text = NULL, *signed_note = NULL, *latest = NULL;
	int rc, have_last;

	rc = fw_evidence_log_key(s, &vk, NULL, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_store_begin(s, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_evidence_latest(s, &latest, &last, d);
	have_last = rc == FW_OK;
	if (rc == FW_E_NOT_FOUND)
		rc = FW_OK;
	if (rc == FW_OK)
		rc = fw_evidence_size(s, &cp.size, cp.root, d);
	if (rc != FW_OK)
		goto out;
	if (have_last && last.size > cp.size) {
		rc = fw_diag_set(d, FW_E_TAMPER,
		                 "%s: the log has %llu records but checkpoint %llu was signed (run "
		                 "'fwtrust audit verify')",
		                 s->path, (unsigned long long)cp.size, (unsigned long long)last.size);
		goto out;
	}
	if (have_last && last.size == cp.size) {
		/* nothing new: never sign a second, different note for one size */
		fw_store_rollback(s);
		*note = latest;
		return FW_OK;
	}
	snprintf(cp.origin, sizeof(cp.origin), "%s", vk.name);
	rc = fw_checkpoint_format(&cp, &text);
	if (rc == FW_OK)
		rc = fw_note_sign(text, vk.name, key, &signed_note, d);
	if (rc == FW_OK) {
		rc = s->ops->checkpoint_add(s, cp.size, cp.root, signed_note, fw_time_ms());
		if (rc != FW_OK && d)
			*d = s->err;
	}
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
out:
	if (s->in_tx)
		fw_store_rollback(s);
	free(text);
	free(latest);
	if (rc == FW_OK)
		*note = signed_note;
	else
		free(signed_note);
	return rc;
}

struct due {
	uint64_t size;
	int64_t ms;
};

static int last_meta(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct due *u = arg;

	(void)root;
	(void)note;
	u->size = size;
	return 0;
}

int fw_evidence_checkpoint_due(struct fw_store *s, uint64_t every_n, int64_t every_ms, int *due,
                               struct fw_diag *d)
{
	struct due u = {0, 0};
	uint64_t size;
	int rc;

	rc = s->ops->checkpoint_scan(s, last_meta, &u);
	if (rc != FW_OK) {
		if (d)
			*d = s->err;
		return rc;
	}
	rc = fw_evidence_size(s, &size, NULL, d);
	if (rc != FW_OK)
		return rc;
	*due = 0;
	if (size <= u.size)
		return FW_OK;
	if (every_n && size - u.size >= every_n) {
		*due = 1;
		return FW_OK;
	}
	if (every_ms) {
		uint8_t lh[FW_HASH_LEN];
		uint8_t *rec = NULL;
		size_t len;
		json_t *j;

		/* the oldest unsigned record's own time says how long it waited */
		rc = fw_evidence_get(s, u.size, &rec, &len, lh, d);
		if (rc != FW_OK)
			return rc;
		j = json_loadb((const char *)rec, len, 0, NULL);
		if (j && fw_time_ms() - json_integer_value(json_object_get(j, "ts")) >= every_ms)
			*due = 1;
		json_decref(j);
		free(rec);
	}
	return FW_OK;
}

/* All leaf hashes of [0, size) from the store. */
static int load_hashes(struct fw_store *s, uint64_t size, uint8_t (**out)[FW_HASH_LEN],
                       struct fw_diag *d)
{
	uint8_t (*h)[FW_HASH_LEN];
	uint64_t got = 0;
	int rc;

	if (size > ((uint64_t)1 << 36))
		return fw_diag_set(d, FW_E_TOO_LARGE, "log too large to prove in memory");
	h = malloc((size ? size : 1) * FW_HASH_LEN);
	if (h == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory for %llu leaf hashes",
		                   (unsigned long long)size);
	rc = s->ops->log_hashes(s, size, h, &got);
	if (rc == FW_OK && got != size)
		rc = fw_diag_set(&s->err, FW_E_TAMPER,
		                 "%s: %llu records below checkpoint size %llu (run 'fwtrust audit verify')",
		                 s->path, (unsigned long long)got, (unsigned long long)size);
	if (rc != FW_OK) {
		if (d)
			*d = s->err;
		free(h);
		return rc;
	}
	*out = h;
	return FW_OK;
}

int fw_evidence_prove(struct fw_store *s, uint64_t idx, char **proof, struct fw_diag *d)
{
	uint8_t (*h)[FW_HASH_LEN] = NULL;
	uint8_t path[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], root[FW_HASH_LEN];
	struct fw_checkpoint cp;
	char *note = NULL;
	size_t n = 0;
	int rc;

	rc = fw_evidence_latest(s, &note, &cp, d);
	if (rc != FW_OK)
		return rc;
	if (idx >= cp.size) {
		rc = fw_diag_set(d, FW_E_ARG,
		                 "--index %llu: the latest checkpoint covers records 0 to %llu (sign a new "
		                 "one with 'fwtrust audit checkpoint')",
		                 (unsigned long long)idx, (unsigned long long)cp.size - 1);
		goto out;
	}
	/* the proof is built from the tree at the checkpoint's size, never
	 * the current tree (shared/specs/evidence-log.md §1.6) */
	rc = load_hashes(s, cp.size, &h, d);
	if (rc == FW_OK)
		rc = fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])h, cp.size, root);
	if (rc == FW_OK && memcmp(root, cp.root, FW_HASH_LEN) != 0)
		rc = fw_diag_set(d, FW_E_TAMPER,
		                 "%s: the stored records do not give the root of checkpoint %llu (run "
		                 "'fwtrust audit verify')",
		                 s->path, (unsigned long long)cp.size);
	if (rc == FW_OK)
		rc = fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])h, cp.size, idx, path, &n);
	if (rc == FW_OK)
		rc = fw_tlog_proof_format(idx, (const uint8_t(*)[FW_HASH_LEN])path, n, note, proof);
out:
	free(h);
	free(note);
	return rc;
}

struct sizes {
	uint64_t want[2];
	uint8_t roots[2][FW_HASH_LEN];
	int found[2];
	uint64_t last;
	uint8_t last_root[FW_HASH_LEN];
};

static int find_sizes(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct sizes *z = arg;
	int i;

	(void)note;
	for (i = 0; i < 2; i++) {
		if (z->want[i] == size) {
			memcpy(z->roots[i], root, FW_HASH_LEN);
			z->found[i] = 1;
		}
	}
	z->last = size;
	memcpy(z->last_root, root, FW_HASH_LEN);
	return 0;
}

int fw_evidence_consistency(struct fw_store *s, uint64_t from, uint64_t to,
                            struct fw_consistency_proof *p, struct fw_diag *d)
{
	uint8_t (*h)[FW_HASH_LEN] = NULL;
	struct sizes z;
	uint64_t size;
	int rc;

	/* one pass over the checkpoints: the sizes asked for, and the latest
	 * for a missing --to */
	memset(&z, 0, sizeof(z));
	z.want[0] = from;
	z.want[1] = to;
	rc = s->ops->checkpoint_scan(s, find_sizes, &z);
	if (rc != FW_OK) {
		if (d)
			*d = s->err;
		return rc;
	}
	if (to == 0) {
		to = z.want[1] = z.last;
		memcpy(z.roots[1], z.last_root, FW_HASH_LEN);
		z.found[1] = z.last > 0;
	}
	rc = fw_evidence_size(s, &size, NULL, d);
	if (rc != FW_OK)
		return rc;
	if (to > size)
		return fw_diag_set(d, FW_E_ARG, "--to %llu: the log has %llu records",
		                   (unsigned long long)to, (unsigned long long)size);
	if (from == 0 || from > to)
		return fw_diag_set(d, FW_E_ARG, "--from %llu: must be between 1 and %llu",
		                   (unsigned long long)from, (unsigned long long)to);
	rc = load_hashes(s, to, &h, d);
	/* proofs are made only from records that still give the signed roots */
	for (int k = 0; rc == FW_OK && k < 2; k++) {
		uint8_t root[FW_HASH_LEN];

		if (!z.found[k])
			continue;
		rc = fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])h, z.want[k], root);
		if (rc == FW_OK && memcmp(root, z.roots[k], FW_HASH_LEN) != 0)
			rc = fw_diag_set(d, FW_E_TAMPER,
			                 "%s: the stored records do not give the root of checkpoint %llu "
			                 "(run 'fwtrust audit verify')",
			                 s->path, (unsigned long long)z.want[k]);
	}
	if (rc == FW_OK)
		rc = fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])h, from, to, p->hashes,
		                                 &p->n);
	if (rc == FW_OK) {
		p->old_size = from;
		p->new_size = to;
	}
	free(h);
	return rc;
}
