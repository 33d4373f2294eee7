/* libfwv's bounded CBOR reader against RFC 8949 examples and malformations. */
#include <string.h>

#include "core/core.h"
#include "fwv.h"
#include "fwv/cbor.h"
#include "harness.h"

static int check_hex(const char *hex)
{
	uint8_t buf[256];
	size_t n = strlen(hex) / 2;

	if (n > sizeof(buf) || fw_hex_decode(hex, buf, n) != FW_OK)
		return -1;
	return fwv_cbor_check(buf, n);
}

static void t_wellformed(void)
{
	/* RFC 8949 Appendix A items that SUIT may carry */
	static const char *ok[] = {
	    "00", "17", "1818", "1b000000e8d4a51000", "20", "3903e7", "1bffffffffffffffff",
	    "3bffffffffffffffff", "40", "4401020304", "60", "6449455446", "80", "83010203",
	    "8301820203820405", "a0", "a201020304", "a26161016162820203", "f4", "f5", "f6",
	    "c074323031332d30332d32315432303a30343a30305a", "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
	    "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = check_hex(ok[i]);
		if (rc != FWV_OK)
			harness_fail(__FILE__, __LINE__, "%s: %s", ok[i], fwv_err_name(rc));
	}
}

static void t_malformed(void)
{
	static const struct {
		const char *hex;
		int rc;
	} bad[] = {
	    {"", FWV_E_TRUNCATED},
	    {"18", FWV_E_TRUNCATED},           /* missing argument byte */
	    {"1b0000", FWV_E_TRUNCATED},
	    {"1c", FWV_E_CBOR},                /* reserved additional info 28..30 */
	    {"1d", FWV_E_CBOR},
	    {"1e", FWV_E_CBOR},
	    {"1f", FWV_E_CBOR},                /* indefinite uint is meaningless */
	    {"ff", FWV_E_CBOR},                /* lone break */
	    {"5f4101ff", FWV_E_INDEFINITE},
	    {"7f6161ff", FWV_E_INDEFINITE},
	    {"9f01ff", FWV_E_INDEFINITE},
	    {"bf0101ff", FWV_E_INDEFINITE},
	    {"f93c00", FWV_E_CBOR},            /* floats are not SUIT */
	    {"fa47c35000", FWV_E_CBOR},
	    {"e0", FWV_E_CBOR},                /* unassigned simple value */
	    {"f820", FWV_E_CBOR},
	    {"4201", FWV_E_TRUNCATED},         /* bstr longer than its container */
	    {"5affffffff00", FWV_E_TRUNCATED}, /* 2^32-1 byte string */
	    {"5bffffffffffffffff00", FWV_E_TRUNCATED},
	    {"9bffffffffffffffff00", FWV_E_TRUNCATED}, /* 2^64-1 elements */
	    {"bbffffffffffffffff00", FWV_E_TRUNCATED},
	    {"a2010203", FWV_E_TRUNCATED},     /* 2 pairs, 1.5 present */
	    {"830102", FWV_E_TRUNCATED},
	    {"0000", FWV_E_TRAILING},
	    {"8101ff", FWV_E_TRAILING},
	    {"c6", FWV_E_TRUNCATED},           /* tag without content */
	    {"1817", FWV_E_CBOR},              /* 23 in a 1-byte argument: not shortest */
	    {"190017", FWV_E_CBOR},
	    {"1a000000ff", FWV_E_CBOR},
	    {"1b00000000ffffffff", FWV_E_CBOR},
	    {"5800", FWV_E_CBOR},              /* empty bstr, long form */
	    {"3817", FWV_E_CBOR},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[64];
		size_t n = strlen(bad[i].hex) / 2;
		int rc;

		if (fw_hex_decode(bad[i].hex, buf, n) != FW_OK && strlen(bad[i].hex) % 2 == 0) {
			harness_fail(__FILE__, __LINE__, "bad hex in test %s", bad[i].hex);
			continue;
		}
		if (strlen(bad[i].hex) % 2)
			n = 0;
		rc = fwv_cbor_check(buf, n);
		if (rc != bad[i].rc)
			harness_fail(__FILE__, __LINE__, "%s: got %s, expected %s", bad[i].hex,
			             fwv_err_name(rc), fwv_err_name(bad[i].rc));
	}
}

static void t_depth_bound(void)
{
	uint8_t buf[64];
	size_t i;

	/* FWV_MAX_DEPTH nested arrays holding a 0: accepted; one more: refused */
	for (i = 0; i < FWV_MAX_DEPTH; i++)
		buf[i] = 0x81;
	buf[FWV_MAX_DEPTH] = 0x00;
	CHECK_EQ(fwv_cbor_check(buf, FWV_MAX_DEPTH + 1), FWV_OK);
	for (i = 0; i <= FWV_MAX_DEPTH; i++)
		buf[i] = 0x81;
	buf[FWV_MAX_DEPTH + 1] = 0x00;
	CHECK_EQ(fwv_cbor_check(buf, FWV_MAX_DEPTH + 2), FWV_E_DEPTH);
	/* tags nest too */
	for (i = 0; i <= FWV_MAX_DEPTH; i++)
		buf[i] = 0xc1;
	buf[FWV_MAX_DEPTH + 1] = 0x00;
	CHECK_EQ(fwv_cbor_check(buf, FWV_MAX_DEPTH + 2), FWV_E_DEPTH);
	/* a wide but shallow item is fine */
	buf[0] = 0x98;
	buf[1] = 40;
	memset(buf + 2, 0x01, 40);
	CHECK_EQ(fwv_cbor_check(buf, 42), FWV_OK);
}

static void t_reader(void)
{
	static const uint8_t in[] = {0xa2, 0x01, 0x38, 0x63, 0x02, 0x43, 0xaa, 0xbb, 0xcc, 0x05};
	struct cbor c;
	struct cbor_item it;
	int64_t v;

	fwv_cbor_init(&c, in, sizeof(in));
	CHECK_EQ(fwv_cbor_expect(&c, CBOR_MAP, &it), FWV_OK);
	CHECK_EQ(it.val, 2);
	CHECK_EQ(fwv_cbor_int(&c, &v), FWV_OK);
	CHECK_EQ(v, 1);
	CHECK_EQ(fwv_cbor_int(&c, &v), FWV_OK);
	CHECK_EQ(v, -100);
	CHECK_EQ(fwv_cbor_int(&c, &v), FWV_OK);
	CHECK_EQ(fwv_cbor_expect(&c, CBOR_TSTR, &it), FWV_E_STRUCTURE);
	fwv_cbor_init(&c, in, sizeof(in));
	CHECK_EQ(fwv_cbor_skip(&c), FWV_OK);
	CHECK_EQ(fwv_cbor_left(&c), 1);
	CHECK_EQ(fwv_cbor_int(&c, &v), FWV_OK);
	CHECK_EQ(v, 5);
	CHECK_EQ(fwv_cbor_int(&c, &v), FWV_E_TRUNCATED);
	/* integers beyond int64 are refused, not wrapped */
	{
		static const uint8_t big[] = {0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0};
		fwv_cbor_init(&c, big, sizeof(big));
		CHECK_EQ(fwv_cbor_int(&c, &v), FWV_E_STRUCTURE);
	}
	/* skip refuses a container claiming more items than bytes */
	{
		static const uint8_t lie[] = {0x9a, 0x00, 0x01, 0x00, 0x00, 0x01};
		fwv_cbor_init(&c, lie, sizeof(lie));
		CHECK_EQ(fwv_cbor_skip(&c), FWV_E_TRUNCATED);
	}
}

static const struct harness_test tests[] = {
    {"rfc8949_wellformed", t_wellformed},
    {"malformed_each_with_its_code", t_malformed},
    {"depth_bound", t_depth_bound},
    {"reader_navigation", t_reader},
};
HARNESS_MAIN(tests)
