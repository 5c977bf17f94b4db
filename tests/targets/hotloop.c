/* SPDX-License-Identifier: MIT */
/*
 * hotloop.c - the overhead guard's target (tests/integration/test_guard.py).
 *
 * Threads "hot-1" and "hot-2" call hot(k, i) in a tight loop, without
 * sleeping, and after each call store i + 1 in hot_calls[k - 1] (each in
 * its own cache line): the target's own work rate is the sum's growth.
 * hot() is noinline and returns k * 1000000000 + i.
 *
 * Main calls slow(&items[i % 4], names[i % 4]) every 200 ms (5 times a
 * second) and counts the calls in slow_calls: a function the guard must
 * leave alone.  slow() takes a pointer to a struct and a string, so its
 * frames of `collect $regs` carry bpfstub's deep collection too.
 *
 * Output: one line "ready <pid>" once the threads are named.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

struct item {
	long id;
	const char *label;
	char pad[48];
};

struct item items[4] = {
	{1, "alpha", ""},
	{2, "beta", ""},
	{3, "gamma", ""},
	{4, "delta", ""},
};
static const char *const names[4] = {"slow-one", "slow-two", "slow-three", "slow-four"};

struct padded {
	volatile long v;
	char pad[56];
};

struct padded hot_calls[2];
volatile long hot_last;
volatile long slow_calls;
volatile long slow_last;

NOINLINE long hot(long k, long i)
{
	return k * 1000000000L + i;
}

NOINLINE long slow(struct item *it, const char *name)
{
	slow_last = it->id + (long)name[0];
	return slow_last;
}

static void *hot_thread(void *arg)
{
	long k = (long)arg, i;
	char name[16];

	snprintf(name, sizeof(name), "hot-%ld", k);
	pthread_setname_np(pthread_self(), name);
	for (i = 0;; i++) {
		hot_last = hot(k, i);
		hot_calls[k - 1].v = i + 1;
	}
	return NULL;
}

int main(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	pthread_t th[2];
	long k, i;

	pthread_setname_np(pthread_self(), "hotloop");
	for (k = 1; k <= 2; k++)
		pthread_create(&th[k - 1], NULL, hot_thread, (void *)k);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (i = 0;; i++) {
		slow(&items[i % 4], names[i % 4]);
		slow_calls = i + 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}
