/*
 * fwtrust-agent's pure parts (src/agent/state.c, src/agent/ddi_json.c):
 * state files (atomic replace, refusal of a corrupt counter), the tokens
 * file, the polling sleep, and the DDI replies it parses (every refusal
 * names the field). The agent's network side is tested end to end against
 * `fwtrust serve`.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/agent.h"
#include "harness.h"

static const char *tpath(const char *name)
{
	static char buf[4][1024];
	static int slot;
	char *p = buf[slot++ % 4];

	snprintf(p, 1024, "%s/%s", harness_tmpdir(), name);
	return p;
}

static int write_text(const char *name, const char *text)
{
	return harness_write(tpath(name), text, strlen(text));
}

/* files in the temporary directory whose name starts with prefix */
static int count_prefix(const char *prefix)
{
	DIR *d = opendir(harness_tmpdir());
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- state.json ---- */

static void t_state_roundtrip(void)
{
	struct agent_state st = {"2.4.1", 42}, back;
	struct fw_diag d = {{0}};
	unsigned char *text;
	size_t len;

	CHECK_EQ(agent_state_save(tpath("state.json"), &st, &d), FW_OK);
	CHECK_EQ(agent_state_load(tpath("state.json"), &back, &d), FW_OK);
	CHECK(strcmp(back.version, "2.4.1") == 0);
	CHECK(back.sequence == 42);
	text = harness_read(tpath("state.json"), &len);
	CHECK(text != NULL && len == strlen("{\"sequence\":42,\"version\":\"2.4.1\"}") &&
	      memcmp(text, "{\"sequence\":42,\"version\":\"2.4.1\"}", len) == 0);
	free(text);
	/* replaced, not appended; no temporary left beside it */
	st.sequence = 9223372036854775807ull;
	strcpy(st.version, "3.0.0-rc.1");
	CHECK_EQ(agent_state_save(tpath("state.json"), &st, &d), FW_OK);
	CHECK_EQ(agent_state_load(tpath("state.json"), &back, &d), FW_OK);
	CHECK(back.sequence == 9223372036854775807ull);
	CHECK(strcmp(back.version, "3.0.0-rc.1") == 0);
	CHECK_EQ(count_prefix("state.json.tmp"), 0);
}

static void t_state_save_refuses_out_of_range(void)
{
	struct agent_state st = {"1.0.0", 9223372036854775808ull};
	struct fw_diag d = {{0}};

	CHECK_EQ(agent_state_save(tpath("range.json"), &st, &d), FW_E_ARG);
	st.sequence = 1;
	st.version[0] = '\0';
	CHECK_EQ(agent_state_save(tpath("range.json"), &st, &d), FW_E_ARG);
	CHECK(access(tpath("range.json"), F_OK) != 0);
}

static void t_state_missing(void)
{
	struct agent_state st = {"keep", 7};
	struct fw_diag d = {{0}};

	CHECK_EQ(agent_state_load(tpath("nope.json"), &st, &d), FW_E_NOT_FOUND);
	CHECK(strstr(d.msg, "nope.json") != NULL);
	CHECK(strcmp(st.version, "keep") == 0 && st.sequence == 7); /* untouched */
}

/* A corrupt counter is an error, never "sequence 0" (which would accept
 * every older release again). */
static void t_state_refuses_corrupt(void)
{
	static const struct {
		const char *text, *field;
	} cases[] = {
	    {"", "not JSON"},
	    {"{\"version\":\"1.0.0\",\"sequence\":4", "not JSON"},
	    {"[1,2]", "not a JSON object"},
	    {"{\"sequence\":4}", "version: missing"},
	    {"{\"version\":\"1.0.0\"}", "sequence: missing"},
	    {"{\"version\":\"1.0.0\",\"sequence\":-1}", "sequence: not a non-negative integer"},
	    {"{\"version\":\"1.0.0\",\"sequence\":\"4\"}", "sequence: not a non-negative integer"},
	    {"{\"version\":\"1.0.0\",\"sequence\":4.0}", "sequence: not a non-negative integer"},
	    {"{\"version\":\"1.0.0\",\"sequence\":null}", "sequence: not a non-negative integer"},
	    {"{\"version\":\"1.0.0\",\"sequence\":99999999999999999999}", "not JSON"},
	    {"{\"version\":7,\"sequence\":4}", "version: not a string"},
	    {"{\"version\":\"\",\"sequence\":4}", "version: not text"},
	    {"{\"version\":\"a\\u0000b\",\"sequence\":4}", "not JSON"},
	    {"{\"version\":\"a\\nb\",\"sequence\":4}", "version: not text"},
	    {"{\"version\":\"1.0.0\",\"sequence\":4,\"sequence\":5}", "not JSON"},
	    {"{\"version\":\"1.0.0\",\"sequence\":4,\"extra\":1}", "unknown member \"extra\""},
	};
	char big[AGENT_MAX_STATE_FILE + 64];
	struct agent_state st;
	struct fw_diag d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		CHECK_EQ(write_text("bad.json", cases[i].text), 0);
		CHECK_EQ(agent_state_load(tpath("bad.json"), &st, &d), FW_E_FORMAT);
		if (strstr(d.msg, cases[i].field) == NULL)
			harness_fail(__FILE__, __LINE__, "case %zu: \"%s\" does not say \"%s\"", i, d.msg,
			             cases[i].field);
	}
	/* version of 65 bytes: over AGENT_MAX_VERSION */
	snprintf(big, sizeof(big), "{\"version\":\"%065d\",\"sequence\":1}", 0);
	CHECK_EQ(write_text("bad.json", big), 0);
	CHECK_EQ(agent_state_load(tpath("bad.json"), &st, &d), FW_E_FORMAT);
	/* a file over the cap is not read at all */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"version\":\"1.0.0\",\"sequence\":1}", 32);
	CHECK_EQ(write_text("bad.json", big), 0);
	CHECK_EQ(agent_state_load(tpath("bad.json"), &st, &d), FW_E_TOO_LARGE);
}

/* All or nothing: when the new file cannot be published the old one stays
 * and no temporary is left. */
static void t_file_replace_atomic(void)
{
	struct fw_diag d = {{0}};
	char sub[1100];
	unsigned char *text;
	size_t len;

	CHECK_EQ(agent_file_replace(tpath("atomic.txt"), "old", 3, &d), FW_OK);
	CHECK_EQ(agent_file_replace(tpath("atomic.txt"), "new!", 4, &d), FW_OK);
	text = harness_read(tpath("atomic.txt"), &len);
	CHECK(text != NULL && len == 4 && memcmp(text, "new!", 4) == 0);
	free(text);
	/* rename over a non-empty directory fails: nothing changes */
	CHECK_EQ(mkdir(tpath("busy"), 0700), 0);
	snprintf(sub, sizeof(sub), "%s/x", tpath("busy"));
	CHECK_EQ(harness_write(sub, "x", 1), 0);
	CHECK_EQ(agent_file_replace(tpath("busy"), "data", 4, &d), FW_E_IO);
	CHECK(strstr(d.msg, "busy") != NULL);
	CHECK_EQ(count_prefix("busy.tmp"), 0);
	/* no such directory */
	CHECK_EQ(agent_file_replace(tpath("no/such/dir/f"), "data", 4, &d), FW_E_IO);
	CHECK_EQ(count_prefix("atomic.txt.tmp"), 0);
}

static void t_partial(void)
{
	struct agent_partial p, back;
	struct fw_diag d = {{0}};
	size_t i;

	memset(&p, 0, sizeof(p));
	strcpy(p.action_id, "17");
	for (i = 0; i < 32; i++)
		p.image_sha256[i] = (uint8_t)(i * 7);
	p.image_size = 300000;
	CHECK_EQ(agent_partial_save(tpath("download.json"), &p, &d), FW_OK);
	CHECK_EQ(agent_partial_load(tpath("download.json"), &back, &d), FW_OK);
	CHECK(strcmp(back.action_id, "17") == 0);
	CHECK(memcmp(back.image_sha256, p.image_sha256, 32) == 0);
	CHECK(back.image_size == 300000);
	CHECK_EQ(write_text("download.json",
	                    "{\"action\":\"17\",\"image_sha256\":\"zz\",\"image_size\":1}"),
	         0);
	CHECK_EQ(agent_partial_load(tpath("download.json"), &back, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "image_sha256") != NULL);
	CHECK_EQ(write_text("download.json", "{\"action\":\"../x\",\"image_sha256\":\"00000000000000"
	                                     "00000000000000000000000000000000000000000000000000"
	                                     "\",\"image_size\":1}"),
	         0);
	CHECK_EQ(agent_partial_load(tpath("download.json"), &back, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "action") != NULL);
}

/* ---- names ---- */

static void t_names(void)
{
	char longid[AGENT_MAX_DEVICE_ID + 2];

	CHECK(agent_device_id_valid("dev-0001"));
	CHECK(agent_device_id_valid("unit_7.b:c@x"));
	CHECK(!agent_device_id_valid(""));
	CHECK(!agent_device_id_valid(".hidden"));
	CHECK(!agent_device_id_valid(".."));
	CHECK(!agent_device_id_valid("a/b"));
	CHECK(!agent_device_id_valid("a b"));
	CHECK(!agent_device_id_valid("caf\xc3\xa9"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(!agent_device_id_valid(longid));
	longid[AGENT_MAX_DEVICE_ID] = '\0';
	CHECK(agent_device_id_valid(longid));
	CHECK(agent_tenant_valid("DEFAULT"));
	CHECK(!agent_tenant_valid("a/b"));
	CHECK(!agent_tenant_valid(""));
	CHECK(agent_action_id_valid("8"));
	CHECK(!agent_action_id_valid("8?x=1"));
	CHECK(!agent_action_id_valid("../8"));
	CHECK(agent_token_valid("Ab3$%-_.~"));
	CHECK(!agent_token_valid("a b"));
	CHECK(!agent_token_valid("ab\r\nX-Evil: 1"));
	CHECK(!agent_token_valid(""));
}

/* ---- tokens file ---- */

static void t_tokens_ok(void)
{
	static const char text[] = "# fleet of the e2e test\n"
	                           "\n"
	                           "dev-1 tok1\n"
	                           "   # indented comment\n"
	                           "\tdev-2\t\ttok2  \r\n"
	                           "dev-3 tok3\n"
	                           "dev-4 tok4"; /* no final newline */
	struct agent_token *t = NULL;
	struct fw_diag d = {{0}};

	CHECK_EQ(agent_tokens_parse(text, strlen(text), 4, &t, &d), FW_OK);
	if (t == NULL)
		return;
	CHECK(strcmp(t[0].id, "dev-1") == 0 && strcmp(t[0].token, "tok1") == 0);
	CHECK(strcmp(t[1].id, "dev-2") == 0 && strcmp(t[1].token, "tok2") == 0);
	CHECK(strcmp(t[3].id, "dev-4") == 0 && strcmp(t[3].token, "tok4") == 0);
	free(t);
	/* the first N; a bad line after them is never reached */
	t = NULL;
	CHECK_EQ(agent_tokens_parse("a 1\nb 2\nthis line is bad\n", 24, 2, &t, &d), FW_OK);
	CHECK(t != NULL && strcmp(t[1].id, "b") == 0);
	free(t);
}

static void t_tokens_refused(void)
{
	static const struct {
		const char *text;
		size_t want;
		const char *msg;
	} cases[] = {
	    {"a 1\nb 2\n", 3, "2 devices, 3 wanted"},
	    {"a 1\nb\n", 2, "line 2: expected"},
	    {"a 1 extra\n", 1, "line 1: expected"},
	    {"# c\n.a 1\n", 1, "line 2: device id"},
	    {"a/b 1\n", 1, "line 1: device id"},
	    {"a 1\nb 2\na 3\n", 3, "line 3: device id a given twice"},
	    {"a t\x01k\n", 1, "line 1: token"},
	    {"a t\xc3\xa9\n", 1, "line 1: token"},
	};
	struct agent_token *t = NULL;
	struct fw_diag d;
	char longtok[AGENT_MAX_TOKEN + 8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		CHECK_EQ(agent_tokens_parse(cases[i].text, strlen(cases[i].text), cases[i].want, &t, &d),
		         FW_E_FORMAT);
		if (strstr(d.msg, cases[i].msg) == NULL)
			harness_fail(__FILE__, __LINE__, "case %zu: \"%s\" does not say \"%s\"", i, d.msg,
			             cases[i].msg);
	}
	CHECK(t == NULL);
	CHECK_EQ(agent_tokens_parse("a 1\0b 2\n", 8, 1, &t, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "NUL") != NULL);
	CHECK_EQ(agent_tokens_parse("a 1\n", 4, 0, &t, &d), FW_E_TOO_LARGE);
	CHECK_EQ(agent_tokens_parse("a 1\n", 4, AGENT_MAX_FLEET + 1, &t, &d), FW_E_TOO_LARGE);
	CHECK_EQ(agent_tokens_parse("a 1\n", (size_t)AGENT_MAX_TOKENS_FILE + 1, 1, &t, &d),
	         FW_E_TOO_LARGE);
	longtok[0] = 'a';
	longtok[1] = ' ';
	memset(longtok + 2, 'x', AGENT_MAX_TOKEN + 1);
	longtok[AGENT_MAX_TOKEN + 3] = '\0';
	CHECK_EQ(agent_tokens_parse(longtok, strlen(longtok), 1, &t, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "token longer") != NULL);
	CHECK(t == NULL);
}

/* ---- polling sleep ---- */

static void t_sleep(void)
{
	static const char *const bad[] = {
	    "", "PT24H", "P1D", "24:00:00", "99:00:00", "00:60:00", "00:00:60", "1:00:00",
	    "00:5:00", "00:00:0a", "00:00:00 ", " 00:00:00", "-0:00:00", "00-00-00", "00:00:000",
	    "+1:00:00",
	};
	struct fw_diag d = {{0}};
	unsigned s = 77;
	size_t i;

	CHECK_EQ(agent_sleep_parse("00:05:00", &s, &d), FW_OK);
	CHECK_EQ(s, 300);
	CHECK_EQ(agent_sleep_parse("23:59:59", &s, &d), FW_OK);
	CHECK_EQ(s, 86399);
	CHECK_EQ(agent_sleep_parse("00:00:00", &s, &d), FW_OK);
	CHECK_EQ(s, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = 77;
		memset(&d, 0, sizeof(d));
		if (agent_sleep_parse(bad[i], &s, &d) != FW_E_FORMAT)
			harness_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
		CHECK_EQ(s, 77);
		CHECK(strstr(d.msg, "config.polling.sleep") != NULL);
	}
	CHECK_EQ(agent_sleep_parse(NULL, &s, &d), FW_E_FORMAT);
}

/* ---- poll reply ---- */

static void t_poll(void)
{
	static const char ok[] =
	    "{\"config\":{\"polling\":{\"sleep\":\"00:00:30\"}},\"_links\":{"
	    "\"deploymentBase\":{\"href\":\"http://h:8080/T/controller/v1/d/deploymentBase/5?c=-21\"},"
	    "\"configData\":{\"href\":\"http://h:8080/T/controller/v1/d/configData\"},"
	    "\"installedBase\":{\"href\":\"http://h:8080/T/controller/v1/d/installedBase/4\"}},"
	    "\"unknown\":[1,2]}";
	static const char nolinks[] = "{\"config\":{\"polling\":{\"sleep\":\"00:05:00\"}}}";
	struct agent_poll p;
	struct fw_diag d = {{0}};

	CHECK_EQ(agent_poll_parse(ok, strlen(ok), &p, &d), FW_OK);
	CHECK_EQ(p.sleep_s, 30);
	CHECK_EQ(p.config_data, 1);
	CHECK(strcmp(p.deployment, "http://h:8080/T/controller/v1/d/deploymentBase/5?c=-21") == 0);
	CHECK(p.cancel[0] == '\0');
	/* no _links: nothing to do */
	CHECK_EQ(agent_poll_parse(nolinks, strlen(nolinks), &p, &d), FW_OK);
	CHECK(p.deployment[0] == '\0' && p.cancel[0] == '\0' && !p.config_data);
}

static void t_poll_refused(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"", "poll: not JSON"},
	    {"[]", "poll: not a JSON object"},
	    {"{}", "config: missing"},
	    {"{\"config\":1}", "config: not an object"},
	    {"{\"config\":{}}", "config.polling: missing"},
	    {"{\"config\":{\"polling\":{}}}", "config.polling.sleep: missing"},
	    {"{\"config\":{\"polling\":{\"sleep\":300}}}", "config.polling.sleep: not a string"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"PT24H\"}}}", "config.polling.sleep"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":[]}",
	     "_links: not an object"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":{\"deploymentBase\":"
	     "\"http://x\"}}",
	     "_links.deploymentBase: not an object"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":{\"deploymentBase\":{}}}",
	     "_links.deploymentBase.href: missing"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":{\"cancelAction\":{"
	     "\"href\":\"file:///etc/passwd\"}}}",
	     "_links.cancelAction.href: not an http(s) URL"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":{\"cancelAction\":{"
	     "\"href\":\"http://a b\"}}}",
	     "_links.cancelAction.href: not an http(s) URL"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},\"_links\":{\"configData\":{"
	     "\"href\":5}}}",
	     "_links.configData.href: not a string"},
	    {"{\"config\":{\"polling\":{\"sleep\":\"00:00:05\",\"sleep\":\"00:00:06\"}}}",
	     "poll: not JSON"},
	};
	struct agent_poll p;
	struct fw_diag d;
	char *big;
	size_t i;

	memset(&p, 0x5a, sizeof(p));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		CHECK_EQ(agent_poll_parse(cases[i].text, strlen(cases[i].text), &p, &d), FW_E_FORMAT);
		if (strstr(d.msg, cases[i].msg) == NULL)
			harness_fail(__FILE__, __LINE__, "case %zu: \"%s\" does not say \"%s\"", i, d.msg,
			             cases[i].msg);
	}
	CHECK_EQ(p.sleep_s, 0x5a5a5a5au); /* untouched on failure */
	/* an href over AGENT_MAX_HREF */
	big = malloc(AGENT_MAX_HREF + 200);
	if (big == NULL)
		return;
	i = (size_t)snprintf(big, 200, "{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}},"
	                               "\"_links\":{\"deploymentBase\":{\"href\":\"http://");
	memset(big + i, 'a', AGENT_MAX_HREF);
	strcpy(big + i + AGENT_MAX_HREF, "\"}}}");
	CHECK_EQ(agent_poll_parse(big, strlen(big), &p, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "deploymentBase.href: length") != NULL);
	free(big);
	/* a body over AGENT_MAX_JSON is not parsed */
	big = calloc(1, AGENT_MAX_JSON + 2);
	if (big == NULL)
		return;
	memset(big, ' ', AGENT_MAX_JSON + 1);
	memcpy(big, "{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}}}",
	       strlen("{\"config\":{\"polling\":{\"sleep\":\"00:00:05\"}}}"));
	CHECK_EQ(agent_poll_parse(big, AGENT_MAX_JSON + 1, &p, &d), FW_E_TOO_LARGE);
	CHECK_EQ(agent_poll_parse(big, AGENT_MAX_JSON, &p, &d), FW_OK);
	free(big);
}

/* ---- deploymentBase ---- */

static const char dep_ok[] =
    "{\"id\":\"8\",\"deployment\":{\"download\":\"forced\",\"update\":\"forced\","
    "\"maintenanceWindow\":\"available\",\"chunks\":[{\"part\":\"os\",\"version\":\"2.4.1\","
    "\"name\":\"controller\",\"artifacts\":["
    "{\"filename\":\"controller-2.4.1.suit\",\"hashes\":{\"sha1\":\"aa\",\"md5\":\"bb\","
    "\"sha256\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
    "\"size\":294,\"_links\":{\"download-http\":{\"href\":\"http://h/T/controller/v1/d/"
    "softwaremodules/3/artifacts/controller-2.4.1.suit\"},"
    "\"md5sum-http\":{\"href\":\"http://h/x\"}}},"
    "{\"filename\":\"controller-2.4.1.bin\",\"size\":300000,\"_links\":{"
    "\"download\":{\"href\":\"https://h/img\"},\"download-http\":{\"href\":\"http://h/img\"}}}"
    "]}]},\"actionHistory\":{\"status\":\"RUNNING\",\"messages\":[]}}";

static void t_deployment(void)
{
	struct agent_deployment dp;
	struct fw_diag d = {{0}};

	CHECK_EQ(agent_deployment_parse(dep_ok, strlen(dep_ok), &dp, &d), FW_OK);
	CHECK(strcmp(dp.action_id, "8") == 0);
	CHECK(strcmp(dp.version, "2.4.1") == 0);
	CHECK(strcmp(dp.name, "controller") == 0);
	CHECK(!dp.update_skip);
	CHECK(strcmp(dp.envelope.filename, "controller-2.4.1.suit") == 0);
	CHECK(strstr(dp.envelope.href, "/artifacts/controller-2.4.1.suit") != NULL);
	CHECK(dp.envelope.size == 294 && dp.envelope.has_sha256 && dp.envelope.sha256[1] == 0x11);
	CHECK(strcmp(dp.image.filename, "controller-2.4.1.bin") == 0);
	CHECK(strcmp(dp.image.href, "https://h/img") == 0); /* https preferred */
	CHECK(dp.image.size == 300000 && !dp.image.has_sha256);
}

/* Replace the first occurrence of from in dep_ok by to. */
static char *mutate(const char *from, const char *to)
{
	const char *at = strstr(dep_ok, from);
	size_t n = strlen(dep_ok) - strlen(from) + strlen(to) + 1;
	char *s;

	if (at == NULL)
		return NULL;
	s = malloc(n);
	if (s == NULL)
		return NULL;
	snprintf(s, n, "%.*s%s%s", (int)(at - dep_ok), dep_ok, to, at + strlen(from));
	return s;
}

static void t_deployment_refused(void)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
	    {"\"id\":\"8\",", "", "deploymentBase: id: missing"},
	    {"\"id\":\"8\"", "\"id\":8", "deploymentBase: id: not a string"},
	    {"\"id\":\"8\"", "\"id\":\"8/../../x\"", "deploymentBase: id: not 1..64"},
	    {"\"deployment\":{", "\"deploymentX\":{", "deploymentBase: deployment: missing"},
	    {"\"update\":\"forced\"", "\"update\":\"later\"", "deployment.update: \"later\""},
	    {"\"download\":\"forced\"", "\"download\":true", "deployment.download: not a string"},
	    {"\"chunks\":[", "\"chunks\":[{},", "deployment.chunks: 2 chunks"},
	    {"\"chunks\":[{\"part\"", "\"chunksX\":[{\"part\"", "deployment.chunks: missing"},
	    {"\"version\":\"2.4.1\"", "\"version\":241", "chunks[0].version: not a string"},
	    {"\"version\":\"2.4.1\",", "", "chunks[0].version: missing"},
	    {"\"version\":\"2.4.1\"", "\"version\":\"\"", "chunks[0].version: length 0"},
	    {"\"name\":\"controller\"", "\"name\":[]", "chunks[0].name: not a string"},
	    {"\"artifacts\":[", "\"artifacts\":{},\"x\":[", "chunks[0].artifacts: not an array"},
	    {"{\"filename\":\"controller-2.4.1.suit\",", "{", "artifacts[0].filename: missing"},
	    {"\"filename\":\"controller-2.4.1.bin\"", "\"filename\":\"../../etc/x.bin\"",
	     "artifacts[1].filename: contains '/'"},
	    {"\"size\":294", "\"size\":-1", "artifacts[0].size: not a non-negative integer"},
	    {"\"size\":294", "\"size\":\"294\"", "artifacts[0].size: not a non-negative integer"},
	    {"\"sha256\":\"0011", "\"sha256\":\"zz11", "artifacts[0].hashes.sha256: not 64 hex"},
	    {"\"hashes\":{", "\"hashes\":\"x\",\"h2\":{", "artifacts[0].hashes: not an object"},
	    {"\"download-http\":{\"href\":\"http://h/T", "\"md5sum\":{\"href\":\"http://h/T",
	     "artifacts[0]._links.download-http: missing"},
	    {"\"download\":{\"href\":\"https://h/img\"}", "\"download\":{\"href\":\"ftp://h/img\"}",
	     "artifacts[1]._links.download.href: not an http(s) URL"},
	    {"controller-2.4.1.bin", "controller-2.4.1.suit", "2 *.suit and 0 other"},
	};
	struct agent_deployment dp;
	struct fw_diag d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = mutate(cases[i].from, cases[i].to);

		if (s == NULL) {
			harness_fail(__FILE__, __LINE__, "case %zu: cannot build", i);
			continue;
		}
		memset(&d, 0, sizeof(d));
		memset(&dp, 0, sizeof(dp));
		CHECK_EQ(agent_deployment_parse(s, strlen(s), &dp, &d), FW_E_FORMAT);
		if (strstr(d.msg, cases[i].msg) == NULL)
			harness_fail(__FILE__, __LINE__, "case %zu: \"%s\" does not say \"%s\"", i, d.msg,
			             cases[i].msg);
		/* only the action id may be written before the refusal */
		CHECK(dp.version[0] == '\0' && dp.image.href[0] == '\0');
		free(s);
	}
}

static void t_deployment_artifact_count(void)
{
	static const char two_suit[] =
	    "{\"id\":\"9\",\"deployment\":{\"chunks\":[{\"version\":\"1.0.0\",\"artifacts\":["
	    "{\"filename\":\"a.suit\",\"_links\":{\"download-http\":{\"href\":\"http://h/a\"}}},"
	    "{\"filename\":\"b.suit\",\"_links\":{\"download-http\":{\"href\":\"http://h/b\"}}},"
	    "{\"filename\":\"c.bin\",\"_links\":{\"download-http\":{\"href\":\"http://h/c\"}}}]}]}}";
	static const char only_image[] =
	    "{\"id\":\"9\",\"deployment\":{\"chunks\":[{\"version\":\"1.0.0\",\"artifacts\":["
	    "{\"filename\":\"c.bin\",\"_links\":{\"download-http\":{\"href\":\"http://h/c\"}}}]}]}}";
	static const char no_chunk[] = "{\"id\":\"9\",\"deployment\":{\"chunks\":[]}}";
	static const char bare[] =
	    "{\"id\":\"9\",\"deployment\":{\"chunks\":[{\"version\":\"1\",\"artifacts\":["
	    "{\"filename\":\".suit\",\"_links\":{\"download-http\":{\"href\":\"http://h/a\"}}},"
	    "{\"filename\":\"x\",\"_links\":{\"download-http\":{\"href\":\"http://h/b\"}}}]}]}}";
	struct agent_deployment dp;
	struct fw_diag d = {{0}};

	memset(&dp, 0, sizeof(dp));
	CHECK_EQ(agent_deployment_parse(two_suit, strlen(two_suit), &dp, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "2 *.suit and 1 other") != NULL);
	/* the id was valid: the caller can report the refusal on action 9 */
	CHECK(strcmp(dp.action_id, "9") == 0);
	CHECK_EQ(agent_deployment_parse(only_image, strlen(only_image), &dp, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "0 *.suit and 1 other") != NULL);
	CHECK_EQ(agent_deployment_parse(no_chunk, strlen(no_chunk), &dp, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "0 chunks") != NULL);
	/* ".suit" alone is no envelope's name: it must be a suffix of one */
	CHECK_EQ(agent_deployment_parse(bare, strlen(bare), &dp, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "0 *.suit and 2 other") != NULL);
}

static void t_deployment_skip_and_limits(void)
{
	struct agent_deployment dp;
	struct fw_diag d = {{0}};
	char *s = mutate("\"update\":\"forced\"", "\"update\":\"skip\""), *big;

	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ(agent_deployment_parse(s, strlen(s), &dp, &d), FW_OK);
		CHECK_EQ(dp.update_skip, 1);
		free(s);
	}
	big = calloc(1, AGENT_MAX_JSON + 2);
	if (big == NULL)
		return;
	memset(big, ' ', AGENT_MAX_JSON + 1);
	memcpy(big, dep_ok, strlen(dep_ok));
	memset(&dp, 0, sizeof(dp));
	CHECK_EQ(agent_deployment_parse(big, AGENT_MAX_JSON + 1, &dp, &d), FW_E_TOO_LARGE);
	CHECK(dp.action_id[0] == '\0');
	free(big);
	CHECK_EQ(agent_deployment_parse("{\"id\":\"1\"", 9, &dp, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "deploymentBase: not JSON") != NULL);
}

static void t_cancel(void)
{
	char id[AGENT_MAX_ACTION_ID + 1] = "x", stop[AGENT_MAX_ACTION_ID + 1] = "y";
	struct fw_diag d = {{0}};
	static const char ok[] = "{\"id\":\"11\",\"cancelAction\":{\"stopId\":\"11\"}}";
	static const char nonstr[] = "{\"id\":\"11\",\"cancelAction\":{\"stopId\":11}}";
	static const char badid[] = "{\"id\":\"1 1\",\"cancelAction\":{\"stopId\":\"1\"}}";

	CHECK_EQ(agent_cancel_parse(ok, strlen(ok), id, stop, &d), FW_OK);
	CHECK(strcmp(id, "11") == 0 && strcmp(stop, "11") == 0);
	strcpy(id, "x");
	CHECK_EQ(agent_cancel_parse("{\"id\":\"11\"}", strlen("{\"id\":\"11\"}"), id, stop, &d),
	         FW_E_FORMAT);
	CHECK(strstr(d.msg, "cancelAction: cancelAction: missing") != NULL);
	CHECK_EQ(agent_cancel_parse(nonstr, strlen(nonstr), id, stop, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "cancelAction.stopId: not a string") != NULL);
	CHECK_EQ(agent_cancel_parse(badid, strlen(badid), id, stop, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "cancelAction: id") != NULL);
	CHECK(strcmp(id, "x") == 0); /* untouched */
}

/* ---- requests ---- */

static void t_feedback_body(void)
{
	const char *det[2] = {"integrity: image_digest_mismatch", "quote \" and \\ and \n"};
	json_t *o, *st;
	char *s = agent_feedback_body("8", "closed", "failure", det, 2);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	o = json_loads(s, 0, NULL);
	CHECK(o != NULL);
	st = json_object_get(o, "status");
	CHECK(strcmp(json_string_value(json_object_get(o, "id")), "8") == 0);
	CHECK(strcmp(json_string_value(json_object_get(st, "execution")), "closed") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(st, "result"), "finished")),
	             "failure") == 0);
	CHECK_EQ(json_array_size(json_object_get(st, "details")), 2);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(st, "details"), 1)), det[1]) ==
	      0);
	json_decref(o);
	free(s);
	s = agent_config_body("2.4.1", 42);
	CHECK(s != NULL && strcmp(s, "{\"mode\":\"merge\",\"data\":{\"agent\":\"fwtrust-agent\","
	                             "\"fw_version\":\"2.4.1\",\"sequence\":\"42\"}}") == 0);
	free(s);
}

static void t_feedback_url(void)
{
	char out[64];

	CHECK_EQ(agent_feedback_url("http://h/T/controller/v1/d/cancelAction/11", out, sizeof(out)),
	         FW_OK);
	CHECK(strcmp(out, "http://h/T/controller/v1/d/cancelAction/11/feedback") == 0);
	CHECK_EQ(agent_feedback_url("http://h/c/cancelAction/11/?c=5#f", out, sizeof(out)), FW_OK);
	CHECK(strcmp(out, "http://h/c/cancelAction/11/feedback") == 0);
	CHECK_EQ(agent_feedback_url("http://h/a-very-long-path-that-does-not-fit-in-64-bytes/x/y/z",
	                            out, sizeof(out)),
	         FW_E_TOO_LARGE);
	CHECK(agent_href_valid("http://127.0.0.1:8080/x"));
	CHECK(agent_href_valid("https://h"));
	CHECK(!agent_href_valid("http://"));
	CHECK(!agent_href_valid("HTTP://h"));
	CHECK(!agent_href_valid("file:///etc/passwd"));
	CHECK(!agent_href_valid("gopher://h"));
	CHECK(!agent_href_valid("http://h/\x7f"));
}

static void t_error_code(void)
{
	static const char e[] = "{\"errorCode\":\"fwtrust.ddi.auth.refused\",\"message\":\"no\"}";
	static const char evil[] = "{\"errorCode\":\"a\\u001b[31mb c\\n\"}";
	char out[64];

	agent_error_code(e, strlen(e), out, sizeof(out));
	CHECK(strcmp(out, "fwtrust.ddi.auth.refused") == 0);
	agent_error_code(evil, strlen(evil), out, sizeof(out));
	CHECK(strcmp(out, "a[31mbc") == 0); /* no escape sequences into a terminal */
	agent_error_code("not json", 8, out, sizeof(out));
	CHECK(out[0] == '\0');
	agent_error_code(e, strlen(e), out, 8);
	CHECK(strcmp(out, "fwtrust") == 0);
	agent_error_code(NULL, 0, out, sizeof(out));
	CHECK(out[0] == '\0');
}

static const struct harness_test tests[] = {
    {"state_roundtrip", t_state_roundtrip},
    {"state_save_refuses_out_of_range", t_state_save_refuses_out_of_range},
    {"state_missing", t_state_missing},
    {"state_refuses_corrupt", t_state_refuses_corrupt},
    {"file_replace_atomic", t_file_replace_atomic},
    {"partial", t_partial},
    {"names", t_names},
    {"tokens_ok", t_tokens_ok},
    {"tokens_refused", t_tokens_refused},
    {"sleep", t_sleep},
    {"poll", t_poll},
    {"poll_refused", t_poll_refused},
    {"deployment", t_deployment},
    {"deployment_refused", t_deployment_refused},
    {"deployment_artifact_count", t_deployment_artifact_count},
    {"deployment_skip_and_limits", t_deployment_skip_and_limits},
    {"cancel", t_cancel},
    {"feedback_body", t_feedback_body},
    {"feedback_url", t_feedback_url},
    {"error_code", t_error_code},
};

HARNESS_MAIN(tests)
