/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_gopclntab.c - libFuzzer target for the Go function table
 * (stub/program/gopclntab.c) and build info (stub/program/gobuildinfo.c).
 *
 * The input, copied into a buffer of exactly its size, is a pclntab; the
 * same bytes are also the one "segment" funcdata and build info pointers
 * resolve into (at GOFUNC), so inline trees and string headers read from
 * hostile bytes too.  When it opens, beyond "no crash, no endless loop":
 * every function's name lies inside funcnametab with its NUL, entries are
 * sorted and ends follow, the function at a pc holds it, a position's
 * file lies inside filetab, frames end with the function itself, and
 * FILE:LINE ranges lie inside their function.  Seeds: a few real
 * functions re-encoded from a Go 1.19 build (mkseed_gopclntab.py), the
 * hand-made tables of each layout from tests/unit/test_gopclntab.c, a
 * header alone, a real build info section.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/gobuildinfo.h"
#include "stub/program/gopclntab.h"

#define GOFUNC 0x10000ull

static void check(int ok)
{
	if (!ok)
		abort();
}

static int inside(const void *p, const unsigned char *lo, size_t len)
{
	return (const unsigned char *)p >= lo && (const unsigned char *)p < lo + len;
}

struct rctx {
	const struct gopcln *t;
	unsigned n;
};

static int on_range(void *arg, const struct gopcln_range *r)
{
	struct rctx *c = arg;
	struct gopcln_func f;

	check(!gopcln__func(c->t, r->func, &f));
	check(f.entry <= r->lo && r->lo < r->hi && r->hi <= f.end);
	return ++c->n > 64; /* enough */
}

static void table(const unsigned char *b, size_t len)
{
	struct gopcln_seg seg = {.data = b, .vaddr = GOFUNC, .size = len};
	struct gopcln_frame fr[8];
	struct gopcln_pos pos;
	struct gopcln_func f, g;
	struct gopcln t;
	uint64_t prev_end = 0, pc, pcs[4];
	uint32_t i;
	int n, k;

	if (gopcln__open(&t, b, len, 0)) {
		check(t.err[0] != '\0');
		gopcln__close(&t);
		return;
	}
	gopcln__set_data(&t, &seg, 1, GOFUNC);
	for (i = 0; i < t.nfunc && i < 256; i++) {
		check(!gopcln__func(&t, i, &f));
		check(inside(f.name, t.funcnames, t.funcnames_len));
		check(memchr(f.name, 0,
			     t.funcnames_len - (size_t)((const unsigned char *)f.name -
							t.funcnames)) != NULL);
		check(f.entry <= f.end && (i == 0 || f.entry == prev_end));
		prev_end = f.end;
		check(!gopcln__func_by_name(&t, f.name, &g) && !strcmp(g.name, f.name));
		for (pc = f.entry, k = 0; pc >= f.entry && pc < f.end && k < 16;
		     pc += 1 + (f.end - f.entry) / 8, k++) {
			check(!gopcln__func_at(&t, pc, &g) && g.entry <= pc && pc < g.end);
			if (!gopcln__pos(&t, pc, &pos, NULL) && pos.file)
				check(inside(pos.file, t.filetab, t.filetab_len));
			n = gopcln__frames(&t, pc, fr, 8, NULL);
			check(n < 0 || (n >= 1 && n <= 8 && !fr[n - 1].inlined));
			if (n > 0 && !fr[n - 1].inlined && pos.file && k == 0) {
				struct rctx c = {.t = &t};

				gopcln__line_ranges(&t, pos.file, pos.line, on_range, &c);
				gopcln__line_pcs(&t, pos.file, pos.line, pcs, 4);
			}
		}
	}
	check(gopcln__func_at(&t, t.max_pc, &f) == -ENOENT);
	gopcln__close(&t);
}

static void buildinfo(const unsigned char *b, size_t len)
{
	struct gopcln_seg seg = {.data = b, .vaddr = GOFUNC, .size = len};
	struct gobuildinfo bi;
	char err[128];
	long off = gobuildinfo__find(b, len);

	if (off < 0)
		off = 0;
	if (!gobuildinfo__parse(b + off, len - (size_t)off, &seg, 1, &bi, err, sizeof(err))) {
		check(bi.version_len && inside(bi.version, b, len) &&
		      bi.version + bi.version_len <= (const char *)b + len);
		check(!bi.modinfo_len || (inside(bi.modinfo, b, len) &&
					  bi.modinfo + bi.modinfo_len <= (const char *)b + len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *b = malloc(size ? size : 1);

	memcpy(b, data, size);
	table(b, size);
	buildinfo(b, size);
	free(b);
	return 0;
}
