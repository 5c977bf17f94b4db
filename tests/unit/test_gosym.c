/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_gosym.c - a Go file's function table as the DWARF cache uses it
 * (stub/program/gosym.c).
 *
 * The goid offset table per Go version, and for the Go that built the test
 * programs against the DWARF of the unstripped build (runtime.g.goid).
 * Go's stack check, from hand-made code and on every function of the
 * stripped goserver: the pc after it must be where the unstripped build's
 * DWARF puts the function's prologue_end (dw_file__after_prologue), at
 * the same file offset.  Names and FILE:LINE give file offsets equal to
 * the unstripped build's DWARF.
 */
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "stub/program/dwarf.h"
#include "stub/program/gopclntab_elf.h"
#include "stub/program/gosym.h"
#include "tests/unit/check.h"

#define TB "tests/targets/build/"

static void test_versions(void)
{
	static const struct {
		const char *v;
		int64_t off;
	} cases[] = {
		{"go1.16", 152},
		{"go1.17.13", 152},
		{"go1.19.8", 152},
		{"go1.21rc2", 152},
		{"go1.22.12", 152},
		{"go1.23.0", 160},
		{"devel go1.24-abc", 160},
		{"go1.24.4", 160},
		{"go1.25.0", 152},
		{"go1.26.1", 152},
		{"go1.27", -1},
		{"go1.8", -1},
		{"", -1},
		{"go2.0", -1},
		{"gox1.19", -1},
		{"go1.", -1},
		{"go1.999999999", -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECKF(gosym__goid_for_version(cases[i].v) == cases[i].off, "%s: %lld, want %lld",
		       cases[i].v, (long long)gosym__goid_for_version(cases[i].v),
		       (long long)cases[i].off);
}

static void test_stack_check(void)
{
	static const uint8_t small[] = {0x49, 0x3b, 0x66, 0x10, 0x76, 0x49, 0x48};
	static const uint8_t small32[] = {0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 1, 2, 3, 4, 0x48};
	static const uint8_t big8[] = {0x4c, 0x8d, 0x64, 0x24, 0xf0, 0x4d, 0x3b, 0x66,
				       0x10, 0x0f, 0x86, 1,    0,    0,	   0};
	static const uint8_t big8s[] = {0x4c, 0x8d, 0x64, 0x24, 0xf0, 0x4d,
					0x3b, 0x66, 0x10, 0x76, 9};
	static const uint8_t big32[] = {0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xfe, 0xff,
					0xff, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x10};
	static const uint8_t huge[] = {0x49, 0x89, 0xe4, 0x49, 0x81, 0xec, 0xa8, 0x1f, 0,
				       0,    0x0f, 0x82, 0xdd, 0,    0,	   0,	 0x4d, 0x3b,
				       0x66, 0x10, 0x0f, 0x86, 0xd3, 0,	   0,	 0,    0x48};
	static const uint8_t sys[] = {0x49, 0x3b, 0x66, 0x18, 0x0f, 0x86, 0x8d, 2, 0, 0};
	static const uint8_t leaf[] = {0xb9, 0x02, 0x00, 0x00, 0x00, 0xf2, 0x0f};
	static const uint8_t nojbe[] = {0x49, 0x3b, 0x66, 0x10, 0x72, 0x49};
	size_t n;

	CHECK(gosym__stack_check_len(small, sizeof(small)) == 6);
	CHECK(gosym__stack_check_len(small32, sizeof(small32)) == 10);
	CHECK(gosym__stack_check_len(big8, sizeof(big8)) == 15);
	CHECK(gosym__stack_check_len(big8s, sizeof(big8s)) == 11);
	CHECK(gosym__stack_check_len(big32, sizeof(big32)) == 14);
	CHECK(gosym__stack_check_len(huge, sizeof(huge)) == 26);
	CHECK(gosym__stack_check_len(sys, sizeof(sys)) == 10);
	CHECK(gosym__stack_check_len(leaf, sizeof(leaf)) == 0);
	for (n = 0; n < sizeof(huge) - 1; n++)
		CHECKF(gosym__stack_check_len(huge, n) == 0, "huge cut at %zu", n);
	CHECK(gosym__stack_check_len(nojbe, sizeof(nojbe)) == 0);
	/* Every truncation: none, or all of it. */
	for (n = 0; n < sizeof(big32); n++)
		CHECKF(gosym__stack_check_len(big32, n) == 0, "big32 cut at %zu", n);
	for (n = 0; n < 6; n++)
		CHECKF(gosym__stack_check_len(small, n) == 0, "small cut at %zu", n);
}

static struct gosym *open_go(const char *path)
{
	struct gosym *g = NULL;
	char msg[200];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || gosym__open(&g, fd, msg, sizeof(msg))) {
		CHECKF(0, "%s: %s", path, fd < 0 ? strerror(errno) : msg);
		return NULL;
	}
	return g;
}

static struct dw_file *open_dwarf(const char *path)
{
	struct dw_file *f = NULL;
	char msg[200];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || dw_file__open_fd(&f, fd, path, -1, msg, sizeof(msg))) {
		CHECKF(0, "%s: %s", path, msg);
		return NULL;
	}
	return f;
}

/* The goid offset for the version of the build = the DWARF's runtime.g.goid. */
static void test_goid_dwarf(const char *stripped, const char *full)
{
	struct gosym *g = open_go(stripped);
	struct dw_file *f = open_dwarf(full);
	int64_t dw = -1, go = -1;
	char msg[200];

	if (!g || !f)
		goto out;
	CHECKF(!strncmp(gosym__version(g), "go1.", 4), "version '%s'", gosym__version(g));
	CHECK(!dw_file__member_offset(f, "runtime.g", "goid", &dw));
	CHECKF(!gosym__goid_off(g, &go, msg, sizeof(msg)) && go == dw,
	       "%s (%s): table %lld, DWARF %lld", stripped, gosym__version(g), (long long)go,
	       (long long)dw);
out:
	gosym__close(g);
	dw_file__close(f);
}

/*
 * Every function of the stripped build (non-PIE: file offset = vaddr -
 * 0x400000): the pc after its stack check = DWARF's prologue_end in the
 * unstripped build; names and positions at it as the table has them.
 */
static void test_prologues(const char *stripped, const char *full)
{
	struct gopcln_elf ge;
	struct gosym *g = open_go(stripped);
	struct dw_file *f = open_dwarf(full);
	unsigned long same = 0, checked = 0, with_check = 0;
	uint64_t off, pc;
	uint32_t i;

	if (!g || !f || gopcln_elf__open(&ge, stripped)) {
		CHECKF(0, "cannot open %s / %s", stripped, full);
		goto out;
	}
	for (i = 0; i < ge.tab.nfunc; i++) {
		struct gopcln_func fn;
		struct gosym_at at;

		if (gopcln__func(&ge.tab, i, &fn) || gosym__func_offs(g, fn.name, &off, 1) != 1 ||
		    off != fn.entry - 0x400000)
			continue; /* a name shared with a lower entry (an ABI wrapper) */
		if (gosym__at(g, off, &at) || at.entry != off) {
			CHECKF(0, "%s: gosym__at(entry)", fn.name);
			continue;
		}
		CHECKF(at.end == fn.end - 0x400000, "%s: end", fn.name);
		CHECKF(at.args == fn.args, "%s: args", fn.name);
		if (dw_file__after_prologue(f, fn.entry, &pc))
			continue;
		checked++;
		with_check += at.prologue_end != at.entry;
		if (pc - 0x400000 == at.prologue_end)
			same++;
		else if (getenv("GOSYM_VERBOSE"))
			printf("  %s: 0x%llx, DWARF 0x%llx\n", fn.name,
			       (unsigned long long)at.prologue_end + 0x400000,
			       (unsigned long long)pc);
		else if (at.prologue_end != at.entry)
			/* where we found a stack check, DWARF must agree */
			CHECKF(0, "%s: past the stack check 0x%llx, DWARF's prologue 0x%llx",
			       fn.name, (unsigned long long)at.prologue_end + 0x400000,
			       (unsigned long long)pc);
	}
	printf("%s: %lu functions, %lu with a stack check, %lu at DWARF's prologue end\n", stripped,
	       checked, with_check, same);
	CHECK(checked > 1000 && with_check > checked / 2);
	/*
	 * Functions with no stack check: DWARF says the entry, or for some
	 * assembly functions past a frame setup (runtime.call*, crypto's).
	 */
	CHECKF(same * 100 >= checked * 98, "%lu of %lu at DWARF's prologue end", same, checked);
	gopcln_elf__close(&ge);
out:
	gosym__close(g);
	dw_file__close(f);
}

/* Names and FILE:LINE as offsets, against the unstripped build's DWARF. */
static void test_lookups(const char *stripped, const char *full)
{
	static const struct {
		const char *file;
		int line;
	} lines[] = {{"main.go", 41}, {"main.go", 42}, {"main.go", 55}, {"main.go", 46}};
	struct gosym *g = open_go(stripped);
	struct dw_file *f = open_dwarf(full);
	uint64_t offs[16], pcs[16], lo;
	struct gosym_at at;
	size_t i, k;
	int n, m;

	if (!g || !f)
		goto out;
	CHECK(gosym__func_offs(g, "main.greet", offs, 16) == 1);
	CHECK(dw_file__func_pcs(f, "main.greet", pcs, 16) == 1 && pcs[0] - 0x400000 == offs[0]);
	CHECK(!gosym__at(g, offs[0] + 0x19, &at) && !strcmp(at.name, "main.greet") &&
	      at.line == 41 && strstr(at.file, "goserver/main.go") && at.abi_regs);
	CHECK(gosym__func_offs(g, "main.nosuch", offs, 16) == 0);
	CHECK(gosym__at(g, 0, &at) == -ENOENT);
	CHECK(gosym__at(g, ~0ull, &at) == -ENOENT);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = gosym__line_offs(g, lines[i].file, lines[i].line, offs, 16);
		m = dw_file__line_pcs(f, lines[i].file, lines[i].line, pcs, 16);
		CHECKF(n >= 1 && m >= 1, "%s:%d: %d, DWARF %d", lines[i].file, lines[i].line, n, m);
		for (lo = ~0ull, k = 0; k < (size_t)(m > 0 ? m : 0); k++)
			lo = pcs[k] < lo ? pcs[k] : lo;
		CHECKF(n >= 1 && offs[0] + 0x400000 == lo, "%s:%d: 0x%llx, DWARF 0x%llx",
		       lines[i].file, lines[i].line, (unsigned long long)offs[0] + 0x400000,
		       (unsigned long long)lo);
	}
	CHECK(gosym__line_offs(g, "main.go", 9999, offs, 16) == 0);
out:
	gosym__close(g);
	dw_file__close(f);
}

int main(void)
{
	int fd;

	elf_version(EV_CURRENT);
	test_versions();
	test_stack_check();
	if (system("make -s -C tests/targets build/goserver build/goserver-stripped build/govalues "
		   "build/govalues-stripped >/dev/null")) {
		CHECKF(0, "cannot build the Go test programs");
		return check_summary("test_gosym");
	}
	test_goid_dwarf(TB "goserver-stripped", TB "goserver");
	test_goid_dwarf(TB "govalues-stripped", TB "govalues");
	test_prologues(TB "goserver-stripped", TB "goserver");
	test_lookups(TB "goserver-stripped", TB "goserver");
	/* Not Go: no table, and the fd is closed either way. */
	fd = open(TB "counter", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct gosym *g = (struct gosym *)1;

		CHECK(gosym__open(&g, fd, NULL, 0) == -ENOENT && !g);
	}
	return check_summary("test_gosym");
}
