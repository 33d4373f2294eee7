/*
 * CSAF 2.0 advisories (OASIS Common Security Advisory Framework 2.0) mapped
 * to advisories of ours: the document checked for what we rely on, the
 * product tree's product_name / product_family / product_version /
 * product_version_range branches mapped to product, family and range, each
 * vulnerability's known_affected, fixed and first_fixed products and its
 * CVSS v3 score mapped to advisories. What has no exact mapping is listed
 * with its JSON path, never guessed. Pure: no store, no files.
 */
#define _POSIX_C_SOURCE 200809L
#include "vuln/vuln.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

/* How a product of the tree says which versions it is. */
enum pkind {
	P_NONE = 0,    /* no version branch above it: the product as a whole */
	P_VERSION = 1, /* a product_version branch: one version */
	P_RANGE = 2,   /* a product_version_range branch: a vers range */
	P_FULL = 3,    /* full_product_names: no branches at all */
	P_REL = 4      /* a relationship of products */
};

struct product {
	const char *id;      /* borrowed from the JSON document */
	char *path;          /* its definition */
	const char *name;    /* the product_name branch above it, NULL when none */
	char *name_path;     /* that branch */
	const char *family;  /* the product_family branch above the name, NULL when none */
	int kind;
	const char *version; /* the version branch's name (P_VERSION, P_RANGE) */
	char *range;         /* our range for it (mapped), NULL when it has none */
	char *why;           /* why it has none */
	int reported;
	unsigned long mark;  /* == ctx.stamp: in the set being looked at */
};

struct ctx {
	const char *const *known;
	size_t nknown;
	struct product *p;
	size_t np;
	json_t *ids;               /* product id -> index into p */
	const char *doc_title;
	struct fw_vuln_csaf *out;
	size_t groups;             /* candidate advisories (numbering) */
	unsigned long stamp;       /* marks products as members of a set */
	struct fw_diag *d;
};

/* Untrusted text as a message may show it: control bytes become '?', at
 * most 60 bytes, "..." when cut. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; s && s[i] && n + 4 < cap && i < 60; i++)
		buf[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s && s[i] && n + 4 <= cap) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int err(struct ctx *c, int rc, const char *path, const char *fmt, ...) FW_PRINTF(4, 5);
static int err(struct ctx *c, int rc, const char *path, const char *fmt, ...)
{
	char msg[FW_DIAG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fw_diag_set(c->d, rc, "%s: %s", path, msg);
}

/* An item that is not mapped. FW_E_TOO_LARGE past the cap. */
static int unmapped(struct ctx *c, const char *path, const char *fmt, ...) FW_PRINTF(3, 4);
static int unmapped(struct ctx *c, const char *path, const char *fmt, ...)
{
	struct fw_vuln_csaf_unmapped *u;
	va_list ap;

	if (c->out->nunmapped == FW_VULN_CSAF_MAX_UNMAPPED)
		return fw_diag_set(c->d, FW_E_TOO_LARGE, "over %d items of the document cannot be "
		                   "mapped", FW_VULN_CSAF_MAX_UNMAPPED);
	u = &c->out->unmapped[c->out->nunmapped++];
	snprintf(u->path, sizeof(u->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(u->why, sizeof(u->why), fmt, ap);
	va_end(ap);
	return FW_OK;
}

/* snprintf where cutting a long path or reason short is what is wanted */
static void textf(char *out, size_t cap, const char *fmt, ...) FW_PRINTF(3, 4);
static void textf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

/* A required member that is a string (non-empty when nonempty). */
static int need_str(struct ctx *c, const json_t *o, const char *key, const char *path,
                    int nonempty, const char **out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return fw_diag_set(c->d, FW_E_FORMAT, "%s.%s: missing", path, key);
	if (!json_is_string(v))
		return fw_diag_set(c->d, FW_E_FORMAT, "%s.%s: not a string", path, key);
	if (nonempty && json_string_length(v) == 0)
		return fw_diag_set(c->d, FW_E_FORMAT, "%s.%s: empty", path, key);
	if (out)
		*out = json_string_value(v);
	return FW_OK;
}

/* An optional member of a given type (NULL when absent). */
static int opt_type(struct ctx *c, const json_t *o, const char *key, const char *path, int type,
                    json_t **out)
{
	json_t *v = json_object_get(o, key);
	static const char *const names[] = {"an object", "an array", "a string"};
	int k = type == JSON_OBJECT ? 0 : type == JSON_ARRAY ? 1 : 2;

	*out = NULL;
	if (v == NULL)
		return FW_OK;
	if (json_typeof(v) != (json_type)type)
		return fw_diag_set(c->d, FW_E_FORMAT, "%s.%s: not %s", path, key, names[k]);
	*out = v;
	return FW_OK;
}

/* Tracking id, version, publisher: kept in records, so text of bounded size. */
static int keep_text(struct ctx *c, const char *v, const char *path, char *out)
{
	if (strlen(v) >= FW_VULN_CSAF_TEXT_MAX)
		return fw_diag_set(c->d, FW_E_TOO_LARGE, "%s: over %d bytes", path,
		                   FW_VULN_CSAF_TEXT_MAX - 1);
	if (!fw_text_valid(v))
		return fw_diag_set(c->d, FW_E_FORMAT, "%s: not UTF-8 text without control characters",
		                   path);
	snprintf(out, FW_VULN_CSAF_TEXT_MAX, "%s", v);
	return FW_OK;
}

static int check_document(struct ctx *c, json_t *root)
{
	json_t *doc = json_object_get(root, "document"), *pub, *tr, *v;
	const char *cat, *ver, *s;
	char b[80];
	int rc;

	if (doc == NULL)
		return fw_diag_set(c->d, FW_E_FORMAT, "document: missing (not a CSAF document)");
	if (!json_is_object(doc))
		return fw_diag_set(c->d, FW_E_FORMAT, "document: not an object");
	if ((rc = need_str(c, doc, "category", "document", 1, &cat)) != FW_OK ||
	    (rc = need_str(c, doc, "csaf_version", "document", 1, &ver)) != FW_OK ||
	    (rc = need_str(c, doc, "title", "document", 1, &c->doc_title)) != FW_OK)
		return rc;
	if (strncmp(cat, "csaf_", 5) != 0)
		return fw_diag_set(c->d, FW_E_FORMAT, "document.category: '%s' is not a CSAF "
		                   "category (csaf_...)", shown(cat, b, sizeof(b)));
	if (strcmp(ver, "2.0") != 0)
		return fw_diag_set(c->d, FW_E_FORMAT, "document.csaf_version: '%s' is not \"2.0\"",
		                   shown(ver, b, sizeof(b)));
	pub = json_object_get(doc, "publisher");
	if (!json_is_object(pub))
		return fw_diag_set(c->d, FW_E_FORMAT, "document.publisher: %s",
		                   pub ? "not an object" : "missing");
	if ((rc = need_str(c, pub, "category", "document.publisher", 1, NULL)) != FW_OK ||
	    (rc = need_str(c, pub, "namespace", "document.publisher", 1, NULL)) != FW_OK ||
	    (rc = need_str(c, pub, "name", "document.publisher", 1, &s)) != FW_OK ||
	    (rc = keep_text(c, s, "document.publisher.name", c->out->publisher)) != FW_OK)
		return rc;
	tr = json_object_get(doc, "tracking");
	if (!json_is_object(tr))
		return fw_diag_set(c->d, FW_E_FORMAT, "document.tracking: %s",
		                   tr ? "not an object" : "missing");
	if ((rc = need_str(c, tr, "id", "document.tracking", 1, &s)) != FW_OK ||
	    (rc = keep_text(c, s, "document.tracking.id", c->out->tracking_id)) != FW_OK ||
	    (rc = need_str(c, tr, "version", "document.tracking", 1, &s)) != FW_OK ||
	    (rc = keep_text(c, s, "document.tracking.version", c->out->tracking_version)) != FW_OK ||
	    (rc = need_str(c, tr, "current_release_date", "document.tracking", 1, NULL)) != FW_OK ||
	    (rc = need_str(c, tr, "initial_release_date", "document.tracking", 1, NULL)) != FW_OK ||
	    (rc = need_str(c, tr, "status", "document.tracking", 1, NULL)) != FW_OK)
		return rc;
	v = json_object_get(tr, "revision_history");
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fw_diag_set(c->d, FW_E_FORMAT, "document.tracking.revision_history: %s",
		                   v == NULL ? "missing" : "not a non-empty array");
	return FW_OK;
}

/* ---- the product tree ---- */

static int define(struct ctx *c, const json_t *prod, const char *path, struct product *tmpl)
{
	struct product *p;
	const char *id;
	char b[80];
	int rc;

	if (!json_is_object(prod))
		return err(c, FW_E_FORMAT, path, "not an object");
	if ((rc = need_str(c, prod, "product_id", path, 1, &id)) != FW_OK ||
	    (rc = need_str(c, prod, "name", path, 1, NULL)) != FW_OK)
		return rc;
	if (json_object_get(c->ids, id)) {
		p = &c->p[json_integer_value(json_object_get(c->ids, id))];
		return err(c, FW_E_FORMAT, path, "product id '%s' is defined twice (also at %s)",
		           shown(id, b, sizeof(b)), p->path);
	}
	if (c->np == FW_VULN_CSAF_MAX_PRODUCTS)
		return fw_diag_set(c->d, FW_E_TOO_LARGE, "%s: over %d products in product_tree", path,
		                   FW_VULN_CSAF_MAX_PRODUCTS);
	p = &c->p[c->np];
	*p = *tmpl;
	p->id = id;
	p->path = strdup(path);
	p->name_path = tmpl->name_path ? strdup(tmpl->name_path) : NULL;
	if (p->path == NULL || (tmpl->name_path && p->name_path == NULL) ||
	    json_object_set_new(c->ids, id, json_integer((json_int_t)c->np)) != 0) {
		free(p->path);
		free(p->name_path);
		return fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
	}
	c->np++;
	return FW_OK;
}

static const char *const categories[] = {
    "architecture", "host_name", "language", "legacy", "patch_level", "product_family",
    "product_name", "product_version", "product_version_range", "service_pack",
    "specification", "vendor"};

/* Walk branches; t carries what the branches above said. */
static int walk(struct ctx *c, const json_t *branches, const char *path, int depth,
                const struct product *above, const char *bad)
{
	char sub[FW_VULN_CSAF_PATH_MAX], b[80];
	const json_t *br;
	size_t i, k;
	int rc;

	if (!json_is_array(branches) || json_array_size(branches) == 0)
		return err(c, FW_E_FORMAT, path, "'branches' is not a non-empty array");
	if (depth > FW_VULN_CSAF_MAX_DEPTH)
		return fw_diag_set(c->d, FW_E_TOO_LARGE, "%s: branches nested over %d deep", path,
		                   FW_VULN_CSAF_MAX_DEPTH);
	json_array_foreach(branches, i, br) {
		struct product t = *above;
		const char *cat, *name, *why = bad;
		json_t *kids, *prod;

		textf(sub, sizeof(sub), "%s.branches[%zu]", path, i);
		if (!json_is_object(br))
			return err(c, FW_E_FORMAT, sub, "not an object");
		if ((rc = need_str(c, br, "category", sub, 1, &cat)) != FW_OK ||
		    (rc = need_str(c, br, "name", sub, 1, &name)) != FW_OK)
			return rc;
		for (k = 0; k < sizeof(categories) / sizeof(categories[0]); k++)
			if (strcmp(cat, categories[k]) == 0)
				break;
		if (k == sizeof(categories) / sizeof(categories[0]))
			return err(c, FW_E_FORMAT, sub, "category '%s' is not a branch category of "
			           "CSAF 2.0", shown(cat, b, sizeof(b)));
		kids = json_object_get(br, "branches");
		prod = json_object_get(br, "product");
		if ((kids == NULL) == (prod == NULL))
			return err(c, FW_E_FORMAT, sub, "a branch has either 'branches' or 'product'");
		if (strcmp(cat, "product_name") == 0) {
			if (t.name && !why)
				why = "two product_name branches above it";
			t.name = name;
			t.name_path = sub;
		} else if (strcmp(cat, "product_family") == 0) {
			if (t.name && !why)
				why = "a product_family branch below its product_name";
			t.family = name;
		} else if (strcmp(cat, "product_version") == 0 ||
		           strcmp(cat, "product_version_range") == 0) {
			if (t.kind != P_NONE && !why)
				why = "two version branches above it";
			t.kind = cat[15] == '\0' ? P_VERSION : P_RANGE;
			t.version = name;
		} else if (strcmp(cat, "legacy") == 0 || strcmp(cat, "patch_level") == 0 ||
		           strcmp(cat, "service_pack") == 0 || strcmp(cat, "specification") == 0) {
			/* they change what a version means: no mapping */
			if (!why)
				why = strcmp(cat, "legacy") == 0 ? "a legacy branch above it"
				    : strcmp(cat, "patch_level") == 0 ? "a patch_level branch above it"
				    : strcmp(cat, "service_pack") == 0 ? "a service_pack branch above it"
				                                       : "a specification branch above it";
		}
		if (kids) {
			rc = walk(c, kids, sub, depth + 1, &t, why);
		} else {
			char ppath[FW_VULN_CSAF_PATH_MAX];

			textf(ppath, sizeof(ppath), "%s.product", sub);
			t.why = why ? strdup(why) : NULL;
			if (why && t.why == NULL)
				return fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
			rc = define(c, prod, ppath, &t);
			if (rc != FW_OK)
				free(t.why);
		}
		if (rc != FW_OK)
			return rc;
	}
	return FW_OK;
}

/* Whether an id is defined; *out its product. */
/* the product of an id that ref() has checked already */
static struct product *prod_of(const struct ctx *c, const json_t *id)
{
	return &c->p[json_integer_value(json_object_get(c->ids, json_string_value(id)))];
}

static int ref(struct ctx *c, const json_t *v, const char *path, struct product **out)
{
	json_t *ix;
	char b[80];

	if (!json_is_string(v))
		return err(c, FW_E_FORMAT, path, "not a string (a product id)");
	ix = json_object_get(c->ids, json_string_value(v));
	if (ix == NULL)
		return err(c, FW_E_FORMAT, path, "'%s' is not a product of product_tree",
		           shown(json_string_value(v), b, sizeof(b)));
	if (out)
		*out = &c->p[json_integer_value(ix)];
	return FW_OK;
}

/* Each product's range: =V for a product_version, the vers range mapped
 * for a product_version_range; or why not. */
static int map_versions(struct ctx *c)
{
	struct fw_diag why = {{0}};
	struct fw_semver v;
	char range[FW_RANGE_MAX + 1], b[80], buf[FW_VULN_CSAF_WHY_MAX];
	size_t i;

	for (i = 0; i < c->np; i++) {
		struct product *p = &c->p[i];

		if (p->why)
			continue;
		buf[0] = '\0';
		if (p->kind == P_FULL)
			snprintf(buf, sizeof(buf), "defined in full_product_names, not under a "
			         "product_name branch");
		else if (p->kind == P_REL)
			snprintf(buf, sizeof(buf), "a relationship of products has no mapping");
		else if (p->name == NULL)
			snprintf(buf, sizeof(buf), "no product_name branch above it");
		else if (p->kind == P_NONE)
			snprintf(buf, sizeof(buf), "no product_version or product_version_range "
			         "branch above it");
		else if (p->kind == P_VERSION && fw_semver_parse(p->version, &v, &why) != FW_OK)
			snprintf(buf, sizeof(buf), "product_version '%s' is not a semantic version",
			         shown(p->version, b, sizeof(b)));
		else if (p->kind == P_VERSION)
			fw_semver_format(&v, range + 1), range[0] = '=';
		else if (fw_vuln_vers_range(p->version, range, sizeof(range), &why) != FW_OK)
			textf(buf, sizeof(buf), "%s", why.msg);
		if (buf[0])
			p->why = strdup(buf);
		else
			p->range = strdup(range);
		if (p->why == NULL && p->range == NULL)
			return fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
	}
	return FW_OK;
}

static int check_tree(struct ctx *c, json_t *root)
{
	struct product none = {0};
	json_t *tree, *arr, *v, *fpn;
	char path[FW_VULN_CSAF_PATH_MAX];
	size_t i;
	int rc;

	tree = json_object_get(root, "product_tree");
	if (tree == NULL)
		return FW_OK;
	if (!json_is_object(tree))
		return fw_diag_set(c->d, FW_E_FORMAT, "product_tree: not an object");
	if ((rc = opt_type(c, tree, "branches", "product_tree", JSON_ARRAY, &arr)) != FW_OK)
		return rc;
	if (arr && (rc = walk(c, arr, "product_tree", 1, &none, NULL)) != FW_OK)
		return rc;
	if ((rc = opt_type(c, tree, "full_product_names", "product_tree", JSON_ARRAY, &arr)) !=
	    FW_OK)
		return rc;
	json_array_foreach(arr, i, v) {
		struct product t = {0};

		t.kind = P_FULL;
		textf(path, sizeof(path), "product_tree.full_product_names[%zu]", i);
		if ((rc = define(c, v, path, &t)) != FW_OK)
			return rc;
	}
	if ((rc = opt_type(c, tree, "relationships", "product_tree", JSON_ARRAY, &arr)) != FW_OK)
		return rc;
	json_array_foreach(arr, i, v) {
		struct product t = {0};

		t.kind = P_REL;
		textf(path, sizeof(path), "product_tree.relationships[%zu]", i);
		if (!json_is_object(v))
			return err(c, FW_E_FORMAT, path, "not an object");
		if ((rc = need_str(c, v, "category", path, 1, NULL)) != FW_OK ||
		    (rc = need_str(c, v, "product_reference", path, 1, NULL)) != FW_OK ||
		    (rc = need_str(c, v, "relates_to_product_reference", path, 1, NULL)) != FW_OK)
			return rc;
		fpn = json_object_get(v, "full_product_name");
		textf(path, sizeof(path), "product_tree.relationships[%zu].full_product_name", i);
		if (fpn == NULL)
			return err(c, FW_E_FORMAT, path, "missing");
		if ((rc = define(c, fpn, path, &t)) != FW_OK)
			return rc;
	}
	/* what relationships refer to, once every product is defined */
	json_array_foreach(arr, i, v) {
		textf(path, sizeof(path), "product_tree.relationships[%zu].product_reference", i);
		if ((rc = ref(c, json_object_get(v, "product_reference"), path, NULL)) != FW_OK)
			return rc;
		snprintf(path, sizeof(path),
		         "product_tree.relationships[%zu].relates_to_product_reference", i);
		if ((rc = ref(c, json_object_get(v, "relates_to_product_reference"), path, NULL)) !=
		    FW_OK)
			return rc;
	}
	return map_versions(c);
}

/* ---- vulnerabilities ---- */

static const char *const statuses[] = {
    "first_affected", "first_fixed", "fixed", "known_affected", "known_not_affected",
    "last_affected", "recommended", "under_investigation"};

/* A list of product ids (optional member): every id defined. */
static int check_ids(struct ctx *c, const json_t *o, const char *key, const char *path)
{
	char sub[FW_VULN_CSAF_PATH_MAX], b[80];
	struct product *p;
	json_t *arr, *v;
	size_t i;
	int rc = opt_type(c, o, key, path, JSON_ARRAY, &arr);

	c->stamp++;
	json_array_foreach(arr, i, v) {
		textf(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
		if ((rc = ref(c, v, sub, &p)) != FW_OK)
			return rc;
		/* the lists are sets (uniqueItems): a repeated id is malformed */
		if (p->mark == c->stamp)
			return err(c, FW_E_FORMAT, sub, "'%s' is listed twice",
			           shown(p->id, b, sizeof(b)));
		p->mark = c->stamp;
	}
	return rc;
}

/* CVSS v3 baseSeverity; LOW..CRITICAL are our FW_VULN_LOW..FW_VULN_CRITICAL */
static const char *const base_severities[] = {"NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"};

/* a baseSeverity's index in base_severities, or -1 */
static int base_severity(const char *s)
{
	int k;

	for (k = 0; s && k < 5; k++)
		if (strcmp(s, base_severities[k]) == 0)
			return k;
	return -1;
}

static int check_vuln(struct ctx *c, const json_t *vu, const char *path)
{
	char sub[FW_VULN_CSAF_PATH_MAX], b[80];
	struct fw_diag why = {{0}};
	json_t *o, *arr, *v, *cv;
	const char *s;
	size_t i, k;
	int rc;

	if (!json_is_object(vu))
		return err(c, FW_E_FORMAT, path, "not an object");
	if ((rc = opt_type(c, vu, "cve", path, JSON_STRING, &v)) != FW_OK)
		return rc;
	if (v && !fw_vuln_cve_valid(json_string_value(v)))
		return err(c, FW_E_FORMAT, path, "cve: '%s' is not a CVE id (CVE-YYYY-NNNN...)",
		           shown(json_string_value(v), b, sizeof(b)));
	if ((rc = opt_type(c, vu, "title", path, JSON_STRING, &v)) != FW_OK ||
	    (rc = opt_type(c, vu, "notes", path, JSON_ARRAY, &v)) != FW_OK ||
	    (rc = opt_type(c, vu, "product_status", path, JSON_OBJECT, &o)) != FW_OK)
		return rc;
	textf(sub, sizeof(sub), "%s.product_status", path);
	for (k = 0; o && k < sizeof(statuses) / sizeof(statuses[0]); k++)
		if ((rc = check_ids(c, o, statuses[k], sub)) != FW_OK)
			return rc;
	if ((rc = opt_type(c, vu, "scores", path, JSON_ARRAY, &arr)) != FW_OK)
		return rc;
	json_array_foreach(arr, i, v) {
		textf(sub, sizeof(sub), "%s.scores[%zu]", path, i);
		if (!json_is_object(v))
			return err(c, FW_E_FORMAT, sub, "not an object");
		if (!json_is_array(json_object_get(v, "products")))
			return err(c, FW_E_FORMAT, sub, "'products' is %s",
			           json_object_get(v, "products") ? "not an array" : "missing");
		if ((rc = check_ids(c, v, "products", sub)) != FW_OK ||
		    (rc = opt_type(c, v, "cvss_v3", sub, JSON_OBJECT, &cv)) != FW_OK)
			return rc;
		if (cv == NULL)
			continue;
		textf(sub, sizeof(sub), "%s.scores[%zu].cvss_v3", path, i);
		if ((rc = need_str(c, cv, "vectorString", sub, 1, &s)) != FW_OK)
			return rc;
		if (fw_vuln_cvss_check(s, NULL, &why) != FW_OK)
			return err(c, FW_E_FORMAT, sub, "vectorString: %s", why.msg);
		if ((rc = need_str(c, cv, "baseSeverity", sub, 1, &s)) != FW_OK)
			return rc;
		if (base_severity(s) < 0)
			return err(c, FW_E_FORMAT, sub, "baseSeverity: '%s' is not NONE, LOW, MEDIUM, "
			           "HIGH or CRITICAL", shown(s, b, sizeof(b)));
	}
	if ((rc = opt_type(c, vu, "remediations", path, JSON_ARRAY, &arr)) != FW_OK)
		return rc;
	json_array_foreach(arr, i, v) {
		textf(sub, sizeof(sub), "%s.remediations[%zu]", path, i);
		if (!json_is_object(v))
			return err(c, FW_E_FORMAT, sub, "not an object");
		if ((rc = need_str(c, v, "category", sub, 1, NULL)) != FW_OK ||
		    (rc = check_ids(c, v, "product_ids", sub)) != FW_OK)
			return rc;
	}
	return FW_OK;
}

/* The products of one advisory: known_affected ids of one product and
 * family, in document order. */
struct group {
	const char *name, *family;
	const char *name_path;
	size_t n;
	struct product **p;
};

static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int ours(struct ctx *c, const char *name)
{
	size_t i;

	if (c->known == NULL)
		return 1;
	for (i = 0; i < c->nknown; i++)
		if (c->known[i] && strcmp(c->known[i], name) == 0)
			return 1;
	return 0;
}

static int text_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) <= max && fw_text_valid(s);
}

/* One advisory from a group; k is its number in the document (from 1). */
static int map_group(struct ctx *c, const json_t *vu, const char *vpath, struct group *g,
                     size_t k)
{
	struct fw_vuln_csaf_item *it;
	struct fw_vuln_input in = {0};
	struct fw_vuln_advisory a;
	struct fw_diag why = {{0}};
	struct fw_range r;
	struct fw_semver best, v;
	const json_t *st = json_object_get(vu, "product_status"), *sc, *id;
	const char *cve = json_string_value(json_object_get(vu, "cve"));
	const char *title = json_string_value(json_object_get(vu, "title"));
	const char *vector = NULL, *fixed_lists[2] = {"fixed", "first_fixed"};
	char range[4 * FW_RANGE_MAX], fixed[FW_SEMVER_MAX + 64], aid[FW_VULN_CSAF_TEXT_MAX + 24];
	char sub[FW_VULN_CSAF_PATH_MAX], who[600], b1[80], b2[80];
	size_t i, j;
	int rc, sev = -1, has_best = 0;

	snprintf(who, sizeof(who), "product '%s'%s%s%s", shown(g->name, b1, sizeof(b1)),
	         g->family ? " family '" : "", g->family ? shown(g->family, b2, sizeof(b2)) : "",
	         g->family ? "'" : "");
	/* a product of the group without a range: no advisory for the group */
	for (i = 0, j = 0; i < g->n; i++) {
		struct product *p = g->p[i];

		if (p->why == NULL)
			continue;
		j++;
		if (p->reported)
			continue;
		p->reported = 1;
		rc = unmapped(c, p->path, "'%s' (affected in %s): %s", shown(p->id, b1, sizeof(b1)),
		              vpath, p->why);
		if (rc != FW_OK)
			return rc;
	}
	if (j)
		return FW_OK;
	if (!ours(c, g->name))
		return unmapped(c, g->name_path, "%s (in %s) is not a product of this registry",
		                who, vpath);
	if (!text_ok(g->name, FW_FIELD_MAX - 1) || (g->family && !text_ok(g->family,
	                                                                  FW_FIELD_MAX - 1)))
		return unmapped(c, g->name_path, "%s: a product or family name is 1-%d bytes of "
		                "text", who, FW_FIELD_MAX - 1);
	/* the affected range: every affected product's range, as alternatives */
	textf(sub, sizeof(sub), "%s.product_status.known_affected", vpath);
	range[0] = '\0';
	for (i = 0; i < g->n; i++) {
		size_t l = strlen(range);

		/* never cut short: a cut range could parse as a narrower one */
		if (l + 4 + strlen(g->p[i]->range) > FW_RANGE_MAX)
			return unmapped(c, sub, "%s: the affected versions are no range of ours: over "
			                "%d bytes", who, FW_RANGE_MAX);
		snprintf(range + l, sizeof(range) - l, "%s%s", i ? " || " : "", g->p[i]->range);
	}
	c->stamp++;
	for (i = 0; i < g->n; i++)
		g->p[i]->mark = c->stamp;
	if (fw_range_parse(range, &r, &why) != FW_OK)
		return unmapped(c, sub, "%s: the affected versions are no range of ours: %s", who,
		                why.msg);
	/* fixed_in: the lowest single fixed version of the group outside the range */
	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(st, fixed_lists[j]), i, id) {
			struct product *p = prod_of(c, id);

			if (p->why || p->kind != P_VERSION || !same(p->name, g->name) ||
			    !same(p->family, g->family) ||
			    fw_semver_parse(p->version, &v, NULL) != FW_OK || fw_range_match(&r, &v))
				continue;
			if (!has_best || fw_semver_cmp(&v, &best) < 0)
				best = v;
			has_best = 1;
		}
	if (has_best)
		fw_semver_format(&best, fixed);
	/* severity: the highest CVSS v3 score given for any of its products */
	json_array_foreach(json_object_get(vu, "scores"), i, sc) {
		const json_t *cv = json_object_get(sc, "cvss_v3"), *pid;
		int hit = 0, bs;

		if (cv == NULL)
			continue;
		json_array_foreach(json_object_get(sc, "products"), j, pid) {
			if (prod_of(c, pid)->mark == c->stamp)
				hit = 1;
		}
		if (!hit)
			continue;
		bs = base_severity(json_string_value(json_object_get(cv, "baseSeverity")));
		if (bs > sev) {
			sev = bs;
			vector = json_string_value(json_object_get(cv, "vectorString"));
		}
	}
	textf(sub, sizeof(sub), "%s.scores", vpath);
	if (sev < 0)
		return unmapped(c, sub, "%s: no CVSS v3 score for its products", who);
	if (sev == 0)
		return unmapped(c, sub, "%s: baseSeverity NONE is not a severity of ours", who);
	if (title == NULL)
		title = c->doc_title;
	if (!text_ok(title, FW_VULN_TITLE_MAX)) {
		textf(sub, sizeof(sub), "%s", json_object_get(vu, "title") ? vpath : "document");
		return unmapped(c, sub, "%s: the title is not 1-%d bytes of text", who,
		                FW_VULN_TITLE_MAX);
	}
	if (c->groups == 1)
		snprintf(aid, sizeof(aid), "%s", c->out->tracking_id);
	else
		snprintf(aid, sizeof(aid), "%s:%zu", c->out->tracking_id, k);
	if (!fw_advisory_id_valid(aid))
		return unmapped(c, "document.tracking.id", "'%s' is not an advisory id of ours (1-%d "
		                "of A-Z a-z 0-9 . _ : -, starting with a letter or digit)",
		                shown(aid, b1, sizeof(b1)), FW_VULN_ID_MAX);
	in.id = aid;
	in.title = title;
	in.severity = fw_vuln_severity_name(sev); /* LOW..CRITICAL: 1..4 in both */
	in.cvss = vector;
	in.product = g->name;
	in.family = g->family;
	in.affected = range;
	in.fixed_in = has_best ? fixed : NULL;
	in.cves = &cve;
	in.ncves = cve ? 1 : 0;
	if (fw_vuln_advisory_parse(&in, &a, &why) != FW_OK)
		return unmapped(c, vpath, "%s: %s", who, why.msg);
	if (c->out->n == FW_VULN_CSAF_MAX_ADVISORIES)
		return fw_diag_set(c->d, FW_E_TOO_LARGE, "the document maps to over %d advisories",
		                   FW_VULN_CSAF_MAX_ADVISORIES);
	it = &c->out->items[c->out->n++];
	memset(it, 0, sizeof(*it));
	it->a = a;
	snprintf(it->path, sizeof(it->path), "%s", vpath);
	return FW_OK;
}

/* Group a vulnerability's known_affected products by product and family,
 * in document order (slots holds every group's products, one group after
 * the other); with report, products that have no product name are
 * reported (once each). */
static int group_vuln(struct ctx *c, const json_t *vu, const char *vpath, int report,
                      struct group *gs, size_t *ng, struct product **slots)
{
	const json_t *ka = json_object_get(json_object_get(vu, "product_status"), "known_affected");
	const json_t *id;
	size_t i, j, used = 0;
	char b[80];
	int rc;

	*ng = 0;
	json_array_foreach(ka, i, id) {
		struct product *p = prod_of(c, id);

		if (p->name == NULL) {
			if (!report || p->reported)
				continue;
			p->reported = 1;
			if ((rc = unmapped(c, p->path, "'%s' (affected in %s): %s",
			                   shown(p->id, b, sizeof(b)), vpath, p->why)) != FW_OK)
				return rc;
			continue;
		}
		for (j = 0; j < *ng; j++)
			if (same(gs[j].name, p->name) && same(gs[j].family, p->family))
				break;
		if (j == *ng) {
			if (j == FW_VULN_CSAF_MAX_ADVISORIES)
				return fw_diag_set(c->d, FW_E_TOO_LARGE, "%s: affects over %d products",
				                   vpath, FW_VULN_CSAF_MAX_ADVISORIES);
			gs[j].name = p->name;
			gs[j].family = p->family;
			gs[j].name_path = p->name_path;
			(*ng)++;
		}
	}
	for (j = 0; j < *ng; j++) {
		gs[j].p = slots + used;
		gs[j].n = 0;
		json_array_foreach(ka, i, id) {
			struct product *p = prod_of(c, id);

			if (p->name == NULL || !same(gs[j].name, p->name) ||
			    !same(gs[j].family, p->family))
				continue;
			gs[j].p[gs[j].n++] = p; /* ids are unique in the list (check_ids) */
			used++;
		}
	}
	return FW_OK;
}

static int map_vulns(struct ctx *c, const json_t *vulns)
{
	struct group *gs = NULL;
	struct product **slots = NULL;
	size_t i, j, ng, k = 0, cap = 0;
	const json_t *vu;
	char vpath[48], sub[96];
	int rc = FW_OK;

	json_array_foreach(vulns, i, vu) {
		size_t n = json_array_size(json_object_get(json_object_get(vu, "product_status"),
		                                           "known_affected"));
		if (n > cap)
			cap = n;
	}
	gs = calloc(cap + 1, sizeof(*gs));
	slots = calloc(cap + 1, sizeof(*slots));
	if (gs == NULL || slots == NULL) {
		rc = fw_diag_set(c->d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	/* first count the advisories: whether ids are numbered depends on it */
	json_array_foreach(vulns, i, vu) {
		snprintf(vpath, sizeof(vpath), "vulnerabilities[%zu]", i);
		if ((rc = group_vuln(c, vu, vpath, 0, gs, &ng, slots)) != FW_OK)
			goto out;
		c->groups += ng;
		if (c->groups > FW_VULN_CSAF_MAX_ADVISORIES) {
			rc = fw_diag_set(c->d, FW_E_TOO_LARGE, "the document maps to over %d "
			                 "advisories", FW_VULN_CSAF_MAX_ADVISORIES);
			goto out;
		}
	}
	json_array_foreach(vulns, i, vu) {
		const json_t *st = json_object_get(vu, "product_status");
		int bounded = json_array_size(json_object_get(st, "first_affected")) ||
		              json_array_size(json_object_get(st, "last_affected"));

		snprintf(vpath, sizeof(vpath), "vulnerabilities[%zu]", i);
		if (json_array_size(json_object_get(st, "known_affected")) == 0) {
			textf(sub, sizeof(sub), "%s.product_status", vpath);
			rc = unmapped(c, sub, "no known_affected products: nothing to map%s",
			              json_array_size(json_object_get(st, "under_investigation"))
			                  ? " (products under investigation are not mapped)" : "");
			if (rc != FW_OK)
				goto out;
		}
		/* first_affected / last_affected bound versions we would have to guess */
		if (bounded) {
			textf(sub, sizeof(sub), "%s.product_status.%s", vpath,
			         json_array_size(json_object_get(st, "first_affected"))
			             ? "first_affected" : "last_affected");
			rc = unmapped(c, sub, "first_affected and last_affected are not mapped: "
			              "the affected versions go in known_affected");
			if (rc != FW_OK)
				goto out;
		}
		rc = group_vuln(c, vu, vpath, 1, gs, &ng, slots);
		/* a bounded vulnerability's advisories keep their numbers, unmade */
		for (j = 0; rc == FW_OK && j < ng; j++) {
			k++;
			if (!bounded)
				rc = map_group(c, vu, vpath, &gs[j], k);
		}
		if (rc != FW_OK)
			goto out;
	}
out:
	free(gs);
	free(slots);
	return rc;
}

/* ---- the document ---- */

void fw_vuln_csaf_init(struct fw_vuln_csaf *c)
{
	memset(c, 0, sizeof(*c));
}

void fw_vuln_csaf_clear(struct fw_vuln_csaf *c)
{
	if (c == NULL)
		return;
	free(c->items);
	free(c->unmapped);
	memset(c, 0, sizeof(*c));
}

int fw_vuln_csaf_parse(const uint8_t *data, size_t len, const char *const *known, size_t nknown,
                       struct fw_vuln_csaf *out, struct fw_diag *d)
{
	struct fw_vuln_csaf res;
	struct ctx c = {0};
	json_error_t jerr;
	json_t *root = NULL, *vulns, *vu;
	char path[48];
	size_t i;
	int rc;

	if (data == NULL || out == NULL)
		return fw_diag_set(d, FW_E_ARG, "no document");
	if (len > FW_VULN_CSAF_MAX)
		return fw_diag_set(d, FW_E_TOO_LARGE, "the document is over %u bytes (4 MiB)",
		                   FW_VULN_CSAF_MAX);
	fw_vuln_csaf_init(&res);
	c.known = known;
	c.nknown = nknown;
	c.out = &res;
	c.d = d;
	res.items = calloc(FW_VULN_CSAF_MAX_ADVISORIES, sizeof(*res.items));
	res.unmapped = calloc(FW_VULN_CSAF_MAX_UNMAPPED, sizeof(*res.unmapped));
	c.p = calloc(FW_VULN_CSAF_MAX_PRODUCTS, sizeof(*c.p));
	c.ids = json_object();
	if (res.items == NULL || res.unmapped == NULL || c.p == NULL || c.ids == NULL) {
		rc = fw_diag_set(d, FW_E_NOMEM, "out of memory");
		goto out;
	}
	/* untrusted bytes: duplicate keys are refused (which one would count?) */
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson quotes the input near the error: it reaches terminals */
		for (i = 0; jerr.text[i]; i++)
			if ((unsigned char)jerr.text[i] < 0x20 || jerr.text[i] == 0x7f)
				jerr.text[i] = '?';
		rc = fw_diag_set(d, FW_E_FORMAT, "not JSON: line %d, column %d: %s", jerr.line,
		                 jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fw_diag_set(d, FW_E_FORMAT, "the document is not a JSON object");
		goto out;
	}
	if ((rc = check_document(&c, root)) != FW_OK || (rc = check_tree(&c, root)) != FW_OK)
		goto out;
	vulns = json_object_get(root, "vulnerabilities");
	if (!json_is_array(vulns) || json_array_size(vulns) == 0) {
		rc = fw_diag_set(d, FW_E_FORMAT, "vulnerabilities: %s: the document has nothing to "
		                 "import", vulns == NULL ? "missing" : "not a non-empty array");
		goto out;
	}
	json_array_foreach(vulns, i, vu) {
		textf(path, sizeof(path), "vulnerabilities[%zu]", i);
		if ((rc = check_vuln(&c, vu, path)) != FW_OK)
			goto out;
	}
	if ((rc = map_vulns(&c, vulns)) != FW_OK)
		goto out;
	fw_sha256(data, len, res.sha256);
	res.size = len;
	fw_vuln_csaf_clear(out);
	*out = res;
	fw_vuln_csaf_init(&res);
out:
	fw_vuln_csaf_clear(&res);
	for (i = 0; c.p && i < c.np; i++) {
		free(c.p[i].path);
		free(c.p[i].name_path);
		free(c.p[i].range);
		free(c.p[i].why);
	}
	free(c.p);
	json_decref(c.ids);
	json_decref(root);
	return rc;
}

/* ---- vers ---- */

int fw_vuln_vers_range(const char *vers, char *out, size_t cap, struct fw_diag *d)
{
	struct fw_semver prev, v;
	struct fw_range r;
	struct fw_diag why = {{0}};
	char cons[FW_RANGE_MAX + 1], text[4 * FW_RANGE_MAX], lower[FW_SEMVER_MAX + 72], b[80];
	char vtext[FW_SEMVER_MAX + 64];
	const char *p, *slash;
	size_t n = 0, t = 0;
	int have_prev = 0, open = 0;

	if (vers == NULL || out == NULL || cap == 0)
		return fw_diag_set(d, FW_E_ARG, "no vers range");
	if (strncmp(vers, "vers:", 5) != 0)
		return fw_diag_set(d, FW_E_FORMAT, "'%s' is not a vers: range", shown(vers, b,
		                                                                       sizeof(b)));
	slash = strchr(vers + 5, '/');
	if (slash == NULL)
		return fw_diag_set(d, FW_E_FORMAT, "'%s': no '/' after the vers scheme",
		                   shown(vers, b, sizeof(b)));
	if (!((slash - vers == 11 && strncmp(vers + 5, "semver", 6) == 0) ||
	      (slash - vers == 12 && strncmp(vers + 5, "generic", 7) == 0))) {
		char scheme[24], b2[40];

		textf(scheme, sizeof(scheme), "%.*s", (int)(slash - vers - 5 > 20 ? 20
		                                                            : slash - vers - 5), vers + 5);
		return fw_diag_set(d, FW_E_FORMAT, "'%s': vers scheme '%s' is not mapped (semver "
		                   "and generic are)", shown(vers, b, sizeof(b)),
		                   shown(scheme, b2, sizeof(b2)));
	}
	/* spaces are not significant in vers */
	for (p = slash + 1; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (n == FW_RANGE_MAX)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': over %d bytes of constraints",
			                   shown(vers, b, sizeof(b)), FW_RANGE_MAX);
		cons[n++] = *p;
	}
	cons[n] = '\0';
	if (n == 0)
		return fw_diag_set(d, FW_E_FORMAT, "'%s': no constraints", shown(vers, b, sizeof(b)));
	if (strcmp(cons, "*") == 0) {
		/* every version: 0.0.0-0 is the lowest semantic version there is */
		snprintf(out, cap, ">=0.0.0-0");
		return FW_OK;
	}
	text[0] = '\0';
	for (p = cons; p;) {
		const char *bar = strchr(p, '|'), *ver;
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		char one[FW_RANGE_MAX + 1], op[3] = "=";

		memcpy(one, p, len);
		one[len] = '\0';
		p = bar ? bar + 1 : NULL;
		if (len == 0)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': an empty constraint",
			                   shown(vers, b, sizeof(b)));
		if (strcmp(one, "*") == 0)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': '*' is the only constraint or none",
			                   shown(vers, b, sizeof(b)));
		ver = one;
		if (strncmp(one, "!=", 2) == 0)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': '!=' (all but one version) is not "
			                   "mapped", shown(vers, b, sizeof(b)));
		if (strncmp(one, ">=", 2) == 0 || strncmp(one, "<=", 2) == 0) {
			memcpy(op, one, 2);
			ver = one + 2;
		} else if (one[0] == '>' || one[0] == '<' || one[0] == '=') {
			op[0] = one[0];
			op[1] = '\0';
			ver = one + 1;
		}
		if (fw_semver_parse(ver, &v, &why) != FW_OK) {
			char b2[80];

			return fw_diag_set(d, FW_E_FORMAT, "'%s': '%s' has no SemVer meaning: %s",
			                   shown(vers, b, sizeof(b)), shown(one, b2, sizeof(b2)),
			                   why.msg);
		}
		if (have_prev && fw_semver_cmp(&prev, &v) >= 0)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': constraints are not in ascending "
			                   "version order at '%s'", shown(vers, b, sizeof(b)), one);
		prev = v;
		have_prev = 1;
		fw_semver_format(&v, vtext);
		if (op[0] == '>') {
			/* a lower bound: the interval it opens ends at the next constraint */
			if (open)
				return fw_diag_set(d, FW_E_FORMAT, "'%s': two lower bounds in a row at "
				                   "'%s'", shown(vers, b, sizeof(b)), one);
			snprintf(lower, sizeof(lower), "%s%s", op, vtext);
			open = 1;
			continue;
		}
		if (op[0] == '=' && open)
			return fw_diag_set(d, FW_E_FORMAT, "'%s': '%s' inside an interval has no "
			                   "meaning", shown(vers, b, sizeof(b)), one);
		snprintf(text + t, sizeof(text) - t, "%s%s%s%s%s", t ? " || " : "",
		         open ? lower : "", open ? " " : "", op, vtext);
		t = strlen(text);
		open = 0;
	}
	if (open) {
		snprintf(text + t, sizeof(text) - t, "%s%s", t ? " || " : "", lower);
		t = strlen(text);
	}
	if (fw_range_parse(text, &r, &why) != FW_OK)
		return fw_diag_set(d, FW_E_FORMAT, "'%s': no range of ours: %s",
		                   shown(vers, b, sizeof(b)), why.msg);
	fw_range_format(&r, out, cap);
	return FW_OK;
}
