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
 * (e.g. `counter 1.5`), to test a target that goes away mid-trace; 0 means
 * never.
 * Optional second argument: a number H of "hot" threads (at most 8) for
 * long traces (e.g. `counter 0 2`).  Hot thread k (1..H, named "hot-<k>")
 * calls hot(k, i) in a tight loop, without sleeping, with i = 0, 1, 2...
 * the number of its earlier calls; after each call it stores i + 1 in
 * hot_calls[k - 1].  hot() is noinline and returns k * 1000000000 + i
 * (stored in `hot_last`).  Without it nothing changes: no hot thread.
 *
 * A linked list for pointer-chain collection: nodes[k] = { .v = (k + 1) * 10,
 *   .next = &nodes[(k + 1) % 4] } (a ring of 4).  Right after each compute()
 *   main calls walk(&nodes[i % 4], i) (noinline), so in walk p->v is
 *   (i % 4 + 1) * 10 and p->next->next->v is ((i + 2) % 4 + 1) * 10; it
 *   returns p->next->next->v (stored in `last_walk`).
 *
 * beat(): noinline, no arguments, called by main after walk(); it stores
 *   `calls` (i) in `beats`.  At -O2 `collect $args` there has nothing to
 *   collect, so GDB announces actions and sends none.
 *
 * Burst mode, for concurrent hits: `counter --burst T N FILE [usual args]`
 *   starts T more threads (at most 8, named "burst-<k>", k = 1..T) that
 *   wait, polling every millisecond, until FILE exists, then line up on a
 *   spin barrier and each call burst(k, j) for j = 0..N-1 without sleeping
 *   (burst() is noinline, returns k * 1000000000 + j and stores j + 1 in
 *   burst_calls[k - 1]; no locked instruction, which uprobes cannot probe).
 *   A thread that is done adds 1 to `burst_done`, then sleeps for ever.
 *   The usual threads run as always.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

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
struct item config = {42, 1234, "first"};
struct item items[4] = {
	{1, 100, "item-1"},
	{2, 200, "item-2"},
	{3, 300, "item-3"},
	{4, 400, "item-4"},
};
char scratch[32];
int devnull_fd = -1;
volatile long writes;
volatile long last_tick;
static volatile int workers_named;
#define MAX_HOT 8
volatile long hot_calls[MAX_HOT];
volatile long hot_last;
struct node {
	int v;
	struct node *next;
};
struct node nodes[4] = {
	{10, &nodes[1]},
	{20, &nodes[2]},
	{30, &nodes[3]},
	{40, &nodes[0]},
};
volatile int last_walk;
volatile long beats;
#define MAX_BURST 8
static long burst_threads, burst_n;
static const char *burst_file;
static volatile long burst_ready;
volatile long burst_calls[MAX_BURST];
volatile long burst_done;

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

NOINLINE long hot(long k, long i)
{
	long r = k * 1000000000L + i;

	hot_last = r;
	return r;
}

NOINLINE int walk(struct node *p, long i)
{
	int r = p->next->next->v;

	if (i >= 0)
		last_walk = r;
	return r;
}

NOINLINE void beat(void)
{
	beats = calls;
}

NOINLINE long burst(long k, long j)
{
	long r = k * 1000000000L + j;

	burst_calls[k - 1] = j + 1;
	return r;
}

static void *hot_thread(void *arg)
{
	long k = (long)arg, i;
	char name[16];

	snprintf(name, sizeof(name), "hot-%ld", k);
	pthread_setname_np(pthread_self(), name);
	__atomic_add_fetch(&workers_named, 1, __ATOMIC_SEQ_CST);
	for (i = 0;; i++) {
		hot(k, i);
		hot_calls[k - 1] = i + 1;
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *burst_thread(void *arg)
{
	long k = (long)arg, j;
	char name[16];

	snprintf(name, sizeof(name), "burst-%ld", k);
	pthread_setname_np(pthread_self(), name);
	__atomic_add_fetch(&workers_named, 1, __ATOMIC_SEQ_CST);
	while (access(burst_file, F_OK) != 0)
		sleep_ms(1);
	__atomic_add_fetch(&burst_ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&burst_ready, __ATOMIC_SEQ_CST) < burst_threads)
		;
	for (j = 0; j < burst_n; j++)
		burst(k, j);
	__atomic_add_fetch(&burst_done, 1, __ATOMIC_SEQ_CST);
	for (;;)
		sleep_ms(1000);
	return NULL;
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
	pthread_t t1, t2, th;
	double exit_after;
	long nhot, k;
	struct timespec start, now;

	if (argc > 4 && strcmp(argv[1], "--burst") == 0) {
		burst_threads = atol(argv[2]);
		burst_n = atol(argv[3]);
		burst_file = argv[4];
		if (burst_threads < 1 || burst_threads > MAX_BURST || burst_n < 0) {
			fprintf(stderr, "counter: --burst T N FILE: 1 <= T <= %d, N >= 0\n",
				MAX_BURST);
			return 2;
		}
		argv += 4;
		argc -= 4;
	}
	exit_after = argc > 1 ? atof(argv[1]) : 0;
	nhot = argc > 2 ? atol(argv[2]) : 0;

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
	if (nhot < 0 || nhot > MAX_HOT) {
		fprintf(stderr, "counter: at most %d hot threads\n", MAX_HOT);
		return 2;
	}
	for (k = 1; k <= nhot; k++) {
		if (pthread_create(&th, NULL, hot_thread, (void *)k)) {
			perror("pthread_create");
			return 1;
		}
	}
	for (k = 1; k <= burst_threads; k++) {
		if (pthread_create(&th, NULL, burst_thread, (void *)k)) {
			perror("pthread_create");
			return 1;
		}
	}
	while (__atomic_load_n(&workers_named, __ATOMIC_SEQ_CST) < 2 + nhot + burst_threads)
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
		walk(&nodes[i % 4], i);
		beat();
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
