/*
 * The audit report outside the library: its summary printed on a terminal
 * (the numbers of report.html, compact), and report.html rendered to PDF
 * by headless Chromium, a separate program run with a private profile, no
 * output of its own and a time limit.
 */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp, realpath, waitid */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"

extern char **environ;

#ifndef PDF_TIMEOUT_MS
#define PDF_TIMEOUT_MS 60000       /* Chromium gets this long to print */
#endif
#define PDF_CHROMIUM "chromium"    /* the program and its Debian package */

/* ---- the summary on a terminal ---- */

static const char *const states[] = {"pending",   "eligible", "ineligible", "delivered",
                                     "installed", "failed",   "paused",     "rolled_back"};

static long long jint(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Text from records, on a terminal: control characters (an escape
 * sequence in a device's detail, say) are shown as '?'. */
static void text(FILE *out, const char *s)
{
	if (s == NULL) {
		fputc('-', out);
		return;
	}
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static void when(FILE *out, const json_t *v)
{
	char t[40];

	fputs(json_is_integer(v) ? cli_time(json_integer_value(v), t, sizeof(t)) : "-", out);
}

static void num(FILE *out, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		fputc('-', out);
}

static void label(FILE *out, const char *l)
{
	fprintf(out, "%-12s", l);
}

/* Up to max record indexes of an array, then how many more. */
static void records(FILE *out, const json_t *a, size_t max)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v) {
		if (i == max) {
			fprintf(out, " (+%zu)", json_array_size(a) - max);
			break;
		}
		fprintf(out, "%s%" JSON_INTEGER_FORMAT, i ? "," : "", json_integer_value(v));
	}
	if (json_array_size(a) == 0)
		fputc('-', out);
}

static void print_release(FILE *out, const char *what, const json_t *rel)
{
	const json_t *k = json_object_get(rel, "signer");

	label(out, what);
	if (!json_is_true(json_object_get(rel, "recorded"))) {
		text(out, jstr(rel, "release_id"));
		fputs(" (no release.add record in the bundle)\n", out);
		return;
	}
	text(out, jstr(rel, "version"));
	fputc(' ', out);
	text(out, jstr(rel, "product"));
	fputc('/', out);
	text(out, jstr(rel, "family"));
	fprintf(out, ", sequence %lld, %.16s… (record ", jint(rel, "sequence"),
	        jstr(rel, "release_id") ? jstr(rel, "release_id") : "?");
	num(out, json_object_get(rel, "record"));
	fputs(")\n", out);
	if (!json_is_object(k))
		return;
	label(out, "signed by");
	text(out, jstr(k, "name"));
	fprintf(out, " (%.16s…, ", jstr(k, "key_id") ? jstr(k, "key_id") : "?");
	text(out, jstr(k, "role"));
	fputs("): ", out);
	text(out, jstr(k, "state"));
	fputs(" (record ", out);
	num(out, json_object_get(k, "record"));
	if (json_is_integer(json_object_get(k, "revoke_record"))) {
		fputs(", revoked in ", out);
		num(out, json_object_get(k, "revoke_record"));
	}
	fputs(")\n", out);
}

static void print_campaign(FILE *out, const json_t *c)
{
	const json_t *v, *why;
	size_t i;

	label(out, "campaign");
	text(out, jstr(c, "id"));
	fputs(" \"", out);
	text(out, jstr(c, "name"));
	fputs("\" (", out);
	text(out, jstr(c, "state"));
	fputs("), created by ", out);
	text(out, jstr(c, "creator"));
	fputs(" (", out);
	text(out, jstr(c, "creator_role"));
	fputs(")\n", out);
	label(out, "members");
	num(out, json_object_get(c, "members"));
	fputs(" (", out);
	num(out, json_object_get(c, "ineligible_at_start"));
	fputs(" ineligible at the start)\n", out);
	label(out, "started");
	when(out, json_object_get(c, "started_ms"));
	fputs(" (record ", out);
	num(out, json_object_get(c, "start_record"));
	fputs(")\n", out);
	label(out, "ended");
	when(out, json_object_get(c, "ended_ms"));
	if (json_is_object(v = json_object_get(c, "complete"))) {
		fputs(": completed (record ", out);
		num(out, json_object_get(v, "record"));
		fputs(json_is_false(json_object_get(v, "counts_agree"))
		          ? "); ITS COUNTS DIFFER FROM THE DEVICE RECORDS"
		          : ")",
		      out);
	} else if (json_is_object(v = json_object_get(c, "abort"))) {
		fputs(": ", out);
		text(out, jstr(v, "kind"));
		fputs(" (", out);
		text(out, jstr(v, "cause"));
		fputs(json_is_true(json_object_get(v, "automatic")) ? ", automatic" : "", out);
		fputs("; record ", out);
		num(out, json_object_get(v, "record"));
		fputs(")", out);
	}
	fputc('\n', out);
	json_array_foreach(json_object_get(c, "stages"), i, v) {
		label(out, i ? "" : "stages");
		fprintf(out, "%zu %-14.14s ", i, jstr(v, "name") ? jstr(v, "name") : "?");
		if (json_is_true(json_object_get(v, "entered"))) {
			fprintf(out, "%8lld devices, entered ", jint(v, "devices"));
			when(out, json_object_get(v, "entered_ms"));
			fputs(" (record ", out);
			num(out, json_object_get(v, "record"));
			fputs(")\n", out);
		} else {
			fputs("not entered\n", out);
		}
	}
	json_array_foreach(json_object_get(c, "pauses"), i, v) {
		why = json_object_get(v, "why");
		label(out, i ? "" : "pauses");
		when(out, json_object_get(v, "at_ms"));
		fputc(' ', out);
		text(out, jstr(v, "cause"));
		if (jstr(why, "by")) {
			fputs(" by ", out);
			text(out, jstr(why, "by"));
		}
		if (json_is_integer(json_object_get(v, "resume_record"))) {
			fputs(", resumed ", out);
			when(out, json_object_get(v, "resumed_ms"));
		} else {
			fputs(", not resumed", out);
		}
		fputs(" (record ", out);
		num(out, json_object_get(v, "record"));
		fputs(")\n", out);
	}
	if (jint(c, "pauses_total") > (long long)json_array_size(json_object_get(c, "pauses")))
		fprintf(out, "%-12s(%lld pauses in all)\n", "", jint(c, "pauses_total"));
}

static void print_reasons(FILE *out, const json_t *by)
{
	const json_t *e;
	size_t i;

	json_array_foreach(by, i, e)
		fprintf(out, "%-12s  %-30s %8lld\n", "", jstr(e, "code") ? jstr(e, "code") : "?",
		        jint(e, "devices"));
}

void cli_report_print(const json_t *summary, FILE *out)
{
	const json_t *b = json_object_get(summary, "bundle"), *a = json_object_get(b, "anchor");
	const json_t *st = json_object_get(summary, "states"), *c = json_object_get(summary, "campaign");
	const json_t *el = json_object_get(summary, "eligibility"), *v, *dec;
	size_t i;

	label(out, "report");
	text(out, jstr(b, "kind"));
	fputc(' ', out);
	text(out, jstr(b, "id"));
	fputc('\n', out);
	label(out, "bundle");
	fprintf(out, "%lld records (", jint(b, "records"));
	num(out, json_object_get(b, "first_record"));
	fputs("..", out);
	num(out, json_object_get(b, "last_record"));
	fputs("), ", out);
	when(out, json_object_get(b, "first_ts"));
	fputs(" .. ", out);
	when(out, json_object_get(b, "last_ts"));
	fputc('\n', out);
	label(out, "checkpoint");
	if (json_is_object(a)) {
		text(out, jstr(a, "origin"));
		fprintf(out, ", size %lld, root ", jint(a, "size"));
		text(out, jstr(a, "root"));
		fputc('\n', out);
	} else {
		fputs("none\n", out);
	}
	print_release(out, "release", json_object_get(summary, "release"));
	if (json_is_object(json_object_get(summary, "rollback_release")))
		print_release(out, "rollback", json_object_get(summary, "rollback_release"));
	if (json_is_object(c)) {
		print_campaign(out, c);
	} else {
		json_array_foreach(json_object_get(summary, "campaigns"), i, v) {
			label(out, i ? "" : "campaigns");
			text(out, jstr(v, "id"));
			fputs(" ", out);
			text(out, jstr(v, "state"));
			fprintf(out, ", %lld members, %lld installed, %lld failed%s\n", jint(v, "members"),
			        jint(json_object_get(v, "counts"), "installed"),
			        jint(json_object_get(v, "counts"), "failed"),
			        json_is_true(json_object_get(v, "counted")) ? "" : " (another release)");
		}
		if (json_array_size(json_object_get(summary, "campaigns")) == 0)
			fprintf(out, "%-12snone in the bundle\n", "campaigns");
	}
	json_array_foreach(json_object_get(summary, "approvals"), i, v) {
		label(out, i ? "" : "approvals");
		text(out, jstr(v, "campaign"));
		fprintf(out, " stage %lld: ", jint(v, "stage"));
		text(out, jstr(v, "operator"));
		fputs(" (", out);
		text(out, jstr(v, "role"));
		fputs("), ", out);
		when(out, json_object_get(v, "ts"));
		fputs(json_is_true(json_object_get(v, "voided")) ? ", voided" : "", out);
		fputs(" (record ", out);
		num(out, json_object_get(v, "record"));
		fputs(")\n", out);
	}
	if (json_is_object(c))
		fprintf(out, "%-12s%s\n", json_array_size(json_object_get(summary, "approvals")) ? ""
		                                                                              : "approvals",
		        json_is_true(json_object_get(c, "four_eyes"))
		            ? "four eyes: distinct approvers, none of them the creator"
		            : "NOT FOUR EYES: an approver is the creator or approved a stage twice");

	/* the devices' final states, in two aligned rows */
	fputc('\n', out);
	label(out, "state");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(out, " %11s", states[i]);
	fputc('\n', out);
	label(out, "devices");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(out, " %11lld", jint(st, states[i]));
	fputs("\n\n", out);

	label(out, "eligibility");
	fprintf(out, "%lld members: %lld eligible, %lld ineligible (%lld at the start, %lld at their "
	             "stage's entry, %lld stopped at delivery), %lld not decided\n",
	        jint(el, "members"), jint(el, "eligible"), jint(el, "ineligible"),
	        jint(el, "ineligible_at_start"), jint(el, "ineligible_at_stage"),
	        jint(el, "stopped_at_delivery"), jint(el, "undecided"));
	print_reasons(out, json_object_get(el, "by_reason"));
	json_array_foreach(json_object_get(el, "runs"), i, v)
		fprintf(out, "%-12srun %lld: %lld devices, %lld eligible, %lld ineligible (record %lld)\n",
		        i ? "" : "runs", jint(v, "run"), jint(v, "devices"), jint(v, "eligible"),
		        jint(v, "ineligible"), jint(v, "record"));
	dec = json_object_get(el, "decisions");
	if (json_is_object(dec)) {
		const json_t *su = json_object_get(dec, "support_until");

		fprintf(out, "%-12s%lld decisions, %lld eligible; support until ", "decisions",
		        jint(dec, "total"), jint(dec, "eligible"));
		text(out, jstr(su, "min"));
		fputs(" .. ", out);
		text(out, jstr(su, "max"));
		fprintf(out, " (%lld without a date)\n", jint(su, "missing"));
	}
	v = json_object_get(summary, "failed");
	label(out, "failed");
	fprintf(out, "%lld now; %lld device(s) failed an attempt; %lld failed attempt(s), %lld "
	             "timeout(s), %lld integrity failure(s)\n",
	        jint(v, "now"), jint(v, "devices"), jint(v, "attempts"), jint(v, "timeouts"),
	        jint(v, "integrity_failures"));
	label(out, "rolled back");
	fprintf(out, "%lld\n", jint(json_object_get(summary, "rolled_back"), "total"));
	label(out, "quarantined");
	fprintf(out, "%lld\n", jint(json_object_get(summary, "quarantined"), "total"));
	if (jint(summary, "inconsistencies") > 0)
		fprintf(out, "%-12s%lld device record(s) do not follow from the ones before them\n",
		        "INCONSISTENT", jint(summary, "inconsistencies"));

	fputc('\n', out);
	json_array_foreach(json_object_get(summary, "cra"), i, v) {
		label(out, i ? "" : "cra");
		fprintf(out, "%-24s %-13s records ", jstr(v, "id") ? jstr(v, "id") : "?",
		        jstr(v, "status") ? jstr(v, "status") : "?");
		records(out, json_object_get(v, "records"), 8);
		fputc('\n', out);
	}
}

/* ---- report.pdf ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* file:// URL of an absolute path: bytes outside [A-Za-z0-9/._~-]
 * percent-encoded (a space, '#' or '%' in a directory name). */
static char *file_url(const char *abs)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(abs);
	char *u = malloc(7 + 3 * n + 1), *p;

	if (u == NULL)
		return NULL;
	p = u + sprintf(u, "file://");
	for (; *abs; abs++) {
		unsigned char ch = (unsigned char)*abs;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("/._~-", ch)) {
			*p++ = (char)ch;
		} else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = 0;
	return u;
}

/* An absolute path for a file that may not exist yet (its directory must). */
static char *abs_path(const char *path)
{
	char dir[PATH_MAX], *slash, *out;
	const char *base;

	if (path[0] == '/')
		return strdup(path);
	slash = strrchr(path, '/');
	if (slash == NULL) {
		if (getcwd(dir, sizeof(dir)) == NULL)
			return NULL;
		base = path;
	} else {
		char d[PATH_MAX];

		if ((size_t)(slash - path) >= sizeof(d))
			return NULL;
		memcpy(d, path, (size_t)(slash - path));
		d[slash - path] = 0;
		if (realpath(d[0] ? d : "/", dir) == NULL)
			return NULL;
		base = slash + 1;
	}
	out = malloc(strlen(dir) + strlen(base) + 2);
	if (out)
		sprintf(out, "%s/%s", dir, base);
	return out;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run argv with no input or output, in a process group of its own, for
 * at most PDF_TIMEOUT_MS: its exit status, -1 on timeout (the group is
 * killed), -2 when it cannot be started (errno set). Helpers it leaves
 * behind in its group are ended with it. */
static int run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	siginfo_t si;
	int64_t deadline = now_ms() + PDF_TIMEOUT_MS;
	int rc, status;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -2;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -2;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	rc = strchr(argv[0], '/') ? posix_spawn(&pid, argv[0], &fa, &at, argv, environ)
	                          : posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		errno = rc;
		return -2;
	}
	for (;;) {
		/* wait without reaping, so that its pid (its group's id) stays
		 * taken while the group is killed */
		memset(&si, 0, sizeof(si));
		rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if (rc == 0 && si.si_pid == pid)
			break;
		if (rc != 0 && errno != EINTR)
			break;
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cli_report_pdf(const char *cmd, const char *html_path, const char *pdf_path)
{
	const char *bin = getenv("FWTRUST_CHROMIUM"), *tmp = getenv("TMPDIR");
	char html_abs[PATH_MAX], profile[PATH_MAX], *url = NULL, *pdf = NULL, *part = NULL;
	char *a_profile = NULL, *a_out = NULL;
	char head[5] = {0};
	FILE *f;
	int rc = EXIT_USAGE, st;

	if (bin == NULL || bin[0] == 0)
		bin = PDF_CHROMIUM;
	if (tmp == NULL || tmp[0] == 0)
		tmp = "/tmp";
	profile[0] = 0;
	if (realpath(html_path, html_abs) == NULL) {
		cli_err(cmd, "%s: %s", html_path, strerror(errno));
		return EXIT_USAGE;
	}
	url = file_url(html_abs);
	pdf = abs_path(pdf_path);
	if (url == NULL || pdf == NULL || (part = malloc(strlen(pdf) + 6)) == NULL) {
		cli_err(cmd, "%s: cannot name the PDF (%s)", pdf_path, strerror(errno ? errno : ENOMEM));
		goto out;
	}
	sprintf(part, "%s.part", pdf);
	if (snprintf(profile, sizeof(profile), "%s/fwtrust-chromium-XXXXXX", tmp) >=
	        (int)sizeof(profile) ||
	    mkdtemp(profile) == NULL) {
		cli_err(cmd, "a temporary directory under %s: %s", tmp, strerror(errno));
		profile[0] = 0;
		goto out;
	}
	a_profile = malloc(strlen(profile) + 32);
	a_out = malloc(strlen(part) + 32);
	if (a_profile == NULL || a_out == NULL) {
		cli_err(cmd, "out of memory");
		goto out;
	}
	sprintf(a_profile, "--user-data-dir=%s", profile);
	sprintf(a_out, "--print-to-pdf=%s", part);
	{
		char *argv[] = {(char *)bin,
		                "--headless=new",
		                "--no-sandbox",
		                "--disable-gpu",
		                "--no-pdf-header-footer",
		                "--no-first-run",
		                "--disable-extensions",
		                a_profile,
		                a_out,
		                url,
		                NULL};

		unlink(part);
		st = run_quiet(argv);
	}
	if (st == -2 && errno == ENOENT) {
		cli_err(cmd, "report.pdf needs Chromium: %s is not installed (Debian: apt-get install "
		             "%s), or name the program with FWTRUST_CHROMIUM",
		        bin, PDF_CHROMIUM);
		goto out;
	}
	if (st == -2) {
		cli_err(cmd, "report.pdf: cannot run %s: %s", bin, strerror(errno));
		goto out;
	}
	if (st == -1) {
		cli_err(cmd, "report.pdf: %s did not finish within %d s: stopped", bin,
		        PDF_TIMEOUT_MS / 1000);
		goto out;
	}
	f = fopen(part, "rb");
	if (f != NULL) {
		if (fread(head, 1, 4, f) != 4)
			head[0] = 0;
		fclose(f);
	}
	if (st != 0 || memcmp(head, "%PDF", 4) != 0) {
		cli_err(cmd, "report.pdf: %s %s without writing a PDF", bin,
		        st != 0 ? "failed" : "finished");
		goto out;
	}
	if (rename(part, pdf) != 0) {
		cli_err(cmd, "%s: %s", pdf_path, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	if (part)
		unlink(part);
	if (profile[0])
		nftw(profile, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(a_profile);
	free(a_out);
	free(url);
	free(pdf);
	free(part);
	return rc;
}
