/* SPDX-License-Identifier: MIT */
/*
 * stub/views/fpstack.h - a stored frame's call stack by its frame pointers.
 *
 * Code built with frame pointers (Go on amd64 always; C and C++ at -O0 or
 * with -fno-omit-frame-pointer; Rust with -C force-frame-pointers) keeps a
 * chain on the stack: rbp points at the caller's saved rbp, the return
 * address just above it.  A frame with registers holds that chain as the
 * kernel walked it (bpf/fpchain.h) or a window of the stack above rsp
 * (`monitor set stack-window fp|BYTES`), so the chain can be followed in the frame
 * alone, without CFI, for any binary: what `monitor tdump` prints as
 * `stack:`, each return address named by the program layer
 * (dw_cache__name_at).
 *
 * Pure (no I/O, no globals): the code bytes and the frame's memory come
 * from the caller, so the walk is unit-tested on hand-made stacks and
 * fuzzed (tests/unit/test_fpstack.c, tests/fuzz/fuzz_fpstack.c).
 */
#ifndef STUB_VIEWS_FPSTACK_H
#define STUB_VIEWS_FPSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPS_MAX 64 /* frames walked, the hit's own included */

/* Where frame 0's return address is, from the code at its pc. */
enum fps_start {
	FPS_FP,	  /* the frame is set up: rbp is the function's own */
	FPS_RSP,  /* at [rsp + adj]; rbp is still the caller's (the entry, a ret, Go's frameless) */
	FPS_NONE, /* the function keeps no frame pointer and moved rsp: unknown */
};

/*
 * Where the return address of a function is at offset off from its entry,
 * from its code: entry_code (entry_len bytes from the entry) and pc_code
 * (pc_len bytes at the pc; either may be short or empty).  Recognised:
 * `[endbr64] push %rbp; mov %rsp,%rbp` (C, C++, Rust), Go's stack-growth
 * check then `sub $N,%rsp; mov %rbp,N-8(%rsp); lea N-8(%rsp),%rbp`, a `ret`
 * at pc, and a Go function with no frame (go: its rsp never moves).  *adj
 * is the bytes between rsp and the return address for FPS_RSP.
 */
enum fps_start fpstack__start(const uint8_t *entry_code, size_t entry_len, uint64_t off,
			      const uint8_t *pc_code, size_t pc_len, bool go, uint64_t *adj);

/*
 * The frame's memory: bytes collected at addr (contiguous from it, at most
 * len), 0 when addr is not collected.
 */
typedef size_t (*fps_mem_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

enum fps_stop {
	FPS_END,     /* a saved rbp or return address of 0: the outermost frame */
	FPS_WINDOW,  /* the next record (at `at`) is not in the collected memory */
	FPS_BROKEN,  /* rbp (at) is below the frame before it or not 8-aligned */
	FPS_LIMIT,   /* FPS_MAX frames */
	FPS_NOFRAME, /* FPS_NONE: where the return address is is unknown */
};

struct fps_walk {
	uint64_t pcs[FPS_MAX]; /* [0] the hit's pc, then return addresses, innermost first */
	size_t n;
	enum fps_stop stop;
	uint64_t at;
};

/*
 * Follow the chain from the hit's pc, rsp and rbp: frame 1 from start/adj
 * (fpstack__start), then each saved rbp -> [rbp] with its return address
 * [rbp + 8], each rbp strictly above the last record, 8-aligned, both words
 * collected.  Return addresses are not judged here: whether each is code
 * of the target is the caller's to check (and stop at).
 */
void fpstack__walk(uint64_t pc, uint64_t rsp, uint64_t rbp, enum fps_start start, uint64_t adj,
		   fps_mem_fn mem, void *ctx, struct fps_walk *out);

#endif
