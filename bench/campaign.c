/*
 * The store the campaign benchmarks start from (bench_rollout,
 * bench_bundle): one eligible device with a certificate from a test CA
 * (tests/lib/certgen), a release and its rollback release, a campaign of
 * three stages (1%, 10%, 100%) approved; and the small things both need
 * (a scratch directory removed on failure, a clock, the simulation's last
 * lines). Not a test.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "campaign.h"
#include "certgen.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "store/store.h"
#include "suit/suit.h"

char bench_dir[4096];
const char *bench_name = "bench";

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

const char *bench_in_dir(const char *name)
{
	static char p[4][4200];
	static int k;
	char *out = p[k++ % 4];

	snprintf(out, 4200, "%s/%s", bench_dir, name);
	return out;
}

void bench_die(const char *what, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", bench_name, what, msg);
	nftw(bench_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	exit(1);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		bench_die(path, "cannot write");
}

static struct fw_key *keypair(const char *base)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, bench_in_dir(base), &d) != FW_OK)
		bench_die("key", d.msg);
	return k;
}

static void add_release(struct fw_store *s, struct fw_key *k, const char *version,
                        uint64_t seq, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", ">=2.0.0 <2.4.1", NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t img[4096], *env = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	uint64_t idx;

	memset(img, (int)seq, sizeof(img));
	memset(&m, 0, sizeof(m));
	m.vendor_id[0] = 1;
	m.class_id[0] = 2;
	m.sequence = seq;
	m.version = version;
	fw_sha256(img, sizeof(img), m.image_digest);
	m.image_size = sizeof(img);
	if (fw_suit_sign(&m, k, &env, &len, &d) != FW_OK)
		bench_die("release", d.msg);
	write_file(bench_in_dir("rel.suit"), env, len);
	write_file(bench_in_dir("rel.bin"), img, sizeof(img));
	free(env);
	if (fw_registry_release_add(s, bench_in_dir("rel.suit"), bench_in_dir("rel.bin"), &t, "bench", &doc,
	                            &idx, &d) != FW_OK)
		bench_die("release add", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	json_decref(doc);
}

/* an operator; returns its key (the caller frees it) */
static struct fw_key *add_op(struct fw_store *s, const char *name, const char *role)
{
	struct fw_diag d = {{0}};
	struct fw_key *k = keypair(name);
	json_t *doc = NULL;
	uint64_t idx;
	char pub[64];

	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (fw_registry_operator_add(s, name, role, bench_in_dir(pub), "bench", &doc, &idx, &d) != FW_OK)
		bench_die("operator", d.msg);
	json_decref(doc);
	return k;
}

/* The real store: a release, its rollback, one eligible device, a campaign
 * whose first stage is approved (the others the simulation approves). */
struct fw_store *bench_campaign_store(char campaign[32])
{
	struct certgen_ca *ca = certgen_root("Bench Device CA", -86400, 86400L * 3650);
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_import_stats st;
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_key *rk, *approver;
	char rel[65], rb[65], json[1024], text[512], kid[65], csv[4096], *pem;
	json_t *doc = NULL;
	uint64_t idx, rev;
	uint8_t sig[64];
	size_t added;
	int n;

	if (p == NULL || fw_store_open(bench_in_dir("real.db"), 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "bench.fwtrust.example/rollout", bench_in_dir("log"), &d) != FW_OK)
		bench_die("store", d.msg);
	rk = keypair("rel");
	if (fw_registry_key_trust(s, bench_in_dir("rel.pub"), "rel", FW_ROLE_RELEASE_SIGNING, "bench",
	                          &doc, &idx, &d) != FW_OK)
		bench_die("key trust", d.msg);
	json_decref(doc);
	add_release(s, rk, "2.4.1", 42, rel);
	add_release(s, rk, "2.3.9", 41, rb);
	fw_key_free(rk);
	pem = certgen_ca_pem(ca);
	write_file(bench_in_dir("ca.pem"), pem, strlen(pem));
	free(pem);
	if (fw_registry_ca_add(s, bench_in_dir("ca.pem"), "bench", &added, &rev, &idx, &d) != FW_OK)
		bench_die("ca add", d.msg);
	pem = certgen_leaf(ca, "ctl-0001", NULL, 7, -3600, 86400L * 365);
	n = snprintf(csv, sizeof(csv),
	             "device_id,product,family,hw_revision,fw_version,cohorts,support_until,"
	             "lifecycle,certificate\nctl-0001,controller,ctl-a,B,2.3.0,eu,2034-12-31,"
	             "active,\"%s\"\n",
	             pem);
	free(pem);
	certgen_ca_free(ca);
	if (n < 0 || (size_t)n >= sizeof(csv))
		bench_die("fleet", "too long");
	write_file(bench_in_dir("fleet.csv"), csv, (size_t)n);
	if (fw_registry_device_import(s, bench_in_dir("fleet.csv"), "bench", NULL, NULL, &st, &d) != FW_OK)
		bench_die("import", d.msg);
	fw_key_free(add_op(s, "rm", FW_OP_RELEASE_MANAGER));
	approver = add_op(s, "ap", FW_OP_APPROVER);
	snprintf(json, sizeof(json),
	         "{\"name\":\"bench\",\"release\":\"%.16s\",\"stages\":["
	         "{\"name\":\"canary\",\"size\":{\"percent\":1},\"approvals\":1,\"soak_s\":3600},"
	         "{\"name\":\"early\",\"size\":{\"percent\":10},\"approvals\":1,\"soak_s\":7200},"
	         "{\"name\":\"rest\",\"size\":{\"percent\":100}}],"
	         "\"pause\":{\"failure_rate\":{\"percent\":5,\"min_reports\":100}},"
	         "\"rollback\":{\"release\":\"%.16s\"}}",
	         rel, rb);
	if (fw_campaign_policy_parse(json, strlen(json), "bench", p, &d) != FW_OK ||
	    fw_campaign_create(s, p, "rm", "bench", &doc, &idx, &d) != FW_OK)
		bench_die("campaign", d.msg);
	free(p);
	snprintf(campaign, 32, "%s", json_string_value(json_object_get(doc, "id")));
	if (fw_campaign_approval_text(doc, 0, text, sizeof(text)) != FW_OK ||
	    fw_key_sign(approver, (const uint8_t *)text, strlen(text), sig, &d) != FW_OK)
		bench_die("approve", d.msg);
	json_decref(doc);
	doc = NULL;
	fw_key_id_hex(approver, kid);
	if (fw_campaign_approve(s, campaign, 0, kid, sig, "bench", &doc, &idx, &d) != FW_OK)
		bench_die("approve", d.msg);
	json_decref(doc);
	fw_key_free(approver);
	return s;
}

/* The floor: t records of the engine's shape, each with a row write. */
#define TAIL 6
static char tail[TAIL][1024];
static int ntail;

void bench_sim_line(void *arg, int kind, const char *line)
{
	(void)arg;
	(void)kind;
	snprintf(tail[ntail++ % TAIL], sizeof(tail[0]), "%s", line);
}


void bench_sim_tail(void)
{
	for (int i = ntail > TAIL ? ntail - TAIL : 0; i < ntail; i++)
		printf("  | %s\n", tail[i % TAIL]);
}

void bench_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
