/*
 * Canonical JSON writer for evidence records: the JCS (RFC 8785) subset of
 * shared/specs/evidence-log.md §6.2. jansson builds and parses JSON; this
 * writes the one byte form that gets hashed, which jansson's dumper does
 * not promise (escaping, key order by bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"

#define MAX_SAFE_INT 9007199254740991LL
#define MAX_DEPTH 16

struct out {
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
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
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_string(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	put(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];

		switch (c) {
		case '"': put(o, "\\\"", 2); break;
		case '\\': put(o, "\\\\", 2); break;
		case '\b': put(o, "\\b", 2); break;
		case '\f': put(o, "\\f", 2); break;
		case '\n': put(o, "\\n", 2); break;
		case '\r': put(o, "\\r", 2); break;
		case '\t': put(o, "\\t", 2); break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				put(o, esc, 6);
			} else {
				put(o, (const char *)&c, 1); /* raw UTF-8 (jansson validated it) */
			}
		}
	}
	put(o, "\"", 1);
}

static int key_ok(const char *k)
{
	if (*k == '\0')
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int emit(struct out *o, const json_t *v, int depth, const char *where, struct fw_diag *d)
{
	size_t i;

	if (depth > MAX_DEPTH)
		return fw_diag_set(d, FW_E_FORMAT, "record nests deeper than %d at '%s'", MAX_DEPTH,
		                   where);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
		const char *key;
		json_t *val;
		int rc = FW_OK;

		if (n && keys == NULL)
			return fw_diag_set(d, FW_E_NOMEM, "out of memory");
		json_object_foreach((json_t *)v, key, val)
			keys[k++] = key;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		put(o, "{", 1);
		for (i = 0; i < n && rc == FW_OK; i++) {
			if (!key_ok(keys[i])) {
				rc = fw_diag_set(d, FW_E_FORMAT,
				                 "record key '%s' in '%s' is not [a-z0-9_]+", keys[i], where);
				break;
			}
			if (i)
				put(o, ",", 1);
			put_string(o, keys[i], strlen(keys[i]));
			put(o, ":", 1);
			rc = emit(o, json_object_get(v, keys[i]), depth + 1, keys[i], d);
		}
		put(o, "}", 1);
		free(keys);
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
		put_string(o, json_string_value(v), json_string_length(v));
		return FW_OK;
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		char num[24];

		/* beyond 2^53 JSON readers lose precision: refuse, don't round */
		if (x > MAX_SAFE_INT || x < -MAX_SAFE_INT)
			return fw_diag_set(d, FW_E_FORMAT, "record value of '%s' is beyond 2^53-1",
			                   where);
		snprintf(num, sizeof(num), "%lld", (long long)x);
		put(o, num, strlen(num));
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
	struct out o = {NULL, 0, 0, 0};
	int rc;

	if (v == NULL)
		return fw_diag_set(d, FW_E_ARG, "no record");
	rc = emit(&o, (const json_t *)v, 0, "(top)", d);
	if (rc == FW_OK && o.oom)
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
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
