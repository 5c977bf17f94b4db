/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_hist.c - the histogram arithmetic (bpf/hist.h) and the
 * percentiles and labels of `monitor thist` (stub/views/thist.h): pure.
 */
#include <stdint.h>
#include <string.h>

#define CHECK_COUNTERS
#include "bpf/hist.h"
#include "stub/views/thist.h"
#include "tests/unit/check.h"

/* Every bucket's bounds hold exactly the values index() puts there, for every k. */
static void test_index_bounds(void)
{
	static const uint64_t vals[] = {0,
					1,
					2,
					3,
					4,
					5,
					7,
					8,
					9,
					15,
					16,
					100,
					1023,
					1024,
					1025,
					4096,
					5119,
					5120,
					1000000,
					1u << 31,
					(1ull << 32) + 7,
					1ull << 62,
					UINT64_MAX - 1,
					UINT64_MAX};
	uint32_t k, i, idx, prev;
	uint64_t lo, hi, plo, phi;

	for (k = 0; k <= BPFC_HIST_K_MAX; k++) {
		uint32_t nb = bpfc_hist__nbuckets(BPFC_HIST_VALUE, k);

		for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			idx = bpfc_hist__index(vals[i], k);
			bpfc_hist__bounds(idx, k, &lo, &hi);
			CHECKF(idx < nb, "k %u v %llu: index %u >= %u", k,
			       (unsigned long long)vals[i], idx, nb);
			CHECKF(lo <= vals[i] && (vals[i] < hi || hi == UINT64_MAX),
			       "k %u v %llu: bucket %u is [%llu, %llu)", k,
			       (unsigned long long)vals[i], idx, (unsigned long long)lo,
			       (unsigned long long)hi);
		}
		/* Buckets tile the line: each starts where the last ended. */
		for (idx = 1, prev = 0; idx < nb; prev = idx++) {
			bpfc_hist__bounds(prev, k, &plo, &phi);
			bpfc_hist__bounds(idx, k, &lo, &hi);
			CHECKF(lo == phi, "k %u: bucket %u ends at %llu, %u starts at %llu", k,
			       prev, (unsigned long long)phi, idx, (unsigned long long)lo);
		}
		CHECK(bpfc_hist__index(UINT64_MAX, k) == nb - 1);
	}
	/* k = 2: 100 is in [96, 112), 4096 in [4096, 5120), 7 alone. */
	bpfc_hist__bounds(bpfc_hist__index(100, 2), 2, &lo, &hi);
	CHECK(lo == 96 && hi == 112);
	bpfc_hist__bounds(bpfc_hist__index(4096, 2), 2, &lo, &hi);
	CHECK(lo == 4096 && hi == 5120);
	bpfc_hist__bounds(bpfc_hist__index(7, 2), 2, &lo, &hi);
	CHECK(lo == 7 && hi == 8);
	/* k = 0: powers of two, as bpftrace's hist(). */
	bpfc_hist__bounds(bpfc_hist__index(10000, 0), 0, &lo, &hi);
	CHECK(lo == 8192 && hi == 16384);
	CHECK(bpfc_hist__nbuckets(BPFC_HIST_COUNT, 3) == 0);
}

static void test_percentile(void)
{
	uint32_t k = 2, nb = bpfc_hist__nbuckets(BPFC_HIST_VALUE, k);
	uint64_t b[2000];
	double p;

	memset(b, 0, sizeof(b));
	CHECK(thist__percentile(b, nb, k, 0, 0, 0, 0.5) == 0);
	/* 100 each of 0, 1, 7, 100, 4096 (tests/targets/hotlat.c's size_of). */
	b[bpfc_hist__index(0, k)] += 100;
	b[bpfc_hist__index(1, k)] += 100;
	b[bpfc_hist__index(7, k)] += 100;
	b[bpfc_hist__index(100, k)] += 100;
	b[bpfc_hist__index(4096, k)] += 100;
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 0.5) == 7);
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 0.1) == 0);
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 0.3) == 1);
	/* 100 in [96, 112): interpolated over 96..111. */
	p = thist__percentile(b, nb, k, 500, 0, 4096, 0.7);
	CHECKF(p >= 96 && p <= 111, "p70 %f", p);
	/* The last bucket is clipped to max: p99 of [4096, 5120) is exactly 4096. */
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 0.99) == 4096);
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 1) == 4096);
	CHECK(thist__percentile(b, nb, k, 500, 0, 4096, 0) == 0);
	/* One bucket [8192, 10240) of 10 values between 9000 and 9500: within min..max. */
	memset(b, 0, sizeof(b));
	b[bpfc_hist__index(9000, k)] = 10;
	p = thist__percentile(b, nb, k, 10, 9000, 9500, 0.5);
	CHECKF(p >= 9000 && p <= 9500, "p50 %f", p);
	CHECK(thist__percentile(b, nb, k, 10, 9000, 9500, 0.999) <= 9500);
}

static void test_labels(void)
{
	char s[32];

	thist__fmt_ns(850, s, sizeof(s));
	CHECK(!strcmp(s, "850 ns"));
	thist__fmt_ns(12345, s, sizeof(s));
	CHECK(!strcmp(s, "12.3 us"));
	thist__fmt_ns(1250000, s, sizeof(s));
	CHECK(!strcmp(s, "1.25 ms"));
	thist__fmt_ns(2e9, s, sizeof(s));
	CHECK(!strcmp(s, "2.00 s"));
	thist__fmt_num(1024, s, sizeof(s));
	CHECK(!strcmp(s, "1K"));
	thist__fmt_num(5120, s, sizeof(s));
	CHECK(!strcmp(s, "5K"));
	thist__fmt_num(1280, s, sizeof(s));
	CHECK(!strcmp(s, "1280"));
	thist__fmt_num(1ull << 20, s, sizeof(s));
	CHECK(!strcmp(s, "1M"));
}

int main(void)
{
	test_index_bounds();
	test_percentile();
	test_labels();
	return check_summary("hist");
}
