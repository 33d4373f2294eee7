/* Bounded CBOR reader; see cbor.h. No heap, no recursion. */
#include "cbor.h"

#include "fwv.h"

void fwv_cbor_init(struct cbor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->end = p + len;
}

size_t fwv_cbor_left(const struct cbor *c)
{
	return (size_t)(c->end - c->p);
}

static int read_head(struct cbor *c, struct cbor_item *it)
{
	uint8_t b, ai;
	size_t n, i;
	uint64_t v;

	if (c->p >= c->end)
		return FWV_E_TRUNCATED;
	it->start = c->p;
	b = *c->p++;
	it->major = b >> 5;
	ai = b & 0x1f;
	if (ai < 24) {
		v = ai;
	} else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		/* argument bytes come from the input: bounded by what is left */
		if (fwv_cbor_left(c) < n)
			return FWV_E_TRUNCATED;
		v = 0;
		for (i = 0; i < n; i++)
			v = (v << 8) | c->p[i];
		c->p += n;
		/* preferred (shortest) encoding only: one manifest, one byte form */
		if ((ai == 24 && v < 24) || (ai == 25 && v <= 0xff) || (ai == 26 && v <= 0xffff) ||
		    (ai == 27 && v <= 0xffffffffu))
			return FWV_E_CBOR;
	} else if (ai == 31) {
		if (it->major >= CBOR_BSTR && it->major <= CBOR_MAP)
			return FWV_E_INDEFINITE;
		return FWV_E_CBOR; /* break outside an indefinite item, or bad 0/1/6 */
	} else {
		return FWV_E_CBOR; /* 28..30 are reserved */
	}
	if (it->major == CBOR_SIMPLE) {
		/* only false/true/null; floats and other simple values are not SUIT */
		if (ai >= 24 || (v != CBOR_FALSE && v != CBOR_TRUE && v != CBOR_NULL))
			return FWV_E_CBOR;
	}
	it->val = v;
	it->data = NULL;
	return FWV_OK;
}

int fwv_cbor_read(struct cbor *c, struct cbor_item *it)
{
	int rc = read_head(c, it);

	if (rc != FWV_OK)
		return rc;
	if (it->major == CBOR_BSTR || it->major == CBOR_TSTR) {
		/* string length comes from the input: bounded by what is left */
		if (it->val > fwv_cbor_left(c))
			return FWV_E_TRUNCATED;
		it->data = c->p;
		c->p += (size_t)it->val;
	}
	return FWV_OK;
}

int fwv_cbor_expect(struct cbor *c, int major, struct cbor_item *it)
{
	int rc = fwv_cbor_read(c, it);

	if (rc != FWV_OK)
		return rc;
	return it->major == major ? FWV_OK : FWV_E_STRUCTURE;
}

int fwv_cbor_int(struct cbor *c, int64_t *out)
{
	struct cbor_item it;
	int rc = fwv_cbor_read(c, &it);

	if (rc != FWV_OK)
		return rc;
	if (it.major != CBOR_UINT && it.major != CBOR_NINT)
		return FWV_E_STRUCTURE;
	if (it.val > (uint64_t)INT64_MAX)
		return FWV_E_STRUCTURE;
	*out = it.major == CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
	return FWV_OK;
}

/* Containers' element counts come from the input; every element takes at
 * least one byte, so a count above the bytes left is a lie. */
static int child_count(const struct cbor *c, const struct cbor_item *it, uint64_t *n)
{
	uint64_t left = fwv_cbor_left(c);

	switch (it->major) {
	case CBOR_ARRAY:
		if (it->val > left)
			return FWV_E_TRUNCATED;
		*n = it->val;
		return FWV_OK;
	case CBOR_MAP:
		if (it->val > left / 2)
			return FWV_E_TRUNCATED;
		*n = it->val * 2;
		return FWV_OK;
	case CBOR_TAG:
		*n = 1;
		return FWV_OK;
	default:
		*n = 0;
		return FWV_OK;
	}
}

int fwv_cbor_skip(struct cbor *c)
{
	uint64_t pending = 1, n;
	struct cbor_item it;
	int rc;

	while (pending > 0) {
		pending--;
		rc = fwv_cbor_read(c, &it);
		if (rc != FWV_OK)
			return rc;
		rc = child_count(c, &it, &n);
		if (rc != FWV_OK)
			return rc;
		/* pending never exceeds bytes left + 1, so this cannot wrap */
		pending += n;
		if (pending > fwv_cbor_left(c))
			return FWV_E_TRUNCATED;
	}
	return FWV_OK;
}

int fwv_cbor_check(const uint8_t *p, size_t len)
{
	uint64_t rem[FWV_MAX_DEPTH + 1];
	struct cbor_item it;
	struct cbor c;
	unsigned depth = 0;
	uint64_t n;
	int rc;

	fwv_cbor_init(&c, p, len);
	rem[0] = 1;
	for (;;) {
		while (rem[depth] == 0) {
			if (depth == 0)
				return c.p == c.end ? FWV_OK : FWV_E_TRAILING;
			depth--;
		}
		rem[depth]--;
		rc = fwv_cbor_read(&c, &it);
		if (rc != FWV_OK)
			return rc;
		rc = child_count(&c, &it, &n);
		if (rc != FWV_OK)
			return rc;
		if (it.major == CBOR_ARRAY || it.major == CBOR_MAP || it.major == CBOR_TAG) {
			if (depth == FWV_MAX_DEPTH)
				return FWV_E_DEPTH;
			rem[++depth] = n;
		}
	}
}
