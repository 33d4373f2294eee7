/*
 * C2SP signed-note v1 (Ed25519, signature type 0x01) and tlog-checkpoint.
 *
 * Notes and checkpoints arrive from untrusted places (bundles, witnesses,
 * a store an attacker may have edited). The parser is strict and bounded:
 * at most FW_NOTE_MAX bytes and FW_NOTE_MAX_SIGS signature lines, UTF-8
 * without control characters other than "\n", the last blank line as the
 * separator, canonical base64. Every refusal names the line and the
 * problem. Signatures of keys other than the one given are ignored (as the
 * spec requires); a signature line of that key that does not verify
 * rejects the note.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "evidence/evidence.h"
#include "fwv.h"

#define SIG_PREFIX "\xe2\x80\x94 " /* EM DASH U+2014, space */
#define SIG_PREFIX_LEN 4
#define ED25519_SIG_LEN 64
#define SIG_BLOB_LEN (4 + ED25519_SIG_LEN)
#define SIG_B64_LEN 92 /* base64 of SIG_BLOB_LEN bytes */
#define KEY_B64_LEN 44 /* base64 of 0x01 || 32-byte key */
#define ROOT_B64_LEN 44

/* ---- characters ---- */

/* Decode one UTF-8 sequence from p[0..len): bytes used, 0 when it is not
 * well-formed (overlong forms, surrogates, beyond U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

static int is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
}

/* Unicode White_Space (what Go's unicode.IsSpace tests for key names) */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/*
 * Text of a note (or part of one): well-formed UTF-8 and no control
 * characters but "\n". Stricter than the spec's "below U+0020": DEL and
 * the C1 controls are refused too (they reorder or hide text on a
 * terminal). Line numbers count from first_line.
 */
static int check_chars(const char *s, size_t len, unsigned first_line, int err,
                       struct fw_diag *d)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned line = first_line;
	size_t i = 0;

	while (i < len) {
		uint32_t c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0)
			return fw_diag_set(d, err, "line %u: invalid UTF-8 (byte 0x%02x)", line, p[i]);
		if (c == '\n') {
			line++;
		} else if (c == '\r') {
			return fw_diag_set(d, err, "line %u: carriage return (lines must end in \\n only)",
			                   line);
		} else if (is_control(c)) {
			return fw_diag_set(d, err, "line %u: control character U+%04X", line,
			                   (unsigned)c);
		}
		i += n;
	}
	return FW_OK;
}

/* Key names: non-empty, UTF-8, no Unicode space, no '+', no control. */
static int name_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (len == 0)
		return 0;
	while (i < len) {
		uint32_t c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0 || c == '+' || is_space(c) || is_control(c))
			return 0;
		i += n;
	}
	return 1;
}

static unsigned count_lines(const char *s, size_t len)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* ---- base64 ---- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Standard padded base64 (RFC 4648 §4), canonical only: padding exactly
 * where needed and zero pad bits, so one value has one text. Any length
 * (signatures of unknown keys may be long); decodes the first cap bytes
 * into out and only checks the rest. *total is the decoded length.
 * fw_b64_decode needs the length in advance, which a signature of an
 * unknown key does not have.
 */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *total)
{
	size_t i, o = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], pad = 0, j;
		uint32_t w;

		for (j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)s[i + j];

			if (c == '=') {
				/* only at the very end, and never in the first two */
				if (i + 4 != len || j < 2)
					return -1;
				v[j] = 0;
				pad++;
			} else {
				if (pad)
					return -1;
				v[j] = b64_value(c);
				if (v[j] < 0)
					return -1;
			}
		}
		/* bits the padding drops must be zero (canonical form) */
		if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
			return -1;
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		for (j = 0; j < 3 - pad; j++, o++) {
			if (o < cap)
				out[o] = (uint8_t)(w >> (16 - 8 * j));
		}
	}
	*total = o;
	return 0;
}

/* ---- keys ---- */

static int key_id(const char *name, size_t len, const uint8_t pub[32], uint32_t *id)
{
	static const uint8_t sep[2] = {0x0a, 0x01}; /* newline, type Ed25519 */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	unsigned int hl = 0;
	int ok;

	ok = md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, name, len) == 1 && EVP_DigestUpdate(md, sep, 2) == 1 &&
	     EVP_DigestUpdate(md, pub, 32) == 1 && EVP_DigestFinal_ex(md, h, &hl) == 1 && hl == 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return FW_E_CRYPTO;
	*id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	return FW_OK;
}

static int key_init_n(struct fw_note_key *k, const char *name, size_t len, const uint8_t pub[32])
{
	struct fw_note_key t;
	int rc;

	if (len == 0 || len > FW_NOTE_NAME_MAX || !name_valid(name, len))
		return FW_E_ARG;
	memset(&t, 0, sizeof(t));
	memcpy(t.name, name, len);
	memcpy(t.pub, pub, 32);
	rc = key_id(name, len, pub, &t.id);
	if (rc != FW_OK)
		return rc;
	*k = t;
	return FW_OK;
}

int fw_note_key_init(struct fw_note_key *k, const char *name, const uint8_t pub[32])
{
	if (k == NULL || name == NULL || pub == NULL)
		return FW_E_ARG;
	return key_init_n(k, name, strnlen(name, FW_NOTE_NAME_MAX + 1), pub);
}

int fw_note_vkey_format(const struct fw_note_key *k, char *out, size_t cap)
{
	uint8_t raw[33];
	char b64[KEY_B64_LEN + 1];
	size_t nlen;
	int w;

	if (k == NULL || out == NULL)
		return FW_E_ARG;
	nlen = strnlen(k->name, sizeof(k->name));
	if (nlen == 0 || nlen > FW_NOTE_NAME_MAX || !name_valid(k->name, nlen))
		return FW_E_ARG;
	raw[0] = 0x01;
	memcpy(raw + 1, k->pub, 32);
	fw_b64_encode(raw, sizeof(raw), b64);
	if (cap < nlen + 1 + 8 + 1 + KEY_B64_LEN + 1)
		return FW_E_TOO_LARGE;
	w = snprintf(out, cap, "%.*s+%08lx+%s", (int)nlen, k->name, (unsigned long)k->id, b64);
	return w > 0 && (size_t)w < cap ? FW_OK : FW_E_INTERNAL;
}

int fw_note_vkey_parse(const char *s, struct fw_note_key *out, struct fw_diag *d)
{
	const size_t max = FW_NOTE_NAME_MAX + 1 + 8 + 1 + KEY_B64_LEN;
	struct fw_note_key k;
	const char *plus, *b64;
	char hex[9];
	uint8_t idb[4], raw[33];
	uint32_t id;
	size_t len, nlen, total = 0;
	int rc;

	if (s == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "vkey: no key given");
	len = strnlen(s, max + 1);
	if (len > max)
		return fw_diag_set(d, FW_E_KEY, "vkey: longer than %zu bytes", max);
	/* <name>+<hex8 id>+<base64(type || key)>; names never hold '+' */
	plus = memchr(s, '+', len);
	if (plus == NULL)
		return fw_diag_set(d, FW_E_KEY, "vkey: not <name>+<key id>+<key>");
	nlen = (size_t)(plus - s);
	if (nlen == 0 || nlen > FW_NOTE_NAME_MAX || !name_valid(s, nlen))
		return fw_diag_set(d, FW_E_KEY,
		                   "vkey: key name is empty or has spaces, '+' or control characters");
	if (len - nlen < 1 + 8 + 1 || plus[9] != '+')
		return fw_diag_set(d, FW_E_KEY, "vkey: key id is not 8 hex digits followed by '+'");
	memcpy(hex, plus + 1, 8);
	hex[8] = '\0';
	if (fw_hex_decode(hex, idb, 4) != FW_OK)
		return fw_diag_set(d, FW_E_KEY, "vkey: key id \"%s\" is not 8 hex digits", hex);
	id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
	b64 = plus + 10;
	if (b64_decode(b64, len - nlen - 10, raw, sizeof(raw), &total) != 0)
		return fw_diag_set(d, FW_E_KEY, "vkey: key is not canonical base64");
	if (total == 0 || raw[0] != 0x01)
		return fw_diag_set(d, FW_E_KEY,
		                   "vkey: signature type 0x%02x is not supported (only Ed25519, 0x01)",
		                   total ? raw[0] : 0);
	if (total != 33)
		return fw_diag_set(d, FW_E_KEY, "vkey: Ed25519 key has %zu bytes, not 32", total - 1);
	rc = key_init_n(&k, s, nlen, raw + 1);
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "vkey: cannot compute the key id");
	/* the id is derived from name and key: a mismatch is a wrong or
	 * edited vkey, never something to repair */
	if (k.id != id)
		return fw_diag_set(d, FW_E_KEY, "vkey: key id %08lx does not match the key (%08lx)",
		                   (unsigned long)id, (unsigned long)k.id);
	*out = k;
	return FW_OK;
}

/* ---- signing ---- */

int fw_note_sign(const char *text, const char *name, const struct fw_key *key, char **out,
                 struct fw_diag *d)
{
	struct fw_note_key nk;
	struct fwv_key fk;
	uint8_t blob[SIG_BLOB_LEN];
	char b64[SIG_B64_LEN + 1];
	size_t tlen, nlen, total;
	char *buf;
	int rc;

	if (text == NULL || name == NULL || key == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "note: missing argument");
	if (fw_key_alg(key) != FW_KEY_ALG_ED25519)
		return fw_diag_set(d, FW_E_KEY, "note: signed notes need an Ed25519 key");
	fw_key_to_fwv(key, &fk);
	if (fk.pub == NULL || fk.pub_len != 32)
		return fw_diag_set(d, FW_E_KEY, "note: cannot read the Ed25519 public key");
	rc = fw_note_key_init(&nk, name, fk.pub);
	if (rc != FW_OK)
		return fw_diag_set(d, rc,
		                   rc == FW_E_ARG ? "note: key name \"%.80s\" is empty, longer than 255 "
		                                    "bytes or has spaces, '+' or control characters"
		                                  : "note: cannot compute the key id of \"%.80s\"",
		                   name);
	nlen = strlen(nk.name);
	tlen = strnlen(text, FW_NOTE_MAX + 1);
	total = tlen + 1 + SIG_PREFIX_LEN + nlen + 1 + SIG_B64_LEN + 1;
	if (total > FW_NOTE_MAX)
		return fw_diag_set(d, FW_E_TOO_LARGE, "note: the signed note would exceed %d bytes",
		                   FW_NOTE_MAX);
	/* what we sign we must be able to verify: same rules as the parser,
	 * and no blank line (the last one would become the separator) */
	if (tlen == 0 || text[tlen - 1] != '\n')
		return fw_diag_set(d, FW_E_ARG, "note: text must end with a newline");
	rc = check_chars(text, tlen, 1, FW_E_ARG, d);
	if (rc != FW_OK)
		return rc;
	if (text[0] == '\n' || strstr(text, "\n\n") != NULL)
		return fw_diag_set(d, FW_E_ARG, "note: text has an empty line");

	blob[0] = (uint8_t)(nk.id >> 24);
	blob[1] = (uint8_t)(nk.id >> 16);
	blob[2] = (uint8_t)(nk.id >> 8);
	blob[3] = (uint8_t)nk.id;
	rc = fw_key_sign(key, (const uint8_t *)text, tlen, blob + 4, d);
	if (rc != FW_OK)
		return rc;
	fw_b64_encode(blob, sizeof(blob), b64);
	buf = malloc(total + 1);
	if (buf == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "note: out of memory");
	memcpy(buf, text, tlen);
	buf[tlen] = '\n';
	memcpy(buf + tlen + 1, SIG_PREFIX, SIG_PREFIX_LEN);
	memcpy(buf + tlen + 1 + SIG_PREFIX_LEN, nk.name, nlen);
	buf[tlen + 1 + SIG_PREFIX_LEN + nlen] = ' ';
	memcpy(buf + tlen + 2 + SIG_PREFIX_LEN + nlen, b64, SIG_B64_LEN);
	buf[total - 1] = '\n';
	buf[total] = '\0';
	*out = buf;
	return FW_OK;
}

/* ---- verification ---- */

/* What parsing found about the one key we check. */
struct note_parse {
	size_t text_len;
	unsigned sigs;        /* signature lines */
	unsigned match_line;  /* 0: no line by the key */
	unsigned dup_line;    /* a second line by the key */
	uint8_t blob[SIG_BLOB_LEN];
	size_t blob_len;
};

static int parse_sig_line(const char *line, size_t len, unsigned no, const struct fw_note_key *key,
                          struct note_parse *np, struct fw_diag *d)
{
	const char *name, *sp, *b64;
	uint8_t blob[SIG_BLOB_LEN];
	size_t nlen, total = 0;
	uint32_t id;

	if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return fw_diag_set(d, FW_E_NOTE,
		                   "line %u: signature line does not start with an em dash (U+2014) "
		                   "and a space",
		                   no);
	/* bounded work: refuse before decoding more than the cap */
	if (++np->sigs > FW_NOTE_MAX_SIGS)
		return fw_diag_set(d, FW_E_NOTE, "line %u: more than %d signatures", no,
		                   FW_NOTE_MAX_SIGS);
	name = line + SIG_PREFIX_LEN;
	sp = memchr(name, ' ', len - SIG_PREFIX_LEN);
	if (sp == NULL)
		return fw_diag_set(d, FW_E_NOTE,
		                   "line %u: no space between the key name and the signature", no);
	nlen = (size_t)(sp - name);
	if (!name_valid(name, nlen))
		return fw_diag_set(d, FW_E_NOTE,
		                   "line %u: key name is empty or has spaces, '+' or control characters",
		                   no);
	b64 = sp + 1;
	if (b64_decode(b64, (size_t)(line + len - b64), blob, sizeof(blob), &total) != 0)
		return fw_diag_set(d, FW_E_NOTE, "line %u: signature is not canonical base64", no);
	if (total < 5)
		return fw_diag_set(d, FW_E_NOTE,
		                   "line %u: signature has %zu bytes, fewer than a key id and a signature",
		                   no, total);
	id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	/* only the exact (name, id) pair is our key; same name or same id
	 * alone is another key and is ignored (signed-note §Signatures) */
	if (id != key->id || nlen != strlen(key->name) || memcmp(name, key->name, nlen) != 0)
		return FW_OK;
	/* one key signs a text once: a second line is refused when the
	 * signature is judged (FW_E_SIGNATURE, as Go), so that FW_E_NOTE
	 * stays a property of the text alone, whatever the key */
	if (np->match_line != 0) {
		if (np->dup_line == 0)
			np->dup_line = no;
		return FW_OK;
	}
	np->match_line = no;
	np->blob_len = total;
	memcpy(np->blob, blob, total < sizeof(blob) ? total : sizeof(blob));
	return FW_OK;
}

/* Everything but the signature check: the layout, the characters, every
 * signature line, and where the key's signature is. */
static int note_parse(const char *note, size_t len, const struct fw_note_key *key,
                      struct note_parse *np, struct fw_diag *d)
{
	size_t split, pos;
	unsigned no;
	int rc;

	memset(np, 0, sizeof(*np));
	if (note == NULL || key == NULL)
		return fw_diag_set(d, FW_E_ARG, "note: missing argument");
	/* bounded input: a note is a few hundred bytes */
	if (len > FW_NOTE_MAX)
		return fw_diag_set(d, FW_E_NOTE, "note: %zu bytes, more than the limit of %d", len,
		                   FW_NOTE_MAX);
	if (len == 0)
		return fw_diag_set(d, FW_E_NOTE, "line 1: empty note");
	rc = check_chars(note, len, 1, FW_E_NOTE, d);
	if (rc != FW_OK)
		return rc;
	if (note[len - 1] != '\n')
		return fw_diag_set(d, FW_E_NOTE, "line %u: no newline at the end of the note",
		                   count_lines(note, len) + 1);
	/* the separator is the last blank line: the last "\n\n" */
	for (split = len - 1; split > 0; split--) {
		if (note[split - 1] == '\n' && note[split] == '\n')
			break;
	}
	if (split == 0)
		return fw_diag_set(d, FW_E_NOTE,
		                   "line %u: no blank line between the text and the signatures",
		                   count_lines(note, len));
	/* note[split-1..split] is "\n\n": the text ends at split (its final
	 * newline included), the blank line is note[split] */
	np->text_len = split;
	pos = split + 1;
	no = count_lines(note, split) + 2;
	if (pos == len)
		return fw_diag_set(d, FW_E_NOTE, "line %u: no signature after the blank line", no);
	while (pos < len) {
		const char *eol = memchr(note + pos, '\n', len - pos); /* ends in \n: found */

		rc = parse_sig_line(note + pos, (size_t)(eol - (note + pos)), no, key, np, d);
		if (rc != FW_OK)
			return rc;
		pos = (size_t)(eol - note) + 1;
		no++;
	}
	return FW_OK;
}

static int note_check_sig(const char *note, const struct fw_note_key *key,
                          const struct note_parse *np, struct fw_diag *d)
{
	int v;

	if (np->match_line == 0)
		return fw_diag_set(d, FW_E_NOT_FOUND,
		                   "note: no signature by %s+%08lx (%u signature%s of other keys ignored)",
		                   key->name, (unsigned long)key->id, np->sigs, np->sigs == 1 ? "" : "s");
	if (np->dup_line != 0)
		return fw_diag_set(d, FW_E_SIGNATURE,
		                   "line %u: second signature by %s+%08lx (first on line %u)",
		                   np->dup_line, key->name, (unsigned long)key->id, np->match_line);
	if (np->blob_len != SIG_BLOB_LEN)
		return fw_diag_set(d, FW_E_SIGNATURE,
		                   "line %u: signature by %s+%08lx has %zu bytes, not %d", np->match_line,
		                   key->name, (unsigned long)key->id, np->blob_len - 4, ED25519_SIG_LEN);
	v = fwv_port_openssl()->verify(FWV_KEY_ED25519, key->pub, 32, (const uint8_t *)note,
	                               np->text_len, np->blob + 4);
	if (v < 0)
		return fw_diag_set(d, FW_E_CRYPTO,
		                   "line %u: could not check the signature by %s+%08lx (crypto failure)",
		                   np->match_line, key->name, (unsigned long)key->id);
	if (v > 0)
		return fw_diag_set(d, FW_E_SIGNATURE, "line %u: signature by %s+%08lx does not verify",
		                   np->match_line, key->name, (unsigned long)key->id);
	return FW_OK;
}

int fw_note_verify(const char *note, size_t len, const struct fw_note_key *key, size_t *text_len,
                   struct fw_diag *d)
{
	struct note_parse np;
	int rc;

	rc = note_parse(note, len, key, &np, d);
	if (rc == FW_OK)
		rc = note_check_sig(note, key, &np, d);
	if (rc == FW_OK && text_len != NULL)
		*text_len = np.text_len;
	return rc;
}

/* ---- checkpoints ---- */

int fw_checkpoint_format(const struct fw_checkpoint *c, char **out)
{
	char b64[ROOT_B64_LEN + 1], *buf;
	size_t olen, cap;

	if (c == NULL || out == NULL)
		return FW_E_ARG;
	olen = strnlen(c->origin, sizeof(c->origin));
	/* what we format must parse: one non-empty line of text */
	if (olen == 0 || olen > FW_ORIGIN_MAX || memchr(c->origin, '\n', olen) != NULL ||
	    check_chars(c->origin, olen, 1, FW_E_ARG, NULL) != FW_OK)
		return FW_E_ARG;
	fw_b64_encode(c->root, FW_HASH_LEN, b64);
	cap = olen + 1 + 20 + 1 + ROOT_B64_LEN + 2;
	buf = malloc(cap);
	if (buf == NULL)
		return FW_E_NOMEM;
	snprintf(buf, cap, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, b64);
	*out = buf;
	return FW_OK;
}

/* Tree size: ASCII decimal, no sign, no leading zero (but "0"), 64 bits. */
static int parse_size(const char *s, size_t len, unsigned no, uint64_t *out, struct fw_diag *d)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return fw_diag_set(d, FW_E_NOTE, "line %u: empty tree size", no);
	for (i = 0; i < len; i++) {
		unsigned dig;

		if (s[i] < '0' || s[i] > '9')
			return fw_diag_set(d, FW_E_NOTE, "line %u: tree size is not a decimal number",
			                   no);
		dig = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dig) / 10)
			return fw_diag_set(d, FW_E_NOTE, "line %u: tree size does not fit in 64 bits",
			                   no);
		v = v * 10 + dig;
	}
	/* one size, one text: "07" and "0" + "7" are not the same note */
	if (len > 1 && s[0] == '0')
		return fw_diag_set(d, FW_E_NOTE, "line %u: tree size has a leading zero", no);
	*out = v;
	return FW_OK;
}

int fw_checkpoint_parse(const char *text, size_t len, struct fw_checkpoint *out,
                        struct fw_diag *d)
{
	struct fw_checkpoint c;
	size_t pos = 0, total = 0;
	unsigned no = 1;
	int rc;

	if (text == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "checkpoint: missing argument");
	if (len > FW_NOTE_MAX)
		return fw_diag_set(d, FW_E_NOTE, "checkpoint: %zu bytes, more than the limit of %d",
		                   len, FW_NOTE_MAX);
	rc = check_chars(text, len, 1, FW_E_NOTE, d);
	if (rc != FW_OK)
		return rc;
	if (len == 0 || text[len - 1] != '\n')
		return fw_diag_set(d, FW_E_NOTE, "line %u: checkpoint does not end with a newline",
		                   count_lines(text, len) + 1);
	memset(&c, 0, sizeof(c));
	while (pos < len) {
		const char *line = text + pos;
		const char *eol = memchr(line, '\n', len - pos); /* text ends in \n: found */
		size_t n = (size_t)(eol - line);
		uint8_t root[FW_HASH_LEN + 1];

		if (n == 0)
			return fw_diag_set(d, FW_E_NOTE, "line %u: empty line in the checkpoint", no);
		if (no == 1) {
			if (n > FW_ORIGIN_MAX)
				return fw_diag_set(d, FW_E_NOTE, "line 1: origin longer than %d bytes",
				                   FW_ORIGIN_MAX);
			memcpy(c.origin, line, n);
		} else if (no == 2) {
			rc = parse_size(line, n, no, &c.size, d);
			if (rc != FW_OK)
				return rc;
		} else if (no == 3) {
			if (b64_decode(line, n, root, sizeof(root), &total) != 0)
				return fw_diag_set(d, FW_E_NOTE, "line 3: root hash is not canonical base64");
			if (total != FW_HASH_LEN)
				return fw_diag_set(d, FW_E_NOTE, "line 3: root hash has %zu bytes, not %d",
				                   total, FW_HASH_LEN);
			memcpy(c.root, root, FW_HASH_LEN);
		}
		/* lines 4 on: extension lines, non-empty, not interpreted */
		pos += n + 1;
		no++;
	}
	if (no <= 3)
		return fw_diag_set(d, FW_E_NOTE, "line %u: checkpoint has no %s", no,
		                   no == 2 ? "tree size" : "root hash");
	*out = c;
	return FW_OK;
}

int fw_checkpoint_open(const char *note, size_t len, const struct fw_note_key *key,
                       const char *origin, struct fw_checkpoint *out, struct fw_diag *d)
{
	struct note_parse np;
	struct fw_checkpoint c;
	int rc;

	if (out == NULL)
		return fw_diag_set(d, FW_E_ARG, "checkpoint: missing argument");
	rc = note_parse(note, len, key, &np, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_checkpoint_parse(note, np.text_len, &c, d);
	if (rc != FW_OK)
		return rc;
	/* another log's checkpoint says so before its signature is judged:
	 * the clearer message, and either way it is refused */
	if (origin != NULL && strcmp(c.origin, origin) != 0)
		return fw_diag_set(d, FW_E_ORIGIN, "checkpoint: origin \"%s\", expected \"%s\"",
		                   c.origin, origin);
	rc = note_check_sig(note, key, &np, d);
	if (rc != FW_OK)
		return rc;
	*out = c;
	return FW_OK;
}
