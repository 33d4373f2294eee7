/*
 * device: one simulated or real device (its poll cycle: configData, cancel,
 * deployment with libfwv) and the runner that schedules many of them on
 * worker threads. Private to src/agent/.
 */
#ifndef FW_AGENT_DEVICE_H
#define FW_AGENT_DEVICE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/ddi_client.h"
#include "core/core.h"
#include "fwv.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Exit codes (docs/agent.md). */
#define AGENT_EXIT_OK 0
#define AGENT_EXIT_REFUSED 1   /* --once: the update was refused or failed */
#define AGENT_EXIT_USAGE 2     /* usage, or a local error (state dir, key file) */
#define AGENT_EXIT_SERVER 3    /* --once: the server failed or refused the token */

/* What every agent of the process shares; read-only once threads run. */
struct agent_config {
	const char *server;           /* no trailing '/' */
	const char *tenant;
	const char *cacert;           /* NULL: the system's CAs */
	struct fwv_key keys[FW_MAX_TRUSTED_KEYS];
	size_t nkeys;
	uint8_t vendor[16], class_id[16], device_uuid[16];
	int has_vendor, has_class, has_device_uuid;
	unsigned poll_s;              /* --poll: 0 = the server's sleep */
	int verbose;
	int fleet;                    /* several agents: jitter, per-agent dirs, cache */
	int once;
	double fail_pct;              /* --fail-rate */
	double integrity_pct;         /* --integrity-rate */
	char cache_dir[PATH_MAX];     /* fleet: DIR/.cache ("" in single mode) */
};

/* Counters of the whole process (summary line). */
struct agent_stats {
	atomic_ullong polls, downloads, installed, failed, integrity, cancelled, errors;
};

/* One device. Only the thread running its cycle touches it, except the
 * scheduling fields and done flags the runner reads under its lock. */
struct agent {
	char id[AGENT_MAX_DEVICE_ID + 1];
	char token[AGENT_MAX_TOKEN + 1];
	char dir[PATH_MAX];           /* its state directory */
	struct agent_state state;
	uint64_t rng;                 /* per-agent: results do not depend on threads */
	unsigned sleep_s;             /* the server's last polling sleep */
	unsigned fails;               /* consecutive failed polls (backoff) */
	unsigned retry_after;         /* Retry-After of a 429, seconds */
	char last_note[96];           /* what the last poll said (quiet polls) */
	/* --until-installed: offered in this run, and the success report for
	 * that version was accepted (200) */
	char offered[AGENT_MAX_VERSION + 1];
	int reported;
	/* runner */
	int64_t due_ms;
	size_t heap_pos;
	int cycles;
	int exit_code;                /* of the last cycle (for --once) */
	int settled;                  /* --until-installed done; under the runner's lock */
	int quiet;                    /* the last cycle's poll worked and offered nothing */
	int idle;                     /* quiet, copied under the runner's lock */
};

/* Log one line on stderr, prefixed "fwtrust-agent: " (and the device id
 * in fleet mode). Lines of threads never interleave. */
void agent_log(const struct agent_config *cfg, const struct agent *a, const char *fmt, ...)
    FW_PRINTF(3, 4);
/* Only with -v. */
void agent_vlog(const struct agent_config *cfg, const struct agent *a, const char *fmt, ...)
    FW_PRINTF(3, 4);

/* Prepare an agent: create its directory, read state.json or write the
 * initial one (init, NULL when --sequence/--version were not given). */
FW_NODISCARD int agent_open(struct agent *a, const struct agent_state *init, struct fw_diag *d);

/* One poll cycle: poll, then configData, then a cancel or a deployment.
 * Returns an AGENT_EXIT_* code (OK also when there was nothing to do) and
 * sets a->due_ms (next cycle). conn serves the cycle; side serves polls
 * made while a download runs (to hear a cancel). */
int agent_cycle(const struct agent_config *cfg, struct agent *a, struct ddi_conn *conn,
                struct ddi_conn *side, struct agent_stats *st);

/* Uniform in [0, 1) from the agent's generator. */
double agent_rand(struct agent *a);

/* Runner (runner.c). */
struct agent_run_opts {
	unsigned threads;
	unsigned max_time_s;          /* 0 = no limit */
	int until_installed;
	unsigned until_idle_s;        /* 0 = off */
	int once;
	int fleet;
	uint64_t seed;
};
/* Run the agents until a signal, --max-time, --once or --until-installed.
 * Returns the exit code. Prints the summary (fleet) on stdout. */
int agent_run(const struct agent_config *cfg, struct agent *agents, size_t n,
              const struct agent_run_opts *o);
/* A cycle that acts on a deployment or cancel brackets it with these:
 * --until-idle waits while any action is under way. */
void agent_action_begin(void);
void agent_action_end(void);
/* Set once SIGTERM/SIGINT (or another stop) came; checked between requests
 * and about once a second inside a download. */
int agent_stopping(void);
/* Sleep ms, or less when the run stops. */
void agent_nap(unsigned ms);
int64_t agent_now_ms(void);  /* monotonic */

#endif
