/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/retprobe.h - `monitor trace -return FUNC`: return values and latency.
 *
 * A return tracepoint is one tracepoint number with one location (struct
 * tp, same num, different addr: GDB's multi-location form) per return
 * instruction of FUNC, found by decoding FUNC's code from the file the
 * target maps with Capstone (docs/RETPROBE.md says why Capstone), plus an
 * entry probe that is not a tracepoint: it only stores the entry time for
 * the latency (bpf/latency.h).  Never uretprobes: they rewrite the return
 * address on the stack, which breaks Go's stack growth and tracebacks.
 *
 * Each frame of a return location holds the registers (R block), the
 * latency as the builtin trace state variable $latency_ns (a V block;
 * none when the call began before the probe), and for Go the 8 bytes of
 * runtime.g.goid at r14 (an M block).  retprobe__values() says where
 * each return value is in those registers, typed by DWARF.
 *
 * Every location of one tracepoint shares one struct tp_ret (counted).
 */
#ifndef STUB_RETPROBE_H
#define STUB_RETPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/collect.h"
#include "bpf/probe.h"
#include "stub/program/dwarf.h"
#include "stub/trace/deep.h"

struct trace;
struct tp;
struct rsp_buf;
struct tp_kind;

#define RET_MAX_SITES 64 /* return instructions of one function */

struct tp_ret {
	unsigned refs;	   /* locations sharing it */
	unsigned attached; /* of them, attached now */
	char func[DW_NAME_MAX];
	uint64_t entry; /* runtime */
	bool go;
	int64_t goid_off;  /* runtime.g.goid, -1 unknown */
	struct dw_func df; /* owns the value types */
	size_t nvals;	   /* values, with register locations at a return */
	struct dw_var vals[DW_MAX_VARS];
	struct bpfc_lat lat; /* map_fd -1 until the first install; bias_ns: the latency bias */
	/* The kinds of its sites (bpf/latency.h): the bias subtracted depends on them. */
	unsigned char entry_kind, ret_kind; /* enum bpfc_lat_site */
	struct bpfc_prog entry_prog;
	struct bpfc_probe entry_probe;
	struct bpfc_stop entry_stop; /* entry_prog's stop switch, while entry_stop_held */
	bool entry_stop_held;
	bool entry_on;
	char cond[256]; /* `if COND` as typed (words joined), "" none */
	/* What the return values point to (deep collection), planned at the first install. */
	struct deep_plan plan;
	bool planned;
};

/*
 * Define `trace -return FUNC [if COND]` (words[0] is FUNC, the rest the
 * condition, if any).  Console text (sites, tail calls, values) is
 * appended to out.  0, or -errno with msg naming the problem; on an error
 * nothing is defined.
 */
int retprobe__define(struct trace *tr, const char *const *words, size_t nwords, struct rsp_buf *out,
		     char *msg, size_t mlen);

/*
 * The kind's operations (struct tp_kind, stub/trace/trace.h), which the
 * trace core calls through tp->kind.  prepare: before a location's program
 * is built (the latency map and the entry program, once), registers, the
 * latency and the goroutine id added.  entry_get: before a location is
 * attached (the entry probe goes on with the first, so every call that
 * returns through an attached location was timed from its entry, unless it
 * began earlier); entry_put: after one is detached (the entry probe goes
 * with the last).  deep: what its return values point to (a Go string's
 * bytes, a C string, a struct: stub/trace/deep.h, within tr->deep_budget),
 * planned once per return tracepoint.  free: drops the location's
 * reference.  A return tracepoint outlives QTinit.
 */
extern const struct tp_kind tp_kind_ret;

/*
 * The return values of tp (a return location) with their DWARF types and
 * register locations (DWP_REG pieces, DWARF register numbers) valid at
 * its return instruction; a value BPF cannot see (floats in X registers,
 * results on the stack) has a DWP_UNAVAIL piece and loc.why.  Types stay
 * valid as long as tp's definition.  Count (<= max), or -errno with msg
 * (not a return tracepoint).
 */
int retprobe__values(struct trace *tr, const struct tp *tp, struct dw_var *out, size_t max,
		     char *msg, size_t mlen);

/*
 * `monitor status` lines of the latency bias: the figures, how they were
 * had, each return tracepoint's, the frames clamped at 0 this run.
 */
void retprobe__status(struct trace *tr, struct rsp_buf *out);

/* Decode [lo, hi) of code at runtime address lo (pure: for tests and fuzzing). */
struct ret_sites {
	uint64_t ret[RET_MAX_SITES];
	size_t nret, ret_dropped;
	uint64_t tail[8][2]; /* a jmp leaving the function: {at, to}; to 0 = indirect */
	size_t ntail;
	size_t bad; /* bytes Capstone could not decode */
};
int retprobe__decode(const uint8_t *code, size_t len, uint64_t lo, const uint64_t (*ranges)[2],
		     size_t nranges, struct ret_sites *out);

/*
 * FUNC's entry and return instructions, as `trace -return` finds them, for
 * another kind timed from the entry (stub/trace/histo.c): 0, or -errno
 * with msg.  Notes (several functions of that name) are appended to out.
 */
struct ret_func {
	uint64_t entry;
	unsigned entry_kind; /* how the kernel runs the entry instruction (enum bpfc_lat_site) */
	bool go;
	int32_t stack_hi; /* offsetof(runtime.g, stack.hi) from DWARF, 0: unknown */
	struct ret_sites s;
};
int retprobe__sites(struct trace *tr, const char *func, struct ret_func *f, struct rsp_buf *out,
		    char *msg, size_t mlen);
/*
 * What a latency measured from an entry probe of kind entry_kind (enum
 * bpfc_lat_site) to a return probe has to lose: the probes' own cost, by
 * `monitor set latency-bias` (auto: calibrated once, at the first use).
 */
uint64_t retprobe__bias(struct trace *tr, unsigned entry_kind);

#endif
