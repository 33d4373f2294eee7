/*
 * Device-API credentials and reported attributes (registry.h, "targets").
 * A device's token is 256 random bits shown once, at issue; the store
 * keeps its SHA-256 only, and so does the device.token record.
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

int fw_agent_valid(const char *agent)
{
	return agent != NULL &&
	       (strcmp(agent, FW_AGENT_SUIT) == 0 || strcmp(agent, FW_AGENT_SWUPDATE) == 0);
}

struct issue {
	const char *const *devices;
	size_t n;
	const char *agent;
	int64_t now_ms;
	char (*tokens)[FW_TOKEN_LEN + 1];
	uint8_t (*hashes)[32];
	struct fw_target_row *t;
};

static int issue_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct issue *is = arg;
	struct fw_device_row dev;
	json_t *list = json_array();
	uint8_t raw[32];
	char hex[65];
	int has_c = 0, rc;

	if (list == NULL || json_object_set_new(record, "devices", list) != 0)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_set_new(record, "agent", json_string(is->agent));
	for (size_t i = 0; i < is->n; i++) {
		rc = fw_store_device_get(s, is->devices[i], &dev, NULL, &has_c, d);
		if (rc == FW_E_NOT_FOUND)
			return fw_diag_set(d, rc, "no device '%s' in the registry (see 'fwtrust device list')",
			                   is->devices[i]);
		if (rc != FW_OK)
			return rc;
		if (strcmp(dev.lifecycle, "decommissioned") == 0)
			return fw_diag_set(d, FW_E_CONFLICT, "device %s is decommissioned: no token",
			                   is->devices[i]);
		rc = fw_random(raw, sizeof(raw), d);
		if (rc != FW_OK)
			return rc;
		fw_hex_encode(raw, sizeof(raw), is->tokens[i]);
		fw_sha256((const uint8_t *)is->tokens[i], FW_TOKEN_LEN, is->hashes[i]);
		fw_hex_encode(is->hashes[i], 32, hex);
		if (json_array_append_new(list, json_pack("{ss ss}", "device", is->devices[i],
		                                          "token_sha256", hex)) != 0)
			return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	memset(raw, 0, sizeof(raw));
	return FW_OK;
}

static int issue_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                       struct fw_diag *d)
{
	struct issue *is = arg;
	int has_dev = 0, has_c = 0, rc;

	for (size_t i = 0; i < is->n; i++) {
		rc = fw_store_target_get(s, is->devices[i], is->t, NULL, NULL, &has_dev, &has_c, d);
		if (rc == FW_E_NOT_FOUND) {
			memset(is->t, 0, sizeof(*is->t));
			snprintf(is->t->device, sizeof(is->t->device), "%s", is->devices[i]);
		} else if (rc != FW_OK) {
			return rc;
		}
		memcpy(is->t->token_sha256, is->hashes[i], 32);
		snprintf(is->t->agent, sizeof(is->t->agent), "%s", is->agent);
		is->t->issued_ms = is->now_ms;
		is->t->rec = idx;
		memcpy(is->t->rec_lh, lh, 32);
		rc = fw_store_target_put(s, is->t, d);
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

int fw_registry_tokens_issue(struct fw_store *s, const char *const *devices, size_t n,
                             const char *agent, const char *actor,
                             char (*tokens)[FW_TOKEN_LEN + 1], uint64_t *idx, struct fw_diag *d)
{
	struct issue is;
	struct fw_evidence_change change = {issue_prepare, issue_apply, &is};
	json_t *rec = NULL;
	int rc;

	if (s == NULL || devices == NULL || tokens == NULL || n == 0)
		return fw_diag_set(d, FW_E_ARG, "fw_registry_tokens_issue: bad argument");
	if (!fw_agent_valid(agent))
		return fw_diag_set(d, FW_E_ARG, "agent '%s' is not one of: %s, %s",
		                   agent ? agent : "(none)", FW_AGENT_SUIT, FW_AGENT_SWUPDATE);
	for (size_t i = 0; i < n; i++) {
		if (!fw_device_id_valid(devices[i]))
			return fw_diag_set(d, FW_E_ARG, "'%s' is not a device id", devices[i]);
	}
	memset(&is, 0, sizeof(is));
	is.devices = devices;
	is.n = n;
	is.agent = agent;
	is.now_ms = fw_time_ms();
	is.tokens = tokens;
	is.hashes = calloc(n, sizeof(*is.hashes));
	is.t = malloc(sizeof(*is.t));
	rec = fw_evidence_record_new("device.token", actor);
	if (is.hashes == NULL || is.t == NULL || rec == NULL)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	else
		rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	if (rc != FW_OK)
		memset(tokens, 0, n * sizeof(*tokens));
	json_decref(rec);
	free(is.hashes);
	free(is.t);
	return rc;
}

/* ---- attributes (configData) ----
 * The values a device reports (serial numbers, locations: possibly
 * personal data) are kept only in the mutable targets row. The evidence
 * log, which is never edited, records their keys and an HMAC-SHA256 of the
 * values under a random per-store key (the salt) kept in the store's
 * settings: with the salt the recorded state can be checked against the
 * row; once the salt is deleted (crypto-shredding) the log stays valid and
 * no value can be tested against it. */

#define ATTRS_SALT "attributes_hmac_salt"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The store's salt: 32 random bytes, made on first use inside the
 * caller's transaction (stored only together with its first record). */
static int attrs_salt(struct fw_store *s, uint8_t salt[32], struct fw_diag *d)
{
	char *hex = NULL, fresh[65];
	int rc = fw_store_meta_get(s, ATTRS_SALT, &hex, d);

	if (rc == FW_E_NOT_FOUND) {
		rc = fw_random(salt, 32, d);
		if (rc != FW_OK)
			return rc;
		fw_hex_encode(salt, 32, fresh);
		rc = fw_store_meta_set(s, ATTRS_SALT, fresh, d);
		fw_wipe(fresh, sizeof(fresh));
		return rc;
	}
	if (rc != FW_OK)
		return rc;
	if (strlen(hex) != 64 || fw_hex_decode(hex, salt, 32) != FW_OK)
		rc = fw_diag_set(d, FW_E_FORMAT, "store setting '%s' is not 64 hex digits",
		                 ATTRS_SALT);
	fw_wipe(hex, strlen(hex));
	free(hex);
	return rc;
}

struct attrs {
	const char *device;
	const json_t *data;
	int mode;
	int64_t now_ms;
	struct fw_target_row *t;
	char *text;
};

/* obj as canonical JSON text (keys sorted by bytes, no whitespace, strings
 * escaped as in records): what the row keeps and the HMAC covers. The
 * sorted keys go to the list. */
static int attrs_text(const json_t *obj, json_t *list, char **text, struct fw_diag *d)
{
	struct fw_jbuf b = {NULL, 0, 0, 0};
	const char **keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	size_t nk = 0;
	int rc = FW_OK;

	if (keys == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_foreach((json_t *)obj, k, v)
		keys[nk++] = k;
	qsort(keys, nk, sizeof(*keys), cmp_str);
	fw_jbuf_raw(&b, "{", 1);
	for (size_t i = 0; i < nk && rc == FW_OK; i++) {
		v = json_object_get(obj, keys[i]);
		if (!json_is_string(v)) {
			rc = fw_diag_set(d, FW_E_FORMAT, "attribute '%.64s': a string is expected",
			                 keys[i]);
			break;
		}
		if (i)
			fw_jbuf_raw(&b, ",", 1);
		fw_jbuf_str(&b, keys[i], strlen(keys[i]));
		fw_jbuf_raw(&b, ":", 1);
		fw_jbuf_str(&b, json_string_value(v), json_string_length(v));
		if (json_array_append_new(list, json_string(keys[i])) != 0)
			b.oom = 1;
	}
	fw_jbuf_raw(&b, "}", 2); /* with the NUL */
	free(keys);
	if (rc == FW_OK && b.oom)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (rc != FW_OK) {
		free(b.buf);
		return rc;
	}
	*text = b.buf;
	return FW_OK;
}

static int attrs_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct attrs *a = arg;
	json_t *cur = NULL, *merged, *keys;
	const char *k;
	json_t *v;
	size_t len = 0;
	int has_dev = 0, has_c = 0, rc;
	uint8_t salt[32], mac[32];
	char hex[65];

	rc = fw_store_target_get(s, a->device, a->t, NULL, NULL, &has_dev, &has_c, d);
	if (rc != FW_OK)
		return rc;
	if (a->t->attrs[0] != 0)
		cur = json_loads(a->t->attrs, 0, NULL);
	/* merge and remove start from what was there, replace from nothing */
	merged = a->mode != FW_ATTRS_REPLACE && json_is_object(cur) ? json_copy(cur) : json_object();
	json_decref(cur);
	keys = json_array();
	if (merged == NULL || keys == NULL) {
		json_decref(merged);
		json_decref(keys);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	json_object_foreach((json_t *)a->data, k, v) {
		if (a->mode == FW_ATTRS_REMOVE)
			json_object_del(merged, k);
		else
			json_object_set(merged, k, v);
	}
	if (json_object_size(merged) > FW_ATTRS_MAX_KEYS)
		rc = fw_diag_set(d, FW_E_TOO_LARGE, "more than %d attributes", FW_ATTRS_MAX_KEYS);
	if (rc == FW_OK)
		rc = attrs_text(merged, keys, &a->text, d);
	json_decref(merged);
	if (rc == FW_OK && (len = strlen(a->text)) >= sizeof(a->t->attrs))
		rc = fw_diag_set(d, FW_E_TOO_LARGE, "attributes: %zu bytes, more than %zu", len,
		                 sizeof(a->t->attrs) - 1);
	/* the record: the keys (record keys are [a-z0-9_] and attribute names
	 * are not: a list) and the values' HMAC, never the values */
	if (rc == FW_OK)
		rc = attrs_salt(s, salt, d);
	if (rc == FW_OK)
		rc = fw_hmac_sha256(salt, sizeof(salt), (const uint8_t *)a->text, len, mac, d);
	fw_wipe(salt, sizeof(salt));
	if (rc != FW_OK) {
		json_decref(keys);
		return rc;
	}
	fw_hex_encode(mac, 32, hex);
	json_object_set_new(record, "device", json_string(a->device));
	json_object_set_new(record, "attribute_keys", keys);
	json_object_set_new(record, "attributes_hmac", json_string(hex));
	if (fw_evidence_record_ref(record, a->t->rec, a->t->rec_lh) != FW_OK)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	return FW_OK;
}

static int attrs_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                       struct fw_diag *d)
{
	struct attrs *a = arg;

	snprintf(a->t->attrs, sizeof(a->t->attrs), "%s", a->text);
	a->t->attrs_ms = a->now_ms;
	a->t->rec = idx;
	memcpy(a->t->rec_lh, lh, 32);
	return fw_store_target_put(s, a->t, d);
}

int fw_registry_target_attrs(struct fw_store *s, const char *device, const json_t *data,
                             int mode, int64_t now_ms, const char *actor, uint64_t *idx,
                             struct fw_diag *d)
{
	struct attrs a = {device, data, mode, now_ms, NULL, NULL};
	struct fw_evidence_change change = {attrs_prepare, attrs_apply, &a};
	json_t *rec;
	int rc;

	if (s == NULL || device == NULL || !json_is_object(data) || mode < FW_ATTRS_MERGE ||
	    mode > FW_ATTRS_REMOVE)
		return fw_diag_set(d, FW_E_ARG, "fw_registry_target_attrs: bad argument");
	a.t = malloc(sizeof(*a.t));
	rec = fw_evidence_record_new("device.attributes", actor);
	if (a.t == NULL || rec == NULL)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	else
		rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	json_decref(rec);
	free(a.text);
	free(a.t);
	return rc;
}
