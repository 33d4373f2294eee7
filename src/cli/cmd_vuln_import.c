/* fwtrust vuln import: CSAF 2.0 advisories mapped to advisories of ours */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "registry/registry.h"
#include "store/store.h"
#include "vuln/vuln.h"

#define CMD "vuln import"

static const char usage_import[] =
    "usage: fwtrust vuln import FILE [--partial] [--dry-run] [--json] [--db PATH]\n"
    "\n"
    "Imports a CSAF 2.0 advisory (at most 4 MiB): each vulnerability's\n"
    "known_affected products, grouped by product_name (and product_family)\n"
    "branch, become one advisory: product_version and product_version_range\n"
    "(vers:semver, vers:generic) branches give the affected range, fixed and\n"
    "first_fixed versions the fixing version, the CVSS v3 score the severity.\n"
    "Only products of this registry (its releases and devices) are mapped.\n"
    "What cannot be mapped is listed with its JSON path and refuses the whole\n"
    "import (exit 1), unless --partial: then the rest is imported and the\n"
    "records say what was left out. The document is kept in the store and\n"
    "every advisory recorded (vuln.add, source csaf) in one transaction.\n"
    "Importing the same document again writes nothing. --dry-run prints what\n"
    "would be imported, with the same refusals, and writes nothing.\n";

/* The product names of this registry: its releases' and its devices'. */
struct names {
	json_t *set;
};

static int add_device(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct names *n = arg;

	(void)cert;
	return json_object_set_new(n->set, dev->product, json_true()) == 0 ? 0 : FW_E_NOMEM;
}

static int known_products(struct fw_store *s, json_t **set, struct fw_diag *d)
{
	struct names n = {json_object()};
	json_t *rels = NULL, *r;
	size_t i;
	int rc;

	if (n.set == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_registry_release_list(s, &rels, d);
	json_array_foreach(rels, i, r) {
		const char *p = json_string_value(json_object_get(r, "product"));

		if (rc == FW_OK && p && json_object_set_new(n.set, p, json_true()) != 0)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	json_decref(rels);
	if (rc == FW_OK)
		rc = fw_store_device_scan(s, add_device, &n, d);
	if (rc != FW_OK) {
		json_decref(n.set);
		return rc;
	}
	*set = n.set;
	return FW_OK;
}

static json_t *item_json(const struct fw_vuln_csaf_item *it, const char *status)
{
	json_t *o = fw_vuln_advisory_json(&it->a, "csaf");

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "path", json_string(it->path));
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "record", it->idx && !it->existed ? json_integer((json_int_t)it->idx)
	                                                        : json_null());
	return o;
}

static int print_json(const struct fw_vuln_csaf *c, int dry_run)
{
	json_t *o = json_object(), *arr = json_array(), *un = json_array();
	char hex[65];
	size_t i;

	if (o == NULL || arr == NULL || un == NULL) {
		json_decref(o);
		json_decref(arr);
		json_decref(un);
		cli_err(CMD, "out of memory");
		return EXIT_USAGE;
	}
	fw_hex_encode(c->sha256, 32, hex);
	json_object_set_new(o, "document", json_pack("{sssssssssI}", "tracking_id", c->tracking_id,
	                                             "tracking_version", c->tracking_version,
	                                             "publisher", c->publisher, "sha256", hex,
	                                             "size", (json_int_t)c->size));
	for (i = 0; i < c->n; i++)
		json_array_append_new(arr, item_json(&c->items[i],
		                                     c->items[i].existed ? "already imported"
		                                     : dry_run           ? "would import"
		                                                         : "imported"));
	for (i = 0; i < c->nunmapped; i++)
		json_array_append_new(un, json_pack("{ssss}", "path", c->unmapped[i].path, "why",
		                                    c->unmapped[i].why));
	json_object_set_new(o, "advisories", arr);
	json_object_set_new(o, "unmapped", un);
	json_object_set_new(o, "dry_run", json_boolean(dry_run));
	cli_print_json(o);
	json_decref(o);
	return EXIT_OK;
}

static void print_text(const struct fw_vuln_csaf *c, int dry_run)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct fw_vuln_csaf_item *it = &c->items[i];
		const struct fw_vuln_advisory *a = &it->a;

		if (i)
			printf("\n");
		printf("advisory  %s (%s) %s\n", a->id, fw_vuln_severity_name(a->severity), a->title);
		printf("affects   %s%s%s %s\n", a->product, a->family[0] ? " / " : "", a->family,
		       a->affected_text);
		printf("fixed in  %s\n", a->has_fixed ? a->fixed_text : "(none yet)");
		printf("from      %s of %s version %s\n", it->path, c->tracking_id,
		       c->tracking_version);
		if (it->existed)
			printf("evidence  already imported (nothing written)\n");
		else if (dry_run)
			printf("evidence  none: a dry run writes nothing\n");
		else
			printf("evidence  record %llu\n", (unsigned long long)it->idx);
	}
}

int cmd_vuln_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"partial", no_argument, NULL, 'p'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *db = NULL, *file, **known = NULL;
	struct fw_vuln_csaf c;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *set = NULL, *v;
	const char *key;
	uint8_t *data = NULL;
	size_t len = 0, nknown = 0, i, fresh = 0;
	int ch, rc, ret = EXIT_USAGE, partial = 0, dry_run = 0, as_json = 0;

	while ((ch = opts_next(argc, argv, longopts)) != -1) {
		switch (ch) {
		case 'p': partial = 1; break;
		case 'n': dry_run = 1; break;
		case 'j': as_json = 1; break;
		case 'd': db = optarg; break;
		case 'h': fputs(usage_import, stdout); return EXIT_OK;
		default: return opts_bad(CMD, argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err(CMD, "expected exactly one CSAF 2.0 document (FILE)");
		return EXIT_USAGE;
	}
	file = argv[optind];
	fw_vuln_csaf_init(&c);
	rc = fw_file_read(file, FW_VULN_CSAF_MAX, &data, &len, &d);
	if (rc != FW_OK) {
		cli_err(CMD, "%s", d.msg);
		return EXIT_USAGE;
	}
	if (cli_open_store(CMD, db, &s))
		goto out;
	/* our products: a CSAF product name that is none of them is not mapped */
	rc = known_products(s, &set, &d);
	if (rc == FW_OK && (known = calloc(json_object_size(set) + 1, sizeof(*known))) == NULL)
		rc = fw_diag_set(&d, FW_E_NOMEM, "out of memory");
	if (rc != FW_OK) {
		ret = cli_fail(CMD, rc, &d);
		goto out;
	}
	json_object_foreach(set, key, v)
		known[nknown++] = key;
	rc = fw_vuln_csaf_parse(data, len, known, nknown, &c, &d);
	if (rc != FW_OK) {
		cli_err(CMD, "%s: %s", file, d.msg);
		goto out;
	}
	for (i = 0; i < c.nunmapped; i++)
		fprintf(stderr, "fwtrust %s: %s: %s: not mapped: %s\n", CMD, file, c.unmapped[i].path,
		        c.unmapped[i].why);
	if (c.nunmapped && !partial) {
		fprintf(stderr, "fwtrust %s: REFUSED %s: %zu item(s) cannot be mapped, nothing "
		        "imported (--partial imports the rest)\n", CMD, file, c.nunmapped);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (c.n == 0) {
		fprintf(stderr, "fwtrust %s: REFUSED %s: nothing of it maps to an advisory\n", CMD,
		        file);
		ret = EXIT_REFUSED;
		goto out;
	}
	{
		rc = dry_run ? fw_vuln_import_plan(s, &c, &d)
		             : fw_vuln_import(s, &c, data, len, partial, cli_actor(), &d);
		if (rc == FW_E_CONFLICT || rc == FW_E_VERIFY) {
			fprintf(stderr, "fwtrust %s: REFUSED %s\n", CMD, d.msg);
			ret = EXIT_REFUSED;
			goto out;
		}
		if (rc != FW_OK) {
			ret = cli_fail(CMD, rc, &d);
			goto out;
		}
	}
	ret = EXIT_OK;
	if (as_json)
		ret = print_json(&c, dry_run);
	else
		print_text(&c, dry_run);
	for (i = 0; i < c.n; i++)
		fresh += !c.items[i].existed;
	if (fresh == 0)
		fprintf(stderr, "fwtrust %s: %s: already imported (%s version %s): nothing written\n",
		        CMD, file, c.tracking_id, c.tracking_version);
out:
	fw_store_close(s);
	fw_vuln_csaf_clear(&c);
	json_decref(set);
	free(known);
	free(data);
	return ret;
}
