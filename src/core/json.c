/*
 * Canonical JSON writer for evidence records: the JCS (RFC 8785) subset of
 * shared/specs/evidence-log.md §6.2. jansson builds and parses JSON; this
 * writes the one byte form that gets hashed, which jansson's dumper does
 * not promise (escaping, key order by bytes).
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"

#define MAX_SAFE_INT 9007199254740991LL
#define MAX_DEPTH 16

static void grow(struct fw_jbuf *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 512;
	char *b;

	while (o->len + n + 1 > cap)
		cap *= 2;
	b = realloc(o->buf, cap);
	if (b == NULL) {
		o->oom = 1;
		return;
	}
	o->buf = b;
	o->cap = cap;
}

/* the buffer always has room for a terminating NUL, written at the end */
static inline void put(struct fw_jbuf *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		if (o->oom)
			return;
		grow(o, n);
		if (o->oom)
			return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void fw_jbuf_raw(struct fw_jbuf *o, const char *s, size_t n)
{
	put(o, s, n);
}

void fw_jbuf_str(struct fw_jbuf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	put(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c;
		char esc[7];

		/* 8 bytes at a time while none is below 0x20, '"' or '\\' */
		while (i + 8 <= n) {
			uint64_t w, q, b;

			memcpy(&w, s + i, 8);
			q = w ^ 0x2222222222222222ULL;
			b = w ^ 0x5c5c5c5c5c5c5c5cULL;
			if (((w - 0x2020202020202020ULL) | (q - 0x0101010101010101ULL) |
			     (b - 0x0101010101010101ULL)) &
			    ~w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = (unsigned char)s[i];
		/* raw UTF-8 (jansson validated it) is copied in runs */
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': put(o, "\\\"", 2); break;
		case '\\': put(o, "\\\\", 2); break;
		case '\b': put(o, "\\b", 2); break;
		case '\f': put(o, "\\f", 2); break;
		case '\n': put(o, "\\n", 2); break;
		case '\r': put(o, "\\r", 2); break;
		case '\t': put(o, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(o, esc, 6);
		}
	}
	put(o, s + run, n - run);
	put(o, "\"", 1);
}

/* length of a key of [a-z0-9_]+, or 0 */
static size_t key_ok(const char *k)
{
	const char *p;

	for (p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return (size_t)(p - k);
}

static int emit(struct fw_jbuf *o, const json_t *v, int depth, const char *where, struct fw_diag *d)
{
	size_t i;

	if (depth > MAX_DEPTH)
		return fw_diag_set(d, FW_E_FORMAT, "record nests deeper than %d at '%s'", MAX_DEPTH,
		                   where);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		struct kv {
			const char *k;
			json_t *v;
		} small[32], *kv, t;
		size_t n = json_object_size(v), k = 0, j;
		const char *key;
		json_t *val;
		int rc = FW_OK;

		kv = n > 32 ? malloc(n * sizeof(*kv)) : small;
		if (kv == NULL)
			return fw_diag_set(d, FW_E_NOMEM, "out of memory");
		json_object_foreach((json_t *)v, key, val) {
			kv[k].k = key;
			kv[k++].v = val;
		}
		/* insertion sort: records have a dozen keys */
		for (i = 1; i < n; i++) {
			t = kv[i];
			for (j = i; j > 0 && strcmp(kv[j - 1].k, t.k) > 0; j--)
				kv[j] = kv[j - 1];
			kv[j] = t;
		}
		put(o, "{", 1);
		for (i = 0; i < n && rc == FW_OK; i++) {
			size_t kl = key_ok(kv[i].k);

			if (kl == 0) {
				rc = fw_diag_set(d, FW_E_FORMAT,
				                 "record key '%s' in '%s' is not [a-z0-9_]+", kv[i].k, where);
				break;
			}
			if (i)
				put(o, ",", 1);
			/* [a-z0-9_]+ needs no escaping */
			put(o, "\"", 1);
			put(o, kv[i].k, kl);
			put(o, "\":", 2);
			rc = emit(o, kv[i].v, depth + 1, kv[i].k, d);
		}
		put(o, "}", 1);
		if (kv != small)
			free(kv);
		return rc;
	}
	case JSON_ARRAY:
		put(o, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			int rc;

			if (i)
				put(o, ",", 1);
			rc = emit(o, json_array_get(v, i), depth + 1, where, d);
			if (rc != FW_OK)
				return rc;
		}
		put(o, "]", 1);
		return FW_OK;
	case JSON_STRING:
		fw_jbuf_str(o, json_string_value(v), json_string_length(v));
		return FW_OK;
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		char num[24];

		/* beyond 2^53 JSON readers lose precision: refuse, don't round */
		if (x > MAX_SAFE_INT || x < -MAX_SAFE_INT)
			return fw_diag_set(d, FW_E_FORMAT, "record value of '%s' is beyond 2^53-1",
			                   where);
		{
			unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
			char *p = num + sizeof(num);

			do {
				*--p = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			if (x < 0)
				*--p = '-';
			put(o, p, (size_t)(num + sizeof(num) - p));
		}
		return FW_OK;
	}
	case JSON_REAL:
		return fw_diag_set(d, FW_E_FORMAT, "record value of '%s' is not an integer", where);
	case JSON_TRUE:
		put(o, "true", 4);
		return FW_OK;
	case JSON_FALSE:
		put(o, "false", 5);
		return FW_OK;
	case JSON_NULL:
		put(o, "null", 4);
		return FW_OK;
	}
	return fw_diag_set(d, FW_E_FORMAT, "unknown JSON value at '%s'", where);
}

int fw_json_canonical(const void *v, char **out, size_t *len, struct fw_diag *d)
{
	struct fw_jbuf o = {NULL, 0, 0, 0};
	int rc;

	if (v == NULL)
		return fw_diag_set(d, FW_E_ARG, "no record");
	rc = emit(&o, (const json_t *)v, 0, "(top)", d);
	if (rc == FW_OK && o.oom)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
	if (rc == FW_OK && !o.oom && o.buf != NULL)
		o.buf[o.len] = '\0';
	if (rc == FW_OK && o.buf == NULL)
		rc = fw_diag_set(d, FW_E_FORMAT, "empty record");
	if (rc != FW_OK) {
		free(o.buf);
		return rc;
	}
	*out = o.buf;
	*len = o.len;
	return FW_OK;
}

/* ---- reading records fast ----
 * jansson's reader costs ~10 us for a 400-byte record; a bundle of a
 * million devices holds three million. Records are canonical (no
 * whitespace, plain keys, mostly plain strings and integers), so the top
 * level is split here by hand and only what needs a real JSON reader
 * (nested arrays and objects, strings with escapes, anything unusual) goes
 * to jansson. Whatever does not look canonical is read by jansson whole,
 * so the result is always json_loadb's. */

/* End of the JSON value starting at p (a string, number, literal, array or
 * object), or NULL when it runs past end or is not closed. */
static const char *value_end(const char *p, const char *end, int *plain)
{
	int depth = 0, in_str = 0;

	*plain = 1;
	if (p >= end)
		return NULL;
	if (*p != '"' && *p != '[' && *p != '{') {
		while (p < end && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	for (; p < end; p++) {
		char c = *p;

		if (in_str) {
			if (c == '\\') {
				*plain = 0;
				if (++p == end)
					return NULL;
			} else if (c == '"') {
				in_str = 0;
				if (depth == 0)
					return p + 1;
			} else if ((unsigned char)c < 0x20)
				return NULL;
		} else if (c == '"')
			in_str = 1;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

/* A plain decimal integer (no sign but '-', no leading zero) in int64. */
static int plain_int(const char *p, size_t n, json_int_t *out)
{
	size_t i = p[0] == '-';
	uint64_t v = 0;

	if (n == i || n - i > 18 || (p[i] == '0' && n - i > 1))
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = p[0] == '-' ? -(json_int_t)v : (json_int_t)v;
	return 0;
}

/* One value at *pp (before end), read by hand when canonical; NULL when
 * it is not (the caller then reads the whole text with jansson). */
static json_t *fast_value(const char **pp, const char *end, int depth)
{
	const char *p = *pp, *ve;
	json_t *v = NULL;
	json_int_t iv;
	int plain;

	if (p >= end || depth > 32)
		return NULL;
	if (*p == '{' || *p == '[') {
		int obj = *p == '{';

		v = obj ? json_object() : json_array();
		if (v == NULL)
			return NULL;
		p++;
		if (p < end && *p == (obj ? '}' : ']')) {
			*pp = p + 1;
			return v;
		}
		while (p < end) {
			const char *k = NULL, *ke = NULL;
			json_t *x;

			if (obj) {
				if (*p != '"')
					break;
				k = p + 1;
				for (ke = k; ke < end && *ke != '"'; ke++)
					if (*ke == '\\' || (unsigned char)*ke < 0x20 || (unsigned char)*ke >= 0x80)
						goto fail;
				if (ke == k || ke + 1 >= end || ke[1] != ':')
					break;
				p = ke + 2;
			}
			x = fast_value(&p, end, depth + 1);
			if (x == NULL)
				break;
			/* a key twice: jansson keeps the last; so does this */
			if ((obj ? json_object_setn_new_nocheck(v, k, (size_t)(ke - k), x)
			         : json_array_append_new(v, x)) != 0)
				break;
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == (obj ? '}' : ']')) {
				*pp = p + 1;
				return v;
			}
			break;
		}
	fail:
		json_decref(v);
		return NULL;
	}
	ve = value_end(p, end, &plain);
	if (ve == NULL)
		return NULL;
	if (*p == '"')
		v = plain ? json_stringn(p + 1, (size_t)(ve - p - 2)) /* checks UTF-8 */
		          : json_loadb(p, (size_t)(ve - p), JSON_DECODE_ANY, NULL);
	else if (plain_int(p, (size_t)(ve - p), &iv) == 0)
		v = json_integer(iv);
	else if (ve - p == 4 && memcmp(p, "true", 4) == 0)
		v = json_true();
	else if (ve - p == 5 && memcmp(p, "false", 5) == 0)
		v = json_false();
	else if (ve - p == 4 && memcmp(p, "null", 4) == 0)
		v = json_null();
	if (v != NULL)
		*pp = ve;
	return v;
}

void *fw_json_load_record(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	json_t *o;

	if (len < 2 || s[0] != '{')
		return json_loadb(s, len, 0, NULL);
	o = fast_value(&p, end, 0);
	if (o != NULL && p == end)
		return o;
	json_decref(o);
	return json_loadb(s, len, 0, NULL);
}

int fw_json_has_string(const void *arr, const char *s)
{
	const json_t *v;
	size_t i;

	if (s == NULL)
		return 0;
	json_array_foreach((const json_t *)arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}
