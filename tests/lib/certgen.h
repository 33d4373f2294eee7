/*
 * Test-only X.509 factory on OpenSSL: CAs, device leaves and CRLs with
 * chosen names, serials and validity windows, EC P-256 throughout (fast).
 * Test code: any OpenSSL failure prints the error and aborts. Offsets are
 * seconds relative to now. Returned strings are malloc'd: free(). Every
 * subject is O=fwtrust-test plus CN=<cn>; CAs carry basicConstraints
 * CA:TRUE and keyUsage keyCertSign+cRLSign, leaves CA:FALSE.
 */
#ifndef FW_TEST_CERTGEN_H
#define FW_TEST_CERTGEN_H

#include <stddef.h>

struct certgen_ca;  /* a CA key + certificate */

/* self-signed root (EC P-256 key), validity [now+nb_off, now+na_off] seconds */
struct certgen_ca *certgen_root(const char *cn, long nb_off, long na_off);
/* intermediate CA signed by parent */
struct certgen_ca *certgen_intermediate(struct certgen_ca *parent, const char *cn, long nb_off,
                                        long na_off);
/* leaf signed by ca: subject CN = cn (NULL: no CN), optional SAN dNSName san (NULL: none);
 * serial given; returns malloc'd PEM. A fresh P-256 key each time (not returned). */
char *certgen_leaf(struct certgen_ca *ca, const char *cn, const char *san_dns, long serial,
                   long nb_off, long na_off);
/* CA certificate PEM (malloc'd) */
char *certgen_ca_pem(struct certgen_ca *ca);
/* CRL by ca revoking the given serials, thisUpdate now, nextUpdate now+7d, cRLNumber
 * number; malloc'd PEM. Entries sorted by serial (X509_CRL_sort). */
char *certgen_crl(struct certgen_ca *ca, const long *serials, size_t n, long number);
void certgen_ca_free(struct certgen_ca *ca); /* NULL ok */

/* Everything certgen_leaf does, and more. Zeroed fields mean "as certgen_leaf". */
struct certgen_leaf_opts {
	const char *cn;        /* NULL: no CN (the subject keeps O=fwtrust-test) */
	const char *san_dns;   /* NULL: none */
	const char *san_uri;   /* NULL: none */
	long serial;
	const char *serial_hex; /* overrides serial: any hex, "-" prefix for negative */
	long nb_off, na_off;
	const char *not_before, *not_after; /* override offsets: "YYYYMMDDHHMMSSZ" */
	int ca;                 /* basicConstraints CA:TRUE */
};
char *certgen_leaf_ex(struct certgen_ca *ca, const struct certgen_leaf_opts *o);

/* CRL variants certgen_crl cannot make (flags may be combined). */
#define CERTGEN_CRL_DELTA 1u         /* deltaCRLIndicator (critical) */
#define CERTGEN_CRL_CRIT_UNKNOWN 2u  /* a critical extension of a private OID */
#define CERTGEN_CRL_ENTRY_CRIT 4u    /* first entry: critical certificateIssuer (indirect CRL) */
#define CERTGEN_CRL_NO_NUMBER 8u     /* no cRLNumber, no nextUpdate */
char *certgen_crl_ex(struct certgen_ca *ca, const long *serials, size_t n, long number,
                     unsigned flags);

#endif
