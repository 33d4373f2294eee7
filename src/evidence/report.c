/*
 * The audit report of an evidence bundle: its numbers, computed from the
 * records alone (fw_report_add, fed in index order), as a JSON summary
 * (fw_report_summary, described in docs/report.md) and as one
 * self-contained HTML page (fw_report_html).
 *
 * Records are untrusted input (a bundle handed to an auditor): every
 * field is read with its type checked, a missing one reads as empty or 0,
 * and every string ends up HTML-escaped. Memory does not grow with the
 * number of devices: states are counts, device lists keep their first
 * REPORT_LIST_MAX entries, the timeline at most REPORT_POINTS_MAX points
 * (time buckets that double in width when full), and every other kept
 * list has a cap of its own, with the number left out counted.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream, gmtime_r, strdup */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence/evidence.h"

/* Caps of what a report keeps, whatever the bundle holds. */
#define REPORT_LIST_MAX 50        /* devices listed as failed, rolled back, quarantined */
#define REPORT_POINTS_MAX 400     /* timeline points */
#define REPORT_EVENTS_MAX 200     /* timeline events (stages, pauses, ...) */
#define REPORT_CAMPAIGNS_MAX 64
#define REPORT_STAGES_MAX 16      /* = the policy's limit */
#define REPORT_APPROVALS_MAX 128
#define REPORT_PAUSES_MAX 64      /* pauses kept per report */
#define REPORT_RELEASES_MAX 16
#define REPORT_KEYS_MAX 32
#define REPORT_OPERATORS_MAX 64
#define REPORT_RUNS_MAX 32        /* eligibility runs kept */
#define REPORT_DECIDERS_MAX 16    /* releases whose decisions are counted */
#define REPORT_CODES_MAX 64       /* distinct reason codes counted */
#define REPORT_TYPES_MAX 64       /* distinct record types counted */
#define REPORT_ADVISORIES_MAX 16  /* advisories followed */
#define REPORT_COHORTS_MAX 128    /* cohort runs kept per advisory (thinned when full) */
#define REPORT_ISOLATED_MAX 50    /* isolated devices listed per advisory */
#define REPORT_SAMPLE_MAX 8       /* record indexes a CRA row cites per kind */
#define REPORT_LABEL_MAX 160
#define REPORT_ID_MAX 128         /* campaign ids: longer ones are not followed */
#define REPORT_TS_MAX 9007199254740991LL /* 2^53 - 1: the largest integer of a record */

/* Update states, as the rollout engine names them (docs/campaigns.md). */
enum { S_PENDING, S_ELIGIBLE, S_INELIGIBLE, S_DELIVERED, S_INSTALLED, S_FAILED, S_PAUSED,
       S_ROLLED_BACK, S_N };
static const char *const state_names[S_N] = {"pending",   "eligible", "ineligible",
                                             "delivered", "installed", "failed",
                                             "paused",    "rolled_back"};

/* Buckets of an advisory's affected cohort, as vuln.affected records name
 * them (docs/vuln.md), in the order they are decided. */
enum { VB_ISOLATED, VB_CANNOT, VB_REMEDIATING, VB_EXPOSED, VB_REMEDIATED, VB_N };
_Static_assert(VB_N == FW_REPORT_VULN_BUCKETS && VB_EXPOSED == FW_REPORT_VULN_EXPOSED,
               "the buckets of evidence.h");
static const char *const vb_names[VB_N] = {"isolated", "cannot_be_remediated",
                                           "being_remediated", "exposed", "remediated"};

const char *fw_report_vuln_bucket(int k)
{
	return k >= 0 && k < VB_N ? vb_names[k] : NULL;
}

int fw_report_cohort_line(const char *line, size_t len, struct fw_report_cohort_line *out)
{
	const char *end = line + len, *sp = memchr(line, ' ', len), *b, *sp2, *w;
	int k;

	memset(out, 0, sizeof(*out));
	if (sp == NULL)
		return -1;
	b = sp + 1;
	sp2 = memchr(b, ' ', (size_t)(end - b));
	if (sp2 == NULL)
		return -2;
	for (k = 0; k < VB_N; k++)
		if ((size_t)(sp2 - b) == strlen(vb_names[k]) &&
		    memcmp(b, vb_names[k], (size_t)(sp2 - b)) == 0)
			break;
	if (k == VB_N)
		return -2;
	out->device = line;
	out->device_len = (size_t)(sp - line);
	out->version = sp2 + 1;
	w = memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1));
	out->version_len = (size_t)((w ? w : end) - out->version);
	if (w) {
		out->why = w + 1;
		out->why_len = (size_t)(end - w - 1);
	}
	return k;
}

/* A small sample of record indexes (the first ones) and how many there were. */
struct sample {
	uint64_t idx[REPORT_SAMPLE_MAX];
	int64_t ts[REPORT_SAMPLE_MAX];
	size_t n;
	uint64_t total;
};

struct stage {
	int entered;
	int64_t devices, approvals, at_ms, ts;
	uint64_t idx;
};

struct camp {
	char id[REPORT_ID_MAX];
	char *name, *creator, *release, *rollback_release, *policy_sha256, *state;
	json_t *policy;                 /* the latest (create or edit) */
	int aggregate;                  /* its devices count in the states and timeline */
	int have_create, have_start;
	uint64_t create_idx, start_idx, end_idx, complete_idx, last_idx;
	int64_t create_ts, start_ts, start_at, end_ts, end_at, complete_ts;
	const char *end;                /* "completed", "aborted", "rolled_back" or NULL */
	json_t *end_why;                /* abort/rollback: why (copy) */
	int end_automatic;
	json_t *complete_totals;        /* campaign.complete: totals (copy) */
	int counts_checked, counts_agree;
	int64_t members, inel_start, edits, voided;
	json_t *stage_sizes;            /* campaign.start (copy) */
	int64_t counts[S_N];
	struct stage stages[REPORT_STAGES_MAX];
	uint64_t pauses, resumes;
	int have_installed;
	int64_t first_installed_ts, last_installed_ts;
	uint64_t first_installed_idx, last_installed_idx;
};

struct approval {
	int camp;
	int64_t stage, ts;
	uint64_t idx;
	char *op, *key_id, *policy_sha256;
	int voided;
};

struct pause {
	int camp;
	uint64_t idx, resume_idx;
	int64_t ts, at_ms, resume_ts;
	json_t *why;
	char *resumed_by, *resume_reason;
	int resumed;
};

struct event {
	int camp;
	const char *kind;               /* stage, pause, resume, abort, rollback, complete */
	uint64_t idx;
	int64_t ts;
	char label[REPORT_LABEL_MAX];
};

struct point {
	int64_t t;
	int64_t c[S_N];
};

struct kept {                       /* a small record kept whole (a copy) */
	uint64_t idx;
	json_t *rec;
};

struct key {
	char *key_id, *name, *role, *alg, *revoke_reason;
	uint64_t idx, revoke_idx;
	int64_t ts, revoke_ts;
	int revoked;
};

struct oper {
	char *name, *role, *key_id;
	uint64_t idx, disable_idx;
	int64_t ts;
	int disabled;
};

/* One release's eligibility decisions (by its release.add record). */
struct decider {
	uint64_t release_idx;
	uint64_t total, eligible;
	uint64_t by_code[REPORT_CODES_MAX];
	char su_min[32], su_max[32];
	uint64_t su_min_idx, su_max_idx, su_missing, su_dated;
	int64_t su_min_ts, su_max_ts;
	uint64_t first_idx;
	int64_t first_ts;
};

/* One computation of an advisory's cohort (a vuln.affected record). */
struct vpoint {
	uint64_t idx;
	int64_t at, ts, cohort, devices;
	int64_t c[VB_N];
};

/* A device isolated for an advisory (a vuln.isolate record). */
struct viso {
	char *device, *action, *reason, *version;
	uint64_t idx;
	int64_t ts;
};

/* An advisory and what the bundle records of it. */
struct advis {
	char id[REPORT_ID_MAX];
	json_t *add;                    /* its vuln.add record (copy), NULL if not in the bundle */
	json_t *why;                    /* the latest computation's exposed_why (copy) or NULL */
	uint64_t add_idx;
	struct vpoint pts[REPORT_COHORTS_MAX];
	size_t npts;
	uint64_t pts_total;
	struct viso iso[REPORT_ISOLATED_MAX];
	size_t niso;
	uint64_t isolated, by_quarantine, by_revoke;
};

/* A listed device. */
struct dev {
	int camp;
	char *device, *detail, *cause, *version, *from, *reason;
	char *campaign;                 /* a quarantine's campaign, as its record names it */
	int64_t stage, attempts, failures, ts, last_ts;
	uint64_t idx, last_idx;
	int integrity, state_now;
};
struct devlist {
	struct dev v[REPORT_LIST_MAX];
	size_t n;
	uint64_t total;
};

#define FAILED_SLOTS 128            /* hash of the failed list: > 2 * REPORT_LIST_MAX */

struct fw_report {
	char kind[16];
	char id[REPORT_ID_MAX];
	int oom;
	uint64_t records, first_idx, last_idx;
	int64_t first_ts, last_ts;
	int have_idx;
	/* record types */
	char *types[REPORT_TYPES_MAX];
	uint64_t type_n[REPORT_TYPES_MAX];
	size_t ntypes;
	uint64_t types_other;
	/* the log */
	int have_init;
	uint64_t init_idx;
	int64_t init_ts;
	char *origin, *init_vkey;
	/* registry records */
	struct kept releases[REPORT_RELEASES_MAX];
	size_t nreleases;
	struct key keys[REPORT_KEYS_MAX];
	size_t nkeys;
	struct oper ops[REPORT_OPERATORS_MAX];
	size_t nops;
	/* campaigns */
	struct camp *camps[REPORT_CAMPAIGNS_MAX];
	size_t ncamps;
	uint64_t camps_untracked;       /* records of campaigns over the cap */
	int last_camp;
	struct approval approvals[REPORT_APPROVALS_MAX];
	size_t napprovals;
	uint64_t approvals_total;
	struct pause pauses[REPORT_PAUSES_MAX];
	size_t npauses;
	uint64_t pauses_total;
	struct event events[REPORT_EVENTS_MAX];
	size_t nevents;
	uint64_t events_total;
	/* devices, over the aggregated campaigns */
	int64_t counts[S_N];
	uint64_t transitions, inconsistent;
	uint64_t decided_eligible, inel_start, inel_stage, inel_delivery;
	uint64_t by_code[REPORT_CODES_MAX]; /* ineligible rows, per reason code */
	struct sample inel_sample;
	char *codes[REPORT_CODES_MAX];
	size_t ncodes;
	uint64_t codes_other;
	struct devlist failed, rolled, quarantined;
	int16_t failed_slot[FAILED_SLOTS];
	uint64_t failed_attempts, failed_devices, timeouts, integrity;
	struct sample integrity_sample, quarantine_sample;
	uint64_t quarantined_by_rollout;
	/* timeline */
	struct point points[REPORT_POINTS_MAX];
	size_t npoints;
	int64_t t0, bucket_ms;
	/* eligibility runs and decisions */
	struct kept runs[REPORT_RUNS_MAX];
	size_t nruns;
	uint64_t runs_total;
	struct decider deciders[REPORT_DECIDERS_MAX];
	size_t ndeciders;
	uint64_t decisions_other;
	/* vulnerability handling: every vuln.* record, and per advisory */
	uint64_t vuln_records;          /* vuln.* records */
	struct advis *advs[REPORT_ADVISORIES_MAX];
	size_t nadvs;
	uint64_t advs_untracked;        /* records of advisories over the cap */
};

/* ---- small helpers ---- */

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t jint(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static char *dup_or_null(struct fw_report *r, const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		r->oom = 1;
	return p;
}

/* Replace *dst by a copy of s (kept when s is NULL). */
static void set_str(struct fw_report *r, char **dst, const char *s)
{
	char *p;

	if (s == NULL)
		return;
	p = dup_or_null(r, s);
	if (p == NULL)
		return;
	free(*dst);
	*dst = p;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

/* A JSON string of text the report composed: record text cut to a
 * length may end in part of a UTF-8 sequence, which becomes '?'. */
static json_t *text_json(const char *t)
{
	size_t n = strlen(t), i = 0, k;
	char *fixed;
	json_t *j;

	while (i < n && (k = utf8_seq((const unsigned char *)t + i, n - i)) != 0)
		i += k;
	if (i == n)
		return json_stringn(t, n);
	fixed = malloc(n + 1);
	if (fixed == NULL)
		return NULL;
	for (i = 0; i < n;) {
		k = utf8_seq((const unsigned char *)t + i, n - i);
		if (k == 0) {
			fixed[i++] = '?';
		} else {
			memcpy(fixed + i, t + i, k);
			i += k;
		}
	}
	fixed[n] = 0;
	j = json_stringn(fixed, n);
	free(fixed);
	return j;
}

static json_t *copy(struct fw_report *r, const json_t *v)
{
	json_t *c;

	if (v == NULL)
		return NULL;
	c = json_deep_copy(v);
	if (c == NULL)
		r->oom = 1;
	return c;
}

static void sample_add(struct sample *s, uint64_t idx, int64_t ts)
{
	if (s->n < REPORT_SAMPLE_MAX) {
		s->idx[s->n] = idx;
		s->ts[s->n] = ts;
		s->n++;
	}
	s->total++;
}

static int state_of(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < S_N; i++)
		if (s[0] == state_names[i][0] && strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

/* The index of a reason code in the report's table (added when new);
 * -1 when the table is full. */
static int code_of(struct fw_report *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->ncodes; i++)
		if (strcmp(r->codes[i], code) == 0)
			return (int)i;
	if (r->ncodes == REPORT_CODES_MAX)
		return -1;
	r->codes[r->ncodes] = dup_or_null(r, code);
	if (r->codes[r->ncodes] == NULL)
		return -1;
	return (int)r->ncodes++;
}

static void count_type(struct fw_report *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->ntypes; i++)
		if (strcmp(r->types[i], type) == 0) {
			r->type_n[i]++;
			return;
		}
	if (r->ntypes == REPORT_TYPES_MAX) {
		r->types_other++;
		return;
	}
	r->types[r->ntypes] = dup_or_null(r, type);
	if (r->types[r->ntypes] == NULL)
		return;
	r->type_n[r->ntypes++] = 1;
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* ---- campaigns ---- */

/* The campaign a record names, tracked from its first record (-1: not
 * one the report follows, or over the cap). */
static int camp_of(struct fw_report *r, const char *id)
{
	struct camp *c;
	size_t i;

	if (id == NULL)
		return -1;
	if (r->last_camp >= 0 && strcmp(r->camps[r->last_camp]->id, id) == 0)
		return r->last_camp;
	if (strcmp(r->kind, "campaign") == 0 && strcmp(id, r->id) != 0)
		return -1; /* a campaign's bundle is about that campaign only */
	for (i = 0; i < r->ncamps; i++)
		if (strcmp(r->camps[i]->id, id) == 0)
			return r->last_camp = (int)i;
	if (r->ncamps == REPORT_CAMPAIGNS_MAX || strlen(id) >= REPORT_ID_MAX) {
		r->camps_untracked++;
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		r->oom = 1;
		return -1;
	}
	memcpy(c->id, id, strlen(id) + 1);
	c->aggregate = 1;
	r->camps[r->ncamps] = c;
	return r->last_camp = (int)r->ncamps++;
}

/* A campaign's devices count in a release's report when it rolls that
 * release out (a campaign whose release is not known yet counts: the
 * bundle holds it because it concerns the release). */
static void camp_release(struct fw_report *r, struct camp *c, const char *release)
{
	set_str(r, &c->release, release);
	if (strcmp(r->kind, "release") == 0 && c->release != NULL)
		c->aggregate = strncmp(c->release, r->id, strlen(r->id)) == 0;
}

static void event_add(struct fw_report *r, int ci, const char *kind, uint64_t idx, int64_t ts,
                      const char *fmt, ...) FW_PRINTF(6, 7);

static void event_add(struct fw_report *r, int ci, const char *kind, uint64_t idx, int64_t ts,
                      const char *fmt, ...)
{
	struct event *e;
	va_list ap;

	r->events_total++;
	if (r->nevents == REPORT_EVENTS_MAX)
		return;
	e = &r->events[r->nevents++];
	e->camp = ci;
	e->kind = kind;
	e->idx = idx;
	e->ts = ts;
	va_start(ap, fmt);
	vsnprintf(e->label, sizeof(e->label), fmt, ap);
	va_end(ap);
}

/* ---- the timeline ---- */

static int64_t bucket(const struct fw_report *r, int64_t t)
{
	return (t - r->t0) / r->bucket_ms;
}

/* Halve the resolution: buckets twice as wide, the later point of each
 * merged pair kept (a point is the state at the end of its bucket). */
static void coarsen(struct fw_report *r)
{
	size_t i, j = 0;

	r->bucket_ms *= 2;
	for (i = 0; i < r->npoints; i++) {
		if (j > 0 && bucket(r, r->points[j - 1].t) == bucket(r, r->points[i].t))
			r->points[j - 1] = r->points[i];
		else
			r->points[j++] = r->points[i];
	}
	r->npoints = j;
}

/* The counts now, at time t (clamped so that time never runs backwards:
 * record times are claims of possibly different hosts). */
static void timeline(struct fw_report *r, int64_t t)
{
	struct point *p;

	if (r->npoints == 0) {
		r->t0 = t;
		r->bucket_ms = 1;
	} else if (t < r->points[r->npoints - 1].t) {
		t = r->points[r->npoints - 1].t;
	}
	while (r->npoints > 0 && bucket(r, t) != bucket(r, r->points[r->npoints - 1].t) &&
	       r->npoints == REPORT_POINTS_MAX)
		coarsen(r);
	if (r->npoints > 0 && bucket(r, t) == bucket(r, r->points[r->npoints - 1].t))
		p = &r->points[r->npoints - 1];
	else
		p = &r->points[r->npoints++];
	p->t = t;
	memcpy(p->c, r->counts, sizeof(p->c));
}

/* ---- device lists ---- */

static struct dev *list_add(struct fw_report *r, struct devlist *l, int ci, const json_t *rec,
                            uint64_t idx, int64_t ts)
{
	struct dev *v;

	if (l->n == REPORT_LIST_MAX)
		return NULL;
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	v->camp = ci;
	v->device = dup_or_null(r, jstr(rec, "device") ? jstr(rec, "device") : "");
	v->stage = json_is_integer(json_object_get(rec, "stage")) ? jint(rec, "stage") : -1;
	v->attempts = jint(rec, "attempts");
	v->failures = jint(rec, "failures");
	v->detail = dup_or_null(r, jstr(rec, "detail"));
	v->cause = dup_or_null(r, jstr(rec, "cause"));
	v->version = dup_or_null(r, jstr(rec, "version"));
	v->integrity = json_is_true(json_object_get(rec, "integrity_failure"));
	v->idx = v->last_idx = idx;
	v->ts = v->last_ts = ts;
	return v;
}

static struct dev *failed_find(struct fw_report *r, int ci, const char *device)
{
	uint32_t h = hash_str(device) % FAILED_SLOTS;
	size_t n;

	for (n = 0; n < FAILED_SLOTS; n++, h = (h + 1) % FAILED_SLOTS) {
		int16_t k = r->failed_slot[h];

		if (k < 0)
			return NULL;
		if (r->failed.v[k].camp == ci && strcmp(r->failed.v[k].device, device) == 0)
			return &r->failed.v[k];
	}
	return NULL;
}

static void failed_index(struct fw_report *r, size_t k)
{
	uint32_t h = hash_str(r->failed.v[k].device) % FAILED_SLOTS;

	while (r->failed_slot[h] >= 0)
		h = (h + 1) % FAILED_SLOTS;
	r->failed_slot[h] = (int16_t)k;
}

/* ---- records ---- */

static void on_rollout(struct fw_report *r, uint64_t idx, int64_t ts, const json_t *rec)
{
	int ci = camp_of(r, jstr(rec, "campaign"));
	struct camp *c;
	const char *device, *cause;
	int from, to;
	struct dev *v;

	if (ci < 0)
		return;
	c = r->camps[ci];
	c->last_idx = idx;
	from = state_of(jstr(rec, "from"));
	to = state_of(jstr(rec, "to"));
	if (to < 0 || (from < 0 && !json_is_null(json_object_get(rec, "from")))) {
		r->inconsistent++; /* not a state the engine writes */
		return;
	}
	if (from >= 0) {
		if (c->counts[from] <= 0)
			r->inconsistent++; /* a row left a state none was in */
		c->counts[from]--;
	}
	c->counts[to]++;
	if (!c->aggregate)
		return;
	r->transitions++;
	if (from >= 0)
		r->counts[from]--;
	r->counts[to]++;
	timeline(r, ts);

	device = jstr(rec, "device");
	cause = jstr(rec, "cause");
	if (device == NULL)
		device = "";
	/* a listed failed device: follow it to where it ends */
	if (r->failed.n > 0 && (v = failed_find(r, ci, device)) != NULL) {
		v->state_now = to;
		v->last_idx = idx;
		v->last_ts = ts;
		v->attempts = jint(rec, "attempts");
		v->failures = jint(rec, "failures");
		if (to == S_FAILED && jstr(rec, "detail"))
			set_str(r, &v->detail, jstr(rec, "detail"));
		if (json_is_true(json_object_get(rec, "integrity_failure")))
			v->integrity = 1;
	}
	switch (to) {
	case S_ELIGIBLE:
		if (from == S_PENDING)
			r->decided_eligible++;
		break;
	case S_INELIGIBLE: {
		const json_t *reasons = json_object_get(rec, "reasons"), *code;
		size_t i;

		if (cause && strcmp(cause, "start") == 0)
			r->inel_start++;
		else if (cause && strcmp(cause, "delivery") == 0)
			r->inel_delivery++;
		else
			r->inel_stage++;
		sample_add(&r->inel_sample, idx, ts);
		json_array_foreach(reasons, i, code) {
			int k = json_is_string(code) ? code_of(r, json_string_value(code)) : -1;

			if (k >= 0)
				r->by_code[k]++;
			else
				r->codes_other++;
		}
		break;
	}
	case S_INSTALLED:
		if (!c->have_installed) {
			c->have_installed = 1;
			c->first_installed_idx = idx;
			c->first_installed_ts = ts;
		}
		c->last_installed_idx = idx;
		c->last_installed_ts = ts;
		break;
	case S_FAILED: {
		int integrity = json_is_true(json_object_get(rec, "integrity_failure"));
		json_int_t failures = jint(rec, "failures");

		r->failed_attempts++;
		if (failures <= 1)
			r->failed_devices++; /* its first failed attempt in the campaign */
		if (cause && strcmp(cause, "timeout") == 0)
			r->timeouts++;
		if (integrity) {
			r->integrity++;
			sample_add(&r->integrity_sample, idx, ts);
		}
		if (failed_find(r, ci, device) == NULL && r->failed.n < REPORT_LIST_MAX) {
			v = list_add(r, &r->failed, ci, rec, idx, ts);
			if (v != NULL && v->device != NULL) {
				v->state_now = S_FAILED;
				failed_index(r, r->failed.n - 1);
			}
		}
		break;
	}
	case S_ROLLED_BACK:
		r->rolled.total++;
		v = list_add(r, &r->rolled, ci, rec, idx, ts);
		if (v)
			v->state_now = S_ROLLED_BACK;
		if (json_is_true(json_object_get(rec, "integrity_failure"))) {
			r->integrity++;
			sample_add(&r->integrity_sample, idx, ts);
		}
		break;
	default:
		break;
	}
}

static void on_lifecycle(struct fw_report *r, uint64_t idx, int64_t ts, const json_t *rec)
{
	const char *to = jstr(rec, "to"), *campaign = jstr(rec, "campaign");
	struct dev *v;
	int ci = -1;

	if (to == NULL || strcmp(to, "quarantined") != 0)
		return;
	if (campaign != NULL) {
		size_t i;

		for (i = 0; i < r->ncamps; i++)
			if (strcmp(r->camps[i]->id, campaign) == 0)
				ci = (int)i;
		if (ci >= 0)
			r->quarantined_by_rollout++;
	}
	sample_add(&r->quarantine_sample, idx, ts);
	r->quarantined.total++;
	v = list_add(r, &r->quarantined, ci, rec, idx, ts);
	if (v) {
		v->from = dup_or_null(r, jstr(rec, "from"));
		v->reason = dup_or_null(r, jstr(rec, "reason"));
		v->campaign = dup_or_null(r, campaign);
	}
}

static void on_campaign(struct fw_report *r, const char *type, uint64_t idx, int64_t ts,
                        const json_t *rec)
{
	const char *what = type + 9; /* after "campaign." */
	int ci = camp_of(r, jstr(rec, "campaign"));
	struct camp *c;
	int64_t at = json_is_integer(json_object_get(rec, "at_ms")) ? jint(rec, "at_ms") : ts;
	size_t i;

	if (ci < 0)
		return;
	c = r->camps[ci];
	c->last_idx = idx;
	if (jstr(rec, "state"))
		set_str(r, &c->state, jstr(rec, "state"));
	if (jstr(rec, "policy_sha256"))
		set_str(r, &c->policy_sha256, jstr(rec, "policy_sha256"));
	if (strcmp(what, "create") == 0 || strcmp(what, "edit") == 0) {
		const json_t *pol = json_object_get(rec, "policy");

		if (json_is_object(pol)) {
			json_decref(c->policy);
			c->policy = copy(r, pol);
			set_str(r, &c->name, jstr(pol, "name"));
			camp_release(r, c, jstr(pol, "release"));
			set_str(r, &c->rollback_release,
			        jstr(json_object_get(pol, "rollback"), "release"));
		}
		if (what[0] == 'c') {
			c->have_create = 1;
			c->create_idx = idx;
			c->create_ts = ts;
			set_str(r, &c->creator, jstr(rec, "creator"));
		} else {
			c->edits++;
			/* an edit voids every approval given so far */
			for (i = 0; i < r->napprovals; i++)
				if (r->approvals[i].camp == ci && !r->approvals[i].voided) {
					r->approvals[i].voided = 1;
					c->voided++;
				}
		}
	} else if (strcmp(what, "approve") == 0) {
		struct approval *a;

		r->approvals_total++;
		if (r->napprovals == REPORT_APPROVALS_MAX)
			return;
		a = &r->approvals[r->napprovals++];
		memset(a, 0, sizeof(*a));
		a->camp = ci;
		a->stage = jint(rec, "stage");
		a->ts = ts;
		a->idx = idx;
		a->op = dup_or_null(r, jstr(rec, "operator"));
		a->key_id = dup_or_null(r, jstr(rec, "key_id"));
		a->policy_sha256 = dup_or_null(r, jstr(rec, "policy_sha256"));
	} else if (strcmp(what, "start") == 0) {
		int64_t pending;

		c->have_start = 1;
		c->start_idx = idx;
		c->start_ts = ts;
		c->start_at = at;
		c->members = jint(rec, "members");
		c->inel_start = jint(rec, "ineligible");
		json_decref(c->stage_sizes);
		c->stage_sizes = copy(r, json_object_get(rec, "stage_sizes"));
		camp_release(r, c, jstr(rec, "release"));
		/* the eligible members are pending without a record of their own */
		pending = c->members - c->inel_start;
		if (pending < 0)
			pending = 0;
		c->counts[S_PENDING] += pending;
		if (c->aggregate) {
			r->counts[S_PENDING] += pending;
			timeline(r, ts);
		}
	} else if (strcmp(what, "stage") == 0) {
		int64_t k = jint(rec, "stage");

		if (k >= 0 && k < REPORT_STAGES_MAX) {
			struct stage *s = &c->stages[k];

			s->entered = 1;
			s->devices = jint(rec, "devices");
			s->approvals = jint(rec, "approvals");
			s->at_ms = at;
			s->ts = ts;
			s->idx = idx;
		}
		event_add(r, ci, "stage", idx, ts, "stage %" PRId64 " %s: %" PRId64 " devices", k,
		          jstr(rec, "name") ? jstr(rec, "name") : "?", jint(rec, "devices"));
	} else if (strcmp(what, "pause") == 0) {
		const json_t *why = json_object_get(rec, "why");
		const char *cause = jstr(why, "cause");
		struct pause *p;

		c->pauses++;
		r->pauses_total++;
		event_add(r, ci, "pause", idx, ts, "pause: %s", cause ? cause : "?");
		if (r->npauses == REPORT_PAUSES_MAX)
			return;
		p = &r->pauses[r->npauses++];
		memset(p, 0, sizeof(*p));
		p->camp = ci;
		p->idx = idx;
		p->ts = ts;
		p->at_ms = json_is_integer(json_object_get(why, "at_ms")) ? jint(why, "at_ms") : at;
		p->why = copy(r, why);
	} else if (strcmp(what, "resume") == 0) {
		c->resumes++;
		event_add(r, ci, "resume", idx, ts, "resume%s%s", jstr(rec, "by") ? " by " : "",
		          jstr(rec, "by") ? jstr(rec, "by") : "");
		/* it ends the campaign's latest pause that is still open */
		for (i = r->npauses; i-- > 0;)
			if (r->pauses[i].camp == ci) {
				struct pause *p = &r->pauses[i];

				if (!p->resumed) {
					p->resumed = 1;
					p->resume_idx = idx;
					p->resume_ts = ts;
					p->resumed_by = dup_or_null(r, jstr(rec, "by"));
					p->resume_reason = dup_or_null(r, jstr(rec, "reason"));
				}
				break;
			}
	} else if (strcmp(what, "abort") == 0 || strcmp(what, "rollback") == 0) {
		const json_t *why = json_object_get(rec, "why");
		const char *cause = jstr(why, "cause");

		c->end = what[0] == 'a' ? "aborted" : "rolled_back";
		c->end_idx = idx;
		c->end_ts = ts;
		c->end_at = at;
		c->end_automatic = json_is_true(json_object_get(rec, "automatic"));
		json_decref(c->end_why);
		c->end_why = copy(r, why);
		event_add(r, ci, what[0] == 'a' ? "abort" : "rollback", idx, ts, "%s: %s%s%s",
		          what[0] == 'a' ? "abort" : "rollback", cause ? cause : "?",
		          jstr(why, "by") ? " by " : "", jstr(why, "by") ? jstr(why, "by") : "");
	} else if (strcmp(what, "complete") == 0) {
		const json_t *counts = json_object_get(rec, "counts"), *st;
		int64_t sum[S_N] = {0};
		int k;

		c->end = "completed";
		c->end_idx = c->complete_idx = idx;
		c->end_ts = c->complete_ts = ts;
		c->end_at = at;
		json_decref(c->complete_totals);
		c->complete_totals = copy(r, json_object_get(rec, "totals"));
		/* the engine's own counts, per stage and state, against the
		 * states derived from the device records */
		if (json_is_array(counts)) {
			json_array_foreach(counts, i, st)
				for (k = 0; k < S_N; k++)
					sum[k] += jint(st, state_names[k]);
			c->counts_checked = 1;
			c->counts_agree = 1;
			/* members ineligible at the start have no stage: not in these */
			sum[S_INELIGIBLE] += c->inel_start;
			for (k = 0; k < S_N; k++)
				if (sum[k] != c->counts[k])
					c->counts_agree = 0;
		}
		event_add(r, ci, "complete", idx, ts, "complete");
	}
}

static void on_release(struct fw_report *r, uint64_t idx, const json_t *rec)
{
	if (r->nreleases == REPORT_RELEASES_MAX)
		return;
	r->releases[r->nreleases].idx = idx;
	r->releases[r->nreleases].rec = copy(r, rec);
	if (r->releases[r->nreleases].rec)
		r->nreleases++;
}

static void on_key(struct fw_report *r, int trust, uint64_t idx, int64_t ts, const json_t *rec)
{
	const char *id = jstr(rec, "key_id");
	struct key *k = NULL;
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i].key_id, id) == 0)
			k = &r->keys[i];
	if (k == NULL) {
		if (r->nkeys == REPORT_KEYS_MAX)
			return;
		k = &r->keys[r->nkeys];
		memset(k, 0, sizeof(*k));
		k->key_id = dup_or_null(r, id);
		if (k->key_id == NULL)
			return;
		r->nkeys++;
	}
	set_str(r, &k->name, jstr(rec, "name"));
	if (trust) {
		set_str(r, &k->role, jstr(rec, "role"));
		set_str(r, &k->alg, jstr(rec, "alg"));
		k->idx = idx;
		k->ts = ts;
		k->revoked = 0;
	} else {
		k->revoked = 1;
		k->revoke_idx = idx;
		k->revoke_ts = ts;
		set_str(r, &k->revoke_reason, jstr(rec, "reason"));
	}
}

static void on_operator(struct fw_report *r, int add, uint64_t idx, int64_t ts, const json_t *rec)
{
	const char *name = jstr(rec, "name");
	struct oper *o = NULL;
	size_t i;

	if (name == NULL)
		return;
	for (i = 0; i < r->nops; i++)
		if (strcmp(r->ops[i].name, name) == 0)
			o = &r->ops[i];
	if (o == NULL) {
		if (!add || r->nops == REPORT_OPERATORS_MAX)
			return;
		o = &r->ops[r->nops];
		memset(o, 0, sizeof(*o));
		o->name = dup_or_null(r, name);
		if (o->name == NULL)
			return;
		r->nops++;
	}
	if (add) {
		set_str(r, &o->role, jstr(rec, "role"));
		set_str(r, &o->key_id, jstr(rec, "key_id"));
		o->idx = idx;
		o->ts = ts;
		o->disabled = 0;
	} else {
		o->disabled = 1;
		o->disable_idx = idx;
	}
}

static struct decider *decider_of(struct fw_report *r, uint64_t release_idx)
{
	size_t i;

	for (i = 0; i < r->ndeciders; i++)
		if (r->deciders[i].release_idx == release_idx)
			return &r->deciders[i];
	if (r->ndeciders == REPORT_DECIDERS_MAX)
		return NULL;
	memset(&r->deciders[r->ndeciders], 0, sizeof(r->deciders[0]));
	r->deciders[r->ndeciders].release_idx = release_idx;
	return &r->deciders[r->ndeciders++];
}

static void on_decision(struct fw_report *r, uint64_t idx, int64_t ts, const json_t *rec)
{
	/* the first reference names the release (its release.add record) */
	const json_t *ref = json_array_get(json_object_get(rec, "refs"), 0), *code;
	const char *su = jstr(json_object_get(rec, "inputs"), "support_until");
	struct decider *dc = json_is_integer(json_object_get(ref, "idx"))
	                         ? decider_of(r, (uint64_t)jint(ref, "idx"))
	                         : NULL;
	size_t i;

	if (dc == NULL) {
		r->decisions_other++;
		return;
	}
	if (dc->total == 0) {
		dc->first_idx = idx;
		dc->first_ts = ts;
	}
	dc->total++;
	if (json_is_true(json_object_get(rec, "eligible")))
		dc->eligible++;
	json_array_foreach(json_object_get(rec, "reasons"), i, code) {
		int k = json_is_string(code) ? code_of(r, json_string_value(code)) : -1;

		if (k >= 0)
			dc->by_code[k]++;
	}
	/* support periods: ISO dates compare as text */
	if (su == NULL || su[0] == 0 || strlen(su) >= sizeof(dc->su_min)) {
		dc->su_missing++;
		return;
	}
	if (dc->su_dated == 0 || strcmp(su, dc->su_min) < 0) {
		memcpy(dc->su_min, su, strlen(su) + 1);
		dc->su_min_idx = idx;
		dc->su_min_ts = ts;
	}
	if (dc->su_dated == 0 || strcmp(su, dc->su_max) > 0) {
		memcpy(dc->su_max, su, strlen(su) + 1);
		dc->su_max_idx = idx;
		dc->su_max_ts = ts;
	}
	dc->su_dated++;
}

/* ---- vulnerability handling (vuln.* records) ---- */

static struct advis *advis_of(struct fw_report *r, const char *id)
{
	struct advis *a;
	size_t i;

	if (id == NULL || strlen(id) >= REPORT_ID_MAX)
		return NULL;
	for (i = 0; i < r->nadvs; i++)
		if (strcmp(r->advs[i]->id, id) == 0)
			return r->advs[i];
	if (r->nadvs == REPORT_ADVISORIES_MAX)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		r->oom = 1;
		return NULL;
	}
	memcpy(a->id, id, strlen(id) + 1);
	r->advs[r->nadvs++] = a;
	return a;
}

/* A run of the cohort; when REPORT_COHORTS_MAX are kept, every other one is
 * dropped (the first and the newest stay), so a long history keeps its
 * shape in bounded memory. */
static void on_cohort(struct advis *a, uint64_t idx, int64_t ts, const json_t *rec)
{
	const json_t *counts = json_object_get(rec, "counts");
	struct vpoint *p;
	size_t i;

	if (a->npts == REPORT_COHORTS_MAX) {
		for (i = 1; i < REPORT_COHORTS_MAX / 2; i++)
			a->pts[i] = a->pts[2 * i];
		a->npts = REPORT_COHORTS_MAX / 2;
	}
	p = &a->pts[a->npts++];
	memset(p, 0, sizeof(*p));
	p->idx = idx;
	p->ts = ts;
	p->at = jint(rec, "at");
	if (p->at < 0 || p->at > REPORT_TS_MAX / 1000)
		p->at = 0;
	p->cohort = jint(rec, "cohort");
	p->devices = jint(rec, "devices");
	for (i = 0; i < VB_N; i++)
		p->c[i] = jint(counts, vb_names[i]);
	a->pts_total++;
}

/* why the exposed devices of the latest computation are (a small object) */
static void on_cohort_why(struct fw_report *r, struct advis *a, const json_t *rec)
{
	const json_t *why = json_object_get(rec, "exposed_why");

	json_decref(a->why);
	a->why = json_is_object(why) ? copy(r, why) : NULL;
}

static void on_isolate(struct fw_report *r, struct advis *a, uint64_t idx, int64_t ts,
                       const json_t *rec)
{
	const char *action = jstr(rec, "action");

	a->isolated++;
	if (action && strcmp(action, "revoke") == 0)
		a->by_revoke++;
	else if (action && strcmp(action, "quarantine") == 0)
		a->by_quarantine++;
	if (a->niso < REPORT_ISOLATED_MAX) {
		struct viso *v = &a->iso[a->niso++];

		v->device = dup_or_null(r, jstr(rec, "device"));
		v->action = dup_or_null(r, action);
		v->reason = dup_or_null(r, jstr(rec, "reason"));
		v->version = dup_or_null(r, jstr(rec, "fw_version"));
		v->idx = idx;
		v->ts = ts;
	}
}

static void on_vuln(struct fw_report *r, const char *type, uint64_t idx, int64_t ts,
                    const json_t *rec)
{
	struct advis *a;

	r->vuln_records++;
	a = advis_of(r, jstr(rec, "advisory"));
	if (a == NULL) {
		r->advs_untracked++;
		return;
	}
	if (strcmp(type, "vuln.add") == 0 && a->add == NULL) {
		a->add = copy(r, rec);
		a->add_idx = idx;
	} else if (strcmp(type, "vuln.affected") == 0) {
		on_cohort(a, idx, ts, rec);
		on_cohort_why(r, a, rec);
	} else if (strcmp(type, "vuln.isolate") == 0) {
		on_isolate(r, a, idx, ts, rec);
	}
}

struct fw_report *fw_report_new(const char *kind, const char *id)
{
	struct fw_report *r;

	if (kind == NULL || id == NULL || strlen(kind) >= sizeof(r->kind) ||
	    strlen(id) >= sizeof(r->id))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	memcpy(r->kind, kind, strlen(kind) + 1);
	memcpy(r->id, id, strlen(id) + 1);
	r->last_camp = -1;
	memset(r->failed_slot, 0xff, sizeof(r->failed_slot));
	return r;
}

static void devlist_clear(struct devlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].device);
		free(l->v[i].detail);
		free(l->v[i].cause);
		free(l->v[i].version);
		free(l->v[i].from);
		free(l->v[i].reason);
		free(l->v[i].campaign);
	}
}

void fw_report_free(struct fw_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ntypes; i++)
		free(r->types[i]);
	for (i = 0; i < r->ncodes; i++)
		free(r->codes[i]);
	free(r->origin);
	free(r->init_vkey);
	for (i = 0; i < r->nreleases; i++)
		json_decref(r->releases[i].rec);
	for (i = 0; i < r->nruns; i++)
		json_decref(r->runs[i].rec);
	for (i = 0; i < r->nkeys; i++) {
		free(r->keys[i].key_id);
		free(r->keys[i].name);
		free(r->keys[i].role);
		free(r->keys[i].alg);
		free(r->keys[i].revoke_reason);
	}
	for (i = 0; i < r->nops; i++) {
		free(r->ops[i].name);
		free(r->ops[i].role);
		free(r->ops[i].key_id);
	}
	for (i = 0; i < r->ncamps; i++) {
		struct camp *c = r->camps[i];

		free(c->name);
		free(c->creator);
		free(c->release);
		free(c->rollback_release);
		free(c->policy_sha256);
		free(c->state);
		json_decref(c->policy);
		json_decref(c->end_why);
		json_decref(c->complete_totals);
		json_decref(c->stage_sizes);
		free(c);
	}
	for (i = 0; i < r->napprovals; i++) {
		free(r->approvals[i].op);
		free(r->approvals[i].key_id);
		free(r->approvals[i].policy_sha256);
	}
	for (i = 0; i < r->npauses; i++) {
		json_decref(r->pauses[i].why);
		free(r->pauses[i].resumed_by);
		free(r->pauses[i].resume_reason);
	}
	devlist_clear(&r->failed);
	devlist_clear(&r->rolled);
	devlist_clear(&r->quarantined);
	for (i = 0; i < r->nadvs; i++) {
		struct advis *a = r->advs[i];

		json_decref(a->add);
		json_decref(a->why);
		for (size_t k = 0; k < a->niso; k++) {
			free(a->iso[k].device);
			free(a->iso[k].action);
			free(a->iso[k].reason);
			free(a->iso[k].version);
		}
		free(a);
	}
	free(r);
}

int fw_report_add(struct fw_report *r, uint64_t idx, const json_t *record, struct fw_diag *d)
{
	const char *type;
	int64_t ts;

	if (r == NULL || record == NULL)
		return fw_diag_set(d, FW_E_ARG, "report: no record");
	if (r->have_idx && idx <= r->last_idx)
		return fw_diag_set(d, FW_E_ARG,
		                   "report: record %" PRIu64 " after record %" PRIu64
		                   ": records come in index order",
		                   idx, r->last_idx);
	type = jstr(record, "type");
	if (!json_is_object(record) || type == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "record %" PRIu64 ": no type", idx);
	/* record times are claims: kept within what canonical JSON holds, so
	 * that differences of times cannot overflow */
	ts = jint(record, "ts");
	if (ts < 0)
		ts = 0;
	if (ts > REPORT_TS_MAX)
		ts = REPORT_TS_MAX;
	if (!r->have_idx) {
		r->first_idx = idx;
		r->first_ts = ts;
		r->have_idx = 1;
	}
	r->last_idx = idx;
	if (ts > r->last_ts)
		r->last_ts = ts;
	if (ts < r->first_ts)
		r->first_ts = ts;
	r->records++;
	count_type(r, type);

	/* the device records first: they are nearly all of a large bundle */
	if (strcmp(type, "rollout.device") == 0)
		on_rollout(r, idx, ts, record);
	else if (strncmp(type, "campaign.", 9) == 0)
		on_campaign(r, type, idx, ts, record);
	else if (strcmp(type, "eligibility.decision") == 0)
		on_decision(r, idx, ts, record);
	else if (strcmp(type, "device.lifecycle") == 0)
		on_lifecycle(r, idx, ts, record);
	else if (strcmp(type, "eligibility.summary") == 0) {
		r->runs_total++;
		if (r->nruns < REPORT_RUNS_MAX) {
			r->runs[r->nruns].idx = idx;
			r->runs[r->nruns].rec = copy(r, record);
			if (r->runs[r->nruns].rec)
				r->nruns++;
		}
	} else if (strcmp(type, "release.add") == 0)
		on_release(r, idx, record);
	else if (strcmp(type, "key.trust") == 0 || strcmp(type, "key.revoke") == 0)
		on_key(r, type[4] == 't', idx, ts, record);
	else if (strcmp(type, "operator.add") == 0 || strcmp(type, "operator.disable") == 0)
		on_operator(r, type[9] == 'a', idx, ts, record);
	else if (strcmp(type, "log.init") == 0 && !r->have_init) {
		r->have_init = 1;
		r->init_idx = idx;
		r->init_ts = ts;
		set_str(r, &r->origin, jstr(record, "origin"));
		set_str(r, &r->init_vkey, jstr(record, "log_vkey"));
	} else if (strncmp(type, "vuln.", 5) == 0)
		on_vuln(r, type, idx, ts, record);
	if (r->oom)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	return FW_OK;
}

/* ---- the summary ---- */

/* A record the summary cites: its index, type and time, for the
 * appendix of the report (every link there leads to one). */
struct link {
	uint64_t idx;
	const char *type;
	int64_t ts;
	const char *subject;            /* what it is about (a device, a name), or NULL */
};

struct sum {
	struct fw_report *r;
	struct link *links;
	size_t nlinks, cap;
	int bad;                        /* out of memory somewhere */
	struct camp *focus;             /* a campaign's bundle: that campaign */
	const json_t *release, *rollback;
	uint64_t release_idx, rollback_idx;
	int64_t release_ts;
	const char *release_id;
	const struct key *signer;
	const struct decider *dec;
};

static void put(struct sum *s, json_t *o, const char *k, json_t *v)
{
	if (v == NULL || o == NULL || json_object_set_new(o, k, v) != 0)
		s->bad = 1;
}

static void push(struct sum *s, json_t *a, json_t *v)
{
	if (v == NULL || a == NULL || json_array_append_new(a, v) != 0)
		s->bad = 1;
}

static json_t *str_or_null(const char *v)
{
	return v ? json_string(v) : json_null();
}

static json_t *int_or_null(int have, int64_t v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

/* The index of a cited record (registered for the appendix); subject
 * must live as long as the report. */
static json_t *ref_about(struct sum *s, uint64_t idx, const char *type, int64_t ts,
                         const char *subject)
{
	struct link *n;

	n = fw_grow(s->links, &s->cap, s->nlinks + 1, sizeof(*n));
	if (n == NULL) {
		s->bad = 1;
	} else {
		s->links = n;
		s->links[s->nlinks++] = (struct link){idx, type, ts, subject};
	}
	return json_integer((json_int_t)idx);
}

static json_t *ref(struct sum *s, uint64_t idx, const char *type, int64_t ts)
{
	return ref_about(s, idx, type, ts, NULL);
}

static void fmt_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%" PRId64 " ms", ms);
}

static void fmt_dur(int64_t ms, char out[32])
{
	int64_t s = ms / 1000;

	if (ms < 0)
		ms = 0;
	if (s < 60)
		snprintf(out, 32, "%" PRId64 ".%01" PRId64 " s", s, ms % 1000 / 100);
	else if (s < 3600)
		snprintf(out, 32, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, 32, "%" PRId64 " h %" PRId64 " min", s / 3600, s % 3600 / 60);
	else
		snprintf(out, 32, "%" PRId64 " d %" PRId64 " h", s / 86400, s % 86400 / 3600);
}

static const char *or_q(const char *v)
{
	return v ? v : "?";
}

/* {names[k]: c[k]} for k < n: a count per state (state_names, S_N) or per
 * cohort bucket (vb_names, VB_N) */
static json_t *counts_json(const char *const *names, int n, const int64_t *c)
{
	json_t *o = json_object();
	int k;

	for (k = 0; o && k < n; k++)
		if (json_object_set_new(o, names[k], json_integer((json_int_t)c[k])) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *key_json(struct sum *s, const struct key *k)
{
	json_t *o = json_object();

	put(s, o, "name", str_or_null(k->name));
	put(s, o, "key_id", json_string(k->key_id));
	put(s, o, "role", str_or_null(k->role));
	put(s, o, "alg", str_or_null(k->alg));
	put(s, o, "state", json_string(k->revoked ? "revoked" : "trusted"));
	put(s, o, "trusted_ms", int_or_null(k->idx || k->ts, k->ts));
	put(s, o, "record",
	    k->idx || k->ts ? ref_about(s, k->idx, "key.trust", k->ts, k->name) : json_null());
	put(s, o, "revoked_ms", int_or_null(k->revoked, k->revoke_ts));
	put(s, o, "revoke_record",
	    k->revoked ? ref_about(s, k->revoke_idx, "key.revoke", k->revoke_ts, k->name)
	               : json_null());
	put(s, o, "revoke_reason", str_or_null(k->revoked ? k->revoke_reason : NULL));
	return o;
}

static const struct key *key_find(const struct fw_report *r, const char *key_id)
{
	size_t i;

	for (i = 0; key_id && i < r->nkeys; i++)
		if (strcmp(r->keys[i].key_id, key_id) == 0)
			return &r->keys[i];
	return NULL;
}

static const struct oper *oper_find(const struct fw_report *r, const char *name)
{
	size_t i;

	for (i = 0; name && i < r->nops; i++)
		if (strcmp(r->ops[i].name, name) == 0)
			return &r->ops[i];
	return NULL;
}

/* A release from its release.add record (or only its id when the
 * bundle does not hold the record). */
static json_t *release_json(struct sum *s, const char *id, const json_t *rec, uint64_t idx)
{
	static const char *const strs[] = {"product",         "family",       "version",
	                                   "vendor_id",       "class_id",     "envelope_sha256",
	                                   "image_sha256",    "signer_key_id", "signer_name",
	                                   "upgrade_from",    "actor"};
	static const char *const ints[] = {"sequence", "envelope_size", "image_size"};
	const struct key *k;
	json_t *o = json_object();
	size_t i;

	if (rec == NULL) {
		put(s, o, "release_id", str_or_null(id));
		put(s, o, "recorded", json_false());
		return o;
	}
	put(s, o, "release_id", str_or_null(jstr(rec, "release_id")));
	put(s, o, "recorded", json_true());
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put(s, o, strs[i], str_or_null(jstr(rec, strs[i])));
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		put(s, o, ints[i],
		    json_is_integer(json_object_get(rec, ints[i])) ? json_integer(jint(rec, ints[i]))
		                                                   : json_null());
	put(s, o, "hw_revisions",
	    json_is_array(json_object_get(rec, "hw_revisions"))
	        ? json_deep_copy(json_object_get(rec, "hw_revisions"))
	        : json_array());
	put(s, o, "added_ms", json_integer(jint(rec, "ts")));
	put(s, o, "record", ref_about(s, idx, "release.add", jint(rec, "ts"), jstr(rec, "version")));
	k = key_find(s->r, jstr(rec, "signer_key_id"));
	put(s, o, "signer", k ? key_json(s, k) : json_null());
	return o;
}

static int release_is(const json_t *rec, const char *id, int prefix)
{
	const char *rid = jstr(rec, "release_id");

	if (rid == NULL || id == NULL)
		return 0;
	return prefix ? strncmp(rid, id, strlen(id)) == 0 : strcmp(rid, id) == 0;
}

/* Does a campaign remediate the advisory, as the bundle follows it: its
 * policy's "remediates" or its release's "fixes" (the release.add record
 * in the bundle) names it? */
static int camp_remediates(const struct fw_report *r, const struct camp *c, const char *id)
{
	size_t i;

	if (fw_json_has_string(json_object_get(c->policy, "remediates"), id))
		return 1;
	for (i = 0; i < r->nreleases; i++)
		if (release_is(r->releases[i].rec, c->release, 0))
			return fw_json_has_string(json_object_get(r->releases[i].rec, "fixes"), id);
	return 0;
}

/* Which release the report is about, and its rollback release. */
static void pick_releases(struct sum *s)
{
	struct fw_report *r = s->r;
	const char *rb = NULL;
	size_t i;

	if (s->focus) {
		s->release_id = s->focus->release;
		rb = s->focus->rollback_release;
	} else if (strcmp(r->kind, "advisory") == 0) {
		/* the release of the first campaign that remediates the advisory */
		for (i = 0; i < r->ncamps && s->release_id == NULL; i++)
			if (camp_remediates(r, r->camps[i], r->id)) {
				s->release_id = r->camps[i]->release;
				rb = r->camps[i]->rollback_release;
			}
	} else if (strcmp(r->kind, "release") == 0) {
		s->release_id = r->id;
		for (i = 0; i < r->ncamps && rb == NULL; i++)
			if (r->camps[i]->aggregate)
				rb = r->camps[i]->rollback_release;
	}
	for (i = 0; i < r->nreleases; i++) {
		const json_t *rec = r->releases[i].rec;

		if (s->release == NULL && release_is(rec, s->release_id, s->focus == NULL)) {
			s->release = rec;
			s->release_idx = r->releases[i].idx;
			s->release_ts = jint(rec, "ts");
			s->release_id = jstr(rec, "release_id");
		} else if (s->rollback == NULL && release_is(rec, rb, 0)) {
			s->rollback = rec;
			s->rollback_idx = r->releases[i].idx;
		}
	}
	if (s->release) {
		s->signer = key_find(r, jstr(s->release, "signer_key_id"));
		for (i = 0; i < r->ndeciders; i++)
			if (r->deciders[i].release_idx == s->release_idx)
				s->dec = &r->deciders[i];
	}
}

static json_t *stages_json(struct sum *s, const struct camp *c)
{
	const json_t *ps = json_object_get(c->policy, "stages"), *p;
	json_t *a = json_array();
	size_t n = json_array_size(ps), k;

	if (n > REPORT_STAGES_MAX)
		n = REPORT_STAGES_MAX;
	for (k = 0; k < n || (k < REPORT_STAGES_MAX && c->stages[k].entered); k++) {
		const struct stage *st = &c->stages[k];
		json_t *o = json_object();

		p = json_array_get(ps, k);
		put(s, o, "index", json_integer((json_int_t)k));
		put(s, o, "name", str_or_null(jstr(p, "name")));
		put(s, o, "size", json_object_get(p, "size") ? json_deep_copy(json_object_get(p, "size"))
		                                             : json_null());
		put(s, o, "approvals_required",
		    int_or_null(json_is_integer(json_object_get(p, "approvals")), jint(p, "approvals")));
		put(s, o, "soak_s", int_or_null(json_is_integer(json_object_get(p, "soak_s")),
		                                jint(p, "soak_s")));
		put(s, o, "planned",
		    int_or_null(json_is_integer(json_array_get(c->stage_sizes, k)),
		                (int64_t)json_integer_value(json_array_get(c->stage_sizes, k))));
		put(s, o, "entered", json_boolean(st->entered));
		put(s, o, "devices", int_or_null(st->entered, st->devices));
		put(s, o, "approvals_given", int_or_null(st->entered, st->approvals));
		put(s, o, "entered_ms", int_or_null(st->entered, st->at_ms));
		put(s, o, "ts", int_or_null(st->entered, st->ts));
		put(s, o, "record", st->entered ? ref(s, st->idx, "campaign.stage", st->ts) : json_null());
		push(s, a, o);
	}
	return a;
}

static json_t *pauses_json(struct sum *s, int ci)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->r->npauses; i++) {
		const struct pause *p = &s->r->pauses[i];
		json_t *o;

		if (p->camp != ci)
			continue;
		o = json_object();
		put(s, o, "cause", str_or_null(jstr(p->why, "cause")));
		put(s, o, "why", p->why ? json_deep_copy(p->why) : json_null());
		put(s, o, "by", str_or_null(jstr(p->why, "by")));
		put(s, o, "at_ms", json_integer(p->at_ms));
		put(s, o, "ts", json_integer(p->ts));
		put(s, o, "record", ref(s, p->idx, "campaign.pause", p->ts));
		put(s, o, "resumed_ms", int_or_null(p->resumed, p->resume_ts));
		put(s, o, "resumed_by", str_or_null(p->resumed_by));
		put(s, o, "resume_reason", str_or_null(p->resume_reason));
		put(s, o, "resume_record",
		    p->resumed ? ref(s, p->resume_idx, "campaign.resume", p->resume_ts) : json_null());
		push(s, a, o);
	}
	return a;
}

/* Four eyes: every approval that counts is by an approver who is not the
 * creator, and no approver approved a stage twice. */
static int four_eyes(const struct fw_report *r, int ci, const struct camp *c, size_t *n)
{
	size_t i, j;
	int ok = 1;

	*n = 0;
	for (i = 0; i < r->napprovals; i++) {
		const struct approval *a = &r->approvals[i];

		if (a->camp != ci || a->voided)
			continue;
		(*n)++;
		if (a->op == NULL || (c->creator && strcmp(a->op, c->creator) == 0))
			ok = 0;
		for (j = 0; j < i; j++)
			if (r->approvals[j].camp == ci && !r->approvals[j].voided &&
			    r->approvals[j].stage == a->stage && r->approvals[j].op && a->op &&
			    strcmp(r->approvals[j].op, a->op) == 0)
				ok = 0;
	}
	return ok;
}

static json_t *campaign_json(struct sum *s, int ci)
{
	const struct camp *c = s->r->camps[ci];
	const struct oper *cr = oper_find(s->r, c->creator);
	json_t *o = json_object(), *end = json_null(), *done = json_null();
	size_t napp;
	int fe = four_eyes(s->r, ci, c, &napp);

	put(s, o, "id", json_string(c->id));
	put(s, o, "name", str_or_null(c->name));
	put(s, o, "state", str_or_null(c->state));
	put(s, o, "release", str_or_null(c->release));
	put(s, o, "rollback_release", str_or_null(c->rollback_release));
	put(s, o, "counted", json_boolean(c->aggregate));
	put(s, o, "creator", str_or_null(c->creator));
	put(s, o, "creator_role", str_or_null(cr ? cr->role : NULL));
	put(s, o, "creator_record",
	    cr ? ref_about(s, cr->idx, "operator.add", cr->ts, cr->name) : json_null());
	put(s, o, "policy_sha256", str_or_null(c->policy_sha256));
	put(s, o, "policy", c->policy ? json_deep_copy(c->policy) : json_null());
	put(s, o, "edits", json_integer(c->edits));
	put(s, o, "approvals", json_integer((json_int_t)napp));
	put(s, o, "approvals_voided", json_integer(c->voided));
	put(s, o, "four_eyes", json_boolean(fe));
	put(s, o, "created_ms", int_or_null(c->have_create, c->create_ts));
	put(s, o, "create_record",
	    c->have_create ? ref(s, c->create_idx, "campaign.create", c->create_ts) : json_null());
	put(s, o, "started_ms", int_or_null(c->have_start, c->start_at));
	put(s, o, "start_record",
	    c->have_start ? ref(s, c->start_idx, "campaign.start", c->start_ts) : json_null());
	put(s, o, "ended_ms", int_or_null(c->end != NULL, c->end_at));
	put(s, o, "members", int_or_null(c->have_start, c->members));
	put(s, o, "ineligible_at_start", int_or_null(c->have_start, c->inel_start));
	put(s, o, "counts", counts_json(state_names, S_N, c->counts));
	put(s, o, "stages", stages_json(s, c));
	put(s, o, "pauses", pauses_json(s, ci));
	put(s, o, "pauses_total", json_integer((json_int_t)c->pauses));
	put(s, o, "resumes", json_integer((json_int_t)c->resumes));
	if (c->end && strcmp(c->end, "completed") != 0) {
		end = json_object();
		put(s, end, "kind", json_string(c->end[0] == 'a' ? "abort" : "rollback"));
		put(s, end, "cause", str_or_null(jstr(c->end_why, "cause")));
		put(s, end, "why", c->end_why ? json_deep_copy(c->end_why) : json_null());
		put(s, end, "automatic", json_boolean(c->end_automatic));
		put(s, end, "at_ms", json_integer(c->end_at));
		put(s, end, "record",
		    ref(s, c->end_idx, c->end[0] == 'a' ? "campaign.abort" : "campaign.rollback",
		        c->end_ts));
	}
	put(s, o, "abort", end);
	if (c->complete_idx || c->complete_ts) {
		done = json_object();
		put(s, done, "at_ms", json_integer(c->end_at));
		put(s, done, "record", ref(s, c->complete_idx, "campaign.complete", c->complete_ts));
		put(s, done, "totals",
		    c->complete_totals ? json_deep_copy(c->complete_totals) : json_null());
		put(s, done, "counts_agree", c->counts_checked ? json_boolean(c->counts_agree)
		                                               : json_null());
	}
	put(s, o, "complete", done);
	put(s, o, "first_installed_ms", int_or_null(c->have_installed, c->first_installed_ts));
	put(s, o, "last_installed_ms", int_or_null(c->have_installed, c->last_installed_ts));
	return o;
}

static json_t *approvals_json(struct sum *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->r->napprovals; i++) {
		const struct approval *ap = &s->r->approvals[i];
		const struct oper *op = oper_find(s->r, ap->op);
		json_t *o = json_object();

		put(s, o, "campaign", json_string(s->r->camps[ap->camp]->id));
		put(s, o, "stage", json_integer(ap->stage));
		put(s, o, "operator", str_or_null(ap->op));
		put(s, o, "role", str_or_null(op ? op->role : NULL));
		put(s, o, "operator_record",
		    op ? ref_about(s, op->idx, "operator.add", op->ts, op->name) : json_null());
		put(s, o, "key_id", str_or_null(ap->key_id));
		put(s, o, "policy_sha256", str_or_null(ap->policy_sha256));
		put(s, o, "voided", json_boolean(ap->voided));
		put(s, o, "ts", json_integer(ap->ts));
		put(s, o, "record", ref_about(s, ap->idx, "campaign.approve", ap->ts, ap->op));
		push(s, a, o);
	}
	return a;
}

/* Reason codes with their counts, most frequent first. */
static json_t *by_reason_json(struct sum *s, const uint64_t *by)
{
	size_t order[REPORT_CODES_MAX], n = 0, i, j;
	json_t *a = json_array();

	for (i = 0; i < s->r->ncodes; i++)
		if (by[i])
			order[n++] = i;
	for (i = 1; i < n; i++) {
		size_t t = order[i];

		for (j = i; j > 0 && (by[order[j - 1]] < by[t] ||
		                      (by[order[j - 1]] == by[t] &&
		                       strcmp(s->r->codes[order[j - 1]], s->r->codes[t]) > 0));
		     j--)
			order[j] = order[j - 1];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		push(s, a, json_pack("{ss sI}", "code", s->r->codes[order[i]], "devices",
		                     (json_int_t)by[order[i]]));
	return a;
}

static json_t *sample_json(struct sum *s, const struct sample *sm, const char *type)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sm->n; i++)
		push(s, a, ref(s, sm->idx[i], type, sm->ts[i]));
	return a;
}

static json_t *eligibility_json(struct sum *s)
{
	struct fw_report *r = s->r;
	json_t *o = json_object(), *runs = json_array(), *dec = json_null();
	int64_t members = 0;
	size_t i;

	for (i = 0; i < r->ncamps; i++)
		if (r->camps[i]->aggregate)
			members += r->camps[i]->members;
	put(s, o, "members", json_integer(members));
	put(s, o, "eligible", json_integer((json_int_t)(r->decided_eligible - r->inel_delivery)));
	put(s, o, "ineligible", json_integer(r->counts[S_INELIGIBLE]));
	put(s, o, "ineligible_at_start", json_integer((json_int_t)r->inel_start));
	put(s, o, "ineligible_at_stage", json_integer((json_int_t)r->inel_stage));
	put(s, o, "stopped_at_delivery", json_integer((json_int_t)r->inel_delivery));
	put(s, o, "undecided", json_integer(r->counts[S_PENDING]));
	put(s, o, "by_reason", by_reason_json(s, r->by_code));
	put(s, o, "reasons_uncounted", json_integer((json_int_t)r->codes_other));
	put(s, o, "records", sample_json(s, &r->inel_sample, "rollout.device"));
	/* the runs of the release (eligibility.summary records) */
	for (i = 0; i < r->nruns; i++) {
		const json_t *rec = r->runs[i].rec;
		json_t *run;

		/* runs for other releases (the rollback release's) are not this one's */
		if (s->release_id &&
		    (jstr(rec, "release") == NULL || strcmp(jstr(rec, "release"), s->release_id) != 0))
			continue;
		run = json_object();
		put(s, run, "run", json_integer(jint(rec, "run")));
		put(s, run, "release", str_or_null(jstr(rec, "release")));
		put(s, run, "devices", json_integer(jint(rec, "devices")));
		put(s, run, "eligible", json_integer(jint(rec, "eligible")));
		put(s, run, "ineligible", json_integer(jint(rec, "ineligible")));
		put(s, run, "by_reason", json_is_array(json_object_get(rec, "by_reason"))
		                             ? json_deep_copy(json_object_get(rec, "by_reason"))
		                             : json_array());
		put(s, run, "target", json_object_get(rec, "target")
		                          ? json_deep_copy(json_object_get(rec, "target"))
		                          : json_null());
		put(s, run, "ts", json_integer(jint(rec, "ts")));
		put(s, run, "record", ref(s, r->runs[i].idx, "eligibility.summary", jint(rec, "ts")));
		push(s, runs, run);
	}
	put(s, o, "runs", runs);
	put(s, o, "runs_total", json_integer((json_int_t)r->runs_total));
	if (s->dec) {
		const struct decider *dc = s->dec;
		json_t *su = json_object();

		dec = json_object();
		put(s, dec, "total", json_integer((json_int_t)dc->total));
		put(s, dec, "eligible", json_integer((json_int_t)dc->eligible));
		put(s, dec, "ineligible", json_integer((json_int_t)(dc->total - dc->eligible)));
		put(s, dec, "by_reason", by_reason_json(s, dc->by_code));
		put(s, dec, "first_record", ref(s, dc->first_idx, "eligibility.decision", dc->first_ts));
		put(s, su, "min", dc->su_dated ? json_string(dc->su_min) : json_null());
		put(s, su, "max", dc->su_dated ? json_string(dc->su_max) : json_null());
		put(s, su, "dated", json_integer((json_int_t)dc->su_dated));
		put(s, su, "missing", json_integer((json_int_t)dc->su_missing));
		put(s, su, "min_record",
		    dc->su_dated ? ref(s, dc->su_min_idx, "eligibility.decision", dc->su_min_ts)
		                 : json_null());
		put(s, su, "max_record",
		    dc->su_dated ? ref(s, dc->su_max_idx, "eligibility.decision", dc->su_max_ts)
		                 : json_null());
		put(s, dec, "support_until", su);
	}
	put(s, o, "decisions", dec);
	return o;
}

static json_t *device_json(struct sum *s, const struct dev *v, const char *type, int failed)
{
	json_t *o = json_object();

	put(s, o, "campaign",
	    v->camp >= 0 ? json_string(s->r->camps[v->camp]->id) : str_or_null(v->campaign));
	put(s, o, "device", str_or_null(v->device));
	if (strcmp(type, "device.lifecycle") == 0) {
		put(s, o, "from", str_or_null(v->from));
		put(s, o, "reason", str_or_null(v->reason));
	} else {
		put(s, o, "stage", v->stage >= 0 ? json_integer(v->stage) : json_null());
		put(s, o, "attempts", json_integer(v->attempts));
		put(s, o, "failures", json_integer(v->failures));
		put(s, o, "cause", str_or_null(v->cause));
		put(s, o, "detail", str_or_null(v->detail));
		put(s, o, "integrity_failure", json_boolean(v->integrity));
		if (failed) {
			put(s, o, "state_now", json_string(state_names[v->state_now]));
			put(s, o, "last_record", ref_about(s, v->last_idx, type, v->last_ts, v->device));
		} else {
			put(s, o, "version", str_or_null(v->version));
		}
	}
	put(s, o, "ts", json_integer(v->ts));
	put(s, o, "record", ref_about(s, v->idx, type, v->ts, v->device));
	return o;
}

static json_t *list_json(struct sum *s, const struct devlist *l, const char *type, int failed)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		push(s, a, device_json(s, &l->v[i], type, failed));
	return a;
}

static json_t *devices_json(struct sum *s, int which)
{
	struct fw_report *r = s->r;
	json_t *o = json_object();

	if (which == 0) {
		put(s, o, "devices", json_integer((json_int_t)r->failed_devices));
		put(s, o, "now", json_integer(r->counts[S_FAILED]));
		put(s, o, "attempts", json_integer((json_int_t)r->failed_attempts));
		put(s, o, "timeouts", json_integer((json_int_t)r->timeouts));
		put(s, o, "integrity_failures", json_integer((json_int_t)r->integrity));
		put(s, o, "list", list_json(s, &r->failed, "rollout.device", 1));
	} else if (which == 1) {
		put(s, o, "total", json_integer((json_int_t)r->rolled.total));
		put(s, o, "list", list_json(s, &r->rolled, "rollout.device", 0));
	} else {
		put(s, o, "total", json_integer((json_int_t)r->quarantined.total));
		put(s, o, "by_rollout", json_integer((json_int_t)r->quarantined_by_rollout));
		put(s, o, "list", list_json(s, &r->quarantined, "device.lifecycle", 0));
	}
	put(s, o, "list_max", json_integer(REPORT_LIST_MAX));
	return o;
}

static json_t *timeline_json(struct sum *s)
{
	struct fw_report *r = s->r;
	json_t *o = json_object(), *pts = json_array(), *evs = json_array();
	size_t i;

	for (i = 0; i < r->npoints; i++)
		push(s, pts, json_pack("{sI so}", "t_ms", (json_int_t)r->points[i].t, "counts",
		                       counts_json(state_names, S_N, r->points[i].c)));
	for (i = 0; i < r->nevents; i++) {
		const struct event *e = &r->events[i];

		push(s, evs,
		     json_pack("{sI ss so ss so}", "t_ms", (json_int_t)e->ts, "kind", e->kind, "label",
		               text_json(e->label), "campaign", r->camps[e->camp]->id, "record",
		               ref(s, e->idx,
		                   /* the types are those of the campaign records */
		                   strcmp(e->kind, "stage") == 0      ? "campaign.stage"
		                   : strcmp(e->kind, "pause") == 0    ? "campaign.pause"
		                   : strcmp(e->kind, "resume") == 0   ? "campaign.resume"
		                   : strcmp(e->kind, "abort") == 0    ? "campaign.abort"
		                   : strcmp(e->kind, "rollback") == 0 ? "campaign.rollback"
		                                                      : "campaign.complete",
		                   e->ts)));
	}
	put(s, o, "bucket_ms", json_integer(r->npoints ? r->bucket_ms : 0));
	put(s, o, "points", pts);
	put(s, o, "events", evs);
	put(s, o, "events_total", json_integer((json_int_t)r->events_total));
	return o;
}

/* ---- vulnerability handling ---- */

static json_t *vpoint_json(struct sum *s, const struct vpoint *p)
{
	json_t *o = json_object();

	put(s, o, "at", json_integer(p->at));
	put(s, o, "t_ms", json_integer(p->at * 1000));
	put(s, o, "devices", json_integer(p->devices));
	put(s, o, "cohort", json_integer(p->cohort));
	put(s, o, "counts", counts_json(vb_names, VB_N, p->c));
	put(s, o, "record", ref(s, p->idx, "vuln.affected", p->ts));
	return o;
}

/* The latest computation's exposed_why, as the summary keeps it: its
 * counts and reasons checked for type (records are untrusted), or null. */
static json_t *why_json(struct sum *s, const json_t *why)
{
	json_t *o, *in;
	const json_t *e;
	size_t i;

	if (!json_is_object(why))
		return json_null();
	o = json_object();
	in = json_array();
	put(s, o, "fixing_releases", json_integer(jint(why, "fixing_releases")));
	put(s, o, "eligible", json_integer(jint(why, "eligible")));
	put(s, o, "no_fixing_release", json_integer(jint(why, "no_fixing_release")));
	json_array_foreach(json_object_get(why, "ineligible"), i, e) {
		if (i == 32) /* the reason codes there are */
			break;
		push(s, in, json_pack("{so sI}", "code", str_or_null(jstr(e, "code")), "devices",
		                      (json_int_t)jint(e, "devices")));
	}
	put(s, o, "ineligible", in);
	return o;
}


static json_t *advisory_json(struct sum *s, const struct advis *a)
{
	static const char *const strs[] = {"title",    "severity", "cvss",    "product",
	                                   "family",   "affected", "fixed_in", "source"};
	struct fw_report *r = s->r;
	json_t *o = json_object(), *series = json_array(), *iso = json_object(), *list = json_array(),
	       *camps = json_array();
	size_t i;

	put(s, o, "advisory", json_string(a->id));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put(s, o, strs[i], str_or_null(a->add ? jstr(a->add, strs[i]) : NULL));
	put(s, o, "cves",
	    a->add && json_is_array(json_object_get(a->add, "cves"))
	        ? json_deep_copy(json_object_get(a->add, "cves"))
	        : json_array());
	put(s, o, "record",
	    a->add ? ref_about(s, a->add_idx, "vuln.add", jint(a->add, "ts"), a->id) : json_null());
	for (i = 0; i < a->npts; i++)
		push(s, series, vpoint_json(s, &a->pts[i]));
	put(s, o, "cohorts", json_integer((json_int_t)a->pts_total));
	put(s, o, "series", series);
	put(s, o, "latest", a->npts ? vpoint_json(s, &a->pts[a->npts - 1]) : json_null());
	put(s, o, "exposed_why", why_json(s, a->why));
	for (i = 0; i < r->ncamps; i++)
		if (camp_remediates(r, r->camps[i], a->id))
			push(s, camps, json_string(r->camps[i]->id));
	put(s, o, "campaigns", camps);
	put(s, iso, "total", json_integer((json_int_t)a->isolated));
	put(s, iso, "quarantine", json_integer((json_int_t)a->by_quarantine));
	put(s, iso, "revoke", json_integer((json_int_t)a->by_revoke));
	for (i = 0; i < a->niso; i++) {
		const struct viso *v = &a->iso[i];

		push(s, list,
		     json_pack("{so so so so so}", "device", str_or_null(v->device), "action",
		               str_or_null(v->action), "reason", text_json(v->reason ? v->reason : ""),
		               "fw_version", str_or_null(v->version), "record",
		               ref_about(s, v->idx, "vuln.isolate", v->ts, v->device)));
	}
	put(s, iso, "list", list);
	put(s, o, "isolated", iso);
	return o;
}

static json_t *vulnerabilities_json(struct sum *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->r->nadvs; i++)
		push(s, a, advisory_json(s, s->r->advs[i]));
	return a;
}

/* ---- the CRA rows ---- */

struct row {
	json_t *records;
	FILE *f;
	char *text;
	size_t len;
};

static int idx_cmp(const void *a, const void *b);

/* An array of record indexes in order, each once (consumes a). */
static json_t *sorted_unique(struct sum *s, json_t *a)
{
	size_t n = json_array_size(a), i, m = 0;
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL, *out = json_array();

	if ((n && v == NULL) || out == NULL) {
		s->bad = 1;
		free(v);
		json_decref(a);
		return out;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(a, i);
	if (n > 1)
		qsort(v, n, sizeof(*v), idx_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || json_integer_value(v[i]) != json_integer_value(v[m - 1])) {
			v[m++] = v[i];
			push(s, out, json_integer(json_integer_value(v[i])));
		}
	free(v);
	json_decref(a);
	return out;
}

static void row_begin(struct row *w)
{
	w->records = json_array();
	w->text = NULL;
	w->f = open_memstream(&w->text, &w->len);
}

static void row_end(struct sum *s, json_t *cra, struct row *w, const char *id, const char *title,
                    const char *requirement, const char *status)
{
	json_t *o = json_object();

	if (w->f == NULL || fclose(w->f) != 0) {
		s->bad = 1;
		w->text = NULL;
	}
	put(s, o, "id", json_string(id));
	put(s, o, "title", json_string(title));
	put(s, o, "requirement", json_string(requirement));
	put(s, o, "control", w->text ? text_json(w->text) : NULL);
	put(s, o, "status", json_string(status));
	put(s, o, "records", sorted_unique(s, w->records));
	push(s, cra, o);
	free(w->text);
}

static void cite(struct sum *s, struct row *w, uint64_t idx, const char *type, int64_t ts)
{
	push(s, w->records, ref(s, idx, type, ts));
}

static void cite_sample(struct sum *s, struct row *w, const struct sample *sm, const char *type)
{
	size_t i;

	for (i = 0; i < sm->n; i++)
		cite(s, w, sm->idx[i], type, sm->ts[i]);
}

static uint64_t installed_now(const struct fw_report *r)
{
	return (uint64_t)(r->counts[S_INSTALLED] > 0 ? r->counts[S_INSTALLED] : 0);
}

static void row_authenticity(struct sum *s, json_t *cra)
{
	const json_t *rel = s->release;
	struct row w;
	const char *status = "recorded";
	char t[32];

	row_begin(&w);
	if (rel == NULL) {
		fprintf(w.f, "The release's release.add record is not in the bundle: its signature and "
		             "digests are not recorded here.");
		status = "not_recorded";
	} else {
		fmt_time(s->release_ts, t);
		fprintf(w.f,
		        "Release %s (%s/%s, sequence %" PRId64 ") was added at %s as a signed SUIT "
		        "envelope (SHA-256 %.16s…, %" PRId64 " bytes) over an image of %" PRId64
		        " bytes (SHA-256 %.16s…), signed by key \"%s\" (key id %.16s…).",
		        or_q(jstr(rel, "version")), or_q(jstr(rel, "product")), or_q(jstr(rel, "family")),
		        jint(rel, "sequence"), t, or_q(jstr(rel, "envelope_sha256")),
		        jint(rel, "envelope_size"), jint(rel, "image_size"),
		        or_q(jstr(rel, "image_sha256")), or_q(jstr(rel, "signer_name")),
		        or_q(jstr(rel, "signer_key_id")));
		cite(s, &w, s->release_idx, "release.add", s->release_ts);
		if (s->signer) {
			fmt_time(s->signer->ts, t);
			fprintf(w.f, " The key was trusted for the role %s (%s) at %s",
			        or_q(s->signer->role), or_q(s->signer->alg), t);
			cite(s, &w, s->signer->idx, "key.trust", s->signer->ts);
			if (s->signer->revoked) {
				fmt_time(s->signer->revoke_ts, t);
				fprintf(w.f, " and REVOKED at %s (%s): devices are not offered releases it "
				             "signs after that.",
				        t, or_q(s->signer->revoke_reason));
				cite(s, &w, s->signer->revoke_idx, "key.revoke", s->signer->revoke_ts);
			} else {
				fprintf(w.f, " and is not revoked in the bundle.");
			}
		} else {
			fprintf(w.f, " The signing key's key.trust record is not in the bundle.");
			status = "partial";
		}
		fprintf(w.f, " %" PRIu64 " device(s) report it installed (the version running after "
		             "reboot); %" PRIu64 " integrity failure(s) reported by devices.",
		        installed_now(s->r), s->r->integrity);
	}
	row_end(s, cra, &w, "authenticity", "Firmware authenticity and secure distribution",
	        "Annex I Part I (2)(f): \"protect the integrity of stored, transmitted or otherwise "
	        "processed data, … commands, programs and configuration against any manipulation or "
	        "modification not authorised by the user\"; Annex I Part II (7): \"provide for "
	        "mechanisms to securely distribute updates\".",
	        status);
}

static void row_eligibility(struct sum *s, json_t *cra, const json_t *elig)
{
	struct fw_report *r = s->r;
	const json_t *by = json_object_get(elig, "by_reason"), *e;
	struct row w;
	const char *status = "recorded";
	size_t i, nc = 0;

	row_begin(&w);
	for (i = 0; i < r->ncamps; i++)
		if (r->camps[i]->aggregate && r->camps[i]->have_start) {
			nc++;
			cite(s, &w, r->camps[i]->start_idx, "campaign.start", r->camps[i]->start_ts);
		}
	if (nc > 0) {
		fprintf(w.f,
		        "Every member was checked (identity certificate, lifecycle, target, version range, "
		        "support period) when the campaign started and again when its stage was "
		        "entered and at each delivery: %" PRId64 " member(s); %" PRId64
		        " eligible, %" PRId64 " ineligible (%" PRIu64 " at the start, %" PRIu64
		        " at their stage's entry, %" PRIu64 " stopped at delivery), %" PRId64
		        " not decided yet (stage not entered).",
		        jint(elig, "members"), jint(elig, "eligible"), jint(elig, "ineligible"),
		        r->inel_start, r->inel_stage, r->inel_delivery, jint(elig, "undecided"));
		if (json_array_size(by) > 0) {
			fprintf(w.f, " By reason:");
			json_array_foreach(by, i, e)
				fprintf(w.f, "%s %s %" PRId64, i ? "," : "", or_q(jstr(e, "code")),
				        jint(e, "devices"));
			fprintf(w.f, ".");
		}
		cite_sample(s, &w, &r->inel_sample, "rollout.device");
	}
	e = json_object_get(elig, "runs");
	if (json_array_size(e) > 0) {
		const json_t *last = json_array_get(e, json_array_size(e) - 1);

		fprintf(w.f, "%s%zu eligibility run(s) recorded for the release; the latest (run %" PRId64
		             "): %" PRId64 " devices, %" PRId64 " eligible, %" PRId64 " ineligible.",
		        nc ? " " : "", json_array_size(e), jint(last, "run"), jint(last, "devices"),
		        jint(last, "eligible"), jint(last, "ineligible"));
		json_array_foreach(e, i, last)
			if (i < REPORT_SAMPLE_MAX)
				cite(s, &w, (uint64_t)jint(last, "record"), "eligibility.summary",
				     jint(last, "ts"));
	} else if (nc == 0) {
		fprintf(w.f, "No eligibility decision is recorded in the bundle: not recorded.");
		status = "not_recorded";
	}
	row_end(s, cra, &w, "eligibility", "Device eligibility",
	        "Annex I Part II (7): updates distributed securely, to the products they are for; "
	        "Annex I Part I (2)(d): \"protection from unauthorised access by appropriate control "
	        "mechanisms, including … authentication, identity\".",
	        status);
}

static void size_text(FILE *f, const json_t *size)
{
	if (json_is_integer(json_object_get(size, "percent")))
		fprintf(f, "%" PRId64 "%%", jint(size, "percent"));
	else if (json_is_integer(json_object_get(size, "count")))
		fprintf(f, "%" PRId64 " devices", jint(size, "count"));
	else if (jstr(size, "cohort"))
		fprintf(f, "cohort %s", jstr(size, "cohort"));
	else
		fprintf(f, "?");
}

static void policy_text(FILE *f, const json_t *pol)
{
	const json_t *st, *pause = json_object_get(pol, "pause"), *rb = json_object_get(pol, "rollback");
	const json_t *fr = json_object_get(pause, "failure_rate");
	size_t i;

	fprintf(f, "%zu stage(s):", json_array_size(json_object_get(pol, "stages")));
	json_array_foreach(json_object_get(pol, "stages"), i, st) {
		fprintf(f, "%s %s (", i ? "," : "", or_q(jstr(st, "name")));
		size_text(f, json_object_get(st, "size"));
		fprintf(f, ", %" PRId64 " approval(s), soak %" PRId64 " s)", jint(st, "approvals"),
		        jint(st, "soak_s"));
	}
	fprintf(f, "; the next stage starts when %" PRId64 "%% of a stage's devices report the "
	           "release installed",
	        jint(pol, "success_threshold"));
	fprintf(f, "; it pauses at any integrity failure, when %" PRId64 "%% of at least %" PRId64
	           " reports fail",
	        jint(fr, "percent"), jint(fr, "min_reports"));
	if (json_is_integer(json_object_get(pause, "max_failures")))
		fprintf(f, ", at %" PRId64 " failures", jint(pause, "max_failures"));
	fprintf(f, "; up to %" PRId64 " attempt(s) per device, %" PRId64 " s apart; a device that "
	           "does not report within %" PRId64 " s has failed; quarantine after %" PRId64
	           " failed attempt(s) or any integrity failure",
	        jint(json_object_get(pol, "retry"), "max_attempts"),
	        jint(json_object_get(pol, "retry"), "backoff_s"), jint(pol, "report_timeout_s"),
	        jint(json_object_get(pol, "quarantine"), "after_failed_attempts"));
	if (json_is_object(rb))
		fprintf(f, "; rollback to release %.16s… (%s)", or_q(jstr(rb, "release")),
		        json_is_true(json_object_get(rb, "automatic")) ? "automatic on a pause condition"
		                                                       : "by an operator");
	else
		fprintf(f, "; no rollback release");
	fprintf(f, ".");
}

static void row_updates(struct sum *s, json_t *cra)
{
	struct fw_report *r = s->r;
	struct row w;
	const char *status = "recorded";
	size_t i, j, n = 0;
	char t[32];

	row_begin(&w);
	for (i = 0; i < r->ncamps; i++) {
		const struct camp *c = r->camps[i];
		size_t napp, entered = 0, nst = json_array_size(json_object_get(c->policy, "stages"));
		int fe = four_eyes(r, (int)i, c, &napp);

		if (!c->aggregate)
			continue;
		n++;
		fprintf(w.f, "%sCampaign %s \"%s\" (policy SHA-256 %.16s…): ", n > 1 ? " " : "", c->id,
		        or_q(c->name), or_q(c->policy_sha256));
		if (c->policy)
			policy_text(w.f, c->policy);
		if (c->have_create)
			cite(s, &w, c->create_idx, "campaign.create", c->create_ts);
		fprintf(w.f, " Created by %s; %zu approval(s) count", or_q(c->creator), napp);
		if (napp > 0) {
			size_t m = 0;

			fprintf(w.f, " (");
			for (j = 0; j < r->napprovals; j++)
				if (r->approvals[j].camp == (int)i && !r->approvals[j].voided) {
					fprintf(w.f, "%s%s for stage %" PRId64, m++ ? ", " : "",
					        or_q(r->approvals[j].op), r->approvals[j].stage);
					cite(s, &w, r->approvals[j].idx, "campaign.approve", r->approvals[j].ts);
				}
			fprintf(w.f, ")");
		}
		fprintf(w.f, "%s.", fe ? ": distinct approvers, none of them the creator"
		                       : ": NOT four eyes (an approver is the creator or approved twice)");
		if (c->have_start) {
			fmt_time(c->start_at, t);
			fprintf(w.f, " Started %s", t);
			cite(s, &w, c->start_idx, "campaign.start", c->start_ts);
			for (j = 0; j < REPORT_STAGES_MAX; j++)
				if (c->stages[j].entered) {
					entered++;
					cite(s, &w, c->stages[j].idx, "campaign.stage", c->stages[j].ts);
				}
			fprintf(w.f, "; %zu of %zu stage(s) entered", entered, nst);
			if (c->pauses)
				fprintf(w.f, "; paused %" PRIu64 " time(s), resumed %" PRIu64 " time(s)",
				        c->pauses, c->resumes);
			for (j = 0; j < r->npauses; j++)
				if (r->pauses[j].camp == (int)i) {
					cite(s, &w, r->pauses[j].idx, "campaign.pause", r->pauses[j].ts);
					if (r->pauses[j].resumed)
						cite(s, &w, r->pauses[j].resume_idx, "campaign.resume",
						     r->pauses[j].resume_ts);
				}
			if (c->end) {
				fmt_time(c->end_at, t);
				fprintf(w.f, "; %s %s", c->end, t);
				cite(s, &w, c->end_idx,
				     strcmp(c->end, "completed") == 0 ? "campaign.complete"
				     : c->end[0] == 'a'               ? "campaign.abort"
				                                      : "campaign.rollback",
				     c->end_ts);
			} else {
				fprintf(w.f, "; now %s", or_q(c->state));
			}
			fprintf(w.f, ".");
		} else {
			fprintf(w.f, " Not started (%s).", or_q(c->state));
		}
	}
	if (n == 0) {
		fprintf(w.f, "No campaign of this release is in the bundle: staged rollout, pause "
		             "conditions, retries and rollback are not recorded.");
		status = "not_recorded";
	}
	row_end(s, cra, &w, "automatic_updates", "Security updates: staged, postponable, reversible",
	        "Annex I Part I (2)(c): \"ensure that vulnerabilities can be addressed through "
	        "security updates, including, where applicable, through automatic security updates "
	        "… and the option to temporarily postpone them\".",
	        status);
}

static void row_vulnerability(struct sum *s, json_t *cra)
{
	struct fw_report *r = s->r;
	const json_t *rel = s->release;
	struct row w;
	size_t i, older = 0;
	char t[32], t2[32], dur[32];

	row_begin(&w);
	if (rel) {
		fmt_time(s->release_ts, t);
		fprintf(w.f, "Release %s carries sequence %" PRId64 " (the order of releases)",
		        or_q(jstr(rel, "version")), jint(rel, "sequence"));
		cite(s, &w, s->release_idx, "release.add", s->release_ts);
		for (i = 0; i < r->nreleases; i++) {
			const json_t *o = r->releases[i].rec;

			if (o == rel || jint(o, "sequence") >= jint(rel, "sequence") ||
			    strcmp(or_q(jstr(o, "product")), or_q(jstr(rel, "product"))) != 0)
				continue;
			fprintf(w.f, "%s%s (sequence %" PRId64 ")", older ? ", " : "; it supersedes ",
			        or_q(jstr(o, "version")), jint(o, "sequence"));
			cite(s, &w, r->releases[i].idx, "release.add", jint(o, "ts"));
			older++;
		}
		if (jstr(rel, "upgrade_from"))
			fprintf(w.f, "; devices upgrade to it from %s", jstr(rel, "upgrade_from"));
		fprintf(w.f, ". It was recorded at %s.", t);
		for (i = 0; i < r->ncamps; i++) {
			const struct camp *c = r->camps[i];

			if (!c->aggregate || !c->have_start)
				continue;
			fmt_dur(c->start_ts - s->release_ts, dur);
			fprintf(w.f, " Campaign %s started %s after it", c->id, dur);
			if (c->have_installed) {
				fmt_time(c->first_installed_ts, t);
				fmt_time(c->last_installed_ts, t2);
				fprintf(w.f, "; first device installed it at %s, the latest at %s", t, t2);
			}
			fprintf(w.f, ".");
		}
		fprintf(w.f, " %" PRIu64 " device(s) run it.", installed_now(r));
	} else {
		fprintf(w.f, "The release's release.add record is not in the bundle.");
	}
	if (rel && json_is_array(json_object_get(rel, "fixes")) &&
	    json_array_size(json_object_get(rel, "fixes")) > 0) {
		const json_t *v;

		fprintf(w.f, " The release declares that it fixes");
		json_array_foreach(json_object_get(rel, "fixes"), i, v)
			fprintf(w.f, "%s %s", i ? "," : "", or_q(json_string_value(v)));
		fprintf(w.f, ".");
	}
	if (rel && json_is_object(json_object_get(rel, "sbom"))) {
		const json_t *b = json_object_get(rel, "sbom");

		fprintf(w.f, " Its components are documented by a %s %s SBOM of %" PRId64
		             " component(s) (sha256 %.16s…, kept in the bundle).",
		        or_q(jstr(b, "format")), or_q(jstr(b, "spec_version")), jint(b, "components"),
		        or_q(jstr(b, "sha256")));
	}
	for (i = 0; i < r->nadvs; i++) {
		const struct advis *a = r->advs[i];
		const json_t *add = a->add;

		fprintf(w.f, " Advisory %s", a->id);
		if (add) {
			fprintf(w.f, " (%s, \"%s\") affects %s", or_q(jstr(add, "severity")),
			        or_q(jstr(add, "title")), or_q(jstr(add, "product")));
			if (jstr(add, "family"))
				fprintf(w.f, "/%s", jstr(add, "family"));
			fprintf(w.f, " %s", or_q(jstr(add, "affected")));
			if (jstr(add, "fixed_in"))
				fprintf(w.f, ", fixed in %s", jstr(add, "fixed_in"));
			cite(s, &w, a->add_idx, "vuln.add", jint(add, "ts"));
		} else {
			fprintf(w.f, " (its vuln.add record is not in the bundle)");
		}
		fprintf(w.f, ".");
		if (a->npts > 0) {
			const struct vpoint *f = &a->pts[0], *l = &a->pts[a->npts - 1];

			fmt_time(f->at * 1000, t);
			fmt_time(l->at * 1000, t2);
			fprintf(w.f, " Its affected cohort was computed %" PRIu64 " time(s): at %s, %" PRId64
			             " device(s), %" PRId64 " exposed",
			        a->pts_total, t, f->cohort, f->c[VB_EXPOSED]);
			cite(s, &w, f->idx, "vuln.affected", f->ts);
			if (a->npts > 1) {
				fprintf(w.f, "; at %s, %" PRId64 " device(s): %" PRId64 " exposed, %" PRId64
				             " being remediated, %" PRId64 " remediated, %" PRId64
				             " cannot be remediated, %" PRId64 " isolated",
				        t2, l->cohort, l->c[VB_EXPOSED], l->c[VB_REMEDIATING],
				        l->c[VB_REMEDIATED], l->c[VB_CANNOT], l->c[VB_ISOLATED]);
				cite(s, &w, l->idx, "vuln.affected", l->ts);
			}
			fprintf(w.f, ".");
			if (json_is_object(a->why) && l->c[VB_EXPOSED] > 0) {
				const json_t *e;
				size_t k, n = 0;

				fprintf(w.f, " Of the exposed devices, %" PRId64 " could receive a fixing "
				             "release but no campaign reaches them, %" PRId64 " have no "
				             "fixing release for their product and family",
				        jint(a->why, "eligible"), jint(a->why, "no_fixing_release"));
				json_array_foreach(json_object_get(a->why, "ineligible"), k, e) {
					fprintf(w.f, "%s%s %" PRId64, n++ ? ", " : "; ineligible for it: ",
					        or_q(jstr(e, "code")), jint(e, "devices"));
					if (n == 32)
						break;
				}
				fprintf(w.f, ".");
			}
		} else {
			fprintf(w.f, " No computation of its affected cohort is in the bundle.");
		}
		if (a->isolated > 0) {
			fprintf(w.f, " %" PRIu64 " device(s) that cannot be updated were isolated for it "
			             "(%" PRIu64 " quarantined, %" PRIu64 " identity revoked).",
			        a->isolated, a->by_quarantine, a->by_revoke);
			for (size_t k = 0; k < a->niso && k < REPORT_SAMPLE_MAX; k++)
				cite(s, &w, a->iso[k].idx, "vuln.isolate", a->iso[k].ts);
		}
		for (size_t k = 0; k < r->ncamps; k++)
			if (camp_remediates(r, r->camps[k], a->id))
				fprintf(w.f, " Campaign %s names it as remediated.", r->camps[k]->id);
	}
	if (r->nadvs == 0)
		fprintf(w.f, " Which vulnerabilities the release fixes: not recorded (no advisory "
		             "(vuln.add) or affected-cohort (vuln.affected) record is in the bundle).");
	if (r->advs_untracked > 0)
		fprintf(w.f, " %" PRIu64 " record(s) of advisories beyond the first %d are counted, "
		             "not detailed.",
		        r->advs_untracked, REPORT_ADVISORIES_MAX);
	row_end(s, cra, &w, "vulnerability_handling", "Vulnerability handling",
	        "Annex I Part II (1): \"identify and document vulnerabilities and components\"; (2): "
	        "\"address and remediate vulnerabilities without delay, including by providing "
	        "security updates\"; (8): security updates \"disseminated without delay … "
	        "accompanied by advisory messages\".",
	        r->nadvs > 0 && (rel || strcmp(r->kind, "advisory") == 0) ? "recorded"
	        : rel                                                     ? "partial"
	                                                                  : "not_recorded");
}

static void row_integrity(struct sum *s, json_t *cra, const struct fw_checkpoint *anchor)
{
	struct fw_report *r = s->r;
	struct row w;
	size_t i;
	char root[48];

	row_begin(&w);
	fprintf(w.f, "Every record in this report is a leaf of the append-only Merkle evidence "
	             "log%s%s%s",
	        r->origin ? " \"" : "", r->origin ? r->origin : "", r->origin ? "\"" : "");
	if (r->have_init) {
		fprintf(w.f, " (created at record %" PRIu64 ")", r->init_idx);
		cite(s, &w, r->init_idx, "log.init", r->init_ts);
	}
	fprintf(w.f, "; the bundle holds %" PRIu64 " of them (records %" PRIu64 " to %" PRIu64 ")",
	        r->records, r->first_idx, r->last_idx);
	if (anchor) {
		fw_b64_encode(anchor->root, FW_HASH_LEN, root);
		fprintf(w.f, ", each proven included in the signed checkpoint of size %" PRIu64
		             " (root %s)",
		        anchor->size, root);
	}
	fprintf(w.f, ". Devices reported %" PRIu64 " integrity failure(s) (the image or its "
	             "signature refused)",
	        r->integrity);
	cite_sample(s, &w, &r->integrity_sample, "rollout.device");
	fprintf(w.f, "; %" PRIu64 " device(s) were quarantined", r->quarantined.total);
	cite_sample(s, &w, &r->quarantine_sample, "device.lifecycle");
	for (i = 0; i < r->npauses; i++) {
		const char *cause = jstr(r->pauses[i].why, "cause");

		if (cause && strcmp(cause, "integrity_failure") == 0)
			cite(s, &w, r->pauses[i].idx, "campaign.pause", r->pauses[i].ts);
	}
	fprintf(w.f, "; an integrity failure always pauses the campaign.");
	if (r->inconsistent)
		fprintf(w.f, " %" PRIu64 " device record(s) do not follow from the ones before them.",
		        r->inconsistent);
	row_end(s, cra, &w, "integrity", "Integrity of the records, corruption reported",
	        "Annex I Part I (2)(f): \"… and report on corruptions\"; (2)(l): \"provide security "
	        "related information by recording and monitoring relevant internal activity\".",
	        "recorded");
}

static void row_support(struct sum *s, json_t *cra)
{
	const struct decider *dc = s->dec;
	struct row w;
	const char *status = "recorded";
	size_t i;

	row_begin(&w);
	if (dc && dc->su_dated > 0) {
		uint64_t ended = 0;

		for (i = 0; i < s->r->ncodes; i++)
			if (strcmp(s->r->codes[i], "support.ended") == 0)
				ended = dc->by_code[i];
		fprintf(w.f, "The eligibility decisions for the release (%" PRIu64 " device(s)) record "
		             "each device's end of security support: from %s to %s",
		        dc->total, dc->su_min, dc->su_max);
		if (dc->su_missing)
			fprintf(w.f, "; %" PRIu64 " device(s) without a date", dc->su_missing);
		fprintf(w.f, ". %" PRIu64 " device(s) were not offered the release because their support "
		             "period had ended (support.ended).",
		        ended);
		cite(s, &w, dc->su_min_idx, "eligibility.decision", dc->su_min_ts);
		cite(s, &w, dc->su_max_idx, "eligibility.decision", dc->su_max_ts);
	} else {
		fprintf(w.f, "No eligibility decision in the bundle records a support period: not "
		             "recorded.");
		status = "not_recorded";
	}
	row_end(s, cra, &w, "support_period", "Support period",
	        "Art. 13(8): \"the support period shall be at least five years\"; Annex VII (4): "
	        "\"relevant information that was taken into account to determine the support "
	        "period\".",
	        status);
}

static void row_documentation(struct sum *s, json_t *cra, const struct fw_checkpoint *anchor)
{
	struct fw_report *r = s->r;
	struct row w;

	row_begin(&w);
	fprintf(w.f, "This report is computed from the %" PRIu64 " records of the bundle alone; "
	             "an auditor re-checks them offline with `fwtrust audit verify-bundle DIR --key "
	             "log.pub`",
	        r->records);
	if (anchor)
		fprintf(w.f, " against the checkpoint of size %" PRIu64, anchor->size);
	fprintf(w.f, ". It documents the secure distribution of this update: the signed release, "
	             "who approved the rollout, which devices received it and what they reported.");
	if (s->release)
		cite(s, &w, s->release_idx, "release.add", s->release_ts);
	if (r->have_init)
		cite(s, &w, r->init_idx, "log.init", r->init_ts);
	row_end(s, cra, &w, "technical_documentation", "Technical documentation",
	        "Annex VII (2)(b): \"a description of the technical solutions chosen for the secure "
	        "distribution of updates\"; Annex VII (6): test reports.",
	        "recorded");
}

static int link_cmp(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The subject of a record cited several times: any citation's. */
static const char *link_subject(const struct sum *s, size_t i)
{
	size_t j;

	for (j = i; j < s->nlinks && s->links[j].idx == s->links[i].idx; j++)
		if (s->links[j].subject)
			return s->links[j].subject;
	return NULL;
}

static int idx_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(*(json_t *const *)a);
	json_int_t y = json_integer_value(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

json_t *fw_report_summary(struct fw_report *r, const struct fw_checkpoint *anchor,
                          const char *log_vkey)
{
	struct sum s;
	json_t *o, *b, *types, *camps, *cra, *recs, *elig;
	char root[48];
	size_t i;
	int focus = -1;

	if (r == NULL || r->oom)
		return NULL;
	memset(&s, 0, sizeof(s));
	s.r = r;
	if (strcmp(r->kind, "campaign") == 0)
		for (i = 0; i < r->ncamps; i++)
			if (strcmp(r->camps[i]->id, r->id) == 0) {
				s.focus = r->camps[i];
				focus = (int)i;
			}
	pick_releases(&s);
	o = json_object();
	put(&s, o, "format", json_string("fwtrust-report/v1"));

	b = json_object();
	put(&s, b, "kind", json_string(r->kind));
	put(&s, b, "id", json_string(r->id));
	put(&s, b, "records", json_integer((json_int_t)r->records));
	put(&s, b, "first_record", int_or_null(r->have_idx, (int64_t)r->first_idx));
	put(&s, b, "last_record", int_or_null(r->have_idx, (int64_t)r->last_idx));
	put(&s, b, "first_ts", int_or_null(r->have_idx, r->first_ts));
	put(&s, b, "last_ts", int_or_null(r->have_idx, r->last_ts));
	if (anchor) {
		fw_b64_encode(anchor->root, FW_HASH_LEN, root);
		put(&s, b, "anchor", json_pack("{ss sI ss}", "origin", anchor->origin, "size",
		                               (json_int_t)anchor->size, "root", root));
	} else {
		put(&s, b, "anchor", json_null());
	}
	put(&s, b, "log_vkey", str_or_null(log_vkey ? log_vkey : r->init_vkey));
	put(&s, b, "log_origin", str_or_null(r->origin));
	put(&s, b, "log_init_record",
	    r->have_init ? ref(&s, r->init_idx, "log.init", r->init_ts) : json_null());
	types = json_object();
	for (i = 0; i < r->ntypes; i++)
		put(&s, types, r->types[i], json_integer((json_int_t)r->type_n[i]));
	put(&s, b, "types", types);
	put(&s, b, "types_uncounted", json_integer((json_int_t)r->types_other));
	put(&s, o, "bundle", b);

	put(&s, o, "release", release_json(&s, s.release_id, s.release, s.release_idx));
	put(&s, o, "rollback_release",
	    s.rollback ? release_json(&s, NULL, s.rollback, s.rollback_idx) : json_null());
	put(&s, o, "campaign", focus >= 0 ? campaign_json(&s, focus) : json_null());
	camps = json_array();
	for (i = 0; i < r->ncamps; i++)
		push(&s, camps, (int)i == focus ? json_deep_copy(json_object_get(o, "campaign"))
		                                : campaign_json(&s, (int)i));
	put(&s, o, "campaigns", camps);
	put(&s, o, "campaigns_untracked", json_integer((json_int_t)r->camps_untracked));
	put(&s, o, "approvals", approvals_json(&s));
	put(&s, o, "approvals_total", json_integer((json_int_t)r->approvals_total));
	elig = eligibility_json(&s);
	put(&s, o, "eligibility", elig);
	put(&s, o, "states", counts_json(state_names, S_N, r->counts));
	put(&s, o, "transitions", json_integer((json_int_t)r->transitions));
	put(&s, o, "inconsistencies", json_integer((json_int_t)r->inconsistent));
	put(&s, o, "timeline", timeline_json(&s));
	put(&s, o, "failed", devices_json(&s, 0));
	put(&s, o, "rolled_back", devices_json(&s, 1));
	put(&s, o, "quarantined", devices_json(&s, 2));
	put(&s, o, "integrity_failures", json_integer((json_int_t)r->integrity));
	put(&s, o, "advisories", json_integer((json_int_t)r->vuln_records));
	put(&s, o, "vulnerabilities", vulnerabilities_json(&s));
	put(&s, o, "vulnerabilities_untracked", json_integer((json_int_t)r->advs_untracked));

	cra = json_array();
	if (!s.bad) {
		row_authenticity(&s, cra);
		row_eligibility(&s, cra, elig);
		row_updates(&s, cra);
		row_vulnerability(&s, cra);
		row_integrity(&s, cra, anchor);
		row_support(&s, cra);
		row_documentation(&s, cra, anchor);
	}
	put(&s, o, "cra", cra);

	/* the records cited, once each, in index order */
	if (s.nlinks > 1)
		qsort(s.links, s.nlinks, sizeof(s.links[0]), link_cmp);
	recs = json_array();
	for (i = 0; i < s.nlinks; i++)
		if (i == 0 || s.links[i].idx != s.links[i - 1].idx)
			push(&s, recs,
			     json_pack("{sI ss sI so*}", "idx", (json_int_t)s.links[i].idx, "type",
			               s.links[i].type, "ts", (json_int_t)s.links[i].ts, "subject",
			               link_subject(&s, i) ? json_string(link_subject(&s, i)) : NULL));
	put(&s, o, "records", recs);
	free(s.links);
	if (s.bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- report.html ---- */

/* Text from records, escaped for HTML text and attribute values. Control
 * characters (none in canonical records, but the summary may come from
 * anywhere) become U+FFFD. */
static void esc(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
				fputs("&#xfffd;", f);
			else
				fputc(ch, f);
		}
	}
}

static void esc_or(FILE *f, const char *s, const char *dflt)
{
	esc(f, s ? s : dflt);
}

/* A value of the summary as text: strings escaped, numbers, "-" for null. */
static void val(FILE *f, const json_t *v)
{
	if (json_is_string(v))
		esc(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_true(v))
		fputs("yes", f);
	else if (json_is_false(v))
		fputs("no", f);
	else
		fputs("-", f);
}

static void time_html(FILE *f, const json_t *v)
{
	char t[32];

	if (!json_is_integer(v)) {
		fputs("-", f);
		return;
	}
	fmt_time(json_integer_value(v), t);
	fputs(t, f);
}

static void rec_link(FILE *f, const json_t *v)
{
	if (!json_is_integer(v)) {
		fputs("-", f);
		return;
	}
	fprintf(f, "<a href=\"#r-%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT "</a>",
	        json_integer_value(v), json_integer_value(v));
}

static void kv(FILE *f, const char *k, const json_t *v, int mono)
{
	fprintf(f, "<tr><th>%s</th><td%s>", k, mono ? " class=\"mono\"" : "");
	val(f, v);
	fputs("</td></tr>\n", f);
}

static const char *const state_colors[S_N] = {"#9e9e9e", "#1f77b4", "#5f5f5f", "#ff7f0e",
                                              "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

static const char *event_color(const char *kind)
{
	if (strcmp(kind, "stage") == 0)
		return "#444";
	if (strcmp(kind, "pause") == 0 || strcmp(kind, "abort") == 0 ||
	    strcmp(kind, "rollback") == 0)
		return "#c00";
	if (strcmp(kind, "resume") == 0)
		return "#080";
	return "#06c";
}

/* A round step for about n ticks up to max. */
static int64_t nice_step(int64_t max, int n)
{
	int64_t raw = max / n, p = 1;

	if (raw < 1)
		return 1;
	while (p * 10 <= raw)
		p *= 10;
	if (raw <= p)
		return p;
	if (raw <= 2 * p)
		return 2 * p;
	if (raw <= 5 * p)
		return 5 * p;
	return 10 * p;
}

#define CH_W 960
#define CH_H 400
#define CH_L 70
#define CH_R 20
#define CH_T 30
#define CH_B 66

/* A step chart of counts over time: pts are {"t_ms", "counts": {name: n}},
 * one line per name (of n) that is ever above 0, coloured by colors; evs
 * (may be NULL) {"t_ms", "kind", "label"} are numbered vertical markers. */
#define CHART_SERIES_MAX 8
static void chart_series(FILE *f, const json_t *pts, const json_t *evs,
                         const char *const *names, const char *const *colors, int nnames,
                         const char *aria)
{
	const json_t *p, *e;
	const double pw = CH_W - CH_L - CH_R, ph = CH_H - CH_T - CH_B;
	int64_t tmin, tmax, ymax = 0, ystep, ytop, max[CHART_SERIES_MAX] = {0};
	size_t i, n = json_array_size(pts);
	int k, shown = 0;
	char t[32];

	if (nnames > CHART_SERIES_MAX)
		nnames = CHART_SERIES_MAX;
	tmin = jint(json_array_get(pts, 0), "t_ms");
	tmax = jint(json_array_get(pts, n - 1), "t_ms");
	json_array_foreach(evs, i, e) {
		if (jint(e, "t_ms") > tmax)
			tmax = jint(e, "t_ms");
		if (jint(e, "t_ms") < tmin)
			tmin = jint(e, "t_ms");
	}
	if (tmax - tmin < 1000)
		tmax = tmin + 1000;
	json_array_foreach(pts, i, p)
		for (k = 0; k < nnames; k++) {
			int64_t v = jint(json_object_get(p, "counts"), names[k]);

			if (v > max[k])
				max[k] = v;
			if (v > ymax)
				ymax = v;
		}
	if (ymax < 1)
		ymax = 1;
	ystep = nice_step(ymax, 5);
	ytop = (ymax + ystep - 1) / ystep * ystep;
#define X(tv) (CH_L + pw * (double)((tv) - tmin) / (double)(tmax - tmin))
#define Y(v) (CH_T + ph - ph * (double)(v) / (double)ytop)
	fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
	           "aria-label=\"%s\">\n",
	        CH_W, CH_H, aria);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\" "
	           "stroke=\"#999\"/>\n",
	        CH_L, CH_T, pw, ph);
	/* y axis: devices */
	for (int64_t v = 0; v <= ytop; v += ystep) {
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
		           "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%" PRId64
		           "</text>\n",
		        CH_L, CH_W - CH_R, Y(v), Y(v), CH_L - 6, Y(v) + 4, v);
	}
	fprintf(f, "<text x=\"16\" y=\"%d\" class=\"ax\" transform=\"rotate(-90 16 %d)\" "
	           "text-anchor=\"middle\">devices</text>\n",
	        CH_T + (int)ph / 2, CH_T + (int)ph / 2);
	/* x axis: time */
	for (k = 0; k <= 5; k++) {
		int64_t tv = tmin + (tmax - tmin) * k / 5;
		time_t tt = (time_t)(tv / 1000);
		struct tm tm;

		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(t, sizeof(t), tmax - tmin < 86400000 ? "%H:%M:%S" : "%m-%d %H:%M", &tm) == 0)
			snprintf(t, sizeof(t), "?");
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.0f\" stroke=\"#999\"/>"
		           "<text x=\"%.1f\" y=\"%.0f\" class=\"ax\" text-anchor=\"%s\">%s</text>\n",
		        X(tv), X(tv), CH_T + (int)ph, CH_T + ph + 5, X(tv), CH_T + ph + 18,
		        k == 0 ? "start" : k == 5 ? "end" : "middle", t);
	}
	fmt_time(tmin, t);
	fprintf(f, "<text x=\"%.0f\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">time (UTC) from %s"
	           "</text>\n",
	        CH_L + pw / 2, CH_H - 30, t);
	/* events: vertical markers numbered as in the table below */
	json_array_foreach(evs, i, e) {
		const char *kind = or_q(jstr(e, "kind"));
		double x = X(jint(e, "t_ms"));

		fprintf(f, "<g><title>");
		esc(f, jstr(e, "label"));
		fprintf(f, "</title><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.0f\" stroke=\"%s\" "
		           "stroke-width=\"1.2\"%s/><text x=\"%.1f\" y=\"%zu\" class=\"ev\" "
		           "text-anchor=\"middle\" fill=\"%s\">%zu</text></g>\n",
		        x, x, CH_T, CH_T + ph, event_color(kind),
		        strcmp(kind, "stage") == 0 ? "" : " stroke-dasharray=\"5 3\"", x,
		        (size_t)CH_T - 6 - (i % 2) * 10, event_color(kind), i + 1);
	}
	/* one step line per state that ever had a device */
	for (k = 0; k < nnames; k++) {
		if (max[k] == 0)
			continue;
		shown++;
		fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", colors[k]);
		json_array_foreach(pts, i, p) {
			int64_t v = jint(json_object_get(p, "counts"), names[k]);

			if (i == 0)
				fprintf(f, "M%.1f %.1f", X(jint(p, "t_ms")), Y(v));
			else
				fprintf(f, "H%.1fV%.1f", X(jint(p, "t_ms")), Y(v));
		}
		fprintf(f, "H%.1f\"><title>%s</title></path>\n", X(tmax), names[k]);
	}
	/* legend */
	{
		/* each entry as wide as its name (about 6.5 units a character
		 * at the axis font), at least a fixed slot */
		int x = CH_L, slot = (int)pw / (shown > 0 ? shown : 1);

		if (slot > 120)
			slot = 120;
		for (k = 0; k < nnames; k++) {
			int w = 22 + (int)(6.5 * (double)strlen(names[k])) + 14;

			if (max[k] == 0)
				continue;
			fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
			           "stroke-width=\"3\"/><text x=\"%d\" y=\"%d\" class=\"ax\">%s</text>\n",
			        x, x + 18, CH_H - 12, CH_H - 12, colors[k], x + 22, CH_H - 8,
			        names[k]);
			x += w > slot ? w : slot;
		}
	}
#undef X
#undef Y
	fputs("</svg>\n", f);
}

static void chart(FILE *f, const json_t *tl)
{
	if (json_array_size(json_object_get(tl, "points")) == 0) {
		fputs("<p>No device record in the bundle: there is no timeline.</p>\n", f);
		return;
	}
	chart_series(f, json_object_get(tl, "points"), json_object_get(tl, "events"), state_names,
	             state_colors, S_N, "devices per update state over time");
}

static void figure(FILE *f, const char *label, const json_t *v, const char *id)
{
	fprintf(f, "<div class=\"fig\" id=\"kf-%s\"><div class=\"n\">", id);
	val(f, v);
	fprintf(f, "</div><div class=\"l\">%s</div></div>\n", label);
}

static const char style[] =
    "@page{size:A4;margin:14mm 12mm}\n"
    "body{font:10.5pt/1.4 \"DejaVu Sans\",\"Liberation Sans\",Arial,sans-serif;color:#111;"
    "max-width:1060px;margin:16px auto;padding:0 16px}\n"
    "h1{font-size:20pt;margin:0 0 4px}h2{font-size:14pt;border-bottom:2px solid #333;"
    "padding-bottom:2px;margin:22px 0 8px}h3{font-size:11.5pt;margin:14px 0 6px}\n"
    ".sub{color:#444;margin:0 0 12px}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0 10px}\n"
    "th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}\n"
    "table.cra{table-layout:fixed}\n"
    "th{background:#f0f0f0;font-weight:600}\n"
    "table.kv th{width:24%}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".mono{font-family:\"DejaVu Sans Mono\",monospace;font-size:9pt;word-break:break-all}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}\n"
    ".fig{border:1px solid #bbb;border-radius:4px;padding:6px 10px;min-width:100px}\n"
    ".fig .n{font-size:16pt;font-weight:700}.fig .l{color:#444;font-size:9pt}\n"
    ".st-recorded{color:#060;font-weight:600}.st-partial{color:#a60;font-weight:600}"
    ".st-not_recorded{color:#b00;font-weight:600}\n"
    ".chart{width:100%;height:auto;border:1px solid #ddd;box-sizing:border-box}\n"
    ".ax{font-size:11px;fill:#333}.ev{font-size:10px;font-weight:700}\n"
    ".note{color:#444;font-size:9.5pt}\n"
    "code,pre{font-family:\"DejaVu Sans Mono\",monospace;font-size:9pt}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:6px;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "a{color:#0645ad}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt}"
    ".brk{break-before:page}"
    "h2,h3{break-after:avoid}tr,.fig,.chart{break-inside:avoid}a{color:#111;"
    "text-decoration:none}}\n";

static void html_release(FILE *f, const json_t *rel, const char *title)
{
	const json_t *k = json_object_get(rel, "signer");

	fprintf(f, "<h3>%s</h3>\n<table class=\"kv\">\n", title);
	kv(f, "release id", json_object_get(rel, "release_id"), 1);
	if (!json_is_true(json_object_get(rel, "recorded"))) {
		fputs("<tr><th>record</th><td>not in the bundle</td></tr>\n</table>\n", f);
		return;
	}
	kv(f, "version", json_object_get(rel, "version"), 0);
	kv(f, "product", json_object_get(rel, "product"), 0);
	kv(f, "family", json_object_get(rel, "family"), 0);
	kv(f, "sequence", json_object_get(rel, "sequence"), 0);
	kv(f, "upgrade from", json_object_get(rel, "upgrade_from"), 0);
	kv(f, "envelope SHA-256", json_object_get(rel, "envelope_sha256"), 1);
	kv(f, "envelope size (bytes)", json_object_get(rel, "envelope_size"), 0);
	kv(f, "image SHA-256", json_object_get(rel, "image_sha256"), 1);
	kv(f, "image size (bytes)", json_object_get(rel, "image_size"), 0);
	kv(f, "signer", json_object_get(rel, "signer_name"), 0);
	kv(f, "signer key id", json_object_get(rel, "signer_key_id"), 1);
	if (k && json_is_object(k)) {
		fputs("<tr><th>signing key</th><td>", f);
		esc_or(f, jstr(k, "name"), "?");
		fputs(" (", f);
		esc_or(f, jstr(k, "alg"), "?");
		fputs(", role ", f);
		esc_or(f, jstr(k, "role"), "?");
		fputs("): <b>", f);
		esc_or(f, jstr(k, "state"), "?");
		fputs("</b>; trusted ", f);
		time_html(f, json_object_get(k, "trusted_ms"));
		fputs(" (record ", f);
		rec_link(f, json_object_get(k, "record"));
		fputs(")", f);
		if (json_is_integer(json_object_get(k, "revoke_record"))) {
			fputs(", revoked ", f);
			time_html(f, json_object_get(k, "revoked_ms"));
			fputs(" (record ", f);
			rec_link(f, json_object_get(k, "revoke_record"));
			fputs("): ", f);
			esc_or(f, jstr(k, "revoke_reason"), "");
		}
		fputs("</td></tr>\n", f);
	}
	fputs("<tr><th>added</th><td>", f);
	time_html(f, json_object_get(rel, "added_ms"));
	fputs(" by ", f);
	esc_or(f, jstr(rel, "actor"), "?");
	fputs(" (record ", f);
	rec_link(f, json_object_get(rel, "record"));
	fputs(")</td></tr>\n</table>\n", f);
}

static void html_cra(FILE *f, const json_t *cra)
{
	const json_t *row, *x;
	size_t i, j;

	fputs("<table class=\"cra\">\n<tr><th style=\"width:17%\">topic</th><th "
	      "style=\"width:27%\">requirement"
	      "</th><th>control applied, from the records</th><th style=\"width:11%\">records</th>"
	      "</tr>\n",
	      f);
	json_array_foreach(cra, i, row) {
		fprintf(f, "<tr id=\"cra-");
		esc(f, jstr(row, "id"));
		fputs("\"><td><b>", f);
		esc(f, jstr(row, "title"));
		fputs("</b><br><span class=\"st-", f);
		esc(f, jstr(row, "status"));
		fputs("\">", f);
		esc(f, jstr(row, "status"));
		fputs("</span></td><td class=\"note\">", f);
		esc(f, jstr(row, "requirement"));
		fputs("</td><td>", f);
		esc(f, jstr(row, "control"));
		fputs("</td><td>", f);
		json_array_foreach(json_object_get(row, "records"), j, x) {
			if (j)
				fputs(", ", f);
			rec_link(f, x);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_campaign(FILE *f, const json_t *c)
{
	const json_t *st, *p;
	size_t i;

	fputs("<table class=\"kv\">\n", f);
	kv(f, "campaign", json_object_get(c, "id"), 0);
	kv(f, "name", json_object_get(c, "name"), 0);
	kv(f, "state", json_object_get(c, "state"), 0);
	fputs("<tr><th>created</th><td>", f);
	time_html(f, json_object_get(c, "created_ms"));
	fputs(" by ", f);
	esc_or(f, jstr(c, "creator"), "?");
	fputs(" (", f);
	esc_or(f, jstr(c, "creator_role"), "role not recorded");
	fputs("), record ", f);
	rec_link(f, json_object_get(c, "create_record"));
	fputs("</td></tr>\n", f);
	kv(f, "policy SHA-256", json_object_get(c, "policy_sha256"), 1);
	kv(f, "policy edits", json_object_get(c, "edits"), 0);
	fputs("<tr><th>started</th><td>", f);
	time_html(f, json_object_get(c, "started_ms"));
	fputs(", record ", f);
	rec_link(f, json_object_get(c, "start_record"));
	fputs("</td></tr>\n<tr><th>ended</th><td>", f);
	time_html(f, json_object_get(c, "ended_ms"));
	if ((p = json_object_get(c, "complete")) && json_is_object(p)) {
		fputs(": completed, record ", f);
		rec_link(f, json_object_get(p, "record"));
		if (json_is_boolean(json_object_get(p, "counts_agree")))
			fputs(json_is_true(json_object_get(p, "counts_agree"))
			          ? " (its counts agree with the device records)"
			          : " (<b>its counts differ from the device records</b>)",
			      f);
	}
	if ((p = json_object_get(c, "abort")) && json_is_object(p)) {
		fputs(": ", f);
		esc_or(f, jstr(p, "kind"), "?");
		fputs(json_is_true(json_object_get(p, "automatic")) ? " (automatic, " : " (", f);
		esc_or(f, jstr(p, "cause"), "?");
		fputs("), record ", f);
		rec_link(f, json_object_get(p, "record"));
	}
	fputs("</td></tr>\n", f);
	kv(f, "members", json_object_get(c, "members"), 0);
	kv(f, "ineligible at the start", json_object_get(c, "ineligible_at_start"), 0);
	kv(f, "rollback release", json_object_get(c, "rollback_release"), 1);
	fputs("</table>\n<h3>Stages</h3>\n<table>\n<tr><th>#</th><th>name</th><th>size</th>"
	      "<th class=\"num\">planned</th><th class=\"num\">devices</th><th>approvals "
	      "(given / required)</th><th class=\"num\">soak (s)</th><th>entered</th><th>record</th>"
	      "</tr>\n",
	      f);
	json_array_foreach(json_object_get(c, "stages"), i, st) {
		const json_t *size = json_object_get(st, "size");

		fprintf(f, "<tr><td>%zu</td><td>", i);
		esc_or(f, jstr(st, "name"), "?");
		fputs("</td><td>", f);
		if (json_is_integer(json_object_get(size, "percent")))
			fprintf(f, "%" PRId64 "%%", jint(size, "percent"));
		else if (json_is_integer(json_object_get(size, "count")))
			fprintf(f, "%" PRId64 " devices", jint(size, "count"));
		else if (jstr(size, "cohort")) {
			fputs("cohort ", f);
			esc(f, jstr(size, "cohort"));
		} else
			fputs("-", f);
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(st, "planned"));
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(st, "devices"));
		fputs("</td><td>", f);
		val(f, json_object_get(st, "approvals_given"));
		fputs(" / ", f);
		val(f, json_object_get(st, "approvals_required"));
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(st, "soak_s"));
		fputs("</td><td>", f);
		time_html(f, json_object_get(st, "entered_ms"));
		fputs("</td><td>", f);
		rec_link(f, json_object_get(st, "record"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h3>Pauses</h3>\n", f);
	if (json_array_size(json_object_get(c, "pauses")) == 0) {
		fputs("<p>The campaign never paused.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>paused</th><th>cause</th><th>by / detail</th><th>record</th>"
	      "<th>resumed</th><th>by</th><th>record</th></tr>\n",
	      f);
	json_array_foreach(json_object_get(c, "pauses"), i, p) {
		const json_t *why = json_object_get(p, "why");

		fputs("<tr><td>", f);
		time_html(f, json_object_get(p, "at_ms"));
		fputs("</td><td>", f);
		esc_or(f, jstr(p, "cause"), "?");
		fputs("</td><td>", f);
		if (jstr(why, "by")) {
			esc(f, jstr(why, "by"));
			if (jstr(why, "reason")) {
				fputs(": ", f);
				esc(f, jstr(why, "reason"));
			}
		} else if (jstr(why, "device")) {
			fputs("device ", f);
			esc(f, jstr(why, "device"));
		} else if (json_is_integer(json_object_get(why, "failures"))) {
			fprintf(f, "%" PRId64 " failures", jint(why, "failures"));
			if (json_is_integer(json_object_get(why, "reports")))
				fprintf(f, " of %" PRId64 " reports", jint(why, "reports"));
		}
		fputs("</td><td>", f);
		rec_link(f, json_object_get(p, "record"));
		fputs("</td><td>", f);
		time_html(f, json_object_get(p, "resumed_ms"));
		fputs("</td><td>", f);
		esc_or(f, jstr(p, "resumed_by"), "-");
		fputs("</td><td>", f);
		rec_link(f, json_object_get(p, "resume_record"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_campaigns(FILE *f, const json_t *camps)
{
	const json_t *c;
	size_t i;

	if (json_array_size(camps) == 0) {
		fputs("<p>No campaign of this release is in the bundle.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>campaign</th><th>name</th><th>state</th><th class=\"num\">members"
	      "</th><th class=\"num\">installed</th><th class=\"num\">failed</th><th>started</th>"
	      "<th>ended</th><th>counted</th></tr>\n",
	      f);
	json_array_foreach(camps, i, c) {
		fputs("<tr><td>", f);
		esc(f, jstr(c, "id"));
		fputs("</td><td>", f);
		esc_or(f, jstr(c, "name"), "-");
		fputs("</td><td>", f);
		esc_or(f, jstr(c, "state"), "-");
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(c, "members"));
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(json_object_get(c, "counts"), "installed"));
		fputs("</td><td class=\"num\">", f);
		val(f, json_object_get(json_object_get(c, "counts"), "failed"));
		fputs("</td><td>", f);
		time_html(f, json_object_get(c, "started_ms"));
		fputs("</td><td>", f);
		time_html(f, json_object_get(c, "ended_ms"));
		fputs("</td><td>", f);
		val(f, json_object_get(c, "counted"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_approvals(FILE *f, const json_t *sum)
{
	const json_t *a;
	size_t i;

	if (json_array_size(json_object_get(sum, "approvals")) == 0) {
		fputs("<p>No approval is recorded in the bundle.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>campaign</th><th>stage</th><th>approver</th><th>role</th>"
	      "<th>key id</th><th>time</th><th>counts</th><th>record</th></tr>\n",
	      f);
	json_array_foreach(json_object_get(sum, "approvals"), i, a) {
		fputs("<tr><td>", f);
		esc(f, jstr(a, "campaign"));
		fputs("</td><td>", f);
		val(f, json_object_get(a, "stage"));
		fputs("</td><td>", f);
		esc_or(f, jstr(a, "operator"), "?");
		fputs("</td><td>", f);
		esc_or(f, jstr(a, "role"), "not recorded");
		fputs("</td><td class=\"mono\">", f);
		esc_or(f, jstr(a, "key_id"), "?");
		fputs("</td><td>", f);
		time_html(f, json_object_get(a, "ts"));
		fputs("</td><td>", f);
		fputs(json_is_true(json_object_get(a, "voided")) ? "no: voided by a policy edit" : "yes",
		      f);
		fputs("</td><td>", f);
		rec_link(f, json_object_get(a, "record"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_reasons(FILE *f, const json_t *by, const char *what)
{
	const json_t *e;
	size_t i;

	if (json_array_size(by) == 0) {
		fprintf(f, "<p>No %s was ineligible.</p>\n", what);
		return;
	}
	fputs("<table>\n<tr><th>reason code</th><th class=\"num\">devices</th></tr>\n", f);
	json_array_foreach(by, i, e) {
		fputs("<tr><td><code>", f);
		esc_or(f, jstr(e, "code"), "?");
		fputs("</code></td><td class=\"num\">", f);
		val(f, json_object_get(e, "devices"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_eligibility(FILE *f, const json_t *el)
{
	const json_t *runs = json_object_get(el, "runs"), *run, *dec = json_object_get(el, "decisions");
	size_t i;

	fputs("<table class=\"kv\">\n", f);
	kv(f, "members", json_object_get(el, "members"), 0);
	kv(f, "eligible (decided at their stage's entry)", json_object_get(el, "eligible"), 0);
	kv(f, "ineligible", json_object_get(el, "ineligible"), 0);
	kv(f, "… at the start", json_object_get(el, "ineligible_at_start"), 0);
	kv(f, "… at their stage's entry", json_object_get(el, "ineligible_at_stage"), 0);
	kv(f, "… stopped at delivery", json_object_get(el, "stopped_at_delivery"), 0);
	kv(f, "not decided yet (stage not entered)", json_object_get(el, "undecided"), 0);
	fputs("</table>\n<h3>Ineligible members by reason</h3>\n", f);
	html_reasons(f, json_object_get(el, "by_reason"), "member");
	fputs("<h3>Eligibility runs for the release</h3>\n", f);
	if (json_array_size(runs) == 0) {
		fputs("<p>No eligibility run for the release is in the bundle.</p>\n", f);
	} else {
		fputs("<table>\n<tr><th>run</th><th>time</th><th class=\"num\">devices</th>"
		      "<th class=\"num\">eligible</th><th class=\"num\">ineligible</th><th>by reason</th>"
		      "<th>record</th></tr>\n",
		      f);
		json_array_foreach(runs, i, run) {
			const json_t *e;
			size_t j;

			fputs("<tr><td>", f);
			val(f, json_object_get(run, "run"));
			fputs("</td><td>", f);
			time_html(f, json_object_get(run, "ts"));
			fputs("</td><td class=\"num\">", f);
			val(f, json_object_get(run, "devices"));
			fputs("</td><td class=\"num\">", f);
			val(f, json_object_get(run, "eligible"));
			fputs("</td><td class=\"num\">", f);
			val(f, json_object_get(run, "ineligible"));
			fputs("</td><td>", f);
			json_array_foreach(json_object_get(run, "by_reason"), j, e) {
				fputs(j ? ", " : "", f);
				esc_or(f, jstr(e, "code"), "?");
				fputs(" ", f);
				val(f, json_object_get(e, "devices"));
			}
			fputs("</td><td>", f);
			rec_link(f, json_object_get(run, "record"));
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	if (json_is_object(dec)) {
		const json_t *su = json_object_get(dec, "support_until");

		fputs("<h3>Eligibility decisions (per device) for the release</h3>\n<table "
		      "class=\"kv\">\n",
		      f);
		kv(f, "decisions", json_object_get(dec, "total"), 0);
		kv(f, "eligible", json_object_get(dec, "eligible"), 0);
		kv(f, "ineligible", json_object_get(dec, "ineligible"), 0);
		fputs("<tr><th>support until</th><td>", f);
		if (json_is_string(json_object_get(su, "min"))) {
			val(f, json_object_get(su, "min"));
			fputs(" (record ", f);
			rec_link(f, json_object_get(su, "min_record"));
			fputs(") to ", f);
			val(f, json_object_get(su, "max"));
			fputs(" (record ", f);
			rec_link(f, json_object_get(su, "max_record"));
			fputs(")", f);
		} else {
			fputs("not recorded", f);
		}
		fputs("; without a date: ", f);
		val(f, json_object_get(su, "missing"));
		fputs("</td></tr>\n</table>\n", f);
		html_reasons(f, json_object_get(dec, "by_reason"), "device");
	}
}

static void html_timeline(FILE *f, const json_t *tl)
{
	const json_t *e;
	size_t i;

	chart(f, tl);
	if (json_array_size(json_object_get(tl, "events")) == 0)
		return;
	fputs("<table>\n<tr><th>#</th><th>time</th><th>event</th><th>campaign</th><th>record</th>"
	      "</tr>\n",
	      f);
	json_array_foreach(json_object_get(tl, "events"), i, e) {
		fprintf(f, "<tr><td>%zu</td><td>", i + 1);
		time_html(f, json_object_get(e, "t_ms"));
		fputs("</td><td>", f);
		esc_or(f, jstr(e, "label"), "?");
		fputs("</td><td>", f);
		esc_or(f, jstr(e, "campaign"), "?");
		fputs("</td><td>", f);
		rec_link(f, json_object_get(e, "record"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (jint(tl, "events_total") > (int64_t)json_array_size(json_object_get(tl, "events")))
		fprintf(f, "<p class=\"note\">The first %zu of %" PRId64 " events.</p>\n",
		        json_array_size(json_object_get(tl, "events")), jint(tl, "events_total"));
}

static void html_devices(FILE *f, const json_t *sect, const char *title, const char *total_key,
                         int kind)
{
	const json_t *list = json_object_get(sect, "list"), *v;
	size_t i, n = json_array_size(list);

	fprintf(f, "<h3>%s: ", title);
	val(f, json_object_get(sect, total_key));
	fputs("</h3>\n", f);
	if (n == 0)
		return;
	if ((int64_t)n < jint(sect, total_key))
		fprintf(f, "<p class=\"note\">The first %zu are listed.</p>\n", n);
	if (kind == 2)
		fputs("<table>\n<tr><th>device</th><th>from</th><th>reason</th><th>time</th>"
		      "<th>record</th></tr>\n",
		      f);
	else
		fprintf(f, "<table>\n<tr><th>device</th><th>stage</th><th class=\"num\">attempts</th>"
		           "<th>cause</th><th>detail</th><th>%s</th><th>time</th><th>record</th></tr>\n",
		        kind == 0 ? "now" : "version");
	json_array_foreach(list, i, v) {
		fputs("<tr><td class=\"mono\">", f);
		esc_or(f, jstr(v, "device"), "?");
		if (kind == 2) {
			fputs("</td><td>", f);
			esc_or(f, jstr(v, "from"), "-");
			fputs("</td><td>", f);
			esc_or(f, jstr(v, "reason"), "-");
		} else {
			fputs("</td><td>", f);
			val(f, json_object_get(v, "stage"));
			fputs("</td><td class=\"num\">", f);
			val(f, json_object_get(v, "attempts"));
			fputs("</td><td>", f);
			esc_or(f, jstr(v, "cause"), "-");
			if (json_is_true(json_object_get(v, "integrity_failure")))
				fputs(", <b>integrity failure</b>", f);
			fputs("</td><td>", f);
			esc_or(f, jstr(v, "detail"), "");
			fputs("</td><td>", f);
			if (kind == 0) {
				esc_or(f, jstr(v, "state_now"), "?");
				fputs(" (", f);
				rec_link(f, json_object_get(v, "last_record"));
				fputs(")", f);
			} else {
				esc_or(f, jstr(v, "version"), "-");
			}
		}
		fputs("</td><td>", f);
		time_html(f, json_object_get(v, "ts"));
		fputs("</td><td>", f);
		rec_link(f, json_object_get(v, "record"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static const char *const vb_colors[VB_N] = {"#8c564b", "#7f7f7f", "#ff7f0e", "#d62728",
                                            "#2ca02c"};

/* an array of strings, comma-separated and escaped; empty when none */
static void esc_list(FILE *f, const json_t *arr, const char *empty)
{
	const json_t *v;
	size_t k;

	json_array_foreach(arr, k, v) {
		if (k)
			fputs(", ", f);
		esc(f, json_string_value(v));
	}
	if (json_array_size(arr) == 0)
		fputs(empty, f);
}

static void html_vulnerabilities(FILE *f, const json_t *vs, int64_t untracked)
{
	const json_t *a, *p, *v;
	size_t i, k;
	int b;

	if (json_array_size(vs) == 0) {
		fputs("<p>No advisory record (vuln.add, vuln.affected, vuln.isolate) is in the "
		      "bundle.</p>\n",
		      f);
		return;
	}
	json_array_foreach(vs, i, a) {
		const json_t *iso = json_object_get(a, "isolated");

		fputs("<h3>Advisory ", f);
		esc_or(f, jstr(a, "advisory"), "?");
		fputs(": ", f);
		esc_or(f, jstr(a, "title"), "(its vuln.add record is not in the bundle)");
		fputs("</h3>\n<table class=\"kv\">\n", f);
		kv(f, "severity", json_object_get(a, "severity"), 0);
		kv(f, "CVSS", json_object_get(a, "cvss"), 1);
		fputs("<tr><th>CVE</th><td>", f);
		esc_list(f, json_object_get(a, "cves"), "");
		fputs("</td></tr>\n<tr><th>affects</th><td>", f);
		esc_or(f, jstr(a, "product"), "?");
		fputs(" / ", f);
		esc_or(f, jstr(a, "family"), "every family");
		fputs(" <code>", f);
		esc_or(f, jstr(a, "affected"), "?");
		fputs("</code></td></tr>\n", f);
		kv(f, "fixed in", json_object_get(a, "fixed_in"), 0);
		kv(f, "source", json_object_get(a, "source"), 0);
		fputs("<tr><th>remediating campaigns</th><td>", f);
		esc_list(f, json_object_get(a, "campaigns"), "none in the bundle");
		fputs("</td></tr>\n<tr><th>record</th><td>", f);
		rec_link(f, json_object_get(a, "record"));
		fputs("</td></tr>\n</table>\n", f);
		if (json_array_size(json_object_get(a, "series")) == 0) {
			fputs("<p>No computation of the affected cohort (vuln.affected) is in the "
			      "bundle.</p>\n",
			      f);
		} else {
			fputs("<p class=\"note\">Devices of the affected cohort per state, each time it "
			      "was computed (<code>fwtrust vuln affected</code>).</p>\n",
			      f);
			chart_series(f, json_object_get(a, "series"), NULL, vb_names, vb_colors, VB_N,
			             "affected devices per remediation state over time");
			fputs("<table>\n<tr><th>computed at</th><th class=\"num\">cohort</th>", f);
			for (b = 0; b < VB_N; b++)
				fprintf(f, "<th class=\"num\">%s</th>", vb_names[b]);
			fputs("<th>record</th></tr>\n", f);
			json_array_foreach(json_object_get(a, "series"), k, p) {
				fputs("<tr><td>", f);
				time_html(f, json_object_get(p, "t_ms"));
				fputs("</td><td class=\"num\">", f);
				val(f, json_object_get(p, "cohort"));
				for (b = 0; b < VB_N; b++) {
					fputs("</td><td class=\"num\">", f);
					val(f, json_object_get(json_object_get(p, "counts"), vb_names[b]));
				}
				fputs("</td><td>", f);
				rec_link(f, json_object_get(p, "record"));
				fputs("</td></tr>\n", f);
			}
			fputs("</table>\n", f);
			if (json_is_object(json_object_get(a, "exposed_why"))) {
				const json_t *why = json_object_get(a, "exposed_why");

				fprintf(f, "<p>Why the devices exposed at the latest computation are: %" PRId64
				           " could receive a fixing release but no campaign reaches them, "
				           "%" PRId64 " have no fixing release for their product and family",
				        jint(why, "eligible"), jint(why, "no_fixing_release"));
				json_array_foreach(json_object_get(why, "ineligible"), k, v) {
					fputs(k ? ", " : "; ineligible for it (eligibility's reasons): ", f);
					esc_or(f, jstr(v, "code"), "?");
					fprintf(f, " %" PRId64, jint(v, "devices"));
				}
				fputs(".</p>\n", f);
			}
			if (jint(a, "cohorts") > (int64_t)json_array_size(json_object_get(a, "series")))
				fprintf(f, "<p class=\"note\">%zu of %" PRId64 " computations are shown "
				           "(evenly thinned; the first and the latest are kept).</p>\n",
				        json_array_size(json_object_get(a, "series")), jint(a, "cohorts"));
		}
		fputs("<p>Isolated for it: ", f);
		val(f, json_object_get(iso, "total"));
		fputs(" device(s) (quarantined ", f);
		val(f, json_object_get(iso, "quarantine"));
		fputs(", identity revoked ", f);
		val(f, json_object_get(iso, "revoke"));
		fputs(").</p>\n", f);
		if (json_array_size(json_object_get(iso, "list")) > 0) {
			fputs("<table>\n<tr><th>device</th><th>action</th><th>firmware</th><th>reason</th>"
			      "<th>record</th></tr>\n",
			      f);
			json_array_foreach(json_object_get(iso, "list"), k, v) {
				fputs("<tr><td class=\"mono\">", f);
				esc_or(f, jstr(v, "device"), "?");
				fputs("</td><td>", f);
				esc_or(f, jstr(v, "action"), "?");
				fputs("</td><td>", f);
				esc_or(f, jstr(v, "fw_version"), "?");
				fputs("</td><td>", f);
				esc_or(f, jstr(v, "reason"), "");
				fputs("</td><td>", f);
				rec_link(f, json_object_get(v, "record"));
				fputs("</td></tr>\n", f);
			}
			fputs("</table>\n", f);
		}
	}
	if (untracked > 0)
		fprintf(f, "<p class=\"note\">%" PRId64 " record(s) of further advisories are counted, "
		           "not shown.</p>\n",
		        untracked);
}

int fw_report_html(const json_t *summary, FILE *out, struct fw_diag *d)
{
	const json_t *b, *rel, *camp, *anchor, *st, *e;
	const char *kind;
	size_t i;
	int k;

	if (summary == NULL || out == NULL || !json_is_object(summary))
		return fw_diag_set(d, FW_E_ARG, "report: no summary");
	b = json_object_get(summary, "bundle");
	rel = json_object_get(summary, "release");
	camp = json_object_get(summary, "campaign");
	anchor = json_object_get(b, "anchor");
	st = json_object_get(summary, "states");
	kind = or_q(jstr(b, "kind"));

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
	      "Firmware update evidence report: ",
	      out);
	esc(out, kind);
	fputs(" ", out);
	esc_or(out, jstr(b, "id"), "?");
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);

	/* title and key figures */
	fputs("<header>\n<h1>Firmware update evidence report</h1>\n<p class=\"sub\">", out);
	if (strcmp(kind, "advisory") == 0) {
		fputs("Advisory <b>", out);
		esc_or(out, jstr(b, "id"), "?");
		fputs("</b>, its affected devices and their remediation; release ", out);
	} else if (json_is_object(camp)) {
		fputs("Campaign <b>", out);
		esc_or(out, jstr(camp, "id"), "?");
		fputs("</b> “", out);
		esc_or(out, jstr(camp, "name"), "");
		fputs("” (", out);
		esc_or(out, jstr(camp, "state"), "?");
		fputs(") of release ", out);
	} else {
		fputs("Release ", out);
	}
	esc_or(out, jstr(rel, "version"), "?");
	fputs(" (", out);
	esc_or(out, jstr(rel, "product"), "?");
	fputs("/", out);
	esc_or(out, jstr(rel, "family"), "?");
	fputs("). Computed from ", out);
	val(out, json_object_get(b, "records"));
	fputs(" evidence records", out);
	if (json_is_object(anchor)) {
		fputs(" proven against checkpoint ", out);
		esc_or(out, jstr(anchor, "origin"), "?");
		fputs(" of size ", out);
		val(out, json_object_get(anchor, "size"));
	}
	fputs(".</p>\n</header>\n<div class=\"figs\">\n", out);
	figure(out, "release version", json_object_get(rel, "version"), "version");
	figure(out, "members", json_object_get(json_object_get(summary, "eligibility"), "members"),
	       "members");
	figure(out, "installed", json_object_get(st, "installed"), "installed");
	figure(out, "failed", json_object_get(st, "failed"), "failed");
	figure(out, "rolled back", json_object_get(st, "rolled_back"), "rolled_back");
	figure(out, "ineligible", json_object_get(st, "ineligible"), "ineligible");
	figure(out, "quarantined", json_object_get(json_object_get(summary, "quarantined"), "total"),
	       "quarantined");
	figure(out, "integrity failures", json_object_get(summary, "integrity_failures"),
	       "integrity");
	figure(out, "checkpoint size", json_object_get(anchor, "size"), "checkpoint");
	fputs("</div>\n", out);

	fputs("<h2 id=\"states\">Devices per update state</h2>\n<table>\n<tr>", out);
	for (k = 0; k < S_N; k++)
		fprintf(out, "<th class=\"num\">%s</th>", state_names[k]);
	fputs("</tr>\n<tr>", out);
	for (k = 0; k < S_N; k++) {
		fputs("<td class=\"num\">", out);
		val(out, json_object_get(st, state_names[k]));
		fputs("</td>", out);
	}
	fputs("</tr>\n</table>\n", out);
	if (jint(summary, "inconsistencies") > 0)
		fprintf(out, "<p><b>%" PRId64 " device record(s) do not follow from the ones before "
		             "them</b> (a state left that no device was in).</p>\n",
		        jint(summary, "inconsistencies"));

	fputs("<h2 id=\"release\">1. The release</h2>\n", out);
	html_release(out, rel, "Release");
	if (json_is_object(json_object_get(summary, "rollback_release")))
		html_release(out, json_object_get(summary, "rollback_release"), "Rollback release");

	fputs("<h2 id=\"cra\" class=\"brk\">2. Cyber Resilience Act: requirements and the controls "
	      "applied</h2>\n<p class=\"note\">Regulation (EU) 2024/2847. Each control is computed "
	      "from the records of this bundle; the numbers link to the records in the appendix.</p>\n",
	      out);
	html_cra(out, json_object_get(summary, "cra"));

	fputs("<h2 id=\"campaign\" class=\"brk\">3. The campaign</h2>\n", out);
	if (json_is_object(camp))
		html_campaign(out, camp);
	else
		html_campaigns(out, json_object_get(summary, "campaigns"));

	fputs("<h2 id=\"approvals\">4. Approvals</h2>\n", out);
	if (json_is_object(camp)) {
		fputs("<p>Created by <b>", out);
		esc_or(out, jstr(camp, "creator"), "?");
		fputs("</b> (", out);
		esc_or(out, jstr(camp, "creator_role"), "role not recorded");
		fputs("). ", out);
		val(out, json_object_get(camp, "approvals"));
		fputs(json_is_true(json_object_get(camp, "four_eyes"))
		          ? " approval(s) count, each by a distinct approver who is not the creator.</p>\n"
		          : " approval(s) count; <b>an approver is the creator, or approved a stage "
		            "twice</b>.</p>\n",
		      out);
	}
	html_approvals(out, summary);

	fputs("<h2 id=\"eligibility\">5. Eligibility</h2>\n", out);
	html_eligibility(out, json_object_get(summary, "eligibility"));

	fputs("<h2 id=\"timeline\" class=\"brk\">6. Rollout timeline</h2>\n<p class=\"note\">Devices "
	      "per update state over time (record times); vertical lines mark stages (solid) and "
	      "pauses, resumes, aborts, rollbacks and completion (dashed), numbered as in the table."
	      "</p>\n",
	      out);
	html_timeline(out, json_object_get(summary, "timeline"));

	fputs("<h2 id=\"devices\" class=\"brk\">7. Failed, rolled-back and quarantined devices</h2>\n",
	      out);
	e = json_object_get(summary, "failed");
	fputs("<p>Devices failed now: ", out);
	val(out, json_object_get(e, "now"));
	fputs("; devices that failed at least one attempt: ", out);
	val(out, json_object_get(e, "devices"));
	fputs("; failed attempts: ", out);
	val(out, json_object_get(e, "attempts"));
	fputs(" (timeouts: ", out);
	val(out, json_object_get(e, "timeouts"));
	fputs(", integrity failures: ", out);
	val(out, json_object_get(e, "integrity_failures"));
	fputs(").</p>\n", out);
	html_devices(out, e, "Devices that failed an attempt", "devices", 0);
	html_devices(out, json_object_get(summary, "rolled_back"), "Rolled-back devices", "total", 1);
	html_devices(out, json_object_get(summary, "quarantined"), "Quarantined devices", "total", 2);

	fputs("<h2 id=\"vulnerabilities\" class=\"brk\">8. Vulnerability handling</h2>\n", out);
	html_vulnerabilities(out, json_object_get(summary, "vulnerabilities"),
	                     jint(summary, "vulnerabilities_untracked"));

	fputs("<h2 id=\"verify\">9. Anchor checkpoint and how to verify</h2>\n<table class=\"kv\">\n",
	      out);
	kv(out, "log origin", json_object_get(anchor, "origin"), 0);
	kv(out, "checkpoint size", json_object_get(anchor, "size"), 0);
	kv(out, "checkpoint root (base64)", json_object_get(anchor, "root"), 1);
	kv(out, "log key (vkey)", json_object_get(b, "log_vkey"), 1);
	kv(out, "records in the bundle", json_object_get(b, "records"), 0);
	fputs("<tr><th>record indexes</th><td>", out);
	val(out, json_object_get(b, "first_record"));
	fputs(" to ", out);
	val(out, json_object_get(b, "last_record"));
	fputs("</td></tr>\n<tr><th>record times</th><td>", out);
	time_html(out, json_object_get(b, "first_ts"));
	fputs(" to ", out);
	time_html(out, json_object_get(b, "last_ts"));
	fputs("</td></tr>\n</table>\n<p>How to verify: every record of this report is in the bundle, "
	      "with a proof of its inclusion in the checkpoint above. With the log's public key, "
	      "obtained from the operator independently of the bundle:</p>\n<pre>fwtrust audit "
	      "verify-bundle DIR --key log.pub</pre>\n<p class=\"note\">It checks the checkpoint's "
	      "signature, every record's inclusion, the consistency of the earlier checkpoints, the "
	      "approvals' signatures and the files' digests, and recomputes these numbers.</p>\n",
	      out);

	fputs("<h2 id=\"appendix\" class=\"brk\">Appendix: the records cited</h2>\n<p "
	      "class=\"note\">Show one with <code>fwtrust audit show --index N</code>; its inclusion "
	      "proof is in the bundle.</p>\n<table>\n<tr><th class=\"num\">index</th><th>type</th>"
	      "<th>about</th><th>time</th></tr>\n",
	      out);
	json_array_foreach(json_object_get(summary, "records"), i, e) {
		fprintf(out, "<tr id=\"r-%" PRId64 "\"><td class=\"num\">%" PRId64 "</td><td>",
		        jint(e, "idx"), jint(e, "idx"));
		esc_or(out, jstr(e, "type"), "?");
		fputs("</td><td>", out);
		esc_or(out, jstr(e, "subject"), "");
		fputs("</td><td>", out);
		time_html(out, json_object_get(e, "ts"));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return fw_diag_set(d, FW_E_IO, "report.html: write failed");
	return FW_OK;
}
