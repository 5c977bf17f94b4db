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
 * This file only reads DIEs (struct dw_rust_shape); stub/program/dwarf.c
 * copies the types they name.  Every DWARF value is checked (offsets within the type's size, at
 * most DW_MAX_MEMBERS variants, bounded nesting): corrupt input gives a plain struct, never a crash
 * (tests/fuzz/fuzz_dwarf.c).
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

/* The template type parameter of die called name (its DW_AT_type is the type). */
static bool template_param(Dwarf_Die *die, const char *name, Dwarf_Die *out)
{
	Dwarf_Die ch;

	if (dwarf_child(die, &ch))
		return false;
	do {
		const char *n = dwarf_diename(&ch);

		if (dwarf_tag(&ch) == DW_TAG_template_type_parameter && n && !strcmp(n, name)) {
			*out = ch;
			return true;
		}
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

/* &str or &[T]: {data_ptr, length}. */
static bool fat_ptr(Dwarf_Die *die, uint64_t *ptr_off, uint64_t *len_off, Dwarf_Die *ptr)
{
	Dwarf_Die m;

	return member_die(die, "data_ptr", ptr, ptr_off) && member_die(die, "length", &m, len_off);
}

/* The variants of the variant part vp into out (size: the enum's). */
static void variants(Dwarf_Die *vp, uint64_t size, struct dw_rust_shape *out)
{
	Dwarf_Attribute a;
	Dwarf_Die d, ch, dt;
	uint64_t off;

	/* The discriminant: a member the variant part names (none: one variant). */
	if (dwarf_attr(vp, DW_AT_discr, &a) && dwarf_formref_die(&a, &d) && member_loc(&d, &off) &&
	    type_die(&d, &dt)) {
		Dwarf_Word sz;

		if (dwarf_attr(&dt, DW_AT_byte_size, &a) && !dwarf_formudata(&a, &sz) &&
		    (sz == 1 || sz == 2 || sz == 4 || sz == 8) && off + sz <= size) {
			out->discr_off = off;
			out->discr_size = (uint32_t)sz;
		}
	}
	if (dwarf_child(vp, &ch))
		return;
	do {
		Dwarf_Die m;
		Dwarf_Word w;

		if (dwarf_tag(&ch) != DW_TAG_variant || dwarf_child(&ch, &m))
			continue;
		while (dwarf_tag(&m) != DW_TAG_member)
			if (dwarf_siblingof(&m, &m) != 0)
				break;
		if (dwarf_tag(&m) != DW_TAG_member || out->nvariants == DW_MAX_MEMBERS ||
		    !member_loc(&m, &off) || off >= size)
			continue;
		out->v[out->nvariants].member = m;
		out->v[out->nvariants].offset = off;
		if (dwarf_attr(&ch, DW_AT_discr_value, &a) && !dwarf_formudata(&a, &w))
			out->v[out->nvariants].discr = w;
		else
			out->v[out->nvariants].dflt = true;
		out->nvariants++;
	} while (dwarf_siblingof(&ch, &ch) == 0);
}

bool dw_int__rust_shape(Dwarf_Die *die, const char *name, uint64_t size, struct dw_rust_shape *out)
{
	Dwarf_Die ch, p;
	uint64_t po, lo;

	memset(out, 0, sizeof(*out));
	if (!name)
		return false;
	if (!dwarf_child(die, &ch))
		do {
			if (dwarf_tag(&ch) == DW_TAG_variant_part) {
				out->kind = DWT_RUST_ENUM;
				variants(&ch, size, out);
				return true;
			}
		} while (dwarf_siblingof(&ch, &ch) == 0);
	if ((!strcmp(name, "&str") || !strcmp(name, "&mut str")) && fat_ptr(die, &po, &lo, &p)) {
		out->kind = DWT_RUST_STR;
	} else if ((!strncmp(name, "&[", 2) || !strncmp(name, "&mut [", 6)) &&
		   fat_ptr(die, &po, &lo, &p)) {
		out->kind = DWT_RUST_VEC;
		out->has_elem = type_die(&p, &out->elem_of) &&
				dwarf_tag(&out->elem_of) == DW_TAG_pointer_type;
	} else if (!strcmp(name, "String") && member_die(die, "vec", &p, &po) &&
		   type_die(&p, &ch) && vec_shape(&ch, &lo, &out->len_off)) {
		out->kind = DWT_RUST_STR;
		out->len_off += po;
		po += lo;
		lo = out->len_off;
	} else if (!strncmp(name, "Vec<", 4) && vec_shape(die, &po, &lo)) {
		out->kind = DWT_RUST_VEC;
		out->has_elem = template_param(die, "T", &out->elem_of);
	} else {
		return false;
	}
	if (po + 8 > size || lo + 8 > size)
		return false; /* not the shape its name says: a plain struct */
	out->ptr_off = po;
	out->len_off = lo;
	return true;
}
