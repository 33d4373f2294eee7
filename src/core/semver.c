/*
 * Semantic Versioning 2.0.0 versions and version ranges (core.h).
 * Hand-written: the grammar is small, the text is untrusted (manifests,
 * campaign targeting) and eligibility parses and compares versions for every
 * device of a fleet, so there is no heap, no locale and no stdio on the
 * success path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* Why a parse failed, before it becomes a message. */
struct perr {
	int rc;
	size_t pos; /* 0-based offset of the offending byte in the parsed text */
	char why[96];
};

static int fail(struct perr *e, int rc, size_t pos, const char *fmt, ...) FW_PRINTF(4, 5);
static int fail(struct perr *e, int rc, size_t pos, const char *fmt, ...)
{
	va_list ap;

	e->rc = rc;
	e->pos = pos;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return rc;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

/* A byte for a message: 'x' when printable, 0x.. otherwise. */
static const char *chr(char c, char buf[8])
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x20 && u < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", u);
	return buf;
}

/* Untrusted text for a message the CLI prints: control and non-ASCII bytes
 * become '?', and it is cut to cap-1 bytes ending in "...". cap >= 8. */
static const char *quote(char *dst, size_t cap, const char *s, size_t n)
{
	size_t k, m = n;

	if (m > cap - 1)
		m = cap - 4;
	for (k = 0; k < m; k++) {
		unsigned char u = (unsigned char)s[k];

		dst[k] = (u >= 0x20 && u < 0x7f) ? s[k] : '?';
	}
	if (m < n) {
		memcpy(dst + m, "...", 3);
		m += 3;
	}
	dst[m] = '\0';
	return dst;
}

/* Length of s, looking at no more than max+1 bytes. */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

static const char *const field_name[3] = {"major", "minor", "patch"};

/* Parses exactly s[0..n) (not NUL-terminated: ranges parse their terms in
 * place). */
static int parse_ver(const char *s, size_t n, struct fw_semver *out, struct perr *e)
{
	struct fw_semver v;
	uint64_t num[3];
	size_t i = 0, f, start, pre;
	char cb[8];

	if (n == 0)
		return fail(e, FW_E_FORMAT, 0, "empty version");
	if (n > FW_SEMVER_MAX)
		return fail(e, FW_E_TOO_LARGE, FW_SEMVER_MAX, "version longer than %d bytes",
		            FW_SEMVER_MAX);
	if ((s[0] == 'v' || s[0] == 'V') && n > 1 && is_digit(s[1]))
		return fail(e, FW_E_FORMAT, 0, "leading '%c' is not part of a version", s[0]);

	for (f = 0; f < 3; f++) {
		uint64_t x = 0;

		start = i;
		if (i == n || !is_digit(s[i])) {
			if (i == n || s[i] == '.' || s[i] == '-' || s[i] == '+')
				return fail(e, FW_E_FORMAT, i, "empty %s", field_name[f]);
			return fail(e, FW_E_FORMAT, i, "invalid character %s in %s", chr(s[i], cb),
			            field_name[f]);
		}
		if (s[i] == '0' && i + 1 < n && is_digit(s[i + 1]))
			return fail(e, FW_E_FORMAT, i, "leading zero in %s", field_name[f]);
		for (; i < n && is_digit(s[i]); i++) {
			unsigned dg = (unsigned)(s[i] - '0');

			/* the number comes from the text: it must fit before it is stored */
			if (x > (UINT64_MAX - dg) / 10)
				return fail(e, FW_E_FORMAT, start, "%s does not fit in 64 bits",
				            field_name[f]);
			x = x * 10 + dg;
		}
		num[f] = x;
		if (f == 2)
			break;
		if (i == n || s[i] == '-' || s[i] == '+')
			return fail(e, FW_E_FORMAT, i, "missing %s", field_name[f + 1]);
		if (s[i] != '.')
			return fail(e, FW_E_FORMAT, i, "invalid character %s in %s", chr(s[i], cb),
			            field_name[f]);
		i++;
	}
	if (i < n && s[i] == '.')
		return fail(e, FW_E_FORMAT, i, "unexpected '.' after patch");
	if (i < n && s[i] != '-' && s[i] != '+')
		return fail(e, FW_E_FORMAT, i, "invalid character %s in patch", chr(s[i], cb));

	memset(&v, 0, sizeof(v));
	v.major = num[0];
	v.minor = num[1];
	v.patch = num[2];

	if (i < n && s[i] == '-') {
		pre = ++i;
		for (;;) {
			size_t id = i;
			int numeric = 1;

			for (; i < n && s[i] != '.' && s[i] != '+'; i++) {
				if (!is_ident(s[i]))
					return fail(e, FW_E_FORMAT, i, "invalid character %s in pre-release",
					            chr(s[i], cb));
				if (!is_digit(s[i]))
					numeric = 0;
			}
			if (i == id)
				return fail(e, FW_E_FORMAT, i, "empty pre-release identifier");
			if (numeric && i - id > 1 && s[id] == '0')
				return fail(e, FW_E_FORMAT, id,
				            "leading zero in numeric pre-release identifier '%.*s'",
				            (int)(i - id > 40 ? 40 : i - id), s + id);
			if (i == n || s[i] == '+')
				break;
			i++;
		}
		/* cannot overflow: n <= FW_SEMVER_MAX and "0.0.0-" came first */
		if (i - pre >= sizeof(v.pre))
			return fail(e, FW_E_TOO_LARGE, pre, "pre-release too long");
		memcpy(v.pre, s + pre, i - pre);
	}
	if (i < n && s[i] == '+') {
		i++;
		for (;;) {
			size_t id = i;

			for (; i < n && s[i] != '.'; i++)
				if (!is_ident(s[i]))
					return fail(e, FW_E_FORMAT, i,
					            "invalid character %s in build metadata", chr(s[i], cb));
			if (i == id)
				return fail(e, FW_E_FORMAT, i, "empty build metadata identifier");
			if (i == n)
				break;
			i++;
		}
	}
	*out = v;
	return FW_OK;
}

int fw_semver_parse(const char *s, struct fw_semver *out, struct fw_diag *d)
{
	struct fw_semver v;
	struct perr e;
	char q[FW_SEMVER_MAX + 8];
	size_t n;

	if (s == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "version: no input or no output");
	n = bounded_len(s, FW_SEMVER_MAX);
	if (parse_ver(s, n, &v, &e) != FW_OK) {
		if (n == 0)
			return fw_diag_set(d, e.rc, "empty version");
		quote(q, n > FW_SEMVER_MAX ? 32 : sizeof(q), s, n);
		return fw_diag_set(d, e.rc, "%s: %s at byte %zu", q, e.why, e.pos + 1);
	}
	*out = v;
	return FW_OK;
}

/* Length of a pre-release string, bounded in case the struct was not made
 * by fw_semver_parse. */
static size_t pre_len(const struct fw_semver *v)
{
	size_t n = 0;

	while (n < sizeof(v->pre) - 1 && v->pre[n] != '\0')
		n++;
	return n;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* §11.4: identifiers left to right; numeric ones compare as numbers (here as
 * decimal text: no width limit), numeric < alphanumeric, alphanumeric ones
 * by ASCII, and a longer list wins when all before are equal. */
static int cmp_pre(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	for (;;) {
		size_t ai, bj, al, bl, k;
		int anum = 1, bnum = 1, c;

		if (i >= an || j >= bn)
			return (i < an) - (j < bn);
		for (ai = i; i < an && a[i] != '.'; i++)
			anum &= is_digit(a[i]);
		for (bj = j; j < bn && b[j] != '.'; j++)
			bnum &= is_digit(b[j]);
		al = i - ai;
		bl = j - bj;
		if (anum != bnum)
			return anum ? -1 : 1;
		if (anum) {
			/* no leading zeros after fw_semver_parse; skip any anyway */
			while (al > 1 && a[ai] == '0') {
				ai++;
				al--;
			}
			while (bl > 1 && b[bj] == '0') {
				bj++;
				bl--;
			}
			if (al != bl)
				return al < bl ? -1 : 1;
		}
		k = al < bl ? al : bl;
		c = memcmp(a + ai, b + bj, k);
		if (c != 0)
			return c < 0 ? -1 : 1;
		if (al != bl)
			return al < bl ? -1 : 1;
		i++; /* past '.' (or past the end: the check above stops the loop) */
		j++;
	}
}

int fw_semver_cmp(const struct fw_semver *a, const struct fw_semver *b)
{
	int c;

	if ((c = cmp_u64(a->major, b->major)) != 0 || (c = cmp_u64(a->minor, b->minor)) != 0 ||
	    (c = cmp_u64(a->patch, b->patch)) != 0)
		return c;
	/* §11.3: a pre-release is below the same version without one */
	if (a->pre[0] == '\0' || b->pre[0] == '\0')
		return (a->pre[0] == '\0') - (b->pre[0] == '\0');
	return cmp_pre(a->pre, pre_len(a), b->pre, pre_len(b));
}

/* Appends to a bounded buffer and counts what it would need, like snprintf. */
struct sbuf {
	char *p;
	size_t cap, len;
};

static void put(struct sbuf *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;

		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put_u64(struct sbuf *o, uint64_t x)
{
	char b[20];
	size_t k = sizeof(b);

	do {
		b[--k] = (char)('0' + x % 10);
		x /= 10;
	} while (x != 0);
	put(o, b + k, sizeof(b) - k);
}

static void put_version(struct sbuf *o, const struct fw_semver *v)
{
	put_u64(o, v->major);
	put(o, ".", 1);
	put_u64(o, v->minor);
	put(o, ".", 1);
	put_u64(o, v->patch);
	if (v->pre[0] != '\0') {
		put(o, "-", 1);
		put(o, v->pre, pre_len(v));
	}
}

static void finish(struct sbuf *o)
{
	if (o->cap > 0)
		o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

void fw_semver_format(const struct fw_semver *v, char out[FW_SEMVER_MAX + 64])
{
	/* 3 x 20 digits, 2 dots, '-', 63 bytes of pre-release: 126 < 128 */
	struct sbuf o = {out, FW_SEMVER_MAX + 64, 0};

	put_version(&o, v);
	finish(&o);
}

static const char *op_text(int op)
{
	switch (op) {
	case FW_RANGE_EQ: return "=";
	case FW_RANGE_GT: return ">";
	case FW_RANGE_GE: return ">=";
	case FW_RANGE_LT: return "<";
	case FW_RANGE_LE: return "<=";
	default: return "?";
	}
}

static size_t range_text(const struct fw_range *r, char *out, size_t cap)
{
	struct sbuf o = {out, cap, 0};
	size_t k, n = r->n < FW_RANGE_MAX_TERMS ? r->n : FW_RANGE_MAX_TERMS;

	for (k = 0; k < n; k++) {
		const char *op = op_text(r->t[k].op);

		if (k > 0) {
			if (r->t[k].alt != r->t[k - 1].alt)
				put(&o, " || ", 4);
			else
				put(&o, " ", 1);
		}
		put(&o, op, strlen(op));
		put_version(&o, &r->t[k].v);
	}
	finish(&o);
	return o.len;
}

void fw_range_format(const struct fw_range *r, char *out, size_t cap)
{
	(void)range_text(r, out, cap);
}

static int term_match(const struct fw_range_term *t, const struct fw_semver *v)
{
	int c = fw_semver_cmp(v, &t->v);

	switch (t->op) {
	case FW_RANGE_EQ: return c == 0;
	case FW_RANGE_GT: return c > 0;
	case FW_RANGE_GE: return c >= 0;
	case FW_RANGE_LT: return c < 0;
	case FW_RANGE_LE: return c <= 0;
	default: return 0; /* not a term fw_range_parse made: match nothing */
	}
}

int fw_range_match(const struct fw_range *r, const struct fw_semver *v)
{
	size_t k, n = r->n < FW_RANGE_MAX_TERMS ? r->n : FW_RANGE_MAX_TERMS;
	int ok = 0;

	for (k = 0; k < n; k++) {
		if (k == 0 || r->t[k].alt != r->t[k - 1].alt) {
			if (ok)
				return 1;
			ok = 1;
		}
		if (ok && !term_match(&r->t[k], v))
			ok = 0;
	}
	return ok;
}

/* Where each term is in the range text, for messages. */
struct span {
	size_t at, len;
};

static int is_top(const struct fw_semver *v)
{
	return v->major == UINT64_MAX && v->minor == UINT64_MAX && v->patch == UINT64_MAX &&
	       v->pre[0] == '\0';
}

static int is_bottom(const struct fw_semver *v)
{
	return v->major == 0 && v->minor == 0 && v->patch == 0 && strcmp(v->pre, "0") == 0;
}

/* 1 if u is the version right after l in precedence (nothing lies strictly
 * between them): l-P is followed by l-P.0, and l without a pre-release by the
 * next patch (or minor, or major) with pre-release "0". l is not the top. */
static int is_successor(const struct fw_semver *l, const struct fw_semver *u)
{
	size_t ln = pre_len(l);

	if (ln > 0)
		return u->major == l->major && u->minor == l->minor && u->patch == l->patch &&
		       pre_len(u) == ln + 2 && memcmp(u->pre, l->pre, ln) == 0 &&
		       memcmp(u->pre + ln, ".0", 2) == 0;
	if (strcmp(u->pre, "0") != 0)
		return 0;
	if (l->patch != UINT64_MAX)
		return u->major == l->major && u->minor == l->minor && u->patch == l->patch + 1;
	if (l->minor != UINT64_MAX)
		return u->major == l->major && u->minor == l->minor + 1 && u->patch == 0;
	return u->major == l->major + 1 && u->minor == 0 && u->patch == 0;
}

/*
 * An alternative no version can satisfy is a mistake in the targeting (it
 * would silently select nothing): refuse it. Terms t[a..b) are one
 * alternative; the tightest lower and upper bounds decide.
 */
static int check_alt(const struct fw_range *r, size_t a, size_t b, const char *s,
                     const struct span *sp, struct fw_diag *d)
{
	size_t k, lo = SIZE_MAX, hi = SIZE_MAX;
	int lo_x = 0, hi_x = 0, c, alt = r->t[a].alt + 1;
	char q1[48], q2[48];

	for (k = a; k < b; k++) {
		int op = r->t[k].op;

		if (op == FW_RANGE_GE || op == FW_RANGE_GT || op == FW_RANGE_EQ) {
			int x = op == FW_RANGE_GT;

			if (lo == SIZE_MAX || (c = fw_semver_cmp(&r->t[k].v, &r->t[lo].v)) > 0 ||
			    (c == 0 && x && !lo_x)) {
				lo = k;
				lo_x = x;
			}
		}
		if (op == FW_RANGE_LE || op == FW_RANGE_LT || op == FW_RANGE_EQ) {
			int x = op == FW_RANGE_LT;

			if (hi == SIZE_MAX || (c = fw_semver_cmp(&r->t[k].v, &r->t[hi].v)) < 0 ||
			    (c == 0 && x && !hi_x)) {
				hi = k;
				hi_x = x;
			}
		}
	}
	if (lo != SIZE_MAX && lo_x && is_top(&r->t[lo].v))
		return fw_diag_set(d, FW_E_FORMAT,
		                   "alternative %d can never match: no version is above '%s' (byte %zu)",
		                   alt, quote(q1, sizeof(q1), s + sp[lo].at, sp[lo].len),
		                   sp[lo].at + 1);
	if (hi != SIZE_MAX && hi_x && is_bottom(&r->t[hi].v))
		return fw_diag_set(d, FW_E_FORMAT,
		                   "alternative %d can never match: no version is below '%s' (byte %zu)",
		                   alt, quote(q1, sizeof(q1), s + sp[hi].at, sp[hi].len),
		                   sp[hi].at + 1);
	if (lo == SIZE_MAX || hi == SIZE_MAX)
		return FW_OK;
	c = fw_semver_cmp(&r->t[lo].v, &r->t[hi].v);
	quote(q1, sizeof(q1), s + sp[lo].at, sp[lo].len);
	quote(q2, sizeof(q2), s + sp[hi].at, sp[hi].len);
	if (c > 0)
		return fw_diag_set(d, FW_E_FORMAT,
		                   "alternative %d can never match: lower bound '%s' (byte %zu) is "
		                   "above upper bound '%s' (byte %zu)",
		                   alt, q1, sp[lo].at + 1, q2, sp[hi].at + 1);
	if ((c == 0 && (lo_x || hi_x)) ||
	    (lo_x && hi_x && is_successor(&r->t[lo].v, &r->t[hi].v)))
		return fw_diag_set(d, FW_E_FORMAT,
		                   "alternative %d can never match: no version is both '%s' (byte %zu) "
		                   "and '%s' (byte %zu)",
		                   alt, q1, sp[lo].at + 1, q2, sp[hi].at + 1);
	return FW_OK;
}

/* Operators are the leading run of punctuation other than '.', so that "~1.2",
 * "^1.2", "!=1.2" or "=>1.2" are named as unknown operators, not bad versions. */
static int is_opchar(char c)
{
	return (c >= '!' && c <= '/' && c != '.') || (c >= ':' && c <= '@') ||
	       (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

static int parse_term(const char *s, size_t at, size_t end, struct fw_range_term *t,
                      struct fw_diag *d)
{
	static const struct {
		const char *text;
		int op;
	} ops[] = {{">=", FW_RANGE_GE}, {"<=", FW_RANGE_LE}, {">", FW_RANGE_GT},
	           {"<", FW_RANGE_LT},  {"=", FW_RANGE_EQ},  {"", FW_RANGE_EQ}};
	size_t p = at, k;
	struct perr e;
	char q[72], qo[24];
	int rc;

	while (p < end && is_opchar(s[p]))
		p++;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (strlen(ops[k].text) == p - at && memcmp(ops[k].text, s + at, p - at) == 0)
			break;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return fw_diag_set(d, FW_E_FORMAT,
		                   "term '%s' at byte %zu: unknown operator '%s' (known: >= > <= < =)",
		                   quote(q, sizeof(q), s + at, end - at), at + 1,
		                   quote(qo, sizeof(qo), s + at, p - at));
	if (p == end)
		return fw_diag_set(d, FW_E_FORMAT,
		                   "term '%s' at byte %zu: operator without a version (write the "
		                   "version right after it, no space)",
		                   quote(q, sizeof(q), s + at, end - at), at + 1);
	t->op = ops[k].op;
	rc = parse_ver(s + p, end - p, &t->v, &e);
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "term '%s' at byte %zu: %s at byte %zu",
		                   quote(q, sizeof(q), s + at, end - at), at + 1, e.why,
		                   p + e.pos + 1);
	return FW_OK;
}

int fw_range_parse(const char *s, struct fw_range *out, struct fw_diag *d)
{
	struct fw_range r;
	struct span sp[FW_RANGE_MAX_TERMS];
	size_t n, i = 0, first = 0, bar = 0, len;
	int rc;
	char q[72];

	if (s == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "range: no input or no output");
	n = bounded_len(s, FW_RANGE_MAX);
	if (n > FW_RANGE_MAX)
		return fw_diag_set(d, FW_E_TOO_LARGE, "range '%s' is longer than %d bytes",
		                   quote(q, 40, s, n), FW_RANGE_MAX);
	/* zeroed, then copied whole: padding, the bytes after each pre-release's
	 * NUL and the unused terms of *out are zero, so equal ranges compare
	 * equal byte for byte */
	memset(&r, 0, sizeof(r));
	for (;;) {
		size_t at;

		while (i < n && s[i] == ' ')
			i++;
		if (i < n && s[i] == '|' && (i + 1 == n || s[i + 1] != '|'))
			return fw_diag_set(d, FW_E_FORMAT,
			                   "single '|' at byte %zu (alternatives are separated by '||')",
			                   i + 1);
		if (i == n || s[i] == '|') {
			/* the end of an alternative */
			if (r.n == first) {
				if (i == n && r.nalt == 0)
					return fw_diag_set(d, FW_E_FORMAT, "empty range");
				return fw_diag_set(d, FW_E_FORMAT,
				                   "empty alternative %d: no comparator %s '||' at byte %zu",
				                   r.nalt + 1, i == n ? "after" : "before",
				                   (i == n ? bar : i) + 1);
			}
			if ((rc = check_alt(&r, first, r.n, s, sp, d)) != FW_OK)
				return rc;
			r.nalt++;
			if (i == n)
				break;
			bar = i;
			i += 2;
			first = r.n;
			continue;
		}
		for (at = i; i < n && s[i] != ' ' && s[i] != '|'; i++)
			;
		if (r.n == FW_RANGE_MAX_TERMS)
			return fw_diag_set(d, FW_E_TOO_LARGE,
			                   "term '%s' at byte %zu: more than %d comparators in a range",
			                   quote(q, sizeof(q), s + at, i - at), at + 1,
			                   FW_RANGE_MAX_TERMS);
		if ((rc = parse_term(s, at, i, &r.t[r.n], d)) != FW_OK)
			return rc;
		r.t[r.n].alt = r.nalt;
		sp[r.n].at = at;
		sp[r.n].len = i - at;
		r.n++;
	}
	/* the canonical text can be longer than the input ("=" written out,
	 * spaces around "||"): keep it within the limit so it parses back */
	len = range_text(&r, NULL, 0);
	if (len > FW_RANGE_MAX)
		return fw_diag_set(d, FW_E_TOO_LARGE,
		                   "range '%s' would be %zu bytes in canonical form, over %d",
		                   quote(q, 40, s, n), len, FW_RANGE_MAX);
	memcpy(out, &r, sizeof(*out));
	return FW_OK;
}
