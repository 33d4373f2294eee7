#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "evidence/evidence.h"
#include "store/store.h"

static const char usage[] =
    "usage: fwtrust audit <command> [options]\n"
    "\n"
    "With a store (--db PATH, $FWTRUST_DB, or ./fwtrust.db):\n"
    "  checkpoint [--out F]            sign a checkpoint if the log grew; print the latest\n"
    "  key                             print the log's verifier key (C2SP vkey)\n"
    "  log [--from N] [--limit M]      print records, one per line: index, leaf hash, record\n"
    "  show --index I                  print one record's exact bytes\n"
    "  prove --index I [--out BASE]    write BASE.proof (c2sp.org/tlog-proof@v1 against the\n"
    "                                  latest checkpoint), BASE.record and BASE.checkpoint\n"
    "  consistency --from N [--to M] [--out F]\n"
    "                                  consistency proof between tree sizes N and M\n"
    "  verify [--checkpoint F ...] [--json]\n"
    "                                  rebuild the tree from the records and check every\n"
    "                                  checkpoint; F: checkpoints held outside the store\n"
    "  export (--campaign ID | --release ID) --out DIR [--no-pdf]\n"
    "                                  write the evidence bundle (records, proofs, keys,\n"
    "                                  envelope, report) into the new directory DIR\n"
    "  summary (DIR | --campaign ID | --release ID) [--json]\n"
    "                                  the audit report's numbers on the terminal\n"
    "  retention [--set DATE|default --as NAME] [--json]\n"
    "                                  what the retention policy keeps, and until when\n"
    "Offline, without a store:\n"
    "  verify-bundle DIR [--key LOG.pub] [--json] [--device ID [--proofs OUTDIR]]\n"
    "                                  check a bundle; answer for one device\n"
    "  verify-proof --checkpoint F --proof F --record F --key K.pub [--origin O]\n"
    "  verify-consistency --old F --new F --proof F --key K.pub [--origin O]\n"
    "\n"
    "Exit status: 0 verified, 1 evidence refused (tampering or a bad proof), 2 usage,\n"
    "input or system error. Finding codes: docs/audit.md.\n";

struct common {
	const char *db;
	const char *out;
	const char *from, *to, *index, *limit;
	const char *checkpoint, *proof, *record, *key, *origin, *old, *new_;
	const char *held[64];
	size_t nheld;
	int json;
};

static int parse(const char *cmd, int argc, char **argv, struct common *o)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"index", required_argument, NULL, 'i'},
	    {"limit", required_argument, NULL, 'l'},
	    {"checkpoint", required_argument, NULL, 'c'},
	    {"proof", required_argument, NULL, 'p'},
	    {"record", required_argument, NULL, 'r'},
	    {"key", required_argument, NULL, 'k'},
	    {"origin", required_argument, NULL, 'O'},
	    {"old", required_argument, NULL, 'A'},
	    {"new", required_argument, NULL, 'B'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = opts_next(argc, argv, longopts)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'o': o->out = optarg; break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'i': o->index = optarg; break;
		case 'l': o->limit = optarg; break;
		case 'c':
			if (o->nheld == 64) {
				cli_err(cmd, "--checkpoint: at most 64");
				return EXIT_USAGE;
			}
			o->held[o->nheld++] = optarg;
			o->checkpoint = optarg;
			break;
		case 'p': o->proof = optarg; break;
		case 'r': o->record = optarg; break;
		case 'k': o->key = optarg; break;
		case 'O': o->origin = optarg; break;
		case 'A': o->old = optarg; break;
		case 'B': o->new_ = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return opts_bad(cmd, argc, argv);
		}
	}
	if (optind != argc)
		return opts_extra(cmd, argv[optind]);
	return 0;
}

static int u64_flag(const char *cmd, const char *flag, const char *v, uint64_t *out)
{
	unsigned long long x;

	if (opts_u64(cmd, flag, v, INT64_MAX, &x))
		return 1;
	*out = x;
	return 0;
}

static int write_out(const char *cmd, const char *path, const char *text, int *rc)
{
	struct fw_file_out f = {path, text, strlen(text), 0644};
	struct fw_diag d = {{0}};
	int r = fw_files_commit(&f, 1, 1, &d);

	if (r != FW_OK)
		*rc = cli_fail(cmd, r, &d);
	return r;
}

static int a_checkpoint(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_key *key = NULL;
	struct fw_diag d = {{0}};
	char *note = NULL;
	int rc;

	if (cli_open_store("audit checkpoint", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_log_key(s, NULL, &key, &d);
	if (rc == FW_OK)
		rc = fw_evidence_checkpoint(s, key, &note, &d);
	fw_key_free(key);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("audit checkpoint", rc, &d);
	rc = EXIT_OK;
	if (o->out == NULL || write_out("audit checkpoint", o->out, note, &rc) == FW_OK)
		fputs(note, stdout);
	free(note);
	return rc;
}

static int a_key(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_note_key vk;
	struct fw_diag d = {{0}};
	char vkey[600];
	int rc;

	if (cli_open_store("audit key", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_log_key(s, &vk, NULL, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("audit key", rc, &d);
	if (fw_note_vkey_format(&vk, vkey, sizeof(vkey)) != FW_OK) {
		cli_err("audit key", "cannot format the vkey");
		return EXIT_USAGE;
	}
	printf("%s\n", vkey);
	return EXIT_OK;
}

static int print_leaf(void *arg, uint64_t idx, const uint8_t lh[32], const uint8_t *rec,
                      size_t len)
{
	uint64_t *left = arg;
	char hex[65];

	if (*left == 0)
		return 1;
	(*left)--;
	fw_hex_encode(lh, 32, hex);
	printf("%llu %s %.*s\n", (unsigned long long)idx, hex, (int)len, (const char *)rec);
	return 0;
}

static int a_log(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t from = 0, limit = UINT64_MAX;
	int rc;

	if ((o->from && u64_flag("audit log", "--from", o->from, &from)) ||
	    (o->limit && u64_flag("audit log", "--limit", o->limit, &limit)))
		return EXIT_USAGE;
	if (cli_open_store("audit log", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_scan(s, from, print_leaf, &limit, &d);
	if (rc != FW_OK && rc != 1) {
		fw_store_close(s);
		return cli_fail("audit log", rc, &d);
	}
	fw_store_close(s);
	return EXIT_OK;
}

static int a_show(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	uint64_t idx;
	uint8_t *rec = NULL;
	size_t len = 0;
	int rc;

	if (!o->index)
		return opts_missing("audit show", "--index");
	if (u64_flag("audit show", "--index", o->index, &idx))
		return EXIT_USAGE;
	if (cli_open_store("audit show", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_get(s, idx, &rec, &len, NULL, &d);
	fw_store_close(s);
	if (rc != FW_OK)
		return cli_fail("audit show", rc, &d);
	fwrite(rec, 1, len, stdout);
	putchar('\n');
	free(rec);
	return EXIT_OK;
}

static int a_prove(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_tlog_proof p;
	struct fw_file_out f[3];
	char base[4000], pp[4100], rp[4100], cp[4100];
	uint8_t *rec = NULL;
	char *proof = NULL;
	size_t len = 0;
	uint64_t idx;
	int rc;

	memset(&p, 0, sizeof(p));
	if (!o->index)
		return opts_missing("audit prove", "--index");
	if (u64_flag("audit prove", "--index", o->index, &idx))
		return EXIT_USAGE;
	snprintf(base, sizeof(base), "%s", o->out ? o->out : "");
	if (!o->out)
		snprintf(base, sizeof(base), "record-%llu", (unsigned long long)idx);
	snprintf(pp, sizeof(pp), "%s.proof", base);
	snprintf(rp, sizeof(rp), "%s.record", base);
	snprintf(cp, sizeof(cp), "%s.checkpoint", base);
	if (cli_open_store("audit prove", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_prove(s, idx, &proof, &d);
	if (rc == FW_OK)
		rc = fw_evidence_get(s, idx, &rec, &len, NULL, &d);
	if (rc == FW_OK)
		rc = fw_tlog_proof_parse(proof, strlen(proof), &p, &d);
	fw_store_close(s);
	if (rc != FW_OK) {
		rc = cli_fail("audit prove", rc, &d);
		goto out;
	}
	f[0] = (struct fw_file_out){pp, proof, strlen(proof), 0644};
	f[1] = (struct fw_file_out){rp, rec, len, 0644};
	f[2] = (struct fw_file_out){cp, p.note, p.note_len, 0644};
	rc = fw_files_commit(f, 3, 1, &d);
	if (rc != FW_OK) {
		rc = cli_fail("audit prove", rc, &d);
		goto out;
	}
	printf("proof       %s (record %llu, %zu hash%s)\n", pp, (unsigned long long)idx, p.n,
	       p.n == 1 ? "" : "es");
	printf("record      %s\n", rp);
	printf("checkpoint  %s\n", cp);
	rc = EXIT_OK;
out:
	fw_tlog_proof_clear(&p);
	free(proof);
	free(rec);
	return rc;
}

static int a_consistency(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_consistency_proof p;
	uint64_t from, to = 0;
	char *text = NULL;
	int rc;

	if (!o->from)
		return opts_missing("audit consistency", "--from");
	if (u64_flag("audit consistency", "--from", o->from, &from) ||
	    (o->to && u64_flag("audit consistency", "--to", o->to, &to)))
		return EXIT_USAGE;
	if (cli_open_store("audit consistency", o->db, &s))
		return EXIT_USAGE;
	rc = fw_evidence_consistency(s, from, to, &p, &d);
	fw_store_close(s);
	if (rc == FW_OK)
		rc = fw_consistency_format(&p, &text);
	if (rc != FW_OK)
		return cli_fail("audit consistency", rc, &d);
	rc = EXIT_OK;
	if (o->out == NULL || write_out("audit consistency", o->out, text, &rc) == FW_OK)
		fputs(text, stdout);
	free(text);
	return rc;
}

struct report {
	int json;
	json_t *arr;
};

static void on_finding(void *arg, const struct fw_audit_finding *f)
{
	struct report *r = arg;

	if (r->json)
		json_array_append_new(r->arr, json_pack("{sssIss}", "code", f->code, "at",
		                                        (json_int_t)f->at, "detail", f->detail));
	else
		printf("FINDING %-26s %s\n", f->code, f->detail);
}

static int read_text(const char *cmd, const char *flag, const char *path, size_t max,
                     char **out, size_t *len)
{
	struct fw_diag d = {{0}};
	uint8_t *buf = NULL;
	int rc = fw_file_read(path, max, &buf, len, &d);

	if (rc != FW_OK) {
		cli_err(cmd, "%s: %s", flag, d.msg);
		return 1;
	}
	*out = (char *)buf;
	return 0;
}

static int a_verify(struct common *o)
{
	struct fw_store *s = NULL;
	struct fw_diag d = {{0}};
	struct fw_audit_summary sum;
	struct report r = {o->json, NULL};
	char *held[64] = {NULL};
	size_t i, len;
	int rc, exit_code = EXIT_USAGE;
	char hex[65];

	for (i = 0; i < o->nheld; i++)
		if (read_text("audit verify", "--checkpoint", o->held[i], FW_NOTE_MAX, &held[i], &len))
			goto out;
	if (cli_open_store("audit verify", o->db, &s))
		goto out;
	r.arr = json_array();
	rc = fw_evidence_audit(s, (const char *const *)held, o->nheld, on_finding, &r, &sum, &d);
	if (rc != FW_OK && rc != FW_E_TAMPER) {
		exit_code = cli_fail("audit verify", rc, &d);
		goto out;
	}
	fw_hex_encode(sum.root, 32, hex);
	if (o->json) {
		json_t *rep = json_pack("{sIsIsIsssO}", "records", (json_int_t)sum.records,
		                        "checkpoints", (json_int_t)sum.checkpoints, "held",
		                        (json_int_t)sum.held, "root", hex, "findings", r.arr);

		json_object_set_new(rep, "ok", json_boolean(rc == FW_OK));
		cli_print_json(rep);
		json_decref(rep);
	} else if (rc == FW_OK) {
		printf("OK %s: %llu records, %llu checkpoints%s verified; root %s\n", s->path,
		       (unsigned long long)sum.records, (unsigned long long)sum.checkpoints,
		       sum.held ? " and the held ones" : "", hex);
	} else {
		fprintf(stderr, "fwtrust audit verify: REFUSED %s: %llu finding(s) in %llu records\n",
		        s->path, (unsigned long long)sum.findings, (unsigned long long)sum.records);
	}
	exit_code = rc == FW_OK ? EXIT_OK : EXIT_REFUSED;
out:
	json_decref(r.arr);
	for (i = 0; i < o->nheld; i++)
		free(held[i]);
	fw_store_close(s);
	return exit_code;
}

int cli_log_pub(const char *cmd, const char *path, uint8_t pub[32])
{
	struct fw_key *k = NULL;
	struct fw_diag d = {{0}};
	struct fwv_key raw;
	int rc = fw_key_load_public(path, &k, &d);

	if (rc != FW_OK)
		return cli_fail(cmd, rc, &d);
	if (fw_key_alg(k) != FW_KEY_ALG_ED25519) {
		cli_err(cmd, "--key: %s: the log key is Ed25519, this is %s", path,
		        fw_key_alg_name(fw_key_alg(k)));
		fw_key_free(k);
		return EXIT_USAGE;
	}
	fw_key_to_fwv(k, &raw);
	memcpy(pub, raw.pub, 32);
	fw_key_free(k);
	return 0;
}

/* refusals of evidence exit 1; unreadable or malformed input exit 2 */
static int evidence_exit(const char *cmd, int rc, const struct fw_diag *d)
{
	if (rc == FW_E_PROOF || rc == FW_E_SIGNATURE || rc == FW_E_NOT_FOUND || rc == FW_E_ORIGIN ||
	    rc == FW_E_TAMPER) {
		fprintf(stderr, "fwtrust %s: REFUSED: %s\n", cmd, d->msg);
		return EXIT_REFUSED;
	}
	return cli_fail(cmd, rc, d);
}

static int a_verify_proof(struct common *o)
{
	const char *cmd = "audit verify-proof";
	char *cp = NULL, *proof = NULL, *rec = NULL;
	size_t cl = 0, pl = 0, rl = 0;
	struct fw_checkpoint c;
	struct fw_diag d = {{0}};
	uint8_t pub[32];
	uint64_t idx = 0;
	int rc = EXIT_USAGE;

	if (!o->checkpoint)
		return opts_missing(cmd, "--checkpoint");
	if (!o->proof)
		return opts_missing(cmd, "--proof");
	if (!o->record)
		return opts_missing(cmd, "--record");
	if (!o->key)
		return opts_missing(cmd, "--key");
	if (cli_log_pub(cmd, o->key, pub) ||
	    read_text(cmd, "--checkpoint", o->checkpoint, FW_NOTE_MAX, &cp, &cl) ||
	    read_text(cmd, "--proof", o->proof, FW_NOTE_MAX + 8192, &proof, &pl) ||
	    read_text(cmd, "--record", o->record, 1 << 20, &rec, &rl))
		goto out;
	rc = fw_evidence_verify_proof(cp, cl, proof, pl, (const uint8_t *)rec, rl, pub, o->origin,
	                              &idx, &c, &d);
	if (rc != FW_OK) {
		rc = evidence_exit(cmd, rc, &d);
		goto out;
	}
	printf("OK record %llu is in checkpoint %llu of %s\n", (unsigned long long)idx,
	       (unsigned long long)c.size, c.origin);
	rc = EXIT_OK;
out:
	free(cp);
	free(proof);
	free(rec);
	return rc;
}

static int a_verify_consistency(struct common *o)
{
	const char *cmd = "audit verify-consistency";
	char *a = NULL, *b = NULL, *proof = NULL;
	size_t al = 0, bl = 0, pl = 0;
	struct fw_diag d = {{0}};
	uint8_t pub[32];
	int rc = EXIT_USAGE;

	if (!o->old)
		return opts_missing(cmd, "--old");
	if (!o->new_)
		return opts_missing(cmd, "--new");
	if (!o->proof)
		return opts_missing(cmd, "--proof");
	if (!o->key)
		return opts_missing(cmd, "--key");
	if (cli_log_pub(cmd, o->key, pub) || read_text(cmd, "--old", o->old, FW_NOTE_MAX, &a, &al) ||
	    read_text(cmd, "--new", o->new_, FW_NOTE_MAX, &b, &bl) ||
	    read_text(cmd, "--proof", o->proof, 16384, &proof, &pl))
		goto out;
	rc = fw_evidence_verify_consistency(a, al, b, bl, proof, pl, pub, o->origin, &d);
	if (rc != FW_OK) {
		rc = evidence_exit(cmd, rc, &d);
		goto out;
	}
	printf("OK the new checkpoint extends the old one\n");
	rc = EXIT_OK;
out:
	free(a);
	free(b);
	free(proof);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct common *);
	} cmds[] = {
	    {"checkpoint", a_checkpoint},
	    {"key", a_key},
	    {"log", a_log},
	    {"show", a_show},
	    {"prove", a_prove},
	    {"consistency", a_consistency},
	    {"verify", a_verify},
	    {"verify-proof", a_verify_proof},
	    {"verify-consistency", a_verify_consistency},
	};
	struct common o;
	char name[64];
	size_t i;
	int rc;

	if (argc > 1 && strcmp(argv[1], "retention") == 0)
		return cmd_audit_retention(argc - 1, argv + 1);
	if (argc > 1 && (rc = cmd_audit_bundle(argc - 1, argv + 1)) >= 0)
		return rc;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		snprintf(name, sizeof(name), "audit %s", cmds[i].name);
		rc = parse(name, argc - 1, argv + 1, &o);
		if (rc < 0)
			return EXIT_OK; /* --help */
		if (rc > 0)
			return rc;
		return cmds[i].fn(&o);
	}
	cli_err("audit", "unknown command '%s' (run 'fwtrust audit --help')", argv[1]);
	return EXIT_USAGE;
}
