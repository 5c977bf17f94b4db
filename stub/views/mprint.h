/* SPDX-License-Identifier: MIT */
/*
 * stub/views/mprint.h - typed values of one stored trace frame, printed in the
 * language's syntax (monitor tdump, tframes, tlive; return values).
 *
 * A frame view (struct mprint_frame) is what tfind shows: registers from
 * the frame's R block, memory from its M blocks, and, through a callback,
 * memory that cannot have changed since the hit (read-only file mappings,
 * QTro ranges: the same rule as `m` in tfind, stub/views/frame.c).  Values
 * are typed by the DWARF layer (stub/program/dwarf.h):
 *
 *   C    42  3.5  true  97 'a'  RED  0x5555... "alpha"  {id = 1, label = "first"}
 *   Go   42  "req-1"  []string len 3 cap 3 ["a", "bb", "ccc"]
 *        map[string]int64 len 4  chan int64 len 1 cap 4
 *        0xc000010000 -> {X: 1, Y: 2, Label: "pt-1"}
 *        (*main.Point) 0xc000010000 -> {X: 0, ...}   (an interface)
 *
 * Bounded: MPRINT_DEPTH levels of pointers and members, MPRINT_ELEMS
 * elements, MPRINT_STR bytes of a string.  What the frame does not hold
 * prints <not collected> (never a guess); what cannot be printed names
 * why: <optimized out: ...>, <unknown type ...>.  Pure over the view: no
 * I/O of its own, so it is unit-tested without BPF (tests/unit/test_mprint.c).
 */
#ifndef STUB_MPRINT_H
#define STUB_MPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rsp/mexpr.h"
#include "stub/program/dwarf.h"
#include "stub/trace/framestore.h"

struct rsp_buf;

#define MPRINT_DEPTH 3	 /* pointer and member levels followed */
#define MPRINT_ELEMS 8	 /* array and slice elements shown */
#define MPRINT_STR   255 /* bytes of one string shown (as deep collection keeps) */

struct mprint_frame {
	const struct tf_frame *f; /* the stored frame (M blocks); NULL: no memory */
	const uint8_t *regs;	  /* its R block (GDB's amd64 `g` layout) or NULL */
	uint64_t pc;		  /* where it was hit */
	/*
	 * Memory the frame does not hold but that is constant (the tfind
	 * rule): bytes read (<= len) or -errno.  NULL: none.
	 */
	ssize_t (*live)(void *ctx, uint64_t addr, void *buf, size_t len);
	/*
	 * Go: the type whose runtime._type is at rtype (an interface's dynamic
	 * type), its name into name; NULL with the reason in name when unknown.
	 * The type must outlive the printing.  NULL callback: never known.
	 */
	const struct dw_type *(*go_type)(void *ctx, uint64_t rtype, char *name, size_t nlen);
	void *ctx;
};

/* A view of stored frame f (registers, pc from rip). */
void mprint__frame(struct mprint_frame *v, const struct tf_frame *f);

/*
 * All len bytes at addr from the frame (M blocks, then live): true, or
 * false when any byte is missing.
 */
bool mprint__read(const struct mprint_frame *f, uint64_t addr, void *buf, size_t len);
/* Register GDB amd64 number gdbreg from the R block: false when not collected. */
bool mprint__reg(const struct mprint_frame *f, int gdbreg, uint64_t *val);

/*
 * The value of type t at loc (a DWARF location at the frame's pc), or at
 * memory addr, appended to out.  go: Go syntax (else C).  0 or -ENOMEM;
 * values that cannot be shown are text, not errors.
 */
int mprint__value(struct rsp_buf *out, const struct dw_type *t, const struct dw_loc *loc,
		  const struct mprint_frame *f, bool go);
int mprint__value_at(struct rsp_buf *out, const struct dw_type *t, uint64_t addr,
		     const struct mprint_frame *f, bool go);

/*
 * Evaluate value expression e (rsp/mexpr.h, src its text) over the frame,
 * names from scope sc (the DWARF scope at the frame's pc), and append
 * `TEXT = VALUE` lines: $args is every parameter, $regs every collected
 * register, $rax one register; NAME, .NAME / ->NAME (Go's `.` goes through
 * pointers), *x and x[i] (arrays, pointers, Go slices).  A name not in
 * scope or a member the type lacks is a line saying so.  0 or -ENOMEM.
 */
int mprint__expr(struct rsp_buf *out, const struct mx_expr *e, const char *src,
		 const struct dw_scope *sc, const struct mprint_frame *f);

/*
 * The parameters as one short line, `name="bob", n=3, ...` (at most about
 * max bytes; a value cut ends in "..."), for tframes and tlive.
 */
int mprint__args_summary(struct rsp_buf *out, const struct dw_scope *sc,
			 const struct mprint_frame *f, size_t max);

#endif
