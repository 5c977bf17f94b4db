/* SPDX-License-Identifier: MIT */
/*
 * cvalues.c - a deterministic C program for deep collection (issue 9):
 * process() takes a pointer to a struct (with a `char *` field and a nested
 * struct), a C string and a long.
 *
 * Output: "ready <pid>" on stdout, then main calls, for k = 0, 1, 2, ...
 * about every 5 ms (`calls` = k + 1 after call k):
 *
 *   k % 3 == 0:  process(&items[0], "alpha", 1000 + k)
 *   k % 3 == 1:  process(&items[1], "beta", 1000 + k)
 *   k % 3 == 2:  process(heap_item, "gamma", 1000 + k)
 *
 * The names are string literals (in .rodata); items[] is static, writable
 * data; heap_item is malloc()ed once, with a strdup()ed label:
 *   items[0]  = { .id = 1, .label = "first",  .pos = { 10, 20 }, .tag = "one" }
 *   items[1]  = { .id = 2, .label = "second", .pos = { 30, 40 }, .tag = "two" }
 *   heap_item = { .id = 3, .label = "heap-third" (heap), .pos = { 50, 60 },
 *                 .tag = "three" }
 * After process(), depth(3) (4 nested calls, returning 3, 2, 1, 0), then
 * scale(k % 3 + 1, (k % 3 + 1) * 10), i.e. (1, 10), (2, 20), (3, 30), ...:
 * its body is one block with a local, so at -O2 its entry lies in that
 * lexical block and GDB 13's `collect $args` finds nothing there ("No args
 * found in scope", no action sent), though a and b are in rdi and rsi
 * (issue 17, tests/integration/test_always_regs.py).
 * process() returns n + id + pos.x + pos.y + strlen(name) + strlen(label)
 * (stored in `sink`).  It is NOINLINE (noipa) so the arguments stay in
 * rdi, rsi, rdx at its entry even at -O2.
 *
 * Built four ways (tests/targets/Makefile): cvalues-O0 and cvalues-O2 (both
 * PIE, -g), cvalues-stripped (cvalues-O2 without its DWARF: strip
 * --strip-debug) and cvalues-baddwarf (cvalues-O2 with .debug_info
 * overwritten by scripts/corrupt_dwarf.py: a valid ELF whose DWARF is not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noinline.h"

struct point {
	long x;
	long y;
};

struct item {
	int id;
	const char *label;
	struct point pos;
	char tag[8];
};

struct item items[2] = {
	{1, "first", {10, 20}, "one"},
	{2, "second", {30, 40}, "two"},
};
struct item *heap_item;
volatile long calls;
volatile long sink;
volatile long generation;

NOINLINE long process(struct item *it, const char *name, long n)
{
	long r = n + it->id + it->pos.x + it->pos.y;

	r += (long)strlen(name);
	r += (long)strlen(it->label);
	sink = r;
	return r;
}

/* depth(n) calls itself n times and returns n (return probes: n + 1 frames). */
NOINLINE long depth(int n)
{
	if (n <= 0)
		return 0;
	return 1 + depth(n - 1);
}

/* a * b + the generation number, in sink; returns a - b. */
NOINLINE long scale(long a, long b)
{
	{
		long g = generation;

		sink = a * b + g;
	}
	return a - b;
}

int main(void)
{
	long k;

	heap_item = malloc(sizeof(*heap_item));
	if (!heap_item)
		return 1;
	*heap_item = (struct item){3, strdup("heap-third"), {50, 60}, "three"};
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (k = 0;; k++) {
		switch (k % 3) {
		case 0:
			process(&items[0], "alpha", 1000 + k);
			break;
		case 1:
			process(&items[1], "beta", 1000 + k);
			break;
		default:
			process(heap_item, "gamma", 1000 + k);
			break;
		}
		depth(3);
		scale(k % 3 + 1, (k % 3 + 1) * 10);
		calls = k + 1;
		usleep(5000);
	}
}
