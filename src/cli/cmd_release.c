#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "store/store.h"
#include "swu/swu.h"

static const char usage_add[] =
    "usage: fwtrust release add ENVELOPE --image IMAGE --product P --family F\n"
    "                           [--from RANGE] [--hw-revision R ...] [--db PATH]\n"
    "                           [--swu FILE.swu --swu-cert SIGNER.pem\n"
    "                            [--swu-cert-purpose emailProtection|codeSigning]]\n"
    "                           [--sbom SBOM.json] [--fixes ADVISORY ...]\n"
    "\n"
    "Verifies ENVELOPE with libfwv against the registered, active\n"
    "release-signing keys and IMAGE against ENVELOPE; stores both\n"
    "content-addressed and records the release in the evidence log.\n"
    "Prints the release id (the envelope's SHA-256).\n"
    "\n"
    "  --from RANGE       firmware versions the release upgrades, e.g.\n"
    "                     '>=2.0.0 <2.4.1' (semantic versions; '||' for\n"
    "                     alternatives). Default: any version below the release's\n"
    "  --hw-revision R    a hardware revision the release is for; repeat for\n"
    "                     more. Default: any\n"
    "  --swu FILE.swu     the same release as an SWUpdate .swu ('fwtrust sign\n"
    "                     --format swu'): it must verify against --swu-cert as\n"
    "                     'swupdate -k' would, and carry the envelope's image and\n"
    "                     version; stored beside the envelope\n"
    "  --swu-cert PEM     the signer certificate(s) the devices have (-k)\n"
    "  --swu-cert-purpose the devices' swupdate --cert-purpose (default\n"
    "                     emailProtection)\n"
    "  --sbom FILE        the release's SBOM, CycloneDX or SPDX 2.2/2.3 JSON (at\n"
    "                     most 32 MiB); the version it names for what it\n"
    "                     describes must be the envelope's; stored\n"
    "                     content-addressed, its digest recorded\n"
    "  --fixes ID         an advisory the release fixes ('fwtrust vuln add'), of\n"
    "                     the release's product and family; repeat for more (at\n"
    "                     most 32). 'vuln affected' counts devices that run the\n"
    "                     release as remediated\n";
static const char usage_list[] = "usage: fwtrust release list [--db PATH] [--json]\n";
static const char usage_show[] = "usage: fwtrust release show ID [--db PATH]\n"
                                 "  ID: the release id (envelope SHA-256) or a unique prefix "
                                 "of at least 8 hex digits\n";

/* an integer, or a decimal string for values past 2^53 */
static const char *scalar(json_t *v, char buf[32])
{
	if (json_is_integer(v))
		snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(buf, 32, "%s", json_string_value(v));
	else
		snprintf(buf, 32, "-");
	return buf;
}

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static int release_add(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"image", required_argument, NULL, 'i'},
	    {"product", required_argument, NULL, 'p'},
	    {"family", required_argument, NULL, 'f'},
	    {"from", required_argument, NULL, 'r'},
	    {"hw-revision", required_argument, NULL, 'w'},
	    {"db", required_argument, NULL, 'd'},
	    {"swu", required_argument, NULL, 'S'},
	    {"swu-cert", required_argument, NULL, 'c'},
	    {"swu-cert-purpose", required_argument, NULL, 'u'},
	    {"sbom", required_argument, NULL, 'B'},
	    {"fixes", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *image = NULL, *product = NULL, *family = NULL, *db = NULL;
	const char *purpose = NULL;
	struct fw_release_swu swu = {NULL, NULL, FW_SWU_PURPOSE_EMAIL};
	const char *hw[FW_POLICY_MAX_HW];
	const char *fixes[FW_RELEASE_MAX_FIXES];
	struct fw_release_target target = {NULL, NULL, NULL, hw, 0, NULL, NULL, fixes, 0};
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx = 0;
	char num[32];
	int c, rc;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'i': image = optarg; break;
		case 'p': product = optarg; break;
		case 'f': family = optarg; break;
		case 'r': target.from = optarg; break;
		case 'w':
			if (target.nhw == FW_POLICY_MAX_HW) {
				cli_err("release add", "--hw-revision: at most %d", FW_POLICY_MAX_HW);
				return EXIT_USAGE;
			}
			hw[target.nhw++] = optarg;
			break;
		case 'd': db = optarg; break;
		case 'S': swu.path = optarg; break;
		case 'c': swu.cert_path = optarg; break;
		case 'u': purpose = optarg; break;
		case 'B': target.sbom = optarg; break;
		case 'x':
			if (target.nfixes == FW_RELEASE_MAX_FIXES) {
				cli_err("release add", "--fixes: at most %d advisories",
				        FW_RELEASE_MAX_FIXES);
				return EXIT_USAGE;
			}
			fixes[target.nfixes++] = optarg;
			break;
		case 'h': fputs(usage_add, stdout); return EXIT_OK;
		default: return opts_bad("release add", argc, argv);
		}
	}
	if (optind + 1 != argc) {
		cli_err("release add", "expected exactly one envelope file");
		return EXIT_USAGE;
	}
	if (!image)
		return opts_missing("release add", "--image");
	if (!product)
		return opts_missing("release add", "--product");
	if (!family)
		return opts_missing("release add", "--family");
	if ((swu.cert_path || purpose) && !swu.path) {
		cli_err("release add", "%s needs --swu", swu.cert_path ? "--swu-cert" : "--swu-cert-purpose");
		return EXIT_USAGE;
	}
	if (swu.path && !swu.cert_path)
		return opts_missing("release add", "--swu-cert (the signer certificate the devices have)");
	if (purpose && fw_swu_purpose_parse(purpose, &swu.purpose) != FW_OK) {
		cli_err("release add", "--swu-cert-purpose: '%s' is not emailProtection or codeSigning",
		        purpose);
		return EXIT_USAGE;
	}
	if (cli_open_store("release add", db, &s))
		return EXIT_USAGE;
	target.product = product;
	target.family = family;
	target.swu = swu.path ? &swu : NULL;
	rc = fw_registry_release_add(s, argv[optind], image, &target, cli_actor(), &doc, &idx, &d);
	fw_store_close(s);
	if (rc == FW_E_VERIFY) {
		fprintf(stderr, "fwtrust release add: REFUSED %s\n", d.msg);
		return EXIT_REFUSED;
	}
	if (rc != FW_OK)
		return cli_fail("release add", rc, &d);
	printf("release   %s\n", json_string_value(json_object_get(doc, "release_id")));
	printf("product   %s / %s, version %s, sequence %s\n", str(doc, "product"),
	       str(doc, "family"), str(doc, "version"), scalar(json_object_get(doc, "sequence"), num));
	printf("signed by %s (%s)\n", json_string_value(json_object_get(doc, "signer_key_id")),
	       json_string_value(json_object_get(doc, "signer_name")));
	printf("image     %s (%lld bytes)\n", json_string_value(json_object_get(doc, "image_sha256")),
	       (long long)json_integer_value(json_object_get(doc, "image_size")));
	printf("upgrades  %s\n", json_is_string(json_object_get(doc, "upgrade_from"))
	                             ? str(doc, "upgrade_from")
	                             : "any older version");
	if (json_array_size(json_object_get(doc, "hw_revisions"))) {
		json_t *h;
		size_t k;

		printf("hardware ");
		json_array_foreach(json_object_get(doc, "hw_revisions"), k, h)
			printf(" %s", json_string_value(h));
		printf("\n");
	}
	if (json_is_object(json_object_get(doc, "swu"))) {
		json_t *w = json_object_get(doc, "swu");

		printf("swu       %s (%lld bytes, sha256 %s)\n", str(w, "filename"),
		       (long long)json_integer_value(json_object_get(w, "size")), str(w, "sha256"));
		printf("          signer %s (%s)\n", str(w, "signer_subject"), str(w, "cert_purpose"));
	}
	if (json_is_object(json_object_get(doc, "sbom"))) {
		json_t *b = json_object_get(doc, "sbom");

		printf("sbom      %s %s, %lld components (%lld bytes, sha256 %s)\n", str(b, "format"),
		       str(b, "spec_version"),
		       (long long)json_integer_value(json_object_get(b, "components")),
		       (long long)json_integer_value(json_object_get(b, "size")), str(b, "sha256"));
	}
	if (json_array_size(json_object_get(doc, "fixes"))) {
		json_t *f;
		size_t k;

		printf("fixes    ");
		json_array_foreach(json_object_get(doc, "fixes"), k, f)
			printf(" %s", json_string_value(f));
		printf("\n");
	}
	printf("evidence  record %llu\n", (unsigned long long)idx);
	json_decref(doc);
	return EXIT_OK;
}

static int release_list(int argc, char **argv)
{
	json_t *rels = NULL, *r;
	char num[32];
	size_t i;
	int rc, as_json = 0;

	rc = cli_list("release list", usage_list, argc, argv, fw_registry_release_list, &rels,
	              &as_json);
	if (rels == NULL)
		return rc;
	if (as_json) {
		cli_print_json(rels);
	} else {
		printf("%-16s %-20s %-14s %-12s %10s %-16s %s\n", "ID", "PRODUCT", "FAMILY",
		       "VERSION", "SEQUENCE", "SIGNER", "STATUS");
		json_array_foreach(rels, i, r) {
			printf("%-16.16s %-20s %-14s %-12s %10s %-16s %s\n", str(r, "release_id"),
			       str(r, "product"), str(r, "family"), str(r, "version"),
			       scalar(json_object_get(r, "sequence"), num), str(r, "signer_name"),
			       str(r, "status"));
		}
	}
	json_decref(rels);
	return EXIT_OK;
}

static int release_show(int argc, char **argv)
{
	return cli_show("release show", usage_show, "release id", argc, argv,
	                fw_registry_release_get);
}

int cmd_release(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return release_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return release_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return release_show(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_add, stdout);
		fputs(usage_list, stdout);
		fputs(usage_show, stdout);
		return EXIT_OK;
	}
	cli_err("release", "expected add, list or show (run 'fwtrust release --help')");
	return EXIT_USAGE;
}
