#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"
#include "suit/suit.h"
#include "swu/swu.h"

static const char usage[] =
    "usage: fwtrust sign [--format suit] --key KEY --image IMAGE --vendor-id UUID\n"
    "                    --class-id UUID --sequence N --version TEXT --out ENVELOPE\n"
    "                    [--device-id UUID] [--force]\n"
    "       fwtrust sign --format swu --key KEY --cert SIGNER.pem --image IMAGE\n"
    "                    --version TEXT --hw-compat REV [--hw-compat REV ...]\n"
    "                    --out OUT.swu [--description TEXT] [--swu-type TYPE]\n"
    "                    [--swu-device DEV | --swu-path PATH]\n"
    "                    [--cert-purpose emailProtection|codeSigning] [--force]\n"
    "\n"
    "--format suit (the default) signs IMAGE into a SUIT envelope (ENVELOPE) that\n"
    "devices verify before they accept the image, and writes\n"
    "ENVELOPE.record.json, the signing record.\n"
    "--format swu writes a signed SWUpdate .swu (sw-description, its CMS signature\n"
    "and IMAGE in one cpio archive) for devices that run 'swupdate -k SIGNER.pem'.\n"
    "\n"
    "  --key KEY          suit: private key from 'fwtrust key generate' (.key);\n"
    "                     swu: the signer's PEM private key (RSA >= 2048 bits,\n"
    "                     EC P-256 or P-384)\n"
    "  --image IMAGE      firmware image; hashed in a streaming pass\n"
    "  --version TEXT     human version string (UTF-8, 1-64 bytes), e.g. 2.4.1\n"
    "  --out FILE         where to write the envelope or the .swu\n"
    "  --force            replace the output (and its record) if it exists\n"
    "suit:\n"
    "  --vendor-id UUID   vendor the image is for (device must match)\n"
    "  --class-id UUID    device class the image is for (device must match)\n"
    "  --device-id UUID   optional: only this one device may accept it\n"
    "  --sequence N       anti-rollback sequence number, 0..9223372036854775807;\n"
    "                     devices refuse a lower number than the one they run,\n"
    "                     and an equal one unless they are told to reinstall\n"
    "swu:\n"
    "  --cert SIGNER.pem  the signer's X.509 certificate (PEM), optionally followed\n"
    "                     by its CA chain; devices get it with 'swupdate -k'\n"
    "  --hw-compat REV    a hardware revision the image is for (swupdate -H\n"
    "                     board:REV must match one); repeat for more, at least one\n"
    "  --description TEXT sw-description's description (optional)\n"
    "  --swu-type TYPE    SWUpdate handler; default raw with --swu-device, else\n"
    "                     rawfile\n"
    "  --swu-device DEV   device node the raw handler writes, e.g. /dev/mmcblk0p2\n"
    "  --swu-path PATH    file the rawfile handler writes\n"
    "  --cert-purpose P   the devices' swupdate --cert-purpose (default\n"
    "                     emailProtection); the .swu is checked against SIGNER.pem\n"
    "                     with it before it is written\n";

/* Options of --format swu (cmd_sign parses them through swu_option). */
struct swu_args {
	const char *cert, *description, *type, *device, *path, *purpose;
	const char *hw[FW_SWU_MAX_HW];
	size_t nhw;
	const char *first; /* the first swu-only flag given, for a misuse message */
};

/* 1: c was an swu option (taken), 0: it is not one, -1: error printed */
static int swu_option(struct swu_args *a, int c, const char *arg)
{
	const char *flag;

	switch (c) {
	case 'c': a->cert = arg; flag = "--cert"; break;
	case 'E': a->description = arg; flag = "--description"; break;
	case 'T': a->type = arg; flag = "--swu-type"; break;
	case 'N': a->device = arg; flag = "--swu-device"; break;
	case 'P': a->path = arg; flag = "--swu-path"; break;
	case 'U': a->purpose = arg; flag = "--cert-purpose"; break;
	case 'H':
		if (a->nhw == FW_SWU_MAX_HW) {
			cli_err("sign", "--hw-compat: at most %d", FW_SWU_MAX_HW);
			return -1;
		}
		a->hw[a->nhw++] = arg;
		flag = "--hw-compat";
		break;
	default: return 0;
	}
	if (a->first == NULL)
		a->first = flag;
	return 1;
}

static int sign_swu(const char *key_path, const char *image, const char *version,
                    const char *out, int force, const struct swu_args *a)
{
	struct fw_swu_spec spec;
	struct fw_swu_signer *signer = NULL;
	struct fw_swu_trust *check = NULL;
	struct fw_swu_info *info = NULL;
	struct fw_diag d = {{0}};
	char hex[65], sha1[41], md5[33];
	int purpose = FW_SWU_PURPOSE_EMAIL, rc, exit_code;
	size_t i;

	if (!a->cert)
		return opts_missing("sign", "--cert (the signer certificate, with --format swu)");
	if (a->nhw == 0)
		return opts_missing("sign", "--hw-compat (devices refuse a .swu without it)");
	if (a->device && a->path) {
		cli_err("sign", "--swu-device and --swu-path: give one");
		return EXIT_USAGE;
	}
	if (a->purpose && fw_swu_purpose_parse(a->purpose, &purpose) != FW_OK) {
		cli_err("sign", "--cert-purpose: '%s' is not emailProtection or codeSigning",
		        a->purpose);
		return EXIT_USAGE;
	}
	if (!force && access(out, F_OK) == 0) {
		cli_err("sign", "%s: already exists (refusing to overwrite; --force replaces it)", out);
		return EXIT_USAGE;
	}
	memset(&spec, 0, sizeof(spec));
	spec.version = version;
	spec.description = a->description;
	spec.hw = a->hw;
	spec.nhw = a->nhw;
	spec.type = a->type;
	spec.device = a->device;
	spec.path = a->path;
	info = calloc(1, sizeof(*info));
	if (info == NULL) {
		rc = fw_diag_set(&d, FW_E_NOMEM, "out of memory");
		goto fail;
	}
	rc = fw_swu_signer_load(key_path, a->cert, &signer, &d);
	if (rc == FW_OK)
		rc = fw_swu_trust_load(a->cert, purpose, &check, &d);
	if (rc == FW_OK)
		rc = fw_swu_build(&spec, image, signer, check, out, force, info, &d);
	if (rc != FW_OK)
		goto fail;
	fw_hex_encode(info->image_sha256, 32, hex);
	printf("signed    %s (%llu bytes, sha256 %s)\n", image,
	       (unsigned long long)info->image_size, hex);
	fw_hex_encode(info->sha256, 32, hex);
	fw_hex_encode(info->sha1, 20, sha1);
	fw_hex_encode(info->md5, 16, md5);
	printf("swu       %s (%llu bytes, sha256 %s)\n", out, (unsigned long long)info->size, hex);
	printf("          sha1 %s, md5 %s\n", sha1, md5);
	fw_hex_encode(info->signer_sha256, 32, hex);
	printf("signer    %s (certificate sha256 %s, %s)\n", info->signer_subject, hex,
	       fw_swu_purpose_name(purpose));
	printf("version   %s, type %s, hardware", info->version, info->type);
	for (i = 0; i < info->nhw; i++)
		printf(" %s", info->hw[i]);
	printf("\n");
	exit_code = EXIT_OK;
	goto out;
fail:
	exit_code = cli_fail("sign", rc, &d);
out:
	free(info);
	fw_swu_trust_free(check);
	fw_swu_signer_free(signer);
	return exit_code;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"image", required_argument, NULL, 'i'},
	    {"vendor-id", required_argument, NULL, 'V'},
	    {"class-id", required_argument, NULL, 'C'},
	    {"device-id", required_argument, NULL, 'D'},
	    {"sequence", required_argument, NULL, 's'},
	    {"version", required_argument, NULL, 'v'},
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {"cert", required_argument, NULL, 'c'},
	    {"hw-compat", required_argument, NULL, 'H'},
	    {"description", required_argument, NULL, 'E'},
	    {"swu-type", required_argument, NULL, 'T'},
	    {"swu-device", required_argument, NULL, 'N'},
	    {"swu-path", required_argument, NULL, 'P'},
	    {"cert-purpose", required_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *key_path = NULL, *image = NULL, *out = NULL, *seq = NULL;
	const char *vendor = NULL, *class_id = NULL, *device = NULL, *format = "suit";
	const char *suit_only = NULL;
	struct swu_args swu;
	struct fw_suit_manifest m;
	struct fw_key *key = NULL;
	struct fw_diag d = {{0}};
	struct fwv_key tk;
	struct fwv_device dev;
	struct fw_suit_verdict verdict;
	struct fw_file_out files[2];
	unsigned long long seqv = 0;
	char record_path[4096], when[21], kid[2 * FW_KEY_ID_LEN + 1], digest_hex[65];
	uint8_t *env = NULL;
	size_t env_len = 0;
	char *record = NULL;
	json_t *rec = NULL;
	int c, rc, force = 0, exit_code = EXIT_USAGE;

	memset(&m, 0, sizeof(m));
	memset(&swu, 0, sizeof(swu));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		int taken = swu_option(&swu, c, optarg);

		if (taken < 0)
			return EXIT_USAGE;
		if (taken)
			continue;
		switch (c) {
		case 'k': key_path = optarg; break;
		case 'i': image = optarg; break;
		case 'V': vendor = optarg; suit_only = suit_only ? suit_only : "--vendor-id"; break;
		case 'C': class_id = optarg; suit_only = suit_only ? suit_only : "--class-id"; break;
		case 'D': device = optarg; suit_only = suit_only ? suit_only : "--device-id"; break;
		case 's': seq = optarg; suit_only = suit_only ? suit_only : "--sequence"; break;
		case 'v': m.version = optarg; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'F': format = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("sign", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("sign", argv[optind]);
	if (strcmp(format, "suit") != 0 && strcmp(format, "swu") != 0) {
		cli_err("sign", "--format: '%s' is not suit or swu", format);
		return EXIT_USAGE;
	}
	if (strcmp(format, "swu") == 0 && suit_only) {
		cli_err("sign", "%s is for --format suit only", suit_only);
		return EXIT_USAGE;
	}
	if (strcmp(format, "suit") == 0 && swu.first) {
		cli_err("sign", "%s is for --format swu only", swu.first);
		return EXIT_USAGE;
	}
	if (strcmp(format, "swu") == 0) {
		if (!key_path)
			return opts_missing("sign", "--key");
		if (!image)
			return opts_missing("sign", "--image");
		if (!m.version)
			return opts_missing("sign", "--version");
		if (!out || !out[0])
			return opts_missing("sign", "--out");
		return sign_swu(key_path, image, m.version, out, force, &swu);
	}
	if (!key_path)
		return opts_missing("sign", "--key");
	if (!image)
		return opts_missing("sign", "--image");
	if (!vendor)
		return opts_missing("sign", "--vendor-id");
	if (!class_id)
		return opts_missing("sign", "--class-id");
	if (!seq)
		return opts_missing("sign", "--sequence");
	if (!m.version)
		return opts_missing("sign", "--version");
	if (!out || !out[0])
		return opts_missing("sign", "--out");
	if (opts_uuid("sign", "--vendor-id", vendor, m.vendor_id) ||
	    opts_uuid("sign", "--class-id", class_id, m.class_id) ||
	    (device && opts_uuid("sign", "--device-id", device, m.device_id)) ||
	    opts_u64("sign", "--sequence", seq, INT64_MAX, &seqv))
		return EXIT_USAGE;
	m.has_device_id = device != NULL;
	m.sequence = seqv;
	if (strlen(m.version) == 0 || strlen(m.version) > FW_MAX_VERSION_STRING) {
		cli_err("sign", "--version: must be 1 to %d bytes of text", FW_MAX_VERSION_STRING);
		return EXIT_USAGE;
	}
	if (!fw_text_valid(m.version)) {
		cli_err("sign", "--version: not UTF-8 text (or has control characters)");
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(record_path, sizeof(record_path), "%s.record.json", out) >=
	    sizeof(record_path)) {
		cli_err("sign", "--out: path too long");
		return EXIT_USAGE;
	}

	/* refuse before reading a large image for nothing */
	if (!force && (access(out, F_OK) == 0 || access(record_path, F_OK) == 0)) {
		cli_err("sign", "%s: already exists (refusing to overwrite; --force replaces it)",
		        access(out, F_OK) == 0 ? out : record_path);
		return EXIT_USAGE;
	}
	rc = fw_key_load_private(key_path, &key, &d);
	if (rc != FW_OK)
		return cli_fail("sign", rc, &d);
	rc = fw_sha256_file(image, m.image_digest, &m.image_size, &d);
	if (rc != FW_OK)
		goto fail;
	rc = fw_suit_sign(&m, key, &env, &env_len, &d);
	if (rc != FW_OK)
		goto fail;

	/* check what we are about to publish with the device's own verifier */
	fw_key_to_fwv(key, &tk);
	memset(&dev, 0, sizeof(dev));
	dev.flags = FWV_F_SKIP_VENDOR | FWV_F_SKIP_CLASS | FWV_F_SKIP_DEVICE | FWV_F_SKIP_SEQUENCE;
	rc = fw_suit_verify(env, env_len, &tk, 1, &dev, NULL, &verdict, &d);
	if (rc != FW_OK) {
		rc = fw_diag_set(&d, FW_E_INTERNAL, "self-check of the new envelope failed: %s",
		                 fwv_err_name(verdict.fwv_rc));
		goto fail;
	}

	fw_time_utc(when);
	rec = fw_suit_record(&m, key, env, env_len, when);
	record = rec ? json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (record == NULL) {
		rc = fw_diag_set(&d, FW_E_NOMEM, "cannot encode the signing record");
		goto fail;
	}
	{
		/* the record ends with a newline like any text file */
		size_t rl = strlen(record);
		char *grown = realloc(record, rl + 2);

		if (grown == NULL) {
			rc = fw_diag_set(&d, FW_E_NOMEM, "out of memory");
			goto fail;
		}
		grown[rl] = '\n';
		grown[rl + 1] = '\0';
		record = grown;
	}
	files[0] = (struct fw_file_out){out, env, env_len, 0644};
	files[1] = (struct fw_file_out){record_path, record, strlen(record), 0644};
	rc = fw_files_commit(files, 2, force, &d);
	if (rc != FW_OK)
		goto fail;

	fw_key_id_hex(key, kid);
	fw_hex_encode(m.image_digest, 32, digest_hex);
	printf("signed    %s (%llu bytes, sha256 %s)\n", image, (unsigned long long)m.image_size,
	       digest_hex);
	printf("envelope  %s (%zu bytes)\n", out, env_len);
	printf("record    %s\n", record_path);
	printf("key       %s (%s)\n", kid, fw_key_alg_name(fw_key_alg(key)));
	printf("sequence  %llu, version %s\n", seqv, m.version);
	exit_code = EXIT_OK;
	goto out;
fail:
	exit_code = cli_fail("sign", rc, &d);
out:
	free(record);
	json_decref(rec);
	free(env);
	fw_key_free(key);
	return exit_code;
}
