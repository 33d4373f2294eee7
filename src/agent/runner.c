/*
 * The runner: agents on a min-heap by their next poll time, worker threads
 * that each take the most overdue agent and run its cycle with their own
 * curl handles, and the main thread waiting for signals, printing progress
 * and deciding when to stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/device.h"

#define PROGRESS_EVERY_MS 5000

static atomic_int stopping;
static atomic_int actions;              /* cycles acting on an action now */
static atomic_llong last_action_ms;     /* when the last one began */
static pthread_mutex_t nap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nap_cv;

int64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void abs_deadline(int64_t due_ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(due_ms / 1000);
	ts->tv_nsec = (long)(due_ms % 1000) * 1000000L;
}

void agent_action_begin(void)
{
	atomic_fetch_add(&actions, 1);
	atomic_store(&last_action_ms, (long long)agent_now_ms());
}

void agent_action_end(void)
{
	atomic_store(&last_action_ms, (long long)agent_now_ms());
	atomic_fetch_sub(&actions, 1);
}

int agent_stopping(void)
{
	return atomic_load(&stopping);
}

void agent_nap(unsigned ms)
{
	int64_t due = agent_now_ms() + ms;
	struct timespec ts;

	abs_deadline(due, &ts);
	pthread_mutex_lock(&nap_mu);
	while (!atomic_load(&stopping) && agent_now_ms() < due)
		if (pthread_cond_timedwait(&nap_cv, &nap_mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&nap_mu);
}

static void vlog(const struct agent_config *cfg, const struct agent *a, const char *fmt,
                 va_list ap)
{
	char line[1024];
	int n;

	if (cfg->fleet && a != NULL)
		n = snprintf(line, sizeof(line), "fwtrust-agent: %s: ", a->id);
	else
		n = snprintf(line, sizeof(line), "fwtrust-agent: ");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	strcat(line, "\n");
	/* one fputs on unbuffered stderr: one write, lines never mix */
	fputs(line, stderr);
}

void agent_log(const struct agent_config *cfg, const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	/* 1,000 agents would drown the terminal: fleet lines only with -v */
	if (cfg->fleet && !cfg->verbose)
		return;
	va_start(ap, fmt);
	vlog(cfg, a, fmt, ap);
	va_end(ap);
}

void agent_vlog(const struct agent_config *cfg, const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (!cfg->verbose)
		return;
	va_start(ap, fmt);
	vlog(cfg, a, fmt, ap);
	va_end(ap);
}

/* ---- the schedule: a binary min-heap on due_ms ---- */

struct sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct agent **heap;
	size_t n;
	size_t finished;          /* --once: agents whose one cycle is over */
	const struct agent_config *cfg;
	struct agent_stats *st;
	int once;
};

static void heap_swap(struct agent **h, size_t i, size_t j)
{
	struct agent *t = h[i];

	h[i] = h[j];
	h[j] = t;
	h[i]->heap_pos = i;
	h[j]->heap_pos = j;
}

static void heap_push(struct sched *s, struct agent *a)
{
	size_t i = s->n++;

	s->heap[i] = a;
	a->heap_pos = i;
	while (i > 0 && s->heap[(i - 1) / 2]->due_ms > s->heap[i]->due_ms) {
		heap_swap(s->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct agent *heap_pop(struct sched *s)
{
	struct agent *top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->n];
	s->heap[0]->heap_pos = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n && s->heap[l]->due_ms < s->heap[m]->due_ms)
			m = l;
		if (r < s->n && s->heap[r]->due_ms < s->heap[m]->due_ms)
			m = r;
		if (m == i)
			break;
		heap_swap(s->heap, i, m);
		i = m;
	}
	return top;
}

/* --until-installed: the agent was offered a deployment in this run, runs
 * its version and the server accepted the success report. */
static int settled(const struct agent *a)
{
	return a->offered[0] != '\0' && a->reported && strcmp(a->offered, a->state.version) == 0;
}

struct worker {
	pthread_t t;
	struct sched *s;
	struct ddi_conn *conn, *side;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sched *s = w->s;

	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&stopping)) {
		struct agent *a;
		struct timespec ts;
		int rc;

		if (s->n == 0) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		if (s->heap[0]->due_ms > agent_now_ms()) {
			abs_deadline(s->heap[0]->due_ms, &ts);
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		a = heap_pop(s);
		pthread_mutex_unlock(&s->mu);
		rc = agent_cycle(s->cfg, a, w->conn, w->side, s->st);
		pthread_mutex_lock(&s->mu);
		a->cycles++;
		a->exit_code = rc;
		a->settled = settled(a);
		a->idle = a->quiet;
		if (s->once)
			s->finished++;
		else
			heap_push(s, a);
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Never runs (the signals stay blocked and are taken by sigtimedwait). */
static void on_signal(int sig)
{
	(void)sig;
}

static void print_counts(FILE *f, const char *prefix, size_t n, const struct agent_stats *st,
                         int with_agents)
{
	if (with_agents)
		fprintf(f, "%sagents=%zu ", prefix, n);
	else
		fputs(prefix, f);
	fprintf(f, "polls=%llu downloads=%llu installed=%llu failed=%llu integrity=%llu "
	           "cancelled=%llu errors=%llu\n",
	        atomic_load(&st->polls), atomic_load(&st->downloads), atomic_load(&st->installed),
	        atomic_load(&st->failed), atomic_load(&st->integrity), atomic_load(&st->cancelled),
	        atomic_load(&st->errors));
	fflush(f);
}

int agent_run(const struct agent_config *cfg, struct agent *agents, size_t n,
              const struct agent_run_opts *o)
{
	struct agent_stats st;
	struct sched s;
	struct worker *w = NULL;
	pthread_condattr_t ca;
	sigset_t sigs;
	size_t i, nthreads = o->threads ? o->threads : 1, started = 0;
	int64_t t0 = agent_now_ms(), last_progress = t0;
	int exit_code = AGENT_EXIT_OK, reached = 0;
	const char *why = "signal";

	memset(&s, 0, sizeof(s));
	atomic_store(&last_action_ms, (long long)t0);
	atomic_init(&st.polls, 0);
	atomic_init(&st.downloads, 0);
	atomic_init(&st.installed, 0);
	atomic_init(&st.failed, 0);
	atomic_init(&st.integrity, 0);
	atomic_init(&st.cancelled, 0);
	atomic_init(&st.errors, 0);
	if (nthreads > n)
		nthreads = n;

	/* monotonic timed waits: a clock change must not stall the schedule */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, &ca);
	pthread_cond_init(&nap_cv, &ca);
	pthread_condattr_destroy(&ca);
	s.cfg = cfg;
	s.st = &st;
	s.once = o->once;
	s.heap = calloc(n, sizeof(*s.heap));
	w = calloc(nthreads, sizeof(*w));
	if (s.heap == NULL || w == NULL) {
		fprintf(stderr, "fwtrust-agent: out of memory\n");
		exit_code = AGENT_EXIT_USAGE;
		goto out;
	}
	/* first polls spread over a second (fleet) so 1,000 agents do not
	 * all knock at once */
	for (i = 0; i < n; i++) {
		agents[i].due_ms = t0 + (o->fleet && n > 1 ? (int64_t)(agent_rand(&agents[i]) * 1000) : 0);
		heap_push(&s, &agents[i]);
	}

	/* signals are taken by this thread only (sigtimedwait below); the
	 * workers inherit the blocked mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* a shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is dropped even while blocked: give both a handler */
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nthreads; i++) {
		w[i].s = &s;
		w[i].conn = ddi_conn_new(cfg->server, cfg->cacert);
		w[i].side = ddi_conn_new(cfg->server, cfg->cacert);
		if (w[i].conn == NULL || w[i].side == NULL ||
		    pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "fwtrust-agent: cannot start worker thread %zu\n", i);
			ddi_conn_free(w[i].conn);
			ddi_conn_free(w[i].side);
			w[i].conn = w[i].side = NULL;
			exit_code = AGENT_EXIT_USAGE;
			atomic_store(&stopping, 1);
			break;
		}
		started++;
	}

	while (!atomic_load(&stopping)) {
		struct timespec wait = {0, 200 * 1000000L};
		int64_t now;
		int sig = sigtimedwait(&sigs, NULL, &wait);

		if (sig == SIGINT || sig == SIGTERM) {
			why = sig == SIGINT ? "SIGINT" : "SIGTERM";
			break;
		}
		now = agent_now_ms();
		if (o->max_time_s && now - t0 >= (int64_t)o->max_time_s * 1000) {
			why = "max-time";
			break;
		}
		pthread_mutex_lock(&s.mu);
		if (o->once && s.finished == n) {
			pthread_mutex_unlock(&s.mu);
			why = "once";
			break;
		}
		if (o->until_installed) {
			/* a worker sets the flag under the lock after a cycle */
			for (i = 0; i < n && agents[i].settled; i++)
				;
			if (i == n) {
				pthread_mutex_unlock(&s.mu);
				why = "until-installed";
				reached = 1;
				break;
			}
		}
		if (o->until_idle_s) {
			/* quiescence: every agent's last poll offered nothing, and
			 * no action began or ended for until_idle_s seconds */
			for (i = 0; i < n && agents[i].idle; i++)
				;
			if (i == n && atomic_load(&actions) == 0 &&
			    now - atomic_load(&last_action_ms) >= (int64_t)o->until_idle_s * 1000) {
				pthread_mutex_unlock(&s.mu);
				why = "until-idle";
				reached = 1;
				break;
			}
		}
		pthread_mutex_unlock(&s.mu);
		if (o->fleet && now - last_progress >= PROGRESS_EVERY_MS) {
			char pre[64];

			last_progress = now;
			snprintf(pre, sizeof(pre), "fleet: %llds ", (long long)((now - t0) / 1000));
			print_counts(stderr, pre, n, &st, 0);
		}
	}

	/* stop: requests in flight finish (a download stops within a second
	 * and keeps its part for the next run); naps and waits end now */
	atomic_store(&stopping, 1);
	pthread_mutex_lock(&s.mu);
	pthread_cond_broadcast(&s.cv);
	pthread_mutex_unlock(&s.mu);
	pthread_mutex_lock(&nap_mu);
	pthread_cond_broadcast(&nap_cv);
	pthread_mutex_unlock(&nap_mu);
	for (i = 0; i < started; i++)
		pthread_join(w[i].t, NULL);
	for (i = 0; i < nthreads; i++) {
		ddi_conn_free(w[i].conn);
		ddi_conn_free(w[i].side);
	}

	if (exit_code == AGENT_EXIT_OK) {
		if (o->once && !o->fleet && agents[0].cycles > 0)
			exit_code = agents[0].exit_code;
		else if ((o->until_installed || o->until_idle_s) && !reached &&
		         strcmp(why, "max-time") == 0)
			exit_code = AGENT_EXIT_REFUSED; /* the condition was not met in time */
	}
	if (cfg->verbose)
		fprintf(stderr, "fwtrust-agent: stopping (%s)\n", why);
	if (o->fleet)
		print_counts(stdout, "fleet: ", n, &st, 1);
out:
	free(w);
	free(s.heap);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	return exit_code;
}
