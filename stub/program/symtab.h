/* SPDX-License-Identifier: MIT */
/*
 * stub/program/symtab.h - function symbols of an ELF image (.symtab, .dynsym).
 *
 * When a file has no DWARF (strip --strip-debug, a distribution's shared
 * library without its debug package) or its DWARF lacks a function (libc's
 * assembly, an alias), the ELF symbol tables still name its functions,
 * with their addresses and sizes.  This is the reader of those tables:
 * pure, from (ptr, len) to a struct, every header, index, size and string
 * offset checked against the image (stub/program/elfimg.c), bounded in
 * count (SYMTAB_MAX), fuzzed (tests/fuzz/fuzz_symtab.c).
 *
 * C++ names are demangled (__cxa_demangle, libstdc++'s C entry point, as
 * elfutils' own tools do), so `shop::Cart::total` finds
 * _ZNK4shop4Cart5totalEl.  A name matches a symbol when it is
 *   - the symbol's name, without a version (clock_nanosleep@@GLIBC_2.17),
 *   - its demangled name, whole ("shop::tax(shop::Cart const&)") or without
 *     the parameters ("shop::tax"), or a tail of that at a "::"
 *     ("Cart::total", as GDB takes it).
 * Aliases (several names at one address: clock_nanosleep, __clock_nanosleep)
 * are one function: symtab__lookup answers addresses, and symtab__at
 * names the function at an address by its preferred name (global before
 * weak before local, then the fewest leading underscores).
 *
 * Addresses are file addresses (st_value; p_vaddr space), as the DWARF
 * layer's struct dw_file speaks them.
 */
#ifndef STUB_SYMTAB_H
#define STUB_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMTAB_MAX (4u << 20) /* function symbols kept per file */

struct sym {
	uint64_t addr, size;
	uint32_t name;	/* offset of the name in names (version cut off) */
	uint32_t dname; /* the demangled name, or name */
	uint32_t base;	/* the demangled name without its parameters, or name */
	uint8_t rank;	/* 0 global, 1 weak, 2 local: lower is preferred */
};

struct symtab {
	/* the first image's PT_LOAD segments: file address <-> file offset */
	size_t nloads;
	struct {
		uint64_t vaddr, offset, filesz;
	} loads[16];
	struct sym *v; /* sorted by address */
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
	size_t dropped; /* beyond SYMTAB_MAX */
};

/*
 * Add the function symbols (STT_FUNC, defined, not IFUNC resolvers) of the
 * ELF image at (buf, len), .symtab and .dynsym, to st (zeroed or from an
 * earlier call: a file and its debug file make one table; the first image
 * gives the PT_LOAD segments, a debug file's have no bytes).  Count added,
 * or -ENOEXEC / -EINVAL (malformed: msg says what), -ENOMEM.
 */
int symtab__add(struct symtab *st, const void *buf, size_t len, char *msg, size_t mlen);
/* Sort and merge duplicates after the last symtab__add. */
void symtab__finish(struct symtab *st);
void symtab__fini(struct symtab *st);

/* Addresses of the functions name matches (see above): count (<= max). */
int symtab__lookup(const struct symtab *st, const char *name, uint64_t *addrs, size_t max);
/*
 * The function holding addr (addr in [start, start + size), or at start for
 * a symbol of size 0): its preferred symbol, or NULL.
 */
const struct sym *symtab__at(const struct symtab *st, uint64_t addr);
static inline const char *symtab__name(const struct symtab *st, uint32_t off)
{
	return st->names + off;
}

/*
 * A file address as an offset in the file (through the PT_LOAD holding it)
 * and back: 0, or -ENOENT.  Offsets are what a mapping of the file says
 * (/proc/PID/maps), whatever the linker's layout: runtime = mapping start
 * + offset - mapping offset.
 */
int symtab__offset(const struct symtab *st, uint64_t addr, uint64_t *off);
int symtab__addr(const struct symtab *st, uint64_t off, uint64_t *addr);

/* The demangled form of a C++ symbol name into buf; false if it is not one. */
bool symtab__demangle(const char *name, char *buf, size_t len);

#endif
