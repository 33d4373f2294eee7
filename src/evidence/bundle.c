/*
 * Evidence bundles: what an auditor takes away and checks offline.
 *
 * Export selects the records that concern a campaign (or a release and
 * its campaigns) and every record they refer to, and writes them with one
 * batch inclusion proof against one signed checkpoint, the earlier
 * checkpoints since the first of them with consistency proofs to that
 * one, the public keys, the release's envelope, the campaign's members
 * file, the report's numbers and the report. Verification needs only the
 * directory (and, to pin it, the log's public key): no store, no network.
 * The layout and every finding are in docs/bundles.md.
 *
 * The batch proof ("fwtrust-multiproof/v1") is our own format: no library
 * or C2SP format covers many leaves at once. It lists, in tree order, the
 * hashes of the maximal subtrees of the checkpoint's tree (RFC 6962 shape)
 * that hold no record of the bundle; with the records' leaf hashes they
 * rebuild the root. For k records of a log of n it holds at most about
 * k·log2(n/k) hashes, against k·log2(n) for k separate proofs, and a
 * single record's c2sp.org/tlog-proof can be cut from it (verify with
 * --device ... --proofs).
 *
 * Export streams the log twice (select, then write) and keeps two bits per
 * log record; the tree is hashed on the way with a compact-range stack.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "fwv.h"
#include "store/store.h"
#include "suit/suit.h"

#define BUNDLE_FORMAT "fwtrust-bundle/v1"
#define PROOF_FORMAT "fwtrust-multiproof/v1"
#define MAX_CAMPAIGNS 256
/* releases one bundle selects: a campaign's and its rollback's, a release,
 * or the release of each campaign that remediates an advisory */
#define MAX_RELEASES (MAX_CAMPAIGNS + 1)
#define MAX_ADVISORIES 16 /* advisories one bundle follows */
#define MAX_CHECKPOINTS 64  /* earlier checkpoints kept in a bundle (evenly spaced) */
#define RECORD_MAX (1u << 20) /* a record line of a bundle, bytes */

static int oom(struct fw_diag *d) { return fw_diag_set(d, FW_E_NOMEM, "out of memory"); }

/* A log scan's callbacks stop it with these (never an fw_err code, which a
 * failing scan itself may return): past the anchor, or after an error the
 * callback kept in its state. */
#define SCAN_STOP (-2)
#define SCAN_ERROR (-3)

/* ---- bits ---- */

struct bits {
	uint64_t *w;
	uint64_t n;
};
static int bits_init(struct bits *b, uint64_t n)
{
	b->n = n;
	b->w = calloc((size_t)(n / 64 + 1), sizeof(uint64_t));
	return b->w ? 0 : -1;
}
static inline int bit_get(const struct bits *b, uint64_t i)
{
	return i < b->n && (b->w[i / 64] >> (i % 64) & 1u);
}
static inline void bit_set(struct bits *b, uint64_t i)
{
	if (i < b->n)
		b->w[i / 64] |= (uint64_t)1 << (i % 64);
}
static inline void bit_clear(struct bits *b, uint64_t i)
{
	if (i < b->n)
		b->w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* ---- refs, read from canonical bytes without a JSON parse ----
 * Canonical JSON writes a reference as {"idx":N,"lh":"<64 hex>"} and the
 * record's refs as "refs":[ref,ref,...]. */
typedef void (*ref_fn)(void *arg, uint64_t idx);

static void scan_refs(const uint8_t *rec, size_t len, ref_fn fn, void *arg)
{
	const char *p = memmem(rec, len, "\"refs\":[", 8), *end = (const char *)rec + len;

	if (p == NULL)
		return;
	p += 8;
	while (p + 9 < end && memcmp(p, "{\"idx\":", 7) == 0) {
		uint64_t v = 0;

		p += 7;
		while (p < end && *p >= '0' && *p <= '9')
			v = v * 10 + (uint64_t)(*p++ - '0');
		fn(arg, v);
		while (p < end && *p != '}')
			p++;
		if (p + 1 >= end || p[1] != ',')
			break;
		p += 2;
	}
}

/* ---- the tree, hashed in one pass over the leaves ----
 * A stack of perfect subtrees (a compact range) with, for each, whether it
 * holds a bundle record. When two siblings join and exactly one holds
 * records, the other is a hash of the batch proof. Requested nodes (those
 * of consistency proofs) are captured as they are made. */
struct node {
	uint64_t lo, size;
	uint8_t h[FW_HASH_LEN];
	int marked;
};
struct want { /* a node a consistency proof needs */
	uint64_t lo, size;
	uint8_t h[FW_HASH_LEN];
	int got;
};
struct walk {
	struct node st[66];
	unsigned n;
	struct node *proof; /* the batch proof's hashes */
	size_t nproof, capproof;
	struct want *want;
	size_t nwant;
	uint64_t want_sizes; /* bit k: some wanted node has size 2^k (perfect) */
	int failed;
};

static void want_capture(struct walk *w, const struct node *x)
{
	int pow2 = (x->size & (x->size - 1)) == 0;

	if (w->nwant == 0 || (pow2 && !(w->want_sizes >> __builtin_ctzll(x->size) & 1u)))
		return;
	for (size_t i = 0; i < w->nwant; i++)
		if (w->want[i].lo == x->lo && w->want[i].size == x->size) {
			memcpy(w->want[i].h, x->h, FW_HASH_LEN);
			w->want[i].got = 1;
		}
}

static void proof_add(struct walk *w, const struct node *x)
{
	struct node *p = fw_grow(w->proof, &w->capproof, w->nproof + 1, sizeof(*p));

	if (p == NULL) {
		w->failed = 1;
		return;
	}
	w->proof = p;
	w->proof[w->nproof++] = *x;
}

static void join(struct walk *w, const struct node *l, const struct node *r, struct node *out)
{
	if (l->marked != r->marked)
		proof_add(w, l->marked ? r : l);
	fw_merkle_node_hash(l->h, r->h, out->h);
	out->lo = l->lo;
	out->size = l->size + r->size;
	out->marked = l->marked || r->marked;
	want_capture(w, out);
}

static void walk_leaf(struct walk *w, uint64_t idx, const uint8_t h[FW_HASH_LEN], int marked)
{
	struct node x = {idx, 1, {0}, marked};

	memcpy(x.h, h, FW_HASH_LEN);
	want_capture(w, &x);
	while (w->n > 0 && w->st[w->n - 1].size == x.size) {
		struct node l = w->st[--w->n], r = x;

		join(w, &l, &r, &x);
	}
	w->st[w->n++] = x;
}

/* Fold the stack from the right: the right spine of the tree. */
static void walk_root(struct walk *w, uint8_t root[FW_HASH_LEN])
{
	struct node r;

	if (w->n == 0) {
		fw_sha256(NULL, 0, root);
		return;
	}
	r = w->st[--w->n];
	while (w->n > 0) {
		struct node l = w->st[--w->n], x;

		join(w, &l, &r, &x);
		r = x;
	}
	memcpy(root, r.h, FW_HASH_LEN);
}

static uint64_t split_point(uint64_t n) /* largest power of two below n (n > 1) */
{
	uint64_t k = 1;

	while (k < n - k) /* 2k < n, without overflow */
		k <<= 1;
	return k;
}

/* The nodes of a consistency proof from old_size to n (RFC 9162 2.1.4.1
 * SUBPROOF), as ranges, in proof order. */
static int subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, struct want *out, size_t *n,
                    size_t cap)
{
	uint64_t size = hi - lo, k;

	if (m == size) {
		if (!b) {
			if (*n == cap)
				return -1;
			out[(*n)++] = (struct want){lo, size, {0}, 0};
		}
		return 0;
	}
	k = split_point(size);
	if (m <= k) {
		if (subproof(m, lo, lo + k, b, out, n, cap))
			return -1;
		if (*n == cap)
			return -1;
		out[(*n)++] = (struct want){lo + k, hi - (lo + k), {0}, 0};
	} else {
		if (subproof(m - k, lo + k, hi, 0, out, n, cap))
			return -1;
		if (*n == cap)
			return -1;
		out[(*n)++] = (struct want){lo, k, {0}, 0};
	}
	return 0;
}

/* ---- files ---- */

static int mkdirs(const char *dir, const char *sub, struct fw_diag *d)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return fw_diag_set(d, FW_E_IO, "%s: %s", p, strerror(errno));
	return FW_OK;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      struct fw_diag *d)
{
	char p[4200];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wx");
	if (f == NULL)
		return fw_diag_set(d, FW_E_IO, "%s: %s", p, strerror(errno));
	if ((len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		return fw_diag_set(d, FW_E_IO, "%s: write failed", p);
	return FW_OK;
}

static int write_text(const char *dir, const char *name, const char *text, struct fw_diag *d)
{
	return write_file(dir, name, text, strlen(text), d);
}

static int copy_file(const char *src, const char *dir, const char *name, struct fw_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = fw_file_read(src, (size_t)1 << 31, &buf, &len, d);

	if (rc == FW_OK)
		rc = write_file(dir, name, buf, len, d);
	free(buf);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : 0;
}

void fw_bundle_discard(const char *dir)
{
	if (dir && dir[0])
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The log's Ed25519 public key as PEM (SubjectPublicKeyInfo). */
static void pub_pem(const uint8_t pub[32], char out[160])
{
	static const uint8_t prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
	                                   0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
	uint8_t der[44];
	char b64[64];

	memcpy(der, prefix, 12);
	memcpy(der + 12, pub, 32);
	fw_b64_encode(der, sizeof(der), b64);
	snprintf(out, 160, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64);
}

/* A file name from an id: [A-Za-z0-9._-] kept, anything else '_'. */
static void safe_name(const char *id, char *out, size_t cap)
{
	size_t i;

	for (i = 0; id[i] && i + 1 < cap; i++) {
		char c = id[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		                 c == '.' || c == '-' || c == '_'
		             ? c
		             : '_';
	}
	out[i] = 0;
	if (out[0] == '.' || out[0] == 0)
		out[0] = '_';
}

/* ---- export ---- */

struct exp {
	struct fw_store *s;
	const struct fw_bundle_opts *o;
	uint64_t size; /* the anchor's */
	struct bits marked, unexpanded; /* in the bundle; refs not yet followed */
	/* what selects records */
	char campaigns[MAX_CAMPAIGNS][64];
	char camp_pat[MAX_CAMPAIGNS][96];
	size_t ncampaigns;
	uint64_t release_idx[MAX_RELEASES]; /* the release.add records */
	char release_ref[MAX_RELEASES][120]; /* "refs":[{"idx":N,"lh":"..."} of the release.add */
	char release_id[MAX_RELEASES][65];
	size_t nreleases;
	char signer_pat[MAX_RELEASES][120]; /* "key_id":"<the release's signer>" */
	char advisories[MAX_ADVISORIES][FW_ADVISORY_ID_MAX + 1];
	/* "advisory":"<id>"; "<id>" (in a release's fixes) */
	char adv_pat[MAX_ADVISORIES][sizeof("\"advisory\":\"\"") + FW_ADVISORY_ID_MAX];
	char adv_quoted[MAX_ADVISORIES][sizeof("\"\"") + FW_ADVISORY_ID_MAX];
	size_t nadvisories;
	uint64_t first_content; /* first record selected by its content (not a ref) */
	uint64_t selected, by_ref;
	/* pass 2 */
	FILE *records;
	struct walk walk;
	struct fw_report *report;
	json_t *keys;      /* key_id -> pem (key.trust) */
	json_t *operators; /* name -> pem (operator.add) */
	json_t *blobs;     /* path in the bundle -> sha256 hex of a store blob */
	uint64_t written, devices;
	int created; /* the directory is ours: removed on failure */
	struct fw_diag *d;
	int rc;
};

static void mark_ref(void *arg, uint64_t idx)
{
	struct exp *x = arg;

	if (!bit_get(&x->marked, idx)) {
		bit_set(&x->marked, idx);
		bit_set(&x->unexpanded, idx);
		x->by_ref++;
	}
}

static int is_member(struct exp *x, const uint8_t *rec, size_t len)
{
	json_t *j = json_loadb((const char *)rec, len, 0, NULL);
	const char *dev = json_string_value(json_object_get(j, "device"));
	int yes = 0;

	for (size_t i = 0; dev && i < x->ncampaigns && !yes; i++) {
		struct fw_rollout_row row;

		yes = fw_store_rollout_get(x->s, x->campaigns[i], dev, &row, NULL) == FW_OK;
	}
	json_decref(j);
	return yes;
}

/* Does a record's (or document's) "fixes" array name the advisory? */
static int fixes_names(const uint8_t *rec, size_t len, const char *id)
{
	json_t *j = json_loadb((const char *)rec, len, 0, NULL);
	int yes = fw_json_has_string(json_object_get(j, "fixes"), id);

	json_decref(j);
	return yes;
}

static int select_one(struct exp *x, uint64_t idx, const uint8_t *rec, size_t len)
{
	size_t i;

	if (idx == 0)
		return 1;
	for (i = 0; i < x->nreleases; i++)
		if (idx == x->release_idx[i])
			return 1;
	for (i = 0; i < x->ncampaigns; i++)
		if (memmem(rec, len, x->camp_pat[i], strlen(x->camp_pat[i])) != NULL)
			return 1;
	if (x->nadvisories > 0 && memmem(rec, len, "\"type\":\"vuln.", 13) != NULL) {
		for (i = 0; i < x->nadvisories; i++)
			if (memmem(rec, len, x->adv_pat[i], strlen(x->adv_pat[i])) != NULL)
				return 1;
		return 0;
	}
	/* a release that declares it fixes a followed advisory */
	if (x->nadvisories > 0 && memmem(rec, len, "\"type\":\"release.add\"", 20) != NULL &&
	    memmem(rec, len, "\"fixes\":[", 9) != NULL) {
		for (i = 0; i < x->nadvisories; i++)
			if (memmem(rec, len, x->adv_quoted[i], strlen(x->adv_quoted[i])) != NULL &&
			    fixes_names(rec, len, x->advisories[i]))
				return 1;
		return 0;
	}
	if (memmem(rec, len, "\"type\":\"eligibility.", 20) != NULL) {
		for (i = 0; i < x->nreleases; i++)
			if (memmem(rec, len, x->release_ref[i], strlen(x->release_ref[i])) != NULL)
				return 1;
		return 0;
	}
	if (memmem(rec, len, "\"type\":\"key.revoke\"", 19) != NULL) {
		for (i = 0; i < x->nreleases; i++)
			if (memmem(rec, len, x->signer_pat[i], strlen(x->signer_pat[i])) != NULL)
				return 1;
		return 0;
	}
	/* a member's lifecycle or certificate changed since the campaigns began */
	if (x->ncampaigns > 0 && x->first_content != UINT64_MAX && idx > x->first_content &&
	    (memmem(rec, len, "\"type\":\"device.lifecycle\"", 25) != NULL ||
	     memmem(rec, len, "\"type\":\"cert.revoke\"", 20) != NULL))
		return is_member(x, rec, len);
	return 0;
}

static int pass_select(void *arg, uint64_t idx, const uint8_t lh[FW_HASH_LEN],
                       const uint8_t *rec, size_t len)
{
	struct exp *x = arg;

	(void)lh;
	if (idx >= x->size)
		return SCAN_STOP; /* past the anchor: not in this bundle */
	if (bit_get(&x->marked, idx) || select_one(x, idx, rec, len)) {
		if (!bit_get(&x->marked, idx)) {
			x->selected++;
			if (idx > 0 && x->first_content == UINT64_MAX)
				x->first_content = idx;
		}
		bit_set(&x->marked, idx);
		bit_clear(&x->unexpanded, idx); /* expanded now */
		scan_refs(rec, len, mark_ref, x);
	}
	if (x->o->progress && idx % 65536 == 0)
		x->o->progress(x->o->progress_arg, idx, 2 * x->size);
	return 0;
}

/* Records marked by a reference after the scan had passed them: read each
 * (newest first) and follow its own references. */
static int close_refs(struct exp *x)
{
	for (uint64_t w = x->unexpanded.n / 64 + 1; w-- > 0;) {
		while (x->unexpanded.w[w]) {
			uint64_t idx = w * 64 + (63 - (uint64_t)__builtin_clzll(x->unexpanded.w[w]));
			uint8_t *rec = NULL, lh[FW_HASH_LEN];
			size_t len = 0;
			int rc;

			bit_clear(&x->unexpanded, idx);
			rc = fw_evidence_get(x->s, idx, &rec, &len, lh, x->d);
			if (rc != FW_OK)
				return rc;
			scan_refs(rec, len, mark_ref, x);
			free(rec);
		}
	}
	return FW_OK;
}

static void note_blob(struct exp *x, const char *path, const char *sha)
{
	if (sha && strlen(sha) == 64)
		json_object_set_new(x->blobs, path, json_string(sha));
}

/* What a record of the bundle adds besides itself: keys, files. */
static void collect(struct exp *x, uint64_t idx, json_t *j)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	char name[200], safe[100];

	if (type == NULL)
		return;
	if (strcmp(type, "key.trust") == 0 && json_is_string(json_object_get(j, "key_id")) &&
	    json_is_string(json_object_get(j, "pem")))
		json_object_set(x->keys, json_string_value(json_object_get(j, "key_id")),
		                json_object_get(j, "pem"));
	else if (strcmp(type, "operator.add") == 0 && json_is_string(json_object_get(j, "name")) &&
	         json_is_string(json_object_get(j, "pem")))
		json_object_set(x->operators, json_string_value(json_object_get(j, "name")),
		                json_object_get(j, "pem"));
	else if (strcmp(type, "release.add") == 0) {
		const char *id = json_string_value(json_object_get(j, "release_id"));
		json_t *swu = json_object_get(j, "swu");

		if (id == NULL)
			return;
		safe_name(id, safe, sizeof(safe));
		snprintf(name, sizeof(name), "release/%s.suit", safe);
		note_blob(x, name, json_string_value(json_object_get(j, "envelope_sha256")));
		if (json_is_object(swu)) {
			snprintf(name, sizeof(name), "release/%s.swu", safe);
			note_blob(x, name, json_string_value(json_object_get(swu, "sha256")));
		}
		if (json_is_object(json_object_get(j, "sbom"))) {
			snprintf(name, sizeof(name), "release/%s.sbom.json", safe);
			note_blob(x, name,
			          json_string_value(json_object_get(json_object_get(j, "sbom"), "sha256")));
		}
	} else if (strcmp(type, "vuln.add") == 0 || strcmp(type, "vuln.affected") == 0) {
		const char *id = json_string_value(json_object_get(j, "advisory"));

		if (id == NULL)
			return;
		safe_name(id, safe, sizeof(safe));
		if (type[5] == 'a' && type[6] == 'd') { /* vuln.add: the CSAF document imported */
			snprintf(name, sizeof(name), "vuln/%s.csaf.json", safe);
			note_blob(x, name,
			          json_string_value(json_object_get(json_object_get(j, "csaf"), "sha256")));
		} else { /* vuln.affected: the cohort list */
			snprintf(name, sizeof(name), "vuln/%s.cohort-%llu.txt", safe,
			         (unsigned long long)idx);
			note_blob(x, name, json_string_value(json_object_get(j, "list_sha256")));
		}
	} else if (strcmp(type, "campaign.start") == 0) {
		const char *id = json_string_value(json_object_get(j, "campaign"));

		if (id == NULL)
			return;
		x->devices += (uint64_t)json_integer_value(json_object_get(j, "members"));
		safe_name(id, safe, sizeof(safe));
		snprintf(name, sizeof(name), "campaign/%s.members", safe);
		note_blob(x, name, json_string_value(json_object_get(j, "members_sha256")));
	}
}

static int pass_write(void *arg, uint64_t idx, const uint8_t lh[FW_HASH_LEN],
                      const uint8_t *rec, size_t len)
{
	struct exp *x = arg;
	int marked;

	if (idx >= x->size)
		return SCAN_STOP;
	marked = bit_get(&x->marked, idx);
	if (marked) {
		uint8_t h[FW_HASH_LEN];
		json_t *j;

		/* export what the log holds, never a record that does not hash
		 * to its leaf */
		fw_evidence_leaf_hash(rec, len, h);
		if (memcmp(h, lh, FW_HASH_LEN) != 0) {
			x->rc = fw_diag_set(x->d, FW_E_TAMPER,
			                    "record %llu does not hash to its leaf: the log was "
			                    "altered (run 'fwtrust audit verify')",
			                    (unsigned long long)idx);
			return SCAN_ERROR;
		}
		if (fprintf(x->records, "{\"idx\":%llu,\"record\":", (unsigned long long)idx) < 0 ||
		    fwrite(rec, 1, len, x->records) != len || fputs("}\n", x->records) == EOF) {
			x->rc = fw_diag_set(x->d, FW_E_IO, "records.jsonl: write failed");
			return SCAN_ERROR;
		}
		j = fw_json_load_record((const char *)rec, len);
		if (j == NULL) {
			x->rc = fw_diag_set(x->d, FW_E_STORE, "record %llu is not JSON",
			                    (unsigned long long)idx);
			return SCAN_ERROR;
		}
		collect(x, idx, j);
		x->rc = fw_report_add(x->report, idx, j, x->d);
		json_decref(j);
		if (x->rc != FW_OK)
			return SCAN_ERROR;
		x->written++;
	}
	walk_leaf(&x->walk, idx, lh, marked);
	if (x->walk.failed) {
		x->rc = oom(x->d);
		return SCAN_ERROR;
	}
	if (x->o->progress && idx % 65536 == 0)
		x->o->progress(x->o->progress_arg, x->size + idx, 2 * x->size);
	return 0;
}

/* ---- what the bundle is about ---- */

static int add_campaign(struct exp *x, const char *id, struct fw_diag *d)
{
	if (x->ncampaigns == MAX_CAMPAIGNS)
		return fw_diag_set(d, FW_E_ARG, "more than %d campaigns: export them one by one",
		                   MAX_CAMPAIGNS);
	if (strlen(id) >= sizeof(x->campaigns[0]))
		return fw_diag_set(d, FW_E_ARG, "campaign id too long: %s", id);
	snprintf(x->campaigns[x->ncampaigns], sizeof(x->campaigns[0]), "%s", id);
	snprintf(x->camp_pat[x->ncampaigns], sizeof(x->camp_pat[0]), "\"campaign\":\"%s\"", id);
	x->ncampaigns++;
	return FW_OK;
}

/* Follow an advisory: its records (vuln.*) and the releases that declare
 * they fix it. Ids that are not an advisory's syntax are not followed. */
static int add_advisory(struct exp *x, const char *id, struct fw_diag *d)
{
	size_t i;

	if (!fw_advisory_id_valid(id))
		return FW_OK;
	for (i = 0; i < x->nadvisories; i++)
		if (strcmp(x->advisories[i], id) == 0)
			return FW_OK;
	if (x->nadvisories == MAX_ADVISORIES)
		return fw_diag_set(d, FW_E_ARG, "more than %d advisories in one bundle",
		                   MAX_ADVISORIES);
	snprintf(x->advisories[i], sizeof(x->advisories[i]), "%s", id);
	snprintf(x->adv_pat[i], sizeof(x->adv_pat[i]), "\"advisory\":\"%s\"", id);
	snprintf(x->adv_quoted[i], sizeof(x->adv_quoted[i]), "\"%s\"", id);
	x->nadvisories++;
	return FW_OK;
}

/* The advisories in a JSON array of ids (a policy's "remediates", a
 * release's "fixes"). */
static int add_advisories(struct exp *x, const json_t *ids, struct fw_diag *d)
{
	const json_t *v;
	size_t i;
	int rc = FW_OK;

	json_array_foreach(ids, i, v)
		if (rc == FW_OK)
			rc = add_advisory(x, json_string_value(v), d);
	return rc;
}

/* A release of the bundle: its release.add record, the eligibility
 * records that refer to it and its signer's key.revoke records are
 * selected; with follow, the advisories its "fixes" declares too. doc is
 * its registry document when the caller has parsed it already (borrowed),
 * else NULL: read here. A release is kept once however often it is named. */
static int release_facts(struct exp *x, const char *id, const json_t *doc, int follow,
                         struct fw_diag *d)
{
	json_t *j = NULL, *added;
	const char *lh, *signer;
	size_t i, n = x->nreleases;
	int rc = FW_OK;

	for (i = 0; i < n; i++)
		if (strcmp(x->release_id[i], id) == 0)
			break;
	if (i < n && !follow)
		return FW_OK;
	if (i == MAX_RELEASES)
		return fw_diag_set(d, FW_E_ARG, "more than %d releases: export the campaigns one by one",
		                   MAX_RELEASES);
	if (doc == NULL) {
		char *text = NULL;

		rc = fw_store_object_get(x->s, "release", id, &text, d);
		if (rc == FW_E_NOT_FOUND)
			return fw_diag_set(d, rc, "no release %s in the registry", id);
		if (rc != FW_OK)
			return rc;
		doc = j = json_loads(text, 0, NULL);
		free(text);
	}
	if (follow)
		rc = add_advisories(x, json_object_get(doc, "fixes"), d);
	if (rc != FW_OK || i < n) /* or kept already */
		goto out;
	added = json_object_get(doc, "added");
	lh = json_string_value(json_object_get(added, "lh"));
	signer = json_string_value(json_object_get(doc, "signer_key_id"));
	if (!json_is_integer(json_object_get(added, "idx")) || lh == NULL || signer == NULL) {
		rc = fw_diag_set(d, FW_E_STORE, "release %s: its document names no record", id);
		goto out;
	}
	x->release_idx[i] = (uint64_t)json_integer_value(json_object_get(added, "idx"));
	snprintf(x->release_ref[i], sizeof(x->release_ref[i]), "\"refs\":[{\"idx\":%llu,\"lh\":\"%s\"}",
	         (unsigned long long)x->release_idx[i], lh);
	snprintf(x->signer_pat[i], sizeof(x->signer_pat[i]), "\"key_id\":\"%s\"", signer);
	snprintf(x->release_id[i], sizeof(x->release_id[i]), "%s", id);
	x->nreleases++;
out:
	json_decref(j);
	return rc;
}

/* The advisories a campaign's policy remediates ("remediates"); those its
 * release fixes come with release_facts(follow). */
static int policy_advisories(struct exp *x, const json_t *camp, struct fw_diag *d)
{
	return add_advisories(x, json_object_get(json_object_get(camp, "policy"), "remediates"), d);
}

struct rel_match {
	const char *ref;
	char id[65];
	int n;
	struct exp *x;
	int rc;
	struct fw_diag *d;
};

static int match_release(void *arg, const char *id, const char *doc)
{
	struct rel_match *m = arg;

	(void)doc;
	if (strncmp(id, m->ref, strlen(m->ref)) == 0) {
		snprintf(m->id, sizeof(m->id), "%s", id);
		m->n++;
	}
	return 0;
}

/* A campaign of the release's bundle, and the advisories its policy
 * remediates (the release's own fixes are followed already). */
static int match_campaign(void *arg, const char *id, const char *doc)
{
	struct rel_match *m = arg;
	json_t *j = json_loads(doc, 0, NULL);
	const char *rel = json_string_value(json_object_get(j, "release_id"));

	if (rel && strcmp(rel, m->id) == 0) {
		m->rc = add_campaign(m->x, id, m->d);
		if (m->rc == FW_OK)
			m->rc = policy_advisories(m->x, j, m->d);
	}
	json_decref(j);
	return m->rc != FW_OK;
}

/* An advisory's bundle: its records, the releases that declare they fix
 * it, and the campaigns that remediate it (by their policy's
 * "remediates" or their release's "fixes"), whole. */
struct adv_match {
	struct exp *x;
	const char *id;
	int rc;
	struct fw_diag *d;
};

static int match_adv_campaign(void *arg, const char *id, const char *doc)
{
	struct adv_match *m = arg;
	struct exp *x = m->x;
	json_t *j = json_loads(doc, 0, NULL), *r = NULL;
	const char *rel = json_string_value(json_object_get(j, "release_id"));
	char *rdoc = NULL;
	int yes = fw_json_has_string(json_object_get(json_object_get(j, "policy"), "remediates"),
	                             m->id);

	if (!yes && rel && fw_store_object_get(x->s, "release", rel, &rdoc, NULL) == FW_OK) {
		r = json_loads(rdoc, 0, NULL);
		yes = fw_json_has_string(json_object_get(r, "fixes"), m->id);
	}
	free(rdoc);
	if (yes) {
		m->rc = add_campaign(x, id, m->d);
		if (m->rc == FW_OK && rel) /* r: its release, when read above */
			m->rc = release_facts(x, rel, r, 0, m->d);
	}
	json_decref(r);
	json_decref(j);
	return m->rc != FW_OK;
}

static int advisory_subject(struct exp *x, struct fw_diag *d)
{
	struct adv_match m = {x, x->o->advisory, FW_OK, d};
	char *doc = NULL;
	int rc;

	rc = fw_store_object_get(x->s, "advisory", x->o->advisory, &doc, d);
	free(doc);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no advisory %s (vuln add or vuln import it)",
		                   x->o->advisory);
	if (rc != FW_OK)
		return rc;
	rc = add_advisory(x, x->o->advisory, d);
	if (rc == FW_OK)
		rc = fw_store_object_scan(x->s, "campaign", match_adv_campaign, &m, d);
	return rc != FW_OK ? rc : m.rc;
}

static int subject(struct exp *x, struct fw_diag *d)
{
	const struct fw_bundle_opts *o = x->o;
	int rc;

	if ((o->campaign != NULL) + (o->release != NULL) + (o->advisory != NULL) != 1)
		return fw_diag_set(d, FW_E_ARG, "give one campaign, release or advisory");
	if (o->advisory)
		return advisory_subject(x, d);
	if (o->campaign) {
		char *doc = NULL;
		json_t *j;
		const char *rel, *rb;

		rc = fw_store_object_get(x->s, "campaign", o->campaign, &doc, d);
		if (rc == FW_E_NOT_FOUND)
			return fw_diag_set(d, rc, "no campaign %s", o->campaign);
		if (rc != FW_OK)
			return rc;
		j = json_loads(doc, 0, NULL);
		free(doc);
		rel = json_string_value(json_object_get(j, "release_id"));
		rb = json_string_value(json_object_get(j, "rollback_release_id"));
		rc = add_campaign(x, o->campaign, d);
		if (rc == FW_OK) /* the advisories it remediates: its policy's, its release's */
			rc = policy_advisories(x, j, d);
		if (rc == FW_OK && rel == NULL)
			rc = fw_diag_set(d, FW_E_STORE, "campaign %s names no release", o->campaign);
		if (rc == FW_OK)
			rc = release_facts(x, rel, NULL, 1, d);
		if (rc == FW_OK && rb)
			rc = release_facts(x, rb, NULL, 0, d);
		json_decref(j);
		return rc;
	}
	{
		struct rel_match m = {o->release, "", 0, x, FW_OK, d};

		if (strlen(o->release) < 8 || strlen(o->release) > 64)
			return fw_diag_set(d, FW_E_ARG,
			                   "--release %s: give the release id (64 hex) or at least 8 "
			                   "of its first digits",
			                   o->release);
		rc = fw_store_object_scan(x->s, "release", match_release, &m, d);
		if (rc != FW_OK)
			return rc;
		if (m.n == 0)
			return fw_diag_set(d, FW_E_NOT_FOUND, "no release %s in the registry", o->release);
		if (m.n > 1)
			return fw_diag_set(d, FW_E_ARG, "--release %s: %d releases start so; give more digits",
			                   o->release, m.n);
		rc = release_facts(x, m.id, NULL, 1, d);
		if (rc == FW_OK)
			rc = fw_store_object_scan(x->s, "campaign", match_campaign, &m, d);
		return rc != FW_OK ? rc : m.rc;
	}
}

/* ---- checkpoints ---- */

struct cps {
	uint64_t *size;
	char **note;
	size_t n, cap;
	uint64_t below;
};

static int keep_cp(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct cps *c = arg;

	(void)root;
	if (size >= c->below)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uint64_t *s = realloc(c->size, cap * sizeof(*s));
		char **n = s ? realloc(c->note, cap * sizeof(*n)) : NULL;

		if (s)
			c->size = s;
		if (n == NULL)
			return -1;
		c->note = n;
		c->cap = cap;
	}
	c->size[c->n] = size;
	c->note[c->n] = strdup(note);
	if (c->note[c->n] == NULL)
		return -1;
	c->n++;
	return 0;
}

static void cps_free(struct cps *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->note[i]);
	free(c->size);
	free(c->note);
}

/* The anchor: a checkpoint of the whole log, signed now if the log grew
 * and the log key is at hand, else the latest one. */
static int anchor(struct exp *x, struct fw_note_key *vk, char **note, struct fw_checkpoint *cp,
                  struct fw_diag *d)
{
	struct fw_key *priv = NULL;
	struct fw_diag kd = {0};
	int rc = fw_evidence_log_key(x->s, vk, &priv, &kd);

	if (rc == FW_OK) {
		rc = fw_evidence_checkpoint(x->s, priv, note, d);
		fw_key_free(priv);
		if (rc != FW_OK)
			return rc;
		free(*note);
		*note = NULL;
	} else {
		rc = fw_evidence_log_key(x->s, vk, NULL, d);
		if (rc != FW_OK)
			return rc;
	}
	rc = fw_evidence_latest(x->s, note, cp, d);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc,
		                   "the log has no signed checkpoint and its key is not at hand (%s)",
		                   kd.msg);
	return rc;
}

static int write_consistency(struct exp *x, const struct cps *c, size_t first,
                             const struct want *w, const size_t *wn, struct fw_diag *d)
{
	size_t off = 0;

	for (size_t i = first; i < c->n; i++) {
		struct fw_consistency_proof p;
		char *text = NULL, name[96];
		int rc;

		memset(&p, 0, sizeof(p));
		p.old_size = c->size[i];
		p.new_size = x->size;
		p.n = wn[i - first];
		for (size_t k = 0; k < p.n; k++) {
			if (!w[off + k].got)
				return fw_diag_set(d, FW_E_STORE, "consistency %llu-%llu: a node is missing",
				                   (unsigned long long)p.old_size,
				                   (unsigned long long)p.new_size);
			memcpy(p.hashes[k], w[off + k].h, FW_HASH_LEN);
		}
		off += p.n;
		rc = fw_consistency_format(&p, &text);
		if (rc != FW_OK)
			return fw_diag_set(d, rc, "consistency proof: %s", fw_err_str(rc));
		snprintf(name, sizeof(name), "consistency/%llu-%llu.txt", (unsigned long long)p.old_size,
		         (unsigned long long)p.new_size);
		rc = write_text(x->o->dir, name, text, d);
		free(text);
		if (rc != FW_OK)
			return rc;
		snprintf(name, sizeof(name), "checkpoints/%llu.note", (unsigned long long)c->size[i]);
		rc = write_text(x->o->dir, name, c->note[i], d);
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

static int write_proof(struct exp *x, struct fw_diag *d)
{
	FILE *f;
	char p[4200], b64[48];

	snprintf(p, sizeof(p), "%s/proof.txt", x->o->dir);
	f = fopen(p, "wx");
	if (f == NULL)
		return fw_diag_set(d, FW_E_IO, "%s: %s", p, strerror(errno));
	fprintf(f, "%s\nsize %llu\nrecords %llu\n", PROOF_FORMAT, (unsigned long long)x->size,
	        (unsigned long long)x->written);
	for (size_t i = 0; i < x->walk.nproof; i++) {
		fw_b64_encode(x->walk.proof[i].h, FW_HASH_LEN, b64);
		fprintf(f, "%llu %llu %s\n", (unsigned long long)x->walk.proof[i].lo,
		        (unsigned long long)x->walk.proof[i].size, b64);
	}
	if (fclose(f) != 0)
		return fw_diag_set(d, FW_E_IO, "%s: write failed", p);
	return FW_OK;
}

static int by_lo(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int write_keys(struct exp *x, struct fw_diag *d)
{
	const char *k;
	json_t *v;
	char name[200], safe[100];
	int rc;

	json_object_foreach(x->keys, k, v) {
		safe_name(k, safe, sizeof(safe));
		snprintf(name, sizeof(name), "keys/%s.pem", safe);
		rc = write_text(x->o->dir, name, json_string_value(v), d);
		if (rc != FW_OK)
			return rc;
	}
	json_object_foreach(x->operators, k, v) {
		safe_name(k, safe, sizeof(safe));
		snprintf(name, sizeof(name), "keys/operators/%s.pem", safe);
		rc = write_text(x->o->dir, name, json_string_value(v), d);
		if (rc != FW_OK)
			return rc;
	}
	json_object_foreach(x->blobs, k, v) {
		uint8_t sha[32];
		char src[4200];

		if (fw_hex_decode(json_string_value(v), sha, 32) != FW_OK)
			continue;
		fw_store_blob_path(x->s, sha, src, sizeof(src));
		rc = copy_file(src, x->o->dir, k, d);
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

static const char readme[] =
    "This is an fwtrust evidence bundle (" BUNDLE_FORMAT ").\n"
    "\n"
    "It holds the evidence-log records of one campaign, release or advisory,\n"
    "every record they refer to, and proofs that each of them is in the log:\n"
    "check it offline, with no store and no network, with the log's public key\n"
    "you hold (not the copy in here):\n"
    "\n"
    "    fwtrust audit verify-bundle . --key LOG.pub\n"
    "    fwtrust audit verify-bundle . --key LOG.pub --device DEVICE --proofs OUT\n"
    "\n"
    "manifest.txt      SHA-256 of every other file (sha256sum -c manifest.txt)\n"
    "bundle.json       what the bundle is about, its anchor checkpoint\n"
    "checkpoint.note   the signed checkpoint every proof is against\n"
    "checkpoints/      earlier signed checkpoints; consistency/ proofs to the anchor\n"
    "records.jsonl     {\"idx\":N,\"record\":<the record's exact bytes>} per line\n"
    "proof.txt         batch inclusion proof of all records (" PROOF_FORMAT ")\n"
    "log.pub, log.vkey the log's key as the exporter knew it\n"
    "keys/             signing keys (keys/<key id>.pem), operators' keys\n"
    "release/          the release's signed envelope (and .swu, SBOM)\n"
    "campaign/         the members file of each campaign\n"
    "vuln/             advisories: the CSAF documents imported, the cohort lists\n"
    "summary.json      the report's numbers; report.html, report.pdf the report\n"
    "\n"
    "The formats: docs/bundles.md in fwtrust.\n";

/* summary.json: sorted keys, two-space indent, so that verify-bundle can
 * compare its own with it byte for byte */
static const char *bundle_kind(const struct exp *x)
{
	return x->o->campaign ? "campaign" : x->o->advisory ? "advisory" : "release";
}

static const char *bundle_id(const struct exp *x)
{
	return x->o->campaign ? x->o->campaign : x->o->advisory ? x->o->advisory : x->release_id[0];
}

static char *summary_text(const json_t *summary)
{
	return json_dumps(summary, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
}

static int write_meta(struct exp *x, const struct fw_note_key *vk, const char *note,
                      const struct fw_checkpoint *cp, json_t *summary, struct fw_diag *d)
{
	char vkey[400], pem[160], root[48], *text = NULL;
	size_t len;
	json_t *b, *camps = json_array(), *rels = json_array();
	int rc;

	if (fw_note_vkey_format(vk, vkey, sizeof(vkey)) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "the log key cannot be written as a vkey");
	pub_pem(vk->pub, pem);
	fw_b64_encode(cp->root, FW_HASH_LEN, root);
	for (size_t i = 0; i < x->ncampaigns; i++)
		json_array_append_new(camps, json_string(x->campaigns[i]));
	for (size_t i = 0; i < x->nreleases; i++)
		json_array_append_new(rels, json_string(x->release_id[i]));
	b = json_pack("{ss ss ss so so s{ss sI ss} sI sI}", "format", BUNDLE_FORMAT, "kind",
	              bundle_kind(x), "id", bundle_id(x), "campaigns", camps,
	              "releases", rels, "anchor", "origin", cp->origin, "size", (json_int_t)cp->size,
	              "root", root, "records", (json_int_t)x->written, "devices",
	              (json_int_t)x->devices);
	if (b == NULL)
		return oom(d);
	rc = fw_json_canonical(b, &text, &len, d);
	json_decref(b);
	if (rc == FW_OK)
		rc = write_text(x->o->dir, "bundle.json", text, d);
	free(text);
	text = NULL;
	if (rc == FW_OK)
		rc = write_text(x->o->dir, "checkpoint.note", note, d);
	if (rc == FW_OK)
		rc = write_text(x->o->dir, "log.pub", pem, d);
	if (rc == FW_OK) {
		char line[420];

		snprintf(line, sizeof(line), "%s\n", vkey);
		rc = write_text(x->o->dir, "log.vkey", line, d);
	}
	if (rc == FW_OK)
		rc = write_text(x->o->dir, "README.txt", readme, d);
	if (rc == FW_OK) {
		text = summary_text(summary);
		rc = text ? write_text(x->o->dir, "summary.json", text, d) : oom(d);
	}
	free(text);
	if (rc == FW_OK) {
		char p[4200];
		FILE *f;

		snprintf(p, sizeof(p), "%s/report.html", x->o->dir);
		f = fopen(p, "wx");
		if (f == NULL)
			return fw_diag_set(d, FW_E_IO, "%s: %s", p, strerror(errno));
		rc = fw_report_html(summary, f, d);
		if (fclose(f) != 0 && rc == FW_OK)
			rc = fw_diag_set(d, FW_E_IO, "%s: write failed", p);
	}
	return rc;
}

static int export(struct exp *x, struct fw_bundle_info *info, struct fw_diag *d)
{
	struct fw_note_key vk;
	struct fw_checkpoint cp;
	struct cps c = {0};
	struct want *w = NULL;
	size_t wn[MAX_CHECKPOINTS], first = 0, nw = 0;
	char *note = NULL, p[4200];
	uint8_t root[FW_HASH_LEN];
	json_t *summary = NULL;
	int rc;

	rc = subject(x, d);
	if (rc == FW_OK)
		rc = anchor(x, &vk, &note, &cp, d);
	if (rc != FW_OK)
		goto out;
	x->size = cp.size;
	if (bits_init(&x->marked, x->size) || bits_init(&x->unexpanded, x->size)) {
		rc = oom(d);
		goto out;
	}
	/* pass 1: select, and follow references */
	x->first_content = UINT64_MAX;
	rc = fw_evidence_scan(x->s, 0, pass_select, x, d);
	if (rc == SCAN_STOP)
		rc = FW_OK;
	if (rc == FW_OK)
		rc = close_refs(x);
	if (rc != FW_OK)
		goto out;
	/* earlier checkpoints since the first record selected by content:
	 * at most MAX_CHECKPOINTS, evenly spaced, the earliest and the latest
	 * kept; each gets a consistency proof to the anchor */
	c.below = x->size;
	rc = x->s->ops->checkpoint_scan(x->s, keep_cp, &c);
	if (rc != FW_OK) {
		rc = rc < 0 ? oom(d) : fw_diag_set(d, rc, "%s", x->s->err.msg);
		goto out;
	}
	while (first < c.n && c.size[first] <= (x->first_content == UINT64_MAX ? 0 : x->first_content))
		first++;
	if (c.n - first > MAX_CHECKPOINTS) {
		size_t span = c.n - first, k;

		for (k = 0; k < MAX_CHECKPOINTS; k++) {
			size_t from = first + k * (span - 1) / (MAX_CHECKPOINTS - 1);

			if (k != from - first) {
				free(c.note[first + k]);
				c.note[first + k] = c.note[from];
				c.note[from] = NULL;
				c.size[first + k] = c.size[from];
			}
		}
		for (k = first + MAX_CHECKPOINTS; k < c.n; k++)
			free(c.note[k]);
		c.n = first + MAX_CHECKPOINTS;
	}
	w = calloc((c.n - first) * 2 * FW_MERKLE_MAX_PROOF + 1, sizeof(*w));
	if (w == NULL) {
		rc = oom(d);
		goto out;
	}
	for (size_t i = first; i < c.n; i++) {
		size_t before = nw;

		if (subproof(c.size[i], 0, x->size, 1, w, &nw, (c.n - first) * 2 * FW_MERKLE_MAX_PROOF)) {
			rc = fw_diag_set(d, FW_E_STORE, "consistency proof too long");
			goto out;
		}
		wn[i - first] = nw - before;
		for (size_t k = before; k < nw; k++)
			if ((w[k].size & (w[k].size - 1)) == 0)
				x->walk.want_sizes |= (uint64_t)1 << __builtin_ctzll(w[k].size);
	}
	x->walk.want = w;
	x->walk.nwant = nw;
	/* pass 2: write the records, hash the tree */
	if (mkdir(x->o->dir, 0755) != 0) {
		rc = fw_diag_set(d, FW_E_IO, "%s: %s", x->o->dir,
		                 errno == EEXIST ? "exists already (a bundle is written to a new "
		                                   "directory)"
		                                 : strerror(errno));
		goto out;
	}
	x->created = 1;
	rc = mkdirs(x->o->dir, "checkpoints", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "consistency", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "keys", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "keys/operators", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "release", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "campaign", d);
	if (rc == FW_OK)
		rc = mkdirs(x->o->dir, "vuln", d);
	if (rc != FW_OK)
		goto out;
	snprintf(p, sizeof(p), "%s/records.jsonl", x->o->dir);
	x->records = fopen(p, "wx");
	if (x->records == NULL) {
		rc = fw_diag_set(d, FW_E_IO, "%s: %s", p, strerror(errno));
		goto out;
	}
	setvbuf(x->records, NULL, _IOFBF, 1 << 20);
	x->report = fw_report_new(bundle_kind(x), bundle_id(x));
	x->keys = json_object();
	x->operators = json_object();
	x->blobs = json_object();
	if (x->report == NULL || x->keys == NULL || x->operators == NULL || x->blobs == NULL) {
		rc = oom(d);
		goto out;
	}
	x->rc = FW_OK;
	rc = fw_evidence_scan(x->s, 0, pass_write, x, d);
	if (rc == SCAN_STOP || rc == SCAN_ERROR || rc == FW_OK)
		rc = x->rc;
	if (fclose(x->records) != 0 && rc == FW_OK)
		rc = fw_diag_set(d, FW_E_IO, "%s: write failed", p);
	x->records = NULL;
	if (rc != FW_OK)
		goto out;
	walk_root(&x->walk, root);
	if (x->walk.failed) {
		rc = oom(d);
		goto out;
	}
	if (memcmp(root, cp.root, FW_HASH_LEN) != 0) {
		rc = fw_diag_set(d, FW_E_TAMPER,
		                 "the log's records do not give the root of checkpoint %llu: the log "
		                 "was altered (run 'fwtrust audit verify')",
		                 (unsigned long long)cp.size);
		goto out;
	}
	if (x->walk.nproof > 1)
		qsort(x->walk.proof, x->walk.nproof, sizeof(*x->walk.proof), by_lo);
	rc = write_proof(x, d);
	if (rc == FW_OK)
		rc = write_consistency(x, &c, first, w, wn, d);
	if (rc == FW_OK)
		rc = write_keys(x, d);
	if (rc == FW_OK) {
		char vkey[400];

		if (fw_note_vkey_format(&vk, vkey, sizeof(vkey)) != FW_OK)
			vkey[0] = 0;
		summary = fw_report_summary(x->report, &cp, vkey);
		if (summary == NULL)
			rc = oom(d);
	}
	if (rc == FW_OK)
		rc = write_meta(x, &vk, note, &cp, summary, d);
	if (rc == FW_OK && info) {
		info->records = x->written;
		info->devices = x->devices;
		info->checkpoints = c.n - first + 1;
		info->anchor = cp;
		info->summary = json_incref(summary);
	}
out:
	if (x->records)
		fclose(x->records);
	if (rc != FW_OK && x->created)
		fw_bundle_discard(x->o->dir);
	json_decref(summary);
	free(note);
	free(w);
	cps_free(&c);
	return rc;
}

int fw_bundle_export(struct fw_store *s, const struct fw_bundle_opts *opts,
                     struct fw_bundle_info *info, struct fw_diag *d)
{
	struct exp *x;
	int rc;

	if (info)
		memset(info, 0, sizeof(*info));
	if (opts == NULL || opts->dir == NULL || opts->dir[0] == 0)
		return fw_diag_set(d, FW_E_ARG, "no output directory");
	if (access(opts->dir, F_OK) == 0)
		return fw_diag_set(d, FW_E_ARG,
		                   "%s exists already (a bundle is written to a new directory)",
		                   opts->dir);
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return oom(d);
	x->s = s;
	x->o = opts;
	x->d = d;
	rc = export(x, info, d);
	free(x->marked.w);
	free(x->unexpanded.w);
	free(x->walk.proof);
	fw_report_free(x->report);
	json_decref(x->keys);
	json_decref(x->operators);
	json_decref(x->blobs);
	free(x);
	return rc;
}

/* ---- the manifest ---- */

struct paths {
	char **v;
	size_t n, cap;
};
static int add_path(struct paths *p, const char *rel)
{
	char **v = fw_grow(p->v, &p->cap, p->n + 1, sizeof(*v));

	if (v == NULL)
		return -1;
	p->v = v;
	if ((v[p->n] = strdup(rel)) == NULL)
		return -1;
	p->n++;
	return 0;
}

/* Regular files under dir/rel, recursively (symbolic links and other
 * kinds are neither followed nor listed). */
static int walk_dir(const char *dir, const char *rel, int depth, struct paths *p)
{
	char path[4200];
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth > 8)
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char sub[4200], full[8400];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", dir, sub);
		if (lstat(full, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			rc = add_path(p, sub) ? -2 : 0;
		else if (S_ISDIR(st.st_mode))
			rc = walk_dir(dir, sub, depth + 1, p);
	}
	closedir(d);
	return rc;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Every regular file under dir, relative, sorted. */
static int list_files(const char *dir, struct paths *p, struct fw_diag *d)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = walk_dir(dir, "", 0, p);
	if (rc == -2) {
		paths_free(p);
		memset(p, 0, sizeof(*p));
		return oom(d);
	}
	if (rc != 0) {
		paths_free(p);
		memset(p, 0, sizeof(*p));
		return fw_diag_set(d, FW_E_IO, "%s: %s", dir, strerror(errno));
	}
	qsort(p->v, p->n, sizeof(*p->v), by_str);
	return FW_OK;
}

int fw_bundle_seal(const char *dir, struct fw_diag *d)
{
	struct paths p;
	FILE *f;
	char path[4200];
	int rc = list_files(dir, &p, d);

	if (rc != FW_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/manifest.txt", dir);
	f = fopen(path, "wx");
	if (f == NULL) {
		paths_free(&p);
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	}
	for (size_t i = 0; i < p.n && rc == FW_OK; i++) {
		uint8_t sha[32];
		uint64_t fsize;
		char hex[65], file[4200];

		if (strcmp(p.v[i], "manifest.txt") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, p.v[i]);
		rc = fw_sha256_file(file, sha, &fsize, d);
		fw_hex_encode(sha, 32, hex);
		if (rc == FW_OK && fprintf(f, "%s  %s\n", hex, p.v[i]) < 0)
			rc = fw_diag_set(d, FW_E_IO, "%s: write failed", path);
	}
	if (fclose(f) != 0 && rc == FW_OK)
		rc = fw_diag_set(d, FW_E_IO, "%s: write failed", path);
	if (rc != FW_OK)
		remove(path);
	paths_free(&p);
	return rc;
}

/* ---- verification ---- */

/* a record of the device asked about, with its inclusion path */
struct target {
	uint64_t idx;
	size_t n;
	uint8_t path[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	char *bytes;
	size_t len;
	json_t *j;
};

struct ver {
	const char *dir;
	fw_bundle_fn fn;
	void *arg;
	struct fw_bundle_result *res;
	struct fw_diag *d;
	uint8_t pub[32];
	struct fw_note_key vk;
	int have_key;
	/* records */
	FILE *f;
	char *line;
	size_t cap;
	uint64_t lineno;
	int eof;
	uint64_t next_idx; /* the record read ahead */
	uint8_t next_lh[FW_HASH_LEN];
	int have_next;
	uint64_t last_idx;
	int any;
	/* every record's index and leaf hash, for references */
	uint64_t *idx;
	uint8_t (*lh)[FW_HASH_LEN];
	size_t n, capn;
	/* the batch proof */
	struct node *proof;
	size_t nproof, pi;
	int proof_bad;
	/* what the records say */
	json_t *keys, *operators, *files, *campaigns;
	struct paths present; /* the bundle's files, listed once */
	struct fw_report *report;
	fw_progress_fn progress;
	void *progress_arg;
	uint64_t total;
	/* a device's records and their proof paths */
	struct fw_bundle_query *q;
	struct target **targets;
	size_t ntargets;
	int oom;
};

static void finding(struct ver *v, const char *code, const char *file, uint64_t record,
                    const char *fmt, ...) FW_PRINTF(5, 6);
static void finding(struct ver *v, const char *code, const char *file, uint64_t record,
                    const char *fmt, ...)
{
	struct fw_bundle_finding f;
	va_list ap;

	memset(&f, 0, sizeof(f));
	f.code = code;
	snprintf(f.file, sizeof(f.file), "%s", file);
	f.record = record;
	va_start(ap, fmt);
	vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
	va_end(ap);
	v->res->findings++;
	if (v->fn)
		v->fn(v->arg, &f);
}

static int read_small(struct ver *v, const char *name, size_t max, char **out, size_t *len)
{
	char p[4200];
	uint8_t *buf = NULL;
	size_t n = 0;
	struct fw_diag d = {0};
	int rc;

	snprintf(p, sizeof(p), "%s/%s", v->dir, name);
	rc = fw_file_read(p, max, &buf, &n, &d);
	if (rc != FW_OK) {
		finding(v, "file.unreadable", name, UINT64_MAX, "%s", d.msg);
		return rc;
	}
	*out = realloc(buf, n + 1);
	if (*out == NULL) {
		free(buf);
		v->oom = 1;
		return FW_E_NOMEM;
	}
	(*out)[n] = 0;
	if (len)
		*len = n;
	return FW_OK;
}

/* manifest.txt: every file listed, with its digest, and nothing else */
static void check_manifest(struct ver *v)
{
	char *text = NULL, *line, *save = NULL;
	json_t *listed = json_object();
	struct fw_diag d = {0};
	uint64_t lineno = 0;

	if (listed == NULL || read_small(v, "manifest.txt", 1 << 24, &text, NULL) != FW_OK) {
		json_decref(listed);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[4200], hex[65], *name = strlen(line) >= 67 ? line + 66 : line;
		uint8_t want[32], got[32];
		uint64_t fsize;

		lineno++;
		if (strlen(line) >= 67) {
			memcpy(hex, line, 64);
			hex[64] = 0;
		} else
			hex[0] = 0;
		if (hex[0] == 0 || line[64] != ' ' || line[65] != ' ' ||
		    fw_hex_decode(hex, want, 32) != FW_OK || name[0] == '/' ||
		    strstr(name, "..") != NULL || json_object_get(listed, name)) {
			finding(v, "manifest.malformed", "manifest.txt", UINT64_MAX,
			        "line %llu: expected '<sha256 hex>  <relative path>' once per file",
			        (unsigned long long)lineno);
			continue;
		}
		json_object_set_new(listed, name, json_true());
		v->res->files++;
		snprintf(file, sizeof(file), "%s/%s", v->dir, name);
		if (fw_sha256_file(file, got, &fsize, &d) != FW_OK) {
			finding(v, "manifest.missing", name, UINT64_MAX, "listed in manifest.txt: %s",
			        d.msg);
			continue;
		}
		if (memcmp(want, got, 32) != 0) {
			fw_hex_encode(got, 32, hex);
			finding(v, "manifest.digest", name, UINT64_MAX,
			        "its SHA-256 is %s, not the one manifest.txt lists", hex);
		}
	}
	free(text);
	for (size_t i = 0; i < v->present.n; i++)
		if (strcmp(v->present.v[i], "manifest.txt") != 0 &&
		    json_object_get(listed, v->present.v[i]) == NULL)
			finding(v, "manifest.unlisted", v->present.v[i], UINT64_MAX,
			        "a file manifest.txt does not list");
	json_decref(listed);
}

/* log.pub: the key the auditor gave, or the bundle's own */
static int check_key(struct ver *v, const uint8_t *pub)
{
	char *pem = NULL;
	size_t len = 0;
	struct fw_key *k = NULL;
	struct fwv_key raw;
	uint8_t mine[32];
	int ok = 0;

	if (read_small(v, "log.pub", 1 << 16, &pem, &len) == FW_OK &&
	    fw_key_from_pem(pem, len, &k, NULL) == FW_OK && fw_key_alg(k) == FW_KEY_ALG_ED25519) {
		fw_key_to_fwv(k, &raw); /* points into k */
		memcpy(mine, raw.pub, 32);
		ok = 1;
	} else if (pem)
		finding(v, "key.malformed", "log.pub", UINT64_MAX, "not an Ed25519 public key (PEM)");
	fw_key_free(k);
	free(pem);
	if (pub) {
		memcpy(v->pub, pub, 32);
		v->res->key_pinned = 1;
		if (ok && memcmp(mine, pub, 32) != 0)
			finding(v, "key.mismatch", "log.pub", UINT64_MAX,
			        "not the log key given with --key: the bundle's checkpoints are checked "
			        "with the key given");
		return 0;
	}
	if (!ok)
		return -1;
	memcpy(v->pub, mine, 32);
	return 0;
}

static int parse_proof(struct ver *v, uint64_t size)
{
	char *text = NULL, *line, *save = NULL;
	uint64_t lineno = 0, psize = 0, precords = 0;
	size_t cap = 0;
	int bad = 0;

	if (read_small(v, "proof.txt", (size_t)1 << 30, &text, NULL) != FW_OK)
		return -1;
	for (line = strtok_r(text, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1)
			bad = strcmp(line, PROOF_FORMAT) != 0;
		else if (lineno == 2)
			bad = strncmp(line, "size ", 5) != 0 || fw_parse_u64(line + 5, &psize) != FW_OK;
		else if (lineno == 3)
			bad = strncmp(line, "records ", 8) != 0 ||
			      fw_parse_u64(line + 8, &precords) != FW_OK;
		else {
			char lo[24], sz[24], b64[64];
			struct node x = {0, 0, {0}, 0};
			struct node *p;

			if (sscanf(line, "%23s %23s %63s", lo, sz, b64) != 3 ||
			    fw_parse_u64(lo, &x.lo) != FW_OK || fw_parse_u64(sz, &x.size) != FW_OK ||
			    x.size == 0 || strlen(b64) != 44 ||
			    fw_b64_decode(b64, 44, x.h, FW_HASH_LEN) != FW_OK ||
			    (v->nproof && x.lo < v->proof[v->nproof - 1].lo + v->proof[v->nproof - 1].size)) {
				bad = 1;
				break;
			}
			p = fw_grow(v->proof, &cap, v->nproof + 1, sizeof(*p));
			if (p == NULL) {
				v->oom = 1;
				free(text);
				return -1;
			}
			v->proof = p;
			v->proof[v->nproof++] = x;
		}
	}
	free(text);
	if (bad || lineno < 3) {
		finding(v, "proof.malformed", "proof.txt", UINT64_MAX,
		        "line %llu: not a %s file (entries '<first leaf> <leaves> <base64 hash>' in "
		        "tree order, not overlapping)",
		        (unsigned long long)lineno, PROOF_FORMAT);
		return -1;
	}
	if (psize != size) {
		finding(v, "proof.wrong_checkpoint", "proof.txt", UINT64_MAX,
		        "the proof is for a tree of %llu records, the checkpoint has %llu",
		        (unsigned long long)psize, (unsigned long long)size);
		return -1;
	}
	return 0;
}

/* ---- the records, checked as they are read ---- */


static int lookup_lh(const struct ver *v, uint64_t idx, const uint8_t **lh)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->idx[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < v->n && v->idx[lo] == idx) {
		*lh = v->lh[lo];
		return 1;
	}
	return 0;
}

static void check_refs(struct ver *v, uint64_t idx, json_t *j)
{
	json_t *refs = json_object_get(j, "refs"), *r;
	size_t i;

	if (refs != NULL && !json_is_array(refs)) {
		finding(v, "record.bad_ref", "records.jsonl", idx, "refs is not an array");
		return;
	}
	json_array_foreach(refs, i, r) {
		uint64_t ri;
		uint8_t want[FW_HASH_LEN];
		const uint8_t *got;

		if (fw_evidence_ref_parse(r, &ri, want) != FW_OK || ri >= idx) {
			finding(v, "record.bad_ref", "records.jsonl", idx,
			        "reference %zu is malformed or points forward", i);
			continue;
		}
		if (!lookup_lh(v, ri, &got))
			finding(v, "record.missing_ref", "records.jsonl", idx,
			        "it refers to record %llu, which is not in the bundle",
			        (unsigned long long)ri);
		else if (memcmp(got, want, FW_HASH_LEN) != 0)
			finding(v, "record.bad_ref", "records.jsonl", idx,
			        "it refers to record %llu by another leaf hash than that record's",
			        (unsigned long long)ri);
	}
}

static const char *str(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s ? s : "";
}

/* a file of the bundle must have the SHA-256 a record gives; with data, its
 * bytes are read and kept for the caller (malloc'd), else only hashed */
static int check_file_sha(struct ver *v, const char *name, const char *sha_hex, uint64_t idx,
                          uint8_t **data, size_t *len)
{
	char p[4200], hex[65];
	uint8_t sha[32];
	uint64_t size;
	struct fw_diag d = {0};
	int rc;

	json_object_set_new(v->files, name, json_integer((json_int_t)idx));
	snprintf(p, sizeof(p), "%s/%s", v->dir, name);
	rc = data ? fw_file_read(p, (size_t)1 << 31, data, len, &d) : fw_sha256_file(p, sha, &size, &d);
	if (rc != FW_OK) {
		finding(v, "file.missing", name, idx, "record %llu names it: %s", (unsigned long long)idx,
		        d.msg);
		return -1;
	}
	if (data)
		fw_sha256(*data, *len, sha);
	fw_hex_encode(sha, 32, hex);
	if (strcmp(hex, sha_hex) != 0) {
		finding(v, "file.digest", name, idx, "its SHA-256 is not the %s record %llu gives",
		        sha_hex, (unsigned long long)idx);
		if (data) {
			free(*data);
			*data = NULL;
		}
		return -1;
	}
	return 0;
}

static void check_release(struct ver *v, uint64_t idx, json_t *j)
{
	char name[200], safe[100];
	const char *id = str(j, "release_id"), *signer = str(j, "signer_key_id");
	json_t *key = json_object_get(v->keys, signer);
	uint8_t *env = NULL, vendor[16], class_[16];
	size_t len = 0;
	struct fw_key *k = NULL;
	struct fwv_key raw;
	struct fwv_device dev;
	struct fw_suit_verdict verdict;
	struct fw_diag d = {0};

	safe_name(id, safe, sizeof(safe));
	snprintf(name, sizeof(name), "release/%s.suit", safe);
	if (check_file_sha(v, name, str(j, "envelope_sha256"), idx, &env, &len))
		return;
	memset(&dev, 0, sizeof(dev));
	dev.flags = FWV_F_SKIP_DEVICE | FWV_F_ALLOW_EQUAL_SEQUENCE;
	dev.sequence = (uint64_t)json_integer_value(json_object_get(j, "sequence"));
	if (fw_uuid_parse(str(j, "vendor_id"), vendor) == FW_OK)
		dev.vendor_id = vendor;
	else
		dev.flags |= FWV_F_SKIP_VENDOR;
	if (fw_uuid_parse(str(j, "class_id"), class_) == FW_OK)
		dev.class_id = class_;
	else
		dev.flags |= FWV_F_SKIP_CLASS;
	if (key == NULL)
		finding(v, "release.unknown_key", name, idx,
		        "release %llu was signed by key %s, whose key.trust record is not in the bundle",
		        (unsigned long long)idx, signer);
	else if (fw_key_from_pem(str(key, "pem"), strlen(str(key, "pem")), &k, &d) != FW_OK)
		finding(v, "release.unknown_key", name, idx, "the signer's key does not load: %s",
		        d.msg);
	else {
		fw_key_to_fwv(k, &raw);
		if (fw_suit_verify(env, len, &raw, 1, &dev, NULL, &verdict, &d) != FW_OK)
			finding(v, "release.bad_envelope", name, idx,
			        "the envelope does not verify with the signer's key %s: %s", signer,
			        d.msg[0] ? d.msg : fw_suit_explain(verdict.fwv_rc));
		else if (verdict.sequence != dev.sequence)
			finding(v, "release.bad_envelope", name, idx,
			        "the envelope's sequence is not the record's");
	}
	fw_key_free(k);
	free(env);
	if (json_is_object(json_object_get(j, "swu"))) {
		snprintf(name, sizeof(name), "release/%s.swu", safe);
		check_file_sha(v, name, str(json_object_get(j, "swu"), "sha256"), idx, NULL, NULL);
	}
	if (json_is_object(json_object_get(j, "sbom"))) {
		snprintf(name, sizeof(name), "release/%s.sbom.json", safe);
		check_file_sha(v, name, str(json_object_get(j, "sbom"), "sha256"), idx, NULL, NULL);
	}
}

/* an advisory's imported CSAF document, kept as it was */
static void check_advisory(struct ver *v, uint64_t idx, json_t *j)
{
	const json_t *csaf = json_object_get(j, "csaf");
	char name[200], safe[100];

	if (!json_is_object(csaf))
		return;
	safe_name(str(j, "advisory"), safe, sizeof(safe));
	snprintf(name, sizeof(name), "vuln/%s.csaf.json", safe);
	check_file_sha(v, name, str(csaf, "sha256"), idx, NULL, NULL);
}

/* Count an exposed device's why codes (len bytes at w, commas between
 * them): each is eligible, no_fixing_release or a reason (reasons: code ->
 * devices). */
static void count_why(const char *w, size_t len, int64_t *eligible, int64_t *no_release,
                      json_t *reasons)
{
	const char *nl = w + len;

	while (w != NULL && w < nl) {
		const char *end = memchr(w, ',', (size_t)(nl - w));
		char code[64];
		size_t n;

		if (end == NULL)
			end = nl;
		n = (size_t)(end - w);
		if (n > 0 && n < sizeof(code)) {
			memcpy(code, w, n);
			code[n] = 0;
			if (strcmp(code, "eligible") == 0)
				(*eligible)++;
			else if (strcmp(code, "no_fixing_release") == 0)
				(*no_release)++;
			else
				json_object_set_new(
				    reasons, code,
				    json_integer(json_integer_value(json_object_get(reasons, code)) + 1));
		}
		w = end < nl ? end + 1 : NULL;
	}
}

/* a computation of an advisory's cohort: the list it kept, and the counts
 * the record gives, recounted from the list ("<device> <bucket>
 * <fw_version>" lines) */
static void check_cohort(struct ver *v, uint64_t idx, json_t *j)
{
	const json_t *counts = json_object_get(j, "counts"), *why = json_object_get(j, "exposed_why");
	const json_t *e;
	char name[200], safe[100];
	uint8_t *data = NULL;
	size_t len = 0, k, lines = 0, at = 0;
	int64_t got[FW_REPORT_VULN_BUCKETS] = {0}, eligible = 0, no_release = 0;
	const char *bn;
	json_t *reasons = json_object(); /* code -> exposed devices ineligible for it */
	struct fw_report_cohort_line cl;
	int b;

	safe_name(str(j, "advisory"), safe, sizeof(safe));
	snprintf(name, sizeof(name), "vuln/%s.cohort-%llu.txt", safe, (unsigned long long)idx);
	if (check_file_sha(v, name, str(j, "list_sha256"), idx, &data, &len) != 0)
		goto out;
	while (at < len) {
		const char *line = (const char *)data + at, *nl = memchr(line, '\n', len - at);

		b = nl ? fw_report_cohort_line(line, (size_t)(nl - line), &cl) : -1;
		if (b == -1) {
			finding(v, "vuln.cohort_mismatch", name, idx, "line %zu is not "
			        "'<device> <bucket> <fw_version>'", lines + 1);
			goto out;
		}
		if (b < 0) {
			finding(v, "vuln.cohort_mismatch", name, idx, "line %zu names no bucket",
			        lines + 1);
			goto out;
		}
		got[b]++;
		lines++;
		/* an exposed device's why: after its version */
		if (b == FW_REPORT_VULN_EXPOSED && reasons && cl.why)
			count_why(cl.why, cl.why_len, &eligible, &no_release, reasons);
		at = (size_t)(nl - (const char *)data) + 1;
	}
	/* the why of the exposed devices, when the record gives it */
	if (json_is_object(why) && reasons) {
		size_t given = 0;
		int same = eligible == json_integer_value(json_object_get(why, "eligible")) &&
		           no_release == json_integer_value(json_object_get(why, "no_fixing_release"));

		json_array_foreach(json_object_get(why, "ineligible"), k, e) {
			const char *code = json_string_value(json_object_get(e, "code"));

			given++;
			same &= code != NULL && json_integer_value(json_object_get(e, "devices")) ==
			                            json_integer_value(json_object_get(reasons, code));
		}
		if (!same || given != json_object_size(reasons))
			finding(v, "vuln.cohort_mismatch", name, idx,
			        "the exposed devices' reasons in the list are not the exposed_why record "
			        "%llu gives",
			        (unsigned long long)idx);
	}
	for (k = 0; (bn = fw_report_vuln_bucket((int)k)) != NULL; k++)
		if (got[k] != json_integer_value(json_object_get(counts, bn)))
			finding(v, "vuln.cohort_mismatch", name, idx,
			        "the list has %lld device(s) %s, record %llu counts %lld", (long long)got[k],
			        bn, (unsigned long long)idx,
			        (long long)json_integer_value(json_object_get(counts, bn)));
	if ((json_int_t)lines != json_integer_value(json_object_get(j, "cohort")))
		finding(v, "vuln.cohort_mismatch", name, idx,
		        "the list has %zu device(s), record %llu counts a cohort of %lld", lines,
		        (unsigned long long)idx,
		        (long long)json_integer_value(json_object_get(j, "cohort")));
out:
	free(data);
	json_decref(reasons);
}

/* approvals: a valid signature by the approver's recorded key over the
 * recorded text naming the campaign and policy; distinct approvers per
 * stage since the policy last changed; never the creator */
static void check_approval(struct ver *v, uint64_t idx, json_t *j)
{
	const char *c = str(j, "campaign"), *op = str(j, "operator"), *text = str(j, "signed"),
	           *b64 = str(j, "signature"), *pol = str(j, "policy_sha256");
	json_t *camp = json_object_get(v->campaigns, c), *given;
	const char *pem = json_string_value(json_object_get(v->operators, op));
	char want[200], key[64];
	uint8_t sig[64];
	struct fw_key *k = NULL;

	v->res->approvals++;
	if (camp == NULL) {
		finding(v, "approval.unknown_campaign", "records.jsonl", idx,
		        "approval of campaign %s, whose campaign.create record is not in the bundle", c);
		return;
	}
	if (strcmp(op, str(camp, "creator")) == 0)
		finding(v, "approval.by_creator", "records.jsonl", idx,
		        "campaign %s was approved by %s, who created it", c, op);
	snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(j, "stage")));
	given = json_object_get(json_object_get(camp, "approved"), key);
	if (given == NULL) {
		given = json_object();
		json_object_set_new(json_object_get(camp, "approved"), key, given);
	}
	if (json_object_get(given, op))
		finding(v, "approval.duplicate", "records.jsonl", idx,
		        "%s approved stage %s of campaign %s twice", op, key, c);
	json_object_set_new(given, op, json_true());
	if (pem == NULL) {
		finding(v, "approval.unknown_operator", "records.jsonl", idx,
		        "approver %s has no operator.add record in the bundle", op);
		return;
	}
	snprintf(want, sizeof(want), "\npolicy %s\n", pol);
	if (strstr(text, want) == NULL || strncmp(text, "fwtrust-campaign-approval/v1\n", 29) != 0)
		finding(v, "approval.bad_signature", "records.jsonl", idx,
		        "the signed text does not name the approval's policy digest");
	else {
		snprintf(want, sizeof(want), "\ncampaign %s\n", c);
		if (strstr(text, want) == NULL)
			finding(v, "approval.bad_signature", "records.jsonl", idx,
			        "the signed text names another campaign");
		else if (fw_b64_decode(b64, strlen(b64), sig, 64) != FW_OK ||
		         fw_key_from_pem(pem, strlen(pem), &k, NULL) != FW_OK ||
		         fw_key_verify(k, (const uint8_t *)text, strlen(text), sig) != FW_OK)
			finding(v, "approval.bad_signature", "records.jsonl", idx,
			        "the signature does not verify with %s's recorded key", op);
	}
	fw_key_free(k);
}

/* Completeness: when a campaign completes, its record gives the devices per
 * update state; the bundle's rollout.device records up to it must give the
 * same (a device's last step left out shows here; earlier ones break the
 * chain of references). Pending and ineligible are not compared: rows
 * start pending without a record, and members ineligible at the start are
 * outside the per-stage counts. */
static const char *const tally_states[] = {"eligible", "delivered", "installed",
                                           "failed", "paused", "rolled_back", NULL};

static void tally(struct ver *v, json_t *j)
{
	json_t *camp = json_object_get(v->campaigns, str(j, "campaign")), *t;
	const char *from = json_string_value(json_object_get(j, "from")), *to = str(j, "to");

	if (camp == NULL)
		return;
	t = json_object_get(camp, "tally");
	if (t == NULL) {
		t = json_object();
		json_object_set_new(camp, "tally", t);
	}
	json_object_set_new(t, to, json_integer(json_integer_value(json_object_get(t, to)) + 1));
	if (from)
		json_object_set_new(t, from,
		                    json_integer(json_integer_value(json_object_get(t, from)) - 1));
}

static void check_complete(struct ver *v, uint64_t idx, json_t *j)
{
	json_t *camp = json_object_get(v->campaigns, str(j, "campaign"));
	json_t *t = json_object_get(camp, "tally"), *counts = json_object_get(j, "counts"), *c;
	size_t i;

	if (camp == NULL || !json_is_array(counts))
		return;
	for (int k = 0; tally_states[k]; k++) {
		json_int_t want = 0, got = json_integer_value(json_object_get(t, tally_states[k]));

		json_array_foreach(counts, i, c)
			want += json_integer_value(json_object_get(c, tally_states[k]));
		if (want != got)
			finding(v, "records.incomplete", "records.jsonl", idx,
			        "campaign %s completed with %lld device(s) %s; the bundle's records give "
			        "%lld (records of the campaign were left out)",
			        str(j, "campaign"), (long long)want, tally_states[k], (long long)got);
	}
}

static void check_record(struct ver *v, uint64_t idx, json_t *j)
{
	const char *type = str(j, "type");

	check_refs(v, idx, j);
	if (strcmp(type, "key.trust") == 0)
		json_object_set_new(v->keys, str(j, "key_id"),
		                    json_pack("{ss sI}", "pem", str(j, "pem"), "idx", (json_int_t)idx));
	else if (strcmp(type, "operator.add") == 0)
		json_object_set_new(v->operators, str(j, "name"), json_string(str(j, "pem")));
	else if (strcmp(type, "release.add") == 0)
		check_release(v, idx, j);
	else if (strcmp(type, "vuln.add") == 0)
		check_advisory(v, idx, j);
	else if (strcmp(type, "vuln.affected") == 0)
		check_cohort(v, idx, j);
	else if (strcmp(type, "campaign.create") == 0)
		json_object_set_new(v->campaigns, str(j, "campaign"),
		                    json_pack("{ss s{}}", "creator", str(j, "creator"), "approved"));
	else if (strcmp(type, "campaign.edit") == 0) {
		json_t *camp = json_object_get(v->campaigns, str(j, "campaign"));

		if (camp)
			json_object_set_new(camp, "approved", json_object());
	} else if (strcmp(type, "campaign.approve") == 0)
		check_approval(v, idx, j);
	else if (strcmp(type, "rollout.device") == 0)
		tally(v, j);
	else if (strcmp(type, "campaign.complete") == 0)
		check_complete(v, idx, j);
	else if (strcmp(type, "campaign.start") == 0) {
		char name[200], safe[100];
		uint8_t *data = NULL;
		size_t len = 0;

		safe_name(str(j, "campaign"), safe, sizeof(safe));
		snprintf(name, sizeof(name), "campaign/%s.members", safe);
		if (check_file_sha(v, name, str(j, "members_sha256"), idx, &data, &len) == 0)
			free(data);
	}
}

static int is_device_record(const json_t *j, const char *device)
{
	return device && strcmp(str(j, "device"), device) == 0;
}

/* Read the next record line: parse, hash, check, remember. */
static void next_record(struct ver *v)
{
	ssize_t n;

	v->have_next = 0;
	while (!v->eof) {
		const char *p, *rec;
		size_t len;
		uint64_t idx = 0;
		uint8_t lh[FW_HASH_LEN];
		json_t *j;

		n = getline(&v->line, &v->cap, v->f);
		if (n < 0) {
			v->eof = 1;
			return;
		}
		v->lineno++;
		if (n > 0 && v->line[n - 1] == '\n')
			v->line[--n] = 0;
		p = v->line;
		if ((size_t)n > RECORD_MAX) {
			finding(v, "record.malformed", "records.jsonl", UINT64_MAX,
			        "line %llu: longer than %u bytes", (unsigned long long)v->lineno,
			        RECORD_MAX);
			continue;
		}
		if (strncmp(p, "{\"idx\":", 7) != 0 || n < 20 || v->line[n - 1] != '}') {
			finding(v, "record.malformed", "records.jsonl", UINT64_MAX,
			        "line %llu: expected {\"idx\":N,\"record\":{...}}",
			        (unsigned long long)v->lineno);
			continue;
		}
		p += 7;
		if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9')) {
			finding(v, "record.malformed", "records.jsonl", UINT64_MAX,
			        "line %llu: the index is not a number", (unsigned long long)v->lineno);
			continue;
		}
		while (*p >= '0' && *p <= '9' && idx < UINT64_MAX / 10)
			idx = idx * 10 + (uint64_t)(*p++ - '0');
		if (strncmp(p, ",\"record\":", 10) != 0) {
			finding(v, "record.malformed", "records.jsonl", UINT64_MAX,
			        "line %llu: expected ,\"record\": after the index",
			        (unsigned long long)v->lineno);
			continue;
		}
		rec = p + 10;
		len = (size_t)(v->line + n - 1 - rec);
		if (v->any && idx <= v->last_idx) {
			finding(v, "records.order", "records.jsonl", idx,
			        "line %llu: record %llu after record %llu (records are in index order, "
			        "each once)",
			        (unsigned long long)v->lineno, (unsigned long long)idx,
			        (unsigned long long)v->last_idx);
			continue;
		}
		j = fw_json_load_record(rec, len);
		if (!json_is_object(j)) {
			finding(v, "record.malformed", "records.jsonl", idx,
			        "line %llu: the record is not a JSON object", (unsigned long long)v->lineno);
			json_decref(j);
			continue;
		}
		fw_evidence_leaf_hash((const uint8_t *)rec, len, lh);
		check_record(v, idx, j);
		{
			struct fw_diag rd = {0};
			int rc = fw_report_add(v->report, idx, j, &rd);

			if (rc == FW_E_NOMEM)
				v->oom = 1;
			else if (rc != FW_OK)
				finding(v, "record.malformed", "records.jsonl", idx, "%s", rd.msg);
		}
		if (v->q && is_device_record(j, v->q->device) && v->ntargets < FW_BUNDLE_QUERY_MAX) {
			struct target *t = calloc(1, sizeof(*t));

			if (t && (t->bytes = malloc(len + 1)) != NULL) {
				memcpy(t->bytes, rec, len);
				t->bytes[len] = 0;
				t->idx = idx;
				t->len = len;
				t->j = json_incref(j);
				v->targets[v->ntargets++] = t;
			} else {
				free(t);
				v->oom = 1;
			}
		}
		json_decref(j);
		/* remember index and leaf hash, for the references of later ones */
		if (v->n == v->capn) {
			size_t cap = v->capn ? 2 * v->capn : 4096;
			uint64_t *ni = realloc(v->idx, cap * sizeof(*ni));
			uint8_t(*nl)[FW_HASH_LEN] = ni ? realloc(v->lh, cap * FW_HASH_LEN) : NULL;

			if (ni)
				v->idx = ni;
			if (nl == NULL) {
				v->oom = 1;
				return;
			}
			v->lh = nl;
			v->capn = cap;
		}
		v->idx[v->n] = idx;
		memcpy(v->lh[v->n], lh, FW_HASH_LEN);
		v->n++;
		v->res->records++;
		v->last_idx = idx;
		v->any = 1;
		v->next_idx = idx;
		memcpy(v->next_lh, lh, FW_HASH_LEN);
		v->have_next = 1;
		if (v->progress && v->res->records % 65536 == 0)
			v->progress(v->progress_arg, v->res->records, v->total);
		return;
	}
}

/* ---- the batch proof, checked against the records as they come ---- */

/* targets (in index order) within [lo, hi) get sib as their next hash */
static void add_sibling(struct ver *v, uint64_t lo, uint64_t hi, const uint8_t sib[FW_HASH_LEN])
{
	size_t a = 0, b = v->ntargets;

	while (a < b) { /* the first target at or after lo */
		size_t mid = a + (b - a) / 2;

		if (v->targets[mid]->idx < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < v->ntargets && v->targets[a]->idx < hi; a++) {
		struct target *t = v->targets[a];

		if (t->n < FW_MERKLE_MAX_PROOF)
			memcpy(t->path[t->n++], sib, FW_HASH_LEN);
	}
}

/* The hash of the tree's node [lo, hi): a hash of the proof, a record's
 * leaf, or the join of its children. -1: the proof does not fit the
 * records (no hash for a part without records, or a hash over a record). */
static int node_hash(struct ver *v, uint64_t lo, uint64_t hi, uint8_t out[FW_HASH_LEN])
{
	uint8_t l[FW_HASH_LEN], r[FW_HASH_LEN];
	uint64_t k;
	int rec_in = v->have_next && v->next_idx >= lo && v->next_idx < hi;

	if (v->oom)
		return -1;
	if (v->pi < v->nproof && v->proof[v->pi].lo == lo && v->proof[v->pi].size == hi - lo) {
		if (rec_in)
			return -1;
		memcpy(out, v->proof[v->pi++].h, FW_HASH_LEN);
		return 0;
	}
	if (!rec_in && !(v->pi < v->nproof && v->proof[v->pi].lo >= lo && v->proof[v->pi].lo < hi))
		return -1;
	if (hi - lo == 1) {
		if (!rec_in)
			return -1;
		memcpy(out, v->next_lh, FW_HASH_LEN);
		next_record(v);
		return 0;
	}
	k = split_point(hi - lo);
	if (node_hash(v, lo, lo + k, l) || node_hash(v, lo + k, hi, r))
		return -1;
	if (v->ntargets) {
		add_sibling(v, lo, lo + k, r);
		add_sibling(v, lo + k, hi, l);
	}
	fw_merkle_node_hash(l, r, out);
	return 0;
}

static void check_tree(struct ver *v, const struct fw_checkpoint *cp)
{
	uint8_t root[FW_HASH_LEN];
	int bad;

	next_record(v);
	bad = cp->size == 0 || node_hash(v, 0, cp->size, root) != 0;
	if (v->oom)
		return;
	if (bad)
		finding(v, "proof.mismatch", "proof.txt", v->have_next ? v->next_idx : UINT64_MAX,
		        "the batch proof does not fit the records (a record missing, added or moved, "
		        "or the proof altered)%s",
		        v->have_next ? "; it fails at this record" : "");
	else if (memcmp(root, cp->root, FW_HASH_LEN) != 0)
		finding(v, "proof.root_mismatch", "proof.txt", UINT64_MAX,
		        "the records and the proof give another root than checkpoint.note's: a record "
		        "or a hash was altered");
	else if (v->pi != v->nproof)
		finding(v, "proof.mismatch", "proof.txt", UINT64_MAX,
		        "%zu hashes of the proof are not used", v->nproof - v->pi);
	/* read what is left, so that every record is still checked */
	while (v->have_next) {
		if (!bad)
			finding(v, "records.beyond_checkpoint", "records.jsonl", v->next_idx,
			        "record %llu is not below the checkpoint's size %llu",
			        (unsigned long long)v->next_idx, (unsigned long long)cp->size);
		next_record(v);
	}
}

/* ---- checkpoints ---- */

static const char *note_finding(int rc)
{
	switch (rc) {
	case FW_E_NOT_FOUND: return "checkpoint.unknown_key";
	case FW_E_SIGNATURE: return "checkpoint.bad_signature";
	case FW_E_ORIGIN: return "checkpoint.wrong_origin";
	default: return "checkpoint.malformed";
	}
}

static int open_checkpoint(struct ver *v, const char *name, const char *origin, char **note,
                           size_t *len, struct fw_checkpoint *cp)
{
	struct fw_diag d = {0};
	int rc;

	if (read_small(v, name, FW_NOTE_MAX, note, len) != FW_OK)
		return -1;
	rc = fw_checkpoint_open(*note, *len, &v->vk, origin, cp, &d);
	if (rc != FW_OK) {
		finding(v, note_finding(rc), name, UINT64_MAX, "%s", d.msg);
		return -1;
	}
	return 0;
}

static void check_earlier(struct ver *v, const char *anchor_note, size_t anchor_len,
                          const struct fw_checkpoint *anchor)
{
	char p[4200];
	DIR *dir;
	struct dirent *e;

	snprintf(p, sizeof(p), "%s/checkpoints", v->dir);
	dir = opendir(p);
	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		char name[600], cname[700], *note = NULL, *proof = NULL;
		size_t len = 0, plen = 0;
		uint64_t size;
		char num[32];
		struct fw_checkpoint cp;
		struct fw_diag d = {0};
		const char *dot = strrchr(e->d_name, '.');

		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "checkpoints/%s", e->d_name);
		if (dot == NULL || strcmp(dot, ".note") != 0 || (size_t)(dot - e->d_name) >= sizeof(num)) {
			finding(v, "checkpoint.malformed", name, UINT64_MAX, "expected <size>.note");
			continue;
		}
		memcpy(num, e->d_name, (size_t)(dot - e->d_name));
		num[dot - e->d_name] = 0;
		if (fw_parse_u64(num, &size) != FW_OK) {
			finding(v, "checkpoint.malformed", name, UINT64_MAX, "expected <size>.note");
			continue;
		}
		v->res->checkpoints++;
		if (open_checkpoint(v, name, anchor->origin, &note, &len, &cp) == 0) {
			if (cp.size != size)
				finding(v, "checkpoint.malformed", name, UINT64_MAX,
				        "the note is of size %llu, its name says %llu",
				        (unsigned long long)cp.size, (unsigned long long)size);
			else if (size >= anchor->size)
				finding(v, "checkpoint.not_earlier", name, UINT64_MAX,
				        "size %llu is not below the anchor's %llu", (unsigned long long)size,
				        (unsigned long long)anchor->size);
			else {
				snprintf(cname, sizeof(cname), "consistency/%llu-%llu.txt",
				         (unsigned long long)size, (unsigned long long)anchor->size);
				if (read_small(v, cname, 1 << 16, &proof, &plen) == FW_OK &&
				    fw_evidence_verify_consistency(note, len, anchor_note, anchor_len, proof,
				                                   plen, v->pub, anchor->origin,
				                                   &d) != FW_OK)
					finding(v, "checkpoint.inconsistent", cname, UINT64_MAX,
					        "checkpoint %llu is not proven a prefix of the anchor: %s",
					        (unsigned long long)size, d.msg);
			}
		}
		free(note);
		free(proof);
	}
	closedir(dir);
}

/* the release's and campaign's files: each one a record names */
static void check_named_files(struct ver *v)
{
	for (size_t i = 0; i < v->present.n; i++) {
		const char *f = v->present.v[i];

		if ((strncmp(f, "release/", 8) == 0 || strncmp(f, "campaign/", 9) == 0 ||
		     strncmp(f, "vuln/", 5) == 0) &&
		    json_object_get(v->files, f) == NULL)
			finding(v, "file.unrecorded", f, UINT64_MAX,
			        "no record of the bundle names this file");
	}
}

/* key files must be what the records hold */
static void check_key_files(struct ver *v)
{
	const char *k;
	json_t *x;
	char name[200], safe[100], *pem = NULL;
	size_t len = 0;

	json_object_foreach(v->keys, k, x) {
		safe_name(k, safe, sizeof(safe));
		snprintf(name, sizeof(name), "keys/%s.pem", safe);
		pem = NULL;
		if (read_small(v, name, 1 << 16, &pem, &len) == FW_OK &&
		    strcmp(pem, str(x, "pem")) != 0)
			finding(v, "key.file_mismatch", name, (uint64_t)json_integer_value(json_object_get(x, "idx")),
			        "not the key its key.trust record holds");
		free(pem);
	}
	json_object_foreach(v->operators, k, x) {
		safe_name(k, safe, sizeof(safe));
		snprintf(name, sizeof(name), "keys/operators/%s.pem", safe);
		pem = NULL;
		if (read_small(v, name, 1 << 16, &pem, &len) == FW_OK &&
		    strcmp(pem, json_string_value(x)) != 0)
			finding(v, "key.file_mismatch", name, UINT64_MAX,
			        "not the key operator %s's operator.add record holds", k);
		free(pem);
	}
}

/* summary.json and report.html: what the records give, byte for byte */
static void check_report(struct ver *v, const struct fw_checkpoint *cp)
{
	char vkey[400], *mine = NULL, *theirs = NULL, *html = NULL, *their_html = NULL;
	size_t hlen = 0, tlen = 0;
	FILE *f;
	json_t *summary;

	if (fw_note_vkey_format(&v->vk, vkey, sizeof(vkey)) != FW_OK)
		vkey[0] = 0;
	summary = fw_report_summary(v->report, cp, vkey);
	if (summary == NULL) {
		v->oom = 1;
		return;
	}
	mine = summary_text(summary);
	if (mine && read_small(v, "summary.json", 1 << 26, &theirs, NULL) == FW_OK &&
	    strcmp(mine, theirs) != 0)
		finding(v, "summary.mismatch", "summary.json", UINT64_MAX,
		        "the report's numbers differ from what the records give");
	f = open_memstream(&html, &hlen);
	if (f && fw_report_html(summary, f, NULL) == FW_OK && fclose(f) == 0) {
		if (read_small(v, "report.html", 1 << 28, &their_html, &tlen) == FW_OK &&
		    (tlen != hlen || memcmp(html, their_html, hlen) != 0))
			finding(v, "report.mismatch", "report.html",
			        UINT64_MAX, "the report differs from the one the records give");
	} else if (f)
		fclose(f);
	v->res->summary = summary;
	free(mine);
	free(theirs);
	free(html);
	free(their_html);
}

static int write_proofs(struct ver *v, const char *anchor_note, struct fw_diag *d)
{
	struct fw_bundle_query *q = v->q;

	if (q->proofs_dir && mkdir(q->proofs_dir, 0755) != 0 && errno != EEXIST)
		return fw_diag_set(d, FW_E_IO, "%s: %s", q->proofs_dir, strerror(errno));
	for (size_t i = 0; i < v->ntargets; i++) {
		struct target *t = v->targets[i];
		char name[64], *text = NULL;
		json_t *e = json_pack("{sI sO}", "idx", (json_int_t)t->idx, "record", t->j);
		int rc = FW_OK;

		if (e == NULL)
			return oom(d);
		if (q->proofs_dir) {
			struct fw_file_out out[2];
			char p1[4200], p2[4200];

			rc = fw_tlog_proof_format(t->idx, (const uint8_t(*)[FW_HASH_LEN])t->path, t->n,
			                          anchor_note, &text);
			snprintf(name, sizeof(name), "%llu.proof", (unsigned long long)t->idx);
			snprintf(p1, sizeof(p1), "%s/%s", q->proofs_dir, name);
			snprintf(p2, sizeof(p2), "%s/%llu.record", q->proofs_dir,
			         (unsigned long long)t->idx);
			out[0] = (struct fw_file_out){p1, text, text ? strlen(text) : 0, 0644};
			out[1] = (struct fw_file_out){p2, t->bytes, t->len, 0644};
			if (rc == FW_OK)
				rc = fw_files_commit(out, 2, 1, d);
			free(text);
			if (rc == FW_OK) {
				json_object_set_new(e, "proof", json_string(name));
				q->proofs++;
			}
		}
		json_array_append_new(q->records, e);
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

int fw_bundle_verify(const char *dir, const uint8_t *pub, struct fw_bundle_query *q,
                     fw_bundle_fn fn, void *arg, fw_progress_fn progress, void *progress_arg,
                     struct fw_bundle_result *res, struct fw_diag *d)
{
	struct ver *v;
	struct stat st;
	char *note = NULL, *bj = NULL, p[4200], origin[FW_ORIGIN_MAX + 1] = "";
	size_t note_len = 0;
	struct fw_checkpoint cp;
	json_t *b = NULL;
	int rc = FW_OK;

	memset(res, 0, sizeof(*res));
	if (q) {
		q->records = NULL;
		q->proofs = 0;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return fw_diag_set(d, FW_E_IO, "%s: not a directory", dir);
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return oom(d);
	v->dir = dir;
	v->fn = fn;
	v->arg = arg;
	v->res = res;
	v->d = d;
	v->q = q;
	v->progress = progress;
	v->progress_arg = progress_arg;
	v->keys = json_object();
	v->operators = json_object();
	v->files = json_object();
	v->campaigns = json_object();
	if (q && (q->records = json_array()) == NULL)
		v->oom = 1;
	if (q)
		v->targets = calloc(FW_BUNDLE_QUERY_MAX, sizeof(*v->targets));
	if (!v->keys || !v->operators || !v->files || !v->campaigns || (q && !v->targets)) {
		rc = oom(d);
		goto out;
	}
	rc = list_files(dir, &v->present, d);
	if (rc != FW_OK)
		goto out;
	check_manifest(v);
	/* what the bundle says it is */
	if (read_small(v, "bundle.json", 1 << 20, &bj, NULL) == FW_OK) {
		b = json_loads(bj, 0, NULL);
		if (!json_is_object(b) || strcmp(str(b, "format"), BUNDLE_FORMAT) != 0)
			finding(v, "bundle.malformed", "bundle.json", UINT64_MAX,
			        "not a %s description", BUNDLE_FORMAT);
		snprintf(res->kind, sizeof(res->kind), "%s", str(b, "kind"));
		snprintf(res->id, sizeof(res->id), "%s", str(b, "id"));
		v->total = (uint64_t)json_integer_value(json_object_get(b, "records"));
	}
	/* the key, and the anchor signed with it */
	if (check_key(v, pub) != 0) {
		finding(v, "key.missing", "log.pub",
		        UINT64_MAX, "no usable log key: give the log's public key with --key");
		goto out;
	}
	if (read_small(v, "checkpoint.note", FW_NOTE_MAX, &note, &note_len) != FW_OK)
		goto out;
	{
		const char *nl = strchr(note, '\n');
		size_t n = nl ? (size_t)(nl - note) : 0;

		if (n == 0 || n > FW_ORIGIN_MAX) {
			finding(v, "checkpoint.malformed", "checkpoint.note", UINT64_MAX,
			        "no origin line");
			goto out;
		}
		memcpy(origin, note, n);
		origin[n] = 0;
	}
	if (fw_note_key_init(&v->vk, origin, v->pub) != FW_OK) {
		finding(v, "checkpoint.malformed", "checkpoint.note", UINT64_MAX,
		        "its origin cannot name a key");
		goto out;
	}
	free(note);
	note = NULL;
	if (open_checkpoint(v, "checkpoint.note", origin, &note, &note_len, &cp) != 0)
		goto out;
	res->anchor = cp;
	res->checkpoints = 1;
	{
		json_t *a = json_object_get(b, "anchor");
		char root[48];

		fw_b64_encode(cp.root, FW_HASH_LEN, root);
		if (b && ((uint64_t)json_integer_value(json_object_get(a, "size")) != cp.size ||
		          strcmp(str(a, "root"), root) != 0 || strcmp(str(a, "origin"), cp.origin) != 0))
			finding(v, "bundle.mismatch", "bundle.json", UINT64_MAX,
			        "its anchor is not checkpoint.note (size %llu)",
			        (unsigned long long)cp.size);
	}
	{
		char vkey[400], *theirs = NULL;

		if (fw_note_vkey_format(&v->vk, vkey, sizeof(vkey)) == FW_OK &&
		    read_small(v, "log.vkey", 1 << 12, &theirs, NULL) == FW_OK) {
			theirs[strcspn(theirs, "\n")] = 0;
			if (strcmp(theirs, vkey) != 0)
				finding(v, "key.mismatch", "log.vkey", UINT64_MAX,
				        "not the vkey of the log key the checkpoints are checked with");
		}
		free(theirs);
	}
	check_earlier(v, note, note_len, &cp);
	/* the records against the batch proof */
	v->report = fw_report_new(res->kind[0] ? res->kind : "campaign", res->id);
	if (v->report == NULL) {
		rc = oom(d);
		goto out;
	}
	if (parse_proof(v, cp.size) == 0) {
		snprintf(p, sizeof(p), "%s/records.jsonl", dir);
		v->f = fopen(p, "r");
		if (v->f == NULL)
			finding(v, "file.unreadable", "records.jsonl", UINT64_MAX, "%s", strerror(errno));
		else {
			setvbuf(v->f, NULL, _IOFBF, 1 << 20);
			check_tree(v, &cp);
		}
	}
	if (v->oom) {
		rc = oom(d);
		goto out;
	}
	check_key_files(v);
	check_named_files(v);
	check_report(v, &cp);
	if (q)
		rc = write_proofs(v, note, d);
	if (rc == FW_OK && v->oom)
		rc = oom(d);
out:
	if (v->f)
		fclose(v->f);
	for (size_t i = 0; i < v->ntargets; i++) {
		free(v->targets[i]->bytes);
		json_decref(v->targets[i]->j);
		free(v->targets[i]);
	}
	free(v->targets);
	paths_free(&v->present);
	free(v->line);
	free(v->idx);
	free(v->lh);
	free(v->proof);
	json_decref(v->keys);
	json_decref(v->operators);
	json_decref(v->files);
	json_decref(v->campaigns);
	fw_report_free(v->report);
	json_decref(b);
	free(bj);
	free(note);
	free(v);
	return rc;
}

void fw_bundle_result_clear(struct fw_bundle_result *res)
{
	if (res) {
		json_decref(res->summary);
		res->summary = NULL;
	}
}
