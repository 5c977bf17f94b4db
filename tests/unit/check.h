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
#include <stddef.h>
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

/* Printable rendering of arbitrary bytes, for messages (rotating buffers). */
static __attribute__((unused)) const char *show(const char *p, size_t len)
{
	static char bufs[4][512];
	static int k;
	char *b = bufs[k++ & 3];
	size_t i, o = 0;

	for (i = 0; i < len && o < sizeof(bufs[0]) - 16; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			b[o++] = (char)ch;
		else
			o += (size_t)sprintf(b + o, "\\x%02x", ch);
	}
	if (i < len)
		o += (size_t)sprintf(b + o, "...");
	b[o] = '\0';
	return b;
}

/* Hex text ("26 00 05" or "260005") into bytes; the count decoded. */
static __attribute__((unused)) size_t unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < cap) {
		if (h[0] == ' ') {
			h++;
			continue;
		}
		if (sscanf(h, "%2x", &b) != 1)
			break;
		out[n++] = (unsigned char)b;
		h += 2;
	}
	return n;
}

/* A string literal as (pointer, length), so rows may hold NUL bytes. */
#define S(x)	      x, sizeof(x) - 1
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
