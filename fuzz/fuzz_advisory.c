/*
 * libFuzzer target for advisories (src/vuln/advisory.c): the CVSS v3.x
 * vector checker and the validation of every field of `vuln add`.
 *
 * The whole input (NUL-terminated) goes through fw_vuln_cvss_check; then it
 * is split at '\n' into id, title, severity, cvss, product, family,
 * affected, fixed_in and CVE ids (an empty cvss, family or fixed_in line
 * means absent) for fw_vuln_advisory_parse. On top of the sanitizers it
 * abort()s when the contract of vuln.h breaks: an error outside the
 * documented set; *out written on failure; a message with bytes that are
 * not printable ASCII or UTF-8 (it reaches terminals); an accepted
 * advisory whose fixed_in satisfies its range, whose canonical range does
 * not parse back to itself, whose CVEs are not sorted and unique, or whose
 * CVSS vector fails the checker.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vuln/vuln.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: advisory contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                      \
			abort();                                                 \
		}                                                                \
	} while (0)

#define MAX_INPUT 8192
#define UNSET 0x5c

static void check_msg(const struct fw_diag *d)
{
	size_t i;

	CHECK(d->msg[0] != '\0');
	for (i = 0; d->msg[i] != '\0'; i++)
		CHECK((unsigned char)d->msg[i] >= 0x20 && d->msg[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_vuln_advisory a, untouched;
	const char *cves[FW_VULN_MAX_CVES + 1];
	const char *f[8] = {0};
	struct fw_vuln_input in = {0};
	struct fw_diag d = {{0}};
	struct fw_range r;
	char *buf, *p, again[FW_RANGE_MAX + 1];
	size_t nf = 0, nc = 0, i;
	int rc, minor = 7;

	if (size > MAX_INPUT)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	rc = fw_vuln_cvss_check(buf, &minor, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE);
	if (rc == FW_OK)
		CHECK(minor == 0 || minor == 1);
	else
		CHECK(minor == 7);

	for (p = buf; p != NULL;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (nf < 8)
			f[nf++] = p;
		else if (nc <= FW_VULN_MAX_CVES)
			cves[nc++] = p;
		p = nl ? nl + 1 : NULL;
	}
	in.id = f[0];
	in.title = f[1];
	in.severity = f[2];
	in.cvss = f[3] && f[3][0] ? f[3] : NULL;
	in.product = f[4];
	in.family = f[5] && f[5][0] ? f[5] : NULL;
	in.affected = f[6];
	in.fixed_in = f[7] && f[7][0] ? f[7] : NULL;
	in.cves = cves;
	in.ncves = nc;

	memset(&a, UNSET, sizeof(a));
	memset(&untouched, UNSET, sizeof(untouched));
	memset(&d, 0, sizeof(d));
	rc = fw_vuln_advisory_parse(&in, &a, &d);
	CHECK(rc == FW_OK || rc == FW_E_ARG || rc == FW_E_NOMEM);
	if (rc != FW_OK) {
		CHECK(memcmp(&a, &untouched, sizeof(a)) == 0);
		check_msg(&d);
		free(buf);
		return 0;
	}
	CHECK(fw_advisory_id_valid(a.id));
	CHECK(a.severity >= FW_VULN_LOW && a.severity <= FW_VULN_CRITICAL);
	CHECK(a.cvss[0] == '\0' || fw_vuln_cvss_check(a.cvss, NULL, NULL) == FW_OK);
	CHECK(fw_range_parse(a.affected_text, &r, NULL) == FW_OK);
	fw_range_format(&r, again, sizeof(again));
	CHECK(strcmp(again, a.affected_text) == 0);
	if (a.has_fixed)
		CHECK(!fw_range_match(&a.affected, &a.fixed) && !fw_range_match(&r, &a.fixed));
	CHECK(a.ncves == nc);
	for (i = 0; i < a.ncves; i++) {
		CHECK(fw_vuln_cve_valid(a.cves[i]));
		if (i)
			CHECK(strcmp(a.cves[i - 1], a.cves[i]) < 0);
	}
	free(buf);
	return 0;
}
