/* SPDX-License-Identifier: MIT */
/*
 * deep_c.c - target for deep collection (stub/trace/deep.c): a C function whose
 * arguments point to what a user wants to see.
 *
 * process(it, name, n) is noinline; main calls it every 2 ms with
 * i = 0, 1, 2...:  it = &items[i % 2], name = names[i % 2] (string
 * literals "alpha" and "bravo-charlie"), n = i.
 *   items[0] = { .id = 7, .weight = 1.5, .label = "seven", .next = &items[1] }
 *   items[1] = { .id = 8, .weight = 2.5, .label = "eight", .next = NULL }
 * Output: "ready <pid>" once running.  Optional argument: seconds to run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

struct item {
	int id;
	double weight;
	const char *label;
	struct item *next;
};

struct item items[2] = {
	{7, 1.5, "seven", &items[1]},
	{8, 2.5, "eight", NULL},
};

static const char *const names[2] = {"alpha", "bravo-charlie"};
volatile long sink;

NOINLINE long process(struct item *it, const char *name, long n)
{
	long s = n;

	while (*name)
		s += *name++;
	return s + it->id;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0;
	struct timespec ts = {0, 2000000};
	long i;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0; secs <= 0 || i * 0.002 < secs; i++) {
		sink = process(&items[i % 2], names[i % 2], i);
		nanosleep(&ts, NULL);
	}
	return 0;
}
