/* SPDX-License-Identifier: MIT */
/*
 * stub/program/symtab.c - function symbols of an ELF image (symtab.h).
 *
 * The sections come from stub/program/elfimg.c, already checked against
 * the image; here each symbol table is checked once more for what only it
 * says: its entry size (sizeof(Elf64_Sym)), its string table (sh_link: an
 * SHT_STRTAB section of this image) and each symbol's name (an offset that
 * must end with a NUL inside that table).  A symbol that fails is skipped;
 * a table that fails is skipped with the reason in msg.  Names are copied
 * into one arena (the image may be unmapped after), with the demangled
 * name and its parameter-less base beside a C++ one, so a lookup is string
 * compares and no allocation.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/elfimg.h"
#include "stub/program/symtab.h"

#define NAMES_MAX (512u << 20) /* bytes of names per table */

/* libstdc++'s demangler, through its C symbol (no C++ in bpfstub). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/*
 * Rust's legacy mangling is Itanium's with a last path element "h" + 16 hex
 * digits (a hash of the crate) and '$'-escapes inside the elements
 * ("_ZN10rustvalues5greet17hb02124d6f28262a7E" demangles to
 * "rustvalues::greet::hb02124d6f28262a7"): the hash is dropped and the
 * escapes decoded, as rustc-demangle does, so the name is what the source
 * and GDB say ("rustvalues::greet", "<T as core::fmt::Debug>::fmt").
 * True when d was such a name (rewritten in place).
 */
static bool rust_legacy(char *d)
{
	static const struct {
		const char *esc, *to;
	} escs[] = {{"$SP$", "@"},  {"$BP$", "*"},  {"$RF$", "&"},  {"$LT$", "<"},  {"$GT$", ">"},
		    {"$LP$", "("},  {"$RP$", ")"},  {"$C$", ","},   {"$u20$", " "}, {"$u22$", "\""},
		    {"$u27$", "'"}, {"$u2b$", "+"}, {"$u3b$", ";"}, {"$u5b$", "["}, {"$u5d$", "]"},
		    {"$u7b$", "{"}, {"$u7d$", "}"}, {"$u7e$", "~"}};
	size_t n = strlen(d), i, k, o = 0;

	if (n < 19 || strncmp(d + n - 19, "::h", 3))
		return false;
	for (i = n - 16; i < n; i++)
		if (!isxdigit((unsigned char)d[i]))
			return false;
	d[n - 19] = '\0';
	for (i = 0; d[i];) {
		if (d[i] == '$') {
			for (k = 0; k < sizeof(escs) / sizeof(escs[0]); k++)
				if (!strncmp(d + i, escs[k].esc, strlen(escs[k].esc)))
					break;
			if (k < sizeof(escs) / sizeof(escs[0])) {
				d[o++] = escs[k].to[0];
				i += strlen(escs[k].esc);
				continue;
			}
		} else if (d[i] == '.' && d[i + 1] == '.') {
			d[o++] = ':';
			d[o++] = ':';
			i += 2;
			continue;
		}
		d[o++] = d[i++];
	}
	d[o] = '\0';
	/* An element starting with an escape gets a '_' before it ("_$LT$"). */
	for (i = 0; d[i]; i++)
		if (d[i] == '_' && d[i + 1] == '<' && (i == 0 || d[i - 1] == ':'))
			memmove(d + i, d + i + 1, strlen(d + i));
	return true;
}

bool symtab__demangle(const char *name, char *buf, size_t len)
{
	char *d;
	int status = -1;

	if (!name || strncmp(name, "_Z", 2) || !len)
		return false;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (!d || status) {
		free(d);
		return false;
	}
	rust_legacy(d);
	snprintf(buf, len, "%s", d);
	free(d);
	return true;
}

/* Append s[0..n) and a NUL to the arena: its offset, or -1. */
static int64_t put_name(struct symtab *st, const char *s, size_t n)
{
	size_t off = st->nlen;

	if (n >= NAMES_MAX || st->nlen > NAMES_MAX - n - 1)
		return -1;
	if (st->nlen + n + 1 > st->ncap) {
		size_t cap = st->ncap ? st->ncap * 2 : 4096;
		char *p;

		while (cap < st->nlen + n + 1)
			cap *= 2;
		p = realloc(st->names, cap);
		if (!p)
			return -1;
		st->names = p;
		st->ncap = cap;
	}
	memcpy(st->names + off, s, n);
	st->names[off + n] = '\0';
	st->nlen += n + 1;
	return (int64_t)off;
}

/*
 * The demangled name without its parameter list and trailing qualifiers
 * ("shop::Cart::total(long) const" -> "shop::Cart::total") and without a
 * return type a template's name carries ("int f<int>(int)" -> "f<int>"):
 * its length from *start.
 */
static size_t base_of(const char *d, size_t *start)
{
	size_t n = strlen(d), i, open = n, sp = 0;
	int depth = 0;

	*start = 0;
	/* The last ')' and its '(' */
	while (n && d[n - 1] != ')')
		n--;
	if (!n)
		return strlen(d);
	for (i = n; i-- > 0;) {
		if (d[i] == ')')
			depth++;
		else if (d[i] == '(' && --depth == 0) {
			open = i;
			break;
		}
	}
	if (open == strlen(d) || !open)
		return strlen(d);
	/* A return type: the last space at depth 0 (outside <> and ()) before it. */
	depth = 0;
	for (i = 0; i < open; i++) {
		if (d[i] == '<' || d[i] == '(')
			depth++;
		else if ((d[i] == '>' || d[i] == ')') && depth > 0)
			depth--;
		else if (d[i] == ' ' && !depth && strncmp(d + i + 1, "operator", 8) &&
			 (i < 8 || strncmp(d + i - 8, "operator", 8)))
			sp = i + 1;
	}
	*start = sp;
	return open - sp;
}

static int add_sym(struct symtab *st, const char *name, uint64_t addr, uint64_t size, uint8_t rank)
{
	const char *at = strchr(name, '@');
	size_t n = at ? (size_t)(at - name) : strlen(name), bl, bs;
	char raw[1024], dem[2048];
	int64_t on, od, ob;
	struct sym *s;

	if (!n || n >= sizeof(raw))
		return 0;
	if (st->n == SYMTAB_MAX) {
		st->dropped++;
		return 0;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		struct sym *v = realloc(st->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->v = v;
		st->cap = cap;
	}
	memcpy(raw, name, n);
	raw[n] = '\0';
	on = put_name(st, raw, n);
	od = ob = on;
	if (on >= 0 && symtab__demangle(raw, dem, sizeof(dem))) {
		od = put_name(st, dem, strlen(dem));
		bl = base_of(dem, &bs);
		ob = od >= 0 ? put_name(st, dem + bs, bl) : -1;
	}
	if (on < 0 || od < 0 || ob < 0)
		return -ENOMEM;
	s = &st->v[st->n++];
	s->addr = addr;
	s->size = size;
	s->name = (uint32_t)on;
	s->dname = (uint32_t)od;
	s->base = (uint32_t)ob;
	s->rank = rank;
	return 1;
}

/* One SHT_SYMTAB or SHT_DYNSYM section. */
static int add_table(struct symtab *st, const struct elfimg *img, const struct elfimg_sec *sec,
		     char *msg, size_t mlen)
{
	const struct elfimg_sec *str;
	uint64_t i, n;
	int added = 0, err;

	if (sec->entsize != sizeof(Elf64_Sym) || !sec->data) {
		rsp_buf__msgf(msg, mlen, "%s: entry size %llu", sec->name,
			      (unsigned long long)sec->entsize);
		return -EINVAL;
	}
	if (!sec->link || sec->link >= img->nsecs || img->secs[sec->link].type != SHT_STRTAB ||
	    !img->secs[sec->link].data) {
		rsp_buf__msgf(msg, mlen, "%s: its string table (section %u) is not one", sec->name,
			      sec->link);
		return -EINVAL;
	}
	str = &img->secs[sec->link];
	n = sec->size / sizeof(Elf64_Sym);
	for (i = 1; i < n; i++) {
		Elf64_Sym sym;
		unsigned bind;

		memcpy(&sym, sec->data + i * sizeof(sym), sizeof(sym));
		bind = ELF64_ST_BIND(sym.st_info);
		if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx == SHN_ABS ||
		    (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_LOCAL))
			continue;
		if (sym.st_name >= str->size ||
		    !memchr(str->data + sym.st_name, '\0', str->size - sym.st_name))
			continue;
		err = add_sym(st, (const char *)str->data + sym.st_name, sym.st_value, sym.st_size,
			      bind == STB_GLOBAL ? 0
			      : bind == STB_WEAK ? 1
						 : 2);
		if (err < 0)
			return err;
		added += err;
	}
	return added;
}

int symtab__add(struct symtab *st, const void *buf, size_t len, char *msg, size_t mlen)
{
	struct elfimg img;
	size_t i;
	int err, n, total = 0;

	err = elfimg__open(&img, buf, len, msg, mlen);
	if (err)
		return err;
	if (!st->nloads) {
		for (i = 0; i < img.nloads && i < sizeof(st->loads) / sizeof(st->loads[0]); i++) {
			st->loads[i].vaddr = img.loads[i].vaddr;
			st->loads[i].offset = img.loads[i].offset;
			st->loads[i].filesz = img.loads[i].filesz;
		}
		st->nloads = i;
	}
	for (i = 1; i < img.nsecs; i++) {
		if (img.secs[i].type != SHT_SYMTAB && img.secs[i].type != SHT_DYNSYM)
			continue;
		n = add_table(st, &img, &img.secs[i], msg, mlen);
		if (n == -ENOMEM) {
			elfimg__fini(&img);
			return n;
		}
		if (n > 0)
			total += n;
	}
	elfimg__fini(&img);
	return total;
}

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

void symtab__finish(struct symtab *st)
{
	if (st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), by_addr);
}

void symtab__fini(struct symtab *st)
{
	free(st->v);
	free(st->names);
	memset(st, 0, sizeof(*st));
}

static bool tail_match(const char *full, const char *want)
{
	size_t fl = strlen(full), wl = strlen(want);

	return fl > wl + 2 && !strcmp(full + fl - wl, want) &&
	       !strncmp(full + fl - wl - 2, "::", 2);
}

static bool matches(const struct symtab *st, const struct sym *s, const char *want)
{
	const char *n = st->names + s->name, *b = st->names + s->base;

	if (!strcmp(n, want))
		return true;
	if (s->dname == s->name)
		return false;
	return !strcmp(st->names + s->dname, want) || !strcmp(b, want) || tail_match(b, want);
}

int symtab__lookup(const struct symtab *st, const char *name, uint64_t *addrs, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < st->n && n < max; i++) {
		bool seen = false;

		if (!matches(st, &st->v[i], name))
			continue;
		for (j = 0; j < n && !seen; j++)
			seen = addrs[j] == st->v[i].addr;
		if (!seen)
			addrs[n++] = st->v[i].addr;
	}
	return (int)n;
}

/* Fewer leading underscores first: clock_nanosleep before __clock_nanosleep. */
static size_t underscores(const char *s)
{
	return strspn(s, "_");
}

const struct sym *symtab__at(const struct symtab *st, uint64_t addr)
{
	size_t lo = 0, hi = st->n, i;
	const struct sym *best = NULL;

	/* The first symbol above addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* Only symbols at the nearest start can hold addr (functions do not nest). */
	for (i = lo; i-- > 0 && st->v[i].addr == st->v[lo - 1].addr;) {
		const struct sym *s = &st->v[i];

		if (s->addr != addr && addr - s->addr >= s->size)
			continue;
		if (!best || s->rank < best->rank ||
		    (s->rank == best->rank &&
		     underscores(st->names + s->name) < underscores(st->names + best->name)))
			best = s;
	}
	return best;
}

int symtab__offset(const struct symtab *st, uint64_t addr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < st->nloads; i++)
		if (addr >= st->loads[i].vaddr && addr - st->loads[i].vaddr < st->loads[i].filesz) {
			*off = addr - st->loads[i].vaddr + st->loads[i].offset;
			return 0;
		}
	return -ENOENT;
}

int symtab__addr(const struct symtab *st, uint64_t off, uint64_t *addr)
{
	size_t i;

	for (i = 0; i < st->nloads; i++)
		if (off >= st->loads[i].offset && off - st->loads[i].offset < st->loads[i].filesz) {
			*addr = off - st->loads[i].offset + st->loads[i].vaddr;
			return 0;
		}
	return -ENOENT;
}
