/*
 * fwtrust-agent: the reference device agent. Speaks hawkBit DDI to
 * `fwtrust serve` (or any DDI server), verifies every update with libfwv
 * before it installs it, and with --fleet simulates many devices in one
 * process. main, options and help; the work is in device.c and runner.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/device.h"
#include "crypto/crypto.h"

static const char usage[] =
    "usage: fwtrust-agent --server URL --tenant T --state-dir DIR --trust-key PUB\n"
    "                     (--id ID (--token TOKEN | --token-file FILE) |\n"
    "                      --fleet N --tokens FILE [--threads K])\n"
    "                     [--vendor-id UUID] [--class-id UUID] [--device-uuid UUID]\n"
    "                     [--sequence N --version V] [--once] [--until-installed]\n"
    "                     [--until-idle S] [--max-time S] [--poll S] [--cacert FILE] [-v]\n"
    "                     [--fail-rate P] [--integrity-rate P] [--seed S]\n"
    "\n"
    "A device agent for hawkBit DDI servers such as `fwtrust serve`. It polls\n"
    "{URL}/{T}/controller/v1/{ID}, and for each deployment it downloads the SUIT\n"
    "envelope, verifies it with libfwv (signature by a trusted key, vendor, class,\n"
    "anti-rollback sequence) before it downloads the image, streams every image\n"
    "byte through the verifier, installs only an image whose size and SHA-256\n"
    "match the signed envelope, then stores the new sequence and reports.\n"
    "\n"
    "The device:\n"
    "  --server URL        the DDI server, e.g. http://127.0.0.1:8080\n"
    "  --tenant T          the tenant\n"
    "  --id ID             this device's controller id\n"
    "  --token TOKEN       its target token (Authorization: TargetToken); it is\n"
    "                      sent only to the server's own scheme, host and port\n"
    "  --token-file FILE   read the token from FILE instead (first line)\n"
    "  --state-dir DIR     state.json, download.part, firmware.bin live here\n"
    "  --trust-key PUB     a trusted release signing key (.pub, SPKI PEM);\n"
    "                      repeat for several (at most 16)\n"
    "  --vendor-id UUID    this product's vendor id: envelopes must name it\n"
    "  --class-id UUID     this product's class id: envelopes must name it\n"
    "                      (without these two flags that check is skipped)\n"
    "  --device-uuid UUID  this unit's id, for envelopes bound to one device\n"
    "                      (without it such envelopes are refused)\n"
    "  --sequence N        the initial state when DIR has none: the sequence\n"
    "  --version V         number and version of the firmware running now\n"
    "  --cacert FILE       CA bundle for an https server\n"
    "\n"
    "Running:\n"
    "  --once              one poll (and the action it offers), then exit\n"
    "  --until-installed   exit 0 once every agent was offered a deployment in\n"
    "                      this run, runs its version and the server accepted\n"
    "                      the success report (a cancelled agent counts as done)\n"
    "  --until-idle S      exit 0 once every agent's last poll offered nothing\n"
    "                      and no deployment or cancel was handled for S seconds\n"
    "                      (the server has nothing more for this fleet)\n"
    "  --max-time S        stop after S seconds (with --until-installed or\n"
    "                      --until-idle: exit 1 when that was not reached by then)\n"
    "  --poll S            poll every S seconds instead of the server's sleep\n"
    "  -v, --verbose       one line per step on stderr (polls only when\n"
    "                      something changes)\n"
    "\n";

static const char usage_fleet[] =
    "Fleet simulation:\n"
    "  --fleet N           run N agents in this process; each has DIR/<id>/\n"
    "  --tokens FILE       lines \"<device-id> <token>\"; the first N are used\n"
    "                      ('#' comments and blank lines are skipped)\n"
    "  --threads K         worker threads shared by the agents (default 8)\n"
    "  --fail-rate P       percent of verified downloads reported as\n"
    "                      \"install failed (simulated)\" instead of installed\n"
    "  --integrity-rate P  percent of image downloads with one byte flipped\n"
    "                      before the verifier sees it (it must refuse them)\n"
    "  --seed S            seed of those draws and of the poll jitter\n"
    "\n"
    "Fleet mode prints progress on stderr every 5 s and, at exit, on stdout:\n"
    "  fleet: agents=N polls=.. downloads=.. installed=.. failed=.. integrity=..\n"
    "  cancelled=.. errors=..\n"
    "SIGTERM or SIGINT: requests in flight finish (a download stops and keeps\n"
    "its part for the next run), the summary is printed, exit 0.\n"
    "\n"
    "Exit status: 0 ok; 1 with --once: the update was refused or failed, with\n"
    "--until-installed or --until-idle: not reached by --max-time; 2 usage or\n"
    "local error (state directory, key file, tokens file); 3 with --once: the\n"
    "server failed or refused the token.\n"
    "See docs/agent.md.\n";

static int bad(const char *fmt, ...) FW_PRINTF(1, 2);
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("fwtrust-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see fwtrust-agent --help)\n", stderr);
	return AGENT_EXIT_USAGE;
}

static int parse_uint(const char *flag, const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (fw_parse_u64(s, &v) != FW_OK || v > max) {
		fprintf(stderr, "fwtrust-agent: %s: \"%s\" is not a whole number 0..%llu\n", flag, s,
		        (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_pct(const char *flag, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < 0.0 || v > 100.0) {
		fprintf(stderr, "fwtrust-agent: %s: \"%s\" is not a percentage 0..100\n", flag, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int read_token_file(const char *path, char out[AGENT_MAX_TOKEN + 1])
{
	struct fw_diag d = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0, n;

	if (fw_file_read(path, 4096, &buf, &len, &d) != FW_OK) {
		fprintf(stderr, "fwtrust-agent: --token-file: %s\n", d.msg);
		return -1;
	}
	n = 0;
	while (n < len && buf[n] != '\n' && buf[n] != '\r')
		n++;
	if (n == 0 || n > AGENT_MAX_TOKEN) {
		fprintf(stderr, "fwtrust-agent: --token-file %s: the first line is not a token\n", path);
		fw_wipe(buf, len);
		free(buf);
		return -1;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	fw_wipe(buf, len);
	free(buf);
	return 0;
}

/* One process per state directory: two agents on one counter would race. */
static int lock_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/agent.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fwtrust-agent: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "fwtrust-agent: %s: another fwtrust-agent uses this state directory\n",
		        dir);
		close(fd);
		return -1;
	}
	return fd; /* held until exit */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"server", required_argument, NULL, 'S'},
	    {"tenant", required_argument, NULL, 'T'},
	    {"id", required_argument, NULL, 'i'},
	    {"token", required_argument, NULL, 't'},
	    {"token-file", required_argument, NULL, 'k'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"trust-key", required_argument, NULL, 'K'},
	    {"vendor-id", required_argument, NULL, 'V'},
	    {"class-id", required_argument, NULL, 'C'},
	    {"device-uuid", required_argument, NULL, 'D'},
	    {"sequence", required_argument, NULL, 's'},
	    {"version", required_argument, NULL, 'r'},
	    {"once", no_argument, NULL, 'o'},
	    {"until-installed", no_argument, NULL, 'u'},
	    {"until-idle", required_argument, NULL, 'I'},
	    {"max-time", required_argument, NULL, 'm'},
	    {"poll", required_argument, NULL, 'p'},
	    {"cacert", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"fleet", required_argument, NULL, 'f'},
	    {"tokens", required_argument, NULL, 'F'},
	    {"threads", required_argument, NULL, 'j'},
	    {"fail-rate", required_argument, NULL, 'x'},
	    {"integrity-rate", required_argument, NULL, 'y'},
	    {"seed", required_argument, NULL, 'z'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	static struct agent_config cfg;
	const char *trust[FW_MAX_TRUSTED_KEYS];
	const char *id = NULL, *token = NULL, *token_file = NULL, *dir = NULL, *seq_s = NULL;
	const char *ver_s = NULL, *tokens_file = NULL, *vendor = NULL, *class_s = NULL;
	const char *devuuid = NULL;
	struct fw_key *keys[FW_MAX_TRUSTED_KEYS] = {NULL};
	struct agent_run_opts ro;
	struct agent_state init, *initp = NULL;
	struct agent_token *toks = NULL;
	struct agent *agents = NULL;
	struct fw_diag d = {{0}};
	uint64_t v, fleet = 0, seed = 0;
	size_t ntrust = 0, n = 0, i, slen;
	char *server = NULL;
	int c, rc = AGENT_EXIT_USAGE, have_seed = 0, lockfd = -1, curl_up = 0;

	memset(&ro, 0, sizeof(ro));
	ro.threads = 8;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': cfg.server = optarg; break;
		case 'T': cfg.tenant = optarg; break;
		case 'i': id = optarg; break;
		case 't': token = optarg; break;
		case 'k': token_file = optarg; break;
		case 'd': dir = optarg; break;
		case 'K':
			if (ntrust == FW_MAX_TRUSTED_KEYS)
				return bad("--trust-key: at most %s keys", "16");
			trust[ntrust++] = optarg;
			break;
		case 'V': vendor = optarg; break;
		case 'C': class_s = optarg; break;
		case 'D': devuuid = optarg; break;
		case 's': seq_s = optarg; break;
		case 'r': ver_s = optarg; break;
		case 'o': ro.once = 1; break;
		case 'u': ro.until_installed = 1; break;
		case 'I':
			if (parse_uint("--until-idle", optarg, 86400, &v) != 0 || v == 0)
				return v == 0 ? bad("--until-idle: %s: at least 1 second", optarg)
				              : AGENT_EXIT_USAGE;
			ro.until_idle_s = (unsigned)v;
			break;
		case 'm':
			if (parse_uint("--max-time", optarg, 365u * 86400u, &v) != 0)
				return AGENT_EXIT_USAGE;
			ro.max_time_s = (unsigned)v;
			break;
		case 'p':
			if (parse_uint("--poll", optarg, 86400, &v) != 0 || v == 0)
				return v == 0 ? bad("--poll: %s: at least 1 second", optarg) : AGENT_EXIT_USAGE;
			cfg.poll_s = (unsigned)v;
			break;
		case 'c': cfg.cacert = optarg; break;
		case 'v': cfg.verbose = 1; break;
		case 'f':
			if (parse_uint("--fleet", optarg, AGENT_MAX_FLEET, &fleet) != 0 || fleet == 0)
				return fleet == 0 ? bad("--fleet: %s: at least 1 agent", optarg)
				                  : AGENT_EXIT_USAGE;
			break;
		case 'F': tokens_file = optarg; break;
		case 'j':
			if (parse_uint("--threads", optarg, 256, &v) != 0 || v == 0)
				return v == 0 ? bad("--threads: %s: at least 1", optarg) : AGENT_EXIT_USAGE;
			ro.threads = (unsigned)v;
			break;
		case 'x':
			if (parse_pct("--fail-rate", optarg, &cfg.fail_pct) != 0)
				return AGENT_EXIT_USAGE;
			break;
		case 'y':
			if (parse_pct("--integrity-rate", optarg, &cfg.integrity_pct) != 0)
				return AGENT_EXIT_USAGE;
			break;
		case 'z':
			if (parse_uint("--seed", optarg, UINT64_MAX, &seed) != 0)
				return AGENT_EXIT_USAGE;
			have_seed = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(usage_fleet, stdout);
			return AGENT_EXIT_OK;
		default:
			return bad("unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return bad("unexpected argument: %s", argv[optind]);

	/* what is required, and what goes together */
	if (!cfg.server)
		return bad("%s is required", "--server");
	if (!cfg.tenant)
		return bad("%s is required", "--tenant");
	if (!dir)
		return bad("%s is required", "--state-dir");
	if (ntrust == 0)
		return bad("%s is required (the release signing key devices trust)", "--trust-key");
	if (!agent_href_valid(cfg.server))
		return bad("--server: \"%s\" is not an http:// or https:// URL", cfg.server);
	if (!agent_tenant_valid(cfg.tenant))
		return bad("--tenant: \"%s\" is not 1..64 of [A-Za-z0-9._-]", cfg.tenant);
	if ((seq_s == NULL) != (ver_s == NULL))
		return bad("%s", "--sequence and --version go together (the initial state)");
	if (fleet) {
		if (id || token || token_file)
			return bad("%s", "--fleet takes ids and tokens from --tokens, not --id/--token");
		if (!tokens_file)
			return bad("%s", "--fleet needs --tokens FILE");
		if (devuuid)
			return bad("%s", "--device-uuid names one device: not with --fleet");
	} else {
		if (tokens_file)
			return bad("%s", "--tokens needs --fleet N");
		if (!id)
			return bad("%s is required (or --fleet)", "--id");
		if (!agent_device_id_valid(id))
			return bad("--id: \"%s\" is not 1..128 of [A-Za-z0-9._:@-] (not starting with '.')",
			           id);
		if ((token == NULL) == (token_file == NULL))
			return bad("%s", "give one of --token and --token-file");
		if (token && !agent_token_valid(token))
			return bad("%s", "--token: not printable ASCII without spaces");
	}
	if ((vendor && fw_uuid_parse(vendor, cfg.vendor) != FW_OK) ||
	    (class_s && fw_uuid_parse(class_s, cfg.class_id) != FW_OK) ||
	    (devuuid && fw_uuid_parse(devuuid, cfg.device_uuid) != FW_OK))
		return bad("%s", "--vendor-id/--class-id/--device-uuid: not a UUID");
	cfg.has_vendor = vendor != NULL;
	cfg.has_class = class_s != NULL;
	cfg.has_device_uuid = devuuid != NULL;
	if (seq_s) {
		memset(&init, 0, sizeof(init));
		if (parse_uint("--sequence", seq_s, (uint64_t)INT64_MAX, &init.sequence) != 0)
			return AGENT_EXIT_USAGE;
		if (strlen(ver_s) == 0 || strlen(ver_s) > AGENT_MAX_VERSION || !fw_text_valid(ver_s))
			return bad("--version: \"%s\" is not text of 1..64 bytes", ver_s);
		strcpy(init.version, ver_s);
		initp = &init;
	}
	cfg.fleet = fleet > 0;
	cfg.once = ro.once;
	ro.fleet = cfg.fleet;
	/* the server URL without a trailing '/': URLs are built as server/tenant/... */
	server = strdup(cfg.server);
	if (server == NULL)
		return AGENT_EXIT_USAGE;
	for (slen = strlen(server); slen > 0 && server[slen - 1] == '/'; slen--)
		server[slen - 1] = '\0';
	cfg.server = server;

	for (i = 0; i < ntrust; i++) {
		if (fw_key_load_public(trust[i], &keys[i], &d) != FW_OK) {
			fprintf(stderr, "fwtrust-agent: --trust-key: %s\n", d.msg);
			goto out;
		}
		fw_key_to_fwv(keys[i], &cfg.keys[i]);
	}
	cfg.nkeys = ntrust;

	/* room for "/<device-id>/firmware.bin.new" and the cache's temporaries */
	if (strlen(dir) + AGENT_MAX_DEVICE_ID + 200 >= PATH_MAX) {
		bad("--state-dir: \"%s\" is too long", dir);
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "fwtrust-agent: --state-dir %s: %s\n", dir, strerror(errno));
		goto out;
	}
	lockfd = lock_dir(dir);
	if (lockfd < 0)
		goto out;

	n = fleet ? (size_t)fleet : 1;
	agents = calloc(n, sizeof(*agents));
	if (agents == NULL) {
		fprintf(stderr, "fwtrust-agent: out of memory\n");
		goto out;
	}
	if (fleet) {
		uint8_t *text = NULL;
		size_t len = 0;

		if (fw_file_read(tokens_file, AGENT_MAX_TOKENS_FILE, &text, &len, &d) != FW_OK) {
			fprintf(stderr, "fwtrust-agent: --tokens: %s\n", d.msg);
			goto out;
		}
		rc = agent_tokens_parse((const char *)text, len, n, &toks, &d);
		fw_wipe(text, len);
		free(text);
		if (rc != FW_OK) {
			fprintf(stderr, "fwtrust-agent: --tokens %s: %s\n", tokens_file, d.msg);
			rc = AGENT_EXIT_USAGE;
			goto out;
		}
		rc = AGENT_EXIT_USAGE;
		for (i = 0; i < n; i++) {
			memcpy(agents[i].id, toks[i].id, sizeof(agents[i].id));
			memcpy(agents[i].token, toks[i].token, sizeof(agents[i].token));
			snprintf(agents[i].dir, sizeof(agents[i].dir), "%s/%s", dir, toks[i].id);
		}
		snprintf(cfg.cache_dir, sizeof(cfg.cache_dir), "%s/.cache", dir);
		if (mkdir(cfg.cache_dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "fwtrust-agent: %s: %s\n", cfg.cache_dir, strerror(errno));
			goto out;
		}
	} else {
		strcpy(agents[0].id, id);
		if (token_file) {
			if (read_token_file(token_file, agents[0].token) != 0)
				goto out;
			if (!agent_token_valid(agents[0].token)) {
				fprintf(stderr, "fwtrust-agent: --token-file: not printable ASCII\n");
				goto out;
			}
		} else {
			strcpy(agents[0].token, token);
		}
		snprintf(agents[0].dir, sizeof(agents[0].dir), "%s", dir);
	}
	if (!have_seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (i = 0; i < n; i++) {
		/* per-agent streams: a run with one seed draws the same for each
		 * agent whatever the threads do; the seed and the index mixed
		 * (splitmix64's finaliser), so that neighbours' streams are not
		 * shifted copies of one another */
		{
			uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			agents[i].rng = z ^ (z >> 31);
		}
		(void)agent_rand(&agents[i]);
		if (agent_open(&agents[i], initp, &d) != FW_OK) {
			fprintf(stderr, "fwtrust-agent: %s\n", d.msg);
			goto out;
		}
	}
	if (fleet)
		fprintf(stderr, "fwtrust-agent: fleet of %zu agents, %u threads, seed %llu\n", n,
		        ro.threads < n ? ro.threads : (unsigned)n, (unsigned long long)seed);
	else
		agent_vlog(&cfg, &agents[0], "device %s runs %s (sequence %llu); server %s", agents[0].id,
		           agents[0].state.version, (unsigned long long)agents[0].state.sequence,
		           cfg.server);
	if (ddi_global_init() != 0) {
		fprintf(stderr, "fwtrust-agent: libcurl initialisation failed\n");
		goto out;
	}
	curl_up = 1;
	ro.seed = seed;
	rc = agent_run(&cfg, agents, n, &ro);
out:
	if (curl_up)
		ddi_global_cleanup();
	if (toks != NULL) {
		fw_wipe(toks, n * sizeof(*toks));
		free(toks);
	}
	if (agents != NULL) {
		fw_wipe(agents, n * sizeof(*agents));
		free(agents);
	}
	for (i = 0; i < ntrust; i++)
		fw_key_free(keys[i]);
	if (lockfd >= 0)
		close(lockfd);
	free(server);
	return rc;
}
