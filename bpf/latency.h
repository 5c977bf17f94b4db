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
};

/* The LRU hash of open calls: fd or -errno. */
int bpfc_lat__map_create(void);
/*
 * The entry program (r6 = ctx on entry): build and load it into out, with
 * stop switch stop first (bpf/prog.h; NULL: none).
 */
int bpfc_lat__entry_prog(const struct bpfc_lat *lat, const struct bpfc_stop *stop,
			 struct bpfc_prog *out);
/*
 * In a return program, after the record's header (r6 = ctx, r7 = the
 * record): the V block at record offset blk_off (BPFC_TBLK_SIZE bytes).
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
