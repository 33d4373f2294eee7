/*
 * Campaigns before they run: creation by a release manager from a validated
 * policy, approvals (signatures by registered approvers over the campaign
 * digest), and policy edits, which void every approval. Each change is one
 * evidence record written with the campaign document.
 */
#define _POSIX_C_SOURCE 200809L
#include "rollout/rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"

#define KIND_CAMPAIGN "campaign"

int fw_campaign_get(struct fw_store *s, const char *id, json_t **doc, struct fw_diag *d)
{
	int rc = fw_registry_doc_get(s, KIND_CAMPAIGN, id, doc, d);

	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no campaign '%s' (see 'fwtrust campaign list')", id);
	return rc;
}

int fw_campaign_list(struct fw_store *s, json_t **out, struct fw_diag *d)
{
	return fw_registry_doc_list(s, KIND_CAMPAIGN, out, d);
}

/* The text an approver signs (Ed25519 over these exact bytes). */
int fw_campaign_approval_text(const json_t *doc, uint32_t stage, char *out, size_t cap)
{
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *rel = json_string_value(json_object_get(doc, "release_id"));
	const char *pol = json_string_value(json_object_get(doc, "policy_sha256"));
	int n;

	if (id == NULL || rel == NULL || pol == NULL)
		return FW_E_STORE;
	n = snprintf(out, cap,
	             "fwtrust-campaign-approval/v1\ncampaign %s\nrelease %s\npolicy %s\nstage %u\n",
	             id, rel, pol, stage);
	return n > 0 && (size_t)n < cap ? FW_OK : FW_E_TOO_LARGE;
}

/* Each advisory the policy remediates is in the registry (vuln depends on
 * rollout, not the other way round: fw_registry_advisory_target) and is
 * about the product of the release (doc). */
static int check_remediates(struct fw_store *s, const struct fw_campaign_policy *p,
                            const json_t *rel, struct fw_diag *d)
{
	const char *product = json_string_value(json_object_get(rel, "product"));
	char ap[FW_FIELD_MAX], af[FW_FIELD_MAX];
	uint64_t rec;
	uint8_t lh[32];
	size_t i;
	int rc;

	for (i = 0; i < p->nremediates; i++) {
		rc = fw_registry_advisory_target(s, p->remediates[i], ap, af, &rec, lh, d);
		if (rc == FW_E_NOT_FOUND)
			return fw_diag_set(d, rc, "remediates: no advisory '%s' (see 'fwtrust vuln list')",
			                   p->remediates[i]);
		if (rc != FW_OK)
			return rc;
		if (product == NULL || strcmp(ap, product) != 0)
			return fw_diag_set(d, FW_E_CONFLICT,
			                   "remediates: advisory %s is about product '%s', the release is "
			                   "for '%s'",
			                   p->remediates[i], ap, product ? product : "?");
	}
	return FW_OK;
}

/* The release and rollback release named by a policy, resolved to full ids;
 * a release signed by a revoked key cannot be rolled out; the advisories
 * it remediates exist and are about the release's product. */
static int resolve_releases(struct fw_store *s, const struct fw_campaign_policy *p,
                            char rel[65], char rb[65], struct fw_diag *d)
{
	json_t *doc = NULL;
	const char *st;
	int rc = fw_registry_release_get(s, p->release, &doc, d);

	if (rc != FW_OK)
		return rc;
	snprintf(rel, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	st = json_string_value(json_object_get(doc, "status"));
	if (st == NULL || strcmp(st, "ok") != 0) {
		json_decref(doc);
		return fw_diag_set(d, FW_E_VERIFY, "release %.16s is signed by a revoked key", rel);
	}
	rc = check_remediates(s, p, doc, d);
	json_decref(doc);
	if (rc != FW_OK)
		return rc;
	rb[0] = 0;
	if (p->rollback_release[0]) {
		rc = fw_registry_release_get(s, p->rollback_release, &doc, d);
		if (rc != FW_OK)
			return rc;
		snprintf(rb, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
		json_decref(doc);
		if (strcmp(rb, rel) == 0)
			return fw_diag_set(d, FW_E_ARG, "rollback.release is the campaign's release");
	}
	return FW_OK;
}

/* policy, its canonical digest and what follows from it, into doc */
static int set_policy(json_t *doc, const struct fw_campaign_policy *p, const char *rel,
                      const char *rb, struct fw_diag *d)
{
	json_t *pj = fw_campaign_policy_json(p);
	char *canon = NULL, hex[65];
	uint8_t sha[32];
	size_t len = 0;
	int rc;

	if (pj == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	/* the resolved ids are what was approved, not the prefixes written */
	json_object_set_new(pj, "release", json_string(rel));
	if (rb[0])
		json_object_set_new(json_object_get(pj, "rollback"), "release", json_string(rb));
	rc = fw_json_canonical(pj, &canon, &len, d);
	if (rc != FW_OK) {
		json_decref(pj);
		return rc;
	}
	fw_sha256((const uint8_t *)canon, len, sha);
	free(canon);
	fw_hex_encode(sha, 32, hex);
	json_object_set_new(doc, "policy", pj);
	json_object_set_new(doc, "policy_sha256", json_string(hex));
	json_object_set_new(doc, "release_id", json_string(rel));
	json_object_set_new(doc, "rollback_release_id", rb[0] ? json_string(rb) : json_null());
	json_object_set_new(doc, "name", json_string(p->name));
	json_object_set_new(doc, "approvals", json_array());
	json_object_set_new(doc, "state", json_string(p->stages[0].approvals ? "awaiting_approval"
	                                                                     : "ready"));
	return FW_OK;
}

static int max_seq(void *arg, const char *id, const char *doc)
{
	uint64_t *max = arg, v = 0;

	(void)doc;
	if (strncmp(id, "c-", 2) == 0 && fw_parse_u64(id + 2, &v) == FW_OK && v > *max)
		*max = v;
	return 0;
}

/* ---- create ---- */

struct create {
	const struct fw_campaign_policy *p;
	const char *creator;
	json_t *doc;
	char id[32];
};

static int create_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	static const char *const roles[] = {FW_OP_RELEASE_MANAGER, FW_OP_ADMIN, NULL};
	struct create *c = arg;
	json_t *op = NULL;
	char rel[65], rb[65];
	uint64_t n = 0, idx;
	uint8_t lh[32];
	int rc;

	rc = fw_registry_operator_role(s, c->creator, roles, &op, d);
	if (rc == FW_OK)
		rc = fw_evidence_ref_parse(json_object_get(op, "added"), &idx, lh);
	if (rc == FW_OK)
		rc = resolve_releases(s, c->p, rel, rb, d);
	if (rc == FW_OK)
		rc = fw_store_object_scan(s, KIND_CAMPAIGN, max_seq, &n, d);
	json_decref(op);
	if (rc != FW_OK)
		return rc == FW_E_STORE && d && !d->msg[0]
		           ? fw_diag_set(d, rc, "operator %s: its record is malformed", c->creator)
		           : rc;
	snprintf(c->id, sizeof(c->id), "c-%04llu", (unsigned long long)(n + 1));
	c->doc = json_pack("{sssssIsI}", "id", c->id, "creator", c->creator, "policy_version",
	                   (json_int_t)1, "stage", (json_int_t)0);
	if (c->doc == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = set_policy(c->doc, c->p, rel, rb, d);
	if (rc != FW_OK)
		return rc;
	json_object_set_new(record, "campaign", json_string(c->id));
	json_object_set_new(record, "creator", json_string(c->creator));
	json_object_set(record, "policy", json_object_get(c->doc, "policy"));
	json_object_set(record, "policy_sha256", json_object_get(c->doc, "policy_sha256"));
	json_object_set(record, "state", json_object_get(c->doc, "state"));
	return fw_evidence_record_ref(record, idx, lh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int create_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                        struct fw_diag *d)
{
	struct create *c = arg;

	json_object_set_new(c->doc, "created", fw_evidence_ref_json(idx, lh));
	json_object_set_new(c->doc, "updated", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_CAMPAIGN, c->id, c->doc, 0, d);
}

int fw_campaign_create(struct fw_store *s, const struct fw_campaign_policy *p,
                       const char *creator, const char *actor, json_t **out, uint64_t *idx,
                       struct fw_diag *d)
{
	struct create c;
	struct fw_evidence_change change = {create_prepare, create_apply, &c};
	json_t *rec = fw_evidence_record_new("campaign.create", actor);
	int rc;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.creator = creator;
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(c.doc);
	json_decref(c.doc);
	json_decref(rec);
	return rc;
}

/* ---- approve ---- */

struct approve {
	const char *id;
	uint32_t stage;
	const char *key_id;
	const uint8_t *sig;
	json_t *doc, *op;
	char text[512];
	char name[80];
};

static int approve_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	static const char *const roles[] = {FW_OP_APPROVER, NULL};
	struct approve *a = arg;
	struct fw_key *pub = NULL;
	const char *state, *name, *creator, *pem;
	json_t *ap, *stages;
	char sigb64[89];
	uint64_t cidx, oidx;
	uint8_t clh[32], olh[32];
	size_t i, have = 0, need;
	int rc;

	rc = fw_campaign_get(s, a->id, &a->doc, d);
	if (rc != FW_OK)
		return rc;
	state = json_string_value(json_object_get(a->doc, "state"));
	if (state == NULL || (strcmp(state, "awaiting_approval") != 0 && strcmp(state, "ready") != 0 &&
	                      strcmp(state, "running") != 0 && strcmp(state, "paused") != 0))
		return fw_diag_set(d, FW_E_CONFLICT, "campaign %s is %s: nothing to approve", a->id,
		                   state ? state : "?");
	stages = json_object_get(json_object_get(a->doc, "policy"), "stages");
	if (a->stage >= json_array_size(stages))
		return fw_diag_set(d, FW_E_ARG, "campaign %s has no stage %u (it has %zu)", a->id,
		                   a->stage, json_array_size(stages));
	need = (size_t)json_integer_value(json_object_get(json_array_get(stages, a->stage),
	                                                  "approvals"));
	/* who signed: a registered, active approver who did not create it */
	rc = fw_registry_operator_by_key(s, a->key_id, &a->op, d);
	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, FW_E_VERIFY, "the signing key %.16s belongs to no operator",
		                   a->key_id);
	if (rc != FW_OK)
		return rc;
	snprintf(a->name, sizeof(a->name), "%s", json_string_value(json_object_get(a->op, "name")));
	name = a->name;
	json_decref(a->op);
	a->op = NULL;
	rc = fw_registry_operator_role(s, name, roles, &a->op, d);
	if (rc != FW_OK)
		return rc;
	creator = json_string_value(json_object_get(a->doc, "creator"));
	if (creator && strcmp(creator, name) == 0)
		return fw_diag_set(d, FW_E_VERIFY,
		                   "operator %s created campaign %s and cannot approve it (four eyes)",
		                   name, a->id);
	json_array_foreach(json_object_get(a->doc, "approvals"), i, ap) {
		const char *who;

		if ((uint32_t)json_integer_value(json_object_get(ap, "stage")) != a->stage)
			continue;
		who = json_string_value(json_object_get(ap, "operator"));
		have++;
		if (who && strcmp(who, name) == 0)
			return fw_diag_set(d, FW_E_CONFLICT,
			                   "operator %s approved stage %u of campaign %s already", name,
			                   a->stage, a->id);
	}
	if (need == 0 || have >= need)
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "stage %u of campaign %s needs %zu approval%s and has %zu", a->stage,
		                   a->id, need, need == 1 ? "" : "s", have);
	/* the signature, by the registered key, over this campaign's text */
	rc = fw_campaign_approval_text(a->doc, a->stage, a->text, sizeof(a->text));
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "campaign %s: its document is malformed", a->id);
	pem = json_string_value(json_object_get(a->op, "pem"));
	rc = pem ? fw_key_from_pem(pem, strlen(pem), &pub, d) : FW_E_STORE;
	if (rc != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "operator %s: the stored key is unusable", name);
	rc = fw_key_verify(pub, (const uint8_t *)a->text, strlen(a->text), a->sig);
	fw_key_free(pub);
	if (rc != FW_OK)
		return fw_diag_set(d, FW_E_SIGNATURE,
		                   "the approval signature does not verify with operator %s's key over "
		                   "campaign %s (policy %.16s, stage %u)",
		                   name, a->id,
		                   json_string_value(json_object_get(a->doc, "policy_sha256")), a->stage);
	if (fw_evidence_ref_parse(json_object_get(a->doc, "updated"), &cidx, clh) != FW_OK || fw_evidence_ref_parse(json_object_get(a->op, "added"), &oidx, olh) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "campaign %s: a record reference is malformed", a->id);
	fw_b64_encode(a->sig, 64, sigb64);
	json_object_set_new(record, "campaign", json_string(a->id));
	json_object_set_new(record, "stage", json_integer(a->stage));
	json_object_set_new(record, "operator", json_string(name));
	json_object_set_new(record, "key_id", json_string(a->key_id));
	json_object_set(record, "policy_sha256", json_object_get(a->doc, "policy_sha256"));
	json_object_set_new(record, "signed", json_string(a->text));
	json_object_set_new(record, "signature", json_string(sigb64));
	json_object_set_new(record, "approvals", json_integer((json_int_t)(have + 1)));
	json_object_set_new(record, "required", json_integer((json_int_t)need));
	json_array_append_new(json_object_get(a->doc, "approvals"),
	                      json_pack("{sI ss ss ss ss}", "stage", (json_int_t)a->stage, "operator", name,
	                                "key_id", a->key_id, "signature", sigb64, "policy_sha256",
	                                json_string_value(json_object_get(a->doc, "policy_sha256"))));
	if (a->stage == 0 && have + 1 >= need && strcmp(state, "awaiting_approval") == 0)
		json_object_set_new(a->doc, "state", json_string("ready"));
	json_object_set(record, "state", json_object_get(a->doc, "state"));
	if (fw_evidence_record_ref(record, cidx, clh) != FW_OK ||
	    fw_evidence_record_ref(record, oidx, olh) != FW_OK)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	return FW_OK;
}

static int approve_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                         struct fw_diag *d)
{
	struct approve *a = arg;
	json_t *last = json_array_get(json_object_get(a->doc, "approvals"),
	                              json_array_size(json_object_get(a->doc, "approvals")) - 1);

	json_object_set_new(last, "record", fw_evidence_ref_json(idx, lh));
	json_object_set_new(a->doc, "updated", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_CAMPAIGN, a->id, a->doc, 1, d);
}

int fw_campaign_approve(struct fw_store *s, const char *id, uint32_t stage, const char *key_id,
                        const uint8_t sig[64], const char *actor, json_t **out, uint64_t *idx,
                        struct fw_diag *d)
{
	struct approve a;
	struct fw_evidence_change change = {approve_prepare, approve_apply, &a};
	json_t *rec = fw_evidence_record_new("campaign.approve", actor);
	int rc;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.stage = stage;
	a.key_id = key_id;
	a.sig = sig;
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(a.doc);
	json_decref(a.doc);
	json_decref(a.op);
	json_decref(rec);
	return rc;
}

/* ---- edit ---- */

struct edit {
	const char *id, *by;
	const struct fw_campaign_policy *p;
	json_t *doc;
};

static int edit_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	static const char *const roles[] = {FW_OP_RELEASE_MANAGER, FW_OP_ADMIN, NULL};
	struct edit *e = arg;
	json_t *op = NULL;
	const char *state;
	char rel[65], rb[65];
	size_t voided;
	uint64_t cidx;
	uint8_t clh[32];
	int rc;

	rc = fw_campaign_get(s, e->id, &e->doc, d);
	if (rc != FW_OK)
		return rc;
	state = json_string_value(json_object_get(e->doc, "state"));
	if (state == NULL || (strcmp(state, "awaiting_approval") != 0 && strcmp(state, "ready") != 0))
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "campaign %s is %s: its policy can change only before it starts",
		                   e->id, state ? state : "?");
	rc = fw_registry_operator_role(s, e->by, roles, &op, d);
	json_decref(op);
	if (rc == FW_OK)
		rc = resolve_releases(s, e->p, rel, rb, d);
	if (rc != FW_OK)
		return rc;
	if (fw_evidence_ref_parse(json_object_get(e->doc, "updated"), &cidx, clh) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "campaign %s: a record reference is malformed", e->id);
	voided = json_array_size(json_object_get(e->doc, "approvals"));
	rc = set_policy(e->doc, e->p, rel, rb, d); /* approvals voided with it */
	if (rc != FW_OK)
		return rc;
	json_object_set_new(e->doc, "policy_version",
	                    json_integer(json_integer_value(json_object_get(e->doc, "policy_version")) +
	                                 1));
	json_object_set_new(record, "campaign", json_string(e->id));
	json_object_set_new(record, "by", json_string(e->by));
	json_object_set(record, "policy", json_object_get(e->doc, "policy"));
	json_object_set(record, "policy_sha256", json_object_get(e->doc, "policy_sha256"));
	json_object_set(record, "policy_version", json_object_get(e->doc, "policy_version"));
	json_object_set_new(record, "approvals_voided", json_integer((json_int_t)voided));
	json_object_set(record, "state", json_object_get(e->doc, "state"));
	return fw_evidence_record_ref(record, cidx, clh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int edit_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                      struct fw_diag *d)
{
	struct edit *e = arg;

	json_object_set_new(e->doc, "updated", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_CAMPAIGN, e->id, e->doc, 1, d);
}

int fw_campaign_edit(struct fw_store *s, const char *id, const struct fw_campaign_policy *p,
                     const char *by, const char *actor, json_t **out, uint64_t *idx,
                     struct fw_diag *d)
{
	struct edit e = {id, by, p, NULL};
	struct fw_evidence_change change = {edit_prepare, edit_apply, &e};
	json_t *rec = fw_evidence_record_new("campaign.edit", actor);
	int rc;

	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(e.doc);
	json_decref(e.doc);
	json_decref(rec);
	return rc;
}
