/*
 * X.509 device identities on OpenSSL 3: strict certificate and CRL parsing,
 * chain verification against a set of trusted CAs (time and revocation are
 * judged later by the caller), CRL signature checks.
 */
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

struct fw_cert {
	X509 *x;
	uint8_t *der; /* canonical DER, as parsed */
	size_t der_len;
	struct fw_cert_info info;
};

/* What fw_cert_verify_chain needs of an anchor, computed once when added. */
struct anchor {
	X509 *x; /* the object the store holds (one reference of ours) */
	uint8_t sha256[32];
	int64_t nb, na;
};

struct fw_cert_anchors {
	X509_STORE *store;
	struct anchor *v;
	size_t n, cap;
};

struct fw_crl {
	X509_CRL *x;
	struct fw_crl_info info;
};

#define PEM_LABEL_CERT "CERTIFICATE"
#define PEM_LABEL_CRL "X509 CRL"

static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown reason";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- time, integers, names ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm, no local time zone. */
static int64_t days_from_civil(int64_t y, int m, int dd)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* t comes from the certificate: ASN1_TIME_to_tm validates its syntax. */
static int time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	/* never NULL here: ASN1_TIME_to_tm(NULL) would mean "now" */
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

/* Non-negative INTEGER of at most 20 octets of magnitude (RFC 5280 §4.1.2.2)
 * -> lower-case hex without leading zeros. -1 otherwise. */
static int int_hex(const ASN1_INTEGER *v, char out[FW_SERIAL_HEX_MAX])
{
	const unsigned char *p;
	int len;

	if (v == NULL || ASN1_STRING_type(v) != V_ASN1_INTEGER)
		return -1;
	p = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len > 20)
		return -1;
	if (len == 0) {
		strcpy(out, "0");
		return 0;
	}
	fw_hex_encode(p, (size_t)len, out);
	if (out[0] == '0') /* high nibble of the first byte */
		memmove(out, out + 1, strlen(out));
	return 0;
}

/* One-line RFC 2253 form. XN_FLAG_RFC2253 escapes control and non-ASCII
 * bytes, so the text is safe to show. */
static int name_line(const X509_NAME *n, char out[512])
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;
	int ok = 0;

	out[0] = '\0';
	if (b != NULL && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &p);
		if (len >= 0) {
			if (len > 511) {
				memcpy(out, p, 508);
				memcpy(out + 508, "...", 4);
			} else {
				/* an empty Name prints nothing: p is NULL then */
				if (len > 0)
					memcpy(out, p, (size_t)len);
				out[len] = '\0';
			}
			ok = 1;
		}
	}
	BIO_free(b);
	return ok;
}

static int name_hash(const X509_NAME *n, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(n, &der);

	if (len <= 0)
		return 0;
	fw_sha256(der, (size_t)len, out);
	OPENSSL_free(der);
	return 1;
}

/* ---- strict PEM framing ---- */

/* First n[0..nl) in h[0..hl), or NULL. */
static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
	size_t k;

	for (k = 0; hl >= nl && k <= hl - nl; k++)
		if (h[k] == n[0] && memcmp(h + k, n, nl) == 0)
			return h + k;
	return NULL;
}

/*
 * The next block labelled `label` at *pos. The text is untrusted: only
 * whitespace may come before, between and after blocks (PEM_read_bio would
 * skip any garbage), the body is base64 only (no Proc-Type headers). On
 * FW_OK *der is OPENSSL_malloc'd, or NULL when only whitespace is left.
 */
static int pem_next(const char *p, size_t len, size_t *pos, const char *label, const char *what,
                    unsigned char **der, long *der_len, struct fw_diag *d)
{
	char begin[40], end[40];
	size_t bl, el, i = *pos, body, e;
	const char *endp, *dash;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	BIO *b = NULL;
	int rc = FW_E_FORMAT;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	bl = strlen(begin);
	el = strlen(end);
	*der = NULL;
	if (p == NULL) /* only with len 0 (callers check) */
		return FW_OK;
	while (i < len && is_space(p[i]))
		i++;
	if (i == len) {
		*pos = i;
		return FW_OK;
	}
	if (len - i < bl || memcmp(p + i, begin, bl) != 0)
		return fw_diag_set(d, FW_E_FORMAT, "%s: unexpected text at byte %zu (expected %s)",
		                   what, i, begin);
	body = i + bl;
	if (body < len && p[body] == '\r')
		body++;
	if (body >= len || p[body] != '\n')
		return fw_diag_set(d, FW_E_FORMAT, "%s: unexpected text after %s at byte %zu", what,
		                   begin, body);
	endp = find(p + body, len - body, end, el);
	if (endp == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "%s: truncated: no %s line after byte %zu", what,
		                   end, i);
	/* base64 has no '-': a second BEGIN inside means the first block is cut short */
	dash = memchr(p + body, '-', (size_t)(endp - (p + body)));
	if (dash != NULL)
		return fw_diag_set(d, FW_E_FORMAT,
		                   "%s: unexpected text inside the PEM block at byte %zu (truncated?)",
		                   what, (size_t)(dash - p));
	/* OpenSSL's decoder skips some characters it does not expect (a
	 * ",,2.x" appended to a line decoded to the same certificate): the
	 * body must be base64 and line breaks only */
	for (e = body; e < (size_t)(endp - p); e++) {
		char c = p[e];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r'))
			return fw_diag_set(d, FW_E_FORMAT,
			                   "%s: a character that is not base64 inside the PEM block at "
			                   "byte %zu",
			                   what, e);
	}
	e = (size_t)(endp - p) + el;
	if (e < len && !is_space(p[e]))
		return fw_diag_set(d, FW_E_FORMAT, "%s: unexpected text at byte %zu (after %s)", what,
		                   e, end);
	b = BIO_new_mem_buf(p + i, (int)(e - i));
	if (b == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", what);
		goto out;
	}
	if (PEM_read_bio_ex(b, &name, &header, &data, &dlen, PEM_FLAG_ONLY_B64) != 1 ||
	    strcmp(name, label) != 0 || header[0] != '\0' || dlen <= 0) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "%s: bad base64 or a PEM header in the block at byte %zu", what, i);
		goto out;
	}
	*der = data;
	*der_len = dlen;
	data = NULL;
	*pos = e;
	rc = FW_OK;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(b);
	return rc;
}

/* ---- certificates ---- */

/* Every CN must be printable UTF-8 of at most 255 bytes; keeps the last. */
static int cert_cn(X509 *x, char out[256])
{
	const X509_NAME *n = X509_get_subject_name(x);
	int i = -1;

	out[0] = '\0';
	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		unsigned char *u = NULL;
		int ul = ASN1_STRING_to_UTF8(&u, s);
		int ok = ul > 0 && ul < 256 && strlen((char *)u) == (size_t)ul && fw_text_valid((char *)u);

		if (ok)
			memcpy(out, u, (size_t)ul + 1);
		OPENSSL_free(u);
		if (!ok)
			return 0;
	}
	return 1;
}

void fw_cert_free(struct fw_cert *c)
{
	if (c == NULL)
		return;
	X509_free(c->x);
	free(c->der);
	free(c);
}

/* der is untrusted; what names it in messages. Takes no ownership of der. */
static int cert_new(const unsigned char *der, size_t len, const char *what, struct fw_cert **out,
                    struct fw_diag *d)
{
	struct fw_cert *c = calloc(1, sizeof(*c));
	struct fw_cert_info *in;
	const unsigned char *q = der;
	unsigned char *re = NULL;
	int relen, rc = FW_E_FORMAT;
	GENERAL_NAMES *san = NULL;
	int crit = -1;

	if (c == NULL || (c->der = malloc(len ? len : 1)) == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", what);
		goto out;
	}
	in = &c->info;
	c->x = d2i_X509(NULL, &q, (long)len);
	if (c->x == NULL) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: not an X.509 certificate (%s)", what,
		                 ossl_reason());
		goto out;
	}
	if (q != der + len) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: %zu bytes after the certificate", what,
		                 (size_t)(der + len - q));
		goto out;
	}
	/* BER outside the signed part would give the same certificate two ids
	 * (OpenSSL keeps the signed part as it came: BER there is not caught) */
	relen = i2d_X509(c->x, &re);
	if (relen < 0 || (size_t)relen != len || memcmp(re, der, len) != 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: not in canonical DER", what);
		goto out;
	}
	if (X509_get_extension_flags(c->x) & EXFLAG_INVALID) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: malformed or repeated extension", what);
		goto out;
	}
	san = X509_get_ext_d2i(c->x, NID_subject_alt_name, &crit, NULL);
	if (san == NULL && crit != -1) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: malformed subjectAltName", what);
		goto out;
	}
	memcpy(c->der, der, len);
	c->der_len = len;
	fw_sha256(der, len, in->sha256);
	if (!name_hash(X509_get_issuer_name(c->x), in->issuer_hash) ||
	    !name_hash(X509_get_subject_name(c->x), in->subject_hash) ||
	    !name_line(X509_get_subject_name(c->x), in->subject) ||
	    !name_line(X509_get_issuer_name(c->x), in->issuer)) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", what);
		goto out;
	}
	if (int_hex(X509_get0_serialNumber(c->x), in->serial) != 0) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "%s (%s): serial number is negative or longer than 20 octets", what,
		                 in->subject);
		goto out;
	}
	if (!cert_cn(c->x, in->subject_cn)) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "%s (%s): subject CN is not printable UTF-8 of at most 255 bytes", what,
		                 in->subject);
		goto out;
	}
	if (time_unix(X509_get0_notBefore(c->x), &in->not_before) != 0 ||
	    time_unix(X509_get0_notAfter(c->x), &in->not_after) != 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s (%s): unreadable validity time", what,
		                 in->subject);
		goto out;
	}
	in->is_ca = (X509_get_extension_flags(c->x) & EXFLAG_CA) != 0;
	*out = c;
	c = NULL;
	rc = FW_OK;
out:
	GENERAL_NAMES_free(san);
	OPENSSL_free(re);
	fw_cert_free(c);
	ERR_clear_error();
	return rc;
}

int fw_cert_from_der(const uint8_t *der, size_t len, struct fw_cert **out, struct fw_diag *d)
{
	if (der == NULL && len != 0)
		return fw_diag_set(d, FW_E_ARG, "certificate DER: no data");
	if (len > FW_MAX_CERT_PEM)
		return fw_diag_set(d, FW_E_TOO_LARGE,
		                   "certificate DER: %zu bytes, more than the limit of %d", len,
		                   FW_MAX_CERT_PEM);
	return cert_new(der, len, "certificate DER", out, d);
}

int fw_cert_from_pem(const char *pem, size_t len, struct fw_cert **out, struct fw_diag *d)
{
	static const char what[] = "certificate PEM";
	unsigned char *der = NULL, *more = NULL;
	long der_len = 0, more_len = 0;
	size_t pos = 0, second;
	int rc;

	if (pem == NULL && len != 0)
		return fw_diag_set(d, FW_E_ARG, "%s: no data", what);
	if (len > FW_MAX_CERT_PEM)
		return fw_diag_set(d, FW_E_TOO_LARGE, "%s: %zu bytes, more than the limit of %d", what,
		                   len, FW_MAX_CERT_PEM);
	rc = pem_next(pem, len, &pos, PEM_LABEL_CERT, what, &der, &der_len, d);
	if (rc != FW_OK)
		goto out;
	if (der == NULL) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: no certificate", what);
		goto out;
	}
	second = pos;
	while (second < len && is_space(pem[second]))
		second++;
	rc = pem_next(pem, len, &pos, PEM_LABEL_CERT, what, &more, &more_len, d);
	if (rc != FW_OK)
		goto out;
	if (more != NULL) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "%s: a second certificate at byte %zu where one is expected", what,
		                 second);
		goto out;
	}
	rc = cert_new(der, (size_t)der_len, what, out, d);
out:
	OPENSSL_free(der);
	OPENSSL_free(more);
	ERR_clear_error();
	return rc;
}

void fw_cert_bundle_free(struct fw_cert **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		fw_cert_free(v[i]);
	free(v);
}

int fw_cert_bundle_from_pem(const char *pem, size_t len, struct fw_cert ***out, size_t *n,
                            struct fw_diag *d)
{
	struct fw_cert **v = NULL, **nv;
	size_t cnt = 0, cap = 0, pos = 0;
	unsigned char *der = NULL;
	long der_len = 0;
	char what[64];
	int rc;

	if (pem == NULL && len != 0)
		return fw_diag_set(d, FW_E_ARG, "certificate bundle: no data");
	if (len > FW_MAX_CA_FILE)
		return fw_diag_set(d, FW_E_TOO_LARGE,
		                   "certificate bundle: %zu bytes, more than the limit of %d", len,
		                   FW_MAX_CA_FILE);
	for (;;) {
		snprintf(what, sizeof(what), "certificate bundle: certificate %zu", cnt + 1);
		rc = pem_next(pem, len, &pos, PEM_LABEL_CERT, what, &der, &der_len, d);
		if (rc != FW_OK)
			goto fail;
		if (der == NULL)
			break;
		nv = fw_grow(v, &cap, cnt + 1, sizeof(*v));
		if (nv == NULL) {
			rc = fw_diag_set(d, FW_E_NOMEM, "certificate bundle: out of memory");
			goto fail;
		}
		v = nv;
		rc = cert_new(der, (size_t)der_len, what, &v[cnt], d);
		OPENSSL_free(der);
		der = NULL;
		if (rc != FW_OK)
			goto fail;
		cnt++;
	}
	if (cnt == 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "certificate bundle: no certificate");
		goto fail;
	}
	*out = v;
	*n = cnt;
	return FW_OK;
fail:
	OPENSSL_free(der);
	fw_cert_bundle_free(v, cnt);
	ERR_clear_error();
	return rc;
}

void fw_cert_get_info(const struct fw_cert *c, struct fw_cert_info *out)
{
	*out = c->info;
}

int fw_cert_der(const struct fw_cert *c, uint8_t **der, size_t *len, struct fw_diag *d)
{
	uint8_t *p = malloc(c->der_len);

	if (p == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	memcpy(p, c->der, c->der_len);
	*der = p;
	*len = c->der_len;
	return FW_OK;
}

int fw_cert_pem(const struct fw_cert *c, char **pem, struct fw_diag *d)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s;
	long n;
	int rc = FW_E_NOMEM;

	if (b != NULL && PEM_write_bio_X509(b, c->x) == 1 && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
		*pem = s;
		rc = FW_OK;
	}
	BIO_free(b);
	ERR_clear_error();
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "certificate: cannot encode as PEM: out of memory");
	return FW_OK;
}

/* Byte compare of the whole string: embedded NULs in s never match. */
static int str_is(const ASN1_STRING *s, const char *id, size_t idlen)
{
	return s != NULL && (size_t)ASN1_STRING_length(s) == idlen &&
	       memcmp(ASN1_STRING_get0_data(s), id, idlen) == 0;
}

int fw_cert_names(const struct fw_cert *c, const char *id)
{
	const X509_NAME *n = X509_get_subject_name(c->x);
	GENERAL_NAMES *san;
	size_t idlen;
	int i = -1, found = 0;

	if (id == NULL || id[0] == '\0')
		return 0;
	idlen = strlen(id);
	while (!found && (i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		unsigned char *u = NULL;
		int ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));

		found = ul >= 0 && (size_t)ul == idlen && memcmp(u, id, idlen) == 0;
		OPENSSL_free(u);
	}
	san = X509_get_ext_d2i(c->x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; !found && san != NULL && i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

		if (g->type == GEN_DNS)
			found = str_is(g->d.dNSName, id, idlen);
		else if (g->type == GEN_URI)
			found = str_is(g->d.uniformResourceIdentifier, id, idlen);
	}
	GENERAL_NAMES_free(san);
	ERR_clear_error();
	return found;
}

/* ---- trust anchors and chains ---- */

int fw_cert_anchors_new(struct fw_cert_anchors **out, struct fw_diag *d)
{
	struct fw_cert_anchors *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->store = X509_STORE_new()) == NULL) {
		free(a);
		return fw_diag_set(d, FW_E_NOMEM, "trust anchors: out of memory");
	}
	/* time and revocation are judged by the caller; any anchor ends a chain */
	if (X509_STORE_set_flags(a->store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME) != 1) {
		fw_cert_anchors_free(a);
		ERR_clear_error();
		return fw_diag_set(d, FW_E_CRYPTO, "trust anchors: cannot set verification flags");
	}
	*out = a;
	return FW_OK;
}

void fw_cert_anchors_free(struct fw_cert_anchors *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		X509_free(a->v[i].x);
	free(a->v);
	X509_STORE_free(a->store);
	free(a);
}

int fw_cert_anchors_add(struct fw_cert_anchors *a, const struct fw_cert *ca, struct fw_diag *d)
{
	uint32_t ex = X509_get_extension_flags(ca->x);
	struct anchor *nv;
	size_t i;

	if (!ca->info.is_ca)
		return fw_diag_set(d, FW_E_VERIFY,
		                   "trust anchor %s: not a CA certificate (no basicConstraints CA:TRUE)",
		                   ca->info.subject);
	if ((ex & EXFLAG_KUSAGE) && !(X509_get_key_usage(ca->x) & KU_KEY_CERT_SIGN))
		return fw_diag_set(d, FW_E_VERIFY,
		                   "trust anchor %s: keyUsage does not allow signing certificates",
		                   ca->info.subject);
	for (i = 0; i < a->n; i++)
		if (memcmp(a->v[i].sha256, ca->info.sha256, 32) == 0)
			return FW_OK;
	nv = fw_grow(a->v, &a->cap, a->n + 1, sizeof(*nv));
	if (nv == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "trust anchors: out of memory");
	a->v = nv;
	if (X509_STORE_add_cert(a->store, ca->x) != 1) {
		int rc = fw_diag_set(d, FW_E_CRYPTO, "trust anchor %s: cannot add: %s",
		                     ca->info.subject, ossl_reason());

		ERR_clear_error();
		return rc;
	}
	if (X509_up_ref(ca->x) != 1)
		return fw_diag_set(d, FW_E_CRYPTO, "trust anchor %s: cannot take a reference",
		                   ca->info.subject);
	a->v[a->n].x = ca->x;
	memcpy(a->v[a->n].sha256, ca->info.sha256, 32);
	a->v[a->n].nb = ca->info.not_before;
	a->v[a->n].na = ca->info.not_after;
	a->n++;
	return FW_OK;
}

/* Window and id of a chain certificate. Above the leaf the chain holds only
 * store objects, which are the X509s we added: found by pointer. The
 * fallback computes the same values should OpenSSL ever hand out a copy. */
static int chain_cert(const struct fw_cert_anchors *a, X509 *x, int64_t *nb, int64_t *na,
                      uint8_t sha[32])
{
	unsigned int mdlen = 32;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (a->v[i].x == x) {
			*nb = a->v[i].nb;
			*na = a->v[i].na;
			memcpy(sha, a->v[i].sha256, 32);
			return 0;
		}
	}
	if (time_unix(X509_get0_notBefore(x), nb) != 0 || time_unix(X509_get0_notAfter(x), na) != 0 ||
	    X509_digest(x, EVP_sha256(), sha, &mdlen) != 1)
		return -1;
	return 0;
}

int fw_cert_verify_chain(const struct fw_cert_anchors *a, const struct fw_cert *leaf, int64_t *nb,
                         int64_t *na, uint8_t issuer_sha256[32], struct fw_diag *d)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *chain;
	int64_t lo = leaf->info.not_before, hi = leaf->info.not_after, xnb, xna;
	uint8_t sha[32], issuer[32];
	int i, n, rc = FW_E_VERIFY;

	if (leaf->info.is_ca)
		return fw_diag_set(d, FW_E_VERIFY,
		                   "certificate %s: is a CA certificate, not a device identity",
		                   leaf->info.subject);
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, a->store, leaf->x, NULL) != 1) {
		rc = fw_diag_set(d, FW_E_NOMEM, "certificate %s: cannot start verification: %s",
		                 leaf->info.subject, ossl_reason());
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);

		rc = fw_diag_set(d, FW_E_VERIFY, "certificate %s: %s (chain depth %d)",
		                 leaf->info.subject, X509_verify_cert_error_string(err),
		                 X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(ctx);
	n = chain ? sk_X509_num(chain) : 0;
	/* anchors are CAs and the leaf is not: a verified chain has an issuer */
	if (n < 2) {
		rc = fw_diag_set(d, FW_E_VERIFY, "certificate %s: chain has no issuer",
		                 leaf->info.subject);
		goto out;
	}
	for (i = 1; i < n; i++) {
		if (chain_cert(a, sk_X509_value(chain, i), &xnb, &xna, sha) != 0) {
			rc = fw_diag_set(d, FW_E_VERIFY, "certificate %s: unreadable CA certificate at "
			                 "chain depth %d", leaf->info.subject, i);
			goto out;
		}
		if (i == 1)
			memcpy(issuer, sha, 32);
		if (xnb > lo)
			lo = xnb;
		if (xna < hi)
			hi = xna;
	}
	*nb = lo;
	*na = hi;
	memcpy(issuer_sha256, issuer, 32);
	rc = FW_OK;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* ---- CRLs ---- */

void fw_crl_free(struct fw_crl *c)
{
	if (c == NULL)
		return;
	X509_CRL_free(c->x);
	free(c);
}

static int crl_new(const unsigned char *der, size_t len, const char *what, struct fw_crl **out,
                   struct fw_diag *d)
{
	struct fw_crl *c = calloc(1, sizeof(*c));
	struct fw_crl_info *in;
	const unsigned char *q = der;
	unsigned char *re = NULL;
	STACK_OF(X509_REVOKED) *rev;
	ASN1_INTEGER *num = NULL;
	const ASN1_TIME *next;
	int relen, crit = -1, i, rc = FW_E_FORMAT;

	if (c == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", what);
		goto out;
	}
	in = &c->info;
	c->x = d2i_X509_CRL(NULL, &q, (long)len);
	if (c->x == NULL) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: not an X.509 CRL (%s)", what, ossl_reason());
		goto out;
	}
	if (q != der + len) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: %zu bytes after the CRL", what,
		                 (size_t)(der + len - q));
		goto out;
	}
	relen = i2d_X509_CRL(c->x, &re);
	if (relen < 0 || (size_t)relen != len || memcmp(re, der, len) != 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: not in canonical DER", what);
		goto out;
	}
	fw_sha256(der, len, in->sha256);
	if (!name_hash(X509_CRL_get_issuer(c->x), in->issuer_hash) ||
	    !name_line(X509_CRL_get_issuer(c->x), in->issuer)) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", what);
		goto out;
	}
	next = X509_CRL_get0_nextUpdate(c->x);
	if (time_unix(X509_CRL_get0_lastUpdate(c->x), &in->this_update) != 0 ||
	    (next != NULL && time_unix(next, &in->next_update) != 0)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s (issuer %s): unreadable thisUpdate or nextUpdate",
		                 what, in->issuer);
		goto out;
	}
	num = X509_CRL_get_ext_d2i(c->x, NID_crl_number, &crit, NULL);
	if (num == NULL && crit != -1) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s (issuer %s): malformed or repeated cRLNumber",
		                 what, in->issuer);
		goto out;
	}
	if (num != NULL && int_hex(num, in->number) != 0) {
		rc = fw_diag_set(d, FW_E_FORMAT,
		                 "%s (issuer %s): cRLNumber is negative or longer than 20 octets", what,
		                 in->issuer);
		goto out;
	}
	rev = X509_CRL_get_REVOKED(c->x);
	in->revoked = rev ? (size_t)sk_X509_REVOKED_num(rev) : 0;
	for (i = 0; i < (int)in->revoked; i++) {
		char hex[FW_SERIAL_HEX_MAX];

		if (int_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, i)), hex) != 0) {
			rc = fw_diag_set(d, FW_E_FORMAT,
			                 "%s (issuer %s): entry %d: serial is negative or longer than 20 "
			                 "octets", what, in->issuer, i + 1);
			goto out;
		}
	}
	*out = c;
	c = NULL;
	rc = FW_OK;
out:
	ASN1_INTEGER_free(num);
	OPENSSL_free(re);
	fw_crl_free(c);
	ERR_clear_error();
	return rc;
}

int fw_crl_parse(const uint8_t *data, size_t len, struct fw_crl **out, struct fw_diag *d)
{
	static const char what[] = "CRL";
	const char *p = (const char *)data;
	unsigned char *der = NULL, *more = NULL;
	long der_len = 0, more_len = 0;
	size_t pos = 0, i = 0;
	int rc;

	if (data == NULL && len != 0)
		return fw_diag_set(d, FW_E_ARG, "CRL: no data");
	if (len > FW_MAX_CA_FILE)
		return fw_diag_set(d, FW_E_TOO_LARGE, "CRL: %zu bytes, more than the limit of %d", len,
		                   FW_MAX_CA_FILE);
	if (len > 0 && data[0] == 0x30) /* SEQUENCE: DER */
		return crl_new(data, len, "CRL (DER)", out, d);
	while (i < len && is_space(p[i]))
		i++;
	if (i == len || len - i < 10 || memcmp(p + i, "-----BEGIN", 10) != 0)
		return fw_diag_set(d, FW_E_FORMAT,
		                   "CRL: neither DER nor PEM (-----BEGIN " PEM_LABEL_CRL "-----)");
	rc = pem_next(p, len, &pos, PEM_LABEL_CRL, what, &der, &der_len, d);
	if (rc != FW_OK)
		goto out;
	rc = pem_next(p, len, &pos, PEM_LABEL_CRL, what, &more, &more_len, d);
	if (rc != FW_OK)
		goto out;
	if (more != NULL) {
		rc = fw_diag_set(d, FW_E_FORMAT, "CRL: more than one CRL in the PEM text");
		goto out;
	}
	rc = crl_new(der, (size_t)der_len, "CRL (PEM)", out, d);
out:
	OPENSSL_free(der);
	OPENSSL_free(more);
	ERR_clear_error();
	return rc;
}

void fw_crl_get_info(const struct fw_crl *c, struct fw_crl_info *out)
{
	*out = c->info;
}

int fw_crl_serial(const struct fw_crl *c, size_t i, char out[FW_SERIAL_HEX_MAX])
{
	if (i >= c->info.revoked)
		return FW_E_ARG;
	/* checked by crl_new: cannot fail */
	if (int_hex(X509_REVOKED_get0_serialNumber(
	                sk_X509_REVOKED_value(X509_CRL_get_REVOKED(c->x), (int)i)),
	            out) != 0)
		return FW_E_INTERNAL;
	return FW_OK;
}

/* Extensions whose meaning we apply (or that do not change it). */
static int crl_ext_known(int nid)
{
	return nid == NID_crl_number || nid == NID_authority_key_identifier;
}

static int entry_ext_known(int nid)
{
	return nid == NID_crl_reason || nid == NID_invalidity_date;
}

static void ext_name(X509_EXTENSION *e, char out[80])
{
	if (OBJ_obj2txt(out, 80, X509_EXTENSION_get_object(e), 0) <= 0)
		strcpy(out, "?");
}

int fw_crl_verify(const struct fw_crl *crl, struct fw_cert *const *cas, size_t ncas,
                  struct fw_diag *d)
{
	const STACK_OF(X509_EXTENSION) *exts;
	STACK_OF(X509_REVOKED) *rev;
	size_t i, named = 0;
	int j, k, ok = 0, rc = FW_E_SIGNATURE;
	char name[80];

	for (i = 0; i < ncas && !ok; i++) {
		const struct fw_cert *ca = cas[i];
		EVP_PKEY *pk;

		if (ca == NULL || memcmp(ca->info.subject_hash, crl->info.issuer_hash, 32) != 0)
			continue;
		named++;
		if (!ca->info.is_ca || ((X509_get_extension_flags(ca->x) & EXFLAG_KUSAGE) &&
		                        !(X509_get_key_usage(ca->x) & KU_CRL_SIGN)))
			continue;
		pk = X509_get0_pubkey(ca->x);
		ok = pk != NULL && X509_CRL_verify(crl->x, pk) == 1;
	}
	ERR_clear_error();
	if (!ok) {
		if (named == 0)
			return fw_diag_set(d, FW_E_SIGNATURE, "CRL of %s: no CA of that name among the %zu "
			                   "given", crl->info.issuer, ncas);
		return fw_diag_set(d, FW_E_SIGNATURE,
		                   "CRL of %s: signature does not verify with any CA of that name "
		                   "(%zu tried)", crl->info.issuer, named);
	}
	/* scope: a delta, partial or indirect CRL is not the whole list for its issuer */
	rc = FW_E_VERIFY;
	if (X509_CRL_get_ext_by_NID(crl->x, NID_delta_crl, -1) >= 0)
		return fw_diag_set(d, rc, "CRL of %s: is a delta CRL (not supported)", crl->info.issuer);
	exts = X509_CRL_get0_extensions(crl->x);
	for (j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, j);

		if (X509_EXTENSION_get_critical(e) &&
		    !crl_ext_known(OBJ_obj2nid(X509_EXTENSION_get_object(e)))) {
			ext_name(e, name);
			return fw_diag_set(d, rc, "CRL of %s: critical extension %s not understood",
			                   crl->info.issuer, name);
		}
	}
	rev = X509_CRL_get_REVOKED(crl->x);
	for (j = 0; rev != NULL && j < sk_X509_REVOKED_num(rev); j++) {
		const X509_REVOKED *r = sk_X509_REVOKED_value(rev, j);

		exts = X509_REVOKED_get0_extensions(r);
		for (k = 0; k < sk_X509_EXTENSION_num(exts); k++) {
			X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, k);

			if (X509_EXTENSION_get_critical(e) &&
			    !entry_ext_known(OBJ_obj2nid(X509_EXTENSION_get_object(e)))) {
				ext_name(e, name);
				return fw_diag_set(d, rc, "CRL of %s: entry %d: critical extension %s not "
				                   "understood", crl->info.issuer, j + 1, name);
			}
		}
	}
	return FW_OK;
}
