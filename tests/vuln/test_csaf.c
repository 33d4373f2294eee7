/*
 * vuln/csaf.c: vers ranges mapped to ours (bounds inclusive and exclusive,
 * =, *, pre-releases, several intervals, and every vers that has no
 * mapping); the documents of tests/data/csaf mapped (one advisory, two,
 * a product not ours, a vers scheme not mapped), every malformed one
 * refused with FW_E_FORMAT naming its JSON path and *out untouched; the
 * mapping rules on documents edited here (families, fixed_in, severity,
 * ids, what is reported as unmapped); and imports on a real store: one
 * transaction, the document kept, source csaf, the same document again
 * writes nothing, a taken id or an unmapped item refuses and writes
 * nothing, --partial records what was left out.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "store/store.h"
#include "vuln/vuln.h"

static const char *const ours[] = {"controller"};

/* ---- vers ---- */

static void vers_ok(const char *vers, const char *want)
{
	struct fw_diag d = {{0}};
	char out[FW_RANGE_MAX + 1] = "";

	CHECK_EQ(fw_vuln_vers_range(vers, out, sizeof(out), &d), FW_OK);
	if (strcmp(out, want) != 0)
		harness_fail(__FILE__, __LINE__, "%s mapped to '%s', expected '%s' (%s)", vers, out,
		             want, d.msg);
}

static void vers_bad(const char *vers, const char *why)
{
	struct fw_diag d = {{0}};
	char out[FW_RANGE_MAX + 1] = "untouched";

	CHECK_EQ(fw_vuln_vers_range(vers, out, sizeof(out), &d), FW_E_FORMAT);
	CHECK(strcmp(out, "untouched") == 0);
	if (strstr(d.msg, why) == NULL)
		harness_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'", vers, d.msg, why);
}

static int in_range(const char *range, const char *version)
{
	struct fw_range r;
	struct fw_semver v;

	if (fw_range_parse(range, &r, NULL) != FW_OK || fw_semver_parse(version, &v, NULL) != FW_OK)
		return -1;
	return fw_range_match(&r, &v);
}

static void t_vers_map(void)
{
	char out[FW_RANGE_MAX + 1];

	/* one interval: bounds inclusive and exclusive as written */
	vers_ok("vers:semver/>=2.0.0|<2.4.1", ">=2.0.0 <2.4.1");
	vers_ok("vers:semver/>2.0.0|<=2.4.1", ">2.0.0 <=2.4.1");
	vers_ok("vers:semver/>=3.0.0", ">=3.0.0");
	vers_ok("vers:semver/<1.0.0", "<1.0.0");
	vers_ok("vers:semver/<=1.0.0", "<=1.0.0");
	/* single versions, with and without '=' */
	vers_ok("vers:semver/=2.3.0", "=2.3.0");
	vers_ok("vers:semver/2.3.0", "=2.3.0");
	vers_ok("vers:semver/1.0.0|1.1.0", "=1.0.0 || =1.1.0");
	/* every version */
	vers_ok("vers:semver/*", ">=0.0.0-0");
	CHECK_EQ(in_range(">=0.0.0-0", "0.0.0-0"), 1);
	CHECK_EQ(in_range(">=0.0.0-0", "0.0.0-alpha"), 1);
	/* several intervals and single versions: alternatives */
	vers_ok("vers:semver/<1.0.0|>=2.0.0|<2.4.1|=3.0.0", "<1.0.0 || >=2.0.0 <2.4.1 || =3.0.0");
	vers_ok("vers:semver/>=1.0.0|<1.2.0|>=2.0.0", ">=1.0.0 <1.2.0 || >=2.0.0");
	/* pre-releases: SemVer precedence, 2.4.1-rc.1 is below 2.4.1 */
	vers_ok("vers:semver/>=2.4.1-rc.1|<2.4.1", ">=2.4.1-rc.1 <2.4.1");
	vers_ok("vers:semver/>=2.0.0-rc.1|<2.0.0", ">=2.0.0-rc.1 <2.0.0");
	CHECK_EQ(in_range(">=2.0.0 <2.4.1", "2.4.1-rc.1"), 1);
	CHECK_EQ(in_range(">=2.0.0 <2.4.1", "2.0.0-rc.1"), 0);
	/* build metadata has no precedence: dropped */
	vers_ok("vers:semver/=1.0.0+build.7", "=1.0.0");
	/* generic with semantic versions; spaces are not significant */
	vers_ok("vers:generic/>=1.0.0|<1.1.0", ">=1.0.0 <1.1.0");
	vers_ok("vers:semver/ >= 2.0.0 | < 2.4.1 ", ">=2.0.0 <2.4.1");
	/* what has no mapping */
	vers_bad("vers:npm/>=1.0.0|<2.0.0", "vers scheme 'npm' is not mapped");
	vers_bad("vers:deb/>=1.0|<2.0", "vers scheme 'deb' is not mapped");
	vers_bad("vers:generic/>=1.0|<2.0", "'>=1.0' has no SemVer meaning");
	vers_bad("vers:semver/>=v2.0.0", "has no SemVer meaning");
	vers_bad("vers:semver/!=2.0.0", "'!=' (all but one version) is not mapped");
	vers_bad("vers:semver/<2.4.1|>=2.0.0", "not in ascending version order at '>=2.0.0'");
	vers_bad("vers:semver/=2.0.0|=2.0.0", "not in ascending version order");
	vers_bad("vers:semver/>=1.0.0|>=2.0.0", "two lower bounds in a row at '>=2.0.0'");
	vers_bad("vers:semver/>=1.0.0|=1.5.0|<2.0.0", "'=1.5.0' inside an interval");
	vers_bad("vers:semver/*|>=1.0.0", "'*' is the only constraint");
	vers_bad("vers:semver/>=1.0.0||<2.0.0", "an empty constraint");
	vers_bad("vers:semver/", "no constraints");
	vers_bad("vers:semver", "no '/' after the vers scheme");
	vers_bad(">=1.0.0 <2.0.0", "is not a vers: range");
	vers_bad("vers:semver/1.0.0|1.1.0|1.2.0|1.3.0|1.4.0|1.5.0|1.6.0|1.7.0|1.8.0|1.9.0|1.10.0|"
	         "1.11.0|1.12.0|1.13.0|1.14.0|1.15.0|1.16.0", "no range of ours");
	CHECK_EQ(fw_vuln_vers_range(NULL, out, sizeof(out), NULL), FW_E_ARG);
}

/* ---- the documents ---- */

static uint8_t *read_data(const char *name, size_t *len)
{
	char rel[200];
	uint8_t *p;

	snprintf(rel, sizeof(rel), "tests/data/csaf/%s", name);
	p = harness_read(harness_src_path(rel), len);
	CHECK(p != NULL);
	return p;
}

static int parse_file(const char *name, const char *const *known, size_t nknown,
                      struct fw_vuln_csaf *c, struct fw_diag *d)
{
	size_t len = 0;
	uint8_t *p = read_data(name, &len);
	int rc = p ? fw_vuln_csaf_parse(p, len, known, nknown, c, d) : -1;

	free(p);
	return rc;
}

static const struct fw_vuln_csaf_unmapped *find_unmapped(const struct fw_vuln_csaf *c,
                                                         const char *path, const char *why)
{
	size_t i;

	for (i = 0; i < c->nunmapped; i++)
		if (strcmp(c->unmapped[i].path, path) == 0 && strstr(c->unmapped[i].why, why))
			return &c->unmapped[i];
	return NULL;
}

static void t_valid(void)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};
	const struct fw_vuln_advisory *a;
	uint8_t sha[32], *p;
	size_t len = 0;

	fw_vuln_csaf_init(&c);
	CHECK_EQ(parse_file("valid.json", ours, 1, &c, &d), FW_OK);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.nunmapped, 0);
	CHECK(strcmp(c.tracking_id, "OEM-SA-2026-0007") == 0);
	CHECK(strcmp(c.tracking_version, "2") == 0);
	CHECK(strcmp(c.publisher, "OEM Example PSIRT") == 0);
	p = read_data("valid.json", &len);
	fw_sha256(p, len, sha);
	CHECK(memcmp(sha, c.sha256, 32) == 0);
	CHECK_EQ(c.size, len);
	free(p);
	a = &c.items[0].a;
	CHECK(strcmp(a->id, "OEM-SA-2026-0007") == 0);
	CHECK(strcmp(a->product, "controller") == 0);
	CHECK(strcmp(a->family, "ctl-a") == 0);
	CHECK(strcmp(a->affected_text, ">=2.0.0 <2.4.1") == 0);
	CHECK(a->has_fixed && strcmp(a->fixed_text, "2.4.1") == 0);
	CHECK_EQ(a->severity, FW_VULN_CRITICAL);
	CHECK(strcmp(a->cvss, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 0);
	CHECK(a->ncves == 1 && strcmp(a->cves[0], "CVE-2026-12345") == 0);
	CHECK(strcmp(a->title, "Bootloader authentication bypass") == 0);
	CHECK(strcmp(c.items[0].path, "vulnerabilities[0]") == 0);
	/* parsed again into the same struct: cleared first, no leak */
	CHECK_EQ(parse_file("valid.json", NULL, 0, &c, &d), FW_OK);
	CHECK_EQ(c.n, 1);
	fw_vuln_csaf_clear(&c);
	fw_vuln_csaf_clear(NULL);
}

static void t_two_vulns(void)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};

	fw_vuln_csaf_init(&c);
	CHECK_EQ(parse_file("two-vulns.json", ours, 1, &c, &d), FW_OK);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.nunmapped, 0);
	if (c.n == 2) {
		CHECK(strcmp(c.items[0].a.id, "OEM-SA-2026-0008:1") == 0);
		CHECK(strcmp(c.items[1].a.id, "OEM-SA-2026-0008:2") == 0);
		/* three affected products of one product and family: alternatives */
		CHECK(strcmp(c.items[0].a.affected_text,
		             ">=1.0.0 <1.2.0 || >=2.0.0 <=2.3.9 || =2.4.1-rc.1") == 0);
		CHECK(strcmp(c.items[0].a.fixed_text, "2.4.1") == 0);
		CHECK(strcmp(c.items[1].a.affected_text, "=2.4.0") == 0);
		CHECK_EQ(c.items[1].a.severity, FW_VULN_MEDIUM);
		/* no title of its own: the document's */
		CHECK(strcmp(c.items[1].a.title, "Controller ctl-a: two flaws in the update agent") ==
		      0);
		CHECK(strcmp(c.items[1].path, "vulnerabilities[1]") == 0);
	}
	fw_vuln_csaf_clear(&c);
}

static void t_unmapped_files(void)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};

	fw_vuln_csaf_init(&c);
	/* gateway is not ours: reported at its product_name branch */
	CHECK_EQ(parse_file("unmapped-product.json", ours, 1, &c, &d), FW_OK);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.nunmapped, 1);
	CHECK(find_unmapped(&c, "product_tree.branches[0].branches[1].branches[0]",
	                    "product 'gateway' family 'gw-1' (in vulnerabilities[0]) is not a "
	                    "product of this registry") != NULL);
	/* the ids do not depend on what the registry holds */
	CHECK(c.n == 1 && strcmp(c.items[0].a.id, "OEM-SA-2026-0009:1") == 0);
	CHECK_EQ(parse_file("unmapped-product.json", NULL, 0, &c, &d), FW_OK);
	CHECK_EQ(c.n, 2);
	CHECK(c.n == 2 && strcmp(c.items[1].a.id, "OEM-SA-2026-0009:2") == 0 &&
	      strcmp(c.items[1].a.product, "gateway") == 0 &&
	      strcmp(c.items[1].a.affected_text, "<3.1.0") == 0);
	/* no product of ours at all */
	CHECK_EQ(parse_file("valid.json", NULL, 0 + 0, &c, &d), FW_OK);
	{
		static const char *const none[] = {"sensor"};

		CHECK_EQ(parse_file("valid.json", none, 1, &c, &d), FW_OK);
		CHECK_EQ(c.n, 0);
		CHECK_EQ(c.nunmapped, 1);
	}
	/* a vers scheme that is not mapped: the product's path and why */
	CHECK_EQ(parse_file("unmapped-vers.json", ours, 1, &c, &d), FW_OK);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.nunmapped, 1);
	CHECK(find_unmapped(&c, "product_tree.branches[0].branches[0].branches[0].branches[3]."
	                    "product", "'CSAFPID-0007' (affected in vulnerabilities[1]): "
	                    "'vers:npm/>=3.0.0|<3.2.0': vers scheme 'npm' is not mapped") != NULL);
	CHECK(c.n == 1 && strcmp(c.items[0].a.id, "OEM-SA-2026-0010:1") == 0);
	fw_vuln_csaf_clear(&c);
}

static void bad_file(const char *name, int want, const char *msg)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};
	int rc;

	fw_vuln_csaf_init(&c);
	/* *out keeps what it had */
	CHECK_EQ(parse_file("valid.json", ours, 1, &c, &d), FW_OK);
	rc = parse_file(name, ours, 1, &c, &d);
	if (rc != want)
		harness_fail(__FILE__, __LINE__, "%s: %d, expected %d (%s)", name, rc, want, d.msg);
	if (strstr(d.msg, msg) == NULL)
		harness_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'", name, d.msg, msg);
	CHECK(c.n == 1 && strcmp(c.items[0].a.id, "OEM-SA-2026-0007") == 0);
	fw_vuln_csaf_clear(&c);
}

static void t_malformed_files(void)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};
	uint8_t *big;
	size_t len = 0;
	uint8_t *p = read_data("valid.json", &len);

	bad_file("bad-not-json.json", FW_E_FORMAT, "not JSON: line 62, column 14");
	bad_file("bad-duplicate-key.json", FW_E_FORMAT, "duplicate object key near '\"category\"'");
	bad_file("bad-csaf-version.json", FW_E_FORMAT,
	         "document.csaf_version: '2.1' is not \"2.0\"");
	bad_file("bad-no-tracking-id.json", FW_E_FORMAT, "document.tracking.id: missing");
	bad_file("bad-unknown-product.json", FW_E_FORMAT,
	         "vulnerabilities[0].product_status.known_affected[2]: 'CSAFPID-9' is not a "
	         "product of product_tree");
	bad_file("bad-category.json", FW_E_FORMAT,
	         "document.category: 'security_advisory' is not a CSAF category");
	bad_file("bad-cvss.json", FW_E_FORMAT,
	         "vulnerabilities[0].scores[0].cvss_v3: vectorString: base metric A is missing");
	bad_file("bad-tracking-version-type.json", FW_E_FORMAT,
	         "document.tracking.version: not a string");
	/* over 4 MiB: refused before it is parsed (made here, not committed) */
	big = malloc(FW_VULN_CSAF_MAX + 1);
	CHECK(big != NULL && p != NULL);
	if (big && p) {
		memset(big, ' ', FW_VULN_CSAF_MAX + 1);
		memcpy(big, p, len);
		fw_vuln_csaf_init(&c);
		CHECK_EQ(fw_vuln_csaf_parse(big, FW_VULN_CSAF_MAX + 1, ours, 1, &c, &d),
		         FW_E_TOO_LARGE);
		CHECK(strstr(d.msg, "over 4194304 bytes") != NULL);
		CHECK_EQ(c.n, 0);
		/* exactly at the limit is fine */
		CHECK_EQ(fw_vuln_csaf_parse(big, FW_VULN_CSAF_MAX, ours, 1, &c, &d), FW_OK);
		CHECK_EQ(c.n, 1);
		fw_vuln_csaf_clear(&c);
	}
	free(big);
	free(p);
	CHECK_EQ(fw_vuln_csaf_parse(NULL, 0, NULL, 0, &c, &d), FW_E_ARG);
}

/* ---- mapping rules, on documents edited here ---- */

static json_t *base_doc(void)
{
	size_t len = 0;
	uint8_t *p = read_data("valid.json", &len);
	json_t *o = p ? json_loadb((const char *)p, len, 0, NULL) : NULL;

	free(p);
	CHECK(o != NULL);
	return o;
}

/* the list of controller's version branches */
static json_t *versions(json_t *doc)
{
	json_t *b = json_object_get(json_object_get(doc, "product_tree"), "branches");
	int k;

	for (k = 0; k < 3; k++)
		b = json_object_get(json_array_get(b, 0), "branches");
	return b;
}

static json_t *vuln0(json_t *doc)
{
	return json_array_get(json_object_get(doc, "vulnerabilities"), 0);
}

static json_t *status0(json_t *doc)
{
	return json_object_get(vuln0(doc), "product_status");
}

static int parse_doc(json_t *doc, struct fw_vuln_csaf *c, struct fw_diag *d)
{
	char *t = json_dumps(doc, JSON_COMPACT);
	int rc = t ? fw_vuln_csaf_parse((const uint8_t *)t, strlen(t), ours, 1, c, d) : -1;

	free(t);
	json_decref(doc);
	return rc;
}

static void add_version(json_t *doc, const char *cat, const char *name, const char *id)
{
	json_array_append_new(versions(doc),
	                      json_pack("{sssss{ssss}}", "category", cat, "name", name, "product",
	                                "name", id, "product_id", id));
}

static void t_rules(void)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};
	json_t *doc;

	fw_vuln_csaf_init(&c);
	/* fixed_in: the lowest fixed version of the product outside the range */
	doc = base_doc();
	add_version(doc, "product_version", "2.4.1-rc.1", "P-RC");
	add_version(doc, "product_version", "2.5.0", "P-25");
	json_object_set_new(status0(doc), "fixed", json_pack("[sss]", "P-25", "P-RC", "CSAFPID-0002"));
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK(c.n == 1 && strcmp(c.items[0].a.fixed_text, "2.4.1") == 0);
	/* a fixed version only inside the range: no fixed_in */
	doc = base_doc();
	add_version(doc, "product_version", "2.4.1-rc.1", "P-RC");
	json_object_set_new(status0(doc), "fixed", json_pack("[s]", "P-RC"));
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK(c.n == 1 && !c.items[0].a.has_fixed);
	/* affected products of two families: two advisories, numbered */
	doc = base_doc();
	{
		json_t *fams = json_object_get(json_array_get(json_object_get(json_object_get(doc,
		                               "product_tree"), "branches"), 0), "branches");
		json_t *fam2 = json_deep_copy(json_array_get(fams, 0));
		json_t *v2 = json_object_get(json_array_get(json_object_get(json_array_get(
		                             json_object_get(fam2, "branches"), 0), "branches"), 0),
		                             "product");

		json_object_set_new(fam2, "name", json_string("ctl-b"));
		json_object_set_new(v2, "product_id", json_string("B-1"));
		/* the copy's other ids must not collide */
		json_array_remove(json_object_get(json_array_get(json_object_get(fam2, "branches"), 0),
		                                  "branches"), 2);
		json_array_remove(json_object_get(json_array_get(json_object_get(fam2, "branches"), 0),
		                                  "branches"), 1);
		json_array_append_new(fams, fam2);
	}
	json_array_append_new(json_object_get(status0(doc), "known_affected"), json_string("B-1"));
	json_array_append_new(json_object_get(json_array_get(json_object_get(vuln0(doc), "scores"),
	                                                     0), "products"), json_string("B-1"));
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK_EQ(c.n, 2);
	if (c.n == 2) {
		CHECK(strcmp(c.items[0].a.id, "OEM-SA-2026-0007:1") == 0);
		CHECK(strcmp(c.items[0].a.family, "ctl-a") == 0);
		CHECK(strcmp(c.items[1].a.id, "OEM-SA-2026-0007:2") == 0);
		CHECK(strcmp(c.items[1].a.family, "ctl-b") == 0);
		/* ctl-b's fixed version is ctl-a's: not its own */
		CHECK(!c.items[1].a.has_fixed);
	}
	/* no product_family branch: every family */
	doc = base_doc();
	{
		json_t *vendor = json_array_get(json_object_get(json_object_get(doc, "product_tree"),
		                                                "branches"), 0);
		json_t *name = json_incref(json_array_get(json_object_get(json_array_get(
		                            json_object_get(vendor, "branches"), 0), "branches"), 0));

		json_object_set_new(vendor, "branches", json_pack("[o]", name));
	}
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK(c.n == 1 && c.items[0].a.family[0] == '\0');
	/* the highest severity of the scores given for its products */
	doc = base_doc();
	json_array_append_new(json_object_get(vuln0(doc), "scores"),
	                      json_pack("{s{ssss}s[s]}", "cvss_v3", "baseSeverity", "LOW",
	                                "vectorString", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
	                                "products", "CSAFPID-0001"));
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK(c.n == 1 && c.items[0].a.severity == FW_VULN_CRITICAL);
	fw_vuln_csaf_clear(&c);
}

static void unmapped_doc(json_t *doc, const char *path, const char *why)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};

	fw_vuln_csaf_init(&c);
	CHECK_EQ(parse_doc(doc, &c, &d), FW_OK);
	CHECK_EQ(c.n, 0);
	if (find_unmapped(&c, path, why) == NULL)
		harness_fail(__FILE__, __LINE__, "no unmapped item '%s: %s' (%zu items, first: %s: %s)",
		             path, why, c.nunmapped, c.nunmapped ? c.unmapped[0].path : "",
		             c.nunmapped ? c.unmapped[0].why : "");
	fw_vuln_csaf_clear(&c);
}

static void t_unmapped_rules(void)
{
	json_t *doc;

	/* products outside a product_name branch */
	doc = base_doc();
	json_object_set_new(json_object_get(doc, "product_tree"), "full_product_names",
	                    json_pack("[{ssss}]", "name", "Controller 3.0", "product_id", "F-1"));
	json_object_set_new(status0(doc), "known_affected", json_pack("[s]", "F-1"));
	unmapped_doc(doc, "product_tree.full_product_names[0]",
	             "'F-1' (affected in vulnerabilities[0]): defined in full_product_names");
	/* a product_version that is not a semantic version */
	doc = base_doc();
	add_version(doc, "product_version", "2.4", "P-24");
	json_object_set_new(status0(doc), "known_affected", json_pack("[s]", "P-24"));
	unmapped_doc(doc, "product_tree.branches[0].branches[0].branches[0].branches[3].product",
	             "product_version '2.4' is not a semantic version");
	/* a version string that is no vers */
	doc = base_doc();
	add_version(doc, "product_version_range", "<=4.2", "P-VLS");
	json_object_set_new(status0(doc), "known_affected", json_pack("[s]", "P-VLS"));
	unmapped_doc(doc, "product_tree.branches[0].branches[0].branches[0].branches[3].product",
	             "'<=4.2' is not a vers: range");
	/* a patch_level changes what the version means */
	doc = base_doc();
	json_array_append_new(versions(doc),
	                      json_pack("{sssss[{sssss{ssss}}]}", "category", "product_version",
	                                "name", "2.2.0", "branches", "category", "patch_level",
	                                "name", "p1", "product", "name", "x", "product_id", "P-P1"));
	json_object_set_new(status0(doc), "known_affected", json_pack("[s]", "P-P1"));
	unmapped_doc(doc, "product_tree.branches[0].branches[0].branches[0].branches[3].branches[0]"
	             ".product", "a patch_level branch above it");
	/* no known_affected */
	doc = base_doc();
	json_object_del(status0(doc), "known_affected");
	json_object_set_new(status0(doc), "under_investigation", json_pack("[s]", "CSAFPID-0001"));
	unmapped_doc(doc, "vulnerabilities[0].product_status",
	             "no known_affected products: nothing to map");
	/* first_affected would make us guess the range */
	doc = base_doc();
	json_object_set_new(status0(doc), "first_affected", json_pack("[s]", "CSAFPID-0003"));
	unmapped_doc(doc, "vulnerabilities[0].product_status.first_affected",
	             "first_affected and last_affected are not mapped");
	/* severity NONE; no CVSS v3 score */
	doc = base_doc();
	json_object_set_new(json_object_get(json_array_get(json_object_get(vuln0(doc), "scores"), 0),
	                                    "cvss_v3"), "baseSeverity", json_string("NONE"));
	unmapped_doc(doc, "vulnerabilities[0].scores", "baseSeverity NONE is not a severity");
	doc = base_doc();
	json_object_del(vuln0(doc), "scores");
	unmapped_doc(doc, "vulnerabilities[0].scores", "no CVSS v3 score for its products");
	/* a tracking id that is no advisory id of ours: reported, not mangled */
	doc = base_doc();
	json_object_set_new(json_object_get(json_object_get(doc, "document"), "tracking"), "id",
	                    json_string("OEM SA/2026/7"));
	unmapped_doc(doc, "document.tracking.id", "'OEM SA/2026/7' is not an advisory id of ours");
	/* a title over 512 bytes */
	doc = base_doc();
	{
		char t[600];

		memset(t, 'x', sizeof(t) - 1);
		t[sizeof(t) - 1] = '\0';
		json_object_set_new(vuln0(doc), "title", json_string(t));
	}
	unmapped_doc(doc, "vulnerabilities[0]", "the title is not 1-512 bytes of text");
}

static void bad_doc(json_t *doc, const char *msg)
{
	struct fw_vuln_csaf c;
	struct fw_diag d = {{0}};

	fw_vuln_csaf_init(&c);
	CHECK_EQ(parse_doc(doc, &c, &d), FW_E_FORMAT);
	if (strstr(d.msg, msg) == NULL)
		harness_fail(__FILE__, __LINE__, "message '%s' lacks '%s'", d.msg, msg);
	CHECK_EQ(c.n, 0);
}

static void t_malformed_rules(void)
{
	json_t *doc;

	doc = base_doc();
	add_version(doc, "product_version", "2.5.0", "CSAFPID-0002");
	bad_doc(doc, "product_tree.branches[0].branches[0].branches[0].branches[3].product: "
	             "product id 'CSAFPID-0002' is defined twice");
	doc = base_doc();
	json_object_set_new(json_array_get(versions(doc), 0), "branches", json_array());
	bad_doc(doc, "product_tree.branches[0].branches[0].branches[0].branches[0]: a branch has "
	             "either 'branches' or 'product'");
	doc = base_doc();
	json_object_set_new(json_array_get(versions(doc), 0), "category", json_string("version"));
	bad_doc(doc, "category 'version' is not a branch category");
	doc = base_doc();
	json_object_set_new(json_array_get(json_object_get(vuln0(doc), "remediations"), 0),
	                    "product_ids", json_pack("[s]", "NOPE"));
	bad_doc(doc, "vulnerabilities[0].remediations[0].product_ids[0]: 'NOPE' is not a product");
	doc = base_doc();
	json_object_set_new(vuln0(doc), "cve", json_string("CVE-26-1"));
	bad_doc(doc, "vulnerabilities[0]: cve: 'CVE-26-1' is not a CVE id");
	doc = base_doc();
	json_object_set_new(json_object_get(json_array_get(json_object_get(vuln0(doc), "scores"), 0),
	                                    "cvss_v3"), "baseSeverity", json_string("SEVERE"));
	bad_doc(doc, "vulnerabilities[0].scores[0].cvss_v3: baseSeverity: 'SEVERE' is not");
	doc = base_doc();
	json_object_set_new(doc, "vulnerabilities", json_array());
	bad_doc(doc, "vulnerabilities: not a non-empty array");
	doc = base_doc();
	json_object_set_new(status0(doc), "fixed", json_string("CSAFPID-0002"));
	bad_doc(doc, "vulnerabilities[0].product_status.fixed: not an array");
	doc = base_doc();
	json_object_del(json_object_get(doc, "document"), "publisher");
	bad_doc(doc, "document.publisher: missing");
	/* branches nested over the cap */
	doc = base_doc();
	{
		json_t *b = json_pack("{sssss{ssss}}", "category", "architecture", "name", "a",
		                      "product", "name", "deep", "product_id", "DEEP");
		int k;

		for (k = 0; k < FW_VULN_CSAF_MAX_DEPTH + 2; k++)
			b = json_pack("{sssss[o]}", "category", "architecture", "name", "a", "branches", b);
		json_array_append_new(versions(doc), b);
	}
	{
		struct fw_vuln_csaf c;
		struct fw_diag d = {{0}};

		fw_vuln_csaf_init(&c);
		CHECK_EQ(parse_doc(doc, &c, &d), FW_E_TOO_LARGE);
		CHECK(strstr(d.msg, "branches nested over 32 deep") != NULL);
	}
}

/* ---- imports on a store ---- */

static struct fw_store *new_store(const char *name)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char db[64];

	snprintf(db, sizeof(db), "%s.db", name);
	CHECK_EQ(fw_store_open(harness_tmp_path(db), 1, &s, &d), FW_OK);
	CHECK_EQ(fw_evidence_setup(s, "test.example/csaf", harness_tmp_path(name), &d), FW_OK);
	return s;
}

static uint64_t log_size(struct fw_store *s)
{
	uint64_t n = 0;
	uint8_t root[32];

	CHECK_EQ(fw_evidence_size(s, &n, root, NULL), FW_OK);
	return n;
}

static json_t *record(struct fw_store *s, uint64_t idx)
{
	uint8_t *bytes = NULL, lh[32];
	size_t len = 0;
	json_t *rec = NULL;

	CHECK_EQ(fw_evidence_get(s, idx, &bytes, &len, lh, NULL), FW_OK);
	if (bytes)
		rec = json_loadb((const char *)bytes, len, 0, NULL);
	free(bytes);
	CHECK(rec != NULL);
	return rec;
}

static int blob_exists(struct fw_store *s, const uint8_t sha[32])
{
	char p[4200];
	struct stat st;

	fw_store_blob_path(s, sha, p, sizeof(p));
	return stat(p, &st) == 0;
}

static const char *sget(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static void t_import(void)
{
	struct fw_store *s = new_store("import");
	struct fw_vuln_csaf c;
	struct fw_vuln_advisory a;
	struct fw_diag d = {{0}};
	json_t *rec, *doc = NULL, *cj;
	uint8_t *p, *q;
	size_t len = 0, qlen = 0;
	uint64_t n, idx = 0;
	uint8_t lh[32];
	char hex[65];

	fw_vuln_csaf_init(&c);
	p = read_data("valid.json", &len);
	CHECK_EQ(fw_vuln_csaf_parse(p, len, ours, 1, &c, &d), FW_OK);
	CHECK(!blob_exists(s, c.sha256));
	n = log_size(s);
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 0, "test", &d), FW_OK);
	CHECK_EQ(log_size(s), n + 1);
	CHECK(c.items[0].idx == n && !c.items[0].existed);
	/* the record: source csaf and where it came from */
	rec = record(s, c.items[0].idx);
	fw_hex_encode(c.sha256, 32, hex);
	cj = json_object_get(rec, "csaf");
	CHECK(strcmp(sget(rec, "type"), "vuln.add") == 0);
	CHECK(strcmp(sget(rec, "source"), "csaf") == 0);
	CHECK(strcmp(sget(rec, "advisory"), "OEM-SA-2026-0007") == 0);
	CHECK(strcmp(sget(cj, "sha256"), hex) == 0);
	CHECK(strcmp(sget(cj, "tracking_id"), "OEM-SA-2026-0007") == 0);
	CHECK(strcmp(sget(cj, "tracking_version"), "2") == 0);
	CHECK(strcmp(sget(cj, "publisher"), "OEM Example PSIRT") == 0);
	CHECK(strcmp(sget(cj, "path"), "vulnerabilities[0]") == 0);
	CHECK_EQ(json_integer_value(json_object_get(cj, "size")), (long long)len);
	CHECK(json_object_get(cj, "unmapped") == NULL);
	json_decref(rec);
	/* the document kept byte for byte */
	CHECK(blob_exists(s, c.sha256));
	{
		char bp[4200];

		fw_store_blob_path(s, c.sha256, bp, sizeof(bp));
		q = harness_read(bp, &qlen);
		CHECK(q != NULL && qlen == len && memcmp(p, q, len) == 0);
		free(q);
	}
	/* the stored advisory loads and validates as any other */
	CHECK_EQ(fw_vuln_load(s, "OEM-SA-2026-0007", &a, &idx, lh, &d), FW_OK);
	CHECK_EQ(idx, c.items[0].idx);
	CHECK_EQ(fw_vuln_get(s, "OEM-SA-2026-0007", &doc, &d), FW_OK);
	CHECK(strcmp(sget(doc, "source"), "csaf") == 0);
	CHECK(strcmp(sget(json_object_get(doc, "csaf"), "sha256"), hex) == 0);
	json_decref(doc);
	/* the same document again: nothing written */
	n = log_size(s);
	CHECK_EQ(fw_vuln_csaf_parse(p, len, ours, 1, &c, &d), FW_OK);
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 0, "test", &d), FW_OK);
	CHECK(c.items[0].existed);
	CHECK_EQ(log_size(s), n);
	/* bytes that are not the ones parsed */
	p[len - 2] ^= 1;
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 0, "test", &d), FW_E_ARG);
	p[len - 2] ^= 1;
	free(p);
	/* another document with the id of an advisory of ours: refused, nothing kept */
	p = read_data("valid.json", &len);
	{
		json_t *o = json_loadb((const char *)p, len, 0, NULL);
		char *t;

		json_object_set_new(json_object_get(json_object_get(o, "document"), "tracking"),
		                    "version", json_string("3"));
		t = json_dumps(o, JSON_INDENT(2));
		json_decref(o);
		CHECK(t != NULL);
		CHECK_EQ(fw_vuln_csaf_parse((const uint8_t *)t, strlen(t), ours, 1, &c, &d), FW_OK);
		CHECK_EQ(fw_vuln_import(s, &c, (const uint8_t *)t, strlen(t), 0, "test", &d),
		         FW_E_CONFLICT);
		CHECK(strstr(d.msg, "advisory OEM-SA-2026-0007 exists already, not from this "
		                    "document") != NULL);
		CHECK_EQ(log_size(s), n);
		CHECK(!blob_exists(s, c.sha256));
		free(t);
	}
	free(p);
	fw_vuln_csaf_clear(&c);
	fw_store_close(s);
}

static void t_import_all_or_nothing(void)
{
	struct fw_store *s = new_store("whole");
	struct fw_vuln_csaf c;
	struct fw_vuln_input in = {0};
	struct fw_vuln_advisory a;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *rec, *un;
	uint8_t *p;
	size_t len = 0;
	uint64_t n;

	fw_vuln_csaf_init(&c);
	/* the second of two ids is taken: neither is written */
	in.id = "OEM-SA-2026-0008:2";
	in.title = "taken";
	in.severity = "low";
	in.product = "controller";
	in.affected = "=1.0.0";
	CHECK_EQ(fw_vuln_advisory_parse(&in, &a, &d), FW_OK);
	CHECK_EQ(fw_vuln_add(s, &a, "test", NULL, NULL, &d), FW_OK);
	p = read_data("two-vulns.json", &len);
	CHECK_EQ(fw_vuln_csaf_parse(p, len, ours, 1, &c, &d), FW_OK);
	n = log_size(s);
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 0, "test", &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "OEM-SA-2026-0008:2") != NULL);
	CHECK_EQ(log_size(s), n);
	CHECK_EQ(fw_vuln_get(s, "OEM-SA-2026-0008:1", &doc, NULL), FW_E_NOT_FOUND);
	CHECK(!blob_exists(s, c.sha256));
	free(p);
	/* unmapped items: refused unless partial */
	p = read_data("unmapped-vers.json", &len);
	CHECK_EQ(fw_vuln_csaf_parse(p, len, ours, 1, &c, &d), FW_OK);
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 0, "test", &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "1 item(s) of the document cannot be mapped") != NULL);
	CHECK_EQ(log_size(s), n);
	CHECK(!blob_exists(s, c.sha256));
	CHECK_EQ(fw_vuln_import(s, &c, p, len, 1, "test", &d), FW_OK);
	CHECK_EQ(log_size(s), n + 1);
	rec = record(s, c.items[0].idx);
	un = json_object_get(json_object_get(rec, "csaf"), "unmapped");
	CHECK_EQ(json_array_size(un), 1);
	CHECK(strstr(sget(json_array_get(un, 0), "path"), "branches[3].product") != NULL);
	CHECK(strstr(sget(json_array_get(un, 0), "why"), "vers scheme 'npm'") != NULL);
	json_decref(rec);
	free(p);
	/* nothing maps at all */
	{
		static const char *const none[] = {"sensor"};

		p = read_data("valid.json", &len);
		CHECK_EQ(fw_vuln_csaf_parse(p, len, none, 1, &c, &d), FW_OK);
		CHECK_EQ(fw_vuln_import(s, &c, p, len, 1, "test", &d), FW_E_VERIFY);
		CHECK_EQ(log_size(s), n + 1);
		free(p);
	}
	fw_vuln_csaf_clear(&c);
	fw_store_close(s);
}

static const struct harness_test tests[] = {
    {"vers ranges mapped and refused", t_vers_map},
    {"valid advisory", t_valid},
    {"two vulnerabilities, several ranges", t_two_vulns},
    {"unmapped product and vers scheme", t_unmapped_files},
    {"malformed files name the JSON path", t_malformed_files},
    {"mapping rules", t_rules},
    {"what is reported as unmapped", t_unmapped_rules},
    {"malformed documents", t_malformed_rules},
    {"import: one transaction, the document kept, again is a no-op", t_import},
    {"import: a taken id or an unmapped item writes nothing", t_import_all_or_nothing},
};

HARNESS_MAIN(tests)
