/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_layout.c - stub/program/layout.c on the segment tables GNU
 * ld, gold and lld write (read off real binaries, tests/targets/deep_c-*),
 * and their mappings as /proc/PID/maps shows them at a PIE base.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#define CHECK_COUNTERS
#include "stub/program/layout.h"
#include "stub/program/target.h"
#include "tests/unit/check.h"

#define BASE 0x555555554000ull

static struct tgt_map map(uint64_t start, uint64_t end, uint64_t off, const char *perms)
{
	struct tgt_map m;

	memset(&m, 0, sizeof(m));
	m.start = start;
	m.end = end;
	m.offset = off;
	snprintf(m.perms, sizeof(m.perms), "%s", perms);
	return m;
}

/* The bias of m among the file's mappings maps[n]. */
static void bias_is(const struct layout *l, const struct tgt_map *maps, size_t n, struct tgt_map m,
		    uint64_t want, const char *what)
{
	uint64_t b = 0;
	int err = layout__file_bias(l, maps, n, &m, &b);

	CHECKF(!err && b == want, "%s: bias %d 0x%llx, want 0x%llx", what, err,
	       (unsigned long long)b, (unsigned long long)want);
}

int main(void)
{
	/* clang -fuse-ld=lld: R at 0, R E at 0x890/0x1890, RW (RELRO) and RW. */
	struct layout lld = {4,
			     {{0, 0, 0x884, 0x884, PF_R},
			      {0x1890, 0x890, 0x330, 0x330, PF_R | PF_X},
			      {0x2bc0, 0xbc0, 0x200, 0x200, PF_R | PF_W},
			      {0x3dc0, 0xdc0, 0x98, 0xa8, PF_R | PF_W}}};
	/* gold: R E at 0 (text and rodata), RW at 0xdb0/0x1db0. */
	struct layout gold = {
		2, {{0, 0, 0xb60, 0xb60, PF_R | PF_X}, {0x1db0, 0xdb0, 0x2f0, 0x308, PF_R | PF_W}}};
	/* GNU ld: every segment at its own page, vaddr == offset. */
	struct layout ld = {4,
			    {{0, 0, 0x7b0, 0x7b0, PF_R},
			     {0x1000, 0x1000, 0x315, 0x315, PF_R | PF_X},
			     {0x2000, 0x2000, 0x14c, 0x14c, PF_R},
			     {0x3dc0, 0x2dc0, 0x2e0, 0x2f8, PF_R | PF_W}}};
	uint64_t v = 0, off = 0;
	struct tgt_map m;

	/* The mappings the kernel makes of them at BASE (RELRO already read-only). */
	struct tgt_map lldm[4] = {map(BASE, BASE + 0x1000, 0, "r--p"),
				  map(BASE + 0x1000, BASE + 0x2000, 0, "r-xp"),
				  map(BASE + 0x2000, BASE + 0x3000, 0, "r--p"),
				  map(BASE + 0x3000, BASE + 0x4000, 0, "rw-p")};
	struct tgt_map ldm[4] = {map(BASE, BASE + 0x1000, 0, "r--p"),
				 map(BASE + 0x1000, BASE + 0x2000, 0x1000, "r-xp"),
				 map(BASE + 0x2000, BASE + 0x3000, 0x2000, "r--p"),
				 map(BASE + 0x3000, BASE + 0x4000, 0x2000, "r--p")};

	for (size_t i = 0; i < 4; i++)
		lldm[i].inode = ldm[i].inode = 42;
	/* lld: r--p and r-xp both at file offset 0; the r-xp one is text's page. */
	bias_is(&lld, lldm, 4, lldm[0], BASE, "lld r--p");
	bias_is(&lld, lldm, 4, lldm[1], BASE, "lld r-xp");
	bias_is(&lld, lldm, 4, lldm[2], BASE, "lld relro r--p");
	bias_is(&lld, lldm, 4, lldm[3], BASE, "lld rw-p");
	bias_is(&gold, NULL, 0, map(BASE, BASE + 0x1000, 0, "r-xp"), BASE, "gold r-xp");
	bias_is(&gold, NULL, 0, map(BASE + 0x1000, BASE + 0x2000, 0, "rw-p"), BASE, "gold rw-p");
	bias_is(&ld, ldm, 4, ldm[1], BASE, "ld r-xp");
	bias_is(&ld, ldm, 4, ldm[2], BASE, "ld rodata");
	bias_is(&ld, ldm, 4, ldm[3], BASE, "ld relro");
	/* No segment with these permissions: no bias, never a wrong one. */
	/* Alone, the RELRO page of lld's RW segment could be its R segment's. */
	CHECK(layout__map_bias(&lld, &lldm[2], &v) == -EAGAIN);
	m = map(BASE, BASE + 0x1000, 0, "rwxp");
	CHECK(layout__map_bias(&gold, &m, &v) == -ENOENT);
	m = map(BASE, BASE + 0x1000, 0x9000, "r-xp");
	CHECK(layout__map_bias(&lld, &m, &v) == -ENOENT);

	/* Link-time address <-> file offset, per segment. */
	CHECK(!layout__vaddr_to_offset(&lld, 0x1990, &off) && off == 0x990);
	CHECK(!layout__offset_to_vaddr(&lld, 0x990, &v) && v == 0x1990);
	CHECK(!layout__vaddr_to_offset(&gold, 0x1db8, &off) && off == 0xdb8);
	CHECK(layout__vaddr_to_offset(&lld, 0x1000, &off) == -ENOENT); /* the gap */
	CHECK(layout__vaddr_to_offset(&lld, 0x3e60, &off) == -ENOENT); /* .bss: no file bytes */

	/* Run-time address -> file offset, through the mapping. */
	m = map(BASE + 0x1000, BASE + 0x2000, 0, "r-xp");
	CHECK(!layout__map_offset(&m, BASE + 0x1990, &off) && off == 0x990);
	CHECK(layout__map_offset(&m, BASE + 0x2000, &off) == -ERANGE);
	m = map(0xfffffffffffff000ull, 0xffffffffffffffffull, 0xffffffffffffff00ull, "r-xp");
	CHECK(layout__map_offset(&m, 0xfffffffffffffff0ull, &off) == -ERANGE); /* wraps */
	return check_summary("test_layout");
}
