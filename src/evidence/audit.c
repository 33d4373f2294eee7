/*
 * Full verification of the evidence log in a store, and the offline
 * verifiers an auditor runs without one. Finding codes are stable and
 * documented in docs/audit.md.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "store/store.h"

#define STATE_MAX (8 + 64 * FW_HASH_LEN)

struct cp_row {
	uint64_t size;
	uint8_t root[FW_HASH_LEN];      /* as stored in the row */
	char *note;
	int note_ok;                    /* signature and origin verified */
	struct fw_checkpoint parsed;
	int root_checked;               /* met in the scan at its size */
	int root_differs;               /* ... and the rebuilt root was another */
};

struct audit {
	struct fw_store *s;
	fw_audit_fn fn;
	void *arg;
	struct fw_audit_summary *sum;
	struct cp_row *cps;
	size_t ncps, cap;
	size_t next_cp;                 /* next checkpoint (by size) to meet in the scan */
	struct fw_compact_range cr;
	uint8_t (*lh)[FW_HASH_LEN];     /* recomputed leaf hashes, index order */
	size_t lh_cap;
	uint64_t expect;                /* next index the scan should see */
	int broken;                     /* a gap: the tree past it cannot be rebuilt */
	int oom;
	/* registry state replayed from the records: key id -> state, release
	 * id -> record, to compare with the mutable documents; records a
	 * device row may point at: index -> {type, device, to} */
	json_t *keys, *releases, *devrecs, *operators, *campaigns, *revoked;
	json_t *advisories;             /* advisory id -> {"idx", "record"} of its vuln.add */
	struct states *states;          /* row hashes of device imports, loaded once */
	size_t nstates;
};

static void finding(struct audit *a, const char *code, uint64_t at, const char *fmt, ...)
    FW_PRINTF(4, 5);

static void finding(struct audit *a, const char *code, uint64_t at, const char *fmt, ...)
{
	struct fw_audit_finding f;
	va_list ap;

	f.code = code;
	f.at = at;
	va_start(ap, fmt);
	vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
	va_end(ap);
	a->sum->findings++;
	if (a->fn)
		a->fn(a->arg, &f);
}

static int collect_cp(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct audit *a = arg;

	struct cp_row *n = fw_grow(a->cps, &a->cap, a->ncps + 1, sizeof(*n));

	if (n == NULL)
		return FW_E_NOMEM;
	a->cps = n;
	memset(&a->cps[a->ncps], 0, sizeof(a->cps[0]));
	a->cps[a->ncps].size = size;
	memcpy(a->cps[a->ncps].root, root, FW_HASH_LEN);
	a->cps[a->ncps].note = strdup(note ? note : "");
	if (a->cps[a->ncps].note == NULL)
		return FW_E_NOMEM;
	a->ncps++;
	return 0;
}

/* The records a device row may point at (exact types: other device.*
 * records, such as update reports, are many and are not parsed here). */
static int fleet_record(const uint8_t *rec, size_t len)
{
	static const char *const types[] = {"\"type\":\"device.import\"",
	                                    "\"type\":\"device.import.done\"",
	                                    "\"type\":\"device.lifecycle\"",
	                                    "\"type\":\"cert.revoke\"",
	                                    "\"type\":\"vuln.isolate\""};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (memmem(rec, len, types[i], strlen(types[i])) != NULL)
			return 1;
	/* a rollout step that changed the device's firmware version */
	return memmem(rec, len, "\"type\":\"rollout.device\"", 23) != NULL &&
	       memmem(rec, len, "\"row_sha256\"", 12) != NULL;
}

/* Campaign records: the state a campaign document must have, and every
 * approval's signature checked again with the approver's key as recorded
 * in its operator.add record. */
static void replay_campaign(struct audit *a, uint64_t idx, const char *type, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "campaign"));
	json_t *c;

	if (id == NULL)
		return;
	c = json_object_get(a->campaigns, id);
	if (strcmp(type, "campaign.create") == 0 || c == NULL) {
		c = json_object();
		json_object_set_new(a->campaigns, id, c);
		json_object_set_new(c, "approvals", json_integer(0));
	}
	if (json_object_get(j, "state"))
		json_object_set(c, "state", json_object_get(j, "state"));
	if (json_object_get(j, "policy_sha256"))
		json_object_set(c, "policy_sha256", json_object_get(j, "policy_sha256"));
	if (strcmp(type, "campaign.edit") == 0)
		json_object_set_new(c, "approvals", json_integer(0));
	if (strcmp(type, "campaign.approve") == 0) {
		const char *op = json_string_value(json_object_get(j, "operator"));
		const char *text = json_string_value(json_object_get(j, "signed"));
		const char *b64 = json_string_value(json_object_get(j, "signature"));
		const char *pol = json_string_value(json_object_get(j, "policy_sha256"));
		const char *pem = json_string_value(
		    json_object_get(json_object_get(a->operators, op ? op : ""), "pem"));
		struct fw_key *k = NULL;
		uint8_t sig[64];
		char want[80];

		json_object_set_new(c, "approvals",
		                    json_integer(json_integer_value(json_object_get(c, "approvals")) + 1));
		snprintf(want, sizeof(want), "\npolicy %s\n", pol ? pol : "?");
		if (op == NULL || text == NULL || b64 == NULL || pem == NULL ||
		    strstr(text, want) == NULL ||
		    fw_b64_decode(b64, strlen(b64), sig, 64) != FW_OK ||
		    fw_key_from_pem(pem, strlen(pem), &k, NULL) != FW_OK ||
		    fw_key_verify(k, (const uint8_t *)text, strlen(text), sig) != FW_OK)
			finding(a, "approval.bad_signature", idx,
			        "approval %llu of campaign %s by %s: the signature does not verify with "
			        "the operator's recorded key over the recorded text",
			        (unsigned long long)idx, id, op ? op : "?");
		fw_key_free(k);
	}
}

/* Replay what registry records say, so the documents can be checked. */
static void replay_registry(struct audit *a, uint64_t idx, const uint8_t *rec, size_t len)
{
	json_t *j;
	const char *type, *id;
	int fleet = fleet_record(rec, len);

	if (memmem(rec, len, "\"type\":\"key.", 12) == NULL &&
	    memmem(rec, len, "\"type\":\"release.add\"", 20) == NULL &&
	    memmem(rec, len, "\"type\":\"operator.", 17) == NULL &&
	    memmem(rec, len, "\"type\":\"campaign.", 17) == NULL &&
	    memmem(rec, len, "\"type\":\"vuln.add\"", 17) == NULL && !fleet)
		return;
	j = json_loadb((const char *)rec, len, 0, NULL);
	type = json_string_value(json_object_get(j, "type"));
	if (type && fleet &&
	    (strncmp(type, "device.", 7) == 0 || strcmp(type, "cert.revoke") == 0 ||
	     strcmp(type, "rollout.device") == 0 || strcmp(type, "vuln.isolate") == 0)) {
		char key[24];

		snprintf(key, sizeof(key), "%llu", (unsigned long long)idx);
		json_t *e = json_pack("{ss}", "type", type);
		const char *k;
		int n;
		const char *fields[] = {"device", "to", "row_sha256", "states_sha256", "states_rows",
		                        "cert_sha256"};

		for (n = 0; n < 6; n++) {
			k = fields[n];
			if (json_object_get(j, k))
				json_object_set(e, k, json_object_get(j, k));
		}
		/* an import's done record is kept under the import's index */
		if (strcmp(type, "device.import.done") == 0) {
			json_t *ref = json_array_get(json_object_get(j, "refs"), 0);

			snprintf(key, sizeof(key), "done-%lld",
			         (long long)json_integer_value(json_object_get(ref, "idx")));
		}
		json_object_set_new(a->devrecs, key, e);
		/* certificates revoked locally, for the certificate check (vuln
		 * isolate --revoke records cert_sha256 too) */
		if ((strcmp(type, "cert.revoke") == 0 || strcmp(type, "vuln.isolate") == 0) &&
		    json_is_string(json_object_get(j, "cert_sha256")))
			json_object_set_new(a->revoked, json_string_value(json_object_get(j, "cert_sha256")),
			                    json_true());
	}
	if (type && strcmp(type, "key.trust") == 0 &&
	    (id = json_string_value(json_object_get(j, "key_id"))) != NULL)
		json_object_set_new(a->keys, id, json_string("active"));
	else if (type && strcmp(type, "key.revoke") == 0 &&
	         (id = json_string_value(json_object_get(j, "key_id"))) != NULL)
		json_object_set_new(a->keys, id, json_string("revoked"));
	else if (type && strcmp(type, "release.add") == 0 &&
	         (id = json_string_value(json_object_get(j, "release_id"))) != NULL)
		json_object_set(a->releases, id, j);
	else if (type && strcmp(type, "operator.add") == 0 &&
	         (id = json_string_value(json_object_get(j, "name"))) != NULL)
		json_object_set_new(a->operators, id,
		                    json_pack("{sssOsOsO}", "state", "active", "role",
		                              json_object_get(j, "role") ? json_object_get(j, "role")
		                                                         : json_null(),
		                              "key_id", json_object_get(j, "key_id")
		                                            ? json_object_get(j, "key_id")
		                                            : json_null(),
		                              "pem", json_object_get(j, "pem") ? json_object_get(j, "pem")
		                                                               : json_null()));
	else if (type && strncmp(type, "campaign.", 9) == 0)
		replay_campaign(a, idx, type, j);
	else if (type && strcmp(type, "vuln.add") == 0 &&
	         (id = json_string_value(json_object_get(j, "advisory"))) != NULL)
		json_object_set_new(a->advisories, id,
		                    json_pack("{sI sO}", "idx", (json_int_t)idx, "record", j));
	else if (type && strcmp(type, "operator.disable") == 0 &&
	         (id = json_string_value(json_object_get(j, "name"))) != NULL &&
	         json_object_get(a->operators, id))
		json_object_set_new(json_object_get(a->operators, id), "state",
		                    json_string("disabled"));
	json_decref(j);
}

struct objcheck {
	struct audit *a;
	const char *kind;
	json_t *expected;
	json_t *seen;
};

/* The first of fields whose value differs between got and want (a field
 * both lack agrees: a document from before it existed), or NULL. */
static const char *first_differing(const json_t *got, const json_t *want,
                                   const char *const *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const json_t *g = json_object_get(got, fields[i]), *w = json_object_get(want, fields[i]);

		if ((g || w) && !json_equal(g, w))
			return fields[i];
	}
	return NULL;
}

static int check_object(void *arg, const char *id, const char *doc)
{
	static const char *const release_fields[] = {"product", "family", "image_sha256",
	                                             "envelope_sha256", "signer_key_id", "sequence",
	                                             "upgrade_from", "hw_revisions", "swu",
	                                             "sbom", "fixes"};
	struct objcheck *o = arg;
	json_t *want = json_object_get(o->expected, id), *got = json_loads(doc, 0, NULL);
	size_t i;

	json_object_set_new(o->seen, id, json_true());
	if (want == NULL) {
		finding(o->a, "registry.unrecorded", 0,
		        "%s %s is in the registry but no record created it", o->kind, id);
	} else if (got == NULL) {
		finding(o->a, "registry.mismatch", 0, "%s %s: the document is malformed", o->kind, id);
	} else if (strcmp(o->kind, "campaign") == 0) {
		if (!json_equal(json_object_get(got, "state"), json_object_get(want, "state")) ||
		    !json_equal(json_object_get(got, "policy_sha256"),
		                json_object_get(want, "policy_sha256")) ||
		    json_array_size(json_object_get(got, "approvals")) !=
		        (size_t)json_integer_value(json_object_get(want, "approvals")))
			finding(o->a, "registry.mismatch", 0,
			        "campaign %s: its state, policy or approvals differ from its records", id);
	} else if (strcmp(o->kind, "operator") == 0) {
		static const char *const fields[] = {"state", "role", "key_id"};

		for (i = 0; i < 3; i++)
			if (!json_equal(json_object_get(got, fields[i]), json_object_get(want, fields[i]))) {
				finding(o->a, "registry.mismatch", 0,
				        "operator %s: '%s' differs from what its records say", id, fields[i]);
				break;
			}
	} else if (strcmp(o->kind, "advisory") == 0) {
		/* the document is its vuln.add record's fields, and names it */
		static const char *const fields[] = {"advisory", "title",  "severity", "cvss",
		                                     "cves",     "product", "family",  "affected",
		                                     "fixed_in", "source", "csaf"};
		const char *f = first_differing(got, json_object_get(want, "record"), fields,
		                                sizeof(fields) / sizeof(fields[0]));

		if (f)
			finding(o->a, "registry.mismatch", 0,
			        "advisory %s: '%s' differs from its vuln.add record %lld", id, f,
			        (long long)json_integer_value(json_object_get(want, "idx")));
		else if (!json_equal(json_object_get(json_object_get(got, "added"), "idx"),
		                     json_object_get(want, "idx")))
			finding(o->a, "registry.mismatch", 0,
			        "advisory %s: it names another record than its vuln.add record %lld", id,
			        (long long)json_integer_value(json_object_get(want, "idx")));
	} else if (strcmp(o->kind, "key") == 0) {
		const char *state = json_string_value(json_object_get(got, "state"));

		if (state == NULL || strcmp(state, json_string_value(want)) != 0)
			finding(o->a, "registry.mismatch", 0,
			        "key %s is '%s' in the registry, but the records say '%s'", id,
			        state ? state : "?", json_string_value(want));
	} else {
		const char *f = first_differing(got, want, release_fields,
		                                sizeof(release_fields) / sizeof(release_fields[0]));

		if (f)
			finding(o->a, "registry.mismatch", 0,
			        "release %.16s: '%s' differs from its release.add record", id, f);
	}
	json_decref(got);
	return 0;
}

/* Registry documents are mutable state; each must be what its records say. */
static int check_registry(struct audit *a, struct fw_store *s, struct fw_diag *d)
{
	const char *kinds[5] = {"key", "release", "operator", "campaign", "advisory"};
	json_t *expect[5] = {a->keys, a->releases, a->operators, a->campaigns, a->advisories};
	const char *id;
	json_t *v;
	int k, rc;

	for (k = 0; k < 5; k++) {
		struct objcheck o = {a, kinds[k], expect[k], json_object()};

		rc = fw_store_object_scan(s, kinds[k], check_object, &o, d);
		if (rc == FW_OK) {
			json_object_foreach(expect[k], id, v) {
				if (json_object_get(o.seen, id) == NULL)
					finding(a, "registry.missing", 0,
					        "%s %.16s was recorded but is missing from the registry",
					        kinds[k], id);
			}
		}
		json_decref(o.seen);
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

/* A certificate's revocation is what the records say: revoked locally only
 * after a cert.revoke record naming it, by a CRL only when a CRL entry (kept
 * from a recorded crl.import) names it, and never un-revoked. */
static int check_cert(void *arg, const struct fw_cert_row *c)
{
	struct audit *a = arg;
	char hex[65];
	int local, crl = 0;

	fw_hex_encode(c->sha256, 32, hex);
	local = json_object_get(a->revoked, hex) != NULL;
	if (fw_store_crl_entry_has(a->s, c->issuer_hash, c->serial, &crl, NULL) != FW_OK)
		return FW_E_STORE;
	if ((local && c->revoked != FW_CERT_REVOKED_LOCAL) ||
	    (!local && crl && c->revoked != FW_CERT_REVOKED_CRL) ||
	    (c->revoked == FW_CERT_REVOKED_LOCAL && !local) ||
	    (c->revoked == FW_CERT_REVOKED_CRL && !crl))
		finding(a, "registry.mismatch", 0,
		        "certificate %.16s: revoked is %d, but its records say %s", hex, c->revoked,
		        local ? "revoked locally" : crl ? "revoked by a CRL" : "not revoked");
	return 0;
}

/* The row hashes an import kept (a content-addressed file named by its
 * device.import.done record), loaded and checked once per import. NULL
 * when they are missing or altered (reported). */
struct states {
	uint64_t rec;
	const uint8_t *hashes;
	uint64_t n;
	int ok;
};

static const struct states *import_states(struct audit *a, uint64_t rec)
{
	struct states *st;
	char key[32], path[4600];
	json_t *done;
	const char *want;
	uint8_t sha[FW_HASH_LEN], got[FW_HASH_LEN];
	uint8_t *data = NULL;
	size_t len = 0, i;
	json_int_t rows;

	for (i = 0; i < a->nstates; i++)
		if (a->states[i].rec == rec)
			return a->states[i].ok ? &a->states[i] : NULL;
	st = realloc(a->states, (a->nstates + 1) * sizeof(*st));
	if (st == NULL) {
		a->oom = 1;
		return NULL;
	}
	a->states = st;
	st = &a->states[a->nstates++];
	memset(st, 0, sizeof(*st));
	st->rec = rec;
	snprintf(key, sizeof(key), "done-%llu", (unsigned long long)rec);
	done = json_object_get(a->devrecs, key);
	want = json_string_value(json_object_get(done, "states_sha256"));
	rows = json_integer_value(json_object_get(done, "states_rows"));
	if (want == NULL || fw_hex_decode(want, sha, FW_HASH_LEN) != FW_OK || rows < 0 ||
	    (uint64_t)rows > SIZE_MAX / 32) {
		finding(a, "registry.unrecorded", rec,
		        "device import %llu has no device.import.done record naming its rows",
		        (unsigned long long)rec);
		return NULL;
	}
	if (rows == 0) { /* it changed nothing: no row may point at it */
		st->ok = 1;
		return st;
	}
	fw_store_blob_path(a->s, sha, path, sizeof(path));
	if (fw_file_read(path, (size_t)rows * 32, &data, &len, NULL) != FW_OK ||
	    len != (size_t)rows * 32) {
		free(data);
		finding(a, "registry.missing", rec,
		        "the rows device import %llu wrote are missing from the store (%s)",
		        (unsigned long long)rec, path);
		return NULL;
	}
	fw_sha256(data, len, got);
	if (memcmp(got, sha, FW_HASH_LEN) != 0) {
		free(data);
		finding(a, "registry.mismatch", rec,
		        "the kept rows of device import %llu are not the ones it recorded",
		        (unsigned long long)rec);
		return NULL;
	}
	st->hashes = data;
	st->n = (uint64_t)rows;
	st->ok = 1;
	return st;
}

/* Every device row is what a record made it: it points at a device.import,
 * device.lifecycle or cert.revoke record by index and hash, a lifecycle
 * record of that device leaves it in the state the record says, a
 * revocation names it. */
static int check_device(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *c)
{
	struct audit *a = arg;
	char key[24], hex[65];
	uint8_t h[FW_HASH_LEN];
	json_t *r;
	const char *type, *who, *to, *rh;

	(void)c;
	if (a->broken)
		return 0;
	snprintf(key, sizeof(key), "%llu", (unsigned long long)dev->rec);
	r = json_object_get(a->devrecs, key);
	if (dev->rec >= a->expect || memcmp(a->lh[dev->rec], dev->rec_lh, FW_HASH_LEN) != 0 ||
	    r == NULL) {
		finding(a, "registry.unrecorded", 0,
		        "device %s points at record %llu, which is not a record of the fleet", dev->id,
		        (unsigned long long)dev->rec);
		return 0;
	}
	type = json_string_value(json_object_get(r, "type"));
	who = json_string_value(json_object_get(r, "device"));
	to = json_string_value(json_object_get(r, "to"));
	fw_device_row_hash(dev, h);
	if (strcmp(type, "device.import") == 0) {
		/* the row as that import wrote it (its kept row hashes) */
		const struct states *st = import_states(a, dev->rec);

		if (st == NULL)
			return a->oom ? FW_E_NOMEM : 0; /* reported once, for the import */
		if (dev->rec_pos == 0 || dev->rec_pos > st->n)
			finding(a, "registry.unrecorded", 0,
			        "device %s: import record %llu wrote no row at position %llu", dev->id,
			        (unsigned long long)dev->rec, (unsigned long long)dev->rec_pos);
		else if (memcmp(st->hashes + 32 * (dev->rec_pos - 1), h, FW_HASH_LEN) != 0)
			finding(a, "registry.mismatch", 0,
			        "device %s differs from the row its import (record %llu) wrote", dev->id,
			        (unsigned long long)dev->rec);
		return 0;
	}
	if (strcmp(type, "device.import.done") == 0 || who == NULL || strcmp(who, dev->id) != 0) {
		finding(a, "registry.mismatch", 0, "device %s points at record %llu (%s) of device %s",
		        dev->id, (unsigned long long)dev->rec, type, who ? who : "?");
		return 0;
	}
	if (strcmp(type, "device.lifecycle") == 0 && to && strcmp(to, dev->lifecycle) != 0) {
		finding(a, "registry.mismatch", 0,
		        "device %s is '%s' in the registry, but its record %llu says '%s'", dev->id,
		        dev->lifecycle, (unsigned long long)dev->rec, to);
		return 0;
	}
	fw_hex_encode(h, FW_HASH_LEN, hex);
	rh = json_string_value(json_object_get(r, "row_sha256"));
	if (rh == NULL || strcmp(rh, hex) != 0)
		finding(a, "registry.mismatch", 0,
		        "device %s differs from the row its record %llu (%s) committed to", dev->id,
		        (unsigned long long)dev->rec, type);
	return 0;
}

/* The update states of a rollout row, by number (enum fw_update_state of
 * src/rollout/rollout.h, which appends only). */
static const char *const update_states[] = {"pending",   "eligible", "ineligible",
                                            "delivered", "installed", "failed",
                                            "paused",    "rolled_back"};

static const char *jstr(const json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "";
}

struct rollout_check {
	struct audit *a;
	const char *campaign;
};

/* Every rollout row is what its last record made it: a pending row points
 * at its campaign's campaign.start record (the members file lists it), any
 * other at a rollout.device record of this campaign and device that leaves
 * it in the row's state, attempts and failures. */
static int check_rollout_row(void *arg, const struct fw_rollout_row *r)
{
	struct rollout_check *rc = arg;
	struct audit *a = rc->a;
	uint8_t lh[FW_HASH_LEN], *rec = NULL;
	size_t len = 0;
	json_t *j;
	const char *type, *st;
	int ok;

	if (a->broken)
		return 0;
	if (r->rec >= a->expect || memcmp(a->lh[r->rec], r->rec_lh, FW_HASH_LEN) != 0 ||
	    a->s->ops->log_get(a->s, r->rec, lh, &rec, &len) != FW_OK) {
		free(rec);
		finding(a, "rollout.unrecorded", 0,
		        "campaign %s, device %s: the row points at record %llu, which is not in the log",
		        rc->campaign, r->device, (unsigned long long)r->rec);
		return 0;
	}
	j = json_loadb((const char *)rec, len, 0, NULL);
	free(rec);
	type = json_string_value(json_object_get(j, "type"));
	st = r->state >= 0 && (size_t)r->state < sizeof(update_states) / sizeof(update_states[0])
	         ? update_states[r->state]
	         : "?";
	if (type && strcmp(type, "campaign.start") == 0)
		ok = r->state == 0 &&
		     strcmp(jstr(j, "campaign"), rc->campaign) == 0;
	else
		ok = type && strcmp(type, "rollout.device") == 0 &&
		     strcmp(jstr(j, "campaign"), rc->campaign) == 0 &&
		     strcmp(jstr(j, "device"), r->device) == 0 &&
		     strcmp(jstr(j, "to"), st) == 0 &&
		     (uint64_t)json_integer_value(json_object_get(j, "attempts")) == r->attempts &&
		     (uint64_t)json_integer_value(json_object_get(j, "failures")) == r->failures;
	if (!ok)
		finding(a, "rollout.mismatch", r->rec,
		        "campaign %s, device %s is '%s' (attempts %u, failures %u), but its record %llu "
		        "says otherwise",
		        rc->campaign, r->device, st, r->attempts, r->failures,
		        (unsigned long long)r->rec);
	json_decref(j);
	return 0;
}

static int check_rollout(struct audit *a, struct fw_diag *d)
{
	struct rollout_check rc = {a, NULL};
	const char *id;
	json_t *v;
	int r;

	json_object_foreach(a->campaigns, id, v) {
		rc.campaign = id;
		r = fw_store_rollout_scan(a->s, id, -1, -1, INT64_MAX, check_rollout_row, &rc, d);
		if (r != FW_OK)
			return r;
	}
	return FW_OK;
}

/* A record's references must point back to earlier records, by hash. */
static void check_refs(struct audit *a, uint64_t idx, const uint8_t *rec, size_t len)
{
	const uint8_t *start, *end;
	json_t *j = NULL, *refs, *ref;
	size_t i;

	start = memmem(rec, len, "\"refs\":", 7);
	if (start == NULL)
		return; /* most records have none: skip the parse */
	/* canonical records hold refs as [{"idx":n,"lh":"<hex>"},...], which
	 * has no ']' inside: parse just that array, not the whole record. A
	 * record where this does not hold was not written by fwtrust and
	 * falls back to the full parse. */
	/* a key follows '{' or ','; inside a string the quote is escaped */
	end = NULL;
	if (start > rec && (start[-1] == '{' || start[-1] == ',')) {
		start += 7;
		end = memchr(start, ']', len - (size_t)(start - rec));
	}
	if (end != NULL && *start == '[')
		refs = j = json_loadb((const char *)start, (size_t)(end - start) + 1, 0, NULL);
	else
		refs = NULL;
	if (refs == NULL) {
		j = json_loadb((const char *)rec, len, JSON_REJECT_DUPLICATES, NULL);
		refs = json_object_get(j, "refs");
	}
	if (!json_is_array(refs))
		finding(a, "record.bad_ref", idx, "record %llu: refs is not a list",
		        (unsigned long long)idx);
	json_array_foreach(refs, i, ref) {
		json_t *ji = json_object_get(ref, "idx");
		const char *hex = json_string_value(json_object_get(ref, "lh"));
		uint8_t want[FW_HASH_LEN];
		json_int_t r = json_integer_value(ji);

		if (!json_is_integer(ji) || hex == NULL || fw_hex_decode(hex, want, 32) != FW_OK) {
			finding(a, "record.bad_ref", idx, "record %llu: reference %zu is malformed",
			        (unsigned long long)idx, i);
		} else if (r < 0 || (uint64_t)r >= idx) {
			finding(a, "record.bad_ref", idx,
			        "record %llu refers to record %lld, which is not earlier",
			        (unsigned long long)idx, (long long)r);
		} else if (!a->broken && memcmp(a->lh[r], want, FW_HASH_LEN) != 0) {
			finding(a, "record.bad_ref", idx,
			        "record %llu refers to record %lld by a hash that is not its hash",
			        (unsigned long long)idx, (long long)r);
		}
	}
	json_decref(j);
}

static int on_leaf(void *arg, uint64_t idx, const uint8_t stored[32], const uint8_t *rec,
                   size_t len)
{
	struct audit *a = arg;
	uint8_t lh[FW_HASH_LEN], root[FW_HASH_LEN];

	a->sum->records++;
	if (idx != a->expect) {
		/* deleted or renumbered rows: everything after is a different tree */
		if (!a->broken)
			finding(a, "log.gap", a->expect, "record %llu is missing (next stored is %llu)",
			        (unsigned long long)a->expect, (unsigned long long)idx);
		a->broken = 1;
	}
	a->expect = idx + 1;
	fw_evidence_leaf_hash(rec, len, lh);
	replay_registry(a, idx, rec, len);
	if (memcmp(lh, stored, FW_HASH_LEN) != 0)
		finding(a, "record.hash_mismatch", idx,
		        "record %llu: its bytes do not hash to its stored leaf hash (the record was "
		        "changed)",
		        (unsigned long long)idx);
	if (a->broken)
		return 0;
	{
		uint8_t (*n)[FW_HASH_LEN] = fw_grow(a->lh, &a->lh_cap, (size_t)idx + 1, FW_HASH_LEN);

		if (n == NULL) {
			a->oom = 1;
			return FW_E_NOMEM;
		}
		a->lh = n;
	}
	memcpy(a->lh[idx], lh, FW_HASH_LEN);
	check_refs(a, idx, rec, len);
	fw_compact_range_append(&a->cr, lh);
	/* meet the checkpoints in size order while the tree grows */
	while (a->next_cp < a->ncps && a->cps[a->next_cp].size <= a->cr.size) {
		struct cp_row *c = &a->cps[a->next_cp++];

		if (c->size != a->cr.size)
			continue; /* size 0 or out of order: handled after the scan */
		fw_compact_range_root(&a->cr, root);
		c->root_checked = 1;
		/* the signed root is what counts; the row's copy only if unsigned */
		c->root_differs =
		    memcmp(root, c->note_ok ? c->parsed.root : c->root, FW_HASH_LEN) != 0;
		if (c->root_differs)
			finding(a, "checkpoint.root_mismatch", c->size,
			        "checkpoint %llu: the stored records give another root (records before "
			        "it were changed, reordered, inserted or removed)",
			        (unsigned long long)c->size);
	}
	return 0;
}

static int root_matched(const struct cp_row *c)
{
	return c->root_checked && !c->root_differs;
}

static void check_note(struct audit *a, struct cp_row *c, const struct fw_note_key *vk)
{
	struct fw_diag d = {{0}};
	size_t text_len;
	int rc;

	rc = fw_note_verify(c->note, strlen(c->note), vk, &text_len, &d);
	if (rc == FW_OK)
		rc = fw_checkpoint_parse(c->note, text_len, &c->parsed, &d);
	if (rc == FW_OK && strcmp(c->parsed.origin, vk->name) != 0)
		rc = fw_diag_set(&d, FW_E_ORIGIN, "origin '%s', the log is '%s'", c->parsed.origin,
		                 vk->name);
	switch (rc) {
	case FW_OK:
		c->note_ok = 1;
		if (c->parsed.size != c->size || memcmp(c->parsed.root, c->root, FW_HASH_LEN) != 0)
			finding(a, "checkpoint.row_mismatch", c->size,
			        "checkpoint %llu: the signed note says size %llu and another root than "
			        "its row",
			        (unsigned long long)c->size, (unsigned long long)c->parsed.size);
		return;
	case FW_E_NOTE:
		finding(a, "checkpoint.malformed", c->size, "checkpoint %llu: %s",
		        (unsigned long long)c->size, d.msg);
		return;
	case FW_E_ORIGIN:
		finding(a, "checkpoint.wrong_origin", c->size, "checkpoint %llu: %s",
		        (unsigned long long)c->size, d.msg);
		return;
	case FW_E_NOT_FOUND:
		finding(a, "checkpoint.unknown_key", c->size,
		        "checkpoint %llu: not signed by the log key: %s", (unsigned long long)c->size,
		        d.msg);
		return;
	default:
		finding(a, "checkpoint.bad_signature", c->size, "checkpoint %llu: %s",
		        (unsigned long long)c->size, d.msg);
	}
}

int fw_evidence_audit(struct fw_store *s, const char *const *held, size_t nheld, fw_audit_fn fn,
                      void *arg, struct fw_audit_summary *sum, struct fw_diag *d)
{
	struct audit a;
	struct fw_note_key vk;
	struct fw_compact_range stated;
	uint8_t state[STATE_MAX];
	size_t slen = 0, i;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(sum, 0, sizeof(*sum));
	a.s = s;
	a.fn = fn;
	a.arg = arg;
	a.sum = sum;
	a.keys = json_object();
	a.releases = json_object();
	a.devrecs = json_object();
	a.operators = json_object();
	a.campaigns = json_object();
	a.revoked = json_object();
	a.advisories = json_object();
	fw_compact_range_init(&a.cr);
	rc = fw_evidence_log_key(s, &vk, NULL, d);
	if (rc != FW_OK) {
		json_decref(a.keys);
		json_decref(a.releases);
		json_decref(a.devrecs);
		json_decref(a.operators);
		json_decref(a.campaigns);
		json_decref(a.revoked);
		json_decref(a.advisories);
		return rc;
	}
	rc = s->ops->checkpoint_scan(s, collect_cp, &a);
	/* notes first: the scan compares rebuilt roots with the signed ones */
	for (i = 0; rc == FW_OK && i < a.ncps; i++)
		check_note(&a, &a.cps[i], &vk);
	if (rc == FW_OK)
		rc = s->ops->log_scan(s, 0, on_leaf, &a);
	if (rc != FW_OK) {
		if (d)
			*d = a.oom || rc == FW_E_NOMEM ? (struct fw_diag){"out of memory"} : s->err;
		goto out;
	}
	sum->checkpoints = a.ncps;

	/* the stored tree state must describe exactly these records */
	rc = s->ops->log_state(s, state, sizeof(state), &slen);
	if (rc == FW_E_TAMPER) {
		/* a state blob too large to be one is a finding, not a failure */
		finding(&a, "log.state_mismatch", a.expect, "the stored tree state is malformed: %s",
		        s->err.msg);
		rc = FW_OK;
		stated.size = a.expect;
		stated.n = a.cr.n;
		memcpy(stated.hashes, a.cr.hashes, sizeof(stated.hashes));
	} else if (rc != FW_OK) {
		if (d)
			*d = s->err;
		goto out;
	} else if (slen == 0) {
		fw_compact_range_init(&stated);
	} else if (fw_compact_range_decode(state, slen, &stated) != FW_OK) {
		finding(&a, "log.state_mismatch", a.expect, "the stored tree state is malformed");
		stated.size = a.expect;
		stated.n = a.cr.n;
		memcpy(stated.hashes, a.cr.hashes, sizeof(stated.hashes));
	}
	if (stated.size != a.expect ||
	    (!a.broken && (stated.n != a.cr.n ||
	                   memcmp(stated.hashes, a.cr.hashes, (size_t)a.cr.n * FW_HASH_LEN) != 0)))
		finding(&a, "log.state_mismatch", a.expect,
		        "the stored tree state (size %llu) does not match the %llu stored records "
		        "(records added or removed outside fwtrust)",
		        (unsigned long long)stated.size, (unsigned long long)a.expect);
	fw_compact_range_root(&a.cr, sum->root);
	rc = check_registry(&a, s, d);
	if (rc == FW_OK)
		rc = fw_store_device_scan(s, check_device, &a, d);
	if (rc == FW_OK && !a.broken)
		rc = fw_store_cert_scan(s, 0, check_cert, &a, d);
	if (rc == FW_OK && !a.broken)
		rc = check_rollout(&a, d);
	/* imports no device points at any more are checked too */
	if (rc == FW_OK && !a.broken) {
		const char *key;
		json_t *e;
		uint64_t idx;

		json_object_foreach(a.devrecs, key, e) {
			if (strcmp(json_string_value(json_object_get(e, "type")), "device.import") == 0 &&
			    fw_parse_u64(key, &idx) == FW_OK)
				(void)import_states(&a, idx);
		}
		if (a.oom)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	if (rc != FW_OK)
		goto out;

	for (i = 0; i < a.ncps; i++) {
		struct cp_row *c = &a.cps[i];

		if (c->size > a.expect || (a.broken && !c->root_checked))
			finding(&a, "log.truncated", c->size,
			        "checkpoint %llu was signed but only %llu records can be rebuilt (records "
			        "were removed)",
			        (unsigned long long)c->size, (unsigned long long)a.cr.size);
		/* consecutive checkpoints: the newer extends the older. When both
		 * roots matched the rebuilt tree they are consistent by
		 * construction; the explicit proof runs only where one did not,
		 * to tell rewritten history from edited records */
		if (i > 0 && c->note_ok && a.cps[i - 1].note_ok && !a.broken && c->size <= a.cr.size &&
		    (!root_matched(c) || !root_matched(&a.cps[i - 1]))) {
			struct cp_row *p = &a.cps[i - 1];
			uint8_t proof[FW_MERKLE_MAX_PROOF][FW_HASH_LEN];
			size_t n = 0;

			if (p->size > 0 &&
			    (fw_merkle_consistency_proof((const uint8_t(*)[FW_HASH_LEN])a.lh, p->size,
			                                 c->size, proof, &n) != FW_OK ||
			     fw_merkle_verify_consistency(p->size, c->size, p->parsed.root, c->parsed.root,
			                                  (const uint8_t(*)[FW_HASH_LEN])proof,
			                                  n) != FW_OK))
				finding(&a, "checkpoint.inconsistent", c->size,
				        "checkpoints %llu and %llu are not consistent (history between them "
				        "was rewritten)",
				        (unsigned long long)p->size, (unsigned long long)c->size);
		}
	}

	/* checkpoints held outside the store: the tree must extend them */
	for (i = 0; i < nheld; i++) {
		struct fw_checkpoint h;
		struct fw_diag hd = {{0}};
		uint8_t root[FW_HASH_LEN];
		size_t text_len;
		int hr;

		sum->held++;
		hr = fw_note_verify(held[i], strlen(held[i]), &vk, &text_len, &hd);
		if (hr == FW_OK)
			hr = fw_checkpoint_parse(held[i], text_len, &h, &hd);
		if (hr == FW_OK && strcmp(h.origin, vk.name) != 0)
			hr = fw_diag_set(&hd, FW_E_ORIGIN, "origin '%s', the log is '%s'", h.origin,
			                 vk.name);
		if (hr != FW_OK) {
			finding(&a,
			        hr == FW_E_NOTE        ? "held.malformed"
			        : hr == FW_E_ORIGIN    ? "held.wrong_origin"
			        : hr == FW_E_NOT_FOUND ? "held.unknown_key"
			                               : "held.bad_signature",
			        i, "held checkpoint %zu: %s", i + 1, hd.msg);
			continue;
		}
		if (h.size > a.cr.size || a.broken) {
			finding(&a, "log.truncated", h.size,
			        "held checkpoint %zu has size %llu but the log rebuilds only %llu records",
			        i + 1, (unsigned long long)h.size, (unsigned long long)a.cr.size);
			continue;
		}
		if (fw_merkle_root((const uint8_t(*)[FW_HASH_LEN])a.lh, h.size, root) != FW_OK ||
		    memcmp(root, h.root, FW_HASH_LEN) != 0)
			finding(&a, "checkpoint.fork", h.size,
			        "held checkpoint %zu (size %llu) was signed over another history: the log "
			        "was rewritten and re-signed",
			        i + 1, (unsigned long long)h.size);
	}
	rc = sum->findings ? fw_diag_set(d, FW_E_TAMPER, "%llu finding(s)",
	                                 (unsigned long long)sum->findings)
	                   : FW_OK;
out:
	for (i = 0; i < a.ncps; i++)
		free(a.cps[i].note);
	free(a.cps);
	free(a.lh);
	json_decref(a.keys);
	json_decref(a.releases);
	json_decref(a.devrecs);
	json_decref(a.operators);
	json_decref(a.campaigns);
	json_decref(a.revoked);
	json_decref(a.advisories);
	for (i = 0; i < a.nstates; i++)
		free((void *)a.states[i].hashes);
	free(a.states);
	return rc;
}

/* Verify an untrusted checkpoint note offline; the key is named by origin
 * (or, when NULL, by the note's own first line). */
static int open_checkpoint(const char *note, size_t len, const uint8_t pub[32],
                           const char *origin, struct fw_checkpoint *cp, struct fw_diag *d)
{
	struct fw_note_key vk;
	char name[FW_ORIGIN_MAX + 1];
	size_t n = 0;

	if (origin == NULL) {
		while (n < len && n < FW_ORIGIN_MAX && note[n] != '\n')
			n++;
		memcpy(name, note, n);
		name[n] = '\0';
		origin = name;
	}
	if (fw_note_key_init(&vk, origin, pub) != FW_OK)
		return fw_diag_set(d, FW_E_NOTE, "checkpoint: first line '%s' is not a log origin",
		                   origin);
	return fw_checkpoint_open(note, len, &vk, origin, cp, d);
}

int fw_evidence_verify_proof(const char *checkpoint, size_t checkpoint_len, const char *proof,
                             size_t proof_len, const uint8_t *record, size_t record_len,
                             const uint8_t pub[32], const char *origin, uint64_t *idx,
                             struct fw_checkpoint *cp_out, struct fw_diag *d)
{
	struct fw_tlog_proof p;
	struct fw_checkpoint cp;
	uint8_t lh[FW_HASH_LEN];
	int rc;

	memset(&p, 0, sizeof(p));
	rc = open_checkpoint(checkpoint, checkpoint_len, pub, origin, &cp, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_tlog_proof_parse(proof, proof_len, &p, d);
	if (rc != FW_OK)
		return rc;
	/* a proof made against another checkpoint proves nothing about this one */
	if (p.note_len != checkpoint_len || memcmp(p.note, checkpoint, checkpoint_len) != 0) {
		rc = fw_diag_set(d, FW_E_PROOF,
		                 "proof: made for another checkpoint than the one given (make a proof "
		                 "against this checkpoint)");
		goto out;
	}
	fw_evidence_leaf_hash(record, record_len, lh);
	rc = fw_merkle_verify_inclusion(p.index, cp.size, lh, (const uint8_t(*)[FW_HASH_LEN])p.hashes,
	                                p.n, cp.root);
	if (rc != FW_OK) {
		rc = fw_diag_set(d, FW_E_PROOF,
		                 "record %llu is not in checkpoint %llu: the record or the proof was "
		                 "changed",
		                 (unsigned long long)p.index, (unsigned long long)cp.size);
		goto out;
	}
	if (idx)
		*idx = p.index;
	if (cp_out)
		*cp_out = cp;
out:
	fw_tlog_proof_clear(&p);
	return rc;
}

int fw_evidence_verify_consistency(const char *old_note, size_t old_len, const char *new_note,
                                   size_t new_len, const char *proof, size_t proof_len,
                                   const uint8_t pub[32], const char *origin, struct fw_diag *d)
{
	struct fw_checkpoint a, b;
	struct fw_consistency_proof p;
	int rc;

	rc = open_checkpoint(old_note, old_len, pub, origin, &a, d);
	if (rc == FW_OK)
		rc = open_checkpoint(new_note, new_len, pub, origin, &b, d);
	if (rc != FW_OK)
		return rc;
	if (strcmp(a.origin, b.origin) != 0)
		return fw_diag_set(d, FW_E_ORIGIN, "the checkpoints are of two logs ('%s', '%s')",
		                   a.origin, b.origin);
	rc = fw_consistency_parse(proof, proof_len, &p, d);
	if (rc != FW_OK)
		return rc;
	if (p.old_size != a.size || p.new_size != b.size)
		return fw_diag_set(d, FW_E_PROOF,
		                   "proof: for sizes %llu -> %llu, the checkpoints are %llu -> %llu",
		                   (unsigned long long)p.old_size, (unsigned long long)p.new_size,
		                   (unsigned long long)a.size, (unsigned long long)b.size);
	if (fw_merkle_verify_consistency(a.size, b.size, a.root, b.root,
	                                 (const uint8_t(*)[FW_HASH_LEN])p.hashes, p.n) != FW_OK)
		return fw_diag_set(d, FW_E_PROOF,
		                   "checkpoint %llu does not extend checkpoint %llu: the log was "
		                   "rewritten between them",
		                   (unsigned long long)b.size, (unsigned long long)a.size);
	return FW_OK;
}
