/* SPDX-License-Identifier: MIT */
/*
 * stub/program/sdt.h - SystemTap SDT (USDT) probes with semaphores, without writes.
 *
 * A <sys/sdt.h> probe may be guarded by a semaphore: an unsigned short in
 * the program's data (section .probes) that the program tests before the
 * probe site, so the site is skipped, arguments and all, until a tracer
 * raises it.  GDB's `trace -probe-stap PROVIDER:NAME` raises it at tstart
 * the only way a debugger can, with a memory write (read it, write it + 1;
 * at tstop, after QTStop, read it, write it - 1).  bpfstub never writes to
 * the target, and must not start now: the program is running, and a
 * read-modify-write from outside races with everyone else's.
 *
 * The kernel has the race-free way, and bpfstub uses it: a uprobe created
 * with a reference counter (the uprobe PMU's ref_ctr_offset, a FILE offset
 * of the semaphore in the same file as the probe site) makes the kernel
 * raise the semaphore in every process where it installs the breakpoint,
 * and lower it when the probe goes, even if bpfstub dies.  So at tstart
 * (or whenever a tracepoint is installed), a tracepoint whose address is
 * the site of an SDT probe with a semaphore gets its uprobe with that
 * reference counter (sdt__site()), and the semaphore is non-zero for
 * exactly as long as the tracepoint is attached.
 *
 * GDB does not know that and still writes.  That write, and only that one,
 * is answered OK and, like every write, not performed
 * (sdt__semaphore_write()): the address must be the semaphore of the SDT
 * probe at the address of a tracepoint GDB defined, relocated to where the
 * target has that file mapped (PIE and shared objects), 2 bytes, and the
 * value the current one plus or minus 1 - what GDB's
 * stap_modify_semaphore() sends.  Every other write is still refused, so
 * `set var some_semaphore = 1` by hand is refused unless it is exactly
 * what a tracepoint makes the kernel do anyway.
 *
 * The notes of each file are read with libelf once and cached by (device,
 * inode, size, mtime) in the program's struct sdt_cache (one per target:
 * stub/program/program.h); parsing is in the pure stub/program/sdt_note.c.  Malformed
 * notes are skipped, never fatal: a tracepoint then simply gets no
 * reference counter.
 *
 * A probe never fires in silence.  A semaphore the kernel cannot raise
 * (outside the file contents of a writable segment, or not mapped writable
 * from the file: the kernel would defer the increment forever) is reported
 * with the site (sdt_site.why), and the trace refuses the tracepoint at
 * tstart naming the probe.  A probe known not to fire on its own even with
 * its semaphore raised (CPython 3.11's python:function__entry, which runs
 * only while python:line is enabled too: CPython issue gh-98894) carries a
 * hint (sdt_site.hint, from a small table in sdt.c) that tstatus shows
 * while the tracepoint has no hit.
 */
#ifndef STUB_SDT_H
#define STUB_SDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tgt;
struct trace;
struct sdt_cache;
struct rsp_write_req;

struct sdt_site {
	uint64_t ref_ctr_offset; /* file offset of the semaphore: the uprobe's reference counter */
	uint64_t sem_addr;	 /* run-time address of the semaphore in the target, 0 unknown */
	char probe[128];	 /* "provider:name" */
	/*
	 * Non-empty: the probe has a semaphore that the kernel cannot raise
	 * (not in the file contents of a writable segment, or not mapped
	 * writable from the file in the target), and why.  ref_ctr_offset and
	 * sem_addr are then 0: the site would never run, so a tracepoint there
	 * must be refused, not attached to collect nothing.
	 */
	char why[320];
	/* A known reason the probe may not fire even with its semaphore raised (a
	 * static string: CPython 3.11's function__entry, say), or NULL. */
	const char *hint;
};

/* The notes of the files a target maps, read once (a program's: stub/program/program.h). */
struct sdt_cache *sdt_cache__new(void);
void sdt_cache__free(struct sdt_cache *c);

/*
 * Is the run-time address addr of t an SDT probe site whose probe has a
 * semaphore?  1 and *site (with site->why set if that semaphore cannot be
 * raised), 0 (not a probe site, or no semaphore, or the file has no usable
 * notes), or -errno (the address is not in a mapped file, the target is
 * gone, t is NULL: no process).  The notes come from c, read into it if
 * needed.
 */
int sdt_cache__site(struct sdt_cache *c, struct tgt *t, uint64_t addr, struct sdt_site *site);
/* The same without a cache: the file's notes are read for this one call. */
int sdt__site(struct tgt *t, uint64_t addr, struct sdt_site *site);

/* Is addr the semaphore of the SDT probe at run-time address site of t?  Notes from c (NULL: read
 * now). */
bool sdt__semaphore_of(struct sdt_cache *c, struct tgt *t, uint64_t site, uint64_t addr);
/*
 * Is the memory write w (M: hex data, X: binary) to t one step of a 2-byte
 * counter: the value there now, plus or minus one (GDB raising or lowering
 * a semaphore)?
 */
bool sdt__semaphore_step(struct tgt *t, const struct rsp_write_req *w, bool hex);
/*
 * Is the write w GDB raising or lowering the semaphore of an SDT probe at
 * which a tracepoint of tr is defined?  Then the caller answers OK and
 * writes nothing (see above).  Defined by the trace, which knows its sites
 * (stub/trace/trace.c), with the two above; declared here too for its
 * older callers.
 */
bool sdt__semaphore_write(struct trace *tr, const struct rsp_write_req *w, bool hex);

/* Nothing is process-wide any more (each program has its cache): does nothing, for old callers. */
void sdt__forget(void);

#endif
