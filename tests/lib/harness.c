#define _GNU_SOURCE
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

int harness_failed_checks;
static const char *current;
static char tmpdir[256];

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	harness_failed_checks++;
	fprintf(stdout, "  %s:%d: %s: ", file, line, current ? current : "?");
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static void cleanup(void)
{
	char cmd[300];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

const char *harness_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/fwtest-XXXXXX", base ? base : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(cleanup);
	}
	return tmpdir;
}

const char *harness_tmp_path(const char *name)
{
	static char p[8][700];
	static int k;
	char *out = p[k++ % 8];

	snprintf(out, sizeof(p[0]), "%s/%s", harness_tmpdir(), name);
	return out;
}

const char *harness_src_path(const char *rel)
{
	static char buf[4][1024];
	static int slot;
	char *p = buf[slot++ % 4];

	snprintf(p, 1024, "%s/%s", FW_SOURCE_ROOT, rel);
	return p;
}

unsigned char *harness_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)n;
	return buf;
}

int harness_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

int harness_run(const struct harness_test *tests, size_t n, int argc, char **argv)
{
	size_t i;
	int passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		int before = harness_failed_checks;

		if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL)
			continue;
		current = tests[i].name;
		tests[i].fn();
		if (harness_failed_checks == before) {
			passed++;
			printf("ok   %s\n", tests[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("RESULT %d %d\n", passed, failed);
	return failed ? 1 : 0;
}
