/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gopclntab_elf.c - a Go ELF file's function table and build info.
 *
 * What it owns: where, in an ELF file, the Go runtime's tables are (see
 * gopclntab_elf.h for how each is found).  Everything taken from the file
 * is checked against the mapping before use; the parsing itself is the
 * pure readers'.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stub/program/gopclntab_elf.h"

#define SCAN_TRIES     64	  /* candidate headers tried without sections */
#define BUILDINFO_SCAN (64 << 10) /* as Go's debug/buildinfo */

static int fail(struct gopcln_elf *ge, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct gopcln_elf *ge, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ge->err, sizeof(ge->err), fmt, ap);
	va_end(ap);
	return err;
}

/* The file bytes of section name, if in the file: its header too. */
static const unsigned char *section(struct gopcln_elf *ge, const char *name, GElf_Shdr *out)
{
	Elf *elf = ge->elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name))
			continue;
		if (sh.sh_offset > ge->size || sh.sh_size > ge->size - sh.sh_offset)
			return NULL;
		*out = sh;
		return ge->img + sh.sh_offset;
	}
	return NULL;
}

static int load_segs(struct gopcln_elf *ge, bool *exec, bool *write)
{
	size_t n, i;

	if (elf_getphdrnum(ge->elf, &n))
		return fail(ge, -EINVAL, "no program headers: %s", elf_errmsg(-1));
	for (i = 0; i < n && ge->nsegs < GOPCLN_ELF_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ge->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		if (ph.p_offset > ge->size || ph.p_filesz > ge->size - ph.p_offset)
			continue;
		exec[ge->nsegs] = ph.p_flags & PF_X;
		write[ge->nsegs] = ph.p_flags & PF_W;
		ge->segs[ge->nsegs++] = (struct gopcln_seg){
			.data = ge->img + ph.p_offset,
			.vaddr = ph.p_vaddr,
			.size = ph.p_filesz,
		};
	}
	return 0;
}

static bool known_magic(const unsigned char *p)
{
	static const uint32_t m[] = {GOPCLN_MAGIC_116, GOPCLN_MAGIC_118, GOPCLN_MAGIC_120};
	uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	uint32_t be = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (le == m[i] || be == m[i])
			return p[4] == 0 && p[5] == 0 && (p[7] == 4 || p[7] == 8);
	return false;
}

/* No section: a header in a non-executable segment that parses in full. */
static int scan_table(struct gopcln_elf *ge, const bool *exec)
{
	unsigned tries = 0;
	size_t i, off;
	int err = -ENOENT;

	for (i = 0; i < ge->nsegs; i++) {
		const struct gopcln_seg *s = &ge->segs[i];

		if (exec[i])
			continue;
		for (off = 0; off + 16 <= s->size; off += 8) {
			if (!known_magic(s->data + off))
				continue;
			if (++tries > SCAN_TRIES)
				return fail(ge, -ENOENT, "no Go pclntab in %u candidates",
					    tries - 1);
			err = gopcln__open(&ge->tab, s->data + off, s->size - off, 0);
			if (!err) {
				ge->tab_vaddr = s->vaddr + off;
				return 0;
			}
			gopcln__close(&ge->tab);
		}
	}
	return fail(ge, -ENOENT, "no Go pclntab (no .gopclntab section, no header found)");
}

static uint64_t rdp(const struct gopcln *t, const unsigned char *p)
{
	uint64_t v = 0;
	unsigned i, n = t->ptrsize;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[t->big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

/*
 * moduledata: the words {pcHeader, funcnametab.ptr} in a writable segment
 * (.noptrdata; .data.rel.ro in a PIE); its gofunc.
 */
static void find_moduledata(struct gopcln_elf *ge, const bool *write)
{
	const struct gopcln *t = &ge->tab;
	const unsigned ps = t->ptrsize;
	const uint64_t names = ge->tab_vaddr + (uint64_t)(t->funcnames - t->tab);
	/* word index of text and gofunc in moduledata (runtime/symtab.go) */
	const unsigned w_text = 22, w_gofunc = t->ver >= GOPCLN_GO120 ? 40 : 38;
	size_t i, off;

	for (i = 0; i < ge->nsegs; i++) {
		const struct gopcln_seg *s = &ge->segs[i];

		if (!write[i])
			continue;
		for (off = 0; off + (w_gofunc + 1) * ps <= s->size; off += ps) {
			const unsigned char *p = s->data + off;
			uint64_t gofunc;

			if (rdp(t, p) != ge->tab_vaddr || rdp(t, p + ps) != names)
				continue;
			ge->moduledata = s->vaddr + off;
			if (t->ver < GOPCLN_GO118 || rdp(t, p + w_text * ps) != t->text)
				return;
			gofunc = rdp(t, p + w_gofunc * ps);
			if (gopcln_seg__at(ge->segs, ge->nsegs, gofunc, 1))
				gopcln__set_data(&ge->tab, ge->segs, ge->nsegs, gofunc);
			return;
		}
	}
}

static void find_buildinfo(struct gopcln_elf *ge, const bool *write)
{
	const unsigned char *p;
	GElf_Shdr sh;
	size_t len = 0, i;
	long off;

	p = section(ge, ".go.buildinfo", &sh);
	if (p) {
		len = sh.sh_size;
	} else {
		for (i = 0; i < ge->nsegs && !p; i++) {
			if (!write[i])
				continue;
			p = ge->segs[i].data;
			len = ge->segs[i].size < BUILDINFO_SCAN ? ge->segs[i].size : BUILDINFO_SCAN;
		}
	}
	off = p ? gobuildinfo__find(p, len) : -1;
	if (off >= 0 &&
	    !gobuildinfo__parse(p + off, len - (size_t)off, ge->segs, ge->nsegs, &ge->bi, NULL, 0))
		ge->has_buildinfo = true;
}

int gopcln_elf__open_fd(struct gopcln_elf *ge, int fd)
{
	bool exec[GOPCLN_ELF_MAX_SEGS] = {0}, write[GOPCLN_ELF_MAX_SEGS] = {0};
	const unsigned char *p;
	GElf_Shdr sh;
	uint64_t text = 0;
	int err;

	memset(ge, 0, sizeof(*ge));
	ge->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(ge, -EINVAL, "libelf: %s", elf_errmsg(-1));
	ge->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!ge->elf || elf_kind(ge->elf) != ELF_K_ELF)
		return fail(ge, -EINVAL, "not an ELF file: %s", elf_errmsg(-1));
	ge->img = (const unsigned char *)elf_rawfile(ge->elf, &ge->size);
	if (!ge->img)
		return fail(ge, -EINVAL, "cannot map the file: %s", elf_errmsg(-1));
	err = load_segs(ge, exec, write);
	if (err)
		return err;
	if (section(ge, ".text", &sh))
		text = sh.sh_addr;
	p = section(ge, ".gopclntab", &sh);
	if (!p)
		p = section(ge, ".data.rel.ro.gopclntab", &sh);
	if (p) {
		ge->by_section = true;
		ge->tab_vaddr = sh.sh_addr;
		err = gopcln__open(&ge->tab, p, sh.sh_size, 0);
		if (err)
			return fail(ge, err, "%s", ge->tab.err);
	} else {
		err = scan_table(ge, exec);
		if (err)
			return err;
	}
	if (ge->tab.ver >= GOPCLN_GO118 && !ge->tab.text && text) {
		/* textStart left to a relocation: entries are from .text */
		size_t len = ge->tab.len;

		p = ge->tab.tab;
		gopcln__close(&ge->tab);
		err = gopcln__open(&ge->tab, p, len, text);
		if (err)
			return fail(ge, err, "%s", ge->tab.err);
	}
	find_moduledata(ge, write);
	find_buildinfo(ge, write);
	return 0;
}

int gopcln_elf__open(struct gopcln_elf *ge, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		err = -errno;
		memset(ge, 0, sizeof(*ge));
		ge->fd = -1;
		return fail(ge, err, "%s: %s", path, strerror(-err));
	}
	err = gopcln_elf__open_fd(ge, fd);
	ge->fd = fd;
	return err;
}

void gopcln_elf__close(struct gopcln_elf *ge)
{
	gopcln__close(&ge->tab);
	if (ge->elf)
		elf_end(ge->elf);
	ge->elf = NULL;
	if (ge->fd >= 0)
		close(ge->fd);
	ge->fd = -1;
}
