/*
 * swu: SWUpdate .swu artifacts. See swu.h for the contract and docs/swu.md
 * for the format and what a device needs.
 *
 * Verification mirrors corelib/swupdate_cms_verify.c of swupdate 2022.12 as
 * Debian builds it (CONFIG_CMS_SKIP_UNKNOWN_SIGNERS): CMS_verify with
 * CMS_NO_SIGNER_CERT_VERIFY and no extra certificates (so the signer's
 * certificate must be embedded), then the signer's certificate verified
 * against the -k certificates with the "smime_sign" defaults (purpose and
 * time), or, for codeSigning, the EKU rule of its check_code_sign.
 */
#define _GNU_SOURCE /* memmem */
#include "swu/swu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"

#define HDR_LEN 110                 /* "07070x" + 13 fields of 8 hex digits */
#define BLOCK (64 * 1024)           /* image read/copy block */
#define SWU_ALIGN 512               /* the archive is padded to this */
#define NAME_DESC "sw-description"
#define NAME_SIG "sw-description.sig"
#define NAME_TRAILER "TRAILER!!!"

/* ---- purposes ---- */

const char *fw_swu_purpose_name(int purpose)
{
	return purpose == FW_SWU_PURPOSE_CODE ? "codeSigning" : "emailProtection";
}

int fw_swu_purpose_parse(const char *name, int *purpose)
{
	if (name && strcmp(name, "emailProtection") == 0)
		*purpose = FW_SWU_PURPOSE_EMAIL;
	else if (name && strcmp(name, "codeSigning") == 0)
		*purpose = FW_SWU_PURPOSE_CODE;
	else
		return FW_E_ARG;
	return FW_OK;
}

/* OpenSSL's last reason, for a message (never NULL) */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown reason";
}

/* ---- certificates ---- */

/* PEM certificates of a file (untrusted): at least one, at most the cap;
 * a block that does not parse is an error, not the end of the list. */
static int load_certs(const char *name, const uint8_t *pem, size_t len, STACK_OF(X509) **out,
                      struct fw_diag *d)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *x;
	int rc = FW_OK;

	if (len > FW_SWU_MAX_CERT_FILE)
		return fw_diag_set(d, FW_E_TOO_LARGE, "%s: %zu bytes, more than the limit of %d",
		                   name, len, FW_SWU_MAX_CERT_FILE);
	sk = sk_X509_new_null();
	b = BIO_new_mem_buf(pem, (int)len);
	if (sk == NULL || b == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) == FW_SWU_MAX_CERTS) {
			X509_free(x);
			rc = fw_diag_set(d, FW_E_TOO_LARGE, "%s: more than %d certificates", name,
			                 FW_SWU_MAX_CERTS);
			goto out;
		}
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
			goto out;
		}
	}
	/* the loop ends at "no more PEM blocks" or at a block that is broken */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: certificate %d is not a valid PEM certificate (%s)",
		                 name, sk_X509_num(sk) + 1, ossl_reason());
		goto out;
	}
	if (sk_X509_num(sk) == 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "%s: no PEM certificate in it", name);
		goto out;
	}
	*out = sk;
	sk = NULL;
out:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return rc;
}

struct fw_swu_trust {
	X509_STORE *store;
	int purpose;
	char name[256];
};

int fw_swu_trust_from_pem(const char *name, const uint8_t *pem, size_t len, int purpose,
                          struct fw_swu_trust **out, struct fw_diag *d)
{
	struct fw_swu_trust *t;
	STACK_OF(X509) *sk = NULL;
	int i, rc;

	if (name == NULL || pem == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu trust: missing argument");
	if (purpose != FW_SWU_PURPOSE_EMAIL && purpose != FW_SWU_PURPOSE_CODE)
		return fw_diag_set(d, FW_E_ARG, "%s: unknown certificate purpose %d", name, purpose);
	rc = load_certs(name, pem, len, &sk, d);
	if (rc != FW_OK)
		return rc;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
		free(t);
		sk_X509_pop_free(sk, X509_free);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		if (X509_STORE_add_cert(t->store, sk_X509_value(sk, i)) != 1) {
			rc = fw_diag_set(d, FW_E_CRYPTO, "%s: certificate %d: %s", name, i + 1,
			                 ossl_reason());
			ERR_clear_error();
			sk_X509_pop_free(sk, X509_free);
			fw_swu_trust_free(t);
			return rc;
		}
	}
	sk_X509_pop_free(sk, X509_free);
	t->purpose = purpose;
	snprintf(t->name, sizeof(t->name), "%s", name);
	*out = t;
	return FW_OK;
}

int fw_swu_trust_load(const char *path, int purpose, struct fw_swu_trust **out,
                      struct fw_diag *d)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu trust: missing certificate file");
	rc = fw_file_read(path, FW_SWU_MAX_CERT_FILE, &pem, &len, d);
	if (rc == FW_OK)
		rc = fw_swu_trust_from_pem(path, pem, len, purpose, out, d);
	free(pem);
	return rc;
}

void fw_swu_trust_free(struct fw_swu_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* ---- strings that go into sw-description ---- */

/* Text for a libconfig string: we never escape, we refuse (a quote or a
 * backslash would change what the device reads). */
static int text_ok(const char *field, const char *s, size_t max, struct fw_diag *d)
{
	size_t i, n;

	if (s == NULL || s[0] == '\0')
		return fw_diag_set(d, FW_E_ARG, "%s: must not be empty", field);
	n = strlen(s);
	if (n > max)
		return fw_diag_set(d, FW_E_ARG, "%s: %zu bytes, at most %zu", field, n, max);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return fw_diag_set(d, FW_E_ARG,
			                   "%s: has a double quote (byte %zu), which cannot go into "
			                   "sw-description",
			                   field, i + 1);
		if (c == '\\')
			return fw_diag_set(d, FW_E_ARG,
			                   "%s: has a backslash (byte %zu), which cannot go into "
			                   "sw-description",
			                   field, i + 1);
		if (c < 0x20 || c == 0x7f)
			return fw_diag_set(d, FW_E_ARG, "%s: has a control character (byte %zu)", field,
			                   i + 1);
	}
	if (!fw_text_valid(s))
		return fw_diag_set(d, FW_E_ARG, "%s: not UTF-8 text", field);
	return FW_OK;
}

/* A file name in the archive: text, no '/', not one of the fixed names. */
static int image_name_ok(const char *s, struct fw_diag *d)
{
	int rc = text_ok("image name", s, FW_SWU_MAX_NAME, d);

	if (rc != FW_OK)
		return rc;
	if (strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return fw_diag_set(d, FW_E_ARG, "image name '%s': a plain file name is required", s);
	if (strcmp(s, NAME_DESC) == 0 || strcmp(s, NAME_SIG) == 0 || strcmp(s, NAME_TRAILER) == 0)
		return fw_diag_set(d, FW_E_ARG, "image name '%s' is reserved in a .swu", s);
	return FW_OK;
}

/* ---- writing sw-description ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int over;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->over || n >= b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void sb_kv(struct sbuf *b, const char *indent, const char *k, const char *v)
{
	sb_add(b, indent);
	sb_add(b, k);
	sb_add(b, " = \"");
	sb_add(b, v);
	sb_add(b, "\";\n");
}

int fw_swu_description(const struct fw_swu_spec *spec, const uint8_t sha256[32], char **out,
                       size_t *len, struct fw_diag *d)
{
	struct sbuf b = {NULL, 0, FW_SWU_MAX_DESCRIPTION, 0};
	const char *type;
	char hex[65], field[64];
	size_t i;
	int rc;

	if (spec == NULL || sha256 == NULL || out == NULL || len == NULL)
		return fw_diag_set(d, FW_E_ARG, "sw-description: missing argument");
	rc = text_ok("version", spec->version, FW_MAX_VERSION_STRING, d);
	if (rc == FW_OK && spec->description)
		rc = text_ok("description", spec->description, FW_SWU_MAX_TEXT, d);
	if (rc == FW_OK && (spec->nhw == 0 || spec->hw == NULL))
		rc = fw_diag_set(d, FW_E_ARG,
		                 "hardware-compatibility: at least one entry is required (devices "
		                 "refuse a .swu without it)");
	if (rc == FW_OK && spec->nhw > FW_SWU_MAX_HW)
		rc = fw_diag_set(d, FW_E_ARG, "hardware-compatibility: at most %d entries",
		                 FW_SWU_MAX_HW);
	for (i = 0; rc == FW_OK && i < spec->nhw; i++) {
		snprintf(field, sizeof(field), "hardware-compatibility %zu", i + 1);
		rc = text_ok(field, spec->hw[i], FW_SWU_MAX_TEXT, d);
	}
	if (rc == FW_OK)
		rc = image_name_ok(spec->image_name, d);
	type = spec->type ? spec->type : spec->device ? "raw" : "rawfile";
	if (rc == FW_OK)
		rc = text_ok("type", type, FW_SWU_MAX_TEXT, d);
	if (rc == FW_OK && spec->device)
		rc = text_ok("device", spec->device, FW_SWU_MAX_TEXT, d);
	if (rc == FW_OK && spec->path)
		rc = text_ok("path", spec->path, FW_SWU_MAX_TEXT, d);
	if (rc != FW_OK)
		return rc;

	b.p = malloc(b.cap);
	if (b.p == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	b.p[0] = '\0';
	fw_hex_encode(sha256, 32, hex);
	sb_add(&b, "software =\n{\n");
	sb_kv(&b, "\t", "version", spec->version);
	if (spec->description)
		sb_kv(&b, "\t", "description", spec->description);
	sb_add(&b, "\thardware-compatibility: [ ");
	for (i = 0; i < spec->nhw; i++) {
		sb_add(&b, i ? ", \"" : "\"");
		sb_add(&b, spec->hw[i]);
		sb_add(&b, "\"");
	}
	sb_add(&b, " ];\n\timages: (\n\t\t{\n");
	sb_kv(&b, "\t\t\t", "filename", spec->image_name);
	sb_kv(&b, "\t\t\t", "type", type);
	if (spec->device)
		sb_kv(&b, "\t\t\t", "device", spec->device);
	if (spec->path)
		sb_kv(&b, "\t\t\t", "path", spec->path);
	sb_kv(&b, "\t\t\t", "sha256", hex);
	sb_add(&b, "\t\t}\n\t);\n}\n");
	if (b.over) { /* cannot happen with the field caps above */
		free(b.p);
		return fw_diag_set(d, FW_E_TOO_LARGE, "sw-description: over %d bytes",
		                   FW_SWU_MAX_DESCRIPTION);
	}
	*out = b.p;
	*len = b.len;
	return FW_OK;
}

/* ---- reading sw-description (the subset we write; not libconfig) ---- */

enum { T_EOF, T_ID, T_STR, T_PUNCT };

struct lex {
	const char *p, *end;
	unsigned line;
	int type;
	char punct;
	char text[FW_SWU_MAX_TEXT + 1];
	struct fw_diag *d;
};

static int lex_fail(struct lex *x, int err, const char *fmt, ...) FW_PRINTF(3, 4);
static int lex_fail(struct lex *x, int err, const char *fmt, ...)
{
	char msg[FW_DIAG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fw_diag_set(x->d, err, "sw-description line %u: %s", x->line, msg);
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lex_next(struct lex *x)
{
	const char *start;
	size_t n;

	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n')) {
		if (*x->p == '\n')
			x->line++;
		x->p++;
	}
	x->text[0] = '\0';
	if (x->p == x->end) {
		x->type = T_EOF;
		return FW_OK;
	}
	if (*x->p == '"') {
		start = ++x->p;
		for (; x->p < x->end && *x->p != '"'; x->p++) {
			unsigned char c = (unsigned char)*x->p;

			if (c == '\\')
				return lex_fail(x, FW_E_FORMAT, "backslash in a string (escapes are not read)");
			if (c < 0x20 || c == 0x7f)
				return lex_fail(x, FW_E_FORMAT, "control character in a string");
		}
		if (x->p == x->end)
			return lex_fail(x, FW_E_FORMAT, "unterminated string");
		n = (size_t)(x->p - start);
		x->p++;
		if (n == 0)
			return lex_fail(x, FW_E_FORMAT, "empty string");
		if (n > FW_SWU_MAX_TEXT)
			return lex_fail(x, FW_E_TOO_LARGE, "string of %zu bytes (at most %d)", n,
			                FW_SWU_MAX_TEXT);
		memcpy(x->text, start, n);
		x->text[n] = '\0';
		if (!fw_text_valid(x->text))
			return lex_fail(x, FW_E_FORMAT, "string is not UTF-8 text");
		x->type = T_STR;
		return FW_OK;
	}
	if (is_alpha(*x->p)) {
		start = x->p;
		while (x->p < x->end && (is_alpha(*x->p) || (*x->p >= '0' && *x->p <= '9') ||
		                         *x->p == '_' || *x->p == '-'))
			x->p++;
		n = (size_t)(x->p - start);
		if (n > 64)
			return lex_fail(x, FW_E_FORMAT, "name longer than 64 bytes");
		memcpy(x->text, start, n);
		x->text[n] = '\0';
		x->type = T_ID;
		return FW_OK;
	}
	if (*x->p != '\0' && strchr("=:;,{}[]()", *x->p)) {
		x->punct = *x->p++;
		x->type = T_PUNCT;
		return FW_OK;
	}
	return lex_fail(x, FW_E_FORMAT,
	                "unexpected character 0x%02x (fwtrust reads only the sw-description subset "
	                "it writes: no comments, numbers or escapes)",
	                (unsigned char)*x->p);
}

/* the next token is one of the punctuation characters in set */
static int expect(struct lex *x, const char *set, const char *what)
{
	int rc = lex_next(x);

	if (rc != FW_OK)
		return rc;
	if (x->type != T_PUNCT || strchr(set, x->punct) == NULL)
		return lex_fail(x, FW_E_FORMAT, "expected %s", what);
	return FW_OK;
}

static int string_value(struct lex *x, const char *key, char *out)
{
	int rc = expect(x, "=:", "'=' or ':'");

	if (rc == FW_OK)
		rc = lex_next(x);
	if (rc != FW_OK)
		return rc;
	if (x->type != T_STR)
		return lex_fail(x, FW_E_FORMAT, "%s: a string is expected", key);
	memcpy(out, x->text, strlen(x->text) + 1);
	return expect(x, ";", "';'");
}

/* a key may appear once; seen is a bit set of the keys in names[] */
static int key_index(struct lex *x, const char *const *names, size_t n, unsigned *seen,
                     const char *where)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(x->text, names[i]) == 0) {
			if (*seen & (1u << i))
				return -lex_fail(x, FW_E_FORMAT, "%s: '%s' is repeated", where, x->text);
			*seen |= 1u << i;
			return (int)i;
		}
	}
	return -lex_fail(x, FW_E_FORMAT,
	                 "%s: '%s' is not read by fwtrust (it reads only the subset 'fwtrust sign "
	                 "--format swu' writes)",
	                 where, x->text);
}

static int parse_image(struct lex *x, struct fw_swu_info *o)
{
	static const char *const keys[] = {"filename", "type", "sha256", "device", "path"};
	char *dst[5];
	char sha[FW_SWU_MAX_TEXT + 1];
	unsigned seen = 0;
	int k, rc;

	dst[0] = o->image_name;
	dst[1] = o->type;
	dst[2] = sha;
	dst[3] = o->device;
	dst[4] = o->path;
	for (;;) {
		rc = lex_next(x);
		if (rc != FW_OK)
			return rc;
		if (x->type == T_PUNCT && x->punct == '}')
			break;
		if (x->type != T_ID)
			return lex_fail(x, FW_E_FORMAT, "image: a setting name is expected");
		k = key_index(x, keys, 5, &seen, "image");
		if (k < 0)
			return -k;
		rc = string_value(x, keys[k], dst[k]);
		if (rc != FW_OK)
			return rc;
	}
	if ((seen & 7u) != 7u)
		return lex_fail(x, FW_E_FORMAT, "image: '%s' is missing",
		                !(seen & 1u) ? "filename" : !(seen & 2u) ? "type" : "sha256");
	if (strlen(sha) != 64 || fw_hex_decode(sha, o->image_sha256, 32) != FW_OK)
		return lex_fail(x, FW_E_FORMAT, "image: sha256 is not 64 hex digits");
	if (image_name_ok(o->image_name, NULL) != FW_OK)
		return lex_fail(x, FW_E_FORMAT, "image: filename is not a plain file name");
	return FW_OK;
}

static int parse_software(struct lex *x, struct fw_swu_info *o)
{
	static const char *const keys[] = {"version", "hardware-compatibility", "images",
	                                   "description"};
	unsigned seen = 0;
	int k, rc;

	for (;;) {
		rc = lex_next(x);
		if (rc != FW_OK)
			return rc;
		if (x->type == T_PUNCT && x->punct == '}')
			break;
		if (x->type != T_ID)
			return lex_fail(x, FW_E_FORMAT, "software: a setting name is expected");
		k = key_index(x, keys, 4, &seen, "software");
		if (k < 0)
			return -k;
		if (k == 0 || k == 3) {
			rc = string_value(x, keys[k], k == 0 ? o->version : o->description);
			if (rc != FW_OK)
				return rc;
			continue;
		}
		rc = expect(x, "=:", "'=' or ':'");
		if (rc != FW_OK)
			return rc;
		if (k == 1) {
			rc = expect(x, "[", "'[' (hardware-compatibility is an array)");
			while (rc == FW_OK) {
				rc = lex_next(x);
				if (rc != FW_OK)
					break;
				if (x->type != T_STR) {
					rc = lex_fail(x, FW_E_FORMAT, "hardware-compatibility: a string is "
					                              "expected");
					break;
				}
				if (o->nhw == FW_SWU_MAX_HW) {
					rc = lex_fail(x, FW_E_TOO_LARGE,
					              "hardware-compatibility: more than %d entries", FW_SWU_MAX_HW);
					break;
				}
				memcpy(o->hw[o->nhw++], x->text, strlen(x->text) + 1);
				rc = expect(x, ",]", "',' or ']'");
				if (rc == FW_OK && x->punct == ']')
					break;
			}
		} else {
			rc = expect(x, "(", "'(' (images is a list)");
			if (rc == FW_OK)
				rc = expect(x, "{", "'{'");
			if (rc == FW_OK)
				rc = parse_image(x, o);
			if (rc == FW_OK)
				rc = expect(x, ")", "')' (fwtrust reads exactly one image)");
		}
		if (rc == FW_OK)
			rc = expect(x, ";", "';'");
		if (rc != FW_OK)
			return rc;
	}
	if ((seen & 7u) != 7u)
		return lex_fail(x, FW_E_FORMAT, "software: '%s' is missing",
		                !(seen & 1u) ? "version" : !(seen & 2u) ? "hardware-compatibility"
		                                                         : "images");
	return FW_OK;
}

int fw_swu_description_parse(const char *text, size_t len, struct fw_swu_info *out,
                             struct fw_diag *d)
{
	struct fw_swu_info *o;
	struct lex x;
	int rc;

	if (text == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "sw-description: missing argument");
	if (len > FW_SWU_MAX_DESCRIPTION)
		return fw_diag_set(d, FW_E_TOO_LARGE, "sw-description: %zu bytes, more than %d", len,
		                   FW_SWU_MAX_DESCRIPTION);
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	memset(&x, 0, sizeof(x));
	x.p = text;
	x.end = text + len;
	x.line = 1;
	x.d = d;
	rc = lex_next(&x);
	if (rc == FW_OK && (x.type != T_ID || strcmp(x.text, "software") != 0))
		rc = lex_fail(&x, FW_E_FORMAT, "'software' is expected");
	if (rc == FW_OK)
		rc = expect(&x, "=:", "'=' or ':'");
	if (rc == FW_OK)
		rc = expect(&x, "{", "'{'");
	if (rc == FW_OK)
		rc = parse_software(&x, o);
	if (rc == FW_OK)
		rc = lex_next(&x);
	if (rc == FW_OK && x.type == T_PUNCT && x.punct == ';')
		rc = lex_next(&x);
	if (rc == FW_OK && x.type != T_EOF)
		rc = lex_fail(&x, FW_E_FORMAT, "text after the software group");
	if (rc == FW_OK)
		*out = *o;
	free(o);
	return rc;
}

/* ---- reading the archive ---- */

/* The archive, from a file or memory; every byte read goes through the
 * whole-file digests. */
struct rd {
	int fd; /* -1: memory */
	const uint8_t *mem;
	uint64_t size, pos;
	EVP_MD_CTX *md[3]; /* sha256, sha1, md5 */
	const char *name;
	struct fw_diag *d;
};

static uint64_t rd_left(const struct rd *r)
{
	return r->size - r->pos;
}

/* n bytes; the caller has checked n <= rd_left */
static int rd_read(struct rd *r, void *buf, size_t n)
{
	size_t got = 0;
	int i;

	if (r->fd < 0) {
		memcpy(buf, r->mem + r->pos, n);
	} else {
		while (got < n) {
			ssize_t k = read(r->fd, (uint8_t *)buf + got, n - got);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return fw_diag_set(r->d, FW_E_IO, "%s: read failed: %s", r->name,
				                   strerror(errno));
			if (k == 0)
				return fw_diag_set(r->d, FW_E_FORMAT, "%s: the file shrank while it was read",
				                   r->name);
			got += (size_t)k;
		}
	}
	for (i = 0; i < 3; i++)
		if (EVP_DigestUpdate(r->md[i], buf, n) != 1)
			return fw_diag_set(r->d, FW_E_CRYPTO, "%s: hashing failed", r->name);
	r->pos += n;
	return FW_OK;
}

struct centry {
	unsigned no;     /* 1-based */
	uint64_t at;     /* offset of its header */
	int crc;         /* 070702 */
	uint32_t mode, size, check;
	char name[FW_SWU_MAX_NAME + 1]; /* "" until known to be text */
};

/* "x.swu: entry 2 (sw-description.sig): msg" */
static int efail(struct rd *r, const struct centry *e, int err, const char *fmt, ...)
    FW_PRINTF(4, 5);
static int efail(struct rd *r, const struct centry *e, int err, const char *fmt, ...)
{
	char msg[FW_DIAG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->name[0])
		return fw_diag_set(r->d, err, "%s: entry %u (%s): %s", r->name, e->no, e->name, msg);
	return fw_diag_set(r->d, err, "%s: entry %u at byte %llu: %s", r->name, e->no,
	                   (unsigned long long)e->at, msg);
}

static int hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t n;

		if (c >= '0' && c <= '9')
			n = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			n = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			n = (uint32_t)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | n;
	}
	*out = v;
	return 0;
}

static size_t pad4(uint64_t n)
{
	return (size_t)((4 - n % 4) % 4);
}

/* read padding that must be there and be zero */
static int read_pad(struct rd *r, const struct centry *e, size_t n, const char *what)
{
	uint8_t z[4] = {0}, got[4];
	int rc;

	if (n > rd_left(r))
		return efail(r, e, FW_E_FORMAT, "truncated: %s padding runs past the end of the file",
		             what);
	rc = rd_read(r, got, n);
	if (rc != FW_OK)
		return rc;
	if (memcmp(got, z, n) != 0)
		return efail(r, e, FW_E_FORMAT, "%s padding is not zero", what);
	return FW_OK;
}

/* One cpio newc header and name, validated; every length is attacker
 * supplied and checked against the bytes left before it is used. */
static int entry_head(struct rd *r, struct centry *e)
{
	static const char *const fields[13] = {
	    "ino",      "mode",      "uid",       "gid",      "nlink", "mtime", "filesize",
	    "devmajor", "devminor",  "rdevmajor", "rdevminor", "namesize", "check"};
	uint8_t h[HDR_LEN];
	uint32_t f[13], namesize;
	int i, rc;

	e->at = r->pos;
	e->name[0] = '\0';
	if (rd_left(r) < HDR_LEN)
		return efail(r, e, FW_E_FORMAT,
		             "truncated: a cpio header needs %d bytes, %llu are left (no TRAILER!!!)",
		             HDR_LEN, (unsigned long long)rd_left(r));
	rc = rd_read(r, h, HDR_LEN);
	if (rc != FW_OK)
		return rc;
	if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
		return efail(r, e, FW_E_FORMAT, "bad cpio magic (070701 or 070702 expected)");
	for (i = 0; i < 13; i++)
		if (hex8(h + 6 + 8 * i, &f[i]) != 0)
			return efail(r, e, FW_E_FORMAT, "cpio field %s is not 8 hex digits", fields[i]);
	namesize = f[11];
	if (namesize < 2 || namesize > FW_SWU_MAX_NAME + 1)
		return efail(r, e, FW_E_FORMAT, "name length %u out of range (2..%d with the NUL)",
		             namesize, FW_SWU_MAX_NAME + 1);
	if (namesize > rd_left(r))
		return efail(r, e, FW_E_FORMAT,
		             "truncated: the name (%u bytes) runs past the end of the file (%llu "
		             "bytes left)",
		             namesize, (unsigned long long)rd_left(r));
	rc = rd_read(r, e->name, namesize);
	if (rc != FW_OK) {
		e->name[0] = '\0';
		return rc;
	}
	if (e->name[namesize - 1] != '\0' || strlen(e->name) != namesize - 1 ||
	    !fw_text_valid(e->name)) {
		e->name[0] = '\0';
		return efail(r, e, FW_E_FORMAT, "the name is not NUL-terminated text");
	}
	rc = read_pad(r, e, pad4(HDR_LEN + namesize), "header");
	if (rc != FW_OK)
		return rc;
	e->crc = h[5] == '2';
	e->mode = f[1];
	e->size = f[6];
	e->check = f[12];
	/* the data and its padding must be in the file */
	if ((uint64_t)e->size + pad4(e->size) > rd_left(r))
		return efail(r, e, FW_E_FORMAT,
		             "truncated: size %u runs past the end of the file (%llu bytes left)",
		             e->size, (unsigned long long)rd_left(r));
	if (strcmp(e->name, NAME_TRAILER) == 0)
		return FW_OK;
	if (strchr(e->name, '/') || strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
		return efail(r, e, FW_E_FORMAT, "not a plain file name (a .swu holds no directories)");
	if ((e->mode & 0170000u) != 0100000u)
		return efail(r, e, FW_E_FORMAT, "not a regular file (mode %o)", e->mode);
	return FW_OK;
}

/* The entry's data: into dst (size <= cap checked by the caller), or
 * streamed through img (the image); checksum and padding checked. */
static int entry_data(struct rd *r, const struct centry *e, uint8_t *dst, EVP_MD_CTX *img,
                      uint8_t *buf)
{
	uint64_t left = e->size;
	uint32_t sum = 0;
	size_t i;
	int rc;

	while (left > 0) {
		size_t n = dst ? (size_t)left : (left < BLOCK ? (size_t)left : BLOCK);
		uint8_t *p = dst ? dst : buf;

		rc = rd_read(r, p, n);
		if (rc != FW_OK)
			return rc;
		if (img && EVP_DigestUpdate(img, p, n) != 1)
			return fw_diag_set(r->d, FW_E_CRYPTO, "%s: hashing failed", r->name);
		for (i = 0; i < n; i++)
			sum += p[i];
		left -= n;
	}
	rc = read_pad(r, e, pad4(e->size), "data");
	if (rc != FW_OK)
		return rc;
	/* 070702: the header's check is the 32-bit sum of the data bytes */
	if (e->crc && sum != e->check)
		return efail(r, e, FW_E_VERIFY, "cpio checksum mismatch (header %08x, data %08x)",
		             e->check, sum);
	return FW_OK;
}

/* The CMS signature over sw-description, judged as swupdate -k judges it. */
static int check_sig(struct rd *r, const struct centry *e, const uint8_t *desc, size_t dlen,
                     const uint8_t *sig, size_t slen, const struct fw_swu_trust *t,
                     struct fw_swu_info *o)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *infos;
	STACK_OF(X509) *embedded = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *signer = NULL;
	BIO *content = NULL, *nb = NULL;
	uint8_t *der = NULL;
	int rc = FW_E_SIGNATURE, n, i;

	ERR_clear_error();
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)slen);
	if (cms == NULL || p != sig + slen) {
		rc = efail(r, e, FW_E_FORMAT, "not one DER-encoded CMS signature");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		rc = efail(r, e, FW_E_FORMAT, "the CMS content is not SignedData");
		goto out;
	}
	if (CMS_is_detached(cms) != 1) {
		rc = efail(r, e, FW_E_FORMAT, "the signature carries content (it must be detached)");
		goto out;
	}
	infos = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(infos) != 1) {
		rc = efail(r, e, FW_E_SIGNATURE, "%d signers (exactly one is accepted)",
		           sk_CMS_SignerInfo_num(infos));
		goto out;
	}
	/* a filter on the memory BIO: given a memory BIO itself, OpenSSL 3.0's
	 * CMS_verify copies it and leaks the copy when the signature names an
	 * unknown digest (found by fuzz/fuzz_swu.c) */
	content = BIO_new_mem_buf(desc, (int)dlen);
	if (content != NULL) {
		BIO *f = BIO_new(BIO_f_buffer());

		if (f == NULL) {
			BIO_free(content);
			content = NULL;
		} else {
			content = BIO_push(f, content);
		}
	}
	if (content == NULL) {
		rc = fw_diag_set(r->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	/* the signature over these bytes, by the certificate it embeds */
	if (CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) !=
	    1) {
		rc = efail(r, e, FW_E_SIGNATURE, "CMS signature does not verify over %s (%s)",
		           NAME_DESC, ossl_reason());
		goto out;
	}
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, 0), NULL, &signer, NULL, NULL);
	embedded = CMS_get1_certs(cms);
	ctx = X509_STORE_CTX_new();
	if (signer == NULL || ctx == NULL ||
	    X509_STORE_CTX_init(ctx, t->store, signer, embedded) != 1) {
		rc = efail(r, e, FW_E_SIGNATURE, "no signer certificate to judge");
		goto out;
	}
	n = i2d_X509(signer, &der);
	nb = BIO_new(BIO_s_mem());
	if (n <= 0 || nb == NULL ||
	    X509_NAME_print_ex(nb, X509_get_subject_name(signer), 0, XN_FLAG_RFC2253) < 0) {
		rc = fw_diag_set(r->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	fw_sha256(der, (size_t)n, o->signer_sha256);
	{
		char *s = NULL;
		long sl = BIO_get_mem_data(nb, &s);

		if (sl < 0)
			sl = 0;
		if ((size_t)sl < sizeof(o->signer_subject)) {
			memcpy(o->signer_subject, s, (size_t)sl);
			o->signer_subject[sl] = '\0';
		} else {
			memcpy(o->signer_subject, s, sizeof(o->signer_subject) - 4);
			memcpy(o->signer_subject + sizeof(o->signer_subject) - 4, "...", 4);
		}
	}
	/* and that certificate is one the device trusts (-k), for the purpose
	 * the device expects; time is checked (swupdate refuses expired) */
	if (t->purpose == FW_SWU_PURPOSE_CODE)
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_default(ctx, "smime_sign");
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);

		/* the usual case: signed by someone else's key */
		if (err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
		    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
			rc = efail(r, e, FW_E_SIGNATURE,
			           "CMS signature does not verify against signer %s (signed by '%s', "
			           "which it does not trust)",
			           t->name, o->signer_subject);
		else
			rc = efail(r, e, FW_E_SIGNATURE,
			           "CMS signature does not verify against signer %s (%s)", t->name,
			           X509_verify_cert_error_string(err));
		goto out;
	}
	if (t->purpose == FW_SWU_PURPOSE_CODE) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

		/* swupdate's check_code_sign: the signer needs EKU codeSigning; a CA
		 * with an EKU needs it too */
		for (i = 0; i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);
			uint32_t fl = X509_get_extension_flags(x), xku = X509_get_extended_key_usage(x);
			int has = (fl & EXFLAG_XKUSAGE) && (xku & XKU_CODE_SIGN);

			if ((i == 0 && !has) ||
			    (i > 0 && (((fl & EXFLAG_XKUSAGE) && !has) || X509_check_ca(x) == 0))) {
				rc = efail(r, e, FW_E_SIGNATURE,
				           "CMS signature does not verify against signer %s (certificate %d of "
				           "the chain is not for codeSigning)",
				           t->name, i + 1);
				goto out;
			}
		}
	}
	rc = FW_OK;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(nb);
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(embedded, X509_free);
	BIO_free_all(content);
	CMS_ContentInfo_free(cms);
	return rc;
}

static int verify(struct rd *r, const struct fw_swu_trust *t, struct fw_swu_info *out)
{
	struct fw_swu_info *o = NULL;
	struct centry e;
	uint8_t *desc = NULL, *sig = NULL, *buf = NULL, img_sha[32];
	EVP_MD_CTX *img = NULL;
	unsigned int hl;
	size_t sig_len = 0, desc_len = 0;
	int rc, i;
	const EVP_MD *mds[3] = {EVP_sha256(), EVP_sha1(), EVP_md5()};
	uint8_t *dst[3];

	o = calloc(1, sizeof(*o));
	buf = malloc(BLOCK);
	img = EVP_MD_CTX_new();
	for (i = 0; i < 3; i++)
		r->md[i] = EVP_MD_CTX_new();
	if (o == NULL || buf == NULL || img == NULL || r->md[0] == NULL || r->md[1] == NULL ||
	    r->md[2] == NULL || EVP_DigestInit_ex(img, EVP_sha256(), NULL) != 1) {
		rc = fw_diag_set(r->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		if (EVP_DigestInit_ex(r->md[i], mds[i], NULL) != 1) {
			rc = fw_diag_set(r->d, FW_E_CRYPTO, "digest %d unavailable", i);
			goto out;
		}
	}
	memset(&e, 0, sizeof(e));

	/* 1: sw-description */
	e.no = 1;
	rc = entry_head(r, &e);
	if (rc != FW_OK)
		goto out;
	if (strcmp(e.name, NAME_DESC) != 0) {
		rc = efail(r, &e, FW_E_FORMAT, "the first entry must be %s", NAME_DESC);
		goto out;
	}
	if (e.size > FW_SWU_MAX_DESCRIPTION) {
		rc = efail(r, &e, FW_E_TOO_LARGE, "%u bytes, more than %d", e.size,
		           FW_SWU_MAX_DESCRIPTION);
		goto out;
	}
	desc_len = e.size;
	desc = malloc(desc_len + 1);
	if (desc == NULL) {
		rc = fw_diag_set(r->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	rc = entry_data(r, &e, desc, NULL, buf);
	if (rc != FW_OK)
		goto out;
	desc[desc_len] = '\0';

	/* 2: its signature, right after it (swupdate reads it there or not at all) */
	e.no = 2;
	rc = entry_head(r, &e);
	if (rc != FW_OK)
		goto out;
	if (strcmp(e.name, NAME_SIG) != 0) {
		rc = efail(r, &e, FW_E_SIGNATURE,
		           "%s must follow %s (the .swu is unsigned or its entries are out of order)",
		           NAME_SIG, NAME_DESC);
		goto out;
	}
	if (e.size > FW_SWU_MAX_SIG) {
		rc = efail(r, &e, FW_E_TOO_LARGE, "%u bytes, more than %d", e.size, FW_SWU_MAX_SIG);
		goto out;
	}
	sig_len = e.size;
	sig = malloc(sig_len ? sig_len : 1);
	if (sig == NULL) {
		rc = fw_diag_set(r->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	rc = entry_data(r, &e, sig, NULL, buf);
	if (rc == FW_OK)
		rc = check_sig(r, &e, desc, desc_len, sig, sig_len, t, o);
	if (rc != FW_OK)
		goto out;
	/* only signed text is read */
	{
		struct fw_diag why = {{0}};
		uint8_t signer[32];
		char subject[sizeof(o->signer_subject)];

		memcpy(signer, o->signer_sha256, 32);
		memcpy(subject, o->signer_subject, sizeof(subject));
		rc = fw_swu_description_parse((const char *)desc, desc_len, o, &why);
		if (rc != FW_OK) {
			e.no = 1;
			snprintf(e.name, sizeof(e.name), "%s", NAME_DESC);
			rc = efail(r, &e, rc, "%s", why.msg);
			goto out;
		}
		memcpy(o->signer_sha256, signer, 32);
		memcpy(o->signer_subject, subject, sizeof(subject));
	}

	/* 3: the image sw-description names, hashed as it streams */
	e.no = 3;
	rc = entry_head(r, &e);
	if (rc != FW_OK)
		goto out;
	if (strcmp(e.name, NAME_TRAILER) == 0) {
		rc = efail(r, &e, FW_E_FORMAT, "the archive ends without the image '%s'",
		           o->image_name);
		goto out;
	}
	if (strcmp(e.name, o->image_name) != 0) {
		rc = efail(r, &e, FW_E_FORMAT, "not the image sw-description names ('%s')",
		           o->image_name);
		goto out;
	}
	rc = entry_data(r, &e, NULL, img, buf);
	if (rc != FW_OK)
		goto out;
	hl = 32;
	if (EVP_DigestFinal_ex(img, img_sha, &hl) != 1) {
		rc = fw_diag_set(r->d, FW_E_CRYPTO, "hashing failed");
		goto out;
	}
	if (memcmp(img_sha, o->image_sha256, 32) != 0) {
		char want[65], got[65];

		fw_hex_encode(o->image_sha256, 32, want);
		fw_hex_encode(img_sha, 32, got);
		rc = efail(r, &e, FW_E_VERIFY, "SHA-256 %s is not the signed %s", got, want);
		goto out;
	}
	o->image_size = e.size;

	/* 4: the end */
	e.no = 4;
	rc = entry_head(r, &e);
	if (rc != FW_OK)
		goto out;
	if (strcmp(e.name, NAME_TRAILER) != 0) {
		rc = efail(r, &e, FW_E_FORMAT,
		           "only one image is read (sw-description names one); TRAILER!!! expected");
		goto out;
	}
	if (e.size != 0) {
		rc = efail(r, &e, FW_E_FORMAT, "the trailer has data (%u bytes)", e.size);
		goto out;
	}
	rc = read_pad(r, &e, pad4(e.size), "data");
	if (rc != FW_OK)
		goto out;
	if (rd_left(r) > FW_SWU_MAX_PADDING) {
		rc = fw_diag_set(r->d, FW_E_TOO_LARGE,
		                 "%s: %llu bytes after TRAILER!!! (at most %d zero bytes of padding)",
		                 r->name, (unsigned long long)rd_left(r), FW_SWU_MAX_PADDING);
		goto out;
	}
	while (rd_left(r) > 0) {
		size_t n = (size_t)rd_left(r), k;
		uint64_t at = r->pos;

		rc = rd_read(r, buf, n);
		if (rc != FW_OK)
			goto out;
		for (k = 0; k < n; k++) {
			if (buf[k] != 0) {
				rc = fw_diag_set(r->d, FW_E_FORMAT,
				                 "%s: byte %llu after TRAILER!!! is not zero padding", r->name,
				                 (unsigned long long)(at + k));
				goto out;
			}
		}
	}
	if (r->fd >= 0) {
		ssize_t k = read(r->fd, buf, 1);

		if (k != 0) {
			rc = fw_diag_set(r->d, k < 0 ? FW_E_IO : FW_E_FORMAT,
			                 "%s: the file changed while it was read", r->name);
			goto out;
		}
	}
	dst[0] = o->sha256;
	dst[1] = o->sha1;
	dst[2] = o->md5;
	for (i = 0; i < 3; i++) {
		if (EVP_DigestFinal_ex(r->md[i], dst[i], &hl) != 1) {
			rc = fw_diag_set(r->d, FW_E_CRYPTO, "hashing failed");
			goto out;
		}
	}
	o->size = r->size;
	*out = *o;
	rc = FW_OK;
out:
	for (i = 0; i < 3; i++) {
		EVP_MD_CTX_free(r->md[i]);
		r->md[i] = NULL;
	}
	EVP_MD_CTX_free(img);
	free(o);
	free(buf);
	free(desc);
	free(sig);
	return rc;
}

int fw_swu_verify_mem(const uint8_t *p, size_t n, const char *name,
                      const struct fw_swu_trust *t, struct fw_swu_info *out, struct fw_diag *d)
{
	struct rd r;

	if ((p == NULL && n > 0) || t == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu verify: missing argument");
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.mem = p;
	r.size = n;
	r.name = name ? name : "swu";
	r.d = d;
	return verify(&r, t, out);
}

/* name: what messages call the file (the build checks a temporary file
 * under the name it will have) */
static int verify_path(const char *path, const char *name, const struct fw_swu_trust *t,
                       struct fw_swu_info *out, struct fw_diag *d)
{
	struct stat st;
	struct rd r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	if (fstat(r.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(r.fd);
		return fw_diag_set(d, FW_E_IO, "%s: not a regular file", path);
	}
	r.size = (uint64_t)st.st_size;
	r.name = name;
	r.d = d;
	rc = verify(&r, t, out);
	close(r.fd);
	return rc;
}

int fw_swu_verify_file(const char *path, const struct fw_swu_trust *t,
                       struct fw_swu_info *out, struct fw_diag *d)
{
	if (path == NULL || t == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu verify: missing argument");
	return verify_path(path, path, t, out, d);
}

/* ---- signing ---- */

struct fw_swu_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain; /* certificates after the signer's in its file */
	uint8_t *cert_pem;
	size_t cert_len;
	char cert_name[256];
};

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int key_ok(const char *path, EVP_PKEY *k, struct fw_diag *d)
{
	if (EVP_PKEY_is_a(k, "RSA")) {
		int bits = EVP_PKEY_get_bits(k);

		if (bits < 2048 || bits > 16384)
			return fw_diag_set(d, FW_E_KEY, "%s: RSA key of %d bits (2048 to 16384 accepted)",
			                   path, bits);
		return FW_OK;
	}
	if (EVP_PKEY_is_a(k, "EC")) {
		char group[64] = "";
		size_t gl = 0;

		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		                                   &gl) == 1 &&
		    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
			return FW_OK;
		return fw_diag_set(d, FW_E_KEY, "%s: EC key on %s (P-256 and P-384 accepted)", path,
		                   group[0] ? group : "an unnamed curve");
	}
	return fw_diag_set(d, FW_E_KEY,
	                   "%s: key type %s is not accepted for .swu signing (RSA of 2048 bits or "
	                   "more, EC P-256 or P-384)",
	                   path, EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "?");
}

int fw_swu_signer_load(const char *key_path, const char *cert_path, struct fw_swu_signer **out,
                       struct fw_diag *d)
{
	struct fw_swu_signer *s = NULL;
	STACK_OF(X509) *sk = NULL;
	uint8_t *kb = NULL;
	size_t kl = 0;
	BIO *b = NULL;
	int rc;

	if (key_path == NULL || cert_path == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu signer: missing argument");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_file_read(key_path, FW_MAX_KEY_FILE, &kb, &kl, d);
	if (rc != FW_OK)
		goto out;
	if (memmem(kb, kl, "ENCRYPTED", 9) != NULL) {
		rc = fw_diag_set(d, FW_E_KEY,
		                 "%s: the private key is encrypted; fwtrust needs an unencrypted PEM "
		                 "key (keep it in a protected location)",
		                 key_path);
		goto out;
	}
	b = BIO_new_mem_buf(kb, (int)kl);
	if (b == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	s->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	if (s->key == NULL) {
		rc = fw_diag_set(d, FW_E_KEY, "%s: not a PEM private key", key_path);
		goto out;
	}
	rc = key_ok(key_path, s->key, d);
	if (rc != FW_OK)
		goto out;
	rc = fw_file_read(cert_path, FW_SWU_MAX_CERT_FILE, &s->cert_pem, &s->cert_len, d);
	if (rc == FW_OK)
		rc = load_certs(cert_path, s->cert_pem, s->cert_len, &sk, d);
	if (rc != FW_OK)
		goto out;
	s->cert = sk_X509_shift(sk);
	s->chain = sk;
	sk = NULL;
	if (X509_check_private_key(s->cert, s->key) != 1) {
		rc = fw_diag_set(d, FW_E_KEY, "%s: not the key of the (first) certificate in %s",
		                 key_path, cert_path);
		goto out;
	}
	snprintf(s->cert_name, sizeof(s->cert_name), "%s", cert_path);
	*out = s;
	s = NULL;
	rc = FW_OK;
out:
	ERR_clear_error();
	if (kb) {
		fw_wipe(kb, kl);
		free(kb);
	}
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	fw_swu_signer_free(s);
	return rc;
}

void fw_swu_signer_free(struct fw_swu_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key); /* OpenSSL clears private key material on free */
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s->cert_pem);
	free(s);
}

int fw_swu_sign(const struct fw_swu_signer *s, const uint8_t *msg, size_t len, uint8_t **sig,
                size_t *sig_len, struct fw_diag *d)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	uint8_t *der = NULL, *p;
	int n, rc = FW_E_CRYPTO;

	if (s == NULL || msg == NULL || sig == NULL || sig_len == NULL)
		return fw_diag_set(d, FW_E_ARG, "swu sign: missing argument");
	in = BIO_new_mem_buf(msg, (int)len);
	if (in == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	/* = openssl cms -sign -binary -nosmimecap -outform DER (detached) */
	cms = CMS_sign(s->cert, s->key, sk_X509_num(s->chain) > 0 ? s->chain : NULL, in,
	               CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP);
	if (cms == NULL) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "CMS signing failed: %s", ossl_reason());
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, NULL);
	if (n <= 0 || (der = malloc((size_t)n)) == NULL) {
		rc = fw_diag_set(d, n <= 0 ? FW_E_CRYPTO : FW_E_NOMEM, "CMS encoding failed");
		goto out;
	}
	p = der;
	if (i2d_CMS_ContentInfo(cms, &p) != n) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "CMS encoding failed");
		goto out;
	}
	*sig = der;
	*sig_len = (size_t)n;
	der = NULL;
	rc = FW_OK;
out:
	ERR_clear_error();
	free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return rc;
}

/* ---- building ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* a 070702 header, its name and the padding after them */
static int put_head(int fd, uint32_t ino, uint32_t mode, const char *name, uint32_t size,
                    uint32_t sum, uint64_t *total)
{
	char h[HDR_LEN + FW_SWU_MAX_NAME + 1 + 4];
	size_t nl = strlen(name) + 1, len;

	snprintf(h, sizeof(h), "070702%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	         (unsigned)ino, (unsigned)mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u,
	         (unsigned)nl, (unsigned)sum);
	memcpy(h + HDR_LEN, name, nl);
	len = HDR_LEN + nl;
	memset(h + len, 0, pad4(len));
	len += pad4(len);
	*total += len;
	return write_all(fd, h, len);
}

static int put_pad(int fd, size_t n, uint64_t *total)
{
	static const uint8_t z[SWU_ALIGN];

	*total += n;
	return write_all(fd, z, n);
}

static uint32_t byte_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	while (n--)
		sum += *p++;
	return sum;
}

/* SHA-256, byte sum and size of a file, streamed */
static int hash_file(int fd, const char *path, uint8_t *buf, int copy_to, uint8_t sha[32],
                     uint32_t *sum, uint64_t *size, struct fw_diag *d)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int hl = 32;
	int rc = FW_E_IO;

	*sum = 0;
	*size = 0;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf, BLOCK);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		*size += (uint64_t)k;
		if (*size > FW_SWU_MAX_IMAGE) {
			rc = fw_diag_set(d, FW_E_TOO_LARGE,
			                 "%s: over %u bytes (a cpio newc entry holds at most that)", path,
			                 FW_SWU_MAX_IMAGE);
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)k);
		*sum = byte_sum(buf, (size_t)k, *sum);
		if (copy_to >= 0 && write_all(copy_to, buf, (size_t)k) != 0) {
			rc = fw_diag_set(d, FW_E_IO, "write failed: %s", strerror(errno));
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, sha, &hl) != 1) {
		rc = fw_diag_set(d, FW_E_CRYPTO, "%s: hashing failed", path);
		goto out;
	}
	rc = FW_OK;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int fw_swu_build(const struct fw_swu_spec *spec, const char *image_path,
                 const struct fw_swu_signer *s, const struct fw_swu_trust *check,
                 const char *out_path, int overwrite, struct fw_swu_info *info,
                 struct fw_diag *d)
{
	struct fw_swu_spec sp;
	struct fw_swu_trust *own = NULL;
	struct fw_swu_info *got = NULL;
	char tmp[4200];
	char *desc = NULL;
	uint8_t *sig = NULL, *buf = NULL, sha[32], sha2[32];
	size_t desc_len = 0, sig_len = 0;
	uint32_t sum = 0, sum2 = 0;
	uint64_t size = 0, size2 = 0, total = 0;
	int in = -1, fd = -1, rc;

	tmp[0] = '\0';
	if (spec == NULL || image_path == NULL || s == NULL || out_path == NULL || !out_path[0])
		return fw_diag_set(d, FW_E_ARG, "swu build: missing argument");
	sp = *spec;
	if (sp.image_name == NULL) {
		const char *slash = strrchr(image_path, '/');

		sp.image_name = slash ? slash + 1 : image_path;
	}
	/* every field is judged before anything is read */
	{
		static const uint8_t zero[32];

		rc = fw_swu_description(&sp, zero, &desc, &desc_len, d);
		free(desc);
		desc = NULL;
		if (rc != FW_OK)
			return rc;
	}
	if (!overwrite && access(out_path, F_OK) == 0)
		return fw_diag_set(d, FW_E_EXISTS, "%s: already exists (refusing to overwrite)",
		                   out_path);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", out_path) >= sizeof(tmp))
		return fw_diag_set(d, FW_E_ARG, "%s: path too long", out_path);
	tmp[0] = '\0';

	buf = malloc(BLOCK);
	got = calloc(1, sizeof(*got));
	if (buf == NULL || got == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	in = open(image_path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = fw_diag_set(d, FW_E_IO, "%s: %s", image_path, strerror(errno));
		goto out;
	}
	rc = hash_file(in, image_path, buf, -1, sha, &sum, &size, d);
	if (rc == FW_OK)
		rc = fw_swu_description(&sp, sha, &desc, &desc_len, d);
	if (rc == FW_OK)
		rc = fw_swu_sign(s, (const uint8_t *)desc, desc_len, &sig, &sig_len, d);
	if (rc != FW_OK)
		goto out;

	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", out_path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		rc = fw_diag_set(d, FW_E_IO, "%s: cannot create: %s", out_path, strerror(errno));
		goto out;
	}
	rc = FW_E_IO;
	if (fchmod(fd, 0644) != 0 ||
	    put_head(fd, 1, 0100644, NAME_DESC, (uint32_t)desc_len,
	             byte_sum((const uint8_t *)desc, desc_len, 0), &total) != 0 ||
	    write_all(fd, desc, desc_len) != 0 || put_pad(fd, pad4(desc_len), &total) != 0 ||
	    put_head(fd, 2, 0100644, NAME_SIG, (uint32_t)sig_len, byte_sum(sig, sig_len, 0),
	             &total) != 0 ||
	    write_all(fd, sig, sig_len) != 0 || put_pad(fd, pad4(sig_len), &total) != 0 ||
	    put_head(fd, 3, 0100644, sp.image_name, (uint32_t)size, sum, &total) != 0) {
		rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	total += desc_len + sig_len;
	/* the image again, copied while hashed: it must be the bytes signed */
	if (lseek(in, 0, SEEK_SET) != 0) {
		rc = fw_diag_set(d, FW_E_IO, "%s: cannot read it again: %s", image_path,
		                 strerror(errno));
		goto out;
	}
	rc = hash_file(in, image_path, buf, fd, sha2, &sum2, &size2, d);
	if (rc != FW_OK)
		goto out;
	if (size2 != size || sum2 != sum || memcmp(sha, sha2, 32) != 0) {
		rc = fw_diag_set(d, FW_E_VERIFY, "%s: changed while it was being packed", image_path);
		goto out;
	}
	total += size;
	if (put_pad(fd, pad4(size), &total) != 0 ||
	    put_head(fd, 0, 0, NAME_TRAILER, 0, 0, &total) != 0 ||
	    put_pad(fd, (size_t)((SWU_ALIGN - total % SWU_ALIGN) % SWU_ALIGN), &total) != 0 ||
	    fsync(fd) != 0) {
		rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;

	/* self-check: what a device with these certificates would say */
	if (check == NULL) {
		rc = fw_swu_trust_from_pem(s->cert_name, s->cert_pem, s->cert_len,
		                           FW_SWU_PURPOSE_EMAIL, &own, d);
		if (rc != FW_OK)
			goto out;
		check = own;
	}
	{
		struct fw_diag why = {{0}};

		rc = verify_path(tmp, out_path, check, got, &why);
		if (rc != FW_OK) {
			rc = fw_diag_set(d, rc, "self-check of the new .swu failed: %s", why.msg);
			goto out;
		}
	}
	if (memcmp(got->image_sha256, sha, 32) != 0 || got->image_size != size) {
		rc = fw_diag_set(d, FW_E_INTERNAL, "self-check of the new .swu failed: image differs");
		goto out;
	}
	if (overwrite ? rename(tmp, out_path) != 0 : link(tmp, out_path) != 0) {
		rc = errno == EEXIST
		         ? fw_diag_set(d, FW_E_EXISTS, "%s: already exists (refusing to overwrite)",
		                       out_path)
		         : fw_diag_set(d, FW_E_IO, "%s: cannot publish: %s", out_path, strerror(errno));
		goto out;
	}
	if (overwrite)
		tmp[0] = '\0'; /* renamed: nothing left to remove */
	if (info)
		*info = *got;
	rc = FW_OK;
out:
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	if (tmp[0])
		unlink(tmp);
	fw_swu_trust_free(own);
	free(got);
	free(buf);
	free(desc);
	free(sig);
	return rc;
}
