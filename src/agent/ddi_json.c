/*
 * hawkBit DDI bodies: the replies the agent reads (untrusted: bounded,
 * parsed with jansson, each field type-checked, the refusal names the
 * field) and the requests it sends.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent.h"

static json_t *load_body(const char *what, const char *body, size_t len, struct fw_diag *d,
                         int *rc)
{
	json_error_t je;
	json_t *root;

	if (len > AGENT_MAX_JSON) {
		*rc = fw_diag_set(d, FW_E_TOO_LARGE, "%s: body larger than %d bytes", what,
		                  AGENT_MAX_JSON);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		*rc = fw_diag_set(d, FW_E_FORMAT, "%s: not JSON: %s (byte %d)", what, je.text,
		                  je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*rc = fw_diag_set(d, FW_E_FORMAT, "%s: not a JSON object", what);
		return NULL;
	}
	*rc = FW_OK;
	return root;
}

/* A member that must be an object; NULL with d set otherwise. */
static json_t *get_obj(json_t *o, const char *key, const char *path, int required,
                       struct fw_diag *d, int *rc)
{
	json_t *v = json_object_get(o, key);

	*rc = FW_OK;
	if (v == NULL) {
		if (required)
			*rc = fw_diag_set(d, FW_E_FORMAT, "%s%s: missing", path, key);
		return NULL;
	}
	if (!json_is_object(v)) {
		*rc = fw_diag_set(d, FW_E_FORMAT, "%s%s: not an object", path, key);
		return NULL;
	}
	return v;
}

/* A string member of 1..cap-1 bytes of text (no NUL, valid UTF-8, no
 * control characters). Absent and not required: out = "" and FW_OK. */
static int get_str(json_t *o, const char *key, const char *path, int required, char *out,
                   size_t cap, struct fw_diag *d)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (v == NULL) {
		if (required)
			return fw_diag_set(d, FW_E_FORMAT, "%s%s: missing", path, key);
		out[0] = '\0';
		return FW_OK;
	}
	if (!json_is_string(v))
		return fw_diag_set(d, FW_E_FORMAT, "%s%s: not a string", path, key);
	n = json_string_length(v);
	if (n == 0 || n >= cap)
		return fw_diag_set(d, FW_E_FORMAT, "%s%s: length %zu, 1..%zu allowed", path, key, n,
		                   cap - 1);
	if (strlen(json_string_value(v)) != n || !fw_text_valid(json_string_value(v)))
		return fw_diag_set(d, FW_E_FORMAT, "%s%s: not printable UTF-8 text", path, key);
	memcpy(out, json_string_value(v), n + 1);
	return FW_OK;
}

int agent_href_valid(const char *url)
{
	size_t i, n = strlen(url);

	if (n > AGENT_MAX_HREF)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return 0;
	/* only HTTP: a server must not make the agent read file:// or the like */
	return (strncmp(url, "http://", 7) == 0 && n > 7) || (strncmp(url, "https://", 8) == 0 && n > 8);
}

/* _links.<rel>.href when present: out = "" when the link is absent. */
static int get_link(json_t *links, const char *rel, const char *path, char *out,
                    struct fw_diag *d)
{
	char p[200];
	json_t *l;
	int rc;

	out[0] = '\0';
	if (links == NULL)
		return FW_OK;
	snprintf(p, sizeof(p), "%s%s.", path, rel);
	l = get_obj(links, rel, path, 0, d, &rc);
	if (l == NULL)
		return rc;
	rc = get_str(l, "href", p, 1, out, AGENT_MAX_HREF + 1, d);
	if (rc == FW_OK && !agent_href_valid(out)) {
		out[0] = '\0';
		return fw_diag_set(d, FW_E_FORMAT, "%shref: not an http(s) URL", p);
	}
	return rc;
}

int agent_poll_parse(const char *body, size_t len, struct agent_poll *out, struct fw_diag *d)
{
	struct agent_poll p;
	json_t *root, *cfg, *pol, *links;
	char sleep[16];
	int rc;

	root = load_body("poll", body, len, d, &rc);
	if (root == NULL)
		return rc;
	memset(&p, 0, sizeof(p));
	cfg = get_obj(root, "config", "poll: ", 1, d, &rc);
	pol = cfg ? get_obj(cfg, "polling", "poll: config.", 1, d, &rc) : NULL;
	if (pol != NULL)
		rc = get_str(pol, "sleep", "poll: config.polling.", 1, sleep, sizeof(sleep), d);
	if (rc == FW_OK)
		rc = agent_sleep_parse(sleep, &p.sleep_s, d);
	links = rc == FW_OK ? get_obj(root, "_links", "poll: ", 0, d, &rc) : NULL;
	if (rc == FW_OK)
		rc = get_link(links, "deploymentBase", "poll: _links.", p.deployment, d);
	if (rc == FW_OK)
		rc = get_link(links, "cancelAction", "poll: _links.", p.cancel, d);
	if (rc == FW_OK && links != NULL && json_object_get(links, "configData") != NULL) {
		char href[AGENT_MAX_HREF + 1];

		/* the URL is built by the client (as SWUpdate does); the link
		 * is only a flag, but a malformed one is still refused */
		rc = get_link(links, "configData", "poll: _links.", href, d);
		p.config_data = 1;
	}
	json_decref(root);
	if (rc == FW_OK)
		*out = p;
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int parse_artifact(json_t *a, size_t idx, struct agent_artifact *out, struct fw_diag *d)
{
	char path[64], lp[160], hex[65];
	json_t *v, *links, *hashes;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "deployment.chunks[0].artifacts[%zu].", idx);
	if (!json_is_object(a))
		return fw_diag_set(d, FW_E_FORMAT, "deploymentBase: %.*s: not an object",
		                   (int)strlen(path) - 1, path);
	snprintf(lp, sizeof(lp), "deploymentBase: %s", path);
	rc = get_str(a, "filename", lp, 1, out->filename, sizeof(out->filename), d);
	if (rc != FW_OK)
		return rc;
	if (strchr(out->filename, '/') != NULL)
		return fw_diag_set(d, FW_E_FORMAT, "%sfilename: contains '/'", lp);
	v = json_object_get(a, "size");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return fw_diag_set(d, FW_E_FORMAT, "%ssize: not a non-negative integer", lp);
	out->size = v ? (uint64_t)json_integer_value(v) : 0;
	hashes = get_obj(a, "hashes", lp, 0, d, &rc);
	if (rc != FW_OK)
		return rc;
	if (hashes != NULL && json_object_get(hashes, "sha256") != NULL) {
		snprintf(lp, sizeof(lp), "deploymentBase: %shashes.", path);
		rc = get_str(hashes, "sha256", lp, 1, hex, sizeof(hex), d);
		if (rc == FW_OK && (strlen(hex) != 64 || fw_hex_decode(hex, out->sha256, 32) != FW_OK))
			rc = fw_diag_set(d, FW_E_FORMAT, "%ssha256: not 64 hex digits", lp);
		if (rc != FW_OK)
			return rc;
		out->has_sha256 = 1;
	}
	snprintf(lp, sizeof(lp), "deploymentBase: %s", path);
	links = get_obj(a, "_links", lp, 1, d, &rc);
	if (links == NULL)
		return rc;
	snprintf(lp, sizeof(lp), "deploymentBase: %s_links.", path);
	/* "download" is the HTTPS link when the server has one */
	rc = get_link(links, "download", lp, out->href, d);
	if (rc == FW_OK && out->href[0] == '\0')
		rc = get_link(links, "download-http", lp, out->href, d);
	if (rc == FW_OK && out->href[0] == '\0')
		rc = fw_diag_set(d, FW_E_FORMAT, "%sdownload-http: missing", lp);
	return rc;
}

static int check_mode(json_t *dep, const char *key, int *skip, struct fw_diag *d)
{
	char v[16];
	int rc = get_str(dep, key, "deploymentBase: deployment.", 0, v, sizeof(v), d);

	if (rc != FW_OK)
		return rc;
	if (v[0] && strcmp(v, "forced") != 0 && strcmp(v, "attempt") != 0 && strcmp(v, "skip") != 0)
		return fw_diag_set(d, FW_E_FORMAT,
		                   "deploymentBase: deployment.%s: \"%s\" is not forced, attempt or skip",
		                   key, v);
	if (skip != NULL)
		*skip = strcmp(v, "skip") == 0;
	return FW_OK;
}

int agent_deployment_parse(const char *body, size_t len, struct agent_deployment *out,
                           struct fw_diag *d)
{
	struct agent_deployment dp;
	json_t *root, *dep, *chunks, *chunk, *arts;
	size_t i, nsuit = 0, nimg = 0;
	char part[AGENT_MAX_NAME + 1];
	int rc;

	root = load_body("deploymentBase", body, len, d, &rc);
	if (root == NULL)
		return rc;
	memset(&dp, 0, sizeof(dp));
	rc = get_str(root, "id", "deploymentBase: ", 1, dp.action_id, sizeof(dp.action_id), d);
	if (rc == FW_OK && !agent_action_id_valid(dp.action_id))
		rc = fw_diag_set(d, FW_E_FORMAT, "deploymentBase: id: not 1..%d of [A-Za-z0-9_-]",
		                 AGENT_MAX_ACTION_ID);
	if (rc != FW_OK)
		goto out;
	memcpy(out->action_id, dp.action_id, sizeof(dp.action_id));
	dep = get_obj(root, "deployment", "deploymentBase: ", 1, d, &rc);
	if (dep == NULL)
		goto out;
	if ((rc = check_mode(dep, "download", NULL, d)) != FW_OK ||
	    (rc = check_mode(dep, "update", &dp.update_skip, d)) != FW_OK)
		goto out;
	chunks = json_object_get(dep, "chunks");
	if (chunks == NULL || !json_is_array(chunks)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "deploymentBase: deployment.chunks: %s",
		                 chunks ? "not an array" : "missing");
		goto out;
	}
	/* one chunk: one firmware image for one component (what fwtrust
	 * serves; a multi-part update would need one envelope per part) */
	if (json_array_size(chunks) != 1) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "deploymentBase: deployment.chunks: %zu chunks, exactly 1 supported",
		                 json_array_size(chunks));
		goto out;
	}
	chunk = json_array_get(chunks, 0);
	if (!json_is_object(chunk)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "deploymentBase: deployment.chunks[0]: not an object");
		goto out;
	}
	if ((rc = get_str(chunk, "version", "deploymentBase: deployment.chunks[0].", 1, dp.version,
	                  sizeof(dp.version), d)) != FW_OK ||
	    (rc = get_str(chunk, "name", "deploymentBase: deployment.chunks[0].", 0, dp.name,
	                  sizeof(dp.name), d)) != FW_OK ||
	    (rc = get_str(chunk, "part", "deploymentBase: deployment.chunks[0].", 0, part,
	                  sizeof(part), d)) != FW_OK)
		goto out;
	arts = json_object_get(chunk, "artifacts");
	if (arts == NULL || !json_is_array(arts)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "deploymentBase: deployment.chunks[0].artifacts: %s",
		                 arts ? "not an array" : "missing");
		goto out;
	}
	if (json_array_size(arts) > 16) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "deploymentBase: deployment.chunks[0].artifacts: more than 16");
		goto out;
	}
	for (i = 0; i < json_array_size(arts); i++) {
		struct agent_artifact a;

		rc = parse_artifact(json_array_get(arts, i), i, &a, d);
		if (rc != FW_OK)
			goto out;
		if (ends_with(a.filename, ".suit")) {
			dp.envelope = a;
			nsuit++;
		} else {
			dp.image = a;
			nimg++;
		}
	}
	if (nsuit != 1 || nimg != 1) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "deploymentBase: deployment.chunks[0].artifacts: %zu *.suit and %zu "
		                 "other, exactly one of each needed",
		                 nsuit, nimg);
		goto out;
	}
	*out = dp;
out:
	json_decref(root);
	return rc;
}

int agent_cancel_parse(const char *body, size_t len, char id[AGENT_MAX_ACTION_ID + 1],
                       char stop_id[AGENT_MAX_ACTION_ID + 1], struct fw_diag *d)
{
	char a[AGENT_MAX_ACTION_ID + 1], s[AGENT_MAX_ACTION_ID + 1];
	json_t *root, *ca;
	int rc;

	root = load_body("cancelAction", body, len, d, &rc);
	if (root == NULL)
		return rc;
	rc = get_str(root, "id", "cancelAction: ", 1, a, sizeof(a), d);
	if (rc == FW_OK && !agent_action_id_valid(a))
		rc = fw_diag_set(d, FW_E_FORMAT, "cancelAction: id: not an action id");
	ca = rc == FW_OK ? get_obj(root, "cancelAction", "cancelAction: ", 1, d, &rc) : NULL;
	if (ca != NULL)
		rc = get_str(ca, "stopId", "cancelAction: cancelAction.", 1, s, sizeof(s), d);
	if (rc == FW_OK && !agent_action_id_valid(s))
		rc = fw_diag_set(d, FW_E_FORMAT, "cancelAction: cancelAction.stopId: not an action id");
	json_decref(root);
	if (rc == FW_OK) {
		memcpy(id, a, sizeof(a));
		memcpy(stop_id, s, sizeof(s));
	}
	return rc;
}

void agent_error_code(const char *body, size_t len, char *out, size_t cap)
{
	json_t *root, *v;
	const char *s;
	size_t i, n = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (body == NULL || len == 0 || len > AGENT_MAX_JSON)
		return;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	v = json_is_object(root) ? json_object_get(root, "errorCode") : NULL;
	if (json_is_string(v)) {
		/* untrusted text into a log line: printable ASCII only */
		for (s = json_string_value(v), i = 0; s[i] && n + 1 < cap && n < 80; i++)
			if (s[i] > 0x20 && s[i] < 0x7f)
				out[n++] = s[i];
		out[n] = '\0';
	}
	json_decref(root);
}

char *agent_feedback_body(const char *action_id, const char *execution, const char *finished,
                          const char *const *details, size_t ndetails)
{
	json_t *det = json_array(), *o;
	char *s;
	size_t i;

	if (det == NULL)
		return NULL;
	for (i = 0; i < ndetails; i++) {
		if (json_array_append_new(det, json_string(details[i])) != 0) {
			json_decref(det);
			return NULL;
		}
	}
	o = json_pack("{ss s{ss s{ss} so}}", "id", action_id, "status", "execution", execution,
	              "result", "finished", finished, "details", det);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *agent_config_body(const char *version, uint64_t sequence)
{
	char seq[24];
	json_t *o;
	char *s;

	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)sequence);
	o = json_pack("{ss s{ss ss ss}}", "mode", "merge", "data", "agent", "fwtrust-agent",
	              "fw_version", version, "sequence", seq);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int agent_feedback_url(const char *href, char *out, size_t cap)
{
	size_t n = strcspn(href, "?#");

	while (n > 0 && href[n - 1] == '/')
		n--;
	if (n + sizeof("/feedback") > cap)
		return FW_E_TOO_LARGE;
	memcpy(out, href, n);
	memcpy(out + n, "/feedback", sizeof("/feedback"));
	return FW_OK;
}
