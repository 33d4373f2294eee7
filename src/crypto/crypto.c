#define _GNU_SOURCE /* memmem */
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

struct fw_key {
	EVP_PKEY *pkey;
	int alg;
	int has_private;
	uint8_t id[FW_KEY_ID_LEN];
	uint8_t pub[65];   /* raw public key as libfwv takes it */
	size_t pub_len;
};

#define FILE_BLOCK (1024 * 1024)

int fw_key_alg_parse(const char *name, int *alg)
{
	if (strcmp(name, "ed25519") == 0) {
		*alg = FW_KEY_ALG_ED25519;
		return FW_OK;
	}
	if (strcmp(name, "p256") == 0) {
		*alg = FW_KEY_ALG_P256;
		return FW_OK;
	}
	return FW_E_ARG;
}

const char *fw_key_alg_name(int alg)
{
	return alg == FW_KEY_ALG_ED25519 ? "ed25519" : alg == FW_KEY_ALG_P256 ? "p256" : "unknown";
}

static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown reason";
}

/* Fill id and raw public key; decide the algorithm (only two accepted). */
static int key_finish(struct fw_key *k, struct fw_diag *d, const char *where)
{
	unsigned char *der = NULL;
	int der_len;

	if (EVP_PKEY_is_a(k->pkey, "ED25519")) {
		k->alg = FW_KEY_ALG_ED25519;
		k->pub_len = 32;
		if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &k->pub_len) != 1 || k->pub_len != 32)
			return fw_diag_set(d, FW_E_KEY, "%s: cannot read the Ed25519 public key", where);
	} else if (EVP_PKEY_is_a(k->pkey, "EC")) {
		char group[64];
		size_t glen = 0;

		if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof(group), &glen) != 1 ||
		    strcmp(group, "prime256v1") != 0)
			return fw_diag_set(d, FW_E_KEY,
			                   "%s: EC key is not on P-256 (only ed25519 and p256 are accepted)",
			                   where);
		k->alg = FW_KEY_ALG_P256;
		/* uncompressed point whatever the file used */
		if (EVP_PKEY_set_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		                                   "uncompressed") != 1 ||
		    EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, k->pub,
		                                    sizeof(k->pub), &k->pub_len) != 1 ||
		    k->pub_len != 65)
			return fw_diag_set(d, FW_E_KEY, "%s: cannot read the P-256 public key", where);
	} else {
		return fw_diag_set(d, FW_E_KEY,
		                   "%s: key type %s is not accepted (only ed25519 and p256)", where,
		                   EVP_PKEY_get0_type_name(k->pkey));
	}
	der_len = i2d_PUBKEY(k->pkey, &der);
	if (der_len <= 0)
		return fw_diag_set(d, FW_E_CRYPTO, "%s: cannot encode the public key", where);
	fw_sha256(der, (size_t)der_len, k->id);
	OPENSSL_free(der);
	return FW_OK;
}

int fw_key_generate(int alg, struct fw_key **out, struct fw_diag *d)
{
	struct fw_key *k = calloc(1, sizeof(*k));
	int rc;

	if (k == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (alg == FW_KEY_ALG_ED25519)
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == FW_KEY_ALG_P256)
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (k->pkey == NULL) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "key generation failed: %s", ossl_reason());
		goto fail;
	}
	k->has_private = 1;
	rc = key_finish(k, d, "generated key");
	if (rc != FW_OK)
		goto fail;
	*out = k;
	return FW_OK;
fail:
	fw_key_free(k);
	ERR_clear_error();
	return rc;
}

/* PEM into a memory buffer; *len set. Caller frees with fw_wipe + free. */
static int pem_to_mem(const struct fw_key *k, int private_part, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok;

	if (b == NULL)
		return 0;
	ok = private_part ? PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)
	                  : PEM_write_bio_PUBKEY(b, k->pkey);
	n = BIO_get_mem_data(b, &p);
	if (ok && n > 0 && (*out = malloc((size_t)n)) != NULL) {
		memcpy(*out, p, (size_t)n);
		*len = (size_t)n;
	} else {
		ok = 0;
	}
	if (private_part && n > 0)
		OPENSSL_cleanse(p, (size_t)n);
	BIO_free(b);
	return ok;
}

int fw_key_save(const struct fw_key *key, const char *base, struct fw_diag *d)
{
	char keypath[4096], pubpath[4096];
	char *priv = NULL, *pub = NULL;
	size_t privlen = 0, publen = 0;
	struct fw_file_out files[2];
	int rc;

	if (!key->has_private)
		return fw_diag_set(d, FW_E_KEY, "no private key to save");
	if ((size_t)snprintf(keypath, sizeof(keypath), "%s.key", base) >= sizeof(keypath) ||
	    (size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", base) >= sizeof(pubpath))
		return fw_diag_set(d, FW_E_ARG, "--out: path too long");
	if (!pem_to_mem(key, 1, &priv, &privlen) || !pem_to_mem(key, 0, &pub, &publen)) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "cannot encode the key as PEM");
		goto out;
	}
	files[0] = (struct fw_file_out){keypath, priv, privlen, 0600};
	files[1] = (struct fw_file_out){pubpath, pub, publen, 0644};
	rc = fw_files_commit(files, 2, 0, d);
out:
	if (priv)
		fw_wipe(priv, privlen);
	free(priv);
	free(pub);
	return rc;
}

/* Encrypted keys are refused, never prompted for: fwtrust runs unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int key_load(const char *path, int private_part, struct fw_key **out, struct fw_diag *d)
{
	struct fw_key *k = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	int rc;

	rc = fw_file_read(path, FW_MAX_KEY_FILE, &buf, &len, d);
	if (rc != FW_OK)
		return rc;
	k = calloc(1, sizeof(*k));
	b = BIO_new_mem_buf(buf, (int)len);
	if (k == NULL || b == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto fail;
	}
	k->pkey = private_part ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
	                       : PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
	if (k->pkey == NULL) {
		if (private_part && memmem(buf, len, "ENCRYPTED", 9) != NULL)
			rc = fw_diag_set(d, FW_E_KEY,
			                 "%s: the private key is encrypted; fwtrust needs an unencrypted "
			                 "PEM key (keep it in a protected location)", path);
		else
			rc = fw_diag_set(d, FW_E_KEY, "%s: not a PEM %s key", path,
			                 private_part ? "private" : "public (SubjectPublicKeyInfo)");
		goto fail;
	}
	k->has_private = private_part;
	rc = key_finish(k, d, path);
	if (rc != FW_OK)
		goto fail;
	*out = k;
	k = NULL;
fail:
	BIO_free(b);
	if (private_part)
		fw_wipe(buf, len);
	free(buf);
	fw_key_free(k);
	ERR_clear_error();
	return rc;
}

int fw_key_from_pem(const char *pem, size_t len, struct fw_key **out, struct fw_diag *d)
{
	struct fw_key *k = calloc(1, sizeof(*k));
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	int rc;

	if (k == NULL || b == NULL || len > FW_MAX_KEY_FILE) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto fail;
	}
	k->pkey = PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
	if (k->pkey == NULL) {
		rc = fw_diag_set(d, FW_E_KEY, "stored key: not a PEM public key");
		goto fail;
	}
	rc = key_finish(k, d, "stored key");
	if (rc != FW_OK)
		goto fail;
	*out = k;
	k = NULL;
fail:
	BIO_free(b);
	fw_key_free(k);
	ERR_clear_error();
	return rc;
}

int fw_key_load_private(const char *path, struct fw_key **out, struct fw_diag *d)
{
	return key_load(path, 1, out, d);
}

int fw_key_load_public(const char *path, struct fw_key **out, struct fw_diag *d)
{
	return key_load(path, 0, out, d);
}

void fw_key_free(struct fw_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	fw_wipe(key, sizeof(*key));
	free(key);
}

int fw_key_alg(const struct fw_key *key)
{
	return key->alg;
}

int fw_key_cose_alg(const struct fw_key *key)
{
	return key->alg == FW_KEY_ALG_ED25519 ? FWV_COSE_ED25519 : FWV_COSE_ESP256;
}

const uint8_t *fw_key_id(const struct fw_key *key)
{
	return key->id;
}

void fw_key_id_hex(const struct fw_key *key, char out[2 * FW_KEY_ID_LEN + 1])
{
	fw_hex_encode(key->id, FW_KEY_ID_LEN, out);
}

void fw_key_to_fwv(const struct fw_key *key, struct fwv_key *out)
{
	out->id = key->id;
	out->type = key->alg;
	out->pub = key->pub;
	out->pub_len = key->pub_len;
}

int fw_key_sign(const struct fw_key *key, const uint8_t *msg, size_t len, uint8_t sig[64],
                struct fw_diag *d)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *dp = der;
	size_t siglen;
	ECDSA_SIG *es = NULL;
	int rc = FW_E_CRYPTO;

	if (!key->has_private) {
		EVP_MD_CTX_free(md);
		return fw_diag_set(d, FW_E_KEY, "signing needs a private key");
	}
	if (md == NULL)
		goto out;
	if (key->alg == FW_KEY_ALG_ED25519) {
		siglen = 64;
		if (EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL) != 1 ||
		    EVP_DigestSign(md, sig, &siglen, msg, len) != 1 || siglen != 64)
			goto out;
	} else {
		const BIGNUM *r, *s;

		siglen = sizeof(der);
		if (EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key->pkey, NULL) != 1 ||
		    EVP_DigestSign(md, der, &siglen, msg, len) != 1)
			goto out;
		es = d2i_ECDSA_SIG(NULL, &dp, (long)siglen);
		if (es == NULL)
			goto out;
		ECDSA_SIG_get0(es, &r, &s);
		/* COSE wants r||s, each left-padded to 32 bytes (RFC 9053 §2.1) */
		if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
			goto out;
	}
	rc = FW_OK;
out:
	if (rc != FW_OK)
		fw_diag_set(d, rc, "signing failed: %s", ossl_reason());
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

/* One fetched SHA-256 and one context per thread: EVP_Digest fetches the
 * implementation (locks, lookups) on every call, a cost the device API
 * pays per request (its token). Freed by fw_crypto_thread_stop. */
static _Thread_local EVP_MD *sha_md;
static _Thread_local EVP_MD_CTX *sha_ctx;

void fw_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	if (sha_md == NULL)
		sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha_ctx == NULL)
		sha_ctx = EVP_MD_CTX_new();
	if (sha_md == NULL || sha_ctx == NULL || EVP_DigestInit_ex2(sha_ctx, sha_md, NULL) != 1 ||
	    EVP_DigestUpdate(sha_ctx, p, n) != 1 || EVP_DigestFinal_ex(sha_ctx, out, &len) != 1)
		memset(out, 0, 32); /* no digest: equals no stored hash of anything */
}

int fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n,
                   uint8_t out[32], struct fw_diag *d)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	uint8_t tag[32];
	size_t len = 0;
	int rc = FW_E_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && key_len > 0 && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
	    EVP_MAC_update(ctx, msg, n) == 1 && EVP_MAC_final(ctx, tag, &len, sizeof(tag)) == 1 &&
	    len == sizeof(tag)) {
		memcpy(out, tag, sizeof(tag));
		rc = FW_OK;
	}
	OPENSSL_cleanse(tag, sizeof(tag));
	EVP_MAC_CTX_free(ctx); /* wipes the key copy it holds */
	EVP_MAC_free(mac);
	if (rc != FW_OK)
		return fw_diag_set(d, rc, "HMAC-SHA256 failed");
	return FW_OK;
}

int fw_random(uint8_t *out, size_t n, struct fw_diag *d)
{
	if (n > INT32_MAX || RAND_bytes(out, (int)n) != 1)
		return fw_diag_set(d, FW_E_CRYPTO, "the random number generator failed");
	return FW_OK;
}

int fw_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void fw_crypto_thread_stop(void)
{
	EVP_MD_CTX_free(sha_ctx);
	EVP_MD_free(sha_md);
	sha_ctx = NULL;
	sha_md = NULL;
	OPENSSL_thread_stop();
}

int fw_key_verify(const struct fw_key *key, const uint8_t *msg, size_t len,
                  const uint8_t sig[64])
{
	EVP_MD_CTX *md;
	int ok;

	if (key->alg != FW_KEY_ALG_ED25519)
		return FW_E_KEY;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1 &&
	     EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? FW_OK : FW_E_SIGNATURE;
}

int fw_file_digests(const char *path, uint8_t sha256[32], uint8_t sha1[20], uint8_t md5[16],
                    uint64_t *size, struct fw_diag *d)
{
	const EVP_MD *algs[3] = {EVP_sha256(), EVP_sha1(), EVP_md5()};
	uint8_t *outs[3] = {sha256, sha1, md5};
	EVP_MD_CTX *md[3] = {NULL, NULL, NULL};
	uint8_t *buf = NULL;
	uint64_t total = 0;
	unsigned int len;
	int fd, i, rc = FW_E_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	buf = malloc(FILE_BLOCK);
	for (i = 0; i < 3; i++) {
		md[i] = EVP_MD_CTX_new();
		if (md[i] == NULL || EVP_DigestInit_ex(md[i], algs[i], NULL) != 1)
			buf = (free(buf), NULL);
	}
	if (buf == NULL) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "%s: cannot start hashing", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, FILE_BLOCK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		for (i = 0; i < 3; i++) {
			if (EVP_DigestUpdate(md[i], buf, (size_t)r) != 1) {
				rc = fw_diag_set(d, FW_E_CRYPTO, "%s: hashing failed", path);
				goto out;
			}
		}
		total += (uint64_t)r;
	}
	for (i = 0; i < 3; i++) {
		len = 32;
		if (EVP_DigestFinal_ex(md[i], outs[i], &len) != 1) {
			rc = fw_diag_set(d, FW_E_CRYPTO, "%s: hashing failed", path);
			goto out;
		}
	}
	*size = total;
	rc = FW_OK;
out:
	for (i = 0; i < 3; i++)
		EVP_MD_CTX_free(md[i]);
	free(buf);
	close(fd);
	return rc;
}

int fw_sha256_file(const char *path, uint8_t out[32], uint64_t *size, struct fw_diag *d)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	unsigned int len = 32;
	int fd, rc = FW_E_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = malloc(FILE_BLOCK);
	md = EVP_MD_CTX_new();
	if (buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, FILE_BLOCK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)r) != 1) {
			rc = fw_diag_set(d, FW_E_CRYPTO, "%s: hashing failed", path);
			goto out;
		}
		total += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(md, out, &len) != 1) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "%s: hashing failed", path);
		goto out;
	}
	*size = total;
	rc = FW_OK;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	close(fd);
	return rc;
}
