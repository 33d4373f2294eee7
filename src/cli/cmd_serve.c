/* fwtrust serve: the device API over HTTP, with what time does (docs/serve.md). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"
#include "ddi/ddi.h"
#include "evidence/evidence.h"
#include "http/http.h"
#include "rollout/rollout.h"
#include "store/store.h"

static const char usage[] =
    "usage: fwtrust serve [--listen ADDR:PORT] [--db PATH] [options]\n"
    "\n"
    "Serve the hawkBit-compatible device API (DDI) that SWUpdate, RAUC's and Zephyr's\n"
    "hawkBit clients and fwtrust-agent speak, under /TENANT/controller/v1/DEVICE.\n"
    "Devices authenticate with the token 'fwtrust device token' issued them. While it\n"
    "runs it also does what time does: it ticks the campaigns that are under way\n"
    "(report timeouts, pause conditions, the next stage) and signs an evidence-log\n"
    "checkpoint when the log grew. SIGTERM or SIGINT stops it: requests in flight\n"
    "finish, a last checkpoint is signed. One JSON line per request on stdout.\n"
    "\n"
    "  --listen ADDR:PORT      where to listen (default 127.0.0.1:8080; port 0: any)\n"
    "  --tenant NAME           the tenant in the paths (default DEFAULT)\n"
    "  --poll-interval S       the polling sleep devices are told, seconds (default 300,\n"
    "                          at most 86399)\n"
    "  --public-url URL        prefix of the links devices follow (default: http:// and\n"
    "                          the request's Host header)\n"
    "  --gateway-token-file F  a token (first line of F, at least 32 characters) that\n"
    "                          authenticates for any enrolled device (GatewayToken)\n"
    "  --threads N             worker threads (default: the number of CPUs)\n"
    "  --max-body BYTES        request body cap (default 262144)\n"
    "  --timeout S             idle connection timeout (default 30)\n"
    "  --max-per-ip N          connections per client address (default: no limit)\n"
    "  --auth-fail-limit N     failed authentications per address per minute before\n"
    "                          429 (default 20)\n"
    "  --tick-every S          tick campaigns every S seconds (default 10; 0: never)\n"
    "  --checkpoint-every S    sign a checkpoint after S seconds of unsigned growth\n"
    "                          (default 60; 0: only when stopping)\n"
    "  --checkpoint-records N  ... or after N new records (default 10000)\n"
    "  --log FILE              the request log (default -: stdout; 'none': no log)\n"
    "  --ready-file FILE       write the port there once listening (for scripts)\n"
    "  --db PATH               the store (default $FWTRUST_DB or ./fwtrust.db)\n";

static int parse_uint(const char *flag, const char *v, unsigned long long max,
                      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || *out > max) {
		cli_err("serve", "%s: '%s' is not a number from 0 to %llu", flag, v, max);
		return -1;
	}
	return 0;
}

static char *read_token_file(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		cli_err("serve", "--gateway-token-file: %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		cli_err("serve", "--gateway-token-file: %s is empty", path);
		return NULL;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	return strdup(buf);
}

/* What time does to the campaigns under way. */
static void tick_all(struct fw_store *s)
{
	struct fw_diag d = {{0}};
	struct fw_rollout_ctx cx = {0, "fwtrust-serve", NULL, NULL};
	json_t *all = NULL;
	size_t i;
	json_t *c;

	if (fw_campaign_list(s, &all, &d) != FW_OK) {
		fprintf(stderr, "fwtrust serve: listing campaigns: %s\n", d.msg);
		return;
	}
	json_array_foreach(all, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *st = json_string_value(json_object_get(c, "state"));

		if (id == NULL || st == NULL ||
		    (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0 &&
		     strcmp(st, "aborted") != 0 && strcmp(st, "rolled_back") != 0))
			continue;
		cx.now_ms = fw_time_ms();
		if (fw_rollout_tick(s, id, &cx, NULL, &d) != FW_OK)
			fprintf(stderr, "fwtrust serve: campaign tick %s: %s\n", id, d.msg);
	}
	json_decref(all);
}

static void checkpoint(struct fw_store *s, const struct fw_key *key)
{
	struct fw_diag d = {{0}};
	char *note = NULL;

	if (fw_evidence_checkpoint(s, key, &note, &d) != FW_OK)
		fprintf(stderr, "fwtrust serve: checkpoint: %s\n", d.msg);
	free(note);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"tenant", required_argument, NULL, 'T'},
	    {"poll-interval", required_argument, NULL, 'p'},
	    {"public-url", required_argument, NULL, 'u'},
	    {"gateway-token-file", required_argument, NULL, 'g'},
	    {"threads", required_argument, NULL, 't'},
	    {"max-body", required_argument, NULL, 'b'},
	    {"timeout", required_argument, NULL, 'o'},
	    {"max-per-ip", required_argument, NULL, 'i'},
	    {"auth-fail-limit", required_argument, NULL, 'a'},
	    {"tick-every", required_argument, NULL, 'k'},
	    {"checkpoint-every", required_argument, NULL, 'c'},
	    {"checkpoint-records", required_argument, NULL, 'n'},
	    {"log", required_argument, NULL, 'L'},
	    {"ready-file", required_argument, NULL, 'r'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct fw_ddi_config dc;
	struct fw_http_config hc;
	struct fw_ddi *ddi = NULL;
	struct fw_http *http = NULL;
	struct fw_store *s = NULL;
	struct fw_key *logkey = NULL;
	struct fw_diag d = {{0}};
	struct fw_ddi_stats st;
	const char *db = NULL, *log = "-", *ready = NULL, *gwfile = NULL;
	char *gateway = NULL;
	unsigned long long v, tick_s = 10, cp_s = 60, cp_n = 10000;
	sigset_t sigs;
	int c, rc, ret = EXIT_USAGE, sig = 0;
	int64_t last_tick, last_stats;

	memset(&dc, 0, sizeof(dc));
	memset(&hc, 0, sizeof(hc));
	hc.listen = "127.0.0.1:8080";
	hc.log_fd = 1;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'l': hc.listen = optarg; break;
		case 'T': dc.tenant = optarg; break;
		case 'p':
			if (parse_uint("--poll-interval", optarg, 86399, &v))
				return EXIT_USAGE;
			if (v == 0) {
				cli_err("serve", "--poll-interval: at least 1 second");
				return EXIT_USAGE;
			}
			dc.poll_s = (unsigned)v;
			break;
		case 'u': dc.public_url = optarg; break;
		case 'g': gwfile = optarg; break;
		case 't':
			if (parse_uint("--threads", optarg, 256, &v))
				return EXIT_USAGE;
			hc.threads = (unsigned)v;
			break;
		case 'b':
			if (parse_uint("--max-body", optarg, 64ull << 20, &v))
				return EXIT_USAGE;
			hc.max_body = (size_t)v;
			break;
		case 'o':
			if (parse_uint("--timeout", optarg, 3600, &v))
				return EXIT_USAGE;
			hc.timeout_s = (unsigned)v;
			break;
		case 'i':
			if (parse_uint("--max-per-ip", optarg, 1000000, &v))
				return EXIT_USAGE;
			hc.max_per_ip = (unsigned)v;
			break;
		case 'a':
			if (parse_uint("--auth-fail-limit", optarg, 1000000, &v))
				return EXIT_USAGE;
			dc.auth_fail_limit = (unsigned)v;
			break;
		case 'k':
			if (parse_uint("--tick-every", optarg, 86400, &tick_s))
				return EXIT_USAGE;
			break;
		case 'c':
			if (parse_uint("--checkpoint-every", optarg, 86400 * 7, &cp_s))
				return EXIT_USAGE;
			break;
		case 'n':
			if (parse_uint("--checkpoint-records", optarg, 1ull << 40, &cp_n))
				return EXIT_USAGE;
			break;
		case 'L': log = optarg; break;
		case 'r': ready = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("serve", argc, argv);
		}
	}
	if (optind != argc) {
		cli_err("serve", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (gwfile && (gateway = read_token_file(gwfile)) == NULL)
		return EXIT_USAGE;
	dc.gateway_token = gateway;
	/* the main thread's connection: it checks the store, ticks and signs */
	if (cli_open_store("serve", db, &s))
		goto out;
	rc = fw_evidence_log_key(s, NULL, &logkey, &d);
	if (rc != FW_OK) {
		ret = cli_fail("serve", rc, &d);
		goto out;
	}
	dc.db = s->path;
	rc = fw_ddi_new(&dc, &ddi, &d);
	if (rc != FW_OK) {
		ret = cli_fail("serve", rc, &d);
		goto out;
	}
	if (strcmp(log, "none") == 0) {
		hc.log_fd = -1;
	} else if (strcmp(log, "-") != 0) {
		hc.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (hc.log_fd < 0) {
			cli_err("serve", "--log: %s: %s", log, strerror(errno));
			goto out;
		}
	}
	hc.handler = fw_ddi_handle;
	hc.arg = ddi;
	/* the signals go to the main thread only: the workers inherit the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = fw_http_start(&hc, &http, &d);
	if (rc != FW_OK) {
		ret = cli_fail("serve", rc, &d);
		goto out;
	}
	{
		char sleep[9];

		fw_ddi_sleep_format(dc.poll_s ? dc.poll_s : FW_DDI_POLL_DEFAULT_S, sleep);
		fprintf(stderr,
		        "fwtrust serve: listening on port %u (%s), tenant %s, poll %s, store %s\n",
		        fw_http_port(http), hc.listen, dc.tenant ? dc.tenant : FW_DDI_TENANT_DEFAULT,
		        sleep, s->path);
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f == NULL || fprintf(f, "%u\n", fw_http_port(http)) < 0 || fclose(f) != 0) {
			cli_err("serve", "--ready-file: %s: %s", ready, strerror(errno));
			goto out;
		}
	}
	last_tick = last_stats = fw_time_ms();
	for (;;) {
		struct timespec ts = {1, 0};
		int due = 0;
		int64_t now;

		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig > 0)
			break;
		now = fw_time_ms();
		if (tick_s && now - last_tick >= (int64_t)tick_s * 1000) {
			tick_all(s);
			last_tick = now;
		}
		if (cp_s && fw_evidence_checkpoint_due(s, cp_n, (int64_t)cp_s * 1000, &due, &d) ==
		                FW_OK &&
		    due)
			checkpoint(s, logkey);
		if (now - last_stats >= 60000) {
			fw_ddi_stats(ddi, &st);
			fprintf(stderr,
			        "fwtrust serve: %llu requests; polls %llu, deployments %llu, feedback "
			        "%llu, downloads %llu, failed authentications %llu\n",
			        (unsigned long long)fw_http_served(http), (unsigned long long)st.polls,
			        (unsigned long long)st.deployments, (unsigned long long)st.feedback,
			        (unsigned long long)st.downloads, (unsigned long long)st.auth_failures);
			last_stats = now;
		}
	}
	fprintf(stderr, "fwtrust serve: %s: stopping (%u request(s) in flight)\n",
	        sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM",
	        fw_http_in_flight(http));
	fw_http_stop(http, 10000);
	http = NULL;
	checkpoint(s, logkey); /* what the last requests wrote */
	fw_ddi_stats(ddi, &st);
	fprintf(stderr,
	        "fwtrust serve: stopped; polls %llu, deployments %llu, feedback %llu, downloads "
	        "%llu, failed authentications %llu, rate-limited %llu, errors %llu\n",
	        (unsigned long long)st.polls, (unsigned long long)st.deployments,
	        (unsigned long long)st.feedback, (unsigned long long)st.downloads,
	        (unsigned long long)st.auth_failures, (unsigned long long)st.rate_limited,
	        (unsigned long long)st.errors);
	ret = EXIT_OK;
out:
	fw_http_stop(http, 0);
	fw_ddi_free(ddi);
	fw_key_free(logkey);
	fw_store_close(s);
	if (hc.log_fd > 2)
		close(hc.log_fd);
	if (gateway) {
		fw_wipe(gateway, strlen(gateway));
		free(gateway);
	}
	return ret;
}
