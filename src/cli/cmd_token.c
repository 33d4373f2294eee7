/* fwtrust device token: device-API credentials (docs/ddi.md#tokens). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "store/store.h"

static const char usage_token[] =
    "usage: fwtrust device token ID... [--agent TYPE] [--out FILE] [--db PATH]\n"
    "       fwtrust device token --all [--filter KEY=VALUE ...] [--agent TYPE] --out FILE\n"
    "\n"
    "Issue device-API tokens: what a device's update agent sends to 'fwtrust serve'\n"
    "(Authorization: TargetToken <token>). Each token is 256 random bits, shown once;\n"
    "the store keeps its SHA-256 only, recorded as a device.token record. A device's\n"
    "earlier token stops working. Tokens are printed as 'ID TOKEN' lines on stdout,\n"
    "or written to FILE (mode 0600), the file 'fwtrust-agent --fleet --tokens' reads.\n"
    "\n"
    "  --agent TYPE        what the device's agent installs: suit (fwtrust-agent: a SUIT\n"
    "                      envelope and its image; the default) or swupdate (SWUpdate's\n"
    "                      suricatta: a .swu)\n"
    "  --all               every active device of the registry (with --filter: those\n"
    "                      that match; the filters of 'device list')\n"
    "  --out FILE          write the tokens there instead of stdout (must not exist)\n";

struct pick {
	char **ids;
	size_t n, cap;
	int oom;
};

static int pick_device(void *arg, const struct fw_device_row *dev,
                       const struct fw_cert_row *cert)
{
	struct pick *p = arg;
	char **v;

	(void)cert;
	if (strcmp(dev->lifecycle, "active") != 0)
		return 0;
	v = fw_grow(p->ids, &p->cap, p->n + 1, sizeof(*p->ids));
	if (v == NULL || (v[p->n] = strdup(dev->id)) == NULL) {
		if (v)
			p->ids = v;
		p->oom = 1;
		return FW_E_NOMEM;
	}
	p->ids = v;
	p->n++;
	return 0;
}

static int write_tokens(const char *path, const char *const *ids, size_t n,
                        char (*tokens)[FW_TOKEN_LEN + 1])
{
	char tmp[4200];
	FILE *f;
	int fd, ok = 1;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (access(path, F_OK) == 0) {
		cli_err("device token", "%s exists already: not overwritten", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		cli_err("device token", "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# fwtrust device tokens: keep this file secret (ID TOKEN per line)\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s\n", ids[i], tokens[i]);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		cli_err("device token", "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cmd_device_token(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"agent", required_argument, NULL, 'a'},
	    {"all", no_argument, NULL, 'A'},
	    {"filter", required_argument, NULL, 'f'},
	    {"out", required_argument, NULL, 'o'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *agent = FW_AGENT_SUIT, *out = NULL;
	struct fw_device_filter filter;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct pick p = {0};
	char (*tokens)[FW_TOKEN_LEN + 1] = NULL;
	const char *const *ids;
	size_t n;
	uint64_t idx = 0;
	int all = 0, nfilters = 0, c, rc, ret = EXIT_OK;

	memset(&filter, 0, sizeof(filter));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'a': agent = optarg; break;
		case 'A': all = 1; break;
		case 'f':
			if (fw_device_filter_add(&filter, optarg, &d) != FW_OK) {
				cli_err("device token", "--filter: %s", d.msg);
				return EXIT_USAGE;
			}
			nfilters++;
			break;
		case 'o': out = optarg; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_token, stdout); return EXIT_OK;
		default: return opts_bad("device token", argc, argv);
		}
	}
	if (!fw_agent_valid(agent)) {
		cli_err("device token", "--agent: '%s' is not one of: suit, swupdate", agent);
		return EXIT_USAGE;
	}
	if (all == (optind < argc)) {
		cli_err("device token", "name the devices, or give --all (not both)");
		return EXIT_USAGE;
	}
	if (nfilters && !all) {
		cli_err("device token", "--filter goes with --all");
		return EXIT_USAGE;
	}
	if (all && out == NULL) {
		cli_err("device token", "--all writes many secrets: give --out FILE");
		return EXIT_USAGE;
	}
	if (out && access(out, F_OK) == 0) {
		cli_err("device token", "%s exists already: not overwritten", out);
		return EXIT_USAGE;
	}
	if (cli_open_store("device token", db, &s))
		return EXIT_USAGE;
	if (all) {
		rc = fw_registry_device_list(s, &filter, fw_time_ms() / 1000, pick_device, &p, &d);
		if (rc != FW_OK || p.oom) {
			ret = cli_fail("device token", p.oom ? FW_E_NOMEM : rc, &d);
			goto done;
		}
		if (p.n == 0) {
			cli_err("device token", "no active device matches");
			ret = EXIT_USAGE;
			goto done;
		}
		ids = (const char *const *)p.ids;
		n = p.n;
	} else {
		ids = (const char *const *)(argv + optind);
		n = (size_t)(argc - optind);
	}
	tokens = calloc(n, sizeof(*tokens));
	if (tokens == NULL) {
		ret = cli_fail("device token", FW_E_NOMEM, &d);
		goto done;
	}
	rc = fw_registry_tokens_issue(s, ids, n, agent, cli_actor(), tokens, &idx, &d);
	if (rc != FW_OK) {
		ret = cli_fail("device token", rc, &d);
		goto done;
	}
	if (out) {
		if (write_tokens(out, ids, n, tokens) != 0) {
			cli_err("device token",
			        "the tokens were issued (record %llu) but not written: issue them again",
			        (unsigned long long)idx);
			ret = EXIT_USAGE;
			goto done;
		}
		fprintf(stderr, "issued %zu token(s) for agent type %s into %s (record %llu)\n", n,
		        agent, out, (unsigned long long)idx);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s %s\n", ids[i], tokens[i]);
		fprintf(stderr, "issued %zu token(s) for agent type %s (record %llu)\n", n, agent,
		        (unsigned long long)idx);
	}
done:
	if (tokens)
		fw_wipe(tokens, n * sizeof(*tokens));
	free(tokens);
	for (size_t i = 0; i < p.n; i++)
		free(p.ids[i]);
	free(p.ids);
	fw_store_close(s);
	return ret;
}
