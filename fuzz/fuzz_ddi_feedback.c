/*
 * libFuzzer target for the hawkBit feedback parser of the device API
 * (fw_ddi_feedback_parse in src/ddi/ddi.c): the body of
 * POST .../deploymentBase/{id}/feedback and .../cancelAction/{id}/feedback,
 * sent by any enrolled device. Strict JSON, and the lenient reading of
 * SWUpdate 2022.12's bodies with unescaped details.
 *
 * The input is the body as it came (not NUL-terminated). On top of the
 * sanitizers it abort()s when the ddi.h contract breaks: a result other
 * than FW_OK or FW_E_FORMAT, a refusal without a message, an accepted
 * body whose execution or finished is outside its enum, or whose details
 * are not NUL-terminated, longer than FW_DDI_MAX_DETAILS, end in a blank,
 * or are not text the engine takes as a report's detail (valid UTF-8
 * without control characters: fw_text_valid); a second parse of the same
 * bytes that differs. fw_ddi_integrity_failure runs on the details and on
 * the input as text, fw_ddi_sleep_format on the first four bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ddi/ddi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: ddi feedback contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                      \
			abort();                                                 \
		}                                                                \
	} while (0)

static void check_sleep(const uint8_t *data, size_t size)
{
	unsigned s = 0;
	char out[9];

	for (size_t i = 0; i < 4 && i < size; i++)
		s = s << 8 | data[i];
	memset(out, 'x', sizeof(out));
	fw_ddi_sleep_format(s, out);
	CHECK(out[8] == 0 && strlen(out) == 8 && out[2] == ':' && out[5] == ':');
	for (int i = 0; i < 8; i++)
		CHECK(i == 2 || i == 5 || (out[i] >= '0' && out[i] <= '9'));
	CHECK(memcmp(out, "24", 2) < 0 && out[3] < '6' && out[6] < '6');
	if (s < 86400) {
		unsigned h = (unsigned)(out[0] - '0') * 10 + (unsigned)(out[1] - '0');
		unsigned m = (unsigned)(out[3] - '0') * 10 + (unsigned)(out[4] - '0');
		unsigned x = (unsigned)(out[6] - '0') * 10 + (unsigned)(out[7] - '0');

		CHECK(h * 3600 + m * 60 + x == s);
	} else {
		CHECK(strcmp(out, "23:59:59") == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_ddi_feedback f, g;
	struct fw_diag d, d2;
	char *text;
	size_t n;
	int rc, rc2, integ;

	memset(&d, 0, sizeof(d));
	memset(&f, 0x5c, sizeof(f));
	rc = fw_ddi_feedback_parse(data, size, &f, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT);
	if (rc != FW_OK) {
		CHECK(d.msg[0] != 0);
	} else {
		CHECK(f.execution >= FW_DDI_CLOSED && f.execution <= FW_DDI_DOWNLOAD);
		CHECK(f.finished >= FW_DDI_SUCCESS && f.finished <= FW_DDI_NONE);
		CHECK(f.lenient == 0 || f.lenient == 1);
		CHECK(memchr(f.details, 0, sizeof(f.details)) != NULL);
		n = strlen(f.details);
		CHECK(n <= FW_DDI_MAX_DETAILS);
		CHECK(n == 0 || f.details[n - 1] != ' ');
		CHECK(n == 0 || fw_text_valid(f.details));
		integ = fw_ddi_integrity_failure(f.details);
		CHECK(integ == 0 || integ == 1);
		CHECK(n > 0 || integ == 0);
	}

	/* the same bytes, the same answer */
	memset(&d2, 0, sizeof(d2));
	memset(&g, 0xa5, sizeof(g));
	rc2 = fw_ddi_feedback_parse(data, size, &g, &d2);
	CHECK(rc2 == rc);
	if (rc == FW_OK)
		CHECK(g.execution == f.execution && g.finished == f.finished &&
		      g.lenient == f.lenient && strcmp(g.details, f.details) == 0);
	else
		CHECK(strcmp(d.msg, d2.msg) == 0);

	text = malloc(size + 1);
	if (text != NULL) {
		memcpy(text, data, size);
		text[size] = 0;
		integ = fw_ddi_integrity_failure(text);
		CHECK(integ == 0 || integ == 1);
		free(text);
	}
	check_sleep(data, size);
	return 0;
}
