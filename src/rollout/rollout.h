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
#define FW_CAMPAIGN_MAX_REMEDIATES 16      /* advisories a campaign names */

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
	int has_versions;         /* targeting.versions given (else any version) */
	struct fw_range versions; /* targeting.versions, parsed (padding zero) */
	char versions_text[FW_RANGE_MAX + 1]; /* its canonical text (fw_range_format) */
	size_t nremediates;
	char remediates[FW_CAMPAIGN_MAX_REMEDIATES][FW_ADVISORY_ID_MAX + 1];
	                          /* advisory ids it remediates, sorted by bytes, unique */
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

/*
 * Add an advisory id (untrusted, e.g. --remediates) to p->remediates,
 * kept sorted and unique: an id there already is not added again (FW_OK).
 * FW_E_ARG naming the id when it is not an advisory id; FW_E_TOO_LARGE
 * when p names FW_CAMPAIGN_MAX_REMEDIATES already. p is unchanged on
 * failure.
 */
FW_NODISCARD int fw_campaign_policy_remediates_add(struct fw_campaign_policy *p, const char *id,
                                                   struct fw_diag *d);

/* ---- campaigns before they run (campaign.c) ---- */

/*
 * A campaign is created by an active release manager (or admin) from a
 * validated policy whose release (and rollback release) exist; a release
 * signed by a revoked key cannot be rolled out. Its id is "c-NNNN". The
 * policy is kept normalized, with the releases' full ids, and its canonical
 * JSON's SHA-256 (policy_sha256) is what approvers sign. States so far:
 * awaiting_approval (the first stage needs approvals) or ready. Each
 * advisory the policy remediates must be in the registry (FW_E_NOT_FOUND)
 * and be about the release's product (FW_E_CONFLICT); edit checks the same.
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

/* ---- the engine (engine.c) ---- */

/* The campaign's own targeting beyond its release's: the reasons
 * (1u << FW_R_TARGET_PRODUCT, _FAMILY, _HW_REVISION, _VERSION of
 * policy.h) a device fails on the policy's product, family, hardware
 * revisions and version range (a device whose fw_version is not a
 * semantic version fails a range: default-deny); 0 when it is targeted. */
uint32_t fw_campaign_target(const struct fw_campaign_policy *p, const struct fw_device_row *dev);

/*
 * Campaign states (docs/campaigns.md):
 *   awaiting_approval -> ready -> running <-> paused -> completed | aborted | rolled_back
 * and per device and campaign, the update states below; only the
 * transitions of docs/campaigns.md#device-states happen, each one an
 * evidence record ("rollout.device") written in the same transaction as
 * the row (struct fw_rollout_row) it changes. Time is always the caller's
 * (struct fw_rollout_ctx), so that tests and the simulator drive the
 * clock; the CLI passes the real one.
 */
enum fw_update_state {
	FW_U_PENDING = 0,     /* in the campaign, its stage has not started */
	FW_U_ELIGIBLE = 1,    /* its stage started and it was eligible then: may be delivered */
	FW_U_INELIGIBLE = 2,  /* eligibility failed (at start, stage entry or delivery): terminal */
	FW_U_DELIVERED = 3,   /* an attempt is under way (report deadline in due_ms) */
	FW_U_INSTALLED = 4,   /* it reported the release's version running after reboot: terminal */
	FW_U_FAILED = 5,      /* an attempt failed; retried after due_ms while attempts remain */
	FW_U_PAUSED = 6,      /* eligible, but the campaign is paused */
	FW_U_ROLLED_BACK = 7, /* it fell back, or runs the rollback release */
	FW_U_COUNT = 8
};
/* due_ms of a failed row that gets no more attempts: failed for good. */
#define FW_ROLLOUT_FINAL INT64_MAX
/* "pending", ...; NULL out of range. parse: -1 when unknown. */
const char *fw_update_state_name(int state);
int fw_update_state_parse(const char *name);

/* The caller's side of every engine call. */
typedef void (*fw_rollout_progress_fn)(void *arg, uint64_t done, uint64_t total);
struct fw_rollout_ctx {
	int64_t now_ms;                  /* the time, Unix milliseconds */
	const char *actor;               /* who ran the command, for records */
	fw_rollout_progress_fn progress; /* long steps (start, a stage's entry); may be NULL */
	void *parg;
};

/*
 * Operations by an active operator ("by") with the role operator or admin;
 * reason is free text (NULL = none). Each writes its campaign record and
 * the device records it causes in one transaction, and returns the
 * campaign document (*doc, new reference; doc may be NULL).
 *   start: a ready campaign (its first stage approved) starts: its members
 *     (the devices its targeting selects) are fixed and given stages by
 *     stable hash, and the first stage is entered (eligibility re-checked
 *     per device);
 *   pause / resume: running <-> paused (eligible devices of started stages
 *     are paused and un-paused); resume restarts the pause-condition window;
 *   abort: running or paused -> aborted, or with rollback != 0 ->
 *     rolled_back (the policy's rollback release is offered to every device
 *     that received the release; FW_E_CONFLICT when the policy has none).
 * Refusals: FW_E_CONFLICT (the campaign's state does not allow it),
 * FW_E_VERIFY (who), FW_E_NOT_FOUND (no such campaign).
 */
FW_NODISCARD int fw_rollout_start(struct fw_store *s, const char *id, const char *by,
                                  const struct fw_rollout_ctx *cx, json_t **doc,
                                  struct fw_diag *d);
FW_NODISCARD int fw_rollout_pause(struct fw_store *s, const char *id, const char *by,
                                  const char *reason, const struct fw_rollout_ctx *cx,
                                  json_t **doc, struct fw_diag *d);
FW_NODISCARD int fw_rollout_resume(struct fw_store *s, const char *id, const char *by,
                                   const char *reason, const struct fw_rollout_ctx *cx,
                                   json_t **doc, struct fw_diag *d);
FW_NODISCARD int fw_rollout_abort(struct fw_store *s, const char *id, const char *by,
                                  int rollback, const char *reason,
                                  const struct fw_rollout_ctx *cx, json_t **doc,
                                  struct fw_diag *d);

/*
 * What time does by itself, in one transaction: delivered devices past
 * their report deadline fail (cause "timeout", counted like a failure
 * report), the pause conditions are checked, and a running campaign
 * advances to the next stage when the current one has soaked, reached the
 * success threshold and the next stage has its approvals; the last stage,
 * once it has soaked and reached the threshold too, completes the campaign
 * when no device is left in flight (else an operator aborts it). Returns
 * FW_OK with nothing to do too. doc may be NULL.
 */
FW_NODISCARD int fw_rollout_tick(struct fw_store *s, const char *id,
                                 const struct fw_rollout_ctx *cx, json_t **doc,
                                 struct fw_diag *d);

/* A device's report about an attempt. */
struct fw_rollout_report {
	const char *device;
	int status;            /* FW_U_DELIVERED, _INSTALLED, _FAILED or _ROLLED_BACK; or
	                          FW_U_PAUSED: the device stopped its attempt because the
	                          server cancelled it (the campaign was paused or aborted
	                          while it was delivered): delivered -> paused (paused
	                          campaign; the attempt is given back, and it is delivered
	                          the same attempt again after the resume) or -> failed
	                          for good (aborted), cause "cancel"; in any other case
	                          nothing changes (LATE or DUPLICATE) */
	const char *release;   /* NULL, or the release (id or prefix) the report is about:
	                          must be the campaign's (or, for rolled_back, the
	                          rollback release) */
	const char *version;   /* installed (required) and rolled_back (optional): the
	                          version the device runs now, after its reboot */
	int integrity_failure; /* failed only: the device refused the image's signature
	                          or digest. For a device failed already whose failure
	                          on record was not an integrity failure (the refusal
	                          came after a generic failure of the same attempt):
	                          APPLIED failed -> failed, the failure escalated to an
	                          integrity failure (quarantine, pause); once it was
	                          one, DUPLICATE */
	const char *detail;    /* free text from the device, <= 1000 bytes; NULL = none */
};
enum fw_report_outcome {
	FW_REPORT_APPLIED = 0,   /* the device's state changed (result.from -> result.to) */
	FW_REPORT_DUPLICATE = 1, /* the device is in that state already: nothing changed */
	FW_REPORT_LATE = 2,      /* about an earlier step than the device's state: nothing changed */
	FW_REPORT_STOPPED = 3    /* delivered refused: the device is no longer eligible (it
	                            moved to ineligible, the reasons in result.reasons) */
};
struct fw_rollout_result {
	int outcome;           /* enum fw_report_outcome */
	int from, to;          /* update states */
	uint32_t reasons;      /* STOPPED: the failing eligibility reasons */
	uint64_t idx;          /* APPLIED/STOPPED: the rollout.device record */
	int quarantined;       /* this report quarantined the device */
	int paused;            /* this report paused (or rolled back) the campaign */
};
/*
 * Apply n reports for campaign id in one transaction, in order; all or
 * nothing: a refused report (unknown device, not in the campaign, wrong
 * release, a transition the device's state does not allow, an installed
 * report whose version is not the release's) fails the batch with
 * FW_E_CONFLICT or FW_E_ARG and "reports[i]: device X: why" (the index
 * only when n > 1). results (n of them) may be NULL. A failure or a
 * timeout may quarantine the device (a device.lifecycle record) and pause
 * the campaign (a campaign.pause or campaign.rollback record), in the same
 * transaction.
 */
FW_NODISCARD int fw_rollout_report(struct fw_store *s, const char *id,
                                   const struct fw_rollout_report *reports, size_t n,
                                   const struct fw_rollout_ctx *cx,
                                   struct fw_rollout_result *results, struct fw_diag *d);

/* What a device polling now should get: the campaign and release to
 * install (or the rollback release), or nothing (*campaign = "" ). Read
 * only; eligibility is checked again by the delivered report. */
struct fw_rollout_offer {
	char campaign[32];
	char release[65];
	int rollback;          /* the release is the campaign's rollback release */
	uint32_t attempt;      /* the attempt it would be (1, 2, ...) */
};
FW_NODISCARD int fw_rollout_offer(struct fw_store *s, const char *device, int64_t now_ms,
                                  struct fw_rollout_offer *offer, struct fw_diag *d);

/*
 * What the device API (src/ddi/) shows a device polling now, read only:
 *   FW_ACTION_DEPLOY: install release (version): a running campaign's
 *     release to an eligible device (eligibility decided again now, from
 *     dev and cert as the caller read them) or to a failed one whose retry
 *     is due (attempt = the attempt it will be); the attempt under way of a
 *     delivered device (shown until it reports the end); in a rolled-back
 *     campaign, the rollback release to a device that received the release;
 *   FW_ACTION_CANCEL: the campaign paused or was aborted while the device
 *     was delivered: it should stop (it confirms with a FW_U_PAUSED report);
 *   FW_ACTION_INSTALLED: nothing to do; the last release it installed;
 *   FW_ACTION_NONE: nothing.
 * The first campaign (by id) with a DEPLOY or CANCEL wins. Action ids are
 * campaign number * FW_ACTION_SPAN + attempt (1..10), or +
 * FW_ACTION_ROLLBACK for the rollback release: the same attempt keeps its
 * id across polls. c caches campaigns between calls (one cache per
 * thread; a campaign is read again when its stored document changed).
 */
enum { FW_ACTION_NONE = 0, FW_ACTION_DEPLOY = 1, FW_ACTION_CANCEL = 2, FW_ACTION_INSTALLED = 3 };
#define FW_ACTION_SPAN 100u
#define FW_ACTION_ROLLBACK 99u
struct fw_rollout_action {
	int kind;
	uint64_t id;
	char campaign[32];
	char release[65];
	char version[65];
	int rollback;
	uint32_t attempt;
	int state;             /* the device's update state in the campaign */
	uint32_t reasons;      /* NONE: the eligibility reasons that withheld an offer */
};
struct fw_rollout_cache;
struct fw_rollout_cache *fw_rollout_cache_new(void);
void fw_rollout_cache_free(struct fw_rollout_cache *c);
FW_NODISCARD int fw_rollout_action(struct fw_store *s, struct fw_rollout_cache *c,
                                   const char *device, const struct fw_device_row *dev,
                                   const struct fw_cert_row *cert, int64_t now_ms,
                                   struct fw_rollout_action *a, struct fw_diag *d);
/* An action id for (campaign, attempt, rollback); 0 for a campaign id not
 * of the form c-N. parse: the other way; FW_E_NOT_FOUND when id cannot be
 * an action. */
uint64_t fw_rollout_action_id(const char *campaign, uint32_t attempt, int rollback);
FW_NODISCARD int fw_rollout_action_parse(uint64_t id, char *campaign, size_t cap,
                                         uint32_t *attempt, int *rollback);

/*
 * The campaign as a status document (new reference): state, current stage,
 * per stage its size, counts per update state, installed percent against
 * the success threshold, approvals, soak left; each pause condition with
 * its value and threshold; totals (reports, failures, timeouts, retries,
 * quarantined); and "next": one sentence on what happens next.
 */
FW_NODISCARD int fw_rollout_status(struct fw_store *s, const char *id, int64_t now_ms,
                                   json_t **status, struct fw_diag *d);

/* One device's row in a campaign as JSON (new reference); FW_E_NOT_FOUND. */
FW_NODISCARD int fw_rollout_device(struct fw_store *s, const char *id, const char *device,
                                   json_t **out, struct fw_diag *d);

/*
 * A campaign's rows, each as fw_rollout_device's JSON, passed to fn (which
 * borrows it: it is freed when fn returns), filtered by update state (-1:
 * any) and stage index (-1: any; FW_ROLLOUT_NO_STAGE: the devices
 * ineligible when the campaign started), ordered by (state, stage,
 * deadline, device). Read only: fn must not write the campaign's rows. fn
 * returns FW_OK to go on, or an error that stops the listing and is
 * returned as it is. FW_E_NOT_FOUND when there is no such campaign;
 * FW_E_ARG for a state out of range or a NULL s, id or fn.
 */
typedef int (*fw_rollout_json_fn)(void *arg, const json_t *row);
FW_NODISCARD int fw_rollout_devices(struct fw_store *s, const char *id, int state, int64_t stage,
                                    fw_rollout_json_fn fn, void *arg, struct fw_diag *d);

/* Stage hash of a device in a campaign: the first 8 bytes, big-endian, of
 * SHA-256("fwtrust-stage/v1\n" campaign "\n" device). */
uint64_t fw_rollout_stage_hash(const char *campaign, const char *device);

/* ---- the simulator (simulate.c) ---- */

/*
 * A campaign run on simulated devices through this engine
 * (fw_rollout_start/report/tick/resume/abort), on a scratch store, so that
 * the real store and its evidence log are only read. The scratch store
 * gets copies of what the engine needs: the release and rollback release
 * with their signing keys, the campaign document (approvals a stage lacks
 * are added and marked "simulated"), a synthetic operator "simulator"
 * with the role operator, and N devices cloned from the first device of
 * the real registry that is eligible for the campaign (ids sim-0000001,
 * ..., sharing a copy of its certificate row).
 *
 * The clock is simulated, starting now. While the campaign runs, every
 * eligible device of a started stage and every failed one whose retry is
 * due is delivered, in waves of up to a batch (one transaction of
 * delivered reports each) FW_SIM_INSTALL_S apart; FW_SIM_INSTALL_S after
 * its delivery a wave reports its outcomes, drawn in seeded random order
 * and applied in transactions of their own: an attempt fails with
 * probability fail_rate percent, FW_SIM_SILENT_PERMILLE of the failures
 * never report (the device times out at its deadline, through
 * fw_rollout_tick), and integrity_failures devices picked at random
 * refuse the image at their first attempt; the others report the
 * release's version installed. A pause stops the deliveries. With nothing
 * left to deliver the clock moves to the next deadline, retry or end of
 * soak and the engine ticks (timeouts, pause conditions, the next stage).
 * A paused campaign is looked at by the simulated operator FW_SIM_LOOK_S
 * later and resumed (after FW_SIM_MAX_RESUMES resumes it is aborted, with
 * rollback when the policy has a rollback release); a campaign that
 * cannot advance any more (its stage's success threshold out of reach) is
 * aborted; after a rollback every device that received the release
 * reports the rollback release running. The run ends when the campaign
 * is completed, aborted or rolled back. docs/simulate.md tells more.
 */
#define FW_SIM_MAX_DEVICES 10000000u
#define FW_SIM_MAX_BATCH 1000000u
#define FW_SIM_BATCH_MIN 10000u  /* the default batch: a tenth of the devices, */
#define FW_SIM_BATCH_MAX 100000u /* within these bounds */
#define FW_SIM_SILENT_PERMILLE 250u /* failures that never report */
#define FW_SIM_INSTALL_S 300u       /* a wave's delivery to its outcomes, and the next wave */
#define FW_SIM_LOOK_S 1800u         /* a pause to the operator's resume */
#define FW_SIM_MAX_RESUMES 3u

/* What the simulation says, line by line (no newline): kind
 * FW_SIM_COURSE lines depend only on the fleet, the campaign and the
 * parameters (the same seed gives the same lines); FW_SIM_INFO lines
 * carry what does not (wall-clock times, the scratch directory). */
enum fw_sim_line { FW_SIM_COURSE = 0, FW_SIM_INFO = 1 };
typedef void (*fw_sim_print_fn)(void *arg, int kind, const char *line);
/* Long steps, for a progress bar: phase names what runs ("fleet", "start",
 * "tick" (a stage's entry), "deliveries", "rollback"); the same pointer for
 * the same phase. */
typedef void (*fw_sim_progress_fn)(void *arg, const char *phase, uint64_t done, uint64_t total);

struct fw_sim_params {
	uint64_t devices;            /* 1..FW_SIM_MAX_DEVICES */
	double fail_rate;            /* percent of attempts that fail, 0..100 */
	uint64_t integrity_failures; /* devices that report an integrity failure, <= devices */
	uint64_t seed;               /* of the random outcomes and their order */
	const char *dir;             /* NULL: a scratch directory under $TMPDIR (or /tmp),
	                                removed afterwards; else this directory (created
	                                when absent; it must not hold a simulation already)
	                                holds the scratch store (sim.db) and is kept, also
	                                when the simulation fails */
	size_t batch;                /* reports per transaction, 1..FW_SIM_MAX_BATCH; 0: a
	                                tenth of the devices, FW_SIM_BATCH_MIN..MAX */
	fw_sim_progress_fn progress; /* may be NULL */
	void *parg;
};

struct fw_sim_summary {
	char state[32];               /* the campaign's final state */
	uint64_t devices;
	uint64_t counts[FW_U_COUNT];  /* devices per update state at the end */
	uint64_t reports;             /* reports given to fw_rollout_report */
	uint64_t transitions;         /* rollout.device records (device transitions) */
	uint64_t records;             /* every evidence record of the run */
	uint64_t stages_entered, pauses, resumes, retries, timeouts, quarantined,
	    integrity_failures, simulated_approvals;
	int rolled_back, aborted;
	int64_t sim_ms;               /* simulated time from start to the end */
	double fleet_s, engine_s;     /* wall clock: scratch store and fleet; the engine */
	double start_s, delivered_s, outcomes_s, ticks_s; /* of engine_s: fw_rollout_start,
	                                 reports of delivery, of outcomes (and of rollback),
	                                 fw_rollout_tick (stage entries, timeouts) */
};

/*
 * Simulate campaign id of the real store (read only: nothing is written
 * to it). print (may be NULL) gets the course as it happens: the stage
 * sizes at the start, each stage entered (simulated time), each pause
 * and why (the numbers), resumes, retries, timeouts, rollback and
 * quarantined devices, the final state and counts, then wall time and
 * engine reports per second. *sum is written on success. Whatever the
 * campaign's end (completed, aborted, rolled back), the simulation ran:
 * FW_OK. Errors: FW_E_ARG (a parameter out of range, d names it; real,
 * id or p NULL); FW_E_NOT_FOUND (no such campaign, or no device of the
 * registry is eligible for it to clone); FW_E_EXISTS (dir holds a
 * simulation already); FW_E_IO (the scratch directory); FW_E_NOMEM;
 * errors of the store and the engine on the scratch store, the message
 * prefixed with the simulated time ("simulation at +3600s: start: ...").
 */
FW_NODISCARD int fw_rollout_simulate(struct fw_store *real, const char *id,
                                     const struct fw_sim_params *p, fw_sim_print_fn print,
                                     void *parg, struct fw_sim_summary *sum, struct fw_diag *d);

#endif
