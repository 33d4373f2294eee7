#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <jansson.h>

#include "core/core.h"
#include "harness.h"

static void t_hex(void)
{
	uint8_t b[4] = {0x00, 0x9f, 0xa0, 0xff}, out[4];
	char s[9];

	fw_hex_encode(b, 4, s);
	CHECK(strcmp(s, "009fa0ff") == 0);
	CHECK_EQ(fw_hex_decode("009FA0ff", out, 4), FW_OK);
	CHECK(memcmp(out, b, 4) == 0);
	CHECK_EQ(fw_hex_decode("009fa0f", out, 4), FW_E_FORMAT);
	CHECK_EQ(fw_hex_decode("009fa0fg", out, 4), FW_E_FORMAT);
	CHECK_EQ(fw_hex_decode("009fa0ff00", out, 4), FW_E_FORMAT);
}

static void t_uuid(void)
{
	uint8_t u[16], v[16];
	char s[37];

	CHECK_EQ(fw_uuid_parse("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", u), FW_OK);
	fw_uuid_format(u, s);
	CHECK(strcmp(s, "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe") == 0);
	CHECK_EQ(fw_uuid_parse("FA6B4A53D5AD5FDFBE9DE663E4D41FFE", v), FW_OK);
	CHECK(memcmp(u, v, 16) == 0);
	CHECK_EQ(fw_uuid_parse("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ff", u), FW_E_FORMAT);
	CHECK_EQ(fw_uuid_parse("fa6b4a53xd5ad-5fdf-be9d-e663e4d41ffe", u), FW_E_FORMAT);
	CHECK_EQ(fw_uuid_parse("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffz", u), FW_E_FORMAT);
	CHECK_EQ(fw_uuid_parse("", u), FW_E_FORMAT);
}

static void t_u64(void)
{
	uint64_t v = 7;

	CHECK_EQ(fw_parse_u64("0", &v), FW_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(fw_parse_u64("18446744073709551615", &v), FW_OK);
	CHECK(v == UINT64_MAX);
	CHECK_EQ(fw_parse_u64("18446744073709551616", &v), FW_E_ARG);
	CHECK_EQ(fw_parse_u64("99999999999999999999", &v), FW_E_ARG);
	CHECK_EQ(fw_parse_u64("-1", &v), FW_E_ARG);
	CHECK_EQ(fw_parse_u64("1a", &v), FW_E_ARG);
	CHECK_EQ(fw_parse_u64("", &v), FW_E_ARG);
	CHECK_EQ(fw_parse_u64(" 1", &v), FW_E_ARG);
}

/* RFC 8949 Appendix A encodings */
static void t_cbor_writer(void)
{
	static const struct {
		int64_t v;
		const char *hex;
	} ints[] = {{0, "00"}, {23, "17"}, {24, "1818"}, {100, "1864"}, {1000, "1903e8"},
	            {1000000, "1a000f4240"}, {1000000000000, "1b000000e8d4a51000"},
	            {-1, "20"}, {-10, "29"}, {-100, "3863"}, {-1000, "3903e7"}};
	uint8_t buf[16], small[2];
	char hex[40];
	struct fw_cbw w;
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		fw_cbw_init(&w, buf, sizeof(buf));
		fw_cbw_int(&w, ints[i].v);
		fw_hex_encode(buf, w.len, hex);
		CHECK(strcmp(hex, ints[i].hex) == 0);
	}
	fw_cbw_init(&w, buf, sizeof(buf));
	fw_cbw_head(&w, 0, UINT64_MAX);
	fw_hex_encode(buf, w.len, hex);
	CHECK(strcmp(hex, "1bffffffffffffffff") == 0);
	fw_cbw_init(&w, buf, sizeof(buf));
	fw_cbw_tstr(&w, "IETF");
	fw_cbw_bstr(&w, "\x01\x02", 2);
	fw_hex_encode(buf, w.len, hex);
	CHECK(strcmp(hex, "6449455446420102") == 0);
	/* overflow is sticky and nothing is written past the end */
	fw_cbw_init(&w, small, sizeof(small));
	fw_cbw_tstr(&w, "IETF");
	fw_cbw_int(&w, 1);
	CHECK(w.overflow);
	CHECK(w.len <= sizeof(small));
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void t_files_commit(void)
{
	char dir[512], a[600], b[600], bad[700];
	struct fw_file_out f[2];
	struct fw_diag d = {{0}};
	struct stat st;
	size_t len;
	unsigned char *got;

	snprintf(dir, sizeof(dir), "%s/commit", harness_tmpdir());
	CHECK_EQ(mkdir(dir, 0700), 0);
	snprintf(a, sizeof(a), "%s/a.bin", dir);
	snprintf(b, sizeof(b), "%s/b.bin", dir);
	f[0] = (struct fw_file_out){a, "AAAA", 4, 0600};
	f[1] = (struct fw_file_out){b, "BB", 2, 0644};
	CHECK_EQ(fw_files_commit(f, 2, 0, &d), FW_OK);
	CHECK_EQ(count_entries(dir), 2);
	CHECK(stat(a, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(b, &st) == 0 && (st.st_mode & 0777) == 0644);

	/* no overwrite: refused, the old content stays, nothing new appears */
	f[0].data = "XXXX";
	CHECK_EQ(fw_files_commit(f, 2, 0, &d), FW_E_EXISTS);
	CHECK(strstr(d.msg, "a.bin") != NULL);
	got = harness_read(a, &len);
	CHECK(got && len == 4 && memcmp(got, "AAAA", 4) == 0);
	free(got);
	CHECK_EQ(count_entries(dir), 2);

	/* overwrite replaces both */
	CHECK_EQ(fw_files_commit(f, 2, 1, &d), FW_OK);
	got = harness_read(a, &len);
	CHECK(got && len == 4 && memcmp(got, "XXXX", 4) == 0);
	free(got);

	/* replacing, the second file fails: the first keeps its old content */
	snprintf(bad, sizeof(bad), "%s/no-such-dir/b.bin", dir);
	f[0].data = "YYYY";
	f[1].path = bad;
	CHECK_EQ(fw_files_commit(f, 2, 1, &d), FW_E_IO);
	got = harness_read(a, &len);
	CHECK(got && len == 4 && memcmp(got, "XXXX", 4) == 0);
	free(got);
	CHECK_EQ(count_entries(dir), 2);
	f[1].path = b;

	/* the second file cannot be written: the first must not appear */
	unlink(a);
	unlink(b);
	snprintf(bad, sizeof(bad), "%s/no-such-dir/b.bin", dir);
	f[1].path = bad;
	CHECK_EQ(fw_files_commit(f, 2, 0, &d), FW_E_IO);
	CHECK(strstr(d.msg, "no-such-dir") != NULL);
	CHECK_EQ(count_entries(dir), 0);
}

static void t_file_read(void)
{
	char path[600];
	struct fw_diag d = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/r.bin", harness_tmpdir());
	CHECK_EQ(harness_write(path, "0123456789", 10), 0);
	CHECK_EQ(fw_file_read(path, 10, &buf, &len, &d), FW_OK);
	CHECK_EQ(len, 10);
	free(buf);
	buf = NULL;
	CHECK_EQ(fw_file_read(path, 9, &buf, &len, &d), FW_E_TOO_LARGE);
	CHECK(strstr(d.msg, "r.bin") != NULL && strstr(d.msg, "limit") != NULL);
	CHECK(buf == NULL);
	CHECK_EQ(fw_file_read(harness_tmpdir(), 100, &buf, &len, &d), FW_E_IO);
	CHECK(strstr(d.msg, "not a regular file") != NULL);
	snprintf(path, sizeof(path), "%s/missing", harness_tmpdir());
	CHECK_EQ(fw_file_read(path, 100, &buf, &len, &d), FW_E_IO);
	CHECK(strstr(d.msg, "missing") != NULL);
}

static void t_time_and_errors(void)
{
	char t[21];
	int i, j;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	fw_time_utc(t);
	CHECK(strcmp(t, "2023-11-14T22:13:20Z") == 0);
	unsetenv("SOURCE_DATE_EPOCH");
	fw_time_utc(t);
	CHECK(strlen(t) == 20 && t[10] == 'T' && t[19] == 'Z');
	for (i = 0; i < FW_ERR_COUNT; i++)
		for (j = 0; j < i; j++)
			CHECK(strcmp(fw_err_str(i), fw_err_str(j)) != 0);
	CHECK(strcmp(fw_err_str(FW_ERR_COUNT), "unknown_error") == 0);
}

static int canon(const char *in, char **out)
{
	json_t *j = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	size_t len = 0;
	int rc;

	if (j == NULL)
		return -1;
	rc = fw_json_canonical(j, out, &len, NULL);
	if (rc == FW_OK && strlen(*out) != len)
		rc = -2;
	json_decref(j);
	return rc;
}

static void t_canonical_json(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"{\"b\": 1, \"a\": [true, null, false], \"c\": {\"z\": -5, \"y\": \"\"}}",
	     "{\"a\":[true,null,false],\"b\":1,\"c\":{\"y\":\"\",\"z\":-5}}"},
	    /* the string part of the RFC 8785 reference vector */
	    {"{\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"}",
	     "{\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"},
	    {"{\"k\":\"\\b\\f\\r\\t\\u0000\\u001f\"}", "{\"k\":\"\\b\\f\\r\\t\\u0000\\u001f\"}"},
	    {"{\"n\":9007199254740991,\"m\":-9007199254740991}",
	     "{\"m\":-9007199254740991,\"n\":9007199254740991}"},
	    {"[]", "[]"},
	};
	static const char *const bad[] = {
	    "{\"x\":1.5}", "{\"x\":1e3}", "{\"X\":1}", "{\"a-b\":1}", "{\"\":1}",
	    "{\"n\":9007199254740992}", "{\"n\":-9007199254740992}",
	};
	struct fw_diag d = {{0}};
	char *out = NULL;
	size_t i, len;
	json_t *j;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		out = NULL;
		if (canon(ok[i].in, &out) != FW_OK || strcmp(out, ok[i].out) != 0)
			harness_fail(__FILE__, __LINE__, "%s -> %s, expected %s", ok[i].in,
			             out ? out : "(error)", ok[i].out);
		free(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = NULL;
		if (canon(bad[i], &out) != FW_E_FORMAT)
			harness_fail(__FILE__, __LINE__, "%s accepted as %s", bad[i], out ? out : "?");
		free(out);
	}
	j = json_pack("{s{s{sf}}}", "a", "b", "c", 0.5);
	CHECK_EQ(fw_json_canonical(j, &out, &len, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "'c'") != NULL); /* names the offending key */
	json_decref(j);
}

static void t_base64(void)
{
	uint8_t in[32], out[32];
	char b64[45];
	size_t i;

	for (i = 0; i < 32; i++)
		in[i] = (uint8_t)(i * 37);
	fw_b64_encode(in, 32, b64);
	CHECK_EQ(strlen(b64), 44);
	CHECK_EQ(fw_b64_decode(b64, 44, out, 32), FW_OK);
	CHECK(memcmp(in, out, 32) == 0);
	CHECK_EQ(fw_b64_decode(b64, 43, out, 32), FW_E_FORMAT);
	CHECK_EQ(fw_b64_decode(b64, 44, out, 31), FW_E_FORMAT);
	/* non-canonical: the last char carries bits that must be zero */
	fw_b64_encode((const uint8_t *)"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	              "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
	              32, b64);
	CHECK(strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") == 0);
	b64[42] = 'B';
	CHECK_EQ(fw_b64_decode(b64, 44, out, 32), FW_E_FORMAT);
	CHECK_EQ(fw_b64_decode("AAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 44, out, 32), FW_E_FORMAT);
}


/* fw_json_load_record gives json_loadb's value, or NULL where it does */
static void t_load_record(void)
{
	static const char *const in[] = {
	    "{\"a\":1,\"b\":\"x\",\"c\":[1,2,{\"d\":null}],\"e\":{},\"f\":[],\"g\":true,\"h\":false}",
	    "{\"refs\":[{\"idx\":3,\"lh\":\"ab\"}],\"to\":\"installed\",\"ts\":1795707499675,\"v\":1}",
	    "{\"s\":\"a\\\"b\\\\c\\n\\u00e9\"}",     /* escapes: jansson reads the string */
	    "{\"s\":\"\xc3\xa9\"}",                  /* UTF-8 */
	    "{\"s\":\"\xc3\"}",                      /* broken UTF-8: NULL */
	    "{\"s\":\"a\x01\"}",                     /* raw control character: NULL */
	    "{\"n\":-0,\"m\":-12,\"r\":1.5,\"e\":1e3}", /* -0, negatives, reals */
	    "{\"n\":012}",                           /* leading zero: NULL */
	    "{\"n\":123456789012345678901234}",      /* too large: NULL */
	    "{\"a\":1,\"a\":2}",                     /* a key twice: the last */
	    "{ \"a\" : 1 }",                         /* whitespace */
	    "{\"a\":1}x",                            /* trailing bytes: NULL */
	    "{\"a\":1",                              /* not closed: NULL */
	    "{\"a\":[1,2}",                          /* wrong bracket: NULL */
	    "{\"a\":\"\\u0000\"}",                   /* NUL: NULL */
	    "{\"\\u0061\":1}",                       /* escaped key */
	    "{}",
	    "[1]",
	    "{\"a\":tru}",
	    "{\"a\":}",
	    "{\"\":1}",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		json_t *a = json_loadb(in[i], strlen(in[i]), 0, NULL);
		json_t *b = fw_json_load_record(in[i], strlen(in[i]));

		if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
			harness_fail(__FILE__, __LINE__, "input %zu: %s", i, in[i]);
		json_decref(a);
		json_decref(b);
	}
}

static const struct harness_test tests[] = {
    {"canonical_json_jcs_subset", t_canonical_json},
    {"base64_canonical", t_base64},
    {"hex", t_hex},
    {"uuid", t_uuid},
    {"parse_u64", t_u64},
    {"cbor_writer_rfc8949_vectors", t_cbor_writer},
    {"files_commit_all_or_nothing", t_files_commit},
    {"file_read_limits", t_file_read},
    {"time_and_error_names", t_time_and_errors},
    {"load_record_is_json_loadb", t_load_record},
};
HARNESS_MAIN(tests)
