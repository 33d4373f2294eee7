/*
 * libFuzzer target for the evidence-bundle verifier (fw_bundle_verify in
 * src/evidence/bundle.c): every file of a bundle is untrusted bytes from
 * whoever handed the auditor the directory.
 *
 * On the first call one real bundle is exported into a private temporary
 * directory (removed at exit): a store with a log whose key is the fixed
 * key below, 40 records of which every third is of campaign c-1 (devices
 * dev-odd and dev-even, each referring to the one before), checkpoints at
 * sizes 10, 20 and 30, the campaign's and release's registry documents
 * (as tests/evidence/test_bundle.c), fw_bundle_export and fw_bundle_seal.
 * Record times are fixed too, so the bundle is the same bytes on every
 * run and the corpus holds its files as they are.
 *
 * Input: the first byte picks the file (low 7 bits, modulo the kinds
 * below) the rest of the input replaces; its high bit asks for the
 * records of device dev-odd (a query without proof files). The file is
 * written, the bundle verified with its own key, and the original put
 * back. One more kind replaces proof.txt and signs checkpoint.note anew
 * with the tree size of the input's "size N" line (and the anchor's
 * root), as whoever made the bundle can when the auditor does not pin the
 * log key: the batch proof is then checked against any tree size.
 * Findings are expected; on top of the sanitizers it abort()s when:
 *   - the verifier cannot read the bundle (it always can), or its count
 *     of findings is not the number reported;
 *   - a byte-exact copy of the original gives a finding (a false refusal);
 *   - a changed file other than manifest.txt gives none (manifest.txt
 *     lists its digest), or a changed manifest gives none without listing
 *     every file with its digest;
 *   - a query collects more than FW_BUNDLE_QUERY_MAX records or writes a
 *     proof file without a proofs directory.
 * FUZZ_BUNDLE_KEEP=DIR exports the bundle to DIR (which must not exist)
 * and keeps it: the seeds of corpus/bundle/ are its files.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "fwv.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup(void);

/* the temporary directory goes too: abort() skips atexit */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: bundle contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                    \
			cleanup();                                             \
			abort();                                               \
		}                                                              \
	} while (0)

/* The log's key: fixed, so that checkpoints (Ed25519 signatures are
 * deterministic) and the whole bundle are the same bytes on every run. */
static const char log_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIDRElLRGmjY8CNUhvK53WPWT3QomBERmvFIBeewAb0Yd\n"
	"-----END PRIVATE KEY-----\n";

#define RECORDS 40
#define TS0 1767225600000LL /* 2026-01-01, a record's "ts" is TS0 + i s */
#define RELEASE_ID "aa00000000000000000000000000000000000000000000000000000000000000"
#define SIGNER_ID "bb00000000000000000000000000000000000000000000000000000000000000"

/* The files an input can replace, in selector order; then the first (by
 * name) of consistency/ and checkpoints/, and proof.txt with a new anchor. */
enum { K_MANIFEST, K_PROOF = 2, K_NOTE = 4, K_CONSISTENCY = 8, K_CHECKPOINT, K_SIGNED, NKINDS };
static const char *const fixed_names[K_CONSISTENCY] = {
	"manifest.txt", "bundle.json", "proof.txt", "records.jsonl",
	"checkpoint.note", "log.vkey", "log.pub", "summary.json",
};

struct original {
	char name[128];
	char path[4200];
	uint8_t *data;
	size_t len;
};

static char root[4096];   /* the temporary directory: store, key, bundle */
static char bundle[4200]; /* the bundle */
static struct original orig[NKINDS];
static uint64_t odd_records; /* records of dev-odd in the bundle */
static struct fw_key *log_key;  /* the fixed key, for K_SIGNED */
static struct fw_checkpoint anchor;

static void cleanup(void)
{
	for (size_t i = 0; i < NKINDS; i++) {
		free(orig[i].data);
		orig[i].data = NULL;
	}
	fw_key_free(log_key);
	log_key = NULL;
	if (root[0])
		fw_bundle_discard(root);
	root[0] = 0;
}

static void die(const char *what, const struct fw_diag *d)
{
	fprintf(stderr, "fuzz_bundle: setup: %s: %s\n", what, d ? d->msg : "");
	cleanup();
	abort();
}

static int write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* A store whose log is signed with the fixed key. */
static struct fw_store *new_log(struct fw_key **key)
{
	char db[4200], base[4200], keyfile[4200], b64[64];
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fwv_key raw;

	snprintf(db, sizeof(db), "%s/store.db", root);
	snprintf(base, sizeof(base), "%s/store-log", root);
	snprintf(keyfile, sizeof(keyfile), "%s/fixed-log.key", root);
	if (fw_store_open(db, 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "fuzz.example/bundle-log", base, &d) != FW_OK)
		die("store", &d);
	/* the random key setup made, swapped for the fixed one */
	if (write_bytes(keyfile, log_key_pem, strlen(log_key_pem)) != 0 ||
	    fw_key_load_private(keyfile, key, &d) != FW_OK)
		die("fixed key", &d);
	fw_key_to_fwv(*key, &raw);
	fw_b64_encode(raw.pub, 32, b64);
	if (fw_store_begin(s, &d) != FW_OK || fw_store_meta_set(s, "log_pub", b64, &d) != FW_OK ||
	    fw_store_meta_set(s, "log_key", keyfile, &d) != FW_OK || fw_store_commit(s, &d) != FW_OK)
		die("key meta", &d);
	return s;
}

/* record i: of campaign c-1 when sel, with a reference to ref (or none) */
static void add(struct fw_store *s, uint64_t i, int sel, int64_t ref, const uint8_t *ref_lh,
                uint8_t lh[FW_HASH_LEN])
{
	json_t *r = fw_evidence_record_new("test.event", "fuzz");
	struct fw_diag d = {{0}};
	uint64_t idx;
	int rc;

	json_object_set_new(r, "ts", json_integer((json_int_t)(TS0 + (int64_t)i * 1000)));
	json_object_set_new(r, "i", json_integer((json_int_t)i));
	if (sel) {
		json_object_set_new(r, "campaign", json_string("c-1"));
		json_object_set_new(r, "device", json_string(i % 2 ? "dev-odd" : "dev-even"));
	}
	rc = ref >= 0 ? fw_evidence_record_ref(r, (uint64_t)ref, ref_lh) : FW_OK;
	if (rc == FW_OK)
		rc = fw_evidence_commit(s, NULL, r, &idx, lh, &d);
	json_decref(r);
	if (rc != FW_OK)
		die("record", &d);
}

static void put_docs(struct fw_store *s, const uint8_t lh0[FW_HASH_LEN])
{
	char hex[65], doc[400];
	struct fw_diag d = {{0}};

	fw_hex_encode(lh0, FW_HASH_LEN, hex);
	snprintf(doc, sizeof(doc), "{\"release_id\":\"%s\"}", RELEASE_ID);
	if (fw_store_object_put(s, "campaign", "c-1", doc, 0, &d) != FW_OK)
		die("campaign", &d);
	/* the release's record is the log's first: no release.add to check */
	snprintf(doc, sizeof(doc), "{\"added\":{\"idx\":0,\"lh\":\"%s\"},\"signer_key_id\":\"%s\"}",
	         hex, SIGNER_ID);
	if (fw_store_object_put(s, "release", RELEASE_ID, doc, 0, &d) != FW_OK)
		die("release", &d);
}

/* the first name (sorted) in sub/ ending in suffix */
static void first_in(const char *sub, const char *suffix, char *out, size_t cap)
{
	char p[4300];
	DIR *dir;
	struct dirent *e;

	out[0] = 0;
	snprintf(p, sizeof(p), "%s/%s", bundle, sub);
	dir = opendir(p);
	if (dir == NULL)
		die(sub, NULL);
	while ((e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name), m = strlen(suffix);

		if (e->d_name[0] == '.' || n <= m || strcmp(e->d_name + n - m, suffix) != 0)
			continue;
		if (out[0] == 0 || strcmp(e->d_name, out + strlen(sub) + 1) < 0)
			snprintf(out, cap, "%s/%s", sub, e->d_name);
	}
	closedir(dir);
	if (out[0] == 0)
		die(sub, NULL);
}

static void load_originals(void)
{
	struct fw_diag d = {{0}};

	for (size_t k = 0; k < NKINDS; k++) {
		struct original *o = &orig[k];
		char name[sizeof(o->name)];

		if (k < K_CONSISTENCY)
			snprintf(name, sizeof(name), "%s", fixed_names[k]);
		else if (k == K_CONSISTENCY)
			first_in("consistency", ".txt", name, sizeof(name));
		else if (k == K_CHECKPOINT)
			first_in("checkpoints", ".note", name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", fixed_names[K_PROOF]);
		memcpy(o->name, name, sizeof(name));
		snprintf(o->path, sizeof(o->path), "%.2100s/%.127s", bundle, name);
		if (fw_file_read(o->path, 1 << 20, &o->data, &o->len, &d) != FW_OK)
			die(o->name, &d);
	}
}

static void on_finding(void *arg, const struct fw_bundle_finding *f)
{
	uint64_t *n = arg;

	CHECK(f->code != NULL && f->code[0] != 0);
	CHECK(memchr(f->file, 0, sizeof(f->file)) != NULL);
	CHECK(memchr(f->detail, 0, sizeof(f->detail)) != NULL);
	(*n)++;
}

/* Verify the bundle as it is now: the number of findings. */
static uint64_t verify(int query, uint64_t *records)
{
	struct fw_bundle_query q;
	struct fw_bundle_result res;
	struct fw_diag d = {{0}};
	uint64_t n = 0;
	int rc;

	memset(&q, 0, sizeof(q));
	q.device = "dev-odd";
	q.proofs = 0x6b6b;
	rc = fw_bundle_verify(bundle, NULL, query ? &q : NULL, on_finding, &n, NULL, NULL, &res,
	                      &d);
	if (rc != FW_OK)
		fprintf(stderr, "fuzz_bundle: verify: %s\n", d.msg);
	CHECK(rc == FW_OK);
	CHECK(res.findings == n);
	if (query) {
		CHECK(q.records != NULL && json_is_array(q.records));
		CHECK(json_array_size(q.records) <= FW_BUNDLE_QUERY_MAX);
		CHECK(q.proofs == 0); /* no proofs_dir: no proof files */
		if (records)
			*records = json_array_size(q.records);
		json_decref(q.records);
	}
	fw_bundle_result_clear(&res);
	return n;
}

static void setup(void)
{
	struct fw_key *key = NULL;
	struct fw_store *s;
	struct fw_diag d = {{0}};
	struct fw_bundle_opts o;
	struct fw_bundle_info info;
	uint8_t lh[FW_HASH_LEN], lh0[FW_HASH_LEN], prev[FW_HASH_LEN];
	int64_t last = -1;
	const char *tmp = getenv("TMPDIR"), *keep = getenv("FUZZ_BUNDLE_KEEP");
	char *note = NULL;

	snprintf(root, sizeof(root), "%s/fwtrust-fuzz-bundle-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		root[0] = 0;
		die("mkdtemp", NULL);
	}
	atexit(cleanup);
	if (keep && keep[0])
		snprintf(bundle, sizeof(bundle), "%s", keep); /* outside root: kept */
	else
		snprintf(bundle, sizeof(bundle), "%s/bundle", root);
	s = new_log(&key);
	for (uint64_t i = 0; i < RECORDS; i++) {
		int sel = i % 3 == 1;

		add(s, i, sel, sel ? last : -1, prev, lh);
		if (i == 0)
			memcpy(lh0, lh, FW_HASH_LEN);
		if (sel) {
			last = (int64_t)i;
			memcpy(prev, lh, FW_HASH_LEN);
			odd_records += i % 2;
		}
		if (i % 10 == 9 && i + 1 < RECORDS) {
			if (fw_evidence_checkpoint(s, key, &note, &d) != FW_OK)
				die("checkpoint", &d);
			free(note);
		}
	}
	put_docs(s, lh0);
	memset(&o, 0, sizeof(o));
	o.campaign = "c-1";
	o.dir = bundle;
	if (fw_bundle_export(s, &o, &info, &d) != FW_OK)
		die("export", &d);
	json_decref(info.summary);
	anchor = info.anchor;
	if (fw_bundle_seal(bundle, &d) != FW_OK)
		die("seal", &d);
	log_key = key;
	fw_store_close(s);
	load_originals();
	/* the untouched bundle verifies, and dev-odd's records are found */
	{
		uint64_t n = 0;

		CHECK(verify(0, NULL) == 0);
		CHECK(verify(1, &n) == 0);
		CHECK(n == odd_records);
	}
}

/* Does the manifest text list every file of the original one, with its
 * digest (hex in either case)? */
static int lists_all(const uint8_t *m, size_t len)
{
	const struct original *o = &orig[K_MANIFEST];
	const uint8_t *ol = o->data, *oend = o->data + o->len;

	while (ol < oend) {
		const uint8_t *onl = memchr(ol, '\n', (size_t)(oend - ol)), *l = m, *end = m + len;
		size_t on = (size_t)((onl ? onl : oend) - ol);
		int found = 0;

		while (l < end && !found) {
			const uint8_t *nl = memchr(l, '\n', (size_t)(end - l));
			size_t n = (size_t)((nl ? nl : end) - l);

			found = n == on && on > 64 &&
			        strncasecmp((const char *)l, (const char *)ol, 64) == 0 &&
			        memcmp(l + 64, ol + 64, n - 64) == 0;
			l = nl ? nl + 1 : end;
		}
		if (on > 0 && !found)
			return 0;
		ol = onl ? onl + 1 : oend;
	}
	return 1;
}

/* K_SIGNED: checkpoint.note signed anew with the size the proof names
 * (the original note when it names none), as a bundle's maker can. */
static void sign_anchor(const uint8_t *proof, size_t len)
{
	const uint8_t *nl = memchr(proof, '\n', len), *l2, *end = proof + len, *eol;
	struct fw_checkpoint c = anchor;
	struct fw_diag d = {{0}};
	char num[24], *text = NULL, *note = NULL;
	size_t n;

	if (nl == NULL || (size_t)(end - (nl + 1)) < 6 || memcmp(nl + 1, "size ", 5) != 0)
		return;
	l2 = nl + 6;
	eol = memchr(l2, '\n', (size_t)(end - l2));
	n = (size_t)((eol ? eol : end) - l2);
	if (n == 0 || n >= sizeof(num))
		return;
	memcpy(num, l2, n);
	num[n] = 0;
	if (fw_parse_u64(num, &c.size) != FW_OK)
		return;
	CHECK(fw_checkpoint_format(&c, &text) == FW_OK);
	CHECK(fw_note_sign(text, c.origin, log_key, &note, &d) == FW_OK);
	CHECK(write_bytes(orig[K_NOTE].path, note, strlen(note)) == 0);
	free(text);
	free(note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const struct original *o;
	uint64_t n;
	int same, query, kind;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size == 0)
		return 0;
	kind = (data[0] & 0x7f) % NKINDS;
	o = &orig[kind];
	query = (data[0] & 0x80) != 0;
	data++;
	size--;
	same = size == o->len && memcmp(data, o->data, size) == 0;
	CHECK(write_bytes(o->path, data, size) == 0);
	if (kind == K_SIGNED)
		sign_anchor(data, size);
	n = verify(query, NULL);
	CHECK(write_bytes(o->path, o->data, o->len) == 0);
	if (kind == K_SIGNED)
		CHECK(write_bytes(orig[K_NOTE].path, orig[K_NOTE].data, orig[K_NOTE].len) == 0);
	if (same) {
		if (n != 0)
			fprintf(stderr, "fuzz_bundle: %s unchanged, yet %llu finding(s)\n", o->name,
			        (unsigned long long)n);
		CHECK(n == 0);
	} else if (o == &orig[K_MANIFEST]) {
		CHECK(n > 0 || lists_all(data, size));
	} else {
		/* manifest.txt holds the original's digest */
		CHECK(n > 0);
	}
	return 0;
}
