/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_dwarf.c - arbitrary bytes as an ELF file for the DWARF
 * layer (stub/program/dwarf.c) and the deep-collection planner (stub/trace/deep.c).
 *
 * The input goes through elf_memory and dwarf_begin_elf (dw_file__open_mem);
 * if libdw accepts it, the layer indexes its functions and asks for the
 * scope (parameters, locations, types) at pcs taken from the input's first
 * bytes and at every function's entry, and plans deep collection for each
 * scope; every plan must pass the agent-expression validator.  Nothing may
 * crash, leak or read out of bounds (ASan + UBSan).
 *
 * The same bytes as a Go file for the DWARF cache's Go table
 * (stub/program/gosym.c, through a memfd as the cache gives it a file):
 * a name, a FILE:LINE and a pc from the input, and the stack-check
 * matcher on the input itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpf/ax.h"
#include "stub/program/dwarf.h"
#include "stub/program/gosym.h"
#include "stub/trace/deep.h"

/*
 * libdw 0.188's dwarf_getscopes() leaks its scope array when the second walk
 * (abstract origins) fails on corrupt DWARF: it returns -1 without freeing
 * it.  Not ours to fix; a few bytes per lookup of a corrupt file.  LSan's
 * fast unwinder stops inside libdw (no frame pointers), so the suppression
 * names the library: leaks allocated by our code are still reported.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libdw.so.1\n";
}

/* ... and keeps quiet about it, so `make fuzz-smoke` shows libFuzzer's last lines. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static void scope_at(struct dw_file *f, uint64_t pc)
{
	struct deep_plan plan;
	struct dw_scope s;
	char msg[256];
	size_t i;

	if (dw_file__scope(f, pc, 0x1000, &s, msg, sizeof(msg)))
		return;
	for (i = 0; i < s.nvars; i++) {
		char tn[128];

		dw_type__name(s.vars[i].type, tn, sizeof(tn));
	}
	if (!deep__plan(&s, 4096, &plan)) {
		for (i = 0; i < plan.n; i++)
			if (bpfc_ax__check(plan.code[i], plan.len[i], 0, msg, sizeof(msg)))
				abort(); /* the planner wrote bytecode the validator refuses */
		deep__plan_free(&plan);
	}
	dw_scope__free(&s);
}

static void go_table(const uint8_t *data, size_t size, uint64_t pc)
{
	struct gosym *g = NULL;
	struct gosym_at at;
	uint64_t offs[8];
	int64_t goid;
	int fd;

	gosym__stack_check_len(data, size);
	fd = memfd_create("fuzz_gosym", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	if (gosym__open(&g, fd, NULL, 0))
		return; /* fd closed by it */
	gosym__func_offs(g, "main.main", offs, 8);
	gosym__line_offs(g, "main.go", 3, offs, 8);
	gosym__at(g, pc, &at);
	gosym__goid_off(g, &goid, NULL, 0);
	gosym__close(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dw_file *f = NULL;
	uint64_t pcs[8], pc = 0;
	char msg[256];
	int n, i;
	void *copy;

	/* libelf keeps pointers into the image: give it a copy it may outlive no call. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (dw_file__open_mem(&f, copy, size, msg, sizeof(msg)) == 0) {
		dw_file__count_funcs(f);
		if (size >= 8)
			memcpy(&pc, data + size - 8, 8);
		scope_at(f, pc & 0xffffff);
		n = dw_file__func_pcs(f, "main", pcs, 8);
		for (i = 0; i < n && i < 8; i++)
			scope_at(f, pcs[i]);
		dw_file__line_pcs(f, "a.c", 3, pcs, 8);
		dw_file__close(f);
	}
	free(copy);
	go_table(data, size, pc & 0xffffff);
	return 0;
}
