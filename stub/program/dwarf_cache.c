/* SPDX-License-Identifier: MIT */
/*
 * stub/program/dwarf_cache.c - the target's files for the DWARF layer (stub/program/dwarf.h).
 *
 * A pc of the live target belongs to a file mapping; the cache opens that
 * file (through /proc/PID/map_files, else inside the target's root) as a
 * struct dw_file once, keeps at most DW_MAX_FILES open (the least recently
 * used goes), and remembers a file that has no usable DWARF with its
 * message, so it is not reopened on every tracepoint and `monitor status`
 * can say why nothing deeper is collected.  A file with no DWARF and no
 * local debug file is looked up on the debuginfod servers
 * (stub/program/debuginfo.h) when the program gave the cache its client;
 * a file not asked yet because no request could wait is opened again by
 * the next lookup that may ask.  Runtime and file addresses
 * differ by the mapping's load bias.  The cache belongs to the target's
 * program context (stub/program/program.h), the one per target; without a
 * live process (t NULL) every lookup finds nothing (-ESRCH).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/program/debuginfo.h"
#include "stub/program/dwarf.h"
#include "stub/program/target.h"

struct dw_entry {
	uint64_t inode;
	char path[512];
	struct dw_file *f; /* NULL: no DWARF, see err/msg */
	int err;
	char msg[700];
	uint64_t used;
	int goid_err; /* 1: not looked up yet */
	int64_t goid_off;
};

struct dw_cache {
	struct dw_entry e[DW_MAX_FILES];
	size_t n;
	uint64_t clock;
	struct dbgi *dbgi; /* debuginfod, or NULL (not owned) */
};

struct dw_cache *dw_cache__new(void)
{
	return calloc(1, sizeof(struct dw_cache));
}

void dw_cache__flush(struct dw_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		dw_file__close(c->e[i].f);
	c->n = 0;
}

void dw_cache__set_debuginfo(struct dw_cache *c, struct dbgi *d)
{
	c->dbgi = d;
}

/*
 * A stripped file (m, its DWARF refused with -ENOENT): its debug file from
 * the debuginfod servers.  The message says both why not locally and why
 * not from the servers.
 */
static int open_remote(struct dw_cache *c, struct tgt *t, const struct tgt_map *m,
		       struct dw_entry *e)
{
	char dpath[256], why[300];
	int fd, dfd, err;

	fd = tgt__open_mapping(t, m);
	if (fd < 0)
		return e->err;
	err = dbgi__find(c->dbgi, fd, m->path, &dfd, dpath, sizeof(dpath), why, sizeof(why));
	if (!err)
		return dw_file__open_debug(&e->f, fd, dfd, m->path, dpath, e->msg, sizeof(e->msg));
	close(fd);
	if (err != -ENOSYS) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, "; %s", why);
	}
	return err == -EAGAIN ? err : e->err;
}

void dw_cache__free(struct dw_cache *c)
{
	dw_cache__flush(c);
	free(c);
}

static struct dw_entry *cache_get(struct dw_cache *c, struct tgt *t, const struct tgt_map *m)
{
	struct dw_entry *e = NULL;
	size_t i;
	int fd;

	for (i = 0; i < c->n; i++)
		if (c->e[i].inode == m->inode && !strcmp(c->e[i].path, m->path)) {
			e = &c->e[i];
			e->used = ++c->clock;
			/* Not asked before, and now the servers may be: open it again. */
			if (e->err != -EAGAIN || !dbgi__may_ask(c->dbgi))
				return e;
			break;
		}
	if (!e && c->n < DW_MAX_FILES) {
		e = &c->e[c->n++];
	} else if (!e) {
		e = &c->e[0];
		for (i = 1; i < c->n; i++)
			if (c->e[i].used < e->used)
				e = &c->e[i];
		dw_file__close(e->f);
	}
	memset(e, 0, sizeof(*e));
	e->inode = m->inode;
	e->used = ++c->clock;
	e->goid_err = 1;
	snprintf(e->path, sizeof(e->path), "%.511s", m->path);
	fd = tgt__open_mapping(t, m);
	if (fd < 0) {
		e->err = fd;
		snprintf(e->msg, sizeof(e->msg), "no DWARF for %s: cannot open it: %s", m->path,
			 strerror(-fd));
		return e;
	}
	e->err = dw_file__open_fd(&e->f, fd, m->path, t->root_fd, e->msg, sizeof(e->msg));
	if (e->err == -ENOENT && c->dbgi)
		e->err = open_remote(c, t, m, e);
	return e;
}

/* The file mapping of t holding pc. */
static int find_map(struct tgt *t, uint64_t pc, struct tgt_map *out, char *msg, size_t mlen)
{
	int err;

	if (!t) {
		rsp_buf__msgf(msg, mlen, "no live process: its files are unknown");
		return -ESRCH;
	}
	err = tgt__region(t, pc, out);
	if (err) {
		rsp_buf__msgf(msg, mlen, "cannot read the maps of pid %d: %s", (int)t->pid,
			      strerror(-err));
		return err;
	}
	if (out->path[0] != '/' || !out->inode) {
		rsp_buf__msgf(msg, mlen, "0x%llx is not in a file the target maps",
			      (unsigned long long)pc);
		return -ENOENT;
	}
	return 0;
}

/* The open file holding runtime address addr and its load bias: 0, or -errno with msg. */
static int file_at(struct dw_cache *c, struct tgt *t, uint64_t addr, struct tgt_map *m,
		   struct dw_file **f, uint64_t *bias, char *msg, size_t mlen)
{
	struct dw_entry *e;
	int err = find_map(t, addr, m, msg, mlen);

	if (err)
		return err;
	e = cache_get(c, t, m);
	if (!e->f) {
		rsp_buf__msgf(msg, mlen, "%s", e->msg);
		return e->err ? e->err : -ENOENT;
	}
	if (dw_file__map_bias(e->f, m, bias)) {
		rsp_buf__msgf(msg, mlen, "no DWARF for %s: no PT_LOAD for its mapping at 0x%llx",
			      m->path, (unsigned long long)m->start);
		return -ENOENT;
	}
	*f = e->f;
	return 0;
}

int dw_cache__scope(struct dw_cache *c, struct tgt *t, uint64_t pc, struct dw_scope *out, char *msg,
		    size_t mlen)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias;
	int err;

	memset(out, 0, sizeof(*out));
	err = file_at(c, t, pc, &m, &f, &bias, msg, mlen);
	if (err)
		return err;
	err = dw_file__scope(f, pc - bias, bias, out, msg, mlen);
	if (!err)
		snprintf(out->path, sizeof(out->path), "%.511s", m.path);
	else if (err == -ENOENT)
		rsp_buf__msgf(msg, mlen, "no DWARF for 0x%llx in %s", (unsigned long long)pc,
			      m.path);
	return err;
}

/* Run q over each distinct file t maps (first mapping of each), pcs made runtime. */
static int each_file(struct dw_cache *c, struct tgt *t, const char *name, const char *file,
		     int line, uint64_t *pcs, size_t max)
{
	struct tgt_map *maps = NULL;
	size_t n = 0, i, j, found = 0;
	int err;

	if (!t)
		return -ESRCH;
	err = tgt__maps(t, &maps, &n);
	if (err)
		return err;
	for (i = 0; i < n && found < max; i++) {
		struct dw_entry *e;
		uint64_t bias, start = found;
		int k;
		bool seen = false;

		if (maps[i].path[0] != '/' || !maps[i].inode)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = maps[j].inode == maps[i].inode &&
			       !strcmp(maps[j].path, maps[i].path);
		if (seen)
			continue;
		e = cache_get(c, t, &maps[i]);
		if (!e->f || dw_file__map_bias(e->f, &maps[i], &bias))
			continue;
		k = name ? dw_file__func_pcs(e->f, name, pcs + found, max - found)
			 : dw_file__line_pcs(e->f, file, line, pcs + found, max - found);
		if (k > 0)
			found += (size_t)k;
		for (; start < found; start++)
			pcs[start] += bias;
	}
	free(maps);
	return (int)found;
}

int dw_cache__func_pcs(struct dw_cache *c, struct tgt *t, const char *name, uint64_t *pcs,
		       size_t max)
{
	return each_file(c, t, name, NULL, 0, pcs, max);
}

int dw_cache__line_pcs(struct dw_cache *c, struct tgt *t, const char *file, int line, uint64_t *pcs,
		       size_t max)
{
	return each_file(c, t, NULL, file, line, pcs, max);
}

int dw_cache__go_goid(struct dw_cache *c, struct tgt *t, uint64_t pc, int64_t *off, char *msg,
		      size_t mlen)
{
	struct dw_entry *e;
	struct tgt_map m;
	int err;

	err = find_map(t, pc, &m, msg, mlen);
	if (err)
		return err;
	e = cache_get(c, t, &m);
	if (!e->f) {
		rsp_buf__msgf(msg, mlen, "%s", e->msg);
		return e->err ? e->err : -ENOENT;
	}
	if (e->goid_err == 1)
		e->goid_err = dw_file__member_offset(e->f, "runtime.g", "goid", &e->goid_off);
	if (e->goid_err) {
		rsp_buf__msgf(msg, mlen, "no runtime.g.goid in the DWARF of %s (not a Go program)",
			      m.path);
		return e->goid_err;
	}
	*off = e->goid_off;
	return 0;
}

int dw_cache__go_rtype(struct dw_cache *c, struct tgt *t, uint64_t addr, struct dw_scope *s,
		       const struct dw_type **out, char *name, size_t nlen)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias;
	int err;

	*out = NULL;
	err = file_at(c, t, addr, &m, &f, &bias, name, nlen);
	return err ? err : dw_file__go_rtype(f, addr - bias, s, out, name, nlen);
}

int dw_cache__after_prologue(struct dw_cache *c, struct tgt *t, uint64_t entry, uint64_t *pc)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias, fpc;
	char msg[16];
	int err;

	*pc = entry;
	err = file_at(c, t, entry, &m, &f, &bias, msg, sizeof(msg));
	if (err)
		return err;
	err = dw_file__after_prologue(f, entry - bias, &fpc);
	*pc = fpc + bias;
	return err;
}

int dw_cache__func_results(struct dw_cache *c, struct tgt *t, uint64_t entry, struct dw_func *out,
			   char *msg, size_t mlen)
{
	struct dw_file *f;
	struct tgt_map m;
	uint64_t bias;
	int err;

	memset(out, 0, sizeof(*out));
	err = file_at(c, t, entry, &m, &f, &bias, msg, mlen);
	if (err)
		return err;
	err = dw_file__func_results(f, entry - bias, bias, out, msg, mlen);
	if (!err)
		snprintf(out->s.path, sizeof(out->s.path), "%.511s", m.path);
	return err;
}

int dw_cache__stripped_func(struct dw_cache *c, struct tgt *t, const char *name, char *path,
			    size_t plen)
{
	struct tgt_map *maps = NULL;
	size_t n = 0, i;
	int found = 0;

	if (!t || tgt__maps(t, &maps, &n))
		return 0;
	for (i = 0; i < n && !found; i++) {
		struct dw_entry *e;
		int fd;

		if (maps[i].path[0] != '/' || !maps[i].inode || maps[i].offset)
			continue;
		e = cache_get(c, t, &maps[i]);
		if (e->f)
			continue;
		fd = tgt__open_mapping(t, &maps[i]);
		if (fd < 0)
			continue;
		if (dw_elf__has_func(fd, name)) {
			snprintf(path, plen, "%s", maps[i].path);
			found = 1;
		}
		close(fd);
	}
	free(maps);
	return found;
}
