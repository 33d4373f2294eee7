#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pwd.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "store/store.h"

#ifndef FWTRUST_VERSION
#define FWTRUST_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: fwtrust <command> [options]\n"
    "\n"
    "Signed firmware updates as recorded trust decisions.\n"
    "\n"
    "signing (no store needed):\n"
    "  key generate   create a signing key pair (ed25519 or p256)\n"
    "  key id         print the key id of a key file\n"
    "  sign           sign a firmware image into a SUIT envelope and a signing record,\n"
    "                 or (--format swu) into a signed SWUpdate .swu\n"
    "  verify         check an envelope (and its image) as a device would\n"
    "  inspect        show what an envelope says, without trusting it\n"
    "\n"
    "the store and its evidence log (--db PATH, $FWTRUST_DB, or ./fwtrust.db):\n"
    "  init           create a store and its evidence-log signing key\n"
    "  key trust      register a release-signing public key (recorded)\n"
    "  key revoke     revoke a registered key (recorded)\n"
    "  key list       the registered keys and their state\n"
    "  release add    verify and store a signed release (recorded)\n"
    "  release list   releases and their status; 'release show ID' for one\n"
    "\n"
    "the fleet:\n"
    "  ca add         trust a device-identity CA (recorded); 'ca list'\n"
    "  crl import     load a CA's revocations (signature checked; recorded)\n"
    "  cert revoke    revoke a device's identity certificate locally (recorded)\n"
    "  device import  add or update devices from a CSV or JSON-lines file (recorded)\n"
    "  device list    devices, filtered; 'device show ID' for one\n"
    "  device lifecycle  move a device through its lifecycle (recorded)\n"
    "  eligibility    decide which devices may receive a release (recorded);\n"
    "                 --explain DEVICE shows one device's inputs and reasons\n"
    "\n"
    "people:\n"
    "  operator add   register an operator with a role and an Ed25519 key (recorded);\n"
    "                 'operator list|show', 'operator disable' (recorded)\n"
    "\n"
    "campaigns:\n"
    "  campaign create  a campaign from a policy file, by a release manager (recorded)\n"
    "  campaign approve sign a stage's approval with an approver's key (recorded)\n"
    "  campaign edit    replace the policy before it starts: approvals are void\n"
    "  campaign list    campaigns and their state; 'campaign show ID' for one\n"
    "  campaign start   fix the members and begin the first stage, by an operator (recorded)\n"
    "  campaign pause|resume|abort [--rollback]  by an operator (recorded)\n"
    "  campaign tick    timeouts, next stage, completion: what time does (recorded)\n"
    "  campaign status  stages, counts, pause conditions and what happens next\n"
    "  campaign devices the devices of a campaign and their update state\n"
    "  device report    a device's report: delivered, installed, failed, rolled_back\n"
    "                   (recorded)\n"
    "  simulate       run a campaign on simulated devices (a scratch store: nothing\n"
    "                 recorded), with the engine's throughput\n"
    "\n"
    "delivery:\n"
    "  device token   issue device-API tokens and agent types (recorded)\n"
    "  serve          the hawkBit-compatible device API over HTTP (SWUpdate, fwtrust-agent),\n"
    "                 ticking campaigns and signing checkpoints while it runs\n"
    "\n"
    "vulnerabilities:\n"
    "  vuln add       record an advisory: product, family, affected range, fix (recorded)\n"
    "  vuln import    import a CSAF 2.0 advisory, mapped to our products (recorded)\n"
    "  vuln list|show the advisories\n"
    "  vuln affected  the affected devices now: exposed, being remediated, remediated,\n"
    "                 cannot be remediated, isolated (recorded)\n"
    "  vuln remediate draft the campaign policy that fixes an advisory's affected devices\n"
    "  vuln isolate   quarantine (or revoke) devices no update will reach (recorded)\n"
    "  vuln progress  the remediation over time: every recorded computation of the cohort\n"
    "  vuln report    an advisory's evidence bundle and report (audit export --advisory)\n"
    "\n"
    "evidence:\n"
    "  audit ...      checkpoints, proofs and full verification of the log\n"
    "                 (run 'fwtrust audit --help')\n"
    "\n"
    "Run 'fwtrust <command> --help' for the options of a command.\n"
    "Exit status: 0 success, 1 verification refused, 2 usage, input or system error.\n"
    "Documentation: docs/cli.md\n";

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fwtrust %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_open_store(const char *cmd, const char *db, struct fw_store **s)
{
	struct fw_diag d = {{0}};
	int rc = fw_store_open(fw_store_default_path(db), 0, s, &d);

	if (rc != FW_OK) {
		cli_err(cmd, "%s", d.msg);
		return 1;
	}
	return 0;
}

int cli_show(const char *cmd, const char *help, const char *what, int argc, char **argv,
             cli_get_fn get)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(cmd, "expected exactly one %s", what);
		return EXIT_USAGE;
	}
	if (cli_open_store(cmd, db, &s))
		return EXIT_USAGE;
	rc = get(s, argv[optind], &doc, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail(cmd, rc, &d);
	cli_print_json(doc);
	json_decref(doc);
	return EXIT_OK;
}

int cli_list(const char *cmd, const char *help, int argc, char **argv, cli_list_fn list,
             json_t **out, int *as_json)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	int c, rc;

	*out = NULL;
	*as_json = 0;
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'j': *as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra(cmd, argv[optind]);
	if (cli_open_store(cmd, db, &s))
		return EXIT_USAGE;
	rc = list(s, out, &d);
	fw_store_close(s);
	if (rc != FW_OK) {
		*out = NULL;
		return cli_fail(cmd, rc, &d);
	}
	return EXIT_OK;
}

const char *cli_actor(void)
{
	static char buf[300];
	const char *env = getenv("FWTRUST_ACTOR");
	struct passwd *pw;

	if (env && env[0]) {
		if (strlen(env) > 256 || !fw_text_valid(env)) {
			fprintf(stderr, "fwtrust: $FWTRUST_ACTOR: at most 256 bytes of UTF-8 text "
			                "without control characters\n");
			exit(EXIT_USAGE);
		}
		return env;
	}
	pw = getpwuid(geteuid());
	snprintf(buf, sizeof(buf), "user:%s", pw ? pw->pw_name : "unknown");
	return buf;
}

void cli_print_json(const void *json)
{
	char *s = json_dumps((const json_t *)json, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s)
		printf("%s\n", s);
	free(s);
}

const char *cli_time(long long ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld ms", ms);
	return buf;
}

void cli_progress_init(struct cli_progress *p, const char *label)
{
	p->label = label;
	p->tty = isatty(STDERR_FILENO);
	p->drawn = 0;
	p->last_ms = 0;
}

void cli_progress(struct cli_progress *p, unsigned long long done, unsigned long long total,
                  const char *unit)
{
	long long now = (long long)fw_time_ms();
	char bar[41];
	int i, fill;

	if (!p->tty || (p->drawn && now - p->last_ms < 200 && done != total))
		return;
	p->last_ms = now;
	p->drawn = 1;
	if (total == 0) {
		fprintf(stderr, "\r%s %llu %s", p->label, done, unit);
		return;
	}
	fill = (int)(done >= total ? 40 : done * 40 / total);
	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = 0;
	fprintf(stderr, "\r%s [%s] %3d%%  %llu/%llu %s", p->label, bar,
	        (int)(done >= total ? 100 : done * 100 / total), done, total, unit);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}

int cli_fail(const char *cmd, int rc, const struct fw_diag *d)
{
	cli_err(cmd, "%s", d->msg[0] ? d->msg : fw_err_str(rc));
	/* refused evidence or artifacts exit 1, whatever the command */
	return rc == FW_E_VERIFY || rc == FW_E_TAMPER ? EXIT_REFUSED : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 && argc == 2) {
		printf("fwtrust %s\n", FWTRUST_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "key") == 0)
		return cmd_key(argc - 1, argv + 1);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 1, argv + 1);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "release") == 0)
		return cmd_release(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "device") == 0)
		return cmd_device(argc - 1, argv + 1);
	if (strcmp(cmd, "ca") == 0)
		return cmd_ca(argc - 1, argv + 1);
	if (strcmp(cmd, "crl") == 0)
		return cmd_crl(argc - 1, argv + 1);
	if (strcmp(cmd, "cert") == 0)
		return cmd_cert(argc - 1, argv + 1);
	if (strcmp(cmd, "eligibility") == 0)
		return cmd_eligibility(argc - 1, argv + 1);
	if (strcmp(cmd, "operator") == 0)
		return cmd_operator(argc - 1, argv + 1);
	if (strcmp(cmd, "campaign") == 0)
		return cmd_campaign(argc - 1, argv + 1);
	if (strcmp(cmd, "simulate") == 0)
		return cmd_simulate(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "vuln") == 0)
		return cmd_vuln(argc - 1, argv + 1);
	fprintf(stderr, "fwtrust: unknown command '%s' (run 'fwtrust --help')\n", cmd);
	return EXIT_USAGE;
}
