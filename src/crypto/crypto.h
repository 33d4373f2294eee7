/*
 * crypto: signing keys on OpenSSL 3 (EVP). Key generation, PEM load and
 * save, key ids, COSE-form signatures, streaming file digests.
 */
#ifndef FW_CRYPTO_H
#define FW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "fwv.h"

#define FW_KEY_ID_LEN 32

enum fw_key_alg {
	FW_KEY_ALG_ED25519 = FWV_KEY_ED25519,
	FW_KEY_ALG_P256 = FWV_KEY_P256
};

/* Opaque key: a public key, with its private half when loaded from a
 * private key file or generated. */
struct fw_key;

/* "ed25519" / "p256" -> alg; FW_E_ARG otherwise. */
FW_NODISCARD int fw_key_alg_parse(const char *name, int *alg);
const char *fw_key_alg_name(int alg);

/* New key pair. *out is owned by the caller (fw_key_free). */
FW_NODISCARD int fw_key_generate(int alg, struct fw_key **out, struct fw_diag *d);

/* Write <base>.key (PKCS#8 PEM, mode 0600) and <base>.pub (SPKI PEM).
 * Refuses to overwrite either; writes both or neither. */
FW_NODISCARD int fw_key_save(const struct fw_key *key, const char *base, struct fw_diag *d);

/* Load a private key (PKCS#8 PEM) or a public key (SPKI PEM) from path.
 * Only Ed25519 and P-256 keys are accepted. The file is untrusted input. */
FW_NODISCARD int fw_key_load_private(const char *path, struct fw_key **out, struct fw_diag *d);
FW_NODISCARD int fw_key_load_public(const char *path, struct fw_key **out, struct fw_diag *d);

/* A public key from PEM text already in memory (e.g. from the registry). */
FW_NODISCARD int fw_key_from_pem(const char *pem, size_t len, struct fw_key **out,
                                 struct fw_diag *d);

void fw_key_free(struct fw_key *key);

int fw_key_alg(const struct fw_key *key);
/* COSE algorithm used when signing: ESP256 (-9) or Ed25519 (-19). */
int fw_key_cose_alg(const struct fw_key *key);
/* SHA-256 of the DER SubjectPublicKeyInfo. */
const uint8_t *fw_key_id(const struct fw_key *key);
void fw_key_id_hex(const struct fw_key *key, char out[2 * FW_KEY_ID_LEN + 1]);
/* Trusted-key view for libfwv; valid while key lives. */
void fw_key_to_fwv(const struct fw_key *key, struct fwv_key *out);

/* COSE signature (64 bytes: raw r||s for P-256, Ed25519 otherwise) over msg. */
FW_NODISCARD int fw_key_sign(const struct fw_key *key, const uint8_t *msg, size_t len,
                             uint8_t sig[64], struct fw_diag *d);

/* SHA-256 of a file, read in streaming blocks; also returns its size. */
FW_NODISCARD int fw_sha256_file(const char *path, uint8_t out[32], uint64_t *size,
                                struct fw_diag *d);
void fw_sha256(const uint8_t *p, size_t n, uint8_t out[32]);

#endif
