/*
 * suit: SUIT envelopes on the host. Building and signing envelopes,
 * verifying an envelope and an image file through libfwv (the same code a
 * device runs), the signing record, and JSON views for tools.
 */
#ifndef FW_SUIT_H
#define FW_SUIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "fwv.h"

/* What a release engineer signs. */
struct fw_suit_manifest {
	uint8_t vendor_id[16];
	uint8_t class_id[16];
	uint8_t device_id[16];
	int has_device_id;
	uint64_t sequence;
	const char *version;        /* human version string, at most FW_MAX_VERSION_STRING */
	uint8_t image_digest[32];
	uint64_t image_size;
};

/*
 * Encode the manifest (deterministic CBOR), sign it with key and wrap both
 * in a tagged SUIT envelope. On success *out (malloc'd, caller frees) holds
 * the envelope.
 */
FW_NODISCARD int fw_suit_sign(const struct fw_suit_manifest *m, const struct fw_key *key,
                              uint8_t **out, size_t *out_len, struct fw_diag *d);

/* Signing record as JSON (see docs/formats.md). New reference. */
json_t *fw_suit_record(const struct fw_suit_manifest *m, const struct fw_key *key,
                       const uint8_t *env, size_t env_len, const char *signed_at);

/* Envelope fields as JSON for `inspect --json`. New reference. */
json_t *fw_suit_info_json(const struct fwv_manifest_info *mi, size_t env_len);

/* One sentence explaining a libfwv error code, for people. Never NULL. */
const char *fw_suit_explain(int fwv_rc);

/* Result of fw_suit_verify. */
struct fw_suit_verdict {
	int fwv_rc;                 /* FWV_OK, or the libfwv code that refused */
	const char *stage;          /* "envelope", "image" */
	uint64_t sequence;
	uint64_t image_size;
	uint8_t signer[FWV_KEY_ID_LEN];
	int image_checked;
};

/*
 * Verify env against the trusted keys and device view with libfwv; when
 * image_path is not NULL, stream that file through it in 1 MiB reads.
 * Returns FW_OK when everything checked passed, FW_E_VERIFY when libfwv
 * refused (v->fwv_rc says why), or FW_E_IO for unreadable files.
 */
FW_NODISCARD int fw_suit_verify(const uint8_t *env, size_t env_len,
                                const struct fwv_key *keys, size_t nkeys,
                                const struct fwv_device *dev, const char *image_path,
                                struct fw_suit_verdict *v, struct fw_diag *d);

#endif
