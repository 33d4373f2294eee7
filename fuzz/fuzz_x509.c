/*
 * libFuzzer target for the X.509 certificate and CRL parsers
 * (src/crypto/x509.c).
 *
 * The input is untrusted bytes, given as is to fw_cert_from_pem,
 * fw_cert_from_der, fw_cert_bundle_from_pem and fw_crl_parse (which takes
 * PEM or DER). Every parsed object goes through its getters: a certificate's
 * info, fw_cert_names, DER and PEM export and re-parse of both, and
 * fw_cert_verify_chain against fixed anchors (the CA below); the
 * certificates of a bundle are also made anchors of their own and each is
 * verified against them. A CRL's info and every revoked serial are read,
 * and fw_crl_verify is called with the fixed CA.
 *
 * On top of the sanitizers it abort()s when the crypto.h contract breaks:
 * an error code outside the documented set, FW_E_NOMEM (nothing runs out
 * of memory here, so it would mislabel a bad input), an out-param written
 * on failure, a diagnostic that is empty or not one line of printable
 * ASCII; info that disagrees with OpenSSL's own reading of the same bytes
 * (SHA-256 of the DER, name hashes, times, serials, entry count), a serial
 * that is not lower-case hex without leading zeros, display names that are
 * not printable ASCII, a subject CN the certificate does not name; an
 * exported DER that differs from the parsed one or re-parses to another
 * certificate, a PEM export that does not parse back to the same DER;
 * fw_cert_from_pem and a one-certificate bundle disagreeing; a verified
 * chain whose issuer is not an anchor or whose window is not the
 * intersection of the leaf's and that anchor's; fw_crl_verify disagreeing
 * with X509_CRL_verify on the signature.
 *
 * The fixed CA: EC P-256, self-signed, basicConstraints CA:TRUE (critical),
 * keyUsage keyCertSign+cRLSign, valid 2026-2126, made once with the openssl
 * CLI. Its key was not kept: the corpus seeds it signed (most cert-*,
 * bundle-* and crl-* files) were made with it at the same time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: x509 contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* The documented errors of the parsers. FW_E_NOMEM is one of them, but
 * inputs here are small and malloc does not fail: x509.c reporting it
 * would mean a bad input labelled "out of memory". */
#define PARSE_RC_OK(rc) \
	((rc) == FW_OK || (rc) == FW_E_FORMAT || (rc) == FW_E_TOO_LARGE || (rc) == FW_E_NOMEM)
#define NO_OOM(rc) CHECK((rc) != FW_E_NOMEM)

static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBtjCCAVygAwIBAgIBATAKBggqhkjOPQQDAjAxMRUwEwYDVQQKDAxmd3RydXN0\n"
	"LWZ1enoxGDAWBgNVBAMMD2Z3dHJ1c3QgZnV6eiBDQTAgFw0yNjExMjYwODA4MDda\n"
	"GA8yMTI2MTEwMjA4MDgwN1owMTEVMBMGA1UECgwMZnd0cnVzdC1mdXp6MRgwFgYD\n"
	"VQQDDA9md3RydXN0IGZ1enogQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARE\n"
	"djC+GOXdR7hHOFOqxeSABuGHvL5OhAj1eOCsHHnIbcdoI+H5skAsFcBL5pEgYI51\n"
	"v0Kox+DRl7goOAIX6CEao2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE\n"
	"AwIBBjAdBgNVHQ4EFgQUbOj4yWMzMxuptyunnqd16/6G2fMwHwYDVR0jBBgwFoAU\n"
	"bOj4yWMzMxuptyunnqd16/6G2fMwCgYIKoZIzj0EAwIDSAAwRQIhAIulri9Xu7wl\n"
	"owxhw3NsxsUmurYJY1lEIt0pcz5sVmMBAiBuoXg8dpdnku2e9ScChju7Mq64ZE9o\n"
	"6NHbbvfP4neRTQ==\n"
	"-----END CERTIFICATE-----\n";

static struct fw_cert *ca;
static struct fw_cert_info ca_info;
static struct fw_cert_anchors *anchors;
static EVP_PKEY *ca_key;   /* OpenSSL's own reading of the CA, for X509_CRL_verify */
static ASN1_TIME *epoch;   /* 1970-01-01T00:00:00Z */

/* Out-params are preset to these and must still hold them after a failure. */
#define SENTINEL_CERT ((struct fw_cert *)(uintptr_t)0x5c5c5c5c)
#define SENTINEL_VEC ((struct fw_cert **)(uintptr_t)0x5c5c5c5c)
#define SENTINEL_CRL ((struct fw_crl *)(uintptr_t)0x5c5c5c5c)
#define SENTINEL_N ((size_t)0x5c5c5c5c)
#define SENTINEL_T ((int64_t)0x5c5c5c5c5c5c5c5cll)

static void setup(void)
{
	struct fw_diag d;
	BIO *b;
	X509 *x;

	if (ca != NULL)
		return;
	CHECK(fw_cert_from_pem(ca_pem, strlen(ca_pem), &ca, &d) == FW_OK);
	fw_cert_get_info(ca, &ca_info);
	CHECK(ca_info.is_ca);
	CHECK(fw_cert_anchors_new(&anchors, &d) == FW_OK);
	CHECK(fw_cert_anchors_add(anchors, ca, &d) == FW_OK);
	CHECK(fw_cert_anchors_add(anchors, ca, &d) == FW_OK); /* a no-op */
	b = BIO_new_mem_buf(ca_pem, -1);
	CHECK(b != NULL);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	CHECK(x != NULL);
	ca_key = X509_get_pubkey(x);
	CHECK(ca_key != NULL);
	X509_free(x);
	BIO_free(b);
	epoch = ASN1_TIME_set(NULL, 0);
	CHECK(epoch != NULL);
}

/* ---- helpers ---- */

static void sha256(const void *p, size_t len, uint8_t out[32])
{
	CHECK(EVP_Digest(p, len, out, NULL, EVP_sha256(), NULL) == 1);
}

/* NUL within cap, every byte printable ASCII */
static int ascii_line(const char *s, size_t cap)
{
	size_t i;

	for (i = 0; i < cap && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i < cap;
}

/* a failure fills d with one line (d is not promised to be written on success) */
static void check_diag(int rc, const struct fw_diag *d)
{
	if (rc != FW_OK)
		CHECK(d->msg[0] != '\0' && ascii_line(d->msg, sizeof(d->msg)));
}

/* lower-case hex, no leading zeros ("0" for zero), at most 20 octets */
static int serial_ok(const char *s)
{
	const char *end = memchr(s, '\0', FW_SERIAL_HEX_MAX);
	size_t n, i;

	if (end == NULL || end == s)
		return 0;
	n = (size_t)(end - s);
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[0] != '0' || n == 1;
}

/* The same serial as OpenSSL's BIGNUM reading of the INTEGER. */
static void check_serial_is(const char *s, const ASN1_INTEGER *v)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(v, NULL);
	char *h, *p;
	size_t i;

	CHECK(bn != NULL && !BN_is_negative(bn));
	h = BN_bn2hex(bn);
	CHECK(h != NULL);
	for (p = h; *p == '0' && p[1] != '\0'; p++)
		;
	for (i = 0; p[i] != '\0'; i++)
		p[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a' : p[i]);
	CHECK(strcmp(s, p) == 0);
	OPENSSL_free(h);
	BN_free(bn);
}

/* Unix seconds of t by OpenSSL's own arithmetic (skipped where it has none). */
static void check_time_is(int64_t v, const ASN1_TIME *t)
{
	int day = 0, sec = 0;

	if (t != NULL && ASN1_TIME_diff(&day, &sec, epoch, t) == 1)
		CHECK(v == (int64_t)day * 86400 + sec);
}

static void check_name_hash(const uint8_t h[32], const X509_NAME *n)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(n, &der);
	uint8_t want[32];

	CHECK(len > 0);
	sha256(der, (size_t)len, want);
	CHECK(memcmp(h, want, 32) == 0);
	OPENSSL_free(der);
}

/* ---- certificates ---- */

static int same_info(const struct fw_cert_info *a, const struct fw_cert_info *b)
{
	return memcmp(a->sha256, b->sha256, 32) == 0 &&
	       memcmp(a->issuer_hash, b->issuer_hash, 32) == 0 &&
	       memcmp(a->subject_hash, b->subject_hash, 32) == 0 &&
	       strcmp(a->serial, b->serial) == 0 && strcmp(a->subject_cn, b->subject_cn) == 0 &&
	       strcmp(a->subject, b->subject) == 0 && strcmp(a->issuer, b->issuer) == 0 &&
	       a->not_before == b->not_before && a->not_after == b->not_after &&
	       a->is_ca == b->is_ca;
}

/* The DER export parses back to the same certificate with the same bytes. */
static void check_der_roundtrip(const struct fw_cert *c, const struct fw_cert_info *in,
                                uint8_t **der_out, size_t *len_out)
{
	struct fw_cert *again = SENTINEL_CERT;
	struct fw_cert_info ia;
	struct fw_diag d;
	uint8_t *der = NULL, *der2 = NULL, sha[32];
	size_t len = 0, len2 = 0;
	int rc;

	rc = fw_cert_der(c, &der, &len, &d);
	CHECK(rc == FW_OK);
	CHECK(der != NULL && len > 0);
	sha256(der, len, sha);
	CHECK(memcmp(sha, in->sha256, 32) == 0);
	/* d may be NULL */
	rc = fw_cert_from_der(der, len, &again, NULL);
	if (len > FW_MAX_CERT_PEM) { /* a bundle's certificate may be larger */
		CHECK(rc == FW_E_TOO_LARGE && again == SENTINEL_CERT);
	} else {
		CHECK(rc == FW_OK);
		fw_cert_get_info(again, &ia);
		CHECK(same_info(&ia, in));
		CHECK(fw_cert_der(again, &der2, &len2, &d) == FW_OK);
		CHECK(len2 == len && memcmp(der2, der, len) == 0);
		free(der2);
		fw_cert_free(again);
	}
	*der_out = der;
	*len_out = len;
}

static void check_pem_roundtrip(const struct fw_cert *c, const struct fw_cert_info *in,
                                const uint8_t *der, size_t der_len)
{
	struct fw_cert *again = SENTINEL_CERT;
	struct fw_cert_info ia;
	struct fw_diag d;
	uint8_t *der2 = NULL;
	size_t len2 = 0, plen;
	char *pem = NULL;
	int rc;

	rc = fw_cert_pem(c, &pem, &d);
	CHECK(rc == FW_OK && pem != NULL);
	plen = strlen(pem);
	rc = fw_cert_from_pem(pem, plen, &again, &d);
	check_diag(rc, &d);
	if (plen > FW_MAX_CERT_PEM) {
		CHECK(rc == FW_E_TOO_LARGE && again == SENTINEL_CERT);
	} else {
		CHECK(rc == FW_OK);
		fw_cert_get_info(again, &ia);
		CHECK(same_info(&ia, in));
		CHECK(fw_cert_der(again, &der2, &len2, &d) == FW_OK);
		CHECK(len2 == der_len && memcmp(der2, der, der_len) == 0);
		free(der2);
		fw_cert_free(again);
	}
	free(pem);
}

/* Against the fixed anchors: the chain can only be leaf -> fixed CA. */
static void check_verify_fixed(const struct fw_cert *c, const struct fw_cert_info *in)
{
	int64_t nb = SENTINEL_T, na = SENTINEL_T;
	uint8_t iss[32], unset[32];
	struct fw_diag d;
	int rc;

	memset(iss, 0x5c, sizeof(iss));
	memset(unset, 0x5c, sizeof(unset));
	rc = fw_cert_verify_chain(anchors, c, &nb, &na, iss, &d);
	CHECK(rc == FW_OK || rc == FW_E_VERIFY || rc == FW_E_NOMEM);
	NO_OOM(rc);
	check_diag(rc, &d);
	if (rc != FW_OK) {
		CHECK(nb == SENTINEL_T && na == SENTINEL_T && memcmp(iss, unset, 32) == 0);
		return;
	}
	CHECK(!in->is_ca);
	CHECK(memcmp(iss, ca_info.sha256, 32) == 0);
	CHECK(nb == (in->not_before > ca_info.not_before ? in->not_before : ca_info.not_before));
	CHECK(na == (in->not_after < ca_info.not_after ? in->not_after : ca_info.not_after));
}

/* Everything about one parsed certificate; src/src_len: the exact DER it
 * was parsed from when known (NULL otherwise). */
static void check_cert(const struct fw_cert *c, const uint8_t *src, size_t src_len)
{
	struct fw_cert_info in;
	const unsigned char *q;
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x;

	memset(&in, 0x5c, sizeof(in));
	fw_cert_get_info(c, &in);
	CHECK(serial_ok(in.serial));
	CHECK(memchr(in.subject_cn, '\0', sizeof(in.subject_cn)) != NULL);
	CHECK(in.subject_cn[0] == '\0' || fw_text_valid(in.subject_cn));
	CHECK(ascii_line(in.subject, sizeof(in.subject)));
	CHECK(ascii_line(in.issuer, sizeof(in.issuer)));
	CHECK(in.is_ca == 0 || in.is_ca == 1);

	/* names */
	CHECK(fw_cert_names(c, NULL) == 0);
	CHECK(fw_cert_names(c, "") == 0);
	if (in.subject_cn[0] != '\0')
		CHECK(fw_cert_names(c, in.subject_cn) == 1);
	CHECK((fw_cert_names(c, "dev-1") & ~1) == 0);
	CHECK((fw_cert_names(c, "dev-1.example") & ~1) == 0);
	CHECK((fw_cert_names(c, "urn:fwtrust:dev-1") & ~1) == 0);

	check_der_roundtrip(c, &in, &der, &len);
	if (src != NULL)
		CHECK(len == src_len && memcmp(der, src, len) == 0);
	check_pem_roundtrip(c, &in, der, len);

	/* OpenSSL's reading of the same DER */
	q = der;
	x = d2i_X509(NULL, &q, (long)len);
	CHECK(x != NULL && q == der + len);
	check_name_hash(in.issuer_hash, X509_get_issuer_name(x));
	check_name_hash(in.subject_hash, X509_get_subject_name(x));
	check_serial_is(in.serial, X509_get0_serialNumber(x));
	check_time_is(in.not_before, X509_get0_notBefore(x));
	check_time_is(in.not_after, X509_get0_notAfter(x));
	X509_free(x);
	free(der);

	check_verify_fixed(c, &in);
}

/* The certificates of a bundle as anchors of their own: each one verified
 * against them ends at one of them, and the window is the intersection. */
static void check_bundle_anchors(struct fw_cert **v, size_t n)
{
	struct fw_cert_info in[4], li;
	struct fw_cert_anchors *a = NULL;
	struct fw_diag d;
	size_t i, j, k, m = n < 4 ? n : 4;
	int rc;

	CHECK(fw_cert_anchors_new(&a, &d) == FW_OK);
	for (i = 0; i < m; i++) {
		fw_cert_get_info(v[i], &in[i]);
		rc = fw_cert_anchors_add(a, v[i], &d);
		CHECK(rc == FW_OK || rc == FW_E_VERIFY || rc == FW_E_NOMEM || rc == FW_E_CRYPTO);
		NO_OOM(rc);
		check_diag(rc, &d);
		if (!in[i].is_ca)
			CHECK(rc == FW_E_VERIFY);
	}
	for (i = 0; i < m; i++) {
		int64_t nb = SENTINEL_T, na = SENTINEL_T;
		uint8_t iss[32];

		memset(iss, 0x5c, sizeof(iss));
		li = in[i];
		rc = fw_cert_verify_chain(a, v[i], &nb, &na, iss, &d);
		CHECK(rc == FW_OK || rc == FW_E_VERIFY || rc == FW_E_NOMEM);
		NO_OOM(rc);
		check_diag(rc, &d);
		if (rc != FW_OK) {
			CHECK(nb == SENTINEL_T && na == SENTINEL_T);
			for (k = 0; k < 32; k++)
				CHECK(iss[k] == 0x5c);
			continue;
		}
		CHECK(!li.is_ca);
		for (j = 0; j < m; j++)
			if (in[j].is_ca && memcmp(iss, in[j].sha256, 32) == 0)
				break;
		CHECK(j < m);
		CHECK(nb == (li.not_before > in[j].not_before ? li.not_before : in[j].not_before));
		CHECK(na == (li.not_after < in[j].not_after ? li.not_after : in[j].not_after));
	}
	fw_cert_anchors_free(a);
}

/* ---- CRLs ---- */

static void check_crl(const struct fw_crl *c, const uint8_t *data, size_t size)
{
	struct fw_cert *cas[3];
	struct fw_crl_info in;
	char serial[FW_SERIAL_HEX_MAX];
	STACK_OF(X509_REVOKED) *rev;
	X509_CRL *x = NULL;
	struct fw_diag d;
	unsigned char *der = NULL;
	const unsigned char *q;
	uint8_t sha[32];
	size_t i;
	int len, rc, rc2, sig, is_der = size > 0 && data[0] == 0x30;

	memset(&in, 0x5c, sizeof(in));
	fw_crl_get_info(c, &in);
	CHECK(ascii_line(in.issuer, sizeof(in.issuer)));
	CHECK(in.number[0] == '\0' || serial_ok(in.number));

	/* OpenSSL's reading of the same bytes. Its PEM reader is laxer than
	 * ours inside a block, but wants BEGIN at the start of a line: the
	 * whitespace fw_crl_parse allows before it is skipped. */
	if (is_der) {
		q = data;
		x = d2i_X509_CRL(NULL, &q, (long)size);
	} else {
		size_t ws = 0;
		BIO *b;

		while (ws < size && (data[ws] == ' ' || data[ws] == '\t' || data[ws] == '\r' ||
		                     data[ws] == '\n'))
			ws++;
		b = BIO_new_mem_buf(data + ws, (int)(size - ws));

		CHECK(b != NULL);
		x = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	CHECK(x != NULL);
	len = i2d_X509_CRL(x, &der);
	CHECK(len > 0);
	sha256(der, (size_t)len, sha);
	CHECK(memcmp(sha, in.sha256, 32) == 0);
	if (is_der)
		CHECK((size_t)len == size && memcmp(der, data, size) == 0);
	OPENSSL_free(der);
	check_name_hash(in.issuer_hash, X509_CRL_get_issuer(x));
	check_time_is(in.this_update, X509_CRL_get0_lastUpdate(x));
	if (X509_CRL_get0_nextUpdate(x) == NULL)
		CHECK(in.next_update == 0);
	else
		check_time_is(in.next_update, X509_CRL_get0_nextUpdate(x));
	rev = X509_CRL_get_REVOKED(x);
	CHECK(in.revoked == (rev ? (size_t)sk_X509_REVOKED_num(rev) : 0));

	/* every serial, in the CRL's order */
	for (i = 0; i < in.revoked; i++) {
		memset(serial, 'Z', sizeof(serial));
		rc = fw_crl_serial(c, i, serial);
		CHECK(rc == FW_OK);
		CHECK(serial_ok(serial));
		check_serial_is(serial, X509_REVOKED_get0_serialNumber(
		                                sk_X509_REVOKED_value(rev, (int)i)));
	}
	memset(serial, 'Z', sizeof(serial));
	CHECK(fw_crl_serial(c, in.revoked, serial) == FW_E_ARG);
	CHECK(fw_crl_serial(c, in.revoked + 1000, serial) == FW_E_ARG);
	for (i = 0; i < sizeof(serial); i++)
		CHECK(serial[i] == 'Z');

	/* the fixed CA: the signature as OpenSSL judges it */
	cas[0] = ca;
	rc = fw_crl_verify(c, cas, 1, &d);
	CHECK(rc == FW_OK || rc == FW_E_SIGNATURE || rc == FW_E_VERIFY);
	check_diag(rc, &d);
	if (memcmp(in.issuer_hash, ca_info.subject_hash, 32) != 0) {
		CHECK(rc == FW_E_SIGNATURE);
	} else {
		sig = X509_CRL_verify(x, ca_key) == 1;
		CHECK(sig == (rc != FW_E_SIGNATURE));
	}
	/* NULL entries are skipped; no CA at all is no signature */
	cas[0] = NULL;
	cas[1] = ca;
	cas[2] = NULL;
	rc2 = fw_crl_verify(c, cas, 3, NULL);
	CHECK(rc2 == rc);
	rc2 = fw_crl_verify(c, cas, 0, &d);
	CHECK(rc2 == FW_E_SIGNATURE);
	check_diag(rc2, &d);
	X509_CRL_free(x);
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct fw_cert *c = SENTINEL_CERT, *c1 = SENTINEL_CERT;
	struct fw_cert **v = SENTINEL_VEC;
	struct fw_crl *crl = SENTINEL_CRL;
	struct fw_cert_info ci, bi;
	struct fw_diag d;
	size_t n = SENTINEL_N, i;
	int rc, rc_pem, rc_bundle;

	setup();

	/* one PEM certificate */
	rc_pem = fw_cert_from_pem(text, size, &c1, &d);
	CHECK(PARSE_RC_OK(rc_pem));
	NO_OOM(rc_pem);
	check_diag(rc_pem, &d);
	CHECK((rc_pem == FW_E_TOO_LARGE) == (size > FW_MAX_CERT_PEM));
	if (rc_pem != FW_OK)
		CHECK(c1 == SENTINEL_CERT);
	else
		check_cert(c1, NULL, 0);

	/* a PEM bundle: one certificate is the same as fw_cert_from_pem */
	rc_bundle = fw_cert_bundle_from_pem(text, size, &v, &n, &d);
	CHECK(PARSE_RC_OK(rc_bundle));
	NO_OOM(rc_bundle);
	check_diag(rc_bundle, &d);
	CHECK((rc_bundle == FW_E_TOO_LARGE) == (size > FW_MAX_CA_FILE));
	if (rc_bundle != FW_OK) {
		CHECK(v == SENTINEL_VEC && n == SENTINEL_N);
		if (size <= FW_MAX_CERT_PEM)
			CHECK(rc_pem != FW_OK);
	} else {
		CHECK(n >= 1 && v != NULL);
		if (size <= FW_MAX_CERT_PEM)
			CHECK((n == 1) == (rc_pem == FW_OK));
		if (rc_pem == FW_OK) {
			fw_cert_get_info(c1, &ci);
			fw_cert_get_info(v[0], &bi);
			CHECK(same_info(&ci, &bi));
		}
		for (i = 0; i < n; i++)
			check_cert(v[i], NULL, 0);
		if (n >= 2)
			check_bundle_anchors(v, n);
		fw_cert_bundle_free(v, n);
	}
	if (rc_pem == FW_OK)
		fw_cert_free(c1);

	/* one DER certificate: exports exactly the input */
	rc = fw_cert_from_der(data, size, &c, &d);
	CHECK(PARSE_RC_OK(rc));
	NO_OOM(rc);
	check_diag(rc, &d);
	CHECK((rc == FW_E_TOO_LARGE) == (size > FW_MAX_CERT_PEM));
	if (rc != FW_OK) {
		CHECK(c == SENTINEL_CERT);
	} else {
		CHECK(rc_pem != FW_OK); /* not both */
		check_cert(c, data, size);
		fw_cert_free(c);
	}

	/* a CRL, PEM or DER */
	rc = fw_crl_parse(data, size, &crl, &d);
	CHECK(PARSE_RC_OK(rc));
	NO_OOM(rc);
	check_diag(rc, &d);
	CHECK((rc == FW_E_TOO_LARGE) == (size > FW_MAX_CA_FILE));
	if (rc != FW_OK) {
		CHECK(crl == SENTINEL_CRL);
	} else {
		CHECK(rc_pem != FW_OK && rc_bundle != FW_OK);
		check_crl(crl, data, size);
		fw_crl_free(crl);
	}
	return 0;
}
