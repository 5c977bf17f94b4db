/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_record.c - libFuzzer target for the ring-buffer record
 * walker (bpf/record.c): a record is bytes in shared memory, so hostile
 * headers, block lengths and FPCHAIN blocks (counts, window lengths, the
 * chain's addresses).
 *
 * Input: the record as is.  Beyond "no crash, no read past the end": every
 * block reported lies inside the input or, for the 'R' block and a
 * chain's records, is of the size the layout says; an M block's length
 * matches its header; the walk's counts agree with bpfc_rec__stats.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

struct ctx {
	const uint8_t *data;
	size_t size, n;
};

static int cb(void *p, char type, const void *blk, size_t len)
{
	struct ctx *c = p;
	const void *d;
	__u64 addr;
	size_t n;

	c->n++;
	if (type == BPFC_BLK_REGS) {
		check(len == BPFC_REGS_SIZE);
		return 0;
	}
	if (type == BPFC_BLK_MEM) {
		check(bpfc_rec__mem(blk, len, &addr, &d, &n) == 0 && n + BPFC_MBLK_HDR - 1 == len);
		/* a chain's record is synthesised (26 bytes); anything else lies in the input */
		if (len != BPFC_MBLK_HDR - 1 + 16)
			check((const uint8_t *)blk >= c->data &&
			      (const uint8_t *)blk + len <= c->data + c->size);
		return 0;
	}
	check(type == BPFC_BLK_TSV && len == BPFC_TBLK_SIZE - 1);
	check((const uint8_t *)blk >= c->data && (const uint8_t *)blk + len <= c->data + c->size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = {data, size, 0};
	struct bpfc_rec_stats st;
	size_t skipped;
	int r1, r2;

	r1 = bpfc_rec__foreach_block(data, size, cb, &c, &skipped);
	r2 = bpfc_rec__stats(data, size, &st);
	check(r1 == r2 && (r1 == 0 || r1 == -EBADMSG));
	check(st.blocks == c.n && st.skipped == skipped);
	return 0;
}
