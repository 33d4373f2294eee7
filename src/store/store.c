#define _POSIX_C_SOURCE 200809L
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"

const char *fw_store_default_path(const char *flag)
{
	const char *env = getenv("FWTRUST_DB");

	if (flag && flag[0])
		return flag;
	if (env && env[0])
		return env;
	return "fwtrust.db";
}

static int pass(struct fw_store *s, int rc, struct fw_diag *d)
{
	if (rc != FW_OK && d)
		*d = s->err;
	return rc;
}

/* A scan stops with the callback's value too: then d keeps what the
 * callback wrote, and only a failure of the store itself is copied. */
static int pass_scan(struct fw_store *s, int rc, struct fw_diag *d)
{
	if (rc != FW_OK && d && s->err.msg[0])
		*d = s->err;
	return rc;
}

int fw_store_open(const char *path, int create, struct fw_store **out, struct fw_diag *d)
{
	struct fw_store *s;
	int rc;

	if (strlen(path) >= sizeof(s->path) - 64)
		return fw_diag_set(d, FW_E_ARG, "%s: path too long", path);
	if (!create && access(path, F_OK) != 0)
		return fw_diag_set(d, FW_E_NOT_FOUND,
		                   "%s: no fwtrust store here (create one with 'fwtrust init')", path);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->ops = &fw_store_sqlite_ops;
	rc = s->ops->open(s, create);
	if (rc != FW_OK) {
		pass(s, rc, d);
		free(s);
		return rc;
	}
	*out = s;
	return FW_OK;
}

void fw_store_close(struct fw_store *s)
{
	if (s == NULL)
		return;
	if (s->in_tx)
		fw_store_rollback(s);
	s->ops->close(s);
	free(s->cr);
	free(s);
}

int fw_store_begin(struct fw_store *s, struct fw_diag *d)
{
	int rc;

	if (s->in_tx || s->in_read)
		return fw_diag_set(d, FW_E_ARG, "a transaction is already open");
	rc = s->ops->begin(s);
	if (rc == FW_OK) {
		s->in_tx = 1;
		s->cr_valid = 0; /* another writer may have appended since */
	}
	return pass(s, rc, d);
}

int fw_store_read_begin(struct fw_store *s, struct fw_diag *d)
{
	int rc;

	if (s->in_tx || s->in_read)
		return fw_diag_set(d, FW_E_ARG, "a transaction is already open");
	rc = s->ops->read(s, 1);
	if (rc == FW_OK)
		s->in_read = 1;
	return pass(s, rc, d);
}

int fw_store_version(struct fw_store *s, uint64_t *v, struct fw_diag *d)
{
	uint64_t dv = 0;
	int rc = s->ops->data_version(s, &dv);

	if (rc != FW_OK)
		return pass(s, rc, d);
	*v = dv << 32 | (s->commits & 0xffffffffu);
	return FW_OK;
}

int fw_store_set_cache(struct fw_store *s, unsigned mib, struct fw_diag *d)
{
	if (mib == 0 || mib > 4096)
		return fw_diag_set(d, FW_E_ARG, "page cache: %u MiB is not 1..4096", mib);
	return pass(s, s->ops->cache(s, mib), d);
}

void fw_store_read_end(struct fw_store *s)
{
	if (s->in_read) {
		(void)s->ops->read(s, 0);
		s->in_read = 0;
	}
}

int fw_store_commit(struct fw_store *s, struct fw_diag *d)
{
	int rc;

	if (!s->in_tx)
		return fw_diag_set(d, FW_E_ARG, "no transaction is open");
	rc = s->ops->commit(s);
	if (rc != FW_OK) {
		fw_store_rollback(s);
		return pass(s, rc, d);
	}
	s->in_tx = 0;
	s->commits++;
	return FW_OK;
}

void fw_store_rollback(struct fw_store *s)
{
	if (s == NULL || !s->in_tx)
		return;
	(void)s->ops->rollback(s);
	s->in_tx = 0;
	s->cr_valid = 0;
}

int fw_store_meta_get(struct fw_store *s, const char *key, char **val, struct fw_diag *d)
{
	return pass(s, s->ops->meta_get(s, key, val), d);
}

int fw_store_meta_set(struct fw_store *s, const char *key, const char *val, struct fw_diag *d)
{
	return pass(s, s->ops->meta_set(s, key, val), d);
}

int fw_store_object_put(struct fw_store *s, const char *kind, const char *id, const char *doc,
                        int replace, struct fw_diag *d)
{
	return pass(s, s->ops->object_put(s, kind, id, doc, replace), d);
}

int fw_store_object_get(struct fw_store *s, const char *kind, const char *id, char **doc,
                        struct fw_diag *d)
{
	return pass(s, s->ops->object_get(s, kind, id, doc), d);
}

int fw_store_object_scan(struct fw_store *s, const char *kind, fw_object_fn fn, void *arg,
                         struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->object_scan(s, kind, fn, arg), d);
}

int fw_store_device_put(struct fw_store *s, const struct fw_device_row *r, int replace,
                        struct fw_diag *d)
{
	return pass(s, s->ops->device_put(s, r, replace), d);
}

int fw_store_device_get(struct fw_store *s, const char *id, struct fw_device_row *r,
                        struct fw_cert_row *c, int *has_c, struct fw_diag *d)
{
	return pass(s, s->ops->device_get(s, id, r, c, has_c), d);
}

int fw_store_device_scan(struct fw_store *s, fw_device_fn fn, void *arg, struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->device_scan(s, fn, arg), d);
}

int fw_store_device_count(struct fw_store *s, uint64_t *n, struct fw_diag *d)
{
	return pass(s, s->ops->device_count(s, n), d);
}

int fw_store_cert_put(struct fw_store *s, const struct fw_cert_row *c, struct fw_diag *d)
{
	return pass(s, s->ops->cert_put(s, c), d);
}

int fw_store_cert_get(struct fw_store *s, const uint8_t sha[32], struct fw_cert_row *c,
                      struct fw_diag *d)
{
	return pass(s, s->ops->cert_get(s, sha, c), d);
}

int fw_store_cert_scan(struct fw_store *s, int only_unverified, fw_cert_fn fn, void *arg,
                       struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->cert_scan(s, only_unverified, fn, arg), d);
}

int fw_store_cert_set_chain(struct fw_store *s, const uint8_t sha[32], int ok, int64_t nb,
                            int64_t na, const char *error, struct fw_diag *d)
{
	return pass(s, s->ops->cert_set_chain(s, sha, ok, nb, na, error), d);
}

int fw_store_cert_set_revoked(struct fw_store *s, const uint8_t sha[32], int revoked,
                              struct fw_diag *d)
{
	return pass(s, s->ops->cert_set_revoked(s, sha, revoked), d);
}

int fw_store_crl_entry_add(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
                           uint64_t *certs_revoked, struct fw_diag *d)
{
	return pass(s, s->ops->crl_entry_add(s, issuer_hash, serial, certs_revoked), d);
}

int fw_store_crl_entry_has(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
                           int *has, struct fw_diag *d)
{
	return pass(s, s->ops->crl_entry_has(s, issuer_hash, serial, has), d);
}

int fw_store_decision_put(struct fw_store *s, uint64_t run, const char *device, uint32_t reasons,
                          uint64_t rec, struct fw_diag *d)
{
	return pass(s, s->ops->decision_put(s, run, device, reasons, rec), d);
}

int fw_store_decision_get(struct fw_store *s, uint64_t run, const char *device, uint32_t *reasons,
                          uint64_t *rec, struct fw_diag *d)
{
	return pass(s, s->ops->decision_get(s, run, device, reasons, rec), d);
}

int fw_store_decision_scan(struct fw_store *s, uint64_t run, fw_decision_fn fn, void *arg,
                           struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->decision_scan(s, run, fn, arg), d);
}

int fw_store_rollout_put(struct fw_store *s, const struct fw_rollout_row *r, int replace,
                         struct fw_diag *d)
{
	return pass(s, s->ops->rollout_put(s, r, replace), d);
}

int fw_store_rollout_get(struct fw_store *s, const char *campaign, const char *device,
                         struct fw_rollout_row *r, struct fw_diag *d)
{
	return pass(s, s->ops->rollout_get(s, campaign, device, r), d);
}

int fw_store_rollout_scan(struct fw_store *s, const char *campaign, int state, int64_t stage,
                          int64_t due_max, fw_rollout_fn fn, void *arg, struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->rollout_scan(s, campaign, state, stage, due_max, fn, arg), d);
}

int fw_store_rollout_device_scan(struct fw_store *s, const char *device, fw_rollout_fn fn,
                                 void *arg, struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->rollout_device_scan(s, device, fn, arg), d);
}

int fw_store_rollout_get_device(struct fw_store *s, const char *campaign, const char *device,
                                struct fw_rollout_row *r, struct fw_device_row *dev,
                                struct fw_cert_row *cert, int *has_dev, int *has_c,
                                struct fw_diag *d)
{
	return pass(s, s->ops->rollout_get_device(s, campaign, device, r, dev, cert, has_dev, has_c),
	            d);
}

int fw_store_target_put(struct fw_store *s, const struct fw_target_row *t, struct fw_diag *d)
{
	return pass(s, s->ops->target_put(s, t), d);
}

int fw_store_target_get(struct fw_store *s, const char *device, struct fw_target_row *t,
                        struct fw_device_row *dev, struct fw_cert_row *cert, int *has_dev,
                        int *has_c, struct fw_diag *d)
{
	return pass(s, s->ops->target_get(s, device, t, dev, cert, has_dev, has_c), d);
}

int fw_store_rollout_scan_devices(struct fw_store *s, const char *campaign, int state,
                                  int64_t stage, fw_rollout_device_fn fn, void *arg,
                                  struct fw_diag *d)
{
	s->err.msg[0] = 0;
	return pass_scan(s, s->ops->rollout_scan_devices(s, campaign, state, stage, fn, arg), d);
}

int fw_store_set_scratch(struct fw_store *s, struct fw_diag *d)
{
	if (s->in_tx)
		return fw_diag_set(d, FW_E_ARG, "a scratch store is set up outside a transaction");
	return pass(s, s->ops->set_scratch(s), d);
}

void fw_device_row_hash(const struct fw_device_row *r, uint8_t out[32])
{
	const char *f[8] = {r->id,        r->product,  r->family,        r->hw_revision,
	                    r->fw_version, r->cohorts, r->support_until, r->lifecycle};
	char buf[18 + 9 * FW_FIELD_MAX + 80], hex[65] = "";
	size_t i, n = 0;

	if (r->has_cert)
		fw_hex_encode(r->cert, 32, hex);
	memcpy(buf, "fwtrust-device/v1\n", 18);
	n = 18;
	for (i = 0; i < 8; i++) {
		size_t k = strnlen(f[i], FW_FIELD_MAX - 1);

		memcpy(buf + n, f[i], k);
		n += k;
		buf[n++] = '\n';
	}
	memcpy(buf + n, hex, strlen(hex));
	n += strlen(hex);
	memcpy(buf + n, r->ident_ok ? "\n1\n" : "\n0\n", 3);
	n += 3;
	fw_sha256((const uint8_t *)buf, n, out);
}

int fw_store_blob_created(const struct fw_store *s)
{
	return s->blob_created;
}

void fw_store_blob_path(const struct fw_store *s, const uint8_t sha[32], char *out, size_t cap)
{
	char hex[65];

	fw_hex_encode(sha, 32, hex);
	snprintf(out, cap, "%s.objects/sha256/%.2s/%s", s->path, hex, hex + 2);
}

static int mkdirs_for(const char *file)
{
	char buf[4200];
	char *p;

	snprintf(buf, sizeof(buf), "%s", file);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Publish tmp under the blob's content address; an existing blob with
 * that address already holds these bytes. */
static int publish(struct fw_store *s, const char *tmp, const uint8_t sha[32], struct fw_diag *d)
{
	char path[4200];
	int linked = -1;

	fw_store_blob_path(s, sha, path, sizeof(path));
	s->blob_created = 0;
	if (mkdirs_for(path) != 0 || ((linked = link(tmp, path)) != 0 && errno != EEXIST)) {
		int e = errno;

		unlink(tmp);
		return fw_diag_set(d, FW_E_IO, "%s: %s", path, strerror(e));
	}
	s->blob_created = linked == 0;
	unlink(tmp);
	return FW_OK;
}

#define BLOB_BLOCK (1024 * 1024)

int fw_store_blob_put_file(struct fw_store *s, const char *src, uint8_t sha[32], uint64_t *size,
                           struct fw_diag *d)
{
	char tmp[4200];
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	unsigned int hl = 32;
	int in = -1, out = -1, rc = FW_E_IO;

	snprintf(tmp, sizeof(tmp), "%s.objects/tmp/blob-XXXXXX", s->path);
	if (mkdirs_for(tmp) != 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", tmp, strerror(errno));
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", src, strerror(errno));
	out = mkstemp(tmp);
	buf = malloc(BLOB_BLOCK);
	md = EVP_MD_CTX_new();
	if (out < 0 || buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = fw_diag_set(d, FW_E_IO, "%s: cannot create a blob", tmp);
		goto out;
	}
	for (;;) {
		ssize_t r = read(in, buf, BLOB_BLOCK);
		size_t off = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fw_diag_set(d, FW_E_IO, "%s: read failed: %s", src, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)r);
		while (off < (size_t)r) {
			ssize_t w = write(out, buf + off, (size_t)r - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = fw_diag_set(d, FW_E_IO, "%s: write failed: %s", tmp, strerror(errno));
				goto out;
			}
			off += (size_t)w;
		}
		total += (uint64_t)r;
	}
	if (fsync(out) != 0 || EVP_DigestFinal_ex(md, sha, &hl) != 1) {
		rc = fw_diag_set(d, FW_E_IO, "%s: cannot finish the blob", tmp);
		goto out;
	}
	close(out);
	out = -1;
	rc = publish(s, tmp, sha, d);
	if (rc == FW_OK)
		*size = total;
	tmp[0] = '\0';
out:
	if (out >= 0)
		close(out);
	if (tmp[0])
		unlink(tmp);
	close(in);
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

int fw_store_blob_put(struct fw_store *s, const uint8_t *data, size_t len, uint8_t sha[32],
                      struct fw_diag *d)
{
	char tmp[4200];
	unsigned int hl = 32;
	size_t off = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.objects/tmp/blob-XXXXXX", s->path);
	if (mkdirs_for(tmp) != 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", tmp, strerror(errno));
	fd = mkstemp(tmp);
	if (fd < 0)
		return fw_diag_set(d, FW_E_IO, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return fw_diag_set(d, FW_E_IO, "%s: write failed", tmp);
	}
	close(fd);
	EVP_Digest(data, len, sha, &hl, EVP_sha256(), NULL);
	return publish(s, tmp, sha, d);
}
