/*
 * Merkle trees (src/evidence/merkle.c): RFC 6962/9162 known answers
 * (transparency-dev/merkle testonly/constants.go, as listed in
 * shared/specs/evidence-log.md §1.5), the Google Argon 2020 CT log vector
 * (golang/mod sumdb/tlog/testdata/argon2020, copied to
 * tests/vectors/argon2020/), and properties checked against a second
 * implementation written here straight from the RFC text: the recursive
 * MTH/PATH/SUBPROOF of RFC 6962 §2.1 and the iterative verifiers of
 * RFC 9162 §2.1.3.2/§2.1.4.2 (fn/sn form, with the sn == 0 checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/core.h"
#include "evidence/evidence.h"
#include "failalloc.h"
#include "harness.h"

typedef uint8_t hash_t[FW_HASH_LEN];

static void hex32(const char *hex, uint8_t out[FW_HASH_LEN])
{
	if (fw_hex_decode(hex, out, FW_HASH_LEN) != FW_OK) {
		fprintf(stderr, "bad hex in test: %s\n", hex);
		abort();
	}
}

static int eq_hex(const uint8_t h[FW_HASH_LEN], const char *hex)
{
	uint8_t want[FW_HASH_LEN];

	hex32(hex, want);
	return memcmp(h, want, FW_HASH_LEN) == 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64*, fixed seed: reproducible runs */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void rnd_hash(uint8_t out[FW_HASH_LEN])
{
	size_t i;

	for (i = 0; i < FW_HASH_LEN; i += 8) {
		uint64_t v = rnd();

		memcpy(out + i, &v, 8);
	}
}

/* ---- §1.5 vectors ---- */

static const char *const leaf_data_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const leaf_hash_hex[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const root_hex[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
/* inner nodes of the 8-leaf tree */
#define N01 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define N23 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define N45 "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
#define N67 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define N03 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define N47 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define L0 "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define L1 "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define L2 "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"
#define L3 "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"
#define L4 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define L6 "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"

static hash_t vleaves[8];

static void vector_leaves(void)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t n = strlen(leaf_data_hex[i]) / 2;

		CHECK_EQ(fw_hex_decode(leaf_data_hex[i], data, n), FW_OK);
		fw_merkle_leaf_hash(data, n, vleaves[i]);
	}
}

static void t_single_hashes(void)
{
	uint8_t h[FW_HASH_LEN], l[FW_HASH_LEN], r[FW_HASH_LEN], rec[64];
	static const char rec_json[] = "{\"actor\":\"test\",\"ts\":1,\"type\":\"signing_record\",\"v\":1}";
	char b64[45];
	size_t tl = strlen(FW_EVIDENCE_TAG);

	/* rfc6962_test.go */
	fw_merkle_leaf_hash((const uint8_t *)"L123456", 7, h);
	CHECK(eq_hex(h, "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"));
	/* golang/mod sumdb/tlog RecordHash("hello world") */
	fw_merkle_leaf_hash((const uint8_t *)"hello world", 11, h);
	fw_b64_encode(h, FW_HASH_LEN, b64);
	CHECK(strcmp(b64, "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=") == 0);
	/* an empty leaf */
	fw_merkle_leaf_hash(NULL, 0, h);
	CHECK(eq_hex(h, L0));
	/* node hash = level 1 of the vector tree */
	hex32(L0, l);
	hex32(L1, r);
	fw_merkle_node_hash(l, r, h);
	CHECK(eq_hex(h, N01));
	/* aliasing the output with an input */
	fw_merkle_node_hash(l, r, l);
	CHECK(eq_hex(l, N01));
	/* evidence leaves: Python hashlib.sha256(b"\0" + tag + record) */
	fw_evidence_leaf_hash((const uint8_t *)rec_json, strlen(rec_json), h);
	CHECK(eq_hex(h, "c4fa59508175bd0a8927e2a8b319ff0a43da2b3b1ea4cad21de64ed4586f20bd"));
	fw_evidence_leaf_hash(NULL, 0, h);
	CHECK(eq_hex(h, "b570ffd5b8ff4aa205042ff017e33b03ec42709e28379e97ada03471c8466946"));
	/* = the RFC leaf hash of tag || record */
	CHECK(tl + 16 <= sizeof(rec));
	memcpy(rec, FW_EVIDENCE_TAG, tl);
	memcpy(rec + tl, "0123456789abcdef", 16);
	fw_merkle_leaf_hash(rec, tl + 16, l);
	fw_evidence_leaf_hash((const uint8_t *)"0123456789abcdef", 16, h);
	CHECK(memcmp(h, l, FW_HASH_LEN) == 0);
}

static void t_vector_roots(void)
{
	struct fw_compact_range cr;
	uint8_t h[FW_HASH_LEN];
	size_t i;

	vector_leaves();
	for (i = 0; i < 8; i++)
		CHECK(eq_hex(vleaves[i], leaf_hash_hex[i]));
	fw_compact_range_init(&cr);
	for (i = 0; i <= 8; i++) {
		CHECK_EQ(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])vleaves, i, h), FW_OK);
		CHECK(eq_hex(h, root_hex[i]));
		fw_compact_range_root(&cr, h);
		CHECK(eq_hex(h, root_hex[i]));
		if (i < 8)
			fw_compact_range_append(&cr, vleaves[i]);
	}
	/* the empty tree needs no leaves */
	CHECK_EQ(fw_merkle_root(NULL, 0, h), FW_OK);
	CHECK(eq_hex(h, root_hex[0]));
	CHECK_EQ(fw_merkle_root(NULL, 1, h), FW_E_ARG);
}

struct path_vec {
	uint64_t index, size;
	size_t n;
	const char *hex[4];
};

static void t_vector_inclusion(void)
{
	static const struct path_vec v[] = {
		{0, 1, 0, {NULL}},
		{0, 8, 3, {L1, N23, N47}},
		{5, 8, 3, {L4, N67, N03}},
		{2, 3, 1, {N01}},
		{1, 5, 3, {L0, N23, L4}},
	};
	uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], root[FW_HASH_LEN];
	size_t i, j, n;

	vector_leaves();
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = 99;
		CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])vleaves, v[i].size,
		                                   v[i].index, proof, &n),
		         FW_OK);
		CHECK_EQ(n, v[i].n);
		for (j = 0; j < v[i].n && j < n; j++)
			CHECK(eq_hex(proof[j], v[i].hex[j]));
		hex32(root_hex[v[i].size], root);
		CHECK_EQ(fw_merkle_verify_inclusion(v[i].index, v[i].size, vleaves[v[i].index],
		                                    (const uint8_t(*)[FW_HASH_LEN])proof, n, root),
		         FW_OK);
	}
}

struct cons_vec {
	uint64_t m, n;
	size_t len;
	const char *hex[4];
};

static void t_vector_consistency(void)
{
	static const struct cons_vec v[] = {
		{1, 1, 0, {NULL}},
		{1, 8, 3, {L1, N23, N47}},
		{6, 8, 3, {N45, N67, N03}},
		{2, 5, 2, {N23, L4}},
		{6, 7, 3, {N45, L6, N03}},
		{3, 7, 4, {L2, L3, N01, "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"}},
		{4, 8, 1, {N47}},
	};
	uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN], r1[FW_HASH_LEN], r2[FW_HASH_LEN];
	size_t i, j, n;

	vector_leaves();
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = 99;
		CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])vleaves, v[i].m,
		                                     v[i].n, proof, &n),
		         FW_OK);
		CHECK_EQ(n, v[i].len);
		for (j = 0; j < v[i].len && j < n; j++)
			CHECK(eq_hex(proof[j], v[i].hex[j]));
		hex32(root_hex[v[i].m], r1);
		hex32(root_hex[v[i].n], r2);
		CHECK_EQ(fw_merkle_verify_consistency(v[i].m, v[i].n, r1, r2,
		                                      (const uint8_t(*)[FW_HASH_LEN])proof, n),
		         FW_OK);
	}
}

static int ref_verify_incl(uint64_t index, uint64_t size, const uint8_t leaf[FW_HASH_LEN],
                           hash_t *path, size_t n, const uint8_t root[FW_HASH_LEN]);
static int ref_verify_cons(uint64_t first, uint64_t second, const uint8_t r1[FW_HASH_LEN],
                           const uint8_t r2[FW_HASH_LEN], hash_t *path, size_t n);

/* ---- Argon 2020 ---- */

static json_t *load_json(const char *name)
{
	char rel[128];
	json_error_t err;
	json_t *j;

	snprintf(rel, sizeof(rel), "tests/vectors/argon2020/%s", name);
	j = json_load_file(harness_src_path(rel), 0, &err);
	if (j == NULL)
		printf("  %s: %s (line %d)\n", rel, err.text, err.line);
	return j;
}

static int b64_hash(json_t *s, uint8_t out[FW_HASH_LEN])
{
	return json_is_string(s) && fw_b64_decode(json_string_value(s), json_string_length(s), out,
	                                          FW_HASH_LEN) == FW_OK;
}

static size_t b64_hashes(json_t *a, uint8_t (*out)[FW_HASH_LEN], size_t cap)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > cap)
		return 0;
	for (i = 0; i < json_array_size(a); i++) {
		if (!b64_hash(json_array_get(a, i), out[i]))
			return 0;
	}
	return i;
}

static void t_argon2020(void)
{
	/* from golang/mod sumdb/tlog/ct_test.go (tests/vectors/argon2020/SOURCE.txt) */
	static const uint64_t old_size = 3654490;
	static const char old_root_b64[] = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=";
	json_t *sth = load_json("sth.json"), *proof = load_json("proof.json");
	json_t *entries = load_json("entries.json"), *cons = load_json("consistency.json");
	uint8_t root[FW_HASH_LEN], old_root[FW_HASH_LEN], leaf[FW_HASH_LEN];
	uint8_t path[FW_MERKLE_MAX_PROOF + 1][FW_HASH_LEN];
	unsigned char *input = NULL;
	uint64_t size, index;
	size_t n, in_len;
	int dec;
	const char *b64;

	CHECK(sth && proof && entries && cons);
	if (!sth || !proof || !entries || !cons)
		goto out;
	size = (uint64_t)json_integer_value(json_object_get(sth, "tree_size"));
	CHECK_EQ(size, 961984013);
	CHECK(b64_hash(json_object_get(sth, "sha256_root_hash"), root));
	CHECK(eq_hex(root, "77096e79aa5d77b2da3849d7d96d96a7dbf65c4f8acde8c7450187c04c74a1a3"));

	/* entry 10000: leaf_input is 1395 bytes (over fw_b64_decode's cap) */
	b64 = json_string_value(json_object_get(json_array_get(json_object_get(entries, "entries"),
	                                                       0),
	                                        "leaf_input"));
	CHECK(b64 != NULL);
	if (b64 == NULL)
		goto out;
	in_len = strlen(b64);
	input = malloc(in_len);
	CHECK(input != NULL);
	if (input == NULL)
		goto out;
	dec = EVP_DecodeBlock(input, (const unsigned char *)b64, (int)in_len);
	CHECK(dec > 0);
	if (dec <= 0)
		goto out;
	/* EVP_DecodeBlock counts the padding bytes as output */
	dec -= (in_len > 0 && b64[in_len - 1] == '=') + (in_len > 1 && b64[in_len - 2] == '=');
	CHECK_EQ(dec, 1395);
	fw_merkle_leaf_hash(input, (size_t)dec, leaf);
	CHECK(eq_hex(leaf, "9c2b3799f232761f71e022b243ebb6c6d9a9c66160800e4c2f2987c0d41294b8"));

	index = (uint64_t)json_integer_value(json_object_get(proof, "leaf_index"));
	CHECK_EQ(index, 10000);
	n = b64_hashes(json_object_get(proof, "audit_path"), path, FW_MERKLE_MAX_PROOF);
	CHECK_EQ(n, 30);
	CHECK_EQ(fw_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[FW_HASH_LEN])path, n,
	                                    root),
	         FW_OK);
	/* the same path claims nothing for a neighbour, another size, a
	 * shortened or padded path */
	CHECK_EQ(fw_merkle_verify_inclusion(index + 1, size, leaf,
	                                    (const uint8_t(*)[FW_HASH_LEN])path, n, root),
	         FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_inclusion(index, size * 2, leaf,
	                                    (const uint8_t(*)[FW_HASH_LEN])path, n, root),
	         FW_E_PROOF);
	/* size + 1 has the same proof shape for this index: with the same
	 * root it verifies, here and in the RFC's own algorithm. Only the
	 * signed checkpoint binds a size to a root, which is why verifiers
	 * take both from it. */
	CHECK_EQ(fw_merkle_verify_inclusion(index, size + 1, leaf,
	                                    (const uint8_t(*)[FW_HASH_LEN])path, n, root),
	         ref_verify_incl(index, size + 1, leaf, path, n, root) ? FW_OK : FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[FW_HASH_LEN])path,
	                                    n - 1, root),
	         FW_E_PROOF);
	memcpy(path[n], path[0], FW_HASH_LEN);
	CHECK_EQ(fw_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[FW_HASH_LEN])path,
	                                    n + 1, root),
	         FW_E_PROOF);

	CHECK_EQ(fw_b64_decode(old_root_b64, strlen(old_root_b64), old_root, FW_HASH_LEN), FW_OK);
	CHECK(eq_hex(old_root, "02e219e55eac0d48f5be7dd8d4af39a0e690ef2f852492adc914e5d5e7482814"));
	n = b64_hashes(json_object_get(cons, "consistency"), path, FW_MERKLE_MAX_PROOF);
	CHECK_EQ(n, 30);
	CHECK_EQ(fw_merkle_verify_consistency(old_size, size, old_root, root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         FW_OK);
	CHECK_EQ(fw_merkle_verify_consistency(old_size, size, root, old_root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_consistency(old_size + 1, size, old_root, root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_consistency(old_size, size / 2, old_root, root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_consistency(old_size, size - 1, old_root, root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         ref_verify_cons(old_size, size - 1, old_root, root, path, n) ? FW_OK : FW_E_PROOF);
	path[5][7] ^= 0x20;
	CHECK_EQ(fw_merkle_verify_consistency(old_size, size, old_root, root,
	                                      (const uint8_t(*)[FW_HASH_LEN])path, n),
	         FW_E_PROOF);
out:
	free(input);
	json_decref(sth);
	json_decref(proof);
	json_decref(entries);
	json_decref(cons);
}

/* ---- a second implementation, from the RFC text ---- */

static void ref_mth(hash_t *d, uint64_t lo, uint64_t hi, uint8_t out[FW_HASH_LEN])
{
	uint64_t n = hi - lo, k = 1;
	uint8_t l[FW_HASH_LEN], r[FW_HASH_LEN];

	if (n == 1) {
		memcpy(out, d[lo], FW_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	ref_mth(d, lo, lo + k, l);
	ref_mth(d, lo + k, hi, r);
	fw_merkle_node_hash(l, r, out);
}

/* PATH(m, D[lo:hi]) appended at out[*n] */
static void ref_path(hash_t *d, uint64_t m, uint64_t lo, uint64_t hi, hash_t *out,
                     size_t *n)
{
	uint64_t k = 1;

	if (hi - lo == 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		ref_path(d, m, lo, lo + k, out, n);
		ref_mth(d, lo + k, hi, out[(*n)++]);
	} else {
		ref_path(d, m - k, lo + k, hi, out, n);
		ref_mth(d, lo, lo + k, out[(*n)++]);
	}
}

static void ref_subproof(hash_t *d, uint64_t m, uint64_t lo, uint64_t hi, int b,
                         hash_t *out, size_t *n)
{
	uint64_t k = 1;

	if (m == hi - lo) {
		if (!b)
			ref_mth(d, lo, hi, out[(*n)++]);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	if (m <= k) {
		ref_subproof(d, m, lo, lo + k, b, out, n);
		ref_mth(d, lo + k, hi, out[(*n)++]);
	} else {
		ref_subproof(d, m - k, lo + k, hi, 0, out, n);
		ref_mth(d, lo, lo + k, out[(*n)++]);
	}
}

/* RFC 9162 §2.1.3.2; returns 1 and the computed root in out when the
 * algorithm accepts the shape (sn ends at 0) */
static int ref_incl_root(uint64_t index, uint64_t size, const uint8_t leaf[FW_HASH_LEN],
                         hash_t *path, size_t n, uint8_t out[FW_HASH_LEN])
{
	uint64_t fn = index, sn;
	uint8_t r[FW_HASH_LEN];
	size_t i;

	if (index >= size)
		return 0;
	sn = size - 1;
	memcpy(r, leaf, FW_HASH_LEN);
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			fw_merkle_node_hash(path[i], r, r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			fw_merkle_node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return 0;
	memcpy(out, r, FW_HASH_LEN);
	return 1;
}

static int ref_verify_incl(uint64_t index, uint64_t size, const uint8_t leaf[FW_HASH_LEN],
                           hash_t *path, size_t n, const uint8_t root[FW_HASH_LEN])
{
	uint8_t r[FW_HASH_LEN];

	return ref_incl_root(index, size, leaf, path, n, r) && memcmp(r, root, FW_HASH_LEN) == 0;
}

/* RFC 9162 §2.1.4.2 for 0 < first < second; computes both roots. When
 * first is a power of two, first_hash is the seed and comes back as fr. */
static int ref_cons_roots(uint64_t first, uint64_t second, const uint8_t first_hash[FW_HASH_LEN],
                          hash_t *path, size_t n, uint8_t fr[FW_HASH_LEN],
                          uint8_t sr[FW_HASH_LEN])
{
	hash_t p[FW_MERKLE_MAX_PROOF + 2];
	uint64_t fn, sn;
	size_t i, len = 0;

	if (first == 0 || first >= second || n == 0 || n > FW_MERKLE_MAX_PROOF + 1)
		return 0;
	if ((first & (first - 1)) == 0)
		memcpy(p[len++], first_hash, FW_HASH_LEN);
	memcpy(p + len, path, n * FW_HASH_LEN);
	len += n;
	fn = first - 1;
	sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, p[0], FW_HASH_LEN);
	memcpy(sr, p[0], FW_HASH_LEN);
	for (i = 1; i < len; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			fw_merkle_node_hash(p[i], fr, fr);
			fw_merkle_node_hash(p[i], sr, sr);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			fw_merkle_node_hash(sr, p[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0;
}

static int ref_verify_cons(uint64_t first, uint64_t second, const uint8_t r1[FW_HASH_LEN],
                           const uint8_t r2[FW_HASH_LEN], hash_t *path, size_t n)
{
	uint8_t fr[FW_HASH_LEN], sr[FW_HASH_LEN];

	if (first == second)
		return n == 0 && memcmp(r1, r2, FW_HASH_LEN) == 0;
	return ref_cons_roots(first, second, r1, path, n, fr, sr) &&
	       memcmp(fr, r1, FW_HASH_LEN) == 0 && memcmp(sr, r2, FW_HASH_LEN) == 0;
}

/* ---- properties ---- */

#define SMALL 256

static hash_t *random_leaves(size_t n)
{
	hash_t *l = malloc(n * sizeof(hash_t));
	size_t i;

	if (l == NULL)
		abort();
	for (i = 0; i < n; i++)
		rnd_hash(l[i]);
	return l;
}

static hash_t *roots_of(hash_t *leaves, size_t n)
{
	hash_t *r = malloc((n + 1) * sizeof(hash_t));
	struct fw_compact_range cr;
	size_t i;

	if (r == NULL)
		abort();
	fw_compact_range_init(&cr);
	for (i = 0; i <= n; i++) {
		fw_compact_range_root(&cr, r[i]);
		if (i < n)
			fw_compact_range_append(&cr, leaves[i]);
	}
	return r;
}

/* every inclusion proof of every tree of 1..256 leaves: ours equals the
 * RFC's recursive PATH, verifies with ours and the RFC verifier */
static void t_all_inclusion(void)
{
	hash_t *leaves = random_leaves(SMALL), *roots = roots_of(leaves, SMALL);
	hash_t proof[FW_MERKLE_MAX_PROOF], ref[FW_MERKLE_MAX_PROOF];
	uint64_t size, i;
	size_t n, rn;
	long bad_gen = 0, bad_ver = 0;

	for (size = 1; size <= SMALL; size++) {
		for (i = 0; i < size; i++) {
			if (fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, size, i,
			                              proof, &n) != FW_OK) {
				bad_gen++;
				continue;
			}
			rn = 0;
			if (size <= 64) { /* the recursive reference: O(n) hashes per proof */
				ref_path(leaves, i, 0, size, ref, &rn);
				if (rn != n || memcmp(ref, proof, n * FW_HASH_LEN) != 0)
					bad_gen++;
			}
			if (fw_merkle_verify_inclusion(i, size, leaves[i],
			                               (const uint8_t(*)[FW_HASH_LEN])proof, n,
			                               roots[size]) != FW_OK ||
			    !ref_verify_incl(i, size, leaves[i], proof, n, roots[size]))
				bad_ver++;
		}
	}
	CHECK_EQ(bad_gen, 0);
	CHECK_EQ(bad_ver, 0);
	free(leaves);
	free(roots);
}

static void t_all_consistency(void)
{
	hash_t *leaves = random_leaves(SMALL), *roots = roots_of(leaves, SMALL);
	hash_t proof[FW_MERKLE_MAX_PROOF], ref[FW_MERKLE_MAX_PROOF];
	uint64_t m, size;
	size_t n, rn;
	long bad_gen = 0, bad_ver = 0;

	for (size = 1; size <= SMALL; size++) {
		for (m = 1; m <= size; m++) {
			if (fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, m, size,
			                                proof, &n) != FW_OK) {
				bad_gen++;
				continue;
			}
			if (size <= 64) {
				rn = 0;
				ref_subproof(leaves, m, 0, size, 1, ref, &rn);
				if (rn != n || memcmp(ref, proof, n * FW_HASH_LEN) != 0)
					bad_gen++;
			}
			if (fw_merkle_verify_consistency(m, size, roots[m], roots[size],
			                                 (const uint8_t(*)[FW_HASH_LEN])proof,
			                                 n) != FW_OK ||
			    !ref_verify_cons(m, size, roots[m], roots[size], proof, n))
				bad_ver++;
		}
	}
	CHECK_EQ(bad_gen, 0);
	CHECK_EQ(bad_ver, 0);
	free(leaves);
	free(roots);
}

/*
 * Mutations. The oracle: with honest roots a proof verifies exactly when
 * it equals the proof generated for the claimed parameters (proofs are
 * unique). Each mutant is also run through the RFC verifier, which must
 * agree.
 */
#define MUT 40

/* canonical proofs of every (index or old size, size) up to MUT leaves,
 * made once: the oracle below is consulted for every mutant */
struct canon {
	size_t n;
	hash_t h[FW_MERKLE_MAX_PROOF];
};
static struct canon incl_tab[MUT + 1][MUT + 1], cons_tab[MUT + 1][MUT + 1];

static void make_tables(hash_t *leaves)
{
	uint64_t size, i;

	for (size = 1; size <= MUT; size++) {
		for (i = 0; i < size; i++)
			CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, size, i,
			                                   incl_tab[i][size].h, &incl_tab[i][size].n),
			         FW_OK);
		for (i = 1; i <= size; i++)
			CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, i, size,
			                                     cons_tab[i][size].h, &cons_tab[i][size].n),
			         FW_OK);
	}
}

static long incl_expect(hash_t *leaves, hash_t *roots, uint64_t index, uint64_t size,
                        const uint8_t leaf[FW_HASH_LEN], hash_t *proof, size_t n)
{
	int got, ref, expect;

	if (size == 0 || size > MUT || index >= size)
		expect = 0;
	else
		expect = incl_tab[index][size].n == n &&
		         memcmp(incl_tab[index][size].h, proof, n * FW_HASH_LEN) == 0 &&
		         memcmp(leaf, leaves[index], FW_HASH_LEN) == 0;
	got = fw_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[FW_HASH_LEN])proof, n,
	                                 roots[size <= MUT ? size : 0]) == FW_OK;
	ref = ref_verify_incl(index, size, leaf, proof, n, roots[size <= MUT ? size : 0]);
	return got != expect || ref != expect;
}

static void t_inclusion_mutations(void)
{
	hash_t *leaves = random_leaves(MUT), *roots = roots_of(leaves, MUT);
	hash_t proof[FW_MERKLE_MAX_PROOF + 1], mut[FW_MERKLE_MAX_PROOF + 1];
	uint8_t leaf[FW_HASH_LEN];
	uint64_t size, i, j;
	size_t n, k, bit;
	long bad = 0, tried = 0;

	make_tables(leaves);
	for (size = 1; size <= MUT; size++) {
		for (i = 0; i < size; i++) {
			CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, size, i,
			                                   proof, &n),
			         FW_OK);
			/* every single-bit flip of every proof hash (up to 20 leaves), a
			 * sample of bits beyond */
			for (k = 0; k < n; k++) {
				for (bit = 0; bit < 256; bit += size <= 20 ? 1 : 37) {
					memcpy(mut, proof, n * FW_HASH_LEN);
					mut[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
					bad += incl_expect(leaves, roots, i, size, leaves[i], mut, n);
					tried++;
				}
			}
			/* the leaf and the root */
			for (bit = 0; bit < 256; bit += 17) {
				memcpy(leaf, leaves[i], FW_HASH_LEN);
				leaf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				bad += incl_expect(leaves, roots, i, size, leaf, proof, n);
				memcpy(leaf, roots[size], FW_HASH_LEN);
				leaf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				bad += fw_merkle_verify_inclusion(i, size, leaves[i],
				                                  (const uint8_t(*)[FW_HASH_LEN])proof, n,
				                                  leaf) != FW_E_PROOF;
				tried += 2;
			}
			/* every other index, every other size (with its own root),
			 * and absurd ones */
			for (j = 0; j <= MUT + 1; j++) {
				if (j != i)
					bad += incl_expect(leaves, roots, j, size, leaves[i], proof, n);
				if (j != size)
					bad += incl_expect(leaves, roots, i, j, leaves[i], proof, n);
				tried += 2;
			}
			bad += fw_merkle_verify_inclusion(i, UINT64_MAX, leaves[i],
			                                  (const uint8_t(*)[FW_HASH_LEN])proof, n,
			                                  roots[size]) != FW_E_PROOF;
			bad += fw_merkle_verify_inclusion(i + ((uint64_t)1 << 40), size, leaves[i],
			                                  (const uint8_t(*)[FW_HASH_LEN])proof, n,
			                                  roots[size]) != FW_E_PROOF;
			/* truncated (either end), extended (either end), reordered */
			if (n > 0) {
				bad += incl_expect(leaves, roots, i, size, leaves[i], proof, n - 1);
				bad += incl_expect(leaves, roots, i, size, leaves[i], proof + 1, n - 1);
			}
			memcpy(mut, proof, n * FW_HASH_LEN);
			rnd_hash(mut[n]);
			bad += incl_expect(leaves, roots, i, size, leaves[i], mut, n + 1);
			memcpy(mut[n], proof[n ? n - 1 : 0], FW_HASH_LEN);
			bad += incl_expect(leaves, roots, i, size, leaves[i], mut, n + 1);
			memcpy(mut + 1, proof, n * FW_HASH_LEN);
			memcpy(mut[0], leaves[i], FW_HASH_LEN);
			bad += incl_expect(leaves, roots, i, size, leaves[i], mut, n + 1);
			if (n > 1) {
				memcpy(mut, proof, n * FW_HASH_LEN);
				memcpy(mut[0], proof[1], FW_HASH_LEN);
				memcpy(mut[1], proof[0], FW_HASH_LEN);
				bad += incl_expect(leaves, roots, i, size, leaves[i], mut, n);
			}
			/* root passed off as the leaf with an empty path (§1.6) */
			bad += (fw_merkle_verify_inclusion(i, size, roots[size], NULL, 0, roots[size]) ==
			        FW_OK) != (size == 1);
			tried += 8;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(tried > 100000);
	free(leaves);
	free(roots);
}

static long cons_expect(hash_t *roots, uint64_t m, uint64_t size, const uint8_t r1[FW_HASH_LEN],
                        const uint8_t r2[FW_HASH_LEN], hash_t *proof, size_t n)
{
	int got, ref, expect;

	if (m == 0 || m > size || size > MUT)
		expect = 0;
	else
		expect = cons_tab[m][size].n == n &&
		         memcmp(cons_tab[m][size].h, proof, n * FW_HASH_LEN) == 0 &&
		         memcmp(r1, roots[m], FW_HASH_LEN) == 0 &&
		         memcmp(r2, roots[size], FW_HASH_LEN) == 0;
	got = fw_merkle_verify_consistency(m, size, r1, r2, (const uint8_t(*)[FW_HASH_LEN])proof,
	                                   n) == FW_OK;
	ref = m != 0 && m <= size && ref_verify_cons(m, size, r1, r2, proof, n);
	return got != expect || ref != expect;
}

static void t_consistency_mutations(void)
{
	hash_t *leaves = random_leaves(MUT), *roots = roots_of(leaves, MUT);
	hash_t proof[FW_MERKLE_MAX_PROOF + 1], mut[FW_MERKLE_MAX_PROOF + 1];
	uint8_t r[FW_HASH_LEN];
	uint64_t size, m, j;
	size_t n, k, bit;
	long bad = 0, tried = 0;

	make_tables(leaves);
	for (size = 1; size <= MUT; size++) {
		for (m = 1; m <= size; m++) {
			CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, m, size,
			                                     proof, &n),
			         FW_OK);
			for (k = 0; k < n; k++) {
				for (bit = 0; bit < 256; bit += size <= 20 ? 1 : 37) {
					memcpy(mut, proof, n * FW_HASH_LEN);
					mut[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
					bad += cons_expect(roots, m, size, roots[m], roots[size], mut, n);
					tried++;
				}
			}
			for (bit = 0; bit < 256; bit += 17) {
				memcpy(r, roots[m], FW_HASH_LEN);
				r[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				bad += cons_expect(roots, m, size, r, roots[size], proof, n);
				memcpy(r, roots[size], FW_HASH_LEN);
				r[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				bad += cons_expect(roots, m, size, roots[m], r, proof, n);
				tried += 2;
			}
			/* other sizes, each with its own honest root */
			for (j = 0; j <= MUT; j++) {
				if (j != m)
					bad += cons_expect(roots, j, size, roots[j], roots[size], proof,
					                   n);
				if (j != size && j >= 1)
					bad += cons_expect(roots, m, j, roots[m], roots[j], proof, n);
				tried += 2;
			}
			/* swapped roots, truncated, extended, old size 0 */
			if (m != size)
				bad += cons_expect(roots, m, size, roots[size], roots[m], proof, n);
			if (n > 0) {
				bad += cons_expect(roots, m, size, roots[m], roots[size], proof, n - 1);
				bad += cons_expect(roots, m, size, roots[m], roots[size], proof + 1,
				                   n - 1);
			}
			memcpy(mut, proof, n * FW_HASH_LEN);
			rnd_hash(mut[n]);
			bad += cons_expect(roots, m, size, roots[m], roots[size], mut, n + 1);
			memcpy(mut + 1, proof, n * FW_HASH_LEN);
			memcpy(mut[0], roots[m], FW_HASH_LEN);
			bad += cons_expect(roots, m, size, roots[m], roots[size], mut, n + 1);
			bad += fw_merkle_verify_consistency(0, size, roots[0], roots[size],
			                                    (const uint8_t(*)[FW_HASH_LEN])proof,
			                                    n) != FW_E_PROOF;
			tried += 6;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(tried > 50000);
	free(leaves);
	free(roots);
}

/* sizes and indexes beyond any tree we can build: synthetic proofs whose
 * shape the RFC algorithm accepts, checked against the closed form */
static size_t ref_incl_len(uint64_t index, uint64_t size)
{
	hash_t p[FW_MERKLE_MAX_PROOF + 2];
	uint8_t leaf[FW_HASH_LEN] = {0}, r[FW_HASH_LEN];
	size_t n;

	for (n = 0; n <= FW_MERKLE_MAX_PROOF + 1; n++) {
		memset(p, 0, sizeof(p));
		if (ref_incl_root(index, size, leaf, p, n, r))
			return n;
	}
	return SIZE_MAX;
}

static size_t ref_cons_len(uint64_t m, uint64_t size)
{
	hash_t p[FW_MERKLE_MAX_PROOF + 2];
	uint8_t r1[FW_HASH_LEN] = {0}, fr[FW_HASH_LEN], sr[FW_HASH_LEN];
	size_t n;

	for (n = 1; n <= FW_MERKLE_MAX_PROOF + 1; n++) {
		memset(p, 0, sizeof(p));
		if (ref_cons_roots(m, size, r1, p, n, fr, sr))
			return n;
	}
	return SIZE_MAX;
}

static void t_huge_sizes(void)
{
	static const uint64_t sizes[] = {
		2, 3, ((uint64_t)1 << 32) - 1, (uint64_t)1 << 32, ((uint64_t)1 << 32) + 1,
		961984013, ((uint64_t)1 << 63) - 1, (uint64_t)1 << 63, ((uint64_t)1 << 63) + 1,
		UINT64_MAX - 1, UINT64_MAX,
	};
	hash_t p[FW_MERKLE_MAX_PROOF + 2];
	uint8_t leaf[FW_HASH_LEN], root[FW_HASH_LEN], r1[FW_HASH_LEN], r2[FW_HASH_LEN];
	size_t s, t, n;
	long bad = 0, cases = 0;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		uint64_t picks[8] = {0, 1, size / 2, size - 2, size - 1, rnd() % size, rnd() % size,
		                     size / 3};

		for (t = 0; t < 8; t++) {
			uint64_t i = picks[t] % size;

			/* inclusion of leaf i */
			n = ref_incl_len(i, size);
			if (n > FW_MERKLE_MAX_PROOF) {
				bad++;
				continue;
			}
			for (size_t k = 0; k < n; k++)
				rnd_hash(p[k]);
			rnd_hash(leaf);
			if (!ref_incl_root(i, size, leaf, p, n, root)) {
				bad++;
				continue;
			}
			cases++;
			bad += fw_merkle_verify_inclusion(i, size, leaf, (const uint8_t(*)[FW_HASH_LEN])p, n,
			                                  root) != FW_OK;
			bad += fw_merkle_verify_inclusion(i, size, leaf, (const uint8_t(*)[FW_HASH_LEN])p,
			                                  n + 1, root) != FW_E_PROOF;
			if (n > 0)
				bad += fw_merkle_verify_inclusion(i, size, leaf,
				                                  (const uint8_t(*)[FW_HASH_LEN])p, n - 1,
				                                  root) != FW_E_PROOF;
			bad += fw_merkle_verify_inclusion(i ^ 1, size, leaf, (const uint8_t(*)[FW_HASH_LEN])p,
			                                  n, root) != FW_E_PROOF;
			/* another size: the RFC verifier and ours agree */
			bad += (fw_merkle_verify_inclusion(i, size - 1, leaf,
			                                   (const uint8_t(*)[FW_HASH_LEN])p, n,
			                                   root) == FW_OK) !=
			       ref_verify_incl(i, size - 1, leaf, p, n, root);

			/* consistency from old size m = i + 1 */
			if (i + 1 < size) {
				uint64_t m = i + 1;

				n = ref_cons_len(m, size);
				if (n > FW_MERKLE_MAX_PROOF + 1) {
					bad++;
					continue;
				}
				for (size_t k = 0; k < n; k++)
					rnd_hash(p[k]);
				rnd_hash(r1);
				if (!ref_cons_roots(m, size, r1, p, n, r1, r2)) {
					bad++;
					continue;
				}
				cases++;
				bad += fw_merkle_verify_consistency(m, size, r1, r2,
				                                    (const uint8_t(*)[FW_HASH_LEN])p,
				                                    n) != FW_OK;
				bad += fw_merkle_verify_consistency(m, size, r1, r2,
				                                    (const uint8_t(*)[FW_HASH_LEN])p,
				                                    n - 1) != FW_E_PROOF;
				bad += fw_merkle_verify_consistency(m, size, r2, r1,
				                                    (const uint8_t(*)[FW_HASH_LEN])p,
				                                    n) != FW_E_PROOF;
				bad += (fw_merkle_verify_consistency(m, size - 1, r1, r2,
				                                     (const uint8_t(*)[FW_HASH_LEN])p,
				                                     n) == FW_OK) !=
				       ref_verify_cons(m, size - 1, r1, r2, p, n);
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(cases > 100);
}

/* compact range against fw_merkle_root at every size, and its encoding */
static void t_compact_range(void)
{
	enum { N = 1024 };
	hash_t *leaves = random_leaves(N);
	struct fw_compact_range cr, dec;
	uint8_t a[FW_HASH_LEN], b[FW_HASH_LEN], enc[8 + 64 * FW_HASH_LEN + 1];
	size_t i, len;
	long bad = 0;

	fw_compact_range_init(&cr);
	for (i = 0; i <= N; i++) {
		fw_compact_range_root(&cr, a);
		if (fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, i, b) != FW_OK ||
		    memcmp(a, b, FW_HASH_LEN) != 0)
			bad++;
		if (cr.size != i || cr.n != (unsigned)__builtin_popcountll(i))
			bad++;
		len = fw_compact_range_encode(&cr, enc, sizeof(enc));
		if (len != 8 + (size_t)cr.n * FW_HASH_LEN)
			bad++;
		memset(&dec, 0xa5, sizeof(dec));
		if (fw_compact_range_decode(enc, len, &dec) != FW_OK || dec.size != cr.size ||
		    dec.n != cr.n || memcmp(dec.hashes, cr.hashes, cr.n * FW_HASH_LEN) != 0)
			bad++;
		/* one byte more or less: refused, out untouched */
		memset(&dec, 0xa5, sizeof(dec));
		if (fw_compact_range_decode(enc, len + 1, &dec) != FW_E_FORMAT ||
		    fw_compact_range_decode(enc, len - 1, &dec) != FW_E_FORMAT || dec.size == cr.size)
			bad++;
		/* a buffer one byte short: nothing written */
		if (fw_compact_range_encode(&cr, enc, len - 1) != 0)
			bad++;
		if (i < N)
			fw_compact_range_append(&cr, leaves[i]);
	}
	CHECK_EQ(bad, 0);

	/* size and hash count disagree */
	memset(enc, 0, sizeof(enc));
	enc[7] = 3; /* size 3 needs 2 hashes */
	CHECK_EQ(fw_compact_range_decode(enc, 8 + FW_HASH_LEN, &dec), FW_E_FORMAT);
	CHECK_EQ(fw_compact_range_decode(enc, 8 + 2 * FW_HASH_LEN, &dec), FW_OK);
	CHECK_EQ(fw_compact_range_decode(enc, 7, &dec), FW_E_FORMAT);
	CHECK_EQ(fw_compact_range_decode(NULL, 0, &dec), FW_E_FORMAT);
	memset(enc, 0xff, 8); /* 2^64-1: 64 hashes */
	CHECK_EQ(fw_compact_range_decode(enc, 8 + 64 * FW_HASH_LEN, &dec), FW_OK);
	CHECK_EQ(dec.n, 64);
	/* a full range refuses to grow (it would need a 65th hash) */
	fw_compact_range_append(&dec, leaves[0]);
	CHECK(dec.size == UINT64_MAX && dec.n == 64);
	/* a corrupted range gives a root that matches nothing */
	cr.n = 3;
	cr.size = 1;
	fw_compact_range_root(&cr, a);
	memset(b, 0, sizeof(b));
	CHECK(memcmp(a, b, FW_HASH_LEN) == 0);
	fw_compact_range_append(&cr, leaves[0]);
	CHECK(cr.size == 1 && cr.n == 3);
	CHECK_EQ(fw_compact_range_encode(&cr, enc, sizeof(enc)), 0);
	free(leaves);
}

static void t_arguments(void)
{
	hash_t leaves[4], proof[FW_MERKLE_MAX_PROOF];
	uint8_t root[FW_HASH_LEN], other[FW_HASH_LEN];
	size_t n = 77;
	int i;

	for (i = 0; i < 4; i++)
		rnd_hash(leaves[i]);
	CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 4, 4, proof, &n),
	         FW_E_ARG);
	CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 0, 0, proof, &n),
	         FW_E_ARG);
	CHECK_EQ(fw_merkle_inclusion_proof(NULL, 4, 0, proof, &n), FW_E_ARG);
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 0, 4, proof, &n),
	         FW_E_ARG);
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 0, 0, proof, &n),
	         FW_E_ARG);
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 4, 3, proof, &n),
	         FW_E_ARG);
	CHECK_EQ(n, 77); /* out-params untouched on failure */
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 4, 4, proof, &n),
	         FW_OK);
	CHECK_EQ(n, 0);

	CHECK_EQ(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, 4, root), FW_OK);
	rnd_hash(other);
	/* the empty tree contains nothing */
	CHECK_EQ(fw_merkle_verify_inclusion(0, 0, leaves[0], NULL, 0, root), FW_E_PROOF);
	/* equal sizes: empty proof and equal roots, nothing else */
	CHECK_EQ(fw_merkle_verify_consistency(4, 4, root, root, NULL, 0), FW_OK);
	CHECK_EQ(fw_merkle_verify_consistency(4, 4, root, other, NULL, 0), FW_E_PROOF);
	memcpy(proof[0], root, FW_HASH_LEN);
	CHECK_EQ(fw_merkle_verify_consistency(4, 4, root, root, (const uint8_t(*)[FW_HASH_LEN])proof,
	                                      1),
	         FW_E_PROOF);
	/* from the empty tree: meaningless, refused whatever the proof */
	CHECK_EQ(fw_merkle_verify_consistency(0, 4, root, root, NULL, 0), FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_consistency(0, 0, root, root, NULL, 0), FW_OK);
	CHECK_EQ(fw_merkle_verify_consistency(0, 4, root, root, (const uint8_t(*)[FW_HASH_LEN])proof,
	                                      1),
	         FW_E_PROOF);
	/* shrinking, empty proof for growth */
	CHECK_EQ(fw_merkle_verify_consistency(4, 3, root, root, NULL, 0), FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_consistency(3, 4, root, root, NULL, 0), FW_E_PROOF);
	/* missing pointers */
	CHECK_EQ(fw_merkle_verify_inclusion(0, 1, NULL, NULL, 0, root), FW_E_PROOF);
	CHECK_EQ(fw_merkle_verify_inclusion(0, 2, leaves[0], NULL, 1, root), FW_E_PROOF);
}

/* bigger trees, fixed seed: random proofs generated and verified */
static void t_large_random(void)
{
	static const uint64_t sizes[] = {1000, 1023, 1024, 1025, 4097, 65537, 100003};
	hash_t *leaves = random_leaves(100003);
	hash_t proof[FW_MERKLE_MAX_PROOF];
	uint8_t root[FW_HASH_LEN], old_root[FW_HASH_LEN];
	struct fw_compact_range cr;
	size_t s, t, n;
	uint64_t done = 0;
	long bad = 0;

	fw_compact_range_init(&cr);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];

		while (done < size)
			fw_compact_range_append(&cr, leaves[done++]);
		CHECK_EQ(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, size, root), FW_OK);
		fw_compact_range_root(&cr, old_root);
		CHECK(memcmp(root, old_root, FW_HASH_LEN) == 0);
		for (t = 0; t < (size > 50000 ? 4 : 12); t++) {
			uint64_t i = t == 0 ? size - 1 : rnd() % size, m = 1 + rnd() % size;

			if (fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, size, i, proof,
			                              &n) != FW_OK ||
			    fw_merkle_verify_inclusion(i, size, leaves[i],
			                               (const uint8_t(*)[FW_HASH_LEN])proof, n,
			                               root) != FW_OK ||
			    !ref_verify_incl(i, size, leaves[i], proof, n, root))
				bad++;
			if (fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, m, old_root) != FW_OK ||
			    fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, m, size,
			                                proof, &n) != FW_OK ||
			    fw_merkle_verify_consistency(m, size, old_root, root,
			                                 (const uint8_t(*)[FW_HASH_LEN])proof,
			                                 n) != FW_OK ||
			    !ref_verify_cons(m, size, old_root, root, proof, n))
				bad++;
			/* one flipped bit anywhere in the proof */
			if (n > 0) {
				proof[rnd() % n][rnd() % FW_HASH_LEN] ^= 0x10;
				if (fw_merkle_verify_consistency(m, size, old_root, root,
				                                 (const uint8_t(*)[FW_HASH_LEN])proof,
				                                 n) != FW_E_PROOF)
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
	free(leaves);
}

/* ---- OpenSSL allocation failures, each in turn ---- */


/* Whatever allocation fails, a function either says so (FW_E_NOMEM), or
 * gives the right answer; the void ones give zeros or the right hash. A
 * failure never turns into a wrong root or an accepted forgery. */
static void t_alloc_failures(void)
{
	enum { N = 37 };
	hash_t *leaves = random_leaves(N), *roots = roots_of(leaves, N);
	hash_t proof[FW_MERKLE_MAX_PROOF], cproof[FW_MERKLE_MAX_PROOF], got[FW_MERKLE_MAX_PROOF];
	uint8_t h[FW_HASH_LEN], want_leaf[FW_HASH_LEN], zero[FW_HASH_LEN] = {0};
	uint8_t enc[8 + 64 * FW_HASH_LEN];
	struct fw_compact_range cr;
	size_t n, cn, gn, i;
	long k, bad = 0, failed = 0, poisoned = 0;
	int rc;

	CHECK(failalloc_installed());
	CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, N, 17, proof, &n),
	         FW_OK);
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 13, N, cproof,
	                                     &cn),
	         FW_OK);
	fw_merkle_leaf_hash((const uint8_t *)"x", 1, want_leaf);
	for (k = 0; k < 300; k++) {
		failalloc_budget = k;
		rc = fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, N, h);
		bad += rc == FW_OK ? memcmp(h, roots[N], FW_HASH_LEN) != 0 : rc != FW_E_NOMEM;
		failed += rc != FW_OK;

		failalloc_budget = k;
		rc = fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, N, 17, got, &gn);
		bad += rc == FW_OK ? gn != n || memcmp(got, proof, n * FW_HASH_LEN) != 0
		                   : rc != FW_E_NOMEM;
		failalloc_budget = k;
		rc = fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 13, N, got, &gn);
		bad += rc == FW_OK ? gn != cn || memcmp(got, cproof, cn * FW_HASH_LEN) != 0
		                   : rc != FW_E_NOMEM;

		failalloc_budget = k;
		rc = fw_merkle_verify_inclusion(17, N, leaves[17], (const uint8_t(*)[FW_HASH_LEN])proof,
		                                n, roots[N]);
		bad += rc != FW_OK && rc != FW_E_NOMEM;
		failalloc_budget = k;
		rc = fw_merkle_verify_inclusion(17, N, leaves[16], (const uint8_t(*)[FW_HASH_LEN])proof,
		                                n, roots[N]);
		bad += rc != FW_E_PROOF && rc != FW_E_NOMEM;
		failalloc_budget = k;
		rc = fw_merkle_verify_consistency(13, N, roots[13], roots[N],
		                                  (const uint8_t(*)[FW_HASH_LEN])cproof, cn);
		bad += rc != FW_OK && rc != FW_E_NOMEM;
		failalloc_budget = k;
		rc = fw_merkle_verify_consistency(13, N, roots[12], roots[N],
		                                  (const uint8_t(*)[FW_HASH_LEN])cproof, cn);
		bad += rc != FW_E_PROOF && rc != FW_E_NOMEM;

		/* the void ones */
		failalloc_budget = k;
		fw_merkle_leaf_hash((const uint8_t *)"x", 1, h);
		bad += memcmp(h, want_leaf, FW_HASH_LEN) != 0 && memcmp(h, zero, FW_HASH_LEN) != 0;
		fw_compact_range_init(&cr);
		failalloc_budget = k;
		for (i = 0; i < N; i++)
			fw_compact_range_append(&cr, leaves[i]);
		fw_compact_range_root(&cr, h);
		failalloc_budget = -1;
		/* the root is right or zeros (it failed itself) */
		bad += memcmp(h, roots[N], FW_HASH_LEN) != 0 && memcmp(h, zero, FW_HASH_LEN) != 0;
		fw_compact_range_root(&cr, h);
		if (fw_compact_range_encode(&cr, enc, sizeof(enc)) == 0) {
			/* an append failed: the range refuses to be used from then on */
			bad += memcmp(h, zero, FW_HASH_LEN) != 0;
			poisoned++;
		} else {
			bad += memcmp(h, roots[N], FW_HASH_LEN) != 0;
		}
	}
	failalloc_budget = -1;
	CHECK_EQ(bad, 0);
	CHECK(failed > 10 && poisoned > 10); /* the failures did happen */
	free(leaves);
	free(roots);
}

static const struct harness_test tests[] = {
	{"single_hashes", t_single_hashes},
	{"vector_roots", t_vector_roots},
	{"vector_inclusion", t_vector_inclusion},
	{"vector_consistency", t_vector_consistency},
	{"argon2020", t_argon2020},
	{"all_inclusion_1_256", t_all_inclusion},
	{"all_consistency_1_256", t_all_consistency},
	{"inclusion_mutations", t_inclusion_mutations},
	{"consistency_mutations", t_consistency_mutations},
	{"huge_sizes", t_huge_sizes},
	{"compact_range", t_compact_range},
	{"arguments", t_arguments},
	{"large_random", t_large_random},
	{"alloc_failures", t_alloc_failures},
};

HARNESS_MAIN(tests)
