/* SPDX-License-Identifier: MIT */
/*
 * bpf/latency.h - latency measured in the kernel, for return probes.
 *
 * A return probe (stub/trace/retprobe.c) is a uprobe at the function's entry
 * plus one on each of its return instructions: never a uretprobe, which
 * rewrites the return address on the stack (Go's stack growth and its
 * tracebacks read that address).  The entry program stores
 * bpf_ktime_get_ns() in an LRU hash; the program of each return looks it
 * up, deletes it and writes the difference as a V block (record.h).
 *
 * The key tells apart the calls that are open at once:
 *   C:  { pid_tgid, rsp }                 the thread, and the depth
 *   Go: { g, g.stack.hi - rsp }           the goroutine (r14 in Go's
 *        register ABI on amd64) and its depth measured from the top of its
 *        stack, which stays the same when the runtime moves the stack
 *        (copystack keeps the distance to stack.hi) and when the goroutine
 *        moves to another thread.
 * rsp is the same at the entry (it points at the return address) and at
 * the ret that returns to it, so recursion gets one entry per level.  A
 * return with no entry (the probe came while the call was open) writes
 * its V block as skipped: the latency is unknown in that frame.
 *
 * The probes' own cost (docs/RETPROBE.md, "Latency bias"): what the
 * kernel does after the entry program read the clock (the single-step of
 * the displaced instruction, the return to user space) and before the
 * return program reads it (the trap, the uprobe lookup) lies inside
 * now - entry.  bias_ns, measured on this kernel for the kinds of the two
 * sites (bpf/calib.h), is subtracted in the return program; a difference
 * below it is written as 0 and counted in the clamp map.
 */
#ifndef BPF_LATENCY_H
#define BPF_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpfc_emit;
struct bpfc_prog;
struct bpfc_stop;

#define BPFC_LAT_ENTRIES 16384 /* open calls remembered (LRU) */
#define BPFC_GO_STACK_HI 8     /* offsetof(runtime.g, stack.hi) in Go 1.x: g.stack comes first */

struct bpfc_lat {
	int map_fd;	   /* bpfc_lat__map_create() */
	bool go;	   /* key on the goroutine (r14), not the thread */
	__u32 tsv;	   /* the V block's variable number */
	__s32 go_stack_hi; /* offsetof(runtime.g, stack.hi) from DWARF; <= 0: BPFC_GO_STACK_HI */
	__u64 bias_ns;	   /* subtracted from now - entry (never below 0); 0: none */
	int clamp_fd;	   /* bpfc_lat__clamp_create(): latencies clamped at 0; -1: none */
};

/*
 * How the kernel runs the instruction under a uprobe (x86-64,
 * arch/x86/kernel/uprobes.c): emulated in the trap (push of a register,
 * jmp/call rel, jcc, nop 0x90: one trap) or single-stepped out of line
 * (everything else, ret included: a second trap, a debug exception).
 */
enum bpfc_lat_site {
	BPFC_LAT_EMULATED,
	BPFC_LAT_STEPPED,
	BPFC_LAT_NSITES,
};
/* The kind of the instruction at code[0..len) (pure; len 0: stepped). */
enum bpfc_lat_site bpfc_lat__site_kind(const __u8 *code, size_t len);
const char *bpfc_lat__site_name(enum bpfc_lat_site k); /* "emulated", "single-stepped" */

/* The LRU hash of open calls: fd or -errno. */
int bpfc_lat__map_create(void);
/* The clamp counter (an array of one __u64): fd or -errno; its count, 0 on error. */
int bpfc_lat__clamp_create(void);
__u64 bpfc_lat__clamped(int clamp_fd);
void bpfc_lat__clamp_reset(int clamp_fd);
/*
 * The entry program (r6 = ctx on entry): build and load it into out, with
 * stop switch stop first (bpf/prog.h; NULL: none).
 */
int bpfc_lat__entry_prog(const struct bpfc_lat *lat, const struct bpfc_stop *stop,
			 struct bpfc_prog *out);
/*
 * In a return program, after the record's header (r6 = ctx, r7 = the
 * record): the V block at record offset blk_off (BPFC_TBLK_SIZE bytes),
 * now - entry - lat->bias_ns (at least 0).
 */
void bpfc_lat__emit_return(struct bpfc_emit *e, const struct bpfc_lat *lat, int blk_off);

/*
 * The key of the call open at this site (r6 = ctx), at r10 - 32 (16 bytes:
 * { id, depth }), with r10 - 40 as scratch; clobbers r0-r5.  For another
 * program keyed on the same calls (bpf/hist.c's latency histograms).
 */
#define BPFC_LAT_KEY_OFF (-32)
void bpfc_lat__emit_key(struct bpfc_emit *e, const struct bpfc_lat *lat);

#endif
