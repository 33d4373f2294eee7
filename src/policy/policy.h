/*
 * policy: eligibility decisions, device x release (x campaign targeting) ->
 * eligible or not, with stable reason codes; this header is the module's
 * only door.
 */
#ifndef FW_POLICY_H
#define FW_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h" /* semantic versions and ranges */
#include "registry/registry.h"
#include "store/store.h"

/* ---- eligibility (eligibility.c) ---- */

/* Reason codes: stable strings (docs/reasons.md), in this order in every
 * list. Append only. */
enum fw_reason {
	FW_R_IDENTITY_UNKNOWN,
	FW_R_IDENTITY_MISMATCH,
	FW_R_CERT_MISSING,
	FW_R_CERT_REVOKED,
	FW_R_CERT_UNTRUSTED_ISSUER,
	FW_R_CERT_NOT_YET_VALID,
	FW_R_CERT_EXPIRED,
	FW_R_LC_MANUFACTURED,
	FW_R_LC_PROVISIONED,
	FW_R_LC_QUARANTINED,
	FW_R_LC_END_OF_SUPPORT,
	FW_R_LC_DECOMMISSIONED,
	FW_R_TARGET_PRODUCT,
	FW_R_TARGET_FAMILY,
	FW_R_TARGET_HW_REVISION,
	FW_R_TARGET_COHORT,
	FW_R_VERSION_INVALID,
	FW_R_VERSION_OUT_OF_RANGE,
	FW_R_VERSION_ALREADY_INSTALLED,
	FW_R_VERSION_NEWER,
	FW_R_SUPPORT_ENDED,
	FW_R_RELEASE_SIGNED_BY_REVOKED_KEY,
	FW_R_RELEASE_NO_VERSION,
	FW_R_TARGET_VERSION, /* a campaign's targeting.versions (rollout) */
	FW_REASON_COUNT
};
/* "cert.expired", ...; and a one-line explanation. */
const char *fw_reason_code(int r);
const char *fw_reason_text(int r);
/* A set of reasons as "code,code,..." ("" for none). */
#define FW_REASON_LIST_MAX (FW_REASON_COUNT * 32)
void fw_reason_list(uint32_t reasons, char *out, size_t cap);

#define FW_POLICY_MAX_HW FW_RELEASE_MAX_HW
#define FW_POLICY_MAX_COHORTS 64

/* The release side of a decision, loaded once per run. */
struct fw_policy_release {
	char id[65];
	char product[FW_FIELD_MAX], family[FW_FIELD_MAX];
	char version_text[FW_SEMVER_MAX + 1];
	int has_version;               /* the manifest's version is a semantic version */
	struct fw_semver version;
	int has_range;                 /* upgrade range (release add --from) */
	struct fw_range range;
	char range_text[FW_RANGE_MAX + 1];
	char hw[FW_POLICY_MAX_HW][FW_FIELD_MAX];
	size_t nhw;                    /* 0: any hardware revision */
	int signer_revoked;
	uint64_t rec;                  /* the release.add record */
	uint8_t rec_lh[32];
};
/* Campaign targeting: a device must be in one of the cohorts (none: all). */
struct fw_policy_target {
	const char *const *cohorts;
	size_t ncohorts;
};
FW_NODISCARD int fw_policy_target_check(const struct fw_policy_target *t, struct fw_diag *d);
/* A release by id or unique prefix (fw_registry_release_get). */
FW_NODISCARD int fw_policy_release_load(struct fw_store *s, const char *ref,
                                        struct fw_policy_release *r, struct fw_diag *d);
/* The same from a release document as fw_registry_release_get or _list
 * give it (with its "status"); FW_E_STORE when it is malformed. */
FW_NODISCARD int fw_policy_release_from_doc(const json_t *doc, struct fw_policy_release *r,
                                            struct fw_diag *d);

/* Has a device's support period (support_until, YYYY-MM-DD: support ends
 * at the end of that day, UTC) ended at now (Unix seconds)? Not a date: 1,
 * as no support period can be shown. Eligibility's support.ended. */
int fw_policy_support_ended(const char *support_until, int64_t now);

/* One decision: the set of failing reasons (bit i = enum fw_reason i; 0 =
 * eligible), with the certificate state at now (Unix seconds). Pure. */
uint32_t fw_policy_decide(const struct fw_policy_release *r, const struct fw_policy_target *t,
                          const struct fw_device_row *dev, const struct fw_cert_row *cert,
                          int64_t now, const char **cert_state);

struct fw_eligibility_summary {
	char release[65];              /* the release's full id */
	uint64_t run;                  /* run number (1, 2, ...) */
	uint64_t devices, eligible;
	uint64_t by_reason[FW_REASON_COUNT];
	uint64_t summary_idx;          /* the eligibility.summary record */
};
typedef void (*fw_policy_progress_fn)(void *arg, uint64_t done, uint64_t total);
/*
 * Decide for every device of the registry, in one transaction: one
 * eligibility.decision record per device (its inputs, reasons and the
 * records it relied on) and its row in the decision table, then one
 * eligibility.summary record; the run is kept as an "eligibility" document.
 */
FW_NODISCARD int fw_policy_eligibility_run(struct fw_store *s, const char *release_ref,
                                           const struct fw_policy_target *t, const char *actor,
                                           fw_policy_progress_fn progress, void *parg,
                                           struct fw_eligibility_summary *sum,
                                           struct fw_diag *d);
/* The recorded decisions of a run of this release (run 0: its latest run;
 * FW_E_NOT_FOUND when there is none), in device id order; *run_out is the
 * run. */
FW_NODISCARD int fw_policy_decisions(struct fw_store *s, const char *release_ref, uint64_t run,
                                     fw_decision_fn fn, void *arg, uint64_t *run_out,
                                     struct fw_diag *d);
/* One device against a release now, with its inputs, each reason with why,
 * and the latest recorded decision for it ("recorded", or null). Unknown
 * devices are not an error: they are ineligible with identity.unknown. */
FW_NODISCARD int fw_policy_explain(struct fw_store *s, const char *release_ref,
                                   const struct fw_policy_target *t, const char *device,
                                   int64_t now, json_t **out, struct fw_diag *d);

#endif
