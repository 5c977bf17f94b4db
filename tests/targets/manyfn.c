/* SPDX-License-Identifier: MIT */
/*
 * manyfn.c - a target with 1,000 small functions, for many tracepoints at
 * distinct locations (tests/integration/test_manytp.py, bench/many_tp.py).
 *
 * fn000 .. fn999 each add their number to their argument.  main calls
 * every one of them in turn, then sleeps `period_ms` (argv[1], default 50),
 * forever; `passes` counts the rounds.
 *
 * Output: one line "ready <pid>" on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

#define NFN 1000

volatile long passes;
volatile long counter; /* the sum so far (harness: assert_running) */

/* The functions and their table, by hundreds. */
/* clang-format off */
#define F(n)                                                                                       \
	NOINLINE long fn##n(long x)                                                                \
	{                                                                                          \
		return x + 1##n - 1000;                                                            \
	}
#define F10(p) F(p##0) F(p##1) F(p##2) F(p##3) F(p##4) F(p##5) F(p##6) F(p##7) F(p##8) F(p##9)
#define F100(p)                                                                                    \
	F10(p##0) F10(p##1) F10(p##2) F10(p##3) F10(p##4) F10(p##5) F10(p##6) F10(p##7)           \
	F10(p##8) F10(p##9)
F100(0) F100(1) F100(2) F100(3) F100(4) F100(5) F100(6) F100(7) F100(8) F100(9)

#define P(n) fn##n,
#define P10(p) P(p##0) P(p##1) P(p##2) P(p##3) P(p##4) P(p##5) P(p##6) P(p##7) P(p##8) P(p##9)
#define P100(p)                                                                                    \
	P10(p##0) P10(p##1) P10(p##2) P10(p##3) P10(p##4) P10(p##5) P10(p##6) P10(p##7)           \
	P10(p##8) P10(p##9)

static long (*const fns[NFN])(long) = {P100(0) P100(1) P100(2) P100(3) P100(4) P100(5) P100(6)
					       P100(7) P100(8) P100(9)};
/* clang-format on */

int main(int argc, char **argv)
{
	long period_ms = argc > 1 ? atol(argv[1]) : 50;
	struct timespec ts = {.tv_sec = period_ms / 1000, .tv_nsec = (period_ms % 1000) * 1000000};

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		long s = 0;
		int i;

		for (i = 0; i < NFN; i++)
			s = fns[i](s);
		counter += s;
		passes++;
		nanosleep(&ts, NULL);
	}
	return 0;
}
