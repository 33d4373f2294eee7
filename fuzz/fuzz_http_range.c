/*
 * libFuzzer target for the Range header parser of the HTTP server
 * (fw_http_range_parse in src/http/http.c).
 *
 * Input: 8 bytes of file length (little-endian; fewer bytes: 1000) then
 * the header value (untrusted, made NUL-terminated). On top of the
 * sanitizers it abort()s when the http.h contract breaks: a result
 * outside the enum, out-params written when the result is not OK, an
 * accepted range outside the file (start <= end < len), and a round trip:
 * "bytes=start-end" of an accepted range parses back to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: range contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                   \
			abort();                                              \
		}                                                             \
	} while (0)

#define UNSET 0x5c5c5c5c5c5c5c5cull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t len = 1000, a = UNSET, b = UNSET, a2 = UNSET, b2 = UNSET;
	char *hdr, again[64];
	size_t i;
	int rc;

	if (size >= 8) {
		len = 0;
		for (i = 0; i < 8; i++)
			len |= (uint64_t)data[i] << (8 * i);
		data += 8;
		size -= 8;
	}
	hdr = malloc(size + 1);
	if (hdr == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = 0;
	rc = fw_http_range_parse(hdr, len, &a, &b);
	CHECK(rc == FW_HTTP_RANGE_NONE || rc == FW_HTTP_RANGE_OK || rc == FW_HTTP_RANGE_BAD);
	if (rc != FW_HTTP_RANGE_OK) {
		CHECK(a == UNSET && b == UNSET);
	} else {
		CHECK(a <= b && b < len);
		snprintf(again, sizeof(again), "bytes=%llu-%llu", (unsigned long long)a,
		         (unsigned long long)b);
		CHECK(fw_http_range_parse(again, len, &a2, &b2) == FW_HTTP_RANGE_OK);
		CHECK(a2 == a && b2 == b);
	}
	free(hdr);
	return 0;
}
