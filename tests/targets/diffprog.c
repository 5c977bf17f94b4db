/* SPDX-License-Identifier: MIT */
/*
 * diffprog.c - the deterministic target of the differential suite
 * (tests/integration/test_diff.py): the same session against gdbserver and
 * bpfstub must see the same hits, in the same order, with the same values.
 *
 * Usage: diffprog [N]  (N iterations, default 5).  Started with ASLR off.
 *   1. prints "ready <pid>" and blocks reading stdin (single-threaded, so
 *      gdbserver and bpfstub see the same process);
 *   2. once a line arrives (the test releases it after tstart), runs
 *      i = 0..N-1, each iteration calling, in this order:
 *        dstep(i, 3i + 1, &recs[i % 3], names[i % 3])   (args, locals, structs)
 *        dchain(&recs[i % 3])                            (pointer chains)
 *        dnoargs()                                       (no arguments at all)
 *        lib_mul(i, i + 1)                              (libdifflib.so)
 *        USDT diff:plain(i, 10 i)                       (no semaphore)
 *        guarded(i) -> USDT diff:guarded(i, i * i)      (semaphore, diffsem.c)
 *   3. prints "done" and sleeps for ever.
 *
 * Globals: g_counter (sum of dstep's local_a so far), g_array[8] = {i * 11},
 * g_msg = "hello diff", g_str -> "a constant string", recs[3] a ring
 * (recs[k].next = &recs[(k + 1) % 3]), g_head = &recs[0], g_ratio = 1.5.
 * dstep() marks a line inside it with the comment DIFF-LINE-MID.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>

#include "noinline.h"

int lib_mul(int a, int b);
void guarded(int i);

struct point {
	int x;
	int y;
};

struct rec {
	int id;
	long value;
	char name[16];
	struct point pt;
	struct rec *next;
};

volatile long g_counter;
int g_array[8] = {0, 11, 22, 33, 44, 55, 66, 77};
char g_msg[32] = "hello diff";
const char *g_str = "a constant string";
struct rec recs[3] = {
	{1, 100, "rec-one", {1, -1}, &recs[1]},
	{2, 200, "rec-two", {2, -2}, &recs[2]},
	{3, 300, "rec-three", {3, -3}, &recs[0]},
};
struct rec *g_head = &recs[0];
double g_ratio = 1.5;
volatile int g_noargs;
static const char *names[3] = {"alpha", "beta", "gamma"};

NOINLINE int dstep(int i, long m, struct rec *r, const char *s)
{
	int local_a = i * 7;
	long local_b = m + r->value;
	char tag[8];

	memcpy(tag, "tag-", 4);
	tag[4] = (char)('0' + i % 10);
	tag[5] = s[0];
	tag[6] = 0;
	g_counter += local_a; /* DIFF-LINE-MID */
	g_array[i % 8] += (int)local_b;
	return local_a + (int)local_b + tag[5];
}

NOINLINE long dchain(struct rec *r)
{
	return r->next->next->value + r->pt.y;
}

NOINLINE void dnoargs(void)
{
	g_noargs++;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	char line[16];
	long i;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (read(0, line, sizeof(line)) <= 0)
		return 1;
	for (i = 0; i < n; i++) {
		dstep((int)i, i * 3 + 1, &recs[i % 3], names[i % 3]);
		dchain(&recs[i % 3]);
		dnoargs();
		lib_mul((int)i, (int)i + 1);
		STAP_PROBE2(diff, plain, i, i * 10);
		guarded((int)i);
	}
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
