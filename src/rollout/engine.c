/*
 * The rollout engine: a campaign's states, its members and their stages,
 * each device's update state, reports, timeouts, retries, pause
 * conditions, rollback and quarantine (docs/campaigns.md).
 *
 * Every operation loads the campaign (document, policy, counters) inside
 * one write transaction, writes one evidence record per transition
 * (campaign.* for the campaign, rollout.device per device, device.lifecycle
 * for a quarantine), each together with the row it changes, and writes the
 * document back before the commit: a state and its evidence commit
 * together or not at all.
 */
#define _POSIX_C_SOURCE 200809L
#include "rollout/rollout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "policy/policy.h"
#include "registry/registry.h"

#define KIND_CAMPAIGN "campaign"
#define NSTAGES FW_CAMPAIGN_MAX_STAGES

static const char *const ustates[FW_U_COUNT] = {"pending",   "eligible", "ineligible",
                                                "delivered", "installed", "failed",
                                                "paused",    "rolled_back"};

const char *fw_update_state_name(int st)
{
	return st >= 0 && st < FW_U_COUNT ? ustates[st] : NULL;
}

int fw_update_state_parse(const char *name)
{
	int i;

	for (i = 0; name && i < FW_U_COUNT; i++)
		if (strcmp(name, ustates[i]) == 0)
			return i;
	return -1;
}

enum cstate { C_AWAITING, C_READY, C_RUNNING, C_PAUSED, C_COMPLETED, C_ABORTED, C_ROLLED_BACK, C_N };
static const char *const cstates[C_N] = {"awaiting_approval", "ready",   "running",    "paused",
                                         "completed",         "aborted", "rolled_back"};

uint64_t fw_rollout_stage_hash(const char *campaign, const char *device)
{
	uint8_t h[32];
	char buf[40 + 32 + FW_FIELD_MAX];
	int n = snprintf(buf, sizeof(buf), "fwtrust-stage/v1\n%s\n%s", campaign, device);
	uint64_t v = 0;
	int i;

	fw_sha256((const uint8_t *)buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0, h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* ---- the campaign in memory ---- */

struct stats {
	int64_t stage_started[NSTAGES]; /* 0: not started */
	uint64_t counts[NSTAGES + 1][FW_U_COUNT]; /* [nstages]: ineligible when it started */
	uint64_t failed_final;
	int64_t window_since;
	uint64_t window_reports, window_failures, window_integrity;
	uint64_t reports, failures, integrity_failures, timeouts, retries, quarantined;
	int64_t started, ended;
};

struct eng {
	struct fw_store *s;
	const struct fw_rollout_ctx *cx;
	char id[32];
	json_t *doc;
	struct fw_campaign_policy *pol;
	struct fw_policy_release rel, rb;
	int rel_loaded, has_rb;
	struct fw_policy_target target;
	const char *cohort_ptrs[64];
	struct stats st;
	int state;   /* enum cstate */
	uint32_t stage;
	uint64_t cidx; /* the campaign's latest record */
	uint8_t clh[32];
	int paused_now; /* a pause or rollback happened in this operation */
	int ver_pending; /* e->dev has a new fw_version to write after the row's record */
	struct fw_device_row dev;
	struct fw_cert_row cert;
	/* e->dev (and e->cert when cert_cached) is the registry's row of the
	 * device whose report is being applied, read with its rollout row */
	int dev_cached, cert_cached;
};

static int oom(struct fw_diag *d)
{
	return fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static json_t *counts_json(const uint64_t *c)
{
	json_t *o = json_object();
	int i;

	for (i = 0; o && i < FW_U_COUNT; i++)
		json_object_set_new(o, ustates[i], json_integer((json_int_t)c[i]));
	return o;
}

static void counts_read(const json_t *o, uint64_t *c)
{
	int i;

	for (i = 0; i < FW_U_COUNT; i++)
		c[i] = (uint64_t)json_integer_value(json_object_get(o, ustates[i]));
}

static uint64_t geti(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void stats_read(struct eng *e)
{
	json_t *p = json_object_get(e->doc, "progress"), *w, *t, *a;
	size_t i;

	memset(&e->st, 0, sizeof(e->st));
	if (p == NULL)
		return;
	json_array_foreach(json_object_get(p, "stage_started_ms"), i, a)
		if (i < NSTAGES)
			e->st.stage_started[i] = json_integer_value(a);
	json_array_foreach(json_object_get(p, "counts"), i, a)
		if (i < NSTAGES)
			counts_read(a, e->st.counts[i]);
	counts_read(json_object_get(p, "unstaged"), e->st.counts[e->pol->nstages]);
	e->st.failed_final = geti(p, "failed_final");
	w = json_object_get(p, "window");
	e->st.window_since = json_integer_value(json_object_get(w, "since_ms"));
	e->st.window_reports = geti(w, "reports");
	e->st.window_failures = geti(w, "failures");
	e->st.window_integrity = geti(w, "integrity_failures");
	t = json_object_get(p, "totals");
	e->st.reports = geti(t, "reports");
	e->st.failures = geti(t, "failures");
	e->st.integrity_failures = geti(t, "integrity_failures");
	e->st.timeouts = geti(t, "timeouts");
	e->st.retries = geti(t, "retries");
	e->st.quarantined = geti(t, "quarantined");
	e->st.started = json_integer_value(json_object_get(p, "started_ms"));
	e->st.ended = json_integer_value(json_object_get(p, "ended_ms"));
}

static json_t *stats_json(const struct eng *e)
{
	json_t *p = json_object(), *ss = json_array(), *cs = json_array();
	size_t i;

	if (p == NULL || ss == NULL || cs == NULL) {
		json_decref(p);
		json_decref(ss);
		json_decref(cs);
		return NULL;
	}
	for (i = 0; i < e->pol->nstages; i++) {
		json_array_append_new(ss, json_integer(e->st.stage_started[i]));
		json_array_append_new(cs, counts_json(e->st.counts[i]));
	}
	json_object_set_new(p, "stage_started_ms", ss);
	json_object_set_new(p, "counts", cs);
	json_object_set_new(p, "unstaged", counts_json(e->st.counts[e->pol->nstages]));
	json_object_set_new(p, "failed_final", json_integer((json_int_t)e->st.failed_final));
	json_object_set_new(p, "window",
	                    json_pack("{sI sI sI sI}", "since_ms", (json_int_t)e->st.window_since,
	                              "reports", (json_int_t)e->st.window_reports, "failures",
	                              (json_int_t)e->st.window_failures, "integrity_failures",
	                              (json_int_t)e->st.window_integrity));
	json_object_set_new(
	    p, "totals",
	    json_pack("{sI sI sI sI sI sI}", "reports", (json_int_t)e->st.reports, "failures",
	              (json_int_t)e->st.failures, "integrity_failures",
	              (json_int_t)e->st.integrity_failures, "timeouts", (json_int_t)e->st.timeouts,
	              "retries", (json_int_t)e->st.retries, "quarantined",
	              (json_int_t)e->st.quarantined));
	json_object_set_new(p, "started_ms", json_integer(e->st.started));
	json_object_set_new(p, "ended_ms", json_integer(e->st.ended));
	return p;
}

static int cstate_parse(const char *s)
{
	int i;

	for (i = 0; s && i < C_N; i++)
		if (strcmp(s, cstates[i]) == 0)
			return i;
	return -1;
}

static void eng_clear(struct eng *e)
{
	json_decref(e->doc);
	free(e->pol);
	e->doc = NULL;
	e->pol = NULL;
}

static int eng_load_doc(struct eng *e, struct fw_diag *d);

/* The campaign as stored: document, policy, counters, state. */
static int eng_load(struct eng *e, const char *id, struct fw_diag *d)
{
	int rc;

	snprintf(e->id, sizeof(e->id), "%s", id);
	rc = fw_registry_doc_get(e->s, KIND_CAMPAIGN, id, &e->doc, d);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no campaign '%s' (see 'fwtrust campaign list')", id);
	if (rc != FW_OK)
		return rc;
	return eng_load_doc(e, d);
}

/* The rest of eng_load, once e->id and e->doc are set. */
static int eng_load_doc(struct eng *e, struct fw_diag *d)
{
	const char *id = e->id;
	char *text;
	size_t i;
	int rc;

	e->pol = malloc(sizeof(*e->pol));
	text = json_dumps(json_object_get(e->doc, "policy"), JSON_COMPACT);
	if (e->pol == NULL || text == NULL) {
		free(text);
		return oom(d);
	}
	rc = fw_campaign_policy_parse(text, strlen(text), "stored policy", e->pol, d);
	free(text);
	if (rc != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "campaign %s: %s", id, d ? d->msg : "bad policy");
	e->state = cstate_parse(json_string_value(json_object_get(e->doc, "state")));
	e->stage = (uint32_t)json_integer_value(json_object_get(e->doc, "stage"));
	if (e->state < 0 || e->stage >= e->pol->nstages ||
	    fw_evidence_ref_parse(json_object_get(e->doc, "updated"), &e->cidx, e->clh) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "campaign %s: its document is malformed", id);
	for (i = 0; i < e->pol->ncohorts; i++)
		e->cohort_ptrs[i] = e->pol->cohorts[i];
	e->target.cohorts = e->cohort_ptrs;
	e->target.ncohorts = e->pol->ncohorts;
	stats_read(e);
	return FW_OK;
}

static int eng_releases(struct eng *e, struct fw_diag *d)
{
	const char *rel = json_string_value(json_object_get(e->doc, "release_id"));
	const char *rb = json_string_value(json_object_get(e->doc, "rollback_release_id"));
	int rc;

	if (e->rel_loaded)
		return FW_OK;
	if (rel == NULL)
		return fw_diag_set(d, FW_E_STORE, "campaign %s: its document is malformed", e->id);
	rc = fw_policy_release_load(e->s, rel, &e->rel, d);
	if (rc == FW_OK && rb) {
		rc = fw_policy_release_load(e->s, rb, &e->rb, d);
		e->has_rb = rc == FW_OK;
	}
	e->rel_loaded = rc == FW_OK;
	return rc;
}

static int eng_save(struct eng *e, struct fw_diag *d)
{
	json_t *p = stats_json(e);

	if (p == NULL)
		return oom(d);
	json_object_set_new(e->doc, "progress", p);
	json_object_set_new(e->doc, "state", json_string(cstates[e->state]));
	json_object_set_new(e->doc, "stage", json_integer(e->stage));
	return fw_registry_doc_put(e->s, KIND_CAMPAIGN, e->id, e->doc, 1, d);
}

/* A campaign record (state and stage filled in), after the campaign's
 * previous one. Takes the reference to rec. */
static int camp_record(struct eng *e, json_t *rec, struct fw_diag *d)
{
	uint64_t idx;
	uint8_t lh[32];
	int rc;

	if (rec == NULL)
		return oom(d);
	json_object_set_new(rec, "campaign", json_string(e->id));
	json_object_set_new(rec, "state", json_string(cstates[e->state]));
	json_object_set_new(rec, "stage", json_integer(e->stage));
	json_object_set_new(rec, "at_ms", json_integer(e->cx->now_ms));
	rc = fw_evidence_record_ref(rec, e->cidx, e->clh);
	if (rc == FW_OK)
		rc = fw_evidence_append(e->s, rec, &idx, lh, d);
	else
		rc = oom(d);
	json_decref(rec);
	if (rc != FW_OK)
		return rc;
	e->cidx = idx;
	memcpy(e->clh, lh, 32);
	json_object_set_new(e->doc, "updated", fw_evidence_ref_json(idx, lh));
	return FW_OK;
}

static json_t *new_record(struct eng *e, const char *type)
{
	return fw_evidence_record_new(type, e->cx->actor);
}

static uint64_t *count_of(struct eng *e, uint32_t stage, int state)
{
	return &e->st.counts[stage == FW_ROLLOUT_NO_STAGE ? e->pol->nstages : stage][state];
}

/*
 * A device's transition, recorded: the rollout.device record (fields of
 * extra merged in; extra may be NULL and is consumed), then its row. A new
 * row (insert != 0) counts from nothing.
 */
/*
 * The rollout.device record in its canonical bytes, written directly: a
 * campaign writes three or more per device, and building each as a jansson
 * object to canonicalize it was a tenth of a simulated campaign's time.
 * The bytes are those fw_json_canonical writes for the object that
 * fw_evidence_record_new, the fields below, extra (json_object_update: its
 * keys win) and fw_evidence_record_ref make; tests/rollout/test_simulate.c
 * checks every record of a simulated campaign against it. extra's values
 * go through fw_json_canonical.
 */
enum { F_STR, F_INT, F_NULL, F_RAW };
struct field {
	const char *k;
	int t;
	const char *s;
	size_t n;
	int64_t i;
};

/* decimal digits of v, ending at end; returns where they start (snprintf
 * was a third of the record's cost) */
static char *digits(char *end, int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--end = '-';
	return end;
}

static int key_ok(const char *k)
{
	const char *p;

	for (p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return p != k;
}

#define DEV_FIELDS 13 /* the fixed ones */
#define DEV_EXTRA 16  /* extra keys at most */

static int device_record(struct eng *e, const struct fw_rollout_row *r, int to,
                         const char *cause, const json_t *extra, int insert,
                         struct fw_evidence_entry *out, struct fw_diag *d)
{
	struct field f[DEV_FIELDS + DEV_EXTRA], t;
	char *raw[DEV_EXTRA], refs[160], num[24], *p;
	const char *key, *actor = e->cx->actor ? e->cx->actor : "unknown";
	struct fw_jbuf b = {NULL, 0, 0, 0};
	size_t n = 0, nraw = 0, i, j;
	json_t *val;
	int rc = FW_OK;

	/* the row's previous record, or for a new row the campaign's:
	 * [{"idx":N,"lh":"<hex>"}] */
	p = digits(num + sizeof(num), (int64_t)(insert ? e->cidx : r->rec));
	memcpy(refs, "[{\"idx\":", 8);
	memcpy(refs + 8, p, (size_t)(num + sizeof(num) - p));
	i = 8 + (size_t)(num + sizeof(num) - p);
	memcpy(refs + i, ",\"lh\":\"", 7);
	fw_hex_encode(insert ? e->clh : r->rec_lh, 32, refs + i + 7);
	memcpy(refs + i + 7 + 64, "\"}]", 4); /* with the NUL */
#define FSTR(key, v) f[n++] = (struct field){key, F_STR, v, strlen(v), 0}
#define FINT(key, v) f[n++] = (struct field){key, F_INT, NULL, 0, (int64_t)(v)}
#define FNULL(key) f[n++] = (struct field){key, F_NULL, NULL, 0, 0}
	FSTR("actor", actor);
	FINT("attempts", r->attempts);
	FSTR("campaign", e->id);
	FSTR("cause", cause);
	FSTR("device", r->device);
	FINT("failures", r->failures);
	if (insert)
		FNULL("from");
	else
		FSTR("from", ustates[r->state]);
	f[n++] = (struct field){"refs", F_RAW, refs, i + 7 + 64 + 3, 0};
	if (r->stage == FW_ROLLOUT_NO_STAGE)
		FNULL("stage");
	else
		FINT("stage", r->stage);
	FSTR("to", ustates[to]);
	FINT("ts", fw_time_ms());
	FSTR("type", "rollout.device");
	FINT("v", 1);
#undef FSTR
#undef FINT
#undef FNULL
	json_object_foreach((json_t *)extra, key, val) {
		size_t len;

		if (nraw == DEV_EXTRA || !key_ok(key)) {
			rc = fw_diag_set(d, FW_E_FORMAT, "record key '%s' is not [a-z0-9_]+", key);
			break;
		}
		rc = fw_json_canonical(val, &raw[nraw], &len, d);
		if (rc != FW_OK)
			break;
		for (j = 0; j < DEV_FIELDS; j++)
			if (f[j].k && strcmp(f[j].k, key) == 0)
				f[j].k = NULL; /* replaced */
		f[n++] = (struct field){key, F_RAW, raw[nraw], len, 0};
		nraw++;
	}
	/* the fixed keys are in order: insert the extra ones among them */
	for (i = j = 0; i < n; i++)
		if (f[i].k)
			f[j++] = f[i];
	n = j;
	for (i = 1; i < n; i++) {
		t = f[i];
		for (j = i; j > 0 && strcmp(f[j - 1].k, t.k) > 0; j--)
			f[j] = f[j - 1];
		f[j] = t;
	}
	fw_jbuf_raw(&b, "{", 1);
	for (i = 0; rc == FW_OK && i < n; i++) {
		if (i)
			fw_jbuf_raw(&b, ",", 1);
		fw_jbuf_raw(&b, "\"", 1);
		fw_jbuf_raw(&b, f[i].k, strlen(f[i].k));
		fw_jbuf_raw(&b, "\":", 2);
		switch (f[i].t) {
		case F_STR: fw_jbuf_str(&b, f[i].s, f[i].n); break;
		case F_INT:
			p = digits(num + sizeof(num), f[i].i);
			fw_jbuf_raw(&b, p, (size_t)(num + sizeof(num) - p));
			break;
		case F_NULL: fw_jbuf_raw(&b, "null", 4); break;
		default: fw_jbuf_raw(&b, f[i].s, f[i].n); break;
		}
	}
	fw_jbuf_raw(&b, "}", 1);
	for (i = 0; i < nraw; i++)
		free(raw[i]);
	if (rc == FW_OK && b.oom)
		rc = oom(d);
	if (rc != FW_OK) {
		free(b.buf);
		return rc;
	}
	out->bytes = b.buf;
	out->len = b.len;
	return FW_OK;
}

static int dev_transition(struct eng *e, struct fw_rollout_row *r, int to, const char *cause,
                          json_t *extra, int insert, uint64_t *idx_out, struct fw_diag *d)
{
	struct fw_evidence_entry ent = {NULL, 0};
	uint64_t idx;
	uint8_t lh[32];
	int rc = device_record(e, r, to, cause, extra, insert, &ent, d);

	json_decref(extra);
	if (rc == FW_OK)
		rc = fw_evidence_append_entry(e->s, &ent, &idx, lh, d);
	fw_evidence_entry_clear(&ent);
	if (rc != FW_OK)
		return rc;
	if (!insert)
		(*count_of(e, r->stage, r->state))--;
	(*count_of(e, r->stage, to))++;
	r->state = to;
	r->rec = idx;
	memcpy(r->rec_lh, lh, 32);
	if (idx_out)
		*idx_out = idx;
	return fw_store_rollout_put(e->s, r, !insert, d);
}

uint32_t fw_campaign_target(const struct fw_campaign_policy *p, const struct fw_device_row *dev)
{
	uint32_t m = 0;
	size_t i;

	if (p->product[0] && strcmp(dev->product, p->product) != 0)
		m |= 1u << FW_R_TARGET_PRODUCT;
	if (p->family[0] && strcmp(dev->family, p->family) != 0)
		m |= 1u << FW_R_TARGET_FAMILY;
	if (p->nhw) {
		for (i = 0; i < p->nhw; i++)
			if (strcmp(dev->hw_revision, p->hw[i]) == 0)
				break;
		if (i == p->nhw)
			m |= 1u << FW_R_TARGET_HW_REVISION;
	}
	if (p->has_versions) {
		struct fw_semver v;

		/* a version that cannot be compared is not shown to be in the
		 * range: not targeted (default-deny) */
		if (fw_semver_parse(dev->fw_version, &v, NULL) != FW_OK ||
		    !fw_range_match(&p->versions, &v))
			m |= 1u << FW_R_TARGET_VERSION;
	}
	return m;
}

#define TARGET_MASK                                                                          \
	((1u << FW_R_TARGET_PRODUCT) | (1u << FW_R_TARGET_FAMILY) |                              \
	 (1u << FW_R_TARGET_HW_REVISION) | (1u << FW_R_TARGET_COHORT) |                          \
	 (1u << FW_R_TARGET_VERSION))

static uint32_t decide(struct eng *e, const struct fw_device_row *dev,
                       const struct fw_cert_row *cert)
{
	return fw_policy_decide(&e->rel, &e->target, dev, cert, e->cx->now_ms / 1000, NULL) |
	       fw_campaign_target(e->pol, dev);
}

/* The device as the registry has it now, decided against the release. */
static int decide_now(struct eng *e, const char *device, uint32_t *reasons, struct fw_diag *d)
{
	int has_c = 0, rc;

	if (e->dev_cached && strcmp(e->dev.id, device) == 0) {
		*reasons = decide(e, &e->dev, e->cert_cached ? &e->cert : NULL);
		return FW_OK;
	}
	rc = fw_store_device_get(e->s, device, &e->dev, &e->cert, &has_c, d);
	if (rc == FW_E_NOT_FOUND) {
		*reasons = 1u << FW_R_IDENTITY_UNKNOWN;
		return FW_OK;
	}
	if (rc != FW_OK)
		return rc;
	*reasons = decide(e, &e->dev, has_c ? &e->cert : NULL);
	return FW_OK;
}

static json_t *reasons_json(uint32_t m)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < FW_REASON_COUNT; i++)
		if (m & (1u << i))
			json_array_append_new(a, json_string(fw_reason_code(i)));
	return a;
}

/* ---- collecting rows (no writes inside a scan) ---- */

struct rows {
	struct fw_rollout_row *v;
	size_t n, cap;
};

static int collect(void *arg, const struct fw_rollout_row *r)
{
	struct rows *rs = arg;

	struct fw_rollout_row *v = fw_grow(rs->v, &rs->cap, rs->n + 1, sizeof(*v));

	if (v == NULL)
		return FW_E_NOMEM;
	rs->v = v;
	rs->v[rs->n++] = *r;
	return 0;
}

static int rows_get(struct eng *e, int state, int64_t stage, int64_t due_max, struct rows *rs,
                    struct fw_diag *d)
{
	int rc = fw_store_rollout_scan(e->s, e->id, state, stage, due_max, collect, rs, d);

	return rc == FW_E_NOMEM ? oom(d) : rc;
}

/* Rows with their devices decided now (in the reasons field): one joined
 * read per row instead of a row and then its device. */
struct decided {
	struct eng *e;
	struct rows *rs;
};

static int collect_decided(void *arg, const struct fw_rollout_row *r,
                           const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct decided *c = arg;
	int rc = collect(c->rs, r);

	if (rc == 0)
		c->rs->v[c->rs->n - 1].reasons =
		    dev ? decide(c->e, dev, cert) : 1u << FW_R_IDENTITY_UNKNOWN;
	return rc;
}

static int rows_decided(struct eng *e, int state, int64_t stage, struct rows *rs,
                        struct fw_diag *d)
{
	struct decided c = {e, rs};
	int rc = fw_store_rollout_scan_devices(e->s, e->id, state, stage, collect_decided, &c, d);

	return rc == FW_E_NOMEM ? oom(d) : rc;
}

static void progress(struct eng *e, uint64_t done, uint64_t total)
{
	if (e->cx->progress && (done % 4096 == 0 || done == total))
		e->cx->progress(e->cx->parg, done, total);
}

/* ---- stages ---- */

static size_t approvals_given(const json_t *doc, uint32_t stage)
{
	json_t *ap;
	size_t i, n = 0;

	json_array_foreach(json_object_get(doc, "approvals"), i, ap)
		if ((uint32_t)json_integer_value(json_object_get(ap, "stage")) == stage)
			n++;
	return n;
}

/* Enter stage k (the campaign runs): a campaign.stage record, then each of
 * its pending devices decided again: eligible, or ineligible with its
 * reasons. */
static int enter_stage(struct eng *e, uint32_t k, struct fw_diag *d)
{
	struct rows rs = {0};
	json_t *rec;
	size_t i;
	int rc;

	e->stage = k;
	e->st.stage_started[k] = e->cx->now_ms;
	rc = rows_decided(e, FW_U_PENDING, k, &rs, d);
	if (rc != FW_OK)
		return rc;
	rec = new_record(e, "campaign.stage");
	if (rec) {
		json_object_set_new(rec, "name", json_string(e->pol->stages[k].name));
		json_object_set_new(rec, "devices", json_integer((json_int_t)rs.n));
		json_object_set_new(rec, "approvals",
		                    json_integer((json_int_t)approvals_given(e->doc, k)));
	}
	rc = camp_record(e, rec, d);
	for (i = 0; rc == FW_OK && i < rs.n; i++) {
		uint32_t reasons = rs.v[i].reasons;

		if (reasons) {
			rc = dev_transition(e, &rs.v[i], FW_U_INELIGIBLE, "stage",
			                    json_pack("{so}", "reasons", reasons_json(reasons)), 0, NULL, d);
		} else {
			rc = dev_transition(e, &rs.v[i], FW_U_ELIGIBLE, "stage", NULL, 0, NULL, d);
		}
		progress(e, i + 1, rs.n);
	}
	free(rs.v);
	return rc;
}

/* Devices not yet in a terminal state. */
static uint64_t in_flight(const struct eng *e)
{
	uint64_t n = 0;
	size_t k;

	for (k = 0; k <= e->pol->nstages; k++)
		n += e->st.counts[k][FW_U_PENDING] + e->st.counts[k][FW_U_ELIGIBLE] +
		     e->st.counts[k][FW_U_DELIVERED] + e->st.counts[k][FW_U_PAUSED] +
		     e->st.counts[k][FW_U_FAILED];
	return n - e->st.failed_final;
}

static uint64_t stage_devices(const struct eng *e, uint32_t k)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < FW_U_COUNT; i++)
		n += e->st.counts[k][i];
	return n;
}

/* Why stage k cannot be left yet ("" when it can): soak, success. */
static void stage_blocker(const struct eng *e, uint32_t k, char *why, size_t cap)
{
	const struct fw_campaign_stage *sg = &e->pol->stages[k];
	uint64_t base = stage_devices(e, k) - e->st.counts[k][FW_U_INELIGIBLE];
	uint64_t inst = e->st.counts[k][FW_U_INSTALLED];
	int64_t soak_end = e->st.stage_started[k] + (int64_t)sg->soak_s * 1000;

	why[0] = 0;
	if (e->cx->now_ms < soak_end)
		snprintf(why, cap, "stage %s soaks for %lld s more", sg->name,
		         (long long)((soak_end - e->cx->now_ms + 999) / 1000));
	else if (base && inst * 100 < (uint64_t)e->pol->success_threshold * base)
		snprintf(why, cap, "stage %s has %llu of %llu devices installed; %u%% (%llu) are needed",
		         sg->name, (unsigned long long)inst, (unsigned long long)base,
		         e->pol->success_threshold,
		         (unsigned long long)((e->pol->success_threshold * base + 99) / 100));
}

/* A record with the campaign's totals and counts per state. */
static json_t *totals_record(struct eng *e, const char *type)
{
	json_t *rec = new_record(e, type), *p = stats_json(e);

	if (rec == NULL || p == NULL) {
		json_decref(rec);
		json_decref(p);
		return NULL;
	}
	json_object_set(rec, "totals", json_object_get(p, "totals"));
	json_object_set(rec, "counts", json_object_get(p, "counts"));
	json_decref(p);
	return rec;
}

/* Advance while the current stage may be left; complete after the last. */
static int advance(struct eng *e, struct fw_diag *d)
{
	char why[200];
	int rc;

	while (e->state == C_RUNNING) {
		uint32_t k = e->stage;

		stage_blocker(e, k, why, sizeof(why));
		if (why[0])
			return FW_OK;
		if (k + 1 < e->pol->nstages) {
			if (approvals_given(e->doc, k + 1) < e->pol->stages[k + 1].approvals)
				return FW_OK;
			rc = enter_stage(e, k + 1, d);
			if (rc != FW_OK)
				return rc;
			continue;
		}
		if (in_flight(e) != 0)
			return FW_OK;
		e->state = C_COMPLETED;
		e->st.ended = e->cx->now_ms;
		return camp_record(e, totals_record(e, "campaign.complete"), d);
	}
	return FW_OK;
}

/* ---- pause, rollback, quarantine ---- */

/* Eligible devices of started stages to paused, or back. */
static int hold_devices(struct eng *e, int from, int to, const char *cause, struct fw_diag *d)
{
	struct rows rs = {0};
	size_t i;
	int rc = rows_get(e, from, -1, INT64_MAX, &rs, d);

	for (i = 0; rc == FW_OK && i < rs.n; i++)
		rc = dev_transition(e, &rs.v[i], to, cause, NULL, 0, NULL, d);
	free(rs.v);
	return rc;
}

/* The campaign stops by itself or by an operator: paused, or rolled back
 * when the policy says so for a condition. why: {"cause", ...}, consumed. */
static int stop_campaign(struct eng *e, json_t *why, int by_condition, struct fw_diag *d)
{
	json_t *rec;
	int rc;

	if (why == NULL)
		return oom(d);
	e->paused_now = 1;
	if (by_condition && e->pol->rollback_automatic && e->has_rb) {
		e->state = C_ROLLED_BACK;
		e->st.ended = e->cx->now_ms;
		json_object_set_new(e->doc, "paused", json_null());
		rec = new_record(e, "campaign.rollback");
		if (rec) {
			json_object_set(rec, "why", why);
			json_object_set_new(rec, "automatic", json_true());
			json_object_set_new(rec, "rollback_release", json_string(e->rb.id));
		}
		json_decref(why);
		return camp_record(e, rec, d);
	}
	e->state = C_PAUSED;
	json_object_set_new(why, "at_ms", json_integer(e->cx->now_ms));
	json_object_set(e->doc, "paused", why);
	rec = new_record(e, "campaign.pause");
	if (rec)
		json_object_set(rec, "why", why);
	json_decref(why);
	rc = camp_record(e, rec, d);
	return rc == FW_OK ? hold_devices(e, FW_U_ELIGIBLE, FW_U_PAUSED, "pause", d) : rc;
}

/* After a failure: does a pause condition hold now? */
static int check_pause(struct eng *e, int integrity, const char *device, struct fw_diag *d)
{
	const struct fw_campaign_policy *p = e->pol;
	uint64_t f = e->st.window_failures, r = e->st.window_reports;

	if (e->state != C_RUNNING)
		return FW_OK;
	if (integrity)
		return stop_campaign(e,
		                     json_pack("{ss ss}", "cause", "integrity_failure", "device", device),
		                     1, d);
	if (p->max_failures && f >= p->max_failures)
		return stop_campaign(e,
		                     json_pack("{ss sI sI}", "cause", "max_failures", "failures",
		                               (json_int_t)f, "threshold", (json_int_t)p->max_failures),
		                     1, d);
	if (r >= p->fail_rate_min_reports && f * 100 >= (uint64_t)p->fail_rate_percent * r)
		return stop_campaign(e,
		                     json_pack("{ss sI sI sI sI}", "cause", "failure_rate", "failures",
		                               (json_int_t)f, "reports", (json_int_t)r,
		                               "threshold_percent", (json_int_t)p->fail_rate_percent,
		                               "min_reports", (json_int_t)p->fail_rate_min_reports),
		                     1, d);
	return FW_OK;
}

/* Set a device aside (lifecycle quarantined), recorded as device.lifecycle. */
static int quarantine(struct eng *e, const char *device, const char *why, struct fw_diag *d)
{
	json_t *rec;
	char reason[300], hex[65];
	uint8_t h[32];
	uint64_t idx;
	int rc = fw_store_device_get(e->s, device, &e->dev, NULL, NULL, d);

	if (rc == FW_E_NOT_FOUND)
		return FW_OK; /* gone from the registry: nothing to set aside */
	if (rc != FW_OK)
		return rc;
	if (!fw_lifecycle_allowed(e->dev.lifecycle, "quarantined"))
		return FW_OK; /* quarantined already, or out of service */
	snprintf(reason, sizeof(reason), "campaign %s: %s", e->id, why);
	rec = new_record(e, "device.lifecycle");
	if (rec == NULL)
		return oom(d);
	json_object_set_new(rec, "device", json_string(device));
	json_object_set_new(rec, "from", json_string(e->dev.lifecycle));
	json_object_set_new(rec, "to", json_string("quarantined"));
	json_object_set_new(rec, "reason", json_string(reason));
	json_object_set_new(rec, "campaign", json_string(e->id));
	snprintf(e->dev.lifecycle, sizeof(e->dev.lifecycle), "quarantined");
	fw_device_row_hash(&e->dev, h);
	fw_hex_encode(h, 32, hex);
	json_object_set_new(rec, "row_sha256", json_string(hex));
	rc = fw_evidence_record_ref(rec, e->dev.rec, e->dev.rec_lh);
	if (rc == FW_OK)
		rc = fw_evidence_append(e->s, rec, &idx, e->dev.rec_lh, d);
	else
		rc = oom(d);
	json_decref(rec);
	if (rc != FW_OK)
		return rc;
	e->dev.rec = idx;
	e->dev.rec_pos = 0;
	e->st.quarantined++;
	return fw_store_device_put(e->s, &e->dev, 1, d);
}

static int put_version(struct eng *e, const struct fw_rollout_row *row, struct fw_diag *d);

/* An attempt failed (a report, a timeout, or a fall-back): the row moves to
 * to (failed or rolled_back), the counters and the pause conditions see
 * it, and the device is quarantined when the policy says so. */
static int fail_attempt(struct eng *e, struct fw_rollout_row *r, int to, const char *cause,
                        int integrity, json_t *extra, struct fw_rollout_result *res,
                        struct fw_diag *d)
{
	const struct fw_campaign_policy *p = e->pol;
	char why[120];
	int quar, rc;

	r->failures++;
	quar = integrity || r->failures >= p->quarantine_after;
	r->due_ms = to == FW_U_FAILED && !quar && r->attempts < p->retry_max_attempts
	                ? e->cx->now_ms + (int64_t)p->retry_backoff_s * 1000
	                : (to == FW_U_FAILED ? FW_ROLLOUT_FINAL : 0);
	if (extra == NULL)
		extra = json_object();
	if (extra == NULL)
		return oom(d);
	if (integrity)
		json_object_set_new(extra, "integrity_failure", json_true());
	if (to == FW_U_FAILED)
		json_object_set_new(extra, "retry",
		                    r->due_ms == FW_ROLLOUT_FINAL ? json_null()
		                                       : json_pack("{sI sI}", "attempt",
		                                                   (json_int_t)r->attempts + 1,
		                                                   "not_before_ms", (json_int_t)r->due_ms));
	rc = dev_transition(e, r, to, cause, extra, 0, res ? &res->idx : NULL, d);
	/* a fall-back's new version goes to the registry before a quarantine
	 * reloads the device row (and chains its record after this one) */
	if (rc == FW_OK && e->ver_pending)
		rc = put_version(e, r, d);
	if (rc != FW_OK)
		return rc;
	if (r->due_ms == FW_ROLLOUT_FINAL)
		e->st.failed_final++;
	e->st.reports++;
	e->st.failures++;
	e->st.window_reports++;
	e->st.window_failures++;
	if (integrity) {
		e->st.integrity_failures++;
		e->st.window_integrity++;
	}
	if (quar) {
		uint64_t before = e->st.quarantined;

		if (integrity)
			snprintf(why, sizeof(why), "integrity failure reported");
		else
			snprintf(why, sizeof(why), "%u failed attempts", r->failures);
		rc = quarantine(e, r->device, why, d);
		if (rc != FW_OK)
			return rc;
		/* only when it was set aside now (not already quarantined, or gone) */
		if (res && e->st.quarantined > before)
			res->quarantined = 1;
	}
	e->paused_now = 0; /* this report's own pause, not an earlier one of the batch */
	rc = check_pause(e, integrity, r->device, d);
	if (rc == FW_OK && res && e->paused_now)
		res->paused = 1;
	return rc;
}

/* ---- operations ---- */

typedef int (*op_fn)(struct eng *e, void *arg, struct fw_diag *d);

/* Run op on the loaded campaign in one transaction; save and commit. */
static int run_op(struct fw_store *s, const char *id, const struct fw_rollout_ctx *cx, op_fn op,
                  void *arg, json_t **doc, struct fw_diag *d)
{
	struct eng *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL)
		return oom(d);
	e->s = s;
	e->cx = cx;
	rc = fw_store_begin(s, d);
	if (rc != FW_OK) {
		free(e);
		return rc;
	}
	rc = eng_load(e, id, d);
	if (rc == FW_OK)
		rc = op(e, arg, d);
	if (rc == FW_OK)
		rc = eng_save(e, d);
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
	else
		fw_store_rollback(s);
	if (rc == FW_OK && doc)
		*doc = json_incref(e->doc);
	eng_clear(e);
	free(e);
	return rc;
}

static int who(struct eng *e, const char *by, struct fw_diag *d)
{
	static const char *const roles[] = {FW_OP_OPERATOR, FW_OP_ADMIN, NULL};
	json_t *op = NULL;
	int rc = fw_registry_operator_role(e->s, by, roles, &op, d);

	json_decref(op);
	return rc;
}

static int refuse_state(struct eng *e, const char *what, struct fw_diag *d)
{
	return fw_diag_set(d, FW_E_CONFLICT, "campaign %s is %s: it cannot %s", e->id,
	                   cstates[e->state], what);
}

/* start: members, stages by hash, the first stage entered */

struct member {
	uint64_t h;
	uint32_t stage;
	uint32_t reasons;
	size_t id, cohorts; /* offsets into the text arena */
};

struct start {
	struct eng *e;
	struct member *m;
	size_t n, cap;
	char *text;
	size_t tlen, tcap;
	uint64_t scanned, total;
	int rc;
};

static size_t keep_text(struct start *st, const char *s)
{
	size_t len = strlen(s) + 1, at = st->tlen;
	char *p = fw_grow(st->text, &st->tcap, st->tlen + len, 1);

	if (p == NULL)
		return SIZE_MAX;
	st->text = p;
	memcpy(st->text + at, s, len);
	st->tlen += len;
	return at;
}

static int start_scan(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct start *st = arg;
	uint32_t reasons = decide(st->e, dev, cert);
	struct member *m;

	st->scanned++;
	progress(st->e, st->scanned, st->total);
	if (reasons & TARGET_MASK)
		return 0; /* not targeted: not a member */
	m = fw_grow(st->m, &st->cap, st->n + 1, sizeof(*m));
	if (m == NULL)
		return st->rc = FW_E_NOMEM;
	st->m = m;
	m = &st->m[st->n];
	m->h = fw_rollout_stage_hash(st->e->id, dev->id);
	m->reasons = reasons;
	m->stage = FW_ROLLOUT_NO_STAGE;
	m->id = keep_text(st, dev->id);
	m->cohorts = keep_text(st, dev->cohorts);
	if (m->id == SIZE_MAX || m->cohorts == SIZE_MAX)
		return st->rc = FW_E_NOMEM;
	st->n++;
	return 0;
}

static const struct start *sort_ctx;

static int by_hash(const void *a, const void *b)
{
	const struct member *x = sort_ctx->m + *(const size_t *)a;
	const struct member *y = sort_ctx->m + *(const size_t *)b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return strcmp(sort_ctx->text + x->id, sort_ctx->text + y->id);
}

/* Stages by stable hash: a percent stage takes the unassigned members
 * whose hash is below that share of 2^64, a count stage the next members
 * in hash order, a cohort stage the unassigned members of the cohort. */
static int assign_stages(struct start *st, uint64_t *sizes, struct fw_diag *d)
{
	const struct fw_campaign_policy *p = st->e->pol;
	size_t *order = malloc((st->n ? st->n : 1) * sizeof(*order));
	size_t i, n = 0, k;

	if (order == NULL)
		return oom(d);
	for (i = 0; i < st->n; i++)
		if (st->m[i].reasons == 0)
			order[n++] = i;
	sort_ctx = st;
	qsort(order, n, sizeof(*order), by_hash);
	sort_ctx = NULL;
	for (k = 0; k < p->nstages; k++) {
		const struct fw_campaign_stage *sg = &p->stages[k];
		/* floor(percent * 2^64 / 100), with 2^64 = 100 * (UINT64_MAX / 100) + 16 */
		uint64_t bound = sg->percent * (UINT64_MAX / 100) + (uint64_t)sg->percent * 16 / 100;
		uint64_t taken = 0;

		for (i = 0; i < n; i++) {
			struct member *m = &st->m[order[i]];

			if (m->stage != FW_ROLLOUT_NO_STAGE)
				continue;
			if ((sg->size_kind == FW_STAGE_PERCENT &&
			     (sg->percent == 100 || m->h < bound)) ||
			    (sg->size_kind == FW_STAGE_COUNT && taken < sg->count) ||
			    (sg->size_kind == FW_STAGE_COHORT &&
			     fw_cohorts_have(st->text + m->cohorts, sg->cohort))) {
				m->stage = (uint32_t)k;
				taken++;
			}
		}
		sizes[k] = taken;
	}
	free(order);
	return FW_OK;
}

/* The members as a kept file (a blob): "fwtrust-campaign-members/v1",
 * "campaign <id>", then "<device> <stage>" per member ("-" when it was
 * ineligible at the start), by device id. */
static int members_blob(struct start *st, uint8_t sha[32], struct fw_diag *d)
{
	size_t cap = 128 + st->tlen + st->n * 16, len, i;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return oom(d);
	len = (size_t)snprintf(buf, cap, "fwtrust-campaign-members/v1\ncampaign %s\n", st->e->id);
	for (i = 0; i < st->n; i++) {
		const struct member *m = &st->m[i];

		if (m->stage == FW_ROLLOUT_NO_STAGE)
			len += (size_t)snprintf(buf + len, cap - len, "%s -\n", st->text + m->id);
		else
			len += (size_t)snprintf(buf + len, cap - len, "%s %u\n", st->text + m->id,
			                        m->stage);
	}
	rc = fw_store_blob_put(st->e->s, (const uint8_t *)buf, len, sha, d);
	free(buf);
	return rc;
}

static int op_start(struct eng *e, void *arg, struct fw_diag *d)
{
	const char *by = arg;
	struct start st;
	uint64_t sizes[NSTAGES] = {0}, inel = 0;
	uint8_t sha[32];
	char hex[65];
	json_t *rec, *sz;
	size_t i;
	int rc;

	if (e->state != C_READY)
		return e->state == C_AWAITING
		           ? fw_diag_set(d, FW_E_CONFLICT,
		                         "campaign %s waits for approvals: stage 0 (%s) needs %u, it has "
		                         "%zu",
		                         e->id, e->pol->stages[0].name, e->pol->stages[0].approvals,
		                         approvals_given(e->doc, 0))
		           : refuse_state(e, "start", d);
	rc = who(e, by, d);
	if (rc == FW_OK)
		rc = eng_releases(e, d);
	if (rc != FW_OK)
		return rc;
	if (e->rel.signer_revoked)
		return fw_diag_set(d, FW_E_VERIFY, "release %.16s is signed by a revoked key", e->rel.id);
	memset(&st, 0, sizeof(st));
	st.e = e;
	if (e->cx->progress) {
		rc = fw_store_device_count(e->s, &st.total, d);
		if (rc != FW_OK)
			return rc;
	}
	rc = fw_store_device_scan(e->s, start_scan, &st, d);
	if (rc == FW_OK)
		rc = assign_stages(&st, sizes, d);
	if (rc == FW_OK)
		rc = members_blob(&st, sha, d);
	if (rc != FW_OK) {
		free(st.m);
		free(st.text);
		return rc == FW_E_NOMEM ? oom(d) : rc;
	}
	fw_hex_encode(sha, 32, hex);
	for (i = 0; i < st.n; i++)
		if (st.m[i].reasons)
			inel++;
	e->state = C_RUNNING;
	e->st.started = e->cx->now_ms;
	e->st.window_since = e->cx->now_ms;
	json_object_set_new(e->doc, "paused", json_null());
	rec = new_record(e, "campaign.start");
	sz = json_array();
	for (i = 0; sz && i < e->pol->nstages; i++)
		json_array_append_new(sz, json_integer((json_int_t)sizes[i]));
	if (rec) {
		json_object_set_new(rec, "by", json_string(by));
		json_object_set_new(rec, "release", json_string(e->rel.id));
		json_object_set(rec, "policy_sha256", json_object_get(e->doc, "policy_sha256"));
		json_object_set_new(rec, "members", json_integer((json_int_t)st.n));
		json_object_set_new(rec, "ineligible", json_integer((json_int_t)inel));
		json_object_set_new(rec, "stage_sizes", sz ? sz : json_null());
		json_object_set_new(rec, "members_sha256", json_string(hex));
	} else {
		json_decref(sz);
	}
	rc = camp_record(e, rec, d);
	/* the rows: pending with their stage, or ineligible with a record */
	for (i = 0; rc == FW_OK && i < st.n; i++) {
		struct fw_rollout_row r;

		memset(&r, 0, sizeof(r));
		snprintf(r.campaign, sizeof(r.campaign), "%s", e->id);
		snprintf(r.device, sizeof(r.device), "%s", st.text + st.m[i].id);
		r.stage = st.m[i].stage;
		if (st.m[i].reasons) {
			r.reasons = st.m[i].reasons;
			rc = dev_transition(e, &r, FW_U_INELIGIBLE, "start",
			                    json_pack("{so}", "reasons", reasons_json(r.reasons)), 1, NULL,
			                    d);
		} else {
			r.state = FW_U_PENDING;
			r.rec = e->cidx;
			memcpy(r.rec_lh, e->clh, 32);
			(*count_of(e, r.stage, FW_U_PENDING))++;
			rc = fw_store_rollout_put(e->s, &r, 0, d);
		}
	}
	free(st.m);
	free(st.text);
	if (rc == FW_OK)
		rc = enter_stage(e, 0, d);
	return rc;
}

int fw_rollout_start(struct fw_store *s, const char *id, const char *by,
                     const struct fw_rollout_ctx *cx, json_t **doc, struct fw_diag *d)
{
	return run_op(s, id, cx, op_start, (void *)by, doc, d);
}

struct opargs {
	const char *by, *reason;
	int rollback;
};

static json_t *why_operator(const struct opargs *a)
{
	json_t *w = json_pack("{ss ss}", "cause", "operator", "by", a->by);

	if (w && a->reason)
		json_object_set_new(w, "reason", json_string(a->reason));
	return w;
}

/* An operator's step: who may take it, and the reason's text. */
static int operator_with_reason(struct eng *e, const struct opargs *a, struct fw_diag *d)
{
	int rc = who(e, a->by, d);

	return rc == FW_OK && a->reason ? fw_registry_reason_ok(a->reason, 1000, d) : rc;
}

static int op_pause(struct eng *e, void *arg, struct fw_diag *d)
{
	const struct opargs *a = arg;
	int rc;

	if (e->state != C_RUNNING)
		return refuse_state(e, "pause (only a running campaign pauses)", d);
	rc = operator_with_reason(e, a, d);
	return rc == FW_OK ? stop_campaign(e, why_operator(a), 0, d) : rc;
}

int fw_rollout_pause(struct fw_store *s, const char *id, const char *by, const char *reason,
                     const struct fw_rollout_ctx *cx, json_t **doc, struct fw_diag *d)
{
	struct opargs a = {by, reason, 0};

	return run_op(s, id, cx, op_pause, &a, doc, d);
}

static int op_resume(struct eng *e, void *arg, struct fw_diag *d)
{
	const struct opargs *a = arg;
	json_t *rec, *was;
	int rc;

	if (e->state != C_PAUSED)
		return refuse_state(e, "resume (only a paused campaign resumes)", d);
	rc = operator_with_reason(e, a, d);
	if (rc != FW_OK)
		return rc;
	was = json_incref(json_object_get(e->doc, "paused"));
	e->state = C_RUNNING;
	/* the pause conditions count again from here */
	e->st.window_since = e->cx->now_ms;
	e->st.window_reports = e->st.window_failures = e->st.window_integrity = 0;
	json_object_set_new(e->doc, "paused", json_null());
	rec = new_record(e, "campaign.resume");
	if (rec) {
		json_object_set_new(rec, "by", json_string(a->by));
		if (a->reason)
			json_object_set_new(rec, "reason", json_string(a->reason));
		json_object_set_new(rec, "paused_for", was ? was : json_null());
	} else {
		json_decref(was);
	}
	rc = camp_record(e, rec, d);
	return rc == FW_OK ? hold_devices(e, FW_U_PAUSED, FW_U_ELIGIBLE, "resume", d) : rc;
}

int fw_rollout_resume(struct fw_store *s, const char *id, const char *by, const char *reason,
                      const struct fw_rollout_ctx *cx, json_t **doc, struct fw_diag *d)
{
	struct opargs a = {by, reason, 0};

	return run_op(s, id, cx, op_resume, &a, doc, d);
}

static int op_abort(struct eng *e, void *arg, struct fw_diag *d)
{
	const struct opargs *a = arg;
	json_t *rec;
	int rc, started = e->state == C_RUNNING || e->state == C_PAUSED;

	if (!started && e->state != C_READY && e->state != C_AWAITING)
		return refuse_state(e, "be aborted (it has ended)", d);
	rc = operator_with_reason(e, a, d);
	if (rc == FW_OK)
		rc = eng_releases(e, d);
	if (rc != FW_OK)
		return rc;
	if (a->rollback && !e->has_rb)
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "campaign %s has no rollback release in its policy: abort without "
		                   "--rollback",
		                   e->id);
	if (a->rollback && !started)
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "campaign %s never started: nothing to roll back (abort without "
		                   "--rollback)",
		                   e->id);
	e->state = a->rollback ? C_ROLLED_BACK : C_ABORTED;
	e->st.ended = e->cx->now_ms;
	json_object_set_new(e->doc, "paused", json_null());
	rec = new_record(e, a->rollback ? "campaign.rollback" : "campaign.abort");
	if (rec) {
		json_object_set_new(rec, "why", why_operator(a));
		if (a->rollback) {
			json_object_set_new(rec, "automatic", json_false());
			json_object_set_new(rec, "rollback_release", json_string(e->rb.id));
		}
	}
	return camp_record(e, rec, d);
}

int fw_rollout_abort(struct fw_store *s, const char *id, const char *by, int rollback,
                     const char *reason, const struct fw_rollout_ctx *cx, json_t **doc,
                     struct fw_diag *d)
{
	struct opargs a = {by, reason, rollback};

	return run_op(s, id, cx, op_abort, &a, doc, d);
}

/* tick: timeouts, then stages */

static int op_tick(struct eng *e, void *arg, struct fw_diag *d)
{
	struct rows rs = {0};
	size_t i;
	int rc;

	(void)arg;
	if (e->state != C_RUNNING && e->state != C_PAUSED && e->state != C_ABORTED &&
	    e->state != C_ROLLED_BACK)
		return FW_OK;
	rc = eng_releases(e, d);
	if (rc == FW_OK)
		rc = rows_get(e, FW_U_DELIVERED, -1, e->cx->now_ms, &rs, d);
	for (i = 0; rc == FW_OK && i < rs.n; i++) {
		e->st.timeouts++;
		rc = fail_attempt(e, &rs.v[i], FW_U_FAILED, "timeout", 0,
		                  json_pack("{sI}", "deadline_ms", (json_int_t)rs.v[i].due_ms), NULL, d);
	}
	free(rs.v);
	return rc == FW_OK ? advance(e, d) : rc;
}

int fw_rollout_tick(struct fw_store *s, const char *id, const struct fw_rollout_ctx *cx,
                    json_t **doc, struct fw_diag *d)
{
	return run_op(s, id, cx, op_tick, NULL, doc, d);
}

/* reports */

struct batch {
	const struct fw_rollout_report *r;
	size_t n;
	struct fw_rollout_result *res;
};

static int refuse(const struct batch *b, size_t i, struct fw_diag *d, const char *fmt, ...)
    FW_PRINTF(4, 5);
static int refuse(const struct batch *b, size_t i, struct fw_diag *d, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->n > 1)
		return fw_diag_set(d, FW_E_CONFLICT, "reports[%zu]: device %s: %s", i,
		                   b->r[i].device, msg);
	return fw_diag_set(d, FW_E_CONFLICT, "device %s: %s", b->r[i].device, msg);
}

static int same_release(const char *full, const char *given)
{
	size_t n = strlen(given);

	return n >= 8 && n <= 64 && strncmp(full, given, n) == 0;
}

/* The device row of the registry gets the version it runs now. */
static int set_version(struct eng *e, const char *device, const char *version, json_t *extra,
                       struct fw_diag *d)
{
	char hex[65];
	uint8_t h[32];
	int rc = e->dev_cached && strcmp(e->dev.id, device) == 0
	             ? FW_OK
	             : fw_store_device_get(e->s, device, &e->dev, NULL, NULL, d);

	if (rc != FW_OK)
		return rc;
	snprintf(e->dev.fw_version, sizeof(e->dev.fw_version), "%s", version);
	fw_device_row_hash(&e->dev, h);
	fw_hex_encode(h, 32, hex);
	json_object_set_new(extra, "version", json_string(version));
	json_object_set_new(extra, "row_sha256", json_string(hex));
	e->ver_pending = 1;
	return FW_OK;
}

static int put_version(struct eng *e, const struct fw_rollout_row *row, struct fw_diag *d)
{
	e->ver_pending = 0;
	e->dev.rec = row->rec;
	memcpy(e->dev.rec_lh, row->rec_lh, 32);
	e->dev.rec_pos = 0;
	return fw_store_device_put(e->s, &e->dev, 1, d);
}

static json_t *report_extra(const struct fw_rollout_report *r)
{
	json_t *x = json_object();

	if (x && r->detail)
		json_object_set_new(x, "detail", json_string(r->detail));
	return x;
}

/* *yes: whether the record at idx (the one a failed row points at: its
 * failure) says integrity_failure. */
static int integrity_on_record(struct eng *e, uint64_t idx, int *yes, struct fw_diag *d)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	json_t *j;
	int rc = fw_evidence_get(e->s, idx, &rec, &len, NULL, d);

	if (rc != FW_OK)
		return rc;
	j = json_loadb((const char *)rec, len, 0, NULL);
	free(rec);
	if (j == NULL)
		return fw_diag_set(d, FW_E_TAMPER, "record %llu: not JSON", (unsigned long long)idx);
	*yes = json_is_true(json_object_get(j, "integrity_failure"));
	json_decref(j);
	return FW_OK;
}

/* An integrity failure reported for a device that failed already, without
 * one: SWUpdate sends its refusal line as progress from one thread and its
 * generic closing failure from another, and the closing failure may come
 * first. It is the same attempt, now known to be an integrity failure:
 * recorded (failed -> failed), failed for good, counted as an integrity
 * failure (not as another report or failure), and as any integrity failure
 * it quarantines the device and pauses the campaign. A failure on record
 * that was an integrity failure already makes this a duplicate. */
static int escalate_integrity(struct eng *e, struct fw_rollout_row *r,
                              const struct fw_rollout_report *rep, struct fw_rollout_result *res,
                              struct fw_diag *d)
{
	uint64_t before;
	json_t *x;
	int was = 0, rc = integrity_on_record(e, r->rec, &was, d);

	if (rc != FW_OK)
		return rc;
	if (was) {
		res->outcome = FW_REPORT_DUPLICATE;
		return FW_OK;
	}
	x = report_extra(rep);
	if (x == NULL)
		return oom(d);
	json_object_set_new(x, "integrity_failure", json_true());
	json_object_set_new(x, "retry", json_null());
	if (r->due_ms != FW_ROLLOUT_FINAL)
		e->st.failed_final++;
	r->due_ms = FW_ROLLOUT_FINAL;
	rc = dev_transition(e, r, FW_U_FAILED, "report", x, 0, &res->idx, d);
	if (rc != FW_OK)
		return rc;
	e->st.integrity_failures++;
	e->st.window_integrity++;
	before = e->st.quarantined;
	rc = quarantine(e, r->device, "integrity failure reported", d);
	if (rc != FW_OK)
		return rc;
	res->quarantined = e->st.quarantined > before;
	e->paused_now = 0;
	rc = check_pause(e, 1, r->device, d);
	res->paused = rc == FW_OK && e->paused_now;
	return rc;
}

static int report_one(struct eng *e, const struct batch *b, size_t i, struct fw_diag *d)
{
	const struct fw_rollout_report *r = &b->r[i];
	struct fw_rollout_result tmp, *res = b->res ? &b->res[i] : &tmp;
	const struct fw_campaign_policy *p = e->pol;
	struct fw_rollout_row row;
	struct fw_semver have, want;
	json_t *x;
	int rc, st, rolled = e->state == C_ROLLED_BACK, has_dev = 0, has_c = 0;

	memset(res, 0, sizeof(*res));
	if (r->device == NULL || fw_update_state_name(r->status) == NULL ||
	    r->status == FW_U_PENDING || r->status == FW_U_ELIGIBLE ||
	    r->status == FW_U_INELIGIBLE)
		return fw_diag_set(d, FW_E_ARG, "a report's status is delivered, installed, failed, "
		                                "rolled_back or paused (cancelled)");
	if (r->integrity_failure && r->status != FW_U_FAILED)
		return refuse(b, i, d, "an integrity failure is reported with status failed");
	if (r->detail && fw_registry_reason_ok(r->detail, 1000, d) != FW_OK)
		return refuse(b, i, d, "detail: %s", d ? d->msg : "not valid text");
	/* the row and the device's registry row in one read; decide_now and
	 * set_version use the latter */
	e->dev_cached = 0;
	rc = fw_store_rollout_get_device(e->s, e->id, r->device, &row, &e->dev, &e->cert, &has_dev,
	                                 &has_c, d);
	if (rc == FW_OK) {
		e->dev_cached = has_dev;
		e->cert_cached = has_dev && has_c;
	}
	if (rc == FW_E_NOT_FOUND)
		return refuse(b, i, d, "%s campaign %s: the report is not for this campaign",
		              fw_store_device_get(e->s, r->device, &e->dev, NULL, NULL, NULL) == FW_OK
		                  ? "is not a member of"
		                  : "is not in the registry, nor in",
		              e->id);
	if (rc != FW_OK)
		return rc;
	if (r->release) {
		int rb_ok = rolled && e->has_rb && same_release(e->rb.id, r->release);

		if (!same_release(e->rel.id, r->release) && !rb_ok)
			return refuse(b, i, d,
			              "the report is about release %.16s, but campaign %s rolls out %.16s%s%.16s",
			              r->release, e->id, e->rel.id, rolled && e->has_rb ? " and back to " : "",
			              rolled && e->has_rb ? e->rb.id : "");
	}
	st = row.state;
	res->from = res->to = st;
	switch (r->status) {
	case FW_U_DELIVERED:
		if (rolled && (st == FW_U_DELIVERED || st == FW_U_INSTALLED || st == FW_U_FAILED)) {
			res->outcome = FW_REPORT_DUPLICATE; /* the rollback release is on its way */
			return FW_OK;
		}
		if (st == FW_U_ELIGIBLE || (st == FW_U_FAILED && row.due_ms != FW_ROLLOUT_FINAL &&
		                            row.due_ms <= e->cx->now_ms)) {
			uint32_t reasons;

			if (e->state != C_RUNNING)
				return refuse(b, i, d, "campaign %s is %s: nothing is delivered", e->id,
				              cstates[e->state]);
			rc = decide_now(e, r->device, &reasons, d);
			if (rc != FW_OK)
				return rc;
			if (reasons) {
				row.reasons = reasons;
				res->outcome = FW_REPORT_STOPPED;
				res->reasons = reasons;
				res->to = FW_U_INELIGIBLE;
				return dev_transition(e, &row, FW_U_INELIGIBLE, "delivery",
				                      json_pack("{so}", "reasons", reasons_json(reasons)), 0,
				                      &res->idx, d);
			}
			if (row.attempts > 0) /* after an earlier attempt (a cancelled
			                         * one was given back: not a retry) */
				e->st.retries++;
			row.attempts++;
			row.due_ms = e->cx->now_ms + (int64_t)p->report_timeout_s * 1000;
			x = report_extra(r);
			if (x)
				json_object_set_new(x, "deadline_ms", json_integer(row.due_ms));
			res->to = FW_U_DELIVERED;
			return dev_transition(e, &row, FW_U_DELIVERED, "report", x, 0, &res->idx, d);
		}
		if (st == FW_U_DELIVERED) {
			res->outcome = FW_REPORT_DUPLICATE;
			return FW_OK;
		}
		if (st == FW_U_INSTALLED || st == FW_U_FAILED || st == FW_U_ROLLED_BACK) {
			res->outcome = FW_REPORT_LATE;
			return FW_OK;
		}
		if (st == FW_U_PENDING)
			return refuse(b, i, d, "its stage (%u, %s) has not started: it was not offered the "
			              "release", row.stage, p->stages[row.stage < p->nstages ? row.stage : 0].name);
		if (st == FW_U_PAUSED)
			return refuse(b, i, d, "campaign %s is paused: it was not offered the release",
			              e->id);
		return refuse(b, i, d, "it is ineligible for campaign %s", e->id);
	case FW_U_INSTALLED:
		if (r->version == NULL)
			return refuse(b, i, d, "an installed report names the version running now");
		if (fw_semver_parse(r->version, &have, NULL) != FW_OK ||
		    fw_semver_parse(e->rel.version_text, &want, NULL) != FW_OK ||
		    fw_semver_cmp(&have, &want) != 0)
			return refuse(b, i, d,
			              "it runs %.64s, not %s of release %.16s: an image is installed only "
			              "when the device runs it after its reboot",
			              r->version, e->rel.version_text, e->rel.id);
		if (st == FW_U_INSTALLED) {
			res->outcome = FW_REPORT_DUPLICATE;
			return FW_OK;
		}
		if (st == FW_U_ROLLED_BACK) {
			res->outcome = FW_REPORT_LATE;
			return FW_OK;
		}
		if (st != FW_U_DELIVERED && st != FW_U_FAILED)
			return refuse(b, i, d, "it is %s: it was not delivered the release", ustates[st]);
		x = report_extra(r);
		if (x == NULL)
			return oom(d);
		if (st == FW_U_FAILED) {
			json_object_set_new(x, "late", json_true()); /* it runs it after all */
			if (row.due_ms == FW_ROLLOUT_FINAL)
				e->st.failed_final--;
		} else {
			e->st.reports++;
			e->st.window_reports++;
		}
		rc = set_version(e, r->device, e->rel.version_text, x, d);
		if (rc != FW_OK) {
			json_decref(x);
			return rc;
		}
		row.due_ms = 0;
		res->to = FW_U_INSTALLED;
		rc = dev_transition(e, &row, FW_U_INSTALLED, "report", x, 0, &res->idx, d);
		if (rc == FW_OK)
			rc = put_version(e, &row, d);
		/* a success is a report too: with it the failure rate may count
		 * (min_reports reached with failures at the percent) */
		if (rc == FW_OK && st == FW_U_DELIVERED) {
			e->paused_now = 0;
			rc = check_pause(e, 0, r->device, d);
			res->paused = rc == FW_OK && e->paused_now;
		}
		return rc;
	case FW_U_FAILED:
		if (st == FW_U_FAILED && r->integrity_failure)
			return escalate_integrity(e, &row, r, res, d);
		if (st == FW_U_FAILED) {
			res->outcome = FW_REPORT_DUPLICATE;
			return FW_OK;
		}
		if (st == FW_U_INSTALLED || st == FW_U_ROLLED_BACK) {
			res->outcome = FW_REPORT_LATE;
			return FW_OK;
		}
		if (st != FW_U_DELIVERED)
			return refuse(b, i, d, "it is %s: it was not delivered the release", ustates[st]);
		res->to = FW_U_FAILED;
		return fail_attempt(e, &row, FW_U_FAILED, "report", r->integrity_failure,
		                    report_extra(r), res, d);
	case FW_U_PAUSED:
		/* the device stopped its attempt because the server cancelled it
		 * (the campaign paused or was aborted while it was delivered) */
		if (st != FW_U_DELIVERED || e->state == C_RUNNING || rolled) {
			res->outcome = st == FW_U_PAUSED ? FW_REPORT_DUPLICATE : FW_REPORT_LATE;
			return FW_OK;
		}
		x = report_extra(r);
		if (x == NULL)
			return oom(d);
		if (e->state == C_PAUSED) {
			/* it waits for the resume like the others; the cancelled
			 * attempt is given back: the next delivery is the same
			 * attempt again (and the same action id), so pauses never
			 * use up retry.max_attempts; a retry given back is
			 * counted again when it is delivered again */
			if (row.attempts > 1)
				e->st.retries--;
			row.attempts -= row.attempts > 0;
			row.due_ms = 0;
			res->to = FW_U_PAUSED;
			return dev_transition(e, &row, FW_U_PAUSED, "cancel", x, 0, &res->idx, d);
		}
		row.due_ms = FW_ROLLOUT_FINAL; /* aborted: the attempt ends here, for good */
		e->st.failed_final++;
		res->to = FW_U_FAILED;
		return dev_transition(e, &row, FW_U_FAILED, "cancel", x, 0, &res->idx, d);
	default: /* FW_U_ROLLED_BACK */
		if (st == FW_U_ROLLED_BACK) {
			res->outcome = FW_REPORT_DUPLICATE;
			return FW_OK;
		}
		if (st != FW_U_DELIVERED && st != FW_U_INSTALLED && st != FW_U_FAILED)
			return refuse(b, i, d, "it is %s: it never received the release", ustates[st]);
		x = report_extra(r);
		if (x == NULL)
			return oom(d);
		if (r->version) {
			if (fw_semver_parse(r->version, &have, NULL) != FW_OK) {
				json_decref(x);
				return refuse(b, i, d, "version %.64s is not a semantic version", r->version);
			}
			rc = set_version(e, r->device, r->version, x, d);
			if (rc != FW_OK) {
				json_decref(x);
				return rc;
			}
		}
		res->to = FW_U_ROLLED_BACK;
		if (!rolled && st != FW_U_FAILED) {
			/* it fell back by itself: a failed attempt, not retried */
			if (st == FW_U_INSTALLED) { /* counted once, as a failure */
				e->st.reports -= e->st.reports > 0;
				e->st.window_reports -= e->st.window_reports > 0;
			}
			rc = fail_attempt(e, &row, FW_U_ROLLED_BACK, "fallback", 0, x, res, d);
		} else {
			if (st == FW_U_FAILED && row.due_ms == FW_ROLLOUT_FINAL)
				e->st.failed_final--;
			row.due_ms = 0;
			rc = dev_transition(e, &row, FW_U_ROLLED_BACK, rolled ? "rollback" : "fallback", x,
			                    0, &res->idx, d);
		}
		if (rc == FW_OK && e->ver_pending)
			rc = put_version(e, &row, d);
		return rc;
	}
}

static int op_report(struct eng *e, void *arg, struct fw_diag *d)
{
	const struct batch *b = arg;
	size_t i;
	int rc;

	if (e->state == C_AWAITING || e->state == C_READY || e->state == C_COMPLETED)
		return fw_diag_set(d, FW_E_CONFLICT, "campaign %s is %s: it takes no reports", e->id,
		                   cstates[e->state]);
	rc = eng_releases(e, d);
	for (i = 0; rc == FW_OK && i < b->n; i++)
		rc = report_one(e, b, i, d);
	return rc;
}

int fw_rollout_report(struct fw_store *s, const char *id, const struct fw_rollout_report *reports,
                      size_t n, const struct fw_rollout_ctx *cx, struct fw_rollout_result *results,
                      struct fw_diag *d)
{
	struct batch b = {reports, n, results};

	if (n == 0)
		return FW_OK;
	return run_op(s, id, cx, op_report, &b, NULL, d);
}

/* ---- reading ---- */

/* Load a campaign for reading (no transaction needed). */
static int eng_read(struct eng *e, struct fw_store *s, const char *id,
                    const struct fw_rollout_ctx *cx, struct fw_diag *d)
{
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->cx = cx;
	return eng_load(e, id, d);
}

static json_t *size_json(const struct fw_campaign_stage *sg)
{
	switch (sg->size_kind) {
	case FW_STAGE_PERCENT: return json_pack("{sI}", "percent", (json_int_t)sg->percent);
	case FW_STAGE_COUNT: return json_pack("{sI}", "count", (json_int_t)sg->count);
	default: return json_pack("{ss}", "cohort", sg->cohort);
	}
}

/* failures still needed before a condition fires (0: it holds) */
static uint64_t rate_headroom(const struct fw_campaign_policy *p, uint64_t f, uint64_t r)
{
	uint64_t need;

	/* the least f' with f' * 100 >= percent * r, counting a failure as a report too:
	 * (f + x) * 100 >= percent * (r + x) */
	if (p->fail_rate_percent >= 100) {
		/* every report a failure: once one was not, failures never get there */
		if (f < r)
			return UINT64_MAX;
		need = 0;
	} else {
		uint64_t num = (uint64_t)p->fail_rate_percent * r;
		uint64_t have = f * 100;

		need = have >= num ? 0 : (num - have + (100 - p->fail_rate_percent) - 1) /
		                             (100 - p->fail_rate_percent);
	}
	if (r + need < p->fail_rate_min_reports) {
		/* enough reports first; then the rate */
		uint64_t x = p->fail_rate_min_reports - r;

		if ((f + x) * 100 >= (uint64_t)p->fail_rate_percent * (r + x))
			need = need > x ? need : x;
	}
	return need;
}

static json_t *conditions_json(const struct eng *e)
{
	const struct fw_campaign_policy *p = e->pol;
	uint64_t f = e->st.window_failures, r = e->st.window_reports;
	uint64_t need = rate_headroom(p, f, r); /* UINT64_MAX: failures alone never get there */
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	json_array_append_new(
	    a, json_pack("{ss sI sI sb}", "name", "integrity_failure", "value",
	                 (json_int_t)e->st.window_integrity, "threshold", (json_int_t)1,
	                 "reached", e->st.window_integrity > 0));
	json_array_append_new(
	    a, json_pack("{ss sI sI sI sI sI sb so*}", "name", "failure_rate", "failures",
	                 (json_int_t)f, "reports", (json_int_t)r, "rate_permille",
	                 (json_int_t)(r ? f * 1000 / r : 0), "threshold_percent",
	                 (json_int_t)p->fail_rate_percent, "min_reports",
	                 (json_int_t)p->fail_rate_min_reports, "reached",
	                 r >= p->fail_rate_min_reports && f * 100 >= (uint64_t)p->fail_rate_percent * r,
	                 "failures_to_pause", /* left out when failures alone never get there */
	                 need == UINT64_MAX ? NULL : json_integer((json_int_t)need)));
	json_array_append_new(
	    a, p->max_failures
	           ? json_pack("{ss sI sI sb sI}", "name", "max_failures", "value", (json_int_t)f,
	                       "threshold", (json_int_t)p->max_failures, "reached",
	                       f >= p->max_failures, "failures_to_pause",
	                       (json_int_t)(f >= p->max_failures ? 0 : p->max_failures - f))
	           : json_pack("{ss sI sn}", "name", "max_failures", "value", (json_int_t)f,
	                       "threshold"));
	return a;
}

static const char *stage_status(const struct eng *e, uint32_t k)
{
	if (e->st.stage_started[k] == 0)
		return "not_started";
	if (k < e->stage)
		return "done";
	return e->state == C_RUNNING || e->state == C_PAUSED ? "current" : "ended";
}

/* What happens next, in a sentence. */
static void next_step(const struct eng *e, char *out, size_t cap)
{
	const json_t *pz = json_object_get(e->doc, "paused");
	char why[200];
	uint32_t k = e->stage;

	switch (e->state) {
	case C_AWAITING:
		snprintf(out, cap, "stage 0 (%s) needs %zu more approval(s) before the campaign can start",
		         e->pol->stages[0].name,
		         (size_t)e->pol->stages[0].approvals - approvals_given(e->doc, 0));
		return;
	case C_READY: snprintf(out, cap, "approved: an operator may start it"); return;
	case C_PAUSED:
		snprintf(out, cap, "paused (%s): an operator looks, then resumes or aborts it",
		         json_string_value(json_object_get(pz, "cause")));
		return;
	case C_RUNNING: break;
	case C_ROLLED_BACK:
		snprintf(out, cap, "rolled back: devices that received the release are offered the "
		                   "rollback release");
		return;
	default: snprintf(out, cap, "%s: nothing more happens", cstates[e->state]); return;
	}
	stage_blocker(e, k, why, sizeof(why));
	if (why[0])
		snprintf(out, cap, "%s", why);
	else if (k + 1 < e->pol->nstages &&
	         approvals_given(e->doc, k + 1) < e->pol->stages[k + 1].approvals)
		snprintf(out, cap, "stage %u (%s) waits for %zu more approval(s)", k + 1,
		         e->pol->stages[k + 1].name,
		         (size_t)e->pol->stages[k + 1].approvals - approvals_given(e->doc, k + 1));
	else if (k + 1 < e->pol->nstages)
		snprintf(out, cap, "stage %u (%s) starts at the next tick", k + 1,
		         e->pol->stages[k + 1].name);
	else if (in_flight(e))
		snprintf(out, cap, "last stage: %llu device(s) not done yet",
		         (unsigned long long)in_flight(e));
	else
		snprintf(out, cap, "every device is done: it completes at the next tick");
}

int fw_rollout_status(struct fw_store *s, const char *id, int64_t now_ms, json_t **out,
                      struct fw_diag *d)
{
	struct fw_rollout_ctx cx = {now_ms, NULL, NULL, NULL};
	struct eng *e = malloc(sizeof(*e));
	json_t *st = NULL, *stages, *p;
	char next[300];
	uint32_t k;
	int rc;

	if (e == NULL)
		return oom(d);
	rc = eng_read(e, s, id, &cx, d);
	if (rc != FW_OK)
		goto out;
	p = stats_json(e);
	stages = json_array();
	st = json_object();
	if (p == NULL || stages == NULL || st == NULL) {
		json_decref(p);
		json_decref(stages);
		rc = oom(d);
		goto out;
	}
	for (k = 0; k < e->pol->nstages; k++) {
		const struct fw_campaign_stage *sg = &e->pol->stages[k];
		uint64_t n = stage_devices(e, k), base = n - e->st.counts[k][FW_U_INELIGIBLE];
		int64_t soak_left = 0;

		if (e->st.stage_started[k]) {
			soak_left = (e->st.stage_started[k] + (int64_t)sg->soak_s * 1000 - now_ms + 999) / 1000;
			if (soak_left < 0)
				soak_left = 0;
		}
		json_array_append_new(
		    stages,
		    json_pack("{sI ss so ss so sI sI so sI sI sI s{sI sI}}", "index", (json_int_t)k,
		              "name", sg->name, "size", size_json(sg), "status", stage_status(e, k),
		              "started_ms",
		              e->st.stage_started[k] ? json_integer(e->st.stage_started[k]) : json_null(),
		              "soak_s", (json_int_t)sg->soak_s, "soak_left_s", (json_int_t)soak_left,
		              "counts", json_incref(json_array_get(json_object_get(p, "counts"), k)),
		              "devices", (json_int_t)n, "installed_permille",
		              (json_int_t)(base ? e->st.counts[k][FW_U_INSTALLED] * 1000 / base : 0),
		              "success_threshold", (json_int_t)e->pol->success_threshold, "approvals",
		              "required", (json_int_t)sg->approvals, "given",
		              (json_int_t)approvals_given(e->doc, k)));
	}
	next_step(e, next, sizeof(next));
	json_object_set_new(st, "campaign", json_string(e->id));
	json_object_set(st, "name", json_object_get(e->doc, "name"));
	json_object_set_new(st, "state", json_string(cstates[e->state]));
	json_object_set(st, "release", json_object_get(e->doc, "release_id"));
	json_object_set(st, "rollback_release", json_object_get(e->doc, "rollback_release_id"));
	json_object_set_new(st, "stage", json_pack("{sI ss}", "index", (json_int_t)e->stage, "name",
	                                           e->pol->stages[e->stage].name));
	json_object_set_new(st, "stages", stages);
	json_object_set(st, "ineligible_at_start", json_object_get(p, "unstaged"));
	json_object_set_new(st, "pause_conditions", conditions_json(e));
	json_object_set(st, "window", json_object_get(p, "window"));
	json_object_set(st, "totals", json_object_get(p, "totals"));
	json_object_set_new(st, "in_flight", json_integer((json_int_t)in_flight(e)));
	json_object_set(st, "failed_final", json_object_get(p, "failed_final"));
	json_object_set(st, "paused", json_object_get(e->doc, "paused") ? json_object_get(e->doc, "paused")
	                                                               : json_null());
	json_object_set(st, "started_ms", json_object_get(p, "started_ms"));
	json_object_set(st, "ended_ms", json_object_get(p, "ended_ms"));
	json_object_set_new(st, "next", json_string(next));
	json_decref(p);
	*out = st;
	st = NULL;
out:
	json_decref(st);
	eng_clear(e);
	free(e);
	return rc;
}

static json_t *row_json(const struct fw_rollout_row *r)
{
	json_t *o = json_pack("{ss ss ss sI sI}", "campaign", r->campaign, "device", r->device,
	                      "state", fw_update_state_name(r->state) ? fw_update_state_name(r->state)
	                                                              : "?",
	                      "attempts", (json_int_t)r->attempts, "failures",
	                      (json_int_t)r->failures);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "stage",
	                    r->stage == FW_ROLLOUT_NO_STAGE ? json_null() : json_integer(r->stage));
	if (r->state == FW_U_INELIGIBLE)
		json_object_set_new(o, "reasons", reasons_json(r->reasons));
	if (r->state == FW_U_DELIVERED)
		json_object_set_new(o, "deadline_ms", json_integer(r->due_ms));
	if (r->state == FW_U_FAILED)
		json_object_set_new(o, "retry_not_before_ms",
		                    r->due_ms == FW_ROLLOUT_FINAL ? json_null() : json_integer(r->due_ms));
	json_object_set_new(o, "record", fw_evidence_ref_json(r->rec, r->rec_lh));
	return o;
}

int fw_rollout_device(struct fw_store *s, const char *id, const char *device, json_t **out,
                      struct fw_diag *d)
{
	struct fw_rollout_row r;
	int rc = fw_store_rollout_get(s, id, device, &r, d);

	if (rc != FW_OK)
		return rc;
	*out = row_json(&r);
	return *out ? FW_OK : oom(d);
}

/* offers */

struct offer {
	struct fw_store *s;
	const struct fw_rollout_ctx *cx;
	struct fw_rollout_offer *o;
	struct fw_diag *d;
	int rc;
};

static int offer_row(void *arg, const struct fw_rollout_row *r)
{
	struct offer *of = arg;
	struct eng *e;
	uint32_t reasons = 0;
	int rc, give = 0;

	if (r->state != FW_U_ELIGIBLE && r->state != FW_U_FAILED && r->state != FW_U_DELIVERED &&
	    r->state != FW_U_INSTALLED)
		return 0;
	e = malloc(sizeof(*e));
	if (e == NULL)
		return of->rc = oom(of->d);
	rc = eng_read(e, of->s, r->campaign, of->cx, of->d);
	if (rc == FW_OK)
		rc = eng_releases(e, of->d);
	if (rc != FW_OK) {
		eng_clear(e);
		free(e);
		return of->rc = rc;
	}
	if (e->state == C_ROLLED_BACK && e->has_rb && r->state != FW_U_ELIGIBLE) {
		snprintf(of->o->release, sizeof(of->o->release), "%s", e->rb.id);
		of->o->rollback = 1;
		of->o->attempt = r->attempts;
		give = 1;
	} else if (e->state == C_RUNNING &&
	           (r->state == FW_U_ELIGIBLE ||
	            (r->state == FW_U_FAILED && r->due_ms != FW_ROLLOUT_FINAL &&
	             r->due_ms <= of->cx->now_ms))) {
		rc = decide_now(e, r->device, &reasons, of->d);
		if (rc == FW_OK && reasons == 0) {
			snprintf(of->o->release, sizeof(of->o->release), "%s", e->rel.id);
			of->o->attempt = r->attempts + 1;
			give = 1;
		}
	}
	if (give)
		snprintf(of->o->campaign, sizeof(of->o->campaign), "%s", r->campaign);
	eng_clear(e);
	free(e);
	if (rc != FW_OK)
		return of->rc = rc;
	return give; /* the first campaign (by id) with something for it */
}

int fw_rollout_offer(struct fw_store *s, const char *device, int64_t now_ms,
                     struct fw_rollout_offer *o, struct fw_diag *d)
{
	struct fw_rollout_ctx cx = {now_ms, NULL, NULL, NULL};
	struct offer of = {s, &cx, o, d, FW_OK};
	int rc;

	memset(o, 0, sizeof(*o));
	rc = fw_store_rollout_device_scan(s, device, offer_row, &of, d);
	if (of.rc != FW_OK)
		return of.rc;
	return rc == 1 ? FW_OK : rc;
}

/* listing a campaign's rows */

struct devs {
	fw_rollout_json_fn fn;
	void *arg;
	int rc;
};

static int devs_row(void *arg, const struct fw_rollout_row *r)
{
	struct devs *v = arg;
	json_t *o = row_json(r);

	if (o == NULL)
		return v->rc = FW_E_NOMEM;
	v->rc = v->fn(v->arg, o);
	json_decref(o);
	return v->rc;
}

int fw_rollout_devices(struct fw_store *s, const char *id, int state, int64_t stage,
                       fw_rollout_json_fn fn, void *arg, struct fw_diag *d)
{
	struct devs v = {fn, arg, FW_OK};
	json_t *doc = NULL;
	int rc;

	if (s == NULL || id == NULL || fn == NULL || state >= FW_U_COUNT)
		return fw_diag_set(d, FW_E_ARG, "fw_rollout_devices: bad argument");
	rc = fw_registry_doc_get(s, KIND_CAMPAIGN, id, &doc, d);
	json_decref(doc);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no campaign '%s' (see 'fwtrust campaign list')", id);
	if (rc != FW_OK)
		return rc;
	rc = fw_store_rollout_scan(s, id, state, stage, INT64_MAX, devs_row, &v, d);
	return rc == FW_E_NOMEM && v.rc == FW_E_NOMEM ? oom(d) : rc;
}

/* ---- what the device API shows a device ---- */

/* A campaign as last read, kept while its stored document is unchanged
 * (byte for byte: every change to a campaign rewrites its document) and
 * so are the documents of its releases' signing keys: a release's status
 * ("signed-by-revoked-key") follows its signer's document, not its own. */
#define CACHE_SLOTS 8
#define KIND_KEY "key"
struct cache_slot {
	char *text;
	size_t len;
	struct eng *e;
	uint64_t used;
	size_t nkeys;
	char signer[2][65]; /* the signing keys of the release and the rollback release */
	char *ktext[2];     /* their documents as read before the load; NULL: none */
	uint64_t ver;       /* fw_store_version when last read or checked; 0: unknown */
};
struct fw_rollout_cache {
	struct cache_slot v[CACHE_SLOTS];
	uint64_t clock;
};

struct fw_rollout_cache *fw_rollout_cache_new(void)
{
	return calloc(1, sizeof(struct fw_rollout_cache));
}

static void slot_clear(struct cache_slot *c)
{
	if (c->e) {
		eng_clear(c->e);
		free(c->e);
	}
	free(c->text);
	free(c->ktext[0]);
	free(c->ktext[1]);
	memset(c, 0, sizeof(*c));
}

/* The stored text of signing key k (*text NULL when there is none). */
static int key_text(struct fw_store *s, const char *k, char **text, struct fw_diag *d)
{
	int rc;

	*text = NULL;
	rc = fw_store_object_get(s, KIND_KEY, k, text, d);
	if (rc == FW_E_NOT_FOUND) {
		*text = NULL;
		return FW_OK;
	}
	return rc;
}

/* Whether the signing keys of slot v's releases are as they were read. */
static int keys_same(struct cache_slot *v, struct fw_store *s, int *same, struct fw_diag *d)
{
	size_t k;
	char *t;
	int rc;

	*same = 1;
	for (k = 0; k < v->nkeys && *same; k++) {
		rc = key_text(s, v->signer[k], &t, d);
		if (rc != FW_OK)
			return rc;
		*same = t == NULL || v->ktext[k] == NULL ? t == v->ktext[k]
		                                         : strcmp(t, v->ktext[k]) == 0;
		free(t);
	}
	return FW_OK;
}

/* Slot v's signing keys and their documents, read before its releases are
 * loaded (a change in between is seen at the next call). */
static int keys_read(struct cache_slot *v, struct fw_store *s, const json_t *doc,
                     struct fw_diag *d)
{
	const char *refs[2] = {json_string_value(json_object_get(doc, "release_id")),
	                       json_string_value(json_object_get(doc, "rollback_release_id"))};
	size_t k;
	int rc;

	for (k = 0; k < 2; k++) {
		json_t *rel = NULL;
		const char *signer;

		if (refs[k] == NULL)
			continue;
		rc = fw_registry_release_get(s, refs[k], &rel, d);
		if (rc == FW_E_NOT_FOUND)
			continue; /* the load reports it */
		if (rc != FW_OK)
			return rc;
		signer = json_string_value(json_object_get(rel, "signer_key_id"));
		if (signer && strlen(signer) < sizeof(v->signer[0]) &&
		    (v->nkeys == 0 || strcmp(v->signer[0], signer) != 0)) {
			snprintf(v->signer[v->nkeys], sizeof(v->signer[0]), "%s", signer);
			rc = key_text(s, signer, &v->ktext[v->nkeys], d);
			if (rc != FW_OK) {
				json_decref(rel);
				return rc;
			}
			v->nkeys++;
		}
		json_decref(rel);
	}
	return FW_OK;
}

void fw_rollout_cache_free(struct fw_rollout_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&c->v[i]);
	free(c);
}

/* The campaign id, loaded with its releases, from the cache or the store. */
static int cached_campaign(struct fw_rollout_cache *c, struct fw_store *s, const char *id,
                           const struct fw_rollout_ctx *cx, struct eng **out, struct fw_diag *d)
{
	struct cache_slot *slot = NULL;
	char *text = NULL;
	size_t len, i;
	uint64_t ver = 0;
	int rc;

	c->clock++;
	/* nothing committed since the slot was read or checked: it is what is
	 * stored, without reading the documents again */
	if (fw_store_version(s, &ver, NULL) != FW_OK)
		ver = 0;
	for (i = 0; ver != 0 && i < CACHE_SLOTS; i++) {
		struct cache_slot *v = &c->v[i];

		if (v->e && v->ver == ver && strcmp(v->e->id, id) == 0) {
			v->used = c->clock;
			v->e->s = s;
			v->e->cx = cx;
			*out = v->e;
			return FW_OK;
		}
	}
	rc = fw_store_object_get(s, KIND_CAMPAIGN, id, &text, d);
	if (rc != FW_OK)
		return rc;
	len = strlen(text);
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *v = &c->v[i];

		if (v->e && strcmp(v->e->id, id) == 0) {
			int same = v->len == len && memcmp(v->text, text, len) == 0;

			if (same) {
				rc = keys_same(v, s, &same, d);
				if (rc != FW_OK) {
					free(text);
					return rc;
				}
			}
			if (same) {
				free(text);
				v->ver = ver;
				v->used = c->clock;
				v->e->s = s;
				v->e->cx = cx;
				*out = v->e;
				return FW_OK;
			}
			slot = v; /* changed: read again */
			break;
		}
	}
	if (slot == NULL) { /* a free slot, or the least recently used */
		slot = &c->v[0];
		for (i = 0; i < CACHE_SLOTS; i++) {
			if (c->v[i].e == NULL) {
				slot = &c->v[i];
				break;
			}
			if (c->v[i].used < slot->used)
				slot = &c->v[i];
		}
	}
	slot_clear(slot);
	slot->e = calloc(1, sizeof(*slot->e));
	if (slot->e == NULL) {
		free(text);
		return oom(d);
	}
	slot->e->s = s;
	slot->e->cx = cx;
	snprintf(slot->e->id, sizeof(slot->e->id), "%s", id);
	slot->e->doc = json_loads(text, 0, NULL);
	rc = slot->e->doc ? eng_load_doc(slot->e, d)
	                  : fw_diag_set(d, FW_E_STORE, "campaign %s: stored document is malformed", id);
	if (rc == FW_OK)
		rc = keys_read(slot, s, slot->e->doc, d);
	if (rc == FW_OK)
		rc = eng_releases(slot->e, d);
	if (rc != FW_OK) {
		free(text);
		slot_clear(slot);
		return rc;
	}
	slot->text = text;
	slot->len = len;
	slot->ver = ver;
	slot->used = c->clock;
	*out = slot->e;
	return FW_OK;
}

uint64_t fw_rollout_action_id(const char *campaign, uint32_t attempt, int rollback)
{
	uint64_t n = 0;
	const char *p = campaign;

	if (strncmp(p, "c-", 2) != 0)
		return 0;
	for (p += 2; *p >= '0' && *p <= '9' && n < UINT64_MAX / 1000; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (*p != 0 || n == 0)
		return 0;
	return n * FW_ACTION_SPAN + (rollback ? FW_ACTION_ROLLBACK : attempt);
}

int fw_rollout_action_parse(uint64_t id, char *campaign, size_t cap, uint32_t *attempt,
                            int *rollback)
{
	uint64_t n = id / FW_ACTION_SPAN, k = id % FW_ACTION_SPAN;

	if (n == 0 || k == 0 || (k > 10 && k != FW_ACTION_ROLLBACK))
		return FW_E_NOT_FOUND;
	snprintf(campaign, cap, "c-%04llu", (unsigned long long)n);
	*rollback = k == FW_ACTION_ROLLBACK;
	*attempt = *rollback ? 0 : (uint32_t)k;
	return FW_OK;
}

struct act {
	struct fw_rollout_cache *c;
	struct fw_store *s;
	const struct fw_rollout_ctx *cx;
	const struct fw_device_row *dev;
	const struct fw_cert_row *cert;
	struct fw_rollout_action *a;
	struct fw_diag *d;
	int rc;
	char installed[32]; /* the last campaign whose release it installed */
	uint32_t installed_attempts;
};

static void action_set(struct fw_rollout_action *a, int kind, const struct eng *e,
                       const struct fw_rollout_row *r, int rollback, uint32_t attempt)
{
	const struct fw_policy_release *rel = rollback ? &e->rb : &e->rel;

	a->kind = kind;
	snprintf(a->campaign, sizeof(a->campaign), "%s", r->campaign);
	snprintf(a->release, sizeof(a->release), "%s", rel->id);
	snprintf(a->version, sizeof(a->version), "%s", rel->version_text);
	a->rollback = rollback;
	a->attempt = attempt;
	a->state = r->state;
	a->id = fw_rollout_action_id(r->campaign, attempt, rollback);
}

static int action_row(void *arg, const struct fw_rollout_row *r)
{
	struct act *x = arg;
	struct eng *e = NULL;
	uint32_t reasons;
	int st = r->state;

	if (st != FW_U_ELIGIBLE && st != FW_U_FAILED && st != FW_U_DELIVERED &&
	    st != FW_U_INSTALLED)
		return 0;
	x->rc = cached_campaign(x->c, x->s, r->campaign, x->cx, &e, x->d);
	if (x->rc != FW_OK)
		return x->rc;
	if (st == FW_U_INSTALLED && e->state != C_ROLLED_BACK) {
		snprintf(x->installed, sizeof(x->installed), "%s", r->campaign);
		x->installed_attempts = r->attempts;
		return 0;
	}
	switch (e->state) {
	case C_ROLLED_BACK:
		if (!e->has_rb || st == FW_U_ELIGIBLE)
			return 0;
		action_set(x->a, FW_ACTION_DEPLOY, e, r, 1, 0);
		return 1;
	case C_RUNNING:
		if (st == FW_U_DELIVERED) { /* open: shown until the device closes it */
			action_set(x->a, FW_ACTION_DEPLOY, e, r, 0, r->attempts);
			return 1;
		}
		if (st == FW_U_FAILED && (r->due_ms == FW_ROLLOUT_FINAL || r->due_ms > x->cx->now_ms))
			return 0;
		/* eligibility again, now: nothing is offered to a device that
		 * no longer qualifies (its delivered report would stop it) */
		reasons = x->dev ? decide(e, x->dev, x->cert) : 1u << FW_R_IDENTITY_UNKNOWN;
		x->a->reasons = reasons;
		if (reasons != 0)
			return 0;
		action_set(x->a, FW_ACTION_DEPLOY, e, r, 0, r->attempts + 1);
		return 1;
	case C_PAUSED:
	case C_ABORTED:
		if (st != FW_U_DELIVERED)
			return 0;
		action_set(x->a, FW_ACTION_CANCEL, e, r, 0, r->attempts);
		return 1;
	default:
		return 0;
	}
}

int fw_rollout_action(struct fw_store *s, struct fw_rollout_cache *c, const char *device,
                      const struct fw_device_row *dev, const struct fw_cert_row *cert,
                      int64_t now_ms, struct fw_rollout_action *a, struct fw_diag *d)
{
	struct fw_rollout_ctx cx = {now_ms, NULL, NULL, NULL};
	struct act x;
	int rc;

	memset(a, 0, sizeof(*a));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.s = s;
	x.cx = &cx;
	x.dev = dev;
	x.cert = cert;
	x.a = a;
	x.d = d;
	rc = fw_store_rollout_device_scan(s, device, action_row, &x, d);
	if (x.rc != FW_OK)
		return x.rc;
	if (rc != 0 && rc != 1)
		return rc;
	if (a->kind == FW_ACTION_NONE && x.installed[0]) {
		struct eng *e = NULL;
		struct fw_rollout_row r;

		memset(&r, 0, sizeof(r));
		snprintf(r.campaign, sizeof(r.campaign), "%s", x.installed);
		r.state = FW_U_INSTALLED;
		rc = cached_campaign(c, s, x.installed, &cx, &e, d);
		if (rc != FW_OK)
			return rc;
		action_set(a, FW_ACTION_INSTALLED, e, &r, 0, x.installed_attempts);
	}
	return FW_OK;
}
