/*
 * libFuzzer target for the SWUpdate .swu reader (src/swu/swu.c).
 *
 * The input is an untrusted .swu. It goes through fw_swu_verify_mem with
 * the fixed signer certificate below as the device's -k (purpose
 * emailProtection, then codeSigning), and the whole input through
 * fw_swu_description_parse as sw-description text. The seeds in
 * corpus/swu/ were signed with that certificate's key (not kept), so
 * mutations reach the image and trailer checks behind a valid signature
 * only by keeping the first two entries intact.
 *
 * On top of the sanitizers it abort()s when the swu.h contract breaks: an
 * error code outside the documented set, an out-param written on failure,
 * a message without text, an accepted .swu whose size or SHA-256 is not
 * the input's or whose image is not in the input, a parsed sw-description
 * that does not come back the same from fw_swu_description.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "swu/swu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: swu contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                   \
			abort();                                              \
		}                                                             \
	} while (0)

/* openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
 *   -days 36500 -subj /CN=fwtrust-fuzz-swu (2026-11-26; key discarded) */
static const char signer_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjjCCATOgAwIBAgIUFbYL2stGoXUVaOfVq6fM6/QZs7MwCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQZnd0cnVzdC1mdXp6LXN3dTAgFw0yNjExMjYxMjUyMzRaGA8y\n"
    "MTI2MTEwMjEyNTIzNFowGzEZMBcGA1UEAwwQZnd0cnVzdC1mdXp6LXN3dTBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABMw6aOcWKB0WO9KoH0T4yUe1EF5ba0j3HAv6\n"
    "VfiiQxRoVo1f01g3qEkcRGFntREDUXMFTn6brBO4CKERSFSI/IyjUzBRMB0GA1Ud\n"
    "DgQWBBSv2UXs2BwMKLOODhr+++oAis+VRTAfBgNVHSMEGDAWgBSv2UXs2BwMKLOO\n"
    "Dhr+++oAis+VRTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCE\n"
    "C4dj3ORU4RXOhhldlYdWo3xcLugR8SCYztkWNj3vMwIhAOV2+i5pAUPOhrV3riCv\n"
    "GbTnhCh4z+bbKwTCrFOhc6Qh\n"
    "-----END CERTIFICATE-----\n";

static struct fw_swu_trust *email, *code;

static void load(void)
{
	if (email)
		return;
	CHECK(fw_swu_trust_from_pem("fuzz.pem", (const uint8_t *)signer_pem, sizeof(signer_pem) - 1,
	                            FW_SWU_PURPOSE_EMAIL, &email, NULL) == FW_OK);
	CHECK(fw_swu_trust_from_pem("fuzz.pem", (const uint8_t *)signer_pem, sizeof(signer_pem) - 1,
	                            FW_SWU_PURPOSE_CODE, &code, NULL) == FW_OK);
}

static int contains(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	size_t i;

	for (i = 0; n <= len && i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static int verify(const uint8_t *data, size_t size, const struct fw_swu_trust *t,
                  struct fw_swu_info *info)
{
	struct fw_diag d;
	uint8_t sha[32];
	int rc;

	memset(&d, 0, sizeof(d));
	memset(info, 0x5c, sizeof(*info));
	rc = fw_swu_verify_mem(data, size, "fuzz.swu", t, info, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE || rc == FW_E_SIGNATURE ||
	      rc == FW_E_VERIFY);
	if (rc != FW_OK) {
		CHECK(d.msg[0] != '\0' && strlen(d.msg) < sizeof(d.msg));
		CHECK(info->size == 0x5c5c5c5c5c5c5c5cull && info->version[0] == 0x5c);
		return rc;
	}
	CHECK(info->size == size);
	fw_sha256(data, size, sha);
	CHECK(memcmp(sha, info->sha256, 32) == 0);
	CHECK(info->nhw >= 1 && info->nhw <= FW_SWU_MAX_HW);
	CHECK(info->version[0] && info->image_name[0] && info->type[0]);
	CHECK(strlen(info->signer_subject) < sizeof(info->signer_subject));
	/* the image and sw-description's entry names are in the archive */
	CHECK(info->image_size <= size);
	CHECK(contains(data, size, info->image_name, strlen(info->image_name) + 1));
	CHECK(memcmp(data + 110, "sw-description", 15) == 0);
	return rc;
}

/* a parsed sw-description, written again, parses to the same fields */
static void roundtrip(const struct fw_swu_info *a)
{
	const char *hw[FW_SWU_MAX_HW];
	struct fw_swu_spec sp;
	struct fw_swu_info *b;
	char *text = NULL;
	size_t len = 0, i;
	int rc;

	memset(&sp, 0, sizeof(sp));
	for (i = 0; i < a->nhw; i++)
		hw[i] = a->hw[i];
	sp.version = a->version;
	sp.description = a->description[0] ? a->description : NULL;
	sp.hw = hw;
	sp.nhw = a->nhw;
	sp.image_name = a->image_name;
	sp.type = a->type;
	sp.device = a->device[0] ? a->device : NULL;
	sp.path = a->path[0] ? a->path : NULL;
	rc = fw_swu_description(&sp, a->image_sha256, &text, &len, NULL);
	/* the reader allows longer versions than the writer (64 bytes) */
	CHECK(rc == FW_OK || (rc == FW_E_ARG && strlen(a->version) > FW_MAX_VERSION_STRING));
	if (rc != FW_OK)
		return;
	b = calloc(1, sizeof(*b));
	CHECK(b != NULL);
	CHECK(fw_swu_description_parse(text, len, b, NULL) == FW_OK);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	free(b);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_swu_info *info = malloc(sizeof(*info)), *info2 = malloc(sizeof(*info2));
	struct fw_diag d;
	int rc, rc2;

	CHECK(info != NULL && info2 != NULL);
	load();
	rc = verify(data, size, email, info);
	rc2 = verify(data, size, code, info2);
	/* the fixed certificate has no EKU: never good for codeSigning, and
	 * everything before the signer check agrees */
	CHECK(rc2 != FW_OK);
	if (rc == FW_OK)
		CHECK(rc2 == FW_E_SIGNATURE);
	if (rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE)
		CHECK(rc2 == rc || rc2 == FW_E_SIGNATURE);

	/* the whole input as sw-description text */
	memset(&d, 0, sizeof(d));
	memset(info, 0x5c, sizeof(*info));
	rc = fw_swu_description_parse((const char *)data, size, info, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE);
	if (rc == FW_OK) {
		CHECK(info->nhw >= 1 && info->version[0] && info->image_name[0]);
		CHECK(info->size == 0 && info->image_size == 0);
		roundtrip(info);
	} else {
		CHECK(d.msg[0] != '\0');
		CHECK(info->size == 0x5c5c5c5c5c5c5c5cull);
	}
	free(info);
	free(info2);
	return 0;
}
