/* SPDX-License-Identifier: MIT */
/* usdt_plain.c - the probe without a semaphore of usdt.c (see there). */
#include <sys/sdt.h>

void usdt_plain(long i);

__attribute__((noinline)) void usdt_plain(long i)
{
	STAP_PROBE2(bpfstub, plain, i, i * 3);
}
