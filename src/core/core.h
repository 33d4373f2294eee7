/*
 * core: errors, limits, diagnostics, hex/UUID, files, clock, canonical JSON,
 * semantic versions.
 * Shared by every host module. Library code never prints or exits; it
 * returns an enum fw_err and writes one line of detail into a struct fw_diag.
 */
#ifndef FW_CORE_H
#define FW_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#if defined(__GNUC__)
#define FW_NODISCARD __attribute__((warn_unused_result))
#define FW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FW_NODISCARD
#define FW_PRINTF(a, b)
#endif

/* Error codes. Append-only: never renumbered or reused. Documented in
 * docs/errors.md. */
enum fw_err {
	FW_OK = 0,
	FW_E_ARG = 1,        /* bad flag, argument or value from the user */
	FW_E_IO = 2,         /* a file could not be read or written */
	FW_E_EXISTS = 3,     /* refusing to overwrite an existing file */
	FW_E_TOO_LARGE = 4,  /* input above a named limit (core.h) */
	FW_E_NOMEM = 5,
	FW_E_KEY = 6,        /* a key file is not a usable key */
	FW_E_CRYPTO = 7,     /* the crypto library failed */
	FW_E_FORMAT = 8,     /* input is not in the expected format */
	FW_E_VERIFY = 9,     /* verification refused the input (see detail) */
	FW_E_INTERNAL = 10,
	FW_E_PROOF = 11,     /* a Merkle proof does not verify */
	FW_E_NOTE = 12,      /* a signed note or checkpoint is malformed */
	FW_E_SIGNATURE = 13, /* no valid signature by a trusted key */
	FW_E_ORIGIN = 14,    /* checkpoint of another log (origin) */
	FW_E_STORE = 15,     /* the database failed or is not an fwtrust store */
	FW_E_NOT_FOUND = 16, /* no such record, key or release */
	FW_E_TAMPER = 17,    /* stored evidence does not match its hashes or checkpoints */
	FW_E_CONFLICT = 18   /* the request contradicts recorded state (revoked key, duplicate) */
};
#define FW_ERR_COUNT 19

/* Stable name ("io", "verify", ...). Never NULL. */
const char *fw_err_str(int err);

/* A growable array: room for need elements of elem bytes in p, whose
 * capacity is *cap (doubled, from 16, as often as needed). Returns the
 * array, moved or not (*cap updated), or NULL when out of memory or the
 * size would overflow (then p is untouched and still owned by the caller). */
void *fw_grow(void *p, size_t *cap, size_t need, size_t elem);

/* Limits: every growable input has a named cap. */
#define FW_MAX_KEY_FILE (64 * 1024)     /* PEM key file */
#define FW_MAX_ENVELOPE_FILE (16 * 1024) /* = FWV_MAX_ENVELOPE */
#define FW_MAX_VERSION_STRING 64
#define FW_MAX_TRUSTED_KEYS 16
#define FW_DIAG_LEN 512

/* One line of detail for the user: what is wrong and where. */
struct fw_diag {
	char msg[FW_DIAG_LEN];
};

/* Write a message into d (NULL is allowed: the message is dropped). Returns
 * err so callers can `return fw_diag_set(d, FW_E_IO, ...)`. */
int fw_diag_set(struct fw_diag *d, int err, const char *fmt, ...) FW_PRINTF(3, 4);

/* Hex: lower-case, out has 2*len+1 bytes. */
void fw_hex_encode(const uint8_t *in, size_t len, char *out);
FW_NODISCARD int fw_hex_decode(const char *hex, uint8_t *out, size_t out_len);

/* UUID text (8-4-4-4-12, hex case-insensitive, or 32 hex digits) <-> 16 bytes. */
FW_NODISCARD int fw_uuid_parse(const char *s, uint8_t out[16]);
void fw_uuid_format(const uint8_t in[16], char out[37]);

/* 1 if s is well-formed UTF-8 without control characters (text that goes
 * into envelopes and records), else 0. */
int fw_text_valid(const char *s);

/* Parse a decimal unsigned 64-bit integer; the whole string must be digits. */
FW_NODISCARD int fw_parse_u64(const char *s, uint64_t *out);

/* Read a whole file of at most max bytes into a fresh buffer (caller frees
 * with free()). FW_E_TOO_LARGE above max. */
FW_NODISCARD int fw_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len,
                              struct fw_diag *d);

/*
 * Write files as one commit: each file is written in full to a temporary
 * name beside it, then all are published with link(2) (which refuses to
 * replace an existing file) or, with overwrite, rename(2) after the old
 * file is kept under <path>.bak-XXXXXX. If any step fails, files already
 * published by this call are removed (or, when replacing, their old
 * content is put back) and the temporaries are deleted: either all new
 * files appear or none.
 */
struct fw_file_out {
	const char *path;
	const void *data;
	size_t len;
	unsigned mode; /* e.g. 0600 for private keys */
};
FW_NODISCARD int fw_files_commit(const struct fw_file_out *files, size_t n, int overwrite,
                                 struct fw_diag *d);

/* Current UTC time as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ"; honours
 * SOURCE_DATE_EPOCH for reproducible output. */
void fw_time_utc(char out[21]);

/*
 * Deterministic CBOR writer (RFC 8949 §4.2: shortest heads; callers emit
 * map keys in ascending order). Writes into a caller buffer and remembers
 * overflow instead of failing each call: check .overflow once at the end.
 */
struct fw_cbw {
	uint8_t *buf;
	size_t cap, len;
	int overflow;
};
void fw_cbw_init(struct fw_cbw *w, uint8_t *buf, size_t cap);
void fw_cbw_raw(struct fw_cbw *w, const void *p, size_t n);
void fw_cbw_head(struct fw_cbw *w, int major, uint64_t v);
void fw_cbw_int(struct fw_cbw *w, int64_t v);
void fw_cbw_bstr(struct fw_cbw *w, const void *p, size_t n);
void fw_cbw_tstr(struct fw_cbw *w, const char *s);
/* bstr .cbor: inner's bytes as a byte string (overflow propagates) */
void fw_cbw_wrap(struct fw_cbw *w, const struct fw_cbw *inner);

/* Standard base64 (RFC 4648 §4, padded). encode writes a NUL-ended string
 * of 4*ceil(len/3) chars. decode accepts only the canonical encoding (what
 * encode would write) of exactly out_len bytes: FW_E_FORMAT otherwise. */
void fw_b64_encode(const uint8_t *in, size_t len, char *out);
FW_NODISCARD int fw_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len);

/*
 * Canonical JSON (the RFC 8785 JCS subset evidence records use): object
 * keys of [a-z0-9_] sorted by bytes, integers only with |x| <= 2^53-1, no
 * reals, strings escaped as JCS does, no whitespace. v is a jansson value
 * (declared as void so core does not depend on jansson's header).
 * *out malloc'd and NUL-ended. FW_E_FORMAT names the offending key/value.
 */
FW_NODISCARD int fw_json_canonical(const void *v, char **out, size_t *len, struct fw_diag *d);
/* A record's JSON text read into a jansson value (returned as void *, a new
 * reference, NULL when it is not JSON): the same value json_loadb gives,
 * several times faster for canonical records (the top level is split by
 * hand; nested values and escaped strings go to jansson). */
void *fw_json_load_record(const char *s, size_t len);
/* 1 if arr (a jansson value) is an array holding the string s; anything
 * else holds nothing (lists read tolerantly from documents and records:
 * a release's "fixes", a policy's "remediates"). */
int fw_json_has_string(const void *arr, const char *s);
/* The same form written piece by piece, for a writer that knows its keys
 * (eligibility decision records): a growing buffer that remembers running
 * out of memory instead of failing each call (check .oom at the end).
 * fw_jbuf_str writes s (n bytes of UTF-8) as a JSON string, escaped as
 * fw_json_canonical escapes. .buf is malloc'd; not NUL-terminated. */
struct fw_jbuf {
	char *buf;
	size_t len, cap;
	int oom;
};
void fw_jbuf_raw(struct fw_jbuf *b, const char *s, size_t n);
void fw_jbuf_str(struct fw_jbuf *b, const char *s, size_t n);

/* Wall-clock time in Unix milliseconds. */
int64_t fw_time_ms(void);

/* Overwrite secret bytes so the compiler cannot elide it. */
void fw_wipe(void *p, size_t n);

/* An advisory id (vuln add and import, a campaign policy's remediates,
 * release add --fixes): 1..FW_ADVISORY_ID_MAX bytes of [A-Za-z0-9._:-],
 * starting with a letter or a digit (a registry key that also appears in
 * file names). Untrusted text; 1 or 0. Here because the registry, the
 * rollout and the vuln modules all judge it. */
#define FW_ADVISORY_ID_MAX 64
int fw_advisory_id_valid(const char *id);

/* ---- semantic versions and ranges (semver.c) ---- */

/*
 * Versions are Semantic Versioning 2.0.0, strictly; ranges are AND/OR sets
 * of comparators. Inputs are untrusted text (release manifests, device
 * files, campaign targeting, the CLI). Nothing here allocates: structs are
 * caller-owned and plain values (copy them freely; no _clear needed). Parse
 * functions write *out only on success and otherwise return the error with
 * one line in d (NULL allowed). Byte positions in messages count from 1.
 */

#define FW_SEMVER_MAX 64      /* bytes of a version string (NUL not counted) */
#define FW_RANGE_MAX 256      /* bytes of a range expression (NUL not counted) */
#define FW_RANGE_MAX_TERMS 16 /* comparators in one range */

struct fw_semver {
	uint64_t major, minor, patch;
	char pre[FW_SEMVER_MAX]; /* pre-release identifiers without the '-', "" when none */
	/* build metadata is validated and dropped: it has no precedence */
};

/*
 * Strict SemVer 2.0.0 (https://semver.org, the BNF in "Backus-Naur Form
 * Grammar"): no leading 'v', no leading zeros in numeric parts or numeric
 * pre-release identifiers, non-empty identifiers of [0-9A-Za-z-], major,
 * minor and patch must fit uint64 (numeric pre-release identifiers are
 * compared as decimal text and have no such limit).
 * Returns FW_OK; FW_E_FORMAT with the reason and position
 * ("2.01.0: leading zero in minor at byte 3"); FW_E_TOO_LARGE over
 * FW_SEMVER_MAX bytes; FW_E_ARG if s or out is NULL.
 */
FW_NODISCARD int fw_semver_parse(const char *s, struct fw_semver *out, struct fw_diag *d);

/* Precedence per SemVer §11: <0, 0, >0 (build metadata never counts). */
int fw_semver_cmp(const struct fw_semver *a, const struct fw_semver *b);

/* Canonical text without build metadata, e.g. "2.4.1-rc.1"; always
 * NUL-terminated. */
void fw_semver_format(const struct fw_semver *v, char out[FW_SEMVER_MAX + 64]);

/*
 * A range: comparators separated by spaces are AND-ed; "||" separates
 * alternatives (OR). Comparator: op version, op one of >= > <= < = with no
 * space between op and version; a bare version means =.
 * e.g. ">=2.0.0 <2.4.1", ">=1.0.0 <1.2.0 || >=2.0.0 <2.4.1", "=2.3.0".
 * Comparisons are plain SemVer precedence: 2.4.1-rc.1 < 2.4.1, so it is
 * inside ">=2.0.0 <2.4.1" (no npm-style pre-release exclusion).
 * Returns FW_OK; FW_E_FORMAT (naming the offending term and its position)
 * for an empty range, an empty alternative, a single '|', an unknown
 * operator, an operator without a version, a bad version, or an alternative
 * that no version can satisfy (">=3.0.0 <2.0.0", ">2.0.0 <=2.0.0");
 * FW_E_TOO_LARGE over FW_RANGE_MAX bytes (as given, or as the canonical
 * text would be), over FW_RANGE_MAX_TERMS comparators, or a version over
 * FW_SEMVER_MAX bytes; FW_E_ARG if s or out is NULL.
 */
enum fw_range_op {
	FW_RANGE_EQ = 1, /* = or a bare version */
	FW_RANGE_GT = 2, /* > */
	FW_RANGE_GE = 3, /* >= */
	FW_RANGE_LT = 4, /* < */
	FW_RANGE_LE = 5  /* <= */
};
struct fw_range_term {
	int op; /* enum fw_range_op */
	struct fw_semver v;
	int alt; /* index of the alternative, 0 .. nalt-1, non-decreasing in t[] */
};
struct fw_range {
	size_t n; /* comparators in t[] */
	struct fw_range_term t[FW_RANGE_MAX_TERMS];
	int nalt; /* alternatives, each with at least one comparator */
};
FW_NODISCARD int fw_range_parse(const char *s, struct fw_range *out, struct fw_diag *d);

/* 1 if v satisfies the range (all comparators of at least one alternative),
 * else 0. A range with no comparators (zeroed) matches nothing. */
int fw_range_match(const struct fw_range *r, const struct fw_semver *v);

/* Canonical text: comparators joined by single spaces, alternatives by
 * " || ", = written out ("=2.3.0"), no build metadata. Truncated to cap-1
 * bytes and NUL-terminated (nothing written when cap is 0). A range from
 * fw_range_parse always fits in FW_RANGE_MAX + 1 bytes and parses back to
 * the same range. */
void fw_range_format(const struct fw_range *r, char *out, size_t cap);

#endif
