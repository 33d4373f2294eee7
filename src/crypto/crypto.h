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

/* Verify an Ed25519 signature over msg: FW_OK, FW_E_SIGNATURE, or FW_E_KEY
 * for a key of another algorithm. */
FW_NODISCARD int fw_key_verify(const struct fw_key *key, const uint8_t *msg, size_t len,
                               const uint8_t sig[64]);

/* SHA-256 of a file, read in streaming blocks; also returns its size. */
FW_NODISCARD int fw_sha256_file(const char *path, uint8_t out[32], uint64_t *size,
                                struct fw_diag *d);
void fw_sha256(const uint8_t *p, size_t n, uint8_t out[32]);
/* SHA-256, SHA-1 and MD5 of a file in one streaming read (the device API
 * advertises all three for an artifact), and its size. */
FW_NODISCARD int fw_file_digests(const char *path, uint8_t sha256[32], uint8_t sha1[20],
                                 uint8_t md5[16], uint64_t *size, struct fw_diag *d);
/* HMAC-SHA256 (RFC 2104) of msg (n bytes) under key (key_len > 0 bytes),
 * with OpenSSL's EVP_MAC. out is written only on FW_OK; FW_E_CRYPTO when
 * OpenSSL fails. Nothing is kept: the caller wipes its key. */
FW_NODISCARD int fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n,
                                uint8_t out[32], struct fw_diag *d);
/* n bytes from the operating system's CSPRNG (OpenSSL RAND_bytes):
 * FW_OK or FW_E_CRYPTO. */
FW_NODISCARD int fw_random(uint8_t *out, size_t n, struct fw_diag *d);
/* 1 when a and b (n bytes each) are equal, in time that depends on n
 * only (CRYPTO_memcmp): for comparing secrets and their hashes. */
int fw_ct_equal(const void *a, const void *b, size_t n);
/* Release what the crypto library keeps for the calling thread; for a
 * thread that used it and is about to end without the library knowing
 * (a worker of the HTTP server). */
void fw_crypto_thread_stop(void);

/* ---- X.509 device identities (x509.c) ---- */

/*
 * Certificates and CRLs are untrusted input. Parsing is strict: the DER must
 * re-encode to the same bytes, with no trailing bytes (OpenSSL keeps the
 * signed part and names as they came, so BER inside the signed part, which
 * only the issuing CA could produce, is not caught; a certificate's id is
 * the SHA-256 of the bytes as issued); PEM text is BEGIN/END blocks of the
 * expected label separated and surrounded only by whitespace, without PEM
 * headers. Also refused with FW_E_FORMAT at parse time: malformed or
 * repeated extensions, unreadable times, negative serials or serials of more
 * than 20 octets, a CN that is not printable UTF-8 of at most 255 bytes.
 * Parsed objects are immutable; their info is computed once at parse time.
 * Every d may be NULL.
 */
#define FW_MAX_CERT_PEM (16 * 1024)   /* one device certificate, PEM */
#define FW_MAX_CA_FILE (256 * 1024)   /* a CA bundle or CRL file */
#define FW_SERIAL_HEX_MAX 41          /* 20-byte serial as hex + NUL */

struct fw_cert;          /* one parsed certificate (wraps X509) */
struct fw_cert_anchors;  /* the trusted device-identity CAs (wraps X509_STORE) */
struct fw_crl;           /* one parsed CRL (wraps X509_CRL) */

struct fw_cert_info {
	uint8_t sha256[32];            /* SHA-256 of the DER: the certificate's id */
	uint8_t issuer_hash[32];       /* SHA-256 of the DER issuer Name */
	uint8_t subject_hash[32];      /* SHA-256 of the DER subject Name */
	char serial[FW_SERIAL_HEX_MAX]; /* lower-case hex, no leading zeros ("0" for zero) */
	char subject_cn[256];          /* "" when there is none; UTF-8 (the last CN if several) */
	char subject[512];             /* one-line RFC 2253 form, for display: ASCII, */
	char issuer[512];              /* non-ASCII escaped (\C3\A4), "..." when cut */
	int64_t not_before, not_after; /* Unix seconds */
	int is_ca;                     /* basicConstraints CA:TRUE */
};

/* Exactly one PEM certificate (len <= FW_MAX_CERT_PEM, trailing whitespace ok,
 * anything else -> FW_E_FORMAT with the reason). FW_E_TOO_LARGE above the cap.
 * *out is the caller's (fw_cert_free); untouched on failure. */
FW_NODISCARD int fw_cert_from_pem(const char *pem, size_t len, struct fw_cert **out,
                                  struct fw_diag *d);
/* One DER certificate, len <= FW_MAX_CERT_PEM; same errors and ownership. */
FW_NODISCARD int fw_cert_from_der(const uint8_t *der, size_t len, struct fw_cert **out,
                                  struct fw_diag *d);
/* All certificates of a PEM bundle (at least one; FW_E_FORMAT otherwise), len <=
 * FW_MAX_CA_FILE. *out malloc'd array of n, freed with fw_cert_bundle_free. d names
 * the certificate (1-based) and the byte offset at fault. */
FW_NODISCARD int fw_cert_bundle_from_pem(const char *pem, size_t len, struct fw_cert ***out,
                                         size_t *n, struct fw_diag *d);
void fw_cert_free(struct fw_cert *c);                   /* NULL ok */
void fw_cert_bundle_free(struct fw_cert **v, size_t n); /* NULL ok */
void fw_cert_get_info(const struct fw_cert *c, struct fw_cert_info *out);
/* DER bytes (malloc'd) and a PEM string (malloc'd, NUL-ended); free(). FW_E_NOMEM. */
FW_NODISCARD int fw_cert_der(const struct fw_cert *c, uint8_t **der, size_t *len,
                             struct fw_diag *d);
FW_NODISCARD int fw_cert_pem(const struct fw_cert *c, char **pem, struct fw_diag *d);
/* 1 if a subject CN equals id, or a subjectAltName dNSName or URI equals id exactly
 * (byte compare of the whole string: "dev-1" never matches "dev-10"), else 0 (also
 * for NULL or ""). */
int fw_cert_names(const struct fw_cert *c, const char *id);

/* An empty set of anchors; *out is the caller's (fw_cert_anchors_free). */
FW_NODISCARD int fw_cert_anchors_new(struct fw_cert_anchors **out, struct fw_diag *d);
/* Add a trusted CA (must be a CA certificate: FW_E_VERIFY otherwise). Any added
 * CA is a trust anchor (X509_V_FLAG_PARTIAL_CHAIN): an OEM may trust an intermediate
 * alone. Also FW_E_VERIFY when a keyUsage extension lacks keyCertSign. Adding the
 * same certificate twice is a no-op. The anchors keep their own reference: ca may
 * be freed afterwards. Do not add while another thread verifies. */
FW_NODISCARD int fw_cert_anchors_add(struct fw_cert_anchors *a, const struct fw_cert *ca,
                                     struct fw_diag *d);
void fw_cert_anchors_free(struct fw_cert_anchors *a); /* NULL ok */
/* Verify leaf's chain to an anchor with OpenSSL, IGNORING time (X509_V_FLAG_NO_CHECK_TIME)
 * and revocation (both are judged later, at decision time, from the stored window and
 * CRLs). Only anchors can be issuers: an intermediate that is not anchored is not
 * looked for. FW_OK: chain verifies; *nb and *na = the effective validity window
 * (latest notBefore, earliest notAfter over the whole chain incl. the anchor; the chain
 * ends at the first anchor reached, so a CA above an anchored intermediate does not
 * count), issuer_sha256 = SHA-256 of the DER of the certificate that signed the leaf.
 * FW_E_VERIFY when it does not verify (d: OpenSSL's reason, e.g. "unable to get local
 * issuer certificate"). A leaf that is itself a CA is refused (FW_E_VERIFY).
 * Out-params are written only on FW_OK. The anchors' store is reused: nothing is
 * rebuilt per call; several threads may verify against the same anchors. */
FW_NODISCARD int fw_cert_verify_chain(const struct fw_cert_anchors *a,
                                      const struct fw_cert *leaf, int64_t *nb, int64_t *na,
                                      uint8_t issuer_sha256[32], struct fw_diag *d);

struct fw_crl_info {
	uint8_t sha256[32];            /* of the DER */
	uint8_t issuer_hash[32];       /* SHA-256 of the DER issuer Name (matches
	                                  fw_cert_info.issuer_hash of certs it covers) */
	char issuer[512];
	int64_t this_update, next_update; /* Unix seconds; next_update 0 when absent */
	char number[FW_SERIAL_HEX_MAX]; /* cRLNumber as hex, "" when absent */
	size_t revoked;                 /* number of entries */
};
/* PEM or DER (detected), len <= FW_MAX_CA_FILE (FW_E_TOO_LARGE above). FW_E_FORMAT
 * for anything but one canonical DER CRL or one "X509 CRL" PEM block; also for a
 * revoked serial or cRLNumber that is negative or over 20 octets. Parsing does not
 * authenticate: call fw_crl_verify before trusting any field. */
FW_NODISCARD int fw_crl_parse(const uint8_t *data, size_t len, struct fw_crl **out,
                              struct fw_diag *d);
void fw_crl_free(struct fw_crl *c); /* NULL ok */
void fw_crl_get_info(const struct fw_crl *c, struct fw_crl_info *out);
/* The CRL's signature must verify with the key of a CA in the given list whose subject
 * equals the CRL issuer; that CA must be a CA. FW_OK; FW_E_SIGNATURE when no such CA's
 * key verifies it (d names the issuer). Also FW_E_VERIFY if the CRL is a delta CRL or
 * has critical extensions we do not understand. "Equals" is byte equality of the DER
 * Names (subject_hash == issuer_hash); a CA whose keyUsage lacks cRLSign does not
 * count; NULL entries of cas are skipped. Understood critical extensions: cRLNumber
 * and authorityKeyIdentifier on the CRL, reasonCode and invalidityDate on entries (so
 * indirect CRLs, with certificateIssuer, and scoped CRLs, with issuingDistributionPoint,
 * are refused). The signature is checked first. */
FW_NODISCARD int fw_crl_verify(const struct fw_crl *crl, struct fw_cert *const *cas,
                               size_t ncas, struct fw_diag *d);
/* i-th revoked serial, in the CRL's order (lower-case hex, same form as
 * fw_cert_info.serial). FW_E_ARG when i >= revoked. */
FW_NODISCARD int fw_crl_serial(const struct fw_crl *c, size_t i, char out[FW_SERIAL_HEX_MAX]);

#endif
