/*
 * The audit report: the summary's numbers from a synthetic campaign fed
 * record by record (states, eligibility by reason, approvals, pauses, the
 * timeline, the CRA rows and the records they cite), report.html (every
 * string escaped, every link leading to an appendix entry, nothing
 * external), bounded memory with 10,000 failed and quarantined devices,
 * a release's bundle with campaigns of two releases, and the refusals.
 * With FWTRUST_REPORT_HTML=PATH the campaign's report.html is also
 * written there, to look at in a browser.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "harness.h"

#define R_ID "1111111111111111111111111111111111111111111111111111111111111111"
#define RB_ID "2222222222222222222222222222222222222222222222222222222222222222"
#define R3_ID "3333333333333333333333333333333333333333333333333333333333333333"
#define KEY_ID "3333333333333333333333333333333333333333333333333333333333333333"
#define T0 1795000000000LL

struct feed {
	struct fw_report *r;
	uint64_t idx;
	long long ts;
	int failed;                     /* a record was refused */
};

/* Feed one record written as printf-style JSON at the next index. */
static void add(struct feed *f, const char *fmt, ...) FW_PRINTF(2, 3);
static void add(struct feed *f, const char *fmt, ...)
{
	char buf[4096];
	json_t *j;
	json_error_t e;
	struct fw_diag d = {{0}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	j = json_loads(buf, 0, &e);
	if (j == NULL) {
		harness_fail(__FILE__, __LINE__, "bad test JSON %s: %s", buf, e.text);
		f->failed = 1;
		return;
	}
	json_object_set_new(j, "ts", json_integer(f->ts));
	json_object_set_new(j, "v", json_integer(1));
	json_object_set_new(j, "actor", json_string("test"));
	if (fw_report_add(f->r, f->idx, j, &d) != FW_OK) {
		harness_fail(__FILE__, __LINE__, "record %llu refused: %s", (unsigned long long)f->idx,
		             d.msg);
		f->failed = 1;
	}
	json_decref(j);
	f->idx++;
	f->ts += 1000;
}

/* A rollout.device record; from NULL for a new row; extra: more fields
 * (",\"k\":v" ...) or "". */
static void dev(struct feed *f, const char *device, const char *from, const char *to,
                const char *cause, int stage, int attempts, int failures, const char *extra)
{
	char fromj[32];

	if (from)
		snprintf(fromj, sizeof(fromj), "\"%s\"", from);
	else
		snprintf(fromj, sizeof(fromj), "null");
	add(f,
	    "{\"type\":\"rollout.device\",\"campaign\":\"c-0001\",\"device\":\"%s\",\"from\":%s,"
	    "\"to\":\"%s\",\"cause\":\"%s\",\"stage\":%d,\"attempts\":%d,\"failures\":%d%s}",
	    device, fromj, to, cause, stage, attempts, failures, extra);
}

static const char policy[] =
    "{\"name\":\"ctl-a 2.4.1 <security> & \\\"more\\\"\",\"release\":\"" R_ID "\","
    "\"stages\":[{\"name\":\"canary\",\"size\":{\"count\":2},\"approvals\":2,\"soak_s\":60},"
    "{\"name\":\"rest\",\"size\":{\"percent\":100},\"approvals\":0,\"soak_s\":0}],"
    "\"success_threshold\":50,\"pause\":{\"failure_rate\":{\"percent\":10,\"min_reports\":20},"
    "\"max_failures\":5,\"on_integrity_failure\":true},\"retry\":{\"max_attempts\":3,"
    "\"backoff_s\":600},\"report_timeout_s\":3600,\"rollback\":{\"release\":\"" RB_ID "\","
    "\"automatic\":false},\"quarantine\":{\"after_failed_attempts\":3,"
    "\"on_integrity_failure\":true},\"targeting\":{\"cohorts\":[],\"family\":null,"
    "\"hw_revisions\":[],\"product\":null}}";

/* The registry records a campaign's bundle starts with: the log, the
 * signing key, the release and its rollback release, the operators. */
static void registry(struct feed *f)
{
	add(f, "{\"type\":\"log.init\",\"origin\":\"test.example/log\","
	       "\"log_vkey\":\"test.example/log+01020304+AQ==\"}");
	add(f, "{\"type\":\"key.trust\",\"key_id\":\"" KEY_ID "\",\"name\":\"rel\","
	       "\"role\":\"release-signing\",\"alg\":\"ed25519\",\"pem\":\"-\"}");
	add(f, "{\"type\":\"release.add\",\"release_id\":\"" R_ID "\",\"product\":\"controller\","
	       "\"family\":\"ctl-a\",\"version\":\"2.4.1\",\"sequence\":9,\"envelope_sha256\":\"" R_ID
	       "\",\"envelope_size\":300,\"image_sha256\":\"" KEY_ID "\",\"image_size\":20000,"
	       "\"signer_key_id\":\"" KEY_ID "\",\"signer_name\":\"rel\","
	       "\"upgrade_from\":\">=2.0.0 <2.4.1\",\"hw_revisions\":[\"B\"]}");
	add(f, "{\"type\":\"release.add\",\"release_id\":\"" RB_ID "\",\"product\":\"controller\","
	       "\"family\":\"ctl-a\",\"version\":\"2.4.0\",\"sequence\":8,\"envelope_sha256\":\"" RB_ID
	       "\",\"envelope_size\":300,\"image_sha256\":\"" KEY_ID "\",\"image_size\":19000,"
	       "\"signer_key_id\":\"" KEY_ID "\",\"signer_name\":\"rel\",\"upgrade_from\":null,"
	       "\"hw_revisions\":[]}");
	add(f, "{\"type\":\"operator.add\",\"name\":\"rm\",\"role\":\"release_manager\","
	       "\"key_id\":\"aa\"}");
	add(f, "{\"type\":\"operator.add\",\"name\":\"ap1\",\"role\":\"approver\",\"key_id\":\"bb\"}");
	add(f, "{\"type\":\"operator.add\",\"name\":\"ap2\",\"role\":\"approver\",\"key_id\":\"cc\"}");
	add(f, "{\"type\":\"operator.add\",\"name\":\"op\",\"role\":\"operator\",\"key_id\":\"dd\"}");
}

static void campaign_start(struct feed *f, int members, int inel, const char *sizes)
{
	add(f, "{\"type\":\"campaign.create\",\"campaign\":\"c-0001\",\"creator\":\"rm\","
	       "\"policy\":%s,\"policy_sha256\":\"ps1\",\"state\":\"awaiting_approval\"}",
	    policy);
	add(f, "{\"type\":\"campaign.approve\",\"campaign\":\"c-0001\",\"stage\":0,"
	       "\"operator\":\"ap1\",\"key_id\":\"bb\",\"policy_sha256\":\"ps1\",\"approvals\":1,"
	       "\"required\":2,\"state\":\"awaiting_approval\"}");
	add(f, "{\"type\":\"campaign.approve\",\"campaign\":\"c-0001\",\"stage\":0,"
	       "\"operator\":\"ap2\",\"key_id\":\"cc\",\"policy_sha256\":\"ps1\",\"approvals\":2,"
	       "\"required\":2,\"state\":\"ready\"}");
	add(f, "{\"type\":\"campaign.start\",\"campaign\":\"c-0001\",\"by\":\"op\",\"release\":\"" R_ID
	       "\",\"policy_sha256\":\"ps1\",\"members\":%d,\"ineligible\":%d,\"stage_sizes\":%s,"
	       "\"state\":\"running\",\"stage\":0,\"at_ms\":%lld}",
	    members, inel, sizes, f->ts);
}

/* The small campaign: 6 members (d6 ineligible at the start), stage 0
 * (d1, d2), an integrity failure that quarantines d2 and pauses, a
 * resume, stage 1 (d3, d4 ineligible, d5 rolls back), complete. */
static struct fw_report *small_campaign(uint64_t *last)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};

	if (f.r == NULL)
		return NULL;
	registry(&f);
	/* an eligibility run for the release: decisions name it by refs[0] */
	add(&f, "{\"type\":\"eligibility.decision\",\"run\":1,\"device\":\"d1\",\"eligible\":true,"
	        "\"reasons\":[],\"inputs\":{\"support_until\":\"2031-01-01\"},"
	        "\"refs\":[{\"idx\":2,\"lh\":\"00\"}]}");
	add(&f, "{\"type\":\"eligibility.decision\",\"run\":1,\"device\":\"d6\",\"eligible\":false,"
	        "\"reasons\":[\"support.ended\"],\"inputs\":{\"support_until\":\"2020-06-30\"},"
	        "\"refs\":[{\"idx\":2,\"lh\":\"00\"}]}");
	add(&f, "{\"type\":\"eligibility.decision\",\"run\":1,\"device\":\"d7\",\"eligible\":true,"
	        "\"reasons\":[],\"inputs\":{\"support_until\":\"\"},"
	        "\"refs\":[{\"idx\":2,\"lh\":\"00\"}]}");
	add(&f, "{\"type\":\"eligibility.summary\",\"run\":1,\"release\":\"" R_ID "\",\"devices\":3,"
	        "\"eligible\":2,\"ineligible\":1,\"by_reason\":[{\"code\":\"support.ended\","
	        "\"devices\":1}]}");
	campaign_start(&f, 6, 1, "[2,3]"); /* 12..15 */
	dev(&f, "d6", NULL, "ineligible", "start", -1, 0, 0, ",\"reasons\":[\"support.ended\"]");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":0,\"name\":\"canary\","
	        "\"devices\":2,\"approvals\":2,\"state\":\"running\",\"at_ms\":%lld}",
	    f.ts);
	dev(&f, "d1", "pending", "eligible", "stage", 0, 0, 0, "");
	dev(&f, "d2", "pending", "eligible", "stage", 0, 0, 0, "");
	dev(&f, "d1", "eligible", "delivered", "report", 0, 1, 0, "");
	dev(&f, "d1", "delivered", "installed", "report", 0, 1, 0, "");
	dev(&f, "d2", "eligible", "delivered", "report", 0, 1, 0, "");
	dev(&f, "d2", "delivered", "failed", "report", 0, 1, 1, /* 23 */
	    ",\"integrity_failure\":true,\"detail\":\"<script>alert(1)</script>\",\"retry\":null");
	add(&f, "{\"type\":\"device.lifecycle\",\"device\":\"d2\",\"from\":\"active\","
	        "\"to\":\"quarantined\",\"campaign\":\"c-0001\","
	        "\"reason\":\"campaign c-0001: integrity failure reported\"}");
	add(&f, "{\"type\":\"campaign.pause\",\"campaign\":\"c-0001\",\"why\":{\"cause\":"
	        "\"integrity_failure\",\"device\":\"d2\",\"at_ms\":%lld},\"state\":\"paused\","
	        "\"stage\":0,\"at_ms\":%lld}",
	    f.ts, f.ts);
	add(&f, "{\"type\":\"campaign.resume\",\"campaign\":\"c-0001\",\"by\":\"op\","
	        "\"reason\":\"image checked\",\"state\":\"running\",\"stage\":0}");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":1,\"name\":\"rest\","
	        "\"devices\":3,\"approvals\":0,\"state\":\"running\",\"at_ms\":%lld}",
	    f.ts);
	dev(&f, "d3", "pending", "eligible", "stage", 1, 0, 0, "");
	dev(&f, "d4", "pending", "ineligible", "stage", 1, 0, 0,
	    ",\"reasons\":[\"cert.revoked\",\"lifecycle.quarantined\"]");
	dev(&f, "d5", "pending", "eligible", "stage", 1, 0, 0, "");
	dev(&f, "d3", "eligible", "delivered", "report", 1, 1, 0, "");
	dev(&f, "d3", "delivered", "installed", "report", 1, 1, 0, "");
	dev(&f, "d5", "eligible", "delivered", "report", 1, 1, 0, "");
	dev(&f, "d5", "delivered", "rolled_back", "fallback", 1, 1, 1, ",\"version\":\"2.4.0\"");
	add(&f, "{\"type\":\"campaign.complete\",\"campaign\":\"c-0001\",\"state\":\"completed\","
	        "\"stage\":1,\"at_ms\":%lld,\"totals\":{\"reports\":5,\"failures\":2,"
	        "\"integrity_failures\":1,\"timeouts\":0,\"retries\":0,\"quarantined\":1},"
	        "\"counts\":[{\"pending\":0,\"eligible\":0,\"ineligible\":0,\"delivered\":0,"
	        "\"installed\":1,\"failed\":1,\"paused\":0,\"rolled_back\":0},{\"pending\":0,"
	        "\"eligible\":0,\"ineligible\":1,\"delivered\":0,\"installed\":1,\"failed\":0,"
	        "\"paused\":0,\"rolled_back\":1}]}",
	    f.ts);
	*last = f.idx - 1;
	if (f.failed) {
		fw_report_free(f.r);
		return NULL;
	}
	return f.r;
}

static struct fw_checkpoint anchor(uint64_t size)
{
	struct fw_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "test.example/log");
	cp.size = size;
	memset(cp.root, 0xab, sizeof(cp.root));
	return cp;
}

static long long geti(const json_t *o, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o && json_is_integer(o) ? (long long)json_integer_value(o) : -999;
}

static const char *gets_(const json_t *o, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_is_string(o) ? json_string_value(o) : "";
}

static long long by_reason(const json_t *arr, const char *code)
{
	const json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (strcmp(gets_(e, "code"), code) == 0)
			return geti(e, "devices");
	return 0;
}

static void t_summary_numbers(void)
{
	uint64_t last = 0;
	struct fw_report *r = small_campaign(&last);
	struct fw_checkpoint cp = anchor(last + 1);
	json_t *s, *c, *e;
	size_t i;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	s = fw_report_summary(r, &cp, NULL);
	CHECK(s != NULL);
	if (s == NULL) {
		fw_report_free(r);
		return;
	}
	/* the bundle */
	CHECK(strcmp(gets_(s, "bundle.kind"), "campaign") == 0);
	CHECK_EQ(geti(s, "bundle.records"), last + 1);
	CHECK_EQ(geti(s, "bundle.anchor.size"), last + 1);
	CHECK(strcmp(gets_(s, "bundle.anchor.root"),
	             "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=") == 0);
	CHECK(strcmp(gets_(s, "bundle.log_vkey"), "test.example/log+01020304+AQ==") == 0);
	CHECK_EQ(geti(s, "bundle.first_ts"), T0);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(s, "bundle"),
	                                                            "types"),
	                                            "rollout.device")),
	         14);
	/* the release, its key and the rollback release */
	CHECK(strcmp(gets_(s, "release.version"), "2.4.1") == 0);
	CHECK_EQ(geti(s, "release.sequence"), 9);
	CHECK_EQ(geti(s, "release.record"), 2);
	CHECK(strcmp(gets_(s, "release.signer.state"), "trusted") == 0);
	CHECK_EQ(geti(s, "release.signer.record"), 1);
	CHECK(strcmp(gets_(s, "rollback_release.version"), "2.4.0") == 0);
	/* the final state of every device, from the transitions */
	CHECK_EQ(geti(s, "states.pending"), 0);
	CHECK_EQ(geti(s, "states.eligible"), 0);
	CHECK_EQ(geti(s, "states.ineligible"), 2);
	CHECK_EQ(geti(s, "states.installed"), 2);
	CHECK_EQ(geti(s, "states.failed"), 1);
	CHECK_EQ(geti(s, "states.rolled_back"), 1);
	CHECK_EQ(geti(s, "inconsistencies"), 0);
	/* the campaign */
	c = json_object_get(s, "campaign");
	CHECK(strcmp(gets_(c, "state"), "completed") == 0);
	CHECK_EQ(geti(c, "members"), 6);
	CHECK_EQ(geti(c, "ineligible_at_start"), 1);
	CHECK(json_is_true(json_object_get(json_object_get(c, "complete"), "counts_agree")));
	CHECK(json_is_true(json_object_get(c, "four_eyes")));
	CHECK(strcmp(gets_(c, "creator_role"), "release_manager") == 0);
	CHECK_EQ(json_array_size(json_object_get(c, "stages")), 2);
	e = json_array_get(json_object_get(c, "stages"), 1);
	CHECK(strcmp(gets_(e, "name"), "rest") == 0);
	CHECK_EQ(geti(e, "devices"), 3);
	CHECK_EQ(geti(e, "planned"), 3);
	CHECK(json_is_integer(json_object_get(e, "record")));
	CHECK_EQ(json_array_size(json_object_get(c, "pauses")), 1);
	e = json_array_get(json_object_get(c, "pauses"), 0);
	CHECK(strcmp(gets_(e, "cause"), "integrity_failure") == 0);
	CHECK(strcmp(gets_(e, "resumed_by"), "op") == 0);
	CHECK_EQ(geti(e, "resume_record"), geti(e, "record") + 1);
	/* approvals: two distinct approvers, not the creator */
	CHECK_EQ(json_array_size(json_object_get(s, "approvals")), 2);
	CHECK(strcmp(gets_(json_array_get(json_object_get(s, "approvals"), 1), "operator"), "ap2") ==
	      0);
	CHECK(strcmp(gets_(json_array_get(json_object_get(s, "approvals"), 1), "role"),
	             "approver") == 0);
	/* eligibility */
	e = json_object_get(s, "eligibility");
	CHECK_EQ(geti(e, "members"), 6);
	CHECK_EQ(geti(e, "eligible"), 4);
	CHECK_EQ(geti(e, "ineligible"), 2);
	CHECK_EQ(geti(e, "ineligible_at_start"), 1);
	CHECK_EQ(geti(e, "ineligible_at_stage"), 1);
	CHECK_EQ(by_reason(json_object_get(e, "by_reason"), "support.ended"), 1);
	CHECK_EQ(by_reason(json_object_get(e, "by_reason"), "cert.revoked"), 1);
	CHECK_EQ(by_reason(json_object_get(e, "by_reason"), "lifecycle.quarantined"), 1);
	CHECK_EQ(json_array_size(json_object_get(e, "runs")), 1);
	CHECK_EQ(geti(json_array_get(json_object_get(e, "runs"), 0), "record"), 11);
	CHECK_EQ(geti(e, "decisions.total"), 3);
	CHECK(strcmp(gets_(e, "decisions.support_until.min"), "2020-06-30") == 0);
	CHECK(strcmp(gets_(e, "decisions.support_until.max"), "2031-01-01") == 0);
	CHECK_EQ(geti(e, "decisions.support_until.missing"), 1);
	/* failed, rolled back, quarantined */
	CHECK_EQ(geti(s, "failed.now"), 1);
	CHECK_EQ(geti(s, "failed.devices"), 1);
	CHECK_EQ(geti(s, "failed.integrity_failures"), 1);
	e = json_array_get(json_object_get(json_object_get(s, "failed"), "list"), 0);
	CHECK(strcmp(gets_(e, "device"), "d2") == 0);
	CHECK(strcmp(gets_(e, "state_now"), "failed") == 0);
	CHECK(json_is_true(json_object_get(e, "integrity_failure")));
	CHECK_EQ(geti(e, "record"), 23);
	CHECK_EQ(geti(s, "rolled_back.total"), 1);
	CHECK(strcmp(gets_(json_array_get(json_object_get(json_object_get(s, "rolled_back"), "list"),
	                                  0),
	                   "version"),
	             "2.4.0") == 0);
	CHECK_EQ(geti(s, "quarantined.total"), 1);
	CHECK_EQ(geti(s, "quarantined.by_rollout"), 1);
	CHECK_EQ(geti(s, "integrity_failures"), 1);
	/* the timeline: points, and the events in order */
	e = json_object_get(s, "timeline");
	CHECK(json_array_size(json_object_get(e, "points")) > 5);
	CHECK_EQ(geti(json_array_get(json_object_get(e, "points"),
	                             json_array_size(json_object_get(e, "points")) - 1),
	              "counts.installed"),
	         2);
	{
		static const char *const kinds[] = {"stage", "pause", "resume", "stage", "complete"};

		CHECK_EQ(json_array_size(json_object_get(e, "events")), 5);
		for (i = 0; i < 5; i++)
			CHECK(strcmp(gets_(json_array_get(json_object_get(e, "events"), i), "kind"),
			             kinds[i]) == 0);
	}
	/* CRA rows: all there, each citing records that exist and that the
	 * appendix lists */
	{
		static const char *const ids[] = {"authenticity",           "eligibility",
		                                  "automatic_updates",      "vulnerability_handling",
		                                  "integrity",              "support_period",
		                                  "technical_documentation"};
		const json_t *recs = json_object_get(s, "records"), *row, *x, *y;
		size_t j, k;

		CHECK_EQ(json_array_size(json_object_get(s, "cra")), 7);
		json_array_foreach(json_object_get(s, "cra"), i, row) {
			CHECK(strcmp(gets_(row, "id"), ids[i]) == 0);
			CHECK(strlen(gets_(row, "requirement")) > 20);
			CHECK(strlen(gets_(row, "control")) > 20);
			CHECK(strcmp(gets_(row, "status"), "not_recorded") != 0);
			CHECK(json_array_size(json_object_get(row, "records")) > 0);
			json_array_foreach(json_object_get(row, "records"), j, x) {
				int found = 0;

				CHECK(json_integer_value(x) >= 0 && (uint64_t)json_integer_value(x) <= last);
				json_array_foreach(recs, k, y)
					if (geti(y, "idx") == json_integer_value(x))
						found = 1;
				CHECK(found);
			}
		}
		row = json_array_get(json_object_get(s, "cra"), 3);
		CHECK(strstr(gets_(row, "control"), "2.4.0 (sequence 8)") != NULL);
		CHECK(strstr(gets_(row, "control"), "not recorded") != NULL);
		CHECK(strcmp(gets_(row, "status"), "partial") == 0);
		row = json_array_get(json_object_get(s, "cra"), 5);
		CHECK(strstr(gets_(row, "control"), "from 2020-06-30 to 2031-01-01") != NULL);
		/* the appendix: in index order, each once, with the right types */
		json_array_foreach(recs, j, x) {
			if (j)
				CHECK(geti(x, "idx") > geti(json_array_get(recs, j - 1), "idx"));
			if (geti(x, "idx") == 23)
				CHECK(strcmp(gets_(x, "type"), "rollout.device") == 0 &&
				      strcmp(gets_(x, "subject"), "d2") == 0);
			if (geti(x, "idx") == 2)
				CHECK(strcmp(gets_(x, "type"), "release.add") == 0);
		}
	}
	json_decref(s);
	fw_report_free(r);
}

/* Every href="#r-N" must lead to an id="r-N". */
static int links_resolve(const char *html)
{
	const char *p = html;
	char want[64];
	int n = 0;

	while ((p = strstr(p, "href=\"#r-")) != NULL) {
		unsigned long long idx = strtoull(p + 9, NULL, 10);

		snprintf(want, sizeof(want), "id=\"r-%llu\"", idx);
		if (strstr(html, want) == NULL)
			return -1;
		n++;
		p += 9;
	}
	return n;
}

static char *render(const json_t *s, const char *name)
{
	char path[600];
	struct fw_diag d = {{0}};
	FILE *f;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", harness_tmpdir(), name);
	f = fopen(path, "w");
	if (f == NULL)
		return NULL;
	rc = fw_report_html(s, f, &d);
	fclose(f);
	CHECK_EQ(rc, FW_OK);
	return (char *)harness_read(path, &len);
}

static void t_html(void)
{
	uint64_t last = 0;
	struct fw_report *r = small_campaign(&last);
	struct fw_checkpoint cp = anchor(last + 1);
	json_t *s = r ? fw_report_summary(r, &cp, "test.example/log+01020304+AQ==") : NULL;
	char *html = s ? render(s, "report.html") : NULL, want[64];
	const char *keep = getenv("FWTRUST_REPORT_HTML");

	CHECK(html != NULL);
	if (html != NULL) {
		CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
		CHECK(strstr(html, "</html>\n") != NULL);
		/* strings from records are escaped: the device's detail, the name */
		CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
		CHECK(strstr(html, "<script") == NULL);
		CHECK(strstr(html, "ctl-a 2.4.1 &lt;security&gt; &amp; &quot;more&quot;") != NULL);
		CHECK(strstr(html, "<security>") == NULL);
		/* self-contained: no external resource, no script */
		CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
		CHECK(strstr(html, "<link") == NULL && strstr(html, "<img") == NULL);
		CHECK(strstr(html, "<style>") != NULL && strstr(html, "<svg") != NULL);
		CHECK(strstr(html, "@page{size:A4") != NULL);
		/* the chart has a line per state present and the event markers */
		CHECK(strstr(html, "<title>installed</title>") != NULL);
		CHECK(strstr(html, "<title>pause: integrity_failure</title>") != NULL);
		/* key figures as text */
		CHECK(strstr(html, "<div class=\"n\">2.4.1</div><div class=\"l\">release version") !=
		      NULL);
		CHECK(strstr(html, "<div class=\"n\">6</div><div class=\"l\">members") != NULL);
		CHECK(strstr(html, "<div class=\"n\">2</div><div class=\"l\">installed") != NULL);
		CHECK(strstr(html, "<div class=\"n\">1</div><div class=\"l\">failed") != NULL);
		snprintf(want, sizeof(want), "<div class=\"n\">%llu</div><div class=\"l\">checkpoint",
		         (unsigned long long)last + 1);
		CHECK(strstr(html, want) != NULL);
		CHECK(strstr(html, "fwtrust audit verify-bundle DIR --key log.pub") != NULL);
		/* every record link leads to the appendix */
		CHECK(links_resolve(html) > 20);
		CHECK(strstr(html, "href=\"#r-23\"") != NULL && strstr(html, "id=\"r-23\"") != NULL);
		if (keep && keep[0])
			CHECK(harness_write(keep, html, strlen(html)) == 0);
	}
	free(html);
	json_decref(s);
	fw_report_free(r);
}

/* Strings with markup everywhere the report shows record text. */
static void t_escaping(void)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};
	json_t *s;
	char *html;

	registry(&f);
	campaign_start(&f, 3, 1, "[1,1]");
	dev(&f, "<script>x</script>", NULL, "ineligible", "start", -1, 0, 0,
	    ",\"reasons\":[\"<img src=x onerror=alert(1)>\"]");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":0,"
	        "\"name\":\"<b>st</b>\",\"devices\":1}");
	dev(&f, "<i>d</i>", "pending", "eligible", "stage", 0, 0, 0, "");
	dev(&f, "<i>d</i>", "eligible", "delivered", "report", 0, 1, 0, "");
	dev(&f, "<i>d</i>", "delivered", "failed", "report", 0, 1, 1,
	    ",\"detail\":\"\\u001b[31m<svg onload=alert(1)>'\\\"\"");
	add(&f, "{\"type\":\"device.lifecycle\",\"device\":\"<i>d</i>\",\"from\":\"active\","
	        "\"to\":\"quarantined\",\"reason\":\"</td><script>\"}");
	add(&f, "{\"type\":\"campaign.pause\",\"campaign\":\"c-0001\",\"why\":{\"cause\":"
	        "\"operator\",\"by\":\"<u>op</u>\",\"reason\":\"<script>\"}}");
	CHECK_EQ(f.failed, 0);
	s = fw_report_summary(f.r, NULL, "<vkey>");
	html = s ? render(s, "escaping.html") : NULL;
	CHECK(html != NULL);
	if (html != NULL) {
		CHECK(strstr(html, "<script") == NULL);
		CHECK(strstr(html, "<svg onload") == NULL);
		CHECK(strstr(html, "<img") == NULL);
		CHECK(strstr(html, "<i>d</i>") == NULL && strstr(html, "<b>st</b>") == NULL);
		CHECK(strstr(html, "<u>op</u>") == NULL && strstr(html, "<vkey>") == NULL);
		CHECK(strstr(html, "&lt;i&gt;d&lt;/i&gt;") != NULL);
		CHECK(strstr(html, "&lt;svg onload=alert(1)&gt;&#39;&quot;") != NULL);
		CHECK(strstr(html, "\x1b") == NULL && strstr(html, "&#xfffd;[31m") != NULL);
		CHECK(strstr(html, "&lt;img src=x onerror=alert(1)&gt;") != NULL);
		CHECK(links_resolve(html) > 0);
	}
	free(html);
	json_decref(s);
	fw_report_free(f.r);
}

/* Hostile records (a bundle is untrusted input): text cut in the middle
 * of a UTF-8 sequence, times far outside any clock, a quarantine by
 * another campaign. The summary is still made, and still valid JSON. */
static void t_hostile(void)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};
	char name[400], *p = name, *txt, *html;
	json_t *s, *j, *e;
	size_t i;

	for (i = 0; i < 150; i++)
		p += sprintf(p, "\xc3\xa9"); /* é: 300 bytes, cut at the label's limit */
	registry(&f);
	/* a release whose signer id puts a two-byte character across the cut */
	add(&f, "{\"type\":\"release.add\",\"release_id\":\"9999\",\"version\":\"9\",\"sequence\":1,"
	        "\"product\":\"p\",\"signer_key_id\":\"aaaaaaaaaaaaaaa\xc3\xa9zz\","
	        "\"envelope_sha256\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	        "\xe2\x82\xac\"}");
	add(&f, "{\"type\":\"campaign.create\",\"campaign\":\"c-0001\",\"creator\":\"rm\","
	        "\"policy\":{\"name\":\"n\",\"release\":\"9999\",\"stages\":[]},\"state\":\"ready\"}");
	add(&f, "{\"type\":\"campaign.start\",\"campaign\":\"c-0001\",\"members\":1,\"ineligible\":0,"
	        "\"release\":\"9999\"}");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":0,\"name\":\"%s\","
	        "\"devices\":1}",
	    name);
	f.ts = -5000;
	dev(&f, "d1", "pending", "eligible", "stage", 0, 0, 0, "");
	f.ts = 4611686018427387904LL; /* 2^62 */
	dev(&f, "d1", "eligible", "delivered", "report", 0, 1, 0, "");
	f.ts = T0;
	add(&f, "{\"type\":\"device.lifecycle\",\"device\":\"d1\",\"from\":\"active\","
	        "\"to\":\"quarantined\",\"campaign\":\"c-0009\",\"reason\":\"elsewhere\"}");
	CHECK_EQ(f.failed, 0);
	s = fw_report_summary(f.r, NULL, NULL);
	CHECK(s != NULL);
	if (s != NULL) {
		e = json_array_get(json_object_get(json_object_get(s, "timeline"), "events"), 0);
		CHECK(strncmp(gets_(e, "label"), "stage 0 \xc3\xa9", 10) == 0);
		CHECK(strlen(gets_(e, "label")) < 160);
		CHECK(strstr(gets_(json_array_get(json_object_get(s, "cra"), 0), "control"),
		             "aaaaaaaaaaaaaaa?") != NULL);
		CHECK(json_array_size(json_object_get(json_object_get(s, "timeline"), "points")) <= 400);
		CHECK_EQ(geti(s, "bundle.last_ts"), 9007199254740991LL);
		CHECK_EQ(geti(s, "bundle.first_ts"), 0);
		e = json_array_get(json_object_get(json_object_get(s, "quarantined"), "list"), 0);
		CHECK(strcmp(gets_(e, "campaign"), "c-0009") == 0);
		CHECK_EQ(geti(s, "quarantined.by_rollout"), 0);
		/* what it wrote reads back as JSON, and renders */
		txt = json_dumps(s, JSON_SORT_KEYS);
		j = txt ? json_loads(txt, 0, NULL) : NULL;
		CHECK(j != NULL && json_equal(j, s));
		json_decref(j);
		free(txt);
		html = render(s, "hostile.html");
		CHECK(html != NULL);
		free(html);
	}
	json_decref(s);
	fw_report_free(f.r);
}

/* 10,000 devices fail (and are quarantined): the lists keep their first
 * 50, the totals count them all, the timeline stays within its points. */
static void t_bounded(void)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};
	json_t *s, *l;
	char d[32];
	int i;

	registry(&f);
	campaign_start(&f, 10000, 0, "[10000]");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":0,"
	        "\"name\":\"all\",\"devices\":10000}");
	for (i = 0; i < 10000 && !f.failed; i++) {
		snprintf(d, sizeof(d), "dev-%05d", i);
		dev(&f, d, "pending", "eligible", "stage", 0, 0, 0, "");
	}
	for (i = 0; i < 10000 && !f.failed; i++) {
		snprintf(d, sizeof(d), "dev-%05d", i);
		dev(&f, d, "eligible", "delivered", "report", 0, 1, 0, "");
		dev(&f, d, "delivered", "failed", "report", 0, 1, 1, ",\"detail\":\"flash\"");
		add(&f, "{\"type\":\"device.lifecycle\",\"device\":\"%s\",\"from\":\"active\","
		        "\"to\":\"quarantined\",\"campaign\":\"c-0001\",\"reason\":\"r\"}",
		    d);
	}
	/* the first listed device recovers later: the list follows it */
	dev(&f, "dev-00000", "failed", "installed", "report", 0, 1, 1, ",\"late\":true");
	CHECK_EQ(f.failed, 0);
	s = fw_report_summary(f.r, NULL, NULL);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ(geti(s, "failed.devices"), 10000);
		CHECK_EQ(geti(s, "failed.attempts"), 10000);
		CHECK_EQ(geti(s, "failed.now"), 9999);
		CHECK_EQ(geti(s, "states.installed"), 1);
		l = json_object_get(json_object_get(s, "failed"), "list");
		CHECK_EQ(json_array_size(l), 50);
		CHECK(strcmp(gets_(json_array_get(l, 0), "state_now"), "installed") == 0);
		CHECK(strcmp(gets_(json_array_get(l, 1), "state_now"), "failed") == 0);
		CHECK_EQ(geti(s, "quarantined.total"), 10000);
		CHECK_EQ(json_array_size(json_object_get(json_object_get(s, "quarantined"), "list")), 50);
		CHECK(json_array_size(json_object_get(json_object_get(s, "timeline"), "points")) <= 400);
		CHECK(json_array_size(json_object_get(json_object_get(s, "timeline"), "points")) >= 100);
		CHECK(geti(s, "timeline.bucket_ms") > 1000);
		/* the appendix is bounded by the lists, not by the devices */
		CHECK(json_array_size(json_object_get(s, "records")) < 400);
	}
	json_decref(s);
	fw_report_free(f.r);
}

/* A release's bundle: campaigns of the release count, a campaign of
 * another release (whose rollback release it is) does not. */
static void t_release_kind(void)
{
	struct feed f = {fw_report_new("release", "11111111"), 0, T0, 0};
	json_t *s;

	registry(&f);
	campaign_start(&f, 2, 0, "[2,0]");
	add(&f, "{\"type\":\"campaign.stage\",\"campaign\":\"c-0001\",\"stage\":0,\"devices\":2}");
	dev(&f, "d1", "pending", "eligible", "stage", 0, 0, 0, "");
	dev(&f, "d2", "pending", "eligible", "stage", 0, 0, 0, "");
	add(&f, "{\"type\":\"campaign.create\",\"campaign\":\"c-0002\",\"creator\":\"rm\","
	        "\"policy\":{\"name\":\"other\",\"release\":\"" RB_ID "\",\"stages\":[]},"
	        "\"state\":\"ready\"}");
	add(&f, "{\"type\":\"campaign.start\",\"campaign\":\"c-0002\",\"release\":\"" RB_ID "\","
	        "\"members\":5,\"ineligible\":0,\"state\":\"running\"}");
	add(&f, "{\"type\":\"rollout.device\",\"campaign\":\"c-0002\",\"device\":\"x\","
	        "\"from\":\"pending\",\"to\":\"eligible\",\"cause\":\"stage\"}");
	CHECK_EQ(f.failed, 0);
	s = fw_report_summary(f.r, NULL, NULL);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(json_is_null(json_object_get(s, "campaign")));
		CHECK_EQ(json_array_size(json_object_get(s, "campaigns")), 2);
		CHECK(json_is_true(
		    json_object_get(json_array_get(json_object_get(s, "campaigns"), 0), "counted")));
		CHECK(json_is_false(
		    json_object_get(json_array_get(json_object_get(s, "campaigns"), 1), "counted")));
		CHECK_EQ(geti(s, "states.eligible"), 2);
		CHECK_EQ(geti(s, "eligibility.members"), 2);
		CHECK(strcmp(gets_(s, "release.release_id"), R_ID) == 0);
		CHECK(strcmp(gets_(s, "release.version"), "2.4.1") == 0);
	}
	json_decref(s);
	fw_report_free(f.r);

	/* a release nobody rolled out: the campaign rows say so */
	f = (struct feed){fw_report_new("release", R_ID), 0, T0, 0};
	registry(&f);
	s = fw_report_summary(f.r, NULL, NULL);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(strcmp(gets_(json_array_get(json_object_get(s, "cra"), 2), "status"),
		             "not_recorded") == 0);
		CHECK(strcmp(gets_(json_array_get(json_object_get(s, "cra"), 5), "status"),
		             "not_recorded") == 0);
		CHECK(strcmp(gets_(json_array_get(json_object_get(s, "cra"), 0), "status"),
		             "recorded") == 0);
		CHECK_EQ(json_array_size(json_object_get(json_object_get(s, "timeline"), "points")), 0);
		free(render(s, "release.html"));
	}
	json_decref(s);
	fw_report_free(f.r);
}

/* Records that cannot follow from the ones before them are counted;
 * an edit voids the approvals; a revoked key shows as revoked. */
static void t_anomalies(void)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};
	json_t *s;

	registry(&f);
	campaign_start(&f, 2, 0, "[2]");
	add(&f, "{\"type\":\"campaign.edit\",\"campaign\":\"c-0001\",\"by\":\"rm\","
	        "\"policy\":%s,\"policy_sha256\":\"ps2\",\"state\":\"awaiting_approval\"}",
	    policy);
	add(&f, "{\"type\":\"campaign.approve\",\"campaign\":\"c-0001\",\"stage\":0,"
	        "\"operator\":\"rm\",\"key_id\":\"aa\",\"policy_sha256\":\"ps2\"}");
	add(&f, "{\"type\":\"key.revoke\",\"key_id\":\"" KEY_ID "\",\"name\":\"rel\","
	        "\"reason\":\"leaked\"}");
	dev(&f, "d1", "installed", "rolled_back", "fallback", 0, 1, 1, ""); /* never installed */
	dev(&f, "d1", "nowhere", "installed", "report", 0, 1, 1, "");      /* no such state */
	CHECK_EQ(f.failed, 0);
	s = fw_report_summary(f.r, NULL, NULL);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ(geti(s, "inconsistencies"), 2);
		CHECK_EQ(geti(s, "campaign.approvals"), 1);
		CHECK_EQ(geti(s, "campaign.approvals_voided"), 2);
		CHECK_EQ(geti(s, "campaign.edits"), 1);
		CHECK(json_is_false(json_object_get(json_object_get(s, "campaign"), "four_eyes")));
		CHECK(strcmp(gets_(s, "release.signer.state"), "revoked") == 0);
		CHECK(strcmp(gets_(s, "release.signer.revoke_reason"), "leaked") == 0);
		CHECK(strstr(gets_(json_array_get(json_object_get(s, "cra"), 0), "control"),
		             "REVOKED") != NULL);
	}
	json_decref(s);
	fw_report_free(f.r);
}

/* The same records give the same summary (export and verify agree). */
static void t_deterministic(void)
{
	uint64_t l1 = 0, l2 = 0;
	struct fw_report *a = small_campaign(&l1), *b = small_campaign(&l2);
	struct fw_checkpoint cp = anchor(l1 + 1);
	json_t *x = a ? fw_report_summary(a, &cp, "k") : NULL;
	json_t *y = b ? fw_report_summary(b, &cp, "k") : NULL;
	json_t *z = a ? fw_report_summary(a, &cp, "k") : NULL; /* twice from one report */

	CHECK(x && y && z);
	CHECK(json_equal(x, y));
	CHECK(json_equal(x, z));
	json_decref(x);
	json_decref(y);
	json_decref(z);
	fw_report_free(a);
	fw_report_free(b);
}

static void t_refusals(void)
{
	struct fw_report *r = fw_report_new("campaign", "c-0001");
	struct fw_diag d = {{0}};
	json_t *ok = json_pack("{ss sI}", "type", "log.init", "ts", (json_int_t)T0);
	json_t *notype = json_pack("{sI}", "ts", (json_int_t)T0);
	json_t *arr = json_array(), *s;
	char big[200];
	FILE *full;

	CHECK(r != NULL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK(fw_report_new("campaign", big) == NULL);
	CHECK(fw_report_new(NULL, "x") == NULL);
	CHECK_EQ(fw_report_add(r, 0, NULL, &d), FW_E_ARG);
	CHECK_EQ(fw_report_add(r, 0, notype, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "record 0") != NULL);
	CHECK_EQ(fw_report_add(r, 0, arr, &d), FW_E_FORMAT);
	CHECK_EQ(fw_report_add(r, 5, ok, &d), FW_OK);
	CHECK_EQ(fw_report_add(r, 5, ok, &d), FW_E_ARG); /* not after itself */
	CHECK_EQ(fw_report_add(r, 4, ok, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "index order") != NULL);
	CHECK_EQ(fw_report_add(r, 6, ok, &d), FW_OK);
	CHECK(fw_report_summary(NULL, NULL, NULL) == NULL);
	s = fw_report_summary(r, NULL, NULL);
	CHECK(s != NULL);
	CHECK_EQ(geti(s, "bundle.records"), 2);
	CHECK(json_is_null(json_object_get(json_object_get(s, "bundle"), "anchor")));
	CHECK_EQ(fw_report_html(NULL, stdout, &d), FW_E_ARG);
	/* a write that fails is an error, not a short report */
	full = fopen("/dev/full", "w");
	if (full != NULL) {
		CHECK_EQ(fw_report_html(s, full, &d), FW_E_IO);
		fclose(full);
	}
	json_decref(s);
	json_decref(ok);
	json_decref(notype);
	json_decref(arr);
	fw_report_free(r);
	fw_report_free(NULL);
}

/* Vulnerability handling: an advisory, its cohort computed over time, the
 * devices isolated for it, a campaign naming it in "remediates"; the
 * summary's series, the CRA row, the chart; an advisory's own report; a
 * long history thinned to REPORT_COHORTS_MAX points, first and latest
 * kept. */
static void cohort_why(struct feed *f, const char *id, long long at, int iso, int cannot,
                       int rem, int exp, int fixed, const char *why)
{
	add(f, "{\"type\":\"vuln.affected\",\"advisory\":\"%s\",\"at\":%lld,\"devices\":300,"
	       "\"cohort\":%d,\"counts\":{\"isolated\":%d,\"cannot_be_remediated\":%d,"
	       "\"being_remediated\":%d,\"exposed\":%d,\"remediated\":%d},\"campaigns\":[],"
	       "\"list_sha256\":\"00\",\"list_size\":0,\"affected\":\">=2.0.0 <2.4.1\"%s}",
	    id, at, iso + cannot + rem + exp + fixed, iso, cannot, rem, exp, fixed, why);
}

static void cohort(struct feed *f, const char *id, long long at, int iso, int cannot, int rem,
                   int exp, int fixed)
{
	cohort_why(f, id, at, iso, cannot, rem, exp, fixed, "");
}

static void t_vulnerabilities(void)
{
	struct feed f = {fw_report_new("campaign", "c-0001"), 0, T0, 0};
	struct fw_checkpoint cp;
	json_t *s, *v, *row = NULL;
	char *html;
	size_t i;

	registry(&f);
	add(&f, "{\"type\":\"vuln.add\",\"advisory\":\"FWT-1\",\"title\":\"Boot <bypass>\","
	        "\"severity\":\"critical\",\"cvss\":null,\"cves\":[\"CVE-2026-12345\"],"
	        "\"product\":\"controller\",\"family\":\"ctl-a\",\"affected\":\">=2.0.0 <2.4.1\","
	        "\"fixed_in\":\"2.4.1\",\"source\":\"cli\"}");
	cohort(&f, "FWT-1", T0 / 1000, 1, 2, 0, 40, 0);
	add(&f, "{\"type\":\"campaign.create\",\"campaign\":\"c-0001\",\"creator\":\"rm\","
	        "\"policy\":{\"name\":\"fix\",\"release\":\"" R_ID "\",\"remediates\":[\"FWT-1\"],"
	        "\"stages\":[{\"name\":\"all\",\"size\":{\"percent\":100},\"approvals\":0,"
	        "\"soak_s\":0}]},\"policy_sha256\":\"ps1\",\"state\":\"ready\"}");
	cohort(&f, "FWT-1", T0 / 1000 + 60, 1, 2, 30, 10, 0);
	add(&f, "{\"type\":\"vuln.isolate\",\"advisory\":\"FWT-1\",\"device\":\"d7\","
	        "\"action\":\"quarantine\",\"reason\":\"out of <support>\",\"fw_version\":\"2.1.0\"}");
	add(&f, "{\"type\":\"vuln.isolate\",\"advisory\":\"FWT-1\",\"device\":\"d8\","
	        "\"action\":\"revoke\",\"reason\":\"decommissioned\",\"fw_version\":\"2.0.0\"}");
	cohort_why(&f, "FWT-1", T0 / 1000 + 120, 3, 0, 2, 8, 30,
	           ",\"exposed_why\":{\"fixing_releases\":1,\"eligible\":2,\"no_fixing_release\":0,"
	           "\"ineligible\":[{\"code\":\"cert.expired\",\"devices\":4},"
	           "{\"code\":\"<b>x\",\"devices\":2}]}");
	cp = anchor(f.idx);
	s = fw_report_summary(f.r, &cp, NULL);
	CHECK(s != NULL && !f.failed);
	v = json_array_get(json_object_get(s, "vulnerabilities"), 0);
	CHECK_EQ(json_array_size(json_object_get(s, "vulnerabilities")), 1);
	CHECK(strcmp(gets_(v, "advisory"), "FWT-1") == 0);
	CHECK(strcmp(gets_(v, "severity"), "critical") == 0);
	CHECK(strcmp(gets_(v, "fixed_in"), "2.4.1") == 0);
	CHECK_EQ(geti(v, "cohorts"), 3);
	CHECK_EQ(json_array_size(json_object_get(v, "series")), 3);
	CHECK_EQ(geti(json_object_get(v, "latest"), "counts.remediated"), 30);
	CHECK_EQ(geti(json_object_get(v, "latest"), "cohort"), 43);
	CHECK_EQ(geti(json_object_get(json_array_get(json_object_get(v, "series"), 0), "counts"),
	              "exposed"),
	         40);
	CHECK_EQ(geti(v, "isolated.total"), 2);
	CHECK_EQ(geti(v, "exposed_why.eligible"), 2);
	CHECK_EQ(geti(json_array_get(json_object_get(json_object_get(v, "exposed_why"),
	                                             "ineligible"), 0), "devices"), 4);
	CHECK_EQ(geti(v, "isolated.quarantine"), 1);
	CHECK_EQ(geti(v, "isolated.revoke"), 1);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(v, "campaigns"), 0)), "c-0001") == 0);
	CHECK_EQ(geti(s, "advisories"), 6);
	json_array_foreach(json_object_get(s, "cra"), i, v)
		if (strcmp(gets_(v, "id"), "vulnerability_handling") == 0)
			row = v;
	CHECK(row != NULL);
	if (row) {
		CHECK(strcmp(gets_(row, "status"), "recorded") == 0);
		CHECK(strstr(gets_(row, "control"), "Advisory FWT-1 (critical") != NULL);
		CHECK(strstr(gets_(row, "control"), "computed 3 time(s)") != NULL);
		CHECK(strstr(gets_(row, "control"), "8 exposed, 2 being remediated, 30 remediated") !=
		      NULL);
		CHECK(strstr(gets_(row, "control"), "2 device(s) that cannot be updated were isolated") !=
		      NULL);
		CHECK(strstr(gets_(row, "control"), "Campaign c-0001 names it as remediated") != NULL);
		CHECK(strstr(gets_(row, "control"),
		             "Of the exposed devices, 2 could receive a fixing release but no campaign "
		             "reaches them, 0 have no fixing release for their product and family; "
		             "ineligible for it: cert.expired 4, <b>x 2.") != NULL);
		CHECK(json_array_size(json_object_get(row, "records")) >= 6);
	}
	html = s ? render(s, "vuln.html") : NULL;
	CHECK(html != NULL);
	if (html) {
		CHECK(strstr(html, "aria-label=\"affected devices per remediation state over time\"") !=
		      NULL);
		CHECK(strstr(html, "<title>remediated</title>") != NULL);
		CHECK(strstr(html, "<title>exposed</title>") != NULL);
		CHECK(strstr(html, "Boot &lt;bypass&gt;") != NULL && strstr(html, "<bypass>") == NULL);
		CHECK(strstr(html, "out of &lt;support&gt;") != NULL);
		CHECK(strstr(html, "ineligible for it (eligibility's reasons): cert.expired 4, "
		                   "&lt;b&gt;x 2.") != NULL);
		CHECK(links_resolve(html) > 10);
	}
	free(html);
	json_decref(s);
	fw_report_free(f.r);

	/* an advisory's own report; a long history is thinned */
	f.r = fw_report_new("advisory", "FWT-2");
	f.idx = 0;
	f.ts = T0;
	registry(&f);
	add(&f, "{\"type\":\"vuln.add\",\"advisory\":\"FWT-2\",\"title\":\"t\","
	        "\"severity\":\"low\",\"product\":\"controller\",\"family\":null,"
	        "\"affected\":\"<1.0.0\",\"fixed_in\":null,\"source\":\"csaf\"}");
	for (i = 0; i < 300; i++)
		cohort(&f, "FWT-2", T0 / 1000 + (long long)i * 60, 0, 0, 0, 300 - (int)i, (int)i);
	/* a campaign remediates it through its release's fixes, as the bundle
	 * follows it, without naming it in its policy */
	add(&f, "{\"type\":\"release.add\",\"release_id\":\"" R3_ID "\",\"product\":\"controller\","
	        "\"family\":\"ctl-a\",\"version\":\"2.3.10\",\"fixes\":[\"FWT-2\"]}");
	add(&f, "{\"type\":\"campaign.create\",\"campaign\":\"c-0002\",\"creator\":\"rm\","
	        "\"policy\":{\"name\":\"backport\",\"release\":\"" R3_ID "\",\"stages\":[{\"name\":"
	        "\"all\",\"size\":{\"percent\":100},\"approvals\":0,\"soak_s\":0}]},"
	        "\"policy_sha256\":\"ps2\",\"state\":\"ready\"}");
	cp = anchor(f.idx);
	s = fw_report_summary(f.r, &cp, NULL);
	v = json_array_get(json_object_get(s, "vulnerabilities"), 0);
	CHECK_EQ(json_array_size(json_object_get(v, "campaigns")), 1);
	CHECK(json_is_string(json_array_get(json_object_get(v, "campaigns"), 0)) &&
	      strcmp(json_string_value(json_array_get(json_object_get(v, "campaigns"), 0)),
	             "c-0002") == 0);
	CHECK_EQ(geti(v, "cohorts"), 300);
	CHECK(json_array_size(json_object_get(v, "series")) <= 128);
	CHECK(json_array_size(json_object_get(v, "series")) >= 64);
	CHECK_EQ(geti(json_array_get(json_object_get(v, "series"), 0), "counts.exposed"), 300);
	CHECK_EQ(geti(json_object_get(v, "latest"), "counts.remediated"), 299);
	CHECK(strcmp(gets_(json_object_get(s, "bundle"), "kind"), "advisory") == 0);
	json_array_foreach(json_object_get(s, "cra"), i, v)
		if (strcmp(gets_(v, "id"), "vulnerability_handling") == 0)
			CHECK(strcmp(gets_(v, "status"), "recorded") == 0);
	html = s ? render(s, "advisory.html") : NULL;
	CHECK(html != NULL && strstr(html, "Advisory <b>FWT-2</b>") != NULL);
	CHECK(html != NULL && strstr(html, "computations are shown") != NULL);
	free(html);
	json_decref(s);
	fw_report_free(f.r);
}

static const struct harness_test tests[] = {
    {"summary_numbers", t_summary_numbers},
    {"html", t_html},
    {"escaping", t_escaping},
    {"hostile", t_hostile},
    {"bounded", t_bounded},
    {"release_kind", t_release_kind},
    {"anomalies", t_anomalies},
    {"deterministic", t_deterministic},
    {"refusals", t_refusals},
    {"vulnerabilities", t_vulnerabilities},
};
HARNESS_MAIN(tests)
