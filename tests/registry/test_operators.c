/*
 * Operators on a real store: roles, unique names and keys, Ed25519 only,
 * disabling recorded, and an operator document edited behind fwtrust's back
 * found by the audit.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"

static void keypair(const char *base, int alg)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(alg, &k, &d) != FW_OK ||
	    fw_key_save(k, harness_tmp_path(base), &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "key: %s", d.msg);
	fw_key_free(k);
}

static int findings(struct fw_store *s, const char *code)
{
	struct fw_audit_summary sum;
	struct fw_diag d = {{0}};
	int rc = fw_evidence_audit(s, NULL, 0, NULL, NULL, &sum, &d);

	(void)code;
	if (rc != FW_OK && rc != FW_E_TAMPER)
		harness_fail(__FILE__, __LINE__, "audit: %s", d.msg);
	return (int)sum.findings;
}

static void t_operators(void)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *list = NULL;
	uint64_t idx = 0, before, size;
	uint8_t root[32], *rec = NULL, lh[32];
	size_t len = 0;

	CHECK_EQ(fw_store_open(harness_tmp_path("ops.db"), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/ops", harness_tmp_path("log"), &d), FW_OK);
	keypair("alice", FW_KEY_ALG_ED25519);
	keypair("bob", FW_KEY_ALG_ED25519);
	keypair("carol", FW_KEY_ALG_P256);

	CHECK_EQ(fw_registry_operator_add(s, "alice", FW_OP_RELEASE_MANAGER,
	                                  harness_tmp_path("alice.pub"),
	                                  "admin", &doc, &idx, &d),
	         FW_OK);
	CHECK(strcmp(json_string_value(json_object_get(doc, "state")), "active") == 0);
	json_decref(doc);
	CHECK_EQ(fw_evidence_get(s, idx, &rec, &len, lh, &d), FW_OK);
	CHECK(strstr((char *)rec, "\"type\":\"operator.add\"") != NULL);
	CHECK(strstr((char *)rec, "\"role\":\"release_manager\"") != NULL);
	free(rec);
	CHECK_EQ(fw_registry_operator_add(s, "bob", FW_OP_APPROVER, harness_tmp_path("bob.pub"),
	                                  "admin", &doc,
	                                  &idx, &d),
	         FW_OK);
	json_decref(doc);

	/* refusals: nothing recorded */
	CHECK_EQ(fw_evidence_size(s, &before, root, &d), FW_OK);
	CHECK_EQ(fw_registry_operator_add(s, "alice", FW_OP_APPROVER, harness_tmp_path("bob.pub"),
	                                  "admin",
	                                  &doc, &idx, &d),
	         FW_E_CONFLICT);
	CHECK(strstr(d.msg, "named 'alice'") != NULL);
	CHECK_EQ(fw_registry_operator_add(s, "bob2", FW_OP_APPROVER, harness_tmp_path("bob.pub"),
	                                  "admin", &doc,
	                                  &idx, &d),
	         FW_E_CONFLICT);
	CHECK(strstr(d.msg, "belongs to operator 'bob'") != NULL);
	CHECK_EQ(fw_registry_operator_add(s, "carol", FW_OP_APPROVER, harness_tmp_path("carol.pub"),
	                                  "admin",
	                                  &doc, &idx, &d),
	         FW_E_KEY);
	CHECK(strstr(d.msg, "Ed25519") != NULL);
	CHECK_EQ(fw_registry_operator_add(s, "dave", "boss", harness_tmp_path("carol.pub"), "admin",
	                                  &doc,
	                                  &idx, &d),
	         FW_E_ARG);
	CHECK(strstr(d.msg, "approver") != NULL);
	CHECK_EQ(fw_registry_operator_add(s, "a b", FW_OP_APPROVER, harness_tmp_path("carol.pub"),
	                                  "admin",
	                                  &doc, &idx, &d),
	         FW_E_ARG);
	CHECK_EQ(fw_registry_operator_add(s, "erin", FW_OP_APPROVER, harness_tmp_path("nope.pub"),
	                                  "admin",
	                                  &doc, &idx, &d),
	         FW_E_IO);
	CHECK_EQ(fw_evidence_size(s, &size, root, &d), FW_OK);
	CHECK_EQ(size, before);

	/* found by key; disabled once, with its reason, referring to its add */
	{
		struct fw_key *k = NULL;
		char kid[65];

		CHECK_EQ(fw_key_load_public(harness_tmp_path("bob.pub"), &k, &d), FW_OK);
		fw_key_id_hex(k, kid);
		fw_key_free(k);
		CHECK_EQ(fw_registry_operator_by_key(s, kid, &doc, &d), FW_OK);
		CHECK(strcmp(json_string_value(json_object_get(doc, "name")), "bob") == 0);
		json_decref(doc);
		CHECK_EQ(fw_registry_operator_by_key(s, "00", &doc, &d), FW_E_NOT_FOUND);
	}
	CHECK_EQ(fw_registry_operator_disable(s, "bob", "left the company", "admin", &doc, &idx, &d),
	         FW_OK);
	CHECK(strcmp(json_string_value(json_object_get(doc, "state")), "disabled") == 0);
	json_decref(doc);
	CHECK_EQ(fw_evidence_get(s, idx, &rec, &len, lh, &d), FW_OK);
	CHECK(strstr((char *)rec, "\"type\":\"operator.disable\"") != NULL);
	CHECK(strstr((char *)rec, "\"reason\":\"left the company\"") != NULL);
	CHECK(strstr((char *)rec, "\"refs\":[{") != NULL);
	free(rec);
	CHECK_EQ(fw_registry_operator_disable(s, "bob", "again", "admin", &doc, &idx, &d),
	         FW_E_CONFLICT);
	CHECK_EQ(fw_registry_operator_disable(s, "zed", "who", "admin", &doc, &idx, &d),
	         FW_E_NOT_FOUND);
	CHECK_EQ(fw_registry_operator_disable(s, "alice", "", "admin", &doc, &idx, &d), FW_E_ARG);
	CHECK_EQ(fw_registry_operator_list(s, &list, &d), FW_OK);
	CHECK_EQ(json_array_size(list), 2);
	json_decref(list);
	CHECK_EQ(findings(s, NULL), 0);
	fw_store_close(s);

	/* a disabled operator made active again in the database is found */
	{
		sqlite3 *db = NULL;

		CHECK_EQ(sqlite3_open(harness_tmp_path("ops.db"), &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db,
		                      "UPDATE objects SET doc = replace(doc, '\"disabled\"', '\"active\"')"
		                      " WHERE kind = 'operator' AND id = 'bob'",
		                      NULL, NULL, NULL),
		         SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_EQ(fw_store_open(harness_tmp_path("ops.db"), 0, &s, &d), FW_OK);
	CHECK_EQ(findings(s, "registry.mismatch"), 1);
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"operators", t_operators},
};
HARNESS_MAIN(tests)
