/*
 * libFuzzer target for release SBOMs (src/registry/sbom.c): the input is
 * handed to fw_sbom_parse as the bytes of an --sbom file. On top of the
 * sanitizers it abort()s when the contract of registry.h breaks: an error
 * outside the documented set; *out written on failure; a message with a
 * byte that is not printable ASCII (jansson's error text quotes the input,
 * and the message reaches terminals); an accepted SBOM whose format is not
 * CycloneDX or SPDX, whose spec_version is empty, or whose version is not
 * text with the field it came from named.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: sbom contract broken: %s\n",     \
			        __FILE__, __LINE__, #cond);                      \
			abort();                                                 \
		}                                                                \
	} while (0)

#define UNSET 0x5c

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_sbom_info info, untouched;
	struct fw_diag d = {{0}};
	size_t i;
	int rc;

	memset(&info, UNSET, sizeof(info));
	memset(&untouched, UNSET, sizeof(untouched));
	rc = fw_sbom_parse(data, size, &info, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE || rc == FW_E_NOMEM);
	if (rc != FW_OK) {
		CHECK(memcmp(&info, &untouched, sizeof(info)) == 0);
		CHECK(d.msg[0] != '\0');
		for (i = 0; d.msg[i] != '\0'; i++)
			CHECK((unsigned char)d.msg[i] >= 0x20 && (unsigned char)d.msg[i] < 0x7f);
		return 0;
	}
	CHECK(strcmp(info.format, "CycloneDX") == 0 || strcmp(info.format, "SPDX") == 0);
	CHECK(info.spec_version[0] != '\0');
	CHECK(memchr(info.version, '\0', sizeof(info.version)) != NULL);
	if (info.version[0]) {
		CHECK(fw_text_valid(info.version));
		CHECK(info.version_field[0] != '\0');
	}
	return 0;
}
