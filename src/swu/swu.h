/*
 * swu: SWUpdate .swu artifacts (cpio + CMS), the update format of devices
 * that run SWUpdate (docs/swu.md). Building one: sw-description (libconfig
 * text) with the image's SHA-256, its detached CMS signature by an X.509
 * signer certificate, and the image, in a cpio "crc" (070702) archive.
 * Verifying one: the archive is untrusted bytes; the signature is judged
 * against the certificates a device is given with `swupdate -k`, the way
 * the Debian 12 swupdate 2022.12 build judges it, and the image against
 * the SHA-256 in the signed sw-description.
 *
 * Every function returns an enum fw_err and writes one line into d (NULL
 * allowed) on failure; out-params are written only on success.
 */
#ifndef FW_SWU_H
#define FW_SWU_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Limits: every input that grows has a cap (FW_E_TOO_LARGE above it). */
#define FW_SWU_MAX_DESCRIPTION (64 * 1024) /* bytes of sw-description */
#define FW_SWU_MAX_SIG (64 * 1024)         /* bytes of sw-description.sig */
#define FW_SWU_MAX_CERT_FILE (64 * 1024)   /* a signer certificate PEM file */
#define FW_SWU_MAX_CERTS 8                 /* certificates in that file */
#define FW_SWU_MAX_NAME 255                /* bytes of an entry name (NUL not counted) */
#define FW_SWU_MAX_TEXT 255                /* bytes of a string in sw-description */
#define FW_SWU_MAX_HW 16                   /* hardware-compatibility entries */
#define FW_SWU_MAX_PADDING 10240           /* zero bytes after TRAILER!!! */
#define FW_SWU_MAX_IMAGE 0xffffffffu       /* cpio newc sizes are 32-bit */

/* Certificate purpose the device expects of the signer (swupdate
 * --cert-purpose); emailProtection is swupdate's default. */
enum fw_swu_purpose {
	FW_SWU_PURPOSE_EMAIL = 0, /* "emailProtection": no EKU, or EKU emailProtection */
	FW_SWU_PURPOSE_CODE = 1   /* "codeSigning": EKU codeSigning required */
};
/* "emailProtection" / "codeSigning" (never NULL). */
const char *fw_swu_purpose_name(int purpose);
/* The reverse; FW_E_ARG for another name. */
FW_NODISCARD int fw_swu_purpose_parse(const char *name, int *purpose);

/* ---- trust: what the device has in `swupdate -k FILE` ---- */

struct fw_swu_trust; /* opaque: an X509_STORE of the file's certificates */

/*
 * pem: one or more PEM certificates (len <= FW_SWU_MAX_CERT_FILE, at most
 * FW_SWU_MAX_CERTS), untrusted; every certificate is a trust anchor, as in
 * swupdate (normally one self-signed signer certificate). name is used in
 * messages ("cert.pem"). *out is the caller's (fw_swu_trust_free).
 * FW_E_FORMAT (not PEM certificates), FW_E_TOO_LARGE, FW_E_ARG (purpose),
 * FW_E_NOMEM.
 */
FW_NODISCARD int fw_swu_trust_from_pem(const char *name, const uint8_t *pem, size_t len,
                                       int purpose, struct fw_swu_trust **out,
                                       struct fw_diag *d);
/* The same from a file; also FW_E_IO. */
FW_NODISCARD int fw_swu_trust_load(const char *path, int purpose, struct fw_swu_trust **out,
                                   struct fw_diag *d);
void fw_swu_trust_free(struct fw_swu_trust *t); /* NULL ok */

/* ---- what a .swu says, once verified ---- */

struct fw_swu_info {
	/* from the signed sw-description */
	char version[FW_SWU_MAX_TEXT + 1];
	char description[FW_SWU_MAX_TEXT + 1]; /* "" when absent */
	char hw[FW_SWU_MAX_HW][FW_SWU_MAX_TEXT + 1];
	size_t nhw;                            /* >= 1 */
	char image_name[FW_SWU_MAX_TEXT + 1];  /* filename of the one image */
	char type[FW_SWU_MAX_TEXT + 1];        /* handler, e.g. "rawfile" */
	char device[FW_SWU_MAX_TEXT + 1];      /* "" when absent */
	char path[FW_SWU_MAX_TEXT + 1];        /* "" when absent */
	uint8_t image_sha256[32];              /* = the image's bytes in the archive */
	uint64_t image_size;
	/* the signer: SHA-256 of its certificate's DER, and its subject */
	uint8_t signer_sha256[32];
	char signer_subject[256];              /* RFC 2253, ASCII, cut with "..." */
	/* the whole .swu file, as a server advertises it */
	uint64_t size;
	uint8_t sha256[32];
	uint8_t sha1[20];
	uint8_t md5[16];
};

/*
 * Verify a .swu (untrusted, streamed: memory use is bounded by the caps
 * above, whatever the image size). The archive must be: cpio newc entries
 * (070701, or 070702 whose checksums must match), each name 1..
 * FW_SWU_MAX_NAME bytes of text without '/', regular files, no duplicate;
 * "sw-description" first, "sw-description.sig" right after it, then the one
 * image sw-description names and nothing else; "TRAILER!!!" (so 4 entries,
 * never more are read); then at most
 * FW_SWU_MAX_PADDING zero bytes and the end of the file. The signature is a
 * DER CMS SignedData, detached, with exactly one signer whose certificate
 * is embedded; it must verify over sw-description's bytes and its
 * certificate must chain to t (time checked now, t's purpose), as swupdate
 * -k checks it. sw-description must be in the subset fw_swu_build writes
 * (fw_swu_description_parse). The image's SHA-256 must equal the signed
 * one.
 *
 * Returns FW_OK (*out filled), or:
 *   FW_E_FORMAT     not such an archive, or the signature is not DER CMS
 *                   (d: "x.swu: entry 2 (fw.bin): ..." / "x.swu: byte N: ...")
 *   FW_E_TOO_LARGE  an entry, a count or the padding above its cap
 *   FW_E_SIGNATURE  no signature, or it does not verify against t
 *   FW_E_VERIFY     the image's SHA-256 (or a 070702 checksum) does not match
 *   FW_E_IO, FW_E_NOMEM, FW_E_ARG (NULL arguments)
 */
FW_NODISCARD int fw_swu_verify_file(const char *path, const struct fw_swu_trust *t,
                                    struct fw_swu_info *out, struct fw_diag *d);
/* The same over n bytes in memory; name is used in messages. */
FW_NODISCARD int fw_swu_verify_mem(const uint8_t *p, size_t n, const char *name,
                                   const struct fw_swu_trust *t, struct fw_swu_info *out,
                                   struct fw_diag *d);

/* ---- sw-description ---- */

/* What goes into sw-description. Every string: 1..FW_SWU_MAX_TEXT bytes of
 * UTF-8 text without double quotes, backslashes or control characters
 * (refused with FW_E_ARG naming the field, never escaped). */
struct fw_swu_spec {
	const char *version;       /* required (at most FW_MAX_VERSION_STRING bytes) */
	const char *description;   /* NULL: none */
	const char *const *hw;     /* hardware-compatibility: 1..FW_SWU_MAX_HW entries */
	size_t nhw;
	const char *image_name;    /* name in the archive; NULL: the image file's basename */
	const char *type;          /* handler; NULL: "raw" with device, else "rawfile" */
	const char *device;        /* "device" attribute (raw); NULL: none */
	const char *path;          /* "path" attribute (rawfile); NULL: none */
};

/*
 * The sw-description text for spec with the image's SHA-256 (*out
 * malloc'd, NUL-ended, caller frees; *len without the NUL). image_name
 * must be given here. FW_E_ARG names a bad field; FW_E_NOMEM.
 */
FW_NODISCARD int fw_swu_description(const struct fw_swu_spec *spec, const uint8_t sha256[32],
                                    char **out, size_t *len, struct fw_diag *d);

/*
 * Read sw-description text (untrusted, len <= FW_SWU_MAX_DESCRIPTION).
 * A small, strict reader of the subset fw_swu_description writes, not
 * libconfig: settings `name = value;` (or `name: value;`), strings without
 * escapes, no comments, no numbers or booleans; one top-level group
 * "software" with version (required), description, hardware-compatibility
 * (an array of 1..FW_SWU_MAX_HW strings, required) and images (a list of
 * exactly one group of filename, type, sha256 (64 hex digits), all
 * required, and optionally device and path). Any other key, a repeated
 * key or a missing one is FW_E_FORMAT naming the line. Fills the
 * sw-description fields of *out (version .. image_sha256); the others
 * are zeroed. FW_E_TOO_LARGE above the cap.
 */
FW_NODISCARD int fw_swu_description_parse(const char *text, size_t len, struct fw_swu_info *out,
                                          struct fw_diag *d);

/* ---- building ---- */

struct fw_swu_signer; /* opaque: a private key and its certificate (+ chain) */

/*
 * key_path: an unencrypted PEM private key, RSA of 2048..16384 bits or EC
 * P-256 or P-384 (the Debian swupdate accepts these; Ed25519 is refused,
 * as OpenSSL 3.0 cannot make its CMS signature by default). cert_path: the
 * signer's PEM certificate first, optionally followed by its CA chain
 * (embedded in each signature). The key must be the certificate's.
 * FW_E_KEY (type, size, encrypted, mismatch), FW_E_FORMAT, FW_E_IO,
 * FW_E_TOO_LARGE, FW_E_NOMEM. *out is the caller's (fw_swu_signer_free,
 * which wipes the key).
 */
FW_NODISCARD int fw_swu_signer_load(const char *key_path, const char *cert_path,
                                    struct fw_swu_signer **out, struct fw_diag *d);
void fw_swu_signer_free(struct fw_swu_signer *s); /* NULL ok */

/* DER CMS signature of msg as `openssl cms -sign -binary -nosmimecap
 * -outform DER` makes it (detached, signer certificate embedded, SHA-256).
 * *sig malloc'd; FW_E_CRYPTO. */
FW_NODISCARD int fw_swu_sign(const struct fw_swu_signer *s, const uint8_t *msg, size_t len,
                             uint8_t **sig, size_t *sig_len, struct fw_diag *d);

/*
 * Build out_path from spec and the image file (streamed; at most
 * FW_SWU_MAX_IMAGE bytes): the image is hashed, sw-description written and
 * signed, the archive written to a temporary file beside out_path (the
 * image copied while hashed again: FW_E_VERIFY if it changed meanwhile),
 * padded to a multiple of 512 bytes, verified with fw_swu_verify_file
 * against check (the certificates the devices have; NULL: the signer's
 * certificate file with purpose emailProtection), and only then published
 * (link(2), or rename(2) with overwrite). On any failure nothing is left
 * at out_path (or the old file is untouched) and the temporary file is
 * removed. *info (may be NULL) is what the verification found.
 * FW_E_EXISTS without overwrite when out_path exists; errors of the steps.
 */
FW_NODISCARD int fw_swu_build(const struct fw_swu_spec *spec, const char *image_path,
                              const struct fw_swu_signer *s, const struct fw_swu_trust *check,
                              const char *out_path, int overwrite, struct fw_swu_info *info,
                              struct fw_diag *d);

#endif
