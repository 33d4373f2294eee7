/*
 * vuln: vulnerability handling (CRA Annex I Part II). Advisories (what is
 * affected: a product, optionally a family, a version range, the version
 * that fixes it) and the affected cohort of the fleet, split by what is
 * being done about each device. This header is the module's only door;
 * docs/vuln.md describes the commands, documents and records.
 */
#ifndef FW_VULN_H
#define FW_VULN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "policy/policy.h"
#include "store/store.h"

/* ---- advisories (advisory.c) ---- */

#define FW_VULN_ID_MAX FW_ADVISORY_ID_MAX /* bytes of an advisory id (core.h) */
#define FW_VULN_TITLE_MAX 512    /* bytes of a title */
#define FW_VULN_CVSS_MAX 160     /* bytes of a CVSS vector */
#define FW_VULN_MAX_CVES 32      /* CVE ids of one advisory */
#define FW_VULN_CVE_MAX 32       /* bytes of a CVE id */

enum fw_vuln_severity {
	FW_VULN_LOW = 1,
	FW_VULN_MEDIUM = 2,
	FW_VULN_HIGH = 3,
	FW_VULN_CRITICAL = 4
};
/* "low" ... "critical"; NULL out of range. parse: FW_E_ARG when unknown. */
const char *fw_vuln_severity_name(int sev);
FW_NODISCARD int fw_vuln_severity_parse(const char *s, int *out, struct fw_diag *d);

/* A CVE id: "CVE-" four-digit year "-" 4..19 digits. */
int fw_vuln_cve_valid(const char *cve);

/*
 * A CVSS v3.0 / v3.1 vector (untrusted text), checked field by field:
 * "CVSS:3.x/" then metric:value pairs separated by '/': every base metric
 * (AV, AC, PR, UI, S, C, I, A) present, temporal (E, RL, RC) and
 * environmental (CR, IR, AR, MAV, MAC, MPR, MUI, MS, MC, MI, MA) metrics
 * optional, each with one of its defined values and at most once, any
 * order. Returns FW_OK; FW_E_FORMAT naming the metric and its position
 * ("AV:Q: 'Q' is not a value of AV (N, A, L, P) at byte 10"); FW_E_TOO_LARGE
 * over FW_VULN_CVSS_MAX bytes; FW_E_ARG for NULL. *minor (may be NULL) gets
 * 0 or 1.
 */
FW_NODISCARD int fw_vuln_cvss_check(const char *vector, int *minor, struct fw_diag *d);

/* An advisory, validated. Plain value, caller-owned. */
struct fw_vuln_advisory {
	char id[FW_VULN_ID_MAX + 1];
	char title[FW_VULN_TITLE_MAX + 1];
	int severity;                         /* enum fw_vuln_severity */
	char cvss[FW_VULN_CVSS_MAX + 1];      /* "" when none */
	char product[FW_FIELD_MAX];
	char family[FW_FIELD_MAX];            /* "" = every family of the product */
	struct fw_range affected;
	char affected_text[FW_RANGE_MAX + 1]; /* canonical (fw_range_format) */
	int has_fixed;
	struct fw_semver fixed;
	char fixed_text[FW_SEMVER_MAX + 64];  /* canonical (fw_semver_format), "" when none */
	size_t ncves;
	char cves[FW_VULN_MAX_CVES][FW_VULN_CVE_MAX + 1]; /* sorted, no duplicates */
};

/* What a user (or an importer) gives; all untrusted text. cvss, family and
 * fixed_in may be NULL. */
struct fw_vuln_input {
	const char *id, *title, *severity, *cvss, *product, *family, *affected, *fixed_in;
	const char *const *cves;
	size_t ncves;
};
/*
 * Validate an input into *out (written on FW_OK only): the id; the title
 * (1..FW_VULN_TITLE_MAX bytes of UTF-8 without control characters); the
 * severity; the CVSS vector (fw_vuln_cvss_check); product and family (1..255
 * bytes of text); the affected range (fw_range_parse); fixed_in
 * (fw_semver_parse), which must not satisfy the affected range; the CVE ids
 * (at most FW_VULN_MAX_CVES; duplicates are an error). FW_E_ARG names the
 * flag and why ("--fixed-in 2.4.0 is inside the affected range ..."); the
 * parsers' FW_E_FORMAT / FW_E_TOO_LARGE are reported as FW_E_ARG with the
 * flag named.
 */
FW_NODISCARD int fw_vuln_advisory_parse(const struct fw_vuln_input *in,
                                        struct fw_vuln_advisory *out, struct fw_diag *d);

/*
 * Store an advisory as a registry document (kind "advisory") and write its
 * vuln.add record in the same transaction (source "cli"). FW_E_CONFLICT
 * when an advisory with this id exists (nothing is written). *doc (may be
 * NULL) is the advisory document (new reference), *idx the record.
 */
FW_NODISCARD int fw_vuln_add(struct fw_store *s, const struct fw_vuln_advisory *a,
                             const char *actor, json_t **doc, uint64_t *idx, struct fw_diag *d);
/* The advisory's fields as its document and vuln.add record hold them
 * (docs/vuln.md): advisory, title, severity, cvss, product, family,
 * affected, fixed_in, cves, source (new reference; NULL out of memory). */
json_t *fw_vuln_advisory_json(const struct fw_vuln_advisory *a, const char *source);
/* One advisory's document (new reference). FW_E_NOT_FOUND naming the id. */
FW_NODISCARD int fw_vuln_get(struct fw_store *s, const char *id, json_t **doc,
                             struct fw_diag *d);
/* Every advisory, by id (new reference: array). */
FW_NODISCARD int fw_vuln_list(struct fw_store *s, json_t **docs, struct fw_diag *d);
/* An advisory from the store, validated again as on add (the store is not
 * trusted more than the user): FW_E_STORE when the document no longer
 * validates; rec and rec_lh receive its vuln.add record. */
FW_NODISCARD int fw_vuln_load(struct fw_store *s, const char *id, struct fw_vuln_advisory *a,
                              uint64_t *rec, uint8_t rec_lh[32], struct fw_diag *d);

/* ---- the affected cohort (affected.c) ---- */

/* Buckets, in the order they are decided (docs/vuln.md). */
enum fw_vuln_bucket {
	FW_VB_NONE = 0,        /* not in the cohort */
	FW_VB_ISOLATED = 1,    /* affected; quarantined or its certificate revoked */
	FW_VB_CANNOT = 2,      /* affected; cannot be remediated (out of support) */
	FW_VB_REMEDIATING = 3, /* affected; a member of a campaign that fixes it */
	FW_VB_EXPOSED = 4,     /* affected; nothing is being done */
	FW_VB_REMEDIATED = 5,  /* runs fixed_in or later */
	FW_VB_COUNT = 6
};
/* "isolated", "cannot_be_remediated", "being_remediated", "exposed",
 * "remediated"; NULL for FW_VB_NONE or out of range. parse: -1 unknown. */
const char *fw_vuln_bucket_name(int b);
int fw_vuln_bucket_parse(const char *name);

/* What fw_vuln_affected knows of a device beyond its row (flags). */
#define FW_VULN_IN_CAMPAIGN 1 /* an unfinished member of a remediating campaign */
#define FW_VULN_RUNS_FIX 2    /* it runs (fw_version equal by semver precedence) the
                                 version of a release of its product and family whose
                                 "fixes" names the advisory */
/*
 * One device's bucket (pure): dev of the advisory's product (and family,
 * when the advisory names one); its certificate state at now (Unix
 * seconds; fw_cert_state); facts: FW_VULN_IN_CAMPAIGN and/or
 * FW_VULN_RUNS_FIX (fw_vuln_affected computes them). A device that runs a
 * fix is remediated, inside the affected range too (a backported fix).
 */
int fw_vuln_classify(const struct fw_vuln_advisory *a, const struct fw_device_row *dev,
                     const struct fw_cert_row *cert, int64_t now, int facts);

/* The versions that fix an advisory by a release's "fixes" list (releases
 * of its product and family), loaded once before a pass over devices:
 * fw_vuln_fixes_runs tells whether a device runs one (FW_VULN_RUNS_FIX).
 * load: FW_E_NOMEM, FW_E_STORE; *out freed with fw_vuln_fixes_free. */
struct fw_vuln_fixes;
FW_NODISCARD int fw_vuln_fixes_load(struct fw_store *s, const struct fw_vuln_advisory *a,
                                    struct fw_vuln_fixes **out, struct fw_diag *d);
int fw_vuln_fixes_runs(const struct fw_vuln_fixes *f, const struct fw_device_row *dev);
void fw_vuln_fixes_free(struct fw_vuln_fixes *f);

/* 1 if a release version fixes the advisory by the version rule: it is
 * not in the affected range, and it is fixed_in or later when fixed_in is
 * set. A running or paused campaign remediates the advisory when its
 * release, of the advisory's product and family, fixes it so, or the
 * release's "fixes" or the campaign policy's "remediates" names it; and
 * its signing key is still active (docs/vuln.md). */
int fw_vuln_release_fixes(const struct fw_vuln_advisory *a, const struct fw_semver *release);
/* 1 if a release document (as the release list gives it) fixes the
 * advisory: a release of its product (and family), whose version fixes
 * it by fw_vuln_release_fixes or whose "fixes" names it (a backport). The
 * signer's state is not judged here. */
int fw_vuln_release_doc_fixes(const struct fw_vuln_advisory *a, const json_t *rel);

/* The cohort list held in memory before it is kept: at most this many
 * bytes (a million devices take about 25 MB); over it FW_E_TOO_LARGE. */
#define FW_VULN_MAX_LIST (1024u * 1024 * 1024)

struct fw_vuln_cohort {
	char advisory[FW_VULN_ID_MAX + 1];
	int64_t now;                      /* the time it was computed at (Unix seconds) */
	uint64_t devices;                 /* devices scanned */
	uint64_t cohort;                  /* devices in a bucket */
	uint64_t counts[FW_VB_COUNT];     /* per bucket ([0] unused) */
	uint8_t list_sha256[32];          /* the cohort list (a blob in the store) */
	uint64_t list_size;
	size_t ncampaigns;                /* campaigns found remediating */
	/* why the exposed devices are (docs/vuln.md): judged by eligibility
	 * against the fixing releases of their family */
	size_t nfixing;                   /* fixing releases judged against */
	uint64_t exposed_eligible;        /* eligible for one: no campaign reaches it yet */
	uint64_t exposed_no_release;      /* no fixing release of its product and family */
	uint64_t exposed_by_reason[FW_REASON_COUNT]; /* ineligible for each: the newest's reasons */
	uint64_t idx;                     /* the vuln.affected record */
	uint8_t lh[32];
};
/*
 * Compute the cohort of an advisory at now (Unix seconds) and record it, in
 * one transaction: one pass over the registry's devices, one rollout scan
 * per remediating campaign; the cohort list ("<device> <bucket>
 * <fw_version>\n" per device of the cohort, by device id; an exposed
 * device's line adds " <why>": "eligible", "no_fixing_release" or its
 * reason codes "code,code") is kept content-addressed in the store; a vuln.affected record carries the
 * counts and the list's SHA-256 (refs: the advisory's vuln.add record).
 * *out written on FW_OK. FW_E_NOT_FOUND (no such advisory), FW_E_STORE,
 * FW_E_IO, FW_E_NOMEM, FW_E_TOO_LARGE (the list over FW_VULN_MAX_LIST), FW_E_CONFLICT
 * (more than 64 campaigns remediate it); on failure nothing is recorded.
 */
FW_NODISCARD int fw_vuln_affected(struct fw_store *s, const char *id, int64_t now,
                                  const char *actor, struct fw_vuln_cohort *out,
                                  struct fw_diag *d);

/* The cohort as the record's JSON document (new reference, NULL when out
 * of memory). */
json_t *fw_vuln_cohort_json(const struct fw_vuln_cohort *c);

/* ---- isolation of devices that cannot be updated (isolate.c) ---- */

enum fw_vuln_isolate_action {
	FW_VI_QUARANTINE = 1, /* lifecycle -> quarantined (the registry's lifecycle rules) */
	FW_VI_REVOKE = 2      /* its identity certificate revoked locally */
};
/* "quarantine", "revoke"; NULL out of range. */
const char *fw_vuln_isolate_action_name(int action);

#define FW_VULN_MAX_ISOLATE 1000000u /* devices isolated by one command */
#define FW_VULN_ISOLATE_SHOWN 10     /* devices kept in struct fw_vuln_isolation */
#define FW_VULN_REASON_MAX 1000      /* bytes of a reason */

struct fw_device_filter; /* registry/registry.h */

/* What to isolate; all text untrusted. */
struct fw_vuln_isolate_req {
	const char *advisory;                  /* the advisory's id */
	const char *reason;                    /* 1..FW_VULN_REASON_MAX bytes of text */
	const struct fw_device_filter *filter; /* NULL: the advisory's cannot_be_remediated
	                                          devices; else its affected devices not
	                                          isolated yet (cannot_be_remediated,
	                                          being_remediated, exposed) that match */
	int action;                            /* enum fw_vuln_isolate_action */
	int64_t now;                           /* Unix seconds the buckets are judged at */
};

/* One device isolated (or, in a plan, to be isolated). */
struct fw_vuln_isolated {
	char device[FW_FIELD_MAX];
	char fw_version[FW_FIELD_MAX];
	char lifecycle_before[32];
	int bucket;                            /* before: FW_VB_CANNOT, or FW_VB_EXPOSED for
	                                          an affected device that can still be
	                                          remediated (campaigns are not read) */
	uint64_t idx;                          /* its vuln.isolate record (0 in a plan) */
};

struct fw_vuln_isolation {
	char advisory[FW_VULN_ID_MAX + 1];
	int action;
	uint64_t devices;                      /* devices isolated (planned) */
	size_t nshown;                         /* the first devices, by device id: */
	struct fw_vuln_isolated shown[FW_VULN_ISOLATE_SHOWN];
};

/* Called for each device of a plan, by device id; a non-zero return stops
 * the plan and is returned. */
typedef int (*fw_vuln_isolated_fn)(void *arg, const struct fw_vuln_isolated *dev);

/*
 * Which devices fw_vuln_isolate would isolate now, and whether it would
 * refuse, read only (nothing is written). fn (may be NULL) sees each.
 * Returns FW_OK; FW_E_ARG (reason, action); FW_E_NOT_FOUND (no such
 * advisory); FW_E_STORE (its document no longer validates); FW_E_CONFLICT,
 * d naming the device and the rule: no device matches, a device cannot be
 * quarantined in its lifecycle state (end_of_support, decommissioned: it
 * needs FW_VI_REVOKE), a device has no certificate to revoke (it needs
 * FW_VI_QUARANTINE); FW_E_TOO_LARGE over FW_VULN_MAX_ISOLATE devices;
 * FW_E_NOMEM. *out is written on FW_OK.
 */
FW_NODISCARD int fw_vuln_isolate_plan(struct fw_store *s, const struct fw_vuln_isolate_req *req,
                                      fw_vuln_isolated_fn fn, void *arg,
                                      struct fw_vuln_isolation *out, struct fw_diag *d);
/*
 * Isolate the devices fw_vuln_isolate_plan selects, in one transaction:
 * per device one vuln.isolate record (advisory, device, action, reason,
 * fw_version, lifecycle_before, row_sha256 of the row after, and
 * for a revocation cert_sha256 and serial; refs: the advisory's vuln.add
 * record and the record that last changed the device) written with the
 * change it records: the device row (pointing at it) and, for a
 * revocation, the certificate's revoked state. Errors as the plan's;
 * whatever fails, nothing is written. *out is written on FW_OK.
 */
FW_NODISCARD int fw_vuln_isolate(struct fw_store *s, const struct fw_vuln_isolate_req *req,
                                 const char *actor, struct fw_vuln_isolation *out,
                                 struct fw_diag *d);

/* ---- CSAF 2.0 import (csaf.c) ---- */

#define FW_VULN_CSAF_MAX (4u * 1024 * 1024) /* bytes of a CSAF document */
#define FW_VULN_CSAF_MAX_ADVISORIES 256     /* advisories one document maps to */
#define FW_VULN_CSAF_MAX_UNMAPPED 256       /* items it reports as not mapped */
#define FW_VULN_CSAF_MAX_PRODUCTS 4096      /* product ids of its product_tree */
#define FW_VULN_CSAF_MAX_DEPTH 32           /* nested product_tree branches */
#define FW_VULN_CSAF_PATH_MAX 512           /* bytes of a JSON path, NUL included */
#define FW_VULN_CSAF_WHY_MAX 256            /* bytes of a reason, NUL included */
#define FW_VULN_CSAF_TEXT_MAX 256           /* tracking id/version, publisher, NUL incl. */

/* Something of the document that is not mapped to an advisory, and why:
 * path is a JSON path ("vulnerabilities[1].product_status.first_affected"). */
struct fw_vuln_csaf_unmapped {
	char path[FW_VULN_CSAF_PATH_MAX];
	char why[FW_VULN_CSAF_WHY_MAX];
};
/* One advisory the document maps to. idx and existed are results of
 * fw_vuln_import (0 before). */
struct fw_vuln_csaf_item {
	struct fw_vuln_advisory a;
	char path[48];      /* its vulnerability: "vulnerabilities[3]" */
	uint64_t idx;       /* its vuln.add record */
	int existed;        /* imported before from the same document: nothing written */
};
/* A parsed document (caller-owned: _init, then _clear). */
struct fw_vuln_csaf {
	char tracking_id[FW_VULN_CSAF_TEXT_MAX];
	char tracking_version[FW_VULN_CSAF_TEXT_MAX];
	char publisher[FW_VULN_CSAF_TEXT_MAX];  /* document.publisher.name */
	uint8_t sha256[32];                     /* of the whole document's bytes */
	size_t size;
	size_t n;                               /* advisories in items[] */
	struct fw_vuln_csaf_item *items;
	size_t nunmapped;
	struct fw_vuln_csaf_unmapped *unmapped;
};
void fw_vuln_csaf_init(struct fw_vuln_csaf *c);
/* Frees items and unmapped; NULL allowed. */
void fw_vuln_csaf_clear(struct fw_vuln_csaf *c);

/*
 * Parse a CSAF 2.0 document (untrusted bytes) and map it to advisories
 * (docs/vuln.md, "CSAF 2.0 import"). Pure: no store, no files. known lists
 * the product names of this registry (nknown of them, compared byte for
 * byte); known == NULL checks no product name. What cannot be mapped
 * (a vers scheme other than semver or generic, a constraint with no
 * SemVer meaning, a product outside a product_name branch, a product that
 * is not ours, a vulnerability without known_affected products, ...) is
 * listed in unmapped with its JSON path, never guessed. *out (initialised
 * by the caller; its old content is cleared) is written on FW_OK only.
 * Errors: FW_E_FORMAT, the document is malformed: not JSON, a duplicate
 * key, not csaf_version 2.0, a required field missing or of the wrong
 * type, a product id used but not defined; the message names the JSON path
 * ("vulnerabilities[0].product_status.known_affected[2]: 'CSAFPID-9' is
 * not a product of product_tree"). FW_E_TOO_LARGE over FW_VULN_CSAF_MAX
 * bytes or over one of the caps above; FW_E_NOMEM; FW_E_ARG for NULLs.
 */
FW_NODISCARD int fw_vuln_csaf_parse(const uint8_t *data, size_t len, const char *const *known,
                                    size_t nknown, struct fw_vuln_csaf *out,
                                    struct fw_diag *d);

/*
 * vers (untrusted text, "vers:semver/>=2.0.0|<2.4.1") as a range of ours
 * (fw_range_parse syntax) in out (cap bytes): vers:semver and vers:generic
 * whose versions are semantic versions; '|'-separated constraints in
 * ascending version order read as vers does (a lower bound and the upper
 * bound after it are one interval, "=V" one version, "*" every version).
 * FW_OK, or FW_E_FORMAT with why it has no mapping (for unmapped items).
 */
FW_NODISCARD int fw_vuln_vers_range(const char *vers, char *out, size_t cap,
                                    struct fw_diag *d);

/*
 * Store the advisories of a parsed document in ONE transaction (advisory.c):
 * the document's bytes (data, len: the bytes c was parsed from) kept
 * content-addressed in the store, and per advisory its document and a
 * vuln.add record with source "csaf" and a "csaf" object (tracking_id,
 * tracking_version, publisher, sha256, size, path, and with partial the
 * unmapped items). Refusals, nothing written: FW_E_VERIFY when c has
 * unmapped items and partial is 0, or it maps to no advisory; FW_E_CONFLICT
 * naming the id when an advisory exists that was not imported from this
 * very document (same SHA-256). An advisory imported before from the same
 * document is skipped (its item's existed set); when every one is, nothing
 * is written. Sets each item's idx. FW_E_STORE, FW_E_IO, FW_E_NOMEM
 * otherwise. The blob is written before the transaction: a store failure
 * inside it can leave the (content-addressed) document behind, no record.
 */
FW_NODISCARD int fw_vuln_import(struct fw_store *s, struct fw_vuln_csaf *c, const uint8_t *data,
                                size_t len, int partial, const char *actor, struct fw_diag *d);
/* What fw_vuln_import would do with the ids, writing nothing (a dry run):
 * each item's existed set; FW_E_CONFLICT as fw_vuln_import. */
FW_NODISCARD int fw_vuln_import_plan(struct fw_store *s, struct fw_vuln_csaf *c,
                                     struct fw_diag *d);

/* ---- remediation over time (progress.c) ---- */

/* One computation of an advisory's cohort, as its vuln.affected record
 * gives it. */
struct fw_vuln_point {
	uint64_t idx;                 /* the record */
	int64_t at;                   /* judged at (Unix seconds) */
	uint64_t devices, cohort;
	uint64_t counts[FW_VB_COUNT]; /* per bucket ([0] unused) */
	size_t ncampaigns;            /* remediating campaigns found */
};
typedef int (*fw_vuln_point_fn)(void *arg, const struct fw_vuln_point *p);
/*
 * The series of an advisory's cohort, oldest first: one scan of the log,
 * fn called for each of its vuln.affected records (non-zero stops, not an
 * error); *n (may be NULL) the number seen. FW_E_ARG (not an advisory
 * id), FW_E_NOT_FOUND (no such advisory), FW_E_STORE (a record that is not
 * JSON).
 */
FW_NODISCARD int fw_vuln_progress(struct fw_store *s, const char *id, fw_vuln_point_fn fn,
                                  void *arg, uint64_t *n, struct fw_diag *d);

#endif
