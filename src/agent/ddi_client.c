/*
 * HTTP for fwtrust-agent: blocking libcurl easy handles, one per thread,
 * reused so connections stay open between requests.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent/ddi_client.h"

#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 30L   /* a whole JSON request */
#define LOW_SPEED_TIME_S 30L    /* a download slower than 1 byte/s this long is dropped */
#define ORIGIN_MAX 300

struct ddi_conn {
	CURL *h;
	char origin[ORIGIN_MAX]; /* the server's "scheme://host:port" */
	char *cacert;
	/* per transfer */
	char *buf;
	size_t len, cap, max;
	int too_large;
	const struct ddi_sink *sink;
	int started, stopped_by_sink;
	int has_range;
	uint64_t range_start;
	char errbuf[CURL_ERROR_SIZE];
};

int ddi_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void ddi_global_cleanup(void)
{
	curl_global_cleanup();
}

/* "scheme://host:port", lower case, port explicit; "" when unparsable. */
static void origin_of(const char *url, char out[ORIGIN_MAX])
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	size_t i;

	out[0] = '\0';
	if (u == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    (size_t)snprintf(out, ORIGIN_MAX, "%s://%s:%s", scheme, host, port) >= ORIGIN_MAX)
		out[0] = '\0';
	for (i = 0; out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static int same_origin(const struct ddi_conn *c, const char *url)
{
	char o[ORIGIN_MAX];

	origin_of(url, o);
	return o[0] != '\0' && strcmp(o, c->origin) == 0;
}

struct ddi_conn *ddi_conn_new(const char *server, const char *cacert)
{
	struct ddi_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->h = curl_easy_init();
	c->cacert = cacert ? strdup(cacert) : NULL;
	if (c->h == NULL || (cacert && c->cacert == NULL)) {
		ddi_conn_free(c);
		return NULL;
	}
	origin_of(server, c->origin);
	return c;
}

void ddi_conn_free(struct ddi_conn *c)
{
	if (c == NULL)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->cacert);
	free(c->buf);
	free(c);
}

void ddi_resp_clear(struct ddi_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t body_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ddi_conn *c = arg;
	size_t n = size * nmemb;

	/* the cap holds before anything is stored: a server cannot make
	 * the agent buffer more than max bytes */
	if (n > c->max - c->len) {
		c->too_large = 1;
		return 0;
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *nb;

		while (cap < c->len + n + 1)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (nb == NULL)
			return 0;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return n;
}

/* Content-Range of the final answer ("bytes a-b/len"); a new status line
 * (redirect, 100-continue) forgets what an earlier answer said. */
static size_t header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ddi_conn *c = arg;
	size_t n = size * nmemb;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		c->has_range = 0;
		c->range_start = 0;
	} else if (n > 14 && strncasecmp(p, "content-range:", 14) == 0) {
		char line[128], *s, *end;
		unsigned long long v;

		snprintf(line, sizeof(line), "%.*s", (int)(n < 127 ? n : 127), p + 14);
		s = line + strspn(line, " \t");
		if (strncmp(s, "bytes ", 6) == 0 && s[6] >= '0' && s[6] <= '9') {
			v = strtoull(s + 6, &end, 10);
			if (*end == '-') {
				c->has_range = 1;
				c->range_start = v;
			}
		}
	}
	return n;
}

static void common_opts(struct ddi_conn *c, const char *url, const char *token,
                        struct curl_slist **hdrs)
{
	char auth[300];

	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "fwtrust-agent/" FWTRUST_VERSION);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	if (c->cacert)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, c->cacert);
	c->errbuf[0] = '\0';
	c->len = 0;
	c->too_large = 0;
	c->has_range = 0;
	c->range_start = 0;
	*hdrs = curl_slist_append(NULL, "Accept: application/hal+json, application/json");
	/* the token only to the server's own origin, never to a host a reply names */
	if (token != NULL && same_origin(c, url)) {
		snprintf(auth, sizeof(auth), "Authorization: TargetToken %s", token);
		if (*hdrs)
			*hdrs = curl_slist_append(*hdrs, auth);
		memset(auth, 0, sizeof(auth));
	}
}

static void set_err(char *out, size_t cap, CURLcode rc, const char *errbuf)
{
	snprintf(out, cap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

int ddi_request(struct ddi_conn *c, const char *method, const char *url, const char *token,
                const char *json_body, size_t max_body, struct ddi_resp *out)
{
	struct curl_slist *hdrs = NULL;
	curl_off_t ra = 0;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	common_opts(c, url, token, &hdrs);
	c->max = max_body;
	if (hdrs == NULL) {
		snprintf(out->err, sizeof(out->err), "out of memory");
		return -1;
	}
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	if (json_body != NULL) {
		struct curl_slist *h2 = curl_slist_append(hdrs, "Content-Type: application/json");

		if (h2 != NULL)
			hdrs = curl_slist_append(h2, "Expect:");
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, json_body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json_body));
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(c->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		out->retry_after = ra > 3600 ? 3600u : (unsigned)ra;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	out->too_large = c->too_large;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && c->too_large)) {
		set_err(out->err, sizeof(out->err), rc, c->errbuf);
		out->status = 0;
		return -1;
	}
	if (c->too_large) {
		snprintf(out->err, sizeof(out->err), "reply body larger than %zu bytes", max_body);
		return 0;
	}
	out->body = malloc(c->len + 1);
	if (out->body == NULL) {
		snprintf(out->err, sizeof(out->err), "out of memory");
		out->status = 0;
		return -1;
	}
	if (c->len)
		memcpy(out->body, c->buf, c->len);
	out->body[c->len] = '\0';
	out->len = c->len;
	/* a burst of big replies must not pin memory in every idle thread */
	if (c->cap > 256 * 1024) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	return 0;
}

static size_t stream_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ddi_conn *c = arg;
	size_t n = size * nmemb;

	if (!c->started) {
		long status = 0;

		c->started = 1;
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
		if (c->sink->start(c->sink->arg, status, c->has_range, c->range_start) != 0) {
			c->stopped_by_sink = 1;
			return 0;
		}
	}
	if (n > 0 && c->sink->data(c->sink->arg, (const uint8_t *)p, n) != 0) {
		c->stopped_by_sink = 1;
		return 0;
	}
	return n;
}

static int xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct ddi_conn *c = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (c->sink->tick != NULL && c->sink->tick(c->sink->arg) != 0) {
		c->stopped_by_sink = 1;
		return 1;
	}
	return 0;
}

int ddi_download(struct ddi_conn *c, const char *url, const char *token, uint64_t from,
                 const struct ddi_sink *s, long *status, char *err, size_t errcap)
{
	struct curl_slist *hdrs = NULL;
	char range[48];
	CURLcode rc;

	*status = 0;
	err[0] = '\0';
	common_opts(c, url, token, &hdrs);
	if (hdrs == NULL) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	c->sink = s;
	c->started = 0;
	c->stopped_by_sink = 0;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->h, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, stream_cb);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	if (from > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)from);
		curl_easy_setopt(c->h, CURLOPT_RANGE, range);
	}
	rc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_OK && !c->started)
		/* an answer without a body: start still hears its status */
		(void)s->start(s->arg, *status, c->has_range, c->range_start);
	if (rc != CURLE_OK) {
		if (c->stopped_by_sink)
			snprintf(err, errcap, "stopped");
		else
			set_err(err, errcap, rc, c->errbuf);
		return -1;
	}
	return 0;
}
