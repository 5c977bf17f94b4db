/* SPDX-License-Identifier: MIT */
/*
 * bpf/emit.h - a growable BPF instruction array with forward labels.
 *
 * The code generators (tracepoint collection now, agent expressions later)
 * are straight-line lists of "emit this, emit that".  To keep them that
 * way the emitter latches the first error (allocation failure, a program
 * too long, a bad label) and turns every later call into a no-op; callers
 * check once, in bpfc_emit__finish().
 *
 * Jumps name labels instead of offsets.  A label is created with
 * bpfc_emit__label(), jumped to any number of times with bpfc_emit__jmp(),
 * and bound once with bpfc_emit__bind() at a later position.  Only forward
 * jumps are allowed: the BPF verifier explores every path, and a program
 * without back edges is trivially bounded, so we never generate loops.
 * bpfc_emit__finish() patches the offsets and checks that every referenced
 * label was bound and lies inside the program.
 */
#ifndef BPF_EMIT_H
#define BPF_EMIT_H

#include <stddef.h>
#include <linux/bpf.h>

/* The kernel's limit for privileged programs (BPF_COMPLEXITY_LIMIT_INSNS). */
#define BPFC_EMIT_MAX_INSNS 1000000u

struct bpfc_fixup {
	size_t at; /* index of the jump instruction */
	int label;
};

struct bpfc_emit {
	struct bpf_insn *insns;
	size_t len, cap;
	long *labels; /* bound position, or -1 while unbound */
	size_t nlabels, caplabels;
	struct bpfc_fixup *fix;
	size_t nfix, capfix;
	int err; /* first error, 0 if none */
};

void bpfc_emit__init(struct bpfc_emit *e);
void bpfc_emit__free(struct bpfc_emit *e);

void bpfc_emit__insn(struct bpfc_emit *e, struct bpf_insn insn);
/* Two-slot 64-bit immediate load; src is 0 or a BPF_PSEUDO_* source. */
void bpfc_emit__ld_imm64(struct bpfc_emit *e, int dst, int src, __u64 imm);
void bpfc_emit__ld_map_fd(struct bpfc_emit *e, int dst, int map_fd);

/* A new, unbound label; -1 (and the error latched) on allocation failure. */
int bpfc_emit__label(struct bpfc_emit *e);
/* Emit a jump (BPF_JMP_IMM/REG/A/JMP32 with any off) whose target is label. */
void bpfc_emit__jmp(struct bpfc_emit *e, struct bpf_insn jmp, int label);
/* Bind label to the next instruction emitted. */
void bpfc_emit__bind(struct bpfc_emit *e, int label);

/* Resolve all jumps.  0, or the first error of the whole emission. */
int bpfc_emit__finish(struct bpfc_emit *e);
/*
 * After a successful finish: hand the instruction array to the caller
 * (free() it), leaving the emitter empty.
 */
struct bpf_insn *bpfc_emit__take(struct bpfc_emit *e, size_t *len);

#endif
