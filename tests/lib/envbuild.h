/*
 * Test-only SUIT envelope builder with knobs for every attack in
 * shared/specs/signing.md §5.4: it signs whatever it is told to, so a test
 * gets a validly signed envelope that is wrong in exactly one way.
 */
#ifndef FW_TEST_ENVBUILD_H
#define FW_TEST_ENVBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

struct tman {
	uint64_t seq;
	uint64_t manifest_version;   /* 1 */
	uint8_t vendor[16], class_id[16], device[16];
	int with_device;             /* set device-id parameter + condition */
	uint8_t digest[32];
	uint64_t size;
	int64_t image_digest_alg;    /* -16 */
	int no_vendor_cond, no_class_cond, no_size, no_digest;
	int unknown_command;         /* append command 99 to the shared sequence */
	int two_components;
	int dup_manifest_key;        /* sequence number twice */
	int deep_text;               /* text section nested 12 levels deep */
	int indefinite;              /* text section uses an indefinite-length map */
	const char *version_text;
};

struct tenv {
	const struct fw_key *key;    /* signing key */
	int64_t alg;                 /* 0: the key's own COSE alg */
	int alg_unprotected;         /* alg in unprotected header instead */
	int alg_both;                /* alg in protected and unprotected */
	int kid_both;                /* kid in protected and unprotected */
	int no_kid;
	const uint8_t *kid;          /* NULL: the key's id */
	int extra_protected_label;   /* crit-like label 2 in protected */
	int embed_payload;           /* payload present instead of nil */
	size_t sig_len;              /* 0: 64 */
	int flip_sig_bit;            /* flip a bit of the signature */
	int64_t digest_alg;          /* 0: -16 */
	const uint8_t *signed_manifest;  /* digest over this instead (mix-and-match) */
	size_t signed_manifest_len;
	int no_tag;                  /* omit tag 107 */
	int no_cose_tag;             /* omit tag 18 */
	int manifest_first;          /* put key 3 before key 2 */
	const uint8_t *raw_sig;      /* use these 64 bytes as the signature */
	const uint8_t *pre_block;    /* an extra authentication block before ours */
	size_t pre_block_len;
};

void tman_default(struct tman *m);
/* Encode the manifest map; returns length (0 on overflow). */
size_t tman_encode(const struct tman *m, uint8_t *out, size_t cap);
/* Build an envelope around manifest bytes; returns length (0 on failure). */
size_t tenv_build(const struct tenv *e, const uint8_t *manifest, size_t manifest_len,
                  uint8_t *out, size_t cap);

#endif
