/* SPDX-License-Identifier: MIT */
/* diffsem.c - diffprog's USDT probe guarded by a semaphore (see diffprog.c):
 * the probe site runs only while diff_guarded_semaphore is non-zero. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short diff_guarded_semaphore __attribute__((section(".probes"), used));

__attribute__((noinline)) void guarded(int i)
{
	if (diff_guarded_semaphore)
		STAP_PROBE2(diff, guarded, i, (long)i * i);
}
