/*
 * libFuzzer target for the libfwv envelope parser and verifier.
 *
 * The input is an untrusted SUIT envelope. It goes through:
 *   1. fwv_parse_envelope (no signature check);
 *   2. fwv_begin with the OpenSSL port and fixed trusted keys; when it
 *      accepts, the fixed image below is streamed through fwv_update and
 *      fwv_finish;
 *   3. fwv_begin again with a permissive stub port (every signature
 *      "verifies", every SHA-256 is all zeros), so mutated manifests reach
 *      the code behind the signature and digest checks: conditions,
 *      sequence, streaming. Seeds for it carry all-zero digests.
 * On top of the sanitizers it checks the API contract of fwv.h and
 * abort()s when it is broken: error codes in range, *out untouched on
 * failure, a dead context refuses every later call, the accepted values
 * agree with what fwv_parse_envelope read.
 *
 * Keys: the P-256 and Ed25519 keys the seed corpus was signed with
 * (fwtrust key generate), and the draft's example-0 key that verifies
 * corpus/envelope/suit-example0.suit. Only public keys are here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: fwv contract broken: %s\n",     \
			        __FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/* key id = SHA-256 of the DER SubjectPublicKeyInfo */
static const uint8_t p256_id[FWV_KEY_ID_LEN] = {
	0xba, 0xd4, 0x91, 0x52, 0x55, 0x22, 0x9d, 0xc2,
	0x92, 0xcb, 0x49, 0xd0, 0x5f, 0x20, 0x9d, 0x8d,
	0x88, 0x26, 0x6d, 0x1a, 0x43, 0xe4, 0x2e, 0x6b,
	0x67, 0xa7, 0x16, 0xe3, 0x82, 0x80, 0x69, 0x7a,
};
static const uint8_t p256_pub[65] = {
	0x04, 0x63, 0x1d, 0x76, 0x17, 0xc0, 0xe1, 0xa5,
	0xeb, 0x38, 0x1d, 0x91, 0x93, 0xe0, 0x4a, 0xd5,
	0xff, 0xce, 0x7c, 0x0f, 0x02, 0x4c, 0x74, 0xee,
	0x40, 0xc8, 0x76, 0x3c, 0x74, 0xa0, 0xe9, 0x44,
	0x19, 0xf9, 0x75, 0x81, 0x01, 0xbd, 0x81, 0x0a,
	0x93, 0x2a, 0x14, 0xf1, 0xb2, 0x5a, 0x46, 0xb1,
	0xb0, 0xae, 0xd1, 0xea, 0x6a, 0xce, 0x44, 0x01,
	0xac, 0xaa, 0x74, 0x31, 0x07, 0x48, 0x10, 0xa8,
	0xdc,
};
static const uint8_t ed25519_id[FWV_KEY_ID_LEN] = {
	0x38, 0x61, 0xd4, 0x9e, 0xeb, 0xc0, 0x36, 0x17,
	0x0a, 0xf9, 0x33, 0xbe, 0x57, 0x30, 0x0d, 0x3b,
	0x88, 0xb3, 0xd0, 0x8f, 0xd0, 0x65, 0x9a, 0x7c,
	0x9c, 0x90, 0x0a, 0x3b, 0x1e, 0x51, 0xb0, 0xfc,
};
static const uint8_t ed25519_pub[32] = {
	0xe9, 0x8e, 0x8a, 0x5d, 0xfb, 0x89, 0x9d, 0x9e,
	0xb2, 0x18, 0x54, 0xc1, 0x52, 0xca, 0x9f, 0x2d,
	0xe2, 0x63, 0xa0, 0xc1, 0xba, 0x75, 0x8c, 0x51,
	0xd2, 0x62, 0xe6, 0x06, 0xc7, 0x28, 0x1c, 0x63,
};
/* /work/shared/specs/vectors/suit-example0.pub.pem */
static const uint8_t example0_id[FWV_KEY_ID_LEN] = {
	0xad, 0xe2, 0xda, 0xd6, 0x11, 0x71, 0x7e, 0x91,
	0x0e, 0x29, 0x5d, 0xb3, 0xba, 0x08, 0x6f, 0xc4,
	0x04, 0x90, 0xb0, 0xda, 0xac, 0xfc, 0x23, 0xaa,
	0xce, 0x93, 0x48, 0x07, 0x7b, 0x83, 0x9b, 0x17,
};
static const uint8_t example0_pub[65] = {
	0x04, 0x84, 0x96, 0x81, 0x1a, 0xae, 0x0b, 0xaa,
	0xab, 0xd2, 0x61, 0x57, 0x18, 0x9e, 0xec, 0xda,
	0x26, 0xbe, 0xaa, 0x8b, 0xf1, 0x1b, 0x6f, 0x3f,
	0xe6, 0xe2, 0xb5, 0x65, 0x9c, 0x85, 0xdb, 0xc0,
	0xad, 0x3b, 0x1f, 0x2a, 0x4b, 0x6c, 0x09, 0x81,
	0x31, 0xc0, 0xa3, 0x6d, 0xac, 0xd1, 0xd7, 0x8b,
	0xd3, 0x81, 0xdc, 0xdf, 0xb0, 0x9c, 0x05, 0x2d,
	0xb3, 0x39, 0x91, 0xdb, 0x73, 0x38, 0xb4, 0xa8,
	0x96,
};

/* The device. Vendor and class are the draft example's, so example 0 and
 * the seeds signed for this device (see README.md) pass the conditions. */
static const uint8_t vendor_id[FWV_UUID_LEN] = {   /* fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe */
	0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf,
	0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe,
};
static const uint8_t class_id[FWV_UUID_LEN] = {    /* 1492af14-2569-5e48-bf42-9b2d51f2ab45 */
	0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48,
	0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45,
};
static const uint8_t device_id[FWV_UUID_LEN] = {   /* 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 */
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

/* The image the signed seeds describe (its bytes without the NUL). */
static const char image[] = "fwtrust fuzz image: streamed through fwv_update in three chunks\n";
#define IMAGE_LEN (sizeof(image) - 1)

/* ---- stub port: accepts every signature, hashes everything to zeros ---- */

static int stub_hash_init(void *state)
{
	(void)state;
	return 0;
}

static int stub_hash_update(void *state, const uint8_t *p, size_t n)
{
	(void)state;
	(void)p;
	(void)n;
	return 0;
}

static int stub_hash_final(void *state, uint8_t out[FWV_SHA256_LEN])
{
	(void)state;
	memset(out, 0, FWV_SHA256_LEN);
	return 0;
}

static int stub_verify(int key_type, const uint8_t *pub, size_t pub_len,
                       const uint8_t *msg, size_t msg_len, const uint8_t sig[FWV_SIG_LEN])
{
	volatile uint8_t sum = 0;
	size_t i;

	(void)key_type;
	(void)pub;
	(void)pub_len;
	/* Sig_structure = ["Signature1", protected, h'', payload]; every byte
	 * up to msg_len and the 64 signature bytes must be readable (ASan) */
	CHECK(msg_len >= 12 && memcmp(msg, "\x84\x6aSignature1", 12) == 0);
	for (i = 0; i < msg_len; i++)
		sum ^= msg[i];
	for (i = 0; i < FWV_SIG_LEN; i++)
		sum ^= sig[i];
	(void)sum;
	return 0;
}

/* hash_abort NULL on purpose: the header allows it */
static const struct fwv_port stub_port = {
	stub_hash_init, stub_hash_update, stub_hash_final, NULL, stub_verify
};

/* ---- checks ---- */

static int valid_err(int rc)
{
	return rc >= 0 && rc < FWV_ERR_COUNT && fwv_err_name(rc) != NULL &&
	       strcmp(fwv_err_name(rc), "unknown_error") != 0;
}

/* After a failure the context is dead: every later call says so. */
static void check_dead(struct fwv_ctx *ctx)
{
	uint8_t kid[FWV_KEY_ID_LEN];
	uint64_t v;

	CHECK(fwv_sequence(ctx, &v) == FWV_E_STATE);
	CHECK(fwv_image_size(ctx, &v) == FWV_E_STATE);
	CHECK(fwv_signer(ctx, kid) == FWV_E_STATE);
	CHECK(fwv_update(ctx, (const uint8_t *)image, 1) == FWV_E_STATE);
	CHECK(fwv_finish(ctx) == FWV_E_STATE);
}

static void stream_image(struct fwv_ctx *ctx)
{
	static const size_t cuts[] = {1, 8, IMAGE_LEN};
	size_t off = 0, i;
	int rc = FWV_OK;

	CHECK(fwv_update(ctx, NULL, 0) == FWV_OK);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]) && rc == FWV_OK; i++) {
		rc = fwv_update(ctx, (const uint8_t *)image + off, cuts[i] - off);
		CHECK(valid_err(rc));
		off = cuts[i];
	}
	if (rc != FWV_OK) {
		CHECK(rc == FWV_E_IMAGE_TOO_LONG);
		check_dead(ctx);
		return;
	}
	rc = fwv_finish(ctx);
	CHECK(valid_err(rc));
	if (rc == FWV_OK) {
		uint64_t v;

		CHECK(fwv_image_size(ctx, &v) == FWV_OK && v == IMAGE_LEN);
	}
	/* done or dead: no more bytes either way */
	CHECK(fwv_update(ctx, (const uint8_t *)image, 1) == FWV_E_STATE);
	CHECK(fwv_finish(ctx) == FWV_E_STATE);
}

static void run_begin(const uint8_t *env, size_t len, const struct fwv_port *port,
                      const struct fwv_device *dev, int parsed,
                      const struct fwv_manifest_info *mi)
{
	const struct fwv_key keys[] = {
		{p256_id, FWV_KEY_P256, p256_pub, sizeof(p256_pub)},
		{ed25519_id, FWV_KEY_ED25519, ed25519_pub, sizeof(ed25519_pub)},
		{example0_id, FWV_KEY_P256, example0_pub, sizeof(example0_pub)},
	};
	uint8_t kid[FWV_KEY_ID_LEN];
	struct fwv_ctx ctx;
	uint64_t seq, size;
	int rc;

	fwv_init(&ctx, port);
	rc = fwv_begin(&ctx, env, len, keys, sizeof(keys) / sizeof(keys[0]), dev);
	CHECK(valid_err(rc));
	if (rc != FWV_OK) {
		check_dead(&ctx);
		fwv_clear(&ctx);
		return;
	}
	CHECK(fwv_sequence(&ctx, &seq) == FWV_OK);
	CHECK(fwv_image_size(&ctx, &size) == FWV_OK);
	CHECK(fwv_signer(&ctx, kid) == FWV_OK);
	CHECK(memcmp(kid, p256_id, sizeof(kid)) == 0 ||
	      memcmp(kid, ed25519_id, sizeof(kid)) == 0 ||
	      memcmp(kid, example0_id, sizeof(kid)) == 0);
	if (!(dev->flags & FWV_F_SKIP_SEQUENCE))
		CHECK(seq > dev->sequence ||
		      (seq == dev->sequence && (dev->flags & FWV_F_ALLOW_EQUAL_SEQUENCE)));
	/* the bytes that were accepted are the bytes that were parsed */
	if (parsed) {
		CHECK(seq == mi->sequence && size == mi->image_size);
		CHECK(mi->vendor_id.len == FWV_UUID_LEN &&
		      memcmp(mi->vendor_id.ptr, vendor_id, FWV_UUID_LEN) == 0);
		CHECK(mi->class_id.len == FWV_UUID_LEN &&
		      memcmp(mi->class_id.ptr, class_id, FWV_UUID_LEN) == 0);
		if (mi->checks_device && dev->device_id)
			CHECK(mi->device_id.len == FWV_UUID_LEN &&
			      memcmp(mi->device_id.ptr, dev->device_id, FWV_UUID_LEN) == 0);
	}
	stream_image(&ctx);
	fwv_clear(&ctx);
	fwv_clear(&ctx); /* twice is harmless */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* runs sequence 1 and accepts a reinstall; names itself */
	const struct fwv_device dev = {
		vendor_id, class_id, device_id, 1, FWV_F_ALLOW_EQUAL_SEQUENCE
	};
	/* strict: equal sequence refused, no device id to offer */
	const struct fwv_device strict = {vendor_id, class_id, NULL, 1, 0};
	struct fwv_manifest_info mi, before;
	int rc, parsed;

	if (data == NULL) /* libFuzzer may pass NULL with size 0 */
		data = (const uint8_t *)"";

	memset(&mi, 0xa5, sizeof(mi));
	before = mi;
	rc = fwv_parse_envelope(data, size, &mi);
	CHECK(valid_err(rc));
	parsed = rc == FWV_OK;
	if (!parsed) {
		CHECK(memcmp(&mi, &before, sizeof(mi)) == 0); /* *out untouched */
	} else {
		CHECK(mi.auth_blocks >= 1 && mi.auth_blocks <= FWV_MAX_AUTH_BLOCKS);
		CHECK(mi.vendor_id.len == FWV_UUID_LEN && mi.class_id.len == FWV_UUID_LEN);
		CHECK(mi.vendor_id.ptr >= data && mi.vendor_id.ptr + 16 <= data + size);
		CHECK(mi.class_id.ptr >= data && mi.class_id.ptr + 16 <= data + size);
		CHECK(mi.component.ptr >= data &&
		      mi.component.len <= (size_t)(data + size - mi.component.ptr));
		if (mi.version.len)
			CHECK(mi.version.ptr >= data &&
			      mi.version.len <= (size_t)(data + size - mi.version.ptr));
		if (mi.description.len)
			CHECK(mi.description.ptr >= data &&
			      mi.description.len <= (size_t)(data + size - mi.description.ptr));
	}

	run_begin(data, size, fwv_port_openssl(), &dev, parsed, &mi);
	run_begin(data, size, &stub_port, &dev, parsed, &mi);
	run_begin(data, size, &stub_port, &strict, parsed, &mi);
	return 0;
}
