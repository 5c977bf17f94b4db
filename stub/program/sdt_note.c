/* SPDX-License-Identifier: MIT */
/*
 * stub/program/sdt_note.c - SDT note parsing; pure (see sdt_note.h).
 *
 * An ELF note is namesz, descsz, type (4 bytes each), then the name and
 * the descriptor, each padded to 4 bytes.  Every size read from the buffer
 * is compared with what is left of it in 64-bit arithmetic, so a size near
 * 2^32 cannot wrap an offset; a note is used only if its name is exactly
 * "stapsdt\0", its type is 3 and its descriptor holds the three addresses
 * and three NUL-terminated strings, the last one ending the descriptor (as
 * GDB requires; padding after it is outside descsz).
 */
#include <errno.h>
#include <string.h>

#include "stub/program/sdt_note.h"

static uint64_t get_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

/* Fill n from one descriptor; -EINVAL when it is not a well-formed SDT note. */
static int parse_desc(const unsigned char *d, uint64_t dlen, unsigned asz, struct sdt_note *n)
{
	const char *s = (const char *)d + 3 * asz, *end = (const char *)d + dlen;
	const char *nul;

	if (dlen < 3ull * asz + 3)
		return -EINVAL;
	n->pc = get_le(d, asz);
	n->base = get_le(d + asz, asz);
	n->semaphore = get_le(d + 2 * asz, asz);
	n->provider = s;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (!nul || nul == s)
		return -EINVAL;
	n->name = s = nul + 1;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (!nul || nul == s)
		return -EINVAL;
	n->args = s = nul + 1;
	if (s == end)
		return -EINVAL;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (nul != end - 1)
		return -EINVAL;
	return 0;
}

int sdt_note__parse(const void *buf, size_t len, unsigned addr_size,
		    int (*fn)(void *arg, const struct sdt_note *n), void *arg, size_t *bad)
{
	static const char owner[] = SDT_NOTE_OWNER;
	const unsigned char *p = buf;
	uint64_t off = 0;
	size_t nbad = 0;
	int good = 0, ret;

	if (addr_size != 4 && addr_size != 8)
		return -EINVAL;
	while (len - off >= 12) {
		uint64_t namesz = get_le(p + off, 4), descsz = get_le(p + off + 4, 4);
		uint64_t type = get_le(p + off + 8, 4);
		uint64_t name_pad = (namesz + 3) & ~3ull, desc_pad = (descsz + 3) & ~3ull;
		const unsigned char *name = p + off + 12, *desc;
		struct sdt_note n;

		off += 12;
		if (name_pad > len - off || desc_pad > len - off - name_pad) {
			nbad++; /* a note that does not fit: nothing after it can be trusted */
			break;
		}
		desc = name + name_pad;
		off += name_pad + desc_pad;
		if (type != SDT_NOTE_TYPE || namesz != sizeof(owner) ||
		    memcmp(name, owner, sizeof(owner)))
			continue; /* another owner's note */
		if (parse_desc(desc, descsz, addr_size, &n)) {
			nbad++;
			continue;
		}
		if (good == INT32_MAX)
			break;
		good++;
		ret = fn(arg, &n);
		if (ret) {
			good = ret;
			break;
		}
	}
	if (bad)
		*bad = nbad;
	return good;
}

void sdt_note__adjust(struct sdt_note *n, uint64_t base_now)
{
	uint64_t delta = base_now - n->base;

	n->pc += delta;
	if (n->semaphore)
		n->semaphore += delta;
	n->base = base_now;
}

int sdt_note__file_offset(const struct sdt_seg *segs, size_t nsegs, uint64_t vaddr, uint64_t len,
			  bool need_exec, bool need_write, uint64_t *off)
{
	size_t i;

	for (i = 0; i < nsegs; i++) {
		const struct sdt_seg *s = &segs[i];

		if ((need_exec && !s->exec) || (need_write && !s->write))
			continue;
		if (vaddr < s->vaddr || vaddr - s->vaddr > s->filesz ||
		    len > s->filesz - (vaddr - s->vaddr))
			continue;
		if (s->offset + (vaddr - s->vaddr) < s->offset)
			continue; /* wraps */
		*off = s->offset + (vaddr - s->vaddr);
		return 0;
	}
	return -ENOENT;
}
