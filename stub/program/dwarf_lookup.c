/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_lookup.c - the queries of the DWARF layer (stub/program/dwarf.h) that
 * look a thing up across a file, on the core in stub/program/dwarf.c:
 *  - functions: the entry pcs of a function by name (C++ "ns::Class::m"
 *    too), of a FILE:LINE, and the number of functions (the name index);
 *  - where GDB puts `trace FUNC` (dw_file__after_prologue: prologue_end, else
 *    past the frame setup, read from the ELF's code);
 *  - a function's results for return probes (dw_file__func_results: its pc
 *    ranges, C's return type or Go's result parameters, runtime.g's goid);
 *  - a struct member's byte offset (dw_file__member_offset);
 *  - the Go type whose runtime._type is at an address (dw_file__go_rtype,
 *    for an interface's dynamic type);
 *  - what a pc is for a call stack (dw_file__name_at: the innermost
 *    function, the one whose code it is, FILE:LINE).
 *
 * They sit apart from the core because each answers one question about the
 * whole file (walking its CUs, its line table or its symbols) rather than
 * what is at a pc; they share struct dw_file, type conversion and the CU at
 * a pc with the core through stub/program/dwarf_int.h.  Same rules as the core:
 * every value from libdw or libelf is checked, corrupt input gives -errno.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/dwarf.h"
#include "stub/program/dwarf_int.h"

struct func_q {
	const char *name;
	uint64_t *pcs;
	size_t max, n;
	int count;
};

/*
 * Does C++ function d match "ns::Class::method" (or its tail on a "::", as
 * GDB takes "Class::method")?  Its scopes are those of its declaration (an
 * out-of-line definition points there with DW_AT_specification).
 */
static bool qualified_match(Dwarf_Die *d, const char *want)
{
	Dwarf_Die spec, *decl = d, *scopes = NULL;
	Dwarf_Attribute a;
	char q[512] = "";
	size_t o = 0, wl = strlen(want), ql;
	int n, k;

	if ((dwarf_attr(d, DW_AT_specification, &a) || dwarf_attr(d, DW_AT_abstract_origin, &a)) &&
	    dwarf_formref_die(&a, &spec))
		decl = &spec;
	n = dwarf_getscopes_die(decl, &scopes);
	for (k = n - 1; k >= 1; k--) {
		int tag = dwarf_tag(&scopes[k]);
		const char *sn = dwarf_diename(&scopes[k]);

		if (sn && o < sizeof(q) &&
		    (tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
		     tag == DW_TAG_structure_type || tag == DW_TAG_union_type))
			o += (size_t)snprintf(q + o, sizeof(q) - o, "%s::", sn);
	}
	free(scopes);
	if (o < sizeof(q))
		snprintf(q + o, sizeof(q) - o, "%s", dwarf_diename(d));
	ql = strlen(q);
	return !strcmp(q, want) ||
	       (ql > wl + 2 && !strcmp(q + ql - wl, want) && !strncmp(q + ql - wl - 2, "::", 2));
}

static int func_cb(Dwarf_Die *d, void *arg)
{
	struct func_q *q = arg;
	const char *n = dwarf_diename(d), *last;
	Dwarf_Addr lo;

	q->count++;
	if (!q->name || !n || dwarf_lowpc(d, &lo) || q->n >= q->max)
		return DWARF_CB_OK;
	if (!strcmp(n, q->name)) {
		q->pcs[q->n++] = lo;
		return DWARF_CB_OK;
	}
	/* C++: "ns::Class::method", only for a function whose own name is the last part. */
	last = strstr(q->name, "::") ? strrchr(q->name, ':') + 1 : NULL;
	if (last && !strcmp(n, last) && qualified_match(d, q->name))
		q->pcs[q->n++] = lo;
	return DWARF_CB_OK;
}

static int walk_funcs(struct dw_file *f, struct func_q *q)
{
	Dwarf_CU *it = NULL;
	Dwarf_Die cu;

	while (dw_int__next_unit(f, &it, &cu))
		if (dwarf_getfuncs(&cu, func_cb, q, 0) < 0)
			return -EINVAL;
	return 0;
}

int dw_file__func_pcs(struct dw_file *f, const char *name, uint64_t *pcs, size_t max)
{
	struct func_q q = {name, pcs, max, 0, 0};
	int err = walk_funcs(f, &q);

	return err ? err : (int)q.n;
}

int dw_file__count_funcs(struct dw_file *f)
{
	struct func_q q = {0};
	int err = walk_funcs(f, &q);

	return err ? err : q.count;
}

int dw_file__line_pcs(struct dw_file *f, const char *file, int line, uint64_t *pcs, size_t max)
{
	Dwarf_Line **srcs = NULL;
	size_t nsrcs = 0, i, n = 0;

	if (dwarf_getsrc_file(f->dw, file, line, 0, &srcs, &nsrcs))
		return 0; /* no such line: none */
	for (i = 0; i < nsrcs && n < max; i++) {
		Dwarf_Addr a;
		bool stmt = false;
		int ln = 0;

		/* libdw answers a line without code with the next one that has some. */
		if (!dwarf_lineaddr(srcs[i], &a) && !dwarf_linebeginstatement(srcs[i], &stmt) &&
		    stmt && !dwarf_lineno(srcs[i], &ln) && ln == line)
			pcs[n++] = a;
	}
	free(srcs);
	return (int)n;
}

/* The byte offset of member in the top-level struct type (e.g. runtime.g's goid). */
int dw_file__member_offset(struct dw_file *f, const char *type, const char *member, int64_t *off)
{
	Dwarf_CU *it = NULL;
	Dwarf_Die cu, d, m;

	while (dw_int__next_unit(f, &it, &cu)) {
		if (dwarf_child(&cu, &d))
			continue;
		do {
			const char *n = dwarf_diename(&d);
			Dwarf_Attribute a;
			Dwarf_Word w;

			if (dwarf_tag(&d) != DW_TAG_structure_type || !n || strcmp(n, type) ||
			    dwarf_child(&d, &m))
				continue;
			do {
				n = dwarf_diename(&m);
				if (dwarf_tag(&m) == DW_TAG_member && n && !strcmp(n, member) &&
				    dwarf_attr(&m, DW_AT_data_member_location, &a) &&
				    !dwarf_formudata(&a, &w)) {
					*off = (int64_t)w;
					return 0;
				}
			} while (dwarf_siblingof(&m, &m) == 0);
		} while (dwarf_siblingof(&d, &d) == 0);
	}
	return -ENOENT;
}

/* Up to len bytes of code at file address addr (from the ELF's sections). */
static size_t code_at(struct dw_file *f, uint64_t addr, uint8_t *buf, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || addr < sh.sh_addr ||
		    addr >= sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || addr - sh.sh_addr >= d->d_size)
			return 0;
		n = d->d_size - (addr - sh.sh_addr);
		n = n < len ? n : len;
		memcpy(buf, (const uint8_t *)d->d_buf + (addr - sh.sh_addr), n);
		return n;
	}
	return 0;
}

/*
 * Where GDB 13 puts `break FUNC` / `trace FUNC` on amd64 for GCC and Go
 * code (symtab.c skip_prologue_sal, amd64_skip_prologue): the first
 * prologue_end row of the function's line table (Go marks the end of its
 * stack-growth check so); else after `[endbr64] push %rbp; mov %rsp,%rbp`
 * moved on to the start of the next line-table row, or the entry itself
 * for a frameless function.
 */
int dw_file__after_prologue(struct dw_file *f, uint64_t entry, uint64_t *out)
{
	Dwarf_Die cu, d;
	Dwarf_Lines *lines;
	Dwarf_Addr hi = 0, a, best = 0, next = 0;
	size_t nlines, i;
	uint8_t code[16];
	uint64_t pc = entry;
	size_t n, p = 0;

	*out = entry;
	if (!dw_int__line_cu_at(f, entry, &cu) || dwarf_getsrclines(&cu, &lines, &nlines) ||
	    !dw_int__unit(f, &cu, &cu))
		return -ENOENT;
	if (dw_int__func_at(&cu, entry, &d)) {
		Dwarf_Addr lo;

		if (dwarf_lowpc(&d, &lo) || lo != entry || dwarf_highpc(&d, &hi))
			hi = 0;
	}
	if (!hi || hi <= entry)
		return -ENOENT;
	for (i = 0; i < nlines; i++) {
		Dwarf_Line *ln = dwarf_onesrcline(lines, i);
		bool pe = false;

		if (ln && !dwarf_lineaddr(ln, &a) && a >= entry && a < hi &&
		    !dwarf_lineprologueend(ln, &pe) && pe) {
			*out = a;
			return 0;
		}
	}
	n = code_at(f, entry, code, sizeof(code));
	if (n >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
		p = 4;
	if (n >= p + 4 && code[p] == 0x55 && code[p + 1] == 0x48 &&
	    ((code[p + 2] == 0x89 && code[p + 3] == 0xe5) ||
	     (code[p + 2] == 0x8b && code[p + 3] == 0xec)))
		pc = entry + p + 4;
	else if (n >= p + 3 && code[p] == 0x55 &&
		 ((code[p + 1] == 0x89 && code[p + 2] == 0xe5) ||
		  (code[p + 1] == 0x8b && code[p + 2] == 0xec)))
		pc = entry + p + 3;
	if (pc == entry)
		return 0;
	/* In the middle of a line: on to the start of the next one. */
	for (i = 0; i < nlines; i++) {
		Dwarf_Line *ln = dwarf_onesrcline(lines, i);
		bool end = false;

		if (!ln || dwarf_lineaddr(ln, &a) || dwarf_lineendsequence(ln, &end))
			continue;
		if (a <= pc && a >= entry && !end)
			best = a;
		else if (a > pc && best && (!next || a < next))
			next = a;
	}
	if (best == pc)
		*out = pc;
	else if (next && next < hi)
		*out = next;
	else
		*out = pc;
	return 0;
}
/* ---- Go runtime types ---- */

#define DW_AT_go_runtime_type 0x2904 /* the type's runtime._type (cmd/internal/dwarf) */

/*
 * Where the Go linker's type data starts (moduledata.types): the symbol
 * runtime.types, else .rodata (where the linker puts them first); 0 if neither.
 */
static uint64_t go_types_base(Elf *elf)
{
	uint64_t rodata = 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *n;
		size_t i;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, ".rodata"))
			rodata = sh.sh_addr;
		if (sh.sh_type != SHT_SYMTAB || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *sn;

			if (gelf_getsym(d, (int)i, &sym) &&
			    (sn = elf_strptr(elf, sh.sh_link, sym.st_name)) &&
			    !strcmp(sn, "runtime.types"))
				return sym.st_value;
		}
	}
	return rodata;
}

/*
 * The Go type DIE whose DW_AT_go_runtime_type is addr (a file address):
 * true with *die.  The attribute holds the offset from moduledata.types
 * (Go 1.x linkers; Delve reads it so); an absolute address also matches.
 */
static bool go_rtype_die(struct dw_file *f, uint64_t addr, Dwarf_Die *die)
{
	Dwarf_CU *it = NULL;
	Dwarf_Die cu;
	uint64_t base, rel;

	if (!f->go_types_known) {
		f->go_types = go_types_base(f->elf);
		f->go_types_known = true;
	}
	base = f->go_types;
	rel = addr >= base ? addr - base : addr;

	while (dw_int__next_unit(f, &it, &cu)) {
		if (dwarf_child(&cu, die))
			continue;
		do {
			Dwarf_Attribute a;
			Dwarf_Addr v;
			Dwarf_Word w;

			if (!dwarf_attr(die, DW_AT_go_runtime_type, &a))
				continue;
			if (!dwarf_formaddr(&a, &v) && (v == rel || v == addr))
				return true;
			if (!dwarf_formudata(&a, &w) && (w == rel || w == addr))
				return true;
		} while (dwarf_siblingof(die, die) == 0);
	}
	return false;
}

int dw_file__go_rtype(struct dw_file *f, uint64_t addr, struct dw_scope *s,
		      const struct dw_type **out, char *name, size_t nlen)
{
	struct dw_conv *c;
	Dwarf_Die die;

	*out = NULL;
	if (!go_rtype_die(f, addr, &die)) {
		rsp_buf__msgf(name, nlen, "no Go type in the DWARF has its runtime type at 0x%llx",
			      (unsigned long long)addr);
		return -ENOENT;
	}
	c = dw_int__conv_new(s, true);
	if (!c)
		return -ENOMEM;
	*out = dw_int__type_conv(c, &die, 0);
	free(c);
	rsp_buf__msgf(name, nlen, "%s", dwarf_diename(&die) ? dwarf_diename(&die) : "?");
	return *out ? 0 : -ENOMEM;
}

/* ---- a function's results (for return probes, stub/trace/retprobe.c) ---- */

/* The ELF function symbol named name (NULL: any) at entry (0: any); its size, 0 none. */
static uint64_t sym_find(Elf *elf, const char *name, uint64_t entry)
{
	Elf_Scn *scn = NULL;

	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			const char *n;
			GElf_Sym sym;

			if (!gelf_getsym(d, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_size ||
			    (entry && sym.st_value != entry))
				continue;
			n = name ? elf_strptr(elf, sh.sh_link, sym.st_name) : NULL;
			if (!name || (n && !strcmp(n, name)))
				return sym.st_size;
		}
	}
	return 0;
}

struct func_die {
	uint64_t entry;
	Dwarf_Die die;
	bool found;
};

static int func_die_cb(Dwarf_Die *d, void *arg)
{
	struct func_die *q = arg;
	Dwarf_Addr lo;

	if (!dwarf_lowpc(d, &lo) && lo == q->entry) {
		q->die = *d;
		q->found = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

int dw_file__func_results(struct dw_file *f, uint64_t entry, uint64_t bias, struct dw_func *out,
			  char *msg, size_t mlen)
{
	struct func_die q = {.entry = entry};
	struct dw_conv *c = NULL;
	Dwarf_Attribute a;
	Dwarf_Word lang, vp;
	Dwarf_Addr hi, lo, base, b, e;
	Dwarf_Die cu, ch;
	ptrdiff_t it;
	int err;

	memset(out, 0, sizeof(*out));
	out->goid_off = -1;
	out->stack_hi_off = -1;
	if (!dw_int__cu_at(f, entry, &cu) || dwarf_getfuncs(&cu, func_die_cb, &q, 0) < 0 ||
	    !q.found) {
		rsp_buf__msgf(msg, mlen, "no DWARF function starts at 0x%llx",
			      (unsigned long long)entry);
		return -ENOENT;
	}
	out->s.go = dwarf_attr(&cu, DW_AT_language, &a) && !dwarf_formudata(&a, &lang) &&
		    lang == DW_LANG_Go;
	out->s.rust = !out->s.go && dwarf_attr(&cu, DW_AT_language, &a) &&
		      !dwarf_formudata(&a, &lang) && lang == DW_LANG_Rust;
	snprintf(out->s.func, sizeof(out->s.func), "%s",
		 dwarf_diename(&q.die) ? dwarf_diename(&q.die) : "??");
	out->s.entry = entry + bias;
	out->s.pc = entry + bias;
	/* The pc ranges: low/high pc, else DW_AT_ranges, else the ELF symbol. */
	if (!dwarf_lowpc(&q.die, &lo) && !dwarf_highpc(&q.die, &hi) && hi > lo) {
		out->ranges[0][0] = lo + bias;
		out->ranges[0][1] = hi + bias;
		out->nranges = 1;
	} else {
		for (it = 0; out->nranges < DW_FUNC_RANGES &&
			     (it = dwarf_ranges(&q.die, it, &base, &b, &e)) > 0;) {
			out->ranges[out->nranges][0] = b + bias;
			out->ranges[out->nranges][1] = e + bias;
			out->nranges++;
		}
	}
	if (!out->nranges) {
		/* No range in the DWARF: the ELF symbol's size. */
		uint64_t size = sym_find(f->elf, NULL, entry);

		if (!size)
			size = sym_find(f->dbg_elf, NULL, entry);
		if (size) {
			out->ranges[0][0] = entry + bias;
			out->ranges[0][1] = entry + size + bias;
			out->nranges = 1;
		}
	}
	c = dw_int__conv_new(&out->s, out->s.go);
	if (!c)
		return -ENOMEM;
	if (!out->s.go) {
		/* C: one value, of the subprogram's DW_AT_type (none: void). */
		out->ret_type = dw_int__type_of(c, &q.die, DW_AT_type, 0);
		err = 0;
		goto cleanup;
	}
	/* Go: results are parameters with DW_AT_variable_parameter, in order. */
	if (!dwarf_child(&q.die, &ch)) {
		do {
			struct dw_var *d;
			const char *n = dwarf_diename(&ch);

			bool flag = false;

			if (dwarf_tag(&ch) != DW_TAG_formal_parameter || !n ||
			    !dwarf_attr(&ch, DW_AT_variable_parameter, &a))
				continue;
			/* Go writes it as DW_FORM_flag; accept a constant too. */
			if (dwarf_formflag(&a, &flag))
				flag = !dwarf_formudata(&a, &vp) && vp;
			if (!flag)
				continue;
			if (out->s.nvars == DW_MAX_VARS) {
				out->s.nvars_dropped++;
				continue;
			}
			d = &out->s.vars[out->s.nvars++];
			snprintf(d->name, sizeof(d->name), "%s", n);
			d->type = dw_int__type_of(c, &ch, DW_AT_type, 0);
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
	if (dw_file__member_offset(f, "runtime.g", "goid", &out->goid_off))
		out->goid_off = -1;
	{
		int64_t st, hi;

		out->stack_hi_off = -1;
		if (!dw_file__member_offset(f, "runtime.g", "stack", &st) &&
		    !dw_file__member_offset(f, "runtime.stack", "hi", &hi))
			out->stack_hi_off = st + hi;
	}
	err = 0;
cleanup:
	free(c);
	if (err)
		dw_scope__free(&out->s);
	return err;
}

/* ---- a pc's name, for a call stack ---- */

/* The last path component of a line table's file name. */
static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static bool row(Dwarf_Lines *lines, size_t i, Dwarf_Addr *a, bool *stmt, bool *end)
{
	Dwarf_Line *ln = dwarf_onesrcline(lines, i);

	return ln && !dwarf_lineaddr(ln, a) && !dwarf_linebeginstatement(ln, stmt) &&
	       !dwarf_lineendsequence(ln, end);
}

/*
 * The line of pc in line-table unit cu, as GDB picks it: of the rows at the
 * last address <= pc, the last that begins a statement (else the last);
 * none past the end of a sequence.  The rows are sorted by address.
 */
static int line_at(Dwarf_Die *cu, uint64_t pc, const char **src, int *line)
{
	Dwarf_Lines *lines;
	Dwarf_Addr a, at;
	size_t n, lo = 0, hi, i, pick;
	bool stmt, end, found = false;

	if (dwarf_getsrclines(cu, &lines, &n) || !n)
		return -ENOENT;
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (!row(lines, mid, &a, &stmt, &end))
			return -ENOENT;
		if (a <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !row(lines, lo - 1, &at, &stmt, &end))
		return -ENOENT;
	pick = lo - 1;
	for (i = lo; i-- > 0;) {
		if (!row(lines, i, &a, &stmt, &end) || a != at)
			break;
		if (end)
			continue;
		if (!found)
			pick = i; /* the last row at `at` */
		found = true;
		if (stmt) {
			pick = i;
			break;
		}
	}
	if (!found || dwarf_lineno(dwarf_onesrcline(lines, pick), line) || *line <= 0)
		return -ENOENT;
	*src = dwarf_linesrc(dwarf_onesrcline(lines, pick), NULL, NULL);
	return *src ? 0 : -ENOENT;
}

int dw_file__name_at(struct dw_file *f, uint64_t pc, uint64_t bias, struct dw_pcname *out)
{
	Dwarf_Die cu, lcu, *scopes = NULL, *fn = NULL, *sub = NULL;
	Dwarf_Attribute a;
	Dwarf_Word lang;
	Dwarf_Addr lo;
	const char *name, *src;
	int n, i, line;

	memset(out, 0, sizeof(*out));
	out->src = DWN_DWARF;
	if (!dw_int__cu_at(f, pc, &cu))
		return -ENOENT;
	n = dw_int__scopes_at(&cu, pc, &scopes);
	if (n < 0)
		return n == -ENOMEM ? n : -ENOENT;
	/* The innermost function (inlined or not), and the subprogram whose code it is. */
	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (!fn && (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine))
			fn = &scopes[i];
		if (!sub && tag == DW_TAG_subprogram)
			sub = &scopes[i];
	}
	if (!fn || !sub) {
		free(scopes);
		return -ENOENT;
	}
	name = dwarf_diename(fn);
	snprintf(out->func, sizeof(out->func), "%s", name ? name : "??");
	if (fn != sub) {
		name = dwarf_diename(sub);
		snprintf(out->outer, sizeof(out->outer), "%s", name ? name : "??");
	}
	if (dwarf_entrypc(sub, &lo) && dwarf_lowpc(sub, &lo))
		lo = pc;
	out->entry = lo + bias;
	free(scopes);
	out->go = dwarf_attr(&cu, DW_AT_language, &a) && !dwarf_formudata(&a, &lang) &&
		  lang == DW_LANG_Go;
	if (dw_int__line_cu_at(f, pc, &lcu) && !line_at(&lcu, pc, &src, &line)) {
		snprintf(out->file, sizeof(out->file), "%s", base_name(src));
		out->line = line;
	}
	return 0;
}
