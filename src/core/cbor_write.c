/*
 * Deterministic CBOR writer. Hand-written: SUIT needs the deterministic
 * encoding of a few fixed structures, which these lines give exactly;
 * decoding is libfwv's bounded reader (src/fwv/cbor.c).
 */
#include <string.h>

#include "core/core.h"

void fw_cbw_init(struct fw_cbw *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = 0;
}

void fw_cbw_raw(struct fw_cbw *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void fw_cbw_head(struct fw_cbw *w, int major, uint64_t v)
{
	uint8_t h[9];
	size_t n, i;

	if (v < 24) {
		h[0] = (uint8_t)(major << 5 | (int)v);
		n = 1;
	} else {
		int ai = v <= 0xff ? 24 : v <= 0xffff ? 25 : v <= 0xffffffffu ? 26 : 27;
		size_t bytes = (size_t)1 << (ai - 24);

		h[0] = (uint8_t)(major << 5 | ai);
		for (i = 0; i < bytes; i++)
			h[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
		n = 1 + bytes;
	}
	fw_cbw_raw(w, h, n);
}

void fw_cbw_int(struct fw_cbw *w, int64_t v)
{
	if (v >= 0)
		fw_cbw_head(w, 0, (uint64_t)v);
	else
		fw_cbw_head(w, 1, (uint64_t)(-1 - v));
}

void fw_cbw_bstr(struct fw_cbw *w, const void *p, size_t n)
{
	fw_cbw_head(w, 2, n);
	fw_cbw_raw(w, p, n);
}

void fw_cbw_tstr(struct fw_cbw *w, const char *s)
{
	fw_cbw_head(w, 3, strlen(s));
	fw_cbw_raw(w, s, strlen(s));
}

void fw_cbw_wrap(struct fw_cbw *w, const struct fw_cbw *inner)
{
	if (inner->overflow)
		w->overflow = 1;
	else
		fw_cbw_bstr(w, inner->buf, inner->len);
}
