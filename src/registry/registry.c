#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "fwv.h"
#include "suit/suit.h"
#include "swu/swu.h"

#define KIND_KEY "key"
#define KIND_RELEASE "release"

/* ---- documents ---- */

int fw_registry_doc_put(struct fw_store *s, const char *kind, const char *id, const json_t *doc,
                        int replace, struct fw_diag *d)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (text == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_store_object_put(s, kind, id, text, replace, d);
	free(text);
	return rc;
}

int fw_registry_doc_get(struct fw_store *s, const char *kind, const char *id, json_t **doc,
                        struct fw_diag *d)
{
	char *text = NULL;
	int rc = fw_store_object_get(s, kind, id, &text, d);

	if (rc != FW_OK)
		return rc;
	*doc = json_loads(text, 0, NULL);
	free(text);
	return *doc ? FW_OK : fw_diag_set(d, FW_E_STORE, "%s %s: stored document is malformed",
	                                  kind, id);
}

static int collect(void *arg, const char *id, const char *doc)
{
	json_t *j = json_loads(doc, 0, NULL);

	(void)id;
	if (j == NULL)
		return FW_E_STORE;
	return json_array_append_new(arg, j) == 0 ? 0 : FW_E_NOMEM;
}

int fw_registry_doc_list(struct fw_store *s, const char *kind, json_t **docs, struct fw_diag *d)
{
	json_t *a = json_array();
	int rc;

	if (a == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_store_object_scan(s, kind, collect, a, d);
	if (rc != FW_OK) {
		json_decref(a);
		if (rc == FW_E_STORE || rc == FW_E_NOMEM)
			fw_diag_set(d, rc, rc == FW_E_NOMEM ? "out of memory"
			                                    : "a stored %s document is malformed", kind);
		return rc;
	}
	*docs = a;
	return FW_OK;
}

int fw_registry_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

int fw_registry_reason_ok(const char *reason, size_t max, struct fw_diag *d)
{
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > max || !fw_text_valid(reason))
		return fw_diag_set(d, FW_E_ARG,
		                   "--reason: 1-%zu bytes of UTF-8 text without control characters are "
		                   "required",
		                   max);
	return FW_OK;
}

struct find {
	const char *ref;
	size_t reflen;
	const char *field;   /* also match this field exactly (e.g. "name"), or NULL */
	char id[80];
	int matches;
};

static int is_hex_prefix(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 8 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int match_one(void *arg, const char *id, const char *doc)
{
	struct find *f = arg;
	int hit = 0;

	if (is_hex_prefix(f->ref) && strncmp(id, f->ref, f->reflen) == 0)
		hit = 1;
	if (!hit && f->field) {
		json_t *j = json_loads(doc, 0, NULL);
		const char *v = json_string_value(json_object_get(j, f->field));

		hit = v && strcmp(v, f->ref) == 0;
		json_decref(j);
	}
	if (hit) {
		f->matches++;
		snprintf(f->id, sizeof(f->id), "%s", id);
	}
	return 0;
}

/* Find one object of kind by full id, unique hex prefix or field value. */
static int find_one(struct fw_store *s, const char *kind, const char *ref, const char *field,
                    json_t **doc, struct fw_diag *d)
{
	struct find f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.ref = ref;
	f.reflen = strlen(ref);
	f.field = field;
	rc = fw_store_object_scan(s, kind, match_one, &f, d);
	if (rc != FW_OK)
		return rc;
	if (f.matches == 0)
		return fw_diag_set(d, FW_E_NOT_FOUND, "no %s '%s'", kind, ref);
	if (f.matches > 1)
		return fw_diag_set(d, FW_E_ARG, "'%s' matches %d %ss: give more of the id", ref,
		                   f.matches, kind);
	return fw_registry_doc_get(s, kind, f.id, doc, d);
}

int fw_registry_key_find(struct fw_store *s, const char *ref, json_t **doc, struct fw_diag *d)
{
	return find_one(s, KIND_KEY, ref, "name", doc, d);
}

struct doc_change {
	const char *kind;
	const char *id;
	json_t *doc;
	const char *ref_field;   /* where the document points at its evidence */
	int replace;
};

/* apply: write the document, pointing at the record just appended */
static int write_doc(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct doc_change *c = arg;

	json_object_set_new(c->doc, c->ref_field, fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, c->kind, c->id, c->doc, c->replace, d);
}

int fw_registry_key_trust(struct fw_store *s, const char *pub_path, const char *name,
                          const char *role, const char *actor, json_t **out, uint64_t *idx,
                          struct fw_diag *d)
{
	struct fw_key *key = NULL;
	struct doc_change dc = {KIND_KEY, NULL, NULL, "trusted", 0};
	struct fw_evidence_change change = {NULL, write_doc, &dc};
	json_t *doc = NULL, *rec = NULL, *existing = NULL;
	uint8_t *pem = NULL, lh[32];
	size_t pem_len = 0;
	char kid[65];
	uint64_t at = 0;
	int rc;

	if (!fw_registry_name_ok(name))
		return fw_diag_set(d, FW_E_ARG, "--name: '%s' must be 1-64 of [A-Za-z0-9._-]", name);
	if (strcmp(role, FW_ROLE_RELEASE_SIGNING) != 0)
		return fw_diag_set(d, FW_E_ARG, "--role: '%s' is not a role (known: %s)", role,
		                   FW_ROLE_RELEASE_SIGNING);
	rc = fw_key_load_public(pub_path, &key, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_file_read(pub_path, FW_MAX_KEY_FILE, &pem, &pem_len, d);
	if (rc != FW_OK)
		goto out;
	fw_key_id_hex(key, kid);
	if (fw_registry_key_find(s, name, &existing, NULL) == FW_OK) {
		rc = fw_diag_set(d, FW_E_CONFLICT, "--name: a key named '%s' is registered already",
		                 name);
		goto out;
	}
	doc = json_pack("{ss ss ss ss ss# ss}", "id", kid, "name", name, "role", role, "alg",
	                fw_key_alg_name(fw_key_alg(key)), "pem", (const char *)pem, pem_len,
	                "state", "active");
	rec = fw_evidence_record_new("key.trust", actor);
	if (doc == NULL || rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "key_id", json_string(kid));
	json_object_set_new(rec, "name", json_string(name));
	json_object_set_new(rec, "role", json_string(role));
	json_object_set_new(rec, "alg", json_string(fw_key_alg_name(fw_key_alg(key))));
	json_object_set_new(rec, "pem", json_stringn((const char *)pem, pem_len));
	dc.id = kid;
	dc.doc = doc;
	rc = fw_evidence_commit(s, &change, rec, &at, lh, d);
	if (rc == FW_E_CONFLICT)
		rc = fw_diag_set(d, FW_E_CONFLICT, "%s: key %s is registered already", pub_path, kid);
	if (rc == FW_OK) {
		*out = json_incref(doc);
		if (idx)
			*idx = at;
	}
out:
	json_decref(existing);
	json_decref(doc);
	json_decref(rec);
	free(pem);
	fw_key_free(key);
	return rc;
}

struct revoke {
	const char *ref;
	const char *reason;
	json_t *doc;
	char id[80];
	struct doc_change dc;
};

/* prepare: read the key inside the transaction, so two revocations cannot
 * both see it active */
static int revoke_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct revoke *r = arg;
	json_t *trusted;
	uint64_t tidx;
	uint8_t lh[32];
	int rc;

	rc = fw_registry_key_find(s, r->ref, &r->doc, d);
	if (rc != FW_OK)
		return rc;
	snprintf(r->id, sizeof(r->id), "%s", json_string_value(json_object_get(r->doc, "id")));
	if (strcmp(json_string_value(json_object_get(r->doc, "state")), "active") != 0)
		return fw_diag_set(d, FW_E_CONFLICT, "key %s (%s) is revoked already", r->id,
		                   json_string_value(json_object_get(r->doc, "name")));
	trusted = json_object_get(r->doc, "trusted");
	json_object_set_new(record, "key_id", json_string(r->id));
	json_object_set_new(record, "name", json_incref(json_object_get(r->doc, "name")));
	json_object_set_new(record, "reason", json_string(r->reason));
	if (fw_evidence_ref_parse(trusted, &tidx, lh) != FW_OK ||
	    fw_evidence_record_ref(record, tidx, lh) != FW_OK)
		return fw_diag_set(d, FW_E_STORE, "key %s: its trust record reference is malformed",
		                   r->id);
	json_object_set_new(r->doc, "state", json_string("revoked"));
	json_object_set_new(r->doc, "revoke_reason", json_string(r->reason));
	r->dc.kind = KIND_KEY;
	r->dc.id = r->id;
	r->dc.doc = r->doc;
	r->dc.ref_field = "revoked";
	r->dc.replace = 1;
	return FW_OK;
}

static int revoke_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                        struct fw_diag *d)
{
	struct revoke *r = arg;

	return write_doc(s, &r->dc, idx, lh, d);
}

int fw_registry_key_revoke(struct fw_store *s, const char *ref, const char *reason,
                           const char *actor, json_t **out, uint64_t *idx, struct fw_diag *d)
{
	struct revoke r;
	struct fw_evidence_change change = {revoke_prepare, revoke_apply, &r};
	json_t *rec;
	int rc;

	if (fw_registry_reason_ok(reason, 200, d) != FW_OK)
		return FW_E_ARG;
	memset(&r, 0, sizeof(r));
	r.ref = ref;
	r.reason = reason;
	rec = fw_evidence_record_new("key.revoke", actor);
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(r.doc);
	json_decref(r.doc);
	json_decref(rec);
	return rc;
}

int fw_registry_key_list(struct fw_store *s, json_t **keys, struct fw_diag *d)
{
	return fw_registry_doc_list(s, KIND_KEY, keys, d);
}

/* ---- releases ---- */

static int text_arg(const char *flag, const char *v, struct fw_diag *d)
{
	if (v == NULL || v[0] == '\0' || strlen(v) > 128 || !fw_text_valid(v))
		return fw_diag_set(d, FW_E_ARG, "%s: 1-128 bytes of text are required", flag);
	return FW_OK;
}

struct trusted_set {
	struct fw_key *keys[FW_MAX_TRUSTED_KEYS];
	struct fwv_key raw[FW_MAX_TRUSTED_KEYS];
	json_t *docs[FW_MAX_TRUSTED_KEYS];
	size_t n;
	int too_many;
	struct fw_diag err;
};

static int add_active(void *arg, const char *id, const char *doc)
{
	struct trusted_set *t = arg;
	json_t *j = json_loads(doc, 0, NULL);
	const char *pem = json_string_value(json_object_get(j, "pem"));
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *role = json_string_value(json_object_get(j, "role"));
	(void)id;
	if (j == NULL || pem == NULL || state == NULL || role == NULL) {
		json_decref(j);
		fw_diag_set(&t->err, FW_E_STORE, "key %s: stored document is malformed", id);
		return FW_E_STORE;
	}
	if (strcmp(state, "active") != 0 || strcmp(role, FW_ROLE_RELEASE_SIGNING) != 0) {
		json_decref(j);
		return 0;
	}
	if (t->n == FW_MAX_TRUSTED_KEYS) {
		t->too_many = 1;
		json_decref(j);
		return 0;
	}
	if (fw_key_from_pem(pem, strlen(pem), &t->keys[t->n], &t->err) != FW_OK) {
		json_decref(j);
		return FW_E_STORE;
	}
	fw_key_to_fwv(t->keys[t->n], &t->raw[t->n]);
	t->docs[t->n++] = j;
	return 0;
}

static void trusted_clear(struct trusted_set *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		fw_key_free(t->keys[i]);
		json_decref(t->docs[i]);
	}
	t->n = 0;
}

/* The release's .swu: verified as the devices verify it (their -k
 * certificates and --cert-purpose), the same image and version as the
 * envelope; then it and the certificate file are stored content-addressed.
 * *out: the "swu" object of the document and the record. Every refusal of
 * the .swu is FW_E_VERIFY. */
static int release_swu(struct fw_store *s, const struct fw_release_swu *w,
                       const struct fwv_manifest_info *mi, json_t **out, struct fw_diag *d)
{
	struct fw_swu_trust *trust = NULL;
	struct fw_swu_info *si = NULL;
	const char *base;
	uint8_t *cert = NULL, sha[32], cert_sha[32];
	size_t cert_len = 0;
	uint64_t size = 0;
	char hex[65], sha1[41], md5[33], signer[65], cert_hex[65];
	json_t *o = NULL, *hw = NULL;
	size_t i;
	int rc;

	if (w->path == NULL || w->cert_path == NULL)
		return fw_diag_set(d, FW_E_ARG, "--swu needs --swu-cert (the devices' certificate)");
	base = strrchr(w->path, '/') ? strrchr(w->path, '/') + 1 : w->path;
	if (base[0] == '\0' || strlen(base) > FW_SWU_MAX_NAME || !fw_text_valid(base))
		return fw_diag_set(d, FW_E_ARG, "--swu: the file name must be 1-%d bytes of text",
		                   FW_SWU_MAX_NAME);
	si = calloc(1, sizeof(*si));
	if (si == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	/* one read of the certificate: the bytes judged are the bytes kept */
	rc = fw_file_read(w->cert_path, FW_SWU_MAX_CERT_FILE, &cert, &cert_len, d);
	if (rc == FW_OK)
		rc = fw_swu_trust_from_pem(w->cert_path, cert, cert_len, w->purpose, &trust, d);
	if (rc != FW_OK)
		goto out;
	rc = fw_swu_verify_file(w->path, trust, si, d);
	if (rc == FW_E_FORMAT || rc == FW_E_SIGNATURE || rc == FW_E_TOO_LARGE)
		rc = FW_E_VERIFY; /* d already says what and where */
	if (rc != FW_OK)
		goto out;
	if (si->image_size != mi->image_size || memcmp(si->image_sha256, mi->image_digest, 32) != 0) {
		char want[65];

		fw_hex_encode(si->image_sha256, 32, hex);
		fw_hex_encode(mi->image_digest, 32, want);
		rc = fw_diag_set(d, FW_E_VERIFY,
		                 "%s: its image '%s' (sha256 %s, %llu bytes) is not the release's "
		                 "image (sha256 %s, %llu bytes)",
		                 w->path, si->image_name, hex, (unsigned long long)si->image_size, want,
		                 (unsigned long long)mi->image_size);
		goto out;
	}
	if (strlen(si->version) != mi->version.len ||
	    memcmp(si->version, mi->version.ptr, mi->version.len) != 0) {
		rc = fw_diag_set(d, FW_E_VERIFY,
		                 "%s: its version '%s' is not the release's version '%.*s'", w->path,
		                 si->version, (int)mi->version.len, (const char *)mi->version.ptr);
		goto out;
	}
	rc = fw_store_blob_put_file(s, w->path, sha, &size, d);
	if (rc != FW_OK)
		goto out;
	if (size != si->size || memcmp(sha, si->sha256, 32) != 0) {
		rc = fw_diag_set(d, FW_E_VERIFY, "%s: changed while it was being added", w->path);
		goto out;
	}
	fw_sha256(cert, cert_len, cert_sha);
	rc = fw_store_blob_put(s, cert, cert_len, cert_sha, d);
	if (rc != FW_OK)
		goto out;
	fw_hex_encode(si->sha256, 32, hex);
	fw_hex_encode(si->sha1, 20, sha1);
	fw_hex_encode(si->md5, 16, md5);
	fw_hex_encode(si->signer_sha256, 32, signer);
	fw_hex_encode(cert_sha, 32, cert_hex);
	o = json_object();
	hw = json_array();
	if (o == NULL || hw == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < si->nhw; i++)
		json_array_append_new(hw, json_string(si->hw[i]));
	json_object_set_new(o, "filename", json_string(base));
	json_object_set_new(o, "size", json_integer((json_int_t)si->size));
	json_object_set_new(o, "sha256", json_string(hex));
	json_object_set_new(o, "sha1", json_string(sha1));
	json_object_set_new(o, "md5", json_string(md5));
	json_object_set_new(o, "image_filename", json_string(si->image_name));
	json_object_set_new(o, "hw_compat", hw);
	hw = NULL;
	json_object_set_new(o, "signer_sha256", json_string(signer));
	json_object_set_new(o, "signer_subject", json_string(si->signer_subject));
	json_object_set_new(o, "cert_sha256", json_string(cert_hex));
	json_object_set_new(o, "cert_purpose", json_string(fw_swu_purpose_name(w->purpose)));
	if (json_object_size(o) != 11) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
	rc = FW_OK;
out:
	json_decref(o);
	json_decref(hw);
	fw_swu_trust_free(trust);
	free(si);
	free(cert);
	return rc;
}

/* ---- what a release carries besides its artifacts: SBOM, fixes ---- */


struct release_fixes {
	char ids[FW_RELEASE_MAX_FIXES][FW_ADVISORY_ID_MAX + 1];
	size_t n;
};

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* --fixes as given: syntax, count, duplicates; kept sorted */
static int fixes_parse(const struct fw_release_target *t, struct release_fixes *f,
                       struct fw_diag *d)
{
	size_t i;

	f->n = 0;
	if (t->nfixes > FW_RELEASE_MAX_FIXES)
		return fw_diag_set(d, FW_E_ARG, "--fixes: at most %d advisories",
		                   FW_RELEASE_MAX_FIXES);
	for (i = 0; i < t->nfixes; i++) {
		/* shown only when it passed the rule: no control bytes reach the terminal */
		if (t->fixes[i] == NULL || !fw_advisory_id_valid(t->fixes[i]))
			return fw_diag_set(d, FW_E_ARG,
			                   "--fixes: the %zu. one is not an advisory id (1-%d of A-Z a-z "
			                   "0-9 . _ : -, starting with a letter or digit)",
			                   i + 1, FW_ADVISORY_ID_MAX);
		snprintf(f->ids[i], sizeof(f->ids[i]), "%s", t->fixes[i]);
	}
	f->n = t->nfixes;
	qsort(f->ids, f->n, sizeof(f->ids[0]), cmp_id);
	for (i = 1; i < f->n; i++)
		if (strcmp(f->ids[i - 1], f->ids[i]) == 0)
			return fw_diag_set(d, FW_E_ARG, "--fixes %s given twice", f->ids[i]);
	return FW_OK;
}

int fw_registry_advisory_target(struct fw_store *s, const char *id, char product[FW_FIELD_MAX],
                                char family[FW_FIELD_MAX], uint64_t *rec, uint8_t rec_lh[32],
                                struct fw_diag *d)
{
	json_t *adv = NULL, *fam;
	const char *ap;
	int rc = fw_registry_doc_get(s, FW_REGISTRY_KIND_ADVISORY, id, &adv, d);

	if (rc != FW_OK)
		return rc;
	/* only what these judge is read; vuln validates an advisory in full
	 * wherever it judges devices by it */
	ap = json_string_value(json_object_get(adv, "product"));
	fam = json_object_get(adv, "family");
	if (ap == NULL || strlen(ap) >= FW_FIELD_MAX || (fam && !json_is_null(fam) &&
	                                                 (!json_is_string(fam) ||
	                                                  json_string_length(fam) >= FW_FIELD_MAX)) ||
	    fw_evidence_ref_parse(json_object_get(adv, "added"), rec, rec_lh) != FW_OK)
		rc = fw_diag_set(d, FW_E_STORE, "advisory %s: the stored document is malformed", id);
	else {
		snprintf(product, FW_FIELD_MAX, "%s", ap);
		snprintf(family, FW_FIELD_MAX, "%s", json_is_string(fam) ? json_string_value(fam) : "");
	}
	json_decref(adv);
	return rc;
}

/*
 * Each advisory a release fixes exists and is of the release's product
 * (and family, when it names one); with record, the record refs each
 * one's vuln.add record. Called once before anything is written (so a
 * refusal leaves no blob) and again inside the release's transaction,
 * which is what the record is written with.
 */
static int fixes_check(struct fw_store *s, const struct release_fixes *f, const char *product,
                       const char *family, json_t *record, struct fw_diag *d)
{
	struct fw_diag why = {{0}};
	size_t i;
	int rc = FW_OK;

	for (i = 0; rc == FW_OK && i < f->n; i++) {
		char ap[FW_FIELD_MAX], af[FW_FIELD_MAX];
		uint64_t aidx;
		uint8_t alh[32];

		rc = fw_registry_advisory_target(s, f->ids[i], ap, af, &aidx, alh, &why);
		if (rc == FW_E_NOT_FOUND)
			return fw_diag_set(d, rc,
			                   "--fixes %s: no such advisory (vuln add or vuln import it first)",
			                   f->ids[i]);
		if (rc == FW_E_STORE)
			rc = fw_diag_set(d, rc, "--fixes %s: the stored advisory is malformed", f->ids[i]);
		else if (rc != FW_OK)
			rc = fw_diag_set(d, rc, "--fixes %s: %s", f->ids[i], why.msg);
		else if (strcmp(ap, product) != 0)
			rc = fw_diag_set(d, FW_E_VERIFY,
			                 "--fixes %s: the advisory is for product '%s', not the release's "
			                 "'%s'",
			                 f->ids[i], ap, product);
		else if (af[0] && strcmp(af, family) != 0)
			rc = fw_diag_set(d, FW_E_VERIFY,
			                 "--fixes %s: the advisory is for family '%s', not the release's "
			                 "'%s'",
			                 f->ids[i], af, family);
		else if (record && fw_evidence_record_ref(record, aidx, alh) != FW_OK)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	return rc;
}

/* The SBOM, read once (the bytes judged are the bytes kept), recognised,
 * and its version compared with the signed envelope's. */
static int sbom_judge(const char *path, const uint8_t *data, size_t len,
                      const struct fwv_manifest_info *mi, struct fw_sbom_info *info,
                      struct fw_diag *d)
{
	struct fw_diag why = {{0}};
	int rc = fw_sbom_parse(data, len, info, &why);

	if (rc != FW_OK)
		return fw_diag_set(d, rc, "--sbom %s: %s", path, why.msg);
	/* the SBOM must describe this release, not another version of it */
	if (info->version[0] &&
	    (strlen(info->version) != mi->version.len ||
	     memcmp(info->version, mi->version.ptr, mi->version.len) != 0))
		return fw_diag_set(d, FW_E_VERIFY, "--sbom %s: %s %s is not the release's version %.*s",
		                   path, info->version_field, info->version,
		                   mi->version.len ? (int)mi->version.len : 6,
		                   mi->version.len ? (const char *)mi->version.ptr : "(none)");
	return FW_OK;
}

static json_t *sbom_json(const struct fw_sbom_info *info, const uint8_t sha[32], size_t len)
{
	char hex[65];

	fw_hex_encode(sha, 32, hex);
	return json_pack("{ss ss ss sI sI}", "format", info->format, "spec_version",
	                 info->spec_version, "sha256", hex, "size", (json_int_t)len, "components",
	                 (json_int_t)info->components);
}

/* the release's transaction: the advisories checked again with the
 * record, then the document */
struct release_tx {
	struct doc_change dc;
	const struct release_fixes *fixes;
	const char *product, *family;
};

static int release_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct release_tx *x = arg;

	return fixes_check(s, x->fixes, x->product, x->family, record, d);
}

static int release_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                         struct fw_diag *d)
{
	struct release_tx *x = arg;

	return write_doc(s, &x->dc, idx, lh, d);
}

int fw_registry_release_add(struct fw_store *s, const char *envelope_path,
                            const char *image_path, const struct fw_release_target *target,
                            const char *actor, json_t **out, uint64_t *idx, struct fw_diag *d)
{
	const char *product = target->product, *family = target->family;
	char from[FW_RANGE_MAX + 64] = "";
	json_t *hw = json_array();
	struct trusted_set t;
	struct fwv_manifest_info mi;
	struct fwv_device dev;
	struct fw_suit_verdict v;
	struct release_tx tx = {{KIND_RELEASE, NULL, NULL, "added", 0}, NULL, NULL, NULL};
	struct fw_evidence_change change = {release_prepare, release_apply, &tx};
	struct release_fixes *fixes = calloc(1, sizeof(*fixes));
	struct fw_sbom_info sbom_info;
	uint8_t *env = NULL, env_sha[32], img_sha[32], lh[32], *sbom = NULL, sbom_sha[32];
	size_t env_len = 0, i, signer = 0, sbom_len = 0;
	uint64_t img_size = 0;
	char env_hex[65], img_hex[65], signer_hex[65], uuid[37];
	json_t *doc = NULL, *rec = NULL, *existing = NULL, *swu = NULL, *sbj = NULL, *fixj = NULL;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = hw && fixes ? FW_OK : fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (rc == FW_OK)
		rc = text_arg("--product", product, d);
	if (rc == FW_OK)
		rc = text_arg("--family", family, d);
	if (target->nhw > FW_RELEASE_MAX_HW)
		rc = fw_diag_set(d, FW_E_ARG, "--hw-revision: at most %d", FW_RELEASE_MAX_HW);
	for (i = 0; rc == FW_OK && i < target->nhw; i++) {
		rc = text_arg("--hw-revision", target->hw[i], d);
		if (rc == FW_OK)
			json_array_append_new(hw, json_string(target->hw[i]));
	}
	if (rc == FW_OK && target->from) {
		struct fw_range r;
		struct fw_diag why = {{0}};

		if (fw_range_parse(target->from, &r, &why) != FW_OK)
			rc = fw_diag_set(d, FW_E_ARG, "--from '%s': %s", target->from, why.msg);
		else
			fw_range_format(&r, from, sizeof(from));
	}
	if (rc == FW_OK)
		rc = fixes_parse(target, fixes, d);
	if (rc == FW_OK && target->sbom) {
		struct fw_diag why = {{0}};

		rc = fw_file_read(target->sbom, FW_RELEASE_MAX_SBOM, &sbom, &sbom_len, &why);
		if (rc != FW_OK)
			fw_diag_set(d, rc, "--sbom %s", why.msg);
	}
	if (rc == FW_OK)
		rc = fw_file_read(envelope_path, FW_MAX_ENVELOPE_FILE, &env, &env_len, d);
	if (rc != FW_OK) {
		json_decref(hw);
		free(fixes);
		free(sbom);
		return rc;
	}
	rc = fw_store_object_scan(s, KIND_KEY, add_active, &t, d);
	if (rc != FW_OK) {
		if (t.err.msg[0])
			*d = t.err;
		goto out;
	}
	if (t.n == 0) {
		rc = fw_diag_set(d, FW_E_VERIFY,
		                 "no active release-signing key is registered (add one with 'fwtrust "
		                 "key trust')");
		goto out;
	}
	/* a release is verified as a device would, image included; identity
	 * and sequence are the devices' business, checked at delivery */
	memset(&dev, 0, sizeof(dev));
	dev.flags = FWV_F_SKIP_VENDOR | FWV_F_SKIP_CLASS | FWV_F_SKIP_DEVICE | FWV_F_SKIP_SEQUENCE;
	rc = fw_suit_verify(env, env_len, t.raw, t.n, &dev, image_path, &v, d);
	if (rc == FW_E_VERIFY) {
		char why[200] = "";

		if (v.fwv_rc == FWV_E_UNKNOWN_KEY && fwv_parse_envelope(env, env_len, &mi) == FWV_OK &&
		    mi.has_kid) {
			json_t *k = NULL;
			char kid[65];

			fw_hex_encode(mi.kid, 32, kid);
			if (fw_registry_key_find(s, kid, &k, NULL) == FW_OK &&
			    strcmp(json_string_value(json_object_get(k, "state")), "revoked") == 0)
				snprintf(why, sizeof(why), " (signed by key %s '%s', which is revoked)", kid,
				         json_string_value(json_object_get(k, "name")));
			else
				snprintf(why, sizeof(why), " (signed by key %s, which is not registered)",
				         kid);
			json_decref(k);
		}
		rc = fw_diag_set(d, FW_E_VERIFY, "%s: %s: %s%s", envelope_path,
		                 fwv_err_name(v.fwv_rc), fw_suit_explain(v.fwv_rc), why);
		goto out;
	}
	if (rc != FW_OK)
		goto out;
	if (fwv_parse_envelope(env, env_len, &mi) != FWV_OK) {
		rc = fw_diag_set(d, FW_E_INTERNAL, "%s: verified but not parsable", envelope_path);
		goto out;
	}
	for (i = 0; i < t.n; i++)
		if (memcmp(t.raw[i].id, v.signer, 32) == 0)
			signer = i;
	fw_sha256(env, env_len, env_sha);
	fw_hex_encode(env_sha, 32, env_hex);
	if (fw_registry_release_get(s, env_hex, &existing, NULL) == FW_OK) {
		rc = fw_diag_set(d, FW_E_CONFLICT, "%s: this release was added already (%.16s)",
		                 envelope_path, env_hex);
		goto out;
	}
	/* the SBOM and the advisories before any blob: a refusal leaves nothing */
	if (sbom) {
		rc = sbom_judge(target->sbom, sbom, sbom_len, &mi, &sbom_info, d);
		if (rc != FW_OK)
			goto out;
	}
	rc = fixes_check(s, fixes, product, family, NULL, d);
	if (rc != FW_OK)
		goto out;
	/* the .swu first: a refused one leaves nothing behind */
	if (target->swu) {
		rc = release_swu(s, target->swu, &mi, &swu, d);
		if (rc != FW_OK)
			goto out;
	}
	/* content-addressed copies: the bytes that were verified are the ones kept */
	rc = fw_store_blob_put(s, env, env_len, env_sha, d);
	if (rc == FW_OK)
		rc = fw_store_blob_put_file(s, image_path, img_sha, &img_size, d);
	if (rc != FW_OK)
		goto out;
	fw_hex_encode(img_sha, 32, img_hex);
	if (img_size != mi.image_size || memcmp(img_sha, mi.image_digest, 32) != 0) {
		rc = fw_diag_set(d, FW_E_VERIFY, "%s: changed while it was being added", image_path);
		goto out;
	}
	if (sbom) {
		rc = fw_store_blob_put(s, sbom, sbom_len, sbom_sha, d);
		if (rc != FW_OK)
			goto out;
		sbj = sbom_json(&sbom_info, sbom_sha, sbom_len);
	}
	fixj = json_array();
	for (i = 0; fixj && i < fixes->n; i++)
		if (json_array_append_new(fixj, json_string(fixes->ids[i])) != 0) {
			json_decref(fixj);
			fixj = NULL;
		}
	if ((sbom && sbj == NULL) || fixj == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	fw_hex_encode(v.signer, 32, signer_hex);

	doc = json_object();
	rec = fw_evidence_record_new("release.add", actor);
	if (doc == NULL || rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	{
		json_t *targets[2] = {doc, rec};
		int k;

		for (k = 0; k < 2; k++) {
			json_t *o = targets[k];

			json_object_set_new(o, "release_id", json_string(env_hex));
			json_object_set_new(o, "product", json_string(product));
			json_object_set_new(o, "family", json_string(family));
			json_object_set_new(o, "version",
			                    mi.version.len ? json_stringn((const char *)mi.version.ptr,
			                                                  mi.version.len)
			                                   : json_null());
			if (json_object_get(o, "version") == NULL)
				json_object_set_new(o, "version", json_null());
			/* sequences above 2^53 are kept as decimal text (canonical JSON) */
			if (mi.sequence <= 9007199254740991ULL) {
				json_object_set_new(o, "sequence", json_integer((json_int_t)mi.sequence));
			} else {
				char seq[24];

				snprintf(seq, sizeof(seq), "%llu", (unsigned long long)mi.sequence);
				json_object_set_new(o, "sequence", json_string(seq));
			}
			fw_uuid_format(mi.vendor_id.ptr, uuid);
			json_object_set_new(o, "vendor_id", json_string(uuid));
			fw_uuid_format(mi.class_id.ptr, uuid);
			json_object_set_new(o, "class_id", json_string(uuid));
			if (mi.checks_device) {
				fw_uuid_format(mi.device_id.ptr, uuid);
				json_object_set_new(o, "device_id", json_string(uuid));
			} else {
				json_object_set_new(o, "device_id", json_null());
			}
			json_object_set_new(o, "envelope_sha256", json_string(env_hex));
			json_object_set_new(o, "envelope_size", json_integer((json_int_t)env_len));
			json_object_set_new(o, "image_sha256", json_string(img_hex));
			json_object_set_new(o, "image_size", json_integer((json_int_t)img_size));
			json_object_set_new(o, "signer_key_id", json_string(signer_hex));
			json_object_set_new(o, "signer_name",
			                    json_incref(json_object_get(t.docs[signer], "name")));
			json_object_set_new(o, "upgrade_from", from[0] ? json_string(from) : json_null());
			json_object_set_new(o, "hw_revisions", json_deep_copy(hw));
			if (swu)
				json_object_set_new(o, "swu", json_deep_copy(swu));
			if (sbj)
				json_object_set_new(o, "sbom", json_deep_copy(sbj));
			if (fixes->n)
				json_object_set_new(o, "fixes", json_deep_copy(fixj));
		}
	}
	{
		json_t *trusted = json_object_get(t.docs[signer], "trusted");

		uint64_t tidx;

		if (fw_evidence_ref_parse(trusted, &tidx, lh) != FW_OK ||
		    fw_evidence_record_ref(rec, tidx, lh) != FW_OK) {
			rc = fw_diag_set(d, FW_E_STORE, "signing key %s: its trust record is malformed",
			                 signer_hex);
			goto out;
		}
	}
	tx.dc.id = env_hex;
	tx.dc.doc = doc;
	tx.fixes = fixes;
	tx.product = product;
	tx.family = family;
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK)
		*out = json_incref(doc);
out:
	trusted_clear(&t);
	json_decref(sbj);
	json_decref(fixj);
	free(sbom);
	free(fixes);
	json_decref(swu);
	json_decref(existing);
	json_decref(doc);
	json_decref(rec);
	json_decref(hw);
	free(env);
	return rc;
}

/* A release's status follows its signer: a later revocation shows. */
static int add_status(struct fw_store *s, json_t *rel)
{
	json_t *key = NULL;
	const char *signer = json_string_value(json_object_get(rel, "signer_key_id"));
	const char *status = "signed-by-revoked-key", *state;

	/* default-deny: "ok" only for a signer that is known and active */
	if (signer && fw_registry_doc_get(s, KIND_KEY, signer, &key, NULL) == FW_OK &&
	    (state = json_string_value(json_object_get(key, "state"))) != NULL &&
	    strcmp(state, "active") == 0)
		status = "ok";
	json_decref(key);
	json_object_set_new(rel, "id", json_incref(json_object_get(rel, "release_id")));
	return json_object_set_new(rel, "status", json_string(status));
}

int fw_registry_release_list(struct fw_store *s, json_t **releases, struct fw_diag *d)
{
	json_t *arr = NULL, *rel;
	size_t i;
	int rc = fw_registry_doc_list(s, KIND_RELEASE, &arr, d);

	if (rc != FW_OK)
		return rc;
	json_array_foreach(arr, i, rel)
		add_status(s, rel);
	*releases = arr;
	return FW_OK;
}

int fw_registry_release_get(struct fw_store *s, const char *ref, json_t **doc,
                            struct fw_diag *d)
{
	int rc = find_one(s, KIND_RELEASE, ref, NULL, doc, d);

	if (rc == FW_OK)
		add_status(s, *doc);
	return rc;
}
