/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_split.c - split DWARF for the DWARF layer (dwarf_int.h).
 *
 * A file built with `gcc -gsplit-dwarf` holds skeleton units: address
 * ranges, the line table, .debug_addr, and DW_AT_dwo_name /
 * DW_AT_comp_dir naming the .dwo that holds the unit's DIEs (or a FILE.dwp
 * package beside the executable holds them all).  Every lookup of the
 * layer (functions by name, FILE:LINE, the scope at a pc, a function's
 * results, where its prologue ends) reads the split unit in place of the
 * skeleton through dw_int__unit(); line tables stay the skeleton's.
 *
 * Where the files come from is the point of this file.  libdw 0.188 would
 * open the .dwo itself, as root, at whatever path the skeleton names:
 * DW_AT_dwo_name "../../../etc/x.dwo" or "/root/secret.dwo" in a binary a
 * user built would let bpfstub read, and show that user, a file outside
 * what the target can see.  So libdw is never asked to (no subdie is ever
 * requested of dwarf_get_units/dwarf_cu_info on a skeleton, and nothing
 * here hands it a path): this file
 *   - refuses a name that climbs above the root (".." past "/"), with a
 *     message naming it (`monitor trace` repeats it when a lookup fails),
 *   - opens the rest with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 *     beneath the target's /proc/PID/root, so absolute names and symlinks
 *     resolve inside the target's root, as the target itself would see them,
 *   - tries, like libdw and GDB: FILE.dwp first, then the absolute
 *     DW_AT_dwo_name, else DW_AT_comp_dir/DW_AT_dwo_name, then the name and
 *     its last component beside the executable,
 *   - and gives libdw an image in memory per unit (stub/program/dwp.c):
 *     the .dwo's sections, or the unit's contributions cut out of the
 *     package by its .debug_cu_index, with the skeleton's .debug_addr from
 *     its DW_AT_addr_base.  A file is accepted only if it holds a split
 *     unit with the skeleton's id.
 * Loading is done once when the file is opened (the lookups walk every
 * unit anyway), at most DW_MAX_SPLITS units.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/program/dwarf_int.h"
#include "stub/program/dwp.h"
#include "stub/program/elfimg.h"

#define SPLIT_FILE_MAX (1ull << 31) /* bytes of one .dwo or .dwp read */

struct dw_split_unit {
	Dwarf_Off skel; /* the skeleton's CU DIE offset in f->dw */
	Dwarf *dw;
	Elf *elf;
	uint8_t *img;
	Dwarf_Die cu; /* the split unit's CU DIE */
};

struct mapped {
	void *p;
	size_t len;
};

/* Does the absolute path stay beneath "/" as written ("/a/../../b" does not)? */
static bool lexically_inside(const char *path)
{
	const char *p = path;
	long depth = 0;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--depth < 0)
				return false;
		} else if (n && !(n == 1 && *p == '.')) {
			depth++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

/* Map path as the target sees it (under root_fd; -1: the host's /). */
static int map_in_root(int root_fd, const char *path, struct mapped *m)
{
	struct stat st;
	int fd;

	fd = root_fd < 0 ? open(path, O_RDONLY | O_CLOEXEC)
			 : sys__openat2(root_fd, path, O_RDONLY | O_CLOEXEC,
					RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return fd < -1 ? fd : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    (uint64_t)st.st_size > SPLIT_FILE_MAX) {
		close(fd);
		return -EINVAL;
	}
	m->len = (size_t)st.st_size;
	m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void unmap(struct mapped *m)
{
	if (m->p)
		munmap(m->p, m->len);
	m->p = NULL;
}

/* A section's bytes of the ELF holding the DWARF (libdw decompressed them). */
static const uint8_t *section(Elf *elf, const char *want, size_t *len)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, want) || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		*len = d->d_size;
		return d->d_buf;
	}
	return NULL;
}

static const char *attr_str(Dwarf_Die *d, unsigned int a, unsigned int b)
{
	Dwarf_Attribute at;

	if (dwarf_attr(d, a, &at) || dwarf_attr(d, b, &at))
		return dwarf_formstring(&at);
	return NULL;
}

/* Give libdw the image: true when it holds the split unit id (su is then filled). */
static bool attach(struct dw_split_unit *su, uint8_t *img, size_t len, uint64_t id)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die die;
	uint8_t ut;

	su->elf = elf_memory((char *)img, len);
	su->dw = su->elf ? dwarf_begin_elf(su->elf, DWARF_C_READ, NULL) : NULL;
	while (su->dw && dwarf_get_units(su->dw, cu, &cu, NULL, &ut, &die, NULL) == 0) {
		uint64_t uid = 0;

		if ((ut == DW_UT_split_compile) &&
		    !dwarf_cu_info(cu, NULL, NULL, NULL, NULL, &uid, NULL, NULL) && uid == id) {
			su->img = img;
			su->cu = die;
			return true;
		}
	}
	if (su->dw)
		dwarf_end(su->dw);
	if (su->elf)
		elf_end(su->elf);
	free(img);
	su->dw = NULL;
	su->elf = NULL;
	return false;
}

struct split_ctx {
	struct dw_file *f;
	int root_fd;
	const char *exe;
	struct mapped pkg; /* FILE.dwp */
	struct elfimg pkg_img;
	const struct elfimg_sec *pkg_idx;
};

static void note(struct dw_file *f, const char *fmt, const char *a, const char *b)
{
	if (f->split_msg[0])
		return;
	snprintf(f->split_msg, sizeof(f->split_msg), fmt, a, b);
}

/* The .dwo file at path (absolute, as the target sees it): true when it holds unit id. */
static bool try_dwo(struct split_ctx *x, struct dw_split_unit *su, const char *path, uint64_t id,
		    const void *addr, size_t alen)
{
	struct mapped m = {0};
	struct elfimg img;
	uint8_t *buf;
	size_t len;
	char msg[160];
	bool ok = false;

	if (!lexically_inside(path)) {
		note(x->f, "split DWARF: %s leads outside the target's root: refused%s", path, "");
		x->f->nrefused++;
		return false;
	}
	if (map_in_root(x->root_fd, path, &m))
		return false;
	if (!elfimg__open(&img, m.p, m.len, msg, sizeof(msg))) {
		if (!dwp__image(&img, NULL, addr, alen, &buf, &len, msg, sizeof(msg)))
			ok = attach(su, buf, len, id);
		elfimg__fini(&img);
	}
	unmap(&m);
	return ok;
}

/* dir + "/" + name into out: false if it does not fit. */
static bool join(char *out, size_t len, const char *dir, size_t dlen, const char *name)
{
	return snprintf(out, len, "%.*s/%s", (int)dlen, dir, name) < (int)len;
}

static bool find_unit(struct split_ctx *x, struct dw_split_unit *su, Dwarf_Die *skel, uint64_t id)
{
	const char *name = attr_str(skel, DW_AT_dwo_name, DW_AT_GNU_dwo_name);
	const char *dir = attr_str(skel, DW_AT_comp_dir, DW_AT_comp_dir);
	const char *slash = x->exe ? strrchr(x->exe, '/') : NULL, *base;
	const uint8_t *addr = NULL;
	Dwarf_Attribute a;
	Dwarf_Word abase = 0;
	size_t alen = 0;
	char p[1024], msg[160];
	struct dwp_unit u;
	uint8_t *buf;
	size_t len;

	/* The skeleton's addresses, from its DW_AT_addr_base on. */
	addr = section(dwarf_getelf(x->f->dw), ".debug_addr", &alen);
	if ((dwarf_attr(skel, DW_AT_addr_base, &a) || dwarf_attr(skel, DW_AT_GNU_addr_base, &a)) &&
	    !dwarf_formudata(&a, &abase) && addr && abase <= alen) {
		addr += abase;
		alen -= abase;
	}
	if (x->pkg_idx &&
	    !dwp__find(x->pkg_idx->data, x->pkg_idx->size, id, &u, msg, sizeof(msg)) &&
	    !dwp__image(&x->pkg_img, &u, addr, alen, &buf, &len, msg, sizeof(msg)) &&
	    attach(su, buf, len, id))
		return true;
	if (!name || !*name)
		return false;
	if (name[0] == '/')
		return try_dwo(x, su, name, id, addr, alen);
	if (dir && dir[0] == '/' && join(p, sizeof(p), dir, strlen(dir), name) &&
	    try_dwo(x, su, p, id, addr, alen))
		return true;
	if (!slash)
		return false;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (join(p, sizeof(p), x->exe, (size_t)(slash - x->exe), name) &&
	    try_dwo(x, su, p, id, addr, alen))
		return true;
	return base != name && join(p, sizeof(p), x->exe, (size_t)(slash - x->exe), base) &&
	       try_dwo(x, su, p, id, addr, alen);
}

static int by_skel(const void *a, const void *b)
{
	const struct dw_split_unit *x = a, *y = b;

	return x->skel < y->skel ? -1 : x->skel > y->skel;
}

int dw_int__split_load(struct dw_file *f, const char *path, int root_fd)
{
	struct split_ctx x = {.f = f, .root_fd = root_fd, .exe = path};
	Dwarf_CU *cu = NULL;
	Dwarf_Die die;
	uint8_t ut;
	char p[1024], msg[160];

	while (dwarf_get_units(f->dw, cu, &cu, NULL, &ut, &die, NULL) == 0) {
		struct dw_split_unit *su;
		uint64_t id = 0;

		if (ut != DW_UT_skeleton)
			continue;
		f->nskel++;
		if (f->nskel == 1 && path && path[0] == '/' &&
		    snprintf(p, sizeof(p), "%s.dwp", path) < (int)sizeof(p) &&
		    !map_in_root(root_fd, p, &x.pkg) &&
		    !elfimg__open(&x.pkg_img, x.pkg.p, x.pkg.len, msg, sizeof(msg)))
			x.pkg_idx = elfimg__find(&x.pkg_img, ".debug_cu_index");
		if (!f->splits) {
			f->splits = calloc(DW_MAX_SPLITS, sizeof(*f->splits));
			if (!f->splits)
				break;
		}
		if (f->nsplits == DW_MAX_SPLITS ||
		    dwarf_cu_info(cu, NULL, NULL, NULL, NULL, &id, NULL, NULL)) {
			f->nmissing++;
			continue;
		}
		su = &f->splits[f->nsplits];
		if (!find_unit(&x, su, &die, id)) {
			const char *n = attr_str(&die, DW_AT_dwo_name, DW_AT_GNU_dwo_name);

			f->nmissing++;
			note(f,
			     "split DWARF: %s (or %s.dwp) not found in the target's root: its "
			     "functions are unknown",
			     n ? n : "a .dwo", path ? path : "FILE");
			continue;
		}
		su->skel = dwarf_dieoffset(&die);
		f->nsplits++;
	}
	elfimg__fini(&x.pkg_img);
	unmap(&x.pkg);
	if (f->nsplits > 1)
		qsort(f->splits, f->nsplits, sizeof(*f->splits), by_skel);
	return 0;
}

void dw_int__split_free(struct dw_file *f)
{
	size_t i;

	for (i = 0; i < f->nsplits; i++) {
		dwarf_end(f->splits[i].dw);
		elf_end(f->splits[i].elf);
		free(f->splits[i].img);
	}
	free(f->splits);
	f->splits = NULL;
	f->nsplits = 0;
}

bool dw_int__unit(struct dw_file *f, Dwarf_Die *cu, Dwarf_Die *out)
{
	struct dw_split_unit key, *su;
	uint8_t ut = 0;

	if (dwarf_cu_info(cu->cu, NULL, &ut, NULL, NULL, NULL, NULL, NULL) ||
	    ut != DW_UT_skeleton) {
		*out = *cu;
		return true;
	}
	key.skel = dwarf_dieoffset(cu);
	su = f->nsplits ? bsearch(&key, f->splits, f->nsplits, sizeof(key), by_skel) : NULL;
	if (!su)
		return false;
	*out = su->cu;
	return true;
}

bool dw_int__next_unit(struct dw_file *f, Dwarf_CU **it, Dwarf_Die *cu)
{
	Dwarf_Die d;
	uint8_t ut;

	while (dwarf_get_units(f->dw, *it, it, NULL, &ut, &d, NULL) == 0) {
		if (ut == DW_UT_type || ut == DW_UT_split_type)
			continue;
		if (dw_int__unit(f, &d, cu))
			return true;
	}
	return false;
}
