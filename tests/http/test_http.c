/*
 * The http module against real sockets: each test starts the server on
 * 127.0.0.1 port 0 with the handler below and speaks raw HTTP/1.1 to it
 * (so requests can be malformed, oversized or stop half-way).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "http/http.h"
#include "harness.h"

#define FILE_LEN 1000

static char dir[256];
static char file_path[300], log_path[300];
static uint8_t content[FILE_LEN];
static atomic_int handler_calls;

static void setup_dir(void)
{
	size_t i;

	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/fwhttp-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	for (i = 0; i < FILE_LEN; i++)
		content[i] = (uint8_t)(i * 7 + 3);
	snprintf(file_path, sizeof(file_path), "%s/fw.bin", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	if (harness_write(file_path, content, FILE_LEN) != 0) {
		perror("write");
		exit(2);
	}
}

static void cleanup_dir(void)
{
	if (dir[0]) {
		unlink(file_path);
		unlink(log_path);
		rmdir(dir);
	}
}

static char *dup_body(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p && n)
		memcpy(p, s, n);
	return p;
}

static void handler(void *arg, const struct fw_http_req *rq, struct fw_http_resp *rs)
{
	(void)arg;
	atomic_fetch_add(&handler_calls, 1);
	if (strcmp(rq->path, "/body") == 0) {
		rs->status = 200;
		rs->body = dup_body("{\"ok\":true}", 11);
		rs->body_len = 11;
		rs->log_who = "dev1";
		rs->log_note = "poll";
	} else if (strcmp(rq->path, "/file") == 0) {
		rs->status = 200;
		rs->file_path = file_path;
		rs->etag = "abc";
		rs->filename = "fw.bin";
	} else if (strcmp(rq->path, "/missing") == 0) {
		rs->status = 200;
		rs->file_path = "/nonexistent/fwhttp/none.bin";
	} else if (strcmp(rq->path, "/echo") == 0) {
		/* body, one header and one query argument back */
		const char *x = fw_http_header(rq, "x-test");
		const char *q = fw_http_query(rq, "q");

		rs->status = 201;
		rs->content_type = "application/octet-stream";
		rs->body = dup_body((const char *)rq->body, rq->body_len);
		rs->body_len = rq->body_len;
		rs->nheaders = 2;
		rs->header_name[0] = "X-Echo";
		rs->header_value[0] = x ? x : "-";
		rs->header_name[1] = "X-Query";
		rs->header_value[1] = q ? q : "-";
	} else if (strcmp(rq->path, "/slow") == 0) {
		struct timespec ts = {0, 200 * 1000 * 1000};

		nanosleep(&ts, NULL);
		rs->status = 200;
		rs->body = dup_body("slow", 4);
		rs->body_len = 4;
	} else if (strcmp(rq->path, "/zero") == 0) {
		rs->status = 0;
	} else if (strcmp(rq->path, "/badheader") == 0) {
		rs->status = 200;
		rs->nheaders = 1;
		rs->header_name[0] = "X-Split";
		rs->header_value[0] = "a\r\nSet-Cookie: x=1";
	} else {
		rs->status = 404;
		rs->body = dup_body("{}", 2);
		rs->body_len = 2;
	}
}

/* ---- server and client helpers ---- */

static void config(struct fw_http_config *c, size_t max_body, int log_fd)
{
	setup_dir();
	memset(c, 0, sizeof(*c));
	c->listen = "127.0.0.1:0";
	c->threads = 2;
	c->max_body = max_body;
	c->timeout_s = 5;
	c->handler = handler;
	c->log_fd = log_fd;
}

static struct fw_http *start_cfg(const struct fw_http_config *c)
{
	struct fw_http *h = NULL;
	struct fw_diag d = {{0}};
	int rc;

	rc = fw_http_start(c, &h, &d);
	if (rc != FW_OK) {
		printf("  start: %s\n", d.msg);
		return NULL;
	}
	return h;
}

static struct fw_http *start(size_t max_body, int log_fd)
{
	struct fw_http_config c;

	config(&c, max_body, log_fd);
	return start_cfg(&c);
}

struct client {
	int fd;
	char buf[65536];
	size_t len;
};

struct resp {
	int status;
	char head[8192];
	char body[8192];
	size_t body_len;
	int closed; /* the server closed the connection after it */
};

static int cl_open(struct client *cl, unsigned port)
{
	struct sockaddr_in a;
	struct timeval tv = {5, 0};

	memset(cl, 0, sizeof(*cl));
	cl->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (cl->fd < 0)
		return -1;
	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(cl->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(cl->fd);
		cl->fd = -1;
		return -1;
	}
	return 0;
}

static void cl_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
}

static int cl_send(struct client *cl, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(cl->fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cl_sends(struct client *cl, const char *s)
{
	return cl_send(cl, s, strlen(s));
}

/* More bytes into the buffer: >0 read, 0 closed, <0 error or timeout. */
static ssize_t cl_fill(struct client *cl)
{
	ssize_t r;

	if (cl->len == sizeof(cl->buf))
		return -1;
	r = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, 0);
	if (r > 0)
		cl->len += (size_t)r;
	return r;
}

static void cl_consume(struct client *cl, size_t n)
{
	memmove(cl->buf, cl->buf + n, cl->len - n);
	cl->len -= n;
}

/* A response header's value (case-insensitive name) into out; 0 if absent. */
static int hdr(const struct resp *r, const char *name, char *out, size_t cap)
{
	const char *p = r->head;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			if (e == NULL || (size_t)(e - v) >= cap)
				return 0;
			memcpy(out, v, (size_t)(e - v));
			out[e - v] = 0;
			return 1;
		}
	}
	return 0;
}

/* One response; head_req: no body follows whatever Content-Length says. */
static int cl_read(struct client *cl, struct resp *r, int head_req)
{
	char *e;
	size_t hl, want = 0;
	char v[64];
	int have_len;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	while ((e = memmem(cl->buf, cl->len, "\r\n\r\n", 4)) == NULL)
		if (cl_fill(cl) <= 0)
			return -1;
	hl = (size_t)(e - cl->buf) + 4;
	if (hl >= sizeof(r->head))
		return -1;
	memcpy(r->head, cl->buf, hl);
	r->head[hl] = 0;
	cl_consume(cl, hl);
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	have_len = hdr(r, "Content-Length", v, sizeof(v));
	if (have_len)
		want = strtoul(v, NULL, 10);
	if (head_req || r->status < 200 || r->status == 204 || r->status == 304)
		return 0;
	if (have_len) {
		if (want > sizeof(r->body))
			return -1;
		while (cl->len < want)
			if (cl_fill(cl) <= 0)
				return -1;
		memcpy(r->body, cl->buf, want);
		r->body_len = want;
		cl_consume(cl, want);
		return 0;
	}
	while ((n = cl_fill(cl)) > 0)
		;
	if (n < 0 || cl->len > sizeof(r->body))
		return -1;
	memcpy(r->body, cl->buf, cl->len);
	r->body_len = cl->len;
	cl->len = 0;
	r->closed = 1;
	return 0;
}

/* The server closed the connection (EOF within the timeout, no bytes). */
static int cl_eof(struct client *cl)
{
	return cl->len == 0 && cl_fill(cl) == 0;
}

/* Open, send req, read one response, close. */
static int roundtrip(unsigned port, const char *req, struct resp *r)
{
	struct client *cl = malloc(sizeof(*cl));
	int rc = -1;

	if (cl == NULL)
		return -1;
	if (cl_open(cl, port) == 0 && cl_sends(cl, req) == 0)
		rc = cl_read(cl, r, strncmp(req, "HEAD ", 5) == 0);
	cl_close(cl);
	free(cl);
	return rc;
}

/* Requests are counted (and logged) just after their response went out. */
static void wait_served(struct fw_http *h, uint64_t n)
{
	int i;

	for (i = 0; i < 2000 && fw_http_served(h) < n; i++)
		usleep(1000);
}

static int hdr_is(const struct resp *r, const char *name, const char *want)
{
	char v[512];

	return hdr(r, name, v, sizeof(v)) && strcmp(v, want) == 0;
}

/* ---- tests ---- */

static void t_range_parse(void)
{
	uint64_t a = 77, b = 77;

	CHECK_EQ(fw_http_range_parse(NULL, 100, &a, &b), FW_HTTP_RANGE_NONE);
	CHECK_EQ(fw_http_range_parse("bytes=0-9", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 0 && b == 9);
	CHECK_EQ(fw_http_range_parse("bytes=90-", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 90 && b == 99);
	CHECK_EQ(fw_http_range_parse("bytes=90-500", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 90 && b == 99);
	CHECK_EQ(fw_http_range_parse("bytes=-10", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 90 && b == 99);
	CHECK_EQ(fw_http_range_parse("bytes=-1000", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 0 && b == 99);
	CHECK_EQ(fw_http_range_parse("Bytes= 5-5 ", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 5 && b == 5);
	CHECK_EQ(fw_http_range_parse("bytes=0-99999999999999999999999", 100, &a, &b), FW_HTTP_RANGE_OK);
	CHECK(a == 0 && b == 99);
	a = b = 77;
	CHECK_EQ(fw_http_range_parse("bytes=100-", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=5-4", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=-0", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=-", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=a-b", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=1-2x", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=0-0", 0, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("bytes=-5", 0, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK_EQ(fw_http_range_parse("0-5", 100, &a, &b), FW_HTTP_RANGE_BAD);
	CHECK(a == 77 && b == 77); /* untouched when not OK */
	CHECK_EQ(fw_http_range_parse("bytes=0-1,5-6", 100, &a, &b), FW_HTTP_RANGE_NONE);
	CHECK_EQ(fw_http_range_parse("items=0-5", 100, &a, &b), FW_HTTP_RANGE_NONE);
	CHECK(a == 77 && b == 77);
}

static void t_get_body(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	CHECK(fw_http_port(h) != 0);
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /body HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, 11);
	CHECK(memcmp(r.body, "{\"ok\":true}", 11) == 0);
	CHECK(hdr_is(&r, "Content-Type", "application/json"));
	CHECK(hdr_is(&r, "X-Content-Type-Options", "nosniff"));
	/* a body with a NUL byte, a header and a query argument reach the handler */
	{
		struct client *cl = malloc(sizeof(*cl));
		static const char req[] = "POST /echo?q=v%21 HTTP/1.1\r\nHost: x\r\nX-Test: hi\r\n"
		                          "Content-Length: 5\r\n\r\nab\0cd";

		CHECK(cl != NULL && cl_open(cl, fw_http_port(h)) == 0);
		CHECK_EQ(cl_send(cl, req, sizeof(req) - 1), 0);
		CHECK_EQ(cl_read(cl, &r, 0), 0);
		CHECK_EQ(r.status, 201);
		CHECK_EQ(r.body_len, 5);
		CHECK(memcmp(r.body, "ab\0cd", 5) == 0);
		CHECK(hdr_is(&r, "X-Echo", "hi"));
		CHECK(hdr_is(&r, "X-Query", "v!"));
		CHECK(hdr_is(&r, "Content-Type", "application/octet-stream"));
		cl_close(cl);
		free(cl);
	}
	/* status 0 from the handler is 500; a header that would split the
	 * response is refused */
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /zero HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 500);
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /badheader HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 500);
	CHECK(strstr(r.head, "Set-Cookie") == NULL);
	fw_http_stop(h, 1000);
}

static void t_head_file(void)
{
	struct fw_http *h = start(0, -1);
	struct client *cl = malloc(sizeof(*cl));
	struct resp r;

	CHECK(h != NULL && cl != NULL);
	if (h == NULL || cl == NULL)
		goto out;
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	/* HEAD then GET on one connection: a body after HEAD would be read
	 * as the GET's status line */
	CHECK_EQ(cl_sends(cl, "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 1), 0);
	CHECK_EQ(r.status, 200);
	CHECK(hdr_is(&r, "Content-Length", "1000"));
	CHECK(hdr_is(&r, "Accept-Ranges", "bytes"));
	CHECK(hdr_is(&r, "ETag", "\"abc\""));
	CHECK(hdr_is(&r, "Content-Disposition", "attachment;filename=fw.bin"));
	CHECK(hdr_is(&r, "Content-Type", "application/octet-stream"));
	CHECK(hdr_is(&r, "X-Content-Type-Options", "nosniff"));
	CHECK_EQ(cl_sends(cl, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, FILE_LEN);
	CHECK(memcmp(r.body, content, FILE_LEN) == 0);
	cl_close(cl);
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 404);
out:
	free(cl);
	fw_http_stop(h, 1000);
}

static void t_range(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;
	unsigned port;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	port = fw_http_port(h);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 206);
	CHECK(hdr_is(&r, "Content-Range", "bytes 10-19/1000"));
	CHECK(hdr_is(&r, "Content-Length", "10"));
	CHECK_EQ(r.body_len, 10);
	CHECK(memcmp(r.body, content + 10, 10) == 0);
	/* end past the file: clamped */
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=990-5000\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 206);
	CHECK(hdr_is(&r, "Content-Range", "bytes 990-999/1000"));
	CHECK_EQ(r.body_len, 10);
	CHECK(memcmp(r.body, content + 990, 10) == 0);
	/* open-ended */
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=998-\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 206);
	CHECK_EQ(r.body_len, 2);
	CHECK(memcmp(r.body, content + 998, 2) == 0);
	/* several ranges: the whole file */
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,5-6\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, FILE_LEN);
	fw_http_stop(h, 1000);
}

static void t_suffix_range(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=-5\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 206);
	CHECK(hdr_is(&r, "Content-Range", "bytes 995-999/1000"));
	CHECK_EQ(r.body_len, 5);
	CHECK(memcmp(r.body, content + 995, 5) == 0);
	fw_http_stop(h, 1000);
}

static void t_range_416(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;
	unsigned port;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	port = fw_http_port(h);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 416);
	CHECK(hdr_is(&r, "Content-Range", "bytes */1000"));
	CHECK_EQ(r.body_len, 0);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=7-3\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 416);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=x-3\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 416);
	fw_http_stop(h, 1000);
}

static void t_if_range(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;
	unsigned port;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	port = fw_http_port(h);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n"
	                         "If-Range: \"other\"\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, FILE_LEN);
	CHECK(memcmp(r.body, content, FILE_LEN) == 0);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n"
	                         "If-Range: W/\"abc\"\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(roundtrip(port, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n"
	                         "If-Range: \"abc\"\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 206);
	CHECK_EQ(r.body_len, 4);
	fw_http_stop(h, 1000);
}

static void t_body_413(void)
{
	struct fw_http *h = start(1024, -1);
	struct client *cl = malloc(sizeof(*cl));
	struct resp r;
	char req[4096];
	int before;

	CHECK(h != NULL && cl != NULL);
	if (h == NULL || cl == NULL)
		goto out;
	before = atomic_load(&handler_calls);
	/* announced over the cap: answered at once, nothing of the body read,
	 * and the connection is closed (the body is not a next request) */
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(cl, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 413);
	CHECK(hdr_is(&r, "Connection", "close"));
	CHECK(cl_eof(cl));
	cl_close(cl);
	/* the same with Expect: 100-continue: no 100 before the 413 */
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(cl, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n"
	                      "Expect: 100-continue\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 413);
	cl_close(cl);
	/* at the cap with 100-continue: 100, then the body, then the answer */
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(cl, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n"
	                      "Expect: 100-continue\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 100);
	memset(req, 'b', 1024);
	CHECK_EQ(cl_send(cl, req, 1024), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 201);
	CHECK_EQ(r.body_len, 1024);
	cl_close(cl);
	/* streamed (chunked) past the cap: 413 */
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(cl, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
	memset(req, 'a', sizeof(req));
	memcpy(req, "400\r\n", 5);
	memcpy(req + 5 + 0x400, "\r\n", 2);
	CHECK_EQ(cl_send(cl, req, 5 + 0x400 + 2), 0);
	CHECK_EQ(cl_send(cl, req, 5 + 0x400 + 2), 0);
	CHECK_EQ(cl_sends(cl, "0\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 413);
	CHECK(hdr_is(&r, "Connection", "close"));
	CHECK(cl_eof(cl));
	cl_close(cl);
	/* streamed on and on (16 MiB): cut off (closed, no answer) after 1 MiB more */
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(cl, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
	{
		int i, sent_all = 1;

		for (i = 0; i < 16384 && sent_all; i++)
			sent_all = cl_send(cl, req, 5 + 0x400 + 2) == 0;
		CHECK(!sent_all);
	}
	cl_close(cl);
	/* only the accepted upload reached the handler */
	CHECK_EQ(atomic_load(&handler_calls) - before, 1);
out:
	free(cl);
	fw_http_stop(h, 1000);
}

static void t_path_414(void)
{
	struct fw_http *h = start(0, -1);
	char *req = malloc(FW_HTTP_MAX_PATH + 64);
	struct resp r;
	int before;

	CHECK(h != NULL && req != NULL);
	if (h == NULL || req == NULL)
		goto out;
	before = atomic_load(&handler_calls);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'p', FW_HTTP_MAX_PATH); /* path of MAX + 1 bytes */
	strcpy(req + 5 + FW_HTTP_MAX_PATH, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK_EQ(roundtrip(fw_http_port(h), req, &r), 0);
	CHECK_EQ(r.status, 414);
	CHECK_EQ(atomic_load(&handler_calls), before);
	/* exactly at the limit: the handler's (404) */
	strcpy(req + 5 + FW_HTTP_MAX_PATH - 1, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK_EQ(roundtrip(fw_http_port(h), req, &r), 0);
	CHECK_EQ(r.status, 404);
out:
	free(req);
	fw_http_stop(h, 1000);
}

static void t_method_405(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;
	int before;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	before = atomic_load(&handler_calls);
	CHECK_EQ(roundtrip(fw_http_port(h), "DELETE /body HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 405);
	CHECK(hdr_is(&r, "Allow", "GET, HEAD, PUT, POST"));
	CHECK_EQ(roundtrip(fw_http_port(h), "get /body HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 405);
	CHECK_EQ(atomic_load(&handler_calls), before);
	fw_http_stop(h, 1000);
}

static void t_keep_alive(void)
{
	struct fw_http *h = start(0, -1);
	struct client *cl = malloc(sizeof(*cl));
	struct resp r;
	int i;

	CHECK(h != NULL && cl != NULL);
	if (h == NULL || cl == NULL)
		goto out;
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(cl_sends(cl, "GET /body HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
		CHECK_EQ(cl_read(cl, &r, 0), 0);
		CHECK_EQ(r.status, 200);
		CHECK(!hdr_is(&r, "Connection", "close"));
	}
	/* pipelined: two requests in one write */
	CHECK_EQ(cl_sends(cl, "GET /body HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 404);
	cl_close(cl);
	wait_served(h, 5);
	CHECK_EQ(fw_http_served(h), 5);
	CHECK_EQ(fw_http_in_flight(h), 0);
out:
	free(cl);
	fw_http_stop(h, 1000);
}

/* The log's lines, parsed. */
static json_t *log_lines(void)
{
	size_t len = 0;
	unsigned char *buf = harness_read(log_path, &len);
	json_t *arr = json_array();
	char *line, *save = NULL;

	if (buf == NULL)
		return arr;
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	CHECK(len > 0 && buf[len - 1] == '\n');
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);

		if (j == NULL)
			printf("  not JSON: %s (%s)\n", line, err.text);
		CHECK(j != NULL);
		if (j)
			json_array_append_new(arr, j);
	}
	free(buf);
	return arr;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void t_log_line(void)
{
	int fd;
	struct fw_http *h;
	struct resp r;
	json_t *arr, *o;
	const char *ts;

	setup_dir();
	unlink(log_path);
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	h = start(0, fd);
	CHECK(h != NULL);
	if (h == NULL)
		goto out;
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /body?token=SECRET HTTP/1.1\r\nHost: x\r\n"
	                                    "Authorization: Bearer SECRET\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 404);
	wait_served(h, 2);
	fw_http_stop(h, 1000);
	arr = log_lines();
	CHECK_EQ(json_array_size(arr), 2);
	o = json_array_get(arr, 0);
	if (o != NULL) {
		ts = jstr(o, "ts");
		CHECK(ts != NULL && strlen(ts) == 24 && ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
		CHECK(jstr(o, "peer") && strcmp(jstr(o, "peer"), "127.0.0.1") == 0);
		CHECK(jstr(o, "method") && strcmp(jstr(o, "method"), "GET") == 0);
		CHECK(jstr(o, "path") && strcmp(jstr(o, "path"), "/body") == 0);
		CHECK_EQ(json_integer_value(json_object_get(o, "status")), 200);
		CHECK_EQ(json_integer_value(json_object_get(o, "bytes")), 11);
		CHECK(json_is_integer(json_object_get(o, "us")));
		CHECK(jstr(o, "who") && strcmp(jstr(o, "who"), "dev1") == 0);
		CHECK(jstr(o, "note") && strcmp(jstr(o, "note"), "poll") == 0);
		CHECK_EQ(json_object_size(o), 9);
	}
	o = json_array_get(arr, 1);
	if (o != NULL) {
		CHECK_EQ(json_integer_value(json_object_get(o, "status")), 404);
		CHECK(jstr(o, "note") && strcmp(jstr(o, "note"), "file.missing") == 0);
		CHECK(json_object_get(o, "who") == NULL);
	}
	json_decref(arr);
	/* neither the query string nor the Authorization header */
	{
		size_t len = 0;
		unsigned char *raw = harness_read(log_path, &len);

		CHECK(raw != NULL && memmem(raw, len, "SECRET", 6) == NULL);
		free(raw);
	}
out:
	if (fd >= 0)
		close(fd);
}

static void t_log_escape(void)
{
	int fd;
	struct fw_http *h;
	struct resp r;
	json_t *arr, *o;
	size_t len = 0;
	unsigned char *raw;

	setup_dir();
	unlink(log_path);
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	h = start(0, fd);
	CHECK(h != NULL);
	if (h == NULL)
		goto out;
	/* decoded: a quote, a control byte, a newline, a backslash, a byte
	 * that is not UTF-8, and a real UTF-8 character */
	CHECK_EQ(roundtrip(fw_http_port(h), "GET /a%22b%01c%0a%5c%ff%c3%a9 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 404);
	wait_served(h, 1);
	fw_http_stop(h, 1000);
	raw = harness_read(log_path, &len);
	CHECK(raw != NULL);
	if (raw != NULL) {
		CHECK(memmem(raw, len, "\"path\":\"/a\\\"b\\u0001c\\u000a\\\\\\u00ff\xc3\xa9\"", 37) != NULL);
		CHECK(memchr(raw, '\n', len) == raw + len - 1); /* one line */
		free(raw);
	}
	arr = log_lines();
	CHECK_EQ(json_array_size(arr), 1);
	o = json_array_get(arr, 0);
	CHECK(o != NULL && jstr(o, "path") != NULL &&
	      strcmp(jstr(o, "path"), "/a\"b\001c\n\\\xc3\xbf\xc3\xa9") == 0);
	json_decref(arr);
out:
	if (fd >= 0)
		close(fd);
}

struct stopper {
	struct fw_http *h;
	unsigned grace;
};

static void *stop_thread(void *p)
{
	struct stopper *s = p;

	fw_http_stop(s->h, s->grace);
	return NULL;
}

static void t_stop_in_flight(void)
{
	struct fw_http *h = start(0, -1);
	struct client *cl = malloc(sizeof(*cl)), *late = malloc(sizeof(*late));
	struct stopper s;
	pthread_t th;
	struct resp r;
	unsigned port;
	int i, started = 0;

	CHECK(h != NULL && cl != NULL && late != NULL);
	if (h == NULL || cl == NULL || late == NULL)
		goto out;
	port = fw_http_port(h);
	CHECK_EQ(cl_open(cl, port), 0);
	CHECK_EQ(cl_sends(cl, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	for (i = 0; i < 1000 && fw_http_in_flight(h) == 0; i++)
		usleep(1000);
	CHECK_EQ(fw_http_in_flight(h), 1);
	s.h = h;
	s.grace = 5000;
	started = pthread_create(&th, NULL, stop_thread, &s) == 0;
	CHECK(started);
	usleep(50 * 1000);
	/* stopping: no new connection while the slow one finishes */
	CHECK(cl_open(late, port) != 0);
	CHECK_EQ(cl_read(cl, &r, 0), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, 4);
	CHECK(memcmp(r.body, "slow", 4) == 0);
	CHECK(hdr_is(&r, "Connection", "close"));
	cl_close(cl);
	if (started)
		pthread_join(th, NULL);
	h = NULL;
	CHECK(cl_open(late, port) != 0);
out:
	free(cl);
	free(late);
	fw_http_stop(h, 0);
}

/* A stuck request does not hold stop past its grace period. */
static void t_stop_grace(void)
{
	struct fw_http *h = start(0, -1);
	struct client *cl = malloc(sizeof(*cl));
	struct timespec t0, t1;
	long ms;
	int i;

	CHECK(h != NULL && cl != NULL);
	if (h == NULL || cl == NULL)
		goto out;
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	/* headers in, body never comes: in flight until stopped */
	CHECK_EQ(cl_sends(cl, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"), 0);
	for (i = 0; i < 1000 && fw_http_in_flight(h) == 0; i++)
		usleep(1000);
	CHECK_EQ(fw_http_in_flight(h), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fw_http_stop(h, 100);
	h = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 90 && ms < 2000);
	CHECK(cl_eof(cl));
	cl_close(cl);
out:
	free(cl);
	fw_http_stop(h, 0);
}

static void t_bind_conflict(void)
{
	struct fw_http *a = start(0, -1), *b = NULL;
	struct fw_http_config c;
	struct fw_diag d = {{0}};
	char listen[64];

	CHECK(a != NULL);
	if (a == NULL)
		return;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", fw_http_port(a));
	memset(&c, 0, sizeof(c));
	c.listen = listen;
	c.threads = 1;
	c.handler = handler;
	c.log_fd = -1;
	CHECK_EQ(fw_http_start(&c, &b, &d), FW_E_IO);
	CHECK(b == NULL);
	CHECK(strstr(d.msg, listen) != NULL);
	CHECK(strstr(d.msg, "Address already in use") != NULL);
	fw_http_stop(a, 0);
}

static void t_listen_strings(void)
{
	static const char *const bad[] = {
	    "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8a", "127.0.0.1:-1",
	    "localhost:8080", "1.2.3.4.5:80", "[::1:80", "[::1]80", "[]:80", "[::g]:80",
	    "::1:80", "127.0.0.1: 80",
	};
	struct fw_http_config c;
	struct fw_http *h = NULL;
	struct fw_diag d;
	struct resp r;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	c.threads = 1;
	c.handler = handler;
	c.log_fd = -1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		c.listen = bad[i];
		rc = fw_http_start(&c, &h, &d);
		if (rc != FW_E_ARG)
			printf("  listen \"%s\": %d %s\n", bad[i], rc, d.msg);
		CHECK_EQ(rc, FW_E_ARG);
		CHECK(h == NULL);
		CHECK(bad[i][0] == 0 || strstr(d.msg, bad[i]) != NULL);
	}
	c.listen = NULL;
	CHECK_EQ(fw_http_start(&c, &h, &d), FW_E_ARG);
	/* any address: reachable on 127.0.0.1 */
	c.listen = ":0";
	CHECK_EQ(fw_http_start(&c, &h, &d), FW_OK);
	if (h != NULL) {
		CHECK_EQ(roundtrip(fw_http_port(h), "GET /body HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
		CHECK_EQ(r.status, 200);
		fw_http_stop(h, 0);
		h = NULL;
	}
	/* IPv6 loopback, where the host has it */
	c.listen = "[::1]:0";
	rc = fw_http_start(&c, &h, &d);
	CHECK(rc == FW_OK || rc == FW_E_IO);
	fw_http_stop(h, 0);
	fw_http_stop(NULL, 0);
}

static void t_counters(void)
{
	struct fw_http *h = start(0, -1);
	struct resp r;
	int i;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	CHECK_EQ(fw_http_served(h), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(roundtrip(fw_http_port(h), "GET /body HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	wait_served(h, 4);
	CHECK_EQ(fw_http_served(h), 4);
	CHECK_EQ(fw_http_in_flight(h), 0);
	fw_http_stop(h, 0);
}

/* MHD's own limits: headers over the connection's memory (431), a
 * request line over it (414); neither reaches the handler. */
static void t_header_memory(void)
{
	struct fw_http *h = start(0, -1);
	char *req = malloc(48 * 1024);
	struct resp r;
	int before;

	CHECK(h != NULL && req != NULL);
	if (h == NULL || req == NULL)
		goto out;
	before = atomic_load(&handler_calls);
	strcpy(req, "GET /body HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + strlen(req), 'a', 40 * 1024);
	strcpy(req + strlen("GET /body HTTP/1.1\r\nHost: x\r\nX-Big: ") + 40 * 1024, "\r\n\r\n");
	CHECK_EQ(roundtrip(fw_http_port(h), req, &r), 0);
	CHECK_EQ(r.status, 431);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'p', 40 * 1024);
	strcpy(req + 5 + 40 * 1024, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK_EQ(roundtrip(fw_http_port(h), req, &r), 0);
	CHECK_EQ(r.status, 414);
	CHECK_EQ(atomic_load(&handler_calls), before);
out:
	free(req);
	fw_http_stop(h, 0);
}

/* A client that stops talking is closed after timeout_s. */
static void t_idle_timeout(void)
{
	struct fw_http_config c;
	struct fw_http *h;
	struct client *cl = malloc(sizeof(*cl));
	struct timespec t0, t1;
	long ms;

	config(&c, 0, -1);
	c.timeout_s = 1;
	h = start_cfg(&c);
	CHECK(h != NULL && cl != NULL);
	if (h == NULL || cl == NULL)
		goto out;
	CHECK_EQ(cl_open(cl, fw_http_port(h)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(cl_sends(cl, "GET /body HTTP/1.1\r\nHo"), 0);
	CHECK(cl_eof(cl));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 900 && ms < 4000);
	cl_close(cl);
out:
	free(cl);
	fw_http_stop(h, 0);
}

/* max_per_ip: the second connection from 127.0.0.1 is closed unanswered. */
static void t_per_ip_limit(void)
{
	struct fw_http_config c;
	struct fw_http *h;
	struct client *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct resp r;

	config(&c, 0, -1);
	c.max_per_ip = 1;
	h = start_cfg(&c);
	CHECK(h != NULL && a != NULL && b != NULL);
	if (h == NULL || a == NULL || b == NULL)
		goto out;
	CHECK_EQ(cl_open(a, fw_http_port(h)), 0);
	CHECK_EQ(cl_sends(a, "GET /body HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_EQ(cl_read(a, &r, 0), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(cl_open(b, fw_http_port(h)), 0); /* the kernel accepts; MHD closes */
	cl_sends(b, "GET /body HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(cl_read(b, &r, 0) != 0);
	cl_close(b);
	/* the first one still works */
	CHECK_EQ(cl_sends(a, "GET /body HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	CHECK_EQ(cl_read(a, &r, 0), 0);
	CHECK_EQ(r.status, 200);
	cl_close(a);
out:
	free(a);
	free(b);
	fw_http_stop(h, 0);
}

static const struct harness_test tests[] = {
    {"range_parse", t_range_parse},
    {"get_body_echo_500", t_get_body},
    {"head_file_and_get", t_head_file},
    {"range_206", t_range},
    {"range_suffix", t_suffix_range},
    {"range_416", t_range_416},
    {"if_range_mismatch_whole_file", t_if_range},
    {"body_413_expect_chunked", t_body_413},
    {"path_414", t_path_414},
    {"method_405", t_method_405},
    {"keep_alive_pipelined", t_keep_alive},
    {"log_line_fields", t_log_line},
    {"log_escapes_path", t_log_escape},
    {"stop_finishes_in_flight", t_stop_in_flight},
    {"stop_grace_bounded", t_stop_grace},
    {"bind_conflict_io", t_bind_conflict},
    {"listen_strings", t_listen_strings},
    {"counters", t_counters},
    {"header_memory_431_414", t_header_memory},
    {"idle_timeout", t_idle_timeout},
    {"per_ip_limit", t_per_ip_limit},
};

int main(int argc, char **argv)
{
	int rc = harness_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);

	cleanup_dir();
	return rc;
}
