/* fwtrust simulate: a campaign run on simulated devices through the real
 * engine, on a scratch store */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "rollout/rollout.h"
#include "store/store.h"

static const char usage[] =
    "usage: fwtrust simulate --campaign ID --devices N [--fail-rate P]\n"
    "                        [--integrity-failures K] [--seed S] [--batch B]\n"
    "                        [--keep DIR] [--db PATH]\n"
    "\n"
    "Runs a campaign on N simulated devices through the rollout engine, on a\n"
    "scratch store and a simulated clock: the store at --db is only read, and\n"
    "nothing is recorded in its evidence log. The devices are clones of the\n"
    "first device of the registry that is eligible for the campaign (ids\n"
    "sim-0000001, ...); stage approvals the campaign lacks are simulated, and\n"
    "so is an operator who resumes a paused campaign half an hour later (at\n"
    "most 3 times, then aborts it).\n"
    "\n"
    "Prints the course: stage sizes, each stage entered (simulated time), each\n"
    "pause and why, resumes, retries, timeouts, rollback, quarantined\n"
    "devices, the final state and counts, and the wall time with the\n"
    "engine's reports per second.\n"
    "\n"
    "  --campaign ID            the campaign (c-NNNN) to simulate\n"
    "  --devices N              simulated devices, 1..10000000\n"
    "  --fail-rate P            percent of attempts that fail, 0..100, may be\n"
    "                           fractional (0.5); a quarter of the failures never\n"
    "                           report and time out (default 0)\n"
    "  --integrity-failures K   devices, picked at random, that refuse the image's\n"
    "                           signature on their first attempt (default 0)\n"
    "  --seed S                 of the random outcomes and their order (default 1):\n"
    "                           the same seed gives the same course\n"
    "  --batch B                reports per transaction, 1..1000000 (default: a\n"
    "                           tenth of the devices, 10000..100000)\n"
    "  --keep DIR               keep the scratch store in DIR (created; it must not\n"
    "                           hold a simulation already): DIR/sim.db can be\n"
    "                           inspected with --db DIR/sim.db\n"
    "                           (default: a temporary directory, removed)\n"
    "\n"
    "The course and the model: docs/simulate.md.\n";

struct out {
	struct cli_progress pr;
	const char *phase;
	char label[64];
};

/* Progress on stderr (a terminal only), cleared before a line is printed. */
static void clear_bar(struct out *o)
{
	if (o->pr.drawn) {
		fputs("\r\033[K", stderr);
		o->pr.drawn = 0;
	}
}

static void on_line(void *arg, int kind, const char *text)
{
	struct out *o = arg;

	(void)kind;
	clear_bar(o);
	printf("%s\n", text);
	fflush(stdout);
}

static void on_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct out *o = arg;

	if (o->phase != phase) {
		clear_bar(o);
		o->phase = phase;
		snprintf(o->label, sizeof(o->label), "%-10s", phase);
		cli_progress_init(&o->pr, o->label);
	}
	cli_progress(&o->pr, done, total, "devices");
}

/* A percent: a decimal number 0..100 ("0.5", "2", "2%"). */
static int parse_rate(const char *val, double *out)
{
	char *end;
	double v;

	if (val[0] < '0' || val[0] > '9')
		return -1;
	v = strtod(val, &end);
	if (end == val || (*end && strcmp(end, "%") != 0) || !isfinite(v) || v < 0 || v > 100)
		return -1;
	*out = v;
	return 0;
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"campaign", required_argument, NULL, 'c'},
	    {"devices", required_argument, NULL, 'n'},
	    {"fail-rate", required_argument, NULL, 'f'},
	    {"integrity-failures", required_argument, NULL, 'i'},
	    {"seed", required_argument, NULL, 's'},
	    {"batch", required_argument, NULL, 'b'},
	    {"keep", required_argument, NULL, 'k'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *campaign = NULL;
	struct fw_sim_params p;
	struct fw_sim_summary sum;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct out o;
	unsigned long long v;
	int c, rc, have_n = 0;

	memset(&p, 0, sizeof(p));
	memset(&o, 0, sizeof(o));
	p.seed = 1;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'c': campaign = optarg; break;
		case 'n':
			if (opts_u64("simulate", "--devices", optarg, FW_SIM_MAX_DEVICES, &v))
				return EXIT_USAGE;
			if (v == 0) {
				cli_err("simulate", "--devices: at least 1 device");
				return EXIT_USAGE;
			}
			p.devices = v;
			have_n = 1;
			break;
		case 'f':
			if (parse_rate(optarg, &p.fail_rate) != 0) {
				cli_err("simulate", "--fail-rate: '%s' is not a percent from 0 to 100 "
				                    "(e.g. 0.5)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (opts_u64("simulate", "--integrity-failures", optarg, FW_SIM_MAX_DEVICES, &v))
				return EXIT_USAGE;
			p.integrity_failures = v;
			break;
		case 's':
			if (opts_u64("simulate", "--seed", optarg, UINT64_MAX, &v))
				return EXIT_USAGE;
			p.seed = v;
			break;
		case 'b':
			if (opts_u64("simulate", "--batch", optarg, FW_SIM_MAX_BATCH, &v))
				return EXIT_USAGE;
			if (v == 0) {
				cli_err("simulate", "--batch: at least 1 report per transaction");
				return EXIT_USAGE;
			}
			p.batch = (size_t)v;
			break;
		case 'k': p.dir = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("simulate", argc, argv);
		}
	}
	if (optind < argc)
		return opts_extra("simulate", argv[optind]);
	if (!campaign)
		return opts_missing("simulate", "--campaign (the campaign to simulate, c-NNNN)");
	if (!have_n)
		return opts_missing("simulate", "--devices (how many simulated devices)");
	if (p.integrity_failures > p.devices) {
		cli_err("simulate", "--integrity-failures: %llu is more than the %llu devices",
		        (unsigned long long)p.integrity_failures, (unsigned long long)p.devices);
		return EXIT_USAGE;
	}
	if (p.dir && p.dir[0] == 0) {
		cli_err("simulate", "--keep: an empty directory name");
		return EXIT_USAGE;
	}
	if (cli_open_store("simulate", db, &s))
		return EXIT_USAGE;
	p.progress = on_progress;
	p.parg = &o;
	rc = fw_rollout_simulate(s, campaign, &p, on_line, &o, &sum, &d);
	clear_bar(&o);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("simulate", rc, &d);
	return EXIT_OK;
}
