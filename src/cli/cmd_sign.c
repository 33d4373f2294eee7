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

static const char usage[] =
    "usage: fwtrust sign --key KEY --image IMAGE --vendor-id UUID --class-id UUID\n"
    "                    --sequence N --version TEXT --out ENVELOPE\n"
    "                    [--device-id UUID] [--force]\n"
    "\n"
    "Signs IMAGE into a SUIT envelope (ENVELOPE) that devices verify before they\n"
    "accept the image, and writes ENVELOPE.record.json, the signing record.\n"
    "\n"
    "  --key KEY          private key from 'fwtrust key generate' (.key)\n"
    "  --image IMAGE      firmware image; hashed in a streaming pass\n"
    "  --vendor-id UUID   vendor the image is for (device must match)\n"
    "  --class-id UUID    device class the image is for (device must match)\n"
    "  --device-id UUID   optional: only this one device may accept it\n"
    "  --sequence N       anti-rollback sequence number, 0..9223372036854775807;\n"
    "                     devices refuse a lower number than the one they run,\n"
    "                     and an equal one unless they are told to reinstall\n"
    "  --version TEXT     human version string (UTF-8, 1-64 bytes), e.g. 2.4.1\n"
    "  --out ENVELOPE     where to write the envelope\n"
    "  --force            replace ENVELOPE and its record if they exist\n";

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
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *key_path = NULL, *image = NULL, *out = NULL, *seq = NULL;
	const char *vendor = NULL, *class_id = NULL, *device = NULL;
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
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'k': key_path = optarg; break;
		case 'i': image = optarg; break;
		case 'V': vendor = optarg; break;
		case 'C': class_id = optarg; break;
		case 'D': device = optarg; break;
		case 's': seq = optarg; break;
		case 'v': m.version = optarg; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("sign", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("sign", argv[optind]);
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
