/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_int.h - what the DWARF layer's own files share, and nobody else:
 * stub/program/dwarf.c (the core: files, CUs, scopes at a pc, locations, types) and
 * stub/program/dwarf_lookup.c (the queries on top of it: functions by name, line or
 * entry, where GDB puts a tracepoint, a function's results, member offsets,
 * Go runtime types).  The public API is stub/program/dwarf.h.
 */
#ifndef STUB_DWARF_INT_H
#define STUB_DWARF_INT_H

#include <elfutils/libdw.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>

#include "stub/program/layout.h"

struct dw_scope;
struct dw_type;

struct dw_file {
	int fd, dbg_fd;
	Elf *elf, *dbg_elf;
	Dwarf *dw;
	Dwarf_CFI *eh_cfi; /* dwarf_getcfi_elf(): ours to end */
	struct layout lay; /* the file's PT_LOAD segments (stub/program/layout.h) */
	char debug_path[256];
	uint64_t go_types; /* go_types_base() in dwarf_lookup.c, once known */
	bool go_types_known;
};

/* Types copied out of libdw into scope s (its type list owns them); free() when done. */
struct dw_conv;
struct dw_conv *dw_int__conv_new(struct dw_scope *s, bool go);
struct dw_type *dw_int__type_conv(struct dw_conv *c, Dwarf_Die *die, int depth);
/* The type the DIE's DW_AT_type (or attribute at) names; NULL when none. */
struct dw_type *dw_int__type_of(struct dw_conv *c, Dwarf_Die *die, unsigned int at, int depth);

/*
 * Rust (stub/program/dwarf_rust.c): t, a struct being copied from die, made
 * a DWT_RUST_STR, _VEC or _ENUM when rustc's shape of one is there: true
 * (its members, the variants for an enum, are then filled in), else false.
 */
bool dw_int__rust_type(struct dw_conv *c, Dwarf_Die *die, struct dw_type *t, int depth);
/* The subprogram of cu holding file address pc, nested in namespaces or not. */
bool dw_int__func_at(Dwarf_Die *cu, uint64_t pc, Dwarf_Die *fn);
/* The CU holding file address pc: true with *cu. */
bool dw_int__cu_at(struct dw_file *f, uint64_t pc, Dwarf_Die *cu);

#endif
