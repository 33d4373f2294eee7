/*
 * http: the server under `fwtrust serve`, on libmicrohttpd (see http.h).
 *
 * Threads: MHD runs a pool of worker threads, each with its own epoll set.
 * A connection stays on one worker, so its state (struct conn, made when
 * the connection opens, freed when it closes, reused by every request of
 * a keep-alive connection) is only touched by that thread. The counters
 * are C11 atomics.
 *
 * A request: the access handler's first call (headers read) starts it
 * (in_flight + 1) and judges method, path length and Content-Length. A
 * request without a body is answered in that call; otherwise MHD reads
 * the body (and sends 100 Continue when asked), it is gathered in the
 * connection's buffer up to max_body, and answered on the last call.
 * MHD's request-completed callback ends it: one log line, served + 1,
 * in_flight - 1.
 *
 * We open the listening socket ourselves: MHD_start_daemon returns NULL
 * without saying why, and the caller needs "Address already in use".
 */
#define _GNU_SOURCE
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

/* Request line and headers of one connection: MHD answers 414 or 431
 * over it (attacker-controlled sizes, bounded per connection). */
#define HEADER_MEMORY ((size_t)32 * 1024)
/* A body buffer up to this size stays with its connection for the next
 * request; a larger one is freed (10,000 idle connections must not hold
 * 256 KiB each). */
#define BODY_KEEP ((size_t)16 * 1024)
/* A chunked body that outgrows max_body is read and dropped up to this
 * many more bytes, to answer 413 when it ends; beyond, the connection is
 * closed without an answer. */
#define DROP_MAX ((size_t)1024 * 1024)
#define TIMEOUT_DEFAULT 30
#define CONNECTIONS_DEFAULT 10000
/* Log fields copied from the request or the handler, truncated. */
#define METHOD_MAX 16
#define WHO_MAX 128
#define NOTE_MAX 64
/* Every escaped byte takes at most 6 bytes ("\u00XX"). */
#define LOG_LINE_MAX \
	(6 * (METHOD_MAX + FW_HTTP_MAX_PATH + WHO_MAX + NOTE_MAX) + INET6_ADDRSTRLEN + 256)

struct fw_http {
	struct MHD_Daemon *mhd;
	int listen_fd;
	unsigned port;
	size_t max_body;
	fw_http_handler handler;
	void *arg;
	int log_fd;
	_Atomic uint64_t served;
	_Atomic unsigned in_flight;
	atomic_bool stopping;
};

/* One connection and the request it is serving. */
struct conn {
	char peer[INET6_ADDRSTRLEN];
	bool active;   /* a request has started and not completed */
	bool answered; /* a response is queued */
	bool head;
	bool over;     /* the body outgrew max_body */
	size_t dropped;
	int status;
	uint64_t bytes;
	struct timespec t0;
	uint8_t *body;
	size_t body_len, body_cap;
	char method[METHOD_MAX];
	char path[FW_HTTP_MAX_PATH + 1];
	char who[WHO_MAX];
	char note[NOTE_MAX];
};

static const char ALLOW[] = "GET, HEAD, PUT, POST";

/* ---- byte ranges ---- */

static int is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Decimal digits at *s (moved past them), saturating at UINT64_MAX: a
 * last-byte-pos beyond any file only means "to the end". */
static void digits(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	while (*p >= '0' && *p <= '9') {
		unsigned dgt = (unsigned)(*p - '0');

		x = x > (UINT64_MAX - dgt) / 10 ? UINT64_MAX : x * 10 + dgt;
		p++;
	}
	*v = x;
	*s = p;
}

int fw_http_range_parse(const char *hdr, uint64_t len, uint64_t *start, uint64_t *end)
{
	const char *p = hdr, *q;
	uint64_t a = 0, b = UINT64_MAX;
	int have_a, have_b;

	if (hdr == NULL)
		return FW_HTTP_RANGE_NONE;
	while (is_ows(*p))
		p++;
	q = strchr(p, '=');
	if (q == NULL)
		return FW_HTTP_RANGE_BAD;
	/* another unit is not ours to refuse: the whole resource (RFC 9110 14.2) */
	if (q - p != 5 || strncasecmp(p, "bytes", 5) != 0)
		return FW_HTTP_RANGE_NONE;
	p = q + 1;
	/* several ranges: the whole file (no multipart/byteranges) */
	if (strchr(p, ',') != NULL)
		return FW_HTTP_RANGE_NONE;
	while (is_ows(*p))
		p++;
	q = p;
	digits(&q, &a);
	have_a = q != p;
	if (*q != '-')
		return FW_HTTP_RANGE_BAD;
	p = ++q;
	digits(&q, &b);
	have_b = q != p;
	while (is_ows(*q))
		q++;
	if (*q != '\0')
		return FW_HTTP_RANGE_BAD;
	if (!have_a) {
		/* suffix "-n": the last n bytes */
		if (!have_b || b == 0 || len == 0)
			return FW_HTTP_RANGE_BAD;
		*start = b >= len ? 0 : len - b;
		*end = len - 1;
		return FW_HTTP_RANGE_OK;
	}
	if (!have_b)
		b = UINT64_MAX;
	if (a >= len || a > b)
		return FW_HTTP_RANGE_BAD;
	*start = a;
	*end = b >= len ? len - 1 : b;
	return FW_HTTP_RANGE_OK;
}

/* ---- the log line ---- */

/* Length of the valid UTF-8 sequence at u (1..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *u)
{
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		return (u[1] & 0xc0) == 0x80 ? 2 : 0;
	if (u[0] >= 0xe0 && u[0] <= 0xef) {
		unsigned lo = u[0] == 0xe0 ? 0xa0 : 0x80, hi = u[0] == 0xed ? 0x9f : 0xbf;

		return u[1] >= lo && u[1] <= hi && (u[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		unsigned lo = u[0] == 0xf0 ? 0x90 : 0x80, hi = u[0] == 0xf4 ? 0x8f : 0xbf;

		return u[1] >= lo && u[1] <= hi && (u[2] & 0xc0) == 0x80 &&
		               (u[3] & 0xc0) == 0x80
		           ? 4
		           : 0;
	}
	return 0;
}

/* s as the inside of a JSON string. Paths, methods and device ids are
 * attacker-controlled: quotes, backslashes and control bytes are escaped
 * so a request cannot forge log fields or lines; bytes that are not
 * UTF-8 are written as \u00XX so the line stays valid JSON. Stops short
 * of end (the caller sizes the buffer for the worst case). */
static char *esc(char *p, const char *end, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	while (*u != 0 && end - p >= 7) {
		size_t n;

		if (*u == '"' || *u == '\\') {
			*p++ = '\\';
			*p++ = (char)*u++;
		} else if (*u >= 0x20 && *u < 0x7f) {
			*p++ = (char)*u++;
		} else if (*u >= 0x80 && (n = utf8_seq(u)) != 0) {
			memcpy(p, u, n);
			p += n;
			u += n;
		} else {
			memcpy(p, "\\u00", 4);
			p[4] = hex[*u >> 4];
			p[5] = hex[*u & 15];
			p += 6;
			u++;
		}
	}
	return p;
}

static char *lit(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define LIT(p, s) lit((p), (s), sizeof(s) - 1)

/* "2026-11-26T12:00:00" of the current second, formatted once per second
 * per thread. */
static const char *ts_second(time_t sec)
{
	static _Thread_local time_t cached = (time_t)-1;
	static _Thread_local char buf[32];

	if (sec != cached) {
		struct tm tm;

		if (gmtime_r(&sec, &tm) == NULL ||
		    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			strcpy(buf, "1970-01-01T00:00:00");
		cached = sec;
	}
	return buf;
}

static void log_line(const struct fw_http *h, const struct conn *k, uint64_t us)
{
	char line[LOG_LINE_MAX];
	const char *end = line + sizeof(line) - 128; /* room for the numbers and the tail */
	struct timespec now;
	char *p = line;
	ssize_t w;

	clock_gettime(CLOCK_REALTIME, &now);
	p += snprintf(p, 64, "{\"ts\":\"%s.%03ldZ\",\"peer\":\"", ts_second(now.tv_sec),
	              now.tv_nsec / 1000000);
	p = esc(p, end, k->peer);
	p = LIT(p, "\",\"method\":\"");
	p = esc(p, end, k->method);
	p = LIT(p, "\",\"path\":\"");
	p = esc(p, end, k->path);
	p += snprintf(p, 96, "\",\"status\":%d,\"bytes\":%llu,\"us\":%llu", k->status,
	              (unsigned long long)k->bytes, (unsigned long long)us);
	if (k->who[0] != 0) {
		p = LIT(p, ",\"who\":\"");
		p = esc(p, end, k->who);
		p = LIT(p, "\"");
	}
	if (k->note[0] != 0) {
		p = LIT(p, ",\"note\":\"");
		p = esc(p, end, k->note);
		p = LIT(p, "\"");
	}
	p = LIT(p, "}\n");
	/* one write: lines of several threads never interleave (O_APPEND
	 * files, pipes up to PIPE_BUF); a full or broken log loses the line,
	 * never the request */
	do
		w = write(h->log_fd, line, (size_t)(p - line));
	while (w < 0 && errno == EINTR);
}

/* ---- requests ---- */

static void copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap - 1) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = 0;
}

static void set_note(struct conn *k, const char *note)
{
	copy_trunc(k->note, sizeof(k->note), note);
}

static uint64_t elapsed_us(const struct timespec *t0)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

/* The end of a request: log, count, reset the connection for the next. */
static void finish(struct fw_http *h, struct conn *k, enum MHD_RequestTerminationCode toe)
{
	static const char *const why[] = {
	    [MHD_REQUEST_TERMINATED_WITH_ERROR] = "conn.error",
	    [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "conn.timeout",
	    [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "conn.shutdown",
	    [MHD_REQUEST_TERMINATED_READ_ERROR] = "conn.read_error",
	    [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "conn.client_abort",
	};

	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && k->note[0] == 0 &&
	    (size_t)toe < sizeof(why) / sizeof(why[0]) && why[toe] != NULL)
		set_note(k, why[toe]);
	if (h->log_fd >= 0)
		log_line(h, k, elapsed_us(&k->t0));
	if (k->answered && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		atomic_fetch_add_explicit(&h->served, 1, memory_order_relaxed);
	k->active = false;
	k->answered = false;
	k->status = 0;
	k->bytes = 0;
	k->body_len = 0;
	k->over = false;
	k->dropped = 0;
	k->who[0] = 0;
	k->note[0] = 0;
	if (k->body_cap > BODY_KEEP) {
		free(k->body);
		k->body = NULL;
		k->body_cap = 0;
	}
	/* last: fw_http_stop waits for this, log line included */
	atomic_fetch_sub_explicit(&h->in_flight, 1, memory_order_release);
}

/* HTTP token characters (RFC 9110 5.6.2): a header name. */
static bool header_name_ok(const char *s)
{
	if (s == NULL || *s == 0)
		return false;
	for (; *s != 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch) != NULL))
			return false;
	}
	return true;
}

/* No CR, LF or other control byte: a value from the handler (which may
 * carry a device's or a file's name) must not split the response. */
static bool header_value_ok(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s != 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

static bool resp_headers_ok(const struct fw_http_resp *rs)
{
	size_t i;

	if (rs->nheaders > FW_HTTP_MAX_HEADERS)
		return false;
	for (i = 0; i < rs->nheaders; i++)
		if (!header_name_ok(rs->header_name[i]) || !header_value_ok(rs->header_value[i]))
			return false;
	return (rs->content_type == NULL || header_value_ok(rs->content_type)) &&
	       (rs->etag == NULL || (header_value_ok(rs->etag) && strchr(rs->etag, '"') == NULL)) &&
	       (rs->filename == NULL || header_value_ok(rs->filename));
}

/* Queue r (NULL: out of memory, the connection is closed) and drop our
 * reference; the request's log fields follow. */
static enum MHD_Result answer(struct fw_http *h, struct conn *k, struct MHD_Connection *c,
                              unsigned status, struct MHD_Response *r, uint64_t bytes,
                              bool close)
{
	enum MHD_Result ret;

	if (r == NULL) {
		set_note(k, "http.nomem");
		return MHD_NO;
	}
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* an unread body, or the server stopping: no further request on it */
	if (close || atomic_load_explicit(&h->stopping, memory_order_relaxed))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES) {
		k->status = (int)status;
		k->bytes = k->head ? 0 : bytes;
		k->answered = true;
	}
	return ret;
}

/* The server's own answers: a short JSON body. */
static enum MHD_Result refuse(struct fw_http *h, struct conn *k, struct MHD_Connection *c,
                              unsigned status, const char *note, bool close)
{
	const char *msg;
	struct MHD_Response *r;

	switch (status) {
	case 404: msg = "{\"error\":\"not found\"}"; break;
	case 405: msg = "{\"error\":\"method not allowed\"}"; break;
	case 413: msg = "{\"error\":\"request body too large\"}"; break;
	case 414: msg = "{\"error\":\"request path too long\"}"; break;
	default: msg = "{\"error\":\"internal error\"}"; break;
	}
	if (note != NULL)
		set_note(k, note);
	r = MHD_create_response_from_buffer(strlen(msg), (void *)(uintptr_t)msg,
	                                    MHD_RESPMEM_PERSISTENT);
	if (r != NULL) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		if (status == 405)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ALLOW);
	}
	return answer(h, k, c, status, r, strlen(msg), close);
}

static void add_extra_headers(struct MHD_Response *r, const struct fw_http_resp *rs)
{
	size_t i;

	for (i = 0; i < rs->nheaders; i++)
		MHD_add_response_header(r, rs->header_name[i], rs->header_value[i]);
}

/* If-Range holds our strong validator exactly ("\"etag\""). */
static bool if_range_matches(const char *v, const char *etag)
{
	size_t n;

	if (etag == NULL)
		return false;
	n = strlen(etag);
	return strlen(v) == n + 2 && v[0] == '"' && memcmp(v + 1, etag, n) == 0 && v[n + 1] == '"';
}

static enum MHD_Result file_answer(struct fw_http *h, struct conn *k, struct MHD_Connection *c,
                                   const struct fw_http_resp *rs)
{
	struct MHD_Response *r;
	struct stat st;
	uint64_t len, start = 0, last = 0, n;
	unsigned status = MHD_HTTP_OK;
	char cr[80], cd[1024];
	int fd;

	fd = open(rs->file_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		           ? refuse(h, k, c, 404, "file.missing", false)
		           : refuse(h, k, c, 500, "file.open", false);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(h, k, c, 500, "file.not_regular", false);
	}
	len = (uint64_t)st.st_size;
	n = len;
	if (!k->head) {
		const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                                MHD_HTTP_HEADER_RANGE);
		const char *ifr = range == NULL ? NULL
		                                : MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                                              MHD_HTTP_HEADER_IF_RANGE);

		/* the client's copy is another version: start over */
		if (ifr != NULL && !if_range_matches(ifr, rs->etag))
			range = NULL;
		switch (fw_http_range_parse(range, len, &start, &last)) {
		case FW_HTTP_RANGE_OK:
			status = MHD_HTTP_PARTIAL_CONTENT;
			n = last - start + 1;
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
			         (unsigned long long)last, (unsigned long long)len);
			break;
		case FW_HTTP_RANGE_BAD:
			close(fd);
			snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)len);
			r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
			                                    MHD_RESPMEM_PERSISTENT);
			if (r != NULL) {
				MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
				MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
			}
			return answer(h, k, c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r, 0, false);
		default:
			break;
		}
	}
	/* MHD owns fd from here when it succeeds (closed with the response) */
	r = MHD_create_response_from_fd_at_offset64(n, fd, start);
	if (r == NULL) {
		close(fd);
		set_note(k, "http.nomem");
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        rs->content_type != NULL ? rs->content_type
	                                                 : "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == MHD_HTTP_PARTIAL_CONTENT)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	if (rs->etag != NULL) {
		snprintf(cd, sizeof(cd), "\"%s\"", rs->etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, cd);
	}
	if (rs->filename != NULL) {
		snprintf(cd, sizeof(cd), "attachment;filename=%s", rs->filename);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
	}
	add_extra_headers(r, rs);
	return answer(h, k, c, status, r, n, false);
}

/* The request is complete: the handler, then its answer. */
static enum MHD_Result dispatch(struct fw_http *h, struct conn *k, struct MHD_Connection *c,
                                const char *method, const char *url)
{
	struct fw_http_req rq;
	struct fw_http_resp rs;
	struct MHD_Response *r;
	unsigned status;

	rq.method = method;
	rq.path = url;
	rq.body = k->body_len > 0 ? k->body : NULL;
	rq.body_len = k->body_len;
	rq.peer = k->peer;
	rq.impl = c;
	memset(&rs, 0, sizeof(rs));
	h->handler(h->arg, &rq, &rs);
	copy_trunc(k->who, sizeof(k->who), rs.log_who);
	set_note(k, rs.log_note);

	if (!resp_headers_ok(&rs)) {
		free(rs.body);
		return refuse(h, k, c, 500, "http.bad_header", false);
	}
	if (rs.file_path != NULL) {
		free(rs.body);
		return file_answer(h, k, c, &rs);
	}
	status = rs.status >= 200 && rs.status <= 599 ? (unsigned)rs.status : 500;
	if (status == 204 || status == 304 || rs.body == NULL || rs.body_len == 0) {
		free(rs.body);
		rs.body = NULL;
		rs.body_len = 0;
		r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer_with_free_callback(rs.body_len, rs.body, free);
		if (r == NULL)
			free(rs.body);
	}
	if (r != NULL) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        rs.content_type != NULL ? rs.content_type
		                                                : "application/json");
		add_extra_headers(r, &rs);
	}
	return answer(h, k, c, status, r, rs.body_len, false);
}

static bool method_allowed(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "PUT") == 0 ||
	       strcmp(m, "POST") == 0;
}

/* The first call of a request: headers are in, no body yet. */
static enum MHD_Result begin(struct fw_http *h, struct conn *k, struct MHD_Connection *c,
                             const char *method, const char *url)
{
	const char *cl, *te;
	uint64_t announced = 0;
	bool body;

	atomic_fetch_add_explicit(&h->in_flight, 1, memory_order_relaxed);
	k->active = true;
	clock_gettime(CLOCK_MONOTONIC, &k->t0);
	copy_trunc(k->method, sizeof(k->method), method);
	copy_trunc(k->path, sizeof(k->path), url);
	k->head = strcmp(method, "HEAD") == 0;

	/* MHD has refused a malformed Content-Length (400) before us */
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (cl != NULL && fw_parse_u64(cl, &announced) != FW_OK)
		announced = UINT64_MAX;
	body = announced > 0 || te != NULL;

	/* answered before any body byte is read: no 100 Continue is sent, and
	 * a body that follows anyway is not taken for the next request */
	if (!method_allowed(method))
		return refuse(h, k, c, 405, "http.method", body);
	if (strlen(url) > FW_HTTP_MAX_PATH)
		return refuse(h, k, c, 414, "http.path_too_long", body);
	if (announced > h->max_body)
		return refuse(h, k, c, 413, "http.body_too_large", true);
	/* Not answered now even without a body: MHD 0.9.75 takes a response
	 * queued in the first call as "early" and closes the connection
	 * after it (no keep-alive). The next call comes at once when there
	 * is no body; with one, MHD reads it (100 Continue when asked). */
	return MHD_YES;
}

/* Room for n more body bytes, within max_body. */
static bool body_reserve(struct fw_http *h, struct conn *k, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > h->max_body - k->body_len)
		return false;
	need = k->body_len + n;
	if (need <= k->body_cap)
		return true;
	cap = k->body_cap > 0 ? k->body_cap : 4096;
	while (cap < need)
		cap = cap > h->max_body / 2 ? h->max_body : cap * 2;
	p = realloc(k->body, cap);
	if (p == NULL)
		return false;
	k->body = p;
	k->body_cap = cap;
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct fw_http *h = cls;
	struct conn *k = *con_cls;

	(void)version;
	if (k == NULL) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

		k = ci != NULL ? ci->socket_context : NULL;
		if (k == NULL)
			return MHD_NO; /* no memory for the connection: close it */
		*con_cls = k;
		return begin(h, k, c, method, url);
	}
	if (k->answered) { /* not expected from MHD: a response is queued once */
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->over) {
		/* past max_body: read on and drop until the body ends (MHD 0.9.75
		 * queues a response only before the body or after it), but not
		 * forever */
		if (*upload_size == 0) /* the body has ended */
			return refuse(h, k, c, 413, "http.body_too_large", true);
		k->dropped += *upload_size;
		*upload_size = 0;
		if (k->dropped > DROP_MAX) {
			set_note(k, "http.body_too_large");
			return MHD_NO; /* closes the connection, no answer */
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!body_reserve(h, k, *upload_size)) {
			if (*upload_size <= h->max_body - k->body_len) {
				set_note(k, "http.nomem");
				return MHD_NO;
			}
			k->over = true;
			k->dropped = *upload_size;
			*upload_size = 0;
			return MHD_YES;
		}
		memcpy(k->body + k->body_len, upload_data, *upload_size);
		k->body_len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(h, k, c, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)c;
	if (k != NULL && k->active)
		finish(cls, k, toe);
	*con_cls = NULL;
}

static void peer_name(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	strcpy(out, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, out, INET6_ADDRSTRLEN);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		/* an IPv4 client of a dual-stack socket: its IPv4 address */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, INET6_ADDRSTRLEN);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, out, INET6_ADDRSTRLEN);
	}
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct conn *k;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		k = calloc(1, sizeof(*k));
		if (k != NULL)
			peer_name(c, k->peer);
		*socket_context = k;
		return;
	}
	k = *socket_context;
	if (k != NULL) {
		/* MHD completes a request before closing its connection; this
		 * is only a guard so in_flight can never stay up */
		if (k->active)
			finish(cls, k, MHD_REQUEST_TERMINATED_WITH_ERROR);
		free(k->body);
		free(k);
	}
	*socket_context = NULL;
}

/* ---- start and stop ---- */

/* "127.0.0.1:8080", "[::1]:8080", ":8080" (any address). */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, int *any,
                        struct fw_diag *d)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s, *colon;
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*any = 0;
	if (s == NULL || *s == 0)
		return fw_diag_set(d, FW_E_ARG, "listen address: empty (expected host:port)");
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return fw_diag_set(d, FW_E_ARG, "%s: bad listen address (expected [ipv6]:port)", s);
		hl = (size_t)(rb - s - 1);
		port_s = rb + 2;
		if (hl == 0 || hl >= sizeof(host))
			return fw_diag_set(d, FW_E_ARG, "%s: bad IPv6 address", s);
		memcpy(host, s + 1, hl);
		host[hl] = 0;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return fw_diag_set(d, FW_E_ARG, "%s: bad listen address (expected host:port)", s);
		hl = (size_t)(colon - s);
		port_s = colon + 1;
		if (hl >= sizeof(host))
			return fw_diag_set(d, FW_E_ARG, "%s: bad IPv4 address", s);
		memcpy(host, s, hl);
		host[hl] = 0;
	}
	if (fw_parse_u64(port_s, &port) != FW_OK || port > 65535)
		return fw_diag_set(d, FW_E_ARG, "%s: bad port (expected 0-65535)", s);
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return fw_diag_set(d, FW_E_ARG, "%s: bad IPv6 address", s);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*a6);
	} else if (hl == 0) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*a6);
		*any = 1;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return fw_diag_set(d, FW_E_ARG, "%s: bad IPv4 address (numeric only)", s);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*a4);
	}
	return FW_OK;
}

static int try_listen(const struct sockaddr_storage *ss, socklen_t sl, int dual, int *out)
{
	int fd, one = 1, zero = 0, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* SO_REUSEADDR: restart while old connections are in TIME_WAIT; a
	 * live listener still conflicts (no SO_REUSEPORT) */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (dual && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
		e = errno;
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}

/* Bind and listen; ":port" is both IPv6 and IPv4 where the host has IPv6,
 * else IPv4 only. */
static int open_listener(const char *listen_s, int *fd, unsigned *port, struct fw_diag *d)
{
	struct sockaddr_storage ss, got;
	socklen_t sl = 0, gl = sizeof(got);
	int any = 0, e, rc;

	rc = parse_listen(listen_s, &ss, &sl, &any, d);
	if (rc != FW_OK)
		return rc;
	e = try_listen(&ss, sl, any, fd);
	if (e != 0 && any && (e == EAFNOSUPPORT || e == EADDRNOTAVAIL || e == EPROTONOSUPPORT)) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		uint16_t p = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = p;
		e = try_listen(&ss, sizeof(*a4), 0, fd);
	}
	if (e != 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", listen_s, strerror(e));
	if (getsockname(*fd, (struct sockaddr *)&got, &gl) != 0) {
		e = errno;
		close(*fd);
		return fw_diag_set(d, FW_E_IO, "%s: %s", listen_s, strerror(e));
	}
	*port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
	                                        : ((struct sockaddr_in *)&got)->sin_port);
	return FW_OK;
}

int fw_http_start(const struct fw_http_config *cfg, struct fw_http **out, struct fw_diag *d)
{
	struct fw_http *h;
	unsigned threads, conns, timeout;
	int rc;

	if (cfg == NULL || out == NULL || cfg->handler == NULL)
		return fw_diag_set(d, FW_E_ARG, "http: no configuration or no handler");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "http: out of memory");
	h->max_body = cfg->max_body != 0 ? cfg->max_body : FW_HTTP_MAX_BODY_DEFAULT;
	h->handler = cfg->handler;
	h->arg = cfg->arg;
	h->log_fd = cfg->log_fd;
	atomic_init(&h->served, 0);
	atomic_init(&h->in_flight, 0);
	atomic_init(&h->stopping, false);
	rc = open_listener(cfg->listen, &h->listen_fd, &h->port, d);
	if (rc != FW_OK) {
		free(h);
		return rc;
	}

	threads = cfg->threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	conns = cfg->max_connections != 0 ? cfg->max_connections : CONNECTIONS_DEFAULT;
	if (conns < threads)
		conns = threads; /* MHD splits the limit between the workers */
	timeout = cfg->timeout_s != 0 ? cfg->timeout_s : TIMEOUT_DEFAULT;

	/* No MHD_USE_ERROR_LOG: MHD would write to stderr from its threads.
	 * MHD_USE_ITC: MHD_quiesce_daemon needs it with internal threads.
	 * MHD blocks SIGPIPE in its own threads, so sendfile is safe. */
	h->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, 0, NULL, NULL,
	    on_request, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, MHD_OPTION_CONNECTION_LIMIT, conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip, /* 0: no limit */
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, h, MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(h->listen_fd);
		free(h);
		return fw_diag_set(d, FW_E_IO, "%s: the HTTP server did not start (%u threads)",
		                   cfg->listen, threads);
	}
	*out = h;
	return FW_OK;
}

unsigned fw_http_port(const struct fw_http *h)
{
	return h != NULL ? h->port : 0;
}

uint64_t fw_http_served(const struct fw_http *h)
{
	return h != NULL ? atomic_load((_Atomic uint64_t *)&h->served) : 0;
}

unsigned fw_http_in_flight(const struct fw_http *h)
{
	return h != NULL ? atomic_load((_Atomic unsigned *)&h->in_flight) : 0;
}

void fw_http_stop(struct fw_http *h, unsigned grace_ms)
{
	struct timespec t0, nap = {0, 2 * 1000 * 1000};

	if (h == NULL)
		return;
	atomic_store(&h->stopping, true);
	/* no new connection: MHD stops accepting, and shutting the listening
	 * socket down makes the kernel refuse connections instead of queueing
	 * them in the backlog (it is closed only after MHD_stop_daemon, as
	 * MHD asks) */
	if (MHD_quiesce_daemon(h->mhd) != MHD_INVALID_SOCKET)
		(void)shutdown(h->listen_fd, SHUT_RDWR);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load_explicit(&h->in_flight, memory_order_acquire) > 0 &&
	       elapsed_us(&t0) < (uint64_t)grace_ms * 1000)
		nanosleep(&nap, NULL);
	MHD_stop_daemon(h->mhd);
	close(h->listen_fd);
	free(h);
}

const char *fw_http_header(const struct fw_http_req *rq, const char *name)
{
	if (rq == NULL || rq->impl == NULL || name == NULL)
		return NULL;
	return MHD_lookup_connection_value(rq->impl, MHD_HEADER_KIND, name);
}

const char *fw_http_query(const struct fw_http_req *rq, const char *name)
{
	if (rq == NULL || rq->impl == NULL || name == NULL)
		return NULL;
	return MHD_lookup_connection_value(rq->impl, MHD_GET_ARGUMENT_KIND, name);
}
