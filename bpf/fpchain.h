/* SPDX-License-Identifier: MIT */
/*
 * bpf/fpchain.h - the call stack by frame pointers, walked in the kernel.
 *
 * A frame with registers holds what GDB needs to unwind `bt` in tfind.
 * Code that keeps frame pointers (Go on amd64 always; C, C++ and Rust
 * built with them) chains its frames on the stack: rbp points at the
 * caller's saved rbp, the return address just above it.  Following that
 * chain in the program costs 16 bytes a frame, where a fixed window above
 * rsp pays for every local of every frame it covers and still stops after
 * a few Go frames.
 *
 * One block (record.h, BPFC_BLK_FPCHAIN) holds a small window at rsp
 * (frame 0's locals and, at a function's entry, its return address) and
 * up to `frames` records of 16 bytes, each read at the address the one
 * before it holds: rbp at the hit, then each saved rbp.  Every step is
 * checked before its read: the address 8-aligned, above rsp and strictly
 * above the record before it (so the walk ends), at most BPFC_FP_SPAN
 * above rsp, and the read must succeed; the first check that fails ends
 * the walk.  Where it yields fewer than two records (C at -O2, where rbp
 * is an ordinary register, so the checks stop it on garbage), the block's
 * whole area is read as one wider window at rsp instead, as a plain stack
 * window would: the same bytes reserved either way.
 *
 * The reader (bpfc_rec__foreach_block) reports the window and each record
 * as ordinary M blocks, so the frame store, tsave and GDB see memory at
 * its addresses, and stub/views/fpstack.c walks it the same way.
 */
#ifndef BPF_FPCHAIN_H
#define BPF_FPCHAIN_H

#include <stddef.h>
#include <linux/types.h>

#include "bpf/emit.h"
#include "bpf/record.h"

#define BPFC_FP_FRAMES_MAX 64u	      /* records per hit at most (u8 counts) */
#define BPFC_FP_WINDOW_MAX 4096u      /* the window's bytes at most */
#define BPFC_FP_SPAN	   (8u << 20) /* a record lies at most 8 MiB above rsp */
#define BPFC_FP_MIN_CHAIN  2u	      /* fewer records: the wide window instead */

struct bpfc_fp {
	__u32 frames; /* 1..BPFC_FP_FRAMES_MAX records of the chain */
	__u32 window; /* 8..BPFC_FP_WINDOW_MAX bytes at rsp, a multiple of 8 */
};

/* Is fp a shape the emitter takes? */
int bpfc_fp__check(const struct bpfc_fp *fp);

/* Bytes the block takes in the record (type byte included). */
static inline size_t bpfc_fp__blk_size(const struct bpfc_fp *fp)
{
	return BPFC_FBLK_HDR + fp->window + 16u * fp->frames;
}

/*
 * Emit the block at record offset blk_off: r6 = ctx (struct pt_regs *),
 * r7 = the record.  Clobbers r0-r5 and r9.  Straight-line, forward jumps
 * only: the walk is unrolled fp->frames times.
 */
void bpfc_fp__emit(struct bpfc_emit *e, const struct bpfc_fp *fp, size_t blk_off);

#endif
