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

/*
 * Can segment s be what mapping m maps?  Its page-aligned file range holds
 * m's offset, the exec bit matches (never changed after load), and a
 * writable mapping is of a writable segment (a read-only one may be a
 * RELRO part of one).
 */
static bool seg_fits(const struct layout_seg *s, const struct tgt_map *m)
{
	bool mx = m->perms[2] == 'x', mw = m->perms[1] == 'w';

	if (m->offset < (s->offset & ~PAGE_MASK) || m->offset >= s->offset + s->filesz)
		return false;
	return mx == !!(s->flags & PF_X) && (!mw || (s->flags & PF_W));
}

static uint64_t seg_bias(const struct layout_seg *s, const struct tgt_map *m)
{
	/* m->start holds file offset m->offset: link-time p_vaddr + (m->offset - p_offset). */
	return m->start - (s->vaddr + (m->offset - s->offset));
}

int layout__map_bias(const struct layout *l, const struct tgt_map *m, uint64_t *bias)
{
	const struct layout_seg *best = NULL;
	bool ambiguous = false;
	size_t i;

	for (i = 0; i < l->nsegs; i++) {
		if (!seg_fits(&l->segs[i], m))
			continue;
		if (!best)
			best = &l->segs[i];
		else if (seg_bias(&l->segs[i], m) != seg_bias(best, m))
			ambiguous = true;
	}
	if (!best)
		return -ENOENT;
	*bias = seg_bias(best, m);
	return ambiguous ? -EAGAIN : 0;
}

int layout__file_bias(const struct layout *l, const struct tgt_map *maps, size_t n,
		      const struct tgt_map *m, uint64_t *bias)
{
	size_t i;
	int err = layout__map_bias(l, m, bias);

	if (err != -EAGAIN)
		return err;
	/* One file, one bias: its code mapping's, which no other segment shares. */
	for (i = 0; i < n; i++)
		if (maps[i].inode == m->inode && !strcmp(maps[i].path, m->path) &&
		    maps[i].perms[2] == 'x' && !layout__map_bias(l, &maps[i], bias))
			return 0;
	return -ENOENT;
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
