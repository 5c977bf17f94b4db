/* SPDX-License-Identifier: MIT */
/*
 * spin.c - the latency bias's C target (tests/integration/test_latency_bias.py).
 *
 * Six functions spin a known time, 2, 20 and 200 us, at two kinds of entry
 * site (bpf/latency.h): spinN_emul starts with `push %rbp` (a -O0 C
 * function: the kernel emulates it under a uprobe), spinN_step with `sub
 * $8, %rsp` (assembly below: the kernel single-steps it).  Both leave by
 * `ret`.  Each call of spin_body() measures its own duration with
 * clock_gettime(CLOCK_MONOTONIC) around the spin and stores it in
 * spin_log[f][seq % SPIN_LOG], then bumps spin_seq[f]: the test reads both
 * through /proc/PID/mem and compares what the target measured with the
 * $latency_ns bpfstub reports for the same window of calls.
 *
 * Main calls the six in turn, the longest first (the first call after the
 * sleep runs on a cold CPU: its time before the first clock read is
 * longer), then sleeps 2 ms.  Built -O0 without CET
 * (-fcf-protection=none: no endbr64 before the push), non-PIE.
 * Output: "ready <pid>".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define SPIN_LOG 4096
#define SPIN_NF	 6 /* emul 2, 20, 200; step 2, 20, 200 */

volatile long spin_log[SPIN_NF][SPIN_LOG];
volatile long spin_seq[SPIN_NF];
volatile long counter;

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

__attribute__((noinline)) void spin_body(long ns, long f)
{
	long t0 = now_ns(), t1;

	do
		t1 = now_ns();
	while (t1 - t0 < ns);
	spin_log[f][spin_seq[f] % SPIN_LOG] = t1 - t0;
	spin_seq[f]++;
}

/* Entry `push %rbp` (emulated). */
__attribute__((noinline)) void spin2_emul(void)
{
	spin_body(2000, 0);
}
__attribute__((noinline)) void spin20_emul(void)
{
	spin_body(20000, 1);
}
__attribute__((noinline)) void spin200_emul(void)
{
	spin_body(200000, 2);
}

/* Entry `sub $8, %rsp` (single-stepped). */
#define STEP(name, ns, f)                                                                          \
	__asm__(".text\n"                                                                          \
		".globl " #name "\n"                                                               \
		".type " #name ", @function\n" #name ":\n"                                         \
		"\tsubq $8, %rsp\n"                                                                \
		"\tmovq $" #ns ", %rdi\n"                                                          \
		"\tmovq $" #f ", %rsi\n"                                                           \
		"\tcall spin_body\n"                                                               \
		"\taddq $8, %rsp\n"                                                                \
		"\tret\n"                                                                          \
		".size " #name ", .-" #name "\n");                                                 \
	void name(void)
STEP(spin2_step, 2000, 3);
STEP(spin20_step, 20000, 4);
STEP(spin200_step, 200000, 5);

int main(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		spin200_emul();
		spin200_step();
		spin20_emul();
		spin20_step();
		spin2_emul();
		spin2_step();
		counter++;
		usleep(2000);
	}
}
