/* SPDX-License-Identifier: MIT */
/*
 * bpf/collect.h - compile a tracepoint's collection into one BPF program.
 *
 * A GDB tracepoint says "at this address, collect these registers and
 * these memory ranges".  bpfc_prog__build() turns that into a straight-line
 * BPF program for a uprobe (see collect.c for its shape and record.h for
 * what it writes); bpfc_prog__load() hands it to the verifier.  The program
 * never stops or signals the target: it runs in the target's context on
 * the uprobe trap, copies into a ring buffer record and returns.
 *
 * Per-tracepoint hit/frame/drop counters live in a per-CPU array map
 * shared by all programs and indexed by a slot number the caller assigns.
 *
 * A tracepoint may also carry agent expressions (bpf/ax.h): a condition,
 * evaluated first (false, or ended by an error: the program exits before
 * counting a hit or reserving a record, as gdbserver counts only hits
 * whose condition holds), and actions, evaluated in order after the
 * register and memory blocks, each writing its own blocks.  Trace state
 * variables live in one BPF array map of __s64 (bpfc_tsv__create()), one
 * entry per variable, which user space initialises and reads.
 */
#ifndef BPF_COLLECT_H
#define BPF_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>

#include "bpf/ax.h"
#include "bpf/fpchain.h"
#include "bpf/latency.h"
#include "bpf/prog.h"
#include "bpf/record.h"

/* One memory range is at most this long (the M block's 16-bit length). */
#define BPFC_MEM_MAX 65535u
/*
 * A whole record (header + all blocks) is at most this long; beyond it
 * bpfc_prog__build() returns -E2BIG.  The ring buffer must be larger than
 * the record (by at least its 8-byte ring header) or every hit is a drop;
 * build checks that too.
 */
#define BPFC_REC_MAX (64u * 1024)

#define BPFC_BASEREG_ABS -1 /* bpfc_mem.basereg: the address is absolute */

/*
 * bpfc_mem.flags: a read that fails (the range runs into an unmapped page,
 * e.g. a stack window past the top of the stack) is retried up to each
 * page boundary inside the range, from the last down, so what lies before
 * the first unreadable page is kept.  Such a range is written as a VMEM
 * block (record.h: cap = len, want = len; BPFC_VBLK_CUT when it was cut),
 * which the walker reports as an M block of the bytes read.
 */
#define BPFC_MEM_CLAMP 0x1u

struct bpfc_mem {
	int basereg;	    /* BPFC_BASEREG_ABS, or a GDB register number 0-16 */
	__s64 offset;	    /* address = (basereg < 0 ? 0 : reg) + offset */
	__u32 len;	    /* 0..BPFC_MEM_MAX */
	unsigned int flags; /* BPFC_MEM_* */
};

/* Bytes a range takes in the record (block header included). */
static inline size_t bpfc_mem__blk_size(const struct bpfc_mem *m)
{
	return (m->flags & BPFC_MEM_CLAMP ? BPFC_VBLK_HDR : BPFC_MBLK_HDR) + m->len;
}

#define BPFC_SPEC_NO_REGS 0x1u /* omit the R block */

/* Agent bytecode as GDB sent it (decoded from hex). */
struct bpfc_expr {
	const void *code;
	size_t len;
};

struct bpfc_spec {
	__u32 tp;		    /* tracepoint number, written into every record */
	__u32 slot;		    /* counter slot, < the counters map's nslots */
	unsigned int flags;	    /* BPFC_SPEC_* */
	const struct bpfc_mem *mem; /* nmem ranges, collected in order */
	size_t nmem;
	/* Agent expressions; all may be left zero. */
	const struct bpfc_expr *cond;	 /* NULL: none */
	const struct bpfc_expr *actions; /* nactions, after the R and M blocks */
	size_t nactions;
	struct bpfc_tsvs vars; /* trace state variables the expressions name */
	/*
	 * Pass count: with pass > 0, the program itself stops collecting after
	 * that many hits (condition true), counted in slot `slot` of the gate
	 * map (bpfc_gate__create()), so no hit past it runs its actions or
	 * touches a trace state variable while user space catches up.
	 */
	__u64 pass;
	int gate_fd;
	/*
	 * The call stack by frame pointers and a window at rsp (bpf/fpchain.h):
	 * one block after the memory ranges, before the actions' (NULL: none).
	 */
	const struct bpfc_fp *fp;
	/* A return probe's latency (bpf/latency.h): a V block after the registers. */
	const struct bpfc_lat *lat; /* NULL: none */
	/* Its stop switch, checked first (NULL or fd < 0: none). */
	const struct bpfc_stop *stop;
	/*
	 * Only in the processes of a process map (bpf/procs.h), checked right
	 * after the stop switch: a hit in another process returns at once,
	 * before anything is counted or reserved.  false: every process the
	 * uprobe fires in.
	 */
	bool procs;
	int procs_fd;
};

/*
 * Generate the program for spec, writing records to ringbuf_fd and
 * counting in counters_fd (both are checked: map types, record fits the
 * ring, slot in range; and the variables map when an expression uses
 * one).  out is overwritten; free it with bpfc_prog__free().  0, -EINVAL
 * (bad spec, map or expression), -E2BIG (record or range too large),
 * -ENOMEM; out->msg then says why in one line.
 */
int bpfc_prog__build(const struct bpfc_spec *spec, int ringbuf_fd, int counters_fd,
		     struct bpfc_prog *out);

/*
 * Counters: one per-CPU {hits, frames, drops} per slot.  A program adds to
 * hits and, when the ring is full, to drops; frames is not written by the
 * program (one atomic add per hit saved, ~20-40 ns at a one-trap site):
 * bpfc_counters__read() derives it as hits - drops, since every counted
 * hit is either submitted or dropped.
 */
struct bpfc_counts {
	__u64 hits;   /* the program ran and its condition, if any, held */
	__u64 frames; /* a record was submitted (read: hits - drops) */
	__u64 drops;  /* the ring buffer was full */
};

/* A counters map with nslots slots: fd, or -errno. */
int bpfc_counters__create(__u32 nslots);
/* Sum of all CPUs for one slot. */
int bpfc_counters__read(int fd, __u32 slot, struct bpfc_counts *out);
/* Zero one slot (when a slot is reused for a new tracepoint run). */
int bpfc_counters__reset(int fd, __u32 slot);
/* Slot from's counts into slot to; from starts again from zero. */
int bpfc_counters__move(int fd, __u32 from, __u32 to);

/* The pass-count gate: a shared array of nslots __u64 hit counts (zero). */
int bpfc_gate__create(__u32 nslots);
int bpfc_gate__reset(int fd, __u32 slot);

/*
 * Trace state variables: an array map of nslots __s64 values (all zero):
 * fd, or -errno.  Set the initial values before the run (QTDV), read them
 * any time (qTV); a program updates them with plain stores (setv) or
 * atomic adds (the "teval $v = $v + K" pattern).
 */
int bpfc_tsv__create(__u32 nslots);
int bpfc_tsv__get(int fd, __u32 slot, __s64 *value);
int bpfc_tsv__set(int fd, __u32 slot, __s64 value);

#endif
