/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_mprint.c - the typed value printer (stub/views/mprint.c) over
 * hand-made frames (an R block and M blocks, as BPF would store them) and
 * hand-made DWARF types: exact text for C and Go values, <not collected>
 * for what a frame lacks, and the expression evaluator of tdump.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_COUNTERS
#include "rsp/buf.h"
#include "rsp/mexpr.h"
#include "stub/program/regs.h"
#include "stub/views/mprint.h"
#include "tests/unit/check.h"

#define DW_ATE_boolean	   0x02
#define DW_ATE_float	   0x04
#define DW_ATE_signed	   0x05
#define DW_ATE_signed_char 0x06
#define DW_ATE_unsigned	   0x07

/* DWARF register numbers */
#define DR_RAX 0
#define DR_RDX 1
#define DR_RCX 2
#define DR_RBX 3
#define DR_RSI 4
#define DR_RDI 5

/* ---- frames ---- */

struct fb {
	uint8_t b[8192];
	size_t n;
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fb_regs(struct fb *f, const uint64_t *gdb, size_t n)
{
	size_t i;

	f->b[f->n++] = 'R';
	memset(f->b + f->n, 0, REGS_G_SIZE);
	for (i = 0; i < n; i++)
		put_le(f->b + f->n + regs_offset((unsigned)i), gdb[i], 8);
	f->n += REGS_G_SIZE;
}

static void fb_mem(struct fb *f, uint64_t addr, const void *p, size_t len)
{
	f->b[f->n++] = 'M';
	put_le(f->b + f->n, addr, 8);
	put_le(f->b + f->n + 8, len, 2);
	memcpy(f->b + f->n + 10, p, len);
	f->n += 10 + len;
}

static void fb_word(struct fb *f, uint64_t addr, uint64_t v)
{
	uint8_t b[8];

	put_le(b, v, 8);
	fb_mem(f, addr, b, 8);
}

/* ---- types ---- */

/* Every hand-made type, kept as a scope keeps its types, freed with it at the end. */
static struct dw_scope all_types;

static struct dw_type *ty(enum dw_type_kind k, const char *name, uint64_t size)
{
	struct dw_type *t = calloc(1, sizeof(*t));

	t->next_alloc = all_types.alloc;
	all_types.alloc = t;
	t->kind = k;
	t->name = name ? strdup(name) : NULL;
	t->size = size;
	t->count = -1;
	return t;
}

static struct dw_type *base(const char *name, uint64_t size, int enc)
{
	struct dw_type *t = ty(DWT_BASE, name, size);

	t->encoding = enc;
	return t;
}

static struct dw_type *ptr(struct dw_type *to, const char *name)
{
	struct dw_type *t = ty(DWT_PTR, name, 8);

	t->target = to;
	return t;
}

static void member(struct dw_type *t, const char *name, uint64_t off, struct dw_type *mt)
{
	t->members = realloc(t->members, (t->nmembers + 1) * sizeof(*t->members));
	t->members[t->nmembers].name = strdup(name);
	t->members[t->nmembers].offset = off;
	t->members[t->nmembers].type = mt;
	t->nmembers++;
}

static struct dw_loc reg_loc(int dwreg)
{
	struct dw_loc l = {.npieces = 1};

	l.pieces[0] = (struct dw_piece){DWP_REG, dwreg, 0, 0};
	return l;
}

static struct dw_loc regs_loc(const int *dwregs, size_t n)
{
	struct dw_loc l = {.npieces = n};
	size_t i;

	for (i = 0; i < n; i++)
		l.pieces[i] = (struct dw_piece){DWP_REG, dwregs[i], 0, 8};
	return l;
}

/* ---- the checks ---- */

static struct rsp_buf out;

static const char *val(const struct dw_type *t, const struct dw_loc *l,
		       const struct mprint_frame *f, bool go)
{
	rsp_buf__reset(&out);
	mprint__value(&out, t, l, f, go);
	return out.data ? out.data : "";
}

#define EXPECT(got, want) CHECKF(!strcmp((got), (want)), "got '%s', want '%s'", (got), (want))

/* C: struct item { int id; const char *label; struct point pos; char tag[8]; } */
static struct dw_type *c_item(void)
{
	struct dw_type *lng = base("long", 8, DW_ATE_signed);
	struct dw_type *chr = base("char", 1, DW_ATE_signed_char);
	struct dw_type *pt = ty(DWT_STRUCT, "point", 16), *it = ty(DWT_STRUCT, "item", 40);
	struct dw_type *tag = ty(DWT_ARRAY, NULL, 8);

	member(pt, "x", 0, lng);
	member(pt, "y", 8, lng);
	tag->target = chr;
	tag->count = 8;
	member(it, "id", 0, base("int", 4, DW_ATE_signed));
	member(it, "label", 8, ptr(chr, NULL));
	member(it, "pos", 16, pt);
	member(it, "tag", 32, tag);
	return it;
}

static void test_c(void)
{
	uint64_t regs[17] = {0};
	struct dw_type *it = c_item(), *chr = base("char", 1, DW_ATE_signed_char);
	struct dw_loc l;
	struct mprint_frame v;
	struct tf_frame tf;
	struct fb *f = calloc(1, sizeof(*f));
	uint8_t item[40] = {0};

	regs[5] = 0x1000;	 /* rdi: it */
	regs[4] = 0x2000;	 /* rsi: name */
	regs[3] = (uint64_t)-42; /* rdx: n */
	regs[2] = 0x3000;	 /* rcx: a pointer nothing collected */
	fb_regs(f, regs, 17);
	put_le(item, 1, 4);
	put_le(item + 8, 0x2100, 8);
	put_le(item + 16, 10, 8);
	put_le(item + 24, (uint64_t)-20, 8);
	memcpy(item + 32, "one", 4);
	fb_mem(f, 0x1000, item, sizeof(item));
	fb_mem(f, 0x2000, "alpha", 6);
	fb_mem(f, 0x2100, "fi\"rst\n", 8);
	tf = (struct tf_frame){1, f->b, f->n};
	mprint__frame(&v, &tf);

	l = reg_loc(DR_RDI);
	EXPECT(val(ptr(it, NULL), &l, &v, false), "0x1000 -> {id = 1, label = \"fi\\\"rst\\n\", "
						  "pos = {x = 10, y = -20}, tag = \"one\"}");
	l = reg_loc(DR_RSI);
	EXPECT(val(ptr(chr, NULL), &l, &v, false), "\"alpha\"");
	l = reg_loc(DR_RDX);
	EXPECT(val(base("long", 8, DW_ATE_signed), &l, &v, false), "-42");
	EXPECT(val(base("unsigned char", 1, 0x08), &l, &v, false), "214 '\\326'");
	/* a pointer whose pointee no block holds: the address only; a string: not collected */
	l = reg_loc(DR_RCX);
	EXPECT(val(ptr(it, NULL), &l, &v, false), "0x3000");
	EXPECT(val(ptr(chr, NULL), &l, &v, false), "<not collected>");
	/* a struct at an address, partly collected: only tag (+32) lies in a block */
	rsp_buf__reset(&out);
	mprint__value_at(&out, it, 0x1000 - 32, &v, false);
	EXPECT(out.data,
	       "{id = <not collected>, label = <not collected>, pos = {x = <not collected>, "
	       "y = <not collected>}, tag = \"\\001\"}");
	/* optimized out */
	l = (struct dw_loc){.npieces = 1, .why = "optimized out at this pc"};
	l.pieces[0].kind = DWP_UNAVAIL;
	EXPECT(val(base("int", 4, DW_ATE_signed), &l, &v, false),
	       "<optimized out: optimized out at this pc>");
	/* a frame without registers */
	tf = (struct tf_frame){1, f->b + 1 + REGS_G_SIZE, f->n - 1 - REGS_G_SIZE};
	mprint__frame(&v, &tf);
	l = reg_loc(DR_RDI);
	EXPECT(val(ptr(it, NULL), &l, &v, false), "<not collected>");
	free(f);
}

static void test_c_base(void)
{
	uint64_t regs[17] = {0};
	struct dw_type *e = ty(DWT_ENUM, "color", 4);
	struct fb *f = calloc(1, sizeof(*f));
	struct mprint_frame v;
	struct tf_frame tf;
	struct dw_loc l = reg_loc(DR_RAX);
	double d = 2.5;

	memcpy(&regs[0], &d, 8);
	fb_regs(f, regs, 17);
	tf = (struct tf_frame){1, f->b, f->n};
	mprint__frame(&v, &tf);
	EXPECT(val(base("double", 8, DW_ATE_float), &l, &v, false), "2.5");
	e->enums = calloc(2, sizeof(*e->enums));
	e->enums[0] = (struct dw_enumerator){strdup("RED"), 0};
	e->enums[1] = (struct dw_enumerator){strdup("BLUE"), 2};
	e->nenums = 2;
	regs[0] = 2;
	f->n = 0;
	fb_regs(f, regs, 17);
	tf = (struct tf_frame){1, f->b, f->n};
	mprint__frame(&v, &tf);
	EXPECT(val(e, &l, &v, false), "BLUE");
	EXPECT(val(base("bool", 1, DW_ATE_boolean), &l, &v, true), "true");
	regs[0] = 7;
	f->n = 0;
	fb_regs(f, regs, 17);
	tf = (struct tf_frame){1, f->b, f->n};
	mprint__frame(&v, &tf);
	EXPECT(val(e, &l, &v, false), "7");
	free(f);
}

/* Go types as the Go toolchain describes them. */
static struct dw_type *go_string(void)
{
	struct dw_type *s = ty(DWT_GO_STRING, "string", 16);

	member(s, "str", 0, ptr(base("uint8", 1, DW_ATE_unsigned), "*uint8"));
	member(s, "len", 8, base("int", 8, DW_ATE_signed));
	return s;
}

static const struct dw_type *int64_type;

static const struct dw_type *fake_go_type(void *ctx, uint64_t rtype, char *name, size_t nlen)
{
	if (rtype == 0x7000) {
		snprintf(name, nlen, "int64");
		return int64_type;
	}
	snprintf(name, nlen, "not in the test's table");
	return NULL;
}

static void test_go(void)
{
	uint64_t regs[17] = {0};
	struct fb *f = calloc(1, sizeof(*f));
	struct dw_type *str = go_string(), *sl = ty(DWT_GO_SLICE, "[]string", 24);
	struct dw_type *pt = ty(DWT_STRUCT, "main.Point", 32),
		       *map = ty(DWT_GO_MAP, "map[string]int64", 8);
	struct dw_type *ef = ty(DWT_GO_EFACE, "interface {}", 16);
	struct dw_type *i64 = base("int64", 8, DW_ATE_signed);
	const int sreg[] = {DR_RAX, DR_RBX}, slreg[] = {DR_RCX, DR_RDI, DR_RSI};
	struct mprint_frame v;
	struct tf_frame tf;
	struct dw_loc l;
	uint8_t p[32] = {0};

	int64_type = i64;
	member(sl, "array", 0, ptr(str, NULL));
	member(sl, "len", 8, i64);
	member(sl, "cap", 16, i64);
	sl->target = str;
	member(pt, "X", 0, i64);
	member(pt, "Y", 8, i64);
	member(pt, "Label", 16, str);
	map->target = ty(DWT_STRUCT, "runtime.hmap", 48);
	member(map->target, "count", 0, i64);
	member(ef, "_type", 0, ptr(ty(DWT_STRUCT, "runtime._type", 48), NULL));
	member(ef, "data", 8, ptr(ty(DWT_VOID, NULL, 0), NULL));

	regs[0] = 0x5000; /* rax, rbx: name */
	regs[1] = 5;
	regs[2] = 0x6000; /* rcx, rdi, rsi: tags */
	regs[5] = 3;
	regs[4] = 4;
	regs[3] = 0x6800; /* rdx: p */
	regs[8] = 0x6900; /* r8: m */
	fb_regs(f, regs, 17);
	fb_mem(f, 0x5000, "req-1", 5);
	fb_word(f, 0x6000, 0x5100);
	fb_word(f, 0x6008, 1);
	fb_word(f, 0x6010, 0x5200);
	fb_word(f, 0x6018, 2);
	fb_word(f, 0x6020, 0x5300);
	fb_word(f, 0x6028, 3);
	fb_mem(f, 0x5100, "a", 1);
	fb_mem(f, 0x5200, "bb", 2);
	put_le(p, 1, 8);
	put_le(p + 8, 2, 8);
	put_le(p + 16, 0x5400, 8);
	put_le(p + 24, 4, 8);
	fb_mem(f, 0x6800, p, 32);
	fb_mem(f, 0x5400, "pt-1", 4);
	fb_word(f, 0x6900, 4);
	fb_word(f, 0x6a00, 0x7000); /* an eface {int64, 0x6b00} */
	fb_word(f, 0x6a08, 0x6b00);
	fb_word(f, 0x6b00, 101);
	fb_word(f, 0x6c00, 0x7100); /* one whose type the lookup does not know */
	fb_word(f, 0x6c08, 0x6b00);
	tf = (struct tf_frame){1, f->b, f->n};
	mprint__frame(&v, &tf);
	v.go_type = fake_go_type;

	l = regs_loc(sreg, 2);
	EXPECT(val(str, &l, &v, true), "\"req-1\"");
	/* the third string's bytes were not collected */
	l = regs_loc(slreg, 3);
	EXPECT(val(sl, &l, &v, true), "[]string len 3 cap 4 [\"a\", \"bb\", <not collected>]");
	l = reg_loc(DR_RDX);
	EXPECT(val(ptr(pt, "*main.Point"), &l, &v, true),
	       "0x6800 -> {X: 1, Y: 2, Label: \"pt-1\"}");
	l = reg_loc(8);
	EXPECT(val(map, &l, &v, true), "map[string]int64 len 4");
	rsp_buf__reset(&out);
	mprint__value_at(&out, ef, 0x6a00, &v, true);
	EXPECT(out.data, "(int64) 101");
	rsp_buf__reset(&out);
	mprint__value_at(&out, ef, 0x6c00, &v, true);
	EXPECT(out.data, "<dynamic type at 0x7100 unknown: not in the test's table> data 0x6b00");
	/* a map whose pointer was not collected */
	rsp_buf__reset(&out);
	mprint__value_at(&out, map, 0x6c08 + 8, &v, true);
	EXPECT(out.data, "map[string]int64 <not collected>");

	/* the evaluator, names from a scope */
	{
		struct dw_scope *sc = calloc(1, sizeof(*sc));
		struct mx_expr *e = malloc(sizeof(*e));
		static const struct {
			const char *in, *want;
		} cases[] = {
			{"name", "name = \"req-1\"\n"},
			{"p.Label", "p.Label = \"pt-1\"\n"},
			{"p.Y", "p.Y = 2\n"},
			{"(*p).X", "(*p).X = 1\n"},
			{"tags[1]", "tags[1] = \"bb\"\n"},
			{"tags[3]", "tags[3] = index 3 out of range (len 3)\n"},
			{"p.Nope", "p.Nope = main.Point has no member 'Nope'\n"},
			{"nope", "nope = 'nope' is not in scope in main.handle\n"},
			{"$rdx", "$rdx = 0x6800\n"},
			{"$args",
			 "name = \"req-1\"\np = 0x6800 -> {X: 1, Y: 2, Label: \"pt-1\"}\n"},
		};
		char msg[128];
		size_t i;

		snprintf(sc->func, sizeof(sc->func), "main.handle");
		sc->go = true;
		sc->nvars = 3;
		snprintf(sc->vars[0].name, 64, "name");
		sc->vars[0].param = true;
		sc->vars[0].type = str;
		sc->vars[0].loc = regs_loc(sreg, 2);
		snprintf(sc->vars[1].name, 64, "p");
		sc->vars[1].param = true;
		sc->vars[1].type = ptr(pt, "*main.Point");
		sc->vars[1].loc = reg_loc(DR_RDX);
		snprintf(sc->vars[2].name, 64, "tags");
		sc->vars[2].type = sl; /* a local: not in $args */
		sc->vars[2].loc = regs_loc(slreg, 3);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			rsp_buf__reset(&out);
			if (!CHECKF(!mx_parse_value(cases[i].in, strlen(cases[i].in), e, msg,
						    sizeof(msg)),
				    "parse %s: %s", cases[i].in, msg))
				continue;
			mprint__expr(&out, e, cases[i].in, sc, &v);
			EXPECT(out.data, cases[i].want);
		}
		rsp_buf__reset(&out);
		mprint__args_summary(&out, sc, &v, 160);
		EXPECT(out.data, "name=\"req-1\", p=0x6800 -> {...}");
		free(e);
		free(sc);
	}
	free(f);
}

int main(void)
{
	rsp_buf__init(&out);
	test_c();
	test_c_base();
	test_go();
	rsp_buf__free(&out);
	dw_scope__free(&all_types);
	return check_summary("mprint");
}
