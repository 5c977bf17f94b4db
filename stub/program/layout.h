/* SPDX-License-Identifier: MIT */
/*
 * stub/program/layout.h - the three kinds of address of a mapped ELF file, and
 * the one place that converts between them.
 *
 *  - a file offset: where bytes are in the file (what a uprobe takes, what
 *    pread reads);
 *  - a link-time address (p_vaddr, st_value, DW_AT_low_pc): what the symbol
 *    table and DWARF speak;
 *  - a run-time address: where the target sees the bytes.
 *
 * run-time = link-time + bias, one bias per loaded file; link-time and file
 * offset differ per PT_LOAD segment (p_vaddr - p_offset).  GNU ld lays text
 * out with p_vaddr == p_offset, which hides a mix-up; lld (clang
 * -fuse-ld=lld, rustc's default linker) and gold do not: lld starts text a
 * page above its file offset, and maps a read-only segment at file offset 0
 * below it, so the r-xp mapping and the r--p one both have offset 0.  A
 * mapping is matched to its segment by its permissions (the exec bit is
 * never changed after load; RELRO only drops the write bit) and by the page
 * of p_offset.
 *
 * Pure functions on a struct layout (the PT_LOAD table read once from the
 * ELF) and a struct tgt_map (a line of /proc/PID/maps): unit-tested in
 * tests/unit/test_layout.c.
 */
#ifndef STUB_LAYOUT_H
#define STUB_LAYOUT_H

#include <libelf.h>
#include <stdint.h>
#include <stddef.h>

struct tgt_map;

#define LAYOUT_MAX_SEGS 16

struct layout_seg {
	uint64_t vaddr, offset, filesz, memsz;
	uint32_t flags; /* PF_R | PF_W | PF_X */
};

struct layout {
	size_t nsegs;
	struct layout_seg segs[LAYOUT_MAX_SEGS];
};

/* The PT_LOAD segments of elf (at most LAYOUT_MAX_SEGS): 0, or -ENOEXEC. */
int layout__read(struct layout *l, Elf *elf);

/*
 * The load bias of the file mapped at m (run-time = link-time + bias): the
 * segment whose page-aligned file range holds m's offset and whose flags
 * match m's permissions (exec exactly; a read-only mapping may be a RELRO
 * part of a writable segment).  0; -ENOENT when no segment fits; -EAGAIN
 * (*bias one guess) when two fit as well with different biases: a
 * read-only page at an offset both a PF_R segment and a RELRO part hold
 * (lld and GNU ld both lay files out so).
 */
int layout__map_bias(const struct layout *l, const struct tgt_map *m, uint64_t *bias);
/*
 * The same, settling an ambiguous mapping by the file's code mapping among
 * maps[n] (same inode and path): every segment of a file shares one bias.
 */
int layout__file_bias(const struct layout *l, const struct tgt_map *maps, size_t n,
		      const struct tgt_map *m, uint64_t *bias);

/* Link-time address -> file offset of the segment's file bytes holding it. */
int layout__vaddr_to_offset(const struct layout *l, uint64_t vaddr, uint64_t *off);
/* File offset -> link-time address (the first segment whose file bytes hold it). */
int layout__offset_to_vaddr(const struct layout *l, uint64_t off, uint64_t *vaddr);

/*
 * Run-time address addr inside mapping m -> file offset (what the kernel
 * maps there: what a uprobe takes and pread reads).  -ERANGE when addr is
 * outside m.
 */
int layout__map_offset(const struct tgt_map *m, uint64_t addr, uint64_t *off);

#endif
