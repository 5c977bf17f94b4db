/* SPDX-License-Identifier: MIT */
/*
 * libcaller.c - calls lib_mul(i, i + 1) of libdifflib.so every 2 ms, i = 0, 1,
 * 2, ... (tests/integration/test_symbols.py): built as dynsym/libcaller
 * beside a copy of libdifflib.so stripped to .dynsym (strip --strip-all),
 * so only the dynamic symbol table names lib_mul.  lib_mul returns a * b.
 * Output: "ready <pid>".
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int lib_mul(int a, int b);
volatile long sink;

int main(void)
{
	struct timespec ts = {0, 2000000};
	int i;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0;; i++) {
		sink = lib_mul(i, i + 1);
		nanosleep(&ts, NULL);
	}
}
