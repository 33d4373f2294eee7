#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certgen.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "harness.h"

#define DAY 86400L

/* Parse PEM (takes and frees it); NULL with a failed check otherwise. */
static struct fw_cert *take(char *pem)
{
	struct fw_cert *c = NULL;
	struct fw_diag d = {{0}};
	int rc = fw_cert_from_pem(pem, strlen(pem), &c, &d);

	if (rc != FW_OK)
		harness_fail(__FILE__, __LINE__, "fw_cert_from_pem: %s", d.msg);
	free(pem);
	return c;
}

static struct fw_cert *ca_cert(struct certgen_ca *ca)
{
	return take(certgen_ca_pem(ca));
}

static struct fw_cert_anchors *anchors_of(struct fw_cert *const *cas, size_t n)
{
	struct fw_cert_anchors *a = NULL;
	size_t i;

	CHECK_EQ(fw_cert_anchors_new(&a, NULL), FW_OK);
	for (i = 0; a != NULL && i < n; i++)
		CHECK_EQ(fw_cert_anchors_add(a, cas[i], NULL), FW_OK);
	return a;
}

static int pem_rc(const char *pem, size_t len, struct fw_diag *d)
{
	struct fw_cert *c = NULL;
	int rc = fw_cert_from_pem(pem, len, &c, d);

	if (rc != FW_OK)
		CHECK(c == NULL);
	fw_cert_free(c);
	return rc;
}

static char *concat(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);

	strcpy(s, a);
	strcat(s, b);
	return s;
}

static uint8_t *der_of(const struct fw_cert *c, size_t *len)
{
	uint8_t *der = NULL;

	*len = 0;
	CHECK_EQ(fw_cert_der(c, &der, len, NULL), FW_OK);
	return der;
}

static void t_pem_der_roundtrip(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	char *pem = certgen_leaf(r, "dev-1", NULL, 42, -3600, DAY);
	struct fw_cert *a = NULL, *b = NULL, *c = NULL;
	struct fw_cert_info ia, ib, ic;
	uint8_t *der = NULL, id[32];
	unsigned int idlen = 32;
	size_t len = 0;
	char *pem2 = NULL, *crlf, *q;
	const char *p;
	BIO *bio;
	X509 *x;

	CHECK_EQ(fw_cert_from_pem(pem, strlen(pem), &a, NULL), FW_OK);
	if (!a)
		goto out;
	fw_cert_get_info(a, &ia);
	der = der_of(a, &len);
	CHECK_EQ(fw_cert_from_der(der, len, &b, NULL), FW_OK);
	CHECK_EQ(fw_cert_pem(a, &pem2, NULL), FW_OK);
	CHECK(pem2 != NULL && strcmp(pem2, pem) == 0);
	if (!b)
		goto out;
	fw_cert_get_info(b, &ib);
	CHECK(memcmp(&ia, &ib, sizeof(ia)) == 0);
	/* the id is SHA-256 of the DER, as OpenSSL computes it independently */
	fw_sha256(der, len, id);
	CHECK(memcmp(ia.sha256, id, 32) == 0);
	bio = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	CHECK(x != NULL && X509_digest(x, EVP_sha256(), id, &idlen) == 1);
	CHECK(memcmp(ia.sha256, id, 32) == 0);
	X509_free(x);
	BIO_free(bio);

	/* CRLF line ends and surrounding whitespace are fine */
	crlf = malloc(2 * strlen(pem) + 8);
	q = crlf;
	*q++ = '\n';
	*q++ = ' ';
	for (p = pem; *p; p++) {
		if (*p == '\n')
			*q++ = '\r';
		*q++ = *p;
	}
	strcpy(q, "\r\n\t \n");
	CHECK_EQ(fw_cert_from_pem(crlf, strlen(crlf), &c, NULL), FW_OK);
	if (c) {
		fw_cert_get_info(c, &ic);
		CHECK(memcmp(ic.sha256, ia.sha256, 32) == 0);
	}
	free(crlf);
out:
	fw_cert_free(a);
	fw_cert_free(b);
	fw_cert_free(c);
	free(der);
	free(pem);
	free(pem2);
	certgen_ca_free(r);
}

static void t_info_fields(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r), *leaf, *nocn;
	struct fw_cert_info ir, il, in;
	time_t t0 = time(NULL), t1;
	uint8_t h[32];
	unsigned char *nder = NULL;
	int nlen;

	leaf = take(certgen_leaf(r, "dev-1", "dev-1.example", 0x1234abcdL, -3600, 30 * DAY));
	t1 = time(NULL);
	nocn = take(certgen_leaf(r, NULL, "dev-2", 7, -3600, DAY));
	if (!root || !leaf || !nocn)
		goto out;
	fw_cert_get_info(root, &ir);
	fw_cert_get_info(leaf, &il);
	fw_cert_get_info(nocn, &in);
	CHECK(strcmp(il.serial, "1234abcd") == 0);
	CHECK(strcmp(in.serial, "7") == 0);
	CHECK(strcmp(il.subject_cn, "dev-1") == 0);
	CHECK(strcmp(in.subject_cn, "") == 0);
	CHECK(strcmp(ir.subject_cn, "Test Root") == 0);
	CHECK(strcmp(il.subject, "CN=dev-1,O=fwtrust-test") == 0);
	CHECK(strcmp(il.issuer, "CN=Test Root,O=fwtrust-test") == 0);
	CHECK(strcmp(in.subject, "O=fwtrust-test") == 0);
	CHECK(il.not_before >= (int64_t)t0 - 3600 && il.not_before <= (int64_t)t1 - 3600);
	CHECK(il.not_after >= (int64_t)t0 + 30 * DAY && il.not_after <= (int64_t)t1 + 30 * DAY);
	CHECK_EQ(il.is_ca, 0);
	CHECK_EQ(ir.is_ca, 1);
	/* issuer of the leaf = subject of the root; a root is its own issuer */
	CHECK(memcmp(il.issuer_hash, ir.subject_hash, 32) == 0);
	CHECK(memcmp(ir.issuer_hash, ir.subject_hash, 32) == 0);
	CHECK(memcmp(il.subject_hash, il.issuer_hash, 32) != 0);
	/* SHA-256 of the DER Name, computed here with OpenSSL's encoder */
	{
		uint8_t *der;
		size_t len;
		const unsigned char *p;
		X509 *x;

		der = der_of(leaf, &len);
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		CHECK(x != NULL);
		if (x) {
			nlen = i2d_X509_NAME(X509_get_subject_name(x), &nder);
			CHECK(nlen > 0);
			fw_sha256(nder, (size_t)nlen, h);
			CHECK(memcmp(il.subject_hash, h, 32) == 0);
			OPENSSL_free(nder);
		}
		X509_free(x);
		free(der);
	}
out:
	fw_cert_free(root);
	fw_cert_free(leaf);
	fw_cert_free(nocn);
	certgen_ca_free(r);
}

static void t_serial_forms(void)
{
	static const struct {
		const char *hex, *want; /* want NULL: refused */
	} v[] = {
		{"0", "0"},
		{"0F", "f"},
		{"00ab", "ab"},
		{"7fffffffffffffffffffffffffffffffffffffff", "7fffffffffffffffffffffffffffffffffffffff"},
		/* 20 octets of magnitude, high bit set: 21 content octets, still accepted */
		{"ffffffffffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffffffffffff"},
		{"10000000000000000000000000000000000000000", NULL}, /* 21 octets */
		{"-5", NULL},
	};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certgen_leaf_opts o = {0};
		struct fw_cert *c = NULL;
		struct fw_cert_info info;
		struct fw_diag d = {{0}};
		char *pem;
		int rc;

		o.cn = "dev-1";
		o.serial_hex = v[i].hex;
		o.na_off = DAY;
		pem = certgen_leaf_ex(r, &o);
		rc = fw_cert_from_pem(pem, strlen(pem), &c, &d);
		if (v[i].want) {
			CHECK_EQ(rc, FW_OK);
			if (c) {
				fw_cert_get_info(c, &info);
				if (strcmp(info.serial, v[i].want) != 0)
					harness_fail(__FILE__, __LINE__, "serial %s -> %s", v[i].hex,
					             info.serial);
			}
		} else {
			CHECK_EQ(rc, FW_E_FORMAT);
			CHECK(strstr(d.msg, "serial") != NULL);
		}
		fw_cert_free(c);
		free(pem);
	}
	certgen_ca_free(r);
}

/* Known answers (date -u -d ... +%s); UTCTime for 1950-2049, GeneralizedTime otherwise. */
static void t_time_known_answers(void)
{
	static const struct {
		const char *nb, *na;
		int64_t want_nb, want_na;
	} v[] = {
		{"19500101000000Z", "99991231235959Z", -631152000LL, 253402300799LL},
		{"20000229120000Z", "20380119031408Z", 951825600LL, 2147483648LL},
		{"19691231235959Z", "21000301000000Z", -1LL, 4107542400LL},
	};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct certgen_leaf_opts o = {0};
		struct fw_cert *c;
		struct fw_cert_info info;

		o.cn = "dev-1";
		o.serial = 1;
		o.not_before = v[i].nb;
		o.not_after = v[i].na;
		c = take(certgen_leaf_ex(r, &o));
		if (!c)
			continue;
		fw_cert_get_info(c, &info);
		CHECK_EQ(info.not_before, v[i].want_nb);
		CHECK_EQ(info.not_after, v[i].want_na);
		fw_cert_free(c);
	}
	certgen_ca_free(r);
}

static void t_bundle(void)
{
	struct certgen_ca *r = certgen_root("Root A", -DAY, 3650 * DAY);
	struct certgen_ca *i = certgen_intermediate(r, "Intermediate A", -DAY, 365 * DAY);
	struct certgen_ca *o = certgen_root("Root B", -DAY, 3650 * DAY);
	char *pr = certgen_ca_pem(r), *pi = certgen_ca_pem(i), *po = certgen_ca_pem(o);
	char buf[16384];
	struct fw_cert **v = NULL;
	struct fw_cert_info info;
	struct fw_diag d = {{0}};
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s\n\n%s  \r\n%s\n", pr, pi, po);
	CHECK_EQ(fw_cert_bundle_from_pem(buf, strlen(buf), &v, &n, &d), FW_OK);
	CHECK_EQ(n, 3);
	if (v && n == 3) {
		fw_cert_get_info(v[0], &info);
		CHECK(strcmp(info.subject_cn, "Root A") == 0);
		fw_cert_get_info(v[1], &info);
		CHECK(strcmp(info.subject_cn, "Intermediate A") == 0);
		fw_cert_get_info(v[2], &info);
		CHECK(strcmp(info.subject_cn, "Root B") == 0);
	}
	fw_cert_bundle_free(v, n);
	v = NULL;

	/* a bundle of one is a bundle */
	CHECK_EQ(fw_cert_bundle_from_pem(pr, strlen(pr), &v, &n, NULL), FW_OK);
	CHECK_EQ(n, 1);
	fw_cert_bundle_free(v, n);
	v = NULL;
	n = 99;

	/* garbage between certificates, comments included, names the certificate */
	snprintf(buf, sizeof(buf), "%s# Root B\n%s", pr, po);
	CHECK_EQ(fw_cert_bundle_from_pem(buf, strlen(buf), &v, &n, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "certificate 2") != NULL);
	CHECK(v == NULL && n == 99);
	snprintf(buf, sizeof(buf), "%s%sjunk", pr, po);
	CHECK_EQ(fw_cert_bundle_from_pem(buf, strlen(buf), &v, &n, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "certificate 3") != NULL);
	/* a bad certificate anywhere fails the whole bundle */
	snprintf(buf, sizeof(buf), "%s%.*s", pr, (int)(strlen(po) - 40), po);
	CHECK_EQ(fw_cert_bundle_from_pem(buf, strlen(buf), &v, &n, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "truncated") != NULL);
	CHECK_EQ(fw_cert_bundle_from_pem(" \n\n", 3, &v, &n, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "no certificate") != NULL);
	CHECK_EQ(fw_cert_bundle_from_pem("", 0, &v, &n, &d), FW_E_FORMAT);
	CHECK(v == NULL);

	free(pr);
	free(pi);
	free(po);
	certgen_ca_free(r);
	certgen_ca_free(i);
	certgen_ca_free(o);
}

static void t_refused_pem(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	char *pem = certgen_leaf(r, "dev-1", NULL, 1, -3600, DAY);
	char *pem2 = certgen_leaf(r, "dev-2", NULL, 2, -3600, DAY);
	size_t len = strlen(pem);
	char buf[16384], *s;
	struct fw_diag d = {{0}};
	const char *body = strchr(pem, '\n') + 1;
	size_t head = (size_t)(body - pem);

	CHECK_EQ(pem_rc("hello\n", 6, &d), FW_E_FORMAT);
	CHECK_EQ(pem_rc("", 0, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "no certificate") != NULL);
	CHECK_EQ(pem_rc(" \n", 2, &d), FW_E_FORMAT);

	/* garbage before, after, after END on its line */
	snprintf(buf, sizeof(buf), "x\n%s", pem);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "byte 0") != NULL);
	snprintf(buf, sizeof(buf), "%sjunk\n", pem);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	snprintf(buf, sizeof(buf), "%.*sx\n", (int)len - 1, pem);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	/* a NUL after the text (len counted one too far) */
	CHECK_EQ(pem_rc(pem, len + 1, &d), FW_E_FORMAT);

	/* two certificates where one is expected */
	s = concat(pem, pem2);
	CHECK_EQ(pem_rc(s, strlen(s), &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "second certificate") != NULL);
	free(s);

	/* truncated: no END line; or cut short and followed by another block */
	CHECK_EQ(pem_rc(pem, len / 2, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "truncated") != NULL);
	snprintf(buf, sizeof(buf), "%.*s\n%s", (int)len / 2, pem, pem2);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "truncated") != NULL);
	/* the END line cut */
	CHECK_EQ(pem_rc(pem, len - 4, &d), FW_E_FORMAT);

	/* other labels, PEM headers, bad base64, base64 of something else */
	snprintf(buf, sizeof(buf), "-----BEGIN TRUSTED CERTIFICATE-----\n%.*s-----END TRUSTED "
	         "CERTIFICATE-----\n", (int)(strstr(pem, "-----END") - body), body);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	snprintf(buf, sizeof(buf), "%.*sComment: hello\n\n%s", (int)head, pem, body);
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	s = strdup(pem);
	s[head + 10] = '*';
	CHECK_EQ(pem_rc(s, len, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "base64") != NULL);
	free(s);
	snprintf(buf, sizeof(buf), "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END "
	         "CERTIFICATE-----\n");
	CHECK_EQ(pem_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "not an X.509 certificate") != NULL);

	free(pem);
	free(pem2);
	certgen_ca_free(r);
}

static void t_refused_der(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *c = take(certgen_leaf(r, "dev-1", NULL, 1, -3600, DAY)), *x = NULL;
	struct fw_diag d = {{0}};
	uint8_t *der, *buf;
	size_t len;

	if (!c)
		goto out;
	der = der_of(c, &len);
	buf = malloc(len + 8);
	memcpy(buf, der, len);
	buf[len] = 0;
	CHECK_EQ(fw_cert_from_der(buf, len + 1, &x, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "1 bytes after") != NULL);
	CHECK_EQ(fw_cert_from_der(der, len - 1, &x, &d), FW_E_FORMAT);
	CHECK_EQ(fw_cert_from_der(der, 0, &x, &d), FW_E_FORMAT);
	CHECK_EQ(fw_cert_from_der((const uint8_t *)"hello", 5, &x, &d), FW_E_FORMAT);
	/* BER: the outer length in a longer form than DER allows */
	CHECK(der[1] == 0x82);
	buf[0] = 0x30;
	buf[1] = 0x83;
	buf[2] = 0x00;
	memcpy(buf + 3, der + 2, len - 2);
	CHECK_EQ(fw_cert_from_der(buf, len + 1, &x, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "canonical DER") != NULL);
	CHECK(x == NULL);
	free(buf);
	free(der);
out:
	fw_cert_free(c);
	certgen_ca_free(r);
}

static void t_oversize(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	char *pem = certgen_leaf(r, "dev-1", NULL, 1, -3600, DAY);
	size_t len = strlen(pem), big = FW_MAX_CA_FILE + 1;
	char *buf = malloc(big);
	struct fw_cert *c = NULL, **v = NULL;
	struct fw_crl *crl = NULL;
	struct fw_diag d = {{0}};
	size_t n = 0;

	/* padded with whitespace to the limit: fine; one byte more: too large */
	memset(buf, '\n', big);
	memcpy(buf, pem, len);
	CHECK_EQ(fw_cert_from_pem(buf, FW_MAX_CERT_PEM, &c, &d), FW_OK);
	fw_cert_free(c);
	c = NULL;
	CHECK_EQ(fw_cert_from_pem(buf, FW_MAX_CERT_PEM + 1, &c, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "limit") != NULL);
	CHECK_EQ(fw_cert_from_der((const uint8_t *)buf, FW_MAX_CERT_PEM + 1, &c, &d),
	         FW_E_TOO_LARGE);
	CHECK_EQ(fw_cert_bundle_from_pem(buf, FW_MAX_CA_FILE, &v, &n, &d), FW_OK);
	fw_cert_bundle_free(v, n);
	v = NULL;
	CHECK_EQ(fw_cert_bundle_from_pem(buf, big, &v, &n, &d), FW_E_TOO_LARGE);
	CHECK_EQ(fw_crl_parse((const uint8_t *)buf, big, &crl, &d), FW_E_TOO_LARGE);
	CHECK(c == NULL && v == NULL && crl == NULL);
	free(buf);
	free(pem);
	certgen_ca_free(r);
}

static void t_names(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct certgen_leaf_opts o = {0};
	struct fw_cert *a = take(certgen_leaf(r, "dev-1", "dev-1.example", 1, -3600, DAY));
	struct fw_cert *b = take(certgen_leaf(r, "dev-10", NULL, 2, -3600, DAY));
	struct fw_cert *c = take(certgen_leaf(r, NULL, "dev-2", 3, -3600, DAY));
	struct fw_cert *u;

	o.san_uri = "urn:dev:3";
	o.san_dns = "dev-3.example";
	o.serial = 4;
	o.na_off = DAY;
	u = take(certgen_leaf_ex(r, &o));
	if (!a || !b || !c || !u)
		goto out;
	CHECK_EQ(fw_cert_names(a, "dev-1"), 1);          /* CN */
	CHECK_EQ(fw_cert_names(a, "dev-1.example"), 1);  /* SAN dNSName */
	CHECK_EQ(fw_cert_names(a, "dev-10"), 0);         /* prefix of the id */
	CHECK_EQ(fw_cert_names(a, "dev-"), 0);           /* prefix of the name */
	CHECK_EQ(fw_cert_names(a, "ev-1"), 0);           /* suffix */
	CHECK_EQ(fw_cert_names(a, "DEV-1"), 0);          /* exact bytes */
	CHECK_EQ(fw_cert_names(a, "dev-1.example."), 0);
	CHECK_EQ(fw_cert_names(a, "fwtrust-test"), 0);   /* O is not a name */
	CHECK_EQ(fw_cert_names(a, ""), 0);
	CHECK_EQ(fw_cert_names(a, NULL), 0);
	CHECK_EQ(fw_cert_names(b, "dev-1"), 0);
	CHECK_EQ(fw_cert_names(b, "dev-10"), 1);
	CHECK_EQ(fw_cert_names(c, "dev-2"), 1);          /* SAN only, no CN */
	CHECK_EQ(fw_cert_names(u, "urn:dev:3"), 1);      /* SAN URI */
	CHECK_EQ(fw_cert_names(u, "dev-3.example"), 1);
	CHECK_EQ(fw_cert_names(u, "urn:dev:"), 0);
out:
	fw_cert_free(a);
	fw_cert_free(b);
	fw_cert_free(c);
	fw_cert_free(u);
	certgen_ca_free(r);
}

static void t_chain_root(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -10 * DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r);
	struct fw_cert *leaf = take(certgen_leaf(r, "dev-1", NULL, 1, -3600, 30 * DAY));
	struct fw_cert_anchors *a = NULL;
	struct fw_cert_info ir, il;
	struct fw_diag d = {{0}};
	int64_t nb = 0, na = 0;
	uint8_t iss[32] = {0};
	int k;

	if (!root || !leaf)
		goto out;
	fw_cert_get_info(root, &ir);
	fw_cert_get_info(leaf, &il);
	a = anchors_of(&root, 1);
	/* the anchors keep their own reference */
	fw_cert_free(root);
	root = NULL;
	if (!a)
		goto out;
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_OK);
	CHECK_EQ(nb, il.not_before);
	CHECK_EQ(na, il.not_after);
	CHECK(memcmp(iss, ir.sha256, 32) == 0);
	/* repeated calls on the same store give the same answer */
	for (k = 0; k < 200; k++)
		CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_OK);
	/* nothing anchored: nothing verifies */
	fw_cert_anchors_free(a);
	CHECK_EQ(fw_cert_anchors_new(&a, NULL), FW_OK);
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_E_VERIFY);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(leaf);
	certgen_ca_free(r);
}

static void t_chain_intermediate(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -10 * DAY, 3650 * DAY);
	struct certgen_ca *i = certgen_intermediate(r, "Test Intermediate", -5 * DAY, 365 * DAY);
	struct fw_cert *cas[2] = {ca_cert(r), ca_cert(i)};
	struct fw_cert *leaf = take(certgen_leaf(i, "dev-1", NULL, 1, -3600, 30 * DAY));
	struct fw_cert_anchors *a = NULL;
	struct fw_cert_info ii;
	struct fw_diag d = {{0}};
	int64_t nb = 0, na = 0;
	uint8_t iss[32] = {0};

	if (!cas[0] || !cas[1] || !leaf)
		goto out;
	fw_cert_get_info(cas[1], &ii);
	/* root and intermediate anchored */
	a = anchors_of(cas, 2);
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_OK);
	CHECK(memcmp(iss, ii.sha256, 32) == 0);
	fw_cert_anchors_free(a);
	/* the intermediate alone (partial chain) */
	a = anchors_of(&cas[1], 1);
	memset(iss, 0, 32);
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_OK);
	CHECK(memcmp(iss, ii.sha256, 32) == 0);
	fw_cert_anchors_free(a);
	/* the root alone: the intermediate is not looked for anywhere else */
	a = anchors_of(&cas[0], 1);
	nb = na = 7;
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "unable to get local issuer certificate") != NULL);
	CHECK(nb == 7 && na == 7);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(cas[0]);
	fw_cert_free(cas[1]);
	fw_cert_free(leaf);
	certgen_ca_free(r);
	certgen_ca_free(i);
}

static void t_chain_other_issuer(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct certgen_ca *o = certgen_root("Other Root", -DAY, 3650 * DAY);
	struct certgen_ca *same = certgen_root("Test Root", -DAY, 3650 * DAY); /* name, not key */
	struct fw_cert *root = ca_cert(r);
	struct fw_cert *lo = take(certgen_leaf(o, "dev-1", NULL, 1, -3600, DAY));
	struct fw_cert *ls = take(certgen_leaf(same, "dev-1", NULL, 1, -3600, DAY));
	struct fw_cert_anchors *a = NULL;
	struct fw_diag d = {{0}};
	int64_t nb, na;
	uint8_t iss[32];

	if (!root || !lo || !ls)
		goto out;
	a = anchors_of(&root, 1);
	CHECK_EQ(fw_cert_verify_chain(a, lo, &nb, &na, iss, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "unable to get local issuer certificate") != NULL);
	CHECK(strstr(d.msg, "CN=dev-1") != NULL);
	CHECK_EQ(fw_cert_verify_chain(a, ls, &nb, &na, iss, &d), FW_E_VERIFY);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(lo);
	fw_cert_free(ls);
	certgen_ca_free(r);
	certgen_ca_free(o);
	certgen_ca_free(same);
}

static void t_chain_forged(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r);
	struct fw_cert *leaf = take(certgen_leaf(r, "dev-1", NULL, 1, -3600, DAY));
	struct fw_cert *f = NULL;
	struct fw_cert_anchors *a = NULL;
	struct fw_diag d = {{0}};
	int64_t nb, na;
	uint8_t iss[32], *der = NULL, *cn;
	size_t len = 0;

	if (!root || !leaf)
		goto out;
	a = anchors_of(&root, 1);
	der = der_of(leaf, &len);
	/* the last byte is the last byte of the ECDSA s value */
	der[len - 1] ^= 0x01;
	CHECK_EQ(fw_cert_from_der(der, len, &f, &d), FW_OK);
	if (f)
		CHECK_EQ(fw_cert_verify_chain(a, f, &nb, &na, iss, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "signature") != NULL);
	fw_cert_free(f);
	f = NULL;
	der[len - 1] ^= 0x01;
	/* renamed device: the signed part changed, the signature kept */
	cn = memmem(der, len, "dev-1", 5);
	CHECK(cn != NULL);
	if (cn)
		cn[4] = '2';
	CHECK_EQ(fw_cert_from_der(der, len, &f, &d), FW_OK);
	if (f) {
		CHECK_EQ(fw_cert_names(f, "dev-2"), 1);
		CHECK_EQ(fw_cert_verify_chain(a, f, &nb, &na, iss, &d), FW_E_VERIFY);
		CHECK(strstr(d.msg, "signature") != NULL);
	}
out:
	free(der);
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(leaf);
	fw_cert_free(f);
	certgen_ca_free(r);
}

static void t_chain_time_ignored(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -100 * DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r);
	struct fw_cert *expired = take(certgen_leaf(r, "dev-1", NULL, 1, -10 * DAY, -DAY));
	struct fw_cert *future = take(certgen_leaf(r, "dev-2", NULL, 2, DAY, 10 * DAY));
	struct fw_cert_anchors *a = NULL;
	int64_t nb = 0, na = 0, now;
	uint8_t iss[32];

	if (!root || !expired || !future)
		goto out;
	a = anchors_of(&root, 1);
	now = (int64_t)time(NULL);
	CHECK_EQ(fw_cert_verify_chain(a, expired, &nb, &na, iss, NULL), FW_OK);
	CHECK(na < now && na >= now - DAY - 60);
	CHECK(nb <= now - 10 * DAY);
	CHECK_EQ(fw_cert_verify_chain(a, future, &nb, &na, iss, NULL), FW_OK);
	CHECK(nb > now && nb <= now + DAY + 60);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(expired);
	fw_cert_free(future);
	certgen_ca_free(r);
}

static void t_chain_window_min(void)
{
	/* root [-10d, +3h], intermediate [-1h, +1d], leaf [-1d, +30d] */
	struct certgen_ca *r = certgen_root("Test Root", -10 * DAY, 3 * 3600);
	struct certgen_ca *i = certgen_intermediate(r, "Test Intermediate", -3600, DAY);
	struct fw_cert *cas[2] = {ca_cert(r), ca_cert(i)};
	struct fw_cert *leaf = take(certgen_leaf(i, "dev-1", NULL, 1, -DAY, 30 * DAY));
	struct fw_cert_anchors *a = NULL;
	struct fw_cert_info ir, ii;
	int64_t nb = 0, na = 0;
	uint8_t iss[32];

	if (!cas[0] || !cas[1] || !leaf)
		goto out;
	fw_cert_get_info(cas[0], &ir);
	fw_cert_get_info(cas[1], &ii);
	/* intermediate alone: its window bounds the leaf's */
	a = anchors_of(&cas[1], 1);
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, NULL), FW_OK);
	CHECK_EQ(nb, ii.not_before);
	CHECK_EQ(na, ii.not_after);
	fw_cert_anchors_free(a);
	/* both anchored: the chain ends at the first anchor reached (partial chain),
	 * so the root's earlier notAfter does not count */
	a = anchors_of(cas, 2);
	CHECK_EQ(fw_cert_verify_chain(a, leaf, &nb, &na, iss, NULL), FW_OK);
	CHECK_EQ(nb, ii.not_before);
	CHECK_EQ(na, ii.not_after);
	CHECK(na > ir.not_after);
	fw_cert_anchors_free(a);
	a = NULL;
	/* a root anchor that expires before its leaf bounds the window */
	{
		struct fw_cert *l2 = take(certgen_leaf(r, "dev-2", NULL, 2, -DAY, 30 * DAY));
		struct fw_cert_info i2;

		if (l2) {
			fw_cert_get_info(l2, &i2);
			a = anchors_of(cas, 1);
			CHECK_EQ(fw_cert_verify_chain(a, l2, &nb, &na, iss, NULL), FW_OK);
			CHECK_EQ(nb, i2.not_before);
			CHECK_EQ(na, ir.not_after);
		}
		fw_cert_free(l2);
	}
out:
	fw_cert_anchors_free(a);
	fw_cert_free(cas[0]);
	fw_cert_free(cas[1]);
	fw_cert_free(leaf);
	certgen_ca_free(r);
	certgen_ca_free(i);
}

static void t_chain_ca_leaf(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct certgen_ca *i = certgen_intermediate(r, "Test Intermediate", -DAY, 365 * DAY);
	struct certgen_leaf_opts o = {0};
	struct fw_cert *root = ca_cert(r), *inter = ca_cert(i), *caleaf;
	struct fw_cert_anchors *a = NULL;
	struct fw_diag d = {{0}};
	int64_t nb, na;
	uint8_t iss[32];

	o.cn = "dev-1";
	o.serial = 9;
	o.na_off = DAY;
	o.ca = 1;
	caleaf = take(certgen_leaf_ex(r, &o));
	if (!root || !inter || !caleaf)
		goto out;
	a = anchors_of(&root, 1);
	CHECK_EQ(fw_cert_verify_chain(a, inter, &nb, &na, iss, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "CA certificate") != NULL);
	CHECK_EQ(fw_cert_verify_chain(a, caleaf, &nb, &na, iss, &d), FW_E_VERIFY);
	/* a root is refused as a leaf even though it is an anchor */
	CHECK_EQ(fw_cert_verify_chain(a, root, &nb, &na, iss, &d), FW_E_VERIFY);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(inter);
	fw_cert_free(caleaf);
	certgen_ca_free(r);
	certgen_ca_free(i);
}

static void t_anchor_non_ca(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r);
	struct fw_cert *leaf = take(certgen_leaf(r, "dev-1", NULL, 1, -3600, DAY));
	struct fw_cert *other = take(certgen_leaf(r, "dev-2", NULL, 2, -3600, DAY));
	struct fw_cert_anchors *a = NULL;
	struct fw_diag d = {{0}};
	int64_t nb, na;
	uint8_t iss[32];

	CHECK_EQ(fw_cert_anchors_new(&a, NULL), FW_OK);
	if (!a || !root || !leaf || !other)
		goto out;
	CHECK_EQ(fw_cert_anchors_add(a, leaf, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "not a CA") != NULL);
	/* nothing was added: a leaf anchored by mistake does not vouch for anything */
	CHECK_EQ(fw_cert_verify_chain(a, other, &nb, &na, iss, &d), FW_E_VERIFY);
	CHECK_EQ(fw_cert_anchors_add(a, root, &d), FW_OK);
	CHECK_EQ(fw_cert_anchors_add(a, root, &d), FW_OK); /* twice: a no-op */
	CHECK_EQ(fw_cert_verify_chain(a, other, &nb, &na, iss, &d), FW_OK);
out:
	fw_cert_anchors_free(a);
	fw_cert_free(root);
	fw_cert_free(leaf);
	fw_cert_free(other);
	certgen_ca_free(r);
}

/* PEM CRL -> DER with OpenSSL directly (malloc'd). */
static uint8_t *crl_der(const char *pem, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	unsigned char *der = NULL;
	uint8_t *out = NULL;
	int n = crl ? i2d_X509_CRL(crl, &der) : -1;

	CHECK(n > 0);
	if (n > 0) {
		out = malloc((size_t)n);
		memcpy(out, der, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
	BIO_free(b);
	return out;
}

static struct fw_crl *crl_take(char *pem)
{
	struct fw_crl *c = NULL;
	struct fw_diag d = {{0}};

	if (fw_crl_parse((const uint8_t *)pem, strlen(pem), &c, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "fw_crl_parse: %s", d.msg);
	free(pem);
	return c;
}

static void t_crl_parse(void)
{
	static const long serials[] = {0x12345, 11};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *leaf = take(certgen_leaf(r, "dev-1", NULL, 11, -3600, DAY));
	time_t t0 = time(NULL);
	char *pem = certgen_crl(r, serials, 2, 255);
	time_t t1 = time(NULL);
	struct fw_crl *a = NULL, *b = NULL, *c = NULL;
	struct fw_crl_info ia, ib, ic;
	struct fw_cert_info il;
	char s0[FW_SERIAL_HEX_MAX], s1[FW_SERIAL_HEX_MAX];
	uint8_t *der = NULL, h[32];
	size_t len = 0;

	CHECK_EQ(fw_crl_parse((const uint8_t *)pem, strlen(pem), &a, NULL), FW_OK);
	der = crl_der(pem, &len);
	if (!a || !der || !leaf)
		goto out;
	CHECK_EQ(fw_crl_parse(der, len, &b, NULL), FW_OK);
	if (!b)
		goto out;
	fw_crl_get_info(a, &ia);
	fw_crl_get_info(b, &ib);
	CHECK(memcmp(&ia, &ib, sizeof(ia)) == 0);
	fw_sha256(der, len, h);
	CHECK(memcmp(ia.sha256, h, 32) == 0);
	fw_cert_get_info(leaf, &il);
	CHECK(memcmp(ia.issuer_hash, il.issuer_hash, 32) == 0);
	CHECK(strcmp(ia.issuer, "CN=Test Root,O=fwtrust-test") == 0);
	CHECK(strcmp(ia.number, "ff") == 0);
	CHECK_EQ(ia.revoked, 2);
	CHECK(ia.this_update >= (int64_t)t0 && ia.this_update <= (int64_t)t1);
	CHECK_EQ(ia.next_update - ia.this_update, 7 * DAY);
	/* entries in CRL order (certgen sorts them): the leaf's serial is among them */
	CHECK_EQ(fw_crl_serial(a, 0, s0), FW_OK);
	CHECK_EQ(fw_crl_serial(a, 1, s1), FW_OK);
	CHECK(strcmp(s0, il.serial) == 0 || strcmp(s1, il.serial) == 0);
	CHECK((strcmp(s0, "b") == 0 && strcmp(s1, "12345") == 0) ||
	      (strcmp(s1, "b") == 0 && strcmp(s0, "12345") == 0));
	CHECK_EQ(fw_crl_serial(a, 2, s0), FW_E_ARG);

	/* no cRLNumber, no nextUpdate, no entries */
	c = crl_take(certgen_crl_ex(r, NULL, 0, 0, CERTGEN_CRL_NO_NUMBER));
	if (c) {
		fw_crl_get_info(c, &ic);
		CHECK(strcmp(ic.number, "") == 0);
		CHECK_EQ(ic.next_update, 0);
		CHECK_EQ(ic.revoked, 0);
		CHECK_EQ(fw_crl_serial(c, 0, s0), FW_E_ARG);
	}
out:
	free(der);
	free(pem);
	fw_crl_free(a);
	fw_crl_free(b);
	fw_crl_free(c);
	fw_cert_free(leaf);
	certgen_ca_free(r);
}

static void t_crl_verify(void)
{
	static const long serials[] = {3, 4};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct certgen_ca *i = certgen_intermediate(r, "Test Intermediate", -DAY, 365 * DAY);
	struct certgen_ca *o = certgen_root("Other Root", -DAY, 3650 * DAY);
	struct certgen_ca *same = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r), *inter = ca_cert(i), *other = ca_cert(o);
	struct fw_cert *impostor = ca_cert(same);
	struct fw_cert *leaf = take(certgen_leaf(r, "Test Root", NULL, 5, -3600, DAY));
	char *pem = certgen_crl(r, serials, 2, 1);
	struct fw_crl *crl = crl_take(strdup(pem)), *ic = crl_take(certgen_crl(i, serials, 1, 1));
	struct fw_crl *forged = NULL;
	struct fw_diag d = {{0}};
	uint8_t *der = NULL;
	size_t len = 0;

	if (!root || !inter || !other || !impostor || !leaf || !crl || !ic)
		goto out;
	{
		struct fw_cert *right[] = {root};
		struct fw_cert *mixed[] = {other, NULL, impostor, root};
		struct fw_cert *wrong[] = {other};
		struct fw_cert *same_name[] = {impostor};
		struct fw_cert *both[] = {root, inter};

		CHECK_EQ(fw_crl_verify(crl, right, 1, &d), FW_OK);
		CHECK_EQ(fw_crl_verify(crl, mixed, 4, &d), FW_OK);
		CHECK_EQ(fw_crl_verify(ic, both, 2, &d), FW_OK);
		CHECK_EQ(fw_crl_verify(crl, wrong, 1, &d), FW_E_SIGNATURE);
		CHECK(strstr(d.msg, "CN=Test Root") != NULL);
		CHECK_EQ(fw_crl_verify(crl, same_name, 1, &d), FW_E_SIGNATURE);
		CHECK(strstr(d.msg, "does not verify") != NULL);
		CHECK_EQ(fw_crl_verify(crl, NULL, 0, &d), FW_E_SIGNATURE);
		CHECK_EQ(fw_crl_verify(ic, right, 1, &d), FW_E_SIGNATURE);
	}
	/* a non-CA certificate with the issuer's name does not count */
	{
		struct fw_cert *noca[] = {leaf};

		CHECK_EQ(fw_crl_verify(crl, noca, 1, &d), FW_E_SIGNATURE);
	}
	/* a flipped signature byte */
	der = crl_der(pem, &len);
	if (der) {
		struct fw_cert *right[] = {root};

		der[len - 1] ^= 0x01;
		CHECK_EQ(fw_crl_parse(der, len, &forged, &d), FW_OK);
		if (forged)
			CHECK_EQ(fw_crl_verify(forged, right, 1, &d), FW_E_SIGNATURE);
	}
out:
	free(der);
	free(pem);
	fw_crl_free(crl);
	fw_crl_free(ic);
	fw_crl_free(forged);
	fw_cert_free(root);
	fw_cert_free(inter);
	fw_cert_free(other);
	fw_cert_free(impostor);
	fw_cert_free(leaf);
	certgen_ca_free(r);
	certgen_ca_free(i);
	certgen_ca_free(o);
	certgen_ca_free(same);
}

static void t_crl_scope_refused(void)
{
	static const struct {
		unsigned flags;
		const char *why;
	} v[] = {
		{CERTGEN_CRL_DELTA, "delta CRL"},
		{CERTGEN_CRL_CRIT_UNKNOWN, "1.3.6.1.4.1.55555.1"},
		{CERTGEN_CRL_ENTRY_CRIT, "entry 1"},
	};
	static const long serials[] = {3};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *root = ca_cert(r);
	size_t k;

	for (k = 0; root && k < sizeof(v) / sizeof(v[0]); k++) {
		struct fw_crl *c = crl_take(certgen_crl_ex(r, serials, 1, 2, v[k].flags));
		struct fw_diag d = {{0}};

		if (!c)
			continue;
		CHECK_EQ(fw_crl_verify(c, &root, 1, &d), FW_E_VERIFY);
		if (strstr(d.msg, v[k].why) == NULL)
			harness_fail(__FILE__, __LINE__, "flags %u: %s", v[k].flags, d.msg);
		fw_crl_free(c);
	}
	fw_cert_free(root);
	certgen_ca_free(r);
}

static int crl_rc(const void *p, size_t len, struct fw_diag *d)
{
	struct fw_crl *c = NULL;
	int rc = fw_crl_parse(p, len, &c, d);

	if (rc != FW_OK)
		CHECK(c == NULL);
	fw_crl_free(c);
	return rc;
}

static void t_crl_refused(void)
{
	static const long serials[] = {3};
	static const long negative[] = {-5};
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	char *pem = certgen_crl(r, serials, 1, 1);
	char *neg = certgen_crl(r, negative, 1, 1);
	char *cert = certgen_ca_pem(r);
	char buf[8192];
	struct fw_diag d = {{0}};
	uint8_t *der = NULL, *b2;
	size_t len = 0, plen = strlen(pem);

	CHECK_EQ(crl_rc("hello", 5, &d), FW_E_FORMAT);
	CHECK_EQ(crl_rc("", 0, &d), FW_E_FORMAT);
	CHECK_EQ(crl_rc("\x30\x03\x02\x01\x01", 5, &d), FW_E_FORMAT);
	CHECK_EQ(crl_rc(cert, strlen(cert), &d), FW_E_FORMAT); /* a certificate is not a CRL */
	CHECK(strstr(d.msg, "X509 CRL") != NULL);
	snprintf(buf, sizeof(buf), "%sjunk", pem);
	CHECK_EQ(crl_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	snprintf(buf, sizeof(buf), "junk\n%s", pem);
	CHECK_EQ(crl_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	snprintf(buf, sizeof(buf), "%s%s", pem, pem);
	CHECK_EQ(crl_rc(buf, strlen(buf), &d), FW_E_FORMAT);
	CHECK_EQ(crl_rc(pem, plen / 2, &d), FW_E_FORMAT);
	CHECK_EQ(crl_rc(neg, strlen(neg), &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "entry 1") != NULL);
	/* DER: trailing byte, truncated */
	der = crl_der(pem, &len);
	if (der) {
		b2 = malloc(len + 1);
		memcpy(b2, der, len);
		b2[len] = 0;
		CHECK_EQ(crl_rc(b2, len + 1, &d), FW_E_FORMAT);
		CHECK_EQ(crl_rc(b2, len - 1, &d), FW_E_FORMAT);
		CHECK_EQ(crl_rc(b2, len, &d), FW_OK);
		free(b2);
	}
	free(der);
	free(pem);
	free(neg);
	free(cert);
	certgen_ca_free(r);
}

/* The CN is UTF-8 text: kept as such in subject_cn, escaped in the display form;
 * control characters are refused. */
static void t_cn_text(void)
{
	struct certgen_ca *r = certgen_root("Test Root", -DAY, 3650 * DAY);
	struct fw_cert *c = take(certgen_leaf(r, "Ger\xc3\xa4t-1", NULL, 1, -3600, DAY)), *x = NULL;
	struct fw_cert_info info;
	struct fw_diag d = {{0}};
	char *pem = certgen_leaf(r, "dev\x01", NULL, 2, -3600, DAY);

	if (c) {
		fw_cert_get_info(c, &info);
		CHECK(strcmp(info.subject_cn, "Ger\xc3\xa4t-1") == 0);
		CHECK(strcmp(info.subject, "CN=Ger\\C3\\A4t-1,O=fwtrust-test") == 0);
		CHECK_EQ(fw_cert_names(c, "Ger\xc3\xa4t-1"), 1);
	}
	CHECK_EQ(fw_cert_from_pem(pem, strlen(pem), &x, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "CN") != NULL);
	CHECK(x == NULL);
	free(pem);
	fw_cert_free(c);
	certgen_ca_free(r);
}

static const struct harness_test tests[] = {
    {"pem_der_roundtrip_and_id", t_pem_der_roundtrip},
    {"info_fields", t_info_fields},
    {"serial_forms", t_serial_forms},
    {"time_known_answers", t_time_known_answers},
    {"bundle", t_bundle},
    {"refused_pem", t_refused_pem},
    {"refused_der", t_refused_der},
    {"oversize", t_oversize},
    {"names_cn_san_exact", t_names},
    {"cn_utf8_text", t_cn_text},
    {"chain_leaf_under_root", t_chain_root},
    {"chain_intermediate_and_partial", t_chain_intermediate},
    {"chain_other_issuer_refused", t_chain_other_issuer},
    {"chain_forged_signature_refused", t_chain_forged},
    {"chain_ignores_time_reports_window", t_chain_time_ignored},
    {"chain_window_min_over_chain", t_chain_window_min},
    {"chain_ca_as_leaf_refused", t_chain_ca_leaf},
    {"anchor_non_ca_refused", t_anchor_non_ca},
    {"crl_parse_pem_der_info", t_crl_parse},
    {"crl_verify_and_forgeries", t_crl_verify},
    {"crl_delta_and_critical_refused", t_crl_scope_refused},
    {"crl_refused_input", t_crl_refused},
};
HARNESS_MAIN(tests)
