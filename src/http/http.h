/*
 * http: the HTTP server under `fwtrust serve` (libmicrohttpd), and nothing
 * protocol-specific: listening, a worker thread pool on epoll, limits
 * (body size, header memory, connections per address, idle timeouts),
 * byte ranges of files (HEAD, Range, 206, 416), graceful shutdown, and one
 * structured log line per request. What a request means is the handler's
 * business (src/ddi/ for the device API). This header is the module's
 * only door.
 */
#ifndef FW_HTTP_H
#define FW_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

#define FW_HTTP_MAX_BODY_DEFAULT (256u * 1024u) /* request body cap, bytes */
#define FW_HTTP_MAX_PATH 2048                   /* longer request targets: 414 */

/* A request as the handler sees it. Everything is borrowed for the call. */
struct fw_http_req {
	const char *method;     /* "GET", "HEAD", "PUT", "POST", ... */
	const char *path;       /* the decoded path, without the query string */
	const uint8_t *body;    /* the whole body (NULL when none), at most max_body */
	size_t body_len;
	const char *peer;       /* the client's address, "127.0.0.1" */
	void *impl;             /* the server's; for fw_http_header/fw_http_query */
};
/* A request header (case-insensitive name) or query argument; NULL when absent. */
const char *fw_http_header(const struct fw_http_req *rq, const char *name);
const char *fw_http_query(const struct fw_http_req *rq, const char *name);

/* What the handler answers. Set status and either a body (copied by the
 * server when the handler returns) or a file. */
#define FW_HTTP_MAX_HEADERS 8
struct fw_http_resp {
	int status;                 /* 200, 404, ...; 0 = 500 */
	const char *content_type;   /* default "application/json" for a body */
	char *body;                 /* malloc()ed by the handler; the server frees it */
	size_t body_len;
	/* a file answer (instead of a body): the server opens path, answers
	 * HEAD with its length, GET with all of it (200) or one byte range of
	 * a Range header (206 + Content-Range; 416 + "bytes * /len" when the
	 * range cannot be satisfied; several ranges: the whole file), and
	 * sets Accept-Ranges, Content-Length, ETag (when etag is given; an
	 * If-Range that differs gives the whole file). The status is then
	 * the server's (200, 206, 416; 404 when the file is missing);
	 * content_type defaults to application/octet-stream. */
	const char *file_path;
	const char *etag;           /* without quotes */
	const char *filename;       /* Content-Disposition: attachment;filename=... */
	size_t nheaders;            /* extra headers (names and values are copied) */
	const char *header_name[FW_HTTP_MAX_HEADERS];
	const char *header_value[FW_HTTP_MAX_HEADERS];
	/* for the request's log line (copied; may stay NULL) */
	const char *log_who;        /* the device or principal the request was for */
	const char *log_note;       /* one short word or phrase: "auth.bad_token", ... */
};

/* Called once per complete request, on a worker thread (several at once:
 * the handler is thread-safe and keeps per-thread state itself). A body
 * over max_body never reaches it (413), nor does a path over
 * FW_HTTP_MAX_PATH (414). */
typedef void (*fw_http_handler)(void *arg, const struct fw_http_req *rq, struct fw_http_resp *rs);

struct fw_http_config {
	const char *listen;         /* "127.0.0.1:8080", "[::1]:8080", ":8080"; port 0 = any free */
	unsigned threads;           /* worker threads; 0 = the number of CPUs */
	size_t max_body;            /* 0 = FW_HTTP_MAX_BODY_DEFAULT */
	unsigned timeout_s;         /* idle connection timeout; 0 = 30 */
	unsigned max_connections;   /* 0 = 10000 */
	unsigned max_per_ip;        /* connections per client address; 0 = no limit */
	fw_http_handler handler;
	void *arg;
	/* One JSON line per request (NULL = no log): {"ts":"2026-11-26T12:00:00.123Z",
	 * "peer":..,"method":..,"path":..,"status":..,"bytes":..,"us":..,"who":..,
	 * "note":..}. Never the query string's secrets, never Authorization. The
	 * server writes each line with one write(2): lines of several threads
	 * never interleave. */
	int log_fd;                 /* -1 = no log */
};

struct fw_http;
/* Bind and start serving. FW_E_ARG (a bad listen address; d names it),
 * FW_E_IO (bind failed: address in use, permission), FW_E_NOMEM. */
FW_NODISCARD int fw_http_start(const struct fw_http_config *c, struct fw_http **out,
                               struct fw_diag *d);
/* The port it listens on (the one chosen when the config said 0). */
unsigned fw_http_port(const struct fw_http *h);
/* Requests answered so far, and those being handled now. */
uint64_t fw_http_served(const struct fw_http *h);
unsigned fw_http_in_flight(const struct fw_http *h);
/* Stop: no new connection is accepted; requests in flight finish (up to
 * grace_ms), then everything is closed and freed. h may be NULL. */
void fw_http_stop(struct fw_http *h, unsigned grace_ms);

/*
 * One byte range of a resource of len bytes, from a Range header's value
 * (untrusted; NULL = no header). Returns FW_HTTP_RANGE_OK with
 * [*start, *end] (inclusive; end clamped to len - 1) for one satisfiable
 * "bytes=a-b", "bytes=a-" or "bytes=-n" (n > len: the whole resource);
 * FW_HTTP_RANGE_NONE when the whole resource is the answer (no header,
 * another unit, several ranges); FW_HTTP_RANGE_BAD (416) when the bytes
 * range is malformed or unsatisfiable (start >= len, start > end,
 * "-0"). Numbers too large for 64 bits saturate. start and end are
 * written only for FW_HTTP_RANGE_OK. Used by the server for file answers;
 * public for the fuzzer.
 */
enum fw_http_range {
	FW_HTTP_RANGE_NONE = 0,
	FW_HTTP_RANGE_OK = 1,
	FW_HTTP_RANGE_BAD = 2
};
int fw_http_range_parse(const char *hdr, uint64_t len, uint64_t *start, uint64_t *end);

#endif
