/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_fpstack.c - the call stack by frame pointers
 * (stub/views/fpstack.c): where frame 0's return address is, from real
 * prologues (GCC -O0, -O2, with endbr64; Go 1.19 as objdump shows them:
 * small and large frames, frameless), and the walk over hand-made stacks:
 * exact return addresses, and every way it stops.
 */
#include <string.h>

#define CHECK_COUNTERS
#include "stub/views/fpstack.h"
#include "tests/unit/check.h"

/* GCC -O0 -fno-omit-frame-pointer: push %rbp; mov %rsp,%rbp; mov %rdi,-0x8(%rbp) */
static const uint8_t c_o0[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0x7d, 0xf8};
/* endbr64; push %rbp; mov %rsp,%rbp (the older encoding 48 8b ec) */
static const uint8_t c_cet[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x8b, 0xec, 0x90};
/* GCC -O2, no frame pointer: sub $0x8,%rsp; add $0x2,%rdi; call ...; */
static const uint8_t c_o2[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0x83, 0xc7, 0x02, 0xe8, 0, 0, 0, 0};
/* Go 1.19 main.greet: cmp 0x10(%r14),%rsp; jbe; sub $0x30,%rsp; mov %rbp,0x28(%rsp);
 * lea 0x28(%rsp),%rbp; mov %rax,0x38(%rsp) */
static const uint8_t go_small[] = {0x49, 0x3b, 0x66, 0x10, 0x76, 0x49, 0x48, 0x83, 0xec,
				   0x30, 0x48, 0x89, 0x6c, 0x24, 0x28, 0x48, 0x8d, 0x6c,
				   0x24, 0x28, 0x48, 0x89, 0x44, 0x24, 0x38};
/* Go, a big frame: lea -0x118(%rsp),%r12; cmp 0x10(%r14),%r12; jbe rel32;
 * sub $0x198,%rsp; mov %rbp,0x190(%rsp); lea 0x190(%rsp),%rbp */
static const uint8_t go_big[] = {0x4c, 0x8d, 0xa4, 0x24, 0xe8, 0xfe, 0xff, 0xff, 0x4d, 0x3b, 0x66,
				 0x10, 0x0f, 0x86, 0x10, 0x00, 0x00, 0x00, 0x48, 0x81, 0xec, 0x98,
				 0x01, 0x00, 0x00, 0x48, 0x89, 0xac, 0x24, 0x90, 0x01, 0x00, 0x00,
				 0x48, 0x8d, 0xac, 0x24, 0x90, 0x01, 0x00, 0x00, 0x90};
/* Go main.computeE: frameless, mov $0x2,%ecx; ... */
static const uint8_t go_leaf[] = {0xb9, 0x02, 0x00, 0x00, 0x00, 0xf2, 0x0f, 0x10};
static const uint8_t ret[] = {0xc3};
static const uint8_t nop[] = {0x90};

static void test_start(void)
{
	uint64_t adj = 99;

	/* C -O0: the entry, between push and mov, past the setup */
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 0, c_o0, 1, false, &adj) == FPS_RSP && adj == 0);
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 1, c_o0 + 1, 3, false, &adj) == FPS_RSP &&
	      adj == 8);
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 4, nop, 1, false, &adj) == FPS_FP);
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 0x40, nop, 1, false, &adj) == FPS_FP);
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 2, nop, 1, false, &adj) == FPS_NONE);
	/* a ret anywhere: the frame is popped */
	CHECK(fpstack__start(c_o0, sizeof(c_o0), 0x40, ret, 1, false, &adj) == FPS_RSP && adj == 0);
	CHECK(fpstack__start(c_o2, sizeof(c_o2), 0x15, ret, 1, false, &adj) == FPS_RSP);
	/* endbr64 first */
	CHECK(fpstack__start(c_cet, sizeof(c_cet), 4, nop, 1, false, &adj) == FPS_RSP && adj == 0);
	CHECK(fpstack__start(c_cet, sizeof(c_cet), 5, nop, 1, false, &adj) == FPS_RSP && adj == 8);
	CHECK(fpstack__start(c_cet, sizeof(c_cet), 8, nop, 1, false, &adj) == FPS_FP);
	/* C -O2: its entry only */
	CHECK(fpstack__start(c_o2, sizeof(c_o2), 0, c_o2, 4, false, &adj) == FPS_RSP && adj == 0);
	CHECK(fpstack__start(c_o2, sizeof(c_o2), 4, c_o2 + 4, 4, false, &adj) == FPS_NONE);
	/* Go: the entry, after the check (GDB's `trace FUNC`), inside the setup, past it */
	CHECK(fpstack__start(go_small, sizeof(go_small), 0, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0);
	CHECK(fpstack__start(go_small, sizeof(go_small), 6, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0);
	CHECK(fpstack__start(go_small, sizeof(go_small), 10, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0x30);
	CHECK(fpstack__start(go_small, sizeof(go_small), 15, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0x30);
	CHECK(fpstack__start(go_small, sizeof(go_small), 20, nop, 1, true, &adj) == FPS_FP);
	CHECK(fpstack__start(go_small, sizeof(go_small), 8, nop, 1, true, &adj) == FPS_NONE);
	CHECK(fpstack__start(go_big, sizeof(go_big), 18, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0);
	CHECK(fpstack__start(go_big, sizeof(go_big), 25, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0x198);
	CHECK(fpstack__start(go_big, sizeof(go_big), 41, nop, 1, true, &adj) == FPS_FP);
	/* a Go frameless function never moves rsp; the same bytes as C say nothing */
	CHECK(fpstack__start(go_leaf, sizeof(go_leaf), 0x20, nop, 1, true, &adj) == FPS_RSP &&
	      adj == 0);
	CHECK(fpstack__start(go_leaf, sizeof(go_leaf), 0x20, nop, 1, false, &adj) == FPS_NONE);
	/* the setup cut short: not recognised */
	CHECK(fpstack__start(go_small, 17, 20, nop, 1, true, &adj) == FPS_RSP);
	CHECK(fpstack__start(go_small, 17, 20, nop, 1, false, &adj) == FPS_NONE);
	CHECK(fpstack__start(NULL, 0, 0, NULL, 0, false, &adj) == FPS_RSP);
	CHECK(fpstack__start(NULL, 0, 3, NULL, 0, false, &adj) == FPS_NONE);
}

/* A stack: bytes at base, words set by index. */
#define BASE 0x7ffd0000ull
struct stk {
	uint8_t b[512];
	size_t len; /* collected */
};

static size_t stk_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct stk *s = ctx;

	if (addr < BASE || addr - BASE >= s->len)
		return 0;
	if (len > s->len - (addr - BASE))
		len = s->len - (addr - BASE);
	memcpy(buf, s->b + (addr - BASE), len);
	return len;
}

static void put(struct stk *s, uint64_t addr, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		s->b[addr - BASE + i] = (uint8_t)(v >> (8 * i));
}

static void test_walk(void)
{
	struct stk s = {.len = sizeof(s.b)};
	struct fps_walk w;
	size_t i;

	/* rsp BASE; frames at +0x20 -> +0x60 -> +0xa0 -> 0 */
	put(&s, BASE + 0x00, 0x401193); /* [rsp]: leaf's return address at its entry */
	put(&s, BASE + 0x20, BASE + 0x60);
	put(&s, BASE + 0x28, 0x4011bd);
	put(&s, BASE + 0x60, BASE + 0xa0);
	put(&s, BASE + 0x68, 0x4011e7);
	put(&s, BASE + 0xa0, 0);
	put(&s, BASE + 0xa8, 0x401246);

	/* past the prologue: rbp is the function's own record at +0x20 */
	fpstack__walk(0x40115e, BASE, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 4 && w.stop == FPS_END);
	CHECK(w.pcs[0] == 0x40115e && w.pcs[1] == 0x4011bd && w.pcs[2] == 0x4011e7 &&
	      w.pcs[3] == 0x401246);
	/* at the entry: [rsp], then the caller's rbp */
	fpstack__walk(0x401156, BASE, BASE + 0x20, FPS_RSP, 0, stk_mem, &s, &w);
	CHECK(w.n == 5 && w.stop == FPS_END && w.pcs[1] == 0x401193 && w.pcs[2] == 0x4011bd &&
	      w.pcs[4] == 0x401246);
	/* Go inside its setup: [rsp + N] */
	put(&s, BASE + 0x18, 0x612efb);
	fpstack__walk(0x612e0a, BASE, BASE + 0x20, FPS_RSP, 0x18, stk_mem, &s, &w);
	CHECK(w.n == 5 && w.pcs[1] == 0x612efb && w.pcs[2] == 0x4011bd);
	/* the caller's rbp below the return address's slot: broken */
	fpstack__walk(0x612e0a, BASE, BASE + 0x10, FPS_RSP, 0x18, stk_mem, &s, &w);
	CHECK(w.n == 2 && w.stop == FPS_BROKEN && w.at == BASE + 0x10);
	/* no frame pointer */
	fpstack__walk(0x1204, BASE, BASE + 0x20, FPS_NONE, 0, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_NOFRAME);
	/* misaligned, below rsp, not increasing */
	fpstack__walk(1, BASE, BASE + 0x24, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_BROKEN && w.at == BASE + 0x24);
	fpstack__walk(1, BASE + 0x30, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_BROKEN);
	put(&s, BASE + 0x60, BASE + 0x20); /* a loop back */
	fpstack__walk(1, BASE, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 3 && w.stop == FPS_BROKEN && w.at == BASE + 0x20);
	put(&s, BASE + 0x60, BASE + 0x68); /* overlapping its own record */
	fpstack__walk(1, BASE, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 3 && w.stop == FPS_BROKEN);
	put(&s, BASE + 0x60, BASE + 0xa0);
	/* the window ends: a record half collected, then none at rsp */
	s.len = 0xa8;
	fpstack__walk(1, BASE, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 3 && w.stop == FPS_WINDOW && w.at == BASE + 0xa0);
	s.len = 0;
	fpstack__walk(1, BASE, BASE + 0x20, FPS_RSP, 0, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_WINDOW && w.at == BASE);
	s.len = sizeof(s.b);
	/* a return address of 0 ends it */
	put(&s, BASE + 0x68, 0);
	fpstack__walk(1, BASE, BASE + 0x20, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 2 && w.stop == FPS_END);
	/* a long chain: FPS_MAX frames, no more */
	for (i = 0; i < 31; i++) {
		put(&s, BASE + 16 * i, BASE + 16 * (i + 1));
		put(&s, BASE + 16 * i + 8, 0x1000 + i);
	}
	fpstack__walk(1, BASE, BASE, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 32 && w.stop == FPS_END && w.pcs[31] == 0x1000 + 30);
	s.len = sizeof(s.b);
	for (i = 0; i < 32; i++) {
		put(&s, BASE + 16 * i, BASE + 16 * (i + 1));
		put(&s, BASE + 16 * i + 8, 0x1000 + i);
	}
	/* 32 records fill the 512 bytes: the next is past the window */
	fpstack__walk(1, BASE, BASE, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 33 && w.stop == FPS_WINDOW);
	/* addresses near the top of the address space never wrap */
	fpstack__walk(1, UINT64_MAX - 8, UINT64_MAX - 7, FPS_FP, 0, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_BROKEN);
	fpstack__walk(1, UINT64_MAX - 8, 0, FPS_RSP, 16, stk_mem, &s, &w);
	CHECK(w.n == 1 && w.stop == FPS_WINDOW);
}

/* FPS_MAX: a stack of 64 records and more. */
static size_t deep_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint64_t v;
	uint8_t *p = buf;
	size_t i;

	(void)ctx;
	if (len < 8 || addr < BASE || addr >= BASE + 16 * 100)
		return 0;
	v = (addr - BASE) % 16 ? 0x2000 + (addr - BASE) / 16 : addr + 16;
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 8;
}

static void test_limit(void)
{
	struct fps_walk w;

	fpstack__walk(1, BASE, BASE, FPS_FP, 0, deep_mem, NULL, &w);
	CHECK(w.n == FPS_MAX && w.stop == FPS_LIMIT);
	CHECK(w.pcs[1] == 0x2000 && w.pcs[FPS_MAX - 1] == 0x2000 + FPS_MAX - 2);
}

int main(void)
{
	test_start();
	test_walk();
	test_limit();
	return check_summary("fpstack");
}
