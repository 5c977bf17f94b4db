/* SPDX-License-Identifier: MIT */
/*
 * bench/loop.c - the traced program of `make bench`.
 *
 *   loop CALLS TRIGGER OUT [push]
 *
 * Waits until the file TRIGGER exists (so a probe or a debugger can be set
 * up first), then calls bench_fn() (or bench_push() with "push") CALLS
 * times in a tight loop, writes the mean nanoseconds per call to OUT and
 * exits.  Both take two arguments and a pointer to a 64-byte global, which
 * the tracepoint collects.
 *
 * Two probe sites, because the kernel makes them cost very differently:
 * bench_fn's first instruction (where `trace bench_fn` lands at -O2) is a
 * load the kernel must single-step out of line after the breakpoint trap
 * (two traps per hit, ~20 us on this VM), while bench_push starts with
 * `push %rbp`, which the kernel emulates (one trap, under 1 us): there the
 * BPF program's own cost is most visible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_push.h"

char bench_buf[64] = "sixty-four bytes of memory collected at every single hit....";
volatile long bench_sink;

__attribute__((noinline)) long bench_fn(long a, long b, char *buf)
{
	return a + b + buf[a & 63];
}

/* In assembly, so that its first instruction is surely `push %rbp`. */
__asm__(BENCH_PUSH_ASM);

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	long calls, i;
	FILE *f;

	long (*fn)(long, long, char *) = bench_fn;

	if (argc != 4 && argc != 5)
		return 2;
	if (argc == 5)
		fn = bench_push;
	calls = atol(argv[1]);
	while (access(argv[2], F_OK))
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < calls; i++)
		bench_sink += fn(i, 2 * i, bench_buf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, "%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / calls);
	fclose(f);
	return 0;
}
