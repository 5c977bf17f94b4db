/* SPDX-License-Identifier: MIT */
/*
 * fpchain.c - a call chain for call stacks by frame pointers
 * (stub/views/fpstack.c, tests/integration/test_fpstack.py).
 *
 * main calls outer(i) every 2 ms with i = 0, 1, 2...; outer calls
 * middle(n + 3), middle calls inner(n + 2), inner calls leaf(n + 1): all
 * noinline, none a tail call (each adds to the result after the call).
 * The lines of the calls carry a comment "call: NAME" for the test.
 * Built -O0 -fno-omit-frame-pointer (fpchain) and -O2 (fpchain-O2: GCC's
 * default, no frame pointers).
 * Output: "ready <pid>" once running.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

volatile long sink;

NOINLINE long leaf(long n)
{
	return n * 3 + sink;
}

NOINLINE long inner(long n)
{
	long r = leaf(n + 1); /* call: leaf */

	return r + 1;
}

NOINLINE long middle(long n)
{
	long r = inner(n + 2); /* call: inner */

	return r + 2;
}

NOINLINE long outer(long n)
{
	long r = middle(n + 3); /* call: middle */

	return r + 3;
}

int main(void)
{
	struct timespec ts = {0, 2000000};
	long i;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0;; i++) {
		sink = outer(i); /* call: outer */
		nanosleep(&ts, NULL);
	}
	return 0;
}
