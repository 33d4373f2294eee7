/*
 * Device file parser (registry.h, "device files"). CSV is a hand-written state machine (no
 * packaged CSV library reports the line and column of every error and
 * enforces per-field limits while it reads): it copies each record's
 * unescaped fields into one record buffer as it goes, so a record may
 * straddle any number of reads and nothing is allocated per row; the hot
 * loops copy runs of ordinary bytes eight at a time. JSON lines are cut at
 * '\n' in the read buffer and given to jansson one line at a time.
 *
 * Every byte is untrusted. Sizes are bounded before bytes are copied: a
 * run is cut at the room left in the field and in the record (each output
 * byte costs at least one input byte of the record), so the record buffer
 * cannot overflow, and the limits are reported as FW_E_TOO_LARGE.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Input buffer: larger than a record so a whole JSON line always fits.
 * Not much more: reads of 96 KiB already cost nothing next to the parsing,
 * and allocators serve blocks below 128 KiB from their pools, not mmap
 * (ASan's too: a fuzzer parses thousands of small files a second). */
#define READ_SIZE (96 * 1024)
/* Record buffer: the record's bytes, one NUL per stored field, slack. */
#define OUT_SIZE (FW_DEVFILE_MAX_RECORD + 64)
#define PROGRESS_EVERY 4096
/* Header fields stored: one more than the columns, so a header with too
 * many fields always shows an unknown or duplicate name among them. */
#define NSTORE (FW_DEVCOL_COUNT + 1)
#define NAME_SHOWN 48 /* bytes of an untrusted name quoted in a message */

static const char *const col_names[FW_DEVCOL_COUNT] = {
	"device_id", "product",       "family",    "hw_revision", "fw_version",
	"cohorts",   "support_until", "lifecycle", "certificate",
};
static const char known_cols[] = "device_id, product, family, hw_revision, fw_version, "
                                 "cohorts, support_until, lifecycle, certificate";

static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};

/* Bytes that end a run of field content (outside / inside quotes). */
static const unsigned char stop_plain[256] = {
	[0] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1,
};
static const unsigned char stop_quoted[256] = {
	[0] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1,
};

/* Copy the run of ordinary bytes at the start of p[0, n) to o; returns its
 * length. Eight bytes at a time (SWAR: a byte equal to c makes
 * (x ^ c*0x01..) have a zero byte, and (v - 0x01..) & ~v & 0x80.. is
 * non-zero exactly when v has one), the rest byte by byte. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define HAS_ZERO(v) (((v) - ONES) & ~(v) & HIGHS)
#define HAS_BYTE(x, c) HAS_ZERO((x) ^ (ONES * (c)))
/* some byte is below c (c <= 128): all the special bytes are below ',' + 1,
 * so ordinary text usually passes this one test */
#define HAS_LESS(x, c) (((x) - ONES * (c)) & ~(x) & HIGHS)
/* Little-endian: the lowest flagged byte is exact (a borrow only runs
 * upwards from a zero byte), so it is the first special one. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_HIT(m) ((size_t)__builtin_ctzll(m) >> 3)
#endif

static size_t run_plain(const unsigned char *p, size_t n, unsigned char *o)
{
	size_t i = 0;
	uint64_t x, m;

	while (n - i >= 8) {
		memcpy(&x, p + i, 8);
		m = HAS_LESS(x, ',' + 1);
		if (m != 0)
			m = HAS_ZERO(x) | HAS_BYTE(x, ',') | HAS_BYTE(x, '\n') | HAS_BYTE(x, '\r') |
			    HAS_BYTE(x, '"');
		/* o has room for all of p[0, n): a whole word may be stored */
		memcpy(o + i, &x, 8);
		if (m != 0) {
#ifdef FIRST_HIT
			return i + FIRST_HIT(m);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && !stop_plain[p[i]]) {
		o[i] = p[i];
		i++;
	}
	return i;
}

static size_t run_quoted(const unsigned char *p, size_t n, unsigned char *o)
{
	size_t i = 0;
	uint64_t x, m;

	while (n - i >= 8) {
		memcpy(&x, p + i, 8);
		m = HAS_LESS(x, '"' + 1);
		if (m != 0)
			m = HAS_ZERO(x) | HAS_BYTE(x, '\n') | HAS_BYTE(x, '\r') | HAS_BYTE(x, '"');
		/* o has room for all of p[0, n): a whole word may be stored */
		memcpy(o + i, &x, 8);
		if (m != 0) {
#ifdef FIRST_HIT
			return i + FIRST_HIT(m);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && !stop_quoted[p[i]]) {
		o[i] = p[i];
		i++;
	}
	return i;
}

const char *fw_devcol_name(int col)
{
	if (col < 0 || col >= FW_DEVCOL_COUNT)
		return "?";
	return col_names[col];
}

static int is_required(int col)
{
	return col != FW_DEVCOL_COHORTS && col != FW_DEVCOL_CERTIFICATE;
}

static int col_lookup(const char *s, size_t len)
{
	int i;

	for (i = 0; i < FW_DEVCOL_COUNT; i++) {
		if (strlen(col_names[i]) == len && memcmp(col_names[i], s, len) == 0)
			return i;
	}
	return -1;
}

/* Untrusted text for a message: printable ASCII as is, other bytes (and
 * '\\') as \xNN, at most max bytes of s, "..." when cut. */
static void clean(char *out, size_t cap, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == max) {
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			if (o + 2 > cap)
				break;
			out[o++] = (char)ch;
		} else {
			if (o + 5 > cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

void fw_devrow_where(const struct fw_devrow *row, int col, char *out, size_t cap)
{
	if (out == NULL || cap == 0)
		return;
	if (row == NULL) {
		out[0] = '\0';
		return;
	}
	if (col < 0 || col >= FW_DEVCOL_COUNT)
		snprintf(out, cap, "line %" PRIu64, row->line);
	else if (row->format == FW_DEVFILE_JSONL)
		snprintf(out, cap, "line %" PRIu64 ", field \"%s\"", row->line, col_names[col]);
	else if (row->col[col] > 0)
		snprintf(out, cap, "line %" PRIu64 ", column %d (%s)", row->line, row->col[col],
		         col_names[col]);
	else
		snprintf(out, cap, "line %" PRIu64 " (no %s column)", row->line, col_names[col]);
}

/* ---- input ---- */

struct rd {
	FILE *f;
	unsigned char *buf; /* READ_SIZE bytes */
	size_t end;         /* bytes in buf */
	uint64_t base;      /* bytes consumed before buf[0] */
	int eof;
};

/* Keep buf[from, end) (moved to the front) and read after it. fread
 * returns short only at end of file or on an error. */
static int rd_fill(struct rd *r, size_t from, uint64_t line, struct fw_diag *d)
{
	size_t keep = r->end - from, want, n;

	if (keep > 0 && from > 0)
		memmove(r->buf, r->buf + from, keep);
	r->base += from;
	r->end = keep;
	if (r->eof)
		return FW_OK;
	want = READ_SIZE - keep;
	if (want == 0) /* callers keep less than a record: cannot happen */
		return fw_diag_set(d, FW_E_INTERNAL, "line %" PRIu64 ": read buffer full", line);
	errno = 0;
	n = fread(r->buf + keep, 1, want, r->f);
	r->end += n;
	if (n < want) {
		if (ferror(r->f))
			return fw_diag_set(d, FW_E_IO, "line %" PRIu64 ": read error: %s", line,
			                   errno ? strerror(errno) : "unknown error");
		r->eof = 1;
	}
	return FW_OK;
}

struct ctx {
	struct rd r;
	fw_devrow_fn fn;
	void *arg;
	fw_devfile_progress_fn progress;
	void *parg;
	uint64_t rows;
	struct fw_diag *d;
};

/* Hand a complete row to the callback; its error is returned unchanged. */
static int emit(struct ctx *c, const struct fw_devrow *row, uint64_t bytes)
{
	int rc = c->fn(c->arg, row, c->d);

	if (rc != FW_OK)
		return rc;
	c->rows++;
	if (c->progress != NULL && c->rows % PROGRESS_EVERY == 0)
		c->progress(c->parg, bytes);
	return FW_OK;
}

/* ---- CSV ---- */

enum {
	S_REC,    /* at the start of a line, between records */
	S_REC_CR, /* '\r' at the start of a line: an empty CRLF line */
	S_FIELD,  /* at the start of a field */
	S_PLAIN,  /* in an unquoted field */
	S_QUOTED, /* in a quoted field */
	S_QQ,     /* '"' in a quoted field: "" or the closing quote */
	S_CR      /* '\r' after a field: CRLF */
};

struct csv {
	struct ctx *c;
	unsigned char *out;       /* the record's fields, each NUL-ended */
	unsigned char *fstart;    /* where the current field's bytes start in out */
	uint64_t line;            /* current line */
	uint64_t rec_line;        /* line where the record starts */
	uint64_t fline;           /* line where the field starts */
	size_t rec_raw;           /* input bytes of the record so far */
	size_t flimit;            /* largest value of the current field */
	int fi;                   /* 0-based position of the current field */
	int fcol;                 /* its column; -1 in the header or past the header's count */
	int keep;                 /* stored; else dropped (past the header's count) */
	int nl_ok;                /* may contain line breaks (certificate only) */
	int ncols;                /* fields of the header; 0 while reading it */
	int map[NSTORE];          /* position -> column */
	int pos[FW_DEVCOL_COUNT]; /* column -> position, -1 when absent */
	size_t off[NSTORE], len[NSTORE];
	struct fw_devrow row; /* absent columns filled in once, after the header */
};

/* "line L, column C (name): reason" about the current field. */
static int field_err(struct csv *s, int err, uint64_t line, const char *fmt, ...) FW_PRINTF(4, 5);
static int field_err(struct csv *s, int err, uint64_t line, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (s->fcol >= 0)
		return fw_diag_set(s->c->d, err, "line %" PRIu64 ", column %d (%s): %s", line,
		                   s->fi + 1, col_names[s->fcol], why);
	return fw_diag_set(s->c->d, err, "line %" PRIu64 ", column %d: %s", line, s->fi + 1, why);
}

static void field_begin(struct csv *s, unsigned char *o)
{
	s->fstart = o;
	s->fline = s->line;
	if (s->ncols == 0) {
		s->fcol = -1;
		s->keep = s->fi < NSTORE;
		s->nl_ok = 0;
		s->flimit = FW_DEVFILE_MAX_FIELD;
	} else if (s->fi < s->ncols) {
		s->fcol = s->map[s->fi];
		s->keep = 1;
		s->nl_ok = s->fcol == FW_DEVCOL_CERTIFICATE;
		s->flimit = s->nl_ok ? FW_DEVFILE_MAX_CERT : FW_DEVFILE_MAX_FIELD;
	} else {
		/* past the header's count: only counted, for the message at the
		 * record's end; the record limit bounds it */
		s->fcol = -1;
		s->keep = 0;
		s->nl_ok = 1;
		s->flimit = FW_DEVFILE_MAX_RECORD;
	}
}

/* The current field or the record is over its limit (cheap, inlined). */
static int is_over(const struct csv *s, const unsigned char *o)
{
	return (size_t)(o - s->fstart) > s->flimit || s->rec_raw > FW_DEVFILE_MAX_RECORD;
}

static int size_err(struct csv *s, const unsigned char *o)
{
	if ((size_t)(o - s->fstart) > s->flimit)
		return field_err(s, FW_E_TOO_LARGE, s->fline, "field longer than %zu bytes",
		                 s->flimit);
	if (s->rec_raw > FW_DEVFILE_MAX_RECORD)
		return fw_diag_set(s->c->d, FW_E_TOO_LARGE,
		                   "line %" PRIu64 ": record longer than %d bytes", s->rec_line,
		                   FW_DEVFILE_MAX_RECORD);
	return fw_diag_set(s->c->d, FW_E_INTERNAL, "line %" PRIu64 ": size", s->rec_line);
}

/* Input bytes the next run may take: one more than fits, so an overlong
 * field or record is seen at the next is_over. */
static size_t room(const struct csv *s, const unsigned char *o)
{
	size_t f = s->flimit - (size_t)(o - s->fstart);
	size_t r = FW_DEVFILE_MAX_RECORD - s->rec_raw;

	return (f < r ? f : r) + 1;
}

static int field_end(struct csv *s, unsigned char **o)
{
	if (is_over(s, *o))
		return size_err(s, *o);
	if (s->keep) {
		s->off[s->fi] = (size_t)(s->fstart - s->out);
		s->len[s->fi] = (size_t)(*o - s->fstart);
		*(*o)++ = '\0';
	} else {
		*o = s->fstart;
	}
	s->fi++;
	return FW_OK;
}

static int header_done(struct csv *s)
{
	struct fw_diag *d = s->c->d;
	char name[NAME_SHOWN * 4 + 8], missing[256];
	int i, k, nf = s->fi;

	for (i = 0; i < nf && i < NSTORE; i++) {
		const char *n = (const char *)s->out + s->off[i];
		size_t len = s->len[i], a = 0, b = len;

		k = col_lookup(n, len);
		if (k < 0) {
			clean(name, sizeof(name), n, len, NAME_SHOWN);
			while (a < b && (n[a] == ' ' || n[a] == '\t'))
				a++;
			while (b > a && (n[b - 1] == ' ' || n[b - 1] == '\t'))
				b--;
			if ((a > 0 || b < len) && col_lookup(n + a, b - a) >= 0)
				return fw_diag_set(d, FW_E_FORMAT,
				                   "line %" PRIu64 ", column %d: column name \"%s\" has "
				                   "surrounding spaces",
				                   s->rec_line, i + 1, name);
			return fw_diag_set(d, FW_E_FORMAT,
			                   "line %" PRIu64 ", column %d: unknown column \"%s\" (known: %s)",
			                   s->rec_line, i + 1, name, known_cols);
		}
		if (s->pos[k] >= 0)
			return fw_diag_set(d, FW_E_FORMAT,
			                   "line %" PRIu64 ", column %d: duplicate column \"%s\" (also "
			                   "column %d)",
			                   s->rec_line, i + 1, col_names[k], s->pos[k] + 1);
		s->pos[k] = i;
		s->map[i] = k;
	}
	if (nf > FW_DEVCOL_COUNT) /* cannot happen: NSTORE names are checked above */
		return fw_diag_set(d, FW_E_INTERNAL, "line %" PRIu64 ": header of %d fields",
		                   s->rec_line, nf);
	missing[0] = '\0';
	for (k = 0; k < FW_DEVCOL_COUNT; k++) {
		if (is_required(k) && s->pos[k] < 0) {
			if (missing[0])
				strcat(missing, ", ");
			strcat(missing, col_names[k]);
		}
	}
	if (missing[0])
		return fw_diag_set(d, FW_E_FORMAT, "line %" PRIu64 ": missing required column%s: %s",
		                   s->rec_line, strchr(missing, ',') ? "s" : "", missing);
	s->ncols = nf;
	for (k = 0; k < FW_DEVCOL_COUNT; k++) {
		s->row.f[k] = "";
		s->row.len[k] = 0;
		s->row.col[k] = s->pos[k] + 1;
	}
	s->row.format = FW_DEVFILE_CSV;
	return FW_OK;
}

static int record_end(struct csv *s, uint64_t bytes)
{
	int k;

	if (s->ncols == 0)
		return header_done(s);
	if (s->fi != s->ncols)
		return fw_diag_set(s->c->d, FW_E_FORMAT, "line %" PRIu64 ": %d field%s, the header has %d",
		                   s->rec_line, s->fi, s->fi == 1 ? "" : "s", s->ncols);
	for (k = 0; k < FW_DEVCOL_COUNT; k++) {
		int p = s->pos[k];

		if (p >= 0) {
			s->row.f[k] = (const char *)s->out + s->off[p];
			s->row.len[k] = s->len[p];
		}
	}
	s->row.line = s->rec_line;
	return emit(s->c, &s->row, bytes);
}

static int csv_parse(struct ctx *c, size_t start)
{
	struct rd *r = &c->r;
	struct csv s;
	const unsigned char *p, *e;
	unsigned char *o;
	size_t n, n2;
	int st = S_REC, rc = FW_OK, k;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.line = 1;
	for (k = 0; k < FW_DEVCOL_COUNT; k++)
		s.pos[k] = -1;
	s.out = malloc(OUT_SIZE);
	if (s.out == NULL)
		return fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
	o = s.fstart = s.out;
	p = r->buf + start;
	e = r->buf + r->end;

	for (;;) {
		if (p == e) {
			rc = rd_fill(r, r->end, s.line, c->d);
			if (rc != FW_OK)
				goto out;
			p = r->buf;
			e = r->buf + r->end;
			if (p == e)
				break;
		}
		switch (st) {
		case S_REC:
			if (*p == '\n') {
				p++;
				s.line++;
				continue;
			}
			if (*p == '\r') {
				p++;
				st = S_REC_CR;
				continue;
			}
			s.rec_line = s.line;
			s.rec_raw = 0;
			s.fi = 0;
			o = s.out;
			field_begin(&s, o);
			st = S_FIELD;
			continue;
		case S_REC_CR:
			if (*p != '\n') {
				rc = fw_diag_set(c->d, FW_E_FORMAT,
				                 "line %" PRIu64 ": carriage return without line feed",
				                 s.line);
				goto out;
			}
			p++;
			s.line++;
			st = S_REC;
			continue;
		case S_FIELD:
		case S_PLAIN:
			if (st == S_FIELD) {
				if (*p == '"') {
					p++;
					s.rec_raw++;
					st = S_QUOTED;
					continue;
				}
				st = S_PLAIN;
			}
			if (is_over(&s, o)) {
				rc = size_err(&s, o);
				goto out;
			}
			n = room(&s, o);
			if (n > (size_t)(e - p))
				n = (size_t)(e - p);
			n2 = run_plain(p, n, o);
			p += n2;
			o += n2;
			s.rec_raw += n2;
			if (n2 == n)
				continue;
			if (*p == '"') {
				rc = field_err(&s, FW_E_FORMAT, s.line,
				               "quote inside an unquoted field (quote the whole field "
				               "and double the quote)");
				goto out;
			}
			if (*p == '\0') {
				rc = field_err(&s, FW_E_FORMAT, s.line, "NUL byte");
				goto out;
			}
			break; /* ',', '\n' or '\r' */
		case S_QUOTED:
			if (is_over(&s, o)) {
				rc = size_err(&s, o);
				goto out;
			}
			n = room(&s, o);
			if (n > (size_t)(e - p))
				n = (size_t)(e - p);
			n2 = run_quoted(p, n, o);
			p += n2;
			o += n2;
			s.rec_raw += n2;
			if (n2 == n)
				continue;
			if (*p == '"') {
				p++;
				s.rec_raw++;
				st = S_QQ;
				continue;
			}
			if (*p == '\0') {
				rc = field_err(&s, FW_E_FORMAT, s.line, "NUL byte");
				goto out;
			}
			/* a line break inside quotes: a PEM certificate has them;
			 * in other values it is a mistake (or an attempt to forge
			 * lines in logs and messages) */
			if (!s.nl_ok) {
				rc = field_err(&s, FW_E_FORMAT, s.line,
				               "line break inside a quoted field (only certificate may "
				               "span lines)");
				goto out;
			}
			if (*p == '\n')
				s.line++;
			*o++ = *p++;
			s.rec_raw++;
			continue;
		case S_QQ:
			if (*p == '"') { /* "" is one quote */
				*o++ = '"';
				p++;
				s.rec_raw++;
				st = S_QUOTED;
				continue;
			}
			if (*p != ',' && *p != '\n' && *p != '\r') {
				rc = field_err(&s, FW_E_FORMAT, s.line, "%s",
				               *p == '\0' ? "NUL byte" : "text after the closing quote");
				goto out;
			}
			break;
		case S_CR:
			if (*p != '\n') {
				rc = fw_diag_set(c->d, FW_E_FORMAT,
				                 "line %" PRIu64 ": carriage return without line feed",
				                 s.line);
				goto out;
			}
			p++;
			rc = record_end(&s, r->base + (uint64_t)(p - r->buf));
			if (rc != FW_OK)
				goto out;
			s.line++;
			st = S_REC;
			continue;
		default:
			rc = fw_diag_set(c->d, FW_E_INTERNAL, "csv: state %d", st);
			goto out;
		}

		/* *p ends a field: ',', '\n' or '\r' */
		if (*p == ',') {
			p++;
			s.rec_raw++;
			rc = field_end(&s, &o);
			if (rc != FW_OK)
				goto out;
			field_begin(&s, o);
			st = S_FIELD;
			continue;
		}
		rc = field_end(&s, &o);
		if (rc != FW_OK)
			goto out;
		if (*p++ == '\r') {
			st = S_CR;
			continue;
		}
		rc = record_end(&s, r->base + (uint64_t)(p - r->buf));
		if (rc != FW_OK)
			goto out;
		s.line++;
		st = S_REC;
	}

	/* end of file */
	switch (st) {
	case S_REC:
		break;
	case S_REC_CR:
	case S_CR:
		rc = fw_diag_set(c->d, FW_E_FORMAT,
		                 "line %" PRIu64 ": carriage return without line feed", s.line);
		goto out;
	case S_QUOTED:
		rc = field_err(&s, FW_E_FORMAT, s.fline,
		               "quoted field not closed before the end of the file");
		goto out;
	default: /* the last record has no line end */
		rc = field_end(&s, &o);
		if (rc == FW_OK)
			rc = record_end(&s, r->base + r->end);
		if (rc != FW_OK)
			goto out;
		break;
	}
	if (s.ncols == 0)
		rc = fw_diag_set(c->d, FW_E_FORMAT, "line %" PRIu64 ": no header (only empty lines)",
		                 s.line);
out:
	free(s.out);
	return rc;
}

/* ---- JSON lines ---- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* "cohorts": ["a", "b"] -> "a;b" in buf (FW_DEVFILE_MAX_FIELD + 1 bytes) */
static int join_cohorts(const json_t *arr, char *buf, size_t *len, uint64_t line,
                        struct fw_diag *d)
{
	size_t i, n = 0;
	json_t *el;

	json_array_foreach(arr, i, el) {
		const char *v = json_string_value(el);
		size_t vl = json_string_length(el);

		if (v == NULL)
			return fw_diag_set(d, FW_E_FORMAT,
			                   "line %" PRIu64 ", field \"cohorts\": element %zu is %s, not a "
			                   "string",
			                   line, i + 1, json_kind(el));
		if (memchr(v, ';', vl) != NULL)
			return fw_diag_set(d, FW_E_FORMAT,
			                   "line %" PRIu64 ", field \"cohorts\": element %zu contains ';'",
			                   line, i + 1);
		if (vl + (i > 0) > FW_DEVFILE_MAX_FIELD - n)
			return fw_diag_set(d, FW_E_TOO_LARGE,
			                   "line %" PRIu64 ", field \"cohorts\": longer than %d bytes",
			                   line, FW_DEVFILE_MAX_FIELD);
		if (i > 0)
			buf[n++] = ';';
		memcpy(buf + n, v, vl);
		n += vl;
	}
	buf[n] = '\0';
	*len = n;
	return FW_OK;
}

static int jsonl_line(struct ctx *c, const char *s, size_t len, uint64_t line, uint64_t bytes)
{
	struct fw_diag *d = c->d;
	char cohorts[FW_DEVFILE_MAX_FIELD + 1], text[NAME_SHOWN * 4 + 8];
	struct fw_devrow row;
	json_error_t je;
	json_t *obj, *v;
	const char *key, *nul;
	size_t i, limit;
	int rc = FW_OK, k;

	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
		;
	if (i == len)
		return FW_OK; /* blank line */
	nul = memchr(s, '\0', len);
	if (nul != NULL)
		return fw_diag_set(d, FW_E_FORMAT, "line %" PRIu64 ", column %zu: NUL byte", line,
		                   (size_t)(nul - s) + 1);
	obj = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (obj == NULL) {
		char why[sizeof(je.text) * 4 + 8];

		clean(why, sizeof(why), je.text, strlen(je.text), sizeof(je.text));
		return fw_diag_set(d, FW_E_FORMAT,
		                   "line %" PRIu64 ", column %d (byte %d): invalid JSON: %s", line,
		                   je.column, je.position, why);
	}
	if (!json_is_object(obj)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "line %" PRIu64 ": %s, not a JSON object", line,
		                 json_kind(obj));
		goto out;
	}
	memset(&row, 0, sizeof(row));
	row.line = line;
	row.format = FW_DEVFILE_JSONL;
	for (k = 0; k < FW_DEVCOL_COUNT; k++)
		row.f[k] = NULL;
	json_object_foreach(obj, key, v) {
		k = col_lookup(key, strlen(key));
		if (k < 0) {
			clean(text, sizeof(text), key, strlen(key), NAME_SHOWN);
			rc = fw_diag_set(d, FW_E_FORMAT,
			                 "line %" PRIu64 ": unknown field \"%s\" (known: %s)", line, text,
			                 known_cols);
			goto out;
		}
		if (json_is_string(v)) {
			row.f[k] = json_string_value(v);
			row.len[k] = json_string_length(v);
			/* jansson refuses \u0000 without JSON_ALLOW_NUL; the
			 * contract says no NUL, so check rather than trust a flag */
			if (memchr(row.f[k], '\0', row.len[k]) != NULL) {
				rc = fw_diag_set(d, FW_E_FORMAT,
				                 "line %" PRIu64 ", field \"%s\": NUL character", line,
				                 col_names[k]);
				goto out;
			}
		} else if (k == FW_DEVCOL_COHORTS && json_is_array(v)) {
			rc = join_cohorts(v, cohorts, &row.len[k], line, d);
			if (rc != FW_OK)
				goto out;
			row.f[k] = cohorts;
		} else {
			rc = fw_diag_set(d, FW_E_FORMAT,
			                 "line %" PRIu64 ", field \"%s\": %s, not a string%s", line,
			                 col_names[k], json_kind(v),
			                 k == FW_DEVCOL_COHORTS ? " or an array of strings" : "");
			goto out;
		}
		limit = k == FW_DEVCOL_CERTIFICATE ? FW_DEVFILE_MAX_CERT : FW_DEVFILE_MAX_FIELD;
		if (row.len[k] > limit) {
			rc = fw_diag_set(d, FW_E_TOO_LARGE,
			                 "line %" PRIu64 ", field \"%s\": longer than %zu bytes", line,
			                 col_names[k], limit);
			goto out;
		}
	}
	for (k = 0; k < FW_DEVCOL_COUNT; k++) {
		if (row.f[k] == NULL && is_required(k)) {
			rc = fw_diag_set(d, FW_E_FORMAT, "line %" PRIu64 ": missing field \"%s\"", line,
			                 col_names[k]);
			goto out;
		}
		if (row.f[k] == NULL)
			row.f[k] = "";
	}
	rc = emit(c, &row, bytes);
out:
	json_decref(obj);
	return rc;
}

static int jsonl_parse(struct ctx *c, size_t p)
{
	struct rd *r = &c->r;
	uint64_t line = 1;
	int rc;

	for (;;) {
		const unsigned char *b = r->buf + p;
		const unsigned char *nl = memchr(b, '\n', r->end - p);
		size_t len, next;

		if (nl == NULL && !r->eof) {
			if (r->end - p > FW_DEVFILE_MAX_RECORD)
				goto too_long;
			rc = rd_fill(r, p, line, c->d);
			if (rc != FW_OK)
				return rc;
			p = 0;
			continue;
		}
		if (nl == NULL && p == r->end)
			return FW_OK;
		len = nl != NULL ? (size_t)(nl - b) : r->end - p;
		if (len > FW_DEVFILE_MAX_RECORD)
			goto too_long;
		next = p + len + (nl != NULL);
		rc = jsonl_line(c, (const char *)b, len, line, r->base + next);
		if (rc != FW_OK)
			return rc;
		p = next;
		line++;
	}
too_long:
	return fw_diag_set(c->d, FW_E_TOO_LARGE, "line %" PRIu64 ": line longer than %d bytes", line,
	                   FW_DEVFILE_MAX_RECORD);
}

/* ---- entry ---- */

int fw_devfile_parse(FILE *f, int format, fw_devrow_fn fn, void *arg,
                     fw_devfile_progress_fn progress, void *parg, uint64_t *rows,
                     struct fw_diag *d)
{
	struct ctx c;
	size_t start = 0, i;
	int rc;

	if (f == NULL || fn == NULL || (format != 0 && format != FW_DEVFILE_CSV &&
	                                format != FW_DEVFILE_JSONL))
		return fw_diag_set(d, FW_E_ARG, "device file: bad argument");
	memset(&c, 0, sizeof(c));
	c.r.f = f;
	c.fn = fn;
	c.arg = arg;
	c.progress = progress;
	c.parg = parg;
	c.d = d;
	c.r.buf = malloc(READ_SIZE);
	if (c.r.buf == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = rd_fill(&c.r, 0, 1, d);
	if (rc != FW_OK)
		goto out;
	if (c.r.end == 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "empty file: no %s",
		                 format == FW_DEVFILE_JSONL ? "rows" : "header");
		goto out;
	}
	if (c.r.end >= sizeof(bom) && memcmp(c.r.buf, bom, sizeof(bom)) == 0)
		start = sizeof(bom);
	if (format == 0) {
		/* the first read is the whole file or READ_SIZE bytes */
		for (i = start; i < c.r.end; i++) {
			unsigned char ch = c.r.buf[i];

			if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
				break;
		}
		format = i < c.r.end && c.r.buf[i] == '{' ? FW_DEVFILE_JSONL : FW_DEVFILE_CSV;
	}
	if (format == FW_DEVFILE_CSV)
		rc = csv_parse(&c, start);
	else
		rc = jsonl_parse(&c, start);
	if (rc != FW_OK)
		goto out;
	if (progress != NULL)
		progress(parg, c.r.base + c.r.end);
	if (rows != NULL)
		*rows = c.rows;
out:
	free(c.r.buf);
	return rc;
}
