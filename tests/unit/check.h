/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/check.h - the few helpers the plain-C unit tests share.
 *
 * No framework: a check that fails prints one line naming the file and
 * line, the counts are printed at the end as "NAME: N passed, N failed"
 * (a line CI reads), and the exit status says whether any failed.
 *
 * CHECK(cond) / CHECKF(cond, fmt, ...) count into two file-level counters;
 * TCHECK(t, cond, fmt, ...) counts into t->pass / t->fail, for tests that
 * carry a context around.
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stdio.h>

#define TCHECK(t, cond, ...)                                                                       \
	do {                                                                                       \
		if (cond) {                                                                        \
			(t)->pass++;                                                               \
		} else {                                                                           \
			(t)->fail++;                                                               \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

#ifdef CHECK_COUNTERS
static unsigned long n_pass, n_fail;

static int check_(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int check_(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return 1;
	}
	n_fail++;
	printf("FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

#define CHECK(cond)	  check_(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) check_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Print "name: N passed, N failed"; the exit status. */
static int check_summary(const char *name)
{
	printf("%s: %lu passed, %lu failed\n", name, n_pass, n_fail);
	return n_fail ? 1 : 0;
}
#endif

/* A string literal as (pointer, length), so rows may hold NUL bytes. */
#define S(x)	      x, sizeof(x) - 1
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
