/*
 * The agent's files (state.json, download.json), the tokens file of fleet
 * mode, names and the polling sleep. No network here: tests/agent tests it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/agent.h"

/* ---- files ---- */

/* Read at most max bytes of path into buf (NUL-ended). FW_E_NOT_FOUND when
 * it does not exist. */
static int read_small(const char *path, char *buf, size_t max, size_t *len, struct fw_diag *d)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return fw_diag_set(d, FW_E_NOT_FOUND, "%s: does not exist", path);
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		/* one byte more than max tells "too large" from "exactly max" */
		n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			close(fd);
			return fw_diag_set(d, FW_E_TOO_LARGE, "%s: larger than %zu bytes", path, max);
		}
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return FW_OK;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -1;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int agent_file_replace(const char *path, const void *data, size_t len, struct fw_diag *d)
{
	char tmp[PATH_MAX];
	const uint8_t *p = data;
	size_t off = 0;
	ssize_t n;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return fw_diag_set(d, FW_E_IO, "%s: path too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: cannot create a temporary file: %s", path,
		                   strerror(errno));
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	/* the rename is durable only once the directory is */
	if (fsync_dir_of(path) != 0)
		return fw_diag_set(d, FW_E_IO, "%s: fsync of its directory: %s", path, strerror(errno));
	return FW_OK;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return fw_diag_set(d, FW_E_IO, "%s: %s", path, e ? strerror(e) : "short write");
}

/* An object with exactly the members named in keys (NULL-ended). */
static int only_members(const json_t *o, const char *const *keys, const char *path,
                        struct fw_diag *d)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return fw_diag_set(d, FW_E_FORMAT, "%s: unknown member \"%.40s\"", path, k);
	}
	return FW_OK;
}

static json_t *load_json_file(const char *path, struct fw_diag *d, int *rc)
{
	char buf[AGENT_MAX_STATE_FILE + 1];
	json_error_t je;
	json_t *root;
	size_t len = 0;

	*rc = read_small(path, buf, AGENT_MAX_STATE_FILE, &len, d);
	if (*rc != FW_OK)
		return NULL;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		*rc = fw_diag_set(d, FW_E_FORMAT, "%s: not JSON: %s (line %d)", path, je.text, je.line);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*rc = fw_diag_set(d, FW_E_FORMAT, "%s: not a JSON object", path);
		return NULL;
	}
	*rc = FW_OK;
	return root;
}

/* A non-negative JSON integer (jansson's json_int_t is long long). */
static int get_u63(const json_t *o, const char *key, const char *path, uint64_t *out,
                   struct fw_diag *d)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "%s: %s: missing", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fw_diag_set(d, FW_E_FORMAT, "%s: %s: not a non-negative integer", path, key);
	*out = (uint64_t)json_integer_value(v);
	return FW_OK;
}

static int get_text(const json_t *o, const char *key, const char *path, char *out, size_t cap,
                    struct fw_diag *d)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (v == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "%s: %s: missing", path, key);
	if (!json_is_string(v))
		return fw_diag_set(d, FW_E_FORMAT, "%s: %s: not a string", path, key);
	n = json_string_length(v);
	if (n == 0 || n >= cap || strlen(json_string_value(v)) != n ||
	    !fw_text_valid(json_string_value(v)))
		return fw_diag_set(d, FW_E_FORMAT, "%s: %s: not text of 1..%zu bytes", path, key,
		                   cap - 1);
	memcpy(out, json_string_value(v), n + 1);
	return FW_OK;
}

int agent_state_load(const char *path, struct agent_state *out, struct fw_diag *d)
{
	static const char *const keys[] = {"version", "sequence", NULL};
	struct agent_state st;
	json_t *root;
	int rc;

	root = load_json_file(path, d, &rc);
	if (root == NULL)
		return rc;
	memset(&st, 0, sizeof(st));
	rc = only_members(root, keys, path, d);
	if (rc == FW_OK)
		rc = get_text(root, "version", path, st.version, sizeof(st.version), d);
	if (rc == FW_OK)
		rc = get_u63(root, "sequence", path, &st.sequence, d);
	json_decref(root);
	if (rc == FW_OK)
		*out = st;
	return rc;
}

static int save_json(const char *path, json_t *o, struct fw_diag *d)
{
	char *text;
	int rc;

	if (o == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", path);
	text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", path);
	rc = agent_file_replace(path, text, strlen(text), d);
	free(text);
	return rc;
}

int agent_state_save(const char *path, const struct agent_state *st, struct fw_diag *d)
{
	if (st->sequence > (uint64_t)INT64_MAX || !fw_text_valid(st->version) || !st->version[0])
		return fw_diag_set(d, FW_E_ARG, "%s: state out of range", path);
	return save_json(path,
	                 json_pack("{ss sI}", "version", st->version, "sequence",
	                           (json_int_t)st->sequence),
	                 d);
}

int agent_partial_load(const char *path, struct agent_partial *out, struct fw_diag *d)
{
	static const char *const keys[] = {"action", "image_sha256", "image_size", NULL};
	struct agent_partial p;
	char hex[65];
	json_t *root;
	int rc;

	root = load_json_file(path, d, &rc);
	if (root == NULL)
		return rc;
	memset(&p, 0, sizeof(p));
	rc = only_members(root, keys, path, d);
	if (rc == FW_OK)
		rc = get_text(root, "action", path, p.action_id, sizeof(p.action_id), d);
	if (rc == FW_OK && !agent_action_id_valid(p.action_id))
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: action: not an action id", path);
	if (rc == FW_OK)
		rc = get_text(root, "image_sha256", path, hex, sizeof(hex), d);
	if (rc == FW_OK && (strlen(hex) != 64 || fw_hex_decode(hex, p.image_sha256, 32) != FW_OK))
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: image_sha256: not 64 hex digits", path);
	if (rc == FW_OK)
		rc = get_u63(root, "image_size", path, &p.image_size, d);
	json_decref(root);
	if (rc == FW_OK)
		*out = p;
	return rc;
}

int agent_partial_save(const char *path, const struct agent_partial *p, struct fw_diag *d)
{
	char hex[65];

	if (p->image_size > (uint64_t)INT64_MAX || !agent_action_id_valid(p->action_id))
		return fw_diag_set(d, FW_E_ARG, "%s: out of range", path);
	fw_hex_encode(p->image_sha256, 32, hex);
	return save_json(path,
	                 json_pack("{ss ss sI}", "action", p->action_id, "image_sha256", hex,
	                           "image_size", (json_int_t)p->image_size),
	                 d);
}

/* ---- names ---- */

static int all_in(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL)))
			return 0;
	}
	return n > 0;
}

int agent_device_id_valid(const char *s)
{
	return s != NULL && s[0] != '.' && all_in(s, AGENT_MAX_DEVICE_ID, "._:@-");
}

int agent_tenant_valid(const char *s)
{
	return s != NULL && s[0] != '.' && all_in(s, 64, "._-");
}

int agent_action_id_valid(const char *s)
{
	return s != NULL && all_in(s, AGENT_MAX_ACTION_ID, "_-");
}

int agent_token_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	/* printable ASCII without space: no header injection (CR, LF) */
	for (n = 0; s[n] != '\0'; n++)
		if (n >= AGENT_MAX_TOKEN || (unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n > 0;
}

/* ---- tokens file ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Open addressing over the ids seen so far (a fleet has up to
 * AGENT_MAX_FLEET devices: a quadratic duplicate check would be slow). */
static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

int agent_tokens_parse(const char *text, size_t len, size_t want, struct agent_token **out,
                       struct fw_diag *d)
{
	struct agent_token *v = NULL;
	size_t *slots = NULL, nslots, n = 0, pos = 0, line = 0;
	int rc = FW_OK;

	if (len > AGENT_MAX_TOKENS_FILE)
		return fw_diag_set(d, FW_E_TOO_LARGE, "tokens file: larger than %d bytes",
		                   AGENT_MAX_TOKENS_FILE);
	if (want == 0 || want > AGENT_MAX_FLEET)
		return fw_diag_set(d, FW_E_TOO_LARGE, "tokens file: %zu devices asked, 1..%d allowed",
		                   want, AGENT_MAX_FLEET);
	if (memchr(text, '\0', len) != NULL)
		return fw_diag_set(d, FW_E_FORMAT, "tokens file: contains a NUL byte");
	v = calloc(want, sizeof(*v));
	nslots = 2 * want + 1;
	slots = calloc(nslots, sizeof(*slots)); /* index + 1; 0 = empty */
	if (v == NULL || slots == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "tokens file: out of memory");
		goto out;
	}
	while (pos < len && n < want) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos, i = 0, f0, f0n, f1, f1n;
		uint64_t h;

		pos += ll + (nl ? 1 : 0);
		line++;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		while (i < ll && is_blank(l[i]))
			i++;
		if (i == ll || l[i] == '#')
			continue;
		f0 = i;
		while (i < ll && !is_blank(l[i]))
			i++;
		f0n = i - f0;
		while (i < ll && is_blank(l[i]))
			i++;
		f1 = i;
		while (i < ll && !is_blank(l[i]))
			i++;
		f1n = i - f1;
		while (i < ll && is_blank(l[i]))
			i++;
		if (f1n == 0 || i != ll) {
			rc = fw_diag_set(d, FW_E_FORMAT,
			                 "tokens file line %zu: expected \"<device-id> <token>\"", line);
			goto out;
		}
		if (f0n > AGENT_MAX_DEVICE_ID || f1n > AGENT_MAX_TOKEN) {
			rc = fw_diag_set(d, FW_E_FORMAT, "tokens file line %zu: %s longer than %d bytes",
			                 line, f0n > AGENT_MAX_DEVICE_ID ? "device id" : "token",
			                 f0n > AGENT_MAX_DEVICE_ID ? AGENT_MAX_DEVICE_ID : AGENT_MAX_TOKEN);
			goto out;
		}
		memcpy(v[n].id, l + f0, f0n);
		v[n].id[f0n] = '\0';
		memcpy(v[n].token, l + f1, f1n);
		v[n].token[f1n] = '\0';
		if (!agent_device_id_valid(v[n].id)) {
			rc = fw_diag_set(d, FW_E_FORMAT,
			                 "tokens file line %zu: device id: not 1..%d of [A-Za-z0-9._:@-] "
			                 "(not starting with '.')",
			                 line, AGENT_MAX_DEVICE_ID);
			goto out;
		}
		if (!agent_token_valid(v[n].token)) {
			rc = fw_diag_set(d, FW_E_FORMAT, "tokens file line %zu: token: not printable ASCII",
			                 line);
			goto out;
		}
		for (h = hash_id(v[n].id) % nslots; slots[h] != 0; h = (h + 1) % nslots) {
			if (strcmp(v[slots[h] - 1].id, v[n].id) == 0) {
				rc = fw_diag_set(d, FW_E_FORMAT, "tokens file line %zu: device id %s given twice",
				                 line, v[n].id);
				goto out;
			}
		}
		slots[h] = n + 1;
		n++;
	}
	if (n < want) {
		rc = fw_diag_set(d, FW_E_FORMAT, "tokens file: %zu devices, %zu wanted", n, want);
		goto out;
	}
	*out = v;
	v = NULL;
out:
	if (v != NULL) {
		fw_wipe(v, want * sizeof(*v));
		free(v);
	}
	free(slots);
	return rc;
}

/* ---- polling sleep ---- */

static int two_digits(const char *s, unsigned *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return 0;
	*v = (unsigned)(s[0] - '0') * 10u + (unsigned)(s[1] - '0');
	return 1;
}

int agent_sleep_parse(const char *s, unsigned *seconds, struct fw_diag *d)
{
	unsigned h, m, sec;

	if (s == NULL || strlen(s) != 8 || s[2] != ':' || s[5] != ':' || !two_digits(s, &h) ||
	    !two_digits(s + 3, &m) || !two_digits(s + 6, &sec))
		return fw_diag_set(d, FW_E_FORMAT, "config.polling.sleep: \"%.20s\" is not HH:MM:SS",
		                   s ? s : "");
	if (h > 23 || m > 59 || sec > 59)
		return fw_diag_set(d, FW_E_FORMAT, "config.polling.sleep: \"%s\" out of range", s);
	*seconds = h * 3600u + m * 60u + sec;
	return FW_OK;
}
