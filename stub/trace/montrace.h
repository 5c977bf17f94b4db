/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/montrace.h - tracepoints defined by `monitor trace` (issue 10).
 *
 *   monitor trace LOCATION [if COND] [collect EXPR[, EXPR...]]
 *
 * LOCATION is a function (after its prologue, where GDB's `trace FUNC`
 * puts it), FILE:LINE or *ADDR, resolved with the DWARF layer; COND and
 * EXPR are rsp/mexpr.h's, resolved against the scope at that pc and
 * compiled into agent bytecode (deep.h's deep__path for each value, whole).
 * The tracepoint is an ordinary struct tp in the same struct trace as
 * GDB's (tstatus, tfind, tsave and qTfP see it), with QTDPsrc-style source
 * items so a GDB that connects later shows it; tp->mon keeps the texts.
 */
#ifndef STUB_MONTRACE_H
#define STUB_MONTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace;
struct dw_scope;
struct rsp_buf;
struct rsp_mon_line;
struct tp_kind;

#define MT_EXPRS_MAX 16

struct tp_mon {
	char *line;   /* the words as typed, single spaces: "trace f if n > 3" */
	char *where;  /* the location as typed: "main.handle", "main.go:64", "*0x401136" */
	char *cond;   /* the condition's text, or NULL */
	char **exprs; /* the collected expressions' texts, "$args" when none given */
	size_t nexprs;
	bool args;	  /* $args: every parameter, deep-collected (deep__append) */
	char func[128];	  /* the function holding the pc (DWARF), "" when unknown */
	bool go;	  /* a Go function: r14 holds the current g */
	int64_t goid_off; /* offset of runtime.g.goid collected at r14 (M block), -1: none */
	char plan[600];	  /* what each expression collects, for monitor status */
};

/* The kind (struct tp_kind, stub/trace/trace.h): tp->mon freed with the tracepoint. */
extern const struct tp_kind tp_kind_mon;

/*
 * `monitor trace ...`: words l->argv[arg..] (after "trace").  Defines the
 * tracepoint (installed at once during a run) and says so in out; on a
 * mistake -errno, msg one line naming it, and nothing defined.
 */
int mt__trace(struct trace *tr, const struct rsp_mon_line *l, size_t arg, struct rsp_buf *out,
	      char *msg, size_t mlen);
/* `monitor tdelete N|all`: detached first when running. */
int mt__delete(struct trace *tr, const char *what, struct rsp_buf *out, char *msg, size_t mlen);
/* `monitor tstatus`: the run, frames, each tracepoint's hits, in words. */
int mt__status(struct trace *tr, struct rsp_buf *out);
/*
 * A condition (the text after `if`) compiled against scope sc (borrowed),
 * as `trace ... if COND` compiles it: agent bytecode in *code (malloc'd),
 * *len bytes.  0, or -errno with msg (one line).  For `trace -return`,
 * whose scope is the function's return values in registers.
 */
int mt__cond(struct trace *tr, const struct dw_scope *sc, const char *cond, uint8_t **code,
	     size_t *len, char *msg, size_t mlen);

/*
 * LOCATION (FUNC after its prologue, FILE:LINE, *ADDR) as `monitor trace`
 * resolves it, checked to be code the target maps: 0 and *pc, or -errno.
 */
int mt__locate(struct trace *tr, const char *where, uint64_t *pc, char *msg, size_t mlen);

/*
 * The value of EXPR (rsp/mexpr.h) in scope sc as agent bytecode that leaves
 * it on the stack (`trace -hist EXPR`, `by EXPR`): a number (one word,
 * sign-extended when signed), or with key, a string: a C char * (its
 * address) or a Go string / Rust &str (its address, then its length).
 */
enum mt_val_kind {
	MT_VAL_INT,
	MT_VAL_CSTR,
	MT_VAL_GOSTR,
};
struct mt_value {
	uint8_t *code; /* malloc'd */
	size_t len;
	enum mt_val_kind kind;
	bool sgn;
};
int mt__value(struct trace *tr, const struct dw_scope *sc, const char *text, bool key,
	      struct mt_value *out, char *msg, size_t mlen);

#endif
