/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_types.c - the DWARF layer's types: copied out of libdw
 * into a scope (struct dw_type, stub/program/dwarf.h), so a scope outlives
 * the file it came from, and named for the user.
 *
 * A scope's types are copied once per DIE (memoised by offset and depth)
 * and bounded: DW_TYPE_DEPTH levels below a variable, DW_MAX_MEMBERS
 * members or enumerators, MAX_TYPES types a scope.  Go's and Rust's library
 * types, which their compilers describe as structs, are recognised here
 * (Go by the toolchain's DW_AT_go_kind, Rust by shape in
 * stub/program/dwarf_rust.c) and become kinds of their own, so deep
 * collection and the printers treat a string as a string.  Hostile DWARF
 * can make a type its own target: every walk here is bounded by depth.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/dwarf.h"
#include "stub/program/dwarf_int.h"

/* The Go toolchain's own attributes (cmd/internal/dwarf). */
#define DW_AT_go_kind  0x2900
#define DW_AT_go_elem  0x2902
#define GO_KIND_ARRAY  17
#define GO_KIND_CHAN   18
#define GO_KIND_IFACE  20
#define GO_KIND_MAP    21
#define GO_KIND_SLICE  23
#define GO_KIND_STRING 24
#define MAX_TYPES      512 /* types copied into one scope */

const struct dw_type *dw_type__strip(const struct dw_type *t)
{
	int n = 0;

	while (t && t->kind == DWT_TYPEDEF && t->target && n++ < 16)
		t = t->target;
	return t;
}

/*
 * Types are memoised by DIE, so hostile DWARF can make an anonymous pointer
 * or array its own target: the name is cut at DW_TYPE_DEPTH levels ("...").
 */
static const char *type_name(const struct dw_type *t, char *buf, size_t len, int depth)
{
	char inner[96];
	const struct dw_type *s;

	if (depth > DW_TYPE_DEPTH) {
		snprintf(buf, len, "...");
		return buf;
	}
	if (!t) {
		snprintf(buf, len, "void");
		return buf;
	}
	if (t->name) {
		s = dw_type__strip(t);
		if (s && (s->kind == DWT_STRUCT || s->kind == DWT_UNION) && t->kind == s->kind &&
		    !t->rust && !strchr(t->name, '.') && strcmp(t->name, "string") &&
		    t->name[0] != '[')
			snprintf(buf, len, "%s %s", s->kind == DWT_STRUCT ? "struct" : "union",
				 t->name);
		else
			snprintf(buf, len, "%s", t->name);
		return buf;
	}
	switch (t->kind) {
	case DWT_PTR:
		snprintf(buf, len, "%s *", type_name(t->target, inner, sizeof(inner), depth + 1));
		break;
	case DWT_ARRAY:
		snprintf(buf, len, "%s [%lld]",
			 type_name(t->target, inner, sizeof(inner), depth + 1),
			 (long long)t->count);
		break;
	case DWT_VOID:
		snprintf(buf, len, "void");
		break;
	default:
		snprintf(buf, len, "<anonymous>");
	}
	return buf;
}

const char *dw_type__name(const struct dw_type *t, char *buf, size_t len)
{
	return type_name(t, buf, len, 0);
}

/* ---- types ---- */

struct dw_conv {
	struct dw_scope *s;
	size_t ntypes;
	struct {
		Dwarf_Off off;
		int depth;
		struct dw_type *t;
	} memo[MAX_TYPES];
	size_t nmemo;
	bool go, rust;
};

static char *dup_name(Dwarf_Die *die)
{
	const char *n = dwarf_diename(die);

	return n ? strndup(n, DW_NAME_MAX) : NULL;
}

struct dw_conv *dw_int__conv_new(struct dw_scope *s, bool go)
{
	struct dw_conv *c = calloc(1, sizeof(*c));

	if (c) {
		c->s = s;
		c->go = go;
		c->rust = s->rust;
	}
	return c;
}

static int64_t go_kind(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(die, DW_AT_go_kind, &a) || dwarf_formudata(&a, &w))
		return -1;
	return (int64_t)w;
}

/* The type the DIE's DW_AT_type (or attribute at) names; NULL when none. */
struct dw_type *dw_int__type_of(struct dw_conv *c, Dwarf_Die *die, unsigned int at, int depth)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	if (!dwarf_attr_integrate(die, at, &a) || !dwarf_formref_die(&a, &t))
		return NULL;
	return dw_int__type_conv(c, &t, depth);
}

static void conv_members(struct dw_conv *c, Dwarf_Die *die, struct dw_type *t, int depth)
{
	Dwarf_Die ch;
	size_t cap = 0;

	if (dwarf_child(die, &ch))
		return;
	do {
		int tag = dwarf_tag(&ch);
		Dwarf_Attribute a;
		Dwarf_Word w;

		if (t->kind == DWT_ENUM && tag == DW_TAG_enumerator) {
			Dwarf_Sword sv;

			if (t->nenums == DW_MAX_MEMBERS)
				break;
			if (!cap) {
				t->enums = calloc(DW_MAX_MEMBERS, sizeof(*t->enums));
				if (!t->enums)
					return;
				cap = DW_MAX_MEMBERS;
			}
			t->enums[t->nenums].name = dup_name(&ch);
			if (dwarf_attr(&ch, DW_AT_const_value, &a) && !dwarf_formsdata(&a, &sv))
				t->enums[t->nenums].value = sv;
			t->nenums++;
			continue;
		}
		if (t->kind == DWT_ARRAY && tag == DW_TAG_subrange_type) {
			Dwarf_Sword sv;

			if (dwarf_attr(&ch, DW_AT_count, &a) && !dwarf_formudata(&a, &w))
				t->count = (int64_t)w;
			else if (dwarf_attr(&ch, DW_AT_upper_bound, &a) &&
				 !dwarf_formsdata(&a, &sv))
				t->count = sv + 1;
			break; /* the first dimension */
		}
		if (tag != DW_TAG_member || t->kind == DWT_ARRAY || t->kind == DWT_ENUM)
			continue;
		if (t->nmembers == DW_MAX_MEMBERS)
			break;
		if (!cap) {
			t->members = calloc(DW_MAX_MEMBERS, sizeof(*t->members));
			if (!t->members)
				return;
			cap = DW_MAX_MEMBERS;
		}
		t->members[t->nmembers].name = dup_name(&ch);
		if (dwarf_attr(&ch, DW_AT_data_member_location, &a) && !dwarf_formudata(&a, &w))
			t->members[t->nmembers].offset = w;
		t->members[t->nmembers].type = dw_int__type_of(c, &ch, DW_AT_type, depth + 1);
		t->nmembers++;
	} while (dwarf_siblingof(&ch, &ch) == 0);
}

const struct dw_member *dw_type__member(const struct dw_type *t, const char *name)
{
	size_t i;

	for (i = 0; t && i < t->nmembers; i++)
		if (t->members[i].name && !strcmp(t->members[i].name, name))
			return &t->members[i];
	return NULL;
}

/* Go's struct-shaped types, by DW_AT_go_kind and by the names the toolchain gives them. */
static void go_classify(struct dw_conv *c, Dwarf_Die *die, struct dw_type *t, int depth)
{
	int64_t k = go_kind(die);
	const struct dw_member *m;

	if (t->kind == DWT_STRUCT &&
	    (k == GO_KIND_STRING || (k < 0 && c->go && t->name && !strcmp(t->name, "string")))) {
		t->kind = DWT_GO_STRING;
		t->ptr_off = dw_type__member(t, "str") ? dw_type__member(t, "str")->offset : 0;
		t->len_off = dw_type__member(t, "len") ? dw_type__member(t, "len")->offset : 8;
	} else if (t->kind == DWT_STRUCT && (k == GO_KIND_SLICE || (k < 0 && c->go && t->name &&
								    !strncmp(t->name, "[]", 2)))) {
		t->kind = DWT_GO_SLICE;
		t->len_off = dw_type__member(t, "len") ? dw_type__member(t, "len")->offset : 8;
		m = dw_type__member(t, "array");
		t->ptr_off = m ? m->offset : 0;
		if (m && m->type && m->type->kind == DWT_PTR)
			t->target = m->type->target;
		else
			t->target = dw_int__type_of(c, die, DW_AT_go_elem, depth + 1);
	} else if (t->kind == DWT_STRUCT && t->name && !strcmp(t->name, "runtime.iface")) {
		t->kind = DWT_GO_IFACE;
	} else if (t->kind == DWT_STRUCT && t->name && !strcmp(t->name, "runtime.eface")) {
		t->kind = DWT_GO_EFACE;
	} else if (k == GO_KIND_MAP || (c->go && t->name && !strncmp(t->name, "map[", 4))) {
		t->kind = DWT_GO_MAP;
	} else if (k == GO_KIND_CHAN || (c->go && t->name && !strncmp(t->name, "chan ", 5))) {
		t->kind = DWT_GO_CHAN;
	}
	/* A Go map or chan is a pointer: keep what it points to as target. */
	if ((t->kind == DWT_GO_MAP || t->kind == DWT_GO_CHAN) && !t->size)
		t->size = 8;
}

/* Rust's strings, vectors and enums (stub/program/dwarf_rust.c reads their shape). */
static bool rust_type(struct dw_conv *c, Dwarf_Die *die, struct dw_type *t, int depth)
{
	struct dw_rust_shape *r = malloc(sizeof(*r));
	size_t i;

	if (!r || !dw_int__rust_shape(die, t->name, t->size, r)) {
		free(r);
		return false;
	}
	t->kind = (enum dw_type_kind)r->kind;
	t->ptr_off = r->ptr_off;
	t->len_off = r->len_off;
	t->discr_off = r->discr_off;
	t->discr_size = r->discr_size;
	if (r->has_elem)
		t->target = dw_int__type_of(c, &r->elem_of, DW_AT_type, depth + 1);
	if (r->nvariants)
		t->members = calloc(r->nvariants, sizeof(*t->members));
	for (i = 0; t->members && i < r->nvariants; i++) {
		struct dw_member *m = &t->members[t->nmembers++];

		m->name = dup_name(&r->v[i].member);
		m->offset = r->v[i].offset;
		m->type = dw_int__type_of(c, &r->v[i].member, DW_AT_type, depth + 1);
		m->discr = r->v[i].discr;
		m->dflt = r->v[i].dflt;
	}
	free(r);
	return true;
}

struct dw_type *dw_int__type_conv(struct dw_conv *c, Dwarf_Die *die, int depth)
{
	struct dw_type *t;
	Dwarf_Attribute a;
	Dwarf_Word w;
	Dwarf_Off off = dwarf_dieoffset(die);
	int tag = dwarf_tag(die);
	size_t i;

	/* cv-qualifiers and atomic: what they qualify (the layer reads, never writes). */
	if (tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	    tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type) {
		t = depth < DW_TYPE_DEPTH * 2 ? dw_int__type_of(c, die, DW_AT_type, depth) : NULL;
		if (t)
			return t;
	}
	for (i = 0; i < c->nmemo; i++)
		if (c->memo[i].off == off && (!c->memo[i].t->cut || c->memo[i].depth <= depth))
			return c->memo[i].t;
	if (c->ntypes >= MAX_TYPES)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->next_alloc = c->s->alloc;
	c->s->alloc = t;
	c->ntypes++;
	if (c->nmemo < MAX_TYPES) {
		c->memo[c->nmemo].off = off;
		c->memo[c->nmemo].depth = depth;
		c->memo[c->nmemo].t = t;
		c->nmemo++;
	}
	t->count = -1;
	t->rust = c->rust;
	t->name = dup_name(die);
	if (dwarf_attr(die, DW_AT_byte_size, &a) && !dwarf_formudata(&a, &w))
		t->size = w;
	switch (tag) {
	case DW_TAG_base_type:
		t->kind = DWT_BASE;
		if (dwarf_attr(die, DW_AT_encoding, &a) && !dwarf_formudata(&a, &w))
			t->encoding = (int)w;
		return t;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		t->kind = DWT_PTR;
		if (!t->size)
			t->size = 8;
		break;
	case DW_TAG_structure_type:
		t->kind = DWT_STRUCT;
		break;
	case DW_TAG_union_type:
		t->kind = DWT_UNION;
		break;
	case DW_TAG_class_type:
		t->kind = DWT_CLASS;
		break;
	case DW_TAG_array_type:
		t->kind = DWT_ARRAY;
		break;
	case DW_TAG_typedef:
		t->kind = DWT_TYPEDEF;
		break;
	case DW_TAG_enumeration_type:
		t->kind = DWT_ENUM;
		break;
	case DW_TAG_subroutine_type:
		t->kind = DWT_FUNC;
		return t;
	case DW_TAG_unspecified_type:
		t->kind = DWT_VOID;
		return t;
	default:
		t->kind = DWT_UNKNOWN;
		return t;
	}
	if (depth >= DW_TYPE_DEPTH) {
		t->cut = true;
		return t;
	}
	if (t->kind == DWT_PTR || t->kind == DWT_TYPEDEF || t->kind == DWT_ARRAY) {
		t->target = dw_int__type_of(c, die, DW_AT_type, depth + 1);
		if (!t->target && t->kind == DWT_PTR) {
			/* void *: a VOID type of its own. */
			struct dw_type *v = calloc(1, sizeof(*v));

			if (v) {
				v->kind = DWT_VOID;
				v->next_alloc = c->s->alloc;
				c->s->alloc = v;
				t->target = v;
			}
		}
	}
	if (c->rust && t->kind == DWT_STRUCT && rust_type(c, die, t, depth))
		return t;
	if (t->kind != DWT_PTR && t->kind != DWT_TYPEDEF)
		conv_members(c, die, t, depth);
	if (t->kind == DWT_ARRAY && !t->size && t->target && t->count > 0)
		t->size = t->target->size * (uint64_t)t->count;
	if (t->kind == DWT_TYPEDEF && !t->size && t->target)
		t->size = t->target->size;
	go_classify(c, die, t, depth);
	return t;
}

void dw_scope__free(struct dw_scope *s)
{
	struct dw_type *t, *n;
	size_t i;

	if (!s)
		return;
	for (t = s->alloc; t; t = n) {
		n = t->next_alloc;
		for (i = 0; i < t->nmembers; i++)
			free(t->members[i].name);
		for (i = 0; i < t->nenums; i++)
			free(t->enums[i].name);
		free(t->members);
		free(t->enums);
		free(t->name);
		free(t);
	}
	s->alloc = NULL;
	s->nvars = 0;
}
