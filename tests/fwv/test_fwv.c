/*
 * libfwv: round trips, the published draft vector, and the attack matrix of
 * shared/specs/signing.md §5.4 as far as one artifact goes. Every attack is
 * a validly signed envelope that is wrong in exactly one way, and must be
 * refused with its own error code.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "envbuild.h"
#include "fwv.h"
#include "harness.h"
#include "suit/suit.h"

static struct fw_key *ed, *p256, *other_ed;
static uint8_t image[1000];
static uint8_t image_digest[32];

static void setup(void)
{
	size_t i;

	if (ed)
		return;
	if (fw_key_generate(FW_KEY_ALG_ED25519, &ed, NULL) != FW_OK ||
	    fw_key_generate(FW_KEY_ALG_P256, &p256, NULL) != FW_OK ||
	    fw_key_generate(FW_KEY_ALG_ED25519, &other_ed, NULL) != FW_OK)
		abort();
	for (i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + 3);
	fw_sha256(image, sizeof(image), image_digest);
}

/* keys exist only after setup(): every test may run alone */
#define K(k) (setup(), (k))

static void teardown(void)
{
	fw_key_free(ed);
	fw_key_free(p256);
	fw_key_free(other_ed);
}

static void default_device(struct fwv_device *dev, const struct tman *m)
{
	memset(dev, 0, sizeof(*dev));
	dev->vendor_id = m->vendor;
	dev->class_id = m->class_id;
	dev->device_id = m->device;
	dev->sequence = 41;
}

/* begin + whole image in chunks of `chunk`; returns the first refusal */
static int run_full(const uint8_t *env, size_t len, const struct fw_key *const *keys, size_t nk,
                    const struct fwv_device *dev, const uint8_t *img, size_t img_len, size_t chunk)
{
	struct fwv_key tk[4];
	struct fwv_ctx ctx;
	size_t i, off = 0;
	int rc;

	for (i = 0; i < nk; i++)
		fw_key_to_fwv(keys[i], &tk[i]);
	fwv_init(&ctx, fwv_port_openssl());
	rc = fwv_begin(&ctx, env, len, tk, nk, dev);
	while (rc == FWV_OK && off < img_len) {
		size_t n = img_len - off < chunk ? img_len - off : chunk;
		rc = fwv_update(&ctx, img + off, n);
		off += n;
	}
	if (rc == FWV_OK)
		rc = fwv_finish(&ctx);
	fwv_clear(&ctx);
	return rc;
}

/* Build manifest m into an envelope signed per e and run it fully. */
static int attack(const struct tman *m, const struct tenv *e)
{
	const struct fw_key *keys[2] = {ed, p256};
	uint8_t man[1024], env[2048];
	struct fwv_device dev;
	size_t ml, el;

	ml = tman_encode(m, man, sizeof(man));
	el = ml ? tenv_build(e, man, ml, env, sizeof(env)) : 0;
	if (el == 0)
		return -1;
	default_device(&dev, m);
	return run_full(env, el, keys, 2, &dev, image, sizeof(image), 333);
}

static void base(struct tman *m, struct tenv *e, const struct fw_key *k)
{
	setup();
	tman_default(m);
	memcpy(m->digest, image_digest, 32);
	m->size = sizeof(image);
	memset(e, 0, sizeof(*e));
	e->key = k;
}

static void t_builder_baseline(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	CHECK_EQ(attack(&m, &e), FWV_OK);
	base(&m, &e, K(p256));
	CHECK_EQ(attack(&m, &e), FWV_OK);
	base(&m, &e, K(ed));
	m.with_device = 1;
	CHECK_EQ(attack(&m, &e), FWV_OK);
	/* a kid-less envelope is tried against the trusted keys of its type */
	base(&m, &e, K(p256));
	e.no_kid = 1;
	CHECK_EQ(attack(&m, &e), FWV_OK);
}

/* The real signer (fw_suit_sign), both algorithms, chunk sizes 1..whole. */
static void t_roundtrip(void)
{
	static const size_t chunks[] = {1, 7, 64, 999, 1000, 4096};
	const struct fw_key *algs[2];
	struct fw_suit_manifest sm;
	struct fwv_device dev;
	struct tman m;
	size_t a, c;

	setup();
	algs[0] = ed;
	algs[1] = p256;
	tman_default(&m);
	for (a = 0; a < 2; a++) {
		uint8_t *env = NULL;
		size_t len = 0;

		memset(&sm, 0, sizeof(sm));
		memcpy(sm.vendor_id, m.vendor, 16);
		memcpy(sm.class_id, m.class_id, 16);
		sm.sequence = 42;
		sm.version = "2.4.1";
		memcpy(sm.image_digest, image_digest, 32);
		sm.image_size = sizeof(image);
		CHECK_EQ(fw_suit_sign(&sm, algs[a], &env, &len, NULL), FW_OK);
		default_device(&dev, &m);
		for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
			CHECK_EQ(run_full(env, len, &algs[a], 1, &dev, image, sizeof(image), chunks[c]),
			         FWV_OK);
		/* and the parse view agrees with what was signed */
		{
			struct fwv_manifest_info mi;

			CHECK_EQ(fwv_parse_envelope(env, len, &mi), FWV_OK);
			CHECK_EQ(mi.sequence, 42);
			CHECK_EQ(mi.image_size, sizeof(image));
			CHECK(mi.version.len == 5 && memcmp(mi.version.ptr, "2.4.1", 5) == 0);
			CHECK(mi.has_kid && memcmp(mi.kid, fw_key_id(algs[a]), 32) == 0);
			CHECK_EQ(mi.alg, a == 0 ? FWV_COSE_ED25519 : FWV_COSE_ESP256);
		}
		free(env);
	}
}

static void t_unknown_key(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(other_ed));
	CHECK_EQ(attack(&m, &e), FWV_E_UNKNOWN_KEY);
	/* same key without kid: tried against trusted ed25519 keys, none verifies */
	base(&m, &e, K(other_ed));
	e.no_kid = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
	/* signed by an untrusted key but claiming a trusted key's id */
	base(&m, &e, K(other_ed));
	e.kid = fw_key_id(ed);
	CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
}

static void t_bad_signature(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	e.flip_sig_bit = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
	base(&m, &e, K(p256));
	e.flip_sig_bit = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
}

static void t_ecdsa_bad_scalars(void)
{
	/* r or s equal to 0, equal to n, or all ones: never valid */
	static const uint8_t n[32] = {
	    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
	uint8_t sig[64];
	struct tman m;
	struct tenv e;
	int i;

	for (i = 0; i < 4; i++) {
		base(&m, &e, K(p256));
		memset(sig, 0x11, 64);
		if (i == 0)
			memset(sig, 0, 32);
		else if (i == 1)
			memset(sig + 32, 0, 32);
		else if (i == 2)
			memcpy(sig, n, 32);
		else
			memset(sig, 0xff, 64);
		e.raw_sig = sig;
		CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
	}
}

static void t_mix_and_match(void)
{
	uint8_t other[1024];
	struct tman m, m2;
	struct tenv e;
	size_t ol;

	/* a valid signature over manifest A attached to manifest B */
	base(&m, &e, K(ed));
	m2 = m;
	m2.seq = 7;
	ol = tman_encode(&m2, other, sizeof(other));
	e.signed_manifest = other;
	e.signed_manifest_len = ol;
	CHECK_EQ(attack(&m, &e), FWV_E_MANIFEST_DIGEST);
}

static void t_alg_header_attacks(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	e.alg_unprotected = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_UNPROTECTED);
	base(&m, &e, K(ed));
	e.alg_both = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_UNPROTECTED);
	/* EdDSA (-8) named with a P-256 key's id */
	base(&m, &e, K(p256));
	e.alg = FWV_COSE_EDDSA;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_KEY_MISMATCH);
	base(&m, &e, K(ed));
	e.alg = FWV_COSE_ES256;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_KEY_MISMATCH);
	/* polymorphic ids are accepted, pinned to the key type */
	base(&m, &e, K(ed));
	e.alg = FWV_COSE_EDDSA;
	CHECK_EQ(attack(&m, &e), FWV_OK);
	base(&m, &e, K(p256));
	e.alg = FWV_COSE_ES256;
	CHECK_EQ(attack(&m, &e), FWV_OK);
	/* ES384 and an HMAC id are not accepted */
	base(&m, &e, K(p256));
	e.alg = -35;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_UNSUPPORTED);
	base(&m, &e, K(p256));
	e.alg = 5;
	CHECK_EQ(attack(&m, &e), FWV_E_ALG_UNSUPPORTED);
	base(&m, &e, K(ed));
	e.kid_both = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_HEADER);
	base(&m, &e, K(ed));
	e.extra_protected_label = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_HEADER);
	base(&m, &e, K(ed));
	e.embed_payload = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_PAYLOAD);
}

static void t_several_blocks(void)
{
	static const uint8_t garbage[] = {0x01};
	uint8_t other_block[512];
	struct fw_cbw w;
	struct tman m;
	struct tenv e;

	/* a malformed block anywhere refuses the envelope, even if a later
	 * block verifies: host tools and devices must see the same envelope */
	base(&m, &e, K(ed));
	e.pre_block = garbage;
	e.pre_block_len = sizeof(garbage);
	CHECK_EQ(attack(&m, &e), FWV_E_TAG);
	/* a well-formed block by an untrusted key, then ours: accepted */
	base(&m, &e, K(ed));
	fw_cbw_init(&w, other_block, sizeof(other_block));
	fw_cbw_head(&w, 6, 18);
	fw_cbw_head(&w, 4, 4);
	fw_cbw_bstr(&w, "\xa1\x01\x32", 3);
	fw_cbw_head(&w, 5, 0);
	fw_cbw_head(&w, 7, 22);
	fw_cbw_bstr(&w, image, 64); /* 64 bytes that are no signature */
	e.pre_block = other_block;
	e.pre_block_len = w.len;
	e.no_kid = 0;
	CHECK_EQ(attack(&m, &e), FWV_OK);
	/* only the untrusted block: refused */
	base(&m, &e, K(ed));
	e.pre_block = other_block;
	e.pre_block_len = w.len;
	e.flip_sig_bit = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_BAD_SIGNATURE);
}

static void t_signature_length(void)
{
	static const size_t lens[] = {63, 65, 1, 72};
	struct tman m;
	struct tenv e;
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		base(&m, &e, K(p256));
		e.sig_len = lens[i];
		CHECK_EQ(attack(&m, &e), FWV_E_SIG_LENGTH);
	}
}

static void t_tags_and_order(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	e.no_tag = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_TAG);
	base(&m, &e, K(ed));
	e.no_cose_tag = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_TAG);
	base(&m, &e, K(ed));
	e.manifest_first = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_STRUCTURE);
}

static void t_digest_algorithms(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	e.digest_alg = -43; /* SHA-384 id over the manifest: signed, but not supported */
	CHECK_EQ(attack(&m, &e), FWV_E_DIGEST_ALG);
	base(&m, &e, K(ed));
	m.image_digest_alg = -44;
	CHECK_EQ(attack(&m, &e), FWV_E_DIGEST_ALG);
}

static void t_manifest_shape(void)
{
	struct tman m;
	struct tenv e;

	base(&m, &e, K(ed));
	m.manifest_version = 2;
	CHECK_EQ(attack(&m, &e), FWV_E_MANIFEST_VERSION);
	base(&m, &e, K(ed));
	m.no_vendor_cond = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_MISSING);
	base(&m, &e, K(ed));
	m.no_class_cond = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_MISSING);
	base(&m, &e, K(ed));
	m.no_size = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_MISSING);
	base(&m, &e, K(ed));
	m.no_digest = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_MISSING);
	base(&m, &e, K(ed));
	m.unknown_command = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_COMMAND);
	base(&m, &e, K(ed));
	m.two_components = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_COMPONENTS);
	base(&m, &e, K(ed));
	m.dup_manifest_key = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_DUPLICATE_KEY);
	base(&m, &e, K(ed));
	m.deep_text = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_DEPTH);
	base(&m, &e, K(ed));
	m.indefinite = 1;
	CHECK_EQ(attack(&m, &e), FWV_E_INDEFINITE);
}

static void t_rollback(void)
{
	const struct fw_key *keys[1];
	uint8_t man[1024], env[2048];
	struct fwv_device dev;
	struct tman m;
	struct tenv e;
	size_t el;

	base(&m, &e, K(ed));
	keys[0] = ed;
	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	default_device(&dev, &m);
	dev.sequence = 43;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_ROLLBACK);
	dev.sequence = UINT64_MAX;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_ROLLBACK);
	dev.sequence = 42;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_SEQUENCE_EQUAL);
	dev.flags = FWV_F_ALLOW_EQUAL_SEQUENCE;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_OK);
	dev.flags = 0;
	dev.sequence = 0;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_OK);
}

static void t_wrong_device(void)
{
	struct tman m;
	struct tenv e;
	const struct fw_key *keys[1];
	uint8_t man[1024], env[2048], other[16];
	struct fwv_device dev;
	size_t el;

	base(&m, &e, K(ed));
	m.with_device = 1;
	keys[0] = ed;
	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	memset(other, 0x77, 16);
	default_device(&dev, &m);
	dev.vendor_id = other;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_VENDOR_MISMATCH);
	default_device(&dev, &m);
	dev.class_id = other;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_CLASS_MISMATCH);
	default_device(&dev, &m);
	dev.device_id = other;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_DEVICE_MISMATCH);
	default_device(&dev, &m);
	dev.device_id = NULL; /* a device that cannot name itself does not match */
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_DEVICE_MISMATCH);
	default_device(&dev, &m);
	dev.vendor_id = NULL;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, sizeof(image), 100), FWV_E_VENDOR_MISMATCH);
}

static void t_image_attacks(void)
{
	const struct fw_key *keys[1];
	uint8_t man[1024], env[2048], bad[1001];
	struct fwv_device dev;
	struct fwv_key tk;
	struct fwv_ctx ctx;
	struct tman m;
	struct tenv e;
	size_t el;

	base(&m, &e, K(ed));
	keys[0] = ed;
	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	default_device(&dev, &m);

	/* one bit flipped anywhere: caught at the end of the stream */
	memcpy(bad, image, sizeof(image));
	bad[500] ^= 0x10;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, bad, sizeof(image), 100), FWV_E_IMAGE_DIGEST);
	bad[500] ^= 0x10;
	bad[999] ^= 0x01;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, bad, sizeof(image), 1000), FWV_E_IMAGE_DIGEST);
	bad[999] ^= 0x01;
	/* endless data: the byte after image-size is refused as it arrives */
	bad[1000] = 0;
	CHECK_EQ(run_full(env, el, keys, 1, &dev, bad, 1001, 1), FWV_E_IMAGE_TOO_LONG);
	CHECK_EQ(run_full(env, el, keys, 1, &dev, bad, 1001, 4096), FWV_E_IMAGE_TOO_LONG);
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, 999, 100), FWV_E_IMAGE_TOO_SHORT);
	CHECK_EQ(run_full(env, el, keys, 1, &dev, image, 0, 100), FWV_E_IMAGE_TOO_SHORT);

	/* a refused context stays refused */
	fw_key_to_fwv(ed, &tk);
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 1, &dev), FWV_OK);
	CHECK_EQ(fwv_update(&ctx, bad, 1001), FWV_E_IMAGE_TOO_LONG);
	CHECK_EQ(fwv_update(&ctx, image, 10), FWV_E_STATE);
	CHECK_EQ(fwv_finish(&ctx), FWV_E_STATE);
	fwv_clear(&ctx);
}

static void t_state_machine(void)
{
	uint8_t man[1024], env[2048];
	struct fwv_device dev;
	struct fwv_key tk;
	struct fwv_ctx ctx;
	struct tman m;
	struct tenv e;
	uint64_t v;
	size_t el;

	base(&m, &e, K(ed));
	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	default_device(&dev, &m);
	fw_key_to_fwv(ed, &tk);

	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_update(&ctx, image, 1), FWV_E_STATE);
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_finish(&ctx), FWV_E_STATE);
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_sequence(&ctx, &v), FWV_E_STATE);
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 0, &dev), FWV_E_NO_KEYS);
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_begin(&ctx, NULL, el, &tk, 1, &dev), FWV_E_ARG);
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 1, &dev), FWV_OK);
	CHECK_EQ(fwv_sequence(&ctx, &v), FWV_OK);
	CHECK_EQ(v, 42);
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 1, &dev), FWV_E_STATE);
	fwv_clear(&ctx);
	fwv_clear(NULL);
	CHECK_EQ(fwv_begin(NULL, env, el, &tk, 1, &dev), FWV_E_ARG);
}

static void t_bounds(void)
{
	/* lengths past the end, huge lengths, truncation, trailing bytes */
	static const uint8_t huge32[] = {0xd8, 0x6b, 0xa2, 0x02, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00};
	static const uint8_t huge64[] = {0xd8, 0x6b, 0xa2, 0x02, 0x5b, 0xff, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0x00};
	static const uint8_t huge_map[] = {0xd8, 0x6b, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t indef[] = {0xd8, 0x6b, 0xbf, 0xff};
	static const uint8_t reserved[] = {0xd8, 0x6b, 0xbc};
	const struct fw_key *keys[1];
	uint8_t man[1024], env[FWV_MAX_ENVELOPE + 8];
	struct fwv_device dev;
	struct tman m;
	struct tenv e;
	size_t el, cut;

	base(&m, &e, K(ed));
	keys[0] = ed;
	default_device(&dev, &m);
	CHECK_EQ(run_full(huge32, sizeof(huge32), keys, 1, &dev, NULL, 0, 1), FWV_E_TRUNCATED);
	CHECK_EQ(run_full(huge64, sizeof(huge64), keys, 1, &dev, NULL, 0, 1), FWV_E_TRUNCATED);
	CHECK_EQ(run_full(huge_map, sizeof(huge_map), keys, 1, &dev, NULL, 0, 1), FWV_E_TRUNCATED);
	CHECK_EQ(run_full(indef, sizeof(indef), keys, 1, &dev, NULL, 0, 1), FWV_E_INDEFINITE);
	CHECK_EQ(run_full(reserved, sizeof(reserved), keys, 1, &dev, NULL, 0, 1), FWV_E_CBOR);

	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	CHECK(el > 0);
	/* every truncation is refused as truncated */
	for (cut = 0; cut < el; cut++) {
		int rc = run_full(env, cut, keys, 1, &dev, image, sizeof(image), 1000);
		if (rc != FWV_E_TRUNCATED) {
			CHECK_EQ(rc, FWV_E_TRUNCATED);
			break;
		}
	}
	env[el] = 0x00;
	CHECK_EQ(run_full(env, el + 1, keys, 1, &dev, image, sizeof(image), 1000), FWV_E_TRAILING);
	memset(env + el, 0, sizeof(env) - el);
	CHECK_EQ(run_full(env, FWV_MAX_ENVELOPE + 1, keys, 1, &dev, image, sizeof(image), 1000),
	         FWV_E_TOO_LARGE);
}

static const char example0_vendor[] = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe";
static const char example0_class[] = "1492af14-2569-5e48-bf42-9b2d51f2ab45";

static int example0_begin(const uint8_t *env, size_t len, const struct fwv_key *k)
{
	struct fwv_device dev;
	uint8_t vid[16], cid[16];
	struct fwv_ctx ctx;
	int rc;

	if (fw_uuid_parse(example0_vendor, vid) != FW_OK || fw_uuid_parse(example0_class, cid) != FW_OK)
		return -1;
	memset(&dev, 0, sizeof(dev));
	dev.vendor_id = vid;
	dev.class_id = cid;
	dev.flags = FWV_F_SKIP_DEVICE | FWV_F_ALLOW_EQUAL_SEQUENCE; /* example sequence is 0 */
	fwv_init(&ctx, fwv_port_openssl());
	rc = fwv_begin(&ctx, env, len, k, 1, &dev);
	fwv_clear(&ctx);
	return rc;
}

/* draft-ietf-suit-manifest example 0, signed by the draft authors' key */
static void t_example0_interop(void)
{
	struct fw_key *pub = NULL;
	struct fwv_key tk;
	uint8_t *env;
	size_t len = 0, i;
	unsigned delta;
	int accepted = 0;

	CHECK_EQ(fw_key_load_public(harness_src_path("tests/vectors/suit-example0.pub.pem"),
	                            &pub, NULL), FW_OK);
	env = harness_read(harness_src_path("tests/vectors/suit-example0.suit"), &len);
	CHECK(env != NULL && len == 237);
	if (!env || !pub)
		return;
	fw_key_to_fwv(pub, &tk);
	CHECK_EQ(example0_begin(env, len, &tk), FWV_OK);
	/* any one-byte change, every position, every value: refused */
	for (i = 0; i < len; i++) {
		for (delta = 1; delta < 256; delta++) {
			env[i] ^= (uint8_t)delta;
			if (example0_begin(env, len, &tk) == FWV_OK)
				accepted++;
			env[i] ^= (uint8_t)delta;
		}
	}
	CHECK_EQ(accepted, 0);
	free(env);
	fw_key_free(pub);
}

/* RFC 8032 §7.1 TEST 1 key over the example-0 SUIT_Digest: deterministic
 * Ed25519 signatures computed independently (shared/specs/signing.md §2.2). */
static const char rfc8032_seed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char cose_eddsa_vector[] =
    "d28443a10127a0f65840ee6010bed76659e490bcaf0f3713915a0de2d8e2316e6b875ff8e1a950"
    "6450ef9a3bed01fed88e2adc8a7b59fddcfc87a1dce7465100d6444c951513cbecdb0f";
static const char ed25519_alg19_sig[] =
    "3d4e957c437d9399acc67e19543ba3f4e16bdecda258ffdfa7618858c11c8425a8ca62336b8d1545b9f8e8b1"
    "884ed79b6d144ec633c2989bf40bd5d2c5f48f0e";

static struct fw_key *load_rfc8032_key(void)
{
	static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
	                                   0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
	uint8_t der[48];
	char pem[256], path[512];
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	struct fw_key *k = NULL;

	memcpy(der, prefix, 16);
	if (fw_hex_decode(rfc8032_seed, der + 16, 32) != FW_OK)
		return NULL;
	o = (size_t)snprintf(pem, sizeof(pem), "-----BEGIN PRIVATE KEY-----\n");
	for (i = 0; i < 48; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16 | (uint32_t)der[i + 1] << 8 | der[i + 2];
		pem[o++] = b64[v >> 18 & 63];
		pem[o++] = b64[v >> 12 & 63];
		pem[o++] = b64[v >> 6 & 63];
		pem[o++] = b64[v & 63];
	}
	o += (size_t)snprintf(pem + o, sizeof(pem) - o, "\n-----END PRIVATE KEY-----\n");
	snprintf(path, sizeof(path), "%s/rfc8032.key", harness_tmpdir());
	if (harness_write(path, pem, o) != 0 || fw_key_load_private(path, &k, NULL) != FW_OK)
		return NULL;
	return k;
}

static void t_ed25519_known_answer(void)
{
	uint8_t cose[74], expect19[64], sig[64], tbs[128], env[512], *ex;
	struct fw_cbw w, auth, tb;
	uint8_t bauth[256];
	struct fw_key *k = load_rfc8032_key();
	struct fwv_key tk;
	size_t exlen = 0;

	CHECK(k != NULL);
	ex = harness_read(harness_src_path("tests/vectors/suit-example0.suit"), &exlen);
	CHECK(ex != NULL && exlen == 237);
	if (!k || !ex)
		return;
	CHECK_EQ(fw_hex_decode(cose_eddsa_vector, cose, sizeof(cose)), FW_OK);
	CHECK_EQ(fw_hex_decode(ed25519_alg19_sig, expect19, 64), FW_OK);

	/* example 0 with its ES256 block replaced by the independent EdDSA block */
	fw_cbw_init(&auth, bauth, sizeof(bauth));
	fw_cbw_head(&auth, 4, 2);
	fw_cbw_raw(&auth, ex + 7, 38); /* bstr(36) SUIT_Digest, as in the draft */
	fw_cbw_bstr(&auth, cose, sizeof(cose));
	fw_cbw_init(&w, env, sizeof(env));
	fw_cbw_head(&w, 6, 107);
	fw_cbw_head(&w, 5, 2);
	fw_cbw_int(&w, 2);
	fw_cbw_wrap(&w, &auth);
	fw_cbw_raw(&w, ex + 0x79, exlen - 0x79); /* key 3 and the manifest bstr */
	CHECK(!w.overflow);
	fw_key_to_fwv(k, &tk);
	CHECK_EQ(example0_begin(env, w.len, &tk), FWV_OK);

	/* our signer reproduces the independent alg -19 signature bit for bit */
	fw_cbw_init(&tb, tbs, sizeof(tbs));
	fw_cbw_head(&tb, 4, 4);
	fw_cbw_tstr(&tb, "Signature1");
	fw_cbw_bstr(&tb, "\xa1\x01\x32", 3);
	fw_cbw_bstr(&tb, NULL, 0);
	fw_cbw_raw(&tb, ex + 7, 38);
	CHECK_EQ(fw_key_sign(k, tb.buf, tb.len, sig, NULL), FW_OK);
	CHECK(memcmp(sig, expect19, 64) == 0);
	free(ex);
	fw_key_free(k);
}

/* A port that cannot decide must not be read as a verdict either way. */
static int failing_verify(int type, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                          size_t len, const uint8_t sig[FWV_SIG_LEN])
{
	(void)type, (void)pub, (void)pub_len, (void)msg, (void)len, (void)sig;
	return -1;
}

static void t_port_failure(void)
{
	struct fwv_port port = *fwv_port_openssl();
	uint8_t man[1024], env[2048];
	struct fwv_device dev;
	struct fwv_key tk;
	struct fwv_ctx ctx;
	struct tman m;
	struct tenv e;
	size_t el;

	base(&m, &e, K(ed));
	el = tenv_build(&e, man, tman_encode(&m, man, sizeof(man)), env, sizeof(env));
	default_device(&dev, &m);
	fw_key_to_fwv(ed, &tk);
	port.verify = failing_verify;
	fwv_init(&ctx, &port);
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 1, &dev), FWV_E_CRYPTO);
	fwv_clear(&ctx);
	/* a trusted key whose bytes are not a key: the port cannot decide */
	tk.pub_len = 31;
	fwv_init(&ctx, fwv_port_openssl());
	CHECK_EQ(fwv_begin(&ctx, env, el, &tk, 1, &dev), FWV_E_CRYPTO);
	fwv_clear(&ctx);
}

static void t_error_names(void)
{
	int i, j;

	for (i = 0; i < FWV_ERR_COUNT; i++) {
		CHECK(strcmp(fwv_err_name(i), "unknown_error") != 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(fwv_err_name(i), fwv_err_name(j)) != 0);
	}
	CHECK(strcmp(fwv_err_name(FWV_ERR_COUNT), "unknown_error") == 0);
	CHECK(strcmp(fwv_err_name(-1), "unknown_error") == 0);
	CHECK(strcmp(fwv_err_name(FWV_E_ROLLBACK), "rollback") == 0);
	CHECK(strcmp(fwv_err_name(FWV_E_BAD_SIGNATURE), "bad_signature") == 0);
}

static void t_teardown(void)
{
	teardown();
}

static const struct harness_test tests[] = {
    {"builder_baseline", t_builder_baseline},
    {"roundtrip_both_algorithms_any_chunking", t_roundtrip},
    {"unknown_key", t_unknown_key},
    {"bad_signature", t_bad_signature},
    {"ecdsa_r_s_zero_or_out_of_range", t_ecdsa_bad_scalars},
    {"mix_and_match_signature", t_mix_and_match},
    {"alg_header_attacks", t_alg_header_attacks},
    {"signature_length", t_signature_length},
    {"several_signature_blocks", t_several_blocks},
    {"tags_and_order", t_tags_and_order},
    {"digest_algorithms", t_digest_algorithms},
    {"manifest_shape", t_manifest_shape},
    {"rollback_and_reinstall", t_rollback},
    {"wrong_vendor_class_device", t_wrong_device},
    {"image_tamper_endless_short", t_image_attacks},
    {"state_machine", t_state_machine},
    {"bounds_truncation_trailing", t_bounds},
    {"example0_interop_and_every_one_byte_change", t_example0_interop},
    {"ed25519_known_answer_rfc8032", t_ed25519_known_answer},
    {"crypto_port_failure_is_no_verdict", t_port_failure},
    {"error_names", t_error_names},
    {"teardown", t_teardown},
};
HARNESS_MAIN(tests)
