/*
 * Eligibility: device x release (x campaign targeting) -> eligible or not,
 * with every failing reason. A run decides for every device of the
 * registry in one transaction and records one decision per device and a
 * summary, each referring to the release's record.
 *
 * Decision records have a fixed shape and a run writes a million of them,
 * so they are written here directly in canonical JSON (the same bytes
 * fw_json_canonical writes for the same object; tests/policy checks it)
 * instead of through jansson.
 */
#define _POSIX_C_SOURCE 200809L
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "registry/registry.h"

#define KIND_RUN "eligibility"

static const struct {
	const char *code;
	const char *text;
} reasons[FW_REASON_COUNT] = {
    [FW_R_IDENTITY_UNKNOWN] = {"identity.unknown", "the device is not in the registry"},
    [FW_R_IDENTITY_MISMATCH] = {"identity.mismatch",
                                "the certificate's subject (CN or SAN) does not name the device"},
    [FW_R_CERT_MISSING] = {"cert.missing", "the device has no identity certificate"},
    [FW_R_CERT_REVOKED] = {"cert.revoked", "the identity certificate is revoked"},
    [FW_R_CERT_UNTRUSTED_ISSUER] = {"cert.untrusted_issuer",
                                    "the identity certificate does not chain to a trusted CA"},
    [FW_R_CERT_NOT_YET_VALID] = {"cert.not_yet_valid",
                                 "the identity certificate is not valid yet"},
    [FW_R_CERT_EXPIRED] = {"cert.expired", "the identity certificate has expired"},
    [FW_R_LC_MANUFACTURED] = {"lifecycle.manufactured", "the device is not provisioned yet"},
    [FW_R_LC_PROVISIONED] = {"lifecycle.provisioned", "the device is not active yet"},
    [FW_R_LC_QUARANTINED] = {"lifecycle.quarantined", "the device is quarantined"},
    [FW_R_LC_END_OF_SUPPORT] = {"lifecycle.end_of_support", "the device is out of support"},
    [FW_R_LC_DECOMMISSIONED] = {"lifecycle.decommissioned", "the device is decommissioned"},
    [FW_R_TARGET_PRODUCT] = {"target.product", "the release is for another product"},
    [FW_R_TARGET_FAMILY] = {"target.family", "the release is for another family"},
    [FW_R_TARGET_HW_REVISION] = {"target.hw_revision",
                                 "the release is not for this hardware revision"},
    [FW_R_TARGET_COHORT] = {"target.cohort", "the device is in none of the targeted cohorts"},
    [FW_R_VERSION_INVALID] = {"version.invalid",
                              "the device's firmware version is not a semantic version"},
    [FW_R_VERSION_OUT_OF_RANGE] = {"version.out_of_range",
                                   "the device's firmware is outside the release's upgrade range"},
    [FW_R_VERSION_ALREADY_INSTALLED] = {"version.already_installed",
                                        "the device runs this release's version already"},
    [FW_R_VERSION_NEWER] = {"version.newer", "the device runs a newer version"},
    [FW_R_SUPPORT_ENDED] = {"support.ended", "the device's security-support period has ended"},
    [FW_R_RELEASE_SIGNED_BY_REVOKED_KEY] = {"release.signed_by_revoked_key",
                                            "the release's signing key has been revoked"},
    [FW_R_RELEASE_NO_VERSION] = {"release.no_version",
                                 "the release's manifest has no semantic version"},
    [FW_R_TARGET_VERSION] = {"target.version",
                             "the campaign targets other firmware versions"},
};

const char *fw_reason_code(int r)
{
	return r >= 0 && r < FW_REASON_COUNT ? reasons[r].code : "unknown";
}

const char *fw_reason_text(int r)
{
	return r >= 0 && r < FW_REASON_COUNT ? reasons[r].text : "unknown reason";
}

/* ---- the release side ---- */

int fw_policy_release_load(struct fw_store *s, const char *ref, struct fw_policy_release *r,
                           struct fw_diag *d)
{
	json_t *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = fw_registry_release_get(s, ref, &doc, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_policy_release_from_doc(doc, r, d);
	json_decref(doc);
	return rc;
}

int fw_policy_release_from_doc(const json_t *doc, struct fw_policy_release *r,
                               struct fw_diag *d)
{
	const json_t *added, *hw, *h;
	const char *v, *from;
	struct fw_diag why = {{0}};
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", json_string_value(json_object_get(doc, "release_id")));
	snprintf(r->product, sizeof(r->product), "%s",
	         json_string_value(json_object_get(doc, "product")));
	snprintf(r->family, sizeof(r->family), "%s",
	         json_string_value(json_object_get(doc, "family")));
	v = json_string_value(json_object_get(doc, "version"));
	if (v) {
		snprintf(r->version_text, sizeof(r->version_text), "%s", v);
		r->has_version = fw_semver_parse(v, &r->version, NULL) == FW_OK;
	}
	from = json_string_value(json_object_get(doc, "upgrade_from"));
	if (from) {
		if (fw_range_parse(from, &r->range, &why) != FW_OK)
			return fw_diag_set(d, FW_E_STORE, "release %.16s: stored upgrade range: %s",
			                   r->id, why.msg);
		r->has_range = 1;
		fw_range_format(&r->range, r->range_text, sizeof(r->range_text));
	}
	hw = json_object_get(doc, "hw_revisions");
	json_array_foreach(hw, i, h) {
		if (r->nhw == FW_POLICY_MAX_HW)
			break;
		snprintf(r->hw[r->nhw++], FW_FIELD_MAX, "%s", json_string_value(h));
	}
	v = json_string_value(json_object_get(doc, "status"));
	r->signer_revoked = v == NULL || strcmp(v, "ok") != 0; /* default-deny */
	added = json_object_get(doc, "added");
	return fw_evidence_ref_parse(added, &r->rec, r->rec_lh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_STORE, "release %.16s: its record reference is malformed",
	                         r->id);
}

/* ---- one decision ---- */

int fw_policy_support_ended(const char *until, int64_t now)
{
	int64_t days;

	if (fw_date_parse(until, &days) != FW_OK)
		return 1; /* not a date: no support period can be shown */
	return now >= (days + 1) * 86400;
}

uint32_t fw_policy_decide(const struct fw_policy_release *r, const struct fw_policy_target *t,
                          const struct fw_device_row *dev, const struct fw_cert_row *cert,
                          int64_t now, const char **cert_state)
{
	uint32_t m = 0;
	const char *cs = fw_cert_state(dev, cert, now);
	struct fw_semver v;
	size_t i;

	if (cert_state)
		*cert_state = cs;
	/* identity */
	switch (cs[0]) {
	case 'm': m |= 1u << FW_R_CERT_MISSING; break;
	case 'r': m |= 1u << FW_R_CERT_REVOKED; break;
	case 'u': m |= 1u << FW_R_CERT_UNTRUSTED_ISSUER; break;
	case 'n': m |= 1u << FW_R_CERT_NOT_YET_VALID; break;
	case 'e': m |= 1u << FW_R_CERT_EXPIRED; break;
	default: break; /* valid */
	}
	if (dev->has_cert && !dev->ident_ok)
		m |= 1u << FW_R_IDENTITY_MISMATCH;
	/* lifecycle */
	if (strcmp(dev->lifecycle, "active") != 0) {
		if (strcmp(dev->lifecycle, "manufactured") == 0)
			m |= 1u << FW_R_LC_MANUFACTURED;
		else if (strcmp(dev->lifecycle, "provisioned") == 0)
			m |= 1u << FW_R_LC_PROVISIONED;
		else if (strcmp(dev->lifecycle, "quarantined") == 0)
			m |= 1u << FW_R_LC_QUARANTINED;
		else if (strcmp(dev->lifecycle, "end_of_support") == 0)
			m |= 1u << FW_R_LC_END_OF_SUPPORT;
		else
			m |= 1u << FW_R_LC_DECOMMISSIONED;
	}
	/* targeting */
	if (strcmp(dev->product, r->product) != 0)
		m |= 1u << FW_R_TARGET_PRODUCT;
	if (strcmp(dev->family, r->family) != 0)
		m |= 1u << FW_R_TARGET_FAMILY;
	if (r->nhw) {
		for (i = 0; i < r->nhw; i++)
			if (strcmp(dev->hw_revision, r->hw[i]) == 0)
				break;
		if (i == r->nhw)
			m |= 1u << FW_R_TARGET_HW_REVISION;
	}
	if (t && t->ncohorts) {
		for (i = 0; i < t->ncohorts; i++)
			if (fw_cohorts_have(dev->cohorts, t->cohorts[i]))
				break;
		if (i == t->ncohorts)
			m |= 1u << FW_R_TARGET_COHORT;
	}
	/* version */
	if (fw_semver_parse(dev->fw_version, &v, NULL) != FW_OK) {
		m |= 1u << FW_R_VERSION_INVALID;
	} else {
		if (r->has_range && !fw_range_match(&r->range, &v))
			m |= 1u << FW_R_VERSION_OUT_OF_RANGE;
		if (r->has_version) {
			int c = fw_semver_cmp(&v, &r->version);

			if (c == 0)
				m |= 1u << FW_R_VERSION_ALREADY_INSTALLED;
			else if (c > 0)
				m |= 1u << FW_R_VERSION_NEWER;
		}
	}
	if (fw_policy_support_ended(dev->support_until, now))
		m |= 1u << FW_R_SUPPORT_ENDED;
	/* the release itself */
	if (r->signer_revoked)
		m |= 1u << FW_R_RELEASE_SIGNED_BY_REVOKED_KEY;
	if (!r->has_version)
		m |= 1u << FW_R_RELEASE_NO_VERSION;
	return m;
}

/* ---- canonical JSON of a decision record, written directly ---- */

/* lit must be a string literal (its size is taken) */
#define PUTS(b, lit) fw_jbuf_raw((b), "" lit, sizeof(lit) - 1)

static void put_str(struct fw_jbuf *b, const char *s)
{
	fw_jbuf_str(b, s, strlen(s));
}

static void put_u64(struct fw_jbuf *b, uint64_t v)
{
	char n[24];

	fw_jbuf_raw(b, n, (size_t)snprintf(n, sizeof(n), "%llu", (unsigned long long)v));
}

static void put_ref(struct fw_jbuf *b, uint64_t idx, const uint8_t lh[32])
{
	char hex[65];

	PUTS(b, "{\"idx\":");
	put_u64(b, idx);
	PUTS(b, ",\"lh\":\"");
	fw_hex_encode(lh, 32, hex);
	fw_jbuf_raw(b, hex, 64);
	PUTS(b, "\"}");
}

static void put_cohorts(struct fw_jbuf *b, const char *list)
{
	const char *p = list;
	char name[FW_FIELD_MAX];
	int first = 1;

	PUTS(b, "[");
	while (*p) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = 0;
		if (!first)
			PUTS(b, ",");
		put_str(b, name);
		first = 0;
		if (e == NULL)
			break;
		p = e + 1;
	}
	PUTS(b, "]");
}

struct run_ctx {
	struct fw_policy_release *r;
	const char *release_ref;
	const struct fw_policy_target *t;
	const char *actor;
	uint64_t run;
	int64_t now, ts_ms;
	struct fw_jbuf b;
	struct fw_eligibility_summary *sum;
	fw_policy_progress_fn progress;
	void *parg;
	uint64_t total;
	struct fw_store *s;
	struct fw_diag *d;
	json_t *record;   /* the summary record */
	int rc;
};

/* The decision record: keys in byte order, as fw_json_canonical writes. */
static void decision_record(struct run_ctx *c, const struct fw_device_row *dev,
                            const char *cert_state, uint32_t m)
{
	struct fw_jbuf *b = &c->b;
	char hex[65];
	size_t i;
	int first = 1;

	b->len = 0;
	PUTS(b, "{\"actor\":");
	put_str(b, c->actor);
	PUTS(b, ",\"device\":");
	put_str(b, dev->id);
	if (m)
		PUTS(b, ",\"eligible\":false,\"inputs\":{\"cert\":{");
	else
		PUTS(b, ",\"eligible\":true,\"inputs\":{\"cert\":{");
	if (dev->has_cert) {
		if (dev->ident_ok)
			PUTS(b, "\"names_device\":true,\"sha256\":\"");
		else
			PUTS(b, "\"names_device\":false,\"sha256\":\"");
		fw_hex_encode(dev->cert, 32, hex);
		fw_jbuf_raw(b, hex, 64);
		PUTS(b, "\",");
	}
	PUTS(b, "\"state\":");
	put_str(b, cert_state);
	PUTS(b, "},\"cohorts\":");
	put_cohorts(b, dev->cohorts);
	PUTS(b, ",\"family\":");
	put_str(b, dev->family);
	PUTS(b, ",\"fw_version\":");
	put_str(b, dev->fw_version);
	PUTS(b, ",\"hw_revision\":");
	put_str(b, dev->hw_revision);
	PUTS(b, ",\"lifecycle\":");
	put_str(b, dev->lifecycle);
	PUTS(b, ",\"product\":");
	put_str(b, dev->product);
	PUTS(b, ",\"support_until\":");
	put_str(b, dev->support_until);
	PUTS(b, "},\"reasons\":[");
	for (i = 0; i < FW_REASON_COUNT; i++) {
		if (!(m >> i & 1u))
			continue;
		if (!first)
			PUTS(b, ",");
		put_str(b, reasons[i].code);
		first = 0;
	}
	PUTS(b, "],\"refs\":[");
	put_ref(b, c->r->rec, c->r->rec_lh);
	PUTS(b, ",");
	put_ref(b, dev->rec, dev->rec_lh);
	/* the release is named by its record (the first reference) */
	PUTS(b, "],\"run\":");
	put_u64(b, c->run);
	if (c->t && c->t->ncohorts) {
		PUTS(b, ",\"target\":{\"cohorts\":[");
		for (i = 0; i < c->t->ncohorts; i++) {
			if (i)
				PUTS(b, ",");
			put_str(b, c->t->cohorts[i]);
		}
		PUTS(b, "]}");
	}
	PUTS(b, ",\"ts\":");
	put_u64(b, (uint64_t)c->ts_ms);
	PUTS(b, ",\"type\":\"eligibility.decision\",\"v\":1}");
}

void fw_reason_list(uint32_t m, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = 0;
	for (i = 0; i < FW_REASON_COUNT; i++)
		if (m >> i & 1u)
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "",
			                      reasons[i].code);
}

static int decide_one(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct run_ctx *c = arg;
	struct fw_evidence_entry e;
	const char *cs;
	uint32_t m = fw_policy_decide(c->r, c->t, dev, cert, c->now, &cs);
	uint64_t idx;
	size_t i;
	int rc;

	decision_record(c, dev, cs, m);
	if (c->b.oom)
		return c->rc = fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
	e.bytes = c->b.buf;
	e.len = c->b.len;
	rc = fw_evidence_append_entry(c->s, &e, &idx, NULL, c->d);
	if (rc == FW_OK)
		rc = fw_store_decision_put(c->s, c->run, dev->id, m, idx, c->d);
	if (rc != FW_OK)
		return c->rc = rc;
	c->sum->devices++;
	if (m == 0)
		c->sum->eligible++;
	for (i = 0; i < FW_REASON_COUNT; i++)
		c->sum->by_reason[i] += m >> i & 1u;
	if (c->progress && (c->sum->devices & 0x3fff) == 0)
		c->progress(c->parg, c->sum->devices, c->total);
	return 0;
}

static int max_run(void *arg, const char *id, const char *doc)
{
	uint64_t *max = arg, v = 0;

	(void)doc;
	if (fw_parse_u64(id, &v) == FW_OK && v > *max)
		*max = v;
	return 0;
}

static json_t *target_json(const struct fw_policy_target *t)
{
	json_t *a;
	size_t i;

	if (t == NULL || t->ncohorts == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < t->ncohorts; i++)
		json_array_append_new(a, json_string(t->cohorts[i]));
	return json_pack("{so}", "cohorts", a);
}

/* prepare: decide for every device (their records go first), then
 * complete the summary record with the counts */
static int run_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct run_ctx *c = arg;
	json_t *by, *tj;
	size_t i;
	int rc;

	c->s = s;
	c->d = d;
	/* the release (and its signer's state) as of this transaction */
	rc = fw_policy_release_load(s, c->release_ref, c->r, d);
	if (rc != FW_OK)
		return rc;
	snprintf(c->sum->release, sizeof(c->sum->release), "%s", c->r->id);
	rc = fw_store_object_scan(s, KIND_RUN, max_run, &c->run, d);
	if (rc != FW_OK)
		return rc;
	c->run++;
	/* the total is for progress only: no extra pass over the fleet without it */
	if (c->progress) {
		rc = fw_store_device_count(s, &c->total, d);
		if (rc != FW_OK)
			return rc;
	}
	rc = fw_store_device_scan(s, decide_one, c, d);
	if (rc != FW_OK)
		return c->rc ? c->rc : rc;
	if (c->progress)
		c->progress(c->parg, c->sum->devices, c->total);
	by = json_array();
	for (i = 0; i < FW_REASON_COUNT; i++)
		if (c->sum->by_reason[i])
			json_array_append_new(by, json_pack("{sssI}", "code", reasons[i].code, "devices",
			                                    (json_int_t)c->sum->by_reason[i]));
	json_object_set_new(record, "run", json_integer((json_int_t)c->run));
	json_object_set_new(record, "release", json_string(c->r->id));
	json_object_set_new(record, "devices", json_integer((json_int_t)c->sum->devices));
	json_object_set_new(record, "eligible", json_integer((json_int_t)c->sum->eligible));
	json_object_set_new(record, "ineligible",
	                    json_integer((json_int_t)(c->sum->devices - c->sum->eligible)));
	json_object_set_new(record, "by_reason", by);
	tj = target_json(c->t);
	if (tj)
		json_object_set_new(record, "target", tj);
	return fw_evidence_record_ref(record, c->r->rec, c->r->rec_lh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

/* apply: the run's document, pointing at its summary record */
static int run_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct run_ctx *c = arg;
	json_t *doc = json_deep_copy(c->record);
	char id[24];
	int rc;

	if (doc == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_del(doc, "refs");
	json_object_del(doc, "type");
	json_object_del(doc, "v");
	json_object_set_new(doc, "summary", fw_evidence_ref_json(idx, lh));
	json_object_set_new(doc, "release_record", fw_evidence_ref_json(c->r->rec, c->r->rec_lh));
	/* ids sort as numbers */
	snprintf(id, sizeof(id), "%012llu", (unsigned long long)c->run);
	rc = fw_registry_doc_put(s, KIND_RUN, id, doc, 0, d);
	json_decref(doc);
	c->sum->run = c->run;
	c->sum->summary_idx = idx;
	return rc;
}

int fw_policy_eligibility_run(struct fw_store *s, const char *release_ref,
                              const struct fw_policy_target *t, const char *actor,
                              fw_policy_progress_fn progress, void *parg,
                              struct fw_eligibility_summary *sum, struct fw_diag *d)
{
	struct fw_policy_release *r = malloc(sizeof(*r));
	struct run_ctx c;
	struct fw_evidence_change change = {run_prepare, run_apply, &c};
	int rc;

	memset(sum, 0, sizeof(*sum));
	memset(&c, 0, sizeof(c));
	if (r == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_policy_target_check(t, d);
	if (rc == FW_OK && (actor == NULL || strlen(actor) > 256 || !fw_text_valid(actor)))
		rc = fw_diag_set(d, FW_E_ARG, "actor: at most 256 bytes of UTF-8 text without "
		                              "control characters");
	if (rc == FW_OK) {
		c.r = r;
		c.release_ref = release_ref;
		c.t = t;
		c.actor = actor;
		c.ts_ms = fw_time_ms();
		c.now = c.ts_ms / 1000;
		c.sum = sum;
		c.progress = progress;
		c.parg = parg;
		c.record = fw_evidence_record_new("eligibility.summary", actor);
		if (c.record == NULL)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	if (rc == FW_OK)
		rc = fw_evidence_commit(s, &change, c.record, NULL, NULL, d);
	if (rc != FW_OK)
		memset(sum, 0, sizeof(*sum)); /* nothing was recorded */
	json_decref(c.record);
	free(c.b.buf);
	free(r);
	return rc;
}

/* ---- one device, explained ---- */

static void why(char *out, size_t cap, int r, const struct fw_policy_release *rel,
                const struct fw_policy_target *t, const struct fw_device_row *dev,
                const struct fw_cert_row *cert)
{
	switch (r) {
	case FW_R_TARGET_PRODUCT:
		snprintf(out, cap, "device product '%s', release product '%s'", dev->product,
		         rel->product);
		break;
	case FW_R_TARGET_FAMILY:
		snprintf(out, cap, "device family '%s', release family '%s'", dev->family,
		         rel->family);
		break;
	case FW_R_TARGET_HW_REVISION: {
		size_t i, n = 0;

		n += (size_t)snprintf(out, cap, "device hardware revision '%s', release for", dev->hw_revision);
		for (i = 0; i < rel->nhw && n < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%s '%s'", i ? "," : "", rel->hw[i]);
		break;
	}
	case FW_R_TARGET_COHORT: {
		size_t i, n = 0;

		n += (size_t)snprintf(out, cap, "device cohorts '%s', targeted", dev->cohorts);
		for (i = 0; t && i < t->ncohorts && n < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%s '%s'", i ? "," : "", t->cohorts[i]);
		break;
	}
	case FW_R_VERSION_OUT_OF_RANGE:
		snprintf(out, cap, "device runs %s; the release upgrades %s", dev->fw_version,
		         rel->range_text);
		break;
	case FW_R_VERSION_ALREADY_INSTALLED:
	case FW_R_VERSION_NEWER:
		snprintf(out, cap, "device runs %s; the release is %s", dev->fw_version,
		         rel->version_text);
		break;
	case FW_R_VERSION_INVALID:
		snprintf(out, cap, "device reports '%s'", dev->fw_version);
		break;
	case FW_R_SUPPORT_ENDED:
		snprintf(out, cap, "support ended after %s", dev->support_until);
		break;
	case FW_R_CERT_UNTRUSTED_ISSUER:
		snprintf(out, cap, "%s", cert && cert->chain_error[0] ? cert->chain_error
		                                                     : fw_reason_text(r));
		break;
	case FW_R_CERT_EXPIRED:
	case FW_R_CERT_NOT_YET_VALID: {
		char a[32], b[32];
		time_t x = (time_t)(cert ? cert->not_before : 0), y = (time_t)(cert ? cert->not_after : 0);
		struct tm tm;

		strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&x, &tm));
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&y, &tm));
		snprintf(out, cap, "valid from %s to %s (the whole chain)", a, b);
		break;
	}
	case FW_R_CERT_REVOKED:
		snprintf(out, cap, "revoked %s",
		         cert && cert->revoked == FW_CERT_REVOKED_LOCAL ? "locally (fwtrust cert revoke)"
		                                                        : "by a CRL of its issuer");
		break;
	default:
		snprintf(out, cap, "%s", fw_reason_text(r));
	}
}

struct runs {
	const char *release;
	uint64_t *v;
	size_t n, cap;
};

static int collect_runs(void *arg, const char *id, const char *doc)
{
	struct runs *r = arg;
	json_t *j = json_loads(doc, 0, NULL);
	const char *rel = json_string_value(json_object_get(j, "release"));
	uint64_t run = 0;

	if (rel && strcmp(rel, r->release) == 0 && fw_parse_u64(id, &run) == FW_OK) {
		uint64_t *v = fw_grow(r->v, &r->cap, r->n + 1, sizeof(*v));

		if (v == NULL) {
			json_decref(j);
			return FW_E_NOMEM;
		}
		r->v = v;
		r->v[r->n++] = run;
	}
	json_decref(j);
	return 0;
}

/* the latest recorded decision for (release, device): *out, or NULL when
 * there is none */
static int recorded(struct fw_store *s, const char *release, const char *device, json_t **out,
                    struct fw_diag *d)
{
	struct runs r = {release, NULL, 0, 0};
	size_t i;
	int rc = fw_store_object_scan(s, KIND_RUN, collect_runs, &r, d);

	*out = NULL;
	if (rc != FW_OK) {
		free(r.v);
		return rc == FW_E_NOMEM ? fw_diag_set(d, rc, "out of memory") : rc;
	}
	for (i = r.n; i-- > 0 && *out == NULL;) {
		uint32_t m = 0;
		uint64_t idx = 0;

		rc = fw_store_decision_get(s, r.v[i], device, &m, &idx, d);
		if (rc == FW_E_NOT_FOUND)
			continue;
		if (rc != FW_OK)
			break;
		{
			json_t *codes = json_array();
			int k;

			for (k = 0; k < FW_REASON_COUNT; k++)
				if (m >> k & 1u)
					json_array_append_new(codes, json_string(reasons[k].code));
			*out = json_pack("{sIsIsbso}", "run", (json_int_t)r.v[i], "idx", (json_int_t)idx,
			                 "eligible", m == 0, "reasons", codes);
		}
	}
	free(r.v);
	return rc == FW_E_NOT_FOUND ? FW_OK : rc;
}

int fw_policy_decisions(struct fw_store *s, const char *release_ref, uint64_t run,
                        fw_decision_fn fn, void *arg, uint64_t *run_out, struct fw_diag *d)
{
	struct fw_policy_release *r = malloc(sizeof(*r));
	struct runs rs = {NULL, NULL, 0, 0};
	size_t i;
	int rc;

	if (r == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_policy_release_load(s, release_ref, r, d);
	if (rc == FW_OK) {
		rs.release = r->id;
		rc = fw_store_object_scan(s, KIND_RUN, collect_runs, &rs, d);
	}
	if (rc == FW_OK) {
		for (i = 0; i < rs.n && run != 0; i++)
			if (rs.v[i] == run)
				break;
		if (rs.n == 0 || (run != 0 && i == rs.n))
			rc = run ? fw_diag_set(d, FW_E_NOT_FOUND, "release %.16s has no eligibility run %llu",
			                       r->id, (unsigned long long)run)
			         : fw_diag_set(d, FW_E_NOT_FOUND,
			                       "release %.16s has no eligibility run yet (run 'fwtrust "
			                       "eligibility --release %.16s')",
			                       r->id, r->id);
		else if (run == 0)
			run = rs.v[rs.n - 1];
	}
	if (rc == FW_OK) {
		*run_out = run;
		rc = fw_store_decision_scan(s, run, fn, arg, d);
	}
	free(rs.v);
	free(r);
	return rc;
}

int fw_policy_explain(struct fw_store *s, const char *release_ref,
                      const struct fw_policy_target *t, const char *device, int64_t now,
                      json_t **out, struct fw_diag *d)
{
	struct fw_policy_release *r = malloc(sizeof(*r));
	struct fw_device_row *dev = malloc(sizeof(*dev));
	struct fw_cert_row cert;
	json_t *o = NULL, *rs, *rel, *hw;
	uint32_t m;
	char text[600];
	size_t i;
	int has_c = 0, rc;

	if (r == NULL || dev == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	rc = fw_policy_target_check(t, d);
	if (rc == FW_OK)
		rc = fw_policy_release_load(s, release_ref, r, d);
	if (rc != FW_OK)
		goto out;
	o = json_object();
	rs = json_array();
	hw = json_array();
	for (i = 0; i < r->nhw; i++)
		json_array_append_new(hw, json_string(r->hw[i]));
	rel = json_pack("{sssssssosososb}", "id", r->id, "product", r->product, "family", r->family,
	                "version", r->version_text[0] ? json_string(r->version_text) : json_null(),
	                "upgrade_from", r->has_range ? json_string(r->range_text) : json_null(),
	                "hw_revisions", hw, "signed_by_revoked_key", r->signer_revoked);
	json_object_set_new(o, "device", json_string(device));
	json_object_set_new(o, "release", rel);
	{
		json_t *tj = target_json(t);

		json_object_set_new(o, "target", tj ? tj : json_null());
	}
	rc = fw_store_device_get(s, device, dev, &cert, &has_c, d);
	if (rc == FW_E_NOT_FOUND) {
		json_array_append_new(rs, json_pack("{ssss}", "code", fw_reason_code(FW_R_IDENTITY_UNKNOWN),
		                                    "why", fw_reason_text(FW_R_IDENTITY_UNKNOWN)));
		json_object_set_new(o, "eligible", json_false());
		json_object_set_new(o, "inputs", json_null());
		json_object_set_new(o, "reasons", rs);
		json_object_set_new(o, "recorded", json_null());
		rc = FW_OK;
		goto done;
	}
	if (rc != FW_OK) {
		json_decref(rs);
		goto out;
	}
	m = fw_policy_decide(r, t, dev, has_c ? &cert : NULL, now, NULL);
	for (i = 0; i < FW_REASON_COUNT; i++) {
		if (!(m >> i & 1u))
			continue;
		why(text, sizeof(text), (int)i, r, t, dev, has_c ? &cert : NULL);
		json_array_append_new(rs, json_pack("{ssss}", "code", fw_reason_code((int)i), "why",
		                                    text));
	}
	json_object_set_new(o, "eligible", json_boolean(m == 0));
	json_object_set_new(o, "inputs", fw_registry_device_json(dev, has_c ? &cert : NULL, now));
	json_object_set_new(o, "reasons", rs);
	{
		json_t *rec = NULL;

		rc = recorded(s, r->id, device, &rec, d);
		if (rc != FW_OK)
			goto out;
		json_object_set_new(o, "recorded", rec ? rec : json_null());
	}
done:
	*out = o;
	o = NULL;
out:
	json_decref(o);
	free(r);
	free(dev);
	return rc;
}

int fw_policy_target_check(const struct fw_policy_target *t, struct fw_diag *d)
{
	size_t i;
	const char *p;

	if (t == NULL)
		return FW_OK;
	if (t->ncohorts > FW_POLICY_MAX_COHORTS)
		return fw_diag_set(d, FW_E_ARG, "at most %d cohorts can be targeted",
		                   FW_POLICY_MAX_COHORTS);
	for (i = 0; i < t->ncohorts; i++) {
		if (t->cohorts[i][0] == 0 || strlen(t->cohorts[i]) >= FW_FIELD_MAX)
			return fw_diag_set(d, FW_E_ARG, "--cohort: a cohort name is 1 to 255 bytes");
		for (p = t->cohorts[i]; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
				return fw_diag_set(d, FW_E_ARG,
				                   "--cohort %s: only letters, digits, '.', '_' and '-'",
				                   t->cohorts[i]);
	}
	return FW_OK;
}
