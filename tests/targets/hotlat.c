/* SPDX-License-Identifier: MIT */
/*
 * hotlat - target for histogram tracepoints (monitor trace -hist / -count).
 *
 * Prints "ready <pid>", then waits.  Each SIGUSR1 runs one batch of
 * BATCH iterations, i = 0 .. BATCH-1:
 *   work(us):    us = 10 when i % 10 < 8 (80%), else 100 (20%); spins that
 *                long on CLOCK_MONOTONIC
 *   size_of(len): len = lens[i % 5] = 0, 1, 7, 100, 4096 (BATCH / 5 each)
 *   tag_of(name): name = "alpha", "beta", "gamma", "alpha" for i % 4
 * then prints "done <batches> <work calls> <size_of calls> <tag_of calls>".
 * The counters are the target's own, for the test to compare with.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

#define BATCH 500

static volatile sig_atomic_t go;
volatile unsigned long n_work, n_size, n_tag, sink;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

NOINLINE void work(int us)
{
	unsigned long long end = now_ns() + (unsigned long long)us * 1000ull;

	while (now_ns() < end)
		sink++;
	n_work++;
}

NOINLINE long size_of(long len)
{
	n_size++;
	return len * 2 + (long)sink % 2;
}

NOINLINE int tag_of(const char *name)
{
	n_tag++;
	return (int)strlen(name);
}

int main(void)
{
	static const long lens[] = {0, 1, 7, 100, 4096};
	static const char *const names[] = {"alpha", "beta", "gamma", "alpha"};
	unsigned long batches = 0;
	int i;

	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		if (!go) {
			usleep(5000);
			continue;
		}
		go = 0;
		for (i = 0; i < BATCH; i++) {
			work(i % 10 < 8 ? 10 : 100);
			sink += (unsigned long)size_of(lens[i % 5]);
			sink += (unsigned long)tag_of(names[i % 4]);
		}
		batches++;
		printf("done %lu %lu %lu %lu\n", batches, n_work, n_size, n_tag);
		fflush(stdout);
	}
}
