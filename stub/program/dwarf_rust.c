/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_rust.c - Rust's types as rustc describes them in DWARF,
 * recognised while the DWARF layer copies a type (stub/program/dwarf.c).
 *
 * rustc describes its library types as plain structs, so without this a
 * `&str` would print as {data_ptr, length} and a Vec as five nested
 * structs.  What is recognised, by name and shape (and checked: a shape
 * that does not fit leaves a plain struct):
 *  - `&str` / `&mut str` {data_ptr, length}: DWT_RUST_STR;
 *  - `String` {vec: Vec<u8>}: DWT_RUST_STR, its Vec's pointer and length;
 *  - `Vec<T, A>` {buf: RawVec, len}: DWT_RUST_VEC of T (the template
 *    parameter), the pointer found by following buf's `inner`, `ptr` and
 *    `pointer` members to the raw pointer (rustc 1.63's RawVec {ptr:
 *    Unique<T>} and 1.8x's RawVec {inner: RawVecInner {ptr: Unique<u8>}}
 *    alike);
 *  - `&[T]` / `&mut [T]` {data_ptr, length}: DWT_RUST_VEC of T;
 *  - a struct holding a DW_TAG_variant_part (every enum with data, Option
 *    and Result among them): DWT_RUST_ENUM, one member per variant with its
 *    DW_AT_discr_value, or the default variant (none: a niche-optimised
 *    enum's dataful variant, e.g. Some of Option<&T>), and the
 *    discriminant's place from the variant part's DW_AT_discr member.
 * Every DWARF value is checked (offsets within the type's size, at most
 * DW_MAX_MEMBERS variants, bounded nesting): corrupt input gives a plain
 * struct, never a crash (tests/fuzz/fuzz_dwarf.c).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "stub/program/dwarf.h"
#include "stub/program/dwarf_int.h"

#define NEST_MAX 8 /* struct levels followed to a Vec's raw pointer */

static bool member_loc(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	*off = 0;
	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return true; /* a union's or a variant part's first member */
	if (dwarf_formudata(&a, &w))
		return false;
	*off = w;
	return true;
}

/* The child member of struct die called name: true with *m and its offset. */
static bool member_die(Dwarf_Die *die, const char *name, Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Die ch;

	if (dwarf_child(die, &ch))
		return false;
	do {
		const char *n = dwarf_diename(&ch);

		if (dwarf_tag(&ch) == DW_TAG_member && n && !strcmp(n, name)) {
			*m = ch;
			return member_loc(&ch, off);
		}
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

/* The type DIE that die's DW_AT_type names, typedefs and qualifiers stripped. */
static bool type_die(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	int i;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
		return false;
	for (i = 0; i < NEST_MAX; i++) {
		int tag = dwarf_tag(out);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type)
			return true;
		if (!dwarf_attr_integrate(out, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
			return false;
	}
	return false;
}

/*
 * From struct die, follow `inner`, `ptr`, `pointer` members (the first one
 * present at each level) to a pointer: its offset from die.
 */
static bool raw_ptr(Dwarf_Die *die, uint64_t *off)
{
	static const char *const path[] = {"inner", "ptr", "pointer"};
	Dwarf_Die cur = *die, m, t;
	uint64_t total = 0, o;
	int lvl;
	size_t i;

	for (lvl = 0; lvl < NEST_MAX; lvl++) {
		for (i = 0; i < sizeof(path) / sizeof(path[0]); i++)
			if (member_die(&cur, path[i], &m, &o))
				break;
		if (i == sizeof(path) / sizeof(path[0]) || !type_die(&m, &t))
			return false;
		total += o;
		if (dwarf_tag(&t) == DW_TAG_pointer_type) {
			*off = total;
			return true;
		}
		if (dwarf_tag(&t) != DW_TAG_structure_type)
			return false;
		cur = t;
	}
	return false;
}

/* Vec<T, A> at die: its pointer's and len's offsets. */
static bool vec_shape(Dwarf_Die *die, uint64_t *ptr_off, uint64_t *len_off)
{
	Dwarf_Die m, buf;
	uint64_t o, p;

	if (!member_die(die, "len", &m, len_off) || !member_die(die, "buf", &m, &o) ||
	    !type_die(&m, &buf) || dwarf_tag(&buf) != DW_TAG_structure_type || !raw_ptr(&buf, &p))
		return false;
	*ptr_off = o + p;
	return true;
}

/* The type named by die's template type parameter called name. */
static struct dw_type *template_param(struct dw_conv *c, Dwarf_Die *die, const char *name,
				      int depth)
{
	Dwarf_Die ch;

	if (dwarf_child(die, &ch))
		return NULL;
	do {
		const char *n = dwarf_diename(&ch);

		if (dwarf_tag(&ch) == DW_TAG_template_type_parameter && n && !strcmp(n, name))
			return dw_int__type_of(c, &ch, DW_AT_type, depth);
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return NULL;
}

/* &str or &[T]: {data_ptr, length}. */
static bool fat_ptr(Dwarf_Die *die, uint64_t *ptr_off, uint64_t *len_off, Dwarf_Die *ptr)
{
	Dwarf_Die m;

	return member_die(die, "data_ptr", ptr, ptr_off) && member_die(die, "length", &m, len_off);
}

/* The variants of the variant part vp into t's members. */
static void variants(struct dw_conv *c, Dwarf_Die *vp, struct dw_type *t, int depth)
{
	Dwarf_Attribute a;
	Dwarf_Die d, ch, dt;
	uint64_t off;

	/* The discriminant: a member the variant part names (none: one variant). */
	if (dwarf_attr(vp, DW_AT_discr, &a) && dwarf_formref_die(&a, &d) && member_loc(&d, &off) &&
	    type_die(&d, &dt)) {
		Dwarf_Word sz;

		if (dwarf_attr(&dt, DW_AT_byte_size, &a) && !dwarf_formudata(&a, &sz) &&
		    (sz == 1 || sz == 2 || sz == 4 || sz == 8) && off + sz <= t->size) {
			t->discr_off = off;
			t->discr_size = (uint32_t)sz;
		}
	}
	if (dwarf_child(vp, &ch))
		return;
	do {
		struct dw_member *v;
		Dwarf_Die m;
		Dwarf_Word w;

		if (dwarf_tag(&ch) != DW_TAG_variant || dwarf_child(&ch, &m))
			continue;
		while (dwarf_tag(&m) != DW_TAG_member)
			if (dwarf_siblingof(&m, &m) != 0)
				break;
		if (dwarf_tag(&m) != DW_TAG_member || t->nmembers == DW_MAX_MEMBERS ||
		    !member_loc(&m, &off) || off >= t->size)
			continue;
		if (!t->members) {
			t->members = calloc(DW_MAX_MEMBERS, sizeof(*t->members));
			if (!t->members)
				return;
		}
		v = &t->members[t->nmembers++];
		v->name = dwarf_diename(&m) ? strndup(dwarf_diename(&m), DW_NAME_MAX) : NULL;
		v->offset = off;
		v->type = dw_int__type_of(c, &m, DW_AT_type, depth + 1);
		if (dwarf_attr(&ch, DW_AT_discr_value, &a) && !dwarf_formudata(&a, &w))
			v->discr = w;
		else
			v->dflt = true;
	} while (dwarf_siblingof(&ch, &ch) == 0);
}

bool dw_int__rust_type(struct dw_conv *c, Dwarf_Die *die, struct dw_type *t, int depth)
{
	Dwarf_Die ch, p;
	uint64_t po, lo;

	if (t->kind != DWT_STRUCT || !t->name)
		return false;
	if (!dwarf_child(die, &ch))
		do {
			if (dwarf_tag(&ch) == DW_TAG_variant_part) {
				t->kind = DWT_RUST_ENUM;
				variants(c, &ch, t, depth);
				return true;
			}
		} while (dwarf_siblingof(&ch, &ch) == 0);
	if ((!strcmp(t->name, "&str") || !strcmp(t->name, "&mut str")) &&
	    fat_ptr(die, &po, &lo, &p)) {
		t->kind = DWT_RUST_STR;
	} else if ((!strncmp(t->name, "&[", 2) || !strncmp(t->name, "&mut [", 6)) &&
		   fat_ptr(die, &po, &lo, &p)) {
		Dwarf_Die pt;

		t->kind = DWT_RUST_VEC;
		if (type_die(&p, &pt) && dwarf_tag(&pt) == DW_TAG_pointer_type)
			t->target = dw_int__type_of(c, &pt, DW_AT_type, depth + 1);
	} else if (!strcmp(t->name, "String") && member_die(die, "vec", &p, &po) &&
		   type_die(&p, &ch) && vec_shape(&ch, &lo, &t->len_off)) {
		t->kind = DWT_RUST_STR;
		t->len_off += po;
		po += lo;
		lo = t->len_off;
	} else if (!strncmp(t->name, "Vec<", 4) && vec_shape(die, &po, &lo)) {
		t->kind = DWT_RUST_VEC;
		t->target = template_param(c, die, "T", depth + 1);
	} else {
		return false;
	}
	if (po + 8 > t->size || lo + 8 > t->size) {
		t->kind = DWT_STRUCT; /* not the shape its name says: a plain struct */
		t->target = NULL;
		return false;
	}
	t->ptr_off = po;
	t->len_off = lo;
	return true;
}
