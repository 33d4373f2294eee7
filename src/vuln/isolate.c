/*
 * Isolation of the devices an advisory affects and no update will reach:
 * each is quarantined (its lifecycle, by the registry's rules) or its
 * identity certificate revoked locally, and the change is recorded as one
 * vuln.isolate record per device, written with the row it changes, all
 * devices in one transaction. Eligibility then refuses every delivery to
 * it (lifecycle.quarantined, cert.revoked).
 */
#define _POSIX_C_SOURCE 200809L
#include "vuln/vuln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"

static const char *const actions[] = {NULL, "quarantine", "revoke"};

const char *fw_vuln_isolate_action_name(int action)
{
	return action == FW_VI_QUARANTINE || action == FW_VI_REVOKE ? actions[action] : NULL;
}

struct sel {
	const struct fw_vuln_isolate_req *req;
	struct fw_vuln_advisory a;
	struct fw_vuln_fixes *fixes; /* a device that runs a fix is remediated */
	uint64_t adv_rec;
	uint8_t adv_lh[32];
	struct pick {
		char *id;             /* a selected device */
		int bucket;           /* its bucket when selected (FW_VB_CANNOT or _EXPOSED) */
	} *picks;
	size_t n, cap;
	fw_vuln_isolated_fn fn;   /* plan only */
	void *arg;
	struct fw_vuln_isolation *out;
	struct fw_diag why;       /* a refusal found during the scan */
};

static void sel_clear(struct sel *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		free(x->picks[i].id);
	free(x->picks);
	x->picks = NULL;
	x->n = x->cap = 0;
	fw_vuln_fixes_free(x->fixes);
	x->fixes = NULL;
}

static void describe(const struct fw_device_row *dev, int bucket, struct fw_vuln_isolated *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->device, sizeof(o->device), "%s", dev->id);
	snprintf(o->fw_version, sizeof(o->fw_version), "%s", dev->fw_version);
	snprintf(o->lifecycle_before, sizeof(o->lifecycle_before), "%s", dev->lifecycle);
	o->bucket = bucket;
}

/* Whether the action can be applied to the device, else why (FW_E_CONFLICT). */
static int applicable(int action, const struct fw_device_row *dev,
                      const struct fw_cert_row *cert, struct fw_diag *d)
{
	char next[120];

	if (action == FW_VI_QUARANTINE && !fw_lifecycle_allowed(dev->lifecycle, "quarantined")) {
		fw_lifecycle_next(dev->lifecycle, next, sizeof(next));
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "device %s is %s and cannot be quarantined (from %s: %s): isolate "
		                   "it by revoking its certificate (--revoke)",
		                   dev->id, dev->lifecycle, dev->lifecycle, next);
	}
	if (action == FW_VI_REVOKE && (!dev->has_cert || cert == NULL))
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "device %s has no certificate to revoke: quarantine it instead "
		                   "(without --revoke)",
		                   dev->id);
	if (action == FW_VI_REVOKE && cert->revoked == FW_CERT_REVOKED_LOCAL)
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "device %s: its certificate is revoked already (another device "
		                   "of this command shares it)",
		                   dev->id);
	return FW_OK;
}

static int select_fn(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct sel *x = arg;
	struct fw_vuln_isolated o;
	int b, rc;

	if (strcmp(dev->product, x->a.product) != 0)
		return 0;
	/* in_campaign does not matter: isolated and cannot_be_remediated come
	 * first, and being_remediated and exposed are both taken with a filter */
	b = fw_vuln_classify(&x->a, dev, cert, x->req->now,
	                     fw_vuln_fixes_runs(x->fixes, dev) ? FW_VULN_RUNS_FIX : 0);
	if (x->req->filter == NULL ? b != FW_VB_CANNOT
	                           : (b != FW_VB_CANNOT && b != FW_VB_EXPOSED) ||
	                                 !fw_device_filter_match(x->req->filter, dev, cert,
	                                                         x->req->now))
		return 0;
	rc = applicable(x->req->action, dev, cert, &x->why);
	if (rc != FW_OK)
		return rc;
	if (x->n >= FW_VULN_MAX_ISOLATE) {
		fw_diag_set(&x->why, FW_E_TOO_LARGE, "more than %u devices to isolate in one command",
		            FW_VULN_MAX_ISOLATE);
		return FW_E_TOO_LARGE;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct pick *picks = realloc(x->picks, cap * sizeof(*picks));

		if (picks == NULL)
			return FW_E_NOMEM;
		x->picks = picks;
		x->cap = cap;
	}
	x->picks[x->n].id = strdup(dev->id);
	x->picks[x->n].bucket = b;
	if (x->picks[x->n].id == NULL)
		return FW_E_NOMEM;
	x->n++;
	describe(dev, b, &o);
	if (x->out->nshown < FW_VULN_ISOLATE_SHOWN)
		x->out->shown[x->out->nshown++] = o;
	x->out->devices++;
	if (x->fn)
		return x->fn(x->arg, &o);
	return 0;
}

/* Validate the request, load the advisory and select the devices. */
static int select_devices(struct fw_store *s, struct sel *x, struct fw_diag *d)
{
	int rc;

	if (x->req == NULL || fw_vuln_isolate_action_name(x->req->action) == NULL)
		return fw_diag_set(d, FW_E_ARG, "no isolation request, or an unknown action");
	rc = fw_registry_reason_ok(x->req->reason, FW_VULN_REASON_MAX, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_vuln_load(s, x->req->advisory, &x->a, &x->adv_rec, x->adv_lh, d);
	if (rc != FW_OK)
		return rc;
	snprintf(x->out->advisory, sizeof(x->out->advisory), "%s", x->a.id);
	x->out->action = x->req->action;
	rc = fw_vuln_fixes_load(s, &x->a, &x->fixes, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_store_device_scan(s, select_fn, x, d);
	if (rc != FW_OK) {
		if (x->why.msg[0])
			return fw_diag_set(d, rc, "%s", x->why.msg);
		if (rc == FW_E_NOMEM)
			return fw_diag_set(d, rc, "out of memory");
		return rc;
	}
	if (x->n == 0)
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "no device to isolate: advisory %s has no %s device%s (see "
		                   "'fwtrust vuln affected %s')",
		                   x->a.id,
		                   x->req->filter ? "affected, not yet isolated" : "cannot_be_remediated",
		                   x->req->filter ? " matching --devices" : "", x->a.id);
	return FW_OK;
}

int fw_vuln_isolate_plan(struct fw_store *s, const struct fw_vuln_isolate_req *req,
                         fw_vuln_isolated_fn fn, void *arg, struct fw_vuln_isolation *out,
                         struct fw_diag *d)
{
	struct sel *x = calloc(1, sizeof(*x));
	struct fw_vuln_isolation *o = calloc(1, sizeof(*o));
	int rc;

	if (x == NULL || o == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	x->req = req;
	x->fn = fn;
	x->arg = arg;
	x->out = o;
	rc = fw_store_read_begin(s, d);
	if (rc != FW_OK)
		goto out;
	rc = select_devices(s, x, d);
	fw_store_read_end(s);
	if (rc == FW_OK)
		*out = *o;
out:
	if (x)
		sel_clear(x);
	free(x);
	free(o);
	return rc;
}

/* One device: its record, then the row (and certificate) it records. */
static int isolate_one(struct fw_store *s, struct sel *x, const struct pick *p,
                       const char *actor, struct fw_device_row *row, struct fw_diag *d)
{
	const struct fw_vuln_isolate_req *q = x->req;
	struct fw_cert_row cert;
	struct fw_device_row after;
	char hex[65];
	uint8_t h[32], lh[32];
	uint64_t idx;
	json_t *rec;
	int has = 0, rc;

	rc = fw_store_device_get(s, p->id, row, &cert, &has, d);
	if (rc != FW_OK)
		return rc;
	/* read again in this transaction: an earlier device of this command
	 * may have changed what this one shares (its certificate) */
	rc = applicable(q->action, row, has ? &cert : NULL, d);
	if (rc != FW_OK)
		return rc;
	after = *row;
	if (q->action == FW_VI_QUARANTINE)
		snprintf(after.lifecycle, sizeof(after.lifecycle), "quarantined");
	rec = fw_evidence_record_new("vuln.isolate", actor);
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_set_new(rec, "advisory", json_string(x->a.id));
	json_object_set_new(rec, "device", json_string(row->id));
	json_object_set_new(rec, "action", json_string(fw_vuln_isolate_action_name(q->action)));
	json_object_set_new(rec, "reason", json_string(q->reason));
	json_object_set_new(rec, "fw_version", json_string(row->fw_version));
	json_object_set_new(rec, "lifecycle_before", json_string(row->lifecycle));
	if (q->action == FW_VI_REVOKE) {
		fw_hex_encode(row->cert, 32, hex);
		json_object_set_new(rec, "cert_sha256", json_string(hex));
		json_object_set_new(rec, "serial", json_string(cert.serial));
	}
	fw_device_row_hash(&after, h);
	fw_hex_encode(h, 32, hex);
	json_object_set_new(rec, "row_sha256", json_string(hex));
	rc = fw_evidence_record_ref(rec, x->adv_rec, x->adv_lh);
	if (rc == FW_OK)
		rc = fw_evidence_record_ref(rec, row->rec, row->rec_lh);
	if (rc != FW_OK)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (rc == FW_OK)
		rc = fw_evidence_append(s, rec, &idx, lh, d);
	json_decref(rec);
	if (rc != FW_OK)
		return rc;
	/* the state the record describes, pointing at it */
	if (q->action == FW_VI_REVOKE) {
		rc = fw_store_cert_set_revoked(s, row->cert, FW_CERT_REVOKED_LOCAL, d);
		if (rc != FW_OK)
			return rc;
	}
	after.rec = idx;
	memcpy(after.rec_lh, lh, 32);
	after.rec_pos = 0;
	rc = fw_store_device_put(s, &after, 1, d);
	if (rc != FW_OK)
		return rc;
	if (x->out->devices < FW_VULN_ISOLATE_SHOWN) {
		struct fw_vuln_isolated *o = &x->out->shown[x->out->devices];

		describe(row, p->bucket, o);
		o->idx = idx;
		x->out->nshown = (size_t)x->out->devices + 1;
	}
	x->out->devices++;
	return FW_OK;
}

int fw_vuln_isolate(struct fw_store *s, const struct fw_vuln_isolate_req *req, const char *actor,
                    struct fw_vuln_isolation *out, struct fw_diag *d)
{
	struct sel *x = calloc(1, sizeof(*x));
	struct fw_vuln_isolation *o = calloc(1, sizeof(*o));
	struct fw_device_row *row = malloc(sizeof(*row));
	size_t i;
	int rc;

	if (x == NULL || o == NULL || row == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	x->req = req;
	x->out = o;
	rc = fw_store_begin(s, d);
	if (rc != FW_OK)
		goto out;
	/* selected and changed in the same transaction: what was judged is
	 * what gets changed */
	rc = select_devices(s, x, d);
	if (rc == FW_OK) {
		o->devices = 0;
		o->nshown = 0;
	}
	for (i = 0; rc == FW_OK && i < x->n; i++)
		rc = isolate_one(s, x, &x->picks[i], actor, row, d);
	if (rc == FW_OK)
		rc = fw_store_commit(s, d);
	else
		fw_store_rollback(s);
	if (rc == FW_OK)
		*out = *o;
out:
	if (x)
		sel_clear(x);
	free(x);
	free(o);
	free(row);
	return rc;
}
