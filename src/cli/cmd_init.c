#define _GNU_SOURCE
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "evidence/evidence.h"
#include "store/store.h"

static const char usage[] =
    "usage: fwtrust init [--db PATH] [--origin ORIGIN]\n"
    "\n"
    "Creates a store (SQLite, WAL, synchronous=FULL) and the Ed25519 key that\n"
    "signs its evidence-log checkpoints: PATH-log.key (0600) and PATH-log.pub.\n"
    "The first evidence record and the first checkpoint are written at once.\n"
    "\n"
    "  --db PATH        the store file (default: $FWTRUST_DB, else ./fwtrust.db)\n"
    "  --origin ORIGIN  the log's name in checkpoints and the log key's name\n"
    "                   (default: fwtrust.local/<store name>); no spaces or '+'\n";

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"origin", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *origin = NULL, *path;
	char def_origin[300], base[4200], name[256], *copy, *dot, vkey[600];
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_note_key vk;
	struct fw_key *logkey = NULL;
	json_t *rec = NULL;
	char *note = NULL;
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': origin = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("init", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("init", argv[optind]);
	path = fw_store_default_path(db);
	if (access(path, F_OK) == 0) {
		cli_err("init", "%s: already exists (refusing to overwrite a store)", path);
		return EXIT_USAGE;
	}
	snprintf(base, sizeof(base), "%s-log", path);
	if (origin == NULL) {
		copy = strdup(path);
		snprintf(name, sizeof(name), "%s", copy ? basename(copy) : "fwtrust");
		free(copy);
		dot = strrchr(name, '.');
		if (dot && dot != name)
			*dot = '\0';
		snprintf(def_origin, sizeof(def_origin), "fwtrust.local/%s", name);
		origin = def_origin;
	}
	rc = fw_store_open(path, 1, &s, &d);
	if (rc == FW_OK)
		rc = fw_evidence_setup(s, origin, base, &d);
	if (rc == FW_OK)
		rc = fw_evidence_log_key(s, &vk, &logkey, &d);
	if (rc == FW_OK) {
		rec = fw_evidence_record_new("log.init", cli_actor());
		if (fw_note_vkey_format(&vk, vkey, sizeof(vkey)) != FW_OK || rec == NULL) {
			rc = fw_diag_set(&d, FW_E_INTERNAL, "cannot describe the log key");
		} else {
			json_object_set_new(rec, "origin", json_string(origin));
			json_object_set_new(rec, "log_vkey", json_string(vkey));
			rc = fw_evidence_commit(s, NULL, rec, NULL, NULL, &d);
		}
	}
	if (rc == FW_OK)
		rc = fw_evidence_checkpoint(s, logkey, &note, &d);
	if (rc != FW_OK) {
		/* nothing half made: remove what this run created */
		char p[4300];

		fw_store_close(s);
		s = NULL;
		unlink(path);
		snprintf(p, sizeof(p), "%s-wal", path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", path);
		unlink(p);
		if (d.msg[0] && strstr(d.msg, "already exists") == NULL) {
			snprintf(p, sizeof(p), "%s.key", base);
			unlink(p);
			snprintf(p, sizeof(p), "%s.pub", base);
			unlink(p);
		}
		rc = cli_fail("init", rc, &d);
		goto out;
	}
	printf("store      %s\n", path);
	printf("origin     %s\n", origin);
	printf("log key    %s.key (private, keep it secret), %s.pub\n", base, base);
	printf("vkey       %s\n", vkey);
	printf("checkpoint\n%s", note);
	rc = EXIT_OK;
out:
	free(note);
	json_decref(rec);
	fw_key_free(logkey);
	fw_store_close(s);
	return rc;
}
