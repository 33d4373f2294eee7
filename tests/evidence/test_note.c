/*
 * C2SP formats (src/evidence/note.c, proof.c): signed notes, vkeys,
 * checkpoints, tlog-proof and consistency proof files.
 *
 * Known answers: signed-note vectors A (C2SP signed-note.md) and B (Go
 * x/mod sumdb/note note_test.go), and the end-to-end vector of
 * shared/specs/evidence-log.md §2.6 (made with Python `cryptography` from
 * the public RFC 8032 test keys). Ed25519 is deterministic, so our signer
 * must reproduce B and §2.6 byte for byte. Then one malformed or forged
 * note per rule, each refused with its own error and a message that names
 * the line.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "fwv.h"
#include "failalloc.h"
#include "harness.h"

#define EM "\xe2\x80\x94"

/* ---- vectors ---- */

static const char vec_a_vkey[] =
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char vec_a_note[] =
	"This is an example message.\n"
	"\n"
	EM " example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

static const char vec_b_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char vec_b_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char vec_b_text[] = "If you think cryptography is the answer to your problem,\n"
                                 "then you don't know what your problem is.\n";
static const char vec_b_note[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	EM " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/* §2.6: log key = RFC 8032 §7.1 test 1 */
static const char log_seed_hex[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char log_origin[] = "example.org/fwupd-evidence-test";
static const char log_vkey[] =
	"example.org/fwupd-evidence-test+bcc41de5+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
static const char witness_vkey[] =
	"witness.example.org/w1+2ce32234+BD1AF8PoQ4lakrcKp00bfrycmCzPLsSWjMDNVfEq9GYM";
static const char cp_text[] = "example.org/fwupd-evidence-test\n"
                              "8\n"
                              "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
#define LOG_SIG_LINE                                                                          \
	EM " example.org/fwupd-evidence-test "                                                    \
	   "vMQd5Tv6/jNCLvGXZi1wKW5zO6IN5WbQO/bWKRnt1AsInKIy5Fpd2D+nlmMOhCR0IwOieS8i/dU10WhH+EZIdQZGzwk=\n"
#define WITNESS_SIG_LINE                                                                      \
	EM " witness.example.org/w1 "                                                             \
	   "LOMiNAAAAABlU/EATjJAzikm6+rG63L6YawasnVXomhb/aB2dSBR3nV52YIQA2CHuU8u5ozfY0SGxWyRDJYH62NFOdr2zBgpHHRCCA==\n"
static const char cp_note[] = "example.org/fwupd-evidence-test\n"
                              "8\n"
                              "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
                              "\n" LOG_SIG_LINE;
static const char leaf5_proof[] = "c2sp.org/tlog-proof@v1\n"
                                  "index 5\n"
                                  "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n"
                                  "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=\n"
                                  "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=\n"
                                  "\n"
                                  "example.org/fwupd-evidence-test\n"
                                  "8\n"
                                  "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
                                  "\n" LOG_SIG_LINE WITNESS_SIG_LINE;
static const char *const cons58_b64[4] = {
	"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
	"QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
	"yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
	"037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
};
static const char root5_b64[] = "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=";

static const char *const leaf_data_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* ---- helpers ---- */

/* Ed25519 private key from a 32-byte seed, through a PKCS#8 PEM file as a
 * user would give it (RFC 8410 prefix + seed). */
static struct fw_key *key_from_seed(const uint8_t seed[32], const char *file)
{
	static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	                                   0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
	uint8_t der[48];
	char b64[65], pem[160], path[512];
	struct fw_key *k = NULL;
	int n;

	memcpy(der, prefix, 16);
	memcpy(der + 16, seed, 32);
	fw_b64_encode(der, sizeof(der), b64);
	n = snprintf(pem, sizeof(pem), "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
	             b64);
	snprintf(path, sizeof(path), "%s/%s", harness_tmpdir(), file);
	if (n <= 0 || harness_write(path, pem, (size_t)n) != 0 ||
	    fw_key_load_private(path, &k, NULL) != FW_OK)
		return NULL;
	return k;
}

static struct fw_key *log_key(void)
{
	static struct fw_key *k;
	uint8_t seed[32];

	if (k == NULL && fw_hex_decode(log_seed_hex, seed, 32) == FW_OK)
		k = key_from_seed(seed, "log.key");
	return k;
}

static struct fw_key *b_key(void)
{
	static struct fw_key *k;
	uint8_t raw[33];

	if (k == NULL && fw_b64_decode(vec_b_skey_b64, strlen(vec_b_skey_b64), raw, 33) == FW_OK &&
	    raw[0] == 0x01)
		k = key_from_seed(raw + 1, "b.key");
	return k;
}

static void note_key_of(const struct fw_key *k, const char *name, struct fw_note_key *out)
{
	struct fwv_key fk;

	fw_key_to_fwv(k, &fk);
	CHECK_EQ(fw_note_key_init(out, name, fk.pub), FW_OK);
}

/* "— name base64(id || sig over text)\n" made by hand, for texts and keys
 * fw_note_sign refuses on purpose */
static void sig_line(const char *text, size_t tlen, const char *name, uint32_t id,
                     const struct fw_key *k, char *out, size_t cap)
{
	uint8_t blob[68];
	char b64[93];

	blob[0] = (uint8_t)(id >> 24);
	blob[1] = (uint8_t)(id >> 16);
	blob[2] = (uint8_t)(id >> 8);
	blob[3] = (uint8_t)id;
	CHECK_EQ(fw_key_sign(k, (const uint8_t *)text, tlen, blob + 4, NULL), FW_OK);
	fw_b64_encode(blob, 68, b64);
	snprintf(out, cap, EM " %s %s\n", name, b64);
}

/* text + "\n" + a signature line by the log key, whatever the text */
static char *signed_by_log(const char *text)
{
	struct fw_note_key vk;
	char line[512], *out;
	size_t tl = strlen(text);

	note_key_of(log_key(), log_origin, &vk);
	sig_line(text, tl, vk.name, vk.id, log_key(), line, sizeof(line));
	out = malloc(tl + 1 + strlen(line) + 1);
	if (out == NULL)
		abort();
	memcpy(out, text, tl);
	out[tl] = '\n';
	strcpy(out + tl + 1, line);
	return out;
}

static struct fw_note_key the_log_key(void)
{
	struct fw_note_key vk;

	memset(&vk, 0, sizeof(vk));
	CHECK_EQ(fw_note_vkey_parse(log_vkey, &vk, NULL), FW_OK);
	return vk;
}

/* expect err from fw_checkpoint_open and a message containing want */
static void expect_open(const char *note, size_t len, int err, const char *want)
{
	struct fw_note_key vk = the_log_key();
	struct fw_checkpoint cp;
	struct fw_diag d = {""};
	int rc;

	memset(&cp, 0x5a, sizeof(cp));
	rc = fw_checkpoint_open(note, len, &vk, log_origin, &cp, &d);
	if (rc != err || strstr(d.msg, want) == NULL)
		harness_fail(__FILE__, __LINE__, "open: %s (%d), expected %s (%d) with \"%s\"", d.msg,
		             rc, fw_err_str(err), err, want);
	if (err != FW_OK)
		CHECK(cp.size == 0x5a5a5a5a5a5a5a5aull); /* untouched */
}

static void expect_verify(const char *note, size_t len, const struct fw_note_key *k, int err,
                          const char *want)
{
	struct fw_diag d = {""};
	size_t tl = 12345;
	int rc = fw_note_verify(note, len, k, &tl, &d);

	if (rc != err || (want != NULL && strstr(d.msg, want) == NULL))
		harness_fail(__FILE__, __LINE__, "verify: %s (%d), expected %s (%d) with \"%s\"",
		             d.msg, rc, fw_err_str(err), err, want ? want : "");
	if (err != FW_OK)
		CHECK_EQ(tl, 12345);
}

/* ---- tests ---- */

static void t_vector_a(void)
{
	struct fw_note_key k;
	struct fw_diag d = {""};
	char vkey[400];
	size_t tl = 0;
	uint8_t blob[68];
	const char *b64 = strstr(vec_a_note, "foo ") + 4;

	CHECK_EQ(fw_note_vkey_parse(vec_a_vkey, &k, &d), FW_OK);
	CHECK(strcmp(k.name, "example.com/foo") == 0);
	CHECK_EQ(k.id, 0x530d903a);
	CHECK(k.pub[0] == 0xe9 && k.pub[31] == 0xa4);
	CHECK_EQ(fw_note_vkey_format(&k, vkey, sizeof(vkey)), FW_OK);
	CHECK(strcmp(vkey, vec_a_vkey) == 0);
	CHECK_EQ(fw_note_verify(vec_a_note, strlen(vec_a_note), &k, &tl, &d), FW_OK);
	CHECK_EQ(tl, strlen("This is an example message.\n"));
	/* the signed text includes its final newline */
	CHECK_EQ(fw_b64_decode(b64, 92, blob, 68), FW_OK);
	CHECK(fwv_port_openssl()->verify(FWV_KEY_ED25519, k.pub, 32,
	                                 (const uint8_t *)"This is an example message.", 27,
	                                 blob + 4) > 0);
	CHECK(fwv_port_openssl()->verify(FWV_KEY_ED25519, k.pub, 32,
	                                 (const uint8_t *)"This is an example message.\n", 28,
	                                 blob + 4) == 0);
}

static void t_vector_b(void)
{
	struct fw_key *k = b_key();
	struct fw_note_key vk, parsed;
	struct fw_diag d = {""};
	char vkey[400], *note = NULL;
	size_t tl = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	note_key_of(k, "PeterNeumann", &vk);
	CHECK_EQ(vk.id, 0xc74f20a3);
	CHECK_EQ(fw_note_vkey_format(&vk, vkey, sizeof(vkey)), FW_OK);
	CHECK(strcmp(vkey, vec_b_vkey) == 0);
	CHECK_EQ(fw_note_vkey_parse(vec_b_vkey, &parsed, &d), FW_OK);
	CHECK(memcmp(&parsed, &vk, sizeof(vk)) == 0);
	/* byte for byte what Go's note.Sign writes */
	CHECK_EQ(fw_note_sign(vec_b_text, "PeterNeumann", k, &note, &d), FW_OK);
	CHECK(note != NULL && strcmp(note, vec_b_note) == 0);
	CHECK_EQ(fw_note_verify(vec_b_note, strlen(vec_b_note), &vk, &tl, &d), FW_OK);
	CHECK_EQ(tl, strlen(vec_b_text));
	free(note);
	/* a vkey of one note is not the other's */
	CHECK_EQ(fw_note_vkey_parse(vec_a_vkey, &parsed, &d), FW_OK);
	expect_verify(vec_b_note, strlen(vec_b_note), &parsed, FW_E_NOT_FOUND,
	              "no signature by example.com/foo+530d903a");
}

static void tree8(uint8_t leaves[8][FW_HASH_LEN])
{
	size_t i;

	for (i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t n = strlen(leaf_data_hex[i]) / 2;

		CHECK_EQ(fw_hex_decode(leaf_data_hex[i], data, n), FW_OK);
		fw_merkle_leaf_hash(data, n, leaves[i]);
	}
}

/* §2.6 end to end: our checkpoint, our proof file, the spec's bytes */
static void t_end_to_end(void)
{
	struct fw_key *k = log_key();
	struct fw_note_key vk, wk;
	struct fw_checkpoint cp, got;
	struct fw_tlog_proof tp;
	struct fw_consistency_proof cons, cons2;
	struct fw_diag d = {""};
	uint8_t leaves[8][FW_HASH_LEN], path[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
	uint8_t leaf[FW_HASH_LEN], root5[FW_HASH_LEN];
	char vkey[400], *text = NULL, *note = NULL, *file = NULL, *cfile = NULL;
	size_t n = 0, i;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	note_key_of(k, log_origin, &vk);
	CHECK_EQ(fw_note_vkey_format(&vk, vkey, sizeof(vkey)), FW_OK);
	CHECK(strcmp(vkey, log_vkey) == 0);
	/* the witness key is a cosignature key (type 0x04): not ours to use */
	CHECK_EQ(fw_note_vkey_parse(witness_vkey, &wk, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "0x04") != NULL);

	tree8(leaves);
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, log_origin);
	cp.size = 8;
	CHECK_EQ(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, 8, cp.root), FW_OK);
	CHECK_EQ(fw_checkpoint_format(&cp, &text), FW_OK);
	CHECK(text != NULL && strcmp(text, cp_text) == 0);
	CHECK_EQ(fw_note_sign(text, log_origin, k, &note, &d), FW_OK);
	CHECK(note != NULL && strcmp(note, cp_note) == 0);

	CHECK_EQ(fw_merkle_inclusion_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 8, 5, path, &n),
	         FW_OK);
	/* the note the witness cosigned, as embedded in the spec's file */
	CHECK_EQ(fw_tlog_proof_format(5, (const uint8_t(*)[FW_HASH_LEN])path, n,
	                              strstr(leaf5_proof, "\n\n") + 2, &file),
	         FW_OK);
	CHECK(file != NULL && strcmp(file, leaf5_proof) == 0);

	/* the auditor's side: parse, open the checkpoint (the witness line is
	 * an unknown key, ignored), recompute the leaf, verify */
	memset(&tp, 0, sizeof(tp));
	CHECK_EQ(fw_tlog_proof_parse(leaf5_proof, strlen(leaf5_proof), &tp, &d), FW_OK);
	CHECK_EQ(tp.index, 5);
	CHECK_EQ(tp.n, 3);
	CHECK(memcmp(tp.hashes, path, 3 * FW_HASH_LEN) == 0);
	CHECK_EQ(tp.note_len, strlen(cp_note) + strlen(WITNESS_SIG_LINE));
	CHECK_EQ(fw_checkpoint_open(tp.note, tp.note_len, &vk, log_origin, &got, &d), FW_OK);
	CHECK_EQ(got.size, 8);
	CHECK(strcmp(got.origin, log_origin) == 0);
	CHECK(memcmp(got.root, cp.root, FW_HASH_LEN) == 0);
	CHECK_EQ(fw_hex_decode("40414243", leaf, 4), FW_OK);
	fw_merkle_leaf_hash(leaf, 4, leaf);
	CHECK_EQ(fw_merkle_verify_inclusion(tp.index, got.size, leaf,
	                                    (const uint8_t(*)[FW_HASH_LEN])tp.hashes, tp.n, got.root),
	         FW_OK);
	CHECK_EQ(fw_merkle_verify_inclusion(tp.index - 1, got.size, leaf,
	                                    (const uint8_t(*)[FW_HASH_LEN])tp.hashes, tp.n, got.root),
	         FW_E_PROOF);
	fw_tlog_proof_clear(&tp);
	CHECK(tp.note == NULL && tp.n == 0);
	fw_tlog_proof_clear(&tp); /* twice is fine */

	/* consistency 5 -> 8 and root 5 */
	CHECK_EQ(fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])leaves, 5, root5), FW_OK);
	CHECK_EQ(fw_b64_decode(root5_b64, 44, leaf, FW_HASH_LEN), FW_OK);
	CHECK(memcmp(root5, leaf, FW_HASH_LEN) == 0);
	memset(&cons, 0, sizeof(cons));
	cons.old_size = 5;
	cons.new_size = 8;
	CHECK_EQ(fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])leaves, 5, 8, cons.hashes,
	                                     &cons.n),
	         FW_OK);
	CHECK_EQ(cons.n, 4);
	for (i = 0; i < 4 && i < cons.n; i++) {
		CHECK_EQ(fw_b64_decode(cons58_b64[i], 44, leaf, FW_HASH_LEN), FW_OK);
		CHECK(memcmp(cons.hashes[i], leaf, FW_HASH_LEN) == 0);
	}
	CHECK_EQ(fw_consistency_format(&cons, &cfile), FW_OK);
	CHECK(cfile != NULL && strncmp(cfile, "fwtrust-consistency/v1\nold 5\nnew 8\nvBoGQ7", 40) == 0);
	memset(&cons2, 0x33, sizeof(cons2));
	CHECK_EQ(fw_consistency_parse(cfile, strlen(cfile), &cons2, &d), FW_OK);
	CHECK(cons2.old_size == 5 && cons2.new_size == 8 && cons2.n == 4 &&
	      memcmp(cons2.hashes, cons.hashes, 4 * FW_HASH_LEN) == 0);
	CHECK_EQ(fw_merkle_verify_consistency(cons2.old_size, cons2.new_size, root5, got.root,
	                                      (const uint8_t(*)[FW_HASH_LEN])cons2.hashes, cons2.n),
	         FW_OK);
	free(text);
	free(note);
	free(file);
	free(cfile);
}

/* One malformed or forged checkpoint note per rule (§6.6, §6.7). */
static void t_malformed_notes(void)
{
	struct fw_note_key vk = the_log_key(), bk;
	char buf[16384], *s;
	size_t i, len = strlen(cp_note);

	if (log_key() == NULL || b_key() == NULL) {
		CHECK(0);
		return;
	}
	/* the baseline opens */
	expect_open(cp_note, len, FW_OK, "");

	/* CRLF line endings */
	for (i = 0, s = buf; cp_note[i]; i++) {
		if (cp_note[i] == '\n')
			*s++ = '\r';
		*s++ = cp_note[i];
	}
	expect_open(buf, (size_t)(s - buf), FW_E_NOTE, "line 1: carriage return");
	/* missing final newline */
	expect_open(cp_note, len - 1, FW_E_NOTE, "line 5: no newline at the end");
	/* no blank line before the signature */
	snprintf(buf, sizeof(buf), "%s%s", cp_text, LOG_SIG_LINE);
	expect_open(buf, strlen(buf), FW_E_NOTE, "no blank line");
	/* blank line but nothing after it */
	snprintf(buf, sizeof(buf), "%s\n", cp_text);
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: no signature after the blank line");

	/* validly signed by the log key, but the checkpoint text is wrong */
	s = signed_by_log("example.org/fwupd-evidence-test\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 2: tree size has a leading zero");
	free(s);
	s = signed_by_log("example.org/fwupd-evidence-test\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 2: tree size is not a decimal number");
	free(s);
	s = signed_by_log("example.org/fwupd-evidence-test\n 8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 2: tree size is not a decimal number");
	free(s);
	s = signed_by_log("example.org/fwupd-evidence-test\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 2: tree size does not fit in 64 bits");
	free(s);
	/* non-canonical base64: the pad bits of the last character are set */
	s = signed_by_log("example.org/fwupd-evidence-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 3: root hash is not canonical base64");
	free(s);
	s = signed_by_log("example.org/fwupd-evidence-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 3: root hash is not canonical base64");
	free(s);
	/* a root of 31 bytes */
	s = signed_by_log("example.org/fwupd-evidence-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 3: root hash has 31 bytes, not 32");
	free(s);
	/* no root line; an empty extension line; an origin over 255 bytes */
	s = signed_by_log("example.org/fwupd-evidence-test\n8\n");
	expect_open(s, strlen(s), FW_E_NOTE, "line 3: checkpoint has no root hash");
	free(s);
	memset(buf, 'o', 256);
	strcpy(buf + 256, "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
	s = signed_by_log(buf);
	expect_open(s, strlen(s), FW_E_NOTE, "line 1: origin longer than 255 bytes");
	free(s);
	/* an extension line is accepted when signed ... */
	s = signed_by_log("example.org/fwupd-evidence-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nTimestamp: 1\n");
	expect_open(s, strlen(s), FW_OK, "");
	free(s);
	/* ... but not added after signing */
	snprintf(buf, sizeof(buf), "%sextra line\n\n%s", cp_text, LOG_SIG_LINE);
	expect_open(buf, strlen(buf), FW_E_SIGNATURE, "line 6: signature by example.org/fwupd-evidence-test+bcc41de5 does not verify");

	/* only an unknown key signed */
	note_key_of(b_key(), log_origin, &bk); /* same name, other key: other id */
	sig_line(cp_text, strlen(cp_text), bk.name, bk.id, b_key(), buf + 200, 300);
	snprintf(buf, 200, "%s\n", cp_text);
	memmove(buf + strlen(buf), buf + 200, strlen(buf + 200) + 1);
	expect_open(buf, strlen(buf), FW_E_NOT_FOUND,
	            "no signature by example.org/fwupd-evidence-test+bcc41de5 (1 signature of other keys ignored)");
	/* our name and id, another key's signature (key id collision) */
	sig_line(cp_text, strlen(cp_text), vk.name, vk.id, b_key(), buf + 200, 300);
	snprintf(buf, 200, "%s\n", cp_text);
	memmove(buf + strlen(buf), buf + 200, strlen(buf + 200) + 1);
	expect_open(buf, strlen(buf), FW_E_SIGNATURE, "line 5: signature by");
	/* our id under another name: someone else's key, ignored */
	sig_line(cp_text, strlen(cp_text), "example.org/other", vk.id, b_key(), buf + 200, 300);
	snprintf(buf, 200, "%s\n", cp_text);
	memmove(buf + strlen(buf), buf + 200, strlen(buf + 200) + 1);
	strcat(buf, LOG_SIG_LINE);
	expect_open(buf, strlen(buf), FW_OK, "");

	/* wrong origin, with a valid signature */
	{
		struct fw_checkpoint cp;
		struct fw_diag d = {""};

		CHECK_EQ(fw_checkpoint_open(cp_note, len, &vk, "example.org/other", &cp, &d),
		         FW_E_ORIGIN);
		CHECK(strstr(d.msg, "example.org/other") != NULL);
		CHECK_EQ(fw_checkpoint_open(cp_note, len, &vk, NULL, &cp, &d), FW_OK);
	}

	/* bad signature by the right key: one character of the signature */
	strcpy(buf, cp_note);
	s = strstr(buf, "vMQd5Tv6");
	s[20] = s[20] == 'A' ? 'B' : 'A';
	expect_open(buf, strlen(buf), FW_E_SIGNATURE, "line 5: signature by example.org/fwupd-evidence-test+bcc41de5 does not verify");
	/* one character of the signed text (the root) */
	strcpy(buf, cp_note);
	buf[34] = '9';
	expect_open(buf, strlen(buf), FW_E_SIGNATURE, "does not verify");
	/* a signature of 63 bytes by our key */
	{
		uint8_t blob[67];
		char b64[93];

		memset(blob, 0, sizeof(blob));
		blob[0] = 0xbc;
		blob[1] = 0xc4;
		blob[2] = 0x1d;
		blob[3] = 0xe5;
		fw_b64_encode(blob, sizeof(blob), b64);
		snprintf(buf, sizeof(buf), "%s\n" EM " %s %s\n", cp_text, log_origin, b64);
		expect_open(buf, strlen(buf), FW_E_SIGNATURE, "has 63 bytes, not 64");
	}
	/* two signatures by our key */
	snprintf(buf, sizeof(buf), "%s%s", cp_note, LOG_SIG_LINE);
	expect_open(buf, strlen(buf), FW_E_SIGNATURE, "line 6: second signature by example.org/fwupd-evidence-test+bcc41de5 (first on line 5)");

	/* 100 signatures are fine, 101 are not */
	strcpy(buf, cp_note);
	for (i = 0; i < 99; i++)
		strcat(buf, EM " w AAAAAAA=\n");
	expect_open(buf, strlen(buf), FW_OK, "");
	strcat(buf, EM " w AAAAAAA=\n");
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 105: more than 100 signatures");

	/* control characters, anywhere */
	{
		static const char *const bad[] = {"\x01", "\x7f", "\xc2\x85", "\t", "\x1b[2J"};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(buf, sizeof(buf), "example.org/fwupd%s-evidence-test\n8\n%s", bad[i],
			         strchr(cp_note, 'X'));
			expect_open(buf, strlen(buf), FW_E_NOTE, "line 1: control character U+00");
			snprintf(buf, sizeof(buf), "%s" EM " w%s AAAAAAA=\n", cp_note, bad[i]);
			expect_open(buf, strlen(buf), FW_E_NOTE, "line 6: control character U+00");
		}
		memcpy(buf, cp_note, len + 1);
		buf[40] = '\0';
		expect_open(buf, len, FW_E_NOTE, "line 3: control character U+0000");
	}
	/* not UTF-8: a stray byte, an overlong '/', a surrogate, a cut sequence */
	{
		static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x80", "\xf4\x90\x80\x80"};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(buf, sizeof(buf), "example.org%sfwupd-evidence-test\n8\n%s", bad[i],
			         strchr(cp_note, 'X'));
			expect_open(buf, strlen(buf), FW_E_NOTE, "line 1: invalid UTF-8");
		}
	}
	/* key names with a space: ASCII splits the line, Unicode spaces are
	 * refused in the name */
	snprintf(buf, sizeof(buf), "%s\n" EM " example.org/fwupd evidence-test %s", cp_text,
	         strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: signature is not canonical base64");
	snprintf(buf, sizeof(buf), "%s\n" EM " example.org/fwupd\xc2\xa0" "evidence-test %s", cp_text,
	         strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: key name is empty or has spaces");
	snprintf(buf, sizeof(buf), "%s\n" EM " example.org/fwupd\xe3\x80\x80" "evidence-test %s",
	         cp_text, strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: key name is empty or has spaces");
	snprintf(buf, sizeof(buf), "%s\n" EM "  %s", cp_text, strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: key name is empty");
	snprintf(buf, sizeof(buf), "%s\n" EM " a+b %s", cp_text, strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: key name is empty or has spaces, '+'");
	/* signature line shapes */
	snprintf(buf, sizeof(buf), "%s\n- %s %s", cp_text, log_origin, strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: signature line does not start with an em dash");
	snprintf(buf, sizeof(buf), "%s\n" EM "%s %s", cp_text, log_origin, strstr(LOG_SIG_LINE, "vMQd"));
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: signature line does not start with an em dash");
	snprintf(buf, sizeof(buf), "%s\n" EM " %s\n", cp_text, log_origin);
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: no space between the key name and the signature");
	snprintf(buf, sizeof(buf), "%s\n" EM " %s \n", cp_text, log_origin);
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: signature is not canonical base64");
	snprintf(buf, sizeof(buf), "%s\n" EM " %s AAAA\n", cp_text, log_origin);
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 5: signature has 3 bytes");
	snprintf(buf, sizeof(buf), "%s" EM " w AAAAAAA=\n\n", cp_note);
	expect_open(buf, strlen(buf), FW_E_NOTE, "line 8: no signature after the blank line");
	/* the last blank line separates: a blank line inside the text is
	 * text, which a checkpoint refuses */
	s = signed_by_log("example.org/fwupd-evidence-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\nx\n");
	expect_verify(s, strlen(s), &vk, FW_OK, NULL);
	expect_open(s, strlen(s), FW_E_NOTE, "line 4: empty line in the checkpoint");
	free(s);
	/* too long */
	memset(buf, 'a', FW_NOTE_MAX + 1);
	buf[FW_NOTE_MAX + 1] = '\0';
	expect_open(buf, FW_NOTE_MAX + 1, FW_E_NOTE, "more than the limit of 8192");
	expect_open("", 0, FW_E_NOTE, "line 1: empty note");
}

#define S(lit) lit, strlen(lit)

static void t_checkpoint_parse(void)
{
	struct fw_checkpoint c, back;
	struct fw_diag d = {""};
	char *text = NULL;
	static const char max[] = "o\n18446744073709551615\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
	static const char zero[] = "log \xc3\xa9\xe2\x80\x94 with spaces\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next a\next b\n";

	CHECK_EQ(fw_checkpoint_parse(max, strlen(max), &c, &d), FW_OK);
	CHECK(c.size == UINT64_MAX && strcmp(c.origin, "o") == 0);
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_OK);
	CHECK(text != NULL && strcmp(text, max) == 0);
	free(text);
	text = NULL;
	CHECK_EQ(fw_checkpoint_parse(zero, strlen(zero), &c, &d), FW_OK);
	CHECK(c.size == 0 && c.root[0] == 0xe3 && strcmp(c.origin, "log \xc3\xa9\xe2\x80\x94 with spaces") == 0);
	/* format writes no extension lines; the values survive */
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_OK);
	CHECK_EQ(fw_checkpoint_parse(text, strlen(text), &back, &d), FW_OK);
	CHECK(memcmp(&back, &c, sizeof(c)) == 0);
	free(text);
	text = NULL;

	memset(&back, 0x77, sizeof(back));
	CHECK_EQ(fw_checkpoint_parse(S("o\n1\n"), &back, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 3: checkpoint has no root hash") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n"), &back, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 2: checkpoint has no tree size") != NULL);
	CHECK_EQ(fw_checkpoint_parse("\n1\n", 3, &back, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 1: empty line") != NULL);
	CHECK_EQ(fw_checkpoint_parse(max, strlen(max) - 1, &back, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 3: checkpoint does not end with a newline") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"), &back, &d),
	         FW_E_NOTE);
	CHECK(strstr(d.msg, "line 2: tree size is not a decimal") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"), &back, &d),
	         FW_E_NOTE);
	CHECK(strstr(d.msg, "line 4: empty line") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n00\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"), &back, &d),
	         FW_E_NOTE);
	CHECK(strstr(d.msg, "line 2: tree size has a leading zero") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=AAAA\n"), &back, &d),
	         FW_E_NOTE);
	CHECK(strstr(d.msg, "line 3: root hash is not canonical base64") != NULL);
	CHECK_EQ(fw_checkpoint_parse(S("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQygA\n"), &back, &d),
	         FW_E_NOTE);
	CHECK(strstr(d.msg, "line 3: root hash has 33 bytes, not 32") != NULL);
	CHECK(back.size == 0x7777777777777777ull);

	/* format refuses what would not parse back */
	memset(&c, 0, sizeof(c));
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_E_ARG);
	strcpy(c.origin, "a\nb");
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_E_ARG);
	strcpy(c.origin, "a\rb");
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_E_ARG);
	memset(c.origin, 'a', sizeof(c.origin)); /* no NUL inside */
	CHECK_EQ(fw_checkpoint_format(&c, &text), FW_E_ARG);
	CHECK(text == NULL);
}

static void t_keys(void)
{
	struct fw_note_key k, k2;
	struct fw_diag d = {""};
	uint8_t pub[32] = {1, 2, 3};
	char name[300], vkey[400];
	static const char *const bad_names[] = {"", "a b", "a+b", "a\tb", "a\nb", ("a\xc2\xa0" "b"),
	                                        "a\xe2\x80\x8b", "\xff", "a\x7f"};
	size_t i;

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		/* "a\xe2\x80\x8b" is U+200B (not White_Space): allowed */
		int want = i == 6 ? FW_OK : FW_E_ARG;

		if (fw_note_key_init(&k, bad_names[i], pub) != want)
			harness_fail(__FILE__, __LINE__, "key name #%zu: expected %d", i, want);
	}
	memset(name, 'n', 255);
	name[255] = '\0';
	CHECK_EQ(fw_note_key_init(&k, name, pub), FW_OK);
	CHECK_EQ(fw_note_vkey_format(&k, vkey, sizeof(vkey)), FW_OK);
	CHECK_EQ(fw_note_vkey_format(&k, vkey, strlen(vkey)), FW_E_TOO_LARGE);
	CHECK_EQ(fw_note_vkey_parse(vkey, &k2, &d), FW_OK);
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
	name[255] = 'n';
	name[256] = '\0';
	CHECK_EQ(fw_note_key_init(&k, name, pub), FW_E_ARG);

	/* vkeys that must not parse */
	{
		static const struct {
			const char *vkey, *msg;
		} bad[] = {
			{"example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"},
			{"example.com/fo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"},
			{"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l", "does not match"},
			{"example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex digits"},
			{"example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex digits"},
			{"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n", "canonical base64"},
			{"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2kAA==", "has 33 bytes"},
			{"example.com/foo+530d903a+", "canonical base64"},
			{"example.com/foo+530d903a", "8 hex digits"},
			{"example.com/foo", "not <name>+<key id>+<key>"},
			{"+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name is empty"},
			{"ex ample+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name is empty"},
			{"witness.example.org/w1+2ce32234+BD1AF8PoQ4lakrcKp00bfrycmCzPLsSWjMDNVfEq9GYM", "0x04"},
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&k2, 0x11, sizeof(k2));
			d.msg[0] = '\0';
			if (fw_note_vkey_parse(bad[i].vkey, &k2, &d) != FW_E_KEY ||
			    strstr(d.msg, bad[i].msg) == NULL || k2.id != 0x11111111)
				harness_fail(__FILE__, __LINE__, "vkey #%zu: %s", i, d.msg);
		}
	}
	/* upper-case hex is still the same id */
	CHECK_EQ(fw_note_vkey_parse("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	                            &k2, &d),
	         FW_OK);
	CHECK_EQ(k2.id, 0x530d903a);
}

static void t_sign_rules(void)
{
	struct fw_key *k = log_key(), *p256 = NULL, *pubonly = NULL, *gen = NULL;
	struct fw_note_key vk;
	struct fw_diag d = {""};
	char *out = NULL, path[512], big[FW_NOTE_MAX + 2];
	size_t tl = 0;

	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK_EQ(fw_note_sign("no newline", log_origin, k, &out, &d), FW_E_ARG);
	CHECK_EQ(fw_note_sign("", log_origin, k, &out, &d), FW_E_ARG);
	CHECK_EQ(fw_note_sign("a\n\nb\n", log_origin, k, &out, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "empty line") != NULL);
	CHECK_EQ(fw_note_sign("\na\n", log_origin, k, &out, &d), FW_E_ARG);
	CHECK_EQ(fw_note_sign("a\r\n", log_origin, k, &out, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "line 1: carriage return") != NULL);
	CHECK_EQ(fw_note_sign("a\nb\x01\n", log_origin, k, &out, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "line 2: control character U+0001") != NULL);
	CHECK_EQ(fw_note_sign("a\n", "my log", k, &out, &d), FW_E_ARG);
	CHECK_EQ(fw_note_sign("a\n", "my+log", k, &out, &d), FW_E_ARG);
	CHECK_EQ(fw_note_sign("a\n", "", k, &out, &d), FW_E_ARG);
	memset(big, 'a', FW_NOTE_MAX);
	big[FW_NOTE_MAX] = '\n';
	big[FW_NOTE_MAX + 1] = '\0';
	CHECK_EQ(fw_note_sign(big, log_origin, k, &out, &d), FW_E_TOO_LARGE);
	CHECK(out == NULL);
	/* the largest text that still fits verifies */
	{
		size_t room = FW_NOTE_MAX - (1 + 4 + strlen(log_origin) + 1 + 92 + 1);

		memset(big, 'a', room - 1);
		big[room - 1] = '\n';
		big[room] = '\0';
		CHECK_EQ(fw_note_sign(big, log_origin, k, &out, &d), FW_OK);
		CHECK(out != NULL && strlen(out) == FW_NOTE_MAX);
		note_key_of(k, log_origin, &vk);
		if (out != NULL)
			CHECK_EQ(fw_note_verify(out, strlen(out), &vk, &tl, &d), FW_OK);
		CHECK_EQ(tl, room);
		free(out);
		out = NULL;
		big[room - 1] = 'a';
		big[room] = '\n';
		big[room + 1] = '\0';
		CHECK_EQ(fw_note_sign(big, log_origin, k, &out, &d), FW_E_TOO_LARGE);
	}

	/* only Ed25519 private keys sign notes */
	CHECK_EQ(fw_key_generate(FW_KEY_ALG_P256, &p256, NULL), FW_OK);
	CHECK_EQ(fw_note_sign("a\n", log_origin, p256, &out, &d), FW_E_KEY);
	CHECK_EQ(fw_key_generate(FW_KEY_ALG_ED25519, &gen, NULL), FW_OK);
	snprintf(path, sizeof(path), "%s/gen", harness_tmpdir());
	CHECK_EQ(fw_key_save(gen, path, NULL), FW_OK);
	snprintf(path, sizeof(path), "%s/gen.pub", harness_tmpdir());
	CHECK_EQ(fw_key_load_public(path, &pubonly, NULL), FW_OK);
	if (pubonly != NULL)
		CHECK_EQ(fw_note_sign("a\n", log_origin, pubonly, &out, &d), FW_E_KEY);
	CHECK(out == NULL);
	/* a fresh key round-trips, Unicode name and all */
	CHECK_EQ(fw_note_sign("h\xc3\xa9llo\n", "\xc3\xa9.example/log", gen, &out, &d), FW_OK);
	note_key_of(gen, "\xc3\xa9.example/log", &vk);
	if (out != NULL)
		expect_verify(out, strlen(out), &vk, FW_OK, NULL);
	free(out);
	fw_key_free(p256);
	fw_key_free(pubonly);
	fw_key_free(gen);
}

static void t_tlog_proof_files(void)
{
	struct fw_tlog_proof p;
	struct fw_diag d = {""};
	char buf[16384], *s, *out = NULL;
	const char *note = strstr(leaf5_proof, "\n\n") + 2;
	uint8_t hashes[FW_MERKLE_MAX_PROOF + 1][FW_HASH_LEN];
	size_t i;
	static const struct {
		const char *head, *msg;
	} bad[] = {
		{"c2sp.org/tlog-proof@v2\nindex 5\n\n", "line 1: not a c2sp.org/tlog-proof@v1 file"},
		{"c2sp.org/tlog-proof@v1\r\nindex 5\n\n", "line 1: carriage return"},
		{"c2sp.org/tlog-proof@v1\nextra YWJj\nindex 5\n\n", "line 2: extra data is not supported"},
		{"c2sp.org/tlog-proof@v1\nextra\nindex 5\n\n", "line 2: extra data is not supported"},
		{"c2sp.org/tlog-proof@v1\nindex 05\n\n", "line 2: index has a leading zero"},
		{"c2sp.org/tlog-proof@v1\nindex +5\n\n", "line 2: index is not a decimal number"},
		{"c2sp.org/tlog-proof@v1\nindex  5\n\n", "line 2: index is not a decimal number"},
		{"c2sp.org/tlog-proof@v1\nindex\n\n", "line 2: expected \"index <number>\""},
		{"c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n", "line 2: index does not fit"},
		{"c2sp.org/tlog-proof@v1\nindex 5\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnmt=\n\n", "line 3: not the canonical base64"},
		{"c2sp.org/tlog-proof@v1\nindex 5\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\nyoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCu==\n\n", "line 4: not the canonical base64"},
		{"c2sp.org/tlog-proof@v1\nindex 5\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms= \n\n", "line 3: not the canonical base64"},
	};

	/* round trip of a long proof */
	for (i = 0; i < FW_MERKLE_MAX_PROOF + 1; i++)
		memset(hashes[i], (int)i, FW_HASH_LEN);
	CHECK_EQ(fw_tlog_proof_format(UINT64_MAX, (const uint8_t(*)[FW_HASH_LEN])hashes,
	                              FW_MERKLE_MAX_PROOF, note, &out),
	         FW_OK);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(fw_tlog_proof_parse(out, strlen(out), &p, &d), FW_OK);
	CHECK(p.index == UINT64_MAX && p.n == FW_MERKLE_MAX_PROOF &&
	      memcmp(p.hashes, hashes, sizeof(p.hashes)) == 0);
	CHECK(p.note != NULL && strcmp(p.note, note) == 0 && p.note_len == strlen(note));
	fw_tlog_proof_clear(&p);
	free(out);
	out = NULL;
	CHECK_EQ(fw_tlog_proof_format(0, NULL, 0, note, &out), FW_OK);
	CHECK_EQ(fw_tlog_proof_parse(out, strlen(out), &p, &d), FW_OK);
	CHECK(p.index == 0 && p.n == 0);
	fw_tlog_proof_clear(&p);
	free(out);
	out = NULL;
	CHECK_EQ(fw_tlog_proof_format(0, (const uint8_t(*)[FW_HASH_LEN])hashes,
	                              FW_MERKLE_MAX_PROOF + 1, note, &out),
	         FW_E_ARG);
	CHECK_EQ(fw_tlog_proof_format(0, NULL, 1, note, &out), FW_E_ARG);
	CHECK_EQ(fw_tlog_proof_format(0, NULL, 0, "no newline", &out), FW_E_ARG);
	CHECK(out == NULL);

	/* 65 hashes */
	s = buf + sprintf(buf, "c2sp.org/tlog-proof@v1\nindex 5\n");
	for (i = 0; i < 65; i++)
		s += sprintf(s, "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n");
	sprintf(s, "\n%s", note);
	memset(&p, 0x44, sizeof(p));
	CHECK_EQ(fw_tlog_proof_parse(buf, strlen(buf), &p, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 67: more than 64 proof hashes") != NULL);
	CHECK(p.index == 0x4444444444444444ull);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", bad[i].head, note);
		memset(&p, 0x44, sizeof(p));
		d.msg[0] = '\0';
		if (fw_tlog_proof_parse(buf, strlen(buf), &p, &d) != FW_E_NOTE ||
		    strstr(d.msg, bad[i].msg) == NULL || p.index != 0x4444444444444444ull)
			harness_fail(__FILE__, __LINE__, "tlog-proof #%zu: %s", i, d.msg);
	}
	/* no blank line, no note */
	{
		static const char *const cut[] = {
			"c2sp.org/tlog-proof@v1\nindex 5\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n",
			"c2sp.org/tlog-proof@v1\nindex 5\n\n",
			"c2sp.org/tlog-proof@v1\nindex 5",
			"c2sp.org/tlog-proof@v1\n",
			"",
		};
		static const char *const msg[] = {
			"line 4: missing the blank line before the checkpoint",
			"line 4: no checkpoint after the blank line",
			"line 2: no newline at the end",
			"line 2: missing the index line",
			"line 1: missing the c2sp.org/tlog-proof@v1 line",
		};

		for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
			d.msg[0] = '\0';
			if (fw_tlog_proof_parse(cut[i], strlen(cut[i]), &p, &d) != FW_E_NOTE ||
			    strstr(d.msg, msg[i]) == NULL)
				harness_fail(__FILE__, __LINE__, "tlog-proof cut #%zu: %s", i, d.msg);
		}
	}
	/* clear takes NULL and zeroed structs */
	fw_tlog_proof_clear(NULL);
	memset(&p, 0, sizeof(p));
	fw_tlog_proof_clear(&p);
}

static void t_consistency_files(void)
{
	struct fw_consistency_proof p, q;
	struct fw_diag d = {""};
	char *out = NULL, buf[8192], *s;
	size_t i;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"fwtrust-consistency/v2\nold 1\nnew 2\n", "line 1: not a fwtrust-consistency/v1 file"},
		{"fwtrust-consistency/v1\nold 0\nnew 2\n", "line 2: old size 0"},
		{"fwtrust-consistency/v1\nold 3\nnew 2\n", "line 3: new size 2 is below old size 3"},
		{"fwtrust-consistency/v1\nold 01\nnew 2\n", "line 2: old has a leading zero"},
		{"fwtrust-consistency/v1\nnew 2\nold 1\n", "line 2: expected \"old <number>\""},
		{"fwtrust-consistency/v1\nold 1\n", "line 3: missing the new size"},
		{"fwtrust-consistency/v1\nold 1\nnew 2", "line 3: no newline at the end"},
		{"fwtrust-consistency/v1\nold 1\nnew 2\n\n", "line 4: empty line"},
		{"fwtrust-consistency/v1\nold 1\nnew 2\r\n", "line 3: carriage return"},
		{"fwtrust-consistency/v1\nold 1\nnew 2\nAAAA\n", "line 4: not the canonical base64"},
		{"fwtrust-consistency/v1\nold 1\nnew 2\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "line 4: no newline"},
		{"fwtrust-consistency/v1\nold 1\nnew 2\nvBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n\n", "line 5: empty line"},
	};

	memset(&p, 0, sizeof(p));
	p.old_size = 1;
	p.new_size = UINT64_MAX;
	p.n = FW_MERKLE_MAX_PROOF;
	for (i = 0; i < FW_MERKLE_MAX_PROOF; i++)
		memset(p.hashes[i], (int)(i * 3), FW_HASH_LEN);
	CHECK_EQ(fw_consistency_format(&p, &out), FW_OK);
	CHECK_EQ(fw_consistency_parse(out, strlen(out), &q, &d), FW_OK);
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	free(out);
	out = NULL;
	p.old_size = p.new_size = 7;
	p.n = 0;
	CHECK_EQ(fw_consistency_format(&p, &out), FW_OK);
	CHECK(out != NULL && strcmp(out, "fwtrust-consistency/v1\nold 7\nnew 7\n") == 0);
	CHECK_EQ(fw_consistency_parse(out, strlen(out), &q, &d), FW_OK);
	CHECK(q.old_size == 7 && q.new_size == 7 && q.n == 0);
	free(out);
	out = NULL;
	p.old_size = 0;
	CHECK_EQ(fw_consistency_format(&p, &out), FW_E_ARG);
	p.old_size = 8;
	CHECK_EQ(fw_consistency_format(&p, &out), FW_E_ARG);
	p.old_size = 1;
	p.n = FW_MERKLE_MAX_PROOF + 1;
	CHECK_EQ(fw_consistency_format(&p, &out), FW_E_ARG);
	CHECK(out == NULL);

	s = buf + sprintf(buf, "fwtrust-consistency/v1\nold 1\nnew 2\n");
	for (i = 0; i < 65; i++)
		s += sprintf(s, "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n");
	CHECK_EQ(fw_consistency_parse(buf, strlen(buf), &q, &d), FW_E_NOTE);
	CHECK(strstr(d.msg, "line 68: more than 64 proof hashes") != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&q, 0x21, sizeof(q));
		d.msg[0] = '\0';
		if (fw_consistency_parse(bad[i].text, strlen(bad[i].text), &q, &d) != FW_E_NOTE ||
		    strstr(d.msg, bad[i].msg) == NULL || q.n != (size_t)0x2121212121212121ull)
			harness_fail(__FILE__, __LINE__, "consistency #%zu: %s", i, d.msg);
	}
}

/* ---- OpenSSL allocation failures, each in turn ---- */


/* a failing allocation inside OpenSSL refuses or errs, never accepts a
 * forgery, never signs something else */
static void t_alloc_failures(void)
{
	struct fw_key *k = log_key();
	struct fw_note_key vk = the_log_key(), nk;
	struct fw_checkpoint cp;
	char forged[sizeof(cp_note)], *out = NULL;
	size_t tl;
	long i, bad = 0, failed = 0;
	int rc;

	CHECK(failalloc_installed() && k != NULL);
	if (k == NULL)
		return;
	memcpy(forged, cp_note, sizeof(cp_note));
	forged[34] = '9'; /* another root, same signature */
	for (i = 0; i < 200; i++) {
		failalloc_budget = i;
		rc = fw_note_verify(cp_note, strlen(cp_note), &vk, &tl, NULL);
		bad += rc != FW_OK && rc != FW_E_CRYPTO && rc != FW_E_SIGNATURE;
		failed += rc != FW_OK;
		failalloc_budget = i;
		rc = fw_note_verify(forged, strlen(forged), &vk, &tl, NULL);
		bad += rc == FW_OK;
		failalloc_budget = i;
		rc = fw_checkpoint_open(forged, strlen(forged), &vk, log_origin, &cp, NULL);
		bad += rc == FW_OK;
		failalloc_budget = i;
		rc = fw_note_key_init(&nk, log_origin, vk.pub);
		bad += rc == FW_OK ? memcmp(&nk, &vk, sizeof(nk)) != 0 : rc != FW_E_CRYPTO;
		failalloc_budget = i;
		rc = fw_note_sign(cp_text, log_origin, k, &out, NULL);
		failalloc_budget = -1;
		if (rc == FW_OK)
			bad += strcmp(out, cp_note) != 0;
		free(out);
		out = NULL;
	}
	failalloc_budget = -1;
	CHECK_EQ(bad, 0);
	CHECK(failed > 5);
}

static const struct harness_test tests[] = {
	{"vector_a", t_vector_a},
	{"vector_b_sign_byte_for_byte", t_vector_b},
	{"end_to_end_2_6", t_end_to_end},
	{"malformed_notes", t_malformed_notes},
	{"checkpoint_parse", t_checkpoint_parse},
	{"keys_and_vkeys", t_keys},
	{"sign_rules", t_sign_rules},
	{"tlog_proof_files", t_tlog_proof_files},
	{"consistency_files", t_consistency_files},
	{"alloc_failures", t_alloc_failures},
};

HARNESS_MAIN(tests)
