/* SPDX-License-Identifier: MIT */
/*
 * bench/loop.c - the traced program of `make bench`.
 *
 *   loop CALLS TRIGGER OUT [push|stack|deep|deep-push]
 *   loop CALLS TRIGGER OUT push THREADS RATE
 *
 * Waits until the file TRIGGER exists (so a probe or a debugger can be set
 * up first), then calls bench_fn() (or bench_push() with "push") CALLS
 * times in a tight loop, writes the mean nanoseconds per call to OUT and
 * exits.  Both take two arguments and a pointer to a 64-byte global, which
 * the tracepoint collects.
 *
 * For deep collection (what the arguments point to, found in the DWARF):
 * "stack" calls bench_push() under 8 frames with frame pointers (bench_down).
 * "deep" calls bench_deep(&bench_item, "bench-name") and "deep-push"
 * bench_deep_push(&bench_item, "bench-name"), both taking a struct pointer
 * (the struct has a char * field) and a C string literal.  bench_deep's
 * first instruction is a load (single-stepped); bench_deep_push keeps a
 * frame pointer, so its first instruction is `push %rbp` (emulated), with
 * the same DWARF for its arguments at its entry.
 *
 * With THREADS and RATE (bench/service.py's hit rate ladder), THREADS
 * threads each call bench_push() CALLS times, paced to RATE calls per
 * second each (0: a tight loop), and OUT gets the total calls per second
 * achieved instead.
 *
 * Two probe sites, because the kernel makes them cost very differently:
 * bench_fn's first instruction (where `trace bench_fn` lands at -O2) is a
 * load the kernel must single-step out of line after the breakpoint trap
 * (two traps per hit, ~20 us on this VM), while bench_push starts with
 * `push %rbp`, which the kernel emulates (one trap, under 1 us): there the
 * BPF program's own cost is most visible.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_clock.h"
#include "bench/bench_push.h"

char bench_buf[64] = "sixty-four bytes of memory collected at every single hit....";
volatile long bench_sink;
void *volatile bench_frame;

struct bench_item {
	long id;
	const char *label;
	long value[4];
};

struct bench_item bench_item = {7, "bench-label", {1, 2, 3, 4}};

__attribute__((noinline)) long bench_fn(long a, long b, char *buf)
{
	return a + b + buf[a & 63];
}

__attribute__((noinline)) long bench_deep(struct bench_item *it, const char *name)
{
	return it->id + name[it->id & 7];
}

/* The same with a frame pointer (asking for its own frame's address makes
 * GCC set one up), so its first instruction is `push %rbp` (bench/run.py
 * checks), in C so that DWARF describes its arguments. */
__attribute__((noinline)) long bench_deep_push(struct bench_item *it, const char *name)
{
	bench_frame = __builtin_frame_address(0);
	return it->id + name[it->id & 7];
}

/* In assembly, so that its first instruction is surely `push %rbp`. */
__asm__(BENCH_PUSH_ASM);

/*
 * "stack": bench_push called under BENCH_STACK_DEPTH frames of
 * bench_down, each with frame pointers and a 100-byte array (the call
 * stack of a service's handler, for stack-window fp against a window):
 * ~1.3 KiB of stack, 9 frame-pointer records.
 */
#define BENCH_STACK_DEPTH 8

__attribute__((noinline, optimize("no-omit-frame-pointer"))) long bench_down(long n, long i)
{
	volatile char pad[100];

	pad[n] = (char)i;
	if (!n)
		return bench_push(i, 2 * i, bench_buf) + pad[0];
	return bench_down(n - 1, i) + pad[n];
}

static long bench_stack(long i, long j, char *buf)
{
	(void)j;
	(void)buf;
	return bench_down(BENCH_STACK_DEPTH, i);
}

static long paced_calls;
static double paced_rate;

/* One paced thread: call i is made no earlier than t0 + i / rate. */
static void *paced(void *arg)
{
	double t0 = bench_now_s();
	long i;

	for (i = 0; i < paced_calls; i++) {
		if (paced_rate > 0)
			while (bench_now_s() < t0 + (double)i / paced_rate)
				;
		bench_sink += bench_push(i, 2 * i, bench_buf);
	}
	return arg;
}

static int run_paced(const char *out, int threads)
{
	pthread_t th[16];
	double t0, t1;
	int i, n = 0;
	FILE *f;

	t0 = bench_now_s();
	for (i = 0; i < threads; i++, n++)
		if (pthread_create(&th[i], NULL, paced, NULL))
			break;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t1 = bench_now_s();
	f = fopen(out, "w");
	if (!f || n != threads)
		return 1;
	fprintf(f, "%.1f\n", (double)paced_calls * threads / (t1 - t0));
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	long calls, i;
	FILE *f;

	long (*fn)(long, long, char *) = bench_fn;
	long (*deep)(struct bench_item *, const char *) = NULL;

	if (argc == 7 && !strcmp(argv[4], "push")) {
		int threads = atoi(argv[5]);

		paced_calls = atol(argv[1]);
		paced_rate = atof(argv[6]);
		if (threads < 1 || threads > 16 || paced_calls < 1 || paced_rate < 0)
			return 2;
		while (access(argv[2], F_OK))
			usleep(1000);
		return run_paced(argv[3], threads);
	}
	if (argc != 4 && argc != 5)
		return 2;
	if (argc == 5 && !strcmp(argv[4], "push"))
		fn = bench_push;
	else if (argc == 5 && !strcmp(argv[4], "stack"))
		fn = bench_stack;
	else if (argc == 5 && !strcmp(argv[4], "deep"))
		deep = bench_deep;
	else if (argc == 5 && !strcmp(argv[4], "deep-push"))
		deep = bench_deep_push;
	else if (argc == 5)
		return 2;
	calls = atol(argv[1]);
	while (access(argv[2], F_OK))
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (deep) {
		for (i = 0; i < calls; i++)
			bench_sink += deep(&bench_item, "bench-name");
	} else {
		for (i = 0; i < calls; i++)
			bench_sink += fn(i, 2 * i, bench_buf);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, "%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / calls);
	fclose(f);
	return 0;
}
