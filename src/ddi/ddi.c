/*
 * The hawkBit DDI device API on the rollout engine (ddi.h, docs/ddi.md).
 *
 * Every request: the path is split into tenant, controller id and the
 * rest; the device is authenticated (its target token, or the gateway
 * token) and must be in the registry and active; then the device's
 * action is computed by the engine (fw_rollout_action, read only, with a
 * per-thread campaign cache) and the request is answered from it.
 * Feedback becomes an engine report (one transaction with its evidence).
 * Each worker thread of the HTTP server has its own store connection.
 */
#define _POSIX_C_SOURCE 200809L
#include "ddi/ddi.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"

/* ---- failed authentications, per client address ---- */

#define RL_SLOTS 1024
#define RL_WINDOW_MS 60000
struct rl_slot {
	char peer[48];
	int64_t since;
	uint32_t fails;
};

/* ---- artifacts of a release, with the digests the API advertises ---- */

struct artifact {
	char name[128];
	char path[4096];
	uint64_t size;
	char sha256[65], sha1[41], md5[33];
};
struct release_files {
	char id[65];
	char product[FW_FIELD_MAX];
	struct artifact suit, bin, swu;
	int has_swu;
};

/* ---- per-thread state ---- */

struct tctx {
	struct fw_store *s;
	struct fw_rollout_cache *cache;
	struct tctx *next;
};

struct fw_ddi {
	char db[4096];
	char tenant[65];
	unsigned poll_s;
	char public_url[512];
	int has_gateway;
	uint8_t gateway_sha256[32];
	unsigned auth_fail_limit;
	pthread_key_t key;
	pthread_mutex_t lock; /* threads, rl, rel */
	struct tctx *threads;
	struct rl_slot rl[RL_SLOTS];
	struct release_files **rel; /* never freed while serving: readers keep pointers */
	size_t nrel, caprel;
	/* counters (atomic) */
	uint64_t polls, deployments, feedback, config, downloads, cancels, auth_failures,
	    rate_limited, errors;
};

#define COUNT(g, f) __atomic_add_fetch(&(g)->f, 1, __ATOMIC_RELAXED)

void fw_ddi_sleep_format(unsigned s, char out[9])
{
	if (s > 86399)
		s = 86399;
	snprintf(out, 9, "%02u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
}

static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* A worker thread ends (the server stops): OpenSSL's per-thread state
 * goes with it. Its store and cache are closed by fw_ddi_free. */
static void thread_end(void *t)
{
	(void)t;
	fw_crypto_thread_stop();
}

int fw_ddi_new(const struct fw_ddi_config *c, struct fw_ddi **out, struct fw_diag *d)
{
	struct fw_ddi *g;
	const char *tenant = c->tenant ? c->tenant : FW_DDI_TENANT_DEFAULT;

	*out = NULL;
	if (c->db == NULL || strlen(c->db) >= sizeof(g->db))
		return fw_diag_set(d, FW_E_ARG, "no store path");
	if (!name_ok(tenant, 64))
		return fw_diag_set(d, FW_E_ARG, "tenant '%s': 1-64 of [A-Za-z0-9._-]", tenant);
	if (c->poll_s > 86399)
		return fw_diag_set(d, FW_E_ARG,
		                   "poll interval %u s: at most 86399 (23:59:59); SWUpdate cannot "
		                   "read a day or more",
		                   c->poll_s);
	if (c->public_url) {
		size_t n = strlen(c->public_url);

		if (n >= 512 || (strncmp(c->public_url, "http://", 7) != 0 &&
		                 strncmp(c->public_url, "https://", 8) != 0))
			return fw_diag_set(d, FW_E_ARG,
			                   "public URL '%s': an http:// or https:// URL under 512 bytes",
			                   c->public_url);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)c->public_url[i] <= ' ' || c->public_url[i] == '"' ||
			    c->public_url[i] == '\\' || (unsigned char)c->public_url[i] >= 0x7f)
				return fw_diag_set(d, FW_E_ARG, "public URL: byte %zu is not allowed", i + 1);
	}
	if (c->gateway_token && strlen(c->gateway_token) < 32)
		return fw_diag_set(d, FW_E_ARG, "the gateway token must be at least 32 characters");
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	snprintf(g->db, sizeof(g->db), "%s", c->db);
	snprintf(g->tenant, sizeof(g->tenant), "%s", tenant);
	g->poll_s = c->poll_s ? c->poll_s : FW_DDI_POLL_DEFAULT_S;
	if (c->public_url) {
		snprintf(g->public_url, sizeof(g->public_url), "%s", c->public_url);
		while (g->public_url[0] && g->public_url[strlen(g->public_url) - 1] == '/')
			g->public_url[strlen(g->public_url) - 1] = 0;
	}
	if (c->gateway_token) {
		g->has_gateway = 1;
		fw_sha256((const uint8_t *)c->gateway_token, strlen(c->gateway_token),
		          g->gateway_sha256);
	}
	g->auth_fail_limit = c->auth_fail_limit ? c->auth_fail_limit : FW_DDI_AUTH_FAIL_LIMIT;
	if (pthread_key_create(&g->key, thread_end) != 0) {
		free(g);
		return fw_diag_set(d, FW_E_NOMEM, "cannot create a thread key");
	}
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return FW_OK;
}

void fw_ddi_free(struct fw_ddi *g)
{
	struct tctx *t, *n;

	if (g == NULL)
		return;
	for (t = g->threads; t; t = n) {
		n = t->next;
		fw_rollout_cache_free(t->cache);
		fw_store_close(t->s);
		free(t);
	}
	for (size_t i = 0; i < g->nrel; i++)
		free(g->rel[i]);
	free(g->rel);
	pthread_key_delete(g->key);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void fw_ddi_stats(const struct fw_ddi *g, struct fw_ddi_stats *o)
{
	o->polls = __atomic_load_n(&g->polls, __ATOMIC_RELAXED);
	o->deployments = __atomic_load_n(&g->deployments, __ATOMIC_RELAXED);
	o->feedback = __atomic_load_n(&g->feedback, __ATOMIC_RELAXED);
	o->config = __atomic_load_n(&g->config, __ATOMIC_RELAXED);
	o->downloads = __atomic_load_n(&g->downloads, __ATOMIC_RELAXED);
	o->cancels = __atomic_load_n(&g->cancels, __ATOMIC_RELAXED);
	o->auth_failures = __atomic_load_n(&g->auth_failures, __ATOMIC_RELAXED);
	o->rate_limited = __atomic_load_n(&g->rate_limited, __ATOMIC_RELAXED);
	o->errors = __atomic_load_n(&g->errors, __ATOMIC_RELAXED);
}

/* This thread's store connection and campaign cache. */
static struct tctx *thread_ctx(struct fw_ddi *g, struct fw_diag *d)
{
	struct tctx *t = pthread_getspecific(g->key);
	int rc;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		fw_diag_set(d, FW_E_NOMEM, "out of memory");
		return NULL;
	}
	rc = fw_store_open(g->db, 0, &t->s, d);
	/* a poll touches the device's rows, its certificate and its
	 * campaigns: with the fleet's pages cached a poll reads no file */
	if (rc == FW_OK)
		rc = fw_store_set_cache(t->s, FW_DDI_CACHE_MIB, d);
	t->cache = rc == FW_OK ? fw_rollout_cache_new() : NULL;
	if (t->cache == NULL) {
		fw_store_close(t->s);
		free(t);
		if (rc == FW_OK)
			fw_diag_set(d, FW_E_NOMEM, "out of memory");
		return NULL;
	}
	pthread_setspecific(g->key, t);
	pthread_mutex_lock(&g->lock);
	t->next = g->threads;
	g->threads = t;
	pthread_mutex_unlock(&g->lock);
	return t;
}

/* ---- answers ---- */

static void answer(struct fw_http_resp *rs, int status, struct fw_jbuf *b)
{
	rs->status = status;
	if (b->oom) {
		free(b->buf);
		rs->status = 500;
		rs->body = NULL;
		rs->body_len = 0;
		return;
	}
	rs->body = b->buf;
	rs->body_len = b->len;
}

static void raw(struct fw_jbuf *b, const char *s)
{
	fw_jbuf_raw(b, s, strlen(s));
}

static void str(struct fw_jbuf *b, const char *s)
{
	fw_jbuf_str(b, s, strlen(s));
}

/* {"errorCode":"fwtrust.ddi.<code>","message":"..."}; note = code in the log */
static void fail(struct fw_http_resp *rs, int status, const char *code, const char *fmt, ...)
    FW_PRINTF(4, 5);
static void fail(struct fw_http_resp *rs, int status, const char *code, const char *fmt, ...)
{
	struct fw_jbuf b = {0};
	char msg[600], full[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "fwtrust.ddi.%s", code);
	raw(&b, "{\"errorCode\":");
	str(&b, full);
	raw(&b, ",\"message\":");
	str(&b, msg);
	raw(&b, "}");
	answer(rs, status, &b);
	rs->log_note = code;
}

static void ok_empty(struct fw_http_resp *rs)
{
	rs->status = 200;
	rs->body = NULL;
	rs->body_len = 0;
}

/* ---- the request ---- */

struct call {
	struct fw_ddi *g;
	struct tctx *t;
	const struct fw_http_req *rq;
	struct fw_http_resp *rs;
	char device[FW_FIELD_MAX];
	const char *rest;     /* after /{tenant}/controller/v1/{id}, without the '/' */
	char base[1200];      /* http://host/{tenant}/controller/v1/{id} */
	struct fw_target_row t_row;
	struct fw_device_row dev;
	struct fw_cert_row cert;
	int has_c;
	int64_t now_ms;
	struct fw_diag d;
};

static int host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-:[]_", *h))
			return 0;
	return 1;
}

static void make_base(struct call *c)
{
	const char *host = fw_http_header(c->rq, "Host");

	if (c->g->public_url[0])
		snprintf(c->base, sizeof(c->base), "%s/%s/controller/v1/%s", c->g->public_url,
		         c->g->tenant, c->device);
	else
		snprintf(c->base, sizeof(c->base), "http://%s/%s/controller/v1/%s",
		         host && host_ok(host) ? host : "localhost", c->g->tenant, c->device);
}

/* 500: the store failed, or a stored release is not what it should be */
static void store_failed(struct call *c)
{
	COUNT(c->g, errors);
	fail(c->rs, 500, "store", "%s", c->d.msg);
}

static void release_failed(struct call *c)
{
	COUNT(c->g, errors);
	fail(c->rs, 500, "release", "%s", c->d.msg);
}

/* ---- authentication ---- */

/* FNV-1a of a string: the slot of an address or a device in the fixed
 * tables below */
static uint32_t slot_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct rl_slot *rl_slot(struct fw_ddi *g, const char *peer)
{
	return &g->rl[slot_hash(peer) % RL_SLOTS];
}

/* 1 when the address has used up its failed authentications */
static int rl_blocked(struct fw_ddi *g, const char *peer, int64_t now)
{
	struct rl_slot *s;
	int blocked;

	pthread_mutex_lock(&g->lock);
	s = rl_slot(g, peer);
	blocked = strcmp(s->peer, peer) == 0 && now - s->since < RL_WINDOW_MS &&
	          s->fails >= g->auth_fail_limit;
	pthread_mutex_unlock(&g->lock);
	return blocked;
}

static void rl_fail(struct fw_ddi *g, const char *peer, int64_t now)
{
	struct rl_slot *s;

	COUNT(g, auth_failures);
	pthread_mutex_lock(&g->lock);
	s = rl_slot(g, peer);
	if (strcmp(s->peer, peer) != 0 || now - s->since >= RL_WINDOW_MS) {
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
		s->since = now;
		s->fails = 0;
	}
	s->fails++;
	pthread_mutex_unlock(&g->lock);
}

/* 0 when the caller may act for c->device (c->t_row, c->dev read), else
 * the request is answered. */
static int authenticate(struct call *c)
{
	const char *h = fw_http_header(c->rq, "Authorization");
	const char *tok = NULL;
	int gateway = 0, has_dev = 0, rc;
	uint8_t hash[32];

	if (rl_blocked(c->g, c->rq->peer, c->now_ms)) {
		COUNT(c->g, rate_limited);
		fail(c->rs, 429, "auth.rate_limited",
		     "too many failed authentications from %s: try again in a minute", c->rq->peer);
		return -1;
	}
	if (h && strncmp(h, "TargetToken ", 12) == 0)
		tok = h + 12;
	else if (h && strncmp(h, "GatewayToken ", 13) == 0)
		tok = h + 13, gateway = 1;
	if (tok == NULL || *tok == 0 || strlen(tok) > 256) {
		rl_fail(c->g, c->rq->peer, c->now_ms);
		fail(c->rs, 401, "auth.missing",
		     "an Authorization header 'TargetToken <token>' (or 'GatewayToken <token>') is "
		     "required");
		return -1;
	}
	fw_sha256((const uint8_t *)tok, strlen(tok), hash);
	rc = fw_store_target_get(c->t->s, c->device, &c->t_row, &c->dev, &c->cert, &has_dev,
	                         &c->has_c, &c->d);
	if (rc == FW_E_NOT_FOUND || (rc == FW_OK && !has_dev)) {
		/* the same answer as a wrong token: nothing tells which ids exist */
		rl_fail(c->g, c->rq->peer, c->now_ms);
		fail(c->rs, 401, "auth.refused", "authentication failed for %s", c->device);
		return -1;
	}
	if (rc != FW_OK) {
		store_failed(c);
		return -1;
	}
	if (!(gateway ? c->g->has_gateway && fw_ct_equal(hash, c->g->gateway_sha256, 32)
	              : fw_ct_equal(hash, c->t_row.token_sha256, 32))) {
		rl_fail(c->g, c->rq->peer, c->now_ms);
		fail(c->rs, 401, "auth.refused", "authentication failed for %s", c->device);
		return -1;
	}
	if (strcmp(c->dev.lifecycle, "active") != 0) {
		fail(c->rs, 403, "device.not_active",
		     "device %s is %s: only active devices are served", c->device, c->dev.lifecycle);
		return -1;
	}
	return 0;
}

/* ---- actions and artifacts ---- */

static void file_name(char *out, size_t cap, const char *product, const char *version,
                      const char *ext)
{
	size_t i;

	snprintf(out, cap, "%s-%s%s", product[0] ? product : "firmware", version, ext);
	for (i = 0; out[i]; i++)
		if (!isalnum((unsigned char)out[i]) && !strchr("._-+", out[i]))
			out[i] = '_';
}

static int artifact_fill(struct call *c, struct artifact *a, const char *sha_hex,
                         const char *name)
{
	uint8_t sha[32], h256[32], h1[20], h5[16];
	int rc;

	if (sha_hex == NULL || fw_hex_decode(sha_hex, sha, 32) != FW_OK)
		return fw_diag_set(&c->d, FW_E_STORE, "release: malformed artifact digest");
	fw_store_blob_path(c->t->s, sha, a->path, sizeof(a->path));
	rc = fw_file_digests(a->path, h256, h1, h5, &a->size, &c->d);
	if (rc != FW_OK)
		return rc;
	if (memcmp(h256, sha, 32) != 0)
		return fw_diag_set(&c->d, FW_E_TAMPER, "stored artifact %s does not match its digest",
		                   a->path);
	snprintf(a->name, sizeof(a->name), "%s", name);
	fw_hex_encode(h256, 32, a->sha256);
	fw_hex_encode(h1, 20, a->sha1);
	fw_hex_encode(h5, 16, a->md5);
	return FW_OK;
}

/* The release's files (cached for the server's life: a release never
 * changes, and there are few). */
static int release_files(struct call *c, const char *id, const struct release_files **out)
{
	struct release_files *r;
	json_t *doc = NULL, *swu;
	const char *version, *product;
	char name[128];
	size_t i;
	int rc;

	pthread_mutex_lock(&c->g->lock);
	for (i = 0; i < c->g->nrel; i++) {
		if (strcmp(c->g->rel[i]->id, id) == 0) {
			*out = c->g->rel[i];
			pthread_mutex_unlock(&c->g->lock);
			return FW_OK;
		}
	}
	pthread_mutex_unlock(&c->g->lock);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return fw_diag_set(&c->d, FW_E_NOMEM, "out of memory");
	rc = fw_registry_release_get(c->t->s, id, &doc, &c->d);
	if (rc != FW_OK)
		goto out;
	snprintf(r->id, sizeof(r->id), "%s", id);
	version = json_string_value(json_object_get(doc, "version"));
	product = json_string_value(json_object_get(doc, "product"));
	snprintf(r->product, sizeof(r->product), "%s", product ? product : "firmware");
	if (version == NULL)
		version = "0";
	file_name(name, sizeof(name), r->product, version, ".suit");
	rc = artifact_fill(c, &r->suit, json_string_value(json_object_get(doc, "envelope_sha256")),
	                   name);
	file_name(name, sizeof(name), r->product, version, ".bin");
	if (rc == FW_OK)
		rc = artifact_fill(c, &r->bin, json_string_value(json_object_get(doc, "image_sha256")),
		                   name);
	swu = json_object_get(doc, "swu");
	if (rc == FW_OK && json_is_object(swu)) {
		file_name(name, sizeof(name), r->product, version, ".swu");
		rc = artifact_fill(c, &r->swu, json_string_value(json_object_get(swu, "sha256")), name);
		r->has_swu = rc == FW_OK;
	}
	if (rc != FW_OK)
		goto out;
	pthread_mutex_lock(&c->g->lock);
	for (i = 0; i < c->g->nrel; i++) { /* another thread was quicker */
		if (strcmp(c->g->rel[i]->id, id) == 0) {
			*out = c->g->rel[i];
			pthread_mutex_unlock(&c->g->lock);
			goto out;
		}
	}
	{
		struct release_files **v = fw_grow(c->g->rel, &c->g->caprel, c->g->nrel + 1,
		                                   sizeof(*v));

		if (v == NULL) {
			pthread_mutex_unlock(&c->g->lock);
			rc = fw_diag_set(&c->d, FW_E_NOMEM, "out of memory");
			goto out;
		}
		c->g->rel = v;
	}
	c->g->rel[c->g->nrel++] = r;
	*out = r;
	r = NULL;
	pthread_mutex_unlock(&c->g->lock);
out:
	json_decref(doc);
	free(r);
	return rc;
}

/* The artifacts of a release this device's agent accepts (n = 0: none). */
static size_t agent_artifacts(const struct call *c, const struct release_files *r,
                              const struct artifact *v[2])
{
	if (strcmp(c->t_row.agent, FW_AGENT_SWUPDATE) == 0) {
		if (!r->has_swu)
			return 0;
		v[0] = &r->swu;
		return 1;
	}
	v[0] = &r->suit;
	v[1] = &r->bin;
	return 2;
}

static int action_of(struct call *c, struct fw_rollout_action *a)
{
	int rc = fw_rollout_action(c->t->s, c->t->cache, c->device, &c->dev,
	                           c->has_c ? &c->cert : NULL, c->now_ms, a, &c->d);

	if (rc != FW_OK) {
		store_failed(c);
		return -1;
	}
	return 0;
}

static int parse_id(const char *s, uint64_t *id, const char **end)
{
	uint64_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 18)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (n == 0)
		return -1;
	*id = v;
	*end = s;
	return 0;
}

/* ---- the root poll ---- */

static void add_link(struct fw_jbuf *b, int *first, const char *rel, const char *base,
                 const char *suffix)
{
	raw(b, *first ? "\"" : ",\"");
	*first = 0;
	raw(b, rel);
	raw(b, "\":{\"href\":");
	{
		char url[1300];

		snprintf(url, sizeof(url), "%s%s", base, suffix);
		str(b, url);
	}
	raw(b, "}");
}

static void root(struct call *c)
{
	struct fw_rollout_action a;
	struct fw_jbuf b = {0};
	char sleep[9], sfx[64];
	int first = 1;

	COUNT(c->g, polls);
	if (action_of(c, &a))
		return;
	if (a.kind == FW_ACTION_DEPLOY) {
		const struct release_files *r = NULL;
		const struct artifact *v[2];

		if (release_files(c, a.release, &r) != FW_OK) {
			release_failed(c);
			return;
		}
		if (agent_artifacts(c, r, v) == 0) {
			a.kind = FW_ACTION_NONE; /* nothing this agent can install */
			c->rs->log_note = "action.no_artifact_for_agent";
		}
	}
	fw_ddi_sleep_format(c->g->poll_s, sleep);
	raw(&b, "{\"config\":{\"polling\":{\"sleep\":\"");
	raw(&b, sleep);
	raw(&b, "\"}},\"_links\":{");
	if (a.kind == FW_ACTION_CANCEL) {
		snprintf(sfx, sizeof(sfx), "/cancelAction/%llu", (unsigned long long)a.id);
		add_link(&b, &first, "cancelAction", c->base, sfx);
	} else if (a.kind == FW_ACTION_DEPLOY) {
		snprintf(sfx, sizeof(sfx), "/deploymentBase/%llu", (unsigned long long)a.id);
		add_link(&b, &first, "deploymentBase", c->base, sfx);
	} else if (a.kind == FW_ACTION_INSTALLED) {
		snprintf(sfx, sizeof(sfx), "/installedBase/%llu", (unsigned long long)a.id);
		add_link(&b, &first, "installedBase", c->base, sfx);
	}
	if (c->t_row.attrs[0] == 0)
		add_link(&b, &first, "configData", c->base, "/configData");
	raw(&b, "}}");
	answer(c->rs, 200, &b);
	c->rs->content_type = "application/hal+json";
}

/* ---- deploymentBase / installedBase ---- */

static void artifact_json(struct call *c, struct fw_jbuf *b, const struct artifact *a,
                          const char *release)
{
	char url[1500], num[32];

	raw(b, "{\"filename\":");
	str(b, a->name);
	raw(b, ",\"hashes\":{\"sha1\":\"");
	raw(b, a->sha1);
	raw(b, "\",\"md5\":\"");
	raw(b, a->md5);
	raw(b, "\",\"sha256\":\"");
	raw(b, a->sha256);
	raw(b, "\"},\"size\":");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)a->size);
	raw(b, num);
	raw(b, ",\"_links\":{\"download-http\":{\"href\":");
	snprintf(url, sizeof(url), "%s/softwaremodules/%s/artifacts/%s", c->base, release, a->name);
	str(b, url);
	raw(b, "},\"md5sum-http\":{\"href\":");
	snprintf(url, sizeof(url), "%s/softwaremodules/%s/artifacts/%s.MD5SUM", c->base, release,
	         a->name);
	str(b, url);
	raw(b, "}}}");
}

static void deployment(struct call *c, int installed)
{
	struct fw_rollout_action a;
	const struct release_files *r = NULL;
	const struct artifact *v[2];
	struct fw_jbuf b = {0};
	uint64_t id;
	const char *end;
	char num[32];
	size_t n, i;

	if (parse_id(c->rest + (installed ? 14 : 15), &id, &end) != 0 || *end != 0) {
		fail(c->rs, 404, "no_action", "'%s' is not an action of device %s", c->rest,
		     c->device);
		return;
	}
	if (action_of(c, &a))
		return;
	if (a.id != id || a.kind != (installed ? FW_ACTION_INSTALLED : FW_ACTION_DEPLOY)) {
		fail(c->rs, 404, "no_action", "device %s has no %s action %llu%s", c->device,
		     installed ? "installed" : "open", (unsigned long long)id,
		     a.kind == FW_ACTION_CANCEL ? " (it is being cancelled)" : "");
		return;
	}
	if (release_files(c, a.release, &r) != FW_OK) {
		release_failed(c);
		return;
	}
	n = agent_artifacts(c, r, v);
	if (n == 0) {
		fail(c->rs, 404, "no_artifact",
		     "release %.16s has no artifact for agent type %s (a .swu: 'release add --swu')",
		     a.release, c->t_row.agent);
		return;
	}
	COUNT(c->g, deployments);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)a.id);
	raw(&b, "{\"id\":\"");
	raw(&b, num);
	raw(&b, "\",\"deployment\":{\"download\":\"forced\",\"update\":\"forced\",\"chunks\":[{"
	        "\"part\":\"os\",\"version\":");
	str(&b, a.version);
	raw(&b, ",\"name\":");
	str(&b, r->product);
	raw(&b, ",\"artifacts\":[");
	for (i = 0; i < n; i++) {
		if (i)
			raw(&b, ",");
		artifact_json(c, &b, v[i], a.release);
	}
	raw(&b, "],\"metadata\":[{\"key\":\"campaign\",\"value\":");
	str(&b, a.campaign);
	raw(&b, "},{\"key\":\"release\",\"value\":");
	str(&b, a.release);
	raw(&b, "}]}]}");
	if (installed)
		raw(&b, ",\"actionHistory\":{\"status\":\"FINISHED\",\"messages\":[]}");
	raw(&b, "}");
	answer(c->rs, 200, &b);
	c->rs->content_type = "application/hal+json";
}

/* ---- feedback ---- */

static const char *const exec_names[] = {NULL,        "closed",  "proceeding", "canceled",
                                         "scheduled", "rejected", "resumed",   "downloaded",
                                         "download"};
static const char *const fin_names[] = {NULL, "success", "failure", "none"};

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 1; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return 0;
}

/* details: valid UTF-8 without control characters (fw_text_valid, what
 * the engine requires of a report's detail), at most cap - 1 bytes (cut
 * at a character boundary) */
static void details_add(char *out, size_t cap, const char *s, size_t n)
{
	size_t len = strlen(out), i = 0;

	if (len > 0 && len + 2 >= cap)
		return; /* full: no part is glued on without its separator */
	if (len > 0) {
		memcpy(out + len, "; ", 2);
		len += 2;
	}
	while (i < n && len + 1 < cap) {
		unsigned char ch = (unsigned char)s[i];
		size_t k = ch < 0x80 ? 1 : (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3
		                      : (ch & 0xf8) == 0xf0   ? 4
		                                              : 0;
		char c[5] = {0};
		int valid = k > 0 && k <= n - i, ctl;

		if (valid)
			memcpy(c, s + i, k);
		/* C0, DEL and C1 controls become blanks; overlong forms,
		 * surrogates and code points past U+10FFFF are invalid */
		ctl = valid && (ch < 0x20 || ch == 0x7f ||
		                (ch == 0xc2 && (unsigned char)c[1] >= 0x80 && (unsigned char)c[1] < 0xa0));
		if (!ctl)
			valid = valid && fw_text_valid(c);
		if (!valid || ctl) {
			out[len++] = ctl ? ' ' : '?';
			i += ctl ? k : 1;
			continue;
		}
		if (len + k >= cap)
			break;
		memcpy(out + len, s + i, k);
		len += k;
		i += k;
	}
	out[len] = 0;
	while (len > 0 && out[len - 1] == ' ') /* no trailing blanks */
		out[--len] = 0;
}

/* The first s in the n bytes at t (which need not end in a NUL), or NULL. */
static const char *find_mem(const char *t, size_t n, const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; i + sl <= n; i++)
		if (memcmp(t + i, s, sl) == 0)
			return t + i;
	return NULL;
}

/* The value of "key": "value" in text that is not valid JSON. */
static int find_value(const char *t, size_t n, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i + kl + 2 < n; i++) {
		size_t j, k = 0;

		if (t[i] != '"' || memcmp(t + i + 1, key, kl) != 0 || t[i + 1 + kl] != '"')
			continue;
		j = i + kl + 2;
		while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
			j++;
		if (j >= n || t[j] != ':')
			continue;
		j++;
		while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
			j++;
		if (j >= n || t[j] != '"')
			continue;
		for (j++; j < n && t[j] != '"' && k + 1 < cap; j++)
			out[k++] = t[j];
		out[k] = 0;
		return j < n && t[j] == '"';
	}
	return 0;
}

/* Where the first refusal of an image's signature or digest is in the n
 * bytes at t, or NULL. fwtrust-agent says "integrity: <check>"; the others
 * are what SWUpdate 2022.12 reports for a refused signature or digest. Not
 * a bare "signature": SWUpdate's forwarded log also says "Verified
 * signature" when all is well. */
static const char *integrity_mark(const char *t, size_t n)
{
	static const char *const marks[] = {
	    "integrity:", "HASH mismatch", "Checksum does not match",
	    "Image invalid or corrupted", "Authentication of all signatures failed",
	    "Signature verification failed", NULL};
	const char *first = NULL, *at;

	for (size_t i = 0; t && marks[i]; i++)
		if ((at = find_mem(t, n, marks[i])) != NULL && (first == NULL || at < first))
			first = at;
	return first;
}

/* Details are cut at FW_DDI_MAX_DETAILS bytes, and SWUpdate forwards its
 * log in batches of up to 48 lines with its refusal ("HASH mismatch") near
 * the end, where the cut may fall before it. So a refusal is judged on the
 * whole text (f->integrity), and when the cut left it out the details
 * start again from it: the record says why. all: the n bytes of the
 * lenient body's list, as they came. */
static void details_refusal_first(struct fw_ddi_feedback *f, const char *all, size_t n)
{
	const char *at = integrity_mark(all, n);

	f->integrity = at != NULL;
	if (at == NULL || fw_ddi_integrity_failure(f->details))
		return;
	f->details[0] = 0;
	details_add(f->details, sizeof(f->details), at, n - (size_t)(at - all));
	details_add(f->details, sizeof(f->details), all, (size_t)(at - all));
}

int fw_ddi_feedback_parse(const uint8_t *body, size_t len, struct fw_ddi_feedback *f,
                          struct fw_diag *d)
{
	json_error_t je;
	json_t *j, *st, *res, *det;
	const char *ex, *fin;
	size_t refusal = SIZE_MAX;

	memset(f, 0, sizeof(*f));
	if (body == NULL || len == 0)
		return fw_diag_set(d, FW_E_FORMAT, "empty body: a feedback object is required");
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		char e[32], fi[32];
		const char *t = (const char *)body, *dk = find_mem(t, len, "\"details\"");

		/* SWUpdate 2022.12 writes details unescaped: read the two values
		 * by key when the JSON breaks inside "details" (past its key; a
		 * duplicate key is no such body) */
		if (dk != NULL && je.position >= 0 && (size_t)je.position > (size_t)(dk - t) &&
		    json_error_code(&je) != json_error_duplicate_key && memchr(t, 0, len) == NULL &&
		    find_value(t, len, "execution", e, sizeof(e)) &&
		    find_value(t, len, "finished", fi, sizeof(fi))) {
			f->execution = lookup(exec_names, 9, e);
			f->finished = lookup(fin_names, 4, fi);
			if (f->execution && f->finished) {
				/* details: the text of the list as it came, cleaned */
				const char *lb, *rb = NULL;

				f->lenient = 1;
				lb = memchr(dk, '[', len - (size_t)(dk - t));
				for (const char *x = lb; x && x < t + len; x++)
					if (*x == ']')
						rb = x;
				if (lb && rb && rb > lb + 1) {
					details_add(f->details, sizeof(f->details), lb + 1,
					            (size_t)(rb - lb - 1));
					details_refusal_first(f, lb + 1, (size_t)(rb - lb - 1));
				} else
					snprintf(f->details, sizeof(f->details), "(details not readable)");
				return FW_OK;
			}
		}
		return fw_diag_set(d, FW_E_FORMAT, "body is not valid JSON: line %d, column %d: %s",
		                   je.line, je.column, je.text);
	}
	st = json_object_get(j, "status");
	res = json_object_get(st, "result");
	ex = json_string_value(json_object_get(st, "execution"));
	fin = json_string_value(json_object_get(res, "finished"));
	if (!json_is_object(j) || !json_is_object(st)) {
		json_decref(j);
		return fw_diag_set(d, FW_E_FORMAT, "status: an object is required");
	}
	if (ex == NULL || (f->execution = lookup(exec_names, 9, ex)) == 0) {
		json_decref(j);
		return fw_diag_set(d, FW_E_FORMAT,
		                   "status.execution: one of closed, proceeding, canceled, scheduled, "
		                   "rejected, resumed, downloaded, download is required");
	}
	if (fin == NULL || (f->finished = lookup(fin_names, 4, fin)) == 0) {
		json_decref(j);
		return fw_diag_set(d, FW_E_FORMAT,
		                   "status.result.finished: one of success, failure, none is required");
	}
	det = json_object_get(st, "details");
	if (det && !json_is_array(det)) {
		json_decref(j);
		return fw_diag_set(d, FW_E_FORMAT, "status.details: an array of strings is expected");
	}
	for (size_t i = 0; i < json_array_size(det); i++) {
		json_t *x = json_array_get(det, i);

		if (!json_is_string(x)) {
			json_decref(j);
			return fw_diag_set(d, FW_E_FORMAT, "status.details[%zu]: a string is expected", i);
		}
		if (refusal == SIZE_MAX && integrity_mark(json_string_value(x), json_string_length(x)))
			refusal = i;
		if (json_string_length(x) > 0)
			details_add(f->details, sizeof(f->details), json_string_value(x),
			            json_string_length(x));
	}
	/* as details_refusal_first: the line with the refusal first when the
	 * cut left it out, then the others in order */
	f->integrity = refusal != SIZE_MAX;
	if (f->integrity && !fw_ddi_integrity_failure(f->details)) {
		f->details[0] = 0;
		for (size_t k = 0; k <= json_array_size(det); k++) {
			json_t *x = json_array_get(det, k == 0 ? refusal : k - 1);

			if ((k == 0 || k - 1 != refusal) && json_string_length(x) > 0)
				details_add(f->details, sizeof(f->details), json_string_value(x),
				            json_string_length(x));
		}
	}
	json_decref(j);
	return FW_OK;
}

int fw_ddi_integrity_failure(const char *details)
{
	return details != NULL && integrity_mark(details, strlen(details)) != NULL;
}

/* Apply one report to the engine and answer: 200 when it applied or
 * changed nothing, 410 when the action is no longer active. */
static void report(struct call *c, const char *campaign, struct fw_rollout_report *r)
{
	struct fw_rollout_ctx cx = {c->now_ms, NULL, NULL, NULL};
	struct fw_rollout_result res;
	char actor[FW_FIELD_MAX + 8];
	int rc;

	snprintf(actor, sizeof(actor), "device:%s", c->device);
	cx.actor = actor;
	rc = fw_rollout_report(c->t->s, campaign, r, 1, &cx, &res, &c->d);
	if (rc == FW_OK && res.outcome == FW_REPORT_STOPPED) {
		fail(c->rs, 410, "action.stopped",
		     "device %s is no longer eligible for campaign %s: do not install", c->device,
		     campaign);
		return;
	}
	if (rc == FW_OK) {
		ok_empty(c->rs);
		c->rs->log_note = res.outcome == FW_REPORT_APPLIED ? fw_update_state_name(res.to)
		                  : res.outcome == FW_REPORT_DUPLICATE ? "duplicate"
		                                                       : "late";
		return;
	}
	if (rc == FW_E_CONFLICT || rc == FW_E_ARG) {
		fail(c->rs, 410, "action.gone", "%s", c->d.msg);
		return;
	}
	if (rc == FW_E_NOT_FOUND) {
		fail(c->rs, 404, "no_action", "%s", c->d.msg);
		return;
	}
	store_failed(c);
}

/* The campaign, attempt and release of an action id of this device. */
static int action_target(struct call *c, const char *s, const char *suffix, char *campaign,
                         size_t cap, int *rollback)
{
	uint64_t id;
	uint32_t attempt;
	const char *end;

	if (parse_id(s, &id, &end) != 0 || strcmp(end, suffix) != 0 ||
	    fw_rollout_action_parse(id, campaign, cap, &attempt, rollback) != FW_OK) {
		fail(c->rs, 404, "no_action", "'%s' is not an action of device %s", c->rest,
		     c->device);
		return -1;
	}
	return 0;
}

static int feedback_body(struct call *c, struct fw_ddi_feedback *f)
{
	if (fw_ddi_feedback_parse(c->rq->body, c->rq->body_len, f, &c->d) != FW_OK) {
		fail(c->rs, 400, "bad_feedback", "%s", c->d.msg);
		return -1;
	}
	return 0;
}

static void deploy_feedback(struct call *c)
{
	struct fw_ddi_feedback f;
	struct fw_rollout_report r;
	char campaign[32], version[65] = "";
	int rollback = 0;

	if (action_target(c, c->rest + 15, "/feedback", campaign, sizeof(campaign), &rollback) ||
	    feedback_body(c, &f))
		return;
	COUNT(c->g, feedback);
	memset(&r, 0, sizeof(r));
	r.device = c->device;
	r.detail = f.details[0] ? f.details : NULL;
	switch (f.execution) {
	case FW_DDI_CLOSED:
		if (f.finished == FW_DDI_FAILURE) {
			r.status = FW_U_FAILED;
			r.integrity_failure = f.integrity;
			break;
		}
		/* closed with success (or none, as hawkBit counts it): the
		 * release runs. Which version is the action's release's. */
		{
			struct fw_rollout_action a;

			if (action_of(c, &a))
				return;
			/* a device that finished just as the campaign paused (its
			 * action being cancelled) still reports what it runs: the
			 * attempt was under way, and its report counts */
			if ((a.kind == FW_ACTION_DEPLOY || a.kind == FW_ACTION_CANCEL) &&
			    strcmp(a.campaign, campaign) == 0)
				snprintf(version, sizeof(version), "%s", a.version);
			else if (a.kind == FW_ACTION_INSTALLED && strcmp(a.campaign, campaign) == 0) {
				ok_empty(c->rs); /* said again: nothing changes */
				c->rs->log_note = "duplicate";
				return;
			}
		}
		if (version[0] == 0) {
			fail(c->rs, 410, "action.gone", "device %s has no open action in campaign %s",
			     c->device, campaign);
			return;
		}
		r.status = rollback ? FW_U_ROLLED_BACK : FW_U_INSTALLED;
		r.version = version;
		break;
	case FW_DDI_CANCELED:
	case FW_DDI_REJECTED:
		r.status = FW_U_FAILED; /* the device gave up or refused the update */
		break;
	default: /* proceeding, scheduled, resumed, download, downloaded */
		/* SWUpdate forwards its log lines as progress from one thread
		 * and closes the action with a generic failure ("No suitable
		 * .swu image found") from another, so the two arrive in either
		 * order. A refusal of the image's signature or digest in
		 * progress is the attempt's failure: reported now. A closing
		 * failure after it is a duplicate; one before it is escalated to
		 * an integrity failure by the engine. */
		if (f.integrity) {
			r.status = FW_U_FAILED;
			r.integrity_failure = 1;
		} else {
			r.status = FW_U_DELIVERED;
		}
		break;
	}
	report(c, campaign, &r);
}

static void cancel(struct call *c)
{
	struct fw_rollout_action a;
	struct fw_jbuf b = {0};
	uint64_t id;
	const char *end;
	char num[32];

	if (parse_id(c->rest + 13, &id, &end) != 0 || *end != 0) {
		fail(c->rs, 404, "no_action", "'%s' is not an action of device %s", c->rest,
		     c->device);
		return;
	}
	if (action_of(c, &a))
		return;
	if (a.kind != FW_ACTION_CANCEL || a.id != id) {
		fail(c->rs, 404, "no_action", "device %s: action %llu is not being cancelled",
		     c->device, (unsigned long long)id);
		return;
	}
	COUNT(c->g, cancels);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)id);
	raw(&b, "{\"id\":\"");
	raw(&b, num);
	raw(&b, "\",\"cancelAction\":{\"stopId\":\"");
	raw(&b, num);
	raw(&b, "\"}}");
	answer(c->rs, 200, &b);
	c->rs->content_type = "application/hal+json";
}

static void cancel_feedback(struct call *c)
{
	struct fw_ddi_feedback f;
	struct fw_rollout_report r;
	char campaign[32];
	int rollback = 0;

	if (action_target(c, c->rest + 13, "/feedback", campaign, sizeof(campaign), &rollback) ||
	    feedback_body(c, &f))
		return;
	COUNT(c->g, feedback);
	if (f.execution != FW_DDI_CLOSED || f.finished == FW_DDI_FAILURE) {
		/* not confirmed (rejected, failed, still running): the attempt
		 * goes on and its own feedback counts */
		ok_empty(c->rs);
		c->rs->log_note = "cancel.not_confirmed";
		return;
	}
	memset(&r, 0, sizeof(r));
	r.device = c->device;
	r.status = FW_U_PAUSED;
	r.detail = f.details[0] ? f.details : NULL;
	report(c, campaign, &r);
}

/* ---- configData ---- */

static void config_data(struct call *c)
{
	json_error_t je;
	json_t *j, *data, *m;
	const char *mode, *k;
	json_t *v;
	int md = FW_ATTRS_MERGE, rc;
	char actor[FW_FIELD_MAX + 8];

	j = json_loadb((const char *)c->rq->body, c->rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		fail(c->rs, 400, "bad_config", "body is not valid JSON: line %d, column %d: %s",
		     je.line, je.column, je.text);
		return;
	}
	data = json_object_get(j, "data");
	m = json_object_get(j, "mode");
	mode = json_string_value(m);
	if (!json_is_object(data) || json_object_size(data) == 0) {
		json_decref(j);
		fail(c->rs, 400, "bad_config", "data: a non-empty object of strings is required");
		return;
	}
	if (m && (mode == NULL || (strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0 &&
	                           strcmp(mode, "remove") != 0))) {
		json_decref(j);
		fail(c->rs, 400, "bad_config", "mode: merge, replace or remove");
		return;
	}
	if (mode && strcmp(mode, "replace") == 0)
		md = FW_ATTRS_REPLACE;
	else if (mode && strcmp(mode, "remove") == 0)
		md = FW_ATTRS_REMOVE;
	json_object_foreach(data, k, v) {
		if (!json_is_string(v) || strlen(k) == 0 || strlen(k) > 128 ||
		    json_string_length(v) > 512 ||
		    fw_registry_reason_ok(json_string_value(v)[0] ? json_string_value(v) : "-", 512,
		                          NULL) != FW_OK ||
		    fw_registry_reason_ok(k, 128, NULL) != FW_OK) {
			fail(c->rs, 400, "bad_config",
			     "data[\"%.64s\"]: keys of 1-128 and values of 0-512 bytes of text are "
			     "required",
			     k);
			json_decref(j);
			return;
		}
	}
	snprintf(actor, sizeof(actor), "device:%s", c->device);
	rc = fw_registry_target_attrs(c->t->s, c->device, data, md, c->now_ms, actor, NULL, &c->d);
	json_decref(j);
	if (rc == FW_E_TOO_LARGE || rc == FW_E_FORMAT || rc == FW_E_ARG) {
		fail(c->rs, 400, "bad_config", "%s", c->d.msg);
		return;
	}
	if (rc != FW_OK) {
		store_failed(c);
		return;
	}
	COUNT(c->g, config);
	ok_empty(c->rs);
}

/* ---- artifacts ---- */

static void artifacts(struct call *c)
{
	struct fw_rollout_action a;
	const struct release_files *r = NULL;
	const struct artifact *v[2];
	const char *p = c->rest + 16, *slash;
	char release[65], file[160];
	size_t n, i, len;
	int md5 = 0;

	slash = strchr(p, '/');
	if (slash == NULL || slash - p != 64 || strncmp(slash, "/artifacts", 10) != 0) {
		fail(c->rs, 404, "no_artifact", "no such software module");
		return;
	}
	memcpy(release, p, 64);
	release[64] = 0;
	if (action_of(c, &a))
		return;
	/* only the release of its action (or the one it installed) */
	if ((a.kind != FW_ACTION_DEPLOY && a.kind != FW_ACTION_INSTALLED) ||
	    strcmp(a.release, release) != 0) {
		fail(c->rs, 404, "no_artifact", "software module %.16s is not assigned to device %s",
		     release, c->device);
		return;
	}
	if (release_files(c, release, &r) != FW_OK) {
		release_failed(c);
		return;
	}
	n = agent_artifacts(c, r, v);
	if (slash[10] == 0) { /* the list */
		struct fw_jbuf b = {0};

		if (strcmp(c->rq->method, "GET") != 0) {
			fail(c->rs, 405, "method", "GET only");
			return;
		}
		raw(&b, "[");
		for (i = 0; i < n; i++) {
			if (i)
				raw(&b, ",");
			artifact_json(c, &b, v[i], release);
		}
		raw(&b, "]");
		answer(c->rs, 200, &b);
		return;
	}
	if (slash[10] != '/' || strlen(slash + 11) >= sizeof(file)) {
		fail(c->rs, 404, "no_artifact", "no such artifact");
		return;
	}
	snprintf(file, sizeof(file), "%s", slash + 11);
	len = strlen(file);
	if (len > 7 && strcmp(file + len - 7, ".MD5SUM") == 0) {
		file[len - 7] = 0;
		md5 = 1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->name, file) != 0)
			continue;
		if (md5) {
			struct fw_jbuf b = {0};

			raw(&b, v[i]->md5);
			raw(&b, "  ");
			raw(&b, v[i]->name);
			answer(c->rs, 200, &b);
			c->rs->content_type = "text/plain";
			return;
		}
		if (strcmp(c->rq->method, "GET") == 0 && fw_http_header(c->rq, "Range") == NULL)
			COUNT(c->g, downloads);
		c->rs->status = 200;
		c->rs->file_path = v[i]->path;
		c->rs->etag = v[i]->sha1;
		c->rs->filename = v[i]->name;
		return;
	}
	fail(c->rs, 404, "no_artifact", "release %.16s has no artifact '%s' for agent type %s",
	     release, file, c->t_row.agent);
}

/* ---- routing ---- */

static int method_is(struct call *c, const char *m)
{
	if (strcmp(c->rq->method, m) == 0)
		return 1;
	fail(c->rs, 405, "method", "%s is not allowed here: %s only", c->rq->method, m);
	return 0;
}

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int ends(const char *s, const char *p)
{
	size_t n = strlen(s), k = strlen(p);

	return n >= k && strcmp(s + n - k, p) == 0;
}

/* who the request was for, kept for the server's log line after the
 * handler returns (the server copies it on the same thread) */
static _Thread_local char log_who[FW_FIELD_MAX];

void fw_ddi_handle(void *arg, const struct fw_http_req *rq, struct fw_http_resp *rs)
{
	struct fw_ddi *g = arg;
	struct call *c;
	const char *p = rq->path, *q;
	size_t n;
	int reading = 0;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rs->status = 503;
		return;
	}
	c->g = g;
	c->rq = rq;
	c->rs = rs;
	c->now_ms = fw_time_ms();
	/* /{tenant}/controller/v1/{controllerId}[/rest] */
	n = strlen(g->tenant);
	if (p[0] != '/' || strncmp(p + 1, g->tenant, n) != 0 ||
	    strncmp(p + 1 + n, "/controller/v1/", 15) != 0) {
		fail(rs, 404, "not_found",
		     "no such resource: the device API is under /%s/controller/v1/{controllerId}",
		     g->tenant);
		goto out;
	}
	p += 1 + n + 15;
	q = strchr(p, '/');
	n = q ? (size_t)(q - p) : strlen(p);
	if (n == 0 || n >= sizeof(c->device)) {
		fail(rs, 404, "not_found", "no controller id in the path");
		goto out;
	}
	memcpy(c->device, p, n);
	c->device[n] = 0;
	if (!fw_device_id_valid(c->device)) {
		fail(rs, 404, "not_found", "'%.128s' is not a device id", c->device);
		goto out;
	}
	snprintf(log_who, sizeof(log_who), "%s", c->device);
	rs->log_who = log_who;
	c->rest = q ? q + 1 : "";
	c->t = thread_ctx(g, &c->d);
	if (c->t == NULL) {
		COUNT(g, errors);
		fail(rs, 503, "store", "%s", c->d.msg);
		goto out;
	}
	/* a GET or HEAD only reads: one snapshot for all its reads (one read
	 * lock instead of one per statement); writes take their own
	 * transaction */
	if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0) {
		if (fw_store_read_begin(c->t->s, &c->d) != FW_OK) {
			COUNT(g, errors);
			fail(rs, 503, "store", "%s", c->d.msg);
			goto out;
		}
		reading = 1;
	}
	if (authenticate(c) != 0)
		goto out;
	make_base(c);
	if (c->rest[0] == 0) {
		if (method_is(c, "GET"))
			root(c);
	} else if (strcmp(c->rest, "configData") == 0) {
		if (method_is(c, "PUT"))
			config_data(c);
	} else if (starts(c->rest, "deploymentBase/") && ends(c->rest, "/feedback")) {
		if (method_is(c, "POST"))
			deploy_feedback(c);
	} else if (starts(c->rest, "deploymentBase/")) {
		if (method_is(c, "GET"))
			deployment(c, 0);
	} else if (starts(c->rest, "cancelAction/") && ends(c->rest, "/feedback")) {
		if (method_is(c, "POST"))
			cancel_feedback(c);
	} else if (starts(c->rest, "cancelAction/")) {
		if (method_is(c, "GET"))
			cancel(c);
	} else if (starts(c->rest, "installedBase/")) {
		if (method_is(c, "GET"))
			deployment(c, 1);
	} else if (starts(c->rest, "softwaremodules/")) {
		if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0)
			artifacts(c);
		else
			fail(rs, 405, "method", "%s is not allowed here: GET or HEAD only", rq->method);
	} else {
		fail(rs, 404, "not_found", "no such resource '%.200s' (docs/ddi.md lists them)",
		     c->rest);
	}
out:
	if (reading)
		fw_store_read_end(c->t->s);
	free(c);
}
