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
#include "store/store.h"

/* ---- advisories (advisory.c) ---- */

#define FW_VULN_ID_MAX 64        /* bytes of an advisory id */
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

/* An advisory id: 1..FW_VULN_ID_MAX bytes of [A-Za-z0-9._:-], starting with
 * a letter or a digit (it is a registry key and appears in file names). */
int fw_vuln_id_valid(const char *id);
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

/*
 * One device's bucket (pure): dev of the advisory's product (and family,
 * when the advisory names one); its certificate state at now (Unix
 * seconds; fw_cert_state); in_campaign: it is an unfinished member of a
 * campaign that remediates the advisory (fw_vuln_affected computes it).
 */
int fw_vuln_classify(const struct fw_vuln_advisory *a, const struct fw_device_row *dev,
                     const struct fw_cert_row *cert, int64_t now, int in_campaign);

/* 1 if a running or paused campaign's release version remediates the
 * advisory: it is not in the affected range, and it is fixed_in or later
 * when fixed_in is set. */
int fw_vuln_release_fixes(const struct fw_vuln_advisory *a, const struct fw_semver *release);

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
	uint64_t idx;                     /* the vuln.affected record */
	uint8_t lh[32];
};
/*
 * Compute the cohort of an advisory at now (Unix seconds) and record it, in
 * one transaction: one pass over the registry's devices, one rollout scan
 * per remediating campaign; the cohort list ("<device> <bucket>
 * <fw_version>\n" per device of the cohort, by device id) is kept
 * content-addressed in the store; a vuln.affected record carries the
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

#endif
