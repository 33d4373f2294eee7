/*
 * Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer,
 * so every committed input (seeds and past fuzz finds) runs in the
 * ordinary test suite, also under ASan/UBSan builds.
 *
 * Usage: fuzz_envelope_replay DIR|FILE...
 * Directories are read one level deep; all files are run in sorted path
 * order. A crash or sanitizer report is the failure that matters; an
 * unreadable input or an empty corpus also fails (exit 1), since a replay
 * of nothing cannot fail. Output: one ok/FAIL line and "RESULT <passed>
 * <failed>" for tests/run.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef TARGET
#define TARGET "fuzz_envelope"
#endif
#define MAX_INPUT (1024u * 1024u) /* corpus files are small; refuse anything odd */

struct paths {
	char **v;
	size_t n, cap;
};

static int fail(const char *what, const char *path, int err)
{
	printf("FAIL " TARGET " corpus (%s %s: %s)\n", what, path, strerror(err));
	printf("RESULT 0 1\n");
	return 1;
}

static int add_path(struct paths *p, const char *dir, const char *name)
{
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *s;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	s = malloc(len);
	if (s == NULL)
		return ENOMEM;
	if (dir[0])
		snprintf(s, len, "%s/%s", dir, name);
	else
		snprintf(s, len, "%s", name);
	p->v[p->n++] = s;
	return 0;
}

static int collect(struct paths *p, const char *arg)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (stat(arg, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return add_path(p, "", arg);
	d = opendir(arg);
	if (d == NULL)
		return errno;
	while ((de = readdir(d)) != NULL) {
		char full[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", arg, de->d_name);
		if (stat(full, &st) != 0) {
			rc = errno;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		rc = add_path(p, arg, de->d_name);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

/* Whole file into an exactly sized heap buffer, so ASan sees any read past
 * the end of the input. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc = 0;

	if (f == NULL)
		return errno;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		rc = errno ? errno : EIO;
		goto out;
	}
	if ((unsigned long)n > MAX_INPUT) {
		rc = EFBIG;
		goto out;
	}
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		rc = EIO; /* error or the file shrank while read */
		free(buf);
		buf = NULL;
		goto out;
	}
	*out = buf;
	*len = (size_t)n;
out:
	fclose(f);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct paths p = {NULL, 0, 0};
	size_t i;
	int a, rc, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		printf("FAIL " TARGET " corpus (no corpus given)\nRESULT 0 1\n");
		return 1;
	}
	for (a = 1; a < argc; a++) {
		rc = collect(&p, argv[a]);
		if (rc != 0) {
			status = fail("cannot read", argv[a], rc);
			goto out;
		}
	}
	if (p.n == 0) {
		printf("FAIL " TARGET " corpus (no inputs found)\nRESULT 0 1\n");
		status = 1;
		goto out;
	}
	qsort(p.v, p.n, sizeof(p.v[0]), cmp_path);
	for (i = 0; i < p.n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		rc = read_file(p.v[i], &buf, &len);
		if (rc != 0) {
			status = fail("cannot read", p.v[i], rc);
			goto out;
		}
		/* a crash here names the input on stderr first */
		fprintf(stderr, "replay %s (%zu bytes)\n", p.v[i], len);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("ok   " TARGET " corpus (%zu inputs)\n", p.n);
	printf("RESULT 1 0\n");
out:
	for (i = 0; i < p.n; i++)
		free(p.v[i]);
	free(p.v);
	return status;
}
