/* SPDX-License-Identifier: MIT */
/*
 * bpf/clock.h - the time of a clock, in ns, us or ms.
 *
 * One clock_gettime(2) read, converted: the ring's drain budget and the
 * calibration here, and the trace core, the guard and tlive in stub/, all
 * read time this way.  It lives header-only in bpf/ because that is the
 * lowest layer both sides may include (rsp/ below it reads no clocks: no
 * I/O, no state), and a header of static inlines adds no arrow between
 * objects.  The sums are exact: (s * 10^9 + ns) / 10^3 is s * 10^6 + ns /
 * 10^3, as each copy computed it before.
 */
#ifndef BPF_CLOCK_H
#define BPF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t bpfc_clock__ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bpfc_clock__us(clockid_t clk)
{
	return bpfc_clock__ns(clk) / 1000u;
}

static inline uint64_t bpfc_clock__ms(clockid_t clk)
{
	return bpfc_clock__ns(clk) / 1000000u;
}

#endif
