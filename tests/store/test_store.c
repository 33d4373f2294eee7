/*
 * The store suite: written against store.h only, run for every backend
 * in `backends` (today SQLite; a PostgreSQL backend joins the table and
 * must pass the same tests). Backend-specific guard rails are at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "harness.h"
#include "store/store.h"

static int seq;

/* A fresh store path for the current backend. */
static const char *fresh(void)
{
	static char path[600];

	snprintf(path, sizeof(path), "%s/store-%d.db", harness_tmpdir(), ++seq);
	return path;
}

static struct fw_store *open_new(void)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};

	if (fw_store_open(fresh(), 1, &s, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "open: %s", d.msg);
	return s;
}

static void t_open_missing_and_create(void)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	const char *p = fresh();

	CHECK_EQ(fw_store_open(p, 0, &s, &d), FW_E_NOT_FOUND);
	CHECK(strstr(d.msg, "fwtrust init") != NULL);
	CHECK(s == NULL);
	CHECK_EQ(fw_store_open(p, 1, &s, &d), FW_OK);
	fw_store_close(s);
	s = NULL;
	/* reopening applies no migration twice and keeps data */
	CHECK_EQ(fw_store_open(p, 0, &s, &d), FW_OK);
	fw_store_close(s);
	fw_store_close(NULL);
}

static void t_meta(void)
{
	struct fw_store *s = open_new();
	struct fw_diag d = {{0}};
	char *v = NULL;

	if (!s)
		return;
	CHECK_EQ(fw_store_meta_get(s, "origin", &v, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_meta_set(s, "origin", "a/b", &d), FW_OK);
	CHECK_EQ(fw_store_meta_set(s, "origin", "c/d", &d), FW_OK);
	CHECK_EQ(fw_store_meta_get(s, "origin", &v, &d), FW_OK);
	CHECK(v && strcmp(v, "c/d") == 0);
	free(v);
	fw_store_close(s);
}

static int count_obj(void *arg, const char *id, const char *doc)
{
	(void)id;
	(void)doc;
	(*(int *)arg)++;
	return 0;
}

static void t_objects_and_transactions(void)
{
	struct fw_store *s = open_new();
	struct fw_diag d = {{0}};
	char *doc = NULL;
	int n = 0;

	if (!s)
		return;
	CHECK_EQ(fw_store_object_put(s, "key", "a", "{\"x\":1}", 0, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(s, "key", "a", "{\"x\":2}", 0, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_store_object_put(s, "key", "a", "{\"x\":3}", 1, &d), FW_OK);
	CHECK_EQ(fw_store_object_get(s, "key", "a", &doc, &d), FW_OK);
	CHECK(doc && strcmp(doc, "{\"x\":3}") == 0);
	free(doc);
	CHECK_EQ(fw_store_object_get(s, "key", "b", &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_object_get(s, "release", "a", &doc, &d), FW_E_NOT_FOUND);

	/* a rolled-back transaction leaves nothing */
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_begin(s, &d), FW_E_ARG);
	CHECK_EQ(fw_store_object_put(s, "key", "b", "{}", 0, &d), FW_OK);
	fw_store_rollback(s);
	CHECK_EQ(fw_store_object_get(s, "key", "b", &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_commit(s, &d), FW_E_ARG);
	/* a committed one keeps it */
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(s, "key", "b", "{}", 0, &d), FW_OK);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	CHECK_EQ(fw_store_object_scan(s, "key", count_obj, &n, &d), FW_OK);
	CHECK_EQ(n, 2);
	fw_store_close(s);
}

struct leaves {
	uint64_t next;
	int bad;
};

static int check_leaf(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                      size_t len)
{
	struct leaves *l = arg;

	if (idx != l->next || lh[0] != (uint8_t)idx || len != 5 || memcmp(rec, "rec", 3) != 0)
		l->bad++;
	l->next++;
	return 0;
}

static void t_log_rows(void)
{
	struct fw_store *s = open_new();
	uint8_t lh[32], state[40], got_state[40], (*hashes)[32];
	uint8_t *rec = NULL;
	size_t len = 0, slen = 0;
	struct leaves l = {0, 0};
	uint64_t i, n = 0, got = 0;
	char data[8];

	if (!s)
		return;
	CHECK_EQ(s->ops->log_state(s, state, sizeof(state), &slen), FW_OK);
	CHECK_EQ(slen, 0);
	CHECK_EQ(fw_store_begin(s, NULL), FW_OK);
	for (i = 0; i < 20; i++) {
		memset(lh, (int)i, 32);
		snprintf(data, sizeof(data), "rec%02u", (unsigned)i);
		memset(state, (int)i, sizeof(state));
		CHECK_EQ(s->ops->log_append(s, i, lh, (const uint8_t *)data, 5, 1000 + (int64_t)i,
		                            state, sizeof(state)),
		         FW_OK);
	}
	/* an index is taken once */
	CHECK_EQ(s->ops->log_append(s, 3, lh, (const uint8_t *)"x", 1, 1, state, sizeof(state)),
	         FW_E_STORE);
	CHECK_EQ(fw_store_commit(s, NULL), FW_OK);

	CHECK_EQ(s->ops->log_count(s, &n), FW_OK);
	CHECK_EQ(n, 20);
	CHECK_EQ(s->ops->log_state(s, got_state, sizeof(got_state), &slen), FW_OK);
	CHECK(slen == sizeof(state) && got_state[0] == 19);
	CHECK_EQ(s->ops->log_get(s, 7, lh, &rec, &len), FW_OK);
	CHECK(len == 5 && memcmp(rec, "rec07", 5) == 0 && lh[0] == 7);
	free(rec);
	CHECK_EQ(s->ops->log_get(s, 20, lh, &rec, &len), FW_E_NOT_FOUND);
	CHECK_EQ(s->ops->log_scan(s, 0, check_leaf, &l), FW_OK);
	CHECK(l.next == 20 && l.bad == 0);
	l.next = 15;
	CHECK_EQ(s->ops->log_scan(s, 15, check_leaf, &l), FW_OK);
	CHECK(l.next == 20 && l.bad == 0);
	hashes = malloc(20 * 32);
	CHECK_EQ(s->ops->log_hashes(s, 12, hashes, &got), FW_OK);
	CHECK(got == 12 && hashes[11][0] == 11);
	free(hashes);
	fw_store_close(s);
}

struct cps {
	uint64_t sizes[8];
	int n;
};

static int on_cp(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct cps *c = arg;

	(void)root;
	(void)note;
	if (c->n < 8)
		c->sizes[c->n++] = size;
	return 0;
}

static void t_checkpoints(void)
{
	struct fw_store *s = open_new();
	uint8_t root[32] = {1};
	struct cps c = {{0}, 0};

	if (!s)
		return;
	CHECK_EQ(s->ops->checkpoint_add(s, 5, root, "note5\n", 1), FW_OK);
	CHECK_EQ(s->ops->checkpoint_add(s, 2, root, "note2\n", 1), FW_OK);
	CHECK_EQ(s->ops->checkpoint_add(s, 5, root, "other\n", 1), FW_E_CONFLICT);
	CHECK_EQ(s->ops->checkpoint_scan(s, on_cp, &c), FW_OK);
	CHECK(c.n == 2 && c.sizes[0] == 2 && c.sizes[1] == 5); /* ascending */
	fw_store_close(s);
}

static void t_blobs(void)
{
	struct fw_store *s = open_new();
	struct fw_diag d = {{0}};
	uint8_t a[32], b[32], want[32];
	char path[4300], src[700];
	uint64_t size = 0;
	unsigned char *got;
	size_t len;

	if (!s)
		return;
	CHECK_EQ(fw_store_blob_put(s, (const uint8_t *)"hello", 5, a, &d), FW_OK);
	CHECK_EQ(fw_store_blob_created(s), 1);
	fw_sha256((const uint8_t *)"hello", 5, want);
	CHECK(memcmp(a, want, 32) == 0);
	fw_store_blob_path(s, a, path, sizeof(path));
	got = harness_read(path, &len);
	CHECK(got && len == 5 && memcmp(got, "hello", 5) == 0);
	free(got);
	/* the same content from a file: the same address, kept once */
	snprintf(src, sizeof(src), "%s/blob-src", harness_tmpdir());
	CHECK_EQ(harness_write(src, "hello", 5), 0);
	CHECK_EQ(fw_store_blob_put_file(s, src, b, &size, &d), FW_OK);
	CHECK_EQ(fw_store_blob_created(s), 0);
	CHECK(memcmp(a, b, 32) == 0 && size == 5);
	CHECK_EQ(fw_store_blob_put_file(s, "/nonexistent/x", b, &size, &d), FW_E_IO);
	CHECK(strstr(d.msg, "/nonexistent/x") != NULL);
	fw_store_close(s);
}

static void t_default_path(void)
{
	unsetenv("FWTRUST_DB");
	CHECK(strcmp(fw_store_default_path(NULL), "fwtrust.db") == 0);
	setenv("FWTRUST_DB", "/x/env.db", 1);
	CHECK(strcmp(fw_store_default_path(NULL), "/x/env.db") == 0);
	CHECK(strcmp(fw_store_default_path("flag.db"), "flag.db") == 0);
	unsetenv("FWTRUST_DB");
}

/* ---- SQLite backend specifics ---- */

static void t_sqlite_guard_rails(void)
{
	struct fw_store *s = open_new();
	uint8_t lh[32] = {0}, st[8] = {0};
	char path[4096], *err = NULL;
	sqlite3 *db;

	if (!s)
		return;
	snprintf(path, sizeof(path), "%s", s->path);
	CHECK_EQ(fw_store_begin(s, NULL), FW_OK);
	CHECK_EQ(s->ops->log_append(s, 0, lh, (const uint8_t *)"r", 1, 1, st, 8), FW_OK);
	CHECK_EQ(fw_store_commit(s, NULL), FW_OK);
	CHECK_EQ(s->ops->checkpoint_add(s, 1, lh, "n\n", 1), FW_OK);
	fw_store_close(s);
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	/* WAL and FULL are what the store promises */
	CHECK(sqlite3_exec(db, "UPDATE evidence_leaves SET record = 'x'", NULL, NULL, &err) != SQLITE_OK);
	CHECK(err && strstr(err, "append-only") != NULL);
	sqlite3_free(err);
	CHECK(sqlite3_exec(db, "DELETE FROM evidence_leaves", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE evidence_checkpoints SET note = 'x'", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(db, "DELETE FROM evidence_checkpoints", NULL, NULL, NULL) != SQLITE_OK);
	/* a schema from a newer fwtrust is refused, not misread */
	CHECK_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	{
		struct fw_diag d = {{0}};

		s = NULL;
		CHECK_EQ(fw_store_open(path, 0, &s, &d), FW_E_STORE);
		CHECK(strstr(d.msg, "newer") != NULL);
		CHECK(s == NULL);
	}
}

static void dev_row(struct fw_device_row *r, const char *id, const char *version)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->product, sizeof(r->product), "controller");
	snprintf(r->family, sizeof(r->family), "ctl-a");
	snprintf(r->hw_revision, sizeof(r->hw_revision), "B");
	snprintf(r->fw_version, sizeof(r->fw_version), "%s", version);
	snprintf(r->support_until, sizeof(r->support_until), "2031-12-31");
	snprintf(r->lifecycle, sizeof(r->lifecycle), "active");
	r->rec = 1;
}

static void ro_row(struct fw_rollout_row *r, const char *device, int state, uint32_t stage)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->campaign, sizeof(r->campaign), "c-0001");
	snprintf(r->device, sizeof(r->device), "%s", device);
	r->state = state;
	r->stage = stage;
	r->rec = 7;
	r->rec_lh[0] = 7;
}

struct joined {
	int n, with_dev, with_cert;
	char order[4][FW_FIELD_MAX];
};

static int keep_joined(void *arg, const struct fw_rollout_row *r, const struct fw_device_row *dev,
                       const struct fw_cert_row *cert)
{
	struct joined *j = arg;

	if (j->n < 4)
		snprintf(j->order[j->n], sizeof(j->order[0]), "%s", r->device);
	j->n++;
	if (dev) {
		j->with_dev++;
		if (strcmp(dev->id, r->device) != 0)
			j->with_dev = -100; /* the wrong device joined */
	}
	if (cert)
		j->with_cert++;
	return 0;
}

/* Rollout rows read with their devices (one read), devices rewritten in
 * place (an UPDATE, an INSERT when absent), and a scratch store that
 * still rolls back. */
static void t_rollout_joined(void)
{
	struct fw_store *s = open_new();
	struct fw_diag d = {{0}};
	struct fw_device_row dev, got;
	struct fw_rollout_row r;
	struct fw_cert_row cert, c;
	struct joined j;
	uint8_t der[3] = {1, 2, 3};
	char *doc = NULL;
	int has_dev = -1, has_c = -1;

	if (!s)
		return;
	CHECK_EQ(fw_store_set_scratch(s, &d), FW_OK);
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_set_scratch(s, &d), FW_E_ARG);
	/* devices: d-2 with a certificate, d-1 without, d-3 none at all */
	memset(&cert, 0, sizeof(cert));
	cert.sha256[0] = 0xc5;
	cert.chain_ok = 1;
	cert.der = der;
	cert.der_len = sizeof(der);
	CHECK_EQ(fw_store_cert_put(s, &cert, &d), FW_OK);
	dev_row(&dev, "d-2", "2.3.0");
	dev.has_cert = 1;
	dev.cert[0] = 0xc5;
	CHECK_EQ(fw_store_device_put(s, &dev, 1, &d), FW_OK); /* replace, absent: inserted */
	dev_row(&dev, "d-1", "2.3.0");
	CHECK_EQ(fw_store_device_put(s, &dev, 0, &d), FW_OK);
	CHECK_EQ(fw_store_device_put(s, &dev, 0, &d), FW_E_CONFLICT);
	dev_row(&dev, "d-1", "2.4.1");
	CHECK_EQ(fw_store_device_put(s, &dev, 1, &d), FW_OK); /* replace, present: updated */
	CHECK_EQ(fw_store_device_get(s, "d-1", &got, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(got.fw_version, "2.4.1") == 0);
	ro_row(&r, "d-2", 0, 1);
	CHECK_EQ(fw_store_rollout_put(s, &r, 0, &d), FW_OK);
	ro_row(&r, "d-1", 0, 1);
	CHECK_EQ(fw_store_rollout_put(s, &r, 0, &d), FW_OK);
	ro_row(&r, "d-3", 0, 1);
	CHECK_EQ(fw_store_rollout_put(s, &r, 0, &d), FW_OK);
	ro_row(&r, "d-4", 1, 1);
	CHECK_EQ(fw_store_rollout_put(s, &r, 0, &d), FW_OK);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);

	/* one row with its device and certificate */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fw_store_rollout_get_device(s, "c-0001", "d-2", &r, &got, &c, &has_dev, &has_c, &d),
	         FW_OK);
	CHECK(strcmp(r.device, "d-2") == 0 && r.rec == 7 && r.rec_lh[0] == 7 && r.stage == 1);
	CHECK(has_dev == 1 && has_c == 1 && strcmp(got.id, "d-2") == 0 && got.has_cert);
	CHECK(c.sha256[0] == 0xc5 && c.chain_ok == 1 && c.der == NULL);
	CHECK_EQ(fw_store_rollout_get_device(s, "c-0001", "d-1", &r, &got, &c, &has_dev, &has_c, &d),
	         FW_OK);
	CHECK(has_dev == 1 && has_c == 0 && strcmp(got.fw_version, "2.4.1") == 0);
	CHECK_EQ(fw_store_rollout_get_device(s, "c-0001", "d-3", &r, &got, &c, &has_dev, &has_c, &d),
	         FW_OK);
	CHECK(has_dev == 0 && strcmp(r.device, "d-3") == 0);
	CHECK_EQ(fw_store_rollout_get_device(s, "c-0001", "d-9", &r, &got, &c, &has_dev, &has_c, &d),
	         FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_rollout_get_device(s, "c-0002", "d-1", &r, &got, &c, &has_dev, &has_c, &d),
	         FW_E_NOT_FOUND);

	/* the rows of a state and stage, in rollout_scan's order, joined */
	memset(&j, 0, sizeof(j));
	CHECK_EQ(fw_store_rollout_scan_devices(s, "c-0001", 0, 1, keep_joined, &j, &d), FW_OK);
	CHECK_EQ(j.n, 3);
	CHECK_EQ(j.with_dev, 2);
	CHECK_EQ(j.with_cert, 1);
	CHECK(strcmp(j.order[0], "d-1") == 0 && strcmp(j.order[1], "d-2") == 0 &&
	      strcmp(j.order[2], "d-3") == 0);
	memset(&j, 0, sizeof(j));
	CHECK_EQ(fw_store_rollout_scan_devices(s, "c-0001", -1, -1, keep_joined, &j, &d), FW_OK);
	CHECK_EQ(j.n, 4);
	CHECK(strcmp(j.order[3], "d-4") == 0);
	memset(&j, 0, sizeof(j));
	CHECK_EQ(fw_store_rollout_scan_devices(s, "c-0001", 0, 2, keep_joined, &j, &d), FW_OK);
	CHECK_EQ(j.n, 0);

	/* the scratch store still rolls back whole */
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(s, "key", "x", "{}", 0, &d), FW_OK);
	ro_row(&r, "d-1", 3, 1);
	CHECK_EQ(fw_store_rollout_put(s, &r, 1, &d), FW_OK);
	fw_store_rollback(s);
	CHECK_EQ(fw_store_object_get(s, "key", "x", &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_rollout_get(s, "c-0001", "d-1", &r, &d), FW_OK);
	CHECK_EQ(r.state, 0);
	fw_store_close(s);
}

/* fw_store_version changes with any commit (this connection's or
 * another's) and with nothing else; read snapshots see one state */
static void t_version_and_snapshots(void)
{
	struct fw_store *s = open_new(), *o = NULL;
	struct fw_diag d = {{0}};
	uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;
	char *doc = NULL;

	if (!s)
		return;
	CHECK_EQ(fw_store_open(s->path, 0, &o, &d), FW_OK);
	if (!o) {
		fw_store_close(s);
		return;
	}
	CHECK_EQ(fw_store_version(s, &v0, &d), FW_OK);
	CHECK_EQ(fw_store_version(s, &v1, &d), FW_OK);
	CHECK_EQ(v1, v0); /* nothing happened */
	CHECK_EQ(fw_store_object_get(s, "key", "x", &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_store_version(s, &v1, &d), FW_OK);
	CHECK_EQ(v1, v0); /* reading changes nothing */
	/* another connection commits */
	CHECK_EQ(fw_store_begin(o, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(o, "key", "x", "{\"n\":1}", 0, &d), FW_OK);
	CHECK_EQ(fw_store_commit(o, &d), FW_OK);
	CHECK_EQ(fw_store_version(s, &v2, &d), FW_OK);
	CHECK(v2 != v1);
	/* this connection commits */
	CHECK_EQ(fw_store_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(s, "key", "y", "{}", 0, &d), FW_OK);
	CHECK_EQ(fw_store_commit(s, &d), FW_OK);
	CHECK_EQ(fw_store_version(s, &v3, &d), FW_OK);
	CHECK(v3 != v2);
	/* a snapshot: another connection's commit is not seen until it ends */
	CHECK_EQ(fw_store_read_begin(s, &d), FW_OK);
	CHECK_EQ(fw_store_read_begin(s, &d), FW_E_ARG);
	CHECK_EQ(fw_store_begin(s, &d), FW_E_ARG);
	CHECK_EQ(fw_store_object_get(s, "key", "x", &doc, &d), FW_OK);
	CHECK(doc && strcmp(doc, "{\"n\":1}") == 0);
	free(doc);
	doc = NULL;
	CHECK_EQ(fw_store_begin(o, &d), FW_OK);
	CHECK_EQ(fw_store_object_put(o, "key", "x", "{\"n\":2}", 1, &d), FW_OK);
	CHECK_EQ(fw_store_commit(o, &d), FW_OK);
	CHECK_EQ(fw_store_object_get(s, "key", "x", &doc, &d), FW_OK);
	CHECK(doc && strcmp(doc, "{\"n\":1}") == 0);
	free(doc);
	doc = NULL;
	fw_store_read_end(s);
	fw_store_read_end(s); /* harmless twice */
	CHECK_EQ(fw_store_object_get(s, "key", "x", &doc, &d), FW_OK);
	CHECK(doc && strcmp(doc, "{\"n\":2}") == 0);
	free(doc);
	CHECK_EQ(fw_store_set_cache(s, 0, &d), FW_E_ARG);
	CHECK_EQ(fw_store_set_cache(s, 64, &d), FW_OK);
	fw_store_close(o);
	fw_store_close(s);
}

static void t_sqlite_not_a_database(void)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char path[600];

	snprintf(path, sizeof(path), "%s/garbage.db", harness_tmpdir());
	CHECK_EQ(harness_write(path, "this is not a database, just text in a file ....", 48), 0);
	CHECK_EQ(fw_store_open(path, 0, &s, &d), FW_E_STORE);
	CHECK(strstr(d.msg, "garbage.db") != NULL);
}

static const struct harness_test tests[] = {
    {"open_missing_and_create", t_open_missing_and_create},
    {"meta", t_meta},
    {"objects_and_transactions", t_objects_and_transactions},
    {"log_rows", t_log_rows},
    {"checkpoints", t_checkpoints},
    {"blobs", t_blobs},
    {"default_path", t_default_path},
    {"rollout_joined", t_rollout_joined},
    {"sqlite_guard_rails", t_sqlite_guard_rails},
    {"sqlite_not_a_database", t_sqlite_not_a_database},
    {"version_and_snapshots", t_version_and_snapshots},
};
HARNESS_MAIN(tests)
