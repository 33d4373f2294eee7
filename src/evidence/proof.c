/*
 * Proof files: c2sp.org/tlog-proof@v1 (an inclusion proof with the signed
 * checkpoint it is relative to) and fwtrust-consistency/v1 (a consistency
 * proof between two tree sizes).
 *
 * Both arrive from untrusted bundles. The parsers read exact lines,
 * canonical decimal and canonical base64 only, at most
 * FW_MERKLE_MAX_PROOF hashes, and refuse anything else (the optional
 * tlog-proof "extra" line too: nothing here would use it, so it is not
 * accepted). They check the syntax only: whether a proof proves anything
 * is fw_merkle_verify_*'s job, and the embedded note is fw_checkpoint_open's.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

#define TLOG_PROOF_MAGIC "c2sp.org/tlog-proof@v1"
#define CONSISTENCY_MAGIC "fwtrust-consistency/v1"
#define HASH_B64_LEN 44
/* the proof part of a file: three header lines of at most 30 bytes each
 * and the hashes; a tlog-proof adds one note */
#define PROOF_TEXT_MAX (3 * 32 + FW_MERKLE_MAX_PROOF * (HASH_B64_LEN + 1))
#define TLOG_PROOF_MAX (PROOF_TEXT_MAX + 1 + FW_NOTE_MAX)

struct lines {
	const char *s;
	size_t len, pos;
	unsigned no; /* number of the next line, from 1 */
};

/* The next line, without its "\n". Only called while pos < len. */
static int next_line(struct lines *l, const char **line, size_t *n, struct fw_diag *d)
{
	const char *p = l->s + l->pos;
	const char *eol = memchr(p, '\n', l->len - l->pos);
	size_t i, k;

	if (eol == NULL)
		return fw_diag_set(d, FW_E_NOTE, "line %u: no newline at the end of the line", l->no);
	k = (size_t)(eol - p);
	/* the lines are matched exactly anyway; this only names the usual
	 * culprits (CRLF files, binary junk) */
	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			return fw_diag_set(d, FW_E_NOTE,
			                   "line %u: carriage return (lines must end in \\n only)", l->no);
		if (c < 0x20 || c == 0x7f)
			return fw_diag_set(d, FW_E_NOTE, "line %u: control character 0x%02x", l->no, c);
	}
	*line = p;
	*n = k;
	l->pos += k + 1;
	l->no++;
	return FW_OK;
}

static int next_required(struct lines *l, const char *what, const char **line, size_t *n,
                         struct fw_diag *d)
{
	if (l->pos >= l->len)
		return fw_diag_set(d, FW_E_NOTE, "line %u: missing %s", l->no, what);
	return next_line(l, line, n, d);
}

/* "<key> <decimal>": no sign, no leading zero (but "0"), 64 bits. */
static int keyed_u64(const char *line, size_t n, const char *key, unsigned no, uint64_t *out,
                     struct fw_diag *d)
{
	size_t klen = strlen(key), i;
	uint64_t v = 0;

	if (n <= klen + 1 || memcmp(line, key, klen) != 0 || line[klen] != ' ')
		return fw_diag_set(d, FW_E_NOTE, "line %u: expected \"%s <number>\"", no, key);
	line += klen + 1;
	n -= klen + 1;
	for (i = 0; i < n; i++) {
		unsigned dig;

		if (line[i] < '0' || line[i] > '9')
			return fw_diag_set(d, FW_E_NOTE, "line %u: %s is not a decimal number", no, key);
		dig = (unsigned)(line[i] - '0');
		if (v > (UINT64_MAX - dig) / 10)
			return fw_diag_set(d, FW_E_NOTE, "line %u: %s does not fit in 64 bits", no, key);
		v = v * 10 + dig;
	}
	if (n > 1 && line[0] == '0')
		return fw_diag_set(d, FW_E_NOTE, "line %u: %s has a leading zero", no, key);
	*out = v;
	return FW_OK;
}

/* One hash line into p->hashes[p->n]; at most FW_MERKLE_MAX_PROOF of them. */
static int hash_line(const char *line, size_t n, unsigned no, size_t *count,
                     uint8_t (*hashes)[FW_HASH_LEN], struct fw_diag *d)
{
	if (*count >= FW_MERKLE_MAX_PROOF)
		return fw_diag_set(d, FW_E_NOTE, "line %u: more than %d proof hashes", no,
		                   FW_MERKLE_MAX_PROOF);
	/* fw_b64_decode takes the canonical text of exactly 32 bytes only */
	if (fw_b64_decode(line, n, hashes[*count], FW_HASH_LEN) != FW_OK)
		return fw_diag_set(d, FW_E_NOTE, "line %u: not the canonical base64 of a %d-byte hash",
		                   no, FW_HASH_LEN);
	(*count)++;
	return FW_OK;
}

/* "<b64>\n" for each hash, appended at buf + *o (room checked by callers) */
static void put_hashes(char *buf, size_t *o, const uint8_t (*hashes)[FW_HASH_LEN], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fw_b64_encode(hashes[i], FW_HASH_LEN, buf + *o);
		*o += HASH_B64_LEN;
		buf[(*o)++] = '\n';
	}
}

/* ---- c2sp.org/tlog-proof@v1 ---- */

int fw_tlog_proof_format(uint64_t index, const uint8_t (*hashes)[FW_HASH_LEN], size_t n,
                         const char *note, char **out)
{
	size_t nlen, cap, o;
	char *buf;
	int w;

	if ((hashes == NULL && n > 0) || n > FW_MERKLE_MAX_PROOF || note == NULL || out == NULL)
		return FW_E_ARG;
	nlen = strnlen(note, FW_NOTE_MAX + 1);
	if (nlen > FW_NOTE_MAX)
		return FW_E_TOO_LARGE;
	if (nlen == 0 || note[nlen - 1] != '\n')
		return FW_E_ARG; /* a signed note ends with its last signature line */
	cap = sizeof(TLOG_PROOF_MAGIC) + 6 + 20 + 1 + n * (HASH_B64_LEN + 1) + 1 + nlen + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return FW_E_NOMEM;
	w = snprintf(buf, cap, TLOG_PROOF_MAGIC "\nindex %llu\n", (unsigned long long)index);
	if (w < 0 || (size_t)w >= cap) {
		free(buf);
		return FW_E_INTERNAL;
	}
	o = (size_t)w;
	put_hashes(buf, &o, hashes, n);
	buf[o++] = '\n';
	memcpy(buf + o, note, nlen);
	o += nlen;
	buf[o] = '\0';
	*out = buf;
	return FW_OK;
}

int fw_tlog_proof_parse(const char *s, size_t len, struct fw_tlog_proof *out, struct fw_diag *d)
{
	struct fw_tlog_proof p;
	struct lines l = {s, len, 0, 1};
	const char *line;
	size_t n;
	int rc;

	if (s == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "tlog-proof: missing argument");
	if (len > TLOG_PROOF_MAX)
		return fw_diag_set(d, FW_E_NOTE, "tlog-proof: %zu bytes, more than the limit of %d",
		                   len, TLOG_PROOF_MAX);
	memset(&p, 0, sizeof(p));
	rc = next_required(&l, "the c2sp.org/tlog-proof@v1 line", &line, &n, d);
	if (rc != FW_OK)
		return rc;
	if (n != sizeof(TLOG_PROOF_MAGIC) - 1 || memcmp(line, TLOG_PROOF_MAGIC, n) != 0)
		return fw_diag_set(d, FW_E_NOTE, "line 1: not a c2sp.org/tlog-proof@v1 file");
	rc = next_required(&l, "the index line", &line, &n, d);
	if (rc != FW_OK)
		return rc;
	/* unauthenticated application data we have no use for: default deny */
	if (n >= 5 && memcmp(line, "extra", 5) == 0 && (n == 5 || line[5] == ' '))
		return fw_diag_set(d, FW_E_NOTE, "line 2: extra data is not supported");
	rc = keyed_u64(line, n, "index", 2, &p.index, d);
	if (rc != FW_OK)
		return rc;
	for (;;) {
		rc = next_required(&l, "the blank line before the checkpoint", &line, &n, d);
		if (rc != FW_OK)
			return rc;
		if (n == 0)
			break;
		rc = hash_line(line, n, l.no - 1, &p.n, p.hashes, d);
		if (rc != FW_OK)
			return rc;
	}
	/* the rest, verbatim, is the note; checked when it is opened */
	if (l.pos >= len)
		return fw_diag_set(d, FW_E_NOTE, "line %u: no checkpoint after the blank line", l.no);
	p.note_len = len - l.pos;
	if (p.note_len > FW_NOTE_MAX)
		return fw_diag_set(d, FW_E_NOTE, "line %u: checkpoint of %zu bytes, more than %d",
		                   l.no, p.note_len, FW_NOTE_MAX);
	p.note = malloc(p.note_len + 1);
	if (p.note == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "tlog-proof: out of memory");
	memcpy(p.note, s + l.pos, p.note_len);
	p.note[p.note_len] = '\0';
	*out = p;
	return FW_OK;
}

void fw_tlog_proof_clear(struct fw_tlog_proof *p)
{
	if (p == NULL)
		return;
	free(p->note);
	memset(p, 0, sizeof(*p));
}

/* ---- fwtrust-consistency/v1 ---- */

int fw_consistency_format(const struct fw_consistency_proof *p, char **out)
{
	size_t cap, o;
	char *buf;
	int w;

	/* what we write must parse: see fw_consistency_parse */
	if (p == NULL || out == NULL || p->old_size == 0 || p->old_size > p->new_size ||
	    p->n > FW_MERKLE_MAX_PROOF)
		return FW_E_ARG;
	cap = sizeof(CONSISTENCY_MAGIC) + 2 * (4 + 20 + 1) + p->n * (HASH_B64_LEN + 1) + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return FW_E_NOMEM;
	w = snprintf(buf, cap, CONSISTENCY_MAGIC "\nold %llu\nnew %llu\n",
	             (unsigned long long)p->old_size, (unsigned long long)p->new_size);
	if (w < 0 || (size_t)w >= cap) {
		free(buf);
		return FW_E_INTERNAL;
	}
	o = (size_t)w;
	put_hashes(buf, &o, (const uint8_t(*)[FW_HASH_LEN])p->hashes, p->n);
	buf[o] = '\0';
	*out = buf;
	return FW_OK;
}

int fw_consistency_parse(const char *s, size_t len, struct fw_consistency_proof *out,
                         struct fw_diag *d)
{
	struct fw_consistency_proof p;
	struct lines l = {s, len, 0, 1};
	const char *line;
	size_t n;
	int rc;

	if (s == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "consistency proof: missing argument");
	if (len > PROOF_TEXT_MAX)
		return fw_diag_set(d, FW_E_NOTE,
		                   "consistency proof: %zu bytes, more than the limit of %d", len,
		                   PROOF_TEXT_MAX);
	memset(&p, 0, sizeof(p));
	rc = next_required(&l, "the " CONSISTENCY_MAGIC " line", &line, &n, d);
	if (rc != FW_OK)
		return rc;
	if (n != sizeof(CONSISTENCY_MAGIC) - 1 || memcmp(line, CONSISTENCY_MAGIC, n) != 0)
		return fw_diag_set(d, FW_E_NOTE, "line 1: not a " CONSISTENCY_MAGIC " file");
	rc = next_required(&l, "the old size", &line, &n, d);
	if (rc == FW_OK)
		rc = keyed_u64(line, n, "old", 2, &p.old_size, d);
	if (rc != FW_OK)
		return rc;
	rc = next_required(&l, "the new size", &line, &n, d);
	if (rc == FW_OK)
		rc = keyed_u64(line, n, "new", 3, &p.new_size, d);
	if (rc != FW_OK)
		return rc;
	/* every tree extends the empty one: such a proof would prove nothing */
	if (p.old_size == 0)
		return fw_diag_set(d, FW_E_NOTE, "line 2: old size 0 (nothing to be consistent with)");
	if (p.old_size > p.new_size)
		return fw_diag_set(d, FW_E_NOTE, "line 3: new size %llu is below old size %llu",
		                   (unsigned long long)p.new_size, (unsigned long long)p.old_size);
	while (l.pos < len) {
		rc = next_line(&l, &line, &n, d);
		if (rc != FW_OK)
			return rc;
		if (n == 0)
			return fw_diag_set(d, FW_E_NOTE, "line %u: empty line", l.no - 1);
		rc = hash_line(line, n, l.no - 1, &p.n, p.hashes, d);
		if (rc != FW_OK)
			return rc;
	}
	*out = p;
	return FW_OK;
}
