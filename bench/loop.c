/* SPDX-License-Identifier: MIT */
/*
 * bench/loop.c - the traced program of `make bench`.
 *
 *   loop CALLS TRIGGER OUT
 *
 * Waits until the file TRIGGER exists (so a probe or a debugger can be set
 * up first), then calls bench_fn() CALLS times in a tight loop, writes the
 * mean nanoseconds per call to OUT and exits.  bench_fn takes two
 * arguments and a pointer to a 64-byte global, which the tracepoint
 * collects: `collect $regs, a, b, bench_buf`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

char bench_buf[64] = "sixty-four bytes of memory collected at every single hit....";
volatile long bench_sink;

__attribute__((noinline)) long bench_fn(long a, long b, char *buf)
{
	return a + b + buf[a & 63];
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	long calls, i;
	FILE *f;

	if (argc != 4)
		return 2;
	calls = atol(argv[1]);
	while (access(argv[2], F_OK))
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < calls; i++)
		bench_sink += bench_fn(i, 2 * i, bench_buf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, "%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / calls);
	fclose(f);
	return 0;
}
