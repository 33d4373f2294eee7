/*
 * Operators: the people who act on campaigns, each with a role and an
 * Ed25519 public key (their approvals are signatures by it). Adding and
 * disabling one are recorded; a disabled operator's key signs nothing that
 * counts.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

#define KIND_OPERATOR "operator"

static const char *const roles[] = {FW_OP_ADMIN, FW_OP_RELEASE_MANAGER, FW_OP_APPROVER,
                                    FW_OP_OPERATOR, FW_OP_AUDITOR};

int fw_operator_role_valid(const char *role)
{
	size_t i;

	for (i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			return 1;
	return 0;
}

int fw_registry_operator_get(struct fw_store *s, const char *name, json_t **doc,
                             struct fw_diag *d)
{
	int rc = fw_registry_doc_get(s, KIND_OPERATOR, name, doc, d);

	if (rc == FW_E_NOT_FOUND)
		return fw_diag_set(d, rc, "no operator '%s' (see 'fwtrust operator list')", name);
	return rc;
}

int fw_registry_operator_list(struct fw_store *s, json_t **ops, struct fw_diag *d)
{
	return fw_registry_doc_list(s, KIND_OPERATOR, ops, d);
}

struct by_key {
	const char *kid;
	char name[80];
	int n;
};

static int match_key(void *arg, const char *id, const char *doc)
{
	struct by_key *b = arg;
	json_t *j = json_loads(doc, 0, NULL);
	const char *k = json_string_value(json_object_get(j, "key_id"));

	if (k && strcmp(k, b->kid) == 0) {
		snprintf(b->name, sizeof(b->name), "%s", id);
		b->n++;
	}
	json_decref(j);
	return 0;
}

int fw_registry_operator_by_key(struct fw_store *s, const char *key_id, json_t **doc,
                                struct fw_diag *d)
{
	struct by_key b = {key_id, "", 0};
	int rc = fw_store_object_scan(s, KIND_OPERATOR, match_key, &b, d);

	if (rc != FW_OK)
		return rc;
	if (b.n == 0)
		return fw_diag_set(d, FW_E_NOT_FOUND, "key %.16s belongs to no operator", key_id);
	return fw_registry_operator_get(s, b.name, doc, d);
}

/* ---- add ---- */

struct op_add {
	const char *name, *kid;
	json_t *doc;
};

/* prepare: name and key are unique, judged inside the transaction */
static int add_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct op_add *a = arg;
	json_t *other = NULL;
	int rc;

	(void)record;
	if (fw_registry_operator_get(s, a->name, &other, NULL) == FW_OK) {
		json_decref(other);
		return fw_diag_set(d, FW_E_CONFLICT, "an operator named '%s' exists already", a->name);
	}
	rc = fw_registry_operator_by_key(s, a->kid, &other, NULL);
	if (rc == FW_OK) {
		rc = fw_diag_set(d, FW_E_CONFLICT, "--pub: this key belongs to operator '%s' already",
		                 json_string_value(json_object_get(other, "name")));
		json_decref(other);
		return rc;
	}
	return FW_OK;
}

static int add_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct op_add *a = arg;

	json_object_set_new(a->doc, "added", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_OPERATOR, a->name, a->doc, 0, d);
}

int fw_registry_operator_add(struct fw_store *s, const char *name, const char *role,
                             const char *pub_path, const char *actor, json_t **out,
                             uint64_t *idx, struct fw_diag *d)
{
	struct op_add a = {name, NULL, NULL};
	struct fw_evidence_change change = {add_prepare, add_apply, &a};
	struct fw_key *key = NULL;
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	char kid[65];
	json_t *rec = NULL;
	int rc;

	if (!fw_registry_name_ok(name))
		return fw_diag_set(d, FW_E_ARG, "operator name '%s': 1-64 of [A-Za-z0-9._-]", name);
	if (!fw_operator_role_valid(role))
		return fw_diag_set(d, FW_E_ARG,
		                   "--role: '%s' is not a role (admin, release_manager, approver, "
		                   "operator, auditor)",
		                   role ? role : "");
	rc = fw_key_load_public(pub_path, &key, d);
	if (rc != FW_OK)
		return rc;
	if (fw_key_alg(key) != FW_KEY_ALG_ED25519) {
		rc = fw_diag_set(d, FW_E_KEY,
		                 "%s: operator keys are Ed25519 (make one with 'fwtrust key generate "
		                 "--alg ed25519')",
		                 pub_path);
		goto out;
	}
	rc = fw_file_read(pub_path, FW_MAX_KEY_FILE, &pem, &pem_len, d);
	if (rc != FW_OK)
		goto out;
	fw_key_id_hex(key, kid);
	a.kid = kid;
	a.doc = json_pack("{ss ss ss ss ss% ss}", "name", name, "role", role, "key_id", kid, "alg",
	                  "ed25519", "pem", (const char *)pem, pem_len, "state", "active");
	rec = fw_evidence_record_new("operator.add", actor);
	if (a.doc == NULL || rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "name", json_string(name));
	json_object_set_new(rec, "role", json_string(role));
	json_object_set_new(rec, "key_id", json_string(kid));
	json_object_set_new(rec, "pem", json_stringn((const char *)pem, pem_len));
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(a.doc);
out:
	json_decref(a.doc);
	json_decref(rec);
	free(pem);
	fw_key_free(key);
	return rc;
}

/* ---- disable ---- */

struct op_disable {
	const char *name, *reason;
	json_t *doc;
};

static int disable_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct op_disable *o = arg;
	json_t *added;
	const char *state;
	uint64_t idx;
	uint8_t lh[32];
	int rc = fw_registry_operator_get(s, o->name, &o->doc, d);

	if (rc != FW_OK)
		return rc;
	state = json_string_value(json_object_get(o->doc, "state"));
	if (state == NULL || strcmp(state, "active") != 0)
		return fw_diag_set(d, FW_E_CONFLICT, "operator %s is disabled already", o->name);
	added = json_object_get(o->doc, "added");
	json_object_set_new(record, "name", json_string(o->name));
	json_object_set_new(record, "key_id", json_incref(json_object_get(o->doc, "key_id")));
	json_object_set_new(record, "reason", json_string(o->reason));
	if (fw_evidence_ref_parse(added, &idx, lh) != FW_OK ||
	    fw_evidence_record_ref(record, idx, lh) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "operator %s: its record reference is malformed",
		                   o->name);
	json_object_set_new(o->doc, "state", json_string("disabled"));
	json_object_set_new(o->doc, "disable_reason", json_string(o->reason));
	return FW_OK;
}

static int disable_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                         struct fw_diag *d)
{
	struct op_disable *o = arg;

	json_object_set_new(o->doc, "disabled", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_OPERATOR, o->name, o->doc, 1, d);
}

int fw_registry_operator_disable(struct fw_store *s, const char *name, const char *reason,
                                 const char *actor, json_t **out, uint64_t *idx,
                                 struct fw_diag *d)
{
	struct op_disable o = {name, reason, NULL};
	struct fw_evidence_change change = {disable_prepare, disable_apply, &o};
	json_t *rec;
	int rc;

	if (fw_registry_reason_ok(reason, 1000, d) != FW_OK)
		return FW_E_ARG;
	rec = fw_evidence_record_new("operator.disable", actor);
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(o.doc);
	json_decref(o.doc);
	json_decref(rec);
	return rc;
}

static const char *article(const char *w)
{
	return strchr("aeiou", w[0]) && w[0] ? "an" : "a";
}

int fw_registry_operator_role(struct fw_store *s, const char *name, const char *const *allowed,
                              json_t **op, struct fw_diag *d)
{
	const char *state, *role;
	size_t i;
	int rc = fw_registry_operator_get(s, name, op, d);

	if (rc != FW_OK)
		return rc;
	state = json_string_value(json_object_get(*op, "state"));
	role = json_string_value(json_object_get(*op, "role"));
	if (state == NULL || strcmp(state, "active") != 0)
		return fw_diag_set(d, FW_E_VERIFY, "operator %s is disabled", name);
	for (i = 0; allowed[i]; i++)
		if (role && strcmp(role, allowed[i]) == 0)
			return FW_OK;
	return fw_diag_set(d, FW_E_VERIFY, "operator %s is %s %s, not %s %s", name,
	                   article(role ? role : "?"), role ? role : "?", article(allowed[0]),
	                   allowed[0]);
}
