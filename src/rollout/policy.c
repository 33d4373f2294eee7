/*
 * Campaign policy files (docs/campaign-policy.md): untrusted JSON into a
 * struct fw_campaign_policy, and the normalized JSON that gets hashed.
 *
 * jansson parses (duplicate keys refused); this file walks the result
 * against the schema by hand so every refusal names its JSON path. The
 * policy is small and bounded (FW_CAMPAIGN_MAX_POLICY), so the quadratic
 * duplicate checks below (at most 64 cohorts, 16 stages) cost nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rollout/rollout.h"

#define SHOWN 40           /* bytes of an untrusted value or key shown in a message */
#define CLEAN_CAP (SHOWN * 4 + 8)
#define PATH_CAP 256       /* a JSON path in a message: known keys plus one shown key */
#define LABEL_SHOWN 160    /* bytes of the label shown */

/* bounds of the schema (docs/campaign-policy.md) */
#define NAME_MAX_BYTES 128
#define TEXT_MAX_BYTES 255
#define STAGE_NAME_MAX 64
#define MAX_COHORTS 64
#define MAX_HW 16
#define HEX_MIN 8
#define HEX_MAX 64
#define MAX_COUNT 10000000u
#define MAX_APPROVALS 10u
#define MAX_SOAK_S 31536000u
#define MAX_MIN_REPORTS 1000000u
#define MAX_ATTEMPTS 10u
#define MAX_BACKOFF_S 604800u
#define MIN_REPORT_TIMEOUT_S 60u
#define MAX_REPORT_TIMEOUT_S 2592000u

/* defaults */
#define DEF_SUCCESS_THRESHOLD 95u
#define DEF_FAIL_RATE_PERCENT 10u
#define DEF_FAIL_RATE_MIN_REPORTS 20u
#define DEF_RETRY_MAX_ATTEMPTS 3u
#define DEF_RETRY_BACKOFF_S 600u
#define DEF_REPORT_TIMEOUT_S 86400u

struct ctx {
	char label[LABEL_SHOWN * 4 + 8];
	struct fw_diag *d;
};

static const char *const top_keys[] = {"name",     "release", "targeting",        "stages",
                                       "success_threshold", "pause", "retry",
                                       "report_timeout_s", "rollback", "quarantine",
                                       "remediates", NULL};
static const char *const targeting_keys[] = {"cohorts", "product", "family", "hw_revisions",
                                             "versions", NULL};
static const char *const stage_keys[] = {"name", "size", "approvals", "soak_s", NULL};
static const char *const size_keys[] = {"percent", "count", "cohort", NULL};
static const char *const pause_keys[] = {"failure_rate", "max_failures", "on_integrity_failure",
                                         NULL};
static const char *const rate_keys[] = {"percent", "min_reports", NULL};
static const char *const retry_keys[] = {"max_attempts", "backoff_s", NULL};
static const char *const rollback_keys[] = {"release", "automatic", NULL};
static const char *const quarantine_keys[] = {"after_failed_attempts", "on_integrity_failure",
                                              NULL};

/* Untrusted bytes into a one-line message: printable ASCII as is, anything
 * else as \xNN, at most max bytes of input then "...". out has
 * max * 4 + 8 bytes. */
static void clean(char *out, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int fail(const struct ctx *c, int rc, const char *at, const char *fmt, ...)
    FW_PRINTF(4, 5);

/* "LABEL: <at>: <why>" */
static int fail(const struct ctx *c, int rc, const char *at, const char *fmt, ...)
{
	char why[FW_DIAG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return fw_diag_set(c->d, rc, "%s: %s: %s", c->label, at, why);
}

/* Paths are built by hand rather than with snprintf: a path longer than
 * PATH_CAP (only possible with a shown unknown key) is cut, never overrun. */
static void append(char *out, size_t *o, const char *s)
{
	while (*s && *o + 1 < PATH_CAP)
		out[(*o)++] = *s++;
	out[*o] = '\0';
}

static void join(char *out, const char *parent, const char *key)
{
	size_t o = 0;

	out[0] = '\0';
	append(out, &o, parent);
	if (parent[0])
		append(out, &o, ".");
	append(out, &o, key);
}

static void index_path(char *out, const char *parent, size_t i)
{
	char num[24], *p = num + sizeof(num);
	size_t o = 0;

	*--p = '\0';
	*--p = ']';
	do {
		*--p = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	*--p = '[';
	out[0] = '\0';
	append(out, &o, parent);
	append(out, &o, p);
}

static const char *kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction or exponent";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "an unknown value";
}

/* Refuse keys of obj outside known, naming the first and the known set. */
static int only_keys(const struct ctx *c, json_t *obj, const char *at, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char shown[CLEAN_CAP], where[PATH_CAP], list[160];
		size_t i, o = 0;

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; known[i] != NULL; i++) {
			int n = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", known[i]);

			if (n < 0 || (size_t)n >= sizeof(list) - o)
				break;
			o += (size_t)n;
		}
		clean(shown, key, strlen(key), SHOWN);
		join(where, at, shown);
		return fail(c, FW_E_FORMAT, where, "unknown key (%s)", list);
	}
	return FW_OK;
}

static int want_object(const struct ctx *c, json_t *v, const char *at, const char *const *known)
{
	if (!json_is_object(v))
		return fail(c, FW_E_FORMAT, at, "%s, not an object", kind(v));
	return only_keys(c, v, at, known);
}

static int int_value(const struct ctx *c, json_t *v, const char *at, uint64_t min, uint64_t max,
                     uint64_t *out)
{
	json_int_t x;

	/* "1.0", "1e2" and "1" in quotes are not integers: refuse, don't convert */
	if (!json_is_integer(v))
		return fail(c, FW_E_FORMAT, at, "%s, not an integer", kind(v));
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return fail(c, FW_E_FORMAT, at, "%lld is not %llu..%llu", (long long)x,
		            (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)x;
	return FW_OK;
}

/* Optional integer member: absent -> def. */
static int opt_int(const struct ctx *c, json_t *obj, const char *at, const char *key, uint64_t min,
                   uint64_t max, uint64_t def, uint64_t *out)
{
	char where[PATH_CAP];
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*out = def;
		return FW_OK;
	}
	join(where, at, key);
	return int_value(c, v, where, min, max, out);
}

static int opt_u32(const struct ctx *c, json_t *obj, const char *at, const char *key, uint32_t min,
                   uint32_t max, uint32_t def, uint32_t *out)
{
	uint64_t x;
	int rc = opt_int(c, obj, at, key, min, max, def, &x);

	if (rc == FW_OK)
		*out = (uint32_t)x;
	return rc;
}

static int bool_value(const struct ctx *c, json_t *v, const char *at, int *out)
{
	if (!json_is_boolean(v))
		return fail(c, FW_E_FORMAT, at, "%s, not true or false", kind(v));
	*out = json_is_true(v);
	return FW_OK;
}

/* on_integrity_failure: may be given, but only as true */
static int always_true(const struct ctx *c, json_t *obj, const char *at, const char *why)
{
	char where[PATH_CAP];
	json_t *v = json_object_get(obj, "on_integrity_failure");
	int b;
	int rc;

	if (v == NULL)
		return FW_OK;
	join(where, at, "on_integrity_failure");
	rc = bool_value(c, v, where, &b);
	if (rc != FW_OK)
		return rc;
	if (!b)
		return fail(c, FW_E_FORMAT, where, "false is not allowed: %s", why);
	return FW_OK;
}

static int string_value(const struct ctx *c, json_t *v, const char *at, const char **s,
                        size_t *len)
{
	if (!json_is_string(v))
		return fail(c, FW_E_FORMAT, at, "%s, not a string", kind(v));
	*s = json_string_value(v);
	*len = json_string_length(v);
	/* jansson refuses \u0000 without JSON_ALLOW_NUL; check, don't trust a flag */
	if (memchr(*s, '\0', *len) != NULL)
		return fail(c, FW_E_FORMAT, at, "NUL character");
	return FW_OK;
}

static int length_ok(const struct ctx *c, const char *at, size_t len, size_t max)
{
	if (len == 0)
		return fail(c, FW_E_FORMAT, at, "empty (1..%zu bytes)", max);
	if (len > max)
		return fail(c, FW_E_FORMAT, at, "%zu bytes, more than %zu", len, max);
	return FW_OK;
}

/* UTF-8 text without control characters, 1..max bytes; out has max+1 bytes */
static int text_value(const struct ctx *c, json_t *v, const char *at, size_t max, char *out)
{
	const char *s;
	size_t len;
	int rc = string_value(c, v, at, &s, &len);

	if (rc == FW_OK)
		rc = length_ok(c, at, len, max);
	if (rc != FW_OK)
		return rc;
	if (!fw_text_valid(s)) {
		char shown[CLEAN_CAP];

		clean(shown, s, len, SHOWN);
		return fail(c, FW_E_FORMAT, at, "\"%s\" is not UTF-8 text without control characters",
		            shown);
	}
	memcpy(out, s, len + 1);
	return FW_OK;
}

static int name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* [A-Za-z0-9._-]{1,max}; out has max+1 bytes */
static int name_value(const struct ctx *c, json_t *v, const char *at, size_t max, char *out)
{
	const char *s;
	size_t len, i;
	int rc = string_value(c, v, at, &s, &len);

	if (rc == FW_OK)
		rc = length_ok(c, at, len, max);
	if (rc != FW_OK)
		return rc;
	for (i = 0; i < len; i++) {
		if (!name_char(s[i])) {
			char shown[CLEAN_CAP];

			clean(shown, s, len, SHOWN);
			return fail(c, FW_E_FORMAT, at,
			            "\"%s\": byte %zu is not one of A-Z a-z 0-9 . _ -", shown, i + 1);
		}
	}
	memcpy(out, s, len + 1);
	return FW_OK;
}

/* a release id or unique prefix: 8..64 lower-case hex digits */
static int hex_value(const struct ctx *c, json_t *v, const char *at, char out[HEX_MAX + 1])
{
	const char *s;
	size_t len, i;
	int rc = string_value(c, v, at, &s, &len);

	if (rc != FW_OK)
		return rc;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			break;
	if (i < len || len < HEX_MIN || len > HEX_MAX) {
		char shown[CLEAN_CAP];

		clean(shown, s, len, SHOWN);
		return fail(c, FW_E_FORMAT, at,
		            "\"%s\" is not a release id or prefix (%d..%d lower-case hex digits)",
		            shown, HEX_MIN, HEX_MAX);
	}
	memcpy(out, s, len + 1);
	return FW_OK;
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* An advisory id (fw_advisory_id_valid); out has max+1 bytes */
static int advisory_value(const struct ctx *c, json_t *v, const char *at, size_t max, char *out)
{
	const char *s;
	size_t len;
	int rc = string_value(c, v, at, &s, &len);

	if (rc != FW_OK)
		return rc;
	if (!fw_advisory_id_valid(s) || len > max) {
		char shown[CLEAN_CAP];

		clean(shown, s, len, SHOWN);
		return fail(c, FW_E_FORMAT, at,
		            "\"%s\" is not an advisory id (1..%d of A-Z a-z 0-9 . _ : -, "
		            "starting with a letter or digit)",
		            shown, FW_ADVISORY_ID_MAX);
	}
	memcpy(out, s, len + 1);
	return FW_OK;
}

/* checks one value and copies it into out (max+1 bytes) */
typedef int (*value_fn)(const struct ctx *c, json_t *v, const char *at, size_t max, char *out);

/* An optional array of at most maxn distinct strings, each checked by value
 * into a row of width bytes (zeroed by the caller), sorted by bytes: it is a
 * set, and the normalized form should not depend on the order it was
 * written in. */
static int string_set(const struct ctx *c, json_t *obj, const char *at, const char *key,
                      size_t maxn, value_fn value, char *out, size_t width, size_t *n)
{
	char where[PATH_CAP], item[PATH_CAP];
	json_t *arr = json_object_get(obj, key);
	size_t i, j;
	int rc;

	*n = 0;
	if (arr == NULL)
		return FW_OK;
	join(where, at, key);
	if (!json_is_array(arr))
		return fail(c, FW_E_FORMAT, where, "%s, not an array", kind(arr));
	if (json_array_size(arr) > maxn)
		return fail(c, FW_E_FORMAT, where, "%zu entries, more than %zu", json_array_size(arr),
		            maxn);
	for (i = 0; i < json_array_size(arr); i++) {
		char *row = out + i * width;

		index_path(item, where, i);
		rc = value(c, json_array_get(arr, i), item, width - 1, row);
		if (rc != FW_OK)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(out + j * width, row) == 0) {
				char shown[CLEAN_CAP];

				clean(shown, row, strlen(row), SHOWN);
				return fail(c, FW_E_FORMAT, item, "\"%s\" repeats %s[%zu]", shown, where,
				            j);
			}
		}
	}
	*n = i;
	qsort(out, *n, width, cmp_row);
	return FW_OK;
}

/* a version range (fw_range_parse), kept parsed and as canonical text */
static int versions_value(const struct ctx *c, json_t *v, const char *at,
                          struct fw_campaign_policy *p)
{
	struct fw_diag why = {{0}};
	const char *s;
	size_t len;
	int rc = string_value(c, v, at, &s, &len);

	if (rc == FW_OK)
		rc = length_ok(c, at, len, FW_RANGE_MAX);
	if (rc != FW_OK)
		return rc;
	/* straight into the policy: fw_range_parse writes every byte of it */
	if (fw_range_parse(s, &p->versions, &why) != FW_OK) {
		char shown[CLEAN_CAP];

		clean(shown, s, len, SHOWN);
		return fail(c, FW_E_FORMAT, at, "\"%s\" is not a version range: %s", shown, why.msg);
	}
	fw_range_format(&p->versions, p->versions_text, sizeof(p->versions_text));
	p->has_versions = 1;
	return FW_OK;
}

static int parse_targeting(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	json_t *t = json_object_get(root, "targeting"), *v;
	int rc;

	if (t == NULL)
		return FW_OK;
	rc = want_object(c, t, "targeting", targeting_keys);
	if (rc == FW_OK)
		rc = string_set(c, t, "targeting", "cohorts", MAX_COHORTS, name_value, p->cohorts[0],
		                sizeof(p->cohorts[0]), &p->ncohorts);
	if (rc == FW_OK)
		rc = string_set(c, t, "targeting", "hw_revisions", MAX_HW, text_value, p->hw[0],
		                sizeof(p->hw[0]), &p->nhw);
	/* null = any, as written by fw_campaign_policy_json */
	v = json_object_get(t, "product");
	if (rc == FW_OK && v != NULL && !json_is_null(v))
		rc = text_value(c, v, "targeting.product", TEXT_MAX_BYTES, p->product);
	v = json_object_get(t, "family");
	if (rc == FW_OK && v != NULL && !json_is_null(v))
		rc = text_value(c, v, "targeting.family", TEXT_MAX_BYTES, p->family);
	v = json_object_get(t, "versions");
	if (rc == FW_OK && v != NULL && !json_is_null(v))
		rc = versions_value(c, v, "targeting.versions", p);
	return rc;
}

/* ---- remediates: advisory ids ---- */

static int parse_remediates(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	return string_set(c, root, "", "remediates", FW_CAMPAIGN_MAX_REMEDIATES, advisory_value,
	                  p->remediates[0], sizeof(p->remediates[0]), &p->nremediates);
}

int fw_campaign_policy_remediates_add(struct fw_campaign_policy *p, const char *id,
                                      struct fw_diag *d)
{
	char shown[CLEAN_CAP];
	size_t i, n;

	if (p == NULL || id == NULL)
		return fw_diag_set(d, FW_E_ARG, "no policy or no advisory id");
	if (!fw_advisory_id_valid(id)) {
		clean(shown, id, strlen(id), SHOWN);
		return fw_diag_set(d, FW_E_ARG,
		                   "--remediates '%s': not an advisory id (1..%d of A-Z a-z 0-9 . _ : "
		                   "-, starting with a letter or digit)",
		                   shown, FW_ADVISORY_ID_MAX);
	}
	n = p->nremediates;
	for (i = 0; i < n; i++)
		if (strcmp(p->remediates[i], id) == 0)
			return FW_OK;
	if (n >= FW_CAMPAIGN_MAX_REMEDIATES)
		return fw_diag_set(d, FW_E_TOO_LARGE,
		                   "--remediates %s: the policy names %d advisories already (at most %d)",
		                   id, FW_CAMPAIGN_MAX_REMEDIATES, FW_CAMPAIGN_MAX_REMEDIATES);
	/* zero-filled, so equal policies still compare equal byte for byte */
	memset(p->remediates[n], 0, sizeof(p->remediates[n]));
	memcpy(p->remediates[n], id, strlen(id) + 1);
	p->nremediates = n + 1;
	qsort(p->remediates, p->nremediates, sizeof(p->remediates[0]), cmp_row);
	return FW_OK;
}

static int parse_size(const struct ctx *c, json_t *size, const char *at,
                      struct fw_campaign_stage *st)
{
	char where[PATH_CAP];
	const char *given[3];
	size_t n = 0, i;
	uint64_t x;
	int rc = want_object(c, size, at, size_keys);

	if (rc != FW_OK)
		return rc;
	for (i = 0; size_keys[i] != NULL; i++)
		if (json_object_get(size, size_keys[i]) != NULL)
			given[n++] = size_keys[i];
	if (n == 0)
		return fail(c, FW_E_FORMAT, at, "empty: give exactly one of percent, count, cohort");
	if (n > 1)
		return fail(c, FW_E_FORMAT, at,
		            "both %s and %s: give exactly one of percent, count, cohort", given[0],
		            given[1]);
	join(where, at, given[0]);
	if (strcmp(given[0], "percent") == 0) {
		rc = int_value(c, json_object_get(size, "percent"), where, 1, 100, &x);
		st->size_kind = FW_STAGE_PERCENT;
		st->percent = (uint32_t)x;
	} else if (strcmp(given[0], "count") == 0) {
		rc = int_value(c, json_object_get(size, "count"), where, 1, MAX_COUNT, &x);
		st->size_kind = FW_STAGE_COUNT;
		st->count = x;
	} else {
		rc = name_value(c, json_object_get(size, "cohort"), where, TEXT_MAX_BYTES, st->cohort);
		st->size_kind = FW_STAGE_COHORT;
	}
	return rc;
}

static int parse_stage(const struct ctx *c, json_t *v, const char *at,
                       struct fw_campaign_stage *st)
{
	char where[PATH_CAP];
	json_t *x;
	uint64_t u;
	int rc = want_object(c, v, at, stage_keys);

	if (rc != FW_OK)
		return rc;
	join(where, at, "name");
	x = json_object_get(v, "name");
	if (x == NULL)
		return fail(c, FW_E_FORMAT, where, "missing (required)");
	rc = name_value(c, x, where, STAGE_NAME_MAX, st->name);
	if (rc != FW_OK)
		return rc;
	join(where, at, "size");
	x = json_object_get(v, "size");
	if (x == NULL)
		return fail(c, FW_E_FORMAT, where, "missing (required)");
	rc = parse_size(c, x, where, st);
	if (rc == FW_OK)
		rc = opt_int(c, v, at, "approvals", 0, MAX_APPROVALS, 0, &u);
	if (rc != FW_OK)
		return rc;
	st->approvals = (uint32_t)u;
	return opt_int(c, v, at, "soak_s", 0, MAX_SOAK_S, 0, &st->soak_s);
}

static void describe_size(const struct fw_campaign_stage *st, char *out, size_t cap)
{
	char shown[CLEAN_CAP];

	switch (st->size_kind) {
	case FW_STAGE_PERCENT:
		snprintf(out, cap, "{\"percent\": %u}", (unsigned)st->percent);
		break;
	case FW_STAGE_COUNT:
		snprintf(out, cap, "{\"count\": %llu}", (unsigned long long)st->count);
		break;
	default:
		clean(shown, st->cohort, strlen(st->cohort), SHOWN);
		snprintf(out, cap, "{\"cohort\": \"%s\"}", shown);
	}
}

static int parse_stages(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	char at[PATH_CAP], where[PATH_CAP];
	json_t *arr = json_object_get(root, "stages");
	size_t i, j, n, last_pct = 0;
	int rc;

	if (arr == NULL)
		return fail(c, FW_E_FORMAT, "stages", "missing (required)");
	if (!json_is_array(arr))
		return fail(c, FW_E_FORMAT, "stages", "%s, not an array", kind(arr));
	n = json_array_size(arr);
	if (n == 0 || n > FW_CAMPAIGN_MAX_STAGES)
		return fail(c, FW_E_FORMAT, "stages", "%zu entries, not 1..%d", n,
		            FW_CAMPAIGN_MAX_STAGES);
	for (i = 0; i < n; i++) {
		struct fw_campaign_stage *st = &p->stages[i];

		index_path(at, "stages", i);
		rc = parse_stage(c, json_array_get(arr, i), at, st);
		if (rc != FW_OK)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(p->stages[j].name, st->name) == 0) {
				join(where, at, "name");
				return fail(c, FW_E_FORMAT, where, "\"%s\" repeats stages[%zu].name",
				            st->name, j);
			}
		}
		/* cumulative: stage k covers the devices whose stable hash falls
		 * under its percent, so a smaller or equal one adds nobody */
		if (st->size_kind == FW_STAGE_PERCENT) {
			if (last_pct > 0 && st->percent <= p->stages[last_pct - 1].percent) {
				join(where, at, "size.percent");
				return fail(c, FW_E_FORMAT, where,
				            "%u is not more than %u of stages[%zu] (percents are cumulative "
				            "and must increase)",
				            (unsigned)st->percent,
				            (unsigned)p->stages[last_pct - 1].percent, last_pct - 1);
			}
			last_pct = i + 1;
		}
	}
	p->nstages = n;
	if (p->stages[n - 1].size_kind != FW_STAGE_PERCENT || p->stages[n - 1].percent != 100) {
		char is[CLEAN_CAP + 32];

		describe_size(&p->stages[n - 1], is, sizeof(is));
		index_path(at, "stages", n - 1);
		join(where, at, "size");
		return fail(c, FW_E_FORMAT, where,
		            "the last stage must be {\"percent\": 100} so that everyone eligible is "
		            "covered; it is %s",
		            is);
	}
	return FW_OK;
}

static int parse_pause(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	json_t *pause = json_object_get(root, "pause"), *rate, *mf;
	uint64_t x;
	int rc;

	p->fail_rate_percent = DEF_FAIL_RATE_PERCENT;
	p->fail_rate_min_reports = DEF_FAIL_RATE_MIN_REPORTS;
	p->max_failures = 0;
	if (pause == NULL)
		return FW_OK;
	rc = want_object(c, pause, "pause", pause_keys);
	if (rc != FW_OK)
		return rc;
	rate = json_object_get(pause, "failure_rate");
	if (rate != NULL) {
		rc = want_object(c, rate, "pause.failure_rate", rate_keys);
		if (rc == FW_OK)
			rc = opt_u32(c, rate, "pause.failure_rate", "percent", 1, 100,
			             DEF_FAIL_RATE_PERCENT, &p->fail_rate_percent);
		if (rc == FW_OK)
			rc = opt_int(c, rate, "pause.failure_rate", "min_reports", 1, MAX_MIN_REPORTS,
			             DEF_FAIL_RATE_MIN_REPORTS, &p->fail_rate_min_reports);
		if (rc != FW_OK)
			return rc;
	}
	mf = json_object_get(pause, "max_failures");
	if (mf != NULL && !json_is_null(mf)) {
		rc = int_value(c, mf, "pause.max_failures", 1, MAX_COUNT, &x);
		if (rc != FW_OK)
			return rc;
		p->max_failures = x;
	}
	return always_true(c, pause, "pause", "an integrity failure always pauses the campaign");
}

static int parse_rollback(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	json_t *rb = json_object_get(root, "rollback"), *v;
	size_t a, b;
	int rc;

	if (rb == NULL || json_is_null(rb))
		return FW_OK; /* null = none, as written by fw_campaign_policy_json */
	rc = want_object(c, rb, "rollback", rollback_keys);
	if (rc != FW_OK)
		return rc;
	v = json_object_get(rb, "release");
	if (v == NULL)
		return fail(c, FW_E_FORMAT, "rollback.release", "missing (required in rollback)");
	rc = hex_value(c, v, "rollback.release", p->rollback_release);
	if (rc != FW_OK)
		return rc;
	/* both are ids or unique prefixes: if one is a prefix of the other,
	 * they resolve to the same release */
	a = strlen(p->rollback_release);
	b = strlen(p->release);
	if (memcmp(p->rollback_release, p->release, a < b ? a : b) == 0)
		return fail(c, FW_E_FORMAT, "rollback.release",
		            "%s names the release being rolled out (release %s): rolling back to it "
		            "undoes nothing",
		            p->rollback_release, p->release);
	v = json_object_get(rb, "automatic");
	if (v != NULL)
		return bool_value(c, v, "rollback.automatic", &p->rollback_automatic);
	return FW_OK;
}

static int parse_quarantine(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	json_t *q = json_object_get(root, "quarantine");
	int rc;

	p->quarantine_after = p->retry_max_attempts;
	if (q == NULL)
		return FW_OK;
	rc = want_object(c, q, "quarantine", quarantine_keys);
	if (rc == FW_OK)
		rc = opt_u32(c, q, "quarantine", "after_failed_attempts", 1, MAX_ATTEMPTS,
		             p->retry_max_attempts, &p->quarantine_after);
	if (rc != FW_OK)
		return rc;
	if (p->quarantine_after > p->retry_max_attempts)
		return fail(c, FW_E_FORMAT, "quarantine.after_failed_attempts",
		            "%u is more than retry.max_attempts (%u): a device never fails that many "
		            "attempts",
		            (unsigned)p->quarantine_after, (unsigned)p->retry_max_attempts);
	return always_true(c, q, "quarantine",
	                   "a device that fails an integrity check is always quarantined");
}

static int parse_root(const struct ctx *c, json_t *root, struct fw_campaign_policy *p)
{
	json_t *v, *retry;
	int rc;

	if (!json_is_object(root))
		return fail(c, FW_E_FORMAT, "top level", "%s, not an object", kind(root));
	rc = only_keys(c, root, "", top_keys);
	if (rc != FW_OK)
		return rc;

	v = json_object_get(root, "name");
	if (v == NULL)
		return fail(c, FW_E_FORMAT, "name", "missing (required)");
	rc = text_value(c, v, "name", NAME_MAX_BYTES, p->name);
	if (rc != FW_OK)
		return rc;
	v = json_object_get(root, "release");
	if (v == NULL)
		return fail(c, FW_E_FORMAT, "release", "missing (required)");
	rc = hex_value(c, v, "release", p->release);
	if (rc == FW_OK)
		rc = parse_targeting(c, root, p);
	if (rc == FW_OK)
		rc = parse_stages(c, root, p);
	if (rc == FW_OK)
		rc = opt_u32(c, root, "", "success_threshold", 1, 100, DEF_SUCCESS_THRESHOLD,
		             &p->success_threshold);
	if (rc == FW_OK)
		rc = parse_pause(c, root, p);
	if (rc != FW_OK)
		return rc;

	p->retry_max_attempts = DEF_RETRY_MAX_ATTEMPTS;
	p->retry_backoff_s = DEF_RETRY_BACKOFF_S;
	retry = json_object_get(root, "retry");
	if (retry != NULL) {
		rc = want_object(c, retry, "retry", retry_keys);
		if (rc == FW_OK)
			rc = opt_u32(c, retry, "retry", "max_attempts", 1, MAX_ATTEMPTS,
			             DEF_RETRY_MAX_ATTEMPTS, &p->retry_max_attempts);
		if (rc == FW_OK)
			rc = opt_int(c, retry, "retry", "backoff_s", 0, MAX_BACKOFF_S,
			             DEF_RETRY_BACKOFF_S, &p->retry_backoff_s);
		if (rc != FW_OK)
			return rc;
	}
	rc = opt_int(c, root, "", "report_timeout_s", MIN_REPORT_TIMEOUT_S, MAX_REPORT_TIMEOUT_S,
	             DEF_REPORT_TIMEOUT_S, &p->report_timeout_s);
	if (rc == FW_OK)
		rc = parse_rollback(c, root, p);
	if (rc == FW_OK)
		rc = parse_quarantine(c, root, p);
	if (rc == FW_OK)
		rc = parse_remediates(c, root, p);
	return rc;
}

int fw_campaign_policy_parse(const char *json, size_t len, const char *label,
                             struct fw_campaign_policy *out, struct fw_diag *d)
{
	struct fw_campaign_policy *p = NULL;
	struct ctx c;
	json_error_t je;
	json_t *root = NULL;
	int rc;

	if (label == NULL)
		label = "policy";
	c.d = d;
	clean(c.label, label, strlen(label), LABEL_SHOWN);
	if (json == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "%s: no policy text or no output", c.label);
	if (len > FW_CAMPAIGN_MAX_POLICY)
		return fw_diag_set(d, FW_E_TOO_LARGE, "%s: %zu bytes, more than the limit of %d",
		                   c.label, len, FW_CAMPAIGN_MAX_POLICY);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		char why[sizeof(je.text) * 4 + 8];

		clean(why, je.text, strnlen(je.text, sizeof(je.text)), sizeof(je.text));
		return fw_diag_set(d, FW_E_FORMAT, "%s: line %d, column %d: invalid JSON: %s", c.label,
		                   je.line, je.column, why);
	}
	/* zeroed, so unused text and padding are zero and parses compare
	 * equal byte for byte; *out is written only on success */
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "%s: out of memory", c.label);
		goto out;
	}
	rc = parse_root(&c, root, p);
	if (rc == FW_OK)
		memcpy(out, p, sizeof(*p));
out:
	free(p);
	json_decref(root);
	return rc;
}

int fw_campaign_policy_load(const char *path, struct fw_campaign_policy *out, struct fw_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "no policy file or no output");
	rc = fw_file_read(path, FW_CAMPAIGN_MAX_POLICY, &buf, &len, d);
	if (rc != FW_OK)
		return rc;
	rc = fw_campaign_policy_parse((const char *)buf, len, path, out, d);
	free(buf);
	return rc;
}

/* ---- normalized JSON ---- */

/* Set key to v (stolen); remembers a failure instead of checking each call. */
static void put(json_t *obj, const char *key, json_t *v, int *oom)
{
	if (obj == NULL || v == NULL || json_object_set_new(obj, key, v) != 0)
		*oom = 1;
	if (obj == NULL)
		json_decref(v);
}

static json_t *num(uint64_t x)
{
	return json_integer((json_int_t)x);
}

static json_t *text_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* the first n (at most cap) rows of width bytes, as an array of strings */
static json_t *string_array(const char *rows, size_t width, size_t cap, size_t n, int *oom)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL) {
		*oom = 1;
		return NULL;
	}
	for (i = 0; i < n && i < cap; i++)
		if (json_array_append_new(a, json_string(rows + i * width)) != 0)
			*oom = 1;
	return a;
}

/* a char[N][W] member as string_array's rows, width and capacity */
#define ROWS(a) (a)[0], sizeof((a)[0]), sizeof(a) / sizeof((a)[0])

json_t *fw_campaign_policy_json(const struct fw_campaign_policy *p)
{
	json_t *root, *t, *stages, *pause, *rate, *retry, *q, *rb;
	size_t i;
	int oom = 0;

	if (p == NULL)
		return NULL;
	root = json_object();
	put(root, "name", json_string(p->name), &oom);
	put(root, "release", json_string(p->release), &oom);

	t = json_object();
	put(t, "cohorts", string_array(ROWS(p->cohorts), p->ncohorts, &oom), &oom);
	put(t, "product", text_or_null(p->product), &oom);
	put(t, "family", text_or_null(p->family), &oom);
	put(t, "hw_revisions", string_array(ROWS(p->hw), p->nhw, &oom), &oom);
	put(t, "versions", p->has_versions ? json_string(p->versions_text) : json_null(), &oom);
	put(root, "targeting", t, &oom);

	stages = json_array();
	if (stages == NULL)
		oom = 1;
	for (i = 0; stages != NULL && i < p->nstages && i < FW_CAMPAIGN_MAX_STAGES; i++) {
		const struct fw_campaign_stage *st = &p->stages[i];
		json_t *s = json_object(), *size = json_object();

		put(s, "name", json_string(st->name), &oom);
		if (st->size_kind == FW_STAGE_PERCENT)
			put(size, "percent", num(st->percent), &oom);
		else if (st->size_kind == FW_STAGE_COUNT)
			put(size, "count", num(st->count), &oom);
		else
			put(size, "cohort", json_string(st->cohort), &oom);
		put(s, "size", size, &oom);
		put(s, "approvals", num(st->approvals), &oom);
		put(s, "soak_s", num(st->soak_s), &oom);
		if (s == NULL || json_array_append_new(stages, s) != 0)
			oom = 1;
	}
	put(root, "stages", stages, &oom);
	put(root, "success_threshold", num(p->success_threshold), &oom);

	pause = json_object();
	rate = json_object();
	put(rate, "percent", num(p->fail_rate_percent), &oom);
	put(rate, "min_reports", num(p->fail_rate_min_reports), &oom);
	put(pause, "failure_rate", rate, &oom);
	put(pause, "max_failures", p->max_failures ? num(p->max_failures) : json_null(), &oom);
	put(pause, "on_integrity_failure", json_true(), &oom);
	put(root, "pause", pause, &oom);

	retry = json_object();
	put(retry, "max_attempts", num(p->retry_max_attempts), &oom);
	put(retry, "backoff_s", num(p->retry_backoff_s), &oom);
	put(root, "retry", retry, &oom);
	put(root, "report_timeout_s", num(p->report_timeout_s), &oom);

	if (p->rollback_release[0]) {
		rb = json_object();
		put(rb, "release", json_string(p->rollback_release), &oom);
		put(rb, "automatic", json_boolean(p->rollback_automatic), &oom);
	} else {
		rb = json_null();
	}
	put(root, "rollback", rb, &oom);

	q = json_object();
	put(q, "after_failed_attempts", num(p->quarantine_after), &oom);
	put(q, "on_integrity_failure", json_true(), &oom);
	put(root, "quarantine", q, &oom);

	put(root, "remediates", string_array(ROWS(p->remediates), p->nremediates, &oom), &oom);

	if (oom) {
		json_decref(root);
		return NULL;
	}
	return root;
}
