/* SPDX-License-Identifier: MIT */
/*
 * stub/views/fpstack.c - a call stack by frame pointers (see fpstack.h).
 *
 * The walk trusts nothing it reads: every rbp must lie strictly above the
 * record before it (so it ends), be 8-aligned and have both words of its
 * record in the frame's collected memory; at most FPS_MAX frames.  What it
 * cannot follow it names (the window ends, the chain breaks, the function
 * keeps no frame pointer) rather than guess.
 *
 * The one subtle frame is the hit's own.  A uprobe at a function's entry
 * (`monitor trace` on a function without DWARF, Go's `trace FUNC`, which
 * GDB puts right after the stack-growth check) runs before the function
 * saved rbp: the return address is at [rsp] and rbp is the caller's.  Past
 * the frame setup it is at [rbp + 8].  So the code from the function's
 * entry is read (the caller gives the bytes) and the setup recognised in
 * the two shapes compilers emit on amd64: C's `push %rbp; mov %rsp,%rbp`,
 * and Go's `sub $N,%rsp; mov %rbp,N-8(%rsp); lea N-8(%rsp),%rbp` after its
 * stack-growth check.  A `ret` at the pc (a return probe) has popped the
 * frame: [rsp] again.  A Go function without a frame never moves rsp; a C
 * function without a frame pointer past its entry leaves the return
 * address somewhere only CFI knows: FPS_NONE, said so.
 */
#include <string.h>

#include "stub/views/fpstack.h"

static bool has(const uint8_t *c, size_t len, size_t p, const char *pat, size_t n)
{
	return p <= len && n <= len - p && !memcmp(c + p, pat, n);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Go's stack-growth check at p: its length, or 0. */
static size_t go_check(const uint8_t *c, size_t len, size_t p)
{
	size_t q;

	if (has(c, len, p, "\x49\x3b\x66\x10", 4)) /* cmp 0x10(%r14),%rsp */
		q = p + 4;
	else if (has(c, len, p, "\x4c\x8d\x64\x24", 4) &&   /* lea -N(%rsp),%r12 */
		 has(c, len, p + 5, "\x4d\x3b\x66\x10", 4)) /* cmp 0x10(%r14),%r12 */
		q = p + 9;
	else if (has(c, len, p, "\x4c\x8d\xa4\x24", 4) && has(c, len, p + 8, "\x4d\x3b\x66\x10", 4))
		q = p + 12;
	else
		return 0;
	if (has(c, len, q, "\x76", 1)) /* jbe rel8 */
		return q + 2 - p;
	if (has(c, len, q, "\x0f\x86", 2)) /* jbe rel32 */
		return q + 6 - p;
	return 0;
}

/*
 * An instruction "prefix disp" at p whose displacement (or immediate) is
 * 8 bits (s8) or 32 (s32: the prefix's opcode or ModRM byte differs): its
 * length, and the displacement into *d; 0 if neither.
 */
static size_t disp_insn(const uint8_t *c, size_t len, size_t p, const char *s8, const char *s32,
			size_t plen, uint64_t *d)
{
	if (has(c, len, p, s8, plen) && p + plen < len) {
		*d = c[p + plen];
		return *d < 0x80 ? plen + 1 : 0; /* sign-extended: never these shapes */
	}
	if (has(c, len, p, s32, plen) && p + plen + 4 <= len) {
		*d = le32(c + p + plen);
		return plen + 4;
	}
	return 0;
}

enum fps_start fpstack__start(const uint8_t *entry_code, size_t entry_len, uint64_t off,
			      const uint8_t *pc_code, size_t pc_len, bool go, uint64_t *adj)
{
	const uint8_t *c = entry_code;
	size_t len = entry_code ? entry_len : 0, p = 0, l1, l2, l3;
	uint64_t n, d1, d2;

	*adj = 0;
	/* ret, ret imm16, rep ret: the frame is gone */
	if (pc_code && pc_len &&
	    (pc_code[0] == 0xc3 || pc_code[0] == 0xc2 ||
	     (pc_len > 1 && pc_code[0] == 0xf3 && pc_code[1] == 0xc3)))
		return FPS_RSP;
	if (has(c, len, p, "\xf3\x0f\x1e\xfa", 4)) /* endbr64 */
		p += 4;
	p += go_check(c, len, p);
	if (off <= p)
		return FPS_RSP; /* nothing moved rsp yet */
	/* push %rbp; mov %rsp,%rbp */
	if (has(c, len, p, "\x55\x48\x89\xe5", 4) || has(c, len, p, "\x55\x48\x8b\xec", 4)) {
		if (off == p + 1) {
			*adj = 8;
			return FPS_RSP;
		}
		return off >= p + 4 ? FPS_FP : FPS_NONE;
	}
	/* Go: sub $N,%rsp; mov %rbp,N-8(%rsp); lea N-8(%rsp),%rbp */
	l1 = disp_insn(c, len, p, "\x48\x83\xec", "\x48\x81\xec", 3, &n);
	l2 = l1 ? disp_insn(c, len, p + l1, "\x48\x89\x6c\x24", "\x48\x89\xac\x24", 4, &d1) : 0;
	l3 = l2 ? disp_insn(c, len, p + l1 + l2, "\x48\x8d\x6c\x24", "\x48\x8d\xac\x24", 4, &d2)
		: 0;
	if (l3 && n >= 8 && d1 == n - 8 && d2 == n - 8) {
		if (off < p + l1)
			return FPS_NONE; /* inside the sub: not an instruction */
		if (off < p + l1 + l2 + l3) {
			*adj = n;
			return FPS_RSP;
		}
		return FPS_FP;
	}
	/* No frame set up: Go's frameless functions never move rsp. */
	return go ? FPS_RSP : FPS_NONE;
}

static bool word(fps_mem_fn mem, void *ctx, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	int i;

	if (addr > UINT64_MAX - 8 || mem(ctx, addr, b, 8) < 8)
		return false;
	*v = 0;
	for (i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return true;
}

static void stop(struct fps_walk *out, enum fps_stop why, uint64_t at)
{
	out->stop = why;
	out->at = at;
}

void fpstack__walk(uint64_t pc, uint64_t rsp, uint64_t rbp, enum fps_start start, uint64_t adj,
		   fps_mem_fn mem, void *ctx, struct fps_walk *out)
{
	uint64_t lo = rsp, ra, next;

	memset(out, 0, sizeof(*out));
	out->pcs[out->n++] = pc;
	if (start == FPS_NONE) {
		stop(out, FPS_NOFRAME, pc);
		return;
	}
	if (start == FPS_RSP) {
		if (rsp > UINT64_MAX - 16 || adj > UINT64_MAX - 16 - rsp ||
		    !word(mem, ctx, rsp + adj, &ra)) {
			stop(out, FPS_WINDOW, rsp + adj);
			return;
		}
		if (!ra) {
			stop(out, FPS_END, 0);
			return;
		}
		out->pcs[out->n++] = ra;
		lo = rsp + adj + 8;
	}
	for (;;) {
		if (out->n == FPS_MAX) {
			stop(out, FPS_LIMIT, rbp);
			return;
		}
		if (!rbp) {
			stop(out, FPS_END, 0);
			return;
		}
		if ((rbp & 7) || rbp < lo || rbp > UINT64_MAX - 16) {
			stop(out, FPS_BROKEN, rbp);
			return;
		}
		if (!word(mem, ctx, rbp, &next) || !word(mem, ctx, rbp + 8, &ra)) {
			stop(out, FPS_WINDOW, rbp);
			return;
		}
		if (!ra) {
			stop(out, FPS_END, 0);
			return;
		}
		out->pcs[out->n++] = ra;
		lo = rbp + 16;
		rbp = next;
	}
}
