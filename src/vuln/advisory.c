/*
 * Advisories: validation of every field (ids, severity, CVSS v3.x vectors
 * field by field, ranges, the fixing version), and the advisory document
 * written with its vuln.add record in one transaction.
 */
#define _POSIX_C_SOURCE 200809L
#include "vuln/vuln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"


static const char *const severities[] = {NULL, "low", "medium", "high", "critical"};

/* Untrusted text as a message may show it: control bytes become '?' (the
 * message reaches terminals), at most cap-1 bytes. */
static const char *shown(const char *s, size_t n, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s && i < n && s[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *fw_vuln_severity_name(int sev)
{
	return sev >= FW_VULN_LOW && sev <= FW_VULN_CRITICAL ? severities[sev] : NULL;
}

int fw_vuln_severity_parse(const char *s, int *out, struct fw_diag *d)
{
	char b[40];
	int i;

	for (i = FW_VULN_LOW; s && i <= FW_VULN_CRITICAL; i++)
		if (strcmp(s, severities[i]) == 0) {
			*out = i;
			return FW_OK;
		}
	return fw_diag_set(d, FW_E_ARG, "'%s' is not a severity (low, medium, high, critical)",
	                   s ? shown(s, 32, b, sizeof(b)) : "(null)");
}

int fw_vuln_cve_valid(const char *cve)
{
	size_t i, n;

	if (cve == NULL || strncmp(cve, "CVE-", 4) != 0)
		return 0;
	for (i = 4; i < 8; i++)
		if (cve[i] < '0' || cve[i] > '9')
			return 0;
	if (cve[8] != '-')
		return 0;
	for (n = 0; cve[9 + n]; n++)
		if (cve[9 + n] < '0' || cve[9 + n] > '9' || n >= 19)
			return 0;
	return n >= 4;
}

/* ---- CVSS v3.x vectors ---- */

struct metric {
	const char *name;
	const char *values; /* one letter per value */
	int base;           /* required */
};
/* CVSS v3.1 specification, section 6 (Table 15): the same for v3.0 */
static const struct metric metrics[] = {
    {"AV", "NALP", 1}, {"AC", "LH", 1},   {"PR", "NLH", 1},   {"UI", "NR", 1},
    {"S", "UC", 1},    {"C", "HLN", 1},   {"I", "HLN", 1},    {"A", "HLN", 1},
    {"E", "XUPFH", 0}, {"RL", "XOTWU", 0}, {"RC", "XURC", 0}, {"CR", "XLMH", 0},
    {"IR", "XLMH", 0}, {"AR", "XLMH", 0}, {"MAV", "XNALP", 0}, {"MAC", "XLH", 0},
    {"MPR", "XNLH", 0}, {"MUI", "XNR", 0}, {"MS", "XUC", 0},  {"MC", "XNLH", 0},
    {"MI", "XNLH", 0}, {"MA", "XNLH", 0},
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static void list_values(const char *v, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; v[i] && n + 4 < cap; i++) {
		if (i) {
			out[n++] = ',';
			out[n++] = ' ';
		}
		out[n++] = v[i];
		out[n] = '\0';
	}
}

int fw_vuln_cvss_check(const char *vec, int *minor, struct fw_diag *d)
{
	int seen[NMETRICS] = {0};
	const char *p, *colon, *end;
	char vals[40], b1[48], b2[48];
	size_t i, len, nlen;
	int m;

	if (vec == NULL)
		return fw_diag_set(d, FW_E_ARG, "no CVSS vector");
	len = strnlen(vec, FW_VULN_CVSS_MAX + 1);
	if (len > FW_VULN_CVSS_MAX)
		return fw_diag_set(d, FW_E_TOO_LARGE, "CVSS vector over %d bytes", FW_VULN_CVSS_MAX);
	if (strncmp(vec, "CVSS:3.0/", 9) == 0)
		m = 0;
	else if (strncmp(vec, "CVSS:3.1/", 9) == 0)
		m = 1;
	else
		return fw_diag_set(d, FW_E_FORMAT,
		                   "%s: not a CVSS v3.x vector (it starts CVSS:3.0/ or CVSS:3.1/)",
		                   shown(vec, 40, b1, sizeof(b1)));
	p = vec + 9;
	for (;;) {
		size_t k;

		end = strchr(p, '/');
		if (end == NULL)
			end = vec + len;
		colon = memchr(p, ':', (size_t)(end - p));
		if (end == p)
			return fw_diag_set(d, FW_E_FORMAT, "empty metric at byte %zu",
			                   (size_t)(p - vec) + 1);
		if (colon == NULL)
			return fw_diag_set(d, FW_E_FORMAT, "'%s' at byte %zu is not METRIC:VALUE",
			                   shown(p, (size_t)(end - p), b1, sizeof(b1)),
			                   (size_t)(p - vec) + 1);
		nlen = (size_t)(colon - p);
		for (k = 0; k < NMETRICS; k++)
			if (strlen(metrics[k].name) == nlen && memcmp(metrics[k].name, p, nlen) == 0)
				break;
		if (k == NMETRICS)
			return fw_diag_set(d, FW_E_FORMAT, "'%s' at byte %zu is not a CVSS v3 metric",
			                   shown(p, nlen, b1, sizeof(b1)), (size_t)(p - vec) + 1);
		if (seen[k])
			return fw_diag_set(d, FW_E_FORMAT, "metric %s given twice (byte %zu)",
			                   metrics[k].name, (size_t)(p - vec) + 1);
		seen[k] = 1;
		if (end - colon != 2 || strchr(metrics[k].values, colon[1]) == NULL ||
		    colon[1] == '\0') {
			list_values(metrics[k].values, vals, sizeof(vals));
			return fw_diag_set(d, FW_E_FORMAT, "%s: '%s' is not a value of %s (%s) at byte %zu",
			                   shown(p, (size_t)(end - p), b1, sizeof(b1)),
			                   shown(colon + 1, (size_t)(end - colon - 1), b2, sizeof(b2)),
			                   metrics[k].name, vals, (size_t)(colon - vec) + 2);
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	for (i = 0; i < NMETRICS; i++)
		if (metrics[i].base && !seen[i])
			return fw_diag_set(d, FW_E_FORMAT, "base metric %s is missing", metrics[i].name);
	if (minor)
		*minor = m;
	return FW_OK;
}

/* ---- advisories ---- */

static int text_ok(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	return n >= 1 && n <= max && fw_text_valid(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int fw_vuln_advisory_parse(const struct fw_vuln_input *in, struct fw_vuln_advisory *out,
                           struct fw_diag *d)
{
	struct fw_vuln_advisory *a;
	struct fw_diag why = {{0}};
	char b[96];
	size_t i;
	int rc = FW_E_ARG;

	if (in == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "no advisory");
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (!fw_advisory_id_valid(in->id)) {
		fw_diag_set(d, rc, "advisory id '%s': 1-%d of A-Z a-z 0-9 . _ : -, starting with a "
		                   "letter or digit", shown(in->id, 80, b, sizeof(b)), FW_VULN_ID_MAX);
		goto out;
	}
	snprintf(a->id, sizeof(a->id), "%s", in->id);
	if (!text_ok(in->title, FW_VULN_TITLE_MAX)) {
		fw_diag_set(d, rc, "--title: 1-%d bytes of UTF-8 text without control characters",
		            FW_VULN_TITLE_MAX);
		goto out;
	}
	snprintf(a->title, sizeof(a->title), "%s", in->title);
	if (fw_vuln_severity_parse(in->severity, &a->severity, &why) != FW_OK) {
		fw_diag_set(d, rc, "--severity: %s", why.msg);
		goto out;
	}
	if (in->cvss) {
		if (fw_vuln_cvss_check(in->cvss, NULL, &why) != FW_OK) {
			fw_diag_set(d, rc, "--cvss: %s", why.msg);
			goto out;
		}
		snprintf(a->cvss, sizeof(a->cvss), "%s", in->cvss);
	}
	if (!text_ok(in->product, FW_FIELD_MAX - 1)) {
		fw_diag_set(d, rc, "--product: 1-%d bytes of text", FW_FIELD_MAX - 1);
		goto out;
	}
	snprintf(a->product, sizeof(a->product), "%s", in->product);
	if (in->family) {
		if (!text_ok(in->family, FW_FIELD_MAX - 1)) {
			fw_diag_set(d, rc, "--family: 1-%d bytes of text", FW_FIELD_MAX - 1);
			goto out;
		}
		snprintf(a->family, sizeof(a->family), "%s", in->family);
	}
	if (in->affected == NULL) {
		fw_diag_set(d, rc, "--affected: no range");
		goto out;
	}
	if (fw_range_parse(in->affected, &a->affected, &why) != FW_OK) {
		fw_diag_set(d, rc, "--affected: %s", why.msg);
		goto out;
	}
	fw_range_format(&a->affected, a->affected_text, sizeof(a->affected_text));
	if (in->fixed_in) {
		if (fw_semver_parse(in->fixed_in, &a->fixed, &why) != FW_OK) {
			fw_diag_set(d, rc, "--fixed-in: %s", why.msg);
			goto out;
		}
		a->has_fixed = 1;
		fw_semver_format(&a->fixed, a->fixed_text);
		if (fw_range_match(&a->affected, &a->fixed)) {
			fw_diag_set(d, rc, "--fixed-in %s is inside the affected range '%s'", a->fixed_text,
			            a->affected_text);
			goto out;
		}
	}
	if (in->ncves > FW_VULN_MAX_CVES) {
		fw_diag_set(d, rc, "--cve: at most %d", FW_VULN_MAX_CVES);
		goto out;
	}
	for (i = 0; i < in->ncves; i++) {
		if (!fw_vuln_cve_valid(in->cves[i])) {
			fw_diag_set(d, rc, "--cve '%s': not a CVE id (CVE-YYYY-NNNN...)",
			            shown(in->cves[i], 40, b, sizeof(b)));
			goto out;
		}
		snprintf(a->cves[i], sizeof(a->cves[i]), "%s", in->cves[i]);
	}
	a->ncves = in->ncves;
	qsort(a->cves, a->ncves, sizeof(a->cves[0]), cmp_str);
	for (i = 1; i < a->ncves; i++)
		if (strcmp(a->cves[i - 1], a->cves[i]) == 0) {
			fw_diag_set(d, rc, "--cve %s given twice", a->cves[i]);
			goto out;
		}
	*out = *a;
	rc = FW_OK;
out:
	free(a);
	return rc;
}

/* The advisory's fields as JSON (document and record share them). */
json_t *fw_vuln_advisory_json(const struct fw_vuln_advisory *a, const char *source)
{
	json_t *o = json_object(), *cves = json_array();
	size_t i;

	if (o == NULL || cves == NULL) {
		json_decref(o);
		json_decref(cves);
		return NULL;
	}
	for (i = 0; i < a->ncves; i++)
		json_array_append_new(cves, json_string(a->cves[i]));
	json_object_set_new(o, "advisory", json_string(a->id));
	json_object_set_new(o, "title", json_string(a->title));
	json_object_set_new(o, "severity", json_string(fw_vuln_severity_name(a->severity)));
	json_object_set_new(o, "cvss", a->cvss[0] ? json_string(a->cvss) : json_null());
	json_object_set_new(o, "product", json_string(a->product));
	json_object_set_new(o, "family", a->family[0] ? json_string(a->family) : json_null());
	json_object_set_new(o, "affected", json_string(a->affected_text));
	json_object_set_new(o, "fixed_in", a->has_fixed ? json_string(a->fixed_text) : json_null());
	json_object_set_new(o, "cves", cves);
	json_object_set_new(o, "source", json_string(source));
	return o;
}

struct add {
	const struct fw_vuln_advisory *a;
	json_t *doc;
};

static int add_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct add *x = arg;
	json_t *old = NULL;
	int rc = fw_registry_doc_get(s, FW_REGISTRY_KIND_ADVISORY, x->a->id, &old, NULL);

	json_decref(old);
	if (rc == FW_OK)
		return fw_diag_set(d, FW_E_CONFLICT, "advisory %s exists already (see 'fwtrust vuln "
		                                     "show %s')", x->a->id, x->a->id);
	if (rc != FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "advisory %s: %s", x->a->id, s->err.msg);
	return json_object_update(record, x->doc) == 0 ? FW_OK
	                                               : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int add_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct add *x = arg;

	json_object_set_new(x->doc, "added", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, FW_REGISTRY_KIND_ADVISORY, x->a->id, x->doc, 0, d);
}

int fw_vuln_add(struct fw_store *s, const struct fw_vuln_advisory *a, const char *actor,
                json_t **doc, uint64_t *idx, struct fw_diag *d)
{
	struct add x = {a, fw_vuln_advisory_json(a, "cli")};
	struct fw_evidence_change ch = {add_prepare, add_apply, &x};
	json_t *rec = fw_evidence_record_new("vuln.add", actor);
	int rc;

	if (x.doc == NULL || rec == NULL) {
		json_decref(x.doc);
		json_decref(rec);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	rc = fw_evidence_commit(s, &ch, rec, idx, NULL, d);
	json_decref(rec);
	if (rc == FW_OK && doc)
		*doc = x.doc;
	else
		json_decref(x.doc);
	return rc;
}

int fw_vuln_get(struct fw_store *s, const char *id, json_t **doc, struct fw_diag *d)
{
	char b[96];
	int rc;

	if (!fw_advisory_id_valid(id))
		return fw_diag_set(d, FW_E_NOT_FOUND, "no advisory '%s' (see 'fwtrust vuln list')",
		                   shown(id, 80, b, sizeof(b)));
	rc = fw_registry_doc_get(s, FW_REGISTRY_KIND_ADVISORY, id, doc, d);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no advisory '%s' (see 'fwtrust vuln list')", id);
	return rc;
}

int fw_vuln_list(struct fw_store *s, json_t **docs, struct fw_diag *d)
{
	return fw_registry_doc_list(s, FW_REGISTRY_KIND_ADVISORY, docs, d);
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int fw_vuln_load(struct fw_store *s, const char *id, struct fw_vuln_advisory *a, uint64_t *rec,
                 uint8_t rec_lh[32], struct fw_diag *d)
{
	const char *cves[FW_VULN_MAX_CVES];
	struct fw_vuln_input in = {0};
	struct fw_diag why = {{0}};
	json_t *doc = NULL, *arr, *v;
	size_t i;
	int rc = fw_vuln_get(s, id, &doc, d);

	if (rc != FW_OK)
		return rc;
	in.id = jstr(doc, "advisory");
	in.title = jstr(doc, "title");
	in.severity = jstr(doc, "severity");
	in.cvss = jstr(doc, "cvss");
	in.product = jstr(doc, "product");
	in.family = jstr(doc, "family");
	in.affected = jstr(doc, "affected");
	in.fixed_in = jstr(doc, "fixed_in");
	arr = json_object_get(doc, "cves");
	rc = json_is_array(arr) && json_array_size(arr) <= FW_VULN_MAX_CVES ? FW_OK : FW_E_STORE;
	json_array_foreach(arr, i, v) {
		if (i < FW_VULN_MAX_CVES)
			cves[i] = json_is_string(v) ? json_string_value(v) : "";
	}
	in.cves = cves;
	in.ncves = rc == FW_OK ? json_array_size(arr) : 0;
	if (rc == FW_OK && (in.id == NULL || strcmp(in.id, id) != 0))
		rc = FW_E_STORE;
	if (rc == FW_OK && fw_vuln_advisory_parse(&in, a, &why) != FW_OK)
		rc = FW_E_STORE;
	if (rc == FW_OK && fw_evidence_ref_parse(json_object_get(doc, "added"), rec, rec_lh) != FW_OK)
		rc = FW_E_STORE;
	json_decref(doc);
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "advisory %s: the stored document is malformed%s%s", id,
		                   why.msg[0] ? ": " : "", why.msg);
	return FW_OK;
}

/* ---- CSAF imports ---- */

/* The "csaf" object of an imported advisory's document and record. */
static json_t *csaf_json(const struct fw_vuln_csaf *c, const struct fw_vuln_csaf_item *it,
                         int partial)
{
	json_t *o = json_object(), *un;
	char hex[65];
	size_t i;

	if (o == NULL)
		return NULL;
	fw_hex_encode(c->sha256, 32, hex);
	json_object_set_new(o, "tracking_id", json_string(c->tracking_id));
	json_object_set_new(o, "tracking_version", json_string(c->tracking_version));
	json_object_set_new(o, "publisher", json_string(c->publisher));
	json_object_set_new(o, "sha256", json_string(hex));
	json_object_set_new(o, "size", json_integer((json_int_t)c->size));
	json_object_set_new(o, "path", json_string(it->path));
	if (partial && c->nunmapped) {
		un = json_array();
		for (i = 0; un && i < c->nunmapped; i++)
			json_array_append_new(un, json_pack("{ssss}", "path", c->unmapped[i].path,
			                                    "why", c->unmapped[i].why));
		if (un == NULL || json_array_size(un) != c->nunmapped ||
		    json_object_set_new(o, "unmapped", un) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	if (json_object_size(o) != 6u + (partial && c->nunmapped)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Whether an advisory id is free (0), imported before from this document
 * (1), or taken otherwise (FW_E_CONFLICT naming it). */
static int import_check(struct fw_store *s, const struct fw_vuln_csaf *c, const char *id,
                        int *existed, struct fw_diag *d)
{
	json_t *old = NULL;
	const char *src, *sha;
	char hex[65];
	int rc = fw_registry_doc_get(s, FW_REGISTRY_KIND_ADVISORY, id, &old, NULL);

	*existed = 0;
	if (rc == FW_E_NOT_FOUND)
		return FW_OK;
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "advisory %s: %s", id, s->err.msg);
	fw_hex_encode(c->sha256, 32, hex);
	src = jstr(old, "source");
	sha = jstr(json_object_get(old, "csaf"), "sha256");
	if (src && strcmp(src, "csaf") == 0 && sha && strcmp(sha, hex) == 0) {
		json_decref(old);
		*existed = 1;
		return FW_OK;
	}
	json_decref(old);
	return fw_diag_set(d, FW_E_CONFLICT, "advisory %s exists already, not from this document "
	                   "(see 'fwtrust vuln show %s')", id, id);
}

int fw_vuln_import_plan(struct fw_store *s, struct fw_vuln_csaf *c, struct fw_diag *d)
{
	size_t i;
	int rc = FW_OK;

	if (s == NULL || c == NULL)
		return fw_diag_set(d, FW_E_ARG, "no store or no document");
	for (i = 0; i < c->n && rc == FW_OK; i++)
		rc = import_check(s, c, c->items[i].a.id, &c->items[i].existed, d);
	return rc;
}

int fw_vuln_import(struct fw_store *s, struct fw_vuln_csaf *c, const uint8_t *data, size_t len,
                   int partial, const char *actor, struct fw_diag *d)
{
	uint8_t sha[32], lh[32];
	uint64_t *idx = NULL;
	int *existed = NULL;
	json_t *doc, *rec, *cj;
	size_t i, fresh = 0;
	int rc;

	if (s == NULL || c == NULL || data == NULL)
		return fw_diag_set(d, FW_E_ARG, "no store or no document");
	fw_sha256(data, len, sha);
	if (len != c->size || memcmp(sha, c->sha256, 32) != 0)
		return fw_diag_set(d, FW_E_ARG, "the bytes given are not the document parsed");
	/* default-deny: a document is imported whole unless partial says otherwise */
	if (c->nunmapped && !partial)
		return fw_diag_set(d, FW_E_VERIFY, "%zu item(s) of the document cannot be mapped: "
		                   "nothing imported", c->nunmapped);
	if (c->n == 0)
		return fw_diag_set(d, FW_E_VERIFY, "nothing of the document maps to an advisory: "
		                   "nothing imported");
	idx = calloc(c->n, sizeof(*idx));
	existed = calloc(c->n, sizeof(*existed));
	if (idx == NULL || existed == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	/* refusals first, so that a refused import does not even keep the document */
	for (i = 0; i < c->n; i++) {
		if ((rc = import_check(s, c, c->items[i].a.id, &existed[i], d)) != FW_OK)
			goto out;
		fresh += !existed[i];
	}
	if (fresh == 0) {
		for (i = 0; i < c->n; i++)
			c->items[i].existed = 1;
		rc = FW_OK;
		goto out;
	}
	/* the document as it was read, for an auditor to compare (content-addressed:
	 * kept before the transaction; if that fails, it is left without a record) */
	if ((rc = fw_store_blob_put(s, data, len, sha, d)) != FW_OK)
		goto out;
	if ((rc = fw_store_begin(s, d)) != FW_OK)
		goto out;
	for (i = 0; i < c->n && rc == FW_OK; i++) {
		const struct fw_vuln_csaf_item *it = &c->items[i];

		/* again inside the transaction: another writer may have come in between */
		rc = import_check(s, c, it->a.id, &existed[i], d);
		if (rc != FW_OK || existed[i])
			continue;
		doc = fw_vuln_advisory_json(&it->a, "csaf");
		cj = csaf_json(c, it, partial);
		rec = fw_evidence_record_new("vuln.add", actor);
		if (doc == NULL || cj == NULL || rec == NULL) {
			json_decref(cj);
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		} else if (json_object_set_new(doc, "csaf", cj) != 0 ||
		           json_object_update(rec, doc) != 0) {
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		} else {
			rc = fw_evidence_append(s, rec, &idx[i], lh, d);
			if (rc == FW_OK)
				rc = json_object_set_new(doc, "added", fw_evidence_ref_json(idx[i], lh)) == 0
				         ? fw_registry_doc_put(s, FW_REGISTRY_KIND_ADVISORY, it->a.id, doc, 0, d)
				         : fw_diag_set(d, FW_E_NOMEM, "out of memory");
		}
		json_decref(doc);
		json_decref(rec);
	}
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
	else
		fw_store_rollback(s);
	if (rc == FW_OK)
		for (i = 0; i < c->n; i++) {
			c->items[i].idx = idx[i];
			c->items[i].existed = existed[i];
		}
out:
	free(idx);
	free(existed);
	return rc;
}
