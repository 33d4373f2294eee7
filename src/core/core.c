#define _POSIX_C_SOURCE 200809L
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const char *const err_names[FW_ERR_COUNT] = {
	"ok", "bad_argument", "io", "exists", "too_large", "no_memory",
	"bad_key", "crypto", "format", "verify", "internal", "proof", "bad_note",
	"signature", "origin", "store", "not_found", "tamper", "conflict"
};

const char *fw_err_str(int err)
{
	if (err < 0 || err >= FW_ERR_COUNT || err_names[err] == NULL)
		return "unknown_error";
	return err_names[err];
}

int fw_diag_set(struct fw_diag *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d != NULL) {
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

void fw_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fw_hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
	size_t i;

	if (strlen(hex) != 2 * out_len)
		return FW_E_FORMAT;
	for (i = 0; i < out_len; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return FW_E_FORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return FW_OK;
}

int fw_uuid_parse(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t i, n = 0, len = strlen(s);

	if (len == 36) {
		for (i = 0; i < len; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (s[i] != '-')
					return FW_E_FORMAT;
				continue;
			}
			hex[n++] = s[i];
		}
		hex[n] = '\0';
	} else if (len == 32) {
		memcpy(hex, s, 33);
	} else {
		return FW_E_FORMAT;
	}
	return fw_hex_decode(hex, out, 16);
}

void fw_uuid_format(const uint8_t in[16], char out[37])
{
	char hex[33];

	fw_hex_encode(in, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int fw_text_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int n, i;

		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return 0;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp < 0xa0))
			return 0;
		p += n + 1;
	}
	return 1;
}

int fw_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 20)
		return FW_E_ARG;
	for (i = 0; s[i]; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return FW_E_ARG;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return FW_E_ARG;
		v = v * 10 + d;
	}
	*out = v;
	return FW_OK;
}

int fw_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len, struct fw_diag *d)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, rc = FW_E_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fw_diag_set(d, FW_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = fw_diag_set(d, FW_E_TOO_LARGE, "%s: %lld bytes, more than the limit of %zu",
		                 path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed", path);
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = 0;
	*out = buf;
	*out_len = got;
	buf = NULL;
	rc = FW_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

#define MAX_COMMIT_FILES 4

int fw_files_commit(const struct fw_file_out *files, size_t n, int overwrite, struct fw_diag *d)
{
	char tmp[MAX_COMMIT_FILES][4096], bak[MAX_COMMIT_FILES][4096];
	int has_bak[MAX_COMMIT_FILES] = {0};
	size_t i, written = 0, published = 0;
	int rc = FW_E_IO;

	if (n > MAX_COMMIT_FILES)
		return fw_diag_set(d, FW_E_INTERNAL, "too many files in one commit");
	for (i = 0; i < n; i++) {
		if (!overwrite && access(files[i].path, F_OK) == 0)
			return fw_diag_set(d, FW_E_EXISTS, "%s: already exists (refusing to overwrite)",
			                   files[i].path);
	}
	for (i = 0; i < n; i++) {
		int fd;

		if ((size_t)snprintf(tmp[i], sizeof(tmp[i]), "%s.tmp-XXXXXX", files[i].path) >=
		    sizeof(tmp[i])) {
			rc = fw_diag_set(d, FW_E_ARG, "%s: path too long", files[i].path);
			goto fail;
		}
		fd = mkstemp(tmp[i]);
		if (fd < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: cannot create: %s", files[i].path,
			                 strerror(errno));
			goto fail;
		}
		written++;
		if (fchmod(fd, files[i].mode) != 0 ||
		    write_all(fd, files[i].data, files[i].len) != 0 || fsync(fd) != 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", files[i].path,
			                 strerror(errno));
			close(fd);
			goto fail;
		}
		if (close(fd) != 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", files[i].path,
			                 strerror(errno));
			goto fail;
		}
		/* replacing: keep the old file under a second name until all of
		 * the new ones are in place, so a failure can put it back */
		if (overwrite && access(files[i].path, F_OK) == 0) {
			size_t plen = strlen(files[i].path);

			memcpy(bak[i], tmp[i], sizeof(bak[i]));
			memcpy(bak[i] + plen, ".bak", 4); /* "<path>.bak-XXXXXX", unique like tmp */
			if (link(files[i].path, bak[i]) != 0) {
				rc = fw_diag_set(d, FW_E_IO, "%s: cannot keep a backup: %s", files[i].path,
				                 strerror(errno));
				goto fail;
			}
			has_bak[i] = 1;
		}
	}
	for (i = 0; i < n; i++) {
		int r = overwrite ? rename(tmp[i], files[i].path) : link(tmp[i], files[i].path);

		if (r != 0) {
			rc = errno == EEXIST
			         ? fw_diag_set(d, FW_E_EXISTS, "%s: already exists (refusing to overwrite)",
			                       files[i].path)
			         : fw_diag_set(d, FW_E_IO, "%s: cannot publish: %s", files[i].path,
			                       strerror(errno));
			goto fail;
		}
		published++;
	}
	for (i = 0; i < n; i++) {
		if (!overwrite)
			unlink(tmp[i]);
		if (has_bak[i])
			unlink(bak[i]);
	}
	return FW_OK;
fail:
	for (i = 0; i < published; i++) {
		if (has_bak[i])
			rename(bak[i], files[i].path);
		else
			unlink(files[i].path);
		has_bak[i] = 0;
	}
	for (i = 0; i < n; i++) {
		if (has_bak[i])
			unlink(bak[i]);
	}
	for (i = 0; i < written; i++)
		unlink(tmp[i]);
	return rc;
}

void fw_time_utc(char out[21])
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = time(NULL);
	uint64_t v;
	struct tm tm;

	if (sde != NULL && fw_parse_u64(sde, &v) == FW_OK)
		now = (time_t)v;
	gmtime_r(&now, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fw_wipe(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}

void fw_b64_encode(const uint8_t *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int fw_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len)
{
	unsigned char buf[1024];
	char again[1400];
	int n;

	/* only the exact length that encodes out_len bytes can be canonical */
	if (out_len > 700 || in_len != 4 * ((out_len + 2) / 3))
		return FW_E_FORMAT;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)in_len);
	if (n < 0)
		return FW_E_FORMAT;
	/* EVP_DecodeBlock is lenient (whitespace, padding bits): re-encode and
	 * compare, so one value has exactly one accepted text */
	EVP_EncodeBlock((unsigned char *)again, buf, (int)out_len);
	if (strlen(again) != in_len || memcmp(again, in, in_len) != 0)
		return FW_E_FORMAT;
	memcpy(out, buf, out_len);
	OPENSSL_cleanse(buf, sizeof(buf));
	return FW_OK;
}

int64_t fw_time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *fw_grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap && p != NULL)
		return p;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		return NULL;
	q = realloc(p, c * elem);
	if (q != NULL)
		*cap = c;
	return q;
}

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int fw_advisory_id_valid(const char *id)
{
	size_t i;

	if (id == NULL || !alnum(id[0]))
		return 0;
	for (i = 0; id[i]; i++) {
		if (i >= FW_ADVISORY_ID_MAX)
			return 0;
		if (!alnum(id[i]) && id[i] != '.' && id[i] != '_' && id[i] != ':' && id[i] != '-')
			return 0;
	}
	return 1;
}
