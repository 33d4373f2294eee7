/*
 * SemVer 2.0.0 versions and ranges (src/policy/version.c).
 * Version vectors: the valid/invalid lists collected for the official
 * SemVer regex (semver/semver issue #232, https://regex101.com/r/Ly7O1x/3),
 * which other implementations test against too; precedence: the chain in
 * SemVer §11.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "harness.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX64 "18446744073709551615"

static int parse_ok(const char *s, struct fw_semver *v)
{
	struct fw_diag d = {{0}};
	int rc = fw_semver_parse(s, v, &d);

	if (rc != FW_OK)
		harness_fail(__FILE__, __LINE__, "'%s' refused: %s", s, d.msg);
	return rc == FW_OK;
}

static void t_valid(void)
{
	static const char *const valid[] = {
	    "0.0.4", "1.2.3", "10.20.30", "1.1.2-prerelease+meta", "1.1.2+meta",
	    "1.1.2+meta-valid", "1.0.0-alpha", "1.0.0-beta", "1.0.0-alpha.beta",
	    "1.0.0-alpha.beta.1", "1.0.0-alpha.1", "1.0.0-alpha0.valid", "1.0.0-alpha.0valid",
	    "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "1.0.0-rc.1+build.1",
	    "2.0.0-rc.1+build.123", "1.2.3-beta", "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123",
	    "1.0.0", "2.0.0", "1.1.7", "2.0.0+build.1848", "2.0.1-alpha.1227", "1.0.0-alpha+beta",
	    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788", "1.2.3----R-S.12.9.1--.12+meta",
	    "1.2.3----RC-SNAPSHOT.12.9.1--.12", "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
	    "1.0.0-0A.is.legal",
	    /* beyond the list: the uint64 edges, zero identifiers, build zeros */
	    MAX64 "." MAX64 "." MAX64, "0.0.0", "0.0.0-0", "1.0.0-0.0", "1.0.0+001",
	    "1.0.0-99999999999999999999999"};
	struct fw_semver v, w;
	char text[FW_SEMVER_MAX + 64], want[FW_SEMVER_MAX + 1];
	size_t i;

	for (i = 0; i < N(valid); i++) {
		if (!parse_ok(valid[i], &v))
			continue;
		/* canonical text is the input without build metadata */
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(valid[i], "+"), valid[i]);
		fw_semver_format(&v, text);
		if (strcmp(text, want) != 0)
			harness_fail(__FILE__, __LINE__, "'%s' formats as '%s'", valid[i], text);
		CHECK(parse_ok(text, &w) && fw_semver_cmp(&v, &w) == 0);
	}
	CHECK(parse_ok("1.1.2-prerelease+meta", &v));
	CHECK(v.major == 1 && v.minor == 1 && v.patch == 2 && strcmp(v.pre, "prerelease") == 0);
	CHECK(parse_ok(MAX64 ".0.1", &v));
	CHECK(v.major == UINT64_MAX && v.minor == 0 && v.patch == 1 && v.pre[0] == '\0');
}

static void t_invalid(void)
{
	static const char *const invalid[] = {
	    "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123", "+invalid", "-invalid",
	    "-invalid+invalid", "-invalid.01", "alpha", "alpha.beta", "alpha.beta.1", "alpha.1",
	    "alpha+beta", "alpha_beta", "alpha.", "alpha..", "beta", "1.0.0-alpha_beta", "-alpha.",
	    "1.0.0-alpha..", "1.0.0-alpha..1", "1.0.0-alpha...1", "1.0.0-alpha....1",
	    "1.0.0-alpha.....1", "1.0.0-alpha......1", "1.0.0-alpha.......1", "01.1.1", "1.01.1",
	    "1.1.01", "1.2.3.DEV", "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
	    "1.2-RC-SNAPSHOT", "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta",
	    "9.8.7-whatever+meta+meta", "v1.2.3",
	    /* valid in the regex list, but over uint64 here */
	    "99999999999999999999999.999999999.99999999",
	    /* beyond the list */
	    "", "1.2.3-", "1.2.3+", "1.2.3-a+", "1.2.3 ", " 1.2.3", "1.2.3\n", "1.2.3-\xc3\xa9",
	    "1..3", "1.2.", "1.2.3-rc.01", "18446744073709551616.0.0", "0.18446744073709551616.0",
	    "0.0.18446744073709551616", "1.2.x", "V1.2.3", "1.2.3-a_b", "1.2.3+a..b"};
	struct fw_semver v, keep;
	struct fw_diag d;
	size_t i;

	memset(&keep, 0x5a, sizeof(keep));
	for (i = 0; i < N(invalid); i++) {
		v = keep;
		d.msg[0] = '\0';
		if (fw_semver_parse(invalid[i], &v, &d) != FW_E_FORMAT)
			harness_fail(__FILE__, __LINE__, "'%s' not refused as format", invalid[i]);
		CHECK(memcmp(&v, &keep, sizeof(v)) == 0); /* out untouched on failure */
		CHECK(d.msg[0] != '\0');
		CHECK(strchr(d.msg, '\n') == NULL && strchr(d.msg, '\x1b') == NULL);
	}
	/* the over-long regex test is over FW_SEMVER_MAX */
	CHECK_EQ(fw_semver_parse("99999999999999999999999.999999999.99999999.----RC-SNAPSHOT.12.09"
	                         ".1--------------------------------..12",
	                         &v, &d),
	         FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "longer than 64 bytes") != NULL);
	CHECK_EQ(fw_semver_parse(NULL, &v, &d), FW_E_ARG);
	CHECK_EQ(fw_semver_parse("1.0.0", NULL, &d), FW_E_ARG);
	CHECK_EQ(fw_semver_parse("1.0", &v, NULL), FW_E_FORMAT); /* no diag is fine */
}

/* The message says what is wrong and where. */
static void t_messages(void)
{
	static const struct {
		const char *in, *msg;
	} m[] = {
	    {"2.01.0", "2.01.0: leading zero in minor at byte 3"},
	    {"01.1.1", "01.1.1: leading zero in major at byte 1"},
	    {"1.1.01", "1.1.01: leading zero in patch at byte 5"},
	    {"1", "1: missing minor at byte 2"},
	    {"1.2-SNAPSHOT", "1.2-SNAPSHOT: missing patch at byte 4"},
	    {"1..3", "1..3: empty minor at byte 3"},
	    {"1.2.x", "1.2.x: invalid character 'x' in patch at byte 5"},
	    {"1.2.3.DEV", "1.2.3.DEV: unexpected '.' after patch at byte 6"},
	    {"v1.2.3", "v1.2.3: leading 'v' is not part of a version at byte 1"},
	    {"1.2.3-0123", "1.2.3-0123: leading zero in numeric pre-release identifier '0123' at byte 7"},
	    {"1.0.0-alpha..1", "1.0.0-alpha..1: empty pre-release identifier at byte 13"},
	    {"1.0.0-alpha_beta", "1.0.0-alpha_beta: invalid character '_' in pre-release at byte 12"},
	    {"1.1.2+.123", "1.1.2+.123: empty build metadata identifier at byte 7"},
	    {"9.8.7+meta+meta", "9.8.7+meta+meta: invalid character '+' in build metadata at byte 11"},
	    {"99999999999999999999999.999999999.99999999",
	     "99999999999999999999999.999999999.99999999: major does not fit in 64 bits at byte 1"},
	    {"0.18446744073709551616.0", "minor does not fit in 64 bits at byte 3"},
	    {"1.2.3\x1b[0m", "1.2.3?[0m: invalid character 0x1b in patch at byte 6"},
	    {"", "empty version"},
	};
	struct fw_semver v;
	struct fw_diag d;
	size_t i;

	for (i = 0; i < N(m); i++) {
		CHECK(fw_semver_parse(m[i].in, &v, &d) != FW_OK);
		if (strstr(d.msg, m[i].msg) == NULL)
			harness_fail(__FILE__, __LINE__, "'%s': message '%s', expected '%s'", m[i].in,
			             d.msg, m[i].msg);
	}
}

static void t_length_limit(void)
{
	char s[FW_SEMVER_MAX + 2], text[FW_SEMVER_MAX + 64];
	struct fw_semver v;
	struct fw_diag d;

	/* exactly FW_SEMVER_MAX bytes: the longest pre-release (58 bytes) fits */
	memset(s, 'a', sizeof(s));
	memcpy(s, "1.0.0-", 6);
	s[FW_SEMVER_MAX] = '\0';
	CHECK(parse_ok(s, &v));
	CHECK_EQ(strlen(v.pre), FW_SEMVER_MAX - 6);
	fw_semver_format(&v, text);
	CHECK(strcmp(text, s) == 0);
	s[FW_SEMVER_MAX] = 'a';
	s[FW_SEMVER_MAX + 1] = '\0';
	CHECK_EQ(fw_semver_parse(s, &v, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "longer than 64 bytes") != NULL);

	/* the widest text format can be asked for: every number at its maximum
	 * and a pre-release filling the array */
	v.major = v.minor = v.patch = UINT64_MAX;
	memset(v.pre, 'z', sizeof(v.pre));
	v.pre[sizeof(v.pre) - 1] = '\0';
	fw_semver_format(&v, text);
	CHECK_EQ(strlen(text), 3 * 20 + 2 + 1 + FW_SEMVER_MAX - 1);
	/* a hand-made struct without a NUL in pre: bounded, not overread */
	memset(v.pre, 'z', sizeof(v.pre));
	fw_semver_format(&v, text);
	CHECK_EQ(strlen(text), 3 * 20 + 2 + 1 + FW_SEMVER_MAX - 1);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void check_chain(const char *const *chain, size_t n)
{
	struct fw_semver v[16];
	size_t i, j;

	for (i = 0; i < n; i++)
		if (!parse_ok(chain[i], &v[i]))
			return;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int want = (i > j) - (i < j), got = sign(fw_semver_cmp(&v[i], &v[j]));

			if (got != want)
				harness_fail(__FILE__, __LINE__, "cmp(%s, %s) = %d, expected %d", chain[i],
				             chain[j], got, want);
		}
}

static void t_precedence(void)
{
	/* §11.4's example, in order */
	static const char *const spec[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
	                                   "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
	                                   "1.0.0-rc.1",  "1.0.0"};
	/* §11.2's example, then numbers compared as numbers, not text */
	static const char *const core[] = {"1.0.0", "2.0.0", "2.1.0", "2.1.1", "2.9.0", "2.10.0",
	                                   "10.0.0", MAX64 ".0.0", MAX64 "." MAX64 "." MAX64};
	/* numeric < alphanumeric; ASCII order ('-' < digits < upper < lower);
	 * longer wins on a common prefix; numeric identifiers wider than 64 bits */
	static const char *const pre[] = {
	    "1.0.0-0", "1.0.0-0.0", "1.0.0-1", "1.0.0-9", "1.0.0-10", "1.0.0-" MAX64,
	    "1.0.0-18446744073709551616", "1.0.0-99999999999999999999999", "1.0.0--",
	    "1.0.0-0a", "1.0.0-A", "1.0.0-Z", "1.0.0-a", "1.0.0-a.0", "1.0.0-a-", "1.0.0-b"};
	struct fw_semver a, b;

	check_chain(spec, N(spec));
	check_chain(core, N(core));
	check_chain(pre, N(pre));

	/* §10: build metadata has no precedence */
	CHECK(parse_ok("1.0.0+a", &a) && parse_ok("1.0.0+b.2", &b));
	CHECK_EQ(fw_semver_cmp(&a, &b), 0);
	CHECK(parse_ok("1.0.0", &b));
	CHECK_EQ(fw_semver_cmp(&a, &b), 0);
	CHECK(parse_ok("1.0.0-rc.1+build.5", &a) && parse_ok("1.0.0-rc.1", &b));
	CHECK_EQ(fw_semver_cmp(&a, &b), 0);
	CHECK(parse_ok("1.0.0-rc.1+zzz", &a) && parse_ok("1.0.0-rc.2+aaa", &b));
	CHECK(fw_semver_cmp(&a, &b) < 0);
}

static int rparse(const char *s, struct fw_range *r)
{
	struct fw_diag d = {{0}};
	int rc = fw_range_parse(s, r, &d);

	if (rc != FW_OK)
		harness_fail(__FILE__, __LINE__, "range '%s' refused: %s", s, d.msg);
	return rc == FW_OK;
}

/* 1 if version v is in range s (both must parse) */
static int in(const char *s, const char *v)
{
	struct fw_range r;
	struct fw_semver x;

	if (!rparse(s, &r) || !parse_ok(v, &x))
		return -1;
	return fw_range_match(&r, &x);
}

static void t_range_edges(void)
{
	CHECK_EQ(in(">=2.0.0", "2.0.0"), 1);
	CHECK_EQ(in(">=2.0.0", "2.0.0-rc.1"), 0);
	CHECK_EQ(in(">2.0.0", "2.0.0"), 0);
	CHECK_EQ(in(">2.0.0", "2.0.1-0"), 1);
	CHECK_EQ(in(">2.0.0", "2.0.0+build"), 0);
	CHECK_EQ(in("<2.4.1", "2.4.1"), 0);
	CHECK_EQ(in("<2.4.1", "2.4.1-rc.1"), 1);
	CHECK_EQ(in("<2.4.1", "2.4.0"), 1);
	CHECK_EQ(in("<=2.4.0", "2.4.0"), 1);
	CHECK_EQ(in("<=2.4.0", "2.4.1-0"), 0);
	CHECK_EQ(in(">=2.0.0 <2.4.1", "2.4.1-rc.1"), 1);
	CHECK_EQ(in(">=2.0.0 <2.4.1", "2.4.1"), 0);
	CHECK_EQ(in(">=2.0.0 <2.4.1", "1.9.9"), 0);
	CHECK_EQ(in(">=2.0.0 <2.4.1", "2.0.0"), 1);
	CHECK_EQ(in(">=2.0.0 <2.4.1", "2.3.99"), 1);
	CHECK_EQ(in(">=2.0.0 <=2.0.0", "2.0.0"), 1);
	CHECK_EQ(in(">=2.0.0 <=2.0.0", "2.0.0-rc.1"), 0);
	CHECK_EQ(in(">=2.0.0 <=2.0.0", "2.0.1"), 0);
	/* plain precedence: pre-releases of other versions are not excluded */
	CHECK_EQ(in(">=1.0.0", "3.0.0-alpha"), 1);
	/* numbers are numbers */
	CHECK_EQ(in("<2.10.0", "2.9.0"), 1);
	CHECK_EQ(in(">=" MAX64 "." MAX64 "." MAX64, MAX64 "." MAX64 "." MAX64), 1);
}

static void t_range_or_and_bare(void)
{
	static const char *const r2 = ">=1.0.0 <1.2.0 || >=2.0.0 <2.4.1";
	struct fw_range r;
	char text[FW_RANGE_MAX + 1];

	CHECK(rparse(r2, &r));
	CHECK_EQ(r.n, 4);
	CHECK_EQ(r.nalt, 2);
	CHECK(r.t[0].alt == 0 && r.t[1].alt == 0 && r.t[2].alt == 1 && r.t[3].alt == 1);
	CHECK(r.t[0].op == FW_RANGE_GE && r.t[1].op == FW_RANGE_LT);
	CHECK_EQ(in(r2, "0.9.9"), 0);
	CHECK_EQ(in(r2, "1.0.0"), 1);
	CHECK_EQ(in(r2, "1.1.9"), 1);
	CHECK_EQ(in(r2, "1.2.0"), 0);
	CHECK_EQ(in(r2, "1.5.0"), 0);
	CHECK_EQ(in(r2, "2.0.0-rc.1"), 0);
	CHECK_EQ(in(r2, "2.0.0"), 1);
	CHECK_EQ(in(r2, "2.4.1-rc.1"), 1);
	CHECK_EQ(in(r2, "2.4.1"), 0);
	/* the first alternative failing on its first term does not leak into the next */
	CHECK_EQ(in("<1.0.0 >=0.5.0 || =3.0.0 || =4.0.0", "3.0.0"), 1);
	CHECK_EQ(in("<1.0.0 >=0.5.0 || =3.0.0 || =4.0.0", "4.0.0"), 1);
	CHECK_EQ(in("<1.0.0 >=0.5.0 || =3.0.0 || =4.0.0", "0.4.0"), 0);

	/* a bare version means = ; build metadata is dropped from the range too */
	CHECK(rparse("2.3.0", &r));
	CHECK(r.n == 1 && r.t[0].op == FW_RANGE_EQ);
	CHECK_EQ(in("2.3.0", "2.3.0"), 1);
	CHECK_EQ(in("2.3.0", "2.3.0+other.build"), 1);
	CHECK_EQ(in("2.3.0+b.1", "2.3.0"), 1);
	CHECK_EQ(in("2.3.0", "2.3.0-rc.1"), 0);
	CHECK_EQ(in("2.3.0", "2.3.1"), 0);
	CHECK_EQ(in("=2.3.0", "2.3.0"), 1);
	CHECK_EQ(in("=2.3.0-rc.1", "2.3.0-rc.1"), 1);
	CHECK_EQ(in("=2.3.0-rc.1", "2.3.0-rc.1.0"), 0);

	/* canonical text, and it parses back to the same range */
	CHECK(rparse("  >=2.0.0   <2.4.1||2.5.0+b   ||  <=0.1.0 ", &r));
	fw_range_format(&r, text, sizeof(text));
	CHECK(strcmp(text, ">=2.0.0 <2.4.1 || =2.5.0 || <=0.1.0") == 0);
	CHECK(rparse(text, &r));
	fw_range_format(&r, text, sizeof(text));
	CHECK(strcmp(text, ">=2.0.0 <2.4.1 || =2.5.0 || <=0.1.0") == 0);
	/* truncated, always NUL-terminated; cap 0 writes nothing */
	fw_range_format(&r, text, 9);
	CHECK(strcmp(text, ">=2.0.0 ") == 0);
	text[0] = 'x';
	fw_range_format(&r, text, 0);
	CHECK(text[0] == 'x');

	/* a zeroed range matches nothing and formats as "" */
	memset(&r, 0, sizeof(r));
	{
		struct fw_semver v;

		CHECK(parse_ok("0.0.0", &v));
		CHECK_EQ(fw_range_match(&r, &v), 0);
	}
	fw_range_format(&r, text, sizeof(text));
	CHECK(text[0] == '\0');
}

/* Each refusal: the code, and the message names the term (and where). */
static void t_range_refusals(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *msg1, *msg2;
	} m[] = {
	    {"", FW_E_FORMAT, "empty range", ""},
	    {"   ", FW_E_FORMAT, "empty range", ""},
	    {">=1.0.0 ||", FW_E_FORMAT, "empty alternative 2", "after '||' at byte 9"},
	    {">=1.0.0 ||  ", FW_E_FORMAT, "empty alternative 2", "after '||' at byte 9"},
	    {"|| >=1.0.0", FW_E_FORMAT, "empty alternative 1", "before '||' at byte 1"},
	    {">=1.0.0 || || <3.0.0", FW_E_FORMAT, "empty alternative 2", "before '||' at byte 12"},
	    {"||", FW_E_FORMAT, "empty alternative 1", ""},
	    {">=1.0.0 | <2.0.0", FW_E_FORMAT, "single '|' at byte 9", ""},
	    {">=1.0.0|", FW_E_FORMAT, "single '|' at byte 8", ""},
	    {">=1.0.0 |||| <2.0.0", FW_E_FORMAT, "empty alternative 2", ""},
	    {"~1.2.3", FW_E_FORMAT, "term '~1.2.3' at byte 1", "unknown operator '~'"},
	    {">=1.0.0 ^1.2.3", FW_E_FORMAT, "term '^1.2.3' at byte 9", "unknown operator '^'"},
	    {"!=1.0.0", FW_E_FORMAT, "term '!=1.0.0'", "unknown operator '!='"},
	    {"=>1.0.0", FW_E_FORMAT, "term '=>1.0.0'", "unknown operator '=>'"},
	    {"==1.0.0", FW_E_FORMAT, "term '==1.0.0'", "unknown operator '=='"},
	    {"1.0.0 - 2.0.0", FW_E_FORMAT, "term '-' at byte 7", "unknown operator '-'"},
	    {"*", FW_E_FORMAT, "term '*' at byte 1", "unknown operator '*'"},
	    {"> 1.0.0", FW_E_FORMAT, "term '>' at byte 1", "operator without a version"},
	    {">=1.0.0 <=", FW_E_FORMAT, "term '<=' at byte 9", "operator without a version"},
	    {">=1.0.0 <2.01.0", FW_E_FORMAT, "term '<2.01.0' at byte 9",
	     "leading zero in minor at byte 12"},
	    {">=v1.0.0", FW_E_FORMAT, "term '>=v1.0.0' at byte 1", "leading 'v'"},
	    {"1.x", FW_E_FORMAT, "term '1.x' at byte 1", "invalid character 'x' in minor"},
	    {">=1.0.0,<2.0.0", FW_E_FORMAT, "term '>=1.0.0,<2.0.0'", "invalid character ','"},
	    {">=1.0.0\t<2.0.0", FW_E_FORMAT, "term '>=1.0.0?<2.0.0'", "invalid character 0x09"},
	    {">=1.0.0 <" MAX64 "0.0.0", FW_E_FORMAT, "term '<" MAX64 "0.0.0'",
	     "major does not fit in 64 bits"},
	    {">=3.0.0 <2.0.0", FW_E_FORMAT, "alternative 1 can never match",
	     "lower bound '>=3.0.0' (byte 1) is above upper bound '<2.0.0' (byte 9)"},
	    {"<2.0.0 >=3.0.0", FW_E_FORMAT, "alternative 1 can never match",
	     "lower bound '>=3.0.0' (byte 8) is above upper bound '<2.0.0' (byte 1)"},
	    {">=1.0.0 || >=3.0.0 <2.0.0", FW_E_FORMAT, "alternative 2 can never match",
	     "'>=3.0.0' (byte 12)"},
	    {">=2.0.0 <2.0.0", FW_E_FORMAT, "no version is both '>=2.0.0' (byte 1) and '<2.0.0' (byte 9)", ""},
	    {">2.0.0 <=2.0.0", FW_E_FORMAT, "no version is both '>2.0.0'", "'<=2.0.0'"},
	    {">2.0.0 <2.0.0", FW_E_FORMAT, "never match", "'>2.0.0'"},
	    {"=1.0.0 =2.0.0", FW_E_FORMAT, "lower bound '=2.0.0'", "upper bound '=1.0.0'"},
	    {"=2.0.0 <2.0.0", FW_E_FORMAT, "never match", "'<2.0.0'"},
	    {">=1.0.0 >2.0.0 <3.0.0 <=2.0.0", FW_E_FORMAT, "never match", "'>2.0.0' (byte 9)"},
	    /* nothing lies strictly between a version and its successor */
	    {">1.0.0 <1.0.1-0", FW_E_FORMAT, "never match", "'<1.0.1-0'"},
	    {">1.0.0-rc.1 <1.0.0-rc.1.0", FW_E_FORMAT, "never match", "'<1.0.0-rc.1.0'"},
	    {">1.0." MAX64 " <1.1.0-0", FW_E_FORMAT, "never match", "'<1.1.0-0'"},
	    {"<0.0.0-0", FW_E_FORMAT, "no version is below '<0.0.0-0' (byte 1)", ""},
	    {">" MAX64 "." MAX64 "." MAX64, FW_E_FORMAT, "no version is above", ""},
	    {">=1.0.0 <1" MAX64 ".0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", FW_E_TOO_LARGE,
	     "term '<1" MAX64, "version longer than 64 bytes"},
	};
	struct fw_range r, keep;
	struct fw_diag d;
	size_t i;

	memset(&keep, 0x5a, sizeof(keep));
	for (i = 0; i < N(m); i++) {
		int rc;

		r = keep;
		d.msg[0] = '\0';
		rc = fw_range_parse(m[i].in, &r, &d);
		if (rc != m[i].rc || strstr(d.msg, m[i].msg1) == NULL || strstr(d.msg, m[i].msg2) == NULL)
			harness_fail(__FILE__, __LINE__, "'%s': rc %d, message '%s'", m[i].in, rc, d.msg);
		CHECK(memcmp(&r, &keep, sizeof(r)) == 0); /* out untouched on failure */
	}
	CHECK_EQ(fw_range_parse(NULL, &r, &d), FW_E_ARG);
	CHECK_EQ(fw_range_parse(">=1.0.0", NULL, &d), FW_E_ARG);
	CHECK_EQ(fw_range_parse("~1", &r, NULL), FW_E_FORMAT);
}

/* The tightest satisfiable ranges next to the refused ones above. */
static void t_range_barely_satisfiable(void)
{
	CHECK_EQ(in(">1.0.0 <1.0.1-1", "1.0.1-0"), 1);
	CHECK_EQ(in(">1.0.0 <=1.0.1-0", "1.0.1-0"), 1);
	CHECK_EQ(in(">1.0.0-rc.1 <1.0.0-rc.1.1", "1.0.0-rc.1.0"), 1);
	CHECK_EQ(in(">1.0.0-rc.1 <1.0.0-rc.2", "1.0.0-rc.1.0"), 1);
	CHECK_EQ(in("<=0.0.0-0", "0.0.0-0"), 1);
	CHECK_EQ(in("<0.0.0-0.0", "0.0.0-0"), 1);
	CHECK_EQ(in(">=" MAX64 "." MAX64 "." MAX64, MAX64 "." MAX64 "." MAX64), 1);
	CHECK_EQ(in(">" MAX64 "." MAX64 "." MAX64 "-0", MAX64 "." MAX64 "." MAX64), 1);
	CHECK_EQ(in("=2.0.0 >=2.0.0 <=2.0.0", "2.0.0"), 1);
}

/* Increment the core with carry; 0 at the top. */
static int next_core(struct fw_semver *v)
{
	if (v->patch != UINT64_MAX) {
		v->patch++;
		return 1;
	}
	v->patch = 0;
	if (v->minor != UINT64_MAX) {
		v->minor++;
		return 1;
	}
	v->minor = 0;
	if (v->major != UINT64_MAX) {
		v->major++;
		return 1;
	}
	return 0;
}

/*
 * The "can never match" refusal against brute force: every one- and
 * two-comparator range over versions sitting at the tricky places is
 * accepted exactly when a witness version matches it. Witnesses are the
 * versions, their successors (l-P -> l-P.0, l -> next core with "-0") and
 * the bottom 0.0.0-0: if (a, b) is not empty, succ(a) is in it.
 */
static void t_never_match_brute_force(void)
{
	static const char *const vs[] = {
	    "0.0.0-0", "0.0.0-0.0", "0.0.0-1", "0.0.0", "0.0.1-0", "1.0.0-rc.1", "1.0.0-rc.1.0",
	    "1.0.0-rc.1.1", "1.0.0-rc.2", "1.0.0", "1.0.1-0", "1.0.1", "1.0." MAX64,
	    "1.1.0-0", MAX64 "." MAX64 "." MAX64 "-0", MAX64 "." MAX64 "." MAX64};
	static const char *const lo_ops[] = {"", ">=", ">", "="};
	static const char *const hi_ops[] = {"", "<=", "<", "="};
	struct fw_semver w[3 * N(vs) + 1];
	size_t nw = 0, i, j, a, b, k, checked = 0;

	for (i = 0; i < N(vs); i++) {
		struct fw_semver v;

		if (!parse_ok(vs[i], &v))
			return;
		w[nw++] = v;
		if (v.pre[0] != '\0') {
			strcat(v.pre, ".0");
			w[nw++] = v;
		} else if (next_core(&v)) {
			strcpy(v.pre, "0");
			w[nw++] = v;
		}
	}
	CHECK(parse_ok("0.0.0-0", &w[nw]));
	nw++;

	for (a = 0; a < N(lo_ops); a++)
		for (b = 0; b < N(hi_ops); b++)
			for (i = 0; i < N(vs); i++)
				for (j = 0; j < N(vs); j++) {
					char s[FW_RANGE_MAX + 1];
					struct fw_range r;
					struct fw_diag d;
					int rc, any = 0;

					/* "" is no comparator on that side */
					if ((a == 0 && b == 0) || (a == 0 && i > 0) || (b == 0 && j > 0))
						continue;
					snprintf(s, sizeof(s), "%s%s%s%s%s", lo_ops[a], a ? vs[i] : "",
					         a && b ? " " : "", hi_ops[b], b ? vs[j] : "");
					rc = fw_range_parse(s, &r, &d);
					if (rc == FW_OK)
						for (k = 0; k < nw && !any; k++)
							any = fw_range_match(&r, &w[k]);
					checked++;
					if (rc == FW_OK && !any)
						harness_fail(__FILE__, __LINE__, "'%s' accepted, nothing matches", s);
					if (rc != FW_OK && (rc != FW_E_FORMAT || !strstr(d.msg, "never match")))
						harness_fail(__FILE__, __LINE__, "'%s' refused: %s", s, d.msg);
				}
	CHECK(checked > 1000);
}

static void t_range_limits(void)
{
	char s[FW_RANGE_MAX + 32], text[FW_RANGE_MAX + 1];
	struct fw_range r;
	struct fw_diag d;
	size_t i, len;

	/* FW_RANGE_MAX_TERMS comparators are fine, one more is too many */
	s[0] = '\0';
	for (i = 0; i < FW_RANGE_MAX_TERMS; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s>=%zu.0.0", i ? " " : "", i);
	CHECK(rparse(s, &r));
	CHECK_EQ(r.n, FW_RANGE_MAX_TERMS);
	strcat(s, " <99.0.0");
	CHECK_EQ(fw_range_parse(s, &r, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "term '<99.0.0'") != NULL && strstr(d.msg, "more than 16") != NULL);

	/* exactly FW_RANGE_MAX bytes (padded with spaces) is fine, one more is not */
	memset(s, ' ', FW_RANGE_MAX);
	memcpy(s, ">=1.0.0", 7);
	s[FW_RANGE_MAX] = '\0';
	CHECK(rparse(s, &r));
	s[FW_RANGE_MAX] = ' ';
	s[FW_RANGE_MAX + 1] = '\0';
	CHECK_EQ(fw_range_parse(s, &r, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "longer than 256 bytes") != NULL && strstr(d.msg, "'>=1.0.0") != NULL);

	/* within FW_RANGE_MAX as given, but the canonical text ("=" written out,
	 * " || ") would not be: refused so that format and parse round-trip */
	s[0] = '\0';
	for (i = 0; i < FW_RANGE_MAX_TERMS; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s1.0.%zu-aaaaaa", i ? "||" : "",
		         i + 10);
	len = strlen(s);
	CHECK(len <= FW_RANGE_MAX);
	CHECK_EQ(fw_range_parse(s, &r, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "canonical form") != NULL);
	/* and the longest canonical text that is accepted fits FW_RANGE_MAX + 1 */
	s[0] = '\0';
	for (i = 0; i < FW_RANGE_MAX_TERMS - 3; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s1.0.%zu-aaaaaa", i ? "||" : "",
		         i + 10);
	CHECK(rparse(s, &r));
	fw_range_format(&r, text, sizeof(text));
	CHECK(strlen(text) <= FW_RANGE_MAX);
	CHECK(rparse(text, &r));
}

static const struct harness_test tests[] = {
    {"semver_valid_regex_list", t_valid},
    {"semver_invalid_regex_list", t_invalid},
    {"semver_messages_name_reason_and_byte", t_messages},
    {"semver_length_limit", t_length_limit},
    {"semver_precedence_s11", t_precedence},
    {"range_inclusive_exclusive_edges", t_range_edges},
    {"range_or_bare_and_format", t_range_or_and_bare},
    {"range_refusals_name_the_term", t_range_refusals},
    {"range_barely_satisfiable", t_range_barely_satisfiable},
    {"range_never_match_brute_force", t_never_match_brute_force},
    {"range_limits", t_range_limits},
};
HARNESS_MAIN(tests)
