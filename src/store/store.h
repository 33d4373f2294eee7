/*
 * store: where fwtrust keeps state and evidence. One interface (an ops
 * table) with backends behind it; SQLite is the embedded default. The
 * rest of the code only talks to this header, and tests/store/ runs the
 * same suite against every backend.
 *
 * Three kinds of data:
 *   - the evidence log: leaves (index, leaf hash, record bytes), the
 *     compact-range tree state, and every signed checkpoint; append-only
 *     (the SQLite backend refuses UPDATE/DELETE with triggers);
 *   - registry objects: JSON documents by (kind, id), e.g. trusted keys and
 *     releases; changed only together with their evidence record;
 *   - settings (meta): origin, log key location, schema facts.
 * Blobs (envelopes, images) live content-addressed beside the database.
 *
 * Writes happen inside fw_store_begin .. fw_store_commit; one writer at a
 * time (the SQLite backend takes the write lock at begin).
 */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct fw_store;

/* Called for each leaf in index order; return non-zero to stop (that value
 * is returned by the scan). rec is valid only during the call. */
typedef int (*fw_leaf_fn)(void *arg, uint64_t idx, const uint8_t leaf_hash[32],
                          const uint8_t *rec, size_t len);
typedef int (*fw_checkpoint_fn)(void *arg, uint64_t size, const uint8_t root[32],
                                const char *note);
typedef int (*fw_object_fn)(void *arg, const char *id, const char *doc);

/* Every op returns an enum fw_err and, on failure, writes one line into
 * s->err. */
struct fw_store_ops {
	const char *name;
	/* connect to s->path (creating it if create), migrate, set s->impl */
	int (*open)(struct fw_store *s, int create);
	void (*close)(struct fw_store *s);
	int (*begin)(struct fw_store *s);
	int (*commit)(struct fw_store *s);
	int (*rollback)(struct fw_store *s);
	int (*meta_get)(struct fw_store *s, const char *key, char **val);
	int (*meta_set)(struct fw_store *s, const char *key, const char *val);
	/* evidence log */
	int (*log_state)(struct fw_store *s, uint8_t *buf, size_t cap, size_t *len);
	int (*log_count)(struct fw_store *s, uint64_t *rows);
	int (*log_append)(struct fw_store *s, uint64_t idx, const uint8_t leaf_hash[32],
	                  const uint8_t *rec, size_t len, int64_t ts_ms, const uint8_t *state,
	                  size_t state_len);
	int (*log_get)(struct fw_store *s, uint64_t idx, uint8_t leaf_hash[32], uint8_t **rec,
	               size_t *len);
	int (*log_scan)(struct fw_store *s, uint64_t from, fw_leaf_fn fn, void *arg);
	int (*log_hashes)(struct fw_store *s, uint64_t count, uint8_t (*out)[32], uint64_t *got);
	int (*checkpoint_add)(struct fw_store *s, uint64_t size, const uint8_t root[32],
	                      const char *note, int64_t ts_ms);
	int (*checkpoint_scan)(struct fw_store *s, fw_checkpoint_fn fn, void *arg);
	/* registry objects */
	int (*object_put)(struct fw_store *s, const char *kind, const char *id, const char *doc,
	                  int replace);
	int (*object_get)(struct fw_store *s, const char *kind, const char *id, char **doc);
	int (*object_scan)(struct fw_store *s, const char *kind, fw_object_fn fn, void *arg);
};

struct fw_store {
	const struct fw_store_ops *ops;
	void *impl;
	char path[4096];
	struct fw_diag err;   /* what the last failing op said */
	int in_tx;
	/* evidence cache, valid inside one transaction (log.c) */
	int cr_valid;
	void *cr;
};

/* Database path: explicit (--db) if not NULL, else $FWTRUST_DB, else
 * ./fwtrust.db. Returns a pointer to static storage or to flag. */
const char *fw_store_default_path(const char *flag);

/* Open (create when create != 0; FW_E_NOT_FOUND if it does not exist and
 * create is 0) and migrate to the current schema. *out owned by caller. */
FW_NODISCARD int fw_store_open(const char *path, int create, struct fw_store **out,
                               struct fw_diag *d);
void fw_store_close(struct fw_store *s);

/* Write transaction. begin fails with FW_E_ARG when one is open. */
FW_NODISCARD int fw_store_begin(struct fw_store *s, struct fw_diag *d);
FW_NODISCARD int fw_store_commit(struct fw_store *s, struct fw_diag *d);
void fw_store_rollback(struct fw_store *s);

/* Settings. get: FW_E_NOT_FOUND when absent; *val malloc'd. */
FW_NODISCARD int fw_store_meta_get(struct fw_store *s, const char *key, char **val,
                                   struct fw_diag *d);
FW_NODISCARD int fw_store_meta_set(struct fw_store *s, const char *key, const char *val,
                                   struct fw_diag *d);

/* Registry objects (JSON text). put with replace == 0 fails with
 * FW_E_CONFLICT when (kind, id) exists. get: FW_E_NOT_FOUND. */
FW_NODISCARD int fw_store_object_put(struct fw_store *s, const char *kind, const char *id,
                                     const char *doc, int replace, struct fw_diag *d);
FW_NODISCARD int fw_store_object_get(struct fw_store *s, const char *kind, const char *id,
                                     char **doc, struct fw_diag *d);
FW_NODISCARD int fw_store_object_scan(struct fw_store *s, const char *kind, fw_object_fn fn,
                                      void *arg, struct fw_diag *d);

/* Content-addressed blobs beside the database (<db>.objects/sha256/xx/...).
 * put copies a file in streaming and returns its SHA-256; an existing blob
 * is kept. path writes the blob's path for a digest. */
FW_NODISCARD int fw_store_blob_put_file(struct fw_store *s, const char *src, uint8_t sha[32],
                                        uint64_t *size, struct fw_diag *d);
FW_NODISCARD int fw_store_blob_put(struct fw_store *s, const uint8_t *data, size_t len,
                                   uint8_t sha[32], struct fw_diag *d);
void fw_store_blob_path(const struct fw_store *s, const uint8_t sha[32], char *out, size_t cap);

/* Backends. */
extern const struct fw_store_ops fw_store_sqlite_ops;

#endif
