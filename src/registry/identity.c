/*
 * Device identities: the CAs that issue device certificates, their CRLs,
 * and local revocation. Certificates are judged once when stored (chain to
 * a trusted CA) and their facts kept current here; time is judged at
 * decision time (fw_cert_state).
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

#define KIND_CA "ca"
#define KIND_CRL "crl"

int fw_registry_ca_list(struct fw_store *s, json_t **cas, struct fw_diag *d)
{
	return fw_registry_doc_list(s, KIND_CA, cas, d);
}

/* The stored CAs as parsed certificates (*v malloc'd, *n entries). */
static int load_cas(struct fw_store *s, struct fw_cert ***v, size_t *n, struct fw_diag *d)
{
	json_t *cas = NULL, *ca;
	size_t i;
	int rc;

	*v = NULL;
	*n = 0;
	rc = fw_registry_ca_list(s, &cas, d);
	if (rc != FW_OK)
		return rc;
	if (json_array_size(cas)) {
		*v = calloc(json_array_size(cas), sizeof(**v));
		if (*v == NULL)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	json_array_foreach(cas, i, ca) {
		const char *pem = json_string_value(json_object_get(ca, "pem"));

		if (rc != FW_OK)
			break;
		if (pem == NULL) {
			rc = fw_diag_set(d, FW_E_STORE, "a stored CA document has no certificate");
			break;
		}
		rc = fw_cert_from_pem(pem, strlen(pem), &(*v)[i], d);
		if (rc == FW_OK)
			(*n)++;
	}
	json_decref(cas);
	if (rc != FW_OK) {
		fw_cert_bundle_free(*v, *n);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

static int anchors_from(struct fw_cert *const *v, size_t n, struct fw_cert_anchors **a,
                        struct fw_diag *d)
{
	size_t i;
	int rc = fw_cert_anchors_new(a, d);

	for (i = 0; rc == FW_OK && i < n; i++)
		rc = fw_cert_anchors_add(*a, v[i], d);
	if (rc != FW_OK) {
		fw_cert_anchors_free(*a);
		*a = NULL;
	}
	return rc;
}

int fw_registry_anchors(struct fw_store *s, struct fw_cert_anchors **a, struct fw_diag *d)
{
	struct fw_cert **v = NULL;
	size_t n = 0;
	int rc = load_cas(s, &v, &n, d);

	if (rc == FW_OK)
		rc = anchors_from(v, n, a, d);
	fw_cert_bundle_free(v, n);
	return rc;
}

/* ---- ca add ---- */

struct reverify {
	struct fw_store *s;
	struct fw_cert_anchors *anchors;
	uint8_t (*sha)[32];
	uint8_t **der;
	size_t *len;
	size_t n, cap;
	int oom;
};

static int collect_unverified(void *arg, const struct fw_cert_row *c)
{
	struct reverify *r = arg;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		void *a = realloc(r->sha, cap * sizeof(*r->sha));
		void *b = a ? realloc(r->der, cap * sizeof(*r->der)) : NULL;
		void *l = b ? realloc(r->len, cap * sizeof(*r->len)) : NULL;

		if (a)
			r->sha = a;
		if (b)
			r->der = b;
		if (l == NULL) {
			r->oom = 1;
			return FW_E_NOMEM;
		}
		r->len = l;
		r->cap = cap;
	}
	r->der[r->n] = malloc(c->der_len ? c->der_len : 1);
	if (r->der[r->n] == NULL) {
		r->oom = 1;
		return FW_E_NOMEM;
	}
	memcpy(r->sha[r->n], c->sha256, 32);
	memcpy(r->der[r->n], c->der, c->der_len);
	r->len[r->n] = c->der_len;
	r->n++;
	return 0;
}

struct ca_add {
	json_t *docs;      /* the new CAs' documents */
	struct fw_cert **all;
	size_t nall;
	uint64_t reverified;
};

/* apply: store the CAs and judge again the certificates that had no chain */
static int ca_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                    struct fw_diag *d)
{
	struct ca_add *c = arg;
	struct reverify r;
	json_t *doc;
	size_t i;
	int rc = FW_OK;

	json_array_foreach(c->docs, i, doc) {
		json_object_set_new(doc, "added", fw_evidence_ref_json(idx, lh));
		rc = fw_registry_doc_put(s, KIND_CA, json_string_value(json_object_get(doc, "sha256")),
		                         doc, 1, d);
		if (rc != FW_OK)
			return rc;
	}
	memset(&r, 0, sizeof(r));
	rc = anchors_from(c->all, c->nall, &r.anchors, d);
	if (rc == FW_OK) {
		rc = fw_store_cert_scan(s, 1, collect_unverified, &r, d);
		if (r.oom)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	for (i = 0; rc == FW_OK && i < r.n; i++) {
		struct fw_cert *cert = NULL;
		struct fw_cert_info info;
		int64_t nb = 0, na = 0;
		uint8_t issuer[32];

		rc = fw_cert_from_der(r.der[i], r.len[i], &cert, d);
		if (rc != FW_OK)
			break;
		fw_cert_get_info(cert, &info);
		if (!info.is_ca &&
		    fw_cert_verify_chain(r.anchors, cert, &nb, &na, issuer, NULL) == FW_OK) {
			rc = fw_store_cert_set_chain(s, r.sha[i], 1, nb, na, "", d);
			c->reverified++;
		}
		fw_cert_free(cert);
	}
	for (i = 0; i < r.n; i++)
		free(r.der[i]);
	free(r.der);
	free(r.sha);
	free(r.len);
	fw_cert_anchors_free(r.anchors);
	return rc;
}

int fw_registry_ca_add(struct fw_store *s, const char *path, const char *actor, size_t *added,
                       uint64_t *reverified, uint64_t *idx, struct fw_diag *d)
{
	struct ca_add c = {NULL, NULL, 0, 0};
	struct fw_evidence_change change = {NULL, ca_apply, &c};
	struct fw_cert **v = NULL, **known = NULL;
	size_t n = 0, nknown = 0, i, j;
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	json_t *rec = NULL, *list = NULL;
	int rc;

	*added = 0;
	rc = fw_file_read(path, FW_MAX_CA_FILE, &pem, &pem_len, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_cert_bundle_from_pem((const char *)pem, pem_len, &v, &n, d);
	if (rc != FW_OK) {
		char msg[FW_DIAG_LEN];

		snprintf(msg, sizeof(msg), "%s", d ? d->msg : "");
		fw_diag_set(d, rc, "%s: %s", path, msg);
		goto out;
	}
	rc = load_cas(s, &known, &nknown, d);
	if (rc != FW_OK)
		goto out;
	c.docs = json_array();
	list = json_array();
	c.all = calloc(n + nknown, sizeof(*c.all));
	if (c.docs == NULL || list == NULL || c.all == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nknown; i++)
		c.all[c.nall++] = known[i];
	for (i = 0; i < n; i++) {
		struct fw_cert_info info;
		char hex[65], *cpem = NULL;
		json_t *doc;
		int dup = 0;

		fw_cert_get_info(v[i], &info);
		if (!info.is_ca) {
			rc = fw_diag_set(d, FW_E_VERIFY,
			                 "%s: certificate %zu (%s) is not a CA certificate "
			                 "(basicConstraints CA:TRUE); nothing was added",
			                 path, i + 1, info.subject);
			goto out;
		}
		fw_hex_encode(info.sha256, 32, hex);
		for (j = 0; j < c.nall && !dup; j++) {
			struct fw_cert_info k;

			fw_cert_get_info(c.all[j], &k);
			dup = memcmp(k.sha256, info.sha256, 32) == 0;
		}
		if (dup)
			continue;
		rc = fw_cert_pem(v[i], &cpem, d);
		if (rc != FW_OK)
			goto out;
		doc = json_pack("{sssssssIsIss}", "sha256", hex, "subject", info.subject, "issuer",
		                info.issuer, "not_before", (json_int_t)info.not_before, "not_after",
		                (json_int_t)info.not_after, "pem", cpem);
		free(cpem);
		if (doc) {
			char sh[65];

			fw_hex_encode(info.subject_hash, 32, sh);
			json_object_set_new(doc, "subject_hash", json_string(sh));
		}
		if (doc == NULL) {
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
			goto out;
		}
		json_array_append_new(c.docs, doc);
		json_array_append_new(list, json_deep_copy(doc));
		c.all[c.nall++] = v[i];
	}
	if (json_array_size(c.docs) == 0) {
		rc = fw_diag_set(d, FW_E_CONFLICT, "%s: every CA in it is trusted already", path);
		goto out;
	}
	rec = fw_evidence_record_new("ca.add", actor);
	if (rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "cas", json_incref(list));
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK) {
		*added = json_array_size(c.docs);
		*reverified = c.reverified;
	}
out:
	json_decref(rec);
	json_decref(list);
	json_decref(c.docs);
	free(c.all);
	fw_cert_bundle_free(known, nknown);
	fw_cert_bundle_free(v, n);
	free(pem);
	return rc;
}

/* ---- crl import ---- */

struct crl_import {
	struct fw_crl *crl;
	struct fw_crl_info info;
	uint64_t entries, revoked;
	json_t *doc;
	char issuer_hex[65];
	const char *path;
};

/* A CRL must be newer than the last one of its CA (FW_E_CONFLICT). */
static int crl_newer(struct fw_store *s, const struct crl_import *c, struct fw_diag *d)
{
	json_t *prev = NULL;
	json_int_t t;

	if (fw_registry_doc_get(s, KIND_CRL, c->issuer_hex, &prev, NULL) != FW_OK)
		return FW_OK;
	t = json_integer_value(json_object_get(prev, "this_update"));
	json_decref(prev);
	if ((int64_t)t < c->info.this_update)
		return FW_OK;
	return fw_diag_set(d, FW_E_CONFLICT,
	                   "%s: not newer than the CRL of %s imported before (thisUpdate %lld, "
	                   "stored %lld)",
	                   c->path, c->info.issuer, (long long)c->info.this_update, (long long)t);
}

static int crl_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct crl_import *c = arg;
	char serial[FW_SERIAL_HEX_MAX];
	size_t i;
	int rc;

	/* again inside the transaction: another import may have come first */
	rc = crl_newer(s, c, d);
	if (rc != FW_OK)
		return rc;
	for (i = 0; i < c->info.revoked; i++) {
		uint64_t n = 0;

		rc = fw_crl_serial(c->crl, i, serial);
		if (rc != FW_OK)
			return fw_diag_set(d, rc, "CRL entry %zu: malformed serial", i + 1);
		rc = fw_store_crl_entry_add(s, c->info.issuer_hash, serial, &n, d);
		if (rc != FW_OK)
			return rc;
		c->revoked += n;
	}
	c->entries = c->info.revoked;
	json_object_set_new(c->doc, "imported", fw_evidence_ref_json(idx, lh));
	return fw_registry_doc_put(s, KIND_CRL, c->issuer_hex, c->doc, 1, d);
}

int fw_registry_crl_import(struct fw_store *s, const char *path, const char *actor,
                           uint64_t *entries, uint64_t *certs_revoked, uint64_t *idx,
                           struct fw_diag *d)
{
	struct crl_import c;
	struct fw_evidence_change change = {NULL, crl_apply, &c};
	struct fw_cert **cas = NULL;
	size_t ncas = 0;
	uint8_t *data = NULL, sha[32];
	size_t len = 0;
	char hex[65];
	json_t *rec = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = fw_file_read(path, FW_MAX_CA_FILE, &data, &len, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_crl_parse(data, len, &c.crl, d);
	if (rc != FW_OK) {
		char msg[FW_DIAG_LEN];

		snprintf(msg, sizeof(msg), "%s", d ? d->msg : "");
		fw_diag_set(d, rc, "%s: %s", path, msg);
		goto out;
	}
	fw_crl_get_info(c.crl, &c.info);
	rc = load_cas(s, &cas, &ncas, d);
	if (rc != FW_OK)
		goto out;
	rc = fw_crl_verify(c.crl, cas, ncas, d);
	if (rc != FW_OK) {
		char msg[FW_DIAG_LEN];

		snprintf(msg, sizeof(msg), "%s", d ? d->msg : "");
		fw_diag_set(d, rc, "%s: %s (nothing was imported)", path, msg);
		goto out;
	}
	/* the revocations are the verifying CA's: keyed by the encoding of its
	 * own subject, as device certificates are by their verified issuer's */
	{
		size_t i;

		for (i = 0; i < ncas; i++) {
			struct fw_cert_info ci;

			if (fw_crl_verify(c.crl, &cas[i], 1, NULL) != FW_OK)
				continue;
			fw_cert_get_info(cas[i], &ci);
			memcpy(c.info.issuer_hash, ci.subject_hash, 32);
			break;
		}
	}
	fw_hex_encode(c.info.issuer_hash, 32, c.issuer_hex);
	c.path = path;
	/* before the CRL is kept: the common refusal leaves nothing behind */
	rc = crl_newer(s, &c, d);
	if (rc != FW_OK)
		goto out;
	rc = fw_store_blob_put(s, data, len, sha, d);
	if (rc != FW_OK)
		goto out;
	fw_hex_encode(c.info.sha256, 32, hex);
	c.doc = json_pack("{sssssIsIsssI}", "sha256", hex, "issuer", c.info.issuer, "this_update",
	                  (json_int_t)c.info.this_update, "next_update",
	                  (json_int_t)c.info.next_update, "number", c.info.number, "entries",
	                  (json_int_t)c.info.revoked);
	rec = fw_evidence_record_new("crl.import", actor);
	if (c.doc == NULL || rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_update(rec, c.doc);
	json_object_set_new(rec, "issuer_hash", json_string(c.issuer_hex));
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc == FW_OK) {
		*entries = c.entries;
		*certs_revoked = c.revoked;
	}
out:
	json_decref(rec);
	json_decref(c.doc);
	fw_cert_bundle_free(cas, ncas);
	fw_crl_free(c.crl);
	free(data);
	return rc;
}

/* ---- local revocation ---- */

struct revoke {
	const char *device, *reason;
	struct fw_device_row *row;
	struct fw_cert_row cert;
};

static int revoke_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct revoke *r = arg;
	char hex[65];
	int has = 0, rc;

	rc = fw_store_device_get(s, r->device, r->row, &r->cert, &has, d);
	if (rc != FW_OK)
		return rc;
	if (!r->row->has_cert || !has)
		return fw_diag_set(d, FW_E_CONFLICT, "device %s has no certificate to revoke",
		                   r->device);
	if (r->cert.revoked == FW_CERT_REVOKED_LOCAL)
		return fw_diag_set(d, FW_E_CONFLICT, "device %s: its certificate is revoked already",
		                   r->device);
	fw_hex_encode(r->row->cert, 32, hex);
	json_object_set_new(record, "device", json_string(r->device));
	json_object_set_new(record, "cert_sha256", json_string(hex));
	json_object_set_new(record, "serial", json_string(r->cert.serial));
	json_object_set_new(record, "reason", json_string(r->reason));
	{
		uint8_t h[32];

		fw_device_row_hash(r->row, h);
		fw_hex_encode(h, 32, hex);
		json_object_set_new(record, "row_sha256", json_string(hex));
	}
	return fw_evidence_record_ref(record, r->row->rec, r->row->rec_lh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int revoke_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                        struct fw_diag *d)
{
	struct revoke *r = arg;
	int rc = fw_store_cert_set_revoked(s, r->row->cert, FW_CERT_REVOKED_LOCAL, d);

	if (rc != FW_OK)
		return rc;
	r->row->rec = idx;
	memcpy(r->row->rec_lh, lh, 32);
	r->row->rec_pos = 0;
	return fw_store_device_put(s, r->row, 1, d);
}

int fw_registry_cert_revoke(struct fw_store *s, const char *device, const char *reason,
                            const char *actor, uint64_t *idx, struct fw_diag *d)
{
	struct revoke r;
	struct fw_evidence_change change = {revoke_prepare, revoke_apply, &r};
	json_t *rec;
	int rc;

	if (fw_registry_reason_ok(reason, 1000, d) != FW_OK)
		return FW_E_ARG;
	memset(&r, 0, sizeof(r));
	r.device = device;
	r.reason = reason;
	r.row = malloc(sizeof(*r.row));
	rec = fw_evidence_record_new("cert.revoke", actor);
	if (r.row == NULL || rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	} else {
		rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	}
	json_decref(rec);
	free(r.row);
	return rc;
}
