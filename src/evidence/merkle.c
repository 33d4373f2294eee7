/*
 * RFC 6962 / RFC 9162 Merkle trees: leaf and node hashes, the compact
 * range, roots and proofs over an in-memory array of leaf hashes, and the
 * two verifiers in the closed form of transparency-dev/merkle
 * (proof/verify.go), which checks a proof's length before hashing.
 *
 * Hashing: SHA-256 through EVP with a message digest fetched once per
 * process (an implicit fetch on every EVP_DigestInit costs more than the
 * hash of a node). Bulk operations (roots, proofs, verification) reuse one
 * EVP_MD_CTX; the void one-shot hashes take a context per call.
 *
 * The void functions of evidence.h cannot report a failure. OpenSSL fails
 * here only when it cannot allocate; the output is then all zeros, which no
 * SHA-256 input is known to produce, so a failure can only make a later
 * comparison with a real hash fail (refuse), never succeed. A compact range
 * whose append failed is marked inconsistent (root all zeros, encode 0).
 * Note that OpenSSL 3.0 allocates the provider's SHA-256 state on every
 * EVP_DigestInit, reused EVP_MD_CTX or not: one allocation per hash is the
 * floor through EVP (measured; the one-shots here take two).
 */
#include <stdatomic.h>
#include <string.h>

#include <openssl/evp.h>

#include "evidence/evidence.h"

/* SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1) */
static const uint8_t empty_root[FW_HASH_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

static _Atomic(EVP_MD *) fetched_sha256;

/* The fetched SHA-256, kept for the life of the process (never freed, so it
 * stays valid for every thread; it is still reachable at exit). */
static const EVP_MD *sha256(void)
{
	EVP_MD *md = atomic_load_explicit(&fetched_sha256, memory_order_acquire);
	EVP_MD *none = NULL;

	if (md != NULL)
		return md;
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md == NULL)
		return EVP_sha256(); /* slower (fetched on each init) but correct */
	if (!atomic_compare_exchange_strong(&fetched_sha256, &none, md)) {
		EVP_MD_free(md); /* another thread won the race: use its copy */
		return none;
	}
	return md;
}

struct hasher {
	EVP_MD_CTX *ctx;
	int failed;
};

static int hasher_init(struct hasher *h)
{
	h->ctx = EVP_MD_CTX_new();
	h->failed = h->ctx == NULL;
	return h->failed ? FW_E_NOMEM : FW_OK;
}

static void hasher_free(struct hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* SHA-256(prefix || a || b); a and b may be empty. out may alias a or b. */
static void hash3(struct hasher *h, uint8_t prefix, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen, uint8_t out[FW_HASH_LEN])
{
	unsigned int len = 0;

	if (h->ctx == NULL || EVP_DigestInit_ex2(h->ctx, sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, &prefix, 1) != 1 ||
	    (alen > 0 && EVP_DigestUpdate(h->ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != FW_HASH_LEN) {
		h->failed = 1;
		memset(out, 0, FW_HASH_LEN);
	}
}

/* H(0x01 || l || r) with l, r and out allowed to overlap */
static void node(struct hasher *h, const uint8_t l[FW_HASH_LEN], const uint8_t r[FW_HASH_LEN],
                 uint8_t out[FW_HASH_LEN])
{
	uint8_t buf[2 * FW_HASH_LEN];

	memcpy(buf, l, FW_HASH_LEN);
	memcpy(buf + FW_HASH_LEN, r, FW_HASH_LEN);
	hash3(h, 0x01, buf, sizeof(buf), NULL, 0, out);
}

/* One-shot hash for the void API: a context of its own per call. */
static void hash3_once(uint8_t prefix, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen, uint8_t out[FW_HASH_LEN])
{
	struct hasher h;

	if (hasher_init(&h) != FW_OK) {
		memset(out, 0, FW_HASH_LEN);
		return;
	}
	hash3(&h, prefix, a, alen, b, blen, out);
	hasher_free(&h);
}

void fw_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[FW_HASH_LEN])
{
	hash3_once(0x00, data, len, NULL, 0, out);
}

void fw_merkle_node_hash(const uint8_t left[FW_HASH_LEN], const uint8_t right[FW_HASH_LEN],
                         uint8_t out[FW_HASH_LEN])
{
	hash3_once(0x01, left, FW_HASH_LEN, right, FW_HASH_LEN, out);
}

void fw_evidence_leaf_hash(const uint8_t *record, size_t len, uint8_t out[FW_HASH_LEN])
{
	/* streamed: 0x00, the tag, the record; never copied together */
	hash3_once(0x00, (const uint8_t *)FW_EVIDENCE_TAG, sizeof(FW_EVIDENCE_TAG) - 1, record,
	           len, out);
}

/* ---- bit arithmetic on 64-bit sizes ---- */

static unsigned popcount64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* bits.Len64: number of bits needed for x (0 for 0) */
static unsigned len64(uint64_t x)
{
	return x == 0 ? 0 : 64u - (unsigned)__builtin_clzll(x);
}

static unsigned ctz64(uint64_t x) /* x != 0 */
{
	return (unsigned)__builtin_ctzll(x);
}

/* largest power of two strictly below n, for n >= 2 (RFC 6962 §2.1 k) */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << (len64(n - 1) - 1);
}

/* ---- compact range ---- */

#define POISONED 65u /* an n no size has: marks a range whose hashing failed */

void fw_compact_range_init(struct fw_compact_range *cr)
{
	memset(cr, 0, sizeof(*cr));
}

void fw_compact_range_append(struct fw_compact_range *cr, const uint8_t leaf[FW_HASH_LEN])
{
	struct hasher h;
	uint8_t cur[FW_HASH_LEN];
	uint64_t s = cr->size;
	unsigned n = cr->n;

	/* a corrupted range (or 2^64-1 leaves) would write out of bounds: the
	 * range is left as it is; its root then no longer matches anything */
	if (s == UINT64_MAX || n != popcount64(s))
		return;
	memcpy(cur, leaf, FW_HASH_LEN);
	if (s & 1) {
		int failed = hasher_init(&h) != FW_OK;

		/* each trailing one of size is a perfect subtree the new leaf
		 * completes: merge them */
		while (!failed && (s & 1)) {
			node(&h, cr->hashes[--n], cur, cur);
			s >>= 1;
		}
		if (!failed) {
			failed = h.failed;
			hasher_free(&h);
		}
		if (failed) {
			/* never a wrong root that looks right: the range becomes
			 * inconsistent, so root gives zeros, encode 0 and append
			 * nothing from now on */
			cr->n = POISONED;
			return;
		}
	}
	memcpy(cr->hashes[n], cur, FW_HASH_LEN);
	cr->n = n + 1;
	cr->size++;
}

/* fold the subtree roots, smallest first: MTH of the whole range */
static void fold(struct hasher *h, const uint8_t (*hashes)[FW_HASH_LEN], unsigned n,
                 uint8_t out[FW_HASH_LEN])
{
	uint8_t cur[FW_HASH_LEN];
	unsigned i;

	memcpy(cur, hashes[n - 1], FW_HASH_LEN);
	for (i = n - 1; i > 0; i--)
		node(h, hashes[i - 1], cur, cur);
	memcpy(out, cur, FW_HASH_LEN);
}

void fw_compact_range_root(const struct fw_compact_range *cr, uint8_t out[FW_HASH_LEN])
{
	struct hasher h;

	if (cr->size == 0) {
		memcpy(out, empty_root, FW_HASH_LEN);
		return;
	}
	if (cr->n != popcount64(cr->size)) {
		memset(out, 0, FW_HASH_LEN); /* corrupted range: matches no real root */
		return;
	}
	if (cr->n == 1) {
		memcpy(out, cr->hashes[0], FW_HASH_LEN);
		return;
	}
	if (hasher_init(&h) != FW_OK) {
		memset(out, 0, FW_HASH_LEN);
		return;
	}
	fold(&h, (const uint8_t(*)[FW_HASH_LEN])cr->hashes, cr->n, out);
	if (h.failed)
		memset(out, 0, FW_HASH_LEN);
	hasher_free(&h);
}

size_t fw_compact_range_encode(const struct fw_compact_range *cr, uint8_t *out, size_t cap)
{
	size_t need;
	int i;

	if (cr->n > 64 || cr->n != popcount64(cr->size))
		return 0;
	need = 8 + (size_t)cr->n * FW_HASH_LEN;
	if (out == NULL || cap < need)
		return 0;
	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(cr->size >> (56 - 8 * i));
	memcpy(out + 8, cr->hashes, (size_t)cr->n * FW_HASH_LEN);
	return need;
}

int fw_compact_range_decode(const uint8_t *p, size_t len, struct fw_compact_range *out)
{
	uint64_t size = 0;
	unsigned n;
	int i;

	/* stored bytes are untrusted: the length must be exactly what the
	 * size says (one hash per set bit), nothing more or less */
	if (p == NULL || out == NULL || len < 8)
		return FW_E_FORMAT;
	for (i = 0; i < 8; i++)
		size = size << 8 | p[i];
	n = popcount64(size);
	if (len != 8 + (size_t)n * FW_HASH_LEN)
		return FW_E_FORMAT;
	out->size = size;
	out->n = n;
	memcpy(out->hashes, p + 8, (size_t)n * FW_HASH_LEN);
	return FW_OK;
}

/* ---- roots and proofs from leaf hashes ---- */

/* MTH(D[lo:hi]) for hi > lo: a compact range over the subrange, so the
 * stack is at most 64 hashes whatever the size and nothing is allocated. */
static void mth(struct hasher *h, const uint8_t (*leaves)[FW_HASH_LEN], uint64_t lo,
                uint64_t hi, uint8_t out[FW_HASH_LEN])
{
	uint8_t stack[64][FW_HASH_LEN], cur[FW_HASH_LEN];
	unsigned n = 0;
	uint64_t i;

	for (i = lo; i < hi; i++) {
		uint64_t count = i - lo;

		memcpy(cur, leaves[i], FW_HASH_LEN);
		while (count & 1) {
			node(h, stack[--n], cur, cur);
			count >>= 1;
		}
		memcpy(stack[n++], cur, FW_HASH_LEN);
	}
	fold(h, (const uint8_t(*)[FW_HASH_LEN])stack, n, out);
}

struct range {
	uint64_t lo, hi;
};

/* hash the ranges in reverse order (proofs go from the leaf up) */
static int hash_ranges(const uint8_t (*leaves)[FW_HASH_LEN], const struct range *r, unsigned k,
                       uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], size_t *n)
{
	uint8_t tmp[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	struct hasher h;
	unsigned i;
	int rc;

	if (k > FW_MERKLE_MAX_PROOF)
		return FW_E_ARG; /* only for trees of 2^63 leaves and more */
	rc = hasher_init(&h);
	if (rc != FW_OK)
		return rc;
	for (i = 0; i < k; i++)
		mth(&h, leaves, r[k - 1 - i].lo, r[k - 1 - i].hi, tmp[i]);
	rc = h.failed ? FW_E_NOMEM : FW_OK;
	hasher_free(&h);
	if (rc != FW_OK)
		return rc;
	memcpy(proof, tmp, (size_t)k * FW_HASH_LEN);
	*n = k;
	return FW_OK;
}

int fw_merkle_root(const uint8_t (*leaves)[FW_HASH_LEN], uint64_t size, uint8_t out[FW_HASH_LEN])
{
	struct hasher h;
	uint8_t tmp[FW_HASH_LEN];
	int rc;

	if (out == NULL || (leaves == NULL && size > 0))
		return FW_E_ARG;
	if (size == 0) {
		memcpy(out, empty_root, FW_HASH_LEN);
		return FW_OK;
	}
	rc = hasher_init(&h);
	if (rc != FW_OK)
		return rc;
	mth(&h, leaves, 0, size, tmp);
	rc = h.failed ? FW_E_NOMEM : FW_OK;
	hasher_free(&h);
	if (rc == FW_OK)
		memcpy(out, tmp, FW_HASH_LEN);
	return rc;
}

/* PATH(m, D[n]) of RFC 6962 §2.1.1, unrolled: walk from the root to the
 * leaf, noting the sibling subtree at each level. */
int fw_merkle_inclusion_proof(const uint8_t (*leaves)[FW_HASH_LEN], uint64_t size, uint64_t index,
                              uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], size_t *n)
{
	struct range r[FW_MERKLE_MAX_PROOF];
	uint64_t lo = 0, hi = size;
	unsigned k = 0;

	if (leaves == NULL || proof == NULL || n == NULL || index >= size)
		return FW_E_ARG;
	while (hi - lo > 1) { /* at most 64 levels: hi - lo halves at least */
		uint64_t split = split_point(hi - lo);

		if (index - lo < split) {
			r[k].lo = lo + split;
			r[k].hi = hi;
			hi = lo + split;
		} else {
			r[k].lo = lo;
			r[k].hi = lo + split;
			lo += split;
		}
		k++;
	}
	return hash_ranges(leaves, r, k, proof, n);
}

/* PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2, unrolled
 * the same way; m is relative to lo. */
int fw_merkle_consistency_proof(const uint8_t (*leaves)[FW_HASH_LEN], uint64_t old_size,
                                uint64_t new_size,
                                uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], size_t *n)
{
	struct range r[FW_MERKLE_MAX_PROOF + 1];
	uint64_t lo = 0, hi = new_size, m = old_size;
	unsigned k = 0;
	int whole = 1; /* the "b" of SUBPROOF: still on the path of the old root */

	if (leaves == NULL || proof == NULL || n == NULL || old_size == 0 || old_size > new_size)
		return FW_E_ARG;
	for (;;) {
		uint64_t split;

		if (m == hi - lo) {
			if (!whole) {
				r[k].lo = lo;
				r[k].hi = hi;
				k++;
			}
			break;
		}
		/* 1 <= m < hi - lo here, so hi - lo >= 2 */
		split = split_point(hi - lo);
		if (m <= split) {
			r[k].lo = lo + split;
			r[k].hi = hi;
			hi = lo + split;
		} else {
			r[k].lo = lo;
			r[k].hi = lo + split;
			m -= split;
			lo += split;
			whole = 0;
		}
		k++;
	}
	return hash_ranges(leaves, r, k, proof, n);
}

/* ---- verification (transparency-dev/merkle proof/verify.go) ---- */

static int same(const uint8_t a[FW_HASH_LEN], const uint8_t b[FW_HASH_LEN])
{
	return memcmp(a, b, FW_HASH_LEN) == 0;
}

int fw_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[FW_HASH_LEN],
                               const uint8_t (*proof)[FW_HASH_LEN], size_t n,
                               const uint8_t root[FW_HASH_LEN])
{
	struct hasher h;
	uint8_t cur[FW_HASH_LEN];
	unsigned inner, border, i;
	int rc = FW_E_PROOF;

	if (leaf == NULL || root == NULL || (proof == NULL && n > 0))
		return FW_E_PROOF;
	/* an index outside the tree proves nothing (RFC 9162 §2.1.3.2 step 1;
	 * this also refuses every proof for the empty tree) */
	if (index >= size)
		return FW_E_PROOF;
	/* the proof length is fixed by index and size: levels where the path
	 * to the leaf and the path to the last leaf differ, plus one hash for
	 * each left sibling on the shared right border. Checking it first is
	 * what the sn == 0 checks of the iterative form do (PR #100): a proof
	 * for another size, or a padded/truncated one, never gets hashed. */
	inner = len64(index ^ (size - 1));
	border = inner >= 64 ? 0 : popcount64(index >> inner);
	if (n != (size_t)inner + border)
		return FW_E_PROOF;
	if (hasher_init(&h) != FW_OK)
		return FW_E_NOMEM;
	memcpy(cur, leaf, FW_HASH_LEN);
	for (i = 0; i < inner; i++) {
		if ((index >> i) & 1)
			node(&h, proof[i], cur, cur);
		else
			node(&h, cur, proof[i], cur);
	}
	for (; i < n; i++)
		node(&h, proof[i], cur, cur);
	if (h.failed)
		rc = FW_E_NOMEM;
	else if (same(cur, root))
		rc = FW_OK;
	hasher_free(&h);
	return rc;
}

int fw_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                 const uint8_t old_root[FW_HASH_LEN],
                                 const uint8_t new_root[FW_HASH_LEN],
                                 const uint8_t (*proof)[FW_HASH_LEN], size_t n)
{
	struct hasher h;
	uint8_t seed[FW_HASH_LEN], h1[FW_HASH_LEN], h2[FW_HASH_LEN];
	uint64_t mask;
	unsigned inner, border, shift, start, i;
	int rc = FW_E_PROOF;

	if (old_root == NULL || new_root == NULL || (proof == NULL && n > 0))
		return FW_E_PROOF;
	/* a log never shrinks */
	if (old_size > new_size)
		return FW_E_PROOF;
	/* same size: nothing to prove but equality (a fork otherwise) */
	if (old_size == new_size)
		return n == 0 && same(old_root, new_root) ? FW_OK : FW_E_PROOF;
	/* the empty tree is a prefix of every tree: such a "proof" proves
	 * nothing, and accepting one would accept any pair of roots */
	if (old_size == 0 || n == 0)
		return FW_E_PROOF;

	/* the proof is the inclusion proof of leaf old_size-1 in the new tree,
	 * minus the levels below the largest perfect subtree the old tree
	 * ends with (shift), plus that subtree's root first unless the old
	 * tree is itself perfect (then old_root is that root). */
	inner = len64((old_size - 1) ^ (new_size - 1));
	border = inner >= 64 ? 0 : popcount64((old_size - 1) >> inner);
	shift = ctz64(old_size);
	if (shift >= inner)
		return FW_E_PROOF; /* cannot happen for old_size < new_size */
	inner -= shift;
	start = old_size == (uint64_t)1 << shift ? 0 : 1;
	if (n != (size_t)start + inner + border)
		return FW_E_PROOF;
	memcpy(seed, start ? proof[0] : old_root, FW_HASH_LEN);
	proof += start;
	mask = (old_size - 1) >> shift;

	if (hasher_init(&h) != FW_OK)
		return FW_E_NOMEM;
	memcpy(h1, seed, FW_HASH_LEN);
	memcpy(h2, seed, FW_HASH_LEN);
	for (i = 0; i < inner; i++) {
		if ((mask >> i) & 1) {
			node(&h, proof[i], h1, h1);
			node(&h, proof[i], h2, h2);
		} else {
			/* right siblings exist only in the new tree */
			node(&h, h2, proof[i], h2);
		}
	}
	for (; i < inner + border; i++) {
		node(&h, proof[i], h1, h1);
		node(&h, proof[i], h2, h2);
	}
	if (h.failed)
		rc = FW_E_NOMEM;
	else if (same(h1, old_root) && same(h2, new_root))
		rc = FW_OK;
	hasher_free(&h);
	return rc;
}
