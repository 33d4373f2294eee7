/*
 * Remediation over time: every computation of an advisory's cohort is a
 * vuln.affected record, so the log holds the series. One scan of the log,
 * each record first matched by its bytes (canonical JSON: the type and the
 * advisory appear as "type":"vuln.affected" and "advisory":"<id>"), then
 * parsed.
 */
#define _GNU_SOURCE /* memmem */
#include "vuln/vuln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

#define SCAN_FN_STOP (-2) /* the callback asked to stop */
#define SCAN_FN_ERROR (-3)

struct prog {
	char pat[FW_VULN_ID_MAX + 16];
	fw_vuln_point_fn fn;
	void *arg;
	uint64_t n;
	struct fw_diag *d;
	int rc;
};

static uint64_t count_of(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

static int on_record(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                     size_t len)
{
	static const char type[] = "\"type\":\"vuln.affected\"";
	struct prog *x = arg;
	struct fw_vuln_point p;
	json_t *j, *counts;
	int b;

	(void)lh;
	if (memmem(rec, len, type, sizeof(type) - 1) == NULL ||
	    memmem(rec, len, x->pat, strlen(x->pat)) == NULL)
		return 0;
	j = fw_json_load_record((const char *)rec, len);
	if (j == NULL) {
		x->rc = fw_diag_set(x->d, FW_E_STORE, "record %llu is not JSON",
		                    (unsigned long long)idx);
		return SCAN_FN_ERROR;
	}
	memset(&p, 0, sizeof(p));
	p.idx = idx;
	p.at = (int64_t)json_integer_value(json_object_get(j, "at"));
	p.devices = count_of(j, "devices");
	p.cohort = count_of(j, "cohort");
	counts = json_object_get(j, "counts");
	for (b = 1; b < FW_VB_COUNT; b++)
		p.counts[b] = count_of(counts, fw_vuln_bucket_name(b));
	p.ncampaigns = json_array_size(json_object_get(j, "campaigns"));
	json_decref(j);
	x->n++;
	if (x->fn && x->fn(x->arg, &p) != 0)
		return SCAN_FN_STOP;
	return 0;
}

int fw_vuln_progress(struct fw_store *s, const char *id, fw_vuln_point_fn fn, void *arg,
                     uint64_t *n, struct fw_diag *d)
{
	struct prog x;
	json_t *doc = NULL;
	int rc;

	if (n)
		*n = 0;
	if (!fw_advisory_id_valid(id))
		return fw_diag_set(d, FW_E_ARG, "'%s' is not an advisory id", id ? id : "(null)");
	rc = fw_vuln_get(s, id, &doc, d);
	json_decref(doc);
	if (rc != FW_OK)
		return rc;
	memset(&x, 0, sizeof(x));
	snprintf(x.pat, sizeof(x.pat), "\"advisory\":\"%s\"", id);
	x.fn = fn;
	x.arg = arg;
	x.d = d;
	x.rc = FW_OK;
	rc = fw_evidence_scan(s, 0, on_record, &x, d);
	if (rc == SCAN_FN_STOP)
		rc = FW_OK;
	else if (rc == SCAN_FN_ERROR)
		rc = x.rc;
	if (n)
		*n = x.n;
	return rc;
}
