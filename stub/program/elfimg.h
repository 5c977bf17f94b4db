/* SPDX-License-Identifier: MIT */
/*
 * stub/program/elfimg.h - ELF64 section tables read and written purely.
 *
 * Two small things the symbol reader (stub/program/symtab.c) and split
 * DWARF (stub/program/dwarf_split.c) need from an ELF image in memory,
 * without libelf: its sections (name, type, where their bytes are), each
 * checked against the image's length (untrusted input: no offset, size,
 * count or string index is believed before it is checked, nothing can
 * wrap), and a new relocatable image made of named sections, which libelf
 * and libdw then read as any file (a split unit rebuilt from a .dwp
 * package, or a .dwo given the skeleton's .debug_addr).
 *
 * Only ELFCLASS64 little-endian images (x86-64, the one architecture
 * bpfstub traces).  Pure: no I/O; fuzzed (tests/fuzz/fuzz_symtab.c).
 */
#ifndef STUB_ELFIMG_H
#define STUB_ELFIMG_H

#include <stddef.h>
#include <stdint.h>

#define ELFIMG_MAX_SECS 65280 /* SHN_LORESERVE: more is an extended count we refuse */

struct elfimg_sec {
	const char *name; /* NUL-terminated inside the image ("" if none) */
	uint32_t type, link;
	uint64_t flags, addr, entsize;
	const uint8_t *data; /* NULL for SHT_NOBITS */
	uint64_t size;	     /* bytes at data (checked inside the image) */
};

#define ELFIMG_MAX_LOADS 16 /* PT_LOAD segments kept */

struct elfimg_load {
	uint64_t vaddr, offset, filesz;
};

struct elfimg {
	const uint8_t *buf;
	size_t len;
	uint16_t type, machine;
	size_t nsecs;
	struct elfimg_sec *secs; /* malloc'd; elfimg__fini */
	size_t nloads;		 /* PT_LOAD program headers (the first ELFIMG_MAX_LOADS) */
	struct elfimg_load loads[ELFIMG_MAX_LOADS];
};

/*
 * Read the section table of the image at (buf, len): 0, or -ENOEXEC (not a
 * 64-bit little-endian ELF), -EINVAL (a header or section outside the
 * image) with msg; -ENOMEM.  Section 0 is kept (empty).  Program headers
 * outside the image are ignored (a debug file's may be).
 */
int elfimg__open(struct elfimg *img, const void *buf, size_t len, char *msg, size_t mlen);
void elfimg__fini(struct elfimg *img);
/* The first section called name, or NULL. */
const struct elfimg_sec *elfimg__find(const struct elfimg *img, const char *name);

/* One section of a new image. */
struct elfimg_out {
	const char *name;
	const void *data;
	uint64_t size;
	uint64_t flags; /* SHF_COMPRESSED is kept: the bytes are copied as they are */
};

/*
 * A new ET_REL x86-64 image holding the n sections (SHT_PROGBITS) and a
 * .shstrtab, malloc'd into *out (*olen bytes): 0, -E2BIG, -ENOMEM.
 */
int elfimg__build(const struct elfimg_out *secs, size_t n, uint8_t **out, size_t *olen);

#endif
