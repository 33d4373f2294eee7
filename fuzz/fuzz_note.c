/*
 * libFuzzer target for the C2SP signed-note and checkpoint parsers
 * (src/evidence/note.c).
 *
 * The input is an untrusted note. It goes through fw_note_verify with
 * three fixed keys (the log key of shared/specs/evidence-log.md §2.6 and
 * the keys of signed-note vectors A and B), fw_checkpoint_open with the
 * log key (with and without an origin), fw_checkpoint_parse on the whole
 * input, and fw_note_vkey_parse when the input is one short line.
 * Mutations of the checkpoint text reach its parser without a valid
 * signature: fw_checkpoint_open parses the text before it judges the
 * signature.
 *
 * On top of the sanitizers it abort()s when the evidence.h contract
 * breaks: an error code outside the documented set, an out-param written
 * on failure, a signed text that is not a prefix ending in "\n\n", a
 * parsed checkpoint that does not format back to the first bytes of its
 * text, a verified note that does not carry the signature line OpenSSL
 * computes for its text (Ed25519 is deterministic), verify and open
 * disagreeing.
 *
 * Keys: RFC 8032 §7.1 test 1 (public test key; its seed is here to compute
 * the expected signature line), vector A and B public keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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

static const char *const vkeys[3] = {
	"example.org/fwupd-evidence-test+bcc41de5+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
};
static const char log_origin[] = "example.org/fwupd-evidence-test";
/* RFC 8032 §7.1 test 1 secret key (a published test vector) */
static const uint8_t log_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

static struct fw_note_key keys[3];
static int have_keys;

static void load_keys(void)
{
	size_t i;

	if (have_keys)
		return;
	for (i = 0; i < 3; i++)
		CHECK(fw_note_vkey_parse(vkeys[i], &keys[i], NULL) == FW_OK);
	have_keys = 1;
}

/* "— <name> base64(id || Ed25519(text))\n", computed without note.c */
static void expected_sig_line(const char *text, size_t len, char *out, size_t cap)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, log_seed, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t blob[68];
	size_t siglen = 64;
	char b64[93];

	CHECK(pk != NULL && md != NULL);
	blob[0] = (uint8_t)(keys[0].id >> 24);
	blob[1] = (uint8_t)(keys[0].id >> 16);
	blob[2] = (uint8_t)(keys[0].id >> 8);
	blob[3] = (uint8_t)keys[0].id;
	CHECK(EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1);
	CHECK(EVP_DigestSign(md, blob + 4, &siglen, (const unsigned char *)text, len) == 1);
	CHECK(siglen == 64);
	fw_b64_encode(blob, sizeof(blob), b64);
	snprintf(out, cap, "\xe2\x80\x94 %s %s\n", keys[0].name, b64);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
}

static int contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	}
	return 0;
}

/* a parsed checkpoint formats back to exactly the first lines of its text */
static void check_checkpoint(const char *text, size_t len, const struct fw_checkpoint *c)
{
	struct fw_checkpoint again;
	char *f = NULL;
	size_t flen;

	CHECK(c->origin[0] != '\0' && strlen(c->origin) <= FW_ORIGIN_MAX);
	CHECK(strchr(c->origin, '\n') == NULL);
	CHECK(fw_checkpoint_format(c, &f) == FW_OK);
	flen = strlen(f);
	CHECK(flen <= len && memcmp(f, text, flen) == 0);
	CHECK(fw_checkpoint_parse(f, flen, &again, NULL) == FW_OK);
	CHECK(memcmp(&again, c, sizeof(again)) == 0);
	free(f);
}

static void run_verify(const char *note, size_t len, const struct fw_note_key *k, int *rc_out)
{
	struct fw_diag d;
	size_t tl = (size_t)-1;
	int rc = fw_note_verify(note, len, k, &tl, &d);

	CHECK(rc == FW_OK || rc == FW_E_NOTE || rc == FW_E_SIGNATURE || rc == FW_E_NOT_FOUND);
	CHECK(strlen(d.msg) < sizeof(d.msg));
	*rc_out = rc;
	if (rc != FW_OK) {
		CHECK(tl == (size_t)-1);
		return;
	}
	/* the text is a prefix, ends with its newline, and the blank line follows */
	CHECK(tl > 0 && tl + 2 <= len && note[tl - 1] == '\n' && note[tl] == '\n');
	if (k == &keys[0]) {
		char line[512];

		expected_sig_line(note, tl, line, sizeof(line));
		CHECK(contains(note + tl, len - tl, line));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *note = (const char *)data;
	struct fw_checkpoint c, c2;
	struct fw_note_key vk;
	struct fw_diag d;
	int rv[3], rc, rc2;
	size_t i;

	load_keys();
	for (i = 0; i < 3; i++)
		run_verify(note, size, &keys[i], &rv[i]);
	/* the note's layout does not depend on the key */
	CHECK((rv[0] == FW_E_NOTE) == (rv[1] == FW_E_NOTE));
	CHECK((rv[1] == FW_E_NOTE) == (rv[2] == FW_E_NOTE));

	memset(&c, 0x5c, sizeof(c));
	rc = fw_checkpoint_open(note, size, &keys[0], log_origin, &c, &d);
	CHECK(rc == FW_OK || rc == FW_E_NOTE || rc == FW_E_SIGNATURE || rc == FW_E_NOT_FOUND ||
	      rc == FW_E_ORIGIN);
	memset(&c2, 0x5c, sizeof(c2));
	rc2 = fw_checkpoint_open(note, size, &keys[0], NULL, &c2, &d);
	CHECK(rc2 == FW_OK || rc2 == FW_E_NOTE || rc2 == FW_E_SIGNATURE || rc2 == FW_E_NOT_FOUND);
	if (rv[0] == FW_E_NOTE)
		CHECK(rc == FW_E_NOTE && rc2 == FW_E_NOTE);
	if (rc == FW_OK) {
		CHECK(rv[0] == FW_OK && rc2 == FW_OK);
		CHECK(strcmp(c.origin, log_origin) == 0);
		CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
		check_checkpoint(note, size, &c);
	} else {
		CHECK(c.size == 0x5c5c5c5c5c5c5c5cull && c.origin[0] == 0x5c);
	}
	if (rc2 == FW_OK)
		CHECK(rv[0] == FW_OK);
	else
		CHECK(c2.size == 0x5c5c5c5c5c5c5c5cull);
	if (rc == FW_E_ORIGIN)
		CHECK(rc2 != FW_E_NOTE);
	if (rc == FW_E_SIGNATURE || rc == FW_E_NOT_FOUND)
		CHECK(rc2 == rc);
	/* open judges the signature as verify does */
	if (rc2 != FW_E_NOTE)
		CHECK(rc2 == FW_OK ? rv[0] == FW_OK : rv[0] == rc2);

	/* the whole input as checkpoint text */
	memset(&c, 0x5c, sizeof(c));
	rc = fw_checkpoint_parse(note, size, &c, &d);
	CHECK(rc == FW_OK || rc == FW_E_NOTE);
	if (rc == FW_OK)
		check_checkpoint(note, size, &c);
	else
		CHECK(c.size == 0x5c5c5c5c5c5c5c5cull);

	/* one short line: a vkey */
	if (size < 400 && memchr(data, '\0', size) == NULL) {
		char s[400], back[400];

		memcpy(s, data, size);
		s[size] = '\0';
		memset(&vk, 0x5c, sizeof(vk));
		rc = fw_note_vkey_parse(s, &vk, &d);
		CHECK(rc == FW_OK || rc == FW_E_KEY);
		if (rc == FW_OK) {
			struct fw_note_key again;

			CHECK(fw_note_vkey_format(&vk, back, sizeof(back)) == FW_OK);
			CHECK(strlen(back) == size);
			CHECK(fw_note_vkey_parse(back, &again, NULL) == FW_OK);
			CHECK(memcmp(&again, &vk, sizeof(vk)) == 0);
		} else {
			CHECK(vk.id == 0x5c5c5c5c);
		}
	}
	return 0;
}
