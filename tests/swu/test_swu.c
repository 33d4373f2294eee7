/*
 * src/swu: building and verifying SWUpdate .swu files. Forged archives are
 * made by this file's own cpio writer (the layout of the spec's reference
 * writer, independent of swu.c) from a real sw-description and real CMS
 * signatures, so each one is wrong in exactly one way. Certificates are
 * made here with OpenSSL (RSA, P-256, EKUs, expired, CA-issued).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "harness.h"
#include "swu/swu.h"

/* ---- certificates ---- */

struct tcert {
	EVP_PKEY *key;
	X509 *x;
	char key_path[512], cert_path[512];
};

static void die(const char *what)
{
	fprintf(stderr, "test setup failed: %s\n", what);
	abort();
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		die("extension");
	X509_EXTENSION_free(e);
}

/* kind: "rsa", "rsa1024", "p256", "ed25519"; eku/ku NULL for none;
 * validity [now+nb, now+na]; issuer NULL: self-signed */
static struct tcert *mkcert(const char *name, const char *kind, const char *eku, const char *ku,
                            long nb, long na, int ca, const struct tcert *issuer)
{
	struct tcert *c = calloc(1, sizeof(*c));
	X509_NAME *n;
	FILE *f;

	if (c == NULL)
		die("calloc");
	if (strcmp(kind, "rsa") == 0)
		c->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(kind, "rsa1024") == 0)
		c->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else if (strcmp(kind, "p256") == 0)
		c->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		c->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	c->x = X509_new();
	if (c->key == NULL || c->x == NULL)
		die("keygen");
	X509_set_version(c->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), (long)(time(NULL) & 0xffffff) + name[0]);
	X509_gmtime_adj(X509_getm_notBefore(c->x), nb);
	X509_gmtime_adj(X509_getm_notAfter(c->x), na);
	n = X509_get_subject_name(c->x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : n);
	X509_set_pubkey(c->x, c->key);
	if (ca)
		add_ext(c->x, issuer ? issuer->x : c->x, NID_basic_constraints, "critical,CA:TRUE");
	if (eku)
		add_ext(c->x, issuer ? issuer->x : c->x, NID_ext_key_usage, eku);
	if (ku)
		add_ext(c->x, issuer ? issuer->x : c->x, NID_key_usage, ku);
	if (X509_sign(c->x, issuer ? issuer->key : c->key,
	              strcmp(kind, "ed25519") == 0 && !issuer ? NULL : EVP_sha256()) <= 0)
		die("sign cert");
	snprintf(c->key_path, sizeof(c->key_path), "%s/%s.key", harness_tmpdir(), name);
	snprintf(c->cert_path, sizeof(c->cert_path), "%s/%s.pem", harness_tmpdir(), name);
	f = fopen(c->key_path, "w");
	if (f == NULL || PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL) != 1)
		die("write key");
	fclose(f);
	f = fopen(c->cert_path, "w");
	if (f == NULL || PEM_write_X509(f, c->x) != 1)
		die("write cert");
	fclose(f);
	return c;
}

static void freecert(struct tcert *c)
{
	if (c) {
		EVP_PKEY_free(c->key);
		X509_free(c->x);
		free(c);
	}
}

/* ---- a cpio writer of our own (newc / crc) ---- */

struct ent {
	const char *name;
	const uint8_t *data;
	size_t len;
};

struct abuf {
	uint8_t *p;
	size_t len;
};

static void put(struct abuf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	if (b->p == NULL)
		die("realloc");
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_zeros(struct abuf *b, size_t n)
{
	static const uint8_t z[512];

	put(b, z, n);
}

static void entry(struct abuf *b, int magic2, unsigned ino, unsigned mode, const char *name,
                  const uint8_t *data, size_t len)
{
	char h[120];
	unsigned sum = 0;
	size_t i, nl = strlen(name) + 1;

	for (i = 0; i < len; i++)
		sum += data[i];
	snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	         magic2 ? "070702" : "070701", ino, mode, 0u, 0u, 1u, 0u, (unsigned)len, 0u, 0u, 0u,
	         0u, (unsigned)nl, magic2 ? sum : 0u);
	put(b, h, 110);
	put(b, name, nl);
	put_zeros(b, (4 - (110 + nl) % 4) % 4);
	if (len)
		put(b, data, len);
	put_zeros(b, (4 - len % 4) % 4);
}

/* entries, TRAILER!!!, padding to 512 */
static uint8_t *archive(const struct ent *e, size_t n, int magic2, size_t *out_len)
{
	struct abuf b = {NULL, 0};
	size_t i;

	for (i = 0; i < n; i++)
		entry(&b, magic2, (unsigned)i + 1, 0100644, e[i].name, e[i].data, e[i].len);
	entry(&b, magic2, 0, 0, "TRAILER!!!", NULL, 0);
	put_zeros(&b, (512 - b.len % 512) % 512);
	*out_len = b.len;
	return b.p;
}

/* ---- fixtures ---- */

static struct tcert *p256, *rsa, *other, *codesign, *email, *expired, *ca, *leaf;
static uint8_t image[3001];
static char image_path[600];
static char *desc;         /* sw-description for image */
static size_t desc_len;
static uint8_t *sig;       /* by p256 */
static size_t sig_len;
static struct fw_swu_trust *trust; /* p256's certificate, emailProtection */
static const char *const hw2[] = {"1.0", "1.1"};

static struct fw_swu_spec spec(void)
{
	struct fw_swu_spec s;

	memset(&s, 0, sizeof(s));
	s.version = "2.4.1";
	s.description = "test image";
	s.hw = hw2;
	s.nhw = 2;
	s.image_name = "fw.bin";
	return s;
}

static void setup(void)
{
	struct fw_swu_signer *s = NULL;
	struct fw_swu_spec sp = spec();
	uint8_t sha[32];
	size_t i;

	if (p256)
		return;
	p256 = mkcert("p256", "p256", NULL, NULL, -3600, 86400L * 365, 0, NULL);
	rsa = mkcert("rsa", "rsa", NULL, NULL, -3600, 86400L * 365, 0, NULL);
	other = mkcert("other", "p256", NULL, NULL, -3600, 86400L * 365, 0, NULL);
	codesign = mkcert("codesign", "p256", "codeSigning", "critical,digitalSignature", -3600,
	                  86400L * 365, 0, NULL);
	email = mkcert("email", "p256", "emailProtection", "critical,digitalSignature", -3600,
	               86400L * 365, 0, NULL);
	expired = mkcert("expired", "p256", NULL, NULL, -86400L * 30, -86400L, 0, NULL);
	ca = mkcert("ca", "p256", NULL, "critical,keyCertSign", -3600, 86400L * 365, 1, NULL);
	leaf = mkcert("leaf", "p256", NULL, "critical,digitalSignature", -3600, 86400L * 365, 0, ca);
	for (i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + 3);
	snprintf(image_path, sizeof(image_path), "%s/fw.bin", harness_tmpdir());
	if (harness_write(image_path, image, sizeof(image)) != 0)
		die("image");
	fw_sha256(image, sizeof(image), sha);
	if (fw_swu_description(&sp, sha, &desc, &desc_len, NULL) != FW_OK ||
	    fw_swu_signer_load(p256->key_path, p256->cert_path, &s, NULL) != FW_OK ||
	    fw_swu_sign(s, (const uint8_t *)desc, desc_len, &sig, &sig_len, NULL) != FW_OK ||
	    fw_swu_trust_load(p256->cert_path, FW_SWU_PURPOSE_EMAIL, &trust, NULL) != FW_OK)
		die("fixtures");
	fw_swu_signer_free(s);
}

static struct fw_swu_trust *trust_of(const struct tcert *c, int purpose)
{
	struct fw_swu_trust *t = NULL;

	if (fw_swu_trust_load(c->cert_path, purpose, &t, NULL) != FW_OK)
		die("trust");
	return t;
}

/* a good archive of the fixtures (sw-description, .sig, image) */
static uint8_t *good(size_t *len)
{
	struct ent e[3] = {{"sw-description", (const uint8_t *)desc, desc_len},
	                   {"sw-description.sig", sig, sig_len},
	                   {"fw.bin", image, sizeof(image)}};

	return archive(e, 3, 1, len);
}

/* verify_mem, and check the out-param is untouched on failure */
static int vmem(const uint8_t *p, size_t n, const struct fw_swu_trust *t, struct fw_diag *d)
{
	struct fw_swu_info *info = malloc(sizeof(*info));
	int rc;

	memset(info, 0x5c, sizeof(*info));
	rc = fw_swu_verify_mem(p, n, "x.swu", t, info, d);
	if (rc != FW_OK)
		CHECK(info->version[0] == 0x5c && info->size == 0x5c5c5c5c5c5c5c5cull);
	free(info);
	return rc;
}

/* offset of an entry's data in an archive we wrote (names are unique) */
static size_t data_at(const uint8_t *p, size_t len, const char *name)
{
	size_t at = 0;

	while (at + 110 <= len) {
		char num[9];
		unsigned long size, nsz;

		memcpy(num, p + at + 54, 8);
		num[8] = 0;
		size = strtoul(num, NULL, 16);
		memcpy(num, p + at + 94, 8);
		nsz = strtoul(num, NULL, 16);
		if (strcmp((const char *)p + at + 110, name) == 0)
			return at + 110 + nsz + (4 - (110 + nsz) % 4) % 4;
		at += 110 + nsz + (4 - (110 + nsz) % 4) % 4 + size + (4 - size % 4) % 4;
	}
	die("entry not found");
	return 0;
}

/* ---- tests ---- */

static void check_info(const struct fw_swu_info *info, const char *path, const struct tcert *c)
{
	uint8_t *file, sha[32], sha1[20], md5[16], *der = NULL;
	size_t len = 0;
	int n;

	file = harness_read(path, &len);
	CHECK(file != NULL);
	if (file == NULL)
		return;
	CHECK_EQ(info->size, len);
	CHECK_EQ(len % 512, 0);
	fw_sha256(file, len, sha);
	CHECK(memcmp(sha, info->sha256, 32) == 0);
	CHECK(EVP_Digest(file, len, sha1, NULL, EVP_sha1(), NULL) == 1);
	CHECK(memcmp(sha1, info->sha1, 20) == 0);
	CHECK(EVP_Digest(file, len, md5, NULL, EVP_md5(), NULL) == 1);
	CHECK(memcmp(md5, info->md5, 16) == 0);
	fw_sha256(image, sizeof(image), sha);
	CHECK(memcmp(sha, info->image_sha256, 32) == 0);
	CHECK_EQ(info->image_size, sizeof(image));
	CHECK(strcmp(info->version, "2.4.1") == 0);
	CHECK(strcmp(info->description, "test image") == 0);
	CHECK_EQ(info->nhw, 2);
	CHECK(strcmp(info->hw[0], "1.0") == 0 && strcmp(info->hw[1], "1.1") == 0);
	CHECK(strcmp(info->image_name, "fw.bin") == 0);
	CHECK(strcmp(info->type, "rawfile") == 0);
	n = i2d_X509(c->x, &der);
	CHECK(n > 0);
	fw_sha256(der, (size_t)n, sha);
	CHECK(memcmp(sha, info->signer_sha256, 32) == 0);
	CHECK(strncmp(info->signer_subject, "CN=", 3) == 0);
	OPENSSL_free(der);
	free(file);
}

static void build_roundtrip(struct tcert *c, const char *out_name)
{
	struct fw_swu_signer *s = NULL;
	struct fw_swu_trust *t = trust_of(c, FW_SWU_PURPOSE_EMAIL);
	struct fw_swu_spec sp = spec();
	struct fw_swu_info *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct fw_diag d = {{0}};
	char out[700];
	uint8_t *file;
	size_t len = 0;

	sp.image_name = NULL; /* the image file's basename: fw.bin */
	snprintf(out, sizeof(out), "%s/%s", harness_tmpdir(), out_name);
	CHECK_EQ(fw_swu_signer_load(c->key_path, c->cert_path, &s, &d), FW_OK);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 0, a, &d), FW_OK);
	check_info(a, out, c);
	CHECK_EQ(fw_swu_verify_file(out, t, b, &d), FW_OK);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	file = harness_read(out, &len);
	memset(b, 0, sizeof(*b));
	CHECK_EQ(fw_swu_verify_mem(file, len, out, t, b, &d), FW_OK);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	/* sw-description first, 070702 entries */
	CHECK(file && memcmp(file, "070702", 6) == 0 && strcmp((char *)file + 110, "sw-description") == 0);
	/* someone else's certificate is not this signer */
	CHECK_EQ(fw_swu_verify_file(out, trust, b, &d), c == p256 ? FW_OK : FW_E_SIGNATURE);
	free(file);
	free(a);
	free(b);
	fw_swu_trust_free(t);
	fw_swu_signer_free(s);
}

static void t_roundtrip_p256(void)
{
	setup();
	build_roundtrip(p256, "p256.swu");
}

static void t_roundtrip_rsa(void)
{
	setup();
	build_roundtrip(rsa, "rsa.swu");
}

static void t_description_text(void)
{
	struct fw_swu_spec sp = spec();
	struct fw_swu_info *info = calloc(1, sizeof(*info));
	uint8_t sha[32];
	char *text = NULL;
	size_t len = 0;
	static const char want[] =
	    "software =\n{\n"
	    "\tversion = \"2.4.1\";\n"
	    "\tdescription = \"test image\";\n"
	    "\thardware-compatibility: [ \"1.0\", \"1.1\" ];\n"
	    "\timages: (\n\t\t{\n"
	    "\t\t\tfilename = \"fw.bin\";\n"
	    "\t\t\ttype = \"raw\";\n"
	    "\t\t\tdevice = \"/dev/mmcblk0p2\";\n"
	    "\t\t\tsha256 = \"0101010101010101010101010101010101010101010101010101010101010101\";\n"
	    "\t\t}\n\t);\n}\n";

	memset(sha, 1, 32);
	sp.device = "/dev/mmcblk0p2";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, NULL), FW_OK);
	CHECK(text && strcmp(text, want) == 0 && len == strlen(want));
	CHECK_EQ(fw_swu_description_parse(text, len, info, NULL), FW_OK);
	CHECK(strcmp(info->type, "raw") == 0 && strcmp(info->device, "/dev/mmcblk0p2") == 0);
	CHECK(info->path[0] == '\0' && memcmp(info->image_sha256, sha, 32) == 0);
	free(text);
	/* rawfile by default; path and type as given */
	sp.device = NULL;
	sp.path = "/tmp/x";
	sp.description = NULL;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, NULL), FW_OK);
	CHECK(text && strstr(text, "type = \"rawfile\";") && strstr(text, "path = \"/tmp/x\";"));
	CHECK(text && strstr(text, "description") == NULL);
	free(text);
	sp.type = "dummy";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, NULL), FW_OK);
	CHECK(text && strstr(text, "type = \"dummy\";"));
	CHECK_EQ(fw_swu_description_parse(text, len, info, NULL), FW_OK);
	CHECK(info->description[0] == '\0' && strcmp(info->path, "/tmp/x") == 0);
	free(text);
	free(info);
}

static void t_description_refuses_bad_text(void)
{
	struct fw_swu_spec sp;
	struct fw_diag d = {{0}};
	uint8_t sha[32] = {0};
	char *text = NULL, longv[80];
	size_t len = 0;
	const char *hw1[] = {"1.0\"; type = \"x"}, *hw_ctl[] = {"1.0\n"};
	const char *many[FW_SWU_MAX_HW + 1];
	size_t i;

	sp = spec();
	sp.version = "2.4\"1";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "version") && strstr(d.msg, "double quote"));
	sp = spec();
	sp.description = "a\\b";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "description") && strstr(d.msg, "backslash"));
	sp = spec();
	sp.hw = hw1;
	sp.nhw = 1;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "hardware-compatibility 1") != NULL);
	sp.hw = hw_ctl;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "control character") != NULL);
	sp.nhw = 0;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	for (i = 0; i <= FW_SWU_MAX_HW; i++)
		many[i] = "1.0";
	sp.hw = many;
	sp.nhw = FW_SWU_MAX_HW + 1;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	sp = spec();
	sp.image_name = "dir/fw.bin";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	sp.image_name = "sw-description.sig";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	sp = spec();
	sp.path = "/tmp/\x7f";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	sp = spec();
	sp.type = "\xff";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "UTF-8") != NULL);
	sp = spec();
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = 0;
	sp.version = longv;
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	sp.version = "";
	CHECK_EQ(fw_swu_description(&sp, sha, &text, &len, &d), FW_E_ARG);
	CHECK(text == NULL);
}

static void t_description_parse_strict(void)
{
	static const char *const bad[] = {
	    /* comment, escape, number, unknown key, repeated key, two images,
	     * no hardware-compatibility, empty array, bad sha256, junk after */
	    "# c\nsoftware = { }",
	    "software = { version = \"a\\\"b\"; }",
	    "software = { version = 1; }",
	    "software = { version = \"1\"; board = \"x\"; }",
	    "software = { version = \"1\"; version = \"2\"; }",
	    "software = { version = \"1\"; hardware-compatibility: [ \"1\" ]; images: ( { "
	    "filename = \"a\"; type = \"raw\"; sha256 = "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"; }, { "
	    "filename = \"b\"; type = \"raw\"; sha256 = "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"; } ); }",
	    "software = { version = \"1\"; images: ( { filename = \"a\"; type = \"raw\"; sha256 = "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"; } ); }",
	    "software = { version = \"1\"; hardware-compatibility: [ ]; }",
	    "software = { version = \"1\"; hardware-compatibility: [ \"1\" ]; images: ( { "
	    "filename = \"a\"; type = \"raw\"; sha256 = \"00\"; } ); }",
	    "software = { version = \"1\"; hardware-compatibility: [ \"1\" ]; images: ( { "
	    "filename = \"a\"; type = \"raw\"; sha256 = "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"; } ); } x",
	    "software = { version = \"1\"; hardware-compatibility: [ \"1\" ]; images: ( { "
	    "filename = \"../a\"; type = \"raw\"; sha256 = "
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"; } ); }",
	    "software = { version = \"unterminated; }",
	};
	static const char ok[] =
	    "software: { hardware-compatibility = [\"#RE:^1\\.[0-3]$\"]; version: \"1\";\r\n"
	    " images = ( { sha256 = "
	    "\"ABCDEF0000000000000000000000000000000000000000000000000000000000\"; type = "
	    "\"dummy\"; filename = \"a\"; } ); };\n";
	struct fw_swu_info *info = calloc(1, sizeof(*info));
	struct fw_diag d = {{0}};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = fw_swu_description_parse(bad[i], strlen(bad[i]), info, &d);

		if (rc != FW_E_FORMAT)
			harness_fail(__FILE__, __LINE__, "bad[%zu] gave %d (%s)", i, rc, d.msg);
		CHECK(strstr(d.msg, "sw-description line") != NULL);
	}
	/* the backslash of the regex is refused (no escapes read) */
	CHECK_EQ(fw_swu_description_parse(ok, strlen(ok), info, &d), FW_E_FORMAT);
	{
		char fixed[sizeof(ok)];
		char *p;

		memcpy(fixed, ok, sizeof(ok));
		p = strstr(fixed, "\\.");
		memmove(p, p + 1, strlen(p + 1) + 1);
		CHECK_EQ(fw_swu_description_parse(fixed, strlen(fixed), info, &d), FW_OK);
		CHECK(strcmp(info->hw[0], "#RE:^1.[0-3]$") == 0 && info->image_sha256[0] == 0xab);
	}
	free(info);
}

static void t_forgery_image_byte(void)
{
	struct fw_diag d = {{0}};
	size_t len, at;
	uint8_t *a;

	setup();
	a = good(&len);
	CHECK_EQ(vmem(a, len, trust, &d), FW_OK);
	at = data_at(a, len, "fw.bin");
	/* one byte of the image: the cpio checksum catches it first ... */
	a[at + 1000] ^= 1;
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "entry 3 (fw.bin): cpio checksum mismatch") != NULL);
	free(a);
	/* ... and with a matching checksum (070701 has none), the signed SHA-256 */
	{
		uint8_t *img = malloc(sizeof(image));
		struct ent e[3] = {{"sw-description", (const uint8_t *)desc, desc_len},
		                   {"sw-description.sig", sig, sig_len},
		                   {"fw.bin", img, sizeof(image)}};

		memcpy(img, image, sizeof(image));
		img[1000] ^= 1;
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_VERIFY);
		CHECK(strstr(d.msg, "entry 3 (fw.bin): SHA-256") && strstr(d.msg, "is not the signed"));
		free(a);
		a = archive(e, 3, 0, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_VERIFY);
		free(a);
		/* an image of another length */
		e[2].len = sizeof(image) - 1;
		memcpy(img, image, sizeof(image));
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_VERIFY);
		free(a);
		free(img);
	}
}

static void t_forgery_description(void)
{
	struct fw_diag d = {{0}};
	char *forged = malloc(desc_len + 1);
	size_t len;
	uint8_t *a;
	char *p;

	setup();
	/* the hardware revision changed, checksum fine: the signature refuses */
	memcpy(forged, desc, desc_len + 1);
	p = strstr(forged, "\"1.1\"");
	CHECK(p != NULL);
	p[3] = '9';
	{
		struct ent e[3] = {{"sw-description", (const uint8_t *)forged, desc_len},
		                   {"sw-description.sig", sig, sig_len},
		                   {"fw.bin", image, sizeof(image)}};

		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
		CHECK(strstr(d.msg, "x.swu: entry 2 (sw-description.sig): CMS signature does not verify "
		                    "over sw-description") != NULL);
		free(a);
	}
	free(forged);
}

static void t_forgery_other_signer(void)
{
	struct fw_swu_signer *s = NULL;
	struct fw_diag d = {{0}};
	uint8_t *osig = NULL, *a;
	size_t olen = 0, len;

	setup();
	CHECK_EQ(fw_swu_signer_load(other->key_path, other->cert_path, &s, &d), FW_OK);
	CHECK_EQ(fw_swu_sign(s, (const uint8_t *)desc, desc_len, &osig, &olen, &d), FW_OK);
	{
		struct ent e[3] = {{"sw-description", (const uint8_t *)desc, desc_len},
		                   {"sw-description.sig", osig, olen},
		                   {"fw.bin", image, sizeof(image)}};
		struct fw_swu_trust *t = trust_of(other, FW_SWU_PURPOSE_EMAIL);

		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
		CHECK(strstr(d.msg, "x.swu: entry 2 (sw-description.sig): CMS signature does not verify "
		                    "against signer ") != NULL);
		CHECK(strstr(d.msg, "p256.pem") != NULL);
		/* and it is a good .swu for the devices that trust other */
		CHECK_EQ(vmem(a, len, t, &d), FW_OK);
		fw_swu_trust_free(t);
		free(a);
	}
	free(osig);
	fw_swu_signer_free(s);
}

static void t_forgery_truncated(void)
{
	struct fw_diag d = {{0}};
	size_t len, cut, refused = 0, end;
	const uint8_t *tr;
	uint8_t *a;

	setup();
	a = good(&len);
	tr = memmem(a, len, "TRAILER!!!", 10);
	end = tr ? (size_t)(tr - a) - 110 + 124 : 0; /* its header, 11 bytes of name, padded to 4 */
	CHECK(tr != NULL && end <= len);
	/* every prefix that cuts into an entry is refused, and never by a crash */
	for (cut = 0; cut < end; cut += (cut < 2000 ? 1 : 61)) {
		int rc = vmem(a, cut, trust, &d);

		if (rc != FW_OK)
			refused++;
		else
			harness_fail(__FILE__, __LINE__, "prefix of %zu bytes accepted", cut);
		if (rc != FW_E_FORMAT && rc != FW_E_SIGNATURE)
			harness_fail(__FILE__, __LINE__, "prefix %zu: rc %d (%s)", cut, rc, d.msg);
	}
	CHECK(refused > 2000);
	/* the zeros after TRAILER!!! are optional; the trailer itself is not */
	CHECK_EQ(vmem(a, end, trust, &d), FW_OK);
	CHECK_EQ(vmem(a, end - 1, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "truncated") != NULL);
	free(a);
}

static void t_forgery_cpio_headers(void)
{
	struct fw_diag d = {{0}};
	size_t len, at;
	uint8_t *a;

	setup();
	/* bad magic */
	a = good(&len);
	a[5] = '7';
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "x.swu: entry 1 at byte 0: bad cpio magic") != NULL);
	free(a);
	/* a field that is not hex */
	a = good(&len);
	a[6 + 8 * 6 + 3] = 'g';
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "filesize is not 8 hex digits") != NULL);
	free(a);
	/* name length past the end of the file */
	a = good(&len);
	memcpy(a + 94, "000000FF", 8);
	CHECK_EQ(vmem(a, 300, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "name (255 bytes) runs past the end") != NULL);
	memcpy(a + 94, "FFFFFFFF", 8);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "name length 4294967295 out of range") != NULL);
	memcpy(a + 94, "00000001", 8);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	free(a);
	/* a name whose NUL is not where namesize says */
	a = good(&len);
	memcpy(a + 94, "0000000E", 8);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "not NUL-terminated") != NULL);
	free(a);
	/* huge size fields: the first entry's, then the image's */
	a = good(&len);
	memcpy(a + 54, "FFFFFFFF", 8);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "entry 1 (sw-description): truncated: size 4294967295 runs past the end") !=
	      NULL);
	free(a);
	a = good(&len);
	at = data_at(a, len, "fw.bin");
	/* fw.bin's header: 110 bytes, "fw.bin" and its NUL, 3 bytes of padding */
	memcpy(a + at - 120 + 54, "7FFFFFF0", 8);
	CHECK(memcmp(a + at - 120, "070702", 6) == 0);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "entry 3 (fw.bin): truncated: size 2147483632") != NULL);
	free(a);
	/* a sw-description over the cap */
	a = good(&len);
	memcpy(a + 54, "00010001", 8);
	{
		uint8_t *big = calloc(1, len + 0x10010);

		memcpy(big, a, len);
		CHECK_EQ(vmem(big, len + 0x10010, trust, &d), FW_E_TOO_LARGE);
		free(big);
	}
	free(a);
	/* not a regular file */
	a = good(&len);
	memcpy(a + 14, "000041ED", 8);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "not a regular file") != NULL);
	free(a);
	/* non-zero header padding */
	a = good(&len);
	a[110 + 15] = 'x'; /* "sw-description\0" is 15 bytes, then 3 bytes of padding */
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "header padding is not zero") != NULL);
	free(a);
}

static void t_forgery_entries(void)
{
	struct fw_diag d = {{0}};
	const uint8_t *dp = (const uint8_t *)desc;
	size_t len;
	uint8_t *a;

	setup();
	{ /* missing .sig */
		struct ent e[2] = {{"sw-description", dp, desc_len}, {"fw.bin", image, sizeof(image)}};

		a = archive(e, 2, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
		CHECK(strstr(d.msg, "entry 2 (fw.bin): sw-description.sig must follow sw-description") !=
		      NULL);
		free(a);
	}
	{ /* .sig not right after sw-description */
		struct ent e[3] = {{"sw-description", dp, desc_len},
		                   {"fw.bin", image, sizeof(image)},
		                   {"sw-description.sig", sig, sig_len}};

		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
		free(a);
	}
	{ /* sw-description not first */
		struct ent e[3] = {{"sw-description.sig", sig, sig_len},
		                   {"sw-description", dp, desc_len},
		                   {"fw.bin", image, sizeof(image)}};

		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "the first entry must be sw-description") != NULL);
		free(a);
	}
	{ /* an extra entry, the image missing, another name, a path */
		struct ent e[4] = {{"sw-description", dp, desc_len},
		                   {"sw-description.sig", sig, sig_len},
		                   {"fw.bin", image, sizeof(image)},
		                   {"extra.sh", image, 10}};

		a = archive(e, 4, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "entry 4 (extra.sh): only one image") != NULL);
		free(a);
		a = archive(e, 2, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "ends without the image 'fw.bin'") != NULL);
		free(a);
		e[2].name = "other.bin";
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "not the image sw-description names") != NULL);
		free(a);
		e[2].name = "../fw.bin";
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "not a plain file name") != NULL);
		free(a);
	}
	{ /* 070701 (no checksums) is read too */
		struct ent e[3] = {{"sw-description", dp, desc_len},
		                   {"sw-description.sig", sig, sig_len},
		                   {"fw.bin", image, sizeof(image)}};

		a = archive(e, 3, 0, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_OK);
		free(a);
	}
}

static void t_forgery_trailing(void)
{
	struct fw_diag d = {{0}};
	size_t len;
	uint8_t *a, *b;

	setup();
	a = good(&len);
	a[len - 1] = 1;
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "after TRAILER!!! is not zero padding") != NULL);
	a[len - 1] = 0;
	b = calloc(1, len + FW_SWU_MAX_PADDING);
	memcpy(b, a, len);
	CHECK_EQ(vmem(b, len + FW_SWU_MAX_PADDING, trust, &d), FW_E_TOO_LARGE);
	CHECK_EQ(vmem(b, len + 512, trust, &d), FW_OK);
	free(b);
	free(a);
}

/* CMS signatures made here, not by swu.c: no certificate, two signers,
 * embedded content, junk after the DER */
static void t_forgery_cms_shapes(void)
{
	struct fw_diag d = {{0}};
	BIO *in;
	CMS_ContentInfo *cms;
	uint8_t *der = NULL, *a;
	int n;
	size_t len;
	struct ent e[3] = {{"sw-description", (const uint8_t *)desc, desc_len},
	                   {"sw-description.sig", NULL, 0},
	                   {"fw.bin", image, sizeof(image)}};

	setup();
	/* nocerts: swupdate finds no signer certificate either */
	in = BIO_new_mem_buf(desc, (int)desc_len);
	cms = CMS_sign(p256->x, p256->key, NULL, in,
	               CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP | CMS_NOCERTS);
	n = i2d_CMS_ContentInfo(cms, &der);
	e[1].data = der;
	e[1].len = (size_t)n;
	a = archive(e, 3, 1, &len);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
	free(a);
	OPENSSL_free(der);
	der = NULL;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	/* two signers (p256 and other) */
	in = BIO_new_mem_buf(desc, (int)desc_len);
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_DETACHED | CMS_PARTIAL);
	CHECK(CMS_add1_signer(cms, p256->x, p256->key, EVP_sha256(), CMS_BINARY | CMS_NOSMIMECAP));
	CHECK(CMS_add1_signer(cms, other->x, other->key, EVP_sha256(),
	                      CMS_BINARY | CMS_NOSMIMECAP));
	CHECK(CMS_final(cms, in, NULL, CMS_BINARY | CMS_DETACHED) == 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	e[1].data = der;
	e[1].len = (size_t)n;
	a = archive(e, 3, 1, &len);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_SIGNATURE);
	CHECK(strstr(d.msg, "2 signers") != NULL);
	free(a);
	OPENSSL_free(der);
	der = NULL;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	/* content inside (not detached) */
	in = BIO_new_mem_buf(desc, (int)desc_len);
	cms = CMS_sign(p256->x, p256->key, NULL, in, CMS_BINARY | CMS_NOSMIMECAP);
	n = i2d_CMS_ContentInfo(cms, &der);
	e[1].data = der;
	e[1].len = (size_t)n;
	a = archive(e, 3, 1, &len);
	CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "must be detached") != NULL);
	free(a);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	/* trailing byte after the DER, and not DER at all */
	{
		uint8_t *s2 = malloc(sig_len + 1);

		memcpy(s2, sig, sig_len);
		s2[sig_len] = 0;
		e[1].data = s2;
		e[1].len = sig_len + 1;
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		CHECK(strstr(d.msg, "not one DER-encoded CMS signature") != NULL);
		free(a);
		e[1].len = 0;
		a = archive(e, 3, 1, &len);
		CHECK_EQ(vmem(a, len, trust, &d), FW_E_FORMAT);
		free(a);
		free(s2);
	}
}

static void t_signer_certificates(void)
{
	struct fw_swu_trust *t;
	struct fw_swu_spec sp = spec();
	struct fw_swu_signer *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_swu_info *info = calloc(1, sizeof(*info));
	char out[700];

	setup();
	snprintf(out, sizeof(out), "%s/purpose.swu", harness_tmpdir());
	/* EKU codeSigning: refused under swupdate's default purpose, accepted
	 * with --cert-purpose codeSigning */
	CHECK_EQ(fw_swu_signer_load(codesign->key_path, codesign->cert_path, &s, &d), FW_OK);
	t = trust_of(codesign, FW_SWU_PURPOSE_EMAIL);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 0, info, &d), FW_E_SIGNATURE);
	CHECK(strstr(d.msg, "self-check of the new .swu failed") &&
	      strstr(d.msg, "unsuitable certificate purpose") &&
	      strstr(d.msg, "tmp-") == NULL);
	fw_swu_trust_free(t);
	t = trust_of(codesign, FW_SWU_PURPOSE_CODE);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 0, info, &d), FW_OK);
	fw_swu_trust_free(t);
	fw_swu_signer_free(s);
	s = NULL;
	/* EKU emailProtection: the other way round */
	CHECK_EQ(fw_swu_signer_load(email->key_path, email->cert_path, &s, &d), FW_OK);
	t = trust_of(email, FW_SWU_PURPOSE_CODE);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 1, info, &d), FW_E_SIGNATURE);
	CHECK(strstr(d.msg, "not for codeSigning") != NULL);
	fw_swu_trust_free(t);
	t = trust_of(email, FW_SWU_PURPOSE_EMAIL);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 1, info, &d), FW_OK);
	fw_swu_trust_free(t);
	fw_swu_signer_free(s);
	s = NULL;
	/* expired: swupdate checks time, so do we */
	CHECK_EQ(fw_swu_signer_load(expired->key_path, expired->cert_path, &s, &d), FW_OK);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 1, info, &d), FW_E_SIGNATURE);
	CHECK(strstr(d.msg, "certificate has expired") != NULL);
	fw_swu_signer_free(s);
	s = NULL;
	/* a leaf issued by a CA the devices trust: accepted with the CA as -k,
	 * refused with the leaf alone (not self-signed, no partial chains) */
	CHECK_EQ(fw_swu_signer_load(leaf->key_path, leaf->cert_path, &s, &d), FW_OK);
	t = trust_of(ca, FW_SWU_PURPOSE_EMAIL);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 1, info, &d), FW_OK);
	CHECK(strcmp(info->signer_subject, "CN=leaf") == 0);
	fw_swu_trust_free(t);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 1, info, &d), FW_E_SIGNATURE);
	fw_swu_signer_free(s);
	free(info);
}

static void t_signer_keys(void)
{
	struct tcert *weak, *ed;
	struct fw_swu_signer *s = NULL;
	struct fw_diag d = {{0}};
	char enc[600];
	FILE *f;

	setup();
	weak = mkcert("weak", "rsa1024", NULL, NULL, -3600, 86400, 0, NULL);
	ed = mkcert("ed", "ed25519", NULL, NULL, -3600, 86400, 0, NULL);
	CHECK_EQ(fw_swu_signer_load(weak->key_path, weak->cert_path, &s, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "RSA key of 1024 bits") != NULL);
	CHECK_EQ(fw_swu_signer_load(ed->key_path, ed->cert_path, &s, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "key type ED25519 is not accepted") != NULL);
	/* a key that is not the certificate's */
	CHECK_EQ(fw_swu_signer_load(other->key_path, p256->cert_path, &s, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "not the key of the (first) certificate") != NULL);
	/* encrypted, a certificate as key, a key as certificate */
	snprintf(enc, sizeof(enc), "%s/enc.key", harness_tmpdir());
	f = fopen(enc, "w");
	CHECK(f && PEM_write_PKCS8PrivateKey(f, p256->key, EVP_aes_128_cbc(), NULL, 0, NULL,
	                                     (void *)"pass") == 1);
	if (f)
		fclose(f);
	CHECK_EQ(fw_swu_signer_load(enc, p256->cert_path, &s, &d), FW_E_KEY);
	CHECK(strstr(d.msg, "encrypted") != NULL);
	CHECK_EQ(fw_swu_signer_load(p256->cert_path, p256->cert_path, &s, &d), FW_E_KEY);
	CHECK_EQ(fw_swu_signer_load(p256->key_path, p256->key_path, &s, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "no PEM certificate") != NULL);
	CHECK(s == NULL);
	freecert(weak);
	freecert(ed);
}

static void t_trust_files(void)
{
	struct fw_swu_trust *t = NULL;
	struct fw_diag d = {{0}};
	uint8_t *pem;
	size_t len = 0, i;
	char *many;

	setup();
	CHECK_EQ(fw_swu_trust_from_pem("k", (const uint8_t *)"junk", 4, 0, &t, &d), FW_E_FORMAT);
	CHECK_EQ(fw_swu_trust_load("/nonexistent/c.pem", 0, &t, &d), FW_E_IO);
	pem = harness_read(p256->cert_path, &len);
	CHECK_EQ(fw_swu_trust_from_pem("c", pem, len, 7, &t, &d), FW_E_ARG);
	/* a broken second certificate is an error, not the end of the file */
	many = malloc(len * 2 + 100);
	memcpy(many, pem, len);
	memcpy(many + len, pem, len);
	many[len + 40] ^= 0x01; /* inside the base64 of the second */
	CHECK_EQ(fw_swu_trust_from_pem("c", (uint8_t *)many, len * 2, 0, &t, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "certificate 2") != NULL);
	free(many);
	many = malloc(len * (FW_SWU_MAX_CERTS + 1));
	for (i = 0; i <= FW_SWU_MAX_CERTS; i++)
		memcpy(many + i * len, pem, len);
	CHECK_EQ(fw_swu_trust_from_pem("c", (uint8_t *)many, len * (FW_SWU_MAX_CERTS + 1), 0, &t, &d),
	         FW_E_TOO_LARGE);
	CHECK_EQ(fw_swu_trust_from_pem("c", (uint8_t *)many, len * FW_SWU_MAX_CERTS, 0, &t, &d),
	         FW_OK);
	fw_swu_trust_free(t);
	fw_swu_trust_free(NULL);
	fw_swu_signer_free(NULL);
	free(many);
	free(pem);
}

/* nothing is left behind by a build that fails, and an existing file is kept */
static void t_build_atomic(void)
{
	struct fw_swu_signer *s = NULL;
	struct fw_swu_spec sp = spec();
	struct fw_diag d = {{0}};
	char dir[700], out[800];
	struct dirent *de;
	DIR *dh;
	size_t n = 0, len = 0;
	uint8_t *keep;

	setup();
	snprintf(dir, sizeof(dir), "%s/atomic", harness_tmpdir());
	mkdir(dir, 0700);
	snprintf(out, sizeof(out), "%s/out.swu", dir);
	CHECK_EQ(fw_swu_signer_load(p256->key_path, p256->cert_path, &s, &d), FW_OK);
	/* refused by the self-check (another certificate): no file */
	{
		struct fw_swu_trust *t = trust_of(other, 0);

		CHECK_EQ(fw_swu_build(&sp, image_path, s, t, out, 0, NULL, &d), FW_E_SIGNATURE);
		fw_swu_trust_free(t);
	}
	CHECK_EQ(fw_swu_build(&sp, "/nonexistent/fw.bin", s, NULL, out, 0, NULL, &d), FW_E_IO);
	sp.version = "bad\"";
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 0, NULL, &d), FW_E_ARG);
	sp.version = "2.4.1";
	dh = opendir(dir);
	while (dh && (de = readdir(dh)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (dh)
		closedir(dh);
	CHECK_EQ(n, 0);
	/* made; then not replaced without overwrite, replaced with it */
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 0, NULL, &d), FW_OK);
	keep = harness_read(out, &len);
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 0, NULL, &d), FW_E_EXISTS);
	sp.version = "2.4.2";
	CHECK_EQ(fw_swu_build(&sp, image_path, s, NULL, out, 1, NULL, &d), FW_OK);
	{
		size_t l2 = 0;
		uint8_t *now = harness_read(out, &l2);

		CHECK(now && keep && (l2 != len || memcmp(now, keep, len) != 0));
		free(now);
	}
	n = 0;
	dh = opendir(dir);
	while (dh && (de = readdir(dh)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (dh)
		closedir(dh);
	CHECK_EQ(n, 1);
	free(keep);
	fw_swu_signer_free(s);
}

static void t_purpose_names(void)
{
	int p = -1;

	CHECK_EQ(fw_swu_purpose_parse("codeSigning", &p), FW_OK);
	CHECK_EQ(p, FW_SWU_PURPOSE_CODE);
	CHECK_EQ(fw_swu_purpose_parse("emailProtection", &p), FW_OK);
	CHECK_EQ(p, FW_SWU_PURPOSE_EMAIL);
	CHECK_EQ(fw_swu_purpose_parse("codesigning", &p), FW_E_ARG);
	CHECK(strcmp(fw_swu_purpose_name(FW_SWU_PURPOSE_CODE), "codeSigning") == 0);
}

static const struct harness_test tests[] = {
    {"roundtrip_p256", t_roundtrip_p256},
    {"roundtrip_rsa", t_roundtrip_rsa},
    {"description_text", t_description_text},
    {"description_refuses_bad_text", t_description_refuses_bad_text},
    {"description_parse_strict", t_description_parse_strict},
    {"forgery_image_byte", t_forgery_image_byte},
    {"forgery_description", t_forgery_description},
    {"forgery_other_signer", t_forgery_other_signer},
    {"forgery_truncated", t_forgery_truncated},
    {"forgery_cpio_headers", t_forgery_cpio_headers},
    {"forgery_entries", t_forgery_entries},
    {"forgery_trailing", t_forgery_trailing},
    {"forgery_cms_shapes", t_forgery_cms_shapes},
    {"signer_certificates", t_signer_certificates},
    {"signer_keys", t_signer_keys},
    {"trust_files", t_trust_files},
    {"build_atomic", t_build_atomic},
    {"purpose_names", t_purpose_names},
};

HARNESS_MAIN(tests)
