#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/crypto.h"
#include "suit/suit.h"

static const char usage[] =
    "usage: fwtrust verify --pub PUB [--pub PUB ...] --envelope ENVELOPE\n"
    "                      [--image IMAGE] [--min-sequence N] [--reinstall]\n"
    "                      [--vendor-id UUID] [--class-id UUID] [--device-id UUID]\n"
    "\n"
    "Checks ENVELOPE with libfwv, the verifier devices run: a signature by one of\n"
    "the trusted keys (matched by key id), then the manifest's conditions, then\n"
    "(with --image) the image's exact size and SHA-256, streamed.\n"
    "\n"
    "  --pub PUB          trusted public key (.pub); repeat for several (max 16)\n"
    "  --envelope FILE    the SUIT envelope\n"
    "  --image FILE       the firmware image; without it only the envelope is checked\n"
    "  --min-sequence N   the sequence number the device runs now: a lower one is\n"
    "                     refused as rollback, an equal one unless --reinstall\n"
    "  --reinstall        accept an envelope whose sequence equals --min-sequence\n"
    "  --vendor-id UUID   the device's vendor id: the envelope must be for it\n"
    "  --class-id UUID    the device's class id: the envelope must be for it\n"
    "  --device-id UUID   the device's id: checked when the envelope names a device\n"
    "\n"
    "A check whose flag is not given is reported as not checked.\n"
    "Exit status: 0 verified, 1 refused, 2 usage, input or system error.\n";

static void say_check(const char *what, const char *detail)
{
	printf("  %-10s %s\n", what, detail);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pub", required_argument, NULL, 'p'},
	    {"envelope", required_argument, NULL, 'e'},
	    {"image", required_argument, NULL, 'i'},
	    {"min-sequence", required_argument, NULL, 's'},
	    {"reinstall", no_argument, NULL, 'r'},
	    {"vendor-id", required_argument, NULL, 'V'},
	    {"class-id", required_argument, NULL, 'C'},
	    {"device-id", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *pubs[FW_MAX_TRUSTED_KEYS];
	const char *envelope = NULL, *image = NULL, *minseq = NULL;
	const char *vendor = NULL, *class_id = NULL, *device = NULL;
	struct fw_key *keys[FW_MAX_TRUSTED_KEYS] = {NULL};
	struct fwv_key tk[FW_MAX_TRUSTED_KEYS];
	uint8_t vid[16], cid[16], did[16];
	struct fwv_device dev;
	struct fwv_manifest_info mi;
	struct fw_suit_verdict v;
	struct fw_diag d = {{0}};
	unsigned long long seqv = 0;
	size_t npub = 0, i, env_len = 0;
	uint8_t *env = NULL;
	char kid[2 * FW_KEY_ID_LEN + 1], line[160];
	int c, rc, exit_code = EXIT_USAGE, reinstall = 0, have_info;

	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'p':
			if (npub == FW_MAX_TRUSTED_KEYS) {
				cli_err("verify", "--pub: at most %d trusted keys", FW_MAX_TRUSTED_KEYS);
				return EXIT_USAGE;
			}
			pubs[npub++] = optarg;
			break;
		case 'e': envelope = optarg; break;
		case 'i': image = optarg; break;
		case 's': minseq = optarg; break;
		case 'r': reinstall = 1; break;
		case 'V': vendor = optarg; break;
		case 'C': class_id = optarg; break;
		case 'D': device = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return opts_bad("verify", argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra("verify", argv[optind]);
	if (npub == 0)
		return opts_missing("verify", "--pub (at least one trusted public key)");
	if (!envelope)
		return opts_missing("verify", "--envelope");
	if (reinstall && !minseq) {
		cli_err("verify", "--reinstall needs --min-sequence");
		return EXIT_USAGE;
	}
	memset(&dev, 0, sizeof(dev));
	if ((vendor && opts_uuid("verify", "--vendor-id", vendor, vid)) ||
	    (class_id && opts_uuid("verify", "--class-id", class_id, cid)) ||
	    (device && opts_uuid("verify", "--device-id", device, did)) ||
	    (minseq && opts_u64("verify", "--min-sequence", minseq, UINT64_MAX, &seqv)))
		return EXIT_USAGE;
	dev.vendor_id = vendor ? vid : NULL;
	dev.class_id = class_id ? cid : NULL;
	dev.device_id = device ? did : NULL;
	dev.sequence = seqv;
	dev.flags = (vendor ? 0 : FWV_F_SKIP_VENDOR) | (class_id ? 0 : FWV_F_SKIP_CLASS) |
	            (device ? 0 : FWV_F_SKIP_DEVICE) | (minseq ? 0 : FWV_F_SKIP_SEQUENCE) |
	            (reinstall ? FWV_F_ALLOW_EQUAL_SEQUENCE : 0);

	for (i = 0; i < npub; i++) {
		rc = fw_key_load_public(pubs[i], &keys[i], &d);
		if (rc != FW_OK) {
			exit_code = cli_fail("verify", rc, &d);
			goto out;
		}
		fw_key_to_fwv(keys[i], &tk[i]);
	}
	rc = fw_file_read(envelope, FW_MAX_ENVELOPE_FILE, &env, &env_len, &d);
	if (rc != FW_OK) {
		exit_code = cli_fail("verify", rc, &d);
		goto out;
	}
	rc = fw_suit_verify(env, env_len, tk, npub, &dev, image, &v, &d);
	have_info = fwv_parse_envelope(env, env_len, &mi) == FWV_OK;
	if (rc == FW_E_VERIFY && (v.fwv_rc == FWV_E_CRYPTO || v.fwv_rc == FWV_E_ARG ||
	                          v.fwv_rc == FWV_E_STATE || v.fwv_rc == FWV_E_NO_KEYS)) {
		/* the verifier could not decide: an error, not a refusal */
		cli_err("verify", "%s: %s: %s", envelope, fwv_err_name(v.fwv_rc),
		        fw_suit_explain(v.fwv_rc));
		goto out;
	}
	if (rc == FW_E_VERIFY) {
		char extra[160] = "";

		if (have_info && (v.fwv_rc == FWV_E_ROLLBACK || v.fwv_rc == FWV_E_SEQUENCE_EQUAL))
			snprintf(extra, sizeof(extra), " (envelope sequence %llu, device sequence %llu)",
			         (unsigned long long)mi.sequence, seqv);
		else if (have_info && v.fwv_rc == FWV_E_UNKNOWN_KEY && mi.has_kid) {
			fw_hex_encode(mi.kid, 32, kid);
			snprintf(extra, sizeof(extra), " (signed by key id %s)", kid);
		} else if (have_info && (v.fwv_rc == FWV_E_IMAGE_TOO_SHORT ||
		                         v.fwv_rc == FWV_E_IMAGE_TOO_LONG))
			snprintf(extra, sizeof(extra), " (manifest says %llu bytes)",
			         (unsigned long long)mi.image_size);
		fprintf(stderr, "fwtrust verify: REFUSED %s: %s: %s%s\n", envelope,
		        fwv_err_name(v.fwv_rc), fw_suit_explain(v.fwv_rc), extra);
		exit_code = EXIT_REFUSED;
		goto out;
	}
	if (rc != FW_OK) {
		exit_code = cli_fail("verify", rc, &d);
		goto out;
	}

	fw_hex_encode(v.signer, 32, kid);
	printf("OK %s\n", envelope);
	for (i = 0; i < npub; i++)
		if (memcmp(fw_key_id(keys[i]), v.signer, 32) == 0)
			break;
	snprintf(line, sizeof(line), "%s (%s, %s)", kid, fw_key_alg_name(fw_key_alg(keys[i])),
	         pubs[i]);
	say_check("signature", line);
	say_check("vendor-id", vendor ? "matches" : "not checked (no --vendor-id)");
	say_check("class-id", class_id ? "matches" : "not checked (no --class-id)");
	if (have_info && mi.checks_device)
		say_check("device-id", device ? "matches" : "not checked (no --device-id)");
	else
		say_check("device-id", "any device of the class (the envelope checks no device id)");
	if (minseq)
		snprintf(line, sizeof(line), "%llu %s %llu%s", (unsigned long long)v.sequence,
		         v.sequence == seqv ? "=" : ">", seqv,
		         v.sequence == seqv ? " (reinstall)" : "");
	else
		snprintf(line, sizeof(line), "%llu, not checked against a device (no --min-sequence)",
		         (unsigned long long)v.sequence);
	say_check("sequence", line);
	if (v.image_checked) {
		snprintf(line, sizeof(line), "%s: %llu bytes, SHA-256 matches", image,
		         (unsigned long long)v.image_size);
		say_check("image", line);
	} else {
		say_check("image", "NOT CHECKED: no --image given; only the envelope was verified");
	}
	exit_code = EXIT_OK;
out:
	for (i = 0; i < npub; i++)
		fw_key_free(keys[i]);
	free(env);
	return exit_code;
}
