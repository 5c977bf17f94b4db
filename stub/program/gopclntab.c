/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gopclntab.c - the Go pc-line table; pure (see gopclntab.h).
 *
 * What it owns: turning the bytes of runtime.pclntab into answers a
 * tracepoint by name needs (a function by name or pc, a pc's file and
 * line, the pcs of a FILE:LINE, the inlined frames at a pc), for every
 * layout from Go 1.16 on, without trusting one byte of it.
 *
 * How: gopcln__open() checks the header and every functab pair and _func
 * record once (so the accessors after it index without re-checking) and
 * sorts the functions by name into the one allocation.  Everything else
 * is decoded when asked: a pc-value table is a sequence of (value delta,
 * pc delta) varint pairs, the value delta zig-zag encoded, the pc delta in
 * units of the pc quantum; the first pair may have a zero value delta, a
 * later zero byte ends the table.  Each walk stays inside pctab (every
 * step eats at least two bytes), varints are at most 5 bytes, and walks
 * stop at the function's end, so a hostile table costs at most a pass
 * over its own bytes per question.
 *
 * Why not Go's layout names for everything: the reader is written from
 * the format (runtime/symtab.go, debug/gosym, golang.org/s/go12symtab),
 * not from Go's code; names follow this project's conventions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/gopclntab.h"

/* One function of the by-name index. */
struct gopcln_name {
	uint32_t nameoff; /* in funcnames */
	uint32_t idx;
};

static int fail(struct gopcln *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct gopcln *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return err;
}

static uint32_t rd32(const struct gopcln *t, const unsigned char *p)
{
	if (t->big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A word of n bytes (4 or 8). */
static uint64_t rdn(const struct gopcln *t, const unsigned char *p, unsigned n)
{
	uint64_t hi, lo;

	if (n == 4)
		return rd32(t, p);
	hi = rd32(t, t->big_endian ? p : p + 4);
	lo = rd32(t, t->big_endian ? p + 4 : p);
	return hi << 32 | lo;
}

const unsigned char *gopcln_seg__at(const struct gopcln_seg *segs, size_t nsegs, uint64_t vaddr,
				    uint64_t len)
{
	size_t i;

	for (i = 0; i < nsegs; i++) {
		const struct gopcln_seg *s = &segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->size &&
		    len <= s->size - (vaddr - s->vaddr))
			return s->data + (vaddr - s->vaddr);
	}
	return NULL;
}

/* Bytes of a _func record before its pcdata[]. */
static size_t func_fixed(const struct gopcln *t)
{
	size_t entry = t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize;

	return entry + 8 * 4 + (t->ver >= GOPCLN_GO120 ? 4 : 0) + 4;
}

/* Offset of funcdata[] in a record of npcdata pcdata (1.16: pointer-aligned in the table). */
static uint64_t funcdata_at(const struct gopcln *t, uint64_t rec_off, uint32_t npcdata)
{
	uint64_t o = func_fixed(t) + 4ull * npcdata;

	if (t->ver < GOPCLN_GO118 && t->ptrsize == 8) {
		uint64_t abs = (uint64_t)(t->pcln - t->tab) + rec_off + o;

		o += (8 - (abs & 7)) & 7;
	}
	return o;
}

/* functab pair i: entry pc and record offset (i <= nfunc; checked by open). */
static void functab(const struct gopcln *t, uint32_t i, uint64_t *entry, uint64_t *off)
{
	const unsigned char *p = t->pcln + 2ull * i * t->fieldsz;

	*entry = rdn(t, p, t->fieldsz);
	if (t->ver >= GOPCLN_GO118)
		*entry += t->text;
	*off = rdn(t, p + t->fieldsz, t->fieldsz);
}

/* Decode the record at offset off of pclntab (bounds checked by the caller). */
static void func_decode(const struct gopcln *t, uint64_t off, struct gopcln_func *f)
{
	const unsigned char *r = t->pcln + off;
	const unsigned char *u = r + (t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize);
	const unsigned char *b = u + 32;

	f->name = (const char *)t->funcnames + rd32(t, u);
	f->args = (int32_t)rd32(t, u + 4);
	f->deferreturn = rd32(t, u + 8);
	f->pcsp = rd32(t, u + 12);
	f->pcfile = rd32(t, u + 16);
	f->pcln = rd32(t, u + 20);
	f->npcdata = rd32(t, u + 24);
	f->cu_offset = rd32(t, u + 28);
	f->start_line = 0;
	if (t->ver >= GOPCLN_GO120) {
		f->start_line = (int32_t)rd32(t, b);
		b += 4;
	}
	f->funcid = b[0];
	f->flag = b[1];
	f->nfuncdata = b[3];
	f->rec = r;
	f->rec_len = funcdata_at(t, off, f->npcdata) +
		     (uint64_t)f->nfuncdata * (t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize);
}

/* Check record i fully (open): 0 or -EINVAL with the message. */
static int func_check(struct gopcln *t, uint32_t i, uint64_t entry, uint64_t off)
{
	const size_t fixed = func_fixed(t);
	struct gopcln_func f;
	uint64_t own, nameoff, need;

	if (off > t->pcln_len || t->pcln_len - off < fixed)
		return fail(t, -EINVAL, "function %u: record at %#llx outside the table", i,
			    (unsigned long long)off);
	own = rdn(t, t->pcln + off, t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize);
	if (t->ver >= GOPCLN_GO118)
		own += t->text;
	if (own != entry)
		return fail(t, -EINVAL, "function %u: entry %#llx differs from the functab's %#llx",
			    i, (unsigned long long)own, (unsigned long long)entry);
	func_decode(t, off, &f);
	need = funcdata_at(t, off, f.npcdata) +
	       (uint64_t)f.nfuncdata * (t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize);
	if (f.npcdata > t->pcln_len || need > t->pcln_len - off)
		return fail(t, -EINVAL, "function %u: record of %llu bytes outside the table", i,
			    (unsigned long long)need);
	nameoff = (uint64_t)(f.name - (const char *)t->funcnames);
	if (nameoff >= t->funcnames_len ||
	    !memchr(f.name, '\0', t->funcnames_len - (size_t)nameoff))
		return fail(t, -EINVAL, "function %u: name offset %#llx outside funcnametab", i,
			    (unsigned long long)nameoff);
	return 0;
}

static int name_cmp(const void *a, const void *b, void *arg)
{
	const struct gopcln_name *x = a, *y = b;
	const char *names = arg;
	int c = strcmp(names + x->nameoff, names + y->nameoff);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int gopcln__open(struct gopcln *t, const void *p, size_t len, uint64_t text)
{
	const unsigned char *b = p;
	uint64_t w[8], prev = 0, entry, off;
	uint32_t magic_le, magic_be, magic, i;
	unsigned nw, k;
	size_t hdr;
	int err;

	memset(t, 0, sizeof(*t));
	if (!b || len < 16)
		return fail(t, -EINVAL, "pclntab of %zu bytes: shorter than its header", len);
	magic_le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
	magic_be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (magic_le == GOPCLN_MAGIC_112 || magic_be == GOPCLN_MAGIC_112)
		return fail(t, -ENOTSUP,
			    "pclntab of Go 1.2-1.15 (magic 0xfffffffb): "
			    "only Go 1.16 and later are supported");
	switch (magic_le) {
	case GOPCLN_MAGIC_116:
	case GOPCLN_MAGIC_118:
	case GOPCLN_MAGIC_120:
		magic = magic_le;
		break;
	default:
		magic = magic_be;
		t->big_endian = true;
	}
	switch (magic) {
	case GOPCLN_MAGIC_116:
		t->ver = GOPCLN_GO116;
		break;
	case GOPCLN_MAGIC_118:
		t->ver = GOPCLN_GO118;
		break;
	case GOPCLN_MAGIC_120:
		t->ver = GOPCLN_GO120;
		break;
	default:
		return fail(t, -EINVAL, "not a Go pclntab: magic %#x", magic_le);
	}
	if (b[4] || b[5] || (b[6] != 1 && b[6] != 2 && b[6] != 4) || (b[7] != 4 && b[7] != 8))
		return fail(t, -EINVAL, "pclntab header: pads %u %u, quantum %u, pointer size %u",
			    b[4], b[5], b[6], b[7]);
	t->quantum = b[6];
	t->ptrsize = b[7];
	t->fieldsz = t->ver >= GOPCLN_GO118 ? 4 : t->ptrsize;
	nw = t->ver >= GOPCLN_GO118 ? 8 : 7;
	hdr = 8 + (size_t)nw * t->ptrsize;
	if (len < hdr)
		return fail(t, -EINVAL, "pclntab of %zu bytes: shorter than its header", len);
	for (k = 0; k < nw; k++)
		w[k] = rdn(t, b + 8 + k * t->ptrsize, t->ptrsize);
	if (nw == 7) { /* no textStart: align the offsets with 1.18's */
		memmove(&w[3], &w[2], 5 * sizeof(w[0]));
		w[2] = 0;
	}
	if (w[0] == 0 || w[0] >= UINT32_MAX || w[1] >= UINT32_MAX)
		return fail(t, -EINVAL, "pclntab header: %llu functions, %llu files",
			    (unsigned long long)w[0], (unsigned long long)w[1]);
	t->nfunc = (uint32_t)w[0];
	t->nfiles = (uint32_t)w[1];
	t->text = t->ver >= GOPCLN_GO118 ? (text ? text : w[2]) : 0;
	/* funcnametab, cutab, filetab, pctab, pclntab: in this order, each up to the next */
	if (w[3] < hdr || w[3] > w[4] || w[4] > w[5] || w[5] > w[6] || w[6] > w[7] || w[7] > len)
		return fail(t, -EINVAL,
			    "pclntab header: offsets %#llx %#llx %#llx %#llx %#llx out of order "
			    "or past %#zx",
			    (unsigned long long)w[3], (unsigned long long)w[4],
			    (unsigned long long)w[5], (unsigned long long)w[6],
			    (unsigned long long)w[7], len);
	t->tab = b;
	t->len = len;
	t->funcnames = b + w[3];
	t->funcnames_len = (size_t)(w[4] - w[3]);
	t->cutab = b + w[4];
	t->cutab_len = (size_t)(w[5] - w[4]);
	t->filetab = b + w[5];
	t->filetab_len = (size_t)(w[6] - w[5]);
	t->pctab = b + w[6];
	t->pctab_len = (size_t)(w[7] - w[6]);
	t->pcln = b + w[7];
	t->pcln_len = len - (size_t)w[7];
	if ((uint64_t)t->nfunc + 1 > t->pcln_len / (2ull * t->fieldsz))
		return fail(t, -EINVAL, "pclntab: functab of %u functions past the table's end",
			    t->nfunc);
	for (i = 0; i <= t->nfunc; i++) {
		functab(t, i, &entry, &off);
		if (entry < prev || (t->ver >= GOPCLN_GO118 && entry < t->text))
			return fail(t, -EINVAL, "function %u: entry %#llx out of order", i,
				    (unsigned long long)entry);
		prev = entry;
		if (i < t->nfunc) {
			err = func_check(t, i, entry, off);
			if (err)
				return err;
		}
	}
	functab(t, 0, &t->min_pc, &off);
	functab(t, t->nfunc, &t->max_pc, &off);
	if (t->max_pc - t->min_pc > GOPCLN_TEXT_MAX)
		return fail(t, -EINVAL,
			    "pclntab: functions span %#llx bytes of text, more than %#llx",
			    (unsigned long long)(t->max_pc - t->min_pc),
			    (unsigned long long)GOPCLN_TEXT_MAX);

	t->by_name = malloc((size_t)t->nfunc * sizeof(*t->by_name));
	if (!t->by_name)
		return fail(t, -ENOMEM, "pclntab: no memory for %u names", t->nfunc);
	for (i = 0; i < t->nfunc; i++) {
		struct gopcln_func f;

		functab(t, i, &entry, &off);
		func_decode(t, off, &f);
		t->by_name[i].nameoff = (uint32_t)(f.name - (const char *)t->funcnames);
		t->by_name[i].idx = i;
	}
	qsort_r(t->by_name, t->nfunc, sizeof(*t->by_name), name_cmp, (void *)t->funcnames);
	return 0;
}

void gopcln__close(struct gopcln *t)
{
	free(t->by_name);
	t->by_name = NULL;
	t->nfunc = 0;
}

void gopcln__set_data(struct gopcln *t, const struct gopcln_seg *segs, size_t nsegs,
		      uint64_t gofunc)
{
	t->segs = segs;
	t->nsegs = nsegs;
	t->gofunc = gofunc;
}

int gopcln__func(const struct gopcln *t, uint32_t i, struct gopcln_func *f)
{
	uint64_t off, end;

	if (!t->by_name || i >= t->nfunc)
		return -ENOENT;
	functab(t, i + 1, &end, &off);
	functab(t, i, &f->entry, &off);
	f->end = end;
	func_decode(t, off, f);
	f->idx = i;
	return 0;
}

int gopcln__func_at(const struct gopcln *t, uint64_t pc, struct gopcln_func *f)
{
	uint32_t lo = 0, hi;
	uint64_t e, off;

	if (!t->by_name || pc < t->min_pc || pc >= t->max_pc)
		return -ENOENT;
	hi = t->nfunc; /* the last function whose entry <= pc is in [lo, hi) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		functab(t, mid, &e, &off);
		if (e <= pc)
			lo = mid;
		else
			hi = mid;
	}
	gopcln__func(t, lo, f);
	return pc < f->end ? 0 : -ENOENT;
}

int gopcln__func_by_name(const struct gopcln *t, const char *name, struct gopcln_func *f)
{
	size_t lo = 0, hi;

	if (!t->by_name || !name)
		return -ENOENT;
	hi = t->nfunc; /* the first entry >= name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp((const char *)t->funcnames + t->by_name[mid].nameoff, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->nfunc || strcmp((const char *)t->funcnames + t->by_name[lo].nameoff, name))
		return -ENOENT;
	return gopcln__func(t, t->by_name[lo].idx, f);
}

/* A pc-value table being walked: [prev, pc) has val after a step. */
struct pcv {
	const unsigned char *p, *end;
	uint64_t pc, stop;
	int32_t val;
	bool first;
};

static int pcv_init(const struct gopcln *t, struct pcv *it, uint32_t off,
		    const struct gopcln_func *f)
{
	if (off >= t->pctab_len)
		return -EINVAL;
	it->p = t->pctab + off;
	it->end = t->pctab + t->pctab_len;
	it->pc = f->entry;
	it->stop = f->end;
	it->val = -1;
	it->first = true;
	return 0;
}

static int varint(struct pcv *it, uint32_t *v)
{
	uint32_t x = 0;
	unsigned shift;

	for (shift = 0; shift < 35; shift += 7) {
		unsigned char c;

		if (it->p >= it->end)
			return -EINVAL;
		c = *it->p++;
		x |= (uint32_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

/* One step: 1 (the value it->val holds up to it->pc), 0 at the end, -EINVAL. */
static int pcv_step(const struct gopcln *t, struct pcv *it)
{
	uint32_t uv, pcd;

	if (it->pc >= it->stop && !it->first)
		return 0; /* the function's end: whatever follows is not its */
	if (it->p >= it->end)
		return -EINVAL;
	if (*it->p == 0 && !it->first)
		return 0;
	if (varint(it, &uv) || varint(it, &pcd))
		return -EINVAL;
	it->val = (int32_t)((uint32_t)it->val + ((uv & 1) ? ~(uv >> 1) : (uv >> 1)));
	it->pc += (uint64_t)pcd * t->quantum;
	it->first = false;
	return 1;
}

int gopcln__pcvalue(const struct gopcln *t, const struct gopcln_func *f, uint32_t off, uint64_t pc,
		    int32_t *val)
{
	struct pcv it;
	int r;

	*val = -1;
	if (pc < f->entry || pc >= f->end)
		return -ENOENT;
	if (!off)
		return 0;
	if (pcv_init(t, &it, off, f))
		return -EINVAL;
	while ((r = pcv_step(t, &it)) == 1) {
		if (pc < it.pc) {
			*val = it.val;
			return 0;
		}
	}
	return r < 0 ? r : 0;
}

/* File number fileno of f's compilation unit: 0 and *file (NULL: none), or -EINVAL. */
static int file_of(const struct gopcln *t, const struct gopcln_func *f, int32_t fileno,
		   const char **file)
{
	uint64_t idx;
	uint32_t off;

	*file = NULL;
	if (fileno < 0 || f->cu_offset == UINT32_MAX)
		return 0;
	idx = (uint64_t)f->cu_offset + (uint32_t)fileno;
	if (idx >= t->cutab_len / 4)
		return -EINVAL;
	off = rd32(t, t->cutab + idx * 4);
	if (off == UINT32_MAX)
		return 0;
	if (off >= t->filetab_len || !memchr(t->filetab + off, '\0', t->filetab_len - off))
		return -EINVAL;
	*file = (const char *)t->filetab + off;
	return 0;
}

/* The position at pc in f. */
static int pos_in(const struct gopcln *t, const struct gopcln_func *f, uint64_t pc,
		  struct gopcln_pos *pos)
{
	int32_t fileno;
	int err;

	pos->file = NULL;
	pos->line = -1;
	err = gopcln__pcvalue(t, f, f->pcfile, pc, &fileno);
	if (!err)
		err = gopcln__pcvalue(t, f, f->pcln, pc, &pos->line);
	if (!err)
		err = file_of(t, f, fileno, &pos->file);
	return err;
}

int gopcln__pos(const struct gopcln *t, uint64_t pc, struct gopcln_pos *pos,
		struct gopcln_func *fout)
{
	struct gopcln_func f;
	int err;

	pos->file = NULL;
	pos->line = -1;
	err = gopcln__func_at(t, pc, &f);
	if (err)
		return err;
	if (fout)
		*fout = f;
	return pos_in(t, &f, pc, pos);
}

/* pcdata[k] of f: a pctab offset, 0 when absent. */
static uint32_t pcdata(const struct gopcln *t, const struct gopcln_func *f, unsigned k)
{
	if (k >= f->npcdata)
		return 0;
	return rd32(t, f->rec + func_fixed(t) + 4 * k);
}

/* funcdata[k] of f: 0 and *addr (0: none), or -ENODATA when it cannot be placed. */
static int funcdata(const struct gopcln *t, const struct gopcln_func *f, unsigned k, uint64_t *addr)
{
	uint64_t o = funcdata_at(t, (uint64_t)(f->rec - t->pcln), f->npcdata);
	uint32_t v;

	*addr = 0;
	if (k >= f->nfuncdata)
		return 0;
	if (t->ver < GOPCLN_GO118) {
		*addr = rdn(t, f->rec + o + (size_t)k * t->ptrsize, t->ptrsize);
		return 0;
	}
	v = rd32(t, f->rec + o + 4 * k);
	if (v == UINT32_MAX)
		return 0;
	if (!t->gofunc)
		return -ENODATA;
	*addr = t->gofunc + v;
	return 0;
}

int gopcln__frames(const struct gopcln *t, uint64_t pc, struct gopcln_frame *frames, size_t max,
		   bool *partial)
{
	const size_t esz = t->ver >= GOPCLN_GO120 ? 16 : 20;
	struct gopcln_func f;
	struct gopcln_pos pos;
	uint64_t tree = 0, cur = pc;
	uint32_t ixtab;
	int32_t ix = -1;
	size_t n = 0;
	unsigned depth;
	int err;

	if (partial)
		*partial = false;
	if (!max)
		return -EINVAL;
	err = gopcln__pos(t, pc, &pos, &f);
	if (err)
		return err;
	ixtab = pcdata(t, &f, GOPCLN_PCDATA_INLTREEINDEX);
	if (ixtab) {
		err = gopcln__pcvalue(t, &f, ixtab, cur, &ix);
		if (err)
			return err;
	}
	if (ix >= 0 && (funcdata(t, &f, GOPCLN_FUNCDATA_INLTREE, &tree) || !tree || !t->segs)) {
		if (partial)
			*partial = true; /* inlined here, but the tree is out of reach */
		ix = -1;
	}
	for (depth = 0; ix >= 0; depth++) {
		const unsigned char *e;
		uint32_t nameoff;
		int32_t ppc;

		if (depth >= GOPCLN_MAX_INLINE)
			return -EINVAL; /* a loop in the tree */
		if (n + 1 >= max) {
			if (partial)
				*partial = true;
			break;
		}
		e = gopcln_seg__at(t->segs, t->nsegs, tree + (uint64_t)ix * esz, esz);
		if (!e)
			return -EINVAL;
		nameoff = rd32(t, e + (esz == 16 ? 4 : 12));
		ppc = (int32_t)rd32(t, e + (esz == 16 ? 8 : 16));
		if (nameoff >= t->funcnames_len ||
		    !memchr(t->funcnames + nameoff, '\0', t->funcnames_len - nameoff) || ppc < 0 ||
		    (uint64_t)ppc >= f.end - f.entry)
			return -EINVAL;
		frames[n].name = (const char *)t->funcnames + nameoff;
		frames[n].pos = pos;
		frames[n].inlined = true;
		n++;
		cur = f.entry + (uint32_t)ppc;
		err = pos_in(t, &f, cur, &pos);
		if (!err)
			err = gopcln__pcvalue(t, &f, ixtab, cur, &ix);
		if (err)
			return err;
	}
	frames[n].name = f.name;
	frames[n].pos = pos;
	frames[n].inlined = false;
	return (int)(n + 1);
}

/* Does the table's path s name FILE: the same, or ending in "/" FILE. */
static bool file_match(const char *s, size_t slen, const char *file, size_t flen)
{
	if (slen == flen)
		return !memcmp(s, file, flen);
	return slen > flen && s[slen - flen - 1] == '/' && !memcmp(s + slen - flen, file, flen);
}

struct lr_state {
	uint32_t offs[GOPCLN_MAX_FILE_MATCH];
	unsigned n;
	int32_t last_fileno;
	bool have_last, last_match;
};

static bool lr_file(const struct gopcln *t, const struct gopcln_func *f, struct lr_state *s,
		    int32_t fileno, int *err)
{
	uint64_t idx;
	uint32_t off;
	unsigned i;

	if (s->have_last && fileno == s->last_fileno)
		return s->last_match;
	s->have_last = true;
	s->last_fileno = fileno;
	s->last_match = false;
	if (fileno < 0)
		return false;
	idx = (uint64_t)f->cu_offset + (uint32_t)fileno;
	if (idx >= t->cutab_len / 4) {
		*err = -EINVAL;
		return false;
	}
	off = rd32(t, t->cutab + idx * 4);
	for (i = 0; i < s->n; i++)
		if (s->offs[i] == off)
			s->last_match = true;
	return s->last_match;
}

int gopcln__line_ranges(const struct gopcln *t, const char *file, int32_t line,
			int (*fn)(void *arg, const struct gopcln_range *r), void *arg)
{
	struct lr_state s;
	const char *p;
	size_t flen;
	uint32_t i;
	int count = 0, err = 0, r;

	if (!t->by_name || !file || !*file)
		return -EINVAL;
	flen = strlen(file);
	memset(&s, 0, sizeof(s));
	for (p = gopcln__file_next(t, NULL); p; p = gopcln__file_next(t, p)) {
		if (!file_match(p, strlen(p), file, flen))
			continue;
		if (s.n == GOPCLN_MAX_FILE_MATCH)
			return -E2BIG;
		s.offs[s.n++] = (uint32_t)(p - (const char *)t->filetab);
	}
	if (!s.n)
		return 0;
	for (i = 0; i < t->nfunc; i++) {
		struct gopcln_range pend = {.func = i};
		struct gopcln_func f;
		struct pcv fi, li;
		uint64_t flo, llo;
		int fs, ls;

		gopcln__func(t, i, &f);
		if (f.cu_offset == UINT32_MAX || !f.pcfile || !f.pcln)
			continue;
		if (pcv_init(t, &fi, f.pcfile, &f) || pcv_init(t, &li, f.pcln, &f))
			return -EINVAL;
		s.have_last = false;
		flo = llo = f.entry;
		ls = pcv_step(t, &li);
		while ((fs = pcv_step(t, &fi)) == 1) {
			uint64_t fhi = fi.pc < f.end ? fi.pc : f.end;

			if (flo < fhi && lr_file(t, &f, &s, fi.val, &err)) {
				while (ls == 1 && li.pc <= flo) {
					llo = li.pc;
					ls = pcv_step(t, &li);
				}
				while (ls == 1 && llo < fhi) {
					uint64_t lo = llo > flo ? llo : flo;
					uint64_t hi = li.pc < fhi ? li.pc : fhi;

					if (li.val == line && lo < hi) {
						if (pend.hi && pend.hi == lo) {
							pend.hi = hi;
						} else {
							if (pend.hi) {
								count++;
								r = fn ? fn(arg, &pend) : 0;
								if (r)
									return r;
							}
							pend.lo = lo;
							pend.hi = hi;
						}
					}
					if (li.pc >= fhi)
						break;
					llo = li.pc;
					ls = pcv_step(t, &li);
				}
			}
			if (err)
				return err;
			flo = fhi;
		}
		if (fs < 0 || ls < 0)
			return -EINVAL;
		if (pend.hi) {
			count++;
			r = fn ? fn(arg, &pend) : 0;
			if (r)
				return r;
		}
	}
	return count;
}

struct lp_state {
	uint64_t *pcs;
	size_t max, n;
	uint32_t last;
	bool any;
};

static int lp_one(void *arg, const struct gopcln_range *r)
{
	struct lp_state *s = arg;

	if (s->any && r->func == s->last)
		return 0;
	s->any = true;
	s->last = r->func;
	if (s->n < s->max)
		s->pcs[s->n] = r->lo;
	s->n++;
	return 0;
}

int gopcln__line_pcs(const struct gopcln *t, const char *file, int32_t line, uint64_t *pcs,
		     size_t max)
{
	struct lp_state s = {.pcs = pcs, .max = max};
	int r = gopcln__line_ranges(t, file, line, lp_one, &s);

	if (r < 0)
		return r;
	return s.n > INT32_MAX ? INT32_MAX : (int)s.n;
}

const char *gopcln__file_next(const struct gopcln *t, const char *prev)
{
	const char *base = (const char *)t->filetab, *end = base + t->filetab_len, *p, *nul;

	if (!t->filetab_len)
		return NULL;
	if (!prev) {
		p = base;
	} else {
		if (prev < base || prev >= end)
			return NULL;
		nul = memchr(prev, '\0', (size_t)(end - prev));
		if (!nul)
			return NULL;
		p = nul + 1;
	}
	if (p >= end || !memchr(p, '\0', (size_t)(end - p)))
		return NULL;
	return p;
}
