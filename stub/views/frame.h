/* SPDX-License-Identifier: MIT */
/*
 * stub/views/frame.h - one stored trace frame as tfind shows it, without a
 * client: what `m`, `g`, `p` and qXfer:traceframe-info answer while GDB has
 * a frame selected, and what tdump, tframes and tlive print.
 *
 * A view needs the frame's trace (its store, tracepoints, QTro ranges, the
 * probes' patches) and the target (its maps, for memory that cannot have
 * changed since the hit); typed values come from the trace's program
 * context (tr->pgm: its DWARF cache).  No session, no socket: a trace file export could open one.
 */
#ifndef STUB_VIEWS_FRAME_H
#define STUB_VIEWS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stub/program/dwarf.h"
#include "stub/trace/framestore.h"
#include "stub/views/mprint.h"

struct rsp_buf;
struct trace;
struct tgt;
struct dw_cache;

struct fview {
	struct trace *tr;
	struct tgt *tgt;
	size_t n; /* its number in the store (0 = oldest present) */
	struct tf_frame f;
	struct mprint_frame v; /* blocks, registers, live memory; v.pc is fview__pc */
	struct dw_scope sc;    /* valid when !scope_err */
	int scope_err;	       /* -ENOENT until fview__scope() finds one */
	char why[200];	       /* why there is no scope */
};

/*
 * Open a view of frame n of tr's store (no DWARF yet).  fv must stay where
 * it is until fview__close().  0 or -ENOENT (no frame n).
 */
int fview__open(struct fview *fv, struct trace *tr, struct tgt *t, size_t n);
/*
 * Type it: the DWARF scope at its pc from the trace's program context
 * (tr->pgm), and Go's dynamic types.  0, or -errno with fv->why saying why
 * (the view stays usable, untyped).
 */
int fview__scope(struct fview *fv);
void fview__close(struct fview *fv);

/* A stored frame's pc: rip from its R block, else its tracepoint's address. */
uint64_t fview__frame_pc(const struct trace *tr, const struct tf_frame *f);
/* Registers as g (regno < 0) or p regno: rip the pc, what BPF cannot see 'x'. */
int fview__regs(const struct fview *fv, int regno, struct rsp_buf *r);
/* Bytes at addr: collected ones (M blocks), else fview__live_mem(); -EIO if neither. */
ssize_t fview__mem(const struct fview *fv, uint64_t addr, void *buf, size_t len);
/*
 * Memory no frame holds but that is constant (QTro ranges, read-only file
 * mappings), read live from the target while it runs the traced image.
 */
ssize_t fview__live_mem(const struct fview *fv, uint64_t addr, void *buf, size_t len);
/* The value trace state variable num had in the frame (its V block): 0 or -ENOENT. */
int fview__tsv(const struct fview *fv, uint32_t num, int64_t *val);
/* qXfer:traceframe-info:read's document. */
int fview__info_xml(const struct fview *fv, struct rsp_buf *o);

#endif
