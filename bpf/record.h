/* SPDX-License-Identifier: MIT */
/*
 * bpf/record.h - what one tracepoint hit writes into the ring buffer.
 *
 * A record is a fixed header followed by blocks in the spirit of GDB's
 * trace-frame block format (the format of GDB's trace files and of
 * gdbserver's in-memory frames):
 *
 *   'r' + BPFC_PTREGS_SIZE bytes   struct pt_regs (x86_64), verbatim
 *   'M' + addr (8) + len (2) + len bytes
 *
 * Everything after the header is byte-packed, little-endian, unaligned.
 *
 * Consumers never see 'r': bpfc_rec__foreach_block() hands it to its
 * callback as GDB's 'R' block, the 560-byte amd64 `g` packet layout, so
 * user space copies every block it is given into the frame store as is.
 * The split is a measured choice: the BPF program runs on every hit in the
 * target's thread, and on the machines measured each cache line of ring
 * memory it touches costs more than the instructions; writing the 168
 * bytes pt_regs holds instead of 560 mostly-zero bytes took a quarter off
 * the collection cost.  The translation to GDB's layout is plain C,
 * testable and done once per frame by the reader.
 *
 * The BPF program cannot drop a block once it has reserved the record (the
 * size is a verifier constant), so a memory range whose read fails has its
 * type byte overwritten with BPFC_BLK_SKIP: the block keeps its M layout
 * and length, the walker steps over it and the rest of the frame is kept.
 *
 * Agent expressions (bpf/ax.h) add two kinds of blocks:
 *
 *   'V' + num (4) + value (8)      GDB's trace state variable block (tracev)
 *   'm' + cap (2) + flags (1) + want (8) + addr (8) + len (2) + cap bytes
 *
 * The second carries memory whose length is only known at run time
 * (trace, tracenz): the program reserved cap bytes, wrote len <= cap of
 * them, and want is the length the expression asked for; when want did
 * not fit, flags has BPFC_VBLK_CUT.  Its last 10 + cap bytes have the M
 * layout, so the walker reports it as an ordinary 'M' block of len bytes.
 * Every expression block is written as skipped (BPFC_BLK_TSV_SKIP,
 * BPFC_BLK_VMEM_SKIP, same layouts) before the expressions run and turns
 * into 'V' / 'm' only when its site runs and its read succeeds.
 */
#ifndef BPF_RECORD_H
#define BPF_RECORD_H

#include <stddef.h>
#include <linux/types.h>

struct bpfc_rec {
	__u32 tp;	/* tracepoint number */
	__u32 size;	/* bytes of blocks following this header */
	__u64 ktime_ns; /* bpf_ktime_get_ns() at the hit */
	__u32 pid;	/* thread group (process) id */
	__u32 tid;	/* thread id */
};

#define BPFC_BLK_REGS	   'R' /* GDB register block (what callbacks see) */
#define BPFC_BLK_PTREGS	   'r' /* struct pt_regs as the program wrote it */
#define BPFC_BLK_MEM	   'M'
#define BPFC_BLK_SKIP	   '\0' /* an M block whose read failed */
#define BPFC_BLK_TSV	   'V'	/* trace state variable (agent expression tracev) */
#define BPFC_BLK_VMEM	   'm'	/* memory of a run-time length (trace, tracenz) */
#define BPFC_BLK_VMEM_SKIP '\1' /* a VMEM block not collected */
#define BPFC_BLK_TSV_SKIP  '\2' /* a V block not collected */
#define BPFC_BLK_FPCHAIN   'F'	/* a stack window and frame-pointer records (bpf/fpchain.h) */

/* x86_64 struct pt_regs: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp
 * ss */
#define BPFC_PTREGS_SIZE 168

/*
 * The register block: GDB's amd64 (amd64-linux) `g` packet layout.
 * GDB numbering: 0 rax 1 rbx 2 rcx 3 rdx 4 rsi 5 rdi 6 rbp 7 rsp 8-15 r8-r15
 * 16 rip (8 bytes each), 17 eflags 18 cs 19 ss 20 ds 21 es 22 fs 23 gs
 * (4 each), 24-31 st0-7 (10 each), 32-39 fctrl..fop (4 each), 40-55 xmm0-15
 * (16 each), 56 mxcsr (4), 57 orig_rax 58 fs_base 59 gs_base (8 each).
 * Filled from what struct pt_regs holds; the rest is zero.
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

/* V block: type, number, value. */
#define BPFC_TBLK_SIZE 13 /* 'V' + 4 + 8 */

/* VMEM block: offsets from its type byte. */
#define BPFC_VBLK_OFF_CAP   1  /* u16 bytes reserved after the header */
#define BPFC_VBLK_OFF_FLAGS 3  /* u8 BPFC_VBLK_* */
#define BPFC_VBLK_OFF_WANT  4  /* u64 length asked for */
#define BPFC_VBLK_OFF_ADDR  12 /* u64, then the M layout */
#define BPFC_VBLK_OFF_LEN   20 /* u16 bytes collected, <= cap */
#define BPFC_VBLK_HDR	    22
#define BPFC_VBLK_CUT	    0x1 /* want > cap: collection cut at cap bytes */

/*
 * FPCHAIN block (bpf/fpchain.h): offsets from its type byte; after the
 * header, wcap bytes of window then cap records of 16 bytes.  Record k
 * was read at fp0 (k = 0) or at the first word of record k - 1.  With
 * BPFC_FBLK_WIDE the whole area (wcap + 16 * cap bytes) is window and
 * there are no records.  From OFF_ADDR on it has the M layout of the
 * window (addr, len, bytes).
 */
#define BPFC_FBLK_OFF_FLAGS 1  /* u8 BPFC_FBLK_* */
#define BPFC_FBLK_OFF_N	    2  /* u8 records read, <= cap */
#define BPFC_FBLK_OFF_CAP   3  /* u8 records reserved */
#define BPFC_FBLK_OFF_WCAP  4  /* u16 window bytes reserved */
#define BPFC_FBLK_OFF_FP0   6  /* u64 rbp at the hit */
#define BPFC_FBLK_OFF_ADDR  14 /* u64 rsp at the hit: the window's address */
#define BPFC_FBLK_OFF_LEN   22 /* u16 window bytes read */
#define BPFC_FBLK_HDR	    24
#define BPFC_FBLK_WIDE	    0x1 /* no chain: the whole area is the window */

/* Offset and size of GDB register regno inside the R block; -1 if out of range. */
int bpfc_regs__offset(int regno, size_t *size);
/*
 * Offset in struct pt_regs of GDB register regno (0-19 and 57 orig_rax;
 * for eflags, cs and ss the low 4 bytes of the 8-byte slot), else -1.
 */
int bpfc_regs__ptregs_offset(int regno);
/* Expand a pt_regs image (BPFC_PTREGS_SIZE bytes) into an R block payload. */
void bpfc_regs__from_ptregs(const void *ptregs, void *gdb_regs);

/*
 * Walk the blocks of a record of len bytes (as delivered by the ring
 * buffer).  Bounds-checked: the header's size and every block length are
 * checked against len, never trusted.  cb is called for each kept block
 * with its type ('R', 'M' or 'V') and its payload (the bytes after the
 * type byte: the 560-byte register block, addr + len + bytes for M, num +
 * value for V); an 'r' block is expanded into an 'R' one (in a buffer
 * valid during the call), a VMEM block is reported as 'M' with its len
 * collected bytes, an FPCHAIN block as one 'M' block for its window and
 * one of 16 bytes per record (those not inside the window), skipped
 * blocks are stepped over.  A non-zero return
 * from cb stops the walk and is returned.  -EBADMSG for a malformed record (nothing after the first
 * bad byte is reported).  *nskipped (if not NULL) counts skipped blocks.
 */
typedef int (*bpfc_blk_cb)(void *ctx, char type, const void *blk, size_t blk_len);
int bpfc_rec__foreach_block(const void *rec, size_t len, bpfc_blk_cb cb, void *ctx,
			    size_t *nskipped);

/* What a record holds, for reporting cut and missing collections. */
struct bpfc_rec_stats {
	size_t blocks;	 /* reported to a bpfc_rec__foreach_block() callback */
	size_t skipped;	 /* not collected: failed read, expression site not run */
	size_t cut;	 /* VMEM blocks with BPFC_VBLK_CUT */
	__u64 cut_bytes; /* sum over those of want - len */
	size_t out_bytes; /* sum over the reported blocks of 1 + len: the frame's size */
};

/* Walk like bpfc_rec__foreach_block() and count.  0 or -EBADMSG. */
int bpfc_rec__stats(const void *rec, size_t len, struct bpfc_rec_stats *st);

/* Decode an M block payload as given to the callback.  0 or -EBADMSG. */
int bpfc_rec__mem(const void *blk, size_t blk_len, __u64 *addr, const void **data, size_t *len);

#endif
