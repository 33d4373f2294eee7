/*
 * registry: what the OEM trusts and what it released. Signing keys (with
 * their role and state) and releases (verified envelopes with their images,
 * stored content-addressed). Every change is recorded in the evidence log
 * in the same transaction (fw_evidence_commit); documents are JSON objects
 * described in docs/formats.md.
 */
#ifndef FW_REGISTRY_H
#define FW_REGISTRY_H

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"

/* Roles a trusted key may have. */
#define FW_ROLE_RELEASE_SIGNING "release-signing"

/* Trust a public key (.pub PEM) under a unique name and role. Returns the
 * key document (new reference) and the evidence index. FW_E_CONFLICT when
 * the key or the name is known already. */
FW_NODISCARD int fw_registry_key_trust(struct fw_store *s, const char *pub_path,
                                       const char *name, const char *role, const char *actor,
                                       json_t **doc, uint64_t *idx, struct fw_diag *d);
/* Revoke a key given by name, key id, or a unique key-id prefix (>= 8 hex). */
FW_NODISCARD int fw_registry_key_revoke(struct fw_store *s, const char *ref, const char *reason,
                                        const char *actor, json_t **doc, uint64_t *idx,
                                        struct fw_diag *d);
FW_NODISCARD int fw_registry_key_find(struct fw_store *s, const char *ref, json_t **doc,
                                      struct fw_diag *d);
/* All keys, ordered by key id (new reference: array). */
FW_NODISCARD int fw_registry_key_list(struct fw_store *s, json_t **keys, struct fw_diag *d);

/* Add a release: the envelope must verify with libfwv against the active
 * release-signing keys, and the image against the envelope. Both are
 * stored content-addressed; the release and its signing facts are
 * recorded. FW_E_VERIFY (d says why) when libfwv refuses. */
FW_NODISCARD int fw_registry_release_add(struct fw_store *s, const char *envelope_path,
                                         const char *image_path, const char *product,
                                         const char *family, const char *actor, json_t **doc,
                                         uint64_t *idx, struct fw_diag *d);
/* Releases with a derived "status": "ok" or "signed-by-revoked-key". */
FW_NODISCARD int fw_registry_release_list(struct fw_store *s, json_t **releases,
                                          struct fw_diag *d);
/* One release by id (envelope SHA-256) or a unique prefix (>= 8 hex). */
FW_NODISCARD int fw_registry_release_get(struct fw_store *s, const char *ref, json_t **doc,
                                         struct fw_diag *d);

#endif
