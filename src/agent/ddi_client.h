/*
 * ddi_client: HTTP for fwtrust-agent on libcurl. One struct ddi_conn is one
 * blocking easy handle, used by one thread at a time and reused across
 * requests (keep-alive). Private to src/agent/.
 *
 * The token is sent (Authorization: TargetToken) only to URLs of the same
 * origin (scheme, host, port) as the server: a reply cannot send it
 * elsewhere. Only http and https are spoken, also after a redirect.
 */
#ifndef FW_AGENT_DDI_CLIENT_H
#define FW_AGENT_DDI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct ddi_conn;

/* NULL when out of memory. cacert: a CA bundle for https (NULL: the
 * system's). server: the --server URL, whose origin gets the token. */
struct ddi_conn *ddi_conn_new(const char *server, const char *cacert);
void ddi_conn_free(struct ddi_conn *c); /* NULL ok */

/* What came back. status 0: no HTTP answer (err says why). */
struct ddi_resp {
	long status;
	char *body;          /* malloc'd, NUL-ended, or NULL; at most the cap asked for */
	size_t len;
	unsigned retry_after; /* Retry-After in seconds (bounded to 3600), 0 when none */
	int too_large;       /* the body was over the cap (transfer stopped) */
	char err[256];
};
void ddi_resp_clear(struct ddi_resp *r);

/* One request. method "GET", "PUT" or "POST"; json_body (NULL for GET) is
 * sent as application/json. The reply body is kept up to max_body bytes;
 * a longer one stops the transfer (too_large, status kept). Always fills
 * *out (ddi_resp_clear it); returns 0 when an HTTP answer came. */
int ddi_request(struct ddi_conn *c, const char *method, const char *url, const char *token,
                const char *json_body, size_t max_body, struct ddi_resp *out);

/* A streaming download (GET url, with "Range: bytes=<from>-" when from > 0).
 * start is called once with the final answer's status and Content-Range
 * start (has_range 0 when absent): before its first body byte, or after
 * the transfer when it had none. data gets every body chunk, in order,
 * unless start refused the answer; tick is called about once a second. A
 * non-zero return of any of them stops the transfer. */
struct ddi_sink {
	int (*start)(void *arg, long status, int has_range, uint64_t range_start);
	int (*data)(void *arg, const uint8_t *p, size_t n);
	int (*tick)(void *arg);
	void *arg;
};
/* Returns 0 when the transfer ran to its end, -1 otherwise (a callback
 * stopped it, network error: err says which). *status is the final HTTP
 * status or 0. */
int ddi_download(struct ddi_conn *c, const char *url, const char *token, uint64_t from,
                 const struct ddi_sink *s, long *status, char *err, size_t errcap);

/* The process-wide libcurl setup: before any thread starts. */
int ddi_global_init(void);
void ddi_global_cleanup(void);

#endif
