/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf.c - the core of the DWARF layer on libdw (stub/program/dwarf.h).
 *
 * Three parts:
 *  - struct dw_file: one ELF image with its Dwarf (from the file itself or a
 *    separate debug file) and its CFI (.debug_frame from the Dwarf, else
 *    .eh_frame from the ELF).  Everything in file addresses.
 *  - scopes: the function at a pc (dwarf_getscopes: inlined instances and
 *    lexical blocks included), its parameters and locals, each location
 *    evaluated at that pc into register/memory pieces (loc_eval), and types
 *    copied out of libdw (dw_int__type_conv, stub/program/dwarf_types.c), so
 *    a scope stands alone.
 *  - struct dw_cache (stub/program/dwarf_cache.c): the target's files, by mapping.
 *
 * The queries built on this core (a function by name, FILE:LINE or entry,
 * where GDB puts its tracepoint, its results, a struct member's offset, the
 * Go type at a runtime address) live in stub/program/dwarf_lookup.c; what the two
 * share (struct dw_file, type conversion, the CU at a pc) is in
 * stub/program/dwarf_int.h, which nothing else includes.
 *
 * libdw reads what it is given; every value from it is checked before use
 * (no attribute, a form of the wrong class, an expression this layer does
 * not follow: the piece is DWP_UNAVAIL with a reason), so corrupt DWARF
 * gives a message, never a crash (tests/fuzz/fuzz_dwarf.c).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include <linux/openat2.h>

#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/program/dwarf.h"
#include "stub/program/dwarf_int.h"
#include "stub/program/target.h"

#define DEBUG_ROOT "/usr/lib/debug"

/* ---- small things ---- */

/* DWARF x86-64 numbering (psABI) -> GDB amd64. */
static const int gdb_regs[17] = {0, 3, 2, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

int dw__gdb_reg(int r)
{
	return r >= 0 && r < (int)(sizeof(gdb_regs) / sizeof(gdb_regs[0])) ? gdb_regs[r] : -1;
}

/* ---- locations ---- */

/* An address as "reg + off" (reg -1: absolute). */
struct addr {
	bool ok;
	int reg;
	int64_t off;
};

struct loc_ctx {
	struct dw_file *f;
	Dwarf_Attribute *attr; /* the location's attribute (DW_OP_addrx reads through it) */
	uint64_t pc, entry, bias;
	Dwarf_Die *fn; /* the subprogram with DW_AT_frame_base */
};

/* CFA at pc from CFI: libdw gives it as an expression, normally DW_OP_bregN off. */
static struct addr cfa_at(struct dw_file *f, uint64_t pc, char *why, size_t wlen)
{
	Dwarf_CFI *cfis[2] = {dwarf_getcfi(f->dw), f->eh_cfi};
	struct addr r = {0};
	size_t i;

	for (i = 0; i < 2 && !r.ok; i++) {
		Dwarf_Frame *fr = NULL;
		Dwarf_Op *ops = NULL;
		size_t nops = 0;

		if (!cfis[i] || dwarf_cfi_addrframe(cfis[i], pc, &fr) || !fr)
			continue;
		/* A register + offset rule comes back as DW_OP_bregx reg, off. */
		if (!dwarf_frame_cfa(fr, &ops, &nops) && nops >= 1 && ops[0].atom == DW_OP_bregx) {
			r.ok = nops == 1;
			r.reg = (int)ops[0].number;
			r.off = (int64_t)ops[0].number2;
		} else if (nops >= 1 && ops && ops[0].atom >= DW_OP_breg0 &&
			   ops[0].atom <= DW_OP_breg31) {
			r.ok = true;
			r.reg = ops[0].atom - DW_OP_breg0;
			r.off = (int64_t)ops[0].number;
			if (nops == 2 && ops[1].atom == DW_OP_plus_uconst)
				r.off += (int64_t)ops[1].number;
			else if (nops != 1)
				r.ok = false;
		}
		free(fr);
	}
	if (!r.ok)
		rsp_buf__msgf(why, wlen, "no CFA at 0x%llx", (unsigned long long)pc);
	return r;
}

static struct addr frame_base(struct loc_ctx *x, char *why, size_t wlen)
{
	struct addr r = {0};
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;

	if (!x->fn || !dwarf_attr(x->fn, DW_AT_frame_base, &a) ||
	    dwarf_getlocation_addr(&a, x->pc, &ops, &nops, 1) != 1 || nops < 1) {
		rsp_buf__msgf(why, wlen, "no frame base");
		return r;
	}
	if (ops[0].atom == DW_OP_call_frame_cfa && nops == 1)
		return cfa_at(x->f, x->pc, why, wlen);
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31 && nops == 1) {
		r.ok = true;
		r.reg = ops[0].atom - DW_OP_breg0;
		r.off = (int64_t)ops[0].number;
	} else if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31 && nops == 1) {
		r.ok = true;
		r.reg = ops[0].atom - DW_OP_reg0;
	} else {
		rsp_buf__msgf(why, wlen, "frame base DW_OP 0x%x not followed", ops[0].atom);
	}
	return r;
}

/* DW_OP_entry_value's block: the register it names when it is one DW_OP_regN. */
static int entry_reg(const Dwarf_Op *op)
{
	const unsigned char *b = (const unsigned char *)(uintptr_t)op->number2;

	if (op->number == 1 && b && b[0] >= DW_OP_reg0 && b[0] <= DW_OP_reg31)
		return b[0] - DW_OP_reg0;
	return -1;
}

void dw_loc__unavail(struct dw_loc *l, const char *why)
{
	memset(l, 0, sizeof(*l));
	l->npieces = 1;
	l->pieces[0].kind = DWP_UNAVAIL;
	l->pieces[0].reg = -1;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

/* Evaluate ops (valid at x->pc) into pieces. */
static void loc_eval(struct loc_ctx *x, const Dwarf_Op *ops, size_t nops, struct dw_loc *l)
{
	struct dw_piece cur = {.kind = DWP_UNAVAIL, .reg = -1};
	bool have = false;
	char why[96] = "";
	size_t i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < nops; i++) {
		const Dwarf_Op *o = &ops[i];
		unsigned int at = o->atom;
		struct addr fb;

		if (at >= DW_OP_reg0 && at <= DW_OP_reg31) {
			cur = (struct dw_piece){DWP_REG, (int)(at - DW_OP_reg0), 0, 0};
		} else if (at == DW_OP_regx) {
			cur = (struct dw_piece){DWP_REG, (int)o->number, 0, 0};
		} else if (at >= DW_OP_breg0 && at <= DW_OP_breg31) {
			cur = (struct dw_piece){DWP_MEM, (int)(at - DW_OP_breg0),
						(int64_t)o->number, 0};
		} else if (at == DW_OP_bregx) {
			cur = (struct dw_piece){DWP_MEM, (int)o->number, (int64_t)o->number2, 0};
		} else if (at == DW_OP_fbreg) {
			fb = frame_base(x, why, sizeof(why));
			if (!fb.ok)
				goto unavail;
			cur = (struct dw_piece){DWP_MEM, fb.reg, fb.off + (int64_t)o->number, 0};
		} else if (at == DW_OP_call_frame_cfa) {
			fb = cfa_at(x->f, x->pc, why, sizeof(why));
			if (!fb.ok)
				goto unavail;
			cur = (struct dw_piece){DWP_MEM, fb.reg, fb.off, 0};
		} else if (at == DW_OP_addr) {
			cur = (struct dw_piece){DWP_MEM, -1, (int64_t)(o->number + x->bias), 0};
		} else if (at == DW_OP_addrx || at == DW_OP_GNU_addr_index) {
			/* Split DWARF: an index into the skeleton's .debug_addr. */
			Dwarf_Attribute r;
			Dwarf_Addr ad;

			if (!x->attr || dwarf_getlocation_attr(x->attr, o, &r) ||
			    dwarf_formaddr(&r, &ad)) {
				snprintf(why, sizeof(why), "DW_OP_addrx: %s", dwarf_errmsg(-1));
				goto unavail;
			}
			cur = (struct dw_piece){DWP_MEM, -1, (int64_t)(ad + x->bias), 0};
		} else if ((at >= DW_OP_lit0 && at <= DW_OP_lit31) || at == DW_OP_constu ||
			   at == DW_OP_consts || at == DW_OP_const1u || at == DW_OP_const2u ||
			   at == DW_OP_const4u || at == DW_OP_const8u || at == DW_OP_const1s ||
			   at == DW_OP_const2s || at == DW_OP_const4s || at == DW_OP_const8s) {
			int64_t v = at <= DW_OP_lit31 && at >= DW_OP_lit0
					    ? (int64_t)(at - DW_OP_lit0)
					    : (int64_t)o->number;

			cur = (struct dw_piece){DWP_MEM, -1, v, 0};
		} else if (at == DW_OP_plus_uconst &&
			   (cur.kind == DWP_MEM || cur.kind == DWP_VALUE)) {
			cur.off += (int64_t)o->number;
		} else if (at == DW_OP_stack_value) {
			if (cur.kind == DWP_MEM)
				cur.kind = DWP_VALUE;
			else if (cur.kind != DWP_REG)
				goto unavail;
		} else if (at == DW_OP_entry_value || at == DW_OP_GNU_entry_value) {
			int r = entry_reg(o);

			if (r < 0 || x->pc != x->entry) {
				snprintf(why, sizeof(why),
					 "entry value (only known at the entry pc)");
				goto unavail;
			}
			/* At the entry pc the register still holds its entry value. */
			cur = (struct dw_piece){DWP_REG, r, 0, 0};
		} else if (at == DW_OP_piece) {
			if (l->npieces == DW_MAX_PIECES) {
				snprintf(why, sizeof(why), "more than %d pieces", DW_MAX_PIECES);
				goto unavail;
			}
			cur.size = (uint32_t)o->number;
			l->pieces[l->npieces++] = cur;
			cur = (struct dw_piece){.kind = DWP_UNAVAIL, .reg = -1};
			have = true;
			continue;
		} else {
			snprintf(why, sizeof(why), "DW_OP 0x%x not followed", at);
			goto unavail;
		}
		have = true;
	}
	if (!have) {
		dw_loc__unavail(l, "optimized out");
		return;
	}
	if (!l->npieces)
		l->pieces[l->npieces++] = cur;
	for (i = 0; i < l->npieces; i++)
		if (l->pieces[i].kind == DWP_UNAVAIL)
			snprintf(l->why, sizeof(l->why), "a piece is optimized out");
	return;
unavail:
	dw_loc__unavail(l, why[0] ? why : "not available");
}

static void var_loc(struct loc_ctx *x, Dwarf_Die *v, struct dw_loc *l)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;
	int n;

	if (!dwarf_attr(v, DW_AT_location, &a)) {
		dw_loc__unavail(l, dwarf_hasattr_integrate(v, DW_AT_const_value) ? "a constant"
										 : "optimized out");
		return;
	}
	n = dwarf_getlocation_addr(&a, x->pc, &ops, &nops, 1);
	if (n < 0) {
		dw_loc__unavail(l, dwarf_errmsg(-1));
		return;
	}
	if (n == 0) {
		dw_loc__unavail(l, "not available at this pc");
		return;
	}
	x->attr = &a;
	loc_eval(x, ops, nops, l);
	x->attr = NULL;
}

/* ---- the file ---- */

static bool has_section(Elf *elf, const char *want, const char *zwant)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && (!strcmp(n, want) || !strcmp(n, zwant)))
			return true;
	}
	return false;
}

/* Open path under root_fd (the target's root; -1: the host's). */
static int open_in_root(int root_fd, const char *path)
{
	if (root_fd < 0)
		return open(path, O_RDONLY | O_CLOEXEC);
	return sys__openat2(root_fd, path, O_RDONLY | O_CLOEXEC,
			    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* CRC-32 of the whole file at fd, as .gnu_debuglink records it (zlib's polynomial). */
static int file_crc(int fd, GElf_Word *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	if (n < 0)
		return -errno;
	*crc = (GElf_Word)c;
	return 0;
}

/*
 * Is the debug file elf (open at fd) f's?  The same GNU build-id when f has
 * one; else, found by .gnu_debuglink, the CRC the link records.  A debug
 * file of another build (an old package, the host's file of the same name
 * for a container's program) would give wrong names, lines and locations.
 */
static bool debug_matches(struct dw_file *f, Elf *elf, int fd, const GElf_Word *crc)
{
	const void *want, *have;
	ssize_t wn = dwelf_elf_gnu_build_id(f->elf, &want), hn;
	GElf_Word c;

	if (wn > 0) {
		hn = dwelf_elf_gnu_build_id(elf, &have);
		return hn == wn && !memcmp(want, have, (size_t)wn);
	}
	return !crc || (!file_crc(fd, &c) && c == *crc);
}

/*
 * f's DWARF from the debug file open at fd (taken over only on success),
 * when it is f's (crc: what .gnu_debuglink says, NULL when found otherwise).
 */
static int debug_adopt(struct dw_file *f, int fd, const char *path, const GElf_Word *crc)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Dwarf *dw = elf && elf_kind(elf) == ELF_K_ELF && debug_matches(f, elf, fd, crc)
			    ? dwarf_begin_elf(elf, DWARF_C_READ, NULL)
			    : NULL;

	if (!dw) {
		if (elf)
			elf_end(elf);
		return -ENOENT;
	}
	f->dbg_fd = fd;
	f->dbg_elf = elf;
	f->dw = dw;
	snprintf(f->debug_path, sizeof(f->debug_path), "%s", path);
	return 0;
}

/* A debug file candidate: f's (debug_matches), an ELF whose DWARF libdw accepts. */
static int try_debug(struct dw_file *f, int root_fd, const char *path, const GElf_Word *crc)
{
	int roots[2] = {root_fd, -1}, i;

	for (i = 0; i < (root_fd >= 0 ? 2 : 1); i++) {
		int fd = open_in_root(roots[i], path);

		if (fd < 0)
			continue;
		if (!debug_adopt(f, fd, path, crc))
			return 0;
		close(fd);
	}
	return -ENOENT;
}

/* Separate debug info: by build-id, then by .gnu_debuglink next to the file and under
 * /usr/lib/debug. */
static int find_debug(struct dw_file *f, const char *path, int root_fd)
{
	char p[512], dir[256];
	const unsigned char *id;
	const char *link, *slash;
	GElf_Word crc;
	ssize_t n;
	int i, k;

	n = dwelf_elf_gnu_build_id(f->elf, (const void **)&id);
	if (n > 1 && n <= 64) {
		k = snprintf(p, sizeof(p), DEBUG_ROOT "/.build-id/%02x/", id[0]);
		for (i = 1; i < n && k + 3 < (int)sizeof(p); i++)
			k += snprintf(p + k, sizeof(p) - (size_t)k, "%02x", id[i]);
		snprintf(p + k, sizeof(p) - (size_t)k, ".debug");
		if (!try_debug(f, root_fd, p, NULL))
			return 0;
	}
	link = dwelf_elf_gnu_debuglink(f->elf, &crc);
	if (!link || !*link || strchr(link, '/') || !path)
		return -ENOENT;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	snprintf(p, sizeof(p), "%s/%s", dir, link);
	if (strcmp(p, path) && !try_debug(f, root_fd, p, &crc))
		return 0;
	snprintf(p, sizeof(p), "%s/.debug/%s", dir, link);
	if (!try_debug(f, root_fd, p, &crc))
		return 0;
	snprintf(p, sizeof(p), DEBUG_ROOT "%s/%s", dir, link);
	return try_debug(f, root_fd, p, &crc);
}

/* Walk every CU header once: libdw refuses corrupt units here rather than later. */
static int check_units(struct dw_file *f, char *msg, size_t mlen, const char *name)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	int n = 0, r;

	while ((r = dwarf_nextcu(f->dw, off, &next, &hsize, NULL, NULL, NULL)) == 0) {
		Dwarf_Die cu;

		if (!dwarf_offdie(f->dw, off + hsize, &cu)) {
			rsp_buf__msgf(msg, mlen, "corrupt DWARF in %s refused: unit at 0x%llx: %s",
				      name, (unsigned long long)off, dwarf_errmsg(-1));
			return -EINVAL;
		}
		off = next;
		n++;
	}
	if (r < 0) {
		rsp_buf__msgf(msg, mlen, "corrupt DWARF in %s refused: %s", name, dwarf_errmsg(-1));
		return -EINVAL;
	}
	if (!n) {
		rsp_buf__msgf(msg, mlen, "no DWARF for %s: no compilation unit", name);
		return -ENOENT;
	}
	return 0;
}

static int file_init(struct dw_file *f, const char *path, int root_fd, char *msg, size_t mlen)
{
	const char *name = path ? path : "the file";
	GElf_Ehdr eh;
	int err;

	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh)) {
		rsp_buf__msgf(msg, mlen, "no DWARF for %s: not an ELF file", name);
		return -ENOEXEC;
	}
	layout__read(&f->lay, f->elf);
	if (has_section(f->elf, ".debug_info", ".zdebug_info")) {
		f->dw = dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
		if (!f->dw) {
			rsp_buf__msgf(msg, mlen, "corrupt DWARF in %s refused: %s", name,
				      dwarf_errmsg(-1));
			return -EINVAL;
		}
	} else if (root_fd < -1 || find_debug(f, path, root_fd)) {
		rsp_buf__msgf(
			msg, mlen,
			"no DWARF for %s: stripped (no .debug_info, no debug file by build-id or "
			"debuglink)",
			name);
		return -ENOENT;
	}
	err = check_units(f, msg, mlen, name);
	if (err)
		return err;
	if (root_fd >= -1)
		dw_int__split_load(f, path, root_fd);
	f->eh_cfi = dwarf_getcfi_elf(f->elf);
	return 0;
}

int dw_file__open_fd(struct dw_file **out, int fd, const char *path, int root_fd, char *msg,
		     size_t mlen)
{
	struct dw_file *f;
	int err;

	*out = NULL;
	elf_version(EV_CURRENT);
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->dbg_fd = -1;
	f->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = file_init(f, path, root_fd, msg, mlen);
	if (err) {
		dw_file__close(f);
		return err;
	}
	*out = f;
	return 0;
}

int dw_file__open_debug(struct dw_file **out, int fd, int dbg_fd, const char *path,
			const char *dbg_path, char *msg, size_t mlen)
{
	struct dw_file *f;
	GElf_Ehdr eh;
	int err;

	*out = NULL;
	elf_version(EV_CURRENT);
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		close(dbg_fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->dbg_fd = -1;
	f->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh)) {
		rsp_buf__msgf(msg, mlen, "no DWARF for %s: not an ELF file", path);
		err = -ENOEXEC;
	} else {
		/* As file_init(): a file without PT_LOAD gets no bias, said where one is needed. */
		layout__read(&f->lay, f->elf);
		if (debug_adopt(f, dbg_fd, dbg_path, NULL)) {
			rsp_buf__msgf(msg, mlen, "corrupt DWARF in %s refused: %s", dbg_path,
				      dwarf_errmsg(-1));
			err = -EINVAL;
		} else {
			dbg_fd = -1;
			err = check_units(f, msg, mlen, dbg_path);
		}
	}
	if (err) {
		if (dbg_fd >= 0)
			close(dbg_fd);
		dw_file__close(f);
		return err;
	}
	f->eh_cfi = dwarf_getcfi_elf(f->elf);
	*out = f;
	return 0;
}

int dw_file__open_mem(struct dw_file **out, const void *buf, size_t len, char *msg, size_t mlen)
{
	struct dw_file *f;
	int err;

	*out = NULL;
	elf_version(EV_CURRENT);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->dbg_fd = -1;
	/* libelf may decompress sections in place of its own copies, never in buf. */
	f->elf = elf_memory((char *)(uintptr_t)buf, len);
	err = file_init(f, NULL, -2, msg, mlen);
	if (err) {
		dw_file__close(f);
		return err;
	}
	*out = f;
	return 0;
}

void dw_file__close(struct dw_file *f)
{
	if (!f)
		return;
	dw_int__split_free(f);
	if (f->eh_cfi)
		dwarf_cfi_end(f->eh_cfi);
	if (f->dw)
		dwarf_end(f->dw);
	if (f->dbg_elf)
		elf_end(f->dbg_elf);
	if (f->elf)
		elf_end(f->elf);
	if (f->dbg_fd >= 0)
		close(f->dbg_fd);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

const char *dw_file__debug_path(const struct dw_file *f)
{
	return f->debug_path[0] ? f->debug_path : NULL;
}

int dw_file__debug_fd(const struct dw_file *f)
{
	return f->dbg_fd;
}

size_t dw_file__split_missing(const struct dw_file *f, const char **msg)
{
	*msg = f->split_msg;
	return f->nmissing;
}

/* The unit holding pc: aranges when the producer wrote them, else every CU's ranges. */
bool dw_int__line_cu_at(struct dw_file *f, uint64_t pc, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(f->dw, pc, cu))
		return true;
	while (dwarf_nextcu(f->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(f->dw, off + hsize, cu) && dwarf_haspc(cu, pc) > 0)
			return true;
		off = next;
	}
	return false;
}

/* DIEs without a pc that hold functions: Rust and C++ nest definitions in them. */
static bool holds_funcs(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_structure_type ||
	       tag == DW_TAG_class_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_enumeration_type;
}

/*
 * The subprogram holding pc among die's children, looking into namespaces
 * and types (dwarf_getscopes prunes a DIE without a pc, so it never finds
 * rustc's functions, all nested in the crate's and modules' namespaces).
 * depth bounds the nesting followed.
 */
static bool func_in(Dwarf_Die *die, uint64_t pc, Dwarf_Die *out, int depth)
{
	Dwarf_Die ch;

	if (depth > 16 || dwarf_child(die, &ch))
		return false;
	do {
		int tag = dwarf_tag(&ch);

		if (tag == DW_TAG_subprogram && dwarf_haspc(&ch, pc) > 0) {
			*out = ch;
			return true;
		}
		if (holds_funcs(tag) && func_in(&ch, pc, out, depth + 1))
			return true;
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

bool dw_int__func_at(Dwarf_Die *cu, uint64_t pc, Dwarf_Die *fn)
{
	return func_in(cu, pc, fn, 0);
}

/*
 * What dwarf_getscopes gives, for a function dw_int__func_at found: the
 * blocks and inlined instances holding pc, innermost first, then the
 * function.  Count (malloc'd *out), or -ENOMEM.
 */
static bool has_func(Dwarf_Die *scopes, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram ||
		    dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine)
			return true;
	return false;
}

static int nested_scopes(Dwarf_Die *fn, uint64_t pc, Dwarf_Die **out)
{
	enum { MAX_NEST = 64 };
	Dwarf_Die chain[MAX_NEST], ch;
	int n = 0, i;
	bool deeper = true;

	chain[n++] = *fn;
	while (deeper && n < MAX_NEST) {
		deeper = false;
		if (dwarf_child(&chain[n - 1], &ch))
			break;
		do {
			int tag = dwarf_tag(&ch);

			if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
			    dwarf_haspc(&ch, pc) > 0) {
				chain[n++] = ch;
				deeper = true;
				break;
			}
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
	*out = malloc(sizeof(**out) * (size_t)n);
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		(*out)[i] = chain[n - 1 - i];
	return n;
}

int dw_int__scopes_at(Dwarf_Die *cu, uint64_t pc, Dwarf_Die **out)
{
	Dwarf_Die fd;
	int n;

	*out = NULL;
	n = dwarf_getscopes(cu, pc, out);
	if (n < 0) {
		*out = NULL;
		return -EINVAL;
	}
	if (has_func(*out, n))
		return n;
	free(*out);
	*out = NULL;
	return dw_int__func_at(cu, pc, &fd) ? nested_scopes(&fd, pc, out) : 0;
}

bool dw_int__cu_at(struct dw_file *f, uint64_t pc, Dwarf_Die *cu)
{
	return dw_int__line_cu_at(f, pc, cu) && dw_int__unit(f, cu, cu);
}

static void add_var(struct dw_scope *s, struct dw_conv *c, struct loc_ctx *x, Dwarf_Die *v,
		    bool param)
{
	struct dw_var *d;
	const char *n = dwarf_diename(v);

	/* Artificial ones are the compiler's, but for C++'s `this`. */
	if (!n || (dwarf_hasattr(v, DW_AT_artificial) && strcmp(n, "this")))
		return;
	/* Go's results (~r0) are parameters with DW_AT_variable_parameter 1 and no value yet. */
	if (s->go && param && n[0] == '~')
		return;
	if (s->nvars == DW_MAX_VARS) {
		s->nvars_dropped++;
		return;
	}
	d = &s->vars[s->nvars++];
	snprintf(d->name, sizeof(d->name), "%s", n);
	d->param = param;
	d->type = dw_int__type_of(c, v, DW_AT_type, 0);
	var_loc(x, v, &d->loc);
}

int dw_file__scope(struct dw_file *f, uint64_t pc, uint64_t bias, struct dw_scope *out, char *msg,
		   size_t mlen)
{
	Dwarf_Die cu, *scopes = NULL, *fn = NULL, *sub = NULL;
	struct dw_conv *c = NULL;
	struct loc_ctx x = {0};
	Dwarf_Attribute a;
	Dwarf_Word lang;
	Dwarf_Addr lo;
	int n, i, fi = -1, err;

	memset(out, 0, sizeof(*out));
	out->pc = pc + bias;
	if (!dw_int__cu_at(f, pc, &cu)) {
		rsp_buf__msgf(msg, mlen, "no DWARF unit holds 0x%llx", (unsigned long long)pc);
		return -ENOENT;
	}
	out->go = dwarf_attr(&cu, DW_AT_language, &a) && !dwarf_formudata(&a, &lang) &&
		  lang == DW_LANG_Go;
	out->rust = dwarf_attr(&cu, DW_AT_language, &a) && !dwarf_formudata(&a, &lang) &&
		    lang == DW_LANG_Rust;
	n = dw_int__scopes_at(&cu, pc, &scopes);
	if (n < 0) {
		if (n == -EINVAL)
			rsp_buf__msgf(msg, mlen, "DWARF scopes at 0x%llx: %s",
				      (unsigned long long)pc, dwarf_errmsg(-1));
		err = n;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (fi < 0 && (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)) {
			fi = i;
			fn = &scopes[i];
		}
		if (tag == DW_TAG_subprogram && !sub)
			sub = &scopes[i];
	}
	if (!fn) {
		rsp_buf__msgf(msg, mlen, "no function with DWARF holds 0x%llx",
			      (unsigned long long)pc);
		err = -ENOENT;
		goto cleanup;
	}
	snprintf(out->func, sizeof(out->func), "%s", dwarf_diename(fn) ? dwarf_diename(fn) : "??");
	out->inlined = dwarf_tag(fn) == DW_TAG_inlined_subroutine;
	if (dwarf_entrypc(fn, &lo) && dwarf_lowpc(fn, &lo))
		lo = pc;
	out->entry = lo + bias;
	c = dw_int__conv_new(out, out->go);
	if (!c) {
		err = -ENOMEM;
		goto cleanup;
	}
	x.f = f;
	x.pc = pc;
	x.entry = lo;
	if (sub && sub != fn && dwarf_entrypc(sub, &x.entry) && dwarf_lowpc(sub, &x.entry))
		x.entry = lo;
	x.bias = bias;
	x.fn = sub;
	/* Parameters of the function, then locals from the innermost block out. */
	for (i = fi; i >= 0; i--) {
		Dwarf_Die ch;

		if (dwarf_child(&scopes[i], &ch))
			continue;
		do {
			int tag = dwarf_tag(&ch);

			if (tag == DW_TAG_formal_parameter && i == fi)
				add_var(out, c, &x, &ch, true);
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
	for (i = 0; i <= fi; i++) {
		Dwarf_Die ch;

		if (dwarf_child(&scopes[i], &ch))
			continue;
		do {
			if (dwarf_tag(&ch) == DW_TAG_variable)
				add_var(out, c, &x, &ch, false);
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
	err = 0;
cleanup:
	free(c);
	free(scopes);
	if (err)
		dw_scope__free(out);
	return err;
}

/* Load bias of the file mapped at m: runtime = file vaddr + bias (stub/program/layout.h). */
int dw_file__map_bias(const struct dw_file *f, const struct tgt_map *maps, size_t n,
		      const struct tgt_map *m, uint64_t *bias)
{
	return layout__file_bias(&f->lay, maps, n, m, bias);
}
