/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_symtab.c - libFuzzer target for the ELF readers of the
 * program layer that take a whole file: stub/program/elfimg.c (section and
 * program headers), stub/program/symtab.c (function symbols, demangled) and
 * stub/program/dwp.c (a .dwp's unit index, and the per-unit images cut out
 * of a package or a .dwo).
 *
 * The input is an ELF image as read from an untrusted file, copied into a
 * buffer of exactly its size so a read past it is an ASan report.  Beyond
 * "no crash, no leak": every section handed out lies inside the image;
 * symbols come out sorted, each name NUL-terminated inside the names
 * arena; a symbol's own address finds a symbol at that address; a name
 * looked up finds only addresses of symbols; an image dwp__image builds is
 * an ELF elfimg__open accepts, with the sections asked for.  The input is
 * also read as a .debug_cu_index on its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/dwp.h"
#include "stub/program/elfimg.h"
#include "stub/program/symtab.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint64_t rd64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

static void rebuilt(const uint8_t *img, size_t len, size_t want)
{
	struct elfimg e;
	char msg[200];

	check(!elfimg__open(&e, img, len, msg, sizeof(msg)));
	check(e.nsecs == want + 2);
	elfimg__fini(&e);
}

static void symbols(const uint8_t *buf, size_t size)
{
	struct symtab st = {0};
	uint64_t addrs[8], off, back;
	char msg[200], dem[256];
	size_t i;
	int n;

	if (symtab__add(&st, buf, size, msg, sizeof(msg)) < 0) {
		symtab__fini(&st);
		return;
	}
	symtab__finish(&st);
	for (i = 0; i < st.n; i++) {
		const struct sym *s = &st.v[i];

		check(s->name < st.nlen && s->dname < st.nlen && s->base < st.nlen);
		check(memchr(st.names + s->name, '\0', st.nlen - s->name) != NULL);
		check(!i || st.v[i - 1].addr <= s->addr);
		if (i < 64) {
			const struct sym *a = symtab__at(&st, s->addr);

			check(a && a->addr == s->addr);
			n = symtab__lookup(&st, symtab__name(&st, s->base), addrs, 8);
			check(n >= 1 && n <= 8);
			if (!symtab__offset(&st, s->addr, &off))
				check(!symtab__addr(&st, off, &back));
			symtab__demangle(symtab__name(&st, s->name), dem, sizeof(dem));
		}
	}
	symtab__fini(&st);
}

static void package(const uint8_t *buf, size_t size)
{
	struct elfimg e;
	const struct elfimg_sec *idx;
	struct dwp_unit u;
	uint8_t *img;
	size_t len, i, n;
	char msg[200];

	if (elfimg__open(&e, buf, size, msg, sizeof(msg)))
		return;
	for (i = 1; i < e.nsecs; i++)
		check(!e.secs[i].data || (e.secs[i].data >= buf &&
					  e.secs[i].size <= size - (size_t)(e.secs[i].data - buf)));
	if (!dwp__image(&e, NULL, buf, size < 64 ? size : 64, &img, &len, msg, sizeof(msg))) {
		for (i = 1, n = 0; i < e.nsecs; i++) {
			size_t l = strlen(e.secs[i].name);

			n += e.secs[i].data && l >= 4 && !strcmp(e.secs[i].name + l - 4, ".dwo");
		}
		rebuilt(img, len, (n < DWPS_N + 2 ? n : DWPS_N + 2) + 1);
		free(img);
	}
	idx = elfimg__find(&e, ".debug_cu_index");
	if (idx && idx->data && idx->size >= 24 &&
	    !dwp__find(idx->data, idx->size, rd64(idx->data + 16, idx->size - 16), &u, msg,
		       sizeof(msg)) &&
	    !dwp__image(&e, &u, NULL, 0, &img, &len, msg, sizeof(msg))) {
		check(len > 64);
		free(img);
	}
	elfimg__fini(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct dwp_unit u;
	char msg[200];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	symbols(buf, size);
	package(buf, size);
	if (size >= 24)
		dwp__find(buf, size, rd64(buf + 16, size - 16), &u, msg, sizeof(msg));
	free(buf);
	return 0;
}
