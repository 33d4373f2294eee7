#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "fwv.h"
#include "harness.h"
#include "suit/suit.h"

static struct fw_key *key;
static struct fw_suit_manifest man;
static uint8_t image[5000];
static char image_path[600];

static void setup(void)
{
	size_t i;

	if (key)
		return;
	if (fw_key_generate(FW_KEY_ALG_ED25519, &key, NULL) != FW_OK)
		abort();
	for (i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 31);
	snprintf(image_path, sizeof(image_path), "%s/image.bin", harness_tmpdir());
	if (harness_write(image_path, image, sizeof(image)) != 0)
		abort();
	memset(&man, 0, sizeof(man));
	memset(man.vendor_id, 0x11, 16);
	memset(man.class_id, 0x22, 16);
	man.sequence = 9;
	man.version = "1.0.0-rc1";
	fw_sha256(image, sizeof(image), man.image_digest);
	man.image_size = sizeof(image);
}

static void device(struct fwv_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->vendor_id = man.vendor_id;
	dev->class_id = man.class_id;
	dev->sequence = 8;
}

static void t_deterministic_envelope(void)
{
	uint8_t *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	setup();
	CHECK_EQ(fw_suit_sign(&man, key, &a, &la, NULL), FW_OK);
	CHECK_EQ(fw_suit_sign(&man, key, &b, &lb, NULL), FW_OK);
	/* Ed25519 is deterministic and so is the encoding: same input, same bytes */
	CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
	CHECK(la > 2 && a[0] == 0xd8 && a[1] == 0x6b);
	free(a);
	free(b);
}

static void t_sign_arguments(void)
{
	struct fw_suit_manifest m;
	struct fw_diag d = {{0}};
	char longv[FW_MAX_VERSION_STRING + 2];
	uint8_t *env = NULL;
	size_t len = 0;

	setup();
	m = man;
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	m.version = longv;
	CHECK_EQ(fw_suit_sign(&m, key, &env, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "--version") != NULL);
	m.version = "";
	CHECK_EQ(fw_suit_sign(&m, key, &env, &len, &d), FW_E_ARG);
	CHECK(env == NULL);
	/* the largest sequence number and image size encode and parse back */
	m = man;
	m.sequence = UINT64_MAX;
	m.image_size = UINT64_MAX;
	m.has_device_id = 1;
	memset(m.device_id, 0x33, 16);
	CHECK_EQ(fw_suit_sign(&m, key, &env, &len, &d), FW_OK);
	{
		struct fwv_manifest_info mi;

		CHECK_EQ(fwv_parse_envelope(env, len, &mi), FWV_OK);
		CHECK(mi.sequence == UINT64_MAX && mi.image_size == UINT64_MAX);
		CHECK(mi.checks_device && mi.device_id.len == 16);
	}
	free(env);
}

static void t_verify_file(void)
{
	struct fw_suit_verdict v;
	struct fw_diag d = {{0}};
	struct fwv_device dev;
	struct fwv_key tk;
	uint8_t *env = NULL;
	size_t len = 0;
	char bad[640], missing[640];

	setup();
	CHECK_EQ(fw_suit_sign(&man, key, &env, &len, NULL), FW_OK);
	fw_key_to_fwv(key, &tk);
	device(&dev);
	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, image_path, &v, &d), FW_OK);
	CHECK(v.image_checked);
	CHECK_EQ(v.sequence, 9);
	CHECK(memcmp(v.signer, fw_key_id(key), 32) == 0);

	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, NULL, &v, &d), FW_OK);
	CHECK(!v.image_checked);

	/* tampered image file: refused at the end with the digest code */
	snprintf(bad, sizeof(bad), "%s/bad.bin", harness_tmpdir());
	image[4000] ^= 1;
	CHECK_EQ(harness_write(bad, image, sizeof(image)), 0);
	image[4000] ^= 1;
	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, bad, &v, &d), FW_E_VERIFY);
	CHECK_EQ(v.fwv_rc, FWV_E_IMAGE_DIGEST);
	CHECK(strcmp(v.stage, "image") == 0);

	/* one byte longer: refused while streaming */
	CHECK_EQ(harness_write(bad, image, sizeof(image)), 0);
	{
		FILE *f = fopen(bad, "ab");
		CHECK(f != NULL);
		if (f) {
			fputc(0, f);
			fclose(f);
		}
	}
	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, bad, &v, &d), FW_E_VERIFY);
	CHECK_EQ(v.fwv_rc, FWV_E_IMAGE_TOO_LONG);

	/* unreadable image: an input error, not a verdict */
	snprintf(missing, sizeof(missing), "%s/missing.bin", harness_tmpdir());
	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, missing, &v, &d), FW_E_IO);
	CHECK(strstr(d.msg, "missing.bin") != NULL);

	/* rolled back */
	dev.sequence = 10;
	CHECK_EQ(fw_suit_verify(env, len, &tk, 1, &dev, image_path, &v, &d), FW_E_VERIFY);
	CHECK_EQ(v.fwv_rc, FWV_E_ROLLBACK);
	CHECK(strcmp(v.stage, "envelope") == 0);
	free(env);
}

static void t_record(void)
{
	uint8_t *env = NULL, h[32];
	size_t len = 0;
	char kid[65], hex[65];
	json_t *r;

	setup();
	CHECK_EQ(fw_suit_sign(&man, key, &env, &len, NULL), FW_OK);
	r = fw_suit_record(&man, key, env, len, "2026-11-26T00:00:00Z");
	CHECK(r != NULL);
	if (!r)
		return;
	fw_key_id_hex(key, kid);
	fw_sha256(env, len, h);
	fw_hex_encode(h, 32, hex);
	CHECK(strcmp(json_string_value(json_object_get(r, "key_id")), kid) == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "envelope_sha256")), hex) == 0);
	fw_hex_encode(man.image_digest, 32, hex);
	CHECK(strcmp(json_string_value(json_object_get(r, "image_sha256")), hex) == 0);
	CHECK_EQ(json_integer_value(json_object_get(r, "image_size")), sizeof(image));
	CHECK_EQ(json_integer_value(json_object_get(r, "sequence")), 9);
	CHECK(strcmp(json_string_value(json_object_get(r, "version")), "1.0.0-rc1") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "key_alg")), "ed25519") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "cose_alg")), "Ed25519") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "vendor_id")),
	             "11111111-1111-1111-1111-111111111111") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "signed_at")), "2026-11-26T00:00:00Z") == 0);
	CHECK(json_is_null(json_object_get(r, "device_id")));
	json_decref(r);
	free(env);
}

static void t_explanations(void)
{
	int i, j;

	for (i = 0; i < FWV_ERR_COUNT; i++) {
		CHECK(strcmp(fw_suit_explain(i), "unknown verifier error") != 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(fw_suit_explain(i), fw_suit_explain(j)) != 0);
	}
	CHECK(strcmp(fw_suit_explain(FWV_ERR_COUNT), "unknown verifier error") == 0);
}

static void t_teardown(void)
{
	fw_key_free(key);
	key = NULL;
}

static const struct harness_test tests[] = {
    {"deterministic_envelope", t_deterministic_envelope},
    {"sign_arguments_and_extremes", t_sign_arguments},
    {"verify_file_and_forgeries", t_verify_file},
    {"signing_record", t_record},
    {"every_error_explained", t_explanations},
    {"teardown", t_teardown},
};
HARNESS_MAIN(tests)
