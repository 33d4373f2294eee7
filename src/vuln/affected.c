/*
 * The affected cohort of an advisory: one pass over the registry's devices,
 * each put in a bucket (docs/vuln.md); the versions of the releases that
 * name it fixed, and the members of the campaigns that remediate it (one
 * rollout scan per campaign, into a hash set), are read first, so the pass
 * does no further reads. The cohort list is kept as a
 * blob and recorded with the counts in one vuln.affected record.
 */
#define _POSIX_C_SOURCE 200809L
#include "vuln/vuln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"
#include "rollout/rollout.h"

#define MAX_CAMPAIGNS 64 /* remediating campaigns named in one record */
#define MAX_FIXING 16    /* fixing releases an exposed device is judged against */

/* The bucket names are evidence's one list (its reader, below us), in the
 * same order: FW_VB_<b> is its bucket b - 1. */
_Static_assert(FW_VB_COUNT - 1 == FW_REPORT_VULN_BUCKETS &&
                   FW_VB_EXPOSED - 1 == FW_REPORT_VULN_EXPOSED,
               "the buckets of evidence.h");

const char *fw_vuln_bucket_name(int b)
{
	return b > FW_VB_NONE && b < FW_VB_COUNT ? fw_report_vuln_bucket(b - 1) : NULL;
}

int fw_vuln_bucket_parse(const char *name)
{
	int i;

	for (i = 1; name && i < FW_VB_COUNT; i++)
		if (strcmp(name, fw_vuln_bucket_name(i)) == 0)
			return i;
	return -1;
}

int fw_vuln_release_fixes(const struct fw_vuln_advisory *a, const struct fw_semver *v)
{
	if (fw_range_match(&a->affected, v))
		return 0;
	return !a->has_fixed || fw_semver_cmp(v, &a->fixed) >= 0;
}

int fw_vuln_classify(const struct fw_vuln_advisory *a, const struct fw_device_row *dev,
                     const struct fw_cert_row *cert, int64_t now, int facts)
{
	struct fw_semver v;
	int parsed;

	if (strcmp(dev->product, a->product) != 0 ||
	    (a->family[0] && strcmp(dev->family, a->family) != 0))
		return FW_VB_NONE;
	/* it runs a release that names the advisory fixed: a backport may sit
	 * inside the range, and what runs it is no longer affected */
	if (facts & FW_VULN_RUNS_FIX)
		return FW_VB_REMEDIATED;
	parsed = fw_semver_parse(dev->fw_version, &v, NULL) == FW_OK;
	/* a version that cannot be compared cannot be shown to be safe:
	 * default-deny, it is judged as affected */
	if (parsed && !fw_range_match(&a->affected, &v))
		return a->has_fixed && fw_semver_cmp(&v, &a->fixed) >= 0 ? FW_VB_REMEDIATED
		                                                        : FW_VB_NONE;
	if (strcmp(dev->lifecycle, "quarantined") == 0 ||
	    strcmp(fw_cert_state(dev, cert, now), "revoked") == 0)
		return FW_VB_ISOLATED;
	if (strcmp(dev->lifecycle, "end_of_support") == 0 ||
	    strcmp(dev->lifecycle, "decommissioned") == 0 ||
	    fw_policy_support_ended(dev->support_until, now))
		return FW_VB_CANNOT;
	return facts & FW_VULN_IN_CAMPAIGN ? FW_VB_REMEDIATING : FW_VB_EXPOSED;
}

/* ---- a set of device ids (open addressing, FNV-1a) ---- */

struct idset {
	char **slot;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int idset_has(const struct idset *t, const char *id)
{
	size_t i;

	if (t->cap == 0)
		return 0;
	for (i = fnv(id) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (strcmp(t->slot[i], id) == 0)
			return 1;
	return 0;
}

static int idset_add(struct idset *t, const char *id)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024, k;
		char **ns = calloc(cap, sizeof(*ns));

		if (ns == NULL)
			return FW_E_NOMEM;
		for (k = 0; k < t->cap; k++) {
			if (t->slot[k] == NULL)
				continue;
			for (i = fnv(t->slot[k]) & (cap - 1); ns[i]; i = (i + 1) & (cap - 1))
				;
			ns[i] = t->slot[k];
		}
		free(t->slot);
		t->slot = ns;
		t->cap = cap;
	}
	for (i = fnv(id) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (strcmp(t->slot[i], id) == 0)
			return FW_OK;
	t->slot[i] = strdup(id);
	if (t->slot[i] == NULL)
		return FW_E_NOMEM;
	t->n++;
	return FW_OK;
}

static void idset_clear(struct idset *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->slot[i]);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- the computation ---- */

/* ---- releases that name the advisory fixed ---- */

/* A release of the advisory's product (and family, when it names one):
 * only such a release can say it fixes the advisory (release add refuses
 * any other; this holds a document edited since to the same rule). */
static int release_of(const struct fw_vuln_advisory *a, const json_t *rel)
{
	const char *p = json_string_value(json_object_get(rel, "product"));
	const char *f = json_string_value(json_object_get(rel, "family"));

	return p && f && strcmp(p, a->product) == 0 && (!a->family[0] || strcmp(f, a->family) == 0);
}

int fw_vuln_release_doc_fixes(const struct fw_vuln_advisory *a, const json_t *rel)
{
	const char *ver = json_string_value(json_object_get(rel, "version"));
	struct fw_semver v;

	/* one without a semantic version cannot be shown to fix it by its
	 * version */
	return release_of(a, rel) &&
	       ((ver && fw_semver_parse(ver, &v, NULL) == FW_OK && fw_vuln_release_fixes(a, &v)) ||
	        fw_json_has_string(json_object_get(rel, "fixes"), a->id));
}

/* a version of a family that fixes the advisory by its release's fixes */
struct fixing {
	char family[FW_FIELD_MAX];
	struct fw_semver v;
};
struct fw_vuln_fixes {
	struct fixing *fix;
	size_t nfix, capfix;
};

struct run {
	struct fw_vuln_advisory a;
	struct fw_vuln_fixes *fixes;
	uint64_t adv_rec;
	uint8_t adv_lh[32];
	int64_t now;
	struct idset members;
	struct fw_policy_release *fixing; /* newest first */
	size_t nfixing;
	char campaigns[MAX_CAMPAIGNS][32];
	size_t ncampaigns;
	struct fw_jbuf list;
	struct fw_vuln_cohort *c;
};

/* an unfinished member: not installed, not ineligible, not rolled back,
 * not failed for good */
static int member_fn(void *arg, const struct fw_rollout_row *r)
{
	struct run *x = arg;

	if (r->state == FW_U_INSTALLED || r->state == FW_U_INELIGIBLE ||
	    r->state == FW_U_ROLLED_BACK || (r->state == FW_U_FAILED && r->due_ms == FW_ROLLOUT_FINAL))
		return 0;
	return idset_add(&x->members, r->device);
}

/* The versions that fix the advisory by a release's fixes list, read once
 * before a pass over the devices (a few releases, not the fleet). A
 * release whose version is not a semantic version fixes no device: a
 * device's version cannot be shown to be it. The signer's state does not
 * matter here: a device that installed the release runs the fix. */
static int fixes_from(const struct fw_vuln_advisory *a, const json_t *rels,
                      struct fw_vuln_fixes **out, struct fw_diag *d)
{
	struct fw_vuln_fixes *x = calloc(1, sizeof(*x));
	const json_t *rel;
	size_t i;
	int rc = FW_OK;

	*out = NULL;
	if (x == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_array_foreach(rels, i, rel) {
		const char *ver = json_string_value(json_object_get(rel, "version"));
		struct fixing *f;

		if (ver == NULL || !release_of(a, rel) || !fw_json_has_string(json_object_get(rel, "fixes"), a->id))
			continue;
		f = fw_grow(x->fix, &x->capfix, x->nfix + 1, sizeof(*f));
		if (f == NULL) {
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
			break;
		}
		x->fix = f;
		f = &x->fix[x->nfix];
		if (fw_semver_parse(ver, &f->v, NULL) != FW_OK)
			continue;
		snprintf(f->family, sizeof(f->family), "%s",
		         json_string_value(json_object_get(rel, "family")));
		x->nfix++;
	}
	if (rc != FW_OK) {
		fw_vuln_fixes_free(x);
		return rc;
	}
	*out = x;
	return FW_OK;
}

int fw_vuln_fixes_load(struct fw_store *s, const struct fw_vuln_advisory *a,
                       struct fw_vuln_fixes **out, struct fw_diag *d)
{
	json_t *rels = NULL;
	int rc = fw_registry_release_list(s, &rels, d);

	*out = NULL;
	if (rc == FW_OK)
		rc = fixes_from(a, rels, out, d);
	json_decref(rels);
	return rc;
}

void fw_vuln_fixes_free(struct fw_vuln_fixes *f)
{
	if (f) {
		free(f->fix);
		free(f);
	}
}

int fw_vuln_fixes_runs(const struct fw_vuln_fixes *x, const struct fw_device_row *dev)
{
	struct fw_semver v;
	size_t i;

	if (x == NULL || x->nfix == 0 || fw_semver_parse(dev->fw_version, &v, NULL) != FW_OK)
		return 0;
	for (i = 0; i < x->nfix; i++)
		if (strcmp(x->fix[i].family, dev->family) == 0 && fw_semver_cmp(&v, &x->fix[i].v) == 0)
			return 1;
	return 0;
}

/* signed by a key still active ("status" of the release list) */
static int signed_ok(const json_t *rel)
{
	const char *st = json_string_value(json_object_get(rel, "status"));

	return st && strcmp(st, "ok") == 0;
}

/* a release of the list by its full id */
static const json_t *release_in(const json_t *rels, const char *id)
{
	const json_t *rel;
	size_t i;

	json_array_foreach(rels, i, rel) {
		const char *rid = json_string_value(json_object_get(rel, "release_id"));

		if (rid && strcmp(rid, id) == 0)
			return rel;
	}
	return NULL;
}

/* The running or paused campaigns that remediate the advisory: their
 * release fixes it by its version, or names it in its fixes, or their
 * policy names it in remediates (of a release of the advisory's product
 * for these two); the release's signing key still active. */
static int find_campaigns(struct fw_store *s, struct run *x, const json_t *rels,
                          struct fw_diag *d)
{
	json_t *all = NULL, *c;
	const json_t *rel;
	size_t i;
	int rc = fw_campaign_list(s, &all, d);

	if (rc != FW_OK)
		return rc;
	json_array_foreach(all, i, c) {
		const char *st = json_string_value(json_object_get(c, "state"));
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *rid = json_string_value(json_object_get(c, "release_id"));

		if (st == NULL || id == NULL || rid == NULL) {
			rc = fw_diag_set(d, FW_E_STORE, "a campaign document is malformed");
			break;
		}
		if (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0)
			continue;
		rel = release_in(rels, rid);
		if (rel == NULL) {
			rc = fw_diag_set(d, FW_E_STORE, "campaign %s: no release %.16s in the registry", id,
			                 rid);
			break;
		}
		/* one signed by a key revoked since is never delivered; the
		 * policy's remediates is read tolerantly (absent or not an array
		 * of strings: none), of a release of the advisory's product */
		if (signed_ok(rel) &&
		    (fw_vuln_release_doc_fixes(&x->a, rel) ||
		     (release_of(&x->a, rel) &&
		      fw_json_has_string(json_object_get(json_object_get(c, "policy"), "remediates"), x->a.id)))) {
			if (x->ncampaigns == MAX_CAMPAIGNS) {
				rc = fw_diag_set(d, FW_E_CONFLICT,
				                 "more than %d campaigns remediate advisory %s",
				                 MAX_CAMPAIGNS, x->a.id);
				break;
			}
			snprintf(x->campaigns[x->ncampaigns++], sizeof(x->campaigns[0]), "%s", id);
			rc = fw_store_rollout_scan(s, id, -1, -1, INT64_MAX, member_fn, x, d);
			if (rc != FW_OK) {
				if (rc == FW_E_NOMEM)
					fw_diag_set(d, rc, "out of memory");
				break;
			}
		}
	}
	json_decref(all);
	return rc;
}

/* newest version first; a release without a semantic version last */
static int newest_first(const void *pa, const void *pb)
{
	const struct fw_policy_release *a = pa, *b = pb;

	if (a->has_version != b->has_version)
		return b->has_version - a->has_version;
	return a->has_version ? fw_semver_cmp(&b->version, &a->version) : strcmp(a->id, b->id);
}

/* The releases that would fix an exposed device: of the advisory's product
 * (and family), signed by a key still active, fixing it by their version
 * or by their fixes list; at most MAX_FIXING, the newest kept. */
static int find_fixing_releases(struct run *x, const json_t *rels, struct fw_diag *d)
{
	const json_t *rel;
	size_t i;
	int rc = FW_OK;

	json_array_foreach(rels, i, rel) {
		const char *id = json_string_value(json_object_get(rel, "release_id"));
		struct fw_policy_release *r;

		if (rc != FW_OK)
			break;
		if (id == NULL || !signed_ok(rel) || !fw_vuln_release_doc_fixes(&x->a, rel))
			continue;
		if (x->fixing == NULL &&
		    (x->fixing = calloc(MAX_FIXING + 1, sizeof(*x->fixing))) == NULL) {
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
			break;
		}
		/* loaded into the spare slot; when full, the oldest gives way */
		r = &x->fixing[x->nfixing];
		rc = fw_policy_release_from_doc(rel, r, d);
		if (rc == FW_OK && ++x->nfixing > MAX_FIXING) {
			qsort(x->fixing, x->nfixing, sizeof(*x->fixing), newest_first);
			x->nfixing = MAX_FIXING;
		}
	}
	if (rc == FW_OK && x->nfixing > 1)
		qsort(x->fixing, x->nfixing, sizeof(*x->fixing), newest_first);
	return rc;
}

/*
 * Why an exposed device is exposed, as eligibility judges it now against
 * the fixing releases of its family: eligible for one (no campaign reaches
 * it yet), none of its family, or the reasons of the newest (ineligible
 * for each). Appended to its line of the list and counted.
 */
static void exposed_why(struct run *x, const struct fw_device_row *dev,
                        const struct fw_cert_row *cert)
{
	static const struct fw_policy_target any = {NULL, 0};
	char why[FW_REASON_LIST_MAX];
	uint32_t first = 0;
	int have = 0, r;
	size_t i;

	for (i = 0; i < x->nfixing; i++) {
		uint32_t reasons;
		const char *state;

		if (strcmp(x->fixing[i].family, dev->family) != 0)
			continue;
		reasons = fw_policy_decide(&x->fixing[i], &any, dev, cert, x->now, &state);
		if (reasons == 0) {
			x->c->exposed_eligible++;
			fw_jbuf_raw(&x->list, " eligible", 9);
			return;
		}
		if (!have) {
			first = reasons;
			have = 1;
		}
	}
	if (!have) {
		x->c->exposed_no_release++;
		fw_jbuf_raw(&x->list, " no_fixing_release", 18);
		return;
	}
	for (r = 0; r < FW_REASON_COUNT; r++)
		if (first & (1u << r))
			x->c->exposed_by_reason[r]++;
	fw_reason_list(first, why, sizeof(why));
	fw_jbuf_raw(&x->list, " ", 1);
	fw_jbuf_raw(&x->list, why, strlen(why));
}

static int device_fn(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct run *x = arg;
	int b;

	x->c->devices++;
	if (strcmp(dev->product, x->a.product) != 0)
		return 0;
	b = fw_vuln_classify(&x->a, dev, cert, x->now,
	                     (x->members.n && idset_has(&x->members, dev->id) ? FW_VULN_IN_CAMPAIGN
	                                                                    : 0) |
	                         (fw_vuln_fixes_runs(x->fixes, dev) ? FW_VULN_RUNS_FIX : 0));
	if (b == FW_VB_NONE)
		return 0;
	x->c->counts[b]++;
	x->c->cohort++;
	fw_jbuf_raw(&x->list, dev->id, strlen(dev->id));
	fw_jbuf_raw(&x->list, " ", 1);
	fw_jbuf_raw(&x->list, fw_vuln_bucket_name(b), strlen(fw_vuln_bucket_name(b)));
	fw_jbuf_raw(&x->list, " ", 1);
	fw_jbuf_raw(&x->list, dev->fw_version, strlen(dev->fw_version));
	if (b == FW_VB_EXPOSED)
		exposed_why(x, dev, cert);
	fw_jbuf_raw(&x->list, "\n", 1);
	if (x->list.len > FW_VULN_MAX_LIST)
		return FW_E_TOO_LARGE;
	return x->list.oom ? FW_E_NOMEM : 0;
}

json_t *fw_vuln_cohort_json(const struct fw_vuln_cohort *c)
{
	json_t *o = json_object(), *counts = json_object();
	char hex[65];
	int b;

	if (o == NULL || counts == NULL) {
		json_decref(o);
		json_decref(counts);
		return NULL;
	}
	for (b = 1; b < FW_VB_COUNT; b++)
		json_object_set_new(counts, fw_vuln_bucket_name(b), json_integer((json_int_t)c->counts[b]));
	fw_hex_encode(c->list_sha256, 32, hex);
	json_object_set_new(o, "advisory", json_string(c->advisory));
	json_object_set_new(o, "at", json_integer((json_int_t)c->now));
	json_object_set_new(o, "devices", json_integer((json_int_t)c->devices));
	json_object_set_new(o, "cohort", json_integer((json_int_t)c->cohort));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "list_sha256", json_string(hex));
	json_object_set_new(o, "list_size", json_integer((json_int_t)c->list_size));
	{
		/* reason codes are values, not keys (record keys are [a-z0-9_]) */
		json_t *why = json_object(), *by = json_array();
		int r;

		for (r = 0; r < FW_REASON_COUNT; r++)
			if (c->exposed_by_reason[r])
				json_array_append_new(
				    by, json_pack("{sssI}", "code", fw_reason_code(r), "devices",
				                  (json_int_t)c->exposed_by_reason[r]));
		json_object_set_new(why, "fixing_releases", json_integer((json_int_t)c->nfixing));
		json_object_set_new(why, "eligible", json_integer((json_int_t)c->exposed_eligible));
		json_object_set_new(why, "no_fixing_release",
		                    json_integer((json_int_t)c->exposed_no_release));
		json_object_set_new(why, "ineligible", by);
		if (json_object_set_new(o, "exposed_why", why) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int affected_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct run *x = arg;
	json_t *j, *camps, *rels = NULL;
	size_t i;
	int rc;

	/* the releases, read once: the fixing versions, the fixing releases,
	 * the campaigns' releases */
	rc = fw_registry_release_list(s, &rels, d);
	if (rc == FW_OK)
		rc = fixes_from(&x->a, rels, &x->fixes, d);
	if (rc == FW_OK)
		rc = find_fixing_releases(x, rels, d);
	if (rc == FW_OK)
		rc = find_campaigns(s, x, rels, d);
	json_decref(rels);
	if (rc == FW_OK) {
		rc = fw_store_device_scan(s, device_fn, x, d);
		if (rc == FW_E_NOMEM)
			fw_diag_set(d, rc, "out of memory (the cohort list)");
		if (rc == FW_E_TOO_LARGE)
			fw_diag_set(d, rc, "the cohort list is over %u bytes", FW_VULN_MAX_LIST);
	}
	if (rc != FW_OK)
		return rc;
	/* an empty cohort is an empty list, still kept and recorded */
	rc = fw_store_blob_put(s, (const uint8_t *)(x->list.buf ? x->list.buf : ""), x->list.len,
	                       x->c->list_sha256, d);
	if (rc != FW_OK)
		return rc;
	x->c->list_size = x->list.len;
	x->c->ncampaigns = x->ncampaigns;
	x->c->nfixing = x->nfixing;
	j = fw_vuln_cohort_json(x->c);
	camps = json_array();
	if (j == NULL || camps == NULL) {
		json_decref(j);
		json_decref(camps);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	for (i = 0; i < x->ncampaigns; i++)
		json_array_append_new(camps, json_string(x->campaigns[i]));
	json_object_set_new(j, "campaigns", camps);
	json_object_set_new(j, "affected", json_string(x->a.affected_text));
	json_object_set_new(j, "fixed_in", x->a.has_fixed ? json_string(x->a.fixed_text)
	                                                  : json_null());
	rc = json_object_update(record, j) == 0 &&
	             fw_evidence_record_ref(record, x->adv_rec, x->adv_lh) == FW_OK
	         ? FW_OK
	         : fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_decref(j);
	return rc;
}

int fw_vuln_affected(struct fw_store *s, const char *id, int64_t now, const char *actor,
                     struct fw_vuln_cohort *out, struct fw_diag *d)
{
	struct fw_evidence_change ch = {affected_prepare, NULL, NULL};
	struct fw_vuln_cohort *c = calloc(1, sizeof(*c));
	struct run *x = calloc(1, sizeof(*x));
	json_t *rec = NULL;
	int rc;

	if (c == NULL || x == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	rc = fw_vuln_load(s, id, &x->a, &x->adv_rec, x->adv_lh, d);
	if (rc != FW_OK)
		goto out;
	x->now = now;
	x->c = c;
	snprintf(c->advisory, sizeof(c->advisory), "%s", x->a.id);
	c->now = now;
	rec = fw_evidence_record_new("vuln.affected", actor);
	if (rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	ch.arg = x;
	rc = fw_evidence_commit(s, &ch, rec, &c->idx, c->lh, d);
	if (rc == FW_OK)
		*out = *c;
out:
	json_decref(rec);
	if (x) {
		idset_clear(&x->members);
		free(x->list.buf);
		fw_vuln_fixes_free(x->fixes);
		free(x->fixing);
	}
	free(x);
	free(c);
	return rc;
}
