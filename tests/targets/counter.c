/* SPDX-License-Identifier: MIT */
/*
 * counter.c - the main test target: a live, busy, multi-threaded process.
 *
 * Threads: main ("counter"), "worker-1" and "worker-2" (pthread_setname_np).
 *   worker-1 increments `counter` every 2 ms, worker-2 increments `ticks`
 *   every 2 ms.  Main calls compute() about every 5 ms.
 *
 * compute() is the tracepoint target.  Its arguments are a deterministic
 * function of the call index i (the value of `calls` before the call,
 * starting at 0), so a test that collects them can check them:
 *     n   = (int)(i % 1000)
 *     m   = i * 3 + 1
 *     it  = &items[i % 4]        items[k] = { .id = k + 1, .value = (k + 1) * 100,
 *                                             .name = "item-<k+1>" }
 *     buf = scratch, holding the string "call <i>"
 *   and it returns n + (int)m + it->id (the result is stored in `last_result`).
 *
 * Fixed globals that the program never changes (for "writes refused" tests):
 *   message = "hello from counter", config = { 42, 1234, "first" }.
 *
 * More tracepoint targets:
 *   note_tick(t): noinline, called by worker-2 after each increment with the
 *     new value of `ticks` (so its first argument is that value).
 *   write(): main writes the 5 bytes "tick\n" to /dev/null (fd `devnull_fd`)
 *     before every 10th compute() call (when calls % 10 == 0), about every
 *     50 ms, and counts them in `writes`.
 *
 * Output: one line "ready <pid>" on stdout once every thread is named.
 * Optional argument: a number of seconds after which the program exits 0
 * (e.g. `counter 1.5`), to test a target that goes away mid-trace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noipa))
#else
#define NOINLINE __attribute__((noinline, optnone))
#endif

struct item {
	int id;
	long value;
	char name[16];
};

volatile long counter;
volatile long ticks;
volatile long calls;
volatile int last_result;
char message[64] = "hello from counter";
struct item config = { 42, 1234, "first" };
struct item items[4] = {
	{ 1, 100, "item-1" },
	{ 2, 200, "item-2" },
	{ 3, 300, "item-3" },
	{ 4, 400, "item-4" },
};
char scratch[32];
int devnull_fd = -1;
volatile long writes;
volatile long last_tick;
static volatile int workers_named;

NOINLINE int compute(int n, long m, struct item *it, char *buf)
{
	int r = n + (int)m + it->id;

	if (buf[0] == 'c')
		last_result = r;
	return r;
}

NOINLINE long note_tick(long t)
{
	last_tick = t;
	return t;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *worker(void *arg)
{
	long which = (long)arg;

	pthread_setname_np(pthread_self(), which == 1 ? "worker-1" : "worker-2");
	__atomic_add_fetch(&workers_named, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		if (which == 1)
			counter++;
		else
			note_tick(++ticks);
		sleep_ms(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	double exit_after = argc > 1 ? atof(argv[1]) : 0;
	struct timespec start, now;

	devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull_fd < 0) {
		perror("/dev/null");
		return 1;
	}
	if (pthread_create(&t1, NULL, worker, (void *)1L) ||
	    pthread_create(&t2, NULL, worker, (void *)2L)) {
		perror("pthread_create");
		return 1;
	}
	while (__atomic_load_n(&workers_named, __ATOMIC_SEQ_CST) < 2)
		sleep_ms(1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long i = calls;

		if (i % 10 == 0 && write(devnull_fd, "tick\n", 5) == 5)
			writes++;
		snprintf(scratch, sizeof(scratch), "call %ld", i);
		compute((int)(i % 1000), i * 3 + 1, &items[i % 4], scratch);
		calls = i + 1;
		sleep_ms(5);
		if (exit_after > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >=
			    exit_after)
				return 0;
		}
	}
}
