#include "failalloc.h"

#include <stdlib.h>

#include <openssl/crypto.h>

long failalloc_budget = -1;
static int installed;

static int take(void)
{
	if (failalloc_budget == 0)
		return 0;
	if (failalloc_budget > 0)
		failalloc_budget--;
	return 1;
}

static void *f_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return take() ? malloc(n) : NULL;
}

static void *f_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return take() ? realloc(p, n) : NULL;
}

static void f_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

__attribute__((constructor)) static void install(void)
{
	installed = CRYPTO_set_mem_functions(f_malloc, f_realloc, f_free);
}

int failalloc_installed(void)
{
	return installed;
}
