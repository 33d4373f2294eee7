/*
 * Campaigns before they run, on a real store: creation by a release
 * manager only, four-eyes approvals (every forgery and rule break refused),
 * a policy edit voiding approvals, and the audit of it all.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "suit/suit.h"

static struct fw_store *s;
static char rel_id[65], rb_id[65];

static struct fw_key *keypair(const char *base)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, harness_tmp_path(base), &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "key: %s", d.msg);
	return k;
}

static void add_release(struct fw_key *signer, const char *version, uint64_t seq, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", NULL, NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t *env = NULL, img[1024];
	size_t len = 0;
	json_t *doc = NULL;
	uint64_t idx;

	memset(img, (int)seq, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = seq;
	m.version = version;
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	CHECK_EQ(fw_suit_sign(&m, signer, &env, &len, &d), FW_OK);
	CHECK_EQ(harness_write(harness_tmp_path("r.suit"), env, len), 0);
	CHECK_EQ(harness_write(harness_tmp_path("r.bin"), img, sizeof(img)), 0);
	free(env);
	if (fw_registry_release_add(s, harness_tmp_path("r.suit"), harness_tmp_path("r.bin"), &t,
	                            "rm", &doc, &idx,
	                            &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "release: %s", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
}

static struct fw_key *alice, *bob, *carol, *dave, *mallory;

static void add_op(const char *name, const char *role)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;
	char pub[64];

	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (fw_registry_operator_add(s, name, role, harness_tmp_path(pub), "admin", &doc, &idx,
	                             &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "operator %s: %s", name, d.msg);
	json_decref(doc);
}

static void setup(void)
{
	struct fw_diag d = {{0}};
	struct fw_key *rk;
	json_t *doc = NULL;
	uint64_t idx;

	if (s)
		return;
	CHECK_EQ(fw_store_open(harness_tmp_path("c.db"), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/campaigns", harness_tmp_path("log"), &d),
	         FW_OK);
	rk = keypair("rel");
	CHECK_EQ(fw_registry_key_trust(s, harness_tmp_path("rel.pub"), "rel",
	                               FW_ROLE_RELEASE_SIGNING, "sec",
	                               &doc, &idx, &d),
	         FW_OK);
	json_decref(doc);
	add_release(rk, "2.4.1", 42, rel_id);
	add_release(rk, "2.3.9", 43, rb_id);
	fw_key_free(rk);
	alice = keypair("alice");     /* release manager */
	bob = keypair("bob");         /* approver */
	carol = keypair("carol");     /* approver */
	dave = keypair("dave");       /* operator, not an approver */
	mallory = keypair("mallory"); /* nobody */
	add_op("alice", FW_OP_RELEASE_MANAGER);
	add_op("bob", FW_OP_APPROVER);
	add_op("carol", FW_OP_APPROVER);
	add_op("dave", FW_OP_OPERATOR);
}

static void policy(struct fw_campaign_policy *p, uint32_t canary_approvals, uint32_t soak)
{
	char json[1024];
	struct fw_diag d = {{0}};

	snprintf(json, sizeof(json),
	         "{\"name\":\"test\",\"release\":\"%.12s\",\"stages\":["
	         "{\"name\":\"canary\",\"size\":{\"percent\":1},\"approvals\":%u,\"soak_s\":%u},"
	         "{\"name\":\"rest\",\"size\":{\"percent\":100},\"approvals\":1}],"
	         "\"rollback\":{\"release\":\"%.12s\"}}",
	         rel_id, canary_approvals, soak, rb_id);
	if (fw_campaign_policy_parse(json, strlen(json), "test", p, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "policy: %s", d.msg);
}

static int approve(const char *id, uint32_t stage, struct fw_key *k, int tamper,
                   struct fw_diag *d)
{
	json_t *doc = NULL, *after = NULL;
	char text[512], kid[65];
	uint8_t sig[64];
	uint64_t idx;
	int rc;

	CHECK_EQ(fw_campaign_get(s, id, &doc, d), FW_OK);
	CHECK_EQ(fw_campaign_approval_text(doc, stage, text, sizeof(text)), FW_OK);
	json_decref(doc);
	CHECK_EQ(fw_key_sign(k, (const uint8_t *)text, strlen(text), sig, d), FW_OK);
	if (tamper)
		sig[tamper % 64] ^= 1;
	fw_key_id_hex(k, kid);
	rc = fw_campaign_approve(s, id, stage, kid, sig, "test", &after, &idx, d);
	json_decref(after);
	return rc;
}

static const char *state_of(const char *id)
{
	static char out[32];
	json_t *doc = NULL;

	CHECK_EQ(fw_campaign_get(s, id, &doc, NULL), FW_OK);
	snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(doc, "state")));
	json_decref(doc);
	return out;
}

struct count {
	const char *code;
	int n;
};

static void on_finding(void *arg, const struct fw_audit_finding *f)
{
	struct count *c = arg;

	if (c->code == NULL || strcmp(f->code, c->code) == 0)
		c->n++;
}

static int audit_count(const char *code)
{
	struct count c = {code, 0};
	struct fw_audit_summary sum;
	struct fw_diag d = {{0}};
	int rc = fw_evidence_audit(s, NULL, 0, on_finding, &c, &sum, &d);

	if (rc != FW_OK && rc != FW_E_TAMPER)
		harness_fail(__FILE__, __LINE__, "audit: %s", d.msg);
	return c.n;
}

static void t_create(void)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;

	setup();
	policy(p, 2, 60);
	/* only an active release manager creates */
	CHECK_EQ(fw_campaign_create(s, p, "bob", "test", &doc, &idx, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "not a release_manager") != NULL);
	CHECK_EQ(fw_campaign_create(s, p, "zed", "test", &doc, &idx, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_campaign_create(s, p, "alice", "test", &doc, &idx, &d), FW_OK);
	CHECK(strcmp(json_string_value(json_object_get(doc, "id")), "c-0001") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "state")), "awaiting_approval") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "release_id")), rel_id) == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "rollback_release_id")), rb_id) == 0);
	CHECK_EQ(strlen(json_string_value(json_object_get(doc, "policy_sha256"))), 64);
	json_decref(doc);
	/* a policy naming an unknown release */
	snprintf(p->release, sizeof(p->release), "%s", "0000000000ff");
	CHECK_EQ(fw_campaign_create(s, p, "alice", "test", &doc, &idx, &d), FW_E_NOT_FOUND);
	free(p);
}

static void t_approvals(void)
{
	struct fw_diag d = {{0}};

	setup();
	/* the creator is a release manager: not an approver either way */
	CHECK_EQ(approve("c-0001", 0, alice, 0, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "not an approver") != NULL);
	/* not an approver, nobody's key, a forged signature */
	CHECK_EQ(approve("c-0001", 0, dave, 0, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "is an operator, not an approver") != NULL);
	CHECK_EQ(approve("c-0001", 0, mallory, 0, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "belongs to no operator") != NULL);
	CHECK_EQ(approve("c-0001", 0, bob, 5, &d), FW_E_SIGNATURE);
	CHECK_EQ(approve("c-0001", 0, bob, 63, &d), FW_E_SIGNATURE);
	/* bob's key signing carol's claim: the key id names carol, the key is bob's */
	{
		json_t *doc = NULL, *after = NULL;
		char text[512], kid[65];
		uint8_t sig[64];
		uint64_t idx;

		CHECK_EQ(fw_campaign_get(s, "c-0001", &doc, &d), FW_OK);
		CHECK_EQ(fw_campaign_approval_text(doc, 0, text, sizeof(text)), FW_OK);
		json_decref(doc);
		CHECK_EQ(fw_key_sign(bob, (const uint8_t *)text, strlen(text), sig, &d), FW_OK);
		fw_key_id_hex(carol, kid);
		CHECK_EQ(fw_campaign_approve(s, "c-0001", 0, kid, sig, "t", &after, &idx, &d),
		         FW_E_SIGNATURE);
		/* a signature for another stage is not one for this */
		CHECK_EQ(fw_campaign_get(s, "c-0001", &doc, &d), FW_OK);
		CHECK_EQ(fw_campaign_approval_text(doc, 1, text, sizeof(text)), FW_OK);
		json_decref(doc);
		CHECK_EQ(fw_key_sign(bob, (const uint8_t *)text, strlen(text), sig, &d), FW_OK);
		fw_key_id_hex(bob, kid);
		CHECK_EQ(fw_campaign_approve(s, "c-0001", 0, kid, sig, "t", &after, &idx, &d),
		         FW_E_SIGNATURE);
	}
	CHECK(strcmp(state_of("c-0001"), "awaiting_approval") == 0);
	/* one approver counts once */
	CHECK_EQ(approve("c-0001", 0, bob, 0, &d), FW_OK);
	CHECK_EQ(approve("c-0001", 0, bob, 0, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "already") != NULL);
	CHECK(strcmp(state_of("c-0001"), "awaiting_approval") == 0);
	CHECK_EQ(approve("c-0001", 0, carol, 0, &d), FW_OK);
	CHECK(strcmp(state_of("c-0001"), "ready") == 0);
	/* enough is enough; a stage that does not exist */
	CHECK_EQ(approve("c-0001", 9, carol, 0, &d), FW_E_ARG);
	/* a disabled approver's key no longer counts */
	{
		json_t *doc = NULL;
		uint64_t idx;

		CHECK_EQ(fw_registry_operator_disable(s, "carol", "left", "admin", &doc, &idx, &d), FW_OK);
		json_decref(doc);
		CHECK_EQ(approve("c-0001", 1, carol, 0, &d), FW_E_VERIFY);
		CHECK(strstr(d.msg, "disabled") != NULL);
		CHECK_EQ(approve("c-0001", 1, bob, 0, &d), FW_OK);
	}
}

static void t_edit_voids(void)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *before = NULL, *after = NULL;
	char old_text[512], kid[65];
	uint8_t sig[64];
	uint64_t idx;

	setup();
	CHECK_EQ(fw_campaign_get(s, "c-0001", &before, &d), FW_OK);
	CHECK_EQ(fw_campaign_approval_text(before, 0, old_text, sizeof(old_text)), FW_OK);
	policy(p, 1, 120);
	CHECK_EQ(fw_campaign_edit(s, "c-0001", p, "bob", "t", &doc, &idx, &d), FW_E_VERIFY);
	CHECK_EQ(fw_campaign_edit(s, "c-0001", p, "alice", "t", &doc, &idx, &d), FW_OK);
	CHECK_EQ(json_array_size(json_object_get(doc, "approvals")), 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "state")), "awaiting_approval") == 0);
	CHECK(!json_equal(json_object_get(doc, "policy_sha256"),
	                  json_object_get(before, "policy_sha256")));
	CHECK_EQ(json_integer_value(json_object_get(doc, "policy_version")), 2);
	json_decref(doc);
	json_decref(before);
	/* an approval of the old policy does not count for the new one */
	CHECK_EQ(fw_key_sign(bob, (const uint8_t *)old_text, strlen(old_text), sig, &d), FW_OK);
	fw_key_id_hex(bob, kid);
	CHECK_EQ(fw_campaign_approve(s, "c-0001", 0, kid, sig, "t", &after, &idx, &d),
	         FW_E_SIGNATURE);
	CHECK_EQ(approve("c-0001", 0, bob, 0, &d), FW_OK);
	CHECK(strcmp(state_of("c-0001"), "ready") == 0);
	/* records and documents agree */
	CHECK_EQ(audit_count(NULL), 0);
	/* an approval record whose signature does not verify (written around
	 * fw_campaign_approve) is found by the audit */
	{
		json_t *rec = fw_evidence_record_new("campaign.approve", "forger");
		char b64[89];

		memset(sig, 7, sizeof(sig));
		fw_b64_encode(sig, 64, b64);
		json_object_set_new(rec, "campaign", json_string("c-0001"));
		json_object_set_new(rec, "stage", json_integer(1));
		json_object_set_new(rec, "operator", json_string("bob"));
		json_object_set_new(rec, "signed", json_string(old_text));
		json_object_set_new(rec, "signature", json_string(b64));
		CHECK_EQ(fw_store_begin(s, &d), FW_OK);
		CHECK_EQ(fw_evidence_append(s, rec, &idx, NULL, &d), FW_OK);
		CHECK_EQ(fw_store_commit(s, &d), FW_OK);
		json_decref(rec);
		CHECK_EQ(audit_count("approval.bad_signature"), 1);
	}
	free(p);
	fw_store_close(s);
	s = NULL;
	fw_key_free(alice);
	fw_key_free(bob);
	fw_key_free(carol);
	fw_key_free(dave);
	fw_key_free(mallory);
}

static const struct harness_test tests[] = {
    {"create", t_create},
    {"approvals", t_approvals},
    {"edit_voids", t_edit_voids},
};
HARNESS_MAIN(tests)
