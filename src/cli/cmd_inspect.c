#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "suit/suit.h"

static const char usage[] =
    "usage: fwtrust inspect ENVELOPE [--json]\n"
    "\n"
    "Shows what a SUIT envelope says: sequence, version, vendor/class/device ids,\n"
    "image digest and size, signing algorithm and key id. Nothing is verified:\n"
    "use 'fwtrust verify' before trusting any of it.\n"
    "\n"
    "  --json   one JSON object on stdout (fields: docs/formats.md)\n";

/* Envelope text is untrusted: control characters are shown escaped, never
 * sent to the terminal. */
static void print_safe(const char *s)
{
	const unsigned char *p;
	int clean = fw_text_valid(s); /* UTF-8 without C0/C1 controls */

	for (p = (const unsigned char *)s; *p; p++) {
		if (!clean && (*p < 0x20 || *p >= 0x7f))
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static void show_json_field(json_t *o, const char *label, const char *key)
{
	json_t *v = json_object_get(o, key);

	printf("%-17s ", label);
	if (json_is_string(v))
		print_safe(json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else
		printf("-");
	putchar('\n');
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct fwv_manifest_info mi;
	struct fw_diag d = {{0}};
	const char *path = NULL;
	uint8_t *env = NULL;
	size_t env_len = 0;
	json_t *info;
	int c, rc, as_json = 0;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'j': as_json = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("inspect", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("inspect", "expected exactly one envelope file");
		return EXIT_USAGE;
	}
	path = argv[optind];
	rc = fw_file_read(path, FW_MAX_ENVELOPE_FILE, &env, &env_len, &d);
	if (rc != FW_OK)
		return cli_fail("inspect", rc, &d);
	rc = fwv_parse_envelope(env, env_len, &mi);
	if (rc != FWV_OK) {
		cli_err("inspect", "%s: not a valid SUIT envelope: %s: %s", path, fwv_err_name(rc),
		        fw_suit_explain(rc));
		free(env);
		return EXIT_USAGE;
	}
	info = fw_suit_info_json(&mi, env_len);
	free(env);
	if (info == NULL) {
		cli_err("inspect", "out of memory");
		return EXIT_USAGE;
	}
	if (as_json) {
		char *s = json_dumps(info, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		printf("SUIT envelope %s (not verified)\n", path);
		show_json_field(info, "envelope size", "envelope_size");
		show_json_field(info, "sequence", "sequence");
		show_json_field(info, "version", "version");
		show_json_field(info, "vendor-id", "vendor_id");
		show_json_field(info, "class-id", "class_id");
		show_json_field(info, "device-id", "device_id");
		printf("%-17s %s\n", "device check",
		       json_is_true(json_object_get(info, "checks_device_id"))
		           ? "yes: only that device accepts it"
		           : "no: any device of the class accepts it");
		show_json_field(info, "image size", "image_size");
		show_json_field(info, "image sha256", "image_sha256");
		show_json_field(info, "manifest sha256", "manifest_sha256");
		printf("%-17s %s\n", "", "(as stated by the envelope; 'fwtrust verify' checks it)");
		show_json_field(info, "algorithm", "cose_alg");
		show_json_field(info, "key id", "key_id");
		show_json_field(info, "signatures", "signatures");
	}
	json_decref(info);
	return EXIT_OK;
}
