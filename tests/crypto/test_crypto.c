#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "fwv.h"
#include "harness.h"

static const char *tmp(const char *name)
{
	static char buf[8][600];
	static int slot;
	char *p = buf[slot++ % 8];

	snprintf(p, 600, "%s/%s", harness_tmpdir(), name);
	return p;
}

/* run a shell command, return its first output line (static buffer) */
static const char *sh(const char *cmd)
{
	static char line[256];
	FILE *f = popen(cmd, "r");

	line[0] = '\0';
	if (!f)
		return line;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	pclose(f);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void t_generate_save_load(void)
{
	static const int algs[] = {FW_KEY_ALG_ED25519, FW_KEY_ALG_P256};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct fw_key *k = NULL, *priv = NULL, *pub = NULL;
		struct fw_diag d = {{0}};
		char base[600], keyp[640], pubp[640], cmd[1400], kid[65];
		struct stat st;

		snprintf(base, sizeof(base), "%s/gen%zu", harness_tmpdir(), i);
		snprintf(keyp, sizeof(keyp), "%s.key", base);
		snprintf(pubp, sizeof(pubp), "%s.pub", base);
		CHECK_EQ(fw_key_generate(algs[i], &k, &d), FW_OK);
		CHECK_EQ(fw_key_save(k, base, &d), FW_OK);
		CHECK(stat(keyp, &st) == 0 && (st.st_mode & 0777) == 0600);
		CHECK_EQ(fw_key_load_private(keyp, &priv, &d), FW_OK);
		CHECK_EQ(fw_key_load_public(pubp, &pub, &d), FW_OK);
		if (!k || !priv || !pub)
			return;
		CHECK(memcmp(fw_key_id(k), fw_key_id(priv), 32) == 0);
		CHECK(memcmp(fw_key_id(k), fw_key_id(pub), 32) == 0);
		CHECK_EQ(fw_key_alg(pub), algs[i]);

		/* key id = SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it */
		snprintf(cmd, sizeof(cmd),
		         "openssl pkey -pubin -in '%s' -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1",
		         pubp);
		fw_key_id_hex(pub, kid);
		CHECK(strcmp(sh(cmd), kid) == 0);

		/* refuses to overwrite, leaves the old key intact */
		CHECK_EQ(fw_key_save(k, base, &d), FW_E_EXISTS);
		CHECK(strstr(d.msg, "already exists") != NULL);
		fw_key_free(k);
		fw_key_free(priv);
		fw_key_free(pub);
	}
}

static void t_sign_verify_port(void)
{
	static const int algs[] = {FW_KEY_ALG_ED25519, FW_KEY_ALG_P256};
	const struct fwv_port *port = fwv_port_openssl();
	const uint8_t msg[] = "the Sig_structure bytes";
	size_t i;

	for (i = 0; i < 2; i++) {
		struct fw_key *k = NULL;
		struct fwv_key tk;
		uint8_t sig[64];

		CHECK_EQ(fw_key_generate(algs[i], &k, NULL), FW_OK);
		if (!k)
			return;
		fw_key_to_fwv(k, &tk);
		CHECK_EQ(fw_key_sign(k, msg, sizeof(msg), sig, NULL), FW_OK);
		CHECK_EQ(port->verify(tk.type, tk.pub, tk.pub_len, msg, sizeof(msg), sig), 0);
		/* forgeries: changed message, changed signature, wrong key type */
		CHECK(port->verify(tk.type, tk.pub, tk.pub_len, msg, sizeof(msg) - 1, sig) != 0);
		sig[63] ^= 0x80;
		CHECK(port->verify(tk.type, tk.pub, tk.pub_len, msg, sizeof(msg), sig) != 0);
		sig[63] ^= 0x80;
		CHECK(port->verify(tk.type == FWV_KEY_P256 ? FWV_KEY_ED25519 : FWV_KEY_P256, tk.pub,
		                   tk.pub_len, msg, sizeof(msg), sig) != 0);
		fw_key_free(k);
	}
}

static void t_refused_key_files(void)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	CHECK_EQ(harness_write(tmp("garbage.pem"), "hello\n", 6), 0);
	CHECK_EQ(fw_key_load_public(tmp("garbage.pem"), &k, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "garbage.pem") != NULL);
	CHECK_EQ(fw_key_load_private(tmp("garbage.pem"), &k, &d), FW_E_KEY);
	CHECK_EQ(fw_key_load_private(tmp("missing.key"), &k, &d), FW_E_IO);

	/* other key types and curves are refused by name */
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd),
		         "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out '%s' 2>/dev/null",
		         tmp("rsa.key"));
		sh(cmd);
		snprintf(cmd, sizeof(cmd),
		         "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out '%s' 2>/dev/null",
		         tmp("p384.key"));
		sh(cmd);
		snprintf(cmd, sizeof(cmd),
		         "openssl genpkey -algorithm ED25519 -aes-128-cbc -pass pass:secret -out '%s' 2>/dev/null",
		         tmp("enc.key"));
		sh(cmd);
	}
	CHECK_EQ(fw_key_load_private(tmp("rsa.key"), &k, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "RSA") != NULL);
	CHECK_EQ(fw_key_load_private(tmp("p384.key"), &k, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "P-256") != NULL);
	/* an encrypted key fails at once instead of prompting for a passphrase */
	CHECK_EQ(fw_key_load_private(tmp("enc.key"), &k, &d), FW_E_KEY);
	CHECK(k == NULL);
}

static void t_compressed_point_same_id(void)
{
	struct fw_key *a = NULL, *b = NULL;
	char cmd[1400];

	snprintf(cmd, sizeof(cmd),
	         "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s' 2>/dev/null && "
	         "openssl pkey -in '%s' -pubout -out '%s' 2>/dev/null && "
	         "openssl ec -in '%s' -pubout -conv_form compressed -out '%s' 2>/dev/null; echo done",
	         tmp("c.key"), tmp("c.key"), tmp("c.pub"), tmp("c.key"), tmp("cc.pub"));
	CHECK(strcmp(sh(cmd), "done") == 0);
	CHECK_EQ(fw_key_load_public(tmp("c.pub"), &a, NULL), FW_OK);
	CHECK_EQ(fw_key_load_public(tmp("cc.pub"), &b, NULL), FW_OK);
	if (a && b)
		CHECK(memcmp(fw_key_id(a), fw_key_id(b), 32) == 0);
	fw_key_free(a);
	fw_key_free(b);
}

static void t_sha256_file(void)
{
	static uint8_t buf[3 * 1024 * 1024 + 17];
	uint8_t a[32], b[32];
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ (i >> 8));
	CHECK_EQ(harness_write(tmp("img.bin"), buf, sizeof(buf)), 0);
	CHECK_EQ(fw_sha256_file(tmp("img.bin"), a, &size, NULL), FW_OK);
	fw_sha256(buf, sizeof(buf), b);
	CHECK(memcmp(a, b, 32) == 0);
	CHECK_EQ(size, sizeof(buf));
	CHECK_EQ(harness_write(tmp("empty.bin"), "", 0), 0);
	CHECK_EQ(fw_sha256_file(tmp("empty.bin"), a, &size, NULL), FW_OK);
	CHECK_EQ(size, 0);
	CHECK_EQ(fw_sha256_file(tmp("nope.bin"), a, &size, NULL), FW_E_IO);
}

static void t_alg_names(void)
{
	int alg = 0;

	CHECK_EQ(fw_key_alg_parse("ed25519", &alg), FW_OK);
	CHECK_EQ(alg, FW_KEY_ALG_ED25519);
	CHECK_EQ(fw_key_alg_parse("p256", &alg), FW_OK);
	CHECK_EQ(alg, FW_KEY_ALG_P256);
	CHECK_EQ(fw_key_alg_parse("rsa", &alg), FW_E_ARG);
	CHECK_EQ(fw_key_alg_parse("", &alg), FW_E_ARG);
}


/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block) */
static void t_hmac_rfc4231(void)
{
	static const struct {
		const char *key_hex, *msg, *mac_hex;
	} v[] = {
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {"4a656665", "what do ya want for nothing?",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {NULL, /* 131 bytes of 0xaa */
	     "Test Using Larger Than Block-Size Key - Hash Key First",
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[131], want[32], got[32];
		size_t klen = v[i].key_hex ? strlen(v[i].key_hex) / 2 : 0;
		struct fw_diag d = {{0}};

		if (v[i].key_hex == NULL) {
			klen = sizeof(key);
			memset(key, 0xaa, klen);
		} else
			CHECK_EQ(fw_hex_decode(v[i].key_hex, key, klen), FW_OK);
		CHECK_EQ(fw_hex_decode(v[i].mac_hex, want, 32), FW_OK);
		CHECK_EQ(fw_hmac_sha256(key, klen, (const uint8_t *)v[i].msg, strlen(v[i].msg), got, &d),
		         FW_OK);
		CHECK(memcmp(got, want, 32) == 0);
		/* one bit of the message changed: another MAC */
		{
			char m[80];

			snprintf(m, sizeof(m), "%s", v[i].msg);
			m[0] ^= 1;
			CHECK_EQ(fw_hmac_sha256(key, klen, (const uint8_t *)m, strlen(m), got, &d), FW_OK);
			CHECK(memcmp(got, want, 32) != 0);
		}
	}
}

static const struct harness_test tests[] = {
    {"generate_save_load_key_id", t_generate_save_load},
    {"sign_and_port_verify_with_forgeries", t_sign_verify_port},
    {"refused_key_files", t_refused_key_files},
    {"compressed_point_same_key_id", t_compressed_point_same_id},
    {"sha256_file_streaming", t_sha256_file},
    {"alg_names", t_alg_names},
    {"hmac_sha256_rfc4231", t_hmac_rfc4231},
};
HARNESS_MAIN(tests)
