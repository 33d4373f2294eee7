/*
 * libfwv: the fwtrust device verifier.
 *
 * Checks a SUIT envelope (draft-ietf-suit-manifest, COSE_Sign1 with a
 * detached payload) and then the firmware image it describes, streamed in
 * chunks of any size. Written for devices: no heap, no stdio, no OS calls,
 * no recursion. The caller owns every byte of memory; crypto comes in
 * through a small port table (struct fwv_port).
 *
 * Flow:
 *   fwv_init(&ctx, &port);
 *   rc = fwv_begin(&ctx, env, env_len, keys, nkeys, &device);
 *       signature and every manifest condition are checked here, before
 *       one image byte is accepted
 *   rc = fwv_update(&ctx, chunk, n);          any number of times
 *   rc = fwv_finish(&ctx);                    exact size and digest
 *   fwv_clear(&ctx);                          always, also after failure
 *
 * Every function is default-deny: it returns FWV_OK only when every check
 * passed. After any failure the context is dead (every later call returns
 * FWV_E_STATE) so a caller cannot continue past a refusal by mistake.
 */
#ifndef FWV_H
#define FWV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes. Append-only: values are never renumbered or reused. */
enum fwv_err {
	FWV_OK = 0,
	FWV_E_ARG = 1,              /* NULL pointer or bad argument from the caller */
	FWV_E_STATE = 2,            /* call out of order, or context dead after a failure */
	FWV_E_CBOR = 3,             /* malformed CBOR (bad head, reserved values, non-shortest) */
	FWV_E_TRUNCATED = 4,        /* a length points past the end of its container */
	FWV_E_TRAILING = 5,         /* bytes after the end of an item */
	FWV_E_INDEFINITE = 6,       /* indefinite-length item (not allowed) */
	FWV_E_DEPTH = 7,            /* nesting deeper than FWV_MAX_DEPTH */
	FWV_E_TOO_LARGE = 8,        /* an item larger than the verifier's bound */
	FWV_E_STRUCTURE = 9,        /* well-formed CBOR, but not the expected SUIT/COSE shape */
	FWV_E_DUPLICATE_KEY = 10,   /* a map key appears twice */
	FWV_E_UNKNOWN_KEY = 11,     /* key id not among the trusted keys */
	FWV_E_BAD_SIGNATURE = 12,   /* signature does not verify */
	FWV_E_ALG_KEY_MISMATCH = 13,/* COSE algorithm does not match the key type */
	FWV_E_ALG_UNPROTECTED = 14, /* algorithm given in the unprotected header */
	FWV_E_ALG_UNSUPPORTED = 15, /* algorithm missing or not ES256/ESP256/EdDSA/Ed25519 */
	FWV_E_HEADER = 16,          /* unsupported or malformed COSE header parameter */
	FWV_E_SIG_LENGTH = 17,      /* signature not exactly 64 bytes */
	FWV_E_DIGEST_ALG = 18,      /* digest algorithm other than SHA-256 */
	FWV_E_MANIFEST_DIGEST = 19, /* signed digest does not match the manifest bytes */
	FWV_E_MANIFEST_VERSION = 20,/* manifest version is not 1 */
	FWV_E_ROLLBACK = 21,        /* sequence number lower than the device's */
	FWV_E_SEQUENCE_EQUAL = 22,  /* sequence equal to the device's, reinstall not allowed */
	FWV_E_VENDOR_MISMATCH = 23, /* vendor-id condition failed */
	FWV_E_CLASS_MISMATCH = 24,  /* class-id condition failed */
	FWV_E_DEVICE_MISMATCH = 25, /* device-id condition failed */
	FWV_E_MISSING = 26,         /* a required manifest element is absent */
	FWV_E_COMMAND = 27,         /* command or parameter the verifier does not implement */
	FWV_E_COMPONENTS = 28,      /* not exactly one component */
	FWV_E_IMAGE_TOO_LONG = 29,  /* more image bytes than image-size */
	FWV_E_IMAGE_TOO_SHORT = 30, /* fewer image bytes than image-size */
	FWV_E_IMAGE_DIGEST = 31,    /* image digest mismatch */
	FWV_E_CRYPTO = 32,          /* the crypto port failed (not a verdict on the data) */
	FWV_E_NO_KEYS = 33,         /* no trusted keys were given */
	FWV_E_TAG = 34,             /* missing or wrong CBOR tag (107 envelope, 18 COSE_Sign1) */
	FWV_E_PAYLOAD = 35          /* COSE payload not detached (nil) */
};
#define FWV_ERR_COUNT 36

/* Stable lower-case name of an error ("rollback", "bad_signature", ...);
 * "unknown_error" for a value outside the enum. Never NULL. */
const char *fwv_err_name(int err);

/* Bounds. Everything the envelope says is checked against these. */
#define FWV_MAX_DEPTH 8          /* CBOR nesting levels inside any one bstr-wrapped item */
#define FWV_MAX_ENVELOPE 16384   /* envelope bytes accepted by fwv_begin */
#define FWV_MAX_AUTH_BLOCKS 4    /* COSE_Sign1 blocks considered */
#define FWV_MAX_PROTECTED 128    /* bytes of one serialized protected header */
#define FWV_KEY_ID_LEN 32        /* SHA-256 of the DER SubjectPublicKeyInfo */
#define FWV_UUID_LEN 16
#define FWV_SHA256_LEN 32
#define FWV_SIG_LEN 64           /* raw r||s (P-256) or Ed25519 */

/* COSE algorithm ids (RFC 9053, RFC 9864). */
#define FWV_COSE_ES256 (-7)
#define FWV_COSE_EDDSA (-8)
#define FWV_COSE_ESP256 (-9)
#define FWV_COSE_ED25519 (-19)
#define FWV_COSE_SHA256 (-16)

enum fwv_key_type {
	FWV_KEY_P256 = 1,    /* pub: 65-byte uncompressed point 04||X||Y */
	FWV_KEY_ED25519 = 2  /* pub: 32 raw bytes */
};

/* A trusted public key. All pointers are borrowed for the duration of
 * fwv_begin only. */
struct fwv_key {
	const uint8_t *id;   /* FWV_KEY_ID_LEN bytes */
	int type;            /* enum fwv_key_type */
	const uint8_t *pub;
	size_t pub_len;
};

/*
 * Crypto port. The hash state lives inside struct fwv_ctx
 * (FWV_HASH_STATE_SIZE bytes, aligned for a pointer and a uint64_t); a port
 * whose state is larger keeps a pointer there. Hash functions return 0 on
 * success. hash_final releases the state whether it succeeds or not;
 * hash_abort (may be NULL) releases a state that was initialised but will
 * not be finished, and is never called after hash_final.
 * verify returns 0 when the signature is valid for msg under the key, a
 * positive value when it is not, and a negative value when the port could
 * not decide (bad key bytes, library failure): that is FWV_E_CRYPTO.
 */
#define FWV_HASH_STATE_SIZE 128
struct fwv_port {
	int (*hash_init)(void *state);
	int (*hash_update)(void *state, const uint8_t *data, size_t len);
	int (*hash_final)(void *state, uint8_t out[FWV_SHA256_LEN]);
	void (*hash_abort)(void *state);
	int (*verify)(int key_type, const uint8_t *pub, size_t pub_len,
	              const uint8_t *msg, size_t msg_len,
	              const uint8_t sig[FWV_SIG_LEN]);
};

/* The device's view. vendor_id/class_id/device_id point to 16-byte UUIDs
 * (or NULL with the matching FWV_F_SKIP_* flag). sequence is the sequence
 * number of the firmware the device runs now. */
struct fwv_device {
	const uint8_t *vendor_id;
	const uint8_t *class_id;
	const uint8_t *device_id;
	uint64_t sequence;
	uint32_t flags;
};
#define FWV_F_ALLOW_EQUAL_SEQUENCE 0x01u /* reinstall: equal sequence accepted */
#define FWV_F_SKIP_VENDOR 0x02u          /* host tools only: no device to compare */
#define FWV_F_SKIP_CLASS 0x04u
#define FWV_F_SKIP_DEVICE 0x08u
#define FWV_F_SKIP_SEQUENCE 0x10u

/* What fwv_parse_envelope reports. Slices point into the caller's envelope
 * buffer and are valid while it is. Nothing here is verified: the caller
 * must not act on it before fwv_begin returned FWV_OK. */
struct fwv_slice {
	const uint8_t *ptr;
	size_t len;
};
struct fwv_manifest_info {
	uint64_t sequence;
	uint64_t image_size;
	int alg;                           /* COSE alg of the first signature */
	int has_kid;
	uint8_t kid[FWV_KEY_ID_LEN];
	uint8_t image_digest[FWV_SHA256_LEN];
	uint8_t manifest_digest[FWV_SHA256_LEN];
	struct fwv_slice vendor_id;        /* 16-byte UUID (PEN OIDs are refused) */
	struct fwv_slice class_id;
	struct fwv_slice device_id;        /* len 0 when absent */
	struct fwv_slice component;        /* encoded SUIT_Component_Identifier */
	struct fwv_slice version;          /* text component-version, len 0 when absent */
	struct fwv_slice description;      /* text manifest-description, len 0 when absent */
	unsigned auth_blocks;
	int checks_vendor, checks_class, checks_device;
};

/*
 * Parse an envelope without checking any signature (for display and
 * diagnostics). env is untrusted; every length in it is bounded by its
 * container. On FWV_OK *out is written; on failure *out is untouched.
 */
int fwv_parse_envelope(const uint8_t *env, size_t env_len,
                       struct fwv_manifest_info *out);

/* Verifier context. Caller-owned (stack or static); opaque fields. */
struct fwv_ctx {
	const struct fwv_port *port;
	uint64_t image_size;
	uint64_t received;
	uint64_t sequence;
	uint8_t digest[FWV_SHA256_LEN];
	uint8_t key_id[FWV_KEY_ID_LEN];
	int state;
	int alg;
	union {
		uint8_t bytes[FWV_HASH_STATE_SIZE];
		void *align_p;
		uint64_t align_u;
	} hash;
};

/* Prepare ctx for one verification. Cannot fail. */
void fwv_init(struct fwv_ctx *ctx, const struct fwv_port *port);

/*
 * Verify the envelope: CBOR bounds, a COSE_Sign1 signature by one of the
 * trusted keys over the manifest digest, the manifest digest itself, and
 * every condition (vendor, class, device, sequence). Only on FWV_OK does
 * the context accept image bytes. env and keys are borrowed for this call
 * only; the context keeps what it needs (digest, size, key id).
 * Returns FWV_OK or the first check that failed.
 */
int fwv_begin(struct fwv_ctx *ctx, const uint8_t *env, size_t env_len,
              const struct fwv_key *keys, size_t nkeys,
              const struct fwv_device *device);

/* Feed image bytes (any chunk size, untrusted). Refuses the first byte
 * past image-size with FWV_E_IMAGE_TOO_LONG. */
int fwv_update(struct fwv_ctx *ctx, const uint8_t *data, size_t len);

/* Check that exactly image-size bytes came and their SHA-256 matches. */
int fwv_finish(struct fwv_ctx *ctx);

/* After fwv_begin returned FWV_OK: the manifest's sequence number, image
 * size and the id of the key that verified. Return FWV_E_STATE before. */
int fwv_sequence(const struct fwv_ctx *ctx, uint64_t *out);
int fwv_image_size(const struct fwv_ctx *ctx, uint64_t *out);
int fwv_signer(const struct fwv_ctx *ctx, uint8_t out[FWV_KEY_ID_LEN]);

/* Release the hash state if a verification stops early. NULL is a no-op. */
void fwv_clear(struct fwv_ctx *ctx);

/* Host port on OpenSSL 3 (src/fwv/port_openssl.c, not in device builds). */
const struct fwv_port *fwv_port_openssl(void);

#ifdef __cplusplus
}
#endif
#endif
