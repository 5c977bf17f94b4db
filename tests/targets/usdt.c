/* SPDX-License-Identifier: MIT */
/*
 * usdt.c - a target with SystemTap SDT (USDT) probes, from <sys/sdt.h>.
 *
 * Main loop, about every 2 ms, with i = 1, 2, 3 ... (stored in `iter`
 * before the probes):
 *     if (BPFSTUB_TICK_ENABLED())  probe bpfstub:tick(i, 3 * i)
 *     probe bpfstub:plain(i, 3 * i)     (usdt_plain.c, no semaphore)
 * and counts the hits of the guarded probe in `tick_fired`.
 *
 * bpfstub:tick has a semaphore, bpfstub_tick_semaphore (an unsigned short
 * in section .probes, as dtrace -G / _SDT_HAS_SEMAPHORES lay it out): the
 * probe site runs only while a tracer raised it.  bpfstub:plain is built
 * in another translation unit without _SDT_HAS_SEMAPHORES: its note says
 * semaphore 0, and its site always runs.
 *
 * Built with -DUSDT_SEMAPHORE_RO (usdt-rosem), the semaphore is in
 * .rodata instead: a crafted binary whose guarded probe cannot be enabled.
 *
 * `poke` is a global no one writes (the "writes stay refused" check).
 *
 * Output: "ready <pid>" once running.  Optional argument: seconds to run.
 */
#define _GNU_SOURCE
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

#ifdef USDT_SEMAPHORE_RO
/* usdt-rosem, crafted: the semaphore in read-only data, where no tracer can raise it
 * (defined in assembly: a C const would be folded, a volatile one made writable). */
__asm__(".pushsection .rodata.sdtsem,\"a\"\n"
	".globl bpfstub_tick_semaphore\n"
	".type bpfstub_tick_semaphore, @object\n"
	".size bpfstub_tick_semaphore, 2\n"
	".p2align 1\n"
	"bpfstub_tick_semaphore: .short 0\n"
	".popsection");
extern volatile unsigned short bpfstub_tick_semaphore;
#else
__extension__ unsigned short bpfstub_tick_semaphore __attribute__((unused))
__attribute__((section(".probes")));
#endif
#define BPFSTUB_TICK_ENABLED() __builtin_expect(bpfstub_tick_semaphore, 0)

volatile long iter;
volatile long tick_fired;
volatile int poke = 7;

void usdt_plain(long i);

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0;
	struct timespec t0, now, nap = {0, 2 * 1000 * 1000};

	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (long i = 1;; i++) {
		iter = i;
		if (BPFSTUB_TICK_ENABLED()) {
			STAP_PROBE2(bpfstub, tick, i, i * 3);
			tick_fired++;
		}
		usdt_plain(i);
		nanosleep(&nap, NULL);
		if (secs > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 > secs)
				return 0;
		}
	}
}
