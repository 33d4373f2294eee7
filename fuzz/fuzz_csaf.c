/*
 * libFuzzer target for CSAF 2.0 imports (src/vuln/csaf.c): the document
 * parser and mapper, and the vers range mapper, with no store.
 *
 * The whole input goes through fw_vuln_csaf_parse twice (with the product
 * names "controller" and "gateway" as ours, and with every product name
 * ours) and, NUL-terminated, through fw_vuln_vers_range. On top of the
 * sanitizers it abort()s when the contract of vuln.h breaks: an error
 * outside the documented set; *out written on failure; a message, path or
 * reason with control bytes (they reach terminals); an accepted advisory
 * whose id is not valid, whose range does not parse back to itself, whose
 * fixed_in satisfies its range, whose product is not ours; more items or
 * unmapped entries than the caps; a mapped vers range that does not parse
 * as a range of ours.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vuln/vuln.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: csaf contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#define MAX_INPUT (256 * 1024)

static void check_text(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void run(const uint8_t *data, size_t size, const char *const *known, size_t nknown)
{
	static const struct fw_vuln_csaf_item sentinel;
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};
	struct fw_range r;
	char again[FW_RANGE_MAX + 1];
	size_t i, k;
	int rc;

	fw_vuln_csaf_init(&c);
	c.n = 7; /* must stay as it is on failure */
	rc = fw_vuln_csaf_parse(data, size, known, nknown, &c, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE || rc == FW_E_NOMEM);
	if (rc != FW_OK) {
		CHECK(c.n == 7 && c.items == NULL && c.unmapped == NULL);
		CHECK(d.msg[0] != '\0');
		check_text(d.msg);
		return;
	}
	CHECK(c.n <= FW_VULN_CSAF_MAX_ADVISORIES && c.nunmapped <= FW_VULN_CSAF_MAX_UNMAPPED);
	CHECK(c.size == size && c.tracking_id[0] != '\0');
	for (i = 0; i < c.nunmapped; i++) {
		CHECK(c.unmapped[i].path[0] != '\0' && c.unmapped[i].why[0] != '\0');
		check_text(c.unmapped[i].path);
		check_text(c.unmapped[i].why);
	}
	for (i = 0; i < c.n; i++) {
		const struct fw_vuln_advisory *a = &c.items[i].a;

		CHECK(fw_advisory_id_valid(a->id));
		CHECK(c.items[i].idx == sentinel.idx && !c.items[i].existed);
		CHECK(a->severity >= FW_VULN_LOW && a->severity <= FW_VULN_CRITICAL);
		CHECK(a->cvss[0] == '\0' || fw_vuln_cvss_check(a->cvss, NULL, NULL) == FW_OK);
		CHECK(fw_range_parse(a->affected_text, &r, NULL) == FW_OK);
		fw_range_format(&r, again, sizeof(again));
		CHECK(strcmp(again, a->affected_text) == 0);
		if (a->has_fixed)
			CHECK(!fw_range_match(&r, &a->fixed));
		if (known) {
			for (k = 0; k < nknown; k++)
				if (strcmp(known[k], a->product) == 0)
					break;
			CHECK(k < nknown);
		}
		for (k = 0; k < i; k++)
			CHECK(strcmp(c.items[k].a.id, a->id) != 0);
	}
	fw_vuln_csaf_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = {"controller", "gateway"};
	struct fw_diag d = {{0}};
	struct fw_range r;
	char out[FW_RANGE_MAX + 1], *buf;
	int rc;

	if (size > MAX_INPUT)
		return 0;
	run(data, size, known, 2);
	run(data, size, NULL, 0);

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	strcpy(out, "untouched");
	rc = fw_vuln_vers_range(buf, out, sizeof(out), &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT);
	if (rc == FW_OK) {
		CHECK(fw_range_parse(out, &r, NULL) == FW_OK);
	} else {
		CHECK(strcmp(out, "untouched") == 0);
		check_text(d.msg);
	}
	free(buf);
	return 0;
}
