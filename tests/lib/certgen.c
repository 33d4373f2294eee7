#include "certgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct certgen_ca {
	EVP_PKEY *key;
	X509 *cert;
};

static void die(const char *what)
{
	fprintf(stderr, "certgen: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

static void need(int ok, const char *what)
{
	if (!ok)
		die(what);
}

static EVP_PKEY *p256(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	need(k != NULL, "P-256 key generation");
	return k;
}

/* issuer NULL: x is self-signed (its own issuer for the key identifiers) */
static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	need(e != NULL && X509_add_ext(x, e, -1) == 1, value);
	X509_EXTENSION_free(e);
}

static void set_time(ASN1_TIME *t, const char *abs, long off)
{
	if (abs != NULL)
		need(ASN1_TIME_set_string_X509(t, abs) == 1, "validity time");
	else
		need(X509_gmtime_adj(t, off) != NULL, "validity offset");
}

static void set_serial(X509 *x, long serial, const char *hex)
{
	ASN1_INTEGER *s;

	if (hex != NULL) {
		BIGNUM *bn = NULL;

		need(BN_hex2bn(&bn, hex) > 0, "serial hex");
		s = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
	} else {
		s = ASN1_INTEGER_new();
		need(s != NULL && ASN1_INTEGER_set(s, serial) == 1, "serial");
	}
	need(s != NULL && X509_set_serialNumber(x, s) == 1, "serial");
	ASN1_INTEGER_free(s);
}

/* A certificate for key, signed by (issuer_cert, issuer_key) or self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer_cert, EVP_PKEY *issuer_key,
                       const struct certgen_leaf_opts *o)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	char san[600];

	need(x != NULL && name != NULL, "X509_new");
	need(X509_set_version(x, X509_VERSION_3) == 1, "version");
	set_serial(x, o->serial, o->serial_hex);
	need(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                                (const unsigned char *)"fwtrust-test", -1, -1, 0) == 1,
	     "subject O");
	if (cn != NULL)
		need(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
		                                -1, -1, 0) == 1,
		     "subject CN");
	need(X509_set_subject_name(x, name) == 1, "subject");
	need(X509_set_issuer_name(x, issuer_cert ? X509_get_subject_name(issuer_cert) : name) == 1,
	     "issuer");
	set_time(X509_getm_notBefore(x), o->not_before, o->nb_off);
	set_time(X509_getm_notAfter(x), o->not_after, o->na_off);
	need(X509_set_pubkey(x, key) == 1, "public key");
	add_ext(x, NULL, NID_subject_key_identifier, "hash");
	add_ext(x, issuer_cert, NID_authority_key_identifier, "keyid:always");
	if (o->ca) {
		add_ext(x, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer_cert, NID_key_usage, "critical,digitalSignature");
	}
	if (o->san_dns != NULL || o->san_uri != NULL) {
		snprintf(san, sizeof(san), "%s%s%s%s%s", o->san_dns ? "DNS:" : "",
		         o->san_dns ? o->san_dns : "", o->san_dns && o->san_uri ? "," : "",
		         o->san_uri ? "URI:" : "", o->san_uri ? o->san_uri : "");
		add_ext(x, issuer_cert, NID_subject_alt_name, san);
	}
	need(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
	X509_NAME_free(name);
	return x;
}

static long next_ca_serial = 0x1000;

static struct certgen_ca *make_ca(struct certgen_ca *parent, const char *cn, long nb_off,
                                  long na_off)
{
	struct certgen_ca *ca = calloc(1, sizeof(*ca));
	struct certgen_leaf_opts o = {0};

	need(ca != NULL, "calloc");
	o.serial = next_ca_serial++;
	o.nb_off = nb_off;
	o.na_off = na_off;
	o.ca = 1;
	ca->key = p256();
	ca->cert = make_cert(ca->key, cn, parent ? parent->cert : NULL, parent ? parent->key : NULL,
	                     &o);
	return ca;
}

struct certgen_ca *certgen_root(const char *cn, long nb_off, long na_off)
{
	return make_ca(NULL, cn, nb_off, na_off);
}

struct certgen_ca *certgen_intermediate(struct certgen_ca *parent, const char *cn, long nb_off,
                                        long na_off)
{
	return make_ca(parent, cn, nb_off, na_off);
}

static char *bio_string(BIO *b)
{
	char *p = NULL, *s;
	long n = BIO_get_mem_data(b, &p);

	need(n > 0, "PEM output");
	s = malloc((size_t)n + 1);
	need(s != NULL, "malloc");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());

	need(b != NULL && PEM_write_bio_X509(b, x) == 1, "PEM_write_bio_X509");
	return bio_string(b);
}

char *certgen_leaf_ex(struct certgen_ca *ca, const struct certgen_leaf_opts *o)
{
	EVP_PKEY *key = p256();
	X509 *x = make_cert(key, o->cn, ca->cert, ca->key, o);
	char *pem = cert_pem(x);

	X509_free(x);
	EVP_PKEY_free(key);
	return pem;
}

char *certgen_leaf(struct certgen_ca *ca, const char *cn, const char *san_dns, long serial,
                   long nb_off, long na_off)
{
	struct certgen_leaf_opts o = {0};

	o.cn = cn;
	o.san_dns = san_dns;
	o.serial = serial;
	o.nb_off = nb_off;
	o.na_off = na_off;
	return certgen_leaf_ex(ca, &o);
}

char *certgen_ca_pem(struct certgen_ca *ca)
{
	return cert_pem(ca->cert);
}

/* r NULL: on the CRL itself */
static void crl_add_raw_ext(X509_CRL *crl, X509_REVOKED *r, const char *oid, int crit,
                            const unsigned char *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	need(obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, der, len) == 1, "extension");
	e = X509_EXTENSION_create_by_OBJ(NULL, obj, crit, os);
	need(e != NULL, "extension");
	if (r != NULL)
		need(X509_REVOKED_add_ext(r, e, -1) == 1, "entry extension");
	else
		need(X509_CRL_add_ext(crl, e, -1) == 1, "CRL extension");
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

char *certgen_crl_ex(struct certgen_ca *ca, const long *serials, size_t n, long number,
                     unsigned flags)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 7, 0);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	BIO *b;
	size_t i;

	need(crl != NULL && now != NULL && next != NULL && num != NULL, "CRL setup");
	need(X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1, "CRL version");
	need(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) == 1, "CRL issuer");
	need(X509_CRL_set1_lastUpdate(crl, now) == 1, "thisUpdate");
	if (!(flags & CERTGEN_CRL_NO_NUMBER))
		need(X509_CRL_set1_nextUpdate(crl, next) == 1, "nextUpdate");
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		need(r != NULL && s != NULL && ASN1_INTEGER_set(s, serials[i]) == 1 &&
		         X509_REVOKED_set_serialNumber(r, s) == 1 &&
		         X509_REVOKED_set_revocationDate(r, now) == 1,
		     "revoked entry");
		if (i == 0 && (flags & CERTGEN_CRL_ENTRY_CRIT)) {
			/* GeneralNames { directoryName: empty Name }: enough for the test */
			static const unsigned char gn[] = {0x30, 0x04, 0xa4, 0x02, 0x30, 0x00};

			crl_add_raw_ext(crl, r, "2.5.29.29", 1, gn, (int)sizeof(gn));
		}
		need(X509_CRL_add0_revoked(crl, r) == 1, "add revoked");
		ASN1_INTEGER_free(s);
	}
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	need(e != NULL && X509_CRL_add_ext(crl, e, -1) == 1, "CRL AKI");
	X509_EXTENSION_free(e);
	if (!(flags & CERTGEN_CRL_NO_NUMBER)) {
		need(ASN1_INTEGER_set(num, number) == 1 &&
		         X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1,
		     "cRLNumber");
	}
	if (flags & CERTGEN_CRL_DELTA)
		need(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1, 0) == 1, "deltaCRLIndicator");
	if (flags & CERTGEN_CRL_CRIT_UNKNOWN) {
		static const unsigned char null_der[] = {0x05, 0x00};

		crl_add_raw_ext(crl, NULL, "1.3.6.1.4.1.55555.1", 1, null_der,
		                (int)sizeof(null_der));
	}
	need(X509_CRL_sort(crl) == 1, "CRL sort");
	need(X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0, "X509_CRL_sign");
	b = BIO_new(BIO_s_mem());
	need(b != NULL && PEM_write_bio_X509_CRL(b, crl) == 1, "PEM_write_bio_X509_CRL");
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return bio_string(b);
}

char *certgen_crl(struct certgen_ca *ca, const long *serials, size_t n, long number)
{
	return certgen_crl_ex(ca, serials, n, number, 0);
}

void certgen_ca_free(struct certgen_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}
