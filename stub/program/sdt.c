/* SPDX-License-Identifier: MIT */
/*
 * stub/program/sdt.c - SDT probe sites and semaphores of the files a target maps.
 *
 * Why a uprobe reference counter instead of the write GDB asks for, and
 * which write is still acknowledged: see sdt.h.  Here: for a run-time
 * address, find its mapping (/proc/PID/maps), open the very file mapped
 * (/proc/PID/map_files, else the path under the target's root, checked to
 * be a mapped file), read its .note.stapsdt notes once (libelf; parsed by
 * the pure sdt_note.c), and keep, per probe, the file offsets of its site
 * and semaphore: the kernel speaks in file offsets, and so does the
 * comparison with an address, which goes through the mapping that holds it
 * whatever the load address (PIE, shared objects, prelinked files).
 *
 * The cache is small and belongs to the target's program context
 * (stub/program/program.h), made with the trace: nothing is process-wide.
 * Files are identified by (device, inode, size, mtime), so a file
 * rewritten in place is read again.  Files without notes are cached too
 * (empty), so a tstart with many tracepoints in one big library reads it
 * once.  sdt__site() without a cache reads the notes for that one call.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsp/parse.h"
#include "stub/program/layout.h"
#include "stub/program/program.h"
#include "stub/program/sdt.h"
#include "stub/program/sdt_note.h"
#include "stub/program/target.h"

#define SDT_CACHE_FILES 16
#define SDT_MAX_PROBES	65536	    /* per file */
#define SDT_MAX_NOTES	(16u << 20) /* bytes of .note.stapsdt read per file */
#define SDT_MAX_SEGS	64

struct sdt_probe {
	uint64_t pc, pc_off;   /* the site: link-time vaddr, file offset */
	uint64_t sem, sem_off; /* the semaphore (link-time vaddr, 0: none) and its file offset */
	bool sem_ok;	       /* sem_off is valid: sem is in the file part of a writable segment */
	char what[128];	       /* provider:name */
};

/*
 * Probes known not to fire on their own: while only their own semaphore is
 * raised, the program never reaches their site.  CPython 3.11 tests the
 * function__entry/function__return semaphores only on its tracing path,
 * which it takes while sys.settrace is on or python:line's semaphore is
 * raised (CPython issue gh-98894; 3.12 dropped those probes).  A hint is
 * given only for a file that also has the probe it needs.
 */
static const struct sdt_quirk {
	const char *probe, *needs, *hint;
} sdt_quirks[] = {
	{"python:function__entry", "python:line",
	 "CPython 3.11 reaches python:function__entry only while python:line is enabled too "
	 "(CPython issue gh-98894): add `trace -probe-stap python:line` with `condition N 0`"},
	{"python:function__return", "python:line",
	 "CPython 3.11 reaches python:function__return only while python:line is enabled too "
	 "(CPython issue gh-98894): add `trace -probe-stap python:line` with `condition N 0`"},
};

struct sdt_file {
	bool used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned long last_use;
	struct sdt_probe *probes;
	size_t n;
};

struct sdt_cache {
	struct sdt_file f[SDT_CACHE_FILES];
	unsigned long clock;
};

struct sdt_cache *sdt_cache__new(void)
{
	return calloc(1, sizeof(struct sdt_cache));
}

void sdt_cache__free(struct sdt_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < SDT_CACHE_FILES; i++)
		free(c->f[i].probes);
	free(c);
}

void sdt__forget(void)
{
	/* Nothing process-wide is left: each program's cache goes with it. */
}

/* ---- reading one file's notes --------------------------------------------- */

struct collect {
	struct sdt_file *f;
	const struct sdt_seg *segs;
	size_t nsegs;
	size_t cap; /* of f->probes */
	bool have_base;
	uint64_t base_now;
};

static int add_note(void *arg, const struct sdt_note *note)
{
	struct collect *c = arg;
	struct sdt_file *f = c->f;
	struct sdt_note n = *note;
	struct sdt_probe *p;

	if (f->n == c->cap)
		return 1;
	if (c->have_base)
		sdt_note__adjust(&n, c->base_now);
	p = &f->probes[f->n];
	memset(p, 0, sizeof(*p));
	if (sdt_note__file_offset(c->segs, c->nsegs, n.pc, 1, true, false, &p->pc_off))
		return 0; /* a site outside the code: no tracepoint can be there */
	p->pc = n.pc;
	/* A semaphore outside the file part of a writable segment cannot be counted by the
	 * kernel: kept (sem_ok false), so that a tracepoint there is refused, not silent. */
	p->sem = n.semaphore;
	if (n.semaphore &&
	    !sdt_note__file_offset(c->segs, c->nsegs, n.semaphore, 2, false, true, &p->sem_off))
		p->sem_ok = true;
	snprintf(p->what, sizeof(p->what), "%.60s:%.60s", n.provider, n.name);
	f->n++;
	return 0;
}

/* Count the notes first (bounded), then fill f->probes: two walks, one allocation. */
static int count_note(void *arg, const struct sdt_note *n)
{
	size_t *cnt = arg;

	return ++*cnt >= SDT_MAX_PROBES;
}

static int load_notes(struct sdt_file *f, int fd)
{
	struct sdt_seg segs[SDT_MAX_SEGS];
	struct collect c = {.f = f, .segs = segs};
	size_t nph, shstrndx, i, cnt = 0;
	Elf_Scn *scn = NULL, *notes[8];
	size_t nnotes = 0;
	unsigned asz;
	Elf *elf = NULL;
	GElf_Ehdr eh;
	int err = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    elf_getphdrnum(elf, &nph) || elf_getshdrstrndx(elf, &shstrndx)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	asz = gelf_getclass(elf) == ELFCLASS64 ? 8 : 4;
	for (i = 0; i < nph && c.nsegs < SDT_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		segs[c.nsegs].vaddr = ph.p_vaddr;
		segs[c.nsegs].offset = ph.p_offset;
		segs[c.nsegs].filesz = ph.p_filesz;
		segs[c.nsegs].exec = ph.p_flags & PF_X;
		segs[c.nsegs].write = ph.p_flags & PF_W;
		c.nsegs++;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".stapsdt.base")) {
			c.have_base = true;
			c.base_now = sh.sh_addr;
		} else if (!strcmp(name, ".note.stapsdt") && sh.sh_type == SHT_NOTE &&
			   !(sh.sh_flags & SHF_COMPRESSED) && sh.sh_size <= SDT_MAX_NOTES &&
			   nnotes < sizeof(notes) / sizeof(notes[0])) {
			notes[nnotes++] = scn;
		}
	}
	for (i = 0; i < nnotes; i++) {
		Elf_Data *d = elf_rawdata(notes[i], NULL);

		if (d && d->d_buf)
			sdt_note__parse(d->d_buf, d->d_size, asz, count_note, &cnt, NULL);
	}
	if (!cnt)
		goto cleanup;
	f->probes = calloc(cnt, sizeof(*f->probes));
	if (!f->probes) {
		err = -ENOMEM;
		goto cleanup;
	}
	c.cap = cnt;
	for (i = 0; i < nnotes; i++) {
		Elf_Data *d = elf_rawdata(notes[i], NULL);

		if (d && d->d_buf && f->n < cnt)
			sdt_note__parse(d->d_buf, d->d_size, asz, add_note, &c, NULL);
	}
cleanup:
	if (elf)
		elf_end(elf);
	return err;
}

/* The cached notes of the file open as fd (read now if needed); NULL on error. */
static struct sdt_file *file_notes(struct sdt_cache *c, int fd)
{
	struct sdt_file *f, *victim = &c->f[0];
	struct stat st;
	size_t i;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (i = 0; i < SDT_CACHE_FILES; i++) {
		f = &c->f[i];
		if (f->used && f->dev == st.st_dev && f->ino == st.st_ino &&
		    f->size == st.st_size && f->mtime.tv_sec == st.st_mtim.tv_sec &&
		    f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			f->last_use = ++c->clock;
			return f;
		}
		if (!f->used || (victim->used && f->last_use < victim->last_use))
			victim = f;
	}
	f = victim;
	free(f->probes);
	memset(f, 0, sizeof(*f));
	if (load_notes(f, fd) == -ENOMEM) {
		free(f->probes);
		memset(f, 0, sizeof(*f));
		return NULL;
	}
	/* Not an ELF file, or no notes: cached as "no probes". */
	f->used = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->last_use = ++c->clock;
	return f;
}

/* ---- run-time addresses --------------------------------------------------- */

/* What is known about probe what in file f: a quirk's hint, or NULL. */
static const char *quirk_hint(const struct sdt_file *f, const char *what)
{
	size_t q, i;

	for (q = 0; q < sizeof(sdt_quirks) / sizeof(sdt_quirks[0]); q++) {
		if (strcmp(sdt_quirks[q].probe, what))
			continue;
		for (i = 0; i < f->n; i++)
			if (!strcmp(f->probes[i].what, sdt_quirks[q].needs) && f->probes[i].sem)
				return sdt_quirks[q].hint;
	}
	return NULL;
}

int sdt_cache__site(struct sdt_cache *c, struct tgt *t, uint64_t addr, struct sdt_site *site)
{
	struct tgt_map m, dm;
	struct sdt_file *f;
	uint64_t off, sem_addr, sem_foff;
	size_t i;
	int fd = -1, err;

	memset(site, 0, sizeof(*site));
	if (!t) {
		err = -ESRCH;
		goto cleanup;
	}
	err = tgt__region(t, addr, &m);
	if (err)
		goto cleanup;
	if (m.perms[2] != 'x' || !m.inode || m.path[0] != '/') {
		err = -ENOENT;
		goto cleanup;
	}
	fd = tgt__open_mapping(t, &m);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	f = file_notes(c, fd);
	if (!f) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = layout__map_offset(&m, addr, &off);
	if (err)
		goto cleanup;
	for (i = 0; i < f->n; i++) {
		const struct sdt_probe *p = &f->probes[i];

		if (p->pc_off != off || !p->sem)
			continue;
		snprintf(site->probe, sizeof(site->probe), "%s", p->what);
		site->hint = quirk_hint(f, p->what);
		err = 1;
		/* Same file, same load bias: the semaphore is where the site is, plus the
		 * distance between them as linked. */
		sem_addr = addr + (p->sem - p->pc);
		if (!p->sem_ok) {
			snprintf(site->why, sizeof(site->why),
				 "its semaphore (0x%llx) is not in the contents of a writable "
				 "segment of %.200s, so the kernel cannot raise it",
				 (unsigned long long)sem_addr, m.path);
			break;
		}
		/* The kernel raises it only in a writable private mapping of the file. */
		if (tgt__region(t, sem_addr, &dm) || dm.perms[1] != 'w' || dm.perms[3] != 'p' ||
		    dm.inode != m.inode || layout__map_offset(&dm, sem_addr, &sem_foff) ||
		    sem_foff != p->sem_off || dm.end - sem_addr < 2) {
			snprintf(site->why, sizeof(site->why),
				 "its semaphore (0x%llx) is not mapped writable from %.200s in "
				 "pid %d, so the kernel cannot raise it",
				 (unsigned long long)sem_addr, m.path, (int)t->pid);
			break;
		}
		site->ref_ctr_offset = p->sem_off;
		site->sem_addr = sem_addr;
		break;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

int sdt__site(struct tgt *t, uint64_t addr, struct sdt_site *site)
{
	struct sdt_cache *c = sdt_cache__new();
	int err;

	if (!c) {
		memset(site, 0, sizeof(*site));
		return -ENOMEM;
	}
	err = sdt_cache__site(c, t, addr, site);
	sdt_cache__free(c);
	return err;
}

/* ---- the one write acknowledged ------------------------------------------- */

bool sdt__semaphore_of(struct sdt_cache *c, struct tgt *t, uint64_t site, uint64_t addr)
{
	struct sdt_site s;
	int r = c ? sdt_cache__site(c, t, site, &s) : sdt__site(t, site, &s);

	return r == 1 && s.sem_addr && s.sem_addr == addr;
}

bool sdt__semaphore_step(struct tgt *t, const struct rsp_write_req *w, bool hex)
{
	const unsigned char *d = (const unsigned char *)w->data;
	unsigned char cur[2], val[2];
	size_t i;

	if (!t || w->len != 2 || w->data_len != (hex ? 4 : 2))
		return false;
	for (i = 0; i < 2; i++) {
		if (hex) {
			int hi = rsp_hexval(d[2 * i]), lo = rsp_hexval(d[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return false;
			val[i] = (unsigned char)(hi << 4 | lo);
		} else {
			val[i] = d[i];
		}
	}
	if (tgt__read_mem(t, w->addr, cur, 2) != 2)
		return false;
	/* unsigned short, little-endian (x86-64): GDB sends the value it read +1 or -1 */
	{
		unsigned now = cur[0] | cur[1] << 8, want = val[0] | val[1] << 8;

		return want == ((now + 1) & 0xffff) || want == ((now - 1) & 0xffff);
	}
}
