/* SPDX-License-Identifier: MIT */
/*
 * fpdeep.c - a call stack deeper than a 2 KiB stack window, for the
 * frame-pointer chain walked in the kernel (bpf/fpchain.h,
 * tests/integration/test_fpcollect.py).
 *
 * main calls descend(FPDEEP_DEPTH) every 2 ms; descend(n) keeps a 100-byte
 * local array and calls descend(n - 1) until n is 0, where it calls
 * bottom(): bottom's callers are FPDEEP_DEPTH + 1 frames of descend, then
 * main (over 5 KiB of stack).  Built -O0 -fno-omit-frame-pointer.
 * Output: "ready <pid>" once running.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

#define FPDEEP_DEPTH 50

volatile long sink;

NOINLINE long bottom(long n)
{
	return n + sink;
}

NOINLINE long descend(long n)
{
	char pad[100];
	long r;

	memset(pad, (int)n, sizeof(pad));
	if (n == 0)
		r = bottom(pad[0]); /* call: bottom */
	else
		r = descend(n - 1); /* call: descend */
	return r + pad[n % 100];
}

int main(void)
{
	struct timespec ts = {0, 2000000};

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		sink = descend(FPDEEP_DEPTH); /* call: main */
		nanosleep(&ts, NULL);
	}
	return 0;
}
