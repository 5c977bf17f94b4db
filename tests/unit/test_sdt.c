/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_sdt.c - SDT notes (stub/program/sdt_note.c) and semaphores (stub/program/sdt.c).
 *
 * Part 1 feeds the pure parser hand-made note sections: well-formed notes
 * of both address sizes, notes of other owners between them, and every
 * kind of malformed note (sizes that do not fit, strings without their
 * NUL, an argument string that does not end the descriptor), which must be
 * skipped and counted, never read past.
 *
 * Part 2 uses this very program: it has two <sys/sdt.h> probes, one with a
 * semaphore and one without, as the compiler and linker lay them out.  The
 * notes are read back from /proc/self/exe, and stub/program/sdt.c must find the
 * site with a semaphore at its run-time address (PIE or not), give the
 * semaphore's file offset for the uprobe's reference counter and its
 * run-time address, and acknowledge exactly GDB's +-1 write of it.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "rsp/parse.h"
#include "stub/program/sdt.h"
#include "stub/program/sdt_note.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "tests/unit/check.h"

__extension__ unsigned short sdtunit_sema_semaphore __attribute__((unused))
__attribute__((section(".probes")));
/* As CPython 3.11 has them: function__entry, known to need python:line enabled too. */
__extension__ unsigned short python_function__entry_semaphore __attribute__((unused))
__attribute__((section(".probes")));
__extension__ unsigned short python_line_semaphore __attribute__((unused))
__attribute__((section(".probes")));
/* A semaphore in read-only data, which no kernel can raise (a C const would be folded). */
__asm__(".pushsection .rodata.sdtunit,\"a\"\n"
	".globl sdtunit_rosem_semaphore\n"
	".type sdtunit_rosem_semaphore, @object\n"
	".size sdtunit_rosem_semaphore, 2\n"
	".p2align 1\n"
	"sdtunit_rosem_semaphore: .short 0\n"
	".popsection");
extern volatile unsigned short sdtunit_rosem_semaphore;
volatile long sink;

/* The probes; never called with a non-zero semaphore (nothing raises it). */
__attribute__((noinline)) void sdt_sites(long v)
{
	if (sdtunit_sema_semaphore)
		STAP_PROBE1(sdtunit, sema, v);
	if (sdtunit_rosem_semaphore)
		STAP_PROBE1(sdtunit, rosem, v);
	if (python_function__entry_semaphore)
		STAP_PROBE1(python, function__entry, v);
	if (python_line_semaphore)
		STAP_PROBE1(python, line, v);
	sink = v;
}

/* ---- part 1: the pure parser --------------------------------------------- */

struct nbuf {
	unsigned char b[1024];
	size_t len;
};

static void put32(struct nbuf *n, uint32_t v)
{
	memcpy(n->b + n->len, &v, 4);
	n->len += 4;
}

static void put_bytes(struct nbuf *n, const void *p, size_t len)
{
	memcpy(n->b + n->len, p, len);
	n->len += len;
	while (n->len % 4)
		n->b[n->len++] = 0;
}

/* One note; desc is given whole (addresses and strings). */
static void put_note(struct nbuf *n, const char *owner, uint32_t type, const void *desc,
		     size_t dlen)
{
	put32(n, (uint32_t)strlen(owner) + 1);
	put32(n, (uint32_t)dlen);
	put32(n, type);
	put_bytes(n, owner, strlen(owner) + 1);
	put_bytes(n, desc, dlen);
}

/* A descriptor: 3 addresses of asz bytes, then the strings given (with their NULs). */
static size_t make_desc(unsigned char *d, unsigned asz, uint64_t pc, uint64_t base, uint64_t sem,
			const char *strs, size_t slen)
{
	memcpy(d, &pc, asz);
	memcpy(d + asz, &base, asz);
	memcpy(d + 2 * asz, &sem, asz);
	memcpy(d + 3 * asz, strs, slen);
	return 3 * asz + slen;
}

#define STRS(s) s, sizeof(s) /* a string literal with its final NUL */

struct seen {
	struct sdt_note n[8];
	char prov[8][32], name[8][32], args[8][64];
	int count;
};

static int record(void *arg, const struct sdt_note *n)
{
	struct seen *s = arg;

	if (s->count < 8) {
		s->n[s->count] = *n;
		snprintf(s->prov[s->count], 32, "%s", n->provider);
		snprintf(s->name[s->count], 32, "%s", n->name);
		snprintf(s->args[s->count], 64, "%s", n->args);
	}
	s->count++;
	return 0;
}

static int stop_at_first(void *arg, const struct sdt_note *n)
{
	return 42;
}

static void test_parse(void)
{
	unsigned char d[256], *copy;
	struct nbuf nb = {0};
	struct seen s = {0};
	size_t dl, bad = 99;
	int r;

	/* two good notes (64-bit), a GNU note and a wrong-type stapsdt note between */
	dl = make_desc(d, 8, 0x401136, 0x402004, 0x404030, STRS("prov\0tick\0-8@%rbx -8@%rax"));
	put_note(&nb, "stapsdt", 3, d, dl);
	put_note(&nb, "GNU", 3, "\x01\x02\x03\x04", 4);
	put_note(&nb, "stapsdt", 1, d, dl);
	dl = make_desc(d, 8, 0x401200, 0x402004, 0, STRS("prov\0plain\0"));
	put_note(&nb, "stapsdt", 3, d, dl);
	/* exactly len bytes on the heap: ASan sees any read past the end */
	copy = malloc(nb.len);
	memcpy(copy, nb.b, nb.len);
	r = sdt_note__parse(copy, nb.len, 8, record, &s, &bad);
	CHECKF(r == 2 && s.count == 2 && bad == 0, "r %d count %d bad %zu", r, s.count, bad);
	CHECK(s.n[0].pc == 0x401136 && s.n[0].base == 0x402004 && s.n[0].semaphore == 0x404030);
	CHECK(!strcmp(s.prov[0], "prov") && !strcmp(s.name[0], "tick") &&
	      !strcmp(s.args[0], "-8@%rbx -8@%rax"));
	CHECK(s.n[1].pc == 0x401200 && s.n[1].semaphore == 0 && !strcmp(s.name[1], "plain") &&
	      !strcmp(s.args[1], ""));
	/* every prefix: never a read past the end, never more notes */
	for (size_t cut = 0; cut < nb.len; cut++) {
		struct seen t = {0};

		memcpy(copy + nb.len - cut, nb.b, cut);
		r = sdt_note__parse(copy + nb.len - cut, cut, 8, record, &t, NULL);
		CHECKF(r >= 0 && r <= 2, "prefix %zu: %d", cut, r);
	}
	free(copy);

	/* the callback stops the walk */
	r = sdt_note__parse(nb.b, nb.len, 8, stop_at_first, NULL, NULL);
	CHECK(r == 42);
	CHECK(sdt_note__parse(nb.b, nb.len, 5, record, &s, NULL) == -EINVAL);

	/* 32-bit addresses */
	memset(&nb, 0, sizeof(nb));
	memset(&s, 0, sizeof(s));
	dl = make_desc(d, 4, 0x8048100, 0x8049000, 0x804a010, STRS("p\0n\0-4@%eax"));
	put_note(&nb, "stapsdt", 3, d, dl);
	r = sdt_note__parse(nb.b, nb.len, 4, record, &s, &bad);
	CHECK(r == 1 && bad == 0 && s.n[0].pc == 0x8048100 && s.n[0].semaphore == 0x804a010 &&
	      !strcmp(s.args[0], "-4@%eax"));

	/* malformed descriptors are skipped and counted; the good one after them is kept */
	memset(&nb, 0, sizeof(nb));
	memset(&s, 0, sizeof(s));
	dl = make_desc(d, 8, 1, 2, 3, STRS("\0name\0args")); /* empty provider */
	put_note(&nb, "stapsdt", 3, d, dl);
	dl = make_desc(d, 8, 1, 2, 3, STRS("prov\0\0args")); /* empty name */
	put_note(&nb, "stapsdt", 3, d, dl);
	dl = make_desc(d, 8, 1, 2, 3, "prov\0name\0args", 14); /* args without its NUL */
	put_note(&nb, "stapsdt", 3, d, dl);
	dl = make_desc(d, 8, 1, 2, 3, "prov\0name\0args\0xx", 17); /* bytes after args */
	put_note(&nb, "stapsdt", 3, d, dl);
	dl = make_desc(d, 8, 1, 2, 3, "prov\0name", 9); /* no args at all */
	put_note(&nb, "stapsdt", 3, d, dl);
	put_note(&nb, "stapsdt", 3, d, 20); /* shorter than three addresses */
	put_note(&nb, "stapsd", 3, d, 20);  /* another owner: not counted */
	dl = make_desc(d, 8, 7, 8, 9, STRS("ok\0ok\0"));
	put_note(&nb, "stapsdt", 3, d, dl);
	r = sdt_note__parse(nb.b, nb.len, 8, record, &s, &bad);
	CHECKF(r == 1 && bad == 6 && s.n[0].pc == 7, "r %d bad %zu", r, bad);

	/* sizes that do not fit end the walk */
	{
		static const uint32_t huge_name[] = {0xffffffffu, 0, 3};
		static const uint32_t huge_desc[] = {8, 0xfffffffdu, 3, 0x70617473, 0x746473};
		static const uint32_t just_over[] = {8, 9, 3, 0x70617473, 0x746473, 0, 0};

		r = sdt_note__parse(huge_name, sizeof(huge_name), 8, record, &s, &bad);
		CHECK(r == 0 && bad == 1);
		r = sdt_note__parse(huge_desc, sizeof(huge_desc), 8, record, &s, &bad);
		CHECK(r == 0 && bad == 1);
		r = sdt_note__parse(just_over, sizeof(just_over), 8, record, &s, &bad);
		CHECK(r == 0 && bad == 1);
		r = sdt_note__parse(just_over, 0, 8, record, &s, &bad);
		CHECK(r == 0 && bad == 0);
	}
}

static void test_adjust_and_offsets(void)
{
	struct sdt_note n = {.pc = 0x1136, .base = 0x2004, .semaphore = 0x4030};
	struct sdt_note z = {.pc = 0x1136, .base = 0x2004, .semaphore = 0};
	const struct sdt_seg segs[] = {
		{.vaddr = 0x1000, .offset = 0x1000, .filesz = 0x200, .exec = true},
		{.vaddr = 0x3df0, .offset = 0x2df0, .filesz = 0x250, .write = true},
		{.vaddr = UINT64_MAX - 4, .offset = UINT64_MAX - 2, .filesz = 4, .write = true},
	};
	uint64_t off = 0;

	sdt_note__adjust(&n, 0x2004); /* not moved */
	CHECK(n.pc == 0x1136 && n.semaphore == 0x4030);
	sdt_note__adjust(&n, 0x12004); /* prelinked 0x10000 higher */
	CHECK(n.pc == 0x11136 && n.semaphore == 0x14030 && n.base == 0x12004);
	sdt_note__adjust(&n, 0x1004); /* and lower */
	CHECK(n.pc == 0x136 && n.semaphore == 0x3030);
	sdt_note__adjust(&z, 0x3004);
	CHECK(z.pc == 0x2136 && z.semaphore == 0); /* no semaphore stays none */

	CHECK(!sdt_note__file_offset(segs, 3, 0x1136, 1, true, false, &off) && off == 0x1136);
	CHECK(!sdt_note__file_offset(segs, 3, 0x4030, 2, false, true, &off) && off == 0x3030);
	CHECK(sdt_note__file_offset(segs, 3, 0x4030, 2, true, false, &off) == -ENOENT);
	CHECK(sdt_note__file_offset(segs, 3, 0x1136, 1, false, true, &off) == -ENOENT);
	CHECK(!sdt_note__file_offset(segs, 3, 0x11ff, 1, true, false, &off) && off == 0x11ff);
	CHECK(sdt_note__file_offset(segs, 3, 0x11ff, 2, true, false, &off) == -ENOENT);
	CHECK(sdt_note__file_offset(segs, 3, 0x1200, 1, true, false, &off) == -ENOENT);
	CHECK(sdt_note__file_offset(segs, 3, 0xfff, 1, true, false, &off) == -ENOENT);
	CHECK(sdt_note__file_offset(segs, 3, UINT64_MAX - 1, 2, false, true, &off) == -ENOENT);
	CHECK(sdt_note__file_offset(segs, 0, 0x1136, 1, false, false, &off) == -ENOENT);
}

/* ---- part 2: this program's own probes ------------------------------------ */

struct own {
	struct sdt_note sema, plain, rosem, entry;
	bool have_sema, have_plain, have_base, have_rosem, have_entry;
	uint64_t base_now;
};

static int find_own(void *arg, const struct sdt_note *n)
{
	struct own *o = arg;

	if (!strcmp(n->provider, "sdtunit") && !strcmp(n->name, "sema")) {
		o->sema = *n;
		o->have_sema = true;
	} else if (!strcmp(n->provider, "sdtunit") && !strcmp(n->name, "rosem")) {
		o->rosem = *n;
		o->have_rosem = true;
	} else if (!strcmp(n->provider, "python") && !strcmp(n->name, "function__entry")) {
		o->entry = *n;
		o->have_entry = true;
	}
	return 0;
}

/* Read the .note.stapsdt of /proc/self/exe with libelf, as stub/program/sdt.c does. */
static int read_own_notes(struct own *o)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *elf;
	int fd, err = -ENOENT;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto cleanup;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".stapsdt.base")) {
			o->have_base = true;
			o->base_now = sh.sh_addr;
		} else if (!strcmp(name, ".note.stapsdt")) {
			Elf_Data *d = elf_rawdata(scn, NULL);

			if (d && sdt_note__parse(d->d_buf, d->d_size, 8, find_own, o, NULL) >= 0)
				err = 0;
		}
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static bool ack(struct trace *tr, uint64_t addr, uint64_t len, const char *data, bool hex)
{
	struct rsp_write_req w = {.addr = addr, .len = len, .data = data, .data_len = strlen(data)};

	if (!hex)
		w.data_len = (size_t)len;
	return sdt__semaphore_write(tr, &w, hex);
}

static void test_own_probes(void)
{
	struct own o = {0};
	struct sdt_site site;
	struct trace tr;
	struct tp tp;
	struct tgt t;
	char err[256];
	uint64_t bias, site_addr, sem_addr = (uintptr_t)&sdtunit_sema_semaphore;
	int r;

	sdt_sites(1);
	r = read_own_notes(&o);
	CHECKF(r == 0 && o.have_sema && o.have_base, "own notes: %d", r);
	if (r || !o.have_sema)
		return;
	sdt_note__adjust(&o.sema, o.base_now);
	bias = sem_addr - o.sema.semaphore;
	site_addr = o.sema.pc + bias;

	r = tgt__attach(&t, getpid(), err, sizeof(err));
	CHECKF(r == 0, "attach self: %s", err);
	if (r)
		return;
	r = sdt__site(&t, site_addr, &site);
	CHECKF(r == 1 && site.sem_addr == sem_addr && !strcmp(site.probe, "sdtunit:sema"),
	       "site: %d sem 0x%llx (want 0x%llx) %s", r, (unsigned long long)site.sem_addr,
	       (unsigned long long)sem_addr, site.probe);
	/* the reference counter is the semaphore's offset in the file */
	{
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		unsigned short v = 0xffff;

		CHECK(fd >= 0 && site.ref_ctr_offset > 0 &&
		      pread(fd, &v, 2, (off_t)site.ref_ctr_offset) == 2 && v == 0);
		if (fd >= 0)
			close(fd);
	}
	CHECK(!site.why[0] && !site.hint);
	/* a semaphore no kernel can raise: a site, with why and no reference counter */
	CHECK(o.have_rosem && o.have_entry);
	if (o.have_rosem) {
		sdt_note__adjust(&o.rosem, o.base_now);
		r = sdt__site(&t, o.rosem.pc + bias, &site);
		CHECKF(r == 1 && !site.ref_ctr_offset && !site.sem_addr &&
			       !strcmp(site.probe, "sdtunit:rosem") &&
			       strstr(site.why, "not in the contents of a writable segment"),
		       "rosem: %d %s", r, site.why);
	}
	/* a probe known to need another one (CPython 3.11): a hint, and a semaphore */
	if (o.have_entry) {
		sdt_note__adjust(&o.entry, o.base_now);
		r = sdt__site(&t, o.entry.pc + bias, &site);
		CHECKF(r == 1 && site.ref_ctr_offset && !site.why[0] && site.hint &&
			       strstr(site.hint, "python:line") && strstr(site.hint, "gh-98894"),
		       "python:function__entry: %d %s", r, site.hint ? site.hint : "no hint");
	}
	CHECK(sdt__site(&t, site_addr + 1, &site) == 0);   /* not a site */
	CHECK(sdt__site(&t, (uintptr_t)&sink, &site) < 0); /* not code */
	CHECK(sdt__site(&t, site_addr, &site) == 1);	   /* cached: the same */

	/* the write: only GDB's +-1 of exactly that semaphore, under a tracepoint */
	memset(&tr, 0, sizeof(tr));
	memset(&tp, 0, sizeof(tp));
	tr.tgt = &t;
	CHECK(!ack(&tr, sem_addr, 2, "0100", true)); /* no tracepoint there yet */
	tp.addr = site_addr;
	tr.tps = &tp;
	tr.ntps = 1;
	CHECK(ack(&tr, sem_addr, 2, "0100", true));  /* M, 0 -> 1 */
	CHECK(ack(&tr, sem_addr, 2, "ffff", true));  /* M, 0 -> -1 */
	CHECK(ack(&tr, sem_addr, 2, "\x01", false)); /* X, 0 -> 1 (strlen stops at NUL) */
	CHECK(!ack(&tr, sem_addr, 2, "0500", true)); /* not +-1 */
	CHECK(!ack(&tr, sem_addr, 2, "01zz", true)); /* not hex */
	CHECK(!ack(&tr, sem_addr, 1, "01", true));   /* not 2 bytes */
	CHECK(!ack(&tr, sem_addr, 4, "01000000", true));
	CHECK(!ack(&tr, sem_addr + 2, 2, "0100", true)); /* next to it */
	CHECK(!ack(&tr, (uintptr_t)&sink, 2, "0100", true));
	CHECK(sdtunit_sema_semaphore == 0); /* and nothing was ever written */
	tp.addr = site_addr + 1;	    /* a tracepoint elsewhere does not count */
	CHECK(!ack(&tr, sem_addr, 2, "0100", true));
	CHECK(!sdt__semaphore_write(NULL, &(struct rsp_write_req){0}, true));

	sdt__forget();
	tgt__close(&t);
}

int main(void)
{
	test_parse();
	test_adjust_and_offsets();
	test_own_probes();
	return check_summary("test_sdt");
}
