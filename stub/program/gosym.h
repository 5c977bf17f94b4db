/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gosym.h - a Go file's own function table, as the DWARF cache uses it.
 *
 * A Go service built with -ldflags "-s -w" has neither DWARF nor a symbol
 * table, but the runtime's pc-line table (stub/program/gopclntab.h, found
 * in the file by stub/program/gopclntab_elf.h) names every function, its
 * entry and end, and every pc's FILE:LINE.  The DWARF cache
 * (stub/program/dwarf_cache.c) keeps one struct gosym beside each file's
 * DWARF and ELF symbols, opened when DWARF has nothing to say; this module
 * turns the table's answers into what the cache speaks: file offsets
 * (placed in the target through the file's mappings, as ELF symbols are),
 * the pc after Go's stack-growth check (where a tracepoint on the function
 * sees its argument registers once per call), the register-ABI argument
 * count and the goroutine id's offset in runtime.g for the binary's Go
 * version.
 *
 * Internal to stub/program/: nothing above the layer includes it.
 */
#ifndef STUB_PROGRAM_GOSYM_H
#define STUB_PROGRAM_GOSYM_H

#include <stddef.h>
#include <stdint.h>

struct gosym;

/* What the table says of one pc (gosym__at). */
struct gosym_at {
	char name[128];	       /* the innermost function (inlined or not) at the pc */
	char file[256];	       /* its position at the pc: the file as the table has it */
	int line;	       /* -1 unknown */
	uint64_t entry, end;   /* file offsets of the containing function's [entry, end) */
	uint64_t prologue_end; /* file offset after its stack check (entry when none) */
	int32_t args;	       /* bytes of its arguments (_func.args), -1 unknown */
	int abi_regs;	       /* 1: Go 1.17+, arguments and results in registers (ABIInternal) */
};

/*
 * The Go table of the file open at fd (taken over: closed by
 * gosym__close, or here on error).  0, or -ENOENT (not Go: no table) /
 * -EINVAL / -ENOTSUP / -ENOMEM with msg.
 */
int gosym__open(struct gosym **out, int fd, char *msg, size_t mlen);
void gosym__close(struct gosym *g);

/* File offsets of the entries of the functions of this exact Go name: count (<= max). */
int gosym__func_offs(const struct gosym *g, const char *name, uint64_t *offs, size_t max);
/* File offsets of FILE:LINE, the lowest of each function holding it: count (<= max), -errno. */
int gosym__line_offs(const struct gosym *g, const char *file, int line, uint64_t *offs, size_t max);
/* The function holding file offset off: 0, or -ENOENT. */
int gosym__at(const struct gosym *g, uint64_t off, struct gosym_at *out);

/* The Go version of the build info ("go1.19.8"), "" when unknown. */
const char *gosym__version(const struct gosym *g);
/* Offset of goid in runtime.g on amd64 for the binary's Go version: 0, or -ENOENT with msg. */
int gosym__goid_off(const struct gosym *g, int64_t *off, char *msg, size_t mlen);

/* ---- pure, for the unit test ---- */

/*
 * Offset of goid in runtime.g (amd64) for Go version v ("go1.23.4",
 * "devel go1.24-abcdef ..."): -1 when v is not one the table knows.
 */
int64_t gosym__goid_for_version(const char *v);
/*
 * Bytes of Go's stack-growth check at the start of a function's code
 * (CMPQ 0x10(R14), SP or, for a large frame, LEAQ -N(SP), R12; CMPQ
 * 0x10(R14), R12, or for a huge one MOVQ SP, R12; SUBQ $N, R12; JB; CMPQ
 * 0x10(R14), R12; then JBE; 0x18(R14) in //go:systemstack functions):
 * 0 when the code does not start with one.
 */
size_t gosym__stack_check_len(const uint8_t *code, size_t n);

#endif
