/*
 * The rollout engine on a real store, with the clock driven through
 * struct fw_rollout_ctx: approval gates, every pause condition at and
 * around its threshold, retries and backoff, report timeouts, quarantine,
 * rollback as configured, illegal transitions refused with nothing
 * changed, revocation mid-campaign, duplicate and late reports, two
 * processes reporting for the same devices at once, stable stage
 * membership, stage advance and completion, and the status document.
 * Every test ends with the counters checked against the rows and the
 * evidence log audited.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "certgen.h"
#include "crypto/crypto.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "rollout/rollout.h"
#include "suit/suit.h"

#define DAY 86400L
#define S(n) ((int64_t)(n) * 1000)
#define FINAL_DUE INT64_MAX /* due_ms of a failed row with no attempt left */
#define BIT(r) (1u << (r))

static struct fw_store *s;
static char rel_id[65], rb_id[65], other_id[65];
static struct fw_key *signer, *bob, *carol;
static struct certgen_ca *ca;
static int64_t T0; /* the campaign clock's origin (Unix ms, near the real time: certificates) */
static int nstores;
static long serial;

/* a JSON string's value, "" when it is not one */
static const char *js(const json_t *v)
{
	const char *x = json_string_value(v);

	return x ? x : "";
}

/* json_decref, and no dangling reference for a later call that fails */
static void drop(json_t **j)
{
	json_decref(*j);
	*j = NULL;
}

static struct fw_key *keypair(const char *base)
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};

	if (fw_key_generate(FW_KEY_ALG_ED25519, &k, &d) != FW_OK ||
	    fw_key_save(k, harness_tmp_path(base), &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "key: %s", d.msg);
	return k;
}

/* ---- the world: a store with keys, releases, people, a CA ---- */

static void add_release(const char *version, uint64_t seq, char id[65])
{
	struct fw_suit_manifest m;
	struct fw_release_target t = {"controller", "ctl-a", NULL, NULL, 0};
	struct fw_diag d = {{0}};
	uint8_t *env = NULL, img[1024];
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
	CHECK_EQ(fw_suit_sign(&m, signer, &env, &len, &d), FW_OK);
	CHECK_EQ(harness_write(harness_tmp_path("r.suit"), env, len), 0);
	CHECK_EQ(harness_write(harness_tmp_path("r.bin"), img, sizeof(img)), 0);
	free(env);
	if (fw_registry_release_add(s, harness_tmp_path("r.suit"), harness_tmp_path("r.bin"), &t,
	                            "rm", &doc, &idx,
	                            &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "release: %s", d.msg);
	snprintf(id, 65, "%s", json_string_value(json_object_get(doc, "release_id")));
	drop(&doc);
}

static void add_op(const char *name, const char *role)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx;
	char pub[64];

	snprintf(pub, sizeof(pub), "%s.pub", name);
	if (fw_registry_operator_add(s, name, role, harness_tmp_path(pub), "admin", &doc, &idx,
	                             &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "operator %s: %s", name, d.msg);
	drop(&doc);
}

static void close_store(void)
{
	fw_store_close(s);
	s = NULL;
}

/* A fresh store: alice creates campaigns, bob and carol approve, olga
 * operates; releases 2.4.1 (rolled out), 2.3.9 (rollback), 2.5.0. */
static void fresh(void)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	uint64_t idx, rev;
	size_t added;
	char name[32], *pem;

	close_store();
	if (signer == NULL) {
		struct fw_key *k;

		T0 = (int64_t)time(NULL) * 1000;
		signer = keypair("rel");
		k = keypair("alice");
		fw_key_free(k);
		k = keypair("olga");
		fw_key_free(k);
		bob = keypair("bob");
		carol = keypair("carol");
		ca = certgen_root("Device CA", -10 * DAY, 1000 * DAY);
		pem = certgen_ca_pem(ca);
		CHECK_EQ(harness_write(harness_tmp_path("ca.pem"), pem, strlen(pem)), 0);
		free(pem);
	}
	snprintf(name, sizeof(name), "e%d.db", ++nstores);
	CHECK_EQ(fw_store_open(harness_tmp_path(name), 1, &s, &d), FW_OK);
	snprintf(name, sizeof(name), "log%d", nstores);
	CHECK_EQ(fw_evidence_setup(s, "test.example/engine", harness_tmp_path(name), &d), FW_OK);
	CHECK_EQ(fw_registry_key_trust(s, harness_tmp_path("rel.pub"), "rel",
	                               FW_ROLE_RELEASE_SIGNING, "sec",
	                               &doc, &idx, &d),
	         FW_OK);
	drop(&doc);
	add_release("2.4.1", 42, rel_id);
	add_release("2.3.9", 43, rb_id);
	add_release("2.5.0", 44, other_id);
	add_op("alice", FW_OP_RELEASE_MANAGER);
	add_op("bob", FW_OP_APPROVER);
	add_op("carol", FW_OP_APPROVER);
	add_op("olga", FW_OP_OPERATOR);
	CHECK_EQ(fw_registry_ca_add(s, harness_tmp_path("ca.pem"), "sec", &added, &rev, &idx, &d),
	         FW_OK);
}

/* Devices <prefix>-000 .. : controller/ctl-a, hardware B, running 2.3.0,
 * active, each with its own certificate (without one when !cert: such a
 * device is ineligible). reverse: written to the file last to first. */
static void fleet(const char *prefix, int from, int n, int cert, int reverse)
{
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	size_t cap = 1024 + (size_t)n * 1200, len;
	char *csv = malloc(cap), id[64];
	int i;

	len = (size_t)snprintf(csv, cap,
	                       "device_id,product,family,hw_revision,fw_version,cohorts,"
	                       "support_until,lifecycle,certificate\n");
	for (i = 0; i < n; i++) {
		char *leaf = NULL;

		snprintf(id, sizeof(id), "%s-%03d", prefix, reverse ? from + n - 1 - i : from + i);
		if (cert)
			leaf = certgen_leaf(ca, id, NULL, ++serial, -DAY, 100 * DAY);
		len += (size_t)snprintf(csv + len, cap - len,
		                        "%s,controller,ctl-a,B,2.3.0,eu,2031-12-31,active,\"%s\"\n", id,
		                        leaf ? leaf : "");
		free(leaf);
	}
	CHECK(len < cap);
	CHECK_EQ(harness_write(harness_tmp_path("fleet.csv"), csv, len), 0);
	free(csv);
	if (fw_registry_device_import(s, harness_tmp_path("fleet.csv"), "ops", NULL, NULL, &st,
	                              &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "import: %s", d.msg);
}

static const char *dev(const char *prefix, int i)
{
	static char out[8][64];
	static int k;
	char *o = out[k++ % 8];

	snprintf(o, 64, "%s-%03d", prefix, i);
	return o;
}

static int approve(const char *id, uint32_t stage, struct fw_key *k, struct fw_diag *d)
{
	json_t *doc = NULL, *after = NULL;
	char text[512], kid[65];
	uint8_t sig[64];
	uint64_t idx;
	int rc;

	CHECK_EQ(fw_campaign_get(s, id, &doc, d), FW_OK);
	CHECK_EQ(fw_campaign_approval_text(doc, stage, text, sizeof(text)), FW_OK);
	drop(&doc);
	CHECK_EQ(fw_key_sign(k, (const uint8_t *)text, strlen(text), sig, d), FW_OK);
	fw_key_id_hex(k, kid);
	rc = fw_campaign_approve(s, id, stage, kid, sig, "test", &after, &idx, d);
	json_decref(after);
	return rc;
}

enum { RB_NONE, RB_MANUAL, RB_AUTO };

/* Create a campaign of release 2.4.1 from stages (a JSON array) and more
 * policy fields (",\"key\":..." or ""), as alice; with approve_all, bob
 * and carol give every approval the stages ask for. */
static void create(char id[32], const char *stages, const char *more, int rollback,
                   int approve_all)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p));
	struct fw_diag d = {{0}};
	char json[4096], rb[200] = "";
	json_t *doc = NULL;
	uint64_t idx;
	size_t k;

	if (rollback != RB_NONE)
		snprintf(rb, sizeof(rb), ",\"rollback\":{\"release\":\"%.12s\",\"automatic\":%s}", rb_id,
		         rollback == RB_AUTO ? "true" : "false");
	snprintf(json, sizeof(json), "{\"name\":\"t\",\"release\":\"%.12s\",\"stages\":%s%s%s}",
	         rel_id, stages, more, rb);
	if (fw_campaign_policy_parse(json, strlen(json), "test", p, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "policy: %s", d.msg);
	if (fw_campaign_create(s, p, "alice", "test", &doc, &idx, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "create: %s", d.msg);
	snprintf(id, 32, "%s", json_string_value(json_object_get(doc, "id")));
	drop(&doc);
	for (k = 0; approve_all && k < p->nstages; k++) {
		if (p->stages[k].approvals >= 1)
			CHECK_EQ(approve(id, (uint32_t)k, bob, &d), FW_OK);
		if (p->stages[k].approvals >= 2)
			CHECK_EQ(approve(id, (uint32_t)k, carol, &d), FW_OK);
	}
	free(p);
}

/* ---- the clock and the engine's verbs ---- */

static const struct fw_rollout_ctx *at(int64_t off_ms)
{
	static struct fw_rollout_ctx c[8];
	static int k;
	struct fw_rollout_ctx *x = &c[k++ % 8];

	memset(x, 0, sizeof(*x));
	x->now_ms = T0 + off_ms;
	x->actor = "test";
	return x;
}

static void start(const char *id, int64_t off)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;

	if (fw_rollout_start(s, id, "olga", at(off), &doc, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "start: %s", d.msg);
	drop(&doc);
}

static void tick(const char *id, int64_t off)
{
	struct fw_diag d = {{0}};

	if (fw_rollout_tick(s, id, at(off), NULL, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "tick: %s", d.msg);
}

static int report(const char *id, const char *device, int status, const char *version,
                  int integrity, int64_t off, struct fw_rollout_result *res, struct fw_diag *d)
{
	struct fw_rollout_report r = {device, status, NULL, version, integrity, NULL};

	return fw_rollout_report(s, id, &r, 1, at(off), res, d);
}

/* A report that must succeed with the given outcome. */
static struct fw_rollout_result step_at(int line, const char *id, const char *device, int status,
                                        const char *version, int integrity, int64_t off,
                                        int outcome)
{
	struct fw_rollout_result res;
	struct fw_diag d = {{0}};
	int rc;

	memset(&res, 0xa5, sizeof(res));
	rc = report(id, device, status, version, integrity, off, &res, &d);
	if (rc != FW_OK)
		harness_fail(__FILE__, line, "report %s %s: rc %d: %s", device,
		             fw_update_state_name(status), rc, d.msg);
	else if (res.outcome != outcome)
		harness_fail(__FILE__, line, "report %s %s: outcome %d, expected %d", device,
		             fw_update_state_name(status), res.outcome, outcome);
	return res;
}
#define DELIVER(id, dv, off) \
	step_at(__LINE__, id, dv, FW_U_DELIVERED, NULL, 0, off, FW_REPORT_APPLIED)
#define INSTALL(id, dv, off) \
	step_at(__LINE__, id, dv, FW_U_INSTALLED, "2.4.1", 0, off, FW_REPORT_APPLIED)
#define FAIL(id, dv, off) step_at(__LINE__, id, dv, FW_U_FAILED, NULL, 0, off, FW_REPORT_APPLIED)
#define STEP(id, dv, st, ver, integ, off, outcome) \
	step_at(__LINE__, id, dv, st, ver, integ, off, outcome)

static struct fw_rollout_row row(const char *id, const char *device)
{
	struct fw_rollout_row r;
	struct fw_diag d = {{0}};

	memset(&r, 0, sizeof(r));
	if (fw_store_rollout_get(s, id, device, &r, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "row %s: %s", device, d.msg);
	return r;
}

static int state_of_row(const char *id, const char *device)
{
	return row(id, device).state;
}

static const char *cstate(const char *id)
{
	static char out[32];
	json_t *doc = NULL;

	CHECK_EQ(fw_campaign_get(s, id, &doc, NULL), FW_OK);
	snprintf(out, sizeof(out), "%s", json_string_value(json_object_get(doc, "state")));
	drop(&doc);
	return out;
}

static uint64_t log_size(void)
{
	struct fw_diag d = {{0}};
	uint8_t root[32];
	uint64_t n = 0;

	CHECK_EQ(fw_evidence_size(s, &n, root, &d), FW_OK);
	return n;
}

static json_t *status(const char *id, int64_t off)
{
	struct fw_diag d = {{0}};
	json_t *st = NULL;

	if (fw_rollout_status(s, id, T0 + off, &st, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "status: %s", d.msg);
	return st ? st : json_object();
}

/* status: totals.<key>, or a stage's counts.<state> */
static long long total(const char *id, const char *key)
{
	json_t *st = status(id, 0);
	long long v = json_integer_value(json_object_get(json_object_get(st, "totals"), key));

	json_decref(st);
	return v;
}

static long long stage_count(const char *id, size_t k, const char *state)
{
	json_t *st = status(id, 0);
	long long v = json_integer_value(json_object_get(
	    json_object_get(json_array_get(json_object_get(st, "stages"), k), "counts"), state));

	json_decref(st);
	return v;
}

static long long stage_index(const char *id)
{
	json_t *st = status(id, 0);
	long long v = json_integer_value(json_object_get(json_object_get(st, "stage"), "index"));

	json_decref(st);
	return v;
}

/* A pause condition of the status ("failure_rate", ...) */
static json_t *condition(json_t *st, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(st, "pause_conditions"), i, c)
		if (strcmp(js(json_object_get(c, "name")), name) == 0)
			return c;
	harness_fail(__FILE__, __LINE__, "no pause condition %s", name);
	return NULL;
}

static long long headroom(const char *id, const char *name)
{
	json_t *st = status(id, 0);
	json_t *v = json_object_get(condition(st, name), "failures_to_pause");
	long long n = v == NULL ? -1 : json_is_integer(v) ? json_integer_value(v) : -2; /* -1: absent */

	json_decref(st);
	return n;
}

static int check_offer(const char *device, int64_t off, const char *campaign,
                       const char *release, int rollback, uint32_t attempt)
{
	struct fw_rollout_offer o;
	struct fw_diag d = {{0}};

	memset(&o, 0x5a, sizeof(o));
	if (fw_rollout_offer(s, device, T0 + off, &o, &d) != FW_OK) {
		harness_fail(__FILE__, __LINE__, "offer %s: %s", device, d.msg);
		return 0;
	}
	if (campaign == NULL)
		return o.campaign[0] == 0;
	return strcmp(o.campaign, campaign) == 0 && strcmp(o.release, release) == 0 &&
	       o.rollback == rollback && o.attempt == attempt;
}
#define OFFER_NONE(dv, off) CHECK(check_offer(dv, off, NULL, NULL, 0, 0))

/* ---- records ---- */

struct recq {
	const char *type, *device, *to, *campaign, *field; /* NULL: any */
	int n;
	json_t *last;
};

static int rec_match(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                     size_t len)
{
	struct recq *q = arg;
	json_t *j = json_loadb((const char *)rec, len, 0, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *keys[3] = {"device", "to", "campaign"};
	const char *want[3] = {q->device, q->to, q->campaign};
	int i, ok = type && strcmp(type, q->type) == 0;

	(void)idx;
	(void)lh;
	for (i = 0; ok && i < 3; i++)
		if (want[i]) {
			const char *v = json_string_value(json_object_get(j, keys[i]));

			ok = v && strcmp(v, want[i]) == 0;
		}
	if (ok && q->field)
		ok = json_object_get(j, q->field) != NULL;
	if (ok) {
		q->n++;
		json_decref(q->last);
		q->last = json_incref(j);
	}
	json_decref(j);
	return 0;
}

/* How many records of type (about device, to state) there are; *last (may
 * be NULL) gets the last one. */
static int nrec_last(const char *type, const char *device, const char *to, json_t **last)
{
	struct recq q = {type, device, to, NULL, NULL, 0, NULL};
	struct fw_diag d = {{0}};

	CHECK_EQ(fw_evidence_scan(s, 0, rec_match, &q, &d), FW_OK);
	if (last)
		*last = q.last;
	else
		json_decref(q.last);
	return q.n;
}

static int nrec(const char *type, const char *device, const char *to)
{
	return nrec_last(type, device, to, NULL);
}

static void on_finding(void *arg, const struct fw_audit_finding *f)
{
	int *n = arg;

	(*n)++;
	printf("  audit finding %s at %llu: %s\n", f->code, (unsigned long long)f->at, f->detail);
}

static int audit_findings(void)
{
	struct fw_audit_summary sum;
	struct fw_diag d = {{0}};
	int n = 0;
	int rc = fw_evidence_audit(s, NULL, 0, on_finding, &n, &sum, &d);

	if (rc != FW_OK && rc != FW_E_TAMPER)
		harness_fail(__FILE__, __LINE__, "audit: %s", d.msg);
	return n;
}

/* ---- the counters against the rows, and the audit ---- */

struct tally {
	uint64_t counts[FW_CAMPAIGN_MAX_STAGES + 1][FW_U_COUNT];
	uint64_t failures, attempts, attempted, final, rows;
	uint32_t nstages;
};

static int tally_row(void *arg, const struct fw_rollout_row *r)
{
	struct tally *t = arg;
	uint32_t k = r->stage == FW_ROLLOUT_NO_STAGE ? t->nstages : r->stage;

	if (k > t->nstages || r->state < 0 || r->state >= FW_U_COUNT) {
		harness_fail(__FILE__, __LINE__, "row %s: stage %u state %d", r->device, r->stage,
		             r->state);
		return 0;
	}
	t->counts[k][r->state]++;
	t->failures += r->failures;
	t->attempts += r->attempts;
	t->attempted += r->attempts > 0;
	t->final += r->state == FW_U_FAILED && r->due_ms == FINAL_DUE;
	t->rows++;
	return 0;
}

#define CONSISTENT(id) consistent(__LINE__, id)
static void consistent(int line, const char *id)
{
	struct tally t;
	struct fw_diag d = {{0}};
	json_t *st = status(id, 0), *stages = json_object_get(st, "stages"), *tot;
	uint64_t flight = 0;
	size_t k;
	int i;

	memset(&t, 0, sizeof(t));
	t.nstages = (uint32_t)json_array_size(stages);
	CHECK_EQ(fw_store_rollout_scan(s, id, -1, -1, INT64_MAX, tally_row, &t, &d), FW_OK);
	for (k = 0; k <= t.nstages; k++)
		for (i = 0; i < FW_U_COUNT; i++) {
			json_t *c = k < t.nstages
			                ? json_object_get(json_array_get(stages, k), "counts")
			                : json_object_get(st, "ineligible_at_start");
			long long got = json_integer_value(json_object_get(c, fw_update_state_name(i)));

			if ((uint64_t)got != t.counts[k][i])
				harness_fail(__FILE__, line, "stage %zu: %s counted %lld, rows %llu", k,
				             fw_update_state_name(i), got, (unsigned long long)t.counts[k][i]);
			if (i == FW_U_PENDING || i == FW_U_ELIGIBLE || i == FW_U_DELIVERED ||
			    i == FW_U_PAUSED || i == FW_U_FAILED)
				flight += t.counts[k][i];
		}
	tot = json_object_get(st, "totals");
	if ((uint64_t)json_integer_value(json_object_get(tot, "failures")) != t.failures)
		harness_fail(__FILE__, line, "totals.failures %lld, rows %llu",
		             json_integer_value(json_object_get(tot, "failures")),
		             (unsigned long long)t.failures);
	if ((uint64_t)json_integer_value(json_object_get(tot, "retries")) !=
	    t.attempts - t.attempted)
		harness_fail(__FILE__, line, "totals.retries %lld, rows %llu",
		             json_integer_value(json_object_get(tot, "retries")),
		             (unsigned long long)(t.attempts - t.attempted));
	if ((uint64_t)json_integer_value(json_object_get(st, "failed_final")) != t.final)
		harness_fail(__FILE__, line, "failed_final %lld, rows %llu",
		             json_integer_value(json_object_get(st, "failed_final")),
		             (unsigned long long)t.final);
	if ((uint64_t)json_integer_value(json_object_get(st, "in_flight")) != flight - t.final)
		harness_fail(__FILE__, line, "in_flight %lld, rows %llu",
		             json_integer_value(json_object_get(st, "in_flight")),
		             (unsigned long long)(flight - t.final));
	json_decref(st);
	i = audit_findings();
	if (i != 0)
		harness_fail(__FILE__, line, "%d audit finding(s)", i);
}

static const char ONE_STAGE[] = "[{\"name\":\"all\",\"size\":{\"percent\":100}}]";
/* no pause by failure rate: tests of other rules */
static const char NO_RATE[] = "\"failure_rate\":{\"percent\":100,\"min_reports\":1000000}";

/* ---- approvals before and during the run ---- */

static void t_approval_gates(void)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *st;
	char id[32];
	uint64_t n;

	fresh();
	fleet("g", 0, 6, 1, 0);
	create(id,
	       "[{\"name\":\"canary\",\"size\":{\"count\":2},\"approvals\":1,\"soak_s\":60},"
	       "{\"name\":\"rest\",\"size\":{\"percent\":100},\"approvals\":1}]",
	       "", RB_NONE, 0);
	/* stage 0 lacks its approval: no start, nothing written */
	n = log_size();
	CHECK_EQ(fw_rollout_start(s, id, "olga", at(0), &doc, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "waits for approvals") != NULL);
	CHECK(strcmp(cstate(id), "awaiting_approval") == 0);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(fw_store_rollout_get(s, id, dev("g", 0), &(struct fw_rollout_row){0}, &d),
	         FW_E_NOT_FOUND);
	/* reports before the start */
	CHECK_EQ(report(id, dev("g", 0), FW_U_DELIVERED, NULL, 0, 0, NULL, &d), FW_E_CONFLICT);
	CHECK_EQ(approve(id, 0, bob, &d), FW_OK);
	CHECK(strcmp(cstate(id), "ready") == 0);
	/* only an operator (or admin) starts it */
	CHECK_EQ(fw_rollout_start(s, id, "alice", at(0), &doc, &d), FW_E_VERIFY);
	CHECK_EQ(fw_rollout_start(s, id, "bob", at(0), &doc, &d), FW_E_VERIFY);
	CHECK_EQ(fw_rollout_start(s, id, "nobody", at(0), &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(fw_rollout_start(s, "c-0099", "olga", at(0), &doc, &d), FW_E_NOT_FOUND);
	CHECK(strcmp(cstate(id), "ready") == 0);
	CHECK_EQ(log_size(), n + 1);
	start(id, 0);
	CHECK(strcmp(cstate(id), "running") == 0);
	CHECK_EQ(stage_count(id, 0, "eligible"), 2);
	CHECK_EQ(stage_count(id, 1, "pending"), 4);
	/* no second start; the policy cannot change any more */
	n = log_size();
	CHECK_EQ(fw_rollout_start(s, id, "olga", at(1), &doc, &d), FW_E_CONFLICT);
	{
		struct fw_campaign_policy *p = malloc(sizeof(*p));
		char json[512];
		uint64_t idx;

		snprintf(json, sizeof(json),
		         "{\"name\":\"t\",\"release\":\"%.12s\",\"stages\":[{\"name\":\"all\","
		         "\"size\":{\"percent\":100}}]}",
		         rel_id);
		CHECK_EQ(fw_campaign_policy_parse(json, strlen(json), "t", p, &d), FW_OK);
		CHECK_EQ(fw_campaign_edit(s, id, p, "alice", "t", &doc, &idx, &d), FW_E_CONFLICT);
		free(p);
	}
	CHECK_EQ(log_size(), n);
	/* the canary succeeds and soaks, but the next stage waits for its approval */
	{
		int i, done = 0;

		for (i = 0; i < 6; i++)
			if (row(id, dev("g", i)).stage == 0) {
				DELIVER(id, dev("g", i), S(1));
				INSTALL(id, dev("g", i), S(2));
				done++;
			}
		CHECK_EQ(done, 2);
	}
	tick(id, S(60));
	tick(id, S(3600));
	CHECK_EQ(stage_index(id), 0);
	CHECK_EQ(stage_count(id, 1, "pending"), 4);
	CHECK_EQ(nrec("campaign.stage", NULL, NULL), 1);
	st = status(id, S(3600));
	CHECK(strstr(js(json_object_get(st, "next")), "waits for 1 more approval") !=
	      NULL);
	json_decref(st);
	/* approved while running: the next tick enters the stage */
	CHECK_EQ(approve(id, 1, carol, &d), FW_OK);
	CHECK_EQ(approve(id, 1, bob, &d), FW_E_CONFLICT); /* enough already */
	tick(id, S(3601));
	CHECK_EQ(stage_index(id), 1);
	CHECK_EQ(stage_count(id, 1, "eligible"), 4);
	CHECK_EQ(stage_count(id, 1, "pending"), 0);
	CHECK_EQ(nrec("campaign.stage", NULL, NULL), 2);
	CONSISTENT(id);
}

/* ---- pause conditions ---- */

/* policy: one stage, failure rate 50% of at least 4 reports */
static void rate_campaign(char id[32])
{
	fresh();
	fleet("r", 0, 12, 1, 0);
	create(id, ONE_STAGE,
	       ",\"pause\":{\"failure_rate\":{\"percent\":50,\"min_reports\":4}},"
	       "\"retry\":{\"max_attempts\":3,\"backoff_s\":600}",
	       RB_NONE, 1);
	start(id, 0);
	for (int i = 0; i < 8; i++)
		DELIVER(id, dev("r", i), S(1));
}

static void check_paused(const char *id, const char *cause, int eligible_left)
{
	json_t *doc = NULL;

	CHECK(strcmp(cstate(id), "paused") == 0);
	CHECK_EQ(fw_campaign_get(s, id, &doc, NULL), FW_OK);
	CHECK(strcmp(js(json_object_get(json_object_get(doc, "paused"), "cause")),
	             cause) == 0);
	drop(&doc);
	CHECK_EQ(nrec("campaign.pause", NULL, NULL), 1);
	CHECK_EQ(stage_count(id, 0, "eligible"), 0);
	CHECK_EQ(stage_count(id, 0, "paused"), eligible_left);
}

static void t_failure_rate_at(void)
{
	struct fw_rollout_result r;
	char id[32];

	/* exactly at the percent once min_reports are in: 2 failures of 4 */
	rate_campaign(id);
	INSTALL(id, dev("r", 0), S(2));
	FAIL(id, dev("r", 1), S(2));
	INSTALL(id, dev("r", 2), S(2));
	CHECK(strcmp(cstate(id), "running") == 0);
	CHECK_EQ(headroom(id, "failure_rate"), 1);
	r = FAIL(id, dev("r", 3), S(3));
	CHECK_EQ(r.paused, 1);
	CHECK_EQ(r.from, FW_U_DELIVERED);
	CHECK_EQ(r.to, FW_U_FAILED);
	check_paused(id, "failure_rate", 4);
	CHECK_EQ(headroom(id, "failure_rate"), 0);
	/* delivered devices still report while it is paused; nobody new is delivered */
	INSTALL(id, dev("r", 4), S(4));
	CHECK(strcmp(cstate(id), "paused") == 0);
	OFFER_NONE(dev("r", 9), S(4));
	{
		struct fw_diag d = {{0}};

		CHECK_EQ(report(id, dev("r", 9), FW_U_DELIVERED, NULL, 0, S(4), NULL, &d),
		         FW_E_CONFLICT);
	}
	CONSISTENT(id);
}

static void t_failure_rate_below(void)
{
	struct fw_rollout_result r;
	char id[32];

	/* one failure short of the percent: 1 of 4, then 2 of 5 */
	rate_campaign(id);
	INSTALL(id, dev("r", 0), S(2));
	CHECK_EQ(headroom(id, "failure_rate"), 3); /* 3 of 4 */
	FAIL(id, dev("r", 1), S(2));
	INSTALL(id, dev("r", 2), S(2));
	INSTALL(id, dev("r", 3), S(2));
	CHECK(strcmp(cstate(id), "running") == 0);
	CHECK_EQ(headroom(id, "failure_rate"), 2);
	r = FAIL(id, dev("r", 4), S(3));
	CHECK_EQ(r.paused, 0);
	CHECK(strcmp(cstate(id), "running") == 0);
	CHECK_EQ(headroom(id, "failure_rate"), 1);
	CHECK_EQ(nrec("campaign.pause", NULL, NULL), 0);
	CHECK_EQ(stage_count(id, 0, "eligible"), 4);
	r = FAIL(id, dev("r", 5), S(3)); /* 3 of 6 */
	CHECK_EQ(r.paused, 1);
	check_paused(id, "failure_rate", 4);
	CONSISTENT(id);
}

static void t_failure_rate_min_reports(void)
{
	struct fw_rollout_result r;
	json_t *st;
	char id[32];

	/* every report a failure, but fewer than min_reports of them */
	rate_campaign(id);
	FAIL(id, dev("r", 0), S(2));
	FAIL(id, dev("r", 1), S(2));
	r = FAIL(id, dev("r", 2), S(2));
	CHECK_EQ(r.paused, 0);
	CHECK(strcmp(cstate(id), "running") == 0);
	st = status(id, S(2));
	CHECK(json_is_false(json_object_get(condition(st, "failure_rate"), "reached")));
	CHECK_EQ(json_integer_value(json_object_get(condition(st, "failure_rate"), "reports")), 3);
	json_decref(st);
	CHECK_EQ(headroom(id, "failure_rate"), 1);
	/* the fourth report counts the rate: 3 failures of 4 reports is over
	 * 50%, even though the fourth is a success */
	r = INSTALL(id, dev("r", 3), S(3));
	CHECK_EQ(r.paused, 1);
	check_paused(id, "failure_rate", 4);
	CONSISTENT(id);
	/* resume: the window starts again (and the devices are un-paused) */
	{
		struct fw_diag d = {{0}};
		json_t *doc = NULL;

		CHECK_EQ(fw_rollout_resume(s, id, "olga", "looked at it", at(S(10)), &doc, &d), FW_OK);
		drop(&doc);
		CHECK(strcmp(cstate(id), "running") == 0);
		CHECK_EQ(stage_count(id, 0, "eligible"), 4);
		CHECK_EQ(stage_count(id, 0, "paused"), 0);
		st = status(id, S(10));
		CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "window"), "reports")), 0);
		CHECK(json_is_null(json_object_get(st, "paused")));
		json_decref(st);
		CHECK_EQ(headroom(id, "failure_rate"), 4);
		FAIL(id, dev("r", 4), S(11));
		CHECK(strcmp(cstate(id), "running") == 0);
		CHECK_EQ(nrec("campaign.resume", NULL, NULL), 1);
	}
	CONSISTENT(id);
}

/* A condition that holds when a tick comes is acted on by the tick. */
static void t_failure_rate_tick(void)
{
	char id[32];

	fresh();
	fleet("r", 0, 6, 1, 0);
	create(id, ONE_STAGE,
	       ",\"pause\":{\"failure_rate\":{\"percent\":50,\"min_reports\":2}},"
	       "\"report_timeout_s\":60",
	       RB_NONE, 1);
	start(id, 0);
	DELIVER(id, dev("r", 0), S(1));
	DELIVER(id, dev("r", 1), S(1));
	FAIL(id, dev("r", 0), S(2)); /* 1 of 1: below min_reports */
	CHECK(strcmp(cstate(id), "running") == 0);
	/* r-1 times out: a failure, 2 of 2 */
	tick(id, S(61));
	CHECK_EQ(state_of_row(id, dev("r", 1)), FW_U_FAILED);
	check_paused(id, "failure_rate", 4);
	CONSISTENT(id);
}

static void t_max_failures(void)
{
	struct fw_rollout_result r;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *st;
	char id[32], more[200];

	fresh();
	fleet("m", 0, 6, 1, 0);
	snprintf(more, sizeof(more), ",\"pause\":{%s,\"max_failures\":3}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	for (int i = 0; i < 5; i++)
		DELIVER(id, dev("m", i), S(1));
	CHECK_EQ(headroom(id, "max_failures"), 3);
	FAIL(id, dev("m", 0), S(2));
	r = FAIL(id, dev("m", 1), S(2)); /* N-1 */
	CHECK_EQ(r.paused, 0);
	CHECK(strcmp(cstate(id), "running") == 0);
	CHECK_EQ(headroom(id, "max_failures"), 1);
	CHECK_EQ(nrec("campaign.pause", NULL, NULL), 0);
	r = FAIL(id, dev("m", 2), S(3)); /* N */
	CHECK_EQ(r.paused, 1);
	check_paused(id, "max_failures", 1);
	st = status(id, S(3));
	CHECK(json_is_true(json_object_get(condition(st, "max_failures"), "reached")));
	CHECK_EQ(json_integer_value(json_object_get(condition(st, "max_failures"), "value")), 3);
	CHECK(strstr(js(json_object_get(st, "next")), "paused (max_failures)") != NULL);
	json_decref(st);
	CHECK_EQ(headroom(id, "max_failures"), 0);
	/* pause and resume follow the states: no pause of a paused campaign,
	 * no resume of a running one */
	CHECK_EQ(fw_rollout_pause(s, id, "olga", NULL, at(S(4)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_resume(s, id, "alice", NULL, at(S(4)), &doc, &d), FW_E_VERIFY);
	CHECK_EQ(fw_rollout_resume(s, id, "olga", NULL, at(S(4)), &doc, &d), FW_OK);
	drop(&doc);
	CHECK_EQ(fw_rollout_resume(s, id, "olga", NULL, at(S(4)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(stage_count(id, 0, "eligible"), 1);
	/* the window starts again at the resume */
	CHECK_EQ(headroom(id, "max_failures"), 3);
	CONSISTENT(id);
	/* an operator's pause, with its reason */
	CHECK_EQ(fw_rollout_pause(s, id, "olga", "night", at(S(5)), &doc, &d), FW_OK);
	CHECK(strcmp(js(json_object_get(json_object_get(doc, "paused"), "cause")),
	             "operator") == 0);
	drop(&doc);
	CHECK_EQ(stage_count(id, 0, "paused"), 1);
	CONSISTENT(id);
}

/* Integrity failures: pause and quarantine at the first. */
static void t_integrity(void)
{
	struct fw_rollout_result r, rs[2];
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	json_t *st, *rec = NULL;
	char id[32];

	fresh();
	fleet("i", 0, 4, 1, 0);
	create(id, ONE_STAGE, "", RB_NONE, 1);
	start(id, 0);
	DELIVER(id, dev("i", 0), S(1));
	DELIVER(id, dev("i", 1), S(1));
	/* only a failure is an integrity failure */
	CHECK_EQ(report(id, dev("i", 0), FW_U_INSTALLED, "2.4.1", 1, S(2), NULL, &d), FW_E_CONFLICT);
	CHECK_EQ(state_of_row(id, dev("i", 0)), FW_U_DELIVERED);
	r = step_at(__LINE__, id, dev("i", 0), FW_U_FAILED, NULL, 1, S(2), FW_REPORT_APPLIED);
	CHECK_EQ(r.paused, 1);
	CHECK_EQ(r.quarantined, 1);
	check_paused(id, "integrity_failure", 2);
	/* quarantined in the registry, with its record */
	CHECK_EQ(fw_store_device_get(s, dev("i", 0), &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "quarantined") == 0);
	CHECK_EQ(nrec_last("device.lifecycle", dev("i", 0), "quarantined", &rec), 1);
	CHECK(strcmp(js(json_object_get(rec, "campaign")), id) == 0);
	CHECK(strcmp(js(json_object_get(rec, "from")), "active") == 0);
	json_decref(rec);
	/* no further attempt for it */
	CHECK_EQ(row(id, dev("i", 0)).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, dev("i", 0)).failures, 1);
	st = status(id, S(2));
	CHECK(json_is_true(json_object_get(condition(st, "integrity_failure"), "reached")));
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "totals"),
	                                            "integrity_failures")),
	         1);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "totals"), "quarantined")),
	         1);
	json_decref(st);
	/* the other delivered device is not quarantined */
	CHECK_EQ(fw_store_device_get(s, dev("i", 1), &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "active") == 0);
	CONSISTENT(id);

	/* two integrity failures in one batch: the first pauses */
	fresh();
	fleet("i", 0, 4, 1, 0);
	create(id, ONE_STAGE, "", RB_NONE, 1);
	start(id, 0);
	DELIVER(id, dev("i", 0), S(1));
	DELIVER(id, dev("i", 1), S(1));
	{
		struct fw_rollout_report b[2] = {{dev("i", 0), FW_U_FAILED, NULL, NULL, 1, "bad sig"},
		                                 {dev("i", 1), FW_U_FAILED, NULL, NULL, 1, NULL}};

		CHECK_EQ(fw_rollout_report(s, id, b, 2, at(S(2)), rs, &d), FW_OK);
	}
	CHECK_EQ(rs[0].outcome, FW_REPORT_APPLIED);
	CHECK_EQ(rs[1].outcome, FW_REPORT_APPLIED);
	CHECK_EQ(rs[0].paused, 1);
	CHECK_EQ(rs[1].paused, 0);
	CHECK_EQ(rs[0].quarantined, 1);
	CHECK_EQ(rs[1].quarantined, 1);
	CHECK_EQ(nrec("campaign.pause", NULL, NULL), 1);
	CHECK_EQ(nrec("device.lifecycle", NULL, "quarantined"), 2);
	CHECK_EQ(total(id, "integrity_failures"), 2);
	CONSISTENT(id);
}

static long long failed_final(const char *id)
{
	json_t *st = status(id, 0);
	long long v = json_integer_value(json_object_get(st, "failed_final"));

	json_decref(st);
	return v;
}

/* An integrity refusal that arrives after the attempt's plain failure
 * (SWUpdate: the refusal line is progress from one thread, the generic
 * closing failure comes from another, in either order): the failure is
 * escalated once to an integrity failure; said again it is a duplicate. */
static int late_integrity(const char *id, const char *device, int64_t off,
                          struct fw_rollout_result *res, struct fw_diag *d)
{
	struct fw_rollout_report r = {device, FW_U_FAILED, NULL, NULL, 1,
	                              "ERROR : HASH mismatch : abc <--> def"};

	memset(res, 0xa5, sizeof(*res));
	return fw_rollout_report(s, id, &r, 1, at(off), res, d);
}

static void t_integrity_late(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	char id[32], more[300];
	const char *x = dev("l", 0), *y = dev("l", 1);
	json_t *st, *rec = NULL;
	uint64_t n;

	fresh();
	fleet("l", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":3,\"backoff_s\":600}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(1));
	r = FAIL(id, x, S(2)); /* "No suitable .swu image found": a plain failure */
	CHECK_EQ(r.quarantined, 0);
	CHECK_EQ(r.paused, 0);
	CHECK_EQ(row(id, x).due_ms, T0 + S(602));
	CHECK_EQ(failed_final(id), 0);
	CHECK_EQ(nrec("device.lifecycle", x, "quarantined"), 0);
	/* then the refusal line: escalated */
	n = log_size();
	CHECK_EQ(late_integrity(id, x, S(3), &r, &d), FW_OK);
	CHECK_EQ(r.outcome, FW_REPORT_APPLIED);
	CHECK_EQ(r.from, FW_U_FAILED);
	CHECK_EQ(r.to, FW_U_FAILED);
	CHECK_EQ(r.quarantined, 1);
	CHECK_EQ(r.paused, 1);
	check_paused(id, "integrity_failure", 2);
	/* the row: failed for good, the same attempt (attempts and failures as
	 * they were), pointing at the new record */
	CHECK_EQ(row(id, x).state, FW_U_FAILED);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, x).attempts, 1);
	CHECK_EQ(row(id, x).failures, 1);
	CHECK_EQ(row(id, x).rec, r.idx);
	CHECK_EQ(nrec_last("rollout.device", x, "failed", &rec), 2);
	CHECK(strcmp(js(json_object_get(rec, "from")), "failed") == 0);
	CHECK(strcmp(js(json_object_get(rec, "cause")), "report") == 0);
	CHECK(json_is_true(json_object_get(rec, "integrity_failure")));
	CHECK(json_is_null(json_object_get(rec, "retry")));
	CHECK(strstr(js(json_object_get(rec, "detail")), "HASH mismatch") != NULL);
	CHECK_EQ(json_integer_value(json_object_get(rec, "attempts")), 1);
	CHECK_EQ(json_integer_value(json_object_get(rec, "failures")), 1);
	drop(&rec);
	/* its record, the quarantine, the pause, and the two eligible devices
	 * paused */
	CHECK_EQ(log_size(), n + 5);
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "quarantined") == 0);
	CHECK_EQ(nrec_last("device.lifecycle", x, "quarantined", &rec), 1);
	CHECK(strstr(js(json_object_get(rec, "reason")), "integrity failure reported") != NULL);
	drop(&rec);
	/* counted as an integrity failure of the same attempt: not another
	 * report or failure */
	CHECK_EQ(total(id, "integrity_failures"), 1);
	CHECK_EQ(total(id, "failures"), 1);
	CHECK_EQ(total(id, "reports"), 1);
	CHECK_EQ(total(id, "quarantined"), 1);
	st = status(id, S(3));
	CHECK_EQ(json_integer_value(json_object_get(condition(st, "integrity_failure"), "value")), 1);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "window"), "failures")), 1);
	CHECK_EQ(json_integer_value(json_object_get(st, "failed_final")), 1);
	json_decref(st);
	OFFER_NONE(x, S(700)); /* no retry after an integrity failure */
	CONSISTENT(id);
	/* said again (the next line of the same refusal), and the closing
	 * failure repeated: duplicates, nothing written */
	n = log_size();
	CHECK_EQ(late_integrity(id, x, S(4), &r, &d), FW_OK);
	CHECK_EQ(r.outcome, FW_REPORT_DUPLICATE);
	CHECK_EQ(r.quarantined, 0);
	CHECK_EQ(r.paused, 0);
	STEP(id, x, FW_U_FAILED, NULL, 0, S(4), FW_REPORT_DUPLICATE);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(total(id, "integrity_failures"), 1);
	/* an integrity failure first, then the refusal again: a duplicate */
	CHECK_EQ(fw_rollout_resume(s, id, "olga", NULL, at(S(5)), NULL, &d), FW_OK);
	DELIVER(id, y, S(6));
	r = STEP(id, y, FW_U_FAILED, NULL, 1, S(7), FW_REPORT_APPLIED);
	CHECK_EQ(r.quarantined, 1);
	n = log_size();
	CHECK_EQ(late_integrity(id, y, S(8), &r, &d), FW_OK);
	CHECK_EQ(r.outcome, FW_REPORT_DUPLICATE);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(total(id, "integrity_failures"), 2);
	CONSISTENT(id);

	/* the plain failure quarantined the device already (its failures
	 * reached quarantine.after_failed_attempts): the refusal still counts
	 * as the integrity failure it is and pauses the campaign; the device
	 * is not quarantined again */
	fresh();
	fleet("l", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":1,\"backoff_s\":0}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(1));
	r = FAIL(id, x, S(2));
	CHECK_EQ(r.quarantined, 1);
	CHECK_EQ(r.paused, 0);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(failed_final(id), 1);
	CHECK_EQ(late_integrity(id, x, S(3), &r, &d), FW_OK);
	CHECK_EQ(r.outcome, FW_REPORT_APPLIED);
	CHECK_EQ(r.quarantined, 0);
	CHECK_EQ(r.paused, 1);
	check_paused(id, "integrity_failure", 2);
	CHECK_EQ(nrec("device.lifecycle", x, "quarantined"), 1);
	CHECK_EQ(total(id, "integrity_failures"), 1);
	CHECK_EQ(total(id, "failures"), 1);
	CHECK_EQ(total(id, "quarantined"), 1);
	n = log_size();
	CHECK_EQ(late_integrity(id, x, S(4), &r, &d), FW_OK);
	CHECK_EQ(r.outcome, FW_REPORT_DUPLICATE);
	CHECK_EQ(log_size(), n);
	CONSISTENT(id);
}

/* ---- retries, timeouts ---- */

static void t_retry(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	char id[32], more[300];
	const char *x;
	uint64_t n;

	/* three attempts, 600 s apart, quarantine after the third failure */
	fresh();
	fleet("t", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":3,\"backoff_s\":600},"
	         "\"quarantine\":{\"after_failed_attempts\":3}",
	         NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	x = dev("t", 0);
	CHECK(check_offer(x, S(0), id, rel_id, 0, 1));
	DELIVER(id, x, S(0));
	FAIL(id, x, S(10));
	CHECK_EQ(row(id, x).due_ms, T0 + S(610));
	/* before the backoff: nothing offered, a delivered report is late */
	OFFER_NONE(x, S(609));
	n = log_size();
	r = STEP(id, x, FW_U_DELIVERED, NULL, 0, S(609), FW_REPORT_LATE);
	CHECK_EQ(r.from, FW_U_FAILED);
	CHECK_EQ(r.to, FW_U_FAILED);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(row(id, x).attempts, 1);
	CHECK_EQ(row(id, x).state, FW_U_FAILED);
	/* after it: attempt 2 */
	CHECK(check_offer(x, S(610), id, rel_id, 0, 2));
	DELIVER(id, x, S(610));
	CHECK_EQ(row(id, x).attempts, 2);
	CHECK_EQ(total(id, "retries"), 1);
	FAIL(id, x, S(620));
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "active") == 0);
	DELIVER(id, x, S(1220));
	CHECK_EQ(row(id, x).attempts, 3);
	r = FAIL(id, x, S(1230)); /* the last attempt: final, and quarantined */
	CHECK_EQ(r.quarantined, 1);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, x).failures, 3);
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "quarantined") == 0);
	CHECK_EQ(nrec("device.lifecycle", x, "quarantined"), 1);
	OFFER_NONE(x, S(100000));
	n = log_size();
	STEP(id, x, FW_U_DELIVERED, NULL, 0, S(100000), FW_REPORT_LATE);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(row(id, x).attempts, 3);
	CHECK_EQ(total(id, "failures"), 3);
	CHECK(strcmp(cstate(id), "running") == 0);
	CONSISTENT(id);

	/* two attempts, quarantine after one: the first failure is final */
	fresh();
	fleet("t", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":2,\"backoff_s\":0},"
	         "\"quarantine\":{\"after_failed_attempts\":1}",
	         NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(0));
	r = FAIL(id, x, S(1));
	CHECK_EQ(r.quarantined, 1);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	OFFER_NONE(x, S(5));
	STEP(id, x, FW_U_DELIVERED, NULL, 0, S(5), FW_REPORT_LATE);
	CONSISTENT(id);

	/* two attempts, no backoff, quarantine by default after both */
	fresh();
	fleet("t", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":2,\"backoff_s\":0}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	x = dev("t", 2);
	DELIVER(id, x, S(0));
	r = FAIL(id, x, S(1));
	CHECK_EQ(r.quarantined, 0);
	CHECK_EQ(row(id, x).due_ms, T0 + S(1));
	CHECK(check_offer(x, S(1), id, rel_id, 0, 2));
	DELIVER(id, x, S(1));
	r = FAIL(id, x, S(2));
	CHECK_EQ(r.quarantined, 1); /* after_failed_attempts defaults to max_attempts */
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, x).attempts, 2);
	OFFER_NONE(x, S(3));
	CONSISTENT(id);
}

static void t_timeout(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	json_t *rec = NULL;
	char id[32], more[300];
	const char *x = dev("o", 0);

	fresh();
	fleet("o", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":2,\"backoff_s\":0},"
	         "\"report_timeout_s\":60",
	         NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(0));
	DELIVER(id, dev("o", 1), S(30));
	CHECK_EQ(row(id, x).due_ms, T0 + S(60));
	/* one millisecond before the deadline: nothing */
	tick(id, S(60) - 1);
	CHECK_EQ(state_of_row(id, x), FW_U_DELIVERED);
	CHECK_EQ(total(id, "timeouts"), 0);
	/* at the deadline: failed, cause timeout, counted as a failure */
	tick(id, S(60));
	CHECK_EQ(state_of_row(id, x), FW_U_FAILED);
	CHECK_EQ(state_of_row(id, dev("o", 1)), FW_U_DELIVERED);
	CHECK_EQ(row(id, x).failures, 1);
	CHECK_EQ(total(id, "timeouts"), 1);
	CHECK_EQ(total(id, "failures"), 1);
	CHECK_EQ(total(id, "reports"), 1);
	CHECK_EQ(nrec_last("rollout.device", x, "failed", &rec), 1);
	CHECK(strcmp(js(json_object_get(rec, "cause")), "timeout") == 0);
	json_decref(rec);
	/* a failed report for it now is a duplicate */
	STEP(id, x, FW_U_FAILED, NULL, 0, S(60), FW_REPORT_DUPLICATE);
	/* the retry times out as well: final, quarantined */
	CHECK(check_offer(x, S(60), id, rel_id, 0, 2));
	DELIVER(id, x, S(61));
	tick(id, S(121));
	CHECK_EQ(state_of_row(id, x), FW_U_FAILED);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, x).failures, 2);
	CHECK_EQ(total(id, "timeouts"), 3); /* and o-1's */
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.lifecycle, "quarantined") == 0);
	CONSISTENT(id);
	/* it reports after all that it runs the release: installed, late */
	r = INSTALL(id, x, S(200));
	CHECK_EQ(r.from, FW_U_FAILED);
	CHECK_EQ(state_of_row(id, x), FW_U_INSTALLED);
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.fw_version, "2.4.1") == 0);
	CONSISTENT(id);
}

/* ---- rollback ---- */

static void t_rollback_manual(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	json_t *doc = NULL, *rec = NULL;
	char id[32];
	uint64_t n;

	fresh();
	fleet("b", 0, 4, 1, 0);
	create(id, ONE_STAGE, "", RB_MANUAL, 1);
	start(id, 0);
	DELIVER(id, dev("b", 0), S(1));
	DELIVER(id, dev("b", 1), S(1));
	DELIVER(id, dev("b", 2), S(1));
	INSTALL(id, dev("b", 0), S(2));
	/* a report about the rollback release before any rollback */
	{
		struct fw_rollout_report rep = {dev("b", 2), FW_U_ROLLED_BACK, rb_id, "2.3.9", 0, NULL};

		CHECK_EQ(fw_rollout_report(s, id, &rep, 1, at(S(2)), NULL, &d), FW_E_CONFLICT);
	}
	/* a pause condition with automatic=false pauses, no more */
	r = step_at(__LINE__, id, dev("b", 1), FW_U_FAILED, NULL, 1, S(3), FW_REPORT_APPLIED);
	CHECK_EQ(r.paused, 1);
	check_paused(id, "integrity_failure", 1);
	CHECK_EQ(nrec("campaign.rollback", NULL, NULL), 0);
	/* an operator rolls it back */
	CHECK_EQ(fw_rollout_abort(s, id, "bob", 1, "bad", at(S(4)), &doc, &d), FW_E_VERIFY);
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 1, "bad build", at(S(4)), &doc, &d), FW_OK);
	CHECK(strcmp(js(json_object_get(doc, "state")), "rolled_back") == 0);
	drop(&doc);
	CHECK_EQ(nrec_last("campaign.rollback", NULL, NULL, &rec), 1);
	CHECK(json_is_false(json_object_get(rec, "automatic")));
	CHECK(strcmp(js(json_object_get(rec, "rollback_release")), rb_id) == 0);
	json_decref(rec);
	/* who received the release is offered the rollback release */
	CHECK(check_offer(dev("b", 0), S(5), id, rb_id, 1, 1));
	CHECK(check_offer(dev("b", 1), S(5), id, rb_id, 1, 1));
	CHECK(check_offer(dev("b", 2), S(5), id, rb_id, 1, 1));
	OFFER_NONE(dev("b", 3), S(5));
	/* and reports it rolled back, naming the rollback release */
	{
		struct fw_rollout_report rep = {dev("b", 0), FW_U_ROLLED_BACK, rb_id, "2.3.9", 0, NULL};
		struct fw_rollout_result res;

		CHECK_EQ(fw_rollout_report(s, id, &rep, 1, at(S(6)), &res, &d), FW_OK);
		CHECK_EQ(res.outcome, FW_REPORT_APPLIED);
		CHECK_EQ(res.from, FW_U_INSTALLED);
		CHECK_EQ(res.to, FW_U_ROLLED_BACK);
		n = log_size();
		CHECK_EQ(fw_rollout_report(s, id, &rep, 1, at(S(7)), &res, &d), FW_OK);
		CHECK_EQ(res.outcome, FW_REPORT_DUPLICATE);
		CHECK_EQ(log_size(), n);
		/* another release entirely is still refused */
		rep.release = other_id;
		rep.device = dev("b", 2);
		CHECK_EQ(fw_rollout_report(s, id, &rep, 1, at(S(7)), &res, &d), FW_E_CONFLICT);
	}
	CHECK_EQ(state_of_row(id, dev("b", 0)), FW_U_ROLLED_BACK);
	CHECK_EQ(fw_store_device_get(s, dev("b", 0), &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.fw_version, "2.3.9") == 0);
	OFFER_NONE(dev("b", 0), S(8));
	/* a delivered report now is about the rollback release on its way */
	n = log_size();
	STEP(id, dev("b", 1), FW_U_DELIVERED, NULL, 0, S(8), FW_REPORT_DUPLICATE);
	STEP(id, dev("b", 2), FW_U_DELIVERED, NULL, 0, S(8), FW_REPORT_DUPLICATE);
	CHECK_EQ(log_size(), n);
	STEP(id, dev("b", 1), FW_U_ROLLED_BACK, "2.3.9", 0, S(8), FW_REPORT_APPLIED);
	/* nothing is delivered any more */
	CHECK_EQ(report(id, dev("b", 3), FW_U_DELIVERED, NULL, 0, S(9), NULL, &d), FW_E_CONFLICT);
	/* it has ended */
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 0, NULL, at(S(9)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_resume(s, id, "olga", NULL, at(S(9)), &doc, &d), FW_E_CONFLICT);
	CONSISTENT(id);
}

static void t_rollback_automatic(void)
{
	struct fw_rollout_result r;
	json_t *rec = NULL;
	char id[32], more[200];

	fresh();
	fleet("a", 0, 4, 1, 0);
	snprintf(more, sizeof(more), ",\"pause\":{%s,\"max_failures\":2}", NO_RATE);
	create(id, ONE_STAGE, more, RB_AUTO, 1);
	start(id, 0);
	DELIVER(id, dev("a", 0), S(1));
	DELIVER(id, dev("a", 1), S(1));
	DELIVER(id, dev("a", 2), S(1));
	INSTALL(id, dev("a", 0), S(2));
	r = FAIL(id, dev("a", 1), S(2));
	CHECK_EQ(r.paused, 0);
	r = FAIL(id, dev("a", 2), S(3));
	CHECK_EQ(r.paused, 1);
	CHECK(strcmp(cstate(id), "rolled_back") == 0);
	CHECK_EQ(nrec("campaign.pause", NULL, NULL), 0);
	CHECK_EQ(nrec_last("campaign.rollback", NULL, NULL, &rec), 1);
	CHECK(json_is_true(json_object_get(rec, "automatic")));
	CHECK(strcmp(js(json_object_get(json_object_get(rec, "why"), "cause")),
	             "max_failures") == 0);
	json_decref(rec);
	CHECK(check_offer(dev("a", 0), S(4), id, rb_id, 1, 1));
	OFFER_NONE(dev("a", 3), S(4));
	STEP(id, dev("a", 0), FW_U_ROLLED_BACK, "2.3.9", 0, S(5), FW_REPORT_APPLIED);
	CONSISTENT(id);
}

static void t_rollback_none(void)
{
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	char id[32];
	uint64_t n;

	fresh();
	fleet("n", 0, 3, 1, 0);
	create(id, ONE_STAGE, "", RB_NONE, 1);
	start(id, 0);
	DELIVER(id, dev("n", 0), S(1));
	n = log_size();
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 1, NULL, at(S(2)), &doc, &d), FW_E_CONFLICT);
	CHECK(strstr(d.msg, "no rollback release") != NULL);
	CHECK_EQ(log_size(), n);
	CHECK(strcmp(cstate(id), "running") == 0);
	/* a plain abort */
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 0, "enough", at(S(3)), &doc, &d), FW_OK);
	drop(&doc);
	CHECK(strcmp(cstate(id), "aborted") == 0);
	CHECK_EQ(nrec("campaign.abort", NULL, NULL), 1);
	OFFER_NONE(dev("n", 0), S(4));
	OFFER_NONE(dev("n", 1), S(4));
	CHECK_EQ(report(id, dev("n", 1), FW_U_DELIVERED, NULL, 0, S(4), NULL, &d), FW_E_CONFLICT);
	CHECK_EQ(state_of_row(id, dev("n", 1)), FW_U_ELIGIBLE);
	CHECK_EQ(fw_rollout_pause(s, id, "olga", NULL, at(S(4)), &doc, &d), FW_E_CONFLICT);
	/* the delivered device still reports */
	INSTALL(id, dev("n", 0), S(5));
	CONSISTENT(id);
}

/* ---- illegal transitions: refused, nothing changed ---- */

static void t_illegal(void)
{
	struct fw_rollout_row before, after;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	json_t *doc = NULL;
	char id[32], ready[32];
	uint64_t n;

	fresh();
	fleet("x", 0, 4, 1, 0);
	create(ready, ONE_STAGE, "", RB_NONE, 1);
	create(id, "[{\"name\":\"a\",\"size\":{\"count\":2}},{\"name\":\"b\",\"size\":{\"percent\":100}}]",
	       "", RB_NONE, 1);
	start(id, 0);
	fleet("late", 0, 1, 1, 0); /* not a member: imported after the start */
	/* pause of a campaign that does not run; resume of a running one; start twice */
	n = log_size();
	CHECK_EQ(fw_rollout_pause(s, ready, "olga", NULL, at(S(1)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_resume(s, id, "olga", NULL, at(S(1)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_start(s, id, "olga", at(S(1)), &doc, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_pause(s, id, "dave", NULL, at(S(1)), &doc, &d), FW_E_NOT_FOUND);
	CHECK_EQ(log_size(), n);
	CHECK(strcmp(cstate(ready), "ready") == 0);
	CHECK(strcmp(cstate(id), "running") == 0);
	{
		const char *el = NULL, *pend = NULL, *del;
		struct fw_rollout_report r;
		int i;

		for (i = 0; i < 4; i++) {
			if (row(id, dev("x", i)).state == FW_U_ELIGIBLE)
				el = el ? el : dev("x", i);
			else if (row(id, dev("x", i)).state == FW_U_PENDING)
				pend = pend ? pend : dev("x", i);
		}
		CHECK(el != NULL && pend != NULL);
		if (el == NULL || pend == NULL)
			return;
		/* failed (or installed, or rolled back) without a delivery */
		before = row(id, el);
		CHECK_EQ(report(id, el, FW_U_FAILED, NULL, 0, S(2), NULL, &d), FW_E_CONFLICT);
		CHECK(strstr(d.msg, el) != NULL);
		CHECK_EQ(report(id, el, FW_U_INSTALLED, "2.4.1", 0, S(2), NULL, &d), FW_E_CONFLICT);
		CHECK_EQ(report(id, el, FW_U_ROLLED_BACK, NULL, 0, S(2), NULL, &d), FW_E_CONFLICT);
		/* a device whose stage has not started */
		CHECK_EQ(report(id, pend, FW_U_DELIVERED, NULL, 0, S(2), NULL, &d), FW_E_CONFLICT);
		CHECK_EQ(row(id, pend).state, FW_U_PENDING);
		OFFER_NONE(pend, S(2));
		/* statuses that are not reports */
		CHECK_EQ(report(id, el, FW_U_PENDING, NULL, 0, S(2), NULL, &d), FW_E_ARG);
		/* a cancel confirmation (paused) when nothing was cancelled: late, no change */
		CHECK_EQ(report(id, el, FW_U_PAUSED, NULL, 0, S(2), NULL, &d), FW_OK);
		CHECK_EQ(row(id, el).state, FW_U_ELIGIBLE);
		CHECK_EQ(report(id, el, 99, NULL, 0, S(2), NULL, &d), FW_E_ARG);
		/* not in the campaign, not in the registry */
		CHECK_EQ(report(id, dev("late", 0), FW_U_DELIVERED, NULL, 0, S(2), NULL, &d),
		         FW_E_CONFLICT);
		CHECK(strstr(d.msg, dev("late", 0)) != NULL && strstr(d.msg, id) != NULL);
		CHECK_EQ(report(id, "ghost", FW_U_DELIVERED, NULL, 0, S(2), NULL, &d), FW_E_CONFLICT);
		CHECK(strstr(d.msg, "ghost") != NULL);
		/* a report about another release */
		memset(&r, 0, sizeof(r));
		r.device = el;
		r.status = FW_U_DELIVERED;
		r.release = other_id;
		CHECK_EQ(fw_rollout_report(s, id, &r, 1, at(S(2)), NULL, &d), FW_E_CONFLICT);
		r.release = rb_id;
		CHECK_EQ(fw_rollout_report(s, id, &r, 1, at(S(2)), NULL, &d), FW_E_CONFLICT);
		r.release = "0123"; /* too short a prefix to name anything */
		CHECK_EQ(fw_rollout_report(s, id, &r, 1, at(S(2)), NULL, &d), FW_E_CONFLICT);
		after = row(id, el);
		CHECK(memcmp(&before, &after, sizeof(before)) == 0);
		CHECK_EQ(log_size(), n);
		/* the campaign's release by prefix is fine */
		r.release = rel_id;
		CHECK_EQ(fw_rollout_report(s, id, &r, 1, at(S(3)), NULL, &d), FW_OK);
		del = el;
		/* installed with a version that is not the release's: refused,
		 * nothing changed, the registry untouched */
		n = log_size();
		before = row(id, del);
		CHECK_EQ(report(id, del, FW_U_INSTALLED, "2.4.0", 0, S(4), NULL, &d), FW_E_CONFLICT);
		CHECK(strstr(d.msg, "runs 2.4.0") != NULL);
		CHECK_EQ(report(id, del, FW_U_INSTALLED, "2.3.0", 0, S(4), NULL, &d), FW_E_CONFLICT);
		CHECK_EQ(report(id, del, FW_U_INSTALLED, "not-a-version", 0, S(4), NULL, &d),
		         FW_E_CONFLICT);
		CHECK_EQ(report(id, del, FW_U_INSTALLED, NULL, 0, S(4), NULL, &d), FW_E_CONFLICT);
		after = row(id, del);
		CHECK(memcmp(&before, &after, sizeof(before)) == 0);
		CHECK_EQ(after.state, FW_U_DELIVERED);
		CHECK_EQ(log_size(), n);
		CHECK_EQ(fw_store_device_get(s, del, &dv, NULL, NULL, &d), FW_OK);
		CHECK(strcmp(dv.fw_version, "2.3.0") == 0);
		/* all or nothing: a good report and a bad one */
		{
			struct fw_rollout_report b[2] = {{del, FW_U_INSTALLED, NULL, "2.4.1", 0, NULL},
			                                 {pend, FW_U_FAILED, NULL, NULL, 0, NULL}};

			CHECK_EQ(fw_rollout_report(s, id, b, 2, at(S(5)), NULL, &d), FW_E_CONFLICT);
			CHECK(strstr(d.msg, "reports[1]") != NULL);
			CHECK_EQ(row(id, del).state, FW_U_DELIVERED);
			CHECK_EQ(log_size(), n);
			CHECK_EQ(fw_store_device_get(s, del, &dv, NULL, NULL, &d), FW_OK);
			CHECK(strcmp(dv.fw_version, "2.3.0") == 0);
		}
	}
	CHECK_EQ(total(id, "reports"), 0);
	CONSISTENT(id);
}

/* ---- a certificate revoked after the start ---- */

static void t_revoked(void)
{
	struct fw_rollout_result r;
	struct fw_diag d = {{0}};
	const char *a = NULL, *b = NULL;
	char id[32], ab[64], bb[64];
	json_t *dj = NULL;
	uint64_t idx;
	int i;

	fresh();
	fleet("v", 0, 6, 1, 0);
	create(id,
	       "[{\"name\":\"a\",\"size\":{\"count\":3}},{\"name\":\"b\",\"size\":{\"percent\":100}}]",
	       "", RB_NONE, 1);
	start(id, 0);
	for (i = 0; i < 6; i++) {
		struct fw_rollout_row x = row(id, dev("v", i));

		if (x.stage == 0 && a == NULL)
			a = strcpy(ab, dev("v", i));
		if (x.stage == 1 && b == NULL)
			b = strcpy(bb, dev("v", i));
	}
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	CHECK(check_offer(a, S(1), id, rel_id, 0, 1));
	CHECK_EQ(fw_registry_cert_revoke(s, a, "key leaked", "sec", &idx, &d), FW_OK);
	CHECK_EQ(fw_registry_cert_revoke(s, b, "key leaked", "sec", &idx, &d), FW_OK);
	/* not offered, and a delivered report is stopped */
	OFFER_NONE(a, S(2));
	r = STEP(id, a, FW_U_DELIVERED, NULL, 0, S(2), FW_REPORT_STOPPED);
	CHECK_EQ(r.from, FW_U_ELIGIBLE);
	CHECK_EQ(r.to, FW_U_INELIGIBLE);
	CHECK(r.reasons & BIT(FW_R_CERT_REVOKED));
	CHECK_EQ(row(id, a).state, FW_U_INELIGIBLE);
	CHECK_EQ(row(id, a).reasons, r.reasons);
	CHECK_EQ(row(id, a).attempts, 0);
	CHECK_EQ(nrec("rollout.device", a, "ineligible"), 1);
	CHECK_EQ(fw_rollout_device(s, id, a, &dj, &d), FW_OK);
	CHECK(strcmp(js(json_array_get(json_object_get(dj, "reasons"), 0)),
	             "cert.revoked") == 0);
	json_decref(dj);
	/* it is terminal: a second delivered report is refused */
	CHECK_EQ(report(id, a, FW_U_DELIVERED, NULL, 0, S(3), NULL, &d), FW_E_CONFLICT);
	/* the rest of stage a installs; b starts without the revoked device */
	for (i = 0; i < 6; i++) {
		const char *x = dev("v", i);

		if (strcmp(x, a) != 0 && row(id, x).stage == 0) {
			DELIVER(id, x, S(3));
			INSTALL(id, x, S(4));
		}
	}
	tick(id, S(5));
	CHECK_EQ(stage_index(id), 1);
	CHECK_EQ(row(id, b).state, FW_U_INELIGIBLE);
	CHECK(row(id, b).reasons & BIT(FW_R_CERT_REVOKED));
	CHECK_EQ(stage_count(id, 1, "ineligible"), 1);
	CHECK_EQ(stage_count(id, 1, "eligible"), 2);
	OFFER_NONE(b, S(6));
	CONSISTENT(id);
}

/* ---- duplicate and late reports ---- */

static void t_duplicates(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	char id[32], more[200];
	const char *x = dev("u", 0), *y = dev("u", 1);
	json_t *rec = NULL;
	uint64_t n;

	fresh();
	fleet("u", 0, 3, 1, 0);
	snprintf(more, sizeof(more), ",\"pause\":{%s}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	r = DELIVER(id, x, S(1));
	CHECK_EQ(r.from, FW_U_ELIGIBLE);
	CHECK_EQ(r.to, FW_U_DELIVERED);
	CHECK_EQ(row(id, x).rec, r.idx);
	n = log_size();
	r = STEP(id, x, FW_U_DELIVERED, NULL, 0, S(2), FW_REPORT_DUPLICATE);
	CHECK_EQ(r.from, FW_U_DELIVERED);
	CHECK_EQ(r.to, FW_U_DELIVERED);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(row(id, x).attempts, 1);
	CHECK_EQ(row(id, x).due_ms, T0 + S(1) + S(86400)); /* the deadline did not move */
	r = INSTALL(id, x, S(3));
	CHECK_EQ(r.to, FW_U_INSTALLED);
	/* installed: the registry runs the release now, and the audit agrees */
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.fw_version, "2.4.1") == 0);
	CHECK_EQ(dv.rec, r.idx);
	CHECK_EQ(nrec_last("rollout.device", x, "installed", &rec), 1);
	CHECK(json_is_string(json_object_get(rec, "row_sha256")));
	json_decref(rec);
	CHECK_EQ(audit_findings(), 0);
	n = log_size();
	STEP(id, x, FW_U_INSTALLED, "2.4.1", 0, S(4), FW_REPORT_DUPLICATE);
	STEP(id, x, FW_U_INSTALLED, "2.4.1", 0, S(4), FW_REPORT_DUPLICATE);
	STEP(id, x, FW_U_DELIVERED, NULL, 0, S(5), FW_REPORT_LATE);
	STEP(id, x, FW_U_FAILED, NULL, 0, S(5), FW_REPORT_LATE);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(total(id, "reports"), 1);
	CHECK_EQ(total(id, "failures"), 0);
	/* failed twice */
	DELIVER(id, y, S(1));
	FAIL(id, y, S(2));
	n = log_size();
	STEP(id, y, FW_U_FAILED, NULL, 0, S(3), FW_REPORT_DUPLICATE);
	STEP(id, y, FW_U_DELIVERED, NULL, 0, S(4), FW_REPORT_LATE); /* backoff not over */
	CHECK_EQ(log_size(), n);
	CHECK_EQ(total(id, "failures"), 1);
	CHECK_EQ(total(id, "reports"), 2);
	CHECK_EQ(row(id, y).failures, 1);
	CONSISTENT(id);
}

/* A device that falls back by itself (rolled_back while the campaign
 * runs), with its version, on a failure that quarantines it. */
static void t_fallback(void)
{
	struct fw_rollout_result r;
	struct fw_device_row dv;
	struct fw_diag d = {{0}};
	char id[32], more[300];
	const char *x = dev("f", 0);

	fresh();
	fleet("f", 0, 3, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":1}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(1));
	r = STEP(id, x, FW_U_ROLLED_BACK, "2.3.1", 0, S(2), FW_REPORT_APPLIED);
	CHECK_EQ(r.to, FW_U_ROLLED_BACK);
	CHECK_EQ(r.quarantined, 1);
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.fw_version, "2.3.1") == 0);
	CHECK(strcmp(dv.lifecycle, "quarantined") == 0);
	CHECK_EQ(total(id, "failures"), 1);
	CONSISTENT(id);
	/* an installed device that falls back: one report, one failure */
	x = dev("f", 1);
	DELIVER(id, x, S(1));
	INSTALL(id, x, S(2));
	r = STEP(id, x, FW_U_ROLLED_BACK, "2.3.0", 0, S(3), FW_REPORT_APPLIED);
	CHECK_EQ(r.from, FW_U_INSTALLED);
	CHECK_EQ(total(id, "failures"), 2);
	CHECK_EQ(total(id, "reports"), 2);
	CHECK_EQ(fw_store_device_get(s, x, &dv, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(dv.fw_version, "2.3.0") == 0);
	CONSISTENT(id);
}

/* ---- two processes reporting for the same devices ---- */

#define KIDS_DEVICES 6
#define KIDS_ROUNDS 10

/* In a child: open the store and report, for every device and round,
 * delivered then kind; exit with the number of applied reports of kind
 * (100 + an error). */
static void kid(const char *db, const char *id, int kind, int gate)
{
	struct fw_store *ks = NULL;
	struct fw_diag d = {{0}};
	char c;
	int i, k, applied = 0;

	if (read(gate, &c, 1) < 0)
		_exit(101);
	if (fw_store_open(db, 0, &ks, &d) != FW_OK) {
		fprintf(stderr, "kid open: %s\n", d.msg);
		_exit(102);
	}
	for (k = 0; k < KIDS_ROUNDS; k++)
		for (i = 0; i < KIDS_DEVICES; i++) {
			/* the two go through the devices in opposite orders and meet */
			int x = kind == FW_U_INSTALLED ? i : KIDS_DEVICES - 1 - i;
			struct fw_rollout_report r[2] = {
			    {dev("k", x), FW_U_DELIVERED, NULL, NULL, 0, NULL},
			    {dev("k", x), kind, NULL, kind == FW_U_INSTALLED ? "2.4.1" : NULL, 0, NULL}};
			struct fw_rollout_result res;
			int j, rc;

			for (j = 0; j < 2; j++) {
				rc = fw_rollout_report(ks, id, &r[j], 1, at(S(2 + k)), &res, &d);
				if (rc != FW_OK) {
					fprintf(stderr, "kid %s %s: rc %d: %s\n", r[j].device,
					        fw_update_state_name(r[j].status), rc, d.msg);
					_exit(103);
				}
				if (j == 0 && res.outcome == FW_REPORT_APPLIED)
					_exit(104); /* delivered before the children started */
				if (j == 1 && res.outcome == FW_REPORT_APPLIED)
					applied++;
				/* let the other one in: SQLite's busy handler sleeps while it
				 * waits, and would otherwise find the race decided */
				usleep(1500);
			}
		}
	fw_store_close(ks);
	_exit(applied);
}

static void t_concurrent(void)
{
	struct fw_diag d = {{0}};
	char id[32], db[sizeof(s->path)], more[200];
	int gate[2], i, code[2], nfail = 0;
	pid_t pid[2];
	json_t *st;

	fresh();
	fleet("k", 0, KIDS_DEVICES, 1, 0);
	snprintf(more, sizeof(more), ",\"pause\":{%s}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	for (i = 0; i < KIDS_DEVICES; i++)
		DELIVER(id, dev("k", i), S(1));
	snprintf(db, sizeof(db), "%s", s->path);
	close_store();
	CHECK_EQ(pipe(gate), 0);
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			close(gate[1]);
			kid(db, id, i == 0 ? FW_U_INSTALLED : FW_U_FAILED, gate[0]);
		}
		CHECK(pid[i] > 0);
	}
	close(gate[0]);
	close(gate[1]); /* both go */
	for (i = 0; i < 2; i++) {
		int ws = 0;

		CHECK_EQ(waitpid(pid[i], &ws, 0), pid[i]);
		CHECK(WIFEXITED(ws));
		code[i] = WIFEXITED(ws) ? WEXITSTATUS(ws) : 255;
		CHECK(code[i] <= KIDS_DEVICES);
	}
	CHECK_EQ(fw_store_open(db, 0, &s, &d), FW_OK);
	/* each device: delivered -> installed, or delivered -> failed -> installed
	 * (late), one record per step */
	for (i = 0; i < KIDS_DEVICES; i++) {
		struct fw_rollout_row r = row(id, dev("k", i));
		int recs = nrec("rollout.device", dev("k", i), NULL);

		CHECK_EQ(r.state, FW_U_INSTALLED);
		CHECK_EQ(r.attempts, 1);
		CHECK(r.failures <= 1);
		CHECK_EQ(recs, 3 + (int)r.failures); /* eligible, delivered, [failed,] installed */
		CHECK_EQ(nrec("rollout.device", dev("k", i), "installed"), 1);
		nfail += (int)r.failures;
	}
	CHECK_EQ(code[0], KIDS_DEVICES); /* one installed transition per device */
	CHECK_EQ(code[1], nfail);        /* one failed transition at most per device */
	st = status(id, S(100));
	CHECK_EQ(json_integer_value(json_object_get(
	             json_object_get(json_array_get(json_object_get(st, "stages"), 0), "counts"),
	             "installed")),
	         KIDS_DEVICES);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "totals"), "failures")),
	         nfail);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "totals"), "reports")),
	         KIDS_DEVICES);
	json_decref(st);
	CONSISTENT(id);
	printf("  concurrent: %d of %d devices failed before they installed\n", nfail,
	       KIDS_DEVICES);
}

/* ---- stage membership by stable hash ---- */

__extension__ typedef unsigned __int128 u128;

/* SHA-256 by OpenSSL directly, not through fwtrust's wrapper */
static uint64_t hash_ref(const char *campaign, const char *device)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "fwtrust-stage/v1\n%s\n%s", campaign, device);
	uint64_t v = 0;
	int i;

	CHECK_EQ(EVP_Digest(buf, (size_t)n, md, &len, EVP_sha256(), NULL), 1);
	for (i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v;
}

/* h is below percent% of 2^64 */
static int under(uint64_t h, unsigned percent)
{
	return (u128)h * 100 < (u128)percent << 64;
}

#define HASH_DEVICES 300

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void t_stage_hash(void)
{
	static int stage_a[HASH_DEVICES];
	uint64_t sizes[3] = {0}, h[HASH_DEVICES];
	char id[32];
	json_t *st, *rec = NULL;
	int i, k;

	/* the rule, by an independent SHA-256 */
	CHECK_EQ(fw_rollout_stage_hash("c-0001", "h-000"), hash_ref("c-0001", "h-000"));
	CHECK(fw_rollout_stage_hash("c-0001", "h-000") != fw_rollout_stage_hash("c-0002", "h-000"));

	fresh();
	fleet("hs", 0, HASH_DEVICES, 1, 0);
	fleet("nocert", 0, 3, 0, 0);
	create(id,
	       "[{\"name\":\"p1\",\"size\":{\"percent\":1}},{\"name\":\"p10\",\"size\":{\"percent\":10}},"
	       "{\"name\":\"all\",\"size\":{\"percent\":100}}]",
	       "", RB_NONE, 1);
	CHECK(strcmp(id, "c-0001") == 0);
	start(id, 0);
	for (i = 0; i < HASH_DEVICES; i++) {
		int want;

		h[i] = hash_ref(id, dev("hs", i));
		CHECK_EQ(fw_rollout_stage_hash(id, dev("hs", i)), h[i]);
		want = under(h[i], 1) ? 0 : under(h[i], 10) ? 1 : 2;
		sizes[want]++;
		stage_a[i] = (int)row(id, dev("hs", i)).stage;
		if (stage_a[i] != want)
			harness_fail(__FILE__, __LINE__, "%s: stage %d, the hash says %d", dev("hs", i),
			             stage_a[i], want);
	}
	printf("  stage sizes of %d devices at 1%%/10%%/100%%: %llu %llu %llu\n", HASH_DEVICES,
	       (unsigned long long)sizes[0], (unsigned long long)sizes[1],
	       (unsigned long long)sizes[2]);
	CHECK(sizes[0] >= 1); /* the test means something */
	CHECK(sizes[1] >= 10);
	st = status(id, 0);
	for (k = 0; k < 3; k++)
		CHECK_EQ(json_integer_value(json_object_get(
		             json_array_get(json_object_get(st, "stages"), (size_t)k), "devices")),
		         sizes[k]);
	json_decref(st);
	CHECK_EQ(nrec_last("campaign.start", NULL, NULL, &rec), 1);
	for (k = 0; k < 3; k++)
		CHECK_EQ(json_integer_value(json_array_get(json_object_get(rec, "stage_sizes"),
		                                           (size_t)k)),
		         sizes[k]);
	CHECK_EQ(json_integer_value(json_object_get(rec, "members")), HASH_DEVICES + 3);
	CHECK_EQ(json_integer_value(json_object_get(rec, "ineligible")), 3);
	json_decref(rec);
	/* devices ineligible at the start get no stage */
	for (i = 0; i < 3; i++) {
		struct fw_rollout_row r = row(id, dev("nocert", i));

		CHECK_EQ(r.stage, FW_ROLLOUT_NO_STAGE);
		CHECK_EQ(r.state, FW_U_INELIGIBLE);
		CHECK(r.reasons & BIT(FW_R_CERT_MISSING));
	}
	CHECK_EQ(stage_count(id, 0, "eligible"), sizes[0]);
	CONSISTENT(id);

	/* the same campaign id in a fresh store, the fleet written in another
	 * order (and with other certificates): the same stages */
	fresh();
	fleet("hs", 0, HASH_DEVICES, 1, 1);
	create(id,
	       "[{\"name\":\"p1\",\"size\":{\"percent\":1}},{\"name\":\"p10\",\"size\":{\"percent\":10}},"
	       "{\"name\":\"all\",\"size\":{\"percent\":100}}]",
	       "", RB_NONE, 1);
	CHECK(strcmp(id, "c-0001") == 0);
	start(id, S(3600));
	for (i = 0; i < HASH_DEVICES; i++)
		if ((int)row(id, dev("hs", i)).stage != stage_a[i])
			harness_fail(__FILE__, __LINE__, "%s: stage %u in the second store, %d in the first",
			             dev("hs", i), row(id, dev("hs", i)).stage, stage_a[i]);
	/* a count stage takes the next devices in hash order */
	create(id,
	       "[{\"name\":\"five\",\"size\":{\"count\":5}},{\"name\":\"half\",\"size\":{\"percent\":50}},"
	       "{\"name\":\"all\",\"size\":{\"percent\":100}}]",
	       "", RB_NONE, 1);
	CHECK(strcmp(id, "c-0002") == 0);
	start(id, S(3600));
	{
		uint64_t hs[HASH_DEVICES];

		for (i = 0; i < HASH_DEVICES; i++)
			hs[i] = hash_ref(id, dev("hs", i));
		qsort(hs, HASH_DEVICES, sizeof(hs[0]), cmp_u64);
		memset(sizes, 0, sizeof(sizes));
		for (i = 0; i < HASH_DEVICES; i++) {
			uint64_t x = hash_ref(id, dev("hs", i));
			int want = x <= hs[4] ? 0 : under(x, 50) ? 1 : 2; /* the five smallest, then 50% */

			sizes[want]++;
			if ((int)row(id, dev("hs", i)).stage != want)
				harness_fail(__FILE__, __LINE__, "%s: stage %u, expected %d", dev("hs", i),
				             row(id, dev("hs", i)).stage, want);
		}
		CHECK_EQ(sizes[0], 5);
		CHECK(hs[4] < hs[5]);
	}
	CONSISTENT(id);
}

/* ---- stages advance by tick; completion; the status document ---- */

static void t_advance_complete(void)
{
	struct fw_diag d = {{0}};
	char id[32], more[300], s0[4][64], s1[2][64], s2[8][64];
	int n0 = 0, n1 = 0, n2 = 0, i;
	json_t *st, *rec = NULL;

	fresh();
	fleet("s", 0, 10, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"success_threshold\":75,\"pause\":{%s},\"retry\":{\"max_attempts\":1}", NO_RATE);
	create(id,
	       "[{\"name\":\"first\",\"size\":{\"count\":4},\"soak_s\":3600},"
	       "{\"name\":\"second\",\"size\":{\"count\":2},\"soak_s\":600},"
	       "{\"name\":\"rest\",\"size\":{\"percent\":100}}]",
	       more, RB_NONE, 1);
	start(id, 0);
	for (i = 0; i < 10; i++) {
		struct fw_rollout_row r = row(id, dev("s", i));

		if (r.stage == 0 && n0 < 4)
			strcpy(s0[n0++], r.device);
		else if (r.stage == 1 && n1 < 2)
			strcpy(s1[n1++], r.device);
		else if (r.stage == 2 && n2 < 8)
			strcpy(s2[n2++], r.device);
	}
	CHECK_EQ(n0, 4);
	CHECK_EQ(n1, 2);
	CHECK_EQ(n2, 4);
	if (n0 != 4 || n1 != 2 || n2 != 4)
		return;
	st = status(id, S(100));
	CHECK(strcmp(js(json_object_get(st, "state")), "running") == 0);
	CHECK_EQ(json_integer_value(json_object_get(
	             json_array_get(json_object_get(st, "stages"), 0), "soak_left_s")),
	         3500);
	CHECK(strstr(js(json_object_get(st, "next")), "soaks for 3500 s more") != NULL);
	CHECK(strcmp(js(json_object_get(
	                 json_array_get(json_object_get(st, "stages"), 1), "status")),
	             "not_started") == 0);
	json_decref(st);
	for (i = 0; i < 3; i++)
		DELIVER(id, s0[i], S(10));
	INSTALL(id, s0[0], S(20));
	INSTALL(id, s0[1], S(20));
	/* soaked, but 2 of 4 installed is under 75% */
	tick(id, S(3600));
	tick(id, S(7200));
	CHECK_EQ(stage_index(id), 0);
	st = status(id, S(7200));
	CHECK(strstr(js(json_object_get(st, "next")), "2 of 4 devices installed") !=
	      NULL);
	CHECK_EQ(json_integer_value(json_object_get(
	             json_array_get(json_object_get(st, "stages"), 0), "installed_permille")),
	         500);
	json_decref(st);
	CHECK_EQ(stage_count(id, 1, "pending"), 2);
	/* 3 of 4 is 75%: the next tick advances */
	INSTALL(id, s0[2], S(7300));
	CHECK_EQ(stage_index(id), 0); /* reports do not advance stages */
	tick(id, S(7300));
	CHECK_EQ(stage_index(id), 1);
	CHECK_EQ(stage_count(id, 1, "eligible"), 2);
	/* the second stage: success at once, but it soaks 600 s */
	for (i = 0; i < 2; i++) {
		DELIVER(id, s1[i], S(7301));
		INSTALL(id, s1[i], S(7302));
	}
	tick(id, S(7300 + 600) - 1);
	CHECK_EQ(stage_index(id), 1);
	tick(id, S(7300 + 600));
	CHECK_EQ(stage_index(id), 2);
	CHECK_EQ(nrec("campaign.stage", NULL, NULL), 3);
	/* the last stage: three install, one fails for good (one attempt) */
	for (i = 0; i < 4; i++)
		DELIVER(id, s2[i], S(8000));
	INSTALL(id, s2[0], S(8001));
	INSTALL(id, s2[1], S(8001));
	FAIL(id, s2[2], S(8001));
	CHECK_EQ(row(id, s2[2]).due_ms, FINAL_DUE);
	tick(id, S(8002));
	CHECK(strcmp(cstate(id), "running") == 0); /* s2[3] is in flight */
	INSTALL(id, s2[3], S(8003));
	/* s0[3] never took its delivery: still in flight */
	tick(id, S(8004));
	CHECK(strcmp(cstate(id), "running") == 0);
	st = status(id, S(8004));
	CHECK_EQ(json_integer_value(json_object_get(st, "in_flight")), 1);
	CHECK(strstr(js(json_object_get(st, "next")), "1 device(s) not done yet") != NULL);
	CHECK_EQ(json_integer_value(json_object_get(
	             json_object_get(json_array_get(json_object_get(st, "stages"), 2), "counts"),
	             "failed")),
	         1);
	CHECK(strcmp(js(json_object_get(
	                 json_array_get(json_object_get(st, "stages"), 0), "status")),
	             "done") == 0);
	json_decref(st);
	CONSISTENT(id);
	DELIVER(id, s0[3], S(9000));
	INSTALL(id, s0[3], S(9001));
	CHECK(strcmp(cstate(id), "running") == 0); /* completion is the tick's */
	/* every device is terminal and the last stage met its threshold */
	tick(id, S(9002));
	CHECK(strcmp(cstate(id), "completed") == 0);
	CHECK_EQ(nrec_last("campaign.complete", NULL, NULL, &rec), 1);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(rec, "totals"), "failures")), 1);
	json_decref(rec);
	st = status(id, S(9003));
	CHECK_EQ(json_integer_value(json_object_get(st, "in_flight")), 0);
	CHECK_EQ(json_integer_value(json_object_get(st, "ended_ms")), T0 + S(9002));
	CHECK(strstr(js(json_object_get(st, "next")), "completed") != NULL);
	json_decref(st);
	/* no reports, no pause after the end; a tick does nothing */
	CHECK_EQ(report(id, s0[3], FW_U_INSTALLED, "2.4.1", 0, S(9004), NULL, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_rollout_pause(s, id, "olga", NULL, at(S(9004)), NULL, &d), FW_E_CONFLICT);
	tick(id, S(9005));
	CHECK_EQ(nrec("campaign.complete", NULL, NULL), 1);
	CONSISTENT(id);
}

/* The last stage, too, soaks and meets its threshold before the campaign
 * completes (docs/campaigns.md): all devices done is not enough. */
static void t_last_stage(void)
{
	struct fw_diag d = {{0}};
	char id[32], more[300];
	json_t *st, *doc = NULL;
	int i;

	fresh();
	fleet("l", 0, 4, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"success_threshold\":75,\"pause\":{%s},\"retry\":{\"max_attempts\":1}", NO_RATE);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	for (i = 0; i < 4; i++)
		DELIVER(id, dev("l", i), S(1));
	INSTALL(id, dev("l", 0), S(2));
	INSTALL(id, dev("l", 1), S(2));
	FAIL(id, dev("l", 2), S(2));
	FAIL(id, dev("l", 3), S(2));
	tick(id, S(3));
	CHECK(strcmp(cstate(id), "running") == 0);
	st = status(id, S(3));
	CHECK_EQ(json_integer_value(json_object_get(st, "in_flight")), 0);
	CHECK(strstr(js(json_object_get(st, "next")), "2 of 4 devices installed") != NULL);
	json_decref(st);
	CONSISTENT(id);
	/* an operator ends it */
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 0, "half failed", at(S(4)), &doc, &d), FW_OK);
	CHECK(strcmp(js(json_object_get(doc, "state")), "aborted") == 0);
	drop(&doc);
	CHECK_EQ(nrec("campaign.complete", NULL, NULL), 0);

	/* the last stage soaks */
	fresh();
	fleet("l", 0, 2, 1, 0);
	create(id, "[{\"name\":\"all\",\"size\":{\"percent\":100},\"soak_s\":600}]", "",
	       RB_NONE, 1);
	start(id, 0);
	for (i = 0; i < 2; i++) {
		DELIVER(id, dev("l", i), S(1));
		INSTALL(id, dev("l", i), S(2));
	}
	tick(id, S(600) - 1);
	CHECK(strcmp(cstate(id), "running") == 0);
	tick(id, S(600));
	CHECK(strcmp(cstate(id), "completed") == 0);
	CONSISTENT(id);
}

/* Headroom when failures alone can never reach a 100% rate. */
static void t_headroom_100(void)
{
	char id[32];

	fresh();
	fleet("q", 0, 4, 1, 0);
	create(id, ONE_STAGE, ",\"pause\":{\"failure_rate\":{\"percent\":100,\"min_reports\":2}}",
	       RB_NONE, 1);
	start(id, 0);
	CHECK_EQ(headroom(id, "failure_rate"), 2);
	DELIVER(id, dev("q", 0), S(1));
	DELIVER(id, dev("q", 1), S(1));
	DELIVER(id, dev("q", 2), S(1));
	FAIL(id, dev("q", 0), S(2));
	CHECK_EQ(headroom(id, "failure_rate"), 1);
	INSTALL(id, dev("q", 1), S(2));
	/* 1 of 2 failed: more failures never make it 100% (no headroom given) */
	CHECK_EQ(headroom(id, "failure_rate"), -1);
	FAIL(id, dev("q", 2), S(3));
	CHECK(strcmp(cstate(id), "running") == 0);
	CONSISTENT(id);
}

/* ---- what the device API shows a polling device ---- */

/* fw_rollout_action for device at T0 + off, with its registry rows as
 * stored now (none for an unknown device); c NULL: a fresh cache. */
static struct fw_rollout_action action_at(int line, struct fw_rollout_cache *c,
                                          const char *device, int64_t off)
{
	struct fw_rollout_cache *own = c ? NULL : fw_rollout_cache_new();
	struct fw_rollout_action a;
	struct fw_device_row dv;
	struct fw_cert_row ct;
	struct fw_diag d = {{0}};
	int has_c = 0, known;

	memset(&dv, 0, sizeof(dv));
	memset(&ct, 0, sizeof(ct));
	memset(&a, 0x5a, sizeof(a));
	known = fw_store_device_get(s, device, &dv, &ct, &has_c, NULL) == FW_OK;
	if (c == NULL && own == NULL)
		harness_fail(__FILE__, line, "cache: out of memory");
	if (fw_rollout_action(s, c ? c : own, device, known ? &dv : NULL,
	                      known && has_c ? &ct : NULL, T0 + off, &a, &d) != FW_OK)
		harness_fail(__FILE__, line, "action %s: %s", device, d.msg);
	fw_rollout_cache_free(own);
	return a;
}
#define ACTION(c, dv, off) action_at(__LINE__, c, dv, off)

/* a is kind with action id (0: not checked), release (NULL: none) and
 * rollback; attempt when deploying */
static int is_action(const struct fw_rollout_action *a, int kind, const char *campaign,
                     uint64_t id, const char *release, const char *version, int rollback,
                     uint32_t attempt)
{
	if (a->kind != kind)
		return 0;
	if (kind == FW_ACTION_NONE)
		return a->id == 0 && a->campaign[0] == 0 && a->release[0] == 0;
	return strcmp(a->campaign, campaign) == 0 && a->id == id &&
	       strcmp(a->release, release) == 0 && strcmp(a->version, version) == 0 &&
	       a->rollback == rollback && a->attempt == attempt;
}
#define DEPLOYS(a, c, id, att) CHECK(is_action(&(a), FW_ACTION_DEPLOY, c, id, rel_id, "2.4.1", 0, att))
#define CANCELS(a, c, id, att) CHECK(is_action(&(a), FW_ACTION_CANCEL, c, id, rel_id, "2.4.1", 0, att))
#define NOTHING(a) CHECK(is_action(&(a), FW_ACTION_NONE, NULL, 0, NULL, NULL, 0, 0))

static int same_action(const struct fw_rollout_action *x, const struct fw_rollout_action *y)
{
	return x->kind == y->kind && x->id == y->id && strcmp(x->campaign, y->campaign) == 0 &&
	       strcmp(x->release, y->release) == 0 && strcmp(x->version, y->version) == 0 &&
	       x->rollback == y->rollback && x->attempt == y->attempt && x->state == y->state &&
	       x->reasons == y->reasons;
}

static long long top(const char *id, const char *key)
{
	json_t *st = status(id, 0);
	long long v = json_integer_value(json_object_get(st, key));

	json_decref(st);
	return v;
}

static void t_action(void)
{
	struct fw_rollout_action a;
	struct fw_device_row dv, stale;
	struct fw_cert_row ct, stale_c;
	struct fw_diag d = {{0}};
	char id[32], more[300], xs[8][64], pend[64] = "", cname[32];
	uint32_t attempt;
	int i, n = 0, has_c = 0, rb;
	uint64_t idx;

	fresh();
	fleet("a", 0, 12, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":3,\"backoff_s\":600}", NO_RATE);
	create(id,
	       "[{\"name\":\"a\",\"size\":{\"count\":6}},{\"name\":\"b\",\"size\":{\"percent\":100}}]",
	       more, RB_NONE, 1);
	CHECK(strcmp(id, "c-0001") == 0);
	/* not started: nothing */
	a = ACTION(NULL, dev("a", 0), S(0));
	NOTHING(a);
	CHECK_EQ(a.reasons, 0);
	start(id, 0);
	fleet("n", 0, 1, 1, 0); /* in no campaign */
	for (i = 0; i < 12; i++) {
		const char *x = dev("a", i);

		if (row(id, x).stage == 0 && n < 6)
			strcpy(xs[n++], x);
		else if (row(id, x).stage == 1 && pend[0] == 0)
			strcpy(pend, x);
	}
	CHECK_EQ(n, 6);
	CHECK(pend[0] != 0);
	if (n != 6 || pend[0] == 0)
		return;
	/* eligible: the release, as fw_rollout_offer has it */
	a = ACTION(NULL, xs[0], S(1));
	DEPLOYS(a, id, 101, 1);
	CHECK_EQ(a.state, FW_U_ELIGIBLE);
	CHECK_EQ(a.reasons, 0);
	CHECK(check_offer(xs[0], S(1), id, a.release, a.rollback, a.attempt));
	/* delivered: the same attempt, same id */
	DELIVER(id, xs[0], S(1));
	a = ACTION(NULL, xs[0], S(2));
	DEPLOYS(a, id, 101, 1);
	CHECK_EQ(a.state, FW_U_DELIVERED);
	/* installed */
	INSTALL(id, xs[0], S(3));
	a = ACTION(NULL, xs[0], S(4));
	CHECK(is_action(&a, FW_ACTION_INSTALLED, id, 101, rel_id, "2.4.1", 0, 1));
	CHECK_EQ(a.state, FW_U_INSTALLED);
	/* nothing for a device in no campaign, a pending one, an unknown one */
	a = ACTION(NULL, dev("n", 0), S(4));
	NOTHING(a);
	a = ACTION(NULL, pend, S(4));
	NOTHING(a);
	CHECK_EQ(row(id, pend).state, FW_U_PENDING);
	a = ACTION(NULL, "nobody-here", S(4));
	NOTHING(a);
	/* failed: the retry after the backoff, as the next attempt */
	DELIVER(id, xs[1], S(10));
	FAIL(id, xs[1], S(20));
	CHECK_EQ(row(id, xs[1]).due_ms, T0 + S(620));
	a = ACTION(NULL, xs[1], S(620) - 1);
	NOTHING(a);
	OFFER_NONE(xs[1], S(620) - 1);
	a = ACTION(NULL, xs[1], S(620));
	DEPLOYS(a, id, 102, 2);
	CHECK_EQ(a.state, FW_U_FAILED);
	CHECK(check_offer(xs[1], S(620), id, rel_id, 0, 2));
	/* eligibility is decided at the poll, from the rows passed */
	CHECK_EQ(fw_store_device_get(s, xs[2], &stale, &stale_c, &has_c, &d), FW_OK);
	CHECK_EQ(has_c, 1);
	CHECK_EQ(fw_registry_cert_revoke(s, xs[2], "key leaked", "sec", &idx, &d), FW_OK);
	a = ACTION(NULL, xs[2], S(30));
	NOTHING(a);
	CHECK(a.reasons & BIT(FW_R_CERT_REVOKED));
	CHECK_EQ(row(id, xs[2]).state, FW_U_ELIGIBLE); /* read only */
	{
		struct fw_rollout_cache *c = fw_rollout_cache_new();

		CHECK(c != NULL);
		/* the rows as the caller read them before the revocation */
		CHECK_EQ(fw_rollout_action(s, c, xs[2], &stale, &stale_c, T0 + S(30), &a, &d), FW_OK);
		DEPLOYS(a, id, 101, 1);
		/* no certificate at all */
		CHECK_EQ(fw_rollout_action(s, c, xs[3], &stale, NULL, T0 + S(30), &a, &d), FW_OK);
		NOTHING(a);
		CHECK(a.reasons != 0);
		fw_rollout_cache_free(c);
	}
	CHECK_EQ(fw_registry_device_lifecycle(s, xs[3], "quarantined", "test", "sec", &idx, &d),
	         FW_OK);
	CHECK_EQ(fw_store_device_get(s, xs[3], &dv, &ct, &has_c, &d), FW_OK);
	a = ACTION(NULL, xs[3], S(30));
	NOTHING(a);
	CHECK(a.reasons & BIT(FW_R_LC_QUARANTINED));
	CHECK(!(a.reasons & BIT(FW_R_CERT_REVOKED)));
	/* paused: the delivered device is told to cancel, eligible ones get nothing */
	DELIVER(id, xs[4], S(40));
	CHECK_EQ(fw_rollout_pause(s, id, "olga", "look", at(S(50)), NULL, &d), FW_OK);
	a = ACTION(NULL, xs[4], S(51));
	CANCELS(a, id, 101, 1);
	CHECK_EQ(a.state, FW_U_DELIVERED);
	a = ACTION(NULL, xs[5], S(51));
	NOTHING(a);
	a = ACTION(NULL, xs[1], S(651)); /* its retry is due, but not while paused */
	NOTHING(a);
	a = ACTION(NULL, xs[0], S(51));
	CHECK_EQ(a.kind, FW_ACTION_INSTALLED);
	/* resumed */
	CHECK_EQ(fw_rollout_resume(s, id, "olga", "ok", at(S(60)), NULL, &d), FW_OK);
	a = ACTION(NULL, xs[4], S(61));
	DEPLOYS(a, id, 101, 1);
	a = ACTION(NULL, xs[5], S(61));
	DEPLOYS(a, id, 101, 1);
	CHECK_EQ(a.state, FW_U_ELIGIBLE);
	/* aborted: the delivered device is told to cancel */
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 0, "stop", at(S(70)), NULL, &d), FW_OK);
	a = ACTION(NULL, xs[4], S(71));
	CANCELS(a, id, 101, 1);
	a = ACTION(NULL, xs[5], S(71));
	NOTHING(a);
	a = ACTION(NULL, xs[1], S(700));
	NOTHING(a);
	CONSISTENT(id);

	/* rolled back: the rollback release to who received the release */
	fresh();
	fleet("r", 0, 4, 1, 0);
	create(id, ONE_STAGE, more, RB_MANUAL, 1);
	start(id, 0);
	DELIVER(id, dev("r", 0), S(1));
	DELIVER(id, dev("r", 1), S(1));
	INSTALL(id, dev("r", 1), S(2));
	DELIVER(id, dev("r", 2), S(1));
	FAIL(id, dev("r", 2), S(2));
	a = ACTION(NULL, dev("r", 1), S(3));
	CHECK_EQ(a.kind, FW_ACTION_INSTALLED);
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 1, "bad", at(S(4)), NULL, &d), FW_OK);
	for (i = 0; i < 3; i++) {
		a = ACTION(NULL, dev("r", i), S(5));
		CHECK(is_action(&a, FW_ACTION_DEPLOY, id, 199, rb_id, "2.3.9", 1, 0));
		CHECK(check_offer(dev("r", i), S(5), id, rb_id, 1, 1));
	}
	CHECK_EQ(ACTION(NULL, dev("r", 0), S(5)).state, FW_U_DELIVERED);
	CHECK_EQ(ACTION(NULL, dev("r", 1), S(5)).state, FW_U_INSTALLED);
	CHECK_EQ(ACTION(NULL, dev("r", 2), S(5)).state, FW_U_FAILED);
	a = ACTION(NULL, dev("r", 3), S(5)); /* never received it */
	NOTHING(a);
	CONSISTENT(id);

	/* the ids */
	CHECK_EQ(fw_rollout_action_id("c-0001", 3, 0), 103);
	CHECK_EQ(fw_rollout_action_id("c-0001", 3, 1), 199);
	CHECK_EQ(fw_rollout_action_id("c-0012", 1, 0), 1201);
	CHECK_EQ(fw_rollout_action_id("x-1", 1, 0), 0);
	CHECK_EQ(fw_rollout_action_id("c-", 1, 0), 0);
	CHECK_EQ(fw_rollout_action_id("c-1x", 1, 0), 0);
	memset(cname, 'z', sizeof(cname));
	attempt = 77;
	rb = 77;
	CHECK_EQ(fw_rollout_action_parse(199, cname, sizeof(cname), &attempt, &rb), FW_OK);
	CHECK(strcmp(cname, "c-0001") == 0);
	CHECK_EQ(rb, 1);
	CHECK_EQ(attempt, 0);
	CHECK_EQ(fw_rollout_action_parse(1203, cname, sizeof(cname), &attempt, &rb), FW_OK);
	CHECK(strcmp(cname, "c-0012") == 0);
	CHECK_EQ(rb, 0);
	CHECK_EQ(attempt, 3);
	CHECK_EQ(fw_rollout_action_parse(110, cname, sizeof(cname), &attempt, &rb), FW_OK);
	CHECK_EQ(attempt, 10);
	CHECK_EQ(fw_rollout_action_parse(0, cname, sizeof(cname), &attempt, &rb), FW_E_NOT_FOUND);
	CHECK_EQ(fw_rollout_action_parse(100, cname, sizeof(cname), &attempt, &rb), FW_E_NOT_FOUND);
	CHECK_EQ(fw_rollout_action_parse(111, cname, sizeof(cname), &attempt, &rb), FW_E_NOT_FOUND);
	CHECK_EQ(fw_rollout_action_parse(99, cname, sizeof(cname), &attempt, &rb), FW_E_NOT_FOUND);
}

#define NCAMP 10
/* a cached answer is the answer of a fresh cache */
static struct fw_rollout_action cached_same(int line, struct fw_rollout_cache *c,
                                            const char *device, int64_t off)
{
	struct fw_rollout_action x = action_at(line, c, device, off);
	struct fw_rollout_action y = action_at(line, NULL, device, off);

	if (!same_action(&x, &y))
		harness_fail(__FILE__, line, "%s: cached kind %d id %llu, fresh kind %d id %llu",
		             device, x.kind, (unsigned long long)x.id, y.kind,
		             (unsigned long long)y.id);
	return x;
}
#define CACHED(c, dv, off) cached_same(__LINE__, c, dv, off)

static void t_action_cache(void)
{
	struct fw_rollout_cache *c = fw_rollout_cache_new();
	struct fw_rollout_action a;
	struct fw_diag d = {{0}};
	char ids[NCAMP][32], more[300];
	json_t *doc = NULL;
	uint64_t idx;
	int k, round;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	fresh();
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":3,\"backoff_s\":600}", NO_RATE);
	/* m-00k is a member of campaigns k.. (imported before they start):
	 * its first campaign is k, so polling them in turn reads all ten */
	for (k = 0; k < NCAMP; k++) {
		fleet("m", k, 1, 1, 0);
		create(ids[k], ONE_STAGE, more, RB_MANUAL, 1);
		start(ids[k], 0);
	}
	for (round = 0; round < 3; round++)
		for (k = 0; k < NCAMP; k++) {
			a = CACHED(c, dev("m", k), S(1));
			DEPLOYS(a, ids[k], (uint64_t)(k + 1) * 100 + 1, 1);
		}
	/* changes seen at the next call with the same cache */
	for (k = 0; k < NCAMP; k += 2)
		DELIVER(ids[k], dev("m", k), S(2));
	INSTALL(ids[4], dev("m", 4), S(3));
	FAIL(ids[6], dev("m", 6), S(3));
	for (k = 0; k < NCAMP; k++)
		a = CACHED(c, dev("m", k), S(4));
	a = CACHED(c, dev("m", 4), S(4));
	CHECK(is_action(&a, FW_ACTION_INSTALLED, ids[4], 501, rel_id, "2.4.1", 0, 1)); /* it runs 2.4.1: nothing from 5 */
	a = CACHED(c, dev("m", 6), S(4));
	DEPLOYS(a, ids[7], 801, 1); /* 6 waits for its retry; 7 is offered */
	a = CACHED(c, dev("m", 6), S(603));
	DEPLOYS(a, ids[6], 702, 2);
	a = CACHED(c, dev("m", 2), S(4));
	DEPLOYS(a, ids[2], 301, 1);
	CHECK_EQ(a.state, FW_U_DELIVERED);
	/* pause and resume */
	CHECK_EQ(fw_rollout_pause(s, ids[2], "olga", NULL, at(S(5)), NULL, &d), FW_OK);
	a = CACHED(c, dev("m", 2), S(6));
	CANCELS(a, ids[2], 301, 1);
	a = CACHED(c, dev("m", 3), S(6)); /* paused in 2, no answer from it */
	DEPLOYS(a, ids[3], 401, 1);
	CHECK_EQ(fw_rollout_resume(s, ids[2], "olga", NULL, at(S(7)), NULL, &d), FW_OK);
	a = CACHED(c, dev("m", 2), S(8));
	DEPLOYS(a, ids[2], 301, 1);
	for (round = 0; round < 2; round++)
		for (k = 0; k < NCAMP; k++)
			a = CACHED(c, dev("m", k), S(9));
	/* the release's signing key revoked: the campaign document is the
	 * same, its release is not */
	a = action_at(__LINE__, c, dev("m", 9), S(10));
	DEPLOYS(a, ids[9], 1001, 1);
	a = action_at(__LINE__, c, dev("m", 1), S(10));
	DEPLOYS(a, ids[1], 201, 1);
	CHECK_EQ(fw_registry_key_revoke(s, "rel", "leaked", "sec", &doc, &idx, &d), FW_OK);
	drop(&doc);
	a = action_at(__LINE__, c, dev("m", 9), S(11));
	NOTHING(a);
	CHECK(a.reasons & BIT(FW_R_RELEASE_SIGNED_BY_REVOKED_KEY));
	a = CACHED(c, dev("m", 1), S(11));
	NOTHING(a);
	CHECK(a.reasons & BIT(FW_R_RELEASE_SIGNED_BY_REVOKED_KEY));
	a = CACHED(c, dev("m", 2), S(11)); /* an attempt under way is still shown */
	DEPLOYS(a, ids[2], 301, 1);
	for (k = 0; k < NCAMP; k++)
		a = CACHED(c, dev("m", k), S(12));
	fw_rollout_cache_free(c);
	fw_rollout_cache_free(NULL);
	for (k = 0; k < NCAMP; k++)
		CONSISTENT(ids[k]);
}

static void t_cancel(void)
{
	struct fw_rollout_result r;
	struct fw_rollout_action a;
	struct fw_rollout_row before;
	struct fw_diag d = {{0}};
	char id[32], more[300];
	const char *x, *y, *z;
	json_t *rec = NULL;
	int64_t deadline;
	uint64_t n;
	int recs;

	/* paused: the attempt is given back */
	fresh();
	fleet("p", 0, 4, 1, 0);
	snprintf(more, sizeof(more),
	         ",\"pause\":{%s},\"retry\":{\"max_attempts\":3,\"backoff_s\":0}", NO_RATE);
	create(id, ONE_STAGE, more, RB_MANUAL, 1);
	start(id, 0);
	x = dev("p", 0);
	y = dev("p", 1);
	z = dev("p", 2);
	DELIVER(id, x, S(1));
	deadline = row(id, x).due_ms;
	CHECK(deadline > T0 + S(1));
	DELIVER(id, y, S(1)); /* y: a second attempt under way */
	FAIL(id, y, S(1));
	DELIVER(id, y, S(1));
	CHECK_EQ(row(id, y).attempts, 2);
	CHECK_EQ(total(id, "retries"), 1);
	CHECK_EQ(fw_rollout_pause(s, id, "olga", "look", at(S(2)), NULL, &d), FW_OK);
	a = ACTION(NULL, x, S(2));
	CANCELS(a, id, 101, 1);
	a = ACTION(NULL, y, S(2));
	CANCELS(a, id, 102, 2);
	recs = nrec("rollout.device", x, "paused");
	r = STEP(id, x, FW_U_PAUSED, NULL, 0, S(3), FW_REPORT_APPLIED);
	CHECK_EQ(r.from, FW_U_DELIVERED);
	CHECK_EQ(r.to, FW_U_PAUSED);
	CHECK_EQ(row(id, x).state, FW_U_PAUSED);
	CHECK_EQ(row(id, x).attempts, 0);
	CHECK_EQ(row(id, x).due_ms, 0);
	CHECK_EQ(row(id, x).failures, 0);
	CHECK_EQ(nrec_last("rollout.device", x, "paused", &rec), recs + 1);
	CHECK(strcmp(js(json_object_get(rec, "cause")), "cancel") == 0);
	CHECK(strcmp(js(json_object_get(rec, "from")), "delivered") == 0);
	CHECK(r.idx != 0);
	drop(&rec);
	/* again: nothing */
	n = log_size();
	r = STEP(id, x, FW_U_PAUSED, NULL, 0, S(4), FW_REPORT_DUPLICATE);
	CHECK_EQ(r.to, FW_U_PAUSED);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(nrec("rollout.device", x, "paused"), recs + 1);
	/* y gives back its retry: the retry is counted when it is delivered again */
	r = STEP(id, y, FW_U_PAUSED, NULL, 0, S(4), FW_REPORT_APPLIED);
	CHECK_EQ(row(id, y).attempts, 1);
	CHECK_EQ(row(id, y).failures, 1);
	CHECK_EQ(total(id, "retries"), 0);
	CONSISTENT(id);
	/* its old deadline passes: a paused device does not time out */
	tick(id, deadline - T0 + S(10));
	CHECK_EQ(row(id, x).state, FW_U_PAUSED);
	CHECK_EQ(total(id, "timeouts"), 0);
	a = ACTION(NULL, x, deadline - T0 + S(10));
	NOTHING(a);
	/* resumed: the same attempt, the same action id */
	CHECK_EQ(fw_rollout_resume(s, id, "olga", "ok", at(deadline - T0 + S(20)), NULL, &d),
	         FW_OK);
	CHECK_EQ(row(id, x).state, FW_U_ELIGIBLE);
	a = ACTION(NULL, x, deadline - T0 + S(21));
	DEPLOYS(a, id, 101, 1);
	CHECK(check_offer(x, deadline - T0 + S(21), id, rel_id, 0, 1));
	a = ACTION(NULL, y, deadline - T0 + S(21));
	DEPLOYS(a, id, 102, 2);
	DELIVER(id, x, deadline - T0 + S(22));
	CHECK_EQ(row(id, x).attempts, 1);
	CHECK_EQ(total(id, "retries"), 0);
	DELIVER(id, y, deadline - T0 + S(22));
	CHECK_EQ(row(id, y).attempts, 2);
	CHECK_EQ(total(id, "retries"), 1);
	/* running: nothing was cancelled, the confirmation is late */
	DELIVER(id, z, deadline - T0 + S(22));
	before = row(id, z);
	n = log_size();
	r = STEP(id, z, FW_U_PAUSED, NULL, 0, deadline - T0 + S(23), FW_REPORT_LATE);
	CHECK_EQ(r.from, FW_U_DELIVERED);
	CHECK_EQ(r.to, FW_U_DELIVERED);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(row(id, z).state, FW_U_DELIVERED);
	CHECK_EQ(row(id, z).attempts, before.attempts);
	CHECK_EQ(row(id, z).due_ms, before.due_ms);
	CHECK_EQ(row(id, z).rec, before.rec);
	CHECK(strcmp(cstate(id), "running") == 0);
	CONSISTENT(id);

	/* aborted: the attempt ends for good */
	fresh();
	fleet("p", 0, 3, 1, 0);
	create(id, ONE_STAGE, more, RB_NONE, 1);
	start(id, 0);
	DELIVER(id, x, S(1));
	CHECK_EQ(top(id, "failed_final"), 0);
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 0, "stop", at(S(2)), NULL, &d), FW_OK);
	a = ACTION(NULL, x, S(2));
	CANCELS(a, id, 101, 1);
	r = STEP(id, x, FW_U_PAUSED, NULL, 0, S(3), FW_REPORT_APPLIED);
	CHECK_EQ(r.from, FW_U_DELIVERED);
	CHECK_EQ(r.to, FW_U_FAILED);
	CHECK_EQ(row(id, x).state, FW_U_FAILED);
	CHECK_EQ(row(id, x).due_ms, FINAL_DUE);
	CHECK_EQ(row(id, x).attempts, 1);
	CHECK_EQ(top(id, "failed_final"), 1);
	CHECK_EQ(nrec_last("rollout.device", x, "failed", &rec), 1);
	CHECK(strcmp(js(json_object_get(rec, "cause")), "cancel") == 0);
	drop(&rec);
	n = log_size();
	STEP(id, x, FW_U_PAUSED, NULL, 0, S(4), FW_REPORT_LATE);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(top(id, "failed_final"), 1);
	a = ACTION(NULL, x, S(5));
	NOTHING(a);
	CONSISTENT(id);

	/* rolled back: the device is on its way to the rollback release */
	fresh();
	fleet("p", 0, 3, 1, 0);
	create(id, ONE_STAGE, more, RB_MANUAL, 1);
	start(id, 0);
	DELIVER(id, x, S(1));
	CHECK_EQ(fw_rollout_abort(s, id, "olga", 1, "bad", at(S(2)), NULL, &d), FW_OK);
	before = row(id, x);
	n = log_size();
	r = STEP(id, x, FW_U_PAUSED, NULL, 0, S(3), FW_REPORT_LATE);
	CHECK_EQ(r.to, FW_U_DELIVERED);
	CHECK_EQ(log_size(), n);
	CHECK_EQ(row(id, x).state, FW_U_DELIVERED);
	CHECK_EQ(row(id, x).due_ms, before.due_ms);
	CHECK_EQ(top(id, "failed_final"), 0);
	a = ACTION(NULL, x, S(4));
	CHECK(is_action(&a, FW_ACTION_DEPLOY, id, 199, rb_id, "2.3.9", 1, 0));
	CONSISTENT(id);
}

static void t_cleanup(void)
{
	close_store();
	fw_key_free(signer);
	fw_key_free(bob);
	fw_key_free(carol);
	certgen_ca_free(ca);
	signer = bob = carol = NULL;
	ca = NULL;
}

static const struct harness_test tests[] = {
    {"approval_gates", t_approval_gates},
    {"failure_rate_at", t_failure_rate_at},
    {"failure_rate_below", t_failure_rate_below},
    {"failure_rate_min_reports", t_failure_rate_min_reports},
    {"failure_rate_tick", t_failure_rate_tick},
    {"max_failures", t_max_failures},
    {"integrity", t_integrity},
    {"integrity_late", t_integrity_late},
    {"retry", t_retry},
    {"timeout", t_timeout},
    {"rollback_manual", t_rollback_manual},
    {"rollback_automatic", t_rollback_automatic},
    {"rollback_none", t_rollback_none},
    {"illegal", t_illegal},
    {"revoked", t_revoked},
    {"duplicates", t_duplicates},
    {"fallback", t_fallback},
    {"concurrent", t_concurrent},
    {"stage_hash", t_stage_hash},
    {"advance_complete", t_advance_complete},
    {"last_stage", t_last_stage},
    {"headroom_100", t_headroom_100},
    {"action", t_action},
    {"action_cache", t_action_cache},
    {"cancel", t_cancel},
    {"cleanup", t_cleanup},
};
HARNESS_MAIN(tests)
