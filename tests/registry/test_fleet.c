/*
 * The fleet registry on a real SQLite store: lifecycle transitions, device
 * import (validation, one transaction, upsert), device identities (CAs,
 * CRLs, local revocation) and the certificate state derived from them.
 * Certificates are made by tests/lib/certgen.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "certgen.h"
#include "evidence/evidence.h"
#include "harness.h"
#include "registry/registry.h"

#define DAY 86400L

static int seq;

static const char *tmp(const char *name)
{
	static char path[8][700];
	static int k;
	char *p = path[k++ % 8];

	snprintf(p, 700, "%s/%d-%s", harness_tmpdir(), seq, name);
	return p;
}

static struct fw_store *fresh_store(void)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	char key[700];

	seq++;
	snprintf(key, sizeof(key), "%s/%d-log", harness_tmpdir(), seq);
	if (fw_store_open(tmp("fleet.db"), 1, &s, &d) != FW_OK ||
	    fw_evidence_setup(s, "test.fwtrust.example/log", key, &d) != FW_OK)
		harness_fail(__FILE__, __LINE__, "store: %s", d.msg);
	return s;
}

static void put(const char *path, const char *text)
{
	if (harness_write(path, text, strlen(text)) != 0)
		harness_fail(__FILE__, __LINE__, "cannot write %s", path);
}

static uint64_t log_size(struct fw_store *s)
{
	uint64_t n = 0;
	uint8_t root[32];

	if (fw_evidence_size(s, &n, root, NULL) != FW_OK)
		harness_fail(__FILE__, __LINE__, "log size");
	return n;
}

static uint64_t devices(struct fw_store *s)
{
	uint64_t n = 0;

	if (fw_store_device_count(s, &n, NULL) != FW_OK)
		harness_fail(__FILE__, __LINE__, "device count");
	return n;
}

static int import(struct fw_store *s, const char *path, struct fw_import_stats *st,
                  struct fw_diag *d)
{
	return fw_registry_device_import(s, path, "test", NULL, NULL, st, d);
}

static const char *state_of(struct fw_store *s, const char *id)
{
	static char out[64];
	struct fw_device_row r;
	struct fw_cert_row c;
	int has = 0;

	if (fw_store_device_get(s, id, &r, &c, &has, NULL) != FW_OK)
		return "no-device";
	snprintf(out, sizeof(out), "%s", fw_cert_state(&r, has ? &c : NULL, time(NULL)));
	return out;
}

struct count {
	const char *code;
	int n;
};

static void on_finding(void *arg, const struct fw_audit_finding *f)
{
	struct count *c = arg;

	if (c->code == NULL || strcmp(f->code, c->code) == 0)
		c->n++;
}

/* findings of a full audit, of one code (NULL: all) */
static int audit_findings(struct fw_store *s, const char *code)
{
	struct count c = {code, 0};
	struct fw_audit_summary sum;
	struct fw_diag d = {{0}};
	int rc = fw_evidence_audit(s, NULL, 0, on_finding, &c, &sum, &d);

	if (rc != FW_OK && rc != FW_E_TAMPER)
		harness_fail(__FILE__, __LINE__, "audit: %s", d.msg);
	return c.n;
}

#define HEADER "device_id,product,family,hw_revision,fw_version,cohorts,support_until,lifecycle,certificate\n"

static void t_lifecycle_table(void)
{
	static const char *const st[] = {"manufactured", "provisioned", "active", "quarantined",
	                                 "end_of_support", "decommissioned"};
	/* the legal transitions, and only these */
	static const char *const legal[] = {"manufactured>provisioned", "provisioned>active",
	                                    "active>quarantined", "quarantined>active",
	                                    "active>end_of_support", "quarantined>end_of_support",
	                                    "end_of_support>decommissioned"};
	char pair[64], next[128];
	size_t i, j, k;
	int n = 0;

	for (i = 0; i < 6; i++) {
		CHECK(fw_lifecycle_valid(st[i]));
		for (j = 0; j < 6; j++) {
			int want = 0;

			snprintf(pair, sizeof(pair), "%s>%s", st[i], st[j]);
			for (k = 0; k < sizeof(legal) / sizeof(legal[0]); k++)
				want |= strcmp(pair, legal[k]) == 0;
			CHECK_EQ(fw_lifecycle_allowed(st[i], st[j]), want);
			n += want;
		}
	}
	CHECK_EQ(n, 7);
	CHECK(!fw_lifecycle_valid("Active"));
	CHECK(!fw_lifecycle_allowed("active", "retired"));
	fw_lifecycle_next("active", next, sizeof(next));
	CHECK(strcmp(next, "quarantined, end_of_support") == 0);
	fw_lifecycle_next("decommissioned", next, sizeof(next));
	CHECK(strcmp(next, "none") == 0);
}

static void t_lifecycle_changes_recorded(void)
{
	struct fw_store *s = fresh_store();
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	struct fw_device_row r;
	uint64_t idx = 0, before;
	uint8_t *rec = NULL, lh[32];
	size_t len = 0;

	put(tmp("d.csv"), HEADER "dev-1,p,f,A,1.0.0,,2030-01-01,manufactured,\n");
	CHECK_EQ(import(s, tmp("d.csv"), &st, &d), FW_OK);
	/* every legal step, each one record naming from, to and the reason */
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "provisioned", "flashed", "ops", &idx, &d),
	         FW_OK);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "active", "shipped", "ops", &idx, &d), FW_OK);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "quarantined", "odd traffic", "ops", &idx, &d),
	         FW_OK);
	CHECK_EQ(fw_evidence_get(s, idx, &rec, &len, lh, &d), FW_OK);
	CHECK(strstr((char *)rec, "\"type\":\"device.lifecycle\"") != NULL);
	CHECK(strstr((char *)rec, "\"from\":\"active\"") != NULL);
	CHECK(strstr((char *)rec, "\"to\":\"quarantined\"") != NULL);
	CHECK(strstr((char *)rec, "\"reason\":\"odd traffic\"") != NULL);
	CHECK(strstr((char *)rec, "\"refs\":[{") != NULL);
	free(rec);
	CHECK_EQ(fw_store_device_get(s, "dev-1", &r, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(r.lifecycle, "quarantined") == 0);
	CHECK_EQ(r.rec, idx);
	/* illegal: refused, the allowed ones named, nothing recorded */
	before = log_size(s);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "manufactured", "oops", "ops", &idx, &d),
	         FW_E_CONFLICT);
	CHECK(strstr(d.msg, "active, end_of_support") != NULL);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "active", "", "ops", &idx, &d), FW_E_ARG);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "retired", "x", "ops", &idx, &d), FW_E_ARG);
	CHECK_EQ(fw_registry_device_lifecycle(s, "nope", "active", "x", "ops", &idx, &d),
	         FW_E_NOT_FOUND);
	CHECK_EQ(log_size(s), before);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "end_of_support", "eol", "ops", &idx, &d),
	         FW_OK);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "decommissioned", "scrapped", "ops", &idx,
	                                      &d),
	         FW_OK);
	CHECK_EQ(fw_registry_device_lifecycle(s, "dev-1", "active", "revive", "ops", &idx, &d),
	         FW_E_CONFLICT);
	CHECK(strstr(d.msg, "none") != NULL);
	CHECK_EQ(audit_findings(s, NULL), 0);
	fw_store_close(s);

	/* state changed behind fwtrust's back is found by the audit */
	{
		sqlite3 *db = NULL;

		CHECK_EQ(sqlite3_open(tmp("fleet.db"), &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db, "UPDATE devices SET lifecycle = 'active' WHERE id = 'dev-1'",
		                      NULL, NULL, NULL),
		         SQLITE_OK);
		sqlite3_close(db);
		CHECK_EQ(fw_store_open(tmp("fleet.db"), 0, &s, &d), FW_OK);
		CHECK_EQ(audit_findings(s, "registry.mismatch"), 1);
		fw_store_close(s);
		CHECK_EQ(sqlite3_open(tmp("fleet.db"), &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db,
		                      "INSERT INTO devices SELECT 'dev-forged', product, family, "
		                      "hw_revision, fw_version, cohorts, support_until, 'active', cert, "
		                      "ident_ok, 0, rec_lh, 0 FROM devices WHERE id = 'dev-1'",
		                      NULL, NULL, NULL),
		         SQLITE_OK);
		sqlite3_close(db);
		CHECK_EQ(fw_store_open(tmp("fleet.db"), 0, &s, &d), FW_OK);
		CHECK_EQ(audit_findings(s, "registry.unrecorded"), 1);
		fw_store_close(s);
	}
}

/* Rows as an import wrote them are committed to by its records: a row
 * edited behind fwtrust's back, or a kept device state, is found. */
static void t_import_rows_audited(void)
{
	struct fw_store *s = fresh_store();
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	sqlite3 *db = NULL;
	uint8_t *rec = NULL, lh[32];
	size_t len = 0;

	put(tmp("q.csv"), HEADER "q-1,p,f,A,1.0.0,,2030-01-01,quarantined,\n"
	                         "q-2,p,f,A,1.0.0,eu,2030-01-01,active,\n");
	CHECK_EQ(import(s, tmp("q.csv"), &st, &d), FW_OK);
	/* the import's two records: the file, then what it did */
	CHECK_EQ(fw_evidence_get(s, st.idx + 1, &rec, &len, lh, &d), FW_OK);
	CHECK(strstr((char *)rec, "\"type\":\"device.import.done\"") != NULL);
	CHECK(strstr((char *)rec, "\"created\":2") != NULL);
	CHECK(strstr((char *)rec, "\"states_sha256\":\"") != NULL);
	CHECK(strstr((char *)rec, "\"states_rows\":2") != NULL);
	free(rec);
	CHECK_EQ(audit_findings(s, NULL), 0);
	fw_store_close(s);

	/* a quarantined device made active in the database */
	CHECK_EQ(sqlite3_open(tmp("fleet.db"), &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "UPDATE devices SET lifecycle = 'active' WHERE id = 'q-1'", NULL,
	                      NULL, NULL),
	         SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(fw_store_open(tmp("fleet.db"), 0, &s, &d), FW_OK);
	CHECK_EQ(audit_findings(s, "registry.mismatch"), 1);
	fw_store_close(s);
	/* the kept row hashes are a file named by their SHA-256: changed, they
	 * no longer match their record (and every row of the import is unproven) */
	{
		char cmd[2000];

		snprintf(cmd, sizeof(cmd),
		         "f=$(find '%s.objects/sha256' -type f -size 64c) && chmod u+w \"$f\" && "
		         "printf 'x' | dd of=\"$f\" bs=1 seek=40 conv=notrunc status=none",
		         tmp("fleet.db"));
		CHECK_EQ(system(cmd), 0);
	}
	CHECK_EQ(fw_store_open(tmp("fleet.db"), 0, &s, &d), FW_OK);
	CHECK_EQ(audit_findings(s, "registry.mismatch"), 1);
	CHECK(audit_findings(s, NULL) >= 1);
	fw_store_close(s);
}

/* One bad row anywhere: nothing of the file is applied, and the message
 * names the file, the line, the column and why. */
static void t_import_bad_row_imports_nothing(void)
{
	static const struct {
		const char *row;
		const char *where;
	} cases[] = {
	    {"dev-9,p,f,A,2.0,,2030-01-01,active,", "column 5 (fw_version)"},
	    {"dev 9,p,f,A,2.0.0,,2030-01-01,active,", "column 1 (device_id)"},
	    {"dev-9,,f,A,2.0.0,,2030-01-01,active,", "column 2 (product)"},
	    {"dev-9,p,f,A,2.0.0,eu;;us,2030-01-01,active,", "column 6 (cohorts)"},
	    {"dev-9,p,f,A,2.0.0,,2030-02-30,active,", "column 7 (support_until)"},
	    {"dev-9,p,f,A,2.0.0,,2030-01-01,running,", "column 8 (lifecycle)"},
	    {"dev-9,p,f,A,2.0.0,,2030-01-01,active,nowhere.pem", "column 9 (certificate)"},
	    {"dev-9,p,f,A,2.0.0,,2030-01-01,active,\"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\"",
	     "column 9 (certificate)"},
	    {"dev-9,p,f,A,2.0.0,,2030-01-01", "line 4"},
	    {"dev-1,p,f,A,2.0.0,,2030-01-01,active,", "column 1 (device_id): device dev-1 appears twice"},
	};
	struct fw_store *s = fresh_store();
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	char text[1024], blobdir[800];
	uint64_t before = log_size(s);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		         HEADER "dev-1,p,f,A,1.0.0,,2030-01-01,active,\n"
		                "dev-2,p,f,A,1.0.0,,2030-01-01,active,\n%s\n"
		                "dev-3,p,f,A,1.0.0,,2030-01-01,active,\n",
		         cases[i].row);
		put(tmp("bad.csv"), text);
		d.msg[0] = 0;
		CHECK(import(s, tmp("bad.csv"), &st, &d) != FW_OK);
		CHECK(strstr(d.msg, "bad.csv") != NULL);
		CHECK(strstr(d.msg, "line 4") != NULL);
		if (strstr(d.msg, cases[i].where) == NULL)
			harness_fail(__FILE__, __LINE__, "case %zu: '%s' not in: %s", i, cases[i].where,
			             d.msg);
		CHECK(strstr(d.msg, "nothing was imported") != NULL);
		CHECK_EQ(devices(s), 0);
		CHECK_EQ(log_size(s), before);
	}
	/* and the kept copy of a failed file is not kept */
	snprintf(blobdir, sizeof(blobdir), "%s.objects/sha256", tmp("fleet.db"));
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -type f 2>/dev/null)\"", blobdir);
		CHECK_EQ(system(cmd), 0);
	}
	fw_store_close(s);
}

static void t_import_upsert(void)
{
	struct fw_store *s = fresh_store();
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	struct fw_device_row r;
	uint64_t first;

	put(tmp("a.csv"), HEADER "dev-1,p,f,A,1.0.0,us;eu;us,2030-01-01,active,\n"
	                         "dev-2,p,f,A,1.0.0,,2030-01-01,provisioned,\n");
	CHECK_EQ(import(s, tmp("a.csv"), &st, &d), FW_OK);
	CHECK_EQ(st.rows, 2);
	CHECK_EQ(st.created, 2);
	first = st.idx;
	CHECK_EQ(fw_store_device_get(s, "dev-1", &r, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(r.cohorts, "eu;us") == 0); /* sorted, duplicates dropped */
	CHECK_EQ(r.rec, first);
	/* same file again: unchanged rows keep their record */
	CHECK_EQ(import(s, tmp("a.csv"), &st, &d), FW_OK);
	CHECK_EQ(st.unchanged, 2);
	CHECK_EQ(fw_store_device_get(s, "dev-1", &r, NULL, NULL, &d), FW_OK);
	CHECK_EQ(r.rec, first);
	/* JSON lines: an update, a legal lifecycle change (its own record), a
	 * kept lifecycle (empty) and a new device */
	put(tmp("b.jsonl"),
	    "{\"device_id\":\"dev-1\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\","
	    "\"fw_version\":\"1.1.0\",\"support_until\":\"2030-01-01\",\"lifecycle\":\"\"}\n"
	    "{\"device_id\":\"dev-2\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\","
	    "\"fw_version\":\"1.0.0\",\"support_until\":\"2030-01-01\",\"lifecycle\":\"active\"}\n"
	    "{\"device_id\":\"dev-3\",\"product\":\"p\",\"family\":\"f\",\"hw_revision\":\"A\","
	    "\"fw_version\":\"1.0.0\",\"cohorts\":[\"beta\"],\"support_until\":\"2031-01-01\","
	    "\"lifecycle\":\"manufactured\"}\n");
	CHECK_EQ(import(s, tmp("b.jsonl"), &st, &d), FW_OK);
	CHECK_EQ(st.updated, 2);
	CHECK_EQ(st.created, 1);
	CHECK_EQ(st.lifecycle_changes, 1);
	CHECK_EQ(fw_store_device_get(s, "dev-1", &r, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(r.fw_version, "1.1.0") == 0 && strcmp(r.lifecycle, "active") == 0);
	CHECK(strcmp(r.cohorts, "") == 0);
	CHECK_EQ(fw_store_device_get(s, "dev-2", &r, NULL, NULL, &d), FW_OK);
	CHECK(strcmp(r.lifecycle, "active") == 0);
	CHECK(r.rec != st.idx); /* its device.lifecycle record */
	/* an illegal change by import is a bad row */
	put(tmp("c.csv"), HEADER "dev-2,p,f,A,1.0.0,,2030-01-01,manufactured,\n");
	CHECK_EQ(import(s, tmp("c.csv"), &st, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "line 2, column 8 (lifecycle)") != NULL);
	CHECK(strstr(d.msg, "active -> manufactured is not allowed") != NULL);
	/* a new device needs a lifecycle */
	put(tmp("e.csv"), HEADER "dev-7,p,f,A,1.0.0,,2030-01-01,,\n");
	CHECK_EQ(import(s, tmp("e.csv"), &st, &d), FW_E_FORMAT);
	CHECK(strstr(d.msg, "needs a lifecycle") != NULL);
	CHECK_EQ(devices(s), 3);
	fw_store_close(s);
}

static void t_dates(void)
{
	int64_t days = -1;

	CHECK_EQ(fw_date_parse("1970-01-01", &days), FW_OK);
	CHECK_EQ(days, 0);
	CHECK_EQ(fw_date_parse("2000-03-01", &days), FW_OK);
	CHECK_EQ(days, 11017);
	CHECK_EQ(fw_date_parse("2024-02-29", &days), FW_OK);
	CHECK_EQ(fw_date_parse("2023-02-29", &days), FW_E_FORMAT);
	CHECK_EQ(fw_date_parse("2100-02-29", &days), FW_E_FORMAT);
	CHECK_EQ(fw_date_parse("2000-02-29", &days), FW_OK);
	CHECK_EQ(fw_date_parse("2030-13-01", &days), FW_E_FORMAT);
	CHECK_EQ(fw_date_parse("2030-1-01", &days), FW_E_FORMAT);
	CHECK_EQ(fw_date_parse("2030-01-01T00:00", &days), FW_E_FORMAT);
	CHECK_EQ(fw_date_parse("", &days), FW_E_FORMAT);
	CHECK(fw_device_id_valid("ctl-a_01.x:9"));
	CHECK(!fw_device_id_valid(""));
	CHECK(!fw_device_id_valid("a/b"));
	CHECK(!fw_device_id_valid("a b"));
}

/* Certificate states, each made for real: chain, window, CRL, local
 * revocation, identity. */
static void t_certificate_states(void)
{
	struct certgen_ca *ca = certgen_root("Device CA", -100 * DAY, 3000 * DAY);
	struct certgen_ca *inter = certgen_intermediate(ca, "Device Sub CA", -100 * DAY, 3000 * DAY);
	struct certgen_ca *other = certgen_root("Other CA", -100 * DAY, 3000 * DAY);
	struct certgen_ca *short_ca = certgen_root("Short CA", -100 * DAY, -DAY);
	struct fw_store *s = fresh_store();
	struct fw_import_stats st;
	struct fw_diag d = {{0}};
	char csv[65536], *pem, line[16384];
	size_t n = 0, added = 0;
	uint64_t idx = 0, rev = 0, entries = 0, revoked = 0;
	long serials[1] = {105};
	struct {
		const char *id;
		char *pem;
	} c[] = {
	    {"d-valid", certgen_leaf(ca, "d-valid", NULL, 101, -DAY, 100 * DAY)},
	    {"d-san", certgen_leaf(inter, "something-else", "d-san", 102, -DAY, 100 * DAY)},
	    {"d-expired", certgen_leaf(ca, "d-expired", NULL, 103, -50 * DAY, -DAY)},
	    {"d-future", certgen_leaf(ca, "d-future", NULL, 104, 10 * DAY, 100 * DAY)},
	    {"d-crl", certgen_leaf(ca, "d-crl", NULL, 105, -DAY, 100 * DAY)},
	    {"d-other", certgen_leaf(other, "d-other", NULL, 106, -DAY, 100 * DAY)},
	    {"d-wrongname", certgen_leaf(ca, "d-valid0", NULL, 107, -DAY, 100 * DAY)},
	    {"d-local", certgen_leaf(ca, "d-local", NULL, 108, -DAY, 100 * DAY)},
	    {"d-chainexp", certgen_leaf(short_ca, "d-chainexp", NULL, 109, -DAY, 100 * DAY)},
	};
	size_t i;

	pem = certgen_ca_pem(ca);
	put(tmp("ca.pem"), pem);
	free(pem);
	{
		char *a = certgen_ca_pem(inter), *b = certgen_ca_pem(short_ca), both[16384];

		snprintf(both, sizeof(both), "%s%s", a, b);
		put(tmp("more-ca.pem"), both);
		free(a);
		free(b);
	}
	CHECK_EQ(fw_registry_ca_add(s, tmp("ca.pem"), "sec", &added, &rev, &idx, &d), FW_OK);
	CHECK_EQ(added, 1);
	/* the same CA again: nothing new */
	CHECK_EQ(fw_registry_ca_add(s, tmp("ca.pem"), "sec", &added, &rev, &idx, &d), FW_E_CONFLICT);
	/* a leaf is not a CA */
	put(tmp("leaf.pem"), c[0].pem);
	CHECK_EQ(fw_registry_ca_add(s, tmp("leaf.pem"), "sec", &added, &rev, &idx, &d), FW_E_VERIFY);
	CHECK(strstr(d.msg, "not a CA") != NULL);

	n = (size_t)snprintf(csv, sizeof(csv), HEADER);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s.pem", c[i].id);
		put(tmp(name), c[i].pem);
		/* relative to the file (every other one), or inline */
		if (i % 2)
			snprintf(line, sizeof(line), "%s,p,f,A,1.0.0,,2030-01-01,active,%d-%s\n", c[i].id,
			         seq, name);
		else
			snprintf(line, sizeof(line), "%s,p,f,A,1.0.0,,2030-01-01,active,\"%s\"\n",
			         c[i].id, c[i].pem);
		n += (size_t)snprintf(csv + n, sizeof(csv) - n, "%s", line);
	}
	n += (size_t)snprintf(csv + n, sizeof(csv) - n, "d-none,p,f,A,1.0.0,,2030-01-01,active,\n");
	put(tmp("devs.csv"), csv);
	CHECK_EQ(import(s, tmp("devs.csv"), &st, &d), FW_OK);
	CHECK_EQ(st.certs_new, 9);
	CHECK_EQ(st.certs_untrusted, 3); /* d-san (intermediate not trusted yet), d-other, d-chainexp */

	CHECK(strcmp(state_of(s, "d-valid"), "valid") == 0);
	CHECK(strcmp(state_of(s, "d-san"), "untrusted_issuer") == 0);
	CHECK(strcmp(state_of(s, "d-expired"), "expired") == 0);
	CHECK(strcmp(state_of(s, "d-future"), "not_yet_valid") == 0);
	CHECK(strcmp(state_of(s, "d-crl"), "valid") == 0);
	CHECK(strcmp(state_of(s, "d-other"), "untrusted_issuer") == 0);
	CHECK(strcmp(state_of(s, "d-none"), "missing") == 0);
	{
		struct fw_device_row r;

		CHECK_EQ(fw_store_device_get(s, "d-wrongname", &r, NULL, NULL, &d), FW_OK);
		CHECK_EQ(r.ident_ok, 0); /* CN d-valid0 is not d-wrongname */
		CHECK_EQ(fw_store_device_get(s, "d-san", &r, NULL, NULL, &d), FW_OK);
		CHECK_EQ(r.ident_ok, 1); /* named by its SAN */
		CHECK_EQ(fw_store_device_get(s, "d-valid", &r, NULL, NULL, &d), FW_OK);
		CHECK_EQ(r.ident_ok, 1);
	}
	/* trusting the intermediate (and a CA that has expired) judges the
	 * untrusted certificates again; the chain's window is the chain's */
	CHECK_EQ(fw_registry_ca_add(s, tmp("more-ca.pem"), "sec", &added, &rev, &idx, &d), FW_OK);
	CHECK_EQ(added, 2);
	CHECK_EQ(rev, 2);
	CHECK(strcmp(state_of(s, "d-san"), "valid") == 0);
	CHECK(strcmp(state_of(s, "d-chainexp"), "expired") == 0);
	CHECK(strcmp(state_of(s, "d-other"), "untrusted_issuer") == 0);

	/* a CRL: forged, by an unknown CA, then the real one */
	pem = certgen_crl(ca, serials, 1, 1);
	{
		char *forged = strdup(pem), *p = strstr(forged, "-----END");

		/* flip a base64 character inside the signature (just before the end line) */
		p -= 6;
		*p = *p == 'A' ? 'B' : 'A';
		put(tmp("forged.pem"), forged);
		free(forged);
	}
	CHECK(fw_registry_crl_import(s, tmp("forged.pem"), "sec", &entries, &revoked, &idx, &d) !=
	      FW_OK);
	{
		char *o = certgen_crl(other, serials, 1, 1);

		put(tmp("other-crl.pem"), o);
		free(o);
	}
	CHECK_EQ(fw_registry_crl_import(s, tmp("other-crl.pem"), "sec", &entries, &revoked, &idx, &d),
	         FW_E_SIGNATURE);
	CHECK(strcmp(state_of(s, "d-crl"), "valid") == 0);
	put(tmp("crl.pem"), pem);
	free(pem);
	CHECK_EQ(fw_registry_crl_import(s, tmp("crl.pem"), "sec", &entries, &revoked, &idx, &d), FW_OK);
	CHECK_EQ(entries, 1);
	CHECK_EQ(revoked, 1);
	CHECK(strcmp(state_of(s, "d-crl"), "revoked") == 0);
	/* the same CRL again is not newer */
	CHECK_EQ(fw_registry_crl_import(s, tmp("crl.pem"), "sec", &entries, &revoked, &idx, &d),
	         FW_E_CONFLICT);

	/* local revocation */
	CHECK_EQ(fw_registry_cert_revoke(s, "d-local", "key leaked", "sec", &idx, &d), FW_OK);
	CHECK(strcmp(state_of(s, "d-local"), "revoked") == 0);
	CHECK_EQ(fw_registry_cert_revoke(s, "d-local", "again", "sec", &idx, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_registry_cert_revoke(s, "d-none", "none", "sec", &idx, &d), FW_E_CONFLICT);
	CHECK_EQ(fw_registry_cert_revoke(s, "d-local", "", "sec", &idx, &d), FW_E_ARG);

	/* a certificate revoked before its device is imported starts revoked */
	{
		char *p2 = certgen_leaf(ca, "d-late", NULL, 105, -DAY, 100 * DAY);
		char row[8192];

		snprintf(row, sizeof(row), HEADER "d-late,p,f,A,1.0.0,,2030-01-01,active,\"%s\"\n", p2);
		put(tmp("late.csv"), row);
		free(p2);
		CHECK_EQ(import(s, tmp("late.csv"), &st, &d), FW_OK);
		CHECK(strcmp(state_of(s, "d-late"), "revoked") == 0);
	}
	/* everything above is consistent evidence */
	{
		struct fw_audit_summary sum;

		CHECK_EQ(fw_evidence_audit(s, NULL, 0, NULL, NULL, &sum, &d), FW_OK);
		CHECK_EQ(sum.findings, 0);
	}
	/* a revoked certificate made valid again in the database is found:
	 * one by a CRL, one revoked locally */
	fw_store_close(s);
	{
		sqlite3 *db = NULL;

		CHECK_EQ(sqlite3_open(tmp("fleet.db"), &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db, "UPDATE certs SET revoked = 0 WHERE revoked <> 0", NULL, NULL,
		                      NULL),
		         SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_EQ(fw_store_open(tmp("fleet.db"), 0, &s, &d), FW_OK);
	CHECK_EQ(audit_findings(s, "registry.mismatch"), 3); /* d-crl, d-late, d-local */
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		free(c[i].pem);
	certgen_ca_free(ca);
	certgen_ca_free(inter);
	certgen_ca_free(other);
	certgen_ca_free(short_ca);
	fw_store_close(s);
}

static void t_filters(void)
{
	struct fw_device_filter f;
	struct fw_device_row r;
	struct fw_diag d = {{0}};
	char e1[] = "fw_version=>=2.0.0 <2.4.1", e2[] = "cohort=eu", e3[] = "bogus=1",
	     e4[] = "lifecycle=running", e5[] = "cert=valid", e6[] = "noequals";

	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	snprintf(r.fw_version, sizeof(r.fw_version), "2.4.1-rc.1");
	snprintf(r.cohorts, sizeof(r.cohorts), "beta;eu");
	snprintf(r.lifecycle, sizeof(r.lifecycle), "active");
	CHECK_EQ(fw_device_filter_add(&f, e1, &d), FW_OK);
	CHECK_EQ(fw_device_filter_add(&f, e2, &d), FW_OK);
	CHECK(fw_device_filter_match(&f, &r, NULL, 0));
	snprintf(r.fw_version, sizeof(r.fw_version), "2.4.1");
	CHECK(!fw_device_filter_match(&f, &r, NULL, 0));
	snprintf(r.fw_version, sizeof(r.fw_version), "2.0.0");
	snprintf(r.cohorts, sizeof(r.cohorts), "eu2");
	CHECK(!fw_device_filter_match(&f, &r, NULL, 0));
	CHECK_EQ(fw_device_filter_add(&f, e5, &d), FW_OK);
	snprintf(r.cohorts, sizeof(r.cohorts), "eu");
	CHECK(!fw_device_filter_match(&f, &r, NULL, 0)); /* no certificate: missing */
	CHECK_EQ(fw_device_filter_add(&f, e3, &d), FW_E_ARG);
	CHECK(strstr(d.msg, "unknown key") != NULL);
	CHECK_EQ(fw_device_filter_add(&f, e4, &d), FW_E_ARG);
	CHECK_EQ(fw_device_filter_add(&f, e6, &d), FW_E_ARG);
}

static const struct harness_test tests[] = {
    {"lifecycle_table", t_lifecycle_table},
    {"lifecycle_changes_recorded", t_lifecycle_changes_recorded},
    {"import_bad_row_imports_nothing", t_import_bad_row_imports_nothing},
    {"import_upsert", t_import_upsert},
    {"import_rows_audited", t_import_rows_audited},
    {"dates", t_dates},
    {"certificate_states", t_certificate_states},
    {"filters", t_filters},
};
HARNESS_MAIN(tests)
