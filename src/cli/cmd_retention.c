/* fwtrust audit retention: how long the evidence is kept, and setting it */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "store/store.h"

#define CMD "audit retention"

static const char usage[] =
    "usage: fwtrust audit retention [--json] [--db PATH]\n"
    "       fwtrust audit retention --set DATE|default --as NAME [--json] [--db PATH]\n"
    "\n"
    "Shows how long the evidence must be kept at least, and what the store keeps.\n"
    "fwtrust deletes no evidence, ever: the date is for whoever keeps copies of\n"
    "the store (backups, archives, exported bundles).\n"
    "\n"
    "The default is the latest device support period (support_until) plus ten\n"
    "years (CRA Art. 13(13)); ten years from today while there are no devices.\n"
    "--set DATE (YYYY-MM-DD) keeps longer; an earlier date than the default's is\n"
    "refused. --set default goes back. Only an active admin operator (--as) may\n"
    "set it; recorded as retention.set.\n"
    "\n"
    "Exit status: 0 shown or set, 1 refused (not an admin, a date too early, the\n"
    "stored setting differs from its record), 2 usage, input or system error.\n";

/* what the log holds about people: docs/retention.md, "Personal data" */
static const char personal[] =
    "operator names and public keys, actors (login names or $FWTRUST_ACTOR),\n"
    "            device ids, free-text reasons and device-reported details; device\n"
    "            attributes only as keys and a salted HMAC (docs/retention.md)";
static const char personal_json[] =
    "operator names and public keys, actors (login names or $FWTRUST_ACTOR), device ids, "
    "free-text reasons and device-reported details; device attributes only as keys and a "
    "salted HMAC (docs/retention.md)";

/* 14264 -> "14,264" */
static const char *grouped(unsigned long long n, char *buf, size_t cap)
{
	char tmp[32];
	size_t len, i, o = 0;

	len = (size_t)snprintf(tmp, sizeof(tmp), "%llu", n);
	for (i = 0; i < len && o + 2 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

/* decimal units, one decimal place: "1.2 MB" */
static const char *size_text(unsigned long long n, char *buf, size_t cap)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	unsigned long long div = 1000;
	size_t u = 0;

	if (n < 1000) {
		snprintf(buf, cap, "%llu byte%s", n, n == 1 ? "" : "s");
		return buf;
	}
	while (u + 1 < sizeof(units) / sizeof(units[0]) && n / div >= 1000) {
		div *= 1000;
		u++;
	}
	/* tenths, rounded half up */
	n = (n * 10 + div / 2) / div;
	snprintf(buf, cap, "%llu.%llu %s", n / 10, n % 10, units[u]);
	return buf;
}

static const char *day(long long ms, char *buf, size_t cap)
{
	cli_time(ms, buf, cap);
	if (strlen(buf) > 10 && buf[10] == ' ')
		buf[10] = 0;
	return buf;
}

static void print_view(const struct fw_retention *r)
{
	char a[32], b[32], c[32];

	if (strcmp(r->setting, "default") != 0)
		printf("retention   %s, set by %s (record %llu, %s)\n", r->setting, r->by,
		       (unsigned long long)r->record, day(r->set_ts, a, sizeof(a)));
	else if (r->no_devices)
		printf("retention   default: no devices in the registry yet, so today + 10 years\n");
	else
		printf("retention   default: the latest device support period (%s, %s of %s "
		       "devices) + 10 years\n",
		       r->latest_support, grouped(r->latest_support_devices, a, sizeof(a)),
		       grouped(r->devices, b, sizeof(b)));
	printf("keep until  %s\n", r->until);
	if (strcmp(r->setting, "default") != 0) {
		if (r->no_devices)
			printf("at least    %s: no devices in the registry yet, so today + 10 years%s\n",
			       r->floor, r->overtaken ? " (later than the date set: it applies)" : "");
		else
			printf("at least    %s: the latest device support period (%s, %s of %s devices) "
			       "+ 10 years%s\n",
			       r->floor, r->latest_support,
			       grouped(r->latest_support_devices, a, sizeof(a)),
			       grouped(r->devices, b, sizeof(b)),
			       r->overtaken ? " (later than the date set: it applies)" : "");
	}
	printf("log         %s record%s", grouped(r->records, a, sizeof(a)),
	       r->records == 1 ? "" : "s");
	if (r->records > 0)
		printf(", %s .. %s", day(r->first_ts, b, sizeof(b)), day(r->last_ts, c, sizeof(c)));
	printf(", %s checkpoint%s", grouped(r->checkpoints, a, sizeof(a)),
	       r->checkpoints == 1 ? "" : "s");
	if (r->checkpoints > 0)
		printf(" (the latest covers %s record%s)", grouped(r->checkpoint_size, b, sizeof(b)),
		       r->checkpoint_size == 1 ? "" : "s");
	printf("\n");
	printf("blobs       %s file%s, %s (envelopes, images, .swu files and their signer\n"
	       "            certificates, device files, CRLs, row hashes, campaign member lists)\n",
	       grouped(r->blobs, a, sizeof(a)), r->blobs == 1 ? "" : "s",
	       size_text(r->blob_bytes, b, sizeof(b)));
	printf("deletion    none: fwtrust has no command that deletes evidence; the store refuses\n"
	       "            UPDATE and DELETE on the log tables\n");
	printf("personal    %s\n", personal);
}

static json_t *view_json(const struct fw_retention *r)
{
	json_t *j = json_object(), *rec = json_null(), *sup;

	if (r->has_record)
		rec = json_pack("{sIsssI}", "idx", (json_int_t)r->record, "by", r->by, "ts",
		                (json_int_t)r->set_ts);
	sup = json_pack("{sosIsI}", "latest",
	                r->no_devices ? json_null() : json_string(r->latest_support), "devices",
	                (json_int_t)r->latest_support_devices, "of", (json_int_t)r->devices);
	json_object_set_new(j, "retention", json_string(r->setting));
	json_object_set_new(j, "until", json_string(r->until));
	json_object_set_new(j, "floor", json_string(r->floor));
	json_object_set_new(j, "floor_basis",
	                    json_string(r->no_devices ? "today" : "support_until"));
	json_object_set_new(j, "overtaken", json_boolean(r->overtaken));
	json_object_set_new(j, "support", sup);
	json_object_set_new(j, "record", rec);
	json_object_set_new(j, "log",
	                    json_pack("{sIsIsIsIsI}", "records", (json_int_t)r->records, "first_ts",
	                              (json_int_t)r->first_ts, "last_ts", (json_int_t)r->last_ts,
	                              "checkpoints", (json_int_t)r->checkpoints,
	                              "checkpoint_size", (json_int_t)r->checkpoint_size));
	json_object_set_new(j, "blobs",
	                    json_pack("{sIsI}", "files", (json_int_t)r->blobs, "bytes",
	                              (json_int_t)r->blob_bytes));
	json_object_set_new(j, "deletes", json_false());
	json_object_set_new(j, "personal", json_string(personal_json));
	return j;
}

static int valid_value(const char *v)
{
	int64_t days;

	return strcmp(v, "default") == 0 || fw_date_parse(v, &days) == FW_OK;
}

int cmd_audit_retention(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"set", required_argument, NULL, 's'},
	    {"as", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *set = NULL, *as = NULL;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_retention r;
	struct fw_retention_change ch;
	int c, rc, as_json = 0;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 's': set = optarg; break;
		case 'a': as = optarg; break;
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad(CMD, argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra(CMD, argv[optind]);
	if (as && !set) {
		cli_err(CMD, "--as: only with --set");
		return EXIT_USAGE;
	}
	if (set && !valid_value(set)) {
		cli_err(CMD, "--set: '%.40s' is not a date (YYYY-MM-DD, a real day) or 'default'",
		        set);
		return EXIT_USAGE;
	}
	if (set && !as)
		return opts_missing(CMD, "--as (the admin who sets it)");
	if (cli_open_store(CMD, db, &s))
		return EXIT_USAGE;
	if (set) {
		rc = fw_registry_retention_set(s, set, as, cli_actor(), (int64_t)time(NULL), &ch, &d);
		fw_store_close(s);
		if (rc == FW_E_VERIFY) {
			cli_err(CMD, "REFUSED %s (nothing was recorded)", d.msg);
			return EXIT_REFUSED;
		}
		if (rc != FW_OK)
			return cli_fail(CMD, rc, &d);
		if (as_json) {
			json_t *j = json_pack("{sssssssbso}", "retention", set, "until", ch.until,
			                      "previous", ch.previous, "changed", ch.changed, "record",
			                      ch.changed ? json_integer((json_int_t)ch.idx) : json_null());

			cli_print_json(j);
			json_decref(j);
		} else if (!ch.changed) {
			printf("retention   %s already: nothing recorded\n", set);
			printf("keep until  %s\n", ch.until);
		} else {
			printf("retention   %s (was %s), set by %s\n", set, ch.previous, as);
			printf("keep until  %s\n", ch.until);
			printf("evidence    record %llu\n", (unsigned long long)ch.idx);
		}
		return EXIT_OK;
	}
	rc = fw_registry_retention_get(s, (int64_t)time(NULL), &r, &d);
	fw_store_close(s);
	if (rc != FW_OK && rc != FW_E_TAMPER)
		return cli_fail(CMD, rc, &d);
	if (as_json) {
		json_t *j = view_json(&r);

		if (rc == FW_E_TAMPER)
			json_object_set_new(j, "tampered", json_string(d.msg));
		cli_print_json(j);
		json_decref(j);
	} else {
		print_view(&r);
	}
	if (rc == FW_E_TAMPER) {
		cli_err(CMD, "REFUSED %s", d.msg);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}
