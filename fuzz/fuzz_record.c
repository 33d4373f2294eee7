/*
 * libFuzzer target for fw_json_load_record (src/core/json.c), the fast
 * reader of evidence records that bundle export and verification use on
 * untrusted records.jsonl lines. Differential oracle (abort on breach): it
 * must give exactly json_loadb's value, and NULL exactly where json_loadb
 * refuses the text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *want = json_loadb((const char *)data, size, 0, NULL);
	json_t *got = fw_json_load_record((const char *)data, size);

	if ((want == NULL) != (got == NULL) || (want && !json_equal(want, got))) {
		fprintf(stderr, "fw_json_load_record differs from json_loadb\n");
		abort();
	}
	json_decref(want);
	json_decref(got);
	return 0;
}
