#include "envbuild.h"

#include <string.h>

#include "core/core.h"

void tman_default(struct tman *m)
{
	memset(m, 0, sizeof(*m));
	m->seq = 42;
	m->manifest_version = 1;
	memset(m->vendor, 0xa1, 16);
	memset(m->class_id, 0xc1, 16);
	memset(m->device, 0xd1, 16);
	m->size = 1000;
	m->image_digest_alg = -16;
	m->version_text = "2.4.1";
}

static void digest(struct fw_cbw *w, int64_t alg, const uint8_t d[32])
{
	fw_cbw_head(w, 4, 2);
	fw_cbw_int(w, alg);
	fw_cbw_bstr(w, d, 32);
}

size_t tman_encode(const struct tman *m, uint8_t *out, size_t cap)
{
	uint8_t bs[512], bc[600], bd[64], bt[512], bv[16];
	struct fw_cbw shared, common, dg, text, val, w;
	uint64_t n_params = 2 + !m->no_digest + !m->no_size + !!m->with_device;
	uint64_t n_cmds = 2 + 2 * (!m->no_vendor_cond + !m->no_class_cond + !!m->with_device +
	                           !!m->unknown_command);
	static const uint8_t c0[] = {0}, c1[] = {1};
	int i;

	fw_cbw_init(&dg, bd, sizeof(bd));
	digest(&dg, m->image_digest_alg, m->digest);

	fw_cbw_init(&shared, bs, sizeof(bs));
	fw_cbw_head(&shared, 4, n_cmds);
	fw_cbw_int(&shared, 20);
	fw_cbw_head(&shared, 5, n_params);
	fw_cbw_int(&shared, 1);
	fw_cbw_bstr(&shared, m->vendor, 16);
	fw_cbw_int(&shared, 2);
	fw_cbw_bstr(&shared, m->class_id, 16);
	if (!m->no_digest) {
		fw_cbw_int(&shared, 3);
		fw_cbw_wrap(&shared, &dg);
	}
	if (!m->no_size) {
		fw_cbw_int(&shared, 14);
		fw_cbw_int(&shared, (int64_t)m->size);
	}
	if (m->with_device) {
		fw_cbw_int(&shared, 24);
		fw_cbw_bstr(&shared, m->device, 16);
	}
	if (!m->no_vendor_cond) {
		fw_cbw_int(&shared, 1);
		fw_cbw_int(&shared, 15);
	}
	if (!m->no_class_cond) {
		fw_cbw_int(&shared, 2);
		fw_cbw_int(&shared, 15);
	}
	if (m->with_device) {
		fw_cbw_int(&shared, 24);
		fw_cbw_int(&shared, 15);
	}
	if (m->unknown_command) {
		fw_cbw_int(&shared, 99);
		fw_cbw_int(&shared, 15);
	}

	fw_cbw_init(&common, bc, sizeof(bc));
	fw_cbw_head(&common, 5, 2);
	fw_cbw_int(&common, 2);
	fw_cbw_head(&common, 4, m->two_components ? 2 : 1);
	fw_cbw_head(&common, 4, 1);
	fw_cbw_bstr(&common, c0, 1);
	if (m->two_components) {
		fw_cbw_head(&common, 4, 1);
		fw_cbw_bstr(&common, c1, 1);
	}
	fw_cbw_int(&common, 4);
	fw_cbw_wrap(&common, &shared);

	fw_cbw_init(&val, bv, sizeof(bv));
	fw_cbw_head(&val, 4, 2);
	fw_cbw_int(&val, 3);
	fw_cbw_int(&val, 15);

	fw_cbw_init(&text, bt, sizeof(bt));
	if (m->deep_text) {
		fw_cbw_head(&text, 5, 1);
		fw_cbw_tstr(&text, "en");
		fw_cbw_head(&text, 5, 1);
		fw_cbw_int(&text, -1);
		for (i = 0; i < 12; i++)
			fw_cbw_head(&text, 4, 1);
		fw_cbw_int(&text, 0);
	} else if (m->indefinite) {
		static const uint8_t indef[] = {0xbf, 0x62, 'e', 'n', 0xa0, 0xff};
		fw_cbw_raw(&text, indef, sizeof(indef));
	} else {
		fw_cbw_head(&text, 5, 1);
		fw_cbw_tstr(&text, "en");
		fw_cbw_head(&text, 5, 1);
		fw_cbw_head(&text, 4, 1);
		fw_cbw_bstr(&text, c0, 1);
		fw_cbw_head(&text, 5, 1);
		fw_cbw_int(&text, 6);
		fw_cbw_tstr(&text, m->version_text);
	}

	fw_cbw_init(&w, out, cap);
	fw_cbw_head(&w, 5, 5 + !!m->dup_manifest_key);
	fw_cbw_int(&w, 1);
	fw_cbw_int(&w, (int64_t)m->manifest_version);
	fw_cbw_int(&w, 2);
	fw_cbw_head(&w, 0, m->seq);
	if (m->dup_manifest_key) {
		fw_cbw_int(&w, 2);
		fw_cbw_head(&w, 0, m->seq + 1);
	}
	fw_cbw_int(&w, 3);
	fw_cbw_wrap(&w, &common);
	fw_cbw_int(&w, 7);
	fw_cbw_wrap(&w, &val);
	fw_cbw_int(&w, 23);
	fw_cbw_wrap(&w, &text);
	return w.overflow ? 0 : w.len;
}

size_t tenv_build(const struct tenv *e, const uint8_t *manifest, size_t manifest_len,
                  uint8_t *out, size_t cap)
{
	uint8_t bw[2048], bsw[2048], bd[64], bp[128], btbs[512], bs1[512], ba[1024], hash[32],
	    sig[64];
	struct fw_cbw wrapped, signed_wrapped, dg, prot, tbs, s1, auth, env;
	int64_t alg = e->alg ? e->alg : fw_key_cose_alg(e->key);
	size_t sig_len = e->sig_len ? e->sig_len : 64;
	uint8_t big_sig[128];
	uint64_t nprot = (!e->alg_unprotected) + (!e->no_kid) + !!e->extra_protected_label;
	uint64_t nunprot = !!e->alg_unprotected + !!e->alg_both + !!e->kid_both;

	fw_cbw_init(&wrapped, bw, sizeof(bw));
	fw_cbw_bstr(&wrapped, manifest, manifest_len);
	fw_cbw_init(&signed_wrapped, bsw, sizeof(bsw));
	if (e->signed_manifest)
		fw_cbw_bstr(&signed_wrapped, e->signed_manifest, e->signed_manifest_len);
	else
		fw_cbw_bstr(&signed_wrapped, manifest, manifest_len);
	fw_sha256(signed_wrapped.buf, signed_wrapped.len, hash);
	fw_cbw_init(&dg, bd, sizeof(bd));
	digest(&dg, e->digest_alg ? e->digest_alg : -16, hash);

	fw_cbw_init(&prot, bp, sizeof(bp));
	fw_cbw_head(&prot, 5, nprot);
	if (!e->alg_unprotected) {
		fw_cbw_int(&prot, 1);
		fw_cbw_int(&prot, alg);
	}
	if (e->extra_protected_label) {
		fw_cbw_int(&prot, 2);
		fw_cbw_head(&prot, 4, 1);
		fw_cbw_int(&prot, 99);
	}
	if (!e->no_kid) {
		fw_cbw_int(&prot, 4);
		fw_cbw_bstr(&prot, e->kid ? e->kid : fw_key_id(e->key), 32);
	}

	fw_cbw_init(&tbs, btbs, sizeof(btbs));
	fw_cbw_head(&tbs, 4, 4);
	fw_cbw_tstr(&tbs, "Signature1");
	fw_cbw_wrap(&tbs, &prot);
	fw_cbw_bstr(&tbs, NULL, 0);
	fw_cbw_wrap(&tbs, &dg);
	if (e->raw_sig)
		memcpy(sig, e->raw_sig, 64);
	else if (fw_key_sign(e->key, tbs.buf, tbs.len, sig, NULL) != FW_OK)
		return 0;
	if (e->flip_sig_bit)
		sig[10] ^= 0x01;
	memset(big_sig, 0x5a, sizeof(big_sig));
	memcpy(big_sig, sig, 64);

	fw_cbw_init(&s1, bs1, sizeof(bs1));
	if (!e->no_cose_tag)
		fw_cbw_head(&s1, 6, 18);
	fw_cbw_head(&s1, 4, 4);
	fw_cbw_wrap(&s1, &prot);
	fw_cbw_head(&s1, 5, nunprot);
	if (e->alg_unprotected || e->alg_both) {
		fw_cbw_int(&s1, 1);
		fw_cbw_int(&s1, alg);
	}
	if (e->kid_both) {
		fw_cbw_int(&s1, 4);
		fw_cbw_bstr(&s1, e->kid ? e->kid : fw_key_id(e->key), 32);
	}
	if (e->embed_payload)
		fw_cbw_wrap(&s1, &dg);
	else
		fw_cbw_head(&s1, 7, 22);
	fw_cbw_bstr(&s1, big_sig, sig_len <= sizeof(big_sig) ? sig_len : sizeof(big_sig));

	fw_cbw_init(&auth, ba, sizeof(ba));
	fw_cbw_head(&auth, 4, e->pre_block ? 3 : 2);
	fw_cbw_wrap(&auth, &dg);
	if (e->pre_block)
		fw_cbw_bstr(&auth, e->pre_block, e->pre_block_len);
	fw_cbw_wrap(&auth, &s1);

	fw_cbw_init(&env, out, cap);
	if (!e->no_tag)
		fw_cbw_head(&env, 6, 107);
	fw_cbw_head(&env, 5, 2);
	if (e->manifest_first) {
		fw_cbw_int(&env, 3);
		fw_cbw_raw(&env, wrapped.buf, wrapped.len);
	}
	fw_cbw_int(&env, 2);
	fw_cbw_wrap(&env, &auth);
	if (!e->manifest_first) {
		fw_cbw_int(&env, 3);
		fw_cbw_raw(&env, wrapped.buf, wrapped.len);
	}
	return env.overflow ? 0 : env.len;
}
