/*
 * The campaign simulator: simulated devices driven through the real
 * engine (fw_rollout_start/report/tick/resume/abort) on a scratch store,
 * on a simulated clock. The real store is only read.
 *
 * The simulator decides nothing itself: which devices are eligible, when
 * a stage starts, pauses, timeouts, quarantines and rollbacks are the
 * engine's. It reads the engine's rows (scans of the scratch store) to
 * know whom to deliver, and plays the devices' part: delivered reports,
 * then outcomes in seeded random order.
 */
#define _XOPEN_SOURCE 700
#include "rollout/rollout.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence/evidence.h"
#include "policy/policy.h"
#include "registry/registry.h"

#define SIM_OPERATOR "simulator"
#define MAX_STEPS 1000000 /* rounds of the main loop: a run that never ends is a bug */
#define FATE_INTEGRITY 1u /* refuses the image at its first attempt */
#define NOTE_QUARANTINED 5 /* quarantined devices named per batch */
#define FOUND 1000         /* the template scan stops: not an enum fw_err */

struct sim {
	struct fw_store *s; /* the scratch store */
	const struct fw_sim_params *p;
	fw_sim_print_fn print;
	void *parg;
	struct fw_sim_summary *sum;
	char id[32];
	struct fw_campaign_policy *pol;
	char version[FW_SEMVER_MAX + 1], rb_version[FW_SEMVER_MAX + 1];
	char rel_id[65], rb_id[65];
	int has_rb;
	int64_t t0;
	struct fw_rollout_ctx cx;
	const char *phase;
	uint64_t rng;
	uint64_t n;
	uint8_t *fate;
	size_t batch;
	struct fw_rollout_report *rep;
	struct fw_rollout_result *res;
	char (*ids)[32];
	uint32_t *list;       /* device indexes: what a scan found */
	size_t nlist, caplist;
	uint32_t *out;        /* device indexes: a wave's delivered ones (batch of them) */
	size_t nout;
	json_t *st;           /* fw_rollout_status of the scratch campaign */
	char state[32];
	uint32_t stage, stages_seen;
	uint64_t campaign_records, records0, timeouts_seen;
};

/* ---- small things ---- */

static int oom(struct fw_diag *d)
{
	return fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

/* splitmix64: small, seedable, and the same everywhere */
static uint64_t rnd(struct sim *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, 100) */
static double rnd_percent(struct sim *m)
{
	return (double)(rnd(m) >> 11) * (100.0 / 9007199254740992.0);
}

/* uniform in [0, n), n > 0, without modulo bias */
static uint64_t rnd_below(struct sim *m, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = rnd(m);
	while (v >= lim);
	return v % n;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void line(struct sim *m, int kind, const char *fmt, ...) FW_PRINTF(3, 4);
static void line(struct sim *m, int kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (m->print == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m->print(m->parg, kind, buf);
}

/* A course line with the simulated time in front: "[+1d 02:03:04] ...". */
static void say(struct sim *m, const char *fmt, ...) FW_PRINTF(2, 3);
static void say(struct sim *m, const char *fmt, ...)
{
	char buf[1000];
	int64_t s = (m->cx.now_ms - m->t0) / 1000;
	va_list ap;

	if (m->print == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (s >= 86400)
		line(m, FW_SIM_COURSE, "[+%lldd %02d:%02d:%02d] %s", (long long)(s / 86400),
		     (int)(s % 86400 / 3600), (int)(s % 3600 / 60), (int)(s % 60), buf);
	else
		line(m, FW_SIM_COURSE, "[+%02d:%02d:%02d] %s", (int)(s / 3600), (int)(s % 3600 / 60),
		     (int)(s % 60), buf);
}

static void progress(struct sim *m, const char *phase, uint64_t done, uint64_t total)
{
	if (m->p->progress)
		m->p->progress(m->p->parg, phase, done, total);
}

static void eng_progress(void *arg, uint64_t done, uint64_t total)
{
	struct sim *m = arg;

	progress(m, m->phase, done, total);
}

/* An engine error, with the simulated time it happened at. */
static int engine_fail(struct sim *m, int rc, const char *what, struct fw_diag *d)
{
	char msg[FW_DIAG_LEN];

	snprintf(msg, sizeof(msg), "%s", d ? d->msg : "");
	return fw_diag_set(d, rc, "simulation at +%llds: %s: %s",
	                   (long long)((m->cx.now_ms - m->t0) / 1000), what, msg);
}

/* Index of a simulated device from its id "sim-0000001" (1-based). */
static int64_t dev_index(const struct sim *m, const char *id)
{
	char *end;
	unsigned long long v;

	if (strncmp(id, "sim-", 4) != 0)
		return -1;
	errno = 0;
	v = strtoull(id + 4, &end, 10);
	if (errno || *end || v == 0 || v > m->n)
		return -1;
	return (int64_t)v - 1;
}

static void dev_id(uint64_t i, char out[32])
{
	snprintf(out, 32, "sim-%07llu", (unsigned long long)i + 1);
}

/* ---- the campaign as the engine has it ---- */

static json_t *stage_json(const struct sim *m, uint32_t k)
{
	return json_array_get(json_object_get(m->st, "stages"), k);
}

static uint64_t jget(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static uint64_t total(const struct sim *m, const char *k)
{
	return jget(json_object_get(m->st, "totals"), k);
}

static int refresh(struct sim *m, struct fw_diag *d)
{
	int rc;

	json_decref(m->st);
	m->st = NULL;
	rc = fw_rollout_status(m->s, m->id, m->cx.now_ms, &m->st, d);
	if (rc != FW_OK)
		return engine_fail(m, rc, "status", d);
	snprintf(m->state, sizeof(m->state), "%s",
	         json_string_value(json_object_get(m->st, "state")));
	m->stage = (uint32_t)jget(json_object_get(m->st, "stage"), "index");
	return FW_OK;
}

static int is_state(const struct sim *m, const char *s)
{
	return strcmp(m->state, s) == 0;
}

/* Stages entered since the last look: printed with their sizes. */
static void note_stages(struct sim *m)
{
	uint32_t k;

	for (k = m->stages_seen; k < m->pol->nstages; k++) {
		json_t *sg = stage_json(m, k), *c = json_object_get(sg, "counts");

		if (json_integer_value(json_object_get(sg, "started_ms")) == 0)
			break;
		say(m, "stage %u (%s) entered: %llu devices, %llu eligible, %llu ineligible now%s", k,
		    m->pol->stages[k].name, (unsigned long long)jget(sg, "devices"),
		    (unsigned long long)(jget(c, "eligible") + jget(c, "paused") +
		                         jget(c, "delivered") + jget(c, "installed") +
		                         jget(c, "failed") + jget(c, "rolled_back")),
		    (unsigned long long)jget(c, "ineligible"),
		    k + 1 == m->pol->nstages ? " (the last stage)" : "");
		m->stages_seen = k + 1;
		m->campaign_records++;
		m->sum->stages_entered++;
	}
}

/* Timeouts since the last look. */
static void note_timeouts(struct sim *m)
{
	uint64_t t = total(m, "timeouts");

	if (t > m->timeouts_seen)
		say(m, "%llu device(s) timed out: no report within %llu s of delivery (failed, "
		       "retried if attempts remain)",
		    (unsigned long long)(t - m->timeouts_seen),
		    (unsigned long long)m->pol->report_timeout_s);
	m->timeouts_seen = t;
}

/* Why the campaign stopped: its latest record (campaign.pause or
 * campaign.rollback) says. */
static void note_stop(struct sim *m, struct fw_diag *d)
{
	json_t *doc = NULL, *rec = NULL, *why;
	uint8_t *bytes = NULL, lh[32];
	size_t len = 0;
	uint64_t idx;
	const char *cause;
	char text[300];

	if (fw_campaign_get(m->s, m->id, &doc, d) != FW_OK ||
	    fw_evidence_ref_parse(json_object_get(doc, "updated"), &idx, lh) != FW_OK ||
	    fw_evidence_get(m->s, idx, &bytes, &len, lh, d) != FW_OK ||
	    (rec = json_loadb((const char *)bytes, len, 0, NULL)) == NULL) {
		snprintf(text, sizeof(text), "(its record could not be read)");
		goto out;
	}
	why = json_object_get(rec, "why");
	cause = json_string_value(json_object_get(why, "cause"));
	if (cause == NULL)
		snprintf(text, sizeof(text), "(no cause recorded)");
	else if (strcmp(cause, "failure_rate") == 0)
		snprintf(text, sizeof(text),
		         "failure rate: %llu failures in %llu reports since the window opened, "
		         "threshold %llu%% of at least %llu reports",
		         (unsigned long long)jget(why, "failures"),
		         (unsigned long long)jget(why, "reports"),
		         (unsigned long long)jget(why, "threshold_percent"),
		         (unsigned long long)jget(why, "min_reports"));
	else if (strcmp(cause, "max_failures") == 0)
		snprintf(text, sizeof(text), "max failures: %llu failures, the limit is %llu",
		         (unsigned long long)jget(why, "failures"),
		         (unsigned long long)jget(why, "threshold"));
	else if (strcmp(cause, "integrity_failure") == 0)
		snprintf(text, sizeof(text), "integrity failure reported by %s",
		         json_string_value(json_object_get(why, "device")));
	else
		snprintf(text, sizeof(text), "%s", cause);
out:
	m->campaign_records++; /* campaign.pause or campaign.rollback */
	if (is_state(m, "paused"))
		m->sum->pauses++;
	if (is_state(m, "rolled_back"))
		say(m, "ROLLED BACK automatically (the policy says so): %s; rollback release %.16s",
		    text, m->rb_id);
	else
		say(m, "PAUSED: %s; %llu failures, %llu reports in all", text,
		    (unsigned long long)total(m, "failures"), (unsigned long long)total(m, "reports"));
	free(bytes);
	json_decref(rec);
	json_decref(doc);
}

/* ---- rows of the engine ---- */

static int keep_index(void *arg, const struct fw_rollout_row *r)
{
	struct sim *m = arg;
	int64_t i = dev_index(m, r->device);

	if (i < 0)
		return FW_E_STORE;
	uint32_t *list = fw_grow(m->list, &m->caplist, m->nlist + 1, sizeof(*list));

	if (list == NULL)
		return FW_E_NOMEM;
	m->list = list;
	m->list[m->nlist++] = (uint32_t)i;
	return 0;
}

static int scan(struct sim *m, int state, int64_t due_max, struct fw_diag *d)
{
	int rc = fw_store_rollout_scan(m->s, m->id, state, -1, due_max, keep_index, m, d);

	if (rc == FW_E_NOMEM)
		return oom(d);
	if (rc == FW_E_STORE)
		return fw_diag_set(d, rc, "campaign %s has a device that is not simulated", m->id);
	return rc;
}

struct earliest {
	int64_t after, at;
};

static int keep_earliest(void *arg, const struct fw_rollout_row *r)
{
	struct earliest *e = arg;

	if (r->due_ms > e->after && r->due_ms != FW_ROLLOUT_FINAL && r->due_ms < e->at)
		e->at = r->due_ms;
	return 0;
}

/* The next time something is due: a report deadline, a retry, the end of
 * the current stage's soak. INT64_MAX when nothing is. */
static int next_event(struct sim *m, int64_t *at, struct fw_diag *d)
{
	struct earliest e = {m->cx.now_ms, INT64_MAX};
	json_t *sg = stage_json(m, m->stage);
	int64_t soak_end = (int64_t)jget(sg, "started_ms") +
	                   (int64_t)m->pol->stages[m->stage].soak_s * 1000;
	int rc = fw_store_rollout_scan(m->s, m->id, FW_U_DELIVERED, -1, INT64_MAX, keep_earliest,
	                               &e, d);

	if (rc == FW_OK)
		rc = fw_store_rollout_scan(m->s, m->id, FW_U_FAILED, -1, INT64_MAX - 1, keep_earliest,
		                           &e, d);
	if (rc != FW_OK)
		return rc;
	if (soak_end > m->cx.now_ms && soak_end < e.at)
		e.at = soak_end;
	*at = e.at;
	return FW_OK;
}

/* ---- reports ---- */

static void report_init(struct sim *m, size_t k, uint32_t dev, int status)
{
	struct fw_rollout_report *r = &m->rep[k];

	memset(r, 0, sizeof(*r));
	dev_id(dev, m->ids[k]);
	r->device = m->ids[k];
	r->status = status;
}

static int by_device(const void *a, const void *b)
{
	return strcmp(((const struct fw_rollout_report *)a)->device,
	              ((const struct fw_rollout_report *)b)->device);
}

/* Send reports [0, n) in one transaction, in device order: which reports
 * share a transaction is up to chance, but inside one the engine's rows
 * are then visited in key order (as a server would apply what it queued
 * for one commit), not all over the tables. */
static int flush(struct sim *m, size_t n, const char *what, struct fw_diag *d)
{
	double t;
	int rc;

	if (n == 0)
		return FW_OK;
	qsort(m->rep, n, sizeof(*m->rep), by_device);
	t = wall();
	rc = fw_rollout_report(m->s, m->id, m->rep, n, &m->cx, m->res, d);
	*(m->rep[0].status == FW_U_DELIVERED ? &m->sum->delivered_s : &m->sum->outcomes_s) +=
	    wall() - t;
	if (rc != FW_OK)
		return engine_fail(m, rc, what, d);
	m->sum->reports += n;
	return FW_OK;
}

/* What a round of deliveries did, for its lines. */
struct round {
	uint64_t delivered, ineligible, waves, inst, failed, integ, silent, quar;
	size_t nq;
	int stopped; /* the campaign paused or rolled back during the round */
	char named[NOTE_QUARANTINED * 34];
};

/* Deliver m->list[from, to) in one transaction; the applied ones go to
 * m->out. */
static int deliver_wave(struct sim *m, size_t from, size_t to, struct round *rd,
                        struct fw_diag *d)
{
	size_t i, k = 0;
	int rc;

	for (i = from; i < to; i++)
		report_init(m, k++, m->list[i], FW_U_DELIVERED);
	rc = flush(m, k, "delivered reports", d);
	m->nout = 0;
	for (i = 0; rc == FW_OK && i < k; i++) {
		if (m->res[i].outcome == FW_REPORT_APPLIED)
			m->out[m->nout++] = (uint32_t)dev_index(m, m->rep[i].device);
		else if (m->res[i].outcome == FW_REPORT_STOPPED)
			rd->ineligible++;
	}
	rd->delivered += m->nout;
	return rc;
}

/* The devices of a wave report, in random order: installed, failed (some
 * with an integrity failure), or nothing at all. */
static int outcomes(struct sim *m, struct round *rd, struct fw_diag *d)
{
	size_t i, k = 0, j;
	int rc;

	/* Fisher-Yates */
	for (i = m->nout; i > 1; i--) {
		size_t r = (size_t)rnd_below(m, i);
		uint32_t t = m->out[i - 1];

		m->out[i - 1] = m->out[r];
		m->out[r] = t;
	}
	for (i = 0; i < m->nout; i++) {
		uint32_t dev = m->out[i];

		if (m->fate[dev] & FATE_INTEGRITY) {
			m->fate[dev] &= (uint8_t)~FATE_INTEGRITY;
			report_init(m, k, dev, FW_U_FAILED);
			m->rep[k].integrity_failure = 1;
			m->rep[k].detail = "simulated: the image's signature did not verify";
			k++;
			rd->integ++;
		} else if (rnd_percent(m) < m->p->fail_rate) {
			if (rnd_below(m, 1000) < FW_SIM_SILENT_PERMILLE) {
				rd->silent++;
			} else {
				report_init(m, k, dev, FW_U_FAILED);
				m->rep[k].detail = "simulated: the installation failed";
				k++;
				rd->failed++;
			}
		} else {
			report_init(m, k, dev, FW_U_INSTALLED);
			m->rep[k].version = m->version;
			k++;
			rd->inst++;
		}
		if (k == m->batch || (i + 1 == m->nout && k > 0)) {
			int stopped = 0;

			rc = flush(m, k, "outcome reports", d);
			if (rc != FW_OK)
				return rc;
			for (j = 0; j < k; j++) {
				if (m->res[j].quarantined) {
					rd->quar++;
					if (rd->nq++ < NOTE_QUARANTINED)
						snprintf(rd->named + strlen(rd->named),
						         sizeof(rd->named) - strlen(rd->named), "%s%s",
						         rd->nq > 1 ? ", " : "", m->rep[j].device);
				}
				if (m->res[j].paused)
					stopped = 1;
			}
			if (stopped) {
				/* the rest still report: they have the image already */
				rc = refresh(m, d);
				if (rc != FW_OK)
					return rc;
				note_stop(m, d);
				rd->stopped = 1;
			}
			k = 0;
		}
	}
	m->sum->integrity_failures += rd->integ;
	return FW_OK;
}

/*
 * A round: every eligible device of a started stage and every failed one
 * whose retry is due is delivered, in waves of up to a batch, a few
 * minutes apart: a wave is delivered (one transaction), and its devices
 * report FW_SIM_INSTALL_S later, in random order (transactions of their
 * own), before the next wave goes out. A pause (or a rollback) stops the
 * round: the devices not delivered yet wait for the campaign to resume.
 * *any is 0 when there was nothing to deliver.
 */
static int deliver_round(struct sim *m, int *any, struct fw_diag *d)
{
	struct round rd;
	uint64_t wait_s = m->pol->report_timeout_s / 2 < FW_SIM_INSTALL_S
	                      ? m->pol->report_timeout_s / 2
	                      : FW_SIM_INSTALL_S;
	size_t w = 0, n_elig;
	int rc;

	memset(&rd, 0, sizeof(rd));
	m->nlist = 0;
	rc = scan(m, FW_U_ELIGIBLE, INT64_MAX, d);
	n_elig = m->nlist;
	if (rc == FW_OK)
		rc = scan(m, FW_U_FAILED, m->cx.now_ms, d);
	*any = m->nlist > 0;
	if (rc != FW_OK || m->nlist == 0)
		return rc;
	say(m, "delivering %zu device(s) (%zu first attempts, %zu retries) in waves of up to %zu, "
	       "%llu s apart",
	    m->nlist, n_elig, m->nlist - n_elig, m->batch, (unsigned long long)wait_s);
	m->phase = "deliveries";
	while (rc == FW_OK && w < m->nlist && !rd.stopped) {
		size_t to = m->nlist - w > m->batch ? w + m->batch : m->nlist;

		rd.waves++;
		rc = deliver_wave(m, w, to, &rd, d);
		w = to;
		m->cx.now_ms += (int64_t)wait_s * 1000;
		if (rc == FW_OK)
			rc = outcomes(m, &rd, d);
		progress(m, m->phase, w, m->nlist);
	}
	if (rc != FW_OK)
		return rc;
	say(m, "%llu wave(s): %llu delivered, %llu installed, %llu failed (%llu integrity), "
	       "%llu silent",
	    (unsigned long long)rd.waves, (unsigned long long)rd.delivered,
	    (unsigned long long)rd.inst, (unsigned long long)(rd.failed + rd.integ),
	    (unsigned long long)rd.integ, (unsigned long long)rd.silent);
	if (rd.ineligible)
		say(m, "%llu device(s) no longer eligible at delivery (ineligible)",
		    (unsigned long long)rd.ineligible);
	if (rd.quar)
		say(m, "%llu device(s) quarantined: %s%s", (unsigned long long)rd.quar, rd.named,
		    rd.quar > NOTE_QUARANTINED ? ", ..." : "");
	if (w < m->nlist)
		say(m, "the campaign is %s: %zu device(s) not delivered", m->state, m->nlist - w);
	return FW_OK;
}

/* After a rollback, every device that received the release runs the
 * rollback release and says so. */
static int roll_back(struct sim *m, struct fw_diag *d)
{
	size_t i, k = 0;
	int rc;

	m->nlist = 0;
	rc = scan(m, FW_U_DELIVERED, INT64_MAX, d);
	if (rc == FW_OK)
		rc = scan(m, FW_U_INSTALLED, INT64_MAX, d);
	if (rc == FW_OK)
		rc = scan(m, FW_U_FAILED, INT64_MAX, d);
	if (rc != FW_OK)
		return rc;
	m->cx.now_ms += (int64_t)FW_SIM_INSTALL_S * 1000;
	m->phase = "rollback";
	for (i = 0; i < m->nlist; i++) {
		report_init(m, k, m->list[i], FW_U_ROLLED_BACK);
		m->rep[k].version = m->rb_version[0] ? m->rb_version : NULL;
		k++;
		if (k == m->batch || i + 1 == m->nlist) {
			rc = flush(m, k, "rolled_back reports", d);
			if (rc != FW_OK)
				return rc;
			k = 0;
			progress(m, m->phase, i + 1, m->nlist);
		}
	}
	say(m, "rollback: %zu device(s) that received the release report %s%s running",
	    m->nlist, m->rb_version[0] ? "version " : "the rollback release",
	    m->rb_version[0] ? m->rb_version : "");
	return FW_OK;
}

/* ---- ticks and the operator ---- */

static int tick(struct sim *m, struct fw_diag *d)
{
	double t;
	int rc;

	m->phase = "tick";
	t = wall();
	rc = fw_rollout_tick(m->s, m->id, &m->cx, NULL, d);
	m->sum->ticks_s += wall() - t;
	if (rc != FW_OK)
		return engine_fail(m, rc, "tick", d);
	return refresh(m, d);
}

/* rollback: the operator rolls back when the policy allows (else aborts) */
static int operator_abort(struct sim *m, int rollback, const char *why, struct fw_diag *d)
{
	int rb = m->has_rb && rollback;
	int rc = fw_rollout_abort(m->s, m->id, SIM_OPERATOR, rb, why, &m->cx, NULL, d);

	if (rc != FW_OK)
		return engine_fail(m, rc, "abort", d);
	m->campaign_records++;
	say(m, "the operator aborts the campaign%s: %s", rb ? " and rolls it back" : "", why);
	return refresh(m, d);
}

/* A paused campaign: the operator looks a while later and resumes it, up
 * to FW_SIM_MAX_RESUMES times; then aborts it. */
static int operator_look(struct sim *m, struct fw_diag *d)
{
	int rc;

	m->cx.now_ms += (int64_t)FW_SIM_LOOK_S * 1000;
	if (m->sum->resumes >= FW_SIM_MAX_RESUMES)
		return operator_abort(m, 1,
		                      "paused again after being resumed the most times the simulated "
		                      "operator allows",
		                      d);
	m->phase = "resume";
	rc = fw_rollout_resume(m->s, m->id, SIM_OPERATOR, "simulated operator: looked and resumed",
	                       &m->cx, NULL, d);
	if (rc != FW_OK)
		return engine_fail(m, rc, "resume", d);
	m->campaign_records++;
	m->sum->resumes++;
	rc = refresh(m, d);
	if (rc == FW_OK)
		say(m, "the operator looks and resumes the campaign (resume %llu of at most %u)",
		    (unsigned long long)m->sum->resumes, FW_SIM_MAX_RESUMES);
	return rc;
}

/* ---- the run ---- */

static void note_start(struct sim *m)
{
	char sizes[1200] = "";
	uint64_t members = 0, inel = 0;
	json_t *u = json_object_get(m->st, "ineligible_at_start"), *v;
	const char *k;
	uint32_t i;

	json_object_foreach(u, k, v)
		inel += (uint64_t)json_integer_value(v);
	for (i = 0; i < m->pol->nstages; i++) {
		uint64_t n = jget(stage_json(m, i), "devices");

		members += n;
		snprintf(sizes + strlen(sizes), sizeof(sizes) - strlen(sizes), "%s%s %llu",
		         i ? ", " : "", m->pol->stages[i].name, (unsigned long long)n);
	}
	say(m, "start: %llu members, %llu ineligible at the start; stage sizes: %s",
	    (unsigned long long)(members + inel), (unsigned long long)inel, sizes);
}

static int run(struct sim *m, struct fw_diag *d)
{
	int64_t at;
	double t;
	long steps;
	uint32_t seen;
	int rc, any;

	m->phase = "start";
	t = wall();
	rc = fw_rollout_start(m->s, m->id, SIM_OPERATOR, &m->cx, NULL, d);
	m->sum->start_s = wall() - t;
	if (rc != FW_OK)
		return engine_fail(m, rc, "start", d);
	m->campaign_records++;
	rc = refresh(m, d);
	if (rc != FW_OK)
		return rc;
	note_start(m);
	note_stages(m);
	for (steps = 0; rc == FW_OK; steps++) {
		if (steps == MAX_STEPS)
			return fw_diag_set(d, FW_E_INTERNAL, "simulation: no end after %d steps", MAX_STEPS);
		if (is_state(m, "completed") || is_state(m, "aborted"))
			break;
		if (is_state(m, "rolled_back")) {
			rc = roll_back(m, d);
			if (rc == FW_OK)
				rc = refresh(m, d);
			break;
		}
		if (is_state(m, "paused")) {
			rc = operator_look(m, d);
			continue;
		}
		if (!is_state(m, "running"))
			return fw_diag_set(d, FW_E_INTERNAL, "simulation: campaign %s is %s", m->id,
			                   m->state);
		rc = deliver_round(m, &any, d);
		if (rc == FW_OK && any) {
			rc = refresh(m, d);
			continue;
		}
		if (rc == FW_OK)
			rc = tick(m, d);
		if (rc != FW_OK)
			break;
		note_timeouts(m);
		seen = m->stages_seen;
		note_stages(m); /* a tick may enter a stage, then pause or complete */
		if (!is_state(m, "running")) {
			if (is_state(m, "paused") || is_state(m, "rolled_back")) {
				note_stop(m, d);
			} else if (is_state(m, "completed")) {
				m->campaign_records++;
			}
			continue;
		}
		if (m->stages_seen > seen)
			continue;
		rc = next_event(m, &at, d);
		if (rc != FW_OK)
			break;
		if (at == INT64_MAX) {
			char why[400];

			snprintf(why, sizeof(why), "stuck: %s",
			         json_string_value(json_object_get(m->st, "next")));
			rc = operator_abort(m, 0, why, d);
			continue;
		}
		m->cx.now_ms = at;
	}
	return rc;
}

/* ---- the scratch store ---- */

struct tpl {
	const struct fw_policy_release *rel;
	const struct fw_policy_target *t;
	const struct fw_campaign_policy *pol;
	int64_t now;
	struct fw_device_row dev;
	struct fw_cert_row cert;
	uint8_t *der;
	int has_cert, nomem;
};

static int find_template(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct tpl *t = arg;

	if (fw_policy_decide(t->rel, t->t, dev, cert, t->now, NULL) | fw_campaign_target(t->pol, dev))
		return 0;
	t->dev = *dev;
	if (cert) {
		t->cert = *cert;
		t->der = malloc(cert->der_len ? cert->der_len : 1);
		if (t->der == NULL) {
			t->nomem = 1;
			return FOUND;
		}
		memcpy(t->der, cert->der, cert->der_len);
		t->cert.der = t->der;
		t->has_cert = 1;
	}
	return FOUND;
}

/* Copy one object (kind, id) from the real store. *doc (may be NULL) gets it parsed. */
static int copy_object(struct fw_store *real, struct fw_store *s, const char *kind,
                       const char *id, json_t **doc, struct fw_diag *d)
{
	char *text = NULL;
	int rc = fw_store_object_get(real, kind, id, &text, d);

	if (rc == FW_OK)
		rc = fw_store_object_put(s, kind, id, text, 1, d);
	if (rc == FW_OK && doc) {
		*doc = json_loads(text, 0, NULL);
		if (*doc == NULL)
			rc = fw_diag_set(d, FW_E_STORE, "%s %s: its document is malformed", kind, id);
	}
	free(text);
	return rc;
}

static int copy_release(struct fw_store *real, struct fw_store *s, const char *id,
                        struct fw_diag *d)
{
	json_t *doc = NULL;
	const char *signer;
	int rc = copy_object(real, s, "release", id, &doc, d);

	signer = json_string_value(json_object_get(doc, "signer_key_id"));
	if (rc == FW_OK && signer)
		rc = copy_object(real, s, "key", signer, NULL, d);
	json_decref(doc);
	return rc;
}

/* The campaign as it was before it started, every stage approved. */
static int copy_campaign(struct sim *m, json_t *doc, uint64_t idx, const uint8_t lh[32],
                         struct fw_diag *d)
{
	json_t *c = json_deep_copy(doc), *ap = json_object_get(c, "approvals"), *a;
	const char *was = json_string_value(json_object_get(doc, "state"));
	uint32_t k, given, j;
	size_t i;
	int rc;

	if (c == NULL || !json_is_array(ap)) {
		json_decref(c);
		return c ? fw_diag_set(d, FW_E_STORE, "campaign %s: its document is malformed", m->id)
		         : oom(d);
	}
	if (was && strcmp(was, "ready") != 0 && strcmp(was, "awaiting_approval") != 0)
		line(m, FW_SIM_COURSE, "campaign %s is %s in the real store: the simulation runs it "
		                       "from its start", m->id, was);
	for (k = 0; k < m->pol->nstages; k++) {
		given = 0;
		json_array_foreach(ap, i, a)
			if ((uint32_t)json_integer_value(json_object_get(a, "stage")) == k)
				given++;
		for (j = given; j < m->pol->stages[k].approvals; j++)
			json_array_append_new(ap, json_pack("{sI ss sb}", "stage", (json_int_t)k,
			                                    "operator", "simulated-approver", "simulated", 1));
		if (given < m->pol->stages[k].approvals) {
			line(m, FW_SIM_COURSE, "stage %u (%s): %u of %u approval(s) given, %u simulated", k,
			     m->pol->stages[k].name, given, m->pol->stages[k].approvals,
			     m->pol->stages[k].approvals - given);
			m->sum->simulated_approvals += m->pol->stages[k].approvals - given;
		}
	}
	json_object_set_new(c, "state", json_string("ready"));
	json_object_set_new(c, "stage", json_integer(0));
	json_object_del(c, "progress");
	json_object_set_new(c, "paused", json_null());
	json_object_set_new(c, "simulated", json_true());
	json_object_set_new(c, "updated", fw_evidence_ref_json(idx, lh));
	rc = fw_registry_doc_put(m->s, "campaign", m->id, c, 0, d);
	json_decref(c);
	return rc;
}

static int make_fleet(struct sim *m, struct fw_store *real, json_t *cdoc, struct tpl *t,
                      struct fw_diag *d)
{
	json_t *rec = fw_evidence_record_new("simulation.setup", SIM_OPERATOR), *op;
	struct fw_device_row *dev = malloc(sizeof(*dev));
	uint64_t idx = 0, i;
	uint8_t lh[32];
	int rc;

	if (rec == NULL || dev == NULL) {
		json_decref(rec);
		free(dev);
		return oom(d);
	}
	json_object_set_new(rec, "campaign", json_string(m->id));
	json_object_set_new(rec, "release", json_string(m->rel_id));
	json_object_set_new(rec, "template_device", json_string(t->dev.id));
	json_object_set_new(rec, "devices", json_integer((json_int_t)m->n));
	json_object_set_new(rec, "fail_rate_ppm",
	                    json_integer((json_int_t)(m->p->fail_rate * 10000.0 + 0.5)));
	json_object_set_new(rec, "integrity_failures",
	                    json_integer((json_int_t)m->p->integrity_failures));
	json_object_set_new(rec, "seed", json_integer((json_int_t)(m->p->seed & INT64_MAX)));
	rc = fw_store_begin(m->s, d);
	if (rc == FW_OK)
		rc = fw_evidence_append(m->s, rec, &idx, lh, d);
	if (rc == FW_OK)
		rc = copy_release(real, m->s, m->rel_id, d);
	if (rc == FW_OK && m->has_rb)
		rc = copy_release(real, m->s, m->rb_id, d);
	if (rc == FW_OK)
		rc = copy_campaign(m, cdoc, idx, lh, d);
	if (rc == FW_OK) {
		op = json_pack("{ss ss ss sb}", "name", SIM_OPERATOR, "role", FW_OP_OPERATOR, "state",
		               "active", "simulated", 1);
		if (op == NULL)
			rc = oom(d);
		else
			rc = fw_registry_doc_put(m->s, "operator", SIM_OPERATOR, op, 0, d);
		json_decref(op);
	}
	if (rc == FW_OK && t->has_cert)
		rc = fw_store_cert_put(m->s, &t->cert, d);
	*dev = t->dev;
	dev->rec = idx;
	memcpy(dev->rec_lh, lh, 32);
	dev->rec_pos = 0;
	for (i = 0; rc == FW_OK && i < m->n; i++) {
		dev_id(i, dev->id);
		rc = fw_store_device_put(m->s, dev, 0, d);
		if ((i + 1) % 4096 == 0 || i + 1 == m->n)
			progress(m, "fleet", i + 1, m->n);
	}
	if (rc == FW_OK)
		rc = fw_store_commit(m->s, d);
	else
		fw_store_rollback(m->s);
	json_decref(rec);
	free(dev);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* The scratch directory: a new temporary one, or the caller's (created,
 * or an empty one). */
static int scratch_dir(const struct fw_sim_params *p, char *dir, size_t cap, struct fw_diag *d)
{
	const char *tmp = getenv("TMPDIR");

	if (p->dir == NULL) {
		if (snprintf(dir, cap, "%s/fwtrust-sim.XXXXXX", tmp && tmp[0] ? tmp : "/tmp") >= (int)cap)
			return fw_diag_set(d, FW_E_ARG, "$TMPDIR is too long");
		if (mkdtemp(dir) == NULL)
			return fw_diag_set(d, FW_E_IO, "%s: cannot create a scratch directory: %s", dir,
			                   strerror(errno));
		return FW_OK;
	}
	if (snprintf(dir, cap, "%s", p->dir) >= (int)cap - 64)
		return fw_diag_set(d, FW_E_ARG, "%s: path too long", p->dir);
	if (mkdir(dir, 0700) != 0) {
		int err = errno;
		FILE *f;
		char probe[4200];

		if (err != EEXIST)
			return fw_diag_set(d, FW_E_IO, "%s: cannot create the directory: %s", dir,
			                   strerror(err));
		snprintf(probe, sizeof(probe), "%s/sim.db", dir);
		f = fopen(probe, "r");
		if (f) {
			fclose(f);
			return fw_diag_set(d, FW_E_EXISTS,
			                   "%s: holds a simulation already (sim.db): give a new directory",
			                   dir);
		}
	}
	return FW_OK;
}

static int params_ok(const struct fw_sim_params *p, struct fw_diag *d)
{
	if (p->devices < 1 || p->devices > FW_SIM_MAX_DEVICES)
		return fw_diag_set(d, FW_E_ARG, "devices: %llu is not 1..%u",
		                   (unsigned long long)p->devices, FW_SIM_MAX_DEVICES);
	if (!(p->fail_rate >= 0.0 && p->fail_rate <= 100.0))
		return fw_diag_set(d, FW_E_ARG, "fail rate: %g is not a percent 0..100", p->fail_rate);
	if (p->integrity_failures > p->devices)
		return fw_diag_set(d, FW_E_ARG, "integrity failures: %llu is more than the %llu devices",
		                   (unsigned long long)p->integrity_failures,
		                   (unsigned long long)p->devices);
	if (p->batch > FW_SIM_MAX_BATCH)
		return fw_diag_set(d, FW_E_ARG, "batch: %zu is more than %u", p->batch,
		                   FW_SIM_MAX_BATCH);
	return FW_OK;
}

static void summarize(struct sim *m, double t_fleet, double t_engine)
{
	struct fw_sim_summary *sum = m->sum;
	json_t *sg, *v, *u = json_object_get(m->st, "ineligible_at_start");
	const char *k;
	size_t i;
	int st;
	char counts[600] = "";
	int64_t s;

	snprintf(sum->state, sizeof(sum->state), "%s", m->state);
	json_array_foreach(json_object_get(m->st, "stages"), i, sg)
		json_object_foreach(json_object_get(sg, "counts"), k, v)
			if ((st = fw_update_state_parse(k)) >= 0)
				sum->counts[st] += (uint64_t)json_integer_value(v);
	json_object_foreach(u, k, v)
		if ((st = fw_update_state_parse(k)) >= 0)
			sum->counts[st] += (uint64_t)json_integer_value(v);
	sum->devices = m->n;
	sum->timeouts = total(m, "timeouts");
	sum->retries = total(m, "retries");
	sum->quarantined = total(m, "quarantined");
	sum->rolled_back = is_state(m, "rolled_back");
	sum->aborted = is_state(m, "aborted");
	sum->sim_ms = m->cx.now_ms - m->t0;
	sum->fleet_s = t_fleet;
	sum->engine_s = t_engine;
	for (st = 0; st < FW_U_COUNT; st++)
		if (sum->counts[st])
			snprintf(counts + strlen(counts), sizeof(counts) - strlen(counts), "%s%s %llu",
			         counts[0] ? ", " : "", fw_update_state_name(st),
			         (unsigned long long)sum->counts[st]);
	say(m, "campaign %s %s", m->id, m->state);
	s = sum->sim_ms / 1000;
	line(m, FW_SIM_COURSE, "devices: %s", counts);
	line(m, FW_SIM_COURSE,
	     "simulated time %lldd %02d:%02d:%02d; stages entered %llu of %zu; pauses %llu, "
	     "resumes %llu; retries %llu, timeouts %llu, integrity failures %llu, quarantined %llu",
	     (long long)(s / 86400), (int)(s % 86400 / 3600), (int)(s % 3600 / 60), (int)(s % 60),
	     (unsigned long long)sum->stages_entered, m->pol->nstages,
	     (unsigned long long)sum->pauses, (unsigned long long)sum->resumes,
	     (unsigned long long)sum->retries, (unsigned long long)sum->timeouts,
	     (unsigned long long)sum->integrity_failures, (unsigned long long)sum->quarantined);
	line(m, FW_SIM_COURSE,
	     "engine: %llu reports, %llu device transitions, %llu evidence records",
	     (unsigned long long)sum->reports, (unsigned long long)sum->transitions,
	     (unsigned long long)sum->records);
	line(m, FW_SIM_INFO,
	     "wall time %.1f s: scratch store and fleet %.1f s, engine %.1f s; %.0f reports/s, "
	     "%.0f device transitions/s",
	     t_fleet + t_engine, t_fleet, t_engine, t_engine > 0 ? (double)sum->reports / t_engine : 0,
	     t_engine > 0 ? (double)sum->transitions / t_engine : 0);
	line(m, FW_SIM_INFO,
	     "engine time: start %.1f s, ticks (stage entries, timeouts) %.1f s, delivered "
	     "reports %.1f s, outcome reports %.1f s, the simulator's own %.1f s",
	     sum->start_s, sum->ticks_s, sum->delivered_s, sum->outcomes_s,
	     t_engine - sum->start_s - sum->ticks_s - sum->delivered_s - sum->outcomes_s);
}

int fw_rollout_simulate(struct fw_store *real, const char *id, const struct fw_sim_params *p,
                        fw_sim_print_fn print, void *parg, struct fw_sim_summary *sum,
                        struct fw_diag *d)
{
	struct sim *m = calloc(1, sizeof(*m));
	struct fw_sim_summary *out = calloc(1, sizeof(*out));
	struct fw_policy_release *rel = malloc(sizeof(*rel));
	struct tpl *t = calloc(1, sizeof(*t));
	struct fw_policy_target target;
	const char *cohorts[64];
	json_t *cdoc = NULL;
	char dir[4096], path[4200], maxf[64] = "", *text = NULL;
	uint64_t size = 0, j;
	double w0, w1, w2;
	size_t i;
	int rc, made_dir = 0;

	if (m == NULL || out == NULL || rel == NULL || t == NULL) {
		rc = oom(d);
		goto out;
	}
	if (real == NULL || id == NULL || p == NULL) {
		rc = fw_diag_set(d, FW_E_ARG, "simulate: no store, campaign or parameters");
		goto out;
	}
	rc = params_ok(p, d);
	if (rc != FW_OK)
		goto out;
	w0 = wall();
	m->p = p;
	m->print = print;
	m->parg = parg;
	m->sum = out;
	m->n = p->devices;
	m->batch = p->batch ? p->batch
	           : p->devices / 10 < FW_SIM_BATCH_MIN ? FW_SIM_BATCH_MIN
	           : p->devices / 10 > FW_SIM_BATCH_MAX ? FW_SIM_BATCH_MAX
	                                                : (size_t)(p->devices / 10);
	m->rng = p->seed;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->t0 = fw_time_ms();
	m->cx.now_ms = m->t0;
	m->cx.actor = SIM_OPERATOR;
	m->cx.progress = eng_progress;
	m->cx.parg = m;

	/* what the real store has */
	rc = fw_campaign_get(real, id, &cdoc, d);
	if (rc != FW_OK)
		goto out;
	m->pol = malloc(sizeof(*m->pol));
	text = json_dumps(json_object_get(cdoc, "policy"), JSON_COMPACT);
	if (m->pol == NULL || text == NULL) {
		rc = oom(d);
		goto out;
	}
	rc = fw_campaign_policy_parse(text, strlen(text), "stored policy", m->pol, d);
	if (rc != FW_OK)
		goto out;
	if (!json_is_string(json_object_get(cdoc, "release_id"))) {
		rc = fw_diag_set(d, FW_E_STORE, "campaign %s: its document is malformed", id);
		goto out;
	}
	snprintf(m->rel_id, sizeof(m->rel_id), "%s",
	         json_string_value(json_object_get(cdoc, "release_id")));
	if (json_is_string(json_object_get(cdoc, "rollback_release_id"))) {
		snprintf(m->rb_id, sizeof(m->rb_id), "%s",
		         json_string_value(json_object_get(cdoc, "rollback_release_id")));
		m->has_rb = 1;
	}
	if (m->has_rb) {
		rc = fw_policy_release_load(real, m->rb_id, rel, d);
		if (rc != FW_OK)
			goto out;
		snprintf(m->rb_version, sizeof(m->rb_version), "%s",
		         rel->has_version ? rel->version_text : "");
	}
	rc = fw_policy_release_load(real, m->rel_id, rel, d);
	if (rc != FW_OK)
		goto out;
	snprintf(m->version, sizeof(m->version), "%s", rel->version_text);
	for (i = 0; i < m->pol->ncohorts; i++)
		cohorts[i] = m->pol->cohorts[i];
	target.cohorts = cohorts;
	target.ncohorts = m->pol->ncohorts;
	t->rel = rel;
	t->t = &target;
	t->pol = m->pol;
	t->now = m->t0 / 1000;
	rc = fw_store_device_scan(real, find_template, t, d);
	if (rc == FOUND)
		rc = t->nomem ? oom(d) : FW_OK;
	else if (rc == FW_OK)
		rc = fw_diag_set(d, FW_E_NOT_FOUND,
		                 "no device of the registry is eligible for campaign %s (release "
		                 "%.16s) now: the simulation clones one (see 'fwtrust eligibility "
		                 "--release %.16s')",
		                 id, m->rel_id, m->rel_id);
	if (rc != FW_OK)
		goto out;

	rc = scratch_dir(p, dir, sizeof(dir), d);
	if (rc != FW_OK)
		goto out;
	made_dir = 1;
	line(m, FW_SIM_COURSE, "simulating campaign %s (%s): release %.16s (version %s)%s%.16s%s",
	     id, m->pol->name, m->rel_id, m->version, m->has_rb ? ", rollback to " : "",
	     m->has_rb ? m->rb_id : "", m->has_rb && m->pol->rollback_automatic ? " (automatic)" : "");
	if (m->pol->max_failures)
		snprintf(maxf, sizeof(maxf), " or at %llu failures",
		         (unsigned long long)m->pol->max_failures);
	line(m, FW_SIM_COURSE,
	     "policy: %zu stage(s), success threshold %u%%, pause at %u%% failures of at least "
	     "%llu reports%s, %u attempt(s) %llu s apart, report timeout %llu s, quarantine after "
	     "%u failed attempt(s)",
	     m->pol->nstages, m->pol->success_threshold, m->pol->fail_rate_percent,
	     (unsigned long long)m->pol->fail_rate_min_reports,
	     maxf, m->pol->retry_max_attempts,
	     (unsigned long long)m->pol->retry_backoff_s, (unsigned long long)m->pol->report_timeout_s,
	     m->pol->quarantine_after);
	line(m, FW_SIM_COURSE,
	     "devices: %llu clones (sim-%07llu..) of %s (%s %s, hardware %s, firmware %s, cohorts "
	     "%s); fail rate %g%% per attempt (%u permille of failures silent), %llu integrity "
	     "failure(s), seed %llu",
	     (unsigned long long)m->n, 1ULL, t->dev.id, t->dev.product, t->dev.family,
	     t->dev.hw_revision, t->dev.fw_version, t->dev.cohorts[0] ? t->dev.cohorts : "none",
	     p->fail_rate, FW_SIM_SILENT_PERMILLE, (unsigned long long)p->integrity_failures,
	     (unsigned long long)p->seed);

	/* the scratch store */
	snprintf(path, sizeof(path), "%s/sim.db", dir);
	rc = fw_store_open(path, 1, &m->s, d);
	if (rc == FW_OK)
		rc = fw_store_set_scratch(m->s, d);
	if (rc == FW_OK) {
		snprintf(path, sizeof(path), "%s/sim-log", dir);
		rc = fw_evidence_setup(m->s, "fwtrust-simulation", path, d);
	}
	if (rc != FW_OK)
		goto out;
	line(m, FW_SIM_INFO, "scratch store: %s/sim.db%s", dir,
	     p->dir ? " (kept)" : " (removed afterwards)");
	m->fate = calloc(m->n, 1);
	m->rep = calloc(m->batch, sizeof(*m->rep));
	m->res = calloc(m->batch, sizeof(*m->res));
	m->ids = calloc(m->batch, sizeof(*m->ids));
	m->out = calloc(m->batch, sizeof(*m->out));
	if (m->fate == NULL || m->rep == NULL || m->res == NULL || m->ids == NULL ||
	    m->out == NULL) {
		rc = oom(d);
		goto out;
	}
	for (j = 0; j < p->integrity_failures; j++) {
		uint64_t k;

		do
			k = rnd_below(m, m->n);
		while (m->fate[k] & FATE_INTEGRITY);
		m->fate[k] |= FATE_INTEGRITY;
	}
	rc = make_fleet(m, real, cdoc, t, d);
	if (rc == FW_OK)
		rc = fw_evidence_size(m->s, &m->records0, NULL, d);
	if (rc != FW_OK)
		goto out;
	w1 = wall();

	rc = run(m, d);
	if (rc == FW_OK)
		rc = fw_evidence_size(m->s, &size, NULL, d);
	if (rc != FW_OK)
		goto out;
	w2 = wall();
	out->records = size - m->records0;
	/* every record is a device transition but the campaign's own and the
	 * quarantines (device.lifecycle) */
	out->transitions = out->records - m->campaign_records - total(m, "quarantined");
	summarize(m, w1 - w0, w2 - w1);
	*sum = *out;
out:
	if (m) {
		fw_store_close(m->s);
		if (made_dir && p && p->dir == NULL)
			nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		json_decref(m->st);
		free(m->pol);
		free(m->fate);
		free(m->rep);
		free(m->res);
		free(m->ids);
		free(m->list);
		free(m->out);
	}
	json_decref(cdoc);
	free(text);
	free(t ? t->der : NULL);
	free(t);
	free(rel);
	free(out);
	free(m);
	return rc;
}
