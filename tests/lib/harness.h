/*
 * Minimal test harness: TEST(name) functions registered in a table,
 * CHECK/CHECK_EQ record failures with file:line, the runner prints one
 * line per test and "RESULT <passed> <failed>" for tests/run.sh.
 */
#ifndef FW_TEST_HARNESS_H
#define FW_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int harness_failed_checks;
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                   \
	do {                                                              \
		if (!(cond))                                                  \
			harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);     \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                      \
		if (a_ != b_)                                                            \
			harness_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
			             #a, a_, #b, b_);                                        \
	} while (0)

struct harness_test {
	const char *name;
	void (*fn)(void);
};

/* Each test file defines: static const struct harness_test tests[] = {...};
 * and ends with HARNESS_MAIN(tests). */
int harness_run(const struct harness_test *tests, size_t n, int argc, char **argv);
#define HARNESS_MAIN(t)                                                   \
	int main(int argc, char **argv)                                       \
	{                                                                     \
		return harness_run(t, sizeof(t) / sizeof((t)[0]), argc, argv);    \
	}

/* Helpers shared by tests. */
/* Path of a file under the source tree (FW_SOURCE_ROOT is set by meson). */
const char *harness_src_path(const char *rel);
/* A fresh temporary directory for this test process (removed at exit). */
const char *harness_tmpdir(void);
/* harness_tmpdir()/name, in one of 8 static buffers used in turn (the last
 * 8 results stay valid). */
const char *harness_tmp_path(const char *name);
/* Read a whole file; returns malloc'd buffer or NULL. */
unsigned char *harness_read(const char *path, size_t *len);
int harness_write(const char *path, const void *data, size_t len);

#endif
