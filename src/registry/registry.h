/*
 * registry: what the OEM trusts, what it released and what it has in the
 * field. Signing keys (with their role and state), releases (verified
 * envelopes with their images, stored content-addressed), device-identity
 * CAs and CRLs, and the fleet: devices with their identity certificate,
 * lifecycle and firmware version. Every change is recorded in the evidence
 * log in the same transaction (fw_evidence_commit); documents and records
 * are described in docs/formats.md and docs/fleet.md.
 */
#ifndef FW_REGISTRY_H
#define FW_REGISTRY_H

#include <stdio.h>

#include <jansson.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* ---- documents (registry.c) ----
 * Registry state kept as JSON documents by (kind, id) in the store: keys,
 * releases, CAs, CRLs, operators, and the documents of the modules above
 * (eligibility runs, campaigns). Written only inside fw_evidence_commit. */
FW_NODISCARD int fw_registry_doc_put(struct fw_store *s, const char *kind, const char *id,
                                     const json_t *doc, int replace, struct fw_diag *d);
/* FW_E_NOT_FOUND (the store's message) when absent. */
FW_NODISCARD int fw_registry_doc_get(struct fw_store *s, const char *kind, const char *id,
                                     json_t **doc, struct fw_diag *d);
/* Every document of a kind, by id (new reference: array). */
FW_NODISCARD int fw_registry_doc_list(struct fw_store *s, const char *kind, json_t **docs,
                                      struct fw_diag *d);
/* A name of keys and operators: 1-64 of [A-Za-z0-9._-]. */
int fw_registry_name_ok(const char *name);
/* A --reason: 1..max bytes of UTF-8 text without control characters
 * (FW_E_ARG with the rule otherwise). */
FW_NODISCARD int fw_registry_reason_ok(const char *reason, size_t max, struct fw_diag *d);

/* Roles a trusted key may have. */
#define FW_ROLE_RELEASE_SIGNING "release-signing"

/* Trust a public key (.pub PEM) under a unique name and role. Returns the
 * key document (new reference) and the evidence index. FW_E_CONFLICT when
 * the key or the name is known already. */
FW_NODISCARD int fw_registry_key_trust(struct fw_store *s, const char *pub_path,
                                       const char *name, const char *role, const char *actor,
                                       json_t **doc, uint64_t *idx, struct fw_diag *d);
/* Revoke a key given by name, key id, or a unique key-id prefix (>= 8 hex). */
FW_NODISCARD int fw_registry_key_revoke(struct fw_store *s, const char *ref, const char *reason,
                                        const char *actor, json_t **doc, uint64_t *idx,
                                        struct fw_diag *d);
FW_NODISCARD int fw_registry_key_find(struct fw_store *s, const char *ref, json_t **doc,
                                      struct fw_diag *d);
/* All keys, ordered by key id (new reference: array). */
FW_NODISCARD int fw_registry_key_list(struct fw_store *s, json_t **keys, struct fw_diag *d);

/* Add a release: the envelope must verify with libfwv against the active
 * release-signing keys, and the image against the envelope. Both are
 * stored content-addressed; the release and its signing facts are
 * recorded. FW_E_VERIFY (d says why) when libfwv refuses.
 *
 * With target->swu, the release also carries an SWUpdate .swu of the same
 * image: it must verify against the certificate file (as `swupdate -k
 * CERT --cert-purpose P` would: src/swu/swu.h), its image's SHA-256 and
 * size must be the envelope's and its sw-description version the
 * envelope's version; FW_E_VERIFY names what is wrong (every refusal of
 * the .swu is FW_E_VERIFY). The .swu and the certificate file are stored
 * content-addressed, and the release document and its release.add record
 * gain "swu" (docs/formats.md). Without it neither has a "swu" key. */
#define FW_RELEASE_MAX_HW 16
struct fw_release_swu {
	const char *path;      /* the .swu file */
	const char *cert_path; /* the devices' -k certificate(s), PEM */
	int purpose;           /* enum fw_swu_purpose: the devices' --cert-purpose */
};
/*
 * With target->sbom, the release carries its SBOM: a CycloneDX or SPDX
 * JSON file (fw_sbom_parse) of at most FW_RELEASE_MAX_SBOM bytes
 * (FW_E_TOO_LARGE), read once; when it names the version of what it
 * describes, that must be the envelope's version (FW_E_VERIFY). The
 * bytes judged are stored content-addressed, and the document and the
 * record gain "sbom": {format, spec_version, sha256, size, components}.
 * FW_E_FORMAT ("--sbom FILE: ..." with the JSON error or the field) for
 * anything that is not such a document.
 *
 * With target->nfixes, the release fixes these advisories (vuln add):
 * each must exist in the store (FW_E_NOT_FOUND: "--fixes ID: no such
 * advisory ..."), be of the release's product and, when the advisory
 * names a family, of its family (FW_E_VERIFY); at most
 * FW_RELEASE_MAX_FIXES, no id twice (FW_E_ARG). The document and the
 * record gain "fixes": the ids sorted, and the record refs each
 * advisory's vuln.add record. Without them neither has "sbom" / "fixes".
 * A refusal writes nothing: no record, no release, no SBOM blob.
 */
#define FW_RELEASE_MAX_SBOM (32u * 1024 * 1024) /* bytes of an SBOM file */
#define FW_RELEASE_MAX_FIXES 32                 /* advisories one release fixes */
struct fw_release_target {
	const char *product, *family;  /* required */
	const char *from;              /* upgrade range (">=2.0.0 <2.4.1"), NULL: any older version */
	const char *const *hw;         /* hardware revisions it is for; nhw == 0: any */
	size_t nhw;
	const struct fw_release_swu *swu; /* NULL: no .swu */
	const char *sbom;                 /* SBOM file, NULL: none */
	const char *const *fixes;         /* advisory ids it fixes (untrusted text) */
	size_t nfixes;
};
FW_NODISCARD int fw_registry_release_add(struct fw_store *s, const char *envelope_path,
                                         const char *image_path,
                                         const struct fw_release_target *target,
                                         const char *actor, json_t **doc, uint64_t *idx,
                                         struct fw_diag *d);
/* What an SBOM says of itself (sbom.c). */
struct fw_sbom_info {
	char format[16];                      /* "CycloneDX" or "SPDX" */
	char spec_version[8];                 /* "1.5" (CycloneDX), "2.3" (SPDX) */
	uint64_t components;                  /* entries of components / packages */
	char version[FW_SEMVER_MAX + 1];      /* the described component's version, "" none */
	char version_field[64];               /* where it was: "metadata.component.version",
	                                         "packages[0].versionInfo" */
};
/*
 * Recognise an SBOM (untrusted bytes): a JSON object (jansson,
 * JSON_REJECT_DUPLICATES) that is either CycloneDX ("bomFormat":
 * "CycloneDX", "specVersion" "1.2" or a later "1.x"; "components" an
 * optional array of objects) or SPDX ("spdxVersion" "SPDX-2.2" or
 * "SPDX-2.3", "SPDXID" "SPDXRef-DOCUMENT"; "packages" an optional array
 * of objects). version: CycloneDX metadata.component.version; SPDX the
 * versionInfo of the one package the document describes
 * (documentDescribes, DESCRIBES relationships), none when it describes
 * several. FW_E_FORMAT naming the JSON line/column or the field and why
 * ("neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON
 * document"); FW_E_TOO_LARGE over FW_RELEASE_MAX_SBOM; FW_E_ARG for NULL.
 * *out written on FW_OK only.
 */
FW_NODISCARD int fw_sbom_parse(const uint8_t *data, size_t len, struct fw_sbom_info *out,
                               struct fw_diag *d);
/* Advisories are the vuln module's documents (kind "advisory"). The
 * registry (a release's --fixes) and the rollout (a policy's remediates)
 * judge them too, and vuln depends on both: they read what they need here.
 * An advisory's product and family ("" = every family) and its vuln.add
 * record. FW_E_NOT_FOUND; FW_E_STORE when the document is malformed. */
#define FW_REGISTRY_KIND_ADVISORY "advisory"
FW_NODISCARD int fw_registry_advisory_target(struct fw_store *s, const char *id,
                                             char product[FW_FIELD_MAX],
                                             char family[FW_FIELD_MAX], uint64_t *rec,
                                             uint8_t rec_lh[32], struct fw_diag *d);
/* Releases with a derived "status": "ok" or "signed-by-revoked-key", and
 * "id" (= release_id). */
FW_NODISCARD int fw_registry_release_list(struct fw_store *s, json_t **releases,
                                          struct fw_diag *d);
/* One release by id (envelope SHA-256) or a unique prefix (>= 8 hex). */
FW_NODISCARD int fw_registry_release_get(struct fw_store *s, const char *ref, json_t **doc,
                                         struct fw_diag *d);

/* ---- operators (operators.c) ---- */

/* Roles of the people who act on campaigns. */
#define FW_OP_ADMIN "admin"
#define FW_OP_RELEASE_MANAGER "release_manager"
#define FW_OP_APPROVER "approver"
#define FW_OP_OPERATOR "operator"
#define FW_OP_AUDITOR "auditor"
int fw_operator_role_valid(const char *role);

/* Add an operator: a unique name (1-64 of [A-Za-z0-9._-]), a role, and an
 * Ed25519 public key (.pub PEM) no other operator has. Recorded as
 * operator.add; *doc is the operator document (new reference). */
FW_NODISCARD int fw_registry_operator_add(struct fw_store *s, const char *name,
                                          const char *role, const char *pub_path,
                                          const char *actor, json_t **doc, uint64_t *idx,
                                          struct fw_diag *d);
/* Disable one (recorded as operator.disable with the reason); what it signs
 * afterwards does not count. FW_E_CONFLICT when disabled already. */
FW_NODISCARD int fw_registry_operator_disable(struct fw_store *s, const char *name,
                                              const char *reason, const char *actor,
                                              json_t **doc, uint64_t *idx, struct fw_diag *d);
FW_NODISCARD int fw_registry_operator_get(struct fw_store *s, const char *name, json_t **doc,
                                          struct fw_diag *d);
/* The operator whose key has this key id (64 hex). */
FW_NODISCARD int fw_registry_operator_by_key(struct fw_store *s, const char *key_id,
                                             json_t **doc, struct fw_diag *d);
/* Operator name, active, with one of roles (NULL-terminated; the first is
 * named in the refusal): *doc is its document (new reference).
 * FW_E_NOT_FOUND (no such operator), FW_E_VERIFY (disabled, another role). */
FW_NODISCARD int fw_registry_operator_role(struct fw_store *s, const char *name,
                                           const char *const *roles, json_t **doc,
                                           struct fw_diag *d);
/* All operators, by name (new reference: array). */
FW_NODISCARD int fw_registry_operator_list(struct fw_store *s, json_t **ops, struct fw_diag *d);

/* ---- device files (devfile.c) ----
 * Streaming parser for device import files (CSV with a header, or JSON
 * lines). It checks the file's syntax, column names, field counts and size
 * limits, and hands each row to a callback; judging the values (UTF-8,
 * dates, versions, lifecycle names) is fw_registry_device_import's job. */

/* Columns of a device file, in their canonical order. */
enum fw_devcol {
	FW_DEVCOL_DEVICE_ID,
	FW_DEVCOL_PRODUCT,
	FW_DEVCOL_FAMILY,
	FW_DEVCOL_HW_REVISION,
	FW_DEVCOL_FW_VERSION,
	FW_DEVCOL_COHORTS,
	FW_DEVCOL_SUPPORT_UNTIL,
	FW_DEVCOL_LIFECYCLE,
	FW_DEVCOL_CERTIFICATE,
	FW_DEVCOL_COUNT
};
/* "device_id", "product", ...; "?" for a number out of range (never NULL). */
const char *fw_devcol_name(int col);

#define FW_DEVFILE_MAX_FIELD 256          /* bytes of any field but certificate */
#define FW_DEVFILE_MAX_CERT (16 * 1024)   /* certificate field (inline PEM or a path) */
#define FW_DEVFILE_MAX_RECORD (64 * 1024) /* one CSV record / one JSON line */

enum fw_devfile_format { FW_DEVFILE_CSV = 1, FW_DEVFILE_JSONL = 2 };

/*
 * One row as the parser hands it over. Everything it points to belongs to
 * the parser and is valid during the callback only (copy what you keep).
 * Values are untrusted: the parser guarantees only that each f[i] is
 * non-NULL, NUL-ended, strlen(f[i]) == len[i] (no NUL inside), len[i] is
 * within FW_DEVFILE_MAX_FIELD (certificate: FW_DEVFILE_MAX_CERT), required
 * columns were present in the header (CSV) or object (JSONL), and in CSV
 * only the certificate may contain line breaks.
 */
struct fw_devrow {
	uint64_t line;                  /* 1-based line where the row starts */
	int format;                     /* enum fw_devfile_format */
	const char *f[FW_DEVCOL_COUNT]; /* values, NUL-ended, "" when absent/empty */
	size_t len[FW_DEVCOL_COUNT];
	int col[FW_DEVCOL_COUNT]; /* CSV: 1-based column position of the field in the
	                           * file, 0 when the header lacks it; JSONL: 0 */
};

/* Called for each row; returns FW_OK to go on, or an error after writing d
 * (the parser then stops and returns that error unchanged; d is left as the
 * callback wrote it). */
typedef int (*fw_devrow_fn)(void *arg, const struct fw_devrow *row, struct fw_diag *d);
/* Called every few thousand rows and once at the end of a successful parse
 * (then with the file's size): bytes consumed so far. */
typedef void (*fw_devfile_progress_fn)(void *arg, uint64_t bytes);

/* Describe where a field is, for messages: CSV "line 12, column 3 (family)"
 * ("line 12 (cohorts: no such column)" when the header lacks it); JSONL
 * "line 12, field \"family\"". Writes a NUL-ended string into out (truncated
 * to cap; nothing when cap is 0). */
void fw_devrow_where(const struct fw_devrow *row, int col, char *out, size_t cap);

/*
 * Parse a device file from f, which stays the caller's (read from its
 * current position to EOF, never closed). Streaming: memory use is a fixed
 * buffer of a few times FW_DEVFILE_MAX_RECORD, never the whole file.
 *
 * format: 0 = detect (the first byte that is not whitespace, after an
 * optional UTF-8 BOM, is '{' -> JSON lines, else CSV; a file starting with
 * more than 96 KiB of whitespace is read as CSV), FW_DEVFILE_CSV or
 * FW_DEVFILE_JSONL.
 *
 * CSV (RFC 4180, ',' separator, '"' quotes, LF or CRLF): the first record
 * is a header of column names (exact, any order; device_id, product,
 * family, hw_revision, fw_version, support_until and lifecycle required,
 * cohorts and certificate optional); every record has the header's number
 * of fields; empty lines are skipped. JSON lines: one object per line with
 * keys from the column names and string values ("cohorts" may be an array
 * of strings without ';', handed over joined with ';'); blank lines are
 * skipped. A UTF-8 BOM at the start is skipped in both.
 *
 * fn is called once per complete, well-formed row, in file order, never
 * for a partial row and never after an error. progress and parg may be
 * NULL. *rows (rows may be NULL) is the number of rows passed to fn; it is
 * written on success only.
 *
 * Returns FW_OK, or:
 *   FW_E_FORMAT     syntax, header, field count, key or value type error;
 *                   also a file of zero bytes ("empty file: no header")
 *   FW_E_TOO_LARGE  a field or record above its limit (named in d)
 *   FW_E_IO         reading f failed
 *   FW_E_NOMEM
 *   FW_E_ARG        f or fn NULL, or format not 0, 1 or 2
 *   whatever fn returned, d as fn wrote it.
 * Parser errors write d as "line N, column C (name): reason" (CSV),
 * "line N, field \"name\": reason" (JSONL) or "line N: reason".
 * A CSV header alone, or a JSON lines file of blank lines only, is FW_OK
 * with *rows = 0.
 */
FW_NODISCARD int fw_devfile_parse(FILE *f, int format, fw_devrow_fn fn, void *arg,
                                  fw_devfile_progress_fn progress, void *parg, uint64_t *rows,
                                  struct fw_diag *d);

/* ---- the fleet (fleet.c, identity.c) ---- */

/* Lifecycle: manufactured -> provisioned -> active <-> quarantined;
 * active|quarantined -> end_of_support -> decommissioned. */
int fw_lifecycle_valid(const char *state);
int fw_lifecycle_allowed(const char *from, const char *to);
/* The states reachable from `from`, as "a, b" ("none" when terminal). */
void fw_lifecycle_next(const char *from, char *out, size_t cap);

/* Certificate state at time now (Unix seconds), derived from the stored
 * facts: "missing", "revoked", "untrusted_issuer", "not_yet_valid",
 * "expired" or "valid" (the first that applies, in this order). */
const char *fw_cert_state(const struct fw_device_row *dev, const struct fw_cert_row *cert,
                          int64_t now);

/* 1 if cohort is one of a device row's cohorts (";"-separated), else 0. */
int fw_cohorts_have(const char *cohorts, const char *cohort);

/* A device id: 1..128 bytes of [A-Za-z0-9._:-]. */
int fw_device_id_valid(const char *id);
/* "YYYY-MM-DD" -> days since 1970-01-01; FW_E_FORMAT when not a real date. */
FW_NODISCARD int fw_date_parse(const char *s, int64_t *days);

struct fw_import_stats {
	uint64_t rows, created, updated, unchanged, lifecycle_changes;
	uint64_t certs_new, certs_untrusted;
	uint8_t file_sha256[32];
	uint64_t idx;              /* the device.import record */
};
/*
 * Import a device file (CSV with a header row, or JSON lines; see
 * docs/fleet.md) in one transaction: every row is validated and applied,
 * or, at the first bad row, nothing is (d names the line, the column and
 * why). Upsert by device id. The file is kept content-addressed and its
 * SHA-256 recorded in a device.import record; a lifecycle change of a
 * known device is also a device.lifecycle record. Certificates are
 * verified against the trusted CAs once per certificate.
 */
FW_NODISCARD int fw_registry_device_import(struct fw_store *s, const char *path,
                                           const char *actor, fw_devfile_progress_fn progress,
                                           void *parg, struct fw_import_stats *st,
                                           struct fw_diag *d);
/* A device as a JSON document (docs/fleet.md), its certificate state at
 * now. FW_E_NOT_FOUND for an unknown id. */
FW_NODISCARD int fw_registry_device_get(struct fw_store *s, const char *id, int64_t now,
                                        json_t **doc, struct fw_diag *d);
json_t *fw_registry_device_json(const struct fw_device_row *dev, const struct fw_cert_row *cert,
                                int64_t now);

/* Filters for listing: all given fields must match; fw_version is an exact
 * version or a range (">=2.0.0 <2.4.1"); cert a certificate state. */
struct fw_device_filter {
	const char *product, *family, *hw_revision, *lifecycle, *cohort, *cert;
	int has_range;
	struct fw_range range;
	const char *version;
};
/* "key=value" into f (values point into expr). FW_E_ARG names the problem. */
FW_NODISCARD int fw_device_filter_add(struct fw_device_filter *f, char *expr,
                                      struct fw_diag *d);
/* Devices matching f, in id order, with their certificate state at now. */
FW_NODISCARD int fw_registry_device_list(struct fw_store *s, const struct fw_device_filter *f,
                                         int64_t now, fw_device_fn fn, void *arg,
                                         struct fw_diag *d);
int fw_device_filter_match(const struct fw_device_filter *f, const struct fw_device_row *dev,
                           const struct fw_cert_row *cert, int64_t now);

/* Change a device's lifecycle (legal transitions only: FW_E_CONFLICT names
 * the allowed ones), recorded as device.lifecycle with the reason. */
FW_NODISCARD int fw_registry_device_lifecycle(struct fw_store *s, const char *id,
                                              const char *to, const char *reason,
                                              const char *actor, uint64_t *idx,
                                              struct fw_diag *d);

/* Trust device-identity CAs from a PEM file (one or more CA
 * certificates); recorded as ca.add. Certificates whose chain did not
 * verify are checked again. *added counts new CAs (known ones are skipped;
 * FW_E_CONFLICT when all are known). */
FW_NODISCARD int fw_registry_ca_add(struct fw_store *s, const char *path, const char *actor,
                                    size_t *added, uint64_t *reverified, uint64_t *idx,
                                    struct fw_diag *d);
/* Trusted CAs (new reference: array of documents). */
FW_NODISCARD int fw_registry_ca_list(struct fw_store *s, json_t **cas, struct fw_diag *d);
/* The trusted CAs as OpenSSL anchors (caller frees). */
FW_NODISCARD int fw_registry_anchors(struct fw_store *s, struct fw_cert_anchors **a,
                                     struct fw_diag *d);
/* Import a CRL: its signature must verify with a trusted CA; it must be
 * newer than the last CRL of that issuer. Its serials are kept for good and
 * every stored certificate they name becomes revoked. Recorded as
 * crl.import. */
FW_NODISCARD int fw_registry_crl_import(struct fw_store *s, const char *path, const char *actor,
                                        uint64_t *entries, uint64_t *certs_revoked,
                                        uint64_t *idx, struct fw_diag *d);
/* Revoke a device's identity certificate locally (cert.revoke). */
FW_NODISCARD int fw_registry_cert_revoke(struct fw_store *s, const char *device,
                                         const char *reason, const char *actor, uint64_t *idx,
                                         struct fw_diag *d);

/* ---- device-API credentials and attributes (targets.c) ---- */

/* Agent types: what a device's update agent accepts. "suit": a SUIT
 * envelope and its image (fwtrust-agent, libfwv); "swupdate": a .swu
 * (SWUpdate's suricatta). */
#define FW_AGENT_SUIT "suit"
#define FW_AGENT_SWUPDATE "swupdate"
int fw_agent_valid(const char *agent);

#define FW_TOKEN_LEN 64 /* a device token: 256 random bits as lowercase hex */
/*
 * Issue device-API tokens to n devices of the registry (not
 * decommissioned) whose agent is of type agent, in one transaction with
 * one device.token record that names each device and its token's SHA-256
 * (never the token). tokens[i] receives device i's token (shown once: the
 * store keeps its SHA-256). A device's earlier token stops working; the
 * attributes it reported are kept. FW_E_NOT_FOUND (no such device),
 * FW_E_CONFLICT (decommissioned), FW_E_ARG (agent, device id); on failure
 * nothing is written and tokens are zeroed.
 */
FW_NODISCARD int fw_registry_tokens_issue(struct fw_store *s, const char *const *devices,
                                          size_t n, const char *agent, const char *actor,
                                          char (*tokens)[FW_TOKEN_LEN + 1], uint64_t *idx,
                                          struct fw_diag *d);

/* The attributes a device reports (DDI configData): data is an object of
 * strings, merged into (FW_ATTRS_MERGE), replacing (FW_ATTRS_REPLACE) or
 * removed from (FW_ATTRS_REMOVE, by key) what it reported before; recorded
 * as device.attributes with the result's keys and its HMAC under the
 * store's salt (never the values: docs/ddi.md). At most
 * FW_ATTRS_MAX_KEYS keys and FW_TARGET_MAX_ATTRS bytes in all
 * (FW_E_TOO_LARGE). FW_E_NOT_FOUND when the device has no token. */
enum { FW_ATTRS_MERGE = 1, FW_ATTRS_REPLACE = 2, FW_ATTRS_REMOVE = 3 };
#define FW_ATTRS_MAX_KEYS 100
FW_NODISCARD int fw_registry_target_attrs(struct fw_store *s, const char *device,
                                          const json_t *data, int mode, int64_t now_ms,
                                          const char *actor, uint64_t *idx, struct fw_diag *d);

/* ---- retention (retention.c) ----
 * How long the evidence must be kept at least (docs/retention.md). fwtrust
 * deletes no record, checkpoint or blob, ever: the retention date is for
 * the people who keep copies of the store (backups, archives, exported
 * bundles) and for the audit report. The setting is "default" (the latest
 * support_until of any device in the registry plus FW_RETENTION_YEARS;
 * ten years from today while there are no devices) or a date an admin
 * set, which may be later than that floor, never earlier (CRA Art.
 * 13(13), 13(9)). It is kept in the store's meta and changed only with a
 * retention.set record. Dates are "YYYY-MM-DD" (UTC days). */
#define FW_RETENTION_YEARS 10
#define FW_RETENTION_DATE 16 /* bytes of a date, NUL included */
struct fw_retention {
	char setting[FW_RETENTION_DATE];        /* "default" or the date set */
	char until[FW_RETENTION_DATE];          /* keep at least until: the later of the
	                                           date set and floor */
	char floor[FW_RETENTION_DATE];          /* the least the policy may keep */
	char latest_support[FW_RETENTION_DATE]; /* latest support_until, "" without devices */
	uint64_t latest_support_devices;        /* devices whose support ends then */
	uint64_t devices;                       /* devices in the registry */
	int no_devices;                         /* floor is ten years from today */
	int overtaken;                          /* the date set is now below floor (devices
	                                           with longer support came later) */
	int has_record;                         /* the setting's retention.set record: */
	uint64_t record;
	char by[80];                            /* the operator who set it */
	int64_t set_ts;                         /* its ts (Unix ms) */
	uint64_t records;                       /* the evidence log: records, */
	int64_t first_ts, last_ts;              /* ts of the first and the last one, */
	uint64_t checkpoints;                   /* signed checkpoints, */
	uint64_t checkpoint_size;               /* the latest one's tree size */
	uint64_t blobs, blob_bytes;             /* files under <db>.objects/sha256/ */
};
/*
 * The retention view at now (Unix seconds): the setting, the date it
 * yields, its basis and what the store keeps, read in one snapshot. r is
 * written on FW_OK and on FW_E_TAMPER: the stored setting differs from the
 * retention.set record it points at (the meta row was edited outside
 * fwtrust; d says how): then r shows what the record says, never below
 * floor. FW_E_STORE (a device's support_until is not a date), FW_E_IO (the
 * blob directory cannot be read), the store's errors.
 */
FW_NODISCARD int fw_registry_retention_get(struct fw_store *s, int64_t now,
                                           struct fw_retention *r, struct fw_diag *d);
struct fw_retention_change {
	char previous[FW_RETENTION_DATE]; /* the setting before ("default" if never set) */
	char until[FW_RETENTION_DATE];    /* the date the setting yields now */
	int changed;                      /* 0: it was that already, nothing recorded */
	uint64_t idx;                     /* the retention.set record, when changed */
};
/*
 * Set the retention to value ("default" or "YYYY-MM-DD") as operator by
 * (an active admin), recorded as retention.set (retention, until, by,
 * previous; refs: the operator's operator.add record and the previous
 * retention.set) in the same transaction, judged at now (Unix seconds).
 * The same setting again records nothing (out->changed 0). *out written
 * on FW_OK. FW_E_ARG (value), FW_E_NOT_FOUND (no such operator),
 * FW_E_VERIFY (not an active admin; a date below the floor: d names it),
 * the store's errors; on failure nothing is written.
 */
FW_NODISCARD int fw_registry_retention_set(struct fw_store *s, const char *value,
                                           const char *by, const char *actor, int64_t now,
                                           struct fw_retention_change *out, struct fw_diag *d);

#endif
