/*
 * bench_sigs: envelope verifications per second for each signature
 * algorithm, printed beside a baseline measured in the same run.
 *
 *   fwv_begin     fwv_init + fwv_begin + fwv_clear on a signed envelope
 *                 (CBOR walk, manifest digest, key import, signature)
 *   port verify   fwv_port_openssl()->verify alone on a 64-byte message
 *                 (key import from raw bytes + signature)
 *   EVP verify    baseline, like `openssl speed`: EVP_DigestVerify of the
 *                 same 64-byte message with a key imported once
 *
 * The ratio fwv_begin / EVP verify is what the envelope costs on top of
 * the bare signature check. Not a test: it prints numbers and exits 0
 * unless something fails to verify.
 *
 * usage: bench_sigs [SECONDS]   (per measurement, default 1.0; each is the
 *        best of 10 slices, the three measurements taking turns)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "fwv.h"
#include "suit/suit.h"

#define MSG_LEN 64

/* What one timed loop does; returns 0 when the signature verified. */
struct job {
	int (*once)(const struct job *j);
	const uint8_t *env;
	size_t env_len;
	const struct fwv_key *key;
	const struct fwv_device *dev;
	EVP_PKEY *pkey;
	const char *md_name;          /* NULL for Ed25519 */
	const uint8_t *msg;
	const uint8_t *sig;           /* COSE form (raw) */
	const unsigned char *der;     /* OpenSSL form: DER for ECDSA, raw for Ed25519 */
	size_t der_len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int once_fwv(const struct job *j)
{
	struct fwv_ctx ctx;
	int rc;

	fwv_init(&ctx, fwv_port_openssl());
	rc = fwv_begin(&ctx, j->env, j->env_len, j->key, 1, j->dev);
	fwv_clear(&ctx);
	return rc == FWV_OK ? 0 : -1;
}

static int once_port(const struct job *j)
{
	return fwv_port_openssl()->verify(j->key->type, j->key->pub, j->key->pub_len, j->msg,
	                                  MSG_LEN, j->sig);
}

static int once_evp(const struct job *j)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL &&
	         EVP_DigestVerifyInit_ex(md, NULL, j->md_name, NULL, NULL, j->pkey, NULL) == 1 &&
	         EVP_DigestVerify(md, j->der, j->der_len, j->msg, MSG_LEN) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

#define ROUNDS 10

/* Operations per second in one timed slice of `secs`; -1 on a failure. */
static double slice(const struct job *j, double secs)
{
	double t0, t;
	unsigned long n = 0;

	t0 = now();
	do {
		if (j->once(j) != 0)
			return -1;
		n++;
		t = now();
	} while (t - t0 < secs);
	return (double)n / (t - t0);
}

/*
 * Best rate of each job over ROUNDS slices, the jobs taking turns so that
 * a burst of load from elsewhere hits all of them alike. Best, not mean:
 * noise only ever makes a run slower. Returns -1 on a failure.
 */
static int rates(struct job *jobs, size_t njobs, double secs, double *best)
{
	size_t i;
	int round, k;

	for (i = 0; i < njobs; i++) {
		best[i] = 0;
		for (k = 0; k < 16; k++) /* warm caches and lazy provider loading */
			if (jobs[i].once(&jobs[i]) != 0)
				return -1;
	}
	for (round = 0; round < ROUNDS; round++)
		for (i = 0; i < njobs; i++) {
			double r = slice(&jobs[i], secs / ROUNDS);

			if (r < 0)
				return -1;
			if (r > best[i])
				best[i] = r;
		}
	return 0;
}

static EVP_PKEY *pkey_from_fwv(const struct fwv_key *k)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (k->type == FWV_KEY_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pub, k->pub_len);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, k->pub, k->pub_len))
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

/* raw r||s -> DER ECDSA-Sig-Value; *der is OPENSSL_malloc'd */
static int sig_to_der(const uint8_t sig[64], unsigned char **der, size_t *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	int n = -1;

	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;
		*der = NULL;
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return -1;
	*der_len = (size_t)n;
	return 0;
}

static int bench_alg(int alg, double secs)
{
	struct fw_suit_manifest m;
	struct fw_diag d = {{0}};
	struct fw_key *key = NULL;
	struct fwv_key fk;
	struct fwv_device dev;
	struct job j, jobs[3];
	uint8_t *env = NULL, msg[MSG_LEN], sig[64];
	unsigned char *der = NULL;
	size_t env_len = 0, der_len = 0, i;
	double r_fwv, r_port, r_evp, best[3];
	const char *name = fw_key_alg_name(alg);
	int rc = -1;

	memset(&j, 0, sizeof(j));
	memset(&m, 0, sizeof(m));
	memset(m.vendor_id, 0x11, sizeof(m.vendor_id));
	memset(m.class_id, 0x22, sizeof(m.class_id));
	m.sequence = 7;
	m.version = "1.2.3";
	m.image_size = 256u << 20;
	for (i = 0; i < sizeof(m.image_digest); i++)
		m.image_digest[i] = (uint8_t)i;
	for (i = 0; i < MSG_LEN; i++)
		msg[i] = (uint8_t)(0xa5 ^ i);

	if (fw_key_generate(alg, &key, &d) != FW_OK ||
	    fw_suit_sign(&m, key, &env, &env_len, &d) != FW_OK ||
	    fw_key_sign(key, msg, MSG_LEN, sig, &d) != FW_OK) {
		fprintf(stderr, "bench_sigs: %s: %s\n", name, d.msg);
		goto out;
	}
	fw_key_to_fwv(key, &fk);
	memset(&dev, 0, sizeof(dev));
	dev.flags = FWV_F_SKIP_VENDOR | FWV_F_SKIP_CLASS | FWV_F_SKIP_DEVICE | FWV_F_SKIP_SEQUENCE;

	j.env = env;
	j.env_len = env_len;
	j.key = &fk;
	j.dev = &dev;
	j.msg = msg;
	j.sig = sig;
	j.pkey = pkey_from_fwv(&fk);
	if (j.pkey == NULL) {
		fprintf(stderr, "bench_sigs: %s: cannot import the public key\n", name);
		goto out;
	}
	if (alg == FW_KEY_ALG_P256) {
		if (sig_to_der(sig, &der, &der_len) != 0) {
			fprintf(stderr, "bench_sigs: %s: cannot encode the signature\n", name);
			goto out;
		}
		j.md_name = "SHA256";
		j.der = der;
		j.der_len = der_len;
	} else {
		j.der = sig;
		j.der_len = 64;
	}

	jobs[0] = jobs[1] = jobs[2] = j;
	jobs[0].once = once_evp;
	jobs[1].once = once_port;
	jobs[2].once = once_fwv;
	if (rates(jobs, 3, secs, best) != 0) {
		fprintf(stderr, "bench_sigs: %s: a signature did not verify\n", name);
		goto out;
	}
	r_evp = best[0];
	r_port = best[1];
	r_fwv = best[2];
	printf("%-8s %-34s %10.0f /s\n", name, "EVP verify (baseline, key reused)", r_evp);
	printf("%-8s %-34s %10.0f /s  ratio %.2fx baseline\n", name, "port verify (key imported)", r_port,
	       r_port / r_evp);
	printf("%-8s %-34s %10.0f /s  ratio %.2fx baseline  (%zu-byte envelope)\n", name,
	       "fwv_begin (whole envelope)", r_fwv, r_fwv / r_evp, env_len);
	/* differences of two noisy rates: a few us either way is noise, and a
	 * difference below zero is shown as such rather than as a negative cost */
	{
		double import = 1e6 / r_port - 1e6 / r_evp, parse = 1e6 / r_fwv - 1e6 / r_port;

		printf("%-8s per envelope verify: %.1f us = signature %.1f", name, 1e6 / r_fwv,
		       1e6 / r_evp);
		if (import > 0)
			printf(" + key import %.1f", import);
		else
			printf(" + key import (within noise)");
		if (parse > 0)
			printf(" + envelope parsing %.1f us\n", parse);
		else
			printf(" + envelope parsing (within noise)\n");
	}
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(j.pkey);
	free(env);
	fw_key_free(key);
	return rc;
}

int main(int argc, char **argv)
{
	double secs = 1.0;
	int rc = 0;

	if (argc > 2 || (argc == 2 && ((secs = strtod(argv[1], NULL)) <= 0 || secs > 60))) {
		fprintf(stderr, "usage: bench_sigs [SECONDS]   (0 < SECONDS <= 60, default 1)\n");
		return 2;
	}
	printf("signature verification, %s, %.1f s per measurement (best of %d slices)\n",
	       OpenSSL_version(OPENSSL_VERSION), secs, ROUNDS);
	if (bench_alg(FW_KEY_ALG_ED25519, secs) != 0)
		rc = 1;
	if (bench_alg(FW_KEY_ALG_P256, secs) != 0)
		rc = 1;
	return rc;
}
