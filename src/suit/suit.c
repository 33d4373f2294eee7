#define _POSIX_C_SOURCE 200809L
#include "suit/suit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SUIT numbers (draft-ietf-suit-manifest-37) */
enum {
	SUIT_TAG = 107, COSE_SIGN1_TAG = 18,
	ENV_AUTH = 2, ENV_MANIFEST = 3,
	MAN_VERSION = 1, MAN_SEQUENCE = 2, MAN_COMMON = 3, MAN_VALIDATE = 7, MAN_INVOKE = 9,
	MAN_TEXT = 23,
	COMMON_COMPONENTS = 2, COMMON_SHARED = 4,
	CMD_VENDOR = 1, CMD_CLASS = 2, CMD_IMAGE_MATCH = 3, CMD_OVERRIDE = 20, CMD_INVOKE = 23,
	CMD_DEVICE = 24,
	P_VENDOR = 1, P_CLASS = 2, P_DIGEST = 3, P_SIZE = 14, P_DEVICE = 24,
	TEXT_COMPONENT_VERSION = 6,
	REPORT_ALL = 15 /* record and sysinfo on success and failure */
};

#define PART_MAX 1024

static const uint8_t component0[] = {0x00};

static void encode_digest(struct fw_cbw *w, const uint8_t digest[32])
{
	fw_cbw_head(w, 4, 2);
	fw_cbw_int(w, FWV_COSE_SHA256);
	fw_cbw_bstr(w, digest, 32);
}

static void encode_manifest(struct fw_cbw *w, const struct fw_suit_manifest *m)
{
	uint8_t b_common[PART_MAX], b_shared[PART_MAX], b_digest[64], b_val[16], b_inv[16],
	    b_text[PART_MAX];
	struct fw_cbw common, shared, digest, val, inv, text;

	fw_cbw_init(&digest, b_digest, sizeof(b_digest));
	encode_digest(&digest, m->image_digest);

	/* shared sequence: set parameters, then check vendor, class (device) */
	fw_cbw_init(&shared, b_shared, sizeof(b_shared));
	fw_cbw_head(&shared, 4, m->has_device_id ? 8 : 6);
	fw_cbw_int(&shared, CMD_OVERRIDE);
	fw_cbw_head(&shared, 5, m->has_device_id ? 5 : 4);
	fw_cbw_int(&shared, P_VENDOR);
	fw_cbw_bstr(&shared, m->vendor_id, 16);
	fw_cbw_int(&shared, P_CLASS);
	fw_cbw_bstr(&shared, m->class_id, 16);
	fw_cbw_int(&shared, P_DIGEST);
	fw_cbw_wrap(&shared, &digest);
	fw_cbw_int(&shared, P_SIZE);
	fw_cbw_head(&shared, 0, m->image_size);
	if (m->has_device_id) {
		fw_cbw_int(&shared, P_DEVICE);
		fw_cbw_bstr(&shared, m->device_id, 16);
	}
	fw_cbw_int(&shared, CMD_VENDOR);
	fw_cbw_int(&shared, REPORT_ALL);
	fw_cbw_int(&shared, CMD_CLASS);
	fw_cbw_int(&shared, REPORT_ALL);
	if (m->has_device_id) {
		fw_cbw_int(&shared, CMD_DEVICE);
		fw_cbw_int(&shared, REPORT_ALL);
	}

	fw_cbw_init(&common, b_common, sizeof(b_common));
	fw_cbw_head(&common, 5, 2);
	fw_cbw_int(&common, COMMON_COMPONENTS);
	fw_cbw_head(&common, 4, 1);
	fw_cbw_head(&common, 4, 1);
	fw_cbw_bstr(&common, component0, sizeof(component0));
	fw_cbw_int(&common, COMMON_SHARED);
	fw_cbw_wrap(&common, &shared);

	fw_cbw_init(&val, b_val, sizeof(b_val));
	fw_cbw_head(&val, 4, 2);
	fw_cbw_int(&val, CMD_IMAGE_MATCH);
	fw_cbw_int(&val, REPORT_ALL);

	fw_cbw_init(&inv, b_inv, sizeof(b_inv));
	fw_cbw_head(&inv, 4, 2);
	fw_cbw_int(&inv, CMD_INVOKE);
	fw_cbw_int(&inv, 2); /* record on failure */

	fw_cbw_init(&text, b_text, sizeof(b_text));
	fw_cbw_head(&text, 5, 1);
	fw_cbw_tstr(&text, "en");
	fw_cbw_head(&text, 5, 1);
	fw_cbw_head(&text, 4, 1);
	fw_cbw_bstr(&text, component0, sizeof(component0));
	fw_cbw_head(&text, 5, 1);
	fw_cbw_int(&text, TEXT_COMPONENT_VERSION);
	fw_cbw_tstr(&text, m->version);

	/* keys in ascending order: deterministic encoding */
	fw_cbw_head(w, 5, 6);
	fw_cbw_int(w, MAN_VERSION);
	fw_cbw_int(w, 1);
	fw_cbw_int(w, MAN_SEQUENCE);
	fw_cbw_head(w, 0, m->sequence);
	fw_cbw_int(w, MAN_COMMON);
	fw_cbw_wrap(w, &common);
	fw_cbw_int(w, MAN_VALIDATE);
	fw_cbw_wrap(w, &val);
	fw_cbw_int(w, MAN_INVOKE);
	fw_cbw_wrap(w, &inv);
	fw_cbw_int(w, MAN_TEXT);
	fw_cbw_wrap(w, &text);
}

int fw_suit_sign(const struct fw_suit_manifest *m, const struct fw_key *key, uint8_t **out,
                 size_t *out_len, struct fw_diag *d)
{
	uint8_t b_man[2 * PART_MAX], b_wrapped[2 * PART_MAX + 8], b_digest[64], b_prot[64],
	    b_tbs[256], b_sign1[256], b_auth[512], sig[64], hash[32];
	struct fw_cbw man, wrapped, digest, prot, tbs, sign1, auth, env;
	uint8_t *buf;
	int rc;

	if (m->version == NULL || strlen(m->version) == 0 ||
	    strlen(m->version) > FW_MAX_VERSION_STRING)
		return fw_diag_set(d, FW_E_ARG, "--version: 1 to %d bytes of text", FW_MAX_VERSION_STRING);
	if (!fw_text_valid(m->version))
		return fw_diag_set(d, FW_E_ARG, "--version: not UTF-8 text (or has control characters)");

	fw_cbw_init(&man, b_man, sizeof(b_man));
	encode_manifest(&man, m);
	/* the SUIT_Digest covers the bstr-wrapped manifest, head included */
	fw_cbw_init(&wrapped, b_wrapped, sizeof(b_wrapped));
	fw_cbw_wrap(&wrapped, &man);
	if (wrapped.overflow)
		return fw_diag_set(d, FW_E_TOO_LARGE, "manifest too large");
	fw_sha256(wrapped.buf, wrapped.len, hash);
	fw_cbw_init(&digest, b_digest, sizeof(b_digest));
	encode_digest(&digest, hash);

	/* protected header {1: alg, 4: kid} */
	fw_cbw_init(&prot, b_prot, sizeof(b_prot));
	fw_cbw_head(&prot, 5, 2);
	fw_cbw_int(&prot, 1);
	fw_cbw_int(&prot, fw_key_cose_alg(key));
	fw_cbw_int(&prot, 4);
	fw_cbw_bstr(&prot, fw_key_id(key), FW_KEY_ID_LEN);

	/* Sig_structure = ["Signature1", protected, h'', payload] */
	fw_cbw_init(&tbs, b_tbs, sizeof(b_tbs));
	fw_cbw_head(&tbs, 4, 4);
	fw_cbw_tstr(&tbs, "Signature1");
	fw_cbw_wrap(&tbs, &prot);
	fw_cbw_bstr(&tbs, NULL, 0);
	fw_cbw_wrap(&tbs, &digest);
	if (tbs.overflow)
		return fw_diag_set(d, FW_E_INTERNAL, "Sig_structure overflow");
	rc = fw_key_sign(key, tbs.buf, tbs.len, sig, d);
	if (rc != FW_OK)
		return rc;

	fw_cbw_init(&sign1, b_sign1, sizeof(b_sign1));
	fw_cbw_head(&sign1, 6, COSE_SIGN1_TAG);
	fw_cbw_head(&sign1, 4, 4);
	fw_cbw_wrap(&sign1, &prot);
	fw_cbw_head(&sign1, 5, 0);
	fw_cbw_head(&sign1, 7, 22); /* nil: detached payload */
	fw_cbw_bstr(&sign1, sig, sizeof(sig));

	fw_cbw_init(&auth, b_auth, sizeof(b_auth));
	fw_cbw_head(&auth, 4, 2);
	fw_cbw_wrap(&auth, &digest);
	fw_cbw_wrap(&auth, &sign1);

	buf = malloc(FWV_MAX_ENVELOPE);
	if (buf == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	fw_cbw_init(&env, buf, FWV_MAX_ENVELOPE);
	fw_cbw_head(&env, 6, SUIT_TAG);
	fw_cbw_head(&env, 5, 2);
	fw_cbw_int(&env, ENV_AUTH);
	fw_cbw_wrap(&env, &auth);
	fw_cbw_int(&env, ENV_MANIFEST);
	fw_cbw_raw(&env, wrapped.buf, wrapped.len);
	if (env.overflow) {
		free(buf);
		return fw_diag_set(d, FW_E_TOO_LARGE, "envelope larger than %d bytes",
		                   FWV_MAX_ENVELOPE);
	}
	*out = buf;
	*out_len = env.len;
	return FW_OK;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	if (n > 64)
		return json_null();
	fw_hex_encode(p, n, buf);
	return json_string(buf);
}

static json_t *uuid_json(const uint8_t *p, size_t n)
{
	char buf[37];

	if (n != 16)
		return hex_json(p, n);
	fw_uuid_format(p, buf);
	return json_string(buf);
}

/* Envelope text is untrusted: invalid UTF-8 is shown as null, not dropped. */
static json_t *text_json(struct fwv_slice t)
{
	json_t *s = t.len ? json_stringn((const char *)t.ptr, t.len) : NULL;

	return s ? s : json_null();
}

/* SUIT sequence numbers are uint64; above 2^63-1 JSON gets the decimal
 * string so the value stays exact. */
static json_t *u64_json(uint64_t v)
{
	char buf[21];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

static const char *cose_alg_name(int alg)
{
	switch (alg) {
	case FWV_COSE_ES256: return "ES256";
	case FWV_COSE_ESP256: return "ESP256";
	case FWV_COSE_EDDSA: return "EdDSA";
	case FWV_COSE_ED25519: return "Ed25519";
	default: return "unknown";
	}
}

json_t *fw_suit_record(const struct fw_suit_manifest *m, const struct fw_key *key,
                       const uint8_t *env, size_t env_len, const char *signed_at)
{
	uint8_t env_hash[32];
	char kid[2 * FW_KEY_ID_LEN + 1];
	json_t *r = json_object();

	fw_sha256(env, env_len, env_hash);
	fw_key_id_hex(key, kid);
	json_object_set_new(r, "record", json_string("fwtrust.signing.v1"));
	json_object_set_new(r, "image_sha256", hex_json(m->image_digest, 32));
	json_object_set_new(r, "image_size", u64_json(m->image_size));
	json_object_set_new(r, "key_id", json_string(kid));
	json_object_set_new(r, "key_alg", json_string(fw_key_alg_name(fw_key_alg(key))));
	json_object_set_new(r, "cose_alg", json_string(cose_alg_name(fw_key_cose_alg(key))));
	json_object_set_new(r, "sequence", u64_json(m->sequence));
	json_object_set_new(r, "version", json_string(m->version));
	json_object_set_new(r, "vendor_id", uuid_json(m->vendor_id, 16));
	json_object_set_new(r, "class_id", uuid_json(m->class_id, 16));
	json_object_set_new(r, "device_id",
	                    m->has_device_id ? uuid_json(m->device_id, 16) : json_null());
	json_object_set_new(r, "signed_at", json_string(signed_at));
	json_object_set_new(r, "envelope_sha256", hex_json(env_hash, 32));
	json_object_set_new(r, "envelope_size", json_integer((json_int_t)env_len));
	return r;
}

json_t *fw_suit_info_json(const struct fwv_manifest_info *mi, size_t env_len)
{
	json_t *r = json_object();

	json_object_set_new(r, "envelope_size", json_integer((json_int_t)env_len));
	json_object_set_new(r, "manifest_version", json_integer(1));
	json_object_set_new(r, "sequence", u64_json(mi->sequence));
	json_object_set_new(r, "version", text_json(mi->version));
	json_object_set_new(r, "vendor_id", uuid_json(mi->vendor_id.ptr, mi->vendor_id.len));
	json_object_set_new(r, "class_id", uuid_json(mi->class_id.ptr, mi->class_id.len));
	json_object_set_new(r, "device_id", mi->device_id.len
	                                        ? uuid_json(mi->device_id.ptr, mi->device_id.len)
	                                        : json_null());
	json_object_set_new(r, "image_sha256", hex_json(mi->image_digest, 32));
	json_object_set_new(r, "image_size", u64_json(mi->image_size));
	json_object_set_new(r, "manifest_sha256", hex_json(mi->manifest_digest, 32));
	json_object_set_new(r, "cose_alg", json_string(cose_alg_name(mi->alg)));
	json_object_set_new(r, "key_id", mi->has_kid ? hex_json(mi->kid, 32) : json_null());
	json_object_set_new(r, "signatures", json_integer(mi->auth_blocks));
	json_object_set_new(r, "checks_device_id", json_boolean(mi->checks_device));
	json_object_set_new(r, "signature_checked", json_false());
	return r;
}

static const char *const explanations[FWV_ERR_COUNT] = {
	"verified",
	"the verifier was called with a bad argument",
	"the verifier was called out of order",
	"the envelope is not well-formed CBOR in shortest form",
	"a length in the envelope points past the end of its container",
	"there are bytes after the end of the envelope or of an item in it",
	"the envelope uses an indefinite-length item, which is not allowed",
	"the envelope nests deeper than the verifier allows",
	"an item in the envelope is larger than the verifier allows",
	"the envelope is well-formed CBOR but not a SUIT envelope of the expected shape",
	"a map in the envelope has the same key twice",
	"the envelope is signed by a key that is not among the trusted keys",
	"the signature does not verify: the envelope was altered or signed by another key",
	"the signature algorithm does not match the type of the signing key",
	"the signature algorithm is in the unprotected header, where it is not covered by the signature",
	"the signature algorithm is missing or not supported (ES256/ESP256/EdDSA/Ed25519)",
	"the COSE header carries a parameter the verifier does not accept",
	"the signature is not 64 bytes",
	"the digest algorithm is not SHA-256",
	"the manifest does not match the digest that was signed",
	"the manifest version is not 1",
	"the envelope's sequence number is lower than the device's: a rollback",
	"the envelope's sequence number equals the device's (reinstall not allowed)",
	"the envelope is for another vendor",
	"the envelope is for another device class",
	"the envelope is for another device",
	"the manifest lacks a required element (vendor/class check, digest, size, ...)",
	"the manifest uses a command or parameter the verifier does not implement",
	"the manifest does not name exactly one component",
	"the image is longer than the size in the manifest",
	"the image is shorter than the size in the manifest",
	"the image does not match the digest in the manifest (tampered or wrong image)",
	"the crypto library failed",
	"no trusted keys were given",
	"the envelope or signature block lacks its CBOR tag (107 / 18)",
	"the COSE payload is not detached",
};

const char *fw_suit_explain(int fwv_rc)
{
	if (fwv_rc < 0 || fwv_rc >= FWV_ERR_COUNT || explanations[fwv_rc] == NULL)
		return "unknown verifier error";
	return explanations[fwv_rc];
}

#define IMAGE_BLOCK (1024 * 1024)

int fw_suit_verify(const uint8_t *env, size_t env_len, const struct fwv_key *keys, size_t nkeys,
                   const struct fwv_device *dev, const char *image_path,
                   struct fw_suit_verdict *v, struct fw_diag *d)
{
	struct fwv_ctx ctx;
	uint8_t *buf = NULL;
	int fd = -1, rc;

	memset(v, 0, sizeof(*v));
	v->stage = "envelope";
	/* open the image first: an unreadable file is a usage error, not a verdict */
	if (image_path != NULL) {
		fd = open(image_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fw_diag_set(d, FW_E_IO, "%s: %s", image_path, strerror(errno));
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		buf = malloc(IMAGE_BLOCK);
		if (buf == NULL) {
			close(fd);
			return fw_diag_set(d, FW_E_NOMEM, "out of memory");
		}
	}
	fwv_init(&ctx, fwv_port_openssl());
	v->fwv_rc = fwv_begin(&ctx, env, env_len, keys, nkeys, dev);
	if (v->fwv_rc != FWV_OK) {
		rc = FW_E_VERIFY;
		goto out;
	}
	if (fwv_sequence(&ctx, &v->sequence) != FWV_OK ||
	    fwv_image_size(&ctx, &v->image_size) != FWV_OK ||
	    fwv_signer(&ctx, v->signer) != FWV_OK) {
		rc = fw_diag_set(d, FW_E_INTERNAL, "verifier state");
		goto out;
	}
	if (image_path == NULL) {
		rc = FW_OK;
		goto out;
	}
	v->stage = "image";
	for (;;) {
		ssize_t r = read(fd, buf, IMAGE_BLOCK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed: %s", image_path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		v->fwv_rc = fwv_update(&ctx, buf, (size_t)r);
		if (v->fwv_rc != FWV_OK) {
			rc = FW_E_VERIFY;
			goto out;
		}
	}
	v->fwv_rc = fwv_finish(&ctx);
	if (v->fwv_rc != FWV_OK) {
		rc = FW_E_VERIFY;
		goto out;
	}
	v->image_checked = 1;
	rc = FW_OK;
out:
	fwv_clear(&ctx);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
