/*
 * One device's poll cycle against a hawkBit DDI server: poll, configData,
 * cancel, and a deployment: envelope verified by libfwv before a byte of
 * the image is accepted, the image streamed through the verifier into
 * download.part (resumable), installed only after fwv_finish, the sequence
 * counter persisted only after that, then the result reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/device.h"

#define FEEDBACK_ATTEMPTS 5
#define DOWNLOAD_ATTEMPTS 5
#define ENVELOPE_ATTEMPTS 3
#define MAX_BACKOFF_S 60u      /* longest wait after failed polls (unless sleep is longer) */
#define DEFAULT_SLEEP_S 10u    /* before the server said otherwise */
#define URL_MAX (AGENT_MAX_HREF + 512)

/* ---- small helpers ---- */

double agent_rand(struct agent *a)
{
	/* splitmix64: tiny, seedable, good enough for simulation draws */
	uint64_t z = (a->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

/* snprintf for messages: cut to cap (the caller sized it for a line) */
static void say(char *out, size_t cap, const char *fmt, ...) FW_PRINTF(3, 4);
static void say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

static void in_dir(const struct agent *a, const char *name, char out[PATH_MAX])
{
	/* a->dir was checked to leave room (agent.c) */
	if (snprintf(out, PATH_MAX, "%s/%s", a->dir, name) >= PATH_MAX)
		out[0] = '\0';
}

static void base_url(const struct agent_config *cfg, const struct agent *a, char out[URL_MAX])
{
	if (snprintf(out, URL_MAX, "%s/%s/controller/v1/%s", cfg->server, cfg->tenant, a->id) >=
	    URL_MAX)
		out[0] = '\0';
}

/* Log what a poll said only when it differs from the last poll: a device
 * polling every few seconds stays quiet while nothing changes. */
static void note(const struct agent_config *cfg, struct agent *a, int error, const char *fmt, ...)
    FW_PRINTF(4, 5);
static void note(const struct agent_config *cfg, struct agent *a, int error, const char *fmt, ...)
{
	char buf[sizeof(a->last_note)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, a->last_note) == 0)
		return;
	memcpy(a->last_note, buf, sizeof(buf));
	if (error)
		agent_log(cfg, a, "%s", buf);
	else
		agent_vlog(cfg, a, "%s", buf);
}

static unsigned sleep_of(const struct agent_config *cfg, const struct agent *a)
{
	unsigned s = cfg->poll_s ? cfg->poll_s : a->sleep_s ? a->sleep_s : DEFAULT_SLEEP_S;

	return s ? s : 1; /* "00:00:00" would spin */
}

static void schedule(const struct agent_config *cfg, struct agent *a, int ok)
{
	uint64_t base = sleep_of(cfg, a), ms = base * 1000u;

	if (!ok) {
		/* doubling backoff after failed polls, capped */
		uint64_t cap = (base > MAX_BACKOFF_S ? base : MAX_BACKOFF_S) * 1000u;
		unsigned k = a->fails > 0 ? a->fails - 1 : 0;

		ms = base * 1000u << (k > 6 ? 6 : k);
		if (ms > cap)
			ms = cap;
		if (a->retry_after && ms < a->retry_after * 1000u)
			ms = a->retry_after * 1000u;
	}
	if (cfg->fleet) /* +-10 %: a fleet spreads instead of polling in lockstep */
		ms = (uint64_t)((double)ms * (0.9 + 0.2 * agent_rand(a)));
	a->due_ms = agent_now_ms() + (int64_t)ms;
}

static void remove_partial(const struct agent_config *cfg, struct agent *a, const char *why)
{
	char part[PATH_MAX], meta[PATH_MAX];
	struct stat sb;

	in_dir(a, "download.part", part);
	in_dir(a, "download.json", meta);
	if (stat(part, &sb) == 0)
		agent_vlog(cfg, a, "deleted partial download (%lld bytes): %s", (long long)sb.st_size,
		           why);
	unlink(part);
	unlink(meta);
}

/* ---- opening an agent ---- */

int agent_open(struct agent *a, const struct agent_state *init, struct fw_diag *d)
{
	char path[PATH_MAX];
	int rc;

	if (mkdir(a->dir, 0700) != 0 && errno != EEXIST)
		return fw_diag_set(d, FW_E_IO, "%s: %s", a->dir, strerror(errno));
	in_dir(a, "state.json", path);
	rc = agent_state_load(path, &a->state, d);
	if (rc == FW_E_NOT_FOUND) {
		if (init == NULL)
			return fw_diag_set(d, FW_E_ARG,
			                   "%s: no state yet: give --sequence and --version (what the "
			                   "device runs now)",
			                   path);
		a->state = *init;
		rc = agent_state_save(path, &a->state, d);
	}
	return rc;
}

/* ---- feedback ---- */

/* POST a feedback, retried on network errors, 5xx, 408 and 429. Returns the
 * final HTTP status (0: no answer). */
static long post_feedback(const struct agent_config *cfg, struct agent *a,
                          struct ddi_conn *conn, struct agent_stats *st, const char *url,
                          const char *action_id, const char *execution, const char *finished,
                          const char *const *details, size_t ndetails)
{
	char *body = agent_feedback_body(action_id, execution, finished, details, ndetails);
	char code[96] = "";
	struct ddi_resp r;
	long status = 0;
	int i;

	if (body == NULL) {
		agent_log(cfg, a, "feedback: out of memory");
		atomic_fetch_add(&st->errors, 1);
		return 0;
	}
	for (i = 0; i < FEEDBACK_ATTEMPTS; i++) {
		unsigned wait_ms;

		ddi_request(conn, "POST", url, a->token, body, 4096, &r);
		status = r.status;
		agent_error_code(r.body, r.len, code, sizeof(code));
		wait_ms = r.retry_after ? r.retry_after * 1000u : 1000u << i;
		if (status == 0)
			agent_vlog(cfg, a, "feedback %s/%s: %s", execution, finished, r.err);
		ddi_resp_clear(&r);
		if ((status >= 200 && status < 300) ||
		    (status >= 400 && status < 500 && status != 408 && status != 429))
			break;
		if (i + 1 == FEEDBACK_ATTEMPTS || agent_stopping())
			break;
		agent_nap(wait_ms);
	}
	free(body);
	if (status >= 200 && status < 300)
		agent_vlog(cfg, a, "feedback action %s: %s/%s \"%s\"", action_id, execution, finished,
		           ndetails ? details[0] : "");
	else if (status == 410)
		agent_log(cfg, a, "feedback action %s: HTTP 410: the action is no longer active",
		          action_id);
	else {
		agent_log(cfg, a, "feedback action %s (%s/%s \"%s\"): %s%ld %s", action_id, execution,
		          finished, ndetails ? details[0] : "", status ? "HTTP " : "no answer ", status,
		          code);
		atomic_fetch_add(&st->errors, 1);
	}
	return status;
}

static int ok2xx(long s)
{
	return s >= 200 && s < 300;
}

/* closed/failure with one reason; returns AGENT_EXIT_REFUSED. The counter
 * (failed or integrity) counts reports the server accepted, so that the
 * summary matches what the server recorded. */
static int report_failure(const struct agent_config *cfg, struct agent *a,
                          struct ddi_conn *conn, atomic_ullong *counter,
                          struct agent_stats *st, const char *url, const char *action_id,
                          const char *d0, const char *d1)
{
	const char *det[2] = {d0, d1};
	long s;

	agent_log(cfg, a, "action %s failed: %s%s%s", action_id, d0, d1 ? ": " : "", d1 ? d1 : "");
	s = post_feedback(cfg, a, conn, st, url, action_id, "closed", "failure", det, d1 ? 2 : 1);
	if (ok2xx(s))
		atomic_fetch_add(counter, 1);
	return AGENT_EXIT_REFUSED;
}

/* ---- configData ---- */

static void send_config(const struct agent_config *cfg, struct agent *a, struct ddi_conn *conn,
                        struct agent_stats *st)
{
	char url[URL_MAX], *body;
	struct ddi_resp r;

	base_url(cfg, a, url);
	strcat(url, "/configData");
	body = agent_config_body(a->state.version, a->state.sequence);
	if (body == NULL) {
		atomic_fetch_add(&st->errors, 1);
		return;
	}
	ddi_request(conn, "PUT", url, a->token, body, 4096, &r);
	free(body);
	if (ok2xx(r.status)) {
		agent_vlog(cfg, a, "configData sent: fw_version %s, sequence %llu", a->state.version,
		           (unsigned long long)a->state.sequence);
	} else {
		atomic_fetch_add(&st->errors, 1);
		agent_log(cfg, a, "configData: %s%ld%s%s", r.status ? "HTTP " : "no answer ", r.status,
		          r.err[0] ? ": " : "", r.err);
	}
	ddi_resp_clear(&r);
}

/* ---- cancel ---- */

static int handle_cancel(const struct agent_config *cfg, struct agent *a, struct ddi_conn *conn,
                         struct agent_stats *st, const char *href)
{
	char id[AGENT_MAX_ACTION_ID + 1], stop_id[AGENT_MAX_ACTION_ID + 1], url[URL_MAX];
	static const char *const det[] = {"cancellation acknowledged"};
	struct fw_diag d = {{0}};
	struct ddi_resp r;
	long s;
	int rc;

	ddi_request(conn, "GET", href, a->token, NULL, AGENT_MAX_JSON, &r);
	if (r.status == 404 || r.status == 410) {
		/* the cancel was withdrawn (a resume) before we asked */
		agent_vlog(cfg, a, "cancelAction: HTTP %ld: the cancel is gone", r.status);
		ddi_resp_clear(&r);
		return AGENT_EXIT_OK;
	}
	if (r.status != 200 || r.too_large) {
		atomic_fetch_add(&st->errors, 1);
		agent_log(cfg, a, "cancelAction: %s%ld%s%s", r.status ? "HTTP " : "no answer ", r.status,
		          r.err[0] ? ": " : "", r.err);
		ddi_resp_clear(&r);
		return AGENT_EXIT_SERVER;
	}
	rc = agent_cancel_parse(r.body, r.len, id, stop_id, &d);
	ddi_resp_clear(&r);
	if (rc != FW_OK) {
		atomic_fetch_add(&st->errors, 1);
		agent_log(cfg, a, "%s", d.msg);
		return AGENT_EXIT_SERVER;
	}
	/* the device works on one action at a time: whatever is staged
	 * belongs to the action being stopped */
	remove_partial(cfg, a, "cancelled");
	if (agent_feedback_url(href, url, sizeof(url)) != FW_OK) {
		atomic_fetch_add(&st->errors, 1);
		return AGENT_EXIT_SERVER;
	}
	s = post_feedback(cfg, a, conn, st, url, id, "closed", "success", det, 1);
	if (!ok2xx(s) && s != 410)
		return AGENT_EXIT_SERVER;
	if (ok2xx(s))
		atomic_fetch_add(&st->cancelled, 1);
	agent_log(cfg, a, "action %s cancelled by the server%s", stop_id,
	          s == 410 ? " (already closed)" : "");
	/* it runs what it ran, and the server knows: settled */
	memcpy(a->offered, a->state.version, sizeof(a->offered));
	a->reported = 1;
	return AGENT_EXIT_OK;
}

/* ---- the image download ---- */

enum fetch_result { FETCH_OK, FETCH_INTEGRITY, FETCH_NETWORK, FETCH_LOCAL, FETCH_STOPPED,
                    FETCH_CANCEL, FETCH_GONE };

struct fetch {
	const struct agent_config *cfg;
	struct agent *a;
	struct agent_stats *st;
	struct fwv_ctx *ctx;
	const uint8_t *env;
	size_t env_len;
	const struct fwv_device *dev;
	int fd;
	uint64_t have, size, flip_at;
	int fwv_rc, io_err, bad_range, stopped, cancelled;
	long bad_status;
	/* polls while the download runs, to hear a cancel */
	struct ddi_conn *side;
	int64_t next_poll_ms;
	char url[URL_MAX];
	char cancel[AGENT_MAX_HREF + 1];
};

/* Start the stream over from byte 0: a fresh verifier on the same
 * (already verified) envelope, an empty part. */
static int restart(struct fetch *f)
{
	int rc;

	fwv_clear(f->ctx);
	fwv_init(f->ctx, fwv_port_openssl());
	rc = fwv_begin(f->ctx, f->env, f->env_len, f->cfg->keys, f->cfg->nkeys, f->dev);
	if (rc != FWV_OK) {
		f->fwv_rc = rc;
		return -1;
	}
	if (ftruncate(f->fd, 0) != 0 || lseek(f->fd, 0, SEEK_SET) != 0) {
		f->io_err = errno;
		return -1;
	}
	f->have = 0;
	return 0;
}

static int on_start(void *arg, long status, int has_range, uint64_t range_start)
{
	struct fetch *f = arg;

	if (status == 206) {
		/* the server chooses what it sends: only the bytes that follow
		 * ours are usable */
		if (!has_range || range_start != f->have) {
			f->bad_range = 1;
			return -1;
		}
		return 0;
	}
	if (status == 200)
		return f->have > 0 ? restart(f) : 0; /* Range ignored: the whole image again */
	f->bad_status = status;
	return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Every byte goes through the verifier first; only what it accepted is
 * written (it refuses the first byte past the signed size). */
static int feed(struct fetch *f, const uint8_t *p, size_t n)
{
	int rc = fwv_update(f->ctx, p, n);

	if (rc != FWV_OK) {
		f->fwv_rc = rc;
		return -1;
	}
	if (write_all(f->fd, p, n) != 0) {
		f->io_err = errno ? errno : EIO;
		return -1;
	}
	f->have += n;
	return 0;
}

static int on_data(void *arg, const uint8_t *p, size_t n)
{
	struct fetch *f = arg;

	if (f->flip_at >= f->have && f->flip_at - f->have < n) {
		/* --integrity-rate: one byte changed on its way, before the
		 * verifier sees it (as an attacker on the path would) */
		size_t k = (size_t)(f->flip_at - f->have);
		uint8_t b = p[k] ^ 0x01;

		f->flip_at = UINT64_MAX;
		if ((k > 0 && feed(f, p, k) != 0) || feed(f, &b, 1) != 0)
			return -1;
		return n - k - 1 > 0 ? feed(f, p + k + 1, n - k - 1) : 0;
	}
	return feed(f, p, n);
}

static int on_tick(void *arg)
{
	struct fetch *f = arg;
	int64_t now = agent_now_ms();
	struct agent_poll p;
	struct ddi_resp r;

	if (agent_stopping()) {
		f->stopped = 1;
		return -1;
	}
	if (now < f->next_poll_ms || f->side == NULL)
		return 0;
	/* a long download keeps polling at the server's pace: a cancel
	 * stops it instead of waiting for its end */
	f->next_poll_ms = now + (int64_t)sleep_of(f->cfg, f->a) * 1000;
	ddi_request(f->side, "GET", f->url, f->a->token, NULL, AGENT_MAX_JSON, &r);
	if (r.status == 200 && !r.too_large && agent_poll_parse(r.body, r.len, &p, NULL) == FW_OK) {
		atomic_fetch_add(&f->st->polls, 1);
		if (p.cancel[0]) {
			memcpy(f->cancel, p.cancel, sizeof(f->cancel));
			f->cancelled = 1;
		}
	}
	ddi_resp_clear(&r);
	return f->cancelled ? -1 : 0;
}

/* Feed what download.part already holds through the verifier again (after
 * a restart the verifier has seen none of it). */
static int refeed(struct fetch *f, uint64_t n)
{
	uint8_t buf[64 * 1024];

	while (f->have < n) {
		size_t want = n - f->have < sizeof(buf) ? (size_t)(n - f->have) : sizeof(buf);
		ssize_t got = read(f->fd, buf, want);
		int rc;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			f->io_err = got < 0 ? errno : EIO;
			return -1;
		}
		rc = fwv_update(f->ctx, buf, (size_t)got);
		if (rc != FWV_OK) {
			f->fwv_rc = rc;
			return -1;
		}
		f->have += (uint64_t)got;
	}
	return 0;
}

static int fetch_image(struct fetch *f, const struct agent_deployment *dep,
                       const struct fwv_manifest_info *mi, struct ddi_conn *conn, double u_flip,
                       double u_pos, char *why, size_t whycap)
{
	const struct agent_config *cfg = f->cfg;
	struct agent *a = f->a;
	struct ddi_sink sink = {on_start, on_data, on_tick, f};
	struct agent_partial meta, now;
	struct fw_diag d = {{0}};
	char part[PATH_MAX], metap[PATH_MAX], err[256] = "";
	struct stat sb;
	int attempt, resumed = 0;

	in_dir(a, "download.part", part);
	in_dir(a, "download.json", metap);
	memset(&now, 0, sizeof(now));
	memcpy(now.action_id, dep->action_id, sizeof(now.action_id));
	memcpy(now.image_sha256, mi->image_digest, 32);
	now.image_size = f->size;

	/* resume only into the same verified image (digest and size from
	 * the envelope that fwv_begin accepted) */
	if (agent_partial_load(metap, &meta, NULL) == FW_OK &&
	    memcmp(meta.image_sha256, now.image_sha256, 32) == 0 && meta.image_size == f->size &&
	    (f->fd = open(part, O_RDWR | O_CLOEXEC)) >= 0) {
		if (fstat(f->fd, &sb) == 0 && (uint64_t)sb.st_size <= f->size) {
			if (refeed(f, (uint64_t)sb.st_size) != 0)
				goto fail;
			resumed = 1;
		} else if (ftruncate(f->fd, 0) != 0) {
			f->io_err = errno;
			goto fail;
		}
		if (lseek(f->fd, (off_t)f->have, SEEK_SET) < 0) {
			f->io_err = errno;
			goto fail;
		}
	} else {
		if (f->fd >= 0)
			close(f->fd);
		unlink(part);
		f->fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (f->fd < 0) {
			say(why, whycap, "%s: %s", part, strerror(errno));
			return FETCH_LOCAL;
		}
	}
	if (agent_partial_save(metap, &now, &d) != FW_OK) {
		say(why, whycap, "%s", d.msg);
		close(f->fd);
		return FETCH_LOCAL;
	}
	if (resumed)
		agent_vlog(cfg, a, "resuming the image download at byte %llu of %llu",
		           (unsigned long long)f->have, (unsigned long long)f->size);
	else
		agent_vlog(cfg, a, "downloading the image: %llu bytes", (unsigned long long)f->size);
	f->flip_at = UINT64_MAX;
	if (u_flip * 100.0 < cfg->integrity_pct && f->size > f->have)
		f->flip_at = f->have + (uint64_t)(u_pos * (double)(f->size - f->have));
	f->next_poll_ms = agent_now_ms() + (int64_t)sleep_of(cfg, a) * 1000;

	for (attempt = 0; f->have < f->size; attempt++) {
		long status = 0;
		int rc;

		if (attempt == DOWNLOAD_ATTEMPTS) {
			say(why, whycap, "%s after %d attempts (%llu of %llu bytes)", err,
			         DOWNLOAD_ATTEMPTS, (unsigned long long)f->have,
			         (unsigned long long)f->size);
			close(f->fd); /* the part stays: the next offer resumes it */
			return FETCH_NETWORK;
		}
		if (attempt > 0) {
			agent_vlog(cfg, a, "image download: %s; retrying at byte %llu", err,
			           (unsigned long long)f->have);
			agent_nap(1000u << (attempt - 1));
		}
		if (agent_stopping()) {
			close(f->fd);
			return FETCH_STOPPED;
		}
		f->bad_range = 0;
		f->bad_status = 0;
		rc = ddi_download(conn, dep->image.href, a->token, f->have, &sink, &status, err,
		                  sizeof(err));
		if (f->fwv_rc != FWV_OK || f->io_err)
			goto fail;
		if (f->stopped) {
			close(f->fd);
			return FETCH_STOPPED;
		}
		if (f->cancelled) {
			close(f->fd);
			return FETCH_CANCEL;
		}
		if (f->bad_range || status == 416) {
			say(err, sizeof(err), "%s", f->bad_range ? "206 for another range" : "HTTP 416");
			if (restart(f) != 0)
				goto fail;
			continue;
		}
		if (f->bad_status == 404 || f->bad_status == 410) {
			/* the action was withdrawn meanwhile (a pause, an abort):
			 * not a failure of this device; the next poll says what
			 * to do, and the part stays for a resume */
			say(why, whycap, "HTTP %ld", f->bad_status);
			close(f->fd);
			return FETCH_GONE;
		}
		if (f->bad_status) {
			say(err, sizeof(err), "HTTP %ld", f->bad_status);
			if (f->bad_status >= 400 && f->bad_status < 500 && f->bad_status != 408 &&
			    f->bad_status != 429) {
				say(why, whycap, "HTTP %ld", f->bad_status);
				close(f->fd);
				return FETCH_NETWORK;
			}
			continue;
		}
		if (rc == 0 && f->have < f->size)
			say(err, sizeof(err), "the answer ended at byte %llu",
			         (unsigned long long)f->have);
	}
	atomic_fetch_add(&f->st->downloads, 1);
	if (fsync(f->fd) != 0) {
		f->io_err = errno;
		goto fail;
	}
	close(f->fd);
	f->fd = -1;
	f->fwv_rc = fwv_finish(f->ctx); /* exact size and SHA-256: only now is it trusted */
	if (f->fwv_rc != FWV_OK) {
		remove_partial(cfg, a, fwv_err_name(f->fwv_rc));
		return FETCH_INTEGRITY;
	}
	return FETCH_OK;
fail:
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	/* never keep bytes the verifier refused, nor a part we could not write */
	remove_partial(cfg, a, f->fwv_rc != FWV_OK ? fwv_err_name(f->fwv_rc) : "write error");
	if (f->fwv_rc != FWV_OK)
		return FETCH_INTEGRITY;
	say(why, whycap, "%s: %s", part, strerror(f->io_err));
	return FETCH_LOCAL;
}

/* ---- install ---- */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* download.part (verified) becomes firmware.bin. In fleet mode the image is
 * shared through DIR/.cache/<sha256>.bin, named by the digest this agent's
 * own verifier accepted: a cached file has exactly the verified bytes, and
 * 1,000 agents keep one copy of each image. */
static int install(const struct agent_config *cfg, struct agent *a, const uint8_t digest[32],
                   char *why, size_t whycap)
{
	char part[PATH_MAX], fw[PATH_MAX], tmp[PATH_MAX], cache[PATH_MAX], ctmp[PATH_MAX + 160];
	char hex[65];

	in_dir(a, "download.part", part);
	in_dir(a, "firmware.bin", fw);
	in_dir(a, "firmware.bin.new", tmp);
	if (cfg->cache_dir[0]) {
		fw_hex_encode(digest, 32, hex);
		say(cache, sizeof(cache), "%s/%s.bin", cfg->cache_dir, hex);
		unlink(tmp);
		if (link(cache, tmp) == 0) {
			if (rename(tmp, fw) != 0) {
				say(why, whycap, "%s: %s", fw, strerror(errno));
				unlink(tmp);
				return -1;
			}
			unlink(part);
			return fsync_dir(a->dir) == 0 ? 0 : (say(why, whycap, "%s: fsync", a->dir), -1);
		}
	}
	if (rename(part, fw) != 0) {
		say(why, whycap, "%s: %s", fw, strerror(errno));
		return -1;
	}
	if (fsync_dir(a->dir) != 0) {
		say(why, whycap, "%s: fsync: %s", a->dir, strerror(errno));
		return -1;
	}
	if (cfg->cache_dir[0]) {
		/* publish for the others; a race between two agents is harmless
		 * (same digest, rename is atomic) */
		say(ctmp, sizeof(ctmp), "%s/%s.%s.tmp", cfg->cache_dir, hex, a->id);
		unlink(ctmp);
		if (link(fw, ctmp) == 0 && rename(ctmp, cache) != 0)
			unlink(ctmp);
	}
	return 0;
}

/* ---- deployment ---- */

static int local_verifier_error(int rc)
{
	/* not a verdict on the data: the verifier could not decide */
	return rc == FWV_E_ARG || rc == FWV_E_STATE || rc == FWV_E_CRYPTO || rc == FWV_E_NO_KEYS;
}

static int get_envelope(struct ddi_conn *conn, struct agent *a, const char *href,
                        struct ddi_resp *r)
{
	int i;

	for (i = 0; i < ENVELOPE_ATTEMPTS; i++) {
		if (i > 0) {
			ddi_resp_clear(r);
			agent_nap(1000u << (i - 1));
			if (agent_stopping())
				break;
		}
		ddi_request(conn, "GET", href, a->token, NULL, FWV_MAX_ENVELOPE, r);
		if (r->too_large || r->status == 200 ||
		    (r->status >= 400 && r->status < 500 && r->status != 408 && r->status != 429))
			break;
	}
	return r->status == 200 && !r->too_large ? 0 : -1;
}

static int handle_deployment(const struct agent_config *cfg, struct agent *a,
                             struct ddi_conn *conn, struct ddi_conn *side,
                             struct agent_stats *st, const char *href)
{
	static const char *const downloading[] = {"downloading"};
	struct agent_deployment dep;
	struct fwv_manifest_info mi;
	struct fwv_device dev;
	struct fwv_ctx ctx;
	struct fetch f;
	struct fw_diag d = {{0}};
	struct ddi_resp r;
	char fb[URL_MAX], why[512], det[160], det2[256], statep[PATH_MAX];
	struct agent_state ns;
	uint64_t seq = 0, img_size = 0;
	double u_flip = agent_rand(a), u_pos = agent_rand(a), u_fail = agent_rand(a);
	long s;
	int rc, res, ret;

	ddi_request(conn, "GET", href, a->token, NULL, AGENT_MAX_JSON, &r);
	if (r.status == 404 || r.status == 410) {
		/* withdrawn between the poll and now (a pause): nothing to do */
		agent_vlog(cfg, a, "deploymentBase: HTTP %ld: the action is gone", r.status);
		ddi_resp_clear(&r);
		return AGENT_EXIT_OK;
	}
	if (r.status != 200 || r.too_large) {
		atomic_fetch_add(&st->errors, 1);
		agent_log(cfg, a, "deploymentBase: %s%ld%s%s", r.status ? "HTTP " : "no answer ",
		          r.status, r.err[0] ? ": " : "", r.err);
		ddi_resp_clear(&r);
		return AGENT_EXIT_SERVER;
	}
	memset(&dep, 0, sizeof(dep));
	rc = agent_deployment_parse(r.body, r.len, &dep, &d);
	ddi_resp_clear(&r);
	if (rc != FW_OK) {
		atomic_fetch_add(&st->errors, 1);
		agent_log(cfg, a, "%s", d.msg);
		if (dep.action_id[0] == '\0')
			return AGENT_EXIT_SERVER; /* no action to report it on */
		base_url(cfg, a, fb);
		say(fb + strlen(fb), sizeof(fb) - strlen(fb), "/deploymentBase/%s/feedback",
		    dep.action_id);
		say(det, sizeof(det), "bad deployment: %.140s", d.msg);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
	}
	if (dep.update_skip) {
		note(cfg, a, 0, "action %s: the server says update \"skip\"; waiting", dep.action_id);
		return AGENT_EXIT_OK;
	}
	a->last_note[0] = '\0';
	memcpy(a->offered, dep.version, sizeof(a->offered));
	a->reported = 0;
	agent_vlog(cfg, a, "action %s offers %s%s%s (running %s, sequence %llu)", dep.action_id,
	           dep.version, dep.name[0] ? " of " : "", dep.name, a->state.version,
	           (unsigned long long)a->state.sequence);
	base_url(cfg, a, fb);
	say(fb + strlen(fb), sizeof(fb) - strlen(fb), "/deploymentBase/%s/feedback", dep.action_id);

	s = post_feedback(cfg, a, conn, st, fb, dep.action_id, "proceeding", "none", downloading, 1);
	if (s == 410 || s == 404) {
		agent_log(cfg, a, "action %s is gone (HTTP %ld): nothing to do", dep.action_id, s);
		return AGENT_EXIT_OK;
	}
	if (!ok2xx(s))
		return AGENT_EXIT_SERVER; /* tried again at the next poll */

	/* 1. the envelope, into memory (bounded by FWV_MAX_ENVELOPE) */
	if (get_envelope(conn, a, dep.envelope.href, &r) != 0) {
		if (r.too_large) {
			ddi_resp_clear(&r);
			return report_failure(cfg, a, conn, &st->integrity, st, fb, dep.action_id,
			                      "integrity: too_large", "envelope larger than FWV_MAX_ENVELOPE");
		}
		if (r.status)
			say(why, sizeof(why), "download failed: envelope: HTTP %ld", r.status);
		else
			say(why, sizeof(why), "download failed: envelope: %.200s", r.err);
		ddi_resp_clear(&r);
		if (agent_stopping())
			return AGENT_EXIT_OK;
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, why, NULL);
	}

	/* 2. verified before anything else happens: signature, manifest,
	 * vendor/class/device, anti-rollback against what runs now. An equal
	 * sequence passes only when the offered version is the running one
	 * (a lost report after a crash: nothing is downloaded then). */
	memset(&dev, 0, sizeof(dev));
	dev.vendor_id = cfg->has_vendor ? cfg->vendor : NULL;
	dev.class_id = cfg->has_class ? cfg->class_id : NULL;
	dev.device_id = cfg->has_device_uuid ? cfg->device_uuid : NULL;
	dev.sequence = a->state.sequence;
	dev.flags = (cfg->has_vendor ? 0 : FWV_F_SKIP_VENDOR) | (cfg->has_class ? 0 : FWV_F_SKIP_CLASS) |
	            (strcmp(a->state.version, dep.version) == 0 ? FWV_F_ALLOW_EQUAL_SEQUENCE : 0);
	fwv_init(&ctx, fwv_port_openssl());
	rc = fwv_begin(&ctx, (const uint8_t *)r.body, r.len, cfg->keys, cfg->nkeys, &dev);
	if (rc != FWV_OK) {
		fwv_clear(&ctx);
		ddi_resp_clear(&r);
		if (local_verifier_error(rc)) {
			say(det, sizeof(det), "install failed: verifier: %s", fwv_err_name(rc));
			return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
		}
		say(det, sizeof(det), "integrity: %s", fwv_err_name(rc));
		return report_failure(cfg, a, conn, &st->integrity, st, fb, dep.action_id, det,
		                      "envelope refused");
	}
	/* the same bytes fwv_begin accepted: what it says is now trusted */
	if (fwv_parse_envelope((const uint8_t *)r.body, r.len, &mi) != FWV_OK ||
	    fwv_sequence(&ctx, &seq) != FWV_OK || fwv_image_size(&ctx, &img_size) != FWV_OK) {
		fwv_clear(&ctx);
		ddi_resp_clear(&r);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id,
		                      "install failed: verifier: bad_state", NULL);
	}
	/* the version the server announces must be the signed one: the
	 * device reports and records what it verified, not what it was told */
	if (mi.version.len > 0 && (mi.version.len != strlen(dep.version) ||
	                           memcmp(mi.version.ptr, dep.version, mi.version.len) != 0)) {
		say(det2, sizeof(det2), "the envelope is for version %.*s, the deployment says %s",
		         (int)(mi.version.len > 64 ? 64 : mi.version.len), (const char *)mi.version.ptr,
		         dep.version);
		fwv_clear(&ctx);
		ddi_resp_clear(&r);
		return report_failure(cfg, a, conn, &st->integrity, st, fb, dep.action_id,
		                      "integrity: version_mismatch", det2);
	}
	agent_vlog(cfg, a, "envelope verified: %s, sequence %llu, %llu bytes", dep.version,
	           (unsigned long long)seq, (unsigned long long)img_size);
	if (seq == a->state.sequence) {
		/* only reachable with the running version: report it again */
		const char *dets[2] = {det, "already running"};

		fwv_clear(&ctx);
		ddi_resp_clear(&r);
		say(det, sizeof(det), "installed %s", a->state.version);
		agent_log(cfg, a, "action %s: %s already runs (sequence %llu): reporting success",
		          dep.action_id, a->state.version, (unsigned long long)seq);
		s = post_feedback(cfg, a, conn, st, fb, dep.action_id, "closed", "success", dets, 2);
		if (ok2xx(s))
			atomic_fetch_add(&st->installed, 1);
		a->reported = ok2xx(s);
		return ok2xx(s) || s == 410 ? AGENT_EXIT_OK : AGENT_EXIT_SERVER;
	}

	/* 3. the image, streamed through the verifier */
	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.a = a;
	f.st = st;
	f.ctx = &ctx;
	f.env = (const uint8_t *)r.body;
	f.env_len = r.len;
	f.dev = &dev;
	f.fd = -1;
	f.side = side;
	f.size = img_size;
	f.fwv_rc = FWV_OK;
	base_url(cfg, a, f.url);
	why[0] = '\0';
	res = fetch_image(&f, &dep, &mi, conn, u_flip, u_pos, why, sizeof(why));
	fwv_clear(&ctx);
	ddi_resp_clear(&r);
	switch (res) {
	case FETCH_OK:
		break;
	case FETCH_STOPPED:
		agent_vlog(cfg, a, "stopping: the partial download stays for the next run");
		return AGENT_EXIT_OK;
	case FETCH_GONE:
		agent_vlog(cfg, a, "the image is no longer offered (%s): the action was withdrawn",
		           why);
		return AGENT_EXIT_OK;
	case FETCH_CANCEL:
		agent_vlog(cfg, a, "a cancel came during the download");
		return handle_cancel(cfg, a, conn, st, f.cancel);
	case FETCH_INTEGRITY:
		say(det, sizeof(det), "integrity: %s", fwv_err_name(f.fwv_rc));
		return report_failure(cfg, a, conn, &st->integrity, st, fb, dep.action_id, det, "image refused");
	case FETCH_NETWORK:
		if (agent_stopping())
			return AGENT_EXIT_OK;
		say(det, sizeof(det), "download failed: %.140s", why);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
	default:
		say(det, sizeof(det), "install failed: %.140s", why);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
	}
	agent_vlog(cfg, a, "image verified (sha256 and size match the signed envelope)");

	/* 4. install, then persist the counter, then report */
	if (u_fail * 100.0 < cfg->fail_pct) {
		remove_partial(cfg, a, "simulated install failure");
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id,
		                      "install failed (simulated)", NULL);
	}
	if (install(cfg, a, mi.image_digest, why, sizeof(why)) != 0) {
		remove_partial(cfg, a, "install failed");
		say(det, sizeof(det), "install failed: %.140s", why);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
	}
	memset(&ns, 0, sizeof(ns));
	memcpy(ns.version, dep.version, sizeof(ns.version));
	ns.sequence = seq;
	in_dir(a, "state.json", statep);
	if (agent_state_save(statep, &ns, &d) != FW_OK) {
		say(det, sizeof(det), "install failed: %.140s", d.msg);
		return report_failure(cfg, a, conn, &st->failed, st, fb, dep.action_id, det, NULL);
	}
	a->state = ns;
	in_dir(a, "download.json", statep);
	unlink(statep);
	agent_log(cfg, a, "installed %s (sequence %llu)", ns.version, (unsigned long long)seq);
	{
		const char *dets[1] = {det};

		say(det, sizeof(det), "installed %s", ns.version);
		s = post_feedback(cfg, a, conn, st, fb, dep.action_id, "closed", "success", dets, 1);
	}
	if (ok2xx(s))
		atomic_fetch_add(&st->installed, 1);
	a->reported = ok2xx(s);
	ret = ok2xx(s) || s == 410 ? AGENT_EXIT_OK : AGENT_EXIT_SERVER;
	return ret;
}

/* ---- the cycle ---- */

int agent_cycle(const struct agent_config *cfg, struct agent *a, struct ddi_conn *conn,
                struct ddi_conn *side, struct agent_stats *st)
{
	char url[URL_MAX];
	struct fw_diag d = {{0}};
	struct agent_poll p;
	struct ddi_resp r;
	int rc, ret = AGENT_EXIT_OK;

	base_url(cfg, a, url);
	a->quiet = 0;
	ddi_request(conn, "GET", url, a->token, NULL, AGENT_MAX_JSON, &r);
	a->retry_after = 0;
	if (r.status != 200 || r.too_large) {
		char code[96];

		atomic_fetch_add(&st->errors, 1);
		a->fails++;
		agent_error_code(r.body, r.len, code, sizeof(code));
		if (r.status == 401)
			note(cfg, a, 1, "poll: HTTP 401 %s: the server refused the token", code);
		else if (r.status == 403) {
			/* not active (quarantined, decommissioned): the server has
			 * nothing for this device, which --until-idle counts as quiet */
			a->quiet = 1;
			note(cfg, a, 1, "poll: HTTP 403 %s: the server refuses this device", code);
		}
		else if (r.status == 429) {
			a->retry_after = r.retry_after;
			note(cfg, a, 1, "poll: HTTP 429 %s: the server asks to slow down; backing off", code);
		} else if (r.too_large)
			note(cfg, a, 1, "poll: %s", r.err);
		else if (r.status)
			note(cfg, a, 1, "poll: HTTP %ld %s", r.status, code);
		else
			note(cfg, a, 1, "poll: %s", r.err);
		ddi_resp_clear(&r);
		schedule(cfg, a, 0);
		return AGENT_EXIT_SERVER;
	}
	rc = agent_poll_parse(r.body, r.len, &p, &d);
	ddi_resp_clear(&r);
	if (rc != FW_OK) {
		atomic_fetch_add(&st->errors, 1);
		a->fails++;
		note(cfg, a, 1, "%s", d.msg);
		schedule(cfg, a, 0);
		return AGENT_EXIT_SERVER;
	}
	atomic_fetch_add(&st->polls, 1);
	a->fails = 0;
	a->sleep_s = p.sleep_s;
	if (p.config_data)
		send_config(cfg, a, conn, st);
	if (p.cancel[0] || p.deployment[0]) {
		agent_action_begin();
		if (p.cancel[0])
			ret = handle_cancel(cfg, a, conn, st, p.cancel);
		else
			ret = handle_deployment(cfg, a, conn, side, st, p.deployment);
		agent_action_end();
	} else {
		a->quiet = 1;
		note(cfg, a, 0, "poll: nothing to do (running %s, sequence %llu; next poll in %u s)",
		     a->state.version, (unsigned long long)a->state.sequence, sleep_of(cfg, a));
	}
	schedule(cfg, a, 1);
	return ret;
}
