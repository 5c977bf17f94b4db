/* SPDX-License-Identifier: MIT */
/*
 * bpf/record.h - what one tracepoint hit writes into the ring buffer.
 *
 * A record is a fixed header followed by blocks in GDB's trace-frame block
 * format (the format of GDB's trace files and of gdbserver's in-memory
 * frames), so user space can store the blocks of a frame as they come and
 * answer qTFrame / m / g from them without translation:
 *
 *   'R' + BPFC_REGS_SIZE bytes     the amd64 `g` packet register block
 *   'M' + addr (8) + len (2) + len bytes
 *
 * Everything after the header is byte-packed, little-endian, unaligned.
 * The BPF program cannot drop a block once it has reserved the record (the
 * size is a verifier constant), so a memory range whose read fails has its
 * type byte overwritten with BPFC_BLK_SKIP: the block keeps its M layout
 * and length, user space steps over it and keeps the rest of the frame.
 */
#ifndef BPF_RECORD_H
#define BPF_RECORD_H

#include <stddef.h>
#include <linux/types.h>

struct bpfc_rec {
	__u32 tp; /* tracepoint number */
	__u32 size; /* bytes of blocks following this header */
	__u64 ktime_ns; /* bpf_ktime_get_ns() at the hit */
	__u32 pid; /* thread group (process) id */
	__u32 tid; /* thread id */
};

#define BPFC_BLK_REGS 'R'
#define BPFC_BLK_MEM  'M'
#define BPFC_BLK_SKIP '\0' /* an M block whose read failed */

/*
 * The register block: GDB's amd64 (amd64-linux) `g` packet layout.
 * GDB numbering: 0 rax 1 rbx 2 rcx 3 rdx 4 rsi 5 rdi 6 rbp 7 rsp 8-15 r8-r15
 * 16 rip (8 bytes each), 17 eflags 18 cs 19 ss 20 ds 21 es 22 fs 23 gs
 * (4 each), 24-31 st0-7 (10 each), 32-39 fctrl..fop (4 each), 40-55 xmm0-15
 * (16 each), 56 mxcsr (4), 57 orig_rax 58 fs_base 59 gs_base (8 each).
 * The BPF program fills what struct pt_regs holds; the rest is zero.
 */
#define BPFC_REGS_SIZE	   560
#define BPFC_NREGS	   60
#define BPFC_REG_RIP	   16
#define BPFC_REG_EFLAGS	   17
#define BPFC_REG_ORIG_RAX  57
#define BPFC_REGS_OFF_RIP  128
#define BPFC_REGS_OFF_EFL  136
#define BPFC_REGS_OFF_CS   140
#define BPFC_REGS_OFF_SS   144
#define BPFC_REGS_OFF_DS   148 /* first zero-filled byte */
#define BPFC_REGS_OFF_ORIG 536
#define BPFC_REGS_OFF_FSB  544

/* M block: type, address, length, then the bytes. */
#define BPFC_MBLK_HDR 11 /* 'M' + 8 + 2 */

/* Offset and size of GDB register regno inside the R block; -1 if out of range. */
int bpfc_regs__offset(int regno, size_t *size);

/*
 * Walk the blocks of a record of len bytes (as delivered by the ring
 * buffer).  Bounds-checked: the header's size and every block length are
 * checked against len, never trusted.  cb is called for each kept block
 * with its type ('R' or 'M') and its payload (the bytes after the type
 * byte: 560 register bytes, or addr + len + bytes for M); skipped blocks
 * are stepped over.  A non-zero return from cb stops the walk and is
 * returned.  -EBADMSG for a malformed record (nothing after the first bad
 * byte is reported).  *nskipped (if not NULL) counts skipped blocks.
 */
typedef int (*bpfc_blk_cb)(void *ctx, char type, const void *blk, size_t blk_len);
int bpfc_rec__foreach_block(const void *rec, size_t len, bpfc_blk_cb cb, void *ctx,
			    size_t *nskipped);

/* Decode an M block payload as given to the callback.  0 or -EBADMSG. */
int bpfc_rec__mem(const void *blk, size_t blk_len, __u64 *addr, const void **data, size_t *len);

#endif
