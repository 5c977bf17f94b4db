/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_dwarf.c - the DWARF layer (stub/program/dwarf.c) and deep
 * collection (stub/trace/deep.c) on real programs.
 *
 * Targets: tests/targets/deep_c.c at -O0 and -O2 (PIE) and the Go program
 * tests/targets/deepgo (built by `make -C tests/targets`, which this test
 * runs when they are missing).  Variants made here with objcopy/strip:
 * .zdebug_* sections (zlib-gnu), a separate debug file found by
 * .gnu_debuglink, a stripped file, and one with a corrupt .debug_info.
 *
 * Checked: function names and entry pcs, parameters with their locations at
 * known pcs (registers at -O2 entry, rbp-relative slots at -O0, Go's register
 * pieces), types (struct members and offsets, Go string/slice/pointer), the
 * deep plan (what it covers, every expression accepted by the validator,
 * the budget kept), and, when BPF works, the plan run on real uprobe hits:
 * the M blocks hold the strings, the struct and the slice's elements.
 */
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "bpf/ax.h"
#include "bpf/collect.h"
#include "bpf/probe.h"
#include "bpf/record.h"
#include "bpf/ring.h"
#include "rsp/buf.h"
#include "stub/program/dwarf.h"
#include "stub/program/target.h"
#include "stub/trace/deep.h"
#include "stub/trace/trace.h"
#include "tests/unit/bpf_env.h"
#include "tests/unit/check.h"

#define TB "tests/targets/build/"

static char tmpdir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static struct dw_file *open_file(const char *path, int *err, char *msg, size_t mlen)
{
	struct dw_file *f = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	msg[0] = '\0';
	if (fd < 0) {
		*err = -errno;
		snprintf(msg, mlen, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	*err = dw_file__open_fd(&f, fd, path, -1, msg, mlen);
	return f;
}

/* open_file, which must succeed. */
static struct dw_file *must_open(const char *path)
{
	char msg[512];
	int err;
	struct dw_file *f = open_file(path, &err, msg, sizeof(msg));

	CHECKF(f && !err, "open %s: %s", path, msg);
	return f;
}

static const struct dw_var *var(const struct dw_scope *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nvars; i++)
		if (!strcmp(s->vars[i].name, name))
			return &s->vars[i];
	return NULL;
}

static bool is_reg(const struct dw_var *v, int reg)
{
	return v && v->loc.npieces == 1 && v->loc.pieces[0].kind == DWP_REG &&
	       v->loc.pieces[0].reg == reg;
}

static int scope_of(struct dw_file *f, const char *fn, uint64_t delta, struct dw_scope *s)
{
	uint64_t pcs[4];
	char msg[256];
	int n = dw_file__func_pcs(f, fn, pcs, 4);

	if (n != 1) {
		printf("  %s: %d entry pcs\n", fn, n);
		return -ENOENT;
	}
	n = dw_file__scope(f, pcs[0] + delta, 0, s, msg, sizeof(msg));
	if (n)
		printf("  scope of %s: %s\n", fn, msg);
	return n;
}

/* Every expression of the plan passes the validator; their blocks fit the budget. */
static void check_plan(const struct deep_plan *p, uint32_t budget, const char *what)
{
	size_t i, rec = 0;

	for (i = 0; i < p->n; i++) {
		struct bpfc_ax ax;
		char msg[256];
		int err = bpfc_ax__parse(&ax, p->code[i], p->len[i], 0, msg, sizeof(msg));

		CHECKF(!err, "%s: expression %zu refused: %s", what, i, msg);
		rec += ax.rec_size;
		bpfc_ax__free(&ax);
	}
	CHECKF(rec == p->bytes && rec <= budget, "%s: %zu bytes reserved, plan says %u, budget %u",
	       what, rec, p->bytes, budget);
}

static void test_c(const char *path, bool o2)
{
	struct dw_scope s;
	const struct dw_var *it, *name, *n;
	const struct dw_type *t, *st;
	struct deep_plan plan;
	struct dw_file *f;
	char msg[512], tn[96];
	int err;

	f = must_open(path);
	if (!f)
		return;
	{
		int64_t goid;

		CHECK(dw_file__member_offset(f, "runtime.g", "goid", &goid) == -ENOENT);
	}
	CHECK(dw_file__count_funcs(f) >= 2);
	/* -O2: at the entry pc, the psABI registers.  -O0: after the prologue, rbp slots. */
	err = scope_of(f, "process", o2 ? 0 : 8, &s);
	CHECK(!err);
	if (err)
		goto cleanup;
	CHECK(!strcmp(s.func, "process") && !s.go && !s.inlined);
	it = var(&s, "it");
	name = var(&s, "name");
	n = var(&s, "n");
	CHECKF(it && name && n && it->param && name->param && n->param, "%zu vars", s.nvars);
	if (!it || !name || !n)
		goto cleanup;
	if (o2) {
		CHECK(is_reg(it, 5) && is_reg(name, 4) && is_reg(n, 1)); /* rdi rsi rdx */
		CHECK(dw__gdb_reg(1) == 3 && dw__gdb_reg(3) == 1 && dw__gdb_reg(5) == 5);
	} else {
		/* fbreg off the CFA, which is rbp + 16 once the frame is set up */
		CHECKF(it->loc.npieces == 1 && it->loc.pieces[0].kind == DWP_MEM &&
			       it->loc.pieces[0].reg == 6 && it->loc.pieces[0].off < 0,
		       "it: kind %d reg %d off %lld (%s)", it->loc.pieces[0].kind,
		       it->loc.pieces[0].reg, (long long)it->loc.pieces[0].off, it->loc.why);
		CHECK(name->loc.pieces[0].kind == DWP_MEM &&
		      name->loc.pieces[0].off == it->loc.pieces[0].off - 8);
	}
	t = dw_type__strip(it->type);
	CHECK(t && t->kind == DWT_PTR);
	st = t ? dw_type__strip(t->target) : NULL;
	CHECKF(st && st->kind == DWT_STRUCT && st->size == 32 && st->nmembers == 4,
	       "struct item: %s", st ? dw_type__name(st, tn, sizeof(tn)) : "none");
	if (st && st->nmembers == 4) {
		CHECK(!strcmp(st->members[0].name, "id") && st->members[0].offset == 0);
		CHECK(!strcmp(st->members[2].name, "label") && st->members[2].offset == 16);
		CHECK(dw_type__strip(st->members[1].type)->encoding == DW_ATE_float);
		CHECK(!strcmp(dw_type__name(st->members[3].type, tn, sizeof(tn)), "struct item *"));
	}
	CHECKF(!strcmp(dw_type__name(name->type, tn, sizeof(tn)), "char *"), "name: %s", tn);
	CHECK(dw_type__strip(n->type)->kind == DWT_BASE && dw_type__strip(n->type)->size == 8);

	err = deep__plan(&s, 4096, &plan);
	CHECK(!err);
	CHECKF(plan.n == (o2 ? 2u : 3u), "%s: %zu expressions: %s", path, plan.n, plan.summary);
	CHECKF(strstr(plan.summary, "name (C string, 255)") &&
		       strstr(plan.summary, "*it (32 bytes (it.label, it.next))"),
	       "summary: %s", plan.summary);
	check_plan(&plan, 4096, path);
	deep__plan_free(&plan);
	/* A budget too small for the string: only the struct. */
	err = deep__plan(&s, 200, &plan);
	CHECKF(!err && strstr(plan.summary, "*it (32 bytes") && !strstr(plan.summary, "C string") &&
		       strstr(plan.summary, "left out"),
	       "budget 200: %s", plan.summary);
	check_plan(&plan, 200, "budget 200");
	deep__plan_free(&plan);
	dw_scope__free(&s);

	/* FILE:LINE -> pc: the line of "long s = n;" is in process. */
	{
		uint64_t pcs[4];
		int k = dw_file__line_pcs(f, "deep_c.c", 37, pcs, 4);

		CHECKF(k >= 1, "deep_c.c:37: %d pcs", k);
		if (k >= 1 && !dw_file__scope(f, pcs[0], 0, &s, msg, sizeof(msg))) {
			CHECK(!strcmp(s.func, "process"));
			dw_scope__free(&s);
		}
	}
cleanup:
	dw_scope__free(&s);
	dw_file__close(f);
}

static void test_go(const char *path)
{
	const struct dw_var *name, *n, *p, *tags;
	const struct dw_type *t;
	struct deep_plan plan;
	struct dw_scope s;
	struct dw_file *f;
	char tn[96];
	int err;

	f = must_open(path);
	if (!f)
		return;
	err = scope_of(f, "main.handle", 0, &s);
	CHECK(!err);
	if (err)
		goto cleanup;
	CHECK(s.go && !strcmp(s.func, "main.handle"));
	{
		/* runtime.g's goid, for the goroutine id of a frame (g is in r14). */
		int64_t goid = -1;

		CHECK(dw_file__member_offset(f, "runtime.g", "goid", &goid) == 0);
		CHECKF(goid >= 96 && goid < 512 && goid % 8 == 0, "goid at %lld", (long long)goid);
		CHECK(dw_file__member_offset(f, "runtime.g", "nosuch", &goid) == -ENOENT);
	}
	name = var(&s, "name");
	n = var(&s, "n");
	p = var(&s, "p");
	tags = var(&s, "tags");
	CHECK(name && n && p && tags && !var(&s, "~r0"));
	if (!name || !n || !p || !tags)
		goto cleanup;
	/* Go's register ABI: a string in rax:rbx, a slice in rsi:r8:r9 (DWARF 0:3, 4:8:9). */
	CHECKF(name->loc.npieces == 2 && name->loc.pieces[0].reg == 0 &&
		       name->loc.pieces[1].reg == 3 && name->loc.pieces[1].size == 8,
	       "name: %zu pieces", name->loc.npieces);
	CHECK(is_reg(n, 2) && is_reg(p, 5));
	CHECK(tags->loc.npieces == 3 && tags->loc.pieces[2].reg == 9);
	t = dw_type__strip(name->type);
	CHECK(t && t->kind == DWT_GO_STRING && t->size == 16);
	t = dw_type__strip(tags->type);
	CHECKF(t && t->kind == DWT_GO_SLICE && t->target && t->target->kind == DWT_GO_STRING,
	       "tags: %s", dw_type__name(tags->type, tn, sizeof(tn)));
	t = dw_type__strip(p->type);
	CHECK(t && t->kind == DWT_PTR);
	t = t ? dw_type__strip(t->target) : NULL;
	CHECKF(t && t->kind == DWT_STRUCT && t->nmembers == 3 && t->size == 32 &&
		       dw_type__strip(t->members[2].type)->kind == DWT_GO_STRING,
	       "*p: %s", t ? dw_type__name(t, tn, sizeof(tn)) : "none");

	err = deep__plan(&s, 4096, &plan);
	CHECKF(!err && plan.n == 3, "%zu expressions: %s", plan.n, plan.summary);
	CHECKF(strstr(plan.summary, "name (Go string, 255)") &&
		       strstr(plan.summary, "*p (32 bytes (p.Label))") &&
		       strstr(plan.summary, "tags ([]string,") &&
		       strstr(plan.summary, "what 8 elements point to"),
	       "summary: %s", plan.summary);
	check_plan(&plan, 4096, "go");
	deep__plan_free(&plan);
	dw_scope__free(&s);

	/* Go's interface, map and chan, as the toolchain describes them. */
	err = scope_of(f, "main.kinds", 0, &s);
	CHECK(!err);
	if (err)
		goto cleanup;
	t = var(&s, "err") ? dw_type__strip(var(&s, "err")->type) : NULL;
	CHECKF(t && t->kind == DWT_GO_IFACE, "err: %d", t ? (int)t->kind : -1);
	t = var(&s, "any") ? dw_type__strip(var(&s, "any")->type) : NULL;
	CHECKF(t && t->kind == DWT_GO_EFACE, "any: %d", t ? (int)t->kind : -1);
	t = var(&s, "m") ? dw_type__strip(var(&s, "m")->type) : NULL;
	CHECKF(t && t->kind == DWT_GO_MAP && t->size == 8, "m: %d", t ? (int)t->kind : -1);
	t = var(&s, "c") ? dw_type__strip(var(&s, "c")->type) : NULL;
	CHECKF(t && t->kind == DWT_GO_CHAN, "c: %d", t ? (int)t->kind : -1);
	err = deep__plan(&s, 4096, &plan);
	CHECKF(!err && plan.n == 4 && strstr(plan.summary, "err (error: the value, 255)") &&
		       strstr(plan.summary, "any (interface {}: the value, 255)") &&
		       strstr(plan.summary, "*m (map header, ") &&
		       strstr(plan.summary, "*c (chan header, "),
	       "kinds: %zu: %s", plan.n, plan.summary);
	check_plan(&plan, 4096, "go kinds");
	deep__plan_free(&plan);
	/* Later in the body the string is half spilled: only what the location gives. */
cleanup:
	dw_scope__free(&s);
	dw_file__close(f);
}

/* Overwrite the start of .debug_info of a copy with junk. */
static int corrupt_copy(const char *from, const char *to)
{
	int fd, err = -1;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (sh("cp %s %s", from, to))
		return -1;
	fd = open(to, O_RDWR);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto cleanup;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, ".debug_info")) {
			unsigned char junk[16];

			memset(junk, 0x7f, sizeof(junk));
			junk[4] = 9; /* DWARF version 9 */
			junk[5] = 0;
			err = pwrite(fd, junk, sizeof(junk), (off_t)sh.sh_offset) == sizeof(junk)
				      ? 0
				      : -1;
		}
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static void test_variants(void)
{
	char p[256], q[256], msg[512];
	struct dw_scope s;
	struct dw_file *f;
	int err;

	/* .zdebug_* (zlib-gnu), the pre-SHF_COMPRESSED scheme; Go 1.19 uses SHF_COMPRESSED. */
	snprintf(p, sizeof(p), "%s/zdebug", tmpdir);
	CHECK(!sh("objcopy --compress-debug-sections=zlib-gnu " TB "deep_c-O2 %s", p));
	CHECK(!sh("readelf -S %s | grep -q zdebug_info", p));
	f = open_file(p, &err, msg, sizeof(msg));
	CHECKF(f && !scope_of(f, "process", 0, &s) && var(&s, "name"), "zdebug: %s", msg);
	dw_scope__free(&s);
	dw_file__close(f);

	/* Separate debug file, found by .gnu_debuglink next to the file. */
	snprintf(p, sizeof(p), "%s/linked", tmpdir);
	snprintf(q, sizeof(q), "%s/linked.debug", tmpdir);
	CHECK(!sh("objcopy --only-keep-debug " TB "deep_c-O2 %s && objcopy --strip-debug "
		  "--add-gnu-debuglink=%s " TB "deep_c-O2 %s",
		  q, q, p));
	f = open_file(p, &err, msg, sizeof(msg));
	CHECKF(f && dw_file__debug_path(f) && !strcmp(dw_file__debug_path(f), q), "debuglink: %s",
	       msg);
	CHECK(f && !scope_of(f, "process", 0, &s) && var(&s, "it"));
	dw_scope__free(&s);
	dw_file__close(f);

	/* Stripped: a message, no crash. */
	snprintf(p, sizeof(p), "%s/stripped", tmpdir);
	CHECK(!sh("strip -o %s " TB "deep_c-O2", p));
	f = open_file(p, &err, msg, sizeof(msg));
	CHECKF(!f && err == -ENOENT && strstr(msg, "no DWARF for") && strstr(msg, "stripped"),
	       "stripped: %d %s", err, msg);

	/* Corrupt .debug_info: refused with a message. */
	snprintf(p, sizeof(p), "%s/corrupt", tmpdir);
	CHECK(!corrupt_copy(TB "deep_c-O2", p));
	f = open_file(p, &err, msg, sizeof(msg));
	CHECKF(!f && err == -EINVAL && strstr(msg, "corrupt DWARF"), "corrupt: %d %s", err, msg);
	dw_file__close(f);

	/* libc by build-id, when its debug file is installed: time the load and index. */
	{
		struct timespec a, b;
		const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";

		clock_gettime(CLOCK_MONOTONIC, &a);
		f = open_file(libc, &err, msg, sizeof(msg));
		if (f) {
			int nf = dw_file__count_funcs(f);

			clock_gettime(CLOCK_MONOTONIC, &b);
			printf("  libc (%s): %d functions indexed in %.0f ms\n",
			       dw_file__debug_path(f) ? dw_file__debug_path(f) : "no debug file",
			       nf, (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
			CHECK(nf > 1000);
			dw_file__close(f);
		} else {
			printf("  libc: %s (no debug file installed)\n", msg);
		}
	}
}

/* Arbitrary bytes as an ELF file: never a crash (the fuzz target's seed check). */
static void test_junk(void)
{
	static unsigned char junk[4096];
	struct dw_file *f;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	CHECK(dw_file__open_mem(&f, junk, sizeof(junk), msg, sizeof(msg)) < 0 && !f);
	memcpy(junk, "\177ELF\2\1\1", 7);
	CHECK(dw_file__open_mem(&f, junk, sizeof(junk), msg, sizeof(msg)) < 0 && !f);
}

/* ---- real hits ---- */

struct hits {
	int nrec;
	char strs[16][64];
	int nstr;
	uint64_t maddr[64];
	size_t mlen[64];
	unsigned char mdata[64][64];
	int nm;
};

static int on_block(void *ctx, char type, const void *blk, size_t len)
{
	struct hits *h = ctx;
	__u64 addr;
	const void *d;
	size_t l;

	if (type != BPFC_BLK_MEM || bpfc_rec__mem(blk, len, &addr, &d, &l))
		return 0;
	if (h->nm < 64) {
		h->maddr[h->nm] = addr;
		h->mlen[h->nm] = l;
		memcpy(h->mdata[h->nm], d, l < 64 ? l : 64);
		h->nm++;
	}
	return 0;
}

static int on_rec(void *ctx, void *data, size_t len)
{
	struct hits *h = ctx;

	if (h->nrec++ == 0)
		bpfc_rec__foreach_block(data, len, on_block, h, NULL);
	return 0;
}

/* A block of blen bytes that starts with len bytes. */
static bool has_prefix(const struct hits *h, const char *bytes, size_t len, size_t blen)
{
	int i;

	for (i = 0; i < h->nm; i++)
		if (h->mlen[i] == blen && !memcmp(h->mdata[i], bytes, len < 64 ? len : 64))
			return true;
	return false;
}

static bool has_block(const struct hits *h, const char *bytes, size_t len)
{
	return has_prefix(h, bytes, len, len);
}

/* Launch path, plan deep collection for fn at its entry, run it on real hits. */
static void run_hits(const char *path, const char *fn, struct hits *h, char *summary, size_t slen)
{
	struct bpfc_expr ex[DEEP_MAX_EXPRS];
	struct bpfc_spec spec = {0};
	struct bpfc_prog prog = {.fd = -1};
	struct bpfc_probe pr = {.perf_fd = -1, .link_fd = -1};
	struct bpfc_ring *ring = NULL;
	struct dw_cache *c = dw_cache__new();
	struct deep_plan plan = {0};
	struct dw_scope s = {0};
	struct tgt t = {0};
	char *argv[] = {(char *)path, NULL};
	char msg[512];
	uint64_t pc;
	size_t i;
	int counters = -1, err;

	memset(h, 0, sizeof(*h));
	t.root_fd = t.mem_fd = -1;
	err = tgt__launch(&t, argv, msg, sizeof(msg));
	CHECKF(!err, "launch %s: %s", path, msg);
	if (err)
		goto cleanup;
	usleep(100000);
	err = dw_cache__func_pcs(c, &t, fn, &pc, 1) == 1 ? 0 : -ENOENT;
	CHECKF(!err, "%s: no runtime pc", fn);
	if (err)
		goto cleanup;
	err = dw_cache__scope(c, &t, pc, &s, msg, sizeof(msg));
	CHECKF(!err, "runtime scope: %s", msg);
	if (err)
		goto cleanup;
	err = deep__plan(&s, 4096, &plan);
	snprintf(summary, slen, "%s", plan.summary);
	for (i = 0; i < plan.n; i++) {
		ex[i].code = plan.code[i];
		ex[i].len = plan.len[i];
	}
	counters = bpfc_counters__create(1);
	err = bpfc_ring__new(&ring, 1 << 20, on_rec, h);
	CHECK(!err && counters >= 0);
	if (err || counters < 0)
		goto cleanup;
	spec.actions = ex;
	spec.nactions = plan.n;
	err = bpfc_prog__build(&spec, bpfc_ring__map_fd(ring), counters, &prog);
	CHECKF(!err, "build: %s", prog.msg);
	if (!err) {
		err = bpfc_prog__load(&prog);
		CHECKF(!err, "load: %s %s", strerror(-err),
		       prog.log ? prog.log + (strlen(prog.log) > 2000 ? strlen(prog.log) - 2000 : 0)
				: "");
	}
	if (!err) {
		err = bpfc_probe__attach(&pr, t.pid, pc, prog.fd, BPFC_PROBE_PATH_AUTO, msg,
					 sizeof(msg));
		CHECKF(!err, "attach: %s", msg);
	}
	if (!err) {
		usleep(60000);
		bpfc_probe__detach(&pr);
		bpfc_ring__consume(ring);
	}
cleanup:
	if (t.pid > 0) {
		kill(t.pid, SIGKILL);
		waitpid(t.pid, NULL, 0);
	}
	tgt__close(&t);
	bpfc_prog__free(&prog);
	if (ring)
		bpfc_ring__free(ring);
	if (counters >= 0)
		close(counters);
	deep__plan_free(&plan);
	dw_scope__free(&s);
	dw_cache__free(c);
}

static void test_hits(void)
{
	static const char item0[] = {7, 0, 0, 0}, item1[] = {8, 0, 0, 0};
	char sum[600];
	struct hits h;

	run_hits(TB "deep_c-O2", "process", &h, sum, sizeof(sum));
	CHECKF(h.nrec > 0 && h.nm >= 3, "C: %d records, %d blocks (%s)", h.nrec, h.nm, sum);
	/* The first hit is i = 0 or later: either names[0] with items[0], or names[1] with
	 * items[1]. */
	CHECKF((has_block(&h, "alpha", 6) && has_block(&h, "seven", 6)) ||
		       (has_block(&h, "bravo-charlie", 14) && has_block(&h, "eight", 6)),
	       "C: strings not collected (%d blocks)", h.nm);
	CHECK(has_prefix(&h, item0, 4, 32) || has_prefix(&h, item1, 4, 32)); /* struct item */

	run_hits(TB "deepgo", "main.handle", &h, sum, sizeof(sum));
	CHECKF(h.nrec > 0, "Go: no record (%s)", sum);
	CHECKF(has_block(&h, "alpha", 5) || has_block(&h, "bravo-charlie", 13), "Go: name");
	CHECKF(has_block(&h, "origin", 6) || has_block(&h, "far", 3), "Go: p.Label");
	CHECKF(has_block(&h, "a", 1) && has_block(&h, "bb", 2), "Go: tags' strings");
}

/*
 * deep__append and deep__status as tp_load and `monitor status` use them:
 * path's process() at its entry, with `collect $regs` (or without).
 */
static void status_of(const char *path, bool regs, char *out, size_t olen, size_t *nexpr)
{
	struct tp_action act = {.kind = TPA_REGS, .regmask = {~0ull, 0}};
	struct bpfc_expr ex[DEEP_MAX_EXPRS];
	char *argv[] = {(char *)path, NULL};
	struct trace tr = {0};
	struct tp tp = {0};
	struct rsp_buf b;
	struct tgt t = {0};
	uint64_t sym = 0;
	char msg[512], cmd[600];
	FILE *p;

	*nexpr = 0;
	out[0] = '\0';
	rsp_buf__init(&b);
	t.root_fd = t.mem_fd = -1;
	/* the symbol from the unstripped build: the copy may have none */
	snprintf(cmd, sizeof(cmd), "nm " TB "deep_c-O2 | awk '$3 == \"process\" {print $1}'");
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%llx", (unsigned long long *)&sym) != 1)
		sym = 0;
	if (p)
		pclose(p);
	if (!sym || tgt__launch(&t, argv, msg, sizeof(msg))) {
		CHECKF(0, "launch %s: %s", path, msg);
		return;
	}
	usleep(50000);
	tr.tgt = &t;
	tr.deep_budget = TR_DEEP_BUDGET_DEFAULT;
	tp.num = 1;
	tp.addr = t.load_bias + sym;
	tp.act = &act;
	tp.nact = regs ? 1 : 0;
	tr.tps = &tp;
	tr.ntps = 1;
	deep__append(&tr, &tp, ex, nexpr, DEEP_MAX_EXPRS);
	deep__status(&tr, &b);
	snprintf(out, olen, "%.*s", (int)b.len, b.data);
	deep__free(tr.deep);
	rsp_buf__free(&b);
	kill(t.pid, SIGKILL);
	waitpid(t.pid, NULL, 0);
	tgt__close(&t);
}

static void test_status(void)
{
	char out[2048], p[256], head[80];
	size_t n;

	snprintf(head, sizeof(head), "deep collection: %u bytes per hit, depth 2\n",
		 TR_DEEP_BUDGET_DEFAULT);
	status_of(TB "deep_c-O2", true, out, sizeof(out), &n);
	CHECKF(n == 2 && strstr(out, head) && strstr(out, "tracepoint 1 at 0x") &&
		       strstr(out,
			      ": deep: *it (32 bytes (it.label, it.next)), name (C string, 255)"),
	       "status (%zu expressions):\n%s", n, out);
	status_of(TB "deep_c-O2", false, out, sizeof(out), &n);
	CHECKF(n == 0 && strstr(out, "deep collection comes with `collect $regs`"), "no regs: %s",
	       out);
	snprintf(p, sizeof(p), "%s/stripped", tmpdir);
	status_of(p, true, out, sizeof(out), &n);
	CHECKF(n == 0 && strstr(out, "nothing deeper: no DWARF for ") && strstr(out, "stripped"),
	       "stripped: %s", out);
	snprintf(p, sizeof(p), "%s/corrupt", tmpdir);
	CHECK(!sh("chmod +x %s", p));
	status_of(p, true, out, sizeof(out), &n);
	CHECKF(n == 0 && strstr(out, "nothing deeper: corrupt DWARF in ") && strstr(out, "refused"),
	       "corrupt: %s", out);
}

/*
 * dw_file__name_at: what a call stack prints (tests/targets/fpchain.c, its
 * -O2 build: middle's entry row is line 35 then 36 at one address, and GDB
 * names the last statement row, 36; deepgo's main.handle).
 */
static void test_name_at(void)
{
	struct dw_pcname nm;
	struct dw_file *f = must_open(TB "fpchain-O2");
	uint64_t pcs[2];

	if (f && dw_file__func_pcs(f, "middle", pcs, 2) == 1) {
		CHECK(!dw_file__name_at(f, pcs[0], 0x1000, &nm));
		CHECKF(!strcmp(nm.func, "middle") && !nm.outer[0] && nm.entry == pcs[0] + 0x1000 &&
			       !strcmp(nm.file, "fpchain.c") && nm.line == 36 && !nm.go &&
			       nm.src == DWN_DWARF,
		       "middle: %s %s %s:%d", nm.func, nm.outer, nm.file, nm.line);
		CHECK(dw_file__name_at(f, 0x10, 0, &nm) == -ENOENT);
	} else {
		CHECK(!"fpchain-O2: middle");
	}
	dw_file__close(f);
	f = must_open(TB "deepgo");
	if (f && dw_file__func_pcs(f, "main.handle", pcs, 2) == 1) {
		CHECK(!dw_file__name_at(f, pcs[0], 0, &nm));
		CHECKF(!strcmp(nm.func, "main.handle") && nm.entry == pcs[0] && nm.go &&
			       !strcmp(nm.file, "main.go") && nm.line == 27,
		       "main.handle: %s %s:%d", nm.func, nm.file, nm.line);
	} else {
		CHECK(!"deepgo: main.handle");
	}
	dw_file__close(f);
}

int main(void)
{
	struct timespec a, b;
	struct dw_file *f;
	char msg[256];
	int err;

	if (access(TB "deep_c-O0", R_OK) || access(TB "deep_c-O2", R_OK) ||
	    access(TB "deepgo", R_OK) || access(TB "fpchain-O2", R_OK))
		sh("make -s -C tests/targets build/deep_c-O0 build/deep_c-O2 build/deepgo "
		   "build/fpchain-O2 >/dev/null");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dwarf.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_c(TB "deep_c-O2", true);
	test_c(TB "deep_c-O0", false);
	test_go(TB "deepgo");
	test_variants();
	test_junk();
	test_status();
	test_name_at();

	clock_gettime(CLOCK_MONOTONIC, &a);
	f = open_file(TB "goserver", &err, msg, sizeof(msg));
	if (f) {
		int nf = dw_file__count_funcs(f);

		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("  goserver: %d functions indexed in %.0f ms\n", nf,
		       (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
		dw_file__close(f);
	}
	if (!bpf_available("dwarf"))
		test_hits();
	sh("rm -rf %s", tmpdir);
	return check_summary("dwarf");
}
