/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwp.h - split DWARF units as images libdw can read, purely.
 *
 * `gcc -gsplit-dwarf` leaves in the executable a skeleton unit per
 * compilation unit (its address ranges, line table and .debug_addr) and
 * puts the rest (DIEs, types, location lists) in a .dwo file per object,
 * or `dwp` packs those into one FILE.dwp: sections .debug_info.dwo,
 * .debug_abbrev.dwo, ... with every unit's contributions one after another,
 * found through .debug_cu_index by the unit's 64-bit id (DWARF 5 section
 * 7.3.5; GNU's version 2 index before it).
 *
 * The split unit reads its addresses (DW_FORM_addrx, DW_OP_addrx, location
 * and range list entries) from the skeleton's .debug_addr at the
 * skeleton's DW_AT_addr_base.  libdw 0.188 links the two only when it
 * opens the .dwo itself, by a path the file names (as root that could be
 * any file of the host), and reads no .dwp.  So the DWARF layer
 * (stub/program/dwarf_split.c) opens the files itself, inside the
 * target's root, and hands libdw one small image per unit made here: the
 * unit's .dwo sections (a .dwo's own, or its contributions cut out of the
 * package) and the skeleton's .debug_addr from its addr_base on, named
 * .debug_addr.dwo (libdw reads only *.dwo sections of an image that has
 * any), so that index 0 is the unit's first address, as libdw reads it for
 * a unit with no DW_AT_addr_base of its own.
 *
 * Pure: from (ptr, len) to images, every offset and size of the index
 * checked (no count believed, no arithmetic that wraps); fuzzed
 * (tests/fuzz/fuzz_symtab.c).
 */
#ifndef STUB_DWP_H
#define STUB_DWP_H

#include <stddef.h>
#include <stdint.h>

struct elfimg;

enum dwp_sect {
	DWPS_INFO,
	DWPS_TYPES,
	DWPS_ABBREV,
	DWPS_LINE,
	DWPS_LOC,
	DWPS_STR_OFFSETS,
	DWPS_MACINFO,
	DWPS_MACRO,
	DWPS_RNGLISTS,
	DWPS_N,
};

/* One unit's contributions (offset, size) to the package's sections. */
struct dwp_unit {
	int version; /* of the index: 5, or 2 (GNU) */
	uint64_t off[DWPS_N], size[DWPS_N];
	uint8_t has[DWPS_N];
};

/*
 * The row of unit id in a .debug_cu_index section (idx, len): 0, -ENOENT
 * (no such unit), -EINVAL (a malformed index) with msg.
 */
int dwp__find(const void *idx, size_t len, uint64_t id, struct dwp_unit *u, char *msg, size_t mlen);

/*
 * A .dwo-like image of unit u of the package pkg (its contributions, the
 * whole .debug_str.dwo) or, with u NULL, of the .dwo file pkg (its *.dwo
 * sections), plus .debug_addr.dwo = addr[0..alen): malloc'd into *out.
 * 0, -EINVAL (a contribution outside its section) with msg, -ENOMEM.
 */
int dwp__image(const struct elfimg *pkg, const struct dwp_unit *u, const void *addr, size_t alen,
	       uint8_t **out, size_t *olen, char *msg, size_t mlen);

#endif
