/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_cache.c - the target's files for the DWARF layer (stub/program/dwarf.h).
 *
 * A pc of the live target belongs to a file mapping; the cache opens that
 * file (through /proc/PID/map_files, else inside the target's root) as a
 * struct dw_file once, keeps at most DW_MAX_FILES open (the least recently
 * used goes), and remembers a file that has no usable DWARF with its
 * message, so it is not reopened on every tracepoint and `monitor status`
 * can say why nothing deeper is collected.  A file with no DWARF and no
 * local debug file is looked up on the debuginfod servers
 * (stub/program/debuginfo.h) when the program gave the cache its client;
 * a file not asked yet because no request could wait is opened again by
 * the next lookup that may ask.  Runtime and file addresses
 * differ by the mapping's load bias.  The cache belongs to the target's
 * program context (stub/program/program.h), the one per target; without a
 * live process (t NULL) every lookup finds nothing (-ESRCH).
 *
 * Each file's ELF function symbols (.symtab and .dynsym of the file and of
 * its debug file: stub/program/symtab.h) are read on first need, beside
 * its DWARF, whether or not it has any: a function is found by name in
 * either, an alias through its address, and where DWARF says nothing of a
 * pc the symbol names its function (dw_cache__scope_sym,
 * dw_cache__func_results).  Symbols are placed by file offset (through the
 * file's PT_LOAD segments, then the mapping of that offset), as the kernel
 * maps the file, so no load bias is needed for a file without DWARF.
 *
 * dw_cache__name_at names a pc for a call stack (stub/views/ walks frame
 * pointers and asks it for each return address): DWARF, else Go's
 * function table, else the ELF symbol.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/program/debuginfo.h"
#include "stub/program/dwarf.h"
#include "stub/program/gosym.h"
#include "stub/program/symtab.h"
#include "stub/program/target.h"

#define SYM_FILE_MAX (4ull << 30) /* bytes of a file mapped to read its symbols */
#define GO_ABI_NREGS 9		  /* RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11 */

struct dw_entry {
	uint64_t inode;
	char path[512];
	struct dw_file *f; /* NULL: no DWARF, see err/msg */
	int err;
	char msg[700];
	uint64_t used;
	int goid_err; /* 1: not looked up yet */
	int64_t goid_off;
	int syms_state; /* 0: not read yet, 1: read, -1: none */
	struct symtab syms;
	int go_state; /* Go's function table: 0 not looked for yet, 1 open, -1 none */
	struct gosym *go;
};

struct dw_cache {
	struct dw_entry e[DW_MAX_FILES];
	size_t n;
	uint64_t clock;
	struct dbgi *dbgi; /* debuginfod, or NULL (not owned) */
};

struct dw_cache *dw_cache__new(void)
{
	return calloc(1, sizeof(struct dw_cache));
}

void dw_cache__flush(struct dw_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		dw_file__close(c->e[i].f);
		symtab__fini(&c->e[i].syms);
		gosym__close(c->e[i].go);
	}
	c->n = 0;
}

void dw_cache__set_debuginfo(struct dw_cache *c, struct dbgi *d)
{
	c->dbgi = d;
}

/*
 * A stripped file (m, its DWARF refused with -ENOENT): its debug file from
 * the debuginfod servers.  The message says both why not locally and why
 * not from the servers.
 */
static int open_remote(struct dw_cache *c, struct tgt *t, const struct tgt_map *m,
		       struct dw_entry *e)
{
	char dpath[256], why[300];
	int fd, dfd, err;

	fd = tgt__open_mapping(t, m);
	if (fd < 0)
		return e->err;
	err = dbgi__find(c->dbgi, fd, m->path, &dfd, dpath, sizeof(dpath), why, sizeof(why));
	if (!err)
		return dw_file__open_debug(&e->f, fd, dfd, m->path, dpath, e->msg, sizeof(e->msg));
	close(fd);
	if (err != -ENOSYS) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, "; %s", why);
	}
	return err == -EAGAIN ? err : e->err;
}

void dw_cache__free(struct dw_cache *c)
{
	dw_cache__flush(c);
	free(c);
}

static struct dw_entry *cache_get(struct dw_cache *c, struct tgt *t, const struct tgt_map *m)
{
	struct dw_entry *e = NULL;
	size_t i;
	int fd;

	for (i = 0; i < c->n; i++)
		if (c->e[i].inode == m->inode && !strcmp(c->e[i].path, m->path)) {
			e = &c->e[i];
			e->used = ++c->clock;
			/* Not asked before, and now the servers may be: open it again. */
			if (e->err != -EAGAIN || !dbgi__may_ask(c->dbgi))
				return e;
			break;
		}
	if (!e && c->n < DW_MAX_FILES) {
		e = &c->e[c->n++];
		memset(e, 0, sizeof(*e));
	} else if (!e) {
		e = &c->e[0];
		for (i = 1; i < c->n; i++)
			if (c->e[i].used < e->used)
				e = &c->e[i];
	}
	/* The least recently used entry, or this file's to be opened again. */
	dw_file__close(e->f);
	symtab__fini(&e->syms);
	gosym__close(e->go);
	memset(e, 0, sizeof(*e));
	e->inode = m->inode;
	e->used = ++c->clock;
	e->goid_err = 1;
	snprintf(e->path, sizeof(e->path), "%.511s", m->path);
	fd = tgt__open_mapping(t, m);
	if (fd < 0) {
		e->err = fd;
		snprintf(e->msg, sizeof(e->msg), "no DWARF for %s: cannot open it: %s", m->path,
			 strerror(-fd));
		return e;
	}
	e->err = dw_file__open_fd(&e->f, fd, m->path, t->root_fd, e->msg, sizeof(e->msg));
	if (e->err == -ENOENT && c->dbgi)
		e->err = open_remote(c, t, m, e);
	return e;
}

/* Add the symbols of the file open at fd (not closed here). */
static void add_syms(struct symtab *st, int fd)
{
	struct stat sb;
	char msg[160];
	void *p;

	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || !sb.st_size ||
	    (uint64_t)sb.st_size > SYM_FILE_MAX)
		return;
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return;
	symtab__add(st, p, (size_t)sb.st_size, msg, sizeof(msg));
	munmap(p, (size_t)sb.st_size);
}

/* e's symbols (read once: the mapped file's, then its debug file's), or NULL. */
static const struct symtab *entry_syms(struct tgt *t, struct dw_entry *e, const struct tgt_map *m)
{
	int fd;

	if (e->syms_state)
		return e->syms_state > 0 ? &e->syms : NULL;
	e->syms_state = -1;
	fd = tgt__open_mapping(t, m);
	if (fd < 0)
		return NULL;
	add_syms(&e->syms, fd);
	close(fd);
	if (e->f)
		add_syms(&e->syms, dw_file__debug_fd(e->f));
	symtab__finish(&e->syms);
	if (!e->syms.n)
		return NULL;
	e->syms_state = 1;
	return &e->syms;
}

/* e's Go function table (looked for once: stub/program/gosym.h), or NULL: not Go. */
static const struct gosym *entry_go(struct tgt *t, struct dw_entry *e, const struct tgt_map *m)
{
	int fd;

	if (e->go_state)
		return e->go_state > 0 ? e->go : NULL;
	e->go_state = -1;
	fd = tgt__open_mapping(t, m);
	if (fd < 0 || gosym__open(&e->go, fd, NULL, 0))
		return NULL;
	e->go_state = 1;
	return e->go;
}

/* Runtime address of the file offset off of m's file, through the mappings of the file. */
static int off_to_runtime(const struct tgt_map *maps, size_t n, const struct tgt_map *m,
			  uint64_t off, uint64_t *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (maps[i].inode == m->inode && !strcmp(maps[i].path, m->path) &&
		    off >= maps[i].offset && off - maps[i].offset < maps[i].end - maps[i].start &&
		    maps[i].perms[2] == 'x') {
			*addr = maps[i].start + (off - maps[i].offset);
			return 0;
		}
	return -ENOENT;
}

/* pcs[0..found) with pc appended unless already there: the new count. */
static size_t add_pc(uint64_t *pcs, size_t found, uint64_t pc)
{
	size_t k;

	for (k = 0; k < found; k++)
		if (pcs[k] == pc)
			return found;
	pcs[found] = pc;
	return found + 1;
}

/* Symbol matches of name in m's file, as runtime pcs appended after pcs[0..found). */
static size_t sym_pcs(struct tgt *t, struct dw_entry *e, const struct tgt_map *maps, size_t n,
		      const struct tgt_map *m, const char *name, uint64_t *pcs, size_t found,
		      size_t max)
{
	const struct symtab *st = entry_syms(t, e, m);
	uint64_t addrs[16], off, rt;
	size_t j;
	int nsym;

	if (!st)
		return found;
	nsym = symtab__lookup(st, name, addrs, 16);
	for (j = 0; j < (size_t)(nsym > 0 ? nsym : 0) && found < max; j++)
		if (!symtab__offset(st, addrs[j], &off) && !off_to_runtime(maps, n, m, off, &rt))
			found = add_pc(pcs, found, rt);
	return found;
}

/* Go's table's matches of name (or FILE:LINE) in m's file, appended as sym_pcs does. */
static size_t go_pcs(struct tgt *t, struct dw_entry *e, const struct tgt_map *maps, size_t n,
		     const struct tgt_map *m, const char *name, const char *file, int line,
		     uint64_t *pcs, size_t found, size_t max)
{
	const struct gosym *g = entry_go(t, e, m);
	uint64_t offs[16], rt;
	size_t j;
	int ng;

	if (!g)
		return found;
	ng = name ? gosym__func_offs(g, name, offs, 16) : gosym__line_offs(g, file, line, offs, 16);
	for (j = 0; j < (size_t)(ng > 0 ? ng : 0) && found < max; j++)
		if (!off_to_runtime(maps, n, m, offs[j], &rt))
			found = add_pc(pcs, found, rt);
	return found;
}

/* The file mapping of t holding pc. */
static int find_map(struct tgt *t, uint64_t pc, struct tgt_map *out, char *msg, size_t mlen)
{
	int err;

	if (!t) {
		rsp_buf__msgf(msg, mlen, "no live process: its files are unknown");
		return -ESRCH;
	}
	err = tgt__region(t, pc, out);
	if (err) {
		rsp_buf__msgf(msg, mlen, "cannot read the maps of pid %d: %s", (int)t->pid,
			      strerror(-err));
		return err;
	}
	if (out->path[0] != '/' || !out->inode) {
		rsp_buf__msgf(msg, mlen, "0x%llx is not in a file the target maps",
			      (unsigned long long)pc);
		return -ENOENT;
	}
	return 0;
}

/* The open file holding runtime address addr and its load bias: 0, or -errno with msg. */
static int file_at(struct dw_cache *c, struct tgt *t, uint64_t addr, struct tgt_map *m,
		   struct dw_file **f, uint64_t *bias, char *msg, size_t mlen)
{
	struct dw_entry *e;
	int err = find_map(t, addr, m, msg, mlen);

	if (err)
		return err;
	e = cache_get(c, t, m);
	if (!e->f) {
		rsp_buf__msgf(msg, mlen, "%s", e->msg);
		/* Not asked of debuginfod yet (-EAGAIN, kept in e): no DWARF for now. */
		return e->err && e->err != -EAGAIN ? e->err : -ENOENT;
	}
	err = dw_file__map_bias(e->f, NULL, 0, m, bias);
	if (err == -EAGAIN) {
		struct tgt_map *maps = NULL;
		size_t n = 0;

		if (!tgt__maps(t, &maps, &n))
			err = dw_file__map_bias(e->f, maps, n, m, bias);
		free(maps);
	}
	if (err) {
		rsp_buf__msgf(msg, mlen, "no DWARF for %s: no PT_LOAD for its mapping at 0x%llx",
			      m->path, (unsigned long long)m->start);
		return -ENOENT;
	}
	*f = e->f;
	return 0;
}

int dw_cache__scope(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out, char *msg,
		    size_t mlen)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias;
	int err;

	memset(out, 0, sizeof(*out));
	err = file_at(c, t, pc, &m, &f, &bias, msg, mlen);
	if (err)
		return err;
	err = dw_file__scope(f, pc - bias, bias, out, msg, mlen);
	if (!err)
		snprintf(out->path, sizeof(out->path), "%.511s", m.path);
	else if (err == -ENOENT)
		rsp_buf__msgf(msg, mlen, "no DWARF for 0x%llx in %s", (unsigned long long)pc,
			      m.path);
	return err;
}

/* Run q over each distinct file t maps (first mapping of each), pcs made runtime. */
static int each_file(struct dw_cache *c, struct tgt *t, const char *name, const char *file,
		     int line, uint64_t *pcs, size_t max)
{
	struct tgt_map *maps = NULL;
	size_t n = 0, i, j, found = 0;
	int err;

	/* DWARF's first in every file: symbols add what it lacks, after; Go's table last. */

	if (!t)
		return -ESRCH;
	err = tgt__maps(t, &maps, &n);
	if (err)
		return err;
	for (i = 0; i < n && found < max; i++) {
		struct dw_entry *e;
		uint64_t bias, start = found;
		size_t before = found;
		int k;
		bool seen = false;

		if (maps[i].path[0] != '/' || !maps[i].inode)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = maps[j].inode == maps[i].inode &&
			       !strcmp(maps[j].path, maps[i].path);
		if (seen)
			continue;
		e = cache_get(c, t, &maps[i]);
		if (e->f && !dw_file__map_bias(e->f, maps, n, &maps[i], &bias)) {
			k = name ? dw_file__func_pcs(e->f, name, pcs + found, max - found)
				 : dw_file__line_pcs(e->f, file, line, pcs + found, max - found);
			if (k > 0)
				found += (size_t)k;
			for (; start < found; start++)
				pcs[start] += bias;
		}
		if (name)
			found = sym_pcs(t, e, maps, n, &maps[i], name, pcs, found, max);
		/* Nothing in this file's DWARF or symbols: Go's own table (a stripped Go file). */
		if (found == before)
			found = go_pcs(t, e, maps, n, &maps[i], name, file, line, pcs, found, max);
	}
	free(maps);
	return (int)found;
}

int dw_cache__func_pcs(struct dw_cache *c, struct tgt *t, const char *name, uint64_t *pcs,
		       size_t max)
{
	return each_file(c, t, name, NULL, 0, pcs, max);
}

int dw_cache__line_pcs(struct dw_cache *c, struct tgt *t, const char *file, int line, uint64_t *pcs,
		       size_t max)
{
	return each_file(c, t, NULL, file, line, pcs, max);
}

int dw_cache__go_goid(struct dw_cache *c, struct tgt *t, uint64_t pc, int64_t *off, char *msg,
		      size_t mlen)
{
	struct dw_entry *e;
	struct tgt_map m;
	int err;

	err = find_map(t, pc, &m, msg, mlen);
	if (err)
		return err;
	e = cache_get(c, t, &m);
	if (e->goid_err == 1) {
		/* DWARF's runtime.g, else the offset for the Go version of the build. */
		const struct gosym *g;

		e->goid_err = e->f ? dw_file__member_offset(e->f, "runtime.g", "goid", &e->goid_off)
				   : -ENOENT;
		if (e->goid_err && (g = entry_go(t, e, &m)))
			e->goid_err = gosym__goid_off(g, &e->goid_off, NULL, 0);
	}
	if (e->goid_err) {
		const struct gosym *g = entry_go(t, e, &m);
		int64_t o;

		if (g)
			gosym__goid_off(g, &o, msg, mlen);
		else if (!e->f)
			rsp_buf__msgf(msg, mlen, "%s", e->msg);
		else
			rsp_buf__msgf(msg, mlen,
				      "no runtime.g.goid in the DWARF of %s (not a Go program)",
				      m.path);
		return e->goid_err;
	}
	*off = e->goid_off;
	return 0;
}

int dw_cache__go_rtype(struct dw_cache *c, struct tgt *t, uint64_t addr, struct dw_scope *s,
		       const struct dw_type **out, char *name, size_t nlen)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias;
	int err;

	*out = NULL;
	err = file_at(c, t, addr, &m, &f, &bias, name, nlen);
	return err ? err : dw_file__go_rtype(f, addr - bias, s, out, name, nlen);
}

/*
 * What Go's table says of runtime pc: the function (ga, file offsets), its
 * mapping (m) and its runtime entry.  0, or -ENOENT (no table, no function).
 */
static int go_at(struct dw_cache *c, struct tgt *t, uint64_t pc, struct tgt_map *m,
		 struct gosym_at *ga, uint64_t *entry)
{
	const struct gosym *g;
	uint64_t off;

	if (!c || find_map(t, pc, m, NULL, 0))
		return -ENOENT;
	g = entry_go(t, cache_get(c, t, m), m);
	off = pc - m->start + m->offset;
	if (!g || gosym__at(g, off, ga) || ga->entry > off)
		return -ENOENT;
	*entry = pc - (off - ga->entry);
	return 0;
}

int dw_cache__go_at(struct dw_cache *c, struct tgt *t, uint64_t pc, char *name, size_t nlen,
		    char *file, size_t flen, int *line, uint64_t *entry)
{
	struct gosym_at *ga = malloc(sizeof(*ga));
	struct tgt_map m;
	uint64_t e;
	int err;

	if (!ga)
		return -ENOMEM;
	err = go_at(c, t, pc, &m, ga, &e);
	if (!err) {
		if (nlen)
			snprintf(name, nlen, "%s", ga->name);
		if (flen)
			snprintf(file, flen, "%s", ga->file);
		if (line)
			*line = ga->line;
		if (entry)
			*entry = e;
	}
	free(ga);
	return err;
}

int dw_cache__after_prologue(struct dw_cache *c, struct tgt *t, uint64_t entry, uint64_t *pc)
{
	struct gosym_at ga;
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias, fpc, e;
	char msg[16];
	int err;

	*pc = entry;
	err = file_at(c, t, entry, &m, &f, &bias, msg, sizeof(msg));
	if (!err) {
		err = dw_file__after_prologue(f, entry - bias, &fpc);
		if (!err) {
			*pc = fpc + bias;
			return 0;
		}
	}
	/* No DWARF for it: past the stack check of a function of Go's table. */
	if (!go_at(c, t, entry, &m, &ga, &e) && e == entry) {
		*pc = entry + (ga.prologue_end - ga.entry);
		return 0;
	}
	return err;
}

/* The symbol holding runtime pc of the file mapped at m: its entry (runtime), or NULL. */
static const struct sym *sym_at(struct dw_cache *c, struct tgt *t, uint64_t pc, struct tgt_map *m,
				const struct symtab **stp, uint64_t *entry)
{
	struct dw_entry *e = cache_get(c, t, m);
	const struct symtab *st = entry_syms(t, e, m);
	const struct sym *s;
	uint64_t a;

	if (!st || symtab__addr(st, pc - m->start + m->offset, &a) || !(s = symtab__at(st, a)))
		return NULL;
	*stp = st;
	*entry = pc - (a - s->addr);
	return s;
}

/* An 8-byte word of no known type, in s's types: "untyped". */
static struct dw_type *untyped(struct dw_scope *s)
{
	struct dw_type *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->kind = DWT_BASE;
	t->name = strdup("untyped");
	t->size = 8;
	t->encoding = DW_ATE_signed;
	t->count = -1;
	t->next_alloc = s->alloc;
	s->alloc = t;
	return t->name ? t : NULL;
}

/* The function's preferred name: C++'s demangled without parameters. */
static void sym_name(const struct symtab *st, const struct sym *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", symtab__name(st, s->base));
}

/* DWARF numbers of Go's integer argument and result registers (ABIInternal, amd64). */
static const int go_regs[GO_ABI_NREGS] = {0, 3, 2, 5, 4, 8, 9, 10, 11};

/* n untyped words ~PREFIX0.. in Go's registers (loc empty: the caller places them). */
static int go_words(struct dw_scope *s, const char *prefix, size_t n, bool place)
{
	struct dw_type *w = untyped(s);
	size_t i;

	if (!w)
		return -ENOMEM;
	for (i = 0; i < n && i < GO_ABI_NREGS && s->nvars < DW_MAX_VARS; i++) {
		struct dw_var *v = &s->vars[s->nvars++];

		snprintf(v->name, sizeof(v->name), "~%s%zu", prefix, i);
		v->param = true;
		v->type = w;
		if (place) {
			v->loc.npieces = 1;
			v->loc.pieces[0] = (struct dw_piece){DWP_REG, go_regs[i], 0, 0};
		}
	}
	return 0;
}

/*
 * Go's table for pc (no DWARF): the function and, at its entry or just
 * past its stack check, its argument words ~a0.. in ABIInternal's
 * registers, as many as _func.args says (at most nine).
 */
static int go_scope(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out)
{
	struct gosym_at ga;
	struct tgt_map m;
	uint64_t entry;
	size_t n;

	if (go_at(c, t, pc, &m, &ga, &entry))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->func, sizeof(out->func), "%s", ga.name);
	snprintf(out->path, sizeof(out->path), "%.511s", m.path);
	out->pc = pc;
	out->entry = entry;
	out->symbols = true;
	out->go = true;
	if ((pc != entry && pc - entry != ga.prologue_end - ga.entry) || !ga.abi_regs)
		return 0; /* inside, the registers may hold anything; Go 1.16: on the stack */
	n = ga.args < 0 ? GO_ABI_NREGS : ((size_t)ga.args + 7) / 8;
	return go_words(out, "a", n, true);
}

int dw_cache__scope_sym(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out,
			char *msg, size_t mlen)
{
	/* DWARF x86-64 numbers of the SysV argument registers, in order */
	static const struct {
		const char *name;
		int reg;
	} args[] = {{"rdi", 5}, {"rsi", 4}, {"rdx", 1}, {"rcx", 2}, {"r8", 8}, {"r9", 9}};
	const struct symtab *st;
	const struct sym *s;
	struct dw_type *w;
	struct tgt_map m;
	uint64_t entry;
	size_t i;
	int err;

	err = dw_cache__scope(c, t, pc, out, msg, mlen);
	if (err != -ENOENT && err != -EINVAL)
		return err;
	/* Go's table before the symbols: Go's registers (a cgo file's C functions are not in it).
	 */
	if (!go_scope(c, t, pc, out))
		return 0;
	if (find_map(t, pc, &m, NULL, 0) || !(s = sym_at(c, t, pc, &m, &st, &entry)))
		return err;
	memset(out, 0, sizeof(*out));
	sym_name(st, s, out->func, sizeof(out->func));
	snprintf(out->path, sizeof(out->path), "%.511s", m.path);
	out->pc = pc;
	out->entry = entry;
	out->symbols = true;
	if (pc != entry)
		return 0; /* past the entry the argument registers may hold anything */
	w = untyped(out);
	if (!w)
		return 0;
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		struct dw_var *v = &out->vars[out->nvars++];

		snprintf(v->name, sizeof(v->name), "%s", args[i].name);
		v->param = true;
		v->type = w;
		v->loc.npieces = 1;
		v->loc.pieces[0] = (struct dw_piece){DWP_REG, args[i].reg, 0, 0};
	}
	return 0;
}

void dw_cache__split_note(struct dw_cache *c, char *buf, size_t len)
{
	size_t i, n = 0;
	const char *first = NULL, *m;

	if (len)
		buf[0] = '\0';
	for (i = 0; c && i < c->n; i++) {
		size_t k = c->e[i].f ? dw_file__split_missing(c->e[i].f, &m) : 0;

		if (k && !first && m[0])
			first = m;
		n += k;
	}
	if (n && first)
		snprintf(buf, len, "%s%s", first, n > 1 ? " (and more units)" : "");
}

/*
 * Go's table for the function entering at entry (no DWARF): its range, and
 * results as GO_RESULT_WORDS untyped words ~r0.. (the table does not say
 * how many there are); the Go ABI places them (stub/trace/retprobe.c).
 */
static int go_results(struct dw_cache *c, struct tgt *t, uint64_t entry, struct dw_func *out)
{
	struct gosym_at ga;
	struct tgt_map m;
	uint64_t e;
	int64_t off;

	if (go_at(c, t, entry, &m, &ga, &e) || e != entry)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->s.func, sizeof(out->s.func), "%s", ga.name);
	snprintf(out->s.path, sizeof(out->s.path), "%.511s", m.path);
	out->s.entry = out->s.pc = entry;
	out->s.symbols = true;
	out->s.go = true;
	out->ranges[0][0] = entry;
	out->ranges[0][1] = entry + (ga.end - ga.entry);
	out->nranges = 1;
	out->goid_off = dw_cache__go_goid(c, t, entry, &off, NULL, 0) ? -1 : off;
	out->stack_hi_off = 8; /* runtime.g.stack.hi: the second word, in every version */
	return ga.abi_regs ? go_words(&out->s, "r", GO_RESULT_WORDS, false) : 0;
}

int dw_cache__func_results(struct dw_cache *c, struct tgt *t, uint64_t entry, struct dw_func *out,
			   char *msg, size_t mlen)
{
	const struct symtab *st;
	const struct sym *s;
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias, e;
	int err;

	memset(out, 0, sizeof(*out));
	err = file_at(c, t, entry, &m, &f, &bias, msg, mlen);
	if (!err)
		err = dw_file__func_results(f, entry - bias, bias, out, msg, mlen);
	if (!err) {
		snprintf(out->s.path, sizeof(out->s.path), "%.511s", m.path);
		return 0;
	}
	if (err != -ENOENT)
		return err;
	if (!go_results(c, t, entry, out))
		return 0;
	if (find_map(t, entry, &m, NULL, 0) || !(s = sym_at(c, t, entry, &m, &st, &e)) ||
	    e != entry)
		return err;
	/* No DWARF for it: what its ELF symbol says. */
	memset(out, 0, sizeof(*out));
	out->goid_off = -1;
	out->stack_hi_off = -1;
	sym_name(st, s, out->s.func, sizeof(out->s.func));
	snprintf(out->s.path, sizeof(out->s.path), "%.511s", m.path);
	out->s.entry = out->s.pc = entry;
	out->s.symbols = true;
	if (s->size) {
		out->ranges[0][0] = entry;
		out->ranges[0][1] = entry + s->size;
		out->nranges = 1;
	}
	out->ret_type = untyped(&out->s);
	return out->ret_type ? 0 : -ENOMEM;
}

/*
 * dw_cache__name_at() through Go's function table: the innermost function,
 * the one whose code holds pc when that is another (inlined), the source
 * file's last element and line.  0, or -ENOENT (not Go, or no function).
 */
static int go_name_at(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_pcname *out)
{
	char file[256], outer[DW_NAME_MAX];
	const char *base;
	int line, err;

	err = dw_cache__go_at(c, t, pc, out->func, sizeof(out->func), file, sizeof(file), &line,
			      &out->entry);
	if (err)
		return err;
	if (!dw_cache__go_at(c, t, out->entry, outer, sizeof(outer), NULL, 0, NULL, NULL) &&
	    strcmp(outer, out->func))
		snprintf(out->outer, sizeof(out->outer), "%s", outer);
	base = strrchr(file, '/');
	snprintf(out->file, sizeof(out->file), "%s", base ? base + 1 : file);
	out->line = line > 0 ? line : 0;
	out->src = DWN_GOPCLNTAB;
	out->go = true;
	return 0;
}

int dw_cache__name_at(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_pcname *out)
{
	const struct symtab *st;
	const struct sym *s;
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias, entry;
	char msg[8];
	int err;

	memset(out, 0, sizeof(*out));
	err = file_at(c, t, pc, &m, &f, &bias, msg, sizeof(msg));
	if (err == -ESRCH)
		return err;
	if (!err && !dw_file__name_at(f, pc - bias, bias, out))
		return 0;
	/* No DWARF for pc: Go's function table (.gopclntab, kept by `-s -w`), then the symbols. */
	memset(out, 0, sizeof(*out));
	if (!go_name_at(c, t, pc, out))
		return 0;
	memset(out, 0, sizeof(*out));
	if (find_map(t, pc, &m, NULL, 0) || !(s = sym_at(c, t, pc, &m, &st, &entry)))
		return -ENOENT;
	sym_name(st, s, out->func, sizeof(out->func));
	out->entry = entry;
	out->src = DWN_SYMBOLS;
	return 0;
}
