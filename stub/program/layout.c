/* SPDX-License-Identifier: MIT */
/*
 * stub/program/layout.c - file offsets, link-time and run-time addresses of a
 * mapped ELF file (stub/program/layout.h says why this is one module).
 *
 * Every conversion between the three is here, so no caller adds or
 * subtracts p_offset, p_vaddr or a mapping's offset by hand: the DWARF
 * cache's load bias (stub/program/dwarf_cache.c), the code read for `trace
 * -return` (stub/trace/retprobe.c) and the SDT site lookup
 * (stub/program/sdt.c) go through it.  bpf/probe.c, a room below, computes
 * its uprobe offset the same way as layout__map_offset, from the mapping.
 */
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <string.h>

#include "stub/program/layout.h"
#include "stub/program/target.h"

#define PAGE_MASK 0xfffull

int layout__read(struct layout *l, Elf *elf)
{
	size_t i, nph;

	memset(l, 0, sizeof(*l));
	if (!elf || elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	for (i = 0; i < nph && l->nsegs < LAYOUT_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* p_vaddr and p_offset must agree modulo the page, or nothing maps it. */
		if ((ph.p_vaddr & PAGE_MASK) != (ph.p_offset & PAGE_MASK) ||
		    ph.p_offset + ph.p_filesz < ph.p_offset || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;
		l->segs[l->nsegs++] = (struct layout_seg){ph.p_vaddr, ph.p_offset, ph.p_filesz,
							  ph.p_memsz, ph.p_flags};
	}
	return 0;
}

/* How well segment s explains mapping m: 0 not at all, higher is better. */
static int seg_fit(const struct layout_seg *s, const struct tgt_map *m)
{
	bool mx = m->perms[2] == 'x', mw = m->perms[1] == 'w';
	bool sx = s->flags & PF_X, sw = s->flags & PF_W;

	if (m->offset < (s->offset & ~PAGE_MASK) || m->offset >= s->offset + s->filesz)
		return 0;
	if (mx != sx)
		return 0;
	if (mw == sw)
		return 2;
	return !mw && sw ? 1 : 0; /* RELRO: a writable segment's page made read-only */
}

int layout__map_bias(const struct layout *l, const struct tgt_map *m, uint64_t *bias)
{
	const struct layout_seg *best = NULL;
	int fit = 0;
	size_t i;

	for (i = 0; i < l->nsegs; i++) {
		int f = seg_fit(&l->segs[i], m);

		if (f > fit) {
			fit = f;
			best = &l->segs[i];
		}
	}
	if (!best)
		return -ENOENT;
	/* m->start holds file offset m->offset, which is link-time
	 * p_vaddr + (m->offset - p_offset) in that segment. */
	*bias = m->start - (best->vaddr + (m->offset - best->offset));
	return 0;
}

int layout__vaddr_to_offset(const struct layout *l, uint64_t vaddr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < l->nsegs; i++) {
		const struct layout_seg *s = &l->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*off = s->offset + (vaddr - s->vaddr);
			return 0;
		}
	}
	return -ENOENT;
}

int layout__offset_to_vaddr(const struct layout *l, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < l->nsegs; i++) {
		const struct layout_seg *s = &l->segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = s->vaddr + (off - s->offset);
			return 0;
		}
	}
	return -ENOENT;
}

int layout__map_offset(const struct tgt_map *m, uint64_t addr, uint64_t *off)
{
	if (addr < m->start || addr >= m->end || m->offset + (addr - m->start) < m->offset)
		return -ERANGE;
	*off = m->offset + (addr - m->start);
	return 0;
}
