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
 * time (the SQLite backend takes the write lock at begin). A handle is
 * used by one thread at a time (processes and handles may be many).
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

/*
 * The fleet: devices, their identity certificates, and eligibility
 * decisions. Kept as typed rows, not JSON documents, because a fleet has a
 * million of them and eligibility reads every one.
 */
#define FW_FIELD_MAX 256 /* bytes of a device field, NUL included */
struct fw_device_row {
	char id[FW_FIELD_MAX];
	char product[FW_FIELD_MAX];
	char family[FW_FIELD_MAX];
	char hw_revision[FW_FIELD_MAX];
	char fw_version[FW_FIELD_MAX];
	char cohorts[FW_FIELD_MAX];      /* sorted, ';'-separated, "" for none */
	char support_until[16];          /* YYYY-MM-DD */
	char lifecycle[32];
	int has_cert;
	uint8_t cert[32];                /* SHA-256 of the certificate's DER */
	int ident_ok;                    /* the certificate names this device */
	uint64_t rec;                    /* evidence record that last changed the row */
	uint8_t rec_lh[32];
	uint64_t rec_pos;                /* when rec is a device import: the row's position
	                                    in its file (1, 2, ...), else 0 */
};
/* The digest of a row's content (not rec): SHA-256 of "fwtrust-device/v1\n"
 * then id, product, family, hw_revision, fw_version, cohorts,
 * support_until, lifecycle, the certificate's SHA-256 in hex ("" without),
 * and ident_ok ("0"/"1"), each followed by "\n". Records commit to it. */
void fw_device_row_hash(const struct fw_device_row *r, uint8_t out[32]);
/* A certificate's facts, judged once when it is stored (chain) and kept
 * current by CRL imports and revocations; time is judged at decision time
 * against the window. */
enum fw_cert_revoked { FW_CERT_NOT_REVOKED = 0, FW_CERT_REVOKED_CRL = 1, FW_CERT_REVOKED_LOCAL = 2 };
struct fw_cert_row {
	uint8_t sha256[32];
	uint8_t issuer_hash[32];
	char serial[48];
	int64_t not_before, not_after;   /* of the whole chain when it verified */
	int chain_ok;
	char chain_error[200];           /* why the chain did not verify */
	int revoked;                     /* enum fw_cert_revoked */
	const uint8_t *der;              /* put: the DER; get/scan: valid during the call */
	size_t der_len;
};
/* A device with its certificate's facts (NULL when it has none). */
typedef int (*fw_device_fn)(void *arg, const struct fw_device_row *dev,
                            const struct fw_cert_row *cert);
typedef int (*fw_cert_fn)(void *arg, const struct fw_cert_row *cert);
/* reasons: the set of failing reasons (bit i = reason code i of the
 * policy module; 0 = eligible) */
typedef int (*fw_decision_fn)(void *arg, const char *device, uint32_t reasons, uint64_t rec);

/*
 * A device's part in a campaign: one row per (campaign, device), changed
 * only together with the evidence record of the change (rec). The rollout
 * module gives state its meaning (enum fw_update_state in rollout.h).
 */
#define FW_ROLLOUT_NO_STAGE UINT32_MAX /* ineligible when the campaign started */
struct fw_rollout_row {
	char campaign[32];
	char device[FW_FIELD_MAX];
	uint32_t stage;                  /* index into the policy's stages */
	int state;
	uint32_t attempts;               /* deliveries so far */
	uint32_t failures;               /* failed attempts so far */
	uint32_t reasons;                /* ineligible: the failing reasons (policy.h) */
	int64_t due_ms;                  /* delivered: report deadline; failed: retry not
	                                    before; else 0 (Unix ms) */
	uint64_t rec;                    /* evidence record that last changed the row */
	uint8_t rec_lh[32];
};
typedef int (*fw_rollout_fn)(void *arg, const struct fw_rollout_row *r);
/* A rollout row with its device's registry row and certificate facts (dev
 * NULL when the registry has no such device, cert NULL when it has none). */
typedef int (*fw_rollout_device_fn)(void *arg, const struct fw_rollout_row *r,
                                    const struct fw_device_row *dev,
                                    const struct fw_cert_row *cert);

/*
 * A device as the device API (src/ddi/) knows it: the SHA-256 of its
 * token (the token itself is never stored), its agent type, and the
 * attributes it reported (configData: a JSON object, "" before the
 * first). Changed only together with the evidence record of the change.
 */
#define FW_TARGET_MAX_ATTRS 4096
struct fw_target_row {
	char device[FW_FIELD_MAX];
	uint8_t token_sha256[32];
	char agent[16];                  /* "suit" or "swupdate" */
	int64_t issued_ms;
	char attrs[FW_TARGET_MAX_ATTRS]; /* canonical JSON object text, or "" */
	int64_t attrs_ms;
	uint64_t rec;
	uint8_t rec_lh[32];
};

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
	/* fleet */
	int (*device_put)(struct fw_store *s, const struct fw_device_row *r, int replace);
	int (*device_get)(struct fw_store *s, const char *id, struct fw_device_row *r,
	                  struct fw_cert_row *c, int *has_c);
	int (*device_scan)(struct fw_store *s, fw_device_fn fn, void *arg);
	int (*device_count)(struct fw_store *s, uint64_t *n);
	int (*cert_put)(struct fw_store *s, const struct fw_cert_row *c);
	int (*cert_get)(struct fw_store *s, const uint8_t sha[32], struct fw_cert_row *c);
	int (*cert_scan)(struct fw_store *s, int only_unverified, fw_cert_fn fn, void *arg);
	int (*cert_set_chain)(struct fw_store *s, const uint8_t sha[32], int ok, int64_t nb,
	                      int64_t na, const char *error);
	int (*cert_set_revoked)(struct fw_store *s, const uint8_t sha[32], int revoked);
	int (*crl_entry_add)(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
	                     uint64_t *certs_revoked);
	int (*crl_entry_has)(struct fw_store *s, const uint8_t issuer_hash[32], const char *serial,
	                     int *has);
	int (*decision_put)(struct fw_store *s, uint64_t run, const char *device, uint32_t reasons,
	                    uint64_t rec);
	int (*decision_get)(struct fw_store *s, uint64_t run, const char *device, uint32_t *reasons,
	                    uint64_t *rec);
	int (*decision_scan)(struct fw_store *s, uint64_t run, fw_decision_fn fn, void *arg);
	/* rollout (per campaign and device) */
	int (*rollout_put)(struct fw_store *s, const struct fw_rollout_row *r, int replace);
	int (*rollout_get)(struct fw_store *s, const char *campaign, const char *device,
	                   struct fw_rollout_row *r);
	int (*rollout_scan)(struct fw_store *s, const char *campaign, int state, int64_t stage,
	                    int64_t due_max, fw_rollout_fn fn, void *arg);
	int (*rollout_device_scan)(struct fw_store *s, const char *device, fw_rollout_fn fn,
	                           void *arg);
	/* see fw_store_set_scratch */
	int (*set_scratch)(struct fw_store *s);
	/* rollout rows joined with their devices (one read where two would do) */
	int (*rollout_get_device)(struct fw_store *s, const char *campaign, const char *device,
	                          struct fw_rollout_row *r, struct fw_device_row *dev,
	                          struct fw_cert_row *cert, int *has_dev, int *has_c);
	int (*rollout_scan_devices)(struct fw_store *s, const char *campaign, int state,
	                            int64_t stage, fw_rollout_device_fn fn, void *arg);
	/* a read-only snapshot (begin != 0) and its end */
	int (*read)(struct fw_store *s, int begin);
	/* this connection's page cache, MiB */
	int (*cache)(struct fw_store *s, unsigned mib);
	/* a number that changes when another connection commits */
	int (*data_version)(struct fw_store *s, uint64_t *v);
	/* device API targets */
	int (*target_put)(struct fw_store *s, const struct fw_target_row *t);
	int (*target_get)(struct fw_store *s, const char *device, struct fw_target_row *t,
	                  struct fw_device_row *dev, struct fw_cert_row *cert, int *has_dev,
	                  int *has_c);
};

struct fw_store {
	const struct fw_store_ops *ops;
	void *impl;
	char path[4096];
	struct fw_diag err;   /* what the last failing op said */
	int in_tx;
	int in_read;          /* inside fw_store_read_begin/end */
	uint64_t commits;     /* transactions this connection committed */
	/* the last successful blob put created its file (else it existed) */
	int blob_created;
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

/* Fleet rows (see struct fw_device_row). device_put: FW_E_CONFLICT when
 * the id exists and replace == 0. get: FW_E_NOT_FOUND; *has_c says
 * whether c was filled (the device has a stored certificate). scan: every
 * device in id order. */
FW_NODISCARD int fw_store_device_put(struct fw_store *s, const struct fw_device_row *r,
                                     int replace, struct fw_diag *d);
FW_NODISCARD int fw_store_device_get(struct fw_store *s, const char *id, struct fw_device_row *r,
                                     struct fw_cert_row *c, int *has_c, struct fw_diag *d);
FW_NODISCARD int fw_store_device_scan(struct fw_store *s, fw_device_fn fn, void *arg,
                                      struct fw_diag *d);
FW_NODISCARD int fw_store_device_count(struct fw_store *s, uint64_t *n, struct fw_diag *d);
/* cert_put keeps an existing row (certificates are content-addressed).
 * cert_scan: all certificates, or only those whose chain did not verify. */
FW_NODISCARD int fw_store_cert_put(struct fw_store *s, const struct fw_cert_row *c,
                                   struct fw_diag *d);
FW_NODISCARD int fw_store_cert_get(struct fw_store *s, const uint8_t sha[32],
                                   struct fw_cert_row *c, struct fw_diag *d);
FW_NODISCARD int fw_store_cert_scan(struct fw_store *s, int only_unverified, fw_cert_fn fn,
                                    void *arg, struct fw_diag *d);
FW_NODISCARD int fw_store_cert_set_chain(struct fw_store *s, const uint8_t sha[32], int ok,
                                         int64_t nb, int64_t na, const char *error,
                                         struct fw_diag *d);
FW_NODISCARD int fw_store_cert_set_revoked(struct fw_store *s, const uint8_t sha[32],
                                           int revoked, struct fw_diag *d);
/* A revoked serial of an issuer (from a CRL): kept, and every stored
 * certificate it names is marked revoked (count in *certs_revoked). */
FW_NODISCARD int fw_store_crl_entry_add(struct fw_store *s, const uint8_t issuer_hash[32],
                                        const char *serial, uint64_t *certs_revoked,
                                        struct fw_diag *d);
FW_NODISCARD int fw_store_crl_entry_has(struct fw_store *s, const uint8_t issuer_hash[32],
                                        const char *serial, int *has, struct fw_diag *d);
/* Eligibility decisions: one per (run, device), append-only; reasons as
 * for fw_decision_fn, rec the decision's evidence record. */
FW_NODISCARD int fw_store_decision_put(struct fw_store *s, uint64_t run, const char *device,
                                       uint32_t reasons, uint64_t rec, struct fw_diag *d);
FW_NODISCARD int fw_store_decision_get(struct fw_store *s, uint64_t run, const char *device,
                                       uint32_t *reasons, uint64_t *rec, struct fw_diag *d);

/* The decisions of a run, in device id order. */
FW_NODISCARD int fw_store_decision_scan(struct fw_store *s, uint64_t run, fw_decision_fn fn,
                                        void *arg, struct fw_diag *d);

/* Rollout rows. put with replace == 0 inserts (FW_E_CONFLICT when the
 * row exists), with replace != 0 updates an existing row (FW_E_NOT_FOUND
 * when there is none). scan: the rows of a campaign with this state (-1:
 * any), stage (-1: any) and due_ms <= due_max (INT64_MAX: any), ordered by
 * (state, stage, due_ms, device); device_scan: a device's rows in every
 * campaign, by campaign. Do not write rows of the campaign from inside a
 * scan's callback: collect, then write. */
FW_NODISCARD int fw_store_rollout_put(struct fw_store *s, const struct fw_rollout_row *r,
                                      int replace, struct fw_diag *d);
FW_NODISCARD int fw_store_rollout_get(struct fw_store *s, const char *campaign,
                                      const char *device, struct fw_rollout_row *r,
                                      struct fw_diag *d);
FW_NODISCARD int fw_store_rollout_scan(struct fw_store *s, const char *campaign, int state,
                                       int64_t stage, int64_t due_max, fw_rollout_fn fn,
                                       void *arg, struct fw_diag *d);
FW_NODISCARD int fw_store_rollout_device_scan(struct fw_store *s, const char *device,
                                              fw_rollout_fn fn, void *arg, struct fw_diag *d);
/* The same reads with the device's registry row and certificate facts
 * joined in, for the engine's hot paths (a report, a stage's entry):
 * get_device is rollout_get and, in the same read, device_get of the
 * device (*has_dev 0 when the registry has no such device; then dev and
 * cert are not written; *has_c as for device_get; cert's der is not
 * kept); scan_devices is rollout_scan without a due_ms bound, in the same
 * order, each row with its device (fw_rollout_device_fn). */
FW_NODISCARD int fw_store_rollout_get_device(struct fw_store *s, const char *campaign,
                                             const char *device, struct fw_rollout_row *r,
                                             struct fw_device_row *dev, struct fw_cert_row *cert,
                                             int *has_dev, int *has_c, struct fw_diag *d);
FW_NODISCARD int fw_store_rollout_scan_devices(struct fw_store *s, const char *campaign,
                                               int state, int64_t stage,
                                               fw_rollout_device_fn fn, void *arg,
                                               struct fw_diag *d);

/* A read-only snapshot: the reads between fw_store_read_begin and
 * fw_store_read_end see one state of the store, and pay for one read lock
 * instead of one per statement (the device API's polls). Not inside a
 * write transaction, and no writes inside it (FW_E_ARG). end is always
 * safe to call after a successful begin. */
FW_NODISCARD int fw_store_read_begin(struct fw_store *s, struct fw_diag *d);
/* A number that changes whenever the store's data may have changed since
 * it was last read here: a commit by this connection or by any other
 * (SQLite's data_version). Equal numbers: nothing was committed in
 * between, so what was read then is still what is stored (caches check
 * it instead of reading again). */
FW_NODISCARD int fw_store_version(struct fw_store *s, uint64_t *v, struct fw_diag *d);
/* This connection's page cache, in MiB (1..4096): for a long-lived
 * connection that serves many reads (a worker of the device API, whose
 * polls touch the fleet's rows over and over). */
FW_NODISCARD int fw_store_set_cache(struct fw_store *s, unsigned mib, struct fw_diag *d);
void fw_store_read_end(struct fw_store *s);

/* Device API targets: put inserts or replaces; get reads one with, in the
 * same read, its registry row and certificate facts (as
 * fw_store_rollout_get_device; dev may be NULL). FW_E_NOT_FOUND when the
 * device has no token. */
FW_NODISCARD int fw_store_target_put(struct fw_store *s, const struct fw_target_row *t,
                                     struct fw_diag *d);
FW_NODISCARD int fw_store_target_get(struct fw_store *s, const char *device,
                                     struct fw_target_row *t, struct fw_device_row *dev,
                                     struct fw_cert_row *cert, int *has_dev, int *has_c,
                                     struct fw_diag *d);

/*
 * Make s a scratch store for as long as it stays open: no fsync, an
 * exclusive lock (no other connection may use it meanwhile), a rollback
 * journal instead of the WAL, and a page cache of up to
 * FW_STORE_SCRATCH_CACHE_MB. Transactions still commit or roll back whole,
 * but a crash or a power loss may lose or corrupt the file: only for a
 * store that is thrown away afterwards (the campaign simulator's), never
 * for one whose evidence is kept. Call it outside a transaction (FW_E_ARG
 * otherwise), right after fw_store_open; opened again later, the store is
 * in WAL mode as ever.
 */
#define FW_STORE_SCRATCH_CACHE_MB 1024
FW_NODISCARD int fw_store_set_scratch(struct fw_store *s, struct fw_diag *d);

/* Content-addressed blobs beside the database (<db>.objects/sha256/xx/...).
 * put copies a file in streaming and returns its SHA-256; an existing blob
 * is kept. path writes the blob's path for a digest. */
FW_NODISCARD int fw_store_blob_put_file(struct fw_store *s, const char *src, uint8_t sha[32],
                                        uint64_t *size, struct fw_diag *d);
FW_NODISCARD int fw_store_blob_put(struct fw_store *s, const uint8_t *data, size_t len,
                                   uint8_t sha[32], struct fw_diag *d);
void fw_store_blob_path(const struct fw_store *s, const uint8_t sha[32], char *out, size_t cap);
/* After a successful put: 1 if that put created the blob, 0 if it existed. */
int fw_store_blob_created(const struct fw_store *s);

/* Backends. */
extern const struct fw_store_ops fw_store_sqlite_ops;

#endif
