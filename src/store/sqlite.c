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
	/* the tree state after the last append of the open transaction,
	 * written once at commit, in the same transaction */
	uint8_t pending[8 + 64 * 32];
	size_t pending_len;
};

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
	int v, rc;

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
	sqlite3_close(q->db);
	free(q);
	s->impl = NULL;
}

static int sq_open(struct fw_store *s, int create)
{
	struct sq *q = calloc(1, sizeof(*q));
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	if (q == NULL)
		return fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
	s->impl = q;
	if (sqlite3_open_v2(s->path, &q->db, flags, NULL) != SQLITE_OK) {
		rc = q->db ? fail(s, create ? FW_E_STORE : FW_E_NOT_FOUND, "cannot open")
		           : fw_diag_set(&s->err, FW_E_NOMEM, "out of memory");
		sq_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(q->db, 1);
	/* a second process waits for the writer instead of failing at once */
	sqlite3_busy_timeout(q->db, 10000);
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

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT doc FROM objects WHERE kind = ? AND id = ?", -1,
	                       &st, NULL) != SQLITE_OK)
		return fail(s, FW_E_STORE, "reading an object");
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
	sqlite3_finalize(st);
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
};
