/*
 * Campaign policy files: the documented example, defaults, every rule
 * refused with its JSON path (each bound accepted at its edge and refused
 * just past it), invalid JSON, size limits, and the normalized JSON round
 * trip that gets hashed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/policy.h"
#include "rollout/rollout.h"

#define FULL                                                                                    \
	"{\n"                                                                                       \
	"  \"name\": \"ctl-a 2.4.1 security update\",\n"                                            \
	"  \"release\": \"7794d89e\",\n"                                                            \
	"  \"targeting\": {\n"                                                                      \
	"    \"cohorts\": [\"eu\", \"beta\"],\n"                                                    \
	"    \"product\": \"controller\",\n"                                                        \
	"    \"family\": \"ctl-a\",\n"                                                              \
	"    \"hw_revisions\": [\"B\", \"C\"]\n"                                                    \
	"  },\n"                                                                                    \
	"  \"stages\": [\n"                                                                         \
	"    {\"name\": \"canary\", \"size\": {\"percent\": 1}, \"approvals\": 2, \"soak_s\": 3600},\n" \
	"    {\"name\": \"early\", \"size\": {\"percent\": 10}, \"approvals\": 1, \"soak_s\": 7200},\n" \
	"    {\"name\": \"rest\", \"size\": {\"percent\": 100}, \"approvals\": 0, \"soak_s\": 0}\n"  \
	"  ],\n"                                                                                    \
	"  \"success_threshold\": 95,\n"                                                            \
	"  \"pause\": {\"failure_rate\": {\"percent\": 5, \"min_reports\": 20}, \"max_failures\": 50, " \
	"\"on_integrity_failure\": true},\n"                                                        \
	"  \"retry\": {\"max_attempts\": 3, \"backoff_s\": 600},\n"                                 \
	"  \"report_timeout_s\": 86400,\n"                                                          \
	"  \"rollback\": {\"release\": \"1234abcd\", \"automatic\": false},\n"                      \
	"  \"quarantine\": {\"after_failed_attempts\": 3, \"on_integrity_failure\": true}\n"        \
	"}\n"

/* the minimal policy with "X" (more top-level members, or nothing) */
#define MIN_HEAD "{\"name\":\"n\",\"release\":\"0123abcd\","
#define MIN_STAGES "\"stages\":[{\"name\":\"all\",\"size\":{\"percent\":100}}]"

static struct fw_campaign_policy *alloc_policy(void)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));

	if (p == NULL) {
		harness_fail(__FILE__, __LINE__, "out of memory");
		exit(1);
	}
	memset(p, 0, sizeof(*p));
	return p;
}

static int parse(const char *json, struct fw_campaign_policy *p, struct fw_diag *d)
{
	memset(d, 0, sizeof(*d));
	return fw_campaign_policy_parse(json, strlen(json), "p.json", p, d);
}

/* json must be refused with FW_E_FORMAT and a message holding want (the
 * JSON path and reason); *out must stay untouched */
static void refused_at(const char *file, int line, const char *json, const char *want)
{
	struct fw_campaign_policy *p = alloc_policy(), *unset = alloc_policy();
	struct fw_diag d;
	int rc;

	memset(p, 0x5c, sizeof(*p));
	memset(unset, 0x5c, sizeof(*unset));
	rc = parse(json, p, &d);
	if (rc != FW_E_FORMAT)
		harness_fail(file, line, "rc %d, expected FW_E_FORMAT for %s (%s)", rc, json, d.msg);
	else if (strncmp(d.msg, "p.json: ", 8) != 0 || strstr(d.msg, want) == NULL)
		harness_fail(file, line, "message \"%s\" does not hold \"%s\"", d.msg, want);
	else if (strchr(d.msg, '\n') != NULL)
		harness_fail(file, line, "message has a line break: %s", d.msg);
	if (memcmp(p, unset, sizeof(*p)) != 0)
		harness_fail(file, line, "output written on failure");
	free(p);
	free(unset);
}
#define REFUSED(json, want) refused_at(__FILE__, __LINE__, json, want)

static void accepted_at(const char *file, int line, const char *json)
{
	struct fw_campaign_policy *p = alloc_policy();
	struct fw_diag d;
	int rc = parse(json, p, &d);

	if (rc != FW_OK)
		harness_fail(file, line, "refused (%d): %s", rc, d.msg);
	free(p);
}
#define ACCEPTED(json) accepted_at(__FILE__, __LINE__, json)

/* strings joined into out (cap bytes, cut if longer); the list ends with NULL */
static char *cat(char *out, size_t cap, ...)
{
	const char *s;
	size_t o = 0;
	va_list ap;

	va_start(ap, cap);
	while ((s = va_arg(ap, const char *)) != NULL)
		while (*s && o + 1 < cap)
			out[o++] = *s++;
	va_end(ap);
	out[o] = '\0';
	return out;
}

/* a minimal policy with one more top-level member */
static const char *with(const char *member)
{
	static char buf[4][8192];
	static int k;
	char *out = buf[k++ % 4];

	return cat(out, sizeof(buf[0]), MIN_HEAD, member, "," MIN_STAGES "}", NULL);
}

/* a policy with the given stages array body */
static const char *stages(const char *body)
{
	static char buf[4][8192];
	static int k;
	char *out = buf[k++ % 4];

	return cat(out, sizeof(buf[0]), MIN_HEAD "\"stages\":[", body, "]}", NULL);
}

/* a stage with a given extra member, followed by the 100% stage */
static const char *stage_with(const char *member)
{
	static char buf[4][8192];
	static int k;
	char *out = buf[k++ % 4];

	return cat(out, sizeof(buf[0]), MIN_HEAD "\"stages\":[{\"name\":\"a\",\"size\":{\"percent\":1}",
	           member[0] ? "," : "", member, "},{\"name\":\"b\",\"size\":{\"percent\":100}}]}",
	           NULL);
}

static void t_full_example(void)
{
	struct fw_campaign_policy *p = alloc_policy();
	struct fw_diag d;

	CHECK_EQ(parse(FULL, p, &d), FW_OK);
	CHECK(strcmp(p->name, "ctl-a 2.4.1 security update") == 0);
	CHECK(strcmp(p->release, "7794d89e") == 0);
	CHECK_EQ(p->ncohorts, 2);
	CHECK(strcmp(p->cohorts[0], "beta") == 0); /* a set: sorted by bytes */
	CHECK(strcmp(p->cohorts[1], "eu") == 0);
	CHECK(strcmp(p->product, "controller") == 0);
	CHECK(strcmp(p->family, "ctl-a") == 0);
	CHECK_EQ(p->nhw, 2);
	CHECK(strcmp(p->hw[0], "B") == 0 && strcmp(p->hw[1], "C") == 0);
	CHECK_EQ(p->nstages, 3);
	CHECK(strcmp(p->stages[0].name, "canary") == 0);
	CHECK_EQ(p->stages[0].size_kind, FW_STAGE_PERCENT);
	CHECK_EQ(p->stages[0].percent, 1);
	CHECK_EQ(p->stages[0].approvals, 2);
	CHECK_EQ(p->stages[0].soak_s, 3600);
	CHECK(strcmp(p->stages[1].name, "early") == 0);
	CHECK_EQ(p->stages[1].percent, 10);
	CHECK_EQ(p->stages[1].approvals, 1);
	CHECK_EQ(p->stages[1].soak_s, 7200);
	CHECK(strcmp(p->stages[2].name, "rest") == 0);
	CHECK_EQ(p->stages[2].percent, 100);
	CHECK_EQ(p->stages[2].approvals, 0);
	CHECK_EQ(p->stages[2].soak_s, 0);
	CHECK_EQ(p->success_threshold, 95);
	CHECK_EQ(p->fail_rate_percent, 5);
	CHECK_EQ(p->fail_rate_min_reports, 20);
	CHECK_EQ(p->max_failures, 50);
	CHECK_EQ(p->retry_max_attempts, 3);
	CHECK_EQ(p->retry_backoff_s, 600);
	CHECK_EQ(p->report_timeout_s, 86400);
	CHECK(strcmp(p->rollback_release, "1234abcd") == 0);
	CHECK_EQ(p->rollback_automatic, 0);
	CHECK_EQ(p->quarantine_after, 3);
	free(p);
}

static void t_defaults(void)
{
	struct fw_campaign_policy *p = alloc_policy();
	struct fw_diag d;

	CHECK_EQ(parse(MIN_HEAD MIN_STAGES "}", p, &d), FW_OK);
	CHECK(strcmp(p->name, "n") == 0);
	CHECK(strcmp(p->release, "0123abcd") == 0);
	CHECK_EQ(p->ncohorts, 0);
	CHECK_EQ(p->nhw, 0);
	CHECK(p->product[0] == '\0' && p->family[0] == '\0');
	CHECK_EQ(p->nstages, 1);
	CHECK(strcmp(p->stages[0].name, "all") == 0);
	CHECK_EQ(p->stages[0].size_kind, FW_STAGE_PERCENT);
	CHECK_EQ(p->stages[0].percent, 100);
	CHECK_EQ(p->stages[0].approvals, 0);
	CHECK_EQ(p->stages[0].soak_s, 0);
	CHECK_EQ(p->success_threshold, 95);
	CHECK_EQ(p->fail_rate_percent, 10);
	CHECK_EQ(p->fail_rate_min_reports, 20);
	CHECK_EQ(p->max_failures, 0);
	CHECK_EQ(p->retry_max_attempts, 3);
	CHECK_EQ(p->retry_backoff_s, 600);
	CHECK_EQ(p->report_timeout_s, 86400);
	CHECK(p->rollback_release[0] == '\0');
	CHECK_EQ(p->rollback_automatic, 0);
	CHECK_EQ(p->quarantine_after, 3);

	/* quarantine follows retry.max_attempts when not given */
	CHECK_EQ(parse(with("\"retry\":{\"max_attempts\":7}"), p, &d), FW_OK);
	CHECK_EQ(p->quarantine_after, 7);
	CHECK_EQ(p->retry_backoff_s, 600);
	/* empty objects take every default; null = none / any where documented */
	CHECK_EQ(parse(with("\"pause\":{\"failure_rate\":{}},\"retry\":{},\"quarantine\":{},"
	                    "\"targeting\":{\"product\":null,\"family\":null},\"rollback\":null"),
	               p, &d),
	         FW_OK);
	CHECK_EQ(p->fail_rate_percent, 10);
	CHECK_EQ(p->quarantine_after, 3);
	CHECK(p->product[0] == '\0' && p->rollback_release[0] == '\0');
	CHECK_EQ(parse(with("\"pause\":{\"max_failures\":null}"), p, &d), FW_OK);
	CHECK_EQ(p->max_failures, 0);
	CHECK_EQ(parse(with("\"rollback\":{\"release\":\"ffffffff\",\"automatic\":true}"), p, &d),
	         FW_OK);
	CHECK(strcmp(p->rollback_release, "ffffffff") == 0);
	CHECK_EQ(p->rollback_automatic, 1);
	/* count and cohort stages */
	CHECK_EQ(parse(stages("{\"name\":\"lab\",\"size\":{\"cohort\":\"lab-1\"}},"
	                      "{\"name\":\"first\",\"size\":{\"count\":500}},"
	                      "{\"name\":\"all\",\"size\":{\"percent\":100}}"),
	               p, &d),
	         FW_OK);
	CHECK_EQ(p->nstages, 3);
	CHECK_EQ(p->stages[0].size_kind, FW_STAGE_COHORT);
	CHECK(strcmp(p->stages[0].cohort, "lab-1") == 0);
	CHECK_EQ(p->stages[1].size_kind, FW_STAGE_COUNT);
	CHECK_EQ(p->stages[1].count, 500);
	free(p);
}

static void t_unknown_keys(void)
{
	REFUSED(with("\"nmae\":1"), "p.json: nmae: unknown key (name, release, targeting, stages,");
	REFUSED(with("\"targeting\":{\"cohort\":[]}"),
	        "targeting.cohort: unknown key (cohorts, product, family, hw_revisions, versions)");
	REFUSED(stage_with("\"sise\":1"), "stages[0].sise: unknown key (name, size, approvals, soak_s)");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":100,\"pct\":1}}"),
	        "stages[0].size.pct: unknown key (percent, count, cohort)");
	REFUSED(with("\"pause\":{\"x\":1}"),
	        "pause.x: unknown key (failure_rate, max_failures, on_integrity_failure)");
	REFUSED(with("\"pause\":{\"failure_rate\":{\"percent\":5,\"reports\":3}}"),
	        "pause.failure_rate.reports: unknown key (percent, min_reports)");
	REFUSED(with("\"retry\":{\"attempts\":3}"), "retry.attempts: unknown key (max_attempts, backoff_s)");
	REFUSED(with("\"rollback\":{\"release\":\"ffffffff\",\"auto\":true}"),
	        "rollback.auto: unknown key (release, automatic)");
	REFUSED(with("\"quarantine\":{\"after\":3}"),
	        "quarantine.after: unknown key (after_failed_attempts, on_integrity_failure)");
	/* a key with odd bytes is shown escaped, on one line */
	REFUSED(with("\"a\\nb\":1"), "a\\x0ab: unknown key");
}

static void t_required(void)
{
	REFUSED("{\"release\":\"0123abcd\"," MIN_STAGES "}", "p.json: name: missing (required)");
	REFUSED("{\"name\":\"n\"," MIN_STAGES "}", "p.json: release: missing (required)");
	REFUSED(MIN_HEAD "\"success_threshold\":95}", "p.json: stages: missing (required)");
	REFUSED(stages("{\"size\":{\"percent\":100}}"), "stages[0].name: missing (required)");
	REFUSED(stages("{\"name\":\"a\"}"), "stages[0].size: missing (required)");
	REFUSED(with("\"rollback\":{\"automatic\":true}"), "rollback.release: missing");
}

static void t_types(void)
{
	REFUSED("[]", "p.json: top level: an array, not an object");
	REFUSED(MIN_HEAD MIN_STAGES ",\"success_threshold\":\"95\"}",
	        "success_threshold: a string, not an integer");
	REFUSED(with("\"success_threshold\":95.0"), "success_threshold: a number with a fraction");
	REFUSED(with("\"success_threshold\":1e2"), "success_threshold: a number with a fraction");
	REFUSED(with("\"report_timeout_s\":true"), "report_timeout_s: true, not an integer");
	REFUSED(with("\"report_timeout_s\":null"), "report_timeout_s: null, not an integer");
	REFUSED("{\"name\":5,\"release\":\"0123abcd\"," MIN_STAGES "}",
	        "p.json: name: an integer, not a string");
	REFUSED("{\"name\":\"n\",\"release\":[]," MIN_STAGES "}", "release: an array, not a string");
	REFUSED(with("\"targeting\":[]"), "targeting: an array, not an object");
	REFUSED(with("\"targeting\":{\"cohorts\":\"eu\"}"), "targeting.cohorts: a string, not an array");
	REFUSED(with("\"targeting\":{\"cohorts\":[1]}"), "targeting.cohorts[0]: an integer, not a string");
	REFUSED(with("\"targeting\":{\"product\":7}"), "targeting.product: an integer, not a string");
	REFUSED(with("\"targeting\":{\"hw_revisions\":[\"B\",false]}"),
	        "targeting.hw_revisions[1]: false, not a string");
	REFUSED(MIN_HEAD "\"stages\":{}}", "stages: an object, not an array");
	REFUSED(stages("[]"), "stages[0]: an array, not an object");
	REFUSED(stages("{\"name\":\"a\",\"size\":100}"), "stages[0].size: an integer, not an object");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":\"100\"}}"),
	        "stages[0].size.percent: a string, not an integer");
	REFUSED(stage_with("\"approvals\":1.5"), "stages[0].approvals: a number with a fraction");
	REFUSED(stage_with("\"soak_s\":\"60\""), "stages[0].soak_s: a string, not an integer");
	REFUSED(with("\"pause\":true"), "pause: true, not an object");
	REFUSED(with("\"pause\":{\"failure_rate\":5}"), "pause.failure_rate: an integer, not an object");
	REFUSED(with("\"pause\":{\"max_failures\":\"50\"}"), "pause.max_failures: a string, not an integer");
	REFUSED(with("\"pause\":{\"on_integrity_failure\":1}"),
	        "pause.on_integrity_failure: an integer, not true or false");
	REFUSED(with("\"rollback\":{\"release\":\"ffffffff\",\"automatic\":0}"),
	        "rollback.automatic: an integer, not true or false");
	REFUSED(with("\"rollback\":\"ffffffff\""), "rollback: a string, not an object");
	REFUSED(with("\"retry\":null"), "retry: null, not an object");
	REFUSED(with("\"quarantine\":{\"on_integrity_failure\":\"true\"}"),
	        "quarantine.on_integrity_failure: a string, not true or false");
}

static void t_text_bounds(void)
{
	char name[200], buf[8192];
	char long_text[300];

	/* name: 1..128 bytes of text */
	memset(name, 'x', 128);
	name[128] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\":\"%s\",\"release\":\"0123abcd\"," MIN_STAGES "}", name);
	ACCEPTED(buf);
	snprintf(buf, sizeof(buf), "{\"name\":\"%sx\",\"release\":\"0123abcd\"," MIN_STAGES "}", name);
	REFUSED(buf, "p.json: name: 129 bytes, more than 128");
	REFUSED("{\"name\":\"\",\"release\":\"0123abcd\"," MIN_STAGES "}", "name: empty");
	REFUSED("{\"name\":\"a\\tb\",\"release\":\"0123abcd\"," MIN_STAGES "}",
	        "name: \"a\\x09b\" is not UTF-8 text without control characters");
	ACCEPTED("{\"name\":\"caf\\u00e9 \\u2603\",\"release\":\"0123abcd\"," MIN_STAGES "}");
	REFUSED("{\"name\":\"a\\u0000b\",\"release\":\"0123abcd\"," MIN_STAGES "}", "invalid JSON");

	/* release: 8..64 lower-case hex */
	ACCEPTED("{\"name\":\"n\",\"release\":\"01234567\"," MIN_STAGES "}");
	REFUSED("{\"name\":\"n\",\"release\":\"0123456\"," MIN_STAGES "}",
	        "release: \"0123456\" is not a release id or prefix (8..64 lower-case hex digits)");
	snprintf(buf, sizeof(buf), "{\"name\":\"n\",\"release\":\"%s\"," MIN_STAGES "}",
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ACCEPTED(buf);
	snprintf(buf, sizeof(buf), "{\"name\":\"n\",\"release\":\"%s0\"," MIN_STAGES "}",
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	REFUSED(buf, "p.json: release: \"");
	REFUSED("{\"name\":\"n\",\"release\":\"0123ABCD\"," MIN_STAGES "}", "release: \"0123ABCD\" is not");
	REFUSED("{\"name\":\"n\",\"release\":\"0123abcg\"," MIN_STAGES "}", "release: \"0123abcg\" is not");

	/* product, family, hw_revisions: text 1..255; cohorts: names 1..255 */
	memset(long_text, 'p', 255);
	long_text[255] = '\0';
	snprintf(buf, sizeof(buf),
	         "\"targeting\":{\"product\":\"%s\",\"family\":\"%s\",\"hw_revisions\":[\"%s\"],"
	         "\"cohorts\":[\"%s\"]}",
	         long_text, long_text, long_text, long_text);
	ACCEPTED(with(buf));
	snprintf(buf, sizeof(buf), "\"targeting\":{\"product\":\"%sp\"}", long_text);
	REFUSED(with(buf), "targeting.product: 256 bytes, more than 255");
	snprintf(buf, sizeof(buf), "\"targeting\":{\"family\":\"%sp\"}", long_text);
	REFUSED(with(buf), "targeting.family: 256 bytes, more than 255");
	snprintf(buf, sizeof(buf), "\"targeting\":{\"hw_revisions\":[\"A\",\"%sp\"]}", long_text);
	REFUSED(with(buf), "targeting.hw_revisions[1]: 256 bytes, more than 255");
	snprintf(buf, sizeof(buf), "\"targeting\":{\"cohorts\":[\"%sp\"]}", long_text);
	REFUSED(with(buf), "targeting.cohorts[0]: 256 bytes, more than 255");
	REFUSED(with("\"targeting\":{\"product\":\"\"}"), "targeting.product: empty");
	REFUSED(with("\"targeting\":{\"hw_revisions\":[\"\"]}"), "targeting.hw_revisions[0]: empty");
	REFUSED(with("\"targeting\":{\"cohorts\":[\"eu\",\"e u\"]}"),
	        "targeting.cohorts[1]: \"e u\": byte 2 is not one of A-Z a-z 0-9 . _ -");
	ACCEPTED(with("\"targeting\":{\"cohorts\":[\"A-z_0.9\"],\"hw_revisions\":[\"rev B\"]}"));

	/* stage names: [A-Za-z0-9._-]{1,64}; cohort sizes: names 1..255 */
	memset(name, 's', 64);
	name[64] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\":\"%s\",\"size\":{\"percent\":100}}", name);
	ACCEPTED(stages(buf));
	snprintf(buf, sizeof(buf), "{\"name\":\"%ss\",\"size\":{\"percent\":100}}", name);
	REFUSED(stages(buf), "stages[0].name: 65 bytes, more than 64");
	REFUSED(stages("{\"name\":\"\",\"size\":{\"percent\":100}}"), "stages[0].name: empty");
	REFUSED(stages("{\"name\":\"can ary\",\"size\":{\"percent\":100}}"),
	        "stages[0].name: \"can ary\": byte 4 is not one of");
	snprintf(buf, sizeof(buf),
	         "{\"name\":\"a\",\"size\":{\"cohort\":\"%s\"}},{\"name\":\"b\",\"size\":{\"percent\":"
	         "100}}",
	         long_text);
	ACCEPTED(stages(buf));
	snprintf(buf, sizeof(buf),
	         "{\"name\":\"a\",\"size\":{\"cohort\":\"%sp\"}},{\"name\":\"b\",\"size\":{\"percent\":"
	         "100}}",
	         long_text);
	REFUSED(stages(buf), "stages[0].size.cohort: 256 bytes, more than 255");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"cohort\":\"e/u\"}},{\"name\":\"b\",\"size\":{"
	               "\"percent\":100}}"),
	        "stages[0].size.cohort: \"e/u\": byte 2 is not one of");
}

static void t_array_bounds(void)
{
	char buf[8192], list[4096];
	size_t i, o;

	/* cohorts: 0..64 */
	for (i = 0, o = 0; i < 64; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"c%zu\"", i ? "," : "", i);
	snprintf(buf, sizeof(buf), "\"targeting\":{\"cohorts\":[%s]}", list);
	ACCEPTED(with(buf));
	snprintf(buf, sizeof(buf), "\"targeting\":{\"cohorts\":[%s,\"c64\"]}", list);
	REFUSED(with(buf), "targeting.cohorts: 65 entries, more than 64");
	ACCEPTED(with("\"targeting\":{\"cohorts\":[],\"hw_revisions\":[]}"));

	/* hw_revisions: 0..16 */
	for (i = 0, o = 0; i < 16; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"r%zu\"", i ? "," : "", i);
	snprintf(buf, sizeof(buf), "\"targeting\":{\"hw_revisions\":[%s]}", list);
	ACCEPTED(with(buf));
	snprintf(buf, sizeof(buf), "\"targeting\":{\"hw_revisions\":[%s,\"r16\"]}", list);
	REFUSED(with(buf), "targeting.hw_revisions: 17 entries, more than 16");

	/* stages: 1..16 */
	for (i = 0, o = 0; i < 16; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o,
		                      "%s{\"name\":\"s%zu\",\"size\":{\"percent\":%zu}}", i ? "," : "", i,
		                      i == 15 ? 100 : i + 1);
	ACCEPTED(stages(list));
	for (i = 0, o = 0; i < 17; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o,
		                      "%s{\"name\":\"s%zu\",\"size\":{\"percent\":%zu}}", i ? "," : "", i,
		                      i == 16 ? 100 : i + 1);
	REFUSED(stages(list), "p.json: stages: 17 entries, not 1..16");
	REFUSED(stages(""), "p.json: stages: 0 entries, not 1..16");
}

/* a minimal policy with one integer member set: accepted at lo and hi,
 * refused at lo-1 (when lo > 0) and hi+1 with "<path>: <v> is not lo..hi" */
/* tmpl with its "%lld" replaced by x */
static const char *fill(char *out, size_t cap, const char *tmpl, long long x)
{
	const char *at = strstr(tmpl, "%lld");
	char num[32], head[2048];
	size_t n = at ? (size_t)(at - tmpl) : strlen(tmpl);

	snprintf(num, sizeof(num), "%lld", x);
	if (n >= sizeof(head))
		n = sizeof(head) - 1;
	memcpy(head, tmpl, n);
	head[n] = '\0';
	return cat(out, cap, head, num, at ? at + 4 : "", NULL);
}

static void int_edges_at(const char *file, int line, const char *tmpl, const char *path,
                         long long lo, long long hi)
{
	char buf[2048], want[256];

	accepted_at(file, line, fill(buf, sizeof(buf), tmpl, lo));
	accepted_at(file, line, fill(buf, sizeof(buf), tmpl, hi));
	snprintf(want, sizeof(want), "%s: %lld is not %lld..%lld", path, hi + 1, lo, hi);
	refused_at(file, line, fill(buf, sizeof(buf), tmpl, hi + 1), want);
	snprintf(want, sizeof(want), "%s: %lld is not %lld..%lld", path, lo - 1, lo, hi);
	refused_at(file, line, fill(buf, sizeof(buf), tmpl, lo - 1), want);
}
#define INT_EDGES(fmt, path, lo, hi) int_edges_at(__FILE__, __LINE__, fmt, path, lo, hi)

#define FMT_WITH(member) MIN_HEAD member "," MIN_STAGES "}"
#define FMT_STAGE(member)                                                                        \
	MIN_HEAD "\"stages\":[{\"name\":\"a\",\"size\":{\"count\":1}," member                        \
	         "},{\"name\":\"b\",\"size\":{\"percent\":100}}]}"

static void t_int_bounds(void)
{
	/* percent: 1 in a first stage, 100 in the last; 0 and 101 refused by range */
	ACCEPTED(stages("{\"name\":\"a\",\"size\":{\"percent\":1}},"
	                "{\"name\":\"b\",\"size\":{\"percent\":100}}"));
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":0}},"
	               "{\"name\":\"b\",\"size\":{\"percent\":100}}"),
	        "stages[0].size.percent: 0 is not 1..100");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":101}}"),
	        "stages[0].size.percent: 101 is not 1..100");
	INT_EDGES(MIN_HEAD "\"stages\":[{\"name\":\"a\",\"size\":{\"count\":%lld}},"
	                   "{\"name\":\"b\",\"size\":{\"percent\":100}}]}",
	          "stages[0].size.count", 1, 10000000);
	INT_EDGES(FMT_STAGE("\"approvals\":%lld"), "stages[0].approvals", 0, 10);
	INT_EDGES(FMT_STAGE("\"soak_s\":%lld"), "stages[0].soak_s", 0, 31536000);
	INT_EDGES(FMT_WITH("\"success_threshold\":%lld"), "success_threshold", 1, 100);
	INT_EDGES(FMT_WITH("\"pause\":{\"failure_rate\":{\"percent\":%lld}}"),
	          "pause.failure_rate.percent", 1, 100);
	INT_EDGES(FMT_WITH("\"pause\":{\"failure_rate\":{\"min_reports\":%lld}}"),
	          "pause.failure_rate.min_reports", 1, 1000000);
	INT_EDGES(FMT_WITH("\"pause\":{\"max_failures\":%lld}"), "pause.max_failures", 1, 10000000);
	INT_EDGES(FMT_WITH("\"retry\":{\"max_attempts\":%lld,\"backoff_s\":5},\"quarantine\":{"
	                   "\"after_failed_attempts\":1}"),
	          "retry.max_attempts", 1, 10);
	INT_EDGES(FMT_WITH("\"retry\":{\"backoff_s\":%lld}"), "retry.backoff_s", 0, 604800);
	INT_EDGES(FMT_WITH("\"report_timeout_s\":%lld"), "report_timeout_s", 60, 2592000);
	INT_EDGES(FMT_WITH("\"retry\":{\"max_attempts\":10},\"quarantine\":{"
	                   "\"after_failed_attempts\":%lld}"),
	          "quarantine.after_failed_attempts", 1, 10);
	/* beyond jansson's integers: invalid JSON, not a wrapped value */
	REFUSED(with("\"success_threshold\":99999999999999999999"), "invalid JSON");
	REFUSED(with("\"success_threshold\":-9223372036854775808"),
	        "success_threshold: -9223372036854775808 is not 1..100");
}

static void t_stage_rules(void)
{
	/* percents strictly increasing across percent stages */
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":10}},"
	               "{\"name\":\"b\",\"size\":{\"percent\":10}},"
	               "{\"name\":\"c\",\"size\":{\"percent\":100}}"),
	        "p.json: stages[1].size.percent: 10 is not more than 10 of stages[0]");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":50}},"
	               "{\"name\":\"b\",\"size\":{\"count\":3}},"
	               "{\"name\":\"c\",\"size\":{\"percent\":20}},"
	               "{\"name\":\"d\",\"size\":{\"percent\":100}}"),
	        "stages[2].size.percent: 20 is not more than 50 of stages[0]");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":100}},"
	               "{\"name\":\"b\",\"size\":{\"percent\":100}}"),
	        "stages[1].size.percent: 100 is not more than 100 of stages[0]");
	/* the last stage covers everyone */
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":10}},"
	               "{\"name\":\"b\",\"size\":{\"percent\":99}}"),
	        "stages[1].size: the last stage must be {\"percent\": 100} so that everyone eligible "
	        "is covered; it is {\"percent\": 99}");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"count\":10}}"),
	        "stages[0].size: the last stage must be {\"percent\": 100}");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":10}},"
	               "{\"name\":\"b\",\"size\":{\"cohort\":\"eu\"}}"),
	        "it is {\"cohort\": \"eu\"}");
	/* unique names */
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":10}},"
	               "{\"name\":\"b\",\"size\":{\"count\":5}},"
	               "{\"name\":\"a\",\"size\":{\"percent\":100}}"),
	        "stages[2].name: \"a\" repeats stages[0].name");
	/* exactly one size kind */
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"percent\":100,\"count\":5}}"),
	        "stages[0].size: both percent and count: give exactly one of percent, count, cohort");
	REFUSED(stages("{\"name\":\"a\",\"size\":{\"count\":5,\"cohort\":\"eu\"}},"
	               "{\"name\":\"b\",\"size\":{\"percent\":100}}"),
	        "stages[0].size: both count and cohort");
	REFUSED(stages("{\"name\":\"a\",\"size\":{}}"),
	        "stages[0].size: empty: give exactly one of percent, count, cohort");
}

static void t_set_rules(void)
{
	REFUSED(with("\"targeting\":{\"cohorts\":[\"eu\",\"beta\",\"eu\"]}"),
	        "targeting.cohorts[2]: \"eu\" repeats targeting.cohorts[0]");
	REFUSED(with("\"targeting\":{\"hw_revisions\":[\"B\",\"B\"]}"),
	        "targeting.hw_revisions[1]: \"B\" repeats targeting.hw_revisions[0]");
	/* duplicate keys are invalid JSON */
	REFUSED(MIN_HEAD MIN_STAGES ",\"name\":\"m\"}", "invalid JSON: duplicate object key");
}

static void t_pause_quarantine_rollback(void)
{
	REFUSED(with("\"pause\":{\"on_integrity_failure\":false}"),
	        "pause.on_integrity_failure: false is not allowed: an integrity failure always "
	        "pauses");
	ACCEPTED(with("\"pause\":{\"on_integrity_failure\":true}"));
	REFUSED(with("\"quarantine\":{\"on_integrity_failure\":false}"),
	        "quarantine.on_integrity_failure: false is not allowed");
	ACCEPTED(with("\"quarantine\":{\"on_integrity_failure\":true}"));
	REFUSED(with("\"retry\":{\"max_attempts\":2},\"quarantine\":{\"after_failed_attempts\":3}"),
	        "quarantine.after_failed_attempts: 3 is more than retry.max_attempts (2)");
	REFUSED(with("\"quarantine\":{\"after_failed_attempts\":4}"),
	        "quarantine.after_failed_attempts: 4 is more than retry.max_attempts (3)");
	ACCEPTED(with("\"retry\":{\"max_attempts\":2},\"quarantine\":{\"after_failed_attempts\":2}"));
	/* rollback */
	REFUSED(with("\"rollback\":{\"release\":\"0123abcd\"}"),
	        "rollback.release: 0123abcd names the release being rolled out (release 0123abcd)");
	/* a prefix of the other: both resolve to the same release */
	REFUSED(with("\"rollback\":{\"release\":\"0123abcd99\"}"),
	        "rollback.release: 0123abcd99 names the release being rolled out");
	REFUSED(with("\"rollback\":{\"release\":\"0123abc\"}"),
	        "rollback.release: \"0123abc\" is not a release id or prefix");
	REFUSED(with("\"rollback\":{\"release\":\"0123ABCE\"}"), "rollback.release: \"0123ABCE\" is not");
	ACCEPTED(with("\"rollback\":{\"release\":\"0123abce\"}"));
}

static void t_invalid_json(void)
{
	struct fw_campaign_policy *p = alloc_policy();
	struct fw_diag d;

	REFUSED("{\n  \"name\": \"n\",\n  \"release\" \"0123abcd\"\n}",
	        "p.json: line 3, column 22: invalid JSON: ':' expected near");
	REFUSED("", "p.json: line 1, column 0: invalid JSON:");
	REFUSED("{\"name\":\"n\"} x", "invalid JSON: end of file expected");
	REFUSED("\"just a string\"", "invalid JSON");
	REFUSED("{\"name\":\"\xff\"}", "invalid JSON");
	/* NUL bytes in the text are refused, not read as the end */
	CHECK_EQ(fw_campaign_policy_parse(MIN_HEAD MIN_STAGES "}\0junk",
	                                  sizeof(MIN_HEAD MIN_STAGES "}\0junk") - 1, "p.json", p, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "p.json: line 1") != NULL);
	/* label NULL and arguments */
	CHECK_EQ(fw_campaign_policy_parse("[]", 2, NULL, p, &d), FW_E_FORMAT);
	CHECK(strncmp(d.msg, "policy: top level: ", 19) == 0);
	CHECK_EQ(fw_campaign_policy_parse(NULL, 0, "x", p, &d), FW_E_ARG);
	CHECK_EQ(fw_campaign_policy_parse("{}", 2, "x", NULL, &d), FW_E_ARG);
	CHECK_EQ(fw_campaign_policy_parse("[]", 2, "x", p, NULL), FW_E_FORMAT);
	free(p);
}

static void t_size_and_load(void)
{
	struct fw_campaign_policy *p = alloc_policy(), *q = alloc_policy();
	struct fw_diag d;
	size_t n = FW_CAMPAIGN_MAX_POLICY, head;
	char *big = malloc(n + 2), path[700];

	CHECK(big != NULL);
	if (big == NULL)
		goto out;
	/* exactly the limit (padded with spaces) parses; one byte more does not */
	head = strlen(MIN_HEAD MIN_STAGES "}");
	memcpy(big, MIN_HEAD MIN_STAGES "}", head);
	memset(big + head, ' ', n + 1 - head);
	big[n + 1] = '\0';
	CHECK_EQ(fw_campaign_policy_parse(big, n, "p.json", p, &d), FW_OK);
	CHECK_EQ(fw_campaign_policy_parse(big, n + 1, "p.json", p, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "p.json: 65537 bytes, more than the limit of 65536") != NULL);

	snprintf(path, sizeof(path), "%s/policy.json", harness_tmpdir());
	CHECK_EQ(harness_write(path, FULL, strlen(FULL)), 0);
	CHECK_EQ(fw_campaign_policy_load(path, p, &d), FW_OK);
	CHECK_EQ(parse(FULL, q, &d), FW_OK);
	CHECK(memcmp(p, q, sizeof(*p)) == 0);
	snprintf(path, sizeof(path), "%s/bad.json", harness_tmpdir());
	CHECK_EQ(harness_write(path, "{\"name\":1}", 10), 0);
	CHECK_EQ(fw_campaign_policy_load(path, p, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "/bad.json: name: an integer, not a string") != NULL);
	snprintf(path, sizeof(path), "%s/big.json", harness_tmpdir());
	CHECK_EQ(harness_write(path, big, n + 1), 0);
	CHECK_EQ(fw_campaign_policy_load(path, p, &d), FW_E_TOO_LARGE);
	snprintf(path, sizeof(path), "%s/missing.json", harness_tmpdir());
	CHECK_EQ(fw_campaign_policy_load(path, p, &d), FW_E_IO);
	CHECK(strstr(d.msg, "missing.json") != NULL);
out:
	free(big);
	free(p);
	free(q);
}

/* json(p) -> text -> parse gives p back, and the canonical form is stable */
static void round_trip_at(const char *file, int line, const char *json)
{
	struct fw_campaign_policy *p = alloc_policy(), *q = alloc_policy();
	struct fw_diag d;
	json_t *j;
	char *text = NULL, *canon = NULL;
	size_t len = 0;

	if (parse(json, p, &d) != FW_OK) {
		harness_fail(file, line, "refused: %s", d.msg);
		goto out;
	}
	j = fw_campaign_policy_json(p);
	if (j == NULL) {
		harness_fail(file, line, "no JSON");
		goto out;
	}
	text = json_dumps(j, JSON_INDENT(2));
	if (fw_json_canonical(j, &canon, &len, &d) != FW_OK)
		harness_fail(file, line, "not canonical: %s", d.msg);
	json_decref(j);
	if (text == NULL || parse(text, q, &d) != FW_OK)
		harness_fail(file, line, "normalized JSON refused: %s", d.msg);
	else if (memcmp(p, q, sizeof(*p)) != 0)
		harness_fail(file, line, "round trip changed the policy");
out:
	free(text);
	free(canon);
	free(p);
	free(q);
}
#define ROUND_TRIP(json) round_trip_at(__FILE__, __LINE__, json)

static char *canonical_of(const char *json)
{
	struct fw_campaign_policy *p = alloc_policy();
	struct fw_diag d;
	json_t *j = NULL;
	char *canon = NULL;
	size_t len;

	if (parse(json, p, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "refused: %s", d.msg);
	else if ((j = fw_campaign_policy_json(p)) == NULL ||
	         fw_json_canonical(j, &canon, &len, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "no canonical JSON: %s", d.msg);
	json_decref(j);
	free(p);
	return canon;
}

static void t_round_trip(void)
{
	char *a, *b;

	ROUND_TRIP(FULL);
	ROUND_TRIP(MIN_HEAD MIN_STAGES "}");
	ROUND_TRIP(stages("{\"name\":\"lab\",\"size\":{\"cohort\":\"lab-1\"},\"approvals\":10},"
	                  "{\"name\":\"first\",\"size\":{\"count\":10000000},\"soak_s\":31536000},"
	                  "{\"name\":\"all\",\"size\":{\"percent\":100}}"));
	ROUND_TRIP(with("\"rollback\":{\"release\":\"ffffffff\",\"automatic\":true},"
	                "\"targeting\":{\"product\":\"caf\\u00e9 \\\"q\\\" \\\\\"}"));

	/* the normalized form of the minimal policy, byte for byte */
	a = canonical_of(MIN_HEAD MIN_STAGES "}");
	CHECK(a != NULL && strcmp(a,
	                          "{\"name\":\"n\",\"pause\":{\"failure_rate\":{\"min_reports\":20,"
	                          "\"percent\":10},\"max_failures\":null,\"on_integrity_failure\":true},"
	                          "\"quarantine\":{\"after_failed_attempts\":3,\"on_integrity_failure\":"
	                          "true},\"release\":\"0123abcd\",\"remediates\":[],"
	                          "\"report_timeout_s\":86400,"
	                          "\"retry\":{\"backoff_s\":600,\"max_attempts\":3},\"rollback\":null,"
	                          "\"stages\":[{\"approvals\":0,\"name\":\"all\",\"size\":{\"percent\":"
	                          "100},\"soak_s\":0}],\"success_threshold\":95,\"targeting\":{"
	                          "\"cohorts\":[],\"family\":null,\"hw_revisions\":[],\"product\":null,"
	                          "\"versions\":null}}") ==
	                 0);
	free(a);

	/* key order and whitespace do not change the hash input */
	a = canonical_of(FULL);
	b = canonical_of("{\"quarantine\":{\"on_integrity_failure\":true,\"after_failed_attempts\":3},"
	                 "\"rollback\":{\"automatic\":false,\"release\":\"1234abcd\"},"
	                 "\"report_timeout_s\":86400,\"retry\":{\"backoff_s\":600,\"max_attempts\":3},"
	                 "\"pause\":{\"on_integrity_failure\":true,\"max_failures\":50,"
	                 "\"failure_rate\":{\"min_reports\":20,\"percent\":5}},"
	                 "\"success_threshold\":95,\"stages\":["
	                 "{\"soak_s\":3600,\"approvals\":2,\"size\":{\"percent\":1},\"name\":\"canary\"},"
	                 "{\"soak_s\":7200,\"approvals\":1,\"size\":{\"percent\":10},\"name\":\"early\"},"
	                 "{\"soak_s\":0,\"approvals\":0,\"size\":{\"percent\":100},\"name\":\"rest\"}],"
	                 "\"targeting\":{\"hw_revisions\":[\"B\",\"C\"],\"family\":\"ctl-a\","
	                 "\"product\":\"controller\",\"cohorts\":[\"eu\",\"beta\"]},"
	                 "\"release\":\"7794d89e\",\"name\":\"ctl-a 2.4.1 security update\"}");
	CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	free(b);
	/* a set written in another order is the same policy */
	b = canonical_of("{\"quarantine\":{\"on_integrity_failure\":true,\"after_failed_attempts\":3},"
	                 "\"rollback\":{\"automatic\":false,\"release\":\"1234abcd\"},"
	                 "\"pause\":{\"max_failures\":50,\"failure_rate\":{\"percent\":5}},"
	                 "\"stages\":["
	                 "{\"soak_s\":3600,\"approvals\":2,\"size\":{\"percent\":1},\"name\":\"canary\"},"
	                 "{\"soak_s\":7200,\"approvals\":1,\"size\":{\"percent\":10},\"name\":\"early\"},"
	                 "{\"name\":\"rest\",\"size\":{\"percent\":100}}],"
	                 "\"targeting\":{\"hw_revisions\":[\"C\",\"B\"],\"family\":\"ctl-a\","
	                 "\"product\":\"controller\",\"cohorts\":[\"beta\",\"eu\"]},"
	                 "\"release\":\"7794d89e\",\"name\":\"ctl-a 2.4.1 security update\"}");
	CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	free(b);
	/* and a real difference changes it */
	b = canonical_of(MIN_HEAD MIN_STAGES ",\"success_threshold\":94}");
	CHECK(a != NULL && b != NULL && strcmp(a, b) != 0);
	free(b);
	free(a);
	CHECK(fw_campaign_policy_json(NULL) == NULL);
}

/* ---- remediates and targeting.versions ---- */

static void t_remediates(void)
{
	struct fw_campaign_policy *p = alloc_policy(), *q = alloc_policy();
	struct fw_diag d;
	char id64[80], id65[80];
	json_t *j;

	CHECK_EQ(parse(with("\"remediates\":[\"FWT-2026-0002\",\"CVE-2026-1\",\"a:b.c_d\"]"), p,
	               &d),
	         FW_OK);
	CHECK_EQ(p->nremediates, 3);
	CHECK(strcmp(p->remediates[0], "CVE-2026-1") == 0); /* sorted by bytes */
	CHECK(strcmp(p->remediates[1], "FWT-2026-0002") == 0);
	CHECK(strcmp(p->remediates[2], "a:b.c_d") == 0);
	/* default: none, and [] in the normalized form */
	CHECK_EQ(parse(MIN_HEAD MIN_STAGES "}", q, &d), FW_OK);
	CHECK_EQ(q->nremediates, 0);
	j = fw_campaign_policy_json(q);
	CHECK(j != NULL && json_is_array(json_object_get(j, "remediates")) &&
	      json_array_size(json_object_get(j, "remediates")) == 0);
	json_decref(j);
	memset(id64, 'A', 64);
	id64[64] = '\0';
	memset(id65, 'A', 65);
	id65[65] = '\0';
	ACCEPTED(cat((char[200]){0}, 200, MIN_HEAD MIN_STAGES ",\"remediates\":[\"", id64, "\"]}",
	             (char *)NULL));
	REFUSED(cat((char[200]){0}, 200, MIN_HEAD MIN_STAGES ",\"remediates\":[\"", id65, "\"]}",
	            (char *)NULL),
	        "remediates[0]: \"AAAA");
	REFUSED(with("\"remediates\":\"FWT-1\""), "p.json: remediates: a string, not an array");
	REFUSED(with("\"remediates\":[\"FWT-1\",1]"), "remediates[1]: an integer, not a string");
	REFUSED(with("\"remediates\":[\"-FWT\"]"), "remediates[0]: \"-FWT\" is not an advisory id");
	REFUSED(with("\"remediates\":[\"a/b\"]"), "remediates[0]: \"a/b\" is not an advisory id");
	REFUSED(with("\"remediates\":[\"\"]"), "remediates[0]: \"\" is not an advisory id");
	REFUSED(with("\"remediates\":[\"F1\",\"F2\",\"F1\"]"), "remediates[2]: \"F1\" repeats remediates[0]");
	REFUSED(with("\"remediates\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\","
	             "\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]"),
	        "remediates: 17 entries, more than 16");
	/* --remediates: merged sorted and unique; bad ids and the 17th refused */
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "FWT-9", &d), FW_OK);
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "FWT-1", &d), FW_OK);
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "FWT-9", &d), FW_OK);
	CHECK_EQ(q->nremediates, 2);
	CHECK(strcmp(q->remediates[0], "FWT-1") == 0 && strcmp(q->remediates[1], "FWT-9") == 0);
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "../x", &d), FW_E_ARG);
	CHECK(strstr(d.msg, "--remediates '../x': not an advisory id") != NULL);
	CHECK_EQ(q->nremediates, 2);
	/* merged equals written: the same bytes, the same normalized form */
	CHECK_EQ(parse(with("\"remediates\":[\"FWT-9\",\"FWT-1\"]"), p, &d), FW_OK);
	CHECK(memcmp(p, q, sizeof(*p)) == 0);
	while (q->nremediates < FW_CAMPAIGN_MAX_REMEDIATES) {
		char id[16];

		snprintf(id, sizeof(id), "X%zu", q->nremediates);
		CHECK_EQ(fw_campaign_policy_remediates_add(q, id, &d), FW_OK);
	}
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "FWT-17", &d), FW_E_TOO_LARGE);
	CHECK_EQ(fw_campaign_policy_remediates_add(q, "FWT-1", &d), FW_OK); /* there already */
	CHECK(fw_advisory_id_valid("FWT-2026-0001"));
	CHECK(!fw_advisory_id_valid(":x"));
	CHECK(!fw_advisory_id_valid(NULL));
	free(p);
	free(q);
}

static void t_versions(void)
{
	struct fw_campaign_policy *p = alloc_policy(), *q = alloc_policy();
	struct fw_device_row dev;
	struct fw_diag d;
	json_t *j;
	char *text;

	CHECK_EQ(parse(with("\"targeting\":{\"versions\":\">=2.0.0  <2.4.1 ||   =1.0.0\"}"), p, &d),
	         FW_OK);
	CHECK(p->has_versions);
	CHECK(strcmp(p->versions_text, ">=2.0.0 <2.4.1 || =1.0.0") == 0); /* canonical */
	/* null and absent are any version */
	CHECK_EQ(parse(with("\"targeting\":{\"versions\":null}"), q, &d), FW_OK);
	CHECK(!q->has_versions);
	/* the canonical text is kept and parses back to the same bytes */
	j = fw_campaign_policy_json(p);
	CHECK(j != NULL);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(j, "targeting"), "versions")),
	             ">=2.0.0 <2.4.1 || =1.0.0") == 0);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	CHECK(text != NULL);
	if (text) {
		CHECK_EQ(parse(text, q, &d), FW_OK);
		CHECK(memcmp(p, q, sizeof(*p)) == 0);
	}
	free(text);
	json_decref(j);
	REFUSED(with("\"targeting\":{\"versions\":\">=3.0.0 <2.0.0\"}"),
	        "targeting.versions: \">=3.0.0 <2.0.0\" is not a version range: ");
	REFUSED(with("\"targeting\":{\"versions\":\"2.x\"}"), "targeting.versions: \"2.x\"");
	REFUSED(with("\"targeting\":{\"versions\":\"\"}"), "targeting.versions: empty");
	REFUSED(with("\"targeting\":{\"versions\":[\">=1.0.0\"]}"),
	        "targeting.versions: an array, not a string");

	/* the engine's targeting: in the range, out of it, not a version */
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.product, sizeof(dev.product), "controller");
	snprintf(dev.family, sizeof(dev.family), "ctl-a");
	snprintf(dev.fw_version, sizeof(dev.fw_version), "2.3.0");
	CHECK_EQ(fw_campaign_target(p, &dev), 0);
	snprintf(dev.fw_version, sizeof(dev.fw_version), "2.4.1-rc.1"); /* below 2.4.1 */
	CHECK_EQ(fw_campaign_target(p, &dev), 0);
	snprintf(dev.fw_version, sizeof(dev.fw_version), "1.0.0");
	CHECK_EQ(fw_campaign_target(p, &dev), 0);
	snprintf(dev.fw_version, sizeof(dev.fw_version), "2.4.1");
	CHECK_EQ(fw_campaign_target(p, &dev), 1u << FW_R_TARGET_VERSION);
	snprintf(dev.fw_version, sizeof(dev.fw_version), "1.9.9");
	CHECK_EQ(fw_campaign_target(p, &dev), 1u << FW_R_TARGET_VERSION);
	snprintf(dev.fw_version, sizeof(dev.fw_version), "v2.3.0"); /* default-deny */
	CHECK_EQ(fw_campaign_target(p, &dev), 1u << FW_R_TARGET_VERSION);
	/* with product too: every failing reason */
	CHECK_EQ(parse(with("\"targeting\":{\"product\":\"gw\",\"versions\":\">=3.0.0\"}"), q, &d),
	         FW_OK);
	CHECK_EQ(fw_campaign_target(q, &dev), (1u << FW_R_TARGET_PRODUCT) | (1u << FW_R_TARGET_VERSION));
	/* no range: any version, a bad one too */
	CHECK_EQ(parse(MIN_HEAD MIN_STAGES "}", q, &d), FW_OK);
	CHECK_EQ(fw_campaign_target(q, &dev), 0);
	CHECK(strcmp(fw_reason_code(FW_R_TARGET_VERSION), "target.version") == 0);
	free(p);
	free(q);
}

static const struct harness_test tests[] = {
	{"full_example", t_full_example},
	{"defaults", t_defaults},
	{"unknown_keys", t_unknown_keys},
	{"required", t_required},
	{"types", t_types},
	{"text_bounds", t_text_bounds},
	{"array_bounds", t_array_bounds},
	{"int_bounds", t_int_bounds},
	{"stage_rules", t_stage_rules},
	{"set_rules", t_set_rules},
	{"pause_quarantine_rollback", t_pause_quarantine_rollback},
	{"invalid_json", t_invalid_json},
	{"size_and_load", t_size_and_load},
	{"round_trip", t_round_trip},
	{"remediates: ids, sorted and unique, bounds, --remediates merged", t_remediates},
	{"targeting.versions: canonical, refused, and the engine's targeting", t_versions},
};
HARNESS_MAIN(tests)
