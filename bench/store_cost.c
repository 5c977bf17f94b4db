/* SPDX-License-Identifier: MIT */
/*
 * bench/store_cost.c - what a frame costs the stub in user space once the
 * ring hands it over: the record walk and its translation (bpf/record.c),
 * the store's reserve and commit (stub/trace/framestore.c), the copy into
 * the store, and the first touch of the store's pages.
 *
 *   store_cost KIND N [STORE_MB]
 *     KIND: big   (collect $regs and a 2 KiB stack window with 8 frame-
 *                  pointer records, ~2.4 KiB a record, as bpfstub's defaults)
 *           small (collect iterations: one 8-byte M block, ~50 B a record)
 *
 * Pushes N synthetic records, as the BPF programs write them, through
 * tf_store__add_record(), the step stub/trace/trace_run.c's on_record()
 * takes for each record (size the frame, reserve, copy the blocks, add the
 * builtin timestamp and thread V blocks, commit), into a circular store of
 * STORE_MB MiB (default 64), and prints ns a frame, the bytes stored a
 * frame and the page faults (minor, getrusage) a frame.  Deterministic
 * enough for callgrind:
 *   valgrind --tool=callgrind build/bench/store_cost big 20000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bpf/record.h"
#include "stub/trace/framestore.h"

/*
 * What on_record() does with a record: tf_store__add_record() with the
 * timestamp and thread builtins (the multi-process pc and pid aside).
 */
static int store_record(struct tf_store *s, const void *data, size_t len)
{
	const struct bpfc_rec *rec = data;
	struct tf_tsv tsvs[] = {
		{.num = 0x1000, .value = (int64_t)(rec->ktime_ns / 1000)},
		{.num = 0x1001, .value = rec->tid},
	};
	struct tf_rec_opts o = {.tsvs = tsvs, .ntsvs = 2};

	return tf_store__add_record(s, 1, data, len, &o, NULL);
}

static size_t make_big(uint8_t *r)
{
	struct bpfc_rec h = {.tp = 0, .ktime_ns = 123456789, .pid = 42, .tid = 43};
	uint8_t *p = r + sizeof(h);
	uint16_t wcap = 2048, wlen = 2048;
	uint64_t rsp = 0x7ffc0000, fp0 = rsp + 4096;
	int k;

	*p++ = BPFC_BLK_PTREGS;
	for (k = 0; k < BPFC_PTREGS_SIZE; k++)
		*p++ = (uint8_t)k;
	*p++ = BPFC_BLK_FPCHAIN;
	memset(p, 0, BPFC_FBLK_HDR - 1);
	p[BPFC_FBLK_OFF_FLAGS - 1] = 0;
	p[BPFC_FBLK_OFF_N - 1] = 8;
	p[BPFC_FBLK_OFF_CAP - 1] = 8;
	memcpy(p + BPFC_FBLK_OFF_WCAP - 1, &wcap, 2);
	memcpy(p + BPFC_FBLK_OFF_FP0 - 1, &fp0, 8);
	memcpy(p + BPFC_FBLK_OFF_ADDR - 1, &rsp, 8);
	memcpy(p + BPFC_FBLK_OFF_LEN - 1, &wlen, 2);
	p += BPFC_FBLK_HDR - 1;
	memset(p, 0xab, wcap);
	p += wcap;
	for (k = 0; k < 8; k++) {
		uint64_t next = fp0 + 64 * (k + 1), ret = 0x401000 + k;

		memcpy(p, &next, 8);
		memcpy(p + 8, &ret, 8);
		p += 16;
	}
	h.size = (uint32_t)(p - r - sizeof(h));
	memcpy(r, &h, sizeof(h));
	return (size_t)(p - r);
}

static size_t make_small(uint8_t *r)
{
	struct bpfc_rec h = {.tp = 0, .ktime_ns = 123456789, .pid = 42, .tid = 43};
	uint8_t *p = r + sizeof(h);
	uint64_t addr = 0xc000123450, v = 100;
	uint16_t n = 8;

	*p++ = BPFC_BLK_MEM;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &n, 2);
	memcpy(p + 10, &v, 8);
	p += 18;
	h.size = (uint32_t)(p - r - sizeof(h));
	memcpy(r, &h, sizeof(h));
	return (size_t)(p - r);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static uint8_t rec[8192];
	struct tf_store s;
	struct rusage r0, r1;
	size_t len, n, i, mb = 64;
	double t0, t1;

	if (argc < 3)
		return 2;
	len = strcmp(argv[1], "big") == 0 ? make_big(rec) : make_small(rec);
	n = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		mb = strtoul(argv[3], NULL, 0);
	if (tf_store__init(&s, mb << 20, true))
		return 1;
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		((struct bpfc_rec *)rec)->ktime_ns += 1000;
		if (store_record(&s, rec, len))
			return 1;
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &r1);
	printf("kind=%s records=%zu record_bytes=%zu frame_bytes=%zu ns_per_frame=%.1f "
	       "minflt_per_frame=%.3f kept=%zu store_mb=%zu\n",
	       argv[1], n, len, s.appended / (n ? n : 1), (t1 - t0) / (n ? n : 1),
	       (double)(r1.ru_minflt - r0.ru_minflt) / (n ? n : 1), tf_store__count(&s), mb);
	tf_store__fini(&s);
	return 0;
}
