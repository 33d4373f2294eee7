/*
 * rollout: campaigns, stages, approval gates, thresholds, retry, rollback
 * and quarantine; this header is the module's only door.
 */
#ifndef FW_ROLLOUT_H
#define FW_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"

/* ---- campaign policy (policy.c) ---- */

/*
 * A campaign policy is an untrusted JSON file (docs/campaign-policy.md):
 * what to roll out, to whom, in which stages, and when to stop. Parsing
 * refuses anything outside the documented schema (unknown keys, wrong
 * types, values out of range) with FW_E_FORMAT and one line
 * "LABEL: <json path>: <why>", e.g.
 * "p.json: stages[1].size.percent: 120 is not 1..100".
 */

#define FW_CAMPAIGN_MAX_STAGES 16
#define FW_CAMPAIGN_MAX_POLICY (64 * 1024) /* bytes of a policy file */

enum fw_stage_size { FW_STAGE_PERCENT = 1, FW_STAGE_COUNT = 2, FW_STAGE_COHORT = 3 };

struct fw_campaign_stage {
	char name[65];            /* [A-Za-z0-9._-]{1,64}, unique in the policy */
	int size_kind;            /* enum fw_stage_size */
	uint32_t percent;         /* FW_STAGE_PERCENT: 1..100, cumulative */
	uint64_t count;           /* FW_STAGE_COUNT: 1..10,000,000 devices */
	char cohort[256];         /* FW_STAGE_COHORT: a cohort name */
	uint32_t approvals;       /* distinct approvers before the stage starts */
	uint64_t soak_s;          /* seconds the stage runs before the next may start */
};

struct fw_campaign_policy {
	char name[129];
	char release[65];         /* as written (id or prefix) */
	size_t ncohorts;
	char cohorts[64][256];    /* sorted by bytes; none = any cohort */
	char product[256], family[256]; /* "" = any */
	size_t nhw;
	char hw[16][256];         /* sorted by bytes; none = any revision */
	size_t nstages;
	struct fw_campaign_stage stages[FW_CAMPAIGN_MAX_STAGES];
	uint32_t success_threshold; /* percent of a stage that must report installed */
	uint32_t fail_rate_percent;
	uint64_t fail_rate_min_reports;
	uint64_t max_failures;    /* 0 = no limit */
	uint32_t retry_max_attempts;
	uint64_t retry_backoff_s;
	uint64_t report_timeout_s;
	char rollback_release[65]; /* "" = none */
	int rollback_automatic;
	uint32_t quarantine_after; /* failed attempts; <= retry_max_attempts */
};

/*
 * Parse and validate policy JSON text (untrusted, len bytes, need not be
 * NUL-terminated); label names it in messages (a path; NULL = "policy").
 * The struct is large (about 27 KiB): allocate it. On success *out is fully
 * rewritten (every byte: unused text and padding are zero, so two parses of
 * equal policies compare equal with memcmp); on failure *out is untouched.
 * Returns FW_OK; FW_E_FORMAT for invalid JSON (line and column) or a
 * policy that breaks a rule (JSON path and reason); FW_E_TOO_LARGE over
 * FW_CAMPAIGN_MAX_POLICY bytes; FW_E_NOMEM; FW_E_ARG if json or out is NULL.
 */
FW_NODISCARD int fw_campaign_policy_parse(const char *json, size_t len, const char *label,
                                          struct fw_campaign_policy *out, struct fw_diag *d);

/* Read a file of at most FW_CAMPAIGN_MAX_POLICY bytes and parse it (label =
 * path). Errors as fw_campaign_policy_parse, and FW_E_IO if the file cannot
 * be read. */
FW_NODISCARD int fw_campaign_policy_load(const char *path, struct fw_campaign_policy *out,
                                         struct fw_diag *d);

/*
 * The normalized policy as JSON (a new reference; the caller json_decref()s
 * it): every field present with defaults filled in, the key names of the
 * file, "max_failures": null when 0, "rollback": null when none,
 * "targeting" always an object with all four keys (product/family null =
 * any). Integers only and keys of [a-z0-9_]: fw_json_canonical of it is
 * the policy's hash input. For a p from fw_campaign_policy_parse,
 * parse(dump(json(p))) gives back p. NULL if out of memory or p is NULL.
 */
json_t *fw_campaign_policy_json(const struct fw_campaign_policy *p);

/* ---- campaigns before they run (campaign.c) ---- */

/*
 * A campaign is created by an active release manager (or admin) from a
 * validated policy whose release (and rollback release) exist; a release
 * signed by a revoked key cannot be rolled out. Its id is "c-NNNN". The
 * policy is kept normalized, with the releases' full ids, and its canonical
 * JSON's SHA-256 (policy_sha256) is what approvers sign. States so far:
 * awaiting_approval (the first stage needs approvals) or ready.
 */
FW_NODISCARD int fw_campaign_create(struct fw_store *s, const struct fw_campaign_policy *p,
                                    const char *creator, const char *actor, json_t **doc,
                                    uint64_t *idx, struct fw_diag *d);
FW_NODISCARD int fw_campaign_get(struct fw_store *s, const char *id, json_t **doc,
                                 struct fw_diag *d);
FW_NODISCARD int fw_campaign_list(struct fw_store *s, json_t **campaigns, struct fw_diag *d);

/* The exact text an approver signs (Ed25519) for a stage:
 * "fwtrust-campaign-approval/v1\ncampaign <id>\nrelease <release id>\n"
 * "policy <policy_sha256>\nstage <k>\n". */
FW_NODISCARD int fw_campaign_approval_text(const json_t *doc, uint32_t stage, char *out,
                                           size_t cap);
/*
 * Record an approval of a stage: sig must be the Ed25519 signature over the
 * approval text by the key key_id (64 hex) of an active operator with the
 * approver role who is not the campaign's creator and has not approved this
 * stage of this policy; the stage must still need approvals. Refusals:
 * FW_E_VERIFY (who), FW_E_SIGNATURE (the signature), FW_E_CONFLICT (twice,
 * enough already, wrong state). When the first stage has its approvals the
 * campaign becomes ready.
 */
FW_NODISCARD int fw_campaign_approve(struct fw_store *s, const char *id, uint32_t stage,
                                     const char *key_id, const uint8_t sig[64], const char *actor,
                                     json_t **doc, uint64_t *idx, struct fw_diag *d);
/* Replace the policy before the campaign starts (by a release manager):
 * every approval is void, as the policy digest changed. */
FW_NODISCARD int fw_campaign_edit(struct fw_store *s, const char *id,
                                  const struct fw_campaign_policy *p, const char *by,
                                  const char *actor, json_t **doc, uint64_t *idx,
                                  struct fw_diag *d);

#endif
