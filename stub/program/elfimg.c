/* SPDX-License-Identifier: MIT */
/*
 * stub/program/elfimg.c - ELF64 section tables read and written purely (elfimg.h).
 *
 * Reading: the ELF header names where the section headers are and how many;
 * each header names where its bytes are and, through .shstrtab, its name.
 * All of that comes from a file bpfstub did not write, so every offset and
 * size is checked against the image length with subtraction (never an
 * addition that could wrap), names must end inside their string table, and
 * a count is bounded before anything is allocated for it.
 *
 * Writing: an ELF header, the sections' bytes one after another, a
 * .shstrtab, then the section headers: the smallest image libelf accepts.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/elfimg.h"

/* [off, off + size) inside len. */
static int inside(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* The NUL-terminated string at off of the string table s, or NULL. */
static const char *str_at(const struct elfimg_sec *s, uint64_t off)
{
	if (!s || !s->data || off >= s->size)
		return NULL;
	if (!memchr(s->data + off, '\0', s->size - off))
		return NULL;
	return (const char *)s->data + off;
}

int elfimg__open(struct elfimg *img, const void *buf, size_t len, char *msg, size_t mlen)
{
	const uint8_t *b = buf;
	Elf64_Ehdr eh;
	Elf64_Shdr sh;
	uint64_t shnum, shstrndx, i;

	memset(img, 0, sizeof(*img));
	img->buf = b;
	img->len = len;
	if (!b || len < sizeof(eh) || memcmp(b, ELFMAG, SELFMAG) || b[EI_CLASS] != ELFCLASS64 ||
	    b[EI_DATA] != ELFDATA2LSB) {
		rsp_buf__msgf(msg, mlen, "not a 64-bit little-endian ELF file");
		return -ENOEXEC;
	}
	memcpy(&eh, b, sizeof(eh));
	img->type = eh.e_type;
	img->machine = eh.e_machine;
	if (eh.e_phoff && eh.e_phentsize == sizeof(Elf64_Phdr) &&
	    inside(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
		for (i = 0; i < eh.e_phnum && img->nloads < ELFIMG_MAX_LOADS; i++) {
			Elf64_Phdr ph;

			memcpy(&ph, b + eh.e_phoff + i * sizeof(ph), sizeof(ph));
			if (ph.p_type == PT_LOAD)
				img->loads[img->nloads++] =
					(struct elfimg_load){ph.p_vaddr, ph.p_offset, ph.p_filesz};
		}
	}
	if (!eh.e_shoff)
		return 0; /* no sections: nothing to read */
	if (eh.e_shentsize != sizeof(sh) || !inside(len, eh.e_shoff, sizeof(sh))) {
		rsp_buf__msgf(msg, mlen, "section headers outside the file");
		return -EINVAL;
	}
	memcpy(&sh, b + eh.e_shoff, sizeof(sh));
	shnum = eh.e_shnum ? eh.e_shnum : sh.sh_size; /* 0: the count is in section 0 */
	shstrndx = eh.e_shstrndx == SHN_XINDEX ? sh.sh_link : eh.e_shstrndx;
	if (shnum > ELFIMG_MAX_SECS || !inside(len, eh.e_shoff, shnum * sizeof(sh))) {
		rsp_buf__msgf(msg, mlen, "%llu section headers do not fit in the file",
			      (unsigned long long)shnum);
		return -EINVAL;
	}
	img->secs = calloc(shnum ? shnum : 1, sizeof(*img->secs));
	if (!img->secs)
		return -ENOMEM;
	img->nsecs = shnum;
	for (i = 0; i < shnum; i++) {
		struct elfimg_sec *s = &img->secs[i];

		memcpy(&sh, b + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		s->type = sh.sh_type;
		s->link = sh.sh_link;
		s->flags = sh.sh_flags;
		s->addr = sh.sh_addr;
		s->entsize = sh.sh_entsize;
		s->name = "";
		if (i == 0 || sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
			continue;
		if (!inside(len, sh.sh_offset, sh.sh_size)) {
			rsp_buf__msgf(msg, mlen, "section %llu outside the file",
				      (unsigned long long)i);
			elfimg__fini(img);
			return -EINVAL;
		}
		s->data = b + sh.sh_offset;
		s->size = sh.sh_size;
	}
	if (shstrndx && shstrndx < shnum && img->secs[shstrndx].type == SHT_STRTAB) {
		for (i = 1; i < shnum; i++) {
			const char *n;

			memcpy(&sh, b + eh.e_shoff + i * sizeof(sh), sizeof(sh));
			n = str_at(&img->secs[shstrndx], sh.sh_name);
			if (n)
				img->secs[i].name = n;
		}
	}
	return 0;
}

void elfimg__fini(struct elfimg *img)
{
	free(img->secs);
	img->secs = NULL;
	img->nsecs = 0;
}

const struct elfimg_sec *elfimg__find(const struct elfimg *img, const char *name)
{
	size_t i;

	for (i = 1; i < img->nsecs; i++)
		if (!strcmp(img->secs[i].name, name))
			return &img->secs[i];
	return NULL;
}

int elfimg__build(const struct elfimg_out *secs, size_t n, uint8_t **out, size_t *olen)
{
	Elf64_Ehdr eh = {0};
	Elf64_Shdr sh;
	uint64_t off = sizeof(eh), strsz = 1 + sizeof(".shstrtab"), shoff, i;
	uint64_t stroff, noff;
	uint8_t *b;

	*out = NULL;
	*olen = 0;
	if (n > 1000)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		if (secs[i].size > (1ull << 32) || off > (1ull << 40))
			return -E2BIG;
		off += secs[i].size;
		strsz += strlen(secs[i].name) + 1;
	}
	stroff = off;
	shoff = (stroff + strsz + 7) & ~7ull;
	*olen = shoff + (n + 2) * sizeof(sh);
	b = calloc(1, *olen);
	if (!b)
		return -ENOMEM;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shoff = shoff;
	eh.e_shentsize = sizeof(sh);
	eh.e_shnum = (uint16_t)(n + 2);
	eh.e_shstrndx = (uint16_t)(n + 1);
	memcpy(b, &eh, sizeof(eh));
	/* .shstrtab: "", the sections' names, ".shstrtab" */
	noff = 1;
	off = sizeof(eh);
	for (i = 0; i < n; i++) {
		memset(&sh, 0, sizeof(sh));
		sh.sh_name = (uint32_t)noff;
		sh.sh_type = SHT_PROGBITS;
		sh.sh_flags = secs[i].flags;
		sh.sh_offset = off;
		sh.sh_size = secs[i].size;
		sh.sh_addralign = 1;
		if (secs[i].size)
			memcpy(b + off, secs[i].data, secs[i].size);
		memcpy(b + stroff + noff, secs[i].name, strlen(secs[i].name) + 1);
		memcpy(b + shoff + (i + 1) * sizeof(sh), &sh, sizeof(sh));
		noff += strlen(secs[i].name) + 1;
		off += secs[i].size;
	}
	memset(&sh, 0, sizeof(sh));
	sh.sh_name = (uint32_t)noff;
	sh.sh_type = SHT_STRTAB;
	sh.sh_offset = stroff;
	sh.sh_size = strsz;
	sh.sh_addralign = 1;
	memcpy(b + stroff + noff, ".shstrtab", sizeof(".shstrtab"));
	memcpy(b + shoff + (n + 1) * sizeof(sh), &sh, sizeof(sh));
	*out = b;
	return 0;
}
