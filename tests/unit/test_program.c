/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_program.c - stub/program/program.c: one context per target.
 *
 * The context is made for this very process (its own DWARF: the unit tests
 * are built with -g) and without one (the frames of a trace file: no live
 * process), and what it answers is checked through its members, as
 * deep.c, montrace.c, retprobe.c and the views read them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "stub/program/dwarf.h"
#include "stub/program/program.h"
#include "stub/program/sdt.h"
#include "stub/program/target.h"
#include "tests/unit/check.h"

__attribute__((noinline)) int program_unit_fn(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

/* A program for this process: its function found, twice, through the one cache. */
static void test_self(void)
{
	uint64_t want = (uintptr_t)&program_unit_fn, pcs[4] = {0};
	struct program *p;
	struct sdt_site site;
	struct dw_scope s;
	struct tgt t;
	char err[256], msg[256];
	int n, r;

	r = tgt__attach(&t, getpid(), err, sizeof(err));
	CHECK(r == 0);
	if (r) {
		fprintf(stderr, "attach self: %s\n", err);
		return;
	}
	p = program__new(&t);
	CHECK(p && p->tgt == &t && p->dwarf && p->sdt);
	if (!p)
		goto cleanup;
	n = dw_cache__func_pcs(p->dwarf, p->tgt, "program_unit_fn", pcs, 4);
	CHECK(n == 1 && pcs[0] == want);
	pcs[0] = 0;
	n = dw_cache__func_pcs(p->dwarf, p->tgt, "program_unit_fn", pcs, 4); /* files kept */
	CHECK(n == 1 && pcs[0] == want);
	r = dw_cache__scope(p->dwarf, p->tgt, want, &s, msg, sizeof(msg));
	CHECK(r == 0 && !strcmp(s.func, "program_unit_fn") && s.entry == want);
	if (!r)
		dw_scope__free(&s);
	/* no SDT probe here: an answer, not an error */
	CHECK(program__sdt_site(p, want, &site) == 0);
	CHECK(program_unit_fn(2) == 7);
cleanup:
	program__free(p);
	tgt__close(&t);
}

/* Without a live process: usable, every lookup finds nothing. */
static void test_no_process(void)
{
	struct program *p = program__new(NULL);
	struct sdt_site site;
	struct dw_scope s;
	uint64_t pcs[4], pc;
	char msg[256], path[64];

	CHECK(p && !p->tgt && p->dwarf && p->sdt);
	if (!p)
		return;
	CHECK(dw_cache__scope(p->dwarf, p->tgt, 0x401000, &s, msg, sizeof(msg)) == -ESRCH);
	CHECK(dw_cache__func_pcs(p->dwarf, p->tgt, "main", pcs, 4) == -ESRCH);
	CHECK(dw_cache__line_pcs(p->dwarf, p->tgt, "x.c", 1, pcs, 4) == -ESRCH);
	CHECK(dw_cache__after_prologue(p->dwarf, p->tgt, 0x401000, &pc) == -ESRCH &&
	      pc == 0x401000);
	CHECK(dw_cache__scope_sym(p->dwarf, p->tgt, 0x401000, &s, msg, sizeof(msg)) == -ESRCH);
	path[0] = 'x';
	dw_cache__split_note(p->dwarf, path, sizeof(path));
	CHECK(path[0] == '\0');
	CHECK(program__sdt_site(p, 0x401000, &site) == -ESRCH);
	program__free(p);
	program__free(NULL);
}

int main(void)
{
	test_self();
	test_no_process();
	return check_summary("program");
}
