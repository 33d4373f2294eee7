/*
 * libfwv: SUIT envelope and image verification for devices. See fwv.h.
 *
 * Order of checks in fwv_begin follows draft-ietf-suit-manifest §6.2: the
 * signature over the manifest digest is verified, then the digest over the
 * manifest bytes, and only then is the manifest parsed. Every length taken
 * from the envelope is bounded by its container (cbor.c).
 */
#include "fwv.h"

#include "cbor.h"

enum { ST_INIT = 0, ST_READY = 1, ST_DONE = 2, ST_DEAD = 3 };

/* SUIT keys (draft-ietf-suit-manifest-37) */
enum {
	ENV_AUTH = 2,
	ENV_MANIFEST = 3,
	MAN_VERSION = 1,
	MAN_SEQUENCE = 2,
	MAN_COMMON = 3,
	MAN_REFERENCE_URI = 4,
	MAN_COMPONENT_ID = 5,
	MAN_VALIDATE = 7,
	MAN_LOAD = 8,
	MAN_INVOKE = 9,
	MAN_PAYLOAD_FETCH = 16,
	MAN_INSTALL = 20,
	MAN_TEXT = 23,
	COMMON_COMPONENTS = 2,
	COMMON_SHARED_SEQ = 4,
	CMD_VENDOR = 1,
	CMD_CLASS = 2,
	CMD_IMAGE_MATCH = 3,
	CMD_SET_COMPONENT = 12,
	CMD_OVERRIDE = 20,
	CMD_FETCH = 21,
	CMD_INVOKE = 23,
	CMD_DEVICE = 24,
	PARAM_VENDOR = 1,
	PARAM_CLASS = 2,
	PARAM_DIGEST = 3,
	PARAM_COMPONENT_SLOT = 5,
	PARAM_IMAGE_SIZE = 14,
	PARAM_URI = 21,
	PARAM_DEVICE = 24,
	TEXT_MANIFEST_DESCRIPTION = 1,
	TEXT_COMPONENT_VERSION = 6,
	COSE_HDR_ALG = 1,
	COSE_HDR_KID = 4,
	TAG_SUIT_ENVELOPE = 107,
	TAG_COSE_SIGN1 = 18
};

static const char *const err_names[FWV_ERR_COUNT] = {
	"ok", "bad_argument", "bad_state", "cbor_malformed", "truncated",
	"trailing_bytes", "indefinite_length", "nesting_too_deep", "too_large",
	"bad_structure", "duplicate_key", "unknown_key", "bad_signature",
	"alg_key_mismatch", "alg_unprotected", "alg_unsupported", "bad_header",
	"bad_signature_length", "digest_alg_unsupported", "manifest_digest_mismatch",
	"manifest_version", "rollback", "sequence_equal", "vendor_mismatch",
	"class_mismatch", "device_mismatch", "missing_element",
	"unsupported_command", "component_count", "image_too_long",
	"image_too_short", "image_digest_mismatch", "crypto_failure", "no_trusted_keys",
	"bad_tag", "payload_not_detached"
};

const char *fwv_err_name(int err)
{
	if (err < 0 || err >= FWV_ERR_COUNT || err_names[err] == NULL)
		return "unknown_error";
	return err_names[err];
}

/* Byte compare whose time does not depend on where the bytes differ. */
static int ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

static void zero_bytes(void *p, size_t n)
{
	volatile uint8_t *q = p;

	while (n--)
		*q++ = 0;
}

static struct fwv_slice slice(const uint8_t *p, size_t n)
{
	struct fwv_slice s;

	s.ptr = p;
	s.len = n;
	return s;
}

/* Open a bstr-wrapped CBOR item: check it is one well-formed item and set
 * a reader on its content. */
static int open_wrapped(struct cbor *c, struct cbor *inner, struct fwv_slice *raw)
{
	struct cbor_item it;
	int rc = fwv_cbor_expect(c, CBOR_BSTR, &it);

	if (rc != FWV_OK)
		return rc;
	rc = fwv_cbor_check(it.data, (size_t)it.val);
	if (rc != FWV_OK)
		return rc;
	fwv_cbor_init(inner, it.data, (size_t)it.val);
	if (raw)
		*raw = slice(it.start, (size_t)(c->p - it.start));
	return FWV_OK;
}

/* Map keys: integers only, each at most once (bit set over 0..63). */
static int map_key(struct cbor *c, uint64_t *seen, int64_t *key)
{
	int rc = fwv_cbor_int(c, key);

	if (rc != FWV_OK)
		return rc;
	if (*key >= 0 && *key < 64) {
		uint64_t bit = (uint64_t)1 << *key;
		if (*seen & bit)
			return FWV_E_DUPLICATE_KEY;
		*seen |= bit;
	}
	return FWV_OK;
}

/* ---- envelope outer structure ---- */

struct sign1 {
	struct fwv_slice protected_hdr; /* serialized header map */
	struct fwv_slice sig;
	int alg;
	int has_kid;
	const uint8_t *kid;
};

struct envelope {
	struct fwv_slice digest_payload; /* content of the bstr holding the SUIT_Digest */
	struct fwv_slice manifest_wrapped; /* bstr head + manifest bytes, as hashed */
	struct fwv_slice manifest;
	struct fwv_slice blocks[FWV_MAX_AUTH_BLOCKS];
	unsigned nblocks;
};

static int parse_sign1(struct fwv_slice block, struct sign1 *s);

static int parse_envelope_outer(const uint8_t *env, size_t len, struct envelope *e)
{
	struct cbor c, auth;
	struct cbor_item it;
	uint64_t seen = 0, i;
	int64_t key;
	int rc;

	if (len > FWV_MAX_ENVELOPE)
		return FWV_E_TOO_LARGE;
	rc = fwv_cbor_check(env, len);
	if (rc != FWV_OK)
		return rc;
	fwv_cbor_init(&c, env, len);
	rc = fwv_cbor_read(&c, &it);
	if (rc != FWV_OK)
		return rc;
	if (it.major != CBOR_TAG || it.val != TAG_SUIT_ENVELOPE)
		return FWV_E_TAG;
	rc = fwv_cbor_expect(&c, CBOR_MAP, &it);
	if (rc != FWV_OK)
		return rc;
	e->nblocks = 0;
	e->manifest.len = 0;
	for (i = 0; i < it.val; i++) {
		rc = map_key(&c, &seen, &key);
		if (rc != FWV_OK)
			return rc;
		if (key == ENV_AUTH) {
			struct cbor_item arr, d;
			uint64_t j;

			if (seen & ((uint64_t)1 << ENV_MANIFEST))
				return FWV_E_STRUCTURE; /* authentication must come first */
			rc = open_wrapped(&c, &auth, NULL);
			if (rc != FWV_OK)
				return rc;
			rc = fwv_cbor_expect(&auth, CBOR_ARRAY, &arr);
			if (rc != FWV_OK)
				return rc;
			if (arr.val < 2)
				return FWV_E_MISSING;
			rc = fwv_cbor_expect(&auth, CBOR_BSTR, &d);
			if (rc != FWV_OK)
				return rc;
			e->digest_payload = slice(d.data, (size_t)d.val);
			for (j = 1; j < arr.val; j++) {
				struct cbor_item b;

				rc = fwv_cbor_expect(&auth, CBOR_BSTR, &b);
				if (rc != FWV_OK)
					return rc;
				if (e->nblocks == FWV_MAX_AUTH_BLOCKS)
					return FWV_E_TOO_LARGE;
				e->blocks[e->nblocks++] = slice(b.data, (size_t)b.val);
			}
		} else if (key == ENV_MANIFEST) {
			struct cbor inner;

			rc = open_wrapped(&c, &inner, &e->manifest_wrapped);
			if (rc != FWV_OK)
				return rc;
			e->manifest = slice(inner.p, fwv_cbor_left(&inner));
		} else {
			/* severed members and integrated payloads are not supported */
			return FWV_E_STRUCTURE;
		}
	}
	if (e->nblocks == 0 || e->manifest.len == 0)
		return FWV_E_MISSING;
	/* every signature block must be well-formed, not only the one that
	 * verifies: a device and a host tool must see the same envelope */
	for (i = 0; i < e->nblocks; i++) {
		struct sign1 s;

		rc = parse_sign1(e->blocks[i], &s);
		if (rc != FWV_OK)
			return rc;
	}
	return FWV_OK;
}

static int alg_key_type(int alg)
{
	if (alg == FWV_COSE_ES256 || alg == FWV_COSE_ESP256)
		return FWV_KEY_P256;
	if (alg == FWV_COSE_EDDSA || alg == FWV_COSE_ED25519)
		return FWV_KEY_ED25519;
	return 0;
}

static int parse_sign1(struct fwv_slice block, struct sign1 *s)
{
	struct cbor c, hdr;
	struct cbor_item it, ph;
	uint64_t seen = 0, i;
	int64_t key, v;
	int rc, have_alg = 0;

	rc = fwv_cbor_check(block.ptr, block.len);
	if (rc != FWV_OK)
		return rc;
	fwv_cbor_init(&c, block.ptr, block.len);
	rc = fwv_cbor_read(&c, &it);
	if (rc != FWV_OK)
		return rc;
	if (it.major != CBOR_TAG || it.val != TAG_COSE_SIGN1)
		return FWV_E_TAG;
	rc = fwv_cbor_expect(&c, CBOR_ARRAY, &it);
	if (rc != FWV_OK)
		return rc;
	if (it.val != 4)
		return FWV_E_STRUCTURE;

	/* protected header: bstr .cbor map */
	rc = fwv_cbor_expect(&c, CBOR_BSTR, &ph);
	if (rc != FWV_OK)
		return rc;
	if (ph.val > FWV_MAX_PROTECTED)
		return FWV_E_TOO_LARGE;
	s->protected_hdr = slice(ph.data, (size_t)ph.val);
	s->has_kid = 0;
	if (ph.val > 0) {
		rc = fwv_cbor_check(ph.data, (size_t)ph.val);
		if (rc != FWV_OK)
			return rc;
		fwv_cbor_init(&hdr, ph.data, (size_t)ph.val);
		rc = fwv_cbor_expect(&hdr, CBOR_MAP, &it);
		if (rc != FWV_OK)
			return rc;
		for (i = 0; i < it.val; i++) {
			rc = map_key(&hdr, &seen, &key);
			if (rc != FWV_OK)
				return rc == FWV_E_STRUCTURE ? FWV_E_HEADER : rc;
			if (key == COSE_HDR_ALG) {
				rc = fwv_cbor_int(&hdr, &v);
				if (rc != FWV_OK)
					return FWV_E_ALG_UNSUPPORTED;
				if (v < -65536 || v > 65536)
					return FWV_E_ALG_UNSUPPORTED;
				s->alg = (int)v;
				have_alg = 1;
			} else if (key == COSE_HDR_KID) {
				struct cbor_item kid;

				rc = fwv_cbor_expect(&hdr, CBOR_BSTR, &kid);
				if (rc != FWV_OK)
					return FWV_E_HEADER;
				if (kid.val != FWV_KEY_ID_LEN)
					return FWV_E_UNKNOWN_KEY;
				s->kid = kid.data;
				s->has_kid = 1;
			} else {
				/* crit and anything else: default deny */
				return FWV_E_HEADER;
			}
		}
	}

	/* unprotected header: alg here is refused; kid is accepted as a hint */
	rc = fwv_cbor_expect(&c, CBOR_MAP, &it);
	if (rc != FWV_OK)
		return rc;
	seen = 0;
	for (i = 0; i < it.val; i++) {
		rc = map_key(&c, &seen, &key);
		if (rc != FWV_OK)
			return rc == FWV_E_STRUCTURE ? FWV_E_HEADER : rc;
		if (key == COSE_HDR_ALG)
			return FWV_E_ALG_UNPROTECTED;
		if (key == COSE_HDR_KID) {
			struct cbor_item kid;

			rc = fwv_cbor_expect(&c, CBOR_BSTR, &kid);
			if (rc != FWV_OK)
				return FWV_E_HEADER;
			/* RFC 9052 §3: a label must not be in both buckets */
			if (s->has_kid)
				return FWV_E_HEADER;
			if (kid.val != FWV_KEY_ID_LEN)
				return FWV_E_UNKNOWN_KEY;
			s->kid = kid.data;
			s->has_kid = 1;
		} else {
			return FWV_E_HEADER;
		}
	}
	if (!have_alg || alg_key_type(s->alg) == 0)
		return FWV_E_ALG_UNSUPPORTED;

	/* payload must be detached: nil */
	rc = fwv_cbor_read(&c, &it);
	if (rc != FWV_OK)
		return rc;
	if (it.major != CBOR_SIMPLE || it.val != CBOR_NULL)
		return FWV_E_PAYLOAD;

	rc = fwv_cbor_expect(&c, CBOR_BSTR, &it);
	if (rc != FWV_OK)
		return rc;
	if (it.val != FWV_SIG_LEN)
		return FWV_E_SIG_LENGTH;
	s->sig = slice(it.data, FWV_SIG_LEN);
	return FWV_OK;
}

/* ---- Sig_structure (RFC 9052 §4.4), built in a fixed buffer ---- */

#define SIGSTRUCT_MAX (1 + 11 + 2 + FWV_MAX_PROTECTED + 1 + 2 + 64)
_Static_assert(FWV_MAX_PROTECTED < 256, "put_head writes one length byte");

/* Lengths here are bounded by FWV_MAX_PROTECTED and 64: below 256. */
static size_t put_head(uint8_t *p, int major, size_t n)
{
	if (n < 24) {
		p[0] = (uint8_t)((major << 5) | n);
		return 1;
	}
	p[0] = (uint8_t)((major << 5) | 24);
	p[1] = (uint8_t)n;
	return 2;
}

static size_t build_sig_structure(uint8_t out[SIGSTRUCT_MAX], const struct sign1 *s,
                                  struct fwv_slice payload)
{
	static const uint8_t ctx[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};
	size_t n = sizeof(ctx);

	copy_bytes(out, ctx, n);
	n += put_head(out + n, CBOR_BSTR, s->protected_hdr.len);
	copy_bytes(out + n, s->protected_hdr.ptr, s->protected_hdr.len);
	n += s->protected_hdr.len;
	out[n++] = 0x40; /* external_aad: empty */
	n += put_head(out + n, CBOR_BSTR, payload.len);
	copy_bytes(out + n, payload.ptr, payload.len);
	return n + payload.len;
}

static int verify_block(const struct fwv_port *port, struct fwv_slice block,
                        struct fwv_slice payload, const struct fwv_key *keys,
                        size_t nkeys, const uint8_t **signer)
{
	uint8_t tbs[SIGSTRUCT_MAX];
	struct sign1 s;
	size_t n, i;
	int rc, vr, type, tried = 0;

	rc = parse_sign1(block, &s);
	if (rc != FWV_OK)
		return rc;
	if (payload.len > 64)
		return FWV_E_TOO_LARGE;
	type = alg_key_type(s.alg);
	n = build_sig_structure(tbs, &s, payload);

	rc = FWV_E_UNKNOWN_KEY;
	for (i = 0; i < nkeys; i++) {
		const struct fwv_key *k = &keys[i];

		if (s.has_kid && !ct_equal(k->id, s.kid, FWV_KEY_ID_LEN))
			continue;
		if (k->type != type) {
			/* with a kid, the named key decides; without, look further */
			if (s.has_kid)
				return FWV_E_ALG_KEY_MISMATCH;
			if (rc == FWV_E_UNKNOWN_KEY)
				rc = FWV_E_ALG_KEY_MISMATCH;
			continue;
		}
		tried = 1;
		vr = port->verify(k->type, k->pub, k->pub_len, tbs, n, s.sig.ptr);
		if (vr == 0) {
			*signer = k->id;
			return FWV_OK;
		}
		if (vr < 0)
			return FWV_E_CRYPTO;
		if (s.has_kid)
			return FWV_E_BAD_SIGNATURE;
	}
	return tried ? FWV_E_BAD_SIGNATURE : rc;
}

/* ---- manifest ---- */

struct params {
	struct fwv_slice vendor, class_id, device, digest_wrapped;
	uint64_t image_size;
	int has_size;
};

static int set_param_once(struct fwv_slice *dst, struct cbor *c)
{
	struct cbor_item it;
	int rc;

	if (dst->ptr != NULL)
		return FWV_E_COMMAND; /* each parameter is set once: one meaning */
	rc = fwv_cbor_expect(c, CBOR_BSTR, &it);
	if (rc != FWV_OK)
		return rc;
	*dst = slice(it.data, (size_t)it.val);
	return FWV_OK;
}

static int override_params(struct cbor *c, struct params *pm, int shared)
{
	struct cbor_item m;
	uint64_t seen = 0, i;
	int64_t key;
	int rc;

	rc = fwv_cbor_expect(c, CBOR_MAP, &m);
	if (rc != FWV_OK)
		return rc;
	for (i = 0; i < m.val; i++) {
		rc = map_key(c, &seen, &key);
		if (rc != FWV_OK)
			return rc;
		/* identity, digest and size only in the shared sequence, where
		 * every procedure sees the same values */
		if (shared && key == PARAM_VENDOR) {
			rc = set_param_once(&pm->vendor, c);
		} else if (shared && key == PARAM_CLASS) {
			rc = set_param_once(&pm->class_id, c);
		} else if (shared && key == PARAM_DEVICE) {
			rc = set_param_once(&pm->device, c);
		} else if (shared && key == PARAM_DIGEST) {
			rc = set_param_once(&pm->digest_wrapped, c);
		} else if (shared && key == PARAM_IMAGE_SIZE) {
			struct cbor_item sz;

			if (pm->has_size)
				return FWV_E_COMMAND;
			rc = fwv_cbor_expect(c, CBOR_UINT, &sz);
			if (rc != FWV_OK)
				return rc;
			pm->image_size = sz.val;
			pm->has_size = 1;
		} else if (key == PARAM_URI || key == PARAM_COMPONENT_SLOT) {
			rc = fwv_cbor_skip(c); /* transport/placement hints: not trusted */
		} else {
			return FWV_E_COMMAND;
		}
		if (rc != FWV_OK)
			return rc;
	}
	return FWV_OK;
}

static int run_sequence(struct cbor *seq, struct params *pm, struct fwv_manifest_info *mi,
                        int shared)
{
	struct cbor_item arr, arg;
	uint64_t i;
	int64_t cmd;
	int rc;

	rc = fwv_cbor_expect(seq, CBOR_ARRAY, &arr);
	if (rc != FWV_OK)
		return rc;
	if (arr.val % 2 != 0)
		return FWV_E_STRUCTURE;
	for (i = 0; i < arr.val; i += 2) {
		rc = fwv_cbor_int(seq, &cmd);
		if (rc != FWV_OK)
			return rc;
		switch (cmd) {
		case CMD_OVERRIDE:
			rc = override_params(seq, pm, shared);
			break;
		case CMD_SET_COMPONENT:
			/* one component: index 0 or true */
			rc = fwv_cbor_read(seq, &arg);
			if (rc == FWV_OK && !((arg.major == CBOR_UINT && arg.val == 0) ||
			                      (arg.major == CBOR_SIMPLE && arg.val == CBOR_TRUE)))
				rc = FWV_E_COMPONENTS;
			break;
		case CMD_VENDOR:
		case CMD_CLASS:
		case CMD_DEVICE:
			/* a condition on a parameter not yet set cannot be evaluated */
			if ((cmd == CMD_VENDOR && !pm->vendor.ptr) ||
			    (cmd == CMD_CLASS && !pm->class_id.ptr) ||
			    (cmd == CMD_DEVICE && !pm->device.ptr))
				return FWV_E_MISSING;
			if (cmd == CMD_VENDOR)
				mi->checks_vendor = 1;
			else if (cmd == CMD_CLASS)
				mi->checks_class = 1;
			else
				mi->checks_device = 1;
			rc = fwv_cbor_expect(seq, CBOR_UINT, &arg); /* reporting policy */
			break;
		case CMD_IMAGE_MATCH:
		case CMD_FETCH:
		case CMD_INVOKE:
			rc = fwv_cbor_expect(seq, CBOR_UINT, &arg);
			break;
		default:
			return FWV_E_COMMAND;
		}
		if (rc != FWV_OK)
			return rc;
	}
	return FWV_OK;
}

static int parse_common(struct cbor *c, struct params *pm, struct fwv_manifest_info *mi)
{
	struct cbor common, seq;
	struct cbor_item m, it;
	uint64_t seen = 0, i, j;
	int64_t key;
	int rc, have_components = 0, have_seq = 0;

	rc = open_wrapped(c, &common, NULL);
	if (rc != FWV_OK)
		return rc;
	rc = fwv_cbor_expect(&common, CBOR_MAP, &m);
	if (rc != FWV_OK)
		return rc;
	for (i = 0; i < m.val; i++) {
		rc = map_key(&common, &seen, &key);
		if (rc != FWV_OK)
			return rc;
		if (key == COMMON_COMPONENTS) {
			const uint8_t *start;

			rc = fwv_cbor_expect(&common, CBOR_ARRAY, &it);
			if (rc != FWV_OK)
				return rc;
			if (it.val != 1)
				return FWV_E_COMPONENTS;
			start = common.p;
			rc = fwv_cbor_expect(&common, CBOR_ARRAY, &it);
			if (rc != FWV_OK)
				return rc;
			if (it.val == 0)
				return FWV_E_STRUCTURE;
			for (j = 0; j < it.val; j++) {
				struct cbor_item part;

				rc = fwv_cbor_expect(&common, CBOR_BSTR, &part);
				if (rc != FWV_OK)
					return rc;
			}
			mi->component = slice(start, (size_t)(common.p - start));
			have_components = 1;
		} else if (key == COMMON_SHARED_SEQ) {
			rc = open_wrapped(&common, &seq, NULL);
			if (rc != FWV_OK)
				return rc;
			rc = run_sequence(&seq, pm, mi, 1);
			if (rc != FWV_OK)
				return rc;
			have_seq = 1;
		} else {
			return FWV_E_STRUCTURE;
		}
	}
	if (!have_components || !have_seq)
		return FWV_E_MISSING;
	return FWV_OK;
}

/* Text section: { lang => { 1: description, [component] => { 6: version } } }.
 * Only read for display; nothing is decided on it. */
static int parse_text(struct cbor *c, struct fwv_manifest_info *mi)
{
	struct cbor text;
	struct cbor_item langs, lmap, it;
	uint64_t i, j, k;
	int64_t key;
	int rc;

	rc = open_wrapped(c, &text, NULL);
	if (rc != FWV_OK)
		return rc;
	rc = fwv_cbor_expect(&text, CBOR_MAP, &langs);
	if (rc != FWV_OK)
		return rc;
	for (i = 0; i < langs.val; i++) {
		rc = fwv_cbor_expect(&text, CBOR_TSTR, &it);
		if (rc == FWV_OK)
			rc = fwv_cbor_expect(&text, CBOR_MAP, &lmap);
		if (rc != FWV_OK)
			return rc;
		for (j = 0; j < lmap.val; j++) {
			const uint8_t *kstart = text.p;

			rc = fwv_cbor_read(&text, &it);
			if (rc != FWV_OK)
				return rc;
			if (it.major == CBOR_UINT || it.major == CBOR_NINT) {
				struct cbor_item s;

				rc = fwv_cbor_expect(&text, CBOR_TSTR, &s);
				if (rc != FWV_OK)
					return rc;
				if (it.major == CBOR_UINT && it.val == TEXT_MANIFEST_DESCRIPTION &&
				    mi->description.len == 0)
					mi->description = slice(s.data, (size_t)s.val);
			} else if (it.major == CBOR_ARRAY) {
				struct cbor_item cm;
				size_t klen;

				text.p = kstart;
				rc = fwv_cbor_skip(&text);
				if (rc != FWV_OK)
					return rc;
				klen = (size_t)(text.p - kstart);
				rc = fwv_cbor_expect(&text, CBOR_MAP, &cm);
				if (rc != FWV_OK)
					return rc;
				for (k = 0; k < cm.val; k++) {
					struct cbor_item s;

					rc = fwv_cbor_int(&text, &key);
					if (rc == FWV_OK)
						rc = fwv_cbor_expect(&text, CBOR_TSTR, &s);
					if (rc != FWV_OK)
						return rc;
					if (key == TEXT_COMPONENT_VERSION && mi->version.len == 0 &&
					    klen == mi->component.len && mi->component.len > 0 &&
					    ct_equal(kstart, mi->component.ptr, klen))
						mi->version = slice(s.data, (size_t)s.val);
				}
			} else {
				return FWV_E_STRUCTURE;
			}
		}
	}
	return FWV_OK;
}

static int parse_digest(struct fwv_slice wrapped, uint8_t out[FWV_SHA256_LEN])
{
	struct cbor c;
	struct cbor_item arr, d;
	int64_t alg;
	int rc;

	rc = fwv_cbor_check(wrapped.ptr, wrapped.len);
	if (rc != FWV_OK)
		return rc;
	fwv_cbor_init(&c, wrapped.ptr, wrapped.len);
	rc = fwv_cbor_expect(&c, CBOR_ARRAY, &arr);
	if (rc != FWV_OK)
		return rc;
	if (arr.val != 2)
		return FWV_E_STRUCTURE;
	rc = fwv_cbor_int(&c, &alg);
	if (rc != FWV_OK)
		return rc;
	if (alg != FWV_COSE_SHA256)
		return FWV_E_DIGEST_ALG;
	rc = fwv_cbor_expect(&c, CBOR_BSTR, &d);
	if (rc != FWV_OK)
		return rc;
	if (d.val != FWV_SHA256_LEN)
		return FWV_E_STRUCTURE;
	copy_bytes(out, d.data, FWV_SHA256_LEN);
	return FWV_OK;
}

static int parse_manifest(struct fwv_slice manifest, struct fwv_manifest_info *mi)
{
	struct params pm;
	struct cbor c, seq;
	struct cbor_item m, it;
	uint64_t seen = 0, i;
	int64_t key;
	int rc, have_version = 0, have_seqnum = 0, have_common = 0;

	zero_bytes(&pm, sizeof(pm));
	fwv_cbor_init(&c, manifest.ptr, manifest.len);
	rc = fwv_cbor_expect(&c, CBOR_MAP, &m);
	if (rc != FWV_OK)
		return rc;
	for (i = 0; i < m.val; i++) {
		rc = map_key(&c, &seen, &key);
		if (rc != FWV_OK)
			return rc;
		switch (key) {
		case MAN_VERSION:
			rc = fwv_cbor_expect(&c, CBOR_UINT, &it);
			if (rc == FWV_OK && it.val != 1)
				rc = FWV_E_MANIFEST_VERSION;
			have_version = 1;
			break;
		case MAN_SEQUENCE:
			rc = fwv_cbor_expect(&c, CBOR_UINT, &it);
			if (rc != FWV_OK)
				return rc;
			mi->sequence = it.val;
			have_seqnum = 1;
			break;
		case MAN_COMMON:
			/* common must precede the command sequences that use it */
			rc = parse_common(&c, &pm, mi);
			have_common = 1;
			break;
		case MAN_VALIDATE:
		case MAN_LOAD:
		case MAN_INVOKE:
		case MAN_PAYLOAD_FETCH:
		case MAN_INSTALL:
			if (!have_common)
				return FWV_E_STRUCTURE;
			rc = open_wrapped(&c, &seq, NULL);
			if (rc == FWV_OK)
				rc = run_sequence(&seq, &pm, mi, 0);
			break;
		case MAN_TEXT:
			if (!have_common)
				return FWV_E_STRUCTURE;
			rc = parse_text(&c, mi);
			break;
		case MAN_REFERENCE_URI:
			rc = fwv_cbor_expect(&c, CBOR_TSTR, &it);
			break;
		default:
			return FWV_E_STRUCTURE;
		}
		if (rc != FWV_OK)
			return rc;
	}
	if (!have_version || !have_seqnum || !have_common)
		return FWV_E_MISSING;
	if (!pm.vendor.ptr || !pm.class_id.ptr || !pm.digest_wrapped.ptr || !pm.has_size)
		return FWV_E_MISSING;
	/* SUIT §6.2: vendor and class must be checked, not merely stated */
	if (!mi->checks_vendor || !mi->checks_class)
		return FWV_E_MISSING;
	if (pm.vendor.len != FWV_UUID_LEN || pm.class_id.len != FWV_UUID_LEN ||
	    (pm.device.ptr && pm.device.len != FWV_UUID_LEN))
		return FWV_E_STRUCTURE;
	rc = parse_digest(pm.digest_wrapped, mi->image_digest);
	if (rc != FWV_OK)
		return rc;
	mi->vendor_id = pm.vendor;
	mi->class_id = pm.class_id;
	mi->device_id = pm.device;
	mi->image_size = pm.image_size;
	return FWV_OK;
}

int fwv_parse_envelope(const uint8_t *env, size_t env_len, struct fwv_manifest_info *out)
{
	struct fwv_manifest_info mi;
	struct envelope e;
	struct sign1 s;
	int rc;

	if (env == NULL || out == NULL)
		return FWV_E_ARG;
	zero_bytes(&mi, sizeof(mi));
	rc = parse_envelope_outer(env, env_len, &e);
	if (rc != FWV_OK)
		return rc;
	rc = parse_sign1(e.blocks[0], &s);
	if (rc != FWV_OK)
		return rc;
	mi.alg = s.alg;
	mi.has_kid = s.has_kid;
	if (s.has_kid)
		copy_bytes(mi.kid, s.kid, FWV_KEY_ID_LEN);
	mi.auth_blocks = e.nblocks;
	rc = parse_digest(e.digest_payload, mi.manifest_digest);
	if (rc != FWV_OK)
		return rc;
	rc = parse_manifest(e.manifest, &mi);
	if (rc != FWV_OK)
		return rc;
	*out = mi;
	return FWV_OK;
}

/* ---- streaming verifier ---- */

void fwv_init(struct fwv_ctx *ctx, const struct fwv_port *port)
{
	zero_bytes(ctx, sizeof(*ctx));
	ctx->port = port;
	ctx->state = ST_INIT;
}

static int fail(struct fwv_ctx *ctx, int rc)
{
	fwv_clear(ctx);
	ctx->state = ST_DEAD;
	return rc;
}

static int hash_buf(struct fwv_ctx *ctx, const uint8_t *p, size_t n, uint8_t out[FWV_SHA256_LEN])
{
	const struct fwv_port *port = ctx->port;

	if (port->hash_init(ctx->hash.bytes) != 0)
		return FWV_E_CRYPTO;
	if (port->hash_update(ctx->hash.bytes, p, n) != 0) {
		if (port->hash_abort)
			port->hash_abort(ctx->hash.bytes);
		return FWV_E_CRYPTO;
	}
	/* hash_final releases the state on every path */
	return port->hash_final(ctx->hash.bytes, out) == 0 ? FWV_OK : FWV_E_CRYPTO;
}

int fwv_begin(struct fwv_ctx *ctx, const uint8_t *env, size_t env_len,
              const struct fwv_key *keys, size_t nkeys, const struct fwv_device *dev)
{
	struct fwv_manifest_info mi;
	uint8_t signed_digest[FWV_SHA256_LEN], actual[FWV_SHA256_LEN];
	const uint8_t *signer = NULL;
	struct envelope e;
	unsigned i;
	int rc, first = FWV_E_BAD_SIGNATURE;

	if (ctx == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_INIT || ctx->port == NULL)
		return fail(ctx, FWV_E_STATE);
	if (env == NULL || dev == NULL || (keys == NULL && nkeys > 0))
		return fail(ctx, FWV_E_ARG);
	if (nkeys == 0)
		return fail(ctx, FWV_E_NO_KEYS);
	for (i = 0; i < nkeys; i++) {
		if (keys[i].id == NULL || keys[i].pub == NULL)
			return fail(ctx, FWV_E_ARG);
	}

	/* 1. outer structure: bounds only, nothing from the manifest yet */
	rc = parse_envelope_outer(env, env_len, &e);
	if (rc != FWV_OK)
		return fail(ctx, rc);

	/* 2. a signature by a trusted key over the SUIT_Digest */
	for (i = 0; i < e.nblocks; i++) {
		rc = verify_block(ctx->port, e.blocks[i], e.digest_payload, keys, nkeys, &signer);
		if (rc == FWV_OK)
			break;
		if (rc == FWV_E_CRYPTO)
			return fail(ctx, rc); /* undecided is no verdict: never skip past it */
		if (i == 0)
			first = rc;
	}
	if (signer == NULL)
		return fail(ctx, first);

	/* 3. the signed digest covers these manifest bytes */
	rc = parse_digest(e.digest_payload, signed_digest);
	if (rc != FWV_OK)
		return fail(ctx, rc);
	rc = hash_buf(ctx, e.manifest_wrapped.ptr, e.manifest_wrapped.len, actual);
	if (rc != FWV_OK)
		return fail(ctx, rc);
	if (!ct_equal(signed_digest, actual, FWV_SHA256_LEN))
		return fail(ctx, FWV_E_MANIFEST_DIGEST);

	/* 4. the manifest, now authenticated, and its conditions */
	zero_bytes(&mi, sizeof(mi));
	rc = parse_manifest(e.manifest, &mi);
	if (rc != FWV_OK)
		return fail(ctx, rc);
	if (!(dev->flags & FWV_F_SKIP_VENDOR) &&
	    (dev->vendor_id == NULL || !ct_equal(dev->vendor_id, mi.vendor_id.ptr, FWV_UUID_LEN)))
		return fail(ctx, FWV_E_VENDOR_MISMATCH);
	if (!(dev->flags & FWV_F_SKIP_CLASS) &&
	    (dev->class_id == NULL || !ct_equal(dev->class_id, mi.class_id.ptr, FWV_UUID_LEN)))
		return fail(ctx, FWV_E_CLASS_MISMATCH);
	if (mi.checks_device && !(dev->flags & FWV_F_SKIP_DEVICE) &&
	    (dev->device_id == NULL || !ct_equal(dev->device_id, mi.device_id.ptr, FWV_UUID_LEN)))
		return fail(ctx, FWV_E_DEVICE_MISMATCH);
	if (!(dev->flags & FWV_F_SKIP_SEQUENCE)) {
		if (mi.sequence < dev->sequence)
			return fail(ctx, FWV_E_ROLLBACK);
		if (mi.sequence == dev->sequence && !(dev->flags & FWV_F_ALLOW_EQUAL_SEQUENCE))
			return fail(ctx, FWV_E_SEQUENCE_EQUAL);
	}

	/* 5. ready for the image */
	if (ctx->port->hash_init(ctx->hash.bytes) != 0)
		return fail(ctx, FWV_E_CRYPTO);
	copy_bytes(ctx->digest, mi.image_digest, FWV_SHA256_LEN);
	copy_bytes(ctx->key_id, signer, FWV_KEY_ID_LEN);
	ctx->image_size = mi.image_size;
	ctx->sequence = mi.sequence;
	ctx->received = 0;
	ctx->state = ST_READY;
	return FWV_OK;
}

int fwv_update(struct fwv_ctx *ctx, const uint8_t *data, size_t len)
{
	if (ctx == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_READY)
		return fail(ctx, FWV_E_STATE);
	if (data == NULL && len > 0)
		return fail(ctx, FWV_E_ARG);
	/* image bytes come from the network: never more than the signed size */
	if ((uint64_t)len > ctx->image_size - ctx->received)
		return fail(ctx, FWV_E_IMAGE_TOO_LONG);
	if (len > 0 && ctx->port->hash_update(ctx->hash.bytes, data, len) != 0)
		return fail(ctx, FWV_E_CRYPTO);
	ctx->received += len;
	return FWV_OK;
}

int fwv_finish(struct fwv_ctx *ctx)
{
	uint8_t actual[FWV_SHA256_LEN];

	if (ctx == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_READY)
		return fail(ctx, FWV_E_STATE);
	if (ctx->received != ctx->image_size)
		return fail(ctx, FWV_E_IMAGE_TOO_SHORT);
	ctx->state = ST_DEAD; /* the hash state is consumed below either way */
	if (ctx->port->hash_final(ctx->hash.bytes, actual) != 0)
		return FWV_E_CRYPTO;
	if (!ct_equal(actual, ctx->digest, FWV_SHA256_LEN))
		return FWV_E_IMAGE_DIGEST;
	ctx->state = ST_DONE;
	return FWV_OK;
}

int fwv_sequence(const struct fwv_ctx *ctx, uint64_t *out)
{
	if (ctx == NULL || out == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_READY && ctx->state != ST_DONE)
		return FWV_E_STATE;
	*out = ctx->sequence;
	return FWV_OK;
}

int fwv_image_size(const struct fwv_ctx *ctx, uint64_t *out)
{
	if (ctx == NULL || out == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_READY && ctx->state != ST_DONE)
		return FWV_E_STATE;
	*out = ctx->image_size;
	return FWV_OK;
}

int fwv_signer(const struct fwv_ctx *ctx, uint8_t out[FWV_KEY_ID_LEN])
{
	if (ctx == NULL || out == NULL)
		return FWV_E_ARG;
	if (ctx->state != ST_READY && ctx->state != ST_DONE)
		return FWV_E_STATE;
	copy_bytes(out, ctx->key_id, FWV_KEY_ID_LEN);
	return FWV_OK;
}

void fwv_clear(struct fwv_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->state == ST_READY && ctx->port && ctx->port->hash_abort)
		ctx->port->hash_abort(ctx->hash.bytes);
	if (ctx->state == ST_READY)
		ctx->state = ST_DEAD;
}
