/* fwtrust command line: shared helpers for the subcommands (src/cli only). */
#ifndef FW_CLI_H
#define FW_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/core.h"

/* Exit codes (docs/cli.md). */
#define EXIT_OK 0
#define EXIT_REFUSED 1  /* verification refused the input */
#define EXIT_USAGE 2    /* bad flags, unreadable or malformed input */

/* Print "fwtrust <cmd>: <message>" on stderr. */
void cli_err(const char *cmd, const char *fmt, ...) FW_PRINTF(2, 3);
/* Map a library error to an exit code after printing d->msg. */
int cli_fail(const char *cmd, int rc, const struct fw_diag *d);

struct fw_store;
/* Open the store at --db (or $FWTRUST_DB, or ./fwtrust.db); prints the
 * error and returns non-zero on failure. */
int cli_open_store(const char *cmd, const char *db, struct fw_store **s);
/* "<cmd> ID [--db PATH]": print the JSON document get() finds for ID
 * (a new reference in *doc). help is printed for --help; what names the
 * argument in "expected exactly one <what>". */
typedef int (*cli_get_fn)(struct fw_store *s, const char *id, json_t **doc, struct fw_diag *d);
int cli_show(const char *cmd, const char *help, const char *what, int argc, char **argv,
             cli_get_fn get);
/* "<cmd> [--json] [--db PATH]": the array list() returns, in *out (a new
 * reference), and whether --json was given. *out stays NULL when there
 * is nothing to print (--help, an error): then return the exit code. */
typedef int (*cli_list_fn)(struct fw_store *s, json_t **all, struct fw_diag *d);
int cli_list(const char *cmd, const char *help, int argc, char **argv, cli_list_fn list,
             json_t **out, int *as_json);
/* Who is acting: $FWTRUST_ACTOR, else "user:<login name>". */
const char *cli_actor(void);
/* Print a JSON value (pretty, sorted keys) on stdout. */
void cli_print_json(const void *json);
/* Unix milliseconds as "YYYY-MM-DD HH:MM:SSZ" (UTC) in buf (at least 24
 * bytes); returns buf. */
const char *cli_time(long long ms, char *buf, size_t cap);

/* A progress bar on stderr, drawn only when stderr is a terminal and at
 * most a few times a second: "label [#####.....]  45%  detail". total 0:
 * unknown. cli_progress_done ends the line (if one was drawn). */
struct cli_progress {
	const char *label;
	int tty;
	int drawn;
	long long last_ms;
};
void cli_progress_init(struct cli_progress *p, const char *label);
void cli_progress(struct cli_progress *p, unsigned long long done, unsigned long long total,
                  const char *unit);
void cli_progress_done(struct cli_progress *p);

int cmd_init(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_crl(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_eligibility(int argc, char **argv);
int cmd_operator(int argc, char **argv);
int cmd_vuln(int argc, char **argv);
/* fwtrust vuln remediate | isolate (cmd_vuln_remediate.c, cmd_vuln_isolate.c):
 * argv[0] is the subcommand */
int cmd_vuln_remediate(int argc, char **argv);
int cmd_vuln_isolate(int argc, char **argv);
/* fwtrust vuln import (cmd_vuln_import.c): argv[0] is "import" */
int cmd_vuln_import(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_device_token(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* The log's Ed25519 public key from a PEM file (--key of the offline
 * verifiers); 0, or the exit code after printing why (cmd_audit.c). */
int cli_log_pub(const char *cmd, const char *path, uint8_t pub[32]);
/* fwtrust audit export | verify-bundle | summary (cmd_bundle.c): argv[0]
 * is the subcommand; -1 when it is none of them */
int cmd_audit_bundle(int argc, char **argv);
/* fwtrust vuln report ID --out DIR: an advisory's bundle (cmd_bundle.c). */
int cmd_vuln_report(int argc, char **argv);
/* fwtrust vuln progress ID: the cohort's series (cmd_vuln_progress.c). */
int cmd_vuln_progress(int argc, char **argv);
/* fwtrust audit retention (cmd_retention.c) */
int cmd_audit_retention(int argc, char **argv);
/* The audit report on the terminal and as PDF (cmd_report.c): print a
 * summary (fw_report_summary) as text; render report.html to PDF with
 * headless Chromium (0, or 2 after printing why to stderr as cmd). */
void cli_report_print(const json_t *summary, FILE *out);
int cli_report_pdf(const char *cmd, const char *html_path, const char *pdf_path);
int cmd_key(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

#endif
