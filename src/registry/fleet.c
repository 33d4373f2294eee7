/*
 * The fleet: device rows, their lifecycle, and the import of device files.
 * Rows live in the store's device table (typed rows: a fleet has a million
 * of them); every change is recorded in the evidence log in the same
 * transaction.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence/evidence.h"

/* ---- lifecycle ---- */

static const char *const states[] = {"manufactured", "provisioned", "active", "quarantined",
                                     "end_of_support", "decommissioned"};
#define NSTATES (sizeof(states) / sizeof(states[0]))
/* allowed[from] = bit set of the states it may move to */
static const unsigned allowed[NSTATES] = {
    1u << 1,             /* manufactured -> provisioned */
    1u << 2,             /* provisioned -> active */
    1u << 3 | 1u << 4,   /* active -> quarantined, end_of_support */
    1u << 2 | 1u << 4,   /* quarantined -> active, end_of_support */
    1u << 5,             /* end_of_support -> decommissioned */
    0,                   /* decommissioned: final */
};

static int state_index(const char *s)
{
	size_t i;

	for (i = 0; i < NSTATES; i++)
		if (strcmp(s, states[i]) == 0)
			return (int)i;
	return -1;
}

int fw_lifecycle_valid(const char *state)
{
	return state && state_index(state) >= 0;
}

int fw_lifecycle_allowed(const char *from, const char *to)
{
	int f = state_index(from), t = state_index(to);

	return f >= 0 && t >= 0 && (allowed[f] >> t & 1u);
}

void fw_lifecycle_next(const char *from, char *out, size_t cap)
{
	int f = state_index(from);
	size_t i, n = 0;

	out[0] = 0;
	for (i = 0; f >= 0 && i < NSTATES; i++)
		if (allowed[f] >> i & 1u)
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
			                      states[i]);
	if (out[0] == 0)
		snprintf(out, cap, "none");
}

/* ---- values ---- */

int fw_device_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

/* days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int fw_date_parse(const char *s, int64_t *days)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, m, d, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return FW_E_FORMAT;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return FW_E_FORMAT;
	y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return FW_E_FORMAT;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return FW_E_FORMAT;
	*days = days_from_civil(y, m, d);
	return FW_OK;
}

const char *fw_cert_state(const struct fw_device_row *dev, const struct fw_cert_row *cert,
                          int64_t now)
{
	if (!dev->has_cert || cert == NULL)
		return "missing";
	if (cert->revoked)
		return "revoked";
	if (!cert->chain_ok)
		return "untrusted_issuer";
	if (now < cert->not_before)
		return "not_yet_valid";
	if (now > cert->not_after)
		return "expired";
	return "valid";
}

/* ---- documents ---- */

static json_t *cohort_array(const char *cohorts)
{
	json_t *a = json_array();
	const char *p = cohorts, *e;

	while (a && *p) {
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(e - p)));
		p = *e ? e + 1 : e;
	}
	return a;
}

static json_t *time_json(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *fw_registry_device_json(const struct fw_device_row *dev, const struct fw_cert_row *cert,
                                int64_t now)
{
	json_t *o = json_object(), *c;
	char hex[65];

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "device_id", json_string(dev->id));
	json_object_set_new(o, "product", json_string(dev->product));
	json_object_set_new(o, "family", json_string(dev->family));
	json_object_set_new(o, "hw_revision", json_string(dev->hw_revision));
	json_object_set_new(o, "fw_version", json_string(dev->fw_version));
	json_object_set_new(o, "cohorts", cohort_array(dev->cohorts));
	json_object_set_new(o, "support_until", json_string(dev->support_until));
	json_object_set_new(o, "lifecycle", json_string(dev->lifecycle));
	if (dev->has_cert) {
		c = json_object();
		fw_hex_encode(dev->cert, 32, hex);
		json_object_set_new(c, "sha256", json_string(hex));
		json_object_set_new(c, "state", json_string(fw_cert_state(dev, cert, now)));
		json_object_set_new(c, "names_device", json_boolean(dev->ident_ok));
		if (cert) {
			json_object_set_new(c, "serial", json_string(cert->serial));
			json_object_set_new(c, "not_before", time_json(cert->not_before));
			json_object_set_new(c, "not_after", time_json(cert->not_after));
			json_object_set_new(c, "chain", json_string(cert->chain_ok ? "ok"
			                                                           : cert->chain_error));
			json_object_set_new(c, "revoked",
			                    cert->revoked == FW_CERT_REVOKED_CRL     ? json_string("crl")
			                    : cert->revoked == FW_CERT_REVOKED_LOCAL ? json_string("local")
			                                                             : json_false());
		}
		json_object_set_new(o, "certificate", c);
	} else {
		json_object_set_new(o, "certificate", json_null());
	}
	json_object_set_new(o, "record", fw_evidence_ref_json(dev->rec, dev->rec_lh));
	return o;
}

int fw_registry_device_get(struct fw_store *s, const char *id, int64_t now, json_t **doc,
                           struct fw_diag *d)
{
	struct fw_device_row *r = malloc(sizeof(*r));
	struct fw_cert_row c;
	int has_c = 0, rc;

	if (r == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_store_device_get(s, id, r, &c, &has_c, d);
	if (rc == FW_OK) {
		*doc = fw_registry_device_json(r, has_c ? &c : NULL, now);
		if (*doc == NULL)
			rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	free(r);
	return rc;
}

/* ---- listing ---- */

int fw_device_filter_add(struct fw_device_filter *f, char *expr, struct fw_diag *d)
{
	static const char *const certs[] = {"missing", "revoked", "untrusted_issuer",
	                                    "not_yet_valid", "expired", "valid"};
	char *eq = strchr(expr, '=');
	const char *key = expr, *val;
	size_t i;

	if (eq == NULL || eq == expr)
		return fw_diag_set(d, FW_E_ARG, "--filter '%s': expected KEY=VALUE", expr);
	*eq = 0;
	val = eq + 1;
	if (strcmp(key, "product") == 0) {
		f->product = val;
	} else if (strcmp(key, "family") == 0) {
		f->family = val;
	} else if (strcmp(key, "hw_revision") == 0) {
		f->hw_revision = val;
	} else if (strcmp(key, "cohort") == 0) {
		f->cohort = val;
	} else if (strcmp(key, "lifecycle") == 0) {
		if (!fw_lifecycle_valid(val))
			return fw_diag_set(d, FW_E_ARG,
			                   "--filter lifecycle=%s: not a lifecycle state (manufactured, "
			                   "provisioned, active, quarantined, end_of_support, "
			                   "decommissioned)",
			                   val);
		f->lifecycle = val;
	} else if (strcmp(key, "cert") == 0) {
		for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
			if (strcmp(val, certs[i]) == 0)
				break;
		if (i == sizeof(certs) / sizeof(certs[0]))
			return fw_diag_set(d, FW_E_ARG,
			                   "--filter cert=%s: not a certificate state (valid, "
			                   "not_yet_valid, expired, revoked, untrusted_issuer, missing)",
			                   val);
		f->cert = val;
	} else if (strcmp(key, "fw_version") == 0) {
		struct fw_diag why = {{0}};

		if (fw_range_parse(val, &f->range, &why) != FW_OK)
			return fw_diag_set(d, FW_E_ARG, "--filter fw_version=%s: %s", val, why.msg);
		f->has_range = 1;
		f->version = val;
	} else {
		return fw_diag_set(d, FW_E_ARG,
		                   "--filter %s: unknown key (product, family, hw_revision, cohort, "
		                   "lifecycle, cert, fw_version)",
		                   key);
	}
	return FW_OK;
}

int fw_cohorts_have(const char *list, const char *c)
{
	size_t n = strlen(c);
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && memcmp(p, c, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

int fw_device_filter_match(const struct fw_device_filter *f, const struct fw_device_row *dev,
                           const struct fw_cert_row *cert, int64_t now)
{
	if (f == NULL)
		return 1;
	if ((f->product && strcmp(f->product, dev->product) != 0) ||
	    (f->family && strcmp(f->family, dev->family) != 0) ||
	    (f->hw_revision && strcmp(f->hw_revision, dev->hw_revision) != 0) ||
	    (f->lifecycle && strcmp(f->lifecycle, dev->lifecycle) != 0) ||
	    (f->cohort && !fw_cohorts_have(dev->cohorts, f->cohort)) ||
	    (f->cert && strcmp(f->cert, fw_cert_state(dev, cert, now)) != 0))
		return 0;
	if (f->has_range) {
		struct fw_semver v;

		if (fw_semver_parse(dev->fw_version, &v, NULL) != FW_OK ||
		    !fw_range_match(&f->range, &v))
			return 0;
	}
	return 1;
}

struct list {
	const struct fw_device_filter *f;
	int64_t now;
	fw_device_fn fn;
	void *arg;
};

static int list_one(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *cert)
{
	struct list *l = arg;

	if (!fw_device_filter_match(l->f, dev, cert, l->now))
		return 0;
	return l->fn(l->arg, dev, cert);
}

int fw_registry_device_list(struct fw_store *s, const struct fw_device_filter *f, int64_t now,
                            fw_device_fn fn, void *arg, struct fw_diag *d)
{
	struct list l = {f, now, fn, arg};

	return fw_store_device_scan(s, list_one, &l, d);
}

/* ---- lifecycle changes ---- */

struct lc {
	const char *id, *to, *reason;
	struct fw_device_row *row;
};

static int lc_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	struct lc *c = arg;
	char next[120];
	int rc;

	rc = fw_store_device_get(s, c->id, c->row, NULL, NULL, d);
	if (rc != FW_OK)
		return rc;
	if (!fw_lifecycle_allowed(c->row->lifecycle, c->to)) {
		fw_lifecycle_next(c->row->lifecycle, next, sizeof(next));
		return fw_diag_set(d, FW_E_CONFLICT,
		                   "device %s: %s -> %s is not allowed (from %s: %s)", c->id,
		                   c->row->lifecycle, c->to, c->row->lifecycle, next);
	}
	json_object_set_new(record, "device", json_string(c->id));
	json_object_set_new(record, "from", json_string(c->row->lifecycle));
	json_object_set_new(record, "to", json_string(c->to));
	json_object_set_new(record, "reason", json_string(c->reason));
	{
		struct fw_device_row after = *c->row;
		uint8_t h[32];
		char hex[65];

		snprintf(after.lifecycle, sizeof(after.lifecycle), "%s", c->to);
		fw_device_row_hash(&after, h);
		fw_hex_encode(h, 32, hex);
		json_object_set_new(record, "row_sha256", json_string(hex));
	}
	return fw_evidence_record_ref(record, c->row->rec, c->row->rec_lh) == FW_OK
	           ? FW_OK
	           : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int lc_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                    struct fw_diag *d)
{
	struct lc *c = arg;

	snprintf(c->row->lifecycle, sizeof(c->row->lifecycle), "%s", c->to);
	c->row->rec = idx;
	memcpy(c->row->rec_lh, lh, 32);
	c->row->rec_pos = 0;
	return fw_store_device_put(s, c->row, 1, d);
}

int fw_registry_device_lifecycle(struct fw_store *s, const char *id, const char *to,
                                 const char *reason, const char *actor, uint64_t *idx,
                                 struct fw_diag *d)
{
	struct lc c = {id, to, reason, NULL};
	struct fw_evidence_change change = {lc_prepare, lc_apply, &c};
	json_t *rec;
	int rc;

	if (!fw_lifecycle_valid(to))
		return fw_diag_set(d, FW_E_ARG,
		                   "'%s' is not a lifecycle state (manufactured, provisioned, active, "
		                   "quarantined, end_of_support, decommissioned)",
		                   to);
	rc = fw_registry_reason_ok(reason, 1000, d);
	if (rc != FW_OK)
		return rc;
	c.row = malloc(sizeof(*c.row));
	rec = fw_evidence_record_new("device.lifecycle", actor);
	if (c.row == NULL || rec == NULL) {
		free(c.row);
		json_decref(rec);
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	}
	rc = fw_evidence_commit(s, &change, rec, idx, NULL, d);
	json_decref(rec);
	free(c.row);
	return rc;
}

/* ---- import ---- */

struct import {
	struct fw_store *s;
	char dir[4096];             /* certificate paths are relative to it */
	const char *actor;
	struct fw_cert_anchors *anchors;
	struct fw_import_stats *st;
	uint64_t idx;               /* the device.import record */
	uint8_t lh[32];
	struct fw_device_row row, old;
	uint8_t last_ca[32], last_ca_name[32]; /* issuer_name's memory */
	int last_ca_valid;
	uint64_t pos;               /* the current row's position in the file (1, 2, ...) */
	uint8_t (*states)[32];      /* the row hash of each row written, by position - 1 */
	size_t nstates;
	fw_devfile_progress_fn progress;
	void *parg;
};

static int bad_rc(const struct fw_devrow *row, int col, int rc, struct fw_diag *d,
                  const char *fmt, ...) FW_PRINTF(5, 6);

/* "line 12, column 3 (family): why" (the caller puts the file in front) */
static int bad_rc(const struct fw_devrow *row, int col, int rc, struct fw_diag *d,
                  const char *fmt, ...)
{
	char where[128], why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fw_devrow_where(row, col, where, sizeof(where));
	return fw_diag_set(d, rc, "%s: %s", where, why);
}

#define bad(row, col, d, ...) bad_rc(row, col, FW_E_FORMAT, d, __VA_ARGS__)

static int text_field(const struct fw_devrow *row, int col, char *out, size_t cap, int required,
                      struct fw_diag *d)
{
	const char *v = row->f[col];

	if (required && row->len[col] == 0)
		return bad(row, col, d, "a value is required");
	if (row->len[col] >= cap)
		return bad(row, col, d, "longer than %zu bytes", cap - 1);
	if (!fw_text_valid(v))
		return bad(row, col, d, "not UTF-8 text without control characters");
	memcpy(out, v, row->len[col] + 1);
	return FW_OK;
}

/* "b;a;b" -> "a;b": names of [A-Za-z0-9._-], sorted, duplicates dropped */
static int cohorts_field(const struct fw_devrow *row, char *out, size_t cap, struct fw_diag *d)
{
	char buf[FW_FIELD_MAX], *names[FW_FIELD_MAX / 2], *p, *t;
	size_t n = 0, i, j, len = row->len[FW_DEVCOL_COHORTS], o = 0, k;

	if (len >= sizeof(buf) || len >= cap)
		return bad(row, FW_DEVCOL_COHORTS, d, "longer than %zu bytes", sizeof(buf) - 1);
	memcpy(buf, row->f[FW_DEVCOL_COHORTS], len + 1);
	out[0] = 0;
	if (len == 0)
		return FW_OK;
	for (p = buf;;) {
		char *e = strchr(p, ';'), *q;

		if (e)
			*e = 0;
		if (*p == 0)
			return bad(row, FW_DEVCOL_COHORTS, d, "empty cohort name (cohorts are separated by ';')");
		for (q = p; *q; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '.' || *q == '_' || *q == '-'))
				return bad(row, FW_DEVCOL_COHORTS, d,
				           "cohort '%s': only letters, digits, '.', '_' and '-'", p);
		names[n++] = p;
		if (e == NULL)
			break;
		p = e + 1;
	}
	/* insertion sort: a device is in a handful of cohorts */
	for (i = 1; i < n; i++) {
		t = names[i];
		for (j = i; j > 0 && strcmp(names[j - 1], t) > 0; j--)
			names[j] = names[j - 1];
		names[j] = t;
	}
	/* joined again, duplicates dropped; never longer than the input */
	for (i = 0; i < n; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (o)
			out[o++] = ';';
		k = strlen(names[i]);
		memcpy(out + o, names[i], k);
		o += k;
	}
	out[o] = 0;
	return FW_OK;
}

/* The subject-name hash of a trusted CA (by the SHA-256 of its
 * certificate), from its document; the last one is remembered, as a fleet's
 * certificates mostly share an issuer. Unchanged when unknown (a CA added
 * before CA documents carried it). */
static void issuer_name(struct import *im, const uint8_t ca[32], uint8_t name_hash[32])
{
	char hex[65];
	json_t *doc = NULL;
	const char *sh;

	if (im->last_ca_valid && memcmp(im->last_ca, ca, 32) == 0) {
		memcpy(name_hash, im->last_ca_name, 32);
		return;
	}
	fw_hex_encode(ca, 32, hex);
	if (fw_registry_doc_get(im->s, "ca", hex, &doc, NULL) != FW_OK)
		return;
	sh = json_string_value(json_object_get(doc, "subject_hash"));
	if (sh && fw_hex_decode(sh, im->last_ca_name, 32) == FW_OK) {
		memcpy(im->last_ca, ca, 32);
		im->last_ca_valid = 1;
		memcpy(name_hash, im->last_ca_name, 32);
	}
	json_decref(doc);
}

/* The certificate field: inline PEM, or a path relative to the file. */
static int cert_field(struct import *im, const struct fw_devrow *row, struct fw_diag *d)
{
	const char *v = row->f[FW_DEVCOL_CERTIFICATE];
	struct fw_cert *c = NULL;
	struct fw_cert_info info;
	struct fw_cert_row cr;
	struct fw_diag why = {{0}};
	uint8_t *file = NULL, *der = NULL;
	size_t len = row->len[FW_DEVCOL_CERTIFICATE], der_len = 0;
	int rc, has;

	if (strncmp(v, "-----BEGIN", 10) == 0) {
		rc = fw_cert_from_pem(v, len, &c, &why);
	} else {
		char path[8192];
		int n = v[0] == '/' ? snprintf(path, sizeof(path), "%s", v)
		                    : snprintf(path, sizeof(path), "%s/%s", im->dir, v);

		if (n < 0 || (size_t)n >= sizeof(path))
			return bad(row, FW_DEVCOL_CERTIFICATE, d, "the certificate path is too long");
		rc = fw_file_read(path, FW_MAX_CERT_PEM, &file, &len, &why);
		if (rc == FW_OK)
			rc = fw_cert_from_pem((const char *)file, len, &c, &why);
		free(file);
	}
	if (rc != FW_OK) /* the file's error (io, too_large, format) as it is */
		return bad_rc(row, FW_DEVCOL_CERTIFICATE, rc, d, "%s", why.msg);
	fw_cert_get_info(c, &info);
	memcpy(im->row.cert, info.sha256, 32);
	im->row.has_cert = 1;
	im->row.ident_ok = fw_cert_names(c, im->row.id);
	rc = fw_store_cert_get(im->s, info.sha256, &cr, d);
	if (rc != FW_E_NOT_FOUND) {
		fw_cert_free(c); /* judged before: the facts are cached (or the store failed) */
		return rc;
	}
	memset(&cr, 0, sizeof(cr));
	memcpy(cr.sha256, info.sha256, 32);
	memcpy(cr.issuer_hash, info.issuer_hash, 32);
	snprintf(cr.serial, sizeof(cr.serial), "%s", info.serial);
	cr.not_before = info.not_before;
	cr.not_after = info.not_after;
	if (info.is_ca) {
		snprintf(cr.chain_error, sizeof(cr.chain_error), "a CA certificate is not a device identity");
	} else {
		uint8_t issuer[32];

		why.msg[0] = 0;
		rc = fw_cert_verify_chain(im->anchors, c, &cr.not_before, &cr.not_after, issuer, &why);
		if (rc == FW_OK) {
			cr.chain_ok = 1;
			/* revocations are matched by the verified issuer's own name
			 * encoding (a CRL is keyed the same way), not by the bytes
			 * the leaf happens to carry */
			issuer_name(im, issuer, cr.issuer_hash);
		}
		else if (rc == FW_E_VERIFY)
			snprintf(cr.chain_error, sizeof(cr.chain_error), "%.199s", why.msg);
		else {
			fw_cert_free(c);
			return bad_rc(row, FW_DEVCOL_CERTIFICATE, rc, d, "%s", why.msg);
		}
	}
	rc = fw_store_crl_entry_has(im->s, cr.issuer_hash, info.serial, &has, d);
	if (rc == FW_OK) {
		cr.revoked = has ? FW_CERT_REVOKED_CRL : FW_CERT_NOT_REVOKED;
		rc = fw_cert_der(c, &der, &der_len, d);
	}
	if (rc == FW_OK) {
		cr.der = der;
		cr.der_len = der_len;
		rc = fw_store_cert_put(im->s, &cr, d);
	}
	free(der);
	fw_cert_free(c);
	if (rc == FW_OK) {
		im->st->certs_new++;
		if (!cr.chain_ok)
			im->st->certs_untrusted++;
	}
	return rc;
}

static int same_row(const struct fw_device_row *a, const struct fw_device_row *b)
{
	return strcmp(a->product, b->product) == 0 && strcmp(a->family, b->family) == 0 &&
	       strcmp(a->hw_revision, b->hw_revision) == 0 &&
	       strcmp(a->fw_version, b->fw_version) == 0 && strcmp(a->cohorts, b->cohorts) == 0 &&
	       strcmp(a->support_until, b->support_until) == 0 &&
	       strcmp(a->lifecycle, b->lifecycle) == 0 && a->has_cert == b->has_cert &&
	       (!a->has_cert || memcmp(a->cert, b->cert, 32) == 0) && a->ident_ok == b->ident_ok;
}

/* A known device whose lifecycle the file changes: a transition like any
 * other, with its own record. */
static int import_lifecycle(struct import *im, const struct fw_devrow *row, struct fw_diag *d)
{
	json_t *rec;
	char next[120];
	int rc;

	if (!fw_lifecycle_allowed(im->old.lifecycle, im->row.lifecycle)) {
		fw_lifecycle_next(im->old.lifecycle, next, sizeof(next));
		return bad(row, FW_DEVCOL_LIFECYCLE, d, "%s -> %s is not allowed (from %s: %s)",
		           im->old.lifecycle, im->row.lifecycle, im->old.lifecycle, next);
	}
	rec = fw_evidence_record_new("device.lifecycle", im->actor);
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_set_new(rec, "device", json_string(im->row.id));
	json_object_set_new(rec, "from", json_string(im->old.lifecycle));
	json_object_set_new(rec, "to", json_string(im->row.lifecycle));
	json_object_set_new(rec, "reason", json_string("device import"));
	{
		uint8_t h[32];
		char hex[65];

		fw_device_row_hash(&im->row, h);
		fw_hex_encode(h, 32, hex);
		json_object_set_new(rec, "row_sha256", json_string(hex));
	}
	rc = fw_evidence_record_ref(rec, im->old.rec, im->old.rec_lh);
	if (rc == FW_OK)
		rc = fw_evidence_record_ref(rec, im->idx, im->lh);
	if (rc == FW_OK)
		rc = fw_evidence_append(im->s, rec, &im->row.rec, im->row.rec_lh, d);
	json_decref(rec);
	if (rc == FW_OK) {
		im->st->lifecycle_changes++;
		im->row.rec_pos = 0;
	}
	return rc;
}

/* The row as written by this import: its hash (fw_device_row_hash, which
 * covers the id) at its position in the file. The import keeps them all as
 * one content-addressed file, 32 bytes per row of the file (zero for a row
 * that changed nothing), whose SHA-256 its device.import.done record holds. */
static int states_room(struct import *im, uint64_t n, struct fw_diag *d)
{
	if (n > im->nstates) {
		size_t cap = im->nstates, old = im->nstates;
		uint8_t (*p)[32] = n > SIZE_MAX ? NULL : fw_grow(im->states, &cap, (size_t)n, 32);

		if (p == NULL)
			return fw_diag_set(d, FW_E_NOMEM, "out of memory");
		memset(p + old, 0, (cap - old) * 32);
		im->states = p;
		im->nstates = cap;
	}
	return FW_OK;
}

static int record_state(struct import *im, const struct fw_device_row *r, struct fw_diag *d)
{
	int rc = states_room(im, im->pos, d);

	if (rc == FW_OK)
		fw_device_row_hash(r, im->states[im->pos - 1]);
	return rc;
}

static int import_row(void *arg, const struct fw_devrow *row, struct fw_diag *d)
{
	struct import *im = arg;
	struct fw_device_row *r = &im->row;
	struct fw_semver v;
	struct fw_diag why = {{0}};
	int64_t days;
	int rc;

	/* every field is set below (a full memset of the row was measurable) */
	r->has_cert = 0;
	r->ident_ok = 0;
	r->rec_pos = 0;
	im->pos++;
	if (!fw_device_id_valid(row->f[FW_DEVCOL_DEVICE_ID]))
		return bad(row, FW_DEVCOL_DEVICE_ID, d,
		           "'%.64s' is not a device id (1 to 128 of A-Z a-z 0-9 . _ : -)",
		           row->f[FW_DEVCOL_DEVICE_ID]);
	memcpy(r->id, row->f[FW_DEVCOL_DEVICE_ID], row->len[FW_DEVCOL_DEVICE_ID] + 1);
	rc = text_field(row, FW_DEVCOL_PRODUCT, r->product, sizeof(r->product), 1, d);
	if (rc == FW_OK)
		rc = text_field(row, FW_DEVCOL_FAMILY, r->family, sizeof(r->family), 1, d);
	if (rc == FW_OK)
		rc = text_field(row, FW_DEVCOL_HW_REVISION, r->hw_revision, sizeof(r->hw_revision), 0,
		                d);
	if (rc != FW_OK)
		return rc;
	if (fw_semver_parse(row->f[FW_DEVCOL_FW_VERSION], &v, &why) != FW_OK)
		return bad(row, FW_DEVCOL_FW_VERSION, d, "not a semantic version: %s", why.msg);
	memcpy(r->fw_version, row->f[FW_DEVCOL_FW_VERSION], row->len[FW_DEVCOL_FW_VERSION] + 1);
	rc = cohorts_field(row, r->cohorts, sizeof(r->cohorts), d);
	if (rc != FW_OK)
		return rc;
	if (fw_date_parse(row->f[FW_DEVCOL_SUPPORT_UNTIL], &days) != FW_OK)
		return bad(row, FW_DEVCOL_SUPPORT_UNTIL, d,
		           "'%.32s' is not a date (YYYY-MM-DD, the last day of security support)",
		           row->f[FW_DEVCOL_SUPPORT_UNTIL]);
	memcpy(r->support_until, row->f[FW_DEVCOL_SUPPORT_UNTIL], 11);
	if (row->len[FW_DEVCOL_LIFECYCLE] && !fw_lifecycle_valid(row->f[FW_DEVCOL_LIFECYCLE]))
		return bad(row, FW_DEVCOL_LIFECYCLE, d,
		           "'%.32s' is not a lifecycle state (manufactured, provisioned, active, "
		           "quarantined, end_of_support, decommissioned)",
		           row->f[FW_DEVCOL_LIFECYCLE]);
	memcpy(r->lifecycle, row->f[FW_DEVCOL_LIFECYCLE], row->len[FW_DEVCOL_LIFECYCLE] + 1);
	if (row->len[FW_DEVCOL_CERTIFICATE]) {
		rc = cert_field(im, row, d);
		if (rc != FW_OK)
			return rc;
	}
	r->rec = im->idx;
	memcpy(r->rec_lh, im->lh, 32);
	r->rec_pos = im->pos;

	/* new devices are the common case: try the insert first */
	if (r->lifecycle[0]) {
		rc = fw_store_device_put(im->s, r, 0, d);
		if (rc == FW_OK) {
			im->st->created++;
			rc = record_state(im, r, d);
			if (rc != FW_OK)
				return rc;
			goto done;
		}
		if (rc != FW_E_CONFLICT)
			return rc;
	}
	rc = fw_store_device_get(im->s, r->id, &im->old, NULL, NULL, &why);
	if (rc == FW_E_NOT_FOUND)
		return bad(row, FW_DEVCOL_LIFECYCLE, d, "a new device needs a lifecycle state");
	if (rc != FW_OK) {
		*d = why;
		return rc;
	}
	/* records from this import's own on have indexes from its record on */
	if (im->old.rec >= im->idx)
		return bad(row, FW_DEVCOL_DEVICE_ID, d, "device %s appears twice in this file", r->id);
	/* empty lifecycle and certificate fields keep what is stored */
	if (r->lifecycle[0] == 0)
		memcpy(r->lifecycle, im->old.lifecycle, sizeof(r->lifecycle));
	if (!r->has_cert && im->old.has_cert) {
		r->has_cert = 1;
		memcpy(r->cert, im->old.cert, 32);
		r->ident_ok = im->old.ident_ok;
	}
	if (same_row(r, &im->old)) {
		im->st->unchanged++;
		goto done;
	}
	if (strcmp(r->lifecycle, im->old.lifecycle) != 0) {
		rc = import_lifecycle(im, row, d);
		if (rc != FW_OK)
			return rc;
	}
	rc = record_state(im, r, d);
	if (rc == FW_OK)
		rc = fw_store_device_put(im->s, r, 1, d);
	if (rc != FW_OK)
		return rc;
	im->st->updated++;
done:
	im->st->rows++;
	return FW_OK;
}

struct import_commit {
	struct import *im;
	FILE *f;
	int states_new;          /* the row-hash file was written by this import */
	uint8_t states_sha[32];
};

static int import_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                        struct fw_diag *d)
{
	struct import_commit *ic = arg;
	struct import *im = ic->im;
	struct fw_import_stats *st = im->st;
	uint64_t rows = 0;
	uint8_t digest[32];
	char hex[65];
	json_t *done;
	int rc;

	im->idx = idx;
	memcpy(im->lh, lh, 32);
	rc = fw_devfile_parse(ic->f, 0, import_row, im, im->progress, im->parg, &rows, d);
	if (rc != FW_OK)
		return rc;
	/* the rows it wrote, kept beside the store (nothing when none was) */
	if (im->states == NULL) {
		memset(digest, 0, 32);
	} else {
		rc = states_room(im, im->pos, d); /* unchanged rows at the end: zeros */
		if (rc != FW_OK)
			return rc;
		rc = fw_store_blob_put(s, (const uint8_t *)im->states, (size_t)im->pos * 32, digest, d);
		if (rc != FW_OK)
			return rc;
		ic->states_new = fw_store_blob_created(s);
		memcpy(ic->states_sha, digest, 32);
	}
	/* what the import did, and the kept row hashes */
	fw_hex_encode(digest, 32, hex);
	done = fw_evidence_record_new("device.import.done", im->actor);
	if (done == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_object_set_new(done, "rows", json_integer((json_int_t)st->rows));
	json_object_set_new(done, "created", json_integer((json_int_t)st->created));
	json_object_set_new(done, "updated", json_integer((json_int_t)st->updated));
	json_object_set_new(done, "unchanged", json_integer((json_int_t)st->unchanged));
	json_object_set_new(done, "lifecycle_changes",
	                    json_integer((json_int_t)st->lifecycle_changes));
	json_object_set_new(done, "certs_new", json_integer((json_int_t)st->certs_new));
	json_object_set_new(done, "states_sha256", json_string(hex));
	json_object_set_new(done, "states_rows", json_integer((json_int_t)(im->states ? im->pos : 0)));
	rc = fw_evidence_record_ref(done, idx, lh) == FW_OK
	         ? fw_evidence_append(s, done, NULL, NULL, d)
	         : fw_diag_set(d, FW_E_NOMEM, "out of memory");
	json_decref(done);
	return rc;
}

int fw_registry_device_import(struct fw_store *s, const char *path, const char *actor,
                              fw_devfile_progress_fn progress, void *parg,
                              struct fw_import_stats *st, struct fw_diag *d)
{
	struct import *im = calloc(1, sizeof(*im));
	struct import_commit ic = {im, NULL, 0, {0}};
	struct fw_evidence_change change = {NULL, import_apply, &ic};
	char blob[4600], hex[65];
	const char *slash;
	uint64_t size = 0;
	int rc, existed = 1;
	json_t *rec = NULL;

	if (im == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	memset(st, 0, sizeof(*st));
	im->s = s;
	im->actor = actor;
	im->st = st;
	im->progress = progress;
	im->parg = parg;
	slash = strrchr(path, '/');
	if (slash)
		snprintf(im->dir, sizeof(im->dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(im->dir, sizeof(im->dir), ".");
	if (slash == path)
		snprintf(im->dir, sizeof(im->dir), "/");

	/* the bytes imported are the bytes kept: copy first, parse the copy */
	rc = fw_store_blob_put_file(s, path, st->file_sha256, &size, d);
	if (rc != FW_OK)
		goto out;
	existed = !fw_store_blob_created(s);
	fw_store_blob_path(s, st->file_sha256, blob, sizeof(blob));
	ic.f = fopen(blob, "rb");
	if (ic.f == NULL) {
		rc = fw_diag_set(d, FW_E_IO, "%s: %s", blob, strerror(errno));
		goto drop;
	}
	rc = fw_registry_anchors(s, &im->anchors, d);
	if (rc != FW_OK)
		goto drop;
	fw_hex_encode(st->file_sha256, 32, hex);
	rec = fw_evidence_record_new("device.import", actor);
	if (rec == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto drop;
	}
	slash = strrchr(path, '/');
	json_object_set_new(rec, "file", json_string(slash ? slash + 1 : path));
	json_object_set_new(rec, "file_sha256", json_string(hex));
	json_object_set_new(rec, "file_size", json_integer((json_int_t)size));
	if (!fw_text_valid(slash ? slash + 1 : path))
		json_object_set_new(rec, "file", json_string("(name not UTF-8)"));
	rc = fw_evidence_commit(s, &change, rec, &st->idx, NULL, d);
	if (rc == FW_OK)
		goto out;
	if (d && strncmp(d->msg, "line ", 5) == 0) {
		/* a row's error: name the file in front of "line N, column C: ..." */
		char msg[FW_DIAG_LEN];

		snprintf(msg, sizeof(msg), "%s", d ? d->msg : "");
		fw_diag_set(d, rc, "%s: %s (nothing was imported)", path, msg);
	}
	if (ic.states_new) {
		char sblob[4600];

		fw_store_blob_path(s, ic.states_sha, sblob, sizeof(sblob));
		unlink(sblob);
	}
drop:
	if (!existed)
		unlink(blob); /* a failed import leaves no copy behind */
out:
	if (ic.f)
		fclose(ic.f);
	json_decref(rec);
	fw_cert_anchors_free(im->anchors);
	free(im->states);
	free(im);
	return rc;
}
