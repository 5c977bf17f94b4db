/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sdt.c - libFuzzer target for stub/program/sdt_note.c.
 *
 * The input is the contents of a note section, as read from an untrusted
 * ELF file, copied into a buffer of exactly that size so reading one byte
 * past it is an ASan report.  It is parsed with both address sizes.  Beyond
 * "no crash": every note handed out has its three strings NUL-terminated
 * inside the buffer, in order, the last NUL being the descriptor's last
 * byte; a second walk stopped by the callback returns the callback's
 * value; the counts agree; and prelink adjustment and the file offset
 * lookup hold their contracts on the addresses found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/sdt_note.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

struct ctx {
	const char *lo, *hi;
	int n;
};

static void check_str(const struct ctx *c, const char *s)
{
	const char *nul;

	check(s >= c->lo && s < c->hi);
	nul = memchr(s, '\0', (size_t)(c->hi - s));
	check(nul != NULL);
}

static int visit(void *arg, const struct sdt_note *n)
{
	struct ctx *c = arg;
	struct sdt_note a = *n;
	struct sdt_seg seg = {.vaddr = n->pc & ~0xfffull,
			      .offset = 0x1000,
			      .filesz = 0x2000,
			      .exec = true,
			      .write = true};
	uint64_t off;

	check_str(c, n->provider);
	check_str(c, n->name);
	check_str(c, n->args);
	check(n->provider[0] && n->name[0]);
	check(n->name == n->provider + strlen(n->provider) + 1);
	check(n->args == n->name + strlen(n->name) + 1);
	sdt_note__adjust(&a, n->base + 0x10000);
	check(a.pc == n->pc + 0x10000 &&
	      (n->semaphore ? a.semaphore == n->semaphore + 0x10000 : a.semaphore == 0));
	if (!sdt_note__file_offset(&seg, 1, n->pc, 1, true, false, &off))
		check(off == n->pc - seg.vaddr + seg.offset);
	c->n++;
	return 0;
}

static int stop(void *arg, const struct sdt_note *n)
{
	return 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned asz;
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (asz = 4; asz <= 8; asz += 4) {
		struct ctx c = {.lo = buf, .hi = buf + size};
		size_t bad = 0;
		int r = sdt_note__parse(buf, size, asz, visit, &c, &bad);

		check(r >= 0 && r == c.n && bad <= size / 12);
		r = sdt_note__parse(buf, size, asz, stop, NULL, NULL);
		check(r == (c.n ? 7 : 0));
	}
	free(buf);
	return 0;
}
