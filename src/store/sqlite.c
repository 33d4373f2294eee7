/*
 * SQLite backend of the store: WAL, synchronous=FULL, numbered migrations
 * applied on open, append-only evidence tables guarded by triggers.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"

struct sq {
	sqlite3 *db;
	sqlite3_stmt *append, *append_state, *get_leaf, *hashes;
	/* fleet statements, prepared on first use */
	sqlite3_stmt *dev_insert, *dev_update, *dev_get, *cert_get, *cert_put, *decision_put,
	    *crl_has, *ro_insert, *ro_update, *ro_get, *ro_get_dev,
	    *tg_get, *tg_put, *obj_get, *ro_dev_scan,
	    *rd_begin, *rd_end, *dv;
	/* the tree state after the last append of the open transaction,
	 * written once at commit, in the same transaction */
	uint8_t pending[8 + 64 * 32];
	size_t pending_len;
};

static int stmt(struct fw_store *s, sqlite3_stmt **st, const char *sql, const char *what);
static struct sq *SQ(struct fw_store *s)
{
	return (struct sq *)s->impl;
}

static int fail(struct fw_store *s, int rc, const char *what)
{
	return fw_diag_set(&s->err, rc, "%s: %s: %s", s->path, what, sqlite3_errmsg(SQ(s)->db));
}

/* Schema migrations: index i brings user_version i to i+1. Append only. */
static const char *const migrations[] = {
    /* 1: evidence log, checkpoints, settings, registry objects */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE evidence_leaves ("
    "  idx INTEGER PRIMARY KEY,"
    "  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32),"
    "  record BLOB NOT NULL,"
    "  received_ms INTEGER NOT NULL);"
    "CREATE TABLE evidence_state (id INTEGER PRIMARY KEY CHECK (id = 1), range BLOB NOT NULL);"
    "CREATE TABLE evidence_checkpoints ("
    "  size INTEGER PRIMARY KEY,"
    "  root BLOB NOT NULL CHECK (length(root) = 32),"
    "  note TEXT NOT NULL,"
    "  signed_ms INTEGER NOT NULL);"
    "CREATE TABLE objects (kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
    "  PRIMARY KEY (kind, id));"
    /* guard rails: the Merkle log is what proves, these stop accidents */
    "CREATE TRIGGER evidence_leaves_no_update BEFORE UPDATE ON evidence_leaves"
    "  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
    "CREATE TRIGGER evidence_leaves_no_delete BEFORE DELETE ON evidence_leaves"
    "  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
    "CREATE TRIGGER evidence_checkpoints_no_update BEFORE UPDATE ON evidence_checkpoints"
    "  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
    "CREATE TRIGGER evidence_checkpoints_no_delete BEFORE DELETE ON evidence_checkpoints"
    "  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;",
    /* 2: the fleet: devices, certificates, revoked serials, decisions */
    "CREATE TABLE devices ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  product TEXT NOT NULL, family TEXT NOT NULL, hw_revision TEXT NOT NULL,"
    "  fw_version TEXT NOT NULL, cohorts TEXT NOT NULL, support_until TEXT NOT NULL,"
    "  lifecycle TEXT NOT NULL,"
    "  cert BLOB CHECK (cert IS NULL OR length(cert) = 32),"
    "  ident_ok INTEGER NOT NULL,"
    "  rec INTEGER NOT NULL,"
    "  rec_lh BLOB NOT NULL CHECK (length(rec_lh) = 32)) WITHOUT ROWID;"
    "CREATE TABLE certs ("
    "  sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(sha256) = 32),"
    "  der BLOB NOT NULL,"
    "  issuer_hash BLOB NOT NULL, serial TEXT NOT NULL,"
    "  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
    "  chain_ok INTEGER NOT NULL, chain_error TEXT NOT NULL,"
    "  revoked INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX certs_by_serial ON certs (issuer_hash, serial);"
    "CREATE TABLE crl_entries (issuer_hash BLOB NOT NULL, serial TEXT NOT NULL,"
    "  PRIMARY KEY (issuer_hash, serial)) WITHOUT ROWID;"
    "CREATE TABLE decisions ("
    "  run INTEGER NOT NULL, device TEXT NOT NULL, reasons INTEGER NOT NULL,"
    "  rec INTEGER NOT NULL,"
    "  PRIMARY KEY (run, device)) WITHOUT ROWID;"
    "CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions"
    "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
    "CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions"
    "  BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;"
    "CREATE TRIGGER crl_entries_no_delete BEFORE DELETE ON crl_entries"
    "  BEGIN SELECT RAISE(ABORT, 'revocations are permanent'); END;",
    /* 3: a row written by a device import knows its position in the file
     * (its entry in the import's kept row hashes) */
    "ALTER TABLE devices ADD COLUMN rec_pos INTEGER NOT NULL DEFAULT 0;",
    /* 4: each device's part in each campaign */
    "CREATE TABLE rollout ("
    "  campaign TEXT NOT NULL, device TEXT NOT NULL,"
    "  stage INTEGER NOT NULL, state INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL, failures INTEGER NOT NULL, reasons INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  rec INTEGER NOT NULL,"
    "  rec_lh BLOB NOT NULL CHECK (length(rec_lh) = 32),"
    "  PRIMARY KEY (campaign, device)) WITHOUT ROWID;"
    "CREATE INDEX rollout_by_state ON rollout (campaign, state, stage, due_ms);"
    "CREATE INDEX rollout_by_device ON rollout (device);",
    /* 5: the device API's view of a device: its token (hashed), its agent
     * type and the attributes it reported (configData) */
    "CREATE TABLE targets ("
    "  device TEXT PRIMARY KEY,"
    "  token_sha256 BLOB NOT NULL CHECK (length(token_sha256) = 32),"
    "  agent TEXT NOT NULL, issued_ms INTEGER NOT NULL,"
    "  attrs TEXT NOT NULL, attrs_ms INTEGER NOT NULL,"
    "  rec INTEGER NOT NULL,"
    "  rec_lh BLOB NOT NULL CHECK (length(rec_lh) = 32)) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int exec(struct fw_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(SQ(s)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, what);
	return FW_OK;
}

static int user_version(struct fw_store *s, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading the schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return *v < 0 ? fail(s, FW_E_STORE, "reading the schema version") : FW_OK;
}

static int migrate(struct fw_store *s)
{
	char sql[64];
	int v = 0, rc;

	rc = exec(s, "BEGIN IMMEDIATE", "migration");
	if (rc != FW_OK)
		return rc;
	rc = user_version(s, &v);
	if (rc == FW_OK && v > SCHEMA_VERSION)
		rc = fw_diag_set(&s->err, FW_E_STORE,
		                 "%s: schema version %d is newer than this fwtrust (%d)", s->path, v,
		                 SCHEMA_VERSION);
	for (; rc == FW_OK && v < SCHEMA_VERSION; v++) {
		rc = exec(s, migrations[v], "migration");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (rc == FW_OK)
			rc = exec(s, sql, "migration");
	}
	if (rc != FW_OK) {
		sqlite3_exec(SQ(s)->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return exec(s, "COMMIT", "migration");
}

static void sq_close(struct fw_store *s)
{
	struct sq *q = SQ(s);

	if (q == NULL)
		return;
	sqlite3_finalize(q->append);
	sqlite3_finalize(q->append_state);
	sqlite3_finalize(q->get_leaf);
	sqlite3_finalize(q->hashes);
	sqlite3_finalize(q->dev_insert);
	sqlite3_finalize(q->dev_update);
	sqlite3_finalize(q->dev_get);
	sqlite3_finalize(q->cert_get);
	sqlite3_finalize(q->cert_put);
	sqlite3_finalize(q->decision_put);
	sqlite3_finalize(q->crl_has);
	sqlite3_finalize(q->ro_insert);
	sqlite3_finalize(q->ro_update);
	sqlite3_finalize(q->ro_get);
	sqlite3_finalize(q->ro_get_dev);
	sqlite3_finalize(q->tg_get);
	sqlite3_finalize(q->tg_put);
	sqlite3_finalize(q->obj_get);
	sqlite3_finalize(q->ro_dev_scan);
	sqlite3_finalize(q->rd_begin);
	sqlite3_finalize(q->rd_end);
	sqlite3_finalize(q->dv);
	sqlite3_close(q->db);
	free(q);
	s->impl = NULL;
}

static int sq_open(struct fw_store *s, int create)
{
	struct sq *q = calloc(1, sizeof(*q));
	/* NOMUTEX: a handle is used by one thread at a time (store.h), so
	 * SQLite's per-call mutex is pure cost: 3% of a simulated campaign */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	if (q == NULL)
		return fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	s->impl = q;
	{
		/* SQLite's memory statistics take a global mutex on every
		 * allocation, and nothing reads them: off, before the first
		 * connection (later, sqlite3_config refuses and they stay on).
		 * The first open happens before any other thread exists. */
		static int once;

		if (!once) {
			once = 1;
			(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		}
	}
	if (sqlite3_open_v2(s->path, &q->db, flags, NULL) != SQLITE_OK) {
		rc = q->db ? fail(s, create ? FW_E_STORE : FW_E_NOT_FOUND, "cannot open")
		           : fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
		sq_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(q->db, 1);
	/* a second process waits for the writer instead of failing at once */
	sqlite3_busy_timeout(q->db, 10000);
	/* large pages: a million-row transaction is written (and
	 * checkpointed) in a quarter of the system calls. Measured with
	 * bench_fleet and bench_log: 16 KiB pages beat 4 KiB for imports,
	 * eligibility runs, batched appends and the audit alike; a larger page
	 * cache (256 MiB) made all of them slower. Only takes effect when the
	 * file is created. */
	rc = exec(s, "PRAGMA page_size = 16384", "setting the page size");
	if (rc == FW_OK)
		rc = exec(s, "PRAGMA journal_mode = WAL", "enabling WAL");
	if (rc == FW_OK)
		rc = exec(s, "PRAGMA synchronous = FULL", "setting synchronous=FULL");
	if (rc == FW_OK)
		rc = exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys");
	if (rc == FW_OK)
		rc = migrate(s);
	if (rc == FW_OK &&
	    (sqlite3_prepare_v3(q->db,
	                        "INSERT INTO evidence_leaves (idx, leaf_hash, record, received_ms) "
	                        "VALUES (?, ?, ?, ?)",
	                        -1, SQLITE_PREPARE_PERSISTENT, &q->append, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(q->db,
	                        "INSERT INTO evidence_state (id, range) VALUES (1, ?) "
	                        "ON CONFLICT (id) DO UPDATE SET range = excluded.range",
	                        -1, SQLITE_PREPARE_PERSISTENT, &q->append_state, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(q->db,
	                        "SELECT leaf_hash, record FROM evidence_leaves WHERE idx = ?", -1,
	                        SQLITE_PREPARE_PERSISTENT, &q->get_leaf, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v3(q->db,
	                        "SELECT idx, leaf_hash FROM evidence_leaves WHERE idx < ? ORDER BY idx",
	                        -1, SQLITE_PREPARE_PERSISTENT, &q->hashes, NULL) != SQLITE_OK))
		rc = fail(s, FW_E_STORE, "preparing statements");
	if (rc != FW_OK)
		sq_close(s);
	return rc;
}

static int sq_begin(struct fw_store *s)
{
	/* IMMEDIATE: take the write lock now, so the leaf index read inside the
	 * transaction is the one this writer appends at */
	return exec(s, "BEGIN IMMEDIATE", "begin");
}

static int write_state(struct fw_store *s)
{
	struct sq *q = SQ(s);
	int rc;

	sqlite3_reset(q->append_state);
	sqlite3_bind_blob(q->append_state, 1, q->pending, (int)q->pending_len, SQLITE_STATIC);
	rc = sqlite3_step(q->append_state);
	sqlite3_reset(q->append_state);
	return rc == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "updating the log state");
}

static int sq_commit(struct fw_store *s)
{
	int rc = FW_OK;

	if (SQ(s)->pending_len)
		rc = write_state(s);
	SQ(s)->pending_len = 0;
	return rc == FW_OK ? exec(s, "COMMIT", "commit") : rc;
}

static int sq_rollback(struct fw_store *s)
{
	SQ(s)->pending_len = 0;
	return exec(s, "ROLLBACK", "rollback");
}

static int sq_meta_get(struct fw_store *s, const char *key, char **val)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(s, FW_E_STORE, "reading settings");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*val = strdup((const char *)sqlite3_column_text(st, 0));
		rc = *val ? FW_OK : fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "%s: setting '%s' is not set", s->path, key);
	} else {
		rc = fail(s, FW_E_STORE, "reading settings");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_meta_set(struct fw_store *s, const char *key, const char *val)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "INSERT INTO meta (key, value) VALUES (?, ?) "
	                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "writing settings");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "writing settings");
	sqlite3_finalize(st);
	return rc;
}

static int sq_log_state(struct fw_store *s, uint8_t *buf, size_t cap, size_t *len)
{
	sqlite3_stmt *st;
	int rc;

	if (SQ(s)->pending_len) {
		if (SQ(s)->pending_len > cap)
			return fw_diag_set(&s->err, FW_E_TAMPER, "%s: log state too large", s->path);
		memcpy(buf, SQ(s)->pending, SQ(s)->pending_len);
		*len = SQ(s)->pending_len;
		return FW_OK;
	}

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT range FROM evidence_state WHERE id = 1", -1, &st,
	                       NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading the log state");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (n > cap) {
			rc = fw_diag_set(&s->err, FW_E_TAMPER, "%s: log state of %zu bytes is malformed",
			                 s->path, n);
		} else {
			if (n)
				memcpy(buf, sqlite3_column_blob(st, 0), n);
			*len = n;
			rc = FW_OK;
		}
	} else if (rc == SQLITE_DONE) {
		*len = 0; /* empty log */
		rc = FW_OK;
	} else {
		rc = fail(s, FW_E_STORE, "reading the log state");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_log_count(struct fw_store *s, uint64_t *rows)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT count(*) FROM evidence_leaves", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(s, FW_E_STORE, "counting records");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*rows = (uint64_t)sqlite3_column_int64(st, 0);
		rc = FW_OK;
	} else {
		rc = fail(s, FW_E_STORE, "counting records");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_log_append(struct fw_store *s, uint64_t idx, const uint8_t lh[32],
                         const uint8_t *rec, size_t len, int64_t ts_ms, const uint8_t *state,
                         size_t state_len)
{
	struct sq *q = SQ(s);
	int rc;

	if (idx > INT64_MAX)
		return fw_diag_set(&s->err, FW_E_TOO_LARGE, "%s: log is full", s->path);
	sqlite3_reset(q->append);
	sqlite3_bind_int64(q->append, 1, (sqlite3_int64)idx);
	sqlite3_bind_blob(q->append, 2, lh, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q->append, 3, rec, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q->append, 4, ts_ms);
	rc = sqlite3_step(q->append);
	sqlite3_clear_bindings(q->append);
	if (rc != SQLITE_DONE)
		return fail(s, FW_E_STORE, "appending evidence");
	if (state_len > sizeof(q->pending))
		return fw_diag_set(&s->err, FW_E_ARG, "tree state too large");
	memcpy(q->pending, state, state_len);
	q->pending_len = state_len;
	return FW_OK;
}

static int sq_log_get(struct fw_store *s, uint64_t idx, uint8_t lh[32], uint8_t **rec,
                      size_t *len)
{
	struct sq *q = SQ(s);
	int rc;

	sqlite3_reset(q->get_leaf);
	sqlite3_bind_int64(q->get_leaf, 1, (sqlite3_int64)idx);
	rc = sqlite3_step(q->get_leaf);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(q->get_leaf, 1);

		if (sqlite3_column_bytes(q->get_leaf, 0) != 32) {
			rc = fw_diag_set(&s->err, FW_E_TAMPER, "%s: record %llu has a malformed leaf hash",
			                 s->path, (unsigned long long)idx);
		} else if ((*rec = malloc(n + 1)) == NULL) {
			rc = fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
		} else {
			memcpy(lh, sqlite3_column_blob(q->get_leaf, 0), 32);
			if (n)
				memcpy(*rec, sqlite3_column_blob(q->get_leaf, 1), n);
			(*rec)[n] = 0;
			*len = n;
			rc = FW_OK;
		}
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "%s: no evidence record %llu", s->path,
		                 (unsigned long long)idx);
	} else {
		rc = fail(s, FW_E_STORE, "reading evidence");
	}
	sqlite3_reset(q->get_leaf);
	return rc;
}

static int sq_log_scan(struct fw_store *s, uint64_t from, fw_leaf_fn fn, void *arg)
{
	static const uint8_t bad[32];
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "SELECT idx, leaf_hash, record FROM evidence_leaves WHERE idx >= ? "
	                       "ORDER BY idx",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading evidence");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *lh = sqlite3_column_blob(st, 1);

		/* a leaf hash of the wrong size is handed on as all-zero: the
		 * caller's hash comparison reports it */
		stop = fn(arg, (uint64_t)sqlite3_column_int64(st, 0),
		          sqlite3_column_bytes(st, 1) == 32 ? lh : bad, sqlite3_column_blob(st, 2),
		          (size_t)sqlite3_column_bytes(st, 2));
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading evidence");
	sqlite3_finalize(st);
	return stop;
}

static int sq_log_hashes(struct fw_store *s, uint64_t count, uint8_t (*out)[32], uint64_t *got)
{
	struct sq *q = SQ(s);
	uint64_t n = 0;
	int rc;

	sqlite3_reset(q->hashes);
	sqlite3_bind_int64(q->hashes, 1, (sqlite3_int64)count);
	while ((rc = sqlite3_step(q->hashes)) == SQLITE_ROW) {
		uint64_t idx = (uint64_t)sqlite3_column_int64(q->hashes, 0);

		/* a gap or a bad hash: the caller compares roots with checkpoints */
		if (idx != n || sqlite3_column_bytes(q->hashes, 1) != 32) {
			sqlite3_reset(q->hashes);
			return fw_diag_set(&s->err, FW_E_TAMPER,
			                   "%s: evidence record %llu is missing or malformed (run "
			                   "'fwtrust audit verify')",
			                   s->path, (unsigned long long)n);
		}
		memcpy(out[n++], sqlite3_column_blob(q->hashes, 1), 32);
	}
	sqlite3_reset(q->hashes);
	if (rc != SQLITE_DONE)
		return fail(s, FW_E_STORE, "reading leaf hashes");
	*got = n;
	return FW_OK;
}

static int sq_checkpoint_add(struct fw_store *s, uint64_t size, const uint8_t root[32],
                             const char *note, int64_t ts_ms)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "INSERT INTO evidence_checkpoints (size, root, note, signed_ms) "
	                       "VALUES (?, ?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "storing a checkpoint");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 2, root, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ts_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = FW_OK;
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = fw_diag_set(&s->err, FW_E_CONFLICT, "%s: a checkpoint of size %llu exists",
		                 s->path, (unsigned long long)size);
	else
		rc = fail(s, FW_E_STORE, "storing a checkpoint");
	sqlite3_finalize(st);
	return rc;
}

static int sq_checkpoint_scan(struct fw_store *s, fw_checkpoint_fn fn, void *arg)
{
	static const uint8_t bad[32];
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "SELECT size, root, note FROM evidence_checkpoints ORDER BY size", -1,
	                       &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading checkpoints");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *root = sqlite3_column_blob(st, 1);

		stop = fn(arg, (uint64_t)sqlite3_column_int64(st, 0),
		          sqlite3_column_bytes(st, 1) == 32 ? root : bad,
		          (const char *)sqlite3_column_text(st, 2));
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading checkpoints");
	sqlite3_finalize(st);
	return stop;
}

static int sq_object_put(struct fw_store *s, const char *kind, const char *id, const char *doc,
                         int replace)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       replace ? "INSERT INTO objects (kind, id, doc) VALUES (?, ?, ?) "
	                                 "ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc"
	                               : "INSERT INTO objects (kind, id, doc) VALUES (?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "writing an object");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = FW_OK;
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = fw_diag_set(&s->err, FW_E_CONFLICT, "%s '%s' exists already", kind, id);
	else
		rc = fail(s, FW_E_STORE, "writing an object");
	sqlite3_finalize(st);
	return rc;
}

static int sq_object_get(struct fw_store *s, const char *kind, const char *id, char **doc)
{
	sqlite3_stmt *st;
	int rc;

	if (stmt(s, &SQ(s)->obj_get, "SELECT doc FROM objects WHERE kind = ? AND id = ?",
	         "reading an object") != FW_OK)
		return FW_E_STORE;
	st = SQ(s)->obj_get;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*doc = strdup((const char *)sqlite3_column_text(st, 0));
		rc = *doc ? FW_OK : fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "no %s '%s'", kind, id);
	} else {
		rc = fail(s, FW_E_STORE, "reading an object");
	}
	sqlite3_reset(st);
	return rc;
}

static int sq_object_scan(struct fw_store *s, const char *kind, fw_object_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT id, doc FROM objects WHERE kind = ? ORDER BY id",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading objects");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		stop = fn(arg, (const char *)sqlite3_column_text(st, 0),
		          (const char *)sqlite3_column_text(st, 1));
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading objects");
	sqlite3_finalize(st);
	return stop;
}

/* ---- fleet ---- */

/* A statement kept for the life of the connection, prepared on first use. */
static int stmt(struct fw_store *s, sqlite3_stmt **st, const char *sql, const char *what)
{
	if (*st == NULL && sqlite3_prepare_v3(SQ(s)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	                                      NULL) != SQLITE_OK) {
		*st = NULL;
		return fail(s, FW_E_STORE, what);
	}
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return FW_OK;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (t == NULL || n >= cap)
		n = 0; /* absent, or longer than any value fwtrust writes */
	if (n)
		memcpy(dst, t, n);
	dst[n] = 0;
}

static void copy_hash(uint8_t dst[32], sqlite3_stmt *st, int col)
{
	if (sqlite3_column_bytes(st, col) == 32)
		memcpy(dst, sqlite3_column_blob(st, col), 32);
	else
		memset(dst, 0, 32);
}

#define DEVICE_COLS                                                                          \
	"d.id, d.product, d.family, d.hw_revision, d.fw_version, d.cohorts, d.support_until, " \
	"d.lifecycle, d.cert, d.ident_ok, d.rec, d.rec_lh, d.rec_pos"
#define DEVICE_INS                                                                         \
	"id, product, family, hw_revision, fw_version, cohorts, support_until, lifecycle, cert, " \
	"ident_ok, rec, rec_lh, rec_pos"
#define CERT_COLS                                                                            \
	"c.sha256, c.issuer_hash, c.serial, c.not_before, c.not_after, c.chain_ok, "          \
	"c.chain_error, c.revoked, c.der"

/* CERT_COLS without the DER (NULL in its place): for reads that judge a
 * certificate by its stored facts and never look at its bytes */
#define CERT_COLS_NO_DER                                                                     \
	"c.sha256, c.issuer_hash, c.serial, c.not_before, c.not_after, c.chain_ok, "          \
	"c.chain_error, c.revoked, NULL"

static void read_device(sqlite3_stmt *st, struct fw_device_row *r)
{
	copy_text(r->id, sizeof(r->id), st, 0);
	copy_text(r->product, sizeof(r->product), st, 1);
	copy_text(r->family, sizeof(r->family), st, 2);
	copy_text(r->hw_revision, sizeof(r->hw_revision), st, 3);
	copy_text(r->fw_version, sizeof(r->fw_version), st, 4);
	copy_text(r->cohorts, sizeof(r->cohorts), st, 5);
	copy_text(r->support_until, sizeof(r->support_until), st, 6);
	copy_text(r->lifecycle, sizeof(r->lifecycle), st, 7);
	r->has_cert = sqlite3_column_bytes(st, 8) == 32;
	copy_hash(r->cert, st, 8);
	r->ident_ok = sqlite3_column_int(st, 9);
	r->rec = (uint64_t)sqlite3_column_int64(st, 10);
	copy_hash(r->rec_lh, st, 11);
	r->rec_pos = (uint64_t)sqlite3_column_int64(st, 12);
}

/* the certificate columns starting at col; 0 when they are NULL (no row) */
static int read_cert(sqlite3_stmt *st, int col, struct fw_cert_row *c)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	copy_hash(c->sha256, st, col);
	copy_hash(c->issuer_hash, st, col + 1);
	copy_text(c->serial, sizeof(c->serial), st, col + 2);
	c->not_before = sqlite3_column_int64(st, col + 3);
	c->not_after = sqlite3_column_int64(st, col + 4);
	c->chain_ok = sqlite3_column_int(st, col + 5);
	copy_text(c->chain_error, sizeof(c->chain_error), st, col + 6);
	c->revoked = sqlite3_column_int(st, col + 7);
	c->der = sqlite3_column_blob(st, col + 8);
	c->der_len = (size_t)sqlite3_column_bytes(st, col + 8);
	return 1;
}

static int device_write(struct fw_store *s, sqlite3_stmt **st, const char *sql,
                        const struct fw_device_row *r)
{
	int rc = stmt(s, st, sql, "writing a device");

	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, r->product, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 3, r->family, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 4, r->hw_revision, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 5, r->fw_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 6, r->cohorts, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 7, r->support_until, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 8, r->lifecycle, -1, SQLITE_STATIC);
	if (r->has_cert)
		sqlite3_bind_blob(*st, 9, r->cert, 32, SQLITE_STATIC);
	sqlite3_bind_int(*st, 10, r->ident_ok);
	sqlite3_bind_int64(*st, 11, (sqlite3_int64)r->rec);
	sqlite3_bind_blob(*st, 12, r->rec_lh, 32, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 13, (sqlite3_int64)r->rec_pos);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	if (rc == SQLITE_DONE)
		return FW_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return fw_diag_set(&s->err, FW_E_CONFLICT, "device '%s' exists already", r->id);
	return fail(s, FW_E_STORE, "writing a device");
}

/* replace: an UPDATE first (the rollout engine and lifecycle changes
 * rewrite rows that exist: one b-tree seek, where an upsert's insert
 * attempt costs a second), an INSERT when there was no row. */
static int sq_device_put(struct fw_store *s, const struct fw_device_row *r, int replace)
{
	struct sq *q = SQ(s);
	int rc;

	if (r->rec > INT64_MAX)
		return fw_diag_set(&s->err, FW_E_ARG, "record index out of range");
	if (replace) {
		rc = device_write(s, &q->dev_update,
		                  "UPDATE devices SET product = ?2, family = ?3, hw_revision = ?4, "
		                  "fw_version = ?5, cohorts = ?6, support_until = ?7, lifecycle = ?8, "
		                  "cert = ?9, ident_ok = ?10, rec = ?11, rec_lh = ?12, rec_pos = ?13 "
		                  "WHERE id = ?1",
		                  r);
		if (rc != FW_OK || sqlite3_changes(q->db) == 1)
			return rc;
	}
	return device_write(s, &q->dev_insert,
	                    "INSERT INTO devices (" DEVICE_INS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                    r);
}

static int sq_device_get(struct fw_store *s, const char *id, struct fw_device_row *r,
                         struct fw_cert_row *c, int *has_c)
{
	struct fw_cert_row tmp;
	sqlite3_stmt **st = &SQ(s)->dev_get;
	int rc;

	rc = stmt(s, st,
	          "SELECT " DEVICE_COLS ", " CERT_COLS
	          " FROM devices d LEFT JOIN certs c ON c.sha256 = d.cert WHERE d.id = ?",
	          "reading a device");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		int got;

		read_device(*st, r);
		got = read_cert(*st, 13, c ? c : &tmp);
		if (c)
			c->der = NULL, c->der_len = 0; /* not valid after the reset */
		if (has_c)
			*has_c = got;
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "no device '%s' in the registry", id);
	} else {
		rc = fail(s, FW_E_STORE, "reading a device");
	}
	sqlite3_reset(*st);
	return rc;
}

static int sq_device_scan(struct fw_store *s, fw_device_fn fn, void *arg)
{
	struct fw_device_row *r = malloc(sizeof(*r));
	struct fw_cert_row c;
	sqlite3_stmt *st = NULL;
	int rc, stop = 0;

	if (r == NULL)
		return fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "SELECT " DEVICE_COLS ", " CERT_COLS
	                       " FROM devices d LEFT JOIN certs c ON c.sha256 = d.cert ORDER BY d.id",
	                       -1, &st, NULL) != SQLITE_OK) {
		free(r);
		return fail(s, FW_E_STORE, "reading devices");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_device(st, r);
		stop = fn(arg, r, read_cert(st, 13, &c) ? &c : NULL);
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading devices");
	sqlite3_finalize(st);
	free(r);
	return stop;
}

static int sq_device_count(struct fw_store *s, uint64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT count(*) FROM devices", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(s, FW_E_STORE, "counting devices");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		rc = FW_OK;
	} else {
		rc = fail(s, FW_E_STORE, "counting devices");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_cert_put(struct fw_store *s, const struct fw_cert_row *c)
{
	sqlite3_stmt **st = &SQ(s)->cert_put;
	int rc;

	rc = stmt(s, st,
	          "INSERT INTO certs (sha256, der, issuer_hash, serial, not_before, not_after, "
	          "chain_ok, chain_error, revoked) VALUES (?,?,?,?,?,?,?,?,?) "
	          "ON CONFLICT (sha256) DO NOTHING",
	          "storing a certificate");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_blob(*st, 1, c->sha256, 32, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 2, c->der, (int)c->der_len, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 3, c->issuer_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(*st, 4, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 5, c->not_before);
	sqlite3_bind_int64(*st, 6, c->not_after);
	sqlite3_bind_int(*st, 7, c->chain_ok);
	sqlite3_bind_text(*st, 8, c->chain_error, -1, SQLITE_STATIC);
	sqlite3_bind_int(*st, 9, c->revoked);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "storing a certificate");
}

static int sq_cert_get(struct fw_store *s, const uint8_t sha[32], struct fw_cert_row *c)
{
	sqlite3_stmt **st = &SQ(s)->cert_get;
	int rc;

	rc = stmt(s, st, "SELECT " CERT_COLS " FROM certs c WHERE c.sha256 = ?",
	          "reading a certificate");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_blob(*st, 1, sha, 32, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		read_cert(*st, 0, c);
		c->der = NULL;
		c->der_len = 0;
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "no such certificate");
	} else {
		rc = fail(s, FW_E_STORE, "reading a certificate");
	}
	sqlite3_reset(*st);
	return rc;
}

static int sq_cert_scan(struct fw_store *s, int only_unverified, fw_cert_fn fn, void *arg)
{
	struct fw_cert_row c;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       only_unverified
	                           ? "SELECT " CERT_COLS " FROM certs c WHERE c.chain_ok = 0 "
	                             "ORDER BY c.sha256"
	                           : "SELECT " CERT_COLS " FROM certs c ORDER BY c.sha256",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading certificates");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_cert(st, 0, &c);
		stop = fn(arg, &c);
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading certificates");
	sqlite3_finalize(st);
	return stop;
}

static int sq_cert_set_chain(struct fw_store *s, const uint8_t sha[32], int ok, int64_t nb,
                             int64_t na, const char *error)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "UPDATE certs SET chain_ok = ?, not_before = ?, not_after = ?, "
	                       "chain_error = ? WHERE sha256 = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "updating a certificate");
	sqlite3_bind_int(st, 1, ok);
	sqlite3_bind_int64(st, 2, nb);
	sqlite3_bind_int64(st, 3, na);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, sha, 32, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "updating a certificate");
	sqlite3_finalize(st);
	return rc;
}

static int sq_cert_set_revoked(struct fw_store *s, const uint8_t sha[32], int revoked)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db, "UPDATE certs SET revoked = ? WHERE sha256 = ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "revoking a certificate");
	sqlite3_bind_int(st, 1, revoked);
	sqlite3_bind_blob(st, 2, sha, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(SQ(s)->db) == 1
		         ? FW_OK
		         : fw_diag_set(&s->err, FW_E_NOT_FOUND, "no such certificate");
	else
		rc = fail(s, FW_E_STORE, "revoking a certificate");
	sqlite3_finalize(st);
	return rc;
}

static int sq_crl_entry_add(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
                            uint64_t *certs_revoked)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "INSERT INTO crl_entries (issuer_hash, serial) VALUES (?, ?) "
	                       "ON CONFLICT DO NOTHING",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "storing a revocation");
	sqlite3_bind_blob(st, 1, issuer_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, FW_E_STORE, "storing a revocation");
	/* a local revocation stays local: the CRL only adds */
	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "UPDATE certs SET revoked = 1 WHERE issuer_hash = ? AND serial = ? "
	                       "AND revoked = 0",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "revoking certificates");
	sqlite3_bind_blob(st, 1, issuer_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, FW_E_STORE, "revoking certificates");
	if (certs_revoked)
		*certs_revoked = (uint64_t)sqlite3_changes(SQ(s)->db);
	return FW_OK;
}

static int sq_crl_entry_has(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
                            int *has)
{
	sqlite3_stmt **st = &SQ(s)->crl_has;
	int rc;

	rc = stmt(s, st, "SELECT 1 FROM crl_entries WHERE issuer_hash = ? AND serial = ?",
	          "reading revocations");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_blob(*st, 1, issuer_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, FW_E_STORE, "reading revocations");
	*has = rc == SQLITE_ROW;
	return FW_OK;
}

static int sq_decision_put(struct fw_store *s, uint64_t run, const char *device,
                           uint32_t reasons, uint64_t rec)
{
	sqlite3_stmt **st = &SQ(s)->decision_put;
	int rc;

	rc = stmt(s, st,
	          "INSERT INTO decisions (run, device, reasons, rec) VALUES (?,?,?,?)",
	          "storing a decision");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_int64(*st, 1, (sqlite3_int64)run);
	sqlite3_bind_text(*st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 3, (sqlite3_int64)reasons);
	sqlite3_bind_int64(*st, 4, (sqlite3_int64)rec);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	if (rc == SQLITE_DONE)
		return FW_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return fw_diag_set(&s->err, FW_E_CONFLICT, "run %llu has a decision for '%s' already",
		                   (unsigned long long)run, device);
	return fail(s, FW_E_STORE, "storing a decision");
}

static int sq_decision_get(struct fw_store *s, uint64_t run, const char *device,
                           uint32_t *reasons, uint64_t *rec)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "SELECT reasons, rec FROM decisions WHERE run = ? AND "
	                       "device = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading a decision");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)run);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*reasons = (uint32_t)sqlite3_column_int64(st, 0);
		*rec = (uint64_t)sqlite3_column_int64(st, 1);
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "run %llu has no decision for '%s'",
		                 (unsigned long long)run, device);
	} else {
		rc = fail(s, FW_E_STORE, "reading a decision");
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_decision_scan(struct fw_store *s, uint64_t run, fw_decision_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(SQ(s)->db,
	                       "SELECT device, reasons, rec FROM decisions WHERE run = ? "
	                       "ORDER BY device",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading decisions");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		stop = fn(arg, (const char *)sqlite3_column_text(st, 0),
		          (uint32_t)sqlite3_column_int64(st, 1), (uint64_t)sqlite3_column_int64(st, 2));
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading decisions");
	sqlite3_finalize(st);
	return stop;
}

/* ---- rollout ---- */

#define ROLLOUT_COLS "campaign, device, stage, state, attempts, failures, reasons, due_ms, rec, rec_lh"

/* the rollout columns starting at column c */
static void read_rollout_at(sqlite3_stmt *st, int c, struct fw_rollout_row *r)
{
	copy_text(r->campaign, sizeof(r->campaign), st, c);
	copy_text(r->device, sizeof(r->device), st, c + 1);
	r->stage = (uint32_t)sqlite3_column_int64(st, c + 2);
	r->state = sqlite3_column_int(st, c + 3);
	r->attempts = (uint32_t)sqlite3_column_int64(st, c + 4);
	r->failures = (uint32_t)sqlite3_column_int64(st, c + 5);
	r->reasons = (uint32_t)sqlite3_column_int64(st, c + 6);
	r->due_ms = sqlite3_column_int64(st, c + 7);
	r->rec = (uint64_t)sqlite3_column_int64(st, c + 8);
	copy_hash(r->rec_lh, st, c + 9);
}

static void read_rollout(sqlite3_stmt *st, struct fw_rollout_row *r)
{
	read_rollout_at(st, 0, r);
}

static int sq_rollout_put(struct fw_store *s, const struct fw_rollout_row *r, int replace)
{
	struct sq *q = SQ(s);
	sqlite3_stmt **st = replace ? &q->ro_update : &q->ro_insert;
	int rc;

	rc = stmt(s, st,
	          replace ? "UPDATE rollout SET stage = ?3, state = ?4, attempts = ?5, failures = ?6, "
	                    "reasons = ?7, due_ms = ?8, rec = ?9, rec_lh = ?10 "
	                    "WHERE campaign = ?1 AND device = ?2"
	                  : "INSERT INTO rollout (" ROLLOUT_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
	          "writing a rollout row");
	if (rc != FW_OK)
		return rc;
	if (r->rec > INT64_MAX)
		return fw_diag_set(&s->err, FW_E_ARG, "record index out of range");
	sqlite3_bind_text(*st, 1, r->campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 3, (sqlite3_int64)r->stage);
	sqlite3_bind_int(*st, 4, r->state);
	sqlite3_bind_int64(*st, 5, (sqlite3_int64)r->attempts);
	sqlite3_bind_int64(*st, 6, (sqlite3_int64)r->failures);
	sqlite3_bind_int64(*st, 7, (sqlite3_int64)r->reasons);
	sqlite3_bind_int64(*st, 8, (sqlite3_int64)r->due_ms);
	sqlite3_bind_int64(*st, 9, (sqlite3_int64)r->rec);
	sqlite3_bind_blob(*st, 10, r->rec_lh, 32, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	if (rc == SQLITE_DONE) {
		if (replace && sqlite3_changes(q->db) != 1)
			return fw_diag_set(&s->err, FW_E_NOT_FOUND, "campaign %s has no device '%s'",
			                   r->campaign, r->device);
		return FW_OK;
	}
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return fw_diag_set(&s->err, FW_E_CONFLICT, "campaign %s has device '%s' already",
		                   r->campaign, r->device);
	return fail(s, FW_E_STORE, "writing a rollout row");
}

static int sq_rollout_get(struct fw_store *s, const char *campaign, const char *device,
                          struct fw_rollout_row *r)
{
	sqlite3_stmt **st = &SQ(s)->ro_get;
	int rc;

	rc = stmt(s, st, "SELECT " ROLLOUT_COLS " FROM rollout WHERE campaign = ? AND device = ?",
	          "reading a rollout row");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		read_rollout(*st, r);
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "device '%s' is not in campaign %s", device,
		                 campaign);
	} else {
		rc = fail(s, FW_E_STORE, "reading a rollout row");
	}
	sqlite3_reset(*st);
	return rc;
}

/* Hand each row of st to fn; then st is finalized (a one-off statement)
 * or, keep != 0, reset for its next use (a statement kept prepared). */
static int rollout_rows(struct fw_store *s, sqlite3_stmt *st, fw_rollout_fn fn, void *arg,
                        int keep)
{
	struct fw_rollout_row r;
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_rollout(st, &r);
		stop = fn(arg, &r);
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading rollout rows");
	if (keep)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return stop;
}

static int sq_rollout_scan(struct fw_store *s, const char *campaign, int state, int64_t stage,
                           int64_t due_max, fw_rollout_fn fn, void *arg)
{
	sqlite3_stmt *st;
	char sql[400];

	/* only the filters given, so that the index on (campaign, state,
	 * stage, due_ms) serves the query */
	snprintf(sql, sizeof(sql),
	         "SELECT " ROLLOUT_COLS " FROM rollout WHERE campaign = ?1%s%s%s "
	         "ORDER BY state, stage, due_ms, device",
	         state >= 0 ? " AND state = ?2" : "", stage >= 0 ? " AND stage = ?3" : "",
	         due_max < INT64_MAX ? " AND due_ms <= ?4" : "");
	if (sqlite3_prepare_v2(SQ(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading rollout rows");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_int64(st, 3, stage);
	sqlite3_bind_int64(st, 4, due_max);
	return rollout_rows(s, st, fn, arg, 0);
}

/* rollout rows with their devices: the device and certificate columns
 * first (as device_get reads them), then the row's from column 22 */
#define ROLLOUT_R_COLS                                                                      \
	"r.campaign, r.device, r.stage, r.state, r.attempts, r.failures, r.reasons, r.due_ms, " \
	"r.rec, r.rec_lh"
#define ROLLOUT_JOIN                                                                        \
	"SELECT " DEVICE_COLS ", " CERT_COLS ", " ROLLOUT_R_COLS                                \
	" FROM rollout r LEFT JOIN devices d ON d.id = r.device"                                \
	" LEFT JOIN certs c ON c.sha256 = d.cert WHERE r.campaign = ?1"
#define ROLLOUT_JOIN_AT 22

static int sq_rollout_get_device(struct fw_store *s, const char *campaign, const char *device,
                                 struct fw_rollout_row *r, struct fw_device_row *dev,
                                 struct fw_cert_row *cert, int *has_dev, int *has_c)
{
	struct fw_cert_row tmp;
	sqlite3_stmt **st = &SQ(s)->ro_get_dev;
	int rc, got;

	rc = stmt(s, st, ROLLOUT_JOIN " AND r.device = ?2", "reading a rollout row");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		read_rollout_at(*st, ROLLOUT_JOIN_AT, r);
		*has_dev = sqlite3_column_type(*st, 0) != SQLITE_NULL;
		if (*has_dev) {
			read_device(*st, dev);
			got = read_cert(*st, 13, cert ? cert : &tmp);
			if (cert)
				cert->der = NULL, cert->der_len = 0; /* not valid after the reset */
			if (has_c)
				*has_c = got;
		}
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "device '%s' is not in campaign %s", device,
		                 campaign);
	} else {
		rc = fail(s, FW_E_STORE, "reading a rollout row");
	}
	sqlite3_reset(*st);
	return rc;
}

static int sq_rollout_scan_devices(struct fw_store *s, const char *campaign, int state,
                                   int64_t stage, fw_rollout_device_fn fn, void *arg)
{
	struct fw_device_row *dev = malloc(sizeof(*dev));
	struct fw_rollout_row r;
	struct fw_cert_row c;
	sqlite3_stmt *st;
	char sql[1200];
	int rc, stop = 0;

	if (dev == NULL)
		return fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	/* the filters given only, as in sq_rollout_scan, for its index */
	snprintf(sql, sizeof(sql), ROLLOUT_JOIN "%s%s ORDER BY r.state, r.stage, r.due_ms, r.device",
	         state >= 0 ? " AND r.state = ?2" : "", stage >= 0 ? " AND r.stage = ?3" : "");
	if (sqlite3_prepare_v2(SQ(s)->db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(dev);
		return fail(s, FW_E_STORE, "reading rollout rows");
	}
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_int64(st, 3, stage);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int has_dev = sqlite3_column_type(st, 0) != SQLITE_NULL, has_c = 0;

		read_rollout_at(st, ROLLOUT_JOIN_AT, &r);
		if (has_dev) {
			read_device(st, dev);
			has_c = read_cert(st, 13, &c);
		}
		stop = fn(arg, &r, has_dev ? dev : NULL, has_c ? &c : NULL);
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = fail(s, FW_E_STORE, "reading rollout rows");
	sqlite3_finalize(st);
	free(dev);
	return stop;
}

static int sq_rollout_device_scan(struct fw_store *s, const char *device, fw_rollout_fn fn,
                                  void *arg)
{
	sqlite3_stmt **st = &SQ(s)->ro_dev_scan;

	if (stmt(s, st, "SELECT " ROLLOUT_COLS " FROM rollout WHERE device = ? ORDER BY campaign",
	         "reading rollout rows") != FW_OK)
		return FW_E_STORE;
	sqlite3_bind_text(*st, 1, device, -1, SQLITE_STATIC);
	return rollout_rows(s, *st, fn, arg, 1);
}

/* A throwaway store (the simulator's): durability traded for speed,
 * atomicity kept. Measured on simulated campaigns of 1,000,000 devices:
 * a rollback journal in a file without fsync (PERSIST: the file is reused)
 * writes each new page once, where the WAL writes it twice (the log, then
 * the checkpoint), and it beat journal_mode=MEMORY (whose journal is
 * malloc'd in 1 KiB chunks, page by page) and the WAL without fsync by
 * 5-10%; OFF was no faster and cannot roll back. The exclusive lock comes
 * first, so that leaving WAL needs no other connection's consent. */
static int sq_set_scratch(struct fw_store *s)
{
	sqlite3_stmt *st;
	char sql[300];
	int rc;

	snprintf(sql, sizeof(sql),
	         "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = PERSIST; "
	         "PRAGMA synchronous = OFF; PRAGMA cache_size = -%d",
	         FW_STORE_SCRATCH_CACHE_MB * 1024);
	rc = exec(s, sql, "making a scratch store");
	if (rc != FW_OK)
		return rc;
	/* a journal mode that cannot change answers with the old one */
	if (sqlite3_prepare_v2(SQ(s)->db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "making a scratch store");
	rc = sqlite3_step(st) == SQLITE_ROW &&
	             strcmp((const char *)sqlite3_column_text(st, 0), "persist") == 0
	         ? FW_OK
	         : fw_diag_set(&s->err, FW_E_STORE, "%s: cannot leave WAL mode (another connection?)",
	                       s->path);
	sqlite3_finalize(st);
	return rc;
}

/* ---- read snapshots ---- */

static int sq_read(struct fw_store *s, int begin)
{
	sqlite3_stmt **st = begin ? &SQ(s)->rd_begin : &SQ(s)->rd_end;
	int rc = stmt(s, st, begin ? "BEGIN DEFERRED" : "COMMIT", "a read snapshot");

	if (rc != FW_OK)
		return rc;
	rc = sqlite3_step(*st) == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "a read snapshot");
	sqlite3_reset(*st);
	return rc;
}

static int sq_data_version(struct fw_store *s, uint64_t *v)
{
	sqlite3_stmt **st = &SQ(s)->dv;
	int rc = stmt(s, st, "PRAGMA data_version", "reading the data version");

	if (rc != FW_OK)
		return rc;
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		*v = (uint64_t)sqlite3_column_int64(*st, 0);
		rc = FW_OK;
	} else {
		rc = fail(s, FW_E_STORE, "reading the data version");
	}
	sqlite3_reset(*st);
	return rc;
}

static int sq_cache(struct fw_store *s, unsigned mib)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%u", mib * 1024u);
	return exec(s, sql, "setting the page cache");
}

/* ---- device API targets ---- */

static int sq_target_put(struct fw_store *s, const struct fw_target_row *t)
{
	sqlite3_stmt **st = &SQ(s)->tg_put;
	int rc;

	rc = stmt(s, st,
	          "INSERT OR REPLACE INTO targets (device, token_sha256, agent, issued_ms, attrs,"
	          " attrs_ms, rec, rec_lh) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	          "writing a target");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, t->device, -1, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 2, t->token_sha256, 32, SQLITE_STATIC);
	sqlite3_bind_text(*st, 3, t->agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 4, t->issued_ms);
	sqlite3_bind_text(*st, 5, t->attrs, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*st, 6, t->attrs_ms);
	sqlite3_bind_int64(*st, 7, (sqlite3_int64)t->rec);
	sqlite3_bind_blob(*st, 8, t->rec_lh, 32, SQLITE_STATIC);
	rc = sqlite3_step(*st) == SQLITE_DONE ? FW_OK : fail(s, FW_E_STORE, "writing a target");
	sqlite3_reset(*st);
	return rc;
}

static int sq_target_get(struct fw_store *s, const char *device, struct fw_target_row *t,
                         struct fw_device_row *dev, struct fw_cert_row *cert, int *has_dev,
                         int *has_c)
{
	struct fw_cert_row tmp;
	sqlite3_stmt **st = &SQ(s)->tg_get;
	int rc, got;

	rc = stmt(s, st,
	          "SELECT " DEVICE_COLS ", " CERT_COLS_NO_DER ", t.device, t.token_sha256, t.agent,"
	          " t.issued_ms, t.attrs, t.attrs_ms, t.rec, t.rec_lh FROM targets t"
	          " LEFT JOIN devices d ON d.id = t.device LEFT JOIN certs c ON c.sha256 = d.cert"
	          " WHERE t.device = ?",
	          "reading a target");
	if (rc != FW_OK)
		return rc;
	sqlite3_bind_text(*st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW) {
		copy_text(t->device, sizeof(t->device), *st, 22);
		copy_hash(t->token_sha256, *st, 23);
		copy_text(t->agent, sizeof(t->agent), *st, 24);
		t->issued_ms = sqlite3_column_int64(*st, 25);
		copy_text(t->attrs, sizeof(t->attrs), *st, 26);
		t->attrs_ms = sqlite3_column_int64(*st, 27);
		t->rec = (uint64_t)sqlite3_column_int64(*st, 28);
		copy_hash(t->rec_lh, *st, 29);
		*has_dev = sqlite3_column_type(*st, 0) != SQLITE_NULL;
		*has_c = 0;
		if (*has_dev && dev != NULL) {
			read_device(*st, dev);
			got = read_cert(*st, 13, cert ? cert : &tmp);
			if (cert)
				cert->der = NULL, cert->der_len = 0; /* not valid after the reset */
			*has_c = got;
		}
		rc = FW_OK;
	} else if (rc == SQLITE_DONE) {
		rc = fw_diag_set(&s->err, FW_E_NOT_FOUND, "device '%s' has no device-API token",
		                 device);
	} else {
		rc = fail(s, FW_E_STORE, "reading a target");
	}
	sqlite3_reset(*st);
	return rc;
}

const struct fw_store_ops fw_store_sqlite_ops = {
	"sqlite",
	sq_open,
	sq_close,
	sq_begin,
	sq_commit,
	sq_rollback,
	sq_meta_get,
	sq_meta_set,
	sq_log_state,
	sq_log_count,
	sq_log_append,
	sq_log_get,
	sq_log_scan,
	sq_log_hashes,
	sq_checkpoint_add,
	sq_checkpoint_scan,
	sq_object_put,
	sq_object_get,
	sq_object_scan,
	sq_device_put,
	sq_device_get,
	sq_device_scan,
	sq_device_count,
	sq_cert_put,
	sq_cert_get,
	sq_cert_scan,
	sq_cert_set_chain,
	sq_cert_set_revoked,
	sq_crl_entry_add,
	sq_crl_entry_has,
	sq_decision_put,
	sq_decision_get,
	sq_decision_scan,
	sq_rollout_put,
	sq_rollout_get,
	sq_rollout_scan,
	sq_rollout_device_scan,
	sq_set_scratch,
	sq_rollout_get_device,
	sq_rollout_scan_devices,
	sq_read,
	sq_cache,
	sq_data_version,
	sq_target_put,
	sq_target_get,
};

