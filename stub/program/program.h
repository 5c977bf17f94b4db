/* SPDX-License-Identifier: MIT */
/*
 * stub/program/program.h - one context per target: what is known about it.
 *
 * The process bpfstub serves (struct tgt), the DWARF and ELF symbols of the
 * files it maps (struct dw_cache: the symbols are read from the same open
 * files, so they live there), what the debuginfod servers said of them
 * (struct dbgi), and their SDT notes (struct sdt_cache) are one thing:
 * the program.  Opening a file and reading its DWARF or notes
 * costs tens of milliseconds, so what was read once is kept here, for every
 * user: deep collection at tstart, `monitor trace` and `trace -return`, the
 * views of stored frames, the SDT semaphore check of a memory write.
 *
 * The trace makes it (tr__init: tr->pgm) and frees it (tr__fini); nothing
 * else owns a cache of its own, and nothing is process-wide.  It needs no
 * session and no run: views of frames from a trace file use it as well,
 * and without a live process (tgt NULL) a lookup simply finds nothing.
 * The process itself is not closed here: main.c attaches or launches it
 * before any trace exists and closes it after the last one.
 *
 * Layering: the program is below the trace (stub/trace/ hands it down);
 * it knows nothing about tracepoints, sessions or frames.
 */
#ifndef STUB_PROGRAM_H
#define STUB_PROGRAM_H

#include <stdint.h>

struct tgt;
struct dw_cache;
struct dbgi;
struct sdt_cache;
struct sdt_site;

struct program {
	struct tgt *tgt;	/* the live process; NULL: none (not owned) */
	struct dw_cache *dwarf; /* its files' DWARF and symbols (stub/program/dwarf.h) */
	struct dbgi *dbgi;	/* debug files from debuginfod (stub/program/debuginfo.h) */
	struct sdt_cache *sdt;	/* its files' SDT notes (stub/program/sdt.h) */
};

/* A program for t (NULL: no process), its caches empty; NULL without memory. */
struct program *program__new(struct tgt *t);
void program__free(struct program *p);
/* sdt__site() through the program's notes: 1 and *site, 0, or -errno. */
int program__sdt_site(struct program *p, uint64_t addr, struct sdt_site *site);

#endif
