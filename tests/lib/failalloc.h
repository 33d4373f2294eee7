/*
 * OpenSSL allocations that fail on demand, for tests that check every
 * allocation failure in turn. Linking failalloc.c into a test installs the
 * allocator before main (OpenSSL takes one only before its first
 * allocation); set failalloc_budget to the number of allocations that may
 * still succeed, or -1 for no limit.
 */
#ifndef FW_TEST_FAILALLOC_H
#define FW_TEST_FAILALLOC_H

extern long failalloc_budget;
/* 1 when the allocator is in place (else the test cannot prove anything) */
int failalloc_installed(void);

#endif
