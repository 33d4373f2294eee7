/*
 * mkfleet: writes a sample fleet for the demo and the end-to-end tests.
 * Not part of fwtrust: a test tool that makes certificates with
 * tests/lib/certgen.
 *
 *   mkfleet DIR [N]            (N devices, default 300, at least 100)
 *
 * Writes into DIR (which must exist):
 *   ca.pem          the device-identity CA (trust it with 'fwtrust ca add')
 *   other-ca.pem    a CA fwtrust is not told about
 *   crl.pem         a CRL of ca.pem revoking the "revoked" devices
 *   devices.csv     the fleet; certificates as relative paths certs/<id>.pem,
 *                   except every tenth, which is inline PEM
 *   certs/<id>.pem
 *   expected.txt    "<device> <reason>[,<reason>...]" per device: what
 *                   eligibility must say for a release 2.4.1 of product
 *                   controller, family ctl-a, hardware revisions B and C, upgrading
 *                   '>=2.0.0 <2.4.1', targeted at no cohort
 *
 * The fleet, by device number i (ids ctl-a-00000 ...):
 *   most             active, valid certificate, firmware 2.0.0..2.4.0: eligible
 *   i % 50 == 1      firmware 1.9.3                       version.out_of_range
 *   i % 50 == 2      firmware 2.4.1                       version.already_installed
 *   i % 50 == 3      firmware 2.5.0                       version.newer (and out of range)
 *   i % 50 == 4      certificate expired                  cert.expired
 *   i % 50 == 5      certificate not valid yet            cert.not_yet_valid
 *   i % 50 == 6      certificate revoked by crl.pem       cert.revoked
 *   i % 50 == 7      certificate by other-ca.pem          cert.untrusted_issuer
 *   i % 50 == 8      no certificate                       cert.missing
 *   i % 50 == 9      certificate names another device     identity.mismatch
 *   i % 50 == 10     quarantined                          lifecycle.quarantined
 *   i % 50 == 11     support ended 2025-06-30             support.ended
 *   i % 50 == 12     provisioned                          lifecycle.provisioned
 *   i % 50 == 13     hardware revision A                  target.hw_revision
 *   i % 50 == 14     family ctl-a-legacy                   target.family
 * Cohorts: "eu" for even i, "us" for odd; "beta" too when i % 10 == 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certgen.h"

#define DAY 86400L

static void die(const char *what)
{
	fprintf(stderr, "mkfleet: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

int main(int argc, char **argv)
{
	struct certgen_ca *ca, *other;
	const char *dir;
	long n = 300, i, *revoked;
	size_t nrev = 0;
	char path[4096], *pem;
	FILE *csv, *exp;

	if (argc < 2 || argc > 3 || (argc == 3 && (n = strtol(argv[2], NULL, 10)) < 100) ||
	    n > 100000) {
		fprintf(stderr, "usage: mkfleet DIR [N]   (100 <= N <= 100000)\n");
		return 2;
	}
	dir = argv[1];
	revoked = malloc(sizeof(*revoked) * (size_t)(n / 50 + 1));
	if (revoked == NULL)
		die("malloc");
	snprintf(path, sizeof(path), "%s/certs", dir);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	ca = certgen_root("Example Devices Identity CA", -400 * DAY, 3650 * DAY);
	other = certgen_root("Someone Else's CA", -400 * DAY, 3650 * DAY);
	pem = certgen_ca_pem(ca);
	write_file(dir, "ca.pem", pem);
	free(pem);
	pem = certgen_ca_pem(other);
	write_file(dir, "other-ca.pem", pem);
	free(pem);

	snprintf(path, sizeof(path), "%s/devices.csv", dir);
	csv = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	exp = fopen(path, "w");
	if (csv == NULL || exp == NULL)
		die(path);
	fprintf(csv, "device_id,product,family,hw_revision,fw_version,cohorts,support_until,"
	             "lifecycle,certificate\n");
	for (i = 0; i < n; i++) {
		static const char *const versions[] = {"2.0.0", "2.1.0", "2.2.3", "2.3.1",
		                                       "2.4.0", "2.4.1-rc.2"};
		char id[32], other_id[32], cohorts[32], cert_name[64];
		const char *version = versions[i % 6], *family = "ctl-a", *hw = i % 2 ? "B" : "C";
		const char *lifecycle = "active", *support = "2034-12-31", *reason = "";
		const char *cn;
		long k = i % 50, nb = -30 * DAY, na = 730 * DAY;
		struct certgen_ca *issuer = ca;
		int has_cert = 1;

		snprintf(id, sizeof(id), "ctl-a-%05ld", i);
		snprintf(other_id, sizeof(other_id), "ctl-a-%05ld", i + 1);
		cn = id;
		snprintf(cohorts, sizeof(cohorts), "%s%s", i % 2 ? "us" : "eu",
		         i % 10 == 0 ? ";beta" : "");
		switch (k) {
		case 1: version = "1.9.3"; reason = "version.out_of_range"; break;
		case 2: version = "2.4.1"; reason = "version.out_of_range,version.already_installed"; break;
		case 3: version = "2.5.0"; reason = "version.out_of_range,version.newer"; break;
		case 4: nb = -800 * DAY; na = -10 * DAY; reason = "cert.expired"; break;
		case 5: nb = 20 * DAY; reason = "cert.not_yet_valid"; break;
		case 6: revoked[nrev++] = 1000 + i; reason = "cert.revoked"; break;
		case 7: issuer = other; reason = "cert.untrusted_issuer"; break;
		case 8: has_cert = 0; reason = "cert.missing"; break;
		case 9: cn = other_id; reason = "identity.mismatch"; break;
		case 10: lifecycle = "quarantined"; reason = "lifecycle.quarantined"; break;
		case 11: support = "2025-06-30"; reason = "support.ended"; break;
		case 12: lifecycle = "provisioned"; reason = "lifecycle.provisioned"; break;
		case 13: hw = "A"; reason = "target.hw_revision"; break;
		case 14: family = "ctl-a-legacy"; reason = "target.family"; break;
		default: break;
		}
		fprintf(exp, "%s %s\n", id, reason[0] ? reason : "eligible");
		fprintf(csv, "%s,controller,%s,%s,%s,%s,%s,%s,", id, family, hw, version, cohorts, support,
		        lifecycle);
		if (has_cert) {
			pem = certgen_leaf(issuer, cn, NULL, 1000 + i, nb, na);
			if (i % 10 == 3) {
				fprintf(csv, "\"%s\"", pem); /* inline, a quoted multi-line field */
			} else {
				snprintf(cert_name, sizeof(cert_name), "certs/%s.pem", id);
				write_file(dir, cert_name, pem);
				fprintf(csv, "%s", cert_name);
			}
			free(pem);
		}
		fprintf(csv, "\n");
	}
	if (fclose(csv) != 0 || fclose(exp) != 0)
		die("closing files");
	pem = certgen_crl(ca, revoked, nrev, 1);
	free(revoked);
	write_file(dir, "crl.pem", pem);
	free(pem);
	certgen_ca_free(ca);
	certgen_ca_free(other);
	return 0;
}
