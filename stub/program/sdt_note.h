/* SPDX-License-Identifier: MIT */
/*
 * stub/program/sdt_note.h - the SystemTap SDT (USDT) note format, parsed purely.
 *
 * A <sys/sdt.h> probe leaves one ELF note in section .note.stapsdt (owner
 * "stapsdt", type NT_STAPSDT = 3) whose descriptor is
 *
 *     pc         address of the probe site (a nop)         addr_size bytes
 *     base       link-time address of section .stapsdt.base  addr_size bytes
 *     semaphore  address of the probe's unsigned short      addr_size bytes
 *                semaphore, or 0 for a probe without one
 *     provider\0 name\0 args\0
 *
 * (https://sourceware.org/systemtap/wiki/UserSpaceProbeImplementation).
 * All three addresses are link-time virtual addresses.  If a tool such as
 * prelink moved the file after linking, the section .stapsdt.base is no
 * longer at `base`: pc and semaphore move by the same amount, which
 * sdt_note__adjust() applies.
 *
 * Everything here is pure: it reads only the bytes it is given, which come
 * from an untrusted file, checks every length against them (no wire length
 * is trusted, no arithmetic can wrap) and never allocates.  It is unit
 * tested (tests/unit/test_sdt.c) and fuzzed (tests/fuzz/fuzz_sdt.c).
 */
#ifndef STUB_SDT_NOTE_H
#define STUB_SDT_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDT_NOTE_TYPE  3 /* NT_STAPSDT */
#define SDT_NOTE_OWNER "stapsdt"

struct sdt_note {
	uint64_t pc;	    /* probe site, link-time vaddr */
	uint64_t base;	    /* .stapsdt.base as linked */
	uint64_t semaphore; /* 0: no semaphore */
	/* NUL-terminated, pointing into the parsed buffer */
	const char *provider;
	const char *name;
	const char *args;
};

/*
 * Walk the notes in buf (the contents of a .note.stapsdt section, or of any
 * SHT_NOTE section: notes of other owners or types are passed over) and
 * call fn for each well-formed SDT note.  addr_size is 8 (ELFCLASS64) or 4
 * (ELFCLASS32); addresses are read little-endian.  A malformed note is
 * skipped and counted in *bad (may be NULL); a note header that does not
 * fit ends the walk (also counted).  fn returning non-zero stops the walk
 * and is returned.  Otherwise returns the number of notes passed to fn, or
 * -EINVAL for an addr_size other than 4 or 8.
 */
int sdt_note__parse(const void *buf, size_t len, unsigned addr_size,
		    int (*fn)(void *arg, const struct sdt_note *n), void *arg, size_t *bad);

/*
 * Prelink: the file's .stapsdt.base section is at base_now; move pc and a
 * non-zero semaphore by base_now - n->base (modulo 2^64, as GDB does).
 */
void sdt_note__adjust(struct sdt_note *n, uint64_t base_now);

/* A loadable segment with file contents: PT_LOAD's p_vaddr, p_offset, p_filesz. */
struct sdt_seg {
	uint64_t vaddr, offset, filesz;
	bool exec, write;
};

/*
 * The file offset of [vaddr, vaddr + len) when one segment holds it all in
 * its file part (and is executable / writable if asked): 0 and *off, else
 * -ENOENT.
 */
int sdt_note__file_offset(const struct sdt_seg *segs, size_t nsegs, uint64_t vaddr, uint64_t len,
			  bool need_exec, bool need_write, uint64_t *off);

#endif
