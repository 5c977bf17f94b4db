/* SPDX-License-Identifier: MIT */
/*
 * bpf/ax.h - GDB agent expressions, validated and compiled to BPF.
 *
 * GDB sends tracepoint conditions and computed collections ("collect
 * *ptr@16", "teval $c = $c + 1") as agent bytecode: a small stack machine
 * (GDB manual, "Agent Expressions").  gdbserver interprets it on every
 * hit; bpfstub cannot, because the hit runs in a BPF program, so each
 * expression is compiled into the tracepoint's own BPF program.
 *
 * bpfc_ax__parse() is the validator: it decodes every reachable
 * instruction, proves the stack depth at each one (forward-only control
 * flow, equal depths where paths join), propagates constants (so that the
 * length of "const8 16; trace" is known when the program is built) and
 * lays out the record blocks the expression writes.  It is pure (no I/O,
 * no libbpf, no globals) so it can be fuzzed and can answer GDB with a
 * precise "E.<message>" while the tracepoint is being defined.
 *
 * bpfc_ax__emit() compiles a parsed expression into a struct bpfc_emit,
 * inside the program bpf/collect.c generates.  Register contract of the
 * emitted code: r6 holds the struct pt_regs * context, r7 the reserved
 * record (actions only; a condition runs before the record exists), r8 is
 * preserved, r0-r5 and r9 are clobbered.  Stack values live in BPF stack
 * slots, 8 bytes each, slot i at fp - BPFC_AX_FP_SLOT0 - 8 * i, and a 4-byte
 * map key sits at fp + BPFC_AX_FP_KEY: the caller may keep fp-4..fp-1 (the
 * counters key of collect.c) and must not rely on anything from fp-5 down
 * to fp - BPFC_AX_FP_SLOT0 - 8 * (BPFC_AX_MAX_DEPTH - 1), 272 bytes in all.
 *
 * Semantics beyond the manual, all shared by the validator's constant
 * folding and by the emitted code:
 *  - shift counts are taken modulo 64;
 *  - div_signed of INT64_MIN by -1 is INT64_MIN, rem_signed of it is 0;
 *  - division or remainder by zero ends the expression (gdbserver: "division
 *    by zero"); so does a failed ref8..ref64 read or a variable whose map
 *    slot cannot be found.  An ended condition is false; an ended action
 *    keeps the blocks it wrote and the later blocks stay "skipped";
 *  - a failed trace/tracenz read only marks its block skipped and the
 *    expression goes on;
 *  - ext 0 is refused (a zero-bit field has no sign); ext and zero_ext of
 *    64 bits or more change nothing.
 */
#ifndef BPF_AX_H
#define BPF_AX_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpfc_emit;

/* The bytecodes (GDB's gdb/ax.def numbering). */
enum bpfc_axop {
	BPFC_AXOP_FLOAT = 0x01,
	BPFC_AXOP_ADD = 0x02,
	BPFC_AXOP_SUB = 0x03,
	BPFC_AXOP_MUL = 0x04,
	BPFC_AXOP_DIV_SIGNED = 0x05,
	BPFC_AXOP_DIV_UNSIGNED = 0x06,
	BPFC_AXOP_REM_SIGNED = 0x07,
	BPFC_AXOP_REM_UNSIGNED = 0x08,
	BPFC_AXOP_LSH = 0x09,
	BPFC_AXOP_RSH_SIGNED = 0x0a,
	BPFC_AXOP_RSH_UNSIGNED = 0x0b,
	BPFC_AXOP_TRACE = 0x0c,
	BPFC_AXOP_TRACE_QUICK = 0x0d,
	BPFC_AXOP_LOG_NOT = 0x0e,
	BPFC_AXOP_BIT_AND = 0x0f,
	BPFC_AXOP_BIT_OR = 0x10,
	BPFC_AXOP_BIT_XOR = 0x11,
	BPFC_AXOP_BIT_NOT = 0x12,
	BPFC_AXOP_EQUAL = 0x13,
	BPFC_AXOP_LESS_SIGNED = 0x14,
	BPFC_AXOP_LESS_UNSIGNED = 0x15,
	BPFC_AXOP_EXT = 0x16,
	BPFC_AXOP_REF8 = 0x17,
	BPFC_AXOP_REF16 = 0x18,
	BPFC_AXOP_REF32 = 0x19,
	BPFC_AXOP_REF64 = 0x1a,
	BPFC_AXOP_REF_FLOAT = 0x1b,
	BPFC_AXOP_REF_DOUBLE = 0x1c,
	BPFC_AXOP_REF_LONG_DOUBLE = 0x1d,
	BPFC_AXOP_L_TO_D = 0x1e,
	BPFC_AXOP_D_TO_L = 0x1f,
	BPFC_AXOP_IF_GOTO = 0x20,
	BPFC_AXOP_GOTO = 0x21,
	BPFC_AXOP_CONST8 = 0x22,
	BPFC_AXOP_CONST16 = 0x23,
	BPFC_AXOP_CONST32 = 0x24,
	BPFC_AXOP_CONST64 = 0x25,
	BPFC_AXOP_REG = 0x26,
	BPFC_AXOP_END = 0x27,
	BPFC_AXOP_DUP = 0x28,
	BPFC_AXOP_POP = 0x29,
	BPFC_AXOP_ZERO_EXT = 0x2a,
	BPFC_AXOP_SWAP = 0x2b,
	BPFC_AXOP_GETV = 0x2c,
	BPFC_AXOP_SETV = 0x2d,
	BPFC_AXOP_TRACEV = 0x2e,
	BPFC_AXOP_TRACENZ = 0x2f,
	BPFC_AXOP_TRACE16 = 0x30,
	BPFC_AXOP_PICK = 0x32,
	BPFC_AXOP_ROT = 0x33,
	BPFC_AXOP_PRINTF = 0x34,
};

/* Longest bytecode accepted (GDB's packets carry at most this much, rsp/trace.h). */
#define BPFC_AX_MAX_LEN 4096u
/*
 * Deepest stack: 32 slots of 8 bytes, 256 of the 512-byte BPF stack.  GDB's
 * own expressions rarely need more than 8.
 */
#define BPFC_AX_MAX_DEPTH 32u
/*
 * Capacity of a trace or tracenz block whose length is computed at run
 * time: the record size is a verifier constant, so each collection site
 * reserves this much and cuts a longer request there (the block says so,
 * see BPFC_VBLK_CUT in record.h).  A length known when the program is
 * built reserves exactly that (at most BPFC_AX_CONST_MAX).
 */
#define BPFC_AX_TRACE_MAX 1024u
#define BPFC_AX_CONST_MAX 65535u
/* One expression's blocks never exceed a whole record (BPFC_REC_MAX). */
#define BPFC_AX_REC_MAX 65536u
/* reg n: GDB amd64 numbers 0-15 (rax..r15), 16 rip, 17 eflags. */
#define BPFC_AX_NREGS 18u

/* BPF stack use of the emitted code (see above). */
#define BPFC_AX_FP_KEY	 (-8)
#define BPFC_AX_FP_SLOT0 24

/* bpfc_ax__parse() flags */
#define BPFC_AX_COND 0x1u /* a condition: leaves a value, collects nothing */

struct bpfc_ax_op; /* one decoded, reachable instruction (ax_int.h) */

/* A validated expression. */
struct bpfc_ax {
	unsigned int flags;	/* BPFC_AX_* as parsed */
	struct bpfc_ax_op *ops; /* reachable instructions, by offset */
	size_t nops;
	unsigned int max_depth; /* deepest stack on any path */
	unsigned int nblocks;	/* record blocks it writes (trace*, tracenz, tracev) */
	size_t rec_size;	/* record bytes those blocks take */
	bool uses_vars;		/* getv, setv or tracev */
};

/*
 * Validate len bytes of bytecode.  0, or -EINVAL / -E2BIG (too long) /
 * -ENOMEM with a one-line message in msg ("agent expression: ..."), which
 * names the instruction and its byte offset.  Free with bpfc_ax__free()
 * (also after an error; harmless on a zeroed struct).
 */
int bpfc_ax__parse(struct bpfc_ax *ax, const void *code, size_t len, unsigned int flags, char *msg,
		   size_t mlen);
void bpfc_ax__free(struct bpfc_ax *ax);
/* Parse and free: just the verdict and its message. */
int bpfc_ax__check(const void *code, size_t len, unsigned int flags, char *msg, size_t mlen);
/* "add", "trace_quick", ...; "0x31" style for an unknown byte (buf of 8). */
const char *bpfc_ax__opname(unsigned int op, char buf[8]);

/* Trace state variables: GDB's number -> slot of the variables map. */
struct bpfc_tsv_slot {
	__u32 num;
	__u32 slot;
};

struct bpfc_tsvs {
	int fd; /* bpfc_tsv__create() map; only used when n > 0 */
	const struct bpfc_tsv_slot *map;
	size_t n;
	__u32 timestamp;	   /* number of trace_timestamp, 0 if none */
	__s64 timestamp_offset_us; /* getv: bpf_ktime_get_ns() / 1000 + this */
	__u32 thread;		   /* number of trace_thread (the thread id), 0 if none */
	__u32 pid;		   /* number of trace_pid (the process id), 0 if none */
};

/*
 * Before any action runs: mark every block of ax at record offset rec_off
 * (from r7) as skipped, so a block whose site never runs reads as absent.
 */
void bpfc_ax__emit_blocks(const struct bpfc_ax *ax, struct bpfc_emit *e, size_t rec_off);
/*
 * Compile ax.  The code falls through when the expression ends normally
 * (for a condition: with a non-zero value) and jumps to label l_fail when
 * it ends early (for a condition: also when the value is zero).  Blocks
 * start at record offset rec_off.  0, or -EINVAL with msg (an undefined
 * variable, an assignment to a builtin one); emitter errors surface in
 * bpfc_emit__finish().
 */
int bpfc_ax__emit(const struct bpfc_ax *ax, struct bpfc_emit *e, const struct bpfc_tsvs *vars,
		  size_t rec_off, int l_fail, char *msg, size_t mlen);

#endif
