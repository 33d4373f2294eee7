/*
 * libfwv crypto port on OpenSSL 3 (host builds only; devices bring their
 * own port). The hash state slot holds a pointer to an EVP_MD_CTX.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "fwv.h"

_Static_assert(sizeof(void *) <= FWV_HASH_STATE_SIZE, "hash state holds a pointer");

static EVP_MD_CTX **slot(void *state)
{
	return (EVP_MD_CTX **)state;
}

static int hash_init(void *state)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	*slot(state) = md;
	return 0;
}

static int hash_update(void *state, const uint8_t *data, size_t len)
{
	return EVP_DigestUpdate(*slot(state), data, len) == 1 ? 0 : -1;
}

static int hash_final(void *state, uint8_t out[FWV_SHA256_LEN])
{
	unsigned int n = 0;
	int ok = EVP_DigestFinal_ex(*slot(state), out, &n) == 1 && n == FWV_SHA256_LEN;

	EVP_MD_CTX_free(*slot(state));
	*slot(state) = NULL;
	return ok ? 0 : -1;
}

static void hash_abort(void *state)
{
	EVP_MD_CTX_free(*slot(state));
	*slot(state) = NULL;
}

static EVP_PKEY *p256_from_point(const uint8_t *pub, size_t len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (len != 65 || pub[0] != 0x04)
		return NULL;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* COSE carries ECDSA as raw r||s; OpenSSL wants DER. */
static int raw_to_der(const uint8_t sig[FWV_SIG_LEN], unsigned char **der, int *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL);
	BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
	int ok = 0;

	if (es == NULL || r == NULL || s == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by es now */
	*der = NULL;
	*der_len = i2d_ECDSA_SIG(es, der);
	ok = *der_len > 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

static int verify(int key_type, const uint8_t *pub, size_t pub_len,
                  const uint8_t *msg, size_t msg_len, const uint8_t sig[FWV_SIG_LEN])
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	int der_len = 0, rc = -1, v;

	if (key_type == FWV_KEY_ED25519) {
		if (pub_len != 32)
			return -1;
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, pub_len);
	} else if (key_type == FWV_KEY_P256) {
		pkey = p256_from_point(pub, pub_len);
	}
	md = EVP_MD_CTX_new();
	if (pkey == NULL || md == NULL)
		goto out; /* -1: the trusted key itself is unusable */
	if (key_type == FWV_KEY_ED25519) {
		if (EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, pkey, NULL) != 1)
			goto out;
		v = EVP_DigestVerify(md, sig, FWV_SIG_LEN, msg, msg_len);
	} else {
		if (!raw_to_der(sig, &der, &der_len) ||
		    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1)
			goto out;
		v = EVP_DigestVerify(md, der, (size_t)der_len, msg, msg_len);
	}
	/* 1 valid, 0 invalid; OpenSSL's negative values are failures, but a
	 * signature it cannot even parse (r or s out of range) is invalid */
	rc = v == 1 ? 0 : 1;
out:
	ERR_clear_error(); /* a refusal is an answer, not an error to report later */
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

static const struct fwv_port openssl_port = {
	hash_init, hash_update, hash_final, hash_abort, verify
};

const struct fwv_port *fwv_port_openssl(void)
{
	return &openssl_port;
}
