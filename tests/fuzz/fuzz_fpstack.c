/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_fpstack.c - libFuzzer target for the call stack by frame
 * pointers (stub/views/fpstack.c): hostile code bytes and a hostile stack.
 *
 * Input: 8 bytes off, 8 rsp, 8 rbp, 1 flags (bit 0: Go), 1 code length,
 * then that many code bytes (the function's entry), the rest the stack
 * collected at rsp.  Beyond "no crash, no endless loop": FPS_RSP's
 * adjustment is one the code named, the walk stays within FPS_MAX, its
 * first pc is the hit's, and each return address read lies in the stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/views/fpstack.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

struct stk {
	uint64_t base;
	const uint8_t *b;
	size_t len;
};

static size_t mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct stk *s = ctx;

	if (addr < s->base || addr - s->base >= s->len)
		return 0;
	if (len > s->len - (addr - s->base))
		len = s->len - (addr - s->base);
	memcpy(buf, s->b + (addr - s->base), len);
	return len;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fps_walk w;
	struct stk s;
	uint64_t off, rsp, rbp, adj;
	enum fps_start st;
	size_t clen, i;
	uint8_t *code;

	if (size < 26)
		return 0;
	off = le64(data) % 256;
	rsp = le64(data + 8);
	rbp = le64(data + 16);
	clen = data[25];
	if (clen > size - 26)
		clen = size - 26;
	/* exactly clen bytes, so ASan sees any read past them */
	code = malloc(clen ? clen : 1);
	if (!code)
		return 0;
	memcpy(code, data + 26, clen);
	st = fpstack__start(code, clen, off, off < clen ? code + off : NULL,
			    off < clen ? clen - off : 0, data[24] & 1, &adj);
	check(st == FPS_FP || st == FPS_RSP || st == FPS_NONE);
	check(st != FPS_RSP || adj <= 0xffffffffull);
	free(code);
	s.base = rsp;
	s.b = data + 26 + clen;
	s.len = size - 26 - clen;
	fpstack__walk(0x1234, rsp, rbp, st, adj, mem, &s, &w);
	check(w.n >= 1 && w.n <= FPS_MAX && w.pcs[0] == 0x1234);
	check(st != FPS_NONE || (w.n == 1 && w.stop == FPS_NOFRAME));
	for (i = 1; i < w.n; i++)
		check(w.pcs[i] != 0);
	return 0;
}
