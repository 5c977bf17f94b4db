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

#include "stub/program/dwarf.h"
#include "stub/program/layout.h"

struct dw_scope;
struct dw_type;
struct dw_split_unit;

#define DW_MAX_SPLITS 65536 /* split units (.dwo, .dwp) read per file */

struct dw_file {
	int fd, dbg_fd;
	Elf *elf, *dbg_elf;
	Dwarf *dw;
	Dwarf_CFI *eh_cfi; /* dwarf_getcfi_elf(): ours to end */
	struct layout lay; /* the file's PT_LOAD segments (stub/program/layout.h) */
	char debug_path[256];
	uint64_t go_types; /* go_types_base() in dwarf_lookup.c, once known */
	bool go_types_known;
	/* split DWARF (stub/program/dwarf_split.c): one per skeleton found, by skeleton */
	struct dw_split_unit *splits;
	size_t nsplits, nskel, nmissing, nrefused;
	char split_msg[400]; /* the first skeleton whose unit was not found, and why */
};

/* Types copied out of libdw into scope s (its type list owns them); free() when done. */
struct dw_conv;
struct dw_conv *dw_int__conv_new(struct dw_scope *s, bool go);
struct dw_type *dw_int__type_conv(struct dw_conv *c, Dwarf_Die *die, int depth);
/* The type the DIE's DW_AT_type (or attribute at) names; NULL when none. */
struct dw_type *dw_int__type_of(struct dw_conv *c, Dwarf_Die *die, unsigned int at, int depth);

/*
 * Rust (stub/program/dwarf_rust.c): what rustc's struct die (named name,
 * size bytes) is, read from its DIEs alone: a DWT_RUST_STR, _VEC (elem_of:
 * a DIE whose DW_AT_type is the element type) or _ENUM (its variants: the
 * member DIE naming each, its offset, discriminant value or default).
 * False: a plain struct.  The caller copies the types (dwarf.c).
 */
struct dw_rust_shape {
	int kind; /* enum dw_type_kind */
	uint64_t ptr_off, len_off, discr_off;
	uint32_t discr_size;
	Dwarf_Die elem_of;
	bool has_elem;
	size_t nvariants;
	struct {
		Dwarf_Die member;
		uint64_t offset, discr;
		bool dflt;
	} v[DW_MAX_MEMBERS];
};
bool dw_int__rust_shape(Dwarf_Die *die, const char *name, uint64_t size, struct dw_rust_shape *out);
/* The subprogram of cu holding file address pc, nested in namespaces or not. */
bool dw_int__func_at(Dwarf_Die *cu, uint64_t pc, Dwarf_Die *fn);
/*
 * The DIEs holding file address pc in cu, innermost first: blocks, inlined
 * instances, the function (dwarf_getscopes, else the function found by
 * dw_int__func_at and what it nests).  Count (malloc'd *out, NULL when 0),
 * -EINVAL (libdw refuses) or -ENOMEM.
 */
int dw_int__scopes_at(Dwarf_Die *cu, uint64_t pc, Dwarf_Die **out);
/* The CU holding file address pc (a skeleton's split unit): true with *cu. */
bool dw_int__cu_at(struct dw_file *f, uint64_t pc, Dwarf_Die *cu);
/* The unit whose line table covers pc (a skeleton, not its split unit). */
bool dw_int__line_cu_at(struct dw_file *f, uint64_t pc, Dwarf_Die *cu);

/*
 * Split DWARF (stub/program/dwarf_split.c): read the split units of f's
 * skeletons from FILE.dwp or their .dwo files, inside the target's root
 * (root_fd; -1 the host's), path being f's name as the target sees it.
 */
int dw_int__split_load(struct dw_file *f, const char *path, int root_fd);
void dw_int__split_free(struct dw_file *f);
/* The unit to read for cu: itself, or a skeleton's split unit (false: not found). */
bool dw_int__unit(struct dw_file *f, Dwarf_Die *cu, Dwarf_Die *out);
/* Every unit with DIEs in turn (*it NULL first; split units for skeletons). */
bool dw_int__next_unit(struct dw_file *f, Dwarf_CU **it, Dwarf_Die *cu);

#endif
