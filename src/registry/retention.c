/*
 * Retention: how long the evidence must be kept at least (registry.h,
 * "retention"; docs/retention.md). fwtrust itself deletes nothing; the
 * setting is the date before which no copy of the store may be destroyed
 * (backups, archives, exported bundles), never earlier than the latest
 * device support period plus ten years (CRA Art. 13(13), 13(9)).
 *
 * The setting is the store's meta key "retention" ("default" or a date);
 * "retention_rec" points ({"idx", "lh"}) at the retention.set record that
 * made it, so an edit of the meta row outside fwtrust is seen.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry/registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evidence/evidence.h"

#define META_SETTING "retention"
#define META_RECORD "retention_rec"
#define DEFAULT "default"

/* ---- dates (days since 1970-01-01, proleptic Gregorian) ---- */

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* H. Hinnant's days_from_civil / civil_from_days: exact for any year here */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void date_text(int64_t days, char out[FW_RETENTION_DATE])
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, FW_RETENTION_DATE, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* The same day `years` later; 29 February becomes 1 March when that year
 * has none, so the span is never shorter than the years asked for. */
static int64_t plus_years(int64_t days, int years)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	y += years;
	if (m == 2 && d == 29 && !leap(y)) {
		m = 3;
		d = 1;
	}
	return days_from_civil(y, m, d);
}

/* ---- the least the policy may keep ---- */

struct support {
	int64_t latest;      /* days; valid when devices > 0 */
	uint64_t at_latest;
	uint64_t devices;
	char bad[FW_FIELD_MAX];
};

static int support_row(void *arg, const struct fw_device_row *dev, const struct fw_cert_row *c)
{
	struct support *sp = arg;
	int64_t days;

	(void)c;
	/* imports check the date: a bad one was written outside fwtrust */
	if (fw_date_parse(dev->support_until, &days) != FW_OK) {
		snprintf(sp->bad, sizeof(sp->bad), "%s", dev->id);
		return FW_E_STORE;
	}
	if (sp->devices == 0 || days > sp->latest) {
		sp->latest = days;
		sp->at_latest = 0;
	}
	if (days == sp->latest)
		sp->at_latest++;
	sp->devices++;
	return 0;
}

/* r->floor, latest_support, latest_support_devices, devices, no_devices */
static int floor_get(struct fw_store *s, int64_t today, struct fw_retention *r,
                     int64_t *floor_days, struct fw_diag *d)
{
	struct support sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	rc = fw_store_device_scan(s, support_row, &sp, d);
	if (rc != FW_OK)
		return sp.bad[0] ? fw_diag_set(d, FW_E_STORE,
		                               "device %s: its support_until is not a date "
		                               "(edited outside fwtrust? run 'fwtrust audit verify')",
		                               sp.bad)
		                 : rc;
	r->devices = sp.devices;
	r->no_devices = sp.devices == 0;
	if (sp.devices == 0) {
		/* nothing says how long support lasts yet: ten years from today */
		r->latest_support[0] = 0;
		r->latest_support_devices = 0;
		*floor_days = plus_years(today, FW_RETENTION_YEARS);
	} else {
		date_text(sp.latest, r->latest_support);
		r->latest_support_devices = sp.at_latest;
		*floor_days = plus_years(sp.latest, FW_RETENTION_YEARS);
	}
	date_text(*floor_days, r->floor);
	return FW_OK;
}

/* ---- the setting and its record ---- */

static int value_ok(const char *v, int64_t *days)
{
	if (v && strcmp(v, DEFAULT) == 0) {
		*days = -1;
		return 1;
	}
	return v && fw_date_parse(v, days) == FW_OK;
}

static int tampered(struct fw_diag *d, const char *what)
{
	return fw_diag_set(d, FW_E_TAMPER,
	                   "the retention setting %s: changed outside fwtrust (run 'fwtrust audit "
	                   "verify'; an admin may set it again with --set)",
	                   what);
}

/*
 * The stored setting, checked against the record that made it: r->setting,
 * has_record, record, by, set_ts, and *days (-1 for default). A missing
 * setting is "default" without a record. On FW_E_TAMPER r->setting holds
 * what the record says (the evidence), or "default" when it cannot be read.
 */
static int setting_get(struct fw_store *s, struct fw_retention *r, int64_t *days,
                       uint64_t *rec_idx, uint8_t rec_lh[32], struct fw_diag *d)
{
	char *val = NULL, *ref = NULL, what[200];
	json_t *refj = NULL, *rec = NULL;
	uint8_t *bytes = NULL, lh[32], stored[32];
	size_t len = 0;
	uint64_t idx = 0;
	const char *v, *by, *type;
	int rc, rc2;

	snprintf(r->setting, sizeof(r->setting), "%s", DEFAULT);
	*days = -1;
	r->has_record = 0;
	r->record = 0;
	r->by[0] = 0;
	r->set_ts = 0;
	rc = fw_store_meta_get(s, META_SETTING, &val, d);
	rc2 = fw_store_meta_get(s, META_RECORD, &ref, d);
	if ((rc != FW_OK && rc != FW_E_NOT_FOUND) || (rc2 != FW_OK && rc2 != FW_E_NOT_FOUND)) {
		rc = rc != FW_OK && rc != FW_E_NOT_FOUND ? rc : rc2;
		goto out;
	}
	if (rc == FW_E_NOT_FOUND && rc2 == FW_E_NOT_FOUND) {
		rc = FW_OK; /* never set: the default */
		goto out;
	}
	if (rc2 == FW_E_NOT_FOUND) {
		snprintf(what, sizeof(what), "'%.40s' has no retention.set record", val);
		rc = tampered(d, what);
		goto out;
	}
	refj = json_loads(ref, 0, NULL);
	if (fw_evidence_ref_parse(refj, &idx, lh) != FW_OK) {
		rc = tampered(d, "points at no record");
		goto out;
	}
	rc = fw_evidence_get(s, idx, &bytes, &len, stored, d);
	if (rc == FW_E_NOT_FOUND) {
		snprintf(what, sizeof(what), "points at record %llu, which is not in the log",
		         (unsigned long long)idx);
		rc = tampered(d, what);
		goto out;
	}
	if (rc != FW_OK)
		goto out;
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	v = json_string_value(json_object_get(rec, "retention"));
	by = json_string_value(json_object_get(rec, "by"));
	type = json_string_value(json_object_get(rec, "type"));
	/* the reference names the record by its leaf hash too: another
	 * record at that index is not the one that made the setting */
	if (memcmp(lh, stored, 32) != 0 || type == NULL || strcmp(type, "retention.set") != 0 ||
	    !value_ok(v, days) || by == NULL) {
		*days = -1;
		snprintf(what, sizeof(what), "points at record %llu, which is not its retention.set",
		         (unsigned long long)idx);
		rc = tampered(d, what);
		goto out;
	}
	/* from here on the record is the setting, whatever the meta row says */
	snprintf(r->setting, sizeof(r->setting), "%s", v);
	r->has_record = 1;
	r->record = idx;
	snprintf(r->by, sizeof(r->by), "%s", by);
	r->set_ts = (int64_t)json_integer_value(json_object_get(rec, "ts"));
	if (rec_idx)
		*rec_idx = idx;
	if (rec_lh)
		memcpy(rec_lh, lh, 32);
	if (rc == FW_OK && (val == NULL || strcmp(val, v) != 0)) {
		snprintf(what, sizeof(what), "'%.40s' is not what its record %llu says ('%s')",
		         val ? val : "(none)", (unsigned long long)idx, v);
		rc = tampered(d, what);
	}
out:
	json_decref(refj);
	json_decref(rec);
	free(bytes);
	free(val);
	free(ref);
	return rc;
}

/* until: the later of the date set and the floor (never shorter) */
static void until_get(struct fw_retention *r, int64_t set_days, int64_t floor_days)
{
	r->overtaken = set_days >= 0 && set_days < floor_days;
	date_text(set_days > floor_days ? set_days : floor_days, r->until);
}

/* ---- what is kept ---- */

static int record_ts(struct fw_store *s, uint64_t idx, int64_t *ts, struct fw_diag *d)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	json_t *rec;
	int rc = fw_evidence_get(s, idx, &bytes, &len, NULL, d);

	if (rc != FW_OK)
		return rc;
	rec = json_loadb((const char *)bytes, len, 0, NULL);
	*ts = json_is_integer(json_object_get(rec, "ts"))
	          ? (int64_t)json_integer_value(json_object_get(rec, "ts"))
	          : 0; /* a record without ts: audit verify names it */
	json_decref(rec);
	free(bytes);
	return FW_OK;
}

static int count_cp(void *arg, uint64_t size, const uint8_t root[32], const char *note)
{
	struct fw_retention *r = arg;

	(void)root;
	(void)note;
	r->checkpoints++;
	if (size > r->checkpoint_size)
		r->checkpoint_size = size;
	return 0;
}

/* Files and bytes under <db>.objects/sha256/xx/: content-addressed blobs. */
static int blobs_count(struct fw_store *s, struct fw_retention *r, struct fw_diag *d)
{
	char root[4200], sub[4480], file[4800]; /* each fits the one before and a name */
	DIR *top, *dir;
	struct dirent *e, *f;
	struct stat st;
	int rc = FW_OK;

	if ((size_t)snprintf(root, sizeof(root), "%s.objects/sha256", s->path) >= sizeof(root))
		return fw_diag_set(d, FW_E_IO, "%s: path too long", s->path);
	top = opendir(root);
	if (top == NULL)
		return errno == ENOENT ? FW_OK : fw_diag_set(d, FW_E_IO, "%s: %s", root, strerror(errno));
	while (rc == FW_OK && (e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", root, e->d_name) >= sizeof(sub))
			continue; /* not a name the store writes (two hex digits) */
		dir = opendir(sub);
		if (dir == NULL) {
			if (errno != ENOTDIR)
				rc = fw_diag_set(d, FW_E_IO, "%s: %s", sub, strerror(errno));
			continue;
		}
		while ((f = readdir(dir)) != NULL) {
			if (f->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(file, sizeof(file), "%s/%s", sub, f->d_name) >= sizeof(file))
				continue; /* not a name the store writes (62 hex digits) */
			if (lstat(file, &st) != 0) {
				rc = fw_diag_set(d, FW_E_IO, "%s: %s", file, strerror(errno));
				break;
			}
			if (!S_ISREG(st.st_mode))
				continue;
			r->blobs++;
			r->blob_bytes += (uint64_t)st.st_size;
		}
		closedir(dir);
	}
	closedir(top);
	return rc;
}

static int view(struct fw_store *s, int64_t today, struct fw_retention *r, struct fw_diag *d)
{
	int64_t set_days = -1, floor_days = 0;
	uint64_t size = 0;
	int rc, tamper;

	memset(r, 0, sizeof(*r));
	rc = floor_get(s, today, r, &floor_days, d);
	if (rc != FW_OK)
		return rc;
	rc = setting_get(s, r, &set_days, NULL, NULL, d);
	if (rc != FW_OK && rc != FW_E_TAMPER)
		return rc;
	/* a tampered setting still yields a view (what the record says, never
	 * below the floor); the caller is told with FW_E_TAMPER */
	tamper = rc == FW_E_TAMPER;
	until_get(r, set_days, floor_days);
	rc = fw_evidence_size(s, &size, NULL, d);
	if (rc != FW_OK)
		return rc;
	r->records = size;
	if (size > 0) {
		rc = record_ts(s, 0, &r->first_ts, d);
		if (rc == FW_OK)
			rc = record_ts(s, size - 1, &r->last_ts, d);
		if (rc != FW_OK)
			return rc;
	}
	/* the store has no count of checkpoints; a scan reads each row once */
	rc = s->ops->checkpoint_scan(s, count_cp, r);
	if (rc != FW_OK) {
		if (d)
			*d = s->err;
		return rc;
	}
	rc = blobs_count(s, r, d);
	if (rc != FW_OK)
		return rc;
	/* d still holds the setting's finding: later steps write it only on failure */
	return tamper ? FW_E_TAMPER : FW_OK;
}

int fw_registry_retention_get(struct fw_store *s, int64_t now, struct fw_retention *r,
                              struct fw_diag *d)
{
	int64_t today = (now >= 0 ? now : now - 86399) / 86400;
	struct fw_retention v;
	int rc;

	if (s == NULL || r == NULL)
		return fw_diag_set(d, FW_E_ARG, "fw_registry_retention_get: bad argument");
	/* one snapshot: the log, the devices and the setting agree */
	rc = fw_store_read_begin(s, d);
	if (rc != FW_OK)
		return rc;
	rc = view(s, today, &v, d);
	fw_store_read_end(s);
	if (rc == FW_OK || rc == FW_E_TAMPER)
		*r = v;
	return rc;
}

/* ---- setting it ---- */

struct set {
	const char *value, *by;
	int64_t today;
	struct fw_retention_change *out;
	int unchanged;
};

/* Everything is judged inside the write transaction: the operator, the
 * previous setting, and the floor against the devices as they are now. */
static int set_prepare(struct fw_store *s, void *arg, json_t *record, struct fw_diag *d)
{
	static const char *const roles[] = {FW_OP_ADMIN, NULL};
	struct set *a = arg;
	struct fw_retention r;
	json_t *op = NULL;
	uint64_t op_idx = 0, prev_idx = 0;
	uint8_t op_lh[32], prev_lh[32];
	int64_t floor_days = 0, set_days = -1, prev_days = -1;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = fw_registry_operator_role(s, a->by, roles, &op, d);
	if (rc == FW_OK && fw_evidence_ref_parse(json_object_get(op, "added"), &op_idx, op_lh) != FW_OK)
		rc = fw_diag_set(d, FW_E_STORE, "operator %s: its record reference is malformed", a->by);
	json_decref(op);
	if (rc != FW_OK)
		return rc;
	rc = floor_get(s, a->today, &r, &floor_days, d);
	if (rc != FW_OK)
		return rc;
	/* a tampered setting: what its record says is the previous one */
	rc = setting_get(s, &r, &prev_days, &prev_idx, prev_lh, d);
	if (rc != FW_OK && rc != FW_E_TAMPER)
		return rc;
	(void)prev_days;
	if (!value_ok(a->value, &set_days))
		return fw_diag_set(d, FW_E_ARG, "'%.40s' is not a date (YYYY-MM-DD) or 'default'",
		                   a->value);
	if (set_days >= 0 && set_days < floor_days) {
		if (r.no_devices)
			return fw_diag_set(d, FW_E_VERIFY,
			                   "%s is earlier than %s, ten years from today (no device is in "
			                   "the registry yet; CRA Art. 13(13)): the policy may keep "
			                   "longer, never shorter",
			                   a->value, r.floor);
		return fw_diag_set(d, FW_E_VERIFY,
		                   "%s is earlier than %s, the latest device support period (%s) "
		                   "plus ten years (CRA Art. 13(13)): the policy may keep longer, "
		                   "never shorter",
		                   a->value, r.floor, r.latest_support);
	}
	until_get(&r, set_days, floor_days);
	snprintf(a->out->previous, sizeof(a->out->previous), "%s", r.setting);
	snprintf(a->out->until, sizeof(a->out->until), "%s", r.until);
	/* the same setting again records nothing (unless its row was edited:
	 * then setting it again puts the row right, on record) */
	if (rc == FW_OK && strcmp(r.setting, a->value) == 0) {
		a->unchanged = 1;
		return FW_E_CONFLICT; /* the caller turns it into FW_OK */
	}
	json_object_set_new(record, "retention", json_string(a->value));
	json_object_set_new(record, "until", json_string(r.until));
	json_object_set_new(record, "by", json_string(a->by));
	json_object_set_new(record, "previous", json_string(r.setting));
	rc = fw_evidence_record_ref(record, op_idx, op_lh);
	if (rc == FW_OK && r.has_record)
		rc = fw_evidence_record_ref(record, prev_idx, prev_lh);
	return rc == FW_OK ? FW_OK : fw_diag_set(d, FW_E_NOMEM, "out of memory");
}

static int set_apply(struct fw_store *s, void *arg, uint64_t idx, const uint8_t lh[32],
                     struct fw_diag *d)
{
	struct set *a = arg;
	json_t *ref = fw_evidence_ref_json(idx, lh);
	char *text = ref ? json_dumps(ref, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc;

	json_decref(ref);
	if (text == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_store_meta_set(s, META_SETTING, a->value, d);
	if (rc == FW_OK)
		rc = fw_store_meta_set(s, META_RECORD, text, d);
	free(text);
	return rc;
}

int fw_registry_retention_set(struct fw_store *s, const char *value, const char *by,
                              const char *actor, int64_t now, struct fw_retention_change *out,
                              struct fw_diag *d)
{
	struct fw_retention_change c;
	struct set a;
	struct fw_evidence_change change = {set_prepare, set_apply, &a};
	int64_t days;
	json_t *rec;
	int rc;

	if (s == NULL || by == NULL || actor == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "fw_registry_retention_set: bad argument");
	if (!value_ok(value, &days))
		return fw_diag_set(d, FW_E_ARG, "'%.40s' is not a date (YYYY-MM-DD) or 'default'",
		                   value ? value : "");
	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	a.value = value;
	a.by = by;
	a.today = (now >= 0 ? now : now - 86399) / 86400;
	a.out = &c;
	rec = fw_evidence_record_new("retention.set", actor);
	if (rec == NULL)
		return fw_diag_set(d, FW_E_NOMEM, "out of memory");
	rc = fw_evidence_commit(s, &change, rec, &c.idx, NULL, d);
	json_decref(rec);
	if (rc == FW_E_CONFLICT && a.unchanged) {
		c.changed = 0;
		c.idx = 0;
		rc = FW_OK;
	} else if (rc == FW_OK) {
		c.changed = 1;
	}
	if (rc == FW_OK)
		*out = c;
	return rc;
}
