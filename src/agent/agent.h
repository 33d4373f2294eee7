/*
 * agent: the pure parts of fwtrust-agent (no network, no threads), private
 * to src/agent/ and tests/agent/: the state files, the tokens file of fleet
 * mode, and the hawkBit DDI replies (parsers) and requests (builders).
 *
 * Every reply body and every file read here is untrusted: bounded before it
 * is parsed, parsed with jansson (duplicate keys refused), and refused with
 * FW_E_FORMAT and one line in d that names the field at fault. Out-params
 * are written only on success, except where a function says otherwise.
 */
#ifndef FW_AGENT_H
#define FW_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Named caps. */
#define AGENT_MAX_JSON (64 * 1024)          /* one DDI reply body */
#define AGENT_MAX_HREF 2048                 /* one URL from a reply */
#define AGENT_MAX_ACTION_ID 64              /* an action id ("8") */
#define AGENT_MAX_DEVICE_ID 128             /* a controller id */
#define AGENT_MAX_TOKEN 256                 /* a target token */
#define AGENT_MAX_VERSION FW_SEMVER_MAX     /* a firmware version string */
#define AGENT_MAX_NAME 128                  /* a chunk's name (display only) */
#define AGENT_MAX_FILENAME 255              /* an artifact's file name */
#define AGENT_MAX_STATE_FILE 4096           /* state.json, download.json */
#define AGENT_MAX_TOKENS_FILE (16 * 1024 * 1024) /* the tokens file of --fleet */
#define AGENT_MAX_FLEET 100000              /* agents in one process */

/* ---- state files (state.c) ---- */

/* DIR/state.json: what the device runs now. sequence is the anti-rollback
 * counter libfwv compares envelopes against; it is written only after a
 * verified image was installed. */
struct agent_state {
	char version[AGENT_MAX_VERSION + 1];
	uint64_t sequence;
};

/* Read a state file. FW_E_NOT_FOUND when it does not exist (d says so);
 * FW_E_FORMAT when it is not exactly {"version": text, "sequence": integer
 * 0..2^63-1} (a corrupt counter is never taken as 0); FW_E_TOO_LARGE over
 * AGENT_MAX_STATE_FILE; FW_E_IO. */
FW_NODISCARD int agent_state_load(const char *path, struct agent_state *out, struct fw_diag *d);
/* Write it atomically (agent_file_replace). */
FW_NODISCARD int agent_state_save(const char *path, const struct agent_state *st,
                                  struct fw_diag *d);

/* DIR/download.json: which verified image DIR/download.part is the start of,
 * so an interrupted download resumes only into the same image. */
struct agent_partial {
	char action_id[AGENT_MAX_ACTION_ID + 1];
	uint8_t image_sha256[32];   /* from the verified envelope */
	uint64_t image_size;        /* from the verified envelope */
};
FW_NODISCARD int agent_partial_load(const char *path, struct agent_partial *out,
                                    struct fw_diag *d);
FW_NODISCARD int agent_partial_save(const char *path, const struct agent_partial *p,
                                    struct fw_diag *d);

/* Replace path with data, all or nothing: a temporary file beside it,
 * written and fsync()ed, renamed over path, then the directory fsync()ed.
 * A crash leaves the old file or the new one, never a mix. FW_E_IO. */
FW_NODISCARD int agent_file_replace(const char *path, const void *data, size_t len,
                                    struct fw_diag *d);

/* ---- names, tokens, durations (state.c) ---- */

/* A controller id, also used as a directory name: 1..AGENT_MAX_DEVICE_ID
 * bytes of [A-Za-z0-9._:@-], not starting with '.'. 1 if valid. */
int agent_device_id_valid(const char *s);
/* A tenant: 1..64 bytes of [A-Za-z0-9._-]. */
int agent_tenant_valid(const char *s);
/* A token: 1..AGENT_MAX_TOKEN printable ASCII bytes, no space (it goes
 * into an HTTP header). */
int agent_token_valid(const char *s);
/* An action id (goes into URLs): 1..AGENT_MAX_ACTION_ID bytes of
 * [A-Za-z0-9_-]. */
int agent_action_id_valid(const char *s);

struct agent_token {
	char id[AGENT_MAX_DEVICE_ID + 1];
	char token[AGENT_MAX_TOKEN + 1];
};
/* The tokens file of --fleet: lines "<device-id> <token>" (one or more
 * blanks or tabs between, optional CR before LF); blank lines and lines
 * whose first non-blank byte is '#' are skipped. The first want entries are
 * returned in file order (*out malloc'd, the caller frees it). Refused
 * (FW_E_FORMAT, d names the line): a line without exactly two fields, an
 * invalid id or token, a NUL byte, a device id given twice; fewer than want
 * entries. FW_E_TOO_LARGE over AGENT_MAX_TOKENS_FILE or want over
 * AGENT_MAX_FLEET; FW_E_NOMEM. */
FW_NODISCARD int agent_tokens_parse(const char *text, size_t len, size_t want,
                                    struct agent_token **out, struct fw_diag *d);

/* hawkBit's polling sleep "HH:MM:SS": exactly two digits each, HH 00..23,
 * MM and SS 00..59 (hawkBit writes a day or more as ISO-8601, which a DDI
 * client cannot be expected to parse). FW_E_FORMAT otherwise. */
FW_NODISCARD int agent_sleep_parse(const char *s, unsigned *seconds, struct fw_diag *d);

/* ---- DDI replies (ddi_json.c) ---- */

/* GET {server}/{tenant}/controller/v1/{id} */
struct agent_poll {
	unsigned sleep_s;                        /* config.polling.sleep */
	int config_data;                         /* _links.configData present */
	char deployment[AGENT_MAX_HREF + 1];     /* _links.deploymentBase.href, "" if absent */
	char cancel[AGENT_MAX_HREF + 1];         /* _links.cancelAction.href, "" if absent */
};
/* config.polling.sleep is required; each link, when present, must be an
 * object with an http(s) href of at most AGENT_MAX_HREF bytes. Unknown
 * members are ignored (as hawkBit's own models do). */
FW_NODISCARD int agent_poll_parse(const char *body, size_t len, struct agent_poll *out,
                                  struct fw_diag *d);

struct agent_artifact {
	char filename[AGENT_MAX_FILENAME + 1];
	char href[AGENT_MAX_HREF + 1];  /* _links.download.href, else download-http */
	uint64_t size;                  /* 0 when absent; untrusted (the envelope decides) */
	int has_sha256;
	uint8_t sha256[32];             /* hashes.sha256 when present; untrusted */
};
/* GET {deploymentBase href} */
struct agent_deployment {
	char action_id[AGENT_MAX_ACTION_ID + 1];  /* "id" */
	char version[AGENT_MAX_VERSION + 1];      /* chunks[0].version */
	char name[AGENT_MAX_NAME + 1];            /* chunks[0].name, "" when absent */
	int update_skip;                          /* deployment.update == "skip" */
	struct agent_artifact envelope;           /* the artifact whose name ends ".suit" */
	struct agent_artifact image;              /* the other one */
};
/* Required: id (string, agent_action_id_valid), deployment (object),
 * deployment.chunks (array of exactly one object), its version (text of
 * 1..AGENT_MAX_VERSION bytes) and artifacts (exactly one *.suit and one
 * other), each with filename (1..AGENT_MAX_FILENAME bytes, no '/') and
 * _links.download(-http).href. Optional but type-checked: download/update
 * ("forced"|"attempt"|"skip"), part and name (text), size (integer >= 0),
 * hashes (object; sha256 64 hex digits). Exception to the out-param rule:
 * out->action_id is written as soon as the id is valid, also when a later
 * field is refused, so the caller can report the refusal on that action;
 * the rest of *out only on success. */
FW_NODISCARD int agent_deployment_parse(const char *body, size_t len,
                                        struct agent_deployment *out, struct fw_diag *d);

/* GET {cancelAction href}: {"id": s, "cancelAction": {"stopId": s}}, both
 * valid action ids. */
FW_NODISCARD int agent_cancel_parse(const char *body, size_t len,
                                    char id[AGENT_MAX_ACTION_ID + 1],
                                    char stop_id[AGENT_MAX_ACTION_ID + 1], struct fw_diag *d);

/* The "errorCode" of an error answer ({"errorCode": "fwtrust.ddi.auth.refused",
 * "message": ...}) into out, for the log; "" when there is none. Never
 * fails; out holds at most cap-1 printable ASCII bytes. */
void agent_error_code(const char *body, size_t len, char *out, size_t cap);

/* ---- DDI requests (ddi_json.c) ---- */

/* {"id":action_id,"status":{"execution":..,"result":{"finished":..},
 * "details":[...]}} as a malloc'd NUL-ended string; NULL when out of
 * memory. The details are sent as given (the agent writes them itself). */
char *agent_feedback_body(const char *action_id, const char *execution, const char *finished,
                          const char *const *details, size_t ndetails);
/* {"mode":"merge","data":{"agent":"fwtrust-agent","fw_version":..,"sequence":"<n>"}} */
char *agent_config_body(const char *version, uint64_t sequence);

/* href without its query and fragment, plus "/feedback" (the cancel
 * feedback URL): FW_E_TOO_LARGE when it does not fit in cap. */
FW_NODISCARD int agent_feedback_url(const char *href, char *out, size_t cap);

/* 1 when url is "http://" or "https://" followed by something, at most
 * AGENT_MAX_HREF bytes of printable ASCII without spaces. */
int agent_href_valid(const char *url);

#endif
