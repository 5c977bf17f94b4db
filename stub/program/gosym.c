/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gosym.c - a Go file's function table for the DWARF cache (gosym.h).
 *
 * The table speaks link-time addresses; the cache places functions in the
 * target by file offset, as it does ELF symbols, so a file needs no load
 * bias: the loadable segments found by gopclntab_elf.c (each a file range
 * and its p_vaddr) convert both ways.
 *
 * Where a tracepoint on a function goes: Go functions start with a check
 * of the stack bound (runtime.g.stackguard0, 16 bytes into the g that
 * ABIInternal keeps in R14) and a JBE to a tail that spills the argument
 * registers, calls runtime.morestack and jumps back to the entry.  A probe
 * at the entry would fire twice for a call that grows its stack; just
 * after the JBE, where Go's DWARF puts prologue_end and GDB its
 * breakpoint, it fires once, and the argument registers are untouched.
 *
 * The goroutine id: runtime.g.goid, at an offset that depends on the Go
 * version only (runtime/runtime2.go): 152 from Go 1.9 through 1.22 (stack
 * 16, stackguard0/1, _panic, _defer, m, a 7-word gobuf sched, syscallsp,
 * syscallpc, stktopsp, param, atomicstatus and stackLock 4 each); Go 1.23
 * added syscallbp before stktopsp (160); Go 1.25 dropped gobuf.ret (152
 * again, through 1.26).  Checked against the DWARF of the Go 1.19.8 test
 * builds (tests/unit/test_gosym.c); a version past the table is refused
 * rather than guessed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/program/gopclntab_elf.h"
#include "stub/program/gosym.h"

#define GOSYM_LAST_MINOR 26 /* newest Go 1.x whose runtime.g layout is in the table */

struct gosym {
	struct gopcln_elf ge;
	char version[64];
	int minor; /* Go 1.minor, 0 unknown */
};

/* "go1.19.8", "devel go1.24-abc ...", "go1.21rc2": the minor version, 0 unknown. */
static int go_minor(const char *v)
{
	const char *p = v ? strstr(v, "go1.") : NULL;
	int minor = 0, digits = 0;

	if (!p)
		return 0;
	for (p += 4; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
		minor = minor * 10 + (*p - '0');
	return digits ? minor : 0;
}

int64_t gosym__goid_for_version(const char *v)
{
	int minor = go_minor(v);

	if (minor < 9 || minor > GOSYM_LAST_MINOR)
		return -1;
	if (minor >= 23 && minor <= 24)
		return 160; /* g.syscallbp (1.23), before gobuf.ret went (1.25) */
	return 152;
}

/* A conditional jump with opcode op (rel8) at c[p]: its length, else 0. */
static size_t jcc(const uint8_t *c, size_t n, size_t p, uint8_t op)
{
	if (n >= p + 2 && c[p] == op)
		return 2;
	if (n >= p + 6 && c[p] == 0x0f && c[p + 1] == op + 0x10)
		return 6; /* rel32 */
	return 0;
}

/* CMPQ 0x10(R14) or 0x18(R14) (stackguard0, or stackguard1), reg at c[p]: 4, else 0. */
static size_t cmp_guard(const uint8_t *c, size_t n, size_t p, uint8_t rex)
{
	return n >= p + 4 && c[p] == rex && c[p + 1] == 0x3b && c[p + 2] == 0x66 &&
			       (c[p + 3] == 0x10 || c[p + 3] == 0x18)
		       ? 4
		       : 0;
}

size_t gosym__stack_check_len(const uint8_t *c, size_t n)
{
	size_t p = 0, k;

	if (cmp_guard(c, n, 0, 0x49)) {
		p = 4; /* CMPQ 0x10(R14), SP */
	} else {
		/* LEAQ -N(SP), R12 (disp8 or disp32), then CMPQ 0x10(R14), R12 */
		if (n >= 5 && c[0] == 0x4c && c[1] == 0x8d && c[2] == 0x64 && c[3] == 0x24) {
			p = 5;
		} else if (n >= 8 && c[0] == 0x4c && c[1] == 0x8d && c[2] == 0xa4 && c[3] == 0x24) {
			p = 8;
		} else if (n >= 3 && c[0] == 0x49 && c[1] == 0x89 && c[2] == 0xe4) {
			/* a huge frame: MOVQ SP, R12; SUBQ $N, R12; JB (wrapped) */
			if (n >= 7 && c[3] == 0x49 && c[4] == 0x83 && c[5] == 0xec)
				p = 7;
			else if (n >= 10 && c[3] == 0x49 && c[4] == 0x81 && c[5] == 0xec)
				p = 10;
			else
				return 0;
			k = jcc(c, n, p, 0x72);
			if (!k)
				return 0;
			p += k;
		} else {
			return 0;
		}
		if (!cmp_guard(c, n, p, 0x4d))
			return 0;
		p += 4;
	}
	k = jcc(c, n, p, 0x76); /* JBE */
	return k ? p + k : 0;
}

int gosym__open(struct gosym **out, int fd, char *msg, size_t mlen)
{
	struct gosym *g = calloc(1, sizeof(*g));
	int err;

	*out = NULL;
	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	err = gopcln_elf__open_fd(&g->ge, fd);
	g->ge.fd = fd; /* closed with the table */
	if (err) {
		if (msg && mlen)
			snprintf(msg, mlen, "%s", g->ge.err);
		gosym__close(g);
		return err;
	}
	if (g->ge.has_buildinfo)
		snprintf(g->version, sizeof(g->version), "%.*s",
			 (int)(g->ge.bi.version_len < 63 ? g->ge.bi.version_len : 63),
			 g->ge.bi.version);
	g->minor = go_minor(g->version);
	*out = g;
	return 0;
}

void gosym__close(struct gosym *g)
{
	if (!g)
		return;
	gopcln_elf__close(&g->ge);
	free(g);
}

/* Link-time address -> file offset, through the loadable segment holding it. */
static int to_off(const struct gosym *g, uint64_t vaddr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < g->ge.nsegs; i++) {
		const struct gopcln_seg *s = &g->ge.segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->size) {
			*off = (uint64_t)(s->data - g->ge.img) + (vaddr - s->vaddr);
			return 0;
		}
	}
	return -ENOENT;
}

static int to_vaddr(const struct gosym *g, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < g->ge.nsegs; i++) {
		const struct gopcln_seg *s = &g->ge.segs[i];
		uint64_t so = (uint64_t)(s->data - g->ge.img);

		if (off >= so && off - so < s->size) {
			*vaddr = s->vaddr + (off - so);
			return 0;
		}
	}
	return -ENOENT;
}

int gosym__func_offs(const struct gosym *g, const char *name, uint64_t *offs, size_t max)
{
	struct gopcln_func f;
	uint64_t off;

	if (!max || gopcln__func_by_name(&g->ge.tab, name, &f) || to_off(g, f.entry, &off))
		return 0;
	offs[0] = off;
	return 1;
}

int gosym__line_offs(const struct gosym *g, const char *file, int line, uint64_t *offs, size_t max)
{
	uint64_t pcs[64];
	size_t i, k = 0;
	int n;

	n = gopcln__line_pcs(&g->ge.tab, file, line, pcs, 64);
	if (n <= 0)
		return n == -E2BIG ? 0 : n;
	for (i = 0; i < (size_t)n && i < 64 && k < max; i++)
		if (!to_off(g, pcs[i], &offs[k]))
			k++;
	return (int)k;
}

int gosym__at(const struct gosym *g, uint64_t off, struct gosym_at *out)
{
	const struct gopcln *t = &g->ge.tab;
	struct gopcln_frame fr[GOPCLN_MAX_INLINE];
	struct gopcln_func f;
	const unsigned char *code;
	uint64_t pc, len;
	int n;

	memset(out, 0, sizeof(*out));
	out->line = -1;
	out->args = -1;
	if (to_vaddr(g, off, &pc) || gopcln__func_at(t, pc, &f) ||
	    to_off(g, f.entry, &out->entry) || to_off(g, f.end - 1, &out->end))
		return -ENOENT;
	out->end++;
	snprintf(out->name, sizeof(out->name), "%s", f.name);
	n = gopcln__frames(t, pc, fr, GOPCLN_MAX_INLINE, NULL);
	if (n >= 1) {
		if (fr[0].name)
			snprintf(out->name, sizeof(out->name), "%s", fr[0].name);
		if (fr[0].pos.file)
			snprintf(out->file, sizeof(out->file), "%s", fr[0].pos.file);
		out->line = fr[0].pos.line;
	}
	out->args = f.args;
	out->abi_regs = g->minor ? g->minor >= 17 : t->ver >= GOPCLN_GO118;
	out->prologue_end = out->entry;
	len = f.end - f.entry < 32 ? f.end - f.entry : 32;
	code = gopcln_seg__at(g->ge.segs, g->ge.nsegs, f.entry, len);
	if (code)
		out->prologue_end += gosym__stack_check_len(code, (size_t)len);
	return 0;
}

const char *gosym__version(const struct gosym *g)
{
	return g->version;
}

int gosym__goid_off(const struct gosym *g, int64_t *off, char *msg, size_t mlen)
{
	int64_t o = gosym__goid_for_version(g->version);

	if (o < 0) {
		if (msg && mlen && g->version[0])
			snprintf(msg, mlen,
				 "the offset of runtime.g.goid in %s is not in bpfstub's table "
				 "(Go 1.16 to 1.%d)",
				 g->version, GOSYM_LAST_MINOR);
		else if (msg && mlen)
			snprintf(msg, mlen,
				 "no Go version in the build info: the offset of "
				 "runtime.g.goid is not known");
		return -ENOENT;
	}
	*off = o;
	return 0;
}
