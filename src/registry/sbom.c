/*
 * A release's SBOM: CycloneDX JSON or SPDX 2.2/2.3 JSON, recognised by its
 * own fields, counted, and the version it names for what it describes
 * taken out for release add to compare with the signed envelope's. The
 * bytes are untrusted: every field read is checked for its type first.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Untrusted text in a message (a value, or jansson's error text, which
 * quotes the input): anything but printable ASCII, and quotes, shown as
 * '?', at most cap-1 bytes (the message reaches terminals). */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '\''
		             ? '?'
		             : s[i];
	buf[i] = '\0';
	return buf;
}

/* "1.x": the CycloneDX JSON specification versions (1.2 onwards have a
 * JSON form; a later 1.x is accepted, its fields read here are stable) */
static int cdx_version_ok(const char *v)
{
	size_t n;

	if (strncmp(v, "1.", 2) != 0)
		return 0;
	v += 2;
	n = strspn(v, "0123456789");
	if (n == 0 || n > 2 || v[n] != '\0' || (n == 2 && v[0] == '0'))
		return 0;
	return n == 2 || v[0] >= '2';
}

/* the elements of an optional array: absent is 0; each must be an object */
static int count_objects(json_t *root, const char *key, uint64_t *n, struct fw_diag *d)
{
	json_t *arr = json_object_get(root, key), *e;
	size_t i;

	*n = 0;
	if (arr == NULL)
		return FW_OK;
	if (!json_is_array(arr))
		return fw_diag_set(d, FW_E_FORMAT, "%s: not an array", key);
	json_array_foreach(arr, i, e) {
		if (!json_is_object(e))
			return fw_diag_set(d, FW_E_FORMAT, "%s[%zu]: not an object", key, i);
	}
	*n = json_array_size(arr);
	return FW_OK;
}

static int set_version(struct fw_sbom_info *out, const char *field, json_t *v,
                       struct fw_diag *d)
{
	const char *s = json_string_value(v);

	if (v == NULL)
		return FW_OK;
	if (s == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "%s: not a string", field);
	if (s[0] == '\0' || strlen(s) > FW_SEMVER_MAX || !fw_text_valid(s))
		return fw_diag_set(d, FW_E_FORMAT, "%s: 1-%d bytes of text are required", field,
		                   FW_SEMVER_MAX);
	snprintf(out->version, sizeof(out->version), "%s", s);
	snprintf(out->version_field, sizeof(out->version_field), "%s", field);
	return FW_OK;
}

static int cyclonedx(json_t *root, struct fw_sbom_info *out, struct fw_diag *d)
{
	json_t *fmt = json_object_get(root, "bomFormat"), *sv = json_object_get(root, "specVersion");
	json_t *meta = json_object_get(root, "metadata"), *comp;
	char b[40];
	int rc;

	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "CycloneDX") != 0)
		return fw_diag_set(d, FW_E_FORMAT, "bomFormat: %s%s%s is not \"CycloneDX\"",
		                   json_is_string(fmt) ? "'" : "",
		                   json_is_string(fmt) ? shown(json_string_value(fmt), b, sizeof(b))
		                                       : "not a string",
		                   json_is_string(fmt) ? "'" : "");
	if (!json_is_string(sv))
		return fw_diag_set(d, FW_E_FORMAT, "specVersion: %s (a string \"1.x\" is required)",
		                   sv ? "not a string" : "missing");
	if (!cdx_version_ok(json_string_value(sv)))
		return fw_diag_set(d, FW_E_FORMAT,
		                   "specVersion: '%s' is not a CycloneDX JSON version (1.2 or later 1.x)",
		                   shown(json_string_value(sv), b, sizeof(b)));
	snprintf(out->format, sizeof(out->format), "CycloneDX");
	snprintf(out->spec_version, sizeof(out->spec_version), "%s", json_string_value(sv));
	rc = count_objects(root, "components", &out->components, d);
	if (rc != FW_OK)
		return rc;
	if (meta == NULL)
		return FW_OK;
	if (!json_is_object(meta))
		return fw_diag_set(d, FW_E_FORMAT, "metadata: not an object");
	comp = json_object_get(meta, "component");
	if (comp == NULL)
		return FW_OK;
	if (!json_is_object(comp))
		return fw_diag_set(d, FW_E_FORMAT, "metadata.component: not an object");
	return set_version(out, "metadata.component.version", json_object_get(comp, "version"), d);
}

/* SPDX: what the document describes, from documentDescribes (SPDX 2.2)
 * and DESCRIBES relationships of SPDXRef-DOCUMENT (2.3); the version is
 * taken only when that is exactly one package (a document describing a
 * firmware and its bootloader names no single version) */
static int spdx_described(json_t *root, struct fw_sbom_info *out, struct fw_diag *d)
{
	json_t *desc = json_object_get(root, "documentDescribes");
	json_t *rels = json_object_get(root, "relationships");
	json_t *pkgs = json_object_get(root, "packages"), *e;
	const char *one = NULL;
	int many = 0;
	size_t i;
	char field[64];

	if (desc && !json_is_array(desc))
		return fw_diag_set(d, FW_E_FORMAT, "documentDescribes: not an array");
	if (rels && !json_is_array(rels))
		return fw_diag_set(d, FW_E_FORMAT, "relationships: not an array");
	json_array_foreach(desc, i, e) {
		if (!json_is_string(e))
			return fw_diag_set(d, FW_E_FORMAT, "documentDescribes[%zu]: not a string", i);
		if (one && strcmp(one, json_string_value(e)) != 0)
			many = 1;
		one = json_string_value(e);
	}
	json_array_foreach(rels, i, e) {
		const char *from = json_string_value(json_object_get(e, "spdxElementId"));
		const char *type = json_string_value(json_object_get(e, "relationshipType"));
		const char *to = json_string_value(json_object_get(e, "relatedSpdxElement"));

		if (!json_is_object(e) || from == NULL || type == NULL || to == NULL)
			return fw_diag_set(d, FW_E_FORMAT,
			                   "relationships[%zu]: spdxElementId, relationshipType and "
			                   "relatedSpdxElement strings are required",
			                   i);
		if (strcmp(from, "SPDXRef-DOCUMENT") != 0 || strcmp(type, "DESCRIBES") != 0)
			continue;
		if (one && strcmp(one, to) != 0)
			many = 1;
		one = to;
	}
	if (one == NULL || many)
		return FW_OK;
	json_array_foreach(pkgs, i, e) {
		const char *id = json_string_value(json_object_get(e, "SPDXID"));

		if (id && strcmp(id, one) == 0) {
			snprintf(field, sizeof(field), "packages[%zu].versionInfo", i);
			return set_version(out, field, json_object_get(e, "versionInfo"), d);
		}
	}
	return FW_OK;
}

static int spdx(json_t *root, struct fw_sbom_info *out, struct fw_diag *d)
{
	json_t *sv = json_object_get(root, "spdxVersion"), *id = json_object_get(root, "SPDXID");
	const char *v = json_string_value(sv);
	char b[40];
	int rc;

	if (v == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "spdxVersion: not a string");
	if (strcmp(v, "SPDX-2.2") != 0 && strcmp(v, "SPDX-2.3") != 0)
		return fw_diag_set(d, FW_E_FORMAT, "spdxVersion: '%s' is not SPDX-2.2 or SPDX-2.3",
		                   shown(v, b, sizeof(b)));
	if (!json_is_string(id) || strcmp(json_string_value(id), "SPDXRef-DOCUMENT") != 0)
		return fw_diag_set(d, FW_E_FORMAT, "SPDXID: %s (\"SPDXRef-DOCUMENT\" is required)",
		                   id == NULL ? "missing" : "not SPDXRef-DOCUMENT");
	snprintf(out->format, sizeof(out->format), "SPDX");
	snprintf(out->spec_version, sizeof(out->spec_version), "%s", v + 5);
	rc = count_objects(root, "packages", &out->components, d);
	if (rc != FW_OK)
		return rc;
	return spdx_described(root, out, d);
}

int fw_sbom_parse(const uint8_t *data, size_t len, struct fw_sbom_info *out, struct fw_diag *d)
{
	struct fw_sbom_info *info;
	json_error_t err;
	json_t *root;
	int rc, cdx, spd;

	if (data == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "no SBOM");
	if (len > FW_RELEASE_MAX_SBOM)
		return fw_diag_set(d, FW_E_TOO_LARGE, "%zu bytes, more than the limit of %u", len,
		                   FW_RELEASE_MAX_SBOM);
	/* duplicate keys would let two readers see two different documents */
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		char b[JSON_ERROR_TEXT_LENGTH];

		return fw_diag_set(d, FW_E_FORMAT, "not JSON: line %d, column %d: %s", err.line,
		                   err.column, shown(err.text, b, sizeof(b)));
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return fw_diag_set(d, FW_E_FORMAT, "not a JSON object");
	}
	info = calloc(1, sizeof(*info));
	if (info == NULL) {
		json_decref(root);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	cdx = json_object_get(root, "bomFormat") != NULL;
	spd = json_object_get(root, "spdxVersion") != NULL;
	if (cdx && spd)
		rc = fw_diag_set(d, FW_E_FORMAT, "both bomFormat (CycloneDX) and spdxVersion (SPDX): "
		                                 "which one it is cannot be told");
	else if (cdx)
		rc = cyclonedx(root, info, d);
	else if (spd)
		rc = spdx(root, info, d);
	else
		rc = fw_diag_set(d, FW_E_FORMAT, "neither a CycloneDX (bomFormat) nor an SPDX "
		                                 "(spdxVersion) JSON document");
	if (rc == FW_OK)
		*out = *info;
	free(info);
	json_decref(root);
	return rc;
}
