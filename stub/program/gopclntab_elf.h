/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gopclntab_elf.h - a Go ELF file's function table and build info.
 *
 * Finds what the pure readers (gopclntab.h, gobuildinfo.h) parse, in a
 * Go executable however it was built:
 *
 *   - the table: section .gopclntab (.data.rel.ro.gopclntab in a PIE),
 *     which `go build -ldflags "-s -w"` keeps (-s drops .symtab, -w the
 *     DWARF; the section headers stay).  Without section headers (a file
 *     stripped by other tools), the non-executable loadable segments are
 *     scanned for a pointer-aligned header whose magic is known and which
 *     gopcln__open() accepts in full;
 *   - runtime.text, for a 1.18+ table whose header field is zero: the
 *     .text section's address;
 *   - moduledata (runtime.firstmoduledata), in a writable segment, by its
 *     first two words: the table's address and its funcnametab's; from it
 *     moduledata.gofunc, where 1.18+ funcdata (the inline trees) are;
 *   - the build info: section .go.buildinfo, else the first 64 KiB of the
 *     first writable segment, as Go's own debug/buildinfo looks.
 *
 * The file is mapped read-only once (libelf's ELF_C_READ_MMAP); the table
 * and segments point into that mapping, nothing is copied.
 */
#ifndef STUB_PROGRAM_GOPCLNTAB_ELF_H
#define STUB_PROGRAM_GOPCLNTAB_ELF_H

#include <stdbool.h>
#include <stdint.h>

#include "stub/program/gobuildinfo.h"
#include "stub/program/gopclntab.h"

#define GOPCLN_ELF_MAX_SEGS 16

struct gopcln_elf {
	int fd;			  /* -1 when the caller owns it */
	void *elf;		  /* Elf * */
	const unsigned char *img; /* the mapped file */
	size_t size;
	struct gopcln_seg segs[GOPCLN_ELF_MAX_SEGS];
	size_t nsegs;
	uint64_t tab_vaddr;  /* where the table is linked */
	bool by_section;     /* found by section name, not by a scan */
	uint64_t moduledata; /* its address, 0 when not found */
	struct gopcln tab;
	bool has_buildinfo;
	struct gobuildinfo bi;
	char err[200];
};

/*
 * Open path (or the caller's fd, which stays the caller's) and read its
 * table: 0, or -errno with ge->err set (-ENOENT: no Go table found).  The
 * build info is optional (ge->has_buildinfo).  gopcln_elf__close() in
 * every case.
 */
int gopcln_elf__open(struct gopcln_elf *ge, const char *path);
int gopcln_elf__open_fd(struct gopcln_elf *ge, int fd);
void gopcln_elf__close(struct gopcln_elf *ge);

#endif
