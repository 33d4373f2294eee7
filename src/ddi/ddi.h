/*
 * ddi: the hawkBit Direct Device Integration API (docs/ddi.md), what
 * SWUpdate's suricatta, RAUC's hawkBit updater, Zephyr's hawkBit client and
 * fwtrust-agent speak, on top of the rollout engine. Under
 * /{tenant}/controller/v1/{controllerId}: the root poll, configData,
 * deploymentBase/{actionId} and its feedback, cancelAction/{actionId} and
 * its feedback, installedBase/{actionId}, and artifact downloads. A
 * device's action is its current campaign delivery (fw_rollout_action);
 * feedback becomes engine reports. This header is the module's only door.
 */
#ifndef FW_DDI_H
#define FW_DDI_H

#include <stdint.h>

#include "core/core.h"
#include "http/http.h"

#define FW_DDI_TENANT_DEFAULT "DEFAULT"
#define FW_DDI_POLL_DEFAULT_S 300u     /* config.polling.sleep: 00:05:00 */
#define FW_DDI_AUTH_FAIL_LIMIT 20u     /* failed authentications per address per minute */
#define FW_DDI_MAX_DETAILS 1000        /* bytes of feedback details kept per report */
#define FW_DDI_CACHE_MIB 64u           /* page cache of each worker's store connection */

struct fw_ddi_config {
	const char *db;            /* the store: every worker thread opens its own connection */
	const char *tenant;        /* NULL: FW_DDI_TENANT_DEFAULT */
	unsigned poll_s;           /* 1..86399 (SWUpdate cannot read a day or more); 0: default */
	const char *public_url;    /* prefix of the links ("https://updates.example.com"); NULL:
	                              "http://" and the request's Host header */
	const char *gateway_token; /* NULL: none; else it authenticates for any enrolled device */
	unsigned auth_fail_limit;  /* 0: FW_DDI_AUTH_FAIL_LIMIT */
};

struct fw_ddi_stats {
	uint64_t polls, deployments, feedback, config, downloads, cancels;
	uint64_t auth_failures, rate_limited, errors;
};

struct fw_ddi;
/* FW_E_ARG for a bad config (d names the field); FW_E_NOMEM. The store is
 * opened on first use by each thread. */
FW_NODISCARD int fw_ddi_new(const struct fw_ddi_config *c, struct fw_ddi **out,
                            struct fw_diag *d);
/* The fw_http_handler: arg is the struct fw_ddi. Thread-safe. */
void fw_ddi_handle(void *arg, const struct fw_http_req *rq, struct fw_http_resp *rs);
void fw_ddi_stats(const struct fw_ddi *g, struct fw_ddi_stats *out);
/* After the HTTP server stopped: closes every thread's store. */
void fw_ddi_free(struct fw_ddi *g);

/* "HH:MM:SS" of s seconds (s < 86400), as config.polling.sleep. */
void fw_ddi_sleep_format(unsigned s, char out[9]);

/*
 * A feedback body (untrusted) as fwtrust reads it: status.execution and
 * status.result.finished (required), status.details (optional array of
 * strings, joined with "; ", control characters and invalid UTF-8
 * replaced, cut at FW_DDI_MAX_DETAILS bytes; an integrity refusal anywhere
 * in them sets integrity, and is kept first when the cut would lose it).
 * Bodies that are not valid JSON only because of unescaped quotes or
 * backslashes inside details (as SWUpdate 2022.12 sends them) are read
 * leniently: the execution and finished values are found by key.
 * FW_E_FORMAT with the reason (JSON line and column, or the missing/unknown
 * field) otherwise.
 */
enum fw_ddi_exec {
	FW_DDI_CLOSED = 1, FW_DDI_PROCEEDING, FW_DDI_CANCELED, FW_DDI_SCHEDULED, FW_DDI_REJECTED,
	FW_DDI_RESUMED, FW_DDI_DOWNLOADED, FW_DDI_DOWNLOAD
};
enum fw_ddi_finished { FW_DDI_SUCCESS = 1, FW_DDI_FAILURE, FW_DDI_NONE };
struct fw_ddi_feedback {
	int execution;  /* enum fw_ddi_exec */
	int finished;   /* enum fw_ddi_finished */
	int lenient;    /* read by key: the body was not valid JSON */
	int integrity;  /* a detail tells of an integrity refusal (as
	                   fw_ddi_integrity_failure), judged before the cut */
	char details[FW_DDI_MAX_DETAILS + 1];
};
FW_NODISCARD int fw_ddi_feedback_parse(const uint8_t *body, size_t len,
                                       struct fw_ddi_feedback *f, struct fw_diag *d);
/* 1 when details tell of an integrity failure: "integrity:" (fwtrust-agent)
 * or SWUpdate's signature and hash refusals (docs/ddi.md lists them). */
int fw_ddi_integrity_failure(const char *details);

#endif
