/*
 * src/ddi: the pure parts of the hawkBit device API (ddi.h): the feedback
 * parser (strict JSON, and the lenient reading of SWUpdate 2022.12's
 * unescaped details), the integrity-failure test on details and the
 * polling sleep format. The HTTP side is tests/e2e/test_ddi.py.
 *
 * Every body is handed over in a heap buffer of exactly its length, not
 * NUL-terminated, so the sanitizer build sees any read past it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ddi/ddi.h"
#include "harness.h"

#define MAXD FW_DDI_MAX_DETAILS

static struct fw_ddi_feedback fb;
static struct fw_diag dg;

static int parse_n(const void *body, size_t n)
{
	uint8_t *b = malloc(n > 0 ? n : 1);
	int rc;

	if (b == NULL)
		abort();
	memcpy(b, body, n);
	memset(&dg, 0, sizeof(dg));
	rc = fw_ddi_feedback_parse(b, n, &fb, &dg);
	free(b);
	/* whatever was accepted must be fit for the evidence record */
	if (rc == FW_OK) {
		CHECK(memchr(fb.details, 0, sizeof(fb.details)) != NULL);
		CHECK(strlen(fb.details) <= MAXD);
		CHECK(fb.details[0] == 0 || fw_text_valid(fb.details));
	} else {
		CHECK(dg.msg[0] != 0);
	}
	return rc;
}

static int parse(const char *body)
{
	return parse_n(body, strlen(body));
}

static int msg_has(const char *s)
{
	if (strstr(dg.msg, s) != NULL)
		return 1;
	fprintf(stderr, "  message '%s' does not name '%s'\n", dg.msg, s);
	return 0;
}

static int details_are(const char *s)
{
	if (strcmp(fb.details, s) == 0)
		return 1;
	fprintf(stderr, "  details '%s', expected '%s'\n", fb.details, s);
	return 0;
}

/* A body with status.details = [<list>] (the list's text as given). */
static char *with_details(const char *exec, const char *fin, const char *list)
{
	static const char fmt[] =
	    "{\"status\":{\"execution\":\"%s\",\"result\":{\"finished\":\"%s\"},"
	    "\"details\":[%s]}}";
	size_t n = sizeof(fmt) + strlen(exec) + strlen(fin) + strlen(list);
	char *b = malloc(n);

	if (b == NULL)
		abort();
	snprintf(b, n, fmt, exec, fin, list);
	return b;
}

/* Parse a body with one detail string (raw text inside the quotes). */
static int parse_detail(const char *raw)
{
	char *q = malloc(strlen(raw) + 3), *b;
	int rc;

	if (q == NULL)
		abort();
	sprintf(q, "\"%s\"", raw);
	b = with_details("proceeding", "none", q);
	rc = parse(b);
	free(b);
	free(q);
	return rc;
}

static char *repeat(char c, size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

/* ---- values ---- */

static void t_execution_values(void)
{
	static const struct {
		const char *name;
		int v;
	} ex[] = {{"closed", FW_DDI_CLOSED},         {"proceeding", FW_DDI_PROCEEDING},
	          {"canceled", FW_DDI_CANCELED},     {"scheduled", FW_DDI_SCHEDULED},
	          {"rejected", FW_DDI_REJECTED},     {"resumed", FW_DDI_RESUMED},
	          {"downloaded", FW_DDI_DOWNLOADED}, {"download", FW_DDI_DOWNLOAD}};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		char b[160];

		snprintf(b, sizeof(b),
		         "{\"status\":{\"execution\":\"%s\",\"result\":{\"finished\":\"none\"}}}",
		         ex[i].name);
		CHECK_EQ(parse(b), FW_OK);
		CHECK_EQ(fb.execution, ex[i].v);
		CHECK_EQ(fb.finished, FW_DDI_NONE);
		CHECK_EQ(fb.lenient, 0);
		CHECK(details_are(""));
	}
	/* exact names only */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"Closed\",\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed \",\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK_EQ(parse("{\"status\":{\"execution\":\"\",\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK_EQ(parse("{\"status\":{\"execution\":\"done\",\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
}

static void t_finished_values(void)
{
	static const struct {
		const char *name;
		int v;
	} fin[] = {{"success", FW_DDI_SUCCESS}, {"failure", FW_DDI_FAILURE}, {"none", FW_DDI_NONE}};

	for (size_t i = 0; i < sizeof(fin) / sizeof(fin[0]); i++) {
		char b[160];

		snprintf(b, sizeof(b),
		         "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"%s\"}}}",
		         fin[i].name);
		CHECK_EQ(parse(b), FW_OK);
		CHECK_EQ(fb.execution, FW_DDI_CLOSED);
		CHECK_EQ(fb.finished, fin[i].v);
	}
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"ok\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"Success\"}}}"),
	         FW_E_FORMAT);
	/* hawkBit's other members are read past */
	CHECK_EQ(parse("{\"timestamp\":1691065781929,\"status\":{\"execution\":\"proceeding\","
	               "\"result\":{\"finished\":\"none\",\"progress\":{\"cnt\":2,\"of\":5}},"
	               "\"code\":200,\"details\":[\"free text\",\"\\u2026\"]}}"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_PROCEEDING);
	CHECK(details_are("free text; \xe2\x80\xa6"));
}

/* ---- refusals ---- */

static void t_missing_fields(void)
{
	CHECK_EQ(parse("{}"), FW_E_FORMAT);
	CHECK(msg_has("status"));
	CHECK_EQ(parse("{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"}}"), FW_E_FORMAT);
	CHECK(msg_has("status"));
	CHECK_EQ(parse("{\"status\":{\"result\":{\"finished\":\"none\"}}}"), FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\"}}"), FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{}}}"), FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
	/* finished beside result, not in it */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"finished\":\"success\"}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
}

static void t_wrong_types(void)
{
	CHECK_EQ(parse("[]"), FW_E_FORMAT);
	CHECK(msg_has("status"));
	CHECK_EQ(parse("\"status\""), FW_E_FORMAT);
	CHECK_EQ(parse("{\"status\":[]}"), FW_E_FORMAT);
	CHECK(msg_has("status"));
	CHECK_EQ(parse("{\"status\":\"closed\"}"), FW_E_FORMAT);
	CHECK_EQ(parse("{\"status\":{\"execution\":1,\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
	CHECK_EQ(parse("{\"status\":{\"execution\":null,\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
	CHECK_EQ(parse("{\"status\":{\"execution\":[\"closed\"],\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.execution"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":\"success\"}}"), FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":true}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.result.finished"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":\"text\"}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.details"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":{\"a\":\"b\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.details"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":[\"a\",7]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.details[1]"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":[null]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.details[0]"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":[[\"nested\"]]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("status.details[0]"));
	/* null details: "an array of strings is expected" too */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"},"
	               "\"details\":null}}"),
	         FW_E_FORMAT);
}

static void t_duplicate_keys(void)
{
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"execution\":\"proceeding\","
	               "\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("duplicate"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"failure\","
	               "\"finished\":\"success\"}}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("duplicate"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"}},"
	               "\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"}}}"),
	         FW_E_FORMAT);
	/* a "details" key does not make a duplicate a SWUpdate body */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"success\"},"
	               "\"details\":[\"x\"],\"execution\":\"proceeding\"}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("duplicate"));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"success\"},"
	               "\"details\":[\"x\"],\"details\":[\"y\"]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("duplicate"));
}

static void t_empty_and_nul(void)
{
	static const char ok[] =
	    "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"none\"}}}";
	static const char nul_in_details[] =
	    "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"failure\"},"
	    "\"details\":[\"a\0b\"]}}";
	uint8_t one = 0;

	memset(&dg, 0, sizeof(dg));
	CHECK_EQ(fw_ddi_feedback_parse(NULL, 0, &fb, &dg), FW_E_FORMAT);
	CHECK(msg_has("empty"));
	memset(&dg, 0, sizeof(dg));
	CHECK_EQ(fw_ddi_feedback_parse(&one, 0, &fb, &dg), FW_E_FORMAT);
	CHECK(msg_has("empty"));
	CHECK_EQ(parse(" "), FW_E_FORMAT);
	CHECK_EQ(parse("\n\n"), FW_E_FORMAT);
	CHECK_EQ(parse("null"), FW_E_FORMAT);
	/* a NUL byte anywhere is refused, also where the lenient reading
	 * would otherwise apply */
	CHECK_EQ(parse_n(nul_in_details, sizeof(nul_in_details) - 1), FW_E_FORMAT);
	CHECK_EQ(parse_n(ok, sizeof(ok)), FW_E_FORMAT); /* the terminator counted */
	CHECK_EQ(parse_n("\0", 1), FW_E_FORMAT);
}

/* ---- details ---- */

static void t_details_join(void)
{
	char *b;

	b = with_details("closed", "failure", "\"a\",\"b\",\"c\"");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are("a; b; c"));
	free(b);
	b = with_details("closed", "failure", "");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are(""));
	free(b);
	b = with_details("closed", "failure", "\"\"");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are(""));
	free(b);
	b = with_details("closed", "failure", "\"\",\"b\",\"\",\"d\",\"\"");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are("b; d"));
	free(b);
	b = with_details("closed", "failure", "\" a \",\"b\"");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are(" a; b"));
	free(b);
	/* an escaped quote and backslash are text */
	b = with_details("closed", "failure", "\"say \\\"hi\\\" C:\\\\x\"");
	CHECK_EQ(parse(b), FW_OK);
	CHECK(details_are("say \"hi\" C:\\x"));
	CHECK_EQ(fb.lenient, 0);
	free(b);
}

static void t_details_control_characters(void)
{
	CHECK_EQ(parse_detail("a\\tb\\nc\\rd\\u0001e\\u001ff"), FW_OK);
	CHECK(details_are("a b c d e f"));
	CHECK_EQ(parse_detail("a\\u007fb"), FW_OK); /* DEL */
	CHECK(details_are("a b"));
	CHECK_EQ(parse_detail("a\\u0085b\\u009bc"), FW_OK); /* C1: NEL, CSI */
	CHECK(details_are("a b c"));
	CHECK_EQ(parse_detail("\\u00a0\\u00e9\\u20ac\\ud83d\\ude00"), FW_OK); /* not controls */
	CHECK(details_are("\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	/* no trailing blanks, of the whole or of a part */
	CHECK_EQ(parse_detail("done \\n\\t "), FW_OK);
	CHECK(details_are("done"));
	CHECK_EQ(parse_detail("\\n\\n"), FW_OK);
	CHECK(details_are(""));
	{
		char *b = with_details("closed", "failure", "\"a  \",\"b\\n\"");

		CHECK_EQ(parse(b), FW_OK);
		CHECK(details_are("a; b"));
		free(b);
	}
}

/* Invalid UTF-8 cannot be in valid JSON: such a body is read leniently,
 * and the list's text is cleaned. */
static void t_details_invalid_utf8(void)
{
	static const struct {
		const char *list, *want;
	} v[] = {
	    {"\"a\x80z\"", "\"a?z\""},                         /* lone continuation */
	    {"\"a\xbf\xbfz\"", "\"a??z\""},                    /* two of them */
	    {"\"a\xc0\x80z\"", "\"a??z\""},                    /* overlong NUL */
	    {"\"a\xc1\xbfz\"", "\"a??z\""},                    /* overlong DEL */
	    {"\"a\xe0\x80\xafz\"", "\"a???z\""},               /* overlong '/' in 3 bytes */
	    {"\"a\xf0\x80\x80\xafz\"", "\"a????z\""},          /* overlong '/' in 4 bytes */
	    {"\"a\xed\xa0\x80z\"", "\"a???z\""},               /* surrogate D800 */
	    {"\"a\xf4\x90\x80\x80z\"", "\"a????z\""},          /* above U+10FFFF */
	    {"\"a\xf8\x88\x80\x80\x80z\"", "\"a?????z\""},     /* 5-byte form */
	    {"\"a\xfe\xffz\"", "\"a??z\""},                    /* never in UTF-8 */
	    {"\"a\xe2\x82z\"", "\"a??z\""},                    /* truncated, inside */
	    {"\"a\xf0\x9f\x98\"", "\"a???\""},                 /* truncated before the quote */
	    {"\"ab\"\xe2\x82", "\"ab\"??"},                    /* truncated at the very end */
	    {"\"ab\"\xf0\x9f\x98", "\"ab\"???"},
	    {"\"ab\"\xc3", "\"ab\"?"},
	    {"\"\xc3\xa9\x80\xe2\x82\xac\"", "\"\xc3\xa9?\xe2\x82\xac\""}, /* valid ones kept */
	    {"\"a\x01z\"", "\"a z\""}, /* a raw control character breaks JSON too */
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *b = with_details("closed", "failure", v[i].list);

		CHECK_EQ(parse(b), FW_OK);
		CHECK_EQ(fb.lenient, 1);
		CHECK_EQ(fb.execution, FW_DDI_CLOSED);
		CHECK_EQ(fb.finished, FW_DDI_FAILURE);
		if (!details_are(v[i].want))
			fprintf(stderr, "  (case %zu)\n", i);
		CHECK(strcmp(fb.details, v[i].want) == 0);
		free(b);
	}
}

/* The cut: at most FW_DDI_MAX_DETAILS bytes, never inside a character. */
static void t_details_limit(void)
{
	static const struct {
		size_t pad;
		const char *ch;
		size_t want;
	} v[] = {
	    {MAXD + 200, "", MAXD},
	    {MAXD, "", MAXD},
	    {MAXD - 1, "\xc3\xa9", MAXD - 1},           /* 2 bytes over by one: dropped */
	    {MAXD - 2, "\xc3\xa9", MAXD},               /* ends exactly at the limit */
	    {MAXD - 2, "\xe2\x82\xac", MAXD - 2},       /* 3 bytes */
	    {MAXD - 3, "\xe2\x82\xac", MAXD},
	    {MAXD - 1, "\xe2\x82\xac", MAXD - 1},
	    {MAXD - 3, "\xf0\x9f\x98\x80", MAXD - 3},   /* 4 bytes */
	    {MAXD - 4, "\xf0\x9f\x98\x80", MAXD},
	    {MAXD - 2, "\xf0\x9f\x98\x80", MAXD - 2},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = repeat('a', v[i].pad, v[i].ch);

		CHECK_EQ(parse_detail(s), FW_OK);
		CHECK_EQ(strlen(fb.details), v[i].want);
		CHECK(strncmp(fb.details, s, v[i].want) == 0);
		free(s);
	}
	/* the same through the lenient reading (the quotes are text there) */
	{
		char *s = repeat('a', MAXD - 2, "\xc3\xa9\x80"), *q = malloc(MAXD + 8), *b;

		sprintf(q, "\"%s\"", s);
		b = with_details("closed", "failure", q);
		CHECK_EQ(parse(b), FW_OK);
		CHECK_EQ(fb.lenient, 1);
		CHECK_EQ(strlen(fb.details), MAXD - 1); /* '"' and the a's: é would pass the limit */
		free(b);
		free(q);
		free(s);
	}
}

/* Joined parts cut at the limit: the result is a prefix of the whole
 * joined text (less trailing blanks), never two parts glued together. */
static void t_details_join_at_limit(void)
{
	for (size_t pad = MAXD - 6; pad <= MAXD + 1; pad++) {
		char *a = repeat('a', pad, ""), *list = malloc(pad + 32), *b;
		char *joined = malloc(pad + 32);

		sprintf(list, "\"%s\",\"xyz\"", a);
		sprintf(joined, "%s; xyz", a);
		b = with_details("closed", "failure", list);
		CHECK_EQ(parse(b), FW_OK);
		CHECK(strlen(fb.details) <= MAXD);
		CHECK(strncmp(fb.details, joined, strlen(fb.details)) == 0);
		if (pad <= MAXD - 5)
			CHECK(details_are(joined));
		if (pad >= MAXD - 1)
			CHECK_EQ(strlen(fb.details), pad < MAXD ? pad : MAXD);
		free(b);
		free(joined);
		free(list);
		free(a);
	}
	/* many short parts */
	{
		char list[4096] = "";
		char joined[4096] = "";

		for (int i = 0; i < 150; i++) {
			char part[32];

			snprintf(part, sizeof(part), "part %03d", i);
			strcat(list, i ? ",\"" : "\"");
			strcat(list, part);
			strcat(list, "\"");
			if (i)
				strcat(joined, "; ");
			strcat(joined, part);
		}
		char *b = with_details("proceeding", "none", list);

		CHECK_EQ(parse(b), FW_OK);
		CHECK(strlen(fb.details) <= MAXD && strlen(fb.details) >= MAXD - 10);
		CHECK(strncmp(fb.details, joined, strlen(fb.details)) == 0);
		free(b);
	}
}

/* ---- SWUpdate 2022.12 (specs/ddi-swupdate.md) ---- */

static void t_swupdate_bodies(void)
{
	/* 2.5: progress while installing */
	CHECK_EQ(parse("{ \"id\": 7, \"time\": \"20261126T042612\", \"status\": { \"result\": { "
	               "\"progress\": { \"cnt\" : 0, \"of\" : 1 }, \"finished\": \"none\" },\n"
	               "  \"execution\": \"proceeding\", \"details\" : [ \"Installing Update Chunk "
	               "Artifacts.\" ] } }"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_PROCEEDING);
	CHECK_EQ(fb.finished, FW_DDI_NONE);
	CHECK_EQ(fb.lenient, 0);
	CHECK(details_are("Installing Update Chunk Artifacts."));
	/* 2.5: log forwarding with an empty batch */
	CHECK_EQ(parse("{ \"id\": 7, \"time\": \"20261126T042612\", \"status\": { \"result\": { "
	               "\"progress\": { \"cnt\" : 1, \"of\" : 0 }, \"finished\": \"none\" },"
	               "\"execution\": \"proceeding\",\"details\" : [   ] } }"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_PROCEEDING);
	CHECK(details_are(""));
	/* 2.5: failure, escaped by luck (bad signature) */
	CHECK_EQ(parse("{ \"id\": 7, \"time\": \"20261126T042612\", \"status\": { \"result\": { "
	               "\"progress\": { \"cnt\" : 0, \"of\" : 1 }, \"finished\": \"failure\" },"
	               "\"execution\": \"closed\",\"details\" : [ \"ERROR : Compatible SW not "
	               "found\",\"No suitable .swu image found\" ] } }"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_CLOSED);
	CHECK_EQ(fb.finished, FW_DDI_FAILURE);
	CHECK_EQ(fb.lenient, 0);
	CHECK(details_are("ERROR : Compatible SW not found; No suitable .swu image found"));
	CHECK_EQ(fw_ddi_integrity_failure(fb.details), 0);
	/* 2.5: failure with unescaped quotes (what tests/e2e/test_ddi.py sends) */
	CHECK_EQ(parse("{ \"id\": 101, \"time\": \"20261126T042612\", \"status\": { \"result\": { "
	               "\"progress\": { \"cnt\" : 0, \"of\" : 1 }, \"finished\": \"failure\" }, "
	               "\"execution\": \"closed\", \"details\" : [ \"ERROR : HASH mismatch : "
	               "\"abc\" <--> \"def\"\",\"No suitable .swu image found\" ] } }"),
	         FW_OK);
	CHECK_EQ(fb.lenient, 1);
	CHECK_EQ(fb.execution, FW_DDI_CLOSED);
	CHECK_EQ(fb.finished, FW_DDI_FAILURE);
	CHECK(details_are(" \"ERROR : HASH mismatch : \"abc\" <--> \"def\"\",\"No suitable .swu "
	                  "image found\"")); /* the list's text, less the trailing blank */
	CHECK(strstr(fb.details, "HASH mismatch") != NULL);
	CHECK_EQ(fw_ddi_integrity_failure(fb.details), 1);
	/* an unescaped backslash */
	CHECK_EQ(parse("{ \"id\": 7, \"status\": { \"result\": { \"finished\": \"failure\" }, "
	               "\"execution\": \"closed\", \"details\" : [ \"cannot open C:\\tmp\\x.swu\" ] "
	               "} }"),
	         FW_OK);
	CHECK_EQ(fb.lenient, 1);
	CHECK_EQ(fb.finished, FW_DDI_FAILURE);
	CHECK(strstr(fb.details, "C:\\tmp\\x.swu") != NULL);
	/* 2.5: the -c report after the reboot */
	CHECK_EQ(parse("{\"id\":7,\"time\":\"20261126T042612\",\"status\":{\"result\":{\"progress\":"
	               "{\"cnt\":0,\"of\":0},\"finished\":\"success\"},\"execution\":\"closed\","
	               "\"details\":[\"Update Installed.\"]}}"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_CLOSED);
	CHECK_EQ(fb.finished, FW_DDI_SUCCESS);
	CHECK(details_are("Update Installed."));
	/* 2.6: cancel acknowledged */
	CHECK_EQ(parse("{ \"id\": 7, \"time\": \"20261126T042700\", \"status\": { \"result\": { "
	               "\"finished\": \"success\" }, \"execution\": \"closed\",\n  \"details\" : [ "
	               "\"cancellation acknowledged.\" ] } }"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_CLOSED);
	CHECK_EQ(fb.finished, FW_DDI_SUCCESS);
	CHECK_EQ(fb.lenient, 0);
	CHECK(details_are("cancellation acknowledged."));
	/* 2.8: the configData body is a valid feedback body too */
	CHECK_EQ(parse("{ \"id\": \"\", \"time\": \"20261126T042529\", \"status\": { \"result\": { "
	               "\"finished\": \"success\" }, \"execution\": \"closed\",\n  \"details\" : [ "
	               "\"\" ] }, \"data\" : {  \"serialNo\": \"SN-0001\",\"hwRevision\": \"1.0\" } }"),
	         FW_OK);
	CHECK_EQ(fb.execution, FW_DDI_CLOSED);
	CHECK_EQ(fb.finished, FW_DDI_SUCCESS);
	CHECK_EQ(fb.lenient, 0);
	CHECK(details_are(""));
	/* 2.9: swupdate-ipc sendtohawkbit's JSON ("status" is a string) */
	CHECK_EQ(parse("{\"id\":\"7\",\"status\":\"2\",\"finished\":\"success\",\"execution\":"
	               "\"closed\",\"details\":[\"text\"]}"),
	         FW_E_FORMAT);
}

/* Invalid JSON that is not SWUpdate's case is refused with the place. */
static void t_invalid_json(void)
{
	char *b;

	/* no "details" key */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"failure\"},"
	               "\"note\":[\"a \"b\"\"]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	CHECK_EQ(parse("{\"status\":{\n\"execution\":\"closed\",\n\"result\":{\"finished\":"
	               "\"failure\"} \"x\"\n}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("line 3, column "));
	/* unknown execution or finished values */
	b = with_details("exploded", "failure", "\"a \"b\"\"");
	CHECK_EQ(parse(b), FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	free(b);
	b = with_details("closed", "done", "\"a \"b\"\"");
	CHECK_EQ(parse(b), FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	free(b);
	/* execution or finished missing */
	CHECK_EQ(parse("{\"status\":{\"result\":{\"finished\":\"failure\"},\"details\":[\"a \"b\"\"]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"details\":[\"a \"b\"\"]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	/* values that are not strings */
	CHECK_EQ(parse("{\"status\":{\"execution\":1,\"result\":{\"finished\":\"failure\"},"
	               "\"details\":[\"a \"b\"\"]}}"),
	         FW_E_FORMAT);
	/* broken before "details", not inside it */
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\" \"result\":{\"finished\":\"failure\"},"
	               "\"details\":[\"x\"]}}"),
	         FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	CHECK_EQ(parse("{\"status\":{\"execution\":\"closed\",\"res"), FW_E_FORMAT);
	CHECK(msg_has("line 1, column "));
	/* "details" only past the body's end is not read */
	{
		static const char whole[] =
		    "{\"status\":{\"execution\":\"closed\",\"result\":{\"finished\":\"failure\"},"
		    "\"details\":[\"x \"y\"\"]}}";
		size_t cut = (size_t)(strstr(whole, "\"details\"") - whole);

		CHECK_EQ(parse_n(whole, cut), FW_E_FORMAT);
		CHECK(msg_has("line 1, column "));
		/* the same in one buffer, as an HTTP layer might hold it */
		memset(&dg, 0, sizeof(dg));
		CHECK_EQ(fw_ddi_feedback_parse((const uint8_t *)whole, cut, &fb, &dg), FW_E_FORMAT);
	}
}

/* ---- integrity failures and the sleep ---- */

static void t_integrity_failure(void)
{
	static const char *const yes[] = {
	    "integrity: image_digest",
	    "ERROR : HASH mismatch : abc <--> def",
	    "Checksum does not match",
	    "Image invalid or corrupted. Not installing ...",
	    "Authentication of all signatures failed",
	    "Signature verification failed",
	    "first; integrity: manifest_signature",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (fw_ddi_integrity_failure(yes[i]) != 1)
			fprintf(stderr, "  not an integrity failure: '%s'\n", yes[i]);
		CHECK_EQ(fw_ddi_integrity_failure(yes[i]), 1);
	}
	CHECK_EQ(fw_ddi_integrity_failure("install failed (simulated)"), 0);
	/* what SWUpdate forwards when the signature is good */
	CHECK_EQ(fw_ddi_integrity_failure("[verify_signer_certs] : Verified signature 0 in signer "
	                                  "sequence"),
	         0);
	CHECK_EQ(fw_ddi_integrity_failure("ERROR : Compatible SW not found"), 0);
	CHECK_EQ(fw_ddi_integrity_failure("integrity"), 0);
	CHECK_EQ(fw_ddi_integrity_failure(""), 0);
	CHECK_EQ(fw_ddi_integrity_failure(NULL), 0);
}

/* SWUpdate forwards its log in batches of up to 48 lines, the refusal near
 * the end: past the FW_DDI_MAX_DETAILS cut. It still counts, and the
 * details start from it; without a refusal nothing moves. */
static void t_integrity_past_the_cut(void)
{
	static const char trace[] = "[channel_log_effective_url] : Channel s effective URL "
	                            "resolved to http://127.0.0.1:8080/DEFAULT/controller/v1/x";
	static const char hash[] = "ERROR : HASH mismatch : 9cc686 <--> b9c77b";
	static const char invalid[] = "Image invalid or corrupted. Not installing ...";
	char list[8192] = "", *b;
	size_t n = 0;

	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s %02d\"", i ? "," : "",
		                      trace, i);
	/* no refusal: cut in order */
	b = with_details("proceeding", "none", list);
	CHECK_EQ(parse(b), FW_OK);
	free(b);
	CHECK_EQ(fb.integrity, 0);
	CHECK(strncmp(fb.details, trace, strlen(trace)) == 0);
	CHECK(strlen(fb.details) > MAXD - 100);
	/* the refusal at the end, past the cut */
	snprintf(list + n, sizeof(list) - n, ",\"%s\",\"%s\"", hash, invalid);
	b = with_details("proceeding", "none", list);
	CHECK_EQ(parse(b), FW_OK);
	free(b);
	CHECK_EQ(fb.integrity, 1);
	CHECK(strncmp(fb.details, hash, strlen(hash)) == 0);
	CHECK(strstr(fb.details, "; [channel_log_effective_url]") != NULL);
	CHECK_EQ(fw_ddi_integrity_failure(fb.details), 1);
	/* the refusal within the cut: the details as they came */
	b = with_details("closed", "failure", "\"ERROR : HASH mismatch : a <--> b\",\"No "
	                                      "suitable .swu image found\"");
	CHECK_EQ(parse(b), FW_OK);
	free(b);
	CHECK_EQ(fb.integrity, 1);
	CHECK(details_are("ERROR : HASH mismatch : a <--> b; No suitable .swu image found"));
	b = with_details("closed", "failure", "\"ERROR : Compatible SW not found\",\"No "
	                                      "suitable .swu image found\"");
	CHECK_EQ(parse(b), FW_OK);
	free(b);
	CHECK_EQ(fb.integrity, 0);
	/* the lenient reading (unescaped quotes), the refusal past the cut */
	{
		static const char from[] = "HASH mismatch : \"abc\" <--> \"def\"";
		char body[8192];
		size_t m = (size_t)snprintf(body, sizeof(body),
		                            "{ \"status\": { \"result\": { \"finished\": "
		                            "\"failure\" }, \"execution\": \"closed\", "
		                            "\"details\" : [ ");

		for (int i = 0; i < 30; i++)
			m += (size_t)snprintf(body + m, sizeof(body) - m, "\"say \"%02d\" %s\",", i,
			                      trace);
		snprintf(body + m, sizeof(body) - m,
		         "\"ERROR : HASH mismatch : \"abc\" <--> \"def\"\" ] } }");
		CHECK_EQ(parse(body), FW_OK);
		CHECK_EQ(fb.lenient, 1);
		CHECK_EQ(fb.integrity, 1);
		CHECK(strncmp(fb.details, from, strlen(from)) == 0);
		CHECK(strstr(fb.details, "say \"00\"") != NULL);
	}
}

static void t_sleep_format(void)
{
	static const struct {
		unsigned s;
		const char *want;
	} v[] = {{0, "00:00:00"},     {1, "00:00:01"},     {59, "00:00:59"},
	         {60, "00:01:00"},    {300, "00:05:00"},   {3599, "00:59:59"},
	         {3600, "01:00:00"},  {86399, "23:59:59"}, {86400, "23:59:59"},
	         {90000, "23:59:59"}, {4294967295u, "23:59:59"}};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char out[9];

		memset(out, 'x', sizeof(out));
		fw_ddi_sleep_format(v[i].s, out);
		CHECK(memchr(out, 0, sizeof(out)) != NULL);
		if (memcmp(out, v[i].want, 9) != 0)
			harness_fail(__FILE__, __LINE__, "sleep %u: '%.9s'", v[i].s, out);
	}
}

static const struct harness_test tests[] = {
    {"execution_values", t_execution_values},
    {"finished_values", t_finished_values},
    {"missing_fields", t_missing_fields},
    {"wrong_types", t_wrong_types},
    {"duplicate_keys", t_duplicate_keys},
    {"empty_and_nul", t_empty_and_nul},
    {"details_join", t_details_join},
    {"details_control_characters", t_details_control_characters},
    {"details_invalid_utf8", t_details_invalid_utf8},
    {"details_limit", t_details_limit},
    {"details_join_at_limit", t_details_join_at_limit},
    {"swupdate_bodies", t_swupdate_bodies},
    {"invalid_json", t_invalid_json},
    {"integrity_failure", t_integrity_failure},
    {"integrity_past_the_cut", t_integrity_past_the_cut},
    {"sleep_format", t_sleep_format},
};
HARNESS_MAIN(tests)
