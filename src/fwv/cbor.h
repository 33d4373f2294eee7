/*
 * Bounded CBOR reader for libfwv (internal to src/fwv/).
 *
 * Hand-written because the device side allows no dependency and Debian
 * ships no heap-free CBOR decoder (QCBOR/t_cose are not packaged). Every
 * read checks the length it is about to consume against the bytes left in
 * the buffer, with subtraction that cannot wrap.
 */
#ifndef FWV_CBOR_H
#define FWV_CBOR_H

#include <stddef.h>
#include <stdint.h>

enum {
	CBOR_UINT = 0,
	CBOR_NINT = 1,
	CBOR_BSTR = 2,
	CBOR_TSTR = 3,
	CBOR_ARRAY = 4,
	CBOR_MAP = 5,
	CBOR_TAG = 6,
	CBOR_SIMPLE = 7
};
#define CBOR_FALSE 20
#define CBOR_TRUE 21
#define CBOR_NULL 22

struct cbor {
	const uint8_t *p;
	const uint8_t *end;
};

struct cbor_item {
	int major;
	uint64_t val;           /* integer value, length, count, tag or simple value */
	const uint8_t *start;   /* first byte of the head */
	const uint8_t *data;    /* bstr/tstr content (val bytes) */
};

void fwv_cbor_init(struct cbor *c, const uint8_t *p, size_t len);
size_t fwv_cbor_left(const struct cbor *c);

/* Whole buffer is exactly one well-formed, definite-length item nested at
 * most FWV_MAX_DEPTH deep. */
int fwv_cbor_check(const uint8_t *p, size_t len);

/* Read one head; for strings also step over the content. */
int fwv_cbor_read(struct cbor *c, struct cbor_item *it);
/* Read one head of the expected major type (FWV_E_STRUCTURE otherwise). */
int fwv_cbor_expect(struct cbor *c, int major, struct cbor_item *it);
int fwv_cbor_int(struct cbor *c, int64_t *out);
/* Step over one complete item. */
int fwv_cbor_skip(struct cbor *c);

#endif
