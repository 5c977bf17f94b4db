/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwp.c - split DWARF units as images libdw can read (dwp.h).
 *
 * The unit index (.debug_cu_index) is a header, a hash table of S unit ids
 * with S row numbers beside it, then a table of N section ids and U rows of
 * N offsets, then U rows of N sizes:
 *
 *   v5: version (2 bytes) padding (2) N (4) U (4) S (4)
 *   v2: version (4)                   N (4) U (4) S (4)
 *   ids[S] (8 each)  rows[S] (4 each, 1-based, 0 empty)
 *   sect[N] (4 each)  off[U][N] (4 each)  size[U][N] (4 each)
 *
 * Every one of S, N, U is checked against the section before a table is
 * read; the row found is checked against U, each section id against the
 * known ones, and each contribution against the package's section when an
 * image is cut (dwp__image).  The id is found by walking the S slots (no
 * probing: a hostile table cannot make it loop).
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/dwp.h"
#include "stub/program/elfimg.h"

static const char *const v5_names[DWPS_N] = {
	[DWPS_INFO] = ".debug_info.dwo",
	[DWPS_ABBREV] = ".debug_abbrev.dwo",
	[DWPS_LINE] = ".debug_line.dwo",
	[DWPS_LOC] = ".debug_loclists.dwo",
	[DWPS_STR_OFFSETS] = ".debug_str_offsets.dwo",
	[DWPS_MACRO] = ".debug_macro.dwo",
	[DWPS_RNGLISTS] = ".debug_rnglists.dwo",
};

static const char *const v2_names[DWPS_N] = {
	[DWPS_INFO] = ".debug_info.dwo",       [DWPS_TYPES] = ".debug_types.dwo",
	[DWPS_ABBREV] = ".debug_abbrev.dwo",   [DWPS_LINE] = ".debug_line.dwo",
	[DWPS_LOC] = ".debug_loc.dwo",	       [DWPS_STR_OFFSETS] = ".debug_str_offsets.dwo",
	[DWPS_MACINFO] = ".debug_macinfo.dwo", [DWPS_MACRO] = ".debug_macro.dwo",
};

/* Section id (1..8) of an index version -> enum dwp_sect, or -1. */
static int sect_of(int version, uint32_t id)
{
	static const int v5[9] = {-1,	    DWPS_INFO,	      -1,	  DWPS_ABBREV,	DWPS_LINE,
				  DWPS_LOC, DWPS_STR_OFFSETS, DWPS_MACRO, DWPS_RNGLISTS};
	static const int v2[9] = {-1,	    DWPS_INFO,	      DWPS_TYPES,   DWPS_ABBREV, DWPS_LINE,
				  DWPS_LOC, DWPS_STR_OFFSETS, DWPS_MACINFO, DWPS_MACRO};

	if (id > 8)
		return -1;
	return version == 5 ? v5[id] : v2[id];
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int dwp__find(const void *idx, size_t len, uint64_t id, struct dwp_unit *u, char *msg, size_t mlen)
{
	const uint8_t *b = idx;
	uint64_t ncols, nunits, nslots, need, i, row = 0;
	const uint8_t *ids, *rows, *sects, *offs, *sizes;
	int version;

	memset(u, 0, sizeof(*u));
	if (!b || len < 16) {
		rsp_buf__msgf(msg, mlen, ".debug_cu_index: shorter than its header");
		return -EINVAL;
	}
	version = b[0] | b[1] << 8;
	if (version != 5 && !(version == 2 && rd32(b) == 2)) {
		rsp_buf__msgf(msg, mlen, ".debug_cu_index: version %d not read", version);
		return -EINVAL;
	}
	ncols = rd32(b + 4);
	nunits = rd32(b + 8);
	nslots = rd32(b + 12);
	/* 16 + S*12 + N*4 + 2*U*N*4, every factor below 2^32: no 64-bit wrap. */
	need = 16 + nslots * 12 + ncols * 4 + 2 * nunits * ncols * 4;
	if (ncols > DWPS_N + 8 || need > len) {
		rsp_buf__msgf(msg, mlen,
			      ".debug_cu_index: %llu slots, %llu units of %llu sections do not fit "
			      "in %zu bytes",
			      (unsigned long long)nslots, (unsigned long long)nunits,
			      (unsigned long long)ncols, len);
		return -EINVAL;
	}
	ids = b + 16;
	rows = ids + nslots * 8;
	sects = rows + nslots * 4;
	offs = sects + ncols * 4;
	sizes = offs + nunits * ncols * 4;
	for (i = 0; i < nslots && !row; i++)
		if (rd64(ids + i * 8) == id)
			row = rd32(rows + i * 4);
	if (!row) {
		rsp_buf__msgf(msg, mlen, "unit 0x%llx is not in the package",
			      (unsigned long long)id);
		return -ENOENT;
	}
	if (row > nunits) {
		rsp_buf__msgf(msg, mlen, ".debug_cu_index: row %llu of %llu units",
			      (unsigned long long)row, (unsigned long long)nunits);
		return -EINVAL;
	}
	u->version = version;
	for (i = 0; i < ncols; i++) {
		int s = sect_of(version, rd32(sects + i * 4));

		if (s < 0 || u->has[s]) {
			rsp_buf__msgf(msg, mlen, ".debug_cu_index: section id %u not read",
				      rd32(sects + i * 4));
			return -EINVAL;
		}
		u->has[s] = 1;
		u->off[s] = rd32(offs + ((row - 1) * ncols + i) * 4);
		u->size[s] = rd32(sizes + ((row - 1) * ncols + i) * 4);
	}
	if (!u->has[DWPS_INFO] || !u->has[DWPS_ABBREV]) {
		rsp_buf__msgf(msg, mlen, ".debug_cu_index: unit 0x%llx has no info or abbrev",
			      (unsigned long long)id);
		return -EINVAL;
	}
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int dwp__image(const struct elfimg *pkg, const struct dwp_unit *u, const void *addr, size_t alen,
	       uint8_t **out, size_t *olen, char *msg, size_t mlen)
{
	struct elfimg_out secs[DWPS_N + 4];
	size_t n = 0, i;
	const struct elfimg_sec *s;

	*out = NULL;
	if (!u) {
		/* A .dwo: its own .dwo sections, as they are. */
		for (i = 1; i < pkg->nsecs && n < DWPS_N + 2; i++) {
			s = &pkg->secs[i];
			if (!s->data || !ends_with(s->name, ".dwo"))
				continue;
			secs[n++] = (struct elfimg_out){s->name, s->data, s->size, s->flags};
		}
	} else {
		const char *const *names = u->version == 5 ? v5_names : v2_names;

		for (i = 0; i < DWPS_N; i++) {
			if (!u->has[i] || !names[i])
				continue;
			s = elfimg__find(pkg, names[i]);
			if (!s || !s->data || u->off[i] > s->size ||
			    u->size[i] > s->size - u->off[i]) {
				rsp_buf__msgf(
					msg, mlen,
					"the package's %s does not hold the unit's %llu bytes "
					"at %llu",
					names[i], (unsigned long long)u->size[i],
					(unsigned long long)u->off[i]);
				return -EINVAL;
			}
			if (s->flags & SHF_COMPRESSED) {
				rsp_buf__msgf(msg, mlen, "the package's %s is compressed: not cut",
					      names[i]);
				return -EINVAL;
			}
			secs[n++] = (struct elfimg_out){names[i], s->data + u->off[i], u->size[i],
							s->flags};
		}
		s = elfimg__find(pkg, ".debug_str.dwo");
		if (s && s->data)
			secs[n++] = (struct elfimg_out){s->name, s->data, s->size, s->flags};
	}
	if (addr)
		secs[n++] = (struct elfimg_out){".debug_addr.dwo", addr, alen, 0};
	return elfimg__build(secs, n, out, olen);
}
