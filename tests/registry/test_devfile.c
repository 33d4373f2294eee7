/*
 * Device file parser (src/registry/devfile.c): CSV and JSON lines syntax,
 * header and key rules, limits, line numbers in messages, the callback and
 * progress contracts. Inputs are in memory (fmemopen).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "harness.h"
#include "registry/registry.h"

#define HDR "device_id,product,family,hw_revision,fw_version,cohorts,support_until,lifecycle,certificate\n"
#define HDR7 "device_id,product,family,hw_revision,fw_version,support_until,lifecycle\n"
#define ROW7(id) id ",p,f,1,1.0,2030-01-01,active\n"

#define MAX_KEPT 64

/* What a parse produced: rows as copies, and the contract checked on each. */
struct got {
	int rc;
	uint64_t rows;           /* *rows as written by the parser (~0 when not) */
	int calls;               /* callback calls */
	int stop_at;             /* callback fails on this call (1-based), 0 = never */
	int called_after_error;  /* set if fn ran after it returned an error */
	int broken;              /* contract broken in some row */
	struct fw_diag d;
	uint64_t line[MAX_KEPT];
	int format[MAX_KEPT];
	char *f[MAX_KEPT][FW_DEVCOL_COUNT];
	int col[MAX_KEPT][FW_DEVCOL_COUNT];
	int progress_calls;
	uint64_t progress_last;
	int progress_backwards;
};

static int collect(void *arg, const struct fw_devrow *row, struct fw_diag *d)
{
	struct got *g = arg;
	int i, n = g->calls++;

	if (g->stop_at > 0 && n >= g->stop_at)
		g->called_after_error = 1;
	for (i = 0; i < FW_DEVCOL_COUNT; i++) {
		if (row->f[i] == NULL || strlen(row->f[i]) != row->len[i])
			g->broken = 1;
		else if (n < MAX_KEPT)
			g->f[n][i] = strdup(row->f[i]);
		if (n < MAX_KEPT)
			g->col[n][i] = row->col[i];
	}
	if (n < MAX_KEPT) {
		g->line[n] = row->line;
		g->format[n] = row->format;
	}
	if (g->stop_at > 0 && n + 1 == g->stop_at)
		return fw_diag_set(d, FW_E_CONFLICT, "callback refuses row %d", n + 1);
	return FW_OK;
}

static void on_progress(void *arg, uint64_t bytes)
{
	struct got *g = arg;

	if (bytes < g->progress_last)
		g->progress_backwards = 1;
	g->progress_last = bytes;
	g->progress_calls++;
}

static void got_free(struct got *g)
{
	int i, k;

	for (i = 0; i < MAX_KEPT; i++) {
		for (k = 0; k < FW_DEVCOL_COUNT; k++) {
			free(g->f[i][k]);
			g->f[i][k] = NULL;
		}
	}
}

/* Parse len bytes of text with the given format; results in *g. */
static int parse_n(const char *text, size_t len, int format, int stop_at, struct got *g)
{
	char *copy = malloc(len + 1);
	FILE *f;

	memset(g, 0, sizeof(*g));
	g->rows = ~(uint64_t)0;
	g->stop_at = stop_at;
	if (copy == NULL)
		return -1;
	memcpy(copy, text, len);
	f = fmemopen(copy, len, "r");
	if (f == NULL) {
		free(copy);
		harness_fail(__FILE__, __LINE__, "fmemopen failed");
		return -1;
	}
	g->rc = fw_devfile_parse(f, format, collect, g, on_progress, g, &g->rows, &g->d);
	fclose(f);
	free(copy);
	if (g->broken)
		harness_fail(__FILE__, __LINE__, "row contract broken");
	if (g->called_after_error)
		harness_fail(__FILE__, __LINE__, "callback called after it failed");
	if (g->rc == FW_OK && g->rows != (uint64_t)g->calls)
		harness_fail(__FILE__, __LINE__, "rows %llu, callback calls %d",
		             (unsigned long long)g->rows, g->calls);
	if (g->rc != FW_OK && g->rows != ~(uint64_t)0)
		harness_fail(__FILE__, __LINE__, "rows written on failure");
	if (g->rc == FW_OK && (g->progress_calls == 0 || g->progress_last != len))
		harness_fail(__FILE__, __LINE__, "final progress %llu, file %zu",
		             (unsigned long long)g->progress_last, len);
	if (g->progress_backwards)
		harness_fail(__FILE__, __LINE__, "progress went backwards");
	return g->rc;
}

static int parse(const char *text, int format, struct got *g)
{
	return parse_n(text, strlen(text), format, 0, g);
}

/* The parse fails with err and a message containing every given part. */
#define EXPECT_ERR(text, format, err, ...) expect_err(__LINE__, text, strlen(text), format, err, __VA_ARGS__, NULL)
static void expect_err(int line, const char *text, size_t len, int format, int err, ...)
{
	struct got g;
	const char *part;
	va_list ap;

	parse_n(text, len, format, 0, &g);
	if (g.rc != err)
		harness_fail(__FILE__, line, "rc %d (%s), expected %d; message: %s", g.rc,
		             fw_err_str(g.rc), err, g.d.msg);
	va_start(ap, err);
	while ((part = va_arg(ap, const char *)) != NULL) {
		if (strstr(g.d.msg, part) == NULL)
			harness_fail(__FILE__, line, "message \"%s\" lacks \"%s\"", g.d.msg, part);
	}
	va_end(ap);
	got_free(&g);
}

static int streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A growable string for generated inputs. */
struct sb {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (s == NULL)
			abort();
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void sb_rep(struct sb *b, char c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sb_add(b, "%c", c);
}

static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                          "MIIBszCCAVmgAwIBAgIUQ8Vd0Rk2Z7m0v1qX0gq5k0G5pF4wCgYIKoZIzj0EAwIw\n"
                          "EjEQMA4GA1UEAwwHZGV2aWNlMTAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAw\n"
                          "-----END CERTIFICATE-----\n";

/* ---- CSV ---- */

static void t_devcol_names(void)
{
	CHECK(streq(fw_devcol_name(FW_DEVCOL_DEVICE_ID), "device_id"));
	CHECK(streq(fw_devcol_name(FW_DEVCOL_COHORTS), "cohorts"));
	CHECK(streq(fw_devcol_name(FW_DEVCOL_SUPPORT_UNTIL), "support_until"));
	CHECK(streq(fw_devcol_name(FW_DEVCOL_CERTIFICATE), "certificate"));
	CHECK(streq(fw_devcol_name(FW_DEVCOL_COUNT), "?"));
	CHECK(streq(fw_devcol_name(-1), "?"));
}

static void t_csv_basic(void)
{
	struct got g;

	CHECK_EQ(parse(HDR "d1,prod,fam,B2,1.2.3,beta;eu,2030-12-31,active,/certs/d1.pem\n"
	               "d2,prod,fam,B3,1.2.4,,2031-01-01,retired,\n",
	               0, &g),
	         FW_OK);
	CHECK_EQ(g.rows, 2);
	CHECK_EQ(g.line[0], 2);
	CHECK_EQ(g.line[1], 3);
	CHECK_EQ(g.format[0], FW_DEVFILE_CSV);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "d1"));
	CHECK(streq(g.f[0][FW_DEVCOL_PRODUCT], "prod"));
	CHECK(streq(g.f[0][FW_DEVCOL_FAMILY], "fam"));
	CHECK(streq(g.f[0][FW_DEVCOL_HW_REVISION], "B2"));
	CHECK(streq(g.f[0][FW_DEVCOL_FW_VERSION], "1.2.3"));
	CHECK(streq(g.f[0][FW_DEVCOL_COHORTS], "beta;eu"));
	CHECK(streq(g.f[0][FW_DEVCOL_SUPPORT_UNTIL], "2030-12-31"));
	CHECK(streq(g.f[0][FW_DEVCOL_LIFECYCLE], "active"));
	CHECK(streq(g.f[0][FW_DEVCOL_CERTIFICATE], "/certs/d1.pem"));
	CHECK(streq(g.f[1][FW_DEVCOL_COHORTS], ""));
	CHECK(streq(g.f[1][FW_DEVCOL_CERTIFICATE], ""));
	CHECK_EQ(g.col[0][FW_DEVCOL_DEVICE_ID], 1);
	CHECK_EQ(g.col[0][FW_DEVCOL_CERTIFICATE], 9);
	got_free(&g);
	/* values pass through untouched: spaces, UTF-8, odd text are the
	 * caller's to judge */
	CHECK_EQ(parse(HDR7 " d 1 ,Gr\xc3\xa4t,f,1,x,y,z\n", 0, &g), FW_OK);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], " d 1 "));
	CHECK(streq(g.f[0][FW_DEVCOL_PRODUCT], "Gr\xc3\xa4t"));
	got_free(&g);
}

static void t_csv_header_order_and_optional(void)
{
	struct got g;
	struct fw_devrow row;
	char where[80];
	int k;

	CHECK_EQ(parse("lifecycle,support_until,fw_version,hw_revision,family,product,device_id\n"
	               "active,2030-01-01,1.0,A,fam,prod,dev\n",
	               0, &g),
	         FW_OK);
	CHECK_EQ(g.rows, 1);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "dev"));
	CHECK(streq(g.f[0][FW_DEVCOL_LIFECYCLE], "active"));
	CHECK(streq(g.f[0][FW_DEVCOL_COHORTS], ""));
	CHECK(streq(g.f[0][FW_DEVCOL_CERTIFICATE], ""));
	CHECK_EQ(g.col[0][FW_DEVCOL_DEVICE_ID], 7);
	CHECK_EQ(g.col[0][FW_DEVCOL_LIFECYCLE], 1);
	CHECK_EQ(g.col[0][FW_DEVCOL_COHORTS], 0);
	CHECK_EQ(g.col[0][FW_DEVCOL_CERTIFICATE], 0);

	memset(&row, 0, sizeof(row));
	row.line = 12;
	row.format = FW_DEVFILE_CSV;
	for (k = 0; k < FW_DEVCOL_COUNT; k++)
		row.col[k] = g.col[0][k];
	fw_devrow_where(&row, FW_DEVCOL_FAMILY, where, sizeof(where));
	CHECK(streq(where, "line 12, column 5 (family)"));
	fw_devrow_where(&row, FW_DEVCOL_COHORTS, where, sizeof(where));
	CHECK(streq(where, "line 12 (no cohorts column)"));
	fw_devrow_where(&row, 99, where, sizeof(where));
	CHECK(streq(where, "line 12"));
	fw_devrow_where(&row, FW_DEVCOL_FAMILY, where, 8);
	CHECK(streq(where, "line 12"));
	row.format = FW_DEVFILE_JSONL;
	fw_devrow_where(&row, FW_DEVCOL_FAMILY, where, sizeof(where));
	CHECK(streq(where, "line 12, field \"family\""));
	where[0] = 'x';
	fw_devrow_where(&row, FW_DEVCOL_FAMILY, where, 0);
	CHECK(where[0] == 'x');
	got_free(&g);
	/* quoted header names are names too */
	CHECK_EQ(parse("\"device_id\",product,family,hw_revision,fw_version,support_until,"
	               "\"lifecycle\"\r\n" ROW7("d"),
	               0, &g),
	         FW_OK);
	CHECK_EQ(g.rows, 1);
	got_free(&g);
}

static void t_csv_header_errors(void)
{
	EXPECT_ERR("device_id,product,famly,hw_revision,fw_version,support_until,lifecycle\n", 0,
	           FW_E_FORMAT, "line 1, column 3", "unknown column \"famly\"",
	           "known: device_id, product, family, hw_revision, fw_version, cohorts, "
	           "support_until, lifecycle, certificate");
	EXPECT_ERR("Device_ID,product,family,hw_revision,fw_version,support_until,lifecycle\n" ROW7("d"), 0,
	           FW_E_FORMAT, "line 1, column 1", "unknown column \"Device_ID\"");
	EXPECT_ERR("device_id,product,family,hw_revision,fw_version,support_until,lifecycle,product\n",
	           0, FW_E_FORMAT, "line 1, column 8", "duplicate column \"product\"", "column 2");
	EXPECT_ERR("device_id,product,family,hw_revision,fw_version,support_until\n", 0,
	           FW_E_FORMAT, "line 1", "missing required column: lifecycle");
	EXPECT_ERR("device_id,product,hw_revision,fw_version,cohorts,certificate\n", 0, FW_E_FORMAT,
	           "missing required columns: family, support_until, lifecycle");
	EXPECT_ERR("device_id, product,family,hw_revision,fw_version,support_until,lifecycle\n", 0,
	           FW_E_FORMAT, "line 1, column 2", "\" product\" has surrounding spaces");
	EXPECT_ERR("device_id,product ,family,hw_revision,fw_version,support_until,lifecycle\n", 0,
	           FW_E_FORMAT, "line 1, column 2", "surrounding spaces");
	EXPECT_ERR("\"device_id \",product,family,hw_revision,fw_version,support_until,lifecycle\n",
	           0, FW_E_FORMAT, "line 1, column 1", "surrounding spaces");
	/* empty name, and the header line is counted after skipped empty lines */
	EXPECT_ERR("\n\r\ndevice_id,,product\n", 0, FW_E_FORMAT, "line 3, column 2",
	           "unknown column \"\"");
	/* control bytes in a name are shown escaped, never raw */
	EXPECT_ERR("device_id,pro\x1b[2Jduct\n", 0, FW_E_FORMAT, "unknown column \"pro\\x1b[2Jduct\"");
	/* more fields than columns: some name is unknown or repeated */
	EXPECT_ERR("device_id,product,family,hw_revision,fw_version,cohorts,support_until,"
	           "lifecycle,certificate,x\n",
	           1, FW_E_FORMAT, "line 1, column 10", "unknown column \"x\"");
	EXPECT_ERR("device_id,product,family,hw_revision,fw_version,cohorts,support_until,"
	           "lifecycle,certificate,device_id,a,b,c\n",
	           1, FW_E_FORMAT, "line 1, column 10", "duplicate column \"device_id\"");
	/* a line break in a header name */
	EXPECT_ERR("device_id,\"prod\nuct\",family\n", 1, FW_E_FORMAT, "line 1, column 2",
	           "line break");
	/* too long a name */
	{
		struct sb b = {0};

		sb_add(&b, "device_id,");
		sb_rep(&b, 'a', 300);
		sb_add(&b, "\n");
		expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 1, column 2", "256", NULL);
		free(b.s);
	}
}

static void t_csv_quoted_pem(void)
{
	struct got g;
	struct sb b = {0};

	sb_add(&b, HDR);
	sb_add(&b, "d1,p,f,A,1.0,,2030-01-01,active,\"%s\"\n", pem);
	sb_add(&b, "d2,p,f,A,1.0,,2030-01-01,active,\"%s\"\n", pem);
	sb_add(&b, "d3,\"p,with,commas\",f,A,1.0,,2030-01-01,active,certs/d3.pem\n");
	CHECK_EQ(parse(b.s, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 3);
	CHECK(streq(g.f[0][FW_DEVCOL_CERTIFICATE], pem));
	CHECK(streq(g.f[1][FW_DEVCOL_CERTIFICATE], pem));
	CHECK(streq(g.f[2][FW_DEVCOL_PRODUCT], "p,with,commas"));
	/* the PEM has 4 lines and ends with a newline: each row takes 5 */
	CHECK_EQ(g.line[0], 2);
	CHECK_EQ(g.line[1], 7);
	CHECK_EQ(g.line[2], 12);
	got_free(&g);
	free(b.s);
}

static void t_csv_quote_escapes(void)
{
	struct got g;

	CHECK_EQ(parse(HDR7 "\"a\"\"b\",\"\",\"\"\"\",\"x,y\",\"\"\"q\"\"\",\" s \",z\n", 0, &g), FW_OK);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "a\"b"));
	CHECK(streq(g.f[0][FW_DEVCOL_PRODUCT], ""));
	CHECK(streq(g.f[0][FW_DEVCOL_FAMILY], "\""));
	CHECK(streq(g.f[0][FW_DEVCOL_HW_REVISION], "x,y"));
	CHECK(streq(g.f[0][FW_DEVCOL_FW_VERSION], "\"q\""));
	CHECK(streq(g.f[0][FW_DEVCOL_SUPPORT_UNTIL], " s "));
	got_free(&g);
	/* a quoted last field at the end of the file, without a line end */
	CHECK_EQ(parse(HDR7 "a,b,c,d,e,f,\"g\"", 0, &g), FW_OK);
	CHECK(streq(g.f[0][FW_DEVCOL_LIFECYCLE], "g"));
	got_free(&g);
}

static void t_csv_crlf(void)
{
	struct got g;
	struct sb b = {0};
	const char *crlf_pem = "-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n";

	sb_add(&b, "device_id,product,family,hw_revision,fw_version,support_until,lifecycle,"
	           "certificate\r\n");
	sb_add(&b, "d1,p,f,A,1,2030-01-01,active,\"%s\"\r\n", crlf_pem);
	sb_add(&b, "\r\n");
	sb_add(&b, "d2,p,f,A,1,2030-01-01,active,\r\n");
	CHECK_EQ(parse(b.s, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 2);
	CHECK(streq(g.f[0][FW_DEVCOL_CERTIFICATE], crlf_pem)); /* passed through as is */
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "d1"));
	CHECK(streq(g.f[1][FW_DEVCOL_CERTIFICATE], ""));
	CHECK_EQ(g.line[0], 2);
	CHECK_EQ(g.line[1], 7);
	got_free(&g);
	free(b.s);

	/* a lone CR outside quotes */
	EXPECT_ERR(HDR7 "a,b\rc,d,e,f,g\n", 0, FW_E_FORMAT, "line 2", "carriage return");
	EXPECT_ERR(HDR7 ROW7("a") "\rb,p,f,1,1.0,2030-01-01,active\n", 0, FW_E_FORMAT, "line 3",
	           "carriage return");
	EXPECT_ERR(HDR7 ROW7("a") "a,b,c,d,e,f,g\r", 0, FW_E_FORMAT, "line 3", "carriage return");
	EXPECT_ERR(HDR7 "\r", 0, FW_E_FORMAT, "line 2", "carriage return");
	EXPECT_ERR(HDR7 "a,b,c,d,e,f,\"g\"\rx\n", 0, FW_E_FORMAT, "line 2", "carriage return");
	/* a CR in a quoted value other than the certificate */
	EXPECT_ERR(HDR7 "a,\"b\rc\",c,d,e,f,g\n", 0, FW_E_FORMAT, "line 2, column 2 (product)",
	           "line break");
}

static void t_csv_bom(void)
{
	struct got g;

	CHECK_EQ(parse("\xef\xbb\xbf" HDR7 ROW7("d1"), 0, &g), FW_OK);
	CHECK_EQ(g.rows, 1);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "d1"));
	CHECK_EQ(g.line[0], 2);
	got_free(&g);
	CHECK_EQ(parse("\xef\xbb\xbf" HDR7 ROW7("d1"), FW_DEVFILE_CSV, &g), FW_OK);
	CHECK_EQ(g.rows, 1);
	got_free(&g);
	/* only at the start: a second one is part of the first name */
	EXPECT_ERR("\xef\xbb\xbf\xef\xbb\xbf" HDR7, 0, FW_E_FORMAT, "line 1, column 1",
	           "unknown column \"\\xef\\xbb\\xbfdevice_id\"");
	/* a BOM alone is no header */
	EXPECT_ERR("\xef\xbb\xbf", 0, FW_E_FORMAT, "no header");
}

static void t_csv_field_counts(void)
{
	struct sb b = {0};

	EXPECT_ERR(HDR "a,b,c,d,e\n", 0, FW_E_FORMAT, "line 2: 5 fields, the header has 9");
	EXPECT_ERR(HDR7 ROW7("d1") "a,b,c,d,e,f,g,h\n", 0, FW_E_FORMAT,
	           "line 3: 8 fields, the header has 7");
	EXPECT_ERR(HDR7 "x\n", 0, FW_E_FORMAT, "line 2: 1 field, the header has 7");
	/* a line of spaces is a record, not an empty line */
	EXPECT_ERR(HDR7 ROW7("d1") "  \n", 0, FW_E_FORMAT, "line 3: 1 field, the header has 7");
	/* line numbers count the lines inside quoted certificates */
	sb_add(&b, HDR);
	sb_add(&b, "d1,p,f,A,1.0,,2030-01-01,active,\"%s\"\n\n", pem);
	sb_add(&b, "d2,p,f,A,1.0,,2030-01-01,active,\"%s\"\n", pem);
	sb_add(&b, "d3,p,f,A,1.0,,2030-01-01,active\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_FORMAT, "line 13: 8 fields, the header has 9",
	           NULL);
	free(b.s);
	/* too many fields, the extra one a quoted multi-line text */
	EXPECT_ERR(HDR7 "a,b,c,d,e,f,g,\"h\ni\"\n" ROW7("z"), 0, FW_E_FORMAT,
	           "line 2: 8 fields, the header has 7");
	/* the last record without a line end is counted too */
	EXPECT_ERR(HDR7 ROW7("d1") "a,b", 0, FW_E_FORMAT, "line 3: 2 fields, the header has 7");
	EXPECT_ERR(HDR7 ROW7("d1") "a,b,c,d,e,f,g,", 0, FW_E_FORMAT,
	           "line 3: 8 fields, the header has 7");
}

static void t_csv_syntax_errors(void)
{
	static const char nul_plain[] = HDR7 "a,b\0c,d,e,f,g,h\n";
	static const char nul_quoted[] = HDR7 "a,\"b\0\",c,d,e,f,g\n";
	static const char nul_after[] = HDR7 "a,\"b\"\0,c,d,e,f,g\n";
	static const char nul_header[] = "device_id\0";

	EXPECT_ERR(HDR7 ROW7("d1") "a,b\"c,d,e,f,g,h\n", 0, FW_E_FORMAT,
	           "line 3, column 2 (product)", "quote inside an unquoted field");
	EXPECT_ERR(HDR7 "a,\"b\"c,d,e,f,g,h\n", 0, FW_E_FORMAT, "line 2, column 2 (product)",
	           "text after the closing quote");
	EXPECT_ERR(HDR7 "a,\"b\" ,d,e,f,g,h\n", 0, FW_E_FORMAT, "line 2, column 2",
	           "text after the closing quote");
	EXPECT_ERR(HDR7 " \"a\",b,c,d,e,f,g\n", 0, FW_E_FORMAT, "line 2, column 1 (device_id)",
	           "quote inside an unquoted field");
	/* unterminated: the line where the quoted field starts */
	EXPECT_ERR(HDR "a,b,c,d,e,f,g,h,\"-----BEGIN\nabc\ndef\n", 0, FW_E_FORMAT,
	           "line 2, column 9 (certificate)", "not closed");
	/* line breaks only in the certificate */
	EXPECT_ERR(HDR "a,b,\"fa\nmily\",d,e,f,g,h,i\n", 0, FW_E_FORMAT,
	           "line 2, column 3 (family)", "line break", "only certificate");
	/* errors after a multi-line certificate name the physical line */
	EXPECT_ERR(HDR "a,b,c,d,e,f,g,h,\"x\ny\nz\"q\n", 0, FW_E_FORMAT,
	           "line 4, column 9 (certificate)", "text after the closing quote");
	expect_err(__LINE__, nul_plain, sizeof(nul_plain) - 1, 0, FW_E_FORMAT,
	           "line 2, column 2 (product)", "NUL", NULL);
	expect_err(__LINE__, nul_quoted, sizeof(nul_quoted) - 1, 0, FW_E_FORMAT,
	           "line 2, column 2 (product)", "NUL", NULL);
	expect_err(__LINE__, nul_after, sizeof(nul_after) - 1, 0, FW_E_FORMAT,
	           "line 2, column 2 (product)", "NUL", NULL);
	expect_err(__LINE__, nul_header, sizeof(nul_header) - 1, 0, FW_E_FORMAT,
	           "line 1, column 1", "NUL", NULL);
}

static void t_csv_empty_lines(void)
{
	struct got g;

	CHECK_EQ(parse("\n\n" HDR7 "\n" ROW7("d1") "\n\r\n\n" ROW7("d2") "\n\n", 0, &g), FW_OK);
	CHECK_EQ(g.rows, 2);
	CHECK_EQ(g.line[0], 5);
	CHECK_EQ(g.line[1], 9);
	got_free(&g);
	/* no line end after the last record */
	CHECK_EQ(parse(HDR7 "d1,p,f,1,1.0,2030-01-01,active", 0, &g), FW_OK);
	CHECK_EQ(g.rows, 1);
	CHECK(streq(g.f[0][FW_DEVCOL_LIFECYCLE], "active"));
	got_free(&g);
	/* the last field empty, at the end of the file */
	CHECK_EQ(parse(HDR7 "d1,p,f,1,1.0,2030-01-01,", 0, &g), FW_OK);
	CHECK(streq(g.f[0][FW_DEVCOL_LIFECYCLE], ""));
	got_free(&g);
}

static void t_empty_and_header_only(void)
{
	struct got g;

	EXPECT_ERR("", 0, FW_E_FORMAT, "empty file: no header");
	EXPECT_ERR("", FW_DEVFILE_CSV, FW_E_FORMAT, "empty file: no header");
	EXPECT_ERR("", FW_DEVFILE_JSONL, FW_E_FORMAT, "empty file");
	EXPECT_ERR("\n\r\n\n", 0, FW_E_FORMAT, "no header");
	CHECK_EQ(parse(HDR7, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 0);
	CHECK_EQ(g.calls, 0);
	CHECK_EQ(g.progress_last, strlen(HDR7));
	got_free(&g);
	CHECK_EQ(parse("device_id,product,family,hw_revision,fw_version,support_until,lifecycle",
	               0, &g),
	         FW_OK);
	CHECK_EQ(g.rows, 0);
	got_free(&g);
	CHECK_EQ(parse(HDR7 "\n\n", 0, &g), FW_OK);
	CHECK_EQ(g.rows, 0);
	got_free(&g);
	CHECK_EQ(parse("\n \n\t\n", FW_DEVFILE_JSONL, &g), FW_OK);
	CHECK_EQ(g.rows, 0);
	got_free(&g);
}

static void t_csv_limits(void)
{
	struct got g;
	struct sb b = {0};

	/* a field of exactly the limit passes, one byte more does not */
	sb_add(&b, HDR7);
	sb_rep(&b, 'a', FW_DEVFILE_MAX_FIELD);
	sb_add(&b, ",p,f,1,1.0,2030-01-01,active\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 1);
	CHECK_EQ(strlen(g.f[0][FW_DEVCOL_DEVICE_ID]), FW_DEVFILE_MAX_FIELD);
	got_free(&g);
	b.len = 0;
	sb_add(&b, HDR7 ROW7("d1") "d2,");
	sb_rep(&b, 'a', FW_DEVFILE_MAX_FIELD + 1);
	sb_add(&b, ",f,1,1.0,2030-01-01,active\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 3, column 2 (product)",
	           "longer than 256 bytes", NULL);
	/* the limit is on the value: "" counts once */
	b.len = 0;
	sb_add(&b, HDR7 "\"");
	sb_rep(&b, '"', 2 * FW_DEVFILE_MAX_FIELD);
	sb_add(&b, "\",p,f,1,1.0,2030-01-01,active\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(strlen(g.f[0][FW_DEVCOL_DEVICE_ID]), FW_DEVFILE_MAX_FIELD);
	got_free(&g);
	b.len = 0;
	sb_add(&b, HDR7 "\"");
	sb_rep(&b, '"', 2 * FW_DEVFILE_MAX_FIELD + 2);
	sb_add(&b, "\",p,f,1,1.0,2030-01-01,active\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 2, column 1 (device_id)", "256",
	           NULL);
	/* a field over the limit at the very end of the file */
	b.len = 0;
	sb_add(&b, HDR7 "d,p,f,1,1.0,2030-01-01,");
	sb_rep(&b, 'l', FW_DEVFILE_MAX_FIELD + 1);
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 2, column 7 (lifecycle)", "256",
	           NULL);
	/* the certificate: 16 KiB */
	b.len = 0;
	sb_add(&b, HDR "d,p,f,1,1.0,,2030-01-01,active,\"");
	sb_rep(&b, 'c', FW_DEVFILE_MAX_CERT - 1);
	sb_add(&b, "\n\"\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(strlen(g.f[0][FW_DEVCOL_CERTIFICATE]), FW_DEVFILE_MAX_CERT);
	got_free(&g);
	b.len = 0;
	sb_add(&b, HDR "\nd,p,f,1,1.0,,2030-01-01,active,\"");
	sb_rep(&b, 'c', FW_DEVFILE_MAX_CERT);
	sb_add(&b, "\n\"\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 3, column 9 (certificate)",
	           "longer than 16384 bytes", NULL);
	/* the record: only reachable with extra fields, as the fields' own
	 * limits add up to less */
	b.len = 0;
	sb_add(&b, HDR7 ROW7("d1") "d2,p,f,1,1.0,2030-01-01,active");
	while (b.len < 2 * FW_DEVFILE_MAX_RECORD)
		sb_add(&b, ",%0200d", 0);
	sb_add(&b, "\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 3: record longer than 65536",
	           NULL);
	free(b.s);
}

struct stream_check {
	uint64_t n;
	int bad;
};

/* Row n of t_csv_streaming: "dev-<n>", 3 lines, a certificate of n % 1000
 * letters and "\n\"\n". */
static int check_row(void *arg, const struct fw_devrow *row, struct fw_diag *d)
{
	struct stream_check *chk = arg;
	char id[32];
	size_t i, n = (size_t)(chk->n % 1000);

	(void)d;
	snprintf(id, sizeof(id), "dev-%06llu", (unsigned long long)chk->n);
	if (strcmp(row->f[FW_DEVCOL_DEVICE_ID], id) != 0 || row->line != 2 + 3 * chk->n ||
	    strcmp(row->f[FW_DEVCOL_COHORTS], "a;b") != 0 ||
	    row->len[FW_DEVCOL_CERTIFICATE] != n + 3) {
		chk->bad++;
	} else {
		for (i = 0; i < n; i++) {
			if (row->f[FW_DEVCOL_CERTIFICATE][i] != 'A' + (char)(chk->n % 26))
				break;
		}
		if (i != n || strcmp(row->f[FW_DEVCOL_CERTIFICATE] + n, "\n\"\n") != 0)
			chk->bad++;
	}
	chk->n++;
	return FW_OK;
}

static int count_rows(void *arg, const struct fw_devrow *row, struct fw_diag *d)
{
	(void)row;
	(void)d;
	(*(int *)arg)++;
	return FW_OK;
}

/* Rows straddle the parser's reads (several per file), records with
 * certificates of every length around the buffer edges. */
static void t_csv_streaming(void)
{
	struct sb b = {0};
	FILE *f;
	uint64_t rows = 0, i;
	struct fw_diag d = {{0}};
	struct stream_check chk = {0, 0};
	int rc;

	sb_add(&b, HDR);
	for (i = 0; i < 3000; i++) {
		sb_add(&b, "dev-%06llu,prod,fam,B%llu,1.%llu.0,\"a;b\",2030-01-01,active,\"",
		       (unsigned long long)i, (unsigned long long)(i % 7), (unsigned long long)i);
		sb_rep(&b, 'A' + (char)(i % 26), (size_t)(i % 1000));
		sb_add(&b, "\n\"\"\n\"\n");
	}

	f = fmemopen(b.s, b.len, "r");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	rc = fw_devfile_parse(f, 0, check_row, &chk, NULL, NULL, &rows, &d);
	fclose(f);
	CHECK_EQ(rc, FW_OK);
	if (rc != FW_OK)
		fprintf(stderr, "  %s\n", d.msg);
	CHECK_EQ(rows, 3000);
	CHECK_EQ(chk.bad, 0);
	free(b.s);
}

/* ---- callback and progress ---- */

static void t_callback_error_stops(void)
{
	struct got g;
	const char *text = HDR7 ROW7("d1") ROW7("d2") ROW7("d3") "bad,row\n";

	parse_n(text, strlen(text), 0, 2, &g);
	CHECK_EQ(g.rc, FW_E_CONFLICT); /* unchanged */
	CHECK(streq(g.d.msg, "callback refuses row 2"));
	CHECK_EQ(g.calls, 2);
	got_free(&g);
	/* the same in JSON lines */
	text = "{\"device_id\":\"a\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"1\","
	       "\"fw_version\":\"1\",\"support_until\":\"x\",\"lifecycle\":\"l\"}\n"
	       "{\"device_id\":\"b\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"1\","
	       "\"fw_version\":\"1\",\"support_until\":\"x\",\"lifecycle\":\"l\"}\n";
	parse_n(text, strlen(text), 0, 1, &g);
	CHECK_EQ(g.rc, FW_E_CONFLICT);
	CHECK(streq(g.d.msg, "callback refuses row 1"));
	CHECK_EQ(g.calls, 1);
	got_free(&g);
}

static void t_no_row_after_error(void)
{
	struct got g;

	/* rows before the error are passed, none after; never the bad one */
	parse(HDR7 ROW7("d1") ROW7("d2") "d3,\"p\"x,f,1,1.0,2030-01-01,active\n" ROW7("d4"), 0, &g);
	CHECK_EQ(g.rc, FW_E_FORMAT);
	CHECK_EQ(g.calls, 2);
	got_free(&g);
	/* a field count error is found at the record's end: still not passed */
	parse(HDR7 ROW7("d1") "d2,p,f,1,1.0,2030-01-01,active,extra\n" ROW7("d3"), 0, &g);
	CHECK_EQ(g.rc, FW_E_FORMAT);
	CHECK_EQ(g.calls, 1);
	got_free(&g);
	/* nor a record cut by the end of the file inside quotes */
	parse(HDR7 ROW7("d1") "d2,p,f,1,1.0,2030-01-01,\"active", 0, &g);
	CHECK_EQ(g.rc, FW_E_FORMAT);
	CHECK_EQ(g.calls, 1);
	got_free(&g);
}

static void t_progress(void)
{
	struct got g;
	struct sb b = {0};
	int i;

	sb_add(&b, HDR7);
	for (i = 0; i < 10000; i++)
		sb_add(&b, "d%d,p,f,1,1.0,2030-01-01,active\n", i);
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 10000);
	/* every 4096 rows, and once at the end with the file's size */
	CHECK_EQ(g.progress_calls, 3);
	CHECK_EQ(g.progress_last, b.len);
	got_free(&g);
	/* progress may be NULL, and so may rows */
	{
		FILE *f = fmemopen(b.s, b.len, "r");
		struct fw_diag d;
		int calls = 0;

		CHECK(f != NULL);
		if (f != NULL) {
			CHECK_EQ(fw_devfile_parse(f, FW_DEVFILE_CSV, count_rows, &calls, NULL, NULL, NULL, &d),
			         FW_OK);
			CHECK_EQ(calls, 10000);
			fclose(f);
		}
	}
	free(b.s);
}

static void t_bad_arguments(void)
{
	struct fw_diag d;
	char text[] = HDR7;
	FILE *f = fmemopen(text, strlen(text), "r");
	uint64_t rows = 7;
	int calls = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_EQ(fw_devfile_parse(NULL, 0, count_rows, NULL, NULL, NULL, &rows, &d), FW_E_ARG);
	CHECK_EQ(fw_devfile_parse(f, 0, NULL, NULL, NULL, NULL, &rows, &d), FW_E_ARG);
	CHECK_EQ(fw_devfile_parse(f, 3, count_rows, NULL, NULL, NULL, &rows, &d), FW_E_ARG);
	CHECK_EQ(fw_devfile_parse(f, -1, count_rows, NULL, NULL, NULL, &rows, &d), FW_E_ARG);
	CHECK_EQ(rows, 7);
	/* d may be NULL */
	CHECK_EQ(fw_devfile_parse(f, 0, count_rows, &calls, NULL, NULL, &rows, NULL), FW_OK);
	CHECK_EQ(rows, 0);
	fclose(f);
}

static void t_read_error(void)
{
	struct fw_diag d;
	uint64_t rows = 7;
	int calls = 0;
	/* a stream open for writing only: reading it fails */
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/wo.csv", harness_tmpdir());
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_EQ(fw_devfile_parse(f, 0, count_rows, &calls, NULL, NULL, &rows, &d), FW_E_IO);
	CHECK(strstr(d.msg, "read error") != NULL);
	CHECK_EQ(rows, 7);
	fclose(f);
}

/* ---- JSON lines ---- */

#define JROW(id)                                                                        \
	"{\"device_id\":\"" id "\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\"," \
	"\"fw_version\":\"1.0\",\"support_until\":\"2030-01-01\",\"lifecycle\":\"active\"}\n"
#define JREQ                                                                         \
	"\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\",\"fw_version\":\"1.0\"," \
	"\"support_until\":\"2030-01-01\",\"lifecycle\":\"active\""

static void t_jsonl_basic(void)
{
	struct got g;
	const char *cert = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
	struct sb b = {0};

	sb_add(&b, "\n" JROW("d1") "  \n");
	sb_add(&b, "{\"device_id\":\"d2\"," JREQ ",\"cohorts\":[\"beta\",\"eu\",\"x y\"],"
	           "\"certificate\":\"%s\"}\r\n",
	           cert);
	sb_add(&b, "{\"device_id\":\"d3\"," JREQ ",\"cohorts\":\"a;b\"}\n");
	sb_add(&b, "{\"device_id\":\"d4\"," JREQ ",\"cohorts\":[]}\n");
	sb_add(&b, "{\"device_id\":\"caf\\u00e9\\\"\"," JREQ "}");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(g.rows, 5);
	CHECK_EQ(g.format[0], FW_DEVFILE_JSONL);
	CHECK_EQ(g.line[0], 2);
	CHECK_EQ(g.line[1], 4);
	CHECK_EQ(g.line[4], 7);
	CHECK(streq(g.f[0][FW_DEVCOL_DEVICE_ID], "d1"));
	CHECK(streq(g.f[0][FW_DEVCOL_COHORTS], ""));
	CHECK(streq(g.f[0][FW_DEVCOL_CERTIFICATE], ""));
	CHECK(streq(g.f[0][FW_DEVCOL_SUPPORT_UNTIL], "2030-01-01"));
	CHECK(streq(g.f[1][FW_DEVCOL_COHORTS], "beta;eu;x y"));
	CHECK(streq(g.f[1][FW_DEVCOL_CERTIFICATE],
	            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"));
	CHECK(streq(g.f[2][FW_DEVCOL_COHORTS], "a;b"));
	CHECK(streq(g.f[3][FW_DEVCOL_COHORTS], ""));
	CHECK(streq(g.f[4][FW_DEVCOL_DEVICE_ID], "caf\xc3\xa9\""));
	CHECK_EQ(g.col[0][FW_DEVCOL_DEVICE_ID], 0);
	CHECK_EQ(g.col[1][FW_DEVCOL_CERTIFICATE], 0);
	got_free(&g);
	/* BOM, forced format */
	CHECK_EQ(parse("\xef\xbb\xbf" JROW("d1"), FW_DEVFILE_JSONL, &g), FW_OK);
	CHECK_EQ(g.rows, 1);
	got_free(&g);
	free(b.s);
}

static void t_jsonl_errors(void)
{
	static const char nul[] = JROW("d1") "{\"device_id\":\"a\0\"}\n";

	EXPECT_ERR(JROW("d1") "{\"device_id\":\"d2\"," JREQ ",\"colour\":\"red\"}\n", 0, FW_E_FORMAT,
	           "line 2", "unknown field \"colour\"", "known: device_id, product");
	EXPECT_ERR(JROW("d1") "\n{\"device_id\":\"d2\",\"device_id\":\"d3\"," JREQ "}\n", 0,
	           FW_E_FORMAT, "line 3", "duplicate object key");
	/* invalid JSON: the line, and jansson's column and position in it */
	EXPECT_ERR(JROW("d1") JROW("d2") "{\"device_id\":\"d3\" \"product\":\"p\"}\n", 0,
	           FW_E_FORMAT, "line 3, column 27 (byte 27): invalid JSON", "'}' expected");
	EXPECT_ERR(JROW("d1") "{\"device_id\":\"d2\",\n", 0, FW_E_FORMAT, "line 2, column",
	           "invalid JSON");
	EXPECT_ERR(JROW("d1") "{} {}\n", 0, FW_E_FORMAT, "line 2", "invalid JSON",
	           "end of file expected");
	EXPECT_ERR(JROW("d1") "[\"device_id\"]\n", 0, FW_E_FORMAT, "line 2: an array, not a JSON object");
	EXPECT_ERR(JROW("d1") "\"device_id\"\n", 0, FW_E_FORMAT, "line 2", "invalid JSON");
	EXPECT_ERR("{\"device_id\":7," JREQ "}\n", 0, FW_E_FORMAT,
	           "line 1, field \"device_id\": an integer, not a string");
	EXPECT_ERR("{\"device_id\":\"d\"," JREQ ",\"certificate\":null}\n", 0, FW_E_FORMAT,
	           "line 1, field \"certificate\": null, not a string");
	EXPECT_ERR("{\"device_id\":[\"d\"]," JREQ "}\n", 0, FW_E_FORMAT,
	           "line 1, field \"device_id\": an array, not a string");
	EXPECT_ERR("{\"device_id\":\"d\"," JREQ ",\"cohorts\":{}}\n", 0, FW_E_FORMAT,
	           "field \"cohorts\": an object, not a string or an array of strings");
	EXPECT_ERR("{\"device_id\":\"d\"," JREQ ",\"cohorts\":[\"a\",1]}\n", 0, FW_E_FORMAT,
	           "line 1, field \"cohorts\": element 2 is an integer");
	EXPECT_ERR("{\"device_id\":\"d\"," JREQ ",\"cohorts\":[\"a\",\"b;c\"]}\n", 0, FW_E_FORMAT,
	           "line 1, field \"cohorts\": element 2 contains ';'");
	EXPECT_ERR("{\"device_id\":\"d\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\","
	           "\"fw_version\":\"1.0\",\"support_until\":\"2030-01-01\"}\n",
	           0, FW_E_FORMAT, "line 1: missing field \"lifecycle\"");
	EXPECT_ERR("{\"device_id\":\"\\u0000\"," JREQ "}\n", 0, FW_E_FORMAT, "line 1",
	           "invalid JSON");
	expect_err(__LINE__, nul, sizeof(nul) - 1, 0, FW_E_FORMAT, "line 2, column 16: NUL",
	           NULL);
	/* a CSV header read as JSON lines, and the other way round */
	EXPECT_ERR(HDR7 ROW7("d1"), FW_DEVFILE_JSONL, FW_E_FORMAT, "line 1", "invalid JSON");
	EXPECT_ERR(JROW("d1"), FW_DEVFILE_CSV, FW_E_FORMAT, "line 1, column 1",
	           "quote inside an unquoted field");
}

static void t_jsonl_limits(void)
{
	struct got g;
	struct sb b = {0};

	sb_add(&b, "{\"device_id\":\"");
	sb_rep(&b, 'd', FW_DEVFILE_MAX_FIELD);
	sb_add(&b, "\"," JREQ "}\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	got_free(&g);
	b.len = 0;
	sb_add(&b, JROW("d1") "{\"device_id\":\"");
	sb_rep(&b, 'd', FW_DEVFILE_MAX_FIELD + 1);
	sb_add(&b, "\"," JREQ "}\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE,
	           "line 2, field \"device_id\": longer than 256 bytes", NULL);
	/* joined cohorts count with their separators */
	b.len = 0;
	sb_add(&b, "{\"device_id\":\"d\"," JREQ ",\"cohorts\":[\"");
	sb_rep(&b, 'c', 200);
	sb_add(&b, "\",\"");
	sb_rep(&b, 'c', 55);
	sb_add(&b, "\"]}\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	CHECK_EQ(strlen(g.f[0][FW_DEVCOL_COHORTS]), 256);
	got_free(&g);
	b.len = 0;
	sb_add(&b, "{\"device_id\":\"d\"," JREQ ",\"cohorts\":[\"");
	sb_rep(&b, 'c', 200);
	sb_add(&b, "\",\"");
	sb_rep(&b, 'c', 56);
	sb_add(&b, "\"]}\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "field \"cohorts\": longer than 256",
	           NULL);
	/* certificate: 16 KiB */
	b.len = 0;
	sb_add(&b, "{\"device_id\":\"d\"," JREQ ",\"certificate\":\"");
	sb_rep(&b, 'c', FW_DEVFILE_MAX_CERT);
	sb_add(&b, "\"}\n");
	CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
	got_free(&g);
	b.len = 0;
	sb_add(&b, "{\"device_id\":\"d\"," JREQ ",\"certificate\":\"");
	sb_rep(&b, 'c', FW_DEVFILE_MAX_CERT + 1);
	sb_add(&b, "\"}\n");
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE,
	           "line 1, field \"certificate\": longer than 16384", NULL);
	/* a line: 64 KiB, also when it is the last one, without '\n' */
	b.len = 0;
	sb_add(&b, JROW("d1") "{\"device_id\":\"d\"," JREQ "}");
	sb_rep(&b, ' ', FW_DEVFILE_MAX_RECORD);
	sb_add(&b, "\n" JROW("d3"));
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 2: line longer than 65536",
	           NULL);
	b.len = 0;
	sb_add(&b, JROW("d1") "{\"device_id\":\"d\"," JREQ "}");
	sb_rep(&b, ' ', FW_DEVFILE_MAX_RECORD);
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 2: line longer than 65536",
	           NULL);
	/* a line longer than the parser's read buffer, more lines after it */
	b.len = 0;
	sb_add(&b, JROW("d1") "{\"device_id\":\"d\"," JREQ "}");
	sb_rep(&b, ' ', 4 * FW_DEVFILE_MAX_RECORD);
	sb_add(&b, "\n");
	sb_rep(&b, '\n', 4 * FW_DEVFILE_MAX_RECORD);
	sb_add(&b, JROW("d3"));
	expect_err(__LINE__, b.s, b.len, 0, FW_E_TOO_LARGE, "line 2: line longer than 65536",
	           NULL);
	/* many lines close to the limit cross the read buffer's edges */
	b.len = 0;
	{
		int i;

		for (i = 0; i < 12; i++) {
			sb_add(&b, "{\"device_id\":\"d%d\"," JREQ "}", i);
			sb_rep(&b, ' ', FW_DEVFILE_MAX_RECORD - 200 - (size_t)i * 7);
			sb_add(&b, "\n");
		}
		CHECK_EQ(parse_n(b.s, b.len, 0, 0, &g), FW_OK);
		CHECK_EQ(g.rows, 12);
		CHECK(streq(g.f[11][FW_DEVCOL_DEVICE_ID], "d11"));
		CHECK_EQ(g.line[11], 12);
		got_free(&g);
	}
	free(b.s);
}

static void t_detection(void)
{
	struct got g;

	CHECK_EQ(parse(" \n\t\r\n" JROW("d1"), 0, &g), FW_OK);
	CHECK_EQ(g.format[0], FW_DEVFILE_JSONL);
	CHECK_EQ(g.line[0], 3);
	got_free(&g);
	CHECK_EQ(parse("\xef\xbb\xbf\n" JROW("d1"), 0, &g), FW_OK);
	CHECK_EQ(g.format[0], FW_DEVFILE_JSONL);
	CHECK_EQ(g.line[0], 2);
	got_free(&g);
	CHECK_EQ(parse("\n" HDR7 ROW7("d"), 0, &g), FW_OK);
	CHECK_EQ(g.format[0], FW_DEVFILE_CSV);
	got_free(&g);
	/* not '{' first: CSV, even if it looks like JSON later */
	EXPECT_ERR("[" JROW("d1"), 0, FW_E_FORMAT, "line 1, column 1", "quote inside");
}

static const struct harness_test tests[] = {
    {"devcol_names", t_devcol_names},
    {"csv_basic", t_csv_basic},
    {"csv_header_order_and_optional", t_csv_header_order_and_optional},
    {"csv_header_errors", t_csv_header_errors},
    {"csv_quoted_pem", t_csv_quoted_pem},
    {"csv_quote_escapes", t_csv_quote_escapes},
    {"csv_crlf", t_csv_crlf},
    {"csv_bom", t_csv_bom},
    {"csv_field_counts", t_csv_field_counts},
    {"csv_syntax_errors", t_csv_syntax_errors},
    {"csv_empty_lines", t_csv_empty_lines},
    {"empty_and_header_only", t_empty_and_header_only},
    {"csv_limits", t_csv_limits},
    {"csv_streaming", t_csv_streaming},
    {"callback_error_stops", t_callback_error_stops},
    {"no_row_after_error", t_no_row_after_error},
    {"progress", t_progress},
    {"bad_arguments", t_bad_arguments},
    {"read_error", t_read_error},
    {"jsonl_basic", t_jsonl_basic},
    {"jsonl_errors", t_jsonl_errors},
    {"jsonl_limits", t_jsonl_limits},
    {"detection", t_detection},
};
HARNESS_MAIN(tests)
