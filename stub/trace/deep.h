/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/deep.h - deep collection: what a function's parameters point to,
 * collected by the tracepoint's own BPF program as ordinary M blocks.
 *
 * GDB's `collect $regs` gives the registers; its own bytecode cannot name a
 * Go string in two registers, and nobody spells `collect *it` for every
 * tracepoint.  At tstart, for a tracepoint in a function with DWARF
 * (stub/program/dwarf.h), deep__plan() turns the scope at that pc into agent
 * expressions (the bytecode GDB itself sends, bpf/ax.h), appended to the
 * tracepoint's program as extra expressions (never to GDB's actions, so
 * upload and qTfP are unchanged):
 *
 *   C char *            the string, up to its NUL (tracenz, DEEP_STR_MAX)
 *   pointer to struct   the struct; its char *, Go string and slice fields
 *                       and pointers to structs one level further
 *   Go string           the bytes (runtime length, cut at DEEP_STR_MAX)
 *   Go slice            the elements (runtime length, bounded), and for a
 *                       slice of strings or pointers what each of the first
 *                       elements points to: unrolled, forward jumps only,
 *                       each guarded by the runtime length
 *   Go interface        what the data word points to (the dynamic type's
 *                       size from the type word, bounded)
 *   Go map, chan        the runtime header they point to
 *   a parameter in memory (stack ABI, -O0): its own bytes first
 *
 * Depth is at most 2 (a pointee and what its fields point to).  Every
 * length the program can reach is bounded when it is built (a constant or
 * a clamp and bit_and the validator proves), and the blocks' reserved
 * bytes together stay within the budget (tr->deep_budget): a collection
 * that does not fit is left out and the summary says so.
 *
 * deep__plan() is pure (no I/O), so it is unit-tested without BPF; the
 * tstart glue (deep__append) and `monitor status` text (deep__status) use
 * the trace's DWARF cache.
 */
#ifndef STUB_DEEP_H
#define STUB_DEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/ax.h"
#include "bpf/collect.h"
#include "stub/program/dwarf.h"

struct trace;
struct tp;
struct rsp_buf;

#define DEEP_STR_MAX	 255u /* bytes of one string (2^k - 1: a bit_and bound) */
#define DEEP_SLICE_ELEMS 8u   /* slice elements whose pointees are followed */
#define DEEP_MAX_EXPRS	 16u  /* expressions per tracepoint (one per parameter) */
#define DEEP_DEPTH	 2u

struct deep_plan {
	uint8_t *code[DEEP_MAX_EXPRS];
	size_t len[DEEP_MAX_EXPRS];
	size_t n;
	uint32_t bytes;	   /* record bytes the expressions reserve per hit */
	char summary[600]; /* "name (C string, 255), *it (32 bytes) ..." or why nothing */
};

/* One agent expression under construction (bpf/ax.h); bad: too long, or a
 * location deep collection does not follow. */
struct deep_bc {
	uint8_t b[BPFC_AX_MAX_LEN];
	size_t n;
	bool bad;
};

void deep__op(struct deep_bc *b, uint8_t op);
/* const8/16/32/64 of v (GDB's constants: unsigned, big-endian). */
void deep__const(struct deep_bc *b, uint64_t v);

/*
 * A value `monitor trace` names (stub/trace/montrace.c): variable var, then
 * off0 bytes into it; then nderef times: read the pointer there and add
 * off[k].  type is the value's type at the end.
 */
#define DEEP_PATH_MAX 8
struct deep_path {
	const struct dw_var *var;
	const struct dw_type *type;
	uint32_t off0;
	size_t nderef;
	int64_t off[DEEP_PATH_MAX];
	const char *text; /* as typed, for the summary */
};

/*
 * One expression collecting the value at path whole, as deep__plan does a
 * parameter (its own bytes, the string, struct, slice... it holds), after
 * the pointers read on the way: p->n is 1, or 0 when the registers hold the
 * whole value.  0, -ENOENT (optimized out at this pc), -EOPNOTSUPP (a
 * location or type that cannot be collected), -E2BIG, -ENOMEM; the summary
 * says which.
 */
int deep__path(const struct deep_path *path, uint32_t budget, struct deep_plan *p);
/* Push the scalar value at path (sign-extended when its type is signed), for a condition. */
bool deep__push_value(struct deep_bc *b, const struct deep_path *path);

/*
 * The expressions for scope s within budget bytes per hit.  0 (perhaps
 * with n == 0: nothing to follow, the summary says why) or -ENOMEM.
 */
int deep__plan(const struct dw_scope *s, uint32_t budget, struct deep_plan *p);
void deep__plan_free(struct deep_plan *p);
/* Go: append an expression collecting runtime.g.goid (8 bytes at r14 + off). */
int deep__plan_goid(struct deep_plan *p, int64_t off);

/*
 * Per-trace state: each tracepoint's plan (by slot).  The DWARF it is made
 * from is the trace's program's (tr->pgm: stub/program/program.h).
 */
struct deep;
struct deep *deep__new(void);
void deep__free(struct deep *d);

/*
 * At tr_prog__load: append tp's deep expressions to out[*n] (room for max), as
 * long as tr->deep_budget > 0, tp collects every register (`collect $regs`:
 * GDB finds the parameters through them; a tracepoint naming its own
 * collections gets exactly those) and tp's function has DWARF.  Never fails
 * the tracepoint: what was not possible is kept for deep__status.
 */
void deep__append(struct trace *tr, const struct tp *tp, struct bpfc_expr *out, size_t *n,
		  size_t max);
/* The program with them failed to build or load: note why (tr_prog__load retries without). */
void deep__refused(struct trace *tr, const struct tp *tp, const char *why);
/*
 * `monitor status` lines: "deep collection: N bytes per hit, depth 2" and
 * per tracepoint what is covered or why nothing ("no DWARF for PATH: ...").
 */
int deep__status(const struct trace *tr, struct rsp_buf *out);

#endif
